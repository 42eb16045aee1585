//! One exact version of a survey file, frozen when a campaign first uses it.
//!
//! `definition` is the checked survey as JSON (scales resolved); campaigns render and validate
//! against it, so editing `surveys/` later never changes what an existing campaign asks.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "survey_version")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The survey's slug, as in its file (`parents`, `teachers`, …).
    pub survey_id: String,
    /// SHA-256 of `definition`, hex; unique, so the same content is stored once.
    #[sea_orm(unique)]
    pub digest: String,
    pub title: String,
    pub audience: String,
    #[sea_orm(column_type = "Text")]
    pub definition: String,
    #[sea_orm(column_type = "Text")]
    pub source: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
