//! The storage contract: one trait per aggregate, gathered under [`Store`].
//!
//! Services depend on `Arc<dyn Store>` only. Each engine (`sqlite/` now,
//! `mongo/` later) implements every trait, with methods in the same order as
//! the trait declares them (create, read, update, delete), so engines can be
//! read side by side. The same contract tests run against every engine.

pub mod accounts;
pub mod attachments;
pub mod conversations;
pub mod device_keys;
pub mod friends;
pub mod messages;
pub mod model;
pub mod mongo;
pub mod sessions;
pub mod sqlite;
pub mod transfer;
pub mod users;

use std::sync::Arc;

use async_trait::async_trait;

use crate::config::{Config, DatabaseTarget};
use crate::error::AppResult;

pub use accounts::AccountStore;
pub use attachments::AttachmentStore;
pub use conversations::ConversationStore;
pub use device_keys::DeviceKeyStore;
pub use friends::FriendStore;
pub use messages::MessageStore;
pub use model::*;
pub use sessions::SessionStore;
pub use transfer::TransferStore;
pub use users::UserStore;

/// Everything RealTalk persists.
#[async_trait]
pub trait Store:
    UserStore
    + SessionStore
    + FriendStore
    + ConversationStore
    + MessageStore
    + AttachmentStore
    + AccountStore
    + DeviceKeyStore
    + TransferStore
    + Send
    + Sync
{
    /// A short engine name for logs and `/status` (`sqlite`, `mongodb`).
    fn engine(&self) -> &'static str;

    /// A cheap round trip proving the store answers.
    async fn ping(&self) -> AppResult<()>;
}

/// Opens the engine the configuration selects, applying migrations.
pub async fn open(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    match config.database_target()? {
        DatabaseTarget::Sqlite(path) => Ok(Arc::new(sqlite::SqliteStore::open(&path).await?)),
        DatabaseTarget::Mongo(url) => mongo::connect(&url).await,
    }
}

/// Opens a store by URL, `sqlite://PATH` or `mongodb://…` (as `realtalk
/// migrate` names its ends), applying migrations.
pub async fn open_url(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if url.starts_with("mongodb://") || url.starts_with("mongodb+srv://") {
        return mongo::connect(url).await;
    }
    match url.strip_prefix("sqlite://") {
        Some(path) if !path.is_empty() => Ok(Arc::new(
            sqlite::SqliteStore::open(std::path::Path::new(path)).await?,
        )),
        _ => anyhow::bail!("expected sqlite://PATH or mongodb://…, got {url:?}"),
    }
}
