//! 督导意见书 and 通报 in the console. Supervisors: a round's letters
//! (`/console/campaigns/{id}/letters`), one school's draft (`…/letters/{code}`), issuing and
//! reissuing it (POST there), mailing an issued letter (`/console/letters/{id}/mail`), and the
//! round's circular (`/console/campaigns/{id}/circular`, `.csv`, `.xlsx`). An issued letter
//! (`/console/letters/{id}`) is shown from its frozen snapshot to supervisors, admins and the
//! viewers of its school (anyone else: 404, as if it did not exist); a school viewer's letters
//! are at `/console/my-school/letters`.
//!
//! Handlers only parse, call `letters` and render.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::guards::{ButtonOnly, CampaignPath, CsrfForm, Staff, Supervisor};
use super::{ConsoleError, download_disposition, see_other};
use crate::change::Actor;
use crate::letters::circular::{self, Circular, CircularRow};
use crate::letters::{self, LetterContent, LetterError, LetterLine, RoundSchool, Scope};
use crate::web::AppState;
use crate::web::routes::Routes;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/campaigns/{id}/letters", round)
        .get("/console/campaigns/{id}/letters/{code}", draft)
        .post("/console/campaigns/{id}/letters/{code}", issue)
        .get("/console/campaigns/{id}/circular", circular_page)
        .get("/console/campaigns/{id}/circular.csv", circular_csv)
        .get("/console/campaigns/{id}/circular.xlsx", circular_xlsx)
        .get("/console/letters/{id}", show)
        .post("/console/letters/{id}/mail", mail)
        .get("/console/my-school/letters", my_school);
}

