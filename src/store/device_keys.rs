//! Device keys: the public halves of each browser's end-to-end encryption
//! keys. The server stores and hands them out; it never holds a private key.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::model::DeviceKeyRecord;
use crate::error::{AppError, AppResult};

#[async_trait]
pub trait DeviceKeyStore: Send + Sync {
    /// Stores a device key, or returns the user's active key with the same
    /// encryption key (registering is idempotent). A revoked key is never
    /// brought back: CONFLICT. More than `max_active` active keys for the
    /// user: BAD_USER_INPUT. The count is checked with the insert, so
    /// concurrent registrations cannot pass the cap.
    async fn create_device_key(
        &self,
        key: DeviceKeyRecord,
        max_active: usize,
    ) -> AppResult<DeviceKeyRecord>;

    /// The active keys of these users, oldest first.
    async fn active_device_keys(&self, user_ids: &[String]) -> AppResult<Vec<DeviceKeyRecord>>;

    /// Keys by id, revoked ones included (old messages name their sender's
    /// key); unknown ids are skipped.
    async fn device_keys_by_ids(&self, ids: &[String]) -> AppResult<Vec<DeviceKeyRecord>>;

    /// Revokes one of the user's active keys (`id: None`: all of them).
    /// Returns how many were revoked.
    async fn revoke_device_keys(
        &self,
        user_id: &str,
        id: Option<&str>,
        at: DateTime<Utc>,
    ) -> AppResult<usize>;
}

/// The error for a message whose sealing disagrees with its conversation
/// at commit time (encryption was switched on while it was being sent, or a
/// client sent ciphertext to a plain conversation). Every engine checks
/// this inside the transaction that stores the message.
pub fn sealing_mismatch(conversation_encrypted: bool) -> AppError {
    if conversation_encrypted {
        AppError::bad_input(
            "body",
            "this conversation is end-to-end encrypted: send envelopes, not a body",
        )
    } else {
        AppError::bad_input("envelopes", "this conversation is not end-to-end encrypted")
    }
}

/// More active keys than the cap (every engine's answer).
pub fn too_many_device_keys(max_active: usize) -> AppError {
    AppError::bad_input(
        "input",
        format!("at most {max_active} active device keys: revoke one you no longer use"),
    )
}

/// A revoked key presented again (every engine's answer).
pub fn device_key_revoked() -> AppError {
    AppError::conflict(
        "encryptionKey",
        "this key was revoked and cannot be registered again: generate a new one",
    )
}
