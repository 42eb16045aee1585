//! One CSV file exported from the bureau's Excel sheet → a list of [`NewSchool`], or every reason
//! it cannot be one. No I/O and no database here: a file with a single bad line yields no schools
//! at all, so nobody ever imports half a list.
//!
//! What a file may look like:
//! - Encoding: UTF-8 with or without a BOM (Excel's "CSV UTF-8"), or GB18030/GBK (plain "CSV" in
//!   a Chinese Excel). Bytes that are neither are refused rather than guessed at.
//! - Layout: comma separated; the first non-blank line is the header. Blank lines, rows whose
//!   cells are all blank (Excel writes `,,,,,,,` for an emptied row) and a trailing empty column
//!   are ignored. Line numbers in messages are the file's own, header = line 1, blank lines
//!   counted, so they match what the clerk sees in a text editor or Excel.
//! - Headers: Chinese or English, any order, surrounding spaces ignored, English in any case:
//!   学校代码/code, 学校名称/name, 乡镇/township, 类型/kind, 中心校/central,
//!   重点村/key_village, 在校生数/enrolment, 专任教师数/teachers. Other columns are ignored.
//! - Values: each line's cells pass [`NewSchool::from_fields`], the rules the console's form
//!   uses too (see `fields.rs`).
//! - Codes: the same code twice in one file is an error on the later line, naming the earlier one.

use std::collections::HashMap;

use csv::StringRecord;

use super::fields::{NewSchool, SchoolField, SchoolFields, half_width_digits};
use crate::csv_files::{
    ImportError, LineCounter, LineError, decode, header_forms, is_blank, locate_columns,
};

/// What the rows of a school file are called in messages.
const WHAT: &str = "学校";

/// Reads a whole file. Either every line is a good school and all of them come back, or nothing
/// does and the error lists every bad line.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<NewSchool>, ImportError> {
    let text = decode(bytes)?;
    let reader = csv::ReaderBuilder::new()
        .has_headers(false)
        // Rows may be shorter or longer than the header: Excel drops trailing empty cells, and
        // a stray trailing comma adds one. Missing cells read as empty.
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
    let layout = Layout::from_header(&header, lines.line_of(&header))?;

    let mut schools = Vec::new();
    let mut errors = Vec::new();
    let mut first_line_of_code: HashMap<String, usize> = HashMap::new();
    for row in rows {
        let record = row?;
        let line = lines.line_of(&record);
        let school = parse_line(&record, &layout, line);

        let code = half_width_digits(layout.cell(&record, SchoolField::Code));
        if !code.is_empty() {
            if let Some(first_line) = first_line_of_code.get(&code) {
                errors.push(LineError {
                    line,
                    code: Some(code.clone()),
                    reason: format!("学校代码与第 {first_line} 行重复"),
                });
            } else {
                first_line_of_code.insert(code, line);
            }
        }

        match school {
            Ok(school) => schools.push(school),
            Err(mut reasons) => errors.append(&mut reasons),
        }
    }

    if !errors.is_empty() {
        return Err(ImportError::BadLines {
            what: WHAT,
            lines: errors,
        });
    }
    if schools.is_empty() {
        return Err(ImportError::NoRows { what: WHAT });
    }
    Ok(schools)
}

/// Where each column sits in this particular file.
struct Layout {
    /// Indexed by `SchoolField as usize`.
    positions: [usize; SchoolField::ALL.len()],
}

impl Layout {
    fn from_header(header: &StringRecord, line: usize) -> Result<Layout, ImportError> {
        let found: [Option<usize>; SchoolField::ALL.len()] = locate_columns(header, |cell| {
            field_of_header(cell).map(|field| field as usize)
        })
        .map_err(|repeated| ImportError::RepeatedColumn {
            line,
            column: SchoolField::ALL[repeated.column].chinese(),
            first: repeated.first,
            second: repeated.second,
        })?;

        let mut positions = [0; SchoolField::ALL.len()];
        let mut missing = Vec::new();
        for column in SchoolField::ALL {
            match found[column as usize] {
                Some(position) => positions[column as usize] = position,
                None => missing.push(column.chinese()),
            }
        }
        if !missing.is_empty() {
            return Err(ImportError::MissingColumns {
                line,
                missing,
                found: header.iter().map(|cell| cell.trim().to_owned()).collect(),
            });
        }
        Ok(Layout { positions })
    }

