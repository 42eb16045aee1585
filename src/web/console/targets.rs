//! The county's targets (`/console/targets`): each target of `surveys/targets.toml` with its
//! progress bar, the plan's basis, achieved against target, and the schools meeting it, not
//! meeting it and not reported. Supervisors and admins only. The figures come from
//! `results::targets`; this module only renders them.

use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::ConsoleError;
use super::guards::Supervisor;
use crate::results::targets::{TargetLine, TargetsCampaign, county_targets, target_lines};
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes(routes: &mut Routes) {
    routes.get("/console/targets", index);
}

#[derive(Serialize)]
struct TargetsView {
    campaign: Option<TargetsCampaign>,
    targets: Vec<TargetLine>,
}

async fn index(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
) -> Result<HttpResponse, ConsoleError> {
    let found = county_targets(&state.db, &state.plan)
        .await
        .map_err(super::results::fault)?;
    let view = TargetsView {
        targets: target_lines(&found),
        campaign: found.campaign,
    };
    staff.render(&state, "console/targets/index", "县级目标", "targets", view)
}
