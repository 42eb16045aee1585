//! The writer's own SQLite VFS: SQLite's own (`unix`) with two changes on the writer's path,
//! both measured under `dupin bench` (README, "Capacity", part 12).
//!
//! - **One write per commit to the WAL.** SQLite appends each frame as two writes, its 24-byte
//!   header and then its page: a commit of 50 frames was 100 `pwrite`s. This VFS gathers the
//!   WAL's contiguous writes in memory and writes them out at once before anything that could
//!   need them on disk: a sync, a read, a truncation, its size, a file control, closing the file,
//!   or a write that is not the next byte. The file sees the same bytes in the same order.
//! - **`fdatasync`, not `fsync`.** The bundled SQLite is built without `HAVE_FDATASYNC`, so it
//!   calls `fsync`, which on ext4 also commits the file's modification time to the journal at
//!   every commit. The WAL is synced here with `fdatasync` through a descriptor of this VFS's
//!   own (after SQLite's own first sync, which also syncs the folder of a new WAL). A WAL is
//!   rewritten in place after each checkpoint, so its size — the only metadata needed to read it
//!   back — rarely changes, and `fdatasync` still commits it when it does. The database file
//!   keeps SQLite's own `fsync` (once a checkpoint): closing a second descriptor of it would drop
//!   every POSIX lock this process holds on it, the other connections' too; SQLite takes no lock
//!   on a WAL.
//!
//! The WAL's buffer relies on a sync at every commit: SQLite publishes a commit's frames in the
//! WAL's index (where other connections find them) just after syncing them, and only at
//! `synchronous = FULL` (or `EXTRA`) does it sync every commit. At `NORMAL` it would publish
//! frames still in this buffer, and other connections would read what is not there yet; so
//! [`open`] refuses a connection that is not at `FULL`, and one without power-safe overwrite
//! (where SQLite pads a commit past the sync and publishes the padding too). And the buffer
//! never outlives the WAL's write lock: a transaction that spilled pages into the WAL and was
//! rolled back leaves them buffered, and another connection then writes its own frames at the
//! same place; they must not be overwritten later. So the database file is wrapped as well, and
//! when it releases the write lock (`xShmLock`), whatever the WAL still holds is dropped — after
//! a commit it holds nothing. (A review found this by test: a rolled-back spill, then another
//! connection's commit, then the writer's next read had made the file "not a database".)
//!
//! This is one of dupin's two modules with `unsafe` code (the other is `db::page_cache`):
//! SQLite calls a VFS through C function pointers. Each function only forwards to SQLite's own
//! file, or keeps its buffer.

#![allow(unsafe_code)]

use std::ffi::{CStr, c_int, c_void};
use std::path::Path;
use std::sync::OnceLock;

use rusqlite::ffi;
use rusqlite::{Connection, OpenFlags};

/// The VFS's name, as `sqlite3_vfs_register` knows it.
const NAME: &CStr = c"dupin-writer";
/// A WAL run is written out once it reaches this size, whatever follows.
const MOST_BUFFERED: usize = 1 << 20;
/// The most SQLite's own file writes in one call: its `seekAndWriteFd` keeps only the low 17
/// bits of a length, so a longer write fails as if the disk were full.
const MOST_PER_WRITE: usize = 0x1_ffff;

/// The WAL or the database file as this VFS opens them: this, then SQLite's own file. Any
/// other file is SQLite's own file at the start of the same allocation, with SQLite's own
/// methods.
#[repr(C)]
struct File {
    base: ffi::sqlite3_file,
    /// The WAL's writes not yet handed to the kernel, and where they go in the file; null for
    /// the database file, whose writes go straight through.
    pending: *mut Vec<u8>,
    start: i64,
    /// The WAL, opened again when SQLite opened it, to `fdatasync` it once SQLite's own first
    /// sync is done (see `sync`); null for the database file, or if it could not be opened.
    data_sync: *mut std::fs::File,
    /// Whether SQLite's own first sync is done.
    synced: bool,
    /// SQLite's own file, just after this.
    real: *mut ffi::sqlite3_file,
    /// The database file's WAL while it is open, and the WAL's database file (which outlives it).
    other: *mut File,
}

/// Whether the VFS is registered, or why it could not be.
static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
/// SQLite's own VFS, whose files do the work.
static ROOT: OnceLock<Root> = OnceLock::new();

struct Root(*mut ffi::sqlite3_vfs);
// SAFETY: SQLite's VFS objects are immutable once registered and safe to use from any thread.
unsafe impl Send for Root {}
unsafe impl Sync for Root {}

