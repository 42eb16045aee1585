//! A person who signs in to the console: an admin, a supervisor, or a school's viewer.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "account")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// Lower-cased; unique.
    #[sea_orm(unique)]
    pub email: String,
    pub display_name: String,
    /// An argon2id PHC string; never the password.
    pub password_hash: String,
    /// `admin`, `supervisor` or `school`.
    pub role: String,
    /// The one school a `school` account sees.
    pub school_id: Option<i32>,
    pub disabled: bool,
    /// Bumped when the password changes or the account is disabled, which ends every session
    /// signed with the previous value, in every dupin process.
    pub session_version: i32,
    pub last_sign_in_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
