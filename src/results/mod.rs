//! The results of a campaign as tables: counts per option of every question with the
//! satisfaction statistics of `rating::satisfaction`, an estimate per area, the indicators of a
//! school self-check per school with the county's roll-up, and the overall rating one campaign's
//! evidence allows.
//!
//! Counts come from the running tallies (`tally`), never from scanning the answers; only a
//! self-check campaign reads its answers, one per school. The aggregation here is pure and
//! unit-tested; the queries live in `queries`, and no module here knows about HTTP.

pub mod groups;
pub mod indicators;
pub mod overall;
mod queries;
pub mod scan;

use std::collections::BTreeMap;

use entity::school;
use serde::Serialize;

use crate::rating::satisfaction::{self, Estimate, Satisfaction};
use crate::rating::stats::{Interval, t_critical_95};
use crate::schools::SchoolKind;
use crate::survey::{Area, Audience, Question, QuestionKind, Survey};

pub use queries::{
    Assessment, CampaignResults, ResultsError, UsedCampaign, assessment, assessment_with_results,
    campaign_results, tally_counts,
};
pub use scan::DateRange;

/// The fewest answers of a teachers' survey a group may be shown with on its own: below it,
/// a school's teachers could be told apart by what they answered.
pub const TEACHERS_SHOWN_ALONE: u64 = 5;

/// What a page says instead of a teachers' school (or group) with too few answers.
pub const TEACHERS_TOO_FEW: &str = "为保护教师匿名，答卷少于 5 份的学校不单独显示。";

/// Whether a group (a school, or any filtered set of schools) with `n` included answers to a
/// survey of `audience` may be shown on its own. Teachers' answers need at least
/// [`TEACHERS_SHOWN_ALONE`]; everyone else's may always be shown. Such a group's answers still
/// count inside the township's and the county's figures.
pub fn shown_alone(audience: Audience, n: u64) -> bool {
    audience != Audience::Teachers || n >= TEACHERS_SHOWN_ALONE
}

/// Which schools' answers the results count; every part that is given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResultsFilter {
    pub school: Option<i32>,
    pub township: Option<String>,
    pub kind: Option<SchoolKind>,
    pub key_village: Option<bool>,
    /// Answers submitted on these days (China time) only; counted from the answers, since the
    /// tallies have no dates.
    pub dates: DateRange,
}

/// A filter the page could not have sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("学校“{0}”不是有效的学校编号。")]
    School(String),
    #[error("没有“{0}”这种学校类型。")]
    Kind(String),
    #[error("重点村筛选只能是“是”或“否”（yes / no），而不是“{0}”。")]
    KeyVillage(String),
    #[error("日期“{0}”的格式不对，请写成 2026-11-01 这样的年-月-日。")]
    Date(String),
    #[error("开始日期 {0} 晚于结束日期 {1}，请检查日期范围。")]
    DatesReversed(String, String),
}

impl ResultsFilter {
    /// Reads the filter from the page's fields; an empty field means "any".
    pub fn parse(
        school: &str,
        township: &str,
        kind: &str,
        key_village: &str,
    ) -> Result<ResultsFilter, FilterError> {
        let school = match school.trim() {
            "" => None,
            text => Some(
                text.parse::<i32>()
                    .map_err(|_| FilterError::School(text.to_owned()))?,
            ),
        };
        let township = Some(township.trim())
            .filter(|text| !text.is_empty())
            .map(str::to_owned);
        let kind = match kind.trim() {
            "" => None,
            text => {
                Some(SchoolKind::parse(text).ok_or_else(|| FilterError::Kind(text.to_owned()))?)
            }
        };
        let key_village = match key_village.trim() {
            "" => None,
            "yes" | "是" => Some(true),
            "no" | "否" => Some(false),
            other => return Err(FilterError::KeyVillage(other.to_owned())),
        };
        Ok(ResultsFilter {
            school,
            township,
            kind,
            key_village,
            dates: DateRange::default(),
        })
    }

    /// Adds the page's date fields (`2026-11-01`, China time, both days included); an empty
    /// field leaves that end open.
    pub fn with_dates(mut self, from: &str, to: &str) -> Result<ResultsFilter, FilterError> {
        let day = |text: &str| -> Result<Option<chrono::NaiveDate>, FilterError> {
            match text.trim() {
                "" => Ok(None),
                text => chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                    .map(Some)
                    .map_err(|_| FilterError::Date(text.to_owned())),
            }
        };
        let dates = DateRange {
            from: day(from)?,
            to: day(to)?,
        };
        if let (Some(from), Some(to)) = (dates.from, dates.to)
            && from > to
        {
            return Err(FilterError::DatesReversed(from.to_string(), to.to_string()));
        }
        self.dates = dates;
        Ok(self)
    }

