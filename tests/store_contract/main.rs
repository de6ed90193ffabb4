//! The store contract: every promise the storage traits document, tested
//! once against `Arc<dyn Store>` and run against every engine.
//!
//! SQLite (a fresh temporary file per test) always runs. MongoDB runs when
//! `MONGODB_URI` is set, each test in its own database `rt_test_<id>` that
//! is dropped afterwards, pass or fail. Without `MONGODB_URI` one loud line
//! says MongoDB was not exercised.

mod fixtures;
mod sample;

mod accounts;
mod attachments;
mod conversations;
mod encryption;
mod friends;
mod members;
mod message_changes;
mod messages;
mod search;
mod sessions;
mod transfer;
mod users;

use std::future::Future;
use std::io::Write as _;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Once};

use futures_util::FutureExt as _;
use realtalk::store::Store;
use realtalk::store::sqlite::SqliteStore;

/// Defines a test that runs `body` (a `|store| async move { … }` closure)
/// against a fresh store of every available engine.
macro_rules! contract_test {
    ($name:ident, $body:expr) => {
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $name() {
            $crate::run_on_every_engine(stringify!($name), $body).await;
        }
    };
}
pub(crate) use contract_test;

/// An engine the suite can open a fresh, empty store of.
#[derive(Clone, Debug)]
pub enum Engine {
    Sqlite,
    /// The `MONGODB_URI` the per-test databases are derived from.
    Mongo(String),
}

impl Engine {
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Sqlite => "sqlite",
            Engine::Mongo(_) => "mongodb",
        }
    }
}

static MONGO_NOT_SET: Once = Once::new();

/// The engines to run on: SQLite, and MongoDB when `MONGODB_URI` is set.
pub fn engines() -> Vec<Engine> {
    let mut engines = vec![Engine::Sqlite];
    match std::env::var("MONGODB_URI") {
        Ok(uri) if !uri.trim().is_empty() => engines.push(Engine::Mongo(uri)),
        _ => MONGO_NOT_SET.call_once(|| {
            // Straight to stderr, not `eprintln!`: the test harness captures
            // that, and this line must be seen on every run.
            let _ = writeln!(
                std::io::stderr(),
                "!!! store contract: MongoDB engine NOT exercised: MONGODB_URI is not set \
                 (see README, Tests: run it against docker compose's mongo)"
            );
        }),
    }
    engines
}

/// A fresh store and what must be cleaned up after it.
pub struct TestStore {
    pub store: Arc<dyn Store>,
    pub engine: &'static str,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The directory of the SQLite file, removed on drop.
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    /// The URI of the test's own MongoDB database, dropped by `close`.
    Mongo(String),
}

impl TestStore {
    pub async fn open(engine: &Engine) -> TestStore {
        match engine {
            Engine::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let store = SqliteStore::open(&dir.path().join("contract.db"))
                    .await
                    .expect("SQLite store opens");
                TestStore {
                    store: Arc::new(store),
                    engine: engine.name(),
                    cleanup: Cleanup::Sqlite(dir),
                }
            }
            Engine::Mongo(base_uri) => {
                // The last hex digits of a UUIDv7 are random (the first are the clock).
                let unique = uuid::Uuid::now_v7().simple().to_string();
                let database = format!("rt_test_{}", &unique[unique.len() - 12..]);
                let uri = with_database(base_uri, &database);
                let store = realtalk::store::mongo::connect(&uri)
                    .await
                    .unwrap_or_else(|error| panic!("MongoDB store opens at {uri}: {error:#}"));
                TestStore {
                    store,
                    engine: engine.name(),
                    cleanup: Cleanup::Mongo(uri),
                }
            }
        }
    }

    /// Removes what the store left behind (the MongoDB test database).
    pub async fn close(self) {
        let TestStore { store, cleanup, .. } = self;
        drop(store);
        if let Cleanup::Mongo(uri) = cleanup
            && let Err(error) = realtalk::store::mongo::drop_database(&uri).await
        {
            let _ = writeln!(std::io::stderr(), "!!! could not drop {uri}: {error:#}");
        }
    }
}

/// `uri` with its database path replaced by `database`, query string kept.
pub fn with_database(uri: &str, database: &str) -> String {
    let (scheme, rest) = uri.split_once("://").unwrap_or(("mongodb", uri));
    let (before_query, query) = match rest.split_once('?') {
        Some((before, query)) => (before, Some(query)),
        None => (rest, None),
    };
    let hosts = before_query.split('/').next().unwrap_or_default();
    match query {
        Some(query) => format!("{scheme}://{hosts}/{database}?{query}"),
        None => format!("{scheme}://{hosts}/{database}"),
    }
}

/// Runs `test` once per engine on a fresh store, cleans each store up even
/// when the test panicked, and fails naming every engine that failed.
pub async fn run_on_every_engine<F, Fut>(name: &str, test: F)
where
    F: Fn(Arc<dyn Store>) -> Fut,
    Fut: Future<Output = ()>,
{
    let mut failures = Vec::new();
    for engine in engines() {
        let store = TestStore::open(&engine).await;
        let outcome = AssertUnwindSafe(test(store.store.clone()))
            .catch_unwind()
            .await;
        let engine_name = store.engine;
        store.close().await;
        if let Err(panic) = outcome {
            failures.push(format!("[{engine_name}] {}", panic_message(&panic)));
        }
    }
    assert!(
        failures.is_empty(),
        "store contract `{name}` failed:\n{}",
        failures.join("\n")
    );
}

pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = panic.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = panic.downcast_ref::<String>() {
        text.clone()
    } else {
        "(panic without a message)".to_owned()
    }
}

#[test]
fn test_databases_keep_the_hosts_and_query_of_mongodb_uri() {
    assert_eq!(
        with_database(
            "mongodb://localhost:27017/?replicaSet=rs0&directConnection=true",
            "rt_test_1"
        ),
        "mongodb://localhost:27017/rt_test_1?replicaSet=rs0&directConnection=true"
    );
    assert_eq!(
        with_database("mongodb://u:p@a:1,b:2/realtalk", "rt_test_1"),
        "mongodb://u:p@a:1,b:2/rt_test_1"
    );
    assert_eq!(
        with_database("mongodb+srv://cluster.example", "rt_test_1"),
        "mongodb+srv://cluster.example/rt_test_1"
    );
}
