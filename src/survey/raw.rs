//! The survey files exactly as written: serde structs that mirror the TOML, with nothing checked
//! beyond TOML syntax and field names. `check` turns them into the model or lists what is wrong.

use std::collections::BTreeMap;

use serde::Deserialize;

/// `surveys/scales.toml`: scales shared by every survey.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScalesFile {
    #[serde(default)]
    pub scales: BTreeMap<String, RawScale>,
}

/// One survey file, such as `surveys/parents.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSurvey {
    pub id: String,
    pub title: String,
    pub audience: String,
    #[serde(default)]
    pub intro: String,
    /// How long answering takes, as told to the person answering.
    pub minutes: Option<u32>,
    /// What the thank-you page says; a sensible default when absent.
    pub thanks: Option<String>,
    /// Scales used only by this survey.
    #[serde(default)]
    pub scales: BTreeMap<String, RawScale>,
    #[serde(default)]
    pub sections: Vec<RawSection>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScale {
    pub name: String,
    #[serde(default)]
    pub points: Vec<RawScalePoint>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawScalePoint {
    pub code: String,
    pub label: String,
    pub score: Option<f64>,
    /// Counts towards the satisfaction rate (满意率).
    #[serde(default)]
    pub satisfied: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSection {
    pub id: String,
    pub title: String,
    pub area: String,
    pub intro: Option<String>,
    #[serde(default)]
    pub questions: Vec<RawQuestion>,
}

/// Every field any kind of question may carry; `check` says which belong to which kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawQuestion {
    pub id: String,
    pub kind: String,
    pub text: String,
    pub help: Option<String>,
    pub required: Option<bool>,
    pub show_if: Option<RawShowIf>,
    /// The question feeds the overall rating, so each of its answers needs a score.
    #[serde(default)]
    pub scored: bool,
    pub options: Option<Vec<RawOption>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub scale: Option<String>,
    pub rows: Option<Vec<RawRow>>,
    pub decimal: Option<bool>,
    pub unit: Option<String>,
    pub max_length: Option<u32>,
    pub yes_score: Option<f64>,
    pub no_score: Option<f64>,
    pub min_label: Option<String>,
    pub max_label: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOption {
    pub code: String,
    pub label: String,
    pub score: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawRow {
    pub id: String,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawShowIf {
    pub question: String,
    pub equals: Option<String>,
    pub any_of: Option<Vec<String>>,
}
