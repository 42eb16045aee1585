//! A supervisor's visit to a school (五、督导方式: 重点督查, 专项督查, 随机走访, 座谈了解): when, by whom,
//! which checklist, and for a 座谈 the group met and how many — never the names of interviewees.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "visit")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub school_id: i32,
    /// The round (campaign) the visit belongs to, when there is one.
    pub campaign_id: Option<i32>,
    /// `key_inspection`, `special_inspection`, `random_visit` or `interview`.
    pub kind: String,
    /// The id of the checklist of `surveys/visits/` used, if any.
    pub checklist: Option<String>,
    pub visited_on: Date,
    /// The members of the supervision group, as typed.
    pub team: String,
    /// For 座谈了解: `parents`, `teachers` or `students`.
    pub group_met: Option<String>,
    pub group_size: Option<i32>,
    pub notes: Option<String>,
    /// The account that recorded it.
    pub created_by: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
