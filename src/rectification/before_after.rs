//! An item's area before and after: when a later campaign of the same survey reached the
//! item's school, the area's score at the school in the item's campaign (before) and in the
//! newest later campaign (after), compared with the results' own group test
//! (`results::groups::compare_results`: Welch's t-test on the area means, surveys/METHOD.md,
//! `compare`). Read-only.

use entity::{campaign, campaign_link, rectification, survey_version};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::Serialize;

use crate::rating::Plan;
use crate::results::groups::{Figure, compare_results};
use crate::results::{ResultsError, ResultsFilter, campaign_results};
use crate::survey::Area;

/// The item's area at its school in two campaigns of one survey.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct BeforeAfter {
    pub area_label: String,
    pub before_campaign: String,
    pub after_campaign: String,
    pub before: Option<Figure>,
    pub after: Option<Figure>,
    /// After minus before, when both have a score.
    pub change: Option<f64>,
    /// The test's sentence (差异明显（p = …）…), when both sides can be tested.
    pub sentence: Option<String>,
    /// Why a side has no figure, when one has none.
    pub note: Option<String>,
}

/// Who is looking: a supervisor sees campaigns still taking answers; a school sees figures only
/// once both campaigns have closed, or each new answer would move n and the score under the
/// eyes of the person the respondents (its teachers above all) are anonymous from
/// (surveys/METHOD.md, `rectification`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Viewer {
    Supervisor,
    School,
}

/// The before and after of `item`, if it names an area and a campaign and a later campaign of
/// the same survey (not a draft) reached its school; `None` otherwise.
pub async fn before_after(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    item: &rectification::Model,
    viewer: Viewer,
) -> Result<Option<BeforeAfter>, ResultsError> {
    let (Some(area_slug), Some(campaign_id)) = (item.area.as_deref(), item.campaign_id) else {
        return Ok(None);
    };
    let Some(area) = Area::parse(area_slug) else {
        return Ok(None);
    };
    let Some(first) = campaign::Entity::find_by_id(campaign_id).one(db).await? else {
        return Ok(None);
    };
    let Some(version) = survey_version::Entity::find_by_id(first.survey_version_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let same_survey: Vec<i32> = survey_version::Entity::find()
        .filter(survey_version::Column::SurveyId.eq(version.survey_id.clone()))
        .all(db)
        .await?
        .into_iter()
        .map(|version| version.id)
        .collect();
    let reached: Vec<i32> = campaign_link::Entity::find()
        .filter(campaign_link::Column::SchoolId.eq(item.school_id))
        .all(db)
        .await?
        .into_iter()
        .map(|link| link.campaign_id)
        .collect();
    let later = campaign::Entity::find()
        .filter(campaign::Column::SurveyVersionId.is_in(same_survey))
        .filter(campaign::Column::Id.is_in(reached))
        .filter(campaign::Column::Status.ne(crate::campaigns::CampaignStatus::Draft.slug()))
        .all(db)
        .await?
        .into_iter()
        .filter(|later| (later.created_at, later.id) > (first.created_at, first.id))
        .max_by_key(|later| (later.created_at, later.id));
    let Some(later) = later else {
        return Ok(None);
    };
    let mut found = BeforeAfter {
        area_label: area.label().to_owned(),
        before_campaign: first.name.clone(),
        after_campaign: later.name.clone(),
        before: None,
        after: None,
        change: None,
        sentence: None,
        note: None,
    };
    let now = chrono::Utc::now();
    let closed = |campaign: &campaign::Model| {
        crate::campaigns::availability(campaign, now) == crate::campaigns::Availability::Closed
    };
    if viewer == Viewer::School && !(closed(&first) && closed(&later)) {
        found.note = Some("两次调查都结束后，这里显示整改前后的比较。".to_owned());
        return Ok(Some(found));
    }
    let filter = ResultsFilter {
        school: Some(item.school_id),
        ..ResultsFilter::default()
    };
    let before = campaign_results(db, plan, first.id, &filter).await;
    let after = campaign_results(db, plan, later.id, &filter).await;
    match (before, after) {
        (Ok(before), Ok(after)) => {
            let (areas, _) = compare_results(&before.results, &after.results);
            if let Some(compared) = areas.into_iter().find(|compared| compared.area == area) {
                found.before = compared.a;
                found.after = compared.b;
                found.change = compared
                    .a
                    .zip(compared.b)
                    .map(|(before, after)| after.value - before.value);
                // Welch's test gives "a minus b": the sentence reads the same either way.
                found.sentence = compared.comparison.map(|comparison| comparison.sentence);
            }
            if found.before.is_none() || found.after.is_none() {
                found.note = Some("这个方面在其中一次调查中没有得分，无法比较。".to_owned());
            }
        }
        (Err(ResultsError::TooFewTeachers), _) | (_, Err(ResultsError::TooFewTeachers)) => {
            found.note = Some(crate::results::TEACHERS_TOO_FEW.to_owned());
        }
        (Err(error), _) | (_, Err(error)) => return Err(error),
    }
    Ok(Some(found))
}
