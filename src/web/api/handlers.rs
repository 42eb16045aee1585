//! The API's handlers: check the token (the `ApiClient` argument), read the path and query,
//! call the same domain functions as the console pages, answer with `views`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;

use super::views::{
    AssessmentView, CampaignList, CampaignRatingView, CampaignView, CountyView, EstimateView,
    IndicatorsView, RatesView, ResultsView, SchoolList, UsedCampaignView,
};
use super::{ApiClient, ApiError, json, query_pairs};
use crate::campaigns::{self, CampaignSummary};
use crate::results::FilterFields;
use crate::results::{self, ResultsError, ResultsFilter};
use crate::schools;
use crate::survey::Audience;
use crate::web::AppState;
use crate::web::error::ApiRefusal;

fn results_fault(error: ResultsError) -> ApiError {
    match error {
        ResultsError::NotFound(id) => ApiRefusal::CampaignNotFound(id.to_string()).into(),
        ResultsError::TooFewTeachers | ResultsError::TeachersByDate => {
            ApiRefusal::Withheld(error.to_string()).into()
        }
        other => ApiError::internal(other),
    }
}

fn campaign_fault(error: campaigns::CampaignError) -> ApiError {
    match error {
        campaigns::CampaignError::NotFound(id) => {
            ApiRefusal::CampaignNotFound(id.to_string()).into()
        }
        other => ApiError::internal(other),
    }
}

/// A campaign id from the path; anything that is not one names no campaign.
fn campaign_id(path: &str) -> Result<i32, ApiError> {
    path.parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| ApiRefusal::CampaignNotFound(path.chars().take(40).collect()).into())
}

/// The campaign as the list of campaigns shows it, with its survey's id.
async fn view_of(state: &AppState, summary: CampaignSummary) -> Result<CampaignView, ApiError> {
    let survey_id = state
        .survey(summary.campaign.survey_version_id)
        .await
        .map(|survey| survey.id.clone())
        .map_err(ApiError::from)?;
    Ok(CampaignView::of(summary, survey_id, Utc::now()))
}

/// One campaign's summary, the same figures as the list of campaigns.
async fn summary_of(state: &AppState, id: i32) -> Result<CampaignSummary, ApiError> {
    campaigns::overview(&state.db)
        .await?
        .into_iter()
        .find(|summary| summary.campaign.id == id)
        .ok_or_else(|| ApiRefusal::CampaignNotFound(id.to_string()).into())
}

pub async fn campaigns(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let mut campaigns = Vec::new();
    for summary in campaigns::overview(&state.db).await? {
        campaigns.push(view_of(&state, summary).await?);
    }
    json(&CampaignList { campaigns })
}

pub async fn campaign(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let id = campaign_id(&id)?;
    let summary = summary_of(&state, id).await?;
    json(&view_of(&state, summary).await?)
}

pub async fn results(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&request, &FilterFields::NAMES)?;
    let id = campaign_id(&id)?;
    let filter = FilterFields::from_pairs(&pairs)
        .parse()
        .map_err(|error| ApiRefusal::BadFilter(error.to_string()))?;
    let summary = summary_of(&state, id).await?;
    let found = results::campaign_results(&state.db, &state.plan, id, &filter)
        .await
        .map_err(results_fault)?;
    if let Some(school) = filter.school
        && !found.schools.iter().any(|known| known.id == school)
    {
        return Err(ApiRefusal::SchoolNotInCampaign {
            campaign: id,
            school,
        }
        .into());
    }
    let weighting = state.plan.rules.county_weighting;
    let view = ResultsView {
        campaign: view_of(&state, summary).await?,
        filter: (&filter).into(),
        schools_counted: found.schools_counted,
        responses: found.results.responses,
        population: found.results.population,
        minimum: found.results.minimum,
        needed: found.results.needed,
        overall: found
            .results
            .overall
            .map(|overall| EstimateView::of(overall, found.results.overall_interval)),
        areas: found.results.areas.into_iter().map(Into::into).collect(),
        sections: found.results.sections.into_iter().map(Into::into).collect(),
        rating: CampaignRatingView::of(found.rating, weighting),
        numbers: found
            .numbers
            .map(|numbers| numbers.into_iter().map(Into::into).collect()),
        left_out: (&found.left_out).into(),
    };
    json(&view)
}

pub async fn rates(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let id = campaign_id(&id)?;
    let summary = summary_of(&state, id).await?;
    let rates = campaigns::rates(&state.db, id)
        .await
        .map_err(campaign_fault)?;
    let townships = campaigns::roll_up_by_township(&rates);
    let county = campaigns::county_total(&rates);
    json(&RatesView {
        campaign: view_of(&state, summary).await?,
        schools: rates.into_iter().map(Into::into).collect(),
        townships: townships.into_iter().map(Into::into).collect(),
        county: county.into(),
    })
}

pub async fn indicators(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let id = campaign_id(&id)?;
    let summary = summary_of(&state, id).await?;
    if summary.audience != Some(Audience::School) {
        return Err(ApiRefusal::NotASelfCheck(id).into());
    }
    let found = results::campaign_results(&state.db, &state.plan, id, &ResultsFilter::default())
        .await
        .map_err(results_fault)?;
    let table = found
        .indicators
        .ok_or(ApiError::from(ApiRefusal::NotASelfCheck(id)))?;
    json(&IndicatorsView::of(
        view_of(&state, summary).await?,
        table,
        found.numbers.unwrap_or_default(),
    ))
}

