//! The multi-node bus on Redis.
//!
//! - Events: every node publishes to one channel and holds exactly one
//!   subscriber connection to it; what arrives is fanned out in process by
//!   the hub. A node delivers its own events locally at once (so local
//!   delivery survives a Redis outage) and skips their echo from Redis.
//! - The subscriber reconnects with capped, jittered backoff; each time it
//!   is back it bumps `resync`, and message streams re-read the store, so
//!   events published while it was away are not lost.
//! - Presence: one sorted set per user, `realtalk:presence:{user}`, whose
//!   members are node ids scored with an expiry time. Nodes renew their
//!   entries by heartbeat; a node that dies simply stops renewing, and its
//!   users count as offline once the scores pass.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt as _;
use rand::Rng as _;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc, watch};
use uuid::Uuid;

use super::hub::Hub;
use super::{Bus, BusEvent, Topic};
use crate::error::{AppError, AppResult};

const CHANNEL: &str = "realtalk:events";
const SUBSCRIBER_PING: Duration = Duration::from_secs(5);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Events queued for Redis before new ones are dropped (message streams
/// recover dropped ones from the store on resync).
const OUTBOX_CAPACITY: usize = 10_000;

/// An event on the wire, with the node that sent it.
#[derive(Serialize, Deserialize)]
struct Envelope {
    origin: String,
    event: BusEvent,
}

pub struct RedisBus {
    node_id: String,
    commands: ConnectionManager,
    /// Serialised envelopes waiting for the publisher task, so a request
    /// never waits on Redis (and a Redis outage never slows one down).
    outbox: mpsc::Sender<String>,
    hub: Arc<Hub>,
    resync: watch::Sender<u64>,
    /// This node's connections per user.
    connections: Arc<Mutex<HashMap<String, usize>>>,
    presence_ttl: Duration,
}

fn presence_key(user_id: &str) -> String {
    format!("realtalk:presence:{user_id}")
}

fn now_millis() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl RedisBus {
    /// Connects (failing fast when Redis is unreachable) and starts the
    /// subscriber and heartbeat tasks.
    pub async fn connect(url: &str, presence_ttl: Duration) -> anyhow::Result<Self> {
        let client =
            redis::Client::open(url).map_err(|error| anyhow::anyhow!("REDIS_URL: {error}"))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_secs(2));
        let commands = client
            .get_connection_manager_with_config(config)
            .await
            .map_err(|error| anyhow::anyhow!("REDIS_URL: cannot reach Redis: {error}"))?;
        let (outbox, pending) = mpsc::channel(OUTBOX_CAPACITY);
        tokio::spawn(publish_forever(commands.clone(), pending));
        let bus = RedisBus {
            node_id: Uuid::now_v7().to_string(),
            commands,
            outbox,
            hub: Arc::new(Hub::default()),
            resync: watch::channel(0).0,
            connections: Arc::new(Mutex::new(HashMap::new())),
            presence_ttl,
        };
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        tokio::spawn(subscribe_forever(
            client,
            bus.node_id.clone(),
            bus.hub.clone(),
            bus.resync.clone(),
            ready_tx,
        ));
        // Start delivering only once the subscription is live.
        let _ = tokio::time::timeout(Duration::from_secs(5), ready_rx).await;
        tokio::spawn(scrub_stale_presence(bus.commands.clone()));
        tokio::spawn(heartbeat(
            bus.commands.clone(),
            bus.node_id.clone(),
            bus.connections.clone(),
            presence_ttl,
        ));
        tracing::info!(node_id = %bus.node_id, "Redis bus connected");
        Ok(bus)
    }

    fn local_count(&self, user_id: &str) -> usize {
        let connections = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        connections.get(user_id).copied().unwrap_or(0)
    }

    /// Users of `user_ids` with a live presence entry on any node.
    async fn live(&self, user_ids: &[String]) -> AppResult<Vec<bool>> {
        let now = now_millis();
        let mut pipe = redis::pipe();
        for user_id in user_ids {
            pipe.cmd("ZCOUNT")
                .arg(presence_key(user_id))
                .arg(now)
                .arg("+inf");
        }
        let counts: Vec<i64> = pipe
            .query_async(&mut self.commands.clone())
            .await
            .map_err(redis_error)?;
        Ok(counts.into_iter().map(|count| count > 0).collect())
    }
}

fn redis_error(error: redis::RedisError) -> AppError {
    AppError::internal(anyhow::anyhow!("redis: {error}"))
}

