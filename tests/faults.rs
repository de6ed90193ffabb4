//! Faults with nothing lost: `kill -9` in the middle of a write storm keeps
//! every acknowledged message, an intact database and gap-free seqs.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::process::free_port;
use common::{TestServer, assert_no_errors};
use serde_json::json;

fn spawn(dir: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_realtalk"))
        .env_clear()
        .env("PORT", port.to_string())
        .env("DATA_DIR", dir)
        .env("JWT_SECRET", common::JWT_SECRET)
        .env("RATE_LIMIT_PER_SECOND", "100000")
        .env("RATE_LIMIT_BURST", "100000")
        .env("AUTH_RATE_LIMIT_PER_MINUTE", "100000")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts")
}

async fn wait_up(server: &TestServer) {
    for _ in 0..400 {
        if server
            .client
            .get(server.url("/health"))
            .send()
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    panic!("server did not come up");
}

#[tokio::test]
async fn kill_9_during_a_write_storm_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().expect("temp dir");
    let port = free_port();
    let mut child = spawn(dir.path(), port);
    let server = Arc::new(TestServer::attach(std::net::SocketAddr::from((
        [127, 0, 0, 1],
        port,
    ))));
    wait_up(&server).await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;

    // Four writers send as fast as they can; every acknowledged id is kept.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (server, stop, conversation) = (server.clone(), stop.clone(), conversation.clone());
        let author = if writer % 2 == 0 {
            amy.clone()
        } else {
            bea.clone()
        };
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for i in 0..10_000 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let sent = server
                    .client
                    .post(server.url("/graphql"))
                    .bearer_auth(&author.access_token)
                    .json(&json!({
                        "query": "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id } }",
                        "variables": { "input": { "conversationId": conversation, "body": format!("w{writer} #{i}") } }
                    }))
                    .send()
                    .await;
                let Ok(response) = sent else { break };
                let Ok(body) = response.json::<serde_json::Value>().await else { break };
                if let Some(id) = body["data"]["sendMessage"]["id"].as_str() {
                    acknowledged.push(id.to_owned());
                }
            }
            acknowledged
        }));
    }
    // Kill once a good number of sends were acknowledged (bounded wait).
    let db_path = dir.path().join("realtalk.db");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let stored: i64 = rusqlite::Connection::open(&db_path)
            .and_then(|db| db.query_row("SELECT COUNT(*) FROM messages", [], |row| row.get(0)))
            .unwrap_or(0);
        if stored >= 200 || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    child.kill().expect("kill -9");
    let _ = child.wait();
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    for writer in writers {
        acknowledged.extend(writer.await.expect("writer"));
    }
    assert!(
        acknowledged.len() >= 100,
        "the storm was real: {} acknowledged",
        acknowledged.len()
    );

    let mut child = spawn(dir.path(), port);
    wait_up(&server).await;
    let db = rusqlite::Connection::open(&db_path).expect("db");
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |row| row.get(0))
        .expect("check");
    assert_eq!(integrity, "ok");
    for id in &acknowledged {
        let found: i64 = db
            .query_row("SELECT COUNT(*) FROM messages WHERE id = ?1", [id], |row| {
                row.get(0)
            })
            .expect("lookup");
        assert_eq!(found, 1, "acknowledged message {id} was lost");
    }
    let seqs: Vec<i64> = db
        .prepare("SELECT seq FROM message_events WHERE conversation_id = ?1 ORDER BY seq")
        .and_then(|mut statement| {
            statement
                .query_map([&conversation], |row| row.get(0))?
                .collect()
        })
        .expect("seqs");
    assert_eq!(
        seqs,
        (1..=seqs.len() as i64).collect::<Vec<_>>(),
        "seqs have no gap"
    );
    // And the server works on, continuing the sequence.
    let next = server.send_ok(&amy, &conversation, "after the crash").await;
    assert_eq!(next["seq"], seqs.len() as i64 + 1);
    assert_no_errors(&server.me(&bea.access_token).await);
    let _ = child.kill();
    let _ = child.wait();
}
