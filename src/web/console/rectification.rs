//! Rectification (整改) in the console: every item for supervisors (filter by school, status,
//! overdue; earliest deadline first), a school's suggestions to confirm into items, one item
//! with its history and the forms each role may use, and the school viewer's own items. The
//! checks, queries and changes live in `crate::rectification`; a school viewer's reads are
//! limited to its school there.

use std::collections::BTreeMap;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use entity::{rectification as item_entity, school};
use serde::{Deserialize, Serialize};

use super::guards::{CsrfForm, SchoolViewer, Staff, Supervisor};
use super::{Choice, ConsoleError, SchoolHead, see_other};
use crate::change::Actor;
use crate::rectification::{
    self as items, EditItem, ItemRow, ListFilter, NewItem, RectificationError, Source, Status,
    Suggestion,
};
use crate::survey::Area;
use crate::web::AppState;

pub fn routes(routes: &mut crate::web::routes::Routes) {
    routes
        .get("/console/rectification", list)
        .get("/console/my-school/rectification", my_school)
        .get("/console/schools/{id}/rectification/new", new_form)
        .post("/console/schools/{id}/rectification", create)
        .get("/console/rectification/{id}", show)
        .post("/console/rectification/{id}/report", report)
        .post("/console/rectification/{id}/accept", accept)
        .post("/console/rectification/{id}/return", return_item)
        .post("/console/rectification/{id}/edit", edit);
}

/// How many days after today a suggested item is due unless the supervisor picks another day.
const DEFAULT_DAYS: i64 = 30;

