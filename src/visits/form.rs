//! The visit form as typed → a checked [`NewVisit`], or every error naming its field. Pure: the
//! checklist, the rounds one may pick and today's date are given.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use serde::Serialize;

use crate::rating::visits::{Checklist, ItemAnswer, VisitKind};
use crate::survey::Area;

/// Finding rows the form offers (more are read when sent, up to [`MAX_FINDINGS`]).
pub const FINDING_ROWS: usize = 3;
/// The most finding rows one visit form may carry.
pub const MAX_FINDINGS: usize = 20;
const MAX_TEXT_CHARS: usize = 2000;
const MAX_TEAM_CHARS: usize = 200;

/// 符合 / 不符合 / 不适用.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    Met,
    NotMet,
    NotApplicable,
}

impl Judgement {
    pub const ALL: [Judgement; 3] = [Judgement::Met, Judgement::NotMet, Judgement::NotApplicable];

    pub fn slug(self) -> &'static str {
        match self {
            Judgement::Met => "met",
            Judgement::NotMet => "not_met",
            Judgement::NotApplicable => "not_applicable",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Judgement::Met => "符合",
            Judgement::NotMet => "不符合",
            Judgement::NotApplicable => "不适用",
        }
    }

    pub fn parse(slug: &str) -> Option<Judgement> {
        Judgement::ALL.into_iter().find(|one| one.slug() == slug)
    }
}

/// How serious a finding is (`minor` 一般, `major` 较重, `serious` 严重).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Minor,
    Major,
    Serious,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::Minor, Severity::Major, Severity::Serious];

    pub fn slug(self) -> &'static str {
        match self {
            Severity::Minor => "minor",
            Severity::Major => "major",
            Severity::Serious => "serious",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Severity::Minor => "一般",
            Severity::Major => "较重",
            Severity::Serious => "严重",
        }
    }

    pub fn parse(slug: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|one| one.slug() == slug)
    }
}

/// Whom a 座谈了解 met.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupMet {
    Parents,
    Teachers,
    Students,
}

impl GroupMet {
    pub const ALL: [GroupMet; 3] = [GroupMet::Parents, GroupMet::Teachers, GroupMet::Students];

    pub fn slug(self) -> &'static str {
        match self {
            GroupMet::Parents => "parents",
            GroupMet::Teachers => "teachers",
            GroupMet::Students => "students",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            GroupMet::Parents => "家长",
            GroupMet::Teachers => "教师",
            GroupMet::Students => "学生",
        }
    }

    pub fn parse(slug: &str) -> Option<GroupMet> {
        GroupMet::ALL.into_iter().find(|one| one.slug() == slug)
    }
}

/// One checklist item answered.
#[derive(Clone, Debug, PartialEq)]
pub struct NewCheck {
    pub item_id: String,
    pub judgement: Option<Judgement>,
    pub number: Option<f64>,
    pub note: Option<String>,
}

/// One finding, with the form row it came from (its photo's field is named after the row).
#[derive(Clone, Debug, PartialEq)]
pub struct NewFinding {
    pub row: usize,
    pub area: Area,
    pub severity: Severity,
    pub text: String,
}

/// A visit as checked, ready to be recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct NewVisit {
    pub kind: VisitKind,
    pub campaign_id: Option<i32>,
    pub checklist: Option<String>,
    pub visited_on: NaiveDate,
    pub team: String,
    /// For 座谈了解: whom, and how many.
    pub group: Option<(GroupMet, i32)>,
    pub notes: Option<String>,
    pub checks: Vec<NewCheck>,
    pub findings: Vec<NewFinding>,
}

/// What is wrong with one field, in words for the supervisor at the school gate.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// The form as typed: its text fields, and the names of the file fields that carried a file.
#[derive(Clone, Debug, Default)]
pub struct VisitForm {
    pub fields: BTreeMap<String, String>,
    pub photos: BTreeSet<String>,
}

impl VisitForm {
    pub fn new(fields: Vec<(String, String)>, photos: BTreeSet<String>) -> VisitForm {
        VisitForm {
            fields: fields.into_iter().collect(),
            photos,
        }
    }

    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", |value| value.trim())
    }
}

/// The field of an item's judgement, number, note and photo.
pub fn item_field(item: &str) -> String {
    format!("item_{item}")
}
pub fn number_field(item: &str) -> String {
    format!("number_{item}")
}
pub fn note_field(item: &str) -> String {
    format!("note_{item}")
}
pub fn photo_field(item: &str) -> String {
    format!("photo_{item}")
}
/// `finding_2_text`, `finding_2_photo`…
pub fn finding_field(row: usize, part: &str) -> String {
    format!("finding_{row}_{part}")
}

/// A number as typed on a phone: `12`, `12.5`, `１２`, `12,5`.
pub fn parse_number(text: &str) -> Option<f64> {
    let normal: String = text
        .trim()
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32).unwrap_or(c),
            '．' | ',' | '，' => '.',
            other => other,
        })
        .collect();
    normal.parse::<f64>().ok().filter(|value| value.is_finite())
}