/// Opens `file` on this VFS with `flags`, has `prepare` set the connection up, and checks that
/// it then syncs at every commit.
pub fn open(
    file: &Path,
    flags: OpenFlags,
    prepare: impl FnOnce(&Connection) -> rusqlite::Result<()>,
) -> rusqlite::Result<Connection> {
    register().map_err(|message| {
        rusqlite::Error::SqliteFailure(ffi::Error::new(ffi::SQLITE_ERROR), Some(message))
    })?;
    let name = NAME.to_str().unwrap_or_default();
    let connection = Connection::open_with_flags_and_vfs(file, flags, name)?;
    prepare(&connection)?;
    let synchronous: i64 = connection.query_row("PRAGMA synchronous", [], |row| row.get(0))?;
    let refused = |message: &str| {
        rusqlite::Error::SqliteFailure(
            ffi::Error::new(ffi::SQLITE_MISUSE),
            Some(format!("the answer writer's VFS needs {message}")),
        )
    };
    if synchronous < 2 {
        return Err(refused("synchronous = FULL"));
    }
    let mut power_safe: c_int = -1;
    // SAFETY: the connection is open; the file control reads the setting into `power_safe`.
    let code = unsafe {
        ffi::sqlite3_file_control(
            connection.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_POWERSAFE_OVERWRITE,
            (&raw mut power_safe).cast(),
        )
    };
    if code != ffi::SQLITE_OK || power_safe != 1 {
        return Err(refused("power-safe overwrite (psow=1)"));
    }
    // A read opens the WAL; the database file must then know it, or a rolled-back
    // transaction's buffer would outlive the write lock (see `shm_lock`).
    connection.query_row("SELECT count(*) FROM sqlite_schema", [], |row| {
        row.get::<_, i64>(0)
    })?;
    let mut database: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: the connection is open; the file control writes its database file's pointer into
    // `database`, a file of this VFS whose `other` is read only if `is_ours` says so.
    let linked = unsafe {
        let code = ffi::sqlite3_file_control(
            connection.handle(),
            c"main".as_ptr(),
            ffi::SQLITE_FCNTL_FILE_POINTER,
            (&raw mut database).cast(),
        );
        code == ffi::SQLITE_OK && is_ours(database) && !(*database.cast::<File>()).other.is_null()
    };
    if !linked {
        return Err(refused("a database in WAL mode, its WAL opened through it"));
    }
    Ok(connection)
}

fn register() -> Result<(), String> {
    REGISTERED
        .get_or_init(|| {
            // SAFETY: `sqlite3_vfs_find` with a null name returns the default VFS, which lives
            // as long as the process; the copy made of it is leaked, so it does too.
            unsafe {
                let root = ffi::sqlite3_vfs_find(std::ptr::null());
                if root.is_null() {
                    return Err("SQLite has no default VFS".to_owned());
                }
                let _ = ROOT.set(Root(root));
                let mut vfs: ffi::sqlite3_vfs = std::ptr::read(root);
                vfs.zName = NAME.as_ptr();
                vfs.pNext = std::ptr::null_mut();
                vfs.szOsFile = (*root).szOsFile + std::mem::size_of::<File>() as c_int;
                vfs.xOpen = Some(open_file);
                let vfs = Box::leak(Box::new(vfs));
                let code = ffi::sqlite3_vfs_register(vfs, 0);
                if code == ffi::SQLITE_OK {
                    Ok(())
                } else {
                    Err(format!(
                        "cannot register the answer writer's VFS (SQLite code {code})"
                    ))
                }
            }
        })
        .clone()
}

fn root() -> *mut ffi::sqlite3_vfs {
    ROOT.get().map_or(std::ptr::null_mut(), |root| root.0)
}

