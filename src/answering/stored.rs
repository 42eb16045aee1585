//! A stored answer read back: the JSON the writer stored, against the survey version it
//! answered, as the [`ValidResponse`] it was stored from. Whatever recounts stored answers — the
//! running counts' pending answers (`super::pending`), a supervisor's exclusion, the results of a
//! date range — reads them through this one function, so that a recount and the counts the
//! writer kept agree.

use serde_json::Value;

use super::{Answer, Answers, ValidResponse};
use crate::survey::{QuestionKind, Survey};

/// A stored answer (the JSON the writer stored) read back against its survey: the same
/// [`ValidResponse`] it was stored from. Questions the survey does not have, and values of the
/// wrong shape, are left out rather than guessed at.
pub fn stored_response<'s>(survey: &'s Survey, json: &str) -> ValidResponse<'s> {
    let stored: serde_json::Map<String, Value> = serde_json::from_str(json).unwrap_or_default();
    let mut answers = Answers::default();
    for question in survey.questions() {
        let Some(value) = stored.get(&question.id) else {
            continue;
        };
        let answer = match (&question.kind, value) {
            (
                QuestionKind::Single { .. }
                | QuestionKind::Scale { .. }
                | QuestionKind::YesNo { .. }
                | QuestionKind::Rating { .. },
                Value::String(code),
            ) => Some(Answer::Choice(code.as_str().into())),
            (QuestionKind::Multiple { .. }, Value::Array(codes)) => Some(Answer::Choices(
                codes
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect(),
            )),
            (QuestionKind::Matrix { .. }, Value::Object(rows)) => Some(Answer::Rows(
                rows.iter()
                    .filter_map(|(row, code)| Some((row.clone(), code.as_str()?.to_owned())))
                    .collect(),
            )),
            (QuestionKind::Number { decimal: true, .. }, Value::Number(number)) => {
                number.as_f64().map(Answer::Decimal)
            }
            (QuestionKind::Number { decimal: false, .. }, Value::Number(number)) => number
                .as_i64()
                .or_else(|| number.as_f64().map(|value| value as i64))
                .map(Answer::Integer),
            (QuestionKind::Text { .. } | QuestionKind::LongText { .. }, Value::String(text)) => {
                Some(Answer::Text(text.clone()))
            }
            _ => None,
        };
        if let Some(answer) = answer {
            answers.insert(question.id.as_str(), answer);
        }
    }
    ValidResponse { answers }
}
