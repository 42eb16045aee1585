//! Unit tests, compiled only under `#[cfg(test)]` (see `mod tests` in the parent module).

//! Tests of loading and checking `indicators.toml` and `rating.toml`: the shipped files load and
//! say what the plan says, and every mistake is reported with its file and indicator or field.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use super::rules::tests::customary_rules;
use super::*;
use crate::survey;

fn shipped_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("surveys")
}

/// The shipped surveys, loaded once.
pub(crate) fn shipped_catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| survey::load_dir(&shipped_dir()).expect("the shipped surveys load"))
}

/// The shipped plan, loaded once.
pub(crate) fn shipped_plan() -> &'static Plan {
    static PLAN: OnceLock<Plan> = OnceLock::new();
    PLAN.get_or_init(|| {
        load_plan(&shipped_dir(), shipped_catalog())
            .unwrap_or_else(|errors| panic!("the shipped plan loads:\n{errors}"))
    })
}

/// Indicators from `text` (a whole `indicators.toml`), checked against the shipped surveys.
pub(crate) fn indicators_from(text: &str) -> Result<Vec<Indicator>, Vec<String>> {
    let mut report = Report::new("surveys/indicators.toml");
    let indicators = parse_toml::<raw::RawIndicatorsFile>(text, &mut report)
        .map(|raw| rules_check::check_indicators(&raw, shipped_catalog(), &mut report));
    match indicators {
        Some(indicators) if report.errors.is_empty() => Ok(indicators),
        _ => Err(report.errors.iter().map(ToString::to_string).collect()),
    }
}

/// Targets from `text` (a whole `targets.toml`), checked against the shipped surveys.
pub(crate) fn targets_from(text: &str) -> Result<Vec<targets::CountyTarget>, Vec<String>> {
    let mut report = Report::new("surveys/targets.toml");
    let targets = parse_toml::<raw::RawTargetsFile>(text, &mut report)
        .map(|raw| targets_check::check_targets(&raw, shipped_catalog(), &mut report));
    match targets {
        Some(targets) if report.errors.is_empty() => Ok(targets),
        _ => Err(report.errors.iter().map(ToString::to_string).collect()),
    }
}

/// The errors of a folder holding the shipped surveys with the given files written over them,
/// with the temporary folder's path shown as `surveys`.
fn errors_with(files: &[(&str, &str)], remove: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    for entry in std::fs::read_dir(shipped_dir()).expect("surveys folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|ext| ext == "toml") {
            let name = path.file_name().expect("a file name");
            std::fs::copy(&path, dir.path().join(name)).expect("copy");
        }
    }
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    for name in remove {
        std::fs::remove_file(dir.path().join(name)).expect("remove");
    }
    let catalog = survey::load_dir(dir.path()).expect("the surveys still load");
    let shown = dir.path().display().to_string();
    match load_plan(dir.path(), &catalog) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .0
            .iter()
            .map(|error| error.to_string().replace(&shown, "surveys"))
            .collect(),
    }
}

/// `errors_with` for one indicator written after `survey = "school"`.
fn indicator_errors(indicator: &str) -> Vec<String> {
    let text = format!("survey = \"school\"\n\n[[indicators]]\n{indicator}");
    match indicators_from(&text) {
        Ok(_) => Vec::new(),
        Err(errors) => errors,
    }
}

fn rating_errors(rating: &str) -> Vec<String> {
    errors_with(&[("rating.toml", rating)], &[])
}

const RATING: &str = r#"
[areas]
poverty_students = 0.15
education_stages = 0.15
special_children = 0.15
informatization = 0.10
rural_teachers = 0.15
nutrition = 0.15
school_pairing = 0.05
overall = 0.10

[sources]
parents = 0.30
teachers = 0.20
students = 0.20
indicators = 0.30

[minimum_answers]
parents = 30
teachers = 5
students = 30

[[bands]]
grade = "优秀"
at_least = 90

[[bands]]
grade = "良好"
at_least = 80

[[bands]]
grade = "合格"
at_least = 60

[[bands]]
grade = "不合格"
at_least = 0

[county]
weight_by = "enrolment"
"#;

#[test]
fn the_shipped_plan_loads_with_the_customary_rules() {
    let plan = shipped_plan();
    assert_eq!(plan.rules, customary_rules());
    assert!(plan.indicators.len() >= 30, "{}", plan.indicators.len());
    for area in Area::plan_areas() {
        assert!(
            plan.indicators_of(area).next().is_some(),
            "no indicator in {}",
            area.slug()
        );
    }
}

