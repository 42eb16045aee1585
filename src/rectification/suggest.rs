//! What dupin suggests a school should put right, for a supervisor to confirm or edit:
//!
//! - every finding of the school's visits (one item each, the finding's area and text);
//! - every indicator the school did not meet in a self-check campaign (the results' own
//!   indicator table, `results::self_checks`);
//! - every area whose score at the school, from a questionnaire campaign with enough answers,
//!   is below the plan's lowest passing grade (合格 at 60 in the shipped `rating.toml`;
//!   surveys/METHOD.md, `rectification`).
//!
//! Suggestions already turned into items are left out. Read-only.

use std::collections::HashSet;

use entity::{campaign_link, finding, rectification, school, visit};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use serde::Serialize;

use super::Source;
use crate::rating::Plan;
use crate::rating::indicators::Outcome;
use crate::results::{ResultsError, ResultsFilter, campaign_results};
use crate::survey::{Area, Audience};

/// One suggested item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suggestion {
    /// Unique on the page: `finding-12`, `indicator-3-teacher_degree`, `area-5-nutrition`.
    pub key: String,
    pub source: &'static str,
    pub source_label: &'static str,
    pub finding_id: Option<i32>,
    pub indicator: Option<String>,
    pub area: Option<String>,
    pub area_label: String,
    pub campaign_id: Option<i32>,
    /// What dupin saw, for the supervisor (`2026-11-20 随机走访 · 较重`, `本校 62%，目标 ≥ 75%`).
    pub evidence: String,
    /// The requirement proposed; the supervisor may edit it.
    pub requirement: String,
}

/// A campaign whose results were read for suggestions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ReadCampaign {
    pub id: i32,
    pub name: String,
    /// Why nothing came of it, when nothing could (`答卷太少`).
    pub note: Option<String>,
}

/// The suggestions for one school.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suggestions {
    pub items: Vec<Suggestion>,
    pub campaigns: Vec<ReadCampaign>,
    /// The grade threshold an area's score is held to.
    pub pass_line: f64,
}

/// The lowest passing grade's threshold: the lowest band that does not start at 0.
pub fn pass_line(plan: &Plan) -> f64 {
    plan.rules
        .bands
        .iter()
        .rev()
        .find(|band| band.at_least > 0.0)
        .map_or(60.0, |band| band.at_least)
}

fn severity_label(slug: &str) -> &'static str {
    match slug {
        "minor" => "一般",
        "major" => "较重",
        "serious" => "严重",
        _ => "",
    }
}

/// The campaigns whose results feed the suggestions: `campaign` if given (and the school has a
/// link in it), else the latest campaign (by creation, drafts left out) of each audience that
/// reached the school — the campaigns 综合评估 uses.
async fn campaigns_for(
    db: &impl ConnectionTrait,
    school_id: i32,
    campaign: Option<i32>,
) -> Result<Vec<(i32, String)>, ResultsError> {
    let mut chosen = Vec::new();
    let mut audiences: Vec<Audience> = Vec::new();
    // Newest first.
    for found in crate::campaigns::for_school(db, school_id).await? {
        if let Some(wanted) = campaign {
            if found.campaign.id == wanted {
                chosen.push((found.campaign.id, found.campaign.name));
            }
            continue;
        }
        if found.campaign.status == crate::campaigns::CampaignStatus::Draft.slug() {
            continue;
        }
        if let Some(audience) = found.audience
            && !audiences.contains(&audience)
        {
            audiences.push(audience);
            chosen.push((found.campaign.id, found.campaign.name));
        }
    }
    Ok(chosen)
}

