//! The shapes the API answers with, built from the domain's figures without computing anything
//! anew: a number stays a number, an interval is `{"low", "high"}`, a missing estimate is
//! `null` (never 0), a time is RFC 3339 in UTC. These structs are the API's contract, written
//! out here (and in `openapi.json`) rather than serialising domain types whose fields may move.

use chrono::{DateTime, SecondsFormat, Utc};
use entity::school;
use serde::Serialize;

use crate::campaigns::{self, CampaignSummary, RateTotal, SchoolRate, TownshipRate};
use crate::rating::CountyWeighting;
use crate::rating::satisfaction::Satisfaction;
use crate::rating::score::{CountyRating, CoverageNote, Rated, SchoolRating};
use crate::rating::stats::{Estimate, Interval};
use crate::results::numbers::NumberSummary;
use crate::results::overall::{CombinedRow, RatingTable, SchoolRatingRow, SourceCount};
use crate::results::self_checks::IndicatorTable;
use crate::results::{AreaResult, OptionCount, QuestionResult, ResultsFilter, SectionResult};
use crate::survey::Area;

pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct IntervalView {
    pub low: f64,
    pub high: f64,
}

impl From<Interval> for IntervalView {
    fn from(interval: Interval) -> Self {
        IntervalView {
            low: interval.low,
            high: interval.high,
        }
    }
}

/// A share of answers against expected as 0–1, from the domain's percentage.
fn rate_of(percent: Option<f64>) -> Option<f64> {
    percent.map(|percent| percent / 100.0)
}

#[derive(Serialize)]
pub struct SurveyRef {
    pub id: String,
    pub title: String,
}

#[derive(Serialize)]
pub struct CampaignView {
    pub id: i32,
    pub name: String,
    pub survey: SurveyRef,
    /// `parents`, `teachers`, `students` or `school`; `null` if the stored survey is unreadable.
    pub audience: Option<&'static str>,
    /// As set by hand: `draft`, `open`, `closed`.
    pub status: String,
    /// Whether it takes answers now: `open`, `draft`, `pending` (not yet open), `closed`.
    pub availability: &'static str,
    pub opens_at: Option<String>,
    pub closes_at: Option<String>,
    pub created_at: String,
    pub schools: usize,
    pub responses: i64,
    pub expected: i64,
    pub response_rate: Option<f64>,
}

impl CampaignView {
    pub fn of(summary: CampaignSummary, survey_id: String, now: DateTime<Utc>) -> CampaignView {
        let campaign = summary.campaign;
        CampaignView {
            availability: campaigns::availability(&campaign, now).slug(),
            id: campaign.id,
            survey: SurveyRef {
                id: survey_id,
                title: summary.survey_title,
            },
            audience: summary.audience.map(|audience| audience.slug()),
            status: campaign.status,
            opens_at: campaign.opens_at.map(rfc3339),
            closes_at: campaign.closes_at.map(rfc3339),
            created_at: rfc3339(campaign.created_at),
            schools: summary.total.schools,
            responses: summary.total.answers,
            expected: summary.total.expected,
            response_rate: rate_of(summary.total.percent()),
            name: campaign.name,
        }
    }
}

#[derive(Serialize)]
pub struct CampaignList {
    pub campaigns: Vec<CampaignView>,
}

// ------------------------------------------------------------------------------------ schools

#[derive(Serialize)]
pub struct SchoolView {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub kind: String,
    pub central: bool,
    pub key_village: bool,
    pub enrolment: i32,
    pub teachers: i32,
}

impl From<school::Model> for SchoolView {
    fn from(school: school::Model) -> Self {
        SchoolView {
            id: school.id,
            code: school.code,
            name: school.name,
            township: school.township,
            kind: school.kind,
            central: school.is_central,
            key_village: school.is_key_village,
            enrolment: school.enrolment,
            teachers: school.teachers,
        }
    }
}

#[derive(Serialize)]
pub struct SchoolList {
    pub schools: Vec<SchoolView>,
}

// -------------------------------------------------------------------------------------- rates

#[derive(Serialize)]
pub struct SchoolRateView {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub answers: i64,
    pub expected: i64,
    pub response_rate: Option<f64>,
}

