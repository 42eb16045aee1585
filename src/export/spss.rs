//! The answers export as an SPSS system file (`.sav`, written by `sav.rs`): one case per
//! included answer, read through the same pages and the same anonymity rules as the CSV
//! ([`super::AnswerRows::listed`]).
//!
//! Variables: the school (code, name, township, kind, key village, central school), for every
//! survey but the teachers' the answer's id, day and duration; then one variable per question —
//! a matrix gives one per statement and a multiple choice one 0/1 variable per option, grouped
//! in a multiple-response set. Names come from the question ids, labels from the texts, value
//! labels from the options. A question not shown to the respondent (its `show_if` did not
//! hold) holds a user-missing code labelled 不适用; one shown and left blank is system-missing.

use std::collections::HashSet;

use serde_json::Value;

use super::answers::{AnswerExport, StoredAnswer};
use super::sav::{
    Datum, DichotomySet, Dictionary, MAX_STRING, Measure, SavWriter, VarType, Variable, spss_date,
};
use super::{Export, ExportError, Page, Values};
use crate::school_kind::SchoolKind;
use crate::survey::{Question, QuestionKind, ShowIf, Survey};
use entity::school;

/// The code of a question that was not shown, declared missing.
const NOT_SHOWN: f64 = -1.0;
const NOT_SHOWN_LABEL: &str = "不适用（未显示此题）";
/// Names SPSS keeps for itself.
const RESERVED: [&str; 13] = [
    "ALL", "AND", "BY", "EQ", "GE", "GT", "LE", "LT", "NE", "NOT", "OR", "TO", "WITH",
];

/// How one variable takes its value from an answer.
#[derive(Clone, Debug)]
enum Source {
    AnswerId,
    SchoolCode,
    SchoolName,
    Township,
    SchoolKind,
    KeyVillage,
    Central,
    Day,
    Seconds,
    /// A single choice, scale or yes/no: the option's value by its code.
    Choice {
        slot: usize,
        values: Vec<(String, f64)>,
    },
    /// A matrix statement.
    Row {
        slot: usize,
        row: String,
        values: Vec<(String, f64)>,
    },
    /// One option of a multiple choice: 1 when chosen.
    Chosen {
        slot: usize,
        code: String,
    },
    /// A 0–10 rating or a number.
    Number {
        slot: usize,
        not_shown: f64,
    },
    Text {
        slot: usize,
    },
}

/// A variable and where its value comes from, with the condition of its question.
#[derive(Clone, Debug)]
struct Column {
    source: Source,
    show_if: Option<(usize, ShowIf)>,
}

/// The answers of one campaign as a system file, opened.
pub struct SpssExport {
    export: Export,
    dictionary: Dictionary,
    columns: Vec<Column>,
}

impl SpssExport {
    pub async fn open(
        db: &impl sea_orm::ConnectionTrait,
        campaign_id: i32,
    ) -> Result<SpssExport, ExportError> {
        let answers = AnswerExport::open(db, campaign_id, Values::Codes).await?;
        let rows = answers.converter();
        let widest = |field: fn(&school::Model) -> &String| {
            rows.schools()
                .map(|school| field(school).len())
                .max()
                .unwrap_or(1)
                .clamp(1, MAX_STRING)
        };
        let widths = [
            widest(|school| &school.code),
            widest(|school| &school.name),
            widest(|school| &school.township),
        ];
        let (dictionary, columns) = layout(
            &answers.survey,
            answers.campaign_name(),
            rows.anonymous(),
            widths,
        );
        Ok(SpssExport {
            export: Export::Answers(answers),
            dictionary,
            columns,
        })
    }

    pub fn campaign_name(&self) -> &str {
        self.export.campaign_name()
    }

