//! Turns raw survey files into the model, collecting every error instead of stopping at the first,
//! each naming its file and the question (or section, or scale) it is about.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

use super::model::{
    Area, Audience, ChoiceOption, MatrixRow, Question, QuestionKind, Scale, ScalePoint, Section,
    ShowIf, Survey,
};
use super::raw::{RawOption, RawQuestion, RawScale, RawShowIf, RawSurvey};

const DEFAULT_TEXT_LENGTH: u32 = 200;
const DEFAULT_LONG_TEXT_LENGTH: u32 = 2000;
const LONGEST_TEXT_ALLOWED: u32 = 10_000;

/// What a message is about, inside one file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    File,
    Line(usize),
    Scale(String),
    Section(String),
    Question(String),
    /// An indicator of `indicators.toml`.
    Indicator(String),
    /// A top-level table or field of a plan file, such as `bands` in `rating.toml`.
    Field(String),
    /// A county target of `targets.toml`.
    Target(String),
    /// An item of a visit checklist (`visits/*.toml`).
    Item(String),
}

/// One thing wrong with the plan's files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlanError {
    /// The file as the user named it, such as `surveys/parents.toml`.
    pub file: String,
    pub location: Location,
    pub message: String,
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Location::File => write!(f, "{}: {}", self.file, self.message),
            Location::Line(line) => write!(f, "{}: line {}: {}", self.file, line, self.message),
            Location::Scale(id) => write!(f, "{}: scale {}: {}", self.file, id, self.message),
            Location::Section(id) => write!(f, "{}: section {}: {}", self.file, id, self.message),
            Location::Question(id) => write!(f, "{}: question {}: {}", self.file, id, self.message),
            Location::Indicator(id) => {
                write!(f, "{}: indicator {}: {}", self.file, id, self.message)
            }
            Location::Field(name) => write!(f, "{}: {}: {}", self.file, name, self.message),
            Location::Target(id) => write!(f, "{}: target {}: {}", self.file, id, self.message),
            Location::Item(id) => write!(f, "{}: item {}: {}", self.file, id, self.message),
        }
    }
}

/// Collects errors for one file.
pub(crate) struct Report<'a> {
    file: &'a str,
    pub errors: Vec<PlanError>,
}

impl<'a> Report<'a> {
    pub fn new(file: &'a str) -> Self {
        Report {
            file,
            errors: Vec::new(),
        }
    }

    pub fn add(&mut self, location: Location, message: impl Into<String>) {
        self.errors.push(PlanError {
            file: self.file.to_owned(),
            location,
            message: message.into(),
        });
    }
}

