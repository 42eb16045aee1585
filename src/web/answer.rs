//! The pages a parent, student or teacher sees: the form of a school's link, its submission, the
//! thank-you page, and the link's QR code.

use std::sync::Arc;

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use serde::Serialize;

use super::AppState;
use super::body::{self, BodyError};
use super::error::{Failure, PageError};
use super::form_view::form_view;
use super::spliced;
use super::templates::{self, MessagePage};
use crate::answering::validate::{KEY_FIELD, SERVED_AT_FIELD};
use crate::answering::writer::{Admission, Outcome, Replies, Submission};
use crate::answering::{self, FormErrors, FormFields};
use crate::campaigns::{self, Availability, LinkContext};
use crate::links;
use crate::quality::admission::AddressVerdict;
use crate::quality::{Flag, Selection};
use crate::secrets;
use crate::survey::{Audience, Survey};

/// The cookie that tells one browser from another (never a person); see README, "One answer
/// per phone".
const BROWSER_COOKIE: &str = "dupin_browser";
/// Forms older than this still submit; the time is kept only for answer-quality checks.
const LONGEST_PLAUSIBLE_FILL_MS: i64 = 24 * 3600 * 1000;

/// The signed served time of a form for `key` (see `answering::signed`).
fn served_time(state: &AppState, context: &LinkContext, key: &str) -> String {
    answering::signed::served_time(&state.form_signing, context.link.id, key, Utc::now())
}

async fn find_link(state: &AppState, token: &str) -> Result<Arc<LinkContext>, PageError> {
    let token = links::normalize_token(token).ok_or(PageError::not_found())?;
    state.link(&token).await?.ok_or(PageError::not_found())
}

/// A school's link (`None`), or else a teacher's personal invitation link (`Some(used)`), whose
/// context carries the invitation's token so that its form posts back to it.
async fn find_link_or_invitation(
    state: &AppState,
    token: &str,
) -> Result<(Arc<LinkContext>, Option<bool>), PageError> {
    let token = links::normalize_token(token).ok_or(PageError::not_found())?;
    if let Some(context) = state.link(&token).await? {
        return Ok((context, None));
    }
    let (context, used) = state
        .personal_link(&token)
        .await?
        .ok_or(PageError::not_found())?;
    Ok((context, Some(used)))
}

const INVITATION_USED: &str = "此邀请链接已经使用过，每个链接只能提交一次。感谢您的参与！";

/// A personal link's form: rendered for it alone (the school link's prepared page posts to the
/// school link). The invitation, not the cookie, limits it to one answer; the cookie is still
/// given, as on every form, so that the answer-quality checks see an ordinary browser.
fn personal_form(
    state: &AppState,
    context: &LinkContext,
    survey: &Survey,
    used: bool,
    has_cookie: bool,
) -> Result<HttpResponse, PageError> {
    if used {
        return message(state, StatusCode::OK, "此链接已经使用过", INVITATION_USED);
    }
    let key = secrets::form_key(Utc::now());
    let served_at = served_time(state, context, &key);
    let body = render_form(state, context, survey, None, key, served_at)?;
    let mut response = HttpResponse::Ok();
    if !has_cookie {
        response.append_header(new_browser_cookie(state));
    }
    Ok(templates::html(response, body))
}

/// The browser's cookie, if this server issued it (its random part); any other counts as none.
/// The random part of the browser cookie this server issued, if the request carries one. Read
/// from the `Cookie` header itself: `HttpRequest::cookie` parses every cookie into owned strings
/// kept in the request's extensions, on every form served and submitted.
fn browser_cookie(state: &AppState, request: &HttpRequest) -> Option<String> {
    let value = request
        .headers()
        .get_all(header::COOKIE)
        .filter_map(|header| header.to_str().ok())
        .flat_map(|header| header.split(';'))
        .find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name.trim() == BROWSER_COOKIE).then(|| value.trim())
        })?;
    answering::signed::verified_browser(&state.form_signing, value)
}

/// A new browser cookie, as the `Set-Cookie` header of a response: `name=value; HttpOnly;
/// SameSite=Lax; [Secure; ]Path=/; Max-Age=…`, as the `cookie` crate writes a `Cookie` with
/// those attributes (pinned by a test), written out directly on every form served to a new phone.
fn new_browser_cookie(state: &AppState) -> (header::HeaderName, String) {
    let value = answering::signed::new_browser_cookie(&state.form_signing, Utc::now());
    (
        header::SET_COOKIE,
        browser_cookie_header(&value, state.secure_cookies),
    )
}

