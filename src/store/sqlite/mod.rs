//! The embedded engine: SQLite in WAL mode, one file under `DATA_DIR`.
//!
//! Writes go through a pool of exactly one connection, so they are
//! serialised (which is what SQLite does anyway) without ever waiting on
//! `SQLITE_BUSY`; reads use a small pool of their own and run concurrently
//! thanks to WAL. Every statement runs on tokio's blocking pool via
//! deadpool's `interact`, so the async runtime never blocks on disk.

mod accounts;
mod attachments;
mod codec;
mod conversations;
mod device_keys;
mod friends;
mod messages;
mod sessions;
mod transfer;
mod users;

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
    writer: Pool,
    readers: Pool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and migrates it.
    pub async fn open(path: &Path) -> anyhow::Result<Self> {
        if let Some(dir) = path.parent().filter(|dir| !dir.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating database directory {}", dir.display()))?;
        }
        let writer = build_pool(path, 1)?;
        let readers = build_pool(path, READER_POOL_SIZE)?;
        let store = SqliteStore { writer, readers };
        store
            .write("migrate", |conn| {
                // WAL is a property of the database file, set once by the writer.
                conn.pragma_update(None, "journal_mode", "WAL")?;
                Migrations::from_slice(MIGRATIONS)
                    .to_latest(conn)
                    .map_err(AppError::internal)?;
                Ok(())
            })
            .await
            .map_err(|error| {
                anyhow::anyhow!(
                    "opening SQLite database {}: {:?}",
                    path.display(),
                    error
                        .source
                        .unwrap_or_else(|| anyhow::anyhow!(error.message))
                )
            })?;
        Ok(store)
    }

    /// Runs `f` on the single writer connection, off the async runtime.
    /// `operation` names it in metrics.
    async fn write<T, F>(&self, operation: &'static str, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut Connection) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let _timer = StoreTimer::start(operation);
        let conn = self.writer.get().await.map_err(AppError::internal)?;
        conn.interact(f)
            .await
            .map_err(|error| AppError::internal(anyhow::anyhow!("SQLite writer: {error}")))?
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
