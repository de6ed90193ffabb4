//! The sessions aggregate: sign-ins and their rotating refresh tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::{NewSession, RefreshOutcome, SessionRecord};
use crate::error::AppResult;

#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session with its first refresh token (as a hash).
    async fn create_session(&self, session: NewSession) -> AppResult<SessionRecord>;

    /// The session with this id, revoked or not.
    async fn session_by_id(&self, id: &str) -> AppResult<Option<SessionRecord>>;

    /// Spends the refresh token whose hash is `presented_hash` and stores
    /// `next_hash` as the session's new one, atomically: of many concurrent
    /// calls with one token exactly one rotates. A token that was already
    /// spent revokes its whole session (reuse detection).
    async fn rotate_refresh_token(
        &self,
        presented_hash: &str,
        next_hash: &str,
        now: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> AppResult<RefreshOutcome>;

    /// How many sessions are active at `now` (for the metrics gauge).
    async fn count_active_sessions(&self, now: DateTime<Utc>) -> AppResult<u64>;

    /// Revokes one session; `false` when it was unknown or already revoked.
    async fn revoke_session(&self, id: &str, now: DateTime<Utc>) -> AppResult<bool>;

    /// Revokes every active session of a user; returns how many.
    async fn revoke_user_sessions(&self, user_id: &str, now: DateTime<Utc>) -> AppResult<u64>;
}
