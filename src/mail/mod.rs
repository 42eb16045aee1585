//! Mail: the messages dupin sends (invitations, reminders, reports, digests, tests), written to
//! the outbox in the transaction of the action that causes them and sent by a background sender
//! over SMTP with retries. No module here knows about HTTP.
//!
//! - `templates`: subject / text / html triplets under `templates/mail/<name>/`.
//! - `outbox`: `enqueue` in the caller's transaction; claiming with a lease; retries.
//! - `sender`: the background task of every `dupin serve` (`Mailer`), and `send_now`.
//! - `smtp`: settings, MIME building, one SMTP conversation with plain reasons for failures.
//!
//! What the report and digest mails say is built by `reports` (`reports::mail`,
//! `reports::digest`), which queues them here.

pub mod outbox;
pub mod sender;
pub mod smtp;
pub mod templates;

pub use sender::Mailer;
pub use smtp::{MailSettings, TlsMode};
pub use templates::{Composed, MailTemplates};

/// An image carried inside an HTML message and shown by `<img src="cid:{cid}">`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InlineImage {
    pub cid: String,
    pub content_type: String,
    #[serde(with = "base64_bytes")]
    pub bytes: Vec<u8>,
}

/// What caused a message; stored in the outbox's `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MailKind {
    Invitation,
    Reminder,
    Report,
    Digest,
    Test,
}

impl MailKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MailKind::Invitation => "invitation",
            MailKind::Reminder => "reminder",
            MailKind::Report => "report",
            MailKind::Digest => "digest",
            MailKind::Test => "test",
        }
    }
}

/// One message ready for the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outgoing {
    pub kind: MailKind,
    pub to: String,
    pub subject: String,
    /// The plain-text body, always present.
    pub text: String,
    /// The HTML alternative, when there is one.
    pub html: Option<String>,
    pub images: Vec<InlineImage>,
    /// The invitation whose status follows this message's fate.
    pub invitation_id: Option<i32>,
}

/// Inline images travel through the outbox as base64 inside JSON.
pub use base64_bytes::encode as base64_encode;

mod base64_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn serialize<S: Serializer>(bytes: &[u8], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        decode(&text).ok_or_else(|| serde::de::Error::custom("invalid base64 in an inline image"))
    }

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                chunk.get(1).copied().unwrap_or(0),
                chunk.get(2).copied().unwrap_or(0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
                if i <= chunk.len() {
                    out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let value = |c: u8| ALPHABET.iter().position(|&a| a == c).map(|p| p as u32);
        let text = text.trim_end_matches('=').as_bytes();
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        for chunk in text.chunks(4) {
            if chunk.len() == 1 {
                return None;
            }
            let mut n = 0u32;
            for (i, &c) in chunk.iter().enumerate() {
                n |= value(c)? << (18 - 6 * i);
            }
            let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
            out.extend_from_slice(&bytes[..chunk.len() - 1]);
        }
        Some(out)
    }

    #[cfg(test)]
    mod tests {
        use super::{decode, encode};

        #[test]
        fn round_trips_every_length() {
            for len in 0..10 {
                let bytes: Vec<u8> = (0..len).map(|i| (i * 37 + 250) as u8).collect();
                assert_eq!(decode(&encode(&bytes)), Some(bytes));
            }
            assert_eq!(encode(b"Man"), "TWFu");
            assert_eq!(encode(b"Ma"), "TWE=");
            assert_eq!(decode("TQ=="), Some(b"M".to_vec()));
            assert_eq!(decode("T"), None);
        }
    }
}