impl From<SchoolRate> for SchoolRateView {
    fn from(rate: SchoolRate) -> Self {
        SchoolRateView {
            response_rate: rate_of(rate.percent()),
            school_id: rate.school_id,
            code: rate.code,
            name: rate.name,
            township: rate.township,
            answers: rate.answers,
            expected: rate.expected,
        }
    }
}

#[derive(Serialize)]
pub struct TotalView {
    pub schools: usize,
    pub answers: i64,
    pub expected: i64,
    pub response_rate: Option<f64>,
}

impl From<RateTotal> for TotalView {
    fn from(total: RateTotal) -> Self {
        TotalView {
            schools: total.schools,
            answers: total.answers,
            expected: total.expected,
            response_rate: rate_of(total.percent()),
        }
    }
}

#[derive(Serialize)]
pub struct TownshipRateView {
    pub township: String,
    #[serde(flatten)]
    pub total: TotalView,
}

impl From<TownshipRate> for TownshipRateView {
    fn from(rate: TownshipRate) -> Self {
        TownshipRateView {
            township: rate.township,
            total: rate.total.into(),
        }
    }
}

#[derive(Serialize)]
pub struct RatesView {
    pub campaign: CampaignView,
    pub schools: Vec<SchoolRateView>,
    pub townships: Vec<TownshipRateView>,
    pub county: TotalView,
}

// ------------------------------------------------------------------------------------ results

#[derive(Serialize)]
pub struct FilterView {
    pub school: Option<i32>,
    pub township: Option<String>,
    pub kind: Option<&'static str>,
    pub key_village: Option<bool>,
    /// The first and last day of the answers counted (China time, `2026-11-01`).
    pub from: Option<String>,
    pub to: Option<String>,
}

impl From<&ResultsFilter> for FilterView {
    fn from(filter: &ResultsFilter) -> Self {
        FilterView {
            school: filter.school,
            township: filter.township.clone(),
            kind: filter.kind.map(|kind| kind.label()),
            key_village: filter.key_village,
            from: filter.dates.from.map(|day| day.to_string()),
            to: filter.dates.to.map(|day| day.to_string()),
        }
    }
}

#[derive(Serialize)]
pub struct AreaView {
    pub area: &'static str,
    pub label: &'static str,
    /// Scored questions of the survey in the area (a matrix counts once).
    pub questions: usize,
    /// Respondents with a score in the area.
    pub n: u64,
    /// The respondents' mean area score, 0–100.
    pub index: Option<f64>,
    pub sd: Option<f64>,
    pub standard_error: Option<f64>,
    pub df: Option<f64>,
    pub index_interval: Option<IntervalView>,
    pub too_few: bool,
}

impl From<AreaResult> for AreaView {
    fn from(area: AreaResult) -> Self {
        AreaView {
            area: area.area.slug(),
            label: area.area.label(),
            questions: area.questions,
            n: area.n,
            index: area.mean,
            sd: area.sd,
            standard_error: area.estimate.map(|estimate| estimate.standard_error),
            df: area.estimate.and_then(|estimate| estimate.df),
            index_interval: area.interval.map(Into::into),
            too_few: area.too_few,
        }
    }
}

/// An estimate with its standard error, degrees of freedom and interval.
#[derive(Serialize)]
pub struct EstimateView {
    pub value: f64,
    pub standard_error: f64,
    pub df: Option<f64>,
    pub interval: Option<IntervalView>,
}

impl EstimateView {
    pub fn of(estimate: Estimate, interval: Option<Interval>) -> EstimateView {
        EstimateView {
            value: estimate.value,
            standard_error: estimate.standard_error,
            df: estimate.df,
            interval: interval.map(Into::into),
        }
    }
}

/// One number question of a self-check over schools.
#[derive(Serialize)]
pub struct NumberView {
    pub key: String,
    pub text: String,
    pub unit: Option<String>,
    pub decimal: bool,
    pub n: u64,
    pub sum: Option<f64>,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub schools: Vec<SchoolNumberView>,
}

#[derive(Serialize)]
pub struct SchoolNumberView {
    pub school_id: i32,
    pub code: String,
    pub value: Option<f64>,
}

