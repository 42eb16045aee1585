//! Reading a form body: a size limit answered with 413 before the whole body is read, a body
//! that did not arrive in time told apart (408), and a strict
//! `application/x-www-form-urlencoded` decoder that refuses invalid UTF-8 instead of silently
//! replacing it.

use std::io;

use actix_web::error::PayloadError;
use actix_web::web;
use futures_util::StreamExt;
use percent_encoding::percent_decode;

/// A questionnaire with every text box full fits many times over.
pub const MAX_FORM_BYTES: usize = 256 * 1024;
/// More fields than any survey has questions and matrix rows.
const MAX_FIELDS: usize = 2000;

pub enum BodyError {
    TooLarge,
    /// The body had not fully arrived when its time was up.
    TimedOut,
    Unreadable,
}

/// Whether reading stopped because the body's time was up (`startup` gives every body a
/// deadline and ends it with this error kind).
fn timed_out(error: &PayloadError) -> bool {
    matches!(error, PayloadError::Io(error) if error.kind() == io::ErrorKind::TimedOut)
}

pub async fn read_limited(
    mut payload: web::Payload,
    declared: Option<usize>,
) -> Result<Vec<u8>, BodyError> {
    if declared.is_some_and(|length| length > MAX_FORM_BYTES) {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::with_capacity(declared.unwrap_or(4096).min(MAX_FORM_BYTES));
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            if timed_out(&error) {
                BodyError::TimedOut
            } else {
                BodyError::Unreadable
            }
        })?;
        if body.len() + chunk.len() > MAX_FORM_BYTES {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Decodes `a=1&b=%E4%BD%A0`, refusing invalid UTF-8 and absurd field counts.
pub fn parse_urlencoded(body: &[u8]) -> Option<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for part in body.split(|byte| *byte == b'&') {
        if part.is_empty() {
            continue;
        }
        if pairs.len() == MAX_FIELDS {
            return None;
        }
        let mut halves = part.splitn(2, |byte| *byte == b'=');
        let name = decode(halves.next().unwrap_or_default())?;
        let value = decode(halves.next().unwrap_or_default())?;
        pairs.push((name, value));
    }
    Some(pairs)
}

/// One allocation for a field with nothing to decode (most names and answer codes), which the
/// phone form's forty-odd fields per submission mostly are.
fn decode(raw: &[u8]) -> Option<String> {
    use std::borrow::Cow;
    let plus_as_space: Cow<[u8]> = if raw.contains(&b'+') {
        Cow::Owned(
            raw.iter()
                .map(|byte| if *byte == b'+' { b' ' } else { *byte })
                .collect(),
        )
    } else {
        Cow::Borrowed(raw)
    };
    let bytes: Cow<[u8]> = percent_decode(&plus_as_space).into();
    String::from_utf8(bytes.into_owned()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_with_chinese_and_repeats() {
        let pairs = parse_urlencoded(b"a=1&b=%E4%BD%A0+%E5%A5%BD&b=2&&c").expect("valid");
        assert_eq!(
            pairs,
            vec![
                ("a".into(), "1".into()),
                ("b".into(), "你 好".into()),
                ("b".into(), "2".into()),
                ("c".into(), String::new()),
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(parse_urlencoded(b"a=%FF%FE").is_none());
        assert!(parse_urlencoded(b"a=\xff").is_none());
    }
}
