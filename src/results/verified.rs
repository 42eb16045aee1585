//! Verified self-checks (surveys/METHOD.md, `verified`): the values a visit's checklist items
//! verified for the indicators they name, school by school and round by round, and each
//! school's report set beside them. Reads the visits' stored answers; recording a visit is
//! `crate::visits`, and nothing here writes.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use entity::{response, school, visit, visit_check};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::queries::self_check_answers;
use super::self_checks::{Verified, VerifiedBySchool};
use crate::rating::Plan;
use crate::rating::indicators::{Evaluation, Indicator, Outcome, SchoolProfile, VerifiedValue};
use crate::rating::visits::ItemAnswer;

/// What one stored answer of a checklist item verifies, if anything: 符合 / 不符合 for a
/// judgement (不适用 verifies nothing), the number for a number item.
pub fn verified_value(answer: &ItemAnswer, check: &visit_check::Model) -> Option<VerifiedValue> {
    match answer {
        ItemAnswer::Judgement => match check.judgement.as_deref()? {
            "met" => Some(VerifiedValue::Judgement(true)),
            "not_met" => Some(VerifiedValue::Judgement(false)),
            _ => None,
        },
        ItemAnswer::Number { .. } => check
            .number
            .filter(|number| number.is_finite())
            .map(VerifiedValue::Number),
        ItemAnswer::Photo => None,
    }
}

/// Where a verified value comes from.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerifiedAt {
    pub value: VerifiedValue,
    pub visit_id: i32,
    pub visited_on: NaiveDate,
    /// When the visit was recorded.
    pub recorded_at: DateTime<Utc>,
}

impl VerifiedAt {
    /// The moments whose standing report the visit checked: the start of the visit's day
    /// (China time) and when the visit was recorded — a report changed on the day, or between
    /// the visit and its typing-in, does not escape the comparison.
    pub fn checked_at(&self) -> [DateTime<Utc>; 2] {
        let day_start = self
            .visited_on
            .and_hms_opt(0, 0, 0)
            .and_then(|start| {
                start
                    .and_local_timezone(crate::campaigns::china_offset())
                    .single()
            })
            .map_or(self.recorded_at, |start| start.with_timezone(&Utc));
        [day_start.min(self.recorded_at), self.recorded_at]
    }
}

/// Each school's verified values of the round `campaign_id` by indicator: for each indicator,
/// from the latest visit (by date, then by when it was recorded) that verified it.
pub async fn verified_in_campaign(
    db: &impl ConnectionTrait,
    plan: &Plan,
    campaign_id: i32,
    school_ids: &[i32],
) -> Result<HashMap<i32, BTreeMap<String, VerifiedAt>>, DbErr> {
    let visits = visit::Entity::find()
        .filter(visit::Column::CampaignId.eq(campaign_id))
        .filter(visit::Column::SchoolId.is_in(school_ids.iter().copied()))
        .filter(visit::Column::Checklist.is_not_null())
        .order_by_desc(visit::Column::VisitedOn)
        .order_by_desc(visit::Column::Id)
        .all(db)
        .await?;
    let mut found: HashMap<i32, BTreeMap<String, VerifiedAt>> = HashMap::new();
    if visits.is_empty() {
        return Ok(found);
    }
    let checks = visit_check::Entity::find()
        .filter(visit_check::Column::VisitId.is_in(visits.iter().map(|visit| visit.id)))
        .all(db)
        .await?;
    let mut checks_of: HashMap<i32, Vec<visit_check::Model>> = HashMap::new();
    for check in checks {
        checks_of.entry(check.visit_id).or_default().push(check);
    }
    // Latest first: the first value seen for an indicator stands.
    for visit in &visits {
        let Some(checklist) = visit.checklist.as_deref().and_then(|id| plan.checklist(id)) else {
            continue;
        };
        for check in checks_of.get(&visit.id).into_iter().flatten() {
            let Some(item) = checklist.item(&check.item_id) else {
                continue;
            };
            let Some(indicator) = &item.indicator else {
                continue;
            };
            let Some(value) = verified_value(&item.answer, check) else {
                continue;
            };
            found
                .entry(visit.school_id)
                .or_default()
                .entry(indicator.clone())
                .or_insert(VerifiedAt {
                    value,
                    visit_id: visit.id,
                    visited_on: visit.visited_on,
                    recorded_at: visit.created_at,
                });
        }
    }
    Ok(found)
}

