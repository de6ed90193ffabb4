//! Authorization proofs generated from the schema, so a new field is covered
//! the day it lands:
//! - every root field that takes an id of a conversation, message or friend
//!   request, walked as an outsider and as a removed member, answers as for
//!   an unknown id (NOT_FOUND or null) and changes nothing; fields that take
//!   only user ids must be listed in [`USER_TARGETED`]; revoking someone
//!   else's device key is probed the same way;
//! - every root field but the listed public ones refuses anonymous clients.

mod common;

use std::collections::BTreeSet;

use common::media::{png, upload};
use common::schema::{Operation, Schema};
use common::ws::WsClient;
use common::{Account, TestServer, assert_no_errors};
use serde_json::{Value, json};

/// Placeholders for the ids of the victims' things, bound per run.
const CONVERSATION: &str = "$C";
const MESSAGE: &str = "$M";
const REQUEST: &str = "$R";
const ATTACHMENT: &str = "$A";
const USER: &str = "$U";
const DEVICE_KEY: &str = "$D";

/// Which victim an `ID` stands for, from the argument (or input field) name
/// it is passed as, and for a bare `id` from the field's own name.
fn placeholder(field: &str, path: &str) -> &'static str {
    let path = path.to_ascii_lowercase();
    let field = field.to_ascii_lowercase();
    let about = if path == "id" {
        field.as_str()
    } else {
        path.as_str()
    };
    if about.contains("devicekey") {
        DEVICE_KEY
    } else if about.contains("attachment") || about.contains("avatar") {
        ATTACHMENT
    } else if about.contains("message") {
        MESSAGE
    } else if about.contains("request") {
        REQUEST
    } else if about.contains("conversation") || about.contains("group") {
        CONVERSATION
    } else {
        USER
    }
}

/// One generated request: every root field that takes an id.
struct Probe {
    name: String,
    operation: Operation,
    document: String,
    variables: Value,
}

impl Probe {
    /// Whether it reaches into someone's conversation, message or request
    /// (and not only names a user).
    fn scoped(&self) -> bool {
        let text = self.variables.to_string();
        [CONVERSATION, MESSAGE, REQUEST, ATTACHMENT, DEVICE_KEY]
            .iter()
            .any(|placeholder| text.contains(placeholder))
    }
}

fn probes(schema: &Schema) -> Vec<Probe> {
    schema
        .root_fields()
        .iter()
        .filter(|field| {
            field
                .arguments
                .iter()
                .any(|argument| schema.carries_id(&argument.ty))
        })
        .map(|field| {
            let mut bind = |path: &str| Value::from(placeholder(&field.name, path));
            Probe {
                name: field.name.clone(),
                operation: field.operation,
                document: schema.document(field),
                variables: schema.variables(field, &mut bind),
            }
        })
        .collect()
}

/// Fields that take only user ids: they act on the viewer's own
/// relationship with that user (ask, block, open a chat), which any
/// signed-in user may do, so they are not refused to strangers. Listed so
/// that a new id-taking field must be classified here or be probed.
const USER_TARGETED: [&str; 7] = [
    "user",
    "sendFriendRequest",
    "removeFriend",
    "blockUser",
    "unblockUser",
    "openDirectConversation",
    "createGroup",
];

/// Fields anyone may call without signing in.
const PUBLIC: [&str; 6] = [
    "register",
    "login",
    "refreshToken",
    "verifyEmail",
    "requestPasswordReset",
    "resetPassword",
];

fn bind(variables: &Value, ids: &[(&str, &str)]) -> Value {
    let mut text = variables.to_string();
    for (placeholder, id) in ids {
        text = text.replace(placeholder, id);
    }
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
        "requests": text("SELECT group_concat(id || status, ',') FROM friend_requests WHERE ?1 IS NOT NULL"),
        "avatars": text("SELECT group_concat(coalesce(avatar_attachment_id, '-'), ',') FROM users WHERE ?1 IS NOT NULL"),
        "reactions": text("SELECT group_concat(emoji || user_id, ',') FROM reactions WHERE message_id IN (SELECT id FROM messages WHERE conversation_id = ?1)"),
        "device_keys": text("SELECT group_concat(id || coalesce(revoked_at, '-'), ',') FROM device_keys WHERE ?1 IS NOT NULL"),
    })
}

