//! One e-mail waiting to be sent, written in the same transaction as the action that causes it
//! and claimed by a sender with a lease, so that several processes send each message once.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What caused it: `invitation`, `reminder`, `report`, `digest`, `test`.
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    #[sea_orm(column_type = "Text")]
    pub text_body: String,
    #[sea_orm(column_type = "Text", nullable)]
    pub html_body: Option<String>,
    /// Inline images as JSON: `[{"cid": …, "content_type": …, "base64": …}]`.
    #[sea_orm(column_type = "Text", nullable)]
    pub images: Option<String>,
    /// The invitation whose status follows this message.
    pub invitation_id: Option<i32>,
    /// `pending`, `sent` or `failed` (given up after the last retry).
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTimeUtc,
    /// The process holding the message while it sends, until `lease_until`.
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    #[sea_orm(column_type = "Text", nullable)]
    pub last_error: Option<String>,
    pub created_at: DateTimeUtc,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
