//! Faults with nothing lost: `kill -9` in the middle of a write storm keeps
//! every acknowledged message, an intact database and gap-free seqs; a
//! locked database and a full disk give clear errors, change nothing, and
//! stop mattering once they are gone, without a restart.

mod common;

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use common::media::{attachment_rows, staged_files, stored_files, upload};
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

const MESSAGES: &str = "query($id: ID!) { conversation(id: $id) {
    messages(last: 50) { nodes { body seq } } } }";

fn bodies_and_seqs(page: &serde_json::Value) -> Vec<(String, i64)> {
    page["data"]["conversation"]["messages"]["nodes"]
        .as_array()
        .expect("a page of messages")
        .iter()
        .map(|node| {
            (
                node["body"].as_str().unwrap_or_default().to_owned(),
                node["seq"].as_i64().unwrap_or_default(),
            )
        })
        .collect()
}

/// Asserts the error a client gets when a dependency cannot serve: the
/// contract's code, a sentence saying what happened, and `retryable`.
fn assert_unavailable(body: &serde_json::Value, says: &str) {
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    assert_eq!(error["extensions"]["retryable"], true, "{body}");
    assert!(
        error["message"].as_str().unwrap_or_default().contains(says),
        "the message says {says:?}: {body}"
    );
}

#[tokio::test]
async fn a_locked_database_fails_writes_clearly_keeps_reads_and_recovers_without_restart() {
    let server = TestServer::start().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    server.send_ok(&amy, &conversation, "before the lock").await;

    // Another process takes the write lock and keeps it, as a backup tool or
    // a stuck maintenance script would.
    let locker = rusqlite::Connection::open(server.data_path().join("realtalk.db"))
        .expect("second connection");
    locker
        .execute_batch("BEGIN EXCLUSIVE")
        .expect("exclusive lock");

    let refused = server.send(&amy, &conversation, "while locked").await;
    assert_unavailable(&refused, "database is busy");
    // Reads go on: WAL readers do not wait for the writer's lock.
    let page = server
        .gql(
            Some(&bea.access_token),
            MESSAGES,
            json!({ "id": conversation }),
        )
        .await;
    assert_no_errors(&page);

    locker.execute_batch("ROLLBACK").expect("release the lock");
    server.send_ok(&amy, &conversation, "after the lock").await;
    let page = server
        .gql(
            Some(&bea.access_token),
            MESSAGES,
            json!({ "id": conversation }),
        )
        .await;
    let messages = bodies_and_seqs(&page);
    let bodies: Vec<&str> = messages.iter().map(|(body, _)| body.as_str()).collect();
    assert_eq!(
        bodies,
        ["before the lock", "after the lock"],
        "nothing half-done"
    );
    assert_eq!(
        messages[1].1,
        messages[0].1 + 1,
        "the refused send took no seq: {messages:?}"
    );
}

/// A small tmpfs mounted over a directory, unmounted when dropped.
struct SmallDisk {
    path: std::path::PathBuf,
}

impl SmallDisk {
    /// `None` (and a loud line) when this machine does not let the test mount.
    fn mount(path: &std::path::Path, size: &str) -> Option<SmallDisk> {
        std::fs::create_dir_all(path).expect("mount point");
        let output = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .output();
        match output {
            Ok(output) if output.status.success() => Some(SmallDisk {
                path: path.to_path_buf(),
            }),
            Ok(output) => {
                eprintln!(
                    "!!! disk-full test NOT exercised: cannot mount a small tmpfs (needs root): {}",
                    String::from_utf8_lossy(&output.stderr).trim()
                );
                None
            }
            Err(error) => {
                eprintln!("!!! disk-full test NOT exercised: no `mount` command: {error}");
                None
            }
        }
    }

    fn resize(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(&self.path)
            .status()
            .expect("remount");
        assert!(status.success(), "remount to {size}");
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.path).status();
    }
}

#[tokio::test]
async fn a_full_disk_refuses_an_upload_clearly_leaves_nothing_and_recovers() {
    let data_dir = Arc::new(tempfile::tempdir().expect("data dir"));
    let Some(disk) = SmallDisk::mount(&data_dir.path().join("media"), "256k") else {
        return;
    };
    let server = TestServer::start_in(data_dir.clone(), &[]).await;
    let amy = server.register("amy").await;
    let notes = "a line of meeting notes\n".repeat(20_000).into_bytes();

    let refused = upload(&server, &amy, "notes.txt", notes.clone()).await;
    assert_eq!(refused["status"], 200, "{refused}");
    assert_unavailable(&refused["body"], "storage is full");
    assert_eq!(stored_files(&server), 0, "no stored bytes");
    assert_eq!(staged_files(&server), 0, "no half-written staging file");
    assert_eq!(attachment_rows(&server), 0, "no attachment row");

    // Space comes back (an operator cleans up): the same upload works, with
    // no restart.
    disk.resize("4m");
    let stored = upload(&server, &amy, "notes.txt", notes).await;
    assert_no_errors(&stored["body"]);
    assert_eq!(stored_files(&server), 1);
    assert_eq!(attachment_rows(&server), 1);
    drop(server);
}
