//! A blank form, gzipped once and served thousands of times: the page is cut around the two
//! values that differ per request (the idempotency key and the time it was served), the two
//! large pieces are deflated once, and each request adds only its few dozen bytes between them
//! as a stored (uncompressed) deflate block. The pieces are independent deflate streams ending on byte boundaries (sync flush), so
//! their concatenation with a fresh gzip header and trailer is one valid gzip member; the CRC of
//! the whole page is combined from the pieces' CRCs.

use std::io::Write;

use flate2::Compression;
use flate2::write::DeflateEncoder;
use zlib_rs::crc32::{crc32, crc32_combine_gen, crc32_combine_op};

/// Stand-ins rendered where the per-request values go; neither can occur in a real page (keys
/// are hex, times are digits).
pub const KEY_MARK: &str = "KEY-TO-BE-SPLICED-IN-KEY-KEY-KEY";
pub const TIME_MARK: &str = "TIME-TO-BE-SPLICED-IN";

pub struct SplicedPage {
    prefix: String,
    between: String,
    suffix: String,
    gzip_prefix: Vec<u8>,
    gzip_suffix: Vec<u8>,
    /// The CRC-32 of the prefix and of the suffix.
    crc_prefix: u32,
    crc_suffix: u32,
    /// What combines a CRC with the suffix's (`crc32_combine_gen` of the suffix's length): made
    /// once, it leaves a served form one multiplication of polynomials instead of three
    /// combinations of a few hundred.
    before_suffix: u32,
}

fn deflate(text: &str, level: Compression, last: bool) -> std::io::Result<Vec<u8>> {
    let mut encoder = DeflateEncoder::new(Vec::with_capacity(text.len() / 3 + 64), level);
    encoder.write_all(text.as_bytes())?;
    if last {
        encoder.finish()
    } else {
        // A sync flush ends the piece on a byte boundary without a final block.
        encoder.flush()?;
        Ok(encoder.get_ref().clone())
    }
}

/// `bytes` as deflate stored (uncompressed) blocks that do not end the stream (RFC 1951, 3.2.4):
/// the piece before ends on a byte boundary, so each block is its header byte (not final, type
/// 00, padding), its length and the length's complement, and the bytes. The few dozen bytes of
/// a request need no compressor: a deflate encoder's state is some 300 KB allocated and freed per
/// request, which glibc's arenas kept as resident memory (hundreds of MB under `dupin bench`).
fn stored_block(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() + 5 * (bytes.len() / 65_535 + 1));
    for chunk in bytes.chunks(65_535) {
        let length = u16::try_from(chunk.len()).map_err(std::io::Error::other)?;
        out.push(0);
        out.extend_from_slice(&length.to_le_bytes());
        out.extend_from_slice(&(!length).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    Ok(out)
}

impl SplicedPage {
    /// Cuts `page` (rendered with `KEY_MARK` and `TIME_MARK` in place of the values) and deflates
    /// its pieces; `None` if the marks are not there once each, in that order.
    pub fn new(page: &str) -> Option<SplicedPage> {
        let (prefix, rest) = page.split_once(KEY_MARK)?;
        let (between, suffix) = rest.split_once(TIME_MARK)?;
        if suffix.contains(KEY_MARK) || suffix.contains(TIME_MARK) || between.contains(KEY_MARK) {
            return None;
        }
        Some(SplicedPage {
            gzip_prefix: deflate(prefix, Compression::default(), false).ok()?,
            gzip_suffix: deflate(suffix, Compression::default(), true).ok()?,
            crc_prefix: crc32(0, prefix.as_bytes()),
            crc_suffix: crc32(0, suffix.as_bytes()),
            before_suffix: crc32_combine_gen(suffix.len() as u64),
            prefix: prefix.to_owned(),
            between: between.to_owned(),
            suffix: suffix.to_owned(),
        })
    }

    fn middle(&self, key: &str, served_at: &str) -> String {
        format!("{key}{}{served_at}", self.between)
    }

    /// The page as text.
    pub fn plain(&self, key: &str, served_at: &str) -> String {
        let middle = self.middle(key, served_at);
        let mut page = String::with_capacity(self.prefix.len() + middle.len() + self.suffix.len());
        page.push_str(&self.prefix);
        page.push_str(&middle);
        page.push_str(&self.suffix);
        page
    }

    /// The page as one gzip member.
    pub fn gzip(&self, key: &str, served_at: &str) -> std::io::Result<Vec<u8>> {
        let middle = self.middle(key, served_at);
        let gzip_middle = stored_block(middle.as_bytes())?;
        // The prefix's CRC carried on over the middle's few dozen bytes, then combined with the
        // suffix's.
        let crc = crc32_combine_op(
            crc32(self.crc_prefix, middle.as_bytes()),
            self.crc_suffix,
            self.before_suffix,
        );
        // ISIZE: the page's length modulo 2^32 (RFC 1952).
        let length = (self.prefix.len() + middle.len() + self.suffix.len()) as u32;
        let mut out = Vec::with_capacity(
            18 + self.gzip_prefix.len() + gzip_middle.len() + self.gzip_suffix.len(),
        );
        // ID1 ID2, deflate, no flags, no time, no extra flags, unknown OS.
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        out.extend_from_slice(&self.gzip_prefix);
        out.extend_from_slice(&gzip_middle);
        out.extend_from_slice(&self.gzip_suffix);
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&length.to_le_bytes());
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn page() -> String {
        let questions = "<label><input type=radio name=q value=5>非常满意</label>\n".repeat(400);
        format!(
            "<html><p>青溪县第一中学</p><form><input name=\"_key\" value=\"{KEY_MARK}\"><input name=\"_t\" value=\"{TIME_MARK}\">{questions}</form></html>"
        )
    }

    #[test]
    fn the_spliced_gzip_decodes_to_the_same_page_as_the_plain_one() {
        let spliced = SplicedPage::new(&page()).expect("the marks are there");
        let key = "0123456789abcdef0123456789abcdef";
        let plain = spliced.plain(key, "1764400000000");
        assert!(plain.contains("value=\"0123456789abcdef0123456789abcdef\""));
        assert!(!plain.contains(KEY_MARK) && !plain.contains(TIME_MARK));
        let gzipped = spliced.gzip(key, "1764400000000").expect("gzip");
        assert!(
            gzipped.len() < plain.len() / 5,
            "{} of {}",
            gzipped.len(),
            plain.len()
        );
        let mut decoded = String::new();
        flate2::read::GzDecoder::new(&gzipped[..])
            .read_to_string(&mut decoded)
            .expect("a valid gzip member (the CRC and length are checked)");
        assert_eq!(decoded, plain);
        let mut whole = flate2::Crc::new();
        whole.update(plain.as_bytes());
        let trailer = &gzipped[gzipped.len() - 8..];
        assert_eq!(
            trailer[..4],
            whole.sum().to_le_bytes(),
            "CRC-32 of the page"
        );
        assert_eq!(
            trailer[4..],
            whole.amount().to_le_bytes(),
            "length of the page"
        );
    }

    #[test]
    fn a_page_without_both_marks_is_not_spliced() {
        assert!(SplicedPage::new("<html>no marks</html>").is_none());
        assert!(SplicedPage::new(&format!("{TIME_MARK}{KEY_MARK}")).is_none());
    }
}
