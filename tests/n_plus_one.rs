//! A page of 50 conversations with members, last messages and their authors
//! costs a small constant number of store calls, thanks to DataLoaders.
//! Counted from the server's own `/metrics` (this file holds one test, so
//! the process-wide counters see nothing else).

mod common;

use common::{TestServer, assert_no_errors};
use serde_json::json;

/// Total store operations so far, summed over operations.
async fn store_calls(server: &TestServer) -> u64 {
    let text = server
        .client
        .get(server.url("/metrics"))
        .send()
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("text");
    text.lines()
        .filter(|line| line.starts_with("realtalk_store_operation_duration_seconds_count"))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|count| count as u64)
        .sum()
}

#[tokio::test]
async fn fifty_conversations_with_members_and_last_messages_cost_a_constant_few_store_calls() {
    let server = TestServer::start().await;
    let (owner, friends, _) = server.group_of("np1", 10).await;
    for i in 0..49 {
        let members: Vec<&common::Account> =
            (0..3).map(|k| &friends[(i + k) % friends.len()]).collect();
        let group = server
            .create_group(&owner, &format!("group {i}"), &members)
            .await;
        server
            .send_ok(members[0], &group, &format!("last message {i}"))
            .await;
    }
    let query = "{ conversations(first: 50) { nodes {
        id kind title lastSeq unreadCount
        members { role joinedAt user { id username displayName friendship } }
        lastMessage { body author { username friendship } reactions { emoji } replyTo { id } }
    } } }";

    let before = store_calls(&server).await;
    let body = server
        .gql(Some(&owner.access_token), query, json!({}))
        .await;
    let after = store_calls(&server).await;
    assert_no_errors(&body);
    let nodes = body["data"]["conversations"]["nodes"]
        .as_array()
        .expect("nodes");
    assert_eq!(nodes.len(), 50);
    assert_eq!(nodes[0]["members"].as_array().map(Vec::len), Some(4));
    assert!(nodes[0]["lastMessage"]["author"]["username"].is_string());
    let calls = after - before;
    eprintln!("store calls for a page of 50 conversations: {calls}");
    assert!(
        calls > 0 && calls <= 12,
        "expected a small constant number of store calls, got {calls}"
    );
}
