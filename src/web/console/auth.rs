//! Signing in and out, the first admin's setup link, password changes, and `Staff`: the
//! signed-in account every console handler takes.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::Utc;
use entity::account;
use serde::{Deserialize, Serialize};

use super::session::{SESSION_COOKIE, SESSION_HOURS, Session};
use super::{ConsoleError, see_other};
use crate::accounts::{self, NewAccount, Role, SignInError};
use crate::audit;
use crate::web::AppState;
use crate::web::templates;

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
    /// Refuses with 403 unless the account's role includes `needed`.
    pub fn require(&self, needed: Role) -> Result<(), ConsoleError> {
        if self.role.includes(needed) {
            Ok(())
        } else {
            Err(ConsoleError::Forbidden)
        }
    }

    /// Refuses with 403 unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), ConsoleError> {
        if !token.is_empty() && token == self.csrf {
            Ok(())
        } else {
            Err(ConsoleError::BadCsrf)
        }
    }

    pub fn me(&self) -> Me {
        Me {
            email: self.account.email.clone(),
            name: self.account.display_name.clone(),
            role: self.role.label(),
            is_admin: self.role == Role::Admin,
            is_supervisor: self.role.includes(Role::Supervisor),
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

fn app_state(request: &HttpRequest) -> Result<web::Data<AppState>, ConsoleError> {
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
    ConsoleError::SignInRequired { next }
}

impl FromRequest for Staff {
    type Error = ConsoleError;
    type Future = Pin<Box<dyn Future<Output = Result<Staff, ConsoleError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let request = request.clone();
        Box::pin(async move {
            let state = app_state(&request)?;
            let cookie = request
                .cookie(SESSION_COOKIE)
                .ok_or_else(|| sign_in_required(&request))?;
            let session = Session::decode(cookie.value(), &state.session_key, Utc::now())
                .ok_or_else(|| sign_in_required(&request))?;
            let account = accounts::find(&state.db, session.account_id)
                .await?
                .filter(|account| {
                    !account.disabled && account.session_version == session.session_version
                })
                .ok_or_else(|| sign_in_required(&request))?;
            let role = accounts::role_of(&account);
            Ok(Staff {
                account,
                role,
                csrf: session.csrf,
            })
        })
    }
}

pub fn session_cookie(state: &AppState, session: &Session) -> Cookie<'static> {
    Cookie::build(SESSION_COOKIE, session.encode(&state.session_key))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies)
        .max_age(CookieDuration::hours(SESSION_HOURS))
        .finish()
}

fn expired_session_cookie(state: &AppState) -> Cookie<'static> {
    let mut cookie = Cookie::build(SESSION_COOKIE, "")
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.secure_cookies)
        .finish();
    cookie.make_removal();
    cookie
}

/// The sign-in form is not behind a session, so its CSRF token is double-submitted: a cookie and
/// a hidden field that must match.
const LOGIN_CSRF_COOKIE: &str = "dupin_login_csrf";

#[derive(Serialize)]
struct LoginView<'a> {
    title: &'a str,
    csrf: String,
    next: String,
    email: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

fn login_page(
    state: &AppState,
    status: actix_web::http::StatusCode,
    next: String,
    email: String,
    error: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let csrf = crate::answering::random_key();
    let body = state.templates.render(
        "console/login",
        &LoginView {
            title: "登录",
            csrf: csrf.clone(),
            next,
            email,
            error,
        },
    )?;
    let mut response = HttpResponse::build(status);
    response.cookie(
        Cookie::build(LOGIN_CSRF_COOKIE, csrf)
            .path("/console/login")
            .http_only(true)
            .same_site(SameSite::Strict)
            .secure(state.secure_cookies)
            .finish(),
    );
    Ok(templates::html(response, body))
}

