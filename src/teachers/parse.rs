//! A roster file → teachers by line, or every reason it cannot be one. Same encodings, same line
//! numbers and the same all-or-nothing rule as the school list (the decoding and line counting
//! are that module's, see `crate::schools::decode`): a file with one bad line gives no teachers.
//!
//! Columns, Chinese or English headers in any order, other columns ignored:
//! 学校代码/school_code (only in the county-wide file; in one school's file it may be there and
//! must then name that school), 姓名/name, 邮箱/email.

use std::collections::HashMap;

use csv::StringRecord;

use super::email::parse_email;
use crate::csv_files::{
    ImportError, LineCounter, LineError, decode, header_forms, is_blank, locate_columns,
};

/// The longest name kept: a real name is 2–4 characters, a note after it a few more.
const MAX_NAME_CHARS: usize = 50;

/// A teacher's name as written (trimmed), or why it cannot be one.
pub(crate) fn check_name(name: &str) -> Result<&str, String> {
    let name = name.trim();
    if name.is_empty() {
        Err("姓名为空".to_owned())
    } else if name.chars().count() > MAX_NAME_CHARS {
        Err(format!("姓名超过 {MAX_NAME_CHARS} 个字，请核对"))
    } else {
        Ok(name)
    }
}

/// One teacher as a roster line gives them: checked, ready to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTeacher {
    pub name: String,
    /// Canonical: lower case ASCII (see [`parse_email`]).
    pub email: String,
}

/// One good line of a roster file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterLine {
    /// The file's own line number (header = 1).
    pub line: usize,
    /// 学校代码 as written (full-width digits made ASCII); `None` in one school's file without
    /// that column or with the cell left empty.
    pub school_code: Option<String>,
    pub teacher: NewTeacher,
}

/// Which file it is: one school's roster, or the county's with a 学校代码 on every line.
#[derive(Clone, Copy, Debug)]
pub enum RosterScope<'a> {
    /// The code of the school whose page the file was uploaded on.
    School(&'a str),
    County,
}

/// What the rows of a roster file are called in messages.
const WHAT: &str = "教师";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    SchoolCode,
    Name,
    Email,
}

impl Column {
    const ALL: [Column; 3] = [Column::SchoolCode, Column::Name, Column::Email];

    fn chinese(self) -> &'static str {
        match self {
            Column::SchoolCode => "学校代码",
            Column::Name => "姓名",
            Column::Email => "邮箱",
        }
    }

    /// Every header accepted: Chinese ones as written, English ones lower case with
    /// underscores.
    fn headers(self) -> &'static [&'static str] {
        match self {
            Column::SchoolCode => &["学校代码", "school_code", "code", "school"],
            Column::Name => &["姓名", "教师姓名", "name", "teacher", "teacher_name"],
            Column::Email => &[
                "邮箱",
                "电子邮箱",
                "电子邮件",
                "邮箱地址",
                "email",
                "e_mail",
                "mail",
                "email_address",
            ],
        }
    }

    fn of_header(cell: &str) -> Option<Column> {
        let (cell, english) = header_forms(cell);
        Column::ALL.into_iter().find(|column| {
            column
                .headers()
                .iter()
                .any(|header| *header == cell || *header == english)
        })
    }
}

/// Where each column sits in this file; `school_code` may be absent in one school's file.
struct Layout {
    school_code: Option<usize>,
    name: usize,
    email: usize,
}

impl Layout {
    fn from_header(
        header: &StringRecord,
        line: usize,
        scope: RosterScope<'_>,
    ) -> Result<Layout, ImportError> {
        let found: [Option<usize>; Column::ALL.len()] = locate_columns(header, |cell| {
            Column::of_header(cell).map(|column| column as usize)
        })
        .map_err(|repeated| ImportError::RepeatedColumn {
            line,
            column: Column::ALL[repeated.column].chinese(),
            first: repeated.first,
            second: repeated.second,
        })?;
        let required: &[Column] = match scope {
            RosterScope::County => &Column::ALL,
            RosterScope::School(_) => &[Column::Name, Column::Email],
        };
        let missing: Vec<&'static str> = required
            .iter()
            .filter(|column| found[**column as usize].is_none())
            .map(|column| column.chinese())
            .collect();
        match (found[Column::Name as usize], found[Column::Email as usize]) {
            (Some(name), Some(email)) if missing.is_empty() => Ok(Layout {
                school_code: found[Column::SchoolCode as usize],
                name,
                email,
            }),
            _ => Err(ImportError::MissingColumns {
                line,
                missing,
                found: header.iter().map(|cell| cell.trim().to_owned()).collect(),
            }),
        }
    }

