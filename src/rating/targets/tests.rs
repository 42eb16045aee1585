//! Unit tests, compiled only under `#[cfg(test)]` (see `mod tests` in the parent module).

//! The shipped `targets.toml` loads and says what the plan's 四 says; every mistake in a target
//! is reported with the file and the target; progress is counted by hand on small counties.

use serde_json::{Map, Value, json};

use super::*;
use crate::rating::tests::{shipped_plan, targets_from};

fn a_school(id: i32, kind: &str, key_village: bool) -> entity::school::Model {
    let now = chrono::Utc::now();
    entity::school::Model {
        id,
        code: format!("45212300{id:02}"),
        name: format!("学校{id}"),
        township: "青溪镇".into(),
        kind: kind.into(),
        is_central: false,
        is_key_village: key_village,
        enrolment: 100,
        teachers: 10,
        created_at: now,
        updated_at: now,
    }
}

fn answers(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("answers are an object"),
    }
}

fn one_target(body: &str) -> Result<CountyTarget, Vec<String>> {
    let text = format!(
        "survey = \"school\"\n\n[[targets]]\nid = \"t\"\ntitle = \"目标\"\narea = \"nutrition\"\n\
         basis = \"四（六）\"\n{body}"
    );
    targets_from(&text).map(|mut targets| targets.remove(0))
}

fn errors_of(body: &str) -> Vec<String> {
    one_target(body).err().unwrap_or_default()
}

#[test]
fn the_shipped_targets_are_the_plans_three_for_the_key_villages() {
    let targets = &shipped_plan().targets;
    let summary: Vec<(&str, Goal)> = targets
        .iter()
        .map(|target| (target.id.as_str(), target.goal))
        .collect();
    assert_eq!(
        summary,
        [
            ("key_village_model_canteens", Goal::Number(36.0)),
            ("key_village_small_kitchens", Goal::Number(14.0)),
            ("key_village_preschool", Goal::EverySchool),
        ]
    );
    for target in targets {
        assert_eq!(target.survey, "school");
        assert_eq!(
            target
                .schools
                .as_ref()
                .and_then(|schools| schools.key_village),
            Some(true),
            "{}",
            target.id
        );
        assert!(target.basis.starts_with("四（"), "{}", target.basis);
        assert!(matches!(target.measure, Measure::Count { .. }));
    }
    assert_eq!(
        targets[0].describe_measure(),
        "学校食堂情况：达到示范食堂标准"
    );
    assert_eq!(targets[0].describe_schools(), "重点村学校");
}

#[test]
fn every_mistake_in_a_target_names_the_file_and_the_target() {
    let cases: [(&str, &str); 9] = [
        (
            "count = { yes = \"no_such_question\" }\ntarget = 3",
            "surveys/targets.toml: target t: survey school has no question no_such_question",
        ),
        (
            "count = { yes = \"canteen_standard\" }\ntarget = 3",
            "surveys/targets.toml: target t: question canteen_standard is not a yes_no question \
             of survey school (it is a single question)",
        ),
        (
            "count = { choice = \"canteen_standard\", accepted = [\"gold\"] }\ntarget = 3",
            "surveys/targets.toml: target t: `accepted`: question canteen_standard has no option \
             \"gold\" (it has model, basic, below, none)",
        ),
        (
            "count = { yes = \"menu_records\" }\nsum = \"enrolment\"\ntarget = 3",
            "surveys/targets.toml: target t: give `count` or `sum`, not both",
        ),
        (
            "target = 3",
            "surveys/targets.toml: target t: nothing to count: give `count` (a condition on a \
             school's answer) or `sum` (a number question)",
        ),
        (
            "count = { yes = \"menu_records\" }\ntarget = \"most\"",
            "surveys/targets.toml: target t: `target` \"most\" is not a number: give the number \
             to reach, or \"all\" for every school a `count` is about",
        ),
        (
            "count = { yes = \"menu_records\" }\ntarget = 2.5",
            "surveys/targets.toml: target t: `target` (2.5) must be a whole number of schools, at \
             least 1",
        ),
        (
            "sum = \"canteen_standard\"\ntarget = 100",
            "surveys/targets.toml: target t: question canteen_standard is not a number question \
             of survey school (it is a single question)",
        ),
        (
            "schools = { kind = [\"大学\"] }\ncount = { yes = \"menu_records\" }\ntarget = 3",
            "surveys/targets.toml: target t: schools: unknown kind of school \"大学\": use one of \
             幼儿园、小学、初中、九年一贯制、高中、中职、教学点",
        ),
    ];
    for (body, expected) in cases {
        assert_eq!(errors_of(body), [expected], "{body}");
    }
}