    /// The trimmed cell of `column`, or `""` when the row is too short to have it.
    fn cell<'r>(&self, record: &'r StringRecord, column: SchoolField) -> &'r str {
        record
            .get(self.positions[column as usize])
            .unwrap_or_default()
            .trim()
    }
}

/// Checks every cell of one line, so that a line with three problems reports all three.
fn parse_line(
    record: &StringRecord,
    layout: &Layout,
    line: usize,
) -> Result<NewSchool, Vec<LineError>> {
    let cell = |field| layout.cell(record, field);
    let fields = SchoolFields {
        code: cell(SchoolField::Code),
        name: cell(SchoolField::Name),
        township: cell(SchoolField::Township),
        kind: cell(SchoolField::Kind),
        central: cell(SchoolField::Central),
        key_village: cell(SchoolField::KeyVillage),
        enrolment: cell(SchoolField::Enrolment),
        teachers: cell(SchoolField::Teachers),
    };
    NewSchool::from_fields(&fields).map_err(|errors| {
        // Name the line by its code as written, even a malformed one: it is what the clerk will
        // search the sheet for.
        let written_code = half_width_digits(fields.code);
        let written_code = (!written_code.is_empty()).then_some(written_code);
        errors
            .into_iter()
            .map(|error| LineError {
                line,
                code: written_code.clone(),
                reason: error.reason,
            })
            .collect()
    })
}

