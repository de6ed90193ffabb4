//! The conversations aggregate: direct conversations, groups and members.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::{
    ConversationCursor, ConversationRecord, LeaveOutcome, MemberRecord, MemberRole,
};
use crate::error::AppResult;

#[async_trait]
pub trait ConversationStore: Send + Sync {
    /// The one direct conversation of two users, created with both as
    /// members on first use. Atomic: concurrent calls return the same one.
    async fn open_direct_conversation(
        &self,
        id: &str,
        user_a: &str,
        user_b: &str,
        now: DateTime<Utc>,
    ) -> AppResult<ConversationRecord>;

    /// Stores a group with its first members.
    async fn create_group(
        &self,
        conversation: ConversationRecord,
        members: Vec<(String, MemberRole)>,
    ) -> AppResult<ConversationRecord>;

    async fn conversation_by_id(&self, id: &str) -> AppResult<Option<ConversationRecord>>;

    /// The conversations with these ids; unknown ids are skipped.
    async fn conversations_by_ids(&self, ids: &[String]) -> AppResult<Vec<ConversationRecord>>;

    /// The user's conversations, most recently active first, strictly after
    /// `after`; at most `limit`.
    async fn conversations_of_user(
        &self,
        user_id: &str,
        after: Option<ConversationCursor>,
        limit: usize,
    ) -> AppResult<Vec<ConversationRecord>>;

    /// Everyone who shares at least one conversation with the user.
    async fn peer_ids(&self, user_id: &str) -> AppResult<Vec<String>>;

    /// One membership, if the user is a member.
    async fn member(&self, conversation_id: &str, user_id: &str)
    -> AppResult<Option<MemberRecord>>;

    /// Members of each conversation, longest-standing first.
    async fn members_of(&self, conversation_ids: &[String]) -> AppResult<Vec<MemberRecord>>;

    /// How many members a conversation has.
    async fn member_count(&self, conversation_id: &str) -> AppResult<usize>;

    /// For each conversation: messages by others with seq above the user's
    /// read marker (deleted ones not counted).
    async fn unread_counts(
        &self,
        user_id: &str,
        conversation_ids: &[String],
    ) -> AppResult<HashMap<String, i64>>;

    async fn rename_group(&self, id: &str, title: &str) -> AppResult<Option<ConversationRecord>>;

    /// Switches end-to-end encryption on (once: an encrypted conversation
    /// keeps its first `encrypted_at`). `None` when there is no such
    /// conversation.
    async fn encrypt_conversation(
        &self,
        id: &str,
        at: DateTime<Utc>,
    ) -> AppResult<Option<ConversationRecord>>;

    /// Adds members as MEMBER (existing members are left as they are), unless
    /// that would make the group larger than `max_members`: then nothing is
    /// added and BAD_USER_INPUT is returned. Returns the ids actually added.
    async fn add_members(
        &self,
        conversation_id: &str,
        user_ids: &[String],
        max_members: usize,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<String>>;

    /// Changes one member's role; `None` when not a member.
    async fn set_member_role(
        &self,
        conversation_id: &str,
        user_id: &str,
        role: MemberRole,
    ) -> AppResult<Option<MemberRecord>>;

    /// Makes `new_owner` OWNER and `old_owner` ADMIN in one transaction.
    async fn transfer_ownership(
        &self,
        conversation_id: &str,
        old_owner: &str,
        new_owner: &str,
    ) -> AppResult<()>;

    /// Moves a read marker forward to `seq` (clamped to the conversation's
    /// last seq); never backward. `None` when not a member.
    async fn mark_read(
        &self,
        conversation_id: &str,
        user_id: &str,
        seq: i64,
    ) -> AppResult<Option<MemberRecord>>;

    /// Removes a member; `false` when not a member.
    async fn remove_member(&self, conversation_id: &str, user_id: &str) -> AppResult<bool>;

    /// A member leaves. If they were OWNER, ownership passes to the
    /// longest-standing ADMIN, else the longest-standing MEMBER; the last
    /// one out deletes the group. All in one transaction.
    async fn leave_group(&self, conversation_id: &str, user_id: &str) -> AppResult<LeaveOutcome>;
}