#[test]
fn a_typo_an_unknown_area_a_twice_used_id_and_an_unknown_survey_are_errors() {
    let typo = targets_from(
        "survey = \"school\"\n[[targets]]\nid = \"t\"\ntitle = \"x\"\narea = \"nutrition\"\n\
         basis = \"四\"\ncount = { yes = \"menu_records\" }\ntraget = 3\n",
    )
    .expect_err("a typo");
    assert_eq!(typo.len(), 1);
    assert!(
        typo[0].starts_with("surveys/targets.toml: line "),
        "{typo:?}"
    );
    assert!(typo[0].contains("traget"), "{typo:?}");

    assert_eq!(
        errors_of("count = { yes = \"menu_records\" }\ntarget = 3"),
        Vec::<String>::new(),
        "a sound target has no error"
    );
    let unknown_area = targets_from(
        "survey = \"school\"\n[[targets]]\nid = \"t\"\ntitle = \"x\"\narea = \"canteens\"\n\
         basis = \"四\"\ncount = { yes = \"menu_records\" }\ntarget = 3\n",
    )
    .expect_err("an unknown area");
    assert_eq!(unknown_area.len(), 1, "{unknown_area:?}");
    assert!(
        unknown_area[0].starts_with("surveys/targets.toml: target t: unknown area \"canteens\""),
        "{unknown_area:?}"
    );

    let twice = targets_from(
        "survey = \"school\"\n\
         [[targets]]\nid = \"t\"\ntitle = \"x\"\narea = \"nutrition\"\nbasis = \"四\"\n\
         count = { yes = \"menu_records\" }\ntarget = 3\n\
         [[targets]]\nid = \"t\"\ntitle = \"y\"\narea = \"nutrition\"\nbasis = \"四\"\n\
         count = { yes = \"escort_meals\" }\ntarget = 3\n",
    )
    .expect_err("an id used twice");
    assert_eq!(
        twice,
        ["surveys/targets.toml: target t: this target id appears twice in the file"]
    );

    let survey = targets_from("survey = \"parents\"\n").expect_err("not a self-check");
    assert_eq!(survey.len(), 1);
    assert!(
        survey[0].starts_with("surveys/targets.toml: survey: survey parents is answered by"),
        "{survey:?}"
    );
}

