//! Campaigns in the console: the list, creating one, drafts opened and closed by hand, editing
//! the name and dates, the live response rates of each school, township and the county, one
//! printable QR poster per school; and a school viewer's own school.
//!
//! Supervisors and admins only, except `/console/my-school` and a school's own poster, which a
//! school viewer may open for the school of their account and no other. Handlers extract, parse,
//! call `campaigns` and render; the queries and rules live there.

use crate::web::routes::Routes;
use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use entity::{campaign, school};
use serde::{Deserialize, Serialize};

use super::guards::{CampaignPath, CsrfForm, Staff, Supervisor};
use super::{ConsoleError, see_other};
use crate::accounts::Role;
use crate::campaigns::actions as campaign_actions;
use crate::campaigns::{
    self, Availability, CampaignDetails, CampaignError, CampaignStatus, NewCampaign, RateOrder,
    RateTotal, SchoolSelection,
};
use crate::change::Actor;
use crate::links;
use crate::schools::{self, SchoolKind};
use crate::survey::{Audience, Catalog, CatalogEntry};
use crate::web::AppState;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/campaigns", list)
        .get("/console/campaigns/new", new_form)
        .post("/console/campaigns/new", create)
        .get("/console/campaigns/{id}", show)
        .post("/console/campaigns/{id}/status", set_status)
        .get("/console/campaigns/{id}/edit", edit_form)
        .post("/console/campaigns/{id}/edit", edit)
        .get("/console/campaigns/{id}/posters", posters)
        .get("/console/campaigns/{id}/posters/{code}", school_poster)
        .get("/console/my-school", my_school);
}

/// Domain failures that are not a form's fault: an unknown campaign is a 404, the rest a 500.
fn fault(error: CampaignError) -> ConsoleError {
    match error {
        CampaignError::NotFound(_) => ConsoleError::not_found(),
        other => ConsoleError::internal(other),
    }
}

fn time_or(time: Option<DateTime<Utc>>, none: &str) -> String {
    time.map_or_else(|| none.to_owned(), campaigns::display_time)
}

fn audience_label(audience: Option<Audience>) -> &'static str {
    audience.map_or("", Audience::label)
}

/// A percentage as the tables show it, and its bar: red below 30%, amber below 60%.
#[derive(Serialize)]
struct Progress {
    answers: i64,
    expected: i64,
    percent: String,
    bar_class: &'static str,
    bar_width: String,
}

impl Progress {
    fn new(answers: i64, expected: i64) -> Progress {
        let percent = campaigns::percent(answers, expected);
        Progress {
            answers,
            expected,
            percent: percent.map_or_else(|| "—".to_owned(), |p| format!("{p:.1}%")),
            bar_class: match percent {
                Some(p) if p < 30.0 => "low",
                Some(p) if p < 60.0 => "mid",
                _ => "",
            },
            bar_width: format!("{:.0}", percent.unwrap_or(0.0).clamp(0.0, 100.0)),
        }
    }

    fn of(total: &RateTotal) -> Progress {
        Progress::new(total.answers, total.expected)
    }
}

// ---------------------------------------------------------------------------------- the list

#[derive(Serialize)]
struct CampaignRow {
    id: i32,
    name: String,
    survey_title: String,
    audience: &'static str,
    state: &'static str,
    state_class: &'static str,
    opens: String,
    closes: String,
    schools: usize,
    progress: Progress,
    created: String,
}

#[derive(Serialize)]
struct ListView {
    campaigns: Vec<CampaignRow>,
}

async fn list(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
) -> Result<HttpResponse, ConsoleError> {
    let now = Utc::now();
    let campaigns = campaigns::overview(&state.db)
        .await?
        .into_iter()
        .map(|summary| {
            let availability = campaigns::availability(&summary.campaign, now);
            CampaignRow {
                id: summary.campaign.id,
                survey_title: summary.survey_title,
                audience: audience_label(summary.audience),
                state: availability.label(),
                state_class: availability.slug(),
                opens: time_or(summary.campaign.opens_at, "立即"),
                closes: time_or(summary.campaign.closes_at, "不限"),
                schools: summary.total.schools,
                progress: Progress::of(&summary.total),
                created: campaigns::display_time(summary.campaign.created_at),
                name: summary.campaign.name,
            }
        })
        .collect();
    staff.render(
        &state,
        "console/campaigns/list",
        "调查活动",
        "campaigns",
        ListView { campaigns },
    )
}

// ------------------------------------------------------------------------------ the new form

/// The create form as typed: every field a string, lists as sent. Read once from the body.
#[derive(Default)]
struct CampaignInput {
    survey: String,
    name: String,
    opens: String,
    closes: String,
    /// `all`, `townships`, `kinds`, `key_villages` or `codes`.
    schools: String,
    townships: Vec<String>,
    kinds: Vec<String>,
    codes: Vec<String>,
    expected: String,
    status: String,
}

