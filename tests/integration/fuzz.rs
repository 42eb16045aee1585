//! Bad input at volume: thousands of malformed submissions, generated from a fixed seed, to the
//! public form and to console forms — over awc, and over raw TCP for what no HTTP client would
//! send. None may get a 5xx, nothing but the valid ones (mixed in) may be stored, and the server
//! must answer normally afterwards.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use awc::http::StatusCode;
use dupin::accounts::Role;
use dupin::survey::{QuestionKind, Survey};
use futures_util::StreamExt;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use sea_orm::{ConnectionTrait, Statement};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{PASSWORD, TestApp, catalog_survey, encode_form, spawn_app};

/// Change it to explore other cases; a failure prints the seed and the case.
const SEED: u64 = 0x0064_7570_696e;
const CASES: usize = 10_000;
/// Requests in flight at once.
const AT_ONCE: usize = 16;
/// A raw connection must be answered or closed by then.
const RAW_PATIENCE: Duration = Duration::from_secs(15);

/// Answers every question of `survey` validly with random choices, numbers in range and short
/// texts. Questions hidden by `show_if` are answered too; the server drops those answers.
pub(crate) fn random_answers(survey: &Survey, rng: &mut StdRng) -> Vec<(String, String)> {
    const TEXTS: [&str; 5] = [
        "老师们辛苦了",
        "希望食堂的饭菜再热一点",
        "孩子很喜欢学校",
        "校车能不能早一点到",
        "没有",
    ];
    let mut fields = Vec::new();
    for question in survey.questions() {
        let id = question.id.clone();
        match &question.kind {
            QuestionKind::Multiple { options, min, max } => {
                let most = max.map_or(options.len(), |max| (max as usize).min(options.len()));
                let count = rng.random_range((*min).max(1) as usize..=most);
                let mut picked: Vec<usize> = (0..options.len()).collect();
                for n in 0..count {
                    let other = rng.random_range(n..picked.len());
                    picked.swap(n, other);
                }
                for index in &picked[..count] {
                    fields.push((id.clone(), options[*index].code.clone()));
                }
            }
            QuestionKind::Matrix { scale, rows } => {
                for row in rows {
                    let point = &scale.points[rng.random_range(0..scale.points.len())];
                    fields.push((format!("{id}.{}", row.id), point.code.clone()));
                }
            }
            QuestionKind::Number { min, max, .. } => {
                let low = min.unwrap_or(0.0).ceil() as i64;
                let high = max.map_or(low + 100, |max| max.floor() as i64);
                fields.push((id, rng.random_range(low..=high).to_string()));
            }
            QuestionKind::Text { .. } | QuestionKind::LongText { .. } => {
                fields.push((id, TEXTS[rng.random_range(0..TEXTS.len())].to_owned()));
            }
            kind => {
                let codes = kind.codes().unwrap_or_default();
                fields.push((id, codes[rng.random_range(0..codes.len())].clone()));
            }
        }
    }
    fields
}

/// How a case is sent.
enum Request {
    /// A POST through awc.
    Http {
        path: String,
        content_type: Option<String>,
        cookie: Option<String>,
        body: Vec<u8>,
    },
    /// Bytes on a fresh TCP connection; `half_close` shuts our side once they are sent.
    Raw { bytes: Vec<u8>, half_close: bool },
}

/// What a case must get.
#[derive(Clone, Debug)]
enum Expect {
    /// Exactly this status.
    Status(u16),
    /// One of these.
    OneOf(&'static [u16]),
    /// Any 4xx.
    ClientError,
    /// Any 4xx, or the connection closed without an answer (raw requests only).
    ClientErrorOrClosed,
    /// 303 to the thank-you page, and the answer stored under this key.
    Stored,
}

struct Case {
    kind: &'static str,
    request: Request,
    expect: Expect,
    /// The idempotency key of a valid answer.
    key: Option<String>,
    /// Questions whose answers the server must have dropped (hidden by `show_if`).
    hidden: Vec<String>,
}

/// What one case got.
struct Outcome {
    kind: &'static str,
    expect: Expect,
    /// `None` when the connection closed (or failed) without an answer.
    status: Option<u16>,
    failure: Option<String>,
    key: Option<String>,
    hidden: Vec<String>,
}

/// The id of the link with `token`.
async fn link_id(app: &crate::helpers::TestApp, token: &str) -> i32 {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    entity::campaign_link::Entity::find()
        .filter(entity::campaign_link::Column::Token.eq(token))
        .one(&app.db)
        .await
        .expect("a read")
        .expect("the link")
        .id
}

/// The links, surveys and console session the cases are made for.
struct Target {
    host: String,
    parents_token: String,
    school_token: String,
    not_yet_open_token: String,
    campaign_id: i32,
    parents: Survey,
    school: Survey,
    console_cookie: String,
    console_csrf: String,
    login_cookie: String,
    login_csrf: String,
    /// The installation's key and the two links' ids: what a served time is signed with, so
    /// that a valid case carries one the server would have given its form.
    session_key: Vec<u8>,
    parents_link: i32,
    school_link: i32,
}

const FORM: &str = "application/x-www-form-urlencoded";
const CROCKFORD: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn random_key(rng: &mut StdRng) -> String {
    (0..32)
        .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
        .collect()
}

/// Any characters a hostile or broken client might send, URL-encoded later.
fn junk_text(rng: &mut StdRng, most: usize) -> String {
    const POOL: [&str; 16] = [
        "a", "Z", "0", "&", "=", "%", "+", " ", "\u{0}", "\n", "\r", "你", "𝄞", "\u{202e}", "'",
        "<",
    ];
    let length = rng.random_range(0..=most);
    (0..length)
        .map(|_| POOL[rng.random_range(0..POOL.len())])
        .collect()
}

fn random_bytes(rng: &mut StdRng, most: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; rng.random_range(0..=most)];
    rng.fill(&mut bytes[..]);
    bytes
}

