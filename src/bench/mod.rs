//! `dupin bench`: the capacity benchmark. It makes a fresh database with synthetic schools and a
//! campaign, starts `dupin serve` as a child process, drives simulated phones over loopback HTTP
//! (open the form, answer it, submit), and reports complete submissions per second, latency,
//! the server's CPU per submission and peak memory — and checks that every acknowledged answer
//! is stored, and nothing more, and that the running counts equal a recount of those answers
//! (`counts`). After dupin, the same load measures the machine's ceiling (`ceiling`), alone and
//! then in pairs of slices that drive the two servers in turn (`paired_slices`).

mod ceiling;
pub use ceiling::{CeilingArgs, serve as serve_ceiling};
mod client;
pub(crate) mod counts;
pub mod results;

use crate::campaigns::actions::create_campaign;
use crate::change::{self, Actor};
use crate::schools::actions::import_schools;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use entity::{campaign, campaign_link};
use rand::RngExt;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    Statement,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

use crate::answering::validate::{FormFields, validate};
use crate::answering::writer::Submission;
use crate::campaigns::{self, NewCampaign, SchoolSelection};
use crate::schools::{NewSchool, SchoolKind};
use crate::survey::{self, CatalogEntry, QuestionKind, Survey};
use client::Connection;

#[derive(clap::Args, Debug, Clone)]
pub struct BenchArgs {
    /// Simulated phones submitting at the same time.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// How long to drive load, in seconds (after the warm-up).
    #[arg(long, default_value_t = 10)]
    pub duration: u64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2)]
    pub warmup: u64,
    /// The survey to answer.
    #[arg(long, default_value = "parents")]
    pub survey: String,
    /// Synthetic schools in the campaign.
    #[arg(long, default_value_t = 100)]
    pub schools: usize,
    /// Ask for gzip like a phone browser does (the server then compresses every form).
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
    pub gzip: bool,
    /// HTTP worker threads of the server under test (default: one per core).
    #[arg(long)]
    pub server_workers: Option<usize>,
    /// Keep the benchmark's database instead of deleting it.
    #[arg(long)]
    pub keep: bool,
    /// Where the answers go: a fresh SQLite file, or a fresh PostgreSQL database.
    #[arg(long, value_enum, default_value_t = Backend::Sqlite)]
    pub backend: Backend,
    /// A PostgreSQL account allowed to create databases, for `--backend postgres`.
    #[arg(long, default_value = "postgres://postgres@127.0.0.1:5432/postgres")]
    pub postgres_admin: String,
    /// Seconds of GET / afterwards (the server's own ceiling); 0 also skips the in-run
    /// submission ceiling (the same load against a server that only parses, see `ceiling.rs`).
    #[arg(long, default_value_t = 3)]
    pub ceiling: u64,
    /// Pairs of paired slices after the in-run ceiling: with both servers up, the same load
    /// drives dupin's and the ceiling's in turn for `--slice` seconds each (after a second's
    /// warm-up), the order swapped every other pair, so that each pair measures both on the
    /// machine as it is at that moment; dupin's share in each pair and their median are
    /// printed. 0 skips them.
    #[arg(long, default_value_t = 4)]
    pub paired: usize,
    /// Seconds each paired slice is measured (at least 1).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..))]
    pub slice: u64,
    /// Whole runs, each on a fresh database and server; with more than one, the median of each
    /// figure is printed at the end as a table row for README.
    #[arg(long, default_value_t = 1)]
    pub runs: usize,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The benchmark's own database, made for the run and removed after it.
enum Store {
    Sqlite { dir: PathBuf },
    Postgres { admin_url: String, name: String },
}

impl Store {
    async fn create(backend: Backend, postgres_admin: &str) -> anyhow::Result<Store> {
        match backend {
            Backend::Sqlite => Ok(Store::Sqlite {
                dir: tempfile_dir()?,
            }),
            Backend::Postgres => {
                let name = format!("dupin_bench_{}", crate::secrets::random_key());
                let admin = sea_orm::Database::connect(postgres_admin)
                    .await
                    .with_context(|| format!("cannot reach PostgreSQL at {postgres_admin}"))?;
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .context("cannot create the benchmark's database")?;
                Ok(Store::Postgres {
                    admin_url: postgres_admin.to_owned(),
                    name,
                })
            }
        }
    }

    fn url(&self) -> String {
        match self {
            Store::Sqlite { dir } => format!("sqlite://{}/bench.sqlite3", dir.display()),
            Store::Postgres { admin_url, name } => {
                let base = admin_url
                    .rsplit_once('/')
                    .map_or(admin_url.as_str(), |(base, _)| base);
                format!("{base}/{name}")
            }
        }
    }

