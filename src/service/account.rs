//! The account lifecycle by email: verification, password reset, password
//! and email changes, deletion. Tokens are random, mailed once, stored only
//! as hashes, single use and short-lived.

use std::net::IpAddr;
use std::sync::Arc;

use chrono::{Duration, Utc};

use super::auth::Viewer;
use super::conversations::ConversationService;
use super::login_throttle::LoginThrottle;
use super::media::MediaService;
use super::password::PasswordHasher;
use super::rate_limit::{Action, RateLimits};
use super::{tokens, validation};
use crate::bus::{Bus, BusEvent};
use crate::error::{AppError, AppResult};
use crate::mail::{Mailer, templates};
use crate::store::{AccountTokenPurpose, AccountTokenRecord, ConversationKind, Store, UserRecord};

pub const VERIFY_EMAIL_TTL: Duration = Duration::hours(24);
pub const RESET_PASSWORD_TTL: Duration = Duration::minutes(30);

/// Settings of the lifecycle.
#[derive(Debug, Clone)]
pub struct AccountPolicy {
    /// Base URL of the web app, for links in mails.
    pub public_url: String,
    /// How long a deleted account's username stays reserved.
    pub username_cooldown: Duration,
    /// Whether sending messages and friend requests needs a verified email.
    pub require_verified_email: bool,
}

pub struct AccountService {
    store: Arc<dyn Store>,
    passwords: PasswordHasher,
    mailer: Mailer,
    bus: Arc<dyn Bus>,
    limits: Arc<RateLimits>,
    throttle: Arc<LoginThrottle>,
    conversations: Arc<ConversationService>,
    media: Arc<MediaService>,
    policy: AccountPolicy,
}

#[allow(clippy::too_many_arguments)]
impl AccountService {
    pub fn new(
        store: Arc<dyn Store>,
        passwords: PasswordHasher,
        mailer: Mailer,
        bus: Arc<dyn Bus>,
        limits: Arc<RateLimits>,
        throttle: Arc<LoginThrottle>,
        conversations: Arc<ConversationService>,
        media: Arc<MediaService>,
        policy: AccountPolicy,
    ) -> Self {
        AccountService {
            store,
            passwords,
            mailer,
            bus,
            limits,
            throttle,
            conversations,
            media,
            policy,
        }
    }

    pub fn mailer(&self) -> &Mailer {
        &self.mailer
    }

    /// FORBIDDEN unless the policy is off or the viewer's email is verified.
    pub async fn require_verified(&self, viewer: &Viewer) -> AppResult<()> {
        if !self.policy.require_verified_email {
            return Ok(());
        }
        let verified = self
            .store
            .user_by_id(&viewer.user_id)
            .await?
            .is_some_and(|user| user.email_verified_at.is_some());
        if verified {
            Ok(())
        } else {
            Err(AppError::forbidden("verify your email address first"))
        }
    }

    /// Mails a verification link for `email` (the account's, or a new one).
    pub async fn send_verification(&self, user: &UserRecord, email: &str) -> AppResult<()> {
        let token = self
            .issue(
                user,
                AccountTokenPurpose::VerifyEmail,
                email,
                VERIFY_EMAIL_TTL,
            )
            .await?;
        let link = format!("{}/verify-email?token={token}", self.policy.public_url);
        self.mailer
            .send(email, templates::verify_email(&user.display_name, &link));
        Ok(())
    }

    /// Stores a new token's hash and returns the token itself (for the mail only).
    async fn issue(
        &self,
        user: &UserRecord,
        purpose: AccountTokenPurpose,
        email: &str,
        ttl: Duration,
    ) -> AppResult<String> {
        let (token, token_hash) = tokens::new_secret_token();
        let now = Utc::now();
        self.store
            .create_account_token(AccountTokenRecord {
                token_hash,
                user_id: user.id.clone(),
                purpose,
                email: email.to_owned(),
                created_at: now,
                expires_at: now + ttl,
            })
            .await?;
        Ok(token)
    }

    async fn spend(
        &self,
        token: &str,
        purpose: AccountTokenPurpose,
    ) -> AppResult<AccountTokenRecord> {
        let invalid = || AppError::bad_input("token", "this link is invalid, used or expired");
        if token.is_empty() || token.len() > 128 {
            return Err(invalid());
        }
        self.store
            .consume_account_token(&tokens::refresh_token_hash(token), purpose, Utc::now())
            .await?
            .ok_or_else(invalid)
    }

    pub async fn verify_email(&self, token: &str) -> AppResult<bool> {
        let spent = self.spend(token, AccountTokenPurpose::VerifyEmail).await?;
        self.store
            .verify_email(&spent.user_id, &spent.email, Utc::now())
            .await?;
        tracing::info!(user_id = %spent.user_id, "email verified");
        Ok(true)
    }

    pub async fn resend_verification(&self, viewer: &Viewer) -> AppResult<bool> {
        self.limits.check(Action::AccountMail, &viewer.user_id)?;
        let user = self.viewer_record(viewer).await?;
        if user.email_verified_at.is_some() {
            return Err(AppError::bad_input(
                "email",
                "your email is already verified",
            ));
        }
        self.send_verification(&user, &user.email).await?;
        Ok(true)
    }

