//! A campaign's results in the console (`/console/campaigns/{id}/results`): counts and
//! satisfaction statistics per question and area, the indicators of a self-check per school,
//! and the rating one campaign's evidence allows, for all schools or a filtered few; and the
//! overall rating (`/console/assessment`) from the latest campaign of each audience.
//!
//! Supervisors and admins only. The handler reads the filter, calls `results` and turns its
//! figures into text for the template; the arithmetic and the queries live there.

use crate::web::routes::Routes;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::Choice;
use super::ConsoleError;
use super::guards::Supervisor;
use crate::rating::CountyWeighting;
use crate::rating::score::{CountyRating, SchoolRating};
use crate::results::FilterFields;
use crate::results::overall::RatingTable;
use crate::results::self_checks::IndicatorTable;
use crate::results::wording::{county_text, rating_text};
use crate::results::{
    self, Assessment, CampaignResults, QuestionResult, ResultsError, ResultsFilter, describe_rate,
    describe_score, percent,
};
use crate::schools::SchoolKind;
use crate::web::AppState;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/campaigns/{id}/results", show)
        .get("/console/assessment", assessment)
        .get("/console/method", method);
}

/// surveys/METHOD.md, rendered: the method every figure of the console links to.
async fn method(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
) -> Result<HttpResponse, ConsoleError> {
    #[derive(Serialize)]
    struct MethodView {
        html: &'static str,
    }
    staff.render(
        &state,
        "console/results/method",
        "统计方法",
        "campaigns",
        MethodView {
            html: crate::reports::method::html(),
        },
    )
}

/// A results failure as the console answers it (the results page, its charts, the reports):
/// what anonymity withholds is said in words, an unknown campaign is a 404, the rest a 500.
pub(super) fn fault(error: ResultsError) -> ConsoleError {
    match error {
        ResultsError::NotFound(_) => ConsoleError::not_found(),
        ResultsError::TooFewTeachers => {
            ConsoleError::bad_request(results::TEACHERS_TOO_FEW.to_owned())
        }
        ResultsError::TeachersByDate => ConsoleError::bad_request(results::TEACHERS_BY_DATE),
        other => ConsoleError::internal(other),
    }
}

#[derive(Deserialize)]
struct FilterQuery {
    #[serde(flatten)]
    filter: FilterFields,
    /// The comparison of two groups: `key_village`, `township` or `kind`, with `a` and `b`.
    #[serde(default)]
    compare: String,
    #[serde(default)]
    a: String,
    #[serde(default)]
    b: String,
}

async fn show(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    query: web::Query<FilterQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let filter = query
        .filter
        .parse()
        .map_err(|error| ConsoleError::bad_request(error.to_string()))?;
    let plan = &state.plan;
    let found = results::campaign_results(&state.db, plan, *id, &filter)
        .await
        .map_err(fault)?;
    let comparison = CompareSection::of(&state, &found, &filter, &query).await?;
    let title = format!("{} · 结果", found.campaign.name);
    // The charts section: src/web/console/reports.rs.
    let charts = super::reports::results_charts(&state, &found, &filter).await?;
    let mut view = ResultsView::of(found, &filter, weighting_label(plan.rules.county_weighting));
    view.charts = charts;
    view.comparison = comparison;
    staff.render(&state, "console/results/show", &title, "campaigns", view)
}

/// The overall rating (综合评估) from the latest campaign of each audience.
async fn assessment(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
) -> Result<HttpResponse, ConsoleError> {
    let plan = &state.plan;
    let found = results::assessment(&state.db, plan).await.map_err(fault)?;
    staff.render(
        &state,
        "console/results/assessment",
        "综合评估",
        "campaigns",
        AssessmentView::of(found, weighting_label(plan.rules.county_weighting)),
    )
}

/// How the county's score weighs its schools, as the tables' footer says it.
fn weighting_label(weighting: CountyWeighting) -> &'static str {
    match weighting {
        CountyWeighting::Enrolment => "按在校生数加权",
        CountyWeighting::Equal => "每所学校同等权重",
    }
}