impl CampaignInput {
    fn from_pairs(pairs: Vec<(String, String)>) -> CampaignInput {
        let mut input = CampaignInput::default();
        for (name, value) in pairs {
            match name.as_str() {
                "survey" => input.survey = value,
                "name" => input.name = value,
                "opens" => input.opens = value,
                "closes" => input.closes = value,
                "schools" => input.schools = value,
                "township" => input.townships.push(value),
                "kind" => input.kinds.push(value),
                "school" => input.codes.push(value),
                "expected" => input.expected = value,
                "status" => input.status = value,
                _ => {}
            }
        }
        input
    }
}

/// What is wrong with the form, beside each field.
#[derive(Default, Serialize)]
struct FieldErrors {
    survey: Option<String>,
    name: Option<String>,
    opens: Option<String>,
    closes: Option<String>,
    schools: Option<String>,
    expected: Option<String>,
}

impl FieldErrors {
    fn any(&self) -> bool {
        self.survey.is_some()
            || self.name.is_some()
            || self.opens.is_some()
            || self.closes.is_some()
            || self.schools.is_some()
            || self.expected.is_some()
    }

    /// Puts a refusal of the domain beside the field it is about; `None` for faults.
    fn from_domain(error: &CampaignError) -> Option<FieldErrors> {
        let mut errors = FieldErrors::default();
        match error {
            CampaignError::UnknownSurvey(..) => errors.survey = Some(UNKNOWN_SURVEY.to_owned()),
            CampaignError::EmptyName => errors.name = Some(NAME_REQUIRED.to_owned()),
            CampaignError::ClosesBeforeOpening { .. } => {
                errors.closes = Some(CLOSES_BEFORE_OPENS.to_owned())
            }
            CampaignError::UnknownSchools(codes) => {
                errors.schools = Some(format!("找不到这些学校：{codes}，请刷新页面后重新选择。"))
            }
            CampaignError::NoSchools => {
                errors.schools = Some("还没有学校名单，请先在“学校”页面导入全县学校。".to_owned())
            }
            CampaignError::NoSchoolSelected => {
                errors.schools = Some("所选范围内没有学校，请换一个范围。".to_owned())
            }
            CampaignError::ExpectedNotPositive(_) => {
                errors.expected = Some(EXPECTED_INVALID.to_owned())
            }
            CampaignError::NotFound(_) | CampaignError::Db(_) => return None,
        }
        Some(errors)
    }
}

const UNKNOWN_SURVEY: &str = "请选择一份问卷。";
const NAME_REQUIRED: &str = "请填写活动名称。";
const CLOSES_BEFORE_OPENS: &str = "截止时间必须晚于开始时间。";
const EXPECTED_INVALID: &str = "请填写大于 0 的整数，或留空按学校人数计算。";
const TIME_INVALID: &str = "无法识别这个时间，请按 2026-12-01 08:00 的格式填写。";

/// An optional time field: empty is `None`, anything else must read as a time.
fn parse_optional_time(text: &str) -> Result<Option<DateTime<Utc>>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    campaigns::parse_time(text).map(Some).ok_or(())
}

/// The name and dates of a form, parsed, with their errors.
fn parse_details(
    name: &str,
    opens: &str,
    closes: &str,
    errors: &mut FieldErrors,
) -> Option<CampaignDetails> {
    if name.trim().is_empty() {
        errors.name = Some(NAME_REQUIRED.to_owned());
    }
    let opens_at = parse_optional_time(opens)
        .map_err(|()| errors.opens = Some(TIME_INVALID.to_owned()))
        .ok();
    let closes_at = parse_optional_time(closes)
        .map_err(|()| errors.closes = Some(TIME_INVALID.to_owned()))
        .ok();
    let (opens_at, closes_at) = (opens_at?, closes_at?);
    if let (Some(opens), Some(closes)) = (opens_at, closes_at)
        && closes <= opens
    {
        errors.closes = Some(CLOSES_BEFORE_OPENS.to_owned());
    }
    Some(CampaignDetails {
        name: name.trim().to_owned(),
        opens_at,
        closes_at,
    })
}

