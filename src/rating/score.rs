//! The overall rating (综合评估) of a school and of the county, from the area scores of each
//! source, with the honesty the plan asks for: no grade when a source has too few answers, an
//! interval around every score, "provisional" when that interval reaches into another grade,
//! and "for reference only" when too few of a school's people answered (surveys/METHOD.md,
//! sections `minimum`, `combining`, `school-variance`, `coverage`, `grades` and `county`).
//! Pure arithmetic.
//!
//! A school's score is built in two steps. Within an area, the scores of the sources that have
//! evidence for it are averaged with the sources' weights (renormalised over those sources:
//! students say nothing of teachers' allowances, and that is not held against the school). Then
//! the area scores are averaged with the areas' weights, renormalised over the areas that have
//! any evidence; the areas left out are listed, never silently filled in.
//!
//! The interval: the indicators are exact; each questionnaire contributes the variance of its
//! part of the score, a weighted sum of its area means over the same respondents, computed
//! exactly from the respondents' score sums ([`AreaSums::combined_variance`]) and shrunk by the
//! finite-population factor 1 − n/N; different questionnaires are different people, so their
//! variances add. The critical value is t with the Welch–Satterthwaite degrees of freedom, each
//! questionnaire's being its answers − 1.
use std::collections::BTreeMap;

use serde::Serialize;

use super::moments::AreaSums;
use super::rules::{RatingRules, Source};
use super::stats::{Estimate, Interval, Range, finite_population_factor};
use crate::survey::Area;

/// What one source says about a school.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SourceEvidence {
    /// Responses from this school: answered questionnaires, or 1 for a submitted self-check.
    pub answers: u64,
    /// How many people could have answered (`[population]` of rating.toml), when known.
    pub population: Option<u64>,
    /// The score of each area this source has evidence for, on 0–100.
    pub areas: BTreeMap<Area, Estimate>,
    /// For a questionnaire: the respondents' score sums behind `areas`, for the exact variance
    /// of their weighted sum. Without them (hand-built evidence) the areas are taken as
    /// independent.
    pub sums: Option<AreaSums>,
}

/// Everything known about one school, by source. A source that was not asked of the school (no
/// students' questionnaire at a kindergarten) is absent; a source that was asked but got no
/// answer is present with `answers` = 0, and then the school cannot be rated.
pub type SchoolEvidence = BTreeMap<Source, SourceEvidence>;

/// A school's overall rating.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SchoolRating {
    Rated(Rated),
    /// Some source has fewer answers than it needs: shown as 答卷太少，暂不评定 (未提交自评表
    /// for the self-check).
    TooFewAnswers {
        short: Vec<ShortSource>,
    },
    /// No source with a weight has any evidence about any area with a weight.
    NoEvidence,
}

impl SchoolRating {
    pub fn rated(&self) -> Option<&Rated> {
        match self {
            SchoolRating::Rated(rated) => Some(rated),
            SchoolRating::TooFewAnswers { .. } | SchoolRating::NoEvidence => None,
        }
    }
}

/// A source below the number of answers it needs.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ShortSource {
    pub source: Source,
    pub answers: u64,
    /// The number it needed ([`needed_answers`]).
    pub needed: u64,
    pub population: Option<u64>,
}

/// A source whose answers are fewer than its coverage floor's share of its population.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CoverageNote {
    pub source: Source,
    pub answers: u64,
    pub population: u64,
    /// answers ÷ population.
    pub rate: f64,
    /// The floor of `[coverage]`.
    pub floor: f64,
}

/// A score with its interval and grade.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rated {
    /// 0–100.
    pub score: f64,
    pub standard_error: f64,
    /// The Welch–Satterthwaite degrees of freedom of the standard error; `None` when it is 0.
    pub df: Option<f64>,
    /// The 95% interval, cut to 0–100.
    pub interval: Interval,
    pub grade: String,
    /// The interval reaches into another grade: the grade may change with a few more answers.
    pub provisional: bool,
    /// Every grade the interval reaches, best first; one grade unless provisional.
    pub possible_grades: Vec<String>,
    /// The areas that count, in the order of [`Area::ALL`].
    pub areas: Vec<AreaScore>,
    /// Areas with a weight but no evidence from any source: left out, the others renormalised.
    pub missing_areas: Vec<Area>,
    /// Sources whose response rate is below the coverage floor: the grade is for reference only
    /// (仅供参考). Empty for the county.
    pub low_coverage: Vec<CoverageNote>,
}

