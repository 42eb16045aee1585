//! The school list in the console: search, filters, sorting, add and edit, CSV upload and
//! download. Supervisors and admins only. The checks, queries and the CSV format live in
//! `crate::schools`; this module reads requests into its types and renders what it answers.

use crate::web::routes::Routes;
use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use entity::school;
use serde::{Deserialize, Serialize};

use super::guards::{CsrfForm, Staff, Supervisor};
use super::upload::{MAX_UPLOAD_BYTES, UploadedFile, read_upload};
use super::{ConsoleError, download_disposition, percent_encode};
use crate::change::Actor;
use crate::schools::actions as school_actions;
use crate::schools::{
    self, FieldError, ImportError, NewSchool, SaveError, SchoolField, SchoolFields, SchoolKind,
    SchoolQuery,
};
use crate::web::AppState;

pub fn routes(routes: &mut Routes) {
    routes
        .get("/console/schools", list)
        .get("/console/schools.csv", download)
        .get("/console/schools/template.csv", template)
        .get("/console/schools/new", new_form)
        .post("/console/schools/new", create)
        .get("/console/schools/import", import_form)
        .post("/console/schools/import", import_upload)
        .get("/console/schools/{id}/edit", edit_form)
        .post("/console/schools/{id}/edit", update);
}

// ---------------------------------------------------------------------------------------------
// The list and its download

/// The list's query string as typed or linked. Anything unrecognised reads as "any".
#[derive(Deserialize)]
pub struct ListParams {
    q: Option<String>,
    township: Option<String>,
    kind: Option<String>,
    central: Option<String>,
    key_village: Option<String>,
    sort: Option<String>,
    dir: Option<String>,
    page: Option<String>,
    /// Set by the redirect after a school was added or saved, to say so.
    added: Option<String>,
    updated: Option<String>,
}

impl ListParams {
    fn query(&self) -> SchoolQuery {
        let defaults = SchoolQuery::default();
        SchoolQuery {
            text: self.q.as_deref().unwrap_or_default().trim().to_owned(),
            township: self
                .township
                .as_deref()
                .map(str::trim)
                .filter(|township| !township.is_empty())
                .map(str::to_owned),
            kind: self.kind.as_deref().and_then(SchoolKind::parse),
            is_central: yes_or_no(self.central.as_deref()),
            is_key_village: yes_or_no(self.key_village.as_deref()),
            sort: self
                .sort
                .as_deref()
                .and_then(SchoolField::from_english)
                .unwrap_or(defaults.sort),
            descending: self.dir.as_deref() == Some("desc"),
        }
    }

    fn page(&self) -> u64 {
        self.page
            .as_deref()
            .and_then(|page| page.parse().ok())
            .unwrap_or(1)
    }
}

fn yes_or_no(value: Option<&str>) -> Option<bool> {
    match value {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    }
}

fn yes_or_no_param(value: Option<bool>) -> &'static str {
    match value {
        Some(true) => "yes",
        Some(false) => "no",
        None => "",
    }
}

/// `path` with the query string that asks for `query` (and `page`, past the first), leaving out
/// what is the default, so that links stay short and read well.
fn link_to(path: &str, query: &SchoolQuery, page: u64) -> String {
    let defaults = SchoolQuery::default();
    let mut params: Vec<(&str, String)> = Vec::new();
    if !query.text.is_empty() {
        params.push(("q", query.text.clone()));
    }
    if let Some(township) = &query.township {
        params.push(("township", township.clone()));
    }
    if let Some(kind) = query.kind {
        params.push(("kind", kind.english_name().to_owned()));
    }
    if query.is_central.is_some() {
        params.push(("central", yes_or_no_param(query.is_central).to_owned()));
    }
    if query.is_key_village.is_some() {
        let value = yes_or_no_param(query.is_key_village).to_owned();
        params.push(("key_village", value));
    }
    if query.sort != defaults.sort || query.descending {
        params.push(("sort", query.sort.english().to_owned()));
        params.push(("dir", direction(query.descending).to_owned()));
    }
    if page > 1 {
        params.push(("page", page.to_string()));
    }
    if params.is_empty() {
        return path.to_owned();
    }
    let pairs: Vec<String> = params
        .iter()
        .map(|(name, value)| format!("{name}={}", percent_encode(value)))
        .collect();
    format!("{path}?{}", pairs.join("&"))
}

fn direction(descending: bool) -> &'static str {
    if descending { "desc" } else { "asc" }
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

