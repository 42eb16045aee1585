//! Teacher rosters in the console: one school's roster (list, upload, add one, remove one) for
//! supervisors and admins on every school and for a school viewer on their own school only, and
//! the county-wide upload for supervisors. The checks and queries live in `crate::teachers`.

use crate::web::routes::Routes;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use entity::school;
use serde::{Deserialize, Serialize};

use super::guards::{CsrfForm, SchoolViewer, Staff, Supervisor};
use super::upload::{MAX_UPLOAD_BYTES, read_upload};
use super::{ConsoleError, SchoolHead, download_disposition, see_other};
use crate::change::Actor;
use crate::schools;
use crate::teachers::actions::{self as roster_actions, typed_teacher};
use crate::teachers::{self, ImportError, NewTeacher, Removal, RosterScope, RosterSummary};
use crate::web::AppState;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/teachers/import", county_form)
        .post("/console/teachers/import", county_upload)
        .get("/console/teachers/template.csv", county_template)
        .get("/console/schools/{id}/teachers", roster)
        .get("/console/schools/{id}/teachers.csv", download)
        .get(
            "/console/schools/{id}/teachers/template.csv",
            school_template,
        )
        .post("/console/schools/{id}/teachers/add", add)
        .post("/console/schools/{id}/teachers/remove", remove)
        .post("/console/schools/{id}/teachers/import", school_upload);
}

// ---------------------------------------------------------------------------------------------
// One school's roster

#[derive(Serialize, Default)]
struct AddValues {
    name: String,
    email: String,
}

#[derive(Serialize)]
struct RosterView {
    school: SchoolHead,
    teachers: Vec<teachers::TeacherRow>,
    total: usize,
    can_choose_other: bool,
    notice: Option<String>,
    /// A refused action's message (a bad upload, a bad added teacher, an invited teacher).
    error: Option<String>,
    line_errors: Vec<String>,
    summary: Option<RosterSummary>,
    add: AddValues,
    max_megabytes: usize,
}

impl RosterView {
    async fn new(
        state: &AppState,
        staff: &Staff,
        school: &school::Model,
    ) -> Result<RosterView, ConsoleError> {
        let teachers = teachers::list(&state.db, school.id).await?;
        Ok(RosterView {
            school: SchoolHead::of(school),
            total: teachers.len(),
            teachers,
            can_choose_other: staff.is_supervisor(),
            notice: None,
            error: None,
            line_errors: Vec::new(),
            summary: None,
            add: AddValues::default(),
            max_megabytes: MAX_UPLOAD_BYTES / (1024 * 1024),
        })
    }
}

fn roster_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    view: RosterView,
) -> Result<HttpResponse, ConsoleError> {
    let title = format!("教师名单 · {}", view.school.name);
    let nav = if staff.is_supervisor() {
        "schools"
    } else {
        "teachers"
    };
    staff.render_with_status(state, status, "console/teachers/roster", &title, nav, view)
}

#[derive(Deserialize)]
pub struct RosterParams {
    added: Option<String>,
    removed: Option<String>,
}

async fn roster(
    state: web::Data<AppState>,
    viewer: SchoolViewer,
    params: web::Query<RosterParams>,
) -> Result<HttpResponse, ConsoleError> {
    let SchoolViewer { staff, school } = viewer;
    let mut view = RosterView::new(&state, &staff, &school).await?;
    view.notice = match (&params.added, &params.removed) {
        (Some(email), _) => Some(format!("已添加：{email}")),
        (None, Some(email)) => Some(format!("已从名单中删除：{email}")),
        (None, None) => None,
    };
    roster_page(&state, &staff, StatusCode::OK, view)
}

async fn download(
    state: web::Data<AppState>,
    viewer: SchoolViewer,
) -> Result<HttpResponse, ConsoleError> {
    let school = viewer.school;
    let teachers = teachers::list(&state.db, school.id).await?;
    let bytes = teachers::to_csv(&teachers).map_err(ConsoleError::internal)?;
    Ok(csv_attachment(
        bytes,
        &format!("教师名单-{}", school.name),
        &format!("teachers-{}", school.code),
    ))
}

async fn school_template(viewer: SchoolViewer) -> Result<HttpResponse, ConsoleError> {
    let school = viewer.school;
    let bytes = teachers::csv_template(RosterScope::School(&school.code))
        .map_err(ConsoleError::internal)?;
    Ok(csv_attachment(bytes, "教师名单模板", "teachers-template"))
}