/// [`verified_in_campaign`] as the indicator table takes it, each value with whether the
/// report standing at its visit differed from it.
pub async fn verified_by_school(
    db: &impl ConnectionTrait,
    plan: &Plan,
    campaign_id: i32,
    school_ids: &[i32],
) -> Result<VerifiedBySchool, DbErr> {
    let found = verified_in_campaign(db, plan, campaign_id, school_ids).await?;
    let differed = differed_at_visit(db, plan, campaign_id, &found).await?;
    Ok(found
        .into_iter()
        .map(|(school, values)| {
            let values = values
                .into_iter()
                .map(|(indicator, at)| {
                    let differed_at_visit = differed.contains(&(school, indicator.clone()));
                    let verified = Verified {
                        value: at.value,
                        differed_at_visit,
                    };
                    (indicator, verified)
                })
                .collect();
            (school, values)
        })
        .collect())
}

/// One self-check answer as stored: when, and what it said.
type StoredReport = (DateTime<Utc>, serde_json::Map<String, serde_json::Value>);

/// Each school's self-check answers in the round as they stood at each verifying visit: the
/// latest included answer stored before the visit was recorded (none if it had sent none yet).
struct ReportHistory {
    /// By school, oldest first.
    reports: HashMap<i32, Vec<StoredReport>>,
}

impl ReportHistory {
    async fn load(
        db: &impl ConnectionTrait,
        campaign_id: i32,
        school_ids: Vec<i32>,
    ) -> Result<ReportHistory, DbErr> {
        let mut reports: HashMap<i32, Vec<_>> = HashMap::new();
        if school_ids.is_empty() {
            return Ok(ReportHistory { reports });
        }
        for stored in response::Entity::find()
            .filter(response::Column::CampaignId.eq(campaign_id))
            .filter(response::Column::Excluded.eq(false))
            .filter(response::Column::SchoolId.is_in(school_ids))
            .order_by_asc(response::Column::Id)
            .all(db)
            .await?
        {
            // An answer that does not read back (never stored by dupin) stood for nothing.
            if let Ok(answers) = serde_json::from_str(&stored.answers) {
                reports
                    .entry(stored.school_id)
                    .or_default()
                    .push((stored.submitted_at, answers));
            }
        }
        Ok(ReportHistory { reports })
    }

    /// The school's distinct answers standing at the moments a visit checked, earliest first.
    fn standing(
        &self,
        school_id: i32,
        verified: &VerifiedAt,
    ) -> Vec<&serde_json::Map<String, serde_json::Value>> {
        let mut standing: Vec<&serde_json::Map<String, serde_json::Value>> = Vec::new();
        for moment in verified.checked_at() {
            if let Some(answers) = self.at(school_id, moment)
                && !standing.iter().any(|seen| std::ptr::eq(*seen, answers))
            {
                standing.push(answers);
            }
        }
        standing
    }

    /// The school's answers standing at `at`.
    fn at(
        &self,
        school_id: i32,
        at: DateTime<Utc>,
    ) -> Option<&serde_json::Map<String, serde_json::Value>> {
        self.reports
            .get(&school_id)?
            .iter()
            .rev()
            .find(|(stored_at, _)| *stored_at <= at)
            .map(|(_, answers)| answers)
    }
}

