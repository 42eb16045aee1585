//! Visits in the console (supervisors and admins only): the list with its filters, the tablet
//! form that records a visit to a school (checklist, findings, photos from the camera), the
//! visit's record, and a school's self-check set beside what visits verified. The checks and
//! the recording live in `crate::visits`, the verified values in `results::verified`.

use std::collections::BTreeSet;

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use entity::{school, visit};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::{Deserialize, Serialize};

use super::guards::{Staff, Supervisor};
use super::upload::read_form;
use super::{Choice, ConsoleError, SchoolHead, see_other};
use crate::change::Actor;
use crate::photos;
use crate::rating::visits::{Checklist, ItemAnswer, VisitKind};
use crate::results::verified::{Verification, school_verification};
use crate::survey::Area;
use crate::visits::form::{
    FINDING_ROWS, MAX_FINDINGS, finding_field, item_field, note_field, number_field, photo_field,
};
use crate::visits::{
    FieldError, GroupMet, Judgement, PhotoTarget, Severity, VisitFilter, VisitForm, VisitPhoto,
    VisitRecord, VisitRow, VisitSort,
};
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/visits", list)
        .get("/console/visits/{id}", show)
        .get("/console/schools/{id}/visits/new", new_form)
        .post("/console/schools/{id}/visits", create)
        .get("/console/schools/{id}/self-checks", self_checks);
}

fn choice(value: &str, label: &str, selected: bool) -> Choice {
    Choice {
        value: value.to_owned(),
        label: label.to_owned(),
        selected,
    }
}

fn today() -> chrono::NaiveDate {
    chrono::Utc::now()
        .with_timezone(&crate::campaigns::china_offset())
        .date_naive()
}

async fn school_or_404(state: &AppState, id: i32) -> Result<school::Model, ConsoleError> {
    school::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or_else(ConsoleError::not_found)
}

// ---------------------------------------------------------------------------------------------
// The list

#[derive(Deserialize, Default)]
struct ListQuery {
    school: Option<String>,
    kind: Option<String>,
    campaign: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
}

#[derive(Serialize)]
struct Header {
    label: &'static str,
    href: String,
    arrow: &'static str,
}

#[derive(Serialize)]
struct ListView {
    count: usize,
    visits: Vec<VisitRow>,
    schools: Vec<Choice>,
    kinds: Vec<Choice>,
    campaigns: Vec<Choice>,
    filtered: bool,
    date_header: Header,
    school_header: Header,
}

async fn list(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let number = |text: &Option<String>| text.as_deref().and_then(|text| text.parse::<i32>().ok());
    let sort = match query.sort.as_deref() {
        Some("school") => VisitSort::School,
        _ => VisitSort::Date,
    };
    let ascending = query.dir.as_deref() == Some("asc");
    let filter = VisitFilter {
        school: number(&query.school),
        kind: query.kind.as_deref().and_then(VisitKind::parse),
        campaign: number(&query.campaign),
        sort,
        ascending,
    };
    let visits = crate::visits::list(&state.db, &filter).await?;
    let all_schools = school::Entity::find()
        .order_by_asc(school::Column::Code)
        .all(&state.db)
        .await?;
    let mut schools = vec![choice("", "全部学校", filter.school.is_none())];
    schools.extend(all_schools.iter().map(|school| {
        choice(
            &school.id.to_string(),
            &format!("{} {}", school.code, school.name),
            filter.school == Some(school.id),
        )
    }));
    let mut kinds = vec![choice("", "全部方式", filter.kind.is_none())];
    kinds.extend(
        VisitKind::ALL
            .into_iter()
            .map(|kind| choice(kind.slug(), kind.label(), filter.kind == Some(kind))),
    );
    let (rounds, _) = crate::visits::rounds(&state.db, &state.plan).await?;
    let mut campaigns = vec![choice("", "全部轮次", filter.campaign.is_none())];
    campaigns.extend(rounds.iter().map(|campaign| {
        choice(
            &campaign.id.to_string(),
            &campaign.name,
            filter.campaign == Some(campaign.id),
        )
    }));
    let link = |sort: &str, ascending: bool| {
        let mut params = vec![format!("sort={sort}")];
        if ascending {
            params.push("dir=asc".to_owned());
        }
        if let Some(school) = filter.school {
            params.push(format!("school={school}"));
        }
        if let Some(kind) = filter.kind {
            params.push(format!("kind={}", kind.slug()));
        }
        if let Some(campaign) = filter.campaign {
            params.push(format!("campaign={campaign}"));
        }
        format!("/console/visits?{}", params.join("&"))
    };
    let header = |label, this: VisitSort, slug: &str| Header {
        label,
        href: link(slug, sort == this && !ascending),
        arrow: match (sort == this, ascending) {
            (false, _) => "",
            (true, true) => "↑",
            (true, false) => "↓",
        },
    };
    let view = ListView {
        filtered: filter.school.is_some() || filter.kind.is_some() || filter.campaign.is_some(),
        date_header: header("走访日期", VisitSort::Date, "date"),
        school_header: header("学校", VisitSort::School, "school"),
        count: visits.len(),
        visits,
        schools,
        kinds,
        campaigns,
    };
    staff.render(&state, "console/visits/list", "走访督查", "visits", view)
}