#[derive(Serialize)]
struct UsedCampaignRow {
    id: i32,
    name: String,
    source: &'static str,
    survey_title: String,
    left_out: String,
}

#[derive(Serialize)]
struct SourceCell {
    source: &'static str,
    answers: u64,
    expected: u64,
    response_rate: String,
}

#[derive(Serialize)]
struct CombinedRowView {
    code: String,
    name: String,
    township: String,
    sources: Vec<SourceCell>,
    score: String,
    grade: String,
    provisional: bool,
    note: String,
}

#[derive(Serialize)]
struct AssessmentView {
    weighting: &'static str,
    campaigns: Vec<UsedCampaignRow>,
    schools: Vec<CombinedRowView>,
    county_score: String,
    county_grade: String,
    county_note: String,
}

impl AssessmentView {
    fn of(found: Assessment, weighting: &'static str) -> AssessmentView {
        let campaigns = found
            .campaigns
            .into_iter()
            .map(|used| UsedCampaignRow {
                id: used.id,
                name: used.name,
                source: used.source.label(),
                survey_title: used.survey_title,
                left_out: used.left_out.describe(),
            })
            .collect();
        let schools = found
            .table
            .schools
            .into_iter()
            .map(|row| {
                let (score, grade, provisional, note) = describe_rating(&row.rating);
                CombinedRowView {
                    code: row.code,
                    name: row.name,
                    township: row.township,
                    sources: row
                        .sources
                        .into_iter()
                        .map(|count| SourceCell {
                            source: count.source.label(),
                            answers: count.answers,
                            expected: count.expected,
                            response_rate: count
                                .response_rate
                                .map_or_else(|| "—".to_owned(), percent),
                        })
                        .collect(),
                    score,
                    grade,
                    provisional,
                    note,
                }
            })
            .collect();
        let (county_score, county_grade, county_note) = describe_county(&found.table.county);
        AssessmentView {
            weighting,
            campaigns,
            schools,
            county_score,
            county_grade,
            county_note,
        }
    }
}

#[derive(Serialize)]
struct FilterView {
    schools: Vec<Choice>,
    townships: Vec<Choice>,
    kinds: Vec<Choice>,
    key_villages: Vec<Choice>,
    is_all: bool,
}

impl FilterView {
    fn of(found: &CampaignResults, filter: &ResultsFilter) -> FilterView {
        let schools = found
            .schools
            .iter()
            .map(|school| Choice {
                value: school.id.to_string(),
                label: format!("{} {}", school.code, school.name),
                selected: filter.school == Some(school.id),
            })
            .collect();
        let mut townships: Vec<&str> = found
            .schools
            .iter()
            .map(|school| school.township.as_str())
            .collect();
        townships.sort_unstable();
        townships.dedup();
        let townships = townships
            .into_iter()
            .map(|township| Choice {
                value: township.to_owned(),
                label: township.to_owned(),
                selected: filter.township.as_deref() == Some(township),
            })
            .collect();
        let kinds = SchoolKind::ALL
            .into_iter()
            .map(|kind| Choice {
                value: kind.label().to_owned(),
                label: kind.label().to_owned(),
                selected: filter.kind == Some(kind),
            })
            .collect();
        let key_villages = [("yes", "重点村学校", true), ("no", "非重点村学校", false)]
            .into_iter()
            .map(|(value, label, flag)| Choice {
                value: value.to_owned(),
                label: label.to_owned(),
                selected: filter.key_village == Some(flag),
            })
            .collect();
        FilterView {
            schools,
            townships,
            kinds,
            key_villages,
            is_all: filter.is_all(),
        }
    }
}

#[derive(Serialize)]
struct AreaRow {
    label: &'static str,
    questions: usize,
    n: u64,
    score: String,
    too_few: bool,
}

/// A number question of a self-check over the schools counted.
#[derive(Serialize)]
struct NumberRow {
    text: String,
    unit: String,
    n: u64,
    sum: String,
    mean: String,
    median: String,
    min: String,
    max: String,
}

