//! The answers export: one row per included answer, the school's columns first, then one
//! column per question in survey order (one per statement of a matrix). Turning a stored answer
//! into cells ([`AnswerColumns`], [`AnswerRows`]) does no I/O; [`AnswerExport`] reads the
//! answers in pages by id, packed by the database into one string per page.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};
use entity::{response, school};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use super::{Cell, ExportError, Values};
use crate::campaigns;
use crate::survey::{QuestionKind, Survey};

/// Answers read per query: enough to keep the round trips few, few enough that a page of the
/// largest survey's answers stays well under a megabyte.
pub const PAGE_SIZE: u64 = 2000;

/// Separates the chosen options of a multiple-choice answer within one cell.
const CHOICE_SEPARATOR: &str = "；";

/// The columns before the questions.
const SCHOOL_COLUMNS: [&str; 6] = [
    "序号",
    "学校代码",
    "学校名称",
    "乡镇",
    "提交时间",
    "用时（秒）",
];

/// How a question's stored value reads in a cell.
#[derive(Clone, Debug)]
enum Reading {
    /// Codes with labels, in the survey's order: single, multiple, scale, yes/no, and each
    /// statement of a matrix. A handful each, so a list serves better than a map.
    Choice(Vec<(String, String)>),
    /// A 0–10 rating: the code is the number.
    Rating,
    Number,
    Text,
}

/// One column of answers: a question, or one statement of a matrix.
#[derive(Clone, Debug)]
pub(super) struct QuestionColumn {
    /// The key answers and tallies use: the question id, or `question.row` for a matrix row.
    pub key: String,
    pub question: String,
    pub row: Option<String>,
    /// The question text, or `题目文字 · 行文字` for a matrix row.
    pub header: String,
    reading: Reading,
    /// Where the question's value sits in a parsed answer ([`AnswerColumns::parse`]): the
    /// statements of a matrix share their question's.
    slot: usize,
}

impl QuestionColumn {
    /// The label of `code`, or the code itself when the survey does not know it.
    pub fn label<'a>(&'a self, code: &'a str) -> &'a str {
        match &self.reading {
            Reading::Choice(labels) => labels
                .iter()
                .find(|(known, _)| known == code)
                .map_or(code, |(_, label)| label.as_str()),
            Reading::Rating | Reading::Number | Reading::Text => code,
        }
    }

    /// Where `code` stands among the question's options: the survey's order for choices, the
    /// numbers' order for ratings.
    pub fn option_position(&self, code: &str) -> Option<usize> {
        match &self.reading {
            Reading::Choice(labels) => labels.iter().position(|(known, _)| known == code),
            Reading::Rating => code.parse().ok(),
            Reading::Number | Reading::Text => None,
        }
    }

    fn cell(&self, value: Option<&Value>, values: Values) -> Cell {
        let value = match (value, &self.row) {
            (Some(Value::Object(rows)), Some(row)) => rows.get(row),
            (value, None) => value,
            (Some(_), Some(_)) => None,
            (None, Some(_)) => None,
        };
        let choice = |code: &str| match values {
            Values::Labels => self.label(code).to_owned(),
            Values::Codes => code.to_owned(),
        };
        match value {
            None | Some(Value::Null) => Cell::Empty,
            Some(Value::Number(number)) => number.as_f64().map_or(Cell::Empty, Cell::Number),
            Some(Value::String(text)) => match &self.reading {
                Reading::Rating => text
                    .parse::<f64>()
                    .map_or_else(|_| Cell::text(text.as_str()), Cell::Number),
                Reading::Choice(_) => Cell::Text(choice(text)),
                Reading::Number | Reading::Text => Cell::text(text.as_str()),
            },
            Some(Value::Array(items)) => Cell::Text(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(choice)
                    .collect::<Vec<_>>()
                    .join(CHOICE_SEPARATOR),
            ),
            Some(Value::Bool(flag)) => Cell::text(if *flag { "是" } else { "否" }),
            Some(Value::Object(_)) => Cell::Empty,
        }
    }
}

