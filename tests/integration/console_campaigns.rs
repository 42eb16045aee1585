//! Campaigns in the console, as a supervisor and a school viewer use them: creating one from the
//! form for some schools, refusals that keep what was typed, live response rates, closing and
//! reopening by hand, editing, QR posters to print, and a school viewer's own page.

use std::time::{Duration, Instant};

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::campaigns;
use dupin::schools;

use crate::helpers::{
    Browser, Options, Page, TestApp, answers_for, catalog_survey, spawn_app, spawn_app_with,
};

const NEW: &str = "/console/campaigns/new";
/// 龙潭乡坳背教学点: eleven pupils, so three answers make a visible 27.3%.
const SMALL_SCHOOL: &str = "4521230020";
const SMALL_SCHOOL_NAME: &str = "龙潭乡坳背教学点";

/// Fills the new-campaign form with `fields` and submits it.
async fn submit_new(browser: &mut Browser, fields: &[(&str, &str)]) -> Page {
    browser.submit(NEW, NEW, fields).await
}

/// The id at the end of a redirect to a campaign's page.
fn campaign_id(page: &Page) -> i32 {
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    let location = page.location.as_deref().expect("a redirect");
    location
        .strip_prefix("/console/campaigns/")
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("not a campaign page: {location}"))
}

/// A campaign of the parents' test for every school, open now, made through the form.
async fn all_schools_campaign(app: &TestApp, browser: &mut Browser) -> i32 {
    if schools::count(&app.db).await.expect("count") == 0 {
        app.import_sample_schools().await;
    }
    let page = submit_new(
        browser,
        &[
            ("survey", "parents"),
            ("name", "2026 秋季家长满意度测评"),
            ("opens", ""),
            ("closes", ""),
            ("schools", "all"),
            ("expected", ""),
            ("status", "open"),
        ],
    )
    .await;
    campaign_id(&page)
}

/// The text of every cell of every body row of `<table class="{class}">`, tags stripped.
fn table_rows(html: &str, class: &str) -> Vec<Vec<String>> {
    let start = html
        .find(&format!("<table class=\"{class}\">"))
        .unwrap_or_else(|| panic!("no table {class}"));
    let table = &html[start..];
    let table = &table[..table.find("</table>").expect("the table ends")];
    let body = &table[table.find("<tbody>").expect("a body")..];
    body.split("<tr>")
        .skip(1)
        .map(|row| {
            row.split("<td")
                .skip(1)
                .map(|cell| {
                    let cell = &cell[cell.find('>').map_or(0, |end| end + 1)..];
                    let cell = &cell[..cell.find("</td>").unwrap_or(cell.len())];
                    strip_tags(cell).trim().to_owned()
                })
                .collect()
        })
        .collect()
}

