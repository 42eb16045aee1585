//! On SQLite, `response_pending` loses its index by campaign. The answer writer adds a pending
//! row for every answer it stores and deletes it once the answer is counted, both by the row's
//! id; the index made each of them write and remove an entry as well — two B-tree changes an
//! answer and ≈ 1 KiB of every answer's WAL pages under `dupin bench` (README, "Capacity",
//! part 20). It served only the readers that look up one campaign's pending rows, in a table
//! that holds about a second's answers while answers arrive and none once they are counted:
//! a scan of it costs them less than the index costs the writer. PostgreSQL keeps the index:
//! its writer writes no pages of its own, and its table keeps deleted rows until vacuumed.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "idx-response_pending-campaign";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Sqlite {
            db.execute_unprepared(&format!("DROP INDEX IF EXISTS \"{INDEX}\""))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        if db.get_database_backend() == DbBackend::Sqlite {
            db.execute_unprepared(&format!(
                "CREATE INDEX IF NOT EXISTS \"{INDEX}\" ON \"response_pending\" \
                 (\"campaign_id\", \"response_id\")"
            ))
            .await?;
        }
        Ok(())
    }
}
