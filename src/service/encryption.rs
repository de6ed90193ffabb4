//! End-to-end encryption of direct conversations: device keys, the
//! one-way switch, and the structural checks on sealed messages.
//!
//! The server never sees a private key or a plaintext. It checks only what
//! it can check without them: keys and ciphertexts are well-formed base64
//! of sane sizes, and every message is sealed for exactly the devices that
//! should be able to read it (both members' active keys), so a client with
//! a stale device list is told to refresh instead of silently leaving a
//! device out. Signatures and ciphertexts are verified by the clients.

use std::collections::BTreeSet;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use uuid::Uuid;

use super::auth::Viewer;
use super::conversations::ConversationService;
use crate::bus::{Bus, BusEvent, NotificationKind};
use crate::error::{AppError, AppResult};
use crate::store::{
    ConversationKind, ConversationRecord, DeviceKeyRecord, Envelope, Sealed, Store,
};

/// Active device keys per user: enough browsers for one person.
pub const MAX_DEVICE_KEYS: usize = 10;
/// Envelopes per message: both members' devices, at most.
pub const MAX_ENVELOPES: usize = 2 * MAX_DEVICE_KEYS;
/// One envelope's ciphertext, in base64 characters: a 4,000-character
/// body and ten attachment keys, sealed, with room to spare.
pub const MAX_CIPHERTEXT_CHARS: usize = 65_536;
const MAX_LABEL_CHARS: usize = 64;
/// Decoded sizes: a P-256 SPKI public key is 91 bytes; leave room for
/// other curves (X25519 SPKI is 44) without accepting blobs.
const PUBLIC_KEY_BYTES: std::ops::RangeInclusive<usize> = 32..=160;
/// ECDSA P-256 signatures: 64 bytes raw (r‖s), up to 72 in DER.
const SIGNATURE_BYTES: std::ops::RangeInclusive<usize> = 64..=72;

/// `registerDeviceKey` input as the client sent it.
#[derive(Debug, Clone)]
pub struct NewDeviceKey {
    pub identity_key: String,
    pub encryption_key: String,
    pub signature: String,
    pub label: Option<String>,
}

/// `sendMessage`'s encryption fields as the client sent them.
#[derive(Debug, Clone, Default)]
pub struct SealedInput {
    pub sender_device_key_id: Option<String>,
    pub envelopes: Vec<Envelope>,
}

pub struct EncryptionService {
    store: Arc<dyn Store>,
    conversations: Arc<ConversationService>,
    bus: Arc<dyn Bus>,
}

impl EncryptionService {
    pub fn new(
        store: Arc<dyn Store>,
        conversations: Arc<ConversationService>,
        bus: Arc<dyn Bus>,
    ) -> Self {
        EncryptionService {
            store,
            conversations,
            bus,
        }
    }

    /// Publishes the viewer's device key (idempotent per encryption key).
    /// A new key is announced to the viewer's encrypted conversations.
    pub async fn register(
        &self,
        viewer: &Viewer,
        input: NewDeviceKey,
    ) -> AppResult<DeviceKeyRecord> {
        let identity_key = base64_field(input.identity_key, "identityKey", PUBLIC_KEY_BYTES)?;
        let encryption_key = base64_field(input.encryption_key, "encryptionKey", PUBLIC_KEY_BYTES)?;
        let signature = base64_field(input.signature, "signature", SIGNATURE_BYTES)?;
        let label = match input.label.map(|label| label.trim().to_owned()) {
            Some(label) if label.is_empty() => None,
            Some(label) if label.chars().count() > MAX_LABEL_CHARS => {
                return Err(AppError::bad_input(
                    "label",
                    format!("label must be at most {MAX_LABEL_CHARS} characters"),
                ));
            }
            Some(label) if label.chars().any(char::is_control) => {
                return Err(AppError::bad_input(
                    "label",
                    "label must not contain control characters",
                ));
            }
            label => label,
        };
        let id = Uuid::now_v7().to_string();
        let stored = self
            .store
            .create_device_key(
                DeviceKeyRecord {
                    id: id.clone(),
                    user_id: viewer.user_id.clone(),
                    identity_key,
                    encryption_key,
                    signature,
                    label,
                    created_at: Utc::now(),
                    revoked_at: None,
                },
                MAX_DEVICE_KEYS,
            )
            .await?;
        if stored.id == id {
            tracing::info!(user_id = %viewer.user_id, device_key_id = %id, "device key registered");
            self.announce_key_change(&viewer.user_id).await?;
        }
        Ok(stored)
    }

