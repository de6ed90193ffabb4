//! Messages: sending, idempotency, replies, edits, tombstones, reactions,
//! pagination and search.

mod common;

use common::{Account, TestServer, assert_code, assert_no_errors, error_field};
use serde_json::{Value, json};

const SEND: &str = "mutation($input: SendMessageInput!) { sendMessage(input: $input) {
    id seq body clientId replyTo { id body } author { username } deleted editedAt } }";

async fn send_input(server: &TestServer, who: &Account, input: Value) -> Value {
    server
        .gql(Some(&who.access_token), SEND, json!({ "input": input }))
        .await
}

/// Two friends with their direct conversation.
async fn pair(server: &TestServer, a: &str, b: &str) -> (Account, Account, String) {
    let (a, b) = (server.register(a).await, server.register(b).await);
    server.befriend(&a, &b).await;
    let conversation = server.open_direct(&a, &b).await;
    (a, b, conversation)
}

fn event_count(server: &TestServer, conversation_id: &str) -> i64 {
    let db = rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db");
    db.query_row(
        "SELECT COUNT(*) FROM message_events WHERE conversation_id = ?1",
        [conversation_id],
        |row| row.get(0),
    )
    .expect("count")
}

#[tokio::test]
async fn bodies_are_trimmed_and_bounded_and_bad_input_stores_nothing() {
    let server = TestServer::start().await;
    let (amy, _, id) = pair(&server, "amy", "bea").await;
    let sent = send_input(
        &server,
        &amy,
        json!({ "conversationId": id, "body": "  hi there \n" }),
    )
    .await;
    assert_no_errors(&sent);
    assert_eq!(sent["data"]["sendMessage"]["body"], "hi there");
    assert_eq!(sent["data"]["sendMessage"]["seq"], 1);

    let cases = [
        (json!({ "conversationId": id, "body": "   " }), "body"),
        (
            json!({ "conversationId": id, "body": "x".repeat(4001) }),
            "body",
        ),
        (
            json!({ "conversationId": id, "body": "x", "replyToId": "nope" }),
            "replyToId",
        ),
        (
            json!({ "conversationId": id, "body": "x", "attachmentIds": ["nope"] }),
            "attachmentIds",
        ),
        (
            json!({ "conversationId": id, "body": "x", "clientId": "" }),
            "clientId",
        ),
        (
            json!({ "conversationId": id, "body": "x", "clientId": "c".repeat(65) }),
            "clientId",
        ),
    ];
    for (input, field) in cases {
        let body = send_input(&server, &amy, input).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(error_field(&body), Some(field), "{body:#}");
    }
    assert_eq!(event_count(&server, &id), 1, "refused sends stored nothing");
    let exact = send_input(
        &server,
        &amy,
        json!({ "conversationId": id, "body": "é".repeat(4000) }),
    )
    .await;
    assert_no_errors(&exact);
}

#[tokio::test]
async fn a_retry_with_the_same_client_id_returns_the_stored_message() {
    let server = TestServer::start().await;
    let (amy, bea, id) = pair(&server, "amy", "bea").await;
    let input = json!({ "conversationId": id, "body": "once", "clientId": "k-1" });
    let first = send_input(&server, &amy, input.clone()).await;
    let retry = send_input(&server, &amy, input).await;
    assert_no_errors(&retry);
    assert_eq!(
        first["data"]["sendMessage"]["id"],
        retry["data"]["sendMessage"]["id"]
    );
    assert_eq!(retry["data"]["sendMessage"]["clientId"], "k-1");
    assert_eq!(event_count(&server, &id), 1);
    // The key is per author: another author may use the same one.
    let other = send_input(
        &server,
        &bea,
        json!({ "conversationId": id, "body": "mine", "clientId": "k-1" }),
    )
    .await;
    assert_no_errors(&other);
    assert_ne!(
        other["data"]["sendMessage"]["id"],
        first["data"]["sendMessage"]["id"]
    );
    let page = server
        .gql(Some(&bea.access_token), "query($c: ID!) { messages(conversationId: $c) { nodes { clientId author { username } } } }", json!({ "c": id }))
        .await;
    let nodes = &page["data"]["messages"]["nodes"];
    assert!(
        nodes[0]["clientId"].is_null(),
        "only the author sees their key"
    );
    assert_eq!(nodes[1]["clientId"], "k-1");
}