    async fn remove(&self) {
        match self {
            Store::Sqlite { dir } => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Store::Postgres { admin_url, name } => {
                if let Ok(admin) = sea_orm::Database::connect(admin_url).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                }
            }
        }
    }
}

/// Everything the run measured.
#[derive(Debug)]
pub struct BenchReport {
    pub submissions: u64,
    pub seconds: f64,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub failures: u64,
    pub acknowledged: u64,
    pub stored: i64,
    pub server_cpu_seconds: f64,
    pub server_peak_rss_kib: u64,
    /// GET / per second on the same server afterwards: what the server does with no work.
    pub ceiling_per_second: f64,
    /// Complete submissions per second against the ceiling's server (`ceiling.rs`): the form
    /// from memory, the POST only parsed, on the same HTTP stack and load generator.
    pub submission_ceiling_per_second: f64,
    /// That server's CPU seconds per submission.
    pub submission_ceiling_cpu_seconds: f64,
    /// dupin's rate over the ceiling's in each pair of paired slices (`--paired`).
    pub paired_shares: Vec<f64>,
    /// Answers dupin acknowledged in the paired slices, after the run's own (`acknowledged`).
    pub acknowledged_in_pairs: u64,
}

/// "1 pair", "4 pairs".
fn pairs(count: usize) -> String {
    if count == 1 {
        "1 pair".to_owned()
    } else {
        format!("{count} pairs")
    }
}

impl BenchReport {
    /// Every answer dupin acknowledged: the run's and the paired slices'.
    fn all_acknowledged(&self) -> i64 {
        i64::try_from(self.acknowledged + self.acknowledged_in_pairs).unwrap_or(i64::MAX)
    }
}

pub async fn run(args: BenchArgs, surveys_dir: PathBuf) -> anyhow::Result<()> {
    let runs = args.runs.max(1);
    let mut figures = Vec::with_capacity(runs);
    for number in 1..=runs {
        if runs > 1 {
            println!("== run {number} of {runs}");
        }
        figures.push(run_once(&args, &surveys_dir).await?);
        if runs > 1 {
            println!();
        }
    }
    if runs > 1 {
        print_median(&args, &figures);
    }
    if let Some(run) = figures.iter().position(|figures| !figures.stored_equal) {
        bail!(
            "run {}: the answers stored differ from the answers acknowledged",
            run + 1
        );
    }
    if let Some(run) = figures.iter().position(|figures| !figures.counts_agree) {
        bail!(
            "run {}: the running counts differ from a recount of the stored answers",
            run + 1
        );
    }
    Ok(())
}

/// What one run measured, for the median of several.
#[derive(Clone, Debug)]
struct Figures {
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    cpu_ms: f64,
    rss_mb: f64,
    machine_rate: f64,
    /// dupin's share of the ceiling in each pair of paired slices.
    paired_shares: Vec<f64>,
    stored_equal: bool,
    counts_agree: bool,
}

/// The median of `values` (the mean of the middle two for an even count).
fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    match values.len() {
        0 => 0.0,
        n if n % 2 == 1 => values[middle],
        _ => (values[middle - 1] + values[middle]) / 2.0,
    }
}

/// The median of every figure over the runs, and the range of the rate, as a README table row.
fn print_median(args: &BenchArgs, figures: &[Figures]) {
    let of = |figure: fn(&Figures) -> f64| median(figures.iter().map(figure).collect());
    let rates: Vec<f64> = figures.iter().map(|figures| figures.rate).collect();
    let (low, high) = rates
        .iter()
        .fold((f64::MAX, f64::MIN), |(low, high), rate| {
            (low.min(*rate), high.max(*rate))
        });
    let machine = of(|figures| figures.machine_rate);
    let share = if machine > 0.0 {
        format!("{:.0} %", 100.0 * of(|figures| figures.rate) / machine)
    } else {
        "—".to_owned()
    };
    // Every pair of every run: each pair is a measurement of its own.
    let all: Vec<f64> = figures
        .iter()
        .flat_map(|figures| figures.paired_shares.iter().copied())
        .collect();
    let paired = if all.is_empty() {
        "—".to_owned()
    } else {
        let (low, high) = all.iter().fold((f64::MAX, f64::MIN), |(low, high), share| {
            (low.min(*share), high.max(*share))
        });
        format!(
            "{:.0} % ({:.0}–{:.0}, {})",
            100.0 * median(all.clone()),
            100.0 * low,
            100.0 * high,
            pairs(all.len())
        )
    };
    println!("median of {} runs:", figures.len());
    println!(
        "| backend | concurrency | submissions/s (range) | p50 | p99 | server CPU / submission | peak RSS | machine ceiling | dupin's share | dupin's share, paired slices | stored = acknowledged |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {:?} | {} | {:.0} ({:.0}–{:.0}) | {:.1} ms | {:.1} ms | {:.3} ms | {:.0} MB | {:.0}/s | {share} | {paired} | {} |",
        args.backend,
        args.concurrency,
        of(|figures| figures.rate),
        low,
        high,
        of(|figures| figures.p50_ms),
        of(|figures| figures.p99_ms),
        of(|figures| figures.cpu_ms),
        of(|figures| figures.rss_mb),
        machine,
        if figures.iter().all(|figures| figures.stored_equal) {
            "yes, every run"
        } else {
            "NO"
        }
    );
}

