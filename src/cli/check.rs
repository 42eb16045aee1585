//! `dupin check`: every file of the plan, checked, every error listed with file and item.

use std::process::ExitCode;

use super::Common;
use crate::survey;

pub(super) fn run(common: &Common) -> ExitCode {
    let refuse = |errors: survey::PlanErrors| {
        eprintln!("{errors}");
        eprintln!("{} errors found.", errors.0.len());
        ExitCode::FAILURE
    };
    let catalog = match survey::load_dir(&common.surveys) {
        Ok(catalog) => catalog,
        Err(errors) => return refuse(errors),
    };
    for entry in catalog.entries() {
        println!(
            "ok  {}  {} ({}, {} questions) — {}",
            entry.file.display(),
            entry.survey.id,
            entry.survey.audience.label(),
            entry.survey.question_count(),
            entry.survey.title
        );
    }
    // The indicators and the rating refer to the surveys' questions: checked once those are.
    let plan = match crate::rating::load_plan(&common.surveys, &catalog) {
        Ok(plan) => plan,
        Err(errors) => return refuse(errors),
    };
    println!(
        "ok  {}  {} indicators",
        common
            .surveys
            .join(crate::rating::INDICATORS_FILE)
            .display(),
        plan.indicators.len()
    );
    println!(
        "ok  {}  {} grade bands",
        common.surveys.join(crate::rating::RATING_FILE).display(),
        plan.rules.bands.len()
    );
    if !plan.targets.is_empty() {
        println!(
            "ok  {}  {} county targets",
            common.surveys.join(crate::rating::TARGETS_FILE).display(),
            plan.targets.len()
        );
    }
    for checklist in &plan.checklists {
        println!(
            "ok  {}  {} ({}, {} items) — {}",
            checklist.file.display(),
            checklist.id,
            checklist.kind.label(),
            checklist.items.len(),
            checklist.title
        );
    }
    println!("{} surveys, no errors.", catalog.len());
    ExitCode::SUCCESS
}
