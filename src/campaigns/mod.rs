//! Campaigns: a frozen survey version put to a set of schools, one link per school, open between
//! two dates. Owns the queries on `campaign`, `campaign_link` and `survey_version`.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use entity::{campaign, campaign_link, school, survey_version};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter, QueryOrder, Set, TransactionTrait,
};

use crate::distribution;
use crate::survey::{self, Audience, CatalogEntry, Survey};

/// China keeps one time zone (UTC+8); dates typed by supervisors are read in it.
const CHINA_TIME: FixedOffset = match FixedOffset::east_opt(8 * 3600) {
    Some(offset) => offset,
    None => panic!("UTC+8 is a valid offset"),
};

pub fn china_offset() -> FixedOffset {
    CHINA_TIME
}

#[derive(Debug, thiserror::Error)]
pub enum CampaignError {
    #[error("no survey \"{0}\" in the plan (known: {1})")]
    UnknownSurvey(String, String),
    #[error("the campaign needs a name")]
    EmptyName,
    #[error("unknown school codes: {0}")]
    UnknownSchools(String),
    #[error(
        "no schools to put the campaign to: import schools first (dupin schools import FILE.csv)"
    )]
    NoSchools,
    #[error("the campaign closes ({closes}) before it opens ({opens})")]
    ClosesBeforeOpening { opens: String, closes: String },
    #[error("no campaign {0}")]
    NotFound(i32),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Which schools a new campaign goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchoolSelection {
    All,
    Codes(Vec<String>),
}

impl SchoolSelection {
    /// `all`, or codes separated by commas (full-width commas too: they come from Chinese IMEs).
    pub fn parse(text: &str) -> SchoolSelection {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("all") {
            return SchoolSelection::All;
        }
        SchoolSelection::Codes(
            text.split([',', '，', ' ', ';'])
                .map(str::trim)
                .filter(|code| !code.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }
}

/// Reads `2026-12-01`, `2026-12-01 08:00`, `2026-12-01T08:00:00` (China time) or RFC 3339.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    let naive = [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
    })?;
    china_offset()
        .from_local_datetime(&naive)
        .single()
        .map(|time| time.with_timezone(&Utc))
}

/// A time as supervisors and parents read it: China time, to the minute.
pub fn display_time(time: DateTime<Utc>) -> String {
    time.with_timezone(&china_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

pub struct NewCampaign<'a> {
    pub name: String,
    pub survey: &'a CatalogEntry,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub schools: SchoolSelection,
}

/// Whether a campaign takes answers now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    Open,
    Draft,
    NotYetOpen(DateTime<Utc>),
    Closed,
}

pub fn availability(campaign: &campaign::Model, now: DateTime<Utc>) -> Availability {
    match campaign.status.as_str() {
        "draft" => Availability::Draft,
        "closed" => Availability::Closed,
        _ => match (campaign.opens_at, campaign.closes_at) {
            (Some(opens), _) if now < opens => Availability::NotYetOpen(opens),
            (_, Some(closes)) if now >= closes => Availability::Closed,
            _ => Availability::Open,
        },
    }
}

