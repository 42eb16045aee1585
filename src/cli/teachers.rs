//! `dupin teachers import FILE.csv`: the county's roster file from the command line, with the
//! console's checks and the same all-or-nothing import.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use super::Common;
use crate::change::Actor;
use crate::teachers::actions::import_county_rosters;
use crate::teachers::{CountyImportError, ImportError, RosterScope, parse_csv};

#[derive(Subcommand)]
pub enum TeachersCommand {
    /// Replace the rosters of the schools a county file lists (columns 学校代码/school_code,
    /// 姓名/name, 邮箱/email; UTF-8 or GBK). Teachers no longer listed are removed unless they
    /// were invited. A file with any bad line imports nothing and lists every bad line.
    Import { file: PathBuf },
}

pub(super) async fn run(command: TeachersCommand, common: &Common) -> anyhow::Result<ExitCode> {
    let TeachersCommand::Import { file } = command;
    let bytes = std::fs::read(&file)
        .map_err(|error| anyhow::anyhow!("cannot read {}: {error}", file.display()))?;
    let lines = match parse_csv(&bytes, RosterScope::County) {
        Ok(lines) => lines,
        Err(error) => {
            eprintln!("{}: {error}", file.display());
            return Ok(ExitCode::FAILURE);
        }
    };
    let context = common.context().await?;
    let name = file
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let imported = import_county_rosters(&context, Actor::CommandLine, &name, lines).await;
    let summaries = match imported {
        Ok(summaries) => summaries,
        Err(CountyImportError::BadLines(errors)) => {
            eprintln!(
                "{}: {}",
                file.display(),
                ImportError::BadLines {
                    what: "教师",
                    lines: errors,
                }
            );
            return Ok(ExitCode::FAILURE);
        }
        Err(CountyImportError::Db(error)) => return Err(error.into()),
    };
    let added: usize = summaries.iter().map(|summary| summary.added).sum();
    let removed: usize = summaries.iter().map(|summary| summary.removed).sum();
    for summary in &summaries {
        let mut line = format!(
            "{}\t{}\t新增 {}，改名 {}，未变 {}，删除 {}",
            summary.school_code,
            summary.school_name,
            summary.added,
            summary.renamed,
            summary.unchanged,
            summary.removed
        );
        if !summary.kept.is_empty() {
            line.push_str(&format!("，已邀请而保留：{}", summary.kept.join("、")));
        }
        println!("{line}");
    }
    println!(
        "导入完成：{} 所学校的教师名单已替换（新增 {added} 位，删除 {removed} 位）。",
        summaries.len()
    );
    Ok(ExitCode::SUCCESS)
}
