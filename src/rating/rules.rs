//! The checked rules of the overall rating (综合评估), as `rating.toml` states them: the weight of
//! each area and of each source of evidence, the least number of answers a source needs, the
//! grade bands and how the county's score weighs its schools.

use std::collections::BTreeMap;

use serde::Serialize;

use super::flags::Flag;
use crate::survey::{Area, Audience};

/// How far a set of weights may be from adding up to 1 (rounding in hand-written decimals).
pub const WEIGHT_TOLERANCE: f64 = 0.001;

/// Where evidence about a school comes from: the three questionnaires, or the school's own
/// self-check read through the indicators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Parents,
    Teachers,
    Students,
    Indicators,
}

impl Source {
    pub const ALL: [Source; 4] = [
        Source::Parents,
        Source::Teachers,
        Source::Students,
        Source::Indicators,
    ];

    /// The three sources that are questionnaires answered by many people.
    pub const SURVEYS: [Source; 3] = [Source::Parents, Source::Teachers, Source::Students];

    pub fn slug(self) -> &'static str {
        match self {
            Source::Parents => "parents",
            Source::Teachers => "teachers",
            Source::Students => "students",
            Source::Indicators => "indicators",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Source::Parents => "家长问卷",
            Source::Teachers => "教师问卷",
            Source::Students => "学生问卷",
            Source::Indicators => "学校自评指标",
        }
    }

    pub fn parse(slug: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|source| source.slug() == slug)
    }

    /// Whose surveys give this source's evidence.
    pub fn audience(self) -> Audience {
        match self {
            Source::Parents => Audience::Parents,
            Source::Teachers => Audience::Teachers,
            Source::Students => Audience::Students,
            Source::Indicators => Audience::School,
        }
    }
}

/// One grade: every score from `at_least` up to the next band's `at_least`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Band {
    pub grade: String,
    pub at_least: f64,
}

/// How the county's score weighs its schools.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CountyWeighting {
    /// By the number of pupils (在校生数): the county's score is the score of the average pupil.
    Enrolment,
    /// Every rated school counts the same.
    Equal,
}

/// The rules of the overall rating, checked: weights are between 0 and 1 and add up to 1 (within
/// [`WEIGHT_TOLERANCE`]), bands descend strictly from highest to 0.
#[derive(Clone, Debug, PartialEq)]
pub struct RatingRules {
    /// Every area, `overall` included (0 when the file leaves it out).
    pub area_weights: BTreeMap<Area, f64>,
    /// Every source.
    pub source_weights: BTreeMap<Source, f64>,
    /// The least number of answers for each questionnaire source; the indicators need the one
    /// self-check.
    pub minimum_answers: BTreeMap<Source, u64>,
    /// From the best grade down; the last starts at 0.
    pub bands: Vec<Band>,
    pub county_weighting: CountyWeighting,
    /// When an answer is flagged for a supervisor to look at (`[quality]`).
    pub quality: QualityRules,
    /// Whose number in the school list is each questionnaire's population (`[population]`).
    pub population: BTreeMap<Source, PopulationBasis>,
    /// The response rate (answers ÷ population) below which a school's grade is shown as for
    /// reference only (`[coverage]`), per questionnaire source; 0 for none.
    pub coverage: BTreeMap<Source, f64>,
    /// How far a reported number may lie from the verified one before the school's self-check
    /// is flagged 核查不符 (`[visits] tolerance`), relative to the verified number (at least 1).
    pub verify_tolerance: f64,
    /// Who the circular (通报) names for 严格责任追究 (`[accountability]`).
    pub accountability: AccountabilityRules,
}

/// `[accountability]` of rating.toml: a school is named in a round's circular to be held
/// responsible (方案 六.3, 严格责任追究) when any of these holds (surveys/METHOD.md,
/// `accountability`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AccountabilityRules {
    /// 怠慢滞后: a rectification item still open or returned more than this many days after its
    /// deadline.
    pub overdue_days: u32,
    /// An item raised from a `serious` finding counts as soon as it is overdue at all.
    pub serious_overdue: bool,
    /// 成效不明显: the school's grade is this one (a band's name) …
    pub grade: String,
    /// … and at least this many of its indicators are unmet.
    pub unmet_indicators: u32,
    /// 敷衍塞责: the round's self-check campaign asked the school and it sent none.
    pub missing_self_check: bool,
    /// 敷衍塞责: a visit found the school's self-check differs from what it verified (核查不符).
    pub verify_mismatch: bool,
}

impl Default for AccountabilityRules {
    fn default() -> Self {
        AccountabilityRules {
            overdue_days: 30,
            serious_overdue: true,
            grade: "不合格".to_owned(),
            unmet_indicators: 1,
            missing_self_check: true,
            verify_mismatch: true,
        }
    }
}

