//! Answers stored but not yet in the running counts (`response_pending`): the answer writer
//! stores an answer and leaves its tallies and score sums for a later batch, which adds a
//! school's pending answers together, a row per option and score instead of a row per answer.
//! A row here is claimed by deleting it, in the transaction that adds the answer to the counts;
//! whoever reads the counts first adds the answers still pending (`dupin::answering::pending`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // On SQLite an INTEGER PRIMARY KEY is the row id itself: no second index to keep.
        let id_type = match db.get_database_backend() {
            DbBackend::Sqlite => "integer",
            _ => "bigint",
        };
        db.execute_unprepared(&format!(
            "CREATE TABLE \"response_pending\" ( \"response_id\" {id_type} NOT NULL PRIMARY KEY \
             REFERENCES \"response\" (\"id\") ON DELETE CASCADE, \
             \"campaign_id\" integer NOT NULL )"
        ))
        .await?;
        db.execute_unprepared(
            "CREATE INDEX \"idx-response_pending-campaign\" ON \"response_pending\" \
             (\"campaign_id\", \"response_id\")",
        )
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Answers still pending would be lost from the counts: dupin adds them when it starts.
        let waiting = db
            .query_one_raw(sea_orm_migration::sea_orm::Statement::from_string(
                db.get_database_backend(),
                "SELECT 1 FROM \"response_pending\" LIMIT 1",
            ))
            .await?;
        if waiting.is_some() {
            return Err(DbErr::Migration(
                "answers are still waiting to be counted (response_pending): start dupin once, \
                 which counts them, then undo this migration"
                    .to_owned(),
            ));
        }
        db.execute_unprepared("DROP TABLE \"response_pending\"")
            .await?;
        Ok(())
    }
}
