//! SQLite's own page cache with one change: a truncation that can drop no page is not passed
//! on to it.
//!
//! When SQLite's b-tree rebalances siblings it renumbers the new pages into ascending order, and
//! to swap two of them it parks one for a moment at the number of the lock page (1 GiB over the
//! page size, plus one: 262,145 for pages of 4 KiB). Its page cache (`pcache1`) remembers the
//! largest number it ever held, and never lowers it but by a truncation. The pager truncates its
//! cache to the database's size at the end of every write transaction, and `pcache1` then scans
//! only the hash slots past that size — unless the largest number is more than a hash table
//! beyond it, as the parked page's is: then it walks every page it holds. Under `dupin bench`
//! nearly every batch of answers rebalances some index page, the answer writer's cache holds
//! some 2,000 pages, and that walk was ≈ 8 % of the writer's CPU (README, "Capacity", part 16).
//!
//! Each cache is wrapped here with a bound on the numbers of the pages it can hold: the largest
//! a page was fetched at, and apart from it, the numbers pages were moved past it (the parked
//! page, until it moves on). A truncation to `limit` goes to `pcache1` only if a page at
//! `limit` or past it may be held; when none can be, `pcache1` would drop nothing either, so
//! skipping it changes no page. Everything else goes to `pcache1` unchanged.
//!
//! SQLite takes a page cache only before it is first used in the process, so [`install`] runs
//! first thing in `dupin` (`cli::main`); where SQLite was used already it says so and SQLite's
//! own cache stays, which is only slower. Like `answering::writer::vfs`, this module has
//! `unsafe` code because SQLite calls it through C function pointers; each function forwards
//! to SQLite's own cache.

#![allow(unsafe_code)]

use std::ffi::{c_int, c_uint};
use std::sync::OnceLock;

use rusqlite::ffi;

/// Whether the cache is installed, or why it could not be.
static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
/// SQLite's own cache, whose methods do the work.
static OWN: OnceLock<Own> = OnceLock::new();

/// Truncations skipped and passed on, and pages moved past the bound, for tests.
#[cfg(test)]
static SKIPPED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
#[cfg(test)]
static PASSED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
#[cfg(test)]
static PARKED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// SQLite's own cache's methods that take a cache.
struct Own {
    create: unsafe extern "C" fn(c_int, c_int, c_int) -> *mut ffi::sqlite3_pcache,
    cache_size: unsafe extern "C" fn(*mut ffi::sqlite3_pcache, c_int),
    page_count: unsafe extern "C" fn(*mut ffi::sqlite3_pcache) -> c_int,
    fetch: unsafe extern "C" fn(*mut ffi::sqlite3_pcache, c_uint, c_int) -> *mut Page,
    unpin: unsafe extern "C" fn(*mut ffi::sqlite3_pcache, *mut Page, c_int),
    rekey: unsafe extern "C" fn(*mut ffi::sqlite3_pcache, *mut Page, c_uint, c_uint),
    truncate: unsafe extern "C" fn(*mut ffi::sqlite3_pcache, c_uint),
    destroy: unsafe extern "C" fn(*mut ffi::sqlite3_pcache),
    shrink: Option<unsafe extern "C" fn(*mut ffi::sqlite3_pcache)>,
}

type Page = ffi::sqlite3_pcache_page;

/// One cache as SQLite holds it: SQLite's own, and what it may hold.
struct Cache {
    own: *mut ffi::sqlite3_pcache,
    keys: Keys,
}

/// A bound on the page numbers a cache holds.
#[derive(Debug, Default)]
struct Keys {
    /// No page was fetched at a larger number since the last truncation below it.
    most: u32,
    /// Numbers that pages were moved to past `most`, while they are there.
    parked: Vec<u32>,
}

impl Keys {
    fn fetched(&mut self, key: u32) {
        self.most = self.most.max(key);
    }

    fn moved(&mut self, old: u32, new: u32) {
        self.parked.retain(|&key| key != old);
        if new > self.most {
            self.parked.push(new);
        }
    }

