//! Two `dupin` processes on one database behave as one installation: a form served by one is
//! stored once through the other, one browser answers once whichever process it reaches, a
//! console session signed in on one works on the other, and a campaign closed on one stops
//! taking answers on the other within the link cache's five seconds. On PostgreSQL when
//! `DUPIN_TEST_POSTGRES` is set, else on one SQLite file (WAL, busy timeout).

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use rand::SeedableRng;
use rand::rngs::StdRng;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::cli::{Server, Terminal};
use crate::fuzz::random_answers;
use crate::helpers::{
    Phone, PostgresDatabase, answers_for, browser_at, catalog_survey, filled_in, fresh_database,
    phone_at,
};

const ADMIN: &str = "duban@county.edu.cn";
const ADMIN_PASSWORD: &str = "县督导办 2026 春";
const CAMPAIGN: &str = "2026 家长满意度测评";
/// Phones in the crowd, and how many answer at once.
const PHONES: usize = 300;
const AT_ONCE: usize = 16;

/// One installation: a database with the county's schools, a parents' campaign and an admin,
/// and two `dupin` processes serving it.
struct Installation {
    a: Server,
    b: Server,
    campaign: i32,
    /// The campaign's link tokens, one per school.
    tokens: Vec<String>,
    db: DatabaseConnection,
    _terminal: Terminal,
    _scratch: tempfile::TempDir,
    _postgres: Option<PostgresDatabase>,
}

/// Prepares the database through the command line, then starts two servers on it, each with
/// `env` (such as `DUPIN_SESSION_KEY`).
async fn installation(env_a: &[(&str, &str)], env_b: &[(&str, &str)]) -> Installation {
    let mut terminal = Terminal::new();
    let scratch = tempfile::tempdir().expect("temp dir");
    let (database_url, postgres) = fresh_database(scratch.path()).await;
    if postgres.is_some() {
        terminal.database_url = database_url;
    }
    terminal.import_county_schools();
    let created = terminal.run(&[
        "campaign", "create", "--survey", "parents", "--name", CAMPAIGN,
    ]);
    created.succeeded();
    let campaign: i32 = created
        .stdout_lines()
        .first()
        .and_then(|line| line.strip_prefix("Campaign "))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("no campaign id in {created:#?}"));
    let links = terminal.run(&["campaign", "links", &campaign.to_string()]);
    let tokens: Vec<String> = links
        .succeeded()
        .stdout_lines()
        .iter()
        .filter_map(|line| line.rsplit('/').next().map(str::to_owned))
        .collect();
    assert_eq!(tokens.len(), 30);
    terminal
        .run_with_env(
            &["admin", "create", ADMIN, "--role", "admin"],
            &[("DUPIN_ADMIN_PASSWORD", ADMIN_PASSWORD)],
        )
        .succeeded();
    let args = ["--bind", "127.0.0.1:0", "--workers", "2"];
    let a = terminal.start_server_with_env(&args, env_a);
    let b = terminal.start_server_with_env(&args, env_b);
    assert_ne!(a.address, b.address);
    let db = dupin::db::connect(&terminal.database_url)
        .await
        .expect("the test's own connection");
    Installation {
        a,
        b,
        campaign,
        tokens,
        db,
        _terminal: terminal,
        _scratch: scratch,
        _postgres: postgres,
    }
}

async fn number(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .expect("query")
    .expect("a row")
    .try_get_by_index::<i64>(0)
    .expect("a number")
}

/// A phone at `address` carrying `cookie`, like the same browser reaching another process.
fn phone_with(address: &str, cookie: Option<String>) -> Phone {
    let mut phone = phone_at(address);
    phone.cookie = cookie;
    phone
}

