//! A teachers' campaign's invitations in the console: invite every roster teacher, see each
//! invitation's status (queued, sent, failed with the SMTP reason, answered) with filters,
//! sorting and pages, remind those who have not answered, resend a failed one. Supervisors and
//! admins only. The page shows statuses, never anything about answers: see `crate::invitations`.

use crate::web::routes::Routes;
use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use chrono::Utc;
use entity::campaign;
use serde::{Deserialize, Serialize};

use super::Choice;
use super::guards::{ButtonOnly, CampaignPath, CsrfForm, Staff, Supervisor};
use super::{ConsoleError, percent_encode, see_other};
use crate::campaigns::{self};
use crate::change::Actor;
use crate::invitations::{
    self, DEFAULT_REMINDER_DAYS, InviteError, ListQuery, REMINDER_DAYS, SortKey, Status,
};
use crate::survey::Audience;
use crate::web::AppState;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/campaigns/{id}/invitations", page)
        .post("/console/campaigns/{id}/invitations/send", send)
        .post("/console/campaigns/{id}/invitations/remind", remind)
        .post("/console/campaigns/{id}/invitations/resend", resend)
        .post("/console/campaigns/{id}/invitations/approve", approve);
}

/// The list's query string. Anything unrecognised reads as "any" or the default.
#[derive(Deserialize, Default)]
pub struct PageParams {
    school: Option<String>,
    status: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
    /// Set by the redirects after an action, to say what it did.
    invited: Option<usize>,
    already: Option<usize>,
    no_roster: Option<usize>,
    reminded: Option<usize>,
    too_soon: Option<usize>,
    still_queued: Option<usize>,
    failed: Option<usize>,
    days: Option<i64>,
    resent: Option<String>,
    waiting: Option<usize>,
    approved: Option<usize>,
}

impl PageParams {
    fn query(&self) -> ListQuery {
        ListQuery {
            school_id: self.school.as_deref().and_then(|id| id.parse().ok()),
            status: self.status.as_deref().and_then(Status::parse),
            sort: self
                .sort
                .as_deref()
                .and_then(SortKey::parse)
                .unwrap_or_default(),
            descending: self.dir.as_deref() == Some("desc"),
            page: self
                .page
                .as_deref()
                .and_then(|page| page.parse().ok())
                .unwrap_or(1),
        }
    }

    /// What the last action did, in words.
    fn notice(&self) -> Option<String> {
        if let Some(invited) = self.invited {
            let mut text = format!("已邀请 {invited} 位教师，邀请邮件正在发送。");
            if let Some(already) = self.already.filter(|n| *n > 0) {
                text.push_str(&format!("另有 {already} 位此前已邀请，没有重复发送。"));
            }
            if let Some(schools) = self.no_roster.filter(|n| *n > 0) {
                text.push_str(&format!(
                    "有 {schools} 所学校的教师名单是空的，请先上传这些学校的名单。"
                ));
            }
            if let Some(waiting) = self.waiting.filter(|n| *n > 0) {
                text.push_str(&format!(
                    "{waiting} 位是学校自行添加、尚未经督导批准的，待您核对批准后才会邀请（见下方“待批准”）。"
                ));
            }
            return Some(text);
        }
        if let Some(approved) = self.approved {
            return Some(format!(
                "已批准 {approved} 位学校添加的教师。再点“邀请教师”即向他们发送邀请。"
            ));
        }
        if let Some(reminded) = self.reminded {
            let days = self.days.unwrap_or(DEFAULT_REMINDER_DAYS);
            let mut text = format!("已向 {reminded} 位未作答的教师发送提醒。");
            if let Some(too_soon) = self.too_soon.filter(|n| *n > 0) {
                text.push_str(&format!(
                    "{too_soon} 位在 {days} 天内已收到过邮件，这次跳过。"
                ));
            }
            if let Some(queued) = self.still_queued.filter(|n| *n > 0) {
                text.push_str(&format!("{queued} 位的邮件还在发送队列中，这次跳过。"));
            }
            if let Some(failed) = self.failed.filter(|n| *n > 0) {
                text.push_str(&format!(
                    "{failed} 位的邮件发送失败，请核对邮箱后点“重新发送”。"
                ));
            }
            return Some(text);
        }
        self.resent
            .as_ref()
            .map(|who| format!("已重新发送邀请：{who}"))
    }
}