pub async fn assessment(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let found = results::assessment(&state.db, &state.plan)
        .await
        .map_err(results_fault)?;
    let weighting = state.plan.rules.county_weighting;
    json(&AssessmentView {
        campaigns: found
            .campaigns
            .into_iter()
            .map(|used| UsedCampaignView {
                id: used.id,
                name: used.name,
                source: used.source.slug(),
                survey_title: used.survey_title,
                left_out: (&used.left_out).into(),
            })
            .collect(),
        county: CountyView::of(&found.table.county, weighting),
        schools: found.table.schools.into_iter().map(Into::into).collect(),
    })
}

pub async fn schools(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let schools = schools::list(&state.db).await?;
    json(&SchoolList {
        schools: schools.into_iter().map(Into::into).collect(),
    })
}

/// The county's targets (`surveys/targets.toml`) from the latest self-check campaign.
pub async fn targets(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let found = results::targets::county_targets(&state.db, &state.plan)
        .await
        .map_err(results_fault)?;
    json(&super::views::TargetsView::from(found))
}

/// The visits to schools, latest first; `school` (a school's code) narrows them to one school.
pub async fn visits(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&request, &["school"])?;
    let mut filter = crate::visits::VisitFilter::default();
    if let Some((_, code)) = pairs.iter().find(|(name, _)| name == "school") {
        let school = schools::list(&state.db)
            .await?
            .into_iter()
            .find(|school| school.code == code.trim())
            .ok_or_else(|| ApiRefusal::BadFilter(format!("没有代码为 {code} 的学校。")))?;
        filter.school = Some(school.id);
    }
    let rows = crate::visits::list(&state.db, &filter).await?;
    json(&super::views::VisitList {
        visits: rows.into_iter().map(Into::into).collect(),
    })
}

/// One visit with its checklist answers, findings and photo links.
pub async fn visit(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let not_found = || ApiRefusal::VisitNotFound(id.chars().take(40).collect());
    let visit_id = id
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(not_found)?;
    let record = crate::visits::find(&state.db, &state.plan, visit_id, None)
        .await?
        .ok_or_else(not_found)?;
    json(&super::views::VisitView::from(record))
}

/// Rectification items (整改), earliest deadline first; `school` (id), `status` and `overdue`
/// (`yes`/`no`) narrow them.
pub async fn rectification(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let pairs = query_pairs(&request, &["school", "status", "overdue"])?;
    let field = |name: &str| {
        pairs
            .iter()
            .find(|(given, _)| given == name)
            .map_or("", |(_, value)| value.trim())
    };
    let school = match field("school") {
        "" => None,
        text => Some(
            text.parse::<i32>()
                .map_err(|_| ApiRefusal::BadFilter(format!("学校“{text}”不是有效的学校编号。")))?,
        ),
    };
    let status = match field("status") {
        "" => None,
        text => Some(crate::rectification::Status::parse(text).ok_or_else(|| {
            ApiRefusal::BadFilter(format!(
                "没有“{text}”这种整改状态（open、reported、accepted、returned）。"
            ))
        })?),
    };
    let overdue = match field("overdue") {
        "" | "no" => false,
        "yes" => true,
        other => {
            return Err(ApiRefusal::BadFilter(format!(
                "overdue 只能是 yes 或 no，而不是“{other}”。"
            ))
            .into());
        }
    };
    let today = crate::rectification::today();
    let filter = crate::rectification::ListFilter {
        school,
        status,
        overdue,
    };
    let rows = crate::rectification::list(&state.db, None, &filter, today).await?;
    json(&super::views::RectificationList {
        today: today.to_string(),
        items: rows.into_iter().map(Into::into).collect(),
    })
}

/// Every issued 督导意见书 (every version), newest number first.
pub async fn letters(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let lines = crate::letters::list(&state.db, crate::letters::Scope::All)
        .await
        .map_err(ApiError::internal)?;
    json(&super::views::LetterList {
        letters: lines.into_iter().map(Into::into).collect(),
    })
}

/// One issued letter: its frozen snapshot, exactly as issued.
pub async fn letter(
    _client: ApiClient,
    state: web::Data<AppState>,
    request: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    query_pairs(&request, &[])?;
    let not_found = || ApiError::from(ApiRefusal::LetterNotFound(path.chars().take(40).collect()));
    let id = path
        .parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(not_found)?;
    match crate::letters::find(&state.db, crate::letters::Scope::All, id).await {
        Ok(issued) => json(&issued.content),
        Err(crate::letters::LetterError::NotFound) => Err(not_found()),
        Err(error) => Err(ApiError::internal(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::error::Failure;

    #[test]
    fn only_positive_numbers_name_a_campaign() {
        assert_eq!(campaign_id("12").ok(), Some(12));
        for bad in ["0", "-3", "abc", "1.5", "", "99999999999"] {
            assert!(
                matches!(
                    campaign_id(bad).map_err(|error| error.failure),
                    Err(Failure::Api(ApiRefusal::CampaignNotFound(_)))
                ),
                "{bad}"
            );
        }
    }
}
