//! The charts of a campaign's results page (and their downloads): the area radar of the schools
//! counted, the schools ranked by their index, the school × area heat map, the trend of the same
//! survey across campaigns, and the answers' distribution per section.
//!
//! Per-school figures come from the evidence `results::campaign_results` already aggregated
//! from the tallies (`results::aggregate` over `counts_by_school`); the trend adds one grouped
//! query over the tallies of the survey's other campaigns. Nothing here reads answers.

use std::collections::{HashMap, HashSet};

use entity::{campaign, campaign_link, school, survey_version, tally};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, TransactionTrait,
};

use super::figures::{
    self, area_values, distribution_charts, heat_rows, hidden_note, radar_axes, radar_series,
    ranked_schools,
};
use crate::campaigns::{self, CampaignStatus};
use crate::charts::{self, Chart, TrendPoint, TrendSeries};
use crate::rating::Plan;
use crate::rating::moments::AreaSums;
use crate::results::overall::source_of;
use crate::results::{CampaignResults, Counts, Group, ResultsFilter, aggregate};
use crate::survey::{Area, Audience, Survey};

/// Every chart of a campaign's results page, in the page's order.
pub async fn campaign_charts(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    found: &CampaignResults,
    filter: &ResultsFilter,
) -> Result<Vec<Chart>, DbErr> {
    let trend = trend_chart(db, plan, found, filter).await?;
    Ok(charts_of(plan, found, filter, trend))
}

/// The charts of the page from its figures (and the trend, when there is one).
pub fn charts_of(
    plan: &Plan,
    found: &CampaignResults,
    filter: &ResultsFilter,
    trend: Option<Chart>,
) -> Vec<Chart> {
    let audience = found.survey.audience;
    let results = &found.results;
    let mut out = Vec::new();
    let scope = if filter.all_schools() {
        "全县"
    } else {
        "所选学校"
    };
    // A filter down to a few teachers would show their answers as a school's: not drawn.
    let few_teachers =
        !filter.all_schools() && figures::hidden_for_anonymity(audience, results.responses);
    if few_teachers {
        return out;
    }

    let index_word = if audience == Audience::School {
        "指标得分"
    } else {
        "满意度指数"
    };
    if audience != Audience::School {
        out.push(charts::radar(
            "radar",
            &format!("{scope}各方面{index_word}"),
            &format!(
                "{}；{} 所学校，{} 份答卷；指数 0–100，由中心向外，无数据的方面不画点",
                found.survey.title, found.schools_counted, results.responses
            ),
            radar_axes(),
            vec![radar_series(
                scope,
                results.responses,
                &area_values(results),
            )],
        ));
    }

    let columns: Vec<Area> = if audience == Audience::School {
        Area::ALL
            .into_iter()
            .filter(|area| {
                found
                    .evidence
                    .iter()
                    .any(|school| school.areas.contains_key(area))
            })
            .collect()
    } else {
        results
            .areas
            .iter()
            .filter(|area| area.questions > 0)
            .map(|area| area.area)
            .collect()
    };
    let minimum = if audience == Audience::School {
        0
    } else {
        results.minimum
    };

    if audience != Audience::School {
        let (items, hidden) =
            ranked_schools(&found.evidence, audience, minimum, &plan.rules.area_weights);
        let county = results.overall;
        out.push(charts::ranking(
            "ranking",
            &format!("各校{index_word}排名"),
            &format!(
                "各校总指数（各方面按方案权重）；横线为 95% 区间，右侧为答卷数 n；答卷不足 {} 份（小规模学校按总体人数相应减少）的学校不排名",
                results.minimum
            ),
            "满意度指数（0–100）",
            items,
            county.map(|county| (scope.to_owned(), county.value)),
            &hidden_note(hidden),
        ));
    }

    let (rows, hidden) = heat_rows(&found.evidence, audience, minimum, &columns);
    out.push(charts::heatmap(
        "heatmap",
        &format!("各校各方面{index_word}"),
        &format!("每格为该校该方面的{index_word}（0–100），n 为该校答卷数；斜线：答卷太少"),
        columns.iter().map(|area| area.label().to_owned()).collect(),
        rows,
        &hidden_note(hidden),
    ));

    if let Some(trend) = trend {
        out.push(trend);
    }
    if audience != Audience::School {
        out.extend(distribution_charts("", "", &found.survey, results));
    }
    out
}

/// One campaign of the trend.
struct TrendCampaign {
    id: i32,
    name: String,
    survey: Survey,
}

