//! Mail templates: `templates/mail/<name>/{subject,text,html}.hbs`, embedded in the binary.
//! Two registries read the same files: one escapes HTML (for `html.hbs`), the other does not
//! (for the subject and the plain text, where "张&李" must stay "张&李").

use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

use handlebars::Handlebars;
use rust_embed::RustEmbed;
use serde::Serialize;

#[derive(RustEmbed)]
#[folder = "templates/mail/"]
#[include = "*.hbs"]
struct MailFiles;

/// A message's three parts, rendered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Composed {
    pub subject: String,
    pub text: String,
    /// `None` when the template has no `html.hbs`.
    pub html: Option<String>,
}

/// Every mail template, compiled once; cheap to clone.
#[derive(Clone)]
pub struct MailTemplates {
    inner: Arc<Inner>,
}

struct Inner {
    /// subject and text: no escaping.
    plain: Handlebars<'static>,
    /// html: HTML escaping.
    html: Handlebars<'static>,
    /// The names (`invitation`, `report`, …) that have an `html.hbs`.
    with_html: HashSet<String>,
}

/// No templates at all (every `compose` fails): what `AppState::new` starts with until
/// start-up sets the loaded ones.
impl Default for MailTemplates {
    fn default() -> Self {
        MailTemplates {
            inner: Arc::new(Inner {
                plain: Handlebars::new(),
                html: Handlebars::new(),
                with_html: HashSet::new(),
            }),
        }
    }
}

impl MailTemplates {
    /// Compiles every template under `templates/mail/`; one that does not compile stops start-up.
    pub fn load() -> Result<MailTemplates, handlebars::TemplateError> {
        let mut plain = Handlebars::new();
        plain.set_strict_mode(true);
        plain.register_escape_fn(handlebars::no_escape);
        let mut html = Handlebars::new();
        html.set_strict_mode(true);
        let mut with_html = HashSet::new();
        for path in MailFiles::iter() {
            let Some(file) = MailFiles::get(&path) else {
                continue;
            };
            let source = String::from_utf8_lossy(&file.data);
            let Some(name) = path.strip_suffix(".hbs") else {
                continue;
            };
            if let Some(message) = name.strip_suffix("/html") {
                html.register_template_string(name, source.as_ref())?;
                with_html.insert(message.to_owned());
            } else {
                plain.register_template_string(name, source.as_ref())?;
            }
        }
        Ok(MailTemplates {
            inner: Arc::new(Inner {
                plain,
                html,
                with_html,
            }),
        })
    }

    /// The templates built into this binary, compiled on first use and shared by every action
    /// that queues mail. Start-up calls this first, so a template that does not compile stops
    /// the server rather than an action.
    pub fn embedded() -> Result<&'static MailTemplates, handlebars::RenderError> {
        static EMBEDDED: OnceLock<Result<MailTemplates, String>> = OnceLock::new();
        EMBEDDED
            .get_or_init(|| MailTemplates::load().map_err(|error| error.to_string()))
            .as_ref()
            .map_err(|error| {
                handlebars::RenderErrorReason::Other(format!(
                    "the mail templates do not compile: {error}"
                ))
                .into()
            })
    }

    /// Renders `templates/mail/{name}/subject.hbs`, `text.hbs` and (if present) `html.hbs`.
    /// The subject is trimmed and folded onto one line.
    pub fn compose(
        &self,
        name: &str,
        context: &impl Serialize,
    ) -> Result<Composed, handlebars::RenderError> {
        let inner = &self.inner;
        let subject = inner.plain.render(&format!("{name}/subject"), context)?;
        let subject = subject.split_whitespace().collect::<Vec<_>>().join(" ");
        let text = inner.plain.render(&format!("{name}/text"), context)?;
        let html = if inner.with_html.contains(name) {
            Some(inner.html.render(&format!("{name}/html"), context)?)
        } else {
            None
        };
        Ok(Composed {
            subject,
            text,
            html,
        })
    }

    /// Whether `templates/mail/{name}/` exists.
    pub fn has(&self, name: &str) -> bool {
        self.inner.plain.has_template(&format!("{name}/subject"))
    }
}

#[cfg(test)]
mod tests {
    use super::MailTemplates;

    #[test]
    fn text_is_not_escaped_and_html_is() {
        let templates = MailTemplates::load().expect("the mail templates compile");
        let composed = templates
            .compose(
                "test",
                &serde_json::json!({"sent_at": "2026-11-29 20:00", "from": "张&李 <a@b.cn>", "base_url": "http://x"}),
            )
            .expect("the test mail renders");
        assert!(composed.text.contains("张&李"), "{}", composed.text);
        assert!(!composed.subject.contains('\n'));
        let html = composed.html.expect("the test mail has HTML");
        assert!(html.contains("张&amp;李"), "{html}");
    }
}
