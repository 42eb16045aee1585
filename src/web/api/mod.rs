//! The read-only JSON API under `/api/v1/`: campaigns, their results, response rates and
//! indicators, the overall rating (综合评估) and the school list, with the same figures the
//! console shows, from the same domain functions. Every request carries
//! `Authorization: Bearer <token>` (tokens are issued on `/console/tokens`); only the OpenAPI
//! document is open.
//!
//! Every answer is JSON, errors too (`{"error": {"code", "message"}}`), never a page, and never
//! cached. Bad input is a 4xx with a message in Chinese; a 5xx says nothing and logs its cause.
//! The shapes of the answers are in `views`, the handlers in `handlers`, the document in
//! `openapi.json` (a test checks it names every route registered here).

mod handlers;
mod openapi;
mod views;

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse, ResponseError, web};
use chrono::Utc;
use serde::Serialize;

use crate::api::{self, Refusal};
use crate::web::AppState;

pub fn routes(config: &mut web::ServiceConfig) {
    config
        .route("/api/v1/openapi.json", web::get().to(openapi::document))
        .route("/api/v1/campaigns", web::get().to(handlers::campaigns))
        .route("/api/v1/campaigns/{id}", web::get().to(handlers::campaign))
        .route(
            "/api/v1/campaigns/{id}/results",
            web::get().to(handlers::results),
        )
        .route(
            "/api/v1/campaigns/{id}/rates",
            web::get().to(handlers::rates),
        )
        .route(
            "/api/v1/campaigns/{id}/indicators",
            web::get().to(handlers::indicators),
        )
        .route("/api/v1/assessment", web::get().to(handlers::assessment))
        .route("/api/v1/schools", web::get().to(handlers::schools))
        // Anything else under /api answers in JSON too: 405 for a method the API does not
        // take, 404 for a path it does not have.
        .route("/api/{rest:.*}", web::route().to(fallback));
}

/// The realm named in `WWW-Authenticate`.
const REALM: &str = "dupin";

/// Everything the API refuses or fails at, each with a stable code for programs and a message
/// for people.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
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
    #[error("没有这个接口：{0}。所有接口见 /api/v1/openapi.json。")]
    NoSuchRoute(String),
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
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        ApiError::Internal(cause.to_string())
    }

    /// The stable code programs match on.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MissingToken => "missing_token",
            ApiError::InvalidToken => "invalid_token",
            ApiError::RevokedToken => "revoked_token",
            ApiError::CampaignNotFound(_) => "campaign_not_found",
            ApiError::SchoolNotInCampaign { .. } => "school_not_found",
            ApiError::NotASelfCheck(_) => "not_a_self_check",
            ApiError::NoSuchRoute(_) => "not_found",
            ApiError::BadFilter(_) => "bad_filter",
            ApiError::Withheld(_) => "withheld_for_anonymity",
            ApiError::UnknownParameter { .. } => "unknown_parameter",
            ApiError::RepeatedParameter(_) => "repeated_parameter",
            ApiError::BadQuery(_) => "bad_query",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        ApiError::internal(error)
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

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::MissingToken | ApiError::InvalidToken | ApiError::RevokedToken => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::CampaignNotFound(_)
            | ApiError::SchoolNotInCampaign { .. }
            | ApiError::NotASelfCheck(_)
            | ApiError::NoSuchRoute(_) => StatusCode::NOT_FOUND,
            ApiError::BadFilter(_)
            | ApiError::UnknownParameter { .. }
            | ApiError::RepeatedParameter(_)
            | ApiError::BadQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::Withheld(_) => StatusCode::FORBIDDEN,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let message = match self {
            ApiError::Internal(cause) => {
                tracing::error!(cause = %cause, "API request failed");
                "系统暂时出现问题，请稍后再试。".to_owned()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code(),
                message,
            },
        };
        let mut response = json_builder(self.status_code());
        match self {
            ApiError::MissingToken => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"{REALM}\""),
                ));
            }
            ApiError::InvalidToken | ApiError::RevokedToken => {
                response.insert_header((
                    header::WWW_AUTHENTICATE,
                    format!("Bearer realm=\"{REALM}\", error=\"invalid_token\""),
                ));
            }
            ApiError::MethodNotAllowed(_) => {
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

/// A response builder with the headers every API answer has.
fn json_builder(status: StatusCode) -> actix_web::HttpResponseBuilder {
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

/// `value` as a 200 JSON answer.
pub fn json<T: Serialize>(value: &T) -> Result<HttpResponse, ApiError> {
    let body = serde_json::to_vec(value).map_err(ApiError::internal)?;
    Ok(json_builder(StatusCode::OK).body(body))
}

/// A caller holding a valid token: every handler but the OpenAPI document's takes one, so a
/// request without one never reaches the domain.
pub struct ApiClient;

/// The token of an `Authorization: Bearer <token>` header (the scheme in any case, as RFC 7235
/// allows); `None` when there is no such header.
pub fn bearer_token(request: &HttpRequest) -> Option<Result<String, ()>> {
    let value = request.headers().get(header::AUTHORIZATION)?;
    let Ok(text) = value.to_str() else {
        return Some(Err(()));
    };
    let text = text.trim();
    let Some((scheme, token)) = text.split_once(' ') else {
        return Some(Err(()));
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Some(Err(()));
    }
    Some(Ok(token.trim().to_owned()))
}

impl FromRequest for ApiClient {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<ApiClient, ApiError>>>>;

    fn from_request(request: &HttpRequest, _payload: &mut actix_web::dev::Payload) -> Self::Future {
        let state = request.app_data::<web::Data<AppState>>().cloned();
        let presented = bearer_token(request);
        Box::pin(async move {
            let state =
                state.ok_or_else(|| ApiError::internal("the application state is missing"))?;
            let token = match presented {
                None => return Err(ApiError::MissingToken),
                Some(Err(())) => return Err(ApiError::InvalidToken),
                Some(Ok(token)) => token,
            };
            match api::authenticate(&state.db, &token, Utc::now()).await? {
                Ok(token) => {
                    tracing::debug!(token = token.id, "API request");
                    Ok(ApiClient)
                }
                Err(Refusal::Unknown) => Err(ApiError::InvalidToken),
                Err(Refusal::Revoked) => Err(ApiError::RevokedToken),
            }
        })
    }
}

/// The query string as name–value pairs, refusing names not in `accepted` and names given
/// twice, so that a mistyped filter is an error rather than figures for every school.
pub fn query_pairs(
    request: &HttpRequest,
    accepted: &[&str],
) -> Result<Vec<(String, String)>, ApiError> {
    let pairs = web::Query::<Vec<(String, String)>>::from_query(request.query_string())
        .map_err(|error| ApiError::BadQuery(error.to_string()))?
        .into_inner();
    for (index, (name, _)) in pairs.iter().enumerate() {
        if !accepted.contains(&name.as_str()) {
            return Err(ApiError::UnknownParameter {
                name: name.clone(),
                accepted: if accepted.is_empty() {
                    "（无）".to_owned()
                } else {
                    accepted.join("、")
                },
            });
        }
        if pairs[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(ApiError::RepeatedParameter(name.clone()));
        }
    }
    Ok(pairs)
}

async fn fallback(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        Err(ApiError::MethodNotAllowed(request.method().to_string()))
    } else {
        Err(ApiError::NoSuchRoute(
            request.path().chars().take(200).collect(),
        ))
    }
}
