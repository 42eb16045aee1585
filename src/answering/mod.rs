//! Answering: a submitted form checked against its frozen survey (`validate`), and stored once
//! and durably by the group-commit `writer`, with the running tallies and the respondents'
//! score sums (`scoring`) kept in the same transaction. Knows nothing of HTTP.

pub mod pending;
pub mod personal_links;
pub mod scoring;
pub mod signed;
mod stored;
pub mod validate;
pub mod writer;

use sha2::{Digest, Sha256};

pub use stored::stored_response;
pub use validate::{Answer, Answers, FormErrors, FormFields, TallyKeys, ValidResponse, validate};

/// What is stored to tell one browser's second answer to a campaign from a first one: a hash of
/// the campaign and the browser's random cookie, so that the same browser cannot be followed
/// from one campaign to another in the database, and nothing names the person.
pub fn browser_key(campaign_id: i32, browser_cookie: &str) -> String {
    let hash = Sha256::digest(format!("dupin-browser:{campaign_id}:{browser_cookie}").as_bytes());
    crate::secrets::hex(&hash[..16])
}

/// Whether this browser already answered this campaign.
pub async fn has_answered(
    db: &impl sea_orm::ConnectionTrait,
    campaign_id: i32,
    browser_key: &str,
) -> Result<bool, sea_orm::DbErr> {
    use entity::response;
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    let count = response::Entity::find()
        .filter(response::Column::CampaignId.eq(campaign_id))
        .filter(response::Column::BrowserKey.eq(browser_key))
        .count(db)
        .await?;
    Ok(count > 0)
}