    fn cell(record: &StringRecord, position: usize) -> &str {
        record.get(position).unwrap_or_default().trim()
    }
}

/// Reads a whole roster file. Either every line is a good teacher and all of them come back, or
/// nothing does and the error lists every bad line. School codes are only read here; whether
/// they exist is the store's question (see `super::group_by_school`).
pub fn parse_csv(bytes: &[u8], scope: RosterScope<'_>) -> Result<Vec<RosterLine>, ImportError> {
    let text = decode(bytes)?;
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = reader.into_records().filter(|row| match row {
        Ok(record) => !is_blank(record),
        Err(_) => true,
    });
    let mut lines = LineCounter::new(&text);
    let Some(header) = rows.next().transpose()? else {
        return Err(ImportError::Empty);
    };
    let layout = Layout::from_header(&header, lines.line_of(&header), scope)?;

    let mut teachers = Vec::new();
    let mut errors = Vec::new();
    // (school code, e-mail) → the line it first appeared on.
    let mut first_line: HashMap<(String, String), usize> = HashMap::new();
    for row in rows {
        let record = row?;
        let line = lines.line_of(&record);
        let code = layout
            .school_code
            .map(|position| half_width_digits(Layout::cell(&record, position)))
            .filter(|code| !code.is_empty());
        let fail = |reason: String| LineError {
            line,
            code: code.clone(),
            reason,
        };
        let mut line_errors = Vec::new();
        match (scope, &code) {
            (RosterScope::County, None) => line_errors.push(fail("学校代码为空".to_owned())),
            (RosterScope::School(own), Some(code)) if code != own => {
                line_errors.push(fail(format!(
                    "学校代码 {code} 不是本校（{own}）。全县名单请在“教师名单 → 全县上传”中上传"
                )));
            }
            _ => {}
        }
        let name = Layout::cell(&record, layout.name);
        if let Err(reason) = check_name(name) {
            line_errors.push(fail(reason));
        }
        let email = match parse_email(Layout::cell(&record, layout.email)) {
            Ok(email) => Some(email),
            Err(reason) => {
                line_errors.push(fail(reason));
                None
            }
        };
        if let Some(email) = &email {
            let school = match scope {
                RosterScope::School(own) => own.to_owned(),
                RosterScope::County => code.clone().unwrap_or_default(),
            };
            match first_line.get(&(school.clone(), email.clone())) {
                Some(first) => line_errors.push(fail(format!(
                    "邮箱 {email} 与第 {first} 行重复（同一学校的每位教师只能有一个邮箱）"
                ))),
                None => {
                    first_line.insert((school, email.clone()), line);
                }
            }
        }
        match (line_errors.is_empty(), email) {
            (true, Some(email)) => teachers.push(RosterLine {
                line,
                school_code: code,
                teacher: NewTeacher {
                    name: name.to_owned(),
                    email,
                },
            }),
            _ => errors.append(&mut line_errors),
        }
    }
    if !errors.is_empty() {
        return Err(ImportError::BadLines {
            what: WHAT,
            lines: errors,
        });
    }
    if teachers.is_empty() {
        return Err(ImportError::NoRows { what: WHAT });
    }
    Ok(teachers)
}

