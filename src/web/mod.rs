//! The HTTP face of dupin: routes, extraction, rendering and the mapping of errors to pages.
//! Handlers extract, call the domain, render; no SQL and no business rules live here.

mod answer;
mod api;
mod body;
pub mod console;
pub mod error;
mod form_view;
pub mod routes;
mod spliced;
pub mod templates;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;

use crate::accounts::throttle::ClientThrottle;
use crate::answering::writer::Writer;
use crate::cache::TtlCache;
use crate::campaigns::{self, LinkContext};
use crate::change::{AfterCommit, Context, Effects};
use crate::survey::{Catalog, Survey};
use error::PageError;
use routes::Routes;
pub use routes::{Method, Route};
use templates::Templates;

/// What every handler may use; cloned per worker thread, everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    /// What every action (`change::Change`) needs: the database, the public address, and this
    /// process's after-commit hook, which wakes the mail sender and forgets cached links.
    pub context: Context,
    pub templates: Templates,
    pub writer: Writer,
    /// The public address, as printed into QR codes.
    pub base_url: String,
    /// Cookies get `Secure` when the public address is https.
    pub secure_cookies: bool,
    /// Signs console sessions; the same in every process of one installation.
    pub session_key: Arc<Vec<u8>>,
    /// The same key made ready for the signatures of the answer forms (`answering::signed`).
    pub form_signing: crate::secrets::SigningKey,
    pub sign_in_throttle: Arc<ClientThrottle>,
    /// Answers per client address and link, in memory only (see `quality::admission`).
    pub address_windows: Arc<crate::quality::admission::AddressWindows>,
    /// The plan's surveys as checked at start-up, for new campaigns.
    pub catalog: Arc<Catalog>,
    /// The plan's indicators and rating rules, checked at start-up against the catalog.
    pub plan: Arc<crate::rating::Plan>,
    /// Whether `X-Forwarded-For` names the client (dupin behind its own reverse proxy).
    pub trust_proxy: bool,
    /// Mail templates (`templates/mail/<name>/{subject,text,html}.hbs`), for `Outgoing` bodies;
    /// set by `startup` after `new` (which leaves an empty set).
    pub mail_templates: crate::mail::MailTemplates,
    /// Whether SMTP is configured; woken after a commit that queued mail (see `Hooks`).
    pub mailer: crate::mail::Mailer,
    caches: Arc<Caches>,
}

/// What this process keeps in memory, each in the one cache type.
struct Caches {
    /// Frozen survey versions: read once, since a version never changes.
    surveys: TtlCache<i32, Arc<Survey>>,
    /// The questions of a version's blank form, rendered once: what every phone of every school
    /// gets alike (and the front page, under `HOME_PAGE_KEY`).
    blank_forms: TtlCache<i32, Arc<str>>,
    /// A link's campaign and school, trusted for `LINK_CACHE_SECONDS`.
    links: TtlCache<String, Arc<LinkContext>>,
    /// Each link's blank form, cut and gzipped for splicing (see `spliced`), by link id.
    spliced_forms: TtlCache<i32, Arc<spliced::SplicedPage>>,
    /// Browser keys (campaign and cookie, `answering::browser_key`) known to have an answer:
    /// the phone that opens its link again after answering is told so without a query. Only
    /// what is known is kept, never what is not (another process may have stored it since);
    /// answers are never deleted, so an entry never goes stale. The refusal itself is the
    /// database's unique index on (campaign, browser key). Kept by a keyed 64-bit hash of the
    /// key (`answered_hasher`), not the key itself: no allocation per answer, nothing to free
    /// when the cache starts afresh (a `String` each had been ≈ 3 % of the HTTP workers' time
    /// under `dupin bench`). Two keys sharing a hash — one chance in 2⁶⁴ per pair, and the
    /// hasher's key is secret — would tell a phone it answered when it has not.
    answered_browsers: TtlCache<u64, ()>,
    answered_hasher: std::hash::RandomState,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            surveys: TtlCache::forever(LINK_CACHE_SIZE),
            blank_forms: TtlCache::forever(LINK_CACHE_SIZE),
            links: TtlCache::new(LINK_CACHE_SECONDS, LINK_CACHE_SIZE),
            spliced_forms: TtlCache::new(FORM_CACHE_SECONDS, LINK_CACHE_SIZE),
            answered_browsers: TtlCache::forever(ANSWERED_BROWSERS_REMEMBERED),
            answered_hasher: std::hash::RandomState::new(),
        }
    }
}

