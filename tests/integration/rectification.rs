//! Rectification (整改) over the real server: a supervisor turns a visit's finding into an item,
//! the school's viewer sees only its own school's items and reports progress with a photo, a
//! supervisor returns it with a reason and then accepts the second report — every step audited;
//! parallel accept clicks accept once; overdue items say 逾期; reminders reach a real SMTP
//! server through the outbox exactly once each, even with sweeps racing; and an item's area
//! shows before and after once a second campaign of the same survey exists.

use std::time::Duration;

use awc::http::StatusCode;
use chrono::Utc;
use dupin::accounts::Role;
use dupin::change::Actor;
use dupin::rectification::{self, NewItem, Source};
use dupin::survey::QuestionKind;
use entity::{finding, school, visit};
use sea_orm::{ActiveModelTrait, ConnectionTrait, Set, Statement};

use crate::helpers::{Browser, PASSWORD, Page, TestApp, catalog_survey, spawn_app, spawn_app_with};
use crate::smtp::{self, Sink};

async fn schools(app: &TestApp) -> Vec<school::Model> {
    if dupin::schools::count(&app.db).await.expect("count") == 0 {
        app.import_sample_schools().await;
    }
    dupin::schools::list(&app.db).await.expect("schools")
}

/// A visit to `school` with one finding about school meals; the finding's id.
async fn visit_with_finding(app: &TestApp, school: &school::Model, text: &str) -> i32 {
    let supervisor = app
        .account(
            &format!("visitor-{}@county.edu.cn", dupin::secrets::random_key()),
            Role::Supervisor,
            None,
        )
        .await;
    let visit = visit::ActiveModel {
        school_id: Set(school.id),
        campaign_id: Set(None),
        kind: Set("random_visit".to_owned()),
        checklist: Set(None),
        visited_on: Set(rectification::today()),
        team: Set("李督学、王督学".to_owned()),
        group_met: Set(None),
        group_size: Set(None),
        notes: Set(None),
        created_by: Set(supervisor.id),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("a visit");
    finding::ActiveModel {
        visit_id: Set(visit.id),
        school_id: Set(school.id),
        area: Set("nutrition".to_owned()),
        severity: Set("major".to_owned()),
        text: Set(text.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("a finding")
    .id
}

/// An item at `school` made by the command line, due in `days` days.
async fn item_at(app: &TestApp, school: &school::Model, requirement: &str, days: i64) -> i32 {
    let deadline = rectification::today() + chrono::Duration::days(days);
    rectification::create_items(
        &app.context(),
        Actor::CommandLine,
        school,
        vec![NewItem {
            source: Some(Source::Other),
            requirement: requirement.to_owned(),
            responsible: "张校长".to_owned(),
            deadline: deadline.to_string(),
            ..NewItem::default()
        }],
    )
    .await
    .expect("an item")[0]
        .id
}

/// A browser signed in as a new school viewer of `school`.
async fn school_viewer(app: &TestApp, school: &school::Model) -> (Browser, String) {
    let email = format!("school-{}@county.edu.cn", dupin::secrets::random_key());
    app.account(&email, Role::School, Some(school.id)).await;
    let mut browser = app.browser();
    let page = browser.sign_in(&email, PASSWORD).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    (browser, email.to_lowercase())
}

async fn text(app: &TestApp, sql: &str) -> String {
    app.db
        .query_one_raw(Statement::from_string(
            app.db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .expect("a row")
        .try_get_by_index::<String>(0)
        .expect("text")
}

/// A small real PNG, as a phone's camera would not send but a browser may.
fn png() -> Vec<u8> {
    let image = image::RgbImage::from_fn(40, 30, |x, y| image::Rgb([x as u8 * 6, y as u8 * 8, 90]));
    let mut bytes = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut bytes, image::ImageFormat::Png)
        .expect("a PNG");
    bytes.into_inner()
}

/// Posts the progress report form (multipart) with the CSRF token of the item's page.
async fn report(browser: &mut Browser, item: i32, words: &str, photos: &[Vec<u8>]) -> Page {
    let page = browser.get(&format!("/console/rectification/{item}")).await;
    let csrf = page.hidden("_csrf").unwrap_or_default();
    let boundary = "----dupinrectificationboundary";
    let mut body = Vec::new();
    for (name, value) in [("_csrf", csrf.as_str()), ("text", words)] {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (number, photo) in photos.iter().enumerate() {
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"photos\"; filename=\"p{number}.png\"\r\nContent-Type: image/png\r\n\r\n").as_bytes());
        body.extend_from_slice(photo);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    browser
        .post_body(
            &format!("/console/rectification/{item}/report"),
            &format!("multipart/form-data; boundary={boundary}"),
            body,
        )
        .await
}

async fn status_of(app: &TestApp, item: i32) -> String {
    text(
        app,
        &format!("SELECT status FROM rectification WHERE id = {item}"),
    )
    .await
}

#[actix_web::test]
async fn a_finding_becomes_an_item_the_school_reports_is_returned_reports_again_and_is_accepted() {
    let app = spawn_app().await;
    let all = schools(&app).await;
    let (mine, other) = (&all[0], &all[1]);
    let finding = visit_with_finding(&app, mine, "食堂留样记录不全，缺少三天的留样").await;
    let elsewhere = item_at(&app, other, "另一所学校的整改要求", 20).await;

    // The supervisor sees the finding suggested and confirms it; a missing person is refused
    // with what was typed kept.
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let new_path = format!("/console/schools/{}/rectification/new", mine.id);
    let page = supervisor.get(&new_path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains("食堂留样记录不全"), "{}", page.body);
    assert!(page.body.contains("督导发现 · 营养改善计划"));
    let key = format!("finding-{finding}");
    let deadline = (rectification::today() + chrono::Duration::days(14)).to_string();
    let fields = |responsible: &'static str| {
        vec![
            ("pick".to_owned(), key.clone()),
            (format!("source.{key}"), "finding".to_owned()),
            (format!("finding.{key}"), finding.to_string()),
            (format!("area.{key}"), "nutrition".to_owned()),
            (format!("campaign.{key}"), String::new()),
            (
                format!("requirement.{key}"),
                "一周内补齐留样制度并培训食堂人员".to_owned(),
            ),
            (format!("responsible.{key}"), responsible.to_owned()),
            (format!("deadline.{key}"), deadline.clone()),
        ]
    };
    let create = format!("/console/schools/{}/rectification", mine.id);
    let csrf = page.hidden("_csrf").expect("csrf");
    let with_csrf = |mut fields: Vec<(String, String)>| {
        fields.insert(0, ("_csrf".to_owned(), csrf.clone()));
        fields
    };
    let refused = supervisor
        .post_body(
            &create,
            "application/x-www-form-urlencoded",
            crate::helpers::encode_form(&with_csrf(fields(""))).into_bytes(),
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused.body.contains("请填写学校的整改责任人"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains("一周内补齐留样制度并培训食堂人员"));
    assert_eq!(app.count("SELECT COUNT(*) FROM rectification").await, 1);
    let created = supervisor
        .post_body(
            &create,
            "application/x-www-form-urlencoded",
            crate::helpers::encode_form(&with_csrf(fields("王副校长"))).into_bytes(),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let item: i32 = text(
        &app,
        &format!("SELECT CAST(id AS TEXT) FROM rectification WHERE finding_id = {finding}"),
    )
    .await
    .parse()
    .expect("an id");
    assert_eq!(
        text(
            &app,
            &format!(
                "SELECT source || '|' || area || '|' || responsible || '|' || status FROM rectification WHERE id = {item}"
            )
        )
        .await,
        "finding|nutrition|王副校长|open"
    );
    // Turned into an item, the finding is no longer suggested; the person is prefilled.
    let again = supervisor.get(&new_path).await;
    assert!(!again.body.contains("食堂留样记录不全"));
    assert!(again.body.contains("value=\"王副校长\""));

    // The school viewer sees its own items only, and nothing of another school's.
    let (mut school, _) = school_viewer(&app, mine).await;
    let list = school.get("/console/my-school/rectification").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("一周内补齐留样制度并培训食堂人员"));
    assert!(!list.body.contains("另一所学校的整改要求"));
    let guessed = school
        .get(&format!("/console/rectification/{elsewhere}"))
        .await;
    assert_eq!(guessed.status, StatusCode::NOT_FOUND);
    assert_eq!(
        school.get("/console/rectification").await.status,
        StatusCode::FORBIDDEN
    );
    let (mut other_school, _) = school_viewer(&app, other).await;
    assert_eq!(
        report(&mut other_school, item, "不是我们学校的", &[])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let home = school.get("/console/my-school").await;
    assert!(
        home.body.contains("本校有 1 项整改尚未验收"),
        "{}",
        home.body
    );

    // The school reports with a photo.
    let reported = report(&mut school, item, "已补齐留样，培训 6 人", &[png()]).await;
    assert_eq!(reported.status, StatusCode::SEE_OTHER, "{}", reported.body);
    assert_eq!(status_of(&app, item).await, "reported");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM photo p JOIN rectification_event e ON p.event_id = e.id WHERE e.item_id = {item} AND p.school_id = {}",
            mine.id
        ))
        .await,
        1
    );
    let shown = school.get(&format!("/console/rectification/{item}")).await;
    assert!(shown.body.contains("已补齐留样，培训 6 人"));
    assert!(shown.body.contains("/thumb\""), "{}", shown.body);
    // The photo (re-encoded by `photos`) is served to the school and to supervisors, and to no
    // other school.
    let token = shown
        .body
        .split("/console/photos/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a photo link")
        .to_owned();
    let thumb = school.get(&format!("/console/photos/{token}/thumb")).await;
    assert_eq!(thumb.status, StatusCode::OK);
    assert_eq!(thumb.content_type, "image/jpeg");
    assert_eq!(
        supervisor
            .get(&format!("/console/photos/{token}"))
            .await
            .status,
        StatusCode::OK
    );
    assert_ne!(
        other_school
            .get(&format!("/console/photos/{token}"))
            .await
            .status,
        StatusCode::OK
    );

    // The supervisor returns it: a reason is required, and kept when refused.
    let item_path = format!("/console/rectification/{item}");
    let no_reason = supervisor
        .submit(
            &item_path,
            &format!("{item_path}/return"),
            &[("reason", "  ")],
        )
        .await;
    assert_eq!(no_reason.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(no_reason.body.contains("请填写退回的理由"));
    assert_eq!(status_of(&app, item).await, "reported");
    let returned = supervisor
        .submit(
            &item_path,
            &format!("{item_path}/return"),
            &[("reason", "缺少培训签到表")],
        )
        .await;
    assert_eq!(returned.status, StatusCode::SEE_OTHER, "{}", returned.body);
    assert_eq!(status_of(&app, item).await, "returned");
    assert!(school.get(&item_path).await.body.contains("缺少培训签到表"));

    // Reported again, then accepted; an accepted item cannot be accepted again.
    let again = report(&mut school, item, "补上培训签到表", &[]).await;
    assert_eq!(again.status, StatusCode::SEE_OTHER, "{}", again.body);
    let accepted = supervisor
        .submit(&item_path, &format!("{item_path}/accept"), &[("note", "")])
        .await;
    assert_eq!(accepted.status, StatusCode::SEE_OTHER, "{}", accepted.body);
    assert_eq!(status_of(&app, item).await, "accepted");
    let twice = supervisor
        .submit(&item_path, &format!("{item_path}/accept"), &[("note", "")])
        .await;
    assert_ne!(twice.status, StatusCode::SEE_OTHER);
    assert_eq!(status_of(&app, item).await, "accepted");

    // Every step is in the item's history and in the audit log, about the school.
    let kinds = text(
        &app,
        &format!(
            "SELECT {} FROM rectification_event WHERE item_id = {item}",
            if crate::helpers::is_postgres(&app) {
                "string_agg(kind, ',' ORDER BY id)"
            } else {
                "group_concat(kind, ',')"
            }
        ),
    )
    .await;
    assert_eq!(kinds, "created,reported,returned,reported,accepted");
    for (action, times) in [
        ("rectification_create", 1),
        ("rectification_report", 2),
        ("rectification_return", 1),
        ("rectification_accept", 1),
    ] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_event WHERE action = '{action}' AND school_id = {}",
                mine.id
            ))
            .await,
            times,
            "{action}"
        );
    }
}

