//! Users, their relation to the viewer, and account inputs and payloads.

use async_graphql::{Context, Enum, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::super::{context, errors};
use super::DeviceKey;
use crate::service::AuthSession;
use crate::store::{Relationship, UserRecord};

/// The viewer's relation to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum FriendshipStatus {
    #[graphql(name = "SELF")]
    Myself,
    None,
    Friends,
    RequestSent,
    RequestReceived,
    Blocked,
}

/// A user as some viewer sees them.
pub struct User {
    record: UserRecord,
    /// Known to be the viewer without asking the token, as in the payload of
    /// `register`/`login`, whose request carries no token yet.
    is_viewer: bool,
}

impl User {
    pub fn new(record: UserRecord) -> Self {
        User {
            record,
            is_viewer: false,
        }
    }

    /// The viewer's own account.
    pub fn viewer(record: UserRecord) -> Self {
        User {
            record,
            is_viewer: true,
        }
    }

    async fn seen_by_self(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        if self.is_viewer {
            return Ok(true);
        }
        Ok(context::optional_viewer(ctx)
            .await?
            .is_some_and(|viewer| viewer.user_id == self.record.id))
    }
}

#[Object]
impl User {
    async fn id(&self) -> ID {
        ID(self.record.id.clone())
    }

    async fn username(&self) -> &str {
        &self.record.username
    }

    async fn display_name(&self) -> &str {
        &self.record.display_name
    }

    /// A URL of the avatar image, when the user has one.
    async fn avatar_url(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<String>> {
        let media = &context::services(ctx)?.media;
        Ok(self
            .record
            .avatar_attachment_id
            .as_deref()
            .map(|id| media.avatar_url(id)))
    }

    async fn online(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        let online = context::loaders(ctx)?
            .presence
            .load_one(self.record.id.clone())
            .await
            .map_err(errors::shared)?;
        Ok(online.unwrap_or(false))
    }

    async fn last_seen_at(&self) -> Option<DateTime<Utc>> {
        self.record.last_seen_at
    }

    /// The viewer's relation to this user.
    async fn friendship(&self, ctx: &Context<'_>) -> async_graphql::Result<FriendshipStatus> {
        if self.seen_by_self(ctx).await? {
            return Ok(FriendshipStatus::Myself);
        }
        let Some(viewer) = context::optional_viewer(ctx).await? else {
            return Ok(FriendshipStatus::None);
        };
        let relation = context::loaders(ctx)?
            .relationships
            .load_one((viewer.user_id.clone(), self.record.id.clone()))
            .await
            .map_err(errors::shared)?;
        Ok(match relation.unwrap_or(Relationship::None) {
            Relationship::None => FriendshipStatus::None,
            Relationship::Friends => FriendshipStatus::Friends,
            Relationship::RequestSent => FriendshipStatus::RequestSent,
            Relationship::RequestReceived => FriendshipStatus::RequestReceived,
            Relationship::Blocked => FriendshipStatus::Blocked,
        })
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.record.created_at
    }

    /// Whether the email address is confirmed: for the owner only, null for anyone else.
    async fn email_verified(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        Ok(self
            .seen_by_self(ctx)
            .await?
            .then_some(self.record.email_verified_at.is_some()))
    }

    /// Whether the account was deleted (its messages stay, as "Deleted user").
    async fn deleted(&self) -> bool {
        self.record.deleted_at.is_some()
    }

    /// The account's email address: visible to its owner only, null for anyone else.
    async fn email(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<&str>> {
        Ok(self
            .seen_by_self(ctx)
            .await?
            .then_some(self.record.email.as_str()))
    }

    /// The user's active device keys (end-to-end encryption), oldest first.
    async fn device_keys(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<DeviceKey>> {
        let keys = context::loaders(ctx)?
            .user_device_keys
            .load_one(self.record.id.clone())
            .await
            .map_err(errors::shared)?
            .unwrap_or_default();
        Ok(keys.into_iter().map(DeviceKey).collect())
    }
}

#[derive(SimpleObject)]
pub struct AuthPayload {
    pub access_token: String,
    pub refresh_token: String,
    pub access_token_expires_at: DateTime<Utc>,
    pub user: User,
}

impl From<AuthSession> for AuthPayload {
    fn from(session: AuthSession) -> Self {
        AuthPayload {
            access_token: session.access_token,
            refresh_token: session.refresh_token,
            access_token_expires_at: session.access_token_expires_at,
            user: User::viewer(session.user),
        }
    }
}

#[derive(InputObject)]
pub struct RegisterInput {
    pub username: String,
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    /// Username or email.
    pub login: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct UpdateProfileInput {
    pub display_name: Option<String>,
    pub avatar_attachment_id: Option<ID>,
}
