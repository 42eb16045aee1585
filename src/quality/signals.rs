//! Schools whose answers look wrong, for a supervisor to look at first: answers held for coming
//! too fast or flagged as a cookie-less burst, more answers than the school could send, answers bunched into an hour, or far more
//! forms answered at the top of every scale than the rest of the county's share. These are hints on the quality page and the campaign
//! page; they change no figure (the `[quality]` policy and the supervisors do).
//!
//! Counted over every stored answer of the campaign (excluded or held ones too: a stuffed link
//! is a stuffed link), per school and per hour (UTC hours; pages show them in China time).

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use entity::school;
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};
use serde::Serialize;
use statrs::distribution::{Binomial, DiscreteCDF};

use crate::campaigns;
use crate::results::shown_alone;
use crate::survey::Audience;

/// An hour holding at least this many answers, and at least [`BUNCHED_SHARE`] of what the
/// school expects, is "bunched": a parents' meeting fills an hour, a class group its evening,
/// but rarely a third of a whole school.
pub const BUNCHED_AT_LEAST: u64 = 30;
pub const BUNCHED_SHARE: f64 = 1.0 / 3.0;
/// All-top forms "far above the county": a one-sided binomial test at this level against the
/// county's share, and at least twice that share.
pub const ALL_TOP_LEVEL: f64 = 0.001;

/// Why a school is listed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Some answers came faster than the link's or an address's rate, and were held.
    Held,
    /// Some answers came in a burst from browsers without the server's cookie.
    Burst,
    MoreThanExpected,
    Bunched,
    AllTop,
}

impl Signal {
    pub fn label(self) -> &'static str {
        match self {
            Signal::Held => "有超出速率而暂缓的答卷",
            Signal::Burst => "有无 Cookie 集中提交的答卷",
            Signal::MoreThanExpected => "答卷多于应收",
            Signal::Bunched => "答卷集中在一小时内",
            Signal::AllTop => "全部选最高档的答卷远多于全县",
        }
    }
}

/// One school's answers as the signals see them.
#[derive(Clone, Debug, PartialEq)]
pub struct SchoolSignals {
    pub school: school::Model,
    /// Every stored answer, included or not.
    pub answers: u64,
    pub excluded: u64,
    /// Answers carrying the `held` flag.
    pub held: u64,
    /// Answers carrying the `burst` flag.
    pub burst: u64,
    pub expected: u64,
    pub all_top: u64,
    /// Answers per hour (hours since 1970, UTC), hours with answers only.
    pub hourly: BTreeMap<i64, u64>,
    pub signals: Vec<Signal>,
}

impl SchoolSignals {
    /// The hour with the most answers, and how many.
    pub fn peak(&self) -> Option<(i64, u64)> {
        self.hourly
            .iter()
            .max_by_key(|(hour, count)| (**count, std::cmp::Reverse(**hour)))
            .map(|(hour, count)| (*hour, *count))
    }

    pub fn all_top_share(&self) -> Option<f64> {
        (self.answers > 0).then(|| self.all_top as f64 / self.answers as f64)
    }
}

/// A campaign's schools with at least one signal (most answers first), and the county's figures
/// they are held against.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CampaignSignals {
    pub listed: Vec<SchoolSignals>,
    pub answers: u64,
    pub all_top: u64,
    /// The first and last hour with an answer (hours since 1970, UTC).
    pub span: Option<(i64, i64)>,
}

impl CampaignSignals {
    pub fn county_all_top_share(&self) -> Option<f64> {
        (self.answers > 0).then(|| self.all_top as f64 / self.answers as f64)
    }
}

/// The other schools' answers needed before a school's all-top share is held against theirs.
pub const ALL_TOP_OTHERS_AT_LEAST: u64 = 20;

