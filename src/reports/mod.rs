//! The county report and the school report: what the overall assessment (综合评估: the latest
//! campaign of each audience, `results::assessment`) says, as text lines, tables and charts,
//! ready for an A4 page and for mail ([`build`]). The charts of a campaign's results page live
//! in [`campaign`]; the mapping from figures to charts, pure and unit-tested, in [`figures`].

pub mod campaign;
pub mod digest;
pub mod figures;
pub mod mail;
pub mod method;

use std::collections::BTreeMap;

use entity::school;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, TransactionTrait};
use serde::Serialize;

use crate::charts::{self, Chart, HeatCell, HeatRow, RankedItem};
use crate::rating::{CountyWeighting, Plan, Source};
use crate::results::overall::CombinedRow;
use crate::results::self_checks::{IndicatorRollUp, SchoolIndicators};
use crate::results::wording::{RatingText, county_text, rating_text};
use crate::results::{self, CampaignResults, ResultsError, aggregate, percent};
use crate::survey::{Area, Audience};
use figures::{distribution_charts, hidden_for_anonymity, radar_axes, radar_series};

/// Which report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportScope {
    County,
    /// A school, by id.
    School(i32),
}

/// A report as mail carries it: a title, plain-text lines (scores, grades, n, rates) and the
/// key charts.
#[derive(Clone, Debug)]
pub struct Report {
    pub title: String,
    pub summary: Vec<String>,
    pub charts: Vec<Chart>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("没有这所学校")]
    NotFound,
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// The report of `scope`, from the overall assessment.
pub async fn build(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    scope: ReportScope,
) -> Result<Report, ReportError> {
    match scope {
        ReportScope::County => Ok(county(db, plan).await?.into_report()),
        ReportScope::School(id) => Ok(school(db, plan, id).await?.into_report()),
    }
}

/// A campaign the assessment uses, with its results.
pub struct SourceCampaign {
    pub source: Source,
    pub found: CampaignResults,
}

/// One source's answers, as a report lists them.
#[derive(Clone, Debug, Serialize)]
pub struct SourceLine {
    pub source: &'static str,
    pub campaign_id: i32,
    pub campaign: String,
    pub survey_title: String,
    pub answers: u64,
    pub expected: u64,
    /// `61.7%`, or `—` when nothing is expected.
    pub rate: String,
    /// The population N (`1200`), or `—` when unknown (surveys/METHOD.md, `population`).
    pub population: String,
    /// answers ÷ N, with `（低于下限 20%，仅供参考）` below the coverage floor; `—` when unknown.
    pub coverage: String,
    /// The score from this source alone, with its 95% interval (the school's, or the county's
    /// in the county report); `—` when not rated.
    pub score: String,
    /// The answers a supervisor excluded, and why: `无` or `3 份（…）`.
    pub excluded: String,
}

impl SourceLine {
    fn sentence(&self) -> String {
        format!(
            "{}（{}）：答卷 {} 份，应收 {} 份，回收率 {}。",
            self.source, self.campaign, self.answers, self.expected, self.rate
        )
    }
}

/// What the method appendix says of one source: N, coverage against the floor, the score with
/// its interval, the exclusions.
struct Appendix {
    population: Option<u64>,
    floor: f64,
    score: String,
    excluded: results::Excluded,
}

fn rate_text(answers: u64, expected: u64) -> String {
    if expected > 0 {
        percent(answers as f64 / expected as f64)
    } else {
        "—".to_owned()
    }
}

/// The latest campaign of each source with its results, and the combined table.
async fn gather(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
) -> Result<(Vec<SourceCampaign>, results::overall::CombinedTable), ReportError> {
    let (assessment, found) = results::assessment_with_results(db, plan).await?;
    let campaigns = assessment
        .campaigns
        .iter()
        .zip(found)
        .map(|(used, found)| SourceCampaign {
            source: used.source,
            found,
        })
        .collect();
    Ok((campaigns, assessment.table))
}

