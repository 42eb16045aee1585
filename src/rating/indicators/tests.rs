//! Unit tests, compiled only under `#[cfg(test)]` (see `mod tests` in the parent module).

//! Indicator outcomes for schools whose answers are worked out by hand, with the shipped
//! `surveys/indicators.toml` and a few indicators written here for formats it does not use.

use serde_json::{Map, Value, json};

use super::*;
use crate::rating::tests::{indicators_from, shipped_plan};

fn answers(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => panic!("answers are an object"),
    }
}

fn school(kind: SchoolKind) -> SchoolProfile {
    SchoolProfile {
        kind,
        central: false,
        key_village: false,
    }
}

fn central(kind: SchoolKind) -> SchoolProfile {
    SchoolProfile {
        central: true,
        ..school(kind)
    }
}

fn key_village(kind: SchoolKind) -> SchoolProfile {
    SchoolProfile {
        key_village: true,
        ..school(kind)
    }
}

fn shipped(id: &str) -> &'static Indicator {
    shipped_plan()
        .indicator(id)
        .unwrap_or_else(|| panic!("no indicator {id}"))
}

fn outcome(id: &str, profile: SchoolProfile, answers_given: Value) -> Evaluation {
    shipped(id).evaluate(&profile, &answers(answers_given))
}

fn close(actual: Option<f64>, expected: f64) {
    let actual = actual.expect("a value");
    assert!(
        (actual - expected).abs() < 1e-12,
        "{actual} is not {expected}"
    );
}

#[test]
fn qualified_teachers_are_held_to_75_percent() {
    // 16 of 20 = 0.80 ≥ 0.75; 14 of 20 = 0.70 < 0.75; 15 of 20 = 0.75 exactly meets it.
    let met = outcome(
        "qualified_teachers",
        school(SchoolKind::Primary),
        json!({"teachers_fulltime": 20, "teachers_college": 16}),
    );
    assert_eq!(met.outcome, Outcome::Met);
    close(met.value, 0.8);
    assert_eq!(met.target, Some(Target::AtLeast { value: 0.75 }));
    let not_met = outcome(
        "qualified_teachers",
        school(SchoolKind::Primary),
        json!({"teachers_fulltime": 20, "teachers_college": 14}),
    );
    assert_eq!(not_met.outcome, Outcome::NotMet);
    close(not_met.value, 0.7);
    let edge = outcome(
        "qualified_teachers",
        school(SchoolKind::Primary),
        json!({"teachers_fulltime": 20, "teachers_college": 15}),
    );
    assert_eq!(edge.outcome, Outcome::Met);
}

#[test]
fn central_schools_need_twice_the_backbone_teachers() {
    // 3 of 20 = 15%: enough for an ordinary school (10%), not for a central one (20%).
    let given = json!({"teachers_fulltime": 20, "teachers_backbone": 3});
    let ordinary = outcome(
        "backbone_teachers",
        school(SchoolKind::Primary),
        given.clone(),
    );
    assert_eq!(ordinary.outcome, Outcome::Met);
    assert_eq!(ordinary.target, Some(Target::AtLeast { value: 0.1 }));
    let central_school = outcome("backbone_teachers", central(SchoolKind::Primary), given);
    assert_eq!(central_school.outcome, Outcome::NotMet);
    assert_eq!(central_school.target, Some(Target::AtLeast { value: 0.2 }));
    // 7 of 70 is 0.1 up to rounding; it meets 10%.
    let seven_of_seventy = outcome(
        "backbone_teachers",
        school(SchoolKind::Junior),
        json!({"teachers_fulltime": 70, "teachers_backbone": 7}),
    );
    assert_eq!(seven_of_seventy.outcome, Outcome::Met);
}

