//! A submitted form, checked against its survey: `FormFields` (what the browser sent) becomes a
//! `ValidResponse` or `FormErrors` with a message in plain Chinese beside each question.
//!
//! Field names are the question ids (`meals`), a matrix row is `question.row` (`meals.food`), and
//! the form's own hidden fields start with `_`. Pure: no I/O.

use std::cell::Cell;
use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::Serialize;

pub use crate::survey::Answer;
use crate::survey::{Question, QuestionKind, Survey};

/// The form's hidden field carrying the idempotency key.
pub const KEY_FIELD: &str = "_key";
/// The form's hidden field carrying when it was served (Unix milliseconds).
pub const SERVED_AT_FIELD: &str = "_t";

/// The fields of a submitted form, in the order they came, values as sent: every name and
/// value in one string, with where each lies in it (a phone's form has forty-odd fields; a
/// string for each was eighty allocations a submission).
#[derive(Clone, Debug, Default)]
pub struct FormFields {
    text: String,
    /// The ends, in `text`, of each field's name and of its value; each starts where the one
    /// before it ends.
    ends: Vec<(u32, u32)>,
}

impl FormFields {
    pub fn new(pairs: Vec<(String, String)>) -> Self {
        let mut fields = FormFields::default();
        for (name, value) in &pairs {
            fields.push(name, value);
        }
        fields
    }

    /// Room for fields of `bytes` bytes in all.
    pub fn with_capacity(bytes: usize) -> Self {
        FormFields {
            text: String::with_capacity(bytes),
            ends: Vec::with_capacity(bytes / 8),
        }
    }

    pub fn push(&mut self, name: &str, value: &str) {
        self.text.push_str(name);
        let name_end = self.text.len();
        self.text.push_str(value);
        let value_end = self.text.len();
        self.ends.push((
            u32::try_from(name_end).unwrap_or(u32::MAX),
            u32::try_from(value_end).unwrap_or(u32::MAX),
        ));
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Every (name, value), in the order sent.
    pub fn pairs(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut start = 0usize;
        self.ends.iter().map(move |&(name_end, value_end)| {
            let (name_end, value_end) = (name_end as usize, value_end as usize);
            let name = self.text.get(start..name_end).unwrap_or_default();
            let value = self.text.get(name_end..value_end).unwrap_or_default();
            start = value_end;
            (name, value)
        })
    }

    /// Every value sent under `name`.
    pub fn values<'a, 'n>(&'a self, name: &'n str) -> impl Iterator<Item = &'a str> + use<'a, 'n> {
        self.pairs()
            .filter(move |(field, _)| *field == name)
            .map(|(_, value)| value)
    }

    /// The single value of a hidden field; `None` if absent or sent more than once.
    pub fn single(&self, name: &str) -> Option<&str> {
        let mut values = self.values(name);
        let value = values.next()?;
        values.next().is_none().then_some(value)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.pairs().map(|(name, _)| name)
    }
}

/// A response that satisfies its survey: every required question visible to the person is
/// answered, every value is one the question allows. Hidden questions have no answer.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ValidResponse<'s> {
    pub answers: Answers<'s>,
}

/// A response's answers, each under its question's id (borrowed from the survey), in the order
/// they were added — the survey's, when made by [`validate`] or read back by
/// `stored::stored_response`. A response has a few dozen: a list read from the front costs less
/// than a `BTreeMap` built, searched and freed for each submission. Serialised as a JSON object
/// with its keys in order of bytes, as the stored answers have always been.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Answers<'s>(Vec<(&'s str, Answer)>);

impl<'s> Answers<'s> {
    pub fn get(&self, question: &str) -> Option<&Answer> {
        self.0
            .iter()
            .find(|(id, _)| *id == question)
            .map(|(_, answer)| answer)
    }

    pub fn contains_key(&self, question: &str) -> bool {
        self.get(question).is_some()
    }

