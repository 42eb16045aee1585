//! Rectification (整改): what a school must put right after supervision, who at the school
//! answers for it, by when, and where it stands — items suggested from a school's findings,
//! unmet indicators and low-scoring areas (`suggest`), confirmed by a supervisor, reported on by
//! the school, accepted or returned by a supervisor (`actions`), reminded through the outbox
//! before the deadline and once overdue (`remind`), and, after a re-survey, the item's area
//! before and after (`before_after`).
//!
//! Every change is one `change::Change` with its audit row and a `rectification_event` row;
//! status changes are single conditional UPDATEs, so two supervisors (or two dupin processes)
//! acting at once cannot both win. A school viewer sees only its own school's items: every read
//! here that a school viewer reaches filters by its school. Nothing here knows about HTTP.

pub mod actions;
pub mod before_after;
pub mod remind;
pub mod suggest;

use std::collections::HashMap;

use chrono::{NaiveDate, Utc};
use entity::{account, rectification, rectification_event, school};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;

use crate::accounts::{self, Role};
use crate::survey::Area;

pub use actions::{
    EditItem, NewItem, accept, check_new_item, create_items, edit, report_progress, return_item,
};
pub use before_after::{BeforeAfter, before_after};
pub use remind::{REMIND_DAYS_BEFORE, RemindSummary, remind_due};
pub use suggest::{Suggestion, Suggestions, suggest};

/// Where an item stands, as stored in `rectification.status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Status {
    /// 待整改: created, waiting for the school.
    Open,
    /// 已报告待验收: the school says it is done.
    Reported,
    /// 已验收: a supervisor accepted the report.
    Accepted,
    /// 退回重改: a supervisor sent it back with a reason.
    Returned,
}

impl Status {
    pub const ALL: [Status; 4] = [
        Status::Open,
        Status::Reported,
        Status::Accepted,
        Status::Returned,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Reported => "reported",
            Status::Accepted => "accepted",
            Status::Returned => "returned",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Open => "待整改",
            Status::Reported => "已报告待验收",
            Status::Accepted => "已验收",
            Status::Returned => "退回重改",
        }
    }

    pub fn parse(slug: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|status| status.slug() == slug)
    }

    /// The school still has to act: what can be overdue.
    pub fn waits_for_school(self) -> bool {
        matches!(self, Status::Open | Status::Returned)
    }
}

/// The label of a stored status slug (the slug itself when unknown).
pub fn status_label(slug: &str) -> String {
    Status::parse(slug).map_or_else(|| slug.to_owned(), |status| status.label().to_owned())
}

/// Where an item came from, as stored in `rectification.source`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Source {
    Finding,
    Indicator,
    Area,
    Other,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Finding,
        Source::Indicator,
        Source::Area,
        Source::Other,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            Source::Finding => "finding",
            Source::Indicator => "indicator",
            Source::Area => "area",
            Source::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Source::Finding => "督导发现",
            Source::Indicator => "未达标指标",
            Source::Area => "得分偏低的方面",
            Source::Other => "其他",
        }
    }

    pub fn parse(slug: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|source| source.slug() == slug)
    }
}

/// The label of a stored event kind.
pub fn event_label(kind: &str) -> &'static str {
    match kind {
        "created" => "创建整改项",
        "edited" => "修改",
        "reported" => "学校报告整改情况",
        "accepted" => "验收通过",
        "returned" => "退回重改",
        "reminded_before" => "到期前提醒",
        "reminded_overdue" => "逾期提醒",
        _ => "记录",
    }
}

/// Today in China time: deadlines are China dates.
pub fn today() -> NaiveDate {
    Utc::now()
        .with_timezone(&crate::campaigns::china_offset())
        .date_naive()
}

/// Overdue: the school still has to act (`open` or `returned`) and the deadline is earlier than
/// `today` (surveys/METHOD.md, `rectification`). An item due today is not overdue yet.
pub fn is_overdue(status: &str, deadline: NaiveDate, today: NaiveDate) -> bool {
    Status::parse(status).is_some_and(Status::waits_for_school) && deadline < today
}