#[test]
fn funding_of_registered_poor_students_must_be_complete() {
    let funded = |poor: u32, funded: u32| {
        outcome(
            "poor_students_funded",
            school(SchoolKind::Primary),
            json!({"poor_students": poor, "poor_students_funded": funded}),
        )
    };
    assert_eq!(funded(50, 50).outcome, Outcome::Met);
    // 49 of 50 = 98% < 100%.
    let short = funded(50, 49);
    assert_eq!(short.outcome, Outcome::NotMet);
    close(short.value, 0.98);
    // No registered poor students: nothing to measure.
    assert_eq!(
        funded(0, 0).outcome,
        Outcome::NotApplicable {
            reason: NotApplicable::ZeroDenominator {
                question: "poor_students".to_owned()
            }
        }
    );
    // More funded than registered: met, but flagged for the supervisor.
    let doubtful = funded(50, 51);
    assert_eq!(doubtful.outcome, Outcome::Met);
    let doubt = doubtful.doubt.expect("a doubt");
    assert_eq!(
        doubt,
        Doubt::PartExceedsWhole {
            part: 51.0,
            whole: 50.0
        }
    );
    assert_eq!(doubt.message(), "其中数（51）大于总数（50），请与学校核对");
}

#[test]
fn dropouts_count_only_in_compulsory_schools() {
    let primary = outcome(
        "no_poor_dropouts",
        school(SchoolKind::Primary),
        json!({"poor_dropouts": 0}),
    );
    assert_eq!(primary.outcome, Outcome::Met);
    let one = outcome(
        "no_poor_dropouts",
        school(SchoolKind::TeachingPoint),
        json!({"poor_dropouts": 1}),
    );
    assert_eq!(one.outcome, Outcome::NotMet);
    let kindergarten = outcome(
        "no_poor_dropouts",
        school(SchoolKind::Kindergarten),
        json!({"poor_dropouts": 1}),
    );
    assert_eq!(
        kindergarten.outcome,
        Outcome::NotApplicable {
            reason: NotApplicable::SchoolNotCovered
        }
    );
    let blank = outcome("no_poor_dropouts", school(SchoolKind::Junior), json!({}));
    assert_eq!(
        blank.outcome,
        Outcome::NotReported {
            question: "poor_dropouts".to_owned()
        }
    );
}

#[test]
fn the_vocational_subsidy_applies_to_vocational_schools_offering_the_stage() {
    let vocational =
        |given: Value| outcome("vocational_subsidy", school(SchoolKind::Vocational), given);
    let stages = json!(["vocational"]);
    assert_eq!(
        vocational(json!({"stages": stages, "vocational_subsidy_per_student": 1500})).outcome,
        Outcome::Met
    );
    assert_eq!(
        vocational(json!({"stages": stages, "vocational_subsidy_per_student": 1499.5})).outcome,
        Outcome::NotMet
    );
    // The question is optional: left empty, the indicator is not reported.
    assert_eq!(
        vocational(json!({"stages": stages})).outcome,
        Outcome::NotReported {
            question: "vocational_subsidy_per_student".to_owned()
        }
    );
    // A school that did not tick the vocational stage was never shown the question.
    assert_eq!(
        vocational(json!({"stages": ["senior"]})).outcome,
        Outcome::NotApplicable {
            reason: NotApplicable::QuestionHidden {
                question: "vocational_subsidy_per_student".to_owned()
            }
        }
    );
    let primary = outcome(
        "vocational_subsidy",
        school(SchoolKind::Primary),
        json!({"stages": ["primary"]}),
    );
    assert_eq!(
        primary.outcome,
        Outcome::NotApplicable {
            reason: NotApplicable::SchoolNotCovered
        }
    );
}

