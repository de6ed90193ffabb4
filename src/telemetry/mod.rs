//! Logging: `tracing` to stderr, human-readable or JSON.

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::Layer as _;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;
use tracing_subscriber::{EnvFilter, fmt};

use crate::config::{Config, LogFormat};

/// Installs the global subscriber: stderr, plus daily-rotated files under
/// `LOG_DIR` when set. Keep the returned guard alive until exit: dropping
/// it flushes the file writer. A second call (tests) is a no-op.
pub fn init(config: &Config) -> Option<WorkerGuard> {
    let filter = EnvFilter::try_new(&config.rust_log).unwrap_or_else(|_| EnvFilter::new("info"));
    let (file_writer, guard) = match &config.log_dir {
        Some(dir) => {
            let appender = tracing_appender::rolling::daily(dir, "realtalk.log");
            let (writer, guard) = tracing_appender::non_blocking(appender);
            (Some(writer), Some(guard))
        }
        None => (None, None),
    };
    let json = config.log_format == LogFormat::Json;
    // ERROR events go to Sentry too when it is configured.
    let sentry = config.sentry_dsn.as_ref().map(|_| {
        sentry::integrations::tracing::ErrorLayer::new()
            .with_filter(tracing_subscriber::filter::LevelFilter::ERROR)
    });
    let stderr = fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter).with(sentry);
    let installed = if json {
        let file =
            file_writer.map(|writer| fmt::layer().json().flatten_event(true).with_writer(writer));
        registry
            .with(stderr.json().flatten_event(true))
            .with(file)
            .try_init()
    } else {
        let file = file_writer.map(|writer| fmt::layer().with_ansi(false).with_writer(writer));
        registry.with(stderr).with(file).try_init()
    };
    if installed.is_err() {
        return None;
    }
    guard
}

pub mod metrics;

/// Starts Sentry error reporting when `SENTRY_DSN` is set; keep the guard
/// alive until exit (dropping it flushes queued events). Sends no personal
/// data: events carry messages and error ids, never request bodies.
pub fn init_sentry(config: &Config) -> Option<sentry::ClientInitGuard> {
    let dsn = config.sentry_dsn.as_deref()?;
    let environment = match config.environment {
        crate::config::Environment::Production => "production",
        crate::config::Environment::Development => "development",
    };
    let mut options = sentry::ClientOptions::default();
    options.release = sentry::release_name!();
    options.environment = Some(environment.into());
    options.send_default_pii = false;
    Some(sentry::init((dsn, options)))
}

pub use self::metrics::StoreTimer;