    /// Sets the answer to `question`, in place of one it had.
    pub fn insert(&mut self, question: &'s str, answer: Answer) {
        match self.0.iter_mut().find(|(id, _)| *id == question) {
            Some((_, kept)) => *kept = answer,
            None => self.0.push((question, answer)),
        }
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// (question id, answer), in the order added.
    pub fn iter(&self) -> impl Iterator<Item = (&'s str, &Answer)> {
        self.0.iter().map(|(id, answer)| (*id, answer))
    }

    pub fn values(&self) -> impl Iterator<Item = &Answer> {
        self.0.iter().map(|(_, answer)| answer)
    }
}

#[cfg(test)]
impl std::ops::Index<&str> for Answers<'_> {
    type Output = Answer;

    /// The answer to `question`; panics if there is none, as a map's index does.
    fn index(&self, question: &str) -> &Answer {
        match self.get(question) {
            Some(answer) => answer,
            None => panic!("no answer to {question}"),
        }
    }
}

impl<'s> FromIterator<(&'s str, Answer)> for Answers<'s> {
    fn from_iter<I: IntoIterator<Item = (&'s str, Answer)>>(pairs: I) -> Self {
        let mut answers = Answers::default();
        pairs
            .into_iter()
            .for_each(|(question, answer)| answers.insert(question, answer));
        answers
    }
}

impl<'s, const N: usize> From<[(&'s str, Answer); N]> for Answers<'s> {
    fn from(pairs: [(&'s str, Answer); N]) -> Self {
        pairs.into_iter().collect()
    }
}

impl Serialize for Answers<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut sorted: Vec<&(&str, Answer)> = self.0.iter().collect();
        sorted.sort_unstable_by_key(|(id, _)| *id);
        let mut map = serializer.serialize_map(Some(sorted.len()))?;
        for (id, answer) in sorted {
            map.serialize_entry(id, answer)?;
        }
        map.end()
    }
}

impl ValidResponse<'_> {
    pub fn to_json(&self) -> String {
        // A map of strings and numbers always serialises; NaN cannot occur (parse refuses it).
        // Made at about its length at once (≈ 30 bytes an answer), not grown as it is written.
        let mut json = Vec::with_capacity(32 * self.answers.len() + 2);
        match serde_json::to_writer(&mut json, self) {
            Ok(()) => String::from_utf8(json).unwrap_or_else(|_| "{}".to_owned()),
            Err(_) => "{}".to_owned(),
        }
    }

    /// The (question key, option code) pairs this response adds to the running tallies.
    pub fn tally_keys(&self) -> TallyKeys {
        let mut keys = TallyKeys::with_capacity(self.answers.len());
        for (question, answer) in self.answers.iter() {
            match answer {
                Answer::Choice(code) => keys.push(&[question], code),
                Answer::Choices(codes) => {
                    for code in codes {
                        keys.push(&[question], code);
                    }
                }
                Answer::Rows(rows) => {
                    for (row, code) in rows {
                        keys.push(&[question, ".", row], code);
                    }
                }
                Answer::Integer(_) | Answer::Decimal(_) | Answer::Text(_) => {}
            }
        }
        keys
    }
}

/// A response's tally keys, (question key, option code) pairs, kept in one string. A response
/// has a few dozen; they are made on an HTTP worker and freed by the answer writer, and two
/// allocations for each cost more than carrying them there.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TallyKeys {
    text: String,
    /// Where each pair's question key, then its option code, ends in `text`.
    ends: Vec<(usize, usize)>,
}

impl TallyKeys {
    fn with_capacity(pairs: usize) -> TallyKeys {
        TallyKeys {
            // A question's key and an option's code are ≈ 20 bytes together.
            text: String::with_capacity(pairs * 24),
            ends: Vec::with_capacity(pairs),
        }
    }

    /// Adds the pair of the question key made of `question`'s parts and `option`.
    pub fn push(&mut self, question: &[&str], option: &str) {
        for part in question {
            self.text.push_str(part);
        }
        let question_end = self.text.len();
        self.text.push_str(option);
        self.ends.push((question_end, self.text.len()));
    }

