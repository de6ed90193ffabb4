//! The GraphQL-over-HTTP calls the scenarios set up their world with:
//! accounts, friendships, groups, messages. Every call goes through the
//! public API exactly as a client's would.

use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context as _, bail};
use futures_util::{StreamExt as _, TryStreamExt as _, stream};
use serde_json::{Value, json};

/// The password every generated account uses.
pub const PASSWORD: &str = "load-test correct horse";

/// How many set-up calls run at once (registration is argon2-bound, so more
/// would only queue on the server's hashing pool).
const SETUP_CONCURRENCY: usize = 16;

/// A signed-in account.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub token: String,
}

/// One node's `/graphql` endpoint, reached over one pooled HTTP client.
#[derive(Clone)]
pub struct Api {
    http: reqwest::Client,
    endpoint: String,
}

impl Api {
    /// A client for the server at `base` (`http://host:port`).
    pub fn new(base: &str) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()
            .context("building the HTTP client")?;
        Ok(Self::with_client(http, base))
    }

    /// The same, over a client the caller configured (e.g. one connection).
    pub fn with_client(http: reqwest::Client, base: &str) -> Self {
        Api {
            http,
            endpoint: format!("{}/graphql", base.trim_end_matches('/')),
        }
    }

    /// Runs one operation; a transport error or any GraphQL error is an error.
    pub async fn gql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .post(&self.endpoint)
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.context("sending a GraphQL request")?;
        let status = response.status();
        let body: Value = response
            .json()
            .await
            .context("reading a GraphQL response")?;
        if let Some(errors) = body.get("errors") {
            bail!("GraphQL errors (HTTP {status}): {errors}");
        }
        Ok(body.get("data").cloned().unwrap_or(Value::Null))
    }

    pub async fn register(&self, username: &str) -> anyhow::Result<Account> {
        let data = self
            .gql(
                None,
                "mutation($input: RegisterInput!) { register(input: $input) { accessToken user { id username } } }",
                json!({ "input": {
                    "username": username,
                    "email": format!("{username}@load.example.com"),
                    "password": PASSWORD,
                }}),
            )
            .await
            .with_context(|| format!("registering {username}"))?;
        account(&data["register"])
    }

    pub async fn login(&self, login: &str) -> anyhow::Result<Account> {
        let data = self
            .gql(
                None,
                "mutation($input: LoginInput!) { login(input: $input) { accessToken user { id username } } }",
                json!({ "input": { "login": login, "password": PASSWORD } }),
            )
            .await?;
        account(&data["login"])
    }

    /// `a` asks, `b` accepts.
    pub async fn befriend(&self, a: &Account, b: &Account) -> anyhow::Result<()> {
        let sent = self
            .gql(
                Some(&a.token),
                "mutation($id: ID!) { sendFriendRequest(userId: $id) { id } }",
                json!({ "id": b.id }),
            )
            .await?;
        self.gql(
            Some(&b.token),
            "mutation($id: ID!) { acceptFriendRequest(id: $id) { status } }",
            json!({ "id": sent["sendFriendRequest"]["id"] }),
        )
        .await?;
        Ok(())
    }

    /// A group of `owner` and `members` (who must be the owner's friends).
    pub async fn create_group(
        &self,
        owner: &Account,
        title: &str,
        members: &[Account],
    ) -> anyhow::Result<String> {
        let ids: Vec<&str> = members.iter().map(|member| member.id.as_str()).collect();
        let data = self
            .gql(
                Some(&owner.token),
                "mutation($input: CreateGroupInput!) { createGroup(input: $input) { id } }",
                json!({ "input": { "title": title, "memberIds": ids } }),
            )
            .await?;
        string(&data["createGroup"]["id"], "group id")
    }

    pub async fn send_message(
        &self,
        author: &Account,
        conversation_id: &str,
        body: &str,
    ) -> anyhow::Result<()> {
        self.gql(
            Some(&author.token),
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { seq } }",
            json!({ "input": { "conversationId": conversation_id, "body": body } }),
        )
        .await?;
        Ok(())
    }

    /// Registers `count` fresh accounts, a few at a time.
    pub async fn register_many(&self, prefix: &str, count: usize) -> anyhow::Result<Vec<Account>> {
        stream::iter(0..count)
            .map(|index| {
                let api = self.clone();
                let name = format!("{prefix}_{index}");
                async move { api.register(&name).await }
            })
            .buffered(SETUP_CONCURRENCY)
            .try_collect()
            .await
    }

    /// Makes `owner` a friend of every one of `others`.
    pub async fn befriend_all(&self, owner: &Account, others: &[Account]) -> anyhow::Result<()> {
        stream::iter(others)
            .map(|other| self.befriend(owner, other))
            .buffer_unordered(SETUP_CONCURRENCY)
            .try_collect::<Vec<()>>()
            .await?;
        Ok(())
    }
}

fn account(payload: &Value) -> anyhow::Result<Account> {
    Ok(Account {
        id: string(&payload["user"]["id"], "user id")?,
        username: string(&payload["user"]["username"], "username")?,
        token: string(&payload["accessToken"], "access token")?,
    })
}

fn string(value: &Value, what: &str) -> anyhow::Result<String> {
    value
        .as_str()
        .map(str::to_owned)
        .with_context(|| format!("the response has no {what}"))
}

/// A username prefix unique to this run, so runs against a long-lived
/// server (`--url`) never collide with earlier ones.
pub fn run_prefix(scenario: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() % 100_000_000)
        .unwrap_or_default();
    let serial = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{scenario}{millis}{serial}")
}
