//! `dupin bench-results`: the results benchmark. It fills a fresh database with a campaign of
//! many answers (a million over 500 schools by default) through the same validation and the
//! same group-commit transaction as real submissions, starts `dupin serve` as a child process,
//! signs in, and times what a supervisor waits for: the campaign's whole results page (every
//! chart and the rating), the county report, and the CSV export of every answer — sampling the
//! server's memory while the export streams, to show it stays flat.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use chrono::Utc;
use rand::RngExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, Statement,
};

use super::client::Connection;
use super::{Backend, ServerUnderTest, Store, random_submission, synthetic_campaign};
use crate::accounts::{self, NewAccount, Role};
use crate::answering::writer::{self, Submission};
use crate::survey::{self, Survey};

/// Answers stored per transaction while filling: the writer's own batch size.
const FILL_BATCH: usize = 2_000;
const BENCH_EMAIL: &str = "bench@dupin.invalid";
const BENCH_CAMPAIGN: &str = "bench results";

#[derive(clap::Args, Debug, Clone)]
pub struct ResultsBenchArgs {
    /// Answers to store in the campaign.
    #[arg(long, default_value_t = 1_000_000)]
    pub answers: u64,
    /// Synthetic schools in the campaign.
    #[arg(long, default_value_t = 500)]
    pub schools: usize,
    /// The survey answered.
    #[arg(long, default_value = "parents")]
    pub survey: String,
    /// Times each page is fetched after one warm-up request.
    #[arg(long, default_value_t = 10)]
    pub rounds: usize,
    /// Where the answers go: a fresh SQLite file, or a fresh PostgreSQL database.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    /// A PostgreSQL account allowed to create databases, for `--backend postgres`.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres_admin: String,
    /// Keep the benchmark's database instead of deleting it.
    #[arg(long)]
    pub keep: bool,
    /// Measure again a database an earlier `--keep` run left (its URL, as that run printed
    /// it) instead of filling a new one; the database is left as it is.
    #[arg(long, value_name = "DATABASE_URL")]
    pub reuse: Option<String>,
}

pub async fn run(args: ResultsBenchArgs, surveys_dir: PathBuf) -> anyhow::Result<()> {
    if let Some(url) = &args.reuse {
        return remeasure(&args, url, &surveys_dir).await;
    }
    let catalog = survey::load_dir(&surveys_dir).map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let entry = catalog
        .get(&args.survey)
        .with_context(|| format!("no survey \"{}\" in {}", args.survey, surveys_dir.display()))?;
    let survey = entry.survey.clone();
    let store = Store::create(args.backend, &args.postgres_admin).await?;
    let database_url = store.url();
    println!(
        "dupin bench-results: survey {} ({} questions), {} answers over {} schools",
        survey.id,
        survey.question_count(),
        args.answers,
        args.schools
    );
    println!("  database: {database_url} ({:?})", args.backend);

    let db = crate::db::connect(&database_url).await?;
    let (campaign, links) = synthetic_campaign(&db, entry, args.schools, BENCH_CAMPAIGN).await?;
    let password = accounts::generate_password();
    accounts::create(
        &db,
        NewAccount {
            email: BENCH_EMAIL.to_owned(),
            display_name: "bench".to_owned(),
            password: password.clone(),
            role: Role::Supervisor,
            school_id: None,
        },
    )
    .await?;

    let started = Instant::now();
    let stored = fill(&db, &survey, &campaign, &links, args.answers).await?;
    let fill_seconds = started.elapsed().as_secs_f64();
    // A server that received a million answers over weeks has had its statistics gathered by
    // autovacuum many times; one filled in minutes has not yet (PostgreSQL would plan for a few
    // hundred answers). Gathered now, as autovacuum would have.
    if args.backend == Backend::Postgres {
        db.execute_unprepared("ANALYZE").await?;
    }
    println!(
        "  filled: {stored} answers in {fill_seconds:.1} s ({:.0} answers/s, through the writer's transaction)",
        stored as f64 / fill_seconds
    );
    let size = database_size(&db).await;
    if let Some(bytes) = size {
        println!("  database size: {:.0} MB", bytes as f64 / 1e6);
    }

    let mut server = ServerUnderTest::start(&database_url, &surveys_dir, None).await?;
    let outcome = measure(&args, &server, campaign.id, &password).await;
    server.stop().await;
    db.close().await.ok();
    if args.keep {
        println!(
            "  kept: {database_url}\n  measure it again with: dupin bench-results --reuse {database_url}"
        );
    } else {
        store.remove().await;
    }
    outcome
}

