//! Unit tests, compiled only under `#[cfg(test)]` (see `mod tests` in the parent module).

//! The aggregation on hand-made tallies.

use super::*;
use crate::rating::stats::wilson_interval;

fn survey(id: &str) -> Survey {
    crate::survey::load_dir(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/surveys"
    )))
    .expect("the shipped plan loads")
    .get(id)
    .expect("the survey is in the plan")
    .survey
    .clone()
}

fn weights() -> BTreeMap<Area, f64> {
    crate::rating::rules::tests::customary_rules().area_weights
}

fn parents() -> Survey {
    survey("parents")
}

fn tally(school_id: i32, question: &str, option: &str, count: u64) -> TallyCount {
    TallyCount {
        school_id,
        question_key: question.to_owned(),
        option_key: option.to_owned(),
        count,
    }
}

fn question<'a>(results: &'a SurveyResults, key: &str) -> &'a QuestionResult {
    results
        .sections
        .iter()
        .flat_map(|section| &section.questions)
        .find(|question| question.key == key)
        .expect("the question is in the results")
}

/// The satisfaction scale's codes of the shipped plan, best first.
fn scale_codes(survey: &Survey, id: &str) -> Vec<String> {
    match &survey.question(id).expect("question").kind {
        QuestionKind::Scale { scale } => scale.points.iter().map(|p| p.code.clone()).collect(),
        other => panic!("not a scale: {other:?}"),
    }
}

#[test]
fn counts_are_added_up_over_schools_and_read_in_survey_order() {
    let survey = parents();
    let codes = scale_codes(&survey, "meals_quality");
    let rows = vec![
        tally(1, "meals_quality", &codes[0], 3),
        tally(2, "meals_quality", &codes[0], 2),
        tally(2, "meals_quality", &codes[1], 3),
        tally(1, "meals_quality", &codes[3], 2),
    ];
    let results = aggregate(
        &survey,
        &counts_of(&rows),
        &AreaSums::default(),
        Group {
            responses: 10,
            population: None,
        },
        30,
        &weights(),
    );
    let meals = question(&results, "meals_quality");
    assert_eq!(meals.n, 10);
    let counts: Vec<u64> = meals.options.iter().map(|o| o.count).collect();
    assert_eq!(&counts[..4], &[5, 3, 0, 2]);
    assert_eq!(meals.options[0].share, Some(0.5));
    assert!(meals.too_few, "10 answers are fewer than 30");

    // 满意 or better: 8 of 10, with the Wilson interval (0.490, 0.943).
    let summary = meals.satisfaction.as_ref().expect("statistics");
    assert_eq!(summary.n, 10);
    assert_eq!(summary.satisfied, 8);
    assert_eq!(summary.rate, Some(0.8));
    let interval = summary.rate_interval.expect("interval");
    assert!((interval.low - 0.4902).abs() < 1e-4, "{interval:?}");
    assert!((interval.high - 0.9433).abs() < 1e-4, "{interval:?}");
    assert_eq!(Some(interval), wilson_interval(8, 10, 1.0));
    assert_eq!(
        describe_rate(summary).as_deref(),
        Some("80.0%（95% 区间 49.0%–94.3%，n = 10）")
    );
}

#[test]
fn a_question_nobody_answered_has_zero_counts_and_no_statistics() {
    let survey = parents();
    let results = aggregate(
        &survey,
        &Counts::new(),
        &AreaSums::default(),
        Group {
            responses: 0,
            population: None,
        },
        30,
        &weights(),
    );
    let meals = question(&results, "meals_quality");
    assert_eq!(meals.n, 0);
    assert!(
        meals
            .options
            .iter()
            .all(|o| o.count == 0 && o.share.is_none())
    );
    assert_eq!(meals.satisfaction, None);
    assert!(results.areas.iter().all(|area| area.estimate.is_none()));
    assert_eq!(
        results
            .areas
            .iter()
            .map(|area| area.area)
            .collect::<Vec<_>>(),
        Area::ALL,
        "every area is listed, with or without questions"
    );
}

