//! DataLoaders, created per request: every lookup a resolver makes by id is
//! batched with its siblings into one store call, so a page of 50
//! conversations costs a handful of queries, not hundreds.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};

use crate::error::AppError;
use crate::service::Services;
use crate::store::{
    AttachmentRecord, DeviceKeyRecord, MemberRecord, MessageRecord, ReactionRecord, Relationship,
    UserRecord,
};

/// Loader errors must be `Clone`; the error is shared between waiters.
pub type LoadError = Arc<AppError>;

pub struct Loaders {
    pub users: DataLoader<UserLoader>,
    pub messages: DataLoader<MessageLoader>,
    pub members: DataLoader<MembersLoader>,
    pub reactions: DataLoader<ReactionsLoader>,
    pub unread: DataLoader<UnreadLoader>,
    pub relationships: DataLoader<RelationshipLoader>,
    pub presence: DataLoader<PresenceLoader>,
    pub attachments: DataLoader<AttachmentsLoader>,
    pub device_keys: DataLoader<DeviceKeyLoader>,
    pub user_device_keys: DataLoader<UserDeviceKeysLoader>,
}

impl Loaders {
    pub fn new(services: &Arc<Services>) -> Self {
        let spawn = |future| tokio::spawn(future);
        Loaders {
            users: DataLoader::new(UserLoader(services.clone()), spawn),
            messages: DataLoader::new(MessageLoader(services.clone()), spawn),
            members: DataLoader::new(MembersLoader(services.clone()), spawn),
            reactions: DataLoader::new(ReactionsLoader(services.clone()), spawn),
            unread: DataLoader::new(UnreadLoader(services.clone()), spawn),
            relationships: DataLoader::new(RelationshipLoader(services.clone()), spawn),
            presence: DataLoader::new(PresenceLoader(services.clone()), spawn),
            attachments: DataLoader::new(AttachmentsLoader(services.clone()), spawn),
            device_keys: DataLoader::new(DeviceKeyLoader(services.clone()), spawn),
            user_device_keys: DataLoader::new(UserDeviceKeysLoader(services.clone()), spawn),
        }
    }
}

impl Loaders {
    /// Loaders that load at once instead of waiting 1 ms for siblings to
    /// batch with: for rendering one subscription event, where there are
    /// no siblings and the wait is pure latency on every delivery. (A
    /// `load_many` still loads its keys in one call.)
    pub fn immediate(self) -> Self {
        let Loaders {
            users,
            messages,
            members,
            reactions,
            unread,
            relationships,
            presence,
            attachments,
            device_keys,
            user_device_keys,
        } = self;
        Loaders {
            users: users.max_batch_size(1),
            messages: messages.max_batch_size(1),
            members: members.max_batch_size(1),
            reactions: reactions.max_batch_size(1),
            unread: unread.max_batch_size(1),
            relationships: relationships.max_batch_size(1),
            presence: presence.max_batch_size(1),
            attachments: attachments.max_batch_size(1),
            device_keys: device_keys.max_batch_size(1),
            user_device_keys: user_device_keys.max_batch_size(1),
        }
    }
}

/// Users by id.
pub struct UserLoader(Arc<Services>);

impl Loader<String> for UserLoader {
    type Value = UserRecord;
    type Error = LoadError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, UserRecord>, LoadError> {
        let users = self.0.store.users_by_ids(ids).await.map_err(Arc::new)?;
        Ok(users
            .into_iter()
            .map(|user| (user.id.clone(), user))
            .collect())
    }
}

/// Messages by id (last messages, replied-to messages).
pub struct MessageLoader(Arc<Services>);

impl Loader<String> for MessageLoader {
    type Value = MessageRecord;
    type Error = LoadError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, MessageRecord>, LoadError> {
        let messages = self.0.store.messages_by_ids(ids).await.map_err(Arc::new)?;
        Ok(messages
            .into_iter()
            .map(|message| (message.id.clone(), message))
            .collect())
    }
}

/// Members of conversations, by conversation id, longest-standing first.
pub struct MembersLoader(Arc<Services>);

impl Loader<String> for MembersLoader {
    type Value = Vec<MemberRecord>;
    type Error = LoadError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, Vec<MemberRecord>>, LoadError> {
        let members = self.0.store.members_of(ids).await.map_err(Arc::new)?;
        let mut by_conversation: HashMap<String, Vec<MemberRecord>> =
            ids.iter().map(|id| (id.clone(), Vec::new())).collect();
        for member in members {
            by_conversation
                .entry(member.conversation_id.clone())
                .or_default()
                .push(member);
        }
        Ok(by_conversation)
    }
}

/// Reactions of messages, by message id, oldest first.
pub struct ReactionsLoader(Arc<Services>);

impl Loader<String> for ReactionsLoader {
    type Value = Vec<ReactionRecord>;
    type Error = LoadError;

