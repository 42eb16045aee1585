//! The plan's indicators (指标), checked, and their evaluation for one school: met, not met, not
//! reported or not applicable, with the computed value. Indicators read the school's self-check
//! (学校自评表) and the school's profile from the county's list (kind, central school, key
//! village); they never read the database themselves. Pure arithmetic.

use std::collections::BTreeMap;

use serde::Serialize;

use super::satisfaction::Estimate;
use crate::school_kind::SchoolKind;
use crate::survey::Answer;
use crate::survey::{Area, ChoiceOption, ShowIf};

/// How close a number must be to a threshold to count as reaching it: fractions such as
/// 7 / 70 are not always exactly the decimal 0.1 once in binary.
const COMPARISON_TOLERANCE: f64 = 1e-9;

/// One indicator of `indicators.toml`, checked against the survey it reads.
#[derive(Clone, Debug, PartialEq)]
pub struct Indicator {
    /// A slug, unique in the file.
    pub id: String,
    /// What it measures, as supervisors read it: 专任教师专科及以上学历比例.
    pub title: String,
    /// One of the seven areas of the plan (never `overall`).
    pub area: Area,
    /// The survey whose answers it reads: a survey answered by the school.
    pub survey: String,
    /// Where in the plan the threshold comes from, such as 四（五）1.
    pub basis: Option<String>,
    /// The indicator's weight among the indicators of its area; 1 unless the file says.
    pub weight: f64,
    pub formula: Formula,
    /// Which schools the indicator is about; `None` for every school.
    pub applies_to: Option<SchoolCondition>,
    /// The target of a school that none of `targets_by_school` is about.
    pub target: Target,
    /// Stricter or looser targets for some schools; the first whose condition holds is used.
    pub targets_by_school: Vec<SchoolTarget>,
}

/// A question of the self-check as an indicator reads it, copied from the survey at load time
/// so that evaluation and display need nothing else.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionRef {
    pub id: String,
    pub text: String,
    /// The unit of a number question (人, 元).
    pub unit: Option<String>,
    /// The question's own `show_if`: a question the school was not shown makes the indicator
    /// not applicable (rather than not reported).
    pub show_if: Option<ShowIf>,
    /// The options of a single-choice question, for labels; empty for other kinds.
    pub options: Vec<ChoiceOption>,
}

impl QuestionRef {
    fn option_label<'a>(&'a self, code: &'a str) -> &'a str {
        self.options
            .iter()
            .find(|option| option.code == code)
            .map_or(code, |option| option.label.as_str())
    }
}

/// What an indicator computes from the self-check.
#[derive(Clone, Debug, PartialEq)]
pub enum Formula {
    /// `numerator / denominator` of two number questions.
    Ratio {
        numerator: QuestionRef,
        denominator: QuestionRef,
        /// The numerator is a part of the denominator (teachers with a degree among all
        /// teachers): the ratio lies in 0–1 and is shown as a percentage. `false` for a rate
        /// per unit that may pass 1 (computers per teacher).
        share: bool,
        zero_denominator: ZeroDenominator,
    },
    /// A number answer as it is.
    Value { question: QuestionRef },
    /// A yes/no answer, which must be yes.
    Yes { question: QuestionRef },
    /// A single-choice answer, which must be one of the target's codes.
    Choice {
        question: QuestionRef,
        /// Answers for which the indicator does not apply (无食堂 for a canteen standard).
        not_applicable: Vec<String>,
    },
}

impl Formula {
    /// Every question the formula reads.
    pub fn questions(&self) -> Vec<&QuestionRef> {
        match self {
            Formula::Ratio {
                numerator,
                denominator,
                ..
            } => vec![numerator, denominator],
            Formula::Value { question }
            | Formula::Yes { question }
            | Formula::Choice { question, .. } => vec![question],
        }
    }

    /// The kind's name as written in `indicators.toml`.
    pub fn name(&self) -> &'static str {
        match self {
            Formula::Ratio { .. } => "ratio",
            Formula::Value { .. } => "value",
            Formula::Yes { .. } => "yes",
            Formula::Choice { .. } => "choice",
        }
    }
}

