//! Subscriptions over real WebSockets: message events with replay, typing,
//! presence, notifications, and the transport's own rules.

mod common;

use common::ws::{Ended, WsClient};
use common::{TestServer, assert_code, assert_no_errors};
use serde_json::{Value, json};

const EVENTS: &str = "subscription($c: ID, $after: Int) { messageEvents(conversationId: $c, afterSeq: $after) {
    seq kind conversationId message { id body deleted author { username } reactions { emoji count } } } }";

/// A server whose users go offline one second after their last socket closes.
async fn server() -> TestServer {
    TestServer::start_with(&["--presence-grace-seconds", "1"]).await
}

async fn seqs_of(client: &mut WsClient, id: &str, count: usize) -> Vec<i64> {
    let mut seqs = Vec::new();
    for _ in 0..count {
        let payload = client.next_payload(id).await;
        seqs.push(
            payload["data"]["messageEvents"]["seq"]
                .as_i64()
                .expect("seq"),
        );
    }
    seqs
}

#[tokio::test]
async fn message_events_deliver_every_kind_of_change_live() {
    let server = server().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    let mut client = WsClient::connect(server.addr).await;
    client.init(&amy.access_token).await;
    client
        .subscribe("1", EVENTS, json!({ "c": conversation }))
        .await;
    // The subscription is live once a query on the same socket has answered.
    client.settle("q").await;

    let sent = server.send_ok(&bea, &conversation, "hello amy").await;
    let created = client.next_payload("1").await;
    let event = &created["data"]["messageEvents"];
    assert_eq!(event["kind"], "CREATED");
    assert_eq!(event["seq"], sent["seq"]);
    assert_eq!(event["conversationId"], conversation.as_str());
    assert_eq!(event["message"]["body"], "hello amy");
    assert_eq!(event["message"]["author"]["username"], "bea");

    let id = sent["id"].clone();
    server
        .gql(
            Some(&bea.access_token),
            "mutation($id: ID!) { editMessage(id: $id, body: \"edited\") { id } }",
            json!({ "id": id }),
        )
        .await;
    let edited = client.next_payload("1").await;
    assert_eq!(edited["data"]["messageEvents"]["kind"], "EDITED");
    assert_eq!(edited["data"]["messageEvents"]["message"]["body"], "edited");
    server
        .gql(
            Some(&amy.access_token),
            "mutation($id: ID!) { addReaction(messageId: $id, emoji: \"🎉\") { id } }",
            json!({ "id": id }),
        )
        .await;
    let reacted = client.next_payload("1").await;
    assert_eq!(
        reacted["data"]["messageEvents"]["kind"],
        "REACTIONS_CHANGED"
    );
    assert_eq!(
        reacted["data"]["messageEvents"]["message"]["reactions"][0]["count"],
        1
    );
    server
        .gql(
            Some(&bea.access_token),
            "mutation($id: ID!) { deleteMessage(id: $id) { id } }",
            json!({ "id": id }),
        )
        .await;
    let deleted = client.next_payload("1").await;
    assert_eq!(deleted["data"]["messageEvents"]["kind"], "DELETED");
    assert_eq!(deleted["data"]["messageEvents"]["message"]["deleted"], true);
    assert_eq!(deleted["data"]["messageEvents"]["seq"], 4);
}

#[tokio::test]
async fn a_reconnect_with_after_seq_gets_exactly_the_missed_events_then_live_ones() {
    let server = server().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    for i in 0..3 {
        server
            .send_ok(&bea, &conversation, &format!("before {i}"))
            .await;
    }
    let seen = 3;
    // Amy is offline while 5 more arrive.
    for i in 0..5 {
        server
            .send_ok(&bea, &conversation, &format!("missed {i}"))
            .await;
    }
    let mut client = WsClient::connect(server.addr).await;
    client.init(&amy.access_token).await;
    client
        .subscribe("1", EVENTS, json!({ "c": conversation, "after": seen }))
        .await;
    assert_eq!(seqs_of(&mut client, "1", 5).await, vec![4, 5, 6, 7, 8]);
    server.send_ok(&bea, &conversation, "live").await;
    let live = client.next_payload("1").await;
    assert_eq!(live["data"]["messageEvents"]["seq"], 9);
    assert_eq!(live["data"]["messageEvents"]["message"]["body"], "live");
}