unsafe extern "C" fn open_file(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let root = root();
    // SAFETY: SQLite gives `file` as `szOsFile` bytes: room for `File` and SQLite's own file
    // after it, or for SQLite's own file at its start.
    unsafe {
        let Some(root_open) = (*root).xOpen else {
            return ffi::SQLITE_ERROR;
        };
        let is_wal = flags & ffi::SQLITE_OPEN_WAL != 0;
        if !is_wal && flags & ffi::SQLITE_OPEN_MAIN_DB == 0 {
            return root_open(root, name, file, flags, out_flags);
        }
        let this = file.cast::<File>();
        let real = file
            .cast::<u8>()
            .add(std::mem::size_of::<File>())
            .cast::<ffi::sqlite3_file>();
        (*this).base.pMethods = std::ptr::null();
        (*this).start = 0;
        (*this).pending = std::ptr::null_mut();
        (*this).data_sync = std::ptr::null_mut();
        (*this).synced = false;
        (*this).real = real;
        (*this).other = std::ptr::null_mut();
        let code = root_open(root, name, real, flags, out_flags);
        if code != ffi::SQLITE_OK || (*real).pMethods.is_null() {
            return code;
        }
        (*this).base.pMethods = methods((*(*real).pMethods).iVersion);
        if !is_wal {
            return code;
        }
        (*this).pending = Box::into_raw(Box::new(Vec::new()));
        if !name.is_null() {
            use std::os::unix::ffi::OsStrExt;
            let path = std::ffi::OsStr::from_bytes(CStr::from_ptr(name).to_bytes());
            if let Ok(again) = std::fs::File::open(path) {
                (*this).data_sync = Box::into_raw(Box::new(again));
            }
            // The database file this WAL belongs to: this VFS's own, since a connection opens
            // both through one VFS.
            let database = ffi::sqlite3_database_file_object(name);
            if is_ours(database) {
                let database = database.cast::<File>();
                (*this).other = database;
                (*database).other = this;
            }
        }
        code
    }
}

/// This VFS's methods, of the same version as SQLite's own file's.
fn methods(version: c_int) -> *const ffi::sqlite3_io_methods {
    static METHODS: OnceLock<[Methods; 4]> = OnceLock::new();
    let all = METHODS.get_or_init(|| {
        [0, 1, 2, 3].map(|version| {
            Methods(ffi::sqlite3_io_methods {
                iVersion: version,
                xClose: Some(close),
                xRead: Some(read),
                xWrite: Some(write),
                xTruncate: Some(truncate),
                xSync: Some(sync),
                xFileSize: Some(file_size),
                xLock: Some(lock),
                xUnlock: Some(unlock),
                xCheckReservedLock: Some(check_reserved_lock),
                xFileControl: Some(file_control),
                xSectorSize: Some(sector_size),
                xDeviceCharacteristics: Some(device_characteristics),
                xShmMap: Some(shm_map),
                xShmLock: Some(shm_lock),
                xShmBarrier: Some(shm_barrier),
                xShmUnmap: Some(shm_unmap),
                xFetch: Some(fetch),
                xUnfetch: Some(unfetch),
            })
        })
    });
    let version = usize::try_from(version.clamp(0, 3)).unwrap_or(0);
    &all[version].0
}

/// Whether `file` is one this VFS wrapped.
fn is_ours(file: *const ffi::sqlite3_file) -> bool {
    if file.is_null() {
        return false;
    }
    // SAFETY: a file SQLite gave, open; its methods are a table or null.
    let given = unsafe { (*file).pMethods };
    (0..4).any(|version| std::ptr::eq(given, methods(version)))
}

struct Methods(ffi::sqlite3_io_methods);
// SAFETY: a table of function pointers, never changed once made.
unsafe impl Send for Methods {}
unsafe impl Sync for Methods {}

/// SQLite's own file and methods behind a file of this VFS.
unsafe fn real(
    file: *mut ffi::sqlite3_file,
) -> (*mut ffi::sqlite3_file, &'static ffi::sqlite3_io_methods) {
    // SAFETY: only files opened by `open_file` have these methods, and it set `real`.
    unsafe {
        let real = (*file.cast::<File>()).real;
        (real, &*(*real).pMethods)
    }
}

/// Writes out what the WAL holds, if anything, in writes SQLite's own file can make.
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as `real`; `pending` is this file's own buffer.
    unsafe {
        let this = file.cast::<File>();
        if (*this).pending.is_null() {
            return ffi::SQLITE_OK;
        }
        let pending = &mut *(*this).pending;
        if pending.is_empty() {
            return ffi::SQLITE_OK;
        }
        let (real, methods) = real(file);
        let Some(write) = methods.xWrite else {
            return ffi::SQLITE_IOERR_WRITE;
        };
        let mut offset = (*this).start;
        let mut code = ffi::SQLITE_OK;
        for piece in pending.chunks(MOST_PER_WRITE) {
            let Ok(amount) = c_int::try_from(piece.len()) else {
                code = ffi::SQLITE_IOERR_WRITE;
                break;
            };
            code = write(real, piece.as_ptr().cast(), amount, offset);
            if code != ffi::SQLITE_OK {
                break;
            }
            offset += i64::from(amount);
        }
        pending.clear();
        code
    }
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite gives `amount` readable bytes at `data`.
    unsafe {
        let this = file.cast::<File>();
        if (*this).pending.is_null() {
            let (real, methods) = real(file);
            return match methods.xWrite {
                Some(write) => write(real, data, amount, offset),
                None => ffi::SQLITE_IOERR_WRITE,
            };
        }
        let pending = &mut *(*this).pending;
        let end = (*this).start + pending.len() as i64;
        if !pending.is_empty() && offset != end {
            let code = flush(file);
            if code != ffi::SQLITE_OK {
                return code;
            }
        }
        let pending = &mut *(*this).pending;
        if pending.is_empty() {
            (*this).start = offset;
        }
        let amount = usize::try_from(amount).unwrap_or(0);
        pending.extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), amount));
        if pending.len() >= MOST_BUFFERED {
            return flush(file);
        }
        ffi::SQLITE_OK
    }
}

