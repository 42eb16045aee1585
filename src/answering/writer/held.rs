//! On SQLite, the answer writer's own connection, held for as long as the writer runs, and a
//! batch's transaction begun and committed inside its first and last requests.
//!
//! Every request to an SQLite connection is a round trip to that connection's thread, which under
//! load waits its turn for a core, and a pooled connection makes two more: the pool pings it
//! when it is given back, and the next batch waits for that before it can take it again. Held,
//! with `BEGIN IMMEDIATE` sent in front of the batch's first query and `COMMIT` after its last
//! statement, a batch of answers costs three requests (admission, responses, the counts) where
//! it cost seven. The statements and what is decided between them are the ones `super::store` runs on
//! PostgreSQL in a sea-orm transaction; only how they reach the database differs.

use std::sync::atomic::{AtomicBool, Ordering};

use sea_orm::sqlx::pool::PoolConnection;
use sea_orm::sqlx::sqlite::{Sqlite, SqliteArguments, SqlitePool};
use sea_orm::sqlx::{self, AssertSqlSafe, Executor};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, ExecResult, QueryResult,
    Statement, Value, Values,
};
use tokio::sync::Mutex;

use super::{Outcome, Submission};

/// Sent in front of a batch's first query (or alone): the write lock at once, as `db::begin_write`.
const BEGIN: &str = "BEGIN IMMEDIATE;\n";

pub(super) struct HeldConnection {
    pool: SqlitePool,
    connection: Option<PoolConnection<Sqlite>>,
}

impl HeldConnection {
    /// The writer's connection on SQLite; `None` on PostgreSQL, whose batches take a pooled
    /// connection in a transaction (`super::commit`).
    pub(super) fn of(db: &DatabaseConnection) -> Option<HeldConnection> {
        (db.get_database_backend() == DatabaseBackend::Sqlite).then(|| HeldConnection {
            pool: db.get_sqlite_connection_pool().clone(),
            connection: None,
        })
    }

    /// Stores a batch in one transaction, as `super::commit` does, and says what became of each
    /// submission. After a failure the transaction is rolled back; a connection that cannot
    /// even roll back is let go, and the next batch takes a fresh one.
    pub(super) async fn commit(
        &mut self,
        submissions: &[Submission],
    ) -> Result<Vec<Outcome>, DbErr> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => self.pool.acquire().await.map_err(database_error)?,
        };
        let batch = Batch {
            connection: Mutex::new(connection),
            begun: AtomicBool::new(false),
        };
        let result = async {
            let (outcomes, counts) = super::store(&batch, submissions).await?;
            batch.finish(counts).await?;
            Ok(outcomes)
        }
        .await;
        let usable =
            result.is_ok() || !batch.begun() || batch.execute_unprepared("ROLLBACK").await.is_ok();
        if usable {
            self.connection = Some(batch.connection.into_inner());
        }
        result
    }
}

/// One batch on the held connection: the statements `super::store` runs, the first of them
/// beginning the transaction.
struct Batch {
    connection: Mutex<PoolConnection<Sqlite>>,
    begun: AtomicBool,
}

impl Batch {
    fn begun(&self) -> bool {
        self.begun.load(Ordering::Relaxed)
    }

    /// A query's `sql`, with the transaction's beginning in front of it if nothing was sent
    /// before. (Only a query's: SQLite counts the rows a statement changed for the connection,
    /// not for the statement, so a `BEGIN` sent with a statement whose count is read would
    /// report the count of the statement before it — the last batch's.)
    fn in_transaction(&self, sql: &str) -> String {
        if self.begun.swap(true, Ordering::Relaxed) {
            sql.to_owned()
        } else {
            format!("{BEGIN}{sql}")
        }
    }

    /// Begins the transaction on its own, if nothing was sent before: for statements whose
    /// count of changed rows is read.
    async fn begin_alone(&self) -> Result<(), DbErr> {
        if !self.begun.swap(true, Ordering::Relaxed) {
            let mut connection = self.connection.lock().await;
            (&mut **connection)
                .execute(BEGIN)
                .await
                .map_err(database_error)?;
        }
        Ok(())
    }

    /// The count statements and the commit, in one request.
    async fn finish(&self, counts: Vec<Statement>) -> Result<(), DbErr> {
        if !self.begun() {
            // Nothing was sent: nothing to commit.
            return Ok(());
        }
        match super::joined(counts)? {
            Some(mut together) => {
                together.sql.push_str("COMMIT;");
                self.execute_raw(together).await?;
            }
            None => {
                self.execute_unprepared("COMMIT").await?;
            }
        }
        Ok(())
    }

    /// `sql` with `values` bound, for the held connection.
    fn query(
        sql: String,
        values: Option<Values>,
    ) -> Result<sqlx::query::Query<'static, Sqlite, SqliteArguments>, DbErr> {
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for value in values.map(|values| values.0).unwrap_or_default() {
            query = match value {
                Value::String(text) => query.bind(text),
                Value::Int(number) => query.bind(number),
                Value::BigInt(number) => query.bind(number),
                Value::Double(number) => query.bind(number),
                Value::Bool(flag) => query.bind(flag),
                other => {
                    return Err(DbErr::Custom(format!(
                        "the answer writer binds no value like {other:?}"
                    )));
                }
            };
        }
        Ok(query)
    }
}

