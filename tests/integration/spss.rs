//! The answers as an SPSS system file, read back by real readers: PSPP (`pspp-convert`,
//! `pspp`) and, where installed, Python's `pyreadstat`. Their reading must agree with the CSV
//! export — the same cases, labels and counts — and a teachers' file must keep the CSV's
//! anonymity. Without a reader a test prints SKIPPED and returns (`.ci/run` installs both).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::survey::QuestionKind;

use crate::demo::{demo, query_i64};
use crate::helpers::{catalog_survey, spawn_app};

const NOT_SHOWN: &str = "不适用（未显示此题）";

fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|output| output.status.success())
}

/// The campaign's answers as CSV (labels) and as .sav, written by the command line.
fn exports(campaign: i32, folder: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let demo = demo();
    demo.run.succeeded();
    let csv = folder.join(format!("{campaign}.csv"));
    let sav = folder.join(format!("{campaign}.sav"));
    let env = [("DATABASE_URL", demo.url.as_str())];
    let id = campaign.to_string();
    demo.terminal
        .run_into_file(&["export", "--campaign", &id], &env, &csv)
        .succeeded();
    demo.terminal
        .run_into_file(
            &["export", "--campaign", &id, "--format", "sav"],
            &env,
            &sav,
        )
        .succeeded();
    (csv, sav)
}

/// A CSV file as its header and rows.
fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(path).expect("csv");
    let text = text.trim_start_matches('\u{feff}');
    let mut reader = csv::ReaderBuilder::new().from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .map(str::to_owned)
        .collect();
    let rows = reader
        .records()
        .map(|record| {
            record
                .expect("row")
                .iter()
                .map(|cell| cell.trim().to_owned())
                .collect()
        })
        .collect();
    (header, rows)
}

/// PSPP's reading of the .sav as CSV, value labels in place of values.
fn pspp_labels(sav: &Path) -> (Vec<String>, Vec<Vec<String>>) {
    let out = sav.with_extension("pspp.csv");
    let status = Command::new("pspp-convert")
        .arg("--labels")
        .arg(sav)
        .arg(&out)
        .status()
        .expect("pspp-convert runs");
    assert!(
        status.success(),
        "pspp-convert could not read {}",
        sav.display()
    );
    read_csv(&out)
}

fn counts<'a>(values: impl Iterator<Item = &'a str>) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for value in values {
        *counts.entry(value.to_owned()).or_insert(0) += 1;
    }
    counts
}

fn column(header: &[String], name: &str) -> usize {
    header
        .iter()
        .position(|column| column == name)
        .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
}

