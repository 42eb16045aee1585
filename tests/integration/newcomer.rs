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
