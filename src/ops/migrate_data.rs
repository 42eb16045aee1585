//! `dupin migrate-data`: every row of every table, from one database to another — typically a
//! county moving from SQLite to PostgreSQL — keeping primary keys, so links, answers and accounts
//! are the same rows afterwards.
//!
//! The source is read in one snapshot (a read transaction; `REPEATABLE READ` on PostgreSQL). The
//! target must be migrated to the same schema and empty, and everything is written in **one
//! transaction on the target**: a failure half-way leaves it as empty as it was, ready for
//! another try. Rows go in batches of [`BATCH_ROWS`], read by primary key (keyset pagination,
//! so a large table costs no more per batch at its end than at its start) and written through the
//! entities, which turn SQLite's integers-as-booleans and text timestamps into PostgreSQL's
//! types. Afterwards PostgreSQL's identity counters are moved past the largest copied id, and
//! the row counts of both sides are compared before anything is committed.

use std::time::{Duration, Instant};

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, IntoIden, Query, ValueTuple};
use sea_orm::{
    AccessMode, ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, EntityName, EntityTrait, Identity, IntoActiveModel, IsolationLevel, Iterable,
    PrimaryKeyToColumn, PrimaryKeyTrait, Statement, TransactionTrait,
};

/// Rows per `INSERT`: 1,000 rows of the widest table bind about 13,000 values, under both
/// SQLite's (32,766) and PostgreSQL's (65,535) limits.
pub const BATCH_ROWS: u64 = 1_000;

/// Rows per `INSERT` of photos: each holds an image of up to a few hundred kilobytes, so a
/// batch stays within a few megabytes of memory.
pub const PHOTO_BATCH_ROWS: u64 = 8;

/// The table where sea-orm records the migrations applied; each side has its own.
const MIGRATIONS_TABLE: &str = "seaql_migrations";

/// Every table of dupin, parents before the rows that point at them.
pub fn tables() -> [&'static str; 25] {
    [
        entity::school::Entity.table_name(),
        entity::survey_version::Entity.table_name(),
        entity::campaign::Entity.table_name(),
        entity::campaign_link::Entity.table_name(),
        entity::admission::Entity.table_name(),
        entity::response::Entity.table_name(),
        entity::response_pending::Entity.table_name(),
        entity::tally::Entity.table_name(),
        entity::score_sum::Entity.table_name(),
        entity::account::Entity.table_name(),
        entity::sign_in_limit::Entity.table_name(),
        entity::audit_event::Entity.table_name(),
        entity::setting::Entity.table_name(),
        entity::teacher::Entity.table_name(),
        entity::invitation::Entity.table_name(),
        entity::invitation_link::Entity.table_name(),
        entity::outbox::Entity.table_name(),
        entity::api_token::Entity.table_name(),
        entity::visit::Entity.table_name(),
        entity::visit_check::Entity.table_name(),
        entity::finding::Entity.table_name(),
        entity::rectification::Entity.table_name(),
        entity::rectification_event::Entity.table_name(),
        entity::photo::Entity.table_name(),
        entity::letter::Entity.table_name(),
    ]
}

#[derive(Debug, thiserror::Error)]
pub enum MigrateDataError {
    #[error("--from and --to are the same database")]
    SameDatabase,
    #[error(
        "the target database is not empty: table {table} has {rows} rows. migrate-data copies only \
         into a new, empty database (do not start dupin on it before the copy)"
    )]
    TargetNotEmpty { table: &'static str, rows: i64 },
    #[error(
        "the target database has a table that migrate-data does not know: {0}. Nothing was copied; \
         this dupin would leave that table behind"
    )]
    UnknownTable(String),
    #[error("cannot read the {side} database: {source}")]
    Inspect {
        side: &'static str,
        #[source]
        source: DbErr,
    },
    #[error("copying table {table} failed, nothing was committed: {source}")]
    Copy {
        table: &'static str,
        #[source]
        source: DbErr,
    },
    #[error(
        "table {table}: {source_rows} rows in the source but {target_rows} in the target; nothing \
         was committed"
    )]
    CountMismatch {
        table: &'static str,
        source_rows: i64,
        target_rows: i64,
    },
    #[error("the target database refused the commit, nothing was copied: {0}")]
    Commit(#[source] DbErr),
}

