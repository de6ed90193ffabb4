//! End-to-end encrypted direct conversations at the API: device keys, the
//! one-way switch, sealed messages stored and relayed exactly as sent, and
//! every way plaintext could slip into an encrypted conversation refused.
//!
//! The server never needs a real key to do its part, so keys and
//! ciphertexts here are arbitrary bytes of the right sizes; the browser
//! test (`tests/e2e/encryption.test.mjs`) does real WebCrypto.

mod common;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::media::{png, upload, upload_with};
use common::ws::WsClient;
use common::{Account, TestServer, assert_code, assert_no_errors, error_field};
use serde_json::{Value, json};

const REGISTER: &str =
    "mutation($input: RegisterDeviceKeyInput!) { registerDeviceKey(input: $input) {
    id userId identityKey encryptionKey signature label revokedAt } }";
const ENCRYPT: &str =
    "mutation($c: ID!) { encryptConversation(conversationId: $c) { id encrypted encryptedAt } }";
const SEND: &str = "mutation($input: SendMessageInput!) { sendMessage(input: $input) {
    id seq body encrypted senderDeviceKey { id userId } envelopes { deviceKeyId ciphertext }
    attachments { id encrypted contentType } } }";
const ENCRYPTED_UPLOAD: &str =
    "mutation($file: Upload!) { uploadFile(file: $file, encrypted: true) {
    id fileName contentType size width height url thumbnailUrl encrypted } }";

/// Standard base64 of `len` bytes derived from `seed` (distinct per seed).
fn blob(seed: &str, len: usize) -> String {
    let bytes: Vec<u8> = seed.bytes().cycle().take(len).collect();
    STANDARD.encode(bytes)
}

fn key_input(seed: &str) -> Value {
    json!({
        "identityKey": blob(&format!("id-{seed}"), 91),
        "encryptionKey": blob(&format!("ek-{seed}"), 91),
        "signature": blob(&format!("sig-{seed}"), 64),
        "label": format!("Browser {seed}"),
    })
}

/// Registers a device key for `who`; returns its id.
async fn device(server: &TestServer, who: &Account, seed: &str) -> String {
    let body = server
        .gql(
            Some(&who.access_token),
            REGISTER,
            json!({ "input": key_input(seed) }),
        )
        .await;
    assert_no_errors(&body);
    body["data"]["registerDeviceKey"]["id"]
        .as_str()
        .expect("device key id")
        .to_owned()
}

/// Two friends with their direct conversation.
async fn pair(server: &TestServer) -> (Account, Account, String) {
    let (amy, bob) = (server.register("amy").await, server.register("bob").await);
    server.befriend(&amy, &bob).await;
    let conversation = server.open_direct(&amy, &bob).await;
    (amy, bob, conversation)
}

/// Two friends with one device each and their conversation encrypted:
/// (amy, bob, conversation, amy's device, bob's device).
async fn encrypted_pair(server: &TestServer) -> (Account, Account, String, String, String) {
    let (amy, bob, conversation) = pair(server).await;
    let amy_device = device(server, &amy, "amy-1").await;
    let bob_device = device(server, &bob, "bob-1").await;
    let encrypted = server
        .gql(
            Some(&amy.access_token),
            ENCRYPT,
            json!({ "c": conversation }),
        )
        .await;
    assert_no_errors(&encrypted);
    (amy, bob, conversation, amy_device, bob_device)
}

fn envelope(device_key_id: &str, ciphertext: &str) -> Value {
    json!({ "deviceKeyId": device_key_id, "ciphertext": ciphertext })
}

async fn encrypt(server: &TestServer, who: &Account, conversation_id: &str) -> Value {
    server
        .gql(
            Some(&who.access_token),
            ENCRYPT,
            json!({ "c": conversation_id }),
        )
        .await
}

/// A socket of `who` with one live operation `id`.
async fn subscribed(
    server: &TestServer,
    who: &Account,
    id: &str,
    query: &str,
    variables: Value,
) -> WsClient {
    let mut socket = WsClient::connect(server.addr).await;
    socket.init(&who.access_token).await;
    socket.subscribe(id, query, variables).await;
    socket.settle("q").await;
    socket
}

