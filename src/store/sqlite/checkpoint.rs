//! WAL checkpoints on a thread of their own, off the commit path.
//!
//! SQLite's automatic checkpoint runs inside the commit that crosses its
//! threshold: that write, and every write queued behind it, waits while
//! pages are copied into the database file and the file is fsynced. On
//! this project's test VMs such a checkpoint fsync was measured at up to
//! 1.8 s (BENCHMARKS.md). A passive checkpoint on another connection never
//! blocks the writer or readers, so it runs here every half second; the
//! writer keeps an automatic checkpoint only as a backstop for a WAL this
//! thread somehow cannot keep small.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rusqlite::Connection;

/// How often the WAL is copied back into the database file.
const INTERVAL: Duration = Duration::from_millis(500);

/// The writer's own automatic checkpoint, in pages (64 MiB at 4 KiB):
/// far above what this thread lets the WAL reach.
pub(super) const BACKSTOP_PAGES: u32 = 16_384;

/// Stops the checkpoint thread when dropped.
pub(super) struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Opens a connection of its own to `path` and starts checkpointing.
    pub(super) fn start(path: &Path) -> anyhow::Result<Self> {
        let conn = Connection::open(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                // The sender is never used to send: its drop is the signal.
                let mut last = (0, 0);
                while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(INTERVAL) {
                    last = checkpoint(&conn, last);
                }
            })?;
        Ok(Checkpointer { _stop: stop })
    }
}

/// One passive checkpoint; returns the WAL's (frames, frames copied),
/// and times it when the WAL changed since `last`.
fn checkpoint(conn: &Connection, last: (i64, i64)) -> (i64, i64) {
    let started = Instant::now();
    // The row is (busy, WAL frames, frames checkpointed); PASSIVE never waits.
    let outcome = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |row| {
        Ok((row.get::<_, i64>(1)?, row.get::<_, i64>(2)?))
    });
    match outcome {
        Ok(now) => {
            if now != last {
                metrics::histogram!("realtalk_sqlite_checkpoint_duration_seconds")
                    .record(started.elapsed().as_secs_f64());
            }
            now
        }
        Err(error) => {
            tracing::warn!(%error, "SQLite checkpoint failed");
            last
        }
    }
}
