//! One school's eight values as a person typed them, a line of a CSV file or the console's form,
//! checked once into a [`NewSchool`]. The rules are written here and only here, so a school added
//! by hand passes exactly the checks of a school imported from a file. No I/O.
//!
//! - Text (学校代码, 学校名称, 乡镇): required; surrounding spaces, full-width ones too, are dropped.
//! - Codes: full-width digits become ASCII, so `４５２１…` and `4521…` are the same school; a code
//!   Excel turned into `4.52123E+09` is refused with advice, since its digits are lost.
//! - Kind (类型): a Chinese label or English name, see [`SchoolKind::parse`].
//! - Flags (中心校, 重点村): 是/否, yes/no, y/n, true/false, 1/0, any case. Empty means 否,
//!   because the sheets the bureau keeps mark only the exceptions.
//! - Numbers (在校生数, 专任教师数): required, whole and not negative; full-width digits (０-９,
//!   typed with a Chinese input method) are accepted.

use std::fmt;

use super::SchoolKind;

/// One school as a line of the file or the form describes it: checked, and ready to be stored.
///
/// [`NewSchool::from_fields`] (or [`super::parse_csv`] for a whole file) is the way to get these
/// from anything a user supplied; it guarantees non-empty text fields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewSchool {
    /// 学校代码, the bureau's identifier; the key an import matches existing schools by.
    pub code: String,
    /// 学校名称
    pub name: String,
    /// 乡镇
    pub township: String,
    /// 类型
    pub kind: SchoolKind,
    /// 中心校: a township central school.
    pub is_central: bool,
    /// 重点村: in one of the county's key poverty villages.
    pub is_key_village: bool,
    /// 在校生数
    pub enrolment: i32,
    /// 专任教师数
    pub teachers: i32,
}

/// The eight values a school has, as columns of the sheet, fields of the form and sort keys of
/// the list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SchoolField {
    Code,
    Name,
    Township,
    Kind,
    Central,
    KeyVillage,
    Enrolment,
    Teachers,
}

impl SchoolField {
    /// In the order of the bureau's sheet.
    pub const ALL: [SchoolField; 8] = [
        SchoolField::Code,
        SchoolField::Name,
        SchoolField::Township,
        SchoolField::Kind,
        SchoolField::Central,
        SchoolField::KeyVillage,
        SchoolField::Enrolment,
        SchoolField::Teachers,
    ];

    /// The header in the bureau's own sheet, also used to name the value in messages.
    pub fn chinese(self) -> &'static str {
        match self {
            SchoolField::Code => "学校代码",
            SchoolField::Name => "学校名称",
            SchoolField::Township => "乡镇",
            SchoolField::Kind => "类型",
            SchoolField::Central => "中心校",
            SchoolField::KeyVillage => "重点村",
            SchoolField::Enrolment => "在校生数",
            SchoolField::Teachers => "专任教师数",
        }
    }

    /// The English name: the first English header accepted, the form's field name and the list's
    /// sort key.
    pub fn english(self) -> &'static str {
        self.english_headers()[0]
    }

    /// Every English header accepted for this column, lower case with underscores.
    pub(super) fn english_headers(self) -> &'static [&'static str] {
        match self {
            SchoolField::Code => &["code"],
            SchoolField::Name => &["name"],
            SchoolField::Township => &["township"],
            SchoolField::Kind => &["kind"],
            SchoolField::Central => &["central", "is_central"],
            SchoolField::KeyVillage => &["key_village", "is_key_village"],
            SchoolField::Enrolment => &["enrolment", "enrollment"],
            SchoolField::Teachers => &["teachers"],
        }
    }

    /// The field whose [`SchoolField::english`] name is exactly `name`.
    pub fn from_english(name: &str) -> Option<SchoolField> {
        SchoolField::ALL
            .into_iter()
            .find(|field| field.english() == name)
    }
}

