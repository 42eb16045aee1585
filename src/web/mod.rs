//! The HTTP face of dupin: routes, extraction, rendering and the mapping of errors to pages.
//! Handlers extract, call the domain, render; no SQL and no business rules live here.

mod answer;
mod api;
mod body;
pub mod console;
pub mod error;
mod form_view;
mod spliced;
pub mod templates;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use actix_web::{HttpResponse, web};
use sea_orm::DatabaseConnection;

use crate::answering::writer::Writer;
use crate::campaigns::{self, LinkContext};
use crate::survey::{Catalog, Survey};
use error::PageError;
use templates::Templates;

/// What every handler may use; cloned per worker thread, everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub db: DatabaseConnection,
    pub templates: Templates,
    pub writer: Writer,
    /// The public address, as printed into QR codes.
    pub base_url: String,
    /// Cookies get `Secure` when the public address is https.
    pub secure_cookies: bool,
    /// Signs console sessions; the same in every process of one installation.
    pub session_key: Arc<Vec<u8>>,
    pub sign_in_throttle: Arc<console::SignInThrottle>,
    /// The plan's surveys as checked at start-up, for new campaigns.
    pub catalog: Arc<Catalog>,
    /// The plan's indicators and rating rules, checked at start-up against the catalog.
    pub plan: Arc<crate::rating::Plan>,
    /// Whether `X-Forwarded-For` names the client (dupin behind its own reverse proxy).
    pub trust_proxy: bool,
    /// Mail templates (`templates/mail/<name>/{subject,text,html}.hbs`), for `Outgoing` bodies;
    /// set by `startup` after `new` (which leaves an empty set).
    pub mail_templates: crate::mail::MailTemplates,
    /// Whether SMTP is configured (`mailer.is_configured()`), and `mailer.poke()` to wake this
    /// process's sender after committing an `outbox::enqueue`.
    pub mailer: crate::mail::Mailer,
    surveys: Arc<RwLock<HashMap<i32, Arc<Survey>>>>,
    /// The questions of a version's blank form, rendered once: what every phone of every school
    /// gets alike.
    blank_forms: Arc<RwLock<HashMap<i32, Arc<str>>>>,
    links: Arc<RwLock<HashMap<String, CachedLink>>>,
    /// Each link's blank form, cut and gzipped for splicing (see `spliced`), by link id.
    spliced_forms: Arc<RwLock<HashMap<i32, CachedForm>>>,
}

type CachedForm = (Instant, Arc<spliced::SplicedPage>);

/// How long a link's prepared form is reused: a school renamed in the console shows on its form
/// within this time.
const FORM_CACHE_SECONDS: Duration = Duration::from_secs(60);

/// A link's context and when it was read from the database.
type CachedLink = (Instant, Arc<LinkContext>);