fn strip_tags(html: &str) -> String {
    let mut text = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

fn number(cell: &str) -> i64 {
    cell.parse()
        .unwrap_or_else(|_| panic!("not a number: {cell:?}"))
}

/// Opens `path` on a phone until its body contains `text`: the public pages trust a link's
/// campaign from memory for up to five seconds.
async fn phone_sees(app: &TestApp, path: &str, text: &str) -> Page {
    let deadline = Instant::now() + Duration::from_secs(8);
    loop {
        let page = app.phone().get(path).await;
        if page.body.contains(text) || Instant::now() > deadline {
            return page;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[actix_web::test]
async fn anonymous_visitors_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let mut browser = app.browser();
    for path in [
        "/console/campaigns".to_owned(),
        NEW.to_owned(),
        format!("/console/campaigns/{campaign}"),
        format!("/console/campaigns/{campaign}/posters"),
        format!("/console/campaigns/{campaign}/posters/{SMALL_SCHOOL}"),
        "/console/my-school".to_owned(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            page.location,
            Some(format!("/console/login?next={path}")),
            "{path}"
        );
    }
    let page = browser
        .post(
            &format!("/console/campaigns/{campaign}/status"),
            &[("status", "closed")],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        campaigns::find(&app.db, campaign).await.expect("db").status,
        "open"
    );
}

#[actix_web::test]
async fn a_school_viewer_is_refused_supervisor_pages_and_other_schools_posters() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let mut viewer = app.signed_in(Role::School).await;
    let own = schools::list(&app.db).await.expect("schools").remove(0);
    for path in [
        "/console/campaigns".to_owned(),
        NEW.to_owned(),
        format!("/console/campaigns/{campaign}"),
        format!("/console/campaigns/{campaign}/edit"),
        format!("/console/campaigns/{campaign}/posters"),
        format!("/console/campaigns/{campaign}/posters?school={}", own.code),
        format!("/console/campaigns/{campaign}/posters/{SMALL_SCHOOL}"),
        format!("/console/campaigns/{campaign}/posters/0000000000"),
    ] {
        let page = viewer.get(&path).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{path}");
        assert!(page.body.contains("没有权限"), "{path}");
    }
    for (action, fields) in [
        (
            format!("/console/campaigns/{campaign}/status"),
            vec![("status", "closed")],
        ),
        (
            format!("/console/campaigns/{campaign}/edit"),
            vec![("name", "改名"), ("opens", ""), ("closes", "")],
        ),
        (
            NEW.to_owned(),
            vec![("survey", "parents"), ("name", "x"), ("schools", "all")],
        ),
    ] {
        let page = viewer.submit("/console/my-school", &action, &fields).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN, "{action}");
    }
    let stored = campaigns::find(&app.db, campaign).await.expect("db");
    assert_eq!(
        (stored.status.as_str(), stored.name.as_str()),
        ("open", "测试 parents")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM campaign").await, 1);

    // Their own school's poster they may print.
    let poster = viewer
        .get(&format!(
            "/console/campaigns/{campaign}/posters/{}",
            own.code
        ))
        .await;
    assert_eq!(poster.status, StatusCode::OK, "{}", poster.body);
    assert!(poster.body.contains(&own.name));
    assert_eq!(poster.body.matches("<section class=\"poster\">").count(), 1);
    assert!(poster.body.contains("← 返回本校调查"));
}

#[actix_web::test]
async fn a_supervisor_creates_a_draft_for_the_key_village_schools_only() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let form = browser.get(NEW).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    assert!(form.body.contains(&catalog_survey("parents").title));
    assert!(form.body.contains("type=\"datetime-local\""));
    assert!(form.body.contains("仅扶贫重点村学校"));

    let page = submit_new(
        &mut browser,
        &[
            ("survey", "parents"),
            ("name", "重点村家长测评"),
            ("opens", "2026-12-01T08:00"),
            ("closes", "2030-12-31T18:00"),
            ("schools", "key_villages"),
            ("expected", ""),
            ("status", "draft"),
        ],
    )
    .await;
    let id = campaign_id(&page);
    let key_villages = app
        .count("SELECT COUNT(*) FROM school WHERE is_key_village")
        .await;
    assert_eq!(key_villages, 11, "the fixture's key-village schools");
    let links = app.links(id).await;
    assert_eq!(links.len() as i64, key_villages);
    // Parents are expected from every pupil.
    let small = links
        .iter()
        .find(|link| link.code == SMALL_SCHOOL)
        .expect("a key-village school");
    assert_eq!(small.expected, 11);

    let stored = campaigns::find(&app.db, id).await.expect("db");
    assert_eq!(stored.status, "draft");
    assert_eq!(
        stored.opens_at.map(campaigns::display_time).as_deref(),
        Some("2026-12-01 08:00")
    );
    let audited = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'campaign_create' \
             AND detail LIKE 'campaign {id}: %survey parents, 11 schools%'"
        ))
        .await;
    assert_eq!(audited, 1);

    // A draft's link tells parents the survey has not started.
    let phone = phone_sees(&app, &format!("/s/{}", small.token), "还没有开始").await;
    assert!(phone.body.contains("还没有开始"), "{}", phone.body);

    let list = browser.get("/console/campaigns").await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(list.body.contains("重点村家长测评"));
    assert!(list.body.contains("草稿"));
    assert!(list.body.contains("0 / "));
}