/// What a ratio whose denominator is 0 (no registered poor students, no disabled children in
/// the catchment) means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ZeroDenominator {
    /// Nothing to measure: the indicator does not apply to the school (the default).
    NotApplicable,
    Met,
    NotMet,
}

/// What a value must be to meet the indicator.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    AtLeast {
        value: f64,
    },
    AtMost {
        value: f64,
    },
    Between {
        low: f64,
        high: f64,
    },
    Equals {
        value: f64,
    },
    /// A yes/no answer is yes.
    Yes,
    /// A single-choice answer is one of these codes.
    OneOf {
        codes: Vec<String>,
    },
}

impl Target {
    fn is_met_by_number(&self, value: f64) -> bool {
        let near = |threshold: f64| COMPARISON_TOLERANCE * threshold.abs().max(1.0);
        match self {
            Target::AtLeast { value: low } => value >= low - near(*low),
            Target::AtMost { value: high } => value <= high + near(*high),
            Target::Between { low, high } => {
                value >= low - near(*low) && value <= high + near(*high)
            }
            Target::Equals { value: target } => (value - target).abs() <= near(*target),
            Target::Yes | Target::OneOf { .. } => false,
        }
    }

    fn is_met_by_code(&self, code: &str) -> bool {
        match self {
            Target::Yes => code == "yes",
            Target::OneOf { codes } => codes.iter().any(|accepted| accepted == code),
            Target::AtLeast { .. }
            | Target::AtMost { .. }
            | Target::Between { .. }
            | Target::Equals { .. } => false,
        }
    }
}

/// A target for the schools a condition is about.
#[derive(Clone, Debug, PartialEq)]
pub struct SchoolTarget {
    pub when: SchoolCondition,
    pub target: Target,
}

/// A condition on a school's profile; every part that is given must hold.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SchoolCondition {
    /// Is (or is not) a township central school (乡镇中心校).
    pub central: Option<bool>,
    /// Is (or is not) in one of the county's key poverty villages (扶贫重点村).
    pub key_village: Option<bool>,
    /// Is of one of these kinds.
    pub kinds: Option<Vec<SchoolKind>>,
}

impl SchoolCondition {
    pub fn holds_for(&self, school: &SchoolProfile) -> bool {
        self.central.is_none_or(|central| central == school.central)
            && self
                .key_village
                .is_none_or(|key_village| key_village == school.key_village)
            && self
                .kinds
                .as_ref()
                .is_none_or(|kinds| kinds.contains(&school.kind))
    }
}

/// What the indicators need to know of a school besides its self-check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchoolProfile {
    pub kind: SchoolKind,
    pub central: bool,
    pub key_village: bool,
}

impl SchoolProfile {
    /// The profile of a stored school; `None` if its kind is not one of the seven (the table
    /// stores the kind as its Chinese label, which the schools module always writes).
    pub fn of_school(school: &entity::school::Model) -> Option<SchoolProfile> {
        Some(SchoolProfile {
            kind: SchoolKind::parse(&school.kind)?,
            central: school.is_central,
            key_village: school.is_key_village,
        })
    }
}