/// The schools part of the form, parsed.
fn parse_selection(input: &CampaignInput, errors: &mut FieldErrors) -> Option<SchoolSelection> {
    let nonempty = |values: &[String]| -> Vec<String> {
        values
            .iter()
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .collect()
    };
    let (selection, missing) = match input.schools.as_str() {
        "all" => (SchoolSelection::All, ""),
        "key_villages" => (SchoolSelection::KeyVillages, ""),
        "townships" => (
            SchoolSelection::Townships(nonempty(&input.townships)),
            "请至少选择一个乡镇。",
        ),
        "codes" => (
            SchoolSelection::Codes(nonempty(&input.codes)),
            "请至少勾选一所学校。",
        ),
        "kinds" => {
            let mut kinds = Vec::new();
            for text in nonempty(&input.kinds) {
                match SchoolKind::parse(&text) {
                    Some(kind) => kinds.push(kind),
                    None => {
                        errors.schools = Some(format!("没有“{text}”这种学校类型。"));
                        return None;
                    }
                }
            }
            (SchoolSelection::Kinds(kinds), "请至少选择一种学校类型。")
        }
        _ => {
            errors.schools = Some("请选择发放范围。".to_owned());
            return None;
        }
    };
    if selection.is_empty_list() {
        errors.schools = Some(missing.to_owned());
        return None;
    }
    Some(selection)
}

/// The whole form, parsed into a new campaign, or every error found.
fn parse_new_campaign<'a>(
    input: &CampaignInput,
    catalog: &'a Catalog,
) -> Result<NewCampaign<'a>, Box<FieldErrors>> {
    let mut errors = FieldErrors::default();
    let survey = catalog.get(input.survey.trim());
    if survey.is_none() {
        errors.survey = Some(UNKNOWN_SURVEY.to_owned());
    }
    let details = parse_details(&input.name, &input.opens, &input.closes, &mut errors);
    let selection = parse_selection(input, &mut errors);
    let expected_override = match input.expected.trim() {
        "" => None,
        text => match text.parse::<i32>() {
            Ok(number) if number >= 1 => Some(number),
            _ => {
                errors.expected = Some(EXPECTED_INVALID.to_owned());
                None
            }
        },
    };
    let status = match input.status.as_str() {
        "draft" => CampaignStatus::Draft,
        _ => CampaignStatus::Open,
    };
    match (survey, details, selection) {
        (Some(survey), Some(details), Some(schools)) if !errors.any() => Ok(NewCampaign {
            name: details.name,
            survey,
            opens_at: details.opens_at,
            closes_at: details.closes_at,
            schools,
            status,
            expected_override,
        }),
        _ => Err(Box::new(errors)),
    }
}

#[derive(Serialize)]
struct SurveyChoice {
    id: String,
    title: String,
    audience: &'static str,
    questions: usize,
    selected: bool,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    count: usize,
    selected: bool,
}

#[derive(Serialize)]
struct SchoolChoice {
    code: String,
    name: String,
    kind: String,
    key_village: bool,
    checked: bool,
}

#[derive(Serialize)]
struct SchoolGroup {
    township: String,
    schools: Vec<SchoolChoice>,
}

#[derive(Serialize)]
struct NewFormView {
    surveys: Vec<SurveyChoice>,
    name: String,
    opens: String,
    closes: String,
    modes: Vec<Choice>,
    townships: Vec<Choice>,
    kinds: Vec<Choice>,
    school_groups: Vec<SchoolGroup>,
    /// The list of every school is long: shown unfolded only when picking by hand.
    codes_open: bool,
    has_schools: bool,
    expected: String,
    draft: bool,
    errors: FieldErrors,
    has_errors: bool,
}

fn survey_choices(catalog: &Catalog, selected: &str) -> Vec<SurveyChoice> {
    catalog
        .entries()
        .map(|entry: &CatalogEntry| SurveyChoice {
            id: entry.survey.id.clone(),
            title: entry.survey.title.clone(),
            audience: entry.survey.audience.label(),
            questions: entry.survey.question_count(),
            selected: entry.survey.id == selected,
        })
        .collect()
}

