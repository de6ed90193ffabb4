//! The test harness: a real RealTalk server on a free port with its own
//! temporary data directory, and a small GraphQL client over real HTTP.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub mod media;
pub mod process;
pub mod schema;
pub mod ws;

use clap::Parser as _;
use realtalk::app::RunningServer;
use realtalk::config::{Cli, Config};
use serde_json::{Value, json};

pub const JWT_SECRET: &str = "test-secret-test-secret-test-secret-0123";
pub const PASSWORD: &str = "correct horse battery";

pub struct TestServer {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub config: Config,
    pub data_dir: Arc<tempfile::TempDir>,
    server: Option<RunningServer>,
}

/// A signed-in test user.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub access_token: String,
    pub refresh_token: String,
}

/// Parses `args` as the binary would, with generous limits so that tests
/// sharing 127.0.0.1 do not trip the per-IP limits unless they mean to.
pub fn config_with(data_dir: &std::path::Path, args: &[&str]) -> Config {
    let data_dir = data_dir.to_string_lossy().into_owned();
    let mut all = vec![
        "realtalk",
        "--port",
        "0",
        "--data-dir",
        data_dir.as_str(),
        "--jwt-secret",
        JWT_SECRET,
        "--rate-limit-per-second",
        "100000",
        "--rate-limit-burst",
        "100000",
        "--auth-rate-limit-per-minute",
        "100000",
    ];
    all.extend_from_slice(args);
    let config = Cli::try_parse_from(all)
        .expect("test configuration parses")
        .config;
    config.validate().expect("test configuration is valid");
    config
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// Starts a server with extra command-line settings.
    pub async fn start_with(args: &[&str]) -> Self {
        let data_dir = Arc::new(tempfile::tempdir().expect("temporary data dir"));
        let config = config_with(data_dir.path(), args);
        Self::launch(config, data_dir).await
    }

    /// Starts a server on a data directory the test prepared (e.g. with a
    /// small filesystem mounted inside it).
    pub async fn start_in(data_dir: Arc<tempfile::TempDir>, args: &[&str]) -> Self {
        let config = config_with(data_dir.path(), args);
        Self::launch(config, data_dir).await
    }

    async fn launch(config: Config, data_dir: Arc<tempfile::TempDir>) -> Self {
        let server = realtalk::app::start(config.clone())
            .await
            .expect("server starts");
        TestServer {
            addr: server.addr,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .expect("HTTP client"),
            config,
            data_dir,
            server: Some(server),
        }
    }

    /// A client for a server running elsewhere (another process).
    pub fn attach(addr: SocketAddr) -> Self {
        let data_dir = Arc::new(tempfile::tempdir().expect("temporary dir"));
        let config = config_with(data_dir.path(), &[]);
        TestServer {
            addr,
            client: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .expect("HTTP client"),
            config,
            data_dir,
            server: None,
        }
    }

    /// Stops the server gracefully and starts a new one on the same data.
    pub async fn restart(mut self) -> Self {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("server stops cleanly");
        }
        let mut config = self.config.clone();
        config.port = 0;
        Self::launch(config, self.data_dir.clone()).await
    }

    /// The in-process server's services.
    pub fn services(&self) -> &Arc<realtalk::service::Services> {
        self.server
            .as_ref()
            .expect("an in-process server")
            .services()
    }

    pub fn data_path(&self) -> PathBuf {
        self.data_dir.path().to_path_buf()
    }

    /// A plain GET of `path` on this server.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|error| panic!("GET {path}: {error}"))
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// POSTs one GraphQL operation and returns the response body.
    pub async fn gql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let mut request = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("request is sent");
        response.json().await.expect("response is JSON")
    }

    /// Registers `username` with [`PASSWORD`] and returns the signed-in account.
    pub async fn register(&self, username: &str) -> Account {
        let body = self
            .gql(
                None,
                "mutation($input: RegisterInput!) { register(input: $input) {
                    accessToken refreshToken user { id username } } }",
                json!({ "input": {
                    "username": username,
                    "email": format!("{username}@example.com"),
                    "password": PASSWORD,
                }}),
            )
            .await;
        assert_no_errors(&body);
        account_from(&body["data"]["register"])
    }

    pub async fn login(&self, login: &str, password: &str) -> Value {
        self.gql(
            None,
            "mutation($input: LoginInput!) { login(input: $input) {
                accessToken refreshToken user { id username } } }",
            json!({ "input": { "login": login, "password": password } }),
        )
        .await
    }

    pub async fn refresh(&self, refresh_token: &str) -> Value {
        self.gql(
            None,
            "mutation($token: String!) { refreshToken(token: $token) {
                accessToken refreshToken user { id username } } }",
            json!({ "token": refresh_token }),
        )
        .await
    }

    /// The `me` query as `token`.
    pub async fn me(&self, token: &str) -> Value {
        self.gql(Some(token), "{ me { id username displayName } }", json!({}))
            .await
    }
}

