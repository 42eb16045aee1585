//! Answer quality in the console (`/console/campaigns/{id}/quality`): how many answers carry
//! each flag, the flagged answers a page at a time with what they answered, the excluded ones,
//! and the buttons that exclude or restore an answer; and the free-text answers of a question
//! (`/console/campaigns/{id}/texts`), with nothing that ties a text to a person.
//!
//! Supervisors and admins only. The flags, the exclusion and the reads live in
//! `crate::quality` and `crate::results`; this module only reads the request and renders.

use crate::web::routes::Routes;
use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::Choice;
use super::guards::{CsrfForm, Staff, Supervisor};
use super::{ConsoleError, see_other};
use crate::campaigns;
use crate::change::Actor;
use crate::charts;
use crate::export::{AnswerColumns, Values};
use crate::quality::{self, Flag, Listing, QualityError, Selection, signals};
use crate::results::{self, scan};
use crate::survey::{Audience, QuestionKind, Survey};
use crate::web::AppState;
use chrono::{DateTime, NaiveDateTime, Utc};

/// Answers per page of each list.
const PER_PAGE: u64 = 20;
/// Texts per page of the free-text list.
const TEXTS_PER_PAGE: usize = 100;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/campaigns/{id}/quality", show)
        .post("/console/campaigns/{id}/quality/exclude", exclude)
        .post("/console/campaigns/{id}/quality/restore", restore)
        .post("/console/campaigns/{id}/quality/bulk", bulk)
        .get("/console/campaigns/{id}/texts", texts);
}

/// The campaign, its survey and what each of its schools may be called on a page: a school of
/// a teachers' survey with fewer than 5 included answers is not named
/// ([`results::shown_alone`]).
struct CampaignContext {
    campaign: entity::campaign::Model,
    survey: Survey,
    /// School id → "code name", only for schools that may be shown on their own.
    named: HashMap<i32, String>,
}

async fn context(state: &AppState, id: i32) -> Result<CampaignContext, ConsoleError> {
    let campaign = campaigns::find(&state.db, id)
        .await
        .map_err(|error| match error {
            campaigns::CampaignError::NotFound(_) => ConsoleError::not_found(),
            other => ConsoleError::internal(other),
        })?;
    let survey = campaigns::load_version(&state.db, campaign.survey_version_id)
        .await?
        .ok_or_else(|| ConsoleError::internal("the campaign's survey version is missing"))?;
    let links = campaigns::links_with_schools(&state.db, id)
        .await
        .map_err(ConsoleError::internal)?;
    let named = links
        .into_iter()
        .filter(|(link, _)| {
            results::shown_alone(
                survey.audience,
                u64::try_from(link.response_count).unwrap_or(0),
            )
        })
        .map(|(_, school)| (school.id, format!("{} {}", school.code, school.name)))
        .collect();
    Ok(CampaignContext {
        campaign,
        survey,
        named,
    })
}

/// What a page says instead of a school it may not name.
const SCHOOL_NOT_SHOWN: &str = "（为保护教师匿名不显示学校）";