/// (school, indicator) pairs whose report standing when the verifying visit was recorded
/// differed from the verified value past the tolerance: a report changed after the visit does
/// not clear 核查不符 (surveys/METHOD.md, `verified`).
async fn differed_at_visit(
    db: &impl ConnectionTrait,
    plan: &Plan,
    campaign_id: i32,
    found: &HashMap<i32, BTreeMap<String, VerifiedAt>>,
) -> Result<HashSet<(i32, String)>, DbErr> {
    let mut differed = HashSet::new();
    if found.is_empty() {
        return Ok(differed);
    }
    let school_ids: Vec<i32> = found.keys().copied().collect();
    let history = ReportHistory::load(db, campaign_id, school_ids.clone()).await?;
    let schools = school::Entity::find()
        .filter(school::Column::Id.is_in(school_ids))
        .all(db)
        .await?;
    for school in &schools {
        let Some(profile) = SchoolProfile::of_school(school) else {
            continue;
        };
        for (indicator_id, at) in found.get(&school.id).into_iter().flatten() {
            let Some(indicator) = plan.indicator(indicator_id) else {
                continue;
            };
            let differs = history.standing(school.id, at).into_iter().any(|answers| {
                let then = indicator.evaluate(&profile, answers);
                indicator.differs_from_verified(&then, at.value, plan.rules.verify_tolerance)
                    == Some(true)
            });
            if differs {
                differed.insert((school.id, indicator_id.clone()));
            }
        }
    }
    Ok(differed)
}

/// A school's verified values as answers to the self-check's questions, for the targets: a
/// number stands for the question a `value` indicator reads, 符合 / 不符合 for the yes/no
/// question of a `yes` indicator (是 / 否). A judgement on a ratio or a choice names no one
/// answer and is left out.
pub fn verified_answers(
    plan: &Plan,
    values: &BTreeMap<String, VerifiedAt>,
) -> serde_json::Map<String, serde_json::Value> {
    use crate::rating::indicators::Formula;
    let mut answers = serde_json::Map::new();
    for (id, at) in values {
        let Some(indicator) = plan.indicator(id) else {
            continue;
        };
        match (&indicator.formula, at.value) {
            (Formula::Value { question }, VerifiedValue::Number(number)) => {
                if let Some(number) = serde_json::Number::from_f64(number) {
                    answers.insert(question.id.clone(), serde_json::Value::Number(number));
                }
            }
            (Formula::Yes { question }, VerifiedValue::Judgement(met)) => {
                let code = if met { "yes" } else { "no" };
                answers.insert(question.id.clone(), serde_json::Value::from(code));
            }
            _ => {}
        }
    }
    answers
}

/// One verified indicator of a school: what it reported and what the visit found.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VerificationLine {
    pub indicator: String,
    pub title: String,
    pub area: &'static str,
    /// As reported (`80%`, `是`, `达标`), or `未提交` / `未填报`.
    pub reported: String,
    /// As verified (`符合`, `3 人`).
    pub verified: String,
    /// The outcome the rating uses: the verified one (达标 / 未达标).
    pub outcome: &'static str,
    pub visit_id: i32,
    pub visited_on: String,
    /// The report differs from the verified value past the tolerance: 核查不符.
    pub differs: bool,
    /// The report could not be compared (not submitted, not reported, not applicable).
    pub not_comparable: bool,
}

/// A school's report set beside what the round's visits verified.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Verification {
    pub campaign_id: i32,
    pub submitted: bool,
    pub lines: Vec<VerificationLine>,
    /// Some line differs: the school's self-check is flagged 核查不符.
    pub flagged: bool,
    /// The plan's tolerance, as a percentage (`10%`).
    pub tolerance: String,
}

