//! Types delivered by subscriptions.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};

use super::{Conversation, FriendRequest, Message, MessageEventKind, User, load_user};
use crate::graphql::context;
use crate::service::live::{
    LiveMessageEvent, NotificationRecord, PresenceChange, ReadMarkerChange, TypingChange,
};

pub struct MessageEvent(pub LiveMessageEvent);

#[Object]
impl MessageEvent {
    /// Per-conversation event sequence: every change gets the next number, stored before it is published.
    async fn seq(&self) -> i64 {
        self.0.event.seq
    }

    async fn kind(&self) -> MessageEventKind {
        self.0.event.kind.into()
    }

    async fn conversation_id(&self) -> ID {
        ID(self.0.event.conversation_id.clone())
    }

    async fn message(&self) -> Message {
        Message(self.0.message.as_ref().clone())
    }
}

pub struct TypingEvent(pub TypingChange);

#[Object]
impl TypingEvent {
    async fn conversation_id(&self) -> ID {
        ID(self.0.conversation_id.clone())
    }

    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, &self.0.user_id).await
    }

    async fn typing(&self) -> bool {
        self.0.typing
    }
}

pub struct ReadMarkerEvent(pub ReadMarkerChange);

#[Object]
impl ReadMarkerEvent {
    async fn conversation_id(&self) -> ID {
        ID(self.0.conversation_id.clone())
    }

    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, &self.0.user_id).await
    }

    /// The seq this member has now read up to (as Member.lastReadSeq).
    async fn last_read_seq(&self) -> i64 {
        self.0.last_read_seq
    }
}

pub struct PresenceEvent(pub PresenceChange);

#[Object]
impl PresenceEvent {
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, &self.0.user_id).await
    }

    async fn online(&self) -> bool {
        self.0.online
    }

    async fn last_seen_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_seen_at
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::bus::NotificationKind")]
pub enum NotificationKind {
    FriendRequestReceived,
    FriendRequestAccepted,
    FriendRemoved,
    AddedToGroup,
    RemovedFromGroup,
    GroupUpdated,
    ConversationEncrypted,
    DeviceKeysChanged,
}

pub struct Notification(pub NotificationRecord);

#[Object]
impl Notification {
    async fn kind(&self) -> NotificationKind {
        self.0.kind.into()
    }

    async fn friend_request(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<FriendRequest>> {
        let Some(id) = &self.0.friend_request_id else {
            return Ok(None);
        };
        let request = context::services(ctx)?
            .store
            .friend_request_by_id(id)
            .await?;
        Ok(request.map(FriendRequest))
    }

    /// The conversation concerned. After REMOVED_FROM_GROUP it is shown one last
    /// time (id and title) so the client can drop it.
    async fn conversation(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Conversation>> {
        let Some(id) = &self.0.conversation_id else {
            return Ok(None);
        };
        let conversation = context::services(ctx)?.store.conversation_by_id(id).await?;
        Ok(conversation.map(Conversation))
    }

    /// DEVICE_KEYS_CHANGED: whose device keys changed (`conversation` is an encrypted direct conversation with them). FRIEND_REMOVED: the former friend.
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(id) = &self.0.user_id else {
            return Ok(None);
        };
        Ok(Some(load_user(ctx, id).await?))
    }

    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}