#[actix_web::test]
async fn supervisors_clicking_accept_at_once_accept_the_item_once() {
    let app = spawn_app().await;
    let all = schools(&app).await;
    let item = item_at(&app, &all[0], "修缮厕所", 10).await;
    let (mut school, _) = school_viewer(&app, &all[0]).await;
    assert_eq!(
        report(&mut school, item, "已修缮", &[]).await.status,
        StatusCode::SEE_OTHER
    );
    let path = format!("/console/rectification/{item}");
    let mut forms = Vec::new();
    for _ in 0..4 {
        let mut browser = app.signed_in(Role::Supervisor).await;
        let csrf = browser.get(&path).await.hidden("_csrf").expect("csrf");
        forms.push((browser, csrf));
    }
    let clicks = forms.into_iter().map(|(mut browser, csrf)| {
        let action = format!("{path}/accept");
        async move {
            browser
                .post(&action, &[("_csrf", csrf.as_str()), ("note", "")])
                .await
        }
    });
    let pages = futures_util::future::join_all(clicks).await;
    let won = pages
        .iter()
        .filter(|page| page.status == StatusCode::SEE_OTHER)
        .count();
    let lost: Vec<&Page> = pages
        .iter()
        .filter(|page| page.status == StatusCode::CONFLICT)
        .collect();
    assert_eq!(
        won,
        1,
        "{:?}",
        pages.iter().map(|p| p.status).collect::<Vec<_>>()
    );
    assert_eq!(lost.len(), 3);
    assert!(lost[0].body.contains("已验收"), "{}", lost[0].body);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM rectification_event WHERE item_id = {item} AND kind = 'accepted'"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'rectification_accept'")
            .await,
        1
    );
}

