//! The results' groundwork: the plan's indicators (`indicators.toml`) and the rules of the
//! overall rating (`rating.toml`) as checked files, and the pure arithmetic that turns answers
//! into figures a supervisor can trust — indicator outcomes, satisfaction statistics with their
//! intervals, the overall score and grade of a school and of the county, and tests of whether two
//! groups really differ.
//!
//! Loading reads the two files and nothing else; every other function is arithmetic on values
//! it is given. No database, no HTTP: aggregation queries and pages are built on top of this.
//!
//! - [`load_plan`]: the files, checked against the surveys, every error listed.
//! - [`targets`]: the county's targets (`targets.toml`) and their progress.
//! - [`visits`]: the visit checklists (`visits/*.toml`).
//! - [`indicators`]: one school's indicator outcomes and the indicators' area scores.
//! - [`satisfaction`]: statistics of one question from its tallies.
//! - [`moments`]: area scores and the variance of weighted sums of areas from respondents' sums.
//! - [`score`]: a school's overall score, grade and honesty flags; the county's score.
//! - [`compare`]: two-proportion z-test and Welch's t-test, with a sentence for supervisors.
//! - [`stats`]: the normal and t distributions and the one rule of every 95% interval.

pub mod compare;
pub mod flags;
pub mod indicators;
pub mod moments;
mod raw;
pub mod rules;
mod rules_check;
pub mod satisfaction;
pub mod score;
pub mod stats;
pub mod targets;
mod targets_check;
pub mod visits;

use std::path::Path;

pub use indicators::{
    AnswerValue, Evaluation, Formula, Indicator, Outcome, SchoolProfile, SelfCheckAnswers, Target,
};
pub use rules::{AccountabilityRules, Band, CountyWeighting, PopulationBasis, RatingRules, Source};

use crate::survey::{Area, Catalog, Location, PlanError, PlanErrors, Report, parse_toml};

/// The file of indicator formulas and thresholds, in the surveys folder.
pub const INDICATORS_FILE: &str = "indicators.toml";
/// The file of the overall rating's weights, minimums and grade bands, in the surveys folder.
pub const RATING_FILE: &str = "rating.toml";
/// The file of the county's targets, in the surveys folder; a plan may have none.
pub const TARGETS_FILE: &str = "targets.toml";

/// The plan's indicators and rating rules, checked against its surveys.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// In the file's order.
    pub indicators: Vec<Indicator>,
    pub rules: RatingRules,
    /// The county's targets, in the file's order; empty without `targets.toml`.
    pub targets: Vec<targets::CountyTarget>,
    /// The visit checklists, by file name; empty without `visits/`.
    pub checklists: Vec<visits::Checklist>,
}

impl Plan {
    pub fn checklist(&self, id: &str) -> Option<&visits::Checklist> {
        self.checklists.iter().find(|checklist| checklist.id == id)
    }

    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|indicator| indicator.id == id)
    }

    /// The indicators of one area, in the file's order.
    pub fn indicators_of(&self, area: Area) -> impl Iterator<Item = &Indicator> {
        self.indicators
            .iter()
            .filter(move |indicator| indicator.area == area)
    }
}

/// Loads and checks `indicators.toml`, `rating.toml`, `targets.toml` (if there is one) and the
/// checklists of `visits/` (if there are any) of `dir` against `catalog` (the surveys of the
/// same folder, from [`crate::survey::load_dir`]). Every error of every file is listed, each
/// naming the file and the indicator, target, item or field, as `dupin check` prints them.
pub fn load_plan(dir: &Path, catalog: &Catalog) -> Result<Plan, PlanErrors> {
    let mut errors = Vec::new();

    let indicators_path = dir.join(INDICATORS_FILE);
    let indicators_file = indicators_path.display().to_string();
    let mut indicators_report = Report::new(&indicators_file);
    let indicators = read(&indicators_path, &mut errors).and_then(|text| {
        parse_toml::<raw::RawIndicatorsFile>(&text, &mut indicators_report)
            .map(|raw| rules_check::check_indicators(&raw, catalog, &mut indicators_report))
    });
    errors.append(&mut indicators_report.errors);

    let rating_path = dir.join(RATING_FILE);
    let rating_file = rating_path.display().to_string();
    let mut rating_report = Report::new(&rating_file);
    let rules = read(&rating_path, &mut errors).and_then(|text| {
        parse_toml::<raw::RawRating>(&text, &mut rating_report)
            .map(|raw| rules_check::check_rating(&raw, &mut rating_report))
    });
    // Coverage asks which areas the indicators give evidence for, so it is only meaningful
    // once both files are sound.
    if errors.is_empty()
        && rating_report.errors.is_empty()
        && let (Some(indicators), Some(rules)) = (&indicators, &rules)
    {
        rules_check::check_coverage(rules, indicators, catalog, &mut rating_report);
    }
    errors.append(&mut rating_report.errors);

    let targets_path = dir.join(TARGETS_FILE);
    let targets_file = targets_path.display().to_string();
    let mut targets_report = Report::new(&targets_file);
    let targets = if targets_path.exists() {
        read(&targets_path, &mut errors)
            .and_then(|text| parse_toml::<raw::RawTargetsFile>(&text, &mut targets_report))
            .map(|raw| targets_check::check_targets(&raw, catalog, &mut targets_report))
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    errors.append(&mut targets_report.errors);

    // A checklist names indicators: read against those that loaded.
    let checklists =
        visits::load_checklists(dir, indicators.as_deref().unwrap_or_default(), &mut errors);

    match (indicators, rules) {
        (Some(indicators), Some(rules)) if errors.is_empty() => Ok(Plan {
            indicators,
            rules,
            targets,
            checklists,
        }),
        _ => Err(PlanErrors(errors)),
    }
}

fn read(path: &Path, errors: &mut Vec<PlanError>) -> Option<String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(error) => {
            errors.push(PlanError {
                file: path.display().to_string(),
                location: Location::File,
                message: format!("cannot read the file: {error}"),
            });
            None
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