/// One run: a fresh database and server, the load, the ceilings; prints its report.
async fn run_once(args: &BenchArgs, surveys_dir: &std::path::Path) -> anyhow::Result<Figures> {
    let catalog = survey::load_dir(surveys_dir).map_err(|errors| anyhow::anyhow!("{errors}"))?;
    let entry = catalog
        .get(&args.survey)
        .with_context(|| format!("no survey \"{}\" in {}", args.survey, surveys_dir.display()))?;
    let survey = entry.survey.clone();

    let store = Store::create(args.backend, &args.postgres_admin).await?;
    let database_url = store.url();
    println!(
        "dupin bench: survey {} ({} questions), {} schools, concurrency {}, {} s (+{} s warm-up), gzip {}",
        survey.id,
        survey.question_count(),
        args.schools,
        args.concurrency,
        args.duration,
        args.warmup,
        args.gzip
    );
    println!("  database: {database_url} ({:?})", args.backend);

    let db = crate::db::connect(&database_url).await?;
    let (campaign, links) = synthetic_campaign(&db, entry, args.schools, "bench").await?;
    let tokens: Vec<String> = links.into_iter().map(|link| link.token).collect();

    let plan_dir = plan_without_link_rate(surveys_dir)?;
    println!(
        "  admission: a link's rate per minute raised to {BENCH_LINK_RATE} for the run (a hundred \
         schools cannot send thousands of honest answers a second); the per-address ceiling as \
         shipped, one address per phone"
    );
    let mut server = ServerUnderTest::start(&database_url, &plan_dir, args.server_workers).await?;
    let report = drive(args, server.port, &tokens, &survey).await;
    let usage = server.usage();
    let ceiling = ceiling(args, &server).await;
    let served_form = if args.ceiling > 0 {
        Some(served_form(server.port, &tokens[0]).await?)
    } else {
        None
    };
    let mut report = report?;
    report.ceiling_per_second = ceiling;
    if let Some((form, cookie)) = served_form {
        let mut machine = start_submission_ceiling(args, form, &cookie).await?;
        let measured = submission_ceiling(args, &machine, &tokens, &survey).await;
        let paired = match measured {
            Ok(figures) => {
                (
                    report.submission_ceiling_per_second,
                    report.submission_ceiling_cpu_seconds,
                ) = figures;
                paired_slices(args, server.port, machine.port, &tokens, &survey).await
            }
            Err(error) => Err(error),
        };
        machine.stop().await;
        let (shares, acknowledged) = paired?;
        report.paired_shares = shares;
        report.acknowledged_in_pairs = acknowledged;
    }
    server.stop().await;
    report.server_cpu_seconds = usage.0;
    report.server_peak_rss_kib = usage.1;
    report.stored = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM response".to_owned(),
        ))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    let held = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT COUNT(*) FROM response WHERE flags LIKE '%held%'".to_owned(),
        ))
        .await?
        .map(|row| row.try_get_by_index::<i64>(0))
        .transpose()?
        .unwrap_or(0);
    let counts = counts::check(&db, campaign.id).await?;
    print_report(&report);
    println!("  held:       {held} answers past a rate (0 expected)");
    println!(
        "  counts:     tallies, score sums and link counts of {} schools {}",
        counts.schools,
        if counts.agree() {
            "equal a recount of the stored answers".to_owned()
        } else {
            format!(
                "DIFFER from a recount of the stored answers (tallies of schools {:?}, score \
                 sums of {:?}, link counts of {:?})",
                counts.tallies_differ, counts.sums_differ, counts.links_differ
            )
        }
    );
    println!(
        "  pending:    {} answers' counts were still pending after the run, added by the check",
        counts.pending
    );
    db.close().await.ok();
    let _ = std::fs::remove_dir_all(&plan_dir);
    if !args.keep {
        store.remove().await;
    }
    Ok(Figures {
        rate: report.submissions as f64 / report.seconds,
        p50_ms: report.p50.as_secs_f64() * 1000.0,
        p99_ms: report.p99.as_secs_f64() * 1000.0,
        cpu_ms: report.server_cpu_seconds * 1000.0 / report.acknowledged.max(1) as f64,
        rss_mb: report.server_peak_rss_kib as f64 / 1024.0,
        machine_rate: report.submission_ceiling_per_second,
        paired_shares: report.paired_shares.clone(),
        stored_equal: report.stored == report.all_acknowledged(),
        counts_agree: counts.agree(),
    })
}