impl NumberRow {
    fn of(summary: &crate::results::numbers::NumberSummary) -> NumberRow {
        let shown = |value: Option<f64>| {
            value.map_or_else(|| "—".to_owned(), crate::rating::indicators::format_number)
        };
        NumberRow {
            text: summary.text.clone(),
            unit: summary.unit.clone().unwrap_or_default(),
            n: summary.n,
            sum: shown(summary.sum),
            mean: shown(summary.mean),
            median: shown(summary.median),
            min: shown(summary.min),
            max: shown(summary.max),
        }
    }
}

#[derive(Serialize)]
struct OptionRow {
    label: String,
    count: u64,
    percent: String,
}

#[derive(Serialize)]
struct QuestionView {
    text: String,
    multiple: bool,
    n: u64,
    options: Vec<OptionRow>,
    /// Empty when the question has no satisfaction rate.
    rate: String,
    /// Empty when the question has no index.
    index: String,
    /// A 0–10 rating's mean with its interval; empty for other kinds.
    mean: String,
    too_few: bool,
}

impl QuestionView {
    fn of(question: QuestionResult) -> QuestionView {
        let summary = question.satisfaction.as_ref();
        QuestionView {
            rate: summary.and_then(describe_rate).unwrap_or_default(),
            index: summary
                .and_then(|summary| Some(describe_score(summary.index?, summary.index_interval)))
                .unwrap_or_default(),
            mean: summary
                .filter(|_| question.kind == "rating")
                .map(|summary| describe_score(summary.mean, summary.mean_interval))
                .unwrap_or_default(),
            text: question.text,
            multiple: question.multiple,
            n: question.n,
            too_few: question.too_few,
            options: question
                .options
                .into_iter()
                .map(|option| OptionRow {
                    label: option.label,
                    count: option.count,
                    percent: option.share.map_or_else(|| "—".to_owned(), percent),
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct SectionView {
    title: String,
    area: &'static str,
    questions: Vec<QuestionView>,
}

#[derive(Serialize)]
struct RatingRow {
    code: String,
    name: String,
    township: String,
    answers: u64,
    expected: u64,
    response_rate: String,
    score: String,
    grade: String,
    provisional: bool,
    note: String,
}

#[derive(Serialize)]
struct RatingView {
    source: &'static str,
    schools: Vec<RatingRow>,
    county_score: String,
    county_grade: String,
    county_note: String,
}

/// A school's rating as text: score with interval, grade and why (`results::wording`).
fn describe_rating(rating: &SchoolRating) -> (String, String, bool, String) {
    let text = rating_text(rating);
    (text.score, text.grade, text.provisional, text.note)
}

/// The county's rating as text: score, grade and what it covers (`results::wording`).
fn describe_county(county: &CountyRating) -> (String, String, String) {
    let text = county_text(county);
    (text.score, text.grade, text.note)
}

impl RatingView {
    fn of(table: RatingTable) -> RatingView {
        let schools = table
            .schools
            .into_iter()
            .map(|row| {
                let (score, grade, provisional, note) = if row.shown_alone {
                    describe_rating(&row.rating)
                } else {
                    (
                        "—".to_owned(),
                        "不单独显示".to_owned(),
                        false,
                        results::TEACHERS_TOO_FEW.to_owned(),
                    )
                };
                RatingRow {
                    code: row.code,
                    name: row.name,
                    township: row.township,
                    answers: row.answers,
                    expected: row.expected,
                    response_rate: row.response_rate.map_or_else(|| "—".to_owned(), percent),
                    score,
                    grade,
                    provisional,
                    note,
                }
            })
            .collect();
        let (county_score, county_grade, county_note) = describe_county(&table.county);
        RatingView {
            source: table.source.label(),
            schools,
            county_score,
            county_grade,
            county_note,
        }
    }
}

#[derive(Serialize)]
struct ResultsView {
    weighting: &'static str,
    campaign_id: i32,
    campaign_name: String,
    survey_title: String,
    audience: &'static str,
    filter: FilterView,
    schools_counted: usize,
    responses: u64,
    /// The answers no figure here counts, and why (`无` or `3 份（…）`).
    left_out: String,
    left_out_count: u64,
    minimum: u64,
    /// The population of the schools counted, or `—`.
    population: String,
    /// The questionnaire's overall index with its interval, or `—`.
    overall: String,
    areas: Vec<AreaRow>,
    sections: Vec<SectionView>,
    indicators: Option<IndicatorTable>,
    numbers: Vec<NumberRow>,
    rating: RatingView,
    /// The charts section (src/web/console/reports.rs), filled in by `show`.
    charts: Vec<super::reports::ChartView>,
    /// The date filter and the comparison of two groups, filled in by `show`.
    comparison: CompareSection,
}

impl ResultsView {
    fn of(found: CampaignResults, filter: &ResultsFilter, weighting: &'static str) -> ResultsView {
        let filter_view = FilterView::of(&found, filter);
        let results = found.results;
        let areas = results
            .areas
            .iter()
            .map(|area| AreaRow {
                label: area.area.label(),
                questions: area.questions,
                n: area.n,
                score: area.mean.map_or_else(
                    || "—".to_owned(),
                    |mean| describe_score(mean, area.interval),
                ),
                too_few: area.too_few,
            })
            .collect();
        let sections = results
            .sections
            .into_iter()
            .map(|section| SectionView {
                title: section.title,
                area: section.area.label(),
                questions: section
                    .questions
                    .into_iter()
                    .map(QuestionView::of)
                    .collect(),
            })
            .collect();
        ResultsView {
            weighting,
            campaign_id: found.campaign.id,
            campaign_name: found.campaign.name,
            survey_title: found.survey.title,
            audience: found.survey.audience.label(),
            filter: filter_view,
            schools_counted: found.schools_counted,
            responses: results.responses,
            left_out: found.left_out.describe(),
            left_out_count: found.left_out.count,
            minimum: results.needed,
            population: results
                .population
                .map_or_else(|| "—".to_owned(), |population| population.to_string()),
            overall: results.overall.map_or_else(
                || "—".to_owned(),
                |overall| describe_score(overall.value, results.overall_interval),
            ),
            areas,
            sections,
            indicators: found.indicators,
            numbers: found.numbers.iter().flatten().map(NumberRow::of).collect(),
            rating: RatingView::of(found.rating),
            charts: Vec::new(),
            comparison: CompareSection::default(),
        }
    }
}

// ------------------------------------------------------------- dates and group comparison

/// The date filter's fields and the comparison of two groups, for the results page.
#[derive(Default, Serialize)]
struct CompareSection {
    from: String,
    to: String,
    /// The comparison form's choices.
    by: String,
    townships: Vec<Choice>,
    townships_b: Vec<Choice>,
    kinds: Vec<Choice>,
    kinds_b: Vec<Choice>,
    /// Why the comparison could not be made.
    refused: Option<String>,
    result: Option<ComparedView>,
}

#[derive(Serialize)]
struct ComparedView {
    a_label: String,
    b_label: String,
    a_schools: usize,
    b_schools: usize,
    a_responses: u64,
    b_responses: u64,
    areas: Vec<ComparedRowView>,
    questions: Vec<ComparedRowView>,
}

#[derive(Serialize)]
struct ComparedRowView {
    label: String,
    a: String,
    b: String,
    /// The p-value in words; empty when the groups cannot be compared.
    sentence: String,
    clear: bool,
    /// For questions: the indices and their comparison.
    a_index: String,
    b_index: String,
    index_sentence: String,
}

fn figure_text(figure: Option<results::groups::Figure>, as_rate: bool) -> String {
    let Some(figure) = figure else {
        return "—".to_owned();
    };
    let shown = |value: f64| {
        if as_rate {
            percent(value)
        } else {
            format!("{:.1}", (value * 10.0).round() / 10.0)
        }
    };
    match figure.interval {
        Some(interval) if interval.high > interval.low => format!(
            "{}（{}–{}，n = {}）",
            shown(figure.value),
            shown(interval.low),
            shown(interval.high),
            figure.n
        ),
        _ => format!("{}（n = {}）", shown(figure.value), figure.n),
    }
}

fn sentence_of(comparison: Option<&crate::rating::compare::Comparison>) -> (String, bool) {
    comparison.map_or_else(
        || ("答卷太少，无法比较".to_owned(), false),
        |comparison| (comparison.sentence.clone(), comparison.clear),
    )
}

impl ComparedView {
    fn of(found: results::groups::GroupComparison) -> ComparedView {
        let areas = found
            .areas
            .iter()
            .map(|area| {
                let (sentence, clear) = sentence_of(area.comparison.as_ref());
                ComparedRowView {
                    label: area.area.label().to_owned(),
                    a: figure_text(area.a, false),
                    b: figure_text(area.b, false),
                    sentence,
                    clear,
                    a_index: String::new(),
                    b_index: String::new(),
                    index_sentence: String::new(),
                }
            })
            .collect();
        let questions = found
            .questions
            .iter()
            .map(|question| {
                let (sentence, clear) = sentence_of(question.rate.as_ref());
                ComparedRowView {
                    label: question.text.clone(),
                    a: figure_text(question.a_rate, true),
                    b: figure_text(question.b_rate, true),
                    sentence,
                    clear,
                    a_index: figure_text(question.a_index, false),
                    b_index: figure_text(question.b_index, false),
                    index_sentence: sentence_of(question.index.as_ref()).0,
                }
            })
            .collect();
        ComparedView {
            a_label: found.a_label,
            b_label: found.b_label,
            a_schools: found.a_schools,
            b_schools: found.b_schools,
            a_responses: found.a_responses,
            b_responses: found.b_responses,
            areas,
            questions,
        }
    }
}

impl CompareSection {
    async fn of(
        state: &AppState,
        found: &CampaignResults,
        filter: &ResultsFilter,
        query: &FilterQuery,
    ) -> Result<CompareSection, ConsoleError> {
        let mut townships: Vec<&str> = found
            .schools
            .iter()
            .map(|school| school.township.as_str())
            .collect();
        townships.sort_unstable();
        townships.dedup();
        let choices = |values: &[&str], selected: &str| -> Vec<Choice> {
            values
                .iter()
                .map(|value| Choice {
                    value: (*value).to_owned(),
                    label: (*value).to_owned(),
                    selected: *value == selected,
                })
                .collect()
        };
        let kinds: Vec<&str> = SchoolKind::ALL.iter().map(|kind| kind.label()).collect();
        let (a, b) = (query.a.trim(), query.b.trim());
        let by = query.compare.trim();
        let mut section = CompareSection {
            from: filter
                .dates
                .from
                .map(|day| day.to_string())
                .unwrap_or_default(),
            to: filter
                .dates
                .to
                .map(|day| day.to_string())
                .unwrap_or_default(),
            by: by.to_owned(),
            townships: choices(&townships, if by == "township" { a } else { "" }),
            townships_b: choices(&townships, if by == "township" { b } else { "" }),
            kinds: choices(&kinds, if by == "kind" { a } else { "" }),
            kinds_b: choices(&kinds, if by == "kind" { b } else { "" }),
            refused: None,
            result: None,
        };
        if found.indicators.is_some() {
            return Ok(section);
        }
        let group_by = match results::groups::GroupBy::parse(by, a, b) {
            Ok(Some(group_by)) => group_by,
            Ok(None) => return Ok(section),
            Err(error) => {
                section.refused = Some(error.to_string());
                return Ok(section);
            }
        };
        match results::groups::compare_groups(
            &state.db,
            &state.plan,
            found.campaign.id,
            &group_by,
            filter.dates,
        )
        .await
        {
            Ok(compared) => section.result = Some(ComparedView::of(compared)),
            Err(ResultsError::TooFewTeachers) => {
                section.refused =
                    Some("为保护教师匿名，答卷少于 5 份的一组不单独显示，无法比较。".to_owned());
            }
            Err(other) => return Err(fault(other)),
        }
        Ok(section)
    }
}
