//! Accounts and the audit log: admins only. Adding an account, disabling, enabling and resetting
//! its password, each written to the audit log; and the log itself, filtered, a page at a time.
//!
//! Handlers only parse, call `accounts` and `audit`, and render; the rules live there.

use crate::web::routes::Routes;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use entity::{account, school};
use serde::{Deserialize, Serialize};

use super::Choice;
use super::guards::{Admin, ButtonOnly, CsrfForm, Staff};
use super::{ConsoleError, percent_encode, see_other};
use crate::accounts::actions as account_actions;
use crate::accounts::{self, AccountError, NewAccount, Role};
use crate::audit::{self, AuditFilter};
use crate::campaigns;
use crate::change::Actor;
use crate::schools;
use crate::web::AppState;

pub const AUDIT_PAGE_SIZE: u64 = 50;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/accounts", accounts_page)
        .post("/console/accounts", create_account)
        .post("/console/accounts/{id}/disable", disable_account)
        .post("/console/accounts/{id}/enable", enable_account)
        .post("/console/accounts/{id}/reset", reset_password)
        .post("/console/accounts/{id}/unlock", unlock_account)
        .get("/console/audit", audit_page);
}

// ------------------------------------------------------------------------------- accounts page

#[derive(Serialize)]
struct AccountRow {
    id: i32,
    email: String,
    name: String,
    role: &'static str,
    school: String,
    disabled: bool,
    /// China time until which failed sign-ins hold the account back, if they do now.
    locked_until: Option<String>,
    last_sign_in: String,
    created: String,
    is_me: bool,
}

/// What the add form holds: empty at first, what was typed after a refusal.
#[derive(Default, Serialize)]
struct FormValues {
    email: String,
    name: String,
    role: String,
    school_id: String,
    generate: bool,
}

#[derive(Serialize)]
struct AccountsView {
    accounts: Vec<AccountRow>,
    roles: Vec<Choice>,
    schools: Vec<Choice>,
    has_schools: bool,
    form: FormValues,
    min_password: usize,
    /// Why the add form was refused.
    error: Option<String>,
    /// What the last action did.
    notice: Option<String>,
    /// Why an action on a listed account was refused.
    problem: Option<String>,
}

/// The page as the admin sees it, with whatever `form`, `error`, `notice` and `problem` say.
async fn render_accounts(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    form: FormValues,
    error: Option<String>,
    notice: Option<String>,
    problem: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let all_schools = schools::list(&state.db).await?;
    let school_name = |id: Option<i32>| -> String {
        id.and_then(|id| all_schools.iter().find(|school| school.id == id))
            .map(|school| school.name.clone())
            .unwrap_or_default()
    };
    let locks = accounts::limits::locked_now(&state.db, chrono::Utc::now()).await?;
    let accounts = accounts::list(&state.db)
        .await?
        .into_iter()
        .map(|account| AccountRow {
            locked_until: locks
                .get(&accounts::limits::key_of(&account.email))
                .map(|until| campaigns::display_time(*until)),
            id: account.id,
            is_me: account.id == staff.account.id,
            role: accounts::role_of(&account).label(),
            school: school_name(account.school_id),
            disabled: account.disabled,
            last_sign_in: account
                .last_sign_in_at
                .map(campaigns::display_time)
                .unwrap_or_default(),
            created: campaigns::display_time(account.created_at),
            email: account.email,
            name: account.display_name,
        })
        .collect();
    let selected_role = if form.role.is_empty() {
        Role::Supervisor.slug()
    } else {
        form.role.as_str()
    };
    let roles = Role::ALL
        .into_iter()
        .map(|role| Choice {
            value: role.slug().to_owned(),
            label: role.label().to_owned(),
            selected: role.slug() == selected_role,
        })
        .collect();
    let schools = all_schools
        .iter()
        .map(|school: &school::Model| Choice {
            value: school.id.to_string(),
            label: format!("{} {}（{}）", school.code, school.name, school.township),
            selected: school.id.to_string() == form.school_id,
        })
        .collect();
    staff.render_with_status(
        state,
        status,
        "console/accounts/list",
        "账号",
        "accounts",
        AccountsView {
            accounts,
            roles,
            schools,
            has_schools: !all_schools.is_empty(),
            form,
            min_password: accounts::MIN_PASSWORD_CHARS,
            error,
            notice,
            problem,
        },
    )
}

#[derive(Deserialize)]
pub struct AccountsQuery {
    #[serde(default)]
    done: String,
    #[serde(default)]
    account: String,
}

pub async fn accounts_page(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    query: web::Query<AccountsQuery>,
) -> Result<HttpResponse, ConsoleError> {
    // After an action the page says what was done, naming the account.
    let target = match query.account.parse::<i32>() {
        Ok(id) => accounts::find(&state.db, id).await?,
        Err(_) => None,
    };
    let notice = target.and_then(|account| {
        let what = match query.done.as_str() {
            "disabled" => "已停用账号",
            "enabled" => "已启用账号",
            "unlocked" => "已解除登录暂停：",
            _ => return None,
        };
        Some(format!("{what} {}。", account.email))
    });
    render_accounts(
        &state,
        &staff,
        StatusCode::OK,
        FormValues::default(),
        None,
        notice,
        None,
    )
    .await
}