    /// Whether a page numbered `limit` or more may be held, as a truncation to `limit` is
    /// asked; the bound is then lowered to what the truncation leaves.
    fn truncate(&mut self, limit: u32) -> bool {
        let mut held = limit <= self.most;
        for key in self.parked.drain(..) {
            if key >= limit {
                held = true;
            } else {
                self.most = self.most.max(key);
            }
        }
        if held {
            self.most = self.most.min(limit.saturating_sub(1));
        }
        held
    }
}

/// Puts the wrapped cache in place of SQLite's own, for every connection of the process. Must
/// run before SQLite is first used: after, SQLite refuses, and this says so.
pub fn install() -> Result<(), String> {
    INSTALLED
        .get_or_init(|| {
            let refused = |code: c_int| {
                format!("SQLite was already in use (code {code}); its own page cache stays")
            };
            // SAFETY: `sqlite3_config` copies SQLite's cache methods into `methods`, and later
            // copies ours out of `wrapped`; both are plain structs of function pointers.
            unsafe {
                let mut methods: ffi::sqlite3_pcache_methods2 = std::mem::zeroed();
                let code = ffi::sqlite3_config(ffi::SQLITE_CONFIG_GETPCACHE2, &raw mut methods);
                if code != ffi::SQLITE_OK {
                    return Err(refused(code));
                }
                let (
                    Some(create),
                    Some(cache_size),
                    Some(page_count),
                    Some(fetch),
                    Some(unpin),
                    Some(rekey),
                    Some(truncate),
                    Some(destroy),
                ) = (
                    methods.xCreate,
                    methods.xCachesize,
                    methods.xPagecount,
                    methods.xFetch,
                    methods.xUnpin,
                    methods.xRekey,
                    methods.xTruncate,
                    methods.xDestroy,
                )
                else {
                    return Err("SQLite's page cache lacks a method".to_owned());
                };
                let _ = OWN.set(Own {
                    create,
                    cache_size,
                    page_count,
                    fetch,
                    unpin,
                    rekey,
                    truncate,
                    destroy,
                    shrink: methods.xShrink,
                });
                let wrapped = ffi::sqlite3_pcache_methods2 {
                    xCreate: Some(wrapped_create),
                    xCachesize: Some(wrapped_cache_size),
                    xPagecount: Some(wrapped_page_count),
                    xFetch: Some(wrapped_fetch),
                    xUnpin: Some(wrapped_unpin),
                    xRekey: Some(wrapped_rekey),
                    xTruncate: Some(wrapped_truncate),
                    xDestroy: Some(wrapped_destroy),
                    xShrink: methods.xShrink.map(|_| wrapped_shrink as _),
                    ..methods
                };
                let code = ffi::sqlite3_config(ffi::SQLITE_CONFIG_PCACHE2, &raw const wrapped);
                if code != ffi::SQLITE_OK {
                    return Err(refused(code));
                }
                Ok(())
            }
        })
        .clone()
}

/// SQLite's own methods: set before any cache of ours exists.
fn own() -> Option<&'static Own> {
    OWN.get()
}

/// SAFETY (of every `wrapped_*` function): SQLite passes back the cache `wrapped_create` made,
/// and calls one cache's methods from one thread at a time (its pager's); `Cache::own` is
/// SQLite's own cache, which its methods take.
unsafe extern "C" fn wrapped_create(
    page_size: c_int,
    extra: c_int,
    purgeable: c_int,
) -> *mut ffi::sqlite3_pcache {
    let Some(own) = own() else {
        return std::ptr::null_mut();
    };
    // SAFETY: see above.
    let inner = unsafe { (own.create)(page_size, extra, purgeable) };
    if inner.is_null() {
        return inner;
    }
    Box::into_raw(Box::new(Cache {
        own: inner,
        keys: Keys::default(),
    }))
    .cast()
}

unsafe extern "C" fn wrapped_cache_size(cache: *mut ffi::sqlite3_pcache, pages: c_int) {
    if let Some(own) = own() {
        // SAFETY: see `wrapped_create`.
        unsafe { (own.cache_size)((*cache.cast::<Cache>()).own, pages) }
    }
}

