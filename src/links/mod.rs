//! Getting forms to people: the unguessable tokens of school links, the public URL built from
//! `DUPIN_BASE_URL`, and QR codes of that URL as SVG and PNG.
//!
//! No database and no HTTP here: callers pass the token and the base address.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use rand::RngExt;

/// Crockford's base32 alphabet: no I, L, O or U, so a token read off a poster is not misread.
const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/// 20 characters of 5 bits: 100 random bits, above the 96 the plan asks for.
pub const TOKEN_LENGTH: usize = 20;

/// A new random link token.
pub fn new_token() -> String {
    let mut rng = rand::rng();
    (0..TOKEN_LENGTH)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Reads a token as a person may have typed it: any case, with Crockford's look-alikes
/// (o → 0, i/l → 1). `None` when it cannot be a token at all, so no database lookup is made.
pub fn normalize_token(text: &str) -> Option<String> {
    if text.len() != TOKEN_LENGTH {
        return None;
    }
    let mut token = String::with_capacity(TOKEN_LENGTH);
    for byte in text.bytes() {
        let byte = match byte.to_ascii_uppercase() {
            b'O' => b'0',
            b'I' | b'L' => b'1',
            other => other,
        };
        // Only ASCII is in the alphabet, so a byte of a longer character is refused here.
        if !in_alphabet(byte) {
            return None;
        }
        token.push(char::from(byte));
    }
    Some(token)
}

/// Whether `byte` is one of [`ALPHABET`]'s (a test checks the two agree): every form served
/// and submitted reads its token through this.
fn in_alphabet(byte: u8) -> bool {
    matches!(byte, b'0'..=b'9' | b'A'..=b'H' | b'J' | b'K' | b'M' | b'N' | b'P'..=b'T' | b'V'..=b'Z')
}

/// The public address of a link: what QR codes and printed lists carry.
pub fn link_url(base_url: &str, token: &str) -> String {
    format!("{}/s/{}", base_url.trim_end_matches('/'), token)
}

#[derive(Debug, thiserror::Error)]
pub enum QrError {
    #[error("the address is too long for a QR code: {0}")]
    Encode(#[from] qrcode::types::QrError),
    #[error("cannot encode the PNG: {0}")]
    Png(#[from] image::ImageError),
}

/// Error correction M survives a smudged or creased poster; Q when the code is small.
fn qr_code(url: &str) -> Result<QrCode, QrError> {
    Ok(QrCode::with_error_correction_level(
        url.as_bytes(),
        EcLevel::M,
    )?)
}

/// The QR code as a scalable SVG with the four-module quiet zone kept.
pub fn qr_svg(url: &str) -> Result<String, QrError> {
    let code = qr_code(url)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .quiet_zone(true)
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// The QR code as a PNG of at least `min_pixels` a side, quiet zone kept.
pub fn qr_png(url: &str, min_pixels: u32) -> Result<Vec<u8>, QrError> {
    let code = qr_code(url)?;
    let image = code
        .render::<image::Luma<u8>>()
        .quiet_zone(true)
        .min_dimensions(min_pixels, min_pixels)
        .build();
    let mut png = Vec::new();
    image.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)?;
    Ok(png)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alphabet_test_takes_exactly_the_alphabets_bytes() {
        for byte in 0..=u8::MAX {
            assert_eq!(in_alphabet(byte), ALPHABET.contains(&byte), "byte {byte}");
        }
    }

    #[test]
    fn tokens_are_twenty_characters_of_the_alphabet_and_differ() {
        let first = new_token();
        let second = new_token();
        assert_eq!(first.len(), TOKEN_LENGTH);
        assert!(first.bytes().all(|b| ALPHABET.contains(&b)));
        assert_ne!(first, second);
    }

    #[test]
    fn a_typed_token_is_read_back_whatever_the_case_and_look_alikes() {
        let token = "0123456789ABCDEFGHJK";
        assert_eq!(
            normalize_token("o123456789abcdefghjk").as_deref(),
            Some(token)
        );
        assert_eq!(
            normalize_token("0l23456789ABCDEFGHJK").as_deref(),
            Some(token)
        );
        assert_eq!(normalize_token("short"), None);
        assert_eq!(normalize_token("0123456789ABCDEFGHJU"), None);
        assert_eq!(normalize_token("0123456789ABCDEFGH中"), None);
    }

    #[test]
    fn link_urls_do_not_double_the_slash() {
        assert_eq!(
            link_url("https://dupin.example.cn/", "ABC"),
            "https://dupin.example.cn/s/ABC"
        );
    }

    #[test]
    fn qr_codes_render_as_svg_and_png() {
        let url = link_url("http://127.0.0.1:8080", &new_token());
        let svg = qr_svg(&url).expect("svg");
        assert!(svg.starts_with("<?xml") && svg.contains("<svg"));
        let png = qr_png(&url, 300).expect("png");
        assert_eq!(&png[1..4], b"PNG");
        let decoded = image::load_from_memory(&png).expect("png decodes");
        assert!(decoded.width() >= 300);
    }
}