/// The question columns of a survey, in survey order.
pub(super) fn question_columns(survey: &Survey) -> Vec<QuestionColumn> {
    let mut columns = Vec::new();
    for (slot, question) in survey.questions().enumerate() {
        let choice = |pairs: Vec<(&String, &String)>| {
            Reading::Choice(
                pairs
                    .into_iter()
                    .map(|(code, label)| (code.clone(), label.clone()))
                    .collect(),
            )
        };
        let reading = match &question.kind {
            QuestionKind::Single { options } | QuestionKind::Multiple { options, .. } => choice(
                options
                    .iter()
                    .map(|option| (&option.code, &option.label))
                    .collect(),
            ),
            QuestionKind::Scale { scale } => choice(
                scale
                    .points
                    .iter()
                    .map(|point| (&point.code, &point.label))
                    .collect(),
            ),
            QuestionKind::YesNo { .. } => Reading::Choice(vec![
                ("yes".to_owned(), "是".to_owned()),
                ("no".to_owned(), "否".to_owned()),
            ]),
            QuestionKind::Rating { .. } => Reading::Rating,
            QuestionKind::Number { .. } => Reading::Number,
            QuestionKind::Text { .. } | QuestionKind::LongText { .. } => Reading::Text,
            QuestionKind::Matrix { scale, rows } => {
                let reading = choice(
                    scale
                        .points
                        .iter()
                        .map(|point| (&point.code, &point.label))
                        .collect(),
                );
                for row in rows {
                    columns.push(QuestionColumn {
                        key: format!("{}.{}", question.id, row.id),
                        question: question.id.clone(),
                        row: Some(row.id.clone()),
                        header: format!("{} · {}", question.text, row.text),
                        reading: reading.clone(),
                        slot,
                    });
                }
                continue;
            }
        };
        columns.push(QuestionColumn {
            key: question.id.clone(),
            question: question.id.clone(),
            row: None,
            header: question.text.clone(),
            reading,
            slot,
        });
    }
    columns
}

/// Turns stored answers into rows: the header and the row builder of the answers export.
#[derive(Clone, Debug)]
pub struct AnswerColumns {
    columns: Vec<QuestionColumn>,
    /// Question id → its slot in a parsed answer.
    slots: HashMap<String, usize>,
    values: Values,
    /// A teachers' survey: no answer's id, time or duration is written (they would tell one
    /// teacher's answer from another's, by when it came), only its school and its answers.
    anonymous: bool,
}

/// The columns before the questions of a teachers' survey: the school only.
const ANONYMOUS_SCHOOL_COLUMNS: [&str; 3] = ["学校代码", "学校名称", "乡镇"];

impl AnswerColumns {
    pub fn new(survey: &Survey, values: Values) -> AnswerColumns {
        let columns = question_columns(survey);
        let slots = columns
            .iter()
            .map(|column| (column.question.clone(), column.slot))
            .collect();
        AnswerColumns {
            columns,
            slots,
            values,
            anonymous: survey.audience == crate::survey::Audience::Teachers,
        }
    }

    fn leading_columns(&self) -> &'static [&'static str] {
        if self.anonymous {
            &ANONYMOUS_SCHOOL_COLUMNS
        } else {
            &SCHOOL_COLUMNS
        }
    }

    pub fn header(&self) -> Vec<Cell> {
        self.leading_columns()
            .iter()
            .map(|name| Cell::text(*name))
            .chain(self.columns.iter().map(|column| Cell::text(&column.header)))
            .collect()
    }

    /// A stored answer (a JSON object, question id → value) read into the slots of the
    /// survey's questions: keys are looked up as they are read, never copied, and questions the
    /// survey does not have are skipped. Text that is not such an object reads as unanswered.
    fn parse(&self, json: &str) -> Vec<Option<Value>> {
        let slots = self.slots.len();
        let mut deserializer = serde_json::Deserializer::from_str(json);
        AnswerSlots {
            slots: &self.slots,
            len: slots,
        }
        .deserialize(&mut deserializer)
        .ok()
        .filter(|_| deserializer.end().is_ok())
        .unwrap_or_else(|| vec![None; slots])
    }

    /// One answer as a row. `school` is `None` for an answer whose school was deleted; answers
    /// that cannot be read as JSON give empty question cells rather than stopping the export.
    pub fn row(&self, answer: &response::Model, school: Option<&school::Model>) -> Vec<Cell> {
        self.row_of(
            &StoredAnswer {
                id: answer.id,
                school_id: answer.school_id,
                submitted_at: answer.submitted_at,
                duration_ms: answer.duration_ms,
                answers: &answer.answers,
            },
            school,
        )
    }

    fn row_of(&self, answer: &StoredAnswer, school: Option<&school::Model>) -> Vec<Cell> {
        let parsed = self.parse(answer.answers);
        let school_text = |field: fn(&school::Model) -> &String| {
            school.map_or(Cell::Empty, |school| Cell::text(field(school).as_str()))
        };
        let submitted = campaigns::display_time_seconds(answer.submitted_at);
        let seconds = answer
            .duration_ms
            .map_or(Cell::Empty, |ms| Cell::Number((ms as f64 / 1000.0).round()));
        let mut row = Vec::with_capacity(self.leading_columns().len() + self.columns.len());
        if self.anonymous {
            row.extend([
                school_text(|school| &school.code),
                school_text(|school| &school.name),
                school_text(|school| &school.township),
            ]);
        } else {
            row.extend([
                Cell::Number(answer.id as f64),
                school_text(|school| &school.code),
                school_text(|school| &school.name),
                school_text(|school| &school.township),
                Cell::Text(submitted),
                seconds,
            ]);
        }
        row.extend(
            self.columns
                .iter()
                .map(|column| column.cell(parsed[column.slot].as_ref(), self.values)),
        );
        row
    }
}