fn new_form_view(
    catalog: &Catalog,
    all: &[school::Model],
    input: &CampaignInput,
    errors: FieldErrors,
) -> NewFormView {
    let mode = if input.schools.is_empty() {
        "all"
    } else {
        input.schools.as_str()
    };
    let key_villages = all.iter().filter(|school| school.is_key_village).count();
    let modes = [
        ("all", "全县所有学校".to_owned(), all.len()),
        ("townships", "按乡镇".to_owned(), 0),
        ("kinds", "按学校类型".to_owned(), 0),
        ("key_villages", "仅扶贫重点村学校".to_owned(), key_villages),
        ("codes", "逐校勾选".to_owned(), 0),
    ]
    .into_iter()
    .map(|(value, label, count)| Choice {
        value: value.to_owned(),
        label,
        count,
        selected: value == mode,
    })
    .collect();

    let mut by_township: BTreeMap<&str, Vec<&school::Model>> = BTreeMap::new();
    for school in all {
        by_township
            .entry(&school.township)
            .or_default()
            .push(school);
    }
    let townships = by_township
        .iter()
        .map(|(township, schools)| Choice {
            value: (*township).to_owned(),
            label: (*township).to_owned(),
            count: schools.len(),
            selected: input.townships.iter().any(|t| t == township),
        })
        .collect();
    let kinds = SchoolKind::ALL
        .into_iter()
        .map(|kind| Choice {
            value: kind.label().to_owned(),
            label: kind.label().to_owned(),
            count: all
                .iter()
                .filter(|school| school.kind == kind.label())
                .count(),
            selected: input.kinds.iter().any(|k| k == kind.label()),
        })
        .collect();
    let school_groups = by_township
        .into_iter()
        .map(|(township, schools)| SchoolGroup {
            township: township.to_owned(),
            schools: schools
                .into_iter()
                .map(|school| SchoolChoice {
                    code: school.code.clone(),
                    name: school.name.clone(),
                    kind: school.kind.clone(),
                    key_village: school.is_key_village,
                    checked: input.codes.iter().any(|code| code == &school.code),
                })
                .collect(),
        })
        .collect();
    let has_errors = errors.any();
    NewFormView {
        surveys: survey_choices(catalog, input.survey.trim()),
        name: input.name.clone(),
        opens: input.opens.clone(),
        closes: input.closes.clone(),
        modes,
        townships,
        kinds,
        school_groups,
        codes_open: mode == "codes",
        has_schools: !all.is_empty(),
        expected: input.expected.clone(),
        draft: input.status == "draft",
        errors,
        has_errors,
    }
}

async fn render_new_form(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    input: &CampaignInput,
    errors: FieldErrors,
) -> Result<HttpResponse, ConsoleError> {
    let all = schools::list(&state.db).await?;
    staff.render_with_status(
        state,
        status,
        "console/campaigns/new",
        "发起调查活动",
        "campaigns",
        new_form_view(&state.catalog, &all, input, errors),
    )
}

async fn new_form(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
) -> Result<HttpResponse, ConsoleError> {
    let input = CampaignInput {
        survey: state
            .catalog
            .entries()
            .next()
            .map(|entry| entry.survey.id.clone())
            .unwrap_or_default(),
        schools: "all".to_owned(),
        ..CampaignInput::default()
    };
    render_new_form(
        &state,
        &staff,
        StatusCode::OK,
        &input,
        FieldErrors::default(),
    )
    .await
}

async fn create(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    form: CsrfForm<Vec<(String, String)>>,
) -> Result<HttpResponse, ConsoleError> {
    let input = CampaignInput::from_pairs(form.into_inner());
    let refuse = |errors: FieldErrors| {
        render_new_form(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            &input,
            errors,
        )
    };
    let new = match parse_new_campaign(&input, &state.catalog) {
        Ok(new) => new,
        Err(errors) => return refuse(*errors).await,
    };
    let actor = Actor::Account(&staff.account);
    let campaign = match campaign_actions::create_campaign(&state.context, actor, new).await {
        Ok((campaign, _)) => campaign,
        Err(error) => {
            return match FieldErrors::from_domain(&error) {
                Some(errors) => refuse(errors).await,
                None => Err(fault(error)),
            };
        }
    };
    Ok(see_other(&format!("/console/campaigns/{}", campaign.id)))
}

// --------------------------------------------------------------------------- the campaign page

/// What every page of one campaign says about it.
#[derive(Serialize)]
struct CampaignHead {
    id: i32,
    name: String,
    survey_title: String,
    audience: &'static str,
    state: &'static str,
    state_class: &'static str,
    status: &'static str,
    opens: String,
    closes: String,
    created: String,
    /// Why a campaign opened by hand takes no answers anyway.
    note: Option<String>,
}

async fn campaign_head(
    state: &AppState,
    campaign: &campaign::Model,
) -> Result<CampaignHead, ConsoleError> {
    let (survey_title, audience) = campaigns::survey_of(&state.db, campaign).await?;
    let availability = campaigns::availability(campaign, Utc::now());
    let status = CampaignStatus::of(campaign);
    let note = match (status, &availability) {
        (CampaignStatus::Open, Availability::Closed) => {
            Some("已过截止时间，链接不再接受填写。如需继续收集，请修改截止时间。".to_owned())
        }
        (CampaignStatus::Open, Availability::NotYetOpen(opens)) => Some(format!(
            "将于 {} 开始接受填写。",
            campaigns::display_time(*opens)
        )),
        (CampaignStatus::Draft, _) => {
            Some("草稿：链接和海报已可使用，但打开链接会看到“调查还没有开始”。".to_owned())
        }
        _ => None,
    };
    Ok(CampaignHead {
        id: campaign.id,
        name: campaign.name.clone(),
        survey_title,
        audience: audience_label(audience),
        state: availability.label(),
        state_class: availability.slug(),
        status: status.slug(),
        opens: time_or(campaign.opens_at, "立即"),
        closes: time_or(campaign.closes_at, "不限"),
        created: campaigns::display_time(campaign.created_at),
        note,
    })
}