/// Every stored answer is counted once in its link's count and in the tallies (once the answers
/// still pending are added, as the first read of any figure adds them).
async fn assert_counts_agree_with_rows(db: &DatabaseConnection, rows: i64) {
    dupin::answering::pending::settle(db, None)
        .await
        .expect("the pending answers are added");
    assert_eq!(number(db, "SELECT COUNT(*) FROM response").await, rows);
    assert_eq!(
        number(
            db,
            "SELECT CAST(COALESCE(SUM(response_count), 0) AS BIGINT) FROM campaign_link"
        )
        .await,
        rows
    );
    assert_eq!(
        number(
            db,
            "SELECT COUNT(*) FROM campaign_link l WHERE l.response_count <> \
             (SELECT COUNT(*) FROM response r \
              WHERE r.campaign_id = l.campaign_id AND r.school_id = l.school_id)"
        )
        .await,
        0,
        "a link's count differs from its answers"
    );
    assert_eq!(
        number(
            db,
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM tally \
             WHERE question_key = 'overall_satisfaction'"
        )
        .await,
        rows
    );
    assert_eq!(
        number(
            db,
            "SELECT COUNT(*) FROM (SELECT school_id FROM tally \
             WHERE question_key = 'overall_satisfaction' GROUP BY school_id \
             HAVING SUM(count) <> (SELECT COUNT(*) FROM response r \
                                   WHERE r.school_id = tally.school_id)) AS disagreeing"
        )
        .await,
        0,
        "a school's tallies differ from its answers"
    );
}

#[actix_web::test]
async fn a_form_from_one_process_is_stored_once_through_the_other_and_answers_once_per_browser() {
    let site = installation(&[], &[]).await;
    let token = &site.tokens[0];
    let path = format!("/s/{token}");
    let answers = answers_for(&catalog_survey("parents"));

    // The form comes from A; the browser also opens it in a second tab, on B.
    let mut on_a = phone_at(&site.a.address);
    let form = on_a.get(&path).await;
    let fields = filled_in(&form, answers.clone());
    let cookie = on_a.cookie.clone();
    assert!(cookie.is_some(), "A gives the browser its cookie");
    let mut second_tab_on_b = phone_with(&site.b.address, cookie.clone());
    let second_form = second_tab_on_b.get(&path).await;
    let second_fields = filled_in(&second_form, answers);

    // Submitted to B: stored.
    let mut on_b = phone_with(&site.b.address, cookie.clone());
    let stored = on_b.post_form(&path, &fields).await;
    assert_eq!(stored.status, StatusCode::SEE_OTHER, "{}", stored.body);
    let thanks = format!("/s/{token}/thanks");
    assert_eq!(stored.location.as_deref(), Some(thanks.as_str()));
    assert_eq!(number(&site.db, "SELECT COUNT(*) FROM response").await, 1);

    // The same submission again, to A, as after a dropped connection: the same thank-you,
    // nothing new stored (A never saw the first one: the database's constraint decides).
    let retried = on_a.post_form(&path, &fields).await;
    assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.body);
    assert_eq!(retried.location.as_deref(), Some(thanks.as_str()));
    assert_eq!(number(&site.db, "SELECT COUNT(*) FROM response").await, 1);

    // The second tab's form, through A and through B: refused, this browser has answered.
    for address in [&site.a.address, &site.b.address] {
        let again = phone_with(address, cookie.clone())
            .post_form(&path, &second_fields)
            .await;
        assert_eq!(
            again.status,
            StatusCode::CONFLICT,
            "{address}: {}",
            again.body
        );
        assert!(again.body.contains("已经提交过"), "{}", again.body);
    }
    // And opening the link again on either says so.
    for address in [&site.a.address, &site.b.address] {
        let page = phone_with(address, cookie.clone()).get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(
            page.body.contains("您已经填写过了"),
            "{address}: {}",
            page.body
        );
    }
    assert_counts_agree_with_rows(&site.db, 1).await;
}

/// What one phone of the crowd did: the keys acknowledged, and the statuses it saw.
#[derive(Default)]
struct Tally {
    acknowledged: BTreeSet<String>,
    refused_as_answered: usize,
    answered_phones: usize,
}

