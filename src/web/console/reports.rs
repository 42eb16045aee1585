//! Charts and reports in the console: the chart downloads of a campaign's results page
//! (`/console/campaigns/{id}/charts/{chart}.svg` and `.png`, the same ids and filter as the
//! page), the county report (`/console/reports/county`) and a school's report
//! (`/console/reports/schools/{id}`), both print-ready on A4. Supervisors and admins only.
//!
//! The figures and charts come from `reports` and `charts`; this module turns them into views.
//! The SVGs put into pages are the ones `charts` drew, whose text plotters escapes.

use crate::web::routes::Routes;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::Serialize;

use super::guards::Supervisor;
use super::{ConsoleError, download_disposition};
use crate::charts::Chart;
use crate::reports::{self, ReportError};
use crate::results::{self, CampaignResults, FilterFields, ResultsFilter};
use crate::web::AppState;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/campaigns/{id}/charts/{chart}.svg", chart_svg)
        .get("/console/campaigns/{id}/charts/{chart}.png", chart_png)
        .get("/console/reports/county", county)
        .get("/console/reports/schools/{id}", school);
}

/// A chart as a page shows it: the SVG and its downloads.
#[derive(Serialize)]
pub struct ChartView {
    pub id: String,
    pub title: String,
    /// Drawn by `charts`: every text in it escaped; put into the page with `{{{svg}}}`.
    pub svg: String,
    pub svg_url: String,
    pub png_url: String,
}

/// The views of `charts`; a chart that fails to draw is left out (and logged), never the page.
pub(super) fn chart_views(charts: &[Chart], base: Option<&str>, query: &str) -> Vec<ChartView> {
    charts
        .iter()
        .filter_map(|chart| match chart.svg() {
            Ok(svg) => Some(ChartView {
                svg_url: base.map_or_else(String::new, |base| {
                    format!("{base}/{}.svg{query}", chart.id)
                }),
                png_url: base.map_or_else(String::new, |base| {
                    format!("{base}/{}.png{query}", chart.id)
                }),
                id: chart.id.clone(),
                title: chart.title.clone(),
                svg,
            }),
            Err(error) => {
                tracing::warn!(chart = %chart.id, %error, "chart not drawn");
                None
            }
        })
        .collect()
}

/// The charts section of a campaign's results page (`templates/console/results/show.hbs`).
pub async fn results_charts(
    state: &AppState,
    found: &CampaignResults,
    filter: &ResultsFilter,
) -> Result<Vec<ChartView>, ConsoleError> {
    // The tables of the page stand on their own: a failing chart query leaves the charts out.
    let charts =
        match reports::campaign::campaign_charts(&state.db, &state.plan, found, filter).await {
            Ok(charts) => charts,
            Err(error) => {
                tracing::warn!(campaign = found.campaign.id, %error, "charts not drawn");
                return Ok(Vec::new());
            }
        };
    let base = format!("/console/campaigns/{}/charts", found.campaign.id);
    Ok(chart_views(&charts, Some(&base), &filter.query_string()))
}

async fn find_chart(
    state: &AppState,
    path: (i32, String),
    query: &FilterFields,
) -> Result<(CampaignResults, Chart), ConsoleError> {
    let (id, chart_id) = path;
    let filter = query
        .parse()
        .map_err(|error| ConsoleError::bad_request(error.to_string()))?;
    let found = results::campaign_results(&state.db, &state.plan, id, &filter)
        .await
        .map_err(super::results::fault)?;
    let chart = reports::campaign::campaign_charts(&state.db, &state.plan, &found, &filter)
        .await?
        .into_iter()
        .find(|chart| chart.id == chart_id)
        .ok_or(ConsoleError::not_found())?;
    Ok((found, chart))
}

fn disposition(
    found: &CampaignResults,
    chart: &Chart,
    extension: &str,
) -> header::ContentDisposition {
    download_disposition(
        &format!("{}-{}", found.campaign.name, chart.title),
        &format!("campaign-{}-{}", found.campaign.id, chart.id),
        extension,
    )
}

async fn chart_svg(
    state: web::Data<AppState>,
    _staff: Supervisor,
    path: web::Path<(i32, String)>,
    query: web::Query<FilterFields>,
) -> Result<HttpResponse, ConsoleError> {
    let (found, chart) = find_chart(&state, path.into_inner(), &query).await?;
    let svg = chart.svg().map_err(ConsoleError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml; charset=utf-8")
        .insert_header(disposition(&found, &chart, "svg"))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .body(format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n{svg}")))
}

async fn chart_png(
    state: web::Data<AppState>,
    _staff: Supervisor,
    path: web::Path<(i32, String)>,
    query: web::Query<FilterFields>,
) -> Result<HttpResponse, ConsoleError> {
    let (found, chart) = find_chart(&state, path.into_inner(), &query).await?;
    let png = chart.png().map_err(ConsoleError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(disposition(&found, &chart, "png"))
        .body(png))
}

fn report_fault(error: ReportError) -> ConsoleError {
    match error {
        ReportError::NotFound => ConsoleError::not_found(),
        ReportError::Results(error) => super::results::fault(error),
        ReportError::Db(error) => ConsoleError::internal(error),
    }
}

/// When the report was made, China time.
fn made_at() -> String {
    chrono::Utc::now()
        .with_timezone(&crate::campaigns::china_offset())
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[derive(Serialize)]
struct CountyView {
    made_at: String,
    weighting: &'static str,
    rating: crate::results::wording::RatingText,
    sources: Vec<reports::SourceLine>,
    schools: Vec<reports::SchoolLine>,
    indicators: Option<Vec<crate::results::self_checks::IndicatorRollUp>>,
    indicators_submitted: usize,
    targets: Vec<crate::results::targets::TargetLine>,
    targets_campaign: Option<crate::results::targets::TargetsCampaign>,
    key_charts: Vec<ChartView>,
    distributions: Vec<ChartView>,
}

async fn county(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
) -> Result<HttpResponse, ConsoleError> {
    let report = reports::county(&state.db, &state.plan)
        .await
        .map_err(report_fault)?;
    let view = CountyView {
        made_at: made_at(),
        weighting: report.weighting,
        rating: report.rating,
        sources: report.sources,
        schools: report.schools,
        indicators: report.indicators,
        indicators_submitted: report.indicators_submitted,
        targets: report.targets,
        targets_campaign: report.targets_campaign,
        key_charts: chart_views(&report.key_charts, None, ""),
        distributions: chart_views(&report.distributions, None, ""),
    };
    staff.render(
        &state,
        "console/reports/county",
        &report.title,
        "reports",
        view,
    )
}

#[derive(Serialize)]
struct SchoolView {
    made_at: String,
    school: reports::SchoolHead,
    rating: crate::results::wording::RatingText,
    sources: Vec<reports::SourceLine>,
    indicators: Option<crate::results::self_checks::SchoolIndicators>,
    key_charts: Vec<ChartView>,
    distributions: Vec<ChartView>,
    notes: Vec<String>,
}

async fn school(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
) -> Result<HttpResponse, ConsoleError> {
    let report = reports::school(&state.db, &state.plan, *id)
        .await
        .map_err(report_fault)?;
    let view = SchoolView {
        made_at: made_at(),
        school: report.school,
        rating: report.rating,
        sources: report.sources,
        indicators: report.indicators,
        key_charts: chart_views(&report.key_charts, None, ""),
        distributions: chart_views(&report.distributions, None, ""),
        notes: report.notes,
    };
    staff.render(
        &state,
        "console/reports/school",
        &report.title,
        "reports",
        view,
    )
}
