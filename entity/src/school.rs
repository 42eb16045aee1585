//! A school of the county, identified by its code (学校代码) from the bureau's own list.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "school")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub code: String,
    pub name: String,
    pub township: String,
    /// One of 幼儿园, 小学, 初中, 九年一贯制, 高中, 中职, 教学点.
    pub kind: String,
    /// A township central school (乡镇中心校); some thresholds are stricter for them.
    pub is_central: bool,
    /// In one of the county's 60 key poverty villages (扶贫重点村).
    pub is_key_village: bool,
    pub enrolment: i32,
    /// Full-time teachers (专任教师).
    pub teachers: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