fn optional_text(text: &str) -> Option<String> {
    let text = text.trim();
    (!text.is_empty()).then(|| text.chars().take(MAX_TEXT_CHARS).collect())
}

/// Checks the typed form. `checklist` is the one named by the form (already looked up; `None`
/// for a visit without one), `campaigns` the rounds one may pick, `today` China's date.
pub fn parse_visit(
    form: &VisitForm,
    checklist: Option<&Checklist>,
    campaigns: &[i32],
    today: NaiveDate,
) -> Result<NewVisit, Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut refuse = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        })
    };

    let kind = VisitKind::parse(form.get("kind"));
    if kind.is_none() {
        refuse(
            "kind",
            "督导方式：请选择重点督查、专项督查、随机走访或座谈了解".to_owned(),
        );
    }
    let campaign_id = match form.get("campaign") {
        "" => None,
        text => match text.parse::<i32>() {
            Ok(id) if campaigns.contains(&id) => Some(id),
            _ => {
                refuse("campaign", "督导轮次：请从列表中选择".to_owned());
                None
            }
        },
    };
    let visited_on = match form.get("visited_on") {
        "" => {
            refuse("visited_on", "走访日期：请填写".to_owned());
            None
        }
        text => match NaiveDate::parse_from_str(text, "%Y-%m-%d") {
            Ok(date) if date > today => {
                refuse(
                    "visited_on",
                    format!("走访日期：{date} 晚于今天，请填写实际走访的日期"),
                );
                None
            }
            Ok(date) => Some(date),
            Err(_) => {
                refuse(
                    "visited_on",
                    "走访日期：格式不对，请按 2026-12-04 的样子填写".to_owned(),
                );
                None
            }
        },
    };
    let team = form.get("team");
    if team.is_empty() {
        refuse("team", "督导组成员：请填写".to_owned());
    } else if team.chars().count() > MAX_TEAM_CHARS {
        refuse("team", format!("督导组成员：最多 {MAX_TEAM_CHARS} 个字"));
    }

    let group = if kind == Some(VisitKind::Interview) {
        let met = GroupMet::parse(form.get("group_met"));
        if met.is_none() {
            refuse("group_met", "座谈对象：请选择家长、教师或学生".to_owned());
        }
        let size = match form.get("group_size") {
            "" => {
                refuse("group_size", "座谈人数：请填写".to_owned());
                None
            }
            text => match parse_number(text) {
                Some(size) if (1.0..=10_000.0).contains(&size) && size.fract() == 0.0 => {
                    Some(size as i32)
                }
                _ => {
                    refuse(
                        "group_size",
                        format!("座谈人数：“{text}”不是人数，请填写 1 以上的整数"),
                    );
                    None
                }
            },
        };
        met.zip(size)
    } else {
        None
    };

    let mut checks = Vec::new();
    if let Some(checklist) = checklist {
        for (index, item) in checklist.items.iter().enumerate() {
            let here = format!("第 {} 项 {}", index + 1, item.text);
            let note = optional_text(form.get(&note_field(&item.id)));
            match &item.answer {
                ItemAnswer::Judgement => match Judgement::parse(form.get(&item_field(&item.id))) {
                    Some(judgement) => checks.push(NewCheck {
                        item_id: item.id.clone(),
                        judgement: Some(judgement),
                        number: None,
                        note,
                    }),
                    None => refuse(
                        &item_field(&item.id),
                        format!("{here}：请选择符合/不符合/不适用"),
                    ),
                },
                ItemAnswer::Number { .. } => match form.get(&number_field(&item.id)) {
                    "" => refuse(&number_field(&item.id), format!("{here}：请填写数字")),
                    text => match parse_number(text) {
                        Some(number) if number >= 0.0 => checks.push(NewCheck {
                            item_id: item.id.clone(),
                            judgement: None,
                            number: Some(number),
                            note,
                        }),
                        _ => refuse(
                            &number_field(&item.id),
                            format!("{here}：“{text}”不是数字，请填写 0 或更大的数"),
                        ),
                    },
                },
                ItemAnswer::Photo => {
                    if form.photos.contains(&photo_field(&item.id)) {
                        checks.push(NewCheck {
                            item_id: item.id.clone(),
                            judgement: None,
                            number: None,
                            note,
                        });
                    } else {
                        refuse(&photo_field(&item.id), format!("{here}：请拍照上传"));
                    }
                }
            }
        }
    }

    let mut findings = Vec::new();
    for row in 1..=MAX_FINDINGS {
        let area_text = form.get(&finding_field(row, "area"));
        let severity_text = form.get(&finding_field(row, "severity"));
        let text = form.get(&finding_field(row, "text"));
        let has_photo = form.photos.contains(&finding_field(row, "photo"));
        if area_text.is_empty() && text.is_empty() && !has_photo {
            // An empty row (its severity keeps the form's default): nothing found.
            continue;
        }
        let here = format!("第 {row} 条问题");
        let area = Area::parse(area_text).filter(|area| *area != Area::Overall);
        if area.is_none() {
            refuse(
                &finding_field(row, "area"),
                format!("{here}：请选择所属领域"),
            );
        }
        let severity = Severity::parse(severity_text);
        if severity.is_none() {
            refuse(
                &finding_field(row, "severity"),
                format!("{here}：请选择严重程度（一般、较重或严重）"),
            );
        }
        if text.is_empty() {
            refuse(
                &finding_field(row, "text"),
                format!("{here}：请写明发现的问题"),
            );
        }
        if let (Some(area), Some(severity), false) = (area, severity, text.is_empty()) {
            findings.push(NewFinding {
                row,
                area,
                severity,
                text: text.chars().take(MAX_TEXT_CHARS).collect(),
            });
        }
    }

    match (kind, visited_on) {
        (Some(kind), Some(visited_on)) if errors.is_empty() => Ok(NewVisit {
            kind,
            campaign_id,
            checklist: checklist.map(|checklist| checklist.id.clone()),
            visited_on,
            team: team.to_owned(),
            group,
            notes: optional_text(form.get("notes")),
            checks,
            findings,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rating::visits::ChecklistItem;

    fn checklist() -> Checklist {
        let item = |id: &str, text: &str, answer: ItemAnswer| ChecklistItem {
            id: id.to_owned(),
            area: Area::EducationStages,
            text: text.to_owned(),
            help: None,
            answer,
            indicator: None,
        };
        Checklist {
            id: "random_visit".to_owned(),
            title: "随机走访".to_owned(),
            kind: VisitKind::RandomVisit,
            intro: None,
            items: vec![
                item("water", "饮水", ItemAnswer::Judgement),
                item("count", "人数", ItemAnswer::Number { unit: None }),
                item("toilets", "厕所", ItemAnswer::Judgement),
                item("yard", "操场", ItemAnswer::Photo),
            ],
            file: Default::default(),
        }
    }

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 4).expect("a date")
    }

    fn form(fields: &[(&str, &str)], photos: &[&str]) -> VisitForm {
        VisitForm::new(
            fields
                .iter()
                .map(|(name, value)| (name.to_string(), value.to_string()))
                .collect(),
            photos.iter().map(|name| name.to_string()).collect(),
        )
    }

    #[test]
    fn a_complete_form_becomes_a_visit_with_its_checks_and_findings() {
        let typed = form(
            &[
                ("kind", "random_visit"),
                ("campaign", "7"),
                ("visited_on", "2026-12-03"),
                ("team", "张三、李四"),
                ("item_water", "met"),
                ("number_count", "１２"),
                ("item_toilets", "not_met"),
                ("note_toilets", "蹲位不够"),
                ("finding_1_area", "nutrition"),
                ("finding_1_severity", "major"),
                ("finding_1_text", "食堂无留样"),
                ("finding_2_severity", "minor"),
            ],
            &["photo_yard"],
        );
        let visit = parse_visit(&typed, Some(&checklist()), &[7], today()).expect("valid");
        assert_eq!(visit.campaign_id, Some(7));
        assert_eq!(visit.checks.len(), 4);
        assert_eq!(visit.checks[1].number, Some(12.0));
        assert_eq!(visit.checks[2].note.as_deref(), Some("蹲位不够"));
        assert_eq!(visit.findings.len(), 1, "an empty row is nothing found");
        assert_eq!(visit.findings[0].severity, Severity::Major);
    }

    #[test]
    fn every_error_names_its_field_and_item() {
        let typed = form(
            &[
                ("kind", "random_visit"),
                ("visited_on", "2026-12-05"),
                ("team", ""),
                ("item_water", "met"),
                ("number_count", "十二"),
                ("finding_1_text", "食堂无留样"),
            ],
            &[],
        );
        let errors = parse_visit(&typed, Some(&checklist()), &[], today()).expect_err("refused");
        let messages: Vec<&str> = errors.iter().map(|error| error.message.as_str()).collect();
        assert!(
            messages.contains(&"第 3 项 厕所：请选择符合/不符合/不适用"),
            "{messages:?}"
        );
        assert!(messages.iter().any(|m| m.contains("晚于今天")));
        assert!(messages.iter().any(|m| m.contains("“十二”不是数字")));
        assert!(messages.contains(&"第 4 项 操场：请拍照上传"));
        assert!(messages.contains(&"督导组成员：请填写"));
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("第 1 条问题：请选择所属领域"))
        );
    }

    #[test]
    fn an_interview_needs_whom_and_how_many() {
        let typed = form(
            &[
                ("kind", "interview"),
                ("visited_on", "2026-12-04"),
                ("team", "王五"),
                ("group_met", "parents"),
                ("group_size", "2.5"),
            ],
            &[],
        );
        let errors = parse_visit(&typed, None, &[], today()).expect_err("refused");
        assert_eq!(errors[0].field, "group_size");
        let typed = form(
            &[
                ("kind", "interview"),
                ("visited_on", "2026-12-04"),
                ("team", "王五"),
                ("group_met", "parents"),
                ("group_size", "8"),
            ],
            &[],
        );
        let visit = parse_visit(&typed, None, &[], today()).expect("valid");
        assert_eq!(visit.group, Some((GroupMet::Parents, 8)));
    }
}