// ---------------------------------------------------------------------------------------------
// The form

#[derive(Deserialize, Default)]
struct FormQuery {
    kind: Option<String>,
    checklist: Option<String>,
}

#[derive(Serialize)]
struct JudgementOption {
    value: &'static str,
    label: &'static str,
    checked: bool,
}

#[derive(Serialize)]
struct ItemView {
    id: String,
    number: usize,
    text: String,
    help: Option<String>,
    kind: &'static str,
    is_judgement: bool,
    is_number: bool,
    is_photo: bool,
    unit: Option<String>,
    rechecks: bool,
    field: String,
    note_field: String,
    options: Vec<JudgementOption>,
    number_value: String,
    note_value: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct AreaGroup {
    label: &'static str,
    items: Vec<ItemView>,
}

#[derive(Serialize)]
struct ChecklistView {
    id: String,
    title: String,
    intro: Option<String>,
    areas: Vec<AreaGroup>,
}

#[derive(Serialize)]
struct FindingRow {
    row: usize,
    areas: Vec<Choice>,
    severities: Vec<Choice>,
    text: String,
    error: Option<String>,
}

#[derive(Serialize)]
struct FormView {
    school: SchoolHead,
    kind: &'static str,
    kind_label: &'static str,
    is_interview: bool,
    kinds: Vec<Choice>,
    checklists: Vec<Choice>,
    checklist: Option<ChecklistView>,
    campaigns: Vec<Choice>,
    visited_on: String,
    today: String,
    team: String,
    groups: Vec<Choice>,
    group_size: String,
    notes: String,
    findings: Vec<FindingRow>,
    errors: Vec<String>,
    error_count: usize,
    photos_lost: bool,
}

/// The kind and the checklist the form is for: the query's (or the form's) when known, else
/// a random visit with the first checklist of that kind.
fn form_choice<'p>(
    plan: &'p crate::rating::Plan,
    kind: Option<&str>,
    checklist: Option<&str>,
) -> (VisitKind, Option<&'p Checklist>) {
    let kind = kind
        .and_then(VisitKind::parse)
        .unwrap_or(VisitKind::RandomVisit);
    let checklist = match checklist {
        Some("none") => None,
        Some(id) if plan.checklist(id).is_some() => plan.checklist(id),
        _ => plan
            .checklists
            .iter()
            .find(|checklist| checklist.kind == kind),
    };
    (kind, checklist)
}