#[test]
fn the_rural_allowance_does_not_apply_to_county_schools() {
    let county = outcome(
        "rural_allowance_paid",
        school(SchoolKind::Primary),
        json!({"school_location": "county"}),
    );
    assert_eq!(
        county.outcome,
        Outcome::NotApplicable {
            reason: NotApplicable::QuestionHidden {
                question: "rural_allowance_paid".to_owned()
            }
        }
    );
    let village_paid = outcome(
        "rural_allowance_paid",
        school(SchoolKind::Primary),
        json!({"school_location": "village", "rural_allowance_paid": "yes"}),
    );
    assert_eq!(village_paid.outcome, Outcome::Met);
    assert_eq!(village_paid.answer.as_deref(), Some("yes"));
    let village_unpaid = outcome(
        "rural_allowance_paid",
        school(SchoolKind::Primary),
        json!({"school_location": "village", "rural_allowance_paid": "no"}),
    );
    assert_eq!(village_unpaid.outcome, Outcome::NotMet);
}

#[test]
fn key_village_canteens_must_reach_the_model_standard() {
    let canteen = |profile, code: &str| {
        outcome(
            "canteen_standard",
            profile,
            json!({"canteen_standard": code}),
        )
        .outcome
    };
    assert_eq!(canteen(school(SchoolKind::Primary), "basic"), Outcome::Met);
    assert_eq!(
        canteen(school(SchoolKind::Primary), "below"),
        Outcome::NotMet
    );
    assert_eq!(
        canteen(key_village(SchoolKind::Primary), "basic"),
        Outcome::NotMet
    );
    assert_eq!(
        canteen(key_village(SchoolKind::Primary), "model"),
        Outcome::Met
    );
    assert_eq!(
        canteen(key_village(SchoolKind::Primary), "none"),
        Outcome::NotApplicable {
            reason: NotApplicable::ExcludedAnswer {
                code: "none".to_owned()
            }
        }
    );
    // A school with a canteen is not asked about its small kitchen.
    let kitchen = outcome(
        "small_kitchen_improved",
        key_village(SchoolKind::Primary),
        json!({"canteen_standard": "model"}),
    );
    assert!(matches!(kitchen.outcome, Outcome::NotApplicable { .. }));
}

#[test]
fn rates_per_unit_may_pass_one_without_doubt() {
    // 30 multimedia rooms for 24 classes = 1.25 ≥ 1.
    let multimedia = outcome(
        "multimedia_every_class",
        school(SchoolKind::Junior),
        json!({"multimedia_classrooms": 30, "classrooms": 24}),
    );
    assert_eq!(multimedia.outcome, Outcome::Met);
    close(multimedia.value, 1.25);
    assert_eq!(multimedia.doubt, None);
    assert_eq!(shipped("multimedia_every_class").format_value(1.25), "1.25");
}

#[test]
fn targets_and_values_read_as_a_supervisor_writes_them() {
    let backbone = shipped("backbone_teachers");
    assert_eq!(backbone.describe_target(&backbone.target), "≥ 10%");
    assert_eq!(
        backbone.describe_target(backbone.target_for(&central(SchoolKind::Primary))),
        "≥ 20%"
    );
    assert_eq!(backbone.format_value(2.0 / 3.0), "66.7%");
    assert_eq!(backbone.format_value(0.8), "80%");
    let dropouts = shipped("no_poor_dropouts");
    assert_eq!(dropouts.describe_target(&dropouts.target), "= 0 人");
    let subsidy = shipped("vocational_subsidy");
    assert_eq!(subsidy.describe_target(&subsidy.target), "≥ 1500 元");
    assert_eq!(subsidy.format_value(1499.5), "1499.5 元");
    let canteen = shipped("canteen_standard");
    assert_eq!(
        canteen.describe_target(&canteen.target),
        "达到示范食堂标准或基本达标"
    );
    assert_eq!(
        canteen.describe_target(canteen.target_for(&key_village(SchoolKind::Primary))),
        "达到示范食堂标准"
    );
    let broadband = shipped("broadband");
    assert_eq!(broadband.describe_target(&broadband.target), "是");
    assert_eq!(
        Outcome::NotReported {
            question: String::new()
        }
        .label(),
        "未填报"
    );
}

