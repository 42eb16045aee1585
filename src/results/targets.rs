//! The county's targets (`surveys/targets.toml`) from the latest self-check campaign: which
//! campaign that is, the county's schools, and each school's included self-check answers (the
//! same read as the campaign's indicators), handed to `rating::targets` for the counting.

use entity::{campaign, school, survey_version};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::queries::{ResultsError, self_check_answers};
use super::{DateRange, self_checks::SelfCheck};
use crate::campaigns::CampaignStatus;
use crate::rating::Plan;
use crate::rating::targets::{TargetProgress, TargetSchool, VerifiedOverReported, progress_all};

/// The campaign the targets were counted from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetsCampaign {
    pub id: i32,
    pub name: String,
    pub status: String,
}

/// Every target's progress, in the file's order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CountyTargets {
    /// `None` when no self-check campaign has started yet (every school is then not reported).
    pub campaign: Option<TargetsCampaign>,
    pub targets: Vec<TargetProgress>,
}

/// The latest campaign (by creation, drafts left out) of the self-check survey `survey_id`, as
/// the overall rating picks its campaigns (surveys/METHOD.md, `targets`).
pub async fn latest_self_check_campaign(
    db: &impl ConnectionTrait,
    survey_id: &str,
) -> Result<Option<campaign::Model>, ResultsError> {
    let versions: Vec<i32> = survey_version::Entity::find()
        .select_only()
        .column(survey_version::Column::Id)
        .filter(survey_version::Column::SurveyId.eq(survey_id))
        .into_tuple()
        .all(db)
        .await?;
    if versions.is_empty() {
        return Ok(None);
    }
    Ok(campaign::Entity::find()
        .filter(campaign::Column::SurveyVersionId.is_in(versions))
        .filter(campaign::Column::Status.ne(CampaignStatus::Draft.slug()))
        .order_by_desc(campaign::Column::CreatedAt)
        .order_by_desc(campaign::Column::Id)
        .one(db)
        .await?)
}

/// The progress of every target of the plan over the county's schools, from the latest
/// self-check campaign's included answers.
pub async fn county_targets(
    db: &impl ConnectionTrait,
    plan: &Plan,
) -> Result<CountyTargets, ResultsError> {
    let Some(survey_id) = plan.targets.first().map(|target| target.survey.clone()) else {
        return Ok(CountyTargets {
            campaign: None,
            targets: Vec::new(),
        });
    };
    let campaign = latest_self_check_campaign(db, &survey_id).await?;
    let schools = school::Entity::find()
        .order_by_asc(school::Column::Code)
        .all(db)
        .await?;
    let mut answers = match &campaign {
        Some(campaign) => {
            let ids: Vec<i32> = schools.iter().map(|school| school.id).collect();
            self_check_answers(db, campaign.id, &ids, DateRange::default()).await?
        }
        None => Default::default(),
    };
    let self_checks: Vec<SelfCheck> = schools
        .into_iter()
        .map(|school| SelfCheck {
            answers: answers.remove(&school.id),
            school,
        })
        .collect();
    // A visit's verified value stands in for the reported one (surveys/METHOD.md, `verified`).
    let mut verified = match &campaign {
        Some(campaign) => {
            let ids: Vec<i32> = self_checks.iter().map(|check| check.school.id).collect();
            super::verified::verified_in_campaign(db, plan, campaign.id, &ids).await?
        }
        None => Default::default(),
    };
    let verified_answers: Vec<serde_json::Map<String, serde_json::Value>> = self_checks
        .iter()
        .map(|check| {
            verified
                .remove(&check.school.id)
                .map(|values| super::verified::verified_answers(plan, &values))
                .unwrap_or_default()
        })
        .collect();
    let overlays: Vec<Option<VerifiedOverReported<'_, _, _>>> = self_checks
        .iter()
        .zip(&verified_answers)
        .map(|(check, verified)| {
            check
                .answers
                .as_ref()
                .map(|reported| VerifiedOverReported { verified, reported })
        })
        .collect();
    let inputs: Vec<TargetSchool<'_, _>> = self_checks
        .iter()
        .zip(&overlays)
        .map(|(self_check, answers)| TargetSchool {
            school: &self_check.school,
            answers: answers.as_ref(),
        })
        .collect();
    Ok(CountyTargets {
        targets: progress_all(&plan.targets, &inputs),
        campaign: campaign.map(|campaign| TargetsCampaign {
            id: campaign.id,
            name: campaign.name,
            status: campaign.status,
        }),
    })
}

/// A target's progress as the console page and the county report show it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TargetLine {
    #[serde(flatten)]
    pub progress: TargetProgress,
    /// `12 所`, `3450 人`.
    pub achieved_text: String,
    /// `36 所`, or `全部 5 所` for every school.
    pub target_text: String,
    /// `33.3%`, or `—` when the target is 0.
    pub share_text: String,
    /// The progress bar's width, 0–100.
    pub bar: u32,
}

/// Every target as the pages show it.
pub fn target_lines(targets: &CountyTargets) -> Vec<TargetLine> {
    use crate::rating::indicators::format_number;
    targets
        .targets
        .iter()
        .map(|progress| {
            let with_unit = |value: f64| match progress.unit.as_str() {
                "" => format_number(value),
                unit => format!("{} {unit}", format_number(value)),
            };
            let target_text = if progress.every_school {
                format!("全部 {}", with_unit(progress.target))
            } else {
                with_unit(progress.target)
            };
            TargetLine {
                achieved_text: with_unit(progress.achieved),
                target_text,
                share_text: progress
                    .share
                    .map_or_else(|| "—".to_owned(), super::wording::percent),
                bar: progress
                    .share
                    .map_or(0, |share| (share.clamp(0.0, 1.0) * 100.0).round() as u32),
                progress: progress.clone(),
            }
        })
        .collect()
}
