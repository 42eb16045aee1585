//! `dupin demo` as a newcomer runs it: the real binary builds the county in its own database,
//! says how to sign in, leaves the installation's database alone, and the result serves pages
//! with ratings, failing indicators, flagged answers and small teacher groups. The county is
//! built once per test run ([`demo`]) and shared with the SPSS export's tests.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Statement};

use crate::cli::{Run, Terminal};
use crate::helpers::browser_at;

/// A debug build is several times slower than the release build the README times.
const DEMO_PATIENCE: Duration = Duration::from_secs(300);

/// The county built by `dupin demo`, once for every test that reads it.
pub(crate) struct BuiltDemo {
    pub(crate) terminal: Terminal,
    pub(crate) url: String,
    pub(crate) run: Run,
    pub(crate) seconds: f64,
}

pub(crate) fn demo() -> &'static BuiltDemo {
    static DEMO: OnceLock<BuiltDemo> = OnceLock::new();
    DEMO.get_or_init(|| {
        let terminal = Terminal::new();
        let url = format!("sqlite://{}/demo.sqlite3", terminal.folder().display());
        let started = Instant::now();
        let run = terminal.run_patiently(&["demo", "--demo-database", &url], DEMO_PATIENCE);
        let seconds = started.elapsed().as_secs_f64();
        BuiltDemo {
            terminal,
            url,
            run,
            seconds,
        }
    })
}

pub(crate) async fn query_i64(url: &str, sql: &str) -> i64 {
    let db = dupin::db::connect(url).await.expect("the demo database");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .expect("a row");
    let value = row
        .try_get_by_index::<i64>(0)
        .or_else(|_| row.try_get_by_index::<f64>(0).map(|v| v as i64))
        .expect("a number");
    db.close().await.ok();
    value
}

fn printed_password(run: &Run) -> String {
    run.stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix("password:"))
        .map(|password| password.trim().to_owned())
        .unwrap_or_else(|| panic!("no password printed: {run:#?}"))
}

#[actix_web::test]
async fn demo_builds_a_plausible_county_in_its_own_database_and_says_how_to_sign_in() {
    let demo = demo();
    demo.run.succeeded();
    println!("dupin demo (debug build) took {:.1} s", demo.seconds);
    let out = &demo.run.stdout;
    assert!(out.contains(&demo.url), "says which database: {out}");
    assert!(out.contains("admin@demo.invalid"), "{out}");
    assert!(out.contains("/console"), "{out}");
    assert!(!printed_password(&demo.run).is_empty());
    // The terminal's own DATABASE_URL was never opened.
    let real = demo.terminal.folder().join("dupin.sqlite3");
    assert!(!real.exists(), "the real database was created");

    let url = &demo.url;
    let schools = query_i64(url, "SELECT count(*) FROM school").await;
    assert!((55..=65).contains(&schools), "{schools} schools");
    assert_eq!(
        query_i64(url, "SELECT count(DISTINCT township) FROM school").await,
        12
    );
    assert_eq!(
        query_i64(url, "SELECT count(DISTINCT kind) FROM school").await,
        7
    );
    assert!(query_i64(url, "SELECT count(*) FROM school WHERE is_key_village").await >= 10);
    assert!(query_i64(url, "SELECT count(*) FROM school WHERE is_central").await >= 10);
    assert_eq!(query_i64(url, "SELECT count(*) FROM campaign").await, 4);
    let answers = query_i64(url, "SELECT count(*) FROM response").await;
    assert!(answers >= 5_000, "{answers} answers");
    assert!(query_i64(url, "SELECT count(*) FROM response WHERE flags IS NOT NULL").await >= 50);
    assert!(query_i64(url, "SELECT count(*) FROM response WHERE excluded").await >= 1);
    let days = query_i64(
        url,
        "SELECT CAST(julianday(max(submitted_at)) - julianday(min(submitted_at)) AS INTEGER) FROM response",
    )
    .await;
    assert!((10..=15).contains(&days), "answers over {days} days");
    // A few teacher groups too small to be shown alone.
    let small = query_i64(
        url,
        "SELECT count(*) FROM campaign_link l JOIN campaign c ON c.id = l.campaign_id \
         JOIN survey_version v ON v.id = c.survey_version_id \
         WHERE v.survey_id = 'teachers' AND l.response_count BETWEEN 1 AND 4",
    )
    .await;
    assert!(small >= 2, "{small} small teacher groups");
    // Schools differ: the best and the worst parents' satisfaction are far apart.
    let spread = query_i64(
        url,
        "SELECT CAST(100 * (max(s) - min(s)) AS INTEGER) FROM (SELECT avg(CAST(json_extract(answers, '$.overall_satisfaction') AS REAL)) AS s \
         FROM response WHERE campaign_id = 1 GROUP BY school_id HAVING count(*) >= 30)",
    )
    .await;
    assert!(
        spread >= 50,
        "parents' overall satisfaction spread ×100 = {spread}"
    );
}