#[test]
fn an_area_is_the_mean_of_its_respondents_scores() {
    use crate::answering::scoring::{ScoreSums, score_rows};
    let survey = parents();
    // Three parents: nutrition 100, 70, 40; the third also answered nothing else.
    let mut sums = AreaSums::default();
    for areas in [
        vec![(Area::Nutrition, 100.0), (Area::Overall, 80.0)],
        vec![(Area::Nutrition, 70.0), (Area::Overall, 60.0)],
        vec![(Area::Nutrition, 40.0)],
    ] {
        for (key, row) in score_rows(&areas) {
            let mut one = ScoreSums::default();
            one.add(&row, 1);
            add_score_row(&mut sums, key, &one);
        }
    }
    let group = Group {
        responses: 3,
        population: Some(12),
    };
    let results = aggregate(&survey, &Counts::new(), &sums, group, 30, &weights());
    let nutrition = results
        .areas
        .iter()
        .find(|area| area.area == Area::Nutrition)
        .expect("the nutrition area");
    assert_eq!(nutrition.n, 3);
    assert_eq!(nutrition.mean, Some(70.0));
    // s = 30, SE = 30·√((1 − 3/12)/3) = 15, df 2.
    let estimate = nutrition.estimate.expect("three respondents");
    assert!((estimate.standard_error - 15.0).abs() < 1e-12);
    assert_eq!(estimate.df, Some(2.0));
    assert_eq!(nutrition.questions, 2);
    assert!(
        nutrition.too_few,
        "3 of 12 is fewer than the 9 a population of 12 needs"
    );
    assert_eq!(results.needed, 9);
    let overall = results.overall.expect("an overall index");
    // Nutrition 0.15 and overall 0.10 of the plan, renormalised: 0.6·70 + 0.4·70.
    assert!((overall.value - 70.0).abs() < 1e-12);
}

#[test]
fn matrix_rows_and_multiple_choices_are_counted() {
    let teachers = survey("teachers");
    let rows = vec![
        tally(1, "support.salary", "5", 4),
        tally(2, "support.salary", "2", 1),
        tally(1, "training", "county", 3),
        tally(2, "training", "online", 2),
        tally(2, "training", "county", 1),
    ];
    let results = aggregate(
        &teachers,
        &counts_of(&rows),
        &AreaSums::default(),
        Group {
            responses: 5,
            population: None,
        },
        5,
        &weights(),
    );

    let salary = question(&results, "support.salary");
    assert_eq!(salary.text, "您对以下条件保障和发展机会满意吗？：工资待遇");
    assert_eq!(salary.n, 5);
    assert!(!salary.too_few);
    let summary = salary
        .satisfaction
        .as_ref()
        .expect("a matrix row is judged");
    assert_eq!((summary.n, summary.satisfied), (5, 4));
    let housing = question(&results, "support.housing");
    assert_eq!(housing.n, 0);

    // Several choices per answer: each share is of the 5 responses, not of the 6 choices.
    let training = question(&results, "training");
    assert!(training.multiple);
    assert_eq!(training.n, 5);
    let county = training
        .options
        .iter()
        .find(|option| option.code == "county")
        .expect("county training");
    assert_eq!((county.count, county.share), (4, Some(0.8)));
    assert_eq!(training.satisfaction, None);
}