/// One area's part in a school's score.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AreaScore {
    pub area: Area,
    pub score: f64,
    /// The area's share of the overall score after renormalisation (the shares add up to 1).
    pub share: f64,
    /// The sources behind the area score with their renormalised shares of it.
    pub sources: Vec<(Source, f64)>,
}

/// The least number of answers a source needs at a school (surveys/METHOD.md, `minimum`): the
/// plan's `minimum`, or, when the population N is known and at least the answers n, the least n
/// whose finite-population-corrected precision equals that of `minimum` answers from a large
/// population: n / (1 − n/N) ≥ m, that is n ≥ m·N / (N + m), rounded up.
pub fn needed_answers(minimum: u64, answers: u64, population: Option<u64>) -> u64 {
    match population {
        Some(population) if population > 0 && answers <= population => {
            (minimum * population).div_ceil(population + minimum)
        }
        _ => minimum,
    }
}

/// Rates one school.
pub fn rate_school(rules: &RatingRules, evidence: &SchoolEvidence) -> SchoolRating {
    let counted: Vec<(Source, &SourceEvidence)> = evidence
        .iter()
        .filter(|(source, _)| rules.source_weight(**source) > 0.0)
        .map(|(source, evidence)| (*source, evidence))
        .collect();

    let short: Vec<ShortSource> = counted
        .iter()
        .filter_map(|(source, evidence)| {
            let needed = needed_answers(
                rules.minimum_answers(*source),
                evidence.answers,
                evidence.population,
            );
            (evidence.answers < needed).then_some(ShortSource {
                source: *source,
                answers: evidence.answers,
                needed,
                population: evidence.population,
            })
        })
        .collect();
    if !short.is_empty() {
        return SchoolRating::TooFewAnswers { short };
    }

    let mut areas = Vec::new();
    let mut missing_areas = Vec::new();
    for area in Area::ALL {
        let area_weight = rules.area_weight(area);
        if area_weight <= 0.0 {
            continue;
        }
        let sources: Vec<(Source, f64, Estimate)> = counted
            .iter()
            .filter_map(|(source, evidence)| {
                let estimate = evidence.areas.get(&area)?;
                Some((*source, rules.source_weight(*source), *estimate))
            })
            .collect();
        let total: f64 = sources.iter().map(|(_, weight, _)| weight).sum();
        if sources.is_empty() || total <= 0.0 {
            missing_areas.push(area);
            continue;
        }
        let score = sources
            .iter()
            .map(|(_, weight, estimate)| weight * estimate.value)
            .sum::<f64>()
            / total;
        areas.push((area, area_weight, score, sources, total));
    }
    let total_area_weight: f64 = areas.iter().map(|(_, weight, ..)| weight).sum();
    if areas.is_empty() || total_area_weight <= 0.0 {
        return SchoolRating::NoEvidence;
    }

    // Each source's coefficients: its share of the school's score through each area.
    let mut coefficients: BTreeMap<Source, Vec<(Area, f64)>> = BTreeMap::new();
    let mut area_scores = Vec::new();
    let mut score = 0.0;
    for (area, area_weight, area_score, sources, source_total) in &areas {
        let share = area_weight / total_area_weight;
        score += share * area_score;
        for (source, source_weight, _) in sources {
            coefficients
                .entry(*source)
                .or_default()
                .push((*area, share * source_weight / source_total));
        }
        area_scores.push(AreaScore {
            area: *area,
            score: *area_score,
            share,
            sources: sources
                .iter()
                .map(|(source, weight, _)| (*source, weight / source_total))
                .collect(),
        });
    }
    let components: Vec<(f64, Option<f64>)> = coefficients
        .iter()
        .filter_map(|(source, coefficients)| {
            let evidence = evidence.get(source)?;
            let variance = source_variance(evidence, coefficients);
            let df = (evidence.answers >= 2).then_some(evidence.answers as f64 - 1.0);
            Some((variance, df))
        })
        .collect();
    let (variance, df) = combine_variances(&components);
    let low_coverage = counted
        .iter()
        .filter_map(|(source, evidence)| coverage_note(rules, *source, evidence))
        .collect();
    SchoolRating::Rated(graded(
        rules,
        score,
        variance.sqrt(),
        df,
        area_scores,
        missing_areas,
        low_coverage,
    ))
}

