//! The one place where failures become HTTP answers, for every face of dupin: the public pages a
//! parent sees, the console, and the JSON API. One type, [`HttpError`], carries what went wrong
//! ([`Failure`]); its face, a type parameter, decides how it is answered — a message page in
//! plain Chinese, a console page (or the sign-in redirect), or `{"error": {code, message}}`.
//!
//! A 4xx says what was wrong in words a person can act on. A 5xx says only that something failed;
//! its cause, kept as the source error and not flattened to a string, goes to the log with its
//! whole chain (`a: b: c`). Nothing is mapped to a 4xx by default: domain errors are matched
//! variant by variant where they meet the web layer, and whatever is not matched is a 500.

use std::error::Error;
use std::fmt;
use std::marker::PhantomData;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;

use super::templates::{self, MessagePage};

/// A failure's cause, kept whole for the log.
pub struct InternalError(Box<dyn Error + Send + Sync + 'static>);

impl InternalError {
    /// The error and every source below it, `outer: inner: innermost`, each said once.
    pub fn chain(&self) -> String {
        let mut text = self.0.to_string();
        let mut source = self.0.source();
        while let Some(cause) = source {
            let said = cause.to_string();
            // Many errors repeat their source in their own message; say each thing once.
            if !text.ends_with(&said) {
                text.push_str(": ");
                text.push_str(&said);
            }
            source = cause.source();
        }
        text
    }
}

impl fmt::Debug for InternalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.chain())
    }
}

/// Everything a request can fail with, whatever its face.
#[derive(Debug)]
pub enum Failure {
    /// No such page, campaign, school or account.
    NotFound,
    /// Signed in, but this account may not do this.
    Forbidden,
    /// A console page without a valid session: back to the sign-in page, then to `next`.
    SignInRequired { next: String },
    /// A form that does not carry this session's CSRF token.
    BadCsrf,
    /// A request that was refused for a reason said in `message` (400 unless `status` says
    /// otherwise).
    Refused { status: StatusCode, message: String },
    /// Too many sign-in attempts.
    TooManyAttempts,
    /// A body past its size limit.
    PayloadTooLarge,
    /// A body that could not be read as what the route takes (a phone's form).
    Unreadable,
    /// A body that did not arrive in time.
    RequestTimeout,
    /// A request head past its size limit.
    HeadersTooLarge,
    /// An API refusal with its stable code.
    Api(ApiRefusal),
    /// Something failed on our side.
    Internal(InternalError),
}

impl Failure {
    pub fn status(&self) -> StatusCode {
        match self {
            Failure::NotFound => StatusCode::NOT_FOUND,
            Failure::Forbidden | Failure::BadCsrf => StatusCode::FORBIDDEN,
            Failure::SignInRequired { .. } => StatusCode::SEE_OTHER,
            Failure::Refused { status, .. } => *status,
            Failure::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            Failure::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Failure::Unreadable => StatusCode::BAD_REQUEST,
            Failure::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            Failure::HeadersTooLarge => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            Failure::Api(refusal) => refusal.status(),
            Failure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Logs an internal failure's whole chain; called once, where the answer is built.
    fn log(&self, face: &str) {
        if let Failure::Internal(cause) = self {
            tracing::error!(cause = %cause.chain(), face, "request failed");
        }
    }
}

/// How a failure is answered: which page, or JSON.
pub trait Face {
    fn respond(failure: &Failure) -> HttpResponse;
}

/// The pages parents and teachers see: a message page, no console around it.
#[derive(Debug)]
pub struct Public;
/// The console's pages, for staff.
#[derive(Debug)]
pub struct Console;
/// The JSON API: `{"error": {"code", "message"}}`, never a page.
#[derive(Debug)]
pub struct Api;

/// A failure answered by face `F`.
pub struct HttpError<F: Face> {
    pub failure: Failure,
    face: PhantomData<fn() -> F>,
}

/// A public page's failure.
pub type PageError = HttpError<Public>;
/// A console page's failure.
pub type ConsoleError = HttpError<Console>;
/// An API failure.
pub type ApiError = HttpError<Api>;

impl<F: Face> HttpError<F> {
    pub fn new(failure: Failure) -> Self {
        HttpError {
            failure,
            face: PhantomData,
        }
    }

    pub fn not_found() -> Self {
        HttpError::new(Failure::NotFound)
    }

    pub fn forbidden() -> Self {
        HttpError::new(Failure::Forbidden)
    }

    pub fn bad_csrf() -> Self {
        HttpError::new(Failure::BadCsrf)
    }

    /// A 400 that says `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        HttpError::refused(StatusCode::BAD_REQUEST, message)
    }

    /// A 4xx that says `message`.
    pub fn refused(status: StatusCode, message: impl Into<String>) -> Self {
        HttpError::new(Failure::Refused {
            status,
            message: message.into(),
        })
    }

    /// A 500 whose cause (an error, or a sentence for a broken invariant) goes to the log.
    pub fn internal(cause: impl Into<Box<dyn Error + Send + Sync + 'static>>) -> Self {
        HttpError::new(Failure::Internal(InternalError(cause.into())))
    }

    /// The same failure answered by another face.
    pub fn into_face<G: Face>(self) -> HttpError<G> {
        HttpError::new(self.failure)
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self.failure, Failure::NotFound)
    }
}

