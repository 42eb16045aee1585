//! The indicators of a school self-check campaign: each school's outcome on each indicator of
//! the plan, and the county's roll-up (how many schools meet each). Pure: the schools and their
//! answers are given.

use std::collections::{BTreeMap, HashMap};

use entity::school;
use serde::Serialize;

use crate::rating::indicators::{
    Evaluation, Indicator, Outcome, SchoolProfile, VerifiedValue, evaluate_all,
    indicator_area_scores,
};
use crate::rating::satisfaction::Estimate;
use crate::survey::Area;

/// A school of the campaign with its self-check answers, if it submitted one.
#[derive(Clone, Debug)]
pub struct SelfCheck {
    pub school: school::Model,
    pub answers: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Every school's indicators and the roll-up.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndicatorTable {
    /// In the file's order, numbered from 1 as the schools' columns are.
    pub indicators: Vec<IndicatorRollUp>,
    pub schools: Vec<SchoolIndicators>,
    /// Schools that submitted a self-check, of `schools.len()`.
    pub submitted: usize,
}

/// One indicator over the schools that submitted.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndicatorRollUp {
    pub number: usize,
    pub id: String,
    pub title: String,
    pub area: &'static str,
    /// The target most schools are held to, as supervisors read it.
    pub target: String,
    /// Some schools (township central schools, say) are held to another target.
    pub varies: bool,
    pub met: usize,
    pub not_met: usize,
    pub not_reported: usize,
    pub not_applicable: usize,
}

/// One school's row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchoolIndicators {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub submitted: bool,
    /// One per indicator, in the roll-up's order; empty when the school did not submit.
    pub cells: Vec<IndicatorCell>,
    pub met: usize,
    pub not_met: usize,
    pub not_reported: usize,
    /// A visit verified a value the school's report differs from past the tolerance: 核查不符.
    pub verify_mismatch: bool,
    /// For the overall rating: not shown.
    #[serde(skip)]
    pub evaluations: Vec<Evaluation>,
}

/// One school on one indicator.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct IndicatorCell {
    /// The indicator's number in the roll-up.
    pub number: usize,
    /// 达标, 未达标, 未填报 or 不适用.
    pub label: &'static str,
    /// `met`, `not_met`, `not_reported` or `not_applicable`, for the page's colours.
    pub class: &'static str,
    /// The computed value or the answer (`80%`, `是`), empty when there is none.
    pub value: String,
    /// The target this school was held to, empty when none.
    pub target: String,
    /// Something to check with the school (a part larger than its whole), empty when none.
    pub doubt: String,
    /// The value is a visit's verified value (核查值), not the school's report.
    pub verified: bool,
}

/// One indicator a visit verified at a school.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verified {
    pub value: VerifiedValue,
    /// The report that stood when the visit was recorded differed from the verified value past
    /// the tolerance: 核查不符 even if the school has since changed its report to match
    /// (surveys/METHOD.md, `verified`).
    pub differed_at_visit: bool,
}

/// Each school's verified values by indicator id, from its latest visits of the campaign.
pub type VerifiedBySchool = HashMap<i32, BTreeMap<String, Verified>>;

fn outcome_class(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Met => "met",
        Outcome::NotMet => "not_met",
        Outcome::NotReported { .. } => "not_reported",
        Outcome::NotApplicable { .. } => "not_applicable",
    }
}

fn answer_label(code: &str) -> String {
    match code {
        "yes" => "是".to_owned(),
        "no" => "否".to_owned(),
        other => other.to_owned(),
    }
}

/// Evaluates every indicator for every school. A school that did not submit (or whose kind is
/// not one of the seven, which the school list never stores) has no cells and stays out of the
/// roll-up: an absent self-check is shown as such, not as every indicator missed.
pub fn indicator_table(indicators: &[Indicator], schools: &[SelfCheck]) -> IndicatorTable {
    indicator_table_verified(indicators, schools, &VerifiedBySchool::new(), 0.0)
}

