//! Signing in and out, the first admin's setup link and password changes: cookies and pages
//! around `accounts::actions`, which decides and records each.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::guards::{ButtonOnly, CsrfForm, Staff};
use super::session::{SESSION_COOKIE, SESSION_HOURS, Session};
use super::{ConsoleError, see_other};
use crate::accounts::actions::{self as account_actions, SignInRefusal};
use crate::accounts::{AccountError, NewAccount, Role, SignInError};
use crate::web::AppState;
use crate::web::error::Failure;
use crate::web::templates;

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
    let csrf = crate::secrets::random_key();
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
        return Err(ConsoleError::bad_csrf());
    }
    let client = crate::web::client_address(&state, &request);
    let now = Utc::now();
    // One argon2id verification holds this worker for a few tens of milliseconds; sign-ins are
    // rare and throttled, so that is accepted rather than moved to a blocking pool.
    let outcome = account_actions::sign_in(
        &state.context,
        &state.sign_in_throttle,
        client,
        &form.email,
        &form.password,
        now,
    )
    .await;
    match outcome {
        Ok(account) => {
            let session = Session::new(account.id, account.session_version, now);
            let mut response = HttpResponse::SeeOther();
            response.insert_header((header::LOCATION, next));
            response.cookie(session_cookie(&state, &session));
            Ok(response.finish())
        }
        Err(SignInRefusal::Throttled) => Err(ConsoleError::new(Failure::TooManyAttempts)),
        Err(SignInRefusal::Failed(SignInError::Db(error))) => Err(error.into()),
        Err(SignInRefusal::Failed(error)) => {
            let status = match error {
                SignInError::SlowDown { .. } => actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                _ => actix_web::http::StatusCode::UNAUTHORIZED,
            };
            login_page(&state, status, next, form.email, Some(error.to_string()))
        }
    }
}

pub async fn logout(
    state: web::Data<AppState>,
    staff: Staff,
    _form: CsrfForm<ButtonOnly>,
) -> Result<HttpResponse, ConsoleError> {
    account_actions::sign_out(&state.context, &staff.account).await?;
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
    if !crate::accounts::setup_token_is_valid(&state.db, &token).await? {
        return Err(ConsoleError::not_found());
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
    let form = form.into_inner();
    let created = account_actions::complete_setup(
        &state.context,
        &token,
        NewAccount {
            email: form.email.clone(),
            display_name: form.name.clone(),
            password: form.password.clone(),
            role: Role::Admin,
            school_id: None,
        },
        &form.confirm,
    )
    .await;
    match created {
        Ok(Some(account)) => {
            let session = Session::new(account.id, account.session_version, Utc::now());
            let mut response = HttpResponse::SeeOther();
            response.insert_header((header::LOCATION, "/console"));
            response.cookie(session_cookie(&state, &session));
            Ok(response.finish())
        }
        Ok(None) => Err(ConsoleError::not_found()),
        Err(AccountError::Db(error)) => Err(error.into()),
        Err(AccountError::Hash(error)) => Err(ConsoleError::internal(error)),
        Err(refusal) => {
            let body = state.templates.render(
                "console/setup",
                &SetupView {
                    title: "创建管理员账号",
                    email: form.email,
                    name: form.name,
                    error: Some(refusal.to_string()),
                },
            )?;
            Ok(templates::html(HttpResponse::UnprocessableEntity(), body))
        }
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
}

pub async fn password_submit(
    state: web::Data<AppState>,
    staff: Staff,
    form: CsrfForm<PasswordForm>,
) -> Result<HttpResponse, ConsoleError> {
    let changed = account_actions::change_password(
        &state.context,
        &staff.account,
        &form.current,
        &form.password,
        &form.confirm,
    )
    .await;
    let account = match changed {
        Ok(account) => account,
        Err(AccountError::Db(error)) => return Err(error.into()),
        Err(AccountError::Hash(error)) => return Err(ConsoleError::internal(error)),
        Err(refusal) => {
            let status = match refusal {
                AccountError::SlowDown(_) => actix_web::http::StatusCode::TOO_MANY_REQUESTS,
                _ => actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            };
            let message = match refusal {
                AccountError::PasswordsDiffer => "两次输入的新密码不一致".to_owned(),
                other => other.to_string(),
            };
            return staff.render_with_status(
                &state,
                status,
                "console/password",
                "修改密码",
                "password",
                PasswordView {
                    error: Some(message),
                    done: false,
                },
            );
        }
    };
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

#[derive(serde::Serialize)]
struct HomeView {
    /// Rectification items overdue in the whole county.
    rectification_overdue: u64,
}

pub async fn home(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, ConsoleError> {
    if staff.role == Role::School {
        return Ok(see_other("/console/my-school"));
    }
    let overdue =
        crate::rectification::overdue_count(&state.db, None, crate::rectification::today()).await?;
    staff.render(
        &state,
        "console/home",
        "督评工作台",
        "home",
        HomeView {
            rectification_overdue: overdue,
        },
    )
}