async fn revoke(server: &TestServer, who: &Account, device_key_id: &str) -> Value {
    server
        .gql(
            Some(&who.access_token),
            "mutation($id: ID!) { revokeDeviceKey(id: $id) }",
            json!({ "id": device_key_id }),
        )
        .await
}

async fn send(server: &TestServer, who: &Account, input: Value) -> Value {
    server
        .gql(Some(&who.access_token), SEND, json!({ "input": input }))
        .await
}

fn db(server: &TestServer) -> rusqlite::Connection {
    rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db")
}

fn message_count(server: &TestServer, conversation_id: &str) -> i64 {
    db(server)
        .query_row(
            "SELECT COUNT(*) FROM message_events WHERE conversation_id = ?1",
            [conversation_id],
            |row| row.get(0),
        )
        .expect("count")
}

#[tokio::test]
async fn device_keys_are_published_idempotently_and_validated() {
    let server = TestServer::start().await;
    let (amy, bob, _) = pair(&server).await;
    let first = device(&server, &amy, "a").await;
    assert_eq!(
        device(&server, &amy, "a").await,
        first,
        "the same key again is the same device"
    );

    let listed = server
        .gql(
            Some(&bob.access_token),
            "query($id: ID!) { user(id: $id) { deviceKeys { id identityKey encryptionKey signature label } } }",
            json!({ "id": amy.id }),
        )
        .await;
    assert_no_errors(&listed);
    let keys = &listed["data"]["user"]["deviceKeys"];
    assert_eq!(keys.as_array().map(Vec::len), Some(1), "{keys}");
    assert_eq!(keys[0]["id"], first.as_str());
    assert_eq!(keys[0]["encryptionKey"], key_input("a")["encryptionKey"]);
    assert_eq!(keys[0]["signature"], key_input("a")["signature"]);
    assert_eq!(keys[0]["label"], "Browser a");

    let bad = |field: &str, value: Value| {
        let mut input = key_input("bad");
        input[field] = value;
        input
    };
    let cases = [
        (
            bad("identityKey", json!("not base64 at all!")),
            "identityKey",
        ),
        (
            bad("encryptionKey", json!(blob("short", 8))),
            "encryptionKey",
        ),
        (bad("signature", json!(blob("long", 200))), "signature"),
        (bad("label", json!("x".repeat(65))), "label"),
        (bad("label", json!("tab\there")), "label"),
    ];
    for (input, field) in cases {
        let body = server
            .gql(Some(&amy.access_token), REGISTER, json!({ "input": input }))
            .await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(error_field(&body), Some(field), "{body}");
    }
    let stored: i64 = db(&server)
        .query_row("SELECT COUNT(*) FROM device_keys", [], |row| row.get(0))
        .expect("count");
    assert_eq!(stored, 1, "refused keys store nothing");

    for n in 2..=10 {
        device(&server, &amy, &format!("a{n}")).await;
    }
    let over = server
        .gql(
            Some(&amy.access_token),
            REGISTER,
            json!({ "input": key_input("a11") }),
        )
        .await;
    assert_code(&over, "BAD_USER_INPUT");

    // Revocation: only one's own active keys; a revoked key stays revoked.
    let not_mine = revoke(&server, &bob, &first).await;
    assert_code(&not_mine, "NOT_FOUND");
    let revoked = revoke(&server, &amy, &first).await;
    assert_no_errors(&revoked);
    let again = revoke(&server, &amy, &first).await;
    assert_code(&again, "NOT_FOUND");
    let back = server
        .gql(
            Some(&amy.access_token),
            REGISTER,
            json!({ "input": key_input("a") }),
        )
        .await;
    assert_code(&back, "CONFLICT");
    let mine = server
        .gql(
            Some(&amy.access_token),
            "{ me { deviceKeys { id } } }",
            json!({}),
        )
        .await;
    let ids: Vec<&str> = mine["data"]["me"]["deviceKeys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|key| key["id"].as_str())
        .collect();
    assert_eq!(ids.len(), 9);
    assert!(
        !ids.contains(&first.as_str()),
        "revoked keys are not listed"
    );
}

#[tokio::test]
async fn encryption_is_for_direct_conversations_whose_members_have_keys() {
    let server = TestServer::start().await;
    let (amy, bob, conversation) = pair(&server).await;

    let no_keys = encrypt(&server, &amy, &conversation).await;
    assert_code(&no_keys, "BAD_USER_INPUT");
    device(&server, &amy, "amy-1").await;
    let bob_has_none = encrypt(&server, &amy, &conversation).await;
    assert_code(&bob_has_none, "BAD_USER_INPUT");
    assert!(
        bob_has_none.to_string().contains("bob has no device key"),
        "{bob_has_none}"
    );
    device(&server, &bob, "bob-1").await;

    let group = server.create_group(&amy, "Team", &[&bob]).await;
    assert_code(&encrypt(&server, &amy, &group).await, "BAD_USER_INPUT");
    let carol = server.register("carol").await;
    assert_code(&encrypt(&server, &carol, &conversation).await, "NOT_FOUND");

    let mut bob_socket = subscribed(
        &server,
        &bob,
        "n",
        "subscription { notifications { kind conversation { id encrypted } } }",
        json!({}),
    )
    .await;

    // Either side may switch it on; once on, it stays, with its first time.
    let on = encrypt(&server, &bob, &conversation).await;
    assert_no_errors(&on);
    assert_eq!(on["data"]["encryptConversation"]["encrypted"], true);
    let at = on["data"]["encryptConversation"]["encryptedAt"].clone();
    assert!(at.is_string(), "{on}");
    let notified = bob_socket.next_payload("n").await;
    assert_eq!(
        notified["data"]["notifications"]["kind"],
        "CONVERSATION_ENCRYPTED"
    );
    assert_eq!(
        notified["data"]["notifications"]["conversation"]["id"],
        conversation.as_str()
    );
    assert_eq!(
        notified["data"]["notifications"]["conversation"]["encrypted"],
        true
    );
    let again = encrypt(&server, &amy, &conversation).await;
    assert_no_errors(&again);
    assert_eq!(again["data"]["encryptConversation"]["encryptedAt"], at);
}

#[tokio::test]
async fn sealed_messages_are_stored_and_relayed_exactly_as_sent() {
    let server = TestServer::start().await;
    let (amy, bob, conversation, amy_device, bob_device) = encrypted_pair(&server).await;
    let amy_laptop = device(&server, &amy, "amy-2").await;

    let mut bob_socket = subscribed(&server, &bob, "m",
            "subscription($c: ID, $d: ID) { messageEvents(conversationId: $c) { kind message {
                id body encrypted senderDeviceKey { id } envelopes(deviceKeyId: $d) { deviceKeyId ciphertext } } } }",
            json!({ "c": conversation, "d": bob_device }),
    )
    .await;

    let (for_amy, for_laptop, for_bob) = (blob("c-amy", 48), blob("c-lap", 48), blob("c-bob", 48));
    let sent = send(
        &server,
        &amy,
        json!({
            "conversationId": conversation,
            "body": "",
            "clientId": "k1",
            "senderDeviceKeyId": amy_device,
            "envelopes": [
                envelope(&amy_device, &for_amy),
                envelope(&amy_laptop, &for_laptop),
                envelope(&bob_device, &for_bob),
            ],
        }),
    )
    .await;
    assert_no_errors(&sent);
    let message = &sent["data"]["sendMessage"];
    assert_eq!(message["encrypted"], true);
    assert_eq!(message["body"], "");
    assert_eq!(message["senderDeviceKey"]["id"], amy_device.as_str());
    assert_eq!(message["senderDeviceKey"]["userId"], amy.id.as_str());
    assert_eq!(
        message["envelopes"],
        json!([
            envelope(&amy_device, &for_amy),
            envelope(&amy_laptop, &for_laptop),
            envelope(&bob_device, &for_bob),
        ])
    );

    // Bob's socket gets his own envelope, byte for byte.
    let event = bob_socket.next_payload("m").await;
    let live = &event["data"]["messageEvents"]["message"];
    assert_eq!(live["id"], message["id"]);
    assert_eq!(live["encrypted"], true);
    assert_eq!(live["envelopes"], json!([envelope(&bob_device, &for_bob)]));

    // Stored as sent: an empty body and the ciphertexts, nothing else.
    let (body, sealed): (String, String) = db(&server)
        .query_row(
            "SELECT body, sealed FROM messages WHERE id = ?1",
            [message["id"].as_str().expect("id")],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("row");
    assert_eq!(body, "");
    let sealed: Value = serde_json::from_str(&sealed).expect("JSON");
    assert_eq!(sealed["senderDeviceKeyId"], amy_device.as_str());
    assert_eq!(sealed["envelopes"][2]["ciphertext"], for_bob.as_str());

    // Search has nothing to find, edits are refused, a retry is the same message.
    let search = server
        .gql(
            Some(&bob.access_token),
            "query($q: String!) { searchMessages(query: $q) { id } }",
            json!({ "q": "c" }),
        )
        .await;
    assert_eq!(search["data"]["searchMessages"], json!([]));
    let edit = server
        .gql(
            Some(&amy.access_token),
            "mutation($id: ID!) { editMessage(id: $id, body: \"plain words\") { id } }",
            json!({ "id": message["id"] }),
        )
        .await;
    assert_code(&edit, "BAD_USER_INPUT");
    let retry = send(
        &server,
        &amy,
        json!({
            "conversationId": conversation, "body": "", "clientId": "k1",
            "senderDeviceKeyId": amy_device,
            "envelopes": [envelope(&amy_device, "AAAA"), envelope(&amy_laptop, "AAAA"), envelope(&bob_device, "AAAA")],
        }),
    )
    .await;
    assert_eq!(retry["data"]["sendMessage"]["id"], message["id"]);

    // Deleting leaves a tombstone without envelopes.
    let deleted = server
        .gql(
            Some(&amy.access_token),
            "mutation($id: ID!) { deleteMessage(id: $id) { deleted encrypted envelopes { deviceKeyId } } }",
            json!({ "id": message["id"] }),
        )
        .await;
    assert_no_errors(&deleted);
    assert_eq!(deleted["data"]["deleteMessage"]["encrypted"], false);
    assert_eq!(deleted["data"]["deleteMessage"]["envelopes"], json!([]));
    let left: Option<String> = db(&server)
        .query_row(
            "SELECT sealed FROM messages WHERE id = ?1",
            [message["id"].as_str().expect("id")],
            |row| row.get(0),
        )
        .expect("row");
    assert_eq!(left, None);
}