unsafe extern "C" fn wrapped_page_count(cache: *mut ffi::sqlite3_pcache) -> c_int {
    // SAFETY: see `wrapped_create`.
    own().map_or(0, |own| unsafe {
        (own.page_count)((*cache.cast::<Cache>()).own)
    })
}

unsafe extern "C" fn wrapped_fetch(
    cache: *mut ffi::sqlite3_pcache,
    key: c_uint,
    create: c_int,
) -> *mut Page {
    let Some(own) = own() else {
        return std::ptr::null_mut();
    };
    // SAFETY: see `wrapped_create`.
    unsafe {
        let cache = &mut *cache.cast::<Cache>();
        let page = (own.fetch)(cache.own, key, create);
        // A page found without creating one is already within the bound.
        if create != 0 && !page.is_null() {
            cache.keys.fetched(key);
        }
        page
    }
}

unsafe extern "C" fn wrapped_unpin(
    cache: *mut ffi::sqlite3_pcache,
    page: *mut Page,
    discard: c_int,
) {
    if let Some(own) = own() {
        // SAFETY: see `wrapped_create`.
        unsafe { (own.unpin)((*cache.cast::<Cache>()).own, page, discard) }
    }
}

unsafe extern "C" fn wrapped_rekey(
    cache: *mut ffi::sqlite3_pcache,
    page: *mut Page,
    old: c_uint,
    new: c_uint,
) {
    if let Some(own) = own() {
        // SAFETY: see `wrapped_create`.
        unsafe {
            let cache = &mut *cache.cast::<Cache>();
            #[cfg(test)]
            if new > cache.keys.most {
                PARKED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            cache.keys.moved(old, new);
            (own.rekey)(cache.own, page, old, new);
        }
    }
}

unsafe extern "C" fn wrapped_truncate(cache: *mut ffi::sqlite3_pcache, limit: c_uint) {
    if let Some(own) = own() {
        // SAFETY: see `wrapped_create`.
        unsafe {
            let cache = &mut *cache.cast::<Cache>();
            if cache.keys.truncate(limit) {
                #[cfg(test)]
                PASSED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                (own.truncate)(cache.own, limit);
            } else {
                #[cfg(test)]
                SKIPPED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        }
    }
}

unsafe extern "C" fn wrapped_destroy(cache: *mut ffi::sqlite3_pcache) {
    // SAFETY: see `wrapped_create`; SQLite uses the cache no more after this.
    let cache = unsafe { Box::from_raw(cache.cast::<Cache>()) };
    if let Some(own) = own() {
        // SAFETY: as above.
        unsafe { (own.destroy)(cache.own) }
    }
}

unsafe extern "C" fn wrapped_shrink(cache: *mut ffi::sqlite3_pcache) {
    if let Some(shrink) = own().and_then(|own| own.shrink) {
        // SAFETY: see `wrapped_create`.
        unsafe { shrink((*cache.cast::<Cache>()).own) }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    #[test]
    fn a_truncation_past_every_page_is_skipped() {
        let mut keys = Keys::default();
        for key in 1..=40 {
            keys.fetched(key);
        }
        assert!(!keys.truncate(41), "nothing at 41 or past it");
        assert!(keys.truncate(40), "page 40 is held");
        assert!(!keys.truncate(40), "page 40 was dropped");
        assert!(keys.truncate(39));
    }

    #[test]
    fn a_page_parked_far_out_counts_until_it_moves_on() {
        let mut keys = Keys::default();
        for key in 1..=40 {
            keys.fetched(key);
        }
        // The b-tree's swap of pages 30 and 12 through the lock page.
        keys.moved(30, 262_145);
        assert!(keys.truncate(41), "a page is parked at 262,145");
        keys.moved(30, 262_145);
        keys.moved(12, 30);
        keys.moved(262_145, 12);
        assert!(!keys.truncate(41), "the parked page moved back");
        assert_eq!(keys.most, 40);
        assert!(keys.parked.is_empty());
    }

    #[test]
    fn a_page_moved_past_the_bound_and_left_there_raises_it() {
        let mut keys = Keys::default();
        keys.fetched(10);
        keys.moved(3, 15);
        assert!(!keys.truncate(16));
        assert!(keys.truncate(15), "page 15 is held");
        assert!(!keys.truncate(15));
    }

    /// Runs `child` in a process of its own, the first in it to use SQLite.
    #[test]
    fn sqlite_runs_on_the_wrapped_cache() {
        let exe = std::env::current_exe().expect("the test binary");
        let output = std::process::Command::new(exe)
            .args([
                "db::page_cache::tests::child",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env("DUPIN_PAGE_CACHE_CHILD", "1")
            .output()
            .expect("the test binary runs");
        let printed = String::from_utf8_lossy(&output.stdout);
        let complained = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{printed}{complained}");
        assert!(printed.contains("wrapped cache checked"), "{printed}");
    }

    /// The child of `sqlite_runs_on_the_wrapped_cache`, which runs it alone in a process of its
    /// own; ignored otherwise (and a no-op when run by hand without the variable).
    #[test]
    #[ignore = "run by sqlite_runs_on_the_wrapped_cache in a process of its own"]
    fn child() {
        if std::env::var_os("DUPIN_PAGE_CACHE_CHILD").is_none() {
            return;
        }
        install().expect("the first to use SQLite in this process");
        let folder = tempfile::tempdir().expect("a temporary folder");
        // The answer writer's mode, and the rollback journal, whose rollbacks shrink the file.
        for mode in ["WAL", "DELETE"] {
            write_and_roll_back(&folder.path().join(format!("{mode}.sqlite3")), mode);
        }
        let (skipped, passed, parked) = (
            SKIPPED.load(Ordering::Relaxed),
            PASSED.load(Ordering::Relaxed),
            PARKED.load(Ordering::Relaxed),
        );
        let counts = format!("{skipped} truncations skipped, {passed} passed on, {parked} parked");
        assert!(skipped > 100 && passed > 0 && parked > 0, "{counts}");
        println!("wrapped cache checked: {counts}");
    }

    /// Batches of rows under a random index in a database of journal `mode`, every tenth (the
    /// largest, growing the file) rolled back; then the rows and the file are checked.
    fn write_and_roll_back(file: &std::path::Path, mode: &str) {
        let connection = rusqlite::Connection::open(file).expect("opens");
        // A small cache, so that pages are evicted and read again too.
        connection
            .execute_batch(&format!(
                "PRAGMA journal_mode = {mode}; PRAGMA cache_size = 50; \
                 CREATE TABLE answer (id INTEGER PRIMARY KEY, browser TEXT NOT NULL, body TEXT); \
                 CREATE UNIQUE INDEX browser ON answer (browser);"
            ))
            .expect("a table with a random index");
        let mut state: u64 = 0x2545_f491_4f6c_dd1d;
        let mut random = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut kept = 0;
        for batch in 0..400 {
            connection.execute_batch("BEGIN IMMEDIATE").expect("begins");
            let rows: i64 = if batch % 10 == 9 { 200 } else { 20 };
            for _ in 0..rows {
                connection
                    .execute(
                        "INSERT INTO answer (browser, body) VALUES (?1, ?2)",
                        (format!("{:016x}", random()), "x".repeat(300)),
                    )
                    .expect("inserts");
            }
            if batch % 10 == 9 {
                connection.execute_batch("ROLLBACK").expect("rolls back");
            } else {
                connection.execute_batch("COMMIT").expect("commits");
                kept += rows;
            }
        }
        let count: i64 = connection
            .query_row("SELECT count(*) FROM answer", [], |row| row.get(0))
            .expect("counts");
        let check: String = connection
            .query_row("PRAGMA integrity_check", [], |row| row.get(0))
            .expect("checks");
        assert_eq!((count, check.as_str()), (kept, "ok"), "{mode}");
    }
}