/// Closes the file. What a WAL still holds is dropped, not written: SQLite closes a WAL only
/// outside a write transaction, so it can only be a rolled-back transaction's pages.
unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: the buffers were made by `open_file` and are freed once, here; `other` is the
    // paired file while both are open, and each unlinks itself when it closes.
    unsafe {
        let this = file.cast::<File>();
        if !(*this).other.is_null() {
            (*(*this).other).other = std::ptr::null_mut();
            (*this).other = std::ptr::null_mut();
        }
        if !(*this).pending.is_null() {
            drop(Box::from_raw((*this).pending));
            (*this).pending = std::ptr::null_mut();
        }
        if !(*this).data_sync.is_null() {
            drop(Box::from_raw((*this).data_sync));
            (*this).data_sync = std::ptr::null_mut();
        }
        let (real, methods) = real(file);
        methods.xClose.map_or(ffi::SQLITE_OK, |close| close(real))
    }
}

/// Methods that write out the buffer first, then pass the call on.
macro_rules! flushed_then {
    ($name:ident, $method:ident ( $($arg:ident : $ty:ty),* )) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> c_int {
            // SAFETY: a file of this VFS; the arguments are SQLite's, passed on unchanged.
            unsafe {
                let code = flush(file);
                if code != ffi::SQLITE_OK {
                    return code;
                }
                let (real, methods) = real(file);
                match methods.$method {
                    Some(method) => method(real, $($arg),*),
                    None => ffi::SQLITE_ERROR,
                }
            }
        }
    };
}

/// Methods passed on as they are.
macro_rules! passed {
    ($name:ident, $method:ident ( $($arg:ident : $ty:ty),* ), $missing:expr) => {
        unsafe extern "C" fn $name(file: *mut ffi::sqlite3_file, $($arg: $ty),*) -> c_int {
            // SAFETY: a file of this VFS; the arguments are SQLite's, passed on unchanged.
            unsafe {
                let (real, methods) = real(file);
                match methods.$method {
                    Some(method) => method(real, $($arg),*),
                    None => $missing,
                }
            }
        }
    };
}

flushed_then!(read, xRead(data: *mut c_void, amount: c_int, offset: i64));
flushed_then!(truncate, xTruncate(size: i64));

/// Writes out the buffer and makes the file durable: the first time by SQLite's own sync (which
/// also syncs the folder of a new WAL), then by `fdatasync` (see the module's documentation).
unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: a file of this VFS.
    unsafe {
        let code = flush(file);
        if code != ffi::SQLITE_OK {
            return code;
        }
        let this = file.cast::<File>();
        if (*this).synced && !(*this).data_sync.is_null() {
            return match (*(*this).data_sync).sync_data() {
                Ok(()) => ffi::SQLITE_OK,
                Err(_) => ffi::SQLITE_IOERR_FSYNC,
            };
        }
        let (real, methods) = real(file);
        let code = match methods.xSync {
            Some(sync) => sync(real, flags),
            None => ffi::SQLITE_ERROR,
        };
        (*this).synced = code == ffi::SQLITE_OK;
        code
    }
}
flushed_then!(file_size, xFileSize(size: *mut i64));
flushed_then!(file_control, xFileControl(op: c_int, argument: *mut c_void));
passed!(lock, xLock(level: c_int), ffi::SQLITE_OK);
passed!(unlock, xUnlock(level: c_int), ffi::SQLITE_OK);
passed!(check_reserved_lock, xCheckReservedLock(out: *mut c_int), ffi::SQLITE_OK);
passed!(sector_size, xSectorSize(), 4096);
passed!(device_characteristics, xDeviceCharacteristics(), 0);
passed!(shm_map, xShmMap(page: c_int, size: c_int, extend: c_int, out: *mut *mut c_void), ffi::SQLITE_IOERR);
passed!(shm_unmap, xShmUnmap(delete: c_int), ffi::SQLITE_OK);
passed!(unfetch, xUnfetch(offset: i64, pointer: *mut c_void), ffi::SQLITE_OK);

