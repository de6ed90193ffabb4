//! An internal error: the client gets a code and an error id, nothing
//! more; the log and Sentry (a local fake ingest endpoint here) get the id
//! and the cause.

mod common;

use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::routing::post;
use common::process::free_port;
use common::{TestServer, assert_no_errors};
use serde_json::json;

/// A stand-in for Sentry's ingest API that keeps every envelope it gets.
async fn fake_sentry() -> (u16, Arc<Mutex<Vec<String>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let store = received.clone();
    let app = Router::new().route(
        "/api/{project}/envelope/",
        post(move |body: String| {
            let store = store.clone();
            async move {
                store.lock().unwrap_or_else(|p| p.into_inner()).push(body);
                "{}"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (port, received)
}

#[tokio::test]
async fn internal_errors_reach_the_client_as_an_id_and_sentry_with_the_cause() {
    let (sentry_port, envelopes) = fake_sentry().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_realtalk"))
        .env_clear()
        .env("PORT", port.to_string())
        .env("DATA_DIR", dir.path())
        .env(
            "SENTRY_DSN",
            format!("http://public@127.0.0.1:{sentry_port}/42"),
        )
        .env("LOG_FORMAT", "json")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("stderr.log")).expect("log"))
        .spawn()
        .expect("server starts");
    let server = TestServer::attach(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    for _ in 0..200 {
        if server
            .client
            .get(server.url("/health"))
            .send()
            .await
            .is_ok()
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    server.send_ok(&bea, &conversation, "hello").await;
    // Break the data behind the server's back: Bea's row disappears while
    // her message still names her (foreign keys are off on this connection).
    let db = rusqlite::Connection::open(dir.path().join("realtalk.db")).expect("db");
    db.execute_batch("PRAGMA foreign_keys = OFF")
        .expect("pragma");
    db.execute("DELETE FROM users WHERE id = ?1", [&bea.id])
        .expect("delete");

    let body = server
        .gql(
            Some(&amy.access_token),
            "query($c: ID!) { messages(conversationId: $c) { nodes { author { username } } } }",
            json!({ "c": conversation }),
        )
        .await;
    let error = &body["errors"][0];
    assert_eq!(error["extensions"]["code"], "INTERNAL_SERVER_ERROR");
    let error_id = error["extensions"]["errorId"]
        .as_str()
        .expect("an error id")
        .to_owned();
    let message = error["message"].as_str().unwrap_or_default();
    assert_eq!(
        message,
        format!("internal server error (error id {error_id})"),
        "no detail leaks"
    );
    assert!(
        !body.to_string().contains(&bea.id),
        "no internal detail reaches the client"
    );
    assert_no_errors(&server.me(&amy.access_token).await);

    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let found = envelopes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .any(|envelope| envelope.contains(&error_id));
        if found {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Sentry never received the error"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let log = std::fs::read_to_string(dir.path().join("stderr.log")).unwrap_or_default();
    assert!(
        log.contains(&error_id),
        "the log has the same id, for support"
    );
    let _ = child.kill();
    let _ = child.wait();
}