async fn form_view(
    state: &AppState,
    school: &school::Model,
    kind: VisitKind,
    checklist: Option<&Checklist>,
    typed: &VisitForm,
    errors: &[FieldError],
    photos_lost: bool,
) -> Result<FormView, ConsoleError> {
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|error| error.field == field)
            .map(|error| error.message.clone())
    };
    let (rounds, default_round) = crate::visits::rounds(&state.db, &state.plan).await?;
    let chosen_round = if typed.fields.contains_key("campaign") {
        typed.get("campaign").parse::<i32>().ok()
    } else {
        default_round
    };
    let mut campaigns = vec![choice("", "不属于任何轮次", chosen_round.is_none())];
    campaigns.extend(rounds.iter().map(|campaign| {
        choice(
            &campaign.id.to_string(),
            &campaign.name,
            chosen_round == Some(campaign.id),
        )
    }));
    let mut checklists: Vec<Choice> = Vec::new();
    // The checklists of the visit's kind first, then the others.
    let mut ordered: Vec<&Checklist> = state.plan.checklists.iter().collect();
    ordered.sort_by_key(|other| other.kind != kind);
    for other in ordered {
        let label = if other.kind == kind {
            other.title.clone()
        } else {
            format!("{}（{}用）", other.title, other.kind.label())
        };
        checklists.push(choice(
            &other.id,
            &label,
            checklist.is_some_and(|chosen| chosen.id == other.id),
        ));
    }
    checklists.push(choice("none", "不用核查表", checklist.is_none()));
    let checklist_view = checklist.map(|checklist| {
        let mut number = 0;
        let mut index_of = std::collections::HashMap::new();
        for item in &checklist.items {
            number += 1;
            index_of.insert(item.id.clone(), number);
        }
        let areas = checklist
            .by_area()
            .into_iter()
            .map(|(area, items)| AreaGroup {
                label: area.label(),
                items: items
                    .into_iter()
                    .map(|item| {
                        let chosen = typed.get(&item_field(&item.id));
                        let field = match item.answer {
                            ItemAnswer::Judgement => item_field(&item.id),
                            ItemAnswer::Number { .. } => number_field(&item.id),
                            ItemAnswer::Photo => photo_field(&item.id),
                        };
                        ItemView {
                            id: item.id.clone(),
                            number: index_of.get(&item.id).copied().unwrap_or(0),
                            text: item.text.clone(),
                            help: item.help.clone(),
                            kind: item.answer.name(),
                            is_judgement: matches!(item.answer, ItemAnswer::Judgement),
                            is_number: matches!(item.answer, ItemAnswer::Number { .. }),
                            is_photo: matches!(item.answer, ItemAnswer::Photo),
                            unit: match &item.answer {
                                ItemAnswer::Number { unit } => unit.clone(),
                                _ => None,
                            },
                            rechecks: item.indicator.is_some(),
                            error: error_of(&field),
                            field,
                            note_field: note_field(&item.id),
                            options: Judgement::ALL
                                .into_iter()
                                .map(|judgement| JudgementOption {
                                    value: judgement.slug(),
                                    label: judgement.label(),
                                    checked: chosen == judgement.slug(),
                                })
                                .collect(),
                            number_value: typed.get(&number_field(&item.id)).to_owned(),
                            note_value: typed.get(&note_field(&item.id)).to_owned(),
                        }
                    })
                    .collect(),
            })
            .collect();
        ChecklistView {
            id: checklist.id.clone(),
            title: checklist.title.clone(),
            intro: checklist.intro.clone(),
            areas,
        }
    });
    // The rows typed, and at least [`FINDING_ROWS`] of them.
    let typed_rows = (1..=MAX_FINDINGS)
        .filter(|row| {
            ["area", "text"]
                .iter()
                .any(|part| !typed.get(&finding_field(*row, part)).is_empty())
        })
        .max()
        .unwrap_or(0);
    let findings = (1..=typed_rows.max(FINDING_ROWS))
        .map(|row| {
            let area = typed.get(&finding_field(row, "area"));
            let severity = match typed.get(&finding_field(row, "severity")) {
                "" => "minor",
                other => other,
            };
            let mut areas = vec![choice("", "（请选择领域）", area.is_empty())];
            areas.extend(
                Area::plan_areas().map(|one| choice(one.slug(), one.label(), one.slug() == area)),
            );
            FindingRow {
                row,
                areas,
                severities: Severity::ALL
                    .into_iter()
                    .map(|one| choice(one.slug(), one.label(), one.slug() == severity))
                    .collect(),
                text: typed.get(&finding_field(row, "text")).to_owned(),
                error: ["area", "severity", "text"]
                    .iter()
                    .find_map(|part| error_of(&finding_field(row, part))),
            }
        })
        .collect();
    let group_met = typed.get("group_met");
    let visited_on = match typed.get("visited_on") {
        "" if !typed.fields.contains_key("visited_on") => today().to_string(),
        other => other.to_owned(),
    };
    Ok(FormView {
        school: SchoolHead::of(school),
        kind: kind.slug(),
        kind_label: kind.label(),
        is_interview: kind == VisitKind::Interview,
        kinds: VisitKind::ALL
            .into_iter()
            .map(|one| choice(one.slug(), one.label(), one == kind))
            .collect(),
        checklists,
        checklist: checklist_view,
        campaigns,
        visited_on,
        today: today().to_string(),
        team: typed.get("team").to_owned(),
        groups: GroupMet::ALL
            .into_iter()
            .map(|one| choice(one.slug(), one.label(), one.slug() == group_met))
            .collect(),
        group_size: typed.get("group_size").to_owned(),
        notes: typed.get("notes").to_owned(),
        findings,
        errors: errors.iter().map(|error| error.message.clone()).collect(),
        error_count: errors.len(),
        photos_lost,
    })
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    view: FormView,
) -> Result<HttpResponse, ConsoleError> {
    staff.render_with_status(
        state,
        status,
        "console/visits/form",
        "记录走访督查",
        "visits",
        view,
    )
}

