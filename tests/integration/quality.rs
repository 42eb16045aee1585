//! Answer quality, exclusion and the results' filters: flags set when an answer arrives through
//! the real form, a supervisor excluding and restoring an answer (every figure follows, the
//! audit log records it, a second exclusion does nothing), the date filter, the comparison of
//! two groups, and teachers' anonymity in small schools.

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::survey::{QuestionKind, Survey};
use entity::response;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use crate::helpers::{Browser, Page, TestApp, answers_for, catalog_survey, spawn_app};

/// Opens the link on a new phone and submits `answers_for` with `overrides` (a question id or
/// `question.row` with its value; a matrix given by its id sets every row).
async fn answer_with(app: &TestApp, token: &str, survey: &Survey, overrides: &[(&str, &str)]) {
    let mut phone = app.phone();
    let form = phone.get(&format!("/s/{token}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("a key")),
        ("_t".to_owned(), form.hidden("_t").expect("a time")),
    ];
    for (name, value) in answers_for(survey) {
        let question = name.split('.').next().unwrap_or_default().to_owned();
        let given = overrides
            .iter()
            .find(|(overridden, _)| *overridden == name || *overridden == question);
        match given {
            Some((_, given)) => fields.push((name, (*given).to_owned())),
            None => fields.push((name, value)),
        }
    }
    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// Every scale question and matrix statement of `survey` on its first point.
fn straight_lined(survey: &Survey) -> Vec<(String, String)> {
    let mut answers = Vec::new();
    for question in survey.questions() {
        match &question.kind {
            QuestionKind::Scale { scale } | QuestionKind::Matrix { scale, .. } => {
                answers.push((question.id.clone(), scale.points[0].code.clone()))
            }
            _ => {}
        }
    }
    answers
}

fn scale_codes(survey: &Survey, id: &str) -> Vec<(String, String)> {
    match &survey.question(id).expect("the question").kind {
        QuestionKind::Scale { scale } => scale
            .points
            .iter()
            .map(|point| (point.code.clone(), point.label.clone()))
            .collect(),
        other => panic!("{id} is not a scale: {other:?}"),
    }
}

async fn stored(app: &TestApp, campaign: i32) -> Vec<response::Model> {
    response::Entity::find()
        .filter(response::Column::CampaignId.eq(campaign))
        .order_by_asc(response::Column::Id)
        .all(&app.db)
        .await
        .expect("responses")
}

/// The part of the page about one question: from its text to the end of its panel.
fn question_panel<'a>(page: &'a Page, text: &str) -> &'a str {
    let start = page
        .body
        .find(&format!("<strong>{text}</strong>"))
        .unwrap_or_else(|| panic!("the page shows “{text}”:\n{}", page.body));
    let rest = &page.body[start..];
    &rest[..rest.find("</div>").unwrap_or(rest.len())]
}

fn option_row(label: &str, count: u64, percent: &str) -> String {
    format!(
        "<tr><td>{label}</td><td class=\"num\">{count}</td><td class=\"num\">{percent}</td></tr>"
    )
}

async fn school_id(app: &TestApp, code: &str) -> i32 {
    dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .into_iter()
        .find(|school| school.code == code)
        .expect("the school")
        .id
}

async fn link_count(app: &TestApp, campaign: i32, code: &str) -> i64 {
    app.links(campaign)
        .await
        .into_iter()
        .find(|link| link.code == code)
        .expect("the link")
        .response_count
}

async fn exclude(browser: &mut Browser, campaign: i32, response: i64, action: &str) -> Page {
    browser
        .submit(
            &format!("/console/campaigns/{campaign}/quality"),
            &format!("/console/campaigns/{campaign}/quality/{action}"),
            &[("response", &response.to_string())],
        )
        .await
}

