//! Turns the raw `indicators.toml` and `rating.toml` into the model, collecting every error
//! instead of stopping at the first, each naming its file and the indicator or field it is about,
//! and checking both against the surveys they refer to.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use super::flags::Flag;
use super::indicators::{
    Formula, Indicator, QuestionRef, SchoolCondition, SchoolTarget, Target, ZeroDenominator,
};
use super::raw::{
    RawAccountability, RawCondition, RawIndicator, RawIndicatorsFile, RawQuality, RawRating,
    RawTarget, RawVisits,
};
use super::rules::{
    AccountabilityRules, Band, CountyWeighting, DEFAULT_VERIFY_TOLERANCE, PopulationBasis,
    QualityRules, RatingRules, Source, WEIGHT_TOLERANCE,
};
use crate::school_kind::SchoolKind;
use crate::survey::{Area, Audience, Catalog, Location, QuestionKind, Report, Survey, is_slug};

/// Checks `indicators.toml` against the surveys. Returns the indicators that passed; callers
/// must look at `report.errors` before using them.
pub(super) fn check_indicators(
    raw: &RawIndicatorsFile,
    catalog: &Catalog,
    report: &mut Report,
) -> Vec<Indicator> {
    let file_survey = school_survey(
        &raw.survey,
        catalog,
        Location::Field("survey".to_owned()),
        report,
    );
    let mut seen = HashSet::new();
    let mut indicators = Vec::new();
    for raw_indicator in &raw.indicators {
        let errors_before = report.errors.len();
        let survey = match &raw_indicator.survey {
            Some(id) => school_survey(id, catalog, location(raw_indicator), report),
            None => file_survey,
        };
        if !seen.insert(raw_indicator.id.as_str()) {
            report.add(
                location(raw_indicator),
                "this indicator id appears twice in the file",
            );
        }
        let indicator = check_indicator(raw_indicator, survey, report);
        if report.errors.len() == errors_before
            && let Some(indicator) = indicator
        {
            indicators.push(indicator);
        }
    }
    indicators
}

fn location(raw: &RawIndicator) -> Location {
    Location::Indicator(raw.id.clone())
}

/// The survey `id`, if it exists and is answered by the school.
pub(super) fn school_survey<'a>(
    id: &str,
    catalog: &'a Catalog,
    location: Location,
    report: &mut Report,
) -> Option<&'a Survey> {
    let Some(entry) = catalog.get(id) else {
        report.add(
            location,
            format!(
                "unknown survey \"{id}\" (known: {})",
                catalog.ids().join(", ")
            ),
        );
        return None;
    };
    if entry.survey.audience != Audience::School {
        report.add(
            location,
            format!(
                "survey {id} is answered by {}, not by the school: indicators read a school's \
                 self-check (a survey with audience = \"school\")",
                entry.survey.audience.label()
            ),
        );
        return None;
    }
    Some(&entry.survey)
}

/// What an indicator needs of a question.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Needed {
    Number,
    YesNo,
    Single,
}

impl Needed {
    fn name(self) -> &'static str {
        match self {
            Needed::Number => "number",
            Needed::YesNo => "yes_no",
            Needed::Single => "single",
        }
    }

    fn fits(self, kind: &QuestionKind) -> bool {
        matches!(
            (self, kind),
            (Needed::Number, QuestionKind::Number { .. })
                | (Needed::YesNo, QuestionKind::YesNo { .. })
                | (Needed::Single, QuestionKind::Single { .. })
        )
    }
}

pub(super) fn question_ref(
    raw: &RawIndicator,
    survey: &Survey,
    id: &str,
    needed: Needed,
    report: &mut Report,
) -> Option<QuestionRef> {
    let Some(question) = survey.question(id) else {
        report.add(
            location(raw),
            format!("survey {} has no question {id}", survey.id),
        );
        return None;
    };
    if !needed.fits(&question.kind) {
        report.add(
            location(raw),
            format!(
                "question {id} is not a {} question of survey {} (it is a {} question)",
                needed.name(),
                survey.id,
                question.kind.name()
            ),
        );
        return None;
    }
    let (unit, options) = match &question.kind {
        QuestionKind::Number { unit, .. } => (unit.clone(), Vec::new()),
        QuestionKind::Single { options } => (None, options.clone()),
        _ => (None, Vec::new()),
    };
    Some(QuestionRef {
        id: question.id.clone(),
        text: question.text.clone(),
        unit,
        show_if: question.show_if.clone(),
        options,
    })
}