fn form_post(path: &str, body: Vec<u8>) -> Request {
    Request::Http {
        path: path.to_owned(),
        content_type: Some(FORM.to_owned()),
        cookie: None,
        body,
    }
}

fn case(kind: &'static str, request: Request, expect: Expect) -> Case {
    Case {
        kind,
        request,
        expect,
        key: None,
        hidden: Vec::new(),
    }
}

/// A complete, valid submission for `survey` with a fresh key and the served time the server
/// would have signed for it, and the key.
fn valid_fields(
    target: &Target,
    survey: &Survey,
    rng: &mut StdRng,
) -> (Vec<(String, String)>, String) {
    let key = random_key(rng);
    let link = if survey.id == target.school.id {
        target.school_link
    } else {
        target.parents_link
    };
    // Served a minute ago, as a phone's form would have been.
    let served = chrono::Utc::now() - chrono::Duration::minutes(1);
    let mut fields = vec![
        ("_key".to_owned(), key.clone()),
        (
            "_t".to_owned(),
            dupin::answering::signed::served_time(
                &dupin::secrets::SigningKey::new(&target.session_key),
                link,
                &key,
                served,
            ),
        ),
    ];
    fields.extend(random_answers(survey, rng));
    (fields, key)
}

/// Sets a choice that hides the questions depending on it, answers those with junk, and
/// returns their ids.
fn hide_and_answer_with_junk(
    survey: &Survey,
    fields: &mut [(String, String)],
    rng: &mut StdRng,
) -> Vec<String> {
    let mut hidden = Vec::new();
    for question in survey.questions() {
        let Some(show_if) = &question.show_if else {
            continue;
        };
        let Some(controller) = survey.question(&show_if.question) else {
            continue;
        };
        if matches!(controller.kind, QuestionKind::Multiple { .. }) {
            continue;
        }
        let other = controller
            .kind
            .codes()
            .unwrap_or_default()
            .into_iter()
            .find(|code| !show_if.any_of.contains(code));
        let Some(other) = other else { continue };
        for (name, value) in fields.iter_mut() {
            if *name == controller.id {
                *value = other.clone();
            }
        }
        hidden.push(question.id.clone());
    }
    for (name, value) in fields.iter_mut() {
        if hidden.contains(name) {
            *value = junk_text(rng, 20);
        }
    }
    hidden
}

/// Fields of the form mixed with junk: real and made-up names, real and made-up values,
/// repeats; never a well-formed key, so nothing of it can be stored.
fn field_soup(survey: &Survey, rng: &mut StdRng) -> Vec<(String, String)> {
    let names: Vec<String> = survey
        .questions()
        .map(|question| question.id.clone())
        .chain(["_key".to_owned(), "_t".to_owned(), "x.y".to_owned()])
        .collect();
    let count = rng.random_range(0..60);
    (0..count)
        .map(|_| {
            let name = if rng.random_bool(0.7) {
                names[rng.random_range(0..names.len())].clone()
            } else {
                junk_text(rng, 12)
            };
            let value = if name == "_key" {
                format!("{}g", random_key(rng))
            } else if rng.random_bool(0.5) {
                ["1", "yes", "no", "satisfied", "10", "-1"][rng.random_range(0..6)].to_owned()
            } else {
                junk_text(rng, 40)
            };
            (name, value)
        })
        .collect()
}

fn required_and_always_shown(survey: &Survey) -> Vec<String> {
    survey
        .questions()
        .filter(|question| question.required && question.show_if.is_none())
        .map(|question| question.id.clone())
        .collect()
}