#[test]
fn a_village_primary_school_scored_area_by_area() {
    // A village primary school (not central, not in a key village), worked through by hand.
    let given = json!({
        "school_location": "village",
        "stages": ["primary"],
        "enrolment": 240,
        "poor_students": 30, "poor_students_funded": 30,            // met
        "poor_files_complete": "yes",                                // met
        "poor_dynamic": "no",                                        // not met
        "staff_help_poor": "yes",                                    // met
        "poor_dropouts": 0,                                          // met
        "standardised": "yes",                                       // met
        "drinking_water": "yes",                                     // met
        "toilets_standard": "no",                                    // not met
        "boarding_school": "no",                                     // beds, showers: hidden
        "disabled_children_catchment": 0, "disabled_children_enrolled": 0,  // n/a
        "left_behind_files": "yes", "left_behind_home": "yes", "family_phone": "no",
        "home_teaching_needed": "no",                                // home teaching: hidden
        "broadband": "yes", "classrooms": 6, "multimedia_classrooms": 3,    // met, not met
        "computers_for_teachers": 12, "teachers_fulltime": 12,       // met (1.0)
        "computer_room": "yes", "campus_network": "no", "digital_broadcast": "no",
        "online_classes": "yes",
        "teachers_college": 10, "teachers_backbone": 1,              // 83% met, 8.3% not met
        "teachers_sufficient": "yes", "rural_allowance_paid": "yes",
        "canteen_standard": "basic", "menu_records": "yes", "escort_meals": "yes",
        "paired_school": "yes", "pairing_events": 0,
    });
    let evaluations = evaluate_all(
        &shipped_plan().indicators,
        &school(SchoolKind::Primary),
        &answers(given),
    );
    let scores = indicator_area_scores(&evaluations);
    let score = |area| scores.get(&area).map(|estimate| estimate.value);
    // Poverty: funded, files, staff met; dynamic not: 3 of 4.
    close(score(Area::PovertyStudents), 75.0);
    // Stages: dropouts, standardised, water met; toilets not; preschool, senior, vocational,
    // two-after, beds, showers do not apply: 3 of 4.
    close(score(Area::EducationStages), 75.0);
    // Special: files, home met; phone not; disabled (0 children), home teaching, boarding
    // priority do not apply: 2 of 3.
    close(score(Area::SpecialChildren), 200.0 / 3.0);
    // IT: broadband, computers, room, online met; multimedia (0.5), network, broadcast not:
    // 4 of 7.
    close(score(Area::Informatization), 400.0 / 7.0);
    // Teachers: qualified, sufficient, allowance met; backbone not: 3 of 4.
    close(score(Area::RuralTeachers), 75.0);
    // Nutrition: canteen (basic, not a key village), menu, escort met; kitchen hidden: 3 of 3.
    close(score(Area::Nutrition), 100.0);
    // Pairing: paired met; no events: 1 of 2.
    close(score(Area::SchoolPairing), 50.0);
    assert_eq!(scores.len(), 7);
}

#[test]
fn an_area_whose_indicators_all_do_not_apply_has_no_score_and_blanks_count_against() {
    let evaluation = |area, outcome| Evaluation {
        indicator: "x".to_owned(),
        area,
        weight: 1.0,
        outcome,
        value: None,
        answer: None,
        target: None,
        doubt: None,
    };
    let scores = indicator_area_scores(&[
        evaluation(
            Area::Nutrition,
            Outcome::NotApplicable {
                reason: NotApplicable::SchoolNotCovered,
            },
        ),
        evaluation(Area::RuralTeachers, Outcome::Met),
        evaluation(
            Area::RuralTeachers,
            Outcome::NotReported {
                question: "q".to_owned(),
            },
        ),
    ]);
    assert_eq!(scores.get(&Area::Nutrition), None);
    close(scores.get(&Area::RuralTeachers).map(|e| e.value), 50.0);
}

