//! The results page: exact counts, percentages and satisfaction rates from answers given over
//! HTTP, the filter by school, the indicators of a self-check per school with the roll-up, and
//! who may open it.

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::survey::{QuestionKind, Survey};

use crate::helpers::{Page, Phone, TestApp, answers_for, catalog_survey, spawn_app};

/// Opens the link on a new phone and submits every question as `answers_for` does, except the
/// questions of `overrides`, answered as given.
async fn answer_with(app: &TestApp, token: &str, survey: &Survey, overrides: &[(&str, &str)]) {
    let mut phone: Phone = app.phone();
    let form = phone.get(&format!("/s/{token}")).await;
    assert_eq!(form.status, StatusCode::OK, "{}", form.body);
    let mut fields = vec![
        ("_key".to_owned(), form.hidden("_key").expect("a key")),
        ("_t".to_owned(), form.hidden("_t").expect("a time")),
    ];
    for (name, value) in answers_for(survey) {
        match overrides.iter().find(|(question, _)| *question == name) {
            Some((_, given)) => fields.push((name, (*given).to_owned())),
            None => fields.push((name, value)),
        }
    }
    let page = phone.post_form(&format!("/s/{token}"), &fields).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
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

#[actix_web::test]
async fn the_results_page_shows_exact_counts_rates_and_narrows_to_one_school() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let (first, second) = (&links[0], &links[1]);
    let survey = catalog_survey("parents");
    let question = survey.question("meals_quality").expect("a meals question");
    let QuestionKind::Scale { scale } = &question.kind else {
        panic!("meals_quality is a scale");
    };
    let points = &scale.points;
    assert!(points[0].satisfied && points[1].satisfied && !points[3].satisfied);

    // The first school: three very satisfied and one not; the second: two satisfied.
    for code in [
        &points[0].code,
        &points[0].code,
        &points[0].code,
        &points[3].code,
    ] {
        answer_with(&app, &first.token, &survey, &[("meals_quality", code)]).await;
    }
    for _ in 0..2 {
        answer_with(
            &app,
            &second.token,
            &survey,
            &[("meals_quality", &points[1].code)],
        )
        .await;
    }

    let mut browser = app.signed_in(Role::Supervisor).await;
    let show = browser.get(&format!("/console/campaigns/{campaign}")).await;
    assert!(
        show.body
            .contains(&format!("/console/campaigns/{campaign}/results\">查看结果"))
    );

    let page = browser
        .get(&format!("/console/campaigns/{campaign}/results"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let panel = question_panel(&page, &question.text);
    assert!(panel.contains("n = 6"), "{panel}");
    assert!(
        panel.contains(&option_row(&points[0].label, 3, "50.0%")),
        "{panel}"
    );
    assert!(
        panel.contains(&option_row(&points[1].label, 2, "33.3%")),
        "{panel}"
    );
    assert!(
        panel.contains(&option_row(&points[2].label, 0, "0.0%")),
        "{panel}"
    );
    assert!(
        panel.contains(&option_row(&points[3].label, 1, "16.7%")),
        "{panel}"
    );
    // The county's parents are its pupils: 6 of them answered (surveys/METHOD.md, population).
    let codes: Vec<&str> = links.iter().map(|link| link.code.as_str()).collect();
    let pupils: i64 = dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .iter()
        .filter(|school| codes.contains(&school.code.as_str()))
        .map(|school| i64::from(school.enrolment))
        .sum();
    let fpc = dupin::rating::stats::finite_population_factor(6, u64::try_from(pupils).ok());
    let wilson = dupin::rating::stats::wilson_interval(5, 6, fpc).expect("an interval");
    let rate = format!(
        "83.3%（95% 区间 {:.1}%–{:.1}%，n = 6）",
        wilson.low * 100.0,
        wilson.high * 100.0
    );
    // Handlebars escapes `=` in values; the browser shows it as written.
    assert!(
        panel.replace("&#x3D;", "=").contains(&rate),
        "{rate} in {panel}"
    );
    assert!(
        panel.contains("答卷太少"),
        "6 answers are below the plan's 30"
    );

    let schools = dupin::schools::list(&app.db).await.expect("schools");
    let first_school = schools
        .iter()
        .find(|school| school.code == first.code)
        .expect("the first school");
    let page = browser
        .get(&format!(
            "/console/campaigns/{campaign}/results?school={}&township=&kind=&key_village=",
            first_school.id
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let panel = question_panel(&page, &question.text);
    assert!(panel.contains("n = 4"), "{panel}");
    assert!(
        panel.contains(&option_row(&points[0].label, 3, "75.0%")),
        "{panel}"
    );
    assert!(
        panel.contains(&option_row(&points[1].label, 0, "0.0%")),
        "{panel}"
    );
    assert!(
        panel.contains(&option_row(&points[3].label, 1, "25.0%")),
        "{panel}"
    );
    assert!(
        page.body.contains("统计范围：1 所学校，4 份答卷"),
        "{}",
        page.body
    );
    assert!(page.body.contains("答卷太少，暂不评定"));

    // Neither school is in a key village: the filter leaves no answers.
    let page = browser
        .get(&format!(
            "/console/campaigns/{campaign}/results?key_village=yes"
        ))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    let panel = question_panel(&page, &question.text);
    assert!(panel.contains("n = 0"), "{panel}");
    assert!(
        panel.contains(&option_row(&points[0].label, 0, "—")),
        "{panel}"
    );

    let bad = browser
        .get(&format!(
            "/console/campaigns/{campaign}/results?kind=%E5%A4%A7%E5%AD%A6"
        ))
        .await;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    let missing = browser.get("/console/campaigns/9999/results").await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_self_check_campaign_shows_each_schools_indicators_and_the_roll_up() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("school", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("school");
    answer_with(
        &app,
        &links[0].token,
        &survey,
        &[("teachers_fulltime", "100"), ("teachers_college", "80")],
    )
    .await;
    answer_with(
        &app,
        &links[1].token,
        &survey,
        &[("teachers_fulltime", "100"), ("teachers_college", "70")],
    )
    .await;

    let mut browser = app.signed_in(Role::Supervisor).await;
    let page = browser
        .get(&format!("/console/campaigns/{campaign}/results"))
        .await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body
            .contains(&format!("已提交自评表：2 / {} 所学校", links.len())),
        "{}",
        page.body
    );
    let roll_up_start = page
        .body
        .find("<td>专任教师专科及以上学历比例</td>")
        .expect("the qualified-teacher indicator");
    let roll_up = &page.body[roll_up_start..];
    let roll_up = &roll_up[..roll_up.find("</tr>").unwrap_or(roll_up.len())];
    assert!(roll_up.contains("≥ 75%"), "{roll_up}");
    assert!(
        roll_up.contains("<td class=\"num\">1</td><td class=\"num\">1</td>"),
        "one school meets it and one does not: {roll_up}"
    );

    let school_panel = |code: &str| {
        let start = page
            .body
            .find(&format!("<strong>{code} "))
            .expect("the school");
        let rest = &page.body[start..];
        rest[..rest.find("</div>").unwrap_or(rest.len())].to_owned()
    };
    let met = school_panel(&links[0].code);
    assert!(
        met.contains("<td>达标</td><td>80%</td><td>≥ 75%</td>"),
        "{met}"
    );
    let missed = school_panel(&links[1].code);
    assert!(
        missed.contains("<td>未达标</td><td>70%</td><td>≥ 75%</td>"),
        "{missed}"
    );
    let absent = school_panel(&links[2].code);
    assert!(absent.contains("未提交自评表"), "{absent}");

    // Filtered to the second school, only its self-check is counted.
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    let second = schools
        .iter()
        .find(|school| school.code == links[1].code)
        .expect("the second school");
    let page = browser
        .get(&format!(
            "/console/campaigns/{campaign}/results?school={}",
            second.id
        ))
        .await;
    assert!(
        page.body.contains("已提交自评表：1 / 1 所学校"),
        "{}",
        page.body
    );
    assert!(!page.body.contains(&format!("<strong>{} ", links[0].code)));
}

#[actix_web::test]
async fn only_supervisors_see_results_and_anonymous_visitors_are_sent_to_sign_in() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let path = format!("/console/campaigns/{campaign}/results");

    let mut anonymous = app.browser();
    let page = anonymous.get(&path).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert!(
        page.location
            .as_deref()
            .is_some_and(|location| location.starts_with("/console/login?next=")),
        "{:?}",
        page.location
    );

    let mut viewer = app.signed_in(Role::School).await;
    assert_eq!(viewer.get(&path).await.status, StatusCode::FORBIDDEN);

    let mut admin = app.signed_in(Role::Admin).await;
    assert_eq!(admin.get(&path).await.status, StatusCode::OK);
}

#[actix_web::test]
async fn the_overall_assessment_rates_schools_from_the_latest_campaigns() {
    let app = spawn_app().await;
    let mut browser = app.signed_in(Role::Supervisor).await;
    let empty = browser.get("/console/assessment").await;
    assert_eq!(empty.status, StatusCode::OK, "{}", empty.body);
    assert!(empty.body.contains("还没有可用于评估的调查活动"));

    let campaign = app.create_campaign("school", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("school");
    answer_with(&app, &links[0].token, &survey, &[]).await;

    let page = browser.get("/console/assessment").await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert!(
        page.body.contains(&format!(
            "/console/campaigns/{campaign}/results\">测试 school"
        )),
        "{}",
        page.body
    );
    let row = |code: &str| {
        let start = page
            .body
            .find(&format!("<tr><td>{code}</td>"))
            .expect("the school's row");
        let rest = &page.body[start..];
        rest[..rest.find("</tr>").unwrap_or(rest.len())].to_owned()
    };
    let submitted = row(&links[0].code);
    assert!(submitted.contains("学校自评指标 1 / 1"), "{submitted}");
    assert!(!submitted.contains("答卷太少"), "{submitted}");
    // A school that did not send its self-check is told so, not that it answered too little.
    let silent = row(&links[1].code);
    assert!(silent.contains("未提交自评表，暂不评定"), "{silent}");
    assert!(page.body.contains("已评定 1 所学校"), "{}", page.body);

    let mut viewer = app.signed_in(Role::School).await;
    assert_eq!(
        viewer.get("/console/assessment").await.status,
        StatusCode::FORBIDDEN
    );
    let mut anonymous = app.browser();
    assert_eq!(
        anonymous.get("/console/assessment").await.status,
        StatusCode::SEE_OTHER
    );
}

/// The figures a statistician recomputes from METHOD.md, the plan files, the answers export and
/// the API alone (`tests/recompute.py`), to 1e-9. SKIPPED without python3 (3.11, for tomllib).
#[actix_web::test]
async fn a_statistician_recomputes_every_figure_from_the_method_the_export_and_the_api() {
    let python = std::process::Command::new("python3")
        .args(["-c", "import tomllib"])
        .status();
    if !python.is_ok_and(|status| status.success()) {
        eprintln!("SKIPPED: python3 with tomllib is not installed");
        return;
    }
    let app = spawn_app().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let links = app.links(campaign).await;
    let survey = catalog_survey("parents");
    // Varied answers over three schools: scales on every point, 不清楚-free conditionals shown
    // to some (poor households, left-behind children), skipped by others.
    let points = ["5", "4", "3", "2", "1"];
    for (index, link) in links.iter().take(3).enumerate() {
        for answer in 0..(4 + index * 3) {
            let pick = |offset: usize| points[(answer * 7 + offset * 3 + index) % 5];
            let poor = if answer % 3 == 0 { "yes" } else { "no" };
            let left_behind = if answer % 2 == 0 { "yes" } else { "no" };
            let overrides = [
                ("meals_quality", pick(0)),
                ("canteen_hygiene", pick(1)),
                ("teacher_care", pick(2)),
                ("teaching_quality", pick(3)),
                ("school_conditions", pick(4)),
                ("overall_satisfaction", pick(5)),
                ("fairness", pick(6)),
                ("funding_satisfaction", pick(7)),
                ("poor_household", poor),
                ("left_behind", left_behind),
                ("left_behind_care", pick(8)),
            ];
            answer_with(&app, &link.token, &survey, &overrides).await;
        }
    }
    let admin = app
        .account("statistician@county.edu.cn", Role::Admin, None)
        .await;
    // One answer excluded by a supervisor: it must count nowhere (nor appear in the export).
    use sea_orm::{ConnectionTrait, EntityTrait, QueryOrder};
    let first = entity::response::Entity::find()
        .order_by_asc(entity::response::Column::Id)
        .one(&app.db)
        .await
        .expect("a read")
        .expect("an answer");
    assert!(
        dupin::quality::set_excluded(
            &app.context(),
            dupin::change::Actor::Account(&admin),
            campaign,
            first.id,
            true
        )
        .await
        .expect("excluded")
    );
    // Half the answers moved to yesterday (China time), for a date filter.
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .with_timezone(&dupin::campaigns::china_offset())
        .date_naive();
    let moved = chrono::Utc::now() - chrono::Duration::days(1);
    app.db
        .execute_raw(sea_orm::Statement::from_sql_and_values(
            app.db.get_database_backend(),
            match app.db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "UPDATE response SET submitted_at = $1 WHERE id % 2 = 0"
                }
                _ => "UPDATE response SET submitted_at = ? WHERE id % 2 = 0",
            },
            [moved.into()],
        ))
        .await
        .expect("moved");
    let token = dupin::api_tokens::issue(&app.context(), &admin, "重算")
        .await
        .expect("a token")
        .token;
    let work = tempfile::tempdir().expect("a folder");
    let client = awc::Client::default();
    let fetch = |path: String| {
        let client = client.clone();
        let url = format!("{}{path}", app.address);
        let token = token.clone();
        async move {
            let mut response = client
                .get(url)
                .insert_header(("Authorization", format!("Bearer {token}")))
                .send()
                .await
                .expect("an answer");
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            response.body().limit(50_000_000).await.expect("a body")
        }
    };
    std::fs::write(
        work.path().join("results.json"),
        fetch(format!("/api/v1/campaigns/{campaign}/results")).await,
    )
    .expect("written");
    std::fs::write(
        work.path().join("schools.json"),
        fetch("/api/v1/schools".to_owned()).await,
    )
    .expect("written");
    std::fs::write(
        work.path().join(format!("day-{yesterday}.json")),
        fetch(format!(
            "/api/v1/campaigns/{campaign}/results?from={yesterday}&to={yesterday}"
        ))
        .await,
    )
    .expect("written");
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    for link in links.iter().take(3) {
        let id = schools
            .iter()
            .find(|school| school.code == link.code)
            .expect("the school")
            .id;
        std::fs::write(
            work.path().join(format!("school-{id}.json")),
            fetch(format!("/api/v1/campaigns/{campaign}/results?school={id}")).await,
        )
        .expect("written");
    }
    let mut browser = app.signed_in(Role::Supervisor).await;
    let export = browser
        .get(&format!("/console/campaigns/{campaign}/export.csv?codes=1"))
        .await;
    assert_eq!(export.status, StatusCode::OK);
    std::fs::write(work.path().join("answers.csv"), export.body).expect("written");

    let output = std::process::Command::new("python3")
        .arg(crate::helpers::repo_path("tests/recompute.py"))
        .arg(crate::helpers::repo_path("surveys"))
        .arg(work.path())
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    let said = String::from_utf8_lossy(&output.stdout);
    eprintln!("{said}");
    assert!(said.contains("recomputed"), "{said}");
}
