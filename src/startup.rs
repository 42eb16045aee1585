//! Wiring the server: database, plan, templates, writer and routes, bound to the port asked for
//! (0 in tests, which then read the port actually bound).

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{Compress, Logger};
use actix_web::{App, HttpServer, web};
use sea_orm::DatabaseConnection;

use crate::accounts;
use crate::answering::writer::Writer;
use crate::db;
use crate::survey::{self, Catalog};
use crate::web::templates::Templates;
use crate::web::{AppState, routes};

/// What the server needs to know, from flags and environment (see `main.rs`).
#[derive(Clone, Debug)]
pub struct Settings {
    /// Address to listen on, such as `127.0.0.1:8080`; port 0 picks a free one.
    pub bind: String,
    pub database_url: String,
    pub surveys_dir: PathBuf,
    /// The public address printed into QR codes; `None` means `http://` + the bound address.
    pub base_url: Option<String>,
    /// HTTP worker threads; `None` means one per core.
    pub workers: Option<usize>,
    /// The key that signs console sessions (`DUPIN_SESSION_KEY`); `None` keeps a generated one
    /// in the database, shared by every process that uses it.
    pub session_key: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the survey plan has errors:\n{0}")]
    Plan(#[from] survey::PlanErrors),
    #[error(transparent)]
    Database(#[from] db::DbSetupError),
    #[error("a template does not compile: {0}")]
    Templates(#[from] Box<handlebars::TemplateError>),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

pub struct Application {
    port: u16,
    /// On an installation without accounts, the one-time link that creates the first admin.
    setup_url: Option<String>,
    base_url: String,
    catalog: Arc<Catalog>,
    server: Server,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Application, StartError> {
        let catalog = Arc::new(survey::load_dir(&settings.surveys_dir)?);
        let db = db::connect(&settings.database_url).await?;
        let templates = Templates::load().map_err(Box::new)?;
        let listener = TcpListener::bind(&settings.bind).map_err(|source| StartError::Bind {
            address: settings.bind.clone(),
            source,
        })?;
        let address = listener.local_addr().map_err(|source| StartError::Bind {
            address: settings.bind.clone(),
            source,
        })?;
        let base_url = settings
            .base_url
            .clone()
            .map(|url| url.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| format!("http://{address}"));
        let session_key = accounts::session_key(&db, settings.session_key.as_deref())
            .await
            .map_err(db::DbSetupError::Connect)?;
        let setup_token = accounts::new_setup_token(&db)
            .await
            .map_err(db::DbSetupError::Connect)?;
        let server = serve(
            listener,
            db,
            templates,
            base_url.clone(),
            session_key,
            catalog.clone(),
            settings.workers,
        )?;
        Ok(Application {
            port: address.port(),
            setup_url: setup_token.map(|token| format!("{base_url}/setup/{token}")),
            base_url,
            catalog,
            server,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub fn setup_url(&self) -> Option<&str> {
        self.setup_url.as_deref()
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}

fn serve(
    listener: TcpListener,
    db: DatabaseConnection,
    templates: Templates,
    base_url: String,
    session_key: Vec<u8>,
    catalog: Arc<Catalog>,
    workers: Option<usize>,
) -> Result<Server, StartError> {
    let writer = Writer::start(db.clone());
    let state = web::Data::new(AppState::new(
        db,
        templates,
        writer,
        base_url,
        session_key,
        catalog,
    ));
    let address = listener
        .local_addr()
        .map(|address| address.to_string())
        .unwrap_or_default();
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap(Compress::default())
            .wrap(Logger::new("%s %r %Dms").exclude("/healthz"))
            .app_data(state.clone())
            .app_data(crate::web::console::form_config())
            .app_data(crate::web::console::query_config())
            .configure(routes)
    })
    // Compressed pages go out in several writes; without this, Nagle's algorithm and the
    // phone's delayed ACK hold the last one back by up to 40 ms.
    .tcp_nodelay(true)
    // A phone on a weak rural network may take its time, but not forever.
    .client_request_timeout(std::time::Duration::from_secs(30))
    .client_disconnect_timeout(std::time::Duration::from_secs(5));
    if let Some(workers) = workers {
        server = server.workers(workers);
    }
    let server = server
        .listen(listener)
        .map_err(|source| StartError::Bind { address, source })?
        .run();
    Ok(server)
}
