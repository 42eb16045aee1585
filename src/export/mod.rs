//! Spreadsheet downloads: CSV that a Chinese Excel opens as UTF-8 and that cannot smuggle a
//! formula into the sheet of whoever opens it, and the exports of a campaign — every included
//! answer, one row each, or the running counts per school, question and option — as CSV or XLSX.
//!
//! Exports read the answers a page at a time and hand each page to a [`Sheet`], written on
//! another thread while the next page is read, a couple of pages apart at most, so memory stays
//! flat however many answers a campaign has. Nothing here knows of
//! HTTP or of the terminal; the console and the command line decide where the bytes go.

mod aggregates;
mod answers;
mod sheet;

pub use aggregates::AggregateExport;
pub use answers::{AnswerColumns, AnswerExport, AnswerPage, AnswerRows, PAGE_SIZE};
pub use sheet::{Chunks, CsvSheet, Sheet, XlsxSheet};

use std::borrow::Cow;

use sea_orm::{ConnectionTrait, DbErr};

/// One cell of an export: numbers stay numbers, so a spreadsheet can add them up.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        Cell::Text(text.into())
    }
}

/// Which export of a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum What {
    /// One row per included answer, one column per question (or matrix row).
    Answers,
    /// One row per school, question and option, with its count.
    Aggregates,
}

impl What {
    pub fn parse(slug: &str) -> Option<What> {
        match slug.trim() {
            "answers" => Some(What::Answers),
            "aggregates" => Some(What::Aggregates),
            _ => None,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            What::Answers => "answers",
            What::Aggregates => "aggregates",
        }
    }

    /// How a file of this export is named for people: 答卷 or 汇总.
    pub fn label(self) -> &'static str {
        match self {
            What::Answers => "答卷",
            What::Aggregates => "汇总",
        }
    }
}

/// What the answer columns hold for a choice: its label, as people read it, or its code, as
/// statistics programs want it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Values {
    Labels,
    Codes,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("no campaign {0}")]
    CampaignNotFound(i32),
    #[error("campaign {campaign}: its survey version {version} is missing")]
    SurveyMissing { campaign: i32, version: i32 },
    #[error(transparent)]
    Db(#[from] DbErr),
    #[error("cannot write the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("cannot write the spreadsheet: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
    #[error("cannot write the export: {0}")]
    Io(#[from] std::io::Error),
}

/// One export of one campaign, opened: its header is known and its rows come a page at a time.
pub enum Export {
    Answers(AnswerExport),
    Aggregates(AggregateExport),
}

/// A page of an export as it was read, before it is turned into rows ([`PageRows`]).
#[derive(Debug)]
pub enum Page {
    Answers(AnswerPage),
    Rows(Vec<Vec<Cell>>),
}

/// Turns the pages of one export into rows; cheap to clone, and sent to the thread that writes.
#[derive(Clone, Debug)]
pub enum PageRows {
    Answers(AnswerRows),
    AsRead,
}

impl PageRows {
    pub fn rows(&self, page: Page) -> Vec<Vec<Cell>> {
        match (self, page) {
            (PageRows::Answers(rows), Page::Answers(page)) => rows.rows(&page),
            (_, Page::Rows(rows)) => rows,
            (PageRows::AsRead, Page::Answers(_)) => Vec::new(),
        }
    }
}

/// Pages read ahead of the writer: one being written, two waiting.
const PAGES_AHEAD: usize = 2;

impl Export {
    pub async fn open(
        db: &impl ConnectionTrait,
        campaign_id: i32,
        what: What,
        values: Values,
    ) -> Result<Export, ExportError> {
        Ok(match what {
            What::Answers => Export::Answers(AnswerExport::open(db, campaign_id, values).await?),
            What::Aggregates => Export::Aggregates(AggregateExport::open(db, campaign_id).await?),
        })
    }

    pub fn campaign_name(&self) -> &str {
        match self {
            Export::Answers(export) => export.campaign_name(),
            Export::Aggregates(export) => export.campaign_name(),
        }
    }

    pub fn header(&self) -> Vec<Cell> {
        match self {
            Export::Answers(export) => export.header(),
            Export::Aggregates(export) => export.header(),
        }
    }

    pub fn what(&self) -> What {
        match self {
            Export::Answers(_) => What::Answers,
            Export::Aggregates(_) => What::Aggregates,
        }
    }

    /// The next page as read, or `None` once every row has been given.
    pub async fn next_read(
        &mut self,
        db: &impl ConnectionTrait,
    ) -> Result<Option<Page>, ExportError> {
        Ok(match self {
            Export::Answers(export) => export.next_packed(db).await?.map(Page::Answers),
            Export::Aggregates(export) => export.next_page(db).await?.map(Page::Rows),
        })
    }

    /// What turns this export's pages into rows.
    pub fn page_rows(&self) -> PageRows {
        match self {
            Export::Answers(export) => PageRows::Answers(export.converter()),
            Export::Aggregates(_) => PageRows::AsRead,
        }
    }

    /// The whole export as an XLSX file: a temporary file without a name, open at its start.
    pub async fn into_xlsx(self, db: &impl ConnectionTrait) -> Result<std::fs::File, ExportError> {
        let sheet = XlsxSheet::new(self.what().label())?;
        let (_, sheet) = self.write_all(db, sheet).await?;
        tokio::task::spawn_blocking(move || sheet.finish())
            .await
            .map_err(|error| ExportError::Io(std::io::Error::other(error)))?
    }

    /// Writes the header and every row into `sheet`, and gives the sheet back with the number
    /// of rows written (without the header).
    ///
    /// Two cores at work: this task reads the pages while a blocking thread turns the page
    /// before into rows and writes them, [`PAGES_AHEAD`] pages apart at most, so memory stays
    /// flat. The sheet's [`Sheet::page_done`] may stop the export early (the browser went
    /// away); then the rows written so far are counted.
    pub async fn write_all<S: Sheet + Send + 'static>(
        mut self,
        db: &impl ConnectionTrait,
        mut sheet: S,
    ) -> Result<(u64, S), ExportError> {
        let header = self.header();
        let rows = self.page_rows();
        let (pages, mut received) = tokio::sync::mpsc::channel::<Page>(PAGES_AHEAD);
        let writer = tokio::task::spawn_blocking(move || -> Result<(u64, S), ExportError> {
            sheet.write_row(&header)?;
            let mut written = 0;
            if !sheet.page_done()? {
                return Ok((written, sheet));
            }
            while let Some(page) = received.blocking_recv() {
                for row in rows.rows(page) {
                    sheet.write_row(&row)?;
                    written += 1;
                }
                if !sheet.page_done()? {
                    break;
                }
            }
            Ok((written, sheet))
        });
        let read = async {
            while let Some(page) = self.next_read(db).await? {
                if pages.send(page).await.is_err() {
                    // The writer stopped: its result says why.
                    break;
                }
            }
            Ok::<(), ExportError>(())
        }
        .await;
        drop(pages);
        let written = writer
            .await
            .map_err(|error| ExportError::Io(std::io::Error::other(error)))??;
        read?;
        Ok(written)
    }
}