#[derive(Serialize)]
struct StatusAction {
    value: &'static str,
    label: &'static str,
    /// The button's style: opening is the main action, closing the dangerous one.
    class: &'static str,
}

#[derive(Serialize)]
struct SchoolRow {
    code: String,
    name: String,
    township: String,
    progress: Progress,
    url: String,
    token: String,
}

#[derive(Serialize)]
struct TotalRow {
    township: String,
    schools: usize,
    progress: Progress,
}

#[derive(Serialize)]
struct SortLink {
    value: &'static str,
    label: &'static str,
    current: bool,
}

#[derive(Serialize)]
struct CampaignView {
    campaign: CampaignHead,
    actions: Vec<StatusAction>,
    schools: Vec<SchoolRow>,
    townships: Vec<TotalRow>,
    county: TotalRow,
    sorts: Vec<SortLink>,
    quality: QualitySummary,
}

/// The campaign page's line on answer quality: schools to look at, answers left out.
#[derive(Serialize)]
struct QualitySummary {
    /// "Q01 某学校（答卷多于应收、…）", the first few.
    schools: Vec<String>,
    more: usize,
    left_out: String,
    left_out_count: u64,
}

#[derive(Deserialize)]
struct SortQuery {
    sort: Option<String>,
}

async fn show(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(campaign): CampaignPath,
    query: web::Query<SortQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let head = campaign_head(&state, &campaign).await?;
    let quality = quality_summary(&state, &campaign).await?;
    let mut rates = campaigns::rates(&state.db, campaign.id)
        .await
        .map_err(fault)?;
    let order = RateOrder::parse(query.sort.as_deref().unwrap_or_default());
    campaigns::sort_rates(&mut rates, order);
    let townships = campaigns::roll_up_by_township(&rates)
        .into_iter()
        .map(|township| TotalRow {
            schools: township.total.schools,
            progress: Progress::of(&township.total),
            township: township.township,
        })
        .collect();
    let county = campaigns::county_total(&rates);
    let current = CampaignStatus::of(&campaign);
    let actions = [
        (CampaignStatus::Open, "开放填写", ""),
        (CampaignStatus::Draft, "改回草稿", "secondary"),
        (CampaignStatus::Closed, "结束活动", "danger"),
    ]
    .into_iter()
    .filter(|(status, ..)| *status != current)
    .map(|(status, label, class)| StatusAction {
        value: status.slug(),
        label,
        class,
    })
    .collect();
    let sorts = [
        (RateOrder::FurthestBehind, "进度最低在前"),
        (RateOrder::FurthestAhead, "进度最高在前"),
        (RateOrder::Code, "学校代码"),
        (RateOrder::Name, "学校名称"),
        (RateOrder::Township, "乡镇"),
        (RateOrder::Answers, "已收份数"),
        (RateOrder::Expected, "应收份数"),
    ]
    .into_iter()
    .map(|(value, label)| SortLink {
        value: value.slug(),
        label,
        current: value == order,
    })
    .collect();
    let schools = rates
        .into_iter()
        .map(|rate| SchoolRow {
            progress: Progress::new(rate.answers, rate.expected),
            url: links::link_url(&state.base_url, &rate.token),
            token: rate.token,
            code: rate.code,
            name: rate.name,
            township: rate.township,
        })
        .collect();
    let title = head.name.clone();
    staff.render(
        &state,
        "console/campaigns/show",
        &title,
        "campaigns",
        CampaignView {
            campaign: head,
            actions,
            schools,
            townships,
            county: TotalRow {
                township: "全县".to_owned(),
                schools: county.schools,
                progress: Progress::of(&county),
            },
            sorts,
            quality,
        },
    )
}

/// Schools listed on the campaign page at most; the quality page lists them all.
const SUSPICIOUS_LISTED: usize = 5;

async fn quality_summary(
    state: &AppState,
    campaign: &entity::campaign::Model,
) -> Result<QualitySummary, ConsoleError> {
    let audience = campaigns::load_version(&state.db, campaign.survey_version_id)
        .await?
        .map_or(crate::survey::Audience::Parents, |survey| survey.audience);
    let found = crate::quality::signals::campaign_signals(&state.db, campaign.id, audience).await?;
    let left_out = crate::results::Excluded::total(
        &crate::results::excluded_answers(
            &state.db,
            campaign.id,
            &state.plan.rules.quality,
            None,
            crate::results::DateRange::default(),
        )
        .await?,
    );
    Ok(QualitySummary {
        schools: found
            .listed
            .iter()
            .take(SUSPICIOUS_LISTED)
            .map(|school| {
                let signals: Vec<&str> =
                    school.signals.iter().map(|signal| signal.label()).collect();
                format!(
                    "{} {}（{}）",
                    school.school.code,
                    school.school.name,
                    signals.join("、")
                )
            })
            .collect(),
        more: found.listed.len().saturating_sub(SUSPICIOUS_LISTED),
        left_out: left_out.describe(),
        left_out_count: left_out.count,
    })
}

