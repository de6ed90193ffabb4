//! Live streams behind the subscriptions: message events (replayed from the
//! stored log, then live, gap-free and in seq order), typing, presence and
//! notifications.
//!
//! How message streams stay exact: each stream remembers the last seq it
//! delivered per conversation. A live event with the next seq is delivered;
//! an older one is a duplicate and dropped; a newer one means something was
//! missed (a lagging receiver, a Redis outage), and the stream re-reads the
//! store's event log from its last seq. The store is the source of truth;
//! the bus only makes it fast.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use async_stream::stream;
use chrono::{DateTime, Utc};
use futures_util::StreamExt as _;
use futures_util::stream::BoxStream;
use tokio::sync::broadcast;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::Instant;
use tokio_stream::StreamMap;
use tokio_stream::wrappers::BroadcastStream;

use super::auth::Viewer;
use super::conversations::ConversationService;
use crate::bus::{Bus, BusEvent, NotificationKind, Topic};
use crate::error::AppResult;
use crate::store::{MessageEventRecord, MessageRecord, Store};

/// Events read from the store per round trip while catching up.
const CATCH_UP_BATCH: usize = 200;
/// A `typing: true` without renewal ends after this long.
pub const TYPING_TTL: Duration = Duration::from_secs(6);

/// One change to a message, as a subscriber receives it.
#[derive(Debug, Clone)]
pub struct LiveMessageEvent {
    /// Shared with the bus event for live deliveries: a subscriber that
    /// only forwards a shared render never copies the message.
    pub event: Arc<MessageEventRecord>,
    pub message: Arc<MessageRecord>,
    /// The bus event it came from, for live deliveries (`None` for replays
    /// from the store, whose message is as it is now, not as it was then).
    /// Every subscriber on this node receives the same `Arc`, so its
    /// address identifies the event when renders are shared.
    pub origin: Option<Arc<BusEvent>>,
}

#[derive(Debug, Clone)]
pub struct TypingChange {
    pub conversation_id: String,
    pub user_id: String,
    pub typing: bool,
}

#[derive(Debug, Clone)]
pub struct ReadMarkerChange {
    pub conversation_id: String,
    pub user_id: String,
    pub last_read_seq: i64,
}

#[derive(Debug, Clone)]
pub struct PresenceChange {
    pub user_id: String,
    pub online: bool,
    pub last_seen_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NotificationRecord {
    pub kind: NotificationKind,
    pub friend_request_id: Option<String>,
    pub conversation_id: Option<String>,
    pub user_id: Option<String>,
    pub at: DateTime<Utc>,
}

pub struct LiveService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    conversations: Arc<ConversationService>,
}

/// What woke a stream up.
enum Wake {
    Bus(Result<Arc<BusEvent>, RecvError>),
    Resync(bool),
    Deadline,
}

