//! `dupin demo [--serve]`: builds the demo county (`crate::demo`) in its own database —
//! `data/demo.sqlite3` unless `--demo-database` names another — and prints how to sign in;
//! with `--serve`, then serves it. Never uses `DATABASE_URL`: an installation's real database
//! is not touched by accident.

use std::process::ExitCode;
use std::time::Instant;

use super::Common;
use crate::progress::Progress;

pub(super) const DEFAULT_DEMO_DATABASE: &str = "sqlite://data/demo.sqlite3";

#[derive(clap::Args)]
pub(super) struct DemoArgs {
    /// Where the demo county goes: a SQLite file of its own (replaced if an earlier demo made
    /// it), or an empty PostgreSQL database. `DATABASE_URL` is never used.
    #[arg(long, env = "DUPIN_DEMO_DATABASE", default_value = DEFAULT_DEMO_DATABASE)]
    demo_database: String,
    /// Serve the demo once it is built (on --bind, default 127.0.0.1:8080).
    #[arg(long)]
    serve: bool,
}

pub(super) async fn run(
    mut common: Common,
    args: DemoArgs,
    mail: crate::mail::MailSettings,
) -> anyhow::Result<ExitCode> {
    let catalog = match crate::survey::load_dir(&common.surveys) {
        Ok(catalog) => catalog,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let plan = match crate::rating::load_plan(&common.surveys, &catalog) {
        Ok(plan) => plan,
        Err(errors) => {
            eprintln!("{errors}");
            return Ok(ExitCode::FAILURE);
        }
    };
    let url = args.demo_database.clone();
    if let Err(message) = remove_an_earlier_demo(&url).await {
        eprintln!("error: {message}");
        return Ok(ExitCode::FAILURE);
    }
    println!("dupin demo: building the demo county 青溪县 in {url}");
    println!(
        "  (your own database, {}, is not touched)",
        common.database_url
    );
    let started = Instant::now();
    common.database_url = url.clone();
    let context = common.context().await?;
    let progress = Progress::new("answering", "answers", 0);
    let summary = match crate::demo::build(&context, &catalog, &plan, &|done, total| {
        progress.set(done, total)
    })
    .await
    {
        Ok(summary) => summary,
        Err(error @ crate::demo::DemoError::NotEmpty(_)) => {
            progress.finish();
            eprintln!("error: {url}: {error}; name another with --demo-database");
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => return Err(error.into()),
    };
    progress.finish();
    context.db.clone().close().await.ok();
    println!(
        "  {} schools in {} townships, built in {:.1} s:",
        summary.schools,
        summary.townships,
        started.elapsed().as_secs_f64()
    );
    for campaign in &summary.campaigns {
        println!(
            "  campaign {}: {} — {} answers ({} flagged, {} of them left out)",
            campaign.id, campaign.name, campaign.answers, campaign.flagged, campaign.left_out
        );
    }
    let base = common.base_url();
    println!();
    println!("Sign in at {base}/console");
    println!("  e-mail:   {}", summary.admin_email);
    println!("  password: {}", summary.admin_password);
    let supervision = &summary.supervision;
    println!(
        "  supervisor (visits, rectification, letters): {} / {}",
        crate::demo::supervision::SUPERVISOR_EMAIL,
        supervision.supervisor_password
    );
    println!(
        "  school viewer of {}: {} / {}",
        supervision.school,
        crate::demo::supervision::SCHOOL_EMAIL,
        supervision.school_password
    );
    println!(
        "  supervision: {} visits, {} rectification items, {} 督导意见书 issued",
        supervision.visits, supervision.items, supervision.letters
    );
    if !args.serve {
        println!();
        println!("Serve it with: dupin demo --serve   (or: DATABASE_URL={url} dupin)");
        return Ok(ExitCode::SUCCESS);
    }
    println!();
    super::serve::run(common, mail).await
}

/// Makes room for the demo: a SQLite file an earlier demo made is removed (with its `-wal` and
/// `-shm`); any other existing file is refused. A PostgreSQL database is left to the demo's own
/// check that it has no schools.
async fn remove_an_earlier_demo(url: &str) -> Result<(), String> {
    let Some(file) = crate::db::sqlite_file(url) else {
        return Ok(());
    };
    if !file.exists() {
        return Ok(());
    }
    let is_demo = match crate::db::connect(url).await {
        Ok(db) => {
            let found = crate::accounts::find_by_email(&db, crate::demo::ADMIN_EMAIL)
                .await
                .ok()
                .flatten()
                .is_some();
            db.close().await.ok();
            found
        }
        Err(_) => false,
    };
    if !is_demo {
        return Err(format!(
            "{} exists and is not a demo database; the demo never overwrites other data. \
             Name another file with --demo-database sqlite://PATH",
            file.display()
        ));
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.clone().into_os_string();
        path.push(suffix);
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => {
                return Err(format!(
                    "cannot remove the earlier demo {}: {error}",
                    std::path::Path::new(&path).display()
                ));
            }
        }
    }
    Ok(())
}