    /// The pairs, in the order they were added.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut start = 0;
        self.ends.iter().map(move |&(question_end, option_end)| {
            let pair = (
                &self.text[start..question_end],
                &self.text[question_end..option_end],
            );
            start = option_end;
            pair
        })
    }
}

/// What is wrong with a submitted form.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FormErrors {
    /// Messages shown beside their question, by question id.
    pub by_question: BTreeMap<String, String>,
    /// Messages shown above the form.
    pub general: Vec<String>,
    /// The form was not one our page could have sent (unknown fields, repeated fields, options
    /// that do not exist): answered with 400 rather than 422.
    pub malformed: bool,
}

impl FormErrors {
    pub fn is_empty(&self) -> bool {
        !self.malformed && self.by_question.is_empty() && self.general.is_empty()
    }

    fn question(&mut self, id: &str, message: impl Into<String>) {
        self.by_question
            .entry(id.to_owned())
            .or_insert_with(|| message.into());
    }

    fn forged(&mut self, id: &str, message: impl Into<String>) {
        self.malformed = true;
        self.question(id, message);
    }
}

const NOT_FROM_THIS_FORM: &str = "表单中有本问卷没有的内容，请刷新页面后重新填写。";

/// Checks `fields` against `survey`.
pub fn validate<'s>(
    survey: &'s Survey,
    fields: &FormFields,
) -> Result<ValidResponse<'s>, FormErrors> {
    let mut errors = FormErrors::default();
    let sent = SentFields::new(fields);
    for hidden in [KEY_FIELD, SERVED_AT_FIELD] {
        if sent.values(&[hidden]).count() > 1 {
            errors.malformed = true;
        }
    }

    let mut answers = Answers(Vec::with_capacity(survey.questions().count()));
    for question in survey.questions() {
        let visible = question.show_if.as_ref().is_none_or(|show_if| {
            match answers.get(show_if.question.as_str()) {
                Some(Answer::Choice(code)) => show_if.any_of.iter().any(|shown| shown == &**code),
                Some(Answer::Choices(codes)) => {
                    codes.iter().any(|code| show_if.any_of.contains(code))
                }
                _ => false,
            }
        });
        if !visible {
            // Answers to a question the person should not have seen are dropped, not refused:
            // without CSS support the question shows, and they may have changed their mind.
            sent.claim(question);
            continue;
        }
        match check_question(question, &sent, &mut errors) {
            // Each of the survey's questions comes once (`survey::check` refuses an id given
            // twice), so its answer is added without looking for an earlier one: the look-up
            // made building the answers quadratic, 1.5 % of the HTTP workers' samples.
            Some(answer) => answers.0.push((&question.id, answer)),
            None if question.required && !errors.by_question.contains_key(&question.id) => {
                errors.question(&question.id, missing_message(&question.kind));
            }
            None => {}
        }
    }
    // A field no question looked up is not one of this survey's form.
    if !sent.all_claimed() {
        errors.malformed = true;
    }

    if errors.is_empty() {
        Ok(ValidResponse { answers })
    } else {
        if errors.malformed && errors.general.is_empty() {
            errors.general.push(NOT_FROM_THIS_FORM.to_owned());
        }
        Err(errors)
    }
}

/// A submitted form's fields sorted by name, each question's found by binary search, and which
/// of them a question (or the form's hidden fields) looked up. A form has a few dozen fields and
/// a survey a few dozen questions: looking each question's fields up among all of them, and
/// each field among all the questions, was a thousand string comparisons a submission. Names
/// are ordered by length first, so that most comparisons end without reading a byte.
struct SentFields<'f> {
    /// (name, value), sorted by name; a name's values in the order sent (the sort is stable).
    by_name: Vec<(&'f str, &'f str)>,
    /// Whether `by_name[i]` was looked up.
    claimed: Vec<Cell<bool>>,
}

impl<'f> SentFields<'f> {
    fn new(fields: &'f FormFields) -> Self {
        let mut by_name: Vec<(&str, &str)> = fields.pairs().collect();
        by_name.sort_by(|a, b| a.0.len().cmp(&b.0.len()).then_with(|| a.0.cmp(b.0)));
        let claimed = vec![Cell::new(false); by_name.len()];
        SentFields { by_name, claimed }
    }

