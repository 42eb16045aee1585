//! `dupin export --campaign ID`: a campaign's answers or counts on standard output.

use std::process::ExitCode;

use super::{Common, ExportArgs};
use crate::db;

pub(super) async fn run(common: &Common, args: ExportArgs) -> anyhow::Result<ExitCode> {
    use crate::export::{CsvSheet, Export, ExportError, Values, What};
    use std::io::{IsTerminal, Write};

    let xlsx = args.format == "xlsx";
    let sav = args.format == "sav";
    if (xlsx || sav) && std::io::stdout().is_terminal() {
        eprintln!(
            "error: an {} file is binary and would garble the terminal; redirect it to a file: \
             dupin export --campaign {} --format {} > 答卷.{}",
            args.format.to_uppercase(),
            args.campaign,
            args.format,
            args.format
        );
        return Ok(ExitCode::FAILURE);
    }
    if sav && args.what != "answers" {
        eprintln!(
            "error: the SPSS file holds the answers only; leave out --what, or use csv or xlsx for the counts"
        );
        return Ok(ExitCode::FAILURE);
    }
    let what = What::parse(&args.what).unwrap_or(What::Answers);
    let values = if args.codes {
        Values::Codes
    } else {
        Values::Labels
    };
    let plan = common.plan()?;
    let db = db::connect(&common.database_url).await?;
    if sav {
        let export = match crate::export::SpssExport::open(&db, args.campaign).await {
            Ok(export) => export,
            Err(error @ ExportError::CampaignNotFound(_)) => {
                eprintln!("error: {error} (see dupin campaign list)");
                return Ok(ExitCode::FAILURE);
            }
            Err(error) => return Err(error.into()),
        };
        let out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
        let written = match export.write(&db, out, |_| Ok(true)).await {
            Ok((_, mut out)) => out.flush(),
            Err(ExportError::Io(error)) => Err(error),
            Err(error) => return Err(error.into()),
        };
        return match written {
            Ok(()) => Ok(ExitCode::SUCCESS),
            Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
            Err(error) => Err(anyhow::anyhow!("cannot write the export: {error}")),
        };
    }
    let export = match Export::open(&db, &plan, args.campaign, what, values).await {
        Ok(export) => export,
        Err(error @ ExportError::CampaignNotFound(_)) => {
            eprintln!("error: {error} (see dupin campaign list)");
            return Ok(ExitCode::FAILURE);
        }
        Err(error) => return Err(error.into()),
    };
    let written = if xlsx {
        let mut file = export.into_xlsx(&db).await?;
        let mut out = std::io::stdout().lock();
        std::io::copy(&mut file, &mut out).and_then(|_| out.flush())
    } else {
        // Written from the export's writer thread: `Stdout`, not a lock held by this one.
        let out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
        let sheet = CsvSheet::new(out)?;
        match export.write_all(&db, sheet).await {
            Ok((_, mut sheet)) => sheet.flush().map_err(std::io::Error::other),
            Err(ExportError::Csv(error)) if error.is_io_error() => match error.into_kind() {
                csv::ErrorKind::Io(error) => Err(error),
                _ => Ok(()),
            },
            Err(error) => return Err(error.into()),
        }
    };
    match written {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // The reader went away (`dupin export … | head`): not an error.
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(error) => Err(anyhow::anyhow!("cannot write the export: {error}")),
    }
}