#[actix_web::test]
async fn a_campaign_by_township_takes_those_schools_with_one_expected_number() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = submit_new(
        &mut browser,
        &[
            ("survey", "teachers"),
            ("name", "石门白沙教师问卷"),
            ("schools", "townships"),
            ("township", "石门镇"),
            ("township", "白沙乡"),
            ("expected", "50"),
            ("status", "open"),
        ],
    )
    .await;
    let id = campaign_id(&page);
    let links = app.links(id).await;
    let expected = app
        .count("SELECT COUNT(*) FROM school WHERE township IN ('石门镇', '白沙乡')")
        .await;
    assert_eq!(links.len() as i64, expected);
    assert!(
        links
            .iter()
            .all(|link| ["石门镇", "白沙乡"].contains(&link.township.as_str()))
    );
    assert!(links.iter().all(|link| link.expected == 50));

    // By kind, teachers are expected from each school's full-time teachers.
    let page = submit_new(
        &mut browser,
        &[
            ("survey", "teachers"),
            ("name", "教学点教师问卷"),
            ("schools", "kinds"),
            ("kind", "教学点"),
            ("status", "open"),
        ],
    )
    .await;
    let links = app.links(campaign_id(&page)).await;
    let teaching_points = app
        .count("SELECT COUNT(*) FROM school WHERE kind = '教学点'")
        .await;
    assert_eq!(links.len() as i64, teaching_points);
    let small = links
        .iter()
        .find(|link| link.code == SMALL_SCHOOL)
        .expect("a teaching point");
    assert_eq!(small.expected, 1);

    // By hand.
    let page = submit_new(
        &mut browser,
        &[
            ("survey", "school"),
            ("name", "两校自评"),
            ("schools", "codes"),
            ("school", "4521230001"),
            ("school", SMALL_SCHOOL),
            ("status", "open"),
        ],
    )
    .await;
    let links = app.links(campaign_id(&page)).await;
    let codes: Vec<&str> = links.iter().map(|link| link.code.as_str()).collect();
    assert_eq!(codes, ["4521230001", SMALL_SCHOOL]);
    assert!(links.iter().all(|link| link.expected == 1));
}