/// A school's eight values exactly as typed, before any check.
#[derive(Clone, Copy, Debug, Default)]
pub struct SchoolFields<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub township: &'a str,
    pub kind: &'a str,
    pub central: &'a str,
    pub key_village: &'a str,
    pub enrolment: &'a str,
    pub teachers: &'a str,
}

/// One value that is wrong, and why, in words the clerk who typed it understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    pub field: SchoolField,
    pub reason: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
    }
}

impl NewSchool {
    /// Checks every value, so that three problems are reported as three errors, in the order
    /// of [`SchoolField::ALL`].
    pub fn from_fields(fields: &SchoolFields<'_>) -> Result<NewSchool, Vec<FieldError>> {
        let code = parse_code(fields.code.trim());
        let name = parse_text(fields.name.trim(), SchoolField::Name);
        let township = parse_text(fields.township.trim(), SchoolField::Township);
        let kind = parse_kind(fields.kind.trim());
        let is_central = parse_flag(fields.central.trim(), SchoolField::Central);
        let is_key_village = parse_flag(fields.key_village.trim(), SchoolField::KeyVillage);
        let enrolment = parse_count(fields.enrolment.trim(), SchoolField::Enrolment);
        let teachers = parse_count(fields.teachers.trim(), SchoolField::Teachers);

        match (
            code,
            name,
            township,
            kind,
            is_central,
            is_key_village,
            enrolment,
            teachers,
        ) {
            (
                Ok(code),
                Ok(name),
                Ok(township),
                Ok(kind),
                Ok(is_central),
                Ok(is_key_village),
                Ok(enrolment),
                Ok(teachers),
            ) => Ok(NewSchool {
                code,
                name,
                township,
                kind,
                is_central,
                is_key_village,
                enrolment,
                teachers,
            }),
            (code, name, township, kind, is_central, is_key_village, enrolment, teachers) => {
                let reasons = [
                    (SchoolField::Code, code.err()),
                    (SchoolField::Name, name.err()),
                    (SchoolField::Township, township.err()),
                    (SchoolField::Kind, kind.err()),
                    (SchoolField::Central, is_central.err()),
                    (SchoolField::KeyVillage, is_key_village.err()),
                    (SchoolField::Enrolment, enrolment.err()),
                    (SchoolField::Teachers, teachers.err()),
                ];
                Err(reasons
                    .into_iter()
                    .filter_map(|(field, reason)| reason.map(|reason| FieldError { field, reason }))
                    .collect())
            }
        }
    }
}

/// A flag as the sheet writes it.
pub fn flag_label(flag: bool) -> &'static str {
    if flag { "是" } else { "否" }
}

fn parse_code(cell: &str) -> Result<String, String> {
    let code = half_width_digits(cell);
    if code.is_empty() {
        return Err("学校代码为空".to_owned());
    }
    // A long numeric code in a cell formatted as 常规 is saved by Excel as `4.52123E+09`: the
    // digits are gone for good, so say how to get them back rather than store the wreck.
    if code.to_ascii_uppercase().contains("E+") && code.parse::<f64>().is_ok() {
        return Err(format!(
            "学校代码\"{code}\"被 Excel 显示成了科学计数法，原来的代码已丢失。\
             请把这一列的单元格格式设为“文本”，重新填写代码后再导出"
        ));
    }
    Ok(code)
}

fn parse_text(cell: &str, field: SchoolField) -> Result<String, String> {
    if cell.is_empty() {
        return Err(format!("{}为空", field.chinese()));
    }
    Ok(cell.to_owned())
}

fn parse_kind(cell: &str) -> Result<SchoolKind, String> {
    if cell.is_empty() {
        return Err(format!("类型为空，应为 {} 之一", SchoolKind::all_labels()));
    }
    SchoolKind::parse(cell).ok_or_else(|| {
        format!(
            "类型\"{cell}\"无法识别，应为 {} 之一",
            SchoolKind::all_labels()
        )
    })
}

