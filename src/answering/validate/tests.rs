//! Unit tests of form validation, compiled only under `#[cfg(test)]` (see `mod tests` in validate.rs).

use super::*;
use crate::survey::{Area, Audience, ChoiceOption, MatrixRow, Scale, ScalePoint, Section, ShowIf};

fn scale() -> Scale {
    Scale {
        id: "satisfaction".into(),
        name: "满意度".into(),
        points: ["5", "4", "3", "2", "1"]
            .iter()
            .map(|code| ScalePoint {
                code: (*code).into(),
                label: (*code).into(),
                score: None,
                satisfied: false,
            })
            .collect(),
    }
}

fn question(id: &str, kind: QuestionKind) -> Question {
    Question {
        id: id.into(),
        text: id.into(),
        help: None,
        required: true,
        show_if: None,
        scored: false,
        kind,
    }
}

fn survey() -> Survey {
    let mut funded = question("funded", QuestionKind::Scale { scale: scale() });
    funded.show_if = Some(ShowIf {
        question: "poor".into(),
        any_of: vec!["yes".into()],
    });
    let mut advice = question("advice", QuestionKind::LongText { max_length: 10 });
    advice.required = false;
    Survey {
        id: "parents".into(),
        title: "家长".into(),
        audience: Audience::Parents,
        intro: String::new(),
        minutes: None,
        thanks: None,
        sections: vec![Section {
            id: "s".into(),
            title: "s".into(),
            area: Area::Overall,
            intro: None,
            questions: vec![
                question(
                    "poor",
                    QuestionKind::YesNo {
                        yes_score: None,
                        no_score: None,
                    },
                ),
                funded,
                question(
                    "help",
                    QuestionKind::Multiple {
                        options: ["a", "b", "c"]
                            .iter()
                            .map(|code| ChoiceOption {
                                code: (*code).into(),
                                label: (*code).into(),
                                score: None,
                            })
                            .collect(),
                        min: 1,
                        max: Some(2),
                    },
                ),
                question(
                    "meals",
                    QuestionKind::Matrix {
                        scale: scale(),
                        rows: vec![
                            MatrixRow {
                                id: "food".into(),
                                text: "饭菜".into(),
                            },
                            MatrixRow {
                                id: "water".into(),
                                text: "饮水".into(),
                            },
                        ],
                    },
                ),
                question(
                    "children",
                    QuestionKind::Number {
                        decimal: false,
                        min: Some(0.0),
                        max: Some(10.0),
                        unit: Some("个".into()),
                    },
                ),
                question(
                    "recommend",
                    QuestionKind::Rating {
                        min_label: None,
                        max_label: None,
                    },
                ),
                advice,
            ],
        }],
    }
}

fn form(pairs: &[(&str, &str)]) -> FormFields {
    FormFields::new(
        pairs
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect(),
    )
}

const GOOD: &[(&str, &str)] = &[
    ("_key", "K"),
    ("_t", "1"),
    ("poor", "yes"),
    ("funded", "4"),
    ("help", "a"),
    ("help", "c"),
    ("meals.food", "5"),
    ("meals.water", "3"),
    ("children", "２"),
    ("recommend", "9"),
    ("advice", "  多谢\r\n老师  "),
];

#[test]
fn a_complete_form_becomes_a_valid_response_with_its_tallies() {
    let survey = survey();
    let valid = validate(&survey, &form(GOOD)).expect("valid");
    assert_eq!(valid.answers["children"], Answer::Integer(2));
    // A question's values keep the order they were sent in, wherever the form put them.
    let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
    pairs.swap(4, 5);
    pairs.swap(0, 9);
    let reordered = validate(&survey, &form(&pairs)).expect("valid");
    assert_eq!(
        reordered.answers["help"],
        Answer::Choices(vec!["c".into(), "a".into()])
    );
    assert_eq!(valid.answers["advice"], Answer::Text("多谢\n老师".into()));
    assert_eq!(
        valid.to_json(),
        r#"{"advice":"多谢\n老师","children":2,"funded":"4","help":["a","c"],"meals":{"food":"5","water":"3"},"poor":"yes","recommend":"9"}"#
    );
    let keys = valid.tally_keys();
    let mut keys: Vec<(&str, &str)> = keys.iter().collect();
    keys.sort();
    assert_eq!(
        keys,
        vec![
            ("funded", "4"),
            ("help", "a"),
            ("help", "c"),
            ("meals.food", "5"),
            ("meals.water", "3"),
            ("poor", "yes"),
            ("recommend", "9"),
        ]
    );
}

#[test]
fn missing_required_answers_are_named_beside_their_questions() {
    let errors = validate(
        &survey(),
        &form(&[("_key", "K"), ("poor", "yes"), ("meals.food", "5")]),
    )
    .expect_err("invalid");
    assert!(!errors.malformed);
    assert_eq!(errors.by_question["funded"], "请选择一项。");
    assert_eq!(errors.by_question["help"], "请至少选择一项。");
    assert_eq!(
        errors.by_question["meals"],
        "还有 1 项没有选择，请为每一项作出选择。"
    );
    assert_eq!(errors.by_question["children"], "请填写这一题。");
    assert!(!errors.by_question.contains_key("advice"));
}