    /// Whether every school counts (whatever the dates).
    pub fn all_schools(&self) -> bool {
        ResultsFilter {
            dates: DateRange::default(),
            ..self.clone()
        }
        .is_all()
    }

    /// Whether every school counts.
    pub fn is_all(&self) -> bool {
        *self == ResultsFilter::default()
    }

    pub fn holds_for(&self, school: &school::Model) -> bool {
        self.school.is_none_or(|id| id == school.id)
            && self
                .township
                .as_ref()
                .is_none_or(|township| *township == school.township)
            && self
                .kind
                .is_none_or(|kind| SchoolKind::parse(&school.kind) == Some(kind))
            && self
                .key_village
                .is_none_or(|key_village| key_village == school.is_key_village)
    }
}

/// One row of the running tallies.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TallyCount {
    pub school_id: i32,
    /// The question id, or `question.row` for a matrix row.
    pub question_key: String,
    pub option_key: String,
    pub count: u64,
}

/// Question key → option code → answers, added up over the schools of `rows`.
pub type Counts = BTreeMap<String, BTreeMap<String, u64>>;

/// Adds the tallies up over schools.
pub fn counts_of<'a>(rows: impl IntoIterator<Item = &'a TallyCount>) -> Counts {
    let mut counts = Counts::new();
    for row in rows {
        add_count(&mut counts, &row.question_key, &row.option_key, row.count);
    }
    counts
}

/// Question key → option code → answers, per school.
pub type SchoolCounts = BTreeMap<i32, Counts>;

/// Adds the tallies up per school.
pub fn counts_by_school(rows: &[TallyCount]) -> SchoolCounts {
    let mut by_school = SchoolCounts::new();
    for row in rows {
        add_count(
            by_school.entry(row.school_id).or_default(),
            &row.question_key,
            &row.option_key,
            row.count,
        );
    }
    by_school
}

/// Adds `count` answers of `option` to `question` in `counts`, copying the keys only the first
/// time they are seen (a campaign's figures add up tens of thousands of counts).
pub fn add_count(counts: &mut Counts, question: &str, option: &str, count: u64) {
    let options = match counts.get_mut(question) {
        Some(options) => options,
        None => counts.entry(question.to_owned()).or_default(),
    };
    match options.get_mut(option) {
        Some(answers) => *answers += count,
        None => {
            options.insert(option.to_owned(), count);
        }
    }
}

/// The counts of several schools added up.
pub fn add_up<'a>(schools: impl IntoIterator<Item = &'a Counts>) -> Counts {
    let mut total = Counts::new();
    for counts in schools {
        for (question, options) in counts {
            for (option, count) in options {
                add_count(&mut total, question, option, *count);
            }
        }
    }
    total
}

/// The tally key of each scored question (one per statement of a matrix) with its area: all
/// that [`AreaScorer::estimates`] needs, worked out once for the many schools of a campaign.
pub struct AreaScorer<'a> {
    keys: Vec<(Area, &'a QuestionKind, String)>,
}

impl<'a> AreaScorer<'a> {
    pub fn new(survey: &'a Survey) -> AreaScorer<'a> {
        let mut keys = Vec::new();
        for section in &survey.sections {
            for question in section.questions.iter().filter(|question| question.scored) {
                if labelled_options(&question.kind).is_none() {
                    continue;
                }
                match &question.kind {
                    QuestionKind::Matrix { rows, .. } => keys.extend(rows.iter().map(|row| {
                        (
                            section.area,
                            &question.kind,
                            format!("{}.{}", question.id, row.id),
                        )
                    })),
                    kind => keys.push((section.area, kind, question.id.clone())),
                }
            }
        }
        AreaScorer { keys }
    }

    /// The area estimates of one school (or group) from its counts: exactly
    /// `aggregate(survey, counts, …).area_estimates()`, without the labels and shares that
    /// only a page of questions needs.
    pub fn estimates(&self, counts: &Counts) -> BTreeMap<Area, Estimate> {
        let empty = BTreeMap::new();
        let mut by_area: BTreeMap<Area, Vec<Satisfaction>> = BTreeMap::new();
        for (area, kind, key) in &self.keys {
            let counts = counts.get(key).unwrap_or(&empty);
            if let Some(summary) = satisfaction::point_counts(kind, counts)
                .and_then(|points| satisfaction::summarise(&points))
            {
                by_area.entry(*area).or_default().push(summary);
            }
        }
        by_area
            .into_iter()
            .filter_map(|(area, summaries)| Some((area, satisfaction::area_estimate(&summaries)?)))
            .collect()
    }
}

/// The results of one survey over some schools.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SurveyResults {
    /// Responses from the schools counted (the links' running counts).
    pub responses: u64,
    /// The least number of answers the plan asks before a figure is worth reading.
    pub minimum: u64,
    /// Every area, in the order of [`Area::ALL`]; an area without scored questions has no
    /// estimate (and is shown as such, never as a zero).
    pub areas: Vec<AreaResult>,
    pub sections: Vec<SectionResult>,
}

