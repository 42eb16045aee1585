//! 通报: the county's circular of a round. Every school of the round with its grade (the round's
//! 综合评估, as its letter says), its unmet indicators, its overdue rectification items, and
//! whether it is named to be held responsible under the plan's 六.3 (严格责任追究), by the
//! rule of `[accountability]` in rating.toml (surveys/METHOD.md, `accountability`). As a page,
//! CSV (formula-safe) and XLSX.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use entity::{finding, rectification, rectification_event};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, TransactionTrait};
use serde::Serialize;

use super::{LetterError, china_today, content, round_evidence, unmet_indicators};
use crate::export::{Cell, CsvSheet, ExportError, Sheet, XlsxSheet};
use crate::rating::{AccountabilityRules, Plan};
use crate::results::wording::rating_text;

/// One school in the circular.
#[derive(Clone, Debug, Serialize)]
pub struct CircularRow {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
    pub score: String,
    pub grade: String,
    /// Unmet indicators, and their titles joined with 、.
    pub unmet_count: usize,
    pub unmet: String,
    /// The school's self-check in the round: 已提交, 未提交, 核查不符, or — when not asked.
    pub self_check: &'static str,
    /// The round's rectification items of the school, those overdue today, and those the
    /// school reported only after their deadline (lateness a report does not erase).
    pub items: usize,
    pub overdue: usize,
    pub reported_late: usize,
    /// The most days any item ran past its deadline ([`ItemState::days_late`]); 0 when none did.
    pub most_overdue_days: i64,
    pub accountable: bool,
    /// Why the school is to be held responsible, one sentence per rule that holds.
    pub reasons: Vec<String>,
}

/// The circular of a round.
#[derive(Clone, Debug, Serialize)]
pub struct Circular {
    pub campaign_id: i32,
    pub campaign_name: String,
    pub title: String,
    /// `2026年12月4日`.
    pub dated: String,
    pub issuer: String,
    /// Grade → schools, in the order of the bands and then the rest.
    pub grades: Vec<GradeCount>,
    pub schools: Vec<CircularRow>,
    /// The rule of the responsibility list, in words.
    pub rule: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct GradeCount {
    pub grade: String,
    pub schools: usize,
}

impl Circular {
    pub fn unmet_schools(&self) -> Vec<&CircularRow> {
        self.schools
            .iter()
            .filter(|row| row.unmet_count > 0)
            .collect()
    }

    /// Schools with an item overdue today or reported only after its deadline.
    pub fn overdue_schools(&self) -> Vec<&CircularRow> {
        self.schools
            .iter()
            .filter(|row| row.overdue + row.reported_late > 0)
            .collect()
    }

    pub fn accountable_schools(&self) -> Vec<&CircularRow> {
        self.schools.iter().filter(|row| row.accountable).collect()
    }
}

/// The school's self-check in the round, as the rule reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelfCheckState {
    /// The round's self-check campaign did not ask the school (or the round has none).
    NotAsked,
    /// Not sent, and the self-check campaign still takes answers: not yet a reason.
    Pending,
    /// Not sent by the time the self-check campaign closed.
    Missing,
    Submitted,
    /// Submitted, and a visit found it differs from what it verified.
    Mismatch,
}

impl SelfCheckState {
    pub fn label(self) -> &'static str {
        match self {
            SelfCheckState::NotAsked => "—",
            SelfCheckState::Pending => "尚未提交",
            SelfCheckState::Missing => "未提交",
            SelfCheckState::Submitted => "已提交",
            SelfCheckState::Mismatch => "核查不符",
        }
    }
}

/// What the rule reads of one school besides its items.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Standing<'a> {
    /// Its grade when it is rated and not provisional.
    pub grade: Option<&'a str>,
    pub not_met: usize,
    pub self_check: SelfCheckState,
}

/// An item as the rule reads it.
#[derive(Clone, Debug)]
pub struct ItemState {
    pub status: String,
    pub deadline: NaiveDate,
    /// Raised from a finding of severity `serious`.
    pub serious: bool,
    /// The China day of the school's latest progress report, if it has reported.
    pub reported_on: Option<NaiveDate>,
}

