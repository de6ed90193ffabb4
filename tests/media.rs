//! Uploads over the GraphQL multipart request spec, image previews, signed
//! serving, and everything that must be refused without leaving a trace.

mod common;

use common::media::{attachment_rows, png, stored_files, upload};
use common::{Account, TestServer, assert_code, assert_no_errors, error_field};
use serde_json::{Value, json};

/// A tiny PNG whose header claims 60000 × 60000 pixels: a decompression bomb.
fn bomb_png() -> Vec<u8> {
    fn crc(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc(&body).to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend_from_slice(&60_000u32.to_be_bytes());
    header.extend_from_slice(&60_000u32.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    chunk(
        &mut png,
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    );
    chunk(&mut png, b"IEND", &[]);
    png
}

#[tokio::test]
async fn an_image_upload_gets_dimensions_a_thumbnail_and_safe_serving() {
    let server = TestServer::start().await;
    let amy = server.register("amy").await;
    let uploaded = upload(&server, &amy, "../holiday photo.png", png(640, 480)).await;
    assert_no_errors(&uploaded["body"]);
    let attachment = &uploaded["body"]["data"]["uploadFile"];
    assert_eq!(
        attachment["fileName"], "holiday photo.png",
        "the path is stripped"
    );
    assert_eq!(attachment["contentType"], "image/png");
    assert_eq!(
        (attachment["width"].clone(), attachment["height"].clone()),
        (json!(640), json!(480))
    );

    let original = server.get(attachment["url"].as_str().expect("url")).await;
    assert_eq!(original.status(), 200);
    let headers = original.headers().clone();
    assert_eq!(headers["content-type"], "image/png");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert!(
        headers["cache-control"]
            .to_str()
            .unwrap_or_default()
            .starts_with("private")
    );
    assert!(
        headers["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .starts_with("inline")
    );
    let etag = headers["etag"].to_str().expect("etag").to_owned();
    let bytes = original.bytes().await.expect("bytes");
    assert_eq!(bytes.len() as i64, attachment["size"].as_i64().unwrap_or(0));

    let thumbnail = server
        .get(attachment["thumbnailUrl"].as_str().expect("thumbnail"))
        .await;
    assert_eq!(thumbnail.status(), 200);
    let thumbnail =
        image::load_from_memory(&thumbnail.bytes().await.expect("bytes")).expect("decodes");
    assert_eq!(
        (thumbnail.width(), thumbnail.height()),
        (320, 240),
        "longest side 320"
    );

    let url = server.url(attachment["url"].as_str().unwrap_or_default());
    let partial = server
        .client
        .get(&url)
        .header("range", "bytes=0-9")
        .send()
        .await
        .expect("GET");
    assert_eq!(partial.status(), 206);
    assert_eq!(partial.bytes().await.expect("bytes").len(), 10);
    let cached = server
        .client
        .get(&url)
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("GET");
    assert_eq!(cached.status(), 304);
}

#[tokio::test]
async fn members_fetch_attachments_outsiders_and_bad_signatures_get_404() {
    let server = TestServer::start().await;
    let (amy, bea, eve) = (
        server.register("amy").await,
        server.register("bea").await,
        server.register("eve").await,
    );
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    let uploaded = upload(&server, &amy, "notes.txt", b"meeting at noon\n".to_vec()).await;
    let attachment_id = uploaded["body"]["data"]["uploadFile"]["id"].clone();
    assert_eq!(
        uploaded["body"]["data"]["uploadFile"]["contentType"],
        "text/plain"
    );
    let sent = server
        .gql(
            Some(&amy.access_token),
            "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id body attachments { id url } } }",
            json!({ "input": { "conversationId": conversation, "body": "", "attachmentIds": [attachment_id] } }),
        )
        .await;
    assert_no_errors(&sent);
    assert_eq!(
        sent["data"]["sendMessage"]["body"], "",
        "a body may be empty with attachments"
    );

    let seen = server
        .gql(Some(&bea.access_token), "query($c: ID!) { messages(conversationId: $c) { nodes { attachments { fileName url } } } }", json!({ "c": conversation }))
        .await;
    let url = seen["data"]["messages"]["nodes"][0]["attachments"][0]["url"]
        .as_str()
        .expect("url")
        .to_owned();
    let file = server.get(&url).await;
    assert_eq!(file.status(), 200);
    assert!(
        file.headers()["content-disposition"]
            .to_str()
            .unwrap_or_default()
            .starts_with("attachment")
    );
    assert_eq!(file.text().await.unwrap_or_default(), "meeting at noon\n");

    let outsider = server
        .gql(
            Some(&eve.access_token),
            "query($c: ID!) { messages(conversationId: $c) { nodes { id } } }",
            json!({ "c": conversation }),
        )
        .await;
    assert_code(&outsider, "NOT_FOUND");
    let id = attachment_id.as_str().unwrap_or_default();
    let signer = realtalk::media::signing::UrlSigner::new(common::JWT_SECRET.as_bytes());
    let expired = signer.url_expiring_at(
        id,
        realtalk::media::signing::Variant::Original,
        chrono::Utc::now().timestamp() - 5,
    );
    let forged = url.replace("sig=", "sig=A");
    let wrong_variant = url.replacen(
        &format!("/media/{id}"),
        &format!("/media/{id}/thumbnail"),
        1,
    );
    for bad in [
        expired,
        forged,
        wrong_variant,
        format!("/media/{id}"),
        "/media/nope?exp=9999999999&sig=x".to_owned(),
    ] {
        assert_eq!(server.get(&bad).await.status(), 404, "{bad}");
    }
}

#[tokio::test]
async fn disguised_oversized_unsupported_and_bomb_files_are_refused_leaving_nothing() {
    let server = TestServer::start_with(&["--max-upload-bytes", "200000"]).await;
    let amy = server.register("amy").await;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        (
            "cute.png",
            b"<!DOCTYPE html><script>alert(1)</script>".to_vec(),
        ),
        ("page.txt", b"<html><body>hi</body></html>".to_vec()),
        ("photo.png", b"just text pretending".to_vec()),
        (
            "program.exe",
            b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00".to_vec(),
        ),
        ("bomb.png", bomb_png()),
        ("big.txt", vec![b'a'; 250_000]),
        ("empty.txt", Vec::new()),
    ];
    for (name, bytes) in cases {
        let refused = upload(&server, &amy, name, bytes).await;
        let status = refused["status"].as_u64().unwrap_or(0);
        if status == 200 {
            assert_code(&refused["body"], "BAD_USER_INPUT");
            assert_eq!(
                error_field(&refused["body"]),
                Some("file"),
                "{name}: {refused:#}"
            );
        } else {
            assert_eq!(status, 413, "{name}: {refused:#}");
        }
    }
    assert_eq!(stored_files(&server), 0, "nothing was stored");
    assert_eq!(attachment_rows(&server), 0);
    let staging = std::fs::read_dir(server.data_path().join("media/staging"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(staging, 0, "no staged leftovers");
}

#[tokio::test]
async fn concurrent_uploads_of_the_same_bytes_are_stored_once() {
    let server = TestServer::start().await;
    let amy = server.register("amy").await;
    let bytes = png(100, 50);
    let uploads = (0..6).map(|i| {
        upload(
            &server,
            &amy,
            if i % 2 == 0 { "a.png" } else { "b.png" },
            bytes.clone(),
        )
    });
    let results = futures_util::future::join_all(uploads).await;
    let mut ids: Vec<String> = results
        .iter()
        .map(|result| {
            assert_no_errors(&result["body"]);
            result["body"]["data"]["uploadFile"]["id"]
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "each upload is its own attachment");
    assert_eq!(stored_files(&server), 2, "one original and one thumbnail");
}

#[tokio::test]
async fn attachments_belong_to_their_uploader_once_and_leave_with_a_deleted_message() {
    let server = TestServer::start().await;
    let (amy, bea) = (server.register("amy").await, server.register("bea").await);
    server.befriend(&amy, &bea).await;
    let conversation = server.open_direct(&amy, &bea).await;
    let file =
        upload(&server, &amy, "a.txt", b"hello".to_vec()).await["body"]["data"]["uploadFile"]["id"]
            .clone();
    let send = |who: &Account, ids: Vec<Value>| {
        let token = who.access_token.clone();
        let conversation = conversation.clone();
        let server = &server;
        async move {
            server
                .gql(
                    Some(&token),
                    "mutation($input: SendMessageInput!) { sendMessage(input: $input) { id attachments { id } } }",
                    json!({ "input": { "conversationId": conversation, "body": "see file", "attachmentIds": ids } }),
                )
                .await
        }
    };
    let stolen = send(&bea, vec![file.clone()]).await;
    assert_code(&stolen, "BAD_USER_INPUT");
    assert_eq!(error_field(&stolen), Some("attachmentIds"));
    let sent = send(&amy, vec![file.clone()]).await;
    assert_no_errors(&sent);
    let again = send(&amy, vec![file.clone()]).await;
    assert_code(&again, "BAD_USER_INPUT");
    let eleven: Vec<Value> = (0..11).map(|i| json!(format!("x{i}"))).collect();
    assert_code(&send(&amy, eleven).await, "BAD_USER_INPUT");

    let deleted = server
        .gql(
            Some(&amy.access_token),
            "mutation($id: ID!) { deleteMessage(id: $id) { attachments { id } } }",
            json!({ "id": sent["data"]["sendMessage"]["id"] }),
        )
        .await;
    assert_eq!(deleted["data"]["deleteMessage"]["attachments"], json!([]));
}

#[tokio::test]
async fn avatars_are_own_images_and_unused_uploads_are_collected_after_a_day() {
    let server = TestServer::start().await;
    let amy = server.register("amy").await;
    let image = upload(&server, &amy, "me.png", png(200, 200)).await["body"]["data"]["uploadFile"]
        ["id"]
        .clone();
    let text =
        upload(&server, &amy, "me.txt", b"not a face".to_vec()).await["body"]["data"]["uploadFile"]
            ["id"]
            .clone();
    let set = "mutation($a: ID) { updateProfile(input: { avatarAttachmentId: $a }) { avatarUrl } }";
    let refused = server
        .gql(Some(&amy.access_token), set, json!({ "a": text }))
        .await;
    assert_code(&refused, "BAD_USER_INPUT");
    let set_ok = server
        .gql(Some(&amy.access_token), set, json!({ "a": image }))
        .await;
    assert_no_errors(&set_ok);
    let avatar = set_ok["data"]["updateProfile"]["avatarUrl"]
        .as_str()
        .expect("avatar url")
        .to_owned();
    assert_eq!(server.get(&avatar).await.status(), 200);

    // Age every upload past a day; only the unused text file goes.
    let db = rusqlite::Connection::open(server.data_path().join("realtalk.db")).expect("db");
    db.execute(
        "UPDATE attachments SET created_at = created_at - 90000000",
        [],
    )
    .expect("backdate");
    let collected = server.services().media.collect_garbage().await.unwrap_or(0);
    assert_eq!(collected, 1);
    assert_eq!(attachment_rows(&server), 1);
    assert_eq!(
        stored_files(&server),
        2,
        "the avatar's original and thumbnail remain"
    );
    assert_eq!(server.get(&avatar).await.status(), 200);
}
