//! Two RealTalk nodes behind one Redis (real `redis-server`, real
//! processes, one shared SQLite file): delivery, presence and revocation
//! cross nodes; a dead node takes its users offline; a Redis restart loses
//! no message.

mod common;

use common::process::{Node, Redis};
use common::ws::WsClient;
use common::{TestServer, assert_no_errors};
use serde_json::json;

const EVENTS: &str =
    "subscription($c: ID) { messageEvents(conversationId: $c) { seq message { body } } }";

struct Cluster {
    redis: Redis,
    a: Node,
    b: Node,
    _dir: tempfile::TempDir,
}

fn cluster() -> Cluster {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start();
    let database = dir.path().join("shared.db");
    let a = Node::start(&dir.path().join("a"), &database, &redis.url());
    let b = Node::start(&dir.path().join("b"), &database, &redis.url());
    Cluster {
        redis,
        a,
        b,
        _dir: dir,
    }
}

/// Alice registered on node A, Bob on node B, friends with a direct conversation.
struct Pair {
    via_a: TestServer,
    via_b: TestServer,
    alice: common::Account,
    bob: common::Account,
    conversation: String,
}

async fn pair(cluster: &Cluster) -> Pair {
    let (via_a, via_b) = (
        TestServer::attach(cluster.a.addr),
        TestServer::attach(cluster.b.addr),
    );
    let alice = via_a.register("alice").await;
    let bob = via_b.register("bob").await;
    via_a.befriend(&alice, &bob).await;
    let conversation = via_a.open_direct(&alice, &bob).await;
    Pair {
        via_a,
        via_b,
        alice,
        bob,
        conversation,
    }
}

#[tokio::test]
async fn messages_presence_and_logout_cross_nodes_and_a_dead_node_takes_its_users_offline() {
    let mut cluster = cluster();
    let Pair {
        via_a,
        via_b,
        alice,
        bob,
        conversation,
    } = pair(&cluster).await;

    let mut alice_socket = WsClient::connect(cluster.a.addr).await;
    alice_socket.init(&alice.access_token).await;
    alice_socket
        .subscribe("m", EVENTS, json!({ "c": conversation }))
        .await;
    alice_socket
        .subscribe(
            "p",
            "subscription { presence { online user { username } } }",
            json!({}),
        )
        .await;
    alice_socket.settle("s").await;

    via_b.send_ok(&bob, &conversation, "from node B").await;
    let received = alice_socket.next_payload("m").await;
    assert_eq!(
        received["data"]["messageEvents"]["message"]["body"],
        "from node B"
    );

    let mut bob_socket = WsClient::connect(cluster.b.addr).await;
    bob_socket.init(&bob.access_token).await;
    let online = alice_socket.next_payload("p").await;
    assert_eq!(
        online["data"]["presence"],
        json!({ "online": true, "user": { "username": "bob" } })
    );
    let seen_from_a = via_a
        .gql(
            Some(&alice.access_token),
            "query($id: ID!) { user(id: $id) { online } }",
            json!({ "id": bob.id }),
        )
        .await;
    assert_eq!(
        seen_from_a["data"]["user"]["online"], true,
        "node A reads node B's presence"
    );

    // Logging out through node A closes Bob's socket on node B.
    let second = common::account_from(&via_a.login("bob", common::PASSWORD).await["data"]["login"]);
    let mut bob_second = WsClient::connect(cluster.b.addr).await;
    bob_second.init(&second.access_token).await;
    assert_no_errors(
        &via_a
            .gql(Some(&second.access_token), "mutation { logout }", json!({}))
            .await,
    );
    assert_eq!(bob_second.close_code().await, Some(4403));

    // Node B dies without a word: Bob goes offline on node A within the TTL.
    cluster.b.kill();
    let offline = alice_socket.next_payload("p").await;
    assert_eq!(
        offline["data"]["presence"],
        json!({ "online": false, "user": { "username": "bob" } })
    );
}