/// `４５２` → `452`, as school codes are read in the school list.
fn half_width_digits(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '０'..='９' => char::from_digit(u32::from(c) - u32::from('０'), 10).unwrap_or(c),
            _ => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{ImportError, NewTeacher, RosterLine, RosterScope, parse_csv};
    use crate::schools::LineError;

    const OWN: RosterScope<'static> = RosterScope::School("4521230007");

    fn bad_lines(result: Result<Vec<RosterLine>, ImportError>) -> Vec<LineError> {
        match result {
            Err(ImportError::BadLines { lines, .. }) => lines,
            other => panic!("expected bad lines, got {other:?}"),
        }
    }

    #[test]
    fn the_columns_are_listed_in_the_order_their_positions_are_indexed_by() {
        for (index, column) in super::Column::ALL.into_iter().enumerate() {
            assert_eq!(column as usize, index, "{column:?}");
        }
    }
    #[test]
    fn one_schools_file_with_chinese_headers() {
        let text = "姓名,邮箱\n张老师,zhang@qq.com\n\n李老师 , LI@163.COM \n";
        let lines = parse_csv(text.as_bytes(), OWN).expect("parses");
        assert_eq!(
            lines,
            [
                RosterLine {
                    line: 2,
                    school_code: None,
                    teacher: NewTeacher {
                        name: "张老师".to_owned(),
                        email: "zhang@qq.com".to_owned()
                    }
                },
                RosterLine {
                    line: 4,
                    school_code: None,
                    teacher: NewTeacher {
                        name: "李老师".to_owned(),
                        email: "li@163.com".to_owned()
                    }
                },
            ]
        );
    }

    #[test]
    fn english_headers_in_any_order_and_a_bom() {
        let text = "\u{feff}E-mail,Name,Subject\r\nzhang@qq.com,张老师,语文\r\n";
        let lines = parse_csv(text.as_bytes(), OWN).expect("parses");
        assert_eq!(lines[0].teacher.email, "zhang@qq.com");
        assert_eq!(lines[0].teacher.name, "张老师");
    }

    #[test]
    fn a_gbk_file_reads_like_utf8() {
        let text = "学校代码,姓名,邮箱\n4521230007,张老师,zhang@qq.com\n";
        let (bytes, _, _) = encoding_rs::GBK.encode(text);
        assert!(std::str::from_utf8(&bytes).is_err());
        let lines = parse_csv(&bytes, RosterScope::County).expect("parses");
        assert_eq!(lines[0].school_code.as_deref(), Some("4521230007"));
        assert_eq!(lines[0].teacher.name, "张老师");
    }

    #[test]
    fn bad_emails_and_names_are_reported_with_their_line() {
        let text = "姓名,邮箱\n张老师,zhang.qq.com\n,li@163.com\n\n王老师,wang@qq\n";
        let errors = bad_lines(parse_csv(text.as_bytes(), OWN));
        let found: Vec<(usize, &str)> = errors
            .iter()
            .map(|error| (error.line, error.reason.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    2,
                    "邮箱\"zhang.qq.com\"缺少 @，应写成 zhangsan@qq.com 这样的格式"
                ),
                (3, "姓名为空"),
                (
                    5,
                    "邮箱\"wang@qq\"@ 后面的域名不完整（应如 qq.com、163.com）"
                ),
            ]
        );
        assert_eq!(
            errors[0].to_string(),
            "第 2 行：邮箱\"zhang.qq.com\"缺少 @，应写成 zhangsan@qq.com 这样的格式"
        );
    }

    #[test]
    fn the_same_email_twice_in_one_school_is_refused_but_not_across_schools() {
        let text = "学校代码,姓名,邮箱\n\
                    4521230007,张老师,zhang@qq.com\n\
                    4521230011,张老师,zhang@qq.com\n\
                    4521230007,张明,ZHANG@qq.com\n";
        let errors = bad_lines(parse_csv(text.as_bytes(), RosterScope::County));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 4);
        assert_eq!(errors[0].code.as_deref(), Some("4521230007"));
        assert!(errors[0].reason.contains("与第 2 行重复"), "{errors:?}");
    }

    #[test]
    fn the_county_file_needs_a_code_on_every_line_and_the_column() {
        let text = "姓名,邮箱\n张老师,zhang@qq.com\n";
        let error = parse_csv(text.as_bytes(), RosterScope::County).expect_err("no code column");
        assert_eq!(
            error.to_string(),
            "第 1 行表头缺少 \"学校代码\"；找到的表头是：姓名、邮箱"
        );
        let text = "学校代码,姓名,邮箱\n,张老师,zhang@qq.com\n";
        let errors = bad_lines(parse_csv(text.as_bytes(), RosterScope::County));
        assert_eq!(errors[0].reason, "学校代码为空");
    }

    #[test]
    fn one_schools_file_may_carry_its_own_code_only() {
        let text = "学校代码,姓名,邮箱\n４５２１２３０００７,张老师,zhang@qq.com\n4521230011,李老师,li@qq.com\n";
        let errors = bad_lines(parse_csv(text.as_bytes(), OWN));
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].line, 3);
        assert!(errors[0].reason.starts_with("学校代码 4521230011 不是本校"));
    }

    #[test]
    fn empty_files_headers_only_and_repeated_columns() {
        assert!(matches!(parse_csv(b"", OWN), Err(ImportError::Empty)));
        assert!(matches!(
            parse_csv("姓名,邮箱\n,,\n".as_bytes(), OWN),
            Err(ImportError::NoRows { what: "教师" })
        ));
        assert!(matches!(
            parse_csv("姓名,邮箱,email\n".as_bytes(), OWN),
            Err(ImportError::RepeatedColumn {
                line: 1,
                column: "邮箱",
                ..
            })
        ));
        assert!(matches!(
            parse_csv(&[0xff, 0xfe, 0xfd, 0x81, 0x30], OWN),
            Err(ImportError::UnrecognisedEncoding)
        ));
    }
}
