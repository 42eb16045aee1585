//! Unit tests of the survey checker, compiled only under `#[cfg(test)]` (see `mod tests` in mod.rs).

use std::path::Path;

use super::*;

const SCALES: &str = r#"
[scales.satisfaction]
name = "满意度五级量表"
points = [
  { code = "5", label = "非常满意", score = 100, satisfied = true },
  { code = "4", label = "满意", score = 80, satisfied = true },
  { code = "3", label = "基本满意", score = 60 },
  { code = "2", label = "不满意", score = 40 },
  { code = "1", label = "非常不满意", score = 0 },
]
"#;

const GOOD: &str = r#"
id = "parents"
title = "家长满意度测评"
audience = "parents"
intro = "匿名填写，约两分钟。"

[[sections]]
id = "basic"
title = "基本情况"
area = "overall"

[[sections.questions]]
id = "poor"
kind = "yes_no"
text = "您家是建档立卡贫困户吗？"

[[sections.questions]]
id = "funded"
kind = "scale"
scale = "satisfaction"
scored = true
text = "您对孩子获得的资助满意吗？"
show_if = { question = "poor", equals = "yes" }

[[sections.questions]]
id = "stage"
kind = "multiple"
text = "孩子在哪些学段？"
min = 1
max = 2
options = [{ code = "a", label = "小学" }, { code = "b", label = "初中" }]

[[sections.questions]]
id = "meals"
kind = "matrix"
scale = "satisfaction"
text = "您对下列方面满意吗？"
rows = [{ id = "food", text = "饭菜" }, { id = "water", text = "饮水" }]

[[sections.questions]]
id = "children"
kind = "number"
text = "家里有几个孩子在上学？"
min = 0
max = 10
unit = "个"

[[sections.questions]]
id = "recommend"
kind = "rating"
text = "您愿意向亲友推荐这所学校吗？"

[[sections.questions]]
id = "advice"
kind = "long_text"
required = false
text = "您的建议"
"#;

fn write_plan(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write file");
    }
    dir
}

fn messages(dir: &Path) -> Vec<String> {
    match load_dir(dir) {
        Ok(_) => Vec::new(),
        Err(errors) => errors
            .0
            .iter()
            .map(|error| {
                let text = error.to_string();
                // Strip the temp dir so assertions read like the user's messages.
                text.replace(&format!("{}/", dir.display()), "")
            })
            .collect(),
    }
}

#[test]
fn a_good_survey_loads_with_its_scale_resolved() {
    let dir = write_plan(&[("scales.toml", SCALES), ("parents.toml", GOOD)]);
    let catalog = load_dir(dir.path()).expect("plan is valid");
    let survey = &catalog.get("parents").expect("parents survey").survey;
    assert_eq!(survey.audience, Audience::Parents);
    assert_eq!(survey.question_count(), 7);
    let funded = survey.question("funded").expect("question funded");
    assert_eq!(
        funded.show_if,
        Some(ShowIf {
            question: "poor".into(),
            any_of: vec!["yes".into()]
        })
    );
    match &funded.kind {
        QuestionKind::Scale { scale } => assert_eq!(scale.points.len(), 5),
        other => panic!("expected a scale, got {other:?}"),
    }
    let advice = survey.question("advice").expect("question advice");
    assert!(!advice.required);
    assert_eq!(advice.kind, QuestionKind::LongText { max_length: 2000 });
}

#[test]
fn the_definition_round_trips_through_json_with_a_stable_digest() {
    let dir = write_plan(&[("scales.toml", SCALES), ("parents.toml", GOOD)]);
    let catalog = load_dir(dir.path()).expect("plan is valid");
    let survey = &catalog.get("parents").expect("parents").survey;
    let json = definition_json(survey);
    let back = from_definition_json(&json).expect("json parses");
    assert_eq!(&back, survey);
    assert_eq!(digest(&back), digest(survey));
    assert_eq!(digest(survey).len(), 64);
}