#[test]
fn filters_are_read_from_the_page_and_hold_for_the_right_schools() {
    let filter = ResultsFilter::parse("", " 青溪镇 ", "小学", "yes").expect("valid");
    assert_eq!(filter.township.as_deref(), Some("青溪镇"));
    assert_eq!(filter.kind, Some(SchoolKind::Primary));
    assert_eq!(filter.key_village, Some(true));
    assert!(
        ResultsFilter::parse("", "", "", "")
            .expect("valid")
            .is_all()
    );
    assert!(ResultsFilter::parse("x", "", "", "").is_err());
    assert!(ResultsFilter::parse("", "", "大学", "").is_err());
    assert!(ResultsFilter::parse("", "", "", "maybe").is_err());

    let now = chrono::Utc::now();
    let school = school::Model {
        id: 3,
        code: "1".into(),
        name: "x".into(),
        township: "青溪镇".into(),
        kind: "小学".into(),
        is_central: true,
        is_key_village: true,
        enrolment: 100,
        teachers: 10,
        created_at: now,
        updated_at: now,
    };
    assert!(filter.holds_for(&school));
    assert!(
        ResultsFilter::parse("3", "", "", "")
            .expect("valid")
            .holds_for(&school)
    );
    assert!(
        !ResultsFilter::parse("4", "", "", "")
            .expect("valid")
            .holds_for(&school)
    );
    assert!(
        !ResultsFilter::parse("", "", "", "no")
            .expect("valid")
            .holds_for(&school)
    );
}

#[test]
fn scores_are_written_with_their_interval() {
    assert_eq!(
        describe_score(
            81.25,
            Some(Interval {
                low: 78.0,
                high: 84.44
            })
        ),
        "81.3（95% 区间 78.0–84.4）"
    );
    assert_eq!(
        describe_score(
            75.0,
            Some(Interval {
                low: 75.0,
                high: 75.0
            })
        ),
        "75.0"
    );
    assert_eq!(
        estimate_interval(Estimate::exact(60.0)),
        Some(Interval {
            low: 60.0,
            high: 60.0
        })
    );
}

fn shipped_plan() -> (crate::survey::Catalog, crate::rating::Plan) {
    let dir = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/surveys"));
    let catalog = crate::survey::load_dir(dir).expect("the shipped plan loads");
    let plan = crate::rating::load_plan(dir, &catalog).expect("indicators and rules load");
    (catalog, plan)
}

fn a_school(id: i32, kind: &str, enrolment: i32) -> school::Model {
    let now = chrono::Utc::now();
    school::Model {
        id,
        code: format!("45212300{id:02}"),
        name: format!("学校{id}"),
        township: "青溪镇".into(),
        kind: kind.into(),
        is_central: false,
        is_key_village: false,
        enrolment,
        teachers: 100,
        created_at: now,
        updated_at: now,
    }
}

#[test]
fn indicators_are_met_or_missed_per_school_and_rolled_up() {
    use self_checks::{SelfCheck, indicator_table};
    let (_, plan) = shipped_plan();
    let answers = |college: u64| {
        let mut map = serde_json::Map::new();
        map.insert("teachers_fulltime".into(), 100.into());
        map.insert("teachers_college".into(), college.into());
        Some(map)
    };
    let schools = vec![
        SelfCheck {
            school: a_school(1, "小学", 500),
            answers: answers(80),
        },
        SelfCheck {
            school: a_school(2, "小学", 500),
            answers: answers(70),
        },
        SelfCheck {
            school: a_school(3, "小学", 500),
            answers: None,
        },
    ];
    let table = indicator_table(&plan.indicators, &schools);
    assert_eq!(table.submitted, 2);
    let position = plan
        .indicators
        .iter()
        .position(|indicator| indicator.id == "qualified_teachers")
        .expect("the qualified-teacher indicator");
    let roll_up = &table.indicators[position];
    assert_eq!((roll_up.met, roll_up.not_met), (1, 1));
    assert_eq!(roll_up.target, "≥ 75%");
    assert_eq!(table.schools[0].cells[position].label, "达标");
    assert_eq!(table.schools[0].cells[position].value, "80%");
    assert_eq!(table.schools[1].cells[position].label, "未达标");
    assert!(!table.schools[2].submitted);
    assert!(table.schools[2].cells.is_empty());
    // Every submitted school is counted once on every indicator.
    for indicator in &table.indicators {
        let total =
            indicator.met + indicator.not_met + indicator.not_reported + indicator.not_applicable;
        assert_eq!(total, 2, "{}", indicator.id);
    }
}