/// One table, copied and counted on both sides.
#[derive(Clone, Debug)]
pub struct TableCopied {
    pub table: &'static str,
    pub source_rows: i64,
    pub target_rows: i64,
    pub took: Duration,
}

/// What the copy tells the person watching it.
#[derive(Debug)]
pub enum Progress<'a> {
    /// A table starts; it has `rows` rows in the source.
    Started { table: &'static str, rows: i64 },
    /// `rows` rows of the table are written so far.
    Batch { table: &'static str, rows: u64 },
    /// The table is done.
    Finished(&'a TableCopied),
}

/// Copies every row of `source` into `target`. Both are connected and migrated to this binary's
/// schema (`db::connect`); `target` must be empty. Returns one report per table, in copy order,
/// after the target's transaction has committed.
pub async fn migrate_data(
    source: &DatabaseConnection,
    target: &DatabaseConnection,
    progress: &(dyn Fn(Progress<'_>) + Sync),
) -> Result<Vec<TableCopied>, MigrateDataError> {
    let target_side = |source| MigrateDataError::Inspect {
        side: "target",
        source,
    };
    let source_side = |source| MigrateDataError::Inspect {
        side: "source",
        source,
    };

    let snapshot = match source.get_database_backend() {
        DbBackend::Postgres => {
            source
                .begin_with_config(
                    Some(IsolationLevel::RepeatableRead),
                    Some(AccessMode::ReadOnly),
                )
                .await
        }
        // In WAL mode a read transaction sees one snapshot from its first read to its end.
        _ => source.begin().await,
    }
    .map_err(source_side)?;
    let txn = crate::db::begin_write(target).await.map_err(target_side)?;
    // Checked again inside the transaction that writes, whoever checked before.
    check_target(&txn).await?;

    let copy = Copy {
        source: &snapshot,
        target: &txn,
        progress,
    };
    let copied = vec![
        copy.table(entity::school::Entity).await?,
        copy.table(entity::survey_version::Entity).await?,
        copy.table(entity::campaign::Entity).await?,
        copy.table(entity::campaign_link::Entity).await?,
        copy.table(entity::admission::Entity).await?,
        copy.table(entity::response::Entity).await?,
        copy.table(entity::response_pending::Entity).await?,
        copy.table(entity::tally::Entity).await?,
        copy.table(entity::score_sum::Entity).await?,
        copy.table(entity::account::Entity).await?,
        copy.table(entity::sign_in_limit::Entity).await?,
        copy.table(entity::audit_event::Entity).await?,
        copy.table(entity::setting::Entity).await?,
        copy.table(entity::teacher::Entity).await?,
        copy.table(entity::invitation::Entity).await?,
        copy.table(entity::invitation_link::Entity).await?,
        copy.table(entity::outbox::Entity).await?,
        copy.table(entity::api_token::Entity).await?,
        copy.table(entity::visit::Entity).await?,
        copy.table(entity::visit_check::Entity).await?,
        copy.table(entity::finding::Entity).await?,
        copy.table(entity::rectification::Entity).await?,
        copy.table(entity::rectification_event::Entity).await?,
        copy.table_in(entity::photo::Entity, PHOTO_BATCH_ROWS)
            .await?,
        copy.table(entity::letter::Entity).await?,
    ];
    // Every table of the schema, counted again from the list rather than from the copies, so a
    // table missing above cannot pass unnoticed.
    for table in tables() {
        let source_rows = count(&snapshot, table).await.map_err(source_side)?;
        let target_rows = count(&txn, table).await.map_err(target_side)?;
        if source_rows != target_rows {
            return Err(MigrateDataError::CountMismatch {
                table,
                source_rows,
                target_rows,
            });
        }
    }
    txn.commit().await.map_err(MigrateDataError::Commit)?;
    // Read-only: nothing to keep; ending it releases the snapshot.
    let _ = snapshot.rollback().await;
    // PostgreSQL plans queries from statistics that autovacuum gathers only a while after a
    // bulk load; until then it takes a million copied answers for a few hundred, and pages
    // through them (the exports) by sorting the rest of the campaign each time. Gathered now.
    if target.get_database_backend() == DbBackend::Postgres
        && let Err(error) = target.execute_unprepared("ANALYZE").await
    {
        tracing::warn!(%error, "ANALYZE after the copy failed; autovacuum will gather the statistics later");
    }
    Ok(copied)
}

/// Refuses a target that holds any row, or a table this binary would not copy into.
pub async fn check_target(target: &impl ConnectionTrait) -> Result<(), MigrateDataError> {
    let target_side = |source| MigrateDataError::Inspect {
        side: "target",
        source,
    };
    for table in table_names(target).await.map_err(target_side)? {
        if table != MIGRATIONS_TABLE && !tables().contains(&table.as_str()) {
            return Err(MigrateDataError::UnknownTable(table));
        }
    }
    for table in tables() {
        let rows = count(target, table).await.map_err(target_side)?;
        if rows > 0 {
            return Err(MigrateDataError::TargetNotEmpty { table, rows });
        }
    }
    Ok(())
}

/// The two ends of the copy, and who is watching.
struct Copy<'a> {
    source: &'a DatabaseTransaction,
    target: &'a DatabaseTransaction,
    progress: &'a (dyn Fn(Progress<'_>) + Sync),
}

impl Copy<'_> {
    async fn table<E>(&self, entity: E) -> Result<TableCopied, MigrateDataError>
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        self.table_in(entity, BATCH_ROWS).await
    }

    /// Copies one table, `batch` rows per `INSERT`.
    async fn table_in<E>(&self, entity: E, batch: u64) -> Result<TableCopied, MigrateDataError>
    where
        E: EntityTrait,
        E::Model: IntoActiveModel<E::ActiveModel> + Send + Sync,
        E::ActiveModel: ActiveModelTrait<Entity = E> + Send,
    {
        let table = entity.table_name();
        let failed = |source| MigrateDataError::Copy { table, source };
        let started = Instant::now();
        let source_rows = count(self.source, table).await.map_err(failed)?;
        (self.progress)(Progress::Started {
            table,
            rows: source_rows,
        });

        let key = primary_key_identity::<E>();
        let mut after: Option<ValueTuple> = None;
        let mut written: u64 = 0;
        loop {
            let mut cursor = E::find().cursor_by(key.clone());
            if let Some(last) = after.take() {
                cursor.after(last);
            }
            let page = cursor.first(batch).all(self.source).await.map_err(failed)?;
            let Some(last) = page.last() else { break };
            after = last.clone().into_active_model().get_primary_key_value();
            let rows = page.len() as u64;
            E::insert_many(page.into_iter().map(IntoActiveModel::into_active_model))
                .exec_without_returning(self.target)
                .await
                .map_err(failed)?;
            written += rows;
            (self.progress)(Progress::Batch {
                table,
                rows: written,
            });
            if rows < batch || after.is_none() {
                break;
            }
        }

        if self.target.get_database_backend() == DbBackend::Postgres
            && <E::PrimaryKey as PrimaryKeyTrait>::auto_increment()
        {
            move_identity_past_the_copied_ids::<E>(self.target, table)
                .await
                .map_err(failed)?;
        }
        let copied = TableCopied {
            table,
            source_rows,
            target_rows: count(self.target, table).await.map_err(failed)?,
            took: started.elapsed(),
        };
        (self.progress)(Progress::Finished(&copied));
        Ok(copied)
    }
}

