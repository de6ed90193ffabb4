//! Races that must come out right: concurrent senders, duplicate opens,
//! concurrent retries, crossing friend requests.

mod common;

use common::{TestServer, assert_no_errors};
use futures_util::future::join_all;
use serde_json::json;

#[tokio::test]
async fn twenty_concurrent_senders_get_seqs_one_to_n_without_gaps() {
    let server = TestServer::start().await;
    let (_owner, members, group) = server.group_of("race", 20).await;
    let bodies: Vec<String> = (0..members.len()).map(|i| format!("message {i}")).collect();
    let sends = members
        .iter()
        .zip(&bodies)
        .map(|(member, body)| server.send(member, &group, body));
    let results = join_all(sends).await;
    let mut seqs: Vec<i64> = results
        .iter()
        .map(|body| {
            assert_no_errors(body);
            body["data"]["sendMessage"]["seq"].as_i64().expect("seq")
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
    let db = rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db");
    let logged: Vec<i64> = db
        .prepare("SELECT seq FROM message_events WHERE conversation_id = ?1 ORDER BY seq")
        .and_then(|mut statement| {
            statement
                .query_map([&group], |row| row.get(0))?
                .collect::<rusqlite::Result<Vec<i64>>>()
        })
        .expect("events");
    assert_eq!(
        logged,
        (1..=20).collect::<Vec<i64>>(),
        "the stored log has no gap"
    );
}

#[tokio::test]
async fn ten_concurrent_opens_make_one_direct_conversation() {
    let server = TestServer::start().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let opens = (0..10).map(|i| {
        let (from, to) = if i % 2 == 0 {
            (&amy, &bea)
        } else {
            (&bea, &amy)
        };
        server.gql(
            Some(&from.access_token),
            "mutation($id: ID!) { openDirectConversation(userId: $id) { id } }",
            json!({ "id": to.id }),
        )
    });
    let results = join_all(opens).await;
    let mut ids: Vec<String> = results
        .iter()
        .map(|body| {
            assert_no_errors(body);
            body["data"]["openDirectConversation"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 1, "{ids:?}");
}

#[tokio::test]
async fn concurrent_retries_with_one_client_id_store_one_message() {
    let server = TestServer::start().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    let retries = (0..10).map(|_| {
        server.gql(
            Some(&amy.access_token),
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }",
            json!({ "input": { "conversationId": conversation, "body": "once", "clientId": "retry-me" } }),
        )
    });
    let results = join_all(retries).await;
    let mut ids: Vec<String> = results
        .iter()
        .map(|body| {
            assert_no_errors(body);
            body["data"]["sendMessage"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    ids.dedup();
    assert_eq!(ids.len(), 1);
    let page = server
        .gql(
            Some(&bea.access_token),
            "query($c: ID!) { messages(conversationId: $c) { nodes { id } } }",
            json!({ "c": conversation }),
        )
        .await;
    assert_eq!(
        page["data"]["messages"]["nodes"].as_array().map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn crossing_friend_requests_end_in_one_friendship() {
    let server = TestServer::start().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    let request = "mutation($id: ID!) { sendFriendRequest(userId: $id) { status } }";
    let (a, b) = tokio::join!(
        server.gql(Some(&amy.access_token), request, json!({ "id": bea.id })),
        server.gql(Some(&bea.access_token), request, json!({ "id": amy.id })),
    );
    assert_no_errors(&a);
    assert_no_errors(&b);
    let friends = server
        .gql(
            Some(&amy.access_token),
            "{ friends { username } }",
            json!({}),
        )
        .await;
    assert_eq!(friends["data"]["friends"], json!([{ "username": "bea" }]));
    let pending = server
        .gql(
            Some(&bea.access_token),
            "{ friendRequests { id } }",
            json!({}),
        )
        .await;
    assert_eq!(pending["data"]["friendRequests"], json!([]));
}