#[actix_web::test]
async fn a_refused_form_keeps_what_was_typed_and_says_what_is_wrong() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = submit_new(
        &mut browser,
        &[
            ("survey", "no-such-survey"),
            ("name", "  "),
            ("opens", "2026-12-02T08:00"),
            ("closes", "2026-12-01T08:00"),
            ("schools", "townships"),
            ("expected", "0"),
            ("status", "draft"),
        ],
    )
    .await;
    assert_eq!(
        page.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        page.body
    );
    for message in [
        "请选择一份问卷",
        "请填写活动名称",
        "截止时间必须晚于开始时间",
        "请至少选择一个乡镇",
        "请填写大于 0 的整数",
    ] {
        assert!(page.body.contains(message), "{message}");
    }
    assert!(page.body.contains("value=\"2026-12-02T08:00\""));
    assert!(page.body.contains("value=\"2026-12-01T08:00\""));
    assert!(page.body.contains("value=\"townships\" checked"));
    assert!(page.body.contains("value=\"draft\" checked"));
    assert!(page.body.contains("value=\"0\""));

    let page = submit_new(
        &mut browser,
        &[
            ("survey", "parents"),
            ("name", "手选学校"),
            ("opens", "tomorrow morning"),
            ("schools", "codes"),
            ("school", SMALL_SCHOOL),
            ("status", "open"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("无法识别这个时间"));
    assert!(page.body.contains("value=\"tomorrow morning\""));
    assert!(page.body.contains("value=\"手选学校\""));
    assert!(
        page.body
            .contains(&format!("value=\"{SMALL_SCHOOL}\" checked"))
    );
    assert!(page.body.contains("value=\"parents\" checked"));

    // A code no school has, as a stale page may send.
    let page = submit_new(
        &mut browser,
        &[
            ("survey", "parents"),
            ("name", "手选学校"),
            ("schools", "codes"),
            ("school", "9999999999"),
        ],
    )
    .await;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.body.contains("找不到这些学校：9999999999"));

    // A forged form is refused before anything is read.
    let forged = browser
        .post(
            NEW,
            &[
                ("_csrf", "forged"),
                ("survey", "parents"),
                ("name", "x"),
                ("schools", "all"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM campaign").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM campaign_link").await, 0);
}

#[actix_web::test]
async fn the_campaign_page_shows_live_rates_with_the_schools_furthest_behind_first() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let id = all_schools_campaign(&app, &mut browser).await;
    let path = format!("/console/campaigns/{id}");

    let page = browser.get(&path).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let rows = table_rows(&page.body, "schools");
    assert_eq!(rows.len(), 30);
    for row in &rows {
        assert_eq!(row[3], "0", "{row:?}");
        assert_eq!(row[5], "0.0%", "{row:?}");
    }
    let small = rows
        .iter()
        .find(|row| row[0] == SMALL_SCHOOL)
        .expect("the small school");
    assert_eq!(
        (small[1].as_str(), small[4].as_str()),
        (SMALL_SCHOOL_NAME, "11")
    );

    let survey = catalog_survey("parents");
    let token = app.link_token(id, SMALL_SCHOOL).await;
    for _ in 0..3 {
        let answered = app.phone().answer(&token, &survey).await;
        assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    }

    let page = browser.get(&path).await;
    let rows = table_rows(&page.body, "schools");
    let last = rows.last().expect("rows");
    assert_eq!(
        (
            last[0].as_str(),
            last[3].as_str(),
            last[4].as_str(),
            last[5].as_str()
        ),
        (SMALL_SCHOOL, "3", "11", "27.3%")
    );
    assert!(rows[..29].iter().all(|row| row[3] == "0"));
    assert!(page.body.contains("class=\"bar low\""));
    assert!(page.body.contains(&format!("/s/{token}/qr.png")));
    assert!(page.body.contains(&format!("/s/{token}/qr.svg")));
    assert!(page.body.contains(&format!("{}/s/{token}", app.base_url)));
    assert!(
        page.body
            .contains(&format!("/console/campaigns/{id}/posters/{SMALL_SCHOOL}"))
    );

    // Townships add up to the county, and the county to every pupil.
    let townships = table_rows(&page.body, "townships");
    let county = table_rows(&page.body, "county");
    let county = &county[0];
    let enrolment = app.count("SELECT SUM(enrolment) FROM school").await;
    assert_eq!(number(&county[1]), 30);
    assert_eq!(number(&county[2]), 3);
    assert_eq!(number(&county[3]), enrolment);
    assert_eq!(townships.len(), 6);
    let sum = |column: usize| {
        townships
            .iter()
            .map(|row| number(&row[column]))
            .sum::<i64>()
    };
    assert_eq!((sum(1), sum(2), sum(3)), (30, 3, enrolment));
    let longtan = townships
        .iter()
        .find(|row| row[0] == "龙潭乡")
        .expect("龙潭乡");
    assert_eq!(number(&longtan[2]), 3);
    assert_eq!(
        number(&longtan[3]),
        app.count("SELECT SUM(enrolment) FROM school WHERE township = '龙潭乡'")
            .await
    );

    // Other orders on request.
    let by_code = table_rows(
        &browser.get(&format!("{path}?sort=code")).await.body,
        "schools",
    );
    assert_eq!(by_code[0][0], "4521230001");
    let ahead = table_rows(
        &browser.get(&format!("{path}?sort=ahead")).await.body,
        "schools",
    );
    assert_eq!(ahead[0][0], SMALL_SCHOOL);
    let list = browser.get("/console/campaigns").await;
    assert!(list.body.contains(&format!("3 / {enrolment}")));

    assert_eq!(
        browser.get("/console/campaigns/9999").await.status,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn closing_by_hand_keeps_the_answers_and_shows_the_closed_page_until_reopened() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let id = all_schools_campaign(&app, &mut browser).await;
    let path = format!("/console/campaigns/{id}");
    let survey = catalog_survey("parents");
    let token = app.link_token(id, SMALL_SCHOOL).await;
    let answered = app.phone().answer(&token, &survey).await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER);
    // A parent opens the form before the campaign closes and submits after.
    let mut late = app.phone();
    let form = late.get(&format!("/s/{token}")).await;
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("a key")),
        ("_t".to_owned(), form.hidden("_t").expect("a time")),
    ];
    fields.extend(answers_for(&survey));

    let closed = browser
        .submit(&path, &format!("{path}/status"), &[("status", "closed")])
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    assert_eq!(closed.location.as_deref(), Some(path.as_str()));
    assert_eq!(
        campaigns::find(&app.db, id).await.expect("db").status,
        "closed"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'campaign_status' \
             AND detail = 'campaign {id}: open → closed'"
        ))
        .await,
        1
    );

    // Within the link cache's five seconds, every phone sees the polite closed page.
    let page = phone_sees(&app, &format!("/s/{token}"), "已经结束").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("已经结束"), "{}", page.body);
    let refused = late.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("没有被保存"));
    assert_eq!(app.responses().await, 1);

    let page = browser.get(&path).await;
    assert!(page.body.contains("已结束"));
    let small = table_rows(&page.body, "schools")
        .into_iter()
        .find(|row| row[0] == SMALL_SCHOOL)
        .expect("the school");
    assert_eq!(small[3], "1");

    // Reopened, the same late parent's answer is taken.
    let reopened = browser
        .submit(&path, &format!("{path}/status"), &[("status", "open")])
        .await;
    assert_eq!(reopened.status, StatusCode::SEE_OTHER);
    let page = phone_sees(&app, &format!("/s/{token}"), "name=\"_key\"").await;
    assert!(page.body.contains("name=\"_key\""), "{}", page.body);
    let stored = late.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(stored.status, StatusCode::SEE_OTHER, "{}", stored.body);
    assert_eq!(app.responses().await, 2);

    // A forged or unknown status changes nothing.
    let forged = browser
        .post(
            &format!("{path}/status"),
            &[("_csrf", "forged"), ("status", "closed")],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    let unknown = browser
        .submit(&path, &format!("{path}/status"), &[("status", "deleted")])
        .await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        campaigns::find(&app.db, id).await.expect("db").status,
        "open"
    );
}

