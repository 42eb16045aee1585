//! Random values nobody can guess: the keys of cookies, idempotency keys of forms, CSRF tokens and
//! the mail sender's lease owner. 128 bits from the operating system's generator, written as 32
//! hex characters. (Link tokens, which people read off posters, have their own alphabet in
//! `links`; API tokens theirs in `api_tokens`.)

/// A random value for cookies, idempotency keys and CSRF tokens: 128 bits as 32 hex characters.
pub fn random_key() -> String {
    let bytes: [u8; 16] = rand::random();
    hex(&bytes)
}

/// The idempotency key of a form served at `now`: 32 hex characters like [`random_key`], the
/// first 12 the time in milliseconds and the other 20 (80 bits) random. Keys of forms served later
/// sort later, so the answers' unique index on them takes each new key near its end instead of on
/// a random page of its B-tree: one page fewer written per stored answer. The time tells nothing
/// the answer's stored time and duration do not, and 80 random bits are not guessed.
pub fn form_key(now: chrono::DateTime<chrono::Utc>) -> String {
    let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
    let mut bytes = [0u8; 16];
    bytes[..6].copy_from_slice(&millis.to_be_bytes()[2..]);
    bytes[6..].copy_from_slice(&rand::random::<[u8; 10]>());
    hex(&bytes)
}

/// `bytes` as lower-case hex, in one allocation (keys, cookies and signatures are made on every
/// form served and submitted).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

/// The 16 bytes of a key of 32 hex characters ([`random_key`], [`form_key`]), or `None`.
pub fn key_bytes(key: &str) -> Option<[u8; 16]> {
    if !is_random_key(key) {
        return None;
    }
    let mut bytes = [0u8; 16];
    for (byte, pair) in bytes.iter_mut().zip(key.as_bytes().chunks_exact(2)) {
        *byte = hex_digit(pair[0])? << 4 | hex_digit(pair[1])?;
    }
    Some(bytes)
}

/// The value of one hex digit (either case), or `None` for any other byte.
pub fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte).to_digit(16).map(|digit| digit as u8)
}

/// The lower-case hex SHA-256 of `text`: how secrets that must be recognised but never kept
/// (personal links, the setup link) are stored.
pub fn sha256_hex(text: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(text.as_bytes()))
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

/// The installation's key made ready for HMAC-SHA256 once: its two padded blocks are hashed
/// when the server starts instead of at each signature — four a submission (the served time and
/// the browser cookie, each signed on the form and checked on the answer).
#[derive(Clone)]
pub struct SigningKey(hmac::Hmac<sha2::Sha256>);

impl SigningKey {
    pub fn new(key: &[u8]) -> SigningKey {
        use hmac::KeyInit;
        // HMAC's own key block: a key longer than a block is hashed, a shorter one padded with
        // zeros (RFC 2104), so that the constructor taking a whole block cannot fail.
        let mut block = [0u8; 64];
        if key.len() > block.len() {
            block[..32].copy_from_slice(&<sha2::Sha256 as sha2::Digest>::digest(key));
        } else {
            block[..key.len()].copy_from_slice(key);
        }
        SigningKey(<hmac::Hmac<sha2::Sha256> as KeyInit>::new(&block.into()))
    }

    /// The keyed hash of `parts` one after the other: the same as [`keyed_hash`] of them joined.
    pub fn sign(&self, parts: &[&[u8]]) -> [u8; 32] {
        use hmac::Mac;
        let mut mac = self.0.clone();
        parts.iter().for_each(|part| mac.update(part));
        mac.finalize().into_bytes().into()
    }

    /// The first 16 bytes of the keyed hash of `parts`, in hex: a signature.
    pub fn signature(&self, parts: &[&[u8]]) -> String {
        hex(&self.sign(parts)[..16])
    }

    /// Whether `given` is the [`SigningKey::signature`] of `parts`, compared in constant time:
    /// how long a refusal takes tells nothing of how much of a forged signature was right.
    pub fn verify(&self, parts: &[&[u8]], given: &str) -> bool {
        use hmac::Mac;
        let Some(bytes) = key_bytes(given) else {
            return false;
        };
        let mut mac = self.0.clone();
        parts.iter().for_each(|part| mac.update(part));
        mac.verify_truncated_left(&bytes).is_ok()
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
    fn a_signing_key_signs_as_the_keyed_hash_and_checks_in_hex() {
        let long = [7u8; 100];
        assert_eq!(
            SigningKey::new(&long).sign(&[b"text"]),
            keyed_hash(&long, "text"),
            "a key longer than a block"
        );
        let key = SigningKey::new(b"the installation's key");
        let signed = key.sign(&[b"form:", b"7", b":key"]);
        assert_eq!(signed, keyed_hash(b"the installation's key", "form:7:key"));
        let given = key.signature(&[b"form:7:key"]);
        assert_eq!(given, hex(&signed[..16]));
        assert!(key.verify(&[b"form:7:", b"key"], &given));
        assert!(!key.verify(&[b"form:7:kez"], &given), "other text");
        assert!(
            !SigningKey::new(b"another").verify(&[b"form:7:key"], &given),
            "another key"
        );
        let mut changed = given.clone().into_bytes();
        changed[31] = if changed[31] == b'0' { b'1' } else { b'0' };
        let changed = String::from_utf8(changed).expect("hex");
        assert!(!key.verify(&[b"form:7:key"], &changed), "one digit changed");
        assert!(
            !key.verify(&[b"form:7:key"], &hex(&signed)),
            "the whole hash"
        );
        assert!(!key.verify(&[b"form:7:key"], &given[..30]), "too short");
        assert!(
            !key.verify(&[b"form:7:key"], &given.replace(&given[..1], "g")),
            "not hex"
        );
        assert!(!key.verify(&[b"form:7:key"], ""), "nothing");
    }

    #[test]
    fn hex_is_lower_case_and_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(hex(&[]), "");
    }

    #[test]
    fn a_key_turns_into_its_bytes_and_back() {
        let key = form_key(chrono::Utc::now());
        let bytes = key_bytes(&key).expect("a form key is a key");
        assert_eq!(hex(&bytes), key);
        assert_eq!(key_bytes(&key.to_uppercase()).map(|b| hex(&b)), Some(key));
        assert_eq!(key_bytes("not a key"), None);
        assert_eq!(key_bytes(&"0".repeat(31)), None);
    }

    #[test]
    fn keys_are_32_hex_characters_and_differ() {
        let key = random_key();
        assert!(is_random_key(&key), "{key}");
        assert_ne!(key, random_key());
        assert!(!is_random_key("not a key"));
        assert!(!is_random_key(&"g".repeat(32)));
    }

    #[test]
    fn form_keys_are_keys_that_sort_by_the_time_they_were_served() {
        let served = chrono::DateTime::from_timestamp_millis(1_764_400_000_000).expect("a time");
        let first = form_key(served);
        let same_time = form_key(served);
        let later = form_key(served + chrono::Duration::milliseconds(1));
        assert!(is_random_key(&first), "{first}");
        assert_eq!(&first[..12], format!("{:012x}", 1_764_400_000_000_u64));
        assert_ne!(first, same_time, "the random part differs");
        assert_eq!(first[..12], same_time[..12]);
        assert!(first < later && same_time < later);
    }
}