    /// Revokes one of the viewer's keys; NOT_FOUND when it is not an
    /// active key of theirs.
    pub async fn revoke(&self, viewer: &Viewer, id: &str) -> AppResult<bool> {
        let revoked = self
            .store
            .revoke_device_keys(&viewer.user_id, Some(id), Utc::now())
            .await?;
        if revoked == 0 {
            return Err(AppError::not_found("device key not found"));
        }
        tracing::info!(user_id = %viewer.user_id, device_key_id = %id, "device key revoked");
        self.announce_key_change(&viewer.user_id).await?;
        Ok(true)
    }

    /// Switches a direct conversation to end-to-end encryption (either
    /// member, once, never back). Both members need a device key, or
    /// nobody could read the next message.
    pub async fn encrypt_conversation(
        &self,
        viewer: &Viewer,
        conversation_id: &str,
    ) -> AppResult<ConversationRecord> {
        let (conversation, _) = self
            .conversations
            .membership(viewer, conversation_id)
            .await?;
        if conversation.kind != ConversationKind::Direct {
            return Err(AppError::bad_input(
                "conversationId",
                "only direct conversations can be end-to-end encrypted",
            ));
        }
        if conversation.encrypted_at.is_some() {
            return Ok(conversation);
        }
        let member_ids = self.conversations.member_ids(&conversation.id).await?;
        let keys = self.store.active_device_keys(&member_ids).await?;
        for member_id in &member_ids {
            if keys.iter().any(|key| &key.user_id == member_id) {
                continue;
            }
            let message = if *member_id == viewer.user_id {
                "register a device key first: this account has none".to_owned()
            } else {
                let name = self
                    .store
                    .user_by_id(member_id)
                    .await?
                    .map_or_else(|| "the other member".to_owned(), |user| user.display_name);
                format!(
                    "{name} has no device key yet: they need to open RealTalk in a browser that supports encryption"
                )
            };
            return Err(AppError::bad_input("conversationId", message));
        }
        let encrypted = self
            .store
            .encrypt_conversation(&conversation.id, Utc::now())
            .await?
            .ok_or_else(|| AppError::not_found("conversation not found"))?;
        tracing::info!(conversation_id = %conversation.id, user_id = %viewer.user_id, "conversation encrypted");
        for member_id in &member_ids {
            self.notify(
                member_id,
                NotificationKind::ConversationEncrypted,
                &conversation.id,
                None,
            )
            .await;
        }
        Ok(encrypted)
    }

    /// Checks a message's envelopes against the conversation's devices:
    /// sealed by one of the viewer's active keys, for exactly every active
    /// key of both members. Returns what the store keeps.
    pub async fn check_sealed(
        &self,
        viewer: &Viewer,
        conversation: &ConversationRecord,
        input: SealedInput,
    ) -> AppResult<Sealed> {
        let sender_device_key_id = input.sender_device_key_id.ok_or_else(|| {
            AppError::bad_input(
                "senderDeviceKeyId",
                "an encrypted message must name the device that sealed it",
            )
        })?;
        if input.envelopes.len() > MAX_ENVELOPES {
            return Err(AppError::bad_input(
                "envelopes",
                format!("at most {MAX_ENVELOPES} envelopes"),
            ));
        }
        for envelope in &input.envelopes {
            if envelope.ciphertext.len() > MAX_CIPHERTEXT_CHARS
                || envelope.ciphertext.is_empty()
                || STANDARD.decode(&envelope.ciphertext).is_err()
            {
                return Err(AppError::bad_input(
                    "envelopes",
                    format!(
                        "each ciphertext must be base64 of 1–{MAX_CIPHERTEXT_CHARS} characters"
                    ),
                ));
            }
        }
        let member_ids = self.conversations.member_ids(&conversation.id).await?;
        let keys = self.store.active_device_keys(&member_ids).await?;
        let sender_is_mine = keys
            .iter()
            .any(|key| key.id == sender_device_key_id && key.user_id == viewer.user_id);
        if !sender_is_mine {
            return Err(AppError::bad_input(
                "senderDeviceKeyId",
                "senderDeviceKeyId must be one of your active device keys",
            ));
        }
        let expected: BTreeSet<&str> = keys.iter().map(|key| key.id.as_str()).collect();
        let given: BTreeSet<&str> = input
            .envelopes
            .iter()
            .map(|envelope| envelope.device_key_id.as_str())
            .collect();
        if given.len() != input.envelopes.len() {
            return Err(AppError::bad_input(
                "envelopes",
                "one envelope per device: a device key appears twice",
            ));
        }
        if given != expected {
            let missing: Vec<&str> = expected.difference(&given).copied().collect();
            let unexpected: Vec<&str> = given.difference(&expected).copied().collect();
            return Err(AppError::bad_input(
                "envelopes",
                format!(
                    "seal for exactly the active devices of both members (re-read their \
                     deviceKeys); missing: [{}], not active here: [{}]",
                    missing.join(", "),
                    unexpected.join(", ")
                ),
            ));
        }
        Ok(Sealed {
            sender_device_key_id,
            envelopes: input.envelopes,
        })
    }