#[test]
fn the_shipped_indicators_hold_the_plans_thresholds() {
    let plan = shipped_plan();
    let target = |id: &str| plan.indicator(id).expect(id).target.clone();
    assert_eq!(
        target("poor_students_funded"),
        Target::AtLeast { value: 1.0 }
    );
    assert_eq!(target("no_poor_dropouts"), Target::Equals { value: 0.0 });
    assert_eq!(target("disabled_enrolment"), Target::AtLeast { value: 0.9 });
    assert_eq!(
        target("qualified_teachers"),
        Target::AtLeast { value: 0.75 }
    );
    assert_eq!(target("backbone_teachers"), Target::AtLeast { value: 0.1 });
    assert_eq!(
        plan.indicator("backbone_teachers")
            .expect("backbone")
            .targets_by_school[0]
            .target,
        Target::AtLeast { value: 0.2 }
    );
    assert_eq!(
        target("vocational_subsidy"),
        Target::AtLeast { value: 1500.0 }
    );
    assert_eq!(target("rural_allowance_paid"), Target::Yes);
    assert_eq!(target("broadband"), Target::Yes);
    assert_eq!(target("left_behind_files"), Target::Yes);
}

#[test]
fn the_readme_example_of_indicators_toml_is_valid() {
    let readme = std::fs::read_to_string(shipped_dir().join("README.md")).expect("README");
    let example = toml_block_after(&readme, "## `indicators.toml`");
    indicators_from(&example).unwrap_or_else(|errors| panic!("{}", errors.join("\n")));
}

#[test]
fn the_readme_example_of_rating_toml_is_valid() {
    let readme = std::fs::read_to_string(shipped_dir().join("README.md")).expect("README");
    let example = toml_block_after(&readme, "## `rating.toml`");
    assert_eq!(rating_errors(&example), Vec::<String>::new());
}

/// The first ```toml block after `heading`.
fn toml_block_after(text: &str, heading: &str) -> String {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("no heading {heading}"));
    let rest = &text[start..];
    let open = rest.find("```toml\n").expect("a toml block") + "```toml\n".len();
    let close = rest[open..].find("```").expect("the block's end");
    rest[open..open + close].to_owned()
}

#[test]
fn a_question_of_the_wrong_kind_is_named_with_its_survey() {
    assert_eq!(
        indicator_errors(
            r#"id = "backbone_teachers"
title = "骨干教师比例"
area = "rural_teachers"
ratio = { numerator = "paired_school", denominator = "teachers_fulltime" }
at_least = 0.1
"#
        ),
        [
            "surveys/indicators.toml: indicator backbone_teachers: question paired_school is not a \
             number question of survey school (it is a yes_no question)"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"net\"\ntitle = \"宽带\"\narea = \"informatization\"\nyes = \"bandwidth\"\n"
        ),
        [
            "surveys/indicators.toml: indicator net: question bandwidth is not a yes_no question \
             of survey school (it is a number question)"
        ]
    );
}

#[test]
fn unknown_surveys_questions_and_options_are_named() {
    assert_eq!(
        indicator_errors("id = \"a\"\ntitle = \"A\"\narea = \"nutrition\"\nyes = \"canteen_ok\"\n"),
        ["surveys/indicators.toml: indicator a: survey school has no question canteen_ok"]
    );
    assert_eq!(
        indicator_errors(
            "id = \"a\"\ntitle = \"A\"\narea = \"nutrition\"\nsurvey = \"schol\"\nyes = \"broadband\"\n"
        ),
        [
            "surveys/indicators.toml: indicator a: unknown survey \"schol\" (known: parents, \
             school, students, teachers)"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"a\"\ntitle = \"A\"\narea = \"nutrition\"\nsurvey = \"parents\"\nyes = \"boarding\"\n"
        ),
        [
            "surveys/indicators.toml: indicator a: survey parents is answered by 家长, not by the \
             school: indicators read a school's self-check (a survey with audience = \"school\")"
        ]
    );
    assert_eq!(
        indicator_errors(
            r#"id = "canteen"
title = "食堂"
area = "nutrition"
choice = "canteen_standard"
accepted = ["modle"]
"#
        ),
        [
            "surveys/indicators.toml: indicator canteen: `accepted`: question canteen_standard has \
             no option \"modle\" (it has model, basic, below, none)"
        ]
    );
    assert_eq!(
        indicator_errors(
            r#"id = "canteen"
title = "食堂"
area = "nutrition"
choice = "broadband"
accepted = ["yes"]
"#
        ),
        [
            "surveys/indicators.toml: indicator canteen: question broadband is not a single \
             question of survey school (it is a yes_no question)"
        ]
    );
}