/// The per-minute floor of a link's rate during `dupin bench`.
const BENCH_LINK_RATE: u32 = 1_000_000;

/// A copy of the plan in a folder of its own whose `[quality]` lets each link take
/// [`BENCH_LINK_RATE`] answers a minute: the benchmark drives every school far past any honest
/// rate, and measures the answers' path, not the hold.
fn plan_without_link_rate(surveys_dir: &std::path::Path) -> anyhow::Result<PathBuf> {
    let dir = tempfile_dir()?;
    for entry in std::fs::read_dir(surveys_dir)
        .with_context(|| format!("cannot read {}", surveys_dir.display()))?
    {
        let path = entry?.path();
        if path.is_file() {
            let target = dir.join(path.file_name().context("a file name")?);
            std::fs::copy(&path, &target)
                .with_context(|| format!("cannot copy {}", path.display()))?;
        }
    }
    let rating = dir.join("rating.toml");
    let text = std::fs::read_to_string(&rating).unwrap_or_default();
    let mut lines: Vec<String> = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("answers_per_minute_floor"))
        .map(str::to_owned)
        .collect();
    let floor = format!("answers_per_minute_floor = {BENCH_LINK_RATE}");
    match lines.iter().position(|line| line.trim() == "[quality]") {
        Some(at) => lines.insert(at + 1, floor),
        None => {
            lines.push("[quality]".to_owned());
            lines.push(floor);
        }
    }
    std::fs::write(&rating, lines.join("\n") + "\n")
        .with_context(|| format!("cannot write {}", rating.display()))?;
    Ok(dir)
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("dupin-bench-{}", crate::secrets::random_key()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

fn print_report(report: &BenchReport) {
    let rate = report.submissions as f64 / report.seconds;
    println!();
    println!(
        "complete submissions (GET form + POST answers): {} in {:.1} s",
        report.submissions, report.seconds
    );
    println!("  rate:       {rate:.0} submissions/s");
    println!(
        "  latency:    p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        report.p50.as_secs_f64() * 1000.0,
        report.p99.as_secs_f64() * 1000.0,
        report.max.as_secs_f64() * 1000.0
    );
    println!("  failures:   {}", report.failures);
    println!(
        "  server:     {:.3} ms CPU per submission, peak RSS {:.1} MB",
        report.server_cpu_seconds * 1000.0 / report.acknowledged.max(1) as f64,
        report.server_peak_rss_kib as f64 / 1024.0
    );
    println!(
        "  ceiling:    {:.0} GET / per second on the same server (no database, no rendering)",
        report.ceiling_per_second
    );
    if report.submission_ceiling_per_second > 0.0 {
        println!(
            "  machine:    {:.0} submissions/s with the form from memory and the POST only parsed \
             (same HTTP stack, workers and load; {:.3} ms CPU per submission); dupin at {:.0} % of it",
            report.submission_ceiling_per_second,
            report.submission_ceiling_cpu_seconds * 1000.0,
            100.0 * rate / report.submission_ceiling_per_second
        );
    }
    if !report.paired_shares.is_empty() {
        let each: Vec<String> = report
            .paired_shares
            .iter()
            .map(|share| format!("{:.0}", 100.0 * share))
            .collect();
        println!(
            "  paired:     dupin at {:.0} % of the ceiling, the median of {} of slices driven in \
             turn with both servers up ({} %)",
            100.0 * median(report.paired_shares.clone()),
            pairs(report.paired_shares.len()),
            each.join(", ")
        );
    }
    println!(
        "  durability: {} acknowledged, {} stored — {}",
        report.all_acknowledged(),
        report.stored,
        if report.stored == report.all_acknowledged() {
            "equal"
        } else {
            "DIFFERENT"
        }
    );
}

/// Imports `schools` synthetic schools and opens a campaign `name` of `entry`'s survey over all
/// of them: what `dupin bench`, `dupin bench-results` and the writer's tests start from. Returns
/// the campaign and its links, in the order they were made.
pub async fn synthetic_campaign(
    db: &DatabaseConnection,
    entry: &CatalogEntry,
    schools: usize,
    name: &str,
) -> anyhow::Result<(campaign::Model, Vec<campaign_link::Model>)> {
    let context = change::Context::new(db.clone(), "");
    import_schools(
        &context,
        Actor::CommandLine,
        "bench",
        &synthetic_schools(schools),
        &|_| {},
    )
    .await?;
    let (campaign, _) = create_campaign(
        &context,
        Actor::CommandLine,
        NewCampaign {
            name: name.to_owned(),
            survey: entry,
            opens_at: None,
            closes_at: None,
            schools: SchoolSelection::All,
            status: campaigns::CampaignStatus::Open,
            expected_override: None,
        },
    )
    .await?;
    let links = campaign_link::Entity::find()
        .filter(campaign_link::Column::CampaignId.eq(campaign.id))
        .order_by_asc(campaign_link::Column::Id)
        .all(db)
        .await?;
    Ok((campaign, links))
}

/// Schools with plausible codes, names and sizes.
pub fn synthetic_schools(count: usize) -> Vec<NewSchool> {
    let kinds = [
        SchoolKind::Primary,
        SchoolKind::Junior,
        SchoolKind::TeachingPoint,
        SchoolKind::Kindergarten,
    ];
    (0..count)
        .map(|n| NewSchool {
            code: format!("99{n:08}"),
            name: format!("测试第{}学校", n + 1),
            township: format!("测试{}镇", n % 12 + 1),
            kind: kinds[n % kinds.len()],
            is_central: n % 12 == 0,
            is_key_village: n % 3 == 0,
            enrolment: 200 + (n as i32 * 37) % 900,
            teachers: 12 + (n as i32 * 7) % 60,
        })
        .collect()
}

/// A random complete answer to `survey` through `link`, submitted now, as the answer writer
/// takes it; `None` when the random answers happen to fail validation.
pub fn random_submission(
    survey: &Survey,
    campaign: &campaign::Model,
    link: &campaign_link::Model,
    rng: &mut impl rand::Rng,
) -> Option<Submission> {
    let fields = FormFields::new(random_answers(survey, rng));
    let valid = validate(survey, &fields).ok()?;
    Some(Submission {
        duration_ms: Some(rng.random_range(60_000..900_000)),
        ..Submission::generated(campaign, link, survey, &valid)
    })
}

/// A random complete and valid answer to `survey`, as form fields.
pub fn random_answers(survey: &Survey, rng: &mut impl rand::Rng) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    for question in survey.questions() {
        let id = question.id.clone();
        let pick = |rng: &mut dyn FnMut(usize) -> usize, codes: Vec<String>| {
            codes[rng(codes.len())].clone()
        };
        let mut below = |n: usize| rng.random_range(0..n);
        match &question.kind {
            QuestionKind::Single { .. }
            | QuestionKind::Scale { .. }
            | QuestionKind::YesNo { .. }
            | QuestionKind::Rating { .. } => {
                let codes = question.kind.codes().unwrap_or_default();
                fields.push((id, pick(&mut below, codes)));
            }
            QuestionKind::Multiple { options, min, max } => {
                let most = max
                    .map_or(options.len(), |max| max as usize)
                    .min(options.len());
                let least = (*min as usize).max(1).min(most);
                let count = least + below(most - least + 1);
                for option in options.iter().take(count) {
                    fields.push((id.clone(), option.code.clone()));
                }
            }
            QuestionKind::Matrix { scale, rows } => {
                for row in rows {
                    let point = &scale.points[below(scale.points.len())];
                    fields.push((format!("{id}.{}", row.id), point.code.clone()));
                }
            }
            QuestionKind::Number { min, max, .. } => {
                let low = min.unwrap_or(0.0).ceil() as i64;
                let high = max.unwrap_or(low as f64 + 1000.0).floor() as i64;
                let value = low + below((high - low).max(0) as usize + 1) as i64;
                fields.push((id, value.to_string()));
            }
            QuestionKind::Text { .. } | QuestionKind::LongText { .. } => {
                if below(4) == 0 {
                    fields.push((id, "希望学校继续加强和家长的沟通，谢谢老师们。".to_owned()));
                }
            }
        }
    }
    fields
}

