//! On SQLite, the answer writer's own connection and thread. Its batches run there from the
//! transaction's `BEGIN IMMEDIATE` to its `COMMIT`, each statement prepared once and stepped for
//! each of its rows, with nothing handed to another thread in between.
//!
//! Through sqlx, each statement was a round trip to the connection's own thread, and under load
//! each hand-off waited for a core, twice: a batch spent more of its time waiting to be run than
//! running, and since batches are serial, that wait bounded how many answers a second the
//! server could store. The statements and what is decided between them are the ones
//! `super::store` runs on PostgreSQL; only how they reach the database differs.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, params_from_iter};
use sea_orm::{DatabaseBackend, DbErr, Statement, Value};

use super::batch::{BatchDb, Cell, Fetched, Rows};
use super::{Batch, Pending, Submission};

/// How long a batch waits for another connection's write (a console action, the mail outbox)
/// before it fails: as the shared pool's `busy_timeout`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// Prepared statements kept: the writer's dozen, and the look-ups of retried keys.
const STATEMENT_CACHE: usize = 32;
/// The writer's page cache, in KiB (SQLite's default is 2,000). Each answer goes into two
/// indexes at a random place (its browser's key; its school among the campaign's), so each
/// insert read a page back from the WAL once those indexes outgrew the cache — some 30,000
/// answers into a campaign (about 60 KiB of the two indexes per 1,000 answers); 8 MiB holds
/// them for about 100,000. Under `dupin bench` (some 100,000 answers in) an answer's insert
/// went from 9.8 to 7.0 µs.
const PAGE_CACHE_KIB: u32 = 8192;

/// The writer's connection to the SQLite file of `file`.
pub struct Direct {
    file: PathBuf,
    connection: Connection,
    /// Each statement's one-row text (`Rows::one_row_sql`), made once: made for every batch,
    /// its `format!`s and `replace`s were ≈ 2 % of the writer thread's time.
    one_row: RefCell<HashMap<&'static str, Arc<str>>>,
}

impl Direct {
    /// Opens the writer's connection to a database that `db::connect` has created and migrated.
    pub fn open(file: &Path) -> rusqlite::Result<Direct> {
        Ok(Direct {
            file: file.to_path_buf(),
            connection: connect(file)?,
            one_row: RefCell::default(),
        })
    }

    /// Runs `sql`, a statement without parameters, kept prepared (`execute_batch` prepared it
    /// anew each time: `BEGIN` and `COMMIT` come twice a batch).
    fn run(&self, sql: &str) -> rusqlite::Result<()> {
        self.connection.prepare_cached(sql)?.execute([]).map(|_| ())
    }

    /// Steps `rows`' one-row statement, without its `RETURNING` clause, once for each row, and
    /// calls `changed` with each row that changed something.
    fn each_changed<'r, 'a>(
        &self,
        rows: &'r Rows<'a>,
        mut changed: impl FnMut(&'r [Cell<'a>]) -> Result<(), DbErr>,
    ) -> Result<(), DbErr> {
        if rows.is_empty() {
            return Ok(());
        }
        let sql = self.one_row_sql(rows);
        let without_returning = sql.split(" RETURNING ").next().unwrap_or(&sql);
        let mut statement = self
            .connection
            .prepare_cached(without_returning)
            .map_err(database_error)?;
        for row in rows.each() {
            if statement
                .execute(params_from_iter(row))
                .map_err(database_error)?
                > 0
            {
                changed(row)?;
            }
        }
        Ok(())
    }

    /// The one-row statement of `rows`, as `Rows::one_row_sql` makes it.
    fn one_row_sql(&self, rows: &Rows<'_>) -> Arc<str> {
        self.one_row
            .borrow_mut()
            .entry(rows.sql)
            .or_insert_with(|| rows.one_row_sql().into())
            .clone()
    }
}

impl super::Committer for Direct {
    const GATHERS: bool = true;