impl<F: Face> fmt::Debug for HttpError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.failure.fmt(f)
    }
}

impl<F: Face> fmt::Display for HttpError<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            Failure::Refused { message, .. } => f.write_str(message),
            Failure::Api(refusal) => fmt::Display::fmt(refusal, f),
            Failure::Internal(cause) => write!(f, "internal error: {}", cause.chain()),
            other => write!(f, "{other:?}"),
        }
    }
}

impl<F: Face> From<Failure> for HttpError<F> {
    fn from(failure: Failure) -> Self {
        HttpError::new(failure)
    }
}

impl<F: Face> From<sea_orm::DbErr> for HttpError<F> {
    fn from(error: sea_orm::DbErr) -> Self {
        HttpError::internal(error)
    }
}

impl<F: Face> From<handlebars::RenderError> for HttpError<F> {
    fn from(error: handlebars::RenderError) -> Self {
        HttpError::internal(error)
    }
}

impl From<PageError> for ConsoleError {
    fn from(error: PageError) -> Self {
        error.into_face()
    }
}

impl From<PageError> for ApiError {
    fn from(error: PageError) -> Self {
        error.into_face()
    }
}

impl From<ApiRefusal> for ApiError {
    fn from(refusal: ApiRefusal) -> Self {
        HttpError::new(Failure::Api(refusal))
    }
}

impl<F: Face> ResponseError for HttpError<F> {
    fn status_code(&self) -> StatusCode {
        self.failure.status()
    }

    fn error_response(&self) -> HttpResponse {
        F::respond(&self.failure)
    }
}

// ------------------------------------------------------------------------------ public pages

impl Face for Public {
    fn respond(failure: &Failure) -> HttpResponse {
        failure.log("page");
        let (title, message): (&str, &str) = match failure {
            Failure::NotFound => (
                "找不到这个页面",
                "您打开的地址不存在或已失效。请检查二维码或链接是否完整，或向学校询问新的链接。",
            ),
            Failure::PayloadTooLarge => (
                "提交的内容太长",
                "您提交的内容超出了允许的长度，没有被保存。请返回上一页，缩短填写的文字后再提交。",
            ),
            Failure::Unreadable => (
                "无法识别的请求",
                "您的浏览器发送的内容无法识别，没有被保存。请重新打开链接后再填写。",
            ),
            Failure::RequestTimeout => (
                "网络太慢，没有收到完整的内容",
                "您提交的内容没有在规定时间内完整送达，没有被保存。请到信号好一些的地方，返回上一页再提交一次。",
            ),
            Failure::HeadersTooLarge => (
                "浏览器发送的信息太多",
                "您的浏览器随请求发送的信息（如 Cookie）太多，无法处理。请清除本网站的 Cookie 或换一个浏览器后重新打开链接。",
            ),
            Failure::Refused { message, .. } => ("无法处理的请求", message.as_str()),
            Failure::Forbidden | Failure::BadCsrf | Failure::SignInRequired { .. } => (
                "无法打开这个页面",
                "这个页面已过期或不是从本系统打开的。请重新打开链接。",
            ),
            Failure::TooManyAttempts => ("请求太频繁", "请求太频繁，请稍后再试。"),
            Failure::Api(_) | Failure::Internal(_) => {
                ("系统暂时出错", "很抱歉，系统暂时出现问题。请稍后再试。")
            }
        };
        templates::message_response(
            failure.status(),
            &MessagePage {
                title,
                heading: title,
                message,
            },
        )
    }
}

// ------------------------------------------------------------------------------ the console

