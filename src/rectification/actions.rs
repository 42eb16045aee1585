//! The changes to rectification items, each one `Change` with its audit row and its history
//! row: a supervisor creates items (from suggestions or by hand) and edits them; the school's
//! viewer reports progress with text and photos; a supervisor accepts a report or returns it
//! with a reason.
//!
//! Every status change is one conditional UPDATE (`… WHERE id = ? AND status IN (…)`) whose
//! affected rows decide: of two supervisors accepting at once, one changes the row and the
//! other is told the item already moved on (PostgreSQL re-reads the row after the first
//! commits; SQLite's `BEGIN IMMEDIATE` runs them one after the other).

use chrono::{NaiveDate, Utc};
use entity::{finding, rectification, rectification_event, school};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set,
};

use super::{RectificationError, Source, Status, is_supervisor, status_label};
use crate::change::{Actor, Change, Context};
use crate::survey::Area;

/// The longest requirement, reason or report text kept.
pub const MAX_TEXT_CHARS: usize = 4000;
/// The longest responsible person's name.
pub const MAX_RESPONSIBLE_CHARS: usize = 100;
/// The most photos in one progress report.
pub const MAX_PHOTOS: usize = 6;

/// One item as a supervisor confirmed or typed it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewItem {
    pub source: Option<Source>,
    pub finding_id: Option<i32>,
    pub indicator: Option<String>,
    /// An area's slug.
    pub area: Option<String>,
    pub campaign_id: Option<i32>,
    pub requirement: String,
    pub responsible: String,
    /// As typed (`2026-12-20`); checked here.
    pub deadline: String,
}

/// What an edit may change.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EditItem {
    pub requirement: String,
    pub responsible: String,
    pub deadline: String,
}

fn invalid(
    row: Option<usize>,
    field: &'static str,
    message: impl Into<String>,
) -> RectificationError {
    RectificationError::Invalid {
        row,
        field,
        message: message.into(),
    }
}

/// Checks the typed fields of an item (row `row` of the form, if it has several): a
/// requirement, a responsible person, and a deadline that is a date no earlier than `today`.
/// Returns the deadline.
pub fn check_fields(
    row: Option<usize>,
    requirement: &str,
    responsible: &str,
    deadline: &str,
    today: NaiveDate,
) -> Result<NaiveDate, RectificationError> {
    if requirement.trim().is_empty() {
        return Err(invalid(row, "requirement", "请填写整改要求。"));
    }
    if requirement.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            row,
            "requirement",
            format!("整改要求最多 {MAX_TEXT_CHARS} 字。"),
        ));
    }
    if responsible.trim().is_empty() {
        return Err(invalid(
            row,
            "responsible",
            "请填写学校的整改责任人（明确专人负责）。",
        ));
    }
    if responsible.trim().chars().count() > MAX_RESPONSIBLE_CHARS {
        return Err(invalid(
            row,
            "responsible",
            format!("责任人最多 {MAX_RESPONSIBLE_CHARS} 字。"),
        ));
    }
    let deadline = NaiveDate::parse_from_str(deadline.trim(), "%Y-%m-%d").map_err(|_| {
        invalid(
            row,
            "deadline",
            format!(
                "整改期限“{}”不是日期，请写成 2026-12-20 这样的年-月-日。",
                deadline.trim()
            ),
        )
    })?;
    if deadline < today {
        return Err(invalid(
            row,
            "deadline",
            format!("整改期限 {deadline} 早于今天（{today}），请选择今天或以后的日期。"),
        ));
    }
    Ok(deadline)
}

/// [`check_fields`] of a new item, and its area (a known slug, if given).
pub fn check_new_item(
    row: usize,
    item: &NewItem,
    today: NaiveDate,
) -> Result<NaiveDate, RectificationError> {
    let deadline = check_fields(
        Some(row),
        &item.requirement,
        &item.responsible,
        &item.deadline,
        today,
    )?;
    if let Some(area) = &item.area
        && Area::parse(area).is_none()
    {
        return Err(invalid(
            Some(row),
            "area",
            format!("没有“{area}”这个督导方面。"),
        ));
    }
    Ok(deadline)
}