fn source_line(
    campaign: &SourceCampaign,
    answers: u64,
    expected: u64,
    appendix: Appendix,
) -> SourceLine {
    let coverage = match appendix.population {
        Some(population) if population > 0 && campaign.source != Source::Indicators => {
            let rate = answers as f64 / population as f64;
            if rate < appendix.floor {
                format!(
                    "{}（低于下限 {}，仅供参考）",
                    percent(rate),
                    percent(appendix.floor)
                )
            } else {
                percent(rate)
            }
        }
        _ => "—".to_owned(),
    };
    SourceLine {
        source: campaign.source.label(),
        campaign_id: campaign.found.campaign.id,
        campaign: campaign.found.campaign.name.clone(),
        survey_title: campaign.found.survey.title.clone(),
        answers,
        expected,
        rate: rate_text(answers, expected),
        population: appendix
            .population
            .map_or_else(|| "—".to_owned(), |population| population.to_string()),
        coverage,
        score: appendix.score,
        excluded: appendix.excluded.describe(),
    }
}

/// A school in the county report's table.
#[derive(Clone, Debug, Serialize)]
pub struct SchoolLine {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    /// `家长问卷 45 / 60（75.0%）` per source.
    pub sources: Vec<String>,
    pub rating: RatingText,
}

/// Everything the county report shows.
pub struct CountyReport {
    pub title: String,
    pub weighting: &'static str,
    pub rating: RatingText,
    pub sources: Vec<SourceLine>,
    pub schools: Vec<SchoolLine>,
    /// The self-check's roll-up, when a self-check campaign is used.
    pub indicators: Option<Vec<IndicatorRollUp>>,
    pub indicators_submitted: usize,
    /// The county's targets (`targets.toml`) from the latest self-check campaign.
    pub targets: Vec<crate::results::targets::TargetLine>,
    /// The self-check campaign the targets were counted from.
    pub targets_campaign: Option<crate::results::targets::TargetsCampaign>,
    /// Radar, ranking, heat map.
    pub key_charts: Vec<Chart>,
    /// Per source and section.
    pub distributions: Vec<Chart>,
    pub summary: Vec<String>,
}

impl CountyReport {
    pub fn into_report(self) -> Report {
        Report {
            title: self.title,
            summary: self.summary,
            charts: self.key_charts,
        }
    }
}

/// How the county's score weighs its schools.
pub fn weighting_label(weighting: CountyWeighting) -> &'static str {
    match weighting {
        CountyWeighting::Enrolment => "按在校生数加权",
        CountyWeighting::Equal => "每所学校同等权重",
    }
}

/// The county's value of each area: the rated schools' area scores averaged with the county's
/// weighting, over the schools that have the area.
pub fn county_area_values(rows: &[CombinedRow], weighting: CountyWeighting) -> BTreeMap<Area, f64> {
    let mut sums: BTreeMap<Area, (f64, f64)> = BTreeMap::new();
    for row in rows {
        let Some(rated) = row.rating.rated() else {
            continue;
        };
        let weight = match weighting {
            CountyWeighting::Enrolment => row.enrolment as f64,
            CountyWeighting::Equal => 1.0,
        };
        if weight <= 0.0 {
            continue;
        }
        for area in &rated.areas {
            let entry = sums.entry(area.area).or_default();
            entry.0 += weight * area.score;
            entry.1 += weight;
        }
    }
    sums.into_iter()
        .filter(|(_, (_, weight))| *weight > 0.0)
        .map(|(area, (sum, weight))| (area, sum / weight))
        .collect()
}

/// Answers from questionnaires (not the self-check) of a combined row.
fn questionnaire_answers(row: &CombinedRow) -> u64 {
    row.sources
        .iter()
        .filter(|count| count.source != Source::Indicators)
        .map(|count| count.answers)
        .sum()
}

