//! Campaigns: a frozen survey version put to a set of schools, one link per school, open between
//! two dates. Owns the queries on `campaign`, `campaign_link` and `survey_version`: creation,
//! states set by hand, the links, and the response rates read from the links' running counts.
//!
//! Nothing here knows about HTTP; `selection` and the roll-ups of `rates` do no I/O.

pub mod actions;
mod rates;
mod selection;

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use entity::{campaign, campaign_link, school, survey_version};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait,
    IntoActiveModel, QueryFilter, QueryOrder, Set,
};

use crate::links;
use crate::survey::{self, Audience, CatalogEntry, Survey};

pub use rates::{
    CampaignSummary, RateOrder, RateTotal, SchoolCampaign, SchoolRate, TownshipRate, county_total,
    for_school, overview, percent, rates, roll_up_by_township, sort_rates, survey_of,
};
pub use selection::SchoolSelection;

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
    #[error("the selection names no school")]
    NoSchoolSelected,
    #[error("the expected number of answers per school must be at least 1 (got {0})")]
    ExpectedNotPositive(i32),
    #[error("no campaign {0}")]
    NotFound(i32),
    #[error(transparent)]
    Db(#[from] DbErr),
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

/// China time to the second, as logs and exports show it.
pub fn display_time_seconds(time: DateTime<Utc>) -> String {
    time.with_timezone(&china_offset())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string()
}

/// A time as supervisors and parents read it: China time, to the minute.
pub fn display_time(time: DateTime<Utc>) -> String {
    time.with_timezone(&china_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

/// The form of a time for `<input type="datetime-local">`: China time, to the minute.
pub fn input_time(time: DateTime<Utc>) -> String {
    time.with_timezone(&china_offset())
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// The state a supervisor sets by hand, stored in `campaign.status`. `Open` is narrowed further
/// by the campaign's dates: see [`availability`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CampaignStatus {
    /// Links exist and posters can be printed; the form says the survey has not started.
    Draft,
    Open,
    /// Closed by hand: the answers stay, the links show a polite closed page.
    Closed,
}

impl CampaignStatus {
    pub const ALL: [CampaignStatus; 3] = [
        CampaignStatus::Draft,
        CampaignStatus::Open,
        CampaignStatus::Closed,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "draft",
            CampaignStatus::Open => "open",
            CampaignStatus::Closed => "closed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CampaignStatus::Draft => "草稿",
            CampaignStatus::Open => "开放",
            CampaignStatus::Closed => "关闭",
        }
    }

    pub fn parse(slug: &str) -> Option<CampaignStatus> {
        CampaignStatus::ALL
            .into_iter()
            .find(|status| status.slug() == slug.trim())
    }

    /// A campaign's status; anything unknown reads as `Open`, as [`availability`] treats it.
    pub fn of(campaign: &campaign::Model) -> CampaignStatus {
        CampaignStatus::parse(&campaign.status).unwrap_or(CampaignStatus::Open)
    }
}

pub struct NewCampaign<'a> {
    pub name: String,
    pub survey: &'a CatalogEntry,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub schools: SchoolSelection,
    /// `Draft` to prepare links and posters first, `Open` to take answers (within the dates).
    pub status: CampaignStatus,
    /// One number of expected answers for every school, instead of [`expected_answers`].
    pub expected_override: Option<i32>,
}

/// Whether a campaign takes answers now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Availability {
    Open,
    Draft,
    NotYetOpen(DateTime<Utc>),
    Closed,
}

impl Availability {
    /// How the console names the state: 草稿, 进行中, 未开始, 已结束.
    pub fn label(&self) -> &'static str {
        match self {
            Availability::Open => "进行中",
            Availability::Draft => "草稿",
            Availability::NotYetOpen(_) => "未开始",
            Availability::Closed => "已结束",
        }
    }

    /// A short word for style classes and machines: `open`, `draft`, `pending`, `closed`.
    pub fn slug(&self) -> &'static str {
        match self {
            Availability::Open => "open",
            Availability::Draft => "draft",
            Availability::NotYetOpen(_) => "pending",
            Availability::Closed => "closed",
        }
    }
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
///
/// The insert comes first and gives way to an existing version of the same digest: a
/// transaction that writes before it reads cannot be refused by SQLite for having read a
/// snapshot that the answer writer made stale in between.
pub async fn freeze_survey(
    db: &impl ConnectionTrait,
    entry: &CatalogEntry,
) -> Result<survey_version::Model, DbErr> {
    let digest = survey::digest(&entry.survey);
    survey_version::Entity::insert(survey_version::ActiveModel {
        survey_id: Set(entry.survey.id.clone()),
        digest: Set(digest.clone()),
        title: Set(entry.survey.title.clone()),
        audience: Set(entry.survey.audience.slug().to_owned()),
        definition: Set(survey::definition_json(&entry.survey)),
        source: Set(entry.source.clone()),
        created_at: Set(Utc::now()),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::column(survey_version::Column::Digest)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    survey_version::Entity::find()
        .filter(survey_version::Column::Digest.eq(digest.as_str()))
        .one(db)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("survey version {digest}")))
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

/// A campaign's name and dates as they may be stored: the name trimmed and not empty, and a
/// closing time after the opening time. Shared by creation and editing.
pub fn check_details(
    name: &str,
    opens_at: Option<DateTime<Utc>>,
    closes_at: Option<DateTime<Utc>>,
) -> Result<String, CampaignError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(CampaignError::EmptyName);
    }
    if let (Some(opens), Some(closes)) = (opens_at, closes_at)
        && closes <= opens
    {
        return Err(CampaignError::ClosesBeforeOpening {
            opens: display_time(opens),
            closes: display_time(closes),
        });
    }
    Ok(name.to_owned())
}