#[test]
fn weights_zero_denominators_and_ranges_written_here() {
    let indicators = indicators_from(
        r#"
survey = "school"

[[indicators]]
id = "disabled_enrolment"
title = "三类残疾儿童入学率"
area = "special_children"
weight = 3
ratio = { numerator = "disabled_children_enrolled", denominator = "disabled_children_catchment", zero_denominator = "met" }
at_least = 0.9

[[indicators]]
id = "exchange"
title = "交流教师"
area = "special_children"
value = "teachers_exchanged"
at_least = 1
at_most = 5
applies_to = { key_village = false, kind = ["小学", "初中"] }

[[indicators]]
id = "dropouts_few"
title = "辍学不超过 1 人"
area = "education_stages"
value = "poor_dropouts"
at_most = 1
thresholds = [ { when = { key_village = true, central = true }, equals = 0 } ]
"#,
    )
    .unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
    let [disabled, exchange, dropouts] = &indicators[..] else {
        panic!("three indicators");
    };
    let primary = school(SchoolKind::Primary);
    let none = answers(json!({"disabled_children_catchment": 0, "disabled_children_enrolled": 0}));
    assert_eq!(disabled.evaluate(&primary, &none).outcome, Outcome::Met);

    let exchanged = |n: u32| answers(json!({ "teachers_exchanged": n }));
    assert_eq!(
        exchange.evaluate(&primary, &exchanged(0)).outcome,
        Outcome::NotMet
    );
    assert_eq!(
        exchange.evaluate(&primary, &exchanged(5)).outcome,
        Outcome::Met
    );
    assert_eq!(
        exchange.evaluate(&primary, &exchanged(6)).outcome,
        Outcome::NotMet
    );
    assert_eq!(exchange.describe_target(&exchange.target), "1 人 – 5 人");
    assert!(matches!(
        exchange
            .evaluate(&key_village(SchoolKind::Primary), &exchanged(3))
            .outcome,
        Outcome::NotApplicable { .. }
    ));
    assert!(matches!(
        exchange
            .evaluate(&school(SchoolKind::Senior), &exchanged(3))
            .outcome,
        Outcome::NotApplicable { .. }
    ));

    let one = answers(json!({"poor_dropouts": 1}));
    assert_eq!(dropouts.evaluate(&primary, &one).outcome, Outcome::Met);
    // Both parts of the condition must hold for the stricter target.
    assert_eq!(
        dropouts
            .evaluate(&key_village(SchoolKind::Primary), &one)
            .outcome,
        Outcome::Met
    );
    let strict = SchoolProfile {
        kind: SchoolKind::Primary,
        central: true,
        key_village: true,
    };
    assert_eq!(dropouts.evaluate(&strict, &one).outcome, Outcome::NotMet);

    // Weights: disabled (3) met, exchange (1) not met → 3/4 of special children.
    let evaluations = vec![
        disabled.evaluate(&primary, &none),
        exchange.evaluate(&primary, &exchanged(0)),
    ];
    close(
        indicator_area_scores(&evaluations)
            .get(&Area::SpecialChildren)
            .map(|estimate| estimate.value),
        75.0,
    );
}

#[test]
fn validated_answers_are_read_like_stored_ones() {
    let validated: BTreeMap<String, Answer> = BTreeMap::from([
        ("teachers_fulltime".to_owned(), Answer::Integer(20)),
        ("teachers_backbone".to_owned(), Answer::Integer(4)),
        (
            "school_location".to_owned(),
            Answer::Choice("central".into()),
        ),
        (
            "stages".to_owned(),
            Answer::Choices(vec!["primary".to_owned(), "junior".to_owned()]),
        ),
        (
            "rural_allowance_paid".to_owned(),
            Answer::Choice("yes".into()),
        ),
    ]);
    let profile = central(SchoolKind::NineYear);
    let backbone = shipped("backbone_teachers").evaluate(&profile, &validated);
    assert_eq!(backbone.outcome, Outcome::Met);
    close(backbone.value, 0.2);
    let allowance = shipped("rural_allowance_paid").evaluate(&profile, &validated);
    assert_eq!(allowance.outcome, Outcome::Met);
    let standardised = shipped("standardised").evaluate(&profile, &validated);
    assert_eq!(
        standardised.outcome,
        Outcome::NotReported {
            question: "standardised".to_owned()
        }
    );
}

