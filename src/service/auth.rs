//! Accounts and sessions: register, login, refresh, logout, and turning a
//! bearer token into a [`Viewer`].

use std::net::IpAddr;
use std::sync::Arc;

use chrono::Utc;
use uuid::Uuid;

use super::account::AccountService;
use super::login_throttle::LoginThrottle;
use super::password::PasswordHasher;
use super::rate_limit::{Action, RateLimits};
use super::session_cache::SessionCache;
use super::tokens::{self, AccessTokens, REFRESH_TOKEN_TTL};
use super::validation;
use crate::bus::{Bus, BusEvent};
use crate::error::{AppError, AppResult};
use crate::store::{NewSession, NewUser, RefreshOutcome, Store, UserRecord};

/// The signed-in user of a request, and the session their token belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Viewer {
    pub user_id: String,
    pub session_id: String,
}

/// What a successful register, login or refresh hands back.
#[derive(Debug, Clone)]
pub struct AuthSession {
    pub user: UserRecord,
    pub access_token: String,
    pub access_token_expires_at: chrono::DateTime<Utc>,
    pub refresh_token: String,
}

/// Input of `register`, as the client sent it.
#[derive(Debug, Clone)]
pub struct Registration {
    pub username: String,
    pub email: String,
    pub password: String,
    pub display_name: Option<String>,
}

pub struct AuthService {
    store: Arc<dyn Store>,
    passwords: PasswordHasher,
    tokens: AccessTokens,
    limits: Arc<RateLimits>,
    throttle: Arc<LoginThrottle>,
    bus: Arc<dyn Bus>,
    accounts: Arc<AccountService>,
    /// Sessions recently read as active, so most requests skip the store.
    sessions: SessionCache,
}

impl AuthService {
    pub fn new(
        store: Arc<dyn Store>,
        passwords: PasswordHasher,
        tokens: AccessTokens,
        limits: Arc<RateLimits>,
        throttle: Arc<LoginThrottle>,
        bus: Arc<dyn Bus>,
        accounts: Arc<AccountService>,
    ) -> Self {
        AuthService {
            store,
            passwords,
            tokens,
            limits,
            throttle,
            bus,
            accounts,
            sessions: SessionCache::default(),
        }
    }

    /// Creates an account and signs it in.
    pub async fn register(&self, input: Registration, client_ip: IpAddr) -> AppResult<AuthSession> {
        self.limits
            .check(Action::Register, &client_ip.to_string())?;
        let username = validation::username(&input.username)?;
        let email = validation::email(&input.email)?;
        validation::new_password(&input.password)?;
        let display_name = match input.display_name.as_deref() {
            Some(name) => validation::display_name(name)?,
            None => username.clone(),
        };
        if self
            .store
            .username_available_at(&username)
            .await?
            .is_some_and(|available_at| available_at > Utc::now())
        {
            return Err(AppError::conflict("username", "this username is taken"));
        }
        let password_hash = self.passwords.hash(input.password).await?;
        let user = self
            .store
            .create_user(NewUser {
                id: Uuid::now_v7().to_string(),
                username,
                email,
                display_name,
                password_hash,
                created_at: Utc::now(),
            })
            .await?;
        tracing::info!(user_id = %user.id, "account registered");
        self.accounts.send_verification(&user, &user.email).await?;
        self.start_session(user).await
    }

    /// Signs in by username or email. An unknown account and a wrong password
    /// give the same error after the same amount of work.
    pub async fn login(
        &self,
        login: &str,
        password: String,
        client_ip: IpAddr,
    ) -> AppResult<AuthSession> {
        self.limits.check(Action::Login, &client_ip.to_string())?;
        validation::presented_password(&password)?;
        let login = login.trim().to_lowercase();
        if login.is_empty() || login.len() > validation::EMAIL_MAX {
            return Err(AppError::bad_input(
                "login",
                "login must be a username or email",
            ));
        }
        self.throttle.check(&login)?;
        let user = self.store.user_by_login(&login).await?;
        let stored_hash = user.as_ref().map(|user| user.password_hash.clone());
        let matches = self.passwords.verify(password, stored_hash).await?;
        match user {
            Some(user) if matches => {
                self.throttle.record_success(&login);
                self.start_session(user).await
            }
            _ => {
                self.throttle.record_failure(&login);
                Err(AppError::unauthenticated("invalid login or password"))
            }
        }
    }