/// One answer of the self-check, as an indicator reads it.
#[derive(Clone, Debug, PartialEq)]
pub enum AnswerValue<'a> {
    Number(f64),
    /// The code of a single choice, a yes/no (`yes`, `no`) or a rating (`0`…`10`).
    Code(&'a str),
    /// The codes of a multiple choice.
    Codes(Vec<&'a str>),
    /// Text or matrix answers, which no indicator reads.
    Other,
}

/// A school's answers to its self-check, looked up by question id: implemented for the answers
/// of a validated response and for the JSON object a response is stored as.
pub trait SelfCheckAnswers {
    /// The answer to `question`; `None` when the school left it empty or was not shown it.
    fn answer(&self, question: &str) -> Option<AnswerValue<'_>>;

    /// Whether the answer to `question` is a visit's verified value rather than the school's
    /// report (only [`super::targets::VerifiedOverReported`] holds verified values).
    fn is_verified(&self, _question: &str) -> bool {
        false
    }
}

impl SelfCheckAnswers for BTreeMap<String, Answer> {
    fn answer(&self, question: &str) -> Option<AnswerValue<'_>> {
        Some(match self.get(question)? {
            Answer::Integer(number) => AnswerValue::Number(*number as f64),
            Answer::Decimal(number) => AnswerValue::Number(*number),
            Answer::Choice(code) => AnswerValue::Code(code),
            Answer::Choices(codes) => {
                AnswerValue::Codes(codes.iter().map(String::as_str).collect())
            }
            Answer::Text(_) | Answer::Rows(_) => AnswerValue::Other,
        })
    }
}

impl SelfCheckAnswers for serde_json::Map<String, serde_json::Value> {
    fn answer(&self, question: &str) -> Option<AnswerValue<'_>> {
        use serde_json::Value;
        Some(match self.get(question)? {
            Value::Number(number) => AnswerValue::Number(number.as_f64()?),
            Value::String(code) => AnswerValue::Code(code),
            Value::Array(items) => {
                AnswerValue::Codes(items.iter().filter_map(Value::as_str).collect())
            }
            Value::Null => return None,
            Value::Bool(_) | Value::Object(_) => AnswerValue::Other,
        })
    }
}

/// How one indicator came out for one school.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Evaluation {
    pub indicator: String,
    pub area: Area,
    pub weight: f64,
    pub outcome: Outcome,
    /// The computed number (a ratio as a fraction, or the number answered), when there is one.
    pub value: Option<f64>,
    /// The code answered to a yes/no or single-choice question.
    pub answer: Option<String>,
    /// The target the school was held to, when it was held to one.
    pub target: Option<Target>,
    /// The numbers answered look wrong, whatever the outcome.
    pub doubt: Option<Doubt>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Met,
    NotMet,
    /// The school was shown the question but left it empty.
    NotReported {
        question: String,
    },
    NotApplicable {
        reason: NotApplicable,
    },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Met => "达标",
            Outcome::NotMet => "未达标",
            Outcome::NotReported { .. } => "未填报",
            Outcome::NotApplicable { .. } => "不适用",
        }
    }
}

/// Why an indicator does not apply to a school.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "why", rename_all = "snake_case")]
pub enum NotApplicable {
    /// The indicator's `applies_to` leaves the school out (a 1500-yuan subsidy for a primary
    /// school).
    SchoolNotCovered,
    /// The self-check did not show the school this question (its `show_if` was not met).
    QuestionHidden { question: String },
    /// The ratio's denominator is 0.
    ZeroDenominator { question: String },
    /// The answer is one for which the indicator does not apply.
    ExcludedAnswer { code: String },
}

/// Something a supervisor should check with the school.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "doubt", rename_all = "snake_case")]
pub enum Doubt {
    /// A share whose part is larger than its whole (120 funded of 100 poor students).
    PartExceedsWhole { part: f64, whole: f64 },
}

impl Doubt {
    pub fn message(&self) -> String {
        match self {
            Doubt::PartExceedsWhole { part, whole } => format!(
                "其中数（{}）大于总数（{}），请与学校核对",
                format_number(*part),
                format_number(*whole)
            ),
        }
    }
}

impl Indicator {
    /// The target that applies to `school`.
    pub fn target_for(&self, school: &SchoolProfile) -> &Target {
        self.targets_by_school
            .iter()
            .find(|special| special.when.holds_for(school))
            .map_or(&self.target, |special| &special.target)
    }

    /// Whether the indicator is about `school` at all.
    pub fn applies_to_school(&self, school: &SchoolProfile) -> bool {
        self.applies_to
            .as_ref()
            .is_none_or(|condition| condition.holds_for(school))
    }