/// Measures a database an earlier `--keep` run filled: its latest benchmark campaign, signed in
/// as its benchmark account with a new password.
async fn remeasure(
    args: &ResultsBenchArgs,
    database_url: &str,
    surveys_dir: &std::path::Path,
) -> anyhow::Result<()> {
    let db = crate::db::connect(database_url).await?;
    let campaign = entity::campaign::Entity::find()
        .filter(entity::campaign::Column::Name.eq(BENCH_CAMPAIGN))
        .all(&db)
        .await?
        .into_iter()
        .max_by_key(|campaign| campaign.id)
        .with_context(|| {
            format!(
                "{database_url} has no campaign \"{BENCH_CAMPAIGN}\": not a kept benchmark database"
            )
        })?;
    let account = accounts::find_by_email(&db, BENCH_EMAIL)
        .await?
        .with_context(|| format!("{database_url} has no account {BENCH_EMAIL}"))?;
    let password = accounts::generate_password();
    accounts::set_password(&db, account, &password).await?;
    let answers: i64 = entity::campaign_link::Entity::find()
        .filter(entity::campaign_link::Column::CampaignId.eq(campaign.id))
        .all(&db)
        .await?
        .iter()
        .map(|link| link.response_count)
        .sum();
    println!(
        "dupin bench-results: measuring again {database_url}, campaign {} ({answers} answers)",
        campaign.id
    );
    if let Some(bytes) = database_size(&db).await {
        println!("  database size: {:.0} MB", bytes as f64 / 1e6);
    }
    db.close().await.ok();
    let mut server = ServerUnderTest::start(database_url, surveys_dir, None).await?;
    let outcome = measure(args, &server, campaign.id, &password).await;
    server.stop().await;
    outcome
}

/// Stores `count` random valid answers spread over the links, `FILL_BATCH` per transaction,
/// with `writer::commit`: the rows, tallies and link counts are exactly what real submissions
/// leave. Returns how many were stored.
pub(super) async fn fill(
    db: &DatabaseConnection,
    survey: &Survey,
    campaign: &entity::campaign::Model,
    links: &[entity::campaign_link::Model],
    count: u64,
) -> anyhow::Result<u64> {
    if links.is_empty() {
        bail!("the campaign has no schools");
    }
    let progress = crate::progress::Progress::new("filling", "answers", count);
    let mut rng = rand::rng();
    let now = Utc::now();
    let mut stored = 0u64;
    let mut invalid = 0u64;
    while stored < count {
        let size = FILL_BATCH.min((count - stored) as usize);
        let mut batch = Vec::with_capacity(size);
        while batch.len() < size {
            let link = &links[rng.random_range(0..links.len())];
            let Some(submission) = random_submission(survey, campaign, link, &mut rng) else {
                invalid += 1;
                if invalid > 1_000 && invalid > stored {
                    bail!("the random answers keep failing validation");
                }
                continue;
            };
            // Spread over the last four weeks, so that date filters have something to cut.
            let age = Duration::from_secs(rng.random_range(0..28 * 24 * 3600));
            batch.push(Submission {
                submitted_at: now - age,
                ..submission
            });
        }
        writer::commit(db, &batch).await?;
        stored += batch.len() as u64;
        progress.set(stored, count);
    }
    progress.finish();
    Ok(stored)
}

async fn database_size(db: &DatabaseConnection) -> Option<u64> {
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Sqlite => {
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"
        }
        _ => "SELECT pg_database_size(current_database())",
    };
    let row = db
        .query_one_raw(Statement::from_string(backend, sql.to_owned()))
        .await
        .ok()??;
    row.try_get_by_index::<i64>(0)
        .ok()
        .map(|bytes| bytes as u64)
}