#[tokio::test]
async fn replay_racing_with_new_sends_has_no_gap_and_no_duplicate() {
    let server = server().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    for i in 0..30 {
        server
            .send_ok(&bea, &conversation, &format!("old {i}"))
            .await;
    }
    let mut client = WsClient::connect(server.addr).await;
    client.init(&amy.access_token).await;
    let bodies: Vec<String> = (0..30).map(|i| format!("new {i}")).collect();
    let sends = futures_util::future::join_all(
        bodies
            .iter()
            .map(|body| server.send(&bea, &conversation, body)),
    );
    let subscribe = client.subscribe("1", EVENTS, json!({ "c": conversation, "after": 0 }));
    let (results, ()) = tokio::join!(sends, subscribe);
    results.iter().for_each(assert_no_errors);
    assert_eq!(
        seqs_of(&mut client, "1", 60).await,
        (1..=60).collect::<Vec<i64>>()
    );
}

#[tokio::test]
async fn the_all_conversations_stream_follows_joins_and_stops_at_removal() {
    let server = server().await;
    let (owner, members, group) = server.group_of("all", 2).await;
    let amy = &members[0];
    let other = server.register("all_other").await;
    server.befriend(amy, &other).await;
    let direct = server.open_direct(amy, &other).await;
    let mut client = WsClient::connect(server.addr).await;
    client.init(&amy.access_token).await;
    client.subscribe("all", EVENTS, json!({})).await;
    client.settle("q").await;

    server.send_ok(&owner, &group, "in the group").await;
    assert_eq!(
        client.next_payload("all").await["data"]["messageEvents"]["message"]["body"],
        "in the group"
    );
    server.send_ok(&other, &direct, "direct").await;
    assert_eq!(
        client.next_payload("all").await["data"]["messageEvents"]["message"]["body"],
        "direct"
    );

    // Joining a new group adds it to the stream.
    let later = server.create_group(&owner, "later", &[amy]).await;
    server.send_ok(&owner, &later, "joined later").await;
    assert_eq!(
        client.next_payload("all").await["data"]["messageEvents"]["message"]["body"],
        "joined later"
    );

    // Removal stops delivery at once: the next thing Amy gets is the direct message.
    server.gql(
        Some(&owner.access_token),
        "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id } }",
        json!({ "c": group, "u": amy.id }),
    ).await;
    server.send_ok(&owner, &group, "after removal").await;
    server.send_ok(&other, &direct, "proof").await;
    assert_eq!(
        client.next_payload("all").await["data"]["messageEvents"]["message"]["body"],
        "proof"
    );
}

#[tokio::test]
async fn a_single_conversation_stream_completes_when_the_viewer_is_removed() {
    let server = server().await;
    let (owner, members, group) = server.group_of("rm", 1).await;
    let mut client = WsClient::connect(server.addr).await;
    client.init(&members[0].access_token).await;
    client.subscribe("1", EVENTS, json!({ "c": group })).await;
    client
        .subscribe(
            "t",
            "subscription($c: ID!) { typing(conversationId: $c) { typing } }",
            json!({ "c": group }),
        )
        .await;
    client
        .subscribe(
            "r",
            "subscription($c: ID!) { readMarkers(conversationId: $c) { lastReadSeq } }",
            json!({ "c": group }),
        )
        .await;
    client.settle("q").await;
    server.gql(
        Some(&owner.access_token),
        "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id } }",
        json!({ "c": group, "u": members[0].id }),
    ).await;
    // Every conversation stream ends within the issue's 1 s, before anything
    // else of the group could reach the removed member.
    let mut open = std::collections::BTreeSet::from(["1", "t", "r"]);
    tokio::time::timeout(std::time::Duration::from_secs(1), async {
        while !open.is_empty() {
            let message = client.next_message().await.expect("open");
            let id = message["id"].as_str().unwrap_or_default().to_owned();
            if open.contains(id.as_str()) {
                assert_eq!(message["type"], "complete", "{message}");
                open.remove(id.as_str());
            }
        }
    })
    .await
    .expect("the removed member's streams end within 1 s");
    // Subscribing again as an outsider is NOT_FOUND, like any unknown id.
    client.subscribe("2", EVENTS, json!({ "c": group })).await;
    let refused = client.next_payload("2").await;
    assert_eq!(refused["errors"][0]["extensions"]["code"], "NOT_FOUND");
}

