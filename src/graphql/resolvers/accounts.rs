//! Accounts, sessions and profiles.

use async_graphql::{Context, ID, Object};

use crate::graphql::context;
use crate::graphql::types::{AuthPayload, LoginInput, RegisterInput, UpdateProfileInput, User};
use crate::service::Registration;

#[derive(Default)]
pub struct AccountQuery;

#[Object]
impl AccountQuery {
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

#[derive(Default)]
pub struct AccountMutation;

#[Object]
impl AccountMutation {
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

    /// Confirms an email address with the token from the mailed link.
    async fn verify_email(&self, ctx: &Context<'_>, token: String) -> async_graphql::Result<bool> {
        Ok(context::services(ctx)?
            .accounts
            .verify_email(&token)
            .await?)
    }

    async fn resend_verification_email(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .accounts
            .resend_verification(viewer)
            .await?)
    }

    /// Mails a reset link if the address has an account; the answer is the same either way.
    async fn request_password_reset(
        &self,
        ctx: &Context<'_>,
        email: String,
    ) -> async_graphql::Result<bool> {
        let client_ip = context::request(ctx)?.client_ip;
        Ok(context::services(ctx)?
            .accounts
            .request_password_reset(&email, client_ip)
            .await?)
    }

    /// Sets a new password with the token from a reset mail; every session ends.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        token: String,
        new_password: String,
    ) -> async_graphql::Result<bool> {
        Ok(context::services(ctx)?
            .accounts
            .reset_password(&token, new_password)
            .await?)
    }

    /// Every other session ends.
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        current_password: String,
        new_password: String,
    ) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .accounts
            .change_password(viewer, current_password, new_password)
            .await?)
    }

    /// Mails a confirmation link to the new address and a notice to the old one.
    async fn change_email(
        &self,
        ctx: &Context<'_>,
        new_email: String,
        password: String,
    ) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .accounts
            .change_email(viewer, &new_email, password)
            .await?)
    }

    /// Deletes the viewer's account; messages remain, as "Deleted user".
    async fn delete_account(
        &self,
        ctx: &Context<'_>,
        password: String,
    ) -> async_graphql::Result<bool> {
        let viewer = context::viewer(ctx).await?;
        Ok(context::services(ctx)?
            .accounts
            .delete_account(viewer, password)
            .await?)
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
