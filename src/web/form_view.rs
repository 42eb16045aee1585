//! The template context of a survey form: the checked survey, plus (when a submission is shown
//! again) what the person sent and what was wrong, turned into plain structs for handlebars.

use serde::Serialize;

use crate::answering::{FormErrors, FormFields};
use crate::survey::{ChoiceOption, Question, QuestionKind, ScalePoint, Survey};

#[derive(Serialize)]
pub struct SectionView {
    pub title: String,
    pub area: &'static str,
    pub intro: Option<String>,
    pub questions: Vec<QuestionView>,
}

#[derive(Serialize)]
pub struct OptionView {
    pub value: String,
    pub label: String,
    pub input_id: String,
    pub checked: bool,
}

#[derive(Serialize)]
pub struct RowView {
    pub name: String,
    pub text: String,
    pub options: Vec<OptionView>,
}

#[derive(Serialize, Default)]
pub struct QuestionView {
    pub id: String,
    pub text: String,
    pub help: Option<String>,
    pub required: bool,
    /// `required` on the inputs themselves: only when the question always shows.
    pub required_attr: bool,
    pub conditional: bool,
    pub error: Option<String>,
    pub kind: &'static str,
    pub is_choice: bool,
    pub is_scale: bool,
    pub is_multiple: bool,
    pub is_matrix: bool,
    pub is_number: bool,
    pub is_text: bool,
    pub is_long_text: bool,
    pub is_rating: bool,
    pub hint: Option<String>,
    pub options: Vec<OptionView>,
    pub rows: Vec<RowView>,
    pub value: String,
    pub unit: Option<String>,
    pub decimal: bool,
    pub min: Option<String>,
    pub max: Option<String>,
    pub max_length: u32,
    pub min_label: Option<String>,
    pub max_label: Option<String>,
}

/// A CSS rule that hides a conditional question until its condition holds (progressive: a
/// browser without `:has()` shows every question, and the server ignores answers to hidden ones).
#[derive(Serialize)]
pub struct ConditionRule {
    pub id: String,
    pub question: String,
    pub codes: Vec<String>,
}

#[derive(Serialize)]
pub struct FormView {
    pub sections: Vec<SectionView>,
    pub conditions: Vec<ConditionRule>,
}

/// Builds the view; `submitted` carries what was sent and what was wrong with it.
pub fn form_view(survey: &Survey, submitted: Option<(&FormFields, &FormErrors)>) -> FormView {
    let mut conditions = Vec::new();
    let sections = survey
        .sections
        .iter()
        .map(|section| SectionView {
            title: section.title.clone(),
            area: section.area.label(),
            intro: section.intro.clone(),
            questions: section
                .questions
                .iter()
                .map(|question| {
                    if let Some(show_if) = &question.show_if {
                        conditions.push(ConditionRule {
                            id: question.id.clone(),
                            question: show_if.question.clone(),
                            codes: show_if.any_of.clone(),
                        });
                    }
                    question_view(question, submitted)
                })
                .collect(),
        })
        .collect();
    FormView {
        sections,
        conditions,
    }
}

fn plain(number: f64) -> String {
    if number.fract() == 0.0 {
        format!("{}", number as i64)
    } else {
        format!("{number}")
    }
}

fn question_view(
    question: &Question,
    submitted: Option<(&FormFields, &FormErrors)>,
) -> QuestionView {
    let sent = |name: &str| -> Vec<String> {
        submitted
            .map(|(fields, _)| fields.values(name).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let choice_options = |name: &str, options: &[(String, String)]| -> Vec<OptionView> {
        let picked = sent(name);
        options
            .iter()
            .map(|(code, label)| OptionView {
                value: code.clone(),
                label: label.clone(),
                input_id: format!("{name}-{code}"),
                checked: picked.iter().any(|value| value == code),
            })
            .collect()
    };
    let from_options = |options: &[ChoiceOption]| -> Vec<(String, String)> {
        options
            .iter()
            .map(|option| (option.code.clone(), option.label.clone()))
            .collect()
    };
    let from_points = |points: &[ScalePoint]| -> Vec<(String, String)> {
        points
            .iter()
            .map(|point| (point.code.clone(), point.label.clone()))
            .collect()
    };
    let id = question.id.as_str();
    let mut view = QuestionView {
        id: question.id.clone(),
        text: question.text.clone(),
        help: question.help.clone(),
        required: question.required,
        required_attr: question.required && question.show_if.is_none(),
        conditional: question.show_if.is_some(),
        error: submitted.and_then(|(_, errors)| errors.by_question.get(id).cloned()),
        kind: question.kind.name(),
        ..QuestionView::default()
    };
    match &question.kind {
        QuestionKind::Single { options } => {
            view.is_choice = true;
            view.options = choice_options(id, &from_options(options));
        }
        QuestionKind::Scale { scale } => {
            view.is_scale = true;
            view.options = choice_options(id, &from_points(&scale.points));
        }
        QuestionKind::YesNo { .. } => {
            view.is_scale = true;
            view.options = choice_options(
                id,
                &[("yes".into(), "是".into()), ("no".into(), "否".into())],
            );
        }
        QuestionKind::Multiple { options, min, max } => {
            view.is_multiple = true;
            view.required_attr = false;
            view.options = choice_options(id, &from_options(options));
            view.hint = Some(match (min, max) {
                (min, Some(max)) if *min > 1 => format!("可多选，选 {min} 到 {max} 项"),
                (_, Some(max)) => format!("可多选，最多选 {max} 项"),
                (min, None) if *min > 1 => format!("可多选，至少选 {min} 项"),
                _ => "可多选".to_owned(),
            });
        }
        QuestionKind::Matrix { scale, rows } => {
            view.is_matrix = true;
            let points = from_points(&scale.points);
            view.rows = rows
                .iter()
                .map(|row| {
                    let name = format!("{id}.{}", row.id);
                    RowView {
                        options: choice_options(&name, &points),
                        name,
                        text: row.text.clone(),
                    }
                })
                .collect();
        }
        QuestionKind::Number {
            decimal,
            min,
            max,
            unit,
        } => {
            view.is_number = true;
            view.decimal = *decimal;
            view.unit = unit.clone();
            view.min = min.map(plain);
            view.max = max.map(plain);
            view.value = sent(id).into_iter().next().unwrap_or_default();
        }
        QuestionKind::Text { max_length } => {
            view.is_text = true;
            view.max_length = *max_length;
            view.value = sent(id).into_iter().next().unwrap_or_default();
        }
        QuestionKind::LongText { max_length } => {
            view.is_long_text = true;
            view.max_length = *max_length;
            view.value = sent(id).into_iter().next().unwrap_or_default();
        }
        QuestionKind::Rating {
            min_label,
            max_label,
        } => {
            view.is_rating = true;
            let points: Vec<(String, String)> =
                (0..=10).map(|n| (n.to_string(), n.to_string())).collect();
            view.options = choice_options(id, &points);
            view.min_label = min_label.clone();
            view.max_label = max_label.clone();
        }
    }
    view
}
