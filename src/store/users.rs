//! The users aggregate.

use async_trait::async_trait;

use super::model::{NewUser, ProfileChanges, UserRecord};
use crate::error::AppResult;

#[async_trait]
pub trait UserStore: Send + Sync {
    /// Stores a new account. A taken username or email is a CONFLICT naming
    /// the field (`username` or `email`); uniqueness is the store's job so it
    /// holds under concurrent registrations.
    async fn create_user(&self, user: NewUser) -> AppResult<UserRecord>;

    /// The account with this id, if any.
    async fn user_by_id(&self, id: &str) -> AppResult<Option<UserRecord>>;

    /// The accounts with these ids, in no particular order; unknown ids are skipped.
    /// Used by DataLoaders to batch lookups.
    async fn users_by_ids(&self, ids: &[String]) -> AppResult<Vec<UserRecord>>;

    /// The account whose username or email equals `login` (already normalised).
    async fn user_by_login(&self, login: &str) -> AppResult<Option<UserRecord>>;

    /// Accounts whose username or display name contains `query`
    /// (case-insensitive), prefix matches first, at most `limit`.
    async fn search_users(&self, query: &str, limit: usize) -> AppResult<Vec<UserRecord>>;

    /// Records when the user was last seen online.
    async fn touch_last_seen(&self, id: &str, at: chrono::DateTime<chrono::Utc>) -> AppResult<()>;

    /// Applies profile changes; `None` when the user does not exist.
    async fn update_profile(
        &self,
        id: &str,
        changes: ProfileChanges,
    ) -> AppResult<Option<UserRecord>>;
}
