//! The one event type that travels on the bus, serde-tagged so the Redis
//! engine can carry it between nodes as JSON.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::store::{MessageEventRecord, MessageRecord};

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum NotificationKind {
    FriendRequestReceived,
    FriendRequestAccepted,
    /// A friendship ended (told to both; `user` is the other person).
    FriendRemoved,
    AddedToGroup,
    RemovedFromGroup,
    GroupUpdated,
    /// A direct conversation was switched to end-to-end encryption.
    ConversationEncrypted,
    /// A partner in an encrypted conversation added or revoked a device key.
    DeviceKeysChanged,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BusEvent {
    /// A stored change to a message (published after the commit), with the
    /// message as it was right after the change.
    /// Shared, not copied, by every subscriber of the conversation on a
    /// node (the wire form is the records themselves).
    Message {
        event: Arc<MessageEventRecord>,
        message: Arc<MessageRecord>,
    },
    /// Someone started or stopped typing. Never stored.
    Typing {
        conversation_id: String,
        user_id: String,
        typing: bool,
    },
    /// A member's read marker moved forward. Never published for a marker
    /// that stayed where it was.
    ReadMarker {
        conversation_id: String,
        user_id: String,
        last_read_seq: i64,
    },
    /// A user came online or went offline (everywhere).
    Presence {
        user_id: String,
        online: bool,
        last_seen_at: Option<DateTime<Utc>>,
    },
    /// Something that concerns one user.
    Notification {
        recipient_id: String,
        kind: NotificationKind,
        friend_request_id: Option<String>,
        conversation_id: Option<String>,
        /// Whose keys changed (DEVICE_KEYS_CHANGED). Defaulted so nodes of
        /// an older version can still be read during a rolling upgrade.
        #[serde(default)]
        user_id: Option<String>,
        at: DateTime<Utc>,
    },
    /// A user joined or left a conversation: live streams add or drop it.
    Membership {
        conversation_id: String,
        user_id: String,
        joined: bool,
    },
    /// Sessions ended (logout, logout-all, refresh-token reuse): their
    /// sockets close. `session_id: None` means every session of the user.
    SessionsRevoked {
        user_id: String,
        session_id: Option<String>,
    },
}

/// Where an event is delivered on a node.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// Message, typing, read-marker and membership events of one conversation.
    Conversation(String),
    /// Notifications, membership changes and revocations of one user.
    User(String),
    /// Every presence change.
    Presence,
}

impl BusEvent {
    /// The topics this event is delivered to.
    pub fn topics(&self) -> Vec<Topic> {
        match self {
            BusEvent::Message { event, .. } => {
                vec![Topic::Conversation(event.conversation_id.clone())]
            }
            BusEvent::Typing {
                conversation_id, ..
            } => vec![Topic::Conversation(conversation_id.clone())],
            BusEvent::ReadMarker {
                conversation_id, ..
            } => vec![Topic::Conversation(conversation_id.clone())],
            BusEvent::Presence { .. } => vec![Topic::Presence],
            BusEvent::Notification { recipient_id, .. } => vec![Topic::User(recipient_id.clone())],
            BusEvent::Membership {
                conversation_id,
                user_id,
                ..
            } => vec![
                Topic::User(user_id.clone()),
                Topic::Conversation(conversation_id.clone()),
            ],
            BusEvent::SessionsRevoked { user_id, .. } => vec![Topic::User(user_id.clone())],
        }
    }

    /// A short name for metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            BusEvent::Message { .. } => "message",
            BusEvent::Typing { .. } => "typing",
            BusEvent::ReadMarker { .. } => "read_marker",
            BusEvent::Presence { .. } => "presence",
            BusEvent::Notification { .. } => "notification",
            BusEvent::Membership { .. } => "membership",
            BusEvent::SessionsRevoked { .. } => "sessions_revoked",
        }
    }
}