/// Signs in, then times the pages and the export against the running server.
async fn measure(
    args: &ResultsBenchArgs,
    server: &ServerUnderTest,
    campaign_id: i32,
    password: &str,
) -> anyhow::Result<()> {
    let mut connection = Connection::open(server.port).await?;
    let session = sign_in(&mut connection, password).await?;
    let rss_before = current_rss_kib(server.pid);
    println!();
    println!("  page                                   first      p50      max   size");
    let pages = [
        (
            "results page (charts, rating)",
            format!("/console/campaigns/{campaign_id}/results"),
        ),
        (
            "results, one township",
            format!(
                "/console/campaigns/{campaign_id}/results?township=%E6%B5%8B%E8%AF%951%E9%95%87"
            ),
        ),
        ("county report", "/console/reports/county".to_owned()),
        ("assessment page", "/console/assessment".to_owned()),
        (
            "response rates",
            format!("/console/campaigns/{campaign_id}"),
        ),
    ];
    let mut results_p50 = None;
    for (index, (name, path)) in pages.iter().enumerate() {
        let head = get_head(path, &session);
        let mut times = Vec::with_capacity(args.rounds + 1);
        let mut size = 0;
        for _ in 0..=args.rounds {
            let started = Instant::now();
            let response = connection.request(&head, b"", false).await?;
            times.push(started.elapsed());
            if response.status != 200 {
                bail!("GET {path} answered {}", response.status);
            }
            size = response.body.len();
        }
        let first = times[0];
        let mut rest = times[1..].to_vec();
        rest.sort();
        let p50 = rest.get(rest.len() / 2).copied().unwrap_or(first);
        let max = rest.last().copied().unwrap_or(first);
        if index == 0 {
            results_p50 = Some(p50);
        }
        println!(
            "  {name:<38} {:>6.1} ms {:>6.1} ms {:>6.1} ms {:>5} KB",
            ms(first),
            ms(p50),
            ms(max),
            size / 1024
        );
    }

    // The export: streamed through a small buffer, counting bytes and lines, while a sampler
    // reads the server's resident memory every 50 ms.
    let sampling = Arc::new(AtomicBool::new(true));
    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let sampling = sampling.clone();
        let peak = peak.clone();
        let pid = server.pid;
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(current_rss_kib(pid), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let rss_start = current_rss_kib(server.pid);
    let started = Instant::now();
    let counted = connection
        .request_counted(&get_head(
            &format!("/console/campaigns/{campaign_id}/export.csv"),
            &session,
        ))
        .await?;
    let export_seconds = started.elapsed().as_secs_f64();
    sampling.store(false, Ordering::Relaxed);
    let _ = sampler.await;
    if counted.status != 200 {
        bail!("GET export.csv answered {}", counted.status);
    }
    println!();
    println!(
        "  CSV export of every answer: {:.1} s, {} rows, {:.0} MB ({:.0} MB/s)",
        export_seconds,
        counted.lines.saturating_sub(1),
        counted.bytes as f64 / 1e6,
        counted.bytes as f64 / 1e6 / export_seconds
    );
    println!(
        "  server memory (RSS): {:.0} MB before the pages, {:.0} MB when the export began, {:.0} MB at most during it",
        rss_before as f64 / 1024.0,
        rss_start as f64 / 1024.0,
        peak.load(Ordering::Relaxed) as f64 / 1024.0
    );
    if let Some(p50) = results_p50 {
        println!(
            "  targets: results page ≤ 100 ms (p50 {:.1} ms), CSV export ≤ 15 s ({export_seconds:.1} s)",
            ms(p50)
        );
    }
    Ok(())
}

fn get_head(path: &str, session: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {session}\r\n\r\n")
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// Signs the benchmark's supervisor in and returns the `Cookie` header value of its session.
/// The sign-in form's CSRF token is double-submitted, so any value works in both places.
async fn sign_in(connection: &mut Connection, password: &str) -> anyhow::Result<String> {
    let csrf = crate::secrets::random_key();
    let body = super::client::encode(&[
        ("email".to_owned(), BENCH_EMAIL.to_owned()),
        ("password".to_owned(), password.to_owned()),
        ("next".to_owned(), "/console".to_owned()),
        ("_csrf".to_owned(), csrf.clone()),
    ]);
    let head = format!(
        "POST /console/login HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: dupin_login_csrf={csrf}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let response = connection.request(&head, body.as_bytes(), false).await?;
    let prefix = format!("{}=", crate::web::console::session::SESSION_COOKIE);
    response
        .cookies
        .into_iter()
        .find(|pair| pair.starts_with(&prefix) && pair.len() > prefix.len())
        .with_context(|| format!("sign-in failed ({})", response.status))
}

/// The resident memory of a process now, in KiB (0 when unreadable).
fn current_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmRSS:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse().ok())
        })
        .unwrap_or(0)
}