impl AnswerColumns {
    /// The answered questions of one answer as (question text, answer as read), for pages that
    /// show a single answer; unanswered questions are left out.
    pub fn answer_pairs(&self, answer: &response::Model) -> Vec<(String, String)> {
        let parsed = self.parse(&answer.answers);
        self.columns
            .iter()
            .filter_map(|column| {
                let shown = match column.cell(parsed[column.slot].as_ref(), self.values) {
                    Cell::Empty => return None,
                    Cell::Text(text) => text,
                    Cell::Number(number) => number.to_string(),
                };
                Some((column.header.clone(), shown))
            })
            .collect()
    }
}

/// Reads a JSON object into one place per question (see [`AnswerColumns::parse`]).
struct AnswerSlots<'a> {
    slots: &'a HashMap<String, usize>,
    len: usize,
}

impl<'de> DeserializeSeed<'de> for AnswerSlots<'_> {
    type Value = Vec<Option<Value>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for AnswerSlots<'_> {
    type Value = Vec<Option<Value>>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("an object of answers")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut values = vec![None; self.len];
        while let Some(slot) = map.next_key_seed(SlotOf(self.slots))? {
            match slot {
                Some(slot) => values[slot] = Some(map.next_value()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(values)
    }
}

/// A key of an answer object, looked up among the survey's questions without being copied.
struct SlotOf<'a>(&'a HashMap<String, usize>);

impl<'de> DeserializeSeed<'de> for SlotOf<'_> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for SlotOf<'_> {
    type Value = Option<usize>;

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a question id")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.get(key).copied())
    }
}

/// What the answers export reads of one stored answer.
pub(super) struct StoredAnswer<'a> {
    pub id: i64,
    pub school_id: i32,
    pub submitted_at: DateTime<Utc>,
    pub duration_ms: Option<i64>,
    pub answers: &'a str,
}

/// Separate the answers of a packed page, and the fields of one answer ([`AnswerExport`]):
/// control characters that JSON text never holds unescaped, nor do numbers.
const ANSWER_SEPARATOR: char = '\u{1e}';
const FIELD_SEPARATOR: char = '\u{1f}';

impl StoredAnswer<'_> {
    /// One answer of a packed page: `id␟school␟seconds since 1970␟duration ms␟answers`.
    fn unpack(packed: &str) -> Option<StoredAnswer<'_>> {
        let mut fields = packed.splitn(5, FIELD_SEPARATOR);
        let id = fields.next()?.parse().ok()?;
        let school_id = fields.next()?.parse().ok()?;
        let submitted_at = DateTime::from_timestamp(fields.next()?.parse().ok()?, 0)?;
        let duration_ms = match fields.next()? {
            "" => None,
            ms => Some(ms.parse().ok()?),
        };
        Some(StoredAnswer {
            id,
            school_id,
            submitted_at,
            duration_ms,
            answers: fields.next()?,
        })
    }
}

/// A page of the answers export as the database packed it: up to [`PAGE_SIZE`] answers in one
/// string, turned into rows by [`AnswerRows`] (on another thread than the one reading).
#[derive(Debug)]
pub struct AnswerPage(String);