#[test]
fn one_campaign_rates_its_schools_and_says_when_answers_are_too_few() {
    use crate::rating::score::SchoolRating;
    use overall::{CampaignEvidence, rate_campaign};
    let (_, plan) = shipped_plan();
    let mut areas = BTreeMap::new();
    areas.insert(Area::Nutrition, Estimate::exact(85.0));
    let schools = vec![
        CampaignEvidence {
            school: a_school(1, "小学", 300),
            answers: 40,
            expected: 300,
            population: Some(300),
            areas: areas.clone(),
            sums: None,
        },
        CampaignEvidence {
            school: a_school(2, "小学", 100),
            answers: 3,
            expected: 100,
            population: Some(100),
            areas,
            sums: None,
        },
    ];
    let table = rate_campaign(&plan.rules, crate::rating::Source::Parents, schools);
    let rated = table.schools[0]
        .rating
        .rated()
        .expect("40 answers are enough");
    assert!((rated.score - 85.0).abs() < 1e-9);
    assert_eq!(rated.grade, "良好");
    // 40 of 300 is below the parents' floor of 20%: for reference only.
    assert_eq!(rated.low_coverage.len(), 1);
    assert_eq!(table.schools[0].response_rate, Some(40.0 / 300.0));
    // 100 pupils: 3000 / 130 → 24 answers needed.
    assert!(matches!(
        &table.schools[1].rating,
        SchoolRating::TooFewAnswers { short } if short[0].needed == 24 && short[0].answers == 3
    ));
    assert_eq!(table.county.schools_rated, 1);
    assert_eq!(table.county.schools_not_rated, 1);
    assert!((table.county.enrolment_covered - 0.75).abs() < 1e-9);
}

#[test]
fn several_campaigns_combine_into_one_rating_per_school() {
    use crate::rating::Source;
    use crate::rating::score::SchoolRating;
    use overall::{CampaignEvidence, rate_combined};
    let (_, plan) = shipped_plan();
    let areas = |score: f64| {
        let mut areas = BTreeMap::new();
        areas.insert(Area::Nutrition, Estimate::exact(score));
        areas
    };
    let evidence = |id: i32, answers: u64, score: f64| CampaignEvidence {
        school: a_school(id, "小学", 100),
        answers,
        expected: 100,
        population: None,
        areas: areas(score),
        sums: None,
    };
    let table = rate_combined(
        &plan.rules,
        vec![
            (
                Source::Parents,
                vec![evidence(1, 40, 70.0), evidence(2, 40, 90.0)],
            ),
            // The self-check reached only the first school, which submitted it.
            (Source::Indicators, vec![evidence(1, 1, 100.0)]),
        ],
    );
    assert_eq!(table.schools.len(), 2);
    let first = &table.schools[0];
    assert_eq!(
        first
            .sources
            .iter()
            .map(|count| count.source)
            .collect::<Vec<_>>(),
        [Source::Parents, Source::Indicators]
    );
    // Nutrition only: parents 0.30 and indicators 0.30, renormalised to half each.
    let rated = first.rating.rated().expect("both sources are enough");
    assert!((rated.score - 85.0).abs() < 1e-9, "{}", rated.score);
    // The second school was not asked the self-check: rated from the parents alone.
    let second = table.schools[1].rating.rated().expect("parents are enough");
    assert!((second.score - 90.0).abs() < 1e-9);
    assert_eq!(table.county.schools_rated, 2);

    // A source that reached a school but was not answered keeps it from being rated.
    let table = rate_combined(
        &plan.rules,
        vec![
            (Source::Parents, vec![evidence(1, 40, 70.0)]),
            (Source::Indicators, vec![evidence(1, 0, 0.0)]),
        ],
    );
    assert!(matches!(
        table.schools[0].rating,
        SchoolRating::TooFewAnswers { .. }
    ));
}

