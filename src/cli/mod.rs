//! The `dupin` command line: serve (the default), check the plan, import schools and rosters,
//! create campaigns and print their links, export, mail, benchmark, back up, and move the data to
//! another database. Configuration comes from flags or the environment (this file); each command's
//! body is in its own module and, like the console's handlers, only parses, calls the domain's
//! action and prints — `crate::change::Actor::CommandLine` is who acts.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::bench;

mod admin;
mod campaigns;
mod check;
mod demo;
mod export;
mod mail;
mod ops;
mod schools;
mod serve;
mod teachers;

const DEFAULT_DATABASE: &str = "sqlite://data/dupin.sqlite3";

#[derive(Parser)]
#[command(
    name = "dupin",
    version,
    about = "督评: county education-supervision surveys"
)]
pub struct Cli {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    mail: MailFlags,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Args, Clone)]
pub struct Common {
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
pub struct MailFlags {
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
    #[arg(long, env = "DUPIN_MAIL_FROM", default_value = crate::mail::smtp::DEFAULT_FROM, global = true)]
    mail_from: String,
    /// Seconds before the first retry of a message that could not be sent; doubled each time.
    #[arg(long, env = "DUPIN_MAIL_RETRY_SECONDS", default_value_t = crate::mail::smtp::DEFAULT_RETRY_SECONDS, global = true)]
    mail_retry_seconds: u64,
}

impl MailFlags {
    fn settings(&self) -> crate::mail::MailSettings {
        crate::mail::MailSettings {
            host: self
                .smtp_host
                .clone()
                .filter(|host| !host.trim().is_empty()),
            port: self.smtp_port,
            tls: crate::mail::TlsMode::parse(&self.smtp_tls)
                .unwrap_or(crate::mail::TlsMode::Starttls),
            user: self.smtp_user.clone().filter(|user| !user.is_empty()),
            password: std::env::var("DUPIN_SMTP_PASSWORD")
                .ok()
                .filter(|p| !p.is_empty()),
            from: self.mail_from.clone(),
            retry_base: std::time::Duration::from_secs(self.mail_retry_seconds.max(1)),
            ..crate::mail::MailSettings::default()
        }
    }
}

#[derive(Subcommand)]
enum Command {
    /// Serve the forms and pages (what plain `dupin` does).
    Serve,
    /// Build a plausible county with a round of every survey in its own database
    /// (data/demo.sqlite3), print how to sign in, and with --serve serve it.
    Demo(demo::DemoArgs),
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
    /// The in-run ceiling's server of `dupin bench`, which starts it (not for people).
    #[command(hide = true)]
    BenchCeiling(bench::CeilingArgs),
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
    /// to standard output, as CSV (UTF-8 with BOM), XLSX or SPSS (.sav, answers only):
    /// `dupin export --campaign 1 > 答卷.csv`.
    Export(ExportArgs),
    /// Mail: send a test message, or queue the weekly response-rate digest.
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Teacher rosters, whom teachers' campaigns invite by e-mail.
    #[command(subcommand)]
    Teachers(teachers::TeachersCommand),
    /// Rectification items (整改).
    #[command(subcommand)]
    Rectification(RectificationCommand),
}

#[derive(Subcommand)]
enum RectificationCommand {
    /// Queue the reminders now due (3 days before a deadline, and once overdue), each at most
    /// once per item; a running dupin sends them (it also sweeps every 15 minutes by itself).
    Remind,
}

#[derive(Args)]
struct ExportArgs {
    /// The campaign's id (see `dupin campaign list`).
    #[arg(long)]
    campaign: i32,
    /// csv, xlsx, or sav (SPSS, answers only: labels, value labels and measures for SPSS,
    /// PSPP, R or Stata).
    #[arg(long, default_value = "csv", value_parser = ["csv", "xlsx", "sav"])]
    format: String,
    /// answers: one row per included answer; aggregates: counts per school, question and option;
    /// summaries: every figure of the results page for the county and each school.
    #[arg(long, default_value = "answers", value_parser = ["answers", "aggregates", "summaries"])]
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

impl Common {
    /// The public address printed into links: `--base-url`, or the bind address as the server
    /// would default to it.
    fn base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", self.bind))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The plan in `--surveys`, checked (its errors listed as `dupin check` lists them).
    fn plan(&self) -> anyhow::Result<crate::rating::Plan> {
        let catalog = crate::survey::load_dir(&self.surveys).map_err(|errors| {
            anyhow::anyhow!("{errors}\n(the surveys folder: {})", self.surveys.display())
        })?;
        crate::rating::load_plan(&self.surveys, &catalog)
            .map_err(|errors| anyhow::anyhow!("{errors}"))
    }

    /// The database, migrated, and the context actions run in, acting as the command line.
    async fn context(&self) -> anyhow::Result<crate::change::Context> {
        let db = crate::db::connect(&self.database_url).await?;
        Ok(crate::change::Context::new(db, &self.base_url()))
    }
}

/// Parses the command line and runs the command; what `main.rs` calls.
pub fn main() -> ExitCode {
    // Before anything uses SQLite, which takes a page cache only then.
    let page_cache = crate::db::install_page_cache();
    let cli = Cli::parse();
    init_logging(&cli.common.log_format);
    if let Err(why) = page_cache {
        tracing::warn!(%why, "SQLite keeps its own page cache");
    }
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
    // Colour only for a person at a terminal: a log file, journald or `2> file` gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
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
        Command::Serve => serve::run(common, mail).await,
        Command::Demo(args) => demo::run(common, args, mail).await,
        Command::Check => Ok(check::run(&common)),
        Command::Schools(command) => schools::run(&common, command).await,
        Command::Campaign(command) => campaigns::run(&common, command).await,
        Command::Bench(args) => bench::run(args, common.surveys.clone())
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::BenchCeiling(args) => bench::serve_ceiling(args).await.map(|()| ExitCode::SUCCESS),
        Command::BenchResults(args) => bench::results::run(args, common.surveys.clone())
            .await
            .map(|()| ExitCode::SUCCESS),
        Command::Admin(command) => admin::run(&common, command).await,
        Command::Backup { path } => ops::backup(&common, &path).await,
        Command::MigrateData { from, to } => ops::migrate_data(&from, &to).await,
        Command::Export(args) => export::run(&common, args).await,
        Command::Teachers(command) => teachers::run(command, &common).await,
        Command::Mail(command) => mail::run(command, &common, mail).await,
        Command::Rectification(RectificationCommand::Remind) => {
            let context = common.context().await?;
            let summary =
                crate::rectification::remind_due(&context, crate::rectification::today()).await?;
            println!(
                "Queued {} reminder mails: {} items due within {} days, {} overdue.",
                summary.mails,
                summary.before,
                crate::rectification::REMIND_DAYS_BEFORE,
                summary.overdue
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Prints lines to stdout, stopping quietly when the reader goes away (`dupin … | head`).
pub(crate) fn print_lines(lines: impl Iterator<Item = String>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    for line in lines {
        if writeln!(out, "{line}").is_err() {
            return;
        }
    }
}