impl Choice {
    fn new(value: &str, label: &str, selected: bool) -> Choice {
        Choice {
            value: value.to_owned(),
            label: label.to_owned(),
            selected,
        }
    }

    fn yes_no_any(current: Option<bool>) -> Vec<Choice> {
        vec![
            Choice::new("", "全部", current.is_none()),
            Choice::new("yes", "是", current == Some(true)),
            Choice::new("no", "否", current == Some(false)),
        ]
    }
}

#[derive(Serialize)]
struct Filters {
    q: String,
    townships: Vec<Choice>,
    kinds: Vec<Choice>,
    central: Vec<Choice>,
    key_village: Vec<Choice>,
    sort: &'static str,
    dir: &'static str,
}

#[derive(Serialize)]
struct Header {
    label: &'static str,
    href: String,
    /// `▲`, `▼` or nothing.
    arrow: &'static str,
    aria_sort: &'static str,
    numeric: bool,
}

#[derive(Serialize)]
struct Pager {
    page: u64,
    pages: u64,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Serialize)]
struct ListView {
    notice: Option<String>,
    filters: Filters,
    filtered: bool,
    headers: Vec<Header>,
    schools: Vec<school::Model>,
    total: u64,
    has_rows: bool,
    pager: Option<Pager>,
    csv_href: String,
}

async fn list(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ConsoleError> {
    let query = params.query();
    let found = schools::search_page(&state.db, &query, params.page()).await?;
    let townships = schools::townships(&state.db).await?;
    let notice = saved_notice(&state, &params).await?;
    let view = ListView {
        notice,
        filters: filters(&query, townships),
        filtered: query.is_filtered(),
        headers: headers(&query),
        has_rows: !found.schools.is_empty(),
        total: found.total,
        pager: (found.pages > 1).then(|| Pager {
            page: found.page,
            pages: found.pages,
            previous: (found.page > 1).then(|| link_to("/console/schools", &query, found.page - 1)),
            next: (found.page < found.pages)
                .then(|| link_to("/console/schools", &query, found.page + 1)),
        }),
        schools: found.schools,
        csv_href: link_to("/console/schools.csv", &query, 1),
    };
    staff.render(&state, "console/schools/list", "学校", "schools", view)
}

/// "Added" or "saved" with the school's name, after the redirect from the form.
async fn saved_notice(
    state: &AppState,
    params: &ListParams,
) -> Result<Option<String>, ConsoleError> {
    let (verb, id) = match (&params.added, &params.updated) {
        (Some(id), _) => ("已添加", id),
        (None, Some(id)) => ("已保存", id),
        (None, None) => return Ok(None),
    };
    let Ok(id) = id.parse::<i32>() else {
        return Ok(None);
    };
    let school = schools::find(&state.db, id).await?;
    Ok(school.map(|school| format!("{verb}学校：{}（{}）", school.name, school.code)))
}

fn filters(query: &SchoolQuery, townships: Vec<String>) -> Filters {
    let mut township_choices = vec![Choice::new("", "全部", query.township.is_none())];
    township_choices.extend(townships.iter().map(|township| {
        let selected = query.township.as_deref() == Some(township.as_str());
        Choice::new(township, township, selected)
    }));
    let mut kind_choices = vec![Choice::new("", "全部", query.kind.is_none())];
    kind_choices.extend(
        SchoolKind::ALL
            .iter()
            .map(|kind| Choice::new(kind.english_name(), kind.label(), query.kind == Some(*kind))),
    );
    Filters {
        q: query.text.clone(),
        townships: township_choices,
        kinds: kind_choices,
        central: Choice::yes_no_any(query.is_central),
        key_village: Choice::yes_no_any(query.is_key_village),
        sort: query.sort.english(),
        dir: direction(query.descending),
    }
}

/// Each column's header links to the list sorted by it, ascending, or descending when it already
/// is ascending; the filters are kept, the page is not.
fn headers(query: &SchoolQuery) -> Vec<Header> {
    SchoolField::ALL
        .into_iter()
        .map(|field| {
            let current = query.sort == field;
            let sorted = SchoolQuery {
                sort: field,
                descending: current && !query.descending,
                ..query.clone()
            };
            let (arrow, aria_sort) = match (current, query.descending) {
                (false, _) => ("", "none"),
                (true, false) => ("▲", "ascending"),
                (true, true) => ("▼", "descending"),
            };
            Header {
                label: field.chinese(),
                href: link_to("/console/schools", &sorted, 1),
                arrow,
                aria_sort,
                numeric: matches!(field, SchoolField::Enrolment | SchoolField::Teachers),
            }
        })
        .collect()
}

async fn download(
    state: web::Data<AppState>,
    _: Supervisor,
    params: web::Query<ListParams>,
) -> Result<HttpResponse, ConsoleError> {
    let found = schools::search(&state.db, &params.query()).await?;
    let bytes = schools::to_csv(&found).map_err(ConsoleError::internal)?;
    Ok(csv_attachment(bytes, "学校名单", "schools"))
}

async fn template(_staff: Supervisor) -> Result<HttpResponse, ConsoleError> {
    let bytes = schools::csv_template().map_err(ConsoleError::internal)?;
    Ok(csv_attachment(bytes, "学校名单模板", "schools-template"))
}

/// A CSV download named `{name}-{date}.csv` (see `download_disposition`).
fn csv_attachment(bytes: Vec<u8>, name: &str, ascii_name: &str) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header(download_disposition(name, ascii_name, "csv"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(bytes)
}

// ---------------------------------------------------------------------------------------------
// Adding and editing one school

/// The form as posted: every value a string, exactly as typed, so it can be shown back.
#[derive(Deserialize, Default)]
pub struct SchoolForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    township: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    central: String,
    #[serde(default)]
    key_village: String,
    #[serde(default)]
    enrolment: String,
    #[serde(default)]
    teachers: String,
}

impl SchoolForm {
    fn fields(&self) -> SchoolFields<'_> {
        SchoolFields {
            code: &self.code,
            name: &self.name,
            township: &self.township,
            kind: &self.kind,
            central: &self.central,
            key_village: &self.key_village,
            enrolment: &self.enrolment,
            teachers: &self.teachers,
        }
    }

    fn of(school: &school::Model) -> SchoolForm {
        let [
            code,
            name,
            township,
            kind,
            central,
            key_village,
            enrolment,
            teachers,
        ] = schools::sheet_row(school);
        SchoolForm {
            code,
            name,
            township,
            kind,
            central,
            key_village,
            enrolment,
            teachers,
        }
    }
}

