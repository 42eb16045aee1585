//! What a form carries that only the server can have made: the browser cookie that tells one
//! phone from another, and the time a form was served. Each is signed with the installation's
//! secret key (HMAC-SHA256, see `secrets::keyed_hash`), so that a cookie the server never issued
//! counts as no cookie, and a form whose served time was changed or left out is refused as a form
//! this server's page could not have sent. The too-fast check and the answer's duration then
//! rest on the server's own two clocks, never on the client's word.

use chrono::{DateTime, Utc};

use crate::secrets::{hex, is_random_key, keyed_hash, random_key};

/// The hex of the first 16 bytes of the keyed hash of `text`: enough to be unforgeable.
fn signature(key: &[u8], text: &str) -> String {
    hex(&keyed_hash(key, text)[..16])
}

/// A new browser cookie: `{random key}.{issued, seconds}.{signature}`.
pub fn new_browser_cookie(key: &[u8], now: DateTime<Utc>) -> String {
    let random = random_key();
    let issued = now.timestamp();
    let signature = signature(key, &format!("browser:{random}.{issued}"));
    format!("{random}.{issued}.{signature}")
}

/// The random part of a browser cookie this server issued, or `None` for anything else (an
/// old unsigned cookie, a made-up one, a changed one), which counts as no cookie at all.
pub fn verified_browser(key: &[u8], cookie: &str) -> Option<String> {
    let mut parts = cookie.splitn(3, '.');
    let (random, issued, given) = (parts.next()?, parts.next()?, parts.next()?);
    if !is_random_key(random) || issued.parse::<i64>().is_err() {
        return None;
    }
    (signature(key, &format!("browser:{random}.{issued}")) == given).then(|| random.to_owned())
}

/// The signed served time a form carries in `_t`: `{milliseconds}.{signature}`, bound to the
/// link and the form's idempotency key.
pub fn served_time(key: &[u8], link_id: i32, form_key: &str, served: DateTime<Utc>) -> String {
    let millis = served.timestamp_millis();
    let signature = signature(key, &format!("form:{link_id}:{form_key}:{millis}"));
    format!("{millis}.{signature}")
}

/// When the form was served, if `value` is a served time this server signed for this link and
/// key; `None` for a changed, forged or missing one.
pub fn verified_served_time(
    key: &[u8],
    link_id: i32,
    form_key: &str,
    value: &str,
) -> Option<DateTime<Utc>> {
    let (millis, given) = value.split_once('.')?;
    let millis: i64 = millis.parse().ok()?;
    let expected = signature(key, &format!("form:{link_id}:{form_key}:{millis}"));
    if expected != given {
        return None;
    }
    DateTime::from_timestamp_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &[u8] = b"the installation's key";

    #[test]
    fn only_a_cookie_the_server_issued_is_believed() {
        let cookie = new_browser_cookie(KEY, Utc::now());
        let random = verified_browser(KEY, &cookie).expect("ours");
        assert!(cookie.starts_with(&random));
        assert_eq!(verified_browser(b"another key", &cookie), None);
        assert_eq!(
            verified_browser(KEY, &random_key()),
            None,
            "an unsigned cookie"
        );
        let forged = format!("{}.{}", random_key(), &cookie[33..]);
        assert_eq!(verified_browser(KEY, &forged), None, "another random part");
    }

    #[test]
    fn a_served_time_that_was_moved_or_moved_to_another_form_is_refused() {
        let served = DateTime::from_timestamp_millis(1_764_000_000_000).expect("a time");
        let form_key = random_key();
        let value = served_time(KEY, 7, &form_key, served);
        assert_eq!(
            verified_served_time(KEY, 7, &form_key, &value),
            Some(served)
        );
        let (millis, signature) = value.split_once('.').expect("two parts");
        let moved = format!(
            "{}.{signature}",
            millis.parse::<i64>().expect("ms") - 300_000
        );
        assert_eq!(verified_served_time(KEY, 7, &form_key, &moved), None);
        assert_eq!(verified_served_time(KEY, 8, &form_key, &value), None);
        assert_eq!(verified_served_time(KEY, 7, &random_key(), &value), None);
        assert_eq!(verified_served_time(KEY, 7, &form_key, millis), None);
    }
}
