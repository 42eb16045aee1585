//! The outbox table: messages written beside the action that causes them, then claimed by a
//! sender with a lease (a compare-and-set UPDATE per row, so that two processes never hold the
//! same row), and marked sent, retried later with backoff, or failed for good.
//!
//! Times written here are whole seconds: SQLite compares them as text, and text of one width
//! compares like the times it spells.

use std::time::Duration;

use chrono::{DateTime, Timelike, Utc};
use entity::{invitation, outbox};

use crate::change::{Actor, Change, Context};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::{InlineImage, Outgoing};

/// Now, to the second (see the module's note).
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.with_nanosecond(0).unwrap_or(now)
}

fn later(from: DateTime<Utc>, wait: Duration) -> DateTime<Utc> {
    let seconds = i64::try_from(Ord::max(wait.as_secs(), 1)).unwrap_or(i64::MAX / 4);
    from + chrono::Duration::seconds(Ord::min(seconds, 365 * 24 * 3600))
}

/// Queues one message of `composed` (with `images` inline) to each of `addresses`, in `db`'s
/// transaction: a letter, a report or a reminder sent to several people.
pub async fn enqueue_each(
    db: &impl ConnectionTrait,
    kind: super::MailKind,
    addresses: &[String],
    composed: &super::Composed,
    images: &[InlineImage],
) -> Result<usize, DbErr> {
    let mut queued = 0;
    for address in addresses {
        let message = Outgoing {
            kind,
            to: address.clone(),
            subject: composed.subject.clone(),
            text: composed.text.clone(),
            html: composed.html.clone(),
            images: images.to_vec(),
            invitation_id: None,
        };
        enqueue(db, &message).await?;
        queued += 1;
    }
    Ok(queued)
}