/// Sends queued envelopes to Redis in order.
async fn publish_forever(mut commands: ConnectionManager, mut pending: mpsc::Receiver<String>) {
    while let Some(payload) = pending.recv().await {
        let sent = redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(payload)
            .query_async::<i64>(&mut commands)
            .await;
        if let Err(error) = sent {
            metrics::counter!("realtalk_bus_publish_errors_total").increment(1);
            tracing::warn!(%error, "publish to Redis failed; other nodes resync when it is back");
        }
    }
}

/// Holds the one subscriber connection of this node, forever.
async fn subscribe_forever(
    client: redis::Client,
    node_id: String,
    hub: Arc<Hub>,
    resync: watch::Sender<u64>,
    ready: tokio::sync::oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut backoff = Duration::from_millis(100);
    loop {
        match subscribe_once(&client, &node_id, &hub, &resync, &mut ready, &mut backoff).await {
            Ok(()) => tracing::warn!("Redis subscription ended; reconnecting"),
            Err(error) => tracing::warn!(%error, "Redis subscription failed; reconnecting"),
        }
        metrics::counter!("realtalk_bus_redis_reconnects_total").increment(1);
        let jitter = rand::thread_rng().gen_range(0..=backoff.as_millis() as u64 / 2);
        tokio::time::sleep(backoff + Duration::from_millis(jitter)).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

async fn subscribe_once(
    client: &redis::Client,
    node_id: &str,
    hub: &Hub,
    resync: &watch::Sender<u64>,
    ready: &mut Option<tokio::sync::oneshot::Sender<()>>,
    backoff: &mut Duration,
) -> redis::RedisResult<()> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(CHANNEL).await?;
    *backoff = Duration::from_millis(100);
    let (mut sink, mut stream) = pubsub.split();
    match ready.take() {
        Some(ready) => {
            let _ = ready.send(());
        }
        // Back after an outage: events may have been missed.
        None => {
            resync.send_modify(|generation| *generation += 1);
            tracing::info!("Redis subscription restored; resyncing live streams");
        }
    }
    let mut ping = tokio::time::interval(SUBSCRIBER_PING);
    ping.tick().await;
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else { return Ok(()) };
                let envelope: Envelope = match serde_json::from_slice(message.get_payload_bytes()) {
                    Ok(envelope) => envelope,
                    Err(error) => {
                        tracing::warn!(%error, "undecodable bus message skipped");
                        continue;
                    }
                };
                if envelope.origin != node_id {
                    hub.dispatch(envelope.event);
                }
            }
            _ = ping.tick() => {
                // A half-open connection shows up as a ping that never returns.
                // Any reply will do: in subscribed mode Redis answers
                // `["pong", ""]`, not `PONG` (read as a string, that was an
                // error, and a reconnection and resync every interval).
                match tokio::time::timeout(SUBSCRIBER_PING, sink.ping::<redis::Value>()).await {
                    Ok(Ok(_)) => {}
                    Ok(Err(error)) => return Err(error),
                    Err(_) => return Ok(()),
                }
            }
        }
    }
}

/// At start, removes presence entries whose nodes stopped renewing them
/// (crashed nodes, this node's previous run), so sets do not grow forever.
async fn scrub_stale_presence(mut commands: ConnectionManager) {
    let mut cursor: u64 = 0;
    let mut scrubbed = 0usize;
    loop {
        let page: redis::RedisResult<(u64, Vec<String>)> = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg("realtalk:presence:*")
            .arg("COUNT")
            .arg(500)
            .query_async(&mut commands)
            .await;
        let Ok((next, keys)) = page else {
            tracing::warn!("presence scrub skipped: Redis scan failed");
            return;
        };
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.cmd("ZREMRANGEBYSCORE")
                .arg(key)
                .arg("-inf")
                .arg(now_millis())
                .ignore();
        }
        if !keys.is_empty() && pipe.query_async::<()>(&mut commands).await.is_ok() {
            scrubbed += keys.len();
        }
        if next == 0 {
            break;
        }
        cursor = next;
    }
    tracing::debug!(keys = scrubbed, "stale presence entries scrubbed");
}

/// Renews this node's presence entries so they outlive the TTL only while
/// the node is alive.
async fn heartbeat(
    mut commands: ConnectionManager,
    node_id: String,
    connections: Arc<Mutex<HashMap<String, usize>>>,
    ttl: Duration,
) {
    let mut ticker = tokio::time::interval(ttl / 3);
    loop {
        ticker.tick().await;
        let users: Vec<String> = {
            let connections = connections.lock().unwrap_or_else(|p| p.into_inner());
            connections.keys().cloned().collect()
        };
        if users.is_empty() {
            continue;
        }
        let expires = now_millis() + ttl.as_millis() as i64;
        let mut pipe = redis::pipe();
        for user_id in &users {
            let key = presence_key(user_id);
            pipe.cmd("ZADD")
                .arg(&key)
                .arg(expires)
                .arg(&node_id)
                .ignore();
            pipe.cmd("PEXPIRE")
                .arg(&key)
                .arg(ttl.as_millis() as i64 * 2)
                .ignore();
        }
        if let Err(error) = pipe.query_async::<()>(&mut commands).await {
            tracing::warn!(%error, "presence heartbeat failed");
        }
    }
}