fn parse_flag(cell: &str, field: SchoolField) -> Result<bool, String> {
    match half_width_digits(cell).to_lowercase().as_str() {
        "" | "否" | "no" | "n" | "false" | "0" => Ok(false),
        "是" | "yes" | "y" | "true" | "1" => Ok(true),
        _ => Err(format!(
            "{}\"{cell}\"无法识别，应为 是 或 否（空着表示 否）",
            field.chinese()
        )),
    }
}

fn parse_count(cell: &str, field: SchoolField) -> Result<i32, String> {
    let digits = half_width_digits(cell);
    if digits.is_empty() {
        return Err(format!("{}为空，没有就填 0", field.chinese()));
    }
    if !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(format!(
            "{}\"{cell}\"不是整数，应填写 0 或正整数",
            field.chinese()
        ));
    }
    digits
        .parse::<i32>()
        .map_err(|_| format!("{}\"{cell}\"太大，请核对", field.chinese()))
}

/// `４５２` → `452`; every other character is kept as it is.
pub(super) fn half_width_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '０'..='９' => char::from_digit(u32::from(c) - u32::from('０'), 10).unwrap_or(c),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{FieldError, NewSchool, SchoolField, SchoolFields};
    use crate::schools::SchoolKind;

    fn central_school_fields() -> SchoolFields<'static> {
        SchoolFields {
            code: "4521230007",
            name: "石门镇中心小学",
            township: "石门镇",
            kind: "小学",
            central: "是",
            key_village: "",
            enrolment: "740",
            teachers: "42",
        }
    }

    #[test]
    fn good_values_make_a_school() {
        let school = NewSchool::from_fields(&central_school_fields()).expect("valid");
        assert_eq!(
            school,
            NewSchool {
                code: "4521230007".to_owned(),
                name: "石门镇中心小学".to_owned(),
                township: "石门镇".to_owned(),
                kind: SchoolKind::Primary,
                is_central: true,
                is_key_village: false,
                enrolment: 740,
                teachers: 42,
            }
        );
    }

    #[test]
    fn values_are_trimmed_and_full_width_digits_read() {
        let school = NewSchool::from_fields(&SchoolFields {
            code: " ４５２１２３０００７　",
            name: "　石门镇中心小学 ",
            enrolment: "７４０ ",
            ..central_school_fields()
        })
        .expect("valid");
        assert_eq!(school.code, "4521230007");
        assert_eq!(school.name, "石门镇中心小学");
        assert_eq!(school.enrolment, 740);
    }

    #[test]
    fn every_bad_value_is_reported_against_its_field_in_sheet_order() {
        let errors = NewSchool::from_fields(&SchoolFields {
            name: "  ",
            kind: "初级中学",
            key_village: "可能",
            enrolment: "约500",
            teachers: "",
            ..central_school_fields()
        })
        .expect_err("invalid");
        let fields: Vec<SchoolField> = errors.iter().map(|error| error.field).collect();
        assert_eq!(
            fields,
            [
                SchoolField::Name,
                SchoolField::Kind,
                SchoolField::KeyVillage,
                SchoolField::Enrolment,
                SchoolField::Teachers,
            ]
        );
        assert_eq!(
            errors[0],
            FieldError {
                field: SchoolField::Name,
                reason: "学校名称为空".to_owned()
            }
        );
        assert_eq!(
            errors[3].to_string(),
            "在校生数\"约500\"不是整数，应填写 0 或正整数"
        );
        assert_eq!(errors[4].to_string(), "专任教师数为空，没有就填 0");
    }

    #[test]
    fn english_names_round_trip() {
        for field in SchoolField::ALL {
            assert_eq!(SchoolField::from_english(field.english()), Some(field));
        }
        assert_eq!(
            SchoolField::from_english("key_village"),
            Some(SchoolField::KeyVillage)
        );
        assert_eq!(SchoolField::from_english("enrollment"), None);
        assert_eq!(SchoolField::from_english("id; DROP TABLE school"), None);
    }
}