    /// The values sent under the name made of `parts` joined (`["meals", ".", "food"]` for
    /// `meals.food`), in the order sent; they count as looked up.
    fn values<'s>(&'s self, parts: &[&str]) -> impl Iterator<Item = &'f str> + use<'s, 'f> {
        let length: usize = parts.iter().map(|part| part.len()).sum();
        let order = |name: &str| {
            name.len().cmp(&length).then_with(|| match parts {
                [whole] => name.cmp(whole),
                _ => name.bytes().cmp(parts.iter().flat_map(|part| part.bytes())),
            })
        };
        let start = self
            .by_name
            .partition_point(|(name, _)| order(name) == Ordering::Less);
        let end = start
            + self.by_name[start..].partition_point(|(name, _)| order(name) == Ordering::Equal);
        self.claimed[start..end]
            .iter()
            .for_each(|claimed| claimed.set(true));
        self.by_name[start..end].iter().map(|&(_, value)| value)
    }

    /// Counts the fields of `question` as looked up, without reading them.
    fn claim(&self, question: &Question) {
        match &question.kind {
            QuestionKind::Matrix { rows, .. } => {
                for row in rows {
                    self.values(&[&question.id, ".", &row.id]).for_each(drop);
                }
            }
            _ => self.values(&[&question.id]).for_each(drop),
        }
    }

    fn all_claimed(&self) -> bool {
        self.claimed.iter().all(Cell::get)
    }
}

fn missing_message(kind: &QuestionKind) -> &'static str {
    match kind {
        QuestionKind::Multiple { .. } => "请至少选择一项。",
        QuestionKind::Matrix { .. } => "请为每一项作出选择。",
        QuestionKind::Number { .. } => "请填写这一题。",
        QuestionKind::Text { .. } | QuestionKind::LongText { .. } => "请填写这一题。",
        _ => "请选择一项。",
    }
}

/// The one non-empty value of a single-valued field, or `None` if left empty.
fn single_value<'a>(
    question_id: &str,
    mut values: impl Iterator<Item = &'a str>,
    errors: &mut FormErrors,
) -> Option<&'a str> {
    let value = values.next()?;
    if values.next().is_some() {
        errors.forged(question_id, "这一题收到了多个答案，请只选一项。");
        return None;
    }
    (!value.trim().is_empty()).then_some(value)
}

fn check_code<'c>(question: &Question, code: &'c str, errors: &mut FormErrors) -> Option<&'c str> {
    if question.kind.has_code(code) {
        Some(code)
    } else {
        errors.forged(&question.id, "所选的选项不在本题中，请重新选择。");
        None
    }
}

