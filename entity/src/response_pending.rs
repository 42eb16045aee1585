//! An answer stored but not yet added to the running counts (tallies and score sums): the
//! answer writer adds a school's pending answers together in a later batch, and whoever reads
//! the counts first adds those still pending. Claimed by deleting the row, in the transaction
//! that adds the answer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "response_pending")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub response_id: i64,
    pub campaign_id: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
