//! What a form carries that only the server can have made: the browser cookie that tells one
//! phone from another, and the time a form was served. Each is signed with the installation's
//! secret key (HMAC-SHA256, see `secrets::keyed_hash`), so that a cookie the server never issued
//! counts as no cookie, and a form whose served time was changed or left out is refused as a form
//! this server's page could not have sent. The too-fast check and the answer's duration then
//! rest on the server's own two clocks, never on the client's word.

use chrono::{DateTime, Utc};

use crate::secrets::{SigningKey, is_random_key, random_key};

/// What a browser cookie's signature covers: `browser:{random}.{issued}`.
fn browser_text<'a>(random: &'a str, issued: &'a str) -> [&'a [u8]; 4] {
    [b"browser:", random.as_bytes(), b".", issued.as_bytes()]
}

/// A new browser cookie: `{random key}.{issued, seconds}.{signature}`.
pub fn new_browser_cookie(key: &SigningKey, now: DateTime<Utc>) -> String {
    let random = random_key();
    let mut issued = itoa::Buffer::new();
    let issued = issued.format(now.timestamp());
    let signature = key.signature(&browser_text(&random, issued));
    dotted(&[&random, issued, &signature])
}

/// The random part of a browser cookie this server issued, or `None` for anything else (an
/// old unsigned cookie, a made-up one, a changed one), which counts as no cookie at all.
pub fn verified_browser(key: &SigningKey, cookie: &str) -> Option<String> {
    let mut parts = cookie.splitn(3, '.');
    let (random, issued, given) = (parts.next()?, parts.next()?, parts.next()?);
    if !is_random_key(random) || issued.parse::<i64>().is_err() {
        return None;
    }
    key.verify(&browser_text(random, issued), given)
        .then(|| random.to_owned())
}

/// What a served time's signature covers: `form:{link id}:{form key}:{milliseconds}`, made
/// in `buffers`.
fn form_text<'a>(
    buffers: &'a mut (itoa::Buffer, itoa::Buffer),
    link_id: i32,
    form_key: &'a str,
    millis: i64,
) -> [&'a [u8]; 6] {
    let (link, time) = buffers;
    [
        b"form:",
        link.format(link_id).as_bytes(),
        b":",
        form_key.as_bytes(),
        b":",
        time.format(millis).as_bytes(),
    ]
}

/// The signed served time a form carries in `_t`: `{milliseconds}.{signature}`, bound to the
/// link and the form's idempotency key.
pub fn served_time(
    key: &SigningKey,
    link_id: i32,
    form_key: &str,
    served: DateTime<Utc>,
) -> String {
    let millis = served.timestamp_millis();
    let mut buffers = Default::default();
    let signature = key.signature(&form_text(&mut buffers, link_id, form_key, millis));
    dotted(&[itoa::Buffer::new().format(millis), &signature])
}

/// `parts` joined by dots, in a string made once at its length (`format!` grew its string as it
/// wrote, twice or three times a form served).
fn dotted(parts: &[&str]) -> String {
    let length = parts.iter().map(|part| part.len() + 1).sum::<usize>();
    let mut joined = String::with_capacity(length);
    for (n, part) in parts.iter().enumerate() {
        if n > 0 {
            joined.push('.');
        }
        joined.push_str(part);
    }
    joined
}

/// When the form was served, if `value` is a served time this server signed for this link and
/// key; `None` for a changed, forged or missing one.
pub fn verified_served_time(
    key: &SigningKey,
    link_id: i32,
    form_key: &str,
    value: &str,
) -> Option<DateTime<Utc>> {
    let (millis, given) = value.split_once('.')?;
    let millis: i64 = millis.parse().ok()?;
    let mut buffers = Default::default();
    if !key.verify(&form_text(&mut buffers, link_id, form_key, millis), given) {
        return None;
    }
    DateTime::from_timestamp_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"the installation's key";

    fn key() -> SigningKey {
        SigningKey::new(SECRET)
    }

    /// Cookies in parents' browsers and forms on their screens were signed by earlier versions,
    /// as the keyed hash of the text joined with `format!`: they still verify.
    #[test]
    fn signatures_are_those_earlier_versions_made() {
        let earlier =
            |text: &str| crate::secrets::hex(&crate::secrets::keyed_hash(SECRET, text)[..16]);
        let random = random_key();
        let cookie = format!(
            "{random}.1764000000.{}",
            earlier(&format!("browser:{random}.1764000000"))
        );
        assert_eq!(verified_browser(&key(), &cookie), Some(random.clone()));
        let served = DateTime::from_timestamp_millis(1_764_000_000_123).expect("a time");
        assert_eq!(
            served_time(&key(), 42, &random, served),
            format!(
                "1764000000123.{}",
                earlier(&format!("form:42:{random}:1764000000123"))
            )
        );
        let issued = new_browser_cookie(&key(), served);
        let (text, signature) = issued.rsplit_once('.').expect("three parts");
        assert_eq!(signature, earlier(&format!("browser:{text}")));
    }

    #[test]
    fn only_a_cookie_the_server_issued_is_believed() {
        let cookie = new_browser_cookie(&key(), Utc::now());
        let random = verified_browser(&key(), &cookie).expect("ours");
        assert!(cookie.starts_with(&random));
        assert_eq!(
            verified_browser(&SigningKey::new(b"another key"), &cookie),
            None
        );
        assert_eq!(
            verified_browser(&key(), &random_key()),
            None,
            "an unsigned cookie"
        );
        let forged = format!("{}.{}", random_key(), &cookie[33..]);
        assert_eq!(
            verified_browser(&key(), &forged),
            None,
            "another random part"
        );
    }

    #[test]
    fn a_served_time_that_was_moved_or_moved_to_another_form_is_refused() {
        let served = DateTime::from_timestamp_millis(1_764_000_000_000).expect("a time");
        let form_key = random_key();
        let value = served_time(&key(), 7, &form_key, served);
        assert_eq!(
            verified_served_time(&key(), 7, &form_key, &value),
            Some(served)
        );
        let (millis, signature) = value.split_once('.').expect("two parts");
        let moved = format!(
            "{}.{signature}",
            millis.parse::<i64>().expect("ms") - 300_000
        );
        assert_eq!(verified_served_time(&key(), 7, &form_key, &moved), None);
        assert_eq!(verified_served_time(&key(), 8, &form_key, &value), None);
        assert_eq!(verified_served_time(&key(), 7, &random_key(), &value), None);
        assert_eq!(verified_served_time(&key(), 7, &form_key, millis), None);
    }
}
