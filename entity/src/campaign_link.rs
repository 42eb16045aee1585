//! The link (and QR code) of one school in one campaign, with its running answer count.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_link")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub campaign_id: i32,
    pub school_id: i32,
    /// 20 characters of Crockford base32: 100 random bits, upper case so that a QR code can
    /// encode it in alphanumeric mode.
    #[sea_orm(unique)]
    pub token: String,
    /// Answers stored through this link, kept up to date in the same transaction as the answers.
    pub response_count: i64,
    pub created_at: DateTimeUtc,
    /// Answers hoped for from this school: enrolment for parents and students, full-time
    /// teachers for teachers, 1 for the school's self-check.
    pub expected: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
