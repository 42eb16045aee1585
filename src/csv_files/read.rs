//! Reading the CSV files clerks bring from Excel — the school list and the teacher rosters: the
//! encodings Excel writes (UTF-8 with or without BOM, GB18030/GBK), line numbers as the clerk sees
//! them, headers found in any order, and the one error type both imports answer with. No I/O.

use std::borrow::Cow;
use std::fmt;

use csv::StringRecord;
use encoding_rs::GB18030;

/// Why a file gives nothing to import. Every message is meant for the clerk who uploaded it;
/// `what` names the rows (学校, 教师).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(
        "无法识别文件的编码（既不是 UTF-8，也不是 GBK/GB18030）。请在 Excel 中选择“另存为”，\
         保存类型选“CSV UTF-8（逗号分隔）”，然后重新导入"
    )]
    UnrecognisedEncoding,
    #[error("文件是空的")]
    Empty,
    #[error("文件只有表头，没有任何{what}")]
    NoRows { what: &'static str },
    #[error("第 {line} 行表头缺少 {}；找到的表头是：{}", quoted_list(.missing), found_list(.found))]
    MissingColumns {
        /// Line of the header in the file.
        line: usize,
        /// The Chinese names of the columns not found.
        missing: Vec<&'static str>,
        /// Every header cell as written, trimmed.
        found: Vec<String>,
    },
    #[error("第 {line} 行表头中\"{first}\"和\"{second}\"是同一列（{column}），请删去其中一列")]
    RepeatedColumn {
        line: usize,
        /// The Chinese name of the column.
        column: &'static str,
        first: String,
        second: String,
    },
    /// The CSV reader itself gave up. Unlikely on text that decoded, but not impossible.
    #[error("文件无法按 CSV 格式读取：{0}")]
    Unreadable(#[from] csv::Error),
    #[error("发现 {} 处错误，没有导入任何{what}：\n{}", .lines.len(), line_list(.lines))]
    BadLines {
        what: &'static str,
        lines: Vec<LineError>,
    },
}

/// One thing wrong with one line of the file. A line with several problems gives several.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineError {
    /// 1-based line number in the file; the header is line 1.
    pub line: usize,
    /// The line's 学校代码 as written, when it has one, so the clerk can find the school.
    pub code: Option<String>,
    /// What is wrong, in Chinese.
    pub reason: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "第 {} 行（学校代码 {code}）：{}", self.line, self.reason),
            None => write!(f, "第 {} 行：{}", self.line, self.reason),
        }
    }
}

/// UTF-8 when the bytes are valid UTF-8 (a BOM is dropped), otherwise GB18030, which covers GBK
/// and GB2312. Any byte GB18030 cannot decode means the file is in some third encoding.
pub fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, ImportError> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Cow::Borrowed(text.strip_prefix('\u{feff}').unwrap_or(text)));
    }
    let (text, had_errors) = GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(ImportError::UnrecognisedEncoding);
    }
    Ok(text)
}

pub fn is_blank(record: &StringRecord) -> bool {
    record.iter().all(|cell| cell.trim().is_empty())
}

/// Line numbers as the clerk sees them, counted here because the CSV reader's own count is
/// wrong after CRLF line endings and blank lines (csv 1.4 gives the line after a CRLF header as
/// line 1). Its byte offset of a record is sound, though: it lands on the record or on the line
/// breaks just before it. Records come in file order, so counting resumes where it stopped.
pub struct LineCounter<'t> {
    text: &'t [u8],
    /// Byte offset up to which line breaks have been counted.
    counted_to: usize,
    /// The line `counted_to` is on.
    line: usize,
}

impl<'t> LineCounter<'t> {
    pub fn new(text: &'t str) -> LineCounter<'t> {
        LineCounter {
            text: text.as_bytes(),
            counted_to: 0,
            line: 1,
        }
    }

    /// The line where `record` starts. A record never starts with a line break (a cell holding
    /// one is quoted), so any at its reported offset belong to the lines before it.
    pub fn line_of(&mut self, record: &StringRecord) -> usize {
        let offset = record
            .position()
            .map_or(self.counted_to, |position| position.byte() as usize);
        let breaks_before = self
            .text
            .get(offset..)
            .unwrap_or_default()
            .iter()
            .take_while(|&&byte| byte == b'\r' || byte == b'\n')
            .count();
        let start = offset + breaks_before;
        self.line += self
            .text
            .get(self.counted_to..start)
            .unwrap_or_default()
            .iter()
            .filter(|&&byte| byte == b'\n')
            .count();
        self.counted_to = self.counted_to.max(start);
        self.line
    }
}

/// A header cell as the importers compare it: trimmed as written (for Chinese names), and in
/// English form — lower case, spaces and dashes as underscores.
pub fn header_forms(cell: &str) -> (&str, String) {
    let cell = cell.trim();
    (cell, cell.to_ascii_lowercase().replace([' ', '-'], "_"))
}

/// A column named twice in one header: its index and both cells as written (trimmed).
pub struct RepeatedHeader {
    pub column: usize,
    pub first: String,
    pub second: String,
}

/// Where each of `N` known columns sits in a header row, `column_of` telling which column (by
/// index) a cell names; `None` for a column the header lacks. A column named twice is refused
/// with both of its cells.
pub fn locate_columns<const N: usize>(
    header: &StringRecord,
    column_of: impl Fn(&str) -> Option<usize>,
) -> Result<[Option<usize>; N], RepeatedHeader> {
    let mut found = [None; N];
    for (position, cell) in header.iter().enumerate() {
        let Some(column) = column_of(cell).filter(|column| *column < N) else {
            continue;
        };
        if let Some(earlier) = found[column] {
            return Err(RepeatedHeader {
                column,
                first: header.get(earlier).unwrap_or_default().trim().to_owned(),
                second: cell.trim().to_owned(),
            });
        }
        found[column] = Some(position);
    }
    Ok(found)
}

fn quoted_list(names: &[&str]) -> String {
    names
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect::<Vec<_>>()
        .join("、")
}

fn found_list(found: &[String]) -> String {
    let found: Vec<&str> = found
        .iter()
        .map(String::as_str)
        .filter(|header| !header.is_empty())
        .collect();
    if found.is_empty() {
        "（无）".to_owned()
    } else {
        found.join("、")
    }
}

fn line_list(errors: &[LineError]) -> String {
    errors
        .iter()
        .map(LineError::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}