fn check_question(
    question: &Question,
    fields: &SentFields,
    errors: &mut FormErrors,
) -> Option<Answer> {
    let id = question.id.as_str();
    match &question.kind {
        QuestionKind::Single { .. }
        | QuestionKind::Scale { .. }
        | QuestionKind::YesNo { .. }
        | QuestionKind::Rating { .. } => {
            let value = single_value(id, fields.values(&[id]), errors)?;
            check_code(question, value.trim(), errors).map(|code| Answer::Choice(code.into()))
        }
        QuestionKind::Multiple { min, max, .. } => {
            let values: Vec<&str> = fields
                .values(&[id])
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .collect();
            if values.is_empty() {
                return None;
            }
            let mut picked: Vec<String> = Vec::new();
            for value in values {
                let code = check_code(question, value, errors)?;
                if picked.iter().any(|already| already == code) {
                    errors.forged(id, "同一个选项收到了两次，请重新选择。");
                    return None;
                }
                picked.push(code.to_owned());
            }
            let count = picked.len() as u32;
            if count < *min {
                errors.question(id, format!("请至少选择 {min} 项（您选了 {count} 项）。"));
                return None;
            }
            if let Some(max) = max
                && count > *max
            {
                errors.question(id, format!("最多只能选择 {max} 项（您选了 {count} 项）。"));
                return None;
            }
            Some(Answer::Choices(picked))
        }
        QuestionKind::Matrix { scale, rows } => {
            let mut answered = BTreeMap::new();
            for row in rows {
                let row_field = [id, ".", row.id.as_str()];
                if let Some(value) = single_value(id, fields.values(&row_field), errors) {
                    let value = value.trim();
                    if scale.points.iter().any(|point| point.code == value) {
                        answered.insert(row.id.clone(), value.to_owned());
                    } else {
                        errors.forged(id, "所选的选项不在本题中，请重新选择。");
                        return None;
                    }
                }
            }
            if answered.is_empty() {
                return None;
            }
            let unanswered = rows.len() - answered.len();
            if question.required && unanswered > 0 {
                errors.question(
                    id,
                    format!("还有 {unanswered} 项没有选择，请为每一项作出选择。"),
                );
                return None;
            }
            Some(Answer::Rows(answered))
        }
        QuestionKind::Number {
            decimal,
            min,
            max,
            unit,
        } => {
            let value = single_value(id, fields.values(&[id]), errors)?;
            let text = normalize_number(value);
            let number = if *decimal {
                match text.parse::<f64>() {
                    Ok(number) if number.is_finite() => number,
                    _ => {
                        errors.question(id, "请填写一个数字，例如 12 或 12.5。");
                        return None;
                    }
                }
            } else {
                match text.parse::<i64>() {
                    Ok(number) => number as f64,
                    Err(_) => {
                        errors.question(id, "请填写一个整数，例如 12。");
                        return None;
                    }
                }
            };
            let unit = unit.as_deref().unwrap_or("");
            let out_of_range =
                min.is_some_and(|min| number < min) || max.is_some_and(|max| number > max);
            if out_of_range {
                let message = match (min, max) {
                    (Some(min), Some(max)) => format!(
                        "请填写 {} 到 {} 之间的数{}。",
                        plain_number(*min),
                        plain_number(*max),
                        bracket_unit(unit)
                    ),
                    (Some(min), None) => format!(
                        "请填写不小于 {} 的数{}。",
                        plain_number(*min),
                        bracket_unit(unit)
                    ),
                    (None, Some(max)) => format!(
                        "请填写不大于 {} 的数{}。",
                        plain_number(*max),
                        bracket_unit(unit)
                    ),
                    (None, None) => String::new(),
                };
                errors.question(id, message);
                return None;
            }
            Some(if *decimal {
                Answer::Decimal(number)
            } else {
                Answer::Integer(number as i64)
            })
        }
        QuestionKind::Text { max_length } | QuestionKind::LongText { max_length } => {
            let multiline = matches!(question.kind, QuestionKind::LongText { .. });
            let value = single_value(id, fields.values(&[id]), errors)?;
            let text = clean_text(value, multiline);
            if text.is_empty() {
                return None;
            }
            let length = text.chars().count();
            if length > *max_length as usize {
                errors.question(
                    id,
                    format!("最多 {max_length} 个字，您写了 {length} 个字，请删减一些。"),
                );
                return None;
            }
            Some(Answer::Text(text))
        }
    }
}

/// Full-width digits and points come from Chinese input methods; spaces from fat fingers.
fn normalize_number(text: &str) -> String {
    text.trim()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != ',' && *c != '，')
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            '．' | '。' => '.',
            '－' => '-',
            other => other,
        })
        .collect()
}

fn plain_number(number: f64) -> String {
    if number.fract() == 0.0 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

fn bracket_unit(unit: &str) -> String {
    if unit.is_empty() {
        String::new()
    } else {
        format!("（单位：{unit}）")
    }
}

/// Trims, unifies line breaks, and drops control characters other than line breaks.
fn clean_text(text: &str, multiline: bool) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    text.trim()
        .chars()
        .filter(|c| !c.is_control() || (multiline && *c == '\n'))
        .map(|c| if c == '\n' && !multiline { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests;
