//! A campaign's results in the console (`/console/campaigns/{id}/results`): counts and
//! satisfaction statistics per question and area, the indicators of a self-check per school,
//! and the rating one campaign's evidence allows, for all schools or a filtered few; and the
//! overall rating (`/console/assessment`) from the latest campaign of each audience.
//!
//! Supervisors and admins only. The handler reads the filter, calls `results` and turns its
//! figures into text for the template; the arithmetic and the queries live there.

use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::{ConsoleError, Staff};
use crate::accounts::Role;
use crate::rating::CountyWeighting;
use crate::rating::score::{CountyRating, Rated, SchoolRating};
use crate::results::indicators::IndicatorTable;
use crate::results::overall::RatingTable;
use crate::results::{
    self, Assessment, CampaignResults, QuestionResult, ResultsError, ResultsFilter, describe_rate,
    describe_score, percent,
};
use crate::schools::SchoolKind;
use crate::web::AppState;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/console/campaigns/{id}/results", web::get().to(show))
        .route("/console/assessment", web::get().to(assessment));
}

fn fault(error: ResultsError) -> ConsoleError {
    match error {
        ResultsError::NotFound(_) => ConsoleError::NotFound,
        other => ConsoleError::internal(other),
    }
}

#[derive(Deserialize)]
struct FilterQuery {
    #[serde(default)]
    school: String,
    #[serde(default)]
    township: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    key_village: String,
}

async fn show(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<i32>,
    query: web::Query<FilterQuery>,
) -> Result<HttpResponse, ConsoleError> {
    staff.require(Role::Supervisor)?;
    let filter = ResultsFilter::parse(
        &query.school,
        &query.township,
        &query.kind,
        &query.key_village,
    )
    .map_err(|error| ConsoleError::BadRequest(error.to_string()))?;
    let plan = &state.plan;
    let found = results::campaign_results(&state.db, plan, *id, &filter)
        .await
        .map_err(fault)?;
    let title = format!("{} · 结果", found.campaign.name);
    staff.render(
        &state,
        "console/results/show",
        &title,
        "campaigns",
        ResultsView::of(found, &filter, weighting_label(plan.rules.county_weighting)),
    )
}

/// The overall rating (综合评估) from the latest campaign of each audience.
async fn assessment(
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, ConsoleError> {
    staff.require(Role::Supervisor)?;
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
struct Choice {
    value: String,
    label: String,
    selected: bool,
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

fn grade_of(rated: &Rated) -> String {
    if rated.provisional {
        format!("待定（{}）", rated.possible_grades.join("或"))
    } else {
        rated.grade.clone()
    }
}

/// A school's rating as text: score with interval, grade (待定 when provisional), note.
fn describe_rating(rating: &SchoolRating) -> (String, String, bool, String) {
    match rating {
        SchoolRating::Rated(rated) => (
            describe_score(rated.score, Some(rated.interval)),
            grade_of(rated),
            rated.provisional,
            String::new(),
        ),
        SchoolRating::TooFewAnswers { short } => (
            "—".to_owned(),
            "答卷太少，暂不评定".to_owned(),
            false,
            short
                .iter()
                .map(|short| {
                    format!(
                        "{}需至少 {} 份，现有 {} 份",
                        short.source.label(),
                        short.needed,
                        short.answers
                    )
                })
                .collect::<Vec<_>>()
                .join("；"),
        ),
        SchoolRating::NoEvidence => (
            "—".to_owned(),
            "暂无可评定的内容".to_owned(),
            false,
            String::new(),
        ),
    }
}

/// The county's rating as text: score, grade and what it covers.
fn describe_county(county: &CountyRating) -> (String, String, String) {
    let (score, grade) = match &county.rated {
        Some(rated) => (
            describe_score(rated.score, Some(rated.interval)),
            grade_of(rated),
        ),
        None => ("—".to_owned(), "暂不评定".to_owned()),
    };
    let note = format!(
        "已评定 {} 所学校，未评定 {} 所；已评定学校的在校生占 {}。",
        county.schools_rated,
        county.schools_not_rated,
        percent(county.enrolment_covered)
    );
    (score, grade, note)
}

impl RatingView {
    fn of(table: RatingTable) -> RatingView {
        let schools = table
            .schools
            .into_iter()
            .map(|row| {
                let (score, grade, provisional, note) = describe_rating(&row.rating);
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
    minimum: u64,
    areas: Vec<AreaRow>,
    sections: Vec<SectionView>,
    indicators: Option<IndicatorTable>,
    rating: RatingView,
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
                score: area.estimate.map_or_else(
                    || "—".to_owned(),
                    |estimate| describe_score(estimate.value, area.interval),
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
            minimum: results.minimum,
            areas,
            sections,
            indicators: found.indicators,
            rating: RatingView::of(found.rating),
        }
    }
}
