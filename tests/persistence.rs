//! What the server acknowledged survives a restart.

mod common;

use common::{PASSWORD, TestServer, assert_code, assert_no_errors};

#[tokio::test]
async fn users_and_sessions_survive_a_restart() {
    let server = TestServer::start().await;
    let alice = server.register("alice").await;
    let logged_out = server.register("bob").await;
    let body = server
        .gql(
            Some(&logged_out.access_token),
            "mutation { logout }",
            serde_json::json!({}),
        )
        .await;
    assert_no_errors(&body);

    let server = server.restart().await;
    let me = server.me(&alice.access_token).await;
    assert_no_errors(&me);
    assert_eq!(
        me["data"]["me"]["id"],
        alice.id.as_str(),
        "access tokens still work"
    );
    assert_no_errors(&server.refresh(&alice.refresh_token).await);
    assert_no_errors(&server.login("alice", PASSWORD).await);
    assert_code(
        &server.me(&logged_out.access_token).await,
        "UNAUTHENTICATED",
    );
    assert_code(
        &server.refresh(&logged_out.refresh_token).await,
        "UNAUTHENTICATED",
    );

    let integrity: String = rusqlite::Connection::open(server.data_path().join("realtalk.db"))
        .and_then(|db| db.query_row("PRAGMA integrity_check", [], |row| row.get(0)))
        .expect("database opens");
    assert_eq!(integrity, "ok");
    let journal: String = rusqlite::Connection::open(server.data_path().join("realtalk.db"))
        .and_then(|db| db.query_row("PRAGMA journal_mode", [], |row| row.get(0)))
        .expect("database opens");
    assert_eq!(journal, "wal");
}