#[tokio::test]
async fn plaintext_and_wrongly_sealed_messages_are_refused_and_change_nothing() {
    let server = TestServer::start().await;
    let (amy, bob, conversation, amy_device, bob_device) = encrypted_pair(&server).await;
    let before = message_count(&server, &conversation);
    let ok = blob("ct", 32);
    let sealed = |envelopes: Value| {
        json!({
            "conversationId": conversation, "body": "",
            "senderDeviceKeyId": amy_device, "envelopes": envelopes,
        })
    };
    let with = |mut input: Value, field: &str, value: Value| {
        input[field] = value;
        input
    };
    let both = json!([envelope(&amy_device, &ok), envelope(&bob_device, &ok)]);
    let cases = [
        // Plaintext in every form.
        (
            json!({ "conversationId": conversation, "body": "secret words" }),
            "body",
        ),
        (
            with(sealed(both.clone()), "body", json!("secret words")),
            "body",
        ),
        // Sealed wrongly: a device left out, a stranger's device, twice the same, garbage.
        (sealed(json!([envelope(&amy_device, &ok)])), "envelopes"),
        (
            sealed(json!([
                envelope(&amy_device, &ok),
                envelope(&bob_device, &ok),
                envelope("nope", &ok)
            ])),
            "envelopes",
        ),
        (
            sealed(json!([
                envelope(&amy_device, &ok),
                envelope(&bob_device, &ok),
                envelope(&bob_device, &ok)
            ])),
            "envelopes",
        ),
        (
            sealed(json!([
                envelope(&amy_device, "***"),
                envelope(&bob_device, &ok)
            ])),
            "envelopes",
        ),
        (
            sealed(json!([
                envelope(&amy_device, &"A".repeat(65_540)),
                envelope(&bob_device, &ok)
            ])),
            "envelopes",
        ),
        // Not sealed by one of the sender's own devices.
        (
            with(sealed(both.clone()), "senderDeviceKeyId", json!(bob_device)),
            "senderDeviceKeyId",
        ),
        (
            with(sealed(both.clone()), "senderDeviceKeyId", Value::Null),
            "senderDeviceKeyId",
        ),
    ];
    for (input, field) in cases {
        let body = send(&server, &amy, input.clone()).await;
        assert_code(&body, "BAD_USER_INPUT");
        assert_eq!(error_field(&body), Some(field), "{input} → {body}");
    }
    assert_eq!(
        message_count(&server, &conversation),
        before,
        "nothing refused took a seq"
    );

    // A device added since the client last looked must be sealed for too;
    // a revoked one must not be.
    let bob_phone = device(&server, &bob, "bob-2").await;
    let stale = send(&server, &amy, sealed(both.clone())).await;
    assert_eq!(error_field(&stale), Some("envelopes"), "{stale}");
    assert!(
        stale.to_string().contains(&bob_phone),
        "names the missing device: {stale}"
    );
    let revoked = revoke(&server, &bob, &bob_device).await;
    assert_no_errors(&revoked);
    let to_revoked = send(
        &server,
        &amy,
        sealed(json!([
            envelope(&amy_device, &ok),
            envelope(&bob_device, &ok),
            envelope(&bob_phone, &ok)
        ])),
    )
    .await;
    assert_eq!(error_field(&to_revoked), Some("envelopes"));
    let current = send(
        &server,
        &amy,
        sealed(json!([
            envelope(&amy_device, &ok),
            envelope(&bob_phone, &ok)
        ])),
    )
    .await;
    assert_no_errors(&current);

    // A plain conversation takes no envelopes.
    let carol = server.register("carol").await;
    server.befriend(&amy, &carol).await;
    let plain = server.open_direct(&amy, &carol).await;
    let into_plain = send(
        &server,
        &amy,
        json!({ "conversationId": plain, "body": "", "senderDeviceKeyId": amy_device,
                "envelopes": [envelope(&amy_device, &ok)] }),
    )
    .await;
    assert_eq!(error_field(&into_plain), Some("envelopes"), "{into_plain}");
    assert_eq!(message_count(&server, &plain), 0);
}