/// One phone: opens a school's form on one process and submits it to the other; some tap
/// twice (to both processes at once), some retry on the first process, some opened the form in
/// two tabs and submit both at once to both processes.
async fn one_phone(n: usize, site: &Installation, seen: Arc<Mutex<Tally>>) {
    let token = &site.tokens[n % site.tokens.len()];
    let path = format!("/s/{token}");
    let (first, second) = if n.is_multiple_of(2) {
        (&site.a.address, &site.b.address)
    } else {
        (&site.b.address, &site.a.address)
    };
    let mut rng = StdRng::seed_from_u64(n as u64);
    let answers = random_answers(&catalog_survey("parents"), &mut rng);
    let mut opener = phone_at(first);
    let form = opener.get(&path).await;
    let fields = filled_in(&form, answers.clone());
    let key = fields[0].1.clone();
    let cookie = opener.cookie.clone();
    let at = |address: &str| phone_with(address, cookie.clone());
    let mut acknowledged = Vec::new();
    let mut refused = 0;
    match n % 4 {
        // Submitted to the other process.
        0 => {
            let page = at(second).post_form(&path, &fields).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            acknowledged.push(key);
        }
        // A double tap that reaches both processes at once: both thank, one row.
        1 => {
            let (one, other) = tokio::join!(
                at(second).post_form_owned(path.clone(), fields.clone()),
                at(first).post_form_owned(path.clone(), fields.clone()),
            );
            assert_eq!(one.status, StatusCode::SEE_OTHER, "{}", one.body);
            assert_eq!(other.status, StatusCode::SEE_OTHER, "{}", other.body);
            acknowledged.push(key);
        }
        // Two tabs of one browser, submitted at once to both processes: one is stored, the
        // other refused.
        2 => {
            let second_form = at(second).get(&path).await;
            let second_fields = filled_in(&second_form, answers);
            let second_key = second_fields[0].1.clone();
            let (one, other) = tokio::join!(
                at(second).post_form_owned(path.clone(), fields.clone()),
                at(first).post_form_owned(path.clone(), second_fields),
            );
            let statuses = [one.status, other.status];
            assert!(
                statuses.contains(&StatusCode::SEE_OTHER)
                    && statuses.contains(&StatusCode::CONFLICT),
                "two tabs got {statuses:?}"
            );
            acknowledged.push(if one.status == StatusCode::SEE_OTHER {
                key
            } else {
                second_key
            });
            refused += 1;
        }
        // Submitted to the other process, then retried on the first.
        _ => {
            let page = at(second).post_form(&path, &fields).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
            let retried = at(first).post_form(&path, &fields).await;
            assert_eq!(retried.status, StatusCode::SEE_OTHER, "{}", retried.body);
            assert_eq!(retried.location, page.location);
            acknowledged.push(key);
        }
    }
    if let Ok(mut seen) = seen.lock() {
        seen.acknowledged.extend(acknowledged);
        seen.refused_as_answered += refused;
        seen.answered_phones += 1;
    }
}

#[actix_web::test]
async fn many_phones_across_two_processes_store_every_acknowledged_answer_exactly_once() {
    use futures_util::StreamExt;

    let site = installation(&[], &[]).await;
    let seen: Arc<Mutex<Tally>> = Arc::default();
    let started = Instant::now();
    futures_util::stream::iter(0..PHONES)
        .map(|n| one_phone(n, &site, seen.clone()))
        .buffer_unordered(AT_ONCE)
        .collect::<Vec<()>>()
        .await;
    let elapsed = started.elapsed();

    let seen = std::mem::take(&mut *seen.lock().expect("tally"));
    assert_eq!(seen.answered_phones, PHONES);
    assert_eq!(
        seen.acknowledged.len(),
        PHONES,
        "one acknowledged answer per phone"
    );
    assert_eq!(seen.refused_as_answered, PHONES / 4);
    let stored: BTreeSet<String> = site
        .db
        .query_all_raw(Statement::from_string(
            site.db.get_database_backend(),
            "SELECT idempotency_key FROM response".to_owned(),
        ))
        .await
        .expect("keys")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("key"))
        .collect();
    assert_eq!(stored, seen.acknowledged, "stored = acknowledged");
    assert_eq!(
        number(&site.db, "SELECT COUNT(DISTINCT browser_key) FROM response").await,
        PHONES as i64,
        "one answer per browser"
    );
    assert_counts_agree_with_rows(&site.db, PHONES as i64).await;
    eprintln!(
        "{PHONES} phones ({} submissions) across two processes in {elapsed:.1?}",
        PHONES * 7 / 4
    );
}