/// Writes `message` to the outbox, due at once. Call it with the transaction of the action that
/// causes the message, so that both happen or neither does; then poke the sender
/// (`AppState::mailer.poke()`) after the commit.
pub async fn enqueue(db: &impl ConnectionTrait, message: &Outgoing) -> Result<i64, DbErr> {
    let now = now();
    let images = if message.images.is_empty() {
        None
    } else {
        Some(
            serde_json::to_string(&message.images)
                .map_err(|error| DbErr::Custom(error.to_string()))?,
        )
    };
    let row = outbox::ActiveModel {
        kind: Set(message.kind.as_str().to_owned()),
        recipient: Set(message.to.clone()),
        subject: Set(message.subject.clone()),
        text_body: Set(message.text.clone()),
        html_body: Set(message.html.clone()),
        images: Set(images),
        invitation_id: Set(message.invitation_id),
        status: Set("pending".to_owned()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_owner: Set(None),
        lease_until: Set(None),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(row.id)
}

/// The inline images of a row.
pub fn images_of(row: &outbox::Model) -> Result<Vec<InlineImage>, String> {
    match row.images.as_deref() {
        None | Some("") => Ok(Vec::new()),
        Some(json) => {
            serde_json::from_str(json).map_err(|error| format!("邮件中的图片无法读取：{error}"))
        }
    }
}

/// Claims up to `limit` due rows for `owner` until now + `lease`. Each row is taken by a
/// conditional UPDATE that only succeeds while nobody else holds it, so a row claimed by
/// another process meanwhile is simply skipped.
pub async fn claim_due(
    db: &impl ConnectionTrait,
    owner: &str,
    lease: Duration,
    limit: u64,
) -> Result<Vec<outbox::Model>, DbErr> {
    let now = now();
    let candidates: Vec<i64> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Id)
        .filter(due(now))
        .order_by_asc(outbox::Column::NextAttemptAt)
        .order_by_asc(outbox::Column::Id)
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    let until = later(now, lease);
    let mut claimed = Vec::new();
    for id in candidates {
        let taken = outbox::Entity::update_many()
            .col_expr(outbox::Column::LeaseOwner, Expr::value(owner))
            .col_expr(outbox::Column::LeaseUntil, Expr::value(until))
            .filter(outbox::Column::Id.eq(id))
            .filter(due(now))
            .exec(db)
            .await?;
        if taken.rows_affected == 1
            && let Some(row) = outbox::Entity::find_by_id(id)
                .filter(outbox::Column::LeaseOwner.eq(owner))
                .one(db)
                .await?
        {
            claimed.push(row);
        }
    }
    Ok(claimed)
}

fn due(now: DateTime<Utc>) -> sea_orm::Condition {
    sea_orm::Condition::all()
        .add(outbox::Column::Status.eq("pending"))
        .add(outbox::Column::NextAttemptAt.lte(now))
        .add(
            sea_orm::Condition::any()
                .add(outbox::Column::LeaseUntil.is_null())
                .add(outbox::Column::LeaseUntil.lt(now)),
        )
}

/// What replaces a personal link in a sent message's stored body.
const LINK_GONE: &str = "/s/（链接已随邮件发出，本系统不再保存）";

/// `body` without the personal links it carried (`/s/` and the token after it): what the outbox
/// keeps of an invitation or reminder once it is sent, so that a copy of the database opens no
/// teacher's form.
pub fn without_links(body: &str) -> String {
    let mut kept = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(at) = rest.find("/s/") {
        kept.push_str(&rest[..at]);
        let after = &rest[at + 3..];
        let token_len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        if token_len == 0 {
            kept.push_str("/s/");
        } else {
            kept.push_str(LINK_GONE);
        }
        rest = &after[token_len..];
    }
    kept.push_str(rest);
    kept
}

/// The server accepted the message: `sent` (its `lease_owner` stays, naming the process that
/// sent it), and its invitation (if any) `sent` unless already answered — and the personal link
/// is cut out of the stored body (`without_links`): it lived only as long as the mail was
/// queued. `false` when the lease was lost meanwhile (another process may send it too).
pub async fn mark_sent(
    db: &DatabaseConnection,
    row: &outbox::Model,
    owner: &str,
) -> Result<bool, DbErr> {
    let now = now();
    let txn = crate::db::begin_write(db).await?;
    let mut update = outbox::Entity::update_many();
    if row.invitation_id.is_some() {
        update = update
            .col_expr(
                outbox::Column::TextBody,
                Expr::value(without_links(&row.text_body)),
            )
            .col_expr(
                outbox::Column::HtmlBody,
                Expr::value(row.html_body.as_deref().map(without_links)),
            );
    }
    let updated = update
        .col_expr(outbox::Column::Status, Expr::value("sent"))
        .col_expr(outbox::Column::SentAt, Expr::value(Some(now)))
        .col_expr(
            outbox::Column::Attempts,
            Expr::col(outbox::Column::Attempts).add(1),
        )
        .col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Option::<String>::None),
        )
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::Status.eq("pending"))
        .filter(outbox::Column::LeaseOwner.eq(owner))
        .exec(&txn)
        .await?;
    if let Some(invitation_id) = row.invitation_id {
        invitation::Entity::update_many()
            .col_expr(invitation::Column::Status, Expr::value("sent"))
            .col_expr(invitation::Column::SentAt, Expr::value(Some(now)))
            .col_expr(
                invitation::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .filter(invitation::Column::Id.eq(invitation_id))
            .filter(invitation::Column::Status.ne("answered"))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(updated.rows_affected == 1)
}

/// Gives claimed rows back untouched (due as before, no attempt counted).
pub async fn release(db: &DatabaseConnection, ids: &[i64], owner: &str) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox::Column::Id.is_in(ids.iter().copied()))
        .filter(outbox::Column::Status.eq("pending"))
        .filter(outbox::Column::LeaseOwner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// What became of a failed attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AfterFailure {
    /// Tried again at this time.
    Retry(DateTime<Utc>),
    /// Given up: `failed`.
    Failed,
}

