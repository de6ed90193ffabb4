//! The friends aggregate: requests, friendships and blocks.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::{FriendRequestRecord, FriendRequestStatus, Relationship};
use crate::error::AppResult;

#[async_trait]
pub trait FriendStore: Send + Sync {
    /// Stores a new PENDING request. CONFLICT when a pending request between
    /// the two already exists, in either direction (so of two simultaneous
    /// requests, one wins).
    async fn create_friend_request(
        &self,
        request: FriendRequestRecord,
    ) -> AppResult<FriendRequestRecord>;

    async fn friend_request_by_id(&self, id: &str) -> AppResult<Option<FriendRequestRecord>>;

    /// The pending request between two users, whichever way it points.
    async fn pending_request_between(
        &self,
        user_a: &str,
        user_b: &str,
    ) -> AppResult<Option<FriendRequestRecord>>;

    /// Pending requests to (`incoming`) or from the user, newest first.
    async fn pending_requests(
        &self,
        user_id: &str,
        incoming: bool,
    ) -> AppResult<Vec<FriendRequestRecord>>;

    /// Whether the two are friends.
    async fn are_friends(&self, user_a: &str, user_b: &str) -> AppResult<bool>;

    /// Ids of the user's friends.
    async fn friend_ids(&self, user_id: &str) -> AppResult<Vec<String>>;

    /// How `viewer_id` stands to each of `other_ids` (missing ids: `None`).
    async fn relationships(
        &self,
        viewer_id: &str,
        other_ids: &[String],
    ) -> AppResult<HashMap<String, Relationship>>;

    /// Whether `blocker_id` has blocked `blocked_id`.
    async fn is_blocked(&self, blocker_id: &str, blocked_id: &str) -> AppResult<bool>;

    /// Moves a PENDING request to `status` atomically; accepting also creates
    /// the friendship in the same transaction. `None` when the request was
    /// not pending any more.
    async fn resolve_friend_request(
        &self,
        id: &str,
        status: FriendRequestStatus,
        now: DateTime<Utc>,
    ) -> AppResult<Option<FriendRequestRecord>>;

    /// Ends a friendship; `false` when there was none.
    async fn remove_friendship(&self, user_a: &str, user_b: &str) -> AppResult<bool>;

    /// Blocks, and in the same transaction ends the friendship and cancels
    /// pending requests between the two. Idempotent.
    async fn block_user(
        &self,
        blocker_id: &str,
        blocked_id: &str,
        now: DateTime<Utc>,
    ) -> AppResult<()>;

    /// Lifts a block; `false` when there was none.
    async fn unblock_user(&self, blocker_id: &str, blocked_id: &str) -> AppResult<bool>;
}
