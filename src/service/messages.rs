//! Messages: send (idempotent per clientId), edit, delete, react, page, search.
//!
//! Every change is stored with its event before anything else sees it
//! (persist first, then publish).

use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use super::account::AccountService;
use super::auth::Viewer;
use super::conversations::{ConversationService, Page, page_size};
use super::encryption::{EncryptionService, SealedInput};
use super::friends::FriendService;
use super::media::ENCRYPTED_CONTENT_TYPE;
use super::rate_limit::{Action, RateLimits};
use crate::bus::{Bus, BusEvent};
use crate::error::{AppError, AppResult};
use crate::store::device_keys::sealing_mismatch;
use crate::store::{
    ConversationKind, MemberRecord, MemberRole, MessageChange, MessageRecord, NewMessage, Store,
};

pub const MAX_BODY_CHARS: usize = 4000;
pub const MAX_EMOJI_BYTES: usize = 32;
pub const MAX_DISTINCT_REACTIONS: usize = 20;
pub const MAX_CLIENT_ID_CHARS: usize = 64;
pub const MAX_ATTACHMENTS: usize = 10;
const MAX_SEARCH_CHARS: usize = 200;

/// `sendMessage` input as the client sent it.
#[derive(Debug, Clone, Default)]
pub struct SendMessage {
    pub conversation_id: String,
    pub body: String,
    pub reply_to_id: Option<String>,
    pub attachment_ids: Vec<String>,
    pub client_id: Option<String>,
    /// Present exactly when the conversation is end-to-end encrypted.
    pub sealed: Option<SealedInput>,
}

pub struct MessageService {
    store: Arc<dyn Store>,
    conversations: Arc<ConversationService>,
    friends: Arc<FriendService>,
    bus: Arc<dyn Bus>,
    limits: Arc<RateLimits>,
    accounts: Arc<AccountService>,
    encryption: Arc<EncryptionService>,
}

impl MessageService {
    pub fn new(
        store: Arc<dyn Store>,
        conversations: Arc<ConversationService>,
        friends: Arc<FriendService>,
        bus: Arc<dyn Bus>,
        limits: Arc<RateLimits>,
        accounts: Arc<AccountService>,
        encryption: Arc<EncryptionService>,
    ) -> Self {
        MessageService {
            store,
            conversations,
            friends,
            bus,
            limits,
            accounts,
            encryption,
        }
    }

    /// Publishes a stored change (after the commit: persist first).
    async fn published(&self, change: MessageChange) -> MessageChange {
        if let Some(event) = &change.event {
            if event.kind == crate::store::MessageEventKind::Created {
                metrics::counter!("realtalk_messages_sent_total").increment(1);
            }
            self.bus
                .publish(BusEvent::Message {
                    event: Arc::new(event.clone()),
                    message: Arc::new(change.message.clone()),
                })
                .await;
        }
        change
    }

    /// Typing state: published, never stored; needs membership.
    pub async fn set_typing(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
        typing: bool,
    ) -> AppResult<bool> {
        self.limits.check(Action::Typing, &viewer.user_id)?;
        let (conversation, _) = self
            .conversations
            .membership(viewer, conversation_id)
            .await?;
        self.bus
            .publish(BusEvent::Typing {
                conversation_id: conversation.id,
                user_id: viewer.user_id.clone(),
                typing,
            })
            .await;
        Ok(true)
    }

    pub async fn send(&self, viewer: &Viewer, input: SendMessage) -> AppResult<MessageChange> {
        let body = input.body.trim().to_owned();
        if input.attachment_ids.len() > MAX_ATTACHMENTS {
            return Err(AppError::bad_input(
                "attachmentIds",
                format!("at most {MAX_ATTACHMENTS} attachments"),
            ));
        }
        let mut attachment_ids: Vec<String> = Vec::new();
        for id in input.attachment_ids {
            if !attachment_ids.contains(&id) {
                attachment_ids.push(id);
            }
        }
        // The body may be empty only when the message carries attachments
        // or is sealed; a sealed message must not carry one.
        let attachments_only = body.is_empty() && !attachment_ids.is_empty();
        if input.sealed.is_some() {
            if !body.is_empty() {
                return Err(AppError::bad_input(
                    "body",
                    "an encrypted message has no body: its text travels in envelopes",
                ));
            }
        } else if !attachments_only {
            validate_body(&body, "body")?;
        }
        let client_id = match input.client_id {
            Some(client_id) => Some(validate_client_id(client_id)?),
            None => None,
        };
        let (conversation, _) = self
            .conversations
            .membership(viewer, &input.conversation_id)
            .await?;
        self.accounts.require_verified(viewer).await?;
        if conversation.kind == ConversationKind::Direct {
            self.refuse_if_blocked(viewer, &conversation.id).await?;
        }
        let encrypted = conversation.encrypted_at.is_some();
        let sealed = match input.sealed {
            Some(sealed) if encrypted => Some(
                self.encryption
                    .check_sealed(viewer, &conversation, sealed)
                    .await?,
            ),
            None if !encrypted => None,
            _ => return Err(sealing_mismatch(encrypted)),
        };
        self.check_attachment_kinds(viewer, &attachment_ids, encrypted)
            .await?;
        if let Some(reply_to_id) = &input.reply_to_id {
            let in_conversation = self
                .store
                .message_by_id(reply_to_id)
                .await?
                .is_some_and(|message| message.conversation_id == conversation.id);
            if !in_conversation {
                return Err(AppError::bad_input(
                    "replyToId",
                    "replyToId must be a message of this conversation",
                ));
            }
        }
        let change = self
            .store
            .create_message(NewMessage {
                id: Uuid::now_v7().to_string(),
                conversation_id: conversation.id,
                author_id: viewer.user_id.clone(),
                body,
                reply_to_id: input.reply_to_id,
                attachment_ids,
                client_id,
                created_at: Utc::now(),
                sealed,
            })
            .await?;
        Ok(self.published(change).await)
    }