    /// Writes the file into `out`, calling `page_done` after the dictionary and after each page
    /// (a caller streaming the bytes sends them on there, and returns `false` once nobody reads
    /// them); gives `out` back with the number of cases.
    pub async fn write<W, P>(
        self,
        db: &impl sea_orm::ConnectionTrait,
        out: W,
        page_done: P,
    ) -> Result<(u64, W), ExportError>
    where
        W: std::io::Write + Send + 'static,
        P: Fn(&mut W) -> Result<bool, ExportError> + Send + Sync + 'static,
    {
        let SpssExport {
            export,
            dictionary,
            columns,
        } = self;
        let rows = match &export {
            Export::Answers(answers) => answers.converter(),
            Export::Aggregates(_) | Export::Summaries(_) => {
                return Err(ExportError::Io(std::io::Error::other("not answers")));
            }
        };
        let page_done = std::sync::Arc::new(page_done);
        let after_page = page_done.clone();
        let state: Option<SavWriter<W>> = None;
        let writer = export
            .consume_pages(
                db,
                (state, Some(out)),
                move |(writer, out)| {
                    let Some(out) = out.take() else {
                        return Ok(false);
                    };
                    let mut sav = SavWriter::new(out, &dictionary)?;
                    let going = page_done(sav.get_mut())?;
                    *writer = Some(sav);
                    Ok(going)
                },
                move |(writer, _), page| {
                    let (Some(sav), Page::Answers(page)) = (writer.as_mut(), page) else {
                        return Ok(true);
                    };
                    for (answer, school) in rows.listed(&page) {
                        let slots = rows.parse(answer.answers);
                        let texts = case(&columns, &answer, school, &slots);
                        let data: Vec<Datum> = texts.iter().map(CaseValue::datum).collect();
                        sav.write_case(&data)?;
                    }
                    after_page(sav.get_mut())
                },
            )
            .await?;
        match writer {
            (Some(sav), _) => {
                let cases = sav.cases();
                let out = tokio::task::spawn_blocking(move || sav.finish())
                    .await
                    .map_err(|error| ExportError::Io(std::io::Error::other(error)))??;
                Ok((cases, out))
            }
            (None, Some(out)) => Ok((0, out)),
            (None, None) => Err(ExportError::Io(std::io::Error::other(
                "the file was not begun",
            ))),
        }
    }
}

/// A value of a case, owning its text.
enum CaseValue {
    Number(f64),
    Missing,
    Text(String),
}

impl CaseValue {
    fn datum(&self) -> Datum<'_> {
        match self {
            CaseValue::Number(number) => Datum::Number(*number),
            CaseValue::Missing => Datum::Missing,
            CaseValue::Text(text) => Datum::Text(text),
        }
    }
}

/// Whether the question with `show_if` was shown, given the answer's slots.
fn shown(show_if: &Option<(usize, ShowIf)>, slots: &[Option<Value>]) -> bool {
    let Some((slot, condition)) = show_if else {
        return true;
    };
    match slots.get(*slot).and_then(Option::as_ref) {
        Some(Value::String(code)) => condition.any_of.contains(code),
        Some(Value::Array(codes)) => codes
            .iter()
            .filter_map(Value::as_str)
            .any(|code| condition.any_of.iter().any(|wanted| wanted == code)),
        _ => false,
    }
}

fn number_of(value: &Value) -> Option<f64> {
    match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse().ok(),
        _ => None,
    }
}

fn case(
    columns: &[Column],
    answer: &StoredAnswer,
    school: Option<&school::Model>,
    slots: &[Option<Value>],
) -> Vec<CaseValue> {
    let text = |field: fn(&school::Model) -> &String| {
        school.map_or(CaseValue::Missing, |school| {
            CaseValue::Text(field(school).clone())
        })
    };
    let flag = |field: fn(&school::Model) -> bool| {
        school.map_or(CaseValue::Missing, |school| {
            CaseValue::Number(f64::from(u8::from(field(school))))
        })
    };
    columns
        .iter()
        .map(|column| {
            let is_shown = shown(&column.show_if, slots);
            let value_of = |slot: &usize| slots.get(*slot).and_then(Option::as_ref);
            match &column.source {
                Source::AnswerId => CaseValue::Number(answer.id as f64),
                Source::SchoolCode => text(|school| &school.code),
                Source::SchoolName => text(|school| &school.name),
                Source::Township => text(|school| &school.township),
                Source::SchoolKind => school
                    .and_then(|school| SchoolKind::parse(&school.kind))
                    .and_then(|kind| SchoolKind::ALL.iter().position(|known| *known == kind))
                    .map_or(CaseValue::Missing, |at| CaseValue::Number(at as f64 + 1.0)),
                Source::KeyVillage => flag(|school| school.is_key_village),
                Source::Central => flag(|school| school.is_central),
                Source::Day => {
                    let china = answer.submitted_at + chrono::Duration::hours(8);
                    CaseValue::Number(spss_date(china.date_naive()))
                }
                Source::Seconds => answer.duration_ms.map_or(CaseValue::Missing, |ms| {
                    CaseValue::Number((ms as f64 / 1000.0).round())
                }),
                _ if !is_shown => match &column.source {
                    Source::Text { .. } => CaseValue::Missing,
                    Source::Number { not_shown, .. } => CaseValue::Number(*not_shown),
                    _ => CaseValue::Number(NOT_SHOWN),
                },
                Source::Choice { slot, values } => match value_of(slot) {
                    Some(Value::String(code)) => values
                        .iter()
                        .find(|(known, _)| known == code)
                        .map_or(CaseValue::Missing, |(_, value)| CaseValue::Number(*value)),
                    _ => CaseValue::Missing,
                },
                Source::Row { slot, row, values } => match value_of(slot) {
                    Some(Value::Object(rows)) => rows
                        .get(row)
                        .and_then(Value::as_str)
                        .and_then(|code| values.iter().find(|(known, _)| known == code))
                        .map_or(CaseValue::Missing, |(_, value)| CaseValue::Number(*value)),
                    _ => CaseValue::Missing,
                },
                Source::Chosen { slot, code } => {
                    let chosen = match value_of(slot) {
                        Some(Value::Array(codes)) => {
                            codes.iter().any(|item| item.as_str() == Some(code))
                        }
                        Some(Value::String(single)) => single == code,
                        _ => false,
                    };
                    CaseValue::Number(f64::from(u8::from(chosen)))
                }
                Source::Number { slot, .. } => value_of(slot)
                    .and_then(number_of)
                    .map_or(CaseValue::Missing, CaseValue::Number),
                Source::Text { slot } => match value_of(slot) {
                    Some(Value::String(text)) if !text.is_empty() => CaseValue::Text(text.clone()),
                    Some(Value::Number(number)) => CaseValue::Text(number.to_string()),
                    _ => CaseValue::Missing,
                },
            }
        })
        .collect()
}

