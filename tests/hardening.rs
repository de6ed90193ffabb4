//! Abuse resistance: production hides the schema, X-Forwarded-For counts
//! only from trusted proxies, WebSocket size and operation caps.

mod common;

use common::ws::{Ended, WsClient};
use common::{PASSWORD, TestServer};
use serde_json::json;

#[tokio::test]
async fn production_turns_off_introspection_and_suggestions() {
    let server = TestServer::start_with(&["--env", "production"]).await;
    let schema = server
        .gql(None, "{ __schema { types { name } } }", json!({}))
        .await;
    assert!(
        schema["data"]["__schema"].is_null(),
        "introspection answers nothing: {schema}"
    );
    assert!(
        !schema.to_string().contains("Mutation"),
        "no type names leak"
    );
    let typo = server.gql(None, "{ mee { id } }", json!({})).await;
    let message = typo["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        !message.contains("Did you mean"),
        "no field suggestions: {message}"
    );
    let development = TestServer::start().await;
    let open = development
        .gql(None, "{ __schema { queryType { name } } }", json!({}))
        .await;
    assert_eq!(open["data"]["__schema"]["queryType"]["name"], "Query");
}

async fn login_from(server: &TestServer, forwarded_for: &str) -> Option<String> {
    let response = server
        .client
        .post(server.url("/graphql"))
        .header("x-forwarded-for", forwarded_for)
        .json(&json!({ "query": "mutation { login(input: { login: \"amy\", password: \"wrong password!\" }) { accessToken } }" }))
        .send()
        .await
        .expect("POST");
    let body: serde_json::Value = response.json().await.expect("JSON");
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .map(str::to_owned)
}

#[tokio::test]
async fn forwarded_addresses_count_only_from_trusted_proxies() {
    // Behind a trusted proxy, each forwarded client has its own budget.
    let proxied = TestServer::start_with(&[
        "--trusted-proxies",
        "127.0.0.1",
        "--auth-rate-limit-per-minute",
        "2",
        "--login-failures-before-delay",
        "100",
    ])
    .await;
    for _ in 0..2 {
        assert_eq!(
            login_from(&proxied, "198.51.100.7").await.as_deref(),
            Some("UNAUTHENTICATED")
        );
    }
    assert_eq!(
        login_from(&proxied, "198.51.100.7").await.as_deref(),
        Some("RATE_LIMITED")
    );
    assert_eq!(
        login_from(&proxied, "198.51.100.8").await.as_deref(),
        Some("UNAUTHENTICATED")
    );

    // Without trusted proxies the header is ignored: rotating it does not help.
    let direct = TestServer::start_with(&[
        "--auth-rate-limit-per-minute",
        "2",
        "--login-failures-before-delay",
        "100",
    ])
    .await;
    let mut codes = Vec::new();
    for i in 0..4 {
        codes.push(login_from(&direct, &format!("203.0.113.{i}")).await);
    }
    assert_eq!(codes[3].as_deref(), Some("RATE_LIMITED"), "{codes:?}");
}

#[tokio::test]
async fn oversized_websocket_messages_close_with_1009() {
    let server = TestServer::start().await;
    let amy = server.register("amy").await;
    let mut client = WsClient::connect(server.addr).await;
    client.init(&amy.access_token).await;
    let huge = format!(
        "{{\"type\":\"ping\",\"payload\":{{\"x\":\"{}\"}}}}",
        "x".repeat(100_000)
    );
    client.send_raw(&huge).await;
    match client.ended().await {
        Ended::Closed(code, _) => assert_eq!(code, 1009),
        Ended::Dropped => panic!("expected a 1009 close, the connection was dropped"),
    }
}

#[tokio::test]
async fn one_connection_runs_at_most_a_hundred_operations() {
    let server = TestServer::start().await;
    let amy = server.register("amy").await;
    let mut client = WsClient::connect(server.addr).await;
    client.init(&amy.access_token).await;
    for i in 0..100 {
        client
            .subscribe(
                &format!("s{i}"),
                "subscription { notifications { kind } }",
                json!({}),
            )
            .await;
    }
    client
        .subscribe(
            "one-too-many",
            "subscription { notifications { kind } }",
            json!({}),
        )
        .await;
    let refused = loop {
        let message = client.next_message().await.expect("open");
        if message["id"] == "one-too-many" {
            break message;
        }
    };
    assert_eq!(refused["type"], "error");
    assert_eq!(refused["payload"][0]["extensions"]["code"], "RATE_LIMITED");
    common::assert_no_errors(&server.login("amy", PASSWORD).await);
}

#[tokio::test]
async fn a_user_holds_at_most_twenty_sockets_and_floods_are_cut_off() {
    let server = TestServer::start().await;
    let amy = server.register("amy").await;
    let mut open = Vec::new();
    for _ in 0..20 {
        let mut client = WsClient::connect(server.addr).await;
        client.init(&amy.access_token).await;
        open.push(client);
    }
    let mut one_more = WsClient::connect(server.addr).await;
    one_more
        .send_json(
            json!({ "type": "connection_init", "payload": { "authorization": amy.access_token } }),
        )
        .await;
    assert_eq!(one_more.close_code().await, Some(1008));
    // Closing one frees a place.
    drop(open.pop());
    let mut admitted = false;
    for _ in 0..50 {
        let mut retry = WsClient::connect(server.addr).await;
        retry.send_json(json!({ "type": "connection_init", "payload": { "authorization": amy.access_token } })).await;
        if retry
            .next_message()
            .await
            .is_some_and(|m| m["type"] == "connection_ack")
        {
            admitted = true;
            break;
        }
    }
    assert!(admitted, "a freed place is usable again");

    let flooder = &mut open[0];
    for _ in 0..300 {
        if !flooder.try_send_json(json!({ "type": "ping" })).await {
            break;
        }
    }
    match flooder.ended().await {
        Ended::Closed(code, reason) => {
            assert_eq!((code, reason.as_str()), (1008, "too many messages"))
        }
        Ended::Dropped => panic!("a flood should close with 1008"),
    }
}

#[tokio::test]
async fn a_silent_peer_is_dropped_after_two_keepalive_intervals() {
    let server = TestServer::start_with(&["--ws-keepalive-seconds", "1"]).await;
    let amy = server.register("amy").await;
    let mut silent = WsClient::connect(server.addr).await;
    silent.init(&amy.access_token).await;
    let mut alive = WsClient::connect(server.addr).await;
    alive.init(&amy.access_token).await;

    // The silent peer reads nothing, so it answers no ping: a dead laptop
    // behind a NAT. The live one reads, and its client answers the pings.
    let listening =
        tokio::time::timeout(std::time::Duration::from_secs(4), alive.next_message()).await;
    assert!(listening.is_err(), "only pings and keep-alives arrived");

    // Dropped without a close code: the peer is gone, there is no one to tell.
    let ended = silent.ended().await;
    assert!(
        matches!(ended, Ended::Dropped | Ended::Closed(1005, _)),
        "the silent peer is dropped: {ended:?}"
    );
    alive.settle("still-here").await;
}