/// Two years, in seconds.
const BROWSER_COOKIE_MAX_AGE: &str = "63072000";

fn browser_cookie_header(value: &str, secure: bool) -> String {
    let mut header = String::with_capacity(BROWSER_COOKIE.len() + value.len() + 72);
    for part in [
        BROWSER_COOKIE,
        "=",
        value,
        "; HttpOnly; SameSite=Lax",
        if secure { "; Secure" } else { "" },
        "; Path=/; Max-Age=",
        BROWSER_COOKIE_MAX_AGE,
    ] {
        header.push_str(part);
    }
    header
}

fn unavailable_page(availability: &Availability, submitting: bool) -> Option<(StatusCode, String)> {
    let not_saved = if submitting {
        "您的答案没有被保存。"
    } else {
        ""
    };
    let message = match availability {
        Availability::Open => return None,
        Availability::Draft => format!("本次调查还没有开始，请留意学校的通知。{not_saved}"),
        Availability::NotYetOpen(opens) => format!(
            "本次调查将于 {} 开始，届时请再扫码填写。{not_saved}",
            campaigns::display_time(*opens)
        ),
        Availability::Closed => format!("本次调查已经结束，感谢您的关注。{not_saved}"),
    };
    let status = if submitting {
        StatusCode::FORBIDDEN
    } else {
        StatusCode::OK
    };
    Some((status, message))
}

#[derive(Serialize)]
struct FormPage<'a> {
    title: &'a str,
    school: &'a str,
    campaign: &'a str,
    intro: &'a str,
    minutes: Option<u32>,
    /// Parents, students and teachers answer anonymously; a school's self-check is signed by
    /// the school.
    anonymous: bool,
    action: String,
    key: String,
    served_at: String,
    errors: Vec<String>,
    questions_html: &'a str,
}

fn render_form(
    state: &AppState,
    context: &LinkContext,
    survey: &Survey,
    submitted: Option<(&FormFields, &FormErrors)>,
    key: String,
    served_at: String,
) -> Result<String, PageError> {
    let questions_html = match submitted {
        None => state.blank_form(context.campaign.survey_version_id, || {
            Ok(state
                .templates
                .render("form_questions", &form_view(survey, None))?)
        })?,
        Some(_) => Arc::from(
            state
                .templates
                .render("form_questions", &form_view(survey, submitted))?,
        ),
    };
    let mut errors: Vec<String> = submitted
        .map(|(_, errors)| errors.general.clone())
        .unwrap_or_default();
    if let Some((_, form_errors)) = submitted
        && !form_errors.by_question.is_empty()
    {
        errors.push(format!(
            "有 {} 道题需要修改，请查看标红的题目。",
            form_errors.by_question.len()
        ));
    }
    let page = FormPage {
        title: &survey.title,
        school: &context.school.name,
        campaign: &context.campaign.name,
        intro: &survey.intro,
        minutes: survey.minutes,
        anonymous: survey.audience != Audience::School,
        action: format!("/s/{}", context.link.token),
        key,
        served_at,
        errors,
        questions_html: &questions_html,
    };
    Ok(state.templates.render("form", &page)?)
}

