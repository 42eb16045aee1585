//! `dupin` / `dupin serve`: checks the plan, migrates the database and serves, printing where.

use std::process::ExitCode;

use super::Common;
use crate::startup::{Application, Settings};

pub(super) async fn run(
    common: Common,
    mail: crate::mail::MailSettings,
) -> anyhow::Result<ExitCode> {
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
        request_timeout: crate::startup::DEFAULT_REQUEST_TIMEOUT,
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
