//! Visits (issue 13, parts 2 and 3): a supervisor records a 随机走访 at a school with the
//! checklist, a finding and a photo taken with a phone that wrote GPS into it; the stored photo
//! has no EXIF and its thumbnail is served; a refused form keeps what was typed; a school viewer
//! cannot open visits; the school that reported more than the visit found is flagged 核查不符,
//! and its rating uses the verified value.

use awc::http::StatusCode;
use dupin::accounts::Role;
use entity::{finding, photo, visit, visit_check};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::api::{answer_with, ok_with};
use crate::helpers::{Browser, TestApp, catalog_survey, spawn_app};

const BOUNDARY: &str = "----dupinvisitboundary2c9f8e";

/// A small JPEG with an APP1 Exif segment carrying a GPS IFD (GPSLatitudeRef = N), as a phone
/// camera writes one.
fn jpeg_with_gps() -> Vec<u8> {
    let pixels = image::RgbImage::from_fn(64, 48, |x, y| {
        image::Rgb([(x * 4) as u8, (y * 5) as u8, 128])
    });
    let mut plain = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut plain, 85)
        .encode_image(&pixels)
        .expect("a JPEG");
    // TIFF, big-endian: IFD0 with one entry (GPSInfo → the GPS IFD at 26), then the GPS IFD
    // with one entry (GPSLatitudeRef, ASCII "N").
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2a\0\0\0\x08");
    tiff.extend_from_slice(&[0, 1]);
    tiff.extend_from_slice(&[0x88, 0x25, 0, 4, 0, 0, 0, 1, 0, 0, 0, 26]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 1]);
    tiff.extend_from_slice(&[0, 1, 0, 2, 0, 0, 0, 2, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let length = u16::try_from(app1.len() + 2).expect("short");
    let mut jpeg = vec![0xFF, 0xD8, 0xFF, 0xE1];
    jpeg.extend_from_slice(&length.to_be_bytes());
    jpeg.extend_from_slice(&app1);
    jpeg.extend_from_slice(&plain[2..]);
    assert!(jpeg.windows(4).any(|window| window == b"Exif"));
    jpeg
}

fn multipart(fields: &[(&str, &str)], files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    for (name, bytes) in files {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"IMG_0001.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn post_visit(
    browser: &mut Browser,
    school_id: i32,
    fields: &[(&str, &str)],
    files: &[(&str, &[u8])],
) -> crate::helpers::Page {
    let form_path =
        format!("/console/schools/{school_id}/visits/new?kind=random_visit&checklist=random_visit");
    let form = browser.get(&form_path).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let csrf = form.hidden("_csrf").expect("a CSRF token");
    let mut all = vec![("_csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    browser
        .post_body(
            &format!("/console/schools/{school_id}/visits"),
            &format!("multipart/form-data; boundary={BOUNDARY}"),
            multipart(&all, files),
        )
        .await
}

fn today() -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8))
        .format("%Y-%m-%d")
        .to_string()
}

/// A self-check campaign where the first school says its toilets meet the standard.
async fn over_reported_toilets(app: &TestApp) -> (i32, entity::school::Model) {
    let campaign = app.create_campaign("school", None, None).await;
    let school = dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .remove(0);
    says_toilets(app, campaign, &school, "yes").await;
    (campaign, school)
}

/// A random visit of today to `school_id` in round `campaign` that finds the toilets short and
/// everything else in order.
async fn toilets_found_short(supervisor: &mut Browser, campaign: i32, school_id: i32) {
    let campaign_text = campaign.to_string();
    let date = today();
    let page = post_visit(
        supervisor,
        school_id,
        &[
            ("kind", "random_visit"),
            ("checklist", "random_visit"),
            ("campaign", &campaign_text),
            ("visited_on", &date),
            ("team", "张三"),
            ("number_pupils_present", "40"),
            ("item_toilets", "not_met"),
            ("item_lunch", "met"),
            ("item_escort_meals", "met"),
            ("item_online_class", "met"),
        ],
        &[("photo_lunch_photo", &jpeg_with_gps())],
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// The school sends its self-check, saying `answer` (yes / no) to whether its toilets meet the
/// standard.
async fn says_toilets(app: &TestApp, campaign: i32, school: &entity::school::Model, answer: &str) {
    let token = app.link_token(campaign, &school.code).await;
    answer_with(
        app,
        &token,
        &catalog_survey("school"),
        &[("toilets_standard", answer)],
    )
    .await;
}

/// The school's panel of a self-check campaign's results page.
fn indicators_panel<'a>(body: &'a str, code: &str) -> &'a str {
    body.split("<div class=\"panel school-indicators\">")
        .skip(1)
        .find(|panel| panel.contains(code))
        .expect("the school's indicators")
}

/// The toilets indicator's line of a school's self-checks page.
fn toilets_line(body: &str) -> &str {
    body.split("<tr>")
        .find(|row| row.contains("学生厕所够用、达到卫生标准"))
        .expect("the toilets line")
}

#[actix_web::test]
async fn a_supervisor_records_a_random_visit_with_a_photo_whose_gps_is_gone() {
    let app = spawn_app().await;
    let (campaign, school) = over_reported_toilets(&app).await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let photo_bytes = jpeg_with_gps();
    let campaign_text = campaign.to_string();
    let date = today();
    let page = post_visit(
        &mut supervisor,
        school.id,
        &[
            ("kind", "random_visit"),
            ("checklist", "random_visit"),
            ("campaign", &campaign_text),
            ("visited_on", &date),
            ("team", "张三、李四"),
            ("number_pupils_present", "38"),
            ("item_toilets", "not_met"),
            ("note_toilets", "蹲位不够，无洗手池"),
            ("item_lunch", "met"),
            ("item_escort_meals", "met"),
            ("item_online_class", "not_applicable"),
            ("finding_1_area", "nutrition"),
            ("finding_1_severity", "major"),
            ("finding_1_text", "食堂未按规定留样"),
            ("finding_2_severity", "minor"),
        ],
        &[
            ("photo_lunch_photo", &photo_bytes),
            ("finding_1_photo", &photo_bytes),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.expect("to the visit");
    assert!(location.starts_with("/console/visits/"), "{location}");

    let visits = visit::Entity::find().all(&app.db).await.expect("visits");
    assert_eq!(visits.len(), 1);
    let stored = &visits[0];
    assert_eq!(
        (stored.school_id, stored.kind.as_str(), stored.campaign_id),
        (school.id, "random_visit", Some(campaign))
    );
    assert_eq!(stored.team, "张三、李四");
    let checks = visit_check::Entity::find()
        .filter(visit_check::Column::VisitId.eq(stored.id))
        .all(&app.db)
        .await
        .expect("checks");
    assert_eq!(checks.len(), 6, "{checks:?}");
    let toilets = checks
        .iter()
        .find(|c| c.item_id == "toilets")
        .expect("toilets");
    assert_eq!(toilets.judgement.as_deref(), Some("not_met"));
    assert_eq!(toilets.note.as_deref(), Some("蹲位不够，无洗手池"));
    let pupils = checks
        .iter()
        .find(|c| c.item_id == "pupils_present")
        .expect("count");
    assert_eq!(pupils.number, Some(38.0));
    let findings = finding::Entity::find()
        .all(&app.db)
        .await
        .expect("findings");
    assert_eq!(findings.len(), 1, "the empty second row is nothing found");
    assert_eq!(
        (findings[0].area.as_str(), findings[0].severity.as_str()),
        ("nutrition", "major")
    );
    let photos = photo::Entity::find().all(&app.db).await.expect("photos");
    assert_eq!(photos.len(), 2);
    for stored_photo in &photos {
        assert_eq!(stored_photo.school_id, school.id);
        assert!(
            !stored_photo
                .bytes
                .windows(4)
                .any(|window| window == b"Exif"),
            "the stored photo still carries EXIF"
        );
        assert!(
            !stored_photo
                .thumbnail
                .windows(4)
                .any(|window| window == b"Exif")
        );
    }
    assert!(
        photos
            .iter()
            .any(|p| p.item_id.as_deref() == Some("lunch_photo"))
    );
    assert!(photos.iter().any(|p| p.finding_id == Some(findings[0].id)));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_event WHERE action = 'visit_record'")
            .await,
        1
    );

    let record = supervisor.get(&location).await;
    assert_eq!(record.status, StatusCode::OK, "{}", record.body);
    assert!(record.body.contains("走访记录已保存"));
    assert!(record.body.contains("食堂未按规定留样"));
    assert!(record.body.contains("蹲位不够，无洗手池"));
    assert!(record.body.contains("38 人"));
    let token = &photos[0].token;
    assert!(
        record
            .body
            .contains(&format!("/console/photos/{token}/thumb"))
    );
    let (status, content_type, _, thumb) = supervisor
        .download(&format!("/console/photos/{token}/thumb"))
        .await
        .parts();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "image/jpeg");
    assert!(thumb.starts_with(&[0xFF, 0xD8]));

    // The API lists it with its findings, and gives its checks and photo links, as documented.
    let api_token = app.api_token().await;
    let listed = ok_with(
        &app,
        &format!("/api/v1/visits?school={}", school.code),
        &api_token,
    )
    .await;
    assert_eq!(listed["visits"][0]["id"], stored.id);
    assert_eq!(listed["visits"][0]["findings"], 1);
    let one = ok_with(&app, &format!("/api/v1/visits/{}", stored.id), &api_token).await;
    assert_eq!(one["findings"][0]["severity"], "major");
    let thumbnail = one["findings"][0]["photos"][0]["thumbnail_url"]
        .as_str()
        .expect("a thumbnail link");
    assert!(thumbnail.ends_with("/thumb"));
    let toilets_check = one["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .find(|check| check["item_id"] == "toilets")
        .expect("the toilets check");
    assert_eq!(toilets_check["judgement"], "not_met");
    assert_eq!(toilets_check["indicator"], "toilets_standard");

    let list = supervisor
        .get(&format!(
            "/console/visits?school={}&kind=random_visit",
            school.id
        ))
        .await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains(&school.name) && list.body.contains("随机走访"));
    let other_kind = supervisor.get("/console/visits?kind=interview").await;
    assert!(other_kind.body.contains("没有符合条件的走访记录"));
}

#[actix_web::test]
async fn a_refused_visit_form_keeps_what_was_typed_and_names_each_field() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let school = dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .remove(0);
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let photo_bytes = jpeg_with_gps();
    let page = post_visit(
        &mut supervisor,
        school.id,
        &[
            ("kind", "random_visit"),
            ("checklist", "random_visit"),
            ("campaign", ""),
            ("visited_on", "2999-01-01"),
            ("team", "王五组"),
            ("number_pupils_present", "三十"),
            ("item_lunch", "met"),
            ("note_lunch", "米饭偏硬"),
            ("finding_1_text", "操场有积水"),
        ],
        &[("photo_lunch_photo", &photo_bytes)],
    )
    .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    for message in [
        "第 2 项 学生厕所干净、够用：请选择符合/不符合/不适用",
        "“三十”不是数字",
        "晚于今天",
        "第 1 条问题：请选择所属领域",
        "请重新选择照片",
    ] {
        assert!(
            page.body.contains(message),
            "{message} missing: {}",
            page.body
        );
    }
    for kept in [
        "value=\"王五组\"",
        "value=\"三十\"",
        "value=\"米饭偏硬\"",
        "操场有积水</textarea>",
        "value=\"2999-01-01\"",
        "value=\"met\" checked",
    ] {
        assert!(page.body.contains(kept), "{kept} was not kept");
    }
    // A form filled in for a checklist the plan no longer has is not checked against another.
    let stale = post_visit(
        &mut supervisor,
        school.id,
        &[
            ("kind", "random_visit"),
            ("checklist", "no_such_checklist"),
            ("visited_on", "2026-12-01"),
            ("team", "王五组"),
        ],
        &[],
    )
    .await;
    assert_eq!(stale.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(stale.body.contains("核查表：没有这份核查表"));
    assert_eq!(app.count("SELECT COUNT(*) FROM visit").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM photo").await, 0);
}

#[actix_web::test]
async fn a_school_viewer_cannot_open_visits_even_of_its_own_school() {
    let app = spawn_app().await;
    let (campaign, school) = over_reported_toilets(&app).await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let date = today();
    let campaign_text = campaign.to_string();
    let page = post_visit(
        &mut supervisor,
        school.id,
        &[
            ("kind", "random_visit"),
            ("checklist", "none"),
            ("campaign", &campaign_text),
            ("visited_on", &date),
            ("team", "张三"),
        ],
        &[],
    )
    .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let visit_path = page.location.expect("the visit");
    // The school viewer's school is the first school: the one visited.
    let mut viewer = app.signed_in(Role::School).await;
    for path in [
        "/console/visits".to_owned(),
        visit_path,
        format!("/console/schools/{}/visits/new", school.id),
        format!("/console/schools/{}/self-checks", school.id),
    ] {
        let page = viewer.get(&path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}: {}", page.body);
    }
    let posted = viewer
        .post(
            &format!("/console/schools/{}/visits", school.id),
            &[("team", "x")],
        )
        .await;
    assert_eq!(posted.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM visit").await, 1);
}

#[actix_web::test]
async fn an_over_reported_self_check_is_flagged_and_rated_on_the_verified_value() {
    let app = spawn_app().await;
    let (campaign, school) = over_reported_toilets(&app).await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;

    let api_token = app.api_token().await;
    let indicator_outcome = |body: &serde_json::Value| -> (String, serde_json::Value) {
        let row = body["schools"]
            .as_array()
            .expect("schools")
            .iter()
            .find(|row| row["code"] == school.code.as_str())
            .expect("the school")
            .clone();
        let cell = row["indicators"]
            .as_array()
            .expect("cells")
            .iter()
            .find(|cell| cell["id"] == "toilets_standard")
            .expect("the toilets indicator")
            .clone();
        (
            cell["outcome"].as_str().unwrap_or_default().to_owned(),
            cell,
        )
    };
    let path = format!("/api/v1/campaigns/{campaign}/indicators");
    let (status, before) = app.api_get(&api_token, &path).await;
    assert_eq!(status, StatusCode::OK, "{before}");
    assert_eq!(indicator_outcome(&before).0, "met", "as reported");

    toilets_found_short(&mut supervisor, campaign, school.id).await;

    let compared = supervisor
        .get(&format!("/console/schools/{}/self-checks", school.id))
        .await;
    assert_eq!(compared.status, StatusCode::OK, "{}", compared.body);
    let line = toilets_line(&compared.body);
    assert!(line.contains("达标（是）"), "reported: {line}");
    assert!(line.contains("不符合"), "verified: {line}");
    assert!(line.contains("核查不符"), "flagged: {line}");
    assert!(compared.body.contains("<strong>核查不符</strong>"));
    // The escort-meals indicator agrees (the sample self-check says yes) and is not flagged.
    let agreeing = compared
        .body
        .split("<tr>")
        .find(|row| row.contains("陪餐"))
        .expect("the escort-meals line");
    assert!(!agreeing.contains("核查不符"), "{agreeing}");

    let (_, after) = app.api_get(&api_token, &path).await;
    assert_eq!(
        indicator_outcome(&after).0,
        "not_met",
        "the verified value stands"
    );
    let results = supervisor
        .get(&format!("/console/campaigns/{campaign}/results"))
        .await;
    assert_eq!(results.status, StatusCode::OK);
    assert!(results.body.contains("核查值"));
    let school_panel = indicators_panel(&results.body, &school.code);
    assert!(school_panel.contains("核查不符"), "{school_panel}");
    // The school's letter says so, and the circular names it.
    let letter = supervisor
        .get(&format!(
            "/console/campaigns/{campaign}/letters/{}",
            school.code
        ))
        .await;
    assert_eq!(letter.status, StatusCode::OK, "{}", letter.body);
    assert!(letter.body.contains("核查不符"), "{}", letter.body);
    let circular = supervisor
        .get(&format!("/console/campaigns/{campaign}/circular"))
        .await;
    let named = circular
        .body
        .split("四、严格责任追究")
        .nth(1)
        .expect("the responsibility section");
    let row = named
        .split("<tr>")
        .find(|row| row.contains(&school.code))
        .unwrap_or_else(|| panic!("the school caught over-reporting is named: {named}"));
    assert!(row.contains("学校自评经到校核查不符"), "{row}");

    // Caught, the school sends its self-check again, now saying what the visit found: the
    // report that stood at the visit still differed, so 核查不符 stays, and the page says what
    // was reported then.
    says_toilets(&app, campaign, &school, "no").await;
    let compared = supervisor
        .get(&format!("/console/schools/{}/self-checks", school.id))
        .await;
    let line = toilets_line(&compared.body);
    assert!(line.contains("核查时填报：达标（是）"), "{line}");
    assert!(line.contains("核查不符"), "still flagged: {line}");
    let results = supervisor
        .get(&format!("/console/campaigns/{campaign}/results"))
        .await;
    let school_panel = indicators_panel(&results.body, &school.code);
    assert!(
        school_panel.contains("核查不符"),
        "a report changed after the visit does not clear the flag: {school_panel}"
    );
}

#[actix_web::test]
async fn a_self_check_changed_on_the_morning_of_the_visit_is_still_compared_with_what_stood() {
    let app = spawn_app().await;
    let (campaign, school) = over_reported_toilets(&app).await;
    // The over-report was sent yesterday…
    let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
    let stored = entity::response::Entity::find()
        .filter(entity::response::Column::SchoolId.eq(school.id))
        .one(&app.db)
        .await
        .expect("query")
        .expect("the self-check");
    use sea_orm::{ActiveModelTrait, Set};
    let mut earlier: entity::response::ActiveModel = stored.into();
    earlier.submitted_at = Set(yesterday);
    earlier.update(&app.db).await.expect("backdated");
    // …and corrected this morning, after the supervisors were seen at the gate but before
    // they typed the visit in.
    says_toilets(&app, campaign, &school, "no").await;
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    toilets_found_short(&mut supervisor, campaign, school.id).await;
    let compared = supervisor
        .get(&format!("/console/schools/{}/self-checks", school.id))
        .await;
    let line = toilets_line(&compared.body);
    assert!(line.contains("核查时填报：达标（是）"), "{line}");
    assert!(line.contains("核查不符"), "{line}");
}
