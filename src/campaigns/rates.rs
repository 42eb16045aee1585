//! Response rates: answers so far against answers expected, per school, per township and for the
//! county, and per campaign for the list of campaigns.
//!
//! Every number comes from `campaign_link`, whose `response_count` the answer writer keeps up to
//! date in the same transaction as the answers; `response` is never scanned, so these pages stay
//! instant at a million answers. The roll-ups and orderings are pure and tested below.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};

use entity::{campaign, campaign_link, survey_version};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::CampaignError;
use crate::survey::Audience;

/// `answers` as a percentage of `expected`; `None` when nothing is expected.
pub fn percent(answers: i64, expected: i64) -> Option<f64> {
    (expected > 0).then(|| answers as f64 * 100.0 / expected as f64)
}

/// One school's progress in a campaign.
#[derive(Clone, Debug, PartialEq)]
pub struct SchoolRate {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub token: String,
    pub answers: i64,
    pub expected: i64,
}

impl SchoolRate {
    pub fn percent(&self) -> Option<f64> {
        percent(self.answers, self.expected)
    }
}

/// Answers and expected answers added up over some schools.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RateTotal {
    pub schools: usize,
    pub answers: i64,
    pub expected: i64,
}

impl RateTotal {
    pub fn add(&mut self, rate: &SchoolRate) {
        self.schools += 1;
        self.answers += rate.answers;
        self.expected += rate.expected;
    }

    pub fn percent(&self) -> Option<f64> {
        percent(self.answers, self.expected)
    }
}

/// A township's schools added up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TownshipRate {
    pub township: String,
    pub total: RateTotal,
}

/// The totals of each township, in the order of their names (by code point).
pub fn roll_up_by_township(rates: &[SchoolRate]) -> Vec<TownshipRate> {
    let mut townships: BTreeMap<&str, RateTotal> = BTreeMap::new();
    for rate in rates {
        townships
            .entry(rate.township.as_str())
            .or_default()
            .add(rate);
    }
    townships
        .into_iter()
        .map(|(township, total)| TownshipRate {
            township: township.to_owned(),
            total,
        })
        .collect()
}

/// The county's total: every school of the campaign.
pub fn county_total(rates: &[SchoolRate]) -> RateTotal {
    let mut total = RateTotal::default();
    for rate in rates {
        total.add(rate);
    }
    total
}

/// How the schools of a campaign page are ordered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum RateOrder {
    /// The lowest percentage first, so that the schools to call come first; schools expected to
    /// give nothing last.
    #[default]
    FurthestBehind,
    /// The highest percentage first.
    FurthestAhead,
    Code,
    Name,
    Township,
    /// The most answers first.
    Answers,
    /// The most expected answers first.
    Expected,
}

impl RateOrder {
    pub const ALL: [RateOrder; 7] = [
        RateOrder::FurthestBehind,
        RateOrder::FurthestAhead,
        RateOrder::Code,
        RateOrder::Name,
        RateOrder::Township,
        RateOrder::Answers,
        RateOrder::Expected,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            RateOrder::FurthestBehind => "behind",
            RateOrder::FurthestAhead => "ahead",
            RateOrder::Code => "code",
            RateOrder::Name => "name",
            RateOrder::Township => "township",
            RateOrder::Answers => "answers",
            RateOrder::Expected => "expected",
        }
    }

    /// An order by its slug; anything else is the default, furthest behind first.
    pub fn parse(slug: &str) -> RateOrder {
        RateOrder::ALL
            .into_iter()
            .find(|order| order.slug() == slug)
            .unwrap_or_default()
    }
}

