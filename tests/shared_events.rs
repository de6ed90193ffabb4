//! `messageEvents` renders each event once per distinct query and shares
//! the result: over real WebSockets, viewer-dependent fields stay right per
//! viewer, both subprotocols get the shared payload, and who receives what
//! is still decided per subscriber.

mod common;

use common::ws::WsClient;
use common::{Account, TestServer, assert_no_errors};
use serde_json::{Value, json};

/// Reads the viewer in four places: shared only between a viewer's own
/// subscriptions.
const PERSONAL: &str = "subscription($c: ID) { messageEvents(conversationId: $c) {
    seq kind message { body clientId author { username email emailVerified friendship }
    reactions { emoji count reactedByMe } } } }";
/// Reads no viewer: one render for everyone.
const LEAN: &str = "subscription($c: ID) { messageEvents(conversationId: $c) {
    seq kind message { body author { username } reactions { emoji count } } } }";

async fn subscribed(server: &TestServer, who: &Account, query: &str, group: &str) -> WsClient {
    let mut client = WsClient::connect(server.addr).await;
    client.init(&who.access_token).await;
    client.subscribe("e", query, json!({ "c": group })).await;
    client.settle("q").await;
    client
}

async fn send_with_client_id(server: &TestServer, author: &Account, group: &str) -> Value {
    let body = server
        .gql(
            Some(&author.access_token),
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id seq } }",
            json!({ "input": { "conversationId": group, "body": "hi all", "clientId": "amy-1" } }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["sendMessage"].clone()
}

#[tokio::test]
async fn each_viewer_gets_its_own_viewer_dependent_fields() {
    let server = TestServer::start().await;
    let (amy, others, group) = server.group_of("share", 2).await;
    let (bea, cat) = (&others[0], &others[1]);
    let mut amy_socket = subscribed(&server, &amy, PERSONAL, &group).await;
    // Two sockets of the same viewer share the viewer's render.
    let mut amy_again = subscribed(&server, &amy, PERSONAL, &group).await;
    let mut bea_socket = subscribed(&server, bea, PERSONAL, &group).await;
    let mut cat_lean = subscribed(&server, cat, LEAN, &group).await;

    let sent = send_with_client_id(&server, &amy, &group).await;
    let mine = amy_socket.next_payload("e").await;
    let mine_again = amy_again.next_payload("e").await;
    let theirs = bea_socket.next_payload("e").await;
    let lean = cat_lean.next_payload("e").await;
    assert_eq!(mine, mine_again);
    let event = &mine["data"]["messageEvents"];
    assert_eq!(event["seq"], sent["seq"]);
    assert_eq!(event["message"]["clientId"], "amy-1");
    assert_eq!(event["message"]["author"]["friendship"], "SELF");
    assert_eq!(
        event["message"]["author"]["email"],
        format!("{}@example.com", amy.username).as_str()
    );
    assert!(event["message"]["author"]["emailVerified"].is_boolean());
    let event = &theirs["data"]["messageEvents"];
    assert_eq!(event["seq"], sent["seq"]);
    assert_eq!(event["message"]["clientId"], Value::Null);
    assert_eq!(event["message"]["author"]["email"], Value::Null);
    assert_eq!(event["message"]["author"]["emailVerified"], Value::Null);
    assert_eq!(event["message"]["author"]["friendship"], "FRIENDS");
    assert_eq!(
        lean["data"]["messageEvents"],
        json!({ "seq": sent["seq"], "kind": "CREATED", "message": {
            "body": "hi all", "author": { "username": amy.username }, "reactions": [] } })
    );

    // Bea reacts: only Bea's copy says she did.
    let reacted = server
        .gql(
            Some(&bea.access_token),
            "mutation($id: ID!) { addReaction(messageId: $id, emoji: \"👍\") { id } }",
            json!({ "id": sent["id"] }),
        )
        .await;
    assert_no_errors(&reacted);
    let reaction =
        |payload: &Value| payload["data"]["messageEvents"]["message"]["reactions"][0].clone();
    assert_eq!(
        reaction(&amy_socket.next_payload("e").await)["reactedByMe"],
        false
    );
    assert_eq!(
        reaction(&bea_socket.next_payload("e").await)["reactedByMe"],
        true
    );
    assert_eq!(
        reaction(&cat_lean.next_payload("e").await),
        json!({ "emoji": "👍", "count": 1 })
    );
}

#[tokio::test]
async fn both_subprotocols_get_the_shared_payload_and_a_removed_member_stops_receiving() {
    let server = TestServer::start().await;
    let (owner, members, group) = server.group_of("shrm", 2).await;
    let mut staying = subscribed(&server, &members[0], LEAN, &group).await;
    let mut legacy = WsClient::connect_legacy(server.addr).await;
    legacy.init(&members[1].access_token).await;
    legacy.subscribe("e", LEAN, json!({ "c": group })).await;
    legacy.settle("q").await;

    server.send_ok(&owner, &group, "before").await;
    let modern = staying.next_payload("e").await;
    let old = legacy.next_payload("e").await;
    assert_eq!(modern, old);
    assert_eq!(modern["data"]["messageEvents"]["message"]["body"], "before");

    let removed = server
        .gql(
            Some(&owner.access_token),
            "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id } }",
            json!({ "c": group, "u": members[1].id }),
        )
        .await;
    assert_no_errors(&removed);
    // The removed member's operation completes before anything else of the
    // group reaches it.
    loop {
        let message = legacy.next_message().await.expect("open");
        if message["id"] == "e" {
            assert_eq!(message["type"], "complete", "{message}");
            break;
        }
    }
    server.send_ok(&owner, &group, "after").await;
    assert_eq!(
        staying.next_payload("e").await["data"]["messageEvents"]["message"]["body"],
        "after"
    );
    // Nothing more for the removed member: a query on its socket answers
    // next, with no event in between.
    legacy.subscribe("probe", "{ me { id } }", json!({})).await;
    let next = legacy.next_message().await.expect("open");
    assert_eq!(next["id"], "probe", "{next}");
}

#[tokio::test]
async fn replay_then_live_has_no_gap_and_no_duplicate_when_shared() {
    let server = TestServer::start().await;
    let (owner, members, group) = server.group_of("shrp", 1).await;
    let first = server.send_ok(&owner, &group, "one").await;
    server.send_ok(&owner, &group, "two").await;
    // A live subscriber of the same query keeps shared renders warm.
    let mut live = subscribed(&server, &owner, LEAN, &group).await;
    let mut replaying = WsClient::connect(server.addr).await;
    replaying.init(&members[0].access_token).await;
    replaying
        .subscribe(
            "e",
            "subscription($c: ID, $after: Int) { messageEvents(conversationId: $c, afterSeq: $after) {
                seq kind message { body author { username } reactions { emoji count } } } }",
            json!({ "c": group, "after": first["seq"] }),
        )
        .await;
    let body = |payload: serde_json::Value| {
        payload["data"]["messageEvents"]["message"]["body"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    // The replay comes first (and before `settle`, which skips other ids).
    assert_eq!(body(replaying.next_payload("e").await), "two");
    replaying.settle("q").await;
    server.send_ok(&owner, &group, "three").await;
    assert_eq!(body(replaying.next_payload("e").await), "three");
    assert_eq!(
        live.next_payload("e").await["data"]["messageEvents"]["message"]["body"],
        "three"
    );
    replaying
        .subscribe("probe", "{ me { id } }", json!({}))
        .await;
    assert_eq!(replaying.next_message().await.expect("open")["id"], "probe");
}