    /// The indicator's outcome for one school.
    pub fn evaluate(&self, school: &SchoolProfile, answers: &impl SelfCheckAnswers) -> Evaluation {
        let mut evaluation = Evaluation {
            indicator: self.id.clone(),
            area: self.area,
            weight: self.weight,
            outcome: Outcome::Met,
            value: None,
            answer: None,
            target: None,
            doubt: None,
        };
        let not_applicable = |reason| Outcome::NotApplicable { reason };
        if !self.applies_to_school(school) {
            evaluation.outcome = not_applicable(NotApplicable::SchoolNotCovered);
            return evaluation;
        }
        for question in self.formula.questions() {
            if !is_shown(question, answers) {
                evaluation.outcome = not_applicable(NotApplicable::QuestionHidden {
                    question: question.id.clone(),
                });
                return evaluation;
            }
        }
        let target = self.target_for(school);
        let not_reported = |question: &QuestionRef| Outcome::NotReported {
            question: question.id.clone(),
        };
        let met = |yes: bool| if yes { Outcome::Met } else { Outcome::NotMet };

        match &self.formula {
            Formula::Ratio {
                numerator,
                denominator,
                share,
                zero_denominator,
            } => {
                let Some(part) = number(answers, numerator) else {
                    evaluation.outcome = not_reported(numerator);
                    return evaluation;
                };
                let Some(whole) = number(answers, denominator) else {
                    evaluation.outcome = not_reported(denominator);
                    return evaluation;
                };
                if *share && part > whole {
                    evaluation.doubt = Some(Doubt::PartExceedsWhole { part, whole });
                }
                if whole == 0.0 {
                    evaluation.outcome = match zero_denominator {
                        ZeroDenominator::NotApplicable => {
                            not_applicable(NotApplicable::ZeroDenominator {
                                question: denominator.id.clone(),
                            })
                        }
                        ZeroDenominator::Met => Outcome::Met,
                        ZeroDenominator::NotMet => Outcome::NotMet,
                    };
                    if !matches!(evaluation.outcome, Outcome::NotApplicable { .. }) {
                        evaluation.target = Some(target.clone());
                    }
                    return evaluation;
                }
                let ratio = part / whole;
                evaluation.value = Some(ratio);
                evaluation.outcome = met(target.is_met_by_number(ratio));
            }
            Formula::Value { question } => {
                let Some(value) = number(answers, question) else {
                    evaluation.outcome = not_reported(question);
                    return evaluation;
                };
                evaluation.value = Some(value);
                evaluation.outcome = met(target.is_met_by_number(value));
            }
            Formula::Yes { question } => {
                let Some(code) = code(answers, question) else {
                    evaluation.outcome = not_reported(question);
                    return evaluation;
                };
                evaluation.outcome = met(target.is_met_by_code(code));
                evaluation.answer = Some(code.to_owned());
            }
            Formula::Choice {
                question,
                not_applicable: excluded,
            } => {
                let Some(code) = code(answers, question) else {
                    evaluation.outcome = not_reported(question);
                    return evaluation;
                };
                evaluation.answer = Some(code.to_owned());
                if excluded.iter().any(|excluded| excluded == code) {
                    evaluation.outcome = not_applicable(NotApplicable::ExcludedAnswer {
                        code: code.to_owned(),
                    });
                    return evaluation;
                }
                evaluation.outcome = met(target.is_met_by_code(code));
            }
        }
        evaluation.target = Some(target.clone());
        evaluation
    }

    /// A target as supervisors read it: `≥ 75%`, `= 0 人`, `≥ 1500 元`, `是`,
    /// `达到示范食堂标准`.
    pub fn describe_target(&self, target: &Target) -> String {
        let shown = |value: f64| self.format_value(value);
        match target {
            Target::AtLeast { value } => format!("≥ {}", shown(*value)),
            Target::AtMost { value } => format!("≤ {}", shown(*value)),
            Target::Between { low, high } => format!("{} – {}", shown(*low), shown(*high)),
            Target::Equals { value } => format!("= {}", shown(*value)),
            Target::Yes => "是".to_owned(),
            Target::OneOf { codes } => match &self.formula {
                Formula::Choice { question, .. } => codes
                    .iter()
                    .map(|code| question.option_label(code))
                    .collect::<Vec<_>>()
                    .join("或"),
                _ => codes.join("、"),
            },
        }
    }

