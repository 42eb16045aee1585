//! A parent opens the school's link, answers, and the answer is stored once, anonymously.

use awc::http::StatusCode;

use crate::helpers::{answers_for, catalog_survey, encode_form, spawn_app};

#[actix_web::test]
async fn healthz_answers_when_the_database_does() {
    let app = spawn_app().await;
    let page = app.phone().get("/healthz").await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.body, "ok");
}

#[actix_web::test]
async fn a_school_link_shows_the_form_with_the_school_name_small_and_self_contained() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let link = app.links(campaign).await.remove(0);
    let mut phone = app.phone();
    let page = phone.get(&format!("/s/{}", link.token)).await;

    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.content_type, "text/html; charset=utf-8");
    assert!(
        page.body.contains(&link.name),
        "the school's name is on the form"
    );
    assert!(page.body.contains("家长满意度测评"));
    assert!(page.body.contains("<html lang=\"zh-CN\">"));
    assert!(page.body.contains("name=\"viewport\""));
    assert!(
        page.body.len() < 60 * 1024,
        "the form is {} bytes",
        page.body.len()
    );
    // Nothing is loaded from anywhere: no scripts, no stylesheets, no images, no fonts.
    for needle in [
        "<script", "<link", "<img", "@import", "url(", "http://", "https://",
    ] {
        assert!(!page.body.contains(needle), "the form contains {needle}");
    }
    assert!(page.hidden("_key").is_some_and(|key| key.len() == 32));
    let cookie = page.set_cookie.expect("the browser gets a cookie");
    assert!(cookie.starts_with("dupin_browser="));
    assert!(cookie.contains("HttpOnly"));
    assert!(cookie.contains("SameSite=Lax"));
    assert!(!cookie.contains("Secure"), "plain http in tests");
}

#[actix_web::test]
async fn a_complete_answer_is_stored_once_with_its_campaign_school_and_version() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let link = app.links(campaign).await.remove(0);
    let survey = catalog_survey("parents");
    let mut phone = app.phone();

    let page = phone.answer(&link.token, &survey).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let thanks = page.location.expect("redirects to the thank-you page");
    assert_eq!(thanks, format!("/s/{}/thanks", link.token));
    let thanks = phone.get(&thanks).await;
    assert_eq!(thanks.status, StatusCode::OK);
    assert!(thanks.body.contains("提交成功"));

    assert_eq!(app.responses().await, 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM response r JOIN school s ON s.id = r.school_id \
             JOIN campaign c ON c.id = r.campaign_id \
             WHERE c.id = {campaign} AND s.code = '{}' AND r.survey_version_id = c.survey_version_id \
             AND r.browser_key IS NOT NULL AND r.excluded = false",
            link.code
        ))
        .await,
        1
    );
    let links = app.links(campaign).await;
    assert_eq!(links.iter().map(|link| link.response_count).sum::<i64>(), 1);
    assert_eq!(links[0].response_count, 1);
    // The tallies count the same answer: one per scale question the parent saw.
    app.settle().await;
    assert_eq!(
        app.count(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM tally WHERE question_key = 'overall_satisfaction'"
        )
        .await,
        1
    );
}

#[actix_web::test]
async fn a_double_tap_or_a_retry_stores_one_answer_and_thanks_both_times() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let token = app.first_token(campaign).await;
    let survey = catalog_survey("parents");
    let mut phone = app.phone();
    let form = phone.get(&format!("/s/{token}")).await;
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("key")),
        ("_t".to_owned(), form.hidden("_t").expect("time")),
    ];
    fields.extend(answers_for(&survey));

    let (first, second) = futures_util::future::join(
        app.phone_with_cookie(phone.cookie.clone())
            .post_form_owned(format!("/s/{token}"), fields.clone()),
        app.phone_with_cookie(phone.cookie.clone())
            .post_form_owned(format!("/s/{token}"), fields.clone()),
    )
    .await;
    let retry = phone.post_form(&format!("/s/{token}"), &fields).await;
    for page in [&first, &second, &retry] {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    assert_eq!(app.responses().await, 1);
    assert_eq!(app.links(campaign).await[0].response_count, 1);
}