    /// Encrypted conversations take only encrypted uploads (the server
    /// must never hold a readable file there), and plain ones only plain
    /// uploads (nobody there could open the other kind). Ownership and
    /// reuse are checked by the store when it attaches them.
    async fn check_attachment_kinds(
        &self,
        viewer: &Viewer,
        attachment_ids: &[String],
        encrypted: bool,
    ) -> AppResult<()> {
        for id in attachment_ids {
            let Some(attachment) = self.store.attachment_by_id(id).await? else {
                continue;
            };
            if attachment.uploader_id != viewer.user_id {
                continue;
            }
            if (attachment.content_type == ENCRYPTED_CONTENT_TYPE) != encrypted {
                return Err(AppError::bad_input(
                    "attachmentIds",
                    if encrypted {
                        "this conversation is end-to-end encrypted: upload files with uploadFile(encrypted: true)"
                    } else {
                        "encrypted uploads belong in encrypted conversations only"
                    },
                ));
            }
        }
        Ok(())
    }

    /// Author only; not on deleted messages.
    pub async fn edit(
        &self,
        viewer: &Viewer,
        message_id: &str,
        body: &str,
    ) -> AppResult<MessageChange> {
        let body = body.trim();
        validate_body(body, "body")?;
        let (message, _) = self.visible_message(viewer, message_id).await?;
        if message.author_id != viewer.user_id {
            return Err(AppError::forbidden("only the author can edit a message"));
        }
        // An edit carries a plain body, which must never enter an encrypted
        // conversation (nor replace a sealed message's envelopes).
        let encrypted = message.sealed.is_some()
            || self
                .store
                .conversation_by_id(&message.conversation_id)
                .await?
                .is_some_and(|conversation| conversation.encrypted_at.is_some());
        if encrypted {
            return Err(AppError::bad_input(
                "id",
                "messages in an end-to-end encrypted conversation cannot be edited: delete and send again",
            ));
        }
        let change = self
            .store
            .edit_message(message_id, body, Utc::now())
            .await?
            .ok_or_else(message_not_found)?;
        if change.event.is_none() {
            return Err(AppError::bad_input(
                "id",
                "a deleted message cannot be edited",
            ));
        }
        Ok(self.published(change).await)
    }

    /// The author, or an ADMIN/OWNER of a group. Deleting twice is a no-op.
    pub async fn delete(&self, viewer: &Viewer, message_id: &str) -> AppResult<MessageChange> {
        let (message, me) = self.visible_message(viewer, message_id).await?;
        let moderator = me.role <= MemberRole::Admin
            && self
                .store
                .conversation_by_id(&message.conversation_id)
                .await?
                .is_some_and(|conversation| conversation.kind == ConversationKind::Group);
        if message.author_id != viewer.user_id && !moderator {
            return Err(AppError::forbidden(
                "only the author or a group admin can delete a message",
            ));
        }
        let change = self
            .store
            .delete_message(message_id, Utc::now())
            .await?
            .ok_or_else(message_not_found)?;
        Ok(self.published(change).await)
    }

    /// Idempotent: reacting twice with one emoji changes nothing.
    pub async fn add_reaction(
        &self,
        viewer: &Viewer,
        message_id: &str,
        emoji: &str,
    ) -> AppResult<MessageChange> {
        let emoji = validate_emoji(emoji)?;
        let (message, _) = self.visible_message(viewer, message_id).await?;
        if message.deleted {
            return Err(AppError::bad_input(
                "messageId",
                "a deleted message cannot get reactions",
            ));
        }
        let change = self
            .store
            .add_reaction(
                message_id,
                &viewer.user_id,
                emoji,
                MAX_DISTINCT_REACTIONS,
                Utc::now(),
            )
            .await?
            .ok_or_else(message_not_found)?;
        Ok(self.published(change).await)
    }

