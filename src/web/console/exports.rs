//! A campaign's exports as downloads: `export.csv` and `export.xlsx`, each of the answers (one
//! row per included answer) or of the counts (`?what=aggregates`); `?codes=1` writes codes
//! instead of labels; `export.sav`, the answers as an SPSS system file. Supervisors and admins
//! only.
//!
//! The CSV is streamed: a task reads the answers a page at a time while a blocking thread turns
//! the page before into CSV and sends its bytes through a small channel, so the server holds a
//! few pages whatever the campaign's size.
//! The XLSX is built in constant-memory mode into a temporary file, then streamed from it.

use crate::web::routes::Routes;
use std::io::Read;

use actix_web::http::header::{self, ContentDisposition};
use actix_web::web::Bytes;
use actix_web::{HttpResponse, web};
use futures_util::Stream;
use sea_orm::DatabaseConnection;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::guards::Supervisor;
use super::{ConsoleError, download_disposition};
use crate::export::{Cell, Chunks, CsvSheet, Export, ExportError, Sheet, SpssExport, Values, What};
use crate::web::AppState;

/// Chunks in flight between the task that reads the answers and the connection.
const CHANNEL_CHUNKS: usize = 2;
/// How much of the XLSX file each chunk carries.
const FILE_CHUNK: usize = 64 * 1024;

type Chunk = Result<Bytes, std::io::Error>;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/campaigns/{id}/export.csv", csv)
        .get("/console/campaigns/{id}/export.xlsx", xlsx)
        .get("/console/campaigns/{id}/export.sav", sav);
}

#[derive(Deserialize)]
struct ExportQuery {
    what: Option<String>,
    codes: Option<String>,
}

impl ExportQuery {
    fn parse(&self) -> Result<(What, Values), ConsoleError> {
        let what = match self.what.as_deref() {
            None | Some("") => What::Answers,
            Some(slug) => What::parse(slug).ok_or_else(|| {
                ConsoleError::bad_request(
                    "导出内容只能是答卷（answers）、汇总（aggregates）或统计（summaries）。"
                        .to_owned(),
                )
            })?,
        };
        let values = match self.codes.as_deref() {
            Some("1" | "true" | "yes") => Values::Codes,
            _ => Values::Labels,
        };
        Ok((what, values))
    }
}

fn fault(error: ExportError) -> ConsoleError {
    match error {
        ExportError::CampaignNotFound(_) => ConsoleError::not_found(),
        other => ConsoleError::internal(other),
    }
}

async fn open(
    state: &AppState,
    id: i32,
    query: &ExportQuery,
) -> Result<(Export, What), ConsoleError> {
    let (what, values) = query.parse()?;
    let export = Export::open(&state.db, &state.plan, id, what, values)
        .await
        .map_err(fault)?;
    Ok((export, what))
}

async fn csv(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<i32>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (export, what) = open(&state, *id, &query).await?;
    let disposition = attachment(export.campaign_name(), *id, what, "csv");
    let (sender, receiver) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    let db = state.db.clone();
    let campaign_id = *id;
    actix_web::rt::spawn(async move {
        if let Err(error) = send_csv(&db, export, &sender).await {
            tracing::error!(campaign_id, cause = %error, "CSV export failed midway");
            // An error as the last chunk makes the connection end without a proper ending, so
            // the browser reports a failed download rather than a short file.
            let _ = sender
                .send(Err(std::io::Error::other("the export failed")))
                .await;
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(receive(receiver)))
}

/// A CSV sheet whose bytes go to the connection after each page (see `Export::write_all`,
/// which writes on a blocking thread); it stops the export when the browser goes away.
struct StreamedCsv {
    sheet: CsvSheet<Chunks>,
    sender: mpsc::Sender<Chunk>,
}

impl Sheet for StreamedCsv {
    fn write_row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        self.sheet.write_row(cells)
    }

    fn page_done(&mut self) -> Result<bool, ExportError> {
        let bytes = self.sheet.take_bytes()?;
        Ok(bytes.is_empty() || self.sender.blocking_send(Ok(Bytes::from(bytes))).is_ok())
    }
}

/// Writes the CSV, a page at a time, into the channel; stops quietly when the browser goes
/// away.
async fn send_csv(
    db: &DatabaseConnection,
    export: Export,
    sender: &mpsc::Sender<Chunk>,
) -> Result<(), ExportError> {
    let sheet = StreamedCsv {
        sheet: CsvSheet::in_chunks()?,
        sender: sender.clone(),
    };
    export.write_all(db, sheet).await?;
    Ok(())
}

async fn xlsx(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<i32>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let (export, what) = open(&state, *id, &query).await?;
    let disposition = attachment(export.campaign_name(), *id, what, "xlsx");
    // Rows are written, and the file zipped, off the worker thread.
    let file = export.into_xlsx(&state.db).await.map_err(fault)?;
    let length = file.metadata().map_err(ConsoleError::internal)?.len();
    let (sender, receiver) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    tokio::task::spawn_blocking(move || send_file(file, &sender));
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .no_chunking(length)
        .streaming(receive(receiver)))
}

