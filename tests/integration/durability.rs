//! An acknowledged answer survives the server being killed: phones answer while `dupin` is
//! killed with SIGKILL again and again; after each restart every acknowledged answer is there,
//! and no answer is half-written (tallies and link counts agree with the rows).

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use awc::http::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

use crate::cli::Terminal;
use crate::helpers::{answers_for, catalog_survey, edit_file, encode_form};

const ROUNDS: usize = 6;
const PHONES: usize = 8;

/// One phone's loop: open a random school's form, answer, submit; remember the key of every
/// answer the server acknowledged. Ends when the server stops answering.
async fn answer_until_the_server_dies(
    address: String,
    tokens: Arc<Vec<String>>,
    fields: Arc<Vec<(String, String)>>,
    acknowledged: Arc<Mutex<HashSet<String>>>,
) {
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(5))
        .disable_redirects()
        .finish();
    for n in 0.. {
        let token = &tokens[n % tokens.len()];
        let Ok(mut form) = client.get(format!("{address}/s/{token}")).send().await else {
            return;
        };
        let Ok(body) = form.body().limit(1 << 20).await else {
            return;
        };
        let body = String::from_utf8_lossy(&body);
        let hidden = |name: &str| -> Option<String> {
            let marker = format!("name=\"{name}\" value=\"");
            let start = body.find(&marker)? + marker.len();
            Some(body[start..start + body[start..].find('"')?].to_owned())
        };
        let (Some(key), Some(served), Some(cookie)) = (
            hidden("_key"),
            hidden("_t"),
            form.headers()
                .get("set-cookie")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.split(';').next())
                .map(str::to_owned),
        ) else {
            return;
        };
        let mut all = vec![("_key".to_owned(), key.clone()), ("_t".to_owned(), served)];
        all.extend(fields.iter().cloned());
        let sent = client
            .post(format!("{address}/s/{token}"))
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .insert_header(("Cookie", cookie))
            .send_body(encode_form(&all))
            .await;
        match sent {
            Ok(response) if response.status() == StatusCode::SEE_OTHER => {
                if let Ok(mut keys) = acknowledged.lock() {
                    keys.insert(key);
                }
            }
            _ => return,
        }
    }
}

#[actix_web::test]
async fn acknowledged_answers_survive_sigkill_and_none_is_half_written() {
    let mut terminal = Terminal::new();
    // Every phone here answers from one address (loopback) as fast as it can: by the shipped
    // rules nearly all of it would be held, and how much counts would depend on the machine's
    // speed (once the fastest machines held it all, and the counts below proved nothing). So
    // this plan lets every answer through, and every stored answer must be counted.
    let plan = terminal.copy_the_plan();
    edit_file(
        &plan.join("rating.toml"),
        "answers_per_minute_floor = 50 ",
        "answers_per_minute_floor = 1000000 ",
    );
    edit_file(
        &plan.join("rating.toml"),
        "answers_per_address = 60 ",
        "answers_per_address = 1000000 ",
    );
    terminal.import_county_schools();
    terminal
        .run(&[
            "campaign",
            "create",
            "--survey",
            "parents",
            "--name",
            "断电测试",
        ])
        .succeeded();
    let links = terminal.run(&["campaign", "links", "1"]);
    let tokens: Arc<Vec<String>> = Arc::new(
        links
            .succeeded()
            .stdout_lines()
            .iter()
            .filter_map(|line| line.rsplit('/').next().map(str::to_owned))
            .collect(),
    );
    let fields = Arc::new(answers_for(&catalog_survey("parents")));
    let acknowledged: Arc<Mutex<HashSet<String>>> = Arc::default();

    for round in 0..ROUNDS {
        let server = terminal.start_server(&["--bind", "127.0.0.1:0"]);
        let phones: Vec<_> = (0..PHONES)
            .map(|_| {
                actix_web::rt::spawn(answer_until_the_server_dies(
                    server.address.clone(),
                    tokens.clone(),
                    fields.clone(),
                    acknowledged.clone(),
                ))
            })
            .collect();
        // Kill at a different moment each round, while answers are in flight.
        actix_web::rt::time::sleep(Duration::from_millis(300 + 170 * round as u64)).await;
        server.stop();
        for phone in phones {
            let _ = phone.await;
        }
    }

    let acknowledged = acknowledged.lock().expect("keys").clone();
    assert!(
        acknowledged.len() > 50,
        "only {} answers were acknowledged: the test proved little",
        acknowledged.len()
    );
    let db = dupin::db::connect(&terminal.database_url)
        .await
        .expect("the database opens after the kills");
    let number = |sql: &str| {
        let db = db.clone();
        let sql = sql.to_owned();
        async move {
            db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("query")
                .expect("row")
                .try_get_by_index::<i64>(0)
                .expect("number")
        }
    };
    let stored: HashSet<String> = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT idempotency_key FROM response".to_owned(),
        ))
        .await
        .expect("keys")
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).expect("key"))
        .collect();
    let lost: Vec<&String> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged answers were lost",
        lost.len()
    );

    let responses = number("SELECT COUNT(*) FROM response").await;
    eprintln!(
        "{} answers acknowledged across {ROUNDS} kills; {responses} stored (the rest were in flight)",
        acknowledged.len()
    );
    assert!(responses >= acknowledged.len() as i64);
    // The running counts must match exactly the answers that count — once the answers the
    // killed writer left pending are added, as dupin adds them when it starts again.
    dupin::answering::pending::settle(&db, None)
        .await
        .expect("the pending answers are added");
    let included = number("SELECT COUNT(*) FROM response WHERE excluded = false").await;
    assert_eq!(included, responses, "this plan holds no answer");
    assert_eq!(
        number("SELECT CAST(SUM(response_count) AS BIGINT) FROM campaign_link").await,
        included,
        "link counts disagree with the included answers"
    );
    assert_eq!(
        number("SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM tally WHERE question_key = 'overall_satisfaction'").await,
        included,
        "tallies disagree with the included answers"
    );
}