#[actix_web::test]
async fn quality_fast_and_straight_lined_answers_are_flagged_through_the_real_form() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("parents");
    let same: Vec<(String, String)> = straight_lined(&survey);
    assert!(same.len() >= 10, "the parents' test is long enough");
    let overrides: Vec<(&str, &str)> = same
        .iter()
        .map(|(id, code)| (id.as_str(), code.as_str()))
        .collect();
    answer_with(&app, &links[0].token, &survey, &overrides).await;
    // The helper answers every scale on its second point: one answer apart breaks the line.
    let codes = scale_codes(&survey, "meals_quality");
    answer_with(
        &app,
        &links[0].token,
        &survey,
        &[("meals_quality", &codes[3].0)],
    )
    .await;

    let answers = stored(&app, campaign).await;
    assert_eq!(answers.len(), 2);
    // Both were sent at once, far faster than anyone reads twenty questions; the first is every
    // scale at its top point (the first one, 非常满意).
    assert_eq!(
        answers[0].flags.as_deref(),
        Some("straight_line,too_fast,all_top")
    );
    assert_eq!(answers[1].flags.as_deref(), Some("too_fast"));

    let mut browser = app.signed_in(Role::Supervisor).await;
    let show = browser.get(&format!("/console/campaigns/{campaign}")).await;
    assert!(
        show.body
            .contains(&format!("/console/campaigns/{campaign}/quality\">答卷质量")),
        "the campaign links to its quality page"
    );
    let page = browser
        .get(&format!("/console/campaigns/{campaign}/quality"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("有质量标记的答卷：2 份"),
        "{}",
        page.body
    );
    assert!(page.body.contains("全部选同一档"));
    assert!(page.body.contains(&links[0].name), "the school is named");
    let meals = survey.question("meals_quality").expect("a meals question");
    assert!(page.body.contains(&meals.text), "the answers are shown");
    for answer in &answers {
        assert!(
            !page.body.contains(&answer.idempotency_key),
            "no idempotency key on the page"
        );
    }
    let straight = browser
        .get(&format!(
            "/console/campaigns/{campaign}/quality?flag=straight_line"
        ))
        .await;
    assert!(straight.body.contains("共 1 份"), "{}", straight.body);
}

