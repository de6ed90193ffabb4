//! Logging: `tracing` to stderr, human-readable or JSON.

use tracing_appender::non_blocking::WorkerGuard;
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
    let stderr = fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
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

pub use self::metrics::StoreTimer;