#[test]
fn the_file_level_survey_must_exist() {
    let errors = indicators_from(
        "survey = \"parents\"\n\n[[indicators]]\nid = \"a\"\ntitle = \"A\"\narea = \"nutrition\"\nyes = \"boarding\"\n",
    )
    .expect_err("parents is not a self-check");
    assert_eq!(
        errors,
        [
            "surveys/indicators.toml: survey: survey parents is answered by 家长, not by the \
             school: indicators read a school's self-check (a survey with audience = \"school\")"
        ]
    );
}

#[test]
fn areas_formulas_ids_and_weights_are_checked() {
    assert_eq!(
        indicator_errors("id = \"a\"\ntitle = \"A\"\narea = \"canteens\"\nyes = \"broadband\"\n"),
        [
            "surveys/indicators.toml: indicator a: unknown area \"canteens\": use one of \
             poverty_students, education_stages, special_children, informatization, \
             rural_teachers, nutrition, school_pairing"
        ]
    );
    assert_eq!(
        indicator_errors("id = \"a\"\ntitle = \"A\"\narea = \"overall\"\nyes = \"broadband\"\n"),
        [
            "surveys/indicators.toml: indicator a: an indicator belongs to one of the seven areas \
             of the plan, not overall: use one of poverty_students, education_stages, \
             special_children, informatization, rural_teachers, nutrition, school_pairing"
        ]
    );
    assert_eq!(
        indicator_errors("id = \"a\"\ntitle = \"A\"\narea = \"informatization\"\n"),
        [
            "surveys/indicators.toml: indicator a: no formula: give one of `ratio`, `value`, \
             `yes` or `choice`"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"a\"\ntitle = \"A\"\narea = \"informatization\"\nyes = \"broadband\"\nvalue = \"bandwidth\"\n"
        ),
        ["surveys/indicators.toml: indicator a: give only one formula: found `value` and `yes`"]
    );
    assert_eq!(
        indicator_errors(
            "id = \"Net-1\"\ntitle = \" \"\narea = \"informatization\"\nweight = 0\nyes = \"broadband\"\n"
        ),
        [
            "surveys/indicators.toml: indicator Net-1: the indicator id must be lower-case \
             letters, digits or _, starting with a letter",
            "surveys/indicators.toml: indicator Net-1: `title` is empty",
            "surveys/indicators.toml: indicator Net-1: `weight` (0) must be a number above 0",
        ]
    );
    let twice = "survey = \"school\"\n\n[[indicators]]\nid = \"a\"\ntitle = \"A\"\narea = \"informatization\"\nyes = \"broadband\"\n\n[[indicators]]\nid = \"a\"\ntitle = \"A\"\narea = \"informatization\"\nyes = \"campus_network\"\n";
    assert_eq!(
        indicators_from(twice).expect_err("twice"),
        ["surveys/indicators.toml: indicator a: this indicator id appears twice in the file"]
    );
}

