//! How many answers a link took in its current minute: the answer writer's count, by which
//! every dupin process agrees when a link's answers come faster than its school could send them.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "admission")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub link_id: i32,
    /// Minutes since 1970 (UTC) of the count.
    pub minute: i64,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
