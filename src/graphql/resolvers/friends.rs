//! Friends, requests and blocks.

use async_graphql::{Context, ID, Object};

use crate::graphql::context;
use crate::graphql::types::{FriendRequest, User};

#[derive(Default)]
pub struct FriendQuery;

#[Object]
impl FriendQuery {
    async fn friends(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<User>> {
        let viewer = context::viewer(ctx).await?;
        let friends = context::services(ctx)?.friends.friends(viewer).await?;
        Ok(friends.into_iter().map(User::new).collect())
    }

    /// Pending requests: incoming when true, outgoing when false.
    async fn friend_requests(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(true)")] incoming: Option<bool>,
    ) -> async_graphql::Result<Vec<FriendRequest>> {
        let viewer = context::viewer(ctx).await?;
        let requests = context::services(ctx)?
            .friends
            .requests(viewer, incoming.unwrap_or(true))
            .await?;
        Ok(requests.into_iter().map(FriendRequest).collect())
    }
}

#[derive(Default)]
pub struct FriendMutation;

#[Object]
impl FriendMutation {
    async fn send_friend_request(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
    ) -> async_graphql::Result<FriendRequest> {
        let viewer = context::viewer(ctx).await?;
        let request = context::services(ctx)?
            .friends
            .send_request(viewer, &user_id)
            .await?;
        Ok(FriendRequest(request))
    }

    async fn accept_friend_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<FriendRequest> {
        let viewer = context::viewer(ctx).await?;
        let request = context::services(ctx)?.friends.accept(viewer, &id).await?;
        Ok(FriendRequest(request))
    }

    async fn decline_friend_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<FriendRequest> {
        let viewer = context::viewer(ctx).await?;
        let request = context::services(ctx)?.friends.decline(viewer, &id).await?;
        Ok(FriendRequest(request))
    }

    async fn cancel_friend_request(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> async_graphql::Result<FriendRequest> {
        let viewer = context::viewer(ctx).await?;
        let request = context::services(ctx)?.friends.cancel(viewer, &id).await?;
        Ok(FriendRequest(request))
    }

    async fn remove_friend(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .friends
            .remove_friend(viewer, &user_id)
            .await?)
    }

    async fn block_user(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .friends
            .block(viewer, &user_id)
            .await?)
    }

    async fn unblock_user(&self, ctx: &Context<'_>, user_id: ID) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .friends
            .unblock(viewer, &user_id)
            .await?)
    }
}