impl ItemState {
    /// Days past the deadline the school took (surveys/METHOD.md, `accountability`): while it
    /// still has to act, up to today; once it has reported (waiting or accepted), up to its
    /// latest report — so a report does not erase the lateness before it, and a returned
    /// report lets the days run on from the deadline again. Zero when on time.
    pub fn days_late(&self, today: NaiveDate) -> i64 {
        let until = match crate::rectification::Status::parse(&self.status) {
            Some(status) if status.waits_for_school() => Some(today),
            _ => self.reported_on,
        };
        until.map_or(0, |until| (until - self.deadline).num_days().max(0))
    }
}

/// The rule of `[accountability]` in words, for the page and the method.
pub fn rule_text(rules: &AccountabilityRules) -> Vec<String> {
    let mut lines = vec![format!(
        "怠慢滞后：有整改事项超过整改期限 {days} 天仍未完成（待整改或退回重改），或超过期限 {days} 天后才报告\
         整改（以最近一次报告之日计）。",
        days = rules.overdue_days
    )];
    if rules.serious_overdue {
        lines.push(
            "严重问题未整改：由“严重”问题提出的整改事项已逾期（含逾期后才报告的）。".to_owned(),
        );
    }
    lines.push(if rules.unmet_indicators > 0 {
        format!(
            "成效不明显：本轮综合评估为“{}”，且未达标指标至少 {} 项。",
            rules.grade, rules.unmet_indicators
        )
    } else {
        format!("成效不明显：本轮综合评估为“{}”。", rules.grade)
    });
    if rules.missing_self_check {
        lines.push("敷衍塞责：本轮学校自评表活动覆盖该校，活动结束时该校仍未提交。".to_owned());
    }
    if rules.verify_mismatch {
        lines.push("敷衍塞责：到校核查发现学校自评与核查结果不符（核查不符）。".to_owned());
    }
    lines
}

/// Why a school is to be held responsible (empty when it is not).
pub fn accountability_reasons(
    rules: &AccountabilityRules,
    standing: Standing<'_>,
    items: &[ItemState],
    today: NaiveDate,
) -> Vec<String> {
    let Standing {
        grade,
        not_met,
        self_check,
    } = standing;
    let mut reasons = Vec::new();
    let (long_open, long_reported) = items
        .iter()
        .filter(|item| item.days_late(today) > i64::from(rules.overdue_days))
        .fold((0, 0), |(open, reported), item| {
            if content::is_overdue(&item.status, item.deadline, today) {
                (open + 1, reported)
            } else {
                (open, reported + 1)
            }
        });
    if long_open > 0 {
        reasons.push(format!(
            "{long_open} 项整改事项逾期超过 {} 天",
            rules.overdue_days
        ));
    }
    if long_reported > 0 {
        reasons.push(format!(
            "{long_reported} 项整改事项逾期超过 {} 天才报告整改",
            rules.overdue_days
        ));
    }
    // A serious item counts once it ran past its deadline, reported since or not.
    let serious = items
        .iter()
        .filter(|item| item.serious && item.days_late(today) > 0)
        .count();
    if rules.serious_overdue && serious > 0 {
        reasons.push(format!("{serious} 项严重问题的整改事项逾期"));
    }
    if grade == Some(rules.grade.as_str()) && not_met >= rules.unmet_indicators as usize {
        reasons.push(if not_met > 0 {
            format!("综合评估为“{}”，未达标指标 {not_met} 项", rules.grade)
        } else {
            format!("综合评估为“{}”", rules.grade)
        });
    }
    if rules.missing_self_check && self_check == SelfCheckState::Missing {
        reasons.push("未提交本轮学校自评表".to_owned());
    }
    if rules.verify_mismatch && self_check == SelfCheckState::Mismatch {
        reasons.push("学校自评经到校核查不符".to_owned());
    }
    reasons
}

/// The China day of each item's latest progress report, by item id.
async fn latest_reports(
    db: &impl ConnectionTrait,
    item_ids: Vec<i32>,
) -> Result<BTreeMap<i32, NaiveDate>, DbErr> {
    let mut latest = BTreeMap::new();
    if item_ids.is_empty() {
        return Ok(latest);
    }
    let offset = crate::campaigns::china_offset();
    for event in rectification_event::Entity::find()
        .filter(rectification_event::Column::ItemId.is_in(item_ids))
        .filter(rectification_event::Column::Kind.eq("reported"))
        .all(db)
        .await?
    {
        let day = event.at.with_timezone(&offset).date_naive();
        let entry = latest.entry(event.item_id).or_insert(day);
        *entry = (*entry).max(day);
    }
    Ok(latest)
}