impl SurveyResults {
    /// The area estimates, for the overall rating.
    pub fn area_estimates(&self) -> BTreeMap<Area, Estimate> {
        self.areas
            .iter()
            .filter_map(|area| Some((area.area, area.estimate?)))
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SectionResult {
    pub title: String,
    pub area: Area,
    pub questions: Vec<QuestionResult>,
}

/// One question (or matrix row) with its counts.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QuestionResult {
    /// The tally key: the question id, or `question.row`.
    pub key: String,
    pub text: String,
    pub kind: &'static str,
    pub scored: bool,
    /// Several options per answer: shares are of the responses, and do not add up to 100%.
    pub multiple: bool,
    pub options: Vec<OptionCount>,
    /// Answers to the question; for a multiple choice, the responses counted.
    pub n: u64,
    pub satisfaction: Option<Satisfaction>,
    /// Fewer answers than the plan's minimum.
    pub too_few: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OptionCount {
    pub code: String,
    pub label: String,
    pub count: u64,
    /// `count / n`, 0–1; `None` when n is 0.
    pub share: Option<f64>,
}

/// One area: the mean of its scored questions' satisfaction indices.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AreaResult {
    pub area: Area,
    /// Scored questions (and matrix rows) with an index.
    pub questions: usize,
    pub estimate: Option<Estimate>,
    pub interval: Option<Interval>,
    /// The most answers any of its scored questions had.
    pub n: u64,
    pub too_few: bool,
}

/// The options of a question with their labels, in the survey's order; `None` for kinds whose
/// answers are not tallied (numbers, text).
fn labelled_options(kind: &QuestionKind) -> Option<Vec<(String, String)>> {
    let options = match kind {
        QuestionKind::Single { options } | QuestionKind::Multiple { options, .. } => options
            .iter()
            .map(|option| (option.code.clone(), option.label.clone()))
            .collect(),
        QuestionKind::Scale { scale } | QuestionKind::Matrix { scale, .. } => scale
            .points
            .iter()
            .map(|point| (point.code.clone(), point.label.clone()))
            .collect(),
        QuestionKind::YesNo { .. } => vec![
            ("yes".to_owned(), "是".to_owned()),
            ("no".to_owned(), "否".to_owned()),
        ],
        QuestionKind::Rating { .. } => (0..=10)
            .map(|value: u32| (value.to_string(), value.to_string()))
            .collect(),
        QuestionKind::Number { .. } | QuestionKind::Text { .. } | QuestionKind::LongText { .. } => {
            return None;
        }
    };
    Some(options)
}

fn question_result(
    question: &Question,
    key: String,
    text: String,
    counts: &BTreeMap<String, u64>,
    responses: u64,
    minimum: u64,
) -> Option<QuestionResult> {
    let options = labelled_options(&question.kind)?;
    let multiple = matches!(question.kind, QuestionKind::Multiple { .. });
    let count = |code: &str| counts.get(code).copied().unwrap_or(0);
    let n = if multiple {
        responses
    } else {
        options.iter().map(|(code, _)| count(code)).sum()
    };
    let options = options
        .into_iter()
        .map(|(code, label)| {
            let answers = count(&code);
            OptionCount {
                share: (n > 0).then(|| answers as f64 / n as f64),
                count: answers,
                code,
                label,
            }
        })
        .collect();
    let judged = question.scored
        || matches!(
            question.kind,
            QuestionKind::Scale { .. } | QuestionKind::Matrix { .. }
        );
    let satisfaction = if judged {
        satisfaction::point_counts(&question.kind, counts)
            .and_then(|points| satisfaction::summarise(&points))
    } else {
        None
    };
    let counted = satisfaction.as_ref().map_or(n, |summary| summary.n);
    Some(QuestionResult {
        key,
        text,
        kind: question.kind.name(),
        scored: question.scored,
        multiple,
        options,
        n,
        satisfaction,
        too_few: counted < minimum,
    })
}

/// How many of `responses` were shown `question`: all of them, unless it has a `show_if`; then
/// those whose answer to the controlling question picked one of its options, read from that
/// question's tally (which itself counts only those shown it). Exact when the controlling
/// question takes one answer; when it is a multiple choice one response may pick several of
/// the options, so the sum is capped at `responses` and may overstate the base.
pub fn shown_base(survey: &Survey, question: &Question, counts: &Counts, responses: u64) -> u64 {
    let Some(show_if) = &question.show_if else {
        return responses;
    };
    let Some(controller) = counts.get(&show_if.question) else {
        return 0;
    };
    let shown: u64 = show_if
        .any_of
        .iter()
        .filter_map(|code| controller.get(code))
        .sum();
    let several = survey
        .question(&show_if.question)
        .is_some_and(|controlling| matches!(controlling.kind, QuestionKind::Multiple { .. }));
    if several { shown.min(responses) } else { shown }
}

/// The results of `survey` from `counts` (see [`counts_of`]): every tallied question in the
/// survey's order, and each area's estimate from its scored questions
/// ([`satisfaction::area_estimate`]). `responses` is the number of responses counted, the base
/// of multiple-choice shares (of those shown the question, for one with a `show_if`:
/// [`shown_base`]); `minimum` the plan's least number of answers.
pub fn aggregate(survey: &Survey, counts: &Counts, responses: u64, minimum: u64) -> SurveyResults {
    let empty = BTreeMap::new();
    let mut sections = Vec::new();
    let mut by_area: BTreeMap<Area, Vec<Satisfaction>> = BTreeMap::new();
    for section in &survey.sections {
        let mut questions = Vec::new();
        for question in &section.questions {
            let keyed: Vec<(String, String)> = match &question.kind {
                QuestionKind::Matrix { rows, .. } => rows
                    .iter()
                    .map(|row| {
                        (
                            format!("{}.{}", question.id, row.id),
                            format!("{}：{}", question.text, row.text),
                        )
                    })
                    .collect(),
                _ => vec![(question.id.clone(), question.text.clone())],
            };
            let base = shown_base(survey, question, counts, responses);
            for (key, text) in keyed {
                let counts = counts.get(&key).unwrap_or(&empty);
                let Some(result) = question_result(question, key, text, counts, base, minimum)
                else {
                    continue;
                };
                if question.scored
                    && let Some(summary) = &result.satisfaction
                {
                    by_area
                        .entry(section.area)
                        .or_default()
                        .push(summary.clone());
                }
                questions.push(result);
            }
        }
        if !questions.is_empty() {
            sections.push(SectionResult {
                title: section.title.clone(),
                area: section.area,
                questions,
            });
        }
    }
    let no_questions = Vec::new();
    let areas = Area::ALL
        .into_iter()
        .map(|area| {
            let summaries = by_area.get(&area).unwrap_or(&no_questions);
            let estimate = satisfaction::area_estimate(summaries);
            let n = summaries.iter().map(|summary| summary.n).max().unwrap_or(0);
            AreaResult {
                area,
                questions: summaries
                    .iter()
                    .filter(|summary| summary.index.is_some())
                    .count(),
                interval: estimate.and_then(estimate_interval),
                estimate,
                n,
                too_few: n < minimum,
            }
        })
        .collect();
    SurveyResults {
        responses,
        minimum,
        areas,
        sections,
    }
}

/// The 95% interval of an estimate on 0–100; the estimate itself when it is exact.
pub fn estimate_interval(estimate: Estimate) -> Option<Interval> {
    let half_width = match estimate.df {
        Some(df) if estimate.standard_error > 0.0 => t_critical_95(df)? * estimate.standard_error,
        _ => 0.0,
    };
    Some(Interval::around(estimate.value, half_width).clamped(0.0, 100.0))
}

/// A share as a percentage with one decimal: `82.4%`.
pub fn percent(share: f64) -> String {
    format!("{:.1}%", share * 100.0)
}

/// The satisfaction rate as supervisors read it: `82.4%（95% 区间 78.1%–86.1%，n = 312）`.
pub fn describe_rate(summary: &Satisfaction) -> Option<String> {
    let rate = summary.rate?;
    let interval = summary.rate_interval?;
    Some(format!(
        "{}（95% 区间 {}–{}，n = {}）",
        percent(rate),
        percent(interval.low),
        percent(interval.high),
        summary.n
    ))
}

/// A score on 0–100 with its interval: `81.3（95% 区间 78.0–84.4）`. Rounded half away from
/// zero, as `RatingRules::grade` rounds before banding, so that the score shown and the grade
/// beside it always agree (89.95 shows as 90.0, 优秀).
pub fn describe_score(value: f64, interval: Option<Interval>) -> String {
    let shown = |value: f64| format!("{:.1}", (value * 10.0).round() / 10.0);
    match interval {
        Some(interval) if interval.high > interval.low => format!(
            "{}（95% 区间 {}–{}）",
            shown(value),
            shown(interval.low),
            shown(interval.high)
        ),
        _ => shown(value),
    }
}

#[cfg(test)]
mod tests;