impl Caches {
    /// The key under which `answered_browsers` keeps a browser key.
    fn answered(&self, browser_key: &str) -> u64 {
        use std::hash::BuildHasher;
        self.answered_hasher.hash_one(browser_key)
    }
}

/// What this process does after a change committed: wake its mail sender, forget its links.
struct Hooks {
    mailer: crate::mail::Mailer,
    caches: Arc<Caches>,
}

impl AfterCommit for Hooks {
    fn run(&self, effects: Effects) {
        if effects.mail_queued {
            self.mailer.poke();
        }
        if effects.links_changed {
            // Phones of this process see the change at once (others within the cache's 5 s).
            self.caches.links.clear();
            self.caches.spliced_forms.clear();
        }
    }
}

/// How long a link's prepared form is reused: a school renamed in the console shows on its form
/// within this time.
const FORM_CACHE_SECONDS: Duration = Duration::from_secs(60);

/// How long a link's campaign and school are trusted from memory. A campaign closed by hand, or
/// by another dupin process, stops taking answers at most this long after.
const LINK_CACHE_SECONDS: Duration = Duration::from_secs(5);
/// Past this many cached links the cache starts afresh, so memory stays flat.
const LINK_CACHE_SIZE: usize = 20_000;
/// Past this many remembered answered browsers (≈ 30 bytes each) that cache starts afresh.
const ANSWERED_BROWSERS_REMEMBERED: usize = 50_000;

impl AppState {
    pub fn new(
        db: DatabaseConnection,
        templates: Templates,
        writer: Writer,
        base_url: String,
        session_key: Vec<u8>,
        catalog: Arc<Catalog>,
        plan: Arc<crate::rating::Plan>,
    ) -> Self {
        let secure_cookies = base_url.starts_with("https://");
        let caches = Arc::new(Caches::default());
        let mailer = crate::mail::Mailer::default();
        let context = Context::new(db.clone(), &base_url).with_after_commit(Arc::new(Hooks {
            mailer: mailer.clone(),
            caches: caches.clone(),
        }));
        AppState {
            db,
            context,
            templates,
            writer,
            base_url,
            secure_cookies,
            form_signing: crate::secrets::SigningKey::new(&session_key),
            session_key: Arc::new(session_key),
            sign_in_throttle: Arc::default(),
            address_windows: Arc::default(),
            catalog,
            plan,
            trust_proxy: false,
            mail_templates: crate::mail::MailTemplates::default(),
            mailer,
            caches,
        }
    }

    /// Sets the mail sender this process runs, which commits that queue mail wake.
    pub fn with_mailer(mut self, mailer: crate::mail::Mailer) -> Self {
        self.context = self.context.with_after_commit(Arc::new(Hooks {
            mailer: mailer.clone(),
            caches: self.caches.clone(),
        }));
        self.mailer = mailer;
        self
    }

    /// The link of a (normalised) token with its campaign and school, from memory when fresh.
    pub async fn link(&self, token: &str) -> Result<Option<Arc<LinkContext>>, PageError> {
        if let Some(context) = self.caches.links.get(token) {
            return Ok(Some(context));
        }
        let Some(context) = campaigns::find_link(&self.db, token).await? else {
            return Ok(None);
        };
        let context = Arc::new(context);
        self.caches.links.insert(token.to_owned(), context.clone());
        Ok(Some(context))
    }

    /// A teacher's personal invitation link: the link of the teacher's school in the campaign,
    /// with the invitation's token in place of the school's (so that its form posts back to it),
    /// and whether the invitation was used. Read afresh each time, and only for tokens that are
    /// no school link, so that school links stay as fast as before.
    pub async fn personal_link(
        &self,
        token: &str,
    ) -> Result<Option<(Arc<LinkContext>, bool)>, PageError> {
        let Some(found) =
            crate::answering::personal_links::find_personal_link(&self.db, token).await?
        else {
            return Ok(None);
        };
        let Some(school_link) = self.link(&found.link_token).await? else {
            return Ok(None);
        };
        let mut context = LinkContext::clone(&school_link);
        context.link.token = token.to_owned();
        Ok(Some((Arc::new(context), found.answered)))
    }

