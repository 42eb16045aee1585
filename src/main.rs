//! The `dupin` command: serve (the default), check the plan, import schools, create campaigns and
//! print their links, benchmark, back up, and move the data to another database. Configuration
//! comes from flags or the environment.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use dupin::campaigns::{self, NewCampaign, SchoolSelection};
use dupin::ops::{backup, migrate_data};
use dupin::startup::{Application, Settings};
use dupin::{accounts, audit, bench, db, distribution, schools, survey};
use indicatif::{ProgressBar, ProgressStyle};

const DEFAULT_DATABASE: &str = "sqlite://data/dupin.sqlite3";

#[derive(Parser)]
#[command(
    name = "dupin",
    version,
    about = "督评: county education-supervision surveys"
)]
struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    mail: MailFlags,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Clone)]
struct Common {
    /// sqlite://PATH (created if missing) or postgres://USER@HOST/DB.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE, global = true)]
    database_url: String,
    /// The folder of the plan's survey files.
    #[arg(long, env = "DUPIN_SURVEYS", default_value = "surveys", global = true)]
    surveys: PathBuf,
    /// The public address people reach dupin at, printed into QR codes and links
    /// (behind a proxy it differs from --bind). Default: http://BIND.
    #[arg(long, env = "DUPIN_BASE_URL", global = true)]
    base_url: Option<String>,
    /// Address to listen on.
    #[arg(
        long,
        env = "DUPIN_BIND",
        default_value = "127.0.0.1:8080",
        global = true
    )]
    bind: String,
    /// HTTP worker threads (default: one per core).
    #[arg(long, env = "DUPIN_WORKERS", global = true)]
    workers: Option<usize>,
    /// The secret that signs console sessions; give every process of one installation the same.
    /// Default: a random key kept in the database.
    #[arg(long, env = "DUPIN_SESSION_KEY", global = true, hide_env_values = true)]
    session_key: Option<String>,
    /// dupin runs behind its own reverse proxy (nginx): take the client's address from
    /// X-Forwarded-For. Never set this when clients reach dupin directly.
    #[arg(long, env = "DUPIN_TRUST_PROXY", global = true)]
    trust_proxy: bool,
    /// How log lines on stderr look: text for people, json (one object per line) for collectors.
    #[arg(long, env = "DUPIN_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"], global = true)]
    log_format: String,
}

/// SMTP settings (the password only from DUPIN_SMTP_PASSWORD); see `dupin::mail`.
#[derive(Args, Clone)]
struct MailFlags {
    /// The SMTP server's host name; without it mail waits in the outbox.
    #[arg(long, env = "DUPIN_SMTP_HOST", global = true)]
    smtp_host: Option<String>,
    /// The SMTP port (default: 25 for none, 587 for starttls, 465 for tls).
    #[arg(long, env = "DUPIN_SMTP_PORT", global = true)]
    smtp_port: Option<u16>,
    /// How the connection is protected: none, starttls or tls.
    #[arg(long, env = "DUPIN_SMTP_TLS", default_value = "starttls", value_parser = ["none", "starttls", "tls"], global = true)]
    smtp_tls: String,
    /// The SMTP account (the password comes from DUPIN_SMTP_PASSWORD only).
    #[arg(long, env = "DUPIN_SMTP_USER", global = true)]
    smtp_user: Option<String>,
    /// The sender, such as "督评 <noreply@example.cn>".
    #[arg(long, env = "DUPIN_MAIL_FROM", default_value = dupin::mail::smtp::DEFAULT_FROM, global = true)]
    mail_from: String,
    /// Seconds before the first retry of a message that could not be sent; doubled each time.
    #[arg(long, env = "DUPIN_MAIL_RETRY_SECONDS", default_value_t = dupin::mail::smtp::DEFAULT_RETRY_SECONDS, global = true)]
    mail_retry_seconds: u64,
}

