//! Random values nobody can guess: the keys of cookies, idempotency keys of forms, CSRF tokens and
//! the mail sender's lease owner. 128 bits from the operating system's generator, written as 32
//! hex characters. (Link tokens, which people read off posters, have their own alphabet in
//! `links`; API tokens theirs in `api_tokens`.)

/// A random value for cookies, idempotency keys and CSRF tokens: 128 bits as 32 hex characters.
pub fn random_key() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The lower-case hex SHA-256 of `text`: how secrets that must be recognised but never kept
/// (personal links, the setup link) are stored.
pub fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// HMAC-SHA256 of `text` under `key`: a value only the holder of the key can compute (the
/// session key of the installation, for orders and signatures nobody else may recompute).
pub fn keyed_hash(key: &[u8], text: &str) -> [u8; 32] {
    use hmac::{Hmac, KeyInit, Mac};
    // HMAC takes a key of any length; the error case cannot occur.
    match <Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(text.as_bytes());
            mac.finalize().into_bytes().into()
        }
        Err(_) => <sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()).into(),
    }
}

/// Whether `text` looks like a key made by [`random_key`]: anything else is refused unread.
pub fn is_random_key(text: &str) -> bool {
    text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_32_hex_characters_and_differ() {
        let key = random_key();
        assert!(is_random_key(&key), "{key}");
        assert_ne!(key, random_key());
        assert!(!is_random_key("not a key"));
        assert!(!is_random_key(&"g".repeat(32)));
    }
}