/// Ids of surveys, sections, questions and matrix rows: they become URL and form-field names.
pub(crate) fn is_slug(text: &str) -> bool {
    let mut chars = text.chars();
    matches!(chars.next(), Some('a'..='z'))
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Option and scale-point codes: what answers store, so short and plain.
fn is_code(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 32
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

pub(super) fn check_scale(id: &str, raw: &RawScale, report: &mut Report) -> Scale {
    let location = || Location::Scale(id.to_owned());
    if !is_slug(id) {
        report.add(
            location(),
            "the scale's name must be lower-case letters, digits or _, starting with a letter",
        );
    }
    if raw.name.trim().is_empty() {
        report.add(location(), "`name` is empty");
    }
    if raw.points.len() < 2 {
        report.add(location(), "a scale needs at least two points");
    }
    let mut seen = HashSet::new();
    for point in &raw.points {
        if !is_code(&point.code) {
            report.add(
                location(),
                format!(
                    "point code \"{}\" must be 1–32 letters, digits, _ or -",
                    point.code
                ),
            );
        }
        if !seen.insert(point.code.as_str()) {
            report.add(
                location(),
                format!("point code \"{}\" appears twice", point.code),
            );
        }
        if point.label.trim().is_empty() {
            report.add(location(), format!("point \"{}\" has no label", point.code));
        }
    }
    Scale {
        id: id.to_owned(),
        name: raw.name.trim().to_owned(),
        points: raw
            .points
            .iter()
            .map(|point| ScalePoint {
                code: point.code.clone(),
                label: point.label.trim().to_owned(),
                score: point.score,
                satisfied: point.satisfied,
            })
            .collect(),
    }
}

/// Checks one survey file against the shared scales. Returns the survey even when errors were
/// found, so that later checks (duplicate ids across files) still run; callers must look at
/// `report.errors` before using it.
pub(super) fn check_survey(
    raw: &RawSurvey,
    shared_scales: &BTreeMap<String, Scale>,
    report: &mut Report,
) -> Survey {
    if !is_slug(&raw.id) {
        report.add(
            Location::File,
            format!(
                "survey id \"{}\" must be lower-case letters, digits or _, starting with a letter",
                raw.id
            ),
        );
    }
    if raw.title.trim().is_empty() {
        report.add(Location::File, "`title` is empty");
    }
    let audience = Audience::parse(&raw.audience).unwrap_or_else(|| {
        report.add(
            Location::File,
            format!(
                "unknown audience \"{}\": use parents, teachers, students or school",
                raw.audience
            ),
        );
        Audience::Parents
    });

    let mut scales = shared_scales.clone();
    for (id, raw_scale) in &raw.scales {
        let scale = check_scale(id, raw_scale, report);
        if shared_scales.contains_key(id) {
            report.add(
                Location::Scale(id.clone()),
                "a scale of this name is already defined in scales.toml",
            );
        }
        scales.insert(id.clone(), scale);
    }

    if raw.sections.is_empty() {
        report.add(Location::File, "the survey has no sections");
    }

    let mut section_ids = HashSet::new();
    // Earlier questions, for `show_if`: id → the codes its answers can take.
    let mut earlier: HashMap<String, Option<Vec<String>>> = HashMap::new();
    let all_question_ids: HashSet<&str> = raw
        .sections
        .iter()
        .flat_map(|section| section.questions.iter().map(|q| q.id.as_str()))
        .collect();
    let mut sections = Vec::new();
    for raw_section in &raw.sections {
        let location = || Location::Section(raw_section.id.clone());
        if !is_slug(&raw_section.id) {
            report.add(
                location(),
                "the section id must be lower-case letters, digits or _, starting with a letter",
            );
        }
        if !section_ids.insert(raw_section.id.as_str()) {
            report.add(location(), "this section id appears twice");
        }
        if raw_section.title.trim().is_empty() {
            report.add(location(), "`title` is empty");
        }
        let area = Area::parse(&raw_section.area).unwrap_or_else(|| {
            let known: Vec<&str> = Area::ALL.iter().map(|area| area.slug()).collect();
            report.add(
                location(),
                format!(
                    "unknown area \"{}\": use one of {}",
                    raw_section.area,
                    known.join(", ")
                ),
            );
            Area::Overall
        });
        if raw_section.questions.is_empty() {
            report.add(location(), "the section has no questions");
        }
        let mut questions = Vec::new();
        for raw_question in &raw_section.questions {
            let question = check_question(raw_question, &scales, report);
            if let Some(show_if) = &raw_question.show_if {
                if let Some(show_if) = check_show_if(
                    &raw_question.id,
                    show_if,
                    &earlier,
                    &all_question_ids,
                    report,
                ) {
                    questions.push(Question {
                        show_if: Some(show_if),
                        ..question
                    });
                } else {
                    questions.push(question);
                }
            } else {
                questions.push(question);
            }
            let id = raw_question.id.clone();
            if earlier.contains_key(&id) {
                report.add(
                    Location::Question(id.clone()),
                    "this question id appears twice in the survey",
                );
            }
            let codes = questions.last().and_then(|q| show_if_codes(&q.kind));
            earlier.insert(id, codes);
        }
        sections.push(Section {
            id: raw_section.id.clone(),
            title: raw_section.title.trim().to_owned(),
            area,
            intro: raw_section.intro.clone(),
            questions,
        });
    }

    Survey {
        id: raw.id.clone(),
        title: raw.title.trim().to_owned(),
        audience,
        intro: raw.intro.trim().to_owned(),
        minutes: raw.minutes,
        thanks: raw.thanks.clone(),
        sections,
    }
}

/// The codes a `show_if` may test on this kind of question, or `None` if it cannot be tested.
fn show_if_codes(kind: &QuestionKind) -> Option<Vec<String>> {
    match kind {
        QuestionKind::Single { .. }
        | QuestionKind::Multiple { .. }
        | QuestionKind::Scale { .. }
        | QuestionKind::YesNo { .. }
        | QuestionKind::Rating { .. } => kind.codes(),
        _ => None,
    }
}

fn check_show_if(
    question_id: &str,
    raw: &RawShowIf,
    earlier: &HashMap<String, Option<Vec<String>>>,
    all_question_ids: &HashSet<&str>,
    report: &mut Report,
) -> Option<ShowIf> {
    let location = || Location::Question(question_id.to_owned());
    let any_of = match (&raw.equals, &raw.any_of) {
        (Some(code), None) => vec![code.clone()],
        (None, Some(codes)) if !codes.is_empty() => codes.clone(),
        (None, Some(_)) => {
            report.add(location(), "show_if: `any_of` is empty");
            return None;
        }
        (None, None) => {
            report.add(location(), "show_if needs `equals` or `any_of`");
            return None;
        }
        (Some(_), Some(_)) => {
            report.add(location(), "show_if takes `equals` or `any_of`, not both");
            return None;
        }
    };
    if raw.question == question_id {
        report.add(location(), "show_if points at the question itself");
        return None;
    }
    match earlier.get(&raw.question) {
        None if all_question_ids.contains(raw.question.as_str()) => {
            report.add(
                location(),
                format!(
                    "show_if points at question {}, which comes later: it must point at an earlier question",
                    raw.question
                ),
            );
            None
        }
        None => {
            report.add(
                location(),
                format!(
                    "show_if points at question {}, which does not exist",
                    raw.question
                ),
            );
            None
        }
        Some(None) => {
            report.add(
                location(),
                format!(
                    "show_if points at question {}, which is not a single, multiple, scale, yes_no or rating question",
                    raw.question
                ),
            );
            None
        }
        Some(Some(codes)) => {
            let mut ok = true;
            for code in &any_of {
                if !codes.contains(code) {
                    report.add(
                        location(),
                        format!(
                            "show_if: question {} has no option \"{}\" (it has {})",
                            raw.question,
                            code,
                            codes.join(", ")
                        ),
                    );
                    ok = false;
                }
            }
            ok.then(|| ShowIf {
                question: raw.question.clone(),
                any_of,
            })
        }
    }
}

fn check_options(
    raw: &Option<Vec<RawOption>>,
    scored: bool,
    location: &dyn Fn() -> Location,
    report: &mut Report,
) -> Vec<ChoiceOption> {
    let Some(raw) = raw else {
        report.add(location(), "`options` is missing");
        return Vec::new();
    };
    if raw.len() < 2 {
        report.add(location(), "a choice question needs at least two options");
    }
    let mut seen = HashSet::new();
    for option in raw {
        if !is_code(&option.code) {
            report.add(
                location(),
                format!(
                    "option code \"{}\" must be 1–32 letters, digits, _ or -",
                    option.code
                ),
            );
        }
        if !seen.insert(option.code.as_str()) {
            report.add(
                location(),
                format!("option \"{}\" appears twice", option.code),
            );
        }
        if option.label.trim().is_empty() {
            report.add(
                location(),
                format!("option \"{}\" has no label", option.code),
            );
        }
        if scored && option.score.is_none() {
            report.add(
                location(),
                format!("option \"{}\" has no score", option.code),
            );
        }
    }
    raw.iter()
        .map(|option| ChoiceOption {
            code: option.code.clone(),
            label: option.label.trim().to_owned(),
            score: option.score,
        })
        .collect()
}

fn resolve_scale(
    raw: &RawQuestion,
    scales: &BTreeMap<String, Scale>,
    location: &dyn Fn() -> Location,
    report: &mut Report,
) -> Scale {
    let fallback = || Scale {
        id: String::new(),
        name: String::new(),
        points: Vec::new(),
    };
    let Some(name) = &raw.scale else {
        report.add(location(), "`scale` is missing");
        return fallback();
    };
    let Some(scale) = scales.get(name) else {
        let known: Vec<&str> = scales.keys().map(String::as_str).collect();
        report.add(
            location(),
            format!(
                "unknown scale \"{}\" (known: {})",
                name,
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            ),
        );
        return fallback();
    };
    if raw.scored {
        for point in &scale.points {
            if point.score.is_none() {
                report.add(
                    location(),
                    format!(
                        "scale \"{}\" point \"{}\" has no score, but the question is scored",
                        name, point.code
                    ),
                );
            }
        }
    }
    scale.clone()
}

/// The fields each kind may carry besides the common ones.
fn allowed_fields(kind: &str) -> &'static [&'static str] {
    match kind {
        "single" => &["options"],
        "multiple" => &["options", "min", "max"],
        "scale" => &["scale"],
        "matrix" => &["scale", "rows"],
        "number" => &["decimal", "min", "max", "unit"],
        "yes_no" => &["yes_score", "no_score"],
        "text" | "long_text" => &["max_length"],
        "rating" => &["min_label", "max_label"],
        _ => &[],
    }
}

fn present_fields(raw: &RawQuestion) -> Vec<&'static str> {
    let mut fields = Vec::new();
    let mut note = |present: bool, name: &'static str| {
        if present {
            fields.push(name);
        }
    };
    note(raw.options.is_some(), "options");
    note(raw.min.is_some(), "min");
    note(raw.max.is_some(), "max");
    note(raw.scale.is_some(), "scale");
    note(raw.rows.is_some(), "rows");
    note(raw.decimal.is_some(), "decimal");
    note(raw.unit.is_some(), "unit");
    note(raw.max_length.is_some(), "max_length");
    note(raw.yes_score.is_some(), "yes_score");
    note(raw.no_score.is_some(), "no_score");
    note(raw.min_label.is_some(), "min_label");
    note(raw.max_label.is_some(), "max_label");
    fields
}

