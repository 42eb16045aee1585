//! Progress of a long command (`dupin demo`, the fill of `dupin bench-results`): a bar on
//! stderr when stderr is a terminal, and otherwise one plain line per tenth of the work, so that
//! a log file or a CI job shows the command is alive without control codes in the file.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;

/// Reports `done` of `total` units of work under a label.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    label: String,
    /// The last tenth printed as a line (without a terminal).
    tenth: Mutex<u64>,
}

impl Progress {
    pub fn new(label: &str, unit: &str, total: u64) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            bar.set_style(
                indicatif::ProgressStyle::with_template(&format!(
                    "  {label} {{bar:40}} {{pos}}/{{len}} {unit} ({{per_sec}}, {{eta}} left)"
                ))
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            bar
        });
        Progress {
            bar,
            label: format!("{label} ({unit})"),
            tenth: Mutex::new(0),
        }
    }

    /// `done` of `total` are finished.
    pub fn set(&self, done: u64, total: u64) {
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.set_position(done);
            return;
        }
        let tenth = (done * 10).checked_div(total).unwrap_or(10);
        let mut printed = self.tenth.lock().unwrap_or_else(|e| e.into_inner());
        if tenth > *printed {
            *printed = tenth;
            let _ = writeln!(
                std::io::stderr(),
                "  {}: {done} of {total} ({}%)",
                self.label,
                tenth * 10
            );
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_terminal_each_tenth_is_printed_once() {
        let progress = Progress {
            bar: None,
            label: "filling (answers)".to_owned(),
            tenth: Mutex::new(0),
        };
        progress.set(5, 100);
        progress.set(10, 100);
        progress.set(12, 100);
        assert_eq!(*progress.tenth.lock().expect("lock"), 1);
        progress.set(100, 100);
        assert_eq!(*progress.tenth.lock().expect("lock"), 10);
    }
}
