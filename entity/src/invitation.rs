//! A teacher's personal, one-use invitation to a campaign. It records that it was used, never
//! which response came from it: nothing here or in `response` joins the two. Its links are in
//! `invitation_link`, kept only as hashes.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub campaign_id: i32,
    pub teacher_id: i32,
    /// `queued`, `sent`, `failed` or `answered`.
    pub status: String,
    /// The SMTP server's reason when the last message failed.
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
    pub reminded_at: Option<DateTimeUtc>,
    pub reminders: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