#[tokio::test]
async fn encrypted_conversations_take_only_opaque_uploads() {
    let server = TestServer::start().await;
    let (amy, bob, conversation, amy_device, bob_device) = encrypted_pair(&server).await;
    // Bytes no inspector would accept as a plain file: ciphertext.
    let ciphertext: Vec<u8> = (0..4096_u32).map(|i| (i * 7919 % 251) as u8).collect();
    let uploaded = upload_with(
        &server,
        &amy,
        ENCRYPTED_UPLOAD,
        "holiday photo.png",
        ciphertext.clone(),
    )
    .await;
    let file = &uploaded["body"]["data"]["uploadFile"];
    assert_eq!(file["encrypted"], true, "{uploaded}");
    assert_eq!(file["contentType"], "application/octet-stream");
    assert_eq!(
        file["fileName"], "encrypted.bin",
        "the real name is not kept"
    );
    assert_eq!(file["thumbnailUrl"], Value::Null);
    assert_eq!(file["width"], Value::Null);
    let served = server.get(file["url"].as_str().expect("url")).await;
    assert_eq!(served.status(), 200);
    assert_eq!(served.bytes().await.expect("bytes").to_vec(), ciphertext);

    let plain_png = upload(&server, &amy, "photo.png", png(4, 4)).await;
    let plain_id = plain_png["body"]["data"]["uploadFile"]["id"].clone();
    let ok = blob("ct", 32);
    let sealed_with = |attachment: &Value| {
        json!({
            "conversationId": conversation, "body": "", "attachmentIds": [attachment],
            "senderDeviceKeyId": amy_device,
            "envelopes": [envelope(&amy_device, &ok), envelope(&bob_device, &ok)],
        })
    };
    let refused = send(&server, &amy, sealed_with(&plain_id)).await;
    assert_eq!(error_field(&refused), Some("attachmentIds"), "{refused}");
    let sent = send(&server, &amy, sealed_with(&file["id"])).await;
    assert_no_errors(&sent);
    assert_eq!(
        sent["data"]["sendMessage"]["attachments"][0]["encrypted"],
        true
    );

    // And an encrypted upload is refused in a plain conversation.
    let carol = server.register("carol").await;
    server.befriend(&bob, &carol).await;
    let plain = server.open_direct(&bob, &carol).await;
    let opaque = upload_with(&server, &bob, ENCRYPTED_UPLOAD, "x", ciphertext).await;
    let into_plain = send(
        &server,
        &bob,
        json!({ "conversationId": plain, "body": "look",
                "attachmentIds": [opaque["body"]["data"]["uploadFile"]["id"]] }),
    )
    .await;
    assert_eq!(
        error_field(&into_plain),
        Some("attachmentIds"),
        "{into_plain}"
    );
}