/// Stores the survey's checked definition once per distinct content and returns that version.
pub async fn freeze_survey(
    db: &impl ConnectionTrait,
    entry: &CatalogEntry,
) -> Result<survey_version::Model, DbErr> {
    let digest = survey::digest(&entry.survey);
    if let Some(existing) = survey_version::Entity::find()
        .filter(survey_version::Column::Digest.eq(digest.as_str()))
        .one(db)
        .await?
    {
        return Ok(existing);
    }
    survey_version::ActiveModel {
        survey_id: Set(entry.survey.id.clone()),
        digest: Set(digest),
        title: Set(entry.survey.title.clone()),
        audience: Set(entry.survey.audience.slug().to_owned()),
        definition: Set(survey::definition_json(&entry.survey)),
        source: Set(entry.source.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
}

/// The answers hoped for from a school: every pupil's family or every pupil, every full-time
/// teacher, or the school's one self-check.
pub fn expected_answers(audience: Audience, school: &school::Model) -> i32 {
    match audience {
        Audience::Parents | Audience::Students => school.enrolment,
        Audience::Teachers => school.teachers,
        Audience::School => 1,
    }
}

/// Creates an open campaign with one fresh link per selected school, in one transaction.
pub async fn create(
    db: &DatabaseConnection,
    new: NewCampaign<'_>,
) -> Result<(campaign::Model, usize), CampaignError> {
    let name = new.name.trim().to_owned();
    if name.is_empty() {
        return Err(CampaignError::EmptyName);
    }
    if let (Some(opens), Some(closes)) = (new.opens_at, new.closes_at)
        && closes <= opens
    {
        return Err(CampaignError::ClosesBeforeOpening {
            opens: display_time(opens),
            closes: display_time(closes),
        });
    }
    let schools = match &new.schools {
        SchoolSelection::All => {
            school::Entity::find()
                .order_by_asc(school::Column::Code)
                .all(db)
                .await?
        }
        SchoolSelection::Codes(codes) => {
            let found = school::Entity::find()
                .filter(school::Column::Code.is_in(codes.iter().map(String::as_str)))
                .order_by_asc(school::Column::Code)
                .all(db)
                .await?;
            let missing: Vec<&str> = codes
                .iter()
                .filter(|code| !found.iter().any(|school| &school.code == *code))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(CampaignError::UnknownSchools(missing.join(", ")));
            }
            found
        }
    };
    if schools.is_empty() {
        return Err(CampaignError::NoSchools);
    }

    let txn = db.begin().await?;
    let version = freeze_survey(&txn, new.survey).await?;
    let now = Utc::now();
    let campaign = campaign::ActiveModel {
        name: Set(name),
        survey_version_id: Set(version.id),
        status: Set("open".to_owned()),
        opens_at: Set(new.opens_at),
        closes_at: Set(new.closes_at),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    let links: Vec<campaign_link::ActiveModel> = schools
        .iter()
        .map(|school| campaign_link::ActiveModel {
            campaign_id: Set(campaign.id),
            school_id: Set(school.id),
            token: Set(distribution::new_token()),
            response_count: Set(0),
            expected: Set(expected_answers(new.survey.survey.audience, school)),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    let count = links.len();
    for chunk in links.chunks(500) {
        campaign_link::Entity::insert_many(chunk.to_vec())
            .exec(&txn)
            .await?;
    }
    txn.commit().await?;
    Ok((campaign, count))
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<campaign::Model>, DbErr> {
    campaign::Entity::find()
        .order_by_desc(campaign::Column::Id)
        .all(db)
        .await
}

pub async fn find(db: &impl ConnectionTrait, id: i32) -> Result<campaign::Model, CampaignError> {
    campaign::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(CampaignError::NotFound(id))
}

/// One school's link in a campaign, as printed and shown.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LinkRow {
    pub code: String,
    pub name: String,
    pub township: String,
    pub token: String,
    pub response_count: i64,
    pub expected: i32,
}

pub async fn links(
    db: &impl ConnectionTrait,
    campaign_id: i32,
) -> Result<Vec<LinkRow>, CampaignError> {
    find(db, campaign_id).await?;
    let links = campaign_link::Entity::find()
        .filter(campaign_link::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await?;
    let schools = school::Entity::find().all(db).await?;
    let mut rows: Vec<LinkRow> = links
        .into_iter()
        .filter_map(|link| {
            let school = schools.iter().find(|school| school.id == link.school_id)?;
            Some(LinkRow {
                code: school.code.clone(),
                name: school.name.clone(),
                township: school.township.clone(),
                token: link.token,
                response_count: link.response_count,
                expected: link.expected,
            })
        })
        .collect();
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(rows)
}

/// Everything a form needs about the link it was opened from.
#[derive(Clone, Debug)]
pub struct LinkContext {
    pub link: campaign_link::Model,
    pub campaign: campaign::Model,
    pub school: school::Model,
}

impl LinkContext {
    /// The survey version the link's campaign froze.
    pub fn link_survey_version(&self) -> i32 {
        self.campaign.survey_version_id
    }
}

/// Looks up a link by its (normalised) token.
pub async fn find_link(
    db: &impl ConnectionTrait,
    token: &str,
) -> Result<Option<LinkContext>, DbErr> {
    let Some(link) = campaign_link::Entity::find()
        .filter(campaign_link::Column::Token.eq(token))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let campaign = campaign::Entity::find_by_id(link.campaign_id)
        .one(db)
        .await?;
    let school = school::Entity::find_by_id(link.school_id).one(db).await?;
    Ok(match (campaign, school) {
        (Some(campaign), Some(school)) => Some(LinkContext {
            link,
            campaign,
            school,
        }),
        _ => None,
    })
}

/// The frozen survey of a version, read back from its stored definition.
pub async fn load_version(
    db: &impl ConnectionTrait,
    version_id: i32,
) -> Result<Option<Survey>, DbErr> {
    let Some(version) = survey_version::Entity::find_by_id(version_id)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    survey::from_definition_json(&version.definition)
        .map(Some)
        .map_err(|error| {
            DbErr::Custom(format!(
                "survey version {version_id} cannot be read: {error}"
            ))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_read_in_china_time() {
        let time = parse_time("2026-12-01 08:00").expect("parses");
        assert_eq!(time.to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(display_time(time), "2026-12-01 08:00");
        let date = parse_time("2026-12-01").expect("parses");
        assert_eq!(date.to_rfc3339(), "2026-11-30T16:00:00+00:00");
        assert!(parse_time("2026-12-01T08:00:00+08:00").is_some());
        assert!(parse_time("next monday").is_none());
    }

    #[test]
    fn school_selections_accept_all_and_chinese_commas() {
        assert_eq!(SchoolSelection::parse("all"), SchoolSelection::All);
        assert_eq!(
            SchoolSelection::parse("A1，A2, A3"),
            SchoolSelection::Codes(vec!["A1".into(), "A2".into(), "A3".into()])
        );
    }

    #[test]
    fn availability_follows_status_and_dates() {
        let now = Utc::now();
        let mut campaign = campaign::Model {
            id: 1,
            name: "x".into(),
            survey_version_id: 1,
            status: "open".into(),
            opens_at: None,
            closes_at: None,
            created_at: now,
        };
        assert_eq!(availability(&campaign, now), Availability::Open);
        campaign.opens_at = Some(now + chrono::Duration::hours(1));
        assert!(matches!(
            availability(&campaign, now),
            Availability::NotYetOpen(_)
        ));
        campaign.opens_at = None;
        campaign.closes_at = Some(now);
        assert_eq!(availability(&campaign, now), Availability::Closed);
        campaign.closes_at = None;
        campaign.status = "closed".into();
        assert_eq!(availability(&campaign, now), Availability::Closed);
    }
}
