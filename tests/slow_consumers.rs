//! A subscriber that stops reading costs the server nothing lasting: its
//! socket is released while it is still stalled, and everyone else keeps
//! getting every message. (Its own test binary: it reads the process-wide
//! open-socket gauge, which other servers in the same process would move.)

mod common;

use std::time::Duration;

use common::TestServer;
use common::ws::WsClient;
use serde_json::json;

const EVENTS: &str =
    "subscription($c: ID) { messageEvents(conversationId: $c) { seq message { body } } }";
/// Messages of 4 000 four-byte characters: ~19 MB of frames, far more than
/// the kernel's socket buffers on both ends of a loopback connection hold
/// (the server's send buffer grows to 4 MiB at most by default).
const MESSAGES: u64 = 1_200;
const BODY_CHAR: &str = "\u{1F600}";

/// The server's open WebSockets, from `/metrics`.
async fn open_sockets(server: &TestServer) -> f64 {
    let text = server
        .get("/metrics")
        .await
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|line| line.strip_prefix("realtalk_websocket_connections "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_is_dropped_and_holds_up_no_one() {
    let server = TestServer::start_with(&[
        "--ws-keepalive-seconds",
        "1",
        "--rate-limit-per-second",
        "100000",
        "--rate-limit-burst",
        "100000",
    ])
    .await;
    let amy = server.register("amy").await;
    let bob = server.register("bob").await;
    server.befriend(&amy, &bob).await;
    let conversation = server.open_direct(&amy, &bob).await;

    let mut live = WsClient::connect(server.addr).await;
    live.init(&bob.access_token).await;
    live.subscribe("events", EVENTS, json!({ "c": conversation }))
        .await;
    live.settle("live-ready").await;
    let mut stalled = WsClient::connect_small_receive_buffer(server.addr).await;
    stalled.init(&bob.access_token).await;
    stalled
        .subscribe("events", EVENTS, json!({ "c": conversation }))
        .await;
    stalled.settle("stalled-ready").await;
    assert_eq!(open_sockets(&server).await, 2.0);
    // From here on `stalled` reads nothing: no frames, no pings.

    let reader = tokio::spawn(async move {
        let mut seqs = Vec::new();
        while seqs.len() < MESSAGES as usize {
            let payload = live.next_payload("events").await;
            let event = &payload["data"]["messageEvents"];
            assert_eq!(
                event["message"]["body"]
                    .as_str()
                    .map(|body| body.chars().count()),
                Some(4000)
            );
            seqs.push(event["seq"].as_u64().expect("seq"));
        }
        (seqs, live)
    });
    let body = BODY_CHAR.repeat(4000);
    for _ in 0..MESSAGES / 10 {
        let sends = (0..10).map(|_| server.send_ok(&amy, &conversation, &body));
        futures_util::future::join_all(sends).await;
    }
    let (seqs, live) = reader.await.expect("the live reader");
    let first = seqs[0];
    assert_eq!(
        seqs,
        (first..first + MESSAGES).collect::<Vec<_>>(),
        "the reading subscriber got every message once, in order"
    );

    // The stalled socket is let go while its client still reads nothing
    // (it answered no ping for two intervals, and a write it cannot take
    // does not hold the connection open); the live one stays.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let mut live = live;
    for round in 0.. {
        // The live client keeps talking, so only the stalled one is silent.
        live.settle(&format!("still-here-{round}")).await;
        if open_sockets(&server).await == 1.0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled socket is still open on the server"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stalled);
}
