//! `dupin backup PATH` and `dupin migrate-data --from URL --to URL`.

use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use super::Common;
use crate::db;
use crate::ops::{backup, migrate_data};

pub(super) async fn backup(common: &Common, path: &std::path::Path) -> anyhow::Result<ExitCode> {
    let url = common.database_url.as_str();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        // Nothing is touched: PostgreSQL's own tool makes a consistent dump of a live database.
        eprintln!(
            "error: dupin backup copies SQLite databases only; this installation runs on PostgreSQL."
        );
        match backup::pg_dump_command(url, path) {
            Ok(command) => {
                eprintln!("Back it up with pg_dump, which copies a running database consistently:");
                eprintln!("  {command}");
                eprintln!(
                    "(the password goes in PGPASSWORD or ~/.pgpass; restore with pg_restore --dbname=…)"
                );
            }
            Err(message) => eprintln!("Back it up with pg_dump ({message})."),
        }
        return Ok(ExitCode::FAILURE);
    }
    let db = db::connect(url).await?;
    match backup::backup_sqlite(&db, path).await {
        Ok(report) => {
            println!(
                "Backed up to {}: {} in {:.2} s.",
                report.path.display(),
                size_text(report.bytes),
                report.took.as_secs_f64()
            );
            println!(
                "It is a complete database: DATABASE_URL=sqlite://{} dupin opens it.",
                report.path.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            eprintln!("error: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}

/// `bytes` for a person: `812 KB`, `23.4 MB`.
fn size_text(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{} KB", bytes.div_ceil(1_000))
    } else {
        format!("{:.1} MB", bytes as f64 / 1_000_000.0)
    }
}

pub(super) async fn migrate_data(from: &str, to: &str) -> anyhow::Result<ExitCode> {
    let (from_shown, to_shown) = (
        migrate_data::without_password(from),
        migrate_data::without_password(to),
    );
    if from.trim_end_matches('/') == to.trim_end_matches('/') {
        eprintln!("error: {}", migrate_data::MigrateDataError::SameDatabase);
        return Ok(ExitCode::FAILURE);
    }
    let source = db::connect(from)
        .await
        .map_err(|error| anyhow::anyhow!("--from {from_shown}: {error}"))?;
    let target = db::connect(to)
        .await
        .map_err(|error| anyhow::anyhow!("--to {to_shown}: {error}"))?;
    if let Err(error) = migrate_data::check_target(&target).await {
        eprintln!("error: {error}");
        return Ok(ExitCode::FAILURE);
    }
    println!("Copying {from_shown} → {to_shown}, in one transaction: all or nothing.");
    let started = std::time::Instant::now();
    // A bar only for tables worth watching; the others finish before it would draw.
    let bar: std::sync::Mutex<Option<ProgressBar>> = std::sync::Mutex::new(None);
    let progress = |event: migrate_data::Progress<'_>| {
        let Ok(mut bar) = bar.lock() else { return };
        match event {
            migrate_data::Progress::Started { table, rows } => {
                if rows > 10 * migrate_data::BATCH_ROWS as i64 {
                    let new = ProgressBar::new(rows as u64);
                    if let Ok(style) =
                        ProgressStyle::with_template("  {msg:<16} {bar:30} {pos}/{len}")
                    {
                        new.set_style(style);
                    }
                    new.set_message(table);
                    *bar = Some(new);
                }
            }
            migrate_data::Progress::Batch { rows, .. } => {
                if let Some(bar) = bar.as_ref() {
                    bar.set_position(rows);
                }
            }
            migrate_data::Progress::Finished(copied) => {
                if let Some(bar) = bar.take() {
                    bar.finish_and_clear();
                }
                println!(
                    "  {:<16} {:>9} in the source, {:>9} in the target   {:.2} s",
                    copied.table,
                    copied.source_rows,
                    copied.target_rows,
                    copied.took.as_secs_f64()
                );
            }
        }
    };
    match migrate_data::migrate_data(&source, &target, &progress).await {
        Ok(copied) => {
            let rows: i64 = copied.iter().map(|table| table.target_rows).sum();
            println!(
                "Done: {rows} rows in {} tables in {:.2} s; every table has as many rows in the target as in the source.",
                copied.len(),
                started.elapsed().as_secs_f64()
            );
            println!("Now start dupin with DATABASE_URL={to_shown}");
            Ok(ExitCode::SUCCESS)
        }
        Err(error) => {
            if let Ok(mut bar) = bar.lock()
                && let Some(bar) = bar.take()
            {
                bar.finish_and_clear();
            }
            eprintln!("error: {error}");
            Ok(ExitCode::FAILURE)
        }
    }
}