#[actix_web::test]
async fn an_overdue_item_says_逾期_on_the_lists_the_homes_and_the_api() {
    let app = spawn_app().await;
    let all = schools(&app).await;
    let late = item_at(&app, &all[0], "配齐留守儿童之家的电话", 5).await;
    let _on_time = item_at(&app, &all[0], "更新图书室", 5).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE rectification SET deadline = '{}' WHERE id = {late}",
            rectification::today() - chrono::Duration::days(2)
        ))
        .await
        .expect("move the deadline");
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let list = supervisor.get("/console/rectification").await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(
        list.body
            .matches("<span class=\"overdue\">逾期</span>")
            .count(),
        1
    );
    assert!(
        list.body
            .contains("其中 <strong class=\"overdue\">逾期 1 项</strong>")
    );
    let only_late = supervisor.get("/console/rectification?overdue=1").await;
    assert!(only_late.body.contains("配齐留守儿童之家的电话"));
    assert!(!only_late.body.contains("更新图书室"));
    let bad = supervisor.get("/console/rectification?status=lost").await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(
        supervisor
            .get("/console")
            .await
            .body
            .contains("逾期整改 1 项")
    );
    let (mut school, _) = school_viewer(&app, &all[0]).await;
    assert!(
        school
            .get("/console/my-school")
            .await
            .body
            .contains("逾期 1 项")
    );
    assert!(
        school
            .get(&format!("/console/rectification/{late}"))
            .await
            .body
            .contains("（已逾期）")
    );

    let token = app.api_token().await;
    // Checked against the OpenAPI document's shape of the route.
    let body = crate::api::ok_with(&app, "/api/v1/rectification?overdue=yes", &token).await;
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], late);
    assert_eq!(items[0]["overdue"], true);
    assert_eq!(items[0]["school_code"], all[0].code.as_str());
    let (status, body) = app
        .api_get(&token, "/api/v1/rectification?status=nope")
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "bad_filter");
}