#[test]
fn a_hidden_question_is_neither_required_nor_stored() {
    let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
    pairs[2] = ("poor", "no");
    let survey = survey();
    let valid = validate(&survey, &form(&pairs)).expect("valid");
    assert!(!valid.answers.contains_key("funded"));
    pairs.retain(|(name, _)| *name != "funded");
    assert!(validate(&survey, &form(&pairs)).is_ok());
}

#[test]
fn ranges_picks_and_lengths_are_checked() {
    let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
    pairs[8] = ("children", "11");
    pairs.push(("help", "b"));
    pairs[10] = ("advice", "一二三四五六七八九十十一");
    let errors = validate(&survey(), &form(&pairs)).expect_err("invalid");
    assert_eq!(
        errors.by_question["children"],
        "请填写 0 到 10 之间的数（单位：个）。"
    );
    assert_eq!(
        errors.by_question["help"],
        "最多只能选择 2 项（您选了 3 项）。"
    );
    assert_eq!(
        errors.by_question["advice"],
        "最多 10 个字，您写了 12 个字，请删减一些。"
    );
    assert!(!errors.malformed);
}

#[test]
fn forged_options_unknown_and_repeated_fields_are_malformed() {
    let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
    pairs[3] = ("funded", "6");
    let errors = validate(&survey(), &form(&pairs)).expect_err("invalid");
    assert!(errors.malformed);
    assert_eq!(
        errors.by_question["funded"],
        "所选的选项不在本题中，请重新选择。"
    );

    let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
    pairs.push(("drop_table", "1"));
    let errors = validate(&survey(), &form(&pairs)).expect_err("invalid");
    assert!(errors.malformed);
    assert_eq!(errors.general, vec![NOT_FROM_THIS_FORM.to_owned()]);

    let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
    pairs.push(("recommend", "3"));
    let errors = validate(&survey(), &form(&pairs)).expect_err("invalid");
    assert!(errors.malformed);
    assert!(errors.by_question.contains_key("recommend"));

    // Fields that only look like a question's: a matrix's row it does not have, the matrix's
    // own id, a row of a question that is no matrix, a prefix of a question's id.
    for field in ["meals.air", "meals", "poor.food", "mea", "meals.food.x"] {
        let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
        pairs.push((field, "3"));
        let errors = validate(&survey(), &form(&pairs)).expect_err(field);
        assert!(errors.malformed, "{field}");
        assert_eq!(
            errors.general,
            vec![NOT_FROM_THIS_FORM.to_owned()],
            "{field}"
        );
    }

    let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
    pairs.push(("_key", "other"));
    assert!(
        validate(&survey(), &form(&pairs))
            .expect_err("invalid")
            .malformed
    );
}

#[test]
fn numbers_typed_with_a_chinese_keyboard_are_understood() {
    assert_eq!(normalize_number(" １２．５ "), "12.5");
    assert_eq!(normalize_number("1,200"), "1200");
    let mut pairs: Vec<(&str, &str)> = GOOD.to_vec();
    pairs[8] = ("children", "2.5");
    let errors = validate(&survey(), &form(&pairs)).expect_err("invalid");
    assert_eq!(errors.by_question["children"], "请填写一个整数，例如 12。");
}

#[test]
fn a_code_is_known_exactly_when_it_is_in_the_questions_list_of_codes() {
    let kinds = [
        QuestionKind::Scale { scale: scale() },
        QuestionKind::YesNo {
            yes_score: None,
            no_score: None,
        },
        QuestionKind::Rating {
            min_label: None,
            max_label: None,
        },
        QuestionKind::Single {
            options: vec![ChoiceOption {
                code: "a".into(),
                label: "甲".into(),
                score: None,
            }],
        },
        QuestionKind::LongText { max_length: 10 },
    ];
    let tries = [
        "", "0", "00", "07", "+5", "5", "10", "11", "yes", "no", "Yes", "a", "b", " a",
    ];
    for kind in &kinds {
        let codes = kind.codes().unwrap_or_default();
        for code in tries {
            assert_eq!(
                kind.has_code(code),
                codes.iter().any(|known| known == code),
                "{code:?} for {kind:?}"
            );
        }
    }
}

#[test]
fn answers_keep_one_answer_a_question_and_serialise_in_order_of_bytes() {
    let mut answers = Answers::default();
    answers.insert("zeta", Answer::Integer(1));
    answers.insert("alpha", Answer::Choice("a".into()));
    answers.insert("zeta", Answer::Integer(2));
    assert_eq!(answers.len(), 2);
    assert_eq!(answers["zeta"], Answer::Integer(2));
    assert!(answers.get("beta").is_none());
    assert_eq!(
        ValidResponse { answers }.to_json(),
        r#"{"alpha":"a","zeta":2}"#
    );
}
