//! The console's session: a cookie holding the account, its session version, when it was issued
//! and a CSRF token, signed with HMAC-SHA256. Nothing is kept on the server, so every dupin
//! process that shares the key (from configuration, or from the shared database) accepts it;
//! bumping an account's session version ends its sessions everywhere.

use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

pub const SESSION_COOKIE: &str = "dupin_session";
/// A working day; then sign in again.
pub const SESSION_HOURS: i64 = 12;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Session {
    pub account_id: i32,
    pub session_version: i32,
    pub issued_at: DateTime<Utc>,
    /// Sent back in every form that changes something.
    pub csrf: String,
}

fn mac(key: &[u8], payload: &str) -> Option<String> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
    mac.update(payload.as_bytes());
    Some(
        mac.finalize()
            .into_bytes()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect(),
    )
}

impl Session {
    pub fn new(account_id: i32, session_version: i32, now: DateTime<Utc>) -> Session {
        Session {
            account_id,
            session_version,
            issued_at: now,
            csrf: crate::secrets::random_key(),
        }
    }

    fn payload(&self) -> String {
        format!(
            "v1.{}.{}.{}.{}",
            self.account_id,
            self.session_version,
            self.issued_at.timestamp(),
            self.csrf
        )
    }

    /// The cookie's value.
    pub fn encode(&self, key: &[u8]) -> String {
        let payload = self.payload();
        let signature = mac(key, &payload).unwrap_or_default();
        format!("{payload}.{signature}")
    }

    /// Reads a cookie value; `None` if it was not signed with `key`, is malformed or expired.
    pub fn decode(value: &str, key: &[u8], now: DateTime<Utc>) -> Option<Session> {
        let (payload, signature) = value.rsplit_once('.')?;
        let expected = mac(key, payload)?;
        // Compare in constant time: the signature is secret until it matches.
        if expected.len() != signature.len()
            || expected
                .bytes()
                .zip(signature.bytes())
                .fold(0u8, |diff, (a, b)| diff | (a ^ b))
                != 0
        {
            return None;
        }
        let mut parts = payload.split('.');
        if parts.next()? != "v1" {
            return None;
        }
        let account_id = parts.next()?.parse().ok()?;
        let session_version = parts.next()?.parse().ok()?;
        let issued_at = DateTime::from_timestamp(parts.next()?.parse().ok()?, 0)?;
        let csrf = parts.next()?.to_owned();
        if parts.next().is_some()
            || issued_at > now + Duration::minutes(5)
            || now - issued_at > Duration::hours(SESSION_HOURS)
        {
            return None;
        }
        Some(Session {
            account_id,
            session_version,
            issued_at,
            csrf,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_round_trips_and_refuses_tampering_other_keys_and_age() {
        let now = Utc::now();
        let session = Session::new(7, 3, now);
        let key = b"0123456789abcdef0123456789abcdef";
        let cookie = session.encode(key);
        let read = Session::decode(&cookie, key, now).expect("valid");
        assert_eq!(read.account_id, 7);
        assert_eq!(read.session_version, 3);
        assert_eq!(read.csrf, session.csrf);
        assert!(Session::decode(&cookie.replacen("v1.7.", "v1.1.", 1), key, now).is_none());
        assert!(Session::decode(&cookie, b"another key of thirty-two bytes!", now).is_none());
        assert!(Session::decode(&cookie, key, now + Duration::hours(13)).is_none());
        assert!(Session::decode("garbage", key, now).is_none());
    }
}