/// Why an action on items was refused.
#[derive(Debug, thiserror::Error)]
pub enum RectificationError {
    #[error("找不到这项整改")]
    NotFound,
    #[error("{0}")]
    Forbidden(&'static str),
    /// A status change whose item is no longer in a state that allows it (another supervisor
    /// acted first, say).
    #[error("这项整改现在是“{status}”，不能{action}。请刷新页面查看最新状态。")]
    WrongStatus {
        action: &'static str,
        status: String,
    },
    /// A field of a typed item (the row, from 0, of a form with several).
    #[error("{message}")]
    Invalid {
        row: Option<usize>,
        field: &'static str,
        message: String,
    },
    #[error("邮件模板无法生成：{0}")]
    Template(#[from] handlebars::RenderError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Whether `account` may act as a supervisor (supervisors and admins).
pub fn is_supervisor(account: &account::Model) -> bool {
    accounts::role_of(account).includes(Role::Supervisor)
}

/// The school a school viewer is limited to; `None` for supervisors and admins (every school).
/// A school viewer without a school sees nothing (`Some(None)`).
fn viewer_scope(viewer: &account::Model) -> Option<Option<i32>> {
    (!is_supervisor(viewer)).then_some(viewer.school_id)
}

/// One item as lists show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemRow {
    pub id: i32,
    pub school_id: i32,
    pub school_code: String,
    pub school_name: String,
    pub township: String,
    pub campaign_id: Option<i32>,
    pub source: String,
    pub source_label: &'static str,
    pub area: Option<String>,
    pub area_label: String,
    pub indicator: Option<String>,
    pub finding_id: Option<i32>,
    pub requirement: String,
    pub responsible: String,
    /// `2026-12-20`.
    pub deadline: String,
    pub status: String,
    pub status_label: String,
    pub overdue: bool,
    pub created_at: String,
}

fn area_label(area: Option<&str>) -> String {
    area.and_then(Area::parse)
        .map_or_else(String::new, |area| area.label().to_owned())
}

fn item_row(
    item: &rectification::Model,
    school: Option<&school::Model>,
    today: NaiveDate,
) -> ItemRow {
    ItemRow {
        id: item.id,
        school_id: item.school_id,
        school_code: school.map(|s| s.code.clone()).unwrap_or_default(),
        school_name: school.map(|s| s.name.clone()).unwrap_or_default(),
        township: school.map(|s| s.township.clone()).unwrap_or_default(),
        campaign_id: item.campaign_id,
        source: item.source.clone(),
        source_label: Source::parse(&item.source).map_or("其他", Source::label),
        area: item.area.clone(),
        area_label: area_label(item.area.as_deref()),
        indicator: item.indicator.clone(),
        finding_id: item.finding_id,
        requirement: item.requirement.clone(),
        responsible: item.responsible.clone(),
        deadline: item.deadline.to_string(),
        status: item.status.clone(),
        status_label: status_label(&item.status),
        overdue: is_overdue(&item.status, item.deadline, today),
        created_at: crate::campaigns::display_time(item.created_at),
    }
}

/// Which items a list shows; every part given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListFilter {
    pub school: Option<i32>,
    pub status: Option<Status>,
    /// Only overdue items.
    pub overdue: bool,
}

fn overdue_condition(today: NaiveDate) -> Condition {
    Condition::all()
        .add(rectification::Column::Status.is_in([Status::Open.slug(), Status::Returned.slug()]))
        .add(rectification::Column::Deadline.lt(today))
}

/// The items `viewer` may see that `filter` lets through, earliest deadline first. A school
/// viewer sees its own school's items only, whatever the filter names; no viewer (the API, whose
/// tokens are issued by admins) sees every item.
pub async fn list(
    db: &impl ConnectionTrait,
    viewer: Option<&account::Model>,
    filter: &ListFilter,
    today: NaiveDate,
) -> Result<Vec<ItemRow>, DbErr> {
    let mut query = rectification::Entity::find();
    if let Some(scope) = viewer.and_then(viewer_scope) {
        let Some(school) = scope else {
            return Ok(Vec::new());
        };
        query = query.filter(rectification::Column::SchoolId.eq(school));
    }
    if let Some(school) = filter.school {
        query = query.filter(rectification::Column::SchoolId.eq(school));
    }
    if let Some(status) = filter.status {
        query = query.filter(rectification::Column::Status.eq(status.slug()));
    }
    if filter.overdue {
        query = query.filter(overdue_condition(today));
    }
    let items = query
        .order_by_asc(rectification::Column::Deadline)
        .order_by_asc(rectification::Column::Id)
        .all(db)
        .await?;
    let schools = schools_of(db, items.iter().map(|item| item.school_id)).await?;
    Ok(items
        .iter()
        .map(|item| item_row(item, schools.get(&item.school_id), today))
        .collect())
}

async fn schools_of(
    db: &impl ConnectionTrait,
    ids: impl Iterator<Item = i32>,
) -> Result<HashMap<i32, school::Model>, DbErr> {
    let mut ids: Vec<i32> = ids.collect();
    ids.sort_unstable();
    ids.dedup();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    Ok(school::Entity::find()
        .filter(school::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|school| (school.id, school))
        .collect())
}

/// Overdue items, of one school or of every school.
pub async fn overdue_count(
    db: &impl ConnectionTrait,
    school: Option<i32>,
    today: NaiveDate,
) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    let mut query = rectification::Entity::find().filter(overdue_condition(today));
    if let Some(school) = school {
        query = query.filter(rectification::Column::SchoolId.eq(school));
    }
    query.count(db).await
}