    async fn load(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<ReactionRecord>>, LoadError> {
        let reactions = self.0.store.reactions_for(ids).await.map_err(Arc::new)?;
        let mut by_message: HashMap<String, Vec<ReactionRecord>> =
            ids.iter().map(|id| (id.clone(), Vec::new())).collect();
        for reaction in reactions {
            by_message
                .entry(reaction.message_id.clone())
                .or_default()
                .push(reaction);
        }
        Ok(by_message)
    }
}

/// Device keys by id, revoked ones included (a sealed message's sender).
pub struct DeviceKeyLoader(Arc<Services>);

impl Loader<String> for DeviceKeyLoader {
    type Value = DeviceKeyRecord;
    type Error = LoadError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, DeviceKeyRecord>, LoadError> {
        let keys = self
            .0
            .store
            .device_keys_by_ids(ids)
            .await
            .map_err(Arc::new)?;
        Ok(keys.into_iter().map(|key| (key.id.clone(), key)).collect())
    }
}

/// Active device keys of users, by user id, oldest first.
pub struct UserDeviceKeysLoader(Arc<Services>);

impl Loader<String> for UserDeviceKeysLoader {
    type Value = Vec<DeviceKeyRecord>;
    type Error = LoadError;

    async fn load(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<DeviceKeyRecord>>, LoadError> {
        let keys = self
            .0
            .store
            .active_device_keys(ids)
            .await
            .map_err(Arc::new)?;
        let mut by_user: HashMap<String, Vec<DeviceKeyRecord>> =
            ids.iter().map(|id| (id.clone(), Vec::new())).collect();
        for key in keys {
            by_user.entry(key.user_id.clone()).or_default().push(key);
        }
        Ok(by_user)
    }
}

/// Attachments of messages, by message id, in upload order.
pub struct AttachmentsLoader(Arc<Services>);

impl Loader<String> for AttachmentsLoader {
    type Value = Vec<AttachmentRecord>;
    type Error = LoadError;

    async fn load(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, Vec<AttachmentRecord>>, LoadError> {
        let attachments = self
            .0
            .store
            .attachments_of_messages(ids)
            .await
            .map_err(Arc::new)?;
        let mut by_message: HashMap<String, Vec<AttachmentRecord>> =
            ids.iter().map(|id| (id.clone(), Vec::new())).collect();
        for attachment in attachments {
            if let Some(message_id) = attachment.message_id.clone() {
                by_message.entry(message_id).or_default().push(attachment);
            }
        }
        Ok(by_message)
    }
}

/// Whether users are online, by id.
pub struct PresenceLoader(Arc<Services>);

impl Loader<String> for PresenceLoader {
    type Value = bool;
    type Error = LoadError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, bool>, LoadError> {
        let online = self.0.presence.online(ids).await.map_err(Arc::new)?;
        Ok(ids
            .iter()
            .map(|id| (id.clone(), online.contains(id)))
            .collect())
    }
}

/// A key scoped to one viewer: (viewer id, other id).
pub type ViewerKey = (String, String);

/// Unread counts by (viewer, conversation).
pub struct UnreadLoader(Arc<Services>);

impl Loader<ViewerKey> for UnreadLoader {
    type Value = i64;
    type Error = LoadError;

    async fn load(&self, keys: &[ViewerKey]) -> Result<HashMap<ViewerKey, i64>, LoadError> {
        let mut result = HashMap::new();
        for (viewer_id, conversation_ids) in group_by_viewer(keys) {
            let counts = self
                .0
                .store
                .unread_counts(&viewer_id, &conversation_ids)
                .await
                .map_err(Arc::new)?;
            for (conversation_id, count) in counts {
                result.insert((viewer_id.clone(), conversation_id), count);
            }
        }
        Ok(result)
    }
}

/// How the viewer stands to other users, by (viewer, other).
pub struct RelationshipLoader(Arc<Services>);

impl Loader<ViewerKey> for RelationshipLoader {
    type Value = Relationship;
    type Error = LoadError;

    async fn load(
        &self,
        keys: &[ViewerKey],
    ) -> Result<HashMap<ViewerKey, Relationship>, LoadError> {
        let mut result = HashMap::new();
        for (viewer_id, other_ids) in group_by_viewer(keys) {
            let relations = self
                .0
                .store
                .relationships(&viewer_id, &other_ids)
                .await
                .map_err(Arc::new)?;
            for (other_id, relation) in relations {
                result.insert((viewer_id.clone(), other_id), relation);
            }
        }
        Ok(result)
    }
}

/// In practice one request has one viewer, so this is one group.
fn group_by_viewer(keys: &[ViewerKey]) -> HashMap<String, Vec<String>> {
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    for (viewer_id, other_id) in keys {
        groups
            .entry(viewer_id.clone())
            .or_default()
            .push(other_id.clone());
    }
    groups
}
