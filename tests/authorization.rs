//! A conversation the viewer is not in behaves exactly like one that does not
//! exist: every operation that takes a conversation or message id, walked as
//! an outsider and as a removed member, answers as for an unknown id, and
//! changes nothing.

mod common;

use common::{Account, TestServer, assert_no_errors};
use serde_json::{Value, json};

/// (name, document, variables with `$C` = conversation id, `$M` = message id, `$U` = a user id)
fn operations() -> Vec<(&'static str, &'static str, Value)> {
    vec![
        (
            "messages",
            "query($c: ID!) { messages(conversationId: $c) { nodes { id } } }",
            json!({ "c": "$C" }),
        ),
        (
            "searchMessages",
            "query($c: ID) { searchMessages(query: \"hello\", conversationId: $c) { id } }",
            json!({ "c": "$C" }),
        ),
        (
            "renameGroup",
            "mutation($c: ID!) { renameGroup(conversationId: $c, title: \"pwned\") { id } }",
            json!({ "c": "$C" }),
        ),
        (
            "addGroupMembers",
            "mutation($c: ID!, $u: ID!) { addGroupMembers(conversationId: $c, userIds: [$u]) { id } }",
            json!({ "c": "$C", "u": "$U" }),
        ),
        (
            "removeGroupMember",
            "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id } }",
            json!({ "c": "$C", "u": "$U" }),
        ),
        (
            "setMemberRole",
            "mutation($c: ID!, $u: ID!) { setMemberRole(conversationId: $c, userId: $u, role: OWNER) { id } }",
            json!({ "c": "$C", "u": "$U" }),
        ),
        (
            "leaveGroup",
            "mutation($c: ID!) { leaveGroup(conversationId: $c) }",
            json!({ "c": "$C" }),
        ),
        (
            "markRead",
            "mutation($c: ID!) { markRead(conversationId: $c, seq: 1) { id } }",
            json!({ "c": "$C" }),
        ),
        (
            "sendMessage",
            "mutation($c: ID!) { sendMessage(input: { conversationId: $c, body: \"hi\" }) { id } }",
            json!({ "c": "$C" }),
        ),
        (
            "editMessage",
            "mutation($m: ID!) { editMessage(id: $m, body: \"pwned\") { id } }",
            json!({ "m": "$M" }),
        ),
        (
            "deleteMessage",
            "mutation($m: ID!) { deleteMessage(id: $m) { id } }",
            json!({ "m": "$M" }),
        ),
        (
            "addReaction",
            "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"x\") { id } }",
            json!({ "m": "$M" }),
        ),
        (
            "removeReaction",
            "mutation($m: ID!) { removeReaction(messageId: $m, emoji: \"👍\") { id } }",
            json!({ "m": "$M" }),
        ),
    ]
}

fn bind(variables: &Value, conversation: &str, message: &str, user: &str) -> Value {
    let text = variables
        .to_string()
        .replace("$C", conversation)
        .replace("$M", message)
        .replace("$U", user);
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// What an error looks like to the client, minus where it points.
fn error_shape(body: &Value) -> Value {
    json!({
        "data": body["data"],
        "message": body["errors"][0]["message"],
        "code": body["errors"][0]["extensions"]["code"],
    })
}

/// Everything an outsider could have changed.
fn snapshot(server: &TestServer, group: &str) -> Value {
    let db = rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db");
    let text = |sql: &str| -> String {
        db.query_row(sql, [group], |row| row.get::<_, String>(0))
            .unwrap_or_default()
    };
    json!({
        "conversation": text("SELECT id || title || last_seq FROM conversations WHERE id = ?1"),
        "members": text("SELECT group_concat(user_id || role || last_read_seq, ',') FROM (SELECT * FROM members WHERE conversation_id = ?1 ORDER BY user_id)"),
        "messages": text("SELECT group_concat(id || body || coalesce(deleted_at, ''), ',') FROM (SELECT * FROM messages WHERE conversation_id = ?1 ORDER BY seq)"),
        "reactions": text("SELECT group_concat(emoji || user_id, ',') FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = ?1)"),
    })
}

#[tokio::test]
async fn outsiders_and_removed_members_see_not_found_and_change_nothing() {
    let server = TestServer::start().await;
    let (owner, members, group) = server.group_of("auth", 2).await;
    let message = server.send_ok(&members[0], &group, "hello members").await;
    let message_id = message["id"].as_str().expect("id").to_owned();
    server
        .gql(
            Some(&owner.access_token),
            "mutation($m: ID!) { addReaction(messageId: $m, emoji: \"👍\") { id } }",
            json!({ "m": message_id }),
        )
        .await;
    let removed = &members[1];
    let outsider = server.register("auth_outsider").await;
    server.befriend(&outsider, removed).await;
    assert_no_errors(
        &server
            .gql(
                Some(&owner.access_token),
                "mutation($c: ID!, $u: ID!) { removeGroupMember(conversationId: $c, userId: $u) { id } }",
                json!({ "c": group, "u": removed.id }),
            )
            .await,
    );
    let before = snapshot(&server, &group);

    let strangers: [(&str, &Account); 2] = [("outsider", &outsider), ("removed member", removed)];
    for (name, document, variables) in operations() {
        for (who, stranger) in strangers {
            let real = bind(&variables, &group, &message_id, &members[0].id);
            let fake = bind(
                &variables,
                "no-such-conversation",
                "no-such-message",
                &members[0].id,
            );
            let probed = server
                .gql(Some(&stranger.access_token), document, real)
                .await;
            let unknown = server
                .gql(Some(&stranger.access_token), document, fake)
                .await;
            assert_eq!(
                probed["errors"][0]["extensions"]["code"], "NOT_FOUND",
                "{name} as {who}: {probed:#}"
            );
            assert_eq!(
                error_shape(&probed),
                error_shape(&unknown),
                "{name} as {who} reveals the id exists"
            );
        }
    }
    let conversation = server
        .gql(
            Some(&outsider.access_token),
            "query($c: ID!) { conversation(id: $c) { id } }",
            json!({ "c": group }),
        )
        .await;
    assert_no_errors(&conversation);
    assert!(conversation["data"]["conversation"].is_null());
    let listed = server
        .gql(
            Some(&removed.access_token),
            "{ conversations { nodes { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(listed["data"]["conversations"]["nodes"], json!([]));
    let found = server
        .gql(
            Some(&outsider.access_token),
            "{ searchMessages(query: \"hello\") { id } }",
            json!({}),
        )
        .await;
    assert_eq!(found["data"]["searchMessages"], json!([]));

    assert_eq!(snapshot(&server, &group), before, "nothing changed");
}