impl LiveService {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        conversations: Arc<ConversationService>,
    ) -> Self {
        LiveService {
            store,
            bus,
            conversations,
        }
    }

    /// Message events of one conversation (replaying the log after
    /// `after_seq` first), or of all the viewer's conversations.
    pub async fn message_events(
        &self,
        viewer: &Viewer,
        conversation_id: Option<String>,
        after_seq: Option<i64>,
    ) -> AppResult<BoxStream<'static, LiveMessageEvent>> {
        match conversation_id {
            Some(id) => self.one_conversation(viewer, id, after_seq).await,
            None => self.all_conversations(viewer).await,
        }
    }

    async fn one_conversation(
        &self,
        viewer: &Viewer,
        conversation_id: String,
        after_seq: Option<i64>,
    ) -> AppResult<BoxStream<'static, LiveMessageEvent>> {
        // Subscribe before reading where we stand, so nothing falls between.
        let mut live = self
            .bus
            .subscribe(Topic::Conversation(conversation_id.clone()));
        let mut resync = self.bus.resync();
        let (conversation, _) = self
            .conversations
            .membership(viewer, &conversation_id)
            .await?;
        let store = self.store.clone();
        let user_id = viewer.user_id.clone();
        let mut last = after_seq.unwrap_or(conversation.last_seq).max(0);
        let mut catch_up = after_seq.is_some();
        Ok(Box::pin(stream! {
            loop {
                if catch_up {
                    catch_up = false;
                    if !matches!(store.member(&conversation_id, &user_id).await, Ok(Some(_))) {
                        break;
                    }
                    let mut replay = events_since(store.clone(), conversation_id.clone(), last);
                    while let Some(event) = replay.next().await {
                        last = event.event.seq;
                        yield event;
                    }
                }
                let wake = tokio::select! {
                    received = live.recv() => Wake::Bus(received),
                    changed = resync.changed() => Wake::Resync(changed.is_ok()),
                };
                match wake {
                    Wake::Bus(Ok(received)) => match received.as_ref() {
                        BusEvent::Message { event, message } => {
                            if event.seq == last + 1 {
                                last = event.seq;
                                record_delivery(event);
                                yield LiveMessageEvent { event: event.clone(), message: message.clone(), origin: Some(received.clone()) };
                            } else if event.seq > last {
                                catch_up = true;
                            }
                        }
                        BusEvent::Membership { user_id: who, joined: false, .. } if *who == user_id => break,
                        _ => {}
                    },
                    Wake::Bus(Err(RecvError::Lagged(_))) | Wake::Resync(true) => catch_up = true,
                    Wake::Bus(Err(RecvError::Closed)) | Wake::Resync(false) | Wake::Deadline => break,
                }
            }
        }))
    }

    async fn all_conversations(
        &self,
        viewer: &Viewer,
    ) -> AppResult<BoxStream<'static, LiveMessageEvent>> {
        let mut membership = self.bus.subscribe(Topic::User(viewer.user_id.clone()));
        let mut resync = self.bus.resync();
        let mut topics = StreamMap::new();
        let mut last: HashMap<String, i64> = HashMap::new();
        for conversation in self
            .store
            .conversations_of_user(&viewer.user_id, None, usize::MAX >> 1)
            .await?
        {
            topics.insert(
                conversation.id.clone(),
                BroadcastStream::new(
                    self.bus
                        .subscribe(Topic::Conversation(conversation.id.clone())),
                ),
            );
            last.insert(conversation.id, conversation.last_seq);
        }
        let store = self.store.clone();
        let bus = self.bus.clone();
        let user_id = viewer.user_id.clone();
        Ok(Box::pin(stream! {
            let mut behind: Vec<String> = Vec::new();
            loop {
                for conversation_id in std::mem::take(&mut behind) {
                    let Some(from) = last.get(&conversation_id).copied() else { continue };
                    if !matches!(store.member(&conversation_id, &user_id).await, Ok(Some(_))) {
                        topics.remove(&conversation_id);
                        last.remove(&conversation_id);
                        continue;
                    }
                    let mut replay = events_since(store.clone(), conversation_id.clone(), from);
                    while let Some(event) = replay.next().await {
                        last.insert(conversation_id.clone(), event.event.seq);
                        yield event;
                    }
                }
                enum Next {
                    Membership(Result<Arc<BusEvent>, RecvError>),
                    Topic(Option<(String, Result<Arc<BusEvent>, tokio_stream::wrappers::errors::BroadcastStreamRecvError>)>),
                    Resync(bool),
                }
                let next = tokio::select! {
                    received = membership.recv() => Next::Membership(received),
                    received = topics.next(), if !topics.is_empty() => Next::Topic(received),
                    changed = resync.changed() => Next::Resync(changed.is_ok()),
                };
                match next {
                    Next::Membership(Ok(event)) => {
                        if let BusEvent::Membership { conversation_id, user_id: who, joined } = event.as_ref()
                            && *who == user_id
                        {
                            if *joined && !topics.contains_key(conversation_id) {
                                let receiver = bus.subscribe(Topic::Conversation(conversation_id.clone()));
                                let seq = match store.conversation_by_id(conversation_id).await {
                                    Ok(Some(conversation)) => conversation.last_seq,
                                    _ => continue,
                                };
                                topics.insert(conversation_id.clone(), BroadcastStream::new(receiver));
                                last.insert(conversation_id.clone(), seq);
                            } else if !*joined {
                                topics.remove(conversation_id);
                                last.remove(conversation_id);
                            }
                        }
                    }
                    Next::Membership(Err(RecvError::Lagged(_))) | Next::Resync(true) => {
                        behind.extend(last.keys().cloned());
                    }
                    Next::Membership(Err(RecvError::Closed)) | Next::Resync(false) => break,
                    Next::Topic(Some((conversation_id, Ok(received)))) => {
                        if let BusEvent::Message { event, message } = received.as_ref()
                            && let Some(seen) = last.get_mut(&conversation_id)
                        {
                            if event.seq == *seen + 1 {
                                *seen = event.seq;
                                record_delivery(event);
                                yield LiveMessageEvent { event: event.clone(), message: message.clone(), origin: Some(received.clone()) };
                            } else if event.seq > *seen {
                                behind.push(conversation_id);
                            }
                        }
                    }
                    Next::Topic(Some((conversation_id, Err(_)))) => behind.push(conversation_id),
                    Next::Topic(None) => {}
                }
            }
        }))
    }

    /// The events of one conversation the viewer is a member of (NOT_FOUND
    /// otherwise). Subscribed before the membership check, so nothing
    /// published after the check can be missed.
    async fn member_feed(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
    ) -> AppResult<broadcast::Receiver<Arc<BusEvent>>> {
        let live = self
            .bus
            .subscribe(Topic::Conversation(conversation_id.to_owned()));
        self.conversations
            .membership(viewer, conversation_id)
            .await?;
        Ok(live)
    }

    /// Others' typing in one conversation; a `true` not renewed within
    /// [`TYPING_TTL`] is followed by a `false`.
    pub async fn typing(
        &self,
        viewer: &Viewer,
        conversation_id: String,
    ) -> AppResult<BoxStream<'static, TypingChange>> {
        let mut live = self.member_feed(viewer, &conversation_id).await?;
        let user_id = viewer.user_id.clone();
        Ok(Box::pin(stream! {
            let mut deadlines: HashMap<String, Instant> = HashMap::new();
            loop {
                let next_deadline = deadlines.values().min().copied();
                let wake = tokio::select! {
                    received = live.recv() => Wake::Bus(received),
                    () = sleep_until(next_deadline) => Wake::Deadline,
                };
                match wake {
                    Wake::Bus(Ok(event)) => match event.as_ref() {
                        BusEvent::Typing { conversation_id, user_id: who, typing } if *who != user_id => {
                            if *typing {
                                deadlines.insert(who.clone(), Instant::now() + TYPING_TTL);
                            } else {
                                deadlines.remove(who);
                            }
                            yield TypingChange {
                                conversation_id: conversation_id.clone(),
                                user_id: who.clone(),
                                typing: *typing,
                            };
                        }
                        BusEvent::Membership { user_id: who, joined: false, .. } if *who == user_id => break,
                        _ => {}
                    },
                    Wake::Bus(Err(RecvError::Lagged(_))) => {}
                    Wake::Bus(Err(RecvError::Closed)) | Wake::Resync(_) => break,
                    Wake::Deadline => {
                        let now = Instant::now();
                        let expired: Vec<String> = deadlines
                            .iter()
                            .filter(|(_, deadline)| **deadline <= now)
                            .map(|(who, _)| who.clone())
                            .collect();
                        for who in expired {
                            deadlines.remove(&who);
                            yield TypingChange {
                                conversation_id: conversation_id.clone(),
                                user_id: who,
                                typing: false,
                            };
                        }
                    }
                }
            }
        }))
    }

    /// Others' read markers in one conversation as they move forward (read
    /// receipts without polling). Ends when the viewer leaves the group.
    pub async fn read_markers(
        &self,
        viewer: &Viewer,
        conversation_id: String,
    ) -> AppResult<BoxStream<'static, ReadMarkerChange>> {
        let mut live = self.member_feed(viewer, &conversation_id).await?;
        let user_id = viewer.user_id.clone();
        Ok(Box::pin(stream! {
            loop {
                match live.recv().await {
                    Ok(event) => match event.as_ref() {
                        BusEvent::ReadMarker { conversation_id, user_id: who, last_read_seq } if *who != user_id => {
                            yield ReadMarkerChange {
                                conversation_id: conversation_id.clone(),
                                user_id: who.clone(),
                                last_read_seq: *last_read_seq,
                            };
                        }
                        BusEvent::Membership { user_id: who, joined: false, .. } if *who == user_id => break,
                        _ => {}
                    },
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        }))
    }

    /// Online/offline changes of the viewer's friends and of everyone who
    /// shares a conversation with them.
    pub async fn presence(&self, viewer: &Viewer) -> AppResult<BoxStream<'static, PresenceChange>> {
        let mut changes = self.bus.subscribe(Topic::Presence);
        let mut mine = self.bus.subscribe(Topic::User(viewer.user_id.clone()));
        let store = self.store.clone();
        let user_id = viewer.user_id.clone();
        let mut relevant = people_of(store.as_ref(), &user_id).await?;
        Ok(Box::pin(stream! {
            loop {
                let (presence, own) = tokio::select! {
                    received = changes.recv() => (Some(received), None),
                    received = mine.recv() => (None, Some(received)),
                };
                match presence {
                    Some(Ok(event)) => {
                        if let BusEvent::Presence { user_id: who, online, last_seen_at } = event.as_ref()
                            && relevant.contains(who)
                        {
                            yield PresenceChange {
                                user_id: who.clone(),
                                online: *online,
                                last_seen_at: *last_seen_at,
                            };
                        }
                    }
                    Some(Err(RecvError::Closed)) => break,
                    Some(Err(RecvError::Lagged(_))) | None => {}
                }
                match own {
                    // Whom the viewer knows changed: recompute.
                    Some(Ok(_)) | Some(Err(RecvError::Lagged(_))) => {
                        if let Ok(people) = people_of(store.as_ref(), &user_id).await {
                            relevant = people;
                        }
                    }
                    Some(Err(RecvError::Closed)) => break,
                    None => {}
                }
            }
        }))
    }

    /// Friend requests and group changes that concern the viewer.
    pub fn notifications(&self, viewer: &Viewer) -> BoxStream<'static, NotificationRecord> {
        let mut mine = self.bus.subscribe(Topic::User(viewer.user_id.clone()));
        Box::pin(stream! {
            loop {
                match mine.recv().await {
                    Ok(event) => {
                        if let BusEvent::Notification { kind, friend_request_id, conversation_id, user_id, at, .. } = event.as_ref() {
                            yield NotificationRecord {
                                kind: *kind,
                                friend_request_id: friend_request_id.clone(),
                                conversation_id: conversation_id.clone(),
                                user_id: user_id.clone(),
                                at: *at,
                            };
                        }
                    }
                    Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => break,
                }
            }
        })
    }
}