#[actix_web::test]
async fn reminders_reach_the_school_over_smtp_once_each_even_with_sweeps_racing() {
    if !smtp::available("reminders_reach_the_school_over_smtp_once_each_even_with_sweeps_racing") {
        return;
    }
    let sink = Sink::started();
    let app = spawn_app_with(crate::helpers::Options {
        mail: sink.settings(),
        ..Default::default()
    })
    .await;
    let all = schools(&app).await;
    let soon = item_at(&app, &all[0], "三天内完成饮水设备检修", 2).await;
    let late = item_at(&app, &all[0], "补发营养餐补助", 1).await;
    let _later = item_at(&app, &all[0], "一个月后的事", 30).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE rectification SET deadline = '{}' WHERE id = {late}",
            rectification::today() - chrono::Duration::days(1)
        ))
        .await
        .expect("move the deadline");
    let (_, first) = school_viewer(&app, &all[0]).await;
    let (_, second) = school_viewer(&app, &all[0]).await;
    let (_, elsewhere) = school_viewer(&app, &all[1]).await;

    // Three sweeps at once (as three dupin processes would): each reminder is claimed once.
    let today = rectification::today();
    let context = app.context();
    let (a, b, c) = tokio::join!(
        rectification::remind_due(&context, today),
        rectification::remind_due(&context, today),
        rectification::remind_due(&context, today),
    );
    let summaries = [a.expect("sweep"), b.expect("sweep"), c.expect("sweep")];
    assert_eq!(summaries.iter().map(|s| s.before).sum::<usize>(), 1);
    assert_eq!(summaries.iter().map(|s| s.overdue).sum::<usize>(), 1);
    assert_eq!(summaries.iter().map(|s| s.mails).sum::<usize>(), 4);
    // And once more later, as the server's own sweep or the command would: nothing new.
    let again = rectification::remind_due(&context, today)
        .await
        .expect("sweep");
    assert_eq!(again.mails, 0);

    let received = sink.wait_for(4, Duration::from_secs(20)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let received = if sink.received().len() > received.len() {
        sink.received()
    } else {
        received
    };
    assert_eq!(received.len(), 4, "{received:#?}");
    let mut to: Vec<String> = received.iter().map(|m| m.rcpt_tos.join(",")).collect();
    to.sort();
    let mut expected = vec![first.clone(), first, second.clone(), second];
    expected.sort();
    assert_eq!(to, expected);
    assert!(!to.contains(&elsewhere));
    let overdue: Vec<_> = received
        .iter()
        .filter(|m| m.subject.contains("【逾期】"))
        .collect();
    assert_eq!(overdue.len(), 2);
    assert!(
        overdue[0]
            .text
            .as_deref()
            .is_some_and(|text| text.contains("补发营养餐补助")
                && text.contains(&format!("/console/rectification/{late}")))
    );
    let before: Vec<_> = received
        .iter()
        .filter(|m| m.subject.contains("【提醒】"))
        .collect();
    assert_eq!(before.len(), 2);
    assert!(
        before[0]
            .text
            .as_deref()
            .is_some_and(|text| text.contains("三天内完成饮水设备检修"))
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM rectification WHERE id = {soon} AND reminded_before_at IS NOT NULL AND reminded_overdue_at IS NULL"
        ))
        .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM rectification_event WHERE kind LIKE 'reminded_%'")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'rectification_remind'")
            .await,
        2
    );
}