impl Face for Console {
    fn respond(failure: &Failure) -> HttpResponse {
        failure.log("console");
        let (title, message): (&str, &str) = match failure {
            Failure::SignInRequired { next } => {
                let location = format!(
                    "/console/login?next={}",
                    super::console::percent_encode(next)
                );
                return HttpResponse::SeeOther()
                    .insert_header((header::LOCATION, location))
                    .finish();
            }
            Failure::Forbidden => (
                "没有权限",
                "您的账号没有权限打开这个页面。如需权限，请联系管理员。",
            ),
            Failure::BadCsrf => (
                "页面已过期",
                "这个页面已过期或不是从本系统打开的，操作没有执行。请返回、刷新页面后再试。",
            ),
            Failure::NotFound => ("找不到这个页面", "您要找的内容不存在或已被删除。"),
            Failure::Refused { message, .. } => ("无法处理的请求", message.as_str()),
            Failure::TooManyAttempts => ("尝试次数过多", "登录失败次数过多，请稍后再试。"),
            Failure::PayloadTooLarge => ("提交的内容太长", "提交的内容太长，没有保存。"),
            Failure::Unreadable => (
                "无法处理的请求",
                "提交的表单不完整或格式不对，没有保存。请返回、刷新页面后重新填写。",
            ),
            Failure::RequestTimeout => (
                "网络太慢",
                "提交的内容没有在规定时间内完整送达，没有保存。请再试一次。",
            ),
            Failure::HeadersTooLarge => (
                "浏览器发送的信息太多",
                "浏览器随请求发送的信息（如 Cookie）太多。请清除本网站的 Cookie 后再试。",
            ),
            Failure::Api(_) | Failure::Internal(_) => (
                "系统暂时出错",
                "很抱歉，系统暂时出现问题，操作可能没有完成。请稍后再试。",
            ),
        };
        templates::message_response(
            failure.status(),
            &MessagePage {
                title,
                heading: title,
                message,
            },
        )
    }
}

// ---------------------------------------------------------------------------------- the API

/// The realm named in `WWW-Authenticate`.
const REALM: &str = "dupin";

/// What the API refuses, each with a stable code for programs and a message for people.
#[derive(Debug, thiserror::Error)]
pub enum ApiRefusal {
    #[error(
        "请求没有携带 API 令牌：请在请求头中加入 Authorization: Bearer <令牌>（令牌由管理员在控制台“API 令牌”页面签发）。"
    )]
    MissingToken,
    #[error("API 令牌无效：它不是本系统签发的令牌，或复制时不完整。")]
    InvalidToken,
    #[error("这个 API 令牌已被管理员吊销，请向管理员申请新的令牌。")]
    RevokedToken,
    #[error("没有编号为 {0} 的调查活动。")]
    CampaignNotFound(String),
    #[error("调查活动 {campaign} 不包含编号为 {school} 的学校。")]
    SchoolNotInCampaign { campaign: i32, school: i32 },
    #[error(
        "调查活动 {0} 不是学校自评活动，没有指标结果；指标只来自学校自评表（audience 为 school）的活动。"
    )]
    NotASelfCheck(i32),
    #[error("没有编号为 {0} 的走访记录。")]
    VisitNotFound(String),
    #[error("没有这个接口：{0}。所有接口见 /api/v1/openapi.json。")]
    NoSuchRoute(String),
    #[error("没有编号为 {0} 的督导意见书。")]
    LetterNotFound(String),
    #[error("{0}")]
    BadFilter(String),
    /// Figures the anonymity rule keeps from being shown on their own (a teachers' survey
    /// narrowed to fewer than 5 answers).
    #[error("{0}")]
    Withheld(String),
    #[error("不认识的参数“{name}”。这个接口接受的参数：{accepted}。")]
    UnknownParameter { name: String, accepted: String },
    #[error("参数“{0}”出现了不止一次。")]
    RepeatedParameter(String),
    #[error("网址中的参数无法读取：{0}")]
    BadQuery(String),
    #[error("这个接口只读，只接受 GET 请求（收到的是 {0}）。")]
    MethodNotAllowed(String),
}

