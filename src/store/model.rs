//! Records as stored, engine-neutral. Ids are UUIDv7 strings (time-ordered).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Set when the account was deleted; the row stays as "Deleted user".
    pub deleted_at: Option<DateTime<Utc>>,
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

/// The state of a friend request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FriendRequestStatus {
    Pending,
    Accepted,
    Declined,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FriendRequestRecord {
    pub id: String,
    pub from_user_id: String,
    pub to_user_id: String,
    pub status: FriendRequestStatus,
    pub created_at: DateTime<Utc>,
    pub responded_at: Option<DateTime<Utc>>,
}

/// How one user stands to another, as that user sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relationship {
    None,
    Friends,
    RequestSent,
    RequestReceived,
    /// The viewer blocked the other user. (Being blocked is never shown.)
    Blocked,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConversationKind {
    Direct,
    Group,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum MemberRole {
    Owner,
    Admin,
    Member,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationRecord {
    pub id: String,
    pub kind: ConversationKind,
    pub title: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Highest event seq so far (0 when empty).
    pub last_seq: i64,
    pub last_activity_at: DateTime<Utc>,
    pub last_message_id: Option<String>,
    /// When end-to-end encryption was switched on (never switched off).
    pub encrypted_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub conversation_id: String,
    pub user_id: String,
    pub role: MemberRole,
    pub joined_at: DateTime<Utc>,
    pub last_read_seq: i64,
}

/// A position in the conversation list, which is ordered by last activity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationCursor {
    pub last_activity_at: DateTime<Utc>,
    pub id: String,
}

/// What `leave_group` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaveOutcome {
    /// The user was not a member.
    NotMember,
    /// The user left; `new_owner` took over if the owner left.
    Left { new_owner: Option<String> },
    /// The last member left and the group is gone.
    Deleted,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRecord {
    pub id: String,
    pub conversation_id: String,
    /// Seq of the CREATED event.
    pub seq: i64,
    pub author_id: String,
    pub body: String,
    pub reply_to_id: Option<String>,
    pub client_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
    pub deleted: bool,
    /// The ciphertexts of an end-to-end encrypted message (its body is
    /// then empty); `None` for plain messages and tombstones.
    pub sealed: Option<Sealed>,
}

/// What the server keeps of an encrypted message: opaque ciphertext per
/// device, and which device sealed it. Stored as JSON (see `Sealed::to_json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sealed {
    pub sender_device_key_id: String,
    pub envelopes: Vec<Envelope>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub device_key_id: String,
    /// Base64, never read by the server.
    pub ciphertext: String,
}

impl Sealed {
    /// The storage form: a JSON object (SQLite column, MongoDB field and
    /// transfer rows all hold this same text).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a struct of strings always serialises")
    }

    pub fn from_json(text: &str) -> Result<Sealed, serde_json::Error> {
        serde_json::from_str(text)
    }
}

/// A device's published public keys (end-to-end encryption).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceKeyRecord {
    pub id: String,
    pub user_id: String,
    /// ECDSA P-256 public key (SPKI, base64): signs `encryption_key`.
    pub identity_key: String,
    /// ECDH P-256 public key (SPKI, base64): messages are sealed to it.
    pub encryption_key: String,
    /// `identity_key`'s signature over the encryption key (base64).
    pub signature: String,
    pub label: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Set by revocation or account deletion; never cleared.
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub conversation_id: String,
    pub author_id: String,
    pub body: String,
    /// Uploads of the author, not yet sent, to attach (in order).
    pub attachment_ids: Vec<String>,
    pub reply_to_id: Option<String>,
    pub client_id: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Ciphertexts, exactly when the conversation is encrypted: the store
    /// refuses a message whose `sealed` disagrees with the conversation's
    /// state at commit, so no plaintext lands after encryption is on.
    pub sealed: Option<Sealed>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageEventKind {
    Created,
    Edited,
    Deleted,
    ReactionsChanged,
}

/// One entry of a conversation's event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageEventRecord {
    pub conversation_id: String,
    pub seq: i64,
    pub kind: MessageEventKind,
    pub message_id: String,
    pub created_at: DateTime<Utc>,
}

/// A message write: the message as stored now, and the event it produced
/// (`None` when nothing changed, e.g. an idempotent retry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageChange {
    pub message: MessageRecord,
    pub event: Option<MessageEventRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReactionRecord {
    pub message_id: String,
    pub emoji: String,
    pub user_id: String,
    pub created_at: DateTime<Utc>,
}

/// An uploaded file. Its bytes are in the media store under `sha256`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRecord {
    pub id: String,
    pub uploader_id: String,
    pub sha256: String,
    pub file_name: String,
    pub content_type: String,
    pub size: i64,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub thumbnail_sha256: Option<String>,
    pub created_at: DateTime<Utc>,
    pub message_id: Option<String>,
    pub used_as_avatar: bool,
}

/// What a mailed account token is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AccountTokenPurpose {
    VerifyEmail,
    ResetPassword,
}

/// A single-use token mailed to a user (stored as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountTokenRecord {
    pub token_hash: String,
    pub user_id: String,
    pub purpose: AccountTokenPurpose,
    pub email: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}
