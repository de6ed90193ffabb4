//! Each live event is rendered once per distinct subscription query on a
//! node, not once per subscriber. Counted from the server's own `/metrics`
//! (this file holds one test, so the process-wide counters see nothing
//! else).

mod common;

use common::ws::WsClient;
use common::{TestServer, assert_no_errors};
use serde_json::json;

/// `realtalk_subscription_renders_total` by outcome.
async fn renders(server: &TestServer, outcome: &str) -> u64 {
    let text = server.get("/metrics").await.text().await.expect("text");
    text.lines()
        .filter(|line| line.starts_with("realtalk_subscription_renders_total"))
        .filter(|line| line.contains(&format!("outcome=\"{outcome}\"")))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|count| count as u64)
        .sum()
}

#[tokio::test]
async fn an_event_is_rendered_once_per_distinct_query_not_per_subscriber() {
    let server = TestServer::start().await;
    let (owner, members, group) = server.group_of("once", 4).await;
    let lean = "subscription($c: ID) { messageEvents(conversationId: $c) { seq message { body author { username } } } }";
    let personal = "subscription($c: ID) { messageEvents(conversationId: $c) { seq message { body clientId } } }";
    let mut sockets = Vec::new();
    for member in &members {
        let mut client = WsClient::connect(server.addr).await;
        client.init(&member.access_token).await;
        client.subscribe("lean", lean, json!({ "c": group })).await;
        client
            .subscribe("mine", personal, json!({ "c": group }))
            .await;
        client.settle("q").await;
        sockets.push(client);
    }
    let (rendered, reused) = (
        renders(&server, "rendered").await,
        renders(&server, "reused").await,
    );
    assert_no_errors(
        &server
            .gql(Some(&owner.access_token), "{ me { id } }", json!({}))
            .await,
    );
    server.send_ok(&owner, &group, "to everyone").await;
    for client in &mut sockets {
        // Both operations' results, in whichever order they come.
        let mut ids = Vec::new();
        while ids.len() < 2 {
            let message = client.next_message().await.expect("open");
            if message["id"] == "q" {
                continue;
            }
            assert_eq!(message["type"], "next", "{message}");
            assert_eq!(
                message["payload"]["data"]["messageEvents"]["message"]["body"],
                "to everyone"
            );
            ids.push(message["id"].as_str().unwrap_or_default().to_owned());
        }
        ids.sort();
        assert_eq!(ids, ["lean", "mine"]);
    }
    // Four subscribers of the lean query share one render; the personal
    // query is rendered once per viewer.
    assert_eq!(
        renders(&server, "rendered").await - rendered,
        1 + members.len() as u64
    );
    assert_eq!(
        renders(&server, "reused").await - reused,
        members.len() as u64 - 1
    );
}
