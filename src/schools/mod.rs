//! The county's schools: the list the bureau keeps in Excel, read from a CSV export, imported
//! into the `school` table, and the queries the rest of dupin asks of that table.
//!
//! Parsing ([`parse_csv`]) does no I/O and importing ([`import`]) takes only parsed
//! [`NewSchool`]s. Nothing here knows about HTTP or the terminal: the CLI and the web upload both
//! call these functions and decide how to show the result.

mod kind;
mod parse;
mod store;

pub use kind::SchoolKind;
pub use parse::{ImportError, LineError, NewSchool, parse_csv};
pub use store::{ImportSummary, codes_not_found, count, find_by_codes, import, list};