#[derive(Deserialize)]
pub struct AccountForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    school_id: String,
    #[serde(default)]
    password: String,
    /// The checkbox "generate a password": present when ticked.
    #[serde(default)]
    generate: Option<String>,
}

/// The page that shows a new account, or a reset one, with the password said only this once.
#[derive(Serialize)]
struct AccountDoneView {
    heading: &'static str,
    email: String,
    name: String,
    role: &'static str,
    school: String,
    /// A generated password; `None` when the admin typed it.
    password: Option<String>,
}

async fn school_name(state: &AppState, school_id: Option<i32>) -> Result<String, ConsoleError> {
    let Some(school_id) = school_id else {
        return Ok(String::new());
    };
    Ok(schools::find(&state.db, school_id)
        .await?
        .map(|school| school.name)
        .unwrap_or_default())
}

/// The page of an account just made or reset, with its password said this once.
async fn render_done(
    state: &AppState,
    staff: &Staff,
    heading: &'static str,
    account: account::Model,
    password: Option<String>,
) -> Result<HttpResponse, ConsoleError> {
    let school = school_name(state, account.school_id).await?;
    staff.render(
        state,
        "console/accounts/done",
        heading,
        "accounts",
        AccountDoneView {
            heading,
            role: accounts::role_of(&account).label(),
            email: account.email,
            name: account.display_name,
            school,
            password,
        },
    )
}

pub async fn create_account(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    form: CsrfForm<AccountForm>,
) -> Result<HttpResponse, ConsoleError> {
    let form = form.into_inner();
    let role = Role::parse(&form.role)
        .ok_or_else(|| ConsoleError::bad_request(format!("未知的角色：{}", form.role)))?;
    let generate = form
        .generate
        .as_deref()
        .is_some_and(|value| !value.is_empty());
    let school_id = match form.school_id.trim() {
        "" => None,
        id => Some(
            id.parse::<i32>()
                .map_err(|_| ConsoleError::bad_request(format!("学校编号不正确：{id}")))?,
        ),
    };
    let password = if generate {
        accounts::generate_password()
    } else {
        form.password.clone()
    };
    let new = NewAccount {
        email: form.email.clone(),
        display_name: form.name.clone(),
        password: password.clone(),
        role,
        school_id: school_id.filter(|_| role == Role::School),
    };
    match account_actions::create_account(&state.context, Actor::Account(&staff.account), new).await
    {
        Ok(account) => {
            render_done(
                &state,
                &staff,
                "账号已创建",
                account,
                generate.then_some(password),
            )
            .await
        }
        Err(AccountError::Db(error)) => Err(error.into()),
        Err(AccountError::Hash(error)) => Err(ConsoleError::internal(error)),
        Err(refusal) => {
            let values = FormValues {
                email: form.email,
                name: form.name,
                role: role.slug().to_owned(),
                school_id: form.school_id,
                generate,
            };
            let error = Some(refusal.to_string());
            render_accounts(
                &state,
                &staff,
                StatusCode::UNPROCESSABLE_ENTITY,
                values,
                error,
                None,
                None,
            )
            .await
        }
    }
}

/// An action on a listed account that was refused (the admin's own), said above the list.
async fn refused_on_list(
    state: &AppState,
    staff: &Staff,
    refusal: AccountError,
) -> Result<HttpResponse, ConsoleError> {
    match refusal {
        AccountError::NotFound => Err(ConsoleError::not_found()),
        AccountError::Db(error) => Err(error.into()),
        AccountError::Hash(error) => Err(ConsoleError::internal(error)),
        refusal => {
            let problem = Some(refusal.to_string());
            render_accounts(
                state,
                staff,
                StatusCode::CONFLICT,
                FormValues::default(),
                None,
                None,
                problem,
            )
            .await
        }
    }
}

async fn set_disabled(
    state: web::Data<AppState>,
    staff: Staff,
    id: i32,
    disabled: bool,
) -> Result<HttpResponse, ConsoleError> {
    match account_actions::set_disabled(&state.context, &staff.account, id, disabled).await {
        Ok(account) => {
            let done = if disabled { "disabled" } else { "enabled" };
            Ok(see_other(&format!(
                "/console/accounts?done={done}&account={}",
                account.id
            )))
        }
        Err(refusal) => refused_on_list(&state, &staff, refusal).await,
    }
}

pub async fn disable_account(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    id: web::Path<i32>,
    _form: CsrfForm<ButtonOnly>,
) -> Result<HttpResponse, ConsoleError> {
    set_disabled(state, staff, id.into_inner(), true).await
}

pub async fn enable_account(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    id: web::Path<i32>,
    _form: CsrfForm<ButtonOnly>,
) -> Result<HttpResponse, ConsoleError> {
    set_disabled(state, staff, id.into_inner(), false).await
}