/// What is wrong with one school's answers; `others` = the rest of the county's (answers,
/// all-top answers), which its all-top share is held against.
pub fn signals_of(school: &SchoolSignals, others: (u64, u64)) -> Vec<Signal> {
    let mut signals = Vec::new();
    if school.held > 0 {
        signals.push(Signal::Held);
    }
    if school.burst > 0 {
        signals.push(Signal::Burst);
    }
    if school.expected > 0 && school.answers > school.expected {
        signals.push(Signal::MoreThanExpected);
    }
    if let Some((_, peak)) = school.peak()
        && peak >= BUNCHED_AT_LEAST
        && school.expected > 0
        && peak as f64 >= school.expected as f64 * BUNCHED_SHARE
    {
        signals.push(Signal::Bunched);
    }
    let (other_answers, other_all_top) = others;
    if other_answers >= ALL_TOP_OTHERS_AT_LEAST
        && all_top_far_above(
            school.all_top,
            school.answers,
            other_all_top as f64 / other_answers as f64,
        )
    {
        signals.push(Signal::AllTop);
    }
    signals
}

/// Whether `all_top` of `answers` is far above a share of `county`: at least twice it, and
/// P(X ≥ all_top) < [`ALL_TOP_LEVEL`] for X ~ Binomial(answers, county).
pub fn all_top_far_above(all_top: u64, answers: u64, county: f64) -> bool {
    if answers == 0 || all_top == 0 {
        return false;
    }
    let share = all_top as f64 / answers as f64;
    if share < 2.0 * county {
        return false;
    }
    // With a county share of 0, any all-top form past the doubling is far above it; the
    // binomial is degenerate there.
    let Ok(binomial) = Binomial::new(county.clamp(0.0, 1.0), answers) else {
        return false;
    };
    if county <= 0.0 {
        return all_top >= 3;
    }
    // P(X ≥ k) = 1 − P(X ≤ k − 1).
    binomial.sf(all_top - 1) < ALL_TOP_LEVEL
}

/// Every school of the campaign with its answers per hour, and those with a signal listed. In a
/// teachers' survey a school with 1–4 included answers is left out altogether (its hours would
/// tell when its few teachers answered).
pub async fn campaign_signals(
    db: &impl ConnectionTrait,
    campaign_id: i32,
    audience: Audience,
) -> Result<CampaignSignals, DbErr> {
    let backend = db.get_database_backend();
    let hour = match backend {
        DbBackend::Postgres => "floor(extract(epoch FROM submitted_at) / 3600)::bigint",
        _ => "(unixepoch(submitted_at) / 3600)",
    };
    let placeholder = match backend {
        DbBackend::Postgres => "$1",
        _ => "?",
    };
    let sql = format!(
        "SELECT school_id, {hour} AS hour, count(*) AS answers, \
         sum(CASE WHEN excluded THEN 1 ELSE 0 END) AS excluded, \
         sum(CASE WHEN flags LIKE '%all_top%' THEN 1 ELSE 0 END) AS all_top, \
         sum(CASE WHEN flags LIKE '%held%' THEN 1 ELSE 0 END) AS held, \
         sum(CASE WHEN flags LIKE '%burst%' THEN 1 ELSE 0 END) AS burst \
         FROM response WHERE campaign_id = {placeholder} GROUP BY school_id, {hour}"
    );
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [campaign_id.into()],
        ))
        .await?;
    let links = campaigns::links_with_schools(db, campaign_id)
        .await
        .map_err(|error| match error {
            campaigns::CampaignError::Db(error) => error,
            other => DbErr::RecordNotFound(other.to_string()),
        })?;
    let mut schools: HashMap<i32, SchoolSignals> = links
        .into_iter()
        .filter(|(link, _)| shown_alone(audience, u64::try_from(link.response_count).unwrap_or(0)))
        .map(|(link, school)| {
            (
                school.id,
                SchoolSignals {
                    school,
                    answers: 0,
                    excluded: 0,
                    held: 0,
                    burst: 0,
                    expected: u64::try_from(link.expected).unwrap_or(0),
                    all_top: 0,
                    hourly: BTreeMap::new(),
                    signals: Vec::new(),
                },
            )
        })
        .collect();
    let mut found = CampaignSignals::default();
    for row in rows {
        let school_id: i32 = row.try_get("", "school_id")?;
        let hour: i64 = row.try_get("", "hour")?;
        let count = |column: &str| -> Result<u64, DbErr> {
            let value: i64 = row.try_get("", column)?;
            Ok(u64::try_from(value).unwrap_or(0))
        };
        let (answers, excluded, all_top, held, burst) = (
            count("answers")?,
            count("excluded")?,
            count("all_top")?,
            count("held")?,
            count("burst")?,
        );
        let Some(school) = schools.get_mut(&school_id) else {
            continue;
        };
        school.answers += answers;
        school.excluded += excluded;
        school.held += held;
        school.burst += burst;
        school.all_top += all_top;
        *school.hourly.entry(hour).or_default() += answers;
        found.answers += answers;
        found.all_top += all_top;
        found.span = Some(match found.span {
            None => (hour, hour),
            Some((first, last)) => (first.min(hour), last.max(hour)),
        });
    }
    let (answers, all_top) = (found.answers, found.all_top);
    let mut listed: Vec<SchoolSignals> = schools
        .into_values()
        .filter_map(|mut school| {
            let others = (answers - school.answers, all_top - school.all_top);
            school.signals = signals_of(&school, others);
            (!school.signals.is_empty()).then_some(school)
        })
        .collect();
    listed.sort_by(|a, b| {
        b.answers
            .cmp(&a.answers)
            .then_with(|| a.school.code.cmp(&b.school.code))
    });
    found.listed = listed;
    Ok(found)
}

