//! Messages, reactions and search.

use async_graphql::{Context, ID, InputObject, Object, Upload};

use crate::error::AppError;
use crate::graphql::context;
use crate::graphql::types::{Attachment, EnvelopeInput, Message, MessageConnection, messages_page};
use crate::service::encryption::SealedInput;
use crate::service::messages::SendMessage;

#[derive(InputObject)]
pub struct SendMessageInput {
    pub conversation_id: ID,
    pub body: String,
    pub reply_to_id: Option<ID>,
    pub attachment_ids: Option<Vec<ID>>,
    /// Client-chosen idempotency key.
    pub client_id: Option<String>,
    /// Encrypted conversations only: the sender's own active device key that sealed the envelopes.
    pub sender_device_key_id: Option<ID>,
    /// Encrypted conversations only (then body is ""): one ciphertext for every active device key of both members.
    pub envelopes: Option<Vec<EnvelopeInput>>,
}

#[derive(Default)]
pub struct MessageQuery;

#[Object]
impl MessageQuery {
    /// Messages of one conversation; `last`/`before` page backwards from the newest.
    #[graphql(complexity = "last.unwrap_or(50).clamp(0, 100) as usize * child_complexity")]
    async fn messages(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        #[graphql(default = 50)] last: Option<i32>,
        before: Option<String>,
    ) -> async_graphql::Result<MessageConnection> {
        messages_page(ctx, &conversation_id, last, before).await
    }

    /// Full-text search over the messages the viewer can read.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    async fn search_messages(
        &self,
        ctx: &Context<'_>,
        query: String,
        conversation_id: Option<ID>,
        #[graphql(default = 20)] first: Option<i32>,
    ) -> async_graphql::Result<Vec<Message>> {
        let viewer = context::viewer(ctx).await?;
        let messages = context::services(ctx)?
            .messages
            .search(
                viewer,
                &query,
                conversation_id.as_ref().map(|id| id.as_str()),
                first.unwrap_or(20),
            )
            .await?;
        Ok(messages.into_iter().map(Message).collect())
    }
}

#[derive(Default)]
pub struct MessageMutation;

#[Object]
impl MessageMutation {
    /// Idempotent per (viewer, clientId): a retry returns the already stored message.
    async fn send_message(
        &self,
        ctx: &Context<'_>,
        input: SendMessageInput,
    ) -> async_graphql::Result<Message> {
        let viewer = context::viewer(ctx).await?;
        let change = context::services(ctx)?
            .messages
            .send(
                viewer,
                SendMessage {
                    conversation_id: input.conversation_id.0,
                    body: input.body,
                    reply_to_id: input.reply_to_id.map(|id| id.0),
                    attachment_ids: input
                        .attachment_ids
                        .unwrap_or_default()
                        .into_iter()
                        .map(|id| id.0)
                        .collect(),
                    client_id: input.client_id,
                    sealed: (input.envelopes.is_some() || input.sender_device_key_id.is_some())
                        .then(|| SealedInput {
                            sender_device_key_id: input.sender_device_key_id.map(|id| id.0),
                            envelopes: input
                                .envelopes
                                .unwrap_or_default()
                                .into_iter()
                                .map(Into::into)
                                .collect(),
                        }),
                },
            )
            .await?;
        Ok(Message(change.message))
    }

    async fn set_typing(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
        typing: bool,
    ) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .messages
            .set_typing(viewer, &conversation_id, typing)
            .await?)
    }

    /// Stores a file for later use in sendMessage(attachmentIds).
    async fn upload_file(
        &self,
        ctx: &Context<'_>,
        file: Upload,
        #[graphql(
            default = false,
            desc = "Ciphertext made on the client for an encrypted conversation: stored as opaque bytes (application/octet-stream, no thumbnail, named encrypted.bin)."
        )]
        encrypted: bool,
    ) -> async_graphql::Result<Attachment> {
        let viewer = context::viewer(ctx).await?;
        let upload = file
            .value(ctx)
            .map_err(|_| AppError::bad_input("file", "the upload could not be read"))?;
        let attachment = context::services(ctx)?
            .media
            .upload(viewer, &upload.filename, upload.content, encrypted)
            .await?;
        Ok(Attachment(attachment))
    }

    async fn edit_message(
        &self,
        ctx: &Context<'_>,
        id: ID,
        body: String,
    ) -> async_graphql::Result<Message> {
        let viewer = context::viewer(ctx).await?;
        let change = context::services(ctx)?
            .messages
            .edit(viewer, &id, &body)
            .await?;
        Ok(Message(change.message))
    }

    /// Leaves a tombstone: the message keeps its seq, its body and attachments are removed.
    async fn delete_message(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Message> {
        let viewer = context::viewer(ctx).await?;
        let change = context::services(ctx)?.messages.delete(viewer, &id).await?;
        Ok(Message(change.message))
    }

    async fn add_reaction(
        &self,
        ctx: &Context<'_>,
        message_id: ID,
        emoji: String,
    ) -> async_graphql::Result<Message> {
        let viewer = context::viewer(ctx).await?;
        let change = context::services(ctx)?
            .messages
            .add_reaction(viewer, &message_id, &emoji)
            .await?;
        Ok(Message(change.message))
    }

    async fn remove_reaction(
        &self,
        ctx: &Context<'_>,
        message_id: ID,
        emoji: String,
    ) -> async_graphql::Result<Message> {
        let viewer = context::viewer(ctx).await?;
        let change = context::services(ctx)?
            .messages
            .remove_reaction(viewer, &message_id, &emoji)
            .await?;
        Ok(Message(change.message))
    }
}
