//! Running sums of respondents' area scores per campaign, school and area (or pair of areas):
//! how many respondents, the sums of their scores and of the products of two areas' scores.
//! Kept by the answer writer in the transaction that stores the answers they sum, like the
//! tallies, so that area scores and their intervals never need a scan of the answers.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "score_sum")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub campaign_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub school_id: i32,
    /// An area's slug (`nutrition`), or two areas' slugs joined by `|` in the plan's order of
    /// areas (`nutrition|overall`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub score_key: String,
    /// Respondents with a score in the area (in both areas, for a pair).
    pub n: i64,
    /// Σ of the (first) area's scores.
    pub sum_x: f64,
    /// Σ of the second area's scores (the same as `sum_x` for one area).
    pub sum_y: f64,
    /// Σ of the products of the two scores (of the squares, for one area).
    pub sum_xy: f64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