#[test]
fn progress_counts_the_key_village_schools_whose_answer_meets_the_condition() {
    let target = &shipped_plan().targets[0];
    let schools = [
        a_school(1, "小学", true),
        a_school(2, "小学", true),
        a_school(3, "教学点", true),
        a_school(4, "小学", true),
        a_school(5, "初中", false),
        a_school(6, "小学", true),
    ];
    let given = [
        Some(answers(json!({"canteen_standard": "model"}))),
        Some(answers(json!({"canteen_standard": "basic"}))),
        Some(answers(json!({"canteen_standard": "none"}))),
        None,
        // Not a key-village school: not counted, however model its canteen.
        Some(answers(json!({"canteen_standard": "model"}))),
        Some(answers(json!({}))),
    ];
    let progress =
        target.progress(
            schools
                .iter()
                .zip(&given)
                .map(|(school, answers)| TargetSchool {
                    school,
                    answers: answers.as_ref(),
                }),
        );
    assert_eq!(progress.achieved, 1.0);
    assert_eq!(progress.target, 36.0);
    assert_eq!(progress.share, Some(1.0 / 36.0));
    assert!(!progress.reached);
    assert_eq!(progress.schools_counted, 5);
    assert_eq!(progress.submitted, 4);
    let groups: Vec<(SchoolStatus, Vec<i32>, Vec<&str>)> = progress
        .groups
        .iter()
        .map(|group| {
            (
                group.status,
                group.schools.iter().map(|line| line.school_id).collect(),
                group
                    .schools
                    .iter()
                    .map(|line| line.value.as_str())
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        [
            (SchoolStatus::Meets, vec![1], vec!["达到示范食堂标准"]),
            (SchoolStatus::DoesNotMeet, vec![2], vec!["基本达标"]),
            (SchoolStatus::LeftEmpty, vec![6], vec![""]),
            (SchoolStatus::NotSubmitted, vec![4], vec![""]),
            (
                SchoolStatus::NotApplicable,
                vec![3],
                vec!["无食堂（小伙房办灶或其他方式供餐）"]
            ),
        ]
    );
}

#[test]
fn every_school_is_the_schools_counted_less_those_it_does_not_apply_to() {
    let target = &shipped_plan().targets[2];
    let schools = [
        a_school(1, "小学", true),
        a_school(2, "教学点", true),
        a_school(3, "小学", true),
    ];
    let given = [
        Some(answers(
            json!({"school_location": "village", "preschool_three_year": "yes"}),
        )),
        // A county school is not shown the question: not applicable.
        Some(answers(json!({"school_location": "county"}))),
        None,
    ];
    let progress =
        target.progress(
            schools
                .iter()
                .zip(&given)
                .map(|(school, answers)| TargetSchool {
                    school,
                    answers: answers.as_ref(),
                }),
        );
    assert!(progress.every_school);
    assert_eq!((progress.achieved, progress.target), (1.0, 2.0));
    assert_eq!(progress.share, Some(0.5));
}

#[test]
fn a_sum_adds_the_numbers_reported_and_leaves_out_the_empty() {
    let target =
        one_target("schools = { key_village = true }\nsum = \"nutrition_students\"\ntarget = 500")
            .expect("a sum target");
    let schools = [
        a_school(1, "小学", true),
        a_school(2, "小学", true),
        a_school(3, "小学", true),
    ];
    let given = [
        Some(answers(
            json!({"nutrition_plan_school": "yes", "nutrition_students": 120}),
        )),
        Some(answers(
            json!({"nutrition_plan_school": "yes", "nutrition_students": 80}),
        )),
        Some(answers(json!({"nutrition_plan_school": "no"}))),
    ];
    let progress =
        target.progress(
            schools
                .iter()
                .zip(&given)
                .map(|(school, answers)| TargetSchool {
                    school,
                    answers: answers.as_ref(),
                }),
        );
    assert_eq!(progress.measure, "sum");
    assert_eq!(progress.unit, "人");
    assert_eq!((progress.achieved, progress.target), (200.0, 500.0));
    assert_eq!(progress.groups[0].status, SchoolStatus::Reported);
    assert_eq!(progress.groups[0].schools[0].value, "120 人");
    assert_eq!(progress.groups[1].status, SchoolStatus::LeftEmpty);
}

#[test]
fn a_verified_value_stands_in_for_the_reported_one() {
    let target = &shipped_plan().targets[0];
    let school = a_school(1, "小学", true);
    let reported = answers(json!({"canteen_standard": "model", "menu_records": "yes"}));
    let verified = answers(json!({"canteen_standard": "basic"}));
    let overlay = VerifiedOverReported {
        verified: &verified,
        reported: &reported,
    };
    let on_report = target.progress([TargetSchool {
        school: &school,
        answers: Some(&reported),
    }]);
    let on_visit = target.progress([TargetSchool {
        school: &school,
        answers: Some(&overlay),
    }]);
    assert_eq!((on_report.achieved, on_visit.achieved), (1.0, 0.0));
    let source = |progress: &TargetProgress| progress.groups[0].schools[0].from;
    assert_eq!(source(&on_report), Some(ValueSource::Reported));
    assert_eq!(source(&on_visit), Some(ValueSource::Verified));
    assert_eq!(
        overlay.answer("menu_records"),
        Some(AnswerValue::Code("yes")),
        "a question the visit did not verify keeps the school's answer"
    );
}