    /// Idempotent: removing a reaction that is not there changes nothing.
    pub async fn remove_reaction(
        &self,
        viewer: &Viewer,
        message_id: &str,
        emoji: &str,
    ) -> AppResult<MessageChange> {
        let emoji = validate_emoji(emoji)?;
        self.visible_message(viewer, message_id).await?;
        let change = self
            .store
            .remove_reaction(message_id, &viewer.user_id, emoji, Utc::now())
            .await?
            .ok_or_else(message_not_found)?;
        Ok(self.published(change).await)
    }

    /// The newest `last` messages before `before_seq`, oldest first.
    pub async fn page(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
        last: i32,
        before_seq: Option<i64>,
    ) -> AppResult<Page<MessageRecord>> {
        let limit = page_size(last, "last")?;
        self.conversations
            .membership(viewer, conversation_id)
            .await?;
        let mut items = self
            .store
            .messages_before(conversation_id, before_seq, limit + 1)
            .await?;
        let has_more = items.len() > limit;
        if has_more {
            items.remove(0);
        }
        Ok(Page { items, has_more })
    }

    /// Full-text search over the conversations the viewer is in.
    pub async fn search(
        &self,
        viewer: &Viewer,
        query: &str,
        conversation_id: Option<&str>,
        first: i32,
    ) -> AppResult<Vec<MessageRecord>> {
        let limit = page_size(first, "first")?;
        if query.chars().count() > MAX_SEARCH_CHARS {
            return Err(AppError::bad_input(
                "query",
                format!("query must be at most {MAX_SEARCH_CHARS} characters"),
            ));
        }
        if let Some(conversation_id) = conversation_id {
            self.conversations
                .membership(viewer, conversation_id)
                .await?;
        }
        self.store
            .search_messages(&viewer.user_id, query, conversation_id, limit)
            .await
    }

    /// A message in a conversation the viewer is in, with the viewer's
    /// membership; NOT_FOUND otherwise.
    pub async fn visible_message(
        &self,
        viewer: &Viewer,
        message_id: &str,
    ) -> AppResult<(MessageRecord, MemberRecord)> {
        let message = self
            .store
            .message_by_id(message_id)
            .await?
            .ok_or_else(message_not_found)?;
        let member = self
            .store
            .member(&message.conversation_id, &viewer.user_id)
            .await?
            .ok_or_else(message_not_found)?;
        Ok((message, member))
    }

    /// In a direct conversation, a block either way stops new messages.
    /// The refusal does not say who blocked whom.
    async fn refuse_if_blocked(&self, viewer: &Viewer, conversation_id: &str) -> AppResult<()> {
        let members = self.store.members_of(&[conversation_id.to_owned()]).await?;
        for member in members.iter().filter(|m| m.user_id != viewer.user_id) {
            if self
                .friends
                .block_between(&viewer.user_id, &member.user_id)
                .await?
            {
                return Err(AppError::forbidden(
                    "you cannot send messages in this conversation",
                ));
            }
        }
        Ok(())
    }
}

fn message_not_found() -> AppError {
    AppError::not_found("message not found")
}

fn validate_body(body: &str, field: &'static str) -> AppResult<()> {
    let length = body.chars().count();
    if length == 0 || length > MAX_BODY_CHARS {
        return Err(AppError::bad_input(
            field,
            format!("body must be 1–{MAX_BODY_CHARS} characters"),
        ));
    }
    Ok(())
}

fn validate_client_id(client_id: String) -> AppResult<String> {
    let length = client_id.chars().count();
    if length == 0 || length > MAX_CLIENT_ID_CHARS || client_id.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            "clientId",
            format!("clientId must be 1–{MAX_CLIENT_ID_CHARS} printable characters"),
        ));
    }
    Ok(client_id)
}

/// An emoji is a short non-whitespace string of at most 32 bytes.
fn validate_emoji(emoji: &str) -> AppResult<&str> {
    if emoji.is_empty()
        || emoji.len() > MAX_EMOJI_BYTES
        || emoji.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(AppError::bad_input(
            "emoji",
            format!("emoji must be 1–{MAX_EMOJI_BYTES} bytes without spaces"),
        ));
    }
    Ok(emoji)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emoji_rules() {
        assert!(validate_emoji("👍").is_ok());
        assert!(
            validate_emoji("👨‍👩‍👧‍👦").is_ok(),
            "a ZWJ family is one emoji, 25 bytes"
        );
        assert!(validate_emoji("").is_err());
        assert!(validate_emoji("a b").is_err());
        assert!(validate_emoji(&"x".repeat(33)).is_err());
    }

    #[test]
    fn body_rules() {
        assert!(validate_body("hi", "body").is_ok());
        assert!(validate_body("", "body").is_err());
        assert!(validate_body(&"é".repeat(4000), "body").is_ok());
        assert!(validate_body(&"é".repeat(4001), "body").is_err());
    }
}
