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
    // Each name and value is decoded here, then copied into `fields`: two buffers a form, made
    // large enough at once for a question's key and a choice's code.
    let (mut name, mut value) = (Vec::with_capacity(64), Vec::with_capacity(64));
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
/// hex digits after it stays as it is. The bytes between two escapes are copied as one run.
fn decode(raw: &[u8], into: &mut Vec<u8>) {
    into.clear();
    let mut rest = raw;
    while let Some(at) = rest.iter().position(|byte| matches!(byte, b'+' | b'%')) {
        into.extend_from_slice(&rest[..at]);
        if rest[at] == b'+' {
            into.push(b' ');
            rest = &rest[at + 1..];
            continue;
        }
        match (
            rest.get(at + 1).copied().and_then(hex_digit),
            rest.get(at + 2).copied().and_then(hex_digit),
        ) {
            (Some(high), Some(low)) => {
                into.push(high << 4 | low);
                rest = &rest[at + 3..];
            }
            _ => {
                into.push(b'%');
                rest = &rest[at + 1..];
            }
        }
    }
    into.extend_from_slice(rest);
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

    /// The run-copying decoder gives what decoding byte by byte gives, on every mix of plain
    /// bytes, `+`, and escapes whole, cut short or not hex.
    #[test]
    fn runs_decode_as_single_bytes_do() {
        fn byte_by_byte(raw: &[u8]) -> Vec<u8> {
            let mut out = Vec::new();
            let mut at = 0;
            while at < raw.len() {
                match raw[at] {
                    b'+' => out.push(b' '),
                    b'%' => match (
                        raw.get(at + 1).copied().and_then(hex_digit),
                        raw.get(at + 2).copied().and_then(hex_digit),
                    ) {
                        (Some(high), Some(low)) => {
                            out.push(high << 4 | low);
                            at += 2;
                        }
                        _ => out.push(b'%'),
                    },
                    byte => out.push(byte),
                }
                at += 1;
            }
            out
        }
        use rand::{RngExt, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(14);
        let alphabet = b"a+%4F1Gz%%";
        let mut decoded = Vec::new();
        for _ in 0..20_000 {
            let length = rng.random_range(0..12);
            let raw: Vec<u8> = (0..length)
                .map(|_| alphabet[rng.random_range(0..alphabet.len())])
                .collect();
            decode(&raw, &mut decoded);
            assert_eq!(
                decoded,
                byte_by_byte(&raw),
                "{:?}",
                String::from_utf8_lossy(&raw)
            );
        }
    }

    #[test]
    fn invalid_utf8_is_refused() {
        assert!(parse_urlencoded(b"a=%FF%FE").is_none());
        assert!(parse_urlencoded(b"a=\xff").is_none());
        // A character split between a name and its value is invalid in both.
        assert!(parse_urlencoded(b"%E4%BD=%A0").is_none());
    }
}
