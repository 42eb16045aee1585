//! The handlebars registry: every template of `templates/` embedded in the binary, registered
//! once at start-up in strict mode with HTML escaping on, and rendered from typed contexts.

use std::sync::{Arc, OnceLock};

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, HttpResponseBuilder};
use handlebars::Handlebars;
use rust_embed::RustEmbed;
use serde::Serialize;

#[derive(RustEmbed)]
#[folder = "templates/"]
#[include = "*.hbs"]
struct TemplateFiles;

#[derive(Clone)]
pub struct Templates {
    registry: Arc<Handlebars<'static>>,
}

/// The registry error pages render with: they are built where no application state is at hand.
static FOR_ERRORS: OnceLock<Templates> = OnceLock::new();

impl Templates {
    /// Registers every template; a template that does not compile stops start-up.
    pub fn load() -> Result<Templates, handlebars::TemplateError> {
        let mut registry = Handlebars::new();
        registry.set_strict_mode(true);
        registry.register_embed_templates_with_extension::<TemplateFiles>(".hbs")?;
        let templates = Templates {
            registry: Arc::new(registry),
        };
        let _ = FOR_ERRORS.set(templates.clone());
        Ok(templates)
    }

    pub fn render<T: Serialize>(
        &self,
        name: &str,
        context: &T,
    ) -> Result<String, handlebars::RenderError> {
        self.registry.render(name, context)
    }
}

/// A short page that says one thing: closed, thanks, not found.
#[derive(Serialize)]
pub struct MessagePage<'a> {
    pub title: &'a str,
    pub heading: &'a str,
    pub message: &'a str,
}

pub fn html(mut builder: HttpResponseBuilder, body: String) -> HttpResponse {
    builder
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .body(body)
}

/// Renders a message page; if even that fails, a plain sentence in Chinese.
pub fn message_response(status: StatusCode, page: &MessagePage) -> HttpResponse {
    let body = FOR_ERRORS
        .get()
        .and_then(|templates| templates.render("message", page).ok())
        .unwrap_or_else(|| "系统暂时出现问题，请稍后再试。".to_owned());
    html(HttpResponse::build(status), body)
}