/// What dupin suggests for `school` (from `campaign`, or the latest campaign of each audience).
pub async fn suggest(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    school: &school::Model,
    campaign: Option<i32>,
) -> Result<Suggestions, ResultsError> {
    let existing = rectification::Entity::find()
        .filter(rectification::Column::SchoolId.eq(school.id))
        .all(db)
        .await?;
    let done_findings: HashSet<i32> = existing.iter().filter_map(|item| item.finding_id).collect();
    let done = |source: Source, campaign: i32, key: &str| {
        existing.iter().any(|item| {
            item.source == source.slug()
                && item.campaign_id == Some(campaign)
                && match source {
                    Source::Indicator => item.indicator.as_deref() == Some(key),
                    _ => item.area.as_deref() == Some(key),
                }
        })
    };
    let mut items = Vec::new();

    // (a) Findings of the school's visits.
    let findings = finding::Entity::find()
        .filter(finding::Column::SchoolId.eq(school.id))
        .order_by_asc(finding::Column::Id)
        .all(db)
        .await?;
    let visits: std::collections::HashMap<i32, visit::Model> = visit::Entity::find()
        .filter(visit::Column::SchoolId.eq(school.id))
        .all(db)
        .await?
        .into_iter()
        .map(|visit| (visit.id, visit))
        .collect();
    for found in findings {
        if done_findings.contains(&found.id) {
            continue;
        }
        let visit = visits.get(&found.visit_id);
        let kind = visit
            .and_then(|visit| crate::rating::visits::VisitKind::parse(&visit.kind))
            .map_or("督导", |kind| kind.label());
        let evidence = format!(
            "{} {} · {}",
            visit.map_or_else(String::new, |visit| visit.visited_on.to_string()),
            kind,
            severity_label(&found.severity)
        );
        items.push(Suggestion {
            key: format!("finding-{}", found.id),
            source: Source::Finding.slug(),
            source_label: Source::Finding.label(),
            finding_id: Some(found.id),
            indicator: None,
            area_label: Area::parse(&found.area).map_or_else(String::new, |a| a.label().to_owned()),
            area: Some(found.area.clone()),
            campaign_id: visit.and_then(|visit| visit.campaign_id),
            evidence: evidence.trim().to_owned(),
            requirement: found.text.clone(),
        });
    }

    // (b) and (c): the campaigns' results at the school.
    let line = pass_line(plan);
    let mut read = Vec::new();
    let filter = ResultsFilter {
        school: Some(school.id),
        ..ResultsFilter::default()
    };
    for (campaign_id, name) in campaigns_for(db, school.id, campaign).await? {
        let results = match campaign_results(db, plan, campaign_id, &filter).await {
            Ok(results) => results,
            Err(ResultsError::TooFewTeachers) => {
                read.push(ReadCampaign {
                    id: campaign_id,
                    name,
                    note: Some(crate::results::TEACHERS_TOO_FEW.to_owned()),
                });
                continue;
            }
            Err(error) => return Err(error),
        };
        let mut note = None;
        if let Some(table) = &results.indicators {
            let row = table.schools.iter().find(|row| row.school_id == school.id);
            match row {
                Some(row) if row.submitted => {
                    for ((rolled, cell), evaluation) in table
                        .indicators
                        .iter()
                        .zip(&row.cells)
                        .zip(&row.evaluations)
                    {
                        if evaluation.outcome != Outcome::NotMet
                            || done(Source::Indicator, campaign_id, &rolled.id)
                        {
                            continue;
                        }
                        let value = if cell.value.is_empty() {
                            String::new()
                        } else {
                            format!("本校 {}，", cell.value)
                        };
                        items.push(Suggestion {
                            key: format!("indicator-{campaign_id}-{}", rolled.id),
                            source: Source::Indicator.slug(),
                            source_label: Source::Indicator.label(),
                            finding_id: None,
                            indicator: Some(rolled.id.clone()),
                            area: Some(evaluation.area.slug().to_owned()),
                            area_label: evaluation.area.label().to_owned(),
                            campaign_id: Some(campaign_id),
                            evidence: format!("{name}：{value}目标 {}", cell.target),
                            requirement: format!(
                                "指标“{}”未达标（{value}目标 {}），请制定措施、限期达标。",
                                rolled.title, cell.target
                            ),
                        });
                    }
                }
                _ => note = Some("本校未填报自评表".to_owned()),
            }
        } else {
            for area in &results.results.areas {
                if !Area::plan_areas().any(|plan_area| plan_area == area.area) {
                    continue;
                }
                let Some(mean) = area.mean else { continue };
                if area.too_few || mean >= line || done(Source::Area, campaign_id, area.area.slug())
                {
                    continue;
                }
                items.push(Suggestion {
                    key: format!("area-{campaign_id}-{}", area.area.slug()),
                    source: Source::Area.slug(),
                    source_label: Source::Area.label(),
                    finding_id: None,
                    indicator: None,
                    area: Some(area.area.slug().to_owned()),
                    area_label: area.area.label().to_owned(),
                    campaign_id: Some(campaign_id),
                    evidence: format!(
                        "{name}：得分 {mean:.1}（{} 人作答），低于合格线 {line}",
                        area.n
                    ),
                    requirement: format!(
                        "“{}”方面满意度得分 {mean:.1}，低于合格线 {line}。请查明原因，制定并落实整改措施。",
                        area.area.label()
                    ),
                });
            }
            if results.results.responses < results.results.needed {
                note = Some("答卷太少，各方面得分暂不作为整改依据".to_owned());
            }
        }
        read.push(ReadCampaign {
            id: campaign_id,
            name,
            note,
        });
    }
    Ok(Suggestions {
        items,
        campaigns: read,
        pass_line: line,
    })
}

/// Whether the school has a link in `campaign_id` (a campaign the page may name for it).
pub async fn school_in_campaign(
    db: &impl ConnectionTrait,
    school_id: i32,
    campaign_id: i32,
) -> Result<bool, sea_orm::DbErr> {
    Ok(campaign_link::Entity::find()
        .filter(campaign_link::Column::SchoolId.eq(school_id))
        .filter(campaign_link::Column::CampaignId.eq(campaign_id))
        .one(db)
        .await?
        .is_some())
}