#[actix_web::test]
async fn editing_changes_the_name_and_dates_and_is_audited() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let id = all_schools_campaign(&app, &mut browser).await;
    let edit = format!("/console/campaigns/{id}/edit");
    let form = browser.get(&edit).await;
    assert_eq!(form.status, StatusCode::OK);
    assert!(form.body.contains("value=\"2026 秋季家长满意度测评\""));

    let refused = browser
        .submit(
            &edit,
            &edit,
            &[
                ("name", "新名称"),
                ("opens", "2026-12-05T08:00"),
                ("closes", "2026-12-01T08:00"),
            ],
        )
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(refused.body.contains("截止时间必须晚于开始时间"));
    assert!(refused.body.contains("value=\"新名称\""));
    assert!(refused.body.contains("value=\"2026-12-05T08:00\""));

    let saved = browser
        .submit(
            &edit,
            &edit,
            &[
                ("name", "新名称"),
                ("opens", ""),
                ("closes", "2030-06-30T18:00"),
            ],
        )
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{}", saved.body);
    let stored = campaigns::find(&app.db, id).await.expect("db");
    assert_eq!(stored.name, "新名称");
    assert_eq!(
        stored.closes_at.map(campaigns::display_time).as_deref(),
        Some("2030-06-30 18:00")
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_event WHERE action = 'campaign_edit' \
             AND detail LIKE 'campaign {id}: name%新名称%closes - → 2030-06-30 18:00'"
        ))
        .await,
        1
    );
    let form = browser.get(&edit).await;
    assert!(form.body.contains("value=\"2030-06-30T18:00\""));
}

