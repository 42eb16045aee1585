//! The overall rating (综合评估) of schools and of the county (`rating::score::rate_school`,
//! `rate_county`): from the one source a single campaign gives (`rate_campaign`), or from one
//! campaign per source combined (`rate_combined`). Pure: the evidence is given.

use std::collections::BTreeMap;

use entity::school;
use serde::Serialize;

use crate::rating::moments::AreaSums;
use crate::rating::satisfaction::Estimate;
use crate::rating::score::{
    CountyRating, CountySchool, SchoolEvidence, SchoolRating, SourceEvidence, rate_county,
    rate_school,
};
use crate::rating::{RatingRules, Source};
use crate::survey::{Area, Audience};

/// The source of evidence a survey's audience gives.
pub fn source_of(audience: Audience) -> Source {
    match audience {
        Audience::Parents => Source::Parents,
        Audience::Teachers => Source::Teachers,
        Audience::Students => Source::Students,
        Audience::School => Source::Indicators,
    }
}

/// What one campaign knows about one school.
#[derive(Clone, Debug)]
pub struct CampaignEvidence {
    pub school: school::Model,
    /// Responses from the school (its link's running count).
    pub answers: u64,
    /// Answers hoped for (`campaign_link.expected`).
    pub expected: u64,
    /// The people who could have answered (`[population]` of rating.toml), when known.
    pub population: Option<u64>,
    /// The school's area scores from this source.
    pub areas: BTreeMap<Area, Estimate>,
    /// For a questionnaire: the respondents' score sums behind `areas`.
    pub sums: Option<AreaSums>,
}

/// One school's rating row.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchoolRatingRow {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    /// 在校生数: the school's weight in the county's score.
    pub enrolment: u64,
    pub answers: u64,
    pub expected: u64,
    /// Answers against expected, 0–1; `None` when nothing is expected.
    pub response_rate: Option<f64>,
    /// The people who could have answered (`[population]`), when known.
    pub population: Option<u64>,
    /// The school's area scores from this source, with their respondents.
    pub areas: Vec<SchoolArea>,
    pub rating: SchoolRating,
    /// Whether the school may be shown on its own ([`super::shown_alone`]): a teachers' survey
    /// with fewer than 5 answers from the school is not, though the school still counts in the
    /// county's score. Pages and exports leave such a row's figures blank.
    pub shown_alone: bool,
}

/// One area of one school from one source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchoolArea {
    pub area: Area,
    /// Respondents with a score in the area (1 for the self-check).
    pub n: u64,
    pub estimate: Estimate,
}

/// The schools' ratings and the county's.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RatingTable {
    pub source: Source,
    pub schools: Vec<SchoolRatingRow>,
    pub county: CountyRating,
}

/// Rates every school from `source` alone, and the schools together.
///
/// Each questionnaire's population is the rules' (`[population]`: parents' and students' the
/// enrolment, teachers' the full-time teachers), so a small school most of whose people answered
/// is rated (`rating::score::needed_answers`).
pub fn rate_campaign(
    rules: &RatingRules,
    source: Source,
    schools: Vec<CampaignEvidence>,
) -> RatingTable {
    let rows: Vec<SchoolRatingRow> = schools
        .into_iter()
        .map(|evidence| {
            let areas = evidence
                .areas
                .iter()
                .map(|(area, estimate)| SchoolArea {
                    area: *area,
                    n: evidence
                        .sums
                        .as_ref()
                        .and_then(|sums| sums.area(*area))
                        .map_or(evidence.answers, |sums| sums.n),
                    estimate: *estimate,
                })
                .collect();
            let population = evidence.population;
            let mut school_evidence = SchoolEvidence::new();
            school_evidence.insert(
                source,
                SourceEvidence {
                    answers: evidence.answers,
                    population: evidence.population,
                    areas: evidence.areas,
                    sums: evidence.sums,
                },
            );
            SchoolRatingRow {
                school_id: evidence.school.id,
                code: evidence.school.code,
                name: evidence.school.name,
                township: evidence.school.township,
                enrolment: u64::try_from(evidence.school.enrolment).unwrap_or(0),
                answers: evidence.answers,
                expected: evidence.expected,
                response_rate: (evidence.expected > 0)
                    .then(|| evidence.answers as f64 / evidence.expected as f64),
                population,
                areas,
                rating: rate_school(rules, &school_evidence),
                shown_alone: super::shown_alone(source.audience(), evidence.answers),
            }
        })
        .collect();
    let schools: Vec<CountySchool> = rows
        .iter()
        .map(|row| CountySchool {
            enrolment: row.enrolment,
            rating: &row.rating,
        })
        .collect();
    let county = rate_county(rules, &schools);
    RatingTable {
        source,
        county,
        schools: rows,
    }
}