fn check_question(
    raw: &RawQuestion,
    scales: &BTreeMap<String, Scale>,
    report: &mut Report,
) -> Question {
    let location = || Location::Question(raw.id.clone());
    if !is_slug(&raw.id) {
        report.add(
            location(),
            "the question id must be lower-case letters, digits or _, starting with a letter",
        );
    }
    if raw.text.trim().is_empty() {
        report.add(location(), "`text` is empty");
    }
    let allowed = allowed_fields(&raw.kind);
    for field in present_fields(raw) {
        if !allowed.contains(&field) {
            report.add(
                location(),
                format!("`{}` does not apply to a {} question", field, raw.kind),
            );
        }
    }
    let kind = match raw.kind.as_str() {
        "single" => QuestionKind::Single {
            options: check_options(&raw.options, raw.scored, &location, report),
        },
        "multiple" => {
            let options = check_options(&raw.options, raw.scored, &location, report);
            let required = raw.required.unwrap_or(true);
            let min = whole_count(raw.min, "min", &location, report).unwrap_or(u32::from(required));
            let max = whole_count(raw.max, "max", &location, report);
            if let Some(max) = max {
                if max < min.max(1) {
                    report.add(
                        location(),
                        format!("`max` ({max}) is below `min` ({min}) or zero"),
                    );
                }
                if max as usize > options.len() {
                    report.add(
                        location(),
                        format!("`max` ({max}) is more than the {} options", options.len()),
                    );
                }
            }
            if min as usize > options.len() {
                report.add(
                    location(),
                    format!("`min` ({min}) is more than the {} options", options.len()),
                );
            }
            QuestionKind::Multiple { options, min, max }
        }
        "scale" => QuestionKind::Scale {
            scale: resolve_scale(raw, scales, &location, report),
        },
        "matrix" => {
            let scale = resolve_scale(raw, scales, &location, report);
            let rows = match &raw.rows {
                None => {
                    report.add(location(), "`rows` is missing");
                    Vec::new()
                }
                Some(rows) => {
                    if rows.is_empty() {
                        report.add(location(), "`rows` is empty");
                    }
                    let mut seen = HashSet::new();
                    for row in rows {
                        if !is_slug(&row.id) {
                            report.add(
                                location(),
                                format!(
                                    "row id \"{}\" must be lower-case letters, digits or _, starting with a letter",
                                    row.id
                                ),
                            );
                        }
                        if !seen.insert(row.id.as_str()) {
                            report.add(location(), format!("row \"{}\" appears twice", row.id));
                        }
                        if row.text.trim().is_empty() {
                            report.add(location(), format!("row \"{}\" has no text", row.id));
                        }
                    }
                    rows.iter()
                        .map(|row| MatrixRow {
                            id: row.id.clone(),
                            text: row.text.trim().to_owned(),
                        })
                        .collect()
                }
            };
            QuestionKind::Matrix { scale, rows }
        }
        "number" => {
            let decimal = raw.decimal.unwrap_or(false);
            if raw.scored {
                report.add(
                    location(),
                    "a number question cannot be scored: rate it through an indicator",
                );
            }
            if !decimal {
                for (name, bound) in [("min", raw.min), ("max", raw.max)] {
                    if let Some(bound) = bound
                        && bound.fract() != 0.0
                    {
                        report.add(
                            location(),
                            format!("`{name}` ({bound}) is not a whole number, but the question takes whole numbers (add `decimal = true`)"),
                        );
                    }
                }
            }
            if let (Some(min), Some(max)) = (raw.min, raw.max)
                && min > max
            {
                report.add(location(), format!("`min` ({min}) is above `max` ({max})"));
            }
            QuestionKind::Number {
                decimal,
                min: raw.min,
                max: raw.max,
                unit: raw.unit.clone(),
            }
        }
        "yes_no" => {
            if raw.scored && (raw.yes_score.is_none() || raw.no_score.is_none()) {
                report.add(
                    location(),
                    "the question is scored but `yes_score` or `no_score` is missing",
                );
            }
            QuestionKind::YesNo {
                yes_score: raw.yes_score,
                no_score: raw.no_score,
            }
        }
        "text" | "long_text" => {
            if raw.scored {
                report.add(location(), "a text question cannot be scored");
            }
            let long = raw.kind == "long_text";
            let max_length = raw.max_length.unwrap_or(if long {
                DEFAULT_LONG_TEXT_LENGTH
            } else {
                DEFAULT_TEXT_LENGTH
            });
            if max_length == 0 || max_length > LONGEST_TEXT_ALLOWED {
                report.add(
                    location(),
                    format!("`max_length` must be between 1 and {LONGEST_TEXT_ALLOWED}"),
                );
            }
            if long {
                QuestionKind::LongText { max_length }
            } else {
                QuestionKind::Text { max_length }
            }
        }
        "rating" => QuestionKind::Rating {
            min_label: raw.min_label.clone(),
            max_label: raw.max_label.clone(),
        },
        other => {
            report.add(
                location(),
                format!(
                    "unknown kind \"{other}\": use single, multiple, scale, matrix, number, yes_no, text, long_text or rating"
                ),
            );
            QuestionKind::Text {
                max_length: DEFAULT_TEXT_LENGTH,
            }
        }
    };
    Question {
        id: raw.id.clone(),
        text: raw.text.trim().to_owned(),
        help: raw.help.clone(),
        required: raw.required.unwrap_or(true),
        show_if: None,
        scored: raw.scored,
        kind,
    }
}

fn whole_count(
    value: Option<f64>,
    name: &str,
    location: &dyn Fn() -> Location,
    report: &mut Report,
) -> Option<u32> {
    let value = value?;
    if value < 0.0 || value.fract() != 0.0 || value > 1000.0 {
        report.add(
            location(),
            format!("`{name}` must be a whole number of picks, 0 or more"),
        );
        return None;
    }
    Some(value as u32)
}