#[actix_web::test]
async fn a_second_answer_from_the_same_phone_is_refused_kindly() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let token = app.first_token(campaign).await;
    let survey = catalog_survey("parents");
    let mut phone = app.phone();
    // A second tab of the same phone opens the form before the first tab submits.
    let first = phone.get(&format!("/s/{token}")).await;
    let mut other_tab = app.phone_with_cookie(phone.cookie.clone());
    let second = other_tab.get(&format!("/s/{token}")).await;
    assert_eq!(second.status, StatusCode::OK, "{}", second.body);
    let mut fields = vec![
        ("_key".to_owned(), first.hidden("_key").expect("a key")),
        ("_t".to_owned(), first.hidden("_t").expect("a time")),
    ];
    fields.extend(answers_for(&survey));
    assert_eq!(
        phone
            .post_form(&format!("/s/{token}"), &fields)
            .await
            .status,
        StatusCode::SEE_OTHER
    );

    // Opening the link again says so instead of showing the form.
    let again = phone.get(&format!("/s/{token}")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.body.contains("已经提交过"), "{}", again.body);
    assert!(again.hidden("_key").is_none());

    // The form kept open in the other tab is refused on submit.
    let mut fields = vec![
        ("_key".to_owned(), second.hidden("_key").expect("a key")),
        ("_t".to_owned(), second.hidden("_t").expect("a time")),
    ];
    fields.extend(answers_for(&survey));
    let refused = other_tab.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert!(refused.body.contains("已经提交过"));
    assert_eq!(app.responses().await, 1);

    // Another parent's phone is welcome.
    assert_eq!(
        app.phone().answer(&token, &survey).await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.responses().await, 2);
}

#[actix_web::test]
async fn a_missing_answer_brings_the_form_back_with_the_answers_kept() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let token = app.first_token(campaign).await;
    let survey = catalog_survey("parents");
    let mut phone = app.phone();
    let form = phone.get(&format!("/s/{token}")).await;
    let key = form.hidden("_key").expect("key");
    let mut fields = vec![("_key".to_owned(), key.clone())];
    fields.extend(
        answers_for(&survey)
            .into_iter()
            .filter(|(name, _)| name != "overall_satisfaction"),
    );

    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("有 1 道题需要修改"));
    let question = &page.body[page
        .body
        .find("id=\"q-overall_satisfaction\"")
        .expect("the question")..];
    let question = &question[..question.find("</fieldset>").expect("its end")];
    assert!(
        question.contains("class=\"err\">请选择一项。"),
        "{question}"
    );
    // What was answered is still checked, and the form keeps its key for the retry.
    assert!(
        page.body.contains("value=\"老师们辛苦了\"")
            || page.body.contains(">老师们辛苦了</textarea>")
    );
    assert!(page.body.contains(" checked"));
    assert_eq!(page.hidden("_key"), Some(key));
    assert_eq!(app.responses().await, 0);
}

#[actix_web::test]
async fn forged_garbled_and_oversized_submissions_get_a_clear_answer_and_store_nothing() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let token = app.first_token(campaign).await;
    let path = format!("/s/{token}");
    let survey = catalog_survey("parents");
    let mut phone = app.phone();
    let form = phone.get(&path).await;
    let key = form.hidden("_key").expect("key");
    let served = form.hidden("_t").expect("served time");
    let good = {
        let mut fields = vec![
            ("_key".to_owned(), key.clone()),
            ("_t".to_owned(), served.clone()),
        ];
        fields.extend(answers_for(&survey));
        fields
    };

    // An option that is not in the survey.
    let mut forged = good.clone();
    for field in forged.iter_mut() {
        if field.0 == "overall_satisfaction" {
            field.1 = "9".to_owned();
        }
    }
    let page = phone.post_form(&path, &forged).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("所选的选项不在本题中"));

    // A field the survey does not have.
    let mut unknown = good.clone();
    unknown.push(("admin".to_owned(), "1".to_owned()));
    let page = phone.post_form(&path, &unknown).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("表单中有本问卷没有的内容"));

    // The same single-choice field twice.
    let mut doubled = good.clone();
    doubled.push(("overall_satisfaction".to_owned(), "5".to_owned()));
    assert_eq!(
        phone.post_form(&path, &doubled).await.status,
        StatusCode::BAD_REQUEST
    );

    // Invalid UTF-8.
    let mut body = encode_form(&good).into_bytes();
    body.extend_from_slice(b"&suggestions=%FF%FE");
    let page = phone
        .post_raw(&path, "application/x-www-form-urlencoded", body)
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("无法识别"));

    // Not a form at all.
    let page = phone
        .post_raw(&path, "application/json", b"{\"a\":1}".to_vec())
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);

    // Far too much.
    let mut huge = good.clone();
    huge.push(("suggestions".to_owned(), "很".repeat(200_000)));
    let page = phone.post_form(&path, &huge).await;
    assert_eq!(page.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(page.body.contains("提交的内容太长"));

    // A key that is not one of ours.
    let mut bad_key = good.clone();
    bad_key[0].1 = "'; DROP TABLE response; --".to_owned();
    let page = phone.post_form(&path, &bad_key).await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.body.contains("页面已过期"));

    assert_eq!(app.responses().await, 0);
    // And the server still takes a good answer afterwards.
    let page = phone.post_form(&path, &good).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(app.responses().await, 1);
}