fn message(
    state: &AppState,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Result<HttpResponse, PageError> {
    let body = state.templates.render(
        "message",
        &MessagePage {
            title,
            heading: title,
            message: text,
        },
    )?;
    Ok(templates::html(HttpResponse::build(status), body))
}

const ALREADY_ANSWERED: &str = "这部手机已经提交过本次问卷，每部手机只需填写一次。感谢您的参与！";

pub async fn show_form(
    state: web::Data<AppState>,
    token: web::Path<String>,
    request: HttpRequest,
) -> Result<HttpResponse, PageError> {
    let (context, personal) = find_link_or_invitation(&state, &token).await?;
    if let Some((status, text)) = unavailable_page(
        &campaigns::availability(&context.campaign, Utc::now()),
        false,
    ) {
        return message(&state, status, &context.campaign.name, &text);
    }
    if let Some(used) = personal {
        let survey = state.survey(context.link_survey_version()).await?;
        let has_cookie = browser_cookie(&state, &request).is_some();
        return personal_form(&state, &context, &survey, used, has_cookie);
    }
    let cookie = browser_cookie(&state, &request);
    if let Some(cookie) = &cookie
        && state
            .has_answered(
                context.campaign.id,
                &answering::browser_key(context.campaign.id, cookie),
            )
            .await?
    {
        return message(&state, StatusCode::OK, "您已经填写过了", ALREADY_ANSWERED);
    }
    let survey = state.survey(context.link_survey_version()).await?;
    let page = state.spliced_form(context.link.id, || {
        render_form(
            &state,
            &context,
            &survey,
            None,
            spliced::KEY_MARK.to_owned(),
            spliced::TIME_MARK.to_owned(),
        )
    })?;
    let key = secrets::form_key(Utc::now());
    let served_at = served_time(&state, &context, &key);
    let mut response = HttpResponse::Ok();
    if cookie.is_none() {
        response.append_header(new_browser_cookie(&state));
    }
    response
        .content_type("text/html; charset=utf-8")
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((header::VARY, "Accept-Encoding"));
    let accepts_gzip = request
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| {
            value
                .split(',')
                .any(|coding| coding.trim().split(';').next() == Some("gzip"))
        });
    if accepts_gzip {
        let gzipped = page.gzip(&key, &served_at).map_err(PageError::internal)?;
        // Already encoded: the compression middleware leaves it alone.
        response.insert_header((header::CONTENT_ENCODING, "gzip"));
        return Ok(response.body(gzipped));
    }
    Ok(response.body(page.plain(&key, &served_at)))
}

