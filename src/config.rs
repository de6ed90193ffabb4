//! Configuration: every setting is an environment variable and a flag.
//!
//! Parsing is done by clap (with `env`); [`Config::validate`] adds the checks
//! clap cannot express. A bad value is reported as one line naming the
//! variable, and the process exits with code 2 (see `main.rs`).

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "realtalk",
    version,
    about = "RealTalk: real-time messaging over one GraphQL API",
    args_override_self = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub config: Config,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Print the GraphQL schema (SDL) and exit.
    Schema,
    /// Copy all data into an empty store or dump: `sqlite://PATH`,
    /// `mongodb://…` or `FILE.jsonl` at either end.
    Migrate {
        /// Where the data is now.
        #[arg(long)]
        from: String,
        /// Where it goes; must be empty.
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Environment {
    Development,
    Production,
}

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, env = "PORT", default_value_t = 8080)]
    pub port: u16,
    /// Directory for the embedded database, generated secrets and media.
    #[arg(long, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// `sqlite://PATH` or `mongodb://…`; default: SQLite at DATA_DIR/realtalk.db.
    #[arg(long, env = "DATABASE_URL")]
    pub database_url: Option<String>,
    /// `redis://…` for multi-node delivery; unset: in-process bus.
    #[arg(long, env = "REDIS_URL")]
    pub redis_url: Option<String>,
    /// HMAC secret for access tokens (at least 32 bytes); unset: generated
    /// once and stored in DATA_DIR/jwt_secret.
    #[arg(long, env = "JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,
    /// Comma-separated origins allowed by CORS (`*` for any); empty: same-origin only.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Log output: `pretty` for people, `json` for machines.
    #[arg(long, env = "LOG_FORMAT", value_enum, default_value = "pretty")]
    pub log_format: LogFormat,
    /// Log filter, e.g. `info` or `realtalk=debug,tower_http=info`.
    #[arg(long = "log", env = "RUST_LOG", default_value = "info")]
    pub rust_log: String,
    /// Directory for daily-rotated log files (logs go to stderr as well).
    #[arg(long, env = "LOG_DIR")]
    pub log_dir: Option<PathBuf>,
    /// Report errors and panics to Sentry at this DSN (unset: no reporting).
    #[arg(long, env = "SENTRY_DSN", hide_env_values = true)]
    pub sentry_dsn: Option<String>,
    /// `production` turns off introspection and field suggestions.
    #[arg(
        long = "env",
        env = "REALTALK_ENV",
        value_enum,
        default_value = "development"
    )]
    pub environment: Environment,
    /// Comma-separated proxy addresses whose `X-Forwarded-For` is trusted.
    #[arg(long, env = "TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<IpAddr>,
    /// Sustained GraphQL requests per second allowed from one IP.
    #[arg(long, env = "RATE_LIMIT_PER_SECOND", default_value_t = 50)]
    pub rate_limit_per_second: u32,
    /// Burst of GraphQL requests allowed from one IP.
    #[arg(long, env = "RATE_LIMIT_BURST", default_value_t = 200)]
    pub rate_limit_burst: u32,
    /// `login`/`register`/`refreshToken` attempts allowed per IP per minute.
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_MINUTE", default_value_t = 20)]
    pub auth_rate_limit_per_minute: u32,
    /// Failed logins for one account before each further failure adds a growing delay.
    #[arg(long, env = "LOGIN_FAILURES_BEFORE_DELAY", default_value_t = 5)]
    pub login_failures_before_delay: u32,
    /// Seconds a node's presence entries outlive its last heartbeat (Redis):
    /// how long a crashed node's users still look online.
    #[arg(long, env = "PRESENCE_TTL_SECONDS", default_value_t = 30)]
    pub presence_ttl_seconds: u64,
    /// Seconds a user stays online after their last connection closes.
    #[arg(long, env = "PRESENCE_GRACE_SECONDS", default_value_t = 5)]
    pub presence_grace_seconds: u64,
    /// `smtp://user:pass@host:587?tls=required` or `smtps://…`; unset: mails
    /// are written as .eml files to DATA_DIR/outbox.
    #[arg(long, env = "SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,
    /// Sender of the mails RealTalk sends.
    #[arg(
        long,
        env = "MAIL_FROM",
        default_value = "RealTalk <no-reply@realtalk.localhost>"
    )]
    pub mail_from: String,
    /// Base URL of the web app for links in mails; default http://HOST:PORT.
    #[arg(long, env = "PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Whether sending messages and friend requests needs a verified email.
    #[arg(long, env = "REQUIRE_VERIFIED_EMAIL", default_value_t = false, action = clap::ArgAction::Set)]
    pub require_verified_email: bool,
    /// Days a deleted account's username stays reserved.
    #[arg(long, env = "USERNAME_COOLDOWN_DAYS", default_value_t = 30)]
    pub username_cooldown_days: u32,
    /// Largest upload accepted, in bytes (default 25 MiB).
    #[arg(long, env = "MAX_UPLOAD_BYTES", default_value_t = 25 * 1024 * 1024)]
    pub max_upload_bytes: u64,
    /// WebSockets one user may hold open on one node (load tests raise it to
    /// open many sockets per registered user).
    #[arg(long, env = "WS_MAX_CONNECTIONS_PER_USER", default_value_t = 20)]
    pub ws_max_connections_per_user: usize,
    /// Seconds between the server's WebSocket pings; a peer silent for two
    /// intervals is dropped (dead peers behind NATs and sleeping laptops).
    #[arg(long, env = "WS_KEEPALIVE_SECONDS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub ws_keepalive_seconds: u64,
    /// Largest request body accepted on /graphql, in bytes.
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = 1024 * 1024)]
    pub max_body_bytes: usize,
    /// Serve the web app from this directory instead of the copy embedded
    /// in the binary, so edits show on reload while developing.
    #[arg(long, env = "FRONTEND_DIR")]
    pub frontend_dir: Option<PathBuf>,
}