    /// Always answers the same, whether or not the address has an account.
    pub async fn request_password_reset(&self, email: &str, client_ip: IpAddr) -> AppResult<bool> {
        let email = validation::email(email)?;
        self.limits
            .check(Action::PasswordReset, &format!("ip:{client_ip}"))?;
        self.limits
            .check(Action::PasswordReset, &format!("address:{email}"))?;
        if let Some(user) = self.store.user_by_login(&email).await?
            && user.deleted_at.is_none()
            && user.email == email
        {
            let token = self
                .issue(
                    &user,
                    AccountTokenPurpose::ResetPassword,
                    &email,
                    RESET_PASSWORD_TTL,
                )
                .await?;
            let link = format!("{}/reset-password?token={token}", self.policy.public_url);
            self.mailer
                .send(&email, templates::password_reset(&user.display_name, &link));
        }
        Ok(true)
    }

    /// Sets a new password from a reset link; every session ends.
    pub async fn reset_password(&self, token: &str, new_password: String) -> AppResult<bool> {
        validation::new_password(&new_password)?;
        let spent = self
            .spend(token, AccountTokenPurpose::ResetPassword)
            .await?;
        let hash = self.passwords.hash(new_password).await?;
        self.store.set_password_hash(&spent.user_id, &hash).await?;
        self.end_sessions(&spent.user_id, None).await?;
        tracing::info!(user_id = %spent.user_id, "password reset; every session ended");
        Ok(true)
    }

    /// Needs the current password; every *other* session ends.
    pub async fn change_password(
        &self,
        viewer: &Viewer,
        current_password: String,
        new_password: String,
    ) -> AppResult<bool> {
        validation::new_password(&new_password)?;
        self.check_password(viewer, current_password, "currentPassword")
            .await?;
        let hash = self.passwords.hash(new_password).await?;
        self.store.set_password_hash(&viewer.user_id, &hash).await?;
        self.end_sessions(&viewer.user_id, Some(&viewer.session_id))
            .await?;
        Ok(true)
    }

    /// Mails a verification link to the new address and a notice to the
    /// old one; the address changes once the link is used.
    pub async fn change_email(
        &self,
        viewer: &Viewer,
        new_email: &str,
        password: String,
    ) -> AppResult<bool> {
        let new_email = validation::email(new_email)?;
        self.limits.check(Action::AccountMail, &viewer.user_id)?;
        let user = self.check_password(viewer, password, "password").await?;
        if user.email == new_email {
            return Err(AppError::bad_input(
                "newEmail",
                "this is already your email",
            ));
        }
        if self.store.user_by_login(&new_email).await?.is_some() {
            return Err(AppError::conflict(
                "newEmail",
                "an account with this email exists",
            ));
        }
        self.send_verification(&user, &new_email).await?;
        self.mailer.send(
            &user.email,
            templates::email_change_notice(&user.display_name, &new_email),
        );
        Ok(true)
    }

    /// Deletes the account: sessions end, the profile goes, messages stay
    /// as "Deleted user", uploads are removed, groups are left (ownership
    /// passes on), and the username is free after the cool-down.
    pub async fn delete_account(&self, viewer: &Viewer, password: String) -> AppResult<bool> {
        self.check_password(viewer, password, "password").await?;
        let conversations = self
            .store
            .conversations_of_user(&viewer.user_id, None, usize::MAX >> 1)
            .await?;
        for conversation in conversations
            .iter()
            .filter(|conversation| conversation.kind == ConversationKind::Group)
        {
            self.conversations.leave(viewer, &conversation.id).await?;
        }
        let now = Utc::now();
        // Nobody may seal to a deleted account's devices; the keys stay so
        // its old messages still name their sender's key.
        self.store
            .revoke_device_keys(&viewer.user_id, None, now)
            .await?;
        let hashes = self
            .store
            .delete_account(&viewer.user_id, now, now + self.policy.username_cooldown)
            .await?;
        self.media.forget_content(&hashes).await?;
        self.bus
            .publish(BusEvent::SessionsRevoked {
                user_id: viewer.user_id.clone(),
                session_id: None,
            })
            .await;
        tracing::info!(user_id = %viewer.user_id, "account deleted");
        Ok(true)
    }

    async fn viewer_record(&self, viewer: &Viewer) -> AppResult<UserRecord> {
        self.store
            .user_by_id(&viewer.user_id)
            .await?
            .filter(|user| user.deleted_at.is_none())
            .ok_or_else(|| AppError::unauthenticated("account no longer exists"))
    }

    /// The viewer's record if `password` is theirs; throttled like logins.
    async fn check_password(
        &self,
        viewer: &Viewer,
        password: String,
        field: &'static str,
    ) -> AppResult<UserRecord> {
        validation::presented_password(&password)?;
        let key = format!("user:{}", viewer.user_id);
        self.throttle.check(&key)?;
        let user = self.viewer_record(viewer).await?;
        if self
            .passwords
            .verify(password, Some(user.password_hash.clone()))
            .await?
        {
            self.throttle.record_success(&key);
            Ok(user)
        } else {
            self.throttle.record_failure(&key);
            Err(AppError::bad_input(field, "the password is wrong"))
        }
    }

    async fn end_sessions(&self, user_id: &str, keep: Option<&str>) -> AppResult<()> {
        let ended = self
            .store
            .revoke_other_sessions(user_id, keep, Utc::now())
            .await?;
        for session_id in ended {
            self.bus
                .publish(BusEvent::SessionsRevoked {
                    user_id: user_id.to_owned(),
                    session_id: Some(session_id),
                })
                .await;
        }
        Ok(())
    }
}
