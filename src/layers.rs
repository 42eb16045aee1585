//! The modules' order, checked: every top-level module of the library has a layer, and a module
//! may use only modules of lower layers. A new module must be given its layer here (the test
//! fails until it is), and an import that runs the wrong way — a record module reaching up into
//! a page, the writer into invitations — fails the build's tests instead of closing a loop.
//! README's codemap lists the same layers.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Lower first. A module may use only modules whose layer number is smaller than its own.
const LAYERS: &[(usize, &[&str])] = &[
    // Leaves: no module of dupin below them.
    (
        0,
        &[
            "db",
            "cache",
            "secrets",
            "school_kind",
            "csv_files",
            "progress",
        ],
    ),
    (1, &["audit"]),
    (2, &["change"]),
    // The plan's files and the links people answer through.
    (3, &["survey", "links"]),
    // Pure arithmetic on the plan; the outbox and its sender.
    (4, &["rating", "mail"]),
    // Records.
    (5, &["accounts", "schools", "api_tokens", "photos"]),
    (6, &["campaigns"]),
    (7, &["answering"]),
    (8, &["results", "invitations", "teachers"]),
    (9, &["quality", "export", "charts", "visits"]),
    (10, &["rectification"]),
    (11, &["reports"]),
    (12, &["letters"]),
    // Faces and tools.
    (13, &["ops", "demo"]),
    (14, &["web"]),
    (15, &["startup"]),
    (16, &["bench"]),
    (17, &["cli"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS
        .iter()
        .find(|(_, modules)| modules.contains(&module))
        .map(|(layer, _)| *layer)
}

/// Every `.rs` file under `folder`.
fn rust_files(folder: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The code of a file without its unit tests and comments.
fn code_of(source: &str) -> String {
    let before_tests = source.split("#[cfg(test)]").next().unwrap_or_default();
    before_tests
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules `code` names through `crate::…`, including `use crate::{a, b::c}`.
fn crate_modules(code: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut item = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        found.push(std::mem::take(&mut item));
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 {
                    item.push(c);
                }
            }
            found.push(item);
        } else {
            found.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    found
        .into_iter()
        .map(|item| {
            item.trim()
                .split("::")
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .filter(|name| !name.is_empty() && name != "self")
        .collect()
}

#[test]
fn every_module_has_a_layer_and_uses_only_lower_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut wrong: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for file in files {
        let relative = file.strip_prefix(&src).unwrap_or(&file);
        let top = relative
            .components()
            .next()
            .map(|part| {
                part.as_os_str()
                    .to_string_lossy()
                    .trim_end_matches(".rs")
                    .to_owned()
            })
            .unwrap_or_default();
        let is_test_file = relative
            .components()
            .any(|part| part.as_os_str() == "tests" || part.as_os_str() == "tests.rs");
        if matches!(top.as_str(), "lib" | "main" | "layers") || is_test_file {
            continue;
        }
        let Some(own) = layer_of(&top) else {
            panic!(
                "{top} (src/{}) has no layer in src/layers.rs",
                relative.display()
            );
        };
        let source = std::fs::read_to_string(&file).expect("a source file");
        for used in crate_modules(&code_of(&source)) {
            if used == top {
                continue;
            }
            match layer_of(&used) {
                Some(layer) if layer < own => {}
                _ => wrong
                    .entry(format!("{top} → {used}"))
                    .or_default()
                    .push(relative.display().to_string()),
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers (a module may use only lower ones):\n{wrong:#?}"
    );
}

#[test]
fn imports_are_read_from_paths_and_groups() {
    let code = "use crate::{audit, change::{Actor, Change}};\nlet x = crate::db::connect();";
    assert_eq!(crate_modules(code), ["audit", "change", "db"]);
    assert_eq!(
        code_of("use a; // crate::web\n#[cfg(test)]\nuse crate::web;"),
        "use a; "
    );
}

#[test]
fn every_module_of_the_library_is_in_exactly_one_layer() {
    let lib = include_str!("lib.rs");
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|line| line.trim().strip_prefix("pub mod "))
        .map(|name| name.trim_end_matches(';'))
        .collect();
    let layered: Vec<&str> = LAYERS
        .iter()
        .flat_map(|(_, modules)| modules.iter().copied())
        .collect();
    for module in &declared {
        assert_eq!(
            layered.iter().filter(|name| *name == module).count(),
            1,
            "{module}"
        );
    }
    assert_eq!(declared.len(), layered.len(), "{declared:?} vs {layered:?}");
}