#[test]
fn the_parents_sav_reads_back_in_pspp_with_the_csv_exports_cases_labels_and_counts() {
    if !have("pspp-convert") {
        println!("SKIPPED: pspp-convert is not installed (Debian: apt-get install pspp)");
        return;
    }
    let folder = tempfile::tempdir().expect("temp dir");
    let (csv, sav) = exports(1, folder.path());
    let (csv_header, csv_rows) = read_csv(&csv);
    let (sav_header, sav_rows) = pspp_labels(&sav);
    assert_eq!(sav_rows.len(), csv_rows.len(), "one case per answer");
    assert!(csv_rows.len() > 1000);
    // The same answers in the same order: ids and schools.
    for (csv_row, sav_row) in csv_rows.iter().zip(&sav_rows) {
        assert_eq!(csv_row[0], sav_row[column(&sav_header, "answer_id")]);
        assert_eq!(csv_row[1], sav_row[column(&sav_header, "school_code")]);
        assert_eq!(csv_row[3], sav_row[column(&sav_header, "township")]);
    }
    let survey = catalog_survey("parents");
    let mut compared = 0;
    for question in survey.questions() {
        let csv_at = column(&csv_header, &question.text);
        match &question.kind {
            QuestionKind::Single { .. }
            | QuestionKind::Scale { .. }
            | QuestionKind::YesNo { .. } => {
                let sav_at = column(&sav_header, &question.id);
                let from_csv = counts(csv_rows.iter().map(|row| row[csv_at].as_str()));
                let from_sav = counts(sav_rows.iter().map(|row| {
                    let label = row[sav_at].as_str();
                    if label == NOT_SHOWN { "" } else { label }
                }));
                assert_eq!(from_sav, from_csv, "{}", question.id);
                compared += 1;
            }
            QuestionKind::Multiple { options, .. } => {
                for option in options {
                    let sav_at = column(&sav_header, &format!("{}_{}", question.id, option.code));
                    let chosen_csv = csv_rows
                        .iter()
                        .filter(|row| row[csv_at].split('；').any(|label| label == option.label))
                        .count();
                    let chosen_sav = sav_rows.iter().filter(|row| row[sav_at] == "选中").count();
                    assert_eq!(chosen_sav, chosen_csv, "{}: {}", question.id, option.code);
                }
                compared += 1;
            }
            _ => {}
        }
    }
    assert!(compared >= 10, "{compared} questions compared");

    // The dictionary as PSPP shows it: labels in Chinese, measures, the missing code.
    if have("pspp") {
        let syntax = folder.path().join("dictionary.sps");
        std::fs::write(
            &syntax,
            format!(
                "GET FILE='{}'.\nDISPLAY DICTIONARY.\nFREQUENCIES VARIABLES=overall_satisfaction school_kind.\n",
                sav.display()
            ),
        )
        .expect("syntax");
        let listing = folder.path().join("dictionary.csv");
        let output = Command::new("pspp")
            .arg("-o")
            .arg(&listing)
            .arg(&syntax)
            .output()
            .expect("pspp runs");
        let text = std::fs::read_to_string(&listing).unwrap_or_default();
        assert!(
            output.status.success(),
            "{}\n{text}",
            String::from_utf8_lossy(&output.stderr)
        );
        let overall = survey.question("overall_satisfaction").expect("question");
        for expected in [
            overall.text.as_str(),
            "非常满意",
            "Ordinal",
            "Nominal",
            "Scale",
            "九年一贯制",
            NOT_SHOWN,
        ] {
            assert!(
                text.contains(expected),
                "PSPP's dictionary lacks {expected}"
            );
        }
        assert!(
            !text.contains("Warning") && !text.contains("warning"),
            "{text}"
        );
    } else {
        println!("SKIPPED (dictionary): pspp is not installed");
    }
}