async fn new_form(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    query: web::Query<FormQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let school = school_or_404(&state, *id).await?;
    let (kind, checklist) = form_choice(
        &state.plan,
        query.kind.as_deref(),
        query.checklist.as_deref(),
    );
    let view = form_view(
        &state,
        &school,
        kind,
        checklist,
        &VisitForm::default(),
        &[],
        false,
    )
    .await?;
    form_page(&state, &staff, StatusCode::OK, view)
}

/// The form sent back with what was typed and what is wrong (422).
struct Refused<'a> {
    state: &'a AppState,
    staff: &'a Staff,
    school: &'a school::Model,
    kind: VisitKind,
    checklist: Option<&'a Checklist>,
    typed: &'a VisitForm,
    had_photos: bool,
}

impl Refused<'_> {
    async fn page(&self, errors: &[FieldError]) -> Result<HttpResponse, ConsoleError> {
        let view = form_view(
            self.state,
            self.school,
            self.kind,
            self.checklist,
            self.typed,
            errors,
            self.had_photos,
        )
        .await?;
        form_page(
            self.state,
            self.staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            view,
        )
    }
}

/// Photo items of the checklist, and a photo per finding row.
fn max_files(checklist: Option<&Checklist>) -> usize {
    checklist.map_or(0, |checklist| checklist.items.len()) + MAX_FINDINGS
}

async fn create(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    payload: Multipart,
) -> Result<HttpResponse, ConsoleError> {
    let school = school_or_404(&state, *id).await?;
    let most_files = state
        .plan
        .checklists
        .iter()
        .map(|checklist| max_files(Some(checklist)))
        .max()
        .unwrap_or(MAX_FINDINGS);
    let sent = read_form(payload, most_files).await?;
    staff.check_csrf(&sent.csrf)?;
    // A photo over the size limit was not read, but it was chosen: it is named below.
    let photo_names: BTreeSet<String> = sent
        .files
        .iter()
        .map(|(name, _)| name.clone())
        .chain(sent.too_large.iter().cloned())
        .collect();
    let typed = VisitForm::new(sent.fields, photo_names);
    let kind = VisitKind::parse(typed.get("kind")).unwrap_or(VisitKind::RandomVisit);
    // The checklist the form was filled in for, never another one in its place.
    let (checklist, unknown_checklist) = match typed.get("checklist") {
        "" | "none" => (None, false),
        id => (state.plan.checklist(id), state.plan.checklist(id).is_none()),
    };
    let (rounds, _) = crate::visits::rounds(&state.db, &state.plan).await?;
    let round_ids: Vec<i32> = rounds.iter().map(|campaign| campaign.id).collect();
    let mut parsed = crate::visits::parse_visit(&typed, checklist, &round_ids, today());
    if unknown_checklist {
        let error = FieldError {
            field: "checklist".to_owned(),
            message: "核查表：没有这份核查表（可能已从方案中删去），请在上方重新选择核查表"
                .to_owned(),
        };
        parsed = match parsed {
            Ok(_) => Err(vec![error]),
            Err(mut errors) => {
                errors.insert(0, error);
                Err(errors)
            }
        };
    }
    let had_photos = !sent.files.is_empty() || !sent.too_large.is_empty();
    let refused = Refused {
        state: &state,
        staff: &staff,
        school: &school,
        kind,
        checklist,
        typed: &typed,
        had_photos,
    };
    let new = match parsed {
        Ok(new) => new,
        Err(errors) => return refused.page(&errors).await,
    };
    // Photos are checked and re-encoded (CPU work) before the change begins.
    let mut prepared = Vec::new();
    let place_of = |name: &str| -> String {
        if let Some(item) = name.strip_prefix("photo_") {
            checklist
                .and_then(|checklist| {
                    let index = checklist.items.iter().position(|one| one.id == item)?;
                    Some(format!(
                        "第 {} 项 {}",
                        index + 1,
                        checklist.items[index].text
                    ))
                })
                .unwrap_or_else(|| item.to_owned())
        } else {
            let row = name
                .strip_prefix("finding_")
                .and_then(|rest| rest.strip_suffix("_photo"))
                .unwrap_or(name);
            format!("第 {row} 条问题")
        }
    };
    let mut errors: Vec<FieldError> = sent
        .too_large
        .iter()
        .map(|name| FieldError {
            field: name.clone(),
            message: format!("{}：{}", place_of(name), photos::PhotoError::TooLarge),
        })
        .collect();
    for (name, bytes) in sent.files {
        let target = if let Some(item) = name.strip_prefix("photo_") {
            match checklist.and_then(|checklist| checklist.item(item)) {
                Some(found) if matches!(found.answer, ItemAnswer::Photo) => {
                    PhotoTarget::Item(item.to_owned())
                }
                Some(_) => PhotoTarget::Item(item.to_owned()),
                None => continue,
            }
        } else if let Some(row) = name
            .strip_prefix("finding_")
            .and_then(|rest| rest.strip_suffix("_photo"))
            .and_then(|row| row.parse::<usize>().ok())
        {
            PhotoTarget::Finding(row)
        } else {
            continue;
        };
        let done = web::block(move || photos::prepare(&bytes))
            .await
            .map_err(ConsoleError::internal)?;
        match done {
            Ok(photo) => prepared.push(VisitPhoto {
                target,
                prepared: photo,
            }),
            Err(error) => errors.push(FieldError {
                message: format!("{}：{error}", place_of(&name)),
                field: name,
            }),
        }
    }
    if !errors.is_empty() {
        return refused.page(&errors).await;
    }
    let visit_id = crate::visits::record_visit(
        &state.context,
        Actor::Account(&staff.account),
        school.id,
        new,
        prepared,
    )
    .await
    .map_err(|error| match error {
        crate::visits::VisitError::NoSchool(_) => ConsoleError::not_found(),
        other => ConsoleError::internal(other),
    })?;
    Ok(see_other(&format!("/console/visits/{visit_id}?saved=1")))
}

