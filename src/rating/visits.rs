//! Visit checklists (`surveys/visits/*.toml`): what a supervision group looks at when it visits
//! a school for one of the plan's on-site methods (五、督导方式: 重点督查, 专项督查, 随机走访,
//! 座谈了解). Each file is one checklist of items grouped by the plan's areas; an item is judged
//! met / not met / not applicable with a note, answered with a number, or answered with a photo,
//! and an item may name the self-check indicator it re-checks on site. Loading checks every file
//! and lists every error with its file and item, as the surveys do. Recording visits is not here.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Indicator;
use super::indicators::Formula;
use super::raw::{RawChecklist, RawChecklistItem};
use crate::survey::{Area, Location, PlanError, Report, is_slug, parse_toml};

/// The folder of checklists inside the surveys folder. It may be absent: a plan without visit
/// checklists.
pub const VISITS_FOLDER: &str = "visits";

/// The plan's on-site methods of supervision (五、督导方式).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VisitKind {
    /// 重点督查.
    KeyInspection,
    /// 专项督查.
    SpecialInspection,
    /// 随机走访.
    RandomVisit,
    /// 座谈了解.
    Interview,
}

impl VisitKind {
    pub const ALL: [VisitKind; 4] = [
        VisitKind::KeyInspection,
        VisitKind::SpecialInspection,
        VisitKind::RandomVisit,
        VisitKind::Interview,
    ];

    pub fn slug(self) -> &'static str {
        match self {
            VisitKind::KeyInspection => "key_inspection",
            VisitKind::SpecialInspection => "special_inspection",
            VisitKind::RandomVisit => "random_visit",
            VisitKind::Interview => "interview",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            VisitKind::KeyInspection => "重点督查",
            VisitKind::SpecialInspection => "专项督查",
            VisitKind::RandomVisit => "随机走访",
            VisitKind::Interview => "座谈了解",
        }
    }

    pub fn parse(slug: &str) -> Option<VisitKind> {
        VisitKind::ALL.into_iter().find(|kind| kind.slug() == slug)
    }
}

/// How an item is answered on site.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ItemAnswer {
    /// 符合 / 不符合 / 不适用, with a note.
    Judgement,
    /// A number counted or read on site.
    Number { unit: Option<String> },
    /// A photo is required.
    Photo,
}

impl ItemAnswer {
    pub fn name(&self) -> &'static str {
        match self {
            ItemAnswer::Judgement => "judgement",
            ItemAnswer::Number { .. } => "number",
            ItemAnswer::Photo => "photo",
        }
    }
}

/// One item of a checklist.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChecklistItem {
    /// A slug, unique in the checklist.
    pub id: String,
    pub area: Area,
    pub text: String,
    pub help: Option<String>,
    pub answer: ItemAnswer,
    /// The id of the indicator of `indicators.toml` it re-checks.
    pub indicator: Option<String>,
}

/// One checklist file, checked.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Checklist {
    /// A slug, unique among the checklists.
    pub id: String,
    pub title: String,
    pub kind: VisitKind,
    pub intro: Option<String>,
    /// In the file's order.
    pub items: Vec<ChecklistItem>,
    #[serde(skip)]
    pub file: PathBuf,
}

impl Checklist {
    /// The items grouped by area, areas in the order of the plan.
    pub fn by_area(&self) -> BTreeMap<Area, Vec<&ChecklistItem>> {
        let mut groups: BTreeMap<Area, Vec<&ChecklistItem>> = BTreeMap::new();
        for item in &self.items {
            groups.entry(item.area).or_default().push(item);
        }
        groups
    }

    pub fn item(&self, id: &str) -> Option<&ChecklistItem> {
        self.items.iter().find(|item| item.id == id)
    }
}

/// Loads and checks every `*.toml` of `dir/visits` (none when the folder is absent), in the
/// order of their file names, against the plan's indicators. Errors are added to `errors`.
pub(super) fn load_checklists(
    dir: &Path,
    indicators: &[Indicator],
    errors: &mut Vec<PlanError>,
) -> Vec<Checklist> {
    let folder = dir.join(VISITS_FOLDER);
    if !folder.is_dir() {
        return Vec::new();
    }
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&folder) {
        Ok(entries) => entries
            .filter_map(|entry| entry.ok().map(|entry| entry.path()))
            .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
            .collect(),
        Err(error) => {
            errors.push(PlanError {
                file: folder.display().to_string(),
                location: Location::File,
                message: format!("cannot read the visits folder: {error}"),
            });
            return Vec::new();
        }
    };
    files.sort();
    let mut checklists: Vec<Checklist> = Vec::new();
    for path in files {
        let file = path.display().to_string();
        let mut report = Report::new(&file);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                report.add(Location::File, format!("cannot read the file: {error}"));
                errors.append(&mut report.errors);
                continue;
            }
        };
        if let Some(checklist) = parse_checklist(&text, &path, indicators, &mut report) {
            if let Some(other) = checklists.iter().find(|other| other.id == checklist.id) {
                report.add(
                    Location::Field("id".to_owned()),
                    format!(
                        "checklist id \"{}\" is already used by {}",
                        checklist.id,
                        other.file.display()
                    ),
                );
            } else if report.errors.is_empty() {
                checklists.push(checklist);
            }
        }
        errors.append(&mut report.errors);
    }
    checklists
}