    /// Stores a batch in one transaction, as `super::commit` does, and says what became of each
    /// submission. After a failure the transaction is rolled back; a connection that cannot
    /// even roll back is opened again for the next batch.
    async fn commit_batch(
        &mut self,
        submissions: &[Submission],
        flush: Vec<Pending>,
    ) -> Result<Batch, DbErr> {
        self.run("BEGIN IMMEDIATE").map_err(database_error)?;
        let stored = super::store(&*self, submissions, super::Counting::Deferred(&flush)).await;
        let result = match stored {
            Ok(outcomes) => self
                .run("COMMIT")
                .map(|()| outcomes)
                .map_err(database_error),
            Err(error) => Err(error),
        };
        if result.is_err()
            && !self.connection.is_autocommit()
            && let Err(error) = self.connection.execute_batch("ROLLBACK")
        {
            tracing::error!(%error, "the answer writer's connection cannot roll back; opening it again");
            self.connection = connect(&self.file).map_err(database_error)?;
        }
        result
    }
}

/// The connection, with the settings `db::pool_options` gives the shared pool's.
fn connect(file: &Path) -> rusqlite::Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection = super::vfs::open(file, flags, |connection| {
        connection.busy_timeout(BUSY_TIMEOUT)?;
        // WAL is the file's own setting, made when `db::connect` created it; FULL makes every
        // acknowledged answer durable; statement journals (an upsert keeps one, to undo just
        // that statement) stay in memory rather than in temporary files; the WAL is copied into
        // the database at the pool's length (`db::WAL_PAGES_BEFORE_CHECKPOINT`); the page
        // cache is the writer's own size.
        connection.execute_batch(&format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
             PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {}; \
             PRAGMA cache_size = -{PAGE_CACHE_KIB};",
            crate::db::WAL_PAGES_BEFORE_CHECKPOINT
        ))
    })?;
    connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(connection)
}

fn database_error(error: rusqlite::Error) -> DbErr {
    DbErr::Custom(format!("storing answers: {error}"))
}

/// A sea-orm value as SQLite takes it: only the kinds the writer's look-ups bind.
fn bound(value: &Value) -> Result<rusqlite::types::Value, DbErr> {
    use rusqlite::types::Value as Sqlite;
    Ok(match value {
        Value::String(Some(text)) => Sqlite::Text(text.clone()),
        Value::Int(Some(number)) => Sqlite::Integer(i64::from(*number)),
        Value::BigInt(Some(number)) => Sqlite::Integer(*number),
        Value::Double(Some(number)) => Sqlite::Real(*number),
        Value::Bool(Some(flag)) => Sqlite::Integer(i64::from(*flag)),
        Value::String(None)
        | Value::Int(None)
        | Value::BigInt(None)
        | Value::Double(None)
        | Value::Bool(None) => Sqlite::Null,
        other => {
            return Err(DbErr::Custom(format!(
                "the answer writer binds no value like {other:?}"
            )));
        }
    })
}

impl Direct {
    fn bound_values(statement: &Statement) -> Result<Vec<rusqlite::types::Value>, DbErr> {
        statement
            .values
            .iter()
            .flat_map(|values| values.0.iter())
            .map(bound)
            .collect()
    }
}

impl BatchDb for Direct {
    fn backend(&self) -> DatabaseBackend {
        DatabaseBackend::Sqlite
    }

    async fn fetch_rows<T: Fetched>(&self, rows: &Rows<'_>) -> Result<Vec<T>, DbErr> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut statement = self
            .connection
            .prepare_cached(&self.one_row_sql(rows))
            .map_err(database_error)?;
        let mut fetched = Vec::new();
        for row in rows.each() {
            let mut returned = statement
                .query(params_from_iter(row))
                .map_err(database_error)?;
            while let Some(found) = returned.next().map_err(database_error)? {
                fetched.push(T::direct(found).map_err(database_error)?);
            }
        }
        Ok(fetched)
    }

    async fn apply_rows(&self, rows: &Rows<'_>) -> Result<(), DbErr> {
        if rows.is_empty() {
            return Ok(());
        }
        let mut statement = self
            .connection
            .prepare_cached(&self.one_row_sql(rows))
            .map_err(database_error)?;
        for row in rows.each() {
            statement
                .execute(params_from_iter(row))
                .map_err(database_error)?;
        }
        Ok(())
    }

    /// Steps the INSERT without its `RETURNING` clause, and takes each new row's id from the
    /// connection: SQLite runs a `RETURNING` as a trigger, and any statement with a trigger
    /// keeps a statement journal (a copy of every page it changes, to undo just that statement)
    /// — for the answers' rows and their four indexes, ≈ 5 % of the writer's time.
    async fn insert_rows(&self, rows: &Rows<'_>, key: usize) -> Result<Vec<(i64, String)>, DbErr> {
        let mut inserted = Vec::new();
        self.each_changed(rows, |row| {
            let key = Rows::text(row, key).ok_or_else(|| {
                DbErr::Custom(format!("column {key} of the rows inserted is not a text"))
            })?;
            inserted.push((self.connection.last_insert_rowid(), key.to_owned()));
            Ok(())
        })?;
        Ok(inserted)
    }

