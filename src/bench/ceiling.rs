//! The machine's own ceiling for a submission, measured in the same run as dupin: a server on
//! the same HTTP stack (actix-web, the same number of workers, loopback, the same load
//! generator) that does only what no server could avoid — the phone form served from memory,
//! already gzipped, with the cookie and hidden fields dupin's form carries; the answers' POST
//! read and parsed as a form, and answered with the redirect to thanks. No validation, no
//! database, no rendering. dupin's rate is printed as a share of this one.
//!
//! It runs as `dupin serve` does: a process of its own started from the same binary
//! (`dupin bench-ceiling`, see [`serve`]), with the same runtime, so that the two are measured
//! alike. In the benchmark's own process it shared the load generator's address space and
//! allocator, and measured apart from dupin's.

use std::sync::Arc;

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Context;

/// The form as dupin served it once, kept in both encodings.
struct Form {
    plain: Vec<u8>,
    gzipped: Vec<u8>,
    cookie: String,
}

/// What `dupin bench-ceiling` is given.
#[derive(clap::Args, Debug, Clone)]
pub struct CeilingArgs {
    /// The form as dupin served it, uncompressed.
    #[arg(long)]
    pub form: std::path::PathBuf,
    /// The browser cookie dupin set with it (`name=value`).
    #[arg(long)]
    pub cookie: String,
    /// HTTP worker threads (default: one per core, as `dupin serve`).
    #[arg(long)]
    pub server_workers: Option<usize>,
}

/// `dupin bench-ceiling`: serves the ceiling on a port of loopback, says which as `dupin serve`
/// does (`serving on http://127.0.0.1:PORT`), and runs until it is killed.
pub async fn serve(args: CeilingArgs) -> anyhow::Result<()> {
    let form = std::fs::read(&args.form)
        .with_context(|| format!("cannot read the form {}", args.form.display()))?;
    let port = start(form, args.cookie, args.server_workers)?;
    println!("serving on http://127.0.0.1:{port}");
    std::future::pending::<()>().await;
    Ok(())
}

/// Starts serving `form` (dupin's page, uncompressed) and `cookie` (`name=value`) with
/// `workers` HTTP workers (default: one per core, as `dupin serve`) on a thread of its own, for
/// as long as the process runs; returns the port.
fn start(form: Vec<u8>, cookie: String, workers: Option<usize>) -> anyhow::Result<u16> {
    let gzipped = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&form)?;
        encoder.finish()?
    };
    let form = Arc::new(Form {
        plain: form,
        gzipped,
        cookie,
    });
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("bench-ceiling".to_owned())
        .spawn(move || {
            let system = actix_web::rt::System::new();
            system.block_on(async move {
                let form = web::Data::from(form);
                let mut server = HttpServer::new(move || {
                    App::new()
                        .app_data(form.clone())
                        .route("/s/{token}", web::get().to(show))
                        .route("/s/{token}", web::post().to(submit))
                })
                .tcp_nodelay(true);
                if let Some(workers) = workers {
                    server = server.workers(workers);
                }
                let bound = match server.bind(("127.0.0.1", 0)) {
                    Ok(bound) => bound,
                    Err(error) => {
                        let _ = sender.send(Err(error));
                        return;
                    }
                };
                let port = bound.addrs().first().map_or(0, |address| address.port());
                let _ = sender.send(Ok(port));
                let _ = bound.run().await;
            });
        })
        .context("cannot start the ceiling's thread")?;
    receiver
        .recv()
        .context("the ceiling's server did not start")?
        .context("the ceiling's server cannot listen")
}

async fn show(form: web::Data<Form>, request: HttpRequest) -> HttpResponse {
    let gzip = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.contains("gzip"));
    let mut response = HttpResponse::Ok();
    response
        .content_type("text/html; charset=utf-8")
        .insert_header((header::SET_COOKIE, form.cookie.clone()))
        .insert_header((header::CACHE_CONTROL, "no-store"));
    if gzip {
        response
            .insert_header((header::CONTENT_ENCODING, "gzip"))
            .body(form.gzipped.clone())
    } else {
        response.body(form.plain.clone())
    }
}

async fn submit(token: web::Path<String>, body: web::Bytes) -> HttpResponse {
    // Parsed, as any server must, then dropped.
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap_or_default();
    if fields.is_empty() {
        return HttpResponse::BadRequest().finish();
    }
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, format!("/s/{token}/thanks")))
        .finish()
}
