//! Teachers stay anonymous under every view (issue 12, part 3): a school with fewer than 5
//! teachers' answers counts in no figure, so no two views the console or the API will show —
//! the county, a township, a kind, key villages, a school, an export — differ by fewer than 5
//! answers; a teachers' survey is never narrowed to dates; the trend leaves out points under 5;
//! and the answers export lists no teacher's answer with an id or a time.

use awc::http::StatusCode;
use dupin::accounts::Role;
use serde_json::Value;

use crate::helpers::{TestApp, answers_for, catalog_survey, spawn_app};

async fn answer_times(app: &TestApp, token: &str, count: usize) {
    let survey = catalog_survey("teachers");
    for _ in 0..count {
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
}

/// The API's answer to `path`: its status and, when 200, how many answers the view counts.
async fn responses_of(app: &TestApp, token: &str, path: &str) -> (StatusCode, Option<u64>) {
    let mut response = awc::Client::default()
        .get(format!("{}{path}", app.address))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send()
        .await
        .expect("a response");
    let status = response.status();
    let body: Value = response.json().limit(64 << 20).await.expect("JSON");
    (status, body["responses"].as_u64())
}

#[actix_web::test]
async fn no_two_views_of_a_teachers_survey_differ_by_fewer_than_five_answers() {
    let app = spawn_app().await;
    let campaign = app.create_campaign("teachers", None, None).await;
    let links = app.links(campaign).await;
    let by_code = |code: &str| {
        links
            .iter()
            .find(|link| link.code == code)
            .expect("a link")
            .token
            .clone()
    };
    // 青溪镇: one school of 3 answers (hidden), one of 6, one of 1 (hidden); 石门镇: one of 5.
    answer_times(&app, &by_code("4521230001"), 3).await;
    answer_times(&app, &by_code("4521230003"), 6).await;
    answer_times(&app, &by_code("4521230006"), 1).await;
    answer_times(&app, &by_code("4521230007"), 5).await;

    let token = app.api_token().await;
    let base = format!("/api/v1/campaigns/{campaign}/results");
    let schools = dupin::schools::list(&app.db).await.expect("schools");
    // Each school alone: withheld below 5, else its own count.
    let mut own: std::collections::HashMap<i32, u64> = std::collections::HashMap::new();
    for school in &schools {
        match responses_of(&app, &token, &format!("{base}?school={}", school.id)).await {
            (StatusCode::OK, Some(n)) => {
                assert!(n >= 5, "{} shown with {n}", school.code);
                own.insert(school.id, n);
            }
            (StatusCode::FORBIDDEN, _) => {}
            (status, n) => panic!("{}: {status} {n:?}", school.code),
        }
    }
    assert_eq!(own.len(), 2, "{own:?}");
    // Every wider view is exactly the sum of the shown schools it covers: a union of whole
    // schools of 5 answers or more, so one view minus another it contains is again such a union
    // and never isolates fewer than 5 teachers.
    let encode = |text: &str| {
        percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
    };
    type Holds = Box<dyn Fn(&entity::school::Model) -> bool>;
    let mut views: Vec<(String, Holds)> = vec![(base.clone(), Box::new(|_| true))];
    for township in ["青溪镇", "石门镇"] {
        views.push((
            format!("{base}?township={}", encode(township)),
            Box::new(move |school| school.township == township),
        ));
    }
    for kind in ["小学", "高中", "初中"] {
        views.push((
            format!("{base}?kind={}", encode(kind)),
            Box::new(move |school| school.kind == kind),
        ));
    }
    for (flag, key_village) in [("yes", true), ("no", false)] {
        views.push((
            format!("{base}?key_village={flag}"),
            Box::new(move |school| school.is_key_village == key_village),
        ));
    }
    for (view, holds) in &views {
        let covered: u64 = schools
            .iter()
            .filter(|school| holds(school))
            .filter_map(|school| own.get(&school.id))
            .sum();
        match responses_of(&app, &token, view).await {
            (StatusCode::OK, Some(n)) => assert_eq!(n, covered, "{view}"),
            (StatusCode::FORBIDDEN, _) => assert!(covered == 0 || view == &base, "{view}"),
            (status, n) => panic!("{view}: {status} {n:?}"),
        }
    }
    // The county counts the schools of 6 and 5; the hidden ones nowhere.
    assert_eq!(responses_of(&app, &token, &base).await.1, Some(11));
    // The township with a hidden school counts only its school of 6.
    let township = format!(
        "{base}?township={}",
        percent_encoding::utf8_percent_encode("青溪镇", percent_encoding::NON_ALPHANUMERIC)
    );
    assert_eq!(responses_of(&app, &token, &township).await.1, Some(6));

    // The aggregates export has exactly the schools that count, adding up to the county.
    let mut browser = app.signed_in(Role::Supervisor).await;
    let aggregates = browser
        .download(&format!(
            "/console/campaigns/{campaign}/export.csv?what=aggregates"
        ))
        .await;
    let text = String::from_utf8_lossy(&aggregates.body).into_owned();
    for hidden in ["4521230001", "4521230006"] {
        assert!(!text.contains(hidden), "{hidden} in {text}");
    }
    for counted in ["4521230003", "4521230007"] {
        assert!(text.contains(counted), "{counted} missing from {text}");
    }

    // The quality page lists no teacher's answer one by one (no time, no id, no school of
    // fewer than 5): it counts them, and moves them in bulk.
    let quality = browser
        .get(&format!("/console/campaigns/{campaign}/quality"))
        .await;
    assert_eq!(quality.status, StatusCode::OK);
    assert!(
        quality.body.contains("教师问卷的答卷不逐份列出"),
        "{}",
        quality.body
    );
    assert!(!quality.body.contains("查看答卷内容"), "{}", quality.body);
    assert!(
        !quality.body.contains("name=\"response\""),
        "{}",
        quality.body
    );
    for hidden in ["4521230001", "4521230006"] {
        assert!(
            !quality.body.contains(hidden),
            "{hidden} named on the quality page"
        );
    }
    let one_hidden = dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .into_iter()
        .find(|school| school.code == "4521230001")
        .expect("the school of 3")
        .id
        .to_string();
    let refused = browser
        .submit(
            &format!("/console/campaigns/{campaign}/quality"),
            &format!("/console/campaigns/{campaign}/quality/bulk"),
            &[("action", "exclude"), ("school", &one_hidden)],
        )
        .await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(
        refused.body.contains("答卷太少不单独显示"),
        "{}",
        refused.body
    );

    // Dates never narrow a teachers' survey, in the console either.
    let today = chrono::Utc::now()
        .with_timezone(&dupin::campaigns::china_offset())
        .date_naive();
    let dated = browser
        .get(&format!(
            "/console/campaigns/{campaign}/results?from={today}&to={today}"
        ))
        .await;
    assert_eq!(dated.status, StatusCode::BAD_REQUEST);
    assert!(
        dated.body.contains("教师问卷不按日期筛选"),
        "{}",
        dated.body
    );
}

#[actix_web::test]
async fn the_trend_of_a_teachers_survey_leaves_out_points_under_five() {
    let app = spawn_app().await;
    let first = app.create_campaign("teachers", None, None).await;
    let second = app.create_campaign("teachers", None, None).await;
    let token_of = |links: &[dupin::campaigns::LinkRow]| {
        links
            .iter()
            .find(|link| link.code == "4521230003")
            .expect("the school")
            .token
            .clone()
    };
    answer_times(&app, &token_of(&app.links(first).await), 3).await;
    answer_times(&app, &token_of(&app.links(second).await), 6).await;
    let school = dupin::schools::list(&app.db)
        .await
        .expect("schools")
        .into_iter()
        .find(|school| school.code == "4521230003")
        .expect("the school");
    let browser = app.signed_in(Role::Supervisor).await;
    let trend = browser
        .download(&format!(
            "/console/campaigns/{second}/charts/trend.svg?school={}",
            school.id
        ))
        .await;
    let svg = String::from_utf8_lossy(&trend.body).into_owned();
    assert!(svg.contains("n = 6"), "{svg}");
    assert!(
        !svg.contains("n = 3"),
        "the first campaign's three answers show: {svg}"
    );
}