    /// A computed value as supervisors read it: a share as a percentage (`80%`, `66.7%`), a
    /// number with its unit (`1500 元`), a per-unit ratio with two decimals at most (`1.25`).
    pub fn format_value(&self, value: f64) -> String {
        match &self.formula {
            Formula::Ratio { share: true, .. } => {
                format!("{}%", trim_decimals(value * 100.0, 1))
            }
            Formula::Ratio { share: false, .. } => trim_decimals(value, 2),
            Formula::Value { question } => match &question.unit {
                Some(unit) => format!("{} {}", format_number(value), unit),
                None => format_number(value),
            },
            Formula::Yes { .. } | Formula::Choice { .. } => format_number(value),
        }
    }
}

/// What a visit found on site for an indicator one of its checklist items re-checks
/// (surveys/METHOD.md, `verified`).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum VerifiedValue {
    /// 符合 (`true`) or 不符合 (`false`); a 不适用 verifies nothing.
    Judgement(bool),
    /// The number counted on site, for a `value` indicator.
    Number(f64),
}

impl VerifiedValue {
    /// As the pages show it: `符合`, `不符合`, or the number with the indicator's unit.
    pub fn describe(&self, indicator: &Indicator) -> String {
        match self {
            VerifiedValue::Judgement(true) => "符合".to_owned(),
            VerifiedValue::Judgement(false) => "不符合".to_owned(),
            VerifiedValue::Number(value) => indicator.format_value(*value),
        }
    }
}

impl Indicator {
    /// The school's evaluation with the visit's verified value in place of what it reported:
    /// a judgement decides met or not met, a number is held to the school's target. An
    /// indicator that does not cover the school stays so, and a number for an indicator that
    /// does not read one number verifies nothing: `None` then.
    pub fn apply_verified(
        &self,
        school: &SchoolProfile,
        reported: &Evaluation,
        verified: VerifiedValue,
    ) -> Option<Evaluation> {
        if !self.applies_to_school(school) {
            return None;
        }
        let target = self.target_for(school);
        let outcome = match verified {
            VerifiedValue::Judgement(true) => Outcome::Met,
            VerifiedValue::Judgement(false) => Outcome::NotMet,
            VerifiedValue::Number(value) if matches!(self.formula, Formula::Value { .. }) => {
                if target.is_met_by_number(value) {
                    Outcome::Met
                } else {
                    Outcome::NotMet
                }
            }
            VerifiedValue::Number(_) => return None,
        };
        Some(Evaluation {
            outcome,
            value: match verified {
                VerifiedValue::Number(value) => Some(value),
                VerifiedValue::Judgement(_) => None,
            },
            answer: None,
            target: Some(target.clone()),
            doubt: None,
            ..reported.clone()
        })
    }

    /// Whether the school's report differs from the visit's verified value past `tolerance`:
    /// a judgement differs when the reported outcome is the other one; a number when it lies
    /// further than `tolerance` × the verified number (at least 1) from it. A report whose own
    /// answers made the indicator not applicable (a gate question answered so as to hide it, a
    /// denominator of 0, an answer that excludes it) differs from any verified value: the
    /// supervisors found it applies. `None` when the report cannot be compared (not reported,
    /// an indicator that does not cover the school, no number).
    pub fn differs_from_verified(
        &self,
        reported: &Evaluation,
        verified: VerifiedValue,
        tolerance: f64,
    ) -> Option<bool> {
        if let Outcome::NotApplicable { reason } = &reported.outcome
            && !matches!(reason, NotApplicable::SchoolNotCovered)
        {
            return Some(true);
        }
        match verified {
            VerifiedValue::Judgement(met) => match reported.outcome {
                Outcome::Met => Some(!met),
                Outcome::NotMet => Some(met),
                Outcome::NotReported { .. } | Outcome::NotApplicable { .. } => None,
            },
            VerifiedValue::Number(value) => {
                let reported = reported.value?;
                Some(number_differs(reported, value, tolerance))
            }
        }
    }
}

