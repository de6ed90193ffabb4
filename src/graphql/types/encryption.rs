//! End-to-end encryption: device keys and sealed envelopes. The server
//! hands these out as the clients published them; it cannot read them.

use async_graphql::{ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use crate::store::{DeviceKeyRecord, Envelope as EnvelopeRecord};

/// One device's public keys.
pub struct DeviceKey(pub DeviceKeyRecord);

#[Object]
impl DeviceKey {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn user_id(&self) -> ID {
        ID(self.0.user_id.clone())
    }

    /// ECDSA P-256 public key (SPKI DER, standard base64): the device's identity, which safety numbers are made of.
    async fn identity_key(&self) -> &str {
        &self.0.identity_key
    }

    /// ECDH P-256 public key (SPKI DER, standard base64) that messages for this device are sealed to.
    async fn encryption_key(&self) -> &str {
        &self.0.encryption_key
    }

    /// identityKey's ECDSA P-256/SHA-256 signature (r‖s, standard base64) over the UTF-8 bytes of "realtalk-device-key-v1\n" + userId + "\n" + encryptionKey. Clients verify it; the server does not.
    async fn signature(&self) -> &str {
        &self.0.signature
    }

    /// Chosen by the client, e.g. "Chromium on Linux".
    async fn label(&self) -> Option<&str> {
        self.0.label.as_deref()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }

    /// Set once the key is revoked; revoked keys are no longer sealed to.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

/// A message's ciphertext for one device.
#[derive(SimpleObject)]
pub struct Envelope {
    pub device_key_id: ID,
    /// Standard base64; opaque to the server.
    pub ciphertext: String,
}

impl From<&EnvelopeRecord> for Envelope {
    fn from(envelope: &EnvelopeRecord) -> Self {
        Envelope {
            device_key_id: ID(envelope.device_key_id.clone()),
            ciphertext: envelope.ciphertext.clone(),
        }
    }
}

#[derive(InputObject)]
pub struct EnvelopeInput {
    pub device_key_id: ID,
    /// Standard base64, at most 65 536 characters.
    pub ciphertext: String,
}

impl From<EnvelopeInput> for EnvelopeRecord {
    fn from(input: EnvelopeInput) -> Self {
        EnvelopeRecord {
            device_key_id: input.device_key_id.0,
            ciphertext: input.ciphertext,
        }
    }
}

#[derive(InputObject)]
pub struct RegisterDeviceKeyInput {
    /// ECDSA P-256 public key, SPKI DER, standard base64.
    pub identity_key: String,
    /// ECDH P-256 public key, SPKI DER, standard base64.
    pub encryption_key: String,
    /// identityKey's signature over "realtalk-device-key-v1\n" + userId + "\n" + encryptionKey.
    pub signature: String,
    /// At most 64 characters.
    pub label: Option<String>,
}
