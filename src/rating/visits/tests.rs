//! Unit tests, compiled only under `#[cfg(test)]` (see `mod tests` in the parent module).

//! The shipped checklists load; every mistake in a checklist is reported with its file and item.

use super::*;
use crate::rating::tests::shipped_plan;

/// The errors of one checklist file, with its path shown as `surveys/visits/x.toml`.
fn errors_of(text: &str) -> Vec<String> {
    let mut report = Report::new("surveys/visits/x.toml");
    let parsed = parse_checklist(
        text,
        Path::new("surveys/visits/x.toml"),
        &shipped_plan().indicators,
        &mut report,
    );
    assert_eq!(parsed.is_some(), report.errors.is_empty());
    report.errors.iter().map(ToString::to_string).collect()
}

const HEAD: &str = "id = \"x\"\ntitle = \"核查表\"\nkind = \"key_inspection\"\n";

fn with_items(items: &str) -> String {
    format!("{HEAD}\n{items}")
}

#[test]
fn the_shipped_checklists_load_grouped_by_area() {
    let checklists = &shipped_plan().checklists;
    let ids: Vec<(&str, VisitKind)> = checklists
        .iter()
        .map(|checklist| (checklist.id.as_str(), checklist.kind))
        .collect();
    assert_eq!(
        ids,
        [
            ("key_inspection", VisitKind::KeyInspection),
            ("random_visit", VisitKind::RandomVisit),
        ]
    );
    let inspection = shipped_plan().checklist("key_inspection").expect("loaded");
    let areas: Vec<Area> = inspection.by_area().into_keys().collect();
    assert_eq!(areas, Area::plan_areas().collect::<Vec<_>>());
    let canteen = inspection.item("canteen_standard").expect("an item");
    assert_eq!(canteen.answer, ItemAnswer::Judgement);
    assert_eq!(canteen.indicator.as_deref(), Some("canteen_standard"));
    assert_eq!(
        inspection.item("poor_dropouts").map(|item| &item.answer),
        Some(&ItemAnswer::Number {
            unit: Some("人".to_owned())
        })
    );
    assert_eq!(
        inspection.item("canteen_photo").map(|item| &item.answer),
        Some(&ItemAnswer::Photo)
    );
    for checklist in checklists {
        for item in &checklist.items {
            if let Some(indicator) = &item.indicator {
                assert!(shipped_plan().indicator(indicator).is_some(), "{indicator}");
            }
        }
    }
}

#[test]
fn a_sound_checklist_has_no_error() {
    let text = with_items(
        "[[items]]\nid = \"water\"\narea = \"education_stages\"\ntext = \"饮水\"\n\
         answer = \"judgement\"\nindicator = \"drinking_water\"\n",
    );
    assert_eq!(errors_of(&text), Vec::<String>::new());
}

#[test]
fn a_typod_key_is_reported_with_its_line() {
    let text = with_items(
        "[[items]]\nid = \"water\"\narea = \"education_stages\"\ntext = \"饮水\"\n\
         answr = \"judgement\"\n",
    );
    let errors = errors_of(&text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("surveys/visits/x.toml: line "),
        "{errors:?}"
    );
    assert!(errors[0].contains("answr"), "{errors:?}");
}

#[test]
fn an_unknown_area_names_the_item() {
    let text = with_items(
        "[[items]]\nid = \"water\"\narea = \"canteens\"\ntext = \"饮水\"\nanswer = \"judgement\"\n",
    );
    assert_eq!(
        errors_of(&text),
        [
            "surveys/visits/x.toml: item water: unknown area \"canteens\": use one of \
             poverty_students, education_stages, special_children, informatization, \
             rural_teachers, nutrition, school_pairing, overall"
        ]
    );
}

#[test]
fn an_unknown_indicator_names_the_item() {
    let text = with_items(
        "[[items]]\nid = \"water\"\narea = \"education_stages\"\ntext = \"饮水\"\n\
         answer = \"judgement\"\nindicator = \"drinking_wter\"\n",
    );
    assert_eq!(
        errors_of(&text),
        [
            "surveys/visits/x.toml: item water: unknown indicator \"drinking_wter\": it is not in \
             indicators.toml"
        ]
    );
}

#[test]
fn an_item_id_used_twice_is_an_error() {
    let item = "[[items]]\nid = \"water\"\narea = \"education_stages\"\ntext = \"饮水\"\n\
                answer = \"judgement\"\n";
    assert_eq!(
        errors_of(&with_items(&format!("{item}{item}"))),
        ["surveys/visits/x.toml: item water: this item id appears twice in the checklist"]
    );
}

#[test]
fn an_empty_checklist_is_an_error() {
    assert_eq!(
        errors_of(HEAD),
        ["surveys/visits/x.toml: the checklist has no items: add at least one [[items]]"]
    );
}

#[test]
fn answers_kinds_and_indicators_must_fit_together() {
    let text = "id = \"x\"\ntitle = \"核查表\"\nkind = \"inspection\"\n\n\
         [[items]]\nid = \"a\"\narea = \"nutrition\"\ntext = \"a\"\nanswer = \"video\"\n\n\
         [[items]]\nid = \"b\"\narea = \"nutrition\"\ntext = \"b\"\nanswer = \"photo\"\n\
         indicator = \"menu_records\"\n\n\
         [[items]]\nid = \"c\"\narea = \"rural_teachers\"\ntext = \"c\"\nanswer = \"number\"\n\
         indicator = \"qualified_teachers\"\n\n\
         [[items]]\nid = \"d\"\narea = \"nutrition\"\ntext = \"d\"\nanswer = \"judgement\"\n\
         unit = \"人\"\n";
    assert_eq!(
        errors_of(text),
        [
            "surveys/visits/x.toml: kind: unknown kind \"inspection\": use one of key_inspection \
             (重点督查), special_inspection (专项督查), random_visit (随机走访), interview (座谈了解)",
            "surveys/visits/x.toml: item a: unknown answer \"video\": use judgement, number or \
             photo",
            "surveys/visits/x.toml: item b: a `photo` item cannot re-check indicator \
             menu_records: use a `judgement` or a `number` item",
            "surveys/visits/x.toml: item c: a `number` item re-checks an indicator that reads \
             one number (a `value` indicator); qualified_teachers is a `ratio` indicator: use a \
             `judgement` item",
            "surveys/visits/x.toml: item d: `unit` belongs to a `number` item",
        ]
    );
}

#[test]
fn two_checklists_with_one_id_and_a_broken_one_stop_the_plan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let visits = dir.path().join(VISITS_FOLDER);
    std::fs::create_dir_all(&visits).expect("visits folder");
    let item = "[[items]]\nid = \"water\"\narea = \"education_stages\"\ntext = \"饮水\"\n\
                answer = \"judgement\"\n";
    std::fs::write(visits.join("a.toml"), with_items(item)).expect("write");
    std::fs::write(visits.join("b.toml"), with_items(item)).expect("write");
    std::fs::write(visits.join("c.toml"), HEAD).expect("write");
    let mut errors = Vec::new();
    let loaded = load_checklists(dir.path(), &shipped_plan().indicators, &mut errors);
    let shown = dir.path().display().to_string();
    let messages: Vec<String> = errors
        .iter()
        .map(|error| error.to_string().replace(&shown, "surveys"))
        .collect();
    assert_eq!(loaded.len(), 1);
    assert_eq!(
        messages,
        [
            "surveys/visits/b.toml: id: checklist id \"x\" is already used by surveys/visits/a.toml",
            "surveys/visits/c.toml: the checklist has no items: add at least one [[items]]",
        ]
    );
}
