//! GraphQL object types: thin views over store records that load what they
//! link to through the request's DataLoaders.

mod conversation;
mod encryption;
mod friends;
mod live;
mod message;
mod user;
pub mod viewer_fields;

pub use conversation::{
    Conversation, ConversationConnection, ConversationKind, Member, MemberRole,
};
pub use encryption::{DeviceKey, Envelope, EnvelopeInput, RegisterDeviceKeyInput};
pub use friends::{FriendRequest, FriendRequestStatus};
pub use live::{
    MessageEvent, Notification, NotificationKind, PresenceEvent, ReadMarkerEvent, TypingEvent,
};
pub use message::{
    Attachment, Message, MessageConnection, MessageEventKind, PageInfo, messages_page,
};
pub use user::{
    AuthPayload, FriendshipStatus, LoginInput, RegisterInput, UpdateProfileInput, User,
};

use async_graphql::Context;

use super::{context, errors};
use crate::store::UserRecord;

/// Loads a user that must exist (an author, a member); a dangling id is an
/// internal error, since foreign keys rule it out.
pub(crate) async fn load_user(ctx: &Context<'_>, id: &str) -> async_graphql::Result<User> {
    let user: Option<UserRecord> = context::loaders(ctx)?
        .users
        .load_one(id.to_owned())
        .await
        .map_err(errors::shared)?;
    user.map(User::new).ok_or_else(|| {
        crate::error::AppError::internal(anyhow::anyhow!("user {id} is referenced but missing"))
            .into()
    })
}