/// A phone's answers to `survey` with every scale and matrix answered on `point` (0 = best).
fn answers_on(survey: &dupin::survey::Survey, point: usize) -> Vec<(String, String)> {
    let mut fields = crate::helpers::answers_for(survey);
    for question in survey.questions() {
        match &question.kind {
            QuestionKind::Scale { scale } => {
                for field in fields.iter_mut().filter(|(id, _)| *id == question.id) {
                    field.1 = scale.points[point].code.clone();
                }
            }
            QuestionKind::Matrix { scale, rows } => {
                for row in rows {
                    let key = format!("{}.{}", question.id, row.id);
                    for field in fields.iter_mut().filter(|(id, _)| *id == key) {
                        field.1 = scale.points[point].code.clone();
                    }
                }
            }
            _ => {}
        }
    }
    fields
}

async fn answer_on(app: &TestApp, token: &str, survey: &dupin::survey::Survey, point: usize) {
    let mut phone = app.phone();
    let form = phone.get(&format!("/s/{token}")).await;
    assert_eq!(form.status, StatusCode::OK);
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("key")),
        ("_t".to_owned(), form.hidden("_t").expect("time")),
    ];
    fields.extend(answers_on(survey, point));
    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

#[actix_web::test]
async fn an_area_item_shows_its_area_before_and_after_once_a_second_campaign_exists() {
    let app = spawn_app().await;
    let survey = catalog_survey("parents");
    let first = app.create_campaign("parents", None, None).await;
    let all = schools(&app).await;
    let school = &all[0];
    let token = app.link_token(first, &school.code).await;
    for phone in 0..6 {
        answer_on(&app, &token, &survey, 3 + phone % 2).await;
    }
    let deadline = (rectification::today() + chrono::Duration::days(30)).to_string();
    let item = rectification::create_items(
        &app.context(),
        Actor::CommandLine,
        school,
        vec![NewItem {
            source: Some(Source::Area),
            area: Some("nutrition".to_owned()),
            campaign_id: Some(first),
            requirement: "改善营养餐".to_owned(),
            responsible: "刘主任".to_owned(),
            deadline,
            ..NewItem::default()
        }],
    )
    .await
    .expect("an item")[0]
        .id;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let path = format!("/console/rectification/{item}");
    let before = supervisor.get(&path).await;
    assert_eq!(before.status, StatusCode::OK, "{}", before.body);
    assert!(!before.body.contains("整改前后"));

    let second = app.create_campaign("parents", None, None).await;
    app.db
        .execute_unprepared(&format!(
            "UPDATE campaign SET name = '第二轮家长测评' WHERE id = {second}"
        ))
        .await
        .expect("rename");
    let token = app.link_token(second, &school.code).await;
    for phone in 0..6 {
        answer_on(&app, &token, &survey, phone % 2).await;
    }
    let after = supervisor.get(&path).await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.body);
    assert!(
        after.body.contains("整改前后 · 营养改善计划"),
        "{}",
        after.body
    );
    assert!(after.body.contains("整改后：第二轮家长测评"));
    // The group test's sentence, from the results' own comparison.
    assert!(after.body.contains("前后比较："), "{}", after.body);

    // The school's own viewer sees no figures while a campaign still takes answers (each new
    // answer would move them under its eyes), and the same comparison once both have closed.
    let (mut viewer, _) = school_viewer(&app, school).await;
    let open = viewer.get(&path).await;
    assert_eq!(open.status, StatusCode::OK, "{}", open.body);
    assert!(open.body.contains("两次调查都结束后"), "{}", open.body);
    assert!(!open.body.contains("前后比较："), "{}", open.body);
    app.db
        .execute_unprepared(&format!(
            "UPDATE campaign SET status = 'closed' WHERE id IN ({first}, {second})"
        ))
        .await
        .expect("close both");
    let closed = viewer.get(&path).await;
    assert!(closed.body.contains("前后比较："), "{}", closed.body);
    assert!(!closed.body.contains("两次调查都结束后"));
}

