//! The SPSS system file format (`.sav`), written from its documentation (the "System File
//! Format" appendix of PSPP's developer manual): a dictionary — variables with names, labels,
//! formats, value labels, missing values, measurement levels, multiple-response sets and the
//! UTF-8 encoding record — then the cases, bytecode-compressed, one at a time. Knows nothing of
//! surveys; `spss.rs` decides the variables. Strings are at most 255 bytes (longer ones would
//! need the "very long string" segments, which nothing here writes).
//!
//! The number of cases is written as unknown (−1), as the format allows for a file written as a
//! stream: readers count the cases as they read them.

use std::io::{self, Write};

/// SPSS's system-missing value.
const SYSMIS: f64 = -f64::MAX;
/// The compression bias: whole numbers from 1 − BIAS to 251 − BIAS take one byte.
const BIAS: f64 = 100.0;
/// The longest string variable written, in bytes.
pub const MAX_STRING: usize = 255;
/// Longest labels: SPSS documents 120 bytes for value labels; PSPP reads 255 for variables.
const MAX_VALUE_LABEL: usize = 120;
const MAX_VARIABLE_LABEL: usize = 255;

/// How a variable is measured (the display parameter record).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Nominal = 1,
    Ordinal = 2,
    Scale = 3,
}

/// What a variable holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarType {
    /// A number shown with `decimals` places (format F).
    Number { decimals: u8 },
    /// A day, as seconds since 14 October 1582 (format DATE11).
    Date,
    /// Text of at most `width` bytes (1–255).
    Text { width: usize },
}

/// One variable of the dictionary.
#[derive(Clone, Debug)]
pub struct Variable {
    /// A valid SPSS name of at most 64 bytes, unique without regard to case.
    pub name: String,
    pub label: String,
    pub kind: VarType,
    pub measure: Measure,
    /// Labels of numeric values.
    pub value_labels: Vec<(f64, String)>,
    /// At most three discrete user-missing numeric values.
    pub missing: Vec<f64>,
}

/// A multiple dichotomy set: variables that each hold 1 when their option was chosen.
#[derive(Clone, Debug)]
pub struct DichotomySet {
    /// The set's name without its leading `$`.
    pub name: String,
    pub label: String,
    pub counted: i64,
    /// Positions in the dictionary's variables.
    pub variables: Vec<usize>,
}

#[derive(Clone, Debug, Default)]
pub struct Dictionary {
    pub file_label: String,
    pub variables: Vec<Variable>,
    pub sets: Vec<DichotomySet>,
}

/// One value of a case, in the order of the dictionary's variables.
#[derive(Clone, Debug, PartialEq)]
pub enum Datum<'a> {
    Number(f64),
    /// System-missing for a number, spaces for a string.
    Missing,
    Text(&'a str),
}

/// The 8-byte units a variable takes in a case.
fn units(kind: VarType) -> usize {
    match kind {
        VarType::Number { .. } | VarType::Date => 1,
        VarType::Text { width } => width.div_ceil(8),
    }
}

/// A print/write format: type, width and decimals packed into one int32.
fn format_code(kind: VarType) -> i32 {
    let (code, width, decimals) = match kind {
        VarType::Number { decimals } => (
            5,
            8 + i32::from(decimals) + i32::from(decimals > 0),
            i32::from(decimals),
        ),
        VarType::Date => (20, 11, 0),
        VarType::Text { width } => (1, width as i32, 0),
    };
    (code << 16) | (width << 8) | decimals
}