/// Turns pages of answers into rows: the columns, and the schools that may be named.
#[derive(Clone, Debug)]
pub struct AnswerRows {
    columns: AnswerColumns,
    /// The schools that may be named beside their answers.
    schools: HashMap<i32, school::Model>,
}

impl AnswerRows {
    pub fn rows(&self, page: &AnswerPage) -> Vec<Vec<Cell>> {
        self.listed(page)
            .map(|(answer, school)| self.columns.row_of(&answer, school))
            .collect()
    }

    /// The answers of a page that may be listed, with their schools: every answers export
    /// (CSV, XLSX, SPSS) reads a page through here, so what one leaves out all leave out.
    pub(super) fn listed<'a>(
        &'a self,
        page: &'a AnswerPage,
    ) -> impl Iterator<Item = (StoredAnswer<'a>, Option<&'a school::Model>)> + 'a {
        page.0.split(ANSWER_SEPARATOR).filter_map(|packed| {
            let Some(answer) = StoredAnswer::unpack(packed) else {
                tracing::warn!("an answer of the export could not be unpacked; left out");
                return None;
            };
            // A teachers' answer from a school of fewer than 5 counts in no figure and is
            // not listed either.
            if self.columns.anonymous && !self.schools.contains_key(&answer.school_id) {
                return None;
            }
            let school = self.schools.get(&answer.school_id);
            Some((answer, school))
        })
    }

    /// A teachers' survey: no answer's id, time or duration may be written.
    pub(super) fn anonymous(&self) -> bool {
        self.columns.anonymous
    }

    /// The schools that may be named beside their answers.
    pub(super) fn schools(&self) -> impl Iterator<Item = &school::Model> {
        self.schools.values()
    }

    /// One answer read into the slots of the survey's questions (in survey order).
    pub(super) fn parse(&self, json: &str) -> Vec<Option<Value>> {
        self.columns.parse(json)
    }
}

/// The answers export of one campaign, opened: reads the included answers in pages by id.
///
/// Every answer is read against the campaign's survey version; answers to a question that
/// version does not have are not shown. A teachers' survey's answers carry no id, time or
/// duration, and those of a school with fewer than 5 included answers are left out
/// ([`crate::results::shown_alone`]), as they are from every figure.
pub struct AnswerExport {
    pub(super) survey: Survey,
    campaign_id: i32,
    campaign_name: String,
    rows: AnswerRows,
    after_id: i64,
    finished: bool,
}