#[actix_web::test]
async fn unmet_indicators_and_low_areas_are_suggested_until_they_are_items() {
    let app = spawn_app().await;
    let all = schools(&app).await;
    // A teaching point of 11 pupils: 9 parents' answers are enough (surveys/METHOD.md#minimum).
    let school = all
        .iter()
        .find(|school| school.code == "4521230020")
        .expect("the small teaching point")
        .clone();
    let parents = app.create_campaign("parents", None, None).await;
    let token = app.link_token(parents, &school.code).await;
    let survey = catalog_survey("parents");
    for _ in 0..9 {
        answer_on(&app, &token, &survey, 3).await;
    }
    // The self-check, every yes/no answered "no".
    let self_check = app.create_campaign("school", None, None).await;
    let token = app.link_token(self_check, &school.code).await;
    let school_survey = catalog_survey("school");
    let mut phone = app.phone();
    let form = phone.get(&format!("/s/{token}")).await;
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("key")),
        ("_t".to_owned(), form.hidden("_t").expect("time")),
    ];
    for (id, value) in crate::helpers::answers_for(&school_survey) {
        let yes_no = school_survey
            .question(&id)
            .is_some_and(|question| matches!(question.kind, QuestionKind::YesNo { .. }));
        fields.push((id, if yes_no { "no".to_owned() } else { value }));
    }
    let sent = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);

    // What the results page says of the school: its unmet indicators.
    let catalog = dupin::survey::load_dir(&app.surveys_dir).expect("plan");
    let plan = dupin::rating::load_plan(&app.surveys_dir, &catalog).expect("plan");
    let filter = dupin::results::ResultsFilter {
        school: Some(school.id),
        ..Default::default()
    };
    let results = dupin::results::campaign_results(&app.db, &plan, self_check, &filter)
        .await
        .expect("results");
    let table = results.indicators.expect("a self-check");
    let row = &table.schools[0];
    let unmet: Vec<&str> = table
        .indicators
        .iter()
        .zip(&row.cells)
        .filter(|(_, cell)| cell.label == "未达标")
        .map(|(indicator, _)| indicator.title.as_str())
        .collect();
    assert!(!unmet.is_empty(), "some indicator should be missed");

    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let path = format!("/console/schools/{}/rectification/new", school.id);
    let page = supervisor.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for title in &unmet {
        assert!(
            page.body.contains(&format!("指标“{title}”未达标")),
            "{title} not suggested"
        );
    }
    assert_eq!(
        page.body
            .matches("name=\"pick\" value=\"indicator-")
            .count(),
        unmet.len()
    );
    // Every parent answered 不满意 (40): each area with questions is below 合格 (60).
    assert!(
        page.body.contains("得分偏低的方面 · 营养改善计划"),
        "{}",
        page.body
    );
    assert!(page.body.contains("低于合格线 60"));

    // Confirmed, the nutrition area is no longer suggested; the others still are.
    let key = format!("area-{parents}-nutrition");
    let csrf = page.hidden("_csrf").expect("csrf");
    let deadline = (rectification::today() + chrono::Duration::days(30)).to_string();
    let fields: Vec<(String, String)> = vec![
        ("_csrf".to_owned(), csrf),
        ("pick".to_owned(), key.clone()),
        (format!("source.{key}"), "area".to_owned()),
        (format!("area.{key}"), "nutrition".to_owned()),
        (format!("campaign.{key}"), parents.to_string()),
        (format!("requirement.{key}"), "改善营养餐".to_owned()),
        (format!("responsible.{key}"), "刘主任".to_owned()),
        (format!("deadline.{key}"), deadline),
    ];
    let created = supervisor
        .post_body(
            &format!("/console/schools/{}/rectification", school.id),
            "application/x-www-form-urlencoded",
            crate::helpers::encode_form(&fields).into_bytes(),
        )
        .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{}", created.body);
    let again = supervisor.get(&path).await;
    assert!(!again.body.contains(&format!("value=\"{key}\"")));
    assert!(again.body.contains("得分偏低的方面"));
}

