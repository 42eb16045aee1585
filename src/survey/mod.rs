//! The plan's surveys as files: the TOML format (`raw`), the checked model (`model`) and the
//! checks between them (`check`). Loading a folder checks every file and lists every error, so
//! `dupin check` and start-up refuse a broken plan with messages that name file and question.
//!
//! This module reads files and nothing else: no database, no HTTP.

mod answer;
mod check;
pub mod model;
mod raw;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

pub use answer::{Answer, Code};
pub use check::{Location, PlanError};
pub(crate) use check::{Report, is_slug};
pub use model::{
    Area, Audience, ChoiceOption, MatrixRow, Question, QuestionKind, Scale, ScalePoint, Section,
    ShowIf, Survey,
};

/// The file of scales every survey may use.
pub const SCALES_FILE: &str = "scales.toml";
/// Files of the folder that are not surveys; their formats belong to other modules.
const RESERVED_FILES: [&str; 4] = [
    SCALES_FILE,
    "indicators.toml",
    "rating.toml",
    "targets.toml",
];

/// Every survey of the plan, checked.
#[derive(Debug, Default)]
pub struct Catalog {
    surveys: BTreeMap<String, CatalogEntry>,
}

#[derive(Debug)]
pub struct CatalogEntry {
    pub survey: Survey,
    pub file: PathBuf,
    /// The file's text, kept beside a campaign's frozen version for the record.
    pub source: String,
}

impl Catalog {
    pub fn get(&self, id: &str) -> Option<&CatalogEntry> {
        self.surveys.get(id)
    }

    pub fn entries(&self) -> impl Iterator<Item = &CatalogEntry> {
        self.surveys.values()
    }

    pub fn ids(&self) -> Vec<&str> {
        self.surveys.keys().map(String::as_str).collect()
    }

    pub fn len(&self) -> usize {
        self.surveys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.surveys.is_empty()
    }
}

/// Every error found in the plan's folder; never empty.
#[derive(Debug)]
pub struct PlanErrors(pub Vec<PlanError>);

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, error) in self.0.iter().enumerate() {
            if n > 0 {
                writeln!(f)?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for PlanErrors {}

/// The content digest of a checked survey: equal surveys share one stored version.
pub fn digest(survey: &Survey) -> String {
    let json = definition_json(survey);
    let hash = Sha256::digest(json.as_bytes());
    hash.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The survey as campaigns store it.
pub fn definition_json(survey: &Survey) -> String {
    // Serialising plain structs of strings, numbers and vectors cannot fail.
    serde_json::to_string(survey).unwrap_or_default()
}

/// Reads a survey back from a campaign's stored definition.
pub fn from_definition_json(json: &str) -> Result<Survey, serde_json::Error> {
    serde_json::from_str(json)
}

/// Loads and checks every `*.toml` file of `dir`.
pub fn load_dir(dir: &Path) -> Result<Catalog, PlanErrors> {
    let folder = dir.display().to_string();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            // Said in full: a command run outside the project folder looks for `surveys` in
            // the wrong place, and the reader needs to know where and how to point it.
            let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
            return Err(PlanErrors(vec![PlanError {
                file: folder,
                location: Location::File,
                message: format!(
                    "cannot read the surveys folder {} ({error}); run dupin in the folder that \
                     holds surveys/, or name the folder with --surveys PATH or DUPIN_SURVEYS=PATH",
                    absolute.display()
                ),
            }]));
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    files.sort();

    let mut errors = Vec::new();
    let mut read = |path: &Path| -> Option<String> {
        match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(error) => {
                errors.push(PlanError {
                    file: path.display().to_string(),
                    location: Location::File,
                    message: format!("cannot read the file: {error}"),
                });
                None
            }
        }
    };

    let scales_path = dir.join(SCALES_FILE);
    let mut scales = BTreeMap::new();
    let mut sources = Vec::new();
    if scales_path.exists()
        && let Some(text) = read(&scales_path)
    {
        sources.push((scales_path.clone(), text));
    }
    for path in &files {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if RESERVED_FILES.contains(&name) {
            continue;
        }
        if let Some(text) = read(path) {
            sources.push((path.clone(), text));
        }
    }

    let mut catalog = Catalog::default();
    let mut files_of_ids: BTreeMap<String, String> = BTreeMap::new();
    for (path, text) in sources {
        let file = path.display().to_string();
        let mut report = check::Report::new(&file);
        if path == scales_path {
            if let Some(raw) = parse_toml::<raw::RawScalesFile>(&text, &mut report) {
                for (id, raw_scale) in &raw.scales {
                    let scale = check::check_scale(id, raw_scale, &mut report);
                    scales.insert(id.clone(), scale);
                }
            }
            errors.append(&mut report.errors);
            continue;
        }
        let Some(raw) = parse_toml::<raw::RawSurvey>(&text, &mut report) else {
            errors.append(&mut report.errors);
            continue;
        };
        let survey = check::check_survey(&raw, &scales, &mut report);
        if let Some(other) = files_of_ids.get(&survey.id) {
            report.add(
                Location::File,
                format!("survey id \"{}\" is already used by {}", survey.id, other),
            );
        }
        files_of_ids.insert(survey.id.clone(), file.clone());
        if report.errors.is_empty() {
            catalog.surveys.insert(
                survey.id.clone(),
                CatalogEntry {
                    survey,
                    file: path,
                    source: text,
                },
            );
        }
        errors.append(&mut report.errors);
    }

    if errors.is_empty() && catalog.is_empty() {
        errors.push(PlanError {
            file: folder,
            location: Location::File,
            message: "the folder holds no survey (*.toml) files".to_owned(),
        });
    }
    if errors.is_empty() {
        Ok(catalog)
    } else {
        Err(PlanErrors(errors))
    }
}

/// Parses one plan file, reporting a syntax error or an unknown key with its line number.
pub(crate) fn parse_toml<T: serde::de::DeserializeOwned>(
    text: &str,
    report: &mut check::Report,
) -> Option<T> {
    match toml::from_str::<T>(text) {
        Ok(value) => Some(value),
        Err(error) => {
            let location = match error.span() {
                Some(span) => {
                    let before = text.get(..span.start).unwrap_or(text);
                    Location::Line(before.matches('\n').count() + 1)
                }
                None => Location::File,
            };
            report.add(location, error.message().trim().to_owned());
            None
        }
    }
}

#[cfg(test)]
mod tests;
