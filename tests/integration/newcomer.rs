//! What a newcomer trips on, tried with the real binary: colour codes in logs that are not read
//! on a terminal, a long fill that says nothing, and a command run outside the project folder.

use std::time::Duration;

use crate::cli::Terminal;
use crate::helpers::repo_path;

const ESCAPE: char = '\u{1b}';

#[test]
fn logs_and_output_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let terminal = Terminal::new();
    let file = repo_path("tests/fixtures/schools/county.csv");
    // NO_COLOR empty counts as unset: only the terminal test keeps the colour away.
    let run = terminal.run_with_env(
        &["schools", "import", file.to_str().expect("utf-8")],
        &[("NO_COLOR", ""), ("DUPIN_LOG", "info")],
    );
    run.succeeded();
    assert!(run.stderr.contains("imported schools"), "{run:#?}");
    assert!(
        !run.stderr.contains(ESCAPE),
        "colour in the log: {:?}",
        run.stderr
    );
    assert!(!run.stdout.contains(ESCAPE));
}

#[test]
fn a_command_that_cannot_find_the_surveys_names_the_path_and_how_to_set_it() {
    let terminal = Terminal::new();
    let run = terminal.run_with_env(&["check"], &[("DUPIN_SURVEYS", "not-here")]);
    run.failed();
    let tried = terminal.folder().join("not-here");
    assert!(
        run.stderr.contains(tried.to_str().expect("utf-8")),
        "the absolute path tried: {}",
        run.stderr
    );
    assert!(run.stderr.contains("--surveys") && run.stderr.contains("DUPIN_SURVEYS"));
}

#[test]
fn bench_results_shows_its_fill_progress_without_a_terminal() {
    let terminal = Terminal::new();
    let run = terminal.run_patiently(
        &[
            "bench-results",
            "--answers",
            "3000",
            "--schools",
            "10",
            "--rounds",
            "1",
        ],
        Duration::from_secs(180),
    );
    run.succeeded();
    assert!(
        run.stderr
            .contains("filling (answers): 3000 of 3000 (100%)"),
        "{}",
        run.stderr
    );
    // One line per batch of 2,000 that crosses a tenth: the fill is seen moving.
    assert!(run.stderr.contains("2000 of 3000 (60%)"), "{}", run.stderr);
    assert!(!run.stderr.contains(ESCAPE) && !run.stdout.contains(ESCAPE));
}

/// `dupin bench` as the README runs it, made short: two whole runs on fresh databases (on
/// PostgreSQL too when the suite runs there), each ending with the in-run ceiling, the check
/// that every acknowledged answer was stored (those of the paired slices too) and the recount of
/// the running counts; then the median row for README.
#[test]
fn bench_runs_twice_checks_every_acknowledged_answer_and_prints_the_median_row() {
    let terminal = Terminal::new();
    let postgres = std::env::var("DUPIN_TEST_POSTGRES").ok();
    let mut args = vec![
        "bench",
        "--duration",
        "1",
        "--warmup",
        "0",
        "--ceiling",
        "1",
        "--concurrency",
        "4",
        "--schools",
        "3",
        "--runs",
        "2",
        "--paired",
        "1",
        "--slice",
        "1",
    ];
    if let Some(admin) = postgres.as_deref() {
        args.extend(["--backend", "postgres", "--postgres-admin", admin]);
    }
    let run = terminal.run_patiently(&args, Duration::from_secs(180));
    run.succeeded();
    for said in ["== run 1 of 2", "== run 2 of 2", "median of 2 runs:"] {
        assert!(run.stdout.contains(said), "{said}: {}", run.stdout);
    }
    let equal = run
        .stdout
        .lines()
        .filter(|line| line.trim_start().starts_with("durability:") && line.ends_with("equal"))
        .count();
    assert_eq!(
        equal, 2,
        "both runs stored what they acknowledged: {}",
        run.stdout
    );
    let recounted = run
        .stdout
        .lines()
        .filter(|line| {
            line.trim_start().starts_with("counts:")
                && line.ends_with("of 3 schools equal a recount of the stored answers")
        })
        .count();
    assert_eq!(
        recounted, 2,
        "both runs' tallies and score sums equal a recount of their answers: {}",
        run.stdout
    );
    let machine = run
        .stdout
        .lines()
        .filter(|line| line.contains("submissions/s with the form from memory"))
        .filter(|line| {
            // The ceiling's server is a process of its own, whose CPU is measured as dupin's.
            line.split("load; ")
                .nth(1)
                .and_then(|rest| rest.split(" ms CPU per submission").next())
                .and_then(|ms| ms.parse::<f64>().ok())
                .is_some_and(|ms| ms > 0.0)
        })
        .count();
    assert_eq!(
        machine, 2,
        "each run measures the machine's ceiling and its server's CPU: {}",
        run.stdout
    );
    let row = run
        .stdout
        .lines()
        .find(|line| {
            line.starts_with(if postgres.is_some() {
                "| Postgres |"
            } else {
                "| Sqlite |"
            })
        })
        .unwrap_or_else(|| panic!("no median row: {}", run.stdout));
    assert!(row.ends_with("| yes, every run |"), "{row}");
    let rate: f64 = row
        .split('|')
        .nth(3)
        .and_then(|cell| cell.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no rate in {row}"));
    assert!(rate > 0.0, "{row}");
    // Each run's pair of slices, driven with both servers up, gives dupin's share of the
    // ceiling at that moment; the row carries their median over the runs.
    let paired = run
        .stdout
        .lines()
        .filter(|line| {
            line.trim_start().starts_with("paired:")
                && line.contains("% of the ceiling, the median of 1 pair of slices")
        })
        .count();
    assert_eq!(
        paired, 2,
        "each run measures a pair of slices: {}",
        run.stdout
    );
    let share = row.split('|').nth(10).unwrap_or_default();
    assert!(share.trim().ends_with(", 2 pairs)"), "{row}");
}
