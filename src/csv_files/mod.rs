//! CSV in and out, for people with Excel: reading the files clerks upload ([`read`]: encodings,
//! line numbers, headers, one import error type) and writing the files dupin hands out ([`write`]:
//! BOM, formula-safe cells). A leaf: it knows nothing of schools, rosters or exports.

pub mod read;
pub mod write;

pub use read::{
    ImportError, LineCounter, LineError, RepeatedHeader, decode, header_forms, is_blank,
    locate_columns,
};
pub use write::{UTF8_BOM, csv_with_bom, neutralise_formula};