/// Creates a campaign with one fresh link per selected school, inside the caller's transaction
/// (see [`actions::create_campaign`]). Returns the campaign and its number of links.
pub async fn create_in(
    txn: &DatabaseTransaction,
    new: NewCampaign<'_>,
) -> Result<(campaign::Model, usize), CampaignError> {
    let name = check_details(&new.name, new.opens_at, new.closes_at)?;
    if let Some(expected) = new.expected_override
        && expected < 1
    {
        return Err(CampaignError::ExpectedNotPositive(expected));
    }
    if new.schools.is_empty_list() {
        return Err(CampaignError::NoSchoolSelected);
    }
    let all = school::Entity::find()
        .order_by_asc(school::Column::Code)
        .all(txn)
        .await?;
    if all.is_empty() {
        return Err(CampaignError::NoSchools);
    }
    let schools = new.schools.apply(&all)?;
    if schools.is_empty() {
        return Err(CampaignError::NoSchoolSelected);
    }

    let version = freeze_survey(txn, new.survey).await?;
    let now = Utc::now();
    let campaign = campaign::ActiveModel {
        name: Set(name),
        survey_version_id: Set(version.id),
        status: Set(new.status.slug().to_owned()),
        opens_at: Set(new.opens_at),
        closes_at: Set(new.closes_at),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    let audience = new.survey.survey.audience;
    let links: Vec<campaign_link::ActiveModel> = schools
        .iter()
        .map(|school| campaign_link::ActiveModel {
            campaign_id: Set(campaign.id),
            school_id: Set(school.id),
            token: Set(links::new_token()),
            response_count: Set(0),
            expected: Set(new
                .expected_override
                .unwrap_or_else(|| expected_answers(audience, school))),
            created_at: Set(now),
            ..Default::default()
        })
        .collect();
    let count = links.len();
    for chunk in links.chunks(500) {
        campaign_link::Entity::insert_many(chunk.to_vec())
            .exec_without_returning(txn)
            .await?;
    }
    Ok((campaign, count))
}

/// Sets a campaign's status by hand, inside the caller's transaction. Returns the status it had
/// and the campaign as it is now. Answers are never touched: a closed campaign keeps them.
pub async fn set_status(
    txn: &DatabaseTransaction,
    id: i32,
    status: CampaignStatus,
) -> Result<(CampaignStatus, campaign::Model), CampaignError> {
    let campaign = find(txn, id).await?;
    let before = CampaignStatus::of(&campaign);
    if before == status && campaign.status == status.slug() {
        return Ok((before, campaign));
    }
    let mut active = campaign.into_active_model();
    active.status = Set(status.slug().to_owned());
    Ok((before, active.update(txn).await?))
}

/// A campaign's name and dates after an edit.
pub struct CampaignDetails {
    pub name: String,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
}

/// Changes a campaign's name and dates, inside the caller's transaction. Returns the campaign
/// before and after. The survey and the schools never change under a campaign's answers.
pub async fn update_details(
    txn: &DatabaseTransaction,
    id: i32,
    details: CampaignDetails,
) -> Result<(campaign::Model, campaign::Model), CampaignError> {
    let name = check_details(&details.name, details.opens_at, details.closes_at)?;
    let before = find(txn, id).await?;
    let mut active = before.clone().into_active_model();
    active.name = Set(name);
    active.opens_at = Set(details.opens_at);
    active.closes_at = Set(details.closes_at);
    let after = active.update(txn).await?;
    Ok((before, after))
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

/// The campaign's links, each with its school (links whose school is gone are skipped).
pub(crate) async fn links_with_schools(
    db: &impl ConnectionTrait,
    campaign_id: i32,
) -> Result<Vec<(campaign_link::Model, school::Model)>, CampaignError> {
    find(db, campaign_id).await?;
    let links = campaign_link::Entity::find()
        .filter(campaign_link::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await?;
    let mut schools: HashMap<i32, school::Model> = school::Entity::find()
        .all(db)
        .await?
        .into_iter()
        .map(|school| (school.id, school))
        .collect();
    // A campaign has one link per school, so each school is taken out once.
    Ok(links
        .into_iter()
        .filter_map(|link| {
            let school = schools.remove(&link.school_id)?;
            Some((link, school))
        })
        .collect())
}

pub async fn links(
    db: &impl ConnectionTrait,
    campaign_id: i32,
) -> Result<Vec<LinkRow>, CampaignError> {
    let mut rows: Vec<LinkRow> = links_with_schools(db, campaign_id)
        .await?
        .into_iter()
        .map(|(link, school)| LinkRow {
            code: school.code,
            name: school.name,
            township: school.township,
            token: link.token,
            response_count: link.response_count,
            expected: link.expected,
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