impl AnswerExport {
    pub async fn open(
        db: &impl ConnectionTrait,
        campaign_id: i32,
        values: Values,
    ) -> Result<AnswerExport, ExportError> {
        let (campaign, survey) = campaign_and_survey(db, campaign_id).await?;
        // The county's schools number in the hundreds: one map for the whole export.
        let mut schools: HashMap<i32, school::Model> = school::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|school| (school.id, school))
            .collect();
        let links = campaigns::links_with_schools(db, campaign_id)
            .await
            .map_err(|error| match error {
                campaigns::CampaignError::Db(error) => ExportError::Db(error),
                _ => ExportError::CampaignNotFound(campaign_id),
            })?;
        for (link, _) in links {
            let answers = u64::try_from(link.response_count).unwrap_or(0);
            if !crate::results::shown_alone(survey.audience, answers) {
                schools.remove(&link.school_id);
            }
        }
        Ok(AnswerExport {
            survey: survey.clone(),
            campaign_id,
            campaign_name: campaign.name,
            rows: AnswerRows {
                columns: AnswerColumns::new(&survey, values),
                schools,
            },
            after_id: 0,
            finished: false,
        })
    }

    pub fn campaign_name(&self) -> &str {
        &self.campaign_name
    }

    pub fn header(&self) -> Vec<Cell> {
        self.rows.columns.header()
    }

    /// What turns this export's pages into rows.
    pub fn converter(&self) -> AnswerRows {
        self.rows.clone()
    }

    /// The next [`PAGE_SIZE`] included answers after the last one given, packed by the
    /// database into one string.
    ///
    /// The SQLite driver hands every row of a result from its own thread to the async side
    /// with a wake-up each, which made reading a million answers row by row most of the
    /// export's time; packed, one row crosses per page. JSON text never holds the separators
    /// unescaped (control characters must be escaped in it), and the other fields are numbers.
    pub async fn next_packed(
        &mut self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<AnswerPage>, ExportError> {
        if self.finished {
            return Ok(None);
        }
        let backend = db.get_database_backend();
        // Only integers are written into the statement.
        let (campaign, after, limit) = (self.campaign_id, self.after_id, PAGE_SIZE);
        let sql = match backend {
            DbBackend::Postgres => format!(
                "SELECT string_agg(id::text || chr(31) || school_id::text || chr(31) || \
                 floor(extract(epoch FROM submitted_at))::bigint::text || chr(31) || \
                 coalesce(duration_ms::text, '') || chr(31) || answers, chr(30) ORDER BY id), \
                 max(id), count(*) FROM (SELECT id, school_id, submitted_at, duration_ms, answers \
                 FROM response WHERE campaign_id = {campaign} AND NOT excluded AND id > {after} \
                 ORDER BY id LIMIT {limit}) AS page"
            ),
            _ => format!(
                "SELECT group_concat(id || char(31) || school_id || char(31) || \
                 unixepoch(submitted_at) || char(31) || coalesce(duration_ms, '') || char(31) || \
                 answers, char(30) ORDER BY id), max(id), count(*) FROM (SELECT id, school_id, \
                 submitted_at, duration_ms, answers FROM response WHERE campaign_id = {campaign} \
                 AND NOT excluded AND id > {after} ORDER BY id LIMIT {limit})"
            ),
        };
        let row = db
            .query_one_raw(Statement::from_string(backend, sql))
            .await?;
        let (packed, last, count) = match row {
            Some(row) => (
                row.try_get_by_index::<Option<String>>(0)?,
                row.try_get_by_index::<Option<i64>>(1)?,
                row.try_get_by_index::<i64>(2)?,
            ),
            None => (None, None, 0),
        };
        if count < i64::try_from(PAGE_SIZE).unwrap_or(i64::MAX) {
            self.finished = true;
        }
        let (Some(packed), Some(last)) = (packed, last) else {
            self.finished = true;
            return Ok(None);
        };
        self.after_id = last;
        Ok(Some(AnswerPage(packed)))
    }
}