#[tokio::test]
async fn key_changes_are_announced_and_old_messages_keep_their_sender_key() {
    let server = TestServer::start().await;
    let (amy, bob, conversation, amy_device, bob_device) = encrypted_pair(&server).await;
    let ok = blob("ct", 32);
    let sent = send(
        &server,
        &bob,
        json!({
            "conversationId": conversation, "body": "", "senderDeviceKeyId": bob_device,
            "envelopes": [envelope(&amy_device, &ok), envelope(&bob_device, &ok)],
        }),
    )
    .await;
    assert_no_errors(&sent);

    let mut amy_socket = subscribed(
        &server,
        &amy,
        "n",
        "subscription { notifications { kind user { id deviceKeys { id } } conversation { id } } }",
        json!({}),
    )
    .await;

    let bob_phone = device(&server, &bob, "bob-2").await;
    let added = amy_socket.next_payload("n").await;
    let notification = &added["data"]["notifications"];
    assert_eq!(notification["kind"], "DEVICE_KEYS_CHANGED");
    assert_eq!(notification["user"]["id"], bob.id.as_str());
    assert_eq!(notification["conversation"]["id"], conversation.as_str());
    assert_eq!(
        notification["user"]["deviceKeys"],
        json!([{ "id": bob_device }, { "id": bob_phone }])
    );

    let revoked = revoke(&server, &bob, &bob_device).await;
    assert_no_errors(&revoked);
    let removed = amy_socket.next_payload("n").await;
    assert_eq!(
        removed["data"]["notifications"]["user"]["deviceKeys"],
        json!([{ "id": bob_phone }])
    );

    // The old message still names the key that sealed it, now revoked.
    let page = server
        .gql(
            Some(&amy.access_token),
            "query($c: ID!) { messages(conversationId: $c) { nodes { encrypted senderDeviceKey { id revokedAt } } } }",
            json!({ "c": conversation }),
        )
        .await;
    assert_no_errors(&page);
    let sender = &page["data"]["messages"]["nodes"][0]["senderDeviceKey"];
    assert_eq!(sender["id"], bob_device.as_str());
    assert!(sender["revokedAt"].is_string(), "{page}");

    // Deleting an account revokes its keys: nobody seals to it any more.
    let deleted = server
        .gql(
            Some(&bob.access_token),
            "mutation($p: String!) { deleteAccount(password: $p) }",
            json!({ "p": common::PASSWORD }),
        )
        .await;
    assert_no_errors(&deleted);
    let keys = server
        .gql(
            Some(&amy.access_token),
            "query($id: ID!) { user(id: $id) { deviceKeys { id } } }",
            json!({ "id": bob.id }),
        )
        .await;
    assert_eq!(keys["data"]["user"]["deviceKeys"], json!([]), "{keys}");
}