pub(super) fn check_indicator(
    raw: &RawIndicator,
    survey: Option<&Survey>,
    report: &mut Report,
) -> Option<Indicator> {
    let here = || location(raw);
    if !is_slug(&raw.id) {
        report.add(
            here(),
            "the indicator id must be lower-case letters, digits or _, starting with a letter",
        );
    }
    if raw.title.trim().is_empty() {
        report.add(here(), "`title` is empty");
    }
    let area = match Area::parse(&raw.area) {
        Some(Area::Overall) => {
            report.add(
                here(),
                format!(
                    "an indicator belongs to one of the seven areas of the plan, not overall: use \
                     one of {}",
                    plan_area_names()
                ),
            );
            None
        }
        Some(area) => Some(area),
        None => {
            report.add(
                here(),
                format!(
                    "unknown area \"{}\": use one of {}",
                    raw.area,
                    plan_area_names()
                ),
            );
            None
        }
    };
    let weight = raw.weight.unwrap_or(1.0);
    if !(weight.is_finite() && weight > 0.0) {
        report.add(
            here(),
            format!("`weight` ({weight}) must be a number above 0"),
        );
    }
    let applies_to = raw
        .applies_to
        .as_ref()
        .map(|condition| check_condition(raw, condition, "applies_to", report));

    let formulas: Vec<&str> = [
        ("ratio", raw.ratio.is_some()),
        ("value", raw.value.is_some()),
        ("yes", raw.yes.is_some()),
        ("choice", raw.choice.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect();
    match formulas.as_slice() {
        [] => {
            report.add(
                here(),
                "no formula: give one of `ratio`, `value`, `yes` or `choice`",
            );
            return None;
        }
        [_] => {}
        several => {
            report.add(
                here(),
                format!("give only one formula: found `{}`", several.join("` and `")),
            );
            return None;
        }
    }
    if raw.not_applicable.is_some() && raw.choice.is_none() {
        report.add(here(), "`not_applicable` belongs to a `choice` indicator");
    }
    // Without the survey the questions cannot be checked; its error is already reported.
    let survey = survey?;

    let formula = if let Some(ratio) = &raw.ratio {
        let numerator = question_ref(raw, survey, &ratio.numerator, Needed::Number, report);
        let denominator = question_ref(raw, survey, &ratio.denominator, Needed::Number, report);
        if ratio.numerator == ratio.denominator {
            report.add(
                here(),
                "the ratio's numerator and denominator are the same question",
            );
        }
        let zero_denominator = match ratio.zero_denominator.as_deref() {
            None | Some("not_applicable") => ZeroDenominator::NotApplicable,
            Some("met") => ZeroDenominator::Met,
            Some("not_met") => ZeroDenominator::NotMet,
            Some(other) => {
                report.add(
                    here(),
                    format!(
                        "unknown `zero_denominator` \"{other}\": use not_applicable, met or not_met"
                    ),
                );
                ZeroDenominator::NotApplicable
            }
        };
        Formula::Ratio {
            numerator: numerator?,
            denominator: denominator?,
            share: ratio.share.unwrap_or(true),
            zero_denominator,
        }
    } else if let Some(id) = &raw.value {
        Formula::Value {
            question: question_ref(raw, survey, id, Needed::Number, report)?,
        }
    } else if let Some(id) = &raw.yes {
        Formula::Yes {
            question: question_ref(raw, survey, id, Needed::YesNo, report)?,
        }
    } else {
        let id = raw.choice.as_deref().unwrap_or_default();
        let question = question_ref(raw, survey, id, Needed::Single, report)?;
        let not_applicable = raw.not_applicable.clone().unwrap_or_default();
        for code in &not_applicable {
            check_code(raw, &question, code, "not_applicable", report);
        }
        Formula::Choice {
            question,
            not_applicable,
        }
    };

    let target = check_target(raw, survey, &formula, &raw.target(), "", report);
    let mut targets_by_school = Vec::new();
    if matches!(formula, Formula::Yes { .. }) && !raw.thresholds.is_empty() {
        report.add(here(), "a `yes` indicator takes no `thresholds`");
    }
    for (n, threshold) in raw.thresholds.iter().enumerate() {
        let label = format!("threshold {}", n + 1);
        let when = check_condition(raw, &threshold.when, &format!("{label}: `when`"), report);
        let target = check_target(
            raw,
            survey,
            &formula,
            &threshold.target(),
            &format!("{label}: "),
            report,
        );
        if let Some(target) = target {
            targets_by_school.push(SchoolTarget { when, target });
        }
    }

    Some(Indicator {
        id: raw.id.clone(),
        title: raw.title.trim().to_owned(),
        area: area?,
        survey: survey.id.clone(),
        basis: raw
            .basis
            .as_deref()
            .map(str::trim)
            .filter(|basis| !basis.is_empty())
            .map(str::to_owned),
        weight,
        formula,
        applies_to,
        target: target?,
        targets_by_school,
    })
}

fn plan_area_names() -> String {
    Area::plan_areas()
        .map(Area::slug)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn check_condition(
    raw: &RawIndicator,
    condition: &RawCondition,
    field: &str,
    report: &mut Report,
) -> SchoolCondition {
    if condition.central.is_none() && condition.key_village.is_none() && condition.kind.is_none() {
        report.add(
            location(raw),
            format!("{field} is empty: give `central`, `key_village` or `kind`"),
        );
    }
    let kinds = condition.kind.as_ref().map(|names| {
        if names.is_empty() {
            report.add(
                location(raw),
                format!("{field}: `kind` lists no kind of school"),
            );
        }
        names
            .iter()
            .filter_map(|name| {
                let kind = SchoolKind::parse(name);
                if kind.is_none() {
                    report.add(
                        location(raw),
                        format!(
                            "{field}: unknown kind of school \"{name}\": use one of {}",
                            SchoolKind::all_labels()
                        ),
                    );
                }
                kind
            })
            .collect()
    });
    SchoolCondition {
        central: condition.central,
        key_village: condition.key_village,
        kinds,
    }
}

fn check_code(
    raw: &RawIndicator,
    question: &QuestionRef,
    code: &str,
    field: &str,
    report: &mut Report,
) {
    if !question.options.iter().any(|option| option.code == code) {
        let codes: Vec<&str> = question
            .options
            .iter()
            .map(|option| option.code.as_str())
            .collect();
        report.add(
            location(raw),
            format!(
                "`{field}`: question {} has no option \"{code}\" (it has {})",
                question.id,
                codes.join(", ")
            ),
        );
    }
}

/// One target: the indicator's own (`prefix` empty) or a threshold's.
fn check_target(
    raw: &RawIndicator,
    survey: &Survey,
    formula: &Formula,
    target: &RawTarget,
    prefix: &str,
    report: &mut Report,
) -> Option<Target> {
    let here = || location(raw);
    let numeric_given =
        target.at_least.is_some() || target.at_most.is_some() || target.equals.is_some();
    match formula {
        Formula::Yes { .. } => {
            if numeric_given || target.accepted.is_some() {
                report.add(
                    here(),
                    format!(
                        "{prefix}a `yes` indicator is met by the answer yes: it takes no \
                         `at_least`, `at_most`, `equals` or `accepted`"
                    ),
                );
                return None;
            }
            Some(Target::Yes)
        }
        Formula::Choice {
            question,
            not_applicable,
        } => {
            if numeric_given {
                report.add(
                    here(),
                    format!(
                        "{prefix}a `choice` indicator takes `accepted`, not `at_least`, `at_most` \
                         or `equals`"
                    ),
                );
                return None;
            }
            let Some(accepted) = &target.accepted else {
                report.add(
                    here(),
                    format!(
                        "{prefix}`accepted` is missing: list the codes that meet the indicator"
                    ),
                );
                return None;
            };
            if accepted.is_empty() {
                report.add(here(), format!("{prefix}`accepted` lists no code"));
                return None;
            }
            let errors_before = report.errors.len();
            for code in accepted {
                check_code(raw, question, code, &format!("{prefix}accepted"), report);
                if not_applicable.contains(code) {
                    report.add(
                        here(),
                        format!("{prefix}code \"{code}\" is both accepted and not_applicable"),
                    );
                }
            }
            (report.errors.len() == errors_before).then(|| Target::OneOf {
                codes: accepted.clone(),
            })
        }
        Formula::Ratio { .. } | Formula::Value { .. } => {
            if target.accepted.is_some() {
                report.add(
                    here(),
                    format!("{prefix}`accepted` belongs to a `choice` indicator"),
                );
                return None;
            }
            let target = match (target.at_least, target.at_most, target.equals) {
                (None, None, None) => {
                    report.add(
                        here(),
                        format!("{prefix}no target: give `at_least`, `at_most` or `equals`"),
                    );
                    return None;
                }
                (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                    report.add(
                        here(),
                        format!("{prefix}`equals` cannot be combined with `at_least` or `at_most`"),
                    );
                    return None;
                }
                (None, None, Some(value)) => Target::Equals { value },
                (Some(value), None, None) => Target::AtLeast { value },
                (None, Some(value), None) => Target::AtMost { value },
                (Some(low), Some(high), _) => {
                    if low > high {
                        report.add(
                            here(),
                            format!(
                                "{prefix}`at_least` ({low}) is above `at_most` ({high}): no value \
                                 could meet the indicator"
                            ),
                        );
                        return None;
                    }
                    Target::Between { low, high }
                }
            };
            let errors_before = report.errors.len();
            let values: Vec<(&str, f64)> = match &target {
                Target::AtLeast { value } => vec![("at_least", *value)],
                Target::AtMost { value } => vec![("at_most", *value)],
                Target::Equals { value } => vec![("equals", *value)],
                Target::Between { low, high } => vec![("at_least", *low), ("at_most", *high)],
                Target::Yes | Target::OneOf { .. } => Vec::new(),
            };
            for (field, value) in values {
                check_threshold_range(raw, survey, formula, field, value, prefix, report);
            }
            (report.errors.len() == errors_before).then_some(target)
        }
    }
}

fn check_threshold_range(
    raw: &RawIndicator,
    survey: &Survey,
    formula: &Formula,
    field: &str,
    value: f64,
    prefix: &str,
    report: &mut Report,
) {
    let here = || location(raw);
    if !value.is_finite() {
        report.add(here(), format!("{prefix}`{field}` is not a number"));
        return;
    }
    match formula {
        Formula::Ratio { share: true, .. } if !(0.0..=1.0).contains(&value) => {
            report.add(
                here(),
                format!(
                    "{prefix}`{field}` ({value}) is outside 0–1: a share is written as a fraction, \
                     0.75 for 75% (or say `share = false` for a ratio that may pass 1)"
                ),
            );
        }
        Formula::Ratio { share: false, .. } if value < 0.0 => {
            report.add(
                here(),
                format!("{prefix}`{field}` ({value}) is negative, but a ratio of counts never is"),
            );
        }
        Formula::Value { question } => {
            let Some(QuestionKind::Number {
                decimal, min, max, ..
            }) = survey.question(&question.id).map(|question| &question.kind)
            else {
                return;
            };
            let below = min.is_some_and(|min| value < min);
            let above = max.is_some_and(|max| value > max);
            if below || above {
                let bound = |bound: &Option<f64>| bound.map_or(String::new(), |b| b.to_string());
                report.add(
                    here(),
                    format!(
                        "{prefix}`{field}` ({value}) is outside the answers question {} can take \
                         ({}–{})",
                        question.id,
                        bound(min),
                        bound(max)
                    ),
                );
            }
            if field == "equals" && !decimal && value.fract() != 0.0 {
                report.add(
                    here(),
                    format!(
                        "{prefix}`equals` ({value}) is not a whole number, but question {} takes \
                         whole numbers, so no answer could meet it",
                        question.id
                    ),
                );
            }
        }
        _ => {}
    }
}

/// Checks `rating.toml` on its own.
pub(super) fn check_rating(raw: &RawRating, report: &mut Report) -> RatingRules {
    let areas_here = || Location::Field("areas".to_owned());
    let mut area_weights = BTreeMap::new();
    for (name, weight) in &raw.areas {
        let Some(area) = Area::parse(name) else {
            let names: Vec<&str> = Area::ALL.into_iter().map(Area::slug).collect();
            report.add(
                areas_here(),
                format!("unknown area \"{name}\": use one of {}", names.join(", ")),
            );
            continue;
        };
        check_weight(name, *weight, areas_here(), report);
        area_weights.insert(area, *weight);
    }
    for area in Area::plan_areas() {
        if !raw.areas.contains_key(area.slug()) {
            report.add(
                areas_here(),
                format!(
                    "area {} has no weight: give it one (0 leaves it out of the rating)",
                    area.slug()
                ),
            );
        }
    }
    area_weights.entry(Area::Overall).or_insert(0.0);
    check_sum(area_weights.values().copied(), areas_here(), report);

    let sources_here = || Location::Field("sources".to_owned());
    let mut source_weights = BTreeMap::new();
    for (name, weight) in &raw.sources {
        let Some(source) = Source::parse(name) else {
            report.add(
                sources_here(),
                format!("unknown source \"{name}\": use parents, teachers, students or indicators"),
            );
            continue;
        };
        check_weight(name, *weight, sources_here(), report);
        source_weights.insert(source, *weight);
    }
    for source in Source::ALL {
        if !source_weights.contains_key(&source) {
            report.add(
                sources_here(),
                format!(
                    "source {} has no weight: give it one (0 leaves it out of the rating)",
                    source.slug()
                ),
            );
        }
    }
    check_sum(source_weights.values().copied(), sources_here(), report);

    let minimum_here = || Location::Field("minimum_answers".to_owned());
    let mut minimum_answers = BTreeMap::from([(Source::Indicators, 1)]);
    for (name, minimum) in &raw.minimum_answers {
        let source = Source::parse(name);
        let Some(source) = source.filter(|source| *source != Source::Indicators) else {
            report.add(
                minimum_here(),
                format!(
                    "unknown source \"{name}\": use parents, teachers or students (the indicators \
                     read the school's one self-check and need no minimum)"
                ),
            );
            continue;
        };
        match u64::try_from(*minimum) {
            Ok(minimum) if minimum >= 2 => {
                minimum_answers.insert(source, minimum);
            }
            _ => report.add(
                minimum_here(),
                format!(
                    "{name}: {minimum} is too few: at least 2 answers are needed to tell how much \
                     they vary"
                ),
            ),
        }
    }
    for source in Source::SURVEYS {
        if !raw.minimum_answers.contains_key(source.slug()) {
            report.add(
                minimum_here(),
                format!(
                    "no minimum for {}: give one, such as {} = 30",
                    source.slug(),
                    source.slug()
                ),
            );
        }
    }

    let bands = check_bands(raw, report);

    let county_weighting = match raw.county.weight_by.as_str() {
        "enrolment" => CountyWeighting::Enrolment,
        "equal" => CountyWeighting::Equal,
        other => {
            report.add(
                Location::Field("county".to_owned()),
                format!("unknown `weight_by` \"{other}\": use enrolment or equal"),
            );
            CountyWeighting::Enrolment
        }
    };

    let quality = check_quality(raw.quality.as_ref(), report);
    let population = check_population(&raw.population, report);
    let coverage = check_coverage_floors(&raw.coverage, report);
    let verify_tolerance = check_visits(raw.visits.as_ref(), report);
    let accountability = check_accountability(raw.accountability.as_ref(), &bands, report);

    RatingRules {
        area_weights,
        source_weights,
        minimum_answers,
        bands,
        county_weighting,
        quality,
        population,
        coverage,
        verify_tolerance,
        accountability,
    }
}

/// Checks `[visits]`: `tolerance`, when given, is a fraction from 0 up to (not including) 1.
fn check_visits(raw: Option<&RawVisits>, report: &mut Report) -> f64 {
    let Some(tolerance) = raw.and_then(|raw| raw.tolerance) else {
        return DEFAULT_VERIFY_TOLERANCE;
    };
    if tolerance.is_finite() && (0.0..1.0).contains(&tolerance) {
        tolerance
    } else {
        report.add(
            Location::Field("visits".to_owned()),
            format!(
                "`tolerance` is {tolerance}: give a fraction of the verified value from 0 up to \
                 below 1, such as 0.1 for a tenth"
            ),
        );
        DEFAULT_VERIFY_TOLERANCE
    }
}

/// Checks `[accountability]`: each key left out keeps its default; the grade must be one of
/// the bands.
fn check_accountability(
    raw: Option<&RawAccountability>,
    bands: &[Band],
    report: &mut Report,
) -> AccountabilityRules {
    let mut rules = AccountabilityRules::default();
    let Some(raw) = raw else {
        return rules;
    };
    let here = || Location::Field("accountability".to_owned());
    if let Some(days) = raw.overdue_days {
        match u32::try_from(days) {
            Ok(days) if days <= 3650 => rules.overdue_days = days,
            _ => report.add(
                here(),
                format!("`overdue_days` ({days}) must be a whole number of days from 0 to 3650"),
            ),
        }
    }
    if let Some(serious) = raw.serious_overdue {
        rules.serious_overdue = serious;
    }
    if let Some(missing) = raw.missing_self_check {
        rules.missing_self_check = missing;
    }
    if let Some(mismatch) = raw.verify_mismatch {
        rules.verify_mismatch = mismatch;
    }
    if let Some(grade) = &raw.grade {
        if bands.iter().any(|band| band.grade == *grade) || bands.is_empty() {
            rules.grade.clone_from(grade);
        } else {
            let names: Vec<&str> = bands.iter().map(|band| band.grade.as_str()).collect();
            report.add(
                here(),
                format!(
                    "`grade` \"{grade}\" is no grade of [[bands]]: use one of {}",
                    names.join(", ")
                ),
            );
        }
    }
    if let Some(unmet) = raw.unmet_indicators {
        match u32::try_from(unmet) {
            Ok(unmet) => rules.unmet_indicators = unmet,
            Err(_) => report.add(
                here(),
                format!("`unmet_indicators` ({unmet}) must be a whole number of at least 0"),
            ),
        }
    }
    rules
}

/// The questionnaire sources a key of `[population]` or `[coverage]` may name.
fn survey_source(name: &str, here: &Location, report: &mut Report) -> Option<Source> {
    let source = Source::parse(name).filter(|source| *source != Source::Indicators);
    if source.is_none() {
        report.add(
            here.clone(),
            format!(
                "unknown source \"{name}\": use parents, teachers or students (the indicators have \
                 one self-check per school)"
            ),
        );
    }
    source
}

/// Checks `[population]`: each source left out keeps its default basis.
fn check_population(
    raw: &BTreeMap<String, String>,
    report: &mut Report,
) -> BTreeMap<Source, PopulationBasis> {
    let here = Location::Field("population".to_owned());
    let mut population = PopulationBasis::defaults();
    for (name, basis) in raw {
        let Some(source) = survey_source(name, &here, report) else {
            continue;
        };
        match PopulationBasis::parse(basis) {
            Some(basis) => {
                population.insert(source, basis);
            }
            None => report.add(
                here.clone(),
                format!(
                    "{name}: unknown population \"{basis}\": use enrolment (在校生数), teachers \
                     (专任教师数) or none"
                ),
            ),
        }
    }
    population
}

/// Checks `[coverage]`: each source left out keeps its default floor; a floor is a share, 0–1.
fn check_coverage_floors(
    raw: &BTreeMap<String, f64>,
    report: &mut Report,
) -> BTreeMap<Source, f64> {
    let here = Location::Field("coverage".to_owned());
    let mut floors = RatingRules::default_coverage();
    for (name, floor) in raw {
        let Some(source) = survey_source(name, &here, report) else {
            continue;
        };
        if (0.0..=1.0).contains(floor) {
            floors.insert(source, *floor);
        } else {
            report.add(
                here.clone(),
                format!(
                    "{name}: {floor} is not a share between 0 and 1: write 0.2 for 20% (0 turns \
                     the check off)"
                ),
            );
        }
    }
    floors
}

/// Checks `[quality]`: each key left out keeps its default; a given one must be sensible.
fn check_quality(raw: Option<&RawQuality>, report: &mut Report) -> QualityRules {
    let defaults = QualityRules::default();
    let Some(raw) = raw else {
        return defaults;
    };
    let here = || Location::Field("quality".to_owned());
    let mut whole = |key: &str, value: Option<i64>, least: i64, default: u32| -> u32 {
        match value {
            None => default,
            Some(value) => match u32::try_from(value) {
                Ok(value) if i64::from(value) >= least => value,
                _ => {
                    report.add(
                        here(),
                        format!("`{key}` ({value}) must be a whole number of at least {least}"),
                    );
                    default
                }
            },
        }
    };
    let straight_line_min_answers = whole(
        "straight_line_min_answers",
        raw.straight_line_min_answers,
        2,
        defaults.straight_line_min_answers,
    );
    let burst_answers = whole(
        "burst_answers",
        raw.burst_answers,
        2,
        defaults.burst_answers,
    );
    let burst_minutes = whole(
        "burst_minutes",
        raw.burst_minutes,
        1,
        defaults.burst_minutes,
    );
    let answers_per_minute_floor = whole(
        "answers_per_minute_floor",
        raw.answers_per_minute_floor,
        5,
        defaults.answers_per_minute_floor,
    );
    let answers_per_address = whole(
        "answers_per_address",
        raw.answers_per_address,
        5,
        defaults.answers_per_address,
    );
    let admission_minutes = whole(
        "admission_minutes",
        raw.admission_minutes,
        1,
        defaults.admission_minutes,
    );
    let seconds_per_answer = match raw.seconds_per_answer {
        None => defaults.seconds_per_answer,
        Some(seconds) if seconds.is_finite() && (0.0..=60.0).contains(&seconds) => seconds,
        Some(seconds) => {
            report.add(
                here(),
                format!(
                    "`seconds_per_answer` ({seconds}) must be between 0 and 60 (0 turns the \
                     too-fast check off)"
                ),
            );
            defaults.seconds_per_answer
        }
    };
    let leave_out = match &raw.leave_out {
        None => defaults.leave_out,
        Some(slugs) => {
            let mut flags = Vec::new();
            for slug in slugs {
                match Flag::parse(slug) {
                    Some(flag) if !flags.contains(&flag) => flags.push(flag),
                    Some(_) => report.add(here(), format!("`leave_out` names \"{slug}\" twice")),
                    None => report.add(
                        here(),
                        format!(
                            "`leave_out` names \"{slug}\", which is no flag; the flags are {}",
                            Flag::ALL.map(Flag::slug).join(", ")
                        ),
                    ),
                }
            }
            flags
        }
    };
    QualityRules {
        straight_line_min_answers,
        seconds_per_answer,
        burst_answers,
        burst_minutes,
        leave_out,
        answers_per_minute_floor,
        answers_per_address,
        admission_minutes,
    }
}

fn check_weight(name: &str, weight: f64, location: Location, report: &mut Report) {
    if !(weight.is_finite() && (0.0..=1.0).contains(&weight)) {
        report.add(
            location,
            format!("the weight of {name} ({weight}) must be between 0 and 1"),
        );
    }
}

fn check_sum(weights: impl Iterator<Item = f64>, location: Location, report: &mut Report) {
    let sum: f64 = weights.sum();
    if (sum - 1.0).abs() > WEIGHT_TOLERANCE {
        report.add(
            location,
            format!(
                "the weights add up to {}, not 1: make them add up to 1 (within {WEIGHT_TOLERANCE})",
                (sum * 10_000.0).round() / 10_000.0
            ),
        );
    }
}

fn check_bands(raw: &RawRating, report: &mut Report) -> Vec<Band> {
    let here = || Location::Field("bands".to_owned());
    if raw.bands.len() < 2 {
        report.add(
            here(),
            "give at least two bands, from the best grade down, the last starting at 0",
        );
    }
    let mut grades = HashSet::new();
    let mut bands: Vec<Band> = Vec::new();
    for band in &raw.bands {
        let grade = band.grade.trim();
        if grade.is_empty() {
            report.add(here(), "a band has an empty `grade`");
        } else if !grades.insert(grade) {
            report.add(here(), format!("grade {grade} appears twice"));
        }
        if !(band.at_least.is_finite() && (0.0..=100.0).contains(&band.at_least)) {
            report.add(
                here(),
                format!(
                    "band {grade}: `at_least` ({}) must be between 0 and 100",
                    band.at_least
                ),
            );
        }
        if let Some(previous) = bands.last() {
            if band.at_least == previous.at_least {
                report.add(
                    here(),
                    format!(
                        "bands {} and {grade} both start at {}: each band needs its own lower edge",
                        previous.grade, band.at_least
                    ),
                );
            } else if band.at_least > previous.at_least {
                report.add(
                    here(),
                    format!(
                        "band {grade} (from {}) is listed after {} (from {}): list the bands from \
                         the best grade down",
                        band.at_least, previous.grade, previous.at_least
                    ),
                );
            }
        }
        bands.push(Band {
            grade: grade.to_owned(),
            at_least: band.at_least,
        });
    }
    if let Some(last) = bands.last()
        && last.at_least != 0.0
    {
        report.add(
            here(),
            format!(
                "the last band, {}, starts at {}: it must start at 0 so that every score gets a \
                 grade",
                last.grade, last.at_least
            ),
        );
    }
    bands
}

/// Checks that every weighted area and source can be given evidence: an area with a weight needs
/// a scored question or an indicator in it from a source with a weight, and a source with a
/// weight needs something to say.
pub(super) fn check_coverage(
    rules: &RatingRules,
    indicators: &[Indicator],
    catalog: &Catalog,
    report: &mut Report,
) {
    let mut evidence: BTreeMap<Source, BTreeSet<Area>> = BTreeMap::new();
    for source in Source::SURVEYS {
        let areas = catalog
            .entries()
            .filter(|entry| entry.survey.audience == source.audience())
            .flat_map(|entry| entry.survey.sections.iter())
            .filter(|section| section.questions.iter().any(|question| question.scored))
            .map(|section| section.area)
            .collect();
        evidence.insert(source, areas);
    }
    evidence.insert(
        Source::Indicators,
        indicators.iter().map(|indicator| indicator.area).collect(),
    );

    for source in Source::ALL {
        let weight = rules.source_weight(source);
        let has_evidence = evidence
            .get(&source)
            .is_some_and(|areas| areas.iter().any(|area| rules.area_weight(*area) > 0.0));
        if weight > 0.0 && !has_evidence {
            let what = match source {
                Source::Indicators => {
                    "but indicators.toml has no indicator in an area with a weight".to_owned()
                }
                _ => format!(
                    "but no {} survey has a scored question in an area with a weight",
                    source.slug()
                ),
            };
            report.add(
                Location::Field("sources".to_owned()),
                format!(
                    "source {} has weight {weight}, {what}: give it weight 0 or give it evidence",
                    source.slug()
                ),
            );
        }
    }
    for (area, weight) in &rules.area_weights {
        let covered = Source::ALL.into_iter().any(|source| {
            rules.source_weight(source) > 0.0
                && evidence
                    .get(&source)
                    .is_some_and(|areas| areas.contains(area))
        });
        if *weight > 0.0 && !covered {
            report.add(
                Location::Field("areas".to_owned()),
                format!(
                    "area {} has weight {weight}, but no source with a weight gives evidence for \
                     it: no scored question of a parents, teachers or students survey and no \
                     indicator is in that area",
                    area.slug()
                ),
            );
        }
    }
}

#[cfg(test)]
mod quality_tests {
    use super::*;

    fn checked(raw: &RawQuality) -> (QualityRules, Vec<String>) {
        let mut report = Report::new("surveys/rating.toml");
        let rules = check_quality(Some(raw), &mut report);
        (
            rules,
            report.errors.iter().map(ToString::to_string).collect(),
        )
    }

    #[test]
    fn a_missing_quality_table_or_key_keeps_the_defaults() {
        let mut report = Report::new("surveys/rating.toml");
        assert_eq!(check_quality(None, &mut report), QualityRules::default());
        let (rules, errors) = checked(&RawQuality {
            burst_minutes: Some(30),
            ..RawQuality::default()
        });
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(rules.burst_minutes, 30);
        assert_eq!(
            rules.straight_line_min_answers,
            QualityRules::default().straight_line_min_answers
        );
    }

    #[test]
    fn bad_thresholds_are_named_with_file_and_key() {
        let (_, errors) = checked(&RawQuality {
            straight_line_min_answers: Some(1),
            seconds_per_answer: Some(-2.0),
            burst_answers: Some(-3),
            burst_minutes: Some(0),
            leave_out: Some(vec!["held".to_owned(), "bursts".to_owned()]),
            ..RawQuality::default()
        });
        assert_eq!(
            errors,
            [
                "surveys/rating.toml: quality: `straight_line_min_answers` (1) must be a whole \
                 number of at least 2",
                "surveys/rating.toml: quality: `burst_answers` (-3) must be a whole number of at \
                 least 2",
                "surveys/rating.toml: quality: `burst_minutes` (0) must be a whole number of at \
                 least 1",
                "surveys/rating.toml: quality: `seconds_per_answer` (-2) must be between 0 and 60 \
                 (0 turns the too-fast check off)",
                "surveys/rating.toml: quality: `leave_out` names \"bursts\", which is no flag; \
                 the flags are straight_line, too_fast, burst, held, all_top",
            ]
        );
    }
}

#[cfg(test)]
mod accountability_tests {
    use super::*;

    fn bands() -> Vec<Band> {
        ["优秀", "良好", "合格", "不合格"]
            .into_iter()
            .zip([90.0, 80.0, 60.0, 0.0])
            .map(|(grade, at_least)| Band {
                grade: grade.to_owned(),
                at_least,
            })
            .collect()
    }

    #[test]
    fn a_missing_table_keeps_the_defaults_and_bad_keys_are_named() {
        let mut report = Report::new("surveys/rating.toml");
        assert_eq!(
            check_accountability(None, &bands(), &mut report),
            AccountabilityRules::default()
        );
        let rules = check_accountability(
            Some(&RawAccountability {
                overdue_days: Some(14),
                ..RawAccountability::default()
            }),
            &bands(),
            &mut report,
        );
        assert!(report.errors.is_empty());
        assert_eq!(rules.overdue_days, 14);
        assert_eq!(rules.grade, "不合格");

        check_accountability(
            Some(&RawAccountability {
                overdue_days: Some(-1),
                grade: Some("差".to_owned()),
                unmet_indicators: Some(-2),
                serious_overdue: None,
                missing_self_check: None,
                verify_mismatch: None,
            }),
            &bands(),
            &mut report,
        );
        let errors: Vec<String> = report.errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            errors,
            [
                "surveys/rating.toml: accountability: `overdue_days` (-1) must be a whole number \
                 of days from 0 to 3650",
                "surveys/rating.toml: accountability: `grade` \"差\" is no grade of [[bands]]: use \
                 one of 优秀, 良好, 合格, 不合格",
                "surveys/rating.toml: accountability: `unmet_indicators` (-2) must be a whole \
                 number of at least 0",
            ]
        );
    }
}

#[cfg(test)]
mod visits_tests {
    use super::*;

    fn checked(tolerance: Option<f64>) -> (f64, Vec<String>) {
        let mut report = Report::new("surveys/rating.toml");
        let raw = RawVisits { tolerance };
        let value = check_visits(Some(&raw), &mut report);
        let errors = report.errors.iter().map(ToString::to_string).collect();
        (value, errors)
    }

    #[test]
    fn the_verify_tolerance_is_a_fraction_below_one_and_defaults_to_a_tenth() {
        let mut report = Report::new("surveys/rating.toml");
        assert_eq!(check_visits(None, &mut report), DEFAULT_VERIFY_TOLERANCE);
        assert_eq!(checked(None), (DEFAULT_VERIFY_TOLERANCE, Vec::new()));
        assert_eq!(checked(Some(0.25)), (0.25, Vec::new()));
        assert_eq!(checked(Some(0.0)), (0.0, Vec::new()));
        for wrong in [1.0, 1.5, -0.1, f64::NAN] {
            let (_, errors) = checked(Some(wrong));
            assert_eq!(errors.len(), 1, "{wrong}");
            assert!(errors[0].contains("visits: `tolerance`"), "{}", errors[0]);
        }
    }
}