/// The answers as an SPSS system file, streamed like the CSV: each page's cases go to the
/// connection as they are written. Answers only (`what` must be absent or `answers`).
async fn sav(
    state: web::Data<AppState>,
    _: Supervisor,
    id: web::Path<i32>,
    query: web::Query<ExportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    if query.parse()?.0 != What::Answers {
        return Err(ConsoleError::bad_request(
            "SPSS 文件只包含答卷；汇总请下载 CSV 或 Excel。".to_owned(),
        ));
    }
    let export = SpssExport::open(&state.db, *id).await.map_err(fault)?;
    let disposition = attachment(export.campaign_name(), *id, What::Answers, "sav");
    let (sender, receiver) = mpsc::channel::<Chunk>(CHANNEL_CHUNKS);
    let db = state.db.clone();
    let campaign_id = *id;
    actix_web::rt::spawn(async move {
        let pages = sender.clone();
        let send_page = move |buffer: &mut Vec<u8>| {
            let bytes = std::mem::take(buffer);
            Ok(bytes.is_empty() || pages.blocking_send(Ok(Bytes::from(bytes))).is_ok())
        };
        match export
            .write(&db, Vec::with_capacity(64 * 1024), send_page)
            .await
        {
            Ok((_, rest)) => {
                if !rest.is_empty() {
                    let _ = sender.send(Ok(Bytes::from(rest))).await;
                }
            }
            Err(error) => {
                tracing::error!(campaign_id, cause = %error, "SPSS export failed midway");
                let _ = sender
                    .send(Err(std::io::Error::other("the export failed")))
                    .await;
            }
        }
    });
    Ok(HttpResponse::Ok()
        .content_type("application/x-spss-sav")
        .insert_header(disposition)
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(receive(receiver)))
}

/// Reads the file in chunks into the channel until its end or until the browser goes away.
fn send_file(mut file: std::fs::File, sender: &mpsc::Sender<Chunk>) {
    loop {
        let mut buffer = vec![0; FILE_CHUNK];
        let chunk = match file.read(&mut buffer) {
            Ok(0) => return,
            Ok(read) => {
                buffer.truncate(read);
                Ok(Bytes::from(buffer))
            }
            Err(error) => Err(error),
        };
        let failed = chunk.is_err();
        if sender.blocking_send(chunk).is_err() || failed {
            return;
        }
    }
}

fn receive(receiver: mpsc::Receiver<Chunk>) -> impl Stream<Item = Chunk> {
    futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    })
}

/// `{campaign}-答卷-{date}.csv`, with `campaign-{id}-answers-{date}.csv` for clients that cannot
/// read the RFC 5987 form of a Chinese file name.
fn attachment(campaign_name: &str, id: i32, what: What, extension: &str) -> ContentDisposition {
    download_disposition(
        &format!("{campaign_name}-{}", what.label()),
        &format!("campaign-{id}-{}", what.slug()),
        extension,
    )
}
