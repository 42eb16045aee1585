//! The schema of dupin, one file per migration. Applied by `dupin` itself at start-up, so a fresh
//! machine needs no separate migration step.

pub use sea_orm_migration::prelude::*;

mod m20261129_000001_create_tables;
mod m20261129_000002_console;
mod m20261129_000003_response_paging;
mod m20261129_000004_mail_api_quality;
mod m20261130_000005_tally_clustered;
mod m20261203_000006_integrity;
pub mod m20261204_000007_score_sum;
mod m20261205_000008_supervision;
mod m20261206_000009_response_pending;
mod m20261206_000010_pending_unindexed;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261129_000001_create_tables::Migration),
            Box::new(m20261129_000002_console::Migration),
            Box::new(m20261129_000003_response_paging::Migration),
            Box::new(m20261129_000004_mail_api_quality::Migration),
            Box::new(m20261130_000005_tally_clustered::Migration),
            Box::new(m20261203_000006_integrity::Migration),
            Box::new(m20261204_000007_score_sum::Migration),
            Box::new(m20261205_000008_supervision::Migration),
            Box::new(m20261206_000009_response_pending::Migration),
            Box::new(m20261206_000010_pending_unindexed::Migration),
        ]
    }
}