#[derive(Deserialize)]
struct StatusForm {
    #[serde(default)]
    status: String,
}

async fn set_status(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(campaign): CampaignPath,
    form: CsrfForm<StatusForm>,
) -> Result<HttpResponse, ConsoleError> {
    let status = CampaignStatus::parse(&form.status)
        .ok_or_else(|| ConsoleError::bad_request("没有这种活动状态。"))?;
    let actor = Actor::Account(&staff.account);
    let campaign =
        campaign_actions::set_campaign_status(&state.context, actor, campaign.id, status)
            .await
            .map_err(fault)?;
    Ok(see_other(&format!("/console/campaigns/{}", campaign.id)))
}

// ----------------------------------------------------------------------------------- editing

#[derive(Serialize)]
struct EditView {
    campaign: CampaignHead,
    name: String,
    opens: String,
    closes: String,
    errors: FieldErrors,
    has_errors: bool,
}

/// The edit form as typed; also what the form shows first.
#[derive(Deserialize)]
struct EditForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    opens: String,
    #[serde(default)]
    closes: String,
}

async fn render_edit(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    campaign: &campaign::Model,
    values: &EditForm,
    errors: FieldErrors,
) -> Result<HttpResponse, ConsoleError> {
    let head = campaign_head(state, campaign).await?;
    let has_errors = errors.any();
    staff.render_with_status(
        state,
        status,
        "console/campaigns/edit",
        "修改调查活动",
        "campaigns",
        EditView {
            campaign: head,
            name: values.name.clone(),
            opens: values.opens.clone(),
            closes: values.closes.clone(),
            errors,
            has_errors,
        },
    )
}

async fn edit_form(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(campaign): CampaignPath,
) -> Result<HttpResponse, ConsoleError> {
    let values = EditForm {
        name: campaign.name.clone(),
        opens: campaign
            .opens_at
            .map(campaigns::input_time)
            .unwrap_or_default(),
        closes: campaign
            .closes_at
            .map(campaigns::input_time)
            .unwrap_or_default(),
    };
    render_edit(
        &state,
        &staff,
        StatusCode::OK,
        &campaign,
        &values,
        FieldErrors::default(),
    )
    .await
}

async fn edit(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(campaign): CampaignPath,
    form: CsrfForm<EditForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    let mut errors = FieldErrors::default();
    let details = parse_details(&form.name, &form.opens, &form.closes, &mut errors);
    let refuse = |errors: FieldErrors| {
        render_edit(
            &state,
            &staff,
            StatusCode::UNPROCESSABLE_ENTITY,
            &campaign,
            &form,
            errors,
        )
    };
    let details = match details {
        Some(details) if !errors.any() => details,
        _ => return refuse(errors).await,
    };
    let actor = Actor::Account(&staff.account);
    let edited = campaign_actions::edit_campaign(&state.context, actor, campaign.id, details).await;
    let after = match edited {
        Ok(after) => after,
        Err(error) => {
            return match FieldErrors::from_domain(&error) {
                Some(errors) => refuse(errors).await,
                None => Err(fault(error)),
            };
        }
    };
    Ok(see_other(&format!("/console/campaigns/{}", after.id)))
}

// ----------------------------------------------------------------------------------- posters

#[derive(Serialize)]
struct Poster {
    school: String,
    code: String,
    township: String,
    url: String,
    /// Our own SVG from `links::qr_svg`, the one thing inserted unescaped.
    qr_svg: String,
}

#[derive(Serialize)]
struct PostersView {
    campaign: CampaignHead,
    /// Where "back" leads: the campaign for supervisors, their own page for a school viewer.
    back_url: String,
    back_label: String,
    /// `parents`, `teachers`, `students` or `school`: who the poster speaks to.
    audience: &'static str,
    minutes: Option<u32>,
    /// The closing time, or `None` for "as soon as you can".
    deadline: Option<String>,
    count: usize,
    posters: Vec<Poster>,
    townships: Vec<Choice>,
    /// Supervisors may narrow by township; a school viewer sees only their own poster.
    can_filter: bool,
}

/// The QR code of a link as an inline `<svg>` element: the XML prolog dropped, since the
/// element sits inside an HTML page.
fn inline_qr(url: &str) -> Result<String, ConsoleError> {
    let svg = links::qr_svg(url).map_err(ConsoleError::internal)?;
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    })
}