#[actix_web::test]
async fn the_demo_serves_and_its_admin_sees_ratings_failing_indicators_and_flags() {
    let demo = demo();
    demo.run.succeeded();
    let server = demo.terminal.start_server_with_env(
        &["serve", "--bind", "127.0.0.1:0"],
        &[("DATABASE_URL", &demo.url)],
    );
    let mut browser = browser_at(&server.address);
    let page = browser
        .sign_in("admin@demo.invalid", &printed_password(&demo.run))
        .await;
    assert!(
        page.status.is_redirection() || page.status.is_success(),
        "{}",
        page.body
    );
    let parents = browser.get("/console/campaigns/1/results").await;
    assert_eq!(parents.status.as_u16(), 200, "{}", parents.body);
    assert!(
        ["优秀", "良好", "合格"]
            .iter()
            .any(|grade| parents.body.contains(grade)),
        "no grade on the parents' results"
    );
    let self_check = browser.get("/console/campaigns/4/results").await;
    assert_eq!(self_check.status.as_u16(), 200);
    assert!(self_check.body.contains("未达标"), "no failing indicator");
    let quality = browser.get("/console/campaigns/1/quality").await;
    assert_eq!(quality.status.as_u16(), 200);
    assert!(quality.body.contains("集中提交") && quality.body.contains("全部选同一档"));
    for path in [
        "/console/assessment",
        "/console/reports/county",
        "/console/campaigns/2",
    ] {
        assert_eq!(browser.get(path).await.status.as_u16(), 200, "{path}");
    }
    server.stop();
}

/// The password `dupin demo` printed on the line that starts with `label`.
fn printed_login(run: &Run, label: &str) -> (String, String) {
    let line = run
        .stdout
        .lines()
        .find_map(|line| line.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label} line printed: {run:#?}"));
    let (email, password) = line
        .rsplit_once(':')
        .map_or(line, |(_, rest)| rest)
        .split_once(" / ")
        .unwrap_or_else(|| panic!("{label} line without e-mail / password: {line}"));
    (email.trim().to_owned(), password.trim().to_owned())
}

#[actix_web::test]
async fn the_demo_has_visits_items_and_issued_letters_its_supervisor_and_school_can_open() {
    let demo = demo();
    demo.run.succeeded();
    assert!(
        demo.run
            .stdout
            .contains("supervision: 3 visits, 3 rectification items, 2 督导意见书 issued"),
        "{}",
        demo.run.stdout
    );
    assert_eq!(query_i64(&demo.url, "SELECT COUNT(*) FROM visit").await, 3);
    assert_eq!(
        query_i64(
            &demo.url,
            "SELECT COUNT(*) FROM rectification WHERE status = 'accepted'"
        )
        .await,
        1
    );
    assert_eq!(
        query_i64(&demo.url, "SELECT COUNT(DISTINCT school_id) FROM letter").await,
        2
    );
    let server = demo.terminal.start_server_with_env(
        &["serve", "--bind", "127.0.0.1:0"],
        &[("DATABASE_URL", &demo.url)],
    );
    let (email, password) = printed_login(&demo.run, "supervisor (visits, rectification, letters)");
    let mut supervisor = browser_at(&server.address);
    assert!(
        supervisor
            .sign_in(&email, &password)
            .await
            .status
            .is_redirection()
    );
    let visits = supervisor.get("/console/visits").await;
    assert_eq!(visits.status.as_u16(), 200, "{}", visits.body);
    for kind in ["随机走访", "座谈了解"] {
        assert!(visits.body.contains(kind), "{kind} in the demo's visits");
    }
    let items = supervisor.get("/console/rectification").await;
    assert_eq!(items.status.as_u16(), 200);
    for status in ["已验收", "待整改"] {
        assert!(items.body.contains(status), "{status} in the demo's items");
    }
    let (email, password) = printed_login(&demo.run, "school viewer of");
    let mut school = browser_at(&server.address);
    assert!(
        school
            .sign_in(&email, &password)
            .await
            .status
            .is_redirection()
    );
    let letters = school.get("/console/my-school/letters").await;
    assert_eq!(letters.status.as_u16(), 200);
    assert!(
        letters.body.contains("第 1 号") || letters.body.contains("第 2 号"),
        "{}",
        letters.body
    );
    server.stop();
}

#[test]
fn demo_refuses_a_database_that_is_not_a_demo_and_leaves_it_alone() {
    let terminal = Terminal::new();
    terminal.import_county_schools();
    let before = terminal.run(&["schools", "list"]).stdout.clone();
    let real = terminal.database_url.clone();
    let run = terminal.run(&["demo", "--demo-database", &real]);
    run.failed();
    assert!(run.stderr.contains("not a demo database"), "{run:#?}");
    assert!(run.stderr.contains("--demo-database"), "says how: {run:#?}");
    let after = terminal.run(&["schools", "list"]).stdout.clone();
    assert_eq!(before, after, "the schools are untouched");
}

#[actix_web::test]
async fn demo_serve_builds_the_county_then_serves_it() {
    let terminal = Terminal::new();
    let url = format!(
        "sqlite://{}/served-demo.sqlite3",
        terminal.folder().display()
    );
    let server = terminal.start_server(&[
        "demo",
        "--demo-database",
        &url,
        "--serve",
        "--bind",
        "127.0.0.1:0",
    ]);
    let mut browser = browser_at(&server.address);
    let login = browser.get("/console/login").await;
    assert_eq!(login.status.as_u16(), 200);
    server.stop();
    assert!(query_i64(&url, "SELECT count(*) FROM response").await >= 5_000);
    assert!(!terminal.folder().join("dupin.sqlite3").exists());
}
