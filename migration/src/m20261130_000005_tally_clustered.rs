//! On SQLite, the tallies become a `WITHOUT ROWID` table: its rows are stored in the order of
//! the primary key (campaign, school, question, option), so the results page reads a
//! campaign's counts as one range of the key instead of an index lookup followed by a table
//! lookup per row, and the writer updates one b-tree instead of two. PostgreSQL keeps its
//! table as it is.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The tally table as the first migration created it on SQLite, with or without its rowid.
fn create_tally(name: &str, without_rowid: bool) -> String {
    format!(
        "CREATE TABLE \"{name}\" ( \"campaign_id\" integer NOT NULL, \"school_id\" integer NOT NULL, \
         \"question_key\" varchar NOT NULL, \"option_key\" varchar NOT NULL, \
         \"count\" integer NOT NULL DEFAULT 0, \
         PRIMARY KEY (\"campaign_id\", \"school_id\", \"question_key\", \"option_key\") ){}",
        if without_rowid { " WITHOUT ROWID" } else { "" }
    )
}

/// Rebuilds the tally table in the form asked for, keeping every row.
async fn rebuild(manager: &SchemaManager<'_>, without_rowid: bool) -> Result<(), DbErr> {
    let db = manager.get_connection();
    if db.get_database_backend() != DbBackend::Sqlite {
        return Ok(());
    }
    for statement in [
        create_tally("tally_rebuilt", without_rowid),
        "INSERT INTO \"tally_rebuilt\" (\"campaign_id\", \"school_id\", \"question_key\", \
         \"option_key\", \"count\") SELECT \"campaign_id\", \"school_id\", \"question_key\", \
         \"option_key\", \"count\" FROM \"tally\""
            .to_owned(),
        "DROP TABLE \"tally\"".to_owned(),
        "ALTER TABLE \"tally_rebuilt\" RENAME TO \"tally\"".to_owned(),
    ] {
        db.execute_unprepared(&statement).await?;
    }
    Ok(())
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// The table is dropped and renamed within the migration: all of it, with the migration's
    /// record, commits at once or not at all (SQLite's DDL is transactional).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, true).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        rebuild(manager, false).await
    }
}