/// The column a header names: its Chinese name, or an English one in any case and spacing.
fn field_of_header(header: &str) -> Option<SchoolField> {
    let (header, english) = header_forms(header);
    SchoolField::ALL.into_iter().find(|field| {
        field.chinese() == header || field.english_headers().contains(&english.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::{ImportError, LineError, NewSchool, parse_csv};
    use crate::schools::SchoolKind;

    const HEADER: &str = "学校代码,学校名称,乡镇,类型,中心校,重点村,在校生数,专任教师数";

    fn parse(text: &str) -> Result<Vec<NewSchool>, ImportError> {
        parse_csv(text.as_bytes())
    }

    fn bad_lines(text: &str) -> Vec<LineError> {
        match parse(text) {
            Err(ImportError::BadLines { lines, .. }) => lines,
            other => panic!("expected bad lines, got {other:?}"),
        }
    }

    /// The reasons reported for `line`, in order.
    fn reasons_on(errors: &[LineError], line: usize) -> Vec<&str> {
        errors
            .iter()
            .filter(|error| error.line == line)
            .map(|error| error.reason.as_str())
            .collect()
    }

    fn central_school() -> NewSchool {
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
    }

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!(
            "{}/tests/fixtures/schools/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
    }

    #[test]
    fn chinese_headers_give_schools() {
        let text = format!(
            "{HEADER}\n\
             4521230007,石门镇中心小学,石门镇,小学,是,否,740,42\n\
             4521230011,石门镇岩脚教学点,石门镇,教学点,否,是,23,2\n"
        );
        let schools = parse(&text).expect("parses");
        assert_eq!(schools.len(), 2);
        assert_eq!(schools[0], central_school());
        assert_eq!(schools[1].kind, SchoolKind::TeachingPoint);
        assert!(!schools[1].is_central);
        assert!(schools[1].is_key_village);
    }

    #[test]
    fn the_fields_are_listed_in_the_order_their_positions_are_indexed_by() {
        for (index, field) in super::SchoolField::ALL.into_iter().enumerate() {
            assert_eq!(field as usize, index, "{field:?}");
        }
    }

    #[test]
    fn english_headers_in_any_order_case_and_spacing() {
        let text = " Teachers , enrolment,KEY_VILLAGE,central,kind,township,name,Code\n\
                    42,740,no,yes,primary,石门镇,石门镇中心小学,4521230007\n";
        assert_eq!(parse(text).expect("parses"), vec![central_school()]);
    }

    #[test]
    fn english_header_variants_are_accepted() {
        let text = "code,name,township,kind,is_central,key village,enrollment,teachers\n\
                    4521230007,石门镇中心小学,石门镇,小学,1,0,740,42\n";
        assert_eq!(parse(text).expect("parses"), vec![central_school()]);
    }

    #[test]
    fn a_utf8_bom_is_dropped_before_the_first_header() {
        let text =
            format!("\u{feff}{HEADER}\r\n4521230007,石门镇中心小学,石门镇,小学,是,否,740,42\r\n");
        assert_eq!(parse(&text).expect("parses"), vec![central_school()]);
    }

    #[test]
    fn gbk_bytes_from_a_chinese_excel_are_decoded() {
        let text = format!("{HEADER}\r\n4521230007,石门镇中心小学,石门镇,小学,是,否,740,42\r\n");
        let (bytes, _, unmappable) = encoding_rs::GB18030.encode(&text);
        assert!(!unmappable);
        assert!(
            std::str::from_utf8(&bytes).is_err(),
            "sample must not be UTF-8"
        );
        assert_eq!(parse_csv(&bytes).expect("parses"), vec![central_school()]);
    }

    #[test]
    fn bytes_in_neither_encoding_are_refused_with_advice() {
        // What Excel's "Unicode 文本" gives: UTF-16 with a BOM, not valid GB18030.
        let mut bytes = vec![0xFF, 0xFE];
        bytes.extend(
            "学校代码,学校名称"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        );
        let error = parse_csv(&bytes).expect_err("refused");
        assert!(matches!(error, ImportError::UnrecognisedEncoding));
        assert!(error.to_string().contains("CSV UTF-8"));
    }

    #[test]
    fn extra_columns_blank_lines_and_a_trailing_comma_are_tolerated() {
        let text = format!(
            "\n序号,{HEADER},备注,\n\
             1,4521230007,石门镇中心小学,石门镇,小学,是,否,740,42,,\n\
             \n\
             ,,,,,,,,,,\n\
             2,4521230011,石门镇岩脚教学点,石门镇,教学点,否,是,23,2,撤并中,\n"
        );
        let schools = parse(&text).expect("parses");
        assert_eq!(schools.len(), 2);
        assert_eq!(schools[0], central_school());
    }

    #[test]
    fn cells_are_trimmed_and_quoted_cells_may_hold_commas() {
        // Spaces around cells, a full-width space too; Excel puts no space before a quote.
        let text = format!(
            "{HEADER}\n  4521230007 ,\"石门镇中心小学（含附属幼儿班, 寄宿部）\",　石门镇　,小学 , 是 ,,740 , 42\n"
        );
        let schools = parse(&text).expect("parses");
        assert_eq!(schools[0].code, "4521230007");
        assert_eq!(schools[0].name, "石门镇中心小学（含附属幼儿班, 寄宿部）");
        assert_eq!(schools[0].township, "石门镇");
        assert_eq!(schools[0].enrolment, 740);
    }

    #[test]
    fn full_width_digits_are_read_as_numbers() {
        let text = format!(
            "{HEADER}\n４５２１２３０００７,石门镇中心小学,石门镇,小学,１,０, ７４０ ,４２\n"
        );
        assert_eq!(parse(&text).expect("parses"), vec![central_school()]);
    }

    #[test]
    fn every_spelling_of_a_flag_is_understood_and_empty_means_no() {
        for (cell, expected) in [
            ("是", true),
            ("否", false),
            ("yes", true),
            ("No", false),
            ("Y", true),
            ("n", false),
            ("TRUE", true),
            ("false", false),
            ("1", true),
            ("0", false),
            ("", false),
            ("  ", false),
        ] {
            let text =
                format!("{HEADER}\n4521230007,石门镇中心小学,石门镇,小学,{cell},否,740,42\n");
            let schools = parse(&text).unwrap_or_else(|error| panic!("{cell:?}: {error}"));
            assert_eq!(schools[0].is_central, expected, "{cell:?}");
        }
    }

    #[test]
    fn an_unknown_kind_is_reported_in_words_a_clerk_understands() {
        let text = format!(
            "{HEADER}\n\
             4521230001,青溪县第一中学,青溪镇,高中,否,否,2860,196\n\
             4521230007,石门镇中心小学,石门镇,小学,是,否,740,42\n\
             4521230008,石门镇初级中学,石门镇,初级中学,否,否,980,71\n"
        );
        let errors = bad_lines(&text);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "第 4 行（学校代码 4521230008）：类型\"初级中学\"无法识别，\
             应为 幼儿园、小学、初中、九年一贯制、高中、中职、教学点 之一"
        );
    }

    #[test]
    fn every_kind_of_bad_cell_is_reported() {
        let text = format!(
            "{HEADER}\n\
             ,无代码小学,石门镇,小学,否,否,100,8\n\
             4521230002,,石门镇,小学,否,否,100,8\n\
             4521230003,无乡镇小学,,小学,否,否,100,8\n\
             4521230004,无类型小学,石门镇,,否,否,100,8\n\
             4521230005,怪标记小学,石门镇,小学,可能,否,100,8\n\
             4521230006,文字人数小学,石门镇,小学,否,否,约500,8\n\
             4521230007,负人数小学,石门镇,小学,否,否,-3,8\n\
             4521230008,小数人数小学,石门镇,小学,否,否,100,8.5\n\
             4521230009,空人数小学,石门镇,小学,否,否,,8\n\
             4521230010,巨人数小学,石门镇,小学,否,否,99999999999,8\n\
             4.52123E+09,科学计数小学,石门镇,小学,否,否,100,8\n\
             4521230012,短行小学,石门镇,小学\n"
        );
        let errors = bad_lines(&text);
        assert_eq!(reasons_on(&errors, 2), ["学校代码为空"]);
        assert_eq!(errors[0].code, None);
        assert_eq!(errors[0].to_string(), "第 2 行：学校代码为空");
        assert_eq!(reasons_on(&errors, 3), ["学校名称为空"]);
        assert_eq!(reasons_on(&errors, 4), ["乡镇为空"]);
        assert_eq!(
            reasons_on(&errors, 5),
            ["类型为空，应为 幼儿园、小学、初中、九年一贯制、高中、中职、教学点 之一"]
        );
        assert_eq!(
            reasons_on(&errors, 6),
            ["中心校\"可能\"无法识别，应为 是 或 否（空着表示 否）"]
        );
        assert_eq!(
            reasons_on(&errors, 7),
            ["在校生数\"约500\"不是整数，应填写 0 或正整数"]
        );
        assert_eq!(
            reasons_on(&errors, 8),
            ["在校生数\"-3\"不是整数，应填写 0 或正整数"]
        );
        assert_eq!(
            reasons_on(&errors, 9),
            ["专任教师数\"8.5\"不是整数，应填写 0 或正整数"]
        );
        assert_eq!(reasons_on(&errors, 10), ["在校生数为空，没有就填 0"]);
        assert_eq!(
            reasons_on(&errors, 11),
            ["在校生数\"99999999999\"太大，请核对"]
        );
        let scientific = reasons_on(&errors, 12);
        assert_eq!(scientific.len(), 1);
        assert!(scientific[0].contains("科学计数法"), "{scientific:?}");
        assert_eq!(
            reasons_on(&errors, 13),
            ["在校生数为空，没有就填 0", "专任教师数为空，没有就填 0"]
        );
        assert_eq!(errors.len(), 13);
    }

    #[test]
    fn a_line_with_several_problems_reports_them_all() {
        let text = format!("{HEADER}\n4521230007,,石门镇,初级中学,否,否,多,少\n");
        let errors = bad_lines(&text);
        assert_eq!(errors.len(), 4);
        assert!(errors.iter().all(|error| error.line == 2));
        assert!(
            errors
                .iter()
                .all(|error| error.code.as_deref() == Some("4521230007"))
        );
    }

    #[test]
    fn a_repeated_code_names_both_lines() {
        let text = format!(
            "{HEADER}\n\
             4521230007,石门镇中心小学,石门镇,小学,是,否,740,42\n\
             4521230008,石门镇初级中学,石门镇,初中,否,否,980,71\n\
             \n\
             ４５２１２３０００７,石门镇中心小学（重复）,石门镇,小学,是,否,740,42\n"
        );
        let errors = bad_lines(&text);
        assert_eq!(
            errors,
            [LineError {
                line: 5,
                code: Some("4521230007".to_owned()),
                reason: "学校代码与第 2 行重复".to_owned(),
            }]
        );
    }

    #[test]
    fn a_repeated_code_on_a_bad_line_is_reported_in_line_order() {
        let text = format!(
            "{HEADER}\n\
             4521230007,石门镇中心小学,石门镇,小学,是,否,740,42\n\
             4521230007,,石门镇,小学,是,否,740,42\n\
             4521230009,,石门镇,小学,是,否,740,42\n"
        );
        let errors = bad_lines(&text);
        let lines: Vec<usize> = errors.iter().map(|error| error.line).collect();
        assert_eq!(lines, [3, 3, 4]);
        assert_eq!(
            reasons_on(&errors, 3),
            ["学校代码与第 2 行重复", "学校名称为空"]
        );
    }

    #[test]
    fn the_bad_lines_message_lists_every_line() {
        let text = format!(
            "{HEADER}\n\
             4521230007,,石门镇,小学,是,否,740,42\n\
             4521230008,石门镇初级中学,石门镇,初中,否,否,九百,71\n"
        );
        let message = parse(&text).expect_err("bad").to_string();
        assert_eq!(
            message,
            "发现 2 处错误，没有导入任何学校：\n\
             第 2 行（学校代码 4521230007）：学校名称为空\n\
             第 3 行（学校代码 4521230008）：在校生数\"九百\"不是整数，应填写 0 或正整数"
        );
    }

    #[test]
    fn an_empty_file_is_an_error() {
        assert!(matches!(parse(""), Err(ImportError::Empty)));
        assert!(matches!(parse("\u{feff}\r\n\r\n"), Err(ImportError::Empty)));
        assert!(matches!(parse(",,,\n"), Err(ImportError::Empty)));
    }

    #[test]
    fn a_file_with_only_a_header_is_an_error() {
        let text = format!("{HEADER}\r\n\r\n,,,,,,,\r\n");
        let error = parse(&text).expect_err("no schools");
        assert!(matches!(error, ImportError::NoRows { what: "学校" }));
        assert_eq!(error.to_string(), "文件只有表头，没有任何学校");
    }

    #[test]
    fn missing_headers_are_named_along_with_those_found() {
        let text = "学校代码,名称,乡镇,类型,中心校,重点村,学生数,\n4521230007,石门镇中心小学,石门镇,小学,是,否,740\n";
        let error = parse(text).expect_err("missing");
        let ImportError::MissingColumns {
            line,
            missing,
            found,
        } = &error
        else {
            panic!("expected missing columns, got {error:?}");
        };
        assert_eq!(*line, 1);
        assert_eq!(missing, &["学校名称", "在校生数", "专任教师数"]);
        assert_eq!(found.len(), 8);
        assert_eq!(
            error.to_string(),
            "第 1 行表头缺少 \"学校名称\"、\"在校生数\"、\"专任教师数\"；\
             找到的表头是：学校代码、名称、乡镇、类型、中心校、重点村、学生数"
        );
    }

    #[test]
    fn a_column_given_twice_is_refused() {
        let text = format!("{HEADER},code\n");
        let error = parse(&text).expect_err("repeated");
        assert_eq!(
            error.to_string(),
            "第 1 行表头中\"学校代码\"和\"code\"是同一列（学校代码），请删去其中一列"
        );
    }

    #[test]
    fn line_numbers_count_blank_lines_and_multi_line_cells() {
        let text = format!(
            "{HEADER}\n\
             \n\
             4521230007,\"石门镇\n中心小学\",石门镇,小学,是,否,740,42\n\
             4521230008,石门镇初级中学,石门镇,初中,否,否,,71\n"
        );
        let errors = bad_lines(&text);
        assert_eq!(errors[0].line, 5);
    }

    #[test]
    fn line_numbers_are_right_with_crlf_line_endings() {
        let text = format!(
            "\r\n{HEADER}\r\n\
             4521230007,石门镇中心小学,石门镇,小学,是,否,740,42\r\n\
             \r\n\
             \r\n\
             4521230008,,石门镇,初中,否,否,980,71\r\n\
             4521230009,\"石门镇\r\n中心幼儿园\",石门镇,幼儿园,否,否,260,\r\n\
             4521230010,,石门镇,小学,否,是,118,9"
        );
        let lines: Vec<usize> = bad_lines(&text).iter().map(|error| error.line).collect();
        assert_eq!(lines, [6, 7, 9]);

        let text = "学校代码,名称\r\n";
        let error = parse(text).expect_err("missing");
        assert!(matches!(error, ImportError::MissingColumns { line: 1, .. }));
        let text = format!("\r\n\r\n{text}");
        let error = parse(&text).expect_err("missing");
        assert!(matches!(error, ImportError::MissingColumns { line: 3, .. }));
    }

    #[test]
    fn the_county_sample_is_a_plausible_county() {
        let schools = parse_csv(&fixture("county.csv")).expect("county.csv parses");
        assert_eq!(schools.len(), 30);

        let mut townships: Vec<&str> = schools.iter().map(|s| s.township.as_str()).collect();
        townships.sort_unstable();
        townships.dedup();
        assert_eq!(townships.len(), 6);
        for township in townships {
            let centrals: Vec<&NewSchool> = schools
                .iter()
                .filter(|s| s.township == township && s.is_central)
                .collect();
            assert_eq!(centrals.len(), 1, "{township}");
            assert!(matches!(
                centrals[0].kind,
                SchoolKind::Primary | SchoolKind::NineYear
            ));
        }

        let of_kind = |kind| schools.iter().filter(|s| s.kind == kind).count();
        assert_eq!(of_kind(SchoolKind::Senior), 1);
        assert_eq!(of_kind(SchoolKind::Vocational), 1);
        assert!(of_kind(SchoolKind::TeachingPoint) >= 3);
        let key_villages = schools.iter().filter(|s| s.is_key_village).count();
        assert!((8..=12).contains(&key_villages), "{key_villages}");
    }

    #[test]
    fn the_gbk_sample_matches_the_county_sample() {
        let bytes = fixture("county-gbk.csv");
        assert!(std::str::from_utf8(&bytes).is_err(), "fixture must be GBK");
        let county = parse_csv(&fixture("county.csv")).expect("county.csv parses");
        let schools = parse_csv(&bytes).expect("county-gbk.csv parses");
        assert_eq!(schools.len(), 5);
        for school in &schools {
            assert!(county.contains(school), "{school:?}");
        }
    }

    #[test]
    fn the_bad_sample_reports_each_planted_mistake() {
        let errors = match parse_csv(&fixture("bad.csv")) {
            Err(ImportError::BadLines { lines, .. }) => lines,
            other => panic!("expected bad lines, got {other:?}"),
        };
        let found: Vec<(usize, &str)> = errors
            .iter()
            .map(|error| (error.line, error.reason.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                (
                    4,
                    "类型\"初级中学\"无法识别，应为 幼儿园、小学、初中、九年一贯制、高中、中职、教学点 之一"
                ),
                (5, "在校生数\"约500\"不是整数，应填写 0 或正整数"),
                (6, "学校代码与第 3 行重复"),
                (7, "学校名称为空"),
            ]
        );
    }
}