#[tokio::test]
async fn typing_is_relayed_expires_and_needs_membership() {
    let server = server().await;
    let (amy, bea, cyd) = (
        server.register("amy").await,
        server.register("bea").await,
        server.register("cyd").await,
    );
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    let mut client = WsClient::connect(server.addr).await;
    client.init(&amy.access_token).await;
    client.subscribe("t", "subscription($c: ID!) { typing(conversationId: $c) { conversationId typing user { username } } }", json!({ "c": conversation })).await;
    client.settle("q").await;

    let set = "mutation($c: ID!, $t: Boolean!) { setTyping(conversationId: $c, typing: $t) }";
    let typed = server
        .gql(
            Some(&bea.access_token),
            set,
            json!({ "c": conversation, "t": true }),
        )
        .await;
    assert_eq!(typed["data"]["setTyping"], true);
    let started = client.next_payload("t").await;
    assert_eq!(
        started["data"]["typing"],
        json!({ "conversationId": conversation, "typing": true, "user": { "username": "bea" } })
    );
    // No renewal: it ends by itself.
    let expired = client.next_payload("t").await;
    assert_eq!(expired["data"]["typing"]["typing"], false);

    let outsider = server
        .gql(
            Some(&cyd.access_token),
            set,
            json!({ "c": conversation, "t": true }),
        )
        .await;
    assert_code(&outsider, "NOT_FOUND");
    let mut limited = false;
    for _ in 0..30 {
        let body = server
            .gql(
                Some(&bea.access_token),
                set,
                json!({ "c": conversation, "t": true }),
            )
            .await;
        if common::error_code(&body) == Some("RATE_LIMITED") {
            limited = true;
            break;
        }
    }
    assert!(limited, "setTyping is rate limited per user");
}

#[tokio::test]
async fn presence_follows_connections_with_a_grace_period_and_last_seen() {
    let server = server().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let mut watcher = WsClient::connect(server.addr).await;
    watcher.init(&amy.access_token).await;
    watcher
        .subscribe(
            "p",
            "subscription { presence { online lastSeenAt user { username } } }",
            json!({}),
        )
        .await;
    watcher.settle("q").await;

    let online = "query($id: ID!) { user(id: $id) { online lastSeenAt } }";
    let before = server
        .gql(Some(&amy.access_token), online, json!({ "id": bea.id }))
        .await;
    assert_eq!(before["data"]["user"]["online"], false);

    let mut bea_socket = WsClient::connect(server.addr).await;
    bea_socket.init(&bea.access_token).await;
    let came = watcher.next_payload("p").await;
    assert_eq!(came["data"]["presence"]["online"], true);
    assert_eq!(came["data"]["presence"]["user"]["username"], "bea");
    let now = server
        .gql(Some(&amy.access_token), online, json!({ "id": bea.id }))
        .await;
    assert_eq!(now["data"]["user"]["online"], true);

    drop(bea_socket);
    let went = watcher.next_payload("p").await;
    assert_eq!(went["data"]["presence"]["online"], false);
    assert!(went["data"]["presence"]["lastSeenAt"].is_string());
    let after = server
        .gql(Some(&amy.access_token), online, json!({ "id": bea.id }))
        .await;
    assert_eq!(after["data"]["user"]["online"], false);
    assert!(after["data"]["user"]["lastSeenAt"].is_string());
}