/// Time from an event being stored to its hand-off to a subscriber's
/// socket writer (live deliveries only; replays are not latency).
fn record_delivery(event: &MessageEventRecord) {
    let latency = (Utc::now() - event.created_at)
        .num_microseconds()
        .unwrap_or(0);
    metrics::histogram!("realtalk_delivery_latency_seconds").record(latency.max(0) as f64 / 1e6);
}

/// Friends and conversation peers of a user.
async fn people_of(store: &dyn Store, user_id: &str) -> AppResult<HashSet<String>> {
    let mut people: HashSet<String> = store.friend_ids(user_id).await?.into_iter().collect();
    people.extend(store.peer_ids(user_id).await?);
    Ok(people)
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

/// The stored events after `after_seq`, with their messages, in seq order.
fn events_since(
    store: Arc<dyn Store>,
    conversation_id: String,
    after_seq: i64,
) -> BoxStream<'static, LiveMessageEvent> {
    Box::pin(stream! {
        let mut last = after_seq;
        loop {
            let events = match store.events_after(&conversation_id, last, CATCH_UP_BATCH).await {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(cause = ?error.source, "catch-up read failed; will retry on the next event");
                    break;
                }
            };
            let ids: Vec<String> = events.iter().map(|event| event.message_id.clone()).collect();
            let messages: HashMap<String, Arc<MessageRecord>> = match store.messages_by_ids(&ids).await {
                Ok(messages) => messages.into_iter().map(|m| (m.id.clone(), Arc::new(m))).collect(),
                Err(error) => {
                    tracing::warn!(cause = ?error.source, "catch-up read failed; will retry on the next event");
                    break;
                }
            };
            let count = events.len();
            for event in events {
                last = event.seq;
                if let Some(message) = messages.get(&event.message_id) {
                    yield LiveMessageEvent { event: Arc::new(event), message: message.clone(), origin: None };
                }
            }
            if count < CATCH_UP_BATCH {
                break;
            }
        }
    })
}
