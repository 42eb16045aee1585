//! Wiring the server: database, plan, templates, writer and routes, bound to the port asked for
//! (0 in tests, which then read the port actually bound); and the bounds every request lives
//! within, whatever its route: how long its head and body may take, how large its head may be.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::net::TcpListener;
use std::path::PathBuf;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::{BodySize, BoxBody, MessageBody};
use actix_web::dev::{self, Server, Service, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::header;
use actix_web::middleware::{Compress, DefaultHeaders};
use actix_web::web::Bytes;
use actix_web::{App, HttpMessage, HttpServer, web};
use futures_util::Stream;

use crate::accounts;
use crate::answering::writer::{Writer, WriterDatabase};
use crate::db;
use crate::survey::{self, Catalog};
use crate::web::error::{Failure, PageError};
use crate::web::templates::Templates;
use crate::web::{AppState, configure};

/// A phone on a weak rural network may take its time to send a form, but not forever.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// The request line and headers together: a phone sends well under 2 KB, a console browser a
/// few cookies more. (actix itself refuses a head only past 128 KiB or 96 header lines.)
pub const MAX_HEAD_BYTES: usize = 32 * 1024;

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
    /// How long a client may take to send a request's head, and then again its body, before
    /// it is answered 408 and the connection closed (`DEFAULT_REQUEST_TIMEOUT`; shorter in tests).
    pub request_timeout: Duration,
    /// Behind a reverse proxy on the same machine: read the client's address from
    /// `X-Forwarded-For` (for the sign-in slow-down) instead of the proxy's own.
    pub trust_proxy: bool,
    /// SMTP and the outbox sender; without a host, mail waits in the outbox.
    pub mail: crate::mail::MailSettings,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("the survey plan has errors:\n{0}")]
    Plan(#[from] survey::PlanErrors),
    #[error(transparent)]
    Database(#[from] db::DbSetupError),
    #[error("a template does not compile: {0}")]
    Templates(#[from] Box<handlebars::TemplateError>),
    #[error("mail settings: {0}")]
    Mail(String),
    #[error("cannot start the answer writer: {0}")]
    Writer(std::io::Error),
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
        // Indicators and rating rules refer to the surveys' questions: checked once those are.
        let plan = Arc::new(crate::rating::load_plan(&settings.surveys_dir, &catalog)?);
        let db = db::connect(&settings.database_url).await?;
        // Answers a stopped process left pending go into the counts, and a database migrated
        // with answers already in it gets its score sums, before serving.
        crate::answering::pending::settle(&db, None)
            .await
            .map_err(db::DbSetupError::Migrate)?;
        crate::results::scan::backfill_score_sums(&db)
            .await
            .map_err(db::DbSetupError::Migrate)?;
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
        let writer = Writer::start(WriterDatabase::open(&settings.database_url, &db).await?)
            .map_err(StartError::Writer)?;
        let mail_templates = crate::mail::MailTemplates::load().map_err(Box::new)?;
        let mailer = crate::mail::Mailer::new(settings.mail.clone());
        mailer.start(db.clone()).map_err(StartError::Mail)?;
        let mut state = AppState::new(
            db,
            templates,
            writer,
            base_url.clone(),
            session_key,
            catalog.clone(),
            plan,
        );
        state.trust_proxy = settings.trust_proxy;
        state.mail_templates = mail_templates;
        let state = state.with_mailer(mailer);
        // Rectification reminders: swept now and every quarter of an hour, queued through the
        // outbox with this process's after-commit hook (which wakes the sender).
        tokio::spawn(crate::rectification::remind::sweep_forever(
            state.context.clone(),
        ));
        let server = serve(listener, state, &settings)?;
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
    state: AppState,
    settings: &Settings,
) -> Result<Server, StartError> {
    let state = web::Data::new(state);
    let address = listener
        .local_addr()
        .map(|address| address.to_string())
        .unwrap_or_default();
    let request_timeout = settings.request_timeout;
    let mut server = HttpServer::new(move || {
        App::new()
            .wrap_fn(move |request, service| {
                let (bounded, unread) = bound_request(request, request_timeout);
                let call = bounded.map(|request| service.call(request));
                async move {
                    let response = match call {
                        Ok(call) => call.await?,
                        Err(refused) => refused,
                    };
                    Ok(keep_unread_body_until_sent(response, &unread))
                }
            })
            .wrap(Compress::default())
            .wrap(security_headers())
            .app_data(state.clone())
            // Per worker: the factory runs once for each.
            .app_data(web::Data::new(crate::answering::writer::Replies::default()))
            .app_data(crate::web::console::form_config())
            .app_data(crate::web::console::query_config())
            .configure(configure)
    })
    // Compressed pages go out in several writes; without this, Nagle's algorithm and the
    // phone's delayed ACK hold the last one back by up to 40 ms.
    .tcp_nodelay(true)
    // The head must arrive within this; `bound_request` gives the body as long again.
    .client_request_timeout(request_timeout)
    .client_disconnect_timeout(Duration::from_secs(5));
    if let Some(workers) = settings.workers {
        server = server.workers(workers);
    }
    let server = server
        .listen(listener)
        .map_err(|source| StartError::Bind { address, source })?
        .run();
    Ok(server)
}

/// Headers every answer carries: no page of dupin may be framed by another site (clickjacking a
/// console button), no answer is sniffed into another type, and no address — which may hold a
/// link's token — is sent on as a referrer.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add((header::X_FRAME_OPTIONS, "DENY"))
        .add((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .add((header::REFERRER_POLICY, "no-referrer"))
}

/// A request body its handler left unread, kept so that actix closes the connection after the
/// response instead of draining the rest (see `bound_request`).
type UnreadBody = Rc<RefCell<Option<dev::Payload>>>;

/// Refuses a head heavier than `MAX_HEAD_BYTES` (431) and gives the body, if there is one,
/// `body_timeout` to arrive: a client that trickles its body, or announces more than it sends,
/// is answered (408 on a form, a refused form in the console) rather than held on to for ever.
///
/// Whatever part of a body its handler leaves unread goes into the returned slot. actix drains
/// the rest of a dropped chunked body, however long it goes on, before it reads the next request;
/// kept alive until the response is sent (`keep_unread_body_until_sent`), the body makes actix
/// close the connection instead, after at most `client_disconnect_timeout`.
fn bound_request(
    mut request: ServiceRequest,
    body_timeout: Duration,
) -> (Result<ServiceRequest, ServiceResponse>, UnreadBody) {
    let unread = UnreadBody::default();
    let head_bytes = request
        .uri()
        .path_and_query()
        .map_or(0, |path| path.as_str().len())
        + request
            .headers()
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len() + 4)
            .sum::<usize>();
    if head_bytes > MAX_HEAD_BYTES {
        tracing::info!(head_bytes, "request head too large");
        match request.take_payload() {
            dev::Payload::None => {}
            body => *unread.borrow_mut() = Some(body),
        }
        return (
            Err(request.error_response(PageError::new(Failure::HeadersTooLarge))),
            unread,
        );
    }
    match request.take_payload() {
        dev::Payload::None => {}
        body => request.set_payload(dev::Payload::Stream {
            payload: Box::pin(BodyWithDeadline {
                body,
                deadline: Box::pin(tokio::time::sleep(body_timeout)),
                expired: false,
                ended: false,
                unread: unread.clone(),
            }),
        }),
    }
    (Ok(request), unread)
}

/// Ties a body its handler left unread to the response, so that it lives until the response
/// has been sent.
fn keep_unread_body_until_sent(response: ServiceResponse, unread: &UnreadBody) -> ServiceResponse {
    match unread.borrow_mut().take() {
        None => response,
        Some(request_body) => response.map_body(|_, body| {
            BoxBody::new(SentWithUnreadBody {
                body,
                _request_body: request_body,
            })
        }),
    }
}

/// A request body that fails with `io::ErrorKind::TimedOut` once its deadline has passed (which
/// `web::body` tells apart from other failures), and that leaves whatever it did not read in
/// `unread` when dropped.
struct BodyWithDeadline {
    body: dev::Payload,
    deadline: Pin<Box<tokio::time::Sleep>>,
    expired: bool,
    /// The body was read to its end.
    ended: bool,
    unread: UnreadBody,
}

impl Stream for BodyWithDeadline {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if this.expired || this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.body).poll_next(cx) {
            Poll::Ready(None) => {
                this.ended = true;
                return Poll::Ready(None);
            }
            ready @ Poll::Ready(Some(_)) => return ready,
            Poll::Pending => {}
        }
        if this.deadline.as_mut().poll(cx).is_ready() {
            this.expired = true;
            return Poll::Ready(Some(Err(PayloadError::Io(io::Error::new(
                io::ErrorKind::TimedOut,
                "the request body did not arrive in time",
            )))));
        }
        Poll::Pending
    }
}

impl Drop for BodyWithDeadline {
    fn drop(&mut self) {
        if !self.ended {
            let body = std::mem::replace(&mut self.body, dev::Payload::None);
            *self.unread.borrow_mut() = Some(body);
        }
    }
}

/// A response body that holds on to the request body its handler left unread.
struct SentWithUnreadBody {
    body: BoxBody,
    _request_body: dev::Payload,
}

impl MessageBody for SentWithUnreadBody {
    type Error = Box<dyn std::error::Error>;

    fn size(&self) -> BodySize {
        self.body.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        Pin::new(&mut self.get_mut().body).poll_next(cx)
    }
}
