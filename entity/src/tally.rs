//! Running counts per campaign, school, question and option, updated in the same transaction as
//! the answers they count, so that results never need to scan the answers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "tally")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_id: i32,
    /// The question id, or `question.row` for one statement of a matrix.
    #[sea_orm(primary_key, auto_increment = false)]
    pub question_key: String,
    /// The option's code (`yes`/`no` for yes/no questions, `0`…`10` for ratings).
    #[sea_orm(primary_key, auto_increment = false)]
    pub option_key: String,
    pub count: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
