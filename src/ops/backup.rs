//! `dupin backup`: a consistent copy of a SQLite database taken while the server keeps answering
//! (`VACUUM INTO`, which reads one snapshot and never blocks the writer), and for PostgreSQL the
//! `pg_dump` command line to use instead.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use sea_orm::sqlx::postgres::PgConnectOptions;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{0} already exists; a backup never overwrites a file: choose a new name")]
    Exists(PathBuf),
    #[error("the backup path {0} is not valid UTF-8; choose another name")]
    NotUtf8(PathBuf),
    #[error("cannot create the backup folder {folder}: {source}")]
    Folder {
        folder: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("dupin backup copies SQLite databases; this one is {0:?}")]
    NotSqlite(DbBackend),
    #[error("the copy to {path} failed: {source}")]
    Copy {
        path: PathBuf,
        #[source]
        source: DbErr,
    },
    #[error("the copy was written but {path} cannot be read back: {source}")]
    Size {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// What a finished backup reports.
#[derive(Debug)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub took: Duration,
}

/// Copies the SQLite database behind `db` into a new file at `path`, creating its folder.
///
/// `VACUUM INTO` runs inside one read transaction: the copy holds exactly the answers committed
/// before it started, with every tally and link count that goes with them, while the answer
/// writer goes on committing beside it (WAL). The copy is a compact, self-contained database file
/// with no `-wal` file to carry along.
pub async fn backup_sqlite(
    db: &DatabaseConnection,
    path: &Path,
) -> Result<BackupReport, BackupError> {
    if db.get_database_backend() != DbBackend::Sqlite {
        return Err(BackupError::NotSqlite(db.get_database_backend()));
    }
    // Anything at that name counts, even a dangling symlink, which SQLite would write through.
    if path.symlink_metadata().is_ok() {
        return Err(BackupError::Exists(path.to_owned()));
    }
    let text = path
        .to_str()
        .ok_or_else(|| BackupError::NotUtf8(path.to_owned()))?;
    if let Some(folder) = path
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder).map_err(|source| BackupError::Folder {
            folder: folder.to_owned(),
            source,
        })?;
    }
    let started = Instant::now();
    // The file name travels as a bound parameter, so no quote or backslash in it can change the
    // statement. (SQLite evaluates the INTO argument as an expression.)
    let vacuum = Statement::from_sql_and_values(DbBackend::Sqlite, "VACUUM INTO ?", [text.into()]);
    db.execute_raw(vacuum)
        .await
        .map_err(|source| BackupError::Copy {
            path: path.to_owned(),
            source,
        })?;
    let took = started.elapsed();
    let bytes = std::fs::metadata(path)
        .map_err(|source| BackupError::Size {
            path: path.to_owned(),
            source,
        })?
        .len();
    Ok(BackupReport {
        path: path.to_owned(),
        bytes,
        took,
    })
}

/// The `pg_dump` command that backs up the PostgreSQL database at `url` into `path`, in the
/// custom format that `pg_restore` reads. The password, if the URL carries one, is left out: it
/// belongs in `PGPASSWORD` or `~/.pgpass`, not in a shell history.
pub fn pg_dump_command(url: &str, path: &Path) -> Result<String, String> {
    let options = PgConnectOptions::from_str(url)
        .map_err(|error| format!("cannot read the PostgreSQL URL: {error}"))?;
    let mut words = vec![
        "pg_dump".to_owned(),
        "--format=custom".to_owned(),
        format!("--file={}", shell_word(&path.to_string_lossy())),
        format!("--host={}", shell_word(options.get_host())),
        format!("--port={}", options.get_port()),
        format!("--username={}", shell_word(options.get_username())),
    ];
    if let Some(database) = options.get_database() {
        words.push(format!("--dbname={}", shell_word(database)));
    }
    Ok(words.join(" "))
}

/// `text` as one word for a POSIX shell: as is when it is plainly safe, else in single quotes.
fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:@%+=,".contains(c));
    if plain {
        text.to_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pg_dump_command_names_every_part_of_the_url_but_the_password() {
        let command = pg_dump_command(
            "postgres://dupin:s3cret@db.county.lan:5433/dupin_prod",
            Path::new("/var/backups/dupin/2026-12-01.dump"),
        );
        assert_eq!(
            command.as_deref(),
            Ok(
                "pg_dump --format=custom --file=/var/backups/dupin/2026-12-01.dump \
                 --host=db.county.lan --port=5433 --username=dupin --dbname=dupin_prod"
            )
        );
    }

    #[test]
    fn shell_words_with_spaces_or_quotes_are_quoted() {
        assert_eq!(shell_word("备份 1.dump"), "'备份 1.dump'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("a/b.dump"), "a/b.dump");
    }
}
