//! The number questions of a school self-check over the schools of a campaign
//! (surveys/METHOD.md, section `numbers`): each school's value, and over the schools that
//! answered, how many, the sum (for whole numbers, which count people or things), the mean,
//! the median, the least and the greatest. Pure: the self-checks are given.

use serde::Serialize;

use super::self_checks::SelfCheck;
use crate::survey::{QuestionKind, Survey};

/// One number question over schools.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct NumberSummary {
    pub key: String,
    pub text: String,
    pub unit: Option<String>,
    /// Decimal answers (a rate, an amount per pupil): their sum means nothing and is left out.
    pub decimal: bool,
    /// Schools that answered the question.
    pub n: u64,
    pub sum: Option<f64>,
    pub mean: Option<f64>,
    /// The middle value; the mean of the two middle values for an even n.
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// Every school counted, in the campaign's order, with its answer (`None`: not submitted,
    /// not shown the question, or left it empty).
    pub schools: Vec<SchoolNumber>,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SchoolNumber {
    pub school_id: i32,
    pub code: String,
    pub name: String,
    pub value: Option<f64>,
}

/// What is said of some schools' values of one number question.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NumberStats {
    pub n: u64,
    /// For whole numbers only.
    pub sum: Option<f64>,
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// n, sum (unless `decimal`), mean, median, min and max of `values`.
pub fn number_stats(values: &[f64], decimal: bool) -> NumberStats {
    let mut values = values.to_vec();
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let sum: f64 = values.iter().sum();
    let median = match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2]),
        _ => Some((values[n / 2 - 1] + values[n / 2]) / 2.0),
    };
    NumberStats {
        n: n as u64,
        sum: (n > 0 && !decimal).then_some(sum),
        mean: (n > 0).then(|| sum / n as f64),
        median,
        min: values.first().copied(),
        max: values.last().copied(),
    }
}

/// Every number question of `survey`, in its order, over `self_checks`.
pub fn number_summaries(survey: &Survey, self_checks: &[SelfCheck]) -> Vec<NumberSummary> {
    survey
        .questions()
        .filter_map(|question| {
            let QuestionKind::Number { decimal, unit, .. } = &question.kind else {
                return None;
            };
            let schools: Vec<SchoolNumber> = self_checks
                .iter()
                .map(|check| SchoolNumber {
                    school_id: check.school.id,
                    code: check.school.code.clone(),
                    name: check.school.name.clone(),
                    value: check
                        .answers
                        .as_ref()
                        .and_then(|answers| answers.get(&question.id))
                        .and_then(serde_json::Value::as_f64)
                        .filter(|value| value.is_finite()),
                })
                .collect();
            let values: Vec<f64> = schools.iter().filter_map(|school| school.value).collect();
            let stats = number_stats(&values, *decimal);
            Some(NumberSummary {
                key: question.id.clone(),
                text: question.text.clone(),
                unit: unit.clone(),
                decimal: *decimal,
                n: stats.n,
                sum: stats.sum,
                mean: stats.mean,
                median: stats.median,
                min: stats.min,
                max: stats.max,
                schools,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school(id: i32) -> entity::school::Model {
        let now = chrono::Utc::now();
        entity::school::Model {
            id,
            code: format!("S{id}"),
            name: format!("学校{id}"),
            township: "城关镇".to_owned(),
            kind: "小学".to_owned(),
            is_central: false,
            is_key_village: false,
            enrolment: 100,
            teachers: 10,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn whole_numbers_are_summed_and_decimals_are_not() {
        let survey = crate::survey::load_dir(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/surveys"
        )))
        .expect("the shipped plan loads")
        .get("school")
        .expect("school")
        .survey
        .clone();
        let answers = |pairs: serde_json::Value| pairs.as_object().cloned();
        let checks = vec![
            SelfCheck {
                school: school(1),
                answers: answers(
                    serde_json::json!({"teachers_fulltime": 12, "retention_junior": 98.5}),
                ),
            },
            SelfCheck {
                school: school(2),
                answers: answers(serde_json::json!({"teachers_fulltime": 30})),
            },
            SelfCheck {
                school: school(3),
                answers: answers(
                    serde_json::json!({"teachers_fulltime": 7, "retention_junior": 96.0}),
                ),
            },
            SelfCheck {
                school: school(4),
                answers: None,
            },
        ];
        let summaries = number_summaries(&survey, &checks);
        let teachers = summaries
            .iter()
            .find(|summary| summary.key == "teachers_fulltime")
            .expect("a number question");
        assert_eq!(teachers.n, 3);
        assert_eq!(teachers.sum, Some(49.0));
        assert_eq!(teachers.median, Some(12.0));
        assert_eq!((teachers.min, teachers.max), (Some(7.0), Some(30.0)));
        assert_eq!(teachers.schools[3].value, None);
        let retention = summaries
            .iter()
            .find(|summary| summary.key == "retention_junior")
            .expect("a decimal question");
        assert_eq!(retention.sum, None);
        assert_eq!(retention.median, Some(97.25));
        assert_eq!(retention.mean, Some(97.25));
    }
}
