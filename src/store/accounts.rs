//! The account lifecycle: mailed tokens, verified addresses, password
//! changes and deletion.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::{AccountTokenPurpose, AccountTokenRecord};
use crate::error::AppResult;

#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn create_account_token(&self, token: AccountTokenRecord) -> AppResult<()>;

    /// Spends a token atomically: `None` when it is unknown, of another
    /// purpose, expired or already used. Of concurrent calls, one wins.
    async fn consume_account_token(
        &self,
        token_hash: &str,
        purpose: AccountTokenPurpose,
        now: DateTime<Utc>,
    ) -> AppResult<Option<AccountTokenRecord>>;

    /// When a released username may be registered again, if it is cooling down.
    async fn username_available_at(&self, username: &str) -> AppResult<Option<DateTime<Utc>>>;

    /// Makes `email` the user's verified address. CONFLICT when another
    /// account took it meanwhile.
    async fn verify_email(&self, user_id: &str, email: &str, now: DateTime<Utc>) -> AppResult<()>;

    /// Replaces the password hash and spends every outstanding reset token.
    async fn set_password_hash(&self, user_id: &str, password_hash: &str) -> AppResult<()>;

    /// Revokes every active session of the user but `keep`; returns their ids.
    async fn revoke_other_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: DateTime<Utc>,
    ) -> AppResult<Vec<String>>;

    /// Turns the account into a "Deleted user": profile and credentials
    /// wiped, sessions revoked, friendships, requests and blocks removed,
    /// uploads deleted (their content hashes are returned so the bytes can
    /// go too), the username released at `username_free_at`. Messages stay.
    async fn delete_account(
        &self,
        user_id: &str,
        now: DateTime<Utc>,
        username_free_at: DateTime<Utc>,
    ) -> AppResult<Vec<String>>;
}