    /// Whether the browser `browser_key` already answered `campaign_id`: from memory when this
    /// process has seen its answer, else from the database (and remembered when it has).
    pub async fn has_answered(
        &self,
        campaign_id: i32,
        browser_key: &str,
    ) -> Result<bool, PageError> {
        if self
            .caches
            .answered_browsers
            .get(&self.caches.answered(browser_key))
            .is_some()
        {
            return Ok(true);
        }
        let answered = crate::answering::has_answered(&self.db, campaign_id, browser_key).await?;
        if answered {
            self.answered(browser_key);
        }
        Ok(answered)
    }

    /// Remembers that the browser `browser_key` has an answer (stored, or refused as its second).
    pub fn answered(&self, browser_key: &str) {
        self.caches
            .answered_browsers
            .insert(self.caches.answered(browser_key), ());
    }

    /// A link's blank form, prepared for splicing on first use and reused for a minute.
    pub fn spliced_form(
        &self,
        link_id: i32,
        render: impl FnOnce() -> Result<String, PageError>,
    ) -> Result<Arc<spliced::SplicedPage>, PageError> {
        self.caches.spliced_forms.get_or_try_insert(link_id, || {
            let page = spliced::SplicedPage::new(&render()?).ok_or_else(|| {
                PageError::internal("the form template lost its key or time field")
            })?;
            Ok(Arc::new(page))
        })
    }

    /// The blank questions of a version's form, rendered on first use.
    pub fn blank_form(
        &self,
        version_id: i32,
        render: impl FnOnce() -> Result<String, PageError>,
    ) -> Result<Arc<str>, PageError> {
        self.caches
            .blank_forms
            .get_or_try_insert(version_id, || Ok(Arc::from(render()?)))
    }

    /// The frozen survey of a version; read from the database once per process, since a version
    /// never changes.
    pub async fn survey(&self, version_id: i32) -> Result<Arc<Survey>, PageError> {
        if let Some(survey) = self.caches.surveys.get(&version_id) {
            return Ok(survey);
        }
        let survey = campaigns::load_version(&self.db, version_id)
            .await?
            .ok_or_else(|| {
                PageError::internal(format!("survey version {version_id} is missing"))
            })?;
        let survey = Arc::new(survey);
        self.caches.surveys.insert(version_id, survey.clone());
        Ok(survey)
    }
}

/// The client's address, for the limits kept in memory (never stored, logged or exported): the
/// peer's, or — when dupin is told it runs behind its own reverse proxy — the last entry of
/// `X-Forwarded-For`, the one that proxy appended. Entries before it are whatever the client
/// chose to send and are never believed; `Forwarded` is ignored. A last entry that is not an
/// address counts as the proxy itself.
pub fn client_address(state: &AppState, request: &actix_web::HttpRequest) -> Option<IpAddr> {
    let peer = request.peer_addr().map(|address| address.ip());
    if !state.trust_proxy {
        return peer;
    }
    let last = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .last();
    match last {
        Some(entry) => entry.parse::<IpAddr>().ok().or(peer),
        None => peer,
    }
}

/// Every route of the application, registered with actix; anything else is a 404 page.
pub fn configure(config: &mut web::ServiceConfig) {
    register(&mut Routes::serving(config));
    config.default_service(web::to(not_found));
}

/// Every route the application serves, as registered (for the test that tries each as every
/// kind of visitor).
pub fn route_table() -> Vec<Route> {
    let mut routes = Routes::listing();
    register(&mut routes);
    routes.into_table()
}

fn register(routes: &mut Routes) {
    routes
        .get("/", home)
        .get("/healthz", healthz)
        .get_and_post("/s/{token}", answer::show_form, answer::submit_form)
        .get("/s/{token}/thanks", answer::thanks)
        .get("/s/{token}/qr.svg", answer::qr_svg)
        .get("/s/{token}/qr.png", answer::qr_png);
    console::routes(routes);
    api::routes(routes);
}

async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    if crate::db::ping(&state.db).await {
        HttpResponse::Ok()
            .content_type("text/plain; charset=utf-8")
            .body("ok")
    } else {
        HttpResponse::ServiceUnavailable()
            .content_type("text/plain; charset=utf-8")
            .body("database unavailable")
    }
}

/// The front page says the same to everyone: rendered once per process.
async fn home(state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let body = state.blank_form(HOME_PAGE_KEY, || {
        Ok(state.templates.render("home", &serde_json::json!({}))?)
    })?;
    Ok(HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(body.to_string()))
}

/// The key under which the front page is kept beside the blank forms (versions are positive).
const HOME_PAGE_KEY: i32 = 0;

async fn not_found() -> Result<HttpResponse, PageError> {
    Err(PageError::not_found())
}