/// Signs in on `first`, then uses the same cookies and CSRF token on `second`: the list of
/// campaigns and a password change. Returns whether `second` accepted the session.
async fn session_crosses(first: &str, second: &str) -> bool {
    let mut on_first = browser_at(first);
    let signed_in = on_first.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    let own = on_first.get("/console/campaigns").await;
    assert_eq!(own.status, StatusCode::OK);
    let csrf = on_first
        .get("/console/password")
        .await
        .hidden("_csrf")
        .expect("a CSRF token");

    let mut on_second = browser_at(second);
    on_second.cookies = on_first.cookies.clone();
    let list = on_second.get("/console/campaigns").await;
    if list.status != StatusCode::OK {
        assert_eq!(list.status, StatusCode::SEE_OTHER, "{}", list.body);
        assert!(
            list.location
                .as_deref()
                .is_some_and(|location| location.starts_with("/console/login")),
            "{:?}",
            list.location
        );
        return false;
    }
    assert!(list.body.contains(CAMPAIGN), "{}", list.body);
    let new_password = format!("{ADMIN_PASSWORD} 改");
    let changed = on_second
        .post(
            "/console/password",
            &[
                ("_csrf", &csrf),
                ("current", ADMIN_PASSWORD),
                ("password", &new_password),
                ("confirm", &new_password),
            ],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert!(changed.body.contains("密码已修改"), "{}", changed.body);

    // The change ended the old session on both processes; the new cookie works on both.
    let old = on_first.get("/console/campaigns").await;
    assert_eq!(
        old.status,
        StatusCode::SEE_OTHER,
        "the old session ended on the first"
    );
    for address in [first, second] {
        let mut renewed = browser_at(address);
        renewed.cookies = on_second.cookies.clone();
        let page = renewed.get("/console/campaigns").await;
        assert_eq!(page.status, StatusCode::OK, "{address}");
    }
    // Back as it was, for the next round.
    let restored = on_second
        .submit(
            "/console/password",
            "/console/password",
            &[
                ("current", &new_password),
                ("password", ADMIN_PASSWORD),
                ("confirm", ADMIN_PASSWORD),
            ],
        )
        .await;
    assert_eq!(restored.status, StatusCode::OK, "{}", restored.body);
    true
}

#[actix_web::test]
async fn a_console_session_signed_in_on_one_process_works_on_the_other() {
    // The key kept in the database, shared by both.
    let site = installation(&[], &[]).await;
    assert!(session_crosses(&site.a.address, &site.b.address).await);
    assert!(session_crosses(&site.b.address, &site.a.address).await);
    drop(site);

    // The same DUPIN_SESSION_KEY given to both.
    let key = [("DUPIN_SESSION_KEY", "c1f0a3b2d4e5f60718293a4b5c6d7e8f")];
    let site = installation(&key, &key).await;
    assert!(session_crosses(&site.a.address, &site.b.address).await);
    drop(site);

    // Different keys: a session from one is refused by the other.
    let site = installation(
        &[("DUPIN_SESSION_KEY", "c1f0a3b2d4e5f60718293a4b5c6d7e8f")],
        &[("DUPIN_SESSION_KEY", "another key altogether, 2026")],
    )
    .await;
    assert!(!session_crosses(&site.a.address, &site.b.address).await);
}

#[actix_web::test]
async fn a_campaign_closed_on_one_process_stops_taking_answers_on_the_other_within_five_seconds() {
    let site = installation(&[], &[]).await;
    let token = &site.tokens[3];
    let path = format!("/s/{token}");
    // A phone on A opens the form (A now has the link in its cache).
    let mut on_a = phone_at(&site.a.address);
    let form = on_a.get(&path).await;
    let fields = filled_in(&form, answers_for(&catalog_survey("parents")));

    let mut supervisor = browser_at(&site.b.address);
    let signed_in = supervisor.sign_in(ADMIN, ADMIN_PASSWORD).await;
    assert_eq!(signed_in.status, StatusCode::SEE_OTHER);
    let campaign_page = format!("/console/campaigns/{}", site.campaign);
    let closed = supervisor
        .submit(
            &campaign_page,
            &format!("{campaign_page}/status"),
            &[("status", "closed")],
        )
        .await;
    assert_eq!(closed.status, StatusCode::SEE_OTHER, "{}", closed.body);
    let closed_at = Instant::now();

    // B knows at once.
    let on_b = phone_at(&site.b.address).get(&path).await;
    assert!(on_b.body.contains("本次调查已经结束"), "{}", on_b.body);

    // A within its link cache's five seconds.
    let seen_after = loop {
        let page = phone_at(&site.a.address).get(&path).await;
        assert_eq!(page.status, StatusCode::OK);
        if page.body.contains("本次调查已经结束") {
            break closed_at.elapsed();
        }
        assert!(
            closed_at.elapsed() < Duration::from_secs(8),
            "A still shows the form 8 s after the campaign closed"
        );
        actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("A saw the campaign closed {seen_after:.1?} after B closed it");
    let refused = on_a.post_form(&path, &fields).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    assert!(refused.body.contains("没有被保存"), "{}", refused.body);
    assert_eq!(number(&site.db, "SELECT COUNT(*) FROM response").await, 0);
}

#[actix_web::test]
async fn a_surge_split_across_two_processes_is_held_by_their_shared_count() {
    // A village school of 145 pupils takes 50 answers a minute; 35 reach each process within
    // one minute. Neither process alone passes the rate (nor the per-address ceiling of 60),
    // but the link's count is the database's, so together they hold every one.
    let site = installation(&[], &[]).await;
    let token = dupin::campaigns::links(&site.db, site.campaign)
        .await
        .expect("links")
        .into_iter()
        .find(|link| link.code == "4521230030")
        .expect("the village school's link")
        .token;
    let path = format!("/s/{token}");
    if chrono::Utc::now().timestamp().rem_euclid(60) > 30 {
        let into = chrono::Utc::now().timestamp().rem_euclid(60);
        tokio::time::sleep(Duration::from_secs((61 - into) as u64)).await;
    }
    let mut forms = Vec::new();
    for n in 0..70_u64 {
        let address = if n % 2 == 0 {
            &site.a.address
        } else {
            &site.b.address
        };
        let mut phone = phone_at(address);
        let form = phone.get(&path).await;
        let mut rng = StdRng::seed_from_u64(n);
        let fields = filled_in(&form, random_answers(&catalog_survey("parents"), &mut rng));
        forms.push((phone, fields));
    }
    let sent = futures_util::future::join_all(
        forms
            .into_iter()
            .map(|(phone, fields)| phone.post_form_owned(path.clone(), fields)),
    )
    .await;
    for page in &sent {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    assert_eq!(number(&site.db, "SELECT COUNT(*) FROM response").await, 70);
    assert_eq!(
        number(
            &site.db,
            "SELECT COUNT(*) FROM response WHERE flags LIKE '%held%'"
        )
        .await,
        70,
        "every answer of the surging minute is held; the processes' logs:\n{}\n{}",
        site.a.log(),
        site.b.log()
    );
    assert_eq!(
        number(
            &site.db,
            "SELECT CAST(COALESCE(SUM(response_count), 0) AS BIGINT) FROM campaign_link"
        )
        .await,
        0,
        "none counted"
    );
}