/// The variance of one source's part Σₐ cₐ·Eₐ of a school's score.
fn source_variance(evidence: &SourceEvidence, coefficients: &[(Area, f64)]) -> f64 {
    let fpc = finite_population_factor(evidence.answers, evidence.population);
    match &evidence.sums {
        Some(sums) => sums.combined_variance(coefficients, fpc),
        None => {
            fpc * coefficients
                .iter()
                .filter_map(|(area, coefficient)| {
                    let error = evidence.areas.get(area)?.standard_error;
                    Some((coefficient * error).powi(2))
                })
                .sum::<f64>()
        }
    }
}

/// The source's response rate against its population, when below the coverage floor.
fn coverage_note(
    rules: &RatingRules,
    source: Source,
    evidence: &SourceEvidence,
) -> Option<CoverageNote> {
    let population = evidence.population.filter(|population| *population > 0)?;
    let floor = rules.coverage_floor(source);
    let rate = evidence.answers as f64 / population as f64;
    (source != Source::Indicators && rate < floor).then_some(CoverageNote {
        source,
        answers: evidence.answers,
        population,
        rate,
        floor,
    })
}

/// Independent variances added, with the Welch–Satterthwaite degrees of freedom
/// (Σ vᵢ)² / Σ (vᵢ² / dfᵢ). A variance without degrees of freedom is given one, the most
/// cautious.
pub fn combine_variances(components: &[(f64, Option<f64>)]) -> (f64, Option<f64>) {
    let variance: f64 = components.iter().map(|(variance, _)| variance).sum();
    if variance <= 0.0 {
        return (0.0, None);
    }
    let denominator: f64 = components
        .iter()
        .filter(|(variance, _)| *variance > 0.0)
        .map(|(variance, df)| variance * variance / df.unwrap_or(1.0).max(1.0))
        .sum();
    (variance, Some(variance * variance / denominator))
}

fn graded(
    rules: &RatingRules,
    score: f64,
    standard_error: f64,
    df: Option<f64>,
    areas: Vec<AreaScore>,
    missing_areas: Vec<Area>,
    low_coverage: Vec<CoverageNote>,
) -> Rated {
    let estimate = Estimate {
        value: score,
        standard_error,
        df,
    };
    let interval = estimate.interval(Range::SCORE).unwrap_or(Interval {
        low: 0.0,
        high: 100.0,
    });
    let grade = rules.grade(score).grade.clone();
    let possible_grades = possible_grades(rules, interval);
    Rated {
        score,
        standard_error,
        df,
        interval,
        grade,
        provisional: possible_grades.len() > 1,
        possible_grades,
        areas,
        missing_areas,
        low_coverage,
    }
}

/// Every grade an interval reaches, best first: its ends are graded as they are shown, rounded
/// to one decimal like the score (surveys/METHOD.md, `grades`).
pub fn possible_grades(rules: &RatingRules, interval: Interval) -> Vec<String> {
    let high = rules.grade(interval.high);
    let low = rules.grade(interval.low);
    rules
        .bands
        .iter()
        .skip_while(|band| band.grade != high.grade)
        .take_while(|band| band.at_least >= low.at_least)
        .map(|band| band.grade.clone())
        .collect()
}

/// One school as the county's score sees it.
#[derive(Clone, Debug)]
pub struct CountySchool<'a> {
    /// 在校生数, the weight under [`super::CountyWeighting::Enrolment`].
    pub enrolment: u64,
    pub rating: &'a SchoolRating,
}

/// The county's rating.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CountyRating {
    /// `None` when no school (with pupils, under enrolment weighting) was rated.
    pub rated: Option<Rated>,
    pub schools_rated: usize,
    /// Schools with too few answers or no evidence: outside the county's score.
    pub schools_not_rated: usize,
    /// The share of the county's pupils in the rated schools, 0–1: how much of the county the
    /// score speaks for.
    pub enrolment_covered: f64,
}