fn raw_post(target: &Target, path: &str, extra_headers: &str, body: &[u8]) -> Vec<u8> {
    let mut bytes = format!(
        "POST {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra_headers}\r\n",
        target.host
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// One generated case, by a weighted choice of kind.
fn generate(target: &Target, rng: &mut StdRng, earlier_valid: &mut Vec<(String, Vec<u8>)>) -> Case {
    let parents_path = format!("/s/{}", target.parents_token);
    let school_path = format!("/s/{}", target.school_token);
    let status_path = format!("/console/campaigns/{}/status", target.campaign_id);
    let roll = rng.random_range(0..1000);
    match roll {
        // ---------------------------------------------------------------- valid, mixed in
        0..=39 => {
            let (fields, key) = valid_fields(target, &target.parents, rng);
            let body = encode_form(&fields).into_bytes();
            earlier_valid.push((parents_path.clone(), body.clone()));
            Case {
                key: Some(key),
                ..case(
                    "valid answer",
                    form_post(&parents_path, body),
                    Expect::Stored,
                )
            }
        }
        40..=54 => {
            let (fields, key) = valid_fields(target, &target.school, rng);
            let body = encode_form(&fields).into_bytes();
            Case {
                key: Some(key),
                ..case(
                    "valid self-check",
                    form_post(&school_path, body),
                    Expect::Stored,
                )
            }
        }
        55..=69 => {
            let (mut fields, key) = valid_fields(target, &target.parents, rng);
            let hidden = hide_and_answer_with_junk(&target.parents, &mut fields, rng);
            Case {
                key: Some(key),
                hidden,
                ..case(
                    "valid, hidden questions answered with junk",
                    form_post(&parents_path, encode_form(&fields).into_bytes()),
                    Expect::Stored,
                )
            }
        }
        70..=79 if !earlier_valid.is_empty() => {
            let (path, body) = earlier_valid[rng.random_range(0..earlier_valid.len())].clone();
            case(
                "valid answer sent again",
                form_post(&path, body),
                Expect::Status(303),
            )
        }
        // ---------------------------------------------------------------- forms our page never sends
        80..=129 => {
            let (mut fields, _) = valid_fields(target, &target.parents, rng);
            let at = rng.random_range(0..=fields.len());
            let name = format!("{}{}", junk_text(rng, 8), rng.random_range(0..1000));
            fields.insert(at, (name, junk_text(rng, 20)));
            case(
                "unknown field",
                form_post(&parents_path, encode_form(&fields).into_bytes()),
                Expect::Status(400),
            )
        }
        130..=179 => {
            let (mut fields, _) = valid_fields(target, &target.parents, rng);
            let single = [
                "overall_satisfaction",
                "teacher_care",
                "stage",
                "left_behind",
            ][rng.random_range(0..4)];
            let again = fields
                .iter()
                .find(|(name, _)| name == single)
                .cloned()
                .unwrap_or_else(|| (single.to_owned(), "x".to_owned()));
            fields.push(again);
            case(
                "repeated field",
                form_post(&parents_path, encode_form(&fields).into_bytes()),
                Expect::Status(400),
            )
        }
        180..=229 => {
            let (mut fields, _) = valid_fields(target, &target.parents, rng);
            let choice = ["overall_satisfaction", "stage", "left_behind", "fairness"]
                [rng.random_range(0..4)];
            for (name, value) in fields.iter_mut() {
                if name == choice {
                    *value = format!("{}{}", junk_text(rng, 10), "?");
                }
            }
            case(
                "option not in the question",
                form_post(&parents_path, encode_form(&fields).into_bytes()),
                Expect::Status(400),
            )
        }
        230..=259 => {
            let (mut fields, _) = valid_fields(target, &target.parents, rng);
            fields.retain(|(name, _)| name != "_key");
            case(
                "no key",
                form_post(&parents_path, encode_form(&fields).into_bytes()),
                Expect::Status(400),
            )
        }
        260..=299 => {
            let (mut fields, _) = valid_fields(target, &target.parents, rng);
            let forged = match rng.random_range(0..4) {
                0 => random_key(rng)[..31].to_owned(),
                1 => format!("{}Z", &random_key(rng)[..31]),
                2 => random_key(rng).repeat(2),
                _ => junk_text(rng, 40),
            };
            fields[0].1 = forged;
            case(
                "malformed key",
                form_post(&parents_path, encode_form(&fields).into_bytes()),
                Expect::Status(400),
            )
        }
        300..=319 => {
            let (mut fields, _) = valid_fields(target, &target.parents, rng);
            fields.push(("_key".to_owned(), random_key(rng)));
            case(
                "two keys",
                form_post(&parents_path, encode_form(&fields).into_bytes()),
                Expect::Status(400),
            )
        }
        320..=339 => {
            let pairs: String = (0..2001).map(|n| format!("f{n}=1&")).collect();
            case(
                "too many fields",
                form_post(&parents_path, pairs.into_bytes()),
                Expect::Status(400),
            )
        }
        340..=399 => {
            let (fields, _) = valid_fields(target, &target.parents, rng);
            let mut body = encode_form(&fields).into_bytes();
            let poison: &[u8] = match rng.random_range(0..5) {
                0 => b"&suggestions=%FF%FE",
                1 => b"&suggestions=%C0%AF",
                2 => b"&suggestions=%ED%A0%80",
                3 => b"&suggestions=\xe4\xbd",
                _ => b"&\xff\xfe=1",
            };
            let at = if rng.random_bool(0.5) { 0 } else { body.len() };
            body.splice(at..at, poison.iter().copied());
            case(
                "invalid UTF-8",
                form_post(&parents_path, body),
                Expect::Status(400),
            )
        }
        400..=429 => {
            let (fields, _) = valid_fields(target, &target.parents, rng);
            let mut body = encode_form(&fields).into_bytes();
            let poison: &[u8] = match rng.random_range(0..4) {
                0 => b"&overall_satisfaction%=1",
                1 => b"&%=%",
                2 => b"&stage=%G1",
                _ => b"&left_behind%2",
            };
            body.extend_from_slice(poison);
            case(
                "broken percent-escape",
                form_post(&parents_path, body),
                Expect::Status(400),
            )
        }
        430..=469 => {
            let content_type = [
                None,
                Some("text/plain"),
                Some("application/json"),
                Some("multipart/form-data; boundary=x"),
                Some("application/x-www-form-urlencode"),
                Some("x-www-form-urlencoded"),
                Some(";;;"),
            ][rng.random_range(0..7)]
            .map(str::to_owned);
            let (fields, _) = valid_fields(target, &target.parents, rng);
            let mut request = form_post(&parents_path, encode_form(&fields).into_bytes());
            if let Request::Http {
                content_type: slot, ..
            } = &mut request
            {
                *slot = content_type;
            }
            case("wrong content type", request, Expect::Status(400))
        }
        // ---------------------------------------------------------------- answers the survey refuses
        470..=509 => {
            let (mut fields, _) = valid_fields(target, &target.parents, rng);
            let required = required_and_always_shown(&target.parents);
            let dropped = &required[rng.random_range(0..required.len())];
            fields.retain(|(name, _)| !name.starts_with(dropped.as_str()));
            case(
                "required answer missing",
                form_post(&parents_path, encode_form(&fields).into_bytes()),
                Expect::Status(422),
            )
        }
        510..=549 => {
            let (mut fields, _) = valid_fields(target, &target.school, rng);
            let bad = [
                "-1",
                "20001",
                "1e9",
                "NaN",
                "inf",
                "十二",
                "3.5.1",
                "99999999999999999999",
            ][rng.random_range(0..8)];
            for (name, value) in fields.iter_mut() {
                if name == "enrolment" {
                    *value = bad.to_owned();
                }
            }
            case(
                "number out of range or not a number",
                form_post(&school_path, encode_form(&fields).into_bytes()),
                Expect::Status(422),
            )
        }
        550..=569 => {
            let (mut fields, _) = valid_fields(target, &target.parents, rng);
            fields.retain(|(name, _)| name != "suggestions");
            fields.push((
                "suggestions".to_owned(),
                "很".repeat(rng.random_range(501..3000)),
            ));
            case(
                "text too long",
                form_post(&parents_path, encode_form(&fields).into_bytes()),
                Expect::Status(422),
            )
        }
        570..=579 => case(
            "empty body",
            form_post(&parents_path, Vec::new()),
            Expect::Status(422),
        ),
        580..=589 => {
            let (mut fields, _) = valid_fields(target, &target.parents, rng);
            fields.push((
                "suggestions".to_owned(),
                "x".repeat(rng.random_range(256 * 1024..400 * 1024)),
            ));
            case(
                "body over 256 KB",
                form_post(&parents_path, encode_form(&fields).into_bytes()),
                Expect::Status(413),
            )
        }
        590..=609 => {
            let (fields, _) = valid_fields(target, &target.parents, rng);
            case(
                "campaign not yet open",
                form_post(
                    &format!("/s/{}", target.not_yet_open_token),
                    encode_form(&fields).into_bytes(),
                ),
                Expect::Status(403),
            )
        }
        // ---------------------------------------------------------------- wrong links
        610..=639 => {
            let token: String = (0..20)
                .map(|_| char::from(CROCKFORD[rng.random_range(0..CROCKFORD.len())]))
                .collect();
            let (fields, _) = valid_fields(target, &target.parents, rng);
            case(
                "unknown token",
                form_post(&format!("/s/{token}"), encode_form(&fields).into_bytes()),
                Expect::Status(404),
            )
        }
        640..=669 => {
            let token: String = random_bytes(rng, 60)
                .iter()
                .map(|byte| format!("%{byte:02X}"))
                .collect();
            let token = if token.is_empty() {
                "%00".to_owned()
            } else {
                token
            };
            let (fields, _) = valid_fields(target, &target.parents, rng);
            case(
                "malformed token",
                form_post(&format!("/s/{token}"), encode_form(&fields).into_bytes()),
                Expect::Status(404),
            )
        }
        // ---------------------------------------------------------------- junk
        670..=719 => case(
            "random bytes",
            form_post(&parents_path, random_bytes(rng, 3000)),
            Expect::ClientError,
        ),
        720..=799 => {
            let survey = if rng.random_bool(0.7) {
                &target.parents
            } else {
                &target.school
            };
            let path = if std::ptr::eq(survey, &target.parents) {
                &parents_path
            } else {
                &school_path
            };
            case(
                "field soup",
                form_post(path, encode_form(&field_soup(survey, rng)).into_bytes()),
                Expect::ClientError,
            )
        }
        // ---------------------------------------------------------------- raw TCP
        800..=819 => {
            // A whole valid answer announced, part of it sent, then our side closed.
            let (fields, _) = valid_fields(target, &target.parents, rng);
            let body = encode_form(&fields).into_bytes();
            let sent = rng.random_range(0..body.len());
            let bytes = raw_post(
                target,
                &parents_path,
                &format!("Content-Type: {FORM}\r\nContent-Length: {}\r\n", body.len()),
                &body[..sent],
            );
            case(
                "truncated body",
                Request::Raw {
                    bytes,
                    half_close: true,
                },
                Expect::ClientErrorOrClosed,
            )
        }
        820..=834 => {
            // At least one byte that is no line break, or the server rightly waits for more.
            let mut bytes = vec![b'@'];
            bytes.extend(random_bytes(rng, 200));
            bytes.extend_from_slice(b"\r\n\r\n");
            case(
                "garbage request",
                Request::Raw {
                    bytes,
                    half_close: rng.random_bool(0.5),
                },
                Expect::ClientErrorOrClosed,
            )
        }
        835..=849 => {
            let length = [
                "abc",
                "-1",
                "1 2",
                "99999999999999999999999",
                "0x10",
                "5, 6",
            ][rng.random_range(0..6)];
            let bytes = raw_post(
                target,
                &parents_path,
                &format!("Content-Type: {FORM}\r\nContent-Length: {length}\r\n"),
                b"_key=1",
            );
            case(
                "bad Content-Length",
                Request::Raw {
                    bytes,
                    half_close: false,
                },
                Expect::ClientErrorOrClosed,
            )
        }
        850..=859 => {
            let bytes = raw_post(
                target,
                &parents_path,
                &format!(
                    "Content-Type: {FORM}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n"
                ),
                b"6\r\n_key=1\r\n0\r\n\r\n",
            );
            case(
                "Content-Length and chunked together",
                Request::Raw {
                    bytes,
                    half_close: false,
                },
                Expect::ClientErrorOrClosed,
            )
        }
        860..=869 => {
            let chunks: &[u8] = match rng.random_range(0..3) {
                0 => b"zz\r\n_key=1\r\n0\r\n\r\n",
                1 => b"ffffffffffffffffffff\r\nab\r\n",
                _ => b"3\r\n_key=1\r\n0\r\n\r\n",
            };
            let bytes = raw_post(
                target,
                &parents_path,
                &format!("Content-Type: {FORM}\r\nTransfer-Encoding: chunked\r\n"),
                chunks,
            );
            case(
                "broken chunked encoding",
                Request::Raw {
                    bytes,
                    half_close: true,
                },
                Expect::ClientErrorOrClosed,
            )
        }
        870..=879 => {
            let header: &[u8] = match rng.random_range(0..4) {
                0 => b"Bad Header: x\r\n",
                1 => b"X-Nul: a\x00b\r\n",
                2 => b"\xff\xfe: x\r\n",
                _ => b"NoColon\r\n",
            };
            let mut bytes =
                format!("GET {parents_path} HTTP/1.1\r\nHost: {}\r\n", target.host).into_bytes();
            bytes.extend_from_slice(header);
            bytes.extend_from_slice(b"Connection: close\r\n\r\n");
            case(
                "malformed header",
                Request::Raw {
                    bytes,
                    half_close: false,
                },
                Expect::ClientErrorOrClosed,
            )
        }
        880..=889 => {
            let mut bytes = b"GET /s/".to_vec();
            bytes.extend(random_bytes(rng, 30).iter().map(|byte| byte | 0x80));
            bytes.extend_from_slice(
                format!(
                    " HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
                    target.host
                )
                .as_bytes(),
            );
            case(
                "raw bytes in the path",
                Request::Raw {
                    bytes,
                    half_close: false,
                },
                Expect::ClientErrorOrClosed,
            )
        }
        890..=899 => {
            let version = ["HTTP/1.2", "HTTP/0.9", "HTTP/9.9", "HTTX/1.1", "http/1.1"]
                [rng.random_range(0..5)];
            let bytes = format!(
                "GET {parents_path} {version}\r\nHost: {}\r\nConnection: close\r\n\r\n",
                target.host
            )
            .into_bytes();
            case(
                "unknown HTTP version",
                Request::Raw {
                    bytes,
                    half_close: false,
                },
                Expect::ClientErrorOrClosed,
            )
        }
        // ---------------------------------------------------------------- console forms
        900..=919 => {
            let csrf = if rng.random_bool(0.5) {
                random_key(rng)
            } else {
                String::new()
            };
            let body = encode_form(&[
                ("status".to_owned(), "closed".to_owned()),
                ("_csrf".to_owned(), csrf),
            ]);
            case(
                "console: forged or missing CSRF token",
                Request::Http {
                    path: status_path,
                    content_type: Some(FORM.to_owned()),
                    cookie: Some(target.console_cookie.clone()),
                    body: body.into_bytes(),
                },
                Expect::Status(403),
            )
        }
        920..=934 => {
            let body = encode_form(&[
                ("status".to_owned(), format!("{}!", junk_text(rng, 10))),
                ("_csrf".to_owned(), target.console_csrf.clone()),
            ]);
            case(
                "console: unknown campaign state",
                Request::Http {
                    path: status_path,
                    content_type: Some(FORM.to_owned()),
                    cookie: Some(target.console_cookie.clone()),
                    body: body.into_bytes(),
                },
                Expect::Status(400),
            )
        }
        // Each of these costs the server an argon2 verification: a few.
        935..=939 => {
            let body = encode_form(&[
                ("current".to_owned(), format!("not {PASSWORD}")),
                ("password".to_owned(), junk_text(rng, 30)),
                ("confirm".to_owned(), junk_text(rng, 30)),
                ("_csrf".to_owned(), target.console_csrf.clone()),
            ]);
            case(
                "console: password change with a wrong password",
                Request::Http {
                    path: "/console/password".to_owned(),
                    content_type: Some(FORM.to_owned()),
                    cookie: Some(target.console_cookie.clone()),
                    body: body.into_bytes(),
                },
                // Refused, then slowed: wrong current passwords count like failed sign-ins.
                Expect::OneOf(&[422, 429]),
            )
        }
        940..=969 => {
            let path = [
                status_path.as_str(),
                "/console/password",
                "/console/campaigns/new",
                "/console/schools/new",
                "/console/login",
            ][rng.random_range(0..5)]
            .to_owned();
            let body = match rng.random_range(0..3) {
                0 => random_bytes(rng, 2000),
                1 => b"_csrf=%FF%FE&status=closed".to_vec(),
                _ => encode_form(&field_soup(&target.parents, rng)).into_bytes(),
            };
            case(
                "console: junk",
                Request::Http {
                    path,
                    content_type: Some(FORM.to_owned()),
                    cookie: Some(target.console_cookie.clone()),
                    body,
                },
                Expect::ClientError,
            )
        }
        970..=979 => case(
            "console: not signed in",
            form_post(&status_path, b"status=closed&_csrf=x".to_vec()),
            Expect::Status(303),
        ),
        980..=989 => {
            let body = encode_form(&[
                ("email".to_owned(), junk_text(rng, 30)),
                ("password".to_owned(), junk_text(rng, 30)),
                ("_csrf".to_owned(), random_key(rng)),
            ]);
            case(
                "console: sign-in without its CSRF cookie",
                form_post("/console/login", body.into_bytes()),
                Expect::Status(403),
            )
        }
        990..=992 => {
            let body = encode_form(&[
                ("next".to_owned(), "/console".to_owned()),
                (
                    "email".to_owned(),
                    format!("nobody{}@county.edu.cn", rng.random_range(0..99)),
                ),
                ("password".to_owned(), junk_text(rng, 30)),
                ("_csrf".to_owned(), target.login_csrf.clone()),
            ]);
            case(
                "console: sign-in with a wrong password",
                Request::Http {
                    path: "/console/login".to_owned(),
                    content_type: Some(FORM.to_owned()),
                    cookie: Some(target.login_cookie.clone()),
                    body: body.into_bytes(),
                },
                Expect::OneOf(&[401, 429]),
            )
        }
        _ => case(
            "console: over 256 KB",
            Request::Http {
                path: "/console/password".to_owned(),
                content_type: Some(FORM.to_owned()),
                cookie: Some(target.console_cookie.clone()),
                body: format!("current={}", "a".repeat(300 * 1024)).into_bytes(),
            },
            Expect::Status(400),
        ),
    }
}

/// Sends `bytes` on a fresh connection and reads until the server closes it: the status of the
/// answer, if any. Fails the case if neither happens within `RAW_PATIENCE`.
async fn send_raw(host: &str, bytes: &[u8], half_close: bool) -> Result<Option<u16>, String> {
    let mut stream = TcpStream::connect(host)
        .await
        .map_err(|error| format!("connect: {error}"))?;
    // The server may answer and close before everything is written: that is its right.
    if stream.write_all(bytes).await.is_ok() && half_close {
        let _ = stream.shutdown().await;
    }
    let mut received = Vec::new();
    let read = actix_web::rt::time::timeout(RAW_PATIENCE, async {
        let mut buffer = [0u8; 8192];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(count) => received.extend_from_slice(&buffer[..count]),
            }
        }
    })
    .await;
    if read.is_err() {
        return Err(format!(
            "neither answered nor closed within {RAW_PATIENCE:?}; got {:?}",
            String::from_utf8_lossy(&received)
        ));
    }
    Ok(crate::limits::status_of(&String::from_utf8_lossy(
        &received,
    )))
}