/// The message beside each field; several for one field are joined.
#[derive(Serialize, Default)]
struct FieldMessages {
    code: Option<String>,
    name: Option<String>,
    township: Option<String>,
    kind: Option<String>,
    central: Option<String>,
    key_village: Option<String>,
    enrolment: Option<String>,
    teachers: Option<String>,
}

impl FieldMessages {
    fn of(errors: &[FieldError]) -> FieldMessages {
        let mut messages = FieldMessages::default();
        for error in errors {
            let slot = match error.field {
                SchoolField::Code => &mut messages.code,
                SchoolField::Name => &mut messages.name,
                SchoolField::Township => &mut messages.township,
                SchoolField::Kind => &mut messages.kind,
                SchoolField::Central => &mut messages.central,
                SchoolField::KeyVillage => &mut messages.key_village,
                SchoolField::Enrolment => &mut messages.enrolment,
                SchoolField::Teachers => &mut messages.teachers,
            };
            *slot = Some(match slot.take() {
                Some(earlier) => format!("{earlier}；{}", error.reason),
                None => error.reason.clone(),
            });
        }
        messages
    }
}

#[derive(Serialize)]
struct FormValues {
    code: String,
    name: String,
    township: String,
    central: bool,
    key_village: bool,
    enrolment: String,
    teachers: String,
}

#[derive(Serialize)]
struct FormView {
    heading: &'static str,
    action: String,
    values: FormValues,
    kinds: Vec<Choice>,
    errors: FieldMessages,
    error_count: usize,
}

/// Which school a form adds or edits.
#[derive(Clone, Copy)]
enum Target {
    New,
    Existing(i32),
}

fn form_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    target: Target,
    form: &SchoolForm,
    errors: &[FieldError],
) -> Result<HttpResponse, ConsoleError> {
    let (heading, action) = match target {
        Target::New => ("添加学校", "/console/schools/new".to_owned()),
        Target::Existing(id) => ("编辑学校", format!("/console/schools/{id}/edit")),
    };
    let kind = SchoolKind::parse(&form.kind);
    let mut kinds = vec![Choice::new("", "请选择", kind.is_none())];
    kinds.extend(
        SchoolKind::ALL
            .iter()
            .map(|each| Choice::new(each.label(), each.label(), kind == Some(*each))),
    );
    let view = FormView {
        heading,
        action,
        values: FormValues {
            code: form.code.clone(),
            name: form.name.clone(),
            township: form.township.clone(),
            central: form.central.trim() == schools::flag_label(true),
            key_village: form.key_village.trim() == schools::flag_label(true),
            enrolment: form.enrolment.clone(),
            teachers: form.teachers.clone(),
        },
        kinds,
        errors: FieldMessages::of(errors),
        error_count: errors.len(),
    };
    staff.render_with_status(
        state,
        status,
        "console/schools/form",
        heading,
        "schools",
        view,
    )
}

