//! One personal link of an invitation (`/s/{token}`): the first one mailed, and one per reminder
//! or resend. Only the SHA-256 of the token is kept, so a copy of the database opens no form.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation_link")]
pub struct Model {
    /// Lower-case hex SHA-256 of the link's token.
    #[sea_orm(primary_key, auto_increment = false)]
    pub token_hash: String,
    pub invitation_id: i32,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