/// The entity's primary-key columns as the cursor wants them.
fn primary_key_identity<E: EntityTrait>() -> Identity {
    let mut columns: Vec<_> = E::PrimaryKey::iter()
        .map(|key| key.into_column().into_iden())
        .collect();
    match columns.len() {
        1 => Identity::Unary(columns.remove(0)),
        2 => Identity::Binary(columns.remove(0), columns.remove(0)),
        3 => Identity::Ternary(columns.remove(0), columns.remove(0), columns.remove(0)),
        _ => Identity::Many(columns),
    }
}

/// Rows inserted with their ids leave a PostgreSQL identity column's counter where it was (at 1),
/// so the next answer would collide with the first copied one. This sets it to continue after the
/// largest id in the table (or at 1 for an empty table).
async fn move_identity_past_the_copied_ids<E: EntityTrait>(
    target: &DatabaseTransaction,
    table: &str,
) -> Result<(), DbErr> {
    for key in E::PrimaryKey::iter() {
        let column = key.into_column().into_iden().to_string();
        let sequence = Func::cust(Alias::new("pg_get_serial_sequence"))
            .arg(format!("\"{table}\""))
            .arg(column.clone());
        let next = Expr::expr(Func::coalesce([
            Expr::from(Func::max(Expr::col(Alias::new(column.clone())))),
            Expr::val(0),
        ]))
        .add(1);
        let select = Query::select()
            .expr(
                Func::cust(Alias::new("setval"))
                    .arg(sequence)
                    .arg(next)
                    .arg(false),
            )
            .from(Alias::new(table))
            .to_owned();
        let set = target
            .query_one(&select)
            .await?
            .and_then(|row| row.try_get_by_index::<Option<i64>>(0).ok().flatten());
        if set.is_none() {
            return Err(DbErr::Custom(format!(
                "{table}.{column} has no identity sequence to move past the copied ids"
            )));
        }
    }
    Ok(())
}

