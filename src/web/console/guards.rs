//! Who may call a console route, said in the handler's signature. Each guard is an extractor:
//! a handler that takes [`Supervisor`] is never reached by a school viewer or an anonymous
//! visitor, one that takes [`CsrfForm`] never by a form without this session's CSRF token.
//!
//! - [`Staff`]: any signed-in account (an anonymous visitor is sent to sign in).
//! - [`Supervisor`]: a supervisor or an admin; [`Admin`]: an admin.
//! - [`SchoolViewer`]: the school named by the path's `{id}`, which this account may see — any
//!   school for supervisors and admins, its own for a school viewer (403 for another).
//! - [`CampaignPath`]: the campaign named by the path's `{id}`, loaded once (404 when none).
//! - [`CsrfForm`]: an urlencoded form whose `_csrf` is this session's token (403 otherwise),
//!   read into `T` with a page in words when it cannot be.

use std::future::Future;
use std::ops::Deref;
use std::pin::Pin;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::Utc;
use entity::{account, campaign, school};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::ConsoleError;
use super::session::{SESSION_COOKIE, Session};
use crate::accounts::{self, Role};
use crate::web::AppState;
use crate::web::error::Failure;
use crate::web::templates;

/// A boxed extractor future, as every guard here returns.
type Guarded<T> = Pin<Box<dyn Future<Output = Result<T, ConsoleError>>>>;

/// The signed-in account of a console request.
pub struct Staff {
    pub account: account::Model,
    pub role: Role,
    pub csrf: String,
}

/// What every console page knows about who is looking.
#[derive(Serialize)]
pub struct Me {
    pub email: String,
    pub name: String,
    pub role: &'static str,
    pub is_admin: bool,
    pub is_supervisor: bool,
    pub school_id: Option<i32>,
}

/// A console page: the layout's context plus the page's own, flattened.
#[derive(Serialize)]
pub struct ConsolePage<'a, T: Serialize> {
    pub title: &'a str,
    pub nav: &'a str,
    pub me: Me,
    pub csrf: &'a str,
    #[serde(flatten)]
    pub content: T,
}

impl Staff {
    /// Refuses with 403 unless `token` is this session's CSRF token (for the forms that are not
    /// read through [`CsrfForm`]: multipart uploads).
    pub fn check_csrf(&self, token: &str) -> Result<(), ConsoleError> {
        if !token.is_empty() && token == self.csrf {
            Ok(())
        } else {
            Err(ConsoleError::bad_csrf())
        }
    }

    pub fn is_supervisor(&self) -> bool {
        self.role.includes(Role::Supervisor)
    }

    pub fn me(&self) -> Me {
        Me {
            email: self.account.email.clone(),
            name: self.account.display_name.clone(),
            role: self.role.label(),
            is_admin: self.role == Role::Admin,
            is_supervisor: self.is_supervisor(),
            school_id: self.account.school_id,
        }
    }

    /// Renders `template` inside the console layout.
    pub fn render<T: Serialize>(
        &self,
        state: &AppState,
        template: &str,
        title: &str,
        nav: &str,
        content: T,
    ) -> Result<HttpResponse, ConsoleError> {
        self.render_with_status(
            state,
            actix_web::http::StatusCode::OK,
            template,
            title,
            nav,
            content,
        )
    }

    pub fn render_with_status<T: Serialize>(
        &self,
        state: &AppState,
        status: actix_web::http::StatusCode,
        template: &str,
        title: &str,
        nav: &str,
        content: T,
    ) -> Result<HttpResponse, ConsoleError> {
        let page = ConsolePage {
            title,
            nav,
            me: self.me(),
            csrf: &self.csrf,
            content,
        };
        let body = state.templates.render(template, &page)?;
        Ok(templates::html(HttpResponse::build(status), body))
    }
}

pub(super) fn app_state(request: &HttpRequest) -> Result<web::Data<AppState>, ConsoleError> {
    request
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| ConsoleError::internal("the application state is missing"))
}