/// A report as the verification page shows it: `80%`, `达标（是）`, `未达标`.
fn report_text(indicator: &Indicator, evaluation: &Evaluation, verified: VerifiedValue) -> String {
    let detail = match (&evaluation.value, &evaluation.answer) {
        (Some(value), _) => indicator.format_value(*value),
        (None, Some(code)) => match code.as_str() {
            "yes" => "是".to_owned(),
            "no" => "否".to_owned(),
            other => other.to_owned(),
        },
        (None, None) => String::new(),
    };
    let label = evaluation.outcome.label();
    match (verified, detail.is_empty()) {
        (_, true) => label.to_owned(),
        (VerifiedValue::Judgement(_), false) => format!("{label}（{detail}）"),
        (VerifiedValue::Number(_), false) => detail,
    }
}

/// The school's self-check in the round `campaign_id` (its latest included answer) against
/// every indicator a visit of the round verified.
pub async fn school_verification(
    db: &impl ConnectionTrait,
    plan: &Plan,
    campaign_id: i32,
    school: &school::Model,
) -> Result<Verification, DbErr> {
    let found = verified_in_campaign(db, plan, campaign_id, &[school.id]).await?;
    let history = ReportHistory::load(db, campaign_id, vec![school.id]).await?;
    let verified = found.get(&school.id).cloned().unwrap_or_default();
    let answers = self_check_answers(db, campaign_id, &[school.id], super::DateRange::default())
        .await?
        .remove(&school.id);
    let tolerance = plan.rules.verify_tolerance;
    let profile = SchoolProfile::of_school(school);
    let mut lines = Vec::new();
    for indicator in &plan.indicators {
        let Some(at) = verified.get(&indicator.id) else {
            continue;
        };
        let reported = match (&answers, &profile) {
            (Some(answers), Some(profile)) => Some(indicator.evaluate(profile, answers)),
            _ => None,
        };
        let then: Vec<Evaluation> = match &profile {
            Some(profile) => history
                .standing(school.id, at)
                .into_iter()
                .map(|answers| indicator.evaluate(profile, answers))
                .collect(),
            None => Vec::new(),
        };
        // Differs if the report now or any report standing at the visit differs; comparable
        // if any of them is.
        let comparisons: Vec<bool> = reported
            .iter()
            .chain(&then)
            .filter_map(|report| indicator.differs_from_verified(report, at.value, tolerance))
            .collect();
        let differs = match comparisons.is_empty() {
            true => None,
            false => Some(comparisons.contains(&true)),
        };
        let mut reported_text = match &reported {
            None => "未提交".to_owned(),
            Some(evaluation) => report_text(indicator, evaluation, at.value),
        };
        // What stood at the visit, when it was not what stands now (the latest such report).
        if let Some(then_text) = then
            .iter()
            .rev()
            .map(|then| report_text(indicator, then, at.value))
            .find(|then_text| *then_text != reported_text)
        {
            reported_text = format!("{reported_text}（核查时填报：{then_text}）");
        }
        let outcome = match (&profile, &reported) {
            (Some(profile), Some(reported)) => indicator
                .apply_verified(profile, reported, at.value)
                .map_or(reported.outcome.label(), |applied| applied.outcome.label()),
            (Some(profile), None) => {
                let empty = serde_json::Map::new();
                let base = indicator.evaluate(profile, &empty);
                indicator
                    .apply_verified(profile, &base, at.value)
                    .map_or(Outcome::NotMet.label(), |applied| applied.outcome.label())
            }
            (None, _) => "—",
        };
        lines.push(VerificationLine {
            indicator: indicator.id.clone(),
            title: indicator.title.clone(),
            area: indicator.area.label(),
            reported: reported_text,
            verified: at.value.describe(indicator),
            outcome,
            visit_id: at.visit_id,
            visited_on: at.visited_on.format("%Y-%m-%d").to_string(),
            differs: differs == Some(true),
            not_comparable: differs.is_none(),
        });
    }
    Ok(Verification {
        campaign_id,
        submitted: answers.is_some(),
        flagged: lines.iter().any(|line| line.differs),
        lines,
        tolerance: super::wording::percent(tolerance),
    })
}