#[tokio::test]
async fn replies_must_stay_in_their_conversation() {
    let server = TestServer::start().await;
    let (amy, bea, id) = pair(&server, "amy", "bea").await;
    let cat = server.register("cat").await;
    server.befriend(&amy, &cat).await;
    let other = server.open_direct(&amy, &cat).await;
    let original = server.send_ok(&bea, &id, "question?").await;
    let elsewhere = server.send_ok(&amy, &other, "elsewhere").await;
    let reply = send_input(
        &server,
        &amy,
        json!({ "conversationId": id, "body": "answer", "replyToId": original["id"] }),
    )
    .await;
    assert_no_errors(&reply);
    assert_eq!(reply["data"]["sendMessage"]["replyTo"]["body"], "question?");
    let cross = send_input(
        &server,
        &amy,
        json!({ "conversationId": id, "body": "x", "replyToId": elsewhere["id"] }),
    )
    .await;
    assert_code(&cross, "BAD_USER_INPUT");
    assert_eq!(error_field(&cross), Some("replyToId"));
}

#[tokio::test]
async fn authors_edit_and_deleting_leaves_a_tombstone_with_the_same_seq() {
    let server = TestServer::start().await;
    let (amy, bea, id) = pair(&server, "amy", "bea").await;
    let message = server.send_ok(&amy, &id, "draft").await;
    let edit =
        "mutation($id: ID!, $b: String!) { editMessage(id: $id, body: $b) { body editedAt seq } }";
    let delete = "mutation($id: ID!) { deleteMessage(id: $id) { body deleted seq attachments { id } reactions { emoji } } }";
    assert_code(
        &server
            .gql(
                Some(&bea.access_token),
                edit,
                json!({ "id": message["id"], "b": "hijack" }),
            )
            .await,
        "FORBIDDEN",
    );
    assert_code(
        &server
            .gql(
                Some(&amy.access_token),
                edit,
                json!({ "id": message["id"], "b": " " }),
            )
            .await,
        "BAD_USER_INPUT",
    );
    let edited = server
        .gql(
            Some(&amy.access_token),
            edit,
            json!({ "id": message["id"], "b": "final" }),
        )
        .await;
    assert_no_errors(&edited);
    assert_eq!(edited["data"]["editMessage"]["body"], "final");
    assert!(edited["data"]["editMessage"]["editedAt"].is_string());
    assert_eq!(
        edited["data"]["editMessage"]["seq"], message["seq"],
        "seq is the CREATED event's"
    );

    let react = "mutation($id: ID!) { addReaction(messageId: $id, emoji: \"👍\") { id } }";
    assert_no_errors(
        &server
            .gql(
                Some(&bea.access_token),
                react,
                json!({ "id": message["id"] }),
            )
            .await,
    );
    assert_code(
        &server
            .gql(
                Some(&bea.access_token),
                delete,
                json!({ "id": message["id"] }),
            )
            .await,
        "FORBIDDEN",
    );
    let deleted = server
        .gql(
            Some(&amy.access_token),
            delete,
            json!({ "id": message["id"] }),
        )
        .await;
    assert_no_errors(&deleted);
    let tombstone = &deleted["data"]["deleteMessage"];
    assert_eq!(tombstone["deleted"], true);
    assert_eq!(tombstone["body"], "");
    assert_eq!(tombstone["seq"], message["seq"]);
    assert_eq!(tombstone["attachments"], json!([]));
    assert_eq!(tombstone["reactions"], json!([]));
    let events = event_count(&server, &id);
    let again = server
        .gql(
            Some(&amy.access_token),
            delete,
            json!({ "id": message["id"] }),
        )
        .await;
    assert_no_errors(&again);
    assert_eq!(
        event_count(&server, &id),
        events,
        "deleting twice adds no event"
    );
    let edit_deleted = server
        .gql(
            Some(&amy.access_token),
            edit,
            json!({ "id": message["id"], "b": "back" }),
        )
        .await;
    assert_code(&edit_deleted, "BAD_USER_INPUT");
}