/// The start of `hour` (hours since 1970, UTC).
pub fn hour_start(hour: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(hour.checked_mul(3600)?, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school(answers: u64, expected: u64, all_top: u64, hourly: &[(i64, u64)]) -> SchoolSignals {
        SchoolSignals {
            school: school::Model {
                id: 1,
                code: "Q01".to_owned(),
                name: "测试学校".to_owned(),
                township: "城关镇".to_owned(),
                kind: "primary".to_owned(),
                is_central: false,
                is_key_village: false,
                enrolment: 600,
                teachers: 30,
                created_at: Utc::now(),
                updated_at: Utc::now(),
            },
            answers,
            excluded: 0,
            held: 0,
            burst: 0,
            expected,
            all_top,
            hourly: hourly.iter().copied().collect(),
            signals: Vec::new(),
        }
    }

    #[test]
    fn a_class_group_in_an_evening_is_not_a_signal_but_a_stuffed_hour_is() {
        // 40 parents of a 600-pupil school in one hour, a tenth of them all-top (as the county).
        let class = school(40, 600, 4, &[(10, 40)]);
        assert!(signals_of(&class, (1_000, 100)).is_empty());
        // 1,334 answers in one hour at a school expecting 60, every one all-top.
        let stuffed = school(1_394, 60, 1_334, &[(9, 60), (10, 1_334)]);
        assert_eq!(
            signals_of(&stuffed, (1_000, 100)),
            vec![Signal::MoreThanExpected, Signal::Bunched, Signal::AllTop]
        );
        // Nothing to hold it against: no all-top signal.
        assert_eq!(
            signals_of(&stuffed, (10, 1)),
            vec![Signal::MoreThanExpected, Signal::Bunched]
        );
        let mut held = school(10, 600, 0, &[(10, 10)]);
        held.held = 3;
        assert_eq!(signals_of(&held, (1_000, 100)), vec![Signal::Held]);
    }

    #[test]
    fn all_top_is_far_above_only_when_unlikely_by_chance() {
        // 6 of 20 at a county share of 0.1: P(X ≥ 6) ≈ 0.011, not below 0.001.
        assert!(!all_top_far_above(6, 20, 0.1));
        // 10 of 20: P(X ≥ 10) ≈ 7e-6.
        assert!(all_top_far_above(10, 20, 0.1));
        // Twice the share is needed even with many answers.
        assert!(!all_top_far_above(1_150, 10_000, 0.1));
        assert!(!all_top_far_above(0, 10, 0.0));
        assert!(all_top_far_above(5, 10, 0.0));
    }
}