async fn county_template(_staff: Supervisor) -> Result<HttpResponse, ConsoleError> {
    let bytes = teachers::csv_template(RosterScope::County).map_err(ConsoleError::internal)?;
    Ok(csv_attachment(
        bytes,
        "全县教师名单模板",
        "county-teachers-template",
    ))
}

fn csv_attachment(bytes: Vec<u8>, name: &str, ascii_name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(download_disposition(name, ascii_name, "csv"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes)
}

#[derive(Deserialize)]
pub struct AddForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
}

async fn add(
    state: web::Data<AppState>,
    viewer: SchoolViewer,
    form: CsrfForm<AddForm>,
) -> Result<HttpResponse, ConsoleError> {
    let SchoolViewer { staff, school } = viewer;
    let added = match typed_teacher(&form.name, &form.email) {
        Ok(teacher) => {
            roster_actions::add_teacher(
                &state.context,
                Actor::Account(&staff.account),
                &school,
                &teacher,
            )
            .await
        }
        Err(reason) => Err(teachers::RosterChangeError::Refused(reason)),
    };
    let reason = match added {
        Ok(added) => {
            return Ok(see_other(&format!(
                "/console/schools/{}/teachers?added={}",
                school.id,
                super::percent_encode(&added.email)
            )));
        }
        Err(teachers::RosterChangeError::Db(error)) => return Err(error.into()),
        Err(refusal) => refusal.to_string(),
    };
    let view = RosterView {
        error: Some(format!("没有添加：{reason}")),
        add: AddValues {
            name: form.name.clone(),
            email: form.email.clone(),
        },
        ..RosterView::new(&state, &staff, &school).await?
    };
    roster_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, view)
}

#[derive(Deserialize)]
pub struct RemoveForm {
    #[serde(default)]
    teacher: String,
}

async fn remove(
    state: web::Data<AppState>,
    viewer: SchoolViewer,
    form: CsrfForm<RemoveForm>,
) -> Result<HttpResponse, ConsoleError> {
    let SchoolViewer { staff, school } = viewer;
    let Ok(teacher_id) = form.teacher.trim().parse::<i32>() else {
        return Err(ConsoleError::bad_request(
            "没有选择要删除的教师。请返回名单，点击该教师一行的“删除”。",
        ));
    };
    let actor = Actor::Account(&staff.account);
    match roster_actions::remove_teacher(&state.context, actor, &school, teacher_id).await? {
        Removal::Removed(removed) => Ok(see_other(&format!(
            "/console/schools/{}/teachers?removed={}",
            school.id,
            super::percent_encode(&removed.email)
        ))),
        Removal::Invited(kept) => {
            let view = RosterView {
                error: Some(format!(
                    "{} <{}> 已收到调查邀请，为保留邀请的状态，不能从名单中删除。",
                    kept.name, kept.email
                )),
                ..RosterView::new(&state, &staff, &school).await?
            };
            roster_page(&state, &staff, StatusCode::CONFLICT, view)
        }
        Removal::NotFound => Err(ConsoleError::not_found()),
    }
}

/// Replaces the school's roster with the uploaded file: every line checked first, nothing
/// written if one is bad, then everything in one transaction with its audit event.
async fn school_upload(
    state: web::Data<AppState>,
    viewer: SchoolViewer,
    payload: Multipart,
) -> Result<HttpResponse, ConsoleError> {
    let SchoolViewer { staff, school } = viewer;
    let upload = read_upload(payload).await?;
    staff.check_csrf(&upload.csrf)?;
    let view = RosterView::new(&state, &staff, &school).await?;
    let parsed = match upload.bytes() {
        Err((status, message)) => {
            let view = RosterView {
                error: Some(message),
                ..view
            };
            return roster_page(&state, &staff, status, view);
        }
        Ok(bytes) => teachers::parse_csv(bytes, RosterScope::School(&school.code)),
    };
    let lines = match parsed {
        Ok(lines) => lines,
        Err(error) => {
            let (error, line_errors) = refusal(upload.file_name.as_deref(), error);
            let view = RosterView {
                error: Some(error),
                line_errors,
                ..view
            };
            return roster_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, view);
        }
    };
    let teachers: Vec<NewTeacher> = lines.into_iter().map(|line| line.teacher).collect();
    let imported = roster_actions::import_school_roster(
        &state.context,
        Actor::Account(&staff.account),
        &school,
        &upload.name(),
        &teachers,
    )
    .await;
    let summary = match imported {
        Ok(summary) => summary,
        Err(teachers::RosterChangeError::Db(error)) => return Err(error.into()),
        Err(refusal) => {
            let view = RosterView {
                error: Some(format!("{}：{refusal}", upload.name())),
                ..RosterView::new(&state, &staff, &school).await?
            };
            return roster_page(&state, &staff, StatusCode::UNPROCESSABLE_ENTITY, view);
        }
    };
    let view = RosterView {
        notice: Some(format!("导入完成（{}）。", upload.name())),
        summary: Some(summary),
        ..RosterView::new(&state, &staff, &school).await?
    };
    roster_page(&state, &staff, StatusCode::OK, view)
}