/// The county's score: the rated schools' scores averaged with the rules' weighting. Every
/// school of the county is in the table (the schools are not a sample of schools), so the
/// county's sampling error is only its schools' own: their variances, weighted by the squared
/// shares, added (independent samples), with Welch–Satterthwaite degrees of freedom. Schools
/// not rated are left out and counted, and the share of pupils the score covers is reported
/// beside it.
pub fn rate_county(rules: &RatingRules, schools: &[CountySchool]) -> CountyRating {
    let rated: Vec<(u64, &Rated)> = schools
        .iter()
        .filter_map(|school| Some((school.enrolment, school.rating.rated()?)))
        .collect();
    let enrolment_total: u64 = schools.iter().map(|school| school.enrolment).sum();
    let enrolment_rated: u64 = rated.iter().map(|(enrolment, _)| enrolment).sum();
    let enrolment_covered = if enrolment_total > 0 {
        enrolment_rated as f64 / enrolment_total as f64
    } else {
        0.0
    };
    let weights: Vec<f64> = match rules.county_weighting {
        super::CountyWeighting::Enrolment => rated
            .iter()
            .map(|(enrolment, _)| *enrolment as f64)
            .collect(),
        super::CountyWeighting::Equal => vec![1.0; rated.len()],
    };
    let total: f64 = weights.iter().sum();
    let not_rated = schools.len() - rated.len();
    if total <= 0.0 {
        return CountyRating {
            rated: None,
            schools_rated: rated.len(),
            schools_not_rated: not_rated,
            enrolment_covered,
        };
    }
    let mut score = 0.0;
    let mut components = Vec::new();
    for ((_, school), weight) in rated.iter().zip(&weights) {
        let share = weight / total;
        score += share * school.score;
        components.push(((share * school.standard_error).powi(2), school.df));
    }
    let (variance, df) = combine_variances(&components);
    CountyRating {
        rated: Some(graded(
            rules,
            score,
            variance.sqrt(),
            df,
            Vec::new(),
            Vec::new(),
            Vec::new(),
        )),
        schools_rated: rated.len(),
        schools_not_rated: not_rated,
        enrolment_covered,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::rules::tests::customary_rules;
    use crate::rating::stats::t_quantile_975;

    fn close(actual: f64, expected: f64, tolerance: f64) {
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not within {tolerance} of {expected}"
        );
    }

    /// Two areas of equal weight (poverty, nutrition), parents and indicators half each.
    fn two_area_rules() -> RatingRules {
        let mut rules = customary_rules();
        rules.area_weights = Area::ALL.into_iter().map(|area| (area, 0.0)).collect();
        rules.area_weights.insert(Area::PovertyStudents, 0.5);
        rules.area_weights.insert(Area::Nutrition, 0.5);
        rules.source_weights = BTreeMap::from([
            (Source::Parents, 0.5),
            (Source::Teachers, 0.0),
            (Source::Students, 0.0),
            (Source::Indicators, 0.5),
        ]);
        rules
    }

    fn estimate(value: f64, standard_error: f64, df: u64) -> Estimate {
        Estimate {
            value,
            standard_error,
            df: Some(df as f64),
        }
    }

    /// Hand-built evidence without score sums: its areas count as independent.
    fn parents(answers: u64, areas: &[(Area, Estimate)]) -> SourceEvidence {
        SourceEvidence {
            answers,
            population: None,
            areas: areas.iter().copied().collect(),
            sums: None,
        }
    }

    fn indicators(areas: &[(Area, f64)]) -> SourceEvidence {
        SourceEvidence {
            answers: 1,
            population: None,
            areas: areas
                .iter()
                .map(|(area, value)| (*area, Estimate::exact(*value)))
                .collect(),
            sums: None,
        }
    }

    fn evidence(nutrition_by_parents: f64) -> SchoolEvidence {
        BTreeMap::from([
            (
                Source::Parents,
                parents(
                    40,
                    &[
                        (Area::PovertyStudents, estimate(80.0, 4.0, 39)),
                        (Area::Nutrition, estimate(nutrition_by_parents, 5.0, 39)),
                    ],
                ),
            ),
            (
                Source::Indicators,
                indicators(&[(Area::PovertyStudents, 100.0), (Area::Nutrition, 50.0)]),
            ),
        ])
    }

    #[test]
    fn a_school_scored_by_parents_and_indicators() {
        // Poverty (80 + 100)/2 = 90, nutrition (70 + 50)/2 = 60, overall (90 + 60)/2 = 75.
        // Each parents' area has coefficient ½·½ = ¼: var = (¼·4)² + (¼·5)² = 2.5625, df 39.
        let rating = rate_school(&two_area_rules(), &evidence(70.0));
        let rated = rating.rated().expect("rated");
        close(rated.score, 75.0, 1e-12);
        close(rated.standard_error, 2.5625f64.sqrt(), 1e-12);
        close(rated.df.expect("an error"), 39.0, 1e-9);
        let half = t_quantile_975(39.0).expect("df") * 2.5625f64.sqrt();
        close(rated.interval.low, 75.0 - half, 1e-9);
        close(rated.interval.high, 75.0 + half, 1e-9);
        assert_eq!(rated.grade, "合格");
        assert!(!rated.provisional);
        assert_eq!(rated.possible_grades, ["合格"]);
        assert_eq!(rated.areas.len(), 2);
        close(rated.areas[0].score, 90.0, 1e-12);
        close(rated.areas[1].score, 60.0, 1e-12);
        assert_eq!(
            rated.areas[0].sources,
            [(Source::Parents, 0.5), (Source::Indicators, 0.5)]
        );
        assert!(rated.missing_areas.is_empty());
        assert!(rated.low_coverage.is_empty(), "no population, no floor");
    }

    #[test]
    fn a_score_whose_interval_crosses_a_band_edge_is_provisional() {
        // Nutrition (90 + 50)/2 = 70, overall (90 + 70)/2 = 80 ± 3.24: 良好, maybe 合格.
        let rating = rate_school(&two_area_rules(), &evidence(90.0));
        let rated = rating.rated().expect("rated");
        close(rated.score, 80.0, 1e-12);
        assert_eq!(rated.grade, "良好");
        assert!(rated.provisional);
        assert_eq!(rated.possible_grades, ["良好", "合格"]);
    }

    #[test]
    fn sources_are_renormalised_over_those_with_evidence_in_an_area() {
        // Informatization only from the indicators (75): area weights ½, 0.3, 0.2 →
        // 0.5·90 + 0.3·60 + 0.2·75 = 78. Parents' coefficients 0.25 and 0.15:
        // var = (0.25·4)² + (0.15·5)² = 1.5625.
        let mut rules = two_area_rules();
        rules.area_weights.insert(Area::PovertyStudents, 0.5);
        rules.area_weights.insert(Area::Nutrition, 0.3);
        rules.area_weights.insert(Area::Informatization, 0.2);
        let mut evidence = evidence(70.0);
        if let Some(indicators) = evidence.get_mut(&Source::Indicators) {
            indicators
                .areas
                .insert(Area::Informatization, Estimate::exact(75.0));
        }
        let rating = rate_school(&rules, &evidence);
        let rated = rating.rated().expect("rated");
        close(rated.score, 78.0, 1e-12);
        close(rated.standard_error, 1.25, 1e-12);
        let informatization = rated
            .areas
            .iter()
            .find(|area| area.area == Area::Informatization)
            .expect("an informatization score");
        assert_eq!(informatization.sources, [(Source::Indicators, 1.0)]);
    }

    #[test]
    fn an_area_without_evidence_is_left_out_and_named() {
        // Pairing (0.2) has no evidence: (0.5·90 + 0.3·60)/0.8 = 78.75.
        let mut rules = two_area_rules();
        rules.area_weights.insert(Area::Nutrition, 0.3);
        rules.area_weights.insert(Area::SchoolPairing, 0.2);
        let rating = rate_school(&rules, &evidence(70.0));
        let rated = rating.rated().expect("rated");
        close(rated.score, 78.75, 1e-12);
        assert_eq!(rated.missing_areas, [Area::SchoolPairing]);
        let shares: f64 = rated.areas.iter().map(|area| area.share).sum();
        close(shares, 1.0, 1e-12);
    }

    #[test]
    fn a_source_below_its_minimum_stops_the_rating() {
        let mut evidence = evidence(70.0);
        if let Some(parents) = evidence.get_mut(&Source::Parents) {
            parents.answers = 12;
        }
        assert_eq!(
            rate_school(&two_area_rules(), &evidence),
            SchoolRating::TooFewAnswers {
                short: vec![ShortSource {
                    source: Source::Parents,
                    answers: 12,
                    needed: 30,
                    population: None,
                }]
            }
        );
    }

    #[test]
    fn a_self_check_not_submitted_stops_the_rating() {
        let mut evidence = evidence(70.0);
        evidence.insert(Source::Indicators, SourceEvidence::default());
        assert!(matches!(
            rate_school(&two_area_rules(), &evidence),
            SchoolRating::TooFewAnswers { short } if short[0].source == Source::Indicators
        ));
    }

    #[test]
    fn the_minimum_gives_way_to_a_small_population() {
        // n / (1 − n/N) ≥ m: 20 pupils need 12 of 30; 1,800 need the full 30.
        assert_eq!(needed_answers(30, 12, Some(20)), 12);
        assert_eq!(needed_answers(30, 0, Some(20)), 12);
        assert_eq!(needed_answers(30, 5, Some(1800)), 30);
        assert_eq!(needed_answers(5, 3, Some(5)), 3);
        assert_eq!(needed_answers(5, 1, Some(1)), 1);
        // Unknown, or smaller than the answers (then not trusted): the plan's minimum.
        assert_eq!(needed_answers(30, 12, None), 30);
        assert_eq!(needed_answers(30, 25, Some(20)), 30);
    }

    #[test]
    fn a_whole_small_population_is_enough_and_has_no_sampling_error() {
        // Twelve parents, all of them: enough, and the parents' error vanishes.
        let mut evidence = evidence(70.0);
        if let Some(parents) = evidence.get_mut(&Source::Parents) {
            parents.answers = 12;
            parents.population = Some(12);
        }
        let rating = rate_school(&two_area_rules(), &evidence);
        let rated = rating.rated().expect("rated");
        close(rated.standard_error, 0.0, 1e-12);
        assert_eq!(rated.df, None);
        assert_eq!(rated.interval.low, rated.interval.high);
    }

    #[test]
    fn half_a_population_shrinks_the_variance_by_the_finite_population_factor() {
        // 40 of 79: 1 − 40/79 = 39/79 of the variance is left.
        let mut evidence = evidence(70.0);
        if let Some(parents) = evidence.get_mut(&Source::Parents) {
            parents.population = Some(79);
        }
        let rating = rate_school(&two_area_rules(), &evidence);
        let rated = rating.rated().expect("rated");
        close(
            rated.standard_error,
            (2.5625f64 * 39.0 / 79.0).sqrt(),
            1e-12,
        );
        // 40 of 79 is above the parents' floor of 20%.
        assert!(rated.low_coverage.is_empty());
    }

    #[test]
    fn a_low_response_rate_is_noted_beside_the_grade() {
        let mut evidence = evidence(70.0);
        if let Some(parents) = evidence.get_mut(&Source::Parents) {
            parents.population = Some(1800);
        }
        let rating = rate_school(&two_area_rules(), &evidence);
        let rated = rating.rated().expect("rated");
        assert_eq!(
            rated.low_coverage,
            [CoverageNote {
                source: Source::Parents,
                answers: 40,
                population: 1800,
                rate: 40.0 / 1800.0,
                floor: 0.2,
            }]
        );
        assert_eq!(rated.grade, "合格", "the grade stays, for reference only");
    }

    #[test]
    fn a_source_without_weight_is_ignored_even_with_few_answers() {
        let mut evidence = evidence(70.0);
        evidence.insert(
            Source::Teachers,
            parents(1, &[(Area::PovertyStudents, estimate(0.0, 30.0, 1))]),
        );
        let rating = rate_school(&two_area_rules(), &evidence);
        close(rating.rated().expect("rated").score, 75.0, 1e-12);
    }

    #[test]
    fn variances_of_different_sources_add() {
        // Source weights parents ½, teachers ¼, indicators ¼; both areas ½; parents and
        // teachers score both areas with se 4. Parents' coefficient ½·½ per area:
        // var 2·(¼·4)² = 2 (df 39); teachers' ½·¼: var 2·(⅛·4)² = 0.5 (df 4).
        // Total 2.5; Satterthwaite df = 2.5² / (2²/39 + 0.5²/4) = 37.86.
        let mut rules = two_area_rules();
        rules.source_weights = BTreeMap::from([
            (Source::Parents, 0.5),
            (Source::Teachers, 0.25),
            (Source::Students, 0.0),
            (Source::Indicators, 0.25),
        ]);
        let same = [
            (Area::PovertyStudents, estimate(80.0, 4.0, 39)),
            (Area::Nutrition, estimate(80.0, 4.0, 39)),
        ];
        let teachers = [
            (Area::PovertyStudents, estimate(80.0, 4.0, 4)),
            (Area::Nutrition, estimate(80.0, 4.0, 4)),
        ];
        let evidence = BTreeMap::from([
            (Source::Parents, parents(40, &same)),
            (Source::Teachers, parents(5, &teachers)),
            (
                Source::Indicators,
                indicators(&[(Area::PovertyStudents, 80.0), (Area::Nutrition, 80.0)]),
            ),
        ]);
        let rating = rate_school(&rules, &evidence);
        let rated = rating.rated().expect("rated");
        close(rated.score, 80.0, 1e-12);
        close(rated.standard_error, 2.5f64.sqrt(), 1e-12);
        close(
            rated.df.expect("an error"),
            6.25 / (4.0 / 39.0 + 0.25 / 4.0),
            1e-9,
        );
    }

    #[test]
    fn no_evidence_at_all_is_said_so() {
        let evidence = BTreeMap::from([(Source::Indicators, indicators(&[]))]);
        assert_eq!(
            rate_school(&two_area_rules(), &evidence),
            SchoolRating::NoEvidence
        );
    }

    fn rated(score: f64, standard_error: f64, df: f64) -> SchoolRating {
        SchoolRating::Rated(Rated {
            score,
            standard_error,
            df: Some(df),
            interval: Interval::around(score, 0.0),
            grade: String::new(),
            provisional: false,
            possible_grades: Vec::new(),
            areas: Vec::new(),
            missing_areas: Vec::new(),
            low_coverage: Vec::new(),
        })
    }

    #[test]
    fn the_county_weighs_its_schools_by_enrolment() {
        // A: 300 pupils, 80 ± se 2 (df 30); B: 100 pupils, 60 ± se 4 (df 10); C: not rated.
        // Weights ¾ and ¼: 75. var 0.5625·4 + 0.0625·16 = 3.25;
        // df = 3.25² / (2.25²/30 + 1²/10) = 39.30 → t₀.₉₇₅ = 2.0224 → ± 3.6460.
        let a = rated(80.0, 2.0, 30.0);
        let b = rated(60.0, 4.0, 10.0);
        let c = SchoolRating::TooFewAnswers { short: Vec::new() };
        let schools = [
            CountySchool {
                enrolment: 300,
                rating: &a,
            },
            CountySchool {
                enrolment: 100,
                rating: &b,
            },
            CountySchool {
                enrolment: 100,
                rating: &c,
            },
        ];
        let county = rate_county(&customary_rules(), &schools);
        let score = county.rated.expect("rated");
        close(score.score, 75.0, 1e-12);
        close(score.standard_error, 3.25f64.sqrt(), 1e-12);
        let df = 10.5625 / 0.26875;
        close(score.df.expect("an error"), df, 1e-9);
        let half = t_quantile_975(df).expect("df") * 3.25f64.sqrt();
        close(score.interval.low, 75.0 - half, 1e-12);
        close(half, 3.6460, 1e-3);
        assert_eq!(score.grade, "合格");
        assert!(!score.provisional);
        assert_eq!(county.schools_rated, 2);
        assert_eq!(county.schools_not_rated, 1);
        close(county.enrolment_covered, 0.8, 1e-12);
    }

    #[test]
    fn the_county_can_weigh_every_school_the_same() {
        // (80 + 60)/2 = 70; se √(¼·4 + ¼·16) = √5.
        let a = rated(80.0, 2.0, 30.0);
        let b = rated(60.0, 4.0, 10.0);
        let schools = [
            CountySchool {
                enrolment: 300,
                rating: &a,
            },
            CountySchool {
                enrolment: 100,
                rating: &b,
            },
        ];
        let mut rules = customary_rules();
        rules.county_weighting = super::super::CountyWeighting::Equal;
        let county = rate_county(&rules, &schools);
        let score = county.rated.expect("rated");
        close(score.score, 70.0, 1e-12);
        close(score.standard_error, 5f64.sqrt(), 1e-12);
    }

    #[test]
    fn a_county_with_no_rated_school_has_no_score() {
        let c = SchoolRating::NoEvidence;
        let county = rate_county(
            &customary_rules(),
            &[CountySchool {
                enrolment: 100,
                rating: &c,
            }],
        );
        assert_eq!(county.rated, None);
        assert_eq!(county.schools_not_rated, 1);
        close(county.enrolment_covered, 0.0, 1e-12);
    }
}