#[derive(Deserialize)]
struct QualityQuery {
    #[serde(default)]
    flag: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    excluded_page: String,
    #[serde(default)]
    done: String,
    /// What a bulk action did (`done=bulk`): its verb and counts, for the notice.
    #[serde(default)]
    verb: String,
    #[serde(default)]
    matched: String,
    #[serde(default)]
    changed: String,
    #[serde(default)]
    before: String,
    #[serde(default)]
    after: String,
    /// The bulk form filled in from a suspicious school's row.
    #[serde(default)]
    school: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

#[derive(Serialize)]
struct FlagRow {
    slug: &'static str,
    label: &'static str,
    explanation: String,
    included: u64,
    excluded: u64,
    selected: bool,
}

#[derive(Serialize)]
struct AnswerRow {
    id: i64,
    school: String,
    submitted: String,
    duration: String,
    flags: String,
    answers: Vec<(String, String)>,
}

#[derive(Serialize)]
struct ListView {
    rows: Vec<AnswerRow>,
    total: u64,
    page: u64,
    pages: u64,
    previous: Option<String>,
    next: Option<String>,
}

/// The bulk form's choices and what it was filled in with.
#[derive(Serialize)]
struct BulkView {
    schools: Vec<Choice>,
    flags: Vec<Choice>,
    since: String,
    until: String,
}

/// A school whose answers look wrong.
#[derive(Serialize)]
struct SignalRow {
    school: String,
    answers: u64,
    excluded: u64,
    expected: u64,
    peak: String,
    all_top_share: String,
    signals: String,
    /// The quality page with the bulk form set to this school's busiest hour.
    hold_url: String,
    chart: Option<super::reports::ChartView>,
}

#[derive(Serialize)]
struct SignalsView {
    rows: Vec<SignalRow>,
    county_all_top_share: String,
    answers: u64,
}

#[derive(Serialize)]
struct QualityView {
    campaign_id: i32,
    campaign_name: String,
    survey_title: String,
    audience: &'static str,
    /// A teachers' survey: its answers are never listed one by one.
    teachers: bool,
    notice: Option<String>,
    bulk: BulkView,
    signals: SignalsView,
    /// Which flags the `[quality]` policy leaves out of the figures.
    leave_out: String,
    flags: Vec<FlagRow>,
    flag: String,
    flag_label: Option<&'static str>,
    flagged_total: u64,
    excluded_total: u64,
    flagged: ListView,
    excluded: ListView,
}

fn page_number(text: &str) -> u64 {
    text.trim().parse::<u64>().unwrap_or(1).max(1)
}

fn quality_url(id: i32, flag: &str, page: u64, excluded_page: u64) -> String {
    let mut parts = Vec::new();
    if !flag.is_empty() {
        parts.push(format!("flag={flag}"));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if excluded_page > 1 {
        parts.push(format!("excluded_page={excluded_page}"));
    }
    let query = if parts.is_empty() {
        String::new()
    } else {
        format!("?{}", parts.join("&"))
    };
    format!("/console/campaigns/{id}/quality{query}")
}

fn answer_row(
    answer: &entity::response::Model,
    context: &CampaignContext,
    columns: &AnswerColumns,
) -> AnswerRow {
    AnswerRow {
        id: answer.id,
        school: context
            .named
            .get(&answer.school_id)
            .cloned()
            .unwrap_or_else(|| SCHOOL_NOT_SHOWN.to_owned()),
        submitted: campaigns::display_time_seconds(answer.submitted_at),
        duration: answer.duration_ms.map_or_else(
            || "—".to_owned(),
            |ms| format!("{} 秒", (ms as f64 / 1000.0).round()),
        ),
        flags: quality::parse_flags(answer.flags.as_deref())
            .into_iter()
            .map(Flag::label)
            .collect::<Vec<_>>()
            .join("、"),
        answers: columns.answer_pairs(answer),
    }
}

async fn show(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    query: web::Query<QualityQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let id = *id;
    let context = context(&state, id).await?;
    let flag = match query.flag.trim() {
        "" => None,
        slug => Some(
            Flag::parse(slug)
                .ok_or_else(|| ConsoleError::bad_request("没有这种答卷质量标记。".to_owned()))?,
        ),
    };
    let flag_slug = flag.map_or("", Flag::slug);
    let (page, excluded_page) = (page_number(&query.page), page_number(&query.excluded_page));
    let rules = &state.plan.rules.quality;
    let counts = quality::flag_counts(&state.db, id).await?;
    let columns = AnswerColumns::new(&context.survey, Values::Labels);
    // A teachers' answers are never listed one by one: only counted, and moved in bulk.
    let teachers = context.survey.audience == Audience::Teachers;

    let list =
        |rows: Vec<entity::response::Model>, total: u64, page: u64, url: &dyn Fn(u64) -> String| {
            let pages = total.div_ceil(PER_PAGE).max(1);
            ListView {
                rows: rows
                    .iter()
                    .map(|answer| answer_row(answer, &context, &columns))
                    .collect(),
                total,
                page,
                pages,
                previous: (page > 1).then(|| url(page - 1)),
                next: (page < pages).then(|| url(page + 1)),
            }
        };
    let db = &state.db;
    let listed = |listing, page| async move {
        if teachers {
            Ok((Vec::new(), 0))
        } else {
            quality::list_answers(db, id, listing, page, PER_PAGE).await
        }
    };
    let (rows, total) = listed(Listing::Flagged(flag), page).await?;
    let flagged = list(rows, total, page, &|page| {
        quality_url(id, flag_slug, page, excluded_page)
    });
    let (rows, total) = listed(Listing::Excluded, excluded_page).await?;
    let excluded = list(rows, total, excluded_page, &|excluded_page| {
        quality_url(id, flag_slug, page, excluded_page)
    });
    let found = signals::campaign_signals(&state.db, id, context.survey.audience).await?;

    let view = QualityView {
        campaign_id: id,
        campaign_name: context.campaign.name.clone(),
        survey_title: context.survey.title.clone(),
        audience: context.survey.audience.label(),
        teachers,
        notice: notice(&query),
        bulk: bulk_view(&context, &query),
        signals: signals_view(&found, id),
        leave_out: if rules.leave_out.is_empty() {
            "无（有标记的答卷照常计入）".to_owned()
        } else {
            rules
                .leave_out
                .iter()
                .map(|flag| flag.label())
                .collect::<Vec<_>>()
                .join("、")
        },
        flags: counts
            .by_flag
            .iter()
            .map(|(each, included, excluded)| FlagRow {
                slug: each.slug(),
                label: each.label(),
                explanation: each.explanation(rules),
                included: *included,
                excluded: *excluded,
                selected: Some(*each) == flag,
            })
            .collect(),
        flag: flag_slug.to_owned(),
        flag_label: flag.map(Flag::label),
        flagged_total: counts.flagged,
        excluded_total: counts.excluded,
        flagged,
        excluded,
    };
    let title = format!("{} · 答卷质量", context.campaign.name);
    staff.render(&state, "console/quality/show", &title, "campaigns", view)
}

/// What the page says after an action.
fn notice(query: &QualityQuery) -> Option<String> {
    let number = |text: &str| text.trim().parse::<u64>().unwrap_or(0);
    match query.done.as_str() {
        "excluded" => Some("已排除这份答卷：各项统计不再计入它。".to_owned()),
        "restored" => Some("已恢复这份答卷：各项统计重新计入它。".to_owned()),
        "unchanged" => Some("这份答卷已经是这个状态，没有改动。".to_owned()),
        "bulk" => {
            let verb = if query.verb == "exclude" {
                "排除"
            } else {
                "放行"
            };
            Some(format!(
                "符合条件的答卷 {} 份，{verb}了其中 {} 份；计入统计的答卷从 {} 份变为 {} 份。",
                number(&query.matched),
                number(&query.changed),
                number(&query.before),
                number(&query.after)
            ))
        }
        _ => None,
    }
}

/// `YYYY-MM-DDTHH:MM` (an `<input type="datetime-local">`), China time.
fn local_input(time: DateTime<Utc>) -> String {
    time.with_timezone(&campaigns::china_offset())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

fn parse_local_input(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let naive = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S"))
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M"))
        .ok()?;
    naive
        .and_local_timezone(campaigns::china_offset())
        .single()
        .map(|time| time.with_timezone(&Utc))
}

fn bulk_view(context: &CampaignContext, query: &QualityQuery) -> BulkView {
    let school = query.school.trim();
    let mut schools: Vec<Choice> = context
        .named
        .iter()
        .map(|(id, label)| Choice {
            value: id.to_string(),
            label: label.clone(),
            selected: id.to_string() == school,
        })
        .collect();
    schools.sort_by(|a, b| a.label.cmp(&b.label));
    let flag = query.flag.trim();
    BulkView {
        schools,
        flags: Flag::ALL
            .iter()
            .map(|each| Choice {
                value: each.slug().to_owned(),
                label: each.label().to_owned(),
                selected: each.slug() == flag,
            })
            .collect(),
        since: parse_local_input(&query.since)
            .map(local_input)
            .unwrap_or_default(),
        until: parse_local_input(&query.until)
            .map(local_input)
            .unwrap_or_default(),
    }
}

/// Most schools drawn on the page; the rest are listed without a chart.
const CHARTS_AT_MOST: usize = 8;

fn percent_of(share: Option<f64>) -> String {
    share.map_or_else(|| "—".to_owned(), crate::results::wording::percent)
}

fn signals_view(found: &signals::CampaignSignals, campaign_id: i32) -> SignalsView {
    let offset = campaigns::china_offset();
    let rows = found
        .listed
        .iter()
        .enumerate()
        .map(|(index, school)| {
            let label = format!("{} {}", school.school.code, school.school.name);
            let peak = school.peak();
            let peak_text = peak
                .and_then(|(hour, count)| {
                    let start = signals::hour_start(hour)?;
                    Some(format!(
                        "{} 起的一小时 {count} 份",
                        campaigns::display_time(start)
                    ))
                })
                .unwrap_or_else(|| "—".to_owned());
            let hold_url = peak
                .and_then(|(hour, _)| {
                    let (start, end) = (signals::hour_start(hour)?, signals::hour_start(hour + 1)?);
                    Some(format!(
                        "/console/campaigns/{campaign_id}/quality?school={}&since={}&until={}#bulk",
                        school.school.id,
                        local_input(start),
                        local_input(end)
                    ))
                })
                .unwrap_or_default();
            let chart = (index < CHARTS_AT_MOST)
                .then_some(found.span)
                .flatten()
                .and_then(|(first, last)| {
                    let counts: Vec<u64> = (first..=last)
                        .map(|hour| school.hourly.get(&hour).copied().unwrap_or(0))
                        .collect();
                    let days = (first..=last)
                        .enumerate()
                        .filter_map(|(place, hour)| {
                            let start = signals::hour_start(hour)?.with_timezone(&offset);
                            (start.format("%H").to_string() == "00" || place == 0)
                                .then(|| (place, start.format("%m-%d").to_string()))
                        })
                        .collect();
                    let level = ((school.expected as f64 * signals::BUNCHED_SHARE).ceil() as u64)
                        .max(signals::BUNCHED_AT_LEAST);
                    let chart = charts::hourly(
                        &format!("hourly-{}", school.school.id),
                        &format!("{label}：每小时答卷数"),
                        counts,
                        days,
                        Some((level, format!("集中提交提示线 {level} 份/小时"))),
                    );
                    super::reports::chart_views(&[chart], None, "").pop()
                });
            SignalRow {
                school: label,
                answers: school.answers,
                excluded: school.excluded,
                expected: school.expected,
                peak: peak_text,
                all_top_share: percent_of(school.all_top_share()),
                signals: school
                    .signals
                    .iter()
                    .map(|signal| signal.label())
                    .collect::<Vec<_>>()
                    .join("、"),
                hold_url,
                chart,
            }
        })
        .collect();
    SignalsView {
        rows,
        county_all_top_share: percent_of(found.county_all_top_share()),
        answers: found.answers,
    }
}

/// The exclude and restore buttons' form.
#[derive(Deserialize)]
struct AnswerForm {
    #[serde(default)]
    response: String,
}

async fn set_excluded(
    state: &AppState,
    staff: &Staff,
    id: i32,
    form: &AnswerForm,
    exclude: bool,
) -> Result<HttpResponse, ConsoleError> {
    let response_id: i64 = form
        .response
        .trim()
        .parse()
        .map_err(|_| ConsoleError::bad_request("没有指明要处理的答卷。".to_owned()))?;
    let actor = Actor::Account(&staff.account);
    let changed = quality::set_excluded(&state.context, actor, id, response_id, exclude)
        .await
        .map_err(|error| match error {
            QualityError::NotFound { .. } => ConsoleError::not_found(),
            other => ConsoleError::internal(other),
        })?;
    let done = match (changed, exclude) {
        (false, _) => "unchanged",
        (true, true) => "excluded",
        (true, false) => "restored",
    };
    Ok(see_other(&format!(
        "/console/campaigns/{id}/quality?done={done}"
    )))
}

async fn exclude(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    form: CsrfForm<AnswerForm>,
) -> Result<HttpResponse, ConsoleError> {
    set_excluded(&state, &staff, *id, &form, true).await
}

async fn restore(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    form: CsrfForm<AnswerForm>,
) -> Result<HttpResponse, ConsoleError> {
    set_excluded(&state, &staff, *id, &form, false).await
}

/// The bulk form: exclude or release every answer of a flag, a school's link and a window.
#[derive(Deserialize)]
struct BulkForm {
    #[serde(default)]
    action: String,
    #[serde(default)]
    flag: String,
    #[serde(default)]
    school: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
}

impl BulkForm {
    /// The selection, or what a person must fix.
    fn selection(&self, context: &CampaignContext) -> Result<(Selection, bool), String> {
        let exclude = match self.action.as_str() {
            "exclude" => true,
            "release" => false,
            _ => return Err("请选择“排除”或“放行”。".to_owned()),
        };
        let flag = match self.flag.trim() {
            "" => None,
            slug => Some(Flag::parse(slug).ok_or("没有这种答卷质量标记。")?),
        };
        let school_id = match self.school.trim() {
            "" => None,
            text => {
                let id: i32 = text
                    .parse()
                    .map_err(|_| "请从列表中选择学校。".to_owned())?;
                // A teachers' school of 1–4 answers is not on the list, nor to be chosen.
                if !context.named.contains_key(&id) {
                    return Err("这所学校不在本次活动中，或答卷太少不单独显示。".to_owned());
                }
                Some(id)
            }
        };
        let time = |text: &str, what: &str| match text.trim() {
            "" => Ok(None),
            text => parse_local_input(text).map(Some).ok_or_else(|| {
                format!("{what}“{text}”看不懂，请写成 2026-12-03T08:30 这样的北京时间。")
            }),
        };
        let since = time(&self.since, "开始时间")?;
        let until = time(&self.until, "结束时间")?;
        if let (Some(since), Some(until)) = (since, until)
            && since >= until
        {
            return Err("开始时间要早于结束时间。".to_owned());
        }
        let selection = Selection {
            flag,
            school_id,
            since,
            until,
            keys: None,
        };
        if selection == Selection::default() {
            return Err(
                "请至少选择一个条件（标记、学校或时段），以免误改整个活动的答卷。".to_owned(),
            );
        }
        Ok((selection, exclude))
    }
}

async fn bulk(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    form: CsrfForm<BulkForm>,
) -> Result<HttpResponse, ConsoleError> {
    let id = *id;
    let context = context(&state, id).await?;
    let (selection, exclude) = form
        .selection(&context)
        .map_err(ConsoleError::bad_request)?;
    let actor = Actor::Account(&staff.account);
    let outcome = quality::set_excluded_many(&state.context, actor, id, &selection, exclude)
        .await
        .map_err(ConsoleError::internal)?;
    let verb = if exclude { "exclude" } else { "release" };
    Ok(see_other(&format!(
        "/console/campaigns/{id}/quality?done=bulk&verb={verb}&matched={}&changed={}&before={}&after={}",
        outcome.matched, outcome.changed, outcome.included_before, outcome.included_after
    )))
}

// ------------------------------------------------------------------------------ free text

#[derive(Deserialize)]
struct TextsQuery {
    #[serde(default)]
    question: String,
    #[serde(default)]
    order: String,
    #[serde(default)]
    seed: String,
    #[serde(default)]
    page: String,
}

#[derive(Serialize)]
struct QuestionChoice {
    id: String,
    text: String,
    selected: bool,
}

#[derive(Serialize)]
struct TextRow {
    text: String,
    /// Empty when the school may not be named.
    school: String,
}

#[derive(Serialize)]
struct TextsView {
    campaign_id: i32,
    campaign_name: String,
    questions: Vec<QuestionChoice>,
    question: Option<String>,
    question_text: String,
    shuffled: bool,
    teachers: bool,
    total: usize,
    rows: Vec<TextRow>,
    page: usize,
    pages: usize,
    previous: Option<String>,
    next: Option<String>,
    shuffle_url: String,
    sorted_url: String,
}

/// A stable shuffle: the order of the keyed hashes (under the installation's secret key) of
/// `seed` and each text's place, so that the pages of one shuffle fit together while nobody —
/// not even someone who reads the seed in the address and counts the texts — can work back
/// from it to the order the texts came in.
fn shuffle<T>(items: &mut Vec<T>, key: &[u8], seed: &str) {
    let mut keyed: Vec<([u8; 32], T)> = items
        .drain(..)
        .enumerate()
        .map(|(place, item)| {
            let hash = crate::secrets::keyed_hash(key, &format!("texts:{seed}:{place}"));
            (hash, item)
        })
        .collect();
    keyed.sort_by_key(|(hash, _)| *hash);
    items.extend(keyed.into_iter().map(|(_, item)| item));
}

async fn texts(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    query: web::Query<TextsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let id = *id;
    let context = context(&state, id).await?;
    let chosen = query.question.trim();
    let questions: Vec<QuestionChoice> = context
        .survey
        .questions()
        .filter(|question| {
            matches!(
                question.kind,
                QuestionKind::Text { .. } | QuestionKind::LongText { .. }
            )
        })
        .map(|question| QuestionChoice {
            id: question.id.clone(),
            text: question.text.clone(),
            selected: question.id == chosen,
        })
        .collect();
    let question: Option<(String, String)> = if chosen.is_empty() {
        None
    } else {
        Some(
            questions
                .iter()
                .find(|question| question.id == chosen)
                .map(|question| (question.id.clone(), question.text.clone()))
                .ok_or_else(|| {
                    ConsoleError::bad_request(
                        "这份问卷没有这道填空题，请从列表中选择一道题。".to_owned(),
                    )
                })?,
        )
    };
    let shuffled = query.order.trim() != "text";
    let seed = match query.seed.trim() {
        "" => crate::secrets::random_key(),
        seed => seed
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .take(32)
            .collect(),
    };
    let page = query.page.trim().parse::<usize>().unwrap_or(1).max(1);
    let (question_id, question_text) = question.clone().unwrap_or_default();
    let mut rows: Vec<TextRow> = if question.is_some() {
        scan::texts_of(&state.db, id, &question_id)
            .await?
            .into_iter()
            .map(|(school, text)| TextRow {
                text,
                school: context.named.get(&school).cloned().unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    if shuffled {
        shuffle(&mut rows, &state.session_key, &seed);
    } else {
        rows.sort_by(|a, b| a.text.cmp(&b.text).then_with(|| a.school.cmp(&b.school)));
    }
    let total = rows.len();
    let pages = total.div_ceil(TEXTS_PER_PAGE).max(1);
    let page = page.min(pages);
    let url = |order: &str, page: usize| {
        let mut url = format!(
            "/console/campaigns/{id}/texts?question={}&order={order}",
            super::percent_encode(&question_id)
        );
        if order == "shuffle" {
            url.push_str(&format!("&seed={seed}"));
        }
        if page > 1 {
            url.push_str(&format!("&page={page}"));
        }
        url
    };
    let order = if shuffled { "shuffle" } else { "text" };
    let rows: Vec<TextRow> = rows
        .into_iter()
        .skip((page - 1) * TEXTS_PER_PAGE)
        .take(TEXTS_PER_PAGE)
        .collect();
    let view = TextsView {
        campaign_id: id,
        campaign_name: context.campaign.name.clone(),
        questions,
        question: question.map(|(id, _)| id),
        question_text,
        shuffled,
        teachers: context.survey.audience == Audience::Teachers,
        total,
        rows,
        page,
        pages,
        previous: (page > 1).then(|| url(order, page - 1)),
        next: (page < pages).then(|| url(order, page + 1)),
        shuffle_url: url("shuffle", 1),
        sorted_url: url("text", 1),
    };
    let title = format!("{} · 填空题回答", context.campaign.name);
    staff.render(&state, "console/quality/texts", &title, "campaigns", view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shuffle_is_stable_for_its_seed_and_keeps_every_item() {
        let items: Vec<u32> = (0..50).collect();
        let mut once = items.clone();
        shuffle(&mut once, b"secret", "abc");
        let mut again = items.clone();
        shuffle(&mut again, b"secret", "abc");
        assert_eq!(once, again);
        assert_ne!(once, items, "fifty items hardly stay in order");
        // The same seed under another key gives another order: the seed alone tells nothing.
        let mut other_key = items.clone();
        shuffle(&mut other_key, b"another", "abc");
        assert_ne!(other_key, once);
        let mut sorted = once.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, items);
    }
}