/// The shipped `[visits] tolerance`: a tenth of the verified number, and at least 0.1 of one.
pub const DEFAULT_VERIFY_TOLERANCE: f64 = 0.1;

/// Where a questionnaire's population comes from: the number of people who could have
/// answered at a school, for the finite-population correction, the minimum's relaxation and
/// the coverage floor (surveys/METHOD.md, section `population`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PopulationBasis {
    /// 在校生数 in the school list.
    Enrolment,
    /// 专任教师数 in the school list.
    Teachers,
    /// Unknown: no correction, the full minimum, no coverage floor.
    None,
}

impl PopulationBasis {
    pub fn parse(text: &str) -> Option<PopulationBasis> {
        match text.trim() {
            "enrolment" => Some(PopulationBasis::Enrolment),
            "teachers" => Some(PopulationBasis::Teachers),
            "none" => Some(PopulationBasis::None),
            _ => None,
        }
    }

    /// The shipped defaults: parents' and students' population is the enrolment, teachers'
    /// the full-time teachers.
    pub fn defaults() -> BTreeMap<Source, PopulationBasis> {
        BTreeMap::from([
            (Source::Parents, PopulationBasis::Enrolment),
            (Source::Teachers, PopulationBasis::Teachers),
            (Source::Students, PopulationBasis::Enrolment),
        ])
    }

    /// The population of a school with `enrolment` pupils and `teachers` full-time teachers;
    /// `None` when unknown (the basis is `none`, or the school list says 0).
    pub fn of(self, enrolment: i64, teachers: i64) -> Option<u64> {
        let number = match self {
            PopulationBasis::Enrolment => enrolment,
            PopulationBasis::Teachers => teachers,
            PopulationBasis::None => return None,
        };
        u64::try_from(number).ok().filter(|number| *number > 0)
    }
}

/// The thresholds of the answer-quality checks (`[quality]` of `rating.toml`), and which flags
/// keep an answer out of the figures. A flag never drops an answer: it is stored, listed on the
/// quality page, and (if its flag is in `leave_out`) counted nowhere until a supervisor releases it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct QualityRules {
    /// `straight_line`: an answer with at least this many scale questions and matrix statements,
    /// every one on the same point of its scale.
    pub straight_line_min_answers: u32,
    /// `too_fast`: fewer seconds than this per answered question (each matrix statement counts)
    /// between the form being served and submitted.
    pub seconds_per_answer: f64,
    /// `burst`: this many answers or more through one school's link within `burst_minutes`,
    /// from browsers that refused the cookie, flag the latest of them.
    pub burst_answers: u32,
    pub burst_minutes: u32,
    /// The flags whose answers are stored but left out of every figure until a supervisor
    /// releases them (the shipped policy: `held` and `burst`).
    pub leave_out: Vec<Flag>,
    /// `held`: one link may take at most `max(answers_per_minute_floor, ⌈expected / 10⌉)`
    /// answers in a minute; past it, that minute's answers are held (those taken before the
    /// rate was passed too).
    pub answers_per_minute_floor: u32,
    /// `held`: one client address may send at most this many answers to one link within
    /// `admission_minutes`; past it, all of them are held. Generous: a village behind one
    /// carrier's address, or a parents' meeting on the school's wifi, stays under it.
    pub answers_per_address: u32,
    pub admission_minutes: u32,
}

impl Default for QualityRules {
    /// The shipped defaults, also used when `rating.toml` has no `[quality]`.
    fn default() -> Self {
        QualityRules {
            straight_line_min_answers: 10,
            seconds_per_answer: 1.5,
            burst_answers: 5,
            burst_minutes: 10,
            leave_out: vec![Flag::Held, Flag::Burst],
            answers_per_minute_floor: 50,
            answers_per_address: 60,
            admission_minutes: 10,
        }
    }
}

impl QualityRules {
    /// Whether an answer with `flags` is left out of the figures when it is stored.
    pub fn leaves_out(&self, flags: &[Flag]) -> bool {
        flags.iter().any(|flag| self.leave_out.contains(flag))
    }

    /// How many answers a link expecting `expected` may take in one minute.
    pub fn answers_per_minute(&self, expected: i64) -> i64 {
        let tenth = (expected.max(0) + 9) / 10;
        tenth.max(i64::from(self.answers_per_minute_floor))
    }
}

impl RatingRules {
    /// The shipped coverage floors: 20% of parents and of students, 50% of teachers.
    pub fn default_coverage() -> BTreeMap<Source, f64> {
        BTreeMap::from([
            (Source::Parents, 0.2),
            (Source::Teachers, 0.5),
            (Source::Students, 0.2),
        ])
    }

