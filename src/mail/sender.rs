//! The background sender: claims due outbox rows with a lease, sends them over one SMTP
//! connection per batch, and records each outcome. It wakes every few seconds and whenever
//! this process enqueued something (`Mailer::poke`).
//!
//! Delivery is at least once: if the process dies after the server accepted a message but
//! before the row was marked sent, the row is sent again once its lease has expired. Every
//! attempt carries the same Message-ID, so a receiving server may recognise the repeat.

use std::sync::Arc;
use std::time::Duration;

use entity::outbox as outbox_entity;
use lettre::message::Mailbox;
use sea_orm::DatabaseConnection;
use tokio::sync::Notify;

use super::outbox::{self, AfterFailure};
use super::smtp::{self, MailSettings, Parts, SmtpError, SmtpSession};

/// Rows claimed at a time.
const BATCH: u64 = 20;
/// How long a claimed row is ours: far longer than one message takes, short enough that a
/// crashed process's messages go out soon after.
const LEASE: Duration = Duration::from_secs(120);
/// The longest wait between two looks at the outbox.
const POLL: Duration = Duration::from_secs(5);

/// The handle every part of dupin holds: whether mail is configured, and a way to wake the
/// sender after an enqueue. Cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    settings: Arc<MailSettings>,
    wake: Arc<Notify>,
    owner: Arc<str>,
}

impl Default for Mailer {
    fn default() -> Self {
        Mailer::new(MailSettings::default())
    }
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer")
            .field("settings", &self.settings)
            .finish()
    }
}

impl Mailer {
    pub fn new(settings: MailSettings) -> Mailer {
        let owner = format!(
            "{}:{}:{}",
            hostname(),
            std::process::id(),
            crate::secrets::random_key()
        );
        Mailer {
            settings: Arc::new(settings),
            wake: Arc::new(Notify::new()),
            owner: owner.into(),
        }
    }

    /// Whether an SMTP host is set; without one, mail waits in the outbox.
    pub fn is_configured(&self) -> bool {
        self.settings.is_configured()
    }

    pub fn settings(&self) -> &MailSettings {
        &self.settings
    }

    /// Wakes the sender of this process: call after committing an enqueue.
    pub fn poke(&self) {
        self.wake.notify_one();
    }

    /// Starts the sender on the current Tokio runtime, if mail is configured. A bad sender
    /// address is reported and nothing is started.
    pub fn start(&self, db: DatabaseConnection) -> Result<(), String> {
        if !self.is_configured() {
            return Ok(());
        }
        let from = self.settings.from_mailbox()?;
        let mailer = self.clone();
        tokio::spawn(async move { mailer.run(db, from).await });
        Ok(())
    }

    async fn run(self, db: DatabaseConnection, from: Mailbox) {
        let poll = POLL
            .min(self.settings.retry_base)
            .max(Duration::from_millis(200));
        tracing::info!(smtp = %self.settings.describe(), owner = %self.owner, "mail sender started");
        loop {
            let handled = match self.send_due(&db, &from).await {
                Ok(handled) => handled,
                Err(error) => {
                    tracing::warn!(%error, "mail sender cannot read the outbox");
                    0
                }
            };
            if handled as u64 >= BATCH {
                continue;
            }
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Claims one batch and sends it; returns how many rows it handled.
    async fn send_due(
        &self,
        db: &DatabaseConnection,
        from: &Mailbox,
    ) -> Result<usize, sea_orm::DbErr> {
        let rows = outbox::claim_due(db, &self.owner, LEASE, BATCH).await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let claimed = std::time::Instant::now();
        let mut session: Option<SmtpSession> = None;
        // When connecting fails, the rest of the batch fails alike without another try.
        let mut cannot_connect: Option<SmtpError> = None;
        for (index, row) in rows.iter().enumerate() {
            // A slow server must not outlast the lease: give the rest back for the next round
            // rather than risk another process sending them too.
            if claimed.elapsed() > LEASE / 2 {
                let rest: Vec<i64> = rows[index..].iter().map(|row| row.id).collect();
                outbox::release(db, &rest, &self.owner).await?;
                tracing::info!(
                    released = rest.len(),
                    "mail batch took long; released the rest"
                );
                break;
            }
            let result = match &cannot_connect {
                Some(error) => Err(error.clone()),
                None => self.send_one(&mut session, from, row).await,
            };
            match result {
                Ok(()) => {
                    if !outbox::mark_sent(db, row, &self.owner).await? {
                        tracing::warn!(id = row.id, "a sent message's lease had expired");
                    }
                    tracing::info!(id = row.id, kind = %row.kind, "mail sent");
                }
                Err(error) => {
                    if matches!(
                        error.stage,
                        smtp::Stage::Connect | smtp::Stage::Tls | smtp::Stage::Auth
                    ) {
                        cannot_connect = Some(error.clone());
                    }
                    let outcome = outbox::mark_failed(
                        db,
                        row,
                        &self.owner,
                        &error.message,
                        error.permanent,
                        &self.settings,
                    )
                    .await?;
                    match outcome {
                        AfterFailure::Retry(at) => {
                            tracing::warn!(id = row.id, attempt = row.attempts + 1, retry_at = %at, error = %error, "mail not sent; will retry")
                        }
                        AfterFailure::Failed => {
                            tracing::warn!(id = row.id, attempt = row.attempts + 1, error = %error, "mail given up")
                        }
                    }
                }
            }
        }
        if let Some(session) = session {
            session.close().await;
        }
        Ok(rows.len())
    }

    async fn send_one(
        &self,
        session: &mut Option<SmtpSession>,
        from: &Mailbox,
        row: &outbox_entity::Model,
    ) -> Result<(), SmtpError> {
        let images = outbox::images_of(row).map_err(|message| SmtpError {
            stage: smtp::Stage::Message,
            permanent: true,
            message,
        })?;
        let message = smtp::build_message(
            from,
            &Parts {
                to: &row.recipient,
                subject: &row.subject,
                text: &row.text_body,
                html: row.html_body.as_deref(),
                images: &images,
                message_id: Some(message_id(row, from)),
            },
        )?;
        let reused = session.is_some();
        let mut open = match session.take() {
            Some(open) => open,
            None => SmtpSession::open(&self.settings).await?,
        };
        let mut result = open.send(&message).await;
        if let Err(error) = &result
            && error.breaks_connection()
        {
            open.close().await;
            // A connection kept from the previous message may have been closed by the server
            // meanwhile (idle timeout, messages per connection): once more on a fresh one.
            if !reused || error.permanent {
                return result;
            }
            open = SmtpSession::open(&self.settings).await?;
            result = open.send(&message).await;
            if matches!(&result, Err(error) if error.breaks_connection()) {
                open.close().await;
                return result;
            }
        }
        *session = Some(open);
        result
    }
}

/// The same on every attempt of one row.
fn message_id(row: &outbox_entity::Model, from: &Mailbox) -> String {
    format!(
        "<outbox-{}-{}@{}>",
        row.id,
        row.created_at.timestamp(),
        from.email.domain()
    )
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|name| name.trim().to_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "dupin".to_owned())
}

/// Sends one message now, over a connection of its own (for `dupin mail test`).
pub async fn send_now(settings: &MailSettings, parts: &Parts<'_>) -> Result<(), SmtpError> {
    let from = settings.from_mailbox().map_err(|message| SmtpError {
        stage: smtp::Stage::Message,
        permanent: true,
        message,
    })?;
    let message = smtp::build_message(&from, parts)?;
    let mut session = SmtpSession::open(settings).await?;
    let result = session.send(&message).await;
    session.close().await;
    result
}
