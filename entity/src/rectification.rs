//! A rectification item (整改): what a school must put right, who at the school answers for it,
//! by when, and where it stands. Its history is in `rectification_event`.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rectification")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub school_id: i32,
    /// The round whose rating or visits raised it, when there is one.
    pub campaign_id: Option<i32>,
    /// Where it came from: `finding`, `indicator`, `area` or `other`.
    pub source: String,
    pub finding_id: Option<i32>,
    /// The unmet indicator's id, for `indicator`.
    pub indicator: Option<String>,
    /// The area's slug: the finding's area, the low-scoring area, or the indicator's area.
    pub area: Option<String>,
    pub requirement: String,
    /// The person at the school responsible (六: 明确专人负责).
    pub responsible: String,
    pub deadline: Date,
    /// `open`, `reported` (the school says it is done), `accepted`, or `returned` (back to the
    /// school with a reason).
    pub status: String,
    /// When the reminder before the deadline was queued.
    pub reminded_before_at: Option<DateTimeUtc>,
    /// When the overdue reminder was queued.
    pub reminded_overdue_at: Option<DateTimeUtc>,
    pub created_by: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
