//! What supervisors do to campaigns, each action one function that owns its change (see
//! [`crate::change`]): start one, open, close or return it to draft by hand, and correct its
//! name and dates. Each writes its audit event in the same transaction, and a change to what
//! phones see (state, dates, name) asks the process to forget the links it keeps in memory.
//! The console and `dupin campaign create` only parse what was typed and show the outcome.

use chrono::{DateTime, Utc};
use entity::campaign;

use super::{
    CampaignDetails, CampaignError, CampaignStatus, NewCampaign, create_in, display_time,
    set_status, update_details,
};
use crate::change::{Actor, Change, Context};

/// Starts a campaign with one fresh link per selected school; audit event `campaign_create`.
/// Returns the campaign and its number of links.
pub async fn create_campaign(
    context: &Context,
    actor: Actor<'_>,
    new: NewCampaign<'_>,
) -> Result<(campaign::Model, usize), CampaignError> {
    let survey_id = new.survey.survey.id.clone();
    let selection = new.schools.describe();
    let status = new.status;
    let change = Change::begin(context, actor).await?;
    let (campaign, links) = create_in(change.txn(), new).await?;
    let detail = format!(
        "campaign {}: \"{}\", survey {survey_id}, {links} schools ({selection}), {}",
        campaign.id,
        campaign.name,
        status.slug()
    );
    change.audit("campaign_create", detail).await?;
    change.commit().await?;
    Ok((campaign, links))
}

/// Opens, closes or returns campaign `id` to draft; audit event `campaign_status` when the
/// status changed. Answers are never touched.
pub async fn set_campaign_status(
    context: &Context,
    actor: Actor<'_>,
    id: i32,
    status: CampaignStatus,
) -> Result<campaign::Model, CampaignError> {
    let mut change = Change::begin(context, actor).await?;
    let (before, campaign) = set_status(change.txn(), id, status).await?;
    if before != status {
        let detail = format!(
            "campaign {}: {} → {}",
            campaign.id,
            before.slug(),
            status.slug()
        );
        change.audit("campaign_status", detail).await?;
    }
    change.links_changed();
    change.commit().await?;
    Ok(campaign)
}

/// Corrects campaign `id`'s name and dates; audit event `campaign_edit` saying what changed.
pub async fn edit_campaign(
    context: &Context,
    actor: Actor<'_>,
    id: i32,
    details: CampaignDetails,
) -> Result<campaign::Model, CampaignError> {
    let mut change = Change::begin(context, actor).await?;
    let (before, after) = update_details(change.txn(), id, details).await?;
    change
        .audit("campaign_edit", describe_edit(&before, &after))
        .await?;
    change.links_changed();
    change.commit().await?;
    Ok(after)
}

/// What an edit changed, for the audit log.
fn describe_edit(before: &campaign::Model, after: &campaign::Model) -> String {
    let time = |time: Option<DateTime<Utc>>| time.map_or_else(|| "-".to_owned(), display_time);
    let mut changes = Vec::new();
    if before.name != after.name {
        changes.push(format!("name \"{}\" → \"{}\"", before.name, after.name));
    }
    if before.opens_at != after.opens_at {
        changes.push(format!(
            "opens {} → {}",
            time(before.opens_at),
            time(after.opens_at)
        ));
    }
    if before.closes_at != after.closes_at {
        changes.push(format!(
            "closes {} → {}",
            time(before.closes_at),
            time(after.closes_at)
        ));
    }
    if changes.is_empty() {
        changes.push("nothing changed".to_owned());
    }
    format!("campaign {}: {}", after.id, changes.join("; "))
}
