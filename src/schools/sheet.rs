//! Schools written back as the bureau's sheet: the import's Chinese headers and spellings, so a
//! downloaded list can be edited in Excel and uploaded again. No I/O.

use entity::school;

use super::SchoolField;
use super::fields::flag_label;

/// A stored school as the eight cells of its line, in the order of [`SchoolField::ALL`].
pub fn sheet_row(school: &school::Model) -> [String; 8] {
    [
        school.code.clone(),
        school.name.clone(),
        school.township.clone(),
        school.kind.clone(),
        flag_label(school.is_central).to_owned(),
        flag_label(school.is_key_village).to_owned(),
        school.enrolment.to_string(),
        school.teachers.to_string(),
    ]
}

/// `schools` as a CSV file that [`super::parse_csv`] reads back, formula-safe and with a BOM.
pub fn to_csv(schools: &[school::Model]) -> Result<Vec<u8>, csv::Error> {
    crate::csv_files::csv_with_bom(&headers(), schools.iter().map(sheet_row))
}

/// The header line alone: a blank sheet to fill in.
pub fn csv_template() -> Result<Vec<u8>, csv::Error> {
    crate::csv_files::csv_with_bom(&headers(), std::iter::empty::<[String; 8]>())
}

fn headers() -> [&'static str; 8] {
    SchoolField::ALL.map(SchoolField::chinese)
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entity::school;

    use super::{csv_template, to_csv};
    use crate::schools::{ImportError, NewSchool, parse_csv};

    fn stored(id: i32, school: &NewSchool) -> school::Model {
        school::Model {
            id,
            code: school.code.clone(),
            name: school.name.clone(),
            township: school.township.clone(),
            kind: school.kind.label().to_owned(),
            is_central: school.is_central,
            is_key_village: school.is_key_village,
            enrolment: school.enrolment,
            teachers: school.teachers,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn a_download_reads_back_as_the_same_schools() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/schools/county.csv"
        );
        let county = parse_csv(&std::fs::read(path).expect("read")).expect("parses");
        let models: Vec<school::Model> = county
            .iter()
            .enumerate()
            .map(|(index, school)| stored(index as i32 + 1, school))
            .collect();

        let bytes = to_csv(&models).expect("csv");

        assert!(bytes.starts_with(
            "\u{feff}学校代码,学校名称,乡镇,类型,中心校,重点村,在校生数,专任教师数\r\n".as_bytes()
        ));
        assert_eq!(parse_csv(&bytes).expect("reads back"), county);
    }

    #[test]
    fn the_template_is_the_header_line() {
        let bytes = csv_template().expect("csv");
        assert_eq!(
            String::from_utf8(bytes).expect("utf-8"),
            "\u{feff}学校代码,学校名称,乡镇,类型,中心校,重点村,在校生数,专任教师数\r\n"
        );
        assert!(matches!(
            parse_csv(&csv_template().expect("csv")),
            Err(ImportError::NoRows { what: "学校" })
        ));
    }
}