pub async fn unlock_account(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    id: web::Path<i32>,
    _form: CsrfForm<ButtonOnly>,
) -> Result<HttpResponse, ConsoleError> {
    match account_actions::unlock_account(&state.context, &staff.account, id.into_inner()).await {
        Ok(account) => Ok(see_other(&format!(
            "/console/accounts?done=unlocked&account={}",
            account.id
        ))),
        Err(refusal) => refused_on_list(&state, &staff, refusal).await,
    }
}

pub async fn reset_password(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    id: web::Path<i32>,
    _form: CsrfForm<ButtonOnly>,
) -> Result<HttpResponse, ConsoleError> {
    match account_actions::reset_password(&state.context, &staff.account, id.into_inner()).await {
        Ok((account, password)) => {
            render_done(&state, &staff, "密码已重置", account, Some(password)).await
        }
        Err(refusal) => refused_on_list(&state, &staff, refusal).await,
    }
}

// ---------------------------------------------------------------------------------- audit log

#[derive(Deserialize)]
pub struct AuditQuery {
    #[serde(default)]
    action: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    page: String,
}

#[derive(Serialize)]
struct EventRow {
    at: String,
    actor: String,
    action: String,
    label: Option<&'static str>,
    detail: String,
}

#[derive(Serialize)]
struct AuditView {
    events: Vec<EventRow>,
    actions: Vec<Choice>,
    actor: String,
    filtered: bool,
    total: u64,
    page: u64,
    pages: u64,
    previous: Option<String>,
    next: Option<String>,
}

/// The audit page's address for `page` with the same filters.
fn audit_url(action: &str, actor: &str, page: u64) -> String {
    let mut parts = Vec::new();
    if !action.is_empty() {
        parts.push(format!("action={}", percent_encode(action)));
    }
    if !actor.is_empty() {
        parts.push(format!("actor={}", percent_encode(actor)));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        "/console/audit".to_owned()
    } else {
        format!("/console/audit?{}", parts.join("&"))
    }
}

pub async fn audit_page(
    state: web::Data<AppState>,
    Admin(staff): Admin,
    query: web::Query<AuditQuery>,
) -> Result<HttpResponse, ConsoleError> {
    let action = query.action.trim().to_owned();
    let actor = query.actor.trim().to_owned();
    let filter = AuditFilter {
        action: (!action.is_empty()).then(|| action.clone()),
        actor: (!actor.is_empty()).then(|| actor.clone()),
    };
    // A page number that is not one shows the first page rather than an error.
    let wanted = query.page.trim().parse::<u64>().unwrap_or(1).max(1);
    let (mut events, mut total) = audit::search(
        &state.db,
        &filter,
        (wanted - 1) * AUDIT_PAGE_SIZE,
        AUDIT_PAGE_SIZE,
    )
    .await?;
    let pages = total.div_ceil(AUDIT_PAGE_SIZE).max(1);
    let page = wanted.min(pages);
    if page != wanted {
        (events, total) = audit::search(
            &state.db,
            &filter,
            (page - 1) * AUDIT_PAGE_SIZE,
            AUDIT_PAGE_SIZE,
        )
        .await?;
    }
    let mut actions = vec![Choice {
        value: String::new(),
        label: "全部操作".to_owned(),
        selected: action.is_empty(),
    }];
    actions.extend(audit::ACTIONS.iter().map(|(code, label)| Choice {
        value: (*code).to_owned(),
        label: format!("{label}（{code}）"),
        selected: *code == action,
    }));
    let events = events
        .into_iter()
        .map(|event| EventRow {
            at: campaigns::display_time_seconds(event.at),
            label: audit::action_label(&event.action),
            actor: event.actor,
            action: event.action,
            detail: event.detail,
        })
        .collect();
    staff.render(
        &state,
        "console/audit",
        "审计日志",
        "audit",
        AuditView {
            events,
            actions,
            filtered: filter.action.is_some() || filter.actor.is_some(),
            total,
            page,
            pages,
            previous: (page > 1).then(|| audit_url(&action, &actor, page - 1)),
            next: (page < pages).then(|| audit_url(&action, &actor, page + 1)),
            actor,
        },
    )
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    use super::*;
    use crate::campaigns::display_time_seconds;

    #[test]
    fn audit_page_links_keep_the_filters() {
        assert_eq!(audit_url("", "", 1), "/console/audit");
        assert_eq!(
            audit_url("sign_in", "li@edu.cn", 3),
            "/console/audit?action=sign_in&actor=li%40edu.cn&page=3"
        );
        assert_eq!(audit_url("", "a&b", 2), "/console/audit?actor=a%26b&page=2");
    }

    #[test]
    fn audit_times_are_china_time_to_the_second() {
        let time = DateTime::parse_from_rfc3339("2026-11-30T16:05:09Z")
            .map(|time| time.with_timezone(&Utc));
        assert_eq!(
            time.map(display_time_seconds).ok().as_deref(),
            Some("2026-12-01 00:05:09")
        );
    }
}