/// The county report.
pub async fn county(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
) -> Result<CountyReport, ReportError> {
    let (campaigns, table) = gather(db, plan).await?;
    let weighting = plan.rules.county_weighting;
    let rating = county_text(&table.county);

    let mut sources: Vec<SourceLine> = Vec::new();
    for campaign in &campaigns {
        let answers = campaign.found.evidence.iter().map(|e| e.answers).sum();
        let expected = campaign.found.evidence.iter().map(|e| e.expected).sum();
        let excluded = campaign.found.left_out.clone();
        let population = campaign
            .found
            .evidence
            .iter()
            .map(|e| e.population)
            .sum::<Option<u64>>();
        let appendix = Appendix {
            population,
            floor: plan.rules.coverage_floor(campaign.source),
            score: county_text(&campaign.found.rating.county).score,
            excluded,
        };
        sources.push(source_line(campaign, answers, expected, appendix));
    }
    let schools: Vec<SchoolLine> = table
        .schools
        .iter()
        .map(|row| SchoolLine {
            school_id: row.school_id,
            code: row.code.clone(),
            name: row.name.clone(),
            township: row.township.clone(),
            sources: row
                .sources
                .iter()
                .map(|count| {
                    format!(
                        "{} {} / {}（{}）",
                        count.source.label(),
                        count.answers,
                        count.expected,
                        count.response_rate.map_or_else(|| "—".to_owned(), percent)
                    )
                })
                .collect(),
            rating: rating_text(&row.rating),
        })
        .collect();

    let self_check = campaigns
        .iter()
        .find(|campaign| campaign.source == Source::Indicators)
        .and_then(|campaign| campaign.found.indicators.as_ref());
    let indicators = self_check.map(|table| table.indicators.clone());
    let indicators_submitted = self_check.map_or(0, |table| table.submitted);

    // Key charts.
    let mut key_charts = Vec::new();
    let series = campaigns
        .iter()
        .map(|campaign| {
            let values = if campaign.found.survey.audience == Audience::School {
                mean_areas(&campaign.found)
            } else {
                figures::area_values(&campaign.found.results)
            };
            radar_series(
                campaign.source.label(),
                campaign.found.results.responses,
                &values,
            )
        })
        .take(4)
        .collect();
    key_charts.push(charts::radar(
        "county-radar",
        "全县各方面得分（按来源）",
        "各来源最近一次调查活动；问卷为满意度指数，自评为指标得分；0–100，无数据的方面不画点",
        radar_axes(),
        series,
    ));
    let county_value = table.county.rated.as_ref().map(|rated| rated.score);
    let ranked: Vec<RankedItem> = table
        .schools
        .iter()
        .map(|row| {
            let rated = row.rating.rated();
            RankedItem {
                label: row.name.clone(),
                n: questionnaire_answers(row),
                value: rated.map(|rated| rated.score),
                interval: rated.map(|rated| rated.interval),
                too_few: rated.is_none(),
            }
        })
        .collect();
    key_charts.push(charts::ranking(
        "county-ranking",
        "各校综合评估得分排名",
        "综合得分（0–100），横线为 95% 区间，n 为该校问卷答卷数；答卷太少、暂不评定的学校列在图下",
        "综合评估得分（0–100）",
        ranked,
        county_value.map(|value| ("全县".to_owned(), value)),
        "",
    ));
    let columns: Vec<Area> = Area::ALL
        .into_iter()
        .filter(|area| {
            table.schools.iter().any(|row| {
                row.rating
                    .rated()
                    .is_some_and(|rated| rated.areas.iter().any(|score| score.area == *area))
            })
        })
        .collect();
    let rows: Vec<HeatRow> = table
        .schools
        .iter()
        .map(|row| HeatRow {
            label: row.name.clone(),
            n: questionnaire_answers(row),
            cells: columns
                .iter()
                .map(|area| match row.rating.rated() {
                    None => HeatCell::TooFew,
                    Some(rated) => rated
                        .areas
                        .iter()
                        .find(|score| score.area == *area)
                        .map_or(HeatCell::Empty, |score| HeatCell::Value(score.score)),
                })
                .collect(),
        })
        .collect();
    key_charts.push(charts::heatmap(
        "county-heatmap",
        "各校各方面综合得分",
        "每格为该校该方面各来源加权后的得分（0–100），n 为该校问卷答卷数；斜线：答卷太少，暂不评定",
        columns.iter().map(|area| area.label().to_owned()).collect(),
        rows,
        "",
    ));

    let mut distributions = Vec::new();
    for campaign in &campaigns {
        if campaign.found.survey.audience == Audience::School {
            continue;
        }
        distributions.extend(distribution_charts(
            &format!("{}-", campaign.source.slug()),
            &format!("{}·", campaign.source.label()),
            &campaign.found.survey,
            &campaign.found.results,
        ));
    }

    let mut summary = vec![format!(
        "全县综合评估：{}，{}（{}）。{}",
        rating.score,
        rating.grade,
        weighting_label(weighting),
        rating.note
    )];
    summary.extend(sources.iter().map(SourceLine::sentence));
    if let Some(indicators) = &indicators {
        summary.push(format!(
            "学校自评：{} 所学校提交，{} 项指标。",
            indicators_submitted,
            indicators.len()
        ));
    }
    if campaigns.is_empty() {
        summary.push("还没有可用于评估的调查活动。".to_owned());
    }
    let county_targets = crate::results::targets::county_targets(db, plan).await?;
    Ok(CountyReport {
        title: "全县教育督导评估报告".to_owned(),
        targets: crate::results::targets::target_lines(&county_targets),
        targets_campaign: county_targets.campaign,
        weighting: weighting_label(weighting),
        rating,
        sources,
        schools,
        indicators,
        indicators_submitted,
        key_charts,
        distributions,
        summary,
    })
}