pub async fn login_form(
    state: web::Data<AppState>,
    query: web::Query<NextQuery>,
) -> Result<HttpResponse, ConsoleError> {
    login_page(
        &state,
        actix_web::http::StatusCode::OK,
        super::safe_next(query.next.as_deref()),
        String::new(),
        None,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    _csrf: String,
}

pub async fn login_submit(
    state: web::Data<AppState>,
    request: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    let next = super::safe_next(Some(&form.next));
    let cookie = request
        .cookie(LOGIN_CSRF_COOKIE)
        .map(|cookie| cookie.value().to_owned());
    if cookie.is_none_or(|cookie| cookie.is_empty() || cookie != form._csrf) {
        return Err(ConsoleError::BadCsrf);
    }
    let client = client_address(&state, &request);
    if let Some(client) = client
        && !state.sign_in_throttle.allow(client)
    {
        audit::record(
            &state.db,
            None,
            &form.email,
            "sign_in_throttled",
            format!("client {client}"),
        )
        .await?;
        return Err(ConsoleError::TooManyAttempts);
    }
    let now = Utc::now();
    // One argon2id verification holds this worker for a few tens of milliseconds; sign-ins are
    // rare and throttled, so that is accepted rather than moved to a blocking pool.
    let outcome = accounts::sign_in(&state.db, &form.email, &form.password, now).await;
    match outcome {
        Ok(account) => {
            if let Some(client) = client {
                state.sign_in_throttle.forget(client);
            }
            audit::record(&state.db, Some(&account), "", "sign_in", "").await?;
            let session = Session::new(account.id, account.session_version, now);
            let mut response = HttpResponse::SeeOther();
            response.insert_header((header::LOCATION, next));
            response.cookie(session_cookie(&state, &session));
            Ok(response.finish())
        }
        Err(SignInError::Db(error)) => Err(error.into()),
        Err(error) => {
            if let Some(client) = client {
                state.sign_in_throttle.failed(client);
            }
            audit::record(
                &state.db,
                None,
                &form.email,
                "sign_in_failed",
                error.to_string(),
            )
            .await?;
            let status = match error {
                SignInError::SlowDown(_) => actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                _ => actix_web::http::StatusCode::UNAUTHORIZED,
            };
            login_page(&state, status, next, form.email, Some(error.to_string()))
        }
    }
}

/// The address the sign-in slow-down counts by: the proxy's `X-Forwarded-For` when dupin is
/// told to trust it (behind nginx every client would otherwise be 127.0.0.1), else the peer's.
fn client_address(state: &AppState, request: &HttpRequest) -> Option<std::net::IpAddr> {
    if state.trust_proxy
        && let Some(forwarded) = request.connection_info().realip_remote_addr()
        && let Ok(address) = forwarded.trim().parse::<std::net::IpAddr>()
    {
        return Some(address);
    }
    request.peer_addr().map(|address| address.ip())
}

#[derive(Deserialize)]
pub struct CsrfOnly {
    #[serde(default)]
    _csrf: String,
}

pub async fn logout(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<CsrfOnly>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_csrf(&form._csrf)?;
    audit::record(&state.db, Some(&staff.account), "", "sign_out", "").await?;
    let mut response = HttpResponse::SeeOther();
    response.insert_header((header::LOCATION, "/console/login"));
    response.cookie(expired_session_cookie(&state));
    Ok(response.finish())
}

#[derive(Serialize)]
struct SetupView {
    title: &'static str,
    email: String,
    name: String,
    error: Option<String>,
}

pub async fn setup_form(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    if !accounts::setup_token_is_valid(&state.db, &token).await? {
        return Err(ConsoleError::NotFound);
    }
    let body = state.templates.render(
        "console/setup",
        &SetupView {
            title: "创建管理员账号",
            email: String::new(),
            name: String::new(),
            error: None,
        },
    )?;
    Ok(templates::html(HttpResponse::Ok(), body))
}

#[derive(Deserialize)]
pub struct SetupForm {
    email: String,
    #[serde(default)]
    name: String,
    password: String,
    confirm: String,
}

pub async fn setup_submit(
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, ConsoleError> {
    // The unguessable token in the path is what this form proves; there is no session yet.
    if !accounts::setup_token_is_valid(&state.db, &token).await? {
        return Err(ConsoleError::NotFound);
    }
    let form = form.into_inner();
    let refuse = |message: String| -> Result<HttpResponse, ConsoleError> {
        let body = state.templates.render(
            "console/setup",
            &SetupView {
                title: "创建管理员账号",
                email: form.email.clone(),
                name: form.name.clone(),
                error: Some(message),
            },
        )?;
        Ok(templates::html(HttpResponse::UnprocessableEntity(), body))
    };
    if form.password != form.confirm {
        return refuse("两次输入的密码不一致".to_owned());
    }
    let created = accounts::complete_setup(
        &state.db,
        &token,
        NewAccount {
            email: form.email.clone(),
            display_name: form.name.clone(),
            password: form.password.clone(),
            role: Role::Admin,
            school_id: None,
        },
    )
    .await;
    match created {
        Ok(Some(account)) => {
            audit::record(&state.db, Some(&account), "", "setup_admin_created", "").await?;
            let session = Session::new(account.id, account.session_version, Utc::now());
            let mut response = HttpResponse::SeeOther();
            response.insert_header((header::LOCATION, "/console"));
            response.cookie(session_cookie(&state, &session));
            Ok(response.finish())
        }
        Ok(None) => Err(ConsoleError::NotFound),
        Err(accounts::AccountError::Db(error)) => Err(error.into()),
        Err(accounts::AccountError::Hash(error)) => Err(ConsoleError::internal(error)),
        Err(error) => refuse(error.to_string()),
    }
}

#[derive(Serialize)]
struct PasswordView {
    error: Option<String>,
    done: bool,
}

pub async fn password_form(
    state: web::Data<AppState>,
    staff: Staff,
) -> Result<HttpResponse, ConsoleError> {
    staff.render(
        &state,
        "console/password",
        "修改密码",
        "password",
        PasswordView {
            error: None,
            done: false,
        },
    )
}

#[derive(Deserialize)]
pub struct PasswordForm {
    current: String,
    password: String,
    confirm: String,
    #[serde(default)]
    _csrf: String,
}

pub async fn password_submit(
    state: web::Data<AppState>,
    staff: Staff,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, ConsoleError> {
    staff.check_csrf(&form._csrf)?;
    let refuse = |message: &str| {
        staff.render_with_status(
            &state,
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            "console/password",
            "修改密码",
            "password",
            PasswordView {
                error: Some(message.to_owned()),
                done: false,
            },
        )
    };
    if !accounts::verify_password(&form.current, &staff.account.password_hash) {
        return refuse("当前密码不正确");
    }
    if form.password != form.confirm {
        return refuse("两次输入的新密码不一致");
    }
    match accounts::set_password(&state.db, staff.account.clone(), &form.password).await {
        Ok(account) => {
            audit::record(&state.db, Some(&account), "", "password_changed", "").await?;
            // The old sessions are over everywhere; this one continues with the new version.
            let session = Session::new(account.id, account.session_version, Utc::now());
            let staff = Staff {
                role: staff.role,
                csrf: session.csrf.clone(),
                account,
            };
            let mut response = staff.render(
                &state,
                "console/password",
                "修改密码",
                "password",
                PasswordView {
                    error: None,
                    done: true,
                },
            )?;
            response
                .add_cookie(&session_cookie(&state, &session))
                .map_err(ConsoleError::internal)?;
            Ok(response)
        }
        Err(accounts::AccountError::Db(error)) => Err(error.into()),
        Err(error) => refuse(&error.to_string()),
    }
}

pub async fn home(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, ConsoleError> {
    if staff.role == Role::School {
        return Ok(see_other("/console/my-school"));
    }
    staff.render(&state, "console/home", "督评工作台", "home", ())
}
