//! Photos of visits and progress reports (`/console/photos/{token}`, `…/thumb`): the image by
//! its unguessable token, to a supervisor or admin, or to the school viewer of the photo's
//! school. Anyone else — another school's viewer holding a copied address — gets 404, as for a
//! token that names nothing, so a token cannot be probed.

use actix_web::http::header;
use actix_web::{HttpResponse, web};

use super::{ConsoleError, Staff};
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/photos/{token}", full)
        .get("/console/photos/{token}/thumb", thumbnail);
}

async fn full(
    state: web::Data<AppState>,
    staff: Staff,
    token: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    served(&state, &staff, &token, false).await
}

async fn thumbnail(
    state: web::Data<AppState>,
    staff: Staff,
    token: web::Path<String>,
) -> Result<HttpResponse, ConsoleError> {
    served(&state, &staff, &token, true).await
}

async fn served(
    state: &AppState,
    staff: &Staff,
    token: &str,
    thumbnail: bool,
) -> Result<HttpResponse, ConsoleError> {
    let (school_id, bytes) = crate::photos::image(&state.db, token, thumbnail)
        .await?
        .ok_or_else(ConsoleError::not_found)?;
    if !staff.is_supervisor() && staff.account.school_id != Some(school_id) {
        return Err(ConsoleError::not_found());
    }
    Ok(HttpResponse::Ok()
        .content_type("image/jpeg")
        // The token never names another image: a browser may keep it, but only for this user.
        .insert_header((header::CACHE_CONTROL, "private, max-age=86400, immutable"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(bytes))
}
