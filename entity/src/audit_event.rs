//! One line of the audit log: who did what, when.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "audit_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub at: DateTimeUtc,
    pub account_id: Option<i32>,
    /// The e-mail of the account at the time, or what was typed at a failed sign-in.
    pub actor: String,
    /// A stable code such as `sign_in`, `sign_in_failed`, `schools_import`, `campaign_create`.
    pub action: String,
    #[sea_orm(column_type = "Text")]
    pub detail: String,
    /// The school the event concerns, when it concerns one (roster changes).
    pub school_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