/// How long a link's campaign and school are trusted from memory. A campaign closed by hand, or
/// by another dupin process, stops taking answers at most this long after.
const LINK_CACHE_SECONDS: Duration = Duration::from_secs(5);
/// Past this many cached links the cache starts afresh, so memory stays flat.
const LINK_CACHE_SIZE: usize = 20_000;

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
        AppState {
            db,
            templates,
            writer,
            base_url,
            secure_cookies,
            session_key: Arc::new(session_key),
            sign_in_throttle: Arc::default(),
            catalog,
            plan,
            trust_proxy: false,
            mail_templates: crate::mail::MailTemplates::default(),
            mailer: crate::mail::Mailer::default(),
            surveys: Arc::default(),
            blank_forms: Arc::default(),
            links: Arc::default(),
            spliced_forms: Arc::default(),
        }
    }

    /// The link of a (normalised) token with its campaign and school, from memory when fresh.
    pub async fn link(&self, token: &str) -> Result<Option<Arc<LinkContext>>, PageError> {
        if let Some(context) = self.links.read().ok().and_then(|cache| {
            cache
                .get(token)
                .filter(|(fetched, _)| fetched.elapsed() < LINK_CACHE_SECONDS)
                .map(|(_, context)| context.clone())
        }) {
            return Ok(Some(context));
        }
        let Some(context) = campaigns::find_link(&self.db, token).await? else {
            return Ok(None);
        };
        let context = Arc::new(context);
        if let Ok(mut cache) = self.links.write() {
            if cache.len() >= LINK_CACHE_SIZE {
                cache.clear();
            }
            cache.insert(token.to_owned(), (Instant::now(), context.clone()));
        }
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
        let Some(found) = crate::invitations::find_personal_link(&self.db, token).await? else {
            return Ok(None);
        };
        let Some(school_link) = self.link(&found.link_token).await? else {
            return Ok(None);
        };
        let mut context = LinkContext::clone(&school_link);
        context.link.token = token.to_owned();
        Ok(Some((Arc::new(context), found.answered)))
    }

    /// Drops every cached link and prepared form, after a campaign's state, name or dates changed.
    pub fn forget_links(&self) {
        if let Ok(mut cache) = self.links.write() {
            cache.clear();
        }
        if let Ok(mut cache) = self.spliced_forms.write() {
            cache.clear();
        }
    }

    /// A link's blank form, prepared for splicing on first use and reused for a minute.
    pub fn spliced_form(
        &self,
        link_id: i32,
        render: impl FnOnce() -> Result<String, PageError>,
    ) -> Result<Arc<spliced::SplicedPage>, PageError> {
        if let Some(page) = self.spliced_forms.read().ok().and_then(|cache| {
            cache
                .get(&link_id)
                .filter(|(made, _)| made.elapsed() < FORM_CACHE_SECONDS)
                .map(|(_, page)| page.clone())
        }) {
            return Ok(page);
        }
        let page = spliced::SplicedPage::new(&render()?)
            .ok_or_else(|| PageError::internal("the form template lost its key or time field"))?;
        let page = Arc::new(page);
        if let Ok(mut cache) = self.spliced_forms.write() {
            if cache.len() >= LINK_CACHE_SIZE {
                cache.clear();
            }
            cache.insert(link_id, (Instant::now(), page.clone()));
        }
        Ok(page)
    }

    /// The blank questions of a version's form, rendered on first use.
    pub fn blank_form(
        &self,
        version_id: i32,
        render: impl FnOnce() -> Result<String, PageError>,
    ) -> Result<Arc<str>, PageError> {
        if let Some(html) = self
            .blank_forms
            .read()
            .ok()
            .and_then(|cache| cache.get(&version_id).cloned())
        {
            return Ok(html);
        }
        let html: Arc<str> = Arc::from(render()?);
        if let Ok(mut cache) = self.blank_forms.write() {
            cache.insert(version_id, html.clone());
        }
        Ok(html)
    }

    /// The frozen survey of a version; read from the database once per process, since a version
    /// never changes.
    pub async fn survey(&self, version_id: i32) -> Result<Arc<Survey>, PageError> {
        if let Some(survey) = self
            .surveys
            .read()
            .ok()
            .and_then(|cache| cache.get(&version_id).cloned())
        {
            return Ok(survey);
        }
        let survey = campaigns::load_version(&self.db, version_id)
            .await?
            .ok_or_else(|| {
                PageError::internal(format!("survey version {version_id} is missing"))
            })?;
        let survey = Arc::new(survey);
        if let Ok(mut cache) = self.surveys.write() {
            cache.insert(version_id, survey.clone());
        }
        Ok(survey)
    }
}

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/", web::get().to(home))
        .route("/healthz", web::get().to(healthz))
        .route("/s/{token}", web::get().to(answer::show_form))
        .route("/s/{token}", web::post().to(answer::submit_form))
        .route("/s/{token}/thanks", web::get().to(answer::thanks))
        .route("/s/{token}/qr.svg", web::get().to(answer::qr_svg))
        .route("/s/{token}/qr.png", web::get().to(answer::qr_png))
        .configure(console::routes)
        .configure(api::routes)
        .default_service(web::to(not_found));
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
    Err(PageError::NotFound)
}