#[actix_web::test]
async fn the_remind_command_queues_what_is_due_once() {
    let app = spawn_app().await;
    let all = schools(&app).await;
    let _soon = item_at(&app, &all[0], "检修饮水设备", 1).await;
    let _far = item_at(&app, &all[0], "以后再说", 40).await;
    let (_, viewer) = school_viewer(&app, &all[0]).await;
    let mut terminal = crate::cli::Terminal::new();
    terminal.database_url = app.database_url.clone();
    let first = terminal
        .run_in_background(&["rectification", "remind"])
        .join()
        .expect("the command ran");
    first.succeeded();
    assert_eq!(
        first.stdout_lines(),
        vec!["Queued 1 reminder mails: 1 items due within 3 days, 0 overdue."]
    );
    let second = terminal
        .run_in_background(&["rectification", "remind"])
        .join()
        .expect("the command ran");
    second.succeeded();
    assert!(second.stdout.contains("Queued 0 reminder mails"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM outbox WHERE kind = 'rectification' AND recipient = '{viewer}'"
        ))
        .await,
        1
    );
}

#[actix_web::test]
async fn an_edit_keeps_what_was_typed_when_refused_and_a_new_deadline_gets_new_reminders() {
    let app = spawn_app().await;
    let all = schools(&app).await;
    let item = item_at(&app, &all[0], "补齐图书", 2).await;
    rectification::remind_due(&app.context(), rectification::today())
        .await
        .expect("sweep");
    let path = format!("/console/rectification/{item}");
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let past = (rectification::today() - chrono::Duration::days(1)).to_string();
    let refused = supervisor
        .submit(
            &path,
            &format!("{path}/edit"),
            &[
                ("requirement", "补齐图书并登记造册"),
                ("responsible", "赵老师"),
                ("deadline", &past),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("早于今天"), "{}", refused.body);
    assert!(refused.body.contains("补齐图书并登记造册"));
    assert!(refused.body.contains("value=\"赵老师\""));
    let later = (rectification::today() + chrono::Duration::days(20)).to_string();
    let saved = supervisor
        .submit(
            &path,
            &format!("{path}/edit"),
            &[
                ("requirement", "补齐图书并登记造册"),
                ("responsible", "赵老师"),
                ("deadline", &later),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM rectification WHERE id = {item} AND responsible = '赵老师' AND reminded_before_at IS NULL"
        ))
        .await,
        1
    );
    let (mut school, _) = school_viewer(&app, &all[0]).await;
    let csrf = school.get(&path).await.hidden("_csrf").expect("csrf");
    let by_school = school
        .post(
            &format!("{path}/edit"),
            &[("_csrf", csrf.as_str()), ("requirement", "不改了")],
        )
        .await;
    assert_eq!(by_school.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'rectification_edit'")
            .await,
        1
    );
}