    /// Spends a refresh token and returns a new pair. Presenting a spent
    /// token revokes the whole session: someone else may hold it.
    pub async fn refresh(&self, refresh_token: &str, client_ip: IpAddr) -> AppResult<AuthSession> {
        self.limits
            .check(Action::RefreshToken, &client_ip.to_string())?;
        let invalid = || AppError::unauthenticated("invalid or expired refresh token");
        if refresh_token.is_empty() || refresh_token.len() > 128 {
            return Err(invalid());
        }
        let presented_hash = tokens::refresh_token_hash(refresh_token);
        let (next_token, next_hash) = tokens::new_refresh_token();
        let now = Utc::now();
        let outcome = self
            .store
            .rotate_refresh_token(&presented_hash, &next_hash, now, now + REFRESH_TOKEN_TTL)
            .await?;
        let session = match outcome {
            RefreshOutcome::Rotated(session) => session,
            RefreshOutcome::Reused(session) => {
                tracing::warn!(
                    session_id = %session.id,
                    user_id = %session.user_id,
                    "spent refresh token presented again; session revoked"
                );
                self.bus
                    .publish(BusEvent::SessionsRevoked {
                        user_id: session.user_id,
                        session_id: Some(session.id),
                    })
                    .await;
                return Err(invalid());
            }
            RefreshOutcome::Invalid => return Err(invalid()),
        };
        let user = self
            .store
            .user_by_id(&session.user_id)
            .await?
            .ok_or_else(invalid)?;
        let (access_token, access_token_expires_at) =
            self.tokens.issue(&user.id, &session.id, now)?;
        Ok(AuthSession {
            user,
            access_token,
            access_token_expires_at,
            refresh_token: next_token,
        })
    }

    /// Ends the viewer's session at once.
    pub async fn logout(&self, viewer: &Viewer) -> AppResult<bool> {
        self.store
            .revoke_session(&viewer.session_id, Utc::now())
            .await?;
        self.bus
            .publish(BusEvent::SessionsRevoked {
                user_id: viewer.user_id.clone(),
                session_id: Some(viewer.session_id.clone()),
            })
            .await;
        tracing::info!(user_id = %viewer.user_id, session_id = %viewer.session_id, "logged out");
        Ok(true)
    }

    /// Ends every session of the viewer at once.
    pub async fn logout_all(&self, viewer: &Viewer) -> AppResult<bool> {
        let ended = self
            .store
            .revoke_user_sessions(&viewer.user_id, Utc::now())
            .await?;
        self.bus
            .publish(BusEvent::SessionsRevoked {
                user_id: viewer.user_id.clone(),
                session_id: None,
            })
            .await;
        tracing::info!(user_id = %viewer.user_id, sessions = ended, "logged out everywhere");
        Ok(true)
    }

    /// The viewer an access token stands for, provided its session is still
    /// active: revocation is checked on every request, not at expiry (from
    /// memory when the session was read within the last second and no
    /// revocation has reached this node since: see `session_cache.rs`).
    pub async fn authenticate(&self, access_token: &str) -> AppResult<Viewer> {
        self.authenticate_until(access_token)
            .await
            .map(|(viewer, _)| viewer)
    }

    /// Like [`authenticate`](Self::authenticate), also saying when the
    /// token expires (a WebSocket closes then).
    pub async fn authenticate_until(
        &self,
        access_token: &str,
    ) -> AppResult<(Viewer, chrono::DateTime<Utc>)> {
        let claims = self.tokens.verify(access_token)?;
        let expires_at = chrono::DateTime::<Utc>::from_timestamp(claims.exp, 0).unwrap_or_default();
        // Taken before any read, so a revocation during the read makes the
        // remembered answer stale at once.
        let revocations = self.bus.revocations();
        if self
            .sessions
            .is_active(&claims.sid, &claims.sub, revocations)
        {
            return Ok((
                Viewer {
                    user_id: claims.sub,
                    session_id: claims.sid,
                },
                expires_at,
            ));
        }
        let session = self.store.session_by_id(&claims.sid).await?;
        match session {
            Some(session) if session.user_id == claims.sub && session.is_active(Utc::now()) => {
                self.sessions.remember(
                    &session.id,
                    &session.user_id,
                    session.expires_at,
                    revocations,
                );
                Ok((
                    Viewer {
                        user_id: claims.sub,
                        session_id: claims.sid,
                    },
                    expires_at,
                ))
            }
            _ => Err(AppError::unauthenticated("session has ended")),
        }
    }

    /// Opens a new session for `user` with a first token pair.
    async fn start_session(&self, user: UserRecord) -> AppResult<AuthSession> {
        let now = Utc::now();
        let (refresh_token, refresh_token_hash) = tokens::new_refresh_token();
        let session = self
            .store
            .create_session(NewSession {
                id: Uuid::now_v7().to_string(),
                user_id: user.id.clone(),
                refresh_token_hash,
                created_at: now,
                expires_at: now + REFRESH_TOKEN_TTL,
            })
            .await?;
        let (access_token, access_token_expires_at) =
            self.tokens.issue(&user.id, &session.id, now)?;
        Ok(AuthSession {
            user,
            access_token,
            access_token_expires_at,
            refresh_token,
        })
    }
}
