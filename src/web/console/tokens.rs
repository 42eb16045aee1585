//! API tokens (`/console/tokens`): admins only. The list of tokens with who issued them and when
//! each was last used, the form that issues one (shown once, with how to use it), and revoking.
//!
//! Handlers only parse, call `api` (which writes the audit log) and render.

use crate::web::routes::Routes;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::guards::{Admin, ButtonOnly, CsrfForm, Staff};
use super::{ConsoleError, see_other};
use crate::api_tokens::{self, NAME_MAX_CHARS, TokenError, TokenState};
use crate::campaigns::display_time;
use crate::web::AppState;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/tokens", list_page)
        .post("/console/tokens", issue)
        .post("/console/tokens/{id}/revoke", revoke);
}

#[derive(Serialize)]
struct TokenRow {
    id: i32,
    name: String,
    issued_by: String,
    issued: String,
    last_used: String,
    state: &'static str,
    revoked: bool,
    revoked_at: String,
}

#[derive(Serialize)]
struct TokensView {
    tokens: Vec<TokenRow>,
    name: String,
    name_max: usize,
    error: Option<String>,
    notice: Option<String>,
}

async fn render_list(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    name: String,
    error: Option<String>,
    notice: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let tokens = api_tokens::list(&state.db)
        .await?
        .into_iter()
        .map(|listing| TokenRow {
            id: listing.token.id,
            issued_by: listing.issued_by,
            issued: display_time(listing.token.created_at),
            last_used: listing
                .token
                .last_used_at
                .map(display_time)
                .unwrap_or_default(),
            state: listing.state.label(),
            revoked: listing.state == TokenState::Revoked,
            revoked_at: listing
                .token
                .revoked_at
                .map(display_time)
                .unwrap_or_default(),
            name: listing.token.name,
        })
        .collect();
    staff.render_with_status(
        state,
        status,
        "console/tokens/list",
        "API 令牌",
        "tokens",
        TokensView {
            tokens,
            name,
            name_max: NAME_MAX_CHARS,
            error,
            notice,
        },
    )
}

#[derive(Deserialize)]
pub struct ListQuery {
    #[serde(default)]
    revoked: String,
}

async fn list_page(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let notice = match query.revoked.parse::<i32>() {
        Ok(id) => api_tokens::find(&state.db, id)
            .await?
            .map(|token| format!("已吊销令牌“{}”，使用它的请求从现在起会被拒绝。", token.name)),
        Err(_) => None,
    };
    render_list(&state, &staff, StatusCode::OK, String::new(), None, notice).await
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    name: String,
}

#[derive(Serialize)]
struct IssuedView {
    name: String,
    token: String,
    example_url: String,
    openapi_url: String,
}

async fn issue(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    form: CsrfForm<IssueForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    match api_tokens::issue(&state.context, &staff.account, &form.name).await {
        Ok(issued) => {
            let base = state.base_url.trim_end_matches('/');
            staff.render(
                &state,
                "console/tokens/issued",
                "令牌已签发",
                "tokens",
                IssuedView {
                    name: issued.row.name,
                    token: issued.token,
                    example_url: format!("{base}/api/v1/campaigns"),
                    openapi_url: format!("{base}/api/v1/openapi.json"),
                },
            )
        }
        Err(TokenError::Db(error)) => Err(error.into()),
        Err(refusal) => {
            render_list(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                form.name,
                Some(refusal.to_string()),
                None,
            )
            .await
        }
    }
}

async fn revoke(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    id: web::Path<i32>,
    _form: CsrfForm<ButtonOnly>,
) -> Result<HttpResponse, ConsoleError> {
    match api_tokens::revoke(&state.context, &staff.account, id.into_inner()).await {
        Ok((token, _)) => Ok(see_other(&format!("/console/tokens?revoked={}", token.id))),
        Err(TokenError::NotFound) => Err(ConsoleError::not_found()),
        Err(error) => Err(ConsoleError::internal(error)),
    }
}