async fn new_form(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
) -> Result<HttpResponse, ConsoleError> {
    let blank = SchoolForm::default();
    form_page(&state, &staff, StatusCode::OK, Target::New, &blank, &[])
}

async fn edit_form(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
) -> Result<HttpResponse, ConsoleError> {
    let id = id.into_inner();
    let school = schools::find(&state.db, id)
        .await?
        .ok_or(ConsoleError::not_found())?;
    let form = SchoolForm::of(&school);
    form_page(
        &state,
        &staff,
        StatusCode::OK,
        Target::Existing(id),
        &form,
        &[],
    )
}

async fn create(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    form: CsrfForm<SchoolForm>,
) -> Result<HttpResponse, ConsoleError> {
    save(&state, &staff, Target::New, &form).await
}

async fn update(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    id: web::Path<i32>,
    form: CsrfForm<SchoolForm>,
) -> Result<HttpResponse, ConsoleError> {
    save(&state, &staff, Target::Existing(id.into_inner()), &form).await
}

/// Checks the form as a CSV line would be checked, saves the school (with its audit event), and
/// goes back to the list; or shows the form again with its messages.
async fn save(
    state: &AppState,
    staff: &Staff,
    target: Target,
    form: &SchoolForm,
) -> Result<HttpResponse, ConsoleError> {
    let refuse = |errors: &[FieldError]| {
        let status = StatusCode::UNPROCESSABLE_ENTITY;
        form_page(state, staff, status, target, form, errors)
    };
    let school = match NewSchool::from_fields(&form.fields()) {
        Ok(school) => school,
        Err(errors) => return refuse(&errors),
    };
    let actor = Actor::Account(&staff.account);
    let saved = match target {
        Target::New => school_actions::create_school(&state.context, actor, &school)
            .await
            .map(Some),
        Target::Existing(id) => {
            school_actions::update_school(&state.context, actor, id, &school).await
        }
    };
    let saved = match saved {
        Ok(Some(saved)) => saved,
        Ok(None) => return Err(ConsoleError::not_found()),
        Err(error @ SaveError::DuplicateCode { .. }) => {
            return refuse(&[FieldError {
                field: SchoolField::Code,
                reason: error.to_string(),
            }]);
        }
        Err(SaveError::Db(error)) => return Err(error.into()),
    };
    let redirect = match target {
        Target::New => format!("/console/schools?added={}", saved.id),
        Target::Existing(_) => format!("/console/schools?updated={}", saved.id),
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((header::LOCATION, redirect))
        .finish())
}

// ---------------------------------------------------------------------------------------------
// Uploading a school file

#[derive(Serialize)]
struct Summary {
    created: usize,
    updated: usize,
}

#[derive(Serialize, Default)]
struct ImportView {
    kinds: String,
    max_megabytes: usize,
    file_name: Option<String>,
    summary: Option<Summary>,
    error: Option<String>,
    line_errors: Vec<String>,
}

impl ImportView {
    fn new() -> ImportView {
        ImportView {
            kinds: SchoolKind::ALL.map(SchoolKind::label).join("、"),
            max_megabytes: MAX_UPLOAD_BYTES / (1024 * 1024),
            ..ImportView::default()
        }
    }

    fn refused(file_name: Option<String>, error: String) -> ImportView {
        ImportView {
            file_name,
            error: Some(error),
            ..ImportView::new()
        }
    }
}

fn import_page(
    state: &AppState,
    staff: &Staff,
    status: StatusCode,
    view: ImportView,
) -> Result<HttpResponse, ConsoleError> {
    let title = "上传学校名单";
    staff.render_with_status(
        state,
        status,
        "console/schools/import",
        title,
        "schools",
        view,
    )
}

async fn import_form(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
) -> Result<HttpResponse, ConsoleError> {
    import_page(&state, &staff, StatusCode::OK, ImportView::new())
}

