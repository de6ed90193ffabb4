//! In-process fan-out: one broadcast channel per live topic. A node
//! receives each event once (from its own publishes, or from Redis) and the
//! hub hands it to exactly the subscriptions of its topics.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;

use super::event::{BusEvent, Topic};

/// Events a slow subscriber may fall behind before it is told it lagged
/// (message streams then catch up from the store).
const TOPIC_CAPACITY: usize = 256;

#[derive(Default)]
pub struct Hub {
    topics: Mutex<HashMap<Topic, broadcast::Sender<Arc<BusEvent>>>>,
    /// `SessionsRevoked` events dispatched so far.
    revocations: AtomicU64,
}

impl Hub {
    pub fn subscribe(&self, topic: Topic) -> broadcast::Receiver<Arc<BusEvent>> {
        let mut topics = self
            .topics
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        topics
            .entry(topic)
            .or_insert_with(|| broadcast::channel(TOPIC_CAPACITY).0)
            .subscribe()
    }

    /// `SessionsRevoked` events dispatched on this node so far.
    pub fn revocations(&self) -> u64 {
        self.revocations.load(Ordering::SeqCst)
    }

    /// Delivers to every subscriber of the event's topics; topics nobody
    /// listens to any more are dropped.
    pub fn dispatch(&self, event: BusEvent) {
        if matches!(event, BusEvent::SessionsRevoked { .. }) {
            self.revocations.fetch_add(1, Ordering::SeqCst);
        }
        let event = Arc::new(event);
        let mut topics = self
            .topics
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        for topic in event.topics() {
            if let Some(sender) = topics.get(&topic)
                && sender.send(event.clone()).is_err()
            {
                topics.remove(&topic);
            }
        }
        metrics::counter!("realtalk_bus_received_total", "kind" => event.kind()).increment(1);
    }
}
