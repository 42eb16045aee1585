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
    let mut campaign = itoa::Buffer::new();
    let hash = Sha256::new()
        .chain_update(b"dupin-browser:")
        .chain_update(campaign.format(campaign_id))
        .chain_update(b":")
        .chain_update(browser_cookie)
        .finalize();
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

#[cfg(test)]
mod tests {
    /// The keys stored with answers already given must still be found for the same browser:
    /// the hash of `dupin-browser:{campaign}:{cookie}` (worked out here with Python's hashlib).
    #[test]
    fn a_browser_key_is_the_one_earlier_versions_stored() {
        assert_eq!(
            super::browser_key(7, "0123456789abcdef0123456789abcdef"),
            "252da88b94a0e561e50fb33687931962"
        );
        assert_eq!(
            super::browser_key(-3, "x"),
            "36f9e3f64b8004497eb04514d7af93e8"
        );
    }
}