/// Percentages compared with "nothing expected" after every number.
fn by_percent(a: &SchoolRate, b: &SchoolRate) -> Ordering {
    match (a.percent(), b.percent()) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// Orders `rates` in place; ties are broken by school code, so the order is stable page to page.
pub fn sort_rates(rates: &mut [SchoolRate], order: RateOrder) {
    rates.sort_by(|a, b| {
        let first = match order {
            RateOrder::FurthestBehind => by_percent(a, b).then(a.answers.cmp(&b.answers)),
            RateOrder::FurthestAhead => match (a.percent(), b.percent()) {
                (Some(x), Some(y)) => y.total_cmp(&x),
                _ => by_percent(a, b),
            },
            RateOrder::Code => Ordering::Equal,
            RateOrder::Name => a.name.cmp(&b.name),
            RateOrder::Township => a.township.cmp(&b.township),
            RateOrder::Answers => b.answers.cmp(&a.answers),
            RateOrder::Expected => b.expected.cmp(&a.expected),
        };
        first.then_with(|| a.code.cmp(&b.code))
    });
}

/// Every school of a campaign with its answers so far and expected, ordered by code. Reads the
/// campaign's links and the school table, nothing else.
pub async fn rates(
    db: &impl ConnectionTrait,
    campaign_id: i32,
) -> Result<Vec<SchoolRate>, CampaignError> {
    let mut rates: Vec<SchoolRate> = super::links_with_schools(db, campaign_id)
        .await?
        .into_iter()
        .map(|(link, school)| SchoolRate {
            school_id: school.id,
            code: school.code,
            name: school.name,
            township: school.township,
            token: link.token,
            answers: link.response_count,
            expected: i64::from(link.expected),
        })
        .collect();
    sort_rates(&mut rates, RateOrder::Code);
    Ok(rates)
}

/// A campaign as the list of campaigns shows it.
#[derive(Clone, Debug)]
pub struct CampaignSummary {
    pub campaign: campaign::Model,
    pub survey_title: String,
    pub audience: Option<Audience>,
    pub total: RateTotal,
}

/// What a campaign put to: the title and audience of its frozen survey.
pub async fn survey_of(
    db: &impl ConnectionTrait,
    campaign: &campaign::Model,
) -> Result<(String, Option<Audience>), DbErr> {
    // Only the two columns: a version's definition and source run to tens of kilobytes.
    let version = survey_version::Entity::find_by_id(campaign.survey_version_id)
        .select_only()
        .column(survey_version::Column::Title)
        .column(survey_version::Column::Audience)
        .into_tuple::<(String, String)>()
        .one(db)
        .await?;
    Ok(version.map_or_else(
        || (String::new(), None),
        |(title, audience)| (title, Audience::parse(&audience)),
    ))
}

/// Every campaign, newest first, with its survey and its links added up in SQL.
pub async fn overview(db: &impl ConnectionTrait) -> Result<Vec<CampaignSummary>, DbErr> {
    let campaigns = super::list(db).await?;
    let versions: HashMap<i32, (String, Option<Audience>)> = survey_version::Entity::find()
        .select_only()
        .column(survey_version::Column::Id)
        .column(survey_version::Column::Title)
        .column(survey_version::Column::Audience)
        .into_tuple::<(i32, String, String)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, title, audience)| (id, (title, Audience::parse(&audience))))
        .collect();
    // SUM of a BIGINT is NUMERIC on PostgreSQL: cast back so that both databases give integers.
    let totals: HashMap<i32, RateTotal> = campaign_link::Entity::find()
        .select_only()
        .column(campaign_link::Column::CampaignId)
        .column_as(Expr::col(campaign_link::Column::Id).count(), "schools")
        .column_as(
            Expr::col(campaign_link::Column::ResponseCount)
                .sum()
                .cast_as("bigint"),
            "answers",
        )
        .column_as(
            Expr::col(campaign_link::Column::Expected)
                .sum()
                .cast_as("bigint"),
            "expected",
        )
        .group_by(campaign_link::Column::CampaignId)
        .into_tuple::<(i32, i64, Option<i64>, Option<i64>)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, schools, answers, expected)| {
            (
                id,
                RateTotal {
                    schools: usize::try_from(schools).unwrap_or_default(),
                    answers: answers.unwrap_or_default(),
                    expected: expected.unwrap_or_default(),
                },
            )
        })
        .collect();
    Ok(campaigns
        .into_iter()
        .map(|campaign| {
            let (survey_title, audience) = versions
                .get(&campaign.survey_version_id)
                .cloned()
                .unwrap_or_default();
            CampaignSummary {
                total: totals.get(&campaign.id).copied().unwrap_or_default(),
                survey_title,
                audience,
                campaign,
            }
        })
        .collect())
}

/// One campaign as one school sees it: its link and its own progress.
#[derive(Clone, Debug)]
pub struct SchoolCampaign {
    pub campaign: campaign::Model,
    pub survey_title: String,
    pub audience: Option<Audience>,
    pub token: String,
    pub answers: i64,
    pub expected: i64,
}