impl From<NumberSummary> for NumberView {
    fn from(summary: NumberSummary) -> Self {
        NumberView {
            key: summary.key,
            text: summary.text,
            unit: summary.unit,
            decimal: summary.decimal,
            n: summary.n,
            sum: summary.sum,
            mean: summary.mean,
            median: summary.median,
            min: summary.min,
            max: summary.max,
            schools: summary
                .schools
                .into_iter()
                .map(|school| SchoolNumberView {
                    school_id: school.school_id,
                    code: school.code,
                    value: school.value,
                })
                .collect(),
        }
    }
}

#[derive(Serialize)]
pub struct OptionView {
    pub code: String,
    pub label: String,
    pub count: u64,
    pub share: Option<f64>,
}

impl From<OptionCount> for OptionView {
    fn from(option: OptionCount) -> Self {
        OptionView {
            code: option.code,
            label: option.label,
            count: option.count,
            share: option.share,
        }
    }
}

#[derive(Serialize)]
pub struct SatisfactionView {
    /// Answers on a scored option.
    pub n: u64,
    pub satisfied: u64,
    /// 满意率, 0–1, with its 95% Wilson interval.
    pub rate: Option<f64>,
    pub rate_interval: Option<IntervalView>,
    /// 满意度指数, 0–100, with its 95% t interval.
    pub index: Option<f64>,
    pub index_sd: Option<f64>,
    pub index_standard_error: Option<f64>,
    pub index_interval: Option<IntervalView>,
    pub mean: f64,
    pub sd: Option<f64>,
    pub mean_interval: Option<IntervalView>,
}

impl From<Satisfaction> for SatisfactionView {
    fn from(summary: Satisfaction) -> Self {
        SatisfactionView {
            n: summary.n,
            satisfied: summary.satisfied,
            rate: summary.rate,
            rate_interval: summary.rate_interval.map(Into::into),
            index: summary.index,
            index_sd: summary.index_sd,
            index_standard_error: summary.index_standard_error,
            index_interval: summary.index_interval.map(Into::into),
            mean: summary.mean,
            sd: summary.sd,
            mean_interval: summary.mean_interval.map(Into::into),
        }
    }
}

#[derive(Serialize)]
pub struct QuestionView {
    pub key: String,
    pub text: String,
    pub kind: &'static str,
    pub scored: bool,
    pub multiple: bool,
    pub n: u64,
    pub too_few: bool,
    pub options: Vec<OptionView>,
    pub satisfaction: Option<SatisfactionView>,
}

impl From<QuestionResult> for QuestionView {
    fn from(question: QuestionResult) -> Self {
        QuestionView {
            key: question.key,
            text: question.text,
            kind: question.kind,
            scored: question.scored,
            multiple: question.multiple,
            n: question.n,
            too_few: question.too_few,
            options: question.options.into_iter().map(Into::into).collect(),
            satisfaction: question.satisfaction.map(Into::into),
        }
    }
}

#[derive(Serialize)]
pub struct SectionView {
    pub title: String,
    pub area: &'static str,
    pub area_label: &'static str,
    pub questions: Vec<QuestionView>,
}

impl From<SectionResult> for SectionView {
    fn from(section: SectionResult) -> Self {
        SectionView {
            title: section.title,
            area: section.area.slug(),
            area_label: section.area.label(),
            questions: section.questions.into_iter().map(Into::into).collect(),
        }
    }
}

/// A grade with its score and interval.
#[derive(Serialize)]
pub struct RatedView {
    pub score: f64,
    pub standard_error: f64,
    pub df: Option<f64>,
    pub interval: IntervalView,
    pub grade: String,
    pub provisional: bool,
    pub possible_grades: Vec<String>,
    pub low_coverage: Vec<CoverageView>,
}

impl From<&Rated> for RatedView {
    fn from(rated: &Rated) -> Self {
        RatedView {
            score: rated.score,
            standard_error: rated.standard_error,
            df: rated.df,
            interval: rated.interval.into(),
            grade: rated.grade.clone(),
            provisional: rated.provisional,
            possible_grades: rated.possible_grades.clone(),
            low_coverage: rated.low_coverage.iter().map(Into::into).collect(),
        }
    }
}

/// A source whose response rate is below the coverage floor.
#[derive(Serialize)]
pub struct CoverageView {
    pub source: &'static str,
    pub answers: u64,
    pub population: u64,
    pub rate: f64,
    pub floor: f64,
}