    /// Steps the DELETE without its `RETURNING` clause (a trigger, as for
    /// [`BatchDb::insert_rows`]), and takes each row that deleted something as returned.
    async fn delete_rows(&self, rows: &Rows<'_>, key: usize) -> Result<Vec<i64>, DbErr> {
        let mut deleted = Vec::new();
        self.each_changed(rows, |row| match row.get(key) {
            Some(Cell::Int(number)) => {
                deleted.push(*number);
                Ok(())
            }
            _ => Err(DbErr::Custom(format!(
                "column {key} of the rows deleted is not a number"
            ))),
        })?;
        Ok(deleted)
    }

    async fn fetch<T: Fetched>(&self, statement: Statement) -> Result<Vec<T>, DbErr> {
        let values = Self::bound_values(&statement)?;
        let mut prepared = self
            .connection
            .prepare_cached(&statement.sql)
            .map_err(database_error)?;
        let mut returned = prepared
            .query(params_from_iter(values))
            .map_err(database_error)?;
        let mut fetched = Vec::new();
        while let Some(found) = returned.next().map_err(database_error)? {
            fetched.push(T::direct(found).map_err(database_error)?);
        }
        Ok(fetched)
    }

    async fn execute(&self, statement: Statement) -> Result<u64, DbErr> {
        let values = Self::bound_values(&statement)?;
        let changed = self
            .connection
            .prepare_cached(&statement.sql)
            .and_then(|mut prepared| prepared.execute(params_from_iter(values)))
            .map_err(database_error)?;
        Ok(u64::try_from(changed).unwrap_or(u64::MAX))
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, Statement};

    use crate::answering::validate::TallyKeys;
    use crate::answering::writer::tests::count;
    use crate::answering::writer::{
        Admission, Outcome, Submission, WriteError, Writer, WriterDatabase,
    };

    /// A fresh SQLite database with one school's link in an open campaign of the shipped
    /// parents' survey, and the writer's own connection to it.
    async fn one_link() -> (tempfile::TempDir, DatabaseConnection, Writer, Submission) {
        let test = crate::bench::TestCampaign::open(1, "held").await;
        let writer = Writer::start(
            WriterDatabase::open(&test.url, &test.db)
                .await
                .expect("the writer's connection opens"),
        )
        .expect("the writer starts");
        let (campaign, links) = (&test.campaign, &test.links);
        let submission = Submission {
            campaign_id: campaign.id,
            school_id: links[0].school_id,
            link_id: links[0].id,
            survey_version_id: campaign.survey_version_id,
            idempotency_key: "a".repeat(32),
            browser_key: Some("b".repeat(32)),
            answers_json: "{}".to_owned(),
            tally_keys: {
                let mut keys = TallyKeys::default();
                keys.push(&["q1"], "1");
                keys
            },
            submitted_at: chrono::Utc::now(),
            admission: Some(Admission {
                per_minute: 1000,
                held_left_out: true,
            }),
            ..Submission::default()
        };
        (test.folder, test.db, writer, submission)
    }