/// `reported` lies further than `tolerance` × `verified` (at least 1) from `verified`.
pub fn number_differs(reported: f64, verified: f64, tolerance: f64) -> bool {
    (reported - verified).abs() > tolerance * verified.abs().max(1.0) + COMPARISON_TOLERANCE
}

/// Evaluates every indicator for one school, in the file's order. `answers` are the school's
/// answers to the indicators' survey (the shipped file reads only `school`); an indicator that
/// names another survey must be evaluated with that survey's answers.
pub fn evaluate_all(
    indicators: &[Indicator],
    school: &SchoolProfile,
    answers: &impl SelfCheckAnswers,
) -> Vec<Evaluation> {
    indicators
        .iter()
        .map(|indicator| indicator.evaluate(school, answers))
        .collect()
}

/// The indicators' score of each area for one school: the weighted share of its indicators met,
/// on 0–100, with no sampling error. An indicator not reported counts as not met, so leaving a
/// number out never raises a score; indicators that do not apply are left out. An area whose
/// indicators all do not apply has no score.
pub fn indicator_area_scores(evaluations: &[Evaluation]) -> BTreeMap<Area, Estimate> {
    let mut totals: BTreeMap<Area, (f64, f64)> = BTreeMap::new();
    for evaluation in evaluations {
        let met = match evaluation.outcome {
            Outcome::Met => true,
            Outcome::NotMet | Outcome::NotReported { .. } => false,
            Outcome::NotApplicable { .. } => continue,
        };
        let (met_weight, weight) = totals.entry(evaluation.area).or_default();
        *weight += evaluation.weight;
        if met {
            *met_weight += evaluation.weight;
        }
    }
    totals
        .into_iter()
        .filter(|(_, (_, weight))| *weight > 0.0)
        .map(|(area, (met, weight))| (area, Estimate::exact(met / weight * 100.0)))
        .collect()
}

/// Whether the self-check showed the school `question`: always, unless its `show_if` names an
/// earlier answer the school did not give. (A hidden earlier question has no answer, so chains
/// of `show_if` need no more than this.)
fn is_shown(question: &QuestionRef, answers: &impl SelfCheckAnswers) -> bool {
    let Some(show_if) = &question.show_if else {
        return true;
    };
    let wanted = |code: &str| show_if.any_of.iter().any(|any| any == code);
    match answers.answer(&show_if.question) {
        Some(AnswerValue::Code(code)) => wanted(code),
        Some(AnswerValue::Codes(codes)) => codes.into_iter().any(wanted),
        Some(AnswerValue::Number(_) | AnswerValue::Other) | None => false,
    }
}

fn number(answers: &impl SelfCheckAnswers, question: &QuestionRef) -> Option<f64> {
    match answers.answer(&question.id)? {
        AnswerValue::Number(value) if value.is_finite() => Some(value),
        _ => None,
    }
}

fn code<'a>(answers: &'a impl SelfCheckAnswers, question: &QuestionRef) -> Option<&'a str> {
    match answers.answer(&question.id)? {
        AnswerValue::Code(code) => Some(code),
        _ => None,
    }
}

/// A number with at most two decimals and no trailing zeros: `1500`, `0.5`, `2.25`.
pub fn format_number(value: f64) -> String {
    trim_decimals(value, 2)
}

fn trim_decimals(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        let trimmed = text.trim_end_matches('0').trim_end_matches('.');
        if trimmed == "-0" {
            "0".to_owned()
        } else {
            trimmed.to_owned()
        }
    } else {
        text
    }
}

#[cfg(test)]
mod tests;