#[derive(Deserialize)]
struct PosterQuery {
    township: Option<String>,
    school: Option<String>,
}

async fn render_posters(
    state: &AppState,
    staff: &Staff,
    campaign: &campaign::Model,
    township: Option<&str>,
    code: Option<&str>,
) -> Result<HttpResponse, ConsoleError> {
    let head = campaign_head(state, campaign).await?;
    let survey = state.survey(campaign.survey_version_id).await?;
    let mut links = campaigns::links(&state.db, campaign.id)
        .await
        .map_err(fault)?;
    links.sort_by(|a, b| (&a.township, &a.code).cmp(&(&b.township, &b.code)));
    let mut townships: Vec<Choice> = Vec::new();
    for link in &links {
        match townships.last_mut() {
            Some(last) if last.value == link.township => last.count += 1,
            _ => townships.push(Choice {
                value: link.township.clone(),
                label: link.township.clone(),
                count: 1,
                selected: Some(link.township.as_str()) == township,
            }),
        }
    }
    let mut posters = Vec::new();
    for link in links {
        if township.is_some_and(|township| township != link.township)
            || code.is_some_and(|code| code != link.code)
        {
            continue;
        }
        let url = links::link_url(&state.base_url, &link.token);
        posters.push(Poster {
            qr_svg: inline_qr(&url)?,
            school: link.name,
            code: link.code,
            township: link.township,
            url,
        });
    }
    if code.is_some() && posters.is_empty() {
        return Err(ConsoleError::not_found());
    }
    let title = format!("二维码海报 · {}", head.name);
    let supervising = staff.role.includes(Role::Supervisor);
    let (back_url, back_label, nav) = if supervising {
        (
            format!("/console/campaigns/{}", campaign.id),
            format!("返回 {}", head.name),
            "campaigns",
        )
    } else {
        (
            "/console/my-school".to_owned(),
            "返回本校调查".to_owned(),
            "my-school",
        )
    };
    staff.render(
        state,
        "console/campaigns/posters",
        &title,
        nav,
        PostersView {
            back_url,
            back_label,
            campaign: head,
            audience: survey.audience.slug(),
            minutes: survey.minutes,
            deadline: campaign.closes_at.map(campaigns::display_time),
            count: posters.len(),
            posters,
            townships,
            can_filter: supervising && code.is_none(),
        },
    )
}

async fn posters(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(campaign): CampaignPath,
    query: web::Query<PosterQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let nonempty = |value: &Option<String>| {
        value
            .as_deref()
            .map(str::trim)
            .filter(|value| !value.is_empty())
            .map(str::to_owned)
    };
    let township = nonempty(&query.township);
    let code = nonempty(&query.school);
    render_posters(
        &state,
        &staff,
        &campaign,
        township.as_deref(),
        code.as_deref(),
    )
    .await
}

/// One school's poster: supervisors for any school, a school viewer for their own only.
async fn school_poster(
    state: web::Data<AppState>,
    staff: Staff,
    path: web::Path<(i32, String)>,
) -> Result<HttpResponse, ConsoleError> {
    let (id, code) = path.into_inner();
    if !staff.is_supervisor() {
        let found = schools::find_by_codes(&state.db, std::slice::from_ref(&code)).await?;
        let own = found.first().map(|school| school.id);
        if own.is_none() || own != staff.account.school_id {
            return Err(ConsoleError::forbidden());
        }
    }
    let campaign = campaigns::find(&state.db, id).await.map_err(fault)?;
    render_posters(&state, &staff, &campaign, None, Some(&code)).await
}

// -------------------------------------------------------------------------- a school's page

#[derive(Serialize)]
struct SchoolHead {
    code: String,
    name: String,
    township: String,
}

#[derive(Serialize)]
struct SchoolCampaignRow {
    id: i32,
    name: String,
    survey_title: String,
    audience: &'static str,
    state: &'static str,
    state_class: &'static str,
    closes: String,
    url: String,
    token: String,
    progress: Progress,
}

#[derive(Serialize)]
struct MySchoolView {
    school: Option<SchoolHead>,
    campaigns: Vec<SchoolCampaignRow>,
    /// Supervisors pick a school to see its page as the school sees it.
    choices: Vec<Choice>,
    can_choose: bool,
    /// The school's rectification items still open, and those overdue.
    rectification_waiting: u64,
    rectification_overdue: u64,
}

#[derive(Deserialize)]
struct SchoolQuery {
    school: Option<String>,
}

