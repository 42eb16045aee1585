//! Where export rows go: a CSV (UTF-8 with BOM, every text cell neutralised) or an XLSX
//! worksheet in constant-memory mode, which keeps only the current row in memory and is zipped
//! into a temporary file at the end.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex, PoisonError};

use rust_xlsxwriter::{Workbook, XlsxError};

use super::{Cell, ExportError};
use crate::csv_files::{UTF8_BOM, neutralise_formula};

/// Takes the rows of an export, header first, in order.
pub trait Sheet {
    fn write_row(&mut self, cells: &[Cell]) -> Result<(), ExportError>;

    /// Called after the header and after each page of rows: a sheet that streams its bytes
    /// sends them on here, and returns `false` when nobody is reading any more, which ends the
    /// export.
    fn page_done(&mut self) -> Result<bool, ExportError> {
        Ok(true)
    }
}

/// A number as CSV writes it: whole numbers without a decimal point.
fn number_text(number: f64) -> String {
    if number.fract() == 0.0 && number.abs() < 1e15 {
        format!("{}", number as i64)
    } else {
        number.to_string()
    }
}

/// A CSV file being written: the BOM is written at once, then rows as they come.
pub struct CsvSheet<W: Write> {
    writer: csv::Writer<W>,
}

impl<W: Write> CsvSheet<W> {
    pub fn new(mut out: W) -> Result<CsvSheet<W>, ExportError> {
        out.write_all(UTF8_BOM.as_bytes())?;
        Ok(CsvSheet {
            writer: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(out),
        })
    }

    pub fn flush(&mut self) -> Result<(), ExportError> {
        self.writer.flush()?;
        Ok(())
    }
}

/// Bytes written by a [`CsvSheet`] and not yet taken, for a caller that sends them on in chunks.
#[derive(Clone, Debug, Default)]
pub struct Chunks(Arc<Mutex<Vec<u8>>>);

impl Chunks {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Write for Chunks {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CsvSheet<Chunks> {
    pub fn in_chunks() -> Result<CsvSheet<Chunks>, ExportError> {
        CsvSheet::new(Chunks::default())
    }

    /// The bytes written since the last call (the BOM and the header the first time).
    pub fn take_bytes(&mut self) -> Result<Vec<u8>, ExportError> {
        self.writer.flush()?;
        Ok(self.writer.get_ref().take())
    }
}

impl<W: Write> Sheet for CsvSheet<W> {
    fn write_row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        self.writer
            .write_record(cells.iter().map(|cell| match cell {
                Cell::Empty => String::new(),
                Cell::Text(text) => neutralise_formula(text).into_owned(),
                Cell::Number(number) => number_text(*number),
            }))?;
        Ok(())
    }
}

/// An XLSX workbook of one worksheet in constant-memory mode.
pub struct XlsxSheet {
    workbook: Workbook,
    row: u32,
}

impl XlsxSheet {
    /// A workbook whose one worksheet is named `name` (答卷 or 汇总).
    pub fn new(name: &str) -> Result<XlsxSheet, ExportError> {
        let mut workbook = Workbook::new();
        workbook
            .add_worksheet_with_constant_memory()?
            .set_name(name)?;
        Ok(XlsxSheet { workbook, row: 0 })
    }

    /// Zips the workbook into a temporary file and returns it open at its start. The file has no
    /// name any more: it goes away when the returned handle is dropped.
    pub fn finish(mut self) -> Result<File, ExportError> {
        let path = std::env::temp_dir().join(format!(
            "dupin-export-{}.xlsx",
            crate::secrets::random_key()
        ));
        let mut file = File::options()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)?;
        // Unlinked at once on Unix, so no file is left behind whatever happens next.
        let removed = std::fs::remove_file(&path);
        let saved = self.workbook.save_to_writer(&mut file);
        if removed.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        saved?;
        file.seek(SeekFrom::Start(0))?;
        Ok(file)
    }
}

impl Sheet for XlsxSheet {
    fn write_row(&mut self, cells: &[Cell]) -> Result<(), ExportError> {
        let worksheet = self.workbook.worksheet_from_index(0)?;
        for (column, cell) in cells.iter().enumerate() {
            let column = u16::try_from(column).map_err(|_| XlsxError::RowColumnLimitError)?;
            match cell {
                Cell::Empty => {}
                // A string cell is never evaluated by Excel, but a copy pasted or saved as CSV
                // would be: neutralised here too, so both formats read the same.
                Cell::Text(text) => {
                    worksheet.write_string(self.row, column, neutralise_formula(text))?;
                }
                Cell::Number(number) => {
                    worksheet.write_number(self.row, column, *number)?;
                }
            }
        }
        self.row += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_rows_keep_numbers_as_numbers_and_neutralise_text() {
        let mut sheet = CsvSheet::in_chunks().expect("sheet");
        sheet
            .write_row(&[Cell::text("甲"), Cell::text("用时")])
            .expect("header");
        sheet
            .write_row(&[Cell::text("-1+2"), Cell::Number(-3.0)])
            .expect("row");
        sheet
            .write_row(&[Cell::Empty, Cell::Number(2.5)])
            .expect("row");
        let first = sheet.take_bytes().expect("bytes");
        assert_eq!(
            String::from_utf8(first).expect("utf-8"),
            "\u{feff}甲,用时\r\n'-1+2,-3\r\n,2.5\r\n"
        );
        assert!(sheet.take_bytes().expect("bytes").is_empty());
    }

    #[test]
    fn an_xlsx_sheet_becomes_a_zip_file() {
        let mut sheet = XlsxSheet::new("答卷").expect("workbook");
        sheet
            .write_row(&[Cell::text("=1+1"), Cell::Number(3.0), Cell::Empty])
            .expect("row");
        let mut file = sheet.finish().expect("saved");
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes).expect("read");
        assert!(bytes.starts_with(b"PK\x03\x04"));
    }
}
