//! Running sums of respondents' area scores (`score_sum`), kept beside the tallies: per
//! campaign, school and area or pair of areas, the number of respondents, the sums of their
//! scores and of products. A `WITHOUT ROWID` table on SQLite, like the tallies.
//!
//! A database that already holds answers cannot be summed here (the scores come from each
//! answer read against its frozen survey, which only dupin itself knows how to do): the
//! migration leaves the setting `score_sum_backfill` = `pending`, and dupin fills the table from
//! the stored answers before it serves (`dupin::results::scan::backfill_score_sums`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The setting that asks dupin to fill `score_sum` from the stored answers.
pub const BACKFILL_SETTING: &str = "score_sum_backfill";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        let create = match db.get_database_backend() {
            DbBackend::Sqlite => {
                "CREATE TABLE \"score_sum\" ( \"campaign_id\" integer NOT NULL, \
                 \"school_id\" integer NOT NULL, \"score_key\" varchar NOT NULL, \
                 \"n\" integer NOT NULL DEFAULT 0, \"sum_x\" real NOT NULL DEFAULT 0, \
                 \"sum_y\" real NOT NULL DEFAULT 0, \"sum_xy\" real NOT NULL DEFAULT 0, \
                 PRIMARY KEY (\"campaign_id\", \"school_id\", \"score_key\") ) WITHOUT ROWID"
            }
            _ => {
                "CREATE TABLE \"score_sum\" ( \"campaign_id\" integer NOT NULL, \
                 \"school_id\" integer NOT NULL, \"score_key\" varchar NOT NULL, \
                 \"n\" bigint NOT NULL DEFAULT 0, \"sum_x\" double precision NOT NULL DEFAULT 0, \
                 \"sum_y\" double precision NOT NULL DEFAULT 0, \
                 \"sum_xy\" double precision NOT NULL DEFAULT 0, \
                 PRIMARY KEY (\"campaign_id\", \"school_id\", \"score_key\") )"
            }
        };
        db.execute_unprepared(create).await?;
        // Only a database with answers needs filling; a new one (or migrate-data's empty
        // target) must stay empty.
        db.execute_unprepared(&format!(
            "INSERT INTO \"setting\" (\"key\", \"value\") SELECT '{BACKFILL_SETTING}', 'pending' \
             WHERE EXISTS (SELECT 1 FROM \"response\")"
        ))
        .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(&format!(
            "DELETE FROM \"setting\" WHERE \"key\" = '{BACKFILL_SETTING}'"
        ))
        .await?;
        db.execute_unprepared("DROP TABLE \"score_sum\"").await?;
        Ok(())
    }
}