#[actix_web::test]
async fn quality_excluding_an_answer_takes_it_out_of_every_figure_and_restoring_puts_it_back() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let first = &links[0];
    let survey = catalog_survey("parents");
    let meals = survey.question("meals_quality").expect("meals");
    let codes = scale_codes(&survey, "meals_quality");
    answer_with(
        &app,
        &first.token,
        &survey,
        &[("meals_quality", &codes[0].0)],
    )
    .await;
    answer_with(
        &app,
        &first.token,
        &survey,
        &[("meals_quality", &codes[3].0)],
    )
    .await;
    let unhappy = stored(&app, campaign).await[1].id;
    assert_eq!(link_count(&app, campaign, &first.code).await, 2);

    let mut browser = app.signed_in(Role::Supervisor).await;
    let results = format!("/console/campaigns/{campaign}/results");
    let page = browser.get(&results).await;
    let panel = question_panel(&page, &meals.text);
    assert!(panel.contains("n = 2"), "{panel}");
    assert!(
        panel.contains(&option_row(&codes[3].1, 1, "50.0%")),
        "{panel}"
    );

    // A school viewer may not exclude; a form without its CSRF token is refused.
    let mut viewer = app.signed_in(Role::School).await;
    let refused = viewer
        .post(
            &format!("/console/campaigns/{campaign}/quality/exclude"),
            &[("response", &unhappy.to_string())],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let no_csrf = browser
        .post(
            &format!("/console/campaigns/{campaign}/quality/exclude"),
            &[("response", &unhappy.to_string())],
        )
        .await;
    assert_eq!(no_csrf.status, StatusCode::FORBIDDEN);
    assert_eq!(link_count(&app, campaign, &first.code).await, 2);

    let done = exclude(&mut browser, campaign, unhappy, "exclude").await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    let page = browser.get(&results).await;
    let panel = question_panel(&page, &meals.text);
    assert!(panel.contains("n = 1"), "{panel}");
    assert!(
        panel.contains(&option_row(&codes[0].1, 1, "100.0%")),
        "{panel}"
    );
    assert!(
        panel.contains(&option_row(&codes[3].1, 0, "0.0%")),
        "{panel}"
    );
    assert!(panel.contains("满意率：100.0%"), "{panel}");
    assert_eq!(link_count(&app, campaign, &first.code).await, 1);
    let aggregates = browser
        .get(&format!(
            "/console/campaigns/{campaign}/export.csv?what=aggregates"
        ))
        .await;
    let line = aggregates
        .body
        .lines()
        .find(|line| {
            line.contains(",meals_quality,")
                && line.contains(&format!(",{},{},", codes[3].0, codes[3].1))
        })
        .expect("the aggregates list the option");
    assert!(line.ends_with(",0"), "{line}");
    let answers = browser
        .get(&format!("/console/campaigns/{campaign}/export.csv"))
        .await;
    assert_eq!(answers.body.lines().count(), 2, "header and one answer");
    let quality = browser
        .get(&format!("/console/campaigns/{campaign}/quality"))
        .await;
    assert!(
        quality.body.contains("已排除的答卷：1 份"),
        "{}",
        quality.body
    );
    assert!(quality.body.contains("恢复这份答卷"));

    // Again: nothing changes, nothing more is recorded.
    let again = exclude(&mut browser, campaign, unhappy, "exclude").await;
    assert_eq!(
        again.location.as_deref(),
        Some(format!("/console/campaigns/{campaign}/quality?done=unchanged").as_str())
    );
    assert_eq!(link_count(&app, campaign, &first.code).await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'answer_exclude'")
            .await,
        1
    );

    let restored = exclude(&mut browser, campaign, unhappy, "restore").await;
    assert_eq!(restored.status, StatusCode::SEE_OTHER);
    let page = browser.get(&results).await;
    let panel = question_panel(&page, &meals.text);
    assert!(panel.contains("n = 2"), "{panel}");
    assert!(
        panel.contains(&option_row(&codes[3].1, 1, "50.0%")),
        "{panel}"
    );
    assert_eq!(link_count(&app, campaign, &first.code).await, 2);

    let mut admin = app.signed_in(Role::Admin).await;
    let audit = admin.get("/console/audit").await;
    assert!(audit.body.contains("排除答卷"), "{}", audit.body);
    assert!(audit.body.contains("恢复答卷"));
    assert!(
        audit
            .body
            .contains(&format!("campaign {campaign}: answer {unhappy} excluded"))
    );

    let missing = exclude(&mut browser, campaign, 999_999, "exclude").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn quality_the_date_filter_counts_only_the_answers_of_those_days() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("parents");
    let meals = survey.question("meals_quality").expect("meals");
    let codes = scale_codes(&survey, "meals_quality");
    answer_with(
        &app,
        &links[0].token,
        &survey,
        &[("meals_quality", &codes[0].0)],
    )
    .await;
    answer_with(
        &app,
        &links[0].token,
        &survey,
        &[("meals_quality", &codes[3].0)],
    )
    .await;
    answer_with(
        &app,
        &links[1].token,
        &survey,
        &[("meals_quality", &codes[3].0)],
    )
    .await;
    // The first answer came in on 2026-11-02 (China time).
    let first = stored(&app, campaign).await[0].id;
    let long_ago = chrono::DateTime::parse_from_rfc3339("2026-11-02T10:00:00+08:00")
        .expect("a time")
        .with_timezone(&chrono::Utc);
    response::Entity::update_many()
        .col_expr(response::Column::SubmittedAt, Expr::value(long_ago))
        .filter(response::Column::Id.eq(first))
        .exec(&app.db)
        .await
        .expect("backdate");

    let mut browser = app.signed_in(Role::Supervisor).await;
    let results = format!("/console/campaigns/{campaign}/results");
    let page = browser
        .get(&format!("{results}?from=2026-11-01&to=2026-11-02"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let panel = question_panel(&page, &meals.text);
    assert!(panel.contains("n = 1"), "{panel}");
    assert!(
        panel.contains(&option_row(&codes[0].1, 1, "100.0%")),
        "{panel}"
    );
    assert!(page.body.contains("1 份答卷"), "{}", page.body);

    let page = browser.get(&format!("{results}?from=2026-11-03")).await;
    let panel = question_panel(&page, &meals.text);
    assert!(panel.contains("n = 2"), "{panel}");
    assert!(
        panel.contains(&option_row(&codes[3].1, 2, "100.0%")),
        "{panel}"
    );

    // Without dates, the tallies say the same as a scan of every day would.
    let all = browser.get(&results).await;
    let scanned = browser
        .get(&format!("{results}?from=2000-01-01&to=2099-12-31"))
        .await;
    assert_eq!(
        question_panel(&all, &meals.text),
        question_panel(&scanned, &meals.text)
    );

    let bad = browser.get(&format!("{results}?from=2026-13-01")).await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.body.contains("年-月-日"), "{}", bad.body);
    let reversed = browser
        .get(&format!("{results}?from=2026-11-05&to=2026-11-01"))
        .await;
    assert_eq!(reversed.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn quality_comparing_key_village_schools_with_the_rest_says_the_p_value_in_words() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("parents");
    let meals = survey.question("meals_quality").expect("meals");
    let codes = scale_codes(&survey, "meals_quality");
    let village = links
        .iter()
        .find(|link| link.code == "4521230010")
        .expect("a key-village school");
    let town = links
        .iter()
        .find(|link| link.code == "4521230003")
        .expect("a town school");
    for _ in 0..4 {
        answer_with(
            &app,
            &village.token,
            &survey,
            &[("meals_quality", &codes[3].0)],
        )
        .await;
        answer_with(
            &app,
            &town.token,
            &survey,
            &[("meals_quality", &codes[0].0)],
        )
        .await;
    }
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .get(&format!(
            "/console/campaigns/{campaign}/results?compare=key_village"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains("所学校，4 份答卷；非重点村学校："),
        "{}",
        page.body
    );
    let start = page
        .body
        .find(&format!("<tr><td>{}</td>", meals.text))
        .expect("the question is compared");
    let row = &page.body[start..];
    let row = row[..row.find("</tr>").unwrap_or(row.len())].replace("&#x3D;", "=");
    // 0 of 4 against 4 of 4 satisfied.
    assert!(row.contains("差异明显（p = 0.005）"), "{row}");
    assert!(row.contains("样本较少，仅供参考"), "{row}");

    let towns = browser
        .get(&format!(
            "/console/campaigns/{campaign}/results?compare=township&a=%E7%9F%B3%E9%97%A8%E9%95%87&b=%E7%9F%B3%E9%97%A8%E9%95%87"
        ))
        .await;
    assert!(
        towns.body.contains("请选择两个不同的组进行比较"),
        "{}",
        towns.body
    );
}

#[actix_web::test]
async fn quality_a_school_with_fewer_than_five_teachers_answers_is_never_shown_alone() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("teachers");
    let text_question = survey
        .questions()
        .find(|question| {
            matches!(
                question.kind,
                QuestionKind::Text { .. } | QuestionKind::LongText { .. }
            )
        })
        .expect("the teachers' survey has a free-text question")
        .clone();
    let (small, large) = (&links[0], &links[1]);
    for n in 0..3 {
        let text = format!("小学校的意见{n}");
        answer_with(
            &app,
            &small.token,
            &survey,
            &[(text_question.id.as_str(), text.as_str())],
        )
        .await;
    }
    for n in 0..5 {
        let text = format!("大学校的意见{n}");
        answer_with(
            &app,
            &large.token,
            &survey,
            &[(text_question.id.as_str(), text.as_str())],
        )
        .await;
    }
    let mut browser = app.signed_in(Role::Supervisor).await;
    let results = format!("/console/campaigns/{campaign}/results");
    let refused = browser
        .get(&format!(
            "{results}?school={}",
            school_id(&app, &small.code).await
        ))
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert!(
        refused
            .body
            .contains("为保护教师匿名，答卷少于 5 份的学校不单独显示"),
        "{}",
        refused.body
    );
    let shown = browser
        .get(&format!(
            "{results}?school={}",
            school_id(&app, &large.code).await
        ))
        .await;
    assert_eq!(shown.status, StatusCode::OK, "{}", shown.body);

    // The county counts the large school's five only: the small school's three count in no
    // figure (county minus large school would otherwise show them), and its row says nothing.
    let page = browser.get(&results).await;
    assert!(page.body.contains("5 份答卷"), "{}", page.body);
    assert!(!page.body.contains("8 份答卷"), "{}", page.body);
    let row_start = page
        .body
        .find(&format!("<tr><td>{}</td>", small.code))
        .expect("the small school's rating row");
    let row = &page.body[row_start..];
    let row = &row[..row.find("</tr>").unwrap_or(row.len())];
    assert!(row.contains("不单独显示"), "{row}");

    let aggregates = browser
        .get(&format!(
            "/console/campaigns/{campaign}/export.csv?what=aggregates"
        ))
        .await;
    assert!(
        !aggregates.body.contains(&small.code),
        "{}",
        aggregates.body
    );
    assert!(aggregates.body.contains(&large.code));
    let answers = browser
        .get(&format!("/console/campaigns/{campaign}/export.csv"))
        .await;
    assert_eq!(
        answers.body.lines().count(),
        6,
        "the large school's five answers, without the small school's three"
    );
    assert!(!answers.body.contains(&small.code), "{}", answers.body);
    assert!(answers.body.contains(&large.code));
    // No id, time or duration beside a teacher's answer.
    let header = answers.body.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("\u{feff}学校代码,学校名称,乡镇,"),
        "{header}"
    );
    for column in ["序号", "提交时间", "用时"] {
        assert!(!header.contains(column), "{header}");
    }

    let texts = browser
        .get(&format!(
            "/console/campaigns/{campaign}/texts?question={}&order=text",
            text_question.id
        ))
        .await;
    assert_eq!(texts.status, StatusCode::OK, "{}", texts.body);
    assert!(
        texts
            .body
            .contains("<tr><td>小学校的意见0</td><td class=\"muted\"></td></tr>"),
        "{}",
        texts.body
    );
    assert!(texts.body.contains(&format!(
        "<tr><td>大学校的意见0</td><td class=\"muted\">{} {}</td></tr>",
        large.code, large.name
    )));
    let first = stored(&app, campaign).await.remove(0);
    assert!(!texts.body.contains(&first.idempotency_key));
    assert!(
        !texts
            .body
            .contains(&dupin::campaigns::display_time(first.submitted_at)),
        "no times beside the texts"
    );
    let shuffled = browser
        .get(&format!(
            "/console/campaigns/{campaign}/texts?question={}",
            text_question.id
        ))
        .await;
    assert_eq!(shuffled.status, StatusCode::OK);
    assert!(shuffled.body.contains("共 8 条回答"), "{}", shuffled.body);
    let unknown = browser
        .get(&format!(
            "/console/campaigns/{campaign}/texts?question=nope"
        ))
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
}

#[actix_web::test]
async fn quality_many_answers_from_browsers_that_refuse_the_cookie_are_flagged_as_a_burst() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("parents");
    let codes = scale_codes(&survey, "meals_quality");
    // Five answers through one link from browsers that never send the cookie back, and one from
    // a browser that keeps it.
    for _ in 0..5 {
        let mut phone = app.phone();
        let form = phone.get(&format!("/s/{}", links[0].token)).await;
        phone.cookie = None;
        let mut fields = vec![
            ("_key".to_owned(), form.hidden("_key").expect("a key")),
            ("_t".to_owned(), form.hidden("_t").expect("a time")),
        ];
        fields.extend(answers_for(&survey).into_iter().map(|(name, value)| {
            if name == "meals_quality" {
                (name, codes[3].0.clone())
            } else {
                (name, value)
            }
        }));
        let page = phone
            .post_form(&format!("/s/{}", links[0].token), &fields)
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    answer_with(
        &app,
        &links[0].token,
        &survey,
        &[("meals_quality", &codes[3].0)],
    )
    .await;

    let answers = stored(&app, campaign).await;
    assert_eq!(answers.len(), 6);
    let bursts: Vec<bool> = answers
        .iter()
        .map(|answer| {
            answer
                .flags
                .as_deref()
                .unwrap_or_default()
                .contains("burst")
        })
        .collect();
    assert_eq!(bursts, [false, false, false, false, true, false]);
    assert!(
        answers[..5]
            .iter()
            .all(|answer| answer.browser_key.is_none())
    );

    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .get(&format!("/console/campaigns/{campaign}/quality?flag=burst"))
        .await;
    assert!(page.body.contains("共 1 份"), "{}", page.body);
    assert!(page.body.contains("集中提交"));
    // The school is among those whose answers look wrong.
    assert!(
        page.body.contains("有无 Cookie 集中提交的答卷"),
        "{}",
        page.body
    );
}

/// A supervisor excludes and restores answers while phones keep answering, so that some are
/// excluded while their counts are still pending and others after the writer added them: every
/// phone is thanked, every exclusion is done, and in the end each school's tallies equal its
/// included answers and its link's count all its answers — on PostgreSQL too, where the
/// exclusion, the writer's batches and its adder run on separate connections at once.
#[actix_web::test]
async fn quality_excluding_answers_while_phones_answer_neither_loses_nor_doubles_a_count() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("parents");
    for n in 0..10 {
        answer_with(&app, &links[n % links.len()].token, &survey, &[]).await;
    }

    let phones = futures_util::future::join_all((0..60).map(|n| {
        let token = links[n % links.len()].token.clone();
        let survey = survey.clone();
        let mut phone = app.phone();
        async move { phone.answer(&token, &survey).await.status }
    }));
    let mut browser = app.signed_in(Role::Supervisor).await;
    let supervisor = async {
        let mut excluded = Vec::new();
        for round in 0..12 {
            // The newest answer stored so far: often one whose counts are still pending.
            let newest = stored(&app, campaign).await.last().expect("answers").id;
            if excluded.contains(&newest) {
                continue;
            }
            let done = exclude(&mut browser, campaign, newest, "exclude").await;
            assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
            excluded.push(newest);
            if round % 3 == 2 {
                let restored = excluded.remove(0);
                let done = exclude(&mut browser, campaign, restored, "restore").await;
                assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
            }
        }
        excluded.len() as i64
    };
    let (statuses, still_excluded) = futures_util::future::join(phones, supervisor).await;
    assert!(
        statuses
            .iter()
            .all(|status| *status == StatusCode::SEE_OTHER),
        "{statuses:?}"
    );
    assert!(still_excluded > 0);

    app.settle().await;
    let included = app
        .count(&format!(
            "SELECT COUNT(*) FROM response WHERE campaign_id = {campaign} AND excluded = false"
        ))
        .await;
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM response WHERE campaign_id = {campaign}"
        ))
        .await,
        70
    );
    assert!(included <= 70 - still_excluded, "{included}");
    assert_eq!(
        app.count(&format!(
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM tally \
             WHERE campaign_id = {campaign} AND question_key = 'overall_satisfaction'"
        ))
        .await,
        included
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM campaign_link l WHERE l.campaign_id = {campaign} AND \
             l.response_count <> (SELECT COUNT(*) FROM response r WHERE r.campaign_id = \
             l.campaign_id AND r.school_id = l.school_id AND r.excluded = false)"
        ))
        .await,
        0,
        "a link's count differs from its included answers"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM (SELECT school_id FROM tally WHERE campaign_id = {campaign} \
             AND question_key = 'overall_satisfaction' GROUP BY school_id \
             HAVING SUM(count) <> (SELECT COUNT(*) FROM response r WHERE r.campaign_id = \
             {campaign} AND r.school_id = tally.school_id AND r.excluded = false)) AS differing"
        ))
        .await,
        0,
        "a school's tallies differ from its included answers"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) FROM score_sum \
             WHERE campaign_id = {campaign} AND score_key = 'overall'"
        ))
        .await,
        included,
        "every included parent has an overall score, once"
    );
}
