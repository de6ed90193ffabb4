//! The embedded engine: SQLite in WAL mode, one file under `DATA_DIR`.
//!
//! Writes go to exactly one connection, on a thread of its own that commits
//! them in groups (`writer`), so they are serialised (which is what SQLite
//! does anyway) without ever waiting on `SQLITE_BUSY`. Each write therefore
//! runs inside the group's transaction and takes a savepoint, never a
//! transaction, of its own. Reads use a small pool and run concurrently
//! thanks to WAL, on tokio's blocking pool via deadpool's `interact`, so the
//! async runtime never blocks on disk. WAL checkpoints run on a third
//! thread (`checkpoint`), off the commit path.

mod accounts;
mod attachments;
mod checkpoint;
mod codec;
mod conversations;
mod device_keys;
mod friends;
mod messages;
mod sessions;
mod transfer;
mod users;
mod writer;

use std::path::Path;

use anyhow::Context as _;
use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use deadpool_sqlite::{Config as PoolConfig, Hook, HookError, Pool, Runtime};
use rusqlite::Connection;
use rusqlite_migration::{M, Migrations};

use super::Store;
use crate::error::{AppError, AppResult};
use crate::telemetry::StoreTimer;

/// Schema migrations, embedded in the binary and applied in order at start.
const MIGRATIONS: &[M<'static>] = &[
    M::up(include_str!("migrations/0001_accounts.sql")),
    M::up(include_str!("migrations/0002_messaging.sql")),
    M::up(include_str!("migrations/0003_attachments.sql")),
    M::up(include_str!("migrations/0004_account_lifecycle.sql")),
    M::up(include_str!("migrations/0005_encryption.sql")),
];

/// Pragmas set on every connection. `synchronous = FULL` makes each commit
/// durable before it is acknowledged, so an acknowledged write survives
/// even a power cut, not just a crash of the process.
const CONNECTION_PRAGMAS: &str = "
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = 5000;
    PRAGMA synchronous = FULL;
";

const READER_POOL_SIZE: usize = 4;

pub struct SqliteStore {
    writer: writer::Writer,
    readers: Pool,
    _checkpoints: checkpoint::Checkpointer,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating database directory {}", dir.display()))?;
        }
        let writer_path = path.to_owned();
        let conn = tokio::task::spawn_blocking(move || open_writer(&writer_path))
            .await
            .context("opening the SQLite writer")?
            .with_context(|| format!("opening SQLite database {}", path.display()))?;
        let writer = writer::Writer::start(conn).context("starting the SQLite writer")?;
        let readers = build_pool(path, READER_POOL_SIZE)?;
        let checkpoints =
            checkpoint::Checkpointer::start(path).context("starting SQLite checkpoints")?;
        Ok(SqliteStore {
            writer,
            readers,
            _checkpoints: checkpoints,
        })
    }

    /// Runs `f` on the single writer connection, in the next group commit;
    /// returns once that group is durable. `f` runs inside a transaction:
    /// it takes `conn.savepoint()` where it needs several statements to
    /// stand or fall together. `operation` names it in metrics.
    async fn write<T, F>(&self, operation: &'static str, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut Connection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let _timer = StoreTimer::start(operation);
        self.writer.write(f).await
    }

    /// Runs `f` on a reader connection, off the async runtime.
    async fn read<T, F>(&self, operation: &'static str, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut Connection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let _timer = StoreTimer::start(operation);
        let conn = self.readers.get().await.map_err(AppError::internal)?;
        conn.interact(f)
            .await
            .map_err(|error| AppError::internal(anyhow::anyhow!("SQLite reader: {error}")))?
    }
}

/// Opens the writer connection: pragmas, WAL, migrations. Blocking.
fn open_writer(path: &Path) -> anyhow::Result<Connection> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch(CONNECTION_PRAGMAS)?;
    // WAL is a property of the database file, set once by the writer.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "wal_autocheckpoint", checkpoint::BACKSTOP_PAGES)?;
    Migrations::from_slice(MIGRATIONS).to_latest(&mut conn)?;
    Ok(conn)
}

fn build_pool(path: &Path, size: usize) -> anyhow::Result<Pool> {
    let mut config = PoolConfig::new(path);
    config.pool = Some(deadpool_sqlite::PoolConfig::new(size));
    config
        .builder(Runtime::Tokio1)
        .context("configuring SQLite pool")?
        .post_create(Hook::async_fn(|conn, _| {
            Box::pin(async move {
                conn.interact(|conn| conn.execute_batch(CONNECTION_PRAGMAS))
                    .await
                    .map_err(|error| HookError::message(error.to_string()))?
                    .map_err(HookError::Backend)
            })
        }))
        .build()
        .context("building SQLite pool")
}

#[async_trait]
impl Store for SqliteStore {
    fn engine(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> AppResult<()> {
        self.read("ping", |conn| {
            Ok(conn.query_row("SELECT 1", [], |_| Ok(()))?)
        })
        .await
    }
}

/// Unix milliseconds, the storage format of every timestamp.
fn to_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

fn from_millis(millis: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(millis)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Whether `error` is a UNIQUE violation, and on which `table.column`.
fn unique_violation(error: &rusqlite::Error) -> Option<&str> {
    match error {
        rusqlite::Error::SqliteFailure(code, Some(message))
            if code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE =>
        {
            message.strip_prefix("UNIQUE constraint failed: ")
        }
        _ => None,
    }
}
