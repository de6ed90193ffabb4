//! Mutation root: thin resolvers that ask services.

use async_graphql::{Context, Object};

use super::context;
use super::types::{AuthPayload, LoginInput, RegisterInput, UpdateProfileInput, User};
use crate::service::Registration;

pub struct Mutation;

#[Object]
impl Mutation {
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<AuthPayload> {
        let client_ip = context::request(ctx)?.client_ip;
        let registration = Registration {
            username: input.username,
            email: input.email,
            password: input.password,
            display_name: input.display_name,
        };
        let session = context::services(ctx)?
            .auth
            .register(registration, client_ip)
            .await?;
        Ok(session.into())
    }

    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let client_ip = context::request(ctx)?.client_ip;
        let session = context::services(ctx)?
            .auth
            .login(&input.login, input.password, client_ip)
            .await?;
        Ok(session.into())
    }

    /// Rotates: the presented refresh token is spent and a new pair is returned.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> async_graphql::Result<AuthPayload> {
        let client_ip = context::request(ctx)?.client_ip;
        let session = context::services(ctx)?
            .auth
            .refresh(&token, client_ip)
            .await?;
        Ok(session.into())
    }

    /// Ends the current session at once: its access and refresh tokens stop working and its live subscriptions close.
    async fn logout(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?.auth.logout(viewer).await?)
    }

    /// Ends every session of the viewer, the same way.
    async fn logout_all(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?.auth.logout_all(viewer).await?)
    }

    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> async_graphql::Result<User> {
        let viewer = context::viewer(ctx).await?;
        let user = context::services(ctx)?
            .users
            .update_profile(
                viewer,
                input.display_name.as_deref(),
                input.avatar_attachment_id.as_ref().map(|id| id.as_str()),
            )
            .await?;
        Ok(User::viewer(user))
    }
}
