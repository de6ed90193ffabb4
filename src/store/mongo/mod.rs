//! The MongoDB engine, selected by `DATABASE_URL=mongodb://…` (or `mongodb+srv://`).
//!
//! One collection per SQLite table (same names, see `indexes.rs`), one
//! document per row, so the two engines read alike and a transfer maps
//! table to collection. Writes that touch several documents — above all
//! every message change, which takes the conversation's next seq with
//! `findOneAndUpdate $inc` — run in a multi-document transaction through
//! the driver's `and_run`, which retries the whole transaction on
//! `TransientTransactionError` and the commit on
//! `UnknownTransactionCommitResult`. Two changes in one conversation both
//! write its counter, so one of them hits a write conflict and is retried
//! after the other commits: seqs have no gaps and no duplicates.
//!
//! Transactions need a replica set or a sharded cluster; a single-node
//! replica set is enough (`mongod --replSet rs0`, then `rs.initiate()`).
//! A standalone server is refused at start with that advice.

/// Inside a transaction body: the value of an `AppResult`, or abort the
/// transaction and return its error (see [`reject`]).
macro_rules! or_reject {
    ($tx:expr, $result:expr) => {
        match $result {
            Ok(value) => value,
            Err(error) => return $crate::store::mongo::reject($tx, error).await,
        }
    };
}

mod accounts;
mod attachments;
mod codec;
mod conversations;
mod device_keys;
mod errors;
mod event_log;
mod friends;
mod indexes;
mod membership;
mod messages;
mod options;
mod search;
mod sessions;
mod transfer;
mod users;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use async_trait::async_trait;
use futures_util::TryStreamExt as _;
use futures_util::future::BoxFuture;
use mongodb::bson::{Document, doc};
use mongodb::error::ErrorKind;
use mongodb::options::{ReadConcern, TransactionOptions, WriteConcern};
use mongodb::{Client, ClientSession, Collection, Database};

use super::Store;
use crate::error::{AppError, AppResult};
use crate::telemetry::StoreTimer;

/// How long `/status` waits for a ping. Server selection is bounded by
/// `serverSelectionTimeoutMS` already, but a connection to a host that
/// stopped answering (no reset) could otherwise wait on the socket.
const PING_DEADLINE: Duration = Duration::from_secs(5);

pub struct MongoStore {
    client: Client,
    db: Database,
}

/// Connects to the MongoDB of `uri`, checks it can run transactions, and
/// creates the indexes. The hook the contract tests use.
pub async fn connect(uri: &str) -> anyhow::Result<Arc<dyn Store>> {
    Ok(Arc::new(MongoStore::connect(uri).await?))
}

/// Drops the database `uri` names (test clean-up).
pub async fn drop_database(uri: &str) -> anyhow::Result<()> {
    let target = options::parse(uri).await?;
    let client = Client::with_options(target.options)?;
    client
        .database(&target.database)
        .drop()
        .await
        .with_context(|| format!("dropping MongoDB database {}", target.database))?;
    Ok(())
}

/// What kind of deployment answered, from its `hello` reply.
#[derive(Debug, PartialEq, Eq)]
enum Deployment {
    ReplicaSet,
    Sharded,
    Standalone,
}

impl Deployment {
    fn from_hello(hello: &Document) -> Deployment {
        if hello.get_str("setName").is_ok() {
            Deployment::ReplicaSet
        } else if hello.get_str("msg") == Ok("isdbgrid") {
            Deployment::Sharded
        } else {
            Deployment::Standalone
        }
    }
}

impl MongoStore {
    /// Connects, pings, refuses a standalone server, creates the indexes.
    /// Errors are one line naming `DATABASE_URL` and the hosts (never the
    /// URI itself, which may carry a password).
    pub async fn connect(uri: &str) -> anyhow::Result<Self> {
        let target = options::parse(uri).await?;
        let hosts = target.hosts();
        let database = target.database.clone();
        let selection_timeout = target
            .options
            .server_selection_timeout
            .unwrap_or(options::DEFAULT_SERVER_SELECTION_TIMEOUT);
        let client = Client::with_options(target.options)
            .map_err(|error| anyhow::anyhow!("DATABASE_URL: {}", error.kind))?;
        let db = client.database(&database);
        let hello = db.run_command(doc! { "hello": 1 }).await.map_err(|error| {
            tracing::warn!(error = %error, "MongoDB did not answer");
            // The driver's text lists the whole topology; the reason the
            // operator reads is one short line (the log above has the rest).
            let reason = match &*error.kind {
                ErrorKind::ServerSelection { .. } => {
                    format!("no server answered within {selection_timeout:?}")
                }
                other => other.to_string(),
            };
            anyhow::anyhow!("DATABASE_URL: cannot reach MongoDB at {hosts}: {reason}")
        })?;
        if Deployment::from_hello(&hello) == Deployment::Standalone {
            anyhow::bail!(
                "DATABASE_URL: MongoDB at {hosts} is a standalone server; RealTalk needs a \
                 replica set for transactions (a single node is enough: start mongod with \
                 --replSet rs0, run rs.initiate(), add ?replicaSet=rs0)"
            );
        }
        indexes::ensure(&db).await.map_err(|error| {
            anyhow::anyhow!(
                "DATABASE_URL: creating indexes on MongoDB at {hosts}: {}",
                error.kind
            )
        })?;
        tracing::info!(hosts = %hosts, database = %database, "MongoDB store ready");
        Ok(MongoStore { client, db })
    }

