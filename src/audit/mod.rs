//! The audit log: sign-ins and their failures, account changes, imports, campaign changes and
//! exclusions of answers — who, what, when. Written in the same transaction as the change where
//! there is one; read by admins.

use chrono::Utc;
use entity::{account, audit_event};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect,
    Set,
};

/// Records one event. `actor` is the signed-in account, or `None` with `who` being what was typed
/// (a failed sign-in) or `system`.
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Option<&account::Model>,
    who: &str,
    action: &str,
    detail: impl Into<String>,
) -> Result<(), DbErr> {
    audit_event::ActiveModel {
        at: Set(Utc::now()),
        account_id: Set(actor.map(|account| account.id)),
        actor: Set(actor.map_or_else(
            || who.chars().take(254).collect(),
            |account| account.email.clone(),
        )),
        action: Set(action.to_owned()),
        detail: Set(detail.into()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The newest events first, a page at a time.
pub async fn page(
    db: &impl ConnectionTrait,
    offset: u64,
    limit: u64,
) -> Result<(Vec<audit_event::Model>, u64), DbErr> {
    let total = audit_event::Entity::find().count(db).await?;
    let events = audit_event::Entity::find()
        .order_by_desc(audit_event::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok((events, total))
}
