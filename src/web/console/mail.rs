//! Mail (`/console/mail`): supervisors and admins. Whether SMTP is configured, the outbox's
//! counts and latest messages a page at a time, "retry" for a failed one; and the report by
//! mail form (`/console/mail/report`), which queues one message per address in one transaction.
//!
//! Handlers only parse, call `mail` and render.

use crate::web::routes::Routes;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::{Deserialize, Serialize};

use super::guards::{ButtonOnly, CsrfForm, Staff, Supervisor};
use super::{ConsoleError, see_other};
use crate::campaigns::display_time;
use crate::change::Actor;
use crate::mail::outbox;
use crate::reports::mail::{self as report, MAX_ADDRESSES, ReportMailError, Target};
use crate::web::AppState;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/mail", outbox_page)
        .post("/console/mail/{id}/retry", retry)
        .get("/console/mail/report", report_form)
        .post("/console/mail/report", send_report);
}

const PAGE_SIZE: u64 = 50;

fn status_label(status: &str) -> &'static str {
    match status {
        "pending" => "待发送",
        "sent" => "已发送",
        "failed" => "发送失败",
        _ => "未知",
    }
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "invitation" => "问卷邀请",
        "reminder" => "提醒",
        "report" => "报告",
        "digest" => "周报",
        "test" => "测试",
        "rectification" => "整改提醒",
        _ => "其他",
    }
}

#[derive(Serialize)]
struct MessageRow {
    id: i64,
    recipient: String,
    kind: &'static str,
    subject: String,
    status: &'static str,
    status_slug: String,
    failed: bool,
    attempts: i32,
    last_error: String,
    created: String,
    sent: String,
    next_attempt: String,
}

#[derive(Serialize)]
struct StatusChoice {
    value: &'static str,
    label: &'static str,
    selected: bool,
}

#[derive(Serialize)]
struct OutboxView {
    configured: bool,
    smtp: String,
    from: String,
    counts: outbox::Counts,
    messages: Vec<MessageRow>,
    statuses: Vec<StatusChoice>,
    page: u64,
    pages: u64,
    previous: Option<String>,
    next: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct OutboxQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    page: String,
    #[serde(default)]
    retried: String,
    #[serde(default)]
    queued: String,
}

/// The outbox page's address for `page` of `status`.
fn outbox_url(status: &str, page: u64) -> String {
    let mut parts = Vec::new();
    if !status.is_empty() {
        parts.push(format!("status={status}"));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "/console/mail".to_owned()
    } else {
        format!("/console/mail?{}", parts.join("&"))
    }
}

async fn outbox_page(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    query: web::Query<OutboxQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let status = match query.status.trim() {
        value @ ("pending" | "sent" | "failed") => value,
        _ => "",
    };
    let wanted = query.page.trim().parse::<u64>().unwrap_or(1).max(1);
    let filter = (!status.is_empty()).then_some(status);
    let (mut rows, pages) = outbox::latest(&state.db, filter, wanted - 1, PAGE_SIZE).await?;
    let pages = pages.max(1);
    let page = wanted.min(pages);
    if page != wanted {
        rows = outbox::latest(&state.db, filter, page - 1, PAGE_SIZE)
            .await?
            .0;
    }
    let counts = outbox::counts(&state.db).await?;
    let messages = rows
        .into_iter()
        .map(|row| MessageRow {
            id: row.id,
            kind: kind_label(&row.kind),
            status: status_label(&row.status),
            failed: row.status == "failed",
            next_attempt: if row.status == "pending" && row.attempts > 0 {
                display_time(row.next_attempt_at)
            } else {
                String::new()
            },
            status_slug: row.status,
            recipient: row.recipient,
            subject: row.subject,
            attempts: row.attempts,
            last_error: row.last_error.unwrap_or_default(),
            created: display_time(row.created_at),
            sent: row.sent_at.map(display_time).unwrap_or_default(),
        })
        .collect();
    let mut statuses = vec![StatusChoice {
        value: "",
        label: "全部",
        selected: status.is_empty(),
    }];
    statuses.extend(
        ["pending", "sent", "failed"]
            .into_iter()
            .map(|value| StatusChoice {
                value,
                label: status_label(value),
                selected: value == status,
            }),
    );
    let notice = if let Ok(id) = query.retried.parse::<i64>() {
        Some(format!("第 {id} 号邮件已重新排队，将很快再次发送。"))
    } else if let Ok(count) = query.queued.parse::<u64>() {
        Some(format!("报告已放入发件箱，共 {count} 封，将依次发送。"))
    } else {
        None
    };
    let settings = state.mailer.settings();
    staff.render(
        &state,
        "console/mail/outbox",
        "邮件",
        "mail",
        OutboxView {
            configured: state.mailer.is_configured(),
            smtp: settings.describe(),
            from: settings.from.clone(),
            counts,
            messages,
            statuses,
            page,
            pages,
            previous: (page > 1).then(|| outbox_url(status, page - 1)),
            next: (page < pages).then(|| outbox_url(status, page + 1)),
            notice,
        },
    )
}

