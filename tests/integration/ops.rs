//! Operating dupin: `dupin backup` while phones answer, the refusal of a database migrated by a
//! newer dupin, `dupin migrate-data` from SQLite to PostgreSQL (and to another SQLite file) with
//! the moved installation serving the same links, answers and accounts, and JSON logs.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

use crate::cli::{Server, Terminal};
use crate::helpers::{PASSWORD, browser_at, catalog_survey, new_postgres_database, phone_at};

const ADMIN: &str = "admin@county.edu.cn";
/// The migration a future dupin might add, recorded in the database as it would be.
const FUTURE_MIGRATION: &str = "m20270301_000001_indicators";

async fn number(db: &DatabaseConnection, sql: &str) -> i64 {
    db.query_one_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap_or_else(|error| panic!("{sql}: {error}"))
    .unwrap_or_else(|| panic!("{sql}: no row"))
    .try_get_by_index::<i64>(0)
    .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// Row counts of every table, in copy order.
async fn table_counts(db: &DatabaseConnection) -> Vec<(&'static str, i64)> {
    let mut counts = Vec::new();
    for table in dupin::ops::migrate_data::tables() {
        counts.push((
            table,
            number(db, &format!("SELECT COUNT(*) FROM {table}")).await,
        ));
    }
    counts
}

/// Fails unless every link's running count equals its stored answers, and the tally of a
/// question every parent answers equals them too: nothing half-written.
async fn assert_tallies_match_rows(db: &DatabaseConnection, label: &str) {
    // The answers still pending go in first, as dupin adds them when it starts on the file.
    dupin::answering::pending::settle(db, None)
        .await
        .expect("the pending answers are added");
    let responses = number(db, "SELECT COUNT(*) FROM response").await;
    assert_eq!(
        number(
            db,
            "SELECT CAST(COALESCE(SUM(response_count), 0) AS BIGINT) FROM campaign_link"
        )
        .await,
        responses,
        "{label}: link counts disagree with the stored answers"
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
        "{label}: a link's count disagrees with its school's answers"
    );
    assert_eq!(
        number(
            db,
            "SELECT COUNT(*) FROM campaign_link l WHERE l.response_count <> \
             (SELECT COALESCE(SUM(t.count), 0) FROM tally t \
              WHERE t.campaign_id = l.campaign_id AND t.school_id = l.school_id \
              AND t.question_key = 'overall_satisfaction')"
        )
        .await,
        0,
        "{label}: a school's tallies disagree with its answers"
    );
}

/// A county on SQLite: the sample schools, a parents' campaign, its links (one URL per school,
/// by code), and a server that serves them.
fn county_with_a_campaign() -> (Terminal, Server, Vec<String>) {
    let mut terminal = Terminal::new();
    terminal.base_url = None;
    let server = terminal.start_server(&["--bind", "127.0.0.1:0", "--workers", "2"]);
    terminal.import_county_schools();
    terminal
        .run(&[
            "campaign",
            "create",
            "--survey",
            "parents",
            "--name",
            "2026 家长满意度测评",
        ])
        .succeeded();
    let links = terminal.run(&["campaign", "links", "1"]);
    let tokens = links
        .succeeded()
        .stdout_lines()
        .iter()
        .filter_map(|line| line.rsplit("/s/").next().map(str::to_owned))
        .collect();
    (terminal, server, tokens)
}

/// A parent with a new phone answers the parents' test at `token`; returns the status.
async fn answer(address: &str, token: &str) -> StatusCode {
    phone_at(address)
        .answer(token, &catalog_survey("parents"))
        .await
        .status
}

#[actix_web::test]
async fn a_backup_taken_while_phones_answer_opens_with_every_answer_it_holds_consistent() {
    let (terminal, server, tokens) = county_with_a_campaign();
    let acknowledged = Rc::new(Cell::new(0_i64));
    let stop = Rc::new(Cell::new(false));
    let phones: Vec<_> = (0..4)
        .map(|phone| {
            let (address, tokens) = (server.address.clone(), tokens.clone());
            let (acknowledged, stop) = (acknowledged.clone(), stop.clone());
            actix_web::rt::spawn(async move {
                let mut n = phone;
                while !stop.get() {
                    let status = answer(&address, &tokens[n % 3]).await;
                    assert_eq!(status, StatusCode::SEE_OTHER, "an answer was refused");
                    acknowledged.set(acknowledged.get() + 1);
                    n += 4;
                }
            })
        })
        .collect();
    while acknowledged.get() < 20 {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }

    // A path with a space and a quote, in a folder that does not exist yet.
    let copy = terminal.folder().join("backups/it's 2026-12-01.sqlite3");
    let before_backup = acknowledged.get();
    let backup = terminal.run_in_background(&["backup", copy.to_str().expect("UTF-8")]);
    while !backup.is_finished() {
        actix_web::rt::time::sleep(Duration::from_millis(10)).await;
    }
    let backup = backup.join().expect("the backup's thread");
    let after_backup = acknowledged.get();
    // Answers kept flowing: the backup blocked nobody.
    while acknowledged.get() < after_backup + 10 {
        actix_web::rt::time::sleep(Duration::from_millis(20)).await;
    }
    stop.set(true);
    for phone in phones {
        phone.await.expect("a phone's loop");
    }

    backup.succeeded();
    let size = std::fs::metadata(&copy).expect("the copy exists").len();
    let reported = backup.stdout_lines()[0].to_owned();
    assert!(
        reported.starts_with(&format!(
            "Backed up to {}: {} KB in ",
            copy.display(),
            size.div_ceil(1000)
        )) && reported.ends_with(" s."),
        "{backup:#?}"
    );

    let live = dupin::db::connect(&terminal.database_url)
        .await
        .expect("the live database");
    let copy_url = format!("sqlite://{}", copy.display());
    let restored = dupin::db::connect(&copy_url)
        .await
        .expect("the copy opens as a database");
    let copied = number(&restored, "SELECT COUNT(*) FROM response").await;
    let stored = number(&live, "SELECT COUNT(*) FROM response").await;
    eprintln!(
        "backup: {copied} answers in the copy; {before_backup} acknowledged before it started, \
         {after_backup} when it ended, {stored} stored at the end; {}",
        reported
    );
    assert!(
        copied >= before_backup,
        "the copy lost acknowledged answers"
    );
    assert!(copied <= stored);
    assert!(
        copied < stored,
        "answers taken after the backup are not in it"
    );
    assert_tallies_match_rows(&restored, "the copy").await;
    assert_tallies_match_rows(&live, "the live database").await;
    for (table, rows) in table_counts(&restored).await {
        if !matches!(table, "response" | "tally" | "campaign_link") {
            let live_rows = number(&live, &format!("SELECT COUNT(*) FROM {table}")).await;
            assert_eq!(rows, live_rows, "{table}");
        }
    }

    // A second backup to the same name is refused and the first copy stays as it was.
    let again = terminal.run(&["backup", copy.to_str().expect("UTF-8")]);
    again.failed();
    assert_eq!(
        again.stderr_lines(),
        [format!(
            "error: {} already exists; a backup never overwrites a file: choose a new name",
            copy.display()
        )]
    );
    assert_eq!(
        std::fs::metadata(&copy).expect("the copy").len(),
        size,
        "the copy was not touched"
    );
    server.stop();
}

#[test]
fn backup_on_postgresql_prints_the_pg_dump_command_and_connects_to_nothing() {
    let mut terminal = Terminal::new();
    // Nothing listens on port 9: had dupin tried to connect, it would say it cannot.
    terminal.database_url = "postgres://dupin:s3cret@127.0.0.1:9/dupin_county".to_owned();

    let run = terminal.run(&["backup", "/var/backups/dupin/2026-12-01.dump"]);

    run.failed();
    assert_eq!(run.stdout, "");
    assert_eq!(
        run.stderr_lines(),
        [
            "error: dupin backup copies SQLite databases only; this installation runs on PostgreSQL.",
            "Back it up with pg_dump, which copies a running database consistently:",
            "  pg_dump --format=custom --file=/var/backups/dupin/2026-12-01.dump --host=127.0.0.1 \
             --port=9 --username=dupin --dbname=dupin_county",
            "(the password goes in PGPASSWORD or ~/.pgpass; restore with pg_restore --dbname=…)",
        ]
    );
    assert!(!run.stderr.contains("s3cret"));
}

#[actix_web::test]
async fn a_database_migrated_by_a_newer_dupin_is_refused_by_every_command() {
    let terminal = Terminal::new();
    terminal.import_county_schools();
    let db = dupin::db::connect(&terminal.database_url)
        .await
        .expect("the database");
    db.execute_unprepared(&format!(
        "INSERT INTO seaql_migrations (version, applied_at) VALUES ('{FUTURE_MIGRATION}', 1801000000)"
    ))
    .await
    .expect("a future migration recorded");
    let message = format!(
        "the database was migrated by a newer dupin (unknown migration {FUTURE_MIGRATION}); \
         run that version or restore a backup"
    );

    for args in [
        &["schools", "list"][..],
        &["campaign", "list"][..],
        &["backup", "copy.sqlite3"][..],
    ] {
        let run = terminal.run(args);
        run.failed();
        assert_eq!(run.stdout, "", "{args:?}");
        assert_eq!(
            run.stderr_lines(),
            [format!("error: {message}")],
            "{args:?}"
        );
    }
    for args in [
        &["--bind", "127.0.0.1:0"][..],
        &["serve", "--bind", "127.0.0.1:0"][..],
    ] {
        let run = terminal.run(args);
        run.failed();
        assert!(!run.stdout.contains("serving"), "{args:?}: {run:#?}");
        assert!(
            run.stderr_lines()
                .contains(&format!("dupin cannot start: {message}").as_str()),
            "{args:?}: {run:#?}"
        );
    }
    assert!(
        !terminal.folder().join("copy.sqlite3").exists(),
        "no backup of a database this dupin refuses"
    );

    // Once the newer version's row is gone (as after restoring a backup), all is well again.
    db.execute_unprepared(&format!(
        "DELETE FROM seaql_migrations WHERE version = '{FUTURE_MIGRATION}'"
    ))
    .await
    .expect("the row removed");
    let run = terminal.run(&["schools", "list"]);
    assert_eq!(run.succeeded().stdout_lines().len(), 30);
}

/// One row in each table the mail, the API and the sign-in limit keep, so that the move is shown
/// to carry them.
async fn a_roster_an_invitation_its_mail_and_an_api_token(db: &DatabaseConnection) {
    let now = "2026-12-01 08:00:00+00:00";
    for sql in [
        format!(
            "INSERT INTO teacher (school_id, name, email, created_at, updated_at) \
             SELECT MIN(id), '张老师', 'zhang@example.cn', '{now}', '{now}' FROM school"
        ),
        format!(
            "INSERT INTO invitation (campaign_id, teacher_id, status, reminders, created_at) \
             SELECT (SELECT MIN(id) FROM campaign), MIN(id), 'sent', 0, '{now}' FROM teacher"
        ),
        format!(
            "INSERT INTO invitation_link (token_hash, invitation_id, created_at) \
             SELECT 'c0ffee', MIN(id), '{now}' FROM invitation"
        ),
        format!(
            "INSERT INTO sign_in_limit (email, attempts, updated_at) \
             VALUES ('nobody@example.cn', 2, '{now}')"
        ),
        format!(
            "INSERT INTO outbox (kind, recipient, subject, text_body, invitation_id, status, attempts, \
             next_attempt_at, created_at) SELECT 'invitation', 'zhang@example.cn', '邀请', '正文', \
             MIN(id), 'sent', 1, '{now}', '{now}' FROM invitation"
        ),
        format!(
            "INSERT INTO api_token (name, token_hash, created_by, created_at) \
             SELECT '统计局', 'ab12', MIN(id), '{now}' FROM account"
        ),
        format!(
            "INSERT INTO visit (school_id, campaign_id, kind, checklist, visited_on, team, \
             created_by, created_at) SELECT MIN(id), (SELECT MIN(id) FROM campaign), \
             'random_visit', 'random_visit', '2026-12-01', '王督学', (SELECT MIN(id) FROM account), \
             '{now}' FROM school"
        ),
        "INSERT INTO visit_check (visit_id, item_id, judgement, note) \
         SELECT MIN(id), 'toilets', 'not_met', '男厕所隔板损坏' FROM visit"
            .to_owned(),
        format!(
            "INSERT INTO finding (visit_id, school_id, area, severity, text, created_at) \
             SELECT id, school_id, 'education_stages', 'major', '厕所隔板损坏', '{now}' FROM visit"
        ),
        format!(
            "INSERT INTO rectification (school_id, campaign_id, source, finding_id, area, \
             requirement, responsible, deadline, status, created_by, created_at, updated_at) \
             SELECT school_id, NULL, 'finding', id, area, '修好厕所隔板', '李校长', '2026-12-31', \
             'open', (SELECT MIN(id) FROM account), '{now}', '{now}' FROM finding"
        ),
        format!(
            "INSERT INTO rectification_event (item_id, kind, text, account_id, at) \
             SELECT id, 'reported', '已更换隔板', NULL, '{now}' FROM rectification"
        ),
        format!(
            "INSERT INTO photo (token, school_id, visit_id, item_id, finding_id, event_id, \
             content_type, width, height, bytes, thumbnail, created_by, created_at) \
             SELECT 'p0t0', v.school_id, v.id, NULL, NULL, e.id, 'image/jpeg', 2, 1, \
             X'ffd8ffd9', X'ffd8', NULL, '{now}' FROM visit v, rectification_event e"
        ),
        format!(
            "INSERT INTO letter (school_id, campaign_id, year, number, version, issued_by, \
             issued_at, snapshot) SELECT school_id, (SELECT MIN(id) FROM campaign), 2026, 1, 1, \
             (SELECT MIN(id) FROM account), '{now}', '{{}}' FROM visit"
        ),
    ] {
        db.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }
}

/// What the county looked like on SQLite before it moved.
struct Before {
    counts: Vec<(&'static str, i64)>,
    /// (token, answers) of the two links that were answered.
    answered: [(String, i64); 2],
    max_response_id: i64,
}

/// Fills a SQLite county through the real server: schools, a campaign, answers from phones at
/// two schools, an admin who signed in (audit rows, settings); then stops the server.
async fn a_county_that_has_been_answering() -> (Terminal, Before) {
    let (terminal, server, tokens) = county_with_a_campaign();
    let answered = [(tokens[0].clone(), 5), (tokens[7].clone(), 3)];
    for (token, answers) in &answered {
        for _ in 0..*answers {
            assert_eq!(answer(&server.address, token).await, StatusCode::SEE_OTHER);
        }
    }
    terminal
        .run_with_env(
            &["admin", "create", ADMIN],
            &[("DUPIN_ADMIN_PASSWORD", PASSWORD)],
        )
        .succeeded();
    let signed_in = browser_at(&server.address).sign_in(ADMIN, PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    server.stop();

    let db = dupin::db::connect(&terminal.database_url)
        .await
        .expect("the SQLite database");
    a_roster_an_invitation_its_mail_and_an_api_token(&db).await;
    // The answers' counts go in as dupin adds them when it starts on the file.
    dupin::answering::pending::settle(&db, None)
        .await
        .expect("the pending answers are added");
    let counts = table_counts(&db).await;
    for (table, rows) in &counts {
        // Counted now, no answer is pending.
        if !["tally", "response_pending"].contains(table) {
            assert!(*rows > 0, "{table} is empty: the move would prove little");
        }
    }
    let before = Before {
        counts,
        answered,
        max_response_id: number(&db, "SELECT MAX(id) FROM response").await,
    };
    (terminal, before)
}

/// Moves `terminal`'s county into the empty database at `target_url` and checks the moved
/// installation: links open, old answers count, a new answer gets the next id, the admin signs in.
async fn move_and_check(terminal: &Terminal, before: &Before, target_url: &str) {
    let started = Instant::now();
    let moved = terminal.run(&[
        "migrate-data",
        "--from",
        &terminal.database_url,
        "--to",
        target_url,
    ]);
    let took = started.elapsed();
    moved.succeeded();
    let lines = moved.stdout_lines();
    eprintln!("{}", moved.stdout);
    let total: i64 = before.counts.iter().map(|(_, rows)| rows).sum();
    for (table, rows) in &before.counts {
        let expected = format!("  {table:<16} {rows:>9} in the source, {rows:>9} in the target   ");
        assert!(
            lines.iter().any(|line| line.starts_with(&expected)),
            "no line {expected:?} in {moved:#?}"
        );
    }
    assert!(
        lines.iter().any(|line| line.starts_with(&format!(
            "Done: {total} rows in {} tables in ",
            before.counts.len()
        ))),
        "{moved:#?}"
    );
    eprintln!("migrate-data of {total} rows took {took:?} (the whole command)");

    let target = dupin::db::connect(target_url)
        .await
        .expect("the target database");
    assert_eq!(table_counts(&target).await, before.counts);
    assert_tallies_match_rows(&target, "the target").await;

    // The same target again: refused, naming a table that has rows.
    let again = terminal.run(&[
        "migrate-data",
        "--from",
        &terminal.database_url,
        "--to",
        target_url,
    ]);
    again.failed();
    assert_eq!(again.stdout, "");
    assert_eq!(
        again.stderr_lines(),
        [format!(
            "error: the target database is not empty: table school has {} rows. migrate-data \
             copies only into a new, empty database (do not start dupin on it before the copy)",
            before.counts[0].1
        )]
    );

    // dupin on the new database.
    let mut moved_terminal = Terminal::new();
    moved_terminal.base_url = None;
    moved_terminal.database_url = target_url.to_owned();
    let server = moved_terminal.start_server(&["--bind", "127.0.0.1:0", "--workers", "2"]);
    let (token, answers) = &before.answered[0];
    let mut phone = phone_at(&server.address);
    let form = phone.get(&format!("/s/{token}")).await;
    assert_eq!(form.status, StatusCode::OK, "the old link opens its form");
    assert!(form.body.contains("家长满意度测评"));
    for (token, answers) in &before.answered {
        assert_eq!(
            number(
                &target,
                &format!(
                    "SELECT CAST(response_count AS BIGINT) FROM campaign_link WHERE token = '{token}'"
                )
            )
            .await,
            *answers,
            "the old answers are counted"
        );
    }

    assert_eq!(
        answer(&server.address, token).await,
        StatusCode::SEE_OTHER,
        "a new answer is accepted"
    );
    assert_eq!(
        number(&target, "SELECT MAX(id) FROM response").await,
        before.max_response_id + 1,
        "the new answer's id continues after the copied ones"
    );
    dupin::answering::pending::settle(&target, None)
        .await
        .expect("the pending answers are added");
    assert_eq!(
        number(
            &target,
            &format!(
                "SELECT CAST(SUM(t.count) AS BIGINT) FROM tally t JOIN campaign_link l \
                 ON l.campaign_id = t.campaign_id AND l.school_id = t.school_id \
                 WHERE l.token = '{token}' AND t.question_key = 'overall_satisfaction'"
            )
        )
        .await,
        answers + 1
    );
    assert_tallies_match_rows(&target, "the target after a new answer").await;

    let mut browser = browser_at(&server.address);
    let signed_in = browser.sign_in(ADMIN, PASSWORD).await;
    assert_eq!(
        signed_in.status,
        StatusCode::SEE_OTHER,
        "{}",
        signed_in.body
    );
    let console = browser.get("/console/campaigns").await;
    assert_eq!(console.status, StatusCode::OK);
    assert!(console.body.contains("2026 家长满意度测评"));
    // The console's own writes (the sign-in's audit line) get new ids too.
    assert!(
        number(&target, "SELECT MAX(id) FROM audit_event").await
            > before
                .counts
                .iter()
                .find(|(table, _)| *table == "audit_event")
                .map_or(0, |(_, rows)| *rows),
        "audit ids continue"
    );
    server.stop();
}

#[actix_web::test]
async fn migrate_data_moves_a_county_from_sqlite_to_postgresql_without_losing_an_answer() {
    let Some((postgres_url, _database)) = new_postgres_database().await else {
        eprintln!(
            "SKIPPED: migrate_data to PostgreSQL: no PostgreSQL at DUPIN_TEST_POSTGRES or {}",
            crate::helpers::LOCAL_POSTGRES
        );
        return;
    };
    let (terminal, before) = a_county_that_has_been_answering().await;
    move_and_check(&terminal, &before, &postgres_url).await;
}

#[actix_web::test]
async fn migrate_data_copies_a_county_into_a_new_sqlite_file_as_well() {
    let (terminal, before) = a_county_that_has_been_answering().await;
    let target = format!(
        "sqlite://{}",
        terminal.folder().join("moved/dupin.sqlite3").display()
    );
    move_and_check(&terminal, &before, &target).await;
}

#[test]
fn json_logs_are_one_object_per_line_and_text_stays_the_default() {
    let terminal = Terminal::new();
    let file = crate::helpers::repo_path("tests/fixtures/schools/county.csv");
    let file = file.to_str().expect("UTF-8");

    let text = terminal.run(&["schools", "import", file]);
    text.succeeded();
    assert!(
        text.stderr
            .lines()
            .any(|line| line.contains(" INFO ") && line.contains("imported schools")),
        "{text:#?}"
    );
    assert!(!text.stderr.contains('{'), "{text:#?}");

    let json = terminal.run_with_env(
        &["schools", "import", file],
        &[("DUPIN_LOG_FORMAT", "json")],
    );
    json.succeeded();
    let lines: Vec<serde_json::Value> = json
        .stderr
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|error| panic!("{line:?}: {error}")))
        .collect();
    let imported = lines
        .iter()
        .find(|line| line["message"] == "imported schools")
        .unwrap_or_else(|| panic!("no import line in {lines:#?}"));
    assert_eq!(imported["level"], "INFO");
    assert_eq!(imported["target"], "dupin::schools::actions");
    assert_eq!(imported["updated"], 30);
    assert!(
        imported["timestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z'))
    );

    let refused = terminal.run_with_env(&["schools", "list"], &[("DUPIN_LOG_FORMAT", "xml")]);
    assert_eq!(refused.code, Some(2), "{refused:#?}");
    assert!(refused.stderr.contains("[possible values: text, json]"));
}

#[actix_web::test]
async fn a_database_with_invitations_keeps_their_links_working_once_only_hashes_are_kept() {
    use migration::{Migrator, MigratorTrait};
    let folder = tempfile::tempdir().expect("a folder");
    let url = format!(
        "sqlite://{}?mode=rwc",
        folder.path().join("old.sqlite3").display()
    );
    let db = sea_orm::Database::connect(&url).await.expect("a database");
    // The schema as the release before hashed links left it, with one invitation in it.
    Migrator::up(&db, Some(5))
        .await
        .expect("migrated to the fifth");
    let now = "2026-12-01 08:00:00+00:00";
    for sql in [
        format!(
            "INSERT INTO school (code, name, township, kind, is_central, is_key_village, enrolment, \
             teachers, created_at, updated_at) VALUES ('4521230001', '甲校', '石门镇', '小学', \
             false, false, 100, 10, '{now}', '{now}')"
        ),
        format!(
            "INSERT INTO survey_version (survey_id, digest, title, audience, definition, source, \
             created_at) VALUES ('teachers', 'd1', '教师问卷', 'teachers', '{{}}', '', '{now}')"
        ),
        format!(
            "INSERT INTO campaign (name, survey_version_id, status, created_at) \
             VALUES ('教师', 1, 'open', '{now}')"
        ),
        format!(
            "INSERT INTO campaign_link (campaign_id, school_id, token, response_count, expected, \
             created_at) VALUES (1, 1, 'SCHOOLTOKEN000000001', 0, 10, '{now}')"
        ),
        format!(
            "INSERT INTO teacher (school_id, name, email, created_at, updated_at) \
             VALUES (1, '张老师', 'zhang@example.cn', '{now}', '{now}')"
        ),
        format!(
            "INSERT INTO invitation (campaign_id, teacher_id, token, status, reminders, created_at) \
             VALUES (1, 1, 'PERSONALTOKEN0000001', 'sent', 0, '{now}')"
        ),
    ] {
        db.execute_unprepared(&sql)
            .await
            .unwrap_or_else(|error| panic!("{sql}: {error}"));
    }
    Migrator::up(&db, None).await.expect("migrated to the last");
    let found = dupin::answering::personal_links::find_personal_link(&db, "PERSONALTOKEN0000001")
        .await
        .expect("a read")
        .expect("the link still opens the form");
    assert_eq!(found.link_token, "SCHOOLTOKEN000000001");
    assert!(!found.answered);
    // Nothing holds the token itself any more.
    let columns = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Sqlite,
            "SELECT name FROM pragma_table_info('invitation')",
        ))
        .await
        .expect("columns");
    let names: Vec<String> = columns
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("a name"))
        .collect();
    assert!(!names.iter().any(|name| name == "token"), "{names:?}");
    let marked = db
        .execute_raw(dupin::answering::personal_links::mark_answered(
            sea_orm::DbBackend::Sqlite,
            "PERSONALTOKEN0000001",
        ))
        .await
        .expect("a write");
    assert_eq!(marked.rows_affected(), 1);
}
