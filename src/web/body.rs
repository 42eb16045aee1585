//! Reading a form body: a size limit answered with 413 before the whole body is read, a body
//! that did not arrive in time told apart (408), and a strict
//! `application/x-www-form-urlencoded` decoder that refuses invalid UTF-8 instead of silently
//! replacing it.

use std::io;

use actix_web::error::PayloadError;
use actix_web::web;
use futures_util::StreamExt;

use crate::answering::FormFields;
use crate::secrets::hex_digit;

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
pub fn parse_urlencoded(body: &[u8]) -> Option<FormFields> {
    let mut fields = FormFields::with_capacity(body.len());
    // Each name and value is decoded here, then copied into `fields`: two buffers a form.
    let (mut name, mut value) = (Vec::new(), Vec::new());
    for part in body.split(|byte| *byte == b'&') {
        if part.is_empty() {
            continue;
        }
        if fields.len() == MAX_FIELDS {
            return None;
        }
        let mut halves = part.splitn(2, |byte| *byte == b'=');
        decode(halves.next().unwrap_or_default(), &mut name);
        decode(halves.next().unwrap_or_default(), &mut value);
        fields.push(
            std::str::from_utf8(&name).ok()?,
            std::str::from_utf8(&value).ok()?,
        );
    }
    Some(fields)
}

/// `raw` decoded into `into` (emptied first): `+` is a space, `%XX` a byte, and a `%` without two
/// hex digits after it stays as it is.
fn decode(raw: &[u8], into: &mut Vec<u8>) {
    into.clear();
    let mut bytes = raw.iter();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'+' => into.push(b' '),
            b'%' => {
                let rest = bytes.as_slice();
                match (
                    rest.first().copied().and_then(hex_digit),
                    rest.get(1).copied().and_then(hex_digit),
                ) {
                    (Some(high), Some(low)) => {
                        into.push(high << 4 | low);
                        bytes.nth(1);
                    }
                    _ => into.push(b'%'),
                }
            }
            _ => into.push(byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_with_chinese_and_repeats() {
        let fields =
            parse_urlencoded(b"a=1&b=%E4%BD%A0+%E5%A5%BD&b=2&&c&d=%2B%2&e=%").expect("valid");
        assert_eq!(
            fields.pairs().collect::<Vec<_>>(),
            vec![
                ("a", "1"),
                ("b", "你 好"),
                ("b", "2"),
                ("c", ""),
                ("d", "+%2"),
                ("e", "%"),
            ]
        );
        assert_eq!(fields.single("a"), Some("1"));
        assert_eq!(fields.single("b"), None, "sent twice");
        assert_eq!(fields.values("b").collect::<Vec<_>>(), ["你 好", "2"]);
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(parse_urlencoded(b"a=%FF%FE").is_none());
        assert!(parse_urlencoded(b"a=\xff").is_none());
        // A character split between a name and its value is invalid in both.
        assert!(parse_urlencoded(b"%E4%BD=%A0").is_none());
    }
}