/// The survey's non-draft campaigns in date order (opening, else creation), the current one
/// among them, as a chart of the overall index; `None` with fewer than two.
async fn trend_chart(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    found: &CampaignResults,
    filter: &ResultsFilter,
) -> Result<Option<Chart>, DbErr> {
    // Tallies have no dates: a trend under a date filter would mix two kinds of figures.
    if found.survey.audience == Audience::School || !filter.dates.is_open() {
        return Ok(None);
    }
    let versions: HashSet<i32> = survey_version::Entity::find()
        .filter(survey_version::Column::SurveyId.eq(found.survey.id.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|version| version.id)
        .collect();
    let mut listed: Vec<campaign::Model> = campaign::Entity::find()
        .filter(campaign::Column::SurveyVersionId.is_in(versions.iter().copied()))
        .all(db)
        .await?
        .into_iter()
        .filter(|campaign| {
            campaign.id == found.campaign.id || campaign.status != CampaignStatus::Draft.slug()
        })
        .collect();
    if listed.len() < 2 {
        return Ok(None);
    }
    listed.sort_by_key(|campaign| {
        (
            campaign.opens_at.unwrap_or(campaign.created_at),
            campaign.id,
        )
    });

    let mut surveys: HashMap<i32, Survey> = HashMap::new();
    let mut campaigns = Vec::new();
    for campaign in listed {
        let survey = match surveys.get(&campaign.survey_version_id) {
            Some(survey) => survey.clone(),
            None => {
                let Some(survey) = campaigns::load_version(db, campaign.survey_version_id).await?
                else {
                    continue;
                };
                surveys.insert(campaign.survey_version_id, survey.clone());
                survey
            }
        };
        campaigns.push(TrendCampaign {
            id: campaign.id,
            name: campaign.name,
            survey,
        });
    }
    let ids: Vec<i32> = campaigns.iter().map(|campaign| campaign.id).collect();

    // The schools the filter counts.
    let all_schools: HashMap<i32, school::Model> = school::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|school| (school.id, school))
        .collect();
    let schools: Option<Vec<i32>> = if filter.all_schools() {
        None
    } else {
        Some(
            all_schools
                .values()
                .filter(|school| filter.holds_for(school))
                .map(|school| school.id)
                .collect(),
        )
    };
    let mut links = campaign_link::Entity::find()
        .filter(campaign_link::Column::CampaignId.is_in(ids.iter().copied()));
    if let Some(schools) = &schools {
        links = links.filter(campaign_link::Column::SchoolId.is_in(schools.iter().copied()));
    }
    let source = source_of(found.survey.audience);
    // Per campaign, the schools whose answers count: the filter's, and of a teachers' survey
    // only those with 5 answers or more (`results::shown_alone`), as on the results page.
    let mut counted: HashMap<i32, Vec<i32>> = HashMap::new();
    let mut responses: HashMap<i32, u64> = HashMap::new();
    let mut populations: HashMap<i32, Option<u64>> = HashMap::new();
    for link in links.all(db).await? {
        let answers = u64::try_from(link.response_count).unwrap_or(0);
        if !crate::results::shown_alone(found.survey.audience, answers) {
            continue;
        }
        counted
            .entry(link.campaign_id)
            .or_default()
            .push(link.school_id);
        *responses.entry(link.campaign_id).or_default() += answers;
        let population = all_schools
            .get(&link.school_id)
            .and_then(|school| plan.rules.population_of(source, school));
        let total = populations.entry(link.campaign_id).or_insert(Some(0));
        *total = total.zip(population).map(|(total, more)| total + more);
    }
    let mut sums: HashMap<i32, AreaSums> = HashMap::new();
    let mut counts: HashMap<i32, Counts> = HashMap::new();
    for campaign in &campaigns {
        let Some(school_ids) = counted.get(&campaign.id) else {
            continue;
        };
        // (Settles the campaign's pending answers, for the tallies below too.)
        let by_school = crate::results::score_sums(db, campaign.id, Some(school_ids)).await?;
        let total = sums.entry(campaign.id).or_default();
        for school_sums in by_school.values() {
            total.add(school_sums);
        }
        let tallies = tally::Entity::find()
            .select_only()
            .column(tally::Column::QuestionKey)
            .column(tally::Column::OptionKey)
            // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back so that both give integers.
            .column_as(
                Expr::col(tally::Column::Count).sum().cast_as("bigint"),
                "count",
            )
            .filter(tally::Column::CampaignId.eq(campaign.id))
            .filter(tally::Column::SchoolId.is_in(school_ids.iter().copied()))
            .group_by(tally::Column::QuestionKey)
            .group_by(tally::Column::OptionKey);
        let campaign_counts = counts.entry(campaign.id).or_default();
        for (question, option, count) in tallies
            .into_tuple::<(String, String, Option<i64>)>()
            .all(db)
            .await?
        {
            *campaign_counts
                .entry(question)
                .or_default()
                .entry(option)
                .or_default() += u64::try_from(count.unwrap_or(0)).unwrap_or(0);
        }
    }

    let empty = Counts::new();
    let no_sums = AreaSums::default();
    let minimum = plan.rules.minimum_answers(source);
    let mut labels = Vec::new();
    let mut points = Vec::new();
    for campaign in &campaigns {
        let n = responses.get(&campaign.id).copied().unwrap_or(0);
        // A point of a teachers' survey under 5 answers is left out, not drawn.
        if !crate::results::shown_alone(found.survey.audience, n) {
            labels.push((campaign.name.clone(), n));
            points.push(None);
            continue;
        }
        // The same figure as the campaign's results page shows as its overall index.
        let results = aggregate(
            &campaign.survey,
            counts.get(&campaign.id).unwrap_or(&empty),
            sums.get(&campaign.id).unwrap_or(&no_sums),
            Group {
                responses: n,
                population: populations
                    .get(&campaign.id)
                    .copied()
                    .flatten()
                    .filter(|population| *population > 0),
            },
            minimum,
            &plan.rules.area_weights,
        );
        labels.push((campaign.name.clone(), n));
        points.push(results.overall.map(|estimate| TrendPoint {
            value: estimate.value,
            interval: results.overall_interval,
        }));
    }
    let scope = if filter.all_schools() {
        "全县"
    } else {
        "所选学校"
    };
    Ok(Some(charts::trend(
        "trend",
        &format!("{}：{scope}满意度指数的变化", found.survey.title),
        &format!(
            "同一问卷的 {} 次调查活动，按时间先后；点为总指数（各方面按方案权重），竖线为 95% 区间，横轴下为答卷数 n",
            campaigns.len()
        ),
        labels,
        vec![TrendSeries {
            label: format!("{scope}满意度指数"),
            points,
        }],
    )))
}