/// `dupin serve` in a child process, so that its CPU time and memory can be read on their own.
struct ServerUnderTest {
    child: Child,
    port: u16,
    pid: u32,
}

impl ServerUnderTest {
    async fn start(
        database_url: &str,
        surveys_dir: &std::path::Path,
        workers: Option<usize>,
    ) -> anyhow::Result<Self> {
        let mut command = Self::dupin()?;
        command
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("DUPIN_SURVEYS", surveys_dir)
            .env("DUPIN_BIND", "127.0.0.1:0")
            // As behind nginx: each simulated phone names its address in X-Forwarded-For.
            .env("DUPIN_TRUST_PROXY", "true")
            .env(
                "DUPIN_LOG",
                std::env::var("DUPIN_BENCH_SERVER_LOG").unwrap_or_else(|_| "warn".to_owned()),
            )
            .env_remove("DUPIN_BASE_URL");
        if let Some(workers) = workers {
            command.env("DUPIN_WORKERS", workers.to_string());
        }
        Self::spawn(command, "dupin serve").await
    }

    /// The in-run ceiling's server (`ceiling.rs`) serving `form` and `cookie`: started from the
    /// same binary as `dupin serve`, a process of its own like it.
    async fn start_ceiling(
        form: &std::path::Path,
        cookie: &str,
        workers: Option<usize>,
    ) -> anyhow::Result<Self> {
        let mut command = Self::dupin()?;
        command
            .arg("bench-ceiling")
            .arg("--form")
            .arg(form)
            .arg("--cookie")
            .arg(cookie)
            .env("DUPIN_LOG", "warn");
        if let Some(workers) = workers {
            command.arg("--server-workers").arg(workers.to_string());
        }
        Self::spawn(command, "dupin bench-ceiling").await
    }