fn fault(error: LetterError) -> ConsoleError {
    match error {
        LetterError::NotFound | LetterError::SchoolNotInRound => ConsoleError::not_found(),
        LetterError::NoRecipients => {
            ConsoleError::refused(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
        }
        LetterError::Results(error) => super::results::fault(error),
        LetterError::Campaign(crate::campaigns::CampaignError::NotFound(_)) => {
            ConsoleError::not_found()
        }
        other => ConsoleError::internal(other),
    }
}

#[derive(Serialize)]
struct RoundView {
    campaign_id: i32,
    campaign_name: String,
    schools: Vec<RoundSchool>,
    total: usize,
    issued: usize,
}

async fn round(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    campaign: CampaignPath,
) -> Result<HttpResponse, ConsoleError> {
    let schools = letters::round_letters(&state.db, campaign.id)
        .await
        .map_err(fault)?;
    let issued = schools
        .iter()
        .filter(|school| school.latest.is_some())
        .count();
    staff.render(
        &state,
        "console/letters/round",
        &format!("{} · 督导意见书", campaign.name),
        "campaigns",
        RoundView {
            campaign_id: campaign.id,
            campaign_name: campaign.name.clone(),
            total: schools.len(),
            schools,
            issued,
        },
    )
}

/// A letter as its page shows it: the content (a draft's or a frozen one's) and what the viewer
/// may do with it.
#[derive(Serialize)]
struct LetterView {
    letter: LetterContent,
    draft: bool,
    revised: bool,
    letter_id: Option<i32>,
    /// For a draft: where to issue it, and whether it was issued before (a reissue).
    issue_action: String,
    issued_before: Option<LetterLine>,
    /// For a draft: why it cannot be issued yet (a teachers' campaign still taking answers).
    held: Option<String>,
    /// Supervisors may mail an issued letter.
    can_mail: bool,
    mail_configured: bool,
    addresses: String,
    error: Option<String>,
    notice: Option<String>,
    back: String,
}

/// A school of a round by its code (the round's id is read by [`CampaignPath`]).
#[derive(Deserialize)]
pub struct DraftPath {
    code: String,
}

async fn school_of_round(
    state: &AppState,
    campaign_id: i32,
    code: &str,
) -> Result<RoundSchool, ConsoleError> {
    letters::round_letters(&state.db, campaign_id)
        .await
        .map_err(fault)?
        .into_iter()
        .find(|school| school.code == code)
        .ok_or_else(ConsoleError::not_found)
}

async fn draft(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    campaign: CampaignPath,
    path: web::Path<DraftPath>,
) -> Result<HttpResponse, ConsoleError> {
    render_draft(&state, &staff, None, campaign.id, &path.code).await
}

/// A school's draft letter of round `campaign_id`, with its issue button or why it cannot be
/// issued yet; with `refused`, the reason an issue was just refused (409), as it was given.
async fn render_draft(
    state: &AppState,
    staff: &Staff,
    refused: Option<LetterError>,
    campaign_id: i32,
    code: &str,
) -> Result<HttpResponse, ConsoleError> {
    let school = school_of_round(state, campaign_id, code).await?;
    let draft = letters::draft(&state.db, &state.plan, school.school_id, campaign_id)
        .await
        .map_err(fault)?;
    let status = match refused {
        Some(_) => StatusCode::CONFLICT,
        None => StatusCode::OK,
    };
    let held = refused.or(draft.held).map(|why| why.to_string());
    staff.render_with_status(
        state,
        status,
        "console/letters/letter",
        &format!("{} · 督导意见书（草稿）", school.name),
        "campaigns",
        LetterView {
            letter: draft.content,
            draft: true,
            revised: false,
            letter_id: None,
            issue_action: format!("/console/campaigns/{campaign_id}/letters/{code}"),
            issued_before: school.latest,
            held,
            can_mail: false,
            mail_configured: state.mailer.is_configured(),
            addresses: String::new(),
            error: None,
            notice: None,
            back: format!("/console/campaigns/{campaign_id}/letters"),
        },
    )
}

async fn issue(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    campaign: CampaignPath,
    path: web::Path<DraftPath>,
    _form: CsrfForm<ButtonOnly>,
) -> Result<HttpResponse, ConsoleError> {
    let school = school_of_round(&state, campaign.id, &path.code).await?;
    let issued = match letters::issue(
        &state.context,
        Actor::Account(&staff.account),
        &state.plan,
        school.school_id,
        campaign.id,
    )
    .await
    {
        Ok(issued) => issued,
        Err(
            refused @ (LetterError::TeachersStillAnswering(_)
            | LetterError::TeachersChangedSinceLetter { .. }),
        ) => {
            return render_draft(&state, &staff, Some(refused), campaign.id, &path.code).await;
        }
        Err(error) => return Err(fault(error)),
    };
    Ok(see_other(&format!(
        "/console/letters/{}?issued=1",
        issued.id
    )))
}

#[derive(Deserialize)]
pub struct ShowQuery {
    #[serde(default)]
    issued: String,
    #[serde(default)]
    mailed: String,
}

fn sender_name(staff: &Staff) -> String {
    if staff.account.display_name.trim().is_empty() {
        staff.account.email.clone()
    } else {
        staff.account.display_name.clone()
    }
}

async fn render_issued(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    id: i32,
    addresses: String,
    error: Option<String>,
    notice: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let issued = letters::find(&state.db, Scope::of(&staff.account), id)
        .await
        .map_err(fault)?;
    let supervisor = staff.is_supervisor();
    let title = format!(
        "{} · 督导意见书 {}",
        issued.content.school.name, issued.content.number_text
    );
    staff.render_with_status(
        state,
        status,
        "console/letters/letter",
        &title,
        if supervisor { "campaigns" } else { "letters" },
        LetterView {
            revised: issued.content.version > 1,
            letter: issued.content,
            draft: false,
            letter_id: Some(id),
            issue_action: String::new(),
            issued_before: None,
            held: None,
            can_mail: supervisor,
            mail_configured: state.mailer.is_configured(),
            addresses,
            error,
            notice,
            back: if supervisor {
                format!("/console/campaigns/{}/letters", issued.row.campaign_id)
            } else {
                "/console/my-school/letters".to_owned()
            },
        },
    )
}

async fn show(
    state: web::Data<AppState>,
    staff: Staff,
    id: web::Path<String>,
    query: web::Query<ShowQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let id = letter_id(&id)?;
    let notice = if !query.issued.is_empty() {
        Some("督导意见书已出具，内容已固定；之后的答卷、问题或整改变化不会改变它。".to_owned())
    } else if let Ok(count) = query.mailed.parse::<usize>() {
        Some(format!(
            "督导意见书已放入发件箱，共 {count} 封，将依次发送。"
        ))
    } else {
        None
    };
    render_issued(
        &state,
        &staff,
        StatusCode::OK,
        id,
        String::new(),
        None,
        notice,
    )
    .await
}

fn letter_id(text: &str) -> Result<i32, ConsoleError> {
    text.parse::<i32>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(ConsoleError::not_found)
}

#[derive(Deserialize)]
pub struct MailForm {
    #[serde(default)]
    addresses: String,
}

async fn mail(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<String>,
    form: CsrfForm<MailForm>,
) -> Result<HttpResponse, ConsoleError> {
    let id = letter_id(&id)?;
    let form = form.into_inner();
    let extra = if form.addresses.trim().is_empty() {
        Vec::new()
    } else {
        match crate::mail::smtp::parse_address_list(&form.addresses, 20) {
            Ok(addresses) => addresses,
            Err(message) => {
                return render_issued(
                    &state,
                    &staff,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    id,
                    form.addresses,
                    Some(format!("收件地址：{message}")),
                    None,
                )
                .await;
            }
        }
    };
    match letters::mail(
        &state.context,
        Actor::Account(&staff.account),
        id,
        &extra,
        &sender_name(&staff),
    )
    .await
    {
        Ok(sent) => Ok(see_other(&format!(
            "/console/letters/{id}?mailed={}",
            sent.len()
        ))),
        Err(LetterError::NoRecipients) => {
            render_issued(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                id,
                form.addresses,
                Some(format!("收件地址：{}", LetterError::NoRecipients)),
                None,
            )
            .await
        }
        Err(error) => Err(fault(error)),
    }
}

#[derive(Serialize)]
struct MySchoolView {
    letters: Vec<LetterLine>,
}

async fn my_school(state: web::Data<AppState>, staff: Staff) -> Result<HttpResponse, ConsoleError> {
    let letters = letters::list(&state.db, Scope::of(&staff.account))
        .await
        .map_err(fault)?;
    staff.render(
        &state,
        "console/letters/mine",
        "督导意见书",
        "letters",
        MySchoolView { letters },
    )
}

#[derive(Serialize)]
struct CircularView<'a> {
    circular: &'a Circular,
    unmet: Vec<&'a CircularRow>,
    overdue: Vec<&'a CircularRow>,
    accountable: Vec<&'a CircularRow>,
}