/// The circular of round `campaign_id`, today.
pub async fn circular(
    db: &(impl ConnectionTrait + TransactionTrait),
    plan: &Plan,
    campaign_id: i32,
) -> Result<Circular, LetterError> {
    let evidence = round_evidence(db, plan, campaign_id).await?;
    let today = china_today();
    let round = evidence
        .used
        .iter()
        .map(|(_, found)| found)
        .find(|found| found.campaign.id == campaign_id)
        .ok_or(LetterError::NotFound)?;

    let items = rectification::Entity::find()
        .filter(rectification::Column::CampaignId.eq(campaign_id))
        .all(db)
        .await?;
    let finding_ids: Vec<i32> = items.iter().filter_map(|item| item.finding_id).collect();
    let serious: BTreeSet<i32> = if finding_ids.is_empty() {
        BTreeSet::new()
    } else {
        finding::Entity::find()
            .filter(finding::Column::Id.is_in(finding_ids))
            .filter(finding::Column::Severity.eq("serious"))
            .all(db)
            .await?
            .into_iter()
            .map(|finding| finding.id)
            .collect()
    };
    let reported_on = latest_reports(db, items.iter().map(|item| item.id).collect()).await?;
    let mut by_school: BTreeMap<i32, Vec<ItemState>> = BTreeMap::new();
    for item in items {
        by_school
            .entry(item.school_id)
            .or_default()
            .push(ItemState {
                serious: item.finding_id.is_some_and(|id| serious.contains(&id)),
                reported_on: reported_on.get(&item.id).copied(),
                status: item.status,
                deadline: item.deadline,
            });
    }

    let rules = &plan.rules.accountability;
    let mut schools = Vec::new();
    for school in &round.schools {
        let row = evidence
            .table
            .schools
            .iter()
            .find(|row| row.school_id == school.id);
        let (score, grade, exact_grade) = match row {
            Some(row) => {
                let text = rating_text(&row.rating);
                let exact = row
                    .rating
                    .rated()
                    .filter(|rated| !rated.provisional)
                    .map(|rated| rated.grade.clone());
                (text.score, text.grade, exact)
            }
            None => ("—".to_owned(), "暂无可评定的内容".to_owned(), None),
        };
        let self_check_closed = evidence.self_check().is_some_and(|found| {
            crate::campaigns::availability(&found.campaign, chrono::Utc::now())
                == crate::campaigns::Availability::Closed
        });
        let indicators = evidence
            .self_check()
            .and_then(|found| unmet_indicators(found, school.id));
        let (unmet_count, unmet, self_check) =
            indicators.map_or((0, String::new(), SelfCheckState::NotAsked), |indicators| {
                let state = match (indicators.submitted, indicators.verify_mismatch) {
                    (false, _) if self_check_closed => SelfCheckState::Missing,
                    (false, _) => SelfCheckState::Pending,
                    (true, true) => SelfCheckState::Mismatch,
                    (true, false) => SelfCheckState::Submitted,
                };
                (
                    indicators.unmet.len(),
                    indicators
                        .unmet
                        .iter()
                        .map(|unmet| unmet.title.as_str())
                        .collect::<Vec<_>>()
                        .join("、"),
                    state,
                )
            });
        let states = by_school.remove(&school.id).unwrap_or_default();
        let overdue = states
            .iter()
            .filter(|item| content::is_overdue(&item.status, item.deadline, today))
            .count();
        let late = states
            .iter()
            .filter(|item| item.days_late(today) > 0)
            .count();
        let standing = Standing {
            grade: exact_grade.as_deref(),
            not_met: unmet_count,
            self_check,
        };
        let reasons = accountability_reasons(rules, standing, &states, today);
        schools.push(CircularRow {
            school_id: school.id,
            code: school.code.clone(),
            name: school.name.clone(),
            township: school.township.clone(),
            score,
            grade,
            unmet_count,
            unmet,
            self_check: self_check.label(),
            items: states.len(),
            overdue,
            reported_late: late - overdue,
            most_overdue_days: states
                .iter()
                .map(|item| item.days_late(today))
                .max()
                .unwrap_or(0),
            accountable: !reasons.is_empty(),
            reasons,
        });
    }
    let mut grades: Vec<GradeCount> = plan
        .rules
        .bands
        .iter()
        .map(|band| GradeCount {
            grade: band.grade.clone(),
            schools: schools.iter().filter(|row| row.grade == band.grade).count(),
        })
        .collect();
    let banded: usize = grades.iter().map(|count| count.schools).sum();
    if banded < schools.len() {
        grades.push(GradeCount {
            grade: "待定或暂不评定".to_owned(),
            schools: schools.len() - banded,
        });
    }
    Ok(Circular {
        campaign_id,
        campaign_name: evidence.campaign.name.clone(),
        title: format!("关于{}督导评估情况的通报", evidence.campaign.name),
        dated: content::dated(today),
        issuer: content::ISSUER.to_owned(),
        grades,
        schools,
        rule: rule_text(rules),
    })
}