async fn run(client: &awc::Client, address: &str, host: &str, case: Case) -> Outcome {
    let sent = match &case.request {
        Request::Http {
            path,
            content_type,
            cookie,
            body,
        } => {
            let mut request = client.post(format!("{address}{path}"));
            if let Some(content_type) = content_type {
                request = request.insert_header(("Content-Type", content_type.clone()));
            }
            if let Some(cookie) = cookie {
                request = request.insert_header(("Cookie", cookie.clone()));
            }
            match request.send_body(body.clone()).await {
                Ok(mut response) => {
                    let location = response
                        .headers()
                        .get("location")
                        .and_then(|value| value.to_str().ok())
                        .map(str::to_owned);
                    let _ = response.body().limit(4 << 20).await;
                    let status = response.status().as_u16();
                    match (&case.expect, location) {
                        (Expect::Stored, Some(location)) if !location.ends_with("/thanks") => {
                            Err(format!("303 to {location}"))
                        }
                        _ => Ok(Some(status)),
                    }
                }
                Err(error) => Err(format!("request failed: {error}")),
            }
        }
        Request::Raw { bytes, half_close } => send_raw(host, bytes, *half_close).await,
    };
    let (status, mut failure) = match sent {
        Ok(status) => (status, None),
        Err(error) => (None, Some(error)),
    };
    if failure.is_none() {
        let fits = match (&case.expect, status) {
            (_, Some(status)) if status >= 500 => false,
            (Expect::Status(expected), Some(status)) => status == *expected,
            (Expect::OneOf(expected), Some(status)) => expected.contains(&status),
            (Expect::ClientError | Expect::ClientErrorOrClosed, Some(status)) => {
                (400..500).contains(&status)
            }
            (Expect::ClientErrorOrClosed, None) => true,
            (Expect::Stored, Some(status)) => status == 303,
            (_, None) => false,
        };
        if !fits {
            failure = Some(format!("expected {:?}, got {status:?}", case.expect));
        }
    }
    Outcome {
        kind: case.kind,
        expect: case.expect,
        status,
        failure,
        key: case.key,
        hidden: case.hidden,
    }
}

