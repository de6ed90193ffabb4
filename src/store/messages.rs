//! The messages aggregate: messages, reactions and the per-conversation
//! event log. Every change takes the conversation's next seq in the same
//! transaction as the change itself, so seqs have no gaps or duplicates.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::{MessageChange, MessageEventRecord, MessageRecord, NewMessage, ReactionRecord};
use crate::error::AppResult;

#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Stores a message with a CREATED event, or — when the author already
    /// sent one with this `client_id` — returns that one with no event.
    async fn create_message(&self, message: NewMessage) -> AppResult<MessageChange>;

    async fn message_by_id(&self, id: &str) -> AppResult<Option<MessageRecord>>;

    /// The messages with these ids; unknown ids are skipped.
    async fn messages_by_ids(&self, ids: &[String]) -> AppResult<Vec<MessageRecord>>;

    /// Up to `limit` messages with seq below `before_seq` (all when `None`),
    /// the newest ones, returned oldest first.
    async fn messages_before(
        &self,
        conversation_id: &str,
        before_seq: Option<i64>,
        limit: usize,
    ) -> AppResult<Vec<MessageRecord>>;

    /// Full-text search over non-deleted messages of the conversations
    /// `user_id` is a member of (or just `conversation_id`), best first.
    /// `query` is plain words; each must match (the last as a prefix).
    async fn search_messages(
        &self,
        user_id: &str,
        query: &str,
        conversation_id: Option<&str>,
        limit: usize,
    ) -> AppResult<Vec<MessageRecord>>;

    /// Events with seq above `after_seq`, in seq order, at most `limit`.
    async fn events_after(
        &self,
        conversation_id: &str,
        after_seq: i64,
        limit: usize,
    ) -> AppResult<Vec<MessageEventRecord>>;

    /// Replaces the body and sets `edited_at`, with an EDITED event.
    /// `None` when the message does not exist.
    async fn edit_message(
        &self,
        id: &str,
        body: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>>;

    /// Adds a reaction with a REACTIONS_CHANGED event; no event when it was
    /// already there. BAD_USER_INPUT when the emoji would be the message's
    /// `max_distinct + 1`-th distinct one.
    async fn add_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        max_distinct: usize,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>>;

    /// Removes a reaction with a REACTIONS_CHANGED event; no event when it
    /// was not there.
    async fn remove_reaction(
        &self,
        message_id: &str,
        user_id: &str,
        emoji: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>>;

    /// Reactions on these messages, oldest first.
    async fn reactions_for(&self, message_ids: &[String]) -> AppResult<Vec<ReactionRecord>>;

    /// Turns a message into a tombstone (empty body, reactions removed, same
    /// seq) with a DELETED event; no event when it already was one.
    async fn delete_message(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<Option<MessageChange>>;
}
