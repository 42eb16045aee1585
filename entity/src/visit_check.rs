//! One checklist item answered on a visit: a judgement (`met`, `not_met`, `not_applicable`)
//! with a note, or a number. Photo items have their photos in `photo` (with `item_id`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "visit_check")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub visit_id: i32,
    /// The item's id in the visit's checklist.
    pub item_id: String,
    pub judgement: Option<String>,
    pub number: Option<f64>,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