/// One checklist from its text; `None` (with the errors in `report`) when it is wrong.
pub(super) fn parse_checklist(
    text: &str,
    path: &Path,
    indicators: &[Indicator],
    report: &mut Report,
) -> Option<Checklist> {
    let raw = parse_toml::<RawChecklist>(text, report)?;
    let errors_before = report.errors.len();
    let checklist = check_checklist(&raw, path, indicators, report);
    (report.errors.len() == errors_before).then_some(checklist)
}

fn check_checklist(
    raw: &RawChecklist,
    path: &Path,
    indicators: &[Indicator],
    report: &mut Report,
) -> Checklist {
    let field = |name: &str| Location::Field(name.to_owned());
    if !is_slug(&raw.id) {
        report.add(
            field("id"),
            "the checklist id must be lower-case letters, digits or _, starting with a letter",
        );
    }
    if raw.title.trim().is_empty() {
        report.add(field("title"), "`title` is empty");
    }
    let kind = VisitKind::parse(&raw.kind);
    if kind.is_none() {
        let kinds: Vec<String> = VisitKind::ALL
            .into_iter()
            .map(|kind| format!("{} ({})", kind.slug(), kind.label()))
            .collect();
        report.add(
            field("kind"),
            format!(
                "unknown kind \"{}\": use one of {}",
                raw.kind,
                kinds.join(", ")
            ),
        );
    }
    if raw.items.is_empty() {
        report.add(
            Location::File,
            "the checklist has no items: add at least one [[items]]",
        );
    }
    let mut seen = HashSet::new();
    let items = raw
        .items
        .iter()
        .filter_map(|item| {
            if !seen.insert(item.id.as_str()) {
                report.add(
                    Location::Item(item.id.clone()),
                    "this item id appears twice in the checklist",
                );
            }
            check_item(item, indicators, report)
        })
        .collect();
    Checklist {
        id: raw.id.clone(),
        title: raw.title.trim().to_owned(),
        kind: kind.unwrap_or(VisitKind::KeyInspection),
        intro: raw.intro.clone().filter(|intro| !intro.trim().is_empty()),
        items,
        file: path.to_owned(),
    }
}

fn check_item(
    raw: &RawChecklistItem,
    indicators: &[Indicator],
    report: &mut Report,
) -> Option<ChecklistItem> {
    let here = || Location::Item(raw.id.clone());
    let errors_before = report.errors.len();
    if !is_slug(&raw.id) {
        report.add(
            here(),
            "the item id must be lower-case letters, digits or _, starting with a letter",
        );
    }
    if raw.text.trim().is_empty() {
        report.add(here(), "`text` is empty");
    }
    let area = Area::parse(&raw.area);
    if area.is_none() {
        let names: Vec<&str> = Area::ALL.into_iter().map(Area::slug).collect();
        report.add(
            here(),
            format!(
                "unknown area \"{}\": use one of {}",
                raw.area,
                names.join(", ")
            ),
        );
    }
    let answer = match raw.answer.as_str() {
        "judgement" => Some(ItemAnswer::Judgement),
        "number" => Some(ItemAnswer::Number {
            unit: raw.unit.clone(),
        }),
        "photo" => Some(ItemAnswer::Photo),
        other => {
            report.add(
                here(),
                format!("unknown answer \"{other}\": use judgement, number or photo"),
            );
            None
        }
    };
    if raw.unit.is_some() && !matches!(answer, Some(ItemAnswer::Number { .. })) {
        report.add(here(), "`unit` belongs to a `number` item");
    }
    if let Some(id) = &raw.indicator {
        match indicators.iter().find(|indicator| indicator.id == *id) {
            None => report.add(
                here(),
                format!("unknown indicator \"{id}\": it is not in indicators.toml"),
            ),
            Some(indicator) => match &answer {
                Some(ItemAnswer::Photo) => report.add(
                    here(),
                    format!(
                        "a `photo` item cannot re-check indicator {id}: use a `judgement` or a \
                         `number` item"
                    ),
                ),
                Some(ItemAnswer::Number { .. })
                    if !matches!(indicator.formula, Formula::Value { .. }) =>
                {
                    report.add(
                        here(),
                        format!(
                            "a `number` item re-checks an indicator that reads one number (a \
                             `value` indicator); {id} is a `{}` indicator: use a `judgement` item",
                            indicator.formula.name()
                        ),
                    );
                }
                _ => {}
            },
        }
    }
    if report.errors.len() != errors_before {
        return None;
    }
    Some(ChecklistItem {
        id: raw.id.clone(),
        area: area?,
        text: raw.text.trim().to_owned(),
        help: raw.help.clone().filter(|help| !help.trim().is_empty()),
        answer: answer?,
        indicator: raw.indicator.clone(),
    })
}

#[cfg(test)]
mod tests;
