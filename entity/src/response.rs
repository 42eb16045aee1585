//! One submitted questionnaire. Anonymous: no IP address, no name, and the browser is kept only
//! as a hash salted with the campaign, so answers cannot be joined across campaigns.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "response")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i32,
    pub school_id: i32,
    pub survey_version_id: i32,
    /// The key carried by the rendered form; unique, so a retried submit is stored once.
    #[sea_orm(unique)]
    pub idempotency_key: String,
    /// SHA-256 of (campaign, browser cookie), truncated; unique per campaign.
    pub browser_key: Option<String>,
    /// The validated answers as JSON: question id → value.
    #[sea_orm(column_type = "Text")]
    pub answers: String,
    pub submitted_at: DateTimeUtc,
    /// Milliseconds between the form being served and submitted, for answer-quality checks.
    pub duration_ms: Option<i64>,
    /// Excluded by a supervisor; left out of every figure.
    pub excluded: bool,
    /// Answer-quality flags found when it was stored, comma-separated (`straight_line`,
    /// `too_fast`, `burst`); `None` when nothing looked wrong.
    pub flags: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
