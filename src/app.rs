//! Wiring: configuration → store → services → schema → HTTP, and the
//! server's life from bind to graceful shutdown.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::graphql;
use crate::http::{self, AppState};
use crate::mail::Mailer;
use crate::media::local::LocalMediaStore;
use crate::media::signing::UrlSigner;
use crate::service::account::{AccountPolicy, AccountService};
use crate::service::encryption::EncryptionService;
use crate::service::live::LiveService;
use crate::service::login_throttle::LoginThrottle;
use crate::service::media::MediaService;
use crate::service::password::PasswordHasher;
use crate::service::presence::PresenceService;
use crate::service::rate_limit::{RateLimitConfig, RateLimits};
use crate::service::tokens::AccessTokens;
use crate::service::{
    AuthService, ConversationService, FriendService, MessageService, Services, UserService,
};
use crate::{bus, secrets, store};

/// How often idle rate-limit state is forgotten.
const PRUNE_INTERVAL: Duration = Duration::from_secs(60);

/// A server that is accepting connections.
pub struct RunningServer {
    pub addr: SocketAddr,
    services: Arc<Services>,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl RunningServer {
    /// The running services (tests drive periodic jobs through them).
    pub fn services(&self) -> &Arc<Services> {
        &self.services
    }

    /// A token that, once cancelled, shuts the server down gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, lets in-flight requests finish, and waits.
    pub async fn stop(self) -> anyhow::Result<()> {
        self.shutdown.cancel();
        self.wait().await
    }

    /// Waits until the server has shut down.
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await.context("server task")??;
        Ok(())
    }
}

/// Builds every part and starts serving on `HOST:PORT`.
pub async fn start(config: Config) -> anyhow::Result<RunningServer> {
    crate::telemetry::metrics::handle();
    let secret = secrets::jwt_secret(&config)?;
    let store = store::open(&config).await?;
    let bus = bus::open(&config).await?;
    let services = Arc::new(build_services(&config, &secret, store, bus)?);
    let (presence, media) = (services.presence.clone(), services.media.clone());
    let shutdown = CancellationToken::new();
    let state = AppState {
        schema: graphql::build_schema(services.clone(), config.environment),
        services: services.clone(),
        started_at: Instant::now(),
        shutdown: shutdown.clone(),
        allowed_origins: Arc::new(config.cors_origins.clone()),
        max_body_bytes: config.max_body_bytes,
        ws_keep_alive: Duration::from_secs(config.ws_keepalive_seconds),
        user_connections: Arc::new(http::ws::UserConnections::with_cap(
            config.ws_max_connections_per_user,
        )),
        shared_frames: Arc::default(),
    };
    let router = http::router(state, &config)?;

    let listener = tokio::net::TcpListener::bind((config.host, config.port))
        .await
        .with_context(|| format!("binding {}:{}", config.host, config.port))?;
    let addr = listener.local_addr()?;

    tokio::spawn(presence.sweep_forever(config.presence_ttl() / 3, shutdown.clone()));
    tokio::spawn(collect_garbage_periodically(media, shutdown.clone()));
    tokio::spawn(prune_periodically(services.clone(), shutdown.clone()));
    let task = tokio::spawn(
        axum::serve(
            listener,
            router.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(shutdown.clone().cancelled_owned())
        .into_future(),
    );
    tracing::info!(%addr, "RealTalk listening; GraphiQL at http://{addr}/graphql");
    Ok(RunningServer {
        addr,
        services,
        shutdown,
        task,
    })
}

async fn prune_periodically(services: Arc<Services>, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(PRUNE_INTERVAL);
    loop {
        tokio::select! {
            _ = ticker.tick() => services.prune_limits(),
            () = shutdown.cancelled() => return,
        }
    }
}

/// Builds every service once, in dependency order.
fn build_services(
    config: &Config,
    secret: &[u8],
    store: Arc<dyn store::Store>,
    bus: Arc<dyn bus::Bus>,
) -> anyhow::Result<Services> {
    let rate_limits = Arc::new(RateLimits::new(RateLimitConfig {
        auth_per_minute: config.auth_rate_limit_per_minute,
    }));
    let login_throttle = Arc::new(LoginThrottle::new(config.login_failures_before_delay));
    let passwords = PasswordHasher::new()?;
    let friends = Arc::new(FriendService::new(store.clone(), bus.clone()));
    let conversations = Arc::new(ConversationService::new(
        store.clone(),
        friends.clone(),
        bus.clone(),
    ));
    let media = Arc::new(MediaService::new(
        store.clone(),
        Arc::new(LocalMediaStore::open(&config.data_dir.join("media"))?),
        UrlSigner::new(secret),
        config.max_upload_bytes,
    ));
    let mailer = Mailer::start(
        Mailer::delivery(config.smtp_url.as_deref(), config.data_dir.join("outbox"))?,
        config
            .mail_from
            .parse()
            .map_err(|error| anyhow::anyhow!("MAIL_FROM: {error}"))?,
    );
    let accounts = Arc::new(AccountService::new(
        store.clone(),
        passwords.clone(),
        mailer,
        bus.clone(),
        rate_limits.clone(),
        login_throttle.clone(),
        conversations.clone(),
        media.clone(),
        AccountPolicy {
            public_url: config.public_url(),
            username_cooldown: chrono::Duration::days(i64::from(config.username_cooldown_days)),
            require_verified_email: config.require_verified_email,
        },
    ));
    let auth = AuthService::new(
        store.clone(),
        passwords,
        AccessTokens::new(secret),
        rate_limits.clone(),
        login_throttle.clone(),
        bus.clone(),
        accounts.clone(),
    );
    let presence = Arc::new(PresenceService::new(
        bus.clone(),
        store.clone(),
        Duration::from_secs(config.presence_grace_seconds),
    ));
    let encryption = Arc::new(EncryptionService::new(
        store.clone(),
        conversations.clone(),
        bus.clone(),
    ));
    Ok(Services {
        users: UserService::new(store.clone(), media.clone()),
        messages: MessageService::new(
            store.clone(),
            conversations.clone(),
            friends.clone(),
            bus.clone(),
            rate_limits.clone(),
            accounts.clone(),
            encryption.clone(),
        ),
        encryption,
        live: LiveService::new(store.clone(), bus.clone(), conversations.clone()),
        media,
        presence,
        friends,
        conversations,
        accounts,
        bus,
        auth,
        store,
        rate_limits,
        login_throttle,
    })
}

/// How often unused uploads are looked for.
const MEDIA_GC_INTERVAL: Duration = Duration::from_secs(60 * 60);

async fn collect_garbage_periodically(media: Arc<MediaService>, shutdown: CancellationToken) {
    let mut ticker = tokio::time::interval(MEDIA_GC_INTERVAL);
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                if let Err(error) = media.collect_garbage().await {
                    tracing::warn!(cause = ?error.source, "media clean-up failed");
                }
            }
            () = shutdown.cancelled() => return,
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(
            tokio::signal::unix::SignalKind::terminate(),
        ) {
            Ok(signal) => signal,
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; only Ctrl-C stops the server");
                let _ = ctrl_c.await;
                return;
            }
        };
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate.recv() => {},
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: finishing in-flight requests");
}
