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

use crate::web::routes::Routes;
use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::http::{Method, StatusCode};
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Serialize;

use crate::api_tokens::{self, Refusal};
use crate::web::AppState;
use crate::web::error::json_builder;
pub use crate::web::error::{ApiError, ApiRefusal};

pub fn routes(routes: &mut Routes) {
    routes
        .get("/api/v1/openapi.json", openapi::document)
        .get("/api/v1/campaigns", handlers::campaigns)
        .get("/api/v1/campaigns/{id}", handlers::campaign)
        .get("/api/v1/campaigns/{id}/results", handlers::results)
        .get("/api/v1/campaigns/{id}/rates", handlers::rates)
        .get("/api/v1/campaigns/{id}/indicators", handlers::indicators)
        .get("/api/v1/assessment", handlers::assessment)
        .get("/api/v1/schools", handlers::schools)
        .get("/api/v1/targets", handlers::targets)
        .get("/api/v1/visits", handlers::visits)
        .get("/api/v1/visits/{id}", handlers::visit)
        .get("/api/v1/rectification", handlers::rectification)
        .get("/api/v1/letters", handlers::letters)
        .get("/api/v1/letters/{id}", handlers::letter)
        // Anything else under /api answers in JSON too: 405 for a method the API does not
        // take, 404 for a path it does not have.
        .any("/api/{rest:.*}", fallback);
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
                None => return Err(ApiError::from(ApiRefusal::MissingToken)),
                Some(Err(())) => return Err(ApiError::from(ApiRefusal::InvalidToken)),
                Some(Ok(token)) => token,
            };
            match api_tokens::authenticate(&state.db, &token, Utc::now()).await? {
                Ok(token) => {
                    tracing::debug!(token = token.id, "API request");
                    Ok(ApiClient)
                }
                Err(Refusal::Unknown) => Err(ApiError::from(ApiRefusal::InvalidToken)),
                Err(Refusal::Revoked) => Err(ApiError::from(ApiRefusal::RevokedToken)),
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
        .map_err(|error| ApiRefusal::BadQuery(error.to_string()))?
        .into_inner();
    for (index, (name, _)) in pairs.iter().enumerate() {
        if !accepted.contains(&name.as_str()) {
            return Err(ApiRefusal::UnknownParameter {
                name: name.clone(),
                accepted: if accepted.is_empty() {
                    "（无）".to_owned()
                } else {
                    accepted.join("、")
                },
            }
            .into());
        }
        if pairs[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(ApiRefusal::RepeatedParameter(name.clone()).into());
        }
    }
    Ok(pairs)
}

async fn fallback(request: HttpRequest) -> Result<HttpResponse, ApiError> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        Err(ApiRefusal::MethodNotAllowed(request.method().to_string()).into())
    } else {
        Err(ApiRefusal::NoSuchRoute(request.path().chars().take(200).collect()).into())
    }
}