    /// This binary as a child process: its output read here, its errors on the benchmark's, and
    /// killed when dropped.
    fn dupin() -> anyhow::Result<Command> {
        let exe = std::env::current_exe().context("cannot find the dupin binary")?;
        let mut command = Command::new(exe);
        command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        Ok(command)
    }

    /// Starts `command` (made by [`Self::dupin`]), a server that says
    /// `serving on http://127.0.0.1:PORT` once it listens.
    async fn spawn(mut command: Command, what: &str) -> anyhow::Result<Self> {
        let mut child = command
            .spawn()
            .with_context(|| format!("cannot start {what}"))?;
        let pid = child.id().context("the server exited at once")?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let port = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await? {
                if let Some(rest) = line.split("serving on http://127.0.0.1:").nth(1) {
                    let port: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    return Ok::<_, anyhow::Error>(port.parse::<u16>()?);
                }
            }
            bail!("the server stopped before it served")
        })
        .await
        .context("the server did not start within 30 s")??;
        // Keep draining its stdout so that it never blocks on a full pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Ok(ServerUnderTest { child, port, pid })
    }

    /// CPU seconds (user + system) and peak resident memory in KiB, from /proc.
    fn usage(&self) -> (f64, u64) {
        let cpu = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))
            .ok()
            .and_then(|stat| {
                let after = stat.rsplit(')').next()?.to_owned();
                let fields: Vec<&str> = after.split_whitespace().collect();
                let utime: f64 = fields.get(11)?.parse().ok()?;
                let stime: f64 = fields.get(12)?.parse().ok()?;
                Some((utime + stime) / 100.0)
            })
            .unwrap_or(0.0);
        let rss = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .ok()
            .and_then(|status| {
                status
                    .lines()
                    .find(|line| line.starts_with("VmHWM:"))
                    .and_then(|line| line.split_whitespace().nth(1))
                    .and_then(|kib| kib.parse().ok())
            })
            .unwrap_or(0);
        (cpu, rss)
    }

    async fn stop(&mut self) {
        let _ = self.child.kill().await;
    }
}

#[derive(Default)]
struct Counters {
    acknowledged: AtomicU64,
    failures: AtomicU64,
}