impl From<&CoverageNote> for CoverageView {
    fn from(note: &CoverageNote) -> Self {
        CoverageView {
            source: note.source.slug(),
            answers: note.answers,
            population: note.population,
            rate: note.rate,
            floor: note.floor,
        }
    }
}

#[derive(Serialize)]
pub struct ShortView {
    pub source: &'static str,
    pub answers: u64,
    pub needed: u64,
    pub population: Option<u64>,
}

/// A school's rating: `rated` (score, interval, grade), `too_few_answers` (which sources are
/// short) or `no_evidence`.
#[derive(Serialize)]
pub struct SchoolRatingView {
    pub status: &'static str,
    pub score: Option<f64>,
    pub standard_error: Option<f64>,
    pub df: Option<f64>,
    pub interval: Option<IntervalView>,
    pub grade: Option<String>,
    pub provisional: bool,
    pub possible_grades: Vec<String>,
    pub low_coverage: Vec<CoverageView>,
    pub short: Vec<ShortView>,
}

impl SchoolRatingView {
    fn blank(status: &'static str) -> SchoolRatingView {
        SchoolRatingView {
            status,
            score: None,
            standard_error: None,
            df: None,
            interval: None,
            grade: None,
            provisional: false,
            possible_grades: Vec::new(),
            low_coverage: Vec::new(),
            short: Vec::new(),
        }
    }

    /// A rating the anonymity rule keeps from being shown ([`crate::results::shown_alone`]).
    pub fn withheld() -> SchoolRatingView {
        SchoolRatingView::blank("withheld")
    }
}

impl From<&SchoolRating> for SchoolRatingView {
    fn from(rating: &SchoolRating) -> Self {
        let blank = SchoolRatingView::blank;
        match rating {
            SchoolRating::Rated(rated) => {
                let rated = RatedView::from(rated);
                SchoolRatingView {
                    status: "rated",
                    score: Some(rated.score),
                    standard_error: Some(rated.standard_error),
                    df: rated.df,
                    interval: Some(rated.interval),
                    grade: Some(rated.grade),
                    provisional: rated.provisional,
                    possible_grades: rated.possible_grades,
                    low_coverage: rated.low_coverage,
                    short: Vec::new(),
                }
            }
            SchoolRating::TooFewAnswers { short } => SchoolRatingView {
                short: short
                    .iter()
                    .map(|short| ShortView {
                        source: short.source.slug(),
                        answers: short.answers,
                        needed: short.needed,
                        population: short.population,
                    })
                    .collect(),
                ..blank("too_few_answers")
            },
            SchoolRating::NoEvidence => blank("no_evidence"),
        }
    }
}

#[derive(Serialize)]
pub struct CountyView {
    /// `null` when no school could be rated.
    pub rated: Option<RatedView>,
    pub schools_rated: usize,
    pub schools_not_rated: usize,
    /// The rated schools' share of the pupils, 0–1.
    pub enrolment_covered: f64,
    /// How schools are weighted: `enrolment` or `equal`.
    pub weighting: &'static str,
}

impl CountyView {
    pub fn of(county: &CountyRating, weighting: CountyWeighting) -> CountyView {
        CountyView {
            rated: county.rated.as_ref().map(Into::into),
            schools_rated: county.schools_rated,
            schools_not_rated: county.schools_not_rated,
            enrolment_covered: county.enrolment_covered,
            weighting: match weighting {
                CountyWeighting::Enrolment => "enrolment",
                CountyWeighting::Equal => "equal",
            },
        }
    }
}

#[derive(Serialize)]
pub struct CampaignRatingRow {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub enrolment: u64,
    pub answers: u64,
    pub expected: u64,
    pub response_rate: Option<f64>,
    /// The people who could have answered, when known.
    pub population: Option<u64>,
    /// `false` for a teachers' survey with fewer than 5 answers from the school: its rating is
    /// then `withheld` (it still counts in the county's).
    pub shown_alone: bool,
    pub rating: SchoolRatingView,
    /// The school's area scores from this campaign (empty when withheld).
    pub areas: Vec<SchoolAreaView>,
}