#[actix_web::test]
async fn posters_print_one_a4_page_per_school_with_the_public_address() {
    let app = spawn_app_with(Options {
        base_url: Some("https://dupin.example.cn".to_owned()),
        ..Options::default()
    })
    .await;
    let id = app
        .create_campaign("parents", None, Some("2030-12-31 18:00"))
        .await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .get(&format!("/console/campaigns/{id}/posters"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let links = app.links(id).await;
    assert_eq!(links.len(), 30);
    assert_eq!(page.body.matches("<section class=\"poster\">").count(), 30);
    assert_eq!(page.body.matches("<svg").count(), 30);
    assert!(!page.body.contains("<?xml"));
    for link in &links {
        assert!(page.body.contains(&link.name), "{}", link.name);
        assert!(
            page.body
                .contains(&format!("https://dupin.example.cn/s/{}", link.token)),
            "{}",
            link.code
        );
    }
    assert!(page.body.contains("break-after: page"));
    assert!(page.body.contains("@page { size: A4; margin: 12mm }"));
    assert!(page.body.contains("请家长用手机微信扫描"));
    assert!(page.body.contains("请于 2030-12-31 18:00 前填写完毕"));
    assert!(page.body.contains("打印"));
    // Nothing to load from elsewhere: printing needs the page alone.
    assert!(!page.body.contains("src=\"http"));
    assert!(!page.body.contains("<script"));

    let township = browser
        .get(&format!(
            "/console/campaigns/{id}/posters?township={}",
            dupin::web::console::percent_encode("石门镇")
        ))
        .await;
    assert_eq!(
        township.body.matches("<section class=\"poster\">").count(),
        5
    );
    let one = browser
        .get(&format!("/console/campaigns/{id}/posters/{SMALL_SCHOOL}"))
        .await;
    assert_eq!(one.status, StatusCode::OK);
    assert_eq!(one.body.matches("<section class=\"poster\">").count(), 1);
    assert!(one.body.contains(SMALL_SCHOOL_NAME));
    assert_eq!(
        browser
            .get(&format!("/console/campaigns/{id}/posters/0000000000"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    // Without a closing date, the poster asks for an answer soon; teachers are asked as teachers.
    let teachers = app.create_campaign("teachers", None, None).await;
    let page = browser
        .get(&format!(
            "/console/campaigns/{teachers}/posters/{SMALL_SCHOOL}"
        ))
        .await;
    assert!(page.body.contains("请尽快填写"));
    assert!(page.body.contains("请各位老师"));
}

#[actix_web::test]
async fn a_school_viewer_sees_only_their_own_school() {
    let app = spawn_app().await;
    let id = app.create_campaign("parents", None, None).await;
    let mut viewer = app.signed_in(Role::School).await;
    let all = schools::list(&app.db).await.expect("schools");
    let own = &all[0];
    let links = app.links(id).await;
    let own_token = &links
        .iter()
        .find(|link| link.code == own.code)
        .expect("own link")
        .token;

    let page = viewer.get("/console/my-school").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(page.body.contains(&own.name));
    assert!(page.body.contains(&format!("/s/{own_token}/qr.png")));
    assert!(page.body.contains(&format!("/s/{own_token}/qr.svg")));
    assert!(
        page.body
            .contains(&format!("{}/s/{own_token}", app.base_url))
    );
    assert!(
        page.body
            .contains(&format!("/console/campaigns/{id}/posters/{}", own.code))
    );
    assert!(page.body.contains("测试 parents"));
    for other in all.iter().skip(1) {
        assert!(!page.body.contains(&other.name), "{}", other.name);
    }
    for link in links.iter().filter(|link| link.code != own.code) {
        assert!(!page.body.contains(&link.token));
    }
    // Asking for another school by query changes nothing for a school viewer.
    let page = viewer
        .get(&format!("/console/my-school?school={SMALL_SCHOOL}"))
        .await;
    assert!(!page.body.contains(SMALL_SCHOOL_NAME));
    assert!(page.body.contains(&own.name));

    // A supervisor may look at any school's page.
    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let page = supervisor
        .get(&format!("/console/my-school?school={SMALL_SCHOOL}"))
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains(&format!("本校调查 · {SMALL_SCHOOL_NAME}"))
    );
    let small_token = app.link_token(id, SMALL_SCHOOL).await;
    assert!(page.body.contains(&format!("/s/{small_token}/qr.png")));
}
