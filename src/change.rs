//! One owner for every change. A state-changing action — creating a campaign, importing schools,
//! inviting teachers, excluding an answer — is one domain function `(context, actor, input)` that
//! opens a [`Change`], does its work inside it, records its audit event in it, asks for what must
//! happen once it is committed (wake the mail sender, forget cached links), and commits. Handlers
//! and command-line commands only parse, call and show; they never open a transaction or write
//! to the audit log themselves.
//!
//! A `Change` is one write transaction (`db::begin_write`: `BEGIN IMMEDIATE` on SQLite), so the
//! change, its audit row and any mail it queues are all committed or none is. Dropping a `Change`
//! without committing rolls everything back and runs no hook.
//!
//! This module knows nothing of HTTP, of mail or of caches: what runs after a commit is whatever
//! [`AfterCommit`] the process installed (the server wakes its mail sender and drops its link
//! cache; the command line has nothing to wake).

use std::ops::Deref;
use std::sync::Arc;

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

use crate::audit;
pub use crate::audit::Actor;

/// What a committed change asks of this process.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Effects {
    /// Mail was queued in the outbox: wake the sender instead of waiting for its next poll.
    pub mail_queued: bool,
    /// A campaign's state, dates or name changed: forget the links and forms kept in memory.
    pub links_changed: bool,
}

impl Effects {
    pub fn any(&self) -> bool {
        self.mail_queued || self.links_changed
    }
}

/// What a process does after a change committed. Installed once at start-up.
pub trait AfterCommit: Send + Sync {
    fn run(&self, effects: Effects);
}

/// Nothing to wake: the command line, and tests of the domain.
struct Nothing;

impl AfterCommit for Nothing {
    fn run(&self, _effects: Effects) {}
}

/// What every action needs besides its input: the database, the public address that links in
/// mail carry, and the process's after-commit hook.
#[derive(Clone)]
pub struct Context {
    pub db: DatabaseConnection,
    /// The public address (`DUPIN_BASE_URL`), without a trailing slash.
    pub base_url: Arc<str>,
    after_commit: Arc<dyn AfterCommit>,
}

impl Context {
    /// A context whose commits wake nothing (the command line).
    pub fn new(db: DatabaseConnection, base_url: &str) -> Context {
        Context {
            db,
            base_url: Arc::from(base_url.trim_end_matches('/')),
            after_commit: Arc::new(Nothing),
        }
    }

    /// The same context with `hook` run after every commit (the server).
    pub fn with_after_commit(mut self, hook: Arc<dyn AfterCommit>) -> Context {
        self.after_commit = hook;
        self
    }
}

/// One action's write transaction, with its actor and what it asks of the process once
/// committed. Derefs to the transaction, so queries take `&*change` (or `change.txn()`).
pub struct Change<'c> {
    txn: DatabaseTransaction,
    actor: Actor<'c>,
    effects: Effects,
    after_commit: Arc<dyn AfterCommit>,
}

impl<'c> Change<'c> {
    /// Begins the write (`BEGIN IMMEDIATE` on SQLite, so a read-then-write never fails because
    /// answers were committed meanwhile).
    pub async fn begin(context: &Context, actor: Actor<'c>) -> Result<Change<'c>, DbErr> {
        Ok(Change {
            txn: crate::db::begin_write(&context.db).await?,
            actor,
            effects: Effects::default(),
            after_commit: context.after_commit.clone(),
        })
    }

    pub fn txn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    pub fn actor(&self) -> Actor<'c> {
        self.actor
    }

    /// Records the audit event of this change, in its transaction.
    pub async fn audit(&self, action: &str, detail: impl Into<String>) -> Result<(), DbErr> {
        audit::record(&self.txn, self.actor, action, detail).await
    }

    /// Records the audit event of this change, about one school (a roster change).
    pub async fn audit_school(
        &self,
        action: &str,
        school: i32,
        detail: impl Into<String>,
    ) -> Result<(), DbErr> {
        audit::record_about(&self.txn, self.actor, action, detail, Some(school)).await
    }

    /// Mail was queued: the sender is woken once the change is committed.
    pub fn mail_queued(&mut self) {
        self.effects.mail_queued = true;
    }

    /// Links changed: this process forgets its cached links once the change is committed.
    pub fn links_changed(&mut self) {
        self.effects.links_changed = true;
    }

    /// Commits, then runs the after-commit hook for what the change asked.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.txn.commit().await?;
        if self.effects.any() {
            self.after_commit.run(self.effects);
        }
        Ok(())
    }

    /// Undoes everything; no hook runs. (Dropping the change does the same.)
    pub async fn rollback(self) -> Result<(), DbErr> {
        self.txn.rollback().await
    }
}

impl Deref for Change<'_> {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<Effects>>);

    impl AfterCommit for Recorder {
        fn run(&self, effects: Effects) {
            if let Ok(mut seen) = self.0.lock() {
                seen.push(effects);
            }
        }
    }

    /// A fresh database in a folder that lives as long as the test.
    async fn context_with(recorder: Arc<Recorder>) -> (Context, tempfile::TempDir) {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let url = format!(
            "sqlite://{}",
            folder.path().join("change.sqlite3").display()
        );
        let db = crate::db::connect(&url).await.expect("a database");
        let context = Context::new(db, "http://127.0.0.1:8080/").with_after_commit(recorder);
        (context, folder)
    }

    #[tokio::test]
    async fn hooks_run_after_a_commit_and_never_after_a_rollback() {
        let recorder = Arc::new(Recorder::default());
        let (context, _folder) = context_with(recorder.clone()).await;
        assert_eq!(&*context.base_url, "http://127.0.0.1:8080");

        let mut change = Change::begin(&context, Actor::CommandLine)
            .await
            .expect("begin");
        change.mail_queued();
        change.rollback().await.expect("rollback");
        let mut dropped = Change::begin(&context, Actor::CommandLine)
            .await
            .expect("begin");
        dropped.links_changed();
        drop(dropped);
        assert!(recorder.0.lock().expect("lock").is_empty());

        let mut change = Change::begin(&context, Actor::CommandLine)
            .await
            .expect("begin");
        change.links_changed();
        change
            .audit("campaign_status", "test")
            .await
            .expect("audit");
        change.commit().await.expect("commit");
        assert_eq!(
            *recorder.0.lock().expect("lock"),
            vec![Effects {
                mail_queued: false,
                links_changed: true
            }]
        );
    }

    #[tokio::test]
    async fn the_audit_row_is_written_in_the_change_and_gone_with_its_rollback() {
        use sea_orm::{EntityTrait, PaginatorTrait};
        let (context, _folder) = context_with(Arc::default()).await;
        let change = Change::begin(&context, Actor::CommandLine)
            .await
            .expect("begin");
        change
            .audit("schools_import", "30 schools")
            .await
            .expect("audit");
        change.rollback().await.expect("rollback");
        let count = entity::audit_event::Entity::find()
            .count(&context.db)
            .await
            .expect("count");
        assert_eq!(count, 0);

        let change = Change::begin(&context, Actor::CommandLine)
            .await
            .expect("begin");
        change
            .audit("schools_import", "30 schools")
            .await
            .expect("audit");
        change.commit().await.expect("commit");
        let events = entity::audit_event::Entity::find()
            .all(&context.db)
            .await
            .expect("events");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].actor, "command line");
    }
}