/// An [`Account`] from an `AuthPayload` selection.
pub fn account_from(payload: &Value) -> Account {
    Account {
        id: payload["user"]["id"].as_str().expect("user id").to_owned(),
        username: payload["user"]["username"]
            .as_str()
            .expect("username")
            .to_owned(),
        access_token: payload["accessToken"]
            .as_str()
            .expect("access token")
            .to_owned(),
        refresh_token: payload["refreshToken"]
            .as_str()
            .expect("refresh token")
            .to_owned(),
    }
}

/// The `extensions.code` of the first error, if any.
pub fn error_code(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["code"].as_str()
}

pub fn error_field(body: &Value) -> Option<&str> {
    body["errors"][0]["extensions"]["field"].as_str()
}

#[track_caller]
pub fn assert_no_errors(body: &Value) {
    assert!(body.get("errors").is_none(), "unexpected errors: {body:#}");
}

#[track_caller]
pub fn assert_code(body: &Value, code: &str) {
    assert_eq!(error_code(body), Some(code), "expected {code} in {body:#}");
}

impl TestServer {
    /// Makes `a` and `b` friends (a asks, b accepts).
    pub async fn befriend(&self, a: &Account, b: &Account) {
        let sent = self
            .gql(
                Some(&a.access_token),
                "mutation($id: ID!) { sendFriendRequest(userId: $id) { id } }",
                json!({ "id": b.id }),
            )
            .await;
        assert_no_errors(&sent);
        let accepted = self
            .gql(
                Some(&b.access_token),
                "mutation($id: ID!) { acceptFriendRequest(id: $id) { status } }",
                json!({ "id": sent["data"]["sendFriendRequest"]["id"] }),
            )
            .await;
        assert_no_errors(&accepted);
    }

    /// The direct conversation of two friends.
    pub async fn open_direct(&self, a: &Account, b: &Account) -> String {
        let body = self
            .gql(
                Some(&a.access_token),
                "mutation($id: ID!) { openDirectConversation(userId: $id) { id } }",
                json!({ "id": b.id }),
            )
            .await;
        assert_no_errors(&body);
        body["data"]["openDirectConversation"]["id"]
            .as_str()
            .expect("conversation id")
            .to_owned()
    }

    /// A group owned by `owner` with `members` (who must be owner's friends).
    pub async fn create_group(&self, owner: &Account, title: &str, members: &[&Account]) -> String {
        let ids: Vec<&str> = members.iter().map(|member| member.id.as_str()).collect();
        let body = self
            .gql(
                Some(&owner.access_token),
                "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }",
                json!({ "input": { "title": title, "memberIds": ids } }),
            )
            .await;
        assert_no_errors(&body);
        body["data"]["createGroup"]["id"]
            .as_str()
            .expect("group id")
            .to_owned()
    }

    /// Sends a message and returns the raw response.
    pub async fn send(&self, author: &Account, conversation_id: &str, body: &str) -> Value {
        self.gql(
            Some(&author.access_token),
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) {
                id seq body conversationId author { id } } }",
            json!({ "input": { "conversationId": conversation_id, "body": body } }),
        )
        .await
    }

    /// Sends a message that must succeed; returns `sendMessage`.
    pub async fn send_ok(&self, author: &Account, conversation_id: &str, body: &str) -> Value {
        let response = self.send(author, conversation_id, body).await;
        assert_no_errors(&response);
        response["data"]["sendMessage"].clone()
    }

    /// A group of `size` friends of a fresh owner: (owner, members, group id).
    pub async fn group_of(&self, prefix: &str, size: usize) -> (Account, Vec<Account>, String) {
        let owner = self.register(&format!("{prefix}_owner")).await;
        let mut members = Vec::new();
        for i in 0..size {
            let member = self.register(&format!("{prefix}_{i}")).await;
            self.befriend(&owner, &member).await;
            members.push(member);
        }
        let refs: Vec<&Account> = members.iter().collect();
        let group = self
            .create_group(&owner, &format!("{prefix} group"), &refs)
            .await;
        (owner, members, group)
    }
}

impl TestServer {
    /// Stops the in-process server gracefully (e.g. before its database
    /// is copied); the returned directory keeps its data alive.
    pub async fn stop(mut self) -> Arc<tempfile::TempDir> {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("server stops cleanly");
        }
        self.data_dir.clone()
    }
}