pub async fn submit_form(
    state: web::Data<AppState>,
    replies: web::Data<Replies>,
    token: web::Path<String>,
    request: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, PageError> {
    let (context, personal) = find_link_or_invitation(&state, &token).await?;
    let now = Utc::now();
    if let Some((status, text)) =
        unavailable_page(&campaigns::availability(&context.campaign, now), true)
    {
        return message(&state, status, &context.campaign.name, &text);
    }
    let survey = state.survey(context.link_survey_version()).await?;
    let refuse = |status: StatusCode,
                  fields: &FormFields,
                  errors: &FormErrors|
     -> Result<HttpResponse, PageError> {
        let key = fields
            .single(KEY_FIELD)
            .filter(|key| secrets::is_random_key(key))
            .map(str::to_owned)
            .unwrap_or_else(secrets::random_key);
        let served_at = served_time(&state, &context, &key);
        let body = render_form(
            &state,
            &context,
            &survey,
            Some((fields, errors)),
            key,
            served_at,
        )?;
        Ok(templates::html(HttpResponse::build(status), body))
    };
    let general = |text: &str| FormErrors {
        general: vec![text.to_owned()],
        malformed: true,
        ..FormErrors::default()
    };

    let is_form = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return refuse(
            StatusCode::BAD_REQUEST,
            &FormFields::default(),
            &general("提交的内容不是本问卷的表单，请重新填写后提交。"),
        );
    }
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok());
    let body = match body::read_limited(payload, declared).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => return Err(PageError::new(Failure::PayloadTooLarge)),
        Err(BodyError::TimedOut) => return Err(PageError::new(Failure::RequestTimeout)),
        Err(BodyError::Unreadable) => return Err(PageError::new(Failure::Unreadable)),
    };
    let Some(fields) = body::parse_urlencoded(&body) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            &FormFields::default(),
            &general("提交的内容无法识别（可能含有无效字符），答案没有保存，请重新填写。"),
        );
    };
    let answers = match answering::validate(&survey, &fields) {
        Ok(answers) => answers,
        Err(errors) => {
            let status = if errors.malformed {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            return refuse(status, &fields, &errors);
        }
    };
    let Some(key) = fields
        .single(KEY_FIELD)
        .filter(|key| secrets::is_random_key(key))
    else {
        return refuse(
            StatusCode::BAD_REQUEST,
            &fields,
            &general("页面已过期，请检查您的答案后再点一次“提交”。"),
        );
    };
    // The served time must be one this server signed for this form: the too-fast check rests
    // on the server's clocks only, and a form with a moved or missing time is not ours.
    let Some(served) = fields.single(SERVED_AT_FIELD).and_then(|value| {
        answering::signed::verified_served_time(&state.form_signing, context.link.id, key, value)
    }) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            &fields,
            &general("这份表单不是从本页面提交的，答案没有保存。请检查您的答案后再点一次“提交”。"),
        );
    };
    let duration_ms = Some((now - served).num_milliseconds())
        .filter(|elapsed| (0..=LONGEST_PLAUSIBLE_FILL_MS).contains(elapsed));
    let cookie = browser_cookie(&state, &request);
    let rules = &state.plan.rules.quality;
    let mut flags = quality_flags(
        &state,
        &context,
        &survey,
        &answers,
        duration_ms,
        cookie.is_some() || personal.is_some(),
        now,
    )
    .await;
    // Past the ceiling of answers from one address to this link, the answer is held, and so are
    // the address's earlier ones of the window (held below, once this one is stored).
    let address = crate::web::client_address(&state, &request);
    let address_verdict = address.map(|address| {
        state.address_windows.admit(
            address,
            context.link.id,
            key,
            rules.answers_per_address,
            rules.admission_minutes,
        )
    });
    if let Some(AddressVerdict::Held { .. }) = &address_verdict {
        flags.push(Flag::Held);
    }
    let held_left_out = rules.leave_out.contains(&Flag::Held);
    let submission = Submission {
        campaign_id: context.campaign.id,
        school_id: context.school.id,
        link_id: context.link.id,
        survey_version_id: context.campaign.survey_version_id,
        idempotency_key: key.to_owned(),
        // Through a personal link the invitation, not the browser, limits it to one answer.
        browser_key: cookie
            .as_deref()
            .filter(|_| personal.is_none())
            .map(|cookie| answering::browser_key(context.campaign.id, cookie)),
        invitation_token: personal.map(|_| context.link.token.clone()),
        answers_json: answers.to_json(),
        tally_keys: answers.tally_keys(),
        scores: answering::scoring::area_scores(&survey, &answers),
        duration_ms,
        submitted_at: now,
        left_out: rules.leaves_out(&flags),
        flags: crate::quality::join(&flags),
        admission: Some(Admission {
            per_minute: rules.answers_per_minute(i64::from(context.link.expected)),
            held_left_out,
        }),
    };
    let browser_key = submission.browser_key.clone();
    let outcome = state.writer.submit_through(submission, &replies).await;
    if let Ok(Outcome::Stored | Outcome::Held { .. }) = &outcome {
        // Admitted, but its address passed the ceiling while it waited for the writer: held
        // with the rest of the window.
        let address_verdict =
            state
                .address_windows
                .once_stored(address_verdict, address, context.link.id, key);
        hold_what_came_before(&state, &context, &outcome, address_verdict, now).await;
    }
    if let (Ok(Outcome::Stored | Outcome::Held { .. } | Outcome::AlreadyAnswered), Some(browser)) =
        (&outcome, &browser_key)
    {
        state.answered(browser);
    }
    match outcome {
        Ok(Outcome::Stored | Outcome::AlreadyStored | Outcome::Held { .. }) => {
            let mut response = HttpResponse::SeeOther();
            response.insert_header((
                header::LOCATION,
                format!("/s/{}/thanks", context.link.token),
            ));
            if cookie.is_none() {
                response.append_header(new_browser_cookie(&state));
            }
            Ok(response.finish())
        }
        Ok(Outcome::AlreadyAnswered) => message(
            &state,
            StatusCode::CONFLICT,
            "您已经填写过了",
            ALREADY_ANSWERED,
        ),
        Ok(Outcome::InvitationUsed) => message(
            &state,
            StatusCode::CONFLICT,
            "此链接已经使用过",
            INVITATION_USED,
        ),
        Err(error) => {
            tracing::error!(error = %error, "an answer could not be stored");
            refuse(
                StatusCode::SERVICE_UNAVAILABLE,
                &fields,
                &FormErrors {
                    general: vec![
                        "系统繁忙，您的答案还没有保存。请稍等片刻，再点一次“提交”。".to_owned(),
                    ],
                    ..FormErrors::default()
                },
            )
        }
    }
}