    /// DEVICE_KEYS_CHANGED to the partner in each of the user's encrypted
    /// direct conversations (and to the user's own other devices).
    async fn announce_key_change(&self, user_id: &str) -> AppResult<()> {
        let conversations = self
            .store
            .conversations_of_user(user_id, None, usize::MAX >> 1)
            .await?;
        let encrypted: Vec<String> = conversations
            .into_iter()
            .filter(|conversation| {
                conversation.kind == ConversationKind::Direct && conversation.encrypted_at.is_some()
            })
            .map(|conversation| conversation.id)
            .collect();
        if encrypted.is_empty() {
            return Ok(());
        }
        // One read for the members of all of them.
        for member in self.store.members_of(&encrypted).await? {
            self.notify(
                &member.user_id,
                NotificationKind::DeviceKeysChanged,
                &member.conversation_id,
                Some(user_id),
            )
            .await;
        }
        Ok(())
    }

    async fn notify(
        &self,
        recipient_id: &str,
        kind: NotificationKind,
        conversation_id: &str,
        user_id: Option<&str>,
    ) {
        self.bus
            .publish(BusEvent::Notification {
                recipient_id: recipient_id.to_owned(),
                kind,
                friend_request_id: None,
                conversation_id: Some(conversation_id.to_owned()),
                user_id: user_id.map(str::to_owned),
                at: Utc::now(),
            })
            .await;
    }
}

/// A base64 (standard alphabet) field whose decoded length is in `bytes`;
/// returned trimmed.
fn base64_field(
    value: String,
    field: &'static str,
    bytes: std::ops::RangeInclusive<usize>,
) -> AppResult<String> {
    let value = value.trim().to_owned();
    match STANDARD.decode(&value) {
        Ok(decoded) if bytes.contains(&decoded.len()) => Ok(value),
        _ => Err(AppError::bad_input(
            field,
            format!(
                "{field} must be standard base64 of {}–{} bytes",
                bytes.start(),
                bytes.end()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_fields_are_checked_for_alphabet_and_size() {
        let key = STANDARD.encode([7_u8; 91]);
        assert_eq!(
            base64_field(format!(" {key} "), "identityKey", PUBLIC_KEY_BYTES).ok(),
            Some(key)
        );
        assert!(base64_field("not base64!".into(), "identityKey", PUBLIC_KEY_BYTES).is_err());
        let short = STANDARD.encode([7_u8; 8]);
        assert!(base64_field(short, "identityKey", PUBLIC_KEY_BYTES).is_err());
        let url_safe = base64::engine::general_purpose::URL_SAFE.encode([0xfb_u8; 91]);
        assert!(base64_field(url_safe, "identityKey", PUBLIC_KEY_BYTES).is_err());
        let signature = STANDARD.encode([1_u8; 64]);
        assert!(base64_field(signature, "signature", SIGNATURE_BYTES).is_ok());
    }
}