#[test]
fn the_sav_reads_back_in_pyreadstat_with_labels_measures_and_the_utf8_encoding() {
    let probe = Command::new("python3")
        .args(["-c", "import pyreadstat"])
        .output();
    if !probe.is_ok_and(|output| output.status.success()) {
        println!("SKIPPED: Python's pyreadstat is not installed (pip install pyreadstat)");
        return;
    }
    let folder = tempfile::tempdir().expect("temp dir");
    let (csv, sav) = exports(1, folder.path());
    let (_, csv_rows) = read_csv(&csv);
    let script = r#"
import json, sys, pyreadstat
columns, meta = pyreadstat.read_sav(sys.argv[1], output_format="dict")
print(json.dumps({
    "rows": len(next(iter(columns.values()))),
    "encoding": meta.file_encoding,
    "label": meta.column_names_to_labels["overall_satisfaction"],
    "values": {str(int(k)): v for k, v in meta.variable_value_labels["overall_satisfaction"].items()},
    "measure": meta.variable_measure["overall_satisfaction"],
    "number_measure": meta.variable_measure["duration_s"],
}, ensure_ascii=False))
"#;
    let output = Command::new("python3")
        .args(["-c", script])
        .arg(&sav)
        .output()
        .expect("python3 runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let read: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("pyreadstat's JSON");
    assert_eq!(read["rows"], csv_rows.len());
    assert_eq!(
        read["encoding"].as_str().map(str::to_uppercase).as_deref(),
        Some("UTF-8")
    );
    let survey = catalog_survey("parents");
    let overall = survey.question("overall_satisfaction").expect("question");
    assert_eq!(read["label"], overall.text.as_str());
    assert_eq!(read["values"]["5"], "非常满意");
    assert_eq!(read["values"]["1"], "非常不满意");
    assert_eq!(read["measure"], "ordinal");
    assert_eq!(read["number_measure"], "scale");
}

#[actix_web::test]
async fn the_teachers_sav_names_no_answer_or_time_and_leaves_out_schools_of_fewer_than_five() {
    if !have("pspp-convert") {
        println!("SKIPPED: pspp-convert is not installed (Debian: apt-get install pspp)");
        return;
    }
    let folder = tempfile::tempdir().expect("temp dir");
    let (csv, sav) = exports(2, folder.path());
    let (_, csv_rows) = read_csv(&csv);
    let (sav_header, sav_rows) = pspp_labels(&sav);
    for hidden in ["answer_id", "submitted_day", "duration_s"] {
        assert!(
            !sav_header.iter().any(|name| name == hidden),
            "{hidden} in {sav_header:?}"
        );
    }
    assert_eq!(sav_rows.len(), csv_rows.len());
    let code_at = column(&sav_header, "school_code");
    let sav_schools: BTreeSet<&str> = sav_rows.iter().map(|row| row[code_at].as_str()).collect();
    let csv_schools: BTreeSet<&str> = csv_rows.iter().map(|row| row[0].as_str()).collect();
    assert_eq!(sav_schools, csv_schools);
    let small = query_i64(
        &demo().url,
        "SELECT count(*) FROM campaign_link WHERE campaign_id = 2 AND response_count BETWEEN 1 AND 4",
    )
    .await;
    assert!(small >= 1);
    let answered = query_i64(
        &demo().url,
        "SELECT count(*) FROM campaign_link WHERE campaign_id = 2 AND response_count >= 5",
    )
    .await;
    assert_eq!(
        sav_schools.len() as i64,
        answered,
        "only schools of 5 or more answers"
    );
}

#[actix_web::test]
async fn the_console_offers_the_answers_as_a_sav_download_and_refuses_counts_in_it() {
    let app = spawn_app().await;
    app.import_sample_schools().await;
    let campaign = app.create_campaign("parents", None, None).await;
    let survey = catalog_survey("parents");
    let links = app.links(campaign).await;
    for link in links.iter().take(3) {
        let page = app.phone().answer(&link.token, &survey).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    }
    let mut browser = app.signed_in(Role::Supervisor).await;
    let show = browser.get(&format!("/console/campaigns/{campaign}")).await;
    assert!(
        show.body
            .contains(&format!("/console/campaigns/{campaign}/export.sav"))
    );
    let download = browser
        .download(&format!("/console/campaigns/{campaign}/export.sav"))
        .await;
    let (status, content_type, disposition, body) = download.parts();
    assert_eq!(status, StatusCode::OK);
    assert_eq!(content_type, "application/x-spss-sav");
    assert!(disposition.contains(".sav"), "{disposition}");
    assert!(body.starts_with(b"$FL2"));
    assert!(body.windows(5).any(|window| window == b"UTF-8"));
    let counts = browser
        .download(&format!(
            "/console/campaigns/{campaign}/export.sav?what=aggregates"
        ))
        .await;
    assert_eq!(counts.parts().0, StatusCode::BAD_REQUEST);
    let missing = browser.download("/console/campaigns/999/export.sav").await;
    assert_eq!(missing.parts().0, StatusCode::NOT_FOUND);
    if have("pspp-convert") {
        let folder = tempfile::tempdir().expect("temp dir");
        let file = folder.path().join("download.sav");
        std::fs::write(&file, &body).expect("saved");
        let (_, rows) = pspp_labels(&file);
        assert_eq!(rows.len(), 3);
    }
}