/// Runs a probe as `token`; subscriptions over a real WebSocket, their
/// first answer taken as the response.
async fn ask(server: &TestServer, probe: &Probe, token: &str, variables: Value) -> Value {
    if probe.operation != Operation::Subscription {
        return server.gql(Some(token), &probe.document, variables).await;
    }
    let mut socket = WsClient::connect(server.addr).await;
    socket.init(token).await;
    socket.subscribe("probe", &probe.document, variables).await;
    let message = socket.next_message().await.expect("an answer");
    match message["type"].as_str() {
        Some("error") => json!({ "data": null, "errors": message["payload"] }),
        _ => message["payload"].clone(),
    }
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
    let invitee = server.register("auth_invitee").await;
    let request = server
        .gql(
            Some(&owner.access_token),
            "mutation($u: ID!) { sendFriendRequest(userId: $u) { id } }",
            json!({ "u": invitee.id }),
        )
        .await;
    let request_id = request["data"]["sendFriendRequest"]["id"]
        .as_str()
        .expect("a pending request")
        .to_owned();
    let attachment = upload(&server, &owner, "photo.png", png(8, 8)).await;
    let attachment_id = attachment["body"]["data"]["uploadFile"]["id"]
        .as_str()
        .expect("an upload")
        .to_owned();
    let seed = |prefix: &str, len: usize| {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(prefix.repeat(len).as_bytes())
    };
    let device_key = server
        .gql(
            Some(&owner.access_token),
            "mutation($input: RegisterDeviceKeyInput!) { registerDeviceKey(input: $input) { id } }",
            json!({ "input": {
                "identityKey": seed("i", 91),
                "encryptionKey": seed("e", 91),
                "signature": seed("s", 64),
            } }),
        )
        .await;
    let device_key_id = device_key["data"]["registerDeviceKey"]["id"]
        .as_str()
        .expect("a device key")
        .to_owned();
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

    let schema = Schema::load();
    let probes = probes(&schema);
    let unscoped: BTreeSet<&str> = probes
        .iter()
        .filter(|probe| !probe.scoped())
        .map(|probe| probe.name.as_str())
        .collect();
    assert_eq!(
        unscoped,
        BTreeSet::from(USER_TARGETED),
        "every field that takes only user ids is classified in USER_TARGETED"
    );
    let scoped: Vec<&Probe> = probes.iter().filter(|probe| probe.scoped()).collect();
    assert!(
        scoped.len() >= 15,
        "the schema's id-taking fields: {}",
        scoped.len()
    );

    let strangers: [(&str, &Account); 2] = [("outsider", &outsider), ("removed member", removed)];
    let real = [
        (CONVERSATION, group.as_str()),
        (MESSAGE, message_id.as_str()),
        (REQUEST, request_id.as_str()),
        (ATTACHMENT, attachment_id.as_str()),
        (DEVICE_KEY, device_key_id.as_str()),
        (USER, members[0].id.as_str()),
    ];
    let (no_conversation, no_message, no_request, no_attachment, no_device_key) = (
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
        uuid::Uuid::now_v7().to_string(),
    );
    let unknown = [
        (CONVERSATION, no_conversation.as_str()),
        (MESSAGE, no_message.as_str()),
        (REQUEST, no_request.as_str()),
        (ATTACHMENT, no_attachment.as_str()),
        (DEVICE_KEY, no_device_key.as_str()),
        (USER, members[0].id.as_str()),
    ];
    for probe in scoped {
        for (who, stranger) in strangers {
            let probed = ask(
                &server,
                probe,
                &stranger.access_token,
                bind(&probe.variables, &real),
            )
            .await;
            let baseline = ask(
                &server,
                probe,
                &stranger.access_token,
                bind(&probe.variables, &unknown),
            )
            .await;
            let code = &probed["errors"][0]["extensions"]["code"];
            let refused = ["NOT_FOUND", "BAD_USER_INPUT"]
                .iter()
                .any(|refusal| code == refusal)
                || (probed["errors"].is_null() && probed["data"][&probe.name].is_null());
            assert!(refused, "{} as {who}: {probed:#}", probe.name);
            assert_eq!(
                error_shape(&probed),
                error_shape(&baseline),
                "{} as {who} reveals the id exists",
                probe.name
            );
        }
    }
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

#[tokio::test]
async fn every_operation_but_the_public_ones_needs_a_signed_in_viewer() {
    let server = TestServer::start().await;
    let schema = Schema::load();
    let anonymous = Account {
        id: String::new(),
        username: String::new(),
        access_token: String::new(),
        refresh_token: String::new(),
    };
    let mut checked = 0;
    for field in schema.root_fields() {
        if PUBLIC.contains(&field.name.as_str()) {
            continue;
        }
        let mut any_id = |_: &str| Value::from(uuid::Uuid::now_v7().to_string());
        let variables = schema.variables(field, &mut any_id);
        let uploads = field
            .arguments
            .iter()
            .any(|argument| common::schema::base_name(&argument.ty) == "Upload");
        match field.operation {
            Operation::Subscription => {
                // A socket without a token is closed at `connection_init`,
                // before any subscription can start.
                let mut socket = WsClient::connect(server.addr).await;
                socket
                    .send_json(json!({ "type": "connection_init", "payload": {} }))
                    .await;
                socket
                    .subscribe("anonymous", &schema.document(field), variables)
                    .await;
                assert_eq!(socket.close_code().await, Some(4403), "{}", field.name);
            }
            _ if uploads => {
                let answer = upload(&server, &anonymous, "a.txt", b"hello".to_vec()).await;
                assert_eq!(
                    common::error_code(&answer["body"]),
                    Some("UNAUTHENTICATED"),
                    "{}: {answer}",
                    field.name
                );
            }
            _ => {
                let answer = server.gql(None, &schema.document(field), variables).await;
                assert_eq!(
                    common::error_code(&answer),
                    Some("UNAUTHENTICATED"),
                    "{}: {answer}",
                    field.name
                );
            }
        }
        checked += 1;
    }
    assert!(checked >= 40, "every non-public root field: {checked}");
}