#[test]
fn a_multiple_choice_shown_to_some_has_the_shown_as_its_base() {
    let survey = survey("teachers");
    // 20 teachers: 8 say the school is paired (and are asked about the activities), 12 not.
    let rows = vec![
        tally(1, "paired", "yes", 5),
        tally(2, "paired", "yes", 3),
        tally(1, "paired", "no", 12),
        tally(1, "pairing_activities", "teaching", 6),
        tally(2, "pairing_activities", "online", 2),
    ];
    let results = aggregate(
        &survey,
        &counts_of(&rows),
        &AreaSums::default(),
        Group {
            responses: 20,
            population: None,
        },
        5,
        &weights(),
    );
    let activities = question(&results, "pairing_activities");
    assert!(activities.multiple);
    assert_eq!(activities.n, 8, "the base is those shown the question");
    let teaching = activities
        .options
        .iter()
        .find(|option| option.code == "teaching")
        .expect("an option");
    assert_eq!(teaching.share, Some(6.0 / 8.0));
    // A multiple choice without a condition keeps all responses as its base.
    let training = question(&results, "training");
    assert_eq!(training.n, 20);
}

#[test]
fn only_teachers_small_groups_are_kept_from_being_shown_alone() {
    use crate::survey::Audience;
    assert!(!shown_alone(Audience::Teachers, 4));
    assert!(shown_alone(Audience::Teachers, 5));
    assert!(!shown_alone(Audience::Teachers, 0));
    assert!(shown_alone(Audience::Parents, 1));
    assert!(shown_alone(Audience::Students, 2));
    assert!(shown_alone(Audience::School, 1));
}

#[test]
fn a_small_schools_teachers_stay_out_of_its_combined_score() {
    use crate::rating::Source;
    use overall::{CampaignEvidence, rate_combined};
    let (_, plan) = shipped_plan();
    let evidence = |answers: u64, expected: u64, score: f64| {
        let mut areas = BTreeMap::new();
        areas.insert(Area::Nutrition, Estimate::exact(score));
        CampaignEvidence {
            school: a_school(1, "教学点", 20),
            answers,
            expected,
            population: Some(expected),
            areas,
            sums: None,
        }
    };
    let combined = |teachers: CampaignEvidence| {
        rate_combined(
            &plan.rules,
            vec![
                (Source::Parents, vec![evidence(40, 40, 80.0)]),
                (Source::Teachers, vec![teachers]),
            ],
        )
    };
    // All 3 teachers answered: enough for the plan, too few to be seen through the score.
    let table = combined(evidence(3, 3, 20.0));
    let rated = table.schools[0]
        .rating
        .rated()
        .expect("rated from the parents");
    assert!((rated.score - 80.0).abs() < 1e-9, "{}", rated.score);
    assert_eq!(
        table.schools[0].sources.len(),
        2,
        "the teachers' count is still listed"
    );
    // All 6 answered: their figures count.
    let table = combined(evidence(6, 6, 20.0));
    let rated = table.schools[0].rating.rated().expect("rated from both");
    assert!(rated.score < 80.0, "{}", rated.score);
    // 3 of 10 answered: fewer than the 4 ten teachers need (50 / 15), so not rated at all.
    let table = combined(evidence(3, 10, 20.0));
    assert!(table.schools[0].rating.rated().is_none());
}

#[test]
fn a_filter_reads_back_from_its_own_query_string() {
    let fields = FilterFields {
        school: String::new(),
        township: "青溪镇".to_owned(),
        kind: "小学".to_owned(),
        key_village: "是".to_owned(),
        from: "2026-11-01".to_owned(),
        to: "2026-11-30".to_owned(),
    };
    let filter = fields.parse().expect("valid");
    let query = filter.query_string();
    assert!(query.starts_with("?township=%E9%9D%92"), "{query}");
    let pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(query.trim_start_matches('?')).expect("a query string");
    assert_eq!(FilterFields::from_pairs(&pairs).parse(), Ok(filter));
    assert_eq!(ResultsFilter::default().query_string(), "");
    assert!(
        FilterFields {
            from: "2026-12-01".to_owned(),
            to: "2026-11-01".to_owned(),
            ..FilterFields::default()
        }
        .parse()
        .is_err()
    );
}