/// One area of one school from one campaign.
#[derive(Serialize)]
pub struct SchoolAreaView {
    pub area: &'static str,
    pub n: u64,
    pub index: f64,
    pub standard_error: f64,
    pub df: Option<f64>,
    pub interval: Option<IntervalView>,
}

impl From<SchoolRatingRow> for CampaignRatingRow {
    fn from(row: SchoolRatingRow) -> Self {
        CampaignRatingRow {
            rating: if row.shown_alone {
                (&row.rating).into()
            } else {
                SchoolRatingView::withheld()
            },
            areas: if row.shown_alone {
                row.areas
                    .iter()
                    .map(|area| SchoolAreaView {
                        area: area.area.slug(),
                        n: area.n,
                        index: area.estimate.value,
                        standard_error: area.estimate.standard_error,
                        df: area.estimate.df,
                        interval: crate::results::estimate_interval(area.estimate).map(Into::into),
                    })
                    .collect()
            } else {
                Vec::new()
            },
            population: row.population,
            shown_alone: row.shown_alone,
            school_id: row.school_id,
            code: row.code,
            name: row.name,
            township: row.township,
            enrolment: row.enrolment,
            answers: row.answers,
            expected: row.expected,
            response_rate: row.response_rate,
        }
    }
}

#[derive(Serialize)]
pub struct CampaignRatingView {
    pub source: &'static str,
    pub schools: Vec<CampaignRatingRow>,
    pub county: CountyView,
}