#[derive(Serialize)]
struct Header {
    label: &'static str,
    href: String,
    arrow: &'static str,
}

#[derive(Serialize)]
struct Pager {
    page: usize,
    pages: usize,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Serialize)]
struct CampaignHead {
    id: i32,
    name: String,
    survey_title: String,
    audience: &'static str,
    state: &'static str,
    state_class: &'static str,
    closes: String,
}

#[derive(Serialize)]
struct PageView {
    campaign: CampaignHead,
    for_teachers: bool,
    notice: Option<String>,
    error: Option<String>,
    counts: invitations::StatusCounts,
    /// Roster teachers of the campaign's schools not invited yet.
    not_yet_invited: usize,
    schools: Vec<Choice>,
    statuses: Vec<Choice>,
    sort: &'static str,
    dir: &'static str,
    filtered: bool,
    headers: Vec<Header>,
    rows: Vec<invitations::InvitationRow>,
    matching: usize,
    pager: Option<Pager>,
    days: i64,
    min_days: i64,
    max_days: i64,
    /// Teachers a school added after the campaign started, waiting for approval.
    waiting: Vec<WaitingTeacher>,
    /// Every change to the rosters of the campaign's schools, newest first: who, when, what.
    roster_changes: Vec<RosterChangeRow>,
}

#[derive(Serialize)]
struct WaitingTeacher {
    id: i32,
    name: String,
    email: String,
    school: String,
    added: String,
}

#[derive(Serialize)]
struct RosterChangeRow {
    at: String,
    actor: String,
    action: &'static str,
    detail: String,
}

/// How many roster changes the page lists.
const ROSTER_CHANGES_SHOWN: u64 = 100;

/// `/console/campaigns/{id}/invitations` with the query's filters and sort (and `page`, past
/// the first).
fn link_to(campaign_id: i32, query: &ListQuery, page: usize) -> String {
    let mut params: Vec<String> = Vec::new();
    if let Some(school) = query.school_id {
        params.push(format!("school={school}"));
    }
    if let Some(status) = query.status {
        params.push(format!("status={}", status.slug()));
    }
    if query.sort != SortKey::default() || query.descending {
        params.push(format!("sort={}", query.sort.slug()));
        params.push(format!(
            "dir={}",
            if query.descending { "desc" } else { "asc" }
        ));
    }
    if page > 1 {
        params.push(format!("page={page}"));
    }
    let path = format!("/console/campaigns/{campaign_id}/invitations");
    if params.is_empty() {
        path
    } else {
        format!("{path}?{}", params.join("&"))
    }
}