/// [`indicator_table`] with the visits' verified values in place of the reported ones where a
/// visit verified an indicator of a school that submitted (surveys/METHOD.md, `verified`): the
/// judged cannot move their rating by reporting more than a visit finds.
pub fn indicator_table_verified(
    indicators: &[Indicator],
    schools: &[SelfCheck],
    verified: &VerifiedBySchool,
    tolerance: f64,
) -> IndicatorTable {
    let mut roll_up: Vec<IndicatorRollUp> = indicators
        .iter()
        .enumerate()
        .map(|(index, indicator)| IndicatorRollUp {
            number: index + 1,
            id: indicator.id.clone(),
            title: indicator.title.clone(),
            area: indicator.area.label(),
            target: indicator.describe_target(&indicator.target),
            varies: !indicator.targets_by_school.is_empty(),
            met: 0,
            not_met: 0,
            not_reported: 0,
            not_applicable: 0,
        })
        .collect();
    let mut rows = Vec::new();
    let mut submitted = 0;
    for self_check in schools {
        let school = &self_check.school;
        let mut row = SchoolIndicators {
            school_id: school.id,
            code: school.code.clone(),
            name: school.name.clone(),
            township: school.township.clone(),
            submitted: false,
            cells: Vec::new(),
            met: 0,
            not_met: 0,
            not_reported: 0,
            verify_mismatch: false,
            evaluations: Vec::new(),
        };
        if let (Some(answers), Some(profile)) =
            (&self_check.answers, SchoolProfile::of_school(school))
        {
            submitted += 1;
            row.submitted = true;
            let mut evaluations = evaluate_all(indicators, &profile, answers);
            let school_verified = verified.get(&school.id);
            let mut verified_here = vec![false; evaluations.len()];
            if let Some(school_verified) = school_verified {
                for ((indicator, evaluation), is_verified) in indicators
                    .iter()
                    .zip(evaluations.iter_mut())
                    .zip(verified_here.iter_mut())
                {
                    let Some(verified) = school_verified.get(&indicator.id) else {
                        continue;
                    };
                    if let Some(applied) =
                        indicator.apply_verified(&profile, evaluation, verified.value)
                    {
                        if verified.differed_at_visit
                            || indicator.differs_from_verified(
                                evaluation,
                                verified.value,
                                tolerance,
                            ) == Some(true)
                        {
                            row.verify_mismatch = true;
                        }
                        *is_verified = true;
                        *evaluation = applied;
                    }
                }
            }
            for (((indicator, evaluation), total), is_verified) in indicators
                .iter()
                .zip(&evaluations)
                .zip(roll_up.iter_mut())
                .zip(verified_here.iter().copied())
            {
                match evaluation.outcome {
                    Outcome::Met => {
                        total.met += 1;
                        row.met += 1;
                    }
                    Outcome::NotMet => {
                        total.not_met += 1;
                        row.not_met += 1;
                    }
                    Outcome::NotReported { .. } => {
                        total.not_reported += 1;
                        row.not_reported += 1;
                    }
                    Outcome::NotApplicable { .. } => total.not_applicable += 1,
                }
                let value = match (&evaluation.value, &evaluation.answer) {
                    (Some(value), _) => indicator.format_value(*value),
                    (None, Some(code)) => answer_label(code),
                    (None, None) if is_verified => "现场核查".to_owned(),
                    (None, None) => String::new(),
                };
                row.cells.push(IndicatorCell {
                    number: total.number,
                    label: evaluation.outcome.label(),
                    class: outcome_class(&evaluation.outcome),
                    value,
                    target: evaluation
                        .target
                        .as_ref()
                        .map(|target| indicator.describe_target(target))
                        .unwrap_or_default(),
                    doubt: evaluation
                        .doubt
                        .as_ref()
                        .map(|doubt| doubt.message())
                        .unwrap_or_default(),
                    verified: is_verified,
                });
            }
            row.evaluations = evaluations;
        }
        rows.push(row);
    }
    IndicatorTable {
        indicators: roll_up,
        schools: rows,
        submitted,
    }
}

/// The indicators' area scores of one school row, for the overall rating.
pub fn area_scores(row: &SchoolIndicators) -> BTreeMap<Area, Estimate> {
    indicator_area_scores(&row.evaluations)
}