/// The mean over schools of a campaign's area figures (the self-check's indicator scores).
fn mean_areas(found: &CampaignResults) -> BTreeMap<Area, f64> {
    let mut sums: BTreeMap<Area, (f64, u32)> = BTreeMap::new();
    for school in &found.evidence {
        for (area, estimate) in &school.areas {
            let entry = sums.entry(*area).or_default();
            entry.0 += estimate.value;
            entry.1 += 1;
        }
    }
    sums.into_iter()
        .map(|(area, (sum, count))| (area, sum / f64::from(count)))
        .collect()
}

/// The school a school report is about.
#[derive(Clone, Debug, Serialize)]
pub struct SchoolHead {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub kind: String,
    pub enrolment: i32,
    pub teachers: i32,
}

/// Everything the school report shows.
pub struct SchoolReport {
    pub title: String,
    pub school: SchoolHead,
    pub rating: RatingText,
    pub sources: Vec<SourceLine>,
    pub indicators: Option<SchoolIndicators>,
    /// Radar of the school against the county.
    pub key_charts: Vec<Chart>,
    pub distributions: Vec<Chart>,
    /// What is left out, and why.
    pub notes: Vec<String>,
    pub summary: Vec<String>,
}

impl SchoolReport {
    pub fn into_report(self) -> Report {
        Report {
            title: self.title,
            summary: self.summary,
            charts: self.key_charts,
        }
    }
}