pub(super) async fn campaign_and_survey(
    db: &impl ConnectionTrait,
    campaign_id: i32,
) -> Result<(entity::campaign::Model, Survey), ExportError> {
    let campaign = campaigns::find(db, campaign_id)
        .await
        .map_err(|error| match error {
            campaigns::CampaignError::Db(error) => ExportError::Db(error),
            _ => ExportError::CampaignNotFound(campaign_id),
        })?;
    let survey = campaigns::load_version(db, campaign.survey_version_id)
        .await?
        .ok_or(ExportError::SurveyMissing {
            campaign: campaign_id,
            version: campaign.survey_version_id,
        })?;
    Ok((campaign, survey))
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::survey::{ChoiceOption, MatrixRow, Question, Scale, ScalePoint, Section};

    fn question(id: &str, text: &str, kind: QuestionKind) -> Question {
        Question {
            id: id.to_owned(),
            text: text.to_owned(),
            help: None,
            required: false,
            show_if: None,
            scored: false,
            kind,
        }
    }

    fn options(pairs: &[(&str, &str)]) -> Vec<ChoiceOption> {
        pairs
            .iter()
            .map(|(code, label)| ChoiceOption {
                code: (*code).to_owned(),
                label: (*label).to_owned(),
                score: None,
            })
            .collect()
    }

    fn survey() -> Survey {
        let scale = Scale {
            id: "satisfaction".to_owned(),
            name: "满意度".to_owned(),
            points: [("s", "满意"), ("d", "不满意")]
                .iter()
                .map(|(code, label)| ScalePoint {
                    code: (*code).to_owned(),
                    label: (*label).to_owned(),
                    score: None,
                    satisfied: *code == "s",
                })
                .collect(),
        };
        Survey {
            id: "t".to_owned(),
            title: "测试".to_owned(),
            audience: crate::survey::Audience::Parents,
            intro: String::new(),
            minutes: None,
            thanks: None,
            sections: vec![Section {
                id: "a".to_owned(),
                title: "甲".to_owned(),
                area: crate::survey::Area::Overall,
                intro: None,
                questions: vec![
                    question(
                        "grade",
                        "孩子年级",
                        QuestionKind::Single {
                            options: options(&[("g1", "一年级"), ("g2", "二年级")]),
                        },
                    ),
                    question(
                        "help",
                        "得到的帮助",
                        QuestionKind::Multiple {
                            options: options(&[("meal", "营养餐"), ("aid", "助学金")]),
                            min: 0,
                            max: None,
                        },
                    ),
                    question(
                        "school",
                        "对学校的评价",
                        QuestionKind::Matrix {
                            scale,
                            rows: vec![
                                MatrixRow {
                                    id: "food".to_owned(),
                                    text: "伙食".to_owned(),
                                },
                                MatrixRow {
                                    id: "safety".to_owned(),
                                    text: "安全".to_owned(),
                                },
                            ],
                        },
                    ),
                    question(
                        "km",
                        "到校距离",
                        QuestionKind::Number {
                            decimal: true,
                            min: None,
                            max: None,
                            unit: None,
                        },
                    ),
                    question(
                        "visit",
                        "老师家访过吗",
                        QuestionKind::YesNo {
                            yes_score: None,
                            no_score: None,
                        },
                    ),
                    question(
                        "score",
                        "总体打分",
                        QuestionKind::Rating {
                            min_label: None,
                            max_label: None,
                        },
                    ),
                    question("words", "意见", QuestionKind::Text { max_length: 200 }),
                ],
            }],
        }
    }

    fn answer(answers: &str) -> response::Model {
        response::Model {
            id: 7,
            campaign_id: 1,
            school_id: 3,
            survey_version_id: 1,
            idempotency_key: "k".to_owned(),
            browser_key: None,
            answers: answers.to_owned(),
            submitted_at: Utc
                .with_ymd_and_hms(2026, 12, 1, 0, 30, 0)
                .single()
                .expect("a time"),
            duration_ms: Some(95_400),
            excluded: false,
            flags: None,
        }
    }

    const ANSWERS: &str = r#"{"grade":"g2","help":["meal","aid"],"school":{"food":"s","safety":"d"},"km":2.5,"visit":"no","score":"8","words":"=1+1"}"#;

    fn texts(cells: &[Cell]) -> Vec<String> {
        cells
            .iter()
            .map(|cell| match cell {
                Cell::Empty => String::new(),
                Cell::Text(text) => text.clone(),
                Cell::Number(number) => format!("#{number}"),
            })
            .collect()
    }

    #[test]
    fn the_header_has_the_school_columns_then_one_per_question_and_matrix_row() {
        let header = texts(&AnswerColumns::new(&survey(), Values::Labels).header());
        assert_eq!(
            header,
            [
                "序号",
                "学校代码",
                "学校名称",
                "乡镇",
                "提交时间",
                "用时（秒）",
                "孩子年级",
                "得到的帮助",
                "对学校的评价 · 伙食",
                "对学校的评价 · 安全",
                "到校距离",
                "老师家访过吗",
                "总体打分",
                "意见",
            ]
        );
    }

    #[test]
    fn a_row_reads_labels_joins_choices_splits_matrices_and_keeps_numbers() {
        let columns = AnswerColumns::new(&survey(), Values::Labels);
        let row = columns.row(&answer(ANSWERS), None);
        assert_eq!(
            texts(&row),
            [
                "#7",
                "",
                "",
                "",
                "2026-12-01 08:30:00",
                "#95",
                "二年级",
                "营养餐；助学金",
                "满意",
                "不满意",
                "#2.5",
                "否",
                "#8",
                "=1+1",
            ]
        );
    }

    #[test]
    fn with_codes_the_cells_hold_codes() {
        let columns = AnswerColumns::new(&survey(), Values::Codes);
        let row = texts(&columns.row(&answer(ANSWERS), None));
        assert_eq!(row[6..10], ["g2", "meal；aid", "s", "d"]);
        assert_eq!(row[11], "no");
    }

    #[test]
    fn unanswered_questions_and_unknown_codes_are_empty_or_kept() {
        let columns = AnswerColumns::new(&survey(), Values::Labels);
        let row = texts(&columns.row(&answer(r#"{"grade":"g9"}"#), None));
        assert_eq!(row[6], "g9");
        assert!(row[7..].iter().all(String::is_empty), "{row:?}");
    }
}