#[test]
fn a_school_profile_comes_from_the_stored_school() {
    let now = chrono::Utc::now();
    let stored = entity::school::Model {
        id: 1,
        code: "4521000001".to_owned(),
        name: "中心小学".to_owned(),
        township: "城关镇".to_owned(),
        kind: "九年一贯制".to_owned(),
        is_central: true,
        is_key_village: false,
        enrolment: 740,
        teachers: 40,
        created_at: now,
        updated_at: now,
    };
    assert_eq!(
        SchoolProfile::of_school(&stored),
        Some(central(SchoolKind::NineYear))
    );
    let unknown = entity::school::Model {
        kind: "初级中学".to_owned(),
        ..stored
    };
    assert_eq!(SchoolProfile::of_school(&unknown), None);
}

#[test]
fn numbers_are_written_without_trailing_zeros() {
    assert_eq!(format_number(1500.0), "1500");
    assert_eq!(format_number(0.5), "0.5");
    assert_eq!(format_number(2.25), "2.25");
    assert_eq!(format_number(-0.001), "0");
}

#[test]
fn an_evaluation_serialises_for_templates() {
    let evaluation = outcome(
        "poor_students_funded",
        school(SchoolKind::Primary),
        json!({"poor_students": 0, "poor_students_funded": 0}),
    );
    assert_eq!(
        serde_json::to_value(&evaluation).expect("json"),
        json!({
            "indicator": "poor_students_funded",
            "area": "poverty_students",
            "weight": 1.0,
            "outcome": {
                "status": "not_applicable",
                "reason": { "why": "zero_denominator", "question": "poor_students" }
            },
            "value": null,
            "answer": null,
            "target": null,
            "doubt": null,
        })
    );
}

#[test]
fn a_reported_number_differs_from_the_verified_one_past_the_tolerance_of_at_least_one() {
    use super::number_differs;
    assert!(!number_differs(105.0, 100.0, 0.1));
    assert!(number_differs(111.0, 100.0, 0.1));
    // Small counts: the tolerance is of at least one, so 0 against 0.05 is the same.
    assert!(!number_differs(0.0, 0.05, 0.1));
    assert!(number_differs(0.0, 2.0, 0.1));
    assert!(!number_differs(7.0, 7.0, 0.0));
}

#[test]
fn a_report_that_made_an_indicator_not_applicable_differs_from_a_visits_judgement() {
    let plan_indicator = shipped("poor_students_funded");
    // Reporting no poor students makes the share not applicable; the visit found it applies.
    let zeroed = outcome(
        "poor_students_funded",
        school(SchoolKind::Primary),
        json!({"poor_students": 0, "poor_students_funded": 0}),
    );
    assert!(matches!(zeroed.outcome, Outcome::NotApplicable { .. }));
    for judgement in [false, true] {
        assert_eq!(
            plan_indicator.differs_from_verified(&zeroed, VerifiedValue::Judgement(judgement), 0.1),
            Some(true),
            "verified {judgement}"
        );
    }
    // An honest report compares as before.
    let honest = outcome(
        "poor_students_funded",
        school(SchoolKind::Primary),
        json!({"poor_students": 10, "poor_students_funded": 10}),
    );
    assert_eq!(
        plan_indicator.differs_from_verified(&honest, VerifiedValue::Judgement(true), 0.1),
        Some(false)
    );
}