    /// The writer's own connection keeps the shared pool's promises: WAL, every commit synced
    /// to disk before the answer is acknowledged, foreign keys checked, the WAL copied into the
    /// database at the same length.
    #[tokio::test]
    async fn the_writers_connection_syncs_every_commit_and_checks_foreign_keys() {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let file = folder.path().join("dupin.sqlite3");
        let pool = crate::db::connect(&format!("sqlite://{}", file.display()))
            .await
            .expect("the database is created");
        let direct = super::Direct::open(&file).expect("the writer's connection opens");
        let pools = pool
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Sqlite,
                "PRAGMA wal_autocheckpoint",
            ))
            .await
            .expect("the pool's setting is read")
            .expect("a row")
            .try_get_by_index::<i64>(0)
            .expect("a number");
        assert_eq!(
            pools, 30_000,
            "the pool's connections copy the WAL at 30,000 pages"
        );
        let pragma = |name: &str| -> String {
            direct
                .connection
                .query_row(&format!("PRAGMA {name}"), [], |row| {
                    row.get::<_, rusqlite::types::Value>(0)
                })
                .map(|value| match value {
                    rusqlite::types::Value::Integer(number) => number.to_string(),
                    rusqlite::types::Value::Text(text) => text,
                    other => format!("{other:?}"),
                })
                .expect("the pragma is read")
        };
        assert_eq!(pragma("journal_mode"), "wal");
        // 2 is FULL: the WAL is synced at every commit.
        assert_eq!(pragma("synchronous"), "2");
        assert_eq!(pragma("foreign_keys"), "1");
        // 2 is MEMORY: statement journals are not temporary files.
        assert_eq!(pragma("temp_store"), "2");
        assert_eq!(pragma("wal_autocheckpoint"), "30000");
    }

    /// On the writer's connection the answers' INSERT runs without its RETURNING (which would
    /// give every row a statement journal): the ids it reports are the rows' own, in order, and
    /// a row whose form key is stored already is not among them.
    #[tokio::test]
    async fn answers_inserted_without_returning_report_the_ids_stored() {
        use crate::answering::writer::{Stored, insert_responses};
        let test = crate::bench::TestCampaign::open(2, "ids").await;
        let file = crate::db::sqlite_file(&test.url).expect("a SQLite file");
        let direct = super::Direct::open(&file).expect("the writer's connection opens");
        let mut answers = test.answers(3);
        answers[2].idempotency_key = answers[0].idempotency_key.clone();
        answers[2].browser_key = Some("e".repeat(32));
        let stored: Vec<Stored> = answers
            .iter()
            .map(|answer| Stored::of(answer, None))
            .collect();
        direct
            .connection
            .execute_batch("BEGIN IMMEDIATE")
            .expect("a write transaction");
        let inserted = insert_responses(&direct, &stored, false)
            .await
            .expect("the answers are inserted");
        direct
            .connection
            .execute_batch("COMMIT")
            .expect("committed");

        let mut in_database = Vec::new();
        for answer in &answers[..2] {
            let id: i64 = direct
                .connection
                .query_row(
                    "SELECT id FROM response WHERE idempotency_key = ?1",
                    [&answer.idempotency_key],
                    |row| row.get(0),
                )
                .expect("the answer is stored");
            in_database.push((id, answer.idempotency_key.clone()));
        }
        assert_eq!(inserted, in_database);
        assert_eq!(count(&test.db, "SELECT COUNT(*) FROM response").await, 2);
    }

    /// A batch that fails half-way leaves nothing behind — not its link's admission count,
    /// written before its response failed — and the held connection, rolled back, stores the
    /// next batch, and knows a retry of it.
    #[tokio::test]
    async fn a_failed_batch_leaves_nothing_and_the_next_one_is_stored_once() {
        let (_folder, db, writer, good) = one_link().await;
        let failing = Submission {
            // No such campaign: the response's row breaks a foreign key, after the link's
            // admission count was added in the same transaction.
            campaign_id: 9999,
            idempotency_key: "c".repeat(32),
            browser_key: Some("d".repeat(32)),
            ..good.clone()
        };
        let refused = writer.submit(failing).await;
        assert!(
            matches!(refused, Err(WriteError::Database(_))),
            "{refused:?}"
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM response").await, 0);
        assert_eq!(
            count(&db, "SELECT COALESCE(SUM(count), 0) FROM admission").await,
            0
        );

        assert_eq!(
            writer.submit(good.clone()).await.ok(),
            Some(Outcome::Stored)
        );
        assert_eq!(
            writer.submit(good.clone()).await.ok(),
            Some(Outcome::AlreadyStored)
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM response").await, 1);
        // Its counts are added once the writer has been quiet a moment.
        let mut waited = 0;
        while count(&db, "SELECT COUNT(*) FROM response_pending").await > 0 {
            assert!(waited < 100, "the writer never added its pending answer");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            waited += 1;
        }
        assert_eq!(count(&db, "SELECT SUM(count) FROM tally").await, 1);
        assert_eq!(
            count(&db, "SELECT SUM(response_count) FROM campaign_link").await,
            1
        );
    }

    /// A submission of `good`'s link under a rate of `per_minute`, as the `n`-th phone.
    fn phone(good: &Submission, n: u32, per_minute: i64) -> Submission {
        Submission {
            idempotency_key: format!("{n:032}"),
            browser_key: Some(format!("{n:031}b")),
            admission: Some(Admission {
                per_minute,
                held_left_out: true,
            }),
            ..good.clone()
        }
    }

    /// Forty phones at once through one worker's mailbox: each is told what became of its own
    /// answer, as through `Writer::submit`, and a phone's second answer is refused.
    #[tokio::test]
    async fn answers_through_a_mailbox_get_their_own_outcomes() {
        let (_folder, db, writer, good) = one_link().await;
        let replies = crate::answering::writer::Replies::default();
        let outcomes = futures_util::future::join_all(
            (0..40).map(|n| writer.submit_through(phone(&good, n, 1000), &replies)),
        )
        .await;
        assert!(
            outcomes
                .iter()
                .all(|outcome| matches!(outcome, Ok(Outcome::Stored))),
            "{outcomes:?}"
        );
        let again = Submission {
            idempotency_key: "f".repeat(32),
            ..phone(&good, 7, 1000)
        };
        assert_eq!(
            writer.submit_through(again, &replies).await.ok(),
            Some(Outcome::AlreadyAnswered)
        );
        assert_eq!(count(&db, "SELECT COUNT(*) FROM response").await, 40);
    }

    /// The same rate through `writer::commit` on the shared pool (how the demonstration and
    /// the tools store answers on SQLite): the links' counts read back as on the writer's own
    /// connection.
    #[tokio::test]
    async fn a_rate_counts_the_same_through_the_shared_pool() {
        let (_folder, db, _writer, good) = one_link().await;
        let commit = |batch: Vec<Submission>| {
            let db = db.clone();
            async move { crate::answering::writer::commit(&db, &batch).await }
        };
        let first = commit(vec![phone(&good, 0, 2), phone(&good, 1, 2)]).await;
        let second = commit(vec![phone(&good, 2, 2), phone(&good, 3, 2)]).await;
        assert_eq!(first.ok(), Some(vec![Outcome::Stored, Outcome::Stored]));
        assert_eq!(
            second.ok(),
            Some(vec![
                Outcome::Held { surge: true },
                Outcome::Held { surge: false }
            ])
        );
    }

    /// The link's (r + 1)-th answer of a minute begins the surge (its submitter then holds the
    /// minute's earlier answers) even when the answers before it came in batches that ended
    /// exactly at the rate; the ones after it are held without beginning another.
    #[tokio::test]
    async fn the_answer_past_the_rate_begins_the_surge_after_a_batch_that_ended_at_it() {
        let (_folder, _db, writer, good) = one_link().await;
        let mut outcomes = Vec::new();
        for n in 0..4 {
            outcomes.push(writer.submit(phone(&good, n, 2)).await.ok());
        }
        assert_eq!(
            outcomes,
            [
                Some(Outcome::Stored),
                Some(Outcome::Stored),
                Some(Outcome::Held { surge: true }),
                Some(Outcome::Held { surge: false }),
            ]
        );
    }

    /// An answer stamped in an earlier minute than the link's count — another process's batch
    /// of the next minute committed first — counts in the current minute: it cannot set the
    /// count back and let the rest of the current minute through.
    #[tokio::test]
    async fn a_late_answer_of_the_previous_minute_does_not_restart_the_count() {
        let (_folder, db, writer, good) = one_link().await;
        let minute = chrono::Utc::now();
        let earlier = minute - chrono::Duration::seconds(60);
        let now = writer
            .submit(Submission {
                submitted_at: minute,
                ..phone(&good, 0, 1)
            })
            .await;
        let late = writer
            .submit(Submission {
                submitted_at: earlier,
                ..phone(&good, 1, 1)
            })
            .await;
        let after = writer
            .submit(Submission {
                submitted_at: minute,
                ..phone(&good, 2, 1)
            })
            .await;
        assert_eq!(now.ok(), Some(Outcome::Stored));
        assert_eq!(late.ok(), Some(Outcome::Held { surge: true }));
        assert_eq!(after.ok(), Some(Outcome::Held { surge: false }));
        assert_eq!(
            count(&db, "SELECT minute FROM admission").await,
            minute.timestamp() / 60
        );
        assert_eq!(count(&db, "SELECT count FROM admission").await, 3);
    }
}