async fn number(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

async fn stored_answers(app: &TestApp) -> BTreeMap<String, String> {
    app.db
        .query_all_raw(Statement::from_string(
            app.db.get_database_backend(),
            "SELECT idempotency_key, answers FROM response".to_owned(),
        ))
        .await
        .expect("answers")
        .iter()
        .map(|row| {
            (
                row.try_get_by_index::<String>(0).expect("key"),
                row.try_get_by_index::<String>(1).expect("answers"),
            )
        })
        .collect()
}

#[actix_web::test]
async fn thousands_of_malformed_submissions_get_4xx_and_only_the_valid_ones_are_stored() {
    let app = spawn_app().await;
    let parents_campaign = app.create_campaign("parents", None, None).await;
    let school_campaign = app.create_campaign("school", None, None).await;
    let later = app
        .create_campaign("parents", Some("2099-01-01 08:00"), None)
        .await;
    let mut console = app.signed_in(Role::Supervisor).await;
    let campaign_page = console
        .get(&format!("/console/campaigns/{parents_campaign}"))
        .await;
    assert_eq!(campaign_page.status, StatusCode::OK);
    let mut login = app.browser();
    let login_form = login.get("/console/login").await;
    let cookie_header = |cookies: &BTreeMap<String, String>| {
        cookies
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let target = Target {
        host: app.address.trim_start_matches("http://").to_owned(),
        parents_token: app.first_token(parents_campaign).await,
        school_token: app.first_token(school_campaign).await,
        not_yet_open_token: app.first_token(later).await,
        campaign_id: parents_campaign,
        parents: catalog_survey("parents"),
        school: catalog_survey("school"),
        console_cookie: cookie_header(&console.cookies),
        console_csrf: campaign_page.hidden("_csrf").expect("a CSRF token"),
        login_cookie: cookie_header(&login.cookies),
        login_csrf: login_form.hidden("_csrf").expect("a sign-in CSRF token"),
        session_key: dupin::accounts::session_key(&app.db, None)
            .await
            .expect("the session key"),
        parents_link: link_id(&app, &app.first_token(parents_campaign).await).await,
        school_link: link_id(&app, &app.first_token(school_campaign).await).await,
    };

    let mut rng = StdRng::seed_from_u64(SEED);
    let mut earlier_valid = Vec::new();
    let cases: Vec<Case> = (0..CASES)
        .map(|_| generate(&target, &mut rng, &mut earlier_valid))
        .collect();
    let client = awc::Client::builder()
        .timeout(Duration::from_secs(20))
        .disable_redirects()
        .finish();
    let started = Instant::now();
    let outcomes: Vec<Outcome> = futures_util::stream::iter(cases)
        .map(|case| run(&client, &app.address, &target.host, case))
        .buffer_unordered(AT_ONCE)
        .collect()
        .await;
    let elapsed = started.elapsed();

    // The mix, and what each kind got.
    let mut mix: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    for outcome in &outcomes {
        let status = outcome
            .status
            .map_or("closed".to_owned(), |status| status.to_string());
        *mix.entry(outcome.kind)
            .or_default()
            .entry(status)
            .or_default() += 1;
    }
    eprintln!(
        "fuzz (seed {SEED:#x}): {} cases in {elapsed:.1?} ({:.0}/s), {AT_ONCE} at once",
        outcomes.len(),
        outcomes.len() as f64 / elapsed.as_secs_f64()
    );
    for (kind, statuses) in &mix {
        let total: usize = statuses.values().sum();
        eprintln!("  {total:>5}  {kind}: {statuses:?}");
    }

    let failures: Vec<String> = outcomes
        .iter()
        .filter_map(|outcome| {
            outcome
                .failure
                .as_ref()
                .map(|failure| format!("{}: {failure}", outcome.kind))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} cases went wrong (seed {SEED:#x}), first ones:\n{}",
        failures.len(),
        outcomes.len(),
        failures[..failures.len().min(15)].join("\n")
    );
    let server_errors = outcomes
        .iter()
        .filter(|outcome| outcome.status.is_some_and(|status| status >= 500))
        .count();
    assert_eq!(server_errors, 0);

    // Stored: exactly the valid answers, once each, and nothing of the hidden questions.
    let expected: BTreeSet<String> = outcomes
        .iter()
        .filter(|outcome| matches!(outcome.expect, Expect::Stored))
        .filter_map(|outcome| outcome.key.clone())
        .collect();
    let stored = stored_answers(&app).await;
    let stored_keys: BTreeSet<String> = stored.keys().cloned().collect();
    assert!(expected.len() > 300, "too few valid answers mixed in");
    assert_eq!(
        stored_keys, expected,
        "stored answers differ from the valid ones"
    );
    for outcome in &outcomes {
        if let Some(key) = &outcome.key {
            for question in &outcome.hidden {
                assert!(
                    !stored[key].contains(&format!("\"{question}\"")),
                    "hidden {question} was stored: {}",
                    stored[key]
                );
            }
        }
    }
    // One client sends them all, faster than any school: most are held (stored, counted
    // nowhere). The running counts must be exactly those of the answers that count, and every
    // answer that does not count must say why.
    let rows = number(&app, "SELECT COUNT(*) FROM response WHERE excluded = false").await;
    assert_eq!(
        number(
            &app,
            "SELECT COUNT(*) FROM response WHERE excluded = true \
             AND (flags IS NULL OR (flags NOT LIKE '%held%' AND flags NOT LIKE '%burst%'))"
        )
        .await,
        0,
        "an answer left out without a flag saying why"
    );
    assert_eq!(
        number(
            &app,
            "SELECT CAST(SUM(response_count) AS BIGINT) FROM campaign_link"
        )
        .await,
        rows
    );
    app.settle().await;
    assert_eq!(
        number(
            &app,
            "SELECT CAST(COALESCE(SUM(count), 0) AS BIGINT) FROM tally \
             WHERE question_key IN ('overall_satisfaction', 'school_location')"
        )
        .await,
        rows
    );
    assert_eq!(
        number(
            &app,
            &format!("SELECT COUNT(*) FROM response WHERE campaign_id = {later}")
        )
        .await,
        0
    );

    // Nothing changed in the console either.
    assert_eq!(
        dupin::campaigns::find(&app.db, parents_campaign)
            .await
            .expect("campaign")
            .status,
        "open"
    );
    let page = console.get("/console/campaigns").await;
    assert_eq!(page.status, StatusCode::OK, "the session still works");

    // And the server answers as before.
    let mut phone = app.phone();
    let form = phone.get(&format!("/s/{}", target.parents_token)).await;
    assert_eq!(form.status, StatusCode::OK);
    let answered = phone
        .answer(&target.parents_token, &catalog_survey("parents"))
        .await;
    assert_eq!(answered.status, StatusCode::SEE_OTHER, "{}", answered.body);
    assert_eq!(app.responses().await, expected.len() as i64 + 1);
}
