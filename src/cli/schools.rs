//! `dupin schools import FILE.csv` and `dupin schools list`.

use std::process::ExitCode;

use indicatif::{ProgressBar, ProgressStyle};

use super::{Common, SchoolsCommand, print_lines};
use crate::change::Actor;
use crate::schools::{self, actions::import_schools};

pub(super) async fn run(common: &Common, command: SchoolsCommand) -> anyhow::Result<ExitCode> {
    match command {
        SchoolsCommand::Import { file } => {
            let bytes = std::fs::read(&file)
                .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))?;
            let parsed = match schools::parse_csv(&bytes) {
                Ok(parsed) => parsed,
                Err(error) => {
                    eprintln!("{}: {error}", file.display());
                    return Ok(ExitCode::FAILURE);
                }
            };
            let context = common.context().await?;
            let bar = ProgressBar::new(parsed.len() as u64);
            if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} 所学校 {msg}")
            {
                bar.set_style(style);
            }
            let name = file
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            let progress = |done: usize| bar.set_position(done as u64);
            let summary =
                import_schools(&context, Actor::CommandLine, &name, &parsed, &progress).await?;
            bar.finish_and_clear();
            println!(
                "导入完成：新增 {} 所，更新 {} 所（共 {} 所）。",
                summary.created,
                summary.updated,
                parsed.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        SchoolsCommand::List => {
            let db = crate::db::connect(&common.database_url).await?;
            print_lines(schools::list(&db).await?.into_iter().map(|school| {
                format!(
                    "{}\t{}\t{}\t{}\t中心校:{}\t重点村:{}\t在校生:{}\t专任教师:{}",
                    school.code,
                    school.name,
                    school.township,
                    school.kind,
                    if school.is_central { "是" } else { "否" },
                    if school.is_key_village { "是" } else { "否" },
                    school.enrolment,
                    school.teachers
                )
            }));
            Ok(ExitCode::SUCCESS)
        }
    }
}