/// Runs the command line's import on the uploaded file: every line checked first, nothing
/// written if one is bad, then everything in one transaction with its audit event.
async fn import_upload(
    state: web::Data<AppState>,
    Supervisor(staff): Supervisor,
    payload: Multipart,
) -> Result<HttpResponse, ConsoleError> {
    let upload = read_upload(payload).await?;
    staff.check_csrf(&upload.csrf)?;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let bytes = match upload.file {
        UploadedFile::Missing => {
            let view = ImportView::refused(None, "请先选择要上传的 CSV 文件".to_owned());
            return import_page(&state, &staff, unprocessable, view);
        }
        UploadedFile::TooLarge => {
            let message = format!(
                "文件超过 {} MB，没有导入。学校名单通常只有几百 KB：请确认选择的是导出的 CSV 文件，\
                 而不是 Excel 工作簿或其他文件",
                MAX_UPLOAD_BYTES / (1024 * 1024)
            );
            let view = ImportView::refused(upload.file_name, message);
            return import_page(&state, &staff, StatusCode::PAYLOAD_TOO_LARGE, view);
        }
        UploadedFile::Read(bytes) => bytes,
    };
    let parsed = match schools::parse_csv(&bytes) {
        Ok(parsed) => parsed,
        Err(ImportError::BadLines { lines, .. }) => {
            let view = ImportView {
                line_errors: lines.iter().map(ToString::to_string).collect(),
                ..ImportView::refused(
                    upload.file_name,
                    format!(
                        "发现 {} 处错误，没有导入任何学校。请改正后重新上传：",
                        lines.len()
                    ),
                )
            };
            return import_page(&state, &staff, unprocessable, view);
        }
        Err(error) => {
            let view = ImportView::refused(upload.file_name, error.to_string());
            return import_page(&state, &staff, unprocessable, view);
        }
    };
    let file_name = upload
        .file_name
        .unwrap_or_else(|| "（未命名文件）".to_owned());
    let actor = Actor::Account(&staff.account);
    let summary =
        school_actions::import_schools(&state.context, actor, &file_name, &parsed, &|_| {}).await?;
    let view = ImportView {
        file_name: Some(file_name),
        summary: Some(Summary {
            created: summary.created,
            updated: summary.updated,
        }),
        ..ImportView::new()
    };
    import_page(&state, &staff, StatusCode::OK, view)
}

#[cfg(test)]
mod tests {
    use super::{ListParams, link_to};
    use crate::schools::{SchoolField, SchoolKind, SchoolQuery};

    /// The parameters as actix's `Query` extractor reads them.
    fn params(query: &str) -> ListParams {
        actix_web::web::Query::<ListParams>::from_query(query)
            .expect("parses")
            .into_inner()
    }

    #[test]
    fn list_parameters_become_a_query_and_unknown_values_mean_any() {
        let query = params(
            "q=+%E4%B8%AD%E5%BF%83+&township=%E7%9F%B3%E9%97%A8%E9%95%87&kind=primary&central=yes&key_village=maybe&sort=enrolment&dir=desc&page=2",
        )
        .query();
        assert_eq!(
            query,
            SchoolQuery {
                text: "中心".to_owned(),
                township: Some("石门镇".to_owned()),
                kind: Some(SchoolKind::Primary),
                is_central: Some(true),
                is_key_village: None,
                sort: SchoolField::Enrolment,
                descending: true,
            }
        );

        let odd = params("sort=id;DROP&dir=sideways&kind=university&township=&page=x");
        assert_eq!(odd.query(), SchoolQuery::default());
        assert_eq!(odd.page(), 1);
    }

    #[test]
    fn links_carry_the_query_and_read_back_the_same() {
        let query = SchoolQuery {
            text: "中心 & 小学".to_owned(),
            township: Some("石门镇".to_owned()),
            kind: Some(SchoolKind::NineYear),
            is_key_village: Some(false),
            sort: SchoolField::Teachers,
            descending: true,
            ..SchoolQuery::default()
        };
        let link = link_to("/console/schools", &query, 3);
        let (path, query_string) = link.split_once('?').expect("a query string");
        assert_eq!(path, "/console/schools");
        assert!(query_string.contains("page=3"), "{link}");
        let read_back = params(query_string);
        assert_eq!(read_back.query(), query);
        assert_eq!(read_back.page(), 3);

        assert_eq!(
            link_to("/console/schools", &SchoolQuery::default(), 1),
            "/console/schools"
        );
    }
}
