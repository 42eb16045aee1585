//! The county's schools: the list the bureau keeps in Excel, read from a CSV export or typed into
//! the console's form, stored in the `school` table, and the queries the rest of dupin asks of
//! that table.
//!
//! Checking ([`NewSchool::from_fields`], [`parse_csv`]) does no I/O, and writing ([`import`],
//! [`create_one`], [`update_one`]) takes only checked [`NewSchool`]s. Nothing here knows about
//! HTTP or the terminal: the CLI and the console both call these functions and decide how to
//! show the result.

pub mod actions;
mod fields;
mod parse;
mod search;
mod sheet;
mod store;

pub use crate::csv_files::{ImportError, LineError};
pub use crate::school_kind::SchoolKind;
pub use fields::{FieldError, NewSchool, SchoolField, SchoolFields, flag_label};
pub use parse::parse_csv;
pub use search::{PAGE_SIZE, SchoolPage, SchoolQuery, search, search_page, townships};
pub use sheet::{csv_template, sheet_row, to_csv};
pub use store::{
    ImportSummary, SaveError, codes_not_found, count, create_one, find, find_by_codes, import,
    list, update_one,
};
