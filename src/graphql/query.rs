//! Query root: thin resolvers that ask services.

use async_graphql::{Context, ID, Object};

use super::context;
use super::types::User;

pub struct Query;

#[Object]
impl Query {
    /// The signed-in user. UNAUTHENTICATED without a valid access token.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<User> {
        let viewer = context::viewer(ctx).await?;
        let user = context::services(ctx)?.users.me(viewer).await?;
        Ok(User::viewer(user))
    }

    async fn user(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<User>> {
        context::viewer(ctx).await?;
        let user = context::services(ctx)?.users.user(&id).await?;
        Ok(user.map(User::new))
    }

    /// Users whose username or display name starts with / contains the query.
    #[graphql(complexity = "first.unwrap_or(20).clamp(0, 100) as usize * child_complexity")]
    async fn search_users(
        &self,
        ctx: &Context<'_>,
        query: String,
        #[graphql(default = 20)] first: Option<i32>,
    ) -> async_graphql::Result<Vec<User>> {
        context::viewer(ctx).await?;
        let users = context::services(ctx)?
            .users
            .search(&query, first.unwrap_or(20))
            .await?;
        Ok(users.into_iter().map(User::new).collect())
    }
}