/// Passes a lock of the WAL's shared memory on; when the database file gives up the WAL's write
/// lock (lock 0, exclusive), whatever its WAL still holds is dropped first. After a commit it
/// holds nothing (the commit's sync wrote it out); after a rollback it may hold pages the
/// transaction spilled, and the next writer — perhaps another connection — writes its own frames
/// where they would have gone.
unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    count: c_int,
    flags: c_int,
) -> c_int {
    const WAL_WRITE_LOCK: c_int = 0;
    // SAFETY: a file of this VFS; `other` is its open WAL or null.
    unsafe {
        let this = file.cast::<File>();
        let releases_write_lock = flags == ffi::SQLITE_SHM_UNLOCK | ffi::SQLITE_SHM_EXCLUSIVE
            && offset <= WAL_WRITE_LOCK
            && WAL_WRITE_LOCK < offset + count;
        let wal = (*this).other;
        if releases_write_lock && !wal.is_null() && !(*wal).pending.is_null() {
            (*(*wal).pending).clear();
        }
        let (real, methods) = real(file);
        match methods.xShmLock {
            Some(lock) => lock(real, offset, count, flags),
            None => ffi::SQLITE_IOERR,
        }
    }
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    // SAFETY: a file of this VFS.
    unsafe {
        let (real, methods) = real(file);
        if let Some(barrier) = methods.xShmBarrier {
            barrier(real);
        }
    }
}