async fn circular_of(state: &AppState, campaign_id: i32) -> Result<Circular, ConsoleError> {
    circular::circular(&state.db, &state.plan, campaign_id)
        .await
        .map_err(fault)
}

async fn circular_page(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    campaign: CampaignPath,
) -> Result<HttpResponse, ConsoleError> {
    let found = circular_of(&state, campaign.id).await?;
    staff.render(
        &state,
        "console/letters/circular",
        &found.title,
        "campaigns",
        CircularView {
            unmet: found.unmet_schools(),
            overdue: found.overdue_schools(),
            accountable: found.accountable_schools(),
            circular: &found,
        },
    )
}

async fn circular_csv(
    state: web::Data<AppState>,
    Supervisor(_staff): Supervisor,
    campaign: CampaignPath,
) -> Result<HttpResponse, ConsoleError> {
    let found = circular_of(&state, campaign.id).await?;
    let bytes = circular::csv(&found).map_err(ConsoleError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(download_disposition(
            &format!("{}-通报", campaign.name),
            &format!("campaign-{}-circular", campaign.id),
            "csv",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}

async fn circular_xlsx(
    state: web::Data<AppState>,
    Supervisor(_staff): Supervisor,
    campaign: CampaignPath,
) -> Result<HttpResponse, ConsoleError> {
    let found = circular_of(&state, campaign.id).await?;
    let bytes = web::block(move || circular::xlsx(&found))
        .await
        .map_err(ConsoleError::internal)?
        .map_err(ConsoleError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        .insert_header(download_disposition(
            &format!("{}-通报", campaign.name),
            &format!("campaign-{}-circular", campaign.id),
            "xlsx",
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes))
}
