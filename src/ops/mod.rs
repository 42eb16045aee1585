//! Operating an installation: online backups of a SQLite database and moving every row from one
//! database to another (SQLite to PostgreSQL, usually). Plain functions over sea-orm connections;
//! the command line (`main.rs`) prints what they report, and nothing here knows about HTTP.

pub mod backup;
pub mod migrate_data;
