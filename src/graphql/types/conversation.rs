//! Conversations and their members.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::message::{Message, MessageConnection, messages_page};
use super::{PageInfo, User, load_user};
use crate::graphql::{context, cursor, errors};
use crate::store::{ConversationRecord, MemberRecord};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::store::ConversationKind")]
pub enum ConversationKind {
    Direct,
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::store::MemberRole")]
pub enum MemberRole {
    Owner,
    Admin,
    Member,
}

pub struct Conversation(pub ConversationRecord);

#[Object]
impl Conversation {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn kind(&self) -> ConversationKind {
        self.0.kind.into()
    }

    /// Group title; null for direct conversations.
    async fn title(&self) -> Option<&str> {
        self.0.title.as_deref()
    }

    async fn members(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Member>> {
        let members = context::loaders(ctx)?
            .members
            .load_one(self.0.id.clone())
            .await
            .map_err(errors::shared)?
            .unwrap_or_default();
        Ok(members.into_iter().map(Member).collect())
    }

    async fn last_message(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Message>> {
        let Some(id) = &self.0.last_message_id else {
            return Ok(None);
        };
        let message = context::loaders(ctx)?
            .messages
            .load_one(id.clone())
            .await
            .map_err(errors::shared)?;
        Ok(message.map(Message))
    }

    /// Highest event seq in this conversation (0 when empty).
    async fn last_seq(&self) -> i64 {
        self.0.last_seq
    }

    /// Messages by others after the viewer's read marker.
    async fn unread_count(&self, ctx: &Context<'_>) -> async_graphql::Result<i64> {
        let viewer = context::viewer(ctx).await?;
        let count = context::loaders(ctx)?
            .unread
            .load_one((viewer.user_id.clone(), self.0.id.clone()))
            .await
            .map_err(errors::shared)?;
        Ok(count.unwrap_or(0))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Whether messages are end-to-end encrypted. Switched on once (encryptConversation), never off.
    async fn encrypted(&self) -> bool {
        self.0.encrypted_at.is_some()
    }

    async fn encrypted_at(&self) -> Option<DateTime<Utc>> {
        self.0.encrypted_at
    }

    #[graphql(complexity = "last.unwrap_or(50).clamp(0, 100) as usize * child_complexity")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 50)] last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<MessageConnection> {
        messages_page(ctx, &self.0.id, last, before).await
    }
}

pub struct Member(pub MemberRecord);

#[Object]
impl Member {
    async fn user(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, &self.0.user_id).await
    }

    async fn role(&self) -> MemberRole {
        self.0.role.into()
    }

    async fn joined_at(&self) -> DateTime<Utc> {
        self.0.joined_at
    }

    async fn last_read_seq(&self) -> i64 {
        self.0.last_read_seq
    }
}

#[derive(SimpleObject)]
pub struct ConversationEdge {
    pub cursor: String,
    pub node: Conversation,
}

#[derive(SimpleObject)]
pub struct ConversationConnection {
    pub edges: Vec<ConversationEdge>,
    pub nodes: Vec<Conversation>,
    pub page_info: PageInfo,
}

impl ConversationConnection {
    pub fn new(conversations: Vec<ConversationRecord>, has_more: bool, after: bool) -> Self {
        let edges: Vec<ConversationEdge> = conversations
            .iter()
            .map(|record| ConversationEdge {
                cursor: cursor::encode_conversation(record),
                node: Conversation(record.clone()),
            })
            .collect();
        let page_info = PageInfo {
            has_next_page: has_more,
            has_previous_page: after,
            start_cursor: edges.first().map(|edge| edge.cursor.clone()),
            end_cursor: edges.last().map(|edge| edge.cursor.clone()),
        };
        ConversationConnection {
            nodes: conversations.into_iter().map(Conversation).collect(),
            edges,
            page_info,
        }
    }
}
