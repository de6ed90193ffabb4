//! `DATABASE_URL` as driver options.
//!
//! The URI is the one place an operator tunes the engine: pool size
//! (`maxPoolSize`, `minPoolSize`), timeouts (`serverSelectionTimeoutMS`,
//! `connectTimeoutMS`), replica set, TLS, credentials, read preference,
//! `retryWrites` — all parsed by the driver's own `ClientOptions::parse`.
//! We only fill in what the URI leaves unset, so that a dead server is
//! reported within seconds (the driver would wait 30 s to select a server)
//! and connections carry our name in the server's logs.

use std::time::Duration;

use mongodb::options::{ClientOptions, ServerAddress};

/// Used when the URI has no `/database` path.
pub const DEFAULT_DATABASE: &str = "realtalk";
pub const DEFAULT_APP_NAME: &str = "realtalk";
pub const DEFAULT_SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Where to connect and which database to use.
#[derive(Debug)]
pub struct Target {
    pub options: ClientOptions,
    pub database: String,
}

impl Target {
    /// The hosts, for messages (never the whole URI: it may hold a password).
    pub fn hosts(&self) -> String {
        hosts_list(&self.options.hosts)
    }
}

/// Parses `uri` and applies our defaults where it is silent.
///
/// For `mongodb+srv://` this resolves the SRV and TXT records (the driver
/// does it inside `parse`), so it may take a moment; plain `mongodb://`
/// does no I/O.
pub async fn parse(uri: &str) -> anyhow::Result<Target> {
    let mut options = ClientOptions::parse(uri).await.map_err(|error| {
        anyhow::anyhow!("DATABASE_URL: not a usable MongoDB URI: {}", error.kind)
    })?;
    apply_defaults(&mut options);
    let database = options
        .default_database
        .clone()
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
    Ok(Target { options, database })
}

/// Fills in what the URI did not set. Retryable writes are the driver's
/// default already; we set it explicitly so it reads as a decision, and a
/// URI that turns them off still wins (the operator asked for it).
fn apply_defaults(options: &mut ClientOptions) {
    options
        .app_name
        .get_or_insert_with(|| DEFAULT_APP_NAME.to_owned());
    options
        .server_selection_timeout
        .get_or_insert(DEFAULT_SERVER_SELECTION_TIMEOUT);
    options
        .connect_timeout
        .get_or_insert(DEFAULT_CONNECT_TIMEOUT);
    options.retry_writes.get_or_insert(true);
}

fn hosts_list(hosts: &[ServerAddress]) -> String {
    hosts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn target(uri: &str) -> Target {
        parse(uri).await.expect("the URI parses")
    }

    #[tokio::test]
    async fn the_database_comes_from_the_path_else_realtalk() {
        assert_eq!(target("mongodb://db:27017/chat").await.database, "chat");
        assert_eq!(target("mongodb://db:27017").await.database, "realtalk");
        assert_eq!(target("mongodb://db:27017/").await.database, "realtalk");
        assert_eq!(
            target("mongodb://db/?replicaSet=rs0").await.database,
            "realtalk"
        );
    }

    #[tokio::test]
    async fn defaults_fill_only_what_the_uri_leaves_unset() {
        let plain = target("mongodb://db:27017/realtalk").await.options;
        assert_eq!(plain.app_name.as_deref(), Some("realtalk"));
        assert_eq!(plain.server_selection_timeout, Some(Duration::from_secs(5)));
        assert_eq!(plain.connect_timeout, Some(Duration::from_secs(5)));
        assert_eq!(plain.retry_writes, Some(true));

        let tuned = target(
            "mongodb://db:27017/realtalk?appName=chat-a&serverSelectionTimeoutMS=1000\
             &connectTimeoutMS=250&maxPoolSize=7&minPoolSize=2&retryWrites=false&replicaSet=rs0",
        )
        .await
        .options;
        assert_eq!(tuned.app_name.as_deref(), Some("chat-a"));
        assert_eq!(
            tuned.server_selection_timeout,
            Some(Duration::from_millis(1000))
        );
        assert_eq!(tuned.connect_timeout, Some(Duration::from_millis(250)));
        assert_eq!(tuned.max_pool_size, Some(7));
        assert_eq!(tuned.min_pool_size, Some(2));
        assert_eq!(tuned.retry_writes, Some(false));
        assert_eq!(tuned.repl_set_name.as_deref(), Some("rs0"));
    }

    #[tokio::test]
    async fn hosts_are_shown_without_credentials() {
        let target = target("mongodb://app:s3cret@db1:27017,db2:27018/realtalk").await;
        assert_eq!(target.hosts(), "db1:27017,db2:27018");
        assert!(!target.hosts().contains("s3cret"));
    }

    #[tokio::test]
    async fn a_bad_uri_names_database_url() {
        for uri in [
            "mongodb://",
            "mongodb://db:notaport/x",
            "mongodb://db/x?socketTimeoutMS=10",
            "mongodb://db/x?maxPoolSize=many",
        ] {
            let error = parse(uri).await.expect_err(uri).to_string();
            assert!(error.starts_with("DATABASE_URL: "), "{uri}: {error}");
            assert!(!error.contains('\n'), "{uri}: one line, got {error:?}");
        }
    }
}