#[actix_web::test]
async fn unknown_links_get_a_chinese_404_page() {
    let app = spawn_app().await;
    let mut phone = app.phone();
    for path in [
        "/s/0123456789ABCDEFGHJK",
        "/s/short",
        "/s/0123456789ABCDEFGHJK/qr.png",
        "/nothing-here",
    ] {
        let page = phone.get(path).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "{path}");
        assert!(page.body.contains("找不到这个页面"), "{path}");
    }
    let page = phone
        .post_form(
            "/s/0123456789ABCDEFGHJK",
            &[("a".to_owned(), "1".to_owned())],
        )
        .await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_token_typed_in_lower_case_still_opens_the_form() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let token = app.first_token(campaign).await;
    let page = app
        .phone()
        .get(&format!("/s/{}", token.to_lowercase()))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains(&format!("action=\"/s/{token}\"")));
}

#[actix_web::test]
async fn a_closed_or_not_yet_open_campaign_gets_a_polite_page_and_takes_nothing() {
    let app = spawn_app().await;
    let closed = app
        .create_campaign("parents", Some("2020-01-01"), Some("2020-02-01"))
        .await;
    let future = app
        .create_campaign("parents", Some("2099-09-01 08:00"), None)
        .await;
    let survey = catalog_survey("parents");

    let token = app.first_token(closed).await;
    let mut phone = app.phone();
    let page = phone.get(&format!("/s/{token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("本次调查已经结束"));
    let mut fields = vec![("_key".to_owned(), dupin::secrets::random_key())];
    fields.extend(answers_for(&survey));
    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(page.status, StatusCode::FORBIDDEN);
    assert!(page.body.contains("答案没有被保存"));

    let token = app.first_token(future).await;
    let page = phone.get(&format!("/s/{token}")).await;
    assert!(
        page.body.contains("本次调查将于 2099-09-01 08:00 开始"),
        "{}",
        page.body
    );
    assert_eq!(app.responses().await, 0);
}

#[actix_web::test]
async fn many_phones_answering_at_once_are_all_stored_and_counted() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("parents");
    let phones = 60;
    let pages = futures_util::future::join_all((0..phones).map(|n| {
        let token = links[n % links.len()].token.clone();
        let survey = survey.clone();
        let mut phone = app.phone();
        async move { phone.answer(&token, &survey).await }
    }))
    .await;
    assert!(
        pages
            .iter()
            .all(|page| page.status == StatusCode::SEE_OTHER)
    );
    assert_eq!(app.responses().await, phones as i64);
    let counted: i64 = app
        .links(campaign)
        .await
        .iter()
        .map(|link| link.response_count)
        .sum();
    assert_eq!(counted, phones as i64);
    app.settle().await;
    assert_eq!(
        app.count(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM tally WHERE question_key = 'overall_satisfaction'"
        )
        .await,
        phones as i64
    );
}

#[actix_web::test]
async fn nothing_that_identifies_a_parent_is_stored() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let token = app.first_token(campaign).await;
    let mut phone = app.phone();
    phone.answer(&token, &catalog_survey("parents")).await;
    let columns: Vec<String> = {
        use sea_orm::{ConnectionTrait, Statement};
        app.db
            .query_all_raw(Statement::from_string(
                app.db.get_database_backend(),
                if crate::helpers::is_postgres(&app) {
                    "SELECT column_name::text FROM information_schema.columns WHERE table_name = 'response'"
                } else {
                    "SELECT name FROM pragma_table_info('response')"
                }
                .to_owned(),
            ))
            .await
            .expect("columns")
            .iter()
            .map(|row| row.try_get_by_index::<String>(0).expect("name"))
            .collect()
    };
    for column in &columns {
        assert!(
            !column.contains("ip") && !column.contains("agent") && !column.contains("name"),
            "{column}"
        );
    }
    // The stored browser key is not the cookie itself.
    let cookie = phone.cookie.expect("cookie").replace("dupin_browser=", "");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM response WHERE browser_key = '{cookie}'"
        ))
        .await,
        0
    );
}