/// Names as SPSS takes them: letters, digits, `_` and `.`, a letter first, not ending in `.`,
/// at most 64 bytes, not a reserved word, unique without regard to case.
struct Names(HashSet<String>);

impl Names {
    fn take(&mut self, wanted: &str) -> String {
        let mut name: String = wanted
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            name.insert(0, 'Q');
        }
        while name.ends_with('.') {
            name.pop();
        }
        if RESERVED.contains(&name.to_ascii_uppercase().as_str()) {
            name.push('_');
        }
        name.truncate(64);
        let mut unique = name.clone();
        let mut n = 2;
        while self.0.contains(&unique.to_ascii_uppercase()) {
            let suffix = format!("_{n}");
            unique = format!("{}{suffix}", &name[..name.len().min(64 - suffix.len())]);
            n += 1;
        }
        self.0.insert(unique.to_ascii_uppercase());
        unique
    }
}

fn variable(name: String, label: &str, kind: VarType, measure: Measure) -> Variable {
    Variable {
        name,
        label: label.to_owned(),
        kind,
        measure,
        value_labels: Vec::new(),
        missing: Vec::new(),
    }
}

/// The dictionary of a survey's answers, and where each variable's value comes from.
fn layout(
    survey: &Survey,
    campaign_name: &str,
    anonymous: bool,
    [code_width, name_width, township_width]: [usize; 3],
) -> (Dictionary, Vec<Column>) {
    let mut names = Names(HashSet::new());
    let mut variables = Vec::new();
    let mut columns = Vec::new();
    let mut sets = Vec::new();
    let mut push = |variables: &mut Vec<Variable>,
                    var: Variable,
                    source: Source,
                    show_if: Option<(usize, ShowIf)>| {
        variables.push(var);
        columns.push(Column { source, show_if });
    };
    let number = VarType::Number { decimals: 0 };
    let yes_no = vec![(0.0, "否".to_owned()), (1.0, "是".to_owned())];
    if !anonymous {
        push(
            &mut variables,
            variable(names.take("answer_id"), "序号", number, Measure::Nominal),
            Source::AnswerId,
            None,
        );
    }
    push(
        &mut variables,
        variable(
            names.take("school_code"),
            "学校代码",
            VarType::Text { width: code_width },
            Measure::Nominal,
        ),
        Source::SchoolCode,
        None,
    );
    push(
        &mut variables,
        variable(
            names.take("school_name"),
            "学校名称",
            VarType::Text { width: name_width },
            Measure::Nominal,
        ),
        Source::SchoolName,
        None,
    );
    push(
        &mut variables,
        variable(
            names.take("township"),
            "乡镇",
            VarType::Text {
                width: township_width,
            },
            Measure::Nominal,
        ),
        Source::Township,
        None,
    );
    let mut kind = variable(
        names.take("school_kind"),
        "学校类型",
        number,
        Measure::Nominal,
    );
    kind.value_labels = SchoolKind::ALL
        .iter()
        .enumerate()
        .map(|(at, kind)| (at as f64 + 1.0, kind.label().to_owned()))
        .collect();
    push(&mut variables, kind, Source::SchoolKind, None);
    let mut key = variable(
        names.take("key_village"),
        "是否重点村学校",
        number,
        Measure::Nominal,
    );
    key.value_labels = yes_no.clone();
    push(&mut variables, key, Source::KeyVillage, None);
    let mut central = variable(
        names.take("central_school"),
        "是否中心校",
        number,
        Measure::Nominal,
    );
    central.value_labels = yes_no.clone();
    push(&mut variables, central, Source::Central, None);
    if !anonymous {
        push(
            &mut variables,
            variable(
                names.take("submitted_day"),
                "提交日期",
                VarType::Date,
                Measure::Scale,
            ),
            Source::Day,
            None,
        );
        push(
            &mut variables,
            variable(
                names.take("duration_s"),
                "用时（秒）",
                number,
                Measure::Scale,
            ),
            Source::Seconds,
            None,
        );
    }

    let slots: Vec<&Question> = survey.questions().collect();
    let slot_of = |id: &str| slots.iter().position(|question| question.id == id);
    for (slot, question) in slots.iter().enumerate() {
        let show_if = question
            .show_if
            .as_ref()
            .and_then(|condition| Some((slot_of(&condition.question)?, condition.clone())));
        let not_shown = vec![(NOT_SHOWN, NOT_SHOWN_LABEL.to_owned())];
        let labelled = |name: String, label: &str, measure: Measure, labels: Vec<(f64, String)>| {
            let mut var = variable(name, label, number, measure);
            var.value_labels = labels;
            if question.show_if.is_some() {
                var.value_labels.extend(not_shown.clone());
                var.missing = vec![NOT_SHOWN];
            }
            var
        };
        match &question.kind {
            QuestionKind::Single { options } => {
                let values: Vec<(String, f64)> = options
                    .iter()
                    .enumerate()
                    .map(|(at, o)| (o.code.clone(), at as f64 + 1.0))
                    .collect();
                let labels = options
                    .iter()
                    .enumerate()
                    .map(|(at, o)| (at as f64 + 1.0, o.label.clone()))
                    .collect();
                push(
                    &mut variables,
                    labelled(
                        names.take(&question.id),
                        &question.text,
                        Measure::Nominal,
                        labels,
                    ),
                    Source::Choice { slot, values },
                    show_if,
                );
            }
            QuestionKind::YesNo { .. } => {
                let values = vec![("no".to_owned(), 0.0), ("yes".to_owned(), 1.0)];
                push(
                    &mut variables,
                    labelled(
                        names.take(&question.id),
                        &question.text,
                        Measure::Nominal,
                        yes_no.clone(),
                    ),
                    Source::Choice { slot, values },
                    show_if,
                );
            }
            QuestionKind::Scale { scale } => {
                // The best point (listed first) gets the highest number.
                let top = scale.points.len() as f64;
                let values = scale
                    .points
                    .iter()
                    .enumerate()
                    .map(|(at, p)| (p.code.clone(), top - at as f64))
                    .collect();
                let labels = scale
                    .points
                    .iter()
                    .enumerate()
                    .map(|(at, p)| (top - at as f64, p.label.clone()))
                    .collect();
                push(
                    &mut variables,
                    labelled(
                        names.take(&question.id),
                        &question.text,
                        Measure::Ordinal,
                        labels,
                    ),
                    Source::Choice { slot, values },
                    show_if,
                );
            }
            QuestionKind::Matrix { scale, rows } => {
                let top = scale.points.len() as f64;
                let values: Vec<(String, f64)> = scale
                    .points
                    .iter()
                    .enumerate()
                    .map(|(at, p)| (p.code.clone(), top - at as f64))
                    .collect();
                let labels: Vec<(f64, String)> = scale
                    .points
                    .iter()
                    .enumerate()
                    .map(|(at, p)| (top - at as f64, p.label.clone()))
                    .collect();
                for row in rows {
                    let name = names.take(&format!("{}_{}", question.id, row.id));
                    let label = format!("{} · {}", question.text, row.text);
                    push(
                        &mut variables,
                        labelled(name, &label, Measure::Ordinal, labels.clone()),
                        Source::Row {
                            slot,
                            row: row.id.clone(),
                            values: values.clone(),
                        },
                        show_if.clone(),
                    );
                }
            }
            QuestionKind::Multiple { options, .. } => {
                let first = variables.len();
                let chosen = vec![(0.0, "未选".to_owned()), (1.0, "选中".to_owned())];
                for option in options {
                    let name = names.take(&format!("{}_{}", question.id, option.code));
                    let label = format!("{}：{}", question.text, option.label);
                    push(
                        &mut variables,
                        labelled(name, &label, Measure::Nominal, chosen.clone()),
                        Source::Chosen {
                            slot,
                            code: option.code.clone(),
                        },
                        show_if.clone(),
                    );
                }
                let set_name = names.take(&format!("{}_set", question.id));
                sets.push(DichotomySet {
                    name: set_name,
                    label: question.text.clone(),
                    counted: 1,
                    variables: (first..variables.len()).collect(),
                });
            }
            QuestionKind::Rating {
                min_label,
                max_label,
            } => {
                let mut labels = Vec::new();
                if let Some(label) = min_label {
                    labels.push((0.0, label.clone()));
                }
                if let Some(label) = max_label {
                    labels.push((10.0, label.clone()));
                }
                push(
                    &mut variables,
                    labelled(
                        names.take(&question.id),
                        &question.text,
                        Measure::Ordinal,
                        labels,
                    ),
                    Source::Number {
                        slot,
                        not_shown: NOT_SHOWN,
                    },
                    show_if,
                );
            }
            QuestionKind::Number {
                decimal, min, unit, ..
            } => {
                // −1 marks "not shown" unless the question allows it; then a code below its minimum.
                let code = match min {
                    Some(min) if *min >= 0.0 => NOT_SHOWN,
                    Some(min) => (min - 1.0).floor(),
                    None => -999_999_999.0,
                };
                let label = match unit {
                    Some(unit) => format!("{}（{unit}）", question.text),
                    None => question.text.clone(),
                };
                let mut var = variable(
                    names.take(&question.id),
                    &label,
                    VarType::Number {
                        decimals: if *decimal { 2 } else { 0 },
                    },
                    Measure::Scale,
                );
                if question.show_if.is_some() {
                    var.value_labels = vec![(code, NOT_SHOWN_LABEL.to_owned())];
                    var.missing = vec![code];
                }
                push(
                    &mut variables,
                    var,
                    Source::Number {
                        slot,
                        not_shown: code,
                    },
                    show_if,
                );
            }
            QuestionKind::Text { .. } | QuestionKind::LongText { .. } => {
                push(
                    &mut variables,
                    variable(
                        names.take(&question.id),
                        &question.text,
                        VarType::Text { width: MAX_STRING },
                        Measure::Nominal,
                    ),
                    Source::Text { slot },
                    show_if,
                );
            }
        }
    }
    (
        Dictionary {
            file_label: campaign_name.to_owned(),
            variables,
            sets,
        },
        columns,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_valid_unique_and_short_enough() {
        let mut names = Names(HashSet::new());
        assert_eq!(names.take("stage"), "stage");
        assert_eq!(names.take("STAGE"), "STAGE_2");
        assert_eq!(names.take("2nd-try"), "Q2nd_try");
        assert_eq!(names.take("with"), "with_");
        assert_eq!(names.take("a."), "a");
        let long = names.take(&"x".repeat(80));
        assert_eq!(long.len(), 64);
        let again = names.take(&"x".repeat(80));
        assert!(again.len() <= 64 && again.ends_with("_2"), "{again}");
    }

    #[test]
    fn a_teachers_survey_has_no_id_day_or_duration() {
        let catalog = crate::survey::load_dir(std::path::Path::new("surveys")).expect("plan");
        let teachers = &catalog.get("teachers").expect("teachers").survey;
        let (dictionary, _) = layout(teachers, "t", true, [10, 20, 6]);
        let names: Vec<&str> = dictionary
            .variables
            .iter()
            .map(|v| v.name.as_str())
            .collect();
        for hidden in ["answer_id", "submitted_day", "duration_s"] {
            assert!(!names.contains(&hidden), "{hidden} in {names:?}");
        }
        assert!(names.contains(&"school_code"));
        assert!(!dictionary.sets.is_empty(), "training is a multiple choice");
        let parents = &catalog.get("parents").expect("parents").survey;
        let (dictionary, _) = layout(parents, "p", false, [10, 20, 6]);
        assert!(
            dictionary
                .variables
                .iter()
                .any(|v| v.name == "submitted_day")
        );
    }
}