/// One source's answers at one school, for the combined rating's table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SourceCount {
    pub source: Source,
    pub answers: u64,
    pub expected: u64,
    pub response_rate: Option<f64>,
    /// The people who could have answered (`[population]`), when known.
    pub population: Option<u64>,
}

/// One school rated from every source it was asked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CombinedRow {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub enrolment: u64,
    /// In the order of [`Source::ALL`], only the sources whose campaign reached the school.
    pub sources: Vec<SourceCount>,
    pub rating: SchoolRating,
}

/// The overall rating (综合评估) from several campaigns, one per source.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CombinedTable {
    pub schools: Vec<CombinedRow>,
    pub county: CountyRating,
}

/// Rates every school from the evidence of one campaign per source. A school a campaign did
/// not reach has no evidence from that source (it was not asked, which is not held against it);
/// a school it reached but that did not answer enough is not rated, as `rate_school` says. The
/// teachers of a school where enough but fewer than 5 answered are left out of its score
/// ([`super::shown_alone`]), so that their figures do not show through it.
/// Schools are ordered by code.
pub fn rate_combined(
    rules: &RatingRules,
    campaigns: Vec<(Source, Vec<CampaignEvidence>)>,
) -> CombinedTable {
    let mut by_school: BTreeMap<String, (school::Model, SchoolEvidence, Vec<SourceCount>)> =
        BTreeMap::new();
    for (source, schools) in campaigns {
        for evidence in schools {
            let entry = by_school
                .entry(evidence.school.code.clone())
                .or_insert_with(|| (evidence.school.clone(), SchoolEvidence::new(), Vec::new()));
            // Enough of a small school's teachers answered (which the plan's rules accept) but
            // they are fewer than may be shown alone: their figures would show through the
            // school's score, so it is rated from its other sources. Their answers still count
            // in the teachers' campaign's county figures.
            let needed = crate::rating::score::needed_answers(
                rules.minimum_answers(source),
                evidence.answers,
                evidence.population,
            );
            let hidden = source == Source::Teachers
                && !super::shown_alone(Audience::Teachers, evidence.answers)
                && evidence.answers >= needed;
            entry.2.push(SourceCount {
                source,
                answers: evidence.answers,
                expected: evidence.expected,
                response_rate: (evidence.expected > 0)
                    .then(|| evidence.answers as f64 / evidence.expected as f64),
                population: evidence.population,
            });
            if hidden {
                continue;
            }
            entry.1.insert(
                source,
                SourceEvidence {
                    answers: evidence.answers,
                    population: evidence.population,
                    areas: evidence.areas,
                    sums: evidence.sums,
                },
            );
        }
    }
    let rows: Vec<CombinedRow> = by_school
        .into_values()
        .map(|(school, evidence, mut sources)| {
            sources.sort_by_key(|count| count.source);
            CombinedRow {
                school_id: school.id,
                code: school.code,
                name: school.name,
                township: school.township,
                enrolment: u64::try_from(school.enrolment).unwrap_or(0),
                sources,
                rating: rate_school(rules, &evidence),
            }
        })
        .collect();
    let county_schools: Vec<CountySchool> = rows
        .iter()
        .map(|row| CountySchool {
            enrolment: row.enrolment,
            rating: &row.rating,
        })
        .collect();
    let county = rate_county(rules, &county_schools);
    CombinedTable {
        schools: rows,
        county,
    }
}
