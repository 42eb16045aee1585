//! The supervisors' console under `/console`: sign-in, roles and CSRF here; the pages of each
//! part in their own module. Every route takes a `Staff` (or answers a sign-in redirect) and
//! checks its role before anything else.

mod admin;
mod auth;
mod campaigns;
mod exports;
pub mod guards;
mod invitations;
mod letters;
mod mail;
mod photos;
mod quality;
mod rectification;
mod reports;
mod results;
mod schools;
pub mod session;
mod targets;
mod teachers;
mod tokens;
pub mod upload;
mod visits;

use crate::web::routes::Routes;
use actix_web::http::header::{
    self, Charset, ContentDisposition, DispositionParam, DispositionType, ExtendedValue,
};
use actix_web::{HttpResponse, web};

pub use super::error::ConsoleError;
pub use guards::{Admin, CampaignPath, ConsolePage, CsrfForm, Me, SchoolViewer, Staff, Supervisor};

/// Console forms: a size limit, and a page in words (not actix's plain-text error) when a form
/// cannot be read — a field missing, a number that is not one, a body too large.
pub fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(256 * 1024)
        .error_handler(|error, _request| {
            let message = match &error {
                actix_web::error::UrlencodedError::Overflow { .. }
                | actix_web::error::UrlencodedError::UnknownLength => {
                    "提交的内容太长，没有保存。".to_owned()
                }
                _ => {
                    "提交的表单不完整或格式不对，没有保存。请返回、刷新页面后重新填写。".to_owned()
                }
            };
            tracing::info!(error = %error, "console form refused");
            ConsoleError::bad_request(message).into()
        })
}

/// Query strings that cannot be read (a page number that is not one) get a page in words too.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _request| {
        tracing::info!(error = %error, "query string refused");
        ConsoleError::bad_request("网址中的参数格式不对。请返回上一页重新操作。".to_owned()).into()
    })
}

/// One option of a `<select>` on a console page.
#[derive(serde::Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// The school a console page is about, as its heading shows it.
#[derive(serde::Serialize)]
pub struct SchoolHead {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub township: String,
}

impl SchoolHead {
    pub fn of(school: &entity::school::Model) -> SchoolHead {
        SchoolHead {
            id: school.id,
            code: school.code.clone(),
            name: school.name.clone(),
            township: school.township.clone(),
        }
    }
}

/// Where a console form goes after it did its work.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location.to_owned()))
        .finish()
}

/// `Content-Disposition` of a download dated today (China time): `{name}-{date}.{extension}` in
/// RFC 5987 form for the Chinese name, and `{ascii_name}-{date}.{extension}` for clients that
/// cannot read it. Characters a file system refuses become `_`.
pub fn download_disposition(name: &str, ascii_name: &str, extension: &str) -> ContentDisposition {
    let date = chrono::Utc::now()
        .with_timezone(&crate::campaigns::china_offset())
        .format("%Y-%m-%d");
    let name: String = name
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '_'
            } else {
                c
            }
        })
        .collect();
    ContentDisposition {
        disposition: DispositionType::Attachment,
        parameters: vec![
            DispositionParam::Filename(format!("{ascii_name}-{date}.{extension}")),
            DispositionParam::FilenameExt(ExtendedValue {
                charset: Charset::Ext("UTF-8".to_owned()),
                language_tag: None,
                value: format!("{name}-{date}.{extension}").into_bytes(),
            }),
        ],
    }
}

/// Encodes a path for a query string (`next=`), keeping it readable.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (byte as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Only paths inside the console are followed after sign-in, never another site, and never a
/// path with a control character or a backslash (which a header cannot carry, or a browser may
/// read as another host).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(next)
            if next.starts_with("/console")
                && !next.starts_with("//")
                && !next.contains("://")
                && !next.contains('\\')
                && !next.chars().any(char::is_control) =>
        {
            next.to_owned()
        }
        _ => "/console".to_owned(),
    }
}

pub fn routes(routes: &mut Routes) {
    routes
        .get("/setup/{token}", auth::setup_form)
        .post("/setup/{token}", auth::setup_submit)
        .get("/console/login", auth::login_form)
        .post("/console/login", auth::login_submit)
        .post("/console/logout", auth::logout)
        .get("/console/password", auth::password_form)
        .post("/console/password", auth::password_submit)
        .get("/console", auth::home);
    schools::routes(routes);
    campaigns::routes(routes);
    exports::routes(routes);
    results::routes(routes);
    admin::routes(routes);
    reports::routes(routes);
    quality::routes(routes);
    tokens::routes(routes);
    mail::routes(routes);
    teachers::routes(routes);
    targets::routes(routes);
    invitations::routes(routes);
    visits::routes(routes);
    rectification::routes(routes);
    letters::routes(routes);
    photos::routes(routes);
}
