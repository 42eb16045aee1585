//! Spreadsheet downloads: CSV that a Chinese Excel opens as UTF-8 and that cannot smuggle a
//! formula into the sheet of whoever opens it, and the exports of a campaign — every included
//! answer, one row each; the running counts per school, question and option; or every figure of
//! the results page for the county and each school — as CSV or XLSX.
//!
//! Exports read the answers a page at a time and hand each page to a [`Sheet`], written on
//! another thread while the next page is read, a couple of pages apart at most, so memory stays
//! flat however many answers a campaign has. Nothing here knows of
//! HTTP or of the terminal; the console and the command line decide where the bytes go.

mod aggregates;
mod answers;
pub mod sav;
mod sheet;
mod spss;
mod summaries;

pub use aggregates::AggregateExport;
pub use answers::{AnswerColumns, AnswerExport, AnswerPage, AnswerRows, PAGE_SIZE};
pub use sheet::{Chunks, CsvSheet, Sheet, XlsxSheet};
pub use spss::SpssExport;
pub use summaries::SummaryExport;

use sea_orm::{ConnectionTrait, DbErr, TransactionTrait};

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
    /// One row per figure of the results page, for the county and each school.
    Summaries,
}

impl What {
    pub fn parse(slug: &str) -> Option<What> {
        match slug.trim() {
            "answers" => Some(What::Answers),
            "aggregates" => Some(What::Aggregates),
            "summaries" => Some(What::Summaries),
            _ => None,
        }
    }

    pub fn slug(self) -> &'static str {
        match self {
            What::Answers => "answers",
            What::Aggregates => "aggregates",
            What::Summaries => "summaries",
        }
    }

    /// How a file of this export is named for people: 答卷 or 汇总.
    pub fn label(self) -> &'static str {
        match self {
            What::Answers => "答卷",
            What::Aggregates => "汇总",
            What::Summaries => "统计",
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
    Summaries(SummaryExport),
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
        db: &(impl ConnectionTrait + TransactionTrait),
        plan: &crate::rating::Plan,
        campaign_id: i32,
        what: What,
        values: Values,
    ) -> Result<Export, ExportError> {
        Ok(match what {
            What::Answers => Export::Answers(AnswerExport::open(db, campaign_id, values).await?),
            What::Aggregates => Export::Aggregates(AggregateExport::open(db, campaign_id).await?),
            What::Summaries => Export::Summaries(SummaryExport::open(db, plan, campaign_id).await?),
        })
    }

    pub fn campaign_name(&self) -> &str {
        match self {
            Export::Answers(export) => export.campaign_name(),
            Export::Aggregates(export) => export.campaign_name(),
            Export::Summaries(export) => export.campaign_name(),
        }
    }

    pub fn header(&self) -> Vec<Cell> {
        match self {
            Export::Answers(export) => export.header(),
            Export::Aggregates(export) => export.header(),
            Export::Summaries(export) => export.header(),
        }
    }

    pub fn what(&self) -> What {
        match self {
            Export::Answers(_) => What::Answers,
            Export::Aggregates(_) => What::Aggregates,
            Export::Summaries(_) => What::Summaries,
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
            Export::Summaries(export) => export.next_page().map(Page::Rows),
        })
    }

    /// What turns this export's pages into rows.
    pub fn page_rows(&self) -> PageRows {
        match self {
            Export::Answers(export) => PageRows::Answers(export.converter()),
            Export::Aggregates(_) | Export::Summaries(_) => PageRows::AsRead,
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
    /// of rows written (without the header). The sheet's [`Sheet::page_done`] may stop the
    /// export early (the browser went away); then the rows written so far are counted.
    pub async fn write_all<S: Sheet + Send + 'static>(
        self,
        db: &impl ConnectionTrait,
        sheet: S,
    ) -> Result<(u64, S), ExportError> {
        let header = self.header();
        let rows = self.page_rows();
        self.consume_pages(
            db,
            (0u64, sheet),
            move |(_, sheet)| {
                sheet.write_row(&header)?;
                sheet.page_done()
            },
            move |(written, sheet), page| {
                for row in rows.rows(page) {
                    sheet.write_row(&row)?;
                    *written += 1;
                }
                sheet.page_done()
            },
        )
        .await
    }

    /// Hands every page to `consume`, after `begin`, and gives `state` back at the end: the
    /// one pipeline of every export.
    ///
    /// Two cores at work: this task reads the pages while a blocking thread consumes the page
    /// before, [`PAGES_AHEAD`] pages apart at most, so memory stays flat. `begin` or `consume`
    /// returning `false` ends the export early (the reader went away).
    pub(crate) async fn consume_pages<T, B, F>(
        mut self,
        db: &impl ConnectionTrait,
        mut state: T,
        begin: B,
        mut consume: F,
    ) -> Result<T, ExportError>
    where
        T: Send + 'static,
        B: FnOnce(&mut T) -> Result<bool, ExportError> + Send + 'static,
        F: FnMut(&mut T, Page) -> Result<bool, ExportError> + Send + 'static,
    {
        let (pages, mut received) = tokio::sync::mpsc::channel::<Page>(PAGES_AHEAD);
        let writer = tokio::task::spawn_blocking(move || -> Result<T, ExportError> {
            if !begin(&mut state)? {
                return Ok(state);
            }
            while let Some(page) = received.blocking_recv() {
                if !consume(&mut state, page)? {
                    break;
                }
            }
            Ok(state)
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
        let state = writer
            .await
            .map_err(|error| ExportError::Io(std::io::Error::other(error)))??;
        read?;
        Ok(state)
    }
}