fn database_error(error: sqlx::Error) -> DbErr {
    DbErr::Custom(format!("storing answers: {error}"))
}

#[async_trait::async_trait]
impl ConnectionTrait for Batch {
    fn get_database_backend(&self) -> DatabaseBackend {
        DatabaseBackend::Sqlite
    }

    async fn execute_raw(&self, statement: Statement) -> Result<ExecResult, DbErr> {
        self.begin_alone().await?;
        let query = Self::query(statement.sql, statement.values)?;
        let mut connection = self.connection.lock().await;
        let done = (&mut **connection)
            .execute(query)
            .await
            .map_err(database_error)?;
        Ok(done.into())
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.begin_alone().await?;
        let mut connection = self.connection.lock().await;
        let done = (&mut **connection)
            .execute(AssertSqlSafe(sql.to_owned()))
            .await
            .map_err(database_error)?;
        Ok(done.into())
    }

    async fn query_one_raw(&self, statement: Statement) -> Result<Option<QueryResult>, DbErr> {
        let query = Self::query(self.in_transaction(&statement.sql), statement.values)?;
        let mut connection = self.connection.lock().await;
        let row = (&mut **connection)
            .fetch_optional(query)
            .await
            .map_err(database_error)?;
        Ok(row.map(QueryResult::from))
    }

    async fn query_all_raw(&self, statement: Statement) -> Result<Vec<QueryResult>, DbErr> {
        let query = Self::query(self.in_transaction(&statement.sql), statement.values)?;
        let mut connection = self.connection.lock().await;
        let rows = (&mut **connection)
            .fetch_all(query)
            .await
            .map_err(database_error)?;
        Ok(rows.into_iter().map(QueryResult::from).collect())
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};

    use crate::answering::validate::TallyKeys;
    use crate::answering::writer::{Admission, Outcome, Submission, WriteError, Writer};
    use crate::campaigns::actions::create_campaign;
    use crate::campaigns::{self, CampaignStatus, NewCampaign, SchoolSelection};
    use crate::change::{Actor, Context};
    use crate::schools::actions::import_schools;

    /// A fresh SQLite database with one school's link in an open campaign of the shipped
    /// parents' survey, and the writer's own connection to it.
    async fn one_link() -> (
        tempfile::TempDir,
        DatabaseConnection,
        DatabaseConnection,
        Submission,
    ) {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}/dupin.sqlite3", folder.path().display());
        let db = crate::db::connect(&url).await.expect("the database opens");
        let writer_db = crate::db::connect_writer(&url, &db)
            .await
            .expect("the writer's");
        let context = Context::new(db.clone(), "");
        let catalog = crate::survey::load_dir(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("surveys"),
        )
        .expect("the shipped surveys load");
        let entry = catalog.get("parents").expect("the parents' survey");
        import_schools(
            &context,
            Actor::CommandLine,
            "test",
            &crate::bench::synthetic_schools(1),
            &|_| {},
        )
        .await
        .expect("the school is imported");
        let (campaign, _) = create_campaign(
            &context,
            Actor::CommandLine,
            NewCampaign {
                name: "held".to_owned(),
                survey: entry,
                opens_at: None,
                closes_at: None,
                schools: SchoolSelection::All,
                status: CampaignStatus::Open,
                expected_override: None,
            },
        )
        .await
        .expect("the campaign is created");
        let token = campaigns::links(&db, campaign.id)
            .await
            .expect("its links")
            .remove(0)
            .token;
        let link = campaigns::find_link(&db, &token)
            .await
            .expect("the link is read")
            .expect("the link is there");
        let submission = Submission {
            campaign_id: campaign.id,
            school_id: link.school.id,
            link_id: link.link.id,
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
        (folder, db, writer_db, submission)
    }

    async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
        db.query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("the count runs")
        .expect("a row")
        .try_get_by_index::<i64>(0)
        .expect("a number")
    }

    /// A batch that fails half-way leaves nothing behind — not its link's admission count,
    /// written before its response failed — and the held connection, rolled back, stores the
    /// next batch, and knows a retry of it.
    #[tokio::test]
    async fn a_failed_batch_leaves_nothing_and_the_next_one_is_stored_once() {
        let (_folder, db, writer_db, good) = one_link().await;
        let writer = Writer::start(writer_db);
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

    /// The link's (r + 1)-th answer of a minute begins the surge (its submitter then holds the
    /// minute's earlier answers) even when the answers before it came in batches that ended
    /// exactly at the rate; the ones after it are held without beginning another.
    #[tokio::test]
    async fn the_answer_past_the_rate_begins_the_surge_after_a_batch_that_ended_at_it() {
        let (_folder, _db, writer_db, good) = one_link().await;
        let writer = Writer::start(writer_db);
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
        let (_folder, db, writer_db, good) = one_link().await;
        let writer = Writer::start(writer_db);
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
