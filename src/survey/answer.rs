//! The shape of one question's answer, as validated from a form and stored in a response's JSON:
//! what the plan's indicators, the results and the exports read. Nothing here checks an answer
//! against its question (`answering::validate` does); this is only the value.

use std::collections::BTreeMap;

use serde::Serialize;

/// One question's validated answer. Choice-like kinds (single, scale, yes/no, rating) store the
/// option's code; `yes`/`no` for yes/no, `0`…`10` for ratings.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Choice(String),
    Choices(Vec<String>),
    Integer(i64),
    Decimal(f64),
    Text(String),
    Rows(BTreeMap<String, String>),
}
