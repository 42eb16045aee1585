//! `dupin mail test ADDRESS` and `dupin mail digest`.

use std::process::ExitCode;

use clap::Subcommand;
use serde::Serialize;

use super::Common;
use crate::change::Actor;
use crate::mail::smtp::{self, Parts};
use crate::mail::{MailSettings, MailTemplates, sender};

#[derive(Subcommand)]
pub enum MailCommand {
    /// Send one test message now, straight to the SMTP server (not through the outbox), and
    /// say plainly what went wrong if it cannot.
    Test {
        /// Where to send it.
        address: String,
    },
    /// Queue the response-rate digest of the open campaigns for every active supervisor and
    /// admin (run it weekly from cron or a systemd timer; a running dupin sends it).
    Digest,
}

#[derive(Serialize)]
struct TestContext<'a> {
    sent_at: &'a str,
    from: &'a str,
    base_url: &'a str,
}

pub(super) async fn run(
    command: MailCommand,
    common: &Common,
    settings: MailSettings,
) -> anyhow::Result<ExitCode> {
    let templates = MailTemplates::embedded()?;
    let base_url = common.base_url();
    match command {
        MailCommand::Test { address } => {
            if !settings.is_configured() {
                eprintln!(
                    "mail is not configured: set DUPIN_SMTP_HOST (or --smtp-host), and DUPIN_SMTP_PORT, DUPIN_SMTP_TLS, DUPIN_SMTP_USER, DUPIN_SMTP_PASSWORD, DUPIN_MAIL_FROM as needed."
                );
                return Ok(ExitCode::FAILURE);
            }
            if let Err(error) = smtp::parse_address(&address) {
                eprintln!("error: {error}");
                return Ok(ExitCode::FAILURE);
            }
            let sent_at = crate::campaigns::display_time_seconds(chrono::Utc::now());
            let composed = templates.compose(
                "test",
                &TestContext {
                    sent_at: &sent_at,
                    from: &settings.from,
                    base_url: &base_url,
                },
            )?;
            println!(
                "Sending a test message to {address} through {} …",
                settings.describe()
            );
            let parts = Parts {
                to: &address,
                subject: &composed.subject,
                text: &composed.text,
                html: composed.html.as_deref(),
                images: &[],
                message_id: None,
            };
            match sender::send_now(&settings, &parts).await {
                Ok(()) => {
                    println!("Sent: the server accepted the message for {address}.");
                    Ok(ExitCode::SUCCESS)
                }
                Err(error) => {
                    eprintln!("Not sent: {error}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        MailCommand::Digest => {
            let context = common.context().await?;
            let queued = crate::reports::digest::enqueue_all(&context, Actor::CommandLine).await?;
            println!(
                "Queued {queued} digest messages in the outbox; a running dupin with DUPIN_SMTP_HOST sends them."
            );
            Ok(ExitCode::SUCCESS)
        }
    }
}