const HEADER: [&str; 14] = [
    "学校代码",
    "学校名称",
    "乡镇",
    "综合得分",
    "等级",
    "未达标指标数",
    "未达标指标",
    "整改事项数",
    "逾期事项数",
    "逾期后才报告的事项数",
    "最长逾期天数",
    "列入责任追究",
    "理由",
    "学校自评",
];

fn rows(circular: &Circular) -> impl Iterator<Item = Vec<Cell>> + '_ {
    circular.schools.iter().map(|row| {
        vec![
            Cell::text(&row.code),
            Cell::text(&row.name),
            Cell::text(&row.township),
            Cell::text(&row.score),
            Cell::text(&row.grade),
            Cell::Number(row.unmet_count as f64),
            Cell::text(&row.unmet),
            Cell::Number(row.items as f64),
            Cell::Number(row.overdue as f64),
            Cell::Number(row.reported_late as f64),
            Cell::Number(row.most_overdue_days as f64),
            Cell::text(if row.accountable { "是" } else { "否" }),
            Cell::text(row.reasons.join("；")),
            Cell::text(row.self_check),
        ]
    })
}

fn write(circular: &Circular, sheet: &mut impl Sheet) -> Result<(), ExportError> {
    sheet.write_row(&HEADER.map(Cell::text))?;
    for row in rows(circular) {
        sheet.write_row(&row)?;
    }
    Ok(())
}

/// The circular as CSV: UTF-8 with BOM, every text cell neutralised.
pub fn csv(circular: &Circular) -> Result<Vec<u8>, ExportError> {
    let mut sheet = CsvSheet::in_chunks()?;
    write(circular, &mut sheet)?;
    sheet.take_bytes()
}