async fn count(db: &impl ConnectionTrait, table: &str) -> Result<i64, DbErr> {
    let select = Query::select()
        .expr(Expr::cust("COUNT(*)"))
        .from(Alias::new(table))
        .to_owned();
    let row = db
        .query_one(&select)
        .await?
        .ok_or_else(|| DbErr::Custom(format!("COUNT(*) FROM {table} returned no row")))?;
    row.try_get_by_index::<i64>(0)
}

/// The tables of the database's current schema.
async fn table_names(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    };
    db.query_all_raw(Statement::from_string(backend, sql))
        .await?
        .iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect()
}

/// `url` with its password, if any, replaced by `***`, for printing.
pub fn without_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((user_info, host)) if user_info.contains(':') => {
            let user = user_info.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}{path}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entity_is_copied_parents_first() {
        assert_eq!(
            tables(),
            [
                "school",
                "survey_version",
                "campaign",
                "campaign_link",
                "admission",
                "response",
                "response_pending",
                "tally",
                "score_sum",
                "account",
                "sign_in_limit",
                "audit_event",
                "setting",
                "teacher",
                "invitation",
                "invitation_link",
                "outbox",
                "api_token",
                "visit",
                "visit_check",
                "finding",
                "rectification",
                "rectification_event",
                "photo",
                "letter"
            ]
        );
    }

    #[test]
    fn passwords_are_not_printed() {
        assert_eq!(
            without_password("postgres://dupin:s3cret@db:5432/dupin"),
            "postgres://dupin:***@db:5432/dupin"
        );
        assert_eq!(
            without_password("postgres://postgres@127.0.0.1/dupin"),
            "postgres://postgres@127.0.0.1/dupin"
        );
        assert_eq!(
            without_password("sqlite://data/dupin.sqlite3"),
            "sqlite://data/dupin.sqlite3"
        );
    }
}