fn require_supervisor(actor: Actor<'_>) -> Result<Option<i32>, RectificationError> {
    match actor {
        Actor::Account(account) if is_supervisor(account) => Ok(Some(account.id)),
        Actor::CommandLine => Ok(None),
        _ => Err(RectificationError::Forbidden(
            "只有督导人员可以创建、修改、验收或退回整改项。",
        )),
    }
}

async fn add_event(
    db: &impl ConnectionTrait,
    item_id: i32,
    kind: &str,
    text: Option<String>,
    account_id: Option<i32>,
) -> Result<rectification_event::Model, DbErr> {
    rectification_event::ActiveModel {
        item_id: Set(item_id),
        kind: Set(kind.to_owned()),
        text: Set(text),
        account_id: Set(account_id),
        at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// Creates `items` for `school` (all or none), each with its `created` event, audited once.
/// A finding must be one of the school's own.
pub async fn create_items(
    context: &Context,
    actor: Actor<'_>,
    school: &school::Model,
    items: Vec<NewItem>,
) -> Result<Vec<rectification::Model>, RectificationError> {
    let account_id = require_supervisor(actor)?;
    if items.is_empty() {
        return Err(invalid(None, "items", "没有选择任何整改项。"));
    }
    let today = super::today();
    let mut checked = Vec::with_capacity(items.len());
    for (row, item) in items.iter().enumerate() {
        checked.push(check_new_item(row, item, today)?);
    }
    let change = Change::begin(context, actor).await?;
    let now = Utc::now();
    let mut created = Vec::with_capacity(items.len());
    for ((row, item), deadline) in items.into_iter().enumerate().zip(checked) {
        if let Some(finding_id) = item.finding_id {
            let found = finding::Entity::find_by_id(finding_id)
                .filter(finding::Column::SchoolId.eq(school.id))
                .one(&*change)
                .await?;
            if found.is_none() {
                return Err(invalid(
                    Some(row),
                    "finding",
                    "这条督导发现不属于这所学校。",
                ));
            }
        }
        let source = item.source.unwrap_or(if item.finding_id.is_some() {
            Source::Finding
        } else {
            Source::Other
        });
        let saved = rectification::ActiveModel {
            school_id: Set(school.id),
            campaign_id: Set(item.campaign_id),
            source: Set(source.slug().to_owned()),
            finding_id: Set(item.finding_id),
            indicator: Set(item.indicator.clone()),
            area: Set(item.area.clone()),
            requirement: Set(item.requirement.trim().to_owned()),
            responsible: Set(item.responsible.trim().to_owned()),
            deadline: Set(deadline),
            status: Set(Status::Open.slug().to_owned()),
            reminded_before_at: Set(None),
            reminded_overdue_at: Set(None),
            created_by: Set(account_id.unwrap_or(0)),
            created_at: Set(now),
            updated_at: Set(now),
            ..Default::default()
        }
        .insert(&*change)
        .await?;
        add_event(
            &*change,
            saved.id,
            "created",
            Some(format!(
                "整改要求：{}；责任人：{}；期限：{}",
                saved.requirement, saved.responsible, saved.deadline
            )),
            account_id,
        )
        .await?;
        created.push(saved);
    }
    let ids: Vec<String> = created.iter().map(|item| format!("#{}", item.id)).collect();
    change
        .audit_school(
            "rectification_create",
            school.id,
            format!(
                "{}：{} 项整改（{}）",
                school.name,
                created.len(),
                ids.join("、")
            ),
        )
        .await?;
    change.commit().await?;
    Ok(created)
}

async fn item_in(
    db: &impl ConnectionTrait,
    id: i32,
) -> Result<rectification::Model, RectificationError> {
    rectification::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(RectificationError::NotFound)
}

/// Moves item `id` from one of `from` to `to` in one conditional UPDATE; false when it was in
/// none of them (someone else moved it first).
async fn move_status(
    db: &impl ConnectionTrait,
    id: i32,
    from: &[Status],
    to: Status,
) -> Result<bool, DbErr> {
    let moved = rectification::Entity::update_many()
        .col_expr(rectification::Column::Status, Expr::value(to.slug()))
        .col_expr(rectification::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(rectification::Column::Id.eq(id))
        .filter(rectification::Column::Status.is_in(from.iter().map(|status| status.slug())))
        .exec(db)
        .await?;
    Ok(moved.rows_affected == 1)
}

/// Changes an item's requirement, responsible person or deadline (not an accepted one).
pub async fn edit(
    context: &Context,
    actor: Actor<'_>,
    id: i32,
    edit: EditItem,
) -> Result<rectification::Model, RectificationError> {
    let account_id = require_supervisor(actor)?;
    let today = super::today();
    let change = Change::begin(context, actor).await?;
    let item = item_in(&*change, id).await?;
    // A deadline already past may stay as it is; a new one must be today or later.
    let unchanged_deadline = edit.deadline.trim() == item.deadline.to_string();
    let deadline = check_fields(
        None,
        &edit.requirement,
        &edit.responsible,
        &edit.deadline,
        if unchanged_deadline {
            item.deadline.min(today)
        } else {
            today
        },
    )?;
    let changed = rectification::Entity::update_many()
        .col_expr(
            rectification::Column::Requirement,
            Expr::value(edit.requirement.trim()),
        )
        .col_expr(
            rectification::Column::Responsible,
            Expr::value(edit.responsible.trim()),
        )
        .col_expr(rectification::Column::Deadline, Expr::value(deadline))
        .col_expr(rectification::Column::UpdatedAt, Expr::value(Utc::now()))
        .filter(rectification::Column::Id.eq(id))
        .filter(rectification::Column::Status.ne(Status::Accepted.slug()))
        .exec(&*change)
        .await?;
    if changed.rows_affected != 1 {
        return Err(RectificationError::WrongStatus {
            action: "修改",
            status: status_label(&item.status),
        });
    }
    let mut what = Vec::new();
    if item.requirement != edit.requirement.trim() {
        what.push(format!("整改要求改为：{}", edit.requirement.trim()));
    }
    if item.responsible != edit.responsible.trim() {
        what.push(format!(
            "责任人由 {} 改为 {}",
            item.responsible,
            edit.responsible.trim()
        ));
    }
    if item.deadline != deadline {
        what.push(format!("期限由 {} 改为 {deadline}", item.deadline));
        // A new deadline gets its own reminders.
        rectification::Entity::update_many()
            .col_expr(
                rectification::Column::RemindedBeforeAt,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .col_expr(
                rectification::Column::RemindedOverdueAt,
                Expr::value(Option::<chrono::DateTime<Utc>>::None),
            )
            .filter(rectification::Column::Id.eq(id))
            .exec(&*change)
            .await?;
    }
    let text = if what.is_empty() {
        "未作改动".to_owned()
    } else {
        what.join("；")
    };
    add_event(&*change, id, "edited", Some(text.clone()), account_id).await?;
    change
        .audit_school(
            "rectification_edit",
            item.school_id,
            format!("整改项 #{id}：{text}"),
        )
        .await?;
    let saved = item_in(&*change, id).await?;
    change.commit().await?;
    Ok(saved)
}

/// The school's viewer reports what was done, with photos: the item becomes `reported`
/// (from `open`, `returned`, or `reported` again with more evidence). Only a school viewer of
/// the item's own school may report; anyone else is told the item does not exist.
pub async fn report_progress(
    context: &Context,
    actor: Actor<'_>,
    id: i32,
    text: &str,
    photos: Vec<crate::photos::Prepared>,
) -> Result<rectification::Model, RectificationError> {
    let Actor::Account(account) = actor else {
        return Err(RectificationError::Forbidden(
            "只有学校账号可以报告整改情况。",
        ));
    };
    if is_supervisor(account) {
        return Err(RectificationError::Forbidden(
            "整改情况由学校报告；督导人员可以验收或退回。",
        ));
    }
    if text.trim().is_empty() {
        return Err(invalid(
            None,
            "text",
            "请填写整改情况（做了什么、结果如何）。",
        ));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            None,
            "text",
            format!("整改情况最多 {MAX_TEXT_CHARS} 字。"),
        ));
    }
    if photos.len() > MAX_PHOTOS {
        return Err(invalid(
            None,
            "photos",
            format!("一次最多上传 {MAX_PHOTOS} 张照片。"),
        ));
    }
    let change = Change::begin(context, actor).await?;
    let item = item_in(&*change, id).await?;
    if account.school_id != Some(item.school_id) {
        return Err(RectificationError::NotFound);
    }
    if !move_status(
        &*change,
        id,
        &[Status::Open, Status::Returned, Status::Reported],
        Status::Reported,
    )
    .await?
    {
        return Err(RectificationError::WrongStatus {
            action: "再报告",
            status: status_label(&item.status),
        });
    }
    let count = photos.len();
    let event = add_event(
        &*change,
        id,
        "reported",
        Some(text.trim().to_owned()),
        Some(account.id),
    )
    .await?;
    for photo in photos {
        crate::photos::insert(
            &*change,
            item.school_id,
            crate::photos::Attach::Event(event.id),
            photo,
            Some(account.id),
        )
        .await?;
    }
    change
        .audit_school(
            "rectification_report",
            item.school_id,
            format!("整改项 #{id}：报告整改情况（照片 {count} 张）"),
        )
        .await?;
    let saved = item_in(&*change, id).await?;
    change.commit().await?;
    Ok(saved)
}

/// A supervisor accepts a reported item: `reported` → `accepted`, once.
pub async fn accept(
    context: &Context,
    actor: Actor<'_>,
    id: i32,
    note: &str,
) -> Result<rectification::Model, RectificationError> {
    let account_id = require_supervisor(actor)?;
    let change = Change::begin(context, actor).await?;
    let item = item_in(&*change, id).await?;
    if !move_status(&*change, id, &[Status::Reported], Status::Accepted).await? {
        return Err(RectificationError::WrongStatus {
            action: "验收",
            status: status_label(&item.status),
        });
    }
    let note = Some(note.trim().to_owned()).filter(|note| !note.is_empty());
    add_event(&*change, id, "accepted", note, account_id).await?;
    change
        .audit_school(
            "rectification_accept",
            item.school_id,
            format!("整改项 #{id}：验收通过"),
        )
        .await?;
    let saved = item_in(&*change, id).await?;
    change.commit().await?;
    Ok(saved)
}

/// A supervisor returns a reported item with a reason: `reported` → `returned`.
pub async fn return_item(
    context: &Context,
    actor: Actor<'_>,
    id: i32,
    reason: &str,
) -> Result<rectification::Model, RectificationError> {
    let account_id = require_supervisor(actor)?;
    if reason.trim().is_empty() {
        return Err(invalid(
            None,
            "reason",
            "请填写退回的理由，学校要据此重新整改。",
        ));
    }
    if reason.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            None,
            "reason",
            format!("退回理由最多 {MAX_TEXT_CHARS} 字。"),
        ));
    }
    let change = Change::begin(context, actor).await?;
    let item = item_in(&*change, id).await?;
    if !move_status(&*change, id, &[Status::Reported], Status::Returned).await? {
        return Err(RectificationError::WrongStatus {
            action: "退回",
            status: status_label(&item.status),
        });
    }
    add_event(
        &*change,
        id,
        "returned",
        Some(reason.trim().to_owned()),
        account_id,
    )
    .await?;
    change
        .audit_school(
            "rectification_return",
            item.school_id,
            format!("整改项 #{id}：退回重改（{}）", reason.trim()),
        )
        .await?;
    let saved = item_in(&*change, id).await?;
    change.commit().await?;
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_item_needs_a_requirement_a_person_and_a_date_not_past() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 4).expect("date");
        let field = |result: Result<NaiveDate, RectificationError>| match result {
            Err(RectificationError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            field(check_fields(None, " ", "王主任", "2026-12-20", today)),
            "requirement"
        );
        assert_eq!(
            field(check_fields(None, "修好", "", "2026-12-20", today)),
            "responsible"
        );
        assert_eq!(
            field(check_fields(None, "修好", "王主任", "12/20", today)),
            "deadline"
        );
        assert_eq!(
            field(check_fields(None, "修好", "王主任", "2026-12-03", today)),
            "deadline"
        );
        assert_eq!(
            check_fields(None, "修好", "王主任", "2026-12-04", today).expect("today is fine"),
            today
        );
    }
}
