//! The county's targets (`surveys/targets.toml`): key-village schools answer their self-checks
//! on phones, and the targets page, the county report and the API count exactly what a count
//! made here, from the answers sent, gives; the page is for supervisors and admins only.

use awc::http::StatusCode;
use dupin::accounts::Role;

use crate::api::answer_with;
use crate::helpers::{TestApp, catalog_survey, repo_path, spawn_app};

/// One school's self-check as sent: its canteen, its small kitchen and its preschool answers.
struct SelfCheck {
    code: String,
    key_village: bool,
    location: &'static str,
    canteen: &'static str,
    small_kitchen: &'static str,
    preschool: &'static str,
}

/// The codes of the sample county's key-village schools and of the others, from the fixture.
pub(crate) fn fixture_codes() -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(repo_path("tests/fixtures/schools/county.csv"))
        .expect("the sample schools");
    let (mut key, mut other) = (Vec::new(), Vec::new());
    for line in text.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        match fields[5] {
            "是" => key.push(fields[0].to_owned()),
            _ => other.push(fields[0].to_owned()),
        }
    }
    (key, other)
}

/// Targets as counted here, independently of dupin: (achieved, target) of the three shipped
/// targets, given the self-checks sent and the key-village schools of the county.
pub(crate) struct Expected {
    pub canteens: (usize, usize),
    pub kitchens: (usize, usize),
    pub preschool: (usize, usize),
    pub key_village_schools: usize,
    pub meeting_canteen: Vec<String>,
}

/// Starts a self-check campaign over the sample county and sends six key-village schools' and
/// one other school's self-checks; the other key-village schools send none.
pub(crate) async fn key_village_self_checks(app: &TestApp) -> Expected {
    let campaign = app.create_campaign("school", None, None).await;
    let (key, other) = fixture_codes();
    let sent = [
        (&key[0], true, "village", "model", "", "yes"),
        (&key[1], true, "village", "model", "", "no"),
        (&key[2], true, "village", "basic", "", "yes"),
        (&key[3], true, "teaching_point", "none", "yes", "yes"),
        (&key[4], true, "village", "none", "no", "yes"),
        // A county school is not asked about preschool: not applicable to that target.
        (&key[5], true, "county", "model", "", ""),
        (&other[0], false, "village", "model", "yes", "yes"),
    ]
    .map(
        |(code, key_village, location, canteen, small_kitchen, preschool)| SelfCheck {
            code: code.clone(),
            key_village,
            location,
            canteen,
            small_kitchen,
            preschool,
        },
    );
    let survey = catalog_survey("school");
    for school in &sent {
        let token = app.link_token(campaign, &school.code).await;
        let mut overrides = vec![
            ("school_location", school.location),
            ("canteen_standard", school.canteen),
        ];
        if !school.small_kitchen.is_empty() {
            overrides.push(("small_kitchen_improved", school.small_kitchen));
        }
        if !school.preschool.is_empty() {
            overrides.push(("preschool_three_year", school.preschool));
        }
        answer_with(app, &token, &survey, &overrides).await;
    }

    let in_key_village = || sent.iter().filter(|school| school.key_village);
    let count = |test: &dyn Fn(&SelfCheck) -> bool| in_key_village().filter(|s| test(s)).count();
    let asked_preschool = |school: &SelfCheck| school.location != "county";
    Expected {
        canteens: (count(&|s| s.canteen == "model"), 36),
        kitchens: (
            count(&|s| s.canteen == "none" && s.small_kitchen == "yes"),
            14,
        ),
        preschool: (
            count(&|s| asked_preschool(s) && s.preschool == "yes"),
            key.len() - count(&|s| !asked_preschool(s)),
        ),
        key_village_schools: key.len(),
        meeting_canteen: in_key_village()
            .filter(|s| s.canteen == "model")
            .map(|s| s.code.clone())
            .collect(),
    }
}

/// The row of one target on a page: from its id to the end of its table row.
fn target_row<'a>(body: &'a str, id: &str) -> &'a str {
    let start = body
        .find(&format!("<tr id=\"target-{id}\">"))
        .unwrap_or_else(|| panic!("the page shows target {id}:\n{body}"));
    let rest = &body[start..];
    &rest[..rest.find("</tr>").unwrap_or(rest.len())]
}

#[actix_web::test]
async fn the_targets_page_counts_what_an_independent_count_of_the_self_checks_gives() {
    let app = spawn_app().await;
    let expected = key_village_self_checks(&app).await;
    assert_eq!(expected.canteens, (3, 36));
    assert_eq!(expected.kitchens, (1, 14));
    assert_eq!(expected.preschool, (4, expected.key_village_schools - 1));

    let mut supervisor = app.signed_in(Role::Supervisor).await;
    let home = supervisor.get("/console/campaigns").await;
    assert!(
        home.body.contains("href=\"/console/targets\""),
        "the console's navigation links the targets"
    );
    let page = supervisor.get("/console/targets").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for (id, (achieved, target), every) in [
        ("key_village_model_canteens", expected.canteens, false),
        ("key_village_small_kitchens", expected.kitchens, false),
        ("key_village_preschool", expected.preschool, true),
    ] {
        let row = target_row(&page.body, id);
        let target = if every {
            format!("全部 {target} 所")
        } else {
            format!("{target} 所")
        };
        assert!(
            row.contains(&format!("{achieved} 所 / {target}")),
            "{id}: {row}"
        );
        let share = format!("{:.1}%", achieved as f64 / target_number(&target) * 100.0);
        assert!(row.contains(&share), "{id}: {share} in {row}");
    }
    assert!(page.body.contains("四（六）：60 个贫困村 36 所学校食堂"));
    // The schools meeting the canteen target are listed under it, and those not reported.
    let start = page
        .body
        .find("<h3 id=\"schools-key_village_model_canteens\">")
        .expect("the canteen target's schools");
    let canteens = &page.body[start..];
    let canteens = &canteens[..canteens[1..]
        .find("<h3 id=\"schools-")
        .map_or(canteens.len(), |next| next + 1)];
    for code in &expected.meeting_canteen {
        assert!(canteens.contains(code.as_str()), "{code} in {canteens}");
    }
    assert!(
        canteens.contains("未提交自评表</strong>（5 所）"),
        "{canteens}"
    );

    let report = supervisor.get("/console/reports/county").await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    assert!(report.body.contains("县级目标完成情况"));
    assert!(
        target_row(&report.body, "key_village_model_canteens").contains("3 所 / 36 所"),
        "the county report counts as the page does"
    );
}

fn target_number(text: &str) -> f64 {
    text.trim_start_matches("全部 ")
        .trim_end_matches(" 所")
        .parse()
        .expect("a number of schools")
}

#[actix_web::test]
async fn a_school_viewer_may_not_see_the_targets_and_a_visitor_is_sent_to_sign_in() {
    let app = spawn_app().await;
    let mut viewer = app.signed_in(Role::School).await;
    assert_eq!(
        viewer.get("/console/targets").await.status,
        StatusCode::FORBIDDEN
    );
    let page = app.browser().get("/console/targets").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location
            .as_deref()
            .is_some_and(|to| to.starts_with("/console/login")),
        "{:?}",
        page.location
    );
    let mut admin = app.signed_in(Role::Admin).await;
    let page = admin.get("/console/targets").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("还没有学校自评活动"),
        "with no self-check campaign every school is not reported: {}",
        page.body
    );
}