/// The circular as an XLSX workbook (CPU and a temporary file: call off the async threads).
pub fn xlsx(circular: &Circular) -> Result<Vec<u8>, ExportError> {
    let mut sheet = XlsxSheet::new("通报")?;
    write(circular, &mut sheet)?;
    let mut file = sheet.finish()?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rules without the two self-check reasons.
    fn lenient() -> AccountabilityRules {
        AccountabilityRules {
            missing_self_check: false,
            verify_mismatch: false,
            ..AccountabilityRules::default()
        }
    }

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a day")
    }

    fn item(status: &str, deadline: &str, serious: bool) -> ItemState {
        ItemState {
            status: status.to_owned(),
            deadline: day(deadline),
            serious,
            reported_on: None,
        }
    }

    fn standing(grade: Option<&'static str>, not_met: usize) -> Standing<'static> {
        Standing {
            grade,
            not_met,
            self_check: SelfCheckState::Submitted,
        }
    }

    #[test]
    fn a_school_that_sent_no_self_check_or_was_caught_over_reporting_is_named() {
        let rules = AccountabilityRules::default();
        let today = day("2026-12-31");
        let with = |self_check| Standing {
            self_check,
            ..standing(None, 0)
        };
        assert_eq!(
            accountability_reasons(&rules, with(SelfCheckState::Missing), &[], today),
            vec!["未提交本轮学校自评表"]
        );
        assert_eq!(
            accountability_reasons(&rules, with(SelfCheckState::Mismatch), &[], today),
            vec!["学校自评经到校核查不符"]
        );
        assert!(
            accountability_reasons(&rules, with(SelfCheckState::NotAsked), &[], today).is_empty()
        );
        let lenient = lenient();
        assert!(
            accountability_reasons(&lenient, with(SelfCheckState::Missing), &[], today).is_empty()
        );
        assert!(
            accountability_reasons(&lenient, with(SelfCheckState::Mismatch), &[], today).is_empty()
        );
        assert_eq!(rule_text(&rules).len(), 5);
    }

    fn reported(status: &str, deadline: &str, on: &str) -> ItemState {
        ItemState {
            reported_on: Some(day(on)),
            ..item(status, deadline, false)
        }
    }

    #[test]
    fn a_late_report_keeps_its_lateness_and_a_returned_one_lets_the_days_run_on() {
        let rules = AccountabilityRules::default();
        let today = day("2026-12-31");
        // Reported 31 days late, the day before the circular: still named, accepted or not.
        for status in ["reported", "accepted"] {
            assert_eq!(
                accountability_reasons(
                    &rules,
                    standing(Some("良好"), 0),
                    &[reported(status, "2026-11-29", "2026-12-30")],
                    today
                ),
                vec!["1 项整改事项逾期超过 30 天才报告整改"],
                "{status}"
            );
        }
        // Reported 30 days late is not more than 30.
        assert!(
            accountability_reasons(
                &rules,
                standing(Some("良好"), 0),
                &[reported("accepted", "2026-11-29", "2026-12-29")],
                today
            )
            .is_empty()
        );
        // On time, then returned: the days run from the deadline to today.
        let returned = reported("returned", "2026-11-20", "2026-11-19");
        assert_eq!(returned.days_late(today), 41);
        assert_eq!(
            accountability_reasons(&rules, standing(Some("良好"), 0), &[returned], today),
            vec!["1 项整改事项逾期超过 30 天"]
        );
        assert_eq!(
            reported("accepted", "2026-11-20", "2026-11-02").days_late(today),
            0
        );
    }

    #[test]
    fn a_school_is_named_for_long_overdue_items_serious_ones_or_a_failing_grade_with_unmet_indicators()
     {
        let rules = AccountabilityRules::default();
        let today = day("2026-12-31");
        // 30 days past is not yet more than 30.
        assert!(
            accountability_reasons(
                &rules,
                standing(Some("良好"), 0),
                &[item("open", "2026-12-01", false)],
                today
            )
            .is_empty()
        );
        assert_eq!(
            accountability_reasons(
                &rules,
                standing(Some("良好"), 0),
                &[item("returned", "2026-11-30", false)],
                today
            ),
            vec!["1 项整改事项逾期超过 30 天"]
        );
        // Reported or accepted items are with the supervisors, not overdue (reported on time).
        assert!(
            accountability_reasons(
                &rules,
                standing(None, 3),
                &[reported("reported", "2026-01-01", "2026-01-01")],
                today
            )
            .is_empty()
        );
        assert_eq!(
            accountability_reasons(
                &rules,
                standing(None, 0),
                &[item("open", "2026-12-30", true)],
                today
            ),
            vec!["1 项严重问题的整改事项逾期"]
        );
        assert_eq!(
            accountability_reasons(&rules, standing(Some("不合格"), 2), &[], today),
            vec!["综合评估为“不合格”，未达标指标 2 项"]
        );
        assert!(accountability_reasons(&rules, standing(Some("不合格"), 0), &[], today).is_empty());
        assert_eq!(rule_text(&lenient()).len(), 3);
    }

    #[test]
    fn the_csv_neutralises_formulas_and_the_xlsx_is_a_zip() {
        let circular = Circular {
            campaign_id: 1,
            campaign_name: "x".to_owned(),
            title: "t".to_owned(),
            dated: String::new(),
            issuer: String::new(),
            grades: Vec::new(),
            rule: Vec::new(),
            schools: vec![CircularRow {
                school_id: 1,
                code: "=HYPERLINK(\"x\")".to_owned(),
                name: "@甲".to_owned(),
                township: "镇".to_owned(),
                score: "80.0".to_owned(),
                grade: "良好".to_owned(),
                unmet_count: 0,
                unmet: String::new(),
                self_check: "已提交",
                items: 1,
                overdue: 1,
                reported_late: 0,
                most_overdue_days: 3,
                accountable: false,
                reasons: Vec::new(),
            }],
        };
        let text = String::from_utf8(csv(&circular).expect("csv")).expect("utf-8");
        assert!(text.starts_with("\u{feff}学校代码,"), "{text}");
        assert!(
            text.contains("\"'=HYPERLINK(\"\"x\"\")\",'@甲,镇"),
            "{text}"
        );
        assert!(xlsx(&circular).expect("xlsx").starts_with(b"PK\x03\x04"));
    }
}
