//! Friend requests.

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};

use super::{User, load_user};
use crate::store::FriendRequestRecord;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "crate::store::FriendRequestStatus")]
pub enum FriendRequestStatus {
    Pending,
    Accepted,
    Declined,
    Cancelled,
}

pub struct FriendRequest(pub FriendRequestRecord);

#[Object]
impl FriendRequest {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn from(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, &self.0.from_user_id).await
    }

    async fn to(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        load_user(ctx, &self.0.to_user_id).await
    }

    async fn status(&self) -> FriendRequestStatus {
        self.0.status.into()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}
