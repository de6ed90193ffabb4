//! A page of 50 conversations with members, last messages and their authors
//! costs a small constant number of store calls, thanks to DataLoaders.
//! Counted from the server's own `/metrics` (this file holds one test, so
//! the process-wide counters see nothing else).

mod common;

use common::{TestServer, assert_no_errors};
use serde_json::json;

/// Total store operations so far, summed over operations.
async fn store_calls(server: &TestServer) -> u64 {
    let text = server.get("/metrics").await.text().await.expect("text");
    // The scrape itself counts sessions for a gauge: not part of the page.
    text.lines()
        .filter(|line| line.starts_with("realtalk_store_operation_duration_seconds_count"))
        .filter(|line| !line.contains("count_active_sessions"))
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

    let calls_for = |first: usize| {
        let server = &server;
        let token = owner.access_token.clone();
        let query = query.replace("first: 50", &format!("first: {first}"));
        async move {
            let before = store_calls(server).await;
            let body = server.gql(Some(&token), &query, json!({})).await;
            let after = store_calls(server).await;
            assert_no_errors(&body);
            let nodes = body["data"]["conversations"]["nodes"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            assert_eq!(nodes.len(), first);
            assert_eq!(nodes[0]["members"].as_array().map(Vec::len), Some(4));
            assert!(nodes[0]["lastMessage"]["author"]["username"].is_string());
            after - before
        }
    };
    let one = calls_for(1).await;
    let fifty = calls_for(50).await;
    eprintln!("store calls: {one} for 1 conversation, {fifty} for 50");
    // Batching makes the count independent of the page size; a loaded
    // machine may split a DataLoader batch in two, hence the small slack.
    assert!(
        fifty <= 16,
        "expected a small constant number of store calls, got {fifty}"
    );
    assert!(
        fifty <= one + 4,
        "{fifty} calls for 50 vs {one} for 1: something is loaded per item"
    );
}