impl MailFlags {
    fn settings(&self) -> dupin::mail::MailSettings {
        dupin::mail::MailSettings {
            host: self
                .smtp_host
                .clone()
                .filter(|host| !host.trim().is_empty()),
            port: self.smtp_port,
            tls: dupin::mail::TlsMode::parse(&self.smtp_tls)
                .unwrap_or(dupin::mail::TlsMode::Starttls),
            user: self.smtp_user.clone().filter(|user| !user.is_empty()),
            password: std::env::var("DUPIN_SMTP_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty()),
            from: self.mail_from.clone(),
            retry_base: std::time::Duration::from_secs(self.mail_retry_seconds.max(1)),
            ..dupin::mail::MailSettings::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the forms and pages (what plain `dupin` does).
    Serve,
    /// Check every survey file and list every error.
    Check,
    /// The county's schools.
    #[command(subcommand)]
    Schools(SchoolsCommand),
    /// Campaigns and their links.
    #[command(subcommand)]
    Campaign(CampaignCommand),
    /// Measure complete submissions per second on a fresh database.
    Bench(bench::BenchArgs),
    /// Fill a fresh database with a campaign of many answers (1,000,000 over 500 schools by
    /// default), then time the results page, the county report and the CSV export of every answer.
    BenchResults(bench::results::ResultsBenchArgs),
    /// Console accounts, for scripts and for the first admin.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Copy a SQLite database to a new file while dupin keeps serving (for PostgreSQL: pg_dump).
    Backup {
        /// The new file; it must not exist yet. Its folder is created.
        path: PathBuf,
    },
    /// Copy every row from one database into a new, empty one (SQLite to PostgreSQL, usually).
    /// Stop dupin first.
    MigrateData {
        /// The database to read: sqlite://PATH or postgres://…
        #[arg(long)]
        from: String,
        /// The database to fill: migrated here, and refused unless empty.
        #[arg(long)]
        to: String,
    },
    /// Write a campaign's answers (one row each) or its counts per school, question and option
    /// to standard output, as CSV (UTF-8 with BOM) or XLSX: `dupin export --campaign 1 > 答卷.csv`.
    Export(ExportArgs),
    /// Mail: send a test message, or queue the weekly response-rate digest.
    #[command(subcommand)]
    Mail(dupin::mail::cli::MailCommand),
    /// Teacher rosters, whom teachers' campaigns invite by e-mail.
    #[command(subcommand)]
    Teachers(dupin::rosters::cli::TeachersCommand),
}

#[derive(Args)]
struct ExportArgs {
    /// The campaign's id (see `dupin campaign list`).
    #[arg(long)]
    campaign: i32,
    #[arg(long, default_value = "csv", value_parser = ["csv", "xlsx"])]
    format: String,
    /// answers: one row per included answer; aggregates: counts per school, question and option.
    #[arg(long, default_value = "answers", value_parser = ["answers", "aggregates"])]
    what: String,
    /// Write the options' codes instead of their labels in the answer columns.
    #[arg(long)]
    codes: bool,
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an account. The password is read from DUPIN_ADMIN_PASSWORD if set, else as one
    /// line from standard input (`echo 'a long password' | dupin admin create a@b.cn`).
    Create {
        email: String,
        /// The name shown in the console (default: the e-mail).
        #[arg(long, default_value = "")]
        name: String,
        #[arg(long, default_value = "admin", value_parser = ["admin", "supervisor"])]
        role: String,
    },
}

#[derive(Subcommand)]
enum SchoolsCommand {
    /// Import or update schools from a CSV file (UTF-8 or GBK, Chinese or English headers).
    Import { file: PathBuf },
    /// List the schools.
    List,
}

#[derive(Subcommand)]
enum CampaignCommand {
    /// Start a campaign: one link per school.
    Create {
        /// The survey's id (see `dupin check`).
        #[arg(long)]
        survey: String,
        #[arg(long)]
        name: String,
        /// When answering opens, China time: 2026-12-01 or "2026-12-01 08:00".
        #[arg(long)]
        opens: Option<String>,
        /// When answering closes, China time.
        #[arg(long)]
        closes: Option<String>,
        /// all, or school codes separated by commas.
        #[arg(long, default_value = "all")]
        schools: String,
    },
    /// Print one line per school: code, name, URL.
    Links { id: i32 },
    /// List campaigns.
    List,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.common.log_format);
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(run(cli));
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("DUPIN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,sea_orm=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        // One JSON object per line, the event's fields at the top level beside timestamp, level
        // and target: what journald, Loki or Elasticsearch read without a parser of their own.
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .init();
    } else {
        builder.init();
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let common = cli.common;
    let mail = cli.mail.settings();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(common, mail).await,
        Command::Check => Ok(check(&common)),
        Command::Schools(command) => schools_command(&common, command).await,
        Command::Campaign(command) => campaign_command(&common, command).await,
        Command::Bench(args) => bench::run(args, common.surveys.clone())
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::BenchResults(args) => bench::results::run(args, common.surveys.clone())
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Admin(command) => admin_command(&common, command).await,
        Command::Backup { path } => backup_command(&common, &path).await,
        Command::MigrateData { from, to } => migrate_data_command(&from, &to).await,
        Command::Export(args) => export_command(&common, args).await,
        Command::Teachers(command) => dupin::rosters::cli::run(command, &common.database_url).await,
        Command::Mail(command) => {
            dupin::mail::cli::run(
                command,
                &common.database_url,
                common.base_url.as_deref(),
                mail,
            )
            .await
        }
    }
}

async fn serve(common: Common, mail: dupin::mail::MailSettings) -> anyhow::Result<ExitCode> {
    let mail_line = if mail.is_configured() {
        format!("  mail:     {} from {}", mail.describe(), mail.from)
    } else {
        "  mail:     not configured (set DUPIN_SMTP_HOST); mail waits in the outbox".to_owned()
    };
    let settings = Settings {
        bind: common.bind.clone(),
        database_url: common.database_url.clone(),
        surveys_dir: common.surveys.clone(),
        base_url: common.base_url,
        workers: common.workers,
        session_key: common.session_key.clone(),
        request_timeout: dupin::startup::DEFAULT_REQUEST_TIMEOUT,
        trust_proxy: common.trust_proxy,
        mail,
    };
    let app = match Application::build(settings).await {
        Ok(app) => app,
        Err(error) => {
            eprintln!("dupin cannot start: {error}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let ids = app.catalog().ids().join(", ");
    println!(
        "dupin 督评 is serving on http://127.0.0.1:{} (public address {})",
        app.port(),
        app.base_url()
    );
    if let Some(setup_url) = app.setup_url() {
        println!("No account exists yet. Create the first admin at this one-time link:");
        println!("  {setup_url}");
        println!("  (or run: dupin admin create EMAIL)");
    }
    println!("  database: {}", common.database_url);
    println!("  surveys:  {} ({})", common.surveys.display(), ids);
    println!("{mail_line}");
    println!(
        "Supervisors: sign in at {}/console (schools, campaigns, QR posters, results).",
        app.base_url()
    );
    println!("Or, in another terminal:");
    println!("  dupin schools import schools.csv");
    println!("  dupin campaign create --survey parents --name \"2026 家长满意度测评\"");
    println!("  dupin campaign links 1       # one URL per school; /s/TOKEN/qr.png is its QR code");
    app.run_until_stopped().await?;
    Ok(ExitCode::SUCCESS)
}

/// Prints lines to stdout, stopping quietly when the reader goes away (`dupin … | head`).
fn print_lines(lines: impl Iterator<Item = String>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}

fn check(common: &Common) -> ExitCode {
    let refuse = |errors: survey::PlanErrors| {
        eprintln!("{errors}");
        eprintln!("{} errors found.", errors.0.len());
        ExitCode::FAILURE
    };
    let catalog = match survey::load_dir(&common.surveys) {
        Ok(catalog) => catalog,
        Err(errors) => return refuse(errors),
    };
    for entry in catalog.entries() {
        println!(
            "ok  {}  {} ({}, {} questions) — {}",
            entry.file.display(),
            entry.survey.id,
            entry.survey.audience.label(),
            entry.survey.question_count(),
            entry.survey.title
        );
    }
    // The indicators and the rating refer to the surveys' questions: checked once those are.
    let plan = match dupin::rating::load_plan(&common.surveys, &catalog) {
        Ok(plan) => plan,
        Err(errors) => return refuse(errors),
    };
    println!(
        "ok  {}  {} indicators",
        common
            .surveys
            .join(dupin::rating::INDICATORS_FILE)
            .display(),
        plan.indicators.len()
    );
    println!(
        "ok  {}  {} grade bands",
        common.surveys.join(dupin::rating::RATING_FILE).display(),
        plan.rules.bands.len()
    );
    println!("{} surveys, no errors.", catalog.len());
    ExitCode::SUCCESS
}

async fn schools_command(common: &Common, command: SchoolsCommand) -> anyhow::Result<ExitCode> {
    match command {
        SchoolsCommand::Import { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))?;
            let parsed = match schools::parse_csv(&bytes) {
                Ok(parsed) => parsed,
                Err(error) => {
                    eprintln!("{}: {error}", file.display());
                    return Ok(ExitCode::FAILURE);
                }
            };
            let db = db::connect(&common.database_url).await?;
            let bar = ProgressBar::new(parsed.len() as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} 所学校 {msg}")
            {
                bar.set_style(style);
            }
            let summary =
                schools::import(&db, &parsed, &|done| bar.set_position(done as u64)).await?;
            bar.finish_and_clear();
            println!(
                "导入完成：新增 {} 所，更新 {} 所（共 {} 所）。",
                summary.created,
                summary.updated,
                parsed.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        SchoolsCommand::List => {
            let db = db::connect(&common.database_url).await?;
            print_lines(schools::list(&db).await?.into_iter().map(|school| {
                format!(
                    "{}\t{}\t{}\t{}\t中心校:{}\t重点村:{}\t在校生:{}\t专任教师:{}",
                    school.code,
                    school.name,
                    school.township,
                    school.kind,
                    if school.is_central { "是" } else { "否" },
                    if school.is_key_village { "是" } else { "否" },
                    school.enrolment,
                    school.teachers
                )
            }));
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn campaign_command(common: &Common, command: CampaignCommand) -> anyhow::Result<ExitCode> {
    match command {
        CampaignCommand::Create {
            survey: survey_id,
            name,
            opens,
            closes,
            schools,
        } => {
            let catalog = match survey::load_dir(&common.surveys) {
                Ok(catalog) => catalog,
                Err(errors) => {
                    eprintln!("{errors}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let Some(entry) = catalog.get(&survey_id) else {
                eprintln!(
                    "error: no survey \"{survey_id}\" in {} (known: {})",
                    common.surveys.display(),
                    catalog.ids().join(", ")
                );
                return Ok(ExitCode::FAILURE);
            };
            let parse = |flag: &str, text: Option<String>| -> Result<_, String> {
                text.map(|text| {
                    campaigns::parse_time(&text).ok_or_else(|| {
                        format!("{flag} \"{text}\" is not a time: write 2026-12-01 or \"2026-12-01 08:00\"")
                    })
                })
                .transpose()
            };
            let (opens_at, closes_at) = match (parse("--opens", opens), parse("--closes", closes)) {
                (Ok(opens), Ok(closes)) => (opens, closes),
                (Err(message), _) | (_, Err(message)) => {
                    eprintln!("error: {message}");
                    return Ok(ExitCode::FAILURE);
                }
            };
            let db = db::connect(&common.database_url).await?;
            let new = NewCampaign {
                name,
                survey: entry,
                opens_at,
                closes_at,
                schools: SchoolSelection::parse(&schools),
                status: campaigns::CampaignStatus::Open,
                expected_override: None,
            };
            match campaigns::create(&db, new).await {
                Ok((campaign, links)) => {
                    println!(
                        "Campaign {} created: \"{}\", survey {} ({}), {} school links.",
                        campaign.id, campaign.name, entry.survey.id, entry.survey.title, links
                    );
                    println!("Print the links: dupin campaign links {}", campaign.id);
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        CampaignCommand::Links { id } => {
            let db = db::connect(&common.database_url).await?;
            // The same default as the server's: the bind address, when no public one is set.
            let base_url = common
                .base_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", common.bind));
            match campaigns::links(&db, id).await {
                Ok(rows) => {
                    print_lines(rows.into_iter().map(|row| {
                        format!(
                            "{}\t{}\t{}",
                            row.code,
                            row.name,
                            distribution::link_url(&base_url, &row.token)
                        )
                    }));
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("error: {error}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        CampaignCommand::List => {
            let db = db::connect(&common.database_url).await?;
            for campaign in campaigns::list(&db).await? {
                let now = chrono::Utc::now();
                let state = match campaigns::availability(&campaign, now) {
                    campaigns::Availability::Open => "open",
                    campaigns::Availability::Draft => "draft",
                    campaigns::Availability::NotYetOpen(_) => "not yet open",
                    campaigns::Availability::Closed => "closed",
                };
                println!("{}\t{}\t{}", campaign.id, campaign.name, state);
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Where `dupin admin create` takes the password from.
const ADMIN_PASSWORD_ENV: &str = "DUPIN_ADMIN_PASSWORD";

/// The new account's password: the environment variable, or one line of standard input (with a
/// prompt only when a person is typing it).
fn read_admin_password(email: &str) -> anyhow::Result<String> {
    use std::io::{BufRead, IsTerminal, Write};
    if let Ok(password) = std::env::var(ADMIN_PASSWORD_ENV) {
        return Ok(password);
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprint!(
            "Password for {email} (at least {} characters; it will be shown as you type): ",
            accounts::MIN_PASSWORD_CHARS
        );
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin.lock().read_line(&mut line).map_err(|error| {
        anyhow::anyhow!("cannot read the password from standard input: {error}")
    })?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn admin_command(common: &Common, command: AdminCommand) -> anyhow::Result<ExitCode> {
    match command {
        AdminCommand::Create { email, name, role } => {
            let Some(role) = accounts::Role::parse(&role) else {
                eprintln!("error: --role must be admin or supervisor");
                return Ok(ExitCode::FAILURE);
            };
            // Checked before asking for the password, so a typo costs nothing.
            if accounts::normalize_email(&email).is_err() {
                eprintln!("error: \"{email}\" is not a valid e-mail address");
                return Ok(ExitCode::FAILURE);
            }
            let password = read_admin_password(&email)?;
            let db = db::connect(&common.database_url).await?;
            let created = accounts::create(
                &db,
                accounts::NewAccount {
                    email: email.clone(),
                    display_name: name,
                    password,
                    role,
                    school_id: None,
                },
            )
            .await;
            let message = match created {
                Ok(account) => {
                    audit::record(
                        &db,
                        None,
                        "command line",
                        "account_create",
                        format!("{}（{}）", account.email, role.label()),
                    )
                    .await?;
                    let base_url = common
                        .base_url
                        .clone()
                        .unwrap_or_else(|| format!("http://{}", common.bind));
                    println!(
                        "Account {} created ({}). Sign in at {}/console/login",
                        account.email,
                        role.slug(),
                        base_url.trim_end_matches('/')
                    );
                    return Ok(ExitCode::SUCCESS);
                }
                Err(accounts::AccountError::BadEmail) => {
                    format!("\"{email}\" is not a valid e-mail address")
                }
                Err(accounts::AccountError::ShortPassword) => format!(
                    "the password must have at least {} characters (set {ADMIN_PASSWORD_ENV} or pipe it on standard input)",
                    accounts::MIN_PASSWORD_CHARS
                ),
                Err(accounts::AccountError::EmailTaken) => {
                    format!(
                        "an account with the e-mail {} already exists",
                        email.trim().to_lowercase()
                    )
                }
                Err(error) => return Err(error.into()),
            };
            eprintln!("error: {message}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn backup_command(common: &Common, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let url = common.database_url.as_str();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // Nothing is touched: PostgreSQL's own tool makes a consistent dump of a live database.
        eprintln!(
            "error: dupin backup copies SQLite databases only; this installation runs on PostgreSQL."
        );
        match backup::pg_dump_command(url, path) {
            Ok(command) => {
                eprintln!("Back it up with pg_dump, which copies a running database consistently:");
                eprintln!("  {command}");
                eprintln!(
                    "(the password goes in PGPASSWORD or ~/.pgpass; restore with pg_restore --dbname=…)"
                );
            }
            Err(message) => eprintln!("Back it up with pg_dump ({message})."),
        }
        return Ok(ExitCode::FAILURE);
    }
    let db = db::connect(url).await?;
    match backup::backup_sqlite(&db, path).await {
        Ok(report) => {
            println!(
                "Backed up to {}: {} in {:.2} s.",
                report.path.display(),
                size_text(report.bytes),
                report.took.as_secs_f64()
            );
            println!(
                "It is a complete database: DATABASE_URL=sqlite://{} dupin opens it.",
                report.path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `bytes` for a person: `812 KB`, `23.4 MB`.
fn size_text(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{} KB", bytes.div_ceil(1_000))
    } else {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    }
}

async fn migrate_data_command(from: &str, to: &str) -> anyhow::Result<ExitCode> {
    let (from_shown, to_shown) = (
        migrate_data::without_password(from),
        migrate_data::without_password(to),
    );
    if from.trim_end_matches('/') == to.trim_end_matches('/') {
        eprintln!("error: {}", migrate_data::MigrateDataError::SameDatabase);
        return Ok(ExitCode::FAILURE);
    }
    let source = db::connect(from)
        .await
        .map_err(|error| anyhow::anyhow!("--from {from_shown}: {error}"))?;
    let target = db::connect(to)
        .await
        .map_err(|error| anyhow::anyhow!("--to {to_shown}: {error}"))?;
    if let Err(error) = migrate_data::check_target(&target).await {
        eprintln!("error: {error}");
        return Ok(ExitCode::FAILURE);
    }
    println!("Copying {from_shown} → {to_shown}, in one transaction: all or nothing.");
    let started = std::time::Instant::now();
    // A bar only for tables worth watching; the others finish before it would draw.
    let bar: std::sync::Mutex<Option<ProgressBar>> = std::sync::Mutex::new(None);
    let progress = |event: migrate_data::Progress<'_>| {
        let Ok(mut bar) = bar.lock() else { return };
        match event {
            migrate_data::Progress::Started { table, rows } => {
                if rows > 10 * migrate_data::BATCH_ROWS as i64 {
                    let new = ProgressBar::new(rows as u64);
                    if let Ok(style) =
                        ProgressStyle::with_template("  {msg:<16} {bar:30} {pos}/{len}")
                    {
                        new.set_style(style);
                    }
                    new.set_message(table);
                    *bar = Some(new);
                }
            }
            migrate_data::Progress::Batch { rows, .. } => {
                if let Some(bar) = bar.as_ref() {
                    bar.set_position(rows);
                }
            }
            migrate_data::Progress::Finished(copied) => {
                if let Some(bar) = bar.take() {
                    bar.finish_and_clear();
                }
                println!(
                    "  {:<16} {:>9} in the source, {:>9} in the target   {:.2} s",
                    copied.table,
                    copied.source_rows,
                    copied.target_rows,
                    copied.took.as_secs_f64()
                );
            }
        }
    };
    match migrate_data::migrate_data(&source, &target, &progress).await {
        Ok(copied) => {
            let rows: i64 = copied.iter().map(|table| table.target_rows).sum();
            println!(
                "Done: {rows} rows in {} tables in {:.2} s; every table has as many rows in the target as in the source.",
                copied.len(),
                started.elapsed().as_secs_f64()
            );
            println!("Now start dupin with DATABASE_URL={to_shown}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            if let Ok(mut bar) = bar.lock()
                && let Some(bar) = bar.take()
            {
                bar.finish_and_clear();
            }
            eprintln!("error: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

async fn export_command(common: &Common, args: ExportArgs) -> anyhow::Result<ExitCode> {
    use dupin::export::{CsvSheet, Export, ExportError, Values, What};
    use std::io::{IsTerminal, Write};

    let xlsx = args.format == "xlsx";
    if xlsx && std::io::stdout().is_terminal() {
        eprintln!(
            "error: an XLSX file is binary and would garble the terminal; redirect it to a file: \
             dupin export --campaign {} --format xlsx > 答卷.xlsx",
            args.campaign
        );
        return Ok(ExitCode::FAILURE);
    }
    let what = What::parse(&args.what).unwrap_or(What::Answers);
    let values = if args.codes {
        Values::Codes
    } else {
        Values::Labels
    };
    let db = db::connect(&common.database_url).await?;
    let export = match Export::open(&db, args.campaign, what, values).await {
        Ok(export) => export,
        Err(error @ ExportError::CampaignNotFound(_)) => {
            eprintln!("error: {error} (see dupin campaign list)");
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => return Err(error.into()),
    };
    let written = if xlsx {
        let mut file = export.into_xlsx(&db).await?;
        let mut out = std::io::stdout().lock();
        std::io::copy(&mut file, &mut out).and_then(|_| out.flush())
    } else {
        // Written from the export's writer thread: `Stdout`, not a lock held by this one.
        let out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
        let sheet = CsvSheet::new(out)?;
        match export.write_all(&db, sheet).await {
            Ok((_, mut sheet)) => sheet.flush().map_err(std::io::Error::other),
            Err(ExportError::Csv(error)) if error.is_io_error() => match error.into_kind() {
                csv::ErrorKind::Io(error) => Err(error),
                _ => Ok(()),
            },
            Err(error) => return Err(error.into()),
        }
    };
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (`dupin export … | head`): not an error.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(error) => Err(anyhow::anyhow!("cannot write the export: {error}")),
    }
}
