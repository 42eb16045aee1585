//! An issued 督导意见书: one school and round, numbered 〔year〕第 number 号, frozen as a JSON
//! snapshot of what it said when issued. Reissuing adds a new version with the same number.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "letter")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub school_id: i32,
    pub campaign_id: i32,
    pub year: i32,
    pub number: i32,
    /// 1 for the first issue; a reissue adds one.
    pub version: i32,
    pub issued_by: i32,
    pub issued_at: DateTimeUtc,
    /// What the letter says, as JSON, frozen at issue.
    pub snapshot: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