/// Excel reads a CSV file as UTF-8 only when it starts with this; without it, as GBK.
pub const UTF8_BOM: &str = "\u{feff}";

/// A cell as it is safe to hand to a spreadsheet. Text starting with `=`, `+`, `-` or `@` is read
/// by Excel and its cousins as a formula (and a tab or carriage return in front does not stop
/// them), so such a cell gets a leading apostrophe and is shown as the text it is. Everything
/// else comes back untouched.
///
/// The price is that a cell meant as a negative number reads as text; exports of counts never
/// have one.
pub fn neutralise_formula(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A whole CSV file: the UTF-8 BOM, `header`, then `rows`, every cell passed through
/// [`neutralise_formula`], CRLF line endings as Excel writes them, quotes only where needed.
pub fn csv_with_bom<Rows, Row, Cell>(header: &[&str], rows: Rows) -> Result<Vec<u8>, csv::Error>
where
    Rows: IntoIterator<Item = Row>,
    Row: IntoIterator<Item = Cell>,
    Cell: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(UTF8_BOM.as_bytes().to_vec());
    writer.write_record(
        header
            .iter()
            .map(|cell| neutralise_formula(cell).into_owned()),
    )?;
    for row in rows {
        writer.write_record(
            row.into_iter()
                .map(|cell| neutralise_formula(cell.as_ref()).into_owned()),
        )?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

#[cfg(test)]
mod tests {
    use super::{csv_with_bom, neutralise_formula};

    #[test]
    fn cells_that_a_spreadsheet_would_evaluate_get_an_apostrophe() {
        for (cell, safe) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
        ] {
            assert_eq!(neutralise_formula(cell), safe, "{cell:?}");
        }
    }

    #[test]
    fn other_cells_are_untouched() {
        for cell in [
            "",
            "石门镇中心小学",
            "4521230007",
            "740",
            "a=b",
            " =1",
            "'quoted",
        ] {
            assert_eq!(neutralise_formula(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn a_file_starts_with_the_bom_and_quotes_only_where_needed() {
        let bytes = csv_with_bom(
            &["名称", "人数"],
            [
                vec!["甲, 乙".to_owned(), "3".to_owned()],
                vec!["=1+1".to_owned(), "4".to_owned()],
            ],
        )
        .expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(text, "\u{feff}名称,人数\r\n\"甲, 乙\",3\r\n'=1+1,4\r\n");
    }
}
