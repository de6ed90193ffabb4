//! The in-process bus: the hub alone, and presence as connection counts.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use tokio::sync::{broadcast, watch};

use super::hub::Hub;
use super::{Bus, BusEvent, Topic};
use crate::error::AppResult;

pub struct LocalBus {
    hub: Hub,
    connections: Mutex<HashMap<String, usize>>,
    resync: watch::Sender<u64>,
}

impl Default for LocalBus {
    fn default() -> Self {
        LocalBus {
            hub: Hub::default(),
            connections: Mutex::new(HashMap::new()),
            resync: watch::channel(0).0,
        }
    }
}

#[async_trait]
impl Bus for LocalBus {
    fn engine(&self) -> &'static str {
        "local"
    }

    async fn publish(&self, event: BusEvent) {
        metrics::counter!("realtalk_bus_published_total", "kind" => event.kind()).increment(1);
        self.hub.dispatch(event);
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

    fn revocations(&self) -> u64 {
        self.hub.revocations()
    }

    async fn connection_opened(&self, user_id: &str) -> AppResult<bool> {
        let mut connections = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        let count = connections.entry(user_id.to_owned()).or_insert(0);
        *count += 1;
        Ok(*count == 1)
    }

    async fn connection_closed(&self, user_id: &str) -> AppResult<bool> {
        let mut connections = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        match connections.get_mut(user_id) {
            Some(count) if *count > 1 => {
                *count -= 1;
                Ok(false)
            }
            Some(_) => {
                connections.remove(user_id);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    async fn online_users(&self, user_ids: &[String]) -> AppResult<HashSet<String>> {
        let connections = self.connections.lock().unwrap_or_else(|p| p.into_inner());
        Ok(user_ids
            .iter()
            .filter(|id| connections.contains_key(*id))
            .cloned()
            .collect())
    }

    async fn ping(&self) -> AppResult<()> {
        Ok(())
    }
}
