//! The root types, merged from one resolver module per area. Resolvers stay
//! thin: read arguments, ask a service, wrap the result.

mod accounts;
mod conversations;
mod encryption;
mod friends;
mod live;
mod messages;

pub use live::Subscription;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    accounts::AccountQuery,
    friends::FriendQuery,
    conversations::ConversationQuery,
    messages::MessageQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    accounts::AccountMutation,
    friends::FriendMutation,
    conversations::ConversationMutation,
    messages::MessageMutation,
    encryption::EncryptionMutation,
);
