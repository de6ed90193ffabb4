//! Records as stored, engine-neutral. Ids are UUIDv7 strings (time-ordered).

use chrono::{DateTime, Utc};

/// A registered account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRecord {
    pub id: String,
    /// Lower-case, `[a-z0-9_.]{3,32}`, unique.
    pub username: String,
    /// Normalised (trimmed, lower-case), unique.
    pub email: String,
    pub display_name: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    pub avatar_attachment_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_seen_at: Option<DateTime<Utc>>,
}

/// What `UserStore::create_user` needs; already validated and normalised.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub username: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub created_at: DateTime<Utc>,
}

/// Profile fields to change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub avatar_attachment_id: Option<String>,
}

/// One signed-in device: a chain of refresh tokens and the access tokens minted from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
    pub refreshed_at: DateTime<Utc>,
    /// The refresh token's expiry; renewed by each rotation.
    pub expires_at: DateTime<Utc>,
    /// Set by logout, logout-all or refresh-token reuse; never cleared.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl SessionRecord {
    /// Whether tokens of this session may still be used at `now`.
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.revoked_at.is_none() && self.expires_at > now
    }
}

/// What `SessionStore::create_session` needs.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub user_id: String,
    /// SHA-256 (hex) of the first refresh token; the token itself is never stored.
    pub refresh_token_hash: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// The result of presenting a refresh token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The token was current: it is now spent and the next one is stored.
    Rotated(SessionRecord),
    /// The token had already been spent: the whole session is now revoked.
    Reused(SessionRecord),
    /// Unknown token, or its session is revoked or expired.
    Invalid,
}