/// The message and the line list of a refused file.
fn refusal(file_name: Option<&str>, error: ImportError) -> (String, Vec<String>) {
    let prefix = file_name
        .map(|name| format!("{name}："))
        .unwrap_or_default();
    match error {
        ImportError::BadLines { lines, .. } => (
            format!(
                "{prefix}发现 {} 处错误，没有导入任何教师。请改正后重新上传：",
                lines.len()
            ),
            lines.iter().map(ToString::to_string).collect(),
        ),
        other => (format!("{prefix}{other}"), Vec::new()),
    }
}

// ---------------------------------------------------------------------------------------------
// The county-wide upload

#[derive(Serialize)]
struct SchoolCount {
    id: i32,
    code: String,
    name: String,
    township: String,
    teachers: i64,
}

#[derive(Serialize, Default)]
struct CountyView {
    error: Option<String>,
    line_errors: Vec<String>,
    file_name: Option<String>,
    summaries: Vec<RosterSummary>,
    school_count: usize,
    done: bool,
    schools: Vec<SchoolCount>,
    max_megabytes: usize,
}

async fn county_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    mut view: CountyView,
) -> Result<HttpResponse, ConsoleError> {
    let counts = teachers::counts_by_school(&state.db).await?;
    view.schools = schools::list(&state.db)
        .await?
        .into_iter()
        .map(|school| SchoolCount {
            teachers: counts.get(&school.id).copied().unwrap_or(0),
            id: school.id,
            code: school.code,
            name: school.name,
            township: school.township,
        })
        .collect();
    view.max_megabytes = MAX_UPLOAD_BYTES / (1024 * 1024);
    staff.render_with_status(
        state,
        status,
        "console/teachers/import",
        "上传全县教师名单",
        "schools",
        view,
    )
}

async fn county_form(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
) -> Result<HttpResponse, ConsoleError> {
    county_page(&state, &staff, StatusCode::OK, CountyView::default()).await
}

/// Replaces the roster of every school the county file lists (schools it does not list keep
/// theirs), all in one transaction; unknown school codes refuse the whole file.
async fn county_upload(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    payload: Multipart,
) -> Result<HttpResponse, ConsoleError> {
    let upload = read_upload(payload).await?;
    staff.check_csrf(&upload.csrf)?;
    let refuse = |error: String, line_errors: Vec<String>| CountyView {
        error: Some(error),
        line_errors,
        file_name: upload.file_name.clone(),
        ..CountyView::default()
    };
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let lines = match upload.bytes() {
        Err((status, message)) => {
            let view = refuse(message, Vec::new());
            return county_page(&state, &staff, status, view).await;
        }
        Ok(bytes) => match teachers::parse_csv(bytes, RosterScope::County) {
            Ok(lines) => lines,
            Err(error) => {
                let (message, line_errors) = refusal(upload.file_name.as_deref(), error);
                let view = refuse(message, line_errors);
                return county_page(&state, &staff, unprocessable, view).await;
            }
        },
    };
    let actor = Actor::Account(&staff.account);
    let imported =
        roster_actions::import_county_rosters(&state.context, actor, &upload.name(), lines).await;
    let summaries = match imported {
        Ok(summaries) => summaries,
        Err(teachers::CountyImportError::BadLines(errors)) => {
            let (message, line_errors) = refusal(
                upload.file_name.as_deref(),
                ImportError::BadLines {
                    what: "教师",
                    lines: errors,
                },
            );
            let view = refuse(message, line_errors);
            return county_page(&state, &staff, unprocessable, view).await;
        }
        Err(teachers::CountyImportError::Db(error)) => return Err(error.into()),
    };
    let view = CountyView {
        file_name: upload.file_name.clone(),
        school_count: summaries.len(),
        summaries,
        done: true,
        ..CountyView::default()
    };
    county_page(&state, &staff, StatusCode::OK, view).await
}
