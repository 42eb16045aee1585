//! Reminders of rectification items, through the outbox, to the school viewer accounts of the
//! item's school: one [`REMIND_DAYS_BEFORE`] days (or fewer) before the deadline, and one once
//! the item is overdue — each at most once per item (a new deadline set by an edit starts
//! again). The sweep runs in every `dupin serve` (`startup`) and as `dupin rectification
//! remind`.
//!
//! Each reminder is claimed by a conditional UPDATE (`SET reminded_before_at = now WHERE id = ?
//! AND reminded_before_at IS NULL`) in the transaction that queues its mail, so that sweeps of
//! several dupin processes racing on one item queue one mail between them: the second UPDATE
//! waits for the first transaction and then matches no row.

use chrono::{Duration, NaiveDate, Utc};
use entity::{account, rectification, school};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::{RectificationError, Status, actions::MAX_TEXT_CHARS};
use crate::accounts::Role;
use crate::change::{Actor, Change, Context};
use crate::mail::{MailKind, MailTemplates, outbox};

/// The reminder before the deadline goes out this many days before it (or on the first sweep
/// after an item is created closer to its deadline than that).
pub const REMIND_DAYS_BEFORE: i64 = 3;

/// How often a running server sweeps.
pub const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// What one sweep did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RemindSummary {
    /// Items reminded before their deadline.
    pub before: usize,
    /// Items reminded as overdue.
    pub overdue: usize,
    /// Mails queued.
    pub mails: usize,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Which {
    Before,
    Overdue,
}

/// What the reminder template is given.
#[derive(Serialize)]
struct ReminderMail<'a> {
    school_name: &'a str,
    requirement: &'a str,
    responsible: &'a str,
    deadline: String,
    status: String,
    overdue: bool,
    days_left: i64,
    link: String,
}

/// Reminds every item due for a reminder on `today` (China date): one change, audited per item.
pub async fn remind_due(
    context: &Context,
    today: NaiveDate,
) -> Result<RemindSummary, RectificationError> {
    let templates = MailTemplates::embedded()?;
    let waiting = [Status::Open.slug(), Status::Returned.slug()];
    let mut change = Change::begin(context, Actor::System).await?;
    let before: Vec<rectification::Model> = rectification::Entity::find()
        .filter(rectification::Column::Status.is_in(waiting))
        .filter(rectification::Column::RemindedBeforeAt.is_null())
        .filter(rectification::Column::Deadline.gte(today))
        .filter(rectification::Column::Deadline.lte(today + Duration::days(REMIND_DAYS_BEFORE)))
        .order_by_asc(rectification::Column::Id)
        .all(&*change)
        .await?;
    let overdue: Vec<rectification::Model> = rectification::Entity::find()
        .filter(rectification::Column::Status.is_in(waiting))
        .filter(rectification::Column::RemindedOverdueAt.is_null())
        .filter(rectification::Column::Deadline.lt(today))
        .order_by_asc(rectification::Column::Id)
        .all(&*change)
        .await?;
    let mut summary = RemindSummary::default();
    for (which, items) in [(Which::Before, before), (Which::Overdue, overdue)] {
        for item in items {
            let mails =
                remind_one(&change, templates, &context.base_url, &item, which, today).await?;
            let Some(mails) = mails else { continue };
            match which {
                Which::Before => summary.before += 1,
                Which::Overdue => summary.overdue += 1,
            }
            summary.mails += mails;
        }
    }
    if summary.mails > 0 {
        change.mail_queued();
    }
    change.commit().await?;
    if summary.before + summary.overdue > 0 {
        tracing::info!(
            before = summary.before,
            overdue = summary.overdue,
            mails = summary.mails,
            "rectification reminders queued"
        );
    }
    Ok(summary)
}

/// Claims and queues one reminder; `None` when another sweep claimed it first.
async fn remind_one(
    change: &Change<'_>,
    templates: &MailTemplates,
    base_url: &str,
    item: &rectification::Model,
    which: Which,
    today: NaiveDate,
) -> Result<Option<usize>, RectificationError> {
    let column = match which {
        Which::Before => rectification::Column::RemindedBeforeAt,
        Which::Overdue => rectification::Column::RemindedOverdueAt,
    };
    let claimed = rectification::Entity::update_many()
        .col_expr(column, Expr::value(Utc::now()))
        .filter(rectification::Column::Id.eq(item.id))
        .filter(column.is_null())
        .filter(rectification::Column::Status.is_in([Status::Open.slug(), Status::Returned.slug()]))
        .exec(&**change)
        .await?;
    if claimed.rows_affected != 1 {
        return Ok(None);
    }
    let school = school::Entity::find_by_id(item.school_id)
        .one(&**change)
        .await?;
    let school_name = school.as_ref().map_or("", |school| school.name.as_str());
    let viewers = account::Entity::find()
        .filter(account::Column::Role.eq(Role::School.slug()))
        .filter(account::Column::SchoolId.eq(item.school_id))
        .filter(account::Column::Disabled.eq(false))
        .order_by_asc(account::Column::Id)
        .all(&**change)
        .await?;
    let requirement: String = item.requirement.chars().take(MAX_TEXT_CHARS).collect();
    let mail = ReminderMail {
        school_name,
        requirement: &requirement,
        responsible: &item.responsible,
        deadline: item.deadline.to_string(),
        status: super::status_label(&item.status),
        overdue: which == Which::Overdue,
        days_left: (item.deadline - today).num_days(),
        link: format!("{base_url}/console/rectification/{}", item.id),
    };
    let composed = templates.compose("rectification_reminder", &mail)?;
    let addresses: Vec<String> = viewers.iter().map(|viewer| viewer.email.clone()).collect();
    outbox::enqueue_each(
        &**change,
        MailKind::Rectification,
        &addresses,
        &composed,
        &[],
    )
    .await?;
    let (kind, words) = match which {
        Which::Before => ("reminded_before", "到期前提醒"),
        Which::Overdue => ("reminded_overdue", "逾期提醒"),
    };
    let text = if viewers.is_empty() {
        format!("{words}：本校没有学校账号，未发出邮件")
    } else {
        format!("{words}：已发邮件给 {} 个学校账号", viewers.len())
    };
    entity::rectification_event::ActiveModel {
        item_id: sea_orm::Set(item.id),
        kind: sea_orm::Set(kind.to_owned()),
        text: sea_orm::Set(Some(text.clone())),
        account_id: sea_orm::Set(None),
        at: sea_orm::Set(Utc::now()),
        ..Default::default()
    }
    .insert(&**change)
    .await?;
    change
        .audit_school(
            "rectification_remind",
            item.school_id,
            format!("整改项 #{}：{text}", item.id),
        )
        .await?;
    Ok(Some(viewers.len()))
}

/// Sweeps now and then every [`SWEEP_EVERY`], for ever (the server's background task). A sweep
/// that fails is logged and tried again next time.
pub async fn sweep_forever(context: Context) {
    loop {
        if let Err(error) = remind_due(&context, super::today()).await {
            tracing::warn!(%error, "rectification reminders could not be swept");
        }
        tokio::time::sleep(SWEEP_EVERY).await;
    }
}