    /// The population basis of a questionnaire source (`none` for the indicators).
    pub fn population_basis(&self, source: Source) -> PopulationBasis {
        self.population
            .get(&source)
            .copied()
            .unwrap_or(PopulationBasis::None)
    }

    /// A school's population for `source`, from its school-list figures.
    pub fn population_of(&self, source: Source, school: &entity::school::Model) -> Option<u64> {
        self.population_basis(source)
            .of(i64::from(school.enrolment), i64::from(school.teachers))
    }

    /// The coverage floor of `source`, 0 when none.
    pub fn coverage_floor(&self, source: Source) -> f64 {
        self.coverage.get(&source).copied().unwrap_or(0.0)
    }

    pub fn area_weight(&self, area: Area) -> f64 {
        self.area_weights.get(&area).copied().unwrap_or(0.0)
    }

    pub fn source_weight(&self, source: Source) -> f64 {
        self.source_weights.get(&source).copied().unwrap_or(0.0)
    }

    pub fn minimum_answers(&self, source: Source) -> u64 {
        self.minimum_answers.get(&source).copied().unwrap_or(1)
    }

    /// The grade of a score. The score is first rounded to one decimal, as it is shown: a school
    /// shown as 90.0 is 优秀 even if its unrounded score was 89.96.
    pub fn grade(&self, score: f64) -> &Band {
        let shown = (score * 10.0).round() / 10.0;
        self.bands
            .iter()
            .find(|band| shown >= band.at_least)
            .or_else(|| self.bands.last())
            .unwrap_or(&FALLBACK_BAND)
    }
}

/// Only reachable with rules built by hand without bands; checked rules always have two or more.
static FALLBACK_BAND: Band = Band {
    grade: String::new(),
    at_least: 0.0,
};

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The shipped rules of `surveys/rating.toml`, built by hand for arithmetic tests.
    pub(crate) fn customary_rules() -> RatingRules {
        let area_weights = BTreeMap::from([
            (Area::PovertyStudents, 0.15),
            (Area::EducationStages, 0.15),
            (Area::SpecialChildren, 0.15),
            (Area::Informatization, 0.10),
            (Area::RuralTeachers, 0.15),
            (Area::Nutrition, 0.15),
            (Area::SchoolPairing, 0.05),
            (Area::Overall, 0.10),
        ]);
        let source_weights = BTreeMap::from([
            (Source::Parents, 0.3),
            (Source::Teachers, 0.2),
            (Source::Students, 0.2),
            (Source::Indicators, 0.3),
        ]);
        let minimum_answers = BTreeMap::from([
            (Source::Parents, 30),
            (Source::Teachers, 5),
            (Source::Students, 30),
            (Source::Indicators, 1),
        ]);
        let bands = [
            ("优秀", 90.0),
            ("良好", 80.0),
            ("合格", 60.0),
            ("不合格", 0.0),
        ]
        .into_iter()
        .map(|(grade, at_least)| Band {
            grade: grade.to_owned(),
            at_least,
        })
        .collect();
        RatingRules {
            area_weights,
            source_weights,
            minimum_answers,
            bands,
            county_weighting: CountyWeighting::Enrolment,
            quality: QualityRules::default(),
            population: PopulationBasis::defaults(),
            coverage: RatingRules::default_coverage(),
            verify_tolerance: DEFAULT_VERIFY_TOLERANCE,
            accountability: AccountabilityRules::default(),
        }
    }

    #[test]
    fn grades_follow_the_customary_bands() {
        let rules = customary_rules();
        assert_eq!(rules.grade(100.0).grade, "优秀");
        assert_eq!(rules.grade(90.0).grade, "优秀");
        assert_eq!(rules.grade(89.9).grade, "良好");
        assert_eq!(rules.grade(80.0).grade, "良好");
        assert_eq!(rules.grade(79.94).grade, "合格");
        assert_eq!(rules.grade(60.0).grade, "合格");
        assert_eq!(rules.grade(59.9).grade, "不合格");
        assert_eq!(rules.grade(0.0).grade, "不合格");
    }

    #[test]
    fn a_score_is_graded_as_it_is_shown() {
        let rules = customary_rules();
        // 89.96 is shown as 90.0.
        assert_eq!(rules.grade(89.96).grade, "优秀");
        assert_eq!(rules.grade(89.94).grade, "良好");
    }

    #[test]
    fn sources_round_trip_through_their_slugs() {
        for source in Source::ALL {
            assert_eq!(Source::parse(source.slug()), Some(source));
        }
        assert_eq!(Source::parse("school"), None);
        assert_eq!(Source::Indicators.audience(), Audience::School);
    }
}
