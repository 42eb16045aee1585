//! Writing CSV files that a Chinese Excel opens as UTF-8 and that cannot smuggle a formula into
//! the sheet of whoever opens them. Used by every CSV dupin hands out: exports, the school list,
//! rosters and their templates.

use std::borrow::Cow;

/// Excel reads a CSV file as UTF-8 only when it starts with this; without it, as GBK.
pub const UTF8_BOM: &str = "\u{feff}";

/// A cell as it is safe to hand to a spreadsheet. Text starting with `=`, `+`, `-` or `@` is read
/// by Excel and its cousins as a formula (and a tab or carriage return in front does not stop
/// them), so such a cell gets a leading apostrophe and is shown as the text it is. Everything
/// else comes back untouched.
///
/// The price is that a cell meant as a negative number reads as text; exports of counts never
/// have one.
pub fn neutralise_formula(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// A whole CSV file: the UTF-8 BOM, `header`, then `rows`, every cell passed through
/// [`neutralise_formula`], CRLF line endings as Excel writes them, quotes only where needed.
pub fn csv_with_bom<Rows, Row, Cell>(header: &[&str], rows: Rows) -> Result<Vec<u8>, csv::Error>
where
    Rows: IntoIterator<Item = Row>,
    Row: IntoIterator<Item = Cell>,
    Cell: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(UTF8_BOM.as_bytes().to_vec());
    writer.write_record(
        header
            .iter()
            .map(|cell| neutralise_formula(cell).into_owned()),
    )?;
    for row in rows {
        writer.write_record(
            row.into_iter()
                .map(|cell| neutralise_formula(cell.as_ref()).into_owned()),
        )?;
    }
    writer
        .into_inner()
        .map_err(|error| csv::Error::from(error.into_error()))
}

#[cfg(test)]
mod tests {
    use super::{csv_with_bom, neutralise_formula};

    #[test]
    fn cells_that_a_spreadsheet_would_evaluate_get_an_apostrophe() {
        for (cell, safe) in [
            ("=HYPERLINK(\"x\")", "'=HYPERLINK(\"x\")"),
            ("+1+1", "'+1+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
        ] {
            assert_eq!(neutralise_formula(cell), safe, "{cell:?}");
        }
    }

    #[test]
    fn other_cells_are_untouched() {
        for cell in [
            "",
            "石门镇中心小学",
            "4521230007",
            "740",
            "a=b",
            " =1",
            "'quoted",
        ] {
            assert_eq!(neutralise_formula(cell), cell, "{cell:?}");
        }
    }

    #[test]
    fn a_file_starts_with_the_bom_and_quotes_only_where_needed() {
        let bytes = csv_with_bom(
            &["名称", "人数"],
            [
                vec!["甲, 乙".to_owned(), "3".to_owned()],
                vec!["=1+1".to_owned(), "4".to_owned()],
            ],
        )
        .expect("csv");
        let text = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(text, "\u{feff}名称,人数\r\n\"甲, 乙\",3\r\n'=1+1,4\r\n");
    }
}