    fn collection(&self, name: &str) -> Collection<Document> {
        coll(&self.db, name)
    }

    /// Runs `body` in a transaction, retried as the driver recommends.
    ///
    /// `body` may run several times, so it must not consume its inputs:
    /// they live in `context`, which it borrows on each attempt. It returns
    /// `Ok(Err(_))` for a domain error, after aborting through [`reject`]
    /// when what it wrote must not be committed; driver errors go out as
    /// `Err` so the retry logic sees their labels.
    async fn transaction<C, T, F>(
        &self,
        operation: &'static str,
        context: C,
        body: F,
    ) -> mongodb::error::Result<AppResult<T>>
    where
        C: Send,
        T: Send,
        F: for<'b> FnMut(
                &'b mut ClientSession,
                &'b mut C,
            ) -> BoxFuture<'b, mongodb::error::Result<AppResult<T>>>
            + Send,
    {
        let _timer = StoreTimer::start(operation);
        let mut session = self.client.start_session().await?;
        let options = TransactionOptions::builder()
            .read_concern(ReadConcern::snapshot())
            .write_concern(WriteConcern::majority())
            .build();
        session
            .start_transaction()
            .with_options(options)
            .and_run(context, body)
            .await
    }
}

/// A collection of plain documents (the codecs do the typing).
fn coll(db: &Database, name: &str) -> Collection<Document> {
    db.collection(name)
}

/// Aborts the transaction and returns `error`: nothing written is kept.
async fn reject<T>(
    session: &mut ClientSession,
    error: AppError,
) -> mongodb::error::Result<AppResult<T>> {
    session.abort_transaction().await?;
    Ok(Err(error))
}

/// Collects a cursor's documents through `decode`.
async fn collect<T>(
    cursor: mongodb::Cursor<Document>,
    decode: fn(&Document) -> AppResult<T>,
) -> AppResult<Vec<T>> {
    let documents: Vec<Document> = cursor.try_collect().await?;
    documents.iter().map(decode).collect()
}

/// Collects a cursor opened in a session.
async fn collect_in(
    mut cursor: mongodb::SessionCursor<Document>,
    session: &mut ClientSession,
) -> mongodb::error::Result<Vec<Document>> {
    cursor.stream(session).try_collect().await
}

/// A `usize` limit as the `i64` the driver takes.
fn limit(value: usize) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[async_trait]
impl Store for MongoStore {
    fn engine(&self) -> &'static str {
        "mongodb"
    }

    async fn ping(&self) -> AppResult<()> {
        let _timer = StoreTimer::start("ping");
        match tokio::time::timeout(PING_DEADLINE, self.db.run_command(doc! { "ping": 1 })).await {
            Ok(answer) => answer.map(|_| ()).map_err(AppError::from),
            Err(_) => Err(AppError::internal(anyhow::anyhow!(
                "MongoDB did not answer a ping within {} s",
                PING_DEADLINE.as_secs()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_tells_replica_sets_from_standalone_servers() {
        let member = doc! { "isWritablePrimary": true, "setName": "rs0", "ok": 1 };
        let router = doc! { "isWritablePrimary": true, "msg": "isdbgrid", "ok": 1 };
        let standalone = doc! { "isWritablePrimary": true, "ok": 1 };
        assert_eq!(Deployment::from_hello(&member), Deployment::ReplicaSet);
        assert_eq!(Deployment::from_hello(&router), Deployment::Sharded);
        assert_eq!(Deployment::from_hello(&standalone), Deployment::Standalone);
    }

    /// A store whose client points at a port nobody listens on (the
    /// driver connects lazily, so this needs no server).
    async fn dead_store(query: &str) -> MongoStore {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("free port")
            .port();
        let target = options::parse(&format!("mongodb://127.0.0.1:{port}/x{query}"))
            .await
            .expect("parses");
        let client = Client::with_options(target.options).expect("client");
        MongoStore {
            db: client.database(&target.database),
            client,
        }
    }

    #[tokio::test]
    async fn a_ping_against_a_dead_server_fails_within_seconds() {
        for (query, bound) in [("?serverSelectionTimeoutMS=300", 3), ("", 8)] {
            let store = dead_store(query).await;
            let started = std::time::Instant::now();
            let error = store.ping().await.expect_err("nobody answers");
            assert!(
                started.elapsed() < Duration::from_secs(bound),
                "{query:?}: took {:?}",
                started.elapsed()
            );
            assert_eq!(error.kind, crate::error::ErrorKind::Internal);
            assert!(error.source.is_some(), "the cause is kept for the log");
        }
    }

    #[tokio::test]
    async fn reads_and_transactions_against_a_dead_server_are_internal_errors() {
        use crate::store::{SessionStore as _, UserStore as _};
        let store = dead_store("?serverSelectionTimeoutMS=200").await;
        let read = store.user_by_id("u").await.expect_err("no server");
        assert_eq!(read.kind, crate::error::ErrorKind::Internal);
        let now = chrono::Utc::now();
        let session = crate::store::NewSession {
            id: "s".into(),
            user_id: "u".into(),
            refresh_token_hash: "h".into(),
            created_at: now,
            expires_at: now,
        };
        let write = store.create_session(session).await.expect_err("no server");
        assert_eq!(write.kind, crate::error::ErrorKind::Internal);
    }

    #[test]
    fn limits_convert_without_overflow() {
        assert_eq!(limit(50), 50);
        assert_eq!(limit(usize::MAX), i64::MAX);
    }
}
