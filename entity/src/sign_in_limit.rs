//! Failed sign-ins of one typed e-mail — an account's or one that names nobody, counted alike —
//! and until when the next attempt must wait. One conditional UPDATE reserves each attempt.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_limit")]
pub struct Model {
    /// The e-mail as typed, trimmed and lower-cased.
    #[sea_orm(primary_key, auto_increment = false)]
    pub email: String,
    /// Attempts reserved since the last success (or unlock).
    pub attempts: i32,
    pub locked_until: Option<DateTimeUtc>,
    /// The `locked_until` whose first refused attempt was written to the audit log: one row per
    /// lock, however many attempts it turns away.
    pub refusal_audited: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