#[tokio::test]
async fn a_redis_restart_mid_conversation_loses_no_message() {
    let mut cluster = cluster();
    let Pair {
        via_a,
        via_b,
        alice,
        bob,
        conversation,
    } = pair(&cluster).await;

    let mut alice_socket = WsClient::connect(cluster.a.addr).await;
    alice_socket.init(&alice.access_token).await;
    alice_socket
        .subscribe("m", EVENTS, json!({ "c": conversation }))
        .await;
    alice_socket.settle("s").await;
    let mut bob_socket = WsClient::connect(cluster.b.addr).await;
    bob_socket.init(&bob.access_token).await;
    bob_socket
        .subscribe("m", EVENTS, json!({ "c": conversation }))
        .await;
    bob_socket.settle("s").await;

    via_b.send_ok(&bob, &conversation, "one").await;
    assert_eq!(
        alice_socket.next_payload("m").await["data"]["messageEvents"]["seq"],
        1
    );
    assert_eq!(
        bob_socket.next_payload("m").await["data"]["messageEvents"]["seq"],
        1
    );

    cluster.redis.stop();
    // HTTP keeps serving and local delivery keeps working without Redis.
    via_b.send_ok(&bob, &conversation, "two").await;
    via_b.send_ok(&bob, &conversation, "three").await;
    assert_eq!(
        bob_socket.next_payload("m").await["data"]["messageEvents"]["seq"],
        2
    );
    assert_eq!(
        bob_socket.next_payload("m").await["data"]["messageEvents"]["seq"],
        3
    );

    cluster.redis.restart();
    // Node A resyncs from the store once its subscription is back.
    let mut seqs = Vec::new();
    for _ in 0..2 {
        seqs.push(
            alice_socket.next_payload("m").await["data"]["messageEvents"]["seq"]
                .as_i64()
                .unwrap_or(0),
        );
    }
    assert_eq!(seqs, vec![2, 3]);
    via_b.send_ok(&bob, &conversation, "four").await;
    assert_eq!(
        alice_socket.next_payload("m").await["data"]["messageEvents"]["seq"],
        4,
        "exactly once, in order"
    );
    // /status recovers without a restart once Redis answers again.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let status = via_a
            .client
            .get(via_a.url("/status"))
            .send()
            .await
            .expect("status");
        if status.status() == 200 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/status stayed {}",
            status.status()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_starting_node_scrubs_presence_left_by_dead_nodes() {
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = Redis::start();
    let mut connection = redis.connection().await;
    let stale_since = chrono::Utc::now().timestamp_millis() - 60_000;
    redis::cmd("ZADD")
        .arg("realtalk:presence:ghost")
        .arg(stale_since)
        .arg("dead-node")
        .query_async::<i64>(&mut connection)
        .await
        .expect("ZADD");
    let _node = Node::start(
        &dir.path().join("a"),
        &dir.path().join("db.sqlite"),
        &redis.url(),
    );
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let left: i64 = redis::cmd("ZCARD")
            .arg("realtalk:presence:ghost")
            .query_async(&mut connection)
            .await
            .expect("ZCARD");
        if left == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stale entry was not scrubbed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// The subscriber pings Redis every few seconds to notice a half-open
/// connection. It once misread the reply Redis gives in subscribed mode
/// (`["pong", ""]`), took it for a failure and reconnected every time, and
/// each reconnection made every live stream re-read the store: a stall of
/// half a second every 5 s under load (BENCHMARKS.md).
#[tokio::test]
async fn a_node_keeps_its_redis_subscription_across_pings() {
    let cluster = cluster();
    let via_a = TestServer::attach(cluster.a.addr);
    // Two of the subscriber's 5 s pings.
    tokio::time::sleep(std::time::Duration::from_secs(12)).await;
    let metrics = via_a
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics text");
    let reconnects: f64 = metrics
        .lines()
        .find_map(|line| line.strip_prefix("realtalk_bus_redis_reconnects_total "))
        .map_or(0.0, |value| value.trim().parse().expect("a number"));
    assert_eq!(reconnects, 0.0, "the subscription was dropped and renewed");
}