#[test]
fn thresholds_out_of_range_are_refused() {
    assert_eq!(
        indicator_errors(
            r#"id = "qualified_teachers"
title = "专科及以上学历比例"
area = "rural_teachers"
ratio = { numerator = "teachers_college", denominator = "teachers_fulltime" }
at_least = 75
"#
        ),
        [
            "surveys/indicators.toml: indicator qualified_teachers: `at_least` (75) is outside \
             0–1: a share is written as a fraction, 0.75 for 75% (or say `share = false` for a \
             ratio that may pass 1)"
        ]
    );
    assert_eq!(
        indicator_errors(
            r#"id = "computers"
title = "人手一机"
area = "informatization"
ratio = { numerator = "computers_for_teachers", denominator = "teachers_fulltime", share = false }
at_least = -1
"#
        ),
        [
            "surveys/indicators.toml: indicator computers: `at_least` (-1) is negative, but a \
             ratio of counts never is"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"d\"\ntitle = \"辍学\"\narea = \"education_stages\"\nvalue = \"poor_dropouts\"\nequals = 0.5\n"
        ),
        [
            "surveys/indicators.toml: indicator d: `equals` (0.5) is not a whole number, but \
             question poor_dropouts takes whole numbers, so no answer could meet it"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"d\"\ntitle = \"辍学\"\narea = \"education_stages\"\nvalue = \"poor_dropouts\"\nat_most = 5000\n"
        ),
        [
            "surveys/indicators.toml: indicator d: `at_most` (5000) is outside the answers \
             question poor_dropouts can take (0–2000)"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"d\"\ntitle = \"辍学\"\narea = \"education_stages\"\nvalue = \"poor_dropouts\"\nat_least = 3\nat_most = 1\n"
        ),
        [
            "surveys/indicators.toml: indicator d: `at_least` (3) is above `at_most` (1): no \
             value could meet the indicator"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"d\"\ntitle = \"辍学\"\narea = \"education_stages\"\nvalue = \"poor_dropouts\"\nat_least = 0\nequals = 0\n"
        ),
        [
            "surveys/indicators.toml: indicator d: `equals` cannot be combined with `at_least` \
             or `at_most`"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"d\"\ntitle = \"辍学\"\narea = \"education_stages\"\nvalue = \"poor_dropouts\"\n"
        ),
        [
            "surveys/indicators.toml: indicator d: no target: give `at_least`, `at_most` or \
             `equals`"
        ]
    );
}

#[test]
fn targets_must_suit_the_formula() {
    assert_eq!(
        indicator_errors(
            "id = \"b\"\ntitle = \"宽带\"\narea = \"informatization\"\nyes = \"broadband\"\nat_least = 1\n"
        ),
        [
            "surveys/indicators.toml: indicator b: a `yes` indicator is met by the answer yes: it \
             takes no `at_least`, `at_most`, `equals` or `accepted`"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"c\"\ntitle = \"食堂\"\narea = \"nutrition\"\nchoice = \"canteen_standard\"\n"
        ),
        [
            "surveys/indicators.toml: indicator c: `accepted` is missing: list the codes that \
             meet the indicator"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"c\"\ntitle = \"食堂\"\narea = \"nutrition\"\nchoice = \"canteen_standard\"\naccepted = [\"model\", \"none\"]\nnot_applicable = [\"none\"]\n"
        ),
        [
            "surveys/indicators.toml: indicator c: code \"none\" is both accepted and \
             not_applicable"
        ]
    );
    assert_eq!(
        indicator_errors(
            "id = \"b\"\ntitle = \"宽带\"\narea = \"informatization\"\nyes = \"broadband\"\nnot_applicable = [\"no\"]\n"
        ),
        ["surveys/indicators.toml: indicator b: `not_applicable` belongs to a `choice` indicator"]
    );
    assert_eq!(
        indicator_errors(
            r#"id = "r"
title = "比例"
area = "rural_teachers"
ratio = { numerator = "teachers_college", denominator = "teachers_fulltime", zero_denominator = "skip" }
at_least = 0.75
"#
        ),
        [
            "surveys/indicators.toml: indicator r: unknown `zero_denominator` \"skip\": use \
             not_applicable, met or not_met"
        ]
    );
}

#[test]
fn school_conditions_are_checked() {
    assert_eq!(
        indicator_errors(
            r#"id = "backbone"
title = "骨干教师比例"
area = "rural_teachers"
ratio = { numerator = "teachers_backbone", denominator = "teachers_fulltime" }
at_least = 0.1
applies_to = { kind = ["初级中学"] }
thresholds = [ { when = {}, at_least = 0.2 }, { when = { central = true }, at_least = 20 } ]
"#
        ),
        [
            "surveys/indicators.toml: indicator backbone: applies_to: unknown kind of school \
             \"初级中学\": use one of 幼儿园、小学、初中、九年一贯制、高中、中职、教学点",
            "surveys/indicators.toml: indicator backbone: threshold 1: `when` is empty: give \
             `central`, `key_village` or `kind`",
            "surveys/indicators.toml: indicator backbone: threshold 2: `at_least` (20) is outside \
             0–1: a share is written as a fraction, 0.75 for 75% (or say `share = false` for a \
             ratio that may pass 1)",
        ]
    );
}