async fn render(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    found: &campaign::Model,
    params: &PageParams,
    error: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let (survey_title, audience) = campaigns::survey_of(&state.db, found).await?;
    let availability = campaigns::availability(found, Utc::now());
    let query = params.query();
    let all = invitations::rows(&state.db, found.id).await?;
    let counts = invitations::count_statuses(&all);
    let not_yet_invited = invitations::not_yet_invited(&state.db, found.id).await?;
    let mut school_names: BTreeMap<(String, i32), String> = BTreeMap::new();
    for row in &all {
        school_names
            .entry((row.school_code.clone(), row.school_id))
            .or_insert_with(|| row.school_name.clone());
    }
    let mut schools = vec![Choice {
        value: String::new(),
        label: "全部".to_owned(),
        selected: query.school_id.is_none(),
    }];
    schools.extend(school_names.into_iter().map(|((code, id), name)| Choice {
        value: id.to_string(),
        label: format!("{code} {name}"),
        selected: query.school_id == Some(id),
    }));
    let mut statuses = vec![Choice {
        value: String::new(),
        label: "全部".to_owned(),
        selected: query.status.is_none(),
    }];
    statuses.extend(Status::ALL.into_iter().map(|each| Choice {
        value: each.slug().to_owned(),
        label: each.label().to_owned(),
        selected: query.status == Some(each),
    }));
    let headers = [
        SortKey::Name,
        SortKey::Email,
        SortKey::School,
        SortKey::Status,
    ]
    .into_iter()
    .map(|key| {
        let current = query.sort == key;
        let sorted = ListQuery {
            sort: key,
            descending: current && !query.descending,
            page: 1,
            ..query.clone()
        };
        Header {
            label: key.label(),
            href: link_to(found.id, &sorted, 1),
            arrow: match (current, query.descending) {
                (false, _) => "",
                (true, false) => "▲",
                (true, true) => "▼",
            },
        }
    })
    .collect();
    let selected = invitations::select_rows(all, &query);
    let waiting = invitations::awaiting_approval(&state.db, found)
        .await?
        .into_iter()
        .map(|(teacher, school)| WaitingTeacher {
            id: teacher.id,
            name: teacher.name,
            email: teacher.email,
            school: format!("{} {}", school.code, school.name),
            added: campaigns::display_time(teacher.created_at),
        })
        .collect();
    let roster_changes = invitations::roster_changes(&state.db, found.id, ROSTER_CHANGES_SHOWN)
        .await?
        .into_iter()
        .map(|change| RosterChangeRow {
            at: campaigns::display_time(change.at),
            actor: change.actor,
            action: change.action,
            detail: change.detail,
        })
        .collect();
    let view = PageView {
        waiting,
        roster_changes,
        campaign: CampaignHead {
            id: found.id,
            name: found.name.clone(),
            survey_title,
            audience: audience.map_or("", Audience::label),
            state: availability.label(),
            state_class: availability.slug(),
            closes: found
                .closes_at
                .map_or_else(|| "不限".to_owned(), campaigns::display_time),
        },
        for_teachers: audience == Some(Audience::Teachers),
        notice: params.notice(),
        error,
        counts,
        not_yet_invited,
        schools,
        statuses,
        sort: query.sort.slug(),
        dir: if query.descending { "desc" } else { "asc" },
        filtered: query.school_id.is_some() || query.status.is_some(),
        headers,
        matching: selected.matching,
        pager: (selected.pages > 1).then(|| Pager {
            page: selected.page,
            pages: selected.pages,
            previous: (selected.page > 1).then(|| link_to(found.id, &query, selected.page - 1)),
            next: (selected.page < selected.pages)
                .then(|| link_to(found.id, &query, selected.page + 1)),
        }),
        rows: selected.rows,
        days: params.days.unwrap_or(DEFAULT_REMINDER_DAYS),
        min_days: *REMINDER_DAYS.start(),
        max_days: *REMINDER_DAYS.end(),
    };
    let title = format!("教师邀请 · {}", found.name);
    staff.render_with_status(
        state,
        status,
        "console/invitations/show",
        &title,
        "campaigns",
        view,
    )
}

async fn page(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(found): CampaignPath,
    params: web::Query<PageParams>,
) -> Result<HttpResponse, ConsoleError> {
    render(&state, &staff, StatusCode::OK, &found, &params, None).await
}

/// A refused action: the page again, with why.
async fn refused(
    state: &AppState,
    staff: &Staff,
    found: &campaign::Model,
    error: InviteError,
) -> Result<HttpResponse, ConsoleError> {
    let status = match &error {
        InviteError::Template(_) | InviteError::Db(_) => {
            return Err(ConsoleError::internal(error));
        }
        InviteError::NoSuchInvitation | InviteError::NoSuchTeacher => StatusCode::NOT_FOUND,
        InviteError::BadInterval => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::CONFLICT,
    };
    let message = error.to_string();
    render(
        state,
        staff,
        status,
        found,
        &PageParams::default(),
        Some(message),
    )
    .await
}

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    days: String,
    #[serde(default)]
    invitation: String,
}