// ---------------------------------------------------------------------------------------------
// One visit, and a school's verified self-check

#[derive(Deserialize, Default)]
struct ShowQuery {
    saved: Option<String>,
}

#[derive(Serialize)]
struct ShowView {
    saved: bool,
    visit: VisitRecord,
    verification: Option<Verification>,
}

async fn show(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let visit = crate::visits::find(&state.db, &state.plan, *id, None)
        .await?
        .ok_or_else(ConsoleError::not_found)?;
    let verification = match visit.row.campaign_id {
        Some(campaign) => {
            let school = school_or_404(&state, visit.row.school_id).await?;
            let found = school_verification(&state.db, &state.plan, campaign, &school).await?;
            Some(found).filter(|found| !found.lines.is_empty())
        }
        None => None,
    };
    let view = ShowView {
        saved: query.saved.is_some(),
        visit,
        verification,
    };
    staff.render(
        &state,
        "console/visits/show",
        "走访督查记录",
        "visits",
        view,
    )
}

#[derive(Deserialize, Default)]
struct SelfChecksQuery {
    campaign: Option<String>,
}

#[derive(Serialize)]
struct SelfChecksView {
    school: SchoolHead,
    campaigns: Vec<Choice>,
    verification: Option<Verification>,
    visits: Vec<VisitRow>,
}

async fn self_checks(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    query: web::Query<SelfChecksQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let school = school_or_404(&state, *id).await?;
    let visits = crate::visits::list(
        &state.db,
        &VisitFilter {
            school: Some(school.id),
            ..VisitFilter::default()
        },
    )
    .await?;
    // The rounds of the school's visits, the latest visit's first.
    let mut round_ids: Vec<i32> = Vec::new();
    for campaign in visit::Entity::find()
        .filter(visit::Column::SchoolId.eq(school.id))
        .order_by_desc(visit::Column::VisitedOn)
        .order_by_desc(visit::Column::Id)
        .all(&state.db)
        .await?
        .into_iter()
        .filter_map(|visit| visit.campaign_id)
    {
        if !round_ids.contains(&campaign) {
            round_ids.push(campaign);
        }
    }
    let asked = query
        .campaign
        .as_deref()
        .and_then(|text| text.parse::<i32>().ok())
        .filter(|id| round_ids.contains(id));
    let chosen = asked.or_else(|| round_ids.first().copied());
    let campaigns = visits
        .iter()
        .filter_map(|row| Some((row.campaign_id?, row.campaign_name.clone()?)))
        .fold(Vec::<Choice>::new(), |mut found, (id, name)| {
            if !found.iter().any(|one| one.value == id.to_string()) {
                found.push(choice(&id.to_string(), &name, chosen == Some(id)));
            }
            found
        });
    let verification = match chosen {
        Some(campaign) => {
            Some(school_verification(&state.db, &state.plan, campaign, &school).await?)
        }
        None => None,
    };
    let view = SelfChecksView {
        school: SchoolHead::of(&school),
        campaigns,
        verification,
        visits,
    };
    staff.render(
        &state,
        "console/visits/self_checks",
        "自评核查",
        "visits",
        view,
    )
}
