//! `indicators.toml` and `rating.toml` exactly as written: serde structs that mirror the TOML,
//! with nothing checked beyond TOML syntax and field names. `check` turns them into the model or
//! lists what is wrong.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `surveys/indicators.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndicatorsFile {
    /// The survey every indicator reads unless it names another.
    pub survey: String,
    #[serde(default)]
    pub indicators: Vec<RawIndicator>,
}

/// One `[[indicators]]` table. Exactly one of `ratio`, `value`, `yes` and `choice` is the
/// formula; `check` says which of the other fields belong to it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawIndicator {
    pub id: String,
    pub title: String,
    pub area: String,
    pub survey: Option<String>,
    pub basis: Option<String>,
    pub weight: Option<f64>,
    pub ratio: Option<RawRatio>,
    pub value: Option<String>,
    pub yes: Option<String>,
    pub choice: Option<String>,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub equals: Option<f64>,
    pub accepted: Option<Vec<String>>,
    pub not_applicable: Option<Vec<String>>,
    pub applies_to: Option<RawCondition>,
    #[serde(default)]
    pub thresholds: Vec<RawThreshold>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRatio {
    pub numerator: String,
    pub denominator: String,
    pub share: Option<bool>,
    pub zero_denominator: Option<String>,
}

impl RawIndicator {
    pub fn target(&self) -> RawTarget {
        RawTarget {
            at_least: self.at_least,
            at_most: self.at_most,
            equals: self.equals,
            accepted: self.accepted.clone(),
        }
    }
}

/// The comparison fields an indicator or one of its `thresholds` may carry.
#[derive(Debug, Default)]
pub(super) struct RawTarget {
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub equals: Option<f64>,
    pub accepted: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCondition {
    pub central: Option<bool>,
    pub key_village: Option<bool>,
    pub kind: Option<Vec<String>>,
}

/// One entry of an indicator's `thresholds`: a target for the schools `when` is about.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawThreshold {
    pub when: RawCondition,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub equals: Option<f64>,
    pub accepted: Option<Vec<String>>,
}

impl RawThreshold {
    pub fn target(&self) -> RawTarget {
        RawTarget {
            at_least: self.at_least,
            at_most: self.at_most,
            equals: self.equals,
            accepted: self.accepted.clone(),
        }
    }
}

/// `surveys/rating.toml`. Weights and minimums are maps so that a misspelt area or source gets a
/// message listing the right names rather than serde's generic one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRating {
    pub areas: BTreeMap<String, f64>,
    pub sources: BTreeMap<String, f64>,
    pub minimum_answers: BTreeMap<String, i64>,
    #[serde(default)]
    pub bands: Vec<RawBand>,
    pub county: RawCounty,
    /// Optional: without it the answer-quality checks use their defaults.
    pub quality: Option<RawQuality>,
    /// Optional: whose number in the school list is each questionnaire's population.
    #[serde(default)]
    pub population: BTreeMap<String, String>,
    /// Optional: the response rate below which a source's grade is shown as for reference only.
    #[serde(default)]
    pub coverage: BTreeMap<String, f64>,
    /// Optional: how far a school's reported value may lie from a visit's verified one.
    pub visits: Option<RawVisits>,
    /// Optional: who the circular (通报) names for 严格责任追究 (六.3).
    pub accountability: Option<RawAccountability>,
}

/// `[visits]`: comparing a self-check with what a visit verified. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVisits {
    pub tolerance: Option<f64>,
}

/// `[accountability]`: the thresholds of the circular's 责任追究 list. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAccountability {
    pub overdue_days: Option<i64>,
    pub serious_overdue: Option<bool>,
    pub grade: Option<String>,
    pub unmet_indicators: Option<i64>,
    pub missing_self_check: Option<bool>,
    pub verify_mismatch: Option<bool>,
}

/// `[quality]`: when an answer is flagged for a supervisor to look at. Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuality {
    pub straight_line_min_answers: Option<i64>,
    pub seconds_per_answer: Option<f64>,
    pub burst_answers: Option<i64>,
    pub burst_minutes: Option<i64>,
    pub leave_out: Option<Vec<String>>,
    pub answers_per_minute_floor: Option<i64>,
    pub answers_per_address: Option<i64>,
    pub admission_minutes: Option<i64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawBand {
    pub grade: String,
    pub at_least: f64,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCounty {
    pub weight_by: String,
}

/// `surveys/targets.toml`: the county's targets (县级目标) of the plan's 四.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTargetsFile {
    /// The self-check survey every target reads.
    pub survey: String,
    #[serde(default)]
    pub targets: Vec<RawCountyTarget>,
}

/// One `[[targets]]` table: exactly one of `count` and `sum`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCountyTarget {
    pub id: String,
    pub title: String,
    pub area: String,
    pub basis: String,
    /// Which schools of the county the target counts over; every school without it.
    pub schools: Option<RawCondition>,
    pub count: Option<RawCount>,
    pub sum: Option<String>,
    pub target: RawGoal,
}

/// What a school's answer must be to count: an indicator's formula and target, written as in
/// `indicators.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawCount {
    pub ratio: Option<RawRatio>,
    pub value: Option<String>,
    pub yes: Option<String>,
    pub choice: Option<String>,
    pub at_least: Option<f64>,
    pub at_most: Option<f64>,
    pub equals: Option<f64>,
    pub accepted: Option<Vec<String>>,
    pub not_applicable: Option<Vec<String>>,
}

/// `target = 36` or `target = "all"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawGoal {
    Number(f64),
    Word(String),
}

/// One file of `surveys/visits/`: a checklist a supervision group fills in at a school.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChecklist {
    pub id: String,
    pub title: String,
    /// 重点督查, 专项督查, 随机走访 or 座谈了解, by slug.
    pub kind: String,
    pub intro: Option<String>,
    #[serde(default)]
    pub items: Vec<RawChecklistItem>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawChecklistItem {
    pub id: String,
    pub area: String,
    pub text: String,
    pub help: Option<String>,
    /// `judgement` (met / not met / not applicable, with a note), `number` or `photo`.
    pub answer: String,
    pub unit: Option<String>,
    /// The indicator of `indicators.toml` this item re-checks on site.
    pub indicator: Option<String>,
}