/// Once an answer past a rate is stored, the answers that came with it before it are held too:
/// the link's answers of the minute in which the link passed its rate with this answer,
/// and the address's earlier answers to the link when this one passed the address's ceiling. A
/// failure is logged: the answers stay stored, and a supervisor still sees the flags.
async fn hold_what_came_before(
    state: &AppState,
    context: &LinkContext,
    outcome: &Result<Outcome, crate::answering::writer::WriteError>,
    address_verdict: Option<AddressVerdict>,
    now: chrono::DateTime<Utc>,
) {
    let rules = &state.plan.rules.quality;
    let held_left_out = rules.leave_out.contains(&Flag::Held);
    let mut selections = Vec::new();
    // The link's answers of the minute it passed its rate in (the writer counts by the minute):
    // the first of a surge were taken before the rate was passed. Honest answers of earlier
    // minutes stay counted.
    if let Ok(Outcome::Held { surge: true }) = outcome
        && let Some(minute) = chrono::DateTime::from_timestamp(now.timestamp() / 60 * 60, 0)
    {
        selections.push(Selection {
            school_id: Some(context.school.id),
            since: Some(minute),
            ..Selection::default()
        });
    }
    if let Some(AddressVerdict::Held { earlier }) = address_verdict
        && !earlier.is_empty()
    {
        selections.push(Selection {
            keys: Some(earlier),
            ..Selection::default()
        });
    }
    for selection in selections {
        if let Err(error) = crate::quality::hold(
            &state.context,
            context.campaign.id,
            &selection,
            held_left_out,
        )
        .await
        {
            tracing::error!(%error, campaign = context.campaign.id, "holding answers that came too fast failed");
        }
    }
}

/// The answer-quality flags of an answer about to be stored (see `crate::quality`). Only a
/// browser that refused the cookie on a school's shared link costs a query: how many such
/// answers the link had lately. A personal invitation link answers once whatever the browser,
/// so `told_apart` is true for it as for a browser with the cookie. If the query fails the
/// answer is still stored, unflagged for bursts.
async fn quality_flags(
    state: &AppState,
    context: &LinkContext,
    survey: &Survey,
    answers: &answering::ValidResponse<'_>,
    duration_ms: Option<i64>,
    told_apart: bool,
    now: chrono::DateTime<Utc>,
) -> Vec<Flag> {
    let rules = &state.plan.rules.quality;
    let cookieless_earlier = if told_apart {
        None
    } else {
        crate::quality::cookieless_answers_since(
            &state.db,
            context.campaign.id,
            context.school.id,
            crate::quality::burst_window_start(now, rules),
        )
        .await
        .inspect_err(|error| tracing::warn!(%error, "counting recent answers for bursts failed"))
        .ok()
    };
    crate::quality::flags_of(survey, answers, duration_ms, cookieless_earlier, rules)
}

pub async fn thanks(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let (context, _) = find_link_or_invitation(&state, &token).await?;
    let survey = state.survey(context.link_survey_version()).await?;
    let text = survey
        .thanks
        .clone()
        .unwrap_or_else(|| "您的答案已经保存。感谢您抽出时间参与！".to_owned());
    message(&state, StatusCode::OK, "提交成功，谢谢您！", &text)
}

fn qr_url(state: &AppState, context: &LinkContext) -> String {
    links::link_url(&state.base_url, &context.link.token)
}

pub async fn qr_svg(
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> Result<HttpResponse, PageError> {
    let context = find_link(&state, &token).await?;
    let svg = links::qr_svg(&qr_url(&state, &context)).map_err(PageError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(svg))
}

#[derive(serde::Deserialize)]
pub struct PngSize {
    size: Option<u32>,
}

pub async fn qr_png(
    state: web::Data<AppState>,
    token: web::Path<String>,
    query: web::Query<PngSize>,
) -> Result<HttpResponse, PageError> {
    let context = find_link(&state, &token).await?;
    let size = query.size.unwrap_or(512).clamp(128, 2048);
    let png = links::qr_png(&qr_url(&state, &context), size).map_err(PageError::internal)?;
    Ok(HttpResponse::Ok()
        .content_type("image/png")
        .insert_header(("Cache-Control", "public, max-age=86400"))
        .body(png))
}

#[cfg(test)]
mod tests {
    use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};

    use super::*;

    #[test]
    fn the_browser_cookie_header_is_the_one_the_cookie_crate_wrote() {
        let value = "0123456789abcdef0123456789abcdef.1764400000.c2lnbmF0dXJl";
        for secure in [false, true] {
            let cookie = Cookie::build(BROWSER_COOKIE, value)
                .path("/")
                .http_only(true)
                .same_site(SameSite::Lax)
                .secure(secure)
                .max_age(CookieDuration::days(730))
                .finish();
            assert_eq!(
                browser_cookie_header(value, secure),
                cookie.to_string(),
                "secure: {secure}"
            );
        }
    }
}