fn sign_in_required(request: &HttpRequest) -> ConsoleError {
    let next = if request.method() == actix_web::http::Method::GET {
        request
            .uri()
            .path_and_query()
            .map_or("/console", |path| path.as_str())
            .to_owned()
    } else {
        "/console".to_owned()
    };
    ConsoleError::new(Failure::SignInRequired { next })
}

/// The request's session, if its cookie is one this installation signed and not expired.
fn session_of(request: &HttpRequest, state: &AppState) -> Option<Session> {
    let cookie = request.cookie(SESSION_COOKIE)?;
    Session::decode(cookie.value(), &state.session_key, Utc::now())
}

async fn staff_of(request: HttpRequest) -> Result<Staff, ConsoleError> {
    let state = app_state(&request)?;
    let session = session_of(&request, &state).ok_or_else(|| sign_in_required(&request))?;
    let account = accounts::find(&state.db, session.account_id)
        .await?
        .filter(|account| !account.disabled && account.session_version == session.session_version)
        .ok_or_else(|| sign_in_required(&request))?;
    let role = accounts::role_of(&account);
    Ok(Staff {
        account,
        role,
        csrf: session.csrf,
    })
}

impl FromRequest for Staff {
    type Error = ConsoleError;
    type Future = Guarded<Staff>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        Box::pin(staff_of(request.clone()))
    }
}

/// A supervisor or an admin.
pub struct Supervisor(pub Staff);

/// An admin.
pub struct Admin(pub Staff);

async fn with_role(request: HttpRequest, needed: Role) -> Result<Staff, ConsoleError> {
    let staff = staff_of(request).await?;
    if staff.role.includes(needed) {
        Ok(staff)
    } else {
        Err(ConsoleError::forbidden())
    }
}

impl FromRequest for Supervisor {
    type Error = ConsoleError;
    type Future = Guarded<Supervisor>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move { Ok(Supervisor(with_role(request, Role::Supervisor).await?)) })
    }
}

impl FromRequest for Admin {
    type Error = ConsoleError;
    type Future = Guarded<Admin>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move { Ok(Admin(with_role(request, Role::Admin).await?)) })
    }
}

impl Deref for Supervisor {
    type Target = Staff;

    fn deref(&self) -> &Staff {
        &self.0
    }
}

impl Deref for Admin {
    type Target = Staff;

    fn deref(&self) -> &Staff {
        &self.0
    }
}

/// The path's `{id}` as a positive number; anything else names nothing (404).
fn path_id(request: &HttpRequest) -> Result<i32, ConsoleError> {
    request
        .match_info()
        .get("id")
        .and_then(|id| id.parse::<i32>().ok())
        .filter(|id| *id > 0)
        .ok_or_else(ConsoleError::not_found)
}

/// The school of the path's `{id}`, and the account looking at it: a supervisor or admin may see
/// every school, a school viewer only the school of its account.
pub struct SchoolViewer {
    pub staff: Staff,
    pub school: school::Model,
}

impl FromRequest for SchoolViewer {
    type Error = ConsoleError;
    type Future = Guarded<SchoolViewer>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let staff = staff_of(request.clone()).await?;
            let id = path_id(&request)?;
            if !staff.is_supervisor() && staff.account.school_id != Some(id) {
                return Err(ConsoleError::forbidden());
            }
            let state = app_state(&request)?;
            let school = crate::schools::find(&state.db, id)
                .await?
                .ok_or_else(ConsoleError::not_found)?;
            Ok(SchoolViewer { staff, school })
        })
    }
}

impl Deref for SchoolViewer {
    type Target = Staff;

    fn deref(&self) -> &Staff {
        &self.staff
    }
}

/// The campaign of the path's `{id}`, or 404. Take it after the role guard, so that a visitor
/// without the role learns nothing of which campaigns exist.
pub struct CampaignPath(pub campaign::Model);

