//! The live-delivery contract: publish events to every node, subscribe to
//! topics on this node, and track who is online.
//!
//! Two engines: [`local::LocalBus`] (one process) and [`redis::RedisBus`]
//! (any number of nodes: one Redis subscriber connection per node, fan-out
//! in process through the [`hub::Hub`]).

pub mod event;
pub mod hub;
pub mod local;
pub mod redis;

use std::collections::HashSet;
use std::sync::Arc;

use async_trait::async_trait;
use tokio::sync::{broadcast, watch};

use crate::config::Config;
use crate::error::AppResult;

pub use event::{BusEvent, NotificationKind, Topic};

#[async_trait]
pub trait Bus: Send + Sync {
    /// `local` or `redis`, for logs and `/status`.
    fn engine(&self) -> &'static str;

    /// Delivers an event to its subscribers on every node, this one
    /// included. Local delivery never fails; a failure to reach other nodes
    /// is logged and made good by resync.
    async fn publish(&self, event: BusEvent);

    /// Delivers an event to this node's subscribers only.
    fn dispatch_local(&self, event: BusEvent);

    /// Events of one topic on this node.
    fn subscribe(&self, topic: Topic) -> broadcast::Receiver<Arc<BusEvent>>;

    /// Bumped whenever this node may have missed events from other nodes
    /// (the Redis subscription was re-established): streams that must not
    /// miss anything re-read the store when it changes.
    fn resync(&self) -> watch::Receiver<u64>;

    /// A count that moves whenever a `SessionsRevoked` event reaches this
    /// node (counted as it is dispatched, before any subscriber runs) or
    /// events may have been missed: caches of session validity compare it.
    fn revocations(&self) -> u64;

    /// This node holds one more connection of the user. `true` when the
    /// user was offline everywhere before.
    async fn connection_opened(&self, user_id: &str) -> AppResult<bool>;

    /// This node holds one connection fewer. `true` when the user is now
    /// offline everywhere.
    async fn connection_closed(&self, user_id: &str) -> AppResult<bool>;

    /// Which of these users have a connection open on any live node.
    async fn online_users(&self, user_ids: &[String]) -> AppResult<HashSet<String>>;

    /// A round trip to the bus's backing service, if any.
    async fn ping(&self) -> AppResult<()>;
}

/// Opens the engine the configuration selects.
pub async fn open(config: &Config) -> anyhow::Result<Arc<dyn Bus>> {
    match &config.redis_url {
        Some(url) => Ok(Arc::new(
            redis::RedisBus::connect(url, config.presence_ttl()).await?,
        )),
        None => Ok(Arc::new(local::LocalBus::default())),
    }
}