/// The report of school `id`.
pub async fn school(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    id: i32,
) -> Result<SchoolReport, ReportError> {
    let model = school::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(ReportError::NotFound)?;
    let (campaigns, table) = gather(db, plan).await?;
    let row = table.schools.iter().find(|row| row.school_id == id);
    let rating = row.map_or_else(
        || RatingText {
            score: "—".to_owned(),
            grade: "暂无可评定的内容".to_owned(),
            provisional: false,
            note: "用于综合评估的调查活动都没有包括这所学校。".to_owned(),
        },
        |row| rating_text(&row.rating),
    );
    let mut notes = Vec::new();
    let mut sources = Vec::new();
    let mut distributions = Vec::new();
    for campaign in &campaigns {
        let Some(evidence) = campaign
            .found
            .evidence
            .iter()
            .find(|evidence| evidence.school.id == id)
        else {
            continue;
        };
        let shown = campaign
            .found
            .rating
            .schools
            .iter()
            .find(|row| row.school_id == id && row.shown_alone);
        let appendix = Appendix {
            population: evidence.population,
            floor: plan.rules.coverage_floor(campaign.source),
            score: shown.map_or_else(|| "—".to_owned(), |row| rating_text(&row.rating).score),
            // A hidden teachers' school's answers are not told, left out or not.
            excluded: if shown.is_some() {
                results::excluded_answers(
                    db,
                    campaign.found.campaign.id,
                    &plan.rules.quality,
                    Some(&[id]),
                    results::DateRange::default(),
                )
                .await?
                .remove(&id)
                .unwrap_or_default()
            } else {
                results::Excluded::default()
            },
        };
        sources.push(source_line(
            campaign,
            evidence.answers,
            evidence.expected,
            appendix,
        ));
        let audience = campaign.found.survey.audience;
        if audience == Audience::School {
            continue;
        }
        if hidden_for_anonymity(audience, evidence.answers) {
            notes.push(format!(
                "{}：{}，这里不单独显示其各题结果（仍计入全县汇总）。",
                campaign.source.label(),
                figures::TEACHERS_HIDDEN_NOTE
            ));
            continue;
        }
        let own_counts = results::tally_counts(db, campaign.found.campaign.id, Some(&[id]))
            .await?
            .remove(&id)
            .unwrap_or_default();
        let own = aggregate(
            &campaign.found.survey,
            &own_counts,
            &evidence.sums.clone().unwrap_or_default(),
            results::Group {
                responses: evidence.answers,
                population: evidence.population,
            },
            campaign.found.results.minimum,
            &plan.rules.area_weights,
        );
        distributions.extend(distribution_charts(
            &format!("{}-", campaign.source.slug()),
            &format!("{}·", campaign.source.label()),
            &campaign.found.survey,
            &own,
        ));
    }
    let indicators = campaigns
        .iter()
        .find(|campaign| campaign.source == Source::Indicators)
        .and_then(|campaign| campaign.found.indicators.as_ref())
        .and_then(|table| table.schools.iter().find(|row| row.school_id == id))
        .cloned();

    let school_values: BTreeMap<Area, f64> = row
        .and_then(|row| row.rating.rated())
        .map(|rated| {
            rated
                .areas
                .iter()
                .map(|score| (score.area, score.score))
                .collect()
        })
        .unwrap_or_default();
    let county_values = county_area_values(&table.schools, plan.rules.county_weighting);
    let county_n: u64 = table.schools.iter().map(questionnaire_answers).sum();
    let school_n = row.map_or(0, questionnaire_answers);
    let radar = charts::radar(
        &format!("school-{id}-radar"),
        &format!("{}：各方面综合得分与全县对比", model.name),
        "各来源加权后的方面得分（0–100），由中心向外；全县为已评定学校的加权平均；无数据的方面不画点",
        radar_axes(),
        vec![
            radar_series(
                &if row.and_then(|row| row.rating.rated()).is_some() {
                    model.name.clone()
                } else {
                    format!("{}：{}", model.name, rating.grade)
                },
                school_n,
                &school_values,
            ),
            radar_series("全县", county_n, &county_values),
        ],
    );

    let mut summary = vec![format!(
        "{}（{}）综合评估：{}，{}。{}",
        model.name, model.code, rating.score, rating.grade, rating.note
    )];
    summary.extend(sources.iter().map(SourceLine::sentence));
    if let Some(indicators) = &indicators {
        summary.push(if indicators.submitted {
            format!(
                "学校自评指标：达标 {} 项，未达标 {} 项，未填报 {} 项。",
                indicators.met, indicators.not_met, indicators.not_reported
            )
        } else {
            "学校自评指标：未提交自评表。".to_owned()
        });
    }
    summary.extend(notes.iter().cloned());
    Ok(SchoolReport {
        title: format!("{} 教育督导评估报告", model.name),
        school: SchoolHead {
            id: model.id,
            code: model.code,
            name: model.name,
            township: model.township,
            kind: model.kind,
            enrolment: model.enrolment,
            teachers: model.teachers,
        },
        rating,
        sources,
        indicators,
        key_charts: vec![radar],
        distributions,
        notes,
        summary,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::score::{AreaScore, Rated, SchoolRating};
    use crate::rating::stats::Interval;
    use crate::results::overall::SourceCount;

    fn row(enrolment: u64, areas: &[(Area, f64)], rated: bool) -> CombinedRow {
        let rating = if rated {
            SchoolRating::Rated(Rated {
                score: 80.0,
                standard_error: 1.0,
                df: Some(30.0),
                interval: Interval {
                    low: 78.0,
                    high: 82.0,
                },
                grade: "良好".to_owned(),
                provisional: false,
                possible_grades: vec!["良好".to_owned()],
                areas: areas
                    .iter()
                    .map(|(area, score)| AreaScore {
                        area: *area,
                        score: *score,
                        share: 1.0 / areas.len() as f64,
                        sources: vec![(Source::Parents, 1.0)],
                    })
                    .collect(),
                missing_areas: Vec::new(),
                low_coverage: Vec::new(),
            })
        } else {
            SchoolRating::NoEvidence
        };
        CombinedRow {
            school_id: 1,
            code: "S1".to_owned(),
            name: "甲校".to_owned(),
            township: "城关镇".to_owned(),
            enrolment,
            sources: vec![
                SourceCount {
                    source: Source::Parents,
                    answers: 40,
                    expected: 50,
                    response_rate: Some(0.8),
                    population: Some(50),
                },
                SourceCount {
                    source: Source::Indicators,
                    answers: 1,
                    expected: 1,
                    response_rate: Some(1.0),
                    population: None,
                },
            ],
            rating,
        }
    }

    #[test]
    fn county_area_values_weigh_rated_schools_by_enrolment() {
        let rows = vec![
            row(
                300,
                &[(Area::Nutrition, 90.0), (Area::RuralTeachers, 70.0)],
                true,
            ),
            row(100, &[(Area::Nutrition, 70.0)], true),
            row(1000, &[(Area::Nutrition, 10.0)], false),
        ];
        let values = county_area_values(&rows, CountyWeighting::Enrolment);
        // (300·90 + 100·70) / 400 = 85; the school not rated is left out.
        assert!((values[&Area::Nutrition] - 85.0).abs() < 1e-12);
        assert!((values[&Area::RuralTeachers] - 70.0).abs() < 1e-12);
        let equal = county_area_values(&rows, CountyWeighting::Equal);
        assert!((equal[&Area::Nutrition] - 80.0).abs() < 1e-12);
        assert_eq!(questionnaire_answers(&rows[0]), 40);
    }

    #[test]
    fn ratings_read_as_text() {
        let text = rating_text(&row(1, &[(Area::Nutrition, 80.0)], true).rating);
        assert_eq!(text.score, "80.0（95% 区间 78.0–82.0）");
        assert_eq!(text.grade, "良好");
        let text = rating_text(&SchoolRating::NoEvidence);
        assert_eq!(text.grade, "暂无可评定的内容");
        assert_eq!(rate_text(3, 4), "75.0%");
        assert_eq!(rate_text(3, 0), "—");
    }
}