async fn send(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(found): CampaignPath,
    _form: CsrfForm<ButtonOnly>,
) -> Result<HttpResponse, ConsoleError> {
    let actor = Actor::Account(&staff.account);
    match invitations::invite_all(&state.context, actor, &found).await {
        Ok(summary) => Ok(see_other(&format!(
            "/console/campaigns/{}/invitations?invited={}&already={}&no_roster={}&waiting={}",
            found.id,
            summary.invited,
            summary.already_invited,
            summary.schools_without_roster,
            summary.awaiting_approval
        ))),
        Err(error) => refused(&state, &staff, &found, error).await,
    }
}

async fn remind(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(found): CampaignPath,
    form: CsrfForm<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    let days = match form.days.trim() {
        "" => DEFAULT_REMINDER_DAYS,
        typed => match typed.parse::<i64>() {
            Ok(days) => days,
            Err(_) => {
                return refused(&state, &staff, &found, InviteError::BadInterval).await;
            }
        },
    };
    let actor = Actor::Account(&staff.account);
    match invitations::remind(&state.context, actor, &found, days).await {
        Ok(summary) => Ok(see_other(&format!(
            "/console/campaigns/{}/invitations?reminded={}&too_soon={}&still_queued={}&failed={}&days={days}",
            found.id, summary.reminded, summary.too_soon, summary.still_queued, summary.failed
        ))),
        Err(error) => refused(&state, &staff, &found, error).await,
    }
}

async fn resend(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(found): CampaignPath,
    form: CsrfForm<ActionForm>,
) -> Result<HttpResponse, ConsoleError> {
    let Ok(invitation_id) = form.invitation.trim().parse::<i32>() else {
        return refused(&state, &staff, &found, InviteError::NoSuchInvitation).await;
    };
    let actor = Actor::Account(&staff.account);
    match invitations::resend(&state.context, actor, &found, invitation_id).await {
        Ok(who) => Ok(see_other(&format!(
            "/console/campaigns/{}/invitations?status=queued&resent={}",
            found.id,
            percent_encode(&who)
        ))),
        Err(error) => refused(&state, &staff, &found, error).await,
    }
}

#[derive(Deserialize)]
pub struct ApproveForm {
    /// One teacher's id, or empty for every teacher waiting.
    #[serde(default)]
    teacher: String,
}

async fn approve(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    CampaignPath(found): CampaignPath,
    form: CsrfForm<ApproveForm>,
) -> Result<HttpResponse, ConsoleError> {
    let only = match form.teacher.trim() {
        "" => None,
        id => match id.parse::<i32>() {
            Ok(id) => Some(id),
            Err(_) => return refused(&state, &staff, &found, InviteError::NoSuchTeacher).await,
        },
    };
    let actor = Actor::Account(&staff.account);
    match invitations::approve_teachers(&state.context, actor, &found, only).await {
        Ok(approved) => Ok(see_other(&format!(
            "/console/campaigns/{}/invitations?approved={approved}",
            found.id
        ))),
        Err(error) => refused(&state, &staff, &found, error).await,
    }
}

#[cfg(test)]
mod tests {
    use super::{PageParams, link_to};
    use crate::invitations::{ListQuery, SortKey, Status};

    fn params(query: &str) -> PageParams {
        actix_web::web::Query::<PageParams>::from_query(query)
            .expect("parses")
            .into_inner()
    }

    #[test]
    fn links_read_back_as_the_same_query() {
        let query = ListQuery {
            school_id: Some(7),
            status: Some(Status::Failed),
            sort: SortKey::Name,
            descending: true,
            page: 3,
        };
        let link = link_to(4, &query, 3);
        let (path, query_string) = link.split_once('?').expect("a query string");
        assert_eq!(path, "/console/campaigns/4/invitations");
        assert_eq!(params(query_string).query(), query);
        assert_eq!(
            link_to(4, &ListQuery::default(), 1),
            "/console/campaigns/4/invitations"
        );
        assert_eq!(
            params("status=opened&sort=x&page=y").query(),
            ListQuery {
                page: 1,
                ..ListQuery::default()
            }
        );
    }
}