async fn drive(
    args: &BenchArgs,
    port: u16,
    tokens: &[String],
    survey: &Survey,
) -> anyhow::Result<BenchReport> {
    let measuring = Arc::new(AtomicBool::new(false));
    let stopping = Arc::new(AtomicBool::new(false));
    let counters = Arc::new(Counters::default());
    let tokens = Arc::new(tokens.to_vec());
    let answers = Arc::new(client::answer_pool(survey, 256));
    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let (measuring, stopping, counters, tokens, answers) = (
            measuring.clone(),
            stopping.clone(),
            counters.clone(),
            tokens.clone(),
            answers.clone(),
        );
        let gzip = args.gzip;
        workers.push(tokio::spawn(async move {
            let mut latencies: Vec<u32> = Vec::new();
            let mut measured = 0u64;
            let mut connection: Option<Connection> = None;
            while !stopping.load(Ordering::Relaxed) {
                let (token, answer, address) = {
                    let mut rng = rand::rng();
                    (
                        tokens[rng.random_range(0..tokens.len())].clone(),
                        answers[rng.random_range(0..answers.len())].clone(),
                        // A phone of its own behind the proxy: one address per submission.
                        format!(
                            "10.{}.{}.{}",
                            rng.random_range(0..=255),
                            rng.random_range(0..=255),
                            rng.random_range(1..=254)
                        ),
                    )
                };
                let started = Instant::now();
                let result =
                    client::submit_once(&mut connection, port, &token, &answer, &address, gzip)
                        .await;
                let elapsed = started.elapsed();
                match result {
                    Ok(()) => {
                        counters.acknowledged.fetch_add(1, Ordering::Relaxed);
                        if measuring.load(Ordering::Relaxed) {
                            measured += 1;
                            latencies.push(elapsed.as_micros().min(u32::MAX as u128) as u32);
                        }
                    }
                    Err(error) => {
                        connection = None;
                        if counters.failures.fetch_add(1, Ordering::Relaxed) < 5 {
                            eprintln!("a submission failed: {error:#}");
                        }
                    }
                }
            }
            (measured, latencies)
        }));
    }
    tokio::time::sleep(Duration::from_secs(args.warmup)).await;
    let failures_before = counters.failures.load(Ordering::Relaxed);
    measuring.store(true, Ordering::Relaxed);
    let started = Instant::now();
    tokio::time::sleep(Duration::from_secs(args.duration)).await;
    measuring.store(false, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    stopping.store(true, Ordering::Relaxed);
    let mut submissions = 0;
    let mut latencies = Vec::new();
    for worker in workers {
        let (measured, mut own) = worker.await?;
        submissions += measured;
        latencies.append(&mut own);
    }
    latencies.sort_unstable();
    let at = |fraction: f64| -> Duration {
        if latencies.is_empty() {
            return Duration::ZERO;
        }
        let index = ((latencies.len() as f64 * fraction) as usize).min(latencies.len() - 1);
        Duration::from_micros(u64::from(latencies[index]))
    };
    Ok(BenchReport {
        submissions,
        seconds,
        p50: at(0.50),
        p99: at(0.99),
        max: at(1.0),
        failures: counters.failures.load(Ordering::Relaxed) - failures_before,
        acknowledged: counters.acknowledged.load(Ordering::Relaxed),
        stored: 0,
        server_cpu_seconds: 0.0,
        server_peak_rss_kib: 0,
        ceiling_per_second: 0.0,
        submission_ceiling_per_second: 0.0,
        submission_ceiling_cpu_seconds: 0.0,
        paired_shares: Vec::new(),
        acknowledged_in_pairs: 0,
    })
}

/// The phone form as dupin serves it to a new phone (uncompressed), and the cookie it sets.
async fn served_form(port: u16, token: &str) -> anyhow::Result<(Vec<u8>, String)> {
    let mut connection = Connection::open(port).await?;
    let head = format!(
        "GET /s/{token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: dupin-bench\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n"
    );
    let form = connection.request(&head, b"", false).await?;
    if form.status != 200 {
        bail!("GET /s/{token} answered {}", form.status);
    }
    let cookie = form.set_cookie.context("the form set no cookie")?;
    Ok((form.body, cookie))
}

/// The ceiling's server (`ceiling.rs`) serving `form` and `cookie`.
async fn start_submission_ceiling(
    args: &BenchArgs,
    form: Vec<u8>,
    cookie: &str,
) -> anyhow::Result<ServerUnderTest> {
    let folder = tempfile_dir()?;
    let form_file = folder.join("form.html");
    std::fs::write(&form_file, form).context("cannot write the ceiling's form")?;
    let started = ServerUnderTest::start_ceiling(&form_file, cookie, args.server_workers).await;
    let _ = std::fs::remove_dir_all(&folder);
    started
}