/// The longest prefix of `text` that fits in `bytes` bytes without splitting a character.
pub fn truncate(text: &str, bytes: usize) -> &str {
    if text.len() <= bytes {
        return text;
    }
    let mut end = bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Writes a system file: [`SavWriter::new`] writes the dictionary, [`SavWriter::write_case`]
/// each case, [`SavWriter::finish`] the end.
pub struct SavWriter<W: Write> {
    out: W,
    kinds: Vec<VarType>,
    /// The command bytes of the block being filled, and the raw units that follow it.
    commands: [u8; 8],
    used: usize,
    raw: Vec<u8>,
    cases: u64,
}

impl<W: Write> SavWriter<W> {
    pub fn new(mut out: W, dictionary: &Dictionary) -> io::Result<SavWriter<W>> {
        let mut head = Vec::with_capacity(16 * 1024);
        write_dictionary(&mut head, dictionary)?;
        out.write_all(&head)?;
        Ok(SavWriter {
            out,
            kinds: dictionary.variables.iter().map(|v| v.kind).collect(),
            commands: [0; 8],
            used: 0,
            raw: Vec::with_capacity(64),
            cases: 0,
        })
    }

    /// Writes one case; `values` holds one datum per variable, in order.
    pub fn write_case(&mut self, values: &[Datum]) -> io::Result<()> {
        if values.len() != self.kinds.len() {
            return Err(io::Error::other(format!(
                "a case of {} values for {} variables",
                values.len(),
                self.kinds.len()
            )));
        }
        for (index, value) in values.iter().enumerate() {
            match (self.kinds[index], value) {
                (VarType::Text { width }, datum) => {
                    let text = match datum {
                        Datum::Text(text) => truncate(text, width),
                        _ => "",
                    };
                    let mut padded = text.as_bytes().to_vec();
                    padded.resize(width.div_ceil(8) * 8, b' ');
                    for unit in padded.chunks(8) {
                        if unit == b"        " {
                            self.command(254, None)?;
                        } else {
                            self.command(253, Some(unit))?;
                        }
                    }
                }
                (_, Datum::Number(number)) if number.is_finite() => {
                    let number = *number;
                    if number.fract() == 0.0
                        && (1.0 - BIAS..=251.0 - BIAS).contains(&number)
                        && !(number == 0.0 && number.is_sign_negative())
                    {
                        self.command((number + BIAS) as u8, None)?;
                    } else {
                        self.command(253, Some(&number.to_le_bytes()))?;
                    }
                }
                (_, _) => self.command(255, None)?,
            }
        }
        self.cases += 1;
        Ok(())
    }

    /// Adds a command byte (and its raw unit); a full block goes out with its units.
    fn command(&mut self, code: u8, raw: Option<&[u8]>) -> io::Result<()> {
        self.commands[self.used] = code;
        self.used += 1;
        if let Some(raw) = raw {
            self.raw.extend_from_slice(raw);
        }
        if self.used == 8 {
            self.flush_block()?;
        }
        Ok(())
    }

    fn flush_block(&mut self) -> io::Result<()> {
        self.out.write_all(&self.commands)?;
        self.out.write_all(&self.raw)?;
        self.commands = [0; 8];
        self.used = 0;
        self.raw.clear();
        Ok(())
    }

    /// The writer underneath, for a caller that sends the bytes on as they come.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }

    pub fn cases(&self) -> u64 {
        self.cases
    }

    /// Ends the data with the end-of-file code and gives the writer back.
    pub fn finish(mut self) -> io::Result<W> {
        self.command(252, None)?;
        if self.used > 0 {
            self.flush_block()?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

fn int(out: &mut Vec<u8>, value: i32) {
    out.extend_from_slice(&value.to_le_bytes());
}

fn padded(out: &mut Vec<u8>, text: &str, length: usize) {
    let text = truncate(text, length);
    out.extend_from_slice(text.as_bytes());
    out.resize(out.len() + length - text.len(), b' ');
}

/// A type-7 record of `size`-byte elements.
fn extension(out: &mut Vec<u8>, subtype: i32, size: i32, data: &[u8]) {
    int(out, 7);
    int(out, subtype);
    int(out, size);
    int(out, (data.len() / size as usize) as i32);
    out.extend_from_slice(data);
}

/// The 8-byte names of the variable records: V1, V2, …; the real names go in the long names
/// record.
fn short_name(index: usize) -> String {
    format!("V{}", index + 1)
}

fn write_dictionary(out: &mut Vec<u8>, dictionary: &Dictionary) -> io::Result<()> {
    let case_units: usize = dictionary.variables.iter().map(|v| units(v.kind)).sum();
    let now = chrono::Utc::now();
    // File header.
    out.extend_from_slice(b"$FL2");
    padded(
        out,
        &format!("@(#) SPSS DATA FILE dupin {}", env!("CARGO_PKG_VERSION")),
        60,
    );
    int(out, 2);
    int(out, case_units as i32);
    int(out, 1);
    int(out, 0);
    int(out, -1);
    out.extend_from_slice(&BIAS.to_le_bytes());
    padded(out, &now.format("%d %b %y").to_string(), 9);
    padded(out, &now.format("%H:%M:%S").to_string(), 8);
    padded(out, &dictionary.file_label, 64);
    out.extend_from_slice(&[0; 3]);

    // Variable records, with a continuation record per further 8 bytes of a string.
    let mut indexes = Vec::with_capacity(dictionary.variables.len());
    let mut next_index = 1;
    for (position, variable) in dictionary.variables.iter().enumerate() {
        indexes.push(next_index);
        next_index += units(variable.kind) as i32;
        if variable.missing.len() > 3 {
            return Err(io::Error::other(format!(
                "{}: at most three missing values",
                variable.name
            )));
        }
        int(out, 2);
        int(
            out,
            match variable.kind {
                VarType::Text { width } => width as i32,
                _ => 0,
            },
        );
        int(out, i32::from(!variable.label.is_empty()));
        let missing = match variable.kind {
            VarType::Text { .. } => &[][..],
            _ => &variable.missing[..],
        };
        int(out, missing.len() as i32);
        int(out, format_code(variable.kind));
        int(out, format_code(variable.kind));
        padded(out, &short_name(position), 8);
        if !variable.label.is_empty() {
            let label = truncate(&variable.label, MAX_VARIABLE_LABEL);
            int(out, label.len() as i32);
            out.extend_from_slice(label.as_bytes());
            out.resize(out.len() + (4 - label.len() % 4) % 4, b' ');
        }
        for value in missing {
            out.extend_from_slice(&value.to_le_bytes());
        }
        for _ in 1..units(variable.kind) {
            int(out, 2);
            int(out, -1);
            int(out, 0);
            int(out, 0);
            int(out, 0x0001_0800);
            int(out, 0x0001_0800);
            padded(out, "", 8);
        }
    }

    // Value labels, one pair of records per labelled numeric variable.
    for (position, variable) in dictionary.variables.iter().enumerate() {
        if variable.value_labels.is_empty() || matches!(variable.kind, VarType::Text { .. }) {
            continue;
        }
        int(out, 3);
        int(out, variable.value_labels.len() as i32);
        for (value, label) in &variable.value_labels {
            out.extend_from_slice(&value.to_le_bytes());
            let label = truncate(label, MAX_VALUE_LABEL);
            out.push(label.len() as u8);
            out.extend_from_slice(label.as_bytes());
            let used = 1 + label.len();
            out.resize(out.len() + (8 - used % 8) % 8, b' ');
        }
        int(out, 4);
        int(out, 1);
        int(out, indexes[position]);
    }

    // Machine integer info: version, IEEE 754, little-endian, UTF-8 (code page 65001).
    let mut data = Vec::new();
    for value in [1, 0, 0, -1, 1, 1, 2, 65001] {
        int(&mut data, value);
    }
    extension(out, 3, 4, &data);
    // Machine floating-point info: SYSMIS, HIGHEST, LOWEST.
    let mut data = Vec::new();
    for value in [SYSMIS, f64::MAX, -f64::MAX] {
        data.extend_from_slice(&value.to_le_bytes());
    }
    extension(out, 4, 8, &data);
    // Multiple response sets (dichotomies labelled by their variables' labels).
    if !dictionary.sets.is_empty() {
        let mut text = String::new();
        for set in &dictionary.sets {
            let counted = set.counted.to_string();
            let label = truncate(&set.label, MAX_VARIABLE_LABEL);
            text.push_str(&format!(
                "${}=D{} {} {} {}",
                set.name,
                counted.len(),
                counted,
                label.len(),
                label
            ));
            for variable in &set.variables {
                text.push(' ');
                text.push_str(&short_name(*variable).to_lowercase());
            }
            text.push('\n');
        }
        extension(out, 7, 1, text.as_bytes());
    }
    // Display parameters: measure, width, alignment per variable.
    let mut data = Vec::new();
    for variable in &dictionary.variables {
        int(&mut data, variable.measure as i32);
        let (width, alignment) = match variable.kind {
            VarType::Text { width } => (width.clamp(8, 40) as i32, 0),
            VarType::Date => (11, 1),
            VarType::Number { .. } => (8, 1),
        };
        int(&mut data, width);
        int(&mut data, alignment);
    }
    extension(out, 11, 4, &data);
    // Long variable names.
    let names: Vec<String> = dictionary
        .variables
        .iter()
        .enumerate()
        .map(|(position, variable)| format!("{}={}", short_name(position), variable.name))
        .collect();
    extension(out, 13, 1, names.join("\t").as_bytes());
    // Character encoding.
    extension(out, 20, 1, b"UTF-8");
    // Dictionary termination.
    int(out, 999);
    int(out, 0);
    Ok(())
}

/// Seconds since 14 October 1582, SPSS's epoch, of midnight on `day`.
pub fn spss_date(day: chrono::NaiveDate) -> f64 {
    let epoch = chrono::NaiveDate::from_ymd_opt(1582, 10, 14).unwrap_or_default();
    (day - epoch).num_days() as f64 * 86_400.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dictionary() -> Dictionary {
        Dictionary {
            file_label: "测试".to_owned(),
            variables: vec![
                Variable {
                    name: "grade".to_owned(),
                    label: "孩子年级".to_owned(),
                    kind: VarType::Number { decimals: 0 },
                    measure: Measure::Nominal,
                    value_labels: vec![(1.0, "一年级".to_owned())],
                    missing: vec![-1.0],
                },
                Variable {
                    name: "words".to_owned(),
                    label: String::new(),
                    kind: VarType::Text { width: 20 },
                    measure: Measure::Nominal,
                    value_labels: Vec::new(),
                    missing: Vec::new(),
                },
            ],
            sets: Vec::new(),
        }
    }

    #[test]
    fn the_header_is_176_bytes_and_says_so() {
        let writer = SavWriter::new(Vec::new(), &dictionary()).expect("dictionary");
        let bytes = writer.finish().expect("finished");
        assert_eq!(&bytes[..4], b"$FL2");
        // nominal case size: 1 + 3 units.
        assert_eq!(i32::from_le_bytes(bytes[68..72].try_into().expect("4")), 4);
        // The first variable record follows the header.
        assert_eq!(
            i32::from_le_bytes(bytes[176..180].try_into().expect("4")),
            2
        );
    }

    #[test]
    fn small_whole_numbers_take_a_byte_and_the_rest_eight() {
        let mut writer = SavWriter::new(Vec::new(), &dictionary()).expect("dictionary");
        let start = writer.get_mut().len();
        writer
            .write_case(&[Datum::Number(3.0), Datum::Text("好")])
            .expect("case");
        writer
            .write_case(&[Datum::Number(2.5), Datum::Missing])
            .expect("case");
        let bytes = writer.finish().expect("finished");
        let data = &bytes[start..];
        // 103, then "好" + 5 spaces raw, then two all-space units; then 253 for 2.5, three
        // spaces (254), end of file (252).
        assert_eq!(&data[..8], &[103, 253, 254, 254, 253, 254, 254, 254]);
        assert_eq!(&data[8..16], "好     ".as_bytes());
        assert_eq!(&data[16..24], &2.5f64.to_le_bytes());
        assert_eq!(&data[24..32], &[252, 0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn truncation_never_splits_a_character() {
        assert_eq!(truncate("满意度", 4), "满");
        assert_eq!(truncate("ab", 4), "ab");
    }

    #[test]
    fn the_spss_epoch_is_october_1582() {
        let day = chrono::NaiveDate::from_ymd_opt(1582, 10, 15).expect("day");
        assert_eq!(spss_date(day), 86_400.0);
    }
}