impl CampaignRatingView {
    pub fn of(table: RatingTable, weighting: CountyWeighting) -> CampaignRatingView {
        CampaignRatingView {
            source: table.source.slug(),
            county: CountyView::of(&table.county, weighting),
            schools: table.schools.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize)]
pub struct ResultsView {
    pub campaign: CampaignView,
    pub filter: FilterView,
    pub schools_counted: usize,
    pub responses: u64,
    pub population: Option<u64>,
    pub minimum: u64,
    pub needed: u64,
    pub areas: Vec<AreaView>,
    /// The questionnaire's overall index.
    pub overall: Option<EstimateView>,
    pub sections: Vec<SectionView>,
    pub rating: CampaignRatingView,
    /// A self-check's number questions; `null` for a questionnaire.
    pub numbers: Option<Vec<NumberView>>,
    pub left_out: LeftOutView,
}

/// Answers no figure of the view counts.
#[derive(Serialize)]
pub struct LeftOutView {
    pub count: u64,
    pub by_policy: u64,
    pub by_supervisor: u64,
}

impl From<&crate::results::Excluded> for LeftOutView {
    fn from(excluded: &crate::results::Excluded) -> Self {
        LeftOutView {
            count: excluded.count,
            by_policy: excluded.by_policy,
            by_supervisor: excluded.count - excluded.by_policy,
        }
    }
}

// --------------------------------------------------------------------------------- indicators

#[derive(Serialize)]
pub struct IndicatorView {
    pub number: usize,
    pub id: String,
    pub title: String,
    pub area: Option<&'static str>,
    pub area_label: &'static str,
    pub target: String,
    pub varies: bool,
    pub met: usize,
    pub not_met: usize,
    pub not_reported: usize,
    pub not_applicable: usize,
}

#[derive(Serialize)]
pub struct IndicatorCellView {
    pub number: usize,
    pub id: String,
    /// `met`, `not_met`, `not_reported` or `not_applicable`.
    pub outcome: &'static str,
    /// 达标, 未达标, 未填报, 不适用.
    pub label: &'static str,
    pub value: Option<String>,
    pub target: Option<String>,
    pub doubt: Option<String>,
}

#[derive(Serialize)]
pub struct SchoolIndicatorsView {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub submitted: bool,
    pub met: usize,
    pub not_met: usize,
    pub not_reported: usize,
    pub indicators: Vec<IndicatorCellView>,
}

#[derive(Serialize)]
pub struct IndicatorsView {
    pub campaign: CampaignView,
    /// Schools that submitted a self-check, of `schools.len()`.
    pub submitted: usize,
    pub indicators: Vec<IndicatorView>,
    pub schools: Vec<SchoolIndicatorsView>,
    /// The self-check's number questions over the schools.
    pub numbers: Vec<NumberView>,
}

fn non_empty(text: String) -> Option<String> {
    (!text.is_empty()).then_some(text)
}

impl IndicatorsView {
    pub fn of(
        campaign: CampaignView,
        table: IndicatorTable,
        numbers: Vec<NumberSummary>,
    ) -> IndicatorsView {
        let ids: Vec<String> = table
            .indicators
            .iter()
            .map(|indicator| indicator.id.clone())
            .collect();
        let indicators = table
            .indicators
            .into_iter()
            .map(|indicator| IndicatorView {
                number: indicator.number,
                area: Area::ALL
                    .into_iter()
                    .find(|area| area.label() == indicator.area)
                    .map(Area::slug),
                area_label: indicator.area,
                id: indicator.id,
                title: indicator.title,
                target: indicator.target,
                varies: indicator.varies,
                met: indicator.met,
                not_met: indicator.not_met,
                not_reported: indicator.not_reported,
                not_applicable: indicator.not_applicable,
            })
            .collect();
        let schools = table
            .schools
            .into_iter()
            .map(|row| SchoolIndicatorsView {
                school_id: row.school_id,
                code: row.code,
                name: row.name,
                township: row.township,
                submitted: row.submitted,
                met: row.met,
                not_met: row.not_met,
                not_reported: row.not_reported,
                indicators: row
                    .cells
                    .into_iter()
                    .map(|cell| IndicatorCellView {
                        id: ids
                            .get(cell.number.wrapping_sub(1))
                            .cloned()
                            .unwrap_or_default(),
                        number: cell.number,
                        outcome: cell.class,
                        label: cell.label,
                        value: non_empty(cell.value),
                        target: non_empty(cell.target),
                        doubt: non_empty(cell.doubt),
                    })
                    .collect(),
            })
            .collect();
        IndicatorsView {
            campaign,
            submitted: table.submitted,
            indicators,
            schools,
            numbers: numbers.into_iter().map(Into::into).collect(),
        }
    }
}

// --------------------------------------------------------------------------------- assessment

#[derive(Serialize)]
pub struct UsedCampaignView {
    pub id: i32,
    pub name: String,
    pub source: &'static str,
    pub survey_title: String,
    pub left_out: LeftOutView,
}

#[derive(Serialize)]
pub struct SourceCountView {
    pub source: &'static str,
    /// Answers from the school: its n for this source.
    pub answers: u64,
    pub expected: u64,
    pub response_rate: Option<f64>,
    pub population: Option<u64>,
}

impl From<SourceCount> for SourceCountView {
    fn from(count: SourceCount) -> Self {
        SourceCountView {
            source: count.source.slug(),
            answers: count.answers,
            expected: count.expected,
            response_rate: count.response_rate,
            population: count.population,
        }
    }
}

#[derive(Serialize)]
pub struct AssessedSchoolView {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub enrolment: u64,
    pub sources: Vec<SourceCountView>,
    pub rating: SchoolRatingView,
}

impl From<CombinedRow> for AssessedSchoolView {
    fn from(row: CombinedRow) -> Self {
        AssessedSchoolView {
            rating: (&row.rating).into(),
            school_id: row.school_id,
            code: row.code,
            name: row.name,
            township: row.township,
            enrolment: row.enrolment,
            sources: row.sources.into_iter().map(Into::into).collect(),
        }
    }
}

#[derive(Serialize)]
pub struct AssessmentView {
    /// The campaign each source's evidence comes from: the latest non-draft one per audience.
    pub campaigns: Vec<UsedCampaignView>,
    pub schools: Vec<AssessedSchoolView>,
    pub county: CountyView,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_rfc3339_in_utc_and_response_rates_are_shares() {
        let time = DateTime::parse_from_rfc3339("2026-12-01T08:00:00+08:00")
            .map(|time| time.with_timezone(&Utc))
            .expect("a time");
        assert_eq!(rfc3339(time), "2026-12-01T00:00:00Z");
        assert_eq!(rate_of(Some(25.0)), Some(0.25));
        assert_eq!(rate_of(None), None);
    }