/// The campaigns that have a link for `school_id`, newest first.
pub async fn for_school(
    db: &impl ConnectionTrait,
    school_id: i32,
) -> Result<Vec<SchoolCampaign>, DbErr> {
    let links: HashMap<i32, campaign_link::Model> = campaign_link::Entity::find()
        .filter(campaign_link::Column::SchoolId.eq(school_id))
        .all(db)
        .await?
        .into_iter()
        .map(|link| (link.campaign_id, link))
        .collect();
    let mut found = Vec::new();
    for campaign in super::list(db).await? {
        let Some(link) = links.get(&campaign.id) else {
            continue;
        };
        let (survey_title, audience) = survey_of(db, &campaign).await?;
        found.push(SchoolCampaign {
            survey_title,
            audience,
            token: link.token.clone(),
            answers: link.response_count,
            expected: i64::from(link.expected),
            campaign,
        });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(code: &str, township: &str, answers: i64, expected: i64) -> SchoolRate {
        SchoolRate {
            school_id: 0,
            code: code.to_owned(),
            name: format!("学校{code}"),
            township: township.to_owned(),
            token: String::new(),
            answers,
            expected,
        }
    }

    fn sample() -> Vec<SchoolRate> {
        vec![
            rate("A1", "石门镇", 30, 100),
            rate("A2", "石门镇", 0, 20),
            rate("B1", "白沙乡", 9, 10),
            rate("B2", "白沙乡", 0, 0),
            rate("C1", "云岭乡", 5, 50),
            rate("C2", "云岭乡", 0, 40),
        ]
    }

    fn codes(rates: &[SchoolRate]) -> Vec<&str> {
        rates.iter().map(|rate| rate.code.as_str()).collect()
    }

    #[test]
    fn percentages_are_of_the_expected_and_absent_when_nothing_is_expected() {
        assert_eq!(percent(3, 11).map(|p| (p * 10.0).round()), Some(273.0));
        assert_eq!(percent(0, 0), None);
        assert_eq!(percent(12, 10), Some(120.0));
    }

    #[test]
    fn townships_add_up_to_the_county() {
        let rates = sample();
        let townships = roll_up_by_township(&rates);
        let names: Vec<&str> = townships.iter().map(|t| t.township.as_str()).collect();
        // Code-point order of the names, as the database would sort them.
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        let baisha = townships
            .iter()
            .find(|t| t.township == "白沙乡")
            .expect("白沙乡");
        assert_eq!(
            baisha.total,
            RateTotal {
                schools: 2,
                answers: 9,
                expected: 10
            }
        );
        assert_eq!(baisha.total.percent(), Some(90.0));

        let county = county_total(&rates);
        assert_eq!(
            county,
            RateTotal {
                schools: 6,
                answers: 44,
                expected: 220
            }
        );
        let mut summed = RateTotal::default();
        for township in &townships {
            summed.schools += township.total.schools;
            summed.answers += township.total.answers;
            summed.expected += township.total.expected;
        }
        assert_eq!(summed, county);
        assert_eq!(county.percent(), Some(20.0));
        assert_eq!(county_total(&[]).percent(), None);
        assert!(roll_up_by_township(&[]).is_empty());
    }

    #[test]
    fn the_schools_furthest_behind_come_first_and_nothing_expected_last() {
        let mut rates = sample();
        sort_rates(&mut rates, RateOrder::FurthestBehind);
        assert_eq!(codes(&rates), ["A2", "C2", "C1", "A1", "B1", "B2"]);
        sort_rates(&mut rates, RateOrder::FurthestAhead);
        assert_eq!(codes(&rates), ["B1", "A1", "C1", "A2", "C2", "B2"]);
    }

    #[test]
    fn other_orders_break_ties_by_code() {
        let mut rates = sample();
        sort_rates(&mut rates, RateOrder::Answers);
        assert_eq!(codes(&rates), ["A1", "B1", "C1", "A2", "B2", "C2"]);
        sort_rates(&mut rates, RateOrder::Expected);
        assert_eq!(codes(&rates), ["A1", "C1", "C2", "A2", "B1", "B2"]);
        sort_rates(&mut rates, RateOrder::Township);
        assert_eq!(codes(&rates), ["C1", "C2", "B1", "B2", "A1", "A2"]);
        sort_rates(&mut rates, RateOrder::Code);
        assert_eq!(codes(&rates), ["A1", "A2", "B1", "B2", "C1", "C2"]);
    }

    #[test]
    fn orders_are_read_from_their_slugs_with_a_safe_default() {
        for order in RateOrder::ALL {
            assert_eq!(RateOrder::parse(order.slug()), order);
        }
        assert_eq!(RateOrder::parse("drop table"), RateOrder::FurthestBehind);
    }
}