#[test]
fn every_error_is_listed_with_file_and_question() {
    let broken = GOOD
        .replace(
            "scale = \"satisfaction\"\nscored",
            "scale = \"satisfacton\"\nscored",
        )
        .replace("id = \"children\"", "id = \"poor\"")
        .replace(
            "show_if = { question = \"poor\", equals = \"yes\" }",
            "show_if = { question = \"recommend\", equals = \"9\" }",
        );
    let dir = write_plan(&[("scales.toml", SCALES), ("parents.toml", &broken)]);
    let found = messages(dir.path());
    assert!(
        found.contains(
            &"parents.toml: question funded: unknown scale \"satisfacton\" (known: satisfaction)"
                .to_owned()
        ),
        "{found:#?}"
    );
    assert!(
        found.contains(
            &"parents.toml: question poor: this question id appears twice in the survey".to_owned()
        ),
        "{found:#?}"
    );
    assert!(
        found.contains(&"parents.toml: question funded: show_if points at question recommend, which comes later: it must point at an earlier question".to_owned()),
        "{found:#?}"
    );
}

#[test]
fn a_scored_question_without_scores_is_refused() {
    let broken = GOOD.replace("kind = \"multiple\"", "kind = \"multiple\"\nscored = true");
    let dir = write_plan(&[("scales.toml", SCALES), ("parents.toml", &broken)]);
    let found = messages(dir.path());
    assert!(
        found.contains(&"parents.toml: question stage: option \"a\" has no score".to_owned()),
        "{found:#?}"
    );
    assert!(
        found.contains(&"parents.toml: question stage: option \"b\" has no score".to_owned()),
        "{found:#?}"
    );
}

#[test]
fn show_if_on_a_missing_question_or_unknown_option_is_refused() {
    let missing = GOOD.replace(
        "show_if = { question = \"poor\", equals = \"yes\" }",
        "show_if = { question = \"nothere\", equals = \"yes\" }",
    );
    let dir = write_plan(&[("scales.toml", SCALES), ("parents.toml", &missing)]);
    assert_eq!(
        messages(dir.path()),
        vec![
            "parents.toml: question funded: show_if points at question nothere, which does not exist"
        ]
    );
    let wrong_code = GOOD.replace("equals = \"yes\"", "equals = \"maybe\"");
    let dir = write_plan(&[("scales.toml", SCALES), ("parents.toml", &wrong_code)]);
    assert_eq!(
        messages(dir.path()),
        vec![
            "parents.toml: question funded: show_if: question poor has no option \"maybe\" (it has yes, no)"
        ]
    );
}

#[test]
fn a_typo_in_a_field_name_names_the_line() {
    let typo = GOOD.replace("unit = \"个\"", "unti = \"个\"");
    let dir = write_plan(&[("scales.toml", SCALES), ("parents.toml", &typo)]);
    let found = messages(dir.path());
    assert_eq!(found.len(), 1, "{found:#?}");
    let line = typo
        .lines()
        .position(|line| line.starts_with("unti"))
        .expect("typo line")
        + 1;
    assert!(
        found[0].starts_with(&format!("parents.toml: line {line}: unknown field `unti`")),
        "{found:#?}"
    );
}

#[test]
fn duplicate_survey_ids_across_files_and_fields_of_another_kind_are_refused() {
    let odd = GOOD.replace("kind = \"rating\"", "kind = \"rating\"\nunit = \"分\"");
    let dir = write_plan(&[("scales.toml", SCALES), ("a.toml", GOOD), ("b.toml", &odd)]);
    let found = messages(dir.path());
    assert!(
        found.contains(&"b.toml: survey id \"parents\" is already used by a.toml".to_owned()),
        "{found:#?}"
    );
    assert!(
        found.contains(
            &"b.toml: question recommend: `unit` does not apply to a rating question".to_owned()
        ),
        "{found:#?}"
    );
}

#[test]
fn an_unknown_area_and_kind_are_named() {
    let odd = GOOD
        .replace("area = \"overall\"", "area = \"sports\"")
        .replace("kind = \"long_text\"", "kind = \"essay\"");
    let dir = write_plan(&[("scales.toml", SCALES), ("parents.toml", &odd)]);
    let found = messages(dir.path());
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("parents.toml: section basic: unknown area \"sports\"")),
        "{found:#?}"
    );
    assert!(
        found
            .iter()
            .any(|m| m.starts_with("parents.toml: question advice: unknown kind \"essay\"")),
        "{found:#?}"
    );
}