unsafe extern "C" fn fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    // SAFETY: a file of this VFS; a mapping reads the file, so the buffer is written out first.
    unsafe {
        let code = flush(file);
        if code != ffi::SQLITE_OK {
            return code;
        }
        let (real, methods) = real(file);
        match methods.xFetch {
            Some(fetch) => fetch(real, offset, amount, out),
            None => {
                *out = std::ptr::null_mut();
                ffi::SQLITE_OK
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rusqlite::{Connection, OpenFlags, params};

    const SETTINGS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;";

    /// A database in WAL mode with one table, in a folder of its own, made through SQLite's own
    /// VFS as `db::connect` makes dupin's.
    fn database() -> (tempfile::TempDir, std::path::PathBuf) {
        let folder = tempfile::tempdir().expect("a folder");
        let file = folder.path().join("vfs.sqlite3");
        let made = Connection::open(&file).expect("the database is made");
        made.execute_batch(
            "PRAGMA journal_mode = WAL; \
             CREATE TABLE piece (id INTEGER PRIMARY KEY, body BLOB NOT NULL);",
        )
        .expect("the table is made");
        (folder, file)
    }

    fn writer(file: &Path, settings: &'static str) -> rusqlite::Result<Connection> {
        super::open(file, OpenFlags::SQLITE_OPEN_READ_WRITE, |connection| {
            connection.execute_batch(settings)
        })
    }

    /// Stores the pieces of `ids`, each `size` bytes, through `connection`.
    fn store(connection: &Connection, ids: std::ops::Range<i64>, size: usize) {
        for n in ids {
            connection
                .execute(
                    "INSERT INTO piece (id, body) VALUES (?1, ?2)",
                    params![n, body(n, size)],
                )
                .expect("a piece is stored");
        }
    }

    /// SQLite's own check of every page of the database, through `reader`.
    fn assert_intact(reader: &Connection) {
        let check: String = reader
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .expect("the check runs");
        assert_eq!(check, "ok");
    }

    /// The `n`th piece's body: `size` bytes that differ from piece to piece.
    fn body(n: i64, size: usize) -> Vec<u8> {
        (0..size)
            .map(|i| (i as i64 * 31 + n * 17).rem_euclid(251) as u8)
            .collect()
    }

    #[test]
    fn every_commit_is_read_at_once_by_a_connection_of_sqlites_own_vfs() {
        let (_folder, file) = database();
        let writer = writer(&file, SETTINGS).expect("the writer's connection opens");
        let reader = Connection::open(&file).expect("a reader opens");
        // 3,000 commits of a piece each write some 6,000 frames: several checkpoints and
        // restarts of the WAL along the way.
        for n in 1..=3_000_i64 {
            store(&writer, n..n + 1, 3_000);
            let (count, last): (i64, Vec<u8>) = reader
                .query_row(
                    "SELECT count(*), (SELECT body FROM piece ORDER BY id DESC LIMIT 1) FROM piece",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .expect("the reader reads");
            assert_eq!(count, n, "the reader sees every commit at once");
            assert_eq!(last, body(n, 3_000), "and what it wrote");
        }
        assert_intact(&reader);
    }

    #[test]
    fn a_transaction_larger_than_the_buffer_and_the_cache_is_stored_whole_or_not_at_all() {
        let (_folder, file) = database();
        // A page cache of ten pages spills a large transaction's pages into the WAL before it
        // commits, and reads them back from there.
        let writer = writer(
            &file,
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = 10;",
        )
        .expect("the writer's connection opens");
        let transaction = |from: i64, to: i64, then: &str| {
            writer.execute_batch("BEGIN").expect("a transaction begins");
            store(&writer, from..to, 5_000);
            // Read back what the transaction wrote, spilled pages and all.
            let sum: i64 = writer
                .query_row(
                    "SELECT sum(length(body)) FROM piece WHERE id >= ?1",
                    [from],
                    |row| row.get(0),
                )
                .expect("the transaction reads its own pieces");
            assert_eq!(sum, (to - from) * 5_000);
            writer.execute_batch(then).expect("the transaction ends");
        };
        // Some 3 MB each: past the most one write of SQLite's takes and the buffer's limit.
        transaction(1, 600, "ROLLBACK");
        transaction(1_000, 1_600, "COMMIT");
        let reader = Connection::open(&file).expect("a reader opens");
        let ids: Vec<i64> = reader
            .prepare("SELECT id FROM piece ORDER BY id")
            .and_then(|mut select| {
                select
                    .query_map([], |row| row.get(0))?
                    .collect::<rusqlite::Result<Vec<i64>>>()
            })
            .expect("the reader reads");
        assert_eq!(
            ids,
            (1_000..1_600).collect::<Vec<_>>(),
            "the rolled-back pieces are not there"
        );
        for n in [1_000, 1_299, 1_599] {
            let stored: Vec<u8> = reader
                .query_row("SELECT body FROM piece WHERE id = ?1", [n], |row| {
                    row.get(0)
                })
                .expect("a piece is read");
            assert_eq!(stored, body(n, 5_000));
        }
        drop(writer);
        assert_intact(&reader);
    }

    #[test]
    fn pages_spilled_by_a_rolled_back_transaction_never_overwrite_another_connections_commit() {
        let (_folder, file) = database();
        let other = Connection::open(&file).expect("another connection opens");
        let writer = writer(
            &file,
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = 10;",
        )
        .expect("the writer's connection opens");
        // An empty WAL, so that the spilled pages' frames are the WAL's first.
        other
            .execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
            .expect("the WAL is emptied");
        writer.execute_batch("BEGIN").expect("a transaction begins");
        store(&writer, 1..101, 3_000);
        writer.execute_batch("ROLLBACK").expect("it is rolled back");
        // Another connection commits where the spilled frames would have gone.
        store(&other, 1_000..1_020, 3_000);
        // The writer's next read would write out anything still held.
        let seen: i64 = writer
            .query_row("SELECT count(*) FROM piece", [], |row| row.get(0))
            .expect("the writer reads");
        assert_eq!(seen, 20, "the writer sees the other connection's pieces");
        let fresh = Connection::open(&file).expect("a fresh connection opens");
        let kept: i64 = fresh
            .query_row("SELECT count(*) FROM piece", [], |row| row.get(0))
            .expect("a fresh connection reads");
        assert_eq!(kept, 20, "none of the other connection's pieces is lost");
        assert_intact(&fresh);
    }

    #[test]
    fn a_connection_without_power_safe_overwrite_is_refused() {
        let (_folder, file) = database();
        let uri = format!("file:{}?psow=0", file.display());
        let refused = super::open(
            Path::new(&uri),
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_URI,
            |connection| connection.execute_batch(SETTINGS),
        );
        let message = refused
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(message.contains("power-safe"), "{message}");
    }

    #[test]
    fn a_connection_that_would_not_sync_every_commit_is_refused() {
        let (_folder, file) = database();
        let refused = writer(
            &file,
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
        );
        let message = refused
            .err()
            .map(|error| error.to_string())
            .unwrap_or_default();
        assert!(message.contains("synchronous = FULL"), "{message}");
    }
}
