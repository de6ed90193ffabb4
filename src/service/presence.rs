//! Presence: a user is online while they have a connection open on any
//! node, and offline a short grace period after the last one closes (so a
//! page reload does not flicker them offline), with `lastSeenAt` stored.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;

use crate::bus::{Bus, BusEvent, Topic};
use crate::error::AppResult;
use crate::store::Store;

pub struct PresenceService {
    bus: Arc<dyn Bus>,
    store: Arc<dyn Store>,
    grace: Duration,
    /// Users this node has seen come online, whose going offline it must
    /// notice even if the node holding them dies without saying so.
    watched: Mutex<HashSet<String>>,
}

impl PresenceService {
    pub fn new(bus: Arc<dyn Bus>, store: Arc<dyn Store>, grace: Duration) -> Self {
        PresenceService {
            bus,
            store,
            grace,
            watched: Mutex::new(HashSet::new()),
        }
    }

    /// A connection of the user was accepted on this node.
    pub async fn connected(&self, user_id: &str) {
        match self.bus.connection_opened(user_id).await {
            Ok(true) => {
                self.bus
                    .publish(BusEvent::Presence {
                        user_id: user_id.to_owned(),
                        online: true,
                        last_seen_at: None,
                    })
                    .await;
            }
            Ok(false) => {}
            Err(error) => tracing::warn!(cause = ?error.source, "presence not recorded"),
        }
    }

    /// A connection of the user closed; after the grace period the user
    /// goes offline unless another connection is open by then.
    pub fn disconnected(self: &Arc<Self>, user_id: String) {
        let presence = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(presence.grace).await;
            match presence.bus.connection_closed(&user_id).await {
                Ok(true) => presence.went_offline(&user_id, true).await,
                Ok(false) => {}
                Err(error) => tracing::warn!(cause = ?error.source, "presence not updated"),
            }
        });
    }

    async fn went_offline(&self, user_id: &str, publish: bool) {
        let now = Utc::now();
        if let Err(error) = self.store.touch_last_seen(user_id, now).await {
            tracing::warn!(cause = ?error.source, "last seen not stored");
        }
        let event = BusEvent::Presence {
            user_id: user_id.to_owned(),
            online: false,
            last_seen_at: Some(now),
        };
        if publish {
            self.bus.publish(event).await;
        } else {
            self.bus.dispatch_local(event);
        }
    }

    /// Which of these users are online.
    pub async fn online(&self, user_ids: &[String]) -> AppResult<HashSet<String>> {
        self.bus.online_users(user_ids).await
    }

    /// Notices users whose node died (their presence entries expired
    /// without an offline event) and tells this node's subscribers.
    pub async fn sweep_forever(self: Arc<Self>, every: Duration, shutdown: CancellationToken) {
        let mut changes = self.bus.subscribe(Topic::Presence);
        let mut ticker = tokio::time::interval(every);
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                change = changes.recv() => match change {
                    Ok(event) => {
                        if let BusEvent::Presence { user_id, online, .. } = event.as_ref() {
                            let mut watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
                            if *online {
                                watched.insert(user_id.clone());
                            } else {
                                watched.remove(user_id);
                            }
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
                _ = ticker.tick() => self.sweep().await,
            }
        }
    }

    async fn sweep(&self) {
        let watched: Vec<String> = {
            let watched = self.watched.lock().unwrap_or_else(|p| p.into_inner());
            watched.iter().cloned().collect()
        };
        if watched.is_empty() {
            return;
        }
        let Ok(online) = self.bus.online_users(&watched).await else {
            return;
        };
        for user_id in watched.iter().filter(|id| !online.contains(*id)) {
            tracing::info!(user_id = %user_id, "presence expired (node gone); marking offline");
            self.watched
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .remove(user_id);
            self.went_offline(user_id, false).await;
        }
    }
}