#[tokio::test]
async fn notifications_tell_about_requests_and_group_changes() {
    let server = server().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    let mut amy_socket = WsClient::connect(server.addr).await;
    amy_socket.init(&amy.access_token).await;
    amy_socket.subscribe("n", "subscription { notifications { kind at friendRequest { from { username } status } conversation { title } } }", json!({})).await;
    amy_socket.settle("q").await;
    let mut bea_socket = WsClient::connect(server.addr).await;
    bea_socket.init(&bea.access_token).await;
    bea_socket
        .subscribe(
            "n",
            "subscription { notifications { kind friendRequest { to { username } } } }",
            json!({}),
        )
        .await;
    bea_socket.settle("q").await;

    let kind = |payload: &Value| {
        payload["data"]["notifications"]["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned()
    };
    server.befriend(&bea, &amy).await;
    let received = amy_socket.next_payload("n").await;
    assert_eq!(kind(&received), "FRIEND_REQUEST_RECEIVED");
    assert_eq!(
        received["data"]["notifications"]["friendRequest"]["from"]["username"],
        "bea"
    );
    let accepted = bea_socket.next_payload("n").await;
    assert_eq!(kind(&accepted), "FRIEND_REQUEST_ACCEPTED");

    let group = server.create_group(&bea, "plans", &[&amy]).await;
    let added = amy_socket.next_payload("n").await;
    assert_eq!(kind(&added), "ADDED_TO_GROUP");
    assert_eq!(
        added["data"]["notifications"]["conversation"]["title"],
        "plans"
    );
    server
        .gql(
            Some(&bea.access_token),
            "mutation($c: ID!) { renameGroup(conversationId: $c, title: \"new plans\") { id } }",
            json!({ "c": group }),
        )
        .await;
    assert_eq!(kind(&amy_socket.next_payload("n").await), "GROUP_UPDATED");
    server.gql(
        Some(&bea.access_token),
        "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id } }",
        json!({ "c": group, "u": amy.id }),
    ).await;
    let removed = amy_socket.next_payload("n").await;
    assert_eq!(kind(&removed), "REMOVED_FROM_GROUP");
}

#[tokio::test]
async fn read_markers_reach_the_others_when_they_move_forward() {
    let server = server().await;
    let (amy, members, group) = server.group_of("rm", 1).await;
    let bea = &members[0];
    for n in 1..=3 {
        server.send_ok(bea, &group, &format!("message {n}")).await;
    }
    let query = "subscription($c: ID!) { readMarkers(conversationId: $c) { conversationId lastReadSeq user { id } } }";
    let mut bea_socket = WsClient::connect(server.addr).await;
    bea_socket.init(&bea.access_token).await;
    bea_socket
        .subscribe("r", query, json!({ "c": group }))
        .await;
    bea_socket.settle("q").await;
    let mut amy_socket = WsClient::connect(server.addr).await;
    amy_socket.init(&amy.access_token).await;
    amy_socket
        .subscribe("r", query, json!({ "c": group }))
        .await;
    amy_socket.settle("q").await;

    let mark = |seq: i64| {
        server.gql(
            Some(&amy.access_token),
            "mutation($c: ID!, $s: Int!) { markRead(conversationId: $c, seq: $s) { id } }",
            json!({ "c": group, "s": seq }),
        )
    };
    assert_no_errors(&mark(2).await);
    let moved = bea_socket.next_payload("r").await;
    assert_eq!(
        moved["data"]["readMarkers"],
        json!({ "conversationId": group, "lastReadSeq": 2, "user": { "id": amy.id } })
    );
    // Backwards or in place: the marker does not move, nobody is told; the
    // next event Bea sees is the next real move (clamped to the last seq).
    assert_no_errors(&mark(1).await);
    assert_no_errors(&mark(2).await);
    assert_no_errors(&mark(99).await);
    let next = bea_socket.next_payload("r").await;
    assert_eq!(next["data"]["readMarkers"]["lastReadSeq"], 3);
    // Bea's own marker goes to Amy, and Amy never hears of her own.
    assert_no_errors(
        &server
            .gql(
                Some(&bea.access_token),
                "mutation($c: ID!) { markRead(conversationId: $c, seq: 1) { id } }",
                json!({ "c": group }),
            )
            .await,
    );
    let from_bea = amy_socket.next_payload("r").await;
    assert_eq!(
        from_bea["data"]["readMarkers"]["user"]["id"],
        bea.id.as_str()
    );
    assert_eq!(from_bea["data"]["readMarkers"]["lastReadSeq"], 1);
}

#[tokio::test]
async fn ending_a_friendship_is_told_to_both_sides() {
    let server = server().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let query = "subscription { notifications { kind user { id friendship } } }";
    let mut amy_socket = WsClient::connect(server.addr).await;
    amy_socket.init(&amy.access_token).await;
    amy_socket.subscribe("n", query, json!({})).await;
    amy_socket.settle("q").await;
    let mut bea_socket = WsClient::connect(server.addr).await;
    bea_socket.init(&bea.access_token).await;
    bea_socket.subscribe("n", query, json!({})).await;
    bea_socket.settle("q").await;

    let removed = server
        .gql(
            Some(&bea.access_token),
            "mutation($u: ID!) { removeFriend(userId: $u) }",
            json!({ "u": amy.id }),
        )
        .await;
    assert_no_errors(&removed);
    for (socket, other) in [(&mut amy_socket, &bea), (&mut bea_socket, &amy)] {
        let told = socket.next_payload("n").await;
        let notification = &told["data"]["notifications"];
        assert_eq!(notification["kind"], "FRIEND_REMOVED", "{told}");
        assert_eq!(notification["user"]["id"], other.id.as_str());
        assert_eq!(notification["user"]["friendship"], "NONE");
    }
    // Removing again changes nothing and tells nobody.
    let again = server
        .gql(
            Some(&bea.access_token),
            "mutation($u: ID!) { removeFriend(userId: $u) }",
            json!({ "u": amy.id }),
        )
        .await;
    assert_eq!(again["data"]["removeFriend"], false, "{again}");
    server.befriend(&amy, &bea).await;
    let next = amy_socket.next_payload("n").await;
    assert_eq!(
        next["data"]["notifications"]["kind"], "FRIEND_REQUEST_ACCEPTED",
        "the next notice is the new friendship, not a second removal"
    );
}

#[tokio::test]
async fn logout_closes_the_sessions_sockets_with_4403() {
    let server = server().await;
    let amy = server.register("amy").await;
    let mut client = WsClient::connect(server.addr).await;
    client.init(&amy.access_token).await;
    client
        .subscribe("n", "subscription { notifications { kind } }", json!({}))
        .await;
    client.settle("q").await;
    assert_no_errors(
        &server
            .gql(Some(&amy.access_token), "mutation { logout }", json!({}))
            .await,
    );
    assert_eq!(client.close_code().await, Some(4403));

    let second =
        common::account_from(&server.login("amy", common::PASSWORD).await["data"]["login"]);
    let mut other = WsClient::connect(server.addr).await;
    other.init(&second.access_token).await;
    assert_no_errors(
        &server
            .gql(
                Some(&second.access_token),
                "mutation { logoutAll }",
                json!({}),
            )
            .await,
    );
    assert_eq!(other.close_code().await, Some(4403));
}

#[tokio::test]
async fn the_transport_refuses_what_the_spec_refuses_with_its_close_codes() {
    let server = server().await;
    let amy = server.register("amy").await;
    let subscribe = json!({ "type": "subscribe", "id": "1", "payload": { "query": "subscription { notifications { kind } }" } });

    let mut bad_token = WsClient::connect(server.addr).await;
    bad_token
        .send_json(
            json!({ "type": "connection_init", "payload": { "authorization": "Bearer nope" } }),
        )
        .await;
    assert_eq!(bad_token.close_code().await, Some(4403));

    let mut no_token = WsClient::connect(server.addr).await;
    no_token
        .send_json(json!({ "type": "connection_init" }))
        .await;
    assert_eq!(no_token.close_code().await, Some(4403));

    let mut early = WsClient::connect(server.addr).await;
    early.send_json(subscribe.clone()).await;
    assert_eq!(early.close_code().await, Some(4401));

    let mut garbage = WsClient::connect(server.addr).await;
    garbage.send_raw("{not json").await;
    assert_eq!(garbage.close_code().await, Some(4400));

    let mut twice = WsClient::connect(server.addr).await;
    twice.init(&amy.access_token).await;
    twice
        .send_json(
            json!({ "type": "connection_init", "payload": { "authorization": amy.access_token } }),
        )
        .await;
    assert_eq!(twice.close_code().await, Some(4429));

    let mut duplicate = WsClient::connect(server.addr).await;
    duplicate.init(&amy.access_token).await;
    duplicate.send_json(subscribe.clone()).await;
    duplicate.send_json(subscribe.clone()).await;
    assert_eq!(duplicate.close_code().await, Some(4409));

    let mut pinged = WsClient::connect(server.addr).await;
    pinged.init(&amy.access_token).await;
    pinged.send_json(json!({ "type": "ping" })).await;
    pinged
        .subscribe("v", "subscription { nope }", json!({}))
        .await;
    let error = pinged.next_message().await.expect("error message");
    assert_eq!(
        error["type"], "error",
        "validation errors come as `error`: {error}"
    );
    assert_eq!(
        error["payload"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    pinged
        .subscribe("m", "query { me { username } }", json!({}))
        .await;
    assert_eq!(
        pinged.next_payload("m").await["data"]["me"]["username"],
        "amy"
    );
    assert_eq!(
        pinged.next_message().await.expect("complete"),
        json!({ "type": "complete", "id": "m" })
    );

    let mut foreign = tokio_tungstenite::connect_async({
        use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
        let mut request = format!("ws://{}/graphql", server.addr)
            .into_client_request()
            .expect("request");
        request
            .headers_mut()
            .insert("origin", "https://evil.example".parse().expect("header"));
        request.headers_mut().insert(
            "sec-websocket-protocol",
            "graphql-transport-ws".parse().expect("header"),
        );
        request
    })
    .await;
    match &mut foreign {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 403)
        }
        other => panic!(
            "a foreign Origin must be refused, got {:?}",
            other.as_ref().map(|_| ())
        ),
    }
}

#[tokio::test]
async fn without_connection_init_the_socket_closes_with_4408() {
    let server = server().await;
    let mut idle = WsClient::connect(server.addr).await;
    assert_eq!(idle.close_code().await, Some(4408));
}

#[tokio::test]
async fn the_legacy_graphql_ws_subprotocol_works_and_refuses_start_before_init() {
    let server = server().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;

    let mut early = WsClient::connect_legacy(server.addr).await;
    early
        .subscribe("1", EVENTS, json!({ "c": conversation }))
        .await;
    assert_eq!(early.close_code().await, Some(4401));

    let mut refused = WsClient::connect_legacy(server.addr).await;
    refused
        .send_json(
            json!({ "type": "connection_init", "payload": { "authorization": "Bearer bad" } }),
        )
        .await;
    let error = refused.next_message().await.expect("connection_error");
    assert_eq!(error["type"], "connection_error");
    assert!(matches!(
        refused.ended().await,
        Ended::Closed(4403, _) | Ended::Dropped
    ));

    let mut client = WsClient::connect_legacy(server.addr).await;
    client.init(&amy.access_token).await;
    client
        .subscribe("1", EVENTS, json!({ "c": conversation }))
        .await;
    client.settle("q").await;
    server.send_ok(&bea, &conversation, "legacy hello").await;
    let data = client.next_payload("1").await;
    assert_eq!(
        data["data"]["messageEvents"]["message"]["body"],
        "legacy hello"
    );
    client.unsubscribe("1").await;
    server.send_ok(&bea, &conversation, "not delivered").await;
    client
        .subscribe("q2", "{ me { username } }", json!({}))
        .await;
    assert_eq!(
        client.next_payload("q2").await["data"]["me"]["username"],
        "amy",
        "nothing else arrived first"
    );
}

#[tokio::test]
async fn an_access_token_expiring_closes_its_socket_with_4403() {
    use base64::Engine as _;
    let server = server().await;
    let amy = server.register("amy").await;
    // Re-sign Amy's real claims to expire in two seconds.
    let payload = amy.access_token.split('.').nth(1).expect("JWT payload");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .expect("base64");
    let mut claims: Value = serde_json::from_slice(&bytes).expect("claims");
    claims["exp"] = json!(chrono::Utc::now().timestamp() + 2);
    let short_lived = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(common::JWT_SECRET.as_bytes()),
    )
    .expect("token");
    let mut client = WsClient::connect(server.addr).await;
    client.init(&short_lived).await;
    match client.ended().await {
        Ended::Closed(code, reason) => {
            assert_eq!(code, 4403);
            assert!(reason.contains("expired"), "{reason}");
        }
        Ended::Dropped => panic!("the server should close with 4403"),
    }
}