impl FromRequest for CampaignPath {
    type Error = ConsoleError;
    type Future = Guarded<CampaignPath>;

    fn from_request(request: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let id = path_id(&request)?;
            let state = app_state(&request)?;
            match crate::campaigns::find(&state.db, id).await {
                Ok(campaign) => Ok(CampaignPath(campaign)),
                Err(crate::campaigns::CampaignError::NotFound(_)) => Err(ConsoleError::not_found()),
                Err(other) => Err(ConsoleError::internal(other)),
            }
        })
    }
}

impl Deref for CampaignPath {
    type Target = campaign::Model;

    fn deref(&self) -> &campaign::Model {
        &self.0
    }
}

/// The field that carries the CSRF token in every console form.
pub const CSRF_FIELD: &str = "_csrf";

/// A console form that changes something: urlencoded, at most [`FORM_LIMIT`] bytes, carrying
/// this session's CSRF token in `_csrf`, read into `T` (which need not name `_csrf`).
pub struct CsrfForm<T>(pub T);

/// A form that is only a button (sign out, disable, retry): nothing but its CSRF token.
#[derive(serde::Deserialize)]
pub struct ButtonOnly {}

/// A console form with every text box full fits many times over.
pub const FORM_LIMIT: usize = 256 * 1024;

impl<T> CsrfForm<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for CsrfForm<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The words for a form that could not be read.
const UNREADABLE_FORM: &str = "提交的表单不完整或格式不对，没有保存。请返回、刷新页面后重新填写。";

impl<T: DeserializeOwned + 'static> FromRequest for CsrfForm<T> {
    type Error = ConsoleError;
    type Future = Guarded<CsrfForm<T>>;

    fn from_request(request: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let request = request.clone();
        let body = web::Bytes::from_request(&request, payload);
        Box::pin(async move {
            let state = app_state(&request)?;
            // No session: sign in first (the form would have been refused anyway).
            let session = session_of(&request, &state).ok_or_else(|| sign_in_required(&request))?;
            let body = body.await.map_err(|error| {
                tracing::info!(error = %error, "console form refused");
                ConsoleError::bad_request(
                    if error
                        .as_error::<actix_web::error::PayloadError>()
                        .is_some_and(|error| {
                            matches!(error, actix_web::error::PayloadError::Overflow)
                        })
                    {
                        "提交的内容太长，没有保存。"
                    } else {
                        UNREADABLE_FORM
                    },
                )
            })?;
            if body.len() > FORM_LIMIT {
                return Err(ConsoleError::bad_request("提交的内容太长，没有保存。"));
            }
            let token = form_field(&body, CSRF_FIELD).unwrap_or_default();
            if token.is_empty() || token != session.csrf {
                return Err(ConsoleError::bad_csrf());
            }
            let form = serde_urlencoded::from_bytes::<T>(&body).map_err(|error| {
                tracing::info!(error = %error, "console form refused");
                ConsoleError::bad_request(UNREADABLE_FORM)
            })?;
            Ok(CsrfForm(form))
        })
    }
}

/// The first value of field `name` in an urlencoded body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body)
        .ok()?
        .into_iter()
        .find(|(field, _)| field == name)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_field_is_found_among_the_others() {
        assert_eq!(
            form_field(b"name=%E6%9D%8E&_csrf=abc123&x=1", CSRF_FIELD).as_deref(),
            Some("abc123")
        );
        assert_eq!(form_field(b"name=x", CSRF_FIELD), None);
    }

    #[derive(serde::Deserialize)]
    struct Named {
        name: String,
    }

    #[test]
    fn a_form_is_read_without_naming_its_csrf_field() {
        let form: Named = serde_urlencoded::from_bytes(b"_csrf=abc&name=%E5%AD%A6%E6%A0%A1")
            .expect("a form with an extra field");
        assert_eq!(form.name, "学校");
    }
}
