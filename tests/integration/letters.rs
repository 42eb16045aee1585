//! 督导意见书 and 通报: a supervisor issues a school's letter for a round (numbered 〔year〕第 N
//! 号, frozen), reissues it (same number, version 2), issues another school's (第 2 号); later
//! answers and findings leave the issued letter as it was; the school's viewer reads its own
//! letter and nobody else's; the letter goes out over real SMTP; parallel issues get distinct
//! numbers without gaps; the circular names the overdue schools, and its CSV and XLSX are safe
//! and readable.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use awc::http::StatusCode;
use chrono::{Datelike, Utc};
use dupin::accounts::Role;
use dupin::change::Actor;
use entity::{finding, letter, photo, rectification, visit};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, Set};

use crate::helpers::{
    Browser, Options, TestApp, answers_for, catalog_survey, spawn_app, spawn_app_with,
};
use crate::smtp::{self, Sink};

fn china_today() -> chrono::NaiveDate {
    Utc::now()
        .with_timezone(&dupin::campaigns::china_offset())
        .date_naive()
}

fn plan(app: &TestApp) -> dupin::rating::Plan {
    let catalog = dupin::survey::load_dir(&app.surveys_dir).expect("plan loads");
    dupin::rating::load_plan(&app.surveys_dir, &catalog).expect("the plan is valid")
}

/// Issues the letter of `school_id` for round `campaign_id` through the domain, as the command
/// line would; returns its id.
pub async fn issue_letter(app: &TestApp, school_id: i32, campaign_id: i32) -> i32 {
    dupin::letters::issue(
        &app.context(),
        Actor::CommandLine,
        &plan(app),
        school_id,
        campaign_id,
    )
    .await
    .expect("the letter is issued")
    .id
}

/// The id and code of the `n`th school of the campaign, by code.
async fn school_of(app: &TestApp, campaign_id: i32, n: usize) -> (i32, String) {
    let code = app.links(campaign_id).await[n].code.clone();
    let school = dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .into_iter()
        .find(|school| school.code == code)
        .expect("the school");
    (school.id, code)
}