/// A configuration value that cannot be used, named by its variable.
#[derive(Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub variable: &'static str,
    pub problem: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.variable, self.problem)
    }
}

impl std::error::Error for ConfigError {}

/// Where the data lives, decided from `DATABASE_URL` and `DATA_DIR`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseTarget {
    Sqlite(PathBuf),
    Mongo(String),
}

/// The shortest accepted `JWT_SECRET`, in bytes (HS256 wants ≥ 256 bits).
pub const MIN_JWT_SECRET_BYTES: usize = 32;

impl Config {
    /// Checks what clap's types cannot: URL schemes, secret length, filters.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.database_target()?;
        if let Some(url) = &self.redis_url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            return Err(ConfigError {
                variable: "REDIS_URL",
                problem: format!("must start with redis:// or rediss://, got {url:?}"),
            });
        }
        if let Some(secret) = &self.jwt_secret
            && secret.len() < MIN_JWT_SECRET_BYTES
        {
            return Err(ConfigError {
                variable: "JWT_SECRET",
                problem: format!(
                    "must be at least {MIN_JWT_SECRET_BYTES} bytes, got {}",
                    secret.len()
                ),
            });
        }
        for origin in &self.cors_origins {
            let ok = origin == "*"
                || ((origin.starts_with("http://") || origin.starts_with("https://"))
                    && axum::http::HeaderValue::from_str(origin).is_ok()
                    && !origin.ends_with('/'));
            if !ok {
                return Err(ConfigError {
                    variable: "CORS_ORIGINS",
                    problem: format!(
                        "{origin:?} is not an origin like https://chat.example.com (or *)"
                    ),
                });
            }
        }
        if self.mail_from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(ConfigError {
                variable: "MAIL_FROM",
                problem: format!(
                    "{:?} is not an address like \"RealTalk <no-reply@example.com>\"",
                    self.mail_from
                ),
            });
        }
        if let Some(url) = &self.smtp_url
            && !(url.starts_with("smtp://") || url.starts_with("smtps://"))
        {
            return Err(ConfigError {
                variable: "SMTP_URL",
                problem: "must start with smtp:// or smtps://".into(),
            });
        }
        if let Some(dsn) = &self.sentry_dsn
            && dsn.parse::<sentry::types::Dsn>().is_err()
        {
            return Err(ConfigError {
                variable: "SENTRY_DSN",
                problem: "not a valid Sentry DSN".into(),
            });
        }
        if let Err(error) = tracing_subscriber::EnvFilter::try_new(&self.rust_log) {
            return Err(ConfigError {
                variable: "RUST_LOG",
                problem: format!("invalid filter {:?}: {error}", self.rust_log),
            });
        }
        let positive = [
            ("RATE_LIMIT_PER_SECOND", self.rate_limit_per_second),
            ("RATE_LIMIT_BURST", self.rate_limit_burst),
            (
                "AUTH_RATE_LIMIT_PER_MINUTE",
                self.auth_rate_limit_per_minute,
            ),
        ];
        for (variable, value) in positive {
            if value == 0 {
                return Err(ConfigError {
                    variable,
                    problem: "must be greater than 0".into(),
                });
            }
        }
        if let Some(dir) = &self.frontend_dir
            && !dir.join("index.html").is_file()
        {
            return Err(ConfigError {
                variable: "FRONTEND_DIR",
                problem: format!("{} has no index.html", dir.display()),
            });
        }
        if self.max_body_bytes < 1024 {
            return Err(ConfigError {
                variable: "MAX_BODY_BYTES",
                problem: "must be at least 1024".into(),
            });
        }
        Ok(())
    }

    /// The base URL for links in mails.
    pub fn public_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}:{}", self.host, self.port),
        }
    }

    pub fn presence_ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.presence_ttl_seconds.max(1))
    }

    /// The storage engine and location this configuration selects.
    pub fn database_target(&self) -> Result<DatabaseTarget, ConfigError> {
        match self.database_url.as_deref() {
            None | Some("") => Ok(DatabaseTarget::Sqlite(self.data_dir.join("realtalk.db"))),
            Some(url) if url.starts_with("mongodb://") || url.starts_with("mongodb+srv://") => {
                Ok(DatabaseTarget::Mongo(url.to_owned()))
            }
            Some(url) => match url.strip_prefix("sqlite://") {
                Some(path) if !path.is_empty() => Ok(DatabaseTarget::Sqlite(PathBuf::from(path))),
                _ => Err(ConfigError {
                    variable: "DATABASE_URL",
                    problem: format!("expected sqlite://PATH or mongodb://…, got {url:?}"),
                }),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Config {
        let mut all = vec!["realtalk"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all).expect("arguments parse").config
    }

    #[test]
    fn database_url_selects_the_engine() {
        let config = parse(&["--data-dir", "/tmp/rt"]);
        assert_eq!(
            config.database_target(),
            Ok(DatabaseTarget::Sqlite(PathBuf::from("/tmp/rt/realtalk.db")))
        );
        let config = parse(&["--database-url", "sqlite:///var/lib/rt.db"]);
        assert_eq!(
            config.database_target(),
            Ok(DatabaseTarget::Sqlite(PathBuf::from("/var/lib/rt.db")))
        );
        let config = parse(&["--database-url", "mongodb://db:27017/rt"]);
        assert_eq!(
            config.database_target(),
            Ok(DatabaseTarget::Mongo("mongodb://db:27017/rt".into()))
        );
        let config = parse(&["--database-url", "postgres://x"]);
        assert_eq!(
            config.validate().map_err(|e| e.variable),
            Err("DATABASE_URL")
        );
    }

    #[test]
    fn short_secrets_and_bad_origins_are_refused() {
        let config = parse(&["--jwt-secret", "too-short"]);
        assert_eq!(config.validate().map_err(|e| e.variable), Err("JWT_SECRET"));
        let config = parse(&["--cors-origins", "https://ok.example,not an origin"]);
        assert_eq!(
            config.validate().map_err(|e| e.variable),
            Err("CORS_ORIGINS")
        );
        let config = parse(&["--cors-origins", "https://ok.example,*"]);
        assert_eq!(config.validate(), Ok(()));
    }
}
