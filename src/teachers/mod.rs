//! Teacher rosters: each school's teachers (name and e-mail), whom a teachers' campaign invites
//! by mail. Read from a CSV file — one school's, or the county's with a 学校代码 column — with
//! the school list's encodings and all-or-nothing line checks, or added one at a time.
//!
//! Checking ([`parse_csv`], [`parse_email`]) does no I/O; writing ([`replace_roster`],
//! [`add_one`], [`remove_one`]) takes only checked [`NewTeacher`]s inside the caller's
//! transaction. Nothing here knows about HTTP; only `cli` (`dupin teachers import`) knows the
//! terminal.

pub mod actions;
mod email;
mod parse;
mod store;

pub use crate::csv_files::ImportError;
pub use email::parse_email;
pub use parse::{NewTeacher, RosterLine, RosterScope, parse_csv};
pub use store::{
    AddedBy, CountyImportError, Removal, RosterChangeError, RosterSummary, TeacherRow, add_one,
    count, counts_by_school, group_by_school, list, remove_one, replace_county, replace_roster,
};

/// A blank roster to fill in: the header line, with the 学校代码 column for the county's file.
pub fn csv_template(scope: RosterScope<'_>) -> Result<Vec<u8>, csv::Error> {
    let header: &[&str] = match scope {
        RosterScope::County => &["学校代码", "姓名", "邮箱"],
        RosterScope::School(_) => &["姓名", "邮箱"],
    };
    crate::csv_files::csv_with_bom(header, std::iter::empty::<[String; 3]>())
}

/// One school's roster written back as a file that [`parse_csv`] reads again.
pub fn to_csv(teachers: &[TeacherRow]) -> Result<Vec<u8>, csv::Error> {
    crate::csv_files::csv_with_bom(
        &["姓名", "邮箱"],
        teachers
            .iter()
            .map(|teacher| [teacher.name.clone(), teacher.email.clone()]),
    )
}

#[cfg(test)]
mod tests {
    use super::{RosterScope, TeacherRow, csv_template, parse_csv, to_csv};

    #[test]
    fn templates_and_downloads_read_back() {
        let template = csv_template(RosterScope::County).expect("template");
        assert!(String::from_utf8_lossy(&template).contains("学校代码,姓名,邮箱"));
        let rows = [TeacherRow {
            id: 1,
            name: "张老师".to_owned(),
            email: "zhang@qq.com".to_owned(),
            invitations: 0,
        }];
        let file = to_csv(&rows).expect("csv");
        let lines = parse_csv(&file, RosterScope::School("1")).expect("reads back");
        assert_eq!(lines[0].teacher.email, "zhang@qq.com");
    }
}
