//! Opening the database: SQLite in a file by default (folder created, WAL, `synchronous=FULL`),
//! PostgreSQL by URL, and every migration applied before anything else runs.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use migration::{Alias, Migrator, MigratorTrait, Order, Query, SchemaManager};
use sea_orm::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqliteTransactionMode,
    TransactionOptions, TransactionTrait,
};

mod page_cache;
pub use page_cache::install as install_page_cache;

#[derive(Debug, thiserror::Error)]
pub enum DbSetupError {
    #[error("DATABASE_URL must start with sqlite:// or postgres:// (got \"{0}\")")]
    UnsupportedUrl(String),
    #[error("cannot create the database folder {folder}: {source}")]
    Folder {
        folder: String,
        source: std::io::Error,
    },
    #[error("cannot open the database: {0}")]
    Connect(#[source] DbErr),
    #[error("cannot apply the database migrations: {0}")]
    Migrate(#[source] DbErr),
    #[error(
        "the database was migrated by a newer dupin (unknown {} {}); run that version or restore a backup",
        if .0.len() == 1 { "migration" } else { "migrations" },
        .0.join(", ")
    )]
    NewerDatabase(Vec<String>),
    #[error(
        "an SQLite database in memory (\"{0}\") is a new one on every connection; give a file, as sqlite://dupin.sqlite3"
    )]
    InMemory(String),
}

/// Prepared statements kept per SQLite connection (see `connect`).
const STATEMENT_CACHE: usize = 24;

/// The WAL's length, in pages, at which the connection whose commit reached it copies the WAL
/// into the database file (SQLite's `wal_autocheckpoint`; its default is 1,000). A checkpoint
/// writes each page once, however many commits changed it since the last one, and most of what
/// the answer writer commits is the same pages again and again (each school's tallies and score
/// sums, the pending answers, the links' counts, the indexes' last pages): at 1,000 pages the
/// writer copied them some 25 times a second under load, each time stopping the answers behind
/// it. At 30,000 (a WAL of ≈ 124 MB, which then keeps its size on disk) it copies about once a
/// second at full load, for ≈ 30 ms: README's "Capacity", issue 14 part 13.
pub const WAL_PAGES_BEFORE_CHECKPOINT: u32 = 30_000;

/// Connects and migrates.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbSetupError> {
    let options = pool_options(url)?;
    let db = Database::connect(options)
        .await
        .map_err(DbSetupError::Connect)?;
    refuse_a_newer_database(&db).await?;
    migrate(&db).await?;
    Ok(db)
}

fn pool_options(url: &str) -> Result<ConnectOptions, DbSetupError> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .sqlx_logging(false)
        .acquire_timeout(Duration::from_secs(10));
    let connections = if url.starts_with("sqlite:") {
        create_sqlite_folder(url)?;
        // One writer at a time is SQLite's rule; readers run beside it thanks to WAL. FULL makes
        // every acknowledged answer durable; group commit (see `answering::writer`) keeps it cheap.
        options.map_sqlx_sqlite_opts(|opts: SqliteConnectOptions| {
            // Each connection keeps its prepared statements: at 100 (sqlx's default) eight
            // connections kept ≈ 100 MB of them under `dupin bench` when the writer's multi-row
            // statements differed by their number of rows. A few dozen keep every page's.
            opts.statement_cache_capacity(STATEMENT_CACHE)
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                // Statement journals (an upsert of many rows keeps one, to undo just that
                // statement) and sorts' scratch tables in memory, not in temporary files that
                // are created, written and deleted for each batch of answers.
                .pragma("temp_store", "memory")
                // The same on every connection: whichever commits past it copies the WAL.
                .pragma(
                    "wal_autocheckpoint",
                    WAL_PAGES_BEFORE_CHECKPOINT.to_string(),
                )
        });
        8
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        16
    } else {
        return Err(DbSetupError::UnsupportedUrl(url.to_owned()));
    };
    options.max_connections(connections).min_connections(1);
    Ok(options)
}

/// Stops before migrating a database that a newer dupin has migrated further than this binary
/// knows: its tables may hold data this version would misread or overwrite. (sea-orm would refuse
/// too, but in words that do not say what to do.)
async fn refuse_a_newer_database(db: &DatabaseConnection) -> Result<(), DbSetupError> {
    let table = Migrator::migration_table_name().to_string();
    let recorded = SchemaManager::new(db)
        .has_table(&table)
        .await
        .map_err(DbSetupError::Connect)?;
    if !recorded {
        return Ok(());
    }
    let known: Vec<String> = Migrator::migrations()
        .iter()
        .map(|migration| migration.name().to_owned())
        .collect();
    let select = Query::select()
        .column(Alias::new("version"))
        .from(Alias::new(table))
        .order_by(Alias::new("version"), Order::Asc)
        .to_owned();
    let mut unknown = Vec::new();
    for row in db.query_all(&select).await.map_err(DbSetupError::Connect)? {
        let version: String = row.try_get_by_index(0).map_err(DbSetupError::Connect)?;
        if !known.contains(&version) {
            unknown.push(version);
        }
    }
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(DbSetupError::NewerDatabase(unknown))
    }
}

/// The file of a `sqlite:` URL, or `None` for another database (or an in-memory one).
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let options = SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    (file != Path::new(":memory:")).then(|| file.to_path_buf())
}

fn create_sqlite_folder(url: &str) -> Result<(), DbSetupError> {
    let Ok(options) = SqliteConnectOptions::from_str(url) else {
        return Ok(());
    };
    let file = options.get_filename();
    if let Some(folder) = file
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
        && !folder.exists()
        && file != Path::new(":memory:")
    {
        std::fs::create_dir_all(folder).map_err(|source| DbSetupError::Folder {
            folder: folder.display().to_string(),
            source,
        })?;
    }
    Ok(())
}

/// Applies the migrations. Two processes started together on a new database race to create the
/// same tables; the loser's attempt fails, and by its retry the winner has finished, so the retry
/// finds nothing left to do.
async fn migrate(db: &DatabaseConnection) -> Result<(), DbSetupError> {
    const ATTEMPTS: u32 = 5;
    let mut attempt = 1;
    loop {
        match Migrator::up(db, None).await {
            Ok(()) => return Ok(()),
            Err(error) if attempt < ATTEMPTS => {
                tracing::warn!(error = %error, attempt, "migrating failed; another process may be migrating, retrying");
                tokio::time::sleep(Duration::from_millis(300 * u64::from(attempt))).await;
                attempt += 1;
            }
            Err(error) => return Err(DbSetupError::Migrate(error)),
        }
    }
}

/// Whether the database answers; used by `/healthz`.
pub async fn ping(db: &DatabaseConnection) -> bool {
    db.execute_unprepared("SELECT 1").await.is_ok()
}

/// A transaction that takes the write lock at once (`BEGIN IMMEDIATE` on SQLite; PostgreSQL
/// ignores the option). In a deferred SQLite transaction that reads before it writes, the write
/// fails outright, without waiting, when the answer writer committed after the read; taking the
/// lock first makes it wait its turn instead. Every transaction that changes data starts here.
pub async fn begin_write<C: TransactionTrait>(db: &C) -> Result<C::Transaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..TransactionOptions::default()
    })
    .await
}