impl ApiRefusal {
    /// The stable code programs match on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiRefusal::MissingToken => "missing_token",
            ApiRefusal::InvalidToken => "invalid_token",
            ApiRefusal::RevokedToken => "revoked_token",
            ApiRefusal::CampaignNotFound(_) => "campaign_not_found",
            ApiRefusal::SchoolNotInCampaign { .. } => "school_not_found",
            ApiRefusal::NotASelfCheck(_) => "not_a_self_check",
            ApiRefusal::VisitNotFound(_) => "visit_not_found",
            ApiRefusal::NoSuchRoute(_) => "not_found",
            ApiRefusal::LetterNotFound(_) => "letter_not_found",
            ApiRefusal::BadFilter(_) => "bad_filter",
            ApiRefusal::Withheld(_) => "withheld_for_anonymity",
            ApiRefusal::UnknownParameter { .. } => "unknown_parameter",
            ApiRefusal::RepeatedParameter(_) => "repeated_parameter",
            ApiRefusal::BadQuery(_) => "bad_query",
            ApiRefusal::MethodNotAllowed(_) => "method_not_allowed",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiRefusal::MissingToken | ApiRefusal::InvalidToken | ApiRefusal::RevokedToken => {
                StatusCode::UNAUTHORIZED
            }
            ApiRefusal::CampaignNotFound(_)
            | ApiRefusal::SchoolNotInCampaign { .. }
            | ApiRefusal::NotASelfCheck(_)
            | ApiRefusal::VisitNotFound(_)
            | ApiRefusal::NoSuchRoute(_)
            | ApiRefusal::LetterNotFound(_) => StatusCode::NOT_FOUND,
            ApiRefusal::BadFilter(_)
            | ApiRefusal::UnknownParameter { .. }
            | ApiRefusal::RepeatedParameter(_)
            | ApiRefusal::BadQuery(_) => StatusCode::BAD_REQUEST,
            ApiRefusal::Withheld(_) => StatusCode::FORBIDDEN,
            ApiRefusal::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorDetail<'a>,
}

#[derive(Serialize)]
struct ErrorDetail<'a> {
    code: &'a str,
    message: String,
}

/// A response builder with the headers every API answer has.
pub fn json_builder(status: StatusCode) -> actix_web::HttpResponseBuilder {
    let mut builder = HttpResponse::build(status);
    builder
        .insert_header((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ))
        .insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .insert_header((
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    builder
}

impl Face for Api {
    fn respond(failure: &Failure) -> HttpResponse {
        failure.log("api");
        let (code, message) = match failure {
            Failure::Api(refusal) => (refusal.code(), refusal.to_string()),
            Failure::NotFound => ("not_found", "没有这个资源。".to_owned()),
            Failure::Refused { message, .. } => ("bad_request", message.clone()),
            Failure::PayloadTooLarge => ("payload_too_large", "请求体太大。".to_owned()),
            Failure::Unreadable => ("bad_request", "请求无法读取。".to_owned()),
            Failure::RequestTimeout => ("request_timeout", "请求没有按时送达。".to_owned()),
            Failure::HeadersTooLarge => ("headers_too_large", "请求头太大。".to_owned()),
            Failure::Forbidden
            | Failure::BadCsrf
            | Failure::SignInRequired { .. }
            | Failure::TooManyAttempts => ("forbidden", "没有权限。".to_owned()),
            Failure::Internal(_) => ("internal", "系统暂时出现问题，请稍后再试。".to_owned()),
        };
        let body = ErrorBody {
            error: ErrorDetail { code, message },
        };
        let mut response = json_builder(failure.status());
        match failure {
            Failure::Api(ApiRefusal::MissingToken) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"{REALM}\""),
                ));
            }
            Failure::Api(ApiRefusal::InvalidToken | ApiRefusal::RevokedToken) => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
                ));
            }
            Failure::Api(ApiRefusal::MethodNotAllowed(_)) => {
                response.insert_header((header::ALLOW, "GET"));
            }
            _ => {}
        }
        // Two small structs of strings always serialise; the fallback is only for form's sake.
        let bytes = serde_json::to_vec(&body)
            .unwrap_or_else(|_| br#"{"error":{"code":"internal","message":"error"}}"#.to_vec());
        response.body(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot read the tallies")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_internal_failure_keeps_its_whole_chain_for_the_log() {
        let error = ConsoleError::internal(Outer(std::io::Error::other("disk full")));
        let Failure::Internal(cause) = &error.failure else {
            panic!("not internal: {error:?}");
        };
        assert_eq!(cause.chain(), "cannot read the tallies: disk full");
        assert_eq!(error.status_code(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_sentence_is_a_cause_too() {
        let error = PageError::internal("the form template lost its key");
        assert_eq!(
            error.to_string(),
            "internal error: the form template lost its key"
        );
    }

    #[test]
    fn the_same_failure_keeps_its_status_under_every_face() {
        for failure in [
            || Failure::NotFound,
            || Failure::Forbidden,
            || Failure::PayloadTooLarge,
        ] {
            let page = PageError::new(failure());
            let console = ConsoleError::new(failure());
            let api = ApiError::new(failure());
            assert_eq!(page.status_code(), console.status_code());
            assert_eq!(console.status_code(), api.status_code());
        }
    }
}