/// An attempt failed: retried after the backoff, or given up when the failure is permanent or
/// this was the last attempt (then the invitation, if any, is `failed` with the reason).
pub async fn mark_failed(
    db: &DatabaseConnection,
    row: &outbox::Model,
    owner: &str,
    error: &str,
    permanent: bool,
    settings: &super::MailSettings,
) -> Result<AfterFailure, DbErr> {
    let now = now();
    let attempts = row.attempts + 1;
    let give_up = permanent || attempts >= settings.max_attempts;
    let outcome = if give_up {
        AfterFailure::Failed
    } else {
        AfterFailure::Retry(later(now, settings.backoff(attempts)))
    };
    let txn = crate::db::begin_write(db).await?;
    let mut update = outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(
            outbox::Column::LastError,
            Expr::value(Some(error.to_owned())),
        )
        .col_expr(
            outbox::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        );
    update = match outcome {
        AfterFailure::Failed => update.col_expr(outbox::Column::Status, Expr::value("failed")),
        AfterFailure::Retry(at) => update.col_expr(outbox::Column::NextAttemptAt, Expr::value(at)),
    };
    update
        .filter(outbox::Column::Id.eq(row.id))
        .filter(outbox::Column::Status.eq("pending"))
        .filter(outbox::Column::LeaseOwner.eq(owner))
        .exec(&txn)
        .await?;
    if let (AfterFailure::Failed, Some(invitation_id)) = (outcome, row.invitation_id) {
        invitation::Entity::update_many()
            .col_expr(invitation::Column::Status, Expr::value("failed"))
            .col_expr(
                invitation::Column::LastError,
                Expr::value(Some(error.to_owned())),
            )
            .filter(invitation::Column::Id.eq(invitation_id))
            .filter(invitation::Column::Status.ne("answered"))
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok(outcome)
}

/// Puts a failed message back in the queue, due at once, with a fresh count of attempts.
/// `false` when there is no failed message with that id. Its invitation goes back to `queued`
/// (unless answered meanwhile). Audit event `mail_retry`; the sender is woken after the commit.
pub async fn retry(context: &Context, actor: Actor<'_>, id: i64) -> Result<bool, DbErr> {
    let mut change = Change::begin(context, actor).await?;
    let txn = change.txn();
    let Some(row) = outbox::Entity::find_by_id(id)
        .filter(outbox::Column::Status.eq("failed"))
        .one(txn)
        .await?
    else {
        return Ok(false);
    };
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Status, Expr::value("pending"))
        .col_expr(outbox::Column::Attempts, Expr::value(0))
        .col_expr(outbox::Column::NextAttemptAt, Expr::value(now()))
        .col_expr(
            outbox::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox::Column::Id.eq(id))
        .exec(txn)
        .await?;
    if let Some(invitation_id) = row.invitation_id {
        invitation::Entity::update_many()
            .col_expr(invitation::Column::Status, Expr::value("queued"))
            .filter(invitation::Column::Id.eq(invitation_id))
            .filter(invitation::Column::Status.eq("failed"))
            .exec(txn)
            .await?;
    }
    change
        .audit("mail_retry", format!("重新发送第 {id} 号邮件"))
        .await?;
    change.mail_queued();
    change.commit().await?;
    Ok(true)
}

/// How many messages are pending, sent and failed.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
    pub total: u64,
}

pub async fn counts(db: &impl ConnectionTrait) -> Result<Counts, DbErr> {
    let rows: Vec<(String, i64)> = outbox::Entity::find()
        .select_only()
        .column(outbox::Column::Status)
        .column_as(outbox::Column::Id.count(), "n")
        .group_by(outbox::Column::Status)
        .into_tuple()
        .all(db)
        .await?;
    let mut counts = Counts::default();
    for (status, n) in rows {
        let n = u64::try_from(n).unwrap_or(0);
        match status.as_str() {
            "pending" => counts.pending = n,
            "sent" => counts.sent = n,
            "failed" => counts.failed = n,
            _ => {}
        }
        counts.total += n;
    }
    Ok(counts)
}

/// One message as the console lists it (without its bodies and images).
#[derive(Clone, Debug, PartialEq, Eq, sea_orm::FromQueryResult)]
pub struct Listed {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// One page (from 0) of the latest messages, newest first, optionally of one status; and the
/// number of pages.
pub async fn latest(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    page: u64,
    per_page: u64,
) -> Result<(Vec<Listed>, u64), DbErr> {
    let mut query = outbox::Entity::find().select_only().columns([
        outbox::Column::Id,
        outbox::Column::Kind,
        outbox::Column::Recipient,
        outbox::Column::Subject,
        outbox::Column::Status,
        outbox::Column::Attempts,
        outbox::Column::NextAttemptAt,
        outbox::Column::LastError,
        outbox::Column::CreatedAt,
        outbox::Column::SentAt,
    ]);
    if let Some(status) = status {
        query = query.filter(outbox::Column::Status.eq(status));
    }
    let paginator = query
        .order_by_desc(outbox::Column::Id)
        .into_model::<Listed>()
        .paginate(db, Ord::max(per_page, 1));
    let pages = paginator.num_pages().await?;
    let rows = paginator.fetch_page(page).await?;
    Ok((rows, pages))
}

#[cfg(test)]
mod tests {
    use super::without_links;

    #[test]
    fn a_sent_body_keeps_everything_but_the_personal_links() {
        let body = "请打开 https://dupin.example.cn/s/0123456789ABCDEFGHJK 作答。\n\
                    <a href=\"https://dupin.example.cn/s/0123456789ABCDEFGHJK\">作答</a>";
        let kept = without_links(body);
        assert!(!kept.contains("0123456789ABCDEFGHJK"), "{kept}");
        assert!(kept.contains("请打开 https://dupin.example.cn/s/（链接已随邮件发出"));
        assert!(kept.contains("\">作答</a>"), "{kept}");
        assert_eq!(without_links("no link /s/ here"), "no link /s/ here");
    }
}