#[async_trait]
impl Bus for RedisBus {
    fn engine(&self) -> &'static str {
        "redis"
    }

    async fn publish(&self, event: BusEvent) {
        metrics::counter!("realtalk_bus_published_total", "kind" => event.kind()).increment(1);
        let envelope = Envelope {
            origin: self.node_id.clone(),
            event,
        };
        let payload = match serde_json::to_string(&envelope) {
            Ok(payload) => payload,
            Err(error) => {
                tracing::error!(%error, "bus event not serialisable");
                self.hub.dispatch(envelope.event);
                return;
            }
        };
        self.hub.dispatch(envelope.event);
        if self.outbox.try_send(payload).is_err() {
            metrics::counter!("realtalk_bus_publish_errors_total").increment(1);
            tracing::warn!("Redis outbox full; event dropped for other nodes (they resync)");
        }
    }

    fn dispatch_local(&self, event: BusEvent) {
        self.hub.dispatch(event);
    }

    fn subscribe(&self, topic: Topic) -> broadcast::Receiver<Arc<BusEvent>> {
        self.hub.subscribe(topic)
    }

    fn resync(&self) -> watch::Receiver<u64> {
        self.resync.subscribe()
    }

    /// Revocations heard plus resubscriptions (both only grow, so the sum
    /// moves when either does).
    fn revocations(&self) -> u64 {
        self.hub.revocations() + *self.resync.borrow()
    }

    async fn connection_opened(&self, user_id: &str) -> AppResult<bool> {
        let first_here = {
            let mut connections = self.connections.lock().unwrap_or_else(|p| p.into_inner());
            let count = connections.entry(user_id.to_owned()).or_insert(0);
            *count += 1;
            *count == 1
        };
        if !first_here {
            return Ok(false);
        }
        let was_online = self
            .live(&[user_id.to_owned()])
            .await?
            .first()
            .copied()
            .unwrap_or(false);
        let key = presence_key(user_id);
        let expires = now_millis() + self.presence_ttl.as_millis() as i64;
        redis::pipe()
            .cmd("ZADD")
            .arg(&key)
            .arg(expires)
            .arg(&self.node_id)
            .ignore()
            .cmd("PEXPIRE")
            .arg(&key)
            .arg(self.presence_ttl.as_millis() as i64 * 2)
            .ignore()
            .cmd("ZREMRANGEBYSCORE")
            .arg(&key)
            .arg("-inf")
            .arg(now_millis())
            .ignore()
            .query_async::<()>(&mut self.commands.clone())
            .await
            .map_err(redis_error)?;
        Ok(!was_online)
    }

    async fn connection_closed(&self, user_id: &str) -> AppResult<bool> {
        let last_here = {
            let mut connections = self.connections.lock().unwrap_or_else(|p| p.into_inner());
            match connections.get_mut(user_id) {
                Some(count) if *count > 1 => {
                    *count -= 1;
                    false
                }
                Some(_) => {
                    connections.remove(user_id);
                    true
                }
                None => false,
            }
        };
        if !last_here {
            return Ok(false);
        }
        redis::cmd("ZREM")
            .arg(presence_key(user_id))
            .arg(&self.node_id)
            .query_async::<i64>(&mut self.commands.clone())
            .await
            .map_err(redis_error)?;
        let online = self.live(&[user_id.to_owned()]).await?;
        Ok(!online.first().copied().unwrap_or(false))
    }

    async fn online_users(&self, user_ids: &[String]) -> AppResult<HashSet<String>> {
        let mut online: HashSet<String> = user_ids
            .iter()
            .filter(|id| self.local_count(id) > 0)
            .cloned()
            .collect();
        let remote: Vec<String> = user_ids
            .iter()
            .filter(|id| !online.contains(*id))
            .cloned()
            .collect();
        if remote.is_empty() {
            return Ok(online);
        }
        for (user_id, live) in remote.iter().zip(self.live(&remote).await?) {
            if live {
                online.insert(user_id.clone());
            }
        }
        Ok(online)
    }

    async fn ping(&self) -> AppResult<()> {
        redis::cmd("PING")
            .query_async::<String>(&mut self.commands.clone())
            .await
            .map(|_| ())
            .map_err(redis_error)
    }
}
