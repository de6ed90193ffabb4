//! End-to-end encryption: publishing device keys and switching a direct
//! conversation to encrypted.

use async_graphql::{Context, ID, Object};

use crate::graphql::context;
use crate::graphql::types::{Conversation, DeviceKey, RegisterDeviceKeyInput};
use crate::service::encryption::NewDeviceKey;

#[derive(Default)]
pub struct EncryptionMutation;

#[Object]
impl EncryptionMutation {
    /// Publishes this device's public keys. Idempotent per (user, encryptionKey); at most 10 active keys per user.
    async fn register_device_key(
        &self,
        ctx: &Context<'_>,
        input: RegisterDeviceKeyInput,
    ) -> async_graphql::Result<DeviceKey> {
        let viewer = context::viewer(ctx).await?;
        let key = context::services(ctx)?
            .encryption
            .register(
                viewer,
                NewDeviceKey {
                    identity_key: input.identity_key,
                    encryption_key: input.encryption_key,
                    signature: input.signature,
                    label: input.label,
                },
            )
            .await?;
        Ok(DeviceKey(key))
    }

    /// Revokes one of the viewer's device keys: it is no longer sealed to.
    async fn revoke_device_key(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .encryption
            .revoke(viewer, &id)
            .await?)
    }

    /// Switches a direct conversation to end-to-end encryption, for good. Either member may; both need a device key.
    async fn encrypt_conversation(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> async_graphql::Result<Conversation> {
        let viewer = context::viewer(ctx).await?;
        let conversation = context::services(ctx)?
            .encryption
            .encrypt_conversation(viewer, &conversation_id)
            .await?;
        Ok(Conversation(conversation))
    }
}
