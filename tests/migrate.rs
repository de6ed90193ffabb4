//! `realtalk migrate`, the real binary: data made through a running server
//! survives SQLite -> JSONL -> SQLite and SQLite -> SQLite, and a server on
//! the copy behaves as before: logins, history, seqs, search and replay.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::ws::WsClient;
use common::{Account, PASSWORD, TestServer, assert_no_errors};
use serde_json::{Value, json};

const BIN: &str = env!("CARGO_BIN_EXE_realtalk");

const HISTORY: &str = "query($c: ID!) { messages(conversationId: $c, last: 50) { nodes {
    id seq body deleted editedAt clientId author { username } replyTo { id }
    reactions { emoji count } attachments { id } } } }";

const EVENTS: &str =
    "subscription($c: ID, $after: Int) { messageEvents(conversationId: $c, afterSeq: $after) {
    seq kind message { id body deleted } } }";

fn migrate(from: &str, to: &str) -> Output {
    Command::new(BIN)
        .args(["migrate", "--from", from, "--to", to])
        .env_clear()
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

#[track_caller]
fn assert_success(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "migrate failed: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// What was made through the old server, and what it looked like there.
struct World {
    amy: Account,
    direct: String,
    group: String,
    history: Vec<Value>,
    last_direct_seq: i64,
}

async fn history(server: &TestServer, token: &str, conversation: &str) -> Value {
    let body = server
        .gql(Some(token), HISTORY, json!({ "c": conversation }))
        .await;
    assert_no_errors(&body);
    body["data"]["messages"]["nodes"].clone()
}

async fn search(server: &TestServer, token: &str, query: &str) -> Vec<String> {
    let body = server
        .gql(
            Some(token),
            "query($q: String!) { searchMessages(query: $q) { body } }",
            json!({ "q": query }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["searchMessages"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|message| message["body"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// Users, a friendship, a direct and a group conversation, and messages
/// that were edited, deleted and reacted to.
async fn populate(server: &TestServer) -> World {
    let (amy, bea, cat) = (
        server.register("amy").await,
        server.register("bea").await,
        server.register("cat").await,
    );
    server.befriend(&amy, &bea).await;
    server.befriend(&amy, &cat).await;
    let direct = server.open_direct(&amy, &bea).await;
    let group = server.create_group(&amy, "Pizza club", &[&bea, &cat]).await;
    let first = server
        .send_ok(&amy, &direct, "hello bea, pizza tonight?")
        .await;
    server.send_ok(&bea, &direct, "yes please").await;
    let typo = server.send_ok(&amy, &direct, "margarita").await;
    let oops = server.send_ok(&bea, &direct, "wrong chat").await;
    server.send_ok(&cat, &group, "group dinner on friday").await;
    for (token, query, variables) in [
        (
            &amy.access_token,
            "mutation($id: ID!) { editMessage(id: $id, body: \"margherita, of course\") { id } }",
            json!({ "id": typo["id"] }),
        ),
        (
            &bea.access_token,
            "mutation($id: ID!) { addReaction(messageId: $id, emoji: \"🍕\") { id } }",
            json!({ "id": first["id"] }),
        ),
        (
            &bea.access_token,
            "mutation($id: ID!) { deleteMessage(id: $id) { id } }",
            json!({ "id": oops["id"] }),
        ),
    ] {
        assert_no_errors(&server.gql(Some(token), query, variables).await);
    }
    let history = vec![
        history(server, &amy.access_token, &direct).await,
        history(server, &amy.access_token, &group).await,
    ];
    World {
        amy,
        direct,
        group,
        history,
        // 4 messages, an edit, a reaction and a delete.
        last_direct_seq: 7,
    }
}

/// A server on `database` shows exactly the world made before.
async fn assert_world_survived(database: &Path, world: &World) {
    let server = TestServer::start_with(&["--database-url", &sqlite_url(database)]).await;
    let login = server.login("amy", PASSWORD).await;
    assert_no_errors(&login);
    let amy = common::account_from(&login["data"]["login"]);
    assert_eq!(amy.id, world.amy.id, "the same account, with its password");

    let copied = vec![
        history(&server, &amy.access_token, &world.direct).await,
        history(&server, &amy.access_token, &world.group).await,
    ];
    assert_eq!(
        copied, world.history,
        "same messages, seqs, edits, reactions"
    );
    assert_eq!(
        search(&server, &amy.access_token, "pizz").await,
        vec!["hello bea, pizza tonight?"]
    );
    assert_eq!(
        search(&server, &amy.access_token, "margherita").await.len(),
        1,
        "edits are searchable"
    );
    assert!(
        search(&server, &amy.access_token, "wrong").await.is_empty(),
        "tombstones are not"
    );

    let mut client = WsClient::connect(server.addr).await;
    client.init(&amy.access_token).await;
    client
        .subscribe("1", EVENTS, json!({ "c": world.direct, "after": 2 }))
        .await;
    let mut replayed = Vec::new();
    for _ in 3..=world.last_direct_seq {
        let payload = client.next_payload("1").await;
        let event = &payload["data"]["messageEvents"];
        replayed.push((
            event["seq"].as_i64().expect("seq"),
            event["kind"].as_str().unwrap_or_default().to_owned(),
        ));
    }
    let kinds: Vec<(i64, &str)> = replayed
        .iter()
        .map(|(seq, kind)| (*seq, kind.as_str()))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (3, "CREATED"),
            (4, "CREATED"),
            (5, "EDITED"),
            (6, "REACTIONS_CHANGED"),
            (7, "DELETED")
        ]
    );
    let next = server.send_ok(&amy, &world.direct, "after the move").await;
    assert_eq!(
        next["seq"],
        world.last_direct_seq + 1,
        "seqs continue without a gap"
    );
    let live = client.next_payload("1").await;
    assert_eq!(
        live["data"]["messageEvents"]["seq"],
        world.last_direct_seq + 1
    );
}

/// A server's database with the world in it, stopped: (its dir, the db, the world).
async fn stopped_world() -> (std::sync::Arc<tempfile::TempDir>, PathBuf, World) {
    let server = TestServer::start().await;
    let world = populate(&server).await;
    let database = server.data_path().join("realtalk.db");
    let dir = server.stop().await;
    (dir, database, world)
}

#[tokio::test]
async fn sqlite_to_jsonl_to_sqlite_keeps_everything() {
    let (_old, database, world) = stopped_world().await;
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("realtalk.jsonl");
    let copy = work.path().join("copy.db");

    let printed = assert_success(&migrate(&sqlite_url(&database), &dump.to_string_lossy()));
    assert!(
        printed.contains("users") && printed.contains("message_events"),
        "per-table counts: {printed}"
    );
    let users_line = printed
        .lines()
        .find(|line| line.trim_start().starts_with("users "))
        .expect("a users line");
    assert!(
        users_line.trim_end().ends_with(" 3"),
        "three users: {users_line:?}"
    );
    let text = std::fs::read_to_string(&dump).expect("dump written");
    let first: Value =
        serde_json::from_str(text.lines().next().expect("a line")).expect("JSON line");
    assert_eq!(first["table"], "users");
    assert!(first["row"]["password_hash"].is_string());

    assert_success(&migrate(&dump.to_string_lossy(), &sqlite_url(&copy)));
    assert_world_survived(&copy, &world).await;
}

#[tokio::test]
async fn sqlite_to_sqlite_keeps_everything() {
    let (_old, database, world) = stopped_world().await;
    let work = tempfile::tempdir().expect("temp dir");
    let copy = work.path().join("copy.db");
    assert_success(&migrate(&sqlite_url(&database), &sqlite_url(&copy)));
    assert_world_survived(&copy, &world).await;
}

fn count_rows(database: &Path, table: &str) -> i64 {
    let db = rusqlite::Connection::open(database).expect("db");
    db.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |row| {
        row.get(0)
    })
    .expect("count")
}

#[tokio::test]
async fn a_non_empty_target_is_refused_and_left_unchanged() {
    let (_old, database, _world) = stopped_world().await;
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump.jsonl");
    assert_success(&migrate(&sqlite_url(&database), &dump.to_string_lossy()));
    let (users, messages) = (
        count_rows(&database, "users"),
        count_rows(&database, "messages"),
    );

    let output = migrate(&dump.to_string_lossy(), &sqlite_url(&database));
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not empty"), "{stderr}");
    assert_eq!(
        (
            count_rows(&database, "users"),
            count_rows(&database, "messages")
        ),
        (users, messages)
    );

    let before = std::fs::read(&dump).expect("dump");
    let output = migrate(&sqlite_url(&database), &dump.to_string_lossy());
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("not empty"));
    assert_eq!(
        std::fs::read(&dump).expect("dump"),
        before,
        "an existing dump is not overwritten"
    );
}

#[tokio::test]
async fn a_corrupt_dump_line_is_named_by_its_number() {
    let (_old, database, _world) = stopped_world().await;
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("dump.jsonl");
    assert_success(&migrate(&sqlite_url(&database), &dump.to_string_lossy()));
    let text = std::fs::read_to_string(&dump).expect("dump");
    let mut lines: Vec<&str> = text.lines().collect();
    lines[2] = "{\"table\": \"users\", \"row\": {\"id\": ";
    let corrupt = work.path().join("corrupt.jsonl");
    std::fs::write(&corrupt, lines.join("\n")).expect("written");

    let output = migrate(
        &corrupt.to_string_lossy(),
        &sqlite_url(&work.path().join("new.db")),
    );
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("line 3"), "names the line: {stderr}");
    assert!(stderr.contains("not a dump line"), "{stderr}");

    lines[2] = "{\"table\": \"emails\", \"row\": {}}";
    std::fs::write(&corrupt, lines.join("\n")).expect("written");
    let output = migrate(
        &corrupt.to_string_lossy(),
        &sqlite_url(&work.path().join("other.db")),
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("line 3") && stderr.contains("unknown table"),
        "{stderr}"
    );
}

#[test]
fn a_bad_url_exits_2_with_one_line() {
    let work = tempfile::tempdir().expect("temp dir");
    let dump = work.path().join("x.jsonl");
    for (from, to) in [
        (
            "postgres://db/realtalk",
            dump.to_string_lossy().into_owned(),
        ),
        ("sqlite://", dump.to_string_lossy().into_owned()),
        ("sqlite:///tmp/a.db", "dump.json".to_owned()),
    ] {
        let output = migrate(from, &to);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{from} -> {to}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr:?}");
        assert!(
            stderr.contains("sqlite://PATH"),
            "says what is accepted: {stderr}"
        );
    }
    assert!(!dump.exists(), "nothing was written");
}