/// The same load against the ceiling's server: complete submissions a second, and that
/// server's CPU seconds per submission.
async fn submission_ceiling(
    args: &BenchArgs,
    server: &ServerUnderTest,
    tokens: &[String],
    survey: &Survey,
) -> anyhow::Result<(f64, f64)> {
    let report = drive(args, server.port, tokens, survey).await?;
    let (cpu_seconds, _) = server.usage();
    Ok((
        report.submissions as f64 / report.seconds,
        cpu_seconds / report.acknowledged.max(1) as f64,
    ))
}

/// `--paired` pairs of slices, dupin's server (`dupin`) and the ceiling's (`ceiling`) each
/// driven for `--slice` seconds in turn — dupin first in even pairs, the ceiling first in odd
/// ones: dupin's rate over the ceiling's in each pair, and the answers dupin acknowledged in
/// them (for the durability check).
async fn paired_slices(
    args: &BenchArgs,
    dupin: u16,
    ceiling: u16,
    tokens: &[String],
    survey: &Survey,
) -> anyhow::Result<(Vec<f64>, u64)> {
    let slice = BenchArgs {
        duration: args.slice,
        warmup: 1,
        ..args.clone()
    };
    let mut shares = Vec::with_capacity(args.paired);
    let mut acknowledged = 0;
    for pair in 0..args.paired {
        let order = if pair % 2 == 0 {
            [dupin, ceiling]
        } else {
            [ceiling, dupin]
        };
        let mut rates = [0.0; 2];
        for port in order {
            let report = drive(&slice, port, tokens, survey).await?;
            let rate = report.submissions as f64 / report.seconds;
            if port == dupin {
                acknowledged += report.acknowledged;
                rates[0] = rate;
            } else {
                rates[1] = rate;
            }
        }
        if rates[1] > 0.0 {
            shares.push(rates[0] / rates[1]);
        }
    }
    Ok((shares, acknowledged))
}

/// GET / at the same concurrency for `--ceiling` seconds.
async fn ceiling(args: &BenchArgs, server: &ServerUnderTest) -> f64 {
    if args.ceiling == 0 {
        return 0.0;
    }
    let stopping = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..args.concurrency)
        .map(|_| {
            let (stopping, done, port) = (stopping.clone(), done.clone(), server.port);
            tokio::spawn(async move {
                let Ok(mut connection) = Connection::open(port).await else {
                    return;
                };
                let head = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: dupin-bench\r\n\r\n";
                while !stopping.load(Ordering::Relaxed) {
                    match connection.request(head, b"", false).await {
                        Ok(response) if response.status == 200 => {
                            done.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => return,
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(args.ceiling)).await;
    stopping.store(true, Ordering::Relaxed);
    let seconds = started.elapsed().as_secs_f64();
    for worker in workers {
        let _ = worker.await;
    }
    done.load(Ordering::Relaxed) as f64 / seconds
}

/// For tests: a fresh SQLite database in a temporary folder with an open campaign of the
/// shipped parents' survey over `schools` schools (`synthetic_campaign`).
#[cfg(test)]
pub(crate) struct TestCampaign {
    pub folder: tempfile::TempDir,
    pub url: String,
    pub db: sea_orm::DatabaseConnection,
    pub survey: Survey,
    pub campaign: campaign::Model,
    pub links: Vec<campaign_link::Model>,
}

#[cfg(test)]
impl TestCampaign {
    pub async fn open(schools: usize, name: &str) -> TestCampaign {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}/dupin.sqlite3", folder.path().display());
        let db = crate::db::connect(&url).await.expect("the database opens");
        let catalog =
            survey::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("surveys"))
                .expect("the shipped surveys load");
        let entry = catalog.get("parents").expect("the parents' survey");
        let (campaign, links) = synthetic_campaign(&db, entry, schools, name)
            .await
            .expect("the campaign is opened");
        TestCampaign {
            folder,
            url,
            db,
            survey: entry.survey.clone(),
            campaign,
            links,
        }
    }

    /// `count` random answers, the links taken in turn, not yet stored.
    pub fn answers(&self, count: usize) -> Vec<Submission> {
        let mut rng = rand::rng();
        let mut answers = Vec::new();
        while answers.len() < count {
            let link = &self.links[answers.len() % self.links.len()];
            answers.extend(random_submission(
                &self.survey,
                &self.campaign,
                link,
                &mut rng,
            ));
        }
        answers
    }
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn the_median_is_the_middle_value_or_the_mean_of_the_middle_two() {
        assert_eq!(median(vec![3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(vec![4.0, 1.0, 3.0, 2.0]), 2.5);
        assert_eq!(median(vec![5.0]), 5.0);
        assert_eq!(median(Vec::new()), 0.0);
    }
}
