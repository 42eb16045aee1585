//! Turns the raw `targets.toml` into [`CountyTarget`]s, every error naming the file and the
//! target. A target's condition is checked by the very code that checks an indicator (the same
//! formulas, targets and question kinds), so a target judges an answer as an indicator does.

use std::collections::HashSet;

use super::raw::{RawCountyTarget, RawGoal, RawIndicator, RawTargetsFile};
use super::rules_check::{Needed, check_condition, check_indicator, question_ref, school_survey};
use super::targets::{CountyTarget, Goal, Measure};
use crate::survey::{Area, Catalog, Location, Report, is_slug};

/// Checks `targets.toml` against the surveys. Returns the targets that passed; callers must
/// look at `report.errors` before using them.
pub(super) fn check_targets(
    raw: &RawTargetsFile,
    catalog: &Catalog,
    report: &mut Report,
) -> Vec<CountyTarget> {
    let survey = school_survey(
        &raw.survey,
        catalog,
        Location::Field("survey".to_owned()),
        report,
    );
    let mut seen = HashSet::new();
    let mut targets = Vec::new();
    for raw_target in &raw.targets {
        let errors_before = report.errors.len();
        if !seen.insert(raw_target.id.as_str()) {
            report.add(
                Location::Target(raw_target.id.clone()),
                "this target id appears twice in the file",
            );
        }
        let target = survey.and_then(|survey| check_target(raw_target, survey, report));
        // The indicator checks name an indicator; here it is the target of that id.
        for error in &mut report.errors[errors_before..] {
            if error.location == Location::Indicator(raw_target.id.clone()) {
                error.location = Location::Target(raw_target.id.clone());
            }
        }
        if report.errors.len() == errors_before
            && let Some(target) = target
        {
            targets.push(target);
        }
    }
    targets
}

/// The target's condition as an indicator of the same id, title and area, so that the
/// indicators' checks and evaluation serve it unchanged.
fn as_indicator(raw: &RawCountyTarget) -> RawIndicator {
    let count = raw.count.as_ref();
    RawIndicator {
        id: raw.id.clone(),
        title: raw.title.clone(),
        area: raw.area.clone(),
        survey: None,
        basis: Some(raw.basis.clone()),
        weight: None,
        ratio: count
            .and_then(|count| count.ratio.as_ref())
            .map(|ratio| super::raw::RawRatio {
                numerator: ratio.numerator.clone(),
                denominator: ratio.denominator.clone(),
                share: ratio.share,
                zero_denominator: ratio.zero_denominator.clone(),
            }),
        value: count.and_then(|count| count.value.clone()),
        yes: count.and_then(|count| count.yes.clone()),
        choice: count.and_then(|count| count.choice.clone()),
        at_least: count.and_then(|count| count.at_least),
        at_most: count.and_then(|count| count.at_most),
        equals: count.and_then(|count| count.equals),
        accepted: count.and_then(|count| count.accepted.clone()),
        not_applicable: count.and_then(|count| count.not_applicable.clone()),
        applies_to: None,
        thresholds: Vec::new(),
    }
}

fn check_target(
    raw: &RawCountyTarget,
    survey: &crate::survey::Survey,
    report: &mut Report,
) -> Option<CountyTarget> {
    let here = || Location::Target(raw.id.clone());
    let as_indicator = as_indicator(raw);
    if raw.basis.trim().is_empty() {
        report.add(
            here(),
            "`basis` is empty: say where in the plan the target is set",
        );
    }
    let schools = raw
        .schools
        .as_ref()
        .map(|condition| check_condition(&as_indicator, condition, "schools", report));

    let measure = match (&raw.count, &raw.sum) {
        (Some(_), Some(_)) => {
            report.add(here(), "give `count` or `sum`, not both");
            None
        }
        (None, None) => {
            report.add(
                here(),
                "nothing to count: give `count` (a condition on a school's answer) or `sum` (a \
                 number question)",
            );
            None
        }
        (Some(_), None) => {
            check_indicator(&as_indicator, Some(survey), report).map(|condition| Measure::Count {
                condition: Box::new(condition),
            })
        }
        (None, Some(id)) => {
            // A `count` has these checked with its condition, as an indicator's are.
            if !is_slug(&raw.id) {
                report.add(
                    here(),
                    "the target id must be lower-case letters, digits or _, starting with a letter",
                );
            }
            if raw.title.trim().is_empty() {
                report.add(here(), "`title` is empty");
            }
            let area = Area::parse(&raw.area).filter(|area| *area != Area::Overall);
            if area.is_none() {
                report.add(
                    here(),
                    format!(
                        "unknown area \"{}\": use one of {}",
                        raw.area,
                        Area::plan_areas()
                            .map(Area::slug)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
            }
            question_ref(&as_indicator, survey, id, Needed::Number, report)
                .map(|question| Measure::Sum { question })
        }
    };

    // Judged by what the file asks for, so that a wrong condition does not also make its
    // target look wrong.
    let is_count = raw.count.is_some() && raw.sum.is_none();
    let goal = match (&raw.target, is_count) {
        (RawGoal::Word(word), true) if word == "all" => Some(Goal::EverySchool),
        (RawGoal::Word(word), _) => {
            report.add(
                here(),
                format!(
                    "`target` \"{word}\" is not a number: give the number to reach, or \"all\" \
                     for every school a `count` is about"
                ),
            );
            None
        }
        (RawGoal::Number(value), true)
            if !(value.is_finite() && *value >= 1.0 && value.fract() == 0.0) =>
        {
            report.add(
                here(),
                format!("`target` ({value}) must be a whole number of schools, at least 1"),
            );
            None
        }
        (RawGoal::Number(value), _) if !(value.is_finite() && *value > 0.0) => {
            report.add(here(), format!("`target` ({value}) must be above 0"));
            None
        }
        (RawGoal::Number(value), _) => Some(Goal::Number(*value)),
    };

    let measure = measure?;
    let area = match &measure {
        Measure::Count { condition } => condition.area,
        Measure::Sum { .. } => Area::parse(&raw.area)?,
    };
    Some(CountyTarget {
        id: raw.id.clone(),
        title: raw.title.trim().to_owned(),
        area,
        basis: raw.basis.trim().to_owned(),
        survey: survey.id.clone(),
        schools,
        measure,
        goal: goal?,
    })
}