/// The school's self-check, answered through its link.
async fn self_check(app: &TestApp, campaign_id: i32, code: &str) {
    let token = app.link_token(campaign_id, code).await;
    let survey = catalog_survey("school");
    let mut phone = app.phone();
    let form = phone.get(&format!("/s/{token}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("a key")),
        ("_t".to_owned(), form.hidden("_t").expect("a time")),
    ];
    fields.extend(answers_for(&survey));
    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// A visit of the round to the school with one finding (and a photo), as helper rows.
async fn visit_with_finding(
    app: &TestApp,
    school_id: i32,
    campaign_id: i32,
    severity: &str,
    text: &str,
) -> i32 {
    let visit = visit::ActiveModel {
        school_id: Set(school_id),
        campaign_id: Set(Some(campaign_id)),
        kind: Set("key_inspection".to_owned()),
        checklist: Set(None),
        visited_on: Set(china_today() - chrono::Days::new(10)),
        team: Set("王督学、李督学".to_owned()),
        group_met: Set(None),
        group_size: Set(None),
        notes: Set(None),
        created_by: Set(1),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("a visit");
    let finding = finding::ActiveModel {
        visit_id: Set(visit.id),
        school_id: Set(school_id),
        area: Set("nutrition".to_owned()),
        severity: Set(severity.to_owned()),
        text: Set(text.to_owned()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("a finding");
    photo::ActiveModel {
        token: Set(dupin::secrets::random_key()),
        school_id: Set(school_id),
        visit_id: Set(Some(visit.id)),
        item_id: Set(None),
        finding_id: Set(Some(finding.id)),
        event_id: Set(None),
        content_type: Set("image/jpeg".to_owned()),
        width: Set(4),
        height: Set(3),
        bytes: Set(vec![0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]),
        thumbnail: Set(vec![0xff, 0xd8, 0xff, 0xe0, 4, 5, 6]),
        created_by: Set(Some(1)),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("a photo");
    finding.id
}

/// A rectification item of the round, due `days` from today (negative: overdue).
async fn item(
    app: &TestApp,
    school_id: i32,
    campaign_id: i32,
    finding_id: Option<i32>,
    requirement: &str,
    days: i64,
    status: &str,
) {
    let deadline = china_today() + chrono::Duration::days(days);
    rectification::ActiveModel {
        school_id: Set(school_id),
        campaign_id: Set(Some(campaign_id)),
        source: Set(if finding_id.is_some() {
            "finding"
        } else {
            "other"
        }
        .to_owned()),
        finding_id: Set(finding_id),
        indicator: Set(None),
        area: Set(Some("nutrition".to_owned())),
        requirement: Set(requirement.to_owned()),
        responsible: Set("张副校长".to_owned()),
        deadline: Set(deadline),
        status: Set(status.to_owned()),
        reminded_before_at: Set(None),
        reminded_overdue_at: Set(None),
        created_by: Set(1),
        created_at: Set(Utc::now()),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(&app.db)
    .await
    .expect("an item");
}

/// The letter part of a page (without the forms around it, which carry per-session tokens).
fn letter_part(body: &str) -> String {
    let start = body.find("<article class=\"letter\">").expect("a letter");
    let end = body[start..].find("</article>").expect("its end") + start;
    body[start..end].to_owned()
}

fn letter_id_of(location: Option<&str>) -> i32 {
    location
        .and_then(|to| to.strip_prefix("/console/letters/"))
        .and_then(|rest| rest.split('?').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("issuing leads to the letter, not {location:?}"))
}

#[actix_web::test]
async fn letters_are_numbered_frozen_reissued_as_versions_and_shown_only_to_their_school() {
    let app = spawn_app().await;
    let round = app.create_campaign("school", None, None).await;
    let (first_id, first_code) = school_of(&app, round, 0).await;
    let (_, second_code) = school_of(&app, round, 1).await;
    self_check(&app, round, &first_code).await;
    self_check(&app, round, &second_code).await;
    let finding_id = visit_with_finding(
        &app,
        first_id,
        round,
        "serious",
        "食堂留样记录缺失三天，餐具消毒柜未通电",
    )
    .await;
    item(
        &app,
        first_id,
        round,
        Some(finding_id),
        "补齐食堂留样记录并落实每日消毒",
        -3,
        "open",
    )
    .await;
    item(&app, first_id, round, None, "完善营养餐公示栏", 20, "open").await;

    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let list = supervisor
        .get(&format!("/console/campaigns/{round}/letters"))
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    assert!(list.body.contains(&first_code) && list.body.contains("草稿"));
    let campaign_page = supervisor.get(&format!("/console/campaigns/{round}")).await;
    assert!(
        campaign_page
            .body
            .contains(&format!("/console/campaigns/{round}/letters"))
    );
    assert!(
        campaign_page
            .body
            .contains(&format!("/console/campaigns/{round}/circular"))
    );

    // The draft shows what the letter will say, without a number.
    let draft_path = format!("/console/campaigns/{round}/letters/{first_code}");
    let draft = supervisor.get(&draft_path).await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
    assert!(draft.body.contains("草稿预览"), "{}", draft.body);
    assert!(draft.body.contains("食堂留样记录缺失三天"));

    // Issue: 〔year〕第 1 号.
    let year = china_today().year();
    let issued = supervisor.submit(&draft_path, &draft_path, &[]).await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    let first_letter = letter_id_of(issued.location.as_deref());
    let page = supervisor
        .get(&format!("/console/letters/{first_letter}"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let text = letter_part(&page.body);
    assert!(text.contains(&format!("〔{year}〕第 1 号")), "{text}");
    assert!(text.contains("督导意见书"));
    assert!(text.contains("县教育督导室"));
    assert!(
        text.contains("食堂留样记录缺失三天，餐具消毒柜未通电"),
        "{text}"
    );
    assert!(text.contains("严重"));
    assert!(
        text.contains("data:image/jpeg;base64,"),
        "the photo's thumbnail is in the letter"
    );
    assert!(text.contains("补齐食堂留样记录并落实每日消毒"));
    assert!(text.contains(&(china_today() - chrono::Duration::days(3)).to_string()));
    assert!(text.contains("张副校长"));
    assert!(text.contains("逾期"), "the overdue item says so in words");
    assert!(page.body.contains("@page { size: A4;"));
    let stored = letter::Entity::find_by_id(first_letter)
        .one(&app.db)
        .await
        .expect("query")
        .expect("the letter row");
    let snapshot: serde_json::Value = serde_json::from_str(&stored.snapshot).expect("JSON");
    let grade = snapshot["rating"]["grade"]
        .as_str()
        .expect("a grade")
        .to_owned();
    assert!(
        ["优秀", "良好", "合格", "不合格"].contains(&grade.as_str()),
        "the self-check rates the school: {grade}"
    );
    assert!(text.contains(&grade));
    assert_eq!((stored.year, stored.number, stored.version), (year, 1, 1));

    // Reissue: the same number, version 2 (修订版).
    let again = supervisor.submit(&draft_path, &draft_path, &[]).await;
    let reissued = letter_id_of(again.location.as_deref());
    assert_ne!(reissued, first_letter);
    let page = supervisor
        .get(&format!("/console/letters/{reissued}"))
        .await;
    assert!(page.body.contains(&format!("〔{year}〕第 1 号")));
    assert!(page.body.contains("修订版"), "{}", page.body);
    let row = letter::Entity::find_by_id(reissued)
        .one(&app.db)
        .await
        .expect("query")
        .expect("row");
    assert_eq!((row.number, row.version), (1, 2));

    // Another school: 第 2 号.
    let second_path = format!("/console/campaigns/{round}/letters/{second_code}");
    let second = supervisor.submit(&second_path, &second_path, &[]).await;
    let second_letter = letter_id_of(second.location.as_deref());
    let page = supervisor
        .get(&format!("/console/letters/{second_letter}"))
        .await;
    assert!(
        page.body.contains(&format!("〔{year}〕第 2 号")),
        "{}",
        page.body
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'letter_issue'")
            .await,
        3
    );

    // Later answers and a later finding change the draft, never the issued letter.
    let before = letter_part(
        &supervisor
            .get(&format!("/console/letters/{first_letter}"))
            .await
            .body,
    );
    let parents = app.create_campaign("parents", None, None).await;
    let token = app.link_token(parents, &first_code).await;
    let survey = catalog_survey("parents");
    for _ in 0..3 {
        let page = app.phone().answer(&token, &survey).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    visit_with_finding(&app, first_id, round, "minor", "厕所洗手池缺少洗手液").await;
    let after = letter_part(
        &supervisor
            .get(&format!("/console/letters/{first_letter}"))
            .await
            .body,
    );
    assert_eq!(before, after, "an issued letter never changes");
    let unchanged = letter::Entity::find_by_id(first_letter)
        .one(&app.db)
        .await
        .expect("query")
        .expect("row");
    assert_eq!(unchanged.snapshot, stored.snapshot);
    let draft = supervisor.get(&draft_path).await;
    assert!(draft.body.contains("厕所洗手池缺少洗手液"));
    assert!(
        draft.body.contains("家长问卷"),
        "the draft now counts the parents"
    );
    assert!(!after.contains("厕所洗手池缺少洗手液"));

    // The school's viewer reads its own letters, and nobody else's.
    app.account("viewer@school.cn", Role::School, Some(first_id))
        .await;
    let mut viewer = app.browser();
    viewer
        .sign_in("viewer@school.cn", crate::helpers::PASSWORD)
        .await;
    let mine = viewer.get("/console/my-school/letters").await;
    assert_eq!(mine.status, StatusCode::OK, "{}", mine.body);
    assert!(
        mine.body
            .contains(&format!("/console/letters/{first_letter}"))
    );
    assert!(mine.body.contains(&format!("/console/letters/{reissued}")));
    assert!(
        !mine
            .body
            .contains(&format!("/console/letters/{second_letter}"))
    );
    let own = viewer
        .get(&format!("/console/letters/{first_letter}"))
        .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    assert!(!own.body.contains("发送督导意见书"), "viewers do not mail");
    let other = viewer
        .get(&format!("/console/letters/{second_letter}"))
        .await;
    assert_eq!(other.status, StatusCode::NOT_FOUND, "{}", other.body);
    for guessed in [second_letter + 100, 0] {
        let page = viewer.get(&format!("/console/letters/{guessed}")).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND);
    }
    let refused = viewer
        .post(
            &format!("/console/letters/{first_letter}/mail"),
            &[("_csrf", "x")],
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let refused = viewer.get(&draft_path).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);

    // The API lists every version and serves the frozen snapshot as issued.
    let token = app.api_token().await;
    let (status, list) = app.api_get(&token, "/api/v1/letters").await;
    assert_eq!(status, StatusCode::OK, "{list}");
    let letters = list["letters"].as_array().expect("letters");
    assert_eq!(letters.len(), 3);
    assert_eq!(letters[0]["number"], 2);
    assert_eq!(letters[0]["school_code"], second_code.as_str());
    let (status, one) = app
        .api_get(&token, &format!("/api/v1/letters/{first_letter}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{one}");
    assert_eq!(one, snapshot);
    let (status, missing) = app.api_get(&token, "/api/v1/letters/99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(missing["error"]["code"], "letter_not_found");
}

#[actix_web::test]
async fn letters_issued_at_once_get_distinct_numbers_without_gaps_and_versions_in_order() {
    let app = spawn_app().await;
    let round = app.create_campaign("school", None, None).await;
    let plan = plan(&app);
    let context = app.context();
    let mut schools = Vec::new();
    for n in 0..6 {
        schools.push(school_of(&app, round, n).await.0);
    }
    let issues = schools
        .iter()
        .map(|school| dupin::letters::issue(&context, Actor::CommandLine, &plan, *school, round));
    let issued: Vec<letter::Model> = futures_util::future::join_all(issues)
        .await
        .into_iter()
        .map(|result| result.expect("every issue succeeds"))
        .collect();
    let numbers: BTreeSet<i32> = issued.iter().map(|row| row.number).collect();
    assert_eq!(numbers, (1..=6).collect::<BTreeSet<i32>>());

    // One school, four issues at once: versions 1 to 4 of one number.
    let (school, _) = school_of(&app, round, 7).await;
    let issues =
        (0..4).map(|_| dupin::letters::issue(&context, Actor::CommandLine, &plan, school, round));
    let issued: Vec<letter::Model> = futures_util::future::join_all(issues)
        .await
        .into_iter()
        .map(|result| result.expect("every reissue succeeds"))
        .collect();
    let versions: BTreeSet<i32> = issued.iter().map(|row| row.version).collect();
    assert_eq!(versions, (1..=4).collect::<BTreeSet<i32>>());
    let numbers: BTreeSet<i32> = issued.iter().map(|row| row.number).collect();
    assert_eq!(numbers, BTreeSet::from([7]));
    let rows = letter::Entity::find()
        .filter(letter::Column::SchoolId.eq(school))
        .all(&app.db)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 4);
}

#[actix_web::test]
async fn letters_go_to_the_school_viewers_over_smtp_with_the_photos_inline() {
    if !smtp::available("letters_go_to_the_school_viewers_over_smtp_with_the_photos_inline") {
        return;
    }
    let sink = Sink::started();
    let app = spawn_app_with(Options {
        mail: sink.settings(),
        base_url: Some("https://dupin.example.cn".to_owned()),
        ..Options::default()
    })
    .await;
    let round = app.create_campaign("school", None, None).await;
    let (school_id, code) = school_of(&app, round, 0).await;
    visit_with_finding(&app, school_id, round, "major", "图书室借阅登记不全").await;
    item(&app, school_id, round, None, "建立图书借阅台账", 10, "open").await;
    app.account("principal@school.cn", Role::School, Some(school_id))
        .await;
    let id = issue_letter(&app, school_id, round).await;

    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let path = format!("/console/letters/{id}");
    // A bad address is refused with what was typed kept.
    let refused = supervisor
        .submit(
            &path,
            &format!("{path}/mail"),
            &[("addresses", "not an address")],
        )
        .await;
    assert_eq!(
        refused.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        refused.body
    );
    assert!(refused.body.contains("not an address"));
    assert!(refused.body.contains("收件地址"));
    let sent = supervisor
        .submit(
            &path,
            &format!("{path}/mail"),
            &[("addresses", "jiaoyuju@county.edu.cn")],
        )
        .await;
    assert_eq!(sent.status, StatusCode::SEE_OTHER, "{}", sent.body);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'letter_mail'")
            .await,
        1
    );
    let received = sink.wait_for(2, Duration::from_secs(60)).await;
    let mut recipients: Vec<String> = received.iter().flat_map(|m| m.rcpt_tos.clone()).collect();
    recipients.sort();
    assert_eq!(
        recipients,
        vec!["jiaoyuju@county.edu.cn", "principal@school.cn"]
    );
    let year = china_today().year();
    for mail in &received {
        assert!(
            mail.subject.contains(&format!("〔{year}〕第 1 号")),
            "{}",
            mail.subject
        );
        let text = mail.text.as_deref().expect("a text part");
        assert!(text.contains("图书室借阅登记不全"), "{text}");
        assert!(text.contains("建立图书借阅台账"));
        assert!(text.contains(&format!("https://dupin.example.cn/console/letters/{id}")));
        let html = mail.html.as_deref().expect("an HTML part");
        assert_eq!(mail.images.len(), 1, "{mail:#?}");
        assert!(html.contains(&format!("cid:{}", mail.images[0].content_id)));
        assert_eq!(mail.images[0].content_type, "image/jpeg");
    }
    let _ = code;
}

#[actix_web::test]
async fn the_circular_names_overdue_schools_and_its_csv_and_xlsx_are_safe() {
    let app = spawn_app().await;
    let round = app.create_campaign("school", None, None).await;
    let (late_id, late_code) = school_of(&app, round, 0).await;
    let (slightly_id, slightly_code) = school_of(&app, round, 1).await;
    let (_, on_time_code) = school_of(&app, round, 2).await;
    let backend = app.db.get_database_backend();
    use sea_orm::ConnectionTrait;
    app.db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => "UPDATE school SET name = $1 WHERE id = $2",
                _ => "UPDATE school SET name = ? WHERE id = ?",
            },
            ["=HYPERLINK(\"http://evil\")".into(), late_id.into()],
        ))
        .await
        .expect("rename");
    item(&app, late_id, round, None, "整改一", -45, "returned").await;
    item(&app, slightly_id, round, None, "整改二", -2, "open").await;
    item(&app, slightly_id, round, None, "整改三", -20, "accepted").await;
    // A school 40 days late reports on the eve of the circular: the report does not erase it.
    let (hasty_id, hasty_code) = school_of(&app, round, 3).await;
    item(&app, hasty_id, round, None, "整改四", -40, "open").await;
    let hasty_item = app
        .count("SELECT CAST(MAX(id) AS BIGINT) FROM rectification")
        .await as i32;
    let head = app
        .account("hasty@school.edu.cn", Role::School, Some(hasty_id))
        .await;
    dupin::rectification::report_progress(
        &app.context(),
        Actor::Account(&head),
        hasty_item,
        "已整改",
        Vec::new(),
    )
    .await
    .expect("the late report");

    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let page = supervisor
        .get(&format!("/console/campaigns/{round}/circular"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let overdue_section = page
        .body
        .split("三、整改逾期的学校")
        .nth(1)
        .and_then(|rest| rest.split("四、").next())
        .expect("the overdue section");
    assert!(overdue_section.contains(&late_code), "{overdue_section}");
    assert!(overdue_section.contains(&slightly_code));
    assert!(!overdue_section.contains(&on_time_code));
    assert!(overdue_section.contains("逾期 1 项"));
    let accountable = page.body.split("四、严格责任追究").nth(1).expect("section");
    assert!(accountable.contains(&late_code), "{accountable}");
    assert!(accountable.contains("逾期超过 30 天"));
    assert!(
        !accountable.contains(&slightly_code),
        "2 days overdue is not yet 怠慢滞后"
    );
    let hasty_row = overdue_section
        .split("<tr>")
        .find(|row| row.contains(&hasty_code))
        .unwrap_or_else(|| panic!("a late report stays in the overdue list: {overdue_section}"));
    assert!(
        hasty_row.contains("<td class=\"num\">0</td><td class=\"num\">1 项</td>"),
        "not overdue today, reported late once: {hasty_row}"
    );
    let hasty = accountable
        .split(hasty_code.as_str())
        .nth(1)
        .unwrap_or_else(|| panic!("a report 40 days late is still 怠慢滞后: {accountable}"));
    assert!(
        hasty[..hasty.find("</tr>").unwrap_or(hasty.len())].contains("逾期超过 30 天才报告整改"),
        "{hasty}"
    );
    // Nobody sent the round's self-check: while it still takes answers that is no reason…
    assert!(
        !accountable.contains("未提交本轮学校自评表"),
        "{accountable}"
    );
    assert!(page.body.contains("<td>尚未提交</td>"));
    // …once it has closed, every school that sent none is named for it.
    app.db
        .execute_unprepared(&format!(
            "UPDATE campaign SET status = 'closed' WHERE id = {round}"
        ))
        .await
        .expect("close the round");
    let closed = supervisor
        .get(&format!("/console/campaigns/{round}/circular"))
        .await;
    let named = closed
        .body
        .split("四、严格责任追究")
        .nth(1)
        .expect("section");
    let on_time = named
        .split("<tr>")
        .find(|row| row.contains(&on_time_code))
        .unwrap_or_else(|| panic!("a school without a self-check is named: {named}"));
    assert!(on_time.contains("未提交本轮学校自评表"), "{on_time}");
    app.db
        .execute_unprepared(&format!(
            "UPDATE campaign SET status = 'open' WHERE id = {round}"
        ))
        .await
        .expect("reopen the round");

    let csv = supervisor
        .download(&format!("/console/campaigns/{round}/circular.csv"))
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.header("content-type").starts_with("text/csv"));
    let text = String::from_utf8(csv.body).expect("UTF-8");
    assert!(text.starts_with("\u{feff}学校代码,学校名称"), "{text}");
    assert!(
        text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""),
        "{text}"
    );
    let late_line = text
        .lines()
        .find(|line| line.starts_with(&late_code))
        .expect("the late school's line");
    assert!(late_line.contains(",是,"), "{late_line}");

    let xlsx = supervisor
        .download(&format!("/console/campaigns/{round}/circular.xlsx"))
        .await;
    assert_eq!(xlsx.status, StatusCode::OK);
    let folder = tempfile::tempdir().expect("temp dir");
    let file = folder.path().join("circular.xlsx");
    std::fs::write(&file, &xlsx.body).expect("write");
    let probe = Command::new("python3")
        .args(["-c", "import openpyxl"])
        .output();
    if !probe.is_ok_and(|output| output.status.success()) {
        println!("SKIPPED (xlsx read back): Python's openpyxl is not installed");
        return;
    }
    let script = r#"
import json, sys, openpyxl
sheet = openpyxl.load_workbook(sys.argv[1]).active
rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
print(json.dumps({"title": sheet.title, "rows": rows}, ensure_ascii=False, default=str))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&file)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(read["title"], "通报");
    let rows = read["rows"].as_array().expect("rows");
    assert_eq!(rows[0][0], "学校代码");
    assert_eq!(rows.len(), app.links(round).await.len() + 1);
    let late = rows
        .iter()
        .find(|row| row[0] == late_code.as_str())
        .expect("the late school");
    assert_eq!(late[1], "'=HYPERLINK(\"http://evil\")");
    assert_eq!(late[8], 1, "one overdue item");
    assert_eq!(late[9], 0, "nothing reported late");
    assert_eq!(late[11], "是");
    let hasty = rows
        .iter()
        .find(|row| row[0] == hasty_code.as_str())
        .expect("the hasty school");
    assert_eq!((hasty[8].clone(), hasty[9].clone()), (0.into(), 1.into()));
    assert_eq!(hasty[10], 40, "40 days late when it reported");
}

#[actix_web::test]
async fn a_schools_letter_waits_until_its_teachers_can_no_longer_answer() {
    let app = spawn_app().await;
    let round = app.create_campaign("school", None, None).await;
    let teachers = app.create_campaign("teachers", None, None).await;
    let (school_id, code) = school_of(&app, round, 0).await;
    self_check(&app, round, &code).await;
    // Five of the school's teachers answer: enough for its letter to show their figures.
    let token = app.link_token(teachers, &code).await;
    let survey = catalog_survey("teachers");
    for _ in 0..5 {
        let page = app.phone().answer(&token, &survey).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }

    // While the teachers' campaign takes answers, the draft says why it cannot be issued and
    // has no button; a letter issued now and another after a sixth answer would differ by it.
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let draft_path = format!("/console/campaigns/{round}/letters/{code}");
    let draft = supervisor.get(&draft_path).await;
    assert_eq!(draft.status, StatusCode::OK, "{}", draft.body);
    assert!(draft.body.contains("草稿预览"), "{}", draft.body);
    assert!(
        draft.body.contains("暂不能出具")
            && draft.body.contains("教师问卷“测试 teachers”仍在收答卷"),
        "{}",
        draft.body
    );
    assert!(!draft.body.contains("出具并编号"), "{}", draft.body);
    // A post from an older page (another tab) is refused with the same reason; nothing stored.
    let refused = supervisor.submit(&draft_path, &draft_path, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(refused.body.contains("暂不能出具"), "{}", refused.body);
    let by_domain = dupin::letters::issue(
        &app.context(),
        Actor::CommandLine,
        &plan(&app),
        school_id,
        round,
    )
    .await;
    assert!(
        matches!(
            by_domain,
            Err(dupin::letters::LetterError::TeachersStillAnswering(_))
        ),
        "{by_domain:?}"
    );
    assert_eq!(app.count("SELECT count(*) FROM letter").await, 0);
    // A school that is not in the teachers' campaign would not wait; this one is, so the
    // round's other schools (all in it here) wait too.
    let (_, other_code) = school_of(&app, round, 1).await;
    let other = supervisor
        .get(&format!("/console/campaigns/{round}/letters/{other_code}"))
        .await;
    assert!(other.body.contains("暂不能出具"), "{}", other.body);

    // Once the teachers' campaign is closed, the letter is issued.
    set_status(&mut supervisor, teachers, "closed").await;
    let draft = supervisor.get(&draft_path).await;
    assert!(!draft.body.contains("暂不能出具"), "{}", draft.body);
    assert!(draft.body.contains("出具并编号"), "{}", draft.body);
    let issued = supervisor.submit(&draft_path, &draft_path, &[]).await;
    assert_eq!(issued.status, StatusCode::SEE_OTHER, "{}", issued.body);
    let letter_id = letter_id_of(issued.location.as_deref());
    let letter = supervisor
        .get(&format!("/console/letters/{letter_id}"))
        .await;
    assert_eq!(letter.status, StatusCode::OK, "{}", letter.body);
    assert_eq!(app.count("SELECT count(*) FROM letter").await, 1);

    // Reopened for a sixth teacher and closed again, the school's figures moved by one answer:
    // a reissue would hand the school two versions that differ by that teacher. Refused.
    set_status(&mut supervisor, teachers, "open").await;
    let sixth = app.phone().answer(&token, &survey).await;
    assert_eq!(sixth.status, StatusCode::SEE_OTHER, "{}", sixth.body);
    set_status(&mut supervisor, teachers, "closed").await;
    let draft = supervisor.get(&draft_path).await;
    assert!(
        draft.body.contains("暂不能出具") && draft.body.contains("原 5 份，现 6 份"),
        "{}",
        draft.body
    );
    assert!(
        !draft.body.contains("重新出具（修订版）</button>"),
        "{}",
        draft.body
    );
    let refused = supervisor.submit(&draft_path, &draft_path, &[]).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "{}", refused.body);
    assert!(
        refused.body.contains("原 5 份，现 6 份"),
        "{}",
        refused.body
    );
    assert_eq!(app.count("SELECT count(*) FROM letter").await, 1);

    // Four more (ten in all, five more than the letter showed): the two versions would differ
    // by five teachers, no fewer, and the letter is reissued as version 2.
    set_status(&mut supervisor, teachers, "open").await;
    for _ in 0..4 {
        let page = app.phone().answer(&token, &survey).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    set_status(&mut supervisor, teachers, "closed").await;
    let draft = supervisor.get(&draft_path).await;
    assert!(!draft.body.contains("暂不能出具"), "{}", draft.body);
    let reissued = supervisor.submit(&draft_path, &draft_path, &[]).await;
    assert_eq!(reissued.status, StatusCode::SEE_OTHER, "{}", reissued.body);
    assert_eq!(
        app.count("SELECT count(*) FROM letter WHERE version = 2")
            .await,
        1,
        "the reissue is version 2"
    );
}

/// Opens or closes campaign `id` from its console page, as a supervisor does.
async fn set_status(browser: &mut Browser, id: i32, status: &str) {
    let page = format!("/console/campaigns/{id}");
    let done = browser
        .submit(&page, &format!("{page}/status"), &[("status", status)])
        .await;
    assert_eq!(
        done.status,
        StatusCode::SEE_OTHER,
        "{status}: {}",
        done.body
    );
}