async fn my_school(
    state: web::Data<AppState>,
    staff: Staff,
    query: web::Query<SchoolQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let can_choose = staff.is_supervisor();
    let all = schools::list(&state.db).await?;
    let chosen = if can_choose {
        let code = query.school.as_deref().map(str::trim).unwrap_or_default();
        all.iter().find(|school| school.code == code)
    } else {
        staff
            .account
            .school_id
            .and_then(|id| all.iter().find(|school| school.id == id))
    };
    let now = Utc::now();
    let mut campaigns_of_school = Vec::new();
    if let Some(school) = chosen {
        for found in campaigns::for_school(&state.db, school.id).await? {
            let availability = campaigns::availability(&found.campaign, now);
            campaigns_of_school.push(SchoolCampaignRow {
                id: found.campaign.id,
                name: found.campaign.name.clone(),
                survey_title: found.survey_title,
                audience: audience_label(found.audience),
                state: availability.label(),
                state_class: availability.slug(),
                closes: time_or(found.campaign.closes_at, "不限"),
                url: links::link_url(&state.base_url, &found.token),
                token: found.token,
                progress: Progress::new(found.answers, found.expected),
            });
        }
    }
    let choices = if can_choose {
        all.iter()
            .map(|school| Choice {
                value: school.code.clone(),
                label: format!("{} · {}", school.township, school.name),
                count: 0,
                selected: chosen.is_some_and(|chosen| chosen.id == school.id),
            })
            .collect()
    } else {
        Vec::new()
    };
    let (rectification_waiting, rectification_overdue) = match chosen {
        Some(school) => {
            let today = crate::rectification::today();
            let rows = crate::rectification::list(
                &state.db,
                None,
                &crate::rectification::ListFilter {
                    school: Some(school.id),
                    ..Default::default()
                },
                today,
            )
            .await?;
            (
                rows.iter().filter(|row| row.status != "accepted").count() as u64,
                rows.iter().filter(|row| row.overdue).count() as u64,
            )
        }
        None => (0, 0),
    };
    staff.render(
        &state,
        "console/campaigns/my_school",
        "本校调查",
        "my-school",
        MySchoolView {
            school: chosen.map(|school| SchoolHead {
                code: school.code.clone(),
                name: school.name.clone(),
                township: school.township.clone(),
            }),
            campaigns: campaigns_of_school,
            choices,
            can_choose,
            rectification_waiting,
            rectification_overdue,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(pairs: &[(&str, &str)]) -> CampaignInput {
        CampaignInput::from_pairs(
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn repeated_fields_become_lists_of_townships_kinds_and_schools() {
        let input = input(&[
            ("schools", "townships"),
            ("township", "石门镇"),
            ("township", "白沙乡"),
            ("kind", "小学"),
            ("school", "A1"),
            ("school", "A2"),
        ]);
        let mut errors = FieldErrors::default();
        assert_eq!(
            parse_selection(&input, &mut errors),
            Some(SchoolSelection::Townships(vec![
                "石门镇".into(),
                "白沙乡".into()
            ]))
        );
        assert!(!errors.any());
        assert_eq!(input.codes, ["A1", "A2"]);
    }

    #[test]
    fn a_mode_without_its_list_or_with_an_unknown_kind_is_refused() {
        for (pairs, message) in [
            (vec![("schools", "townships")], "请至少选择一个乡镇。"),
            (vec![("schools", "codes")], "请至少勾选一所学校。"),
            (vec![("schools", "kinds")], "请至少选择一种学校类型。"),
            (
                vec![("schools", "kinds"), ("kind", "大学")],
                "没有“大学”这种学校类型。",
            ),
            (vec![("schools", "some")], "请选择发放范围。"),
        ] {
            let mut errors = FieldErrors::default();
            assert_eq!(parse_selection(&input(&pairs), &mut errors), None);
            assert_eq!(errors.schools.as_deref(), Some(message));
        }
    }

    #[test]
    fn details_report_every_bad_field_at_once() {
        let mut errors = FieldErrors::default();
        parse_details(" ", "2026-12-02T08:00", "2026-12-01T08:00", &mut errors);
        assert_eq!(errors.name.as_deref(), Some(NAME_REQUIRED));
        assert_eq!(errors.closes.as_deref(), Some(CLOSES_BEFORE_OPENS));
        let mut errors = FieldErrors::default();
        parse_details("秋季测评", "tomorrow", "", &mut errors);
        assert_eq!(errors.opens.as_deref(), Some(TIME_INVALID));
        assert!(errors.closes.is_none());
    }

    #[test]
    fn progress_bars_are_red_below_thirty_and_amber_below_sixty() {
        let low = Progress::new(3, 11);
        assert_eq!(
            (low.percent.as_str(), low.bar_class, low.bar_width.as_str()),
            ("27.3%", "low", "27")
        );
        assert_eq!(Progress::new(45, 100).bar_class, "mid");
        let over = Progress::new(130, 100);
        assert_eq!((over.bar_class, over.bar_width.as_str()), ("", "100"));
        assert_eq!(Progress::new(0, 0).percent, "—");
    }
}
