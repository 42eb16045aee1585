//! The results of a campaign as tables: counts per option of every question with the
//! satisfaction statistics of `rating::satisfaction`, an estimate per area, the indicators of a
//! school self-check per school with the county's roll-up, and the overall rating one campaign's
//! evidence allows.
//!
//! Counts come from the running tallies (`tally`), never from scanning the answers; only a
//! self-check campaign reads its answers, one per school. The aggregation here is pure and
//! unit-tested; the queries live in `queries`, and no module here knows about HTTP.

pub mod groups;
pub mod numbers;
pub mod overall;
mod queries;
pub mod scan;
pub mod self_checks;
pub mod targets;
pub mod verified;
pub mod wording;

use std::collections::BTreeMap;

use entity::school;
use serde::Serialize;

use crate::rating::moments::AreaSums;
use crate::rating::satisfaction::{self, Estimate, Satisfaction};
use crate::rating::score::needed_answers;
use crate::rating::stats::{Interval, Range, finite_population_factor};
use crate::schools::SchoolKind;
use crate::survey::{Area, Audience, Question, QuestionKind, Survey};

pub use queries::{
    Assessment, CampaignResults, Excluded, ResultsError, UsedCampaign, assessment,
    assessment_with_results, campaign_results, excluded_answers, score_sums, tally_counts,
};
pub use scan::DateRange;
pub use wording::{describe_rate, describe_score, percent};

/// The fewest answers of a teachers' survey a group may be shown with on its own: below it,
/// a school's teachers could be told apart by what they answered.
pub const TEACHERS_SHOWN_ALONE: u64 = 5;

/// What a page says instead of a teachers' school (or group) with too few answers.
pub const TEACHERS_TOO_FEW: &str = "为保护教师匿名，答卷少于 5 份的学校不单独显示。";

/// What a page says instead of a teachers' survey narrowed to dates.
pub const TEACHERS_BY_DATE: &str =
    "为保护教师匿名，教师问卷不按日期筛选：两个日期范围的结果相减，就可能看出个别教师的答卷。";

/// Whether a school with `n` included answers to a survey of `audience` counts in that survey's
/// figures at all, and may be shown. Teachers' answers need at least [`TEACHERS_SHOWN_ALONE`]
/// per school; everyone else's always count.
///
/// A teachers' school with 1–4 answers (a *hidden* school) counts in **no** figure — not its
/// own, not its township's, not the county's, not an export's: every figure of a teachers'
/// survey is then a sum over whole schools of at least 5 answers each, so the difference of any
/// two figures (the county and the county without one township, a township and one of its
/// schools) is again a sum over such schools, and never isolates fewer than 5 teachers
/// (surveys/METHOD.md, `withheld`).
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

/// A results filter as a query string gives it, every field a string (empty = any): the one
/// reader the console's results page, its charts and reports, and the API share, so that the same
/// address narrows the same way everywhere.
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct FilterFields {
    #[serde(default)]
    pub school: String,
    #[serde(default)]
    pub township: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub key_village: String,
    /// Days in China time (`2026-11-01`), counted from the answers.
    #[serde(default)]
    pub from: String,
    #[serde(default)]
    pub to: String,
}