/// Item `id` if `viewer` may see it: any item for supervisors and admins, its own school's for a
/// school viewer (another school's item is "not found", so ids cannot be probed).
pub async fn find_visible(
    db: &impl ConnectionTrait,
    viewer: &account::Model,
    id: i32,
) -> Result<Option<rectification::Model>, DbErr> {
    let mut query = rectification::Entity::find_by_id(id);
    if let Some(scope) = viewer_scope(viewer) {
        let Some(school) = scope else {
            return Ok(None);
        };
        query = query.filter(rectification::Column::SchoolId.eq(school));
    }
    query.one(db).await
}

/// An item with its school, as the item's page shows it.
pub async fn row_of(
    db: &impl ConnectionTrait,
    item: &rectification::Model,
    today: NaiveDate,
) -> Result<ItemRow, DbErr> {
    let school = school::Entity::find_by_id(item.school_id).one(db).await?;
    Ok(item_row(item, school.as_ref(), today))
}

/// One step of an item's history, with the photos of a progress report.
#[derive(Clone, Debug, Serialize)]
pub struct EventRow {
    pub id: i32,
    pub kind: String,
    pub label: &'static str,
    pub text: Option<String>,
    /// The account's name or e-mail; 督评系统 for reminders.
    pub who: String,
    pub at: String,
    /// The photos' tokens (served at `/console/photos/{token}` and `…/thumb`).
    pub photos: Vec<PhotoView>,
}

/// A photo of a progress report, as pages link it.
#[derive(Clone, Debug, Serialize)]
pub struct PhotoView {
    pub token: String,
}

/// The history of item `item_id`, oldest first.
pub async fn history(db: &impl ConnectionTrait, item_id: i32) -> Result<Vec<EventRow>, DbErr> {
    let events = rectification_event::Entity::find()
        .filter(rectification_event::Column::ItemId.eq(item_id))
        .order_by_asc(rectification_event::Column::Id)
        .all(db)
        .await?;
    let ids: Vec<i32> = events.iter().map(|event| event.id).collect();
    let photos = if ids.is_empty() {
        Vec::new()
    } else {
        crate::photos::list_for_events(db, &ids).await?
    };
    let mut account_ids: Vec<i32> = events.iter().filter_map(|e| e.account_id).collect();
    account_ids.sort_unstable();
    account_ids.dedup();
    let names: HashMap<i32, String> = if account_ids.is_empty() {
        HashMap::new()
    } else {
        account::Entity::find()
            .filter(account::Column::Id.is_in(account_ids))
            .all(db)
            .await?
            .into_iter()
            .map(|account| {
                let name = if account.display_name.trim().is_empty() {
                    account.email
                } else {
                    account.display_name
                };
                (account.id, name)
            })
            .collect()
    };
    Ok(events
        .into_iter()
        .map(|event| EventRow {
            id: event.id,
            label: event_label(&event.kind),
            who: event.account_id.map_or_else(
                || "督评系统".to_owned(),
                |id| names.get(&id).cloned().unwrap_or_default(),
            ),
            at: crate::campaigns::display_time(event.at),
            photos: photos
                .iter()
                .filter(|photo| photo.event_id == Some(event.id))
                .map(|photo| PhotoView {
                    token: photo.token.clone(),
                })
                .collect(),
            kind: event.kind,
            text: event.text,
        })
        .collect())
}

/// The person last named responsible for an item of `school_id`, to prefill the next.
pub async fn last_responsible(
    db: &impl ConnectionTrait,
    school_id: i32,
) -> Result<Option<String>, DbErr> {
    rectification::Entity::find()
        .select_only()
        .column(rectification::Column::Responsible)
        .filter(rectification::Column::SchoolId.eq(school_id))
        .order_by_desc(rectification::Column::CreatedAt)
        .order_by_desc(rectification::Column::Id)
        .into_tuple::<String>()
        .one(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_items_waiting_for_the_school_are_overdue_and_only_after_their_day() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 12, d).expect("a date");
        assert!(is_overdue("open", day(3), day(4)));
        assert!(is_overdue("returned", day(3), day(4)));
        assert!(!is_overdue("open", day(4), day(4)), "due today is not late");
        assert!(!is_overdue("reported", day(3), day(4)));
        assert!(!is_overdue("accepted", day(3), day(4)));
        assert!(!is_overdue("nonsense", day(3), day(4)));
    }

    #[test]
    fn slugs_read_back() {
        for status in Status::ALL {
            assert_eq!(Status::parse(status.slug()), Some(status));
        }
        for source in Source::ALL {
            assert_eq!(Source::parse(source.slug()), Some(source));
        }
        assert_eq!(status_label("returned"), "退回重改");
    }
}