#[test]
fn a_misspelt_key_is_reported_with_its_line() {
    assert_eq!(
        indicators_from(
            "survey = \"school\"\n\n[[indicators]]\nid = \"a\"\ntitle = \"A\"\narea = \"nutrition\"\nyes = \"broadband\"\nat_lest = 1\n"
        )
        .expect_err("misspelt"),
        [
            "surveys/indicators.toml: line 8: unknown field `at_lest`, expected one of `id`, \
             `title`, `area`, `survey`, `basis`, `weight`, `ratio`, `value`, `yes`, `choice`, \
             `at_least`, `at_most`, `equals`, `accepted`, `not_applicable`, `applies_to`, \
             `thresholds`"
        ]
    );
}

#[test]
fn weights_that_do_not_add_up_to_one_are_refused() {
    let rating = RATING.replace("school_pairing = 0.05", "school_pairing = 0.10");
    assert_eq!(
        rating_errors(&rating),
        [
            "surveys/rating.toml: areas: the weights add up to 1.05, not 1: make them add up to 1 \
             (within 0.001)"
        ]
    );
    let rating = RATING.replace("indicators = 0.30", "indicators = 0.2995");
    assert_eq!(
        rating_errors(&rating),
        Vec::<String>::new(),
        "within the tolerance"
    );
}

#[test]
fn areas_and_sources_are_named_and_all_given() {
    let rating = RATING
        .replace("nutrition = 0.15\n", "nutrtion = 0.15\n")
        .replace(
            "students = 0.20\nindicators",
            "students = -0.20\nindicators",
        );
    assert_eq!(
        rating_errors(&rating),
        [
            "surveys/rating.toml: areas: unknown area \"nutrtion\": use one of poverty_students, \
             education_stages, special_children, informatization, rural_teachers, nutrition, \
             school_pairing, overall",
            "surveys/rating.toml: areas: area nutrition has no weight: give it one (0 leaves it \
             out of the rating)",
            "surveys/rating.toml: areas: the weights add up to 0.85, not 1: make them add up to 1 \
             (within 0.001)",
            "surveys/rating.toml: sources: the weight of students (-0.2) must be between 0 and 1",
            "surveys/rating.toml: sources: the weights add up to 0.6, not 1: make them add up to 1 \
             (within 0.001)",
        ]
    );
    let rating = RATING.replace("indicators = 0.30", "school = 0.30");
    assert_eq!(
        rating_errors(&rating),
        [
            "surveys/rating.toml: sources: unknown source \"school\": use parents, teachers, \
             students or indicators",
            "surveys/rating.toml: sources: source indicators has no weight: give it one (0 \
             leaves it out of the rating)",
            "surveys/rating.toml: sources: the weights add up to 0.7, not 1: make them add up to \
             1 (within 0.001)",
        ]
    );
}

#[test]
fn minimums_are_at_least_two_and_given_for_every_questionnaire() {
    let rating = RATING
        .replace("teachers = 5\n", "teachers = 1\nindicators = 1\n")
        .replace("students = 30\n", "");
    assert_eq!(
        rating_errors(&rating),
        [
            "surveys/rating.toml: minimum_answers: unknown source \"indicators\": use parents, \
             teachers or students (the indicators read the school's one self-check and need no \
             minimum)",
            "surveys/rating.toml: minimum_answers: teachers: 1 is too few: at least 2 answers are \
             needed to tell how much they vary",
            "surveys/rating.toml: minimum_answers: no minimum for students: give one, such as \
             students = 30",
        ]
    );
}

#[test]
fn bands_must_descend_to_zero_without_overlap() {
    let unordered = RATING.replace("at_least = 80", "at_least = 95");
    assert_eq!(
        rating_errors(&unordered),
        [
            "surveys/rating.toml: bands: band 良好 (from 95) is listed after 优秀 (from 90): list \
             the bands from the best grade down"
        ]
    );
    let same = RATING.replace("at_least = 80", "at_least = 60");
    assert_eq!(
        rating_errors(&same),
        [
            "surveys/rating.toml: bands: bands 良好 and 合格 both start at 60: each band needs its \
             own lower edge"
        ]
    );
    let gap = RATING.replace("at_least = 0\n", "at_least = 10\n");
    assert_eq!(
        rating_errors(&gap),
        [
            "surveys/rating.toml: bands: the last band, 不合格, starts at 10: it must start at 0 \
             so that every score gets a grade"
        ]
    );
    let outside = RATING
        .replace("at_least = 90", "at_least = 120")
        .replace("grade = \"良好\"", "grade = \"优秀\"");
    assert_eq!(
        rating_errors(&outside),
        [
            "surveys/rating.toml: bands: band 优秀: `at_least` (120) must be between 0 and 100",
            "surveys/rating.toml: bands: grade 优秀 appears twice",
        ]
    );
    let one = "[areas]\npoverty_students = 1\neducation_stages = 0\nspecial_children = 0\ninformatization = 0\nrural_teachers = 0\nnutrition = 0\nschool_pairing = 0\n[sources]\nparents = 1\nteachers = 0\nstudents = 0\nindicators = 0\n[minimum_answers]\nparents = 30\nteachers = 5\nstudents = 30\n[[bands]]\ngrade = \"合格\"\nat_least = 0\n[county]\nweight_by = \"pupils\"\n";
    assert_eq!(
        rating_errors(one),
        [
            "surveys/rating.toml: bands: give at least two bands, from the best grade down, the \
             last starting at 0",
            "surveys/rating.toml: county: unknown `weight_by` \"pupils\": use enrolment or equal",
        ]
    );
}