async fn retry(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i64>,
    _form: CsrfForm<ButtonOnly>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    if !outbox::retry(&state.context, Actor::Account(&staff.account), id).await? {
        return Err(ConsoleError::not_found());
    }
    Ok(see_other(&format!("/console/mail?retried={id}")))
}

#[derive(Serialize)]
struct SchoolChoice {
    id: i32,
    label: String,
    selected: bool,
}

#[derive(Serialize)]
struct ReportFormView {
    configured: bool,
    county: bool,
    schools: Vec<SchoolChoice>,
    addresses: String,
    max: usize,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct ReportQuery {
    /// `county` or a school's id.
    #[serde(default)]
    scope: String,
}

#[derive(Deserialize)]
pub struct ReportForm {
    #[serde(default)]
    scope: String,
    #[serde(default)]
    addresses: String,
}

fn parse_scope(text: &str) -> Option<Target> {
    match text.trim() {
        "" | "county" => Some(Target::County),
        other => other.parse::<i32>().ok().map(Target::School),
    }
}

async fn render_report_form(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    scope: Option<Target>,
    addresses: String,
    error: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let schools = crate::schools::list(&state.db)
        .await?
        .into_iter()
        .map(|school| SchoolChoice {
            selected: scope == Some(Target::School(school.id)),
            label: format!("{} {}（{}）", school.code, school.name, school.township),
            id: school.id,
        })
        .collect();
    staff.render_with_status(
        state,
        status,
        "console/mail/report",
        "邮件发送报告",
        "mail",
        ReportFormView {
            configured: state.mailer.is_configured(),
            county: !matches!(scope, Some(Target::School(_))),
            schools,
            addresses,
            max: MAX_ADDRESSES,
            error,
        },
    )
}

async fn report_form(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    query: web::Query<ReportQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let scope = parse_scope(&query.scope);
    render_report_form(&state, &staff, StatusCode::OK, scope, String::new(), None).await
}

async fn send_report(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    form: CsrfForm<ReportForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    let refuse = |status: StatusCode, scope: Option<Target>, message: String| {
        let state = state.clone();
        let addresses = form.addresses.clone();
        let staff = &staff;
        async move { render_report_form(&state, staff, status, scope, addresses, Some(message)).await }
    };
    let Some(scope) = parse_scope(&form.scope) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            None,
            "请选择要发送的报告：全县报告或一所学校。".to_owned(),
        )
        .await;
    };
    let addresses = match crate::mail::smtp::parse_address_list(&form.addresses, MAX_ADDRESSES) {
        Ok(addresses) => addresses,
        Err(message) => {
            return refuse(StatusCode::UNPROCESSABLE_ENTITY, Some(scope), message).await;
        }
    };
    let request = report::ReportRequest {
        target: scope,
        addresses: &addresses,
        sender_name: if staff.account.display_name.trim().is_empty() {
            staff.account.email.clone()
        } else {
            staff.account.display_name.clone()
        },
    };
    let actor = Actor::Account(&staff.account);
    match report::enqueue(&state.context, actor, &state.plan, &request).await {
        Ok(count) => Ok(see_other(&format!("/console/mail?queued={count}"))),
        Err(ReportMailError::UnknownSchool) => {
            refuse(
                StatusCode::NOT_FOUND,
                None,
                "找不到这所学校，可能已被删除。请重新选择。".to_owned(),
            )
            .await
        }
        Err(ReportMailError::Report(message)) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, Some(scope), message).await
        }
        Err(error) => Err(ConsoleError::internal(error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbox_links_keep_the_status() {
        assert_eq!(outbox_url("", 1), "/console/mail");
        assert_eq!(
            outbox_url("failed", 2),
            "/console/mail?status=failed&page=2"
        );
    }

    #[test]
    fn scopes_parse() {
        assert_eq!(parse_scope("county"), Some(Target::County));
        assert_eq!(parse_scope("12"), Some(Target::School(12)));
        assert_eq!(parse_scope("x"), None);
    }
}