#[tokio::test]
async fn group_admins_may_delete_others_messages_members_may_not() {
    let server = TestServer::start().await;
    let (owner, members, group) = server.group_of("mod", 2).await;
    let message = server.send_ok(&members[0], &group, "spam").await;
    let delete = "mutation($id: ID!) { deleteMessage(id: $id) { deleted } }";
    assert_code(
        &server
            .gql(
                Some(&members[1].access_token),
                delete,
                json!({ "id": message["id"] }),
            )
            .await,
        "FORBIDDEN",
    );
    let moderated = server
        .gql(
            Some(&owner.access_token),
            delete,
            json!({ "id": message["id"] }),
        )
        .await;
    assert_eq!(moderated["data"]["deleteMessage"]["deleted"], true);
}

#[tokio::test]
async fn reactions_are_idempotent_grouped_and_bounded() {
    let server = TestServer::start().await;
    let (amy, bea, id) = pair(&server, "amy", "bea").await;
    let message = server.send_ok(&amy, &id, "react to me").await;
    let add = "mutation($id: ID!, $e: String!) { addReaction(messageId: $id, emoji: $e) {
        reactions { emoji count reactedByMe users { username } } } }";
    let remove = "mutation($id: ID!, $e: String!) { removeReaction(messageId: $id, emoji: $e) {
        reactions { emoji count } } }";
    server
        .gql(
            Some(&amy.access_token),
            add,
            json!({ "id": message["id"], "e": "👍" }),
        )
        .await;
    let events = event_count(&server, &id);
    let twice = server
        .gql(
            Some(&amy.access_token),
            add,
            json!({ "id": message["id"], "e": "👍" }),
        )
        .await;
    assert_eq!(
        event_count(&server, &id),
        events,
        "the same reaction again changes nothing"
    );
    assert_eq!(twice["data"]["addReaction"]["reactions"][0]["count"], 1);
    let both = server
        .gql(
            Some(&bea.access_token),
            add,
            json!({ "id": message["id"], "e": "👍" }),
        )
        .await;
    let reaction = &both["data"]["addReaction"]["reactions"][0];
    assert_eq!(reaction["count"], 2);
    assert_eq!(reaction["reactedByMe"], true);
    assert_eq!(
        reaction["users"],
        json!([{ "username": "amy" }, { "username": "bea" }])
    );

    for bad in ["", "a b", &"x".repeat(33)] {
        let body = server
            .gql(
                Some(&amy.access_token),
                add,
                json!({ "id": message["id"], "e": bad }),
            )
            .await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(error_field(&body), Some("emoji"));
    }
    for i in 0..19 {
        let body = server
            .gql(
                Some(&amy.access_token),
                add,
                json!({ "id": message["id"], "e": format!("e{i}") }),
            )
            .await;
        assert_no_errors(&body);
    }
    let twenty_first = server
        .gql(
            Some(&amy.access_token),
            add,
            json!({ "id": message["id"], "e": "🎉" }),
        )
        .await;
    assert_code(&twenty_first, "BAD_USER_INPUT");
    let existing = server
        .gql(
            Some(&bea.access_token),
            add,
            json!({ "id": message["id"], "e": "e3" }),
        )
        .await;
    assert_no_errors(&existing);

    let removed = server
        .gql(
            Some(&amy.access_token),
            remove,
            json!({ "id": message["id"], "e": "👍" }),
        )
        .await;
    assert_eq!(
        removed["data"]["removeReaction"]["reactions"][0]["count"],
        1
    );
    let events = event_count(&server, &id);
    server
        .gql(
            Some(&amy.access_token),
            remove,
            json!({ "id": message["id"], "e": "👍" }),
        )
        .await;
    assert_eq!(
        event_count(&server, &id),
        events,
        "removing what is not there changes nothing"
    );
}