#[test]
fn weighted_areas_and_sources_need_evidence() {
    // Pairing is asked only of teachers (and the indicators): with both at 0 it has none.
    let rating = RATING
        .replace("parents = 0.30\n", "parents = 0.60\n")
        .replace("teachers = 0.20\n", "teachers = 0\n")
        .replace("students = 0.20\n", "students = 0.40\n")
        .replace("indicators = 0.30\n", "indicators = 0\n");
    assert_eq!(
        rating_errors(&rating),
        [
            "surveys/rating.toml: areas: area school_pairing has weight 0.05, but no source with a \
             weight gives evidence for it: no scored question of a parents, teachers or students \
             survey and no indicator is in that area",
        ]
    );
    // No students' questionnaire in the folder, yet students have a weight.
    assert_eq!(
        errors_with(&[], &["students.toml"]),
        [
            "surveys/rating.toml: sources: source students has weight 0.2, but no students \
             survey has a scored question in an area with a weight: give it weight 0 or give it \
             evidence"
        ]
    );
}

#[test]
fn a_missing_file_is_reported() {
    let errors = errors_with(&[], &["rating.toml"]);
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("surveys/rating.toml: cannot read the file: "),
        "{}",
        errors[0]
    );
}

#[test]
fn errors_of_both_files_are_listed_together() {
    let errors = errors_with(
        &[
            (
                "indicators.toml",
                "survey = \"school\"\n[[indicators]]\nid = \"a\"\n",
            ),
            ("rating.toml", "[areas]\n"),
        ],
        &[],
    );
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors[0].starts_with("surveys/indicators.toml: "));
    assert!(errors[1].starts_with("surveys/rating.toml: "));
}

#[test]
fn a_links_rate_is_a_tenth_of_its_expected_answers_at_least_the_floor() {
    use crate::rating::flags::Flag;
    // METHOD.md#answers: a village school expecting 145 takes 50 a minute; one expecting 2,860
    // takes 286; the policy leaves out held and burst answers only.
    let rules = crate::rating::rules::QualityRules::default();
    assert_eq!(rules.answers_per_minute(145), 50);
    assert_eq!(rules.answers_per_minute(2_860), 286);
    assert_eq!(rules.answers_per_minute(601), 61);
    assert!(rules.leaves_out(&[Flag::Held]));
    assert!(rules.leaves_out(&[Flag::TooFast, Flag::Burst]));
    assert!(!rules.leaves_out(&[Flag::StraightLine, Flag::AllTop, Flag::TooFast]));
}

#[test]
fn the_readme_examples_of_targets_toml_and_a_checklist_are_valid() {
    let readme = std::fs::read_to_string(shipped_dir().join("README.md")).expect("README");
    let targets = toml_block_after(&readme, "## `targets.toml`");
    let loaded = targets_from(&targets).unwrap_or_else(|errors| panic!("{errors:#?}"));
    assert_eq!(loaded.len(), 3);
    let checklist = toml_block_after(&readme, "## `visits/`");
    let mut report = Report::new("surveys/visits/example.toml");
    let parsed = visits::parse_checklist(
        &checklist,
        Path::new("surveys/visits/example.toml"),
        &shipped_plan().indicators,
        &mut report,
    );
    assert_eq!(report.errors, Vec::new());
    assert_eq!(parsed.map(|checklist| checklist.items.len()), Some(3));
}
