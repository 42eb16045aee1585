//! On SQLite, the copying of the WAL into the database file, taken off the answer writer's path.
//!
//! With SQLite's own `wal_autocheckpoint`, the commit that takes the WAL past its length copies
//! the WAL into the database before it returns: under `dupin bench` every ≈ 0.65 s some 4,000
//! pages read and written and the database file's `fsync`, ≈ 20 ms in which no answer is
//! stored and every phone that submits waits (README, "Capacity", part 17).
//!
//! Here a thread of its own, `dupin-checkpoint`, with a connection of its own, watches the WAL's
//! length (a `NOOP` checkpoint reads only the WAL index's header) and, once it is past
//! [`Checkpointing::frames`], runs a `PASSIVE` checkpoint, which copies while the writer goes on
//! committing. A WAL starts again from its beginning only once every frame in it has been
//! copied, and the frames committed meanwhile have not: so the thread then asks the writer to
//! finish ([`Checkpoints::take_finish`]), and the writer, between two batches, runs a passive
//! checkpoint of its own, which copies only those frames and syncs the few pages they change.
//! Its next commit starts the WAL again. The writer's and the pool's own `wal_autocheckpoint`
//! stay, at twice the length, should this thread fall behind or stop.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags};

/// When and how often the WAL's length is looked at.
#[derive(Clone, Copy, Debug)]
pub struct Checkpointing {
    /// The WAL's length, in frames (pages), past which it is copied.
    pub frames: u32,
    /// How often its length is read. At 40,000 frames a second (the writer's most, under `dupin
    /// bench`), 50 ms is 2,000 frames past the length at most.
    pub poll: Duration,
}

impl Default for Checkpointing {
    fn default() -> Self {
        Checkpointing {
            frames: crate::db::WAL_PAGES_BEFORE_CHECKPOINT,
            poll: Duration::from_millis(50),
        }
    }
}

/// What the checkpoint thread and the writer share. The thread stops once the writer's side is
/// dropped.
#[derive(Default)]
pub struct Checkpoints {
    /// Set by the thread after a copy: the writer should copy what was committed meanwhile.
    finish: AtomicBool,
    /// Set when the writer's connection closes: the thread stops.
    stop: AtomicBool,
    /// Copies made by the thread, and finished by the writer (for tests and the debug log).
    copied: AtomicU64,
    finished: AtomicU64,
}

impl Checkpoints {
    /// Whether the writer should finish a copy now (and, if so, no longer).
    pub fn take_finish(&self) -> bool {
        self.finish.swap(false, Ordering::AcqRel)
    }

    /// Counts a copy finished by the writer.
    pub fn finished(&self) {
        self.finished.fetch_add(1, Ordering::Relaxed);
    }

    /// (copies by the thread, copies finished by the writer) so far.
    #[cfg(test)]
    pub fn counts(&self) -> (u64, u64) {
        (
            self.copied.load(Ordering::Relaxed),
            self.finished.load(Ordering::Relaxed),
        )
    }
}

/// The writer's side: the thread stops when this is dropped.
pub struct Checkpointer {
    shared: Arc<Checkpoints>,
}

impl Checkpointer {
    /// Starts the thread for the SQLite database `file`. `None`, with a warning, if it cannot
    /// start: the writer's own `wal_autocheckpoint` then does the copying, as before.
    pub fn start(file: &Path, checkpointing: Checkpointing) -> Option<Checkpointer> {
        let shared = Arc::new(Checkpoints::default());
        let connection = match open(file) {
            Ok(connection) => connection,
            Err(error) => {
                tracing::warn!(%error, "the WAL's checkpoint thread has no connection; the answer writer copies the WAL itself");
                return None;
            }
        };
        let (thread_side, file) = (shared.clone(), file.to_path_buf());
        let started = std::thread::Builder::new()
            .name("dupin-checkpoint".to_owned())
            .spawn(move || watch(&connection, &file, &thread_side, checkpointing));
        if let Err(error) = started {
            tracing::warn!(%error, "the WAL's checkpoint thread did not start; the answer writer copies the WAL itself");
            return None;
        }
        Some(Checkpointer { shared })
    }

    pub fn shared(&self) -> &Arc<Checkpoints> {
        &self.shared
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Release);
    }
}

/// A connection that only copies: `synchronous = FULL`, so that the copy syncs the database
/// file before the WAL may start again.
fn open(file: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        file,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.execute_batch("PRAGMA synchronous = FULL; PRAGMA wal_autocheckpoint = 0;")?;
    Ok(connection)
}

/// The thread: looks at the WAL's length every `poll` and copies it once it is long.
fn watch(
    connection: &Connection,
    file: &PathBuf,
    shared: &Checkpoints,
    checkpointing: Checkpointing,
) {
    while !shared.stop.load(Ordering::Acquire) {
        std::thread::sleep(checkpointing.poll);
        // (busy, frames in the WAL, frames already copied)
        let length = checkpoint(connection, "NOOP");
        let Ok((_, frames, copied)) = length else {
            continue;
        };
        if frames < i64::from(checkpointing.frames) || copied >= frames {
            continue;
        }
        let started = std::time::Instant::now();
        match checkpoint(connection, "PASSIVE") {
            Ok((_, frames, copied)) => {
                shared.copied.fetch_add(1, Ordering::Relaxed);
                shared.finish.store(true, Ordering::Release);
                tracing::debug!(
                    frames,
                    copied,
                    micros = started.elapsed().as_micros() as u64,
                    "WAL copied beside the writer"
                );
            }
            Err(error) => {
                tracing::warn!(%error, file = %file.display(), "copying the WAL into the database failed; the writer copies it itself");
            }
        }
    }
}

fn checkpoint(connection: &Connection, mode: &str) -> rusqlite::Result<(i64, i64, i64)> {
    connection.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok((row.get(0)?, row.get(1)?, row.get(2)?))
    })
}

/// The writer's finish of a copy: a passive checkpoint on its own connection, between batches.
pub fn finish(connection: &Connection) -> rusqlite::Result<(i64, i64, i64)> {
    checkpoint(connection, "PASSIVE")
}