#[tokio::test]
async fn pages_go_backwards_oldest_first_and_stay_stable_under_inserts() {
    let server = TestServer::start().await;
    let (amy, bea, id) = pair(&server, "amy", "bea").await;
    for i in 1..=7 {
        server
            .send_ok(if i % 2 == 0 { &amy } else { &bea }, &id, &format!("m{i}"))
            .await;
    }
    let page = "query($c: ID!, $last: Int, $before: String) { messages(conversationId: $c, last: $last, before: $before) {
        edges { cursor node { body seq } } nodes { body }
        pageInfo { hasPreviousPage hasNextPage startCursor endCursor } } }";
    let fetch = |before: Value| {
        server.gql(
            Some(&amy.access_token),
            page,
            json!({ "c": id, "last": 3, "before": before }),
        )
    };
    let bodies = |body: &Value| -> Vec<String> {
        body["data"]["messages"]["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .map(|n| n["body"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let newest = fetch(Value::Null).await;
    assert_no_errors(&newest);
    assert_eq!(
        bodies(&newest),
        vec!["m5", "m6", "m7"],
        "newest last within a page"
    );
    assert_eq!(
        newest["data"]["messages"]["pageInfo"]["hasPreviousPage"],
        true
    );
    assert_eq!(newest["data"]["messages"]["pageInfo"]["hasNextPage"], false);

    // New messages arriving do not shift older pages.
    server.send_ok(&bea, &id, "m8").await;
    let cursor = newest["data"]["messages"]["pageInfo"]["startCursor"].clone();
    let older = fetch(cursor).await;
    assert_eq!(bodies(&older), vec!["m2", "m3", "m4"]);
    let cursor = older["data"]["messages"]["pageInfo"]["startCursor"].clone();
    let oldest = fetch(cursor).await;
    assert_eq!(bodies(&oldest), vec!["m1"]);
    assert_eq!(
        oldest["data"]["messages"]["pageInfo"]["hasPreviousPage"],
        false
    );
    assert_eq!(oldest["data"]["messages"]["pageInfo"]["hasNextPage"], true);

    let nested = server
        .gql(
            Some(&bea.access_token),
            "query($c: ID!) { conversation(id: $c) { messages(last: 2) { nodes { body } } } }",
            json!({ "c": id }),
        )
        .await;
    assert_eq!(
        nested["data"]["conversation"]["messages"]["nodes"],
        json!([{ "body": "m7" }, { "body": "m8" }])
    );
    for bad in [
        json!({ "c": id, "last": 0 }),
        json!({ "c": id, "last": 101 }),
        json!({ "c": id, "before": "bogus" }),
    ] {
        assert_code(
            &server.gql(Some(&amy.access_token), page, bad).await,
            "BAD_USER_INPUT",
        );
    }
}

async fn search(
    server: &TestServer,
    who: &Account,
    query: &str,
    conversation: Option<&str>,
) -> Value {
    server
        .gql(
            Some(&who.access_token),
            "query($q: String!, $c: ID) { searchMessages(query: $q, conversationId: $c) { body } }",
            json!({ "q": query, "c": conversation }),
        )
        .await
}

#[tokio::test]
async fn search_is_ranked_and_limited_to_the_viewers_conversations() {
    let server = TestServer::start().await;
    let (amy, bea, ours) = pair(&server, "amy", "bea").await;
    let cat = server.register("cat").await;
    server.befriend(&bea, &cat).await;
    let theirs = server.open_direct(&bea, &cat).await;
    server.send_ok(&amy, &ours, "lunch at noon?").await;
    server.send_ok(&bea, &ours, "lunch lunch lunch, yes").await;
    let gone = server.send_ok(&amy, &ours, "secret lunch plan").await;
    server.send_ok(&cat, &theirs, "lunch without amy").await;
    server
        .gql(
            Some(&amy.access_token),
            "mutation($id: ID!) { deleteMessage(id: $id) { id } }",
            json!({ "id": gone["id"] }),
        )
        .await;

    let bodies = |body: Value| -> Vec<String> {
        body["data"]["searchMessages"]
            .as_array()
            .unwrap_or(&Vec::new())
            .iter()
            .map(|m| m["body"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(
        bodies(search(&server, &amy, "lunch", None).await),
        vec!["lunch lunch lunch, yes", "lunch at noon?"],
        "ranked, others' conversations and deleted messages excluded"
    );
    assert_eq!(
        bodies(search(&server, &amy, "lun", None).await).len(),
        2,
        "the last word is a prefix"
    );
    assert_eq!(
        bodies(search(&server, &amy, "noon lunch", None).await),
        vec!["lunch at noon?"]
    );
    assert_eq!(
        bodies(search(&server, &bea, "lunch", Some(&theirs)).await),
        vec!["lunch without amy"]
    );
    assert_code(
        &search(&server, &amy, "lunch", Some(&theirs)).await,
        "NOT_FOUND",
    );
    for odd in ["\"", "lunch OR", "NEAR(", "*", "a:b", "-"] {
        let body = search(&server, &amy, odd, None).await;
        assert_no_errors(&body);
    }
}