    #[test]
    fn a_school_without_a_grade_has_nulls_not_zeros() {
        let view = SchoolRatingView::from(&SchoolRating::NoEvidence);
        let json = serde_json::to_value(&view).expect("json");
        assert_eq!(json["status"], "no_evidence");
        assert!(json["score"].is_null());
        assert!(json["interval"].is_null());
        assert!(json["grade"].is_null());
    }
}

/// `GET /api/v1/targets`: the county's targets and their progress.
#[derive(Debug, Serialize)]
pub struct TargetsView {
    /// The self-check campaign counted from; `null` before the first one.
    pub campaign: Option<TargetsCampaignView>,
    pub targets: Vec<TargetView>,
}

#[derive(Debug, Serialize)]
pub struct TargetsCampaignView {
    pub id: i32,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct TargetView {
    pub id: String,
    pub title: String,
    pub area: &'static str,
    pub basis: String,
    pub measure: &'static str,
    pub counts: String,
    pub over: String,
    pub unit: String,
    pub achieved: f64,
    pub target: f64,
    pub every_school: bool,
    pub share: Option<f64>,
    pub reached: bool,
    pub schools_counted: usize,
    pub submitted: usize,
    pub schools: Vec<TargetSchoolView>,
}

#[derive(Debug, Serialize)]
pub struct TargetSchoolView {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub status: &'static str,
    /// The answer or number as read; `null` when there is none.
    pub value: Option<String>,
    /// `reported` (the school's self-check) or `verified` (a visit's verified value).
    pub from: Option<&'static str>,
}

impl From<crate::results::targets::CountyTargets> for TargetsView {
    fn from(found: crate::results::targets::CountyTargets) -> Self {
        use crate::rating::targets::ValueSource;
        TargetsView {
            campaign: found.campaign.map(|campaign| TargetsCampaignView {
                id: campaign.id,
                name: campaign.name,
            }),
            targets: found
                .targets
                .into_iter()
                .map(|progress| TargetView {
                    area: progress.area.slug(),
                    schools: progress
                        .groups
                        .into_iter()
                        .flat_map(|group| group.schools)
                        .map(|line| TargetSchoolView {
                            school_id: line.school_id,
                            code: line.code,
                            name: line.name,
                            status: line.status.slug(),
                            value: (!line.value.is_empty()).then_some(line.value),
                            from: line.from.map(|from| match from {
                                ValueSource::Reported => "reported",
                                ValueSource::Verified => "verified",
                            }),
                        })
                        .collect(),
                    id: progress.id,
                    title: progress.title,
                    basis: progress.basis,
                    measure: progress.measure,
                    counts: progress.counts,
                    over: progress.over,
                    unit: progress.unit,
                    achieved: progress.achieved,
                    target: progress.target,
                    every_school: progress.every_school,
                    share: progress.share,
                    reached: progress.reached,
                    schools_counted: progress.schools_counted,
                    submitted: progress.submitted,
                })
                .collect(),
        }
    }
}

// ------------------------------------------------------------------------------------- visits

#[derive(Serialize)]
pub struct VisitList {
    pub visits: Vec<VisitSummaryView>,
}

#[derive(Serialize)]
pub struct VisitSummaryView {
    pub id: i32,
    pub school_id: i32,
    pub school_code: String,
    pub school_name: String,
    pub kind: &'static str,
    pub visited_on: String,
    pub campaign_id: Option<i32>,
    pub findings: usize,
}

impl From<crate::visits::VisitRow> for VisitSummaryView {
    fn from(row: crate::visits::VisitRow) -> Self {
        VisitSummaryView {
            id: row.id,
            school_id: row.school_id,
            school_code: row.school_code,
            school_name: row.school_name,
            kind: row.kind,
            visited_on: row.visited_on.format("%Y-%m-%d").to_string(),
            campaign_id: row.campaign_id,
            findings: row.findings,
        }
    }
}

#[derive(Serialize)]
pub struct PhotoLinkView {
    pub url: String,
    pub thumbnail_url: String,
}

fn photo_links(photos: Vec<crate::photos::PhotoRef>) -> Vec<PhotoLinkView> {
    photos
        .into_iter()
        .map(|photo| PhotoLinkView {
            url: format!("/console/photos/{}", photo.token),
            thumbnail_url: format!("/console/photos/{}/thumb", photo.token),
        })
        .collect()
}

#[derive(Serialize)]
pub struct VisitCheckView {
    pub item_id: String,
    pub text: String,
    pub indicator: Option<String>,
    pub judgement: Option<&'static str>,
    pub answer: String,
    pub note: Option<String>,
    pub photos: Vec<PhotoLinkView>,
}

#[derive(Serialize)]
pub struct FindingView {
    pub id: i32,
    pub area: String,
    pub severity: String,
    pub text: String,
    pub photos: Vec<PhotoLinkView>,
}

#[derive(Serialize)]
pub struct VisitView {
    pub id: i32,
    pub school_id: i32,
    pub school_code: String,
    pub school_name: String,
    pub kind: &'static str,
    pub visited_on: String,
    pub campaign_id: Option<i32>,
    pub checklist: Option<String>,
    pub team: String,
    pub group_met: Option<&'static str>,
    pub group_size: Option<i32>,
    pub checks: Vec<VisitCheckView>,
    pub findings: Vec<FindingView>,
}

impl From<crate::visits::VisitRecord> for VisitView {
    fn from(record: crate::visits::VisitRecord) -> Self {
        let row = record.row;
        VisitView {
            id: row.id,
            school_id: row.school_id,
            school_code: row.school_code,
            school_name: row.school_name,
            kind: row.kind,
            visited_on: row.visited_on.format("%Y-%m-%d").to_string(),
            campaign_id: row.campaign_id,
            checklist: record.checklist_id,
            team: row.team,
            group_met: record.group_met,
            group_size: record.group_size,
            checks: record
                .checks
                .into_iter()
                .map(|check| VisitCheckView {
                    item_id: check.item_id,
                    text: check.text,
                    indicator: check.indicator,
                    judgement: (!check.judgement.is_empty()).then_some(check.judgement),
                    answer: check.answer,
                    note: check.note,
                    photos: photo_links(check.photos),
                })
                .collect(),
            findings: record
                .findings
                .into_iter()
                .map(|found| FindingView {
                    id: found.id,
                    area: found.area,
                    severity: found.severity,
                    text: found.text,
                    photos: photo_links(found.photos),
                })
                .collect(),
        }
    }
}

// ------------------------------------------------------------------------------- rectification

/// One rectification item (整改).
#[derive(Serialize)]
pub struct RectificationItemView {
    pub id: i32,
    pub school_id: i32,
    pub school_code: String,
    pub school_name: String,
    pub campaign_id: Option<i32>,
    pub source: String,
    pub area: Option<String>,
    pub indicator: Option<String>,
    pub finding_id: Option<i32>,
    pub requirement: String,
    pub responsible: String,
    pub deadline: String,
    pub status: String,
    pub overdue: bool,
}

impl From<crate::rectification::ItemRow> for RectificationItemView {
    fn from(row: crate::rectification::ItemRow) -> Self {
        RectificationItemView {
            id: row.id,
            school_id: row.school_id,
            school_code: row.school_code,
            school_name: row.school_name,
            campaign_id: row.campaign_id,
            source: row.source,
            area: row.area,
            indicator: row.indicator,
            finding_id: row.finding_id,
            requirement: row.requirement,
            responsible: row.responsible,
            deadline: row.deadline,
            status: row.status,
            overdue: row.overdue,
        }
    }
}

#[derive(Serialize)]
pub struct RectificationList {
    /// The day (China time) overdue is judged on.
    pub today: String,
    pub items: Vec<RectificationItemView>,
}

/// `GET /api/v1/letters`.
#[derive(Serialize)]
pub struct LetterList {
    pub letters: Vec<LetterLineView>,
}

/// One issued letter in the list.
#[derive(Serialize)]
pub struct LetterLineView {
    pub id: i32,
    pub school_code: String,
    pub school_name: String,
    pub campaign_id: i32,
    pub campaign_name: String,
    pub year: i32,
    pub number: i32,
    pub version: i32,
    pub number_text: String,
    pub issued_at: String,
}

impl From<crate::letters::LetterLine> for LetterLineView {
    fn from(line: crate::letters::LetterLine) -> Self {
        LetterLineView {
            id: line.id,
            school_code: line.school_code,
            school_name: line.school_name,
            campaign_id: line.campaign_id,
            campaign_name: line.campaign_name,
            year: line.year,
            number: line.number,
            version: line.version,
            number_text: line.number_text,
            issued_at: line.issued_at,
        }
    }
}