impl FilterFields {
    /// The names a filter is read from.
    pub const NAMES: [&'static str; 6] =
        ["school", "township", "kind", "key_village", "from", "to"];

    /// The fields among name–value pairs (the first of each name).
    pub fn from_pairs(pairs: &[(String, String)]) -> FilterFields {
        let field = |name: &str| {
            pairs
                .iter()
                .find(|(given, _)| given == name)
                .map_or_else(String::new, |(_, value)| value.clone())
        };
        FilterFields {
            school: field("school"),
            township: field("township"),
            kind: field("kind"),
            key_village: field("key_village"),
            from: field("from"),
            to: field("to"),
        }
    }

    /// The filter these fields ask for, or what is wrong with them.
    pub fn parse(&self) -> Result<ResultsFilter, FilterError> {
        ResultsFilter::parse(&self.school, &self.township, &self.kind, &self.key_village)?
            .with_dates(&self.from, &self.to)
    }
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

    /// The query string that asks for this filter (`?school=3&from=2026-11-01`, or empty): what
    /// [`FilterFields`] reads back as the same filter.
    pub fn query_string(&self) -> String {
        let encode = |text: &str| {
            percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        };
        let mut parts = Vec::new();
        if let Some(school) = self.school {
            parts.push(format!("school={school}"));
        }
        if let Some(township) = &self.township {
            parts.push(format!("township={}", encode(township)));
        }
        if let Some(kind) = self.kind {
            parts.push(format!("kind={}", encode(kind.label())));
        }
        if let Some(key_village) = self.key_village {
            parts.push(format!(
                "key_village={}",
                if key_village { "yes" } else { "no" }
            ));
        }
        if let Some(from) = self.dates.from {
            parts.push(format!("from={from}"));
        }
        if let Some(to) = self.dates.to {
            parts.push(format!("to={to}"));
        }
        if parts.is_empty() {
            String::new()
        } else {
            format!("?{}", parts.join("&"))
        }
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

/// A school's respondents' score sums, per school.
pub type SchoolSums = BTreeMap<i32, AreaSums>;

/// Adds one row of the running score sums (key as `answering::scoring::score_key` writes it) to
/// a school's sums; rows with an unknown key are left out.
pub fn add_score_row(sums: &mut AreaSums, key: &str, row: &crate::answering::scoring::ScoreSums) {
    let Some(areas) = crate::answering::scoring::parse_score_key(key) else {
        return;
    };
    sums.pairs
        .entry(areas)
        .or_default()
        .add(&crate::rating::moments::Sums {
            n: u64::try_from(row.n).unwrap_or(0),
            sum_x: row.sum_x,
            sum_y: row.sum_y,
            sum_xy: row.sum_xy,
        });
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

/// How many answered in a group of schools, and of how many people.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Group {
    /// Responses counted.
    pub responses: u64,
    /// The people who could have answered, when known for every school of the group
    /// (`[population]` of rating.toml).
    pub population: Option<u64>,
}

impl Group {
    /// 1 − n/N, the share of sampling variance left (surveys/METHOD.md, `population`).
    pub fn fpc(&self) -> f64 {
        finite_population_factor(self.responses, self.population)
    }
}

/// The results of one survey over some schools.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SurveyResults {
    /// Responses from the schools counted (the links' running counts).
    pub responses: u64,
    /// The people who could have answered in the schools counted, when known.
    pub population: Option<u64>,
    /// The plan's least number of answers before a figure is worth reading.
    pub minimum: u64,
    /// The least number of answers a figure of this group needs: `minimum`, or fewer when the
    /// group's population is small (surveys/METHOD.md, `minimum`).
    pub needed: u64,
    /// Every area, in the order of [`Area::ALL`]; an area without scored questions has no
    /// estimate (and is shown as such, never as a zero).
    pub areas: Vec<AreaResult>,
    /// The questionnaire's overall index (总指数): the area means weighted by the plan's area
    /// weights over the areas with an estimate, with its interval.
    pub overall: Option<Estimate>,
    pub overall_interval: Option<Interval>,
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

/// One area: the mean of its respondents' area scores (surveys/METHOD.md, `area-score`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AreaResult {
    pub area: Area,
    /// Scored questions of the survey in the area (a matrix counts once).
    pub questions: usize,
    /// The respondents' mean area score, with its standard error; `None` with no respondent,
    /// or a single one of a population that did not answer in full.
    pub estimate: Option<Estimate>,
    pub interval: Option<Interval>,
    /// The mean, also for a single respondent.
    pub mean: Option<f64>,
    /// The respondents' standard deviation (divisor n − 1).
    pub sd: Option<f64>,
    /// Respondents with a score in the area.
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
    needed: u64,
    fpc: f64,
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
    // Scales, matrices and ratings always carry their statistics (a rating its mean on 0–10
    // and its index); other kinds when they are scored.
    let judged = question.scored
        || matches!(
            question.kind,
            QuestionKind::Scale { .. } | QuestionKind::Matrix { .. } | QuestionKind::Rating { .. }
        );
    let satisfaction = if judged {
        satisfaction::point_counts(&question.kind, counts)
            .and_then(|points| satisfaction::summarise(&points, fpc))
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
        too_few: counted < needed,
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

/// The results of `survey` over a group of schools (surveys/METHOD.md, sections `question`,
/// `area-score` and `overall-index`): every tallied question in the survey's order from
/// `counts` (see [`counts_of`]), each area's mean from the respondents' score `sums`, and the
/// questionnaire's overall index weighted by `area_weights`. `group` says how many answered and
/// of how many (the base of multiple-choice shares, of those shown the question for one with a
/// `show_if`: [`shown_base`]; and the finite-population correction); `minimum` is the plan's
/// least number of answers.
pub fn aggregate(
    survey: &Survey,
    counts: &Counts,
    sums: &AreaSums,
    group: Group,
    minimum: u64,
    area_weights: &BTreeMap<Area, f64>,
) -> SurveyResults {
    let empty = BTreeMap::new();
    let fpc = group.fpc();
    let needed = needed_answers(minimum, group.responses, group.population);
    let mut sections = Vec::new();
    let mut scored_questions: BTreeMap<Area, usize> = BTreeMap::new();
    for section in &survey.sections {
        let mut questions = Vec::new();
        for question in &section.questions {
            if question.scored && labelled_options(&question.kind).is_some() {
                *scored_questions.entry(section.area).or_default() += 1;
            }
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
            let base = shown_base(survey, question, counts, group.responses);
            for (key, text) in keyed {
                let counts = counts.get(&key).unwrap_or(&empty);
                if let Some(result) =
                    question_result(question, key, text, counts, base, needed, fpc)
                {
                    questions.push(result);
                }
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
    let areas = Area::ALL
        .into_iter()
        .map(|area| {
            let figure = sums.figure(area, fpc);
            let n = figure.map_or(0, |figure| figure.n);
            let estimate = figure.and_then(|figure| figure.estimate);
            AreaResult {
                area,
                questions: scored_questions.get(&area).copied().unwrap_or(0),
                interval: estimate.and_then(estimate_interval),
                estimate,
                mean: figure.map(|figure| figure.mean),
                sd: figure.and_then(|figure| figure.sd),
                n,
                too_few: n < needed,
            }
        })
        .collect();
    let overall = sums.overall(area_weights, group.responses, group.population);
    SurveyResults {
        responses: group.responses,
        population: group.population,
        minimum,
        needed,
        areas,
        overall_interval: overall.and_then(estimate_interval),
        overall,
        sections,
    }
}

/// The 95% interval of an estimate on 0–100 (surveys/METHOD.md, `intervals`).
pub fn estimate_interval(estimate: Estimate) -> Option<Interval> {
    estimate.interval(Range::SCORE)
}

#[cfg(test)]
mod tests;