fn refusal_status(error: &RectificationError) -> StatusCode {
    match error {
        RectificationError::WrongStatus { .. } => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The errors that are not a form to show again.
fn fault(error: RectificationError) -> ConsoleError {
    match error {
        RectificationError::NotFound => ConsoleError::not_found(),
        RectificationError::Forbidden(_) => ConsoleError::forbidden(),
        RectificationError::Db(error) => ConsoleError::internal(error),
        RectificationError::Template(error) => ConsoleError::internal(error),
        other => ConsoleError::internal(other.to_string()),
    }
}

// ---------------------------------------------------------------------------------------------
// Lists

#[derive(Deserialize, Default)]
pub struct ListParams {
    #[serde(default)]
    school: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    overdue: String,
}

#[derive(Serialize)]
struct ListView {
    items: Vec<ItemRow>,
    total: usize,
    overdue: usize,
    schools: Vec<Choice>,
    statuses: Vec<Choice>,
    overdue_only: bool,
    /// The school filtered on, for its "new items" link.
    school_id: Option<i32>,
    school_name: Option<String>,
    for_school: bool,
    error: Option<String>,
}

fn parse_filter(params: &ListParams) -> Result<ListFilter, String> {
    let school = match params.school.trim() {
        "" => None,
        text => Some(
            text.parse::<i32>()
                .map_err(|_| format!("学校“{text}”不是有效的学校编号。"))?,
        ),
    };
    let status = match params.status.trim() {
        "" => None,
        text => Some(Status::parse(text).ok_or_else(|| format!("没有“{text}”这种整改状态。"))?),
    };
    Ok(ListFilter {
        school,
        status,
        overdue: matches!(params.overdue.trim(), "1" | "yes" | "on" | "true"),
    })
}

fn status_choices(selected: Option<Status>) -> Vec<Choice> {
    Status::ALL
        .into_iter()
        .map(|status| Choice {
            value: status.slug().to_owned(),
            label: status.label().to_owned(),
            selected: selected == Some(status),
        })
        .collect()
}

async fn list(
    state: web::Data<AppState>,
    staff: Supervisor,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ConsoleError> {
    let (filter, error) = match parse_filter(&params) {
        Ok(filter) => (filter, None),
        Err(message) => (ListFilter::default(), Some(message)),
    };
    let today = items::today();
    let rows = items::list(&state.db, Some(&staff.account), &filter, today).await?;
    let schools = crate::schools::list(&state.db).await?;
    let school_name = filter.school.and_then(|id| {
        schools
            .iter()
            .find(|school| school.id == id)
            .map(|school| school.name.clone())
    });
    let view = ListView {
        total: rows.len(),
        overdue: rows.iter().filter(|row| row.overdue).count(),
        items: rows,
        schools: schools
            .iter()
            .map(|school| Choice {
                value: school.id.to_string(),
                label: format!("{} · {}", school.code, school.name),
                selected: filter.school == Some(school.id),
            })
            .collect(),
        statuses: status_choices(filter.status),
        overdue_only: filter.overdue,
        school_id: filter.school,
        school_name,
        for_school: false,
        error: error.clone(),
    };
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    staff.render_with_status(
        &state,
        status,
        "console/rectification/list",
        "整改",
        "rectification",
        view,
    )
}

/// The school viewer's own school's items (a supervisor is sent to the full list).
async fn my_school(
    state: web::Data<AppState>,
    staff: Staff,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ConsoleError> {
    if staff.is_supervisor() {
        return Ok(see_other("/console/rectification"));
    }
    let filter = parse_filter(&params).unwrap_or_default();
    let today = items::today();
    // The school viewer's scope is applied by `list` itself, whatever the filter names.
    let rows = items::list(
        &state.db,
        Some(&staff.account),
        &ListFilter {
            school: None,
            ..filter.clone()
        },
        today,
    )
    .await?;
    let school_name = match staff.account.school_id {
        Some(id) => crate::schools::find(&state.db, id)
            .await?
            .map(|school| school.name),
        None => None,
    };
    let view = ListView {
        total: rows.len(),
        overdue: rows.iter().filter(|row| row.overdue).count(),
        items: rows,
        schools: Vec::new(),
        statuses: status_choices(filter.status),
        overdue_only: filter.overdue,
        school_id: staff.account.school_id,
        school_name,
        for_school: true,
        error: None,
    };
    staff.render(
        &state,
        "console/rectification/list",
        "本校整改",
        "my-rectification",
        view,
    )
}

// ---------------------------------------------------------------------------------------------
// New items from suggestions

#[derive(Deserialize, Default)]
pub struct NewParams {
    #[serde(default)]
    campaign: String,
}

/// One row of the new-items form: a suggestion (or the free row), with what was typed.
#[derive(Serialize, Clone, Default)]
struct FormRow {
    key: String,
    picked: bool,
    source: String,
    source_label: String,
    finding_id: String,
    indicator: String,
    area: String,
    area_label: String,
    campaign_id: String,
    evidence: String,
    requirement: String,
    responsible: String,
    deadline: String,
    /// The field refused and why.
    error_field: String,
    error: String,
}

impl FormRow {
    fn of(suggestion: &Suggestion, responsible: &str, deadline: &str) -> FormRow {
        FormRow {
            key: suggestion.key.clone(),
            picked: false,
            source: suggestion.source.to_owned(),
            source_label: suggestion.source_label.to_owned(),
            finding_id: suggestion
                .finding_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            indicator: suggestion.indicator.clone().unwrap_or_default(),
            area: suggestion.area.clone().unwrap_or_default(),
            area_label: suggestion.area_label.clone(),
            campaign_id: suggestion
                .campaign_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            evidence: suggestion.evidence.clone(),
            requirement: suggestion.requirement.clone(),
            responsible: responsible.to_owned(),
            deadline: deadline.to_owned(),
            ..FormRow::default()
        }
    }

    /// The free row: an item typed by hand.
    fn other(responsible: &str, deadline: &str) -> FormRow {
        FormRow {
            key: "other".to_owned(),
            source: Source::Other.slug().to_owned(),
            source_label: Source::Other.label().to_owned(),
            responsible: responsible.to_owned(),
            deadline: deadline.to_owned(),
            ..FormRow::default()
        }
    }

    fn new_item(&self) -> NewItem {
        let number = |text: &str| text.trim().parse::<i32>().ok();
        let text = |text: &str| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
        NewItem {
            source: Source::parse(&self.source),
            finding_id: number(&self.finding_id),
            indicator: text(&self.indicator),
            area: text(&self.area),
            campaign_id: number(&self.campaign_id),
            requirement: self.requirement.clone(),
            responsible: self.responsible.clone(),
            deadline: self.deadline.clone(),
        }
    }
}

#[derive(Serialize)]
struct NewView {
    school: SchoolHead,
    rows: Vec<FormRow>,
    other: FormRow,
    areas: Vec<Choice>,
    campaigns: Vec<Choice>,
    read: Vec<crate::rectification::suggest::ReadCampaign>,
    pass_line: f64,
    today: String,
    error: Option<String>,
}

fn area_choices(selected: &str) -> Vec<Choice> {
    Area::ALL
        .into_iter()
        .map(|area| Choice {
            value: area.slug().to_owned(),
            label: area.label().to_owned(),
            selected: area.slug() == selected,
        })
        .collect()
}

async fn campaign_choices(
    state: &AppState,
    school_id: i32,
    selected: Option<i32>,
) -> Result<Vec<Choice>, ConsoleError> {
    Ok(crate::campaigns::for_school(&state.db, school_id)
        .await?
        .into_iter()
        .map(|found| Choice {
            value: found.campaign.id.to_string(),
            label: format!("{}（{}）", found.campaign.name, found.survey_title),
            selected: selected == Some(found.campaign.id),
        })
        .collect())
}

async fn new_view(
    state: &AppState,
    school: &school::Model,
    campaign: Option<i32>,
) -> Result<NewView, ConsoleError> {
    let suggestions = items::suggest(&state.db, &state.plan, school, campaign)
        .await
        .map_err(ConsoleError::internal)?;
    let responsible = items::last_responsible(&state.db, school.id)
        .await?
        .unwrap_or_default();
    let today = items::today();
    let deadline = (today + chrono::Duration::days(DEFAULT_DAYS)).to_string();
    Ok(NewView {
        school: SchoolHead::of(school),
        rows: suggestions
            .items
            .iter()
            .map(|suggestion| FormRow::of(suggestion, &responsible, &deadline))
            .collect(),
        other: FormRow::other(&responsible, &deadline),
        areas: area_choices(""),
        campaigns: campaign_choices(state, school.id, campaign).await?,
        read: suggestions.campaigns,
        pass_line: suggestions.pass_line,
        today: today.to_string(),
        error: None,
    })
}

async fn new_form(
    state: web::Data<AppState>,
    supervisor: Supervisor,
    viewer: SchoolViewer,
    params: web::Query<NewParams>,
) -> Result<HttpResponse, ConsoleError> {
    let campaign = match params.campaign.trim() {
        "" => None,
        text => Some(
            text.parse::<i32>()
                .map_err(|_| ConsoleError::bad_request("调查活动编号不对。"))?,
        ),
    };
    let view = new_view(&state, &viewer.school, campaign).await?;
    let title = format!("新建整改项 · {}", viewer.school.name);
    supervisor.render(
        &state,
        "console/rectification/new",
        &title,
        "rectification",
        view,
    )
}

/// The rows of a submitted new-items form, by key, in the order they came.
fn rows_of(pairs: &[(String, String)]) -> Vec<FormRow> {
    let mut rows: BTreeMap<String, (usize, FormRow)> = BTreeMap::new();
    let mut order = 0;
    let mut picked = Vec::new();
    for (name, value) in pairs {
        if name == "pick" {
            picked.push(value.clone());
            continue;
        }
        let Some((field, key)) = name.split_once('.') else {
            continue;
        };
        let entry = rows.entry(key.to_owned()).or_insert_with(|| {
            order += 1;
            (
                order,
                FormRow {
                    key: key.to_owned(),
                    ..FormRow::default()
                },
            )
        });
        let row = &mut entry.1;
        let slot = match field {
            "source" => &mut row.source,
            "source_label" => &mut row.source_label,
            "finding" => &mut row.finding_id,
            "indicator" => &mut row.indicator,
            "area" => &mut row.area,
            "campaign" => &mut row.campaign_id,
            "evidence" => &mut row.evidence,
            "requirement" => &mut row.requirement,
            "responsible" => &mut row.responsible,
            "deadline" => &mut row.deadline,
            _ => continue,
        };
        *slot = value.chars().take(8000).collect();
    }
    let mut rows: Vec<(usize, FormRow)> = rows.into_values().collect();
    rows.sort_by_key(|(order, _)| *order);
    rows.into_iter()
        .map(|(_, mut row)| {
            row.picked = picked.contains(&row.key);
            row.area_label =
                Area::parse(&row.area).map_or_else(String::new, |a| a.label().to_owned());
            if row.source_label.is_empty() {
                row.source_label = Source::parse(&row.source)
                    .map_or("其他", Source::label)
                    .to_owned();
            }
            row
        })
        .collect()
}

async fn create(
    state: web::Data<AppState>,
    supervisor: Supervisor,
    viewer: SchoolViewer,
    form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    let school = viewer.school;
    let mut rows = rows_of(&form);
    let chosen: Vec<usize> = rows
        .iter()
        .enumerate()
        .filter(|(_, row)| row.picked)
        .map(|(index, _)| index)
        .collect();
    let new_items: Vec<NewItem> = chosen.iter().map(|index| rows[*index].new_item()).collect();
    let refused = if new_items.is_empty() {
        RectificationError::Invalid {
            row: None,
            field: "pick",
            message: "请至少勾选一项（或勾选并填写最后一行的自定义整改项）。".to_owned(),
        }
    } else {
        match items::create_items(
            &state.context,
            Actor::Account(&supervisor.account),
            &school,
            new_items,
        )
        .await
        {
            Ok(created) => {
                return Ok(see_other(&format!(
                    "/console/rectification?school={}&created={}",
                    school.id,
                    created.len()
                )));
            }
            Err(error @ RectificationError::Invalid { .. }) => error,
            Err(other) => return Err(fault(other)),
        }
    };
    let message = refused.to_string();
    if let RectificationError::Invalid {
        row: Some(row),
        field,
        ..
    } = &refused
        && let Some(index) = chosen.get(*row)
    {
        rows[*index].error_field = (*field).to_owned();
        rows[*index].error = message.clone();
    }
    let other_index = rows.iter().position(|row| row.key == "other");
    let other = match other_index {
        Some(index) => rows.remove(index),
        None => FormRow::other("", ""),
    };
    let mut view = new_view(&state, &school, None).await?;
    view.areas = area_choices(&other.area);
    view.rows = rows;
    view.other = other;
    view.error = Some(format!("没有保存：{message}"));
    let title = format!("新建整改项 · {}", school.name);
    supervisor.render_with_status(
        &state,
        refusal_status(&refused),
        "console/rectification/new",
        &title,
        "rectification",
        view,
    )
}

// ---------------------------------------------------------------------------------------------
// One item

#[derive(Serialize, Default)]
struct Typed {
    text: String,
    reason: String,
    note: String,
    requirement: String,
    responsible: String,
    deadline: String,
}

/// An item's area before and after, its figures written out.
#[derive(Serialize)]
struct BeforeAfterView {
    area_label: String,
    before_campaign: String,
    after_campaign: String,
    before: String,
    before_interval: String,
    before_n: String,
    after: String,
    after_interval: String,
    after_n: String,
    sentence: Option<String>,
    note: Option<String>,
}

impl BeforeAfterView {
    fn of(found: items::BeforeAfter) -> BeforeAfterView {
        let value = |figure: Option<crate::results::groups::Figure>| {
            figure.map_or_else(|| "—".to_owned(), |figure| format!("{:.1}", figure.value))
        };
        let interval = |figure: Option<crate::results::groups::Figure>| {
            figure
                .and_then(|figure| figure.interval)
                .map_or_else(String::new, |interval| {
                    format!("{:.1}–{:.1}", interval.low, interval.high)
                })
        };
        let n = |figure: Option<crate::results::groups::Figure>| {
            figure.map_or_else(String::new, |figure| figure.n.to_string())
        };
        BeforeAfterView {
            before: value(found.before),
            before_interval: interval(found.before),
            before_n: n(found.before),
            after: value(found.after),
            after_interval: interval(found.after),
            after_n: n(found.after),
            area_label: found.area_label,
            before_campaign: found.before_campaign,
            after_campaign: found.after_campaign,
            sentence: found.sentence,
            note: found.note,
        }
    }
}

#[derive(Serialize)]
struct ItemView {
    item: ItemRow,
    history: Vec<items::EventRow>,
    before_after: Option<BeforeAfterView>,
    can_report: bool,
    can_judge: bool,
    can_edit: bool,
    is_supervisor: bool,
    max_photos: usize,
    typed: Typed,
    /// Which form was refused (`report`, `return`, `accept`, `edit`) and why.
    error_form: String,
    error: Option<String>,
    notice: Option<String>,
}

async fn item_view(
    state: &AppState,
    staff: &Staff,
    item: &item_entity::Model,
) -> Result<ItemView, ConsoleError> {
    let row = items::row_of(&state.db, item, items::today()).await?;
    let history = items::history(&state.db, item.id).await?;
    let viewer = if staff.is_supervisor() {
        items::before_after::Viewer::Supervisor
    } else {
        items::before_after::Viewer::School
    };
    let before_after = items::before_after(&state.db, &state.plan, item, viewer)
        .await
        .map_err(ConsoleError::internal)?;
    let status = Status::parse(&item.status);
    let supervisor = staff.is_supervisor();
    Ok(ItemView {
        item: row,
        history,
        before_after: before_after.map(BeforeAfterView::of),
        can_report: !supervisor
            && staff.account.school_id == Some(item.school_id)
            && status.is_some_and(|status| status != Status::Accepted),
        can_judge: supervisor && status == Some(Status::Reported),
        can_edit: supervisor && status != Some(Status::Accepted),
        is_supervisor: supervisor,
        max_photos: items::actions::MAX_PHOTOS,
        typed: Typed {
            requirement: item.requirement.clone(),
            responsible: item.responsible.clone(),
            deadline: item.deadline.to_string(),
            ..Typed::default()
        },
        error_form: String::new(),
        error: None,
        notice: None,
    })
}

fn item_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    view: ItemView,
) -> Result<HttpResponse, ConsoleError> {
    let title = format!("整改项 #{} · {}", view.item.id, view.item.school_name);
    let nav = if staff.is_supervisor() {
        "rectification"
    } else {
        "my-rectification"
    };
    staff.render_with_status(
        state,
        status,
        "console/rectification/show",
        &title,
        nav,
        view,
    )
}

/// The path's item id; anything else names nothing.
fn item_id(path: &web::Path<String>) -> Result<i32, ConsoleError> {
    path.parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ConsoleError::not_found)
}

/// The item of the path if `staff` may see it (404 for another school's item).
async fn visible(
    state: &AppState,
    staff: &Staff,
    path: &web::Path<String>,
) -> Result<item_entity::Model, ConsoleError> {
    let id = item_id(path)?;
    items::find_visible(&state.db, &staff.account, id)
        .await?
        .ok_or_else(ConsoleError::not_found)
}

#[derive(Deserialize, Default)]
pub struct ShowParams {
    #[serde(default)]
    done: String,
}

async fn show(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    params: web::Query<ShowParams>,
) -> Result<HttpResponse, ConsoleError> {
    let item = visible(&state, &staff, &path).await?;
    let mut view = item_view(&state, &staff, &item).await?;
    view.notice = match params.done.as_str() {
        "report" => Some("已报告整改情况，等待督导人员验收。".to_owned()),
        "accept" => Some("已验收通过。".to_owned()),
        "return" => Some("已退回学校重新整改。".to_owned()),
        "edit" => Some("已保存修改。".to_owned()),
        _ => None,
    };
    item_page(&state, &staff, StatusCode::OK, view)
}

/// Shows the item again with the refused form's values and the reason.
async fn refused(
    state: &AppState,
    staff: &Staff,
    item: &item_entity::Model,
    form: &str,
    typed: Typed,
    error: RectificationError,
) -> Result<HttpResponse, ConsoleError> {
    let status = match &error {
        RectificationError::Invalid { .. } | RectificationError::WrongStatus { .. } => {
            refusal_status(&error)
        }
        _ => return Err(fault(error)),
    };
    // The item as it is now (another supervisor may have moved it).
    let item = items::find_visible(&state.db, &staff.account, item.id)
        .await?
        .ok_or_else(ConsoleError::not_found)?;
    let mut view = item_view(state, staff, &item).await?;
    let keep_item_fields = form != "edit";
    view.typed = Typed {
        requirement: if keep_item_fields {
            view.typed.requirement
        } else {
            typed.requirement
        },
        responsible: if keep_item_fields {
            view.typed.responsible
        } else {
            typed.responsible
        },
        deadline: if keep_item_fields {
            view.typed.deadline
        } else {
            typed.deadline
        },
        ..typed
    };
    view.error_form = form.to_owned();
    view.error = Some(format!("没有保存：{error}"));
    item_page(state, staff, status, view)
}

fn done(id: i32, what: &str) -> HttpResponse {
    see_other(&format!("/console/rectification/{id}?done={what}"))
}

/// The school viewer reports progress: text and photos, multipart.
async fn report(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<String>,
    payload: Multipart,
) -> Result<HttpResponse, ConsoleError> {
    if staff.is_supervisor() {
        return Err(ConsoleError::forbidden());
    }
    let item = visible(&state, &staff, &path).await?;
    let form = super::upload::read_form(payload, items::actions::MAX_PHOTOS).await?;
    staff.check_csrf(&form.csrf)?;
    let text = form.field("text").unwrap_or_default().to_owned();
    let typed = Typed {
        text: text.clone(),
        ..Typed::default()
    };
    if !form.too_large.is_empty() {
        let refusal = RectificationError::Invalid {
            row: None,
            field: "photos",
            message: crate::photos::PhotoError::TooLarge.to_string(),
        };
        return refused(&state, &staff, &item, "report", typed, refusal).await;
    }
    let mut prepared = Vec::new();
    for (number, (_, bytes)) in form.files.into_iter().enumerate() {
        let result = web::block(move || crate::photos::prepare(&bytes))
            .await
            .map_err(ConsoleError::internal)?;
        match result {
            Ok(photo) => prepared.push(photo),
            Err(error) => {
                let refusal = RectificationError::Invalid {
                    row: None,
                    field: "photos",
                    message: format!("第 {} 张照片：{error}", number + 1),
                };
                return refused(&state, &staff, &item, "report", typed, refusal).await;
            }
        }
    }
    match items::report_progress(
        &state.context,
        Actor::Account(&staff.account),
        item.id,
        &text,
        prepared,
    )
    .await
    {
        Ok(saved) => Ok(done(saved.id, "report")),
        Err(error) => refused(&state, &staff, &item, "report", typed, error).await,
    }
}

#[derive(Deserialize)]
pub struct JudgeForm {
    #[serde(default)]
    note: String,
    #[serde(default)]
    reason: String,
}

async fn accept(
    state: web::Data<AppState>,
    supervisor: Supervisor,
    path: web::Path<String>,
    form: CsrfForm<JudgeForm>,
) -> Result<HttpResponse, ConsoleError> {
    judge(&state, &supervisor, &path, Judgement::Accept, &form.note).await
}

async fn return_item(
    state: web::Data<AppState>,
    supervisor: Supervisor,
    path: web::Path<String>,
    form: CsrfForm<JudgeForm>,
) -> Result<HttpResponse, ConsoleError> {
    judge(&state, &supervisor, &path, Judgement::Return, &form.reason).await
}

/// What a supervisor decides on a reported item.
#[derive(Clone, Copy)]
enum Judgement {
    Accept,
    Return,
}

/// Accepts the item with a note, or returns it with a reason; a refusal shows the item's page
/// again with what was typed.
async fn judge(
    state: &AppState,
    supervisor: &Supervisor,
    path: &web::Path<String>,
    judgement: Judgement,
    words: &str,
) -> Result<HttpResponse, ConsoleError> {
    let item = visible(state, supervisor, path).await?;
    let actor = Actor::Account(&supervisor.account);
    let (decided, what) = match judgement {
        Judgement::Accept => (
            items::accept(&state.context, actor, item.id, words).await,
            "accept",
        ),
        Judgement::Return => (
            items::return_item(&state.context, actor, item.id, words).await,
            "return",
        ),
    };
    match decided {
        Ok(saved) => Ok(done(saved.id, what)),
        Err(error) => {
            let typed = match judgement {
                Judgement::Accept => Typed {
                    note: words.to_owned(),
                    ..Typed::default()
                },
                Judgement::Return => Typed {
                    reason: words.to_owned(),
                    ..Typed::default()
                },
            };
            refused(state, supervisor, &item, what, typed, error).await
        }
    }
}

#[derive(Deserialize)]
pub struct EditForm {
    #[serde(default)]
    requirement: String,
    #[serde(default)]
    responsible: String,
    #[serde(default)]
    deadline: String,
}

async fn edit(
    state: web::Data<AppState>,
    supervisor: Supervisor,
    path: web::Path<String>,
    form: CsrfForm<EditForm>,
) -> Result<HttpResponse, ConsoleError> {
    let item = visible(&state, &supervisor, &path).await?;
    let form = form.into_inner();
    let typed = Typed {
        requirement: form.requirement.clone(),
        responsible: form.responsible.clone(),
        deadline: form.deadline.clone(),
        ..Typed::default()
    };
    match items::edit(
        &state.context,
        Actor::Account(&supervisor.account),
        item.id,
        EditItem {
            requirement: form.requirement,
            responsible: form.responsible,
            deadline: form.deadline,
        },
    )
    .await
    {
        Ok(saved) => Ok(done(saved.id, "edit")),
        Err(error) => refused(&state, &supervisor, &item, "edit", typed, error).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_new_items_form_reads_back_into_rows_with_what_was_picked() {
        let pairs: Vec<(String, String)> = [
            ("_csrf", "x"),
            ("pick", "finding-3"),
            ("source.finding-3", "finding"),
            ("finding.finding-3", "3"),
            ("area.finding-3", "nutrition"),
            ("requirement.finding-3", "食堂整改"),
            ("responsible.finding-3", "王主任"),
            ("deadline.finding-3", "2026-12-20"),
            ("source.other", "other"),
            ("requirement.other", ""),
        ]
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect();
        let rows = rows_of(&pairs);
        assert_eq!(rows.len(), 2);
        assert!(rows[0].picked && !rows[1].picked);
        let item = rows[0].new_item();
        assert_eq!(item.finding_id, Some(3));
        assert_eq!(item.source, Some(Source::Finding));
        assert_eq!(rows[0].area_label, "营养改善计划");
    }
}
