//! Messages, reactions, attachments and message pages.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::{DeviceKey, Envelope, User, load_user};

use crate::graphql::{context, cursor, errors};
use crate::service::media::ENCRYPTED_CONTENT_TYPE;
use crate::store::{AttachmentRecord, MessageRecord, ReactionRecord};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::store::MessageEventKind")]
pub enum MessageEventKind {
    Created,
    Edited,
    Deleted,
    ReactionsChanged,
}

pub struct Message(pub MessageRecord);

#[Object]
impl Message {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn conversation_id(&self) -> ID {
        ID(self.0.conversation_id.clone())
    }

    /// Seq of the event that created the message: strictly increasing per conversation.
    async fn seq(&self) -> i64 {
        self.0.seq
    }

    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, &self.0.author_id).await
    }

    async fn body(&self) -> &str {
        &self.0.body
    }

    async fn reply_to(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<Message>> {
        let Some(id) = &self.0.reply_to_id else {
            return Ok(None);
        };
        let message = context::loaders(ctx)?
            .messages
            .load_one(id.clone())
            .await
            .map_err(errors::shared)?;
        Ok(message.map(Message))
    }

    async fn attachments(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Attachment>> {
        let attachments = context::loaders(ctx)?
            .attachments
            .load_one(self.0.id.clone())
            .await
            .map_err(errors::shared)?
            .unwrap_or_default();
        Ok(attachments.into_iter().map(Attachment).collect())
    }

    /// Reactions grouped by emoji, in the order each emoji was first used.
    async fn reactions(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Reaction>> {
        let records = context::loaders(ctx)?
            .reactions
            .load_one(self.0.id.clone())
            .await
            .map_err(errors::shared)?
            .unwrap_or_default();
        Ok(group_reactions(records))
    }

    /// The author's idempotency key; null for everyone else.
    async fn client_id(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        let viewer = context::optional_viewer(ctx).await?;
        Ok(viewer
            .filter(|viewer| viewer.user_id == self.0.author_id)
            .and(self.0.client_id.as_deref()))
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    async fn edited_at(&self) -> Option<DateTime<Utc>> {
        self.0.edited_at
    }

    async fn deleted(&self) -> bool {
        self.0.deleted
    }

    /// Sealed end to end: body is "" and the content is in envelopes.
    async fn encrypted(&self) -> bool {
        self.0.sealed.is_some()
    }

    /// The device that sealed the message, also after that key was revoked. Null for plain messages.
    async fn sender_device_key(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<DeviceKey>> {
        let Some(sealed) = &self.0.sealed else {
            return Ok(None);
        };
        let key = context::loaders(ctx)?
            .device_keys
            .load_one(sealed.sender_device_key_id.clone())
            .await
            .map_err(errors::shared)?;
        Ok(key.map(DeviceKey))
    }

    /// One ciphertext per device the message was sealed for; with deviceKeyId, only that device's.
    async fn envelopes(&self, device_key_id: Option<ID>) -> Vec<Envelope> {
        let Some(sealed) = &self.0.sealed else {
            return Vec::new();
        };
        sealed
            .envelopes
            .iter()
            .filter(|envelope| {
                device_key_id
                    .as_ref()
                    .is_none_or(|id| envelope.device_key_id == id.as_str())
            })
            .map(Envelope::from)
            .collect()
    }
}

pub struct Reaction {
    emoji: String,
    user_ids: Vec<String>,
}

fn group_reactions(records: Vec<ReactionRecord>) -> Vec<Reaction> {
    let mut reactions: Vec<Reaction> = Vec::new();
    for record in records {
        match reactions.iter_mut().find(|r| r.emoji == record.emoji) {
            Some(reaction) => reaction.user_ids.push(record.user_id),
            None => reactions.push(Reaction {
                emoji: record.emoji,
                user_ids: vec![record.user_id],
            }),
        }
    }
    reactions
}

#[Object]
impl Reaction {
    async fn emoji(&self) -> &str {
        &self.emoji
    }

    async fn count(&self) -> usize {
        self.user_ids.len()
    }

    async fn reacted_by_me(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = context::optional_viewer(ctx).await?;
        Ok(viewer.is_some_and(|viewer| self.user_ids.contains(&viewer.user_id)))
    }

    async fn users(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let mut found = context::loaders(ctx)?
            .users
            .load_many(self.user_ids.iter().cloned())
            .await
            .map_err(errors::shared)?;
        Ok(self
            .user_ids
            .iter()
            .filter_map(|id| found.remove(id))
            .map(User::new)
            .collect())
    }
}

/// A stored file. `url` and `thumbnailUrl` are short-lived signed URLs.
pub struct Attachment(pub AttachmentRecord);

#[Object]
impl Attachment {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn file_name(&self) -> &str {
        &self.0.file_name
    }

    /// Detected from the bytes, not taken from the client.
    async fn content_type(&self) -> &str {
        &self.0.content_type
    }

    async fn size(&self) -> i64 {
        self.0.size
    }

    async fn url(&self, ctx: &Context<'_>) -> async_graphql::Result<String> {
        Ok(context::services(ctx)?.media.url(&self.0))
    }

    async fn width(&self) -> Option<i64> {
        self.0.width
    }

    async fn height(&self) -> Option<i64> {
        self.0.height
    }

    async fn thumbnail_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        Ok(context::services(ctx)?.media.thumbnail_url(&self.0))
    }

    /// Uploaded with uploadFile(encrypted: true): ciphertext only its conversation's devices can open.
    async fn encrypted(&self) -> bool {
        self.0.content_type == ENCRYPTED_CONTENT_TYPE
    }
}

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
pub struct MessageEdge {
    pub cursor: String,
    pub node: Message,
}

#[derive(SimpleObject)]
pub struct MessageConnection {
    pub edges: Vec<MessageEdge>,
    pub nodes: Vec<Message>,
    pub page_info: PageInfo,
}

/// One backward page of a conversation's messages, for `messages` and
/// `Conversation.messages`.
pub async fn messages_page(
    ctx: &Context<'_>,
    conversation_id: &str,
    last: Option<i32>,
    before: Option<String>,
) -> async_graphql::Result<MessageConnection> {
    let viewer = context::viewer(ctx).await?;
    let before_seq = before
        .as_deref()
        .map(|cursor| cursor::decode_message(cursor, "before"))
        .transpose()?;
    let page = context::services(ctx)?
        .messages
        .page(viewer, conversation_id, last.unwrap_or(50), before_seq)
        .await?;
    let edges: Vec<MessageEdge> = page
        .items
        .iter()
        .map(|record| MessageEdge {
            cursor: cursor::encode_message(record.seq),
            node: Message(record.clone()),
        })
        .collect();
    let page_info = PageInfo {
        has_next_page: before_seq.is_some(),
        has_previous_page: page.has_more,
        start_cursor: edges.first().map(|edge| edge.cursor.clone()),
        end_cursor: edges.last().map(|edge| edge.cursor.clone()),
    };
    Ok(MessageConnection {
        nodes: page.items.into_iter().map(Message).collect(),
        edges,
        page_info,
    })
}
