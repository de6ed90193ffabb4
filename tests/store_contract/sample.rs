//! A small but complete data set, made through the store API, with at
//! least one row in every table of `Table::ALL`: what the transfer tests
//! move between engines.

use crate::fixtures::*;

/// What the transfer tests look for after a copy.
pub struct Sample {
    pub amy: UserRecord,
    pub bea: UserRecord,
    pub direct_id: String,
    pub group_id: String,
    /// The released username of the deleted account.
    pub released: String,
}

pub async fn populate(store: &Db) -> Sample {
    let (amy, bea, cat) = (
        user(store, "amy").await,
        user(store, "bea").await,
        user(store, "cat").await,
    );
    let gone = user(store, "gone").await;

    // Sessions, one rotated (a spent refresh token), and account tokens.
    let created_at = now();
    let session = NewSession {
        id: id(),
        user_id: amy.id.clone(),
        refresh_token_hash: "amy-r1".into(),
        created_at,
        expires_at: created_at + seconds(3600),
    };
    store.create_session(session).await.expect("session");
    store
        .rotate_refresh_token("amy-r1", "amy-r2", now(), now() + seconds(3600))
        .await
        .expect("rotated");
    for (hash, purpose) in [
        ("t-verify", AccountTokenPurpose::VerifyEmail),
        ("t-reset", AccountTokenPurpose::ResetPassword),
    ] {
        let token = AccountTokenRecord {
            token_hash: hash.into(),
            user_id: bea.id.clone(),
            purpose,
            email: bea.email.clone(),
            created_at,
            expires_at: created_at + seconds(3600),
        };
        store.create_account_token(token).await.expect("token");
    }
    store
        .consume_account_token("t-verify", AccountTokenPurpose::VerifyEmail, now())
        .await
        .expect("consumed");
    store
        .verify_email(&bea.id, &bea.email, now())
        .await
        .expect("verified");

    // Friends: accepted, pending and declined requests; a block.
    for (from, to, status) in [
        (&amy, &bea, Some(FriendRequestStatus::Accepted)),
        (&amy, &cat, Some(FriendRequestStatus::Accepted)),
        (&cat, &bea, None),
        (&gone, &amy, Some(FriendRequestStatus::Declined)),
    ] {
        let request = FriendRequestRecord {
            id: id(),
            from_user_id: from.id.clone(),
            to_user_id: to.id.clone(),
            status: FriendRequestStatus::Pending,
            created_at: now(),
            responded_at: None,
        };
        store
            .create_friend_request(request.clone())
            .await
            .expect("request");
        if let Some(status) = status {
            store
                .resolve_friend_request(&request.id, status, now())
                .await
                .expect("resolved");
        }
    }
    store
        .block_user(&bea.id, &gone.id, now())
        .await
        .expect("block");
    let spam = user(store, "spam").await;
    store
        .block_user(&amy.id, &spam.id, now())
        .await
        .expect("block");

    // Conversations with read markers, and every kind of message event.
    let chat = direct(store, &amy, &bea).await;
    // Joined at one instant, not in id order: only join order tells them apart.
    let trip = group(store, "Pizza club", &amy, &[&cat, &bea]).await;
    store
        .set_member_role(&trip.id, &bea.id, MemberRole::Admin)
        .await
        .expect("role");
    let hello = send(store, &chat.id, &amy, "hello bea, pizza tonight?").await;
    let reply = NewMessage {
        reply_to_id: Some(hello.id.clone()),
        client_id: Some("bea-1".into()),
        ..new_message(&chat.id, &bea.id, "yes, margherita please")
    };
    store.create_message(reply).await.expect("reply");
    store
        .edit_message(&hello.id, "hello bea, pizza tonight at eight?", now())
        .await
        .expect("edit");
    store
        .add_reaction(&hello.id, &bea.id, "🍕", 20, now())
        .await
        .expect("react");
    let oops = send(store, &chat.id, &amy, "wrong chat, sorry").await;
    store.delete_message(&oops.id, now()).await.expect("delete");
    send(store, &trip.id, &cat, "group pizza on friday").await;
    store
        .mark_read(&chat.id, &bea.id, 2)
        .await
        .expect("read marker");

    // Attachments: one sent, one unsent, one avatar.
    let file = |sha: &str, uploader: &UserRecord| AttachmentRecord {
        id: id(),
        uploader_id: uploader.id.clone(),
        sha256: sha.into(),
        file_name: format!("{sha}.png"),
        content_type: "image/png".into(),
        size: 42,
        width: Some(2),
        height: Some(3),
        thumbnail_sha256: Some(format!("{sha}-thumb")),
        created_at: now(),
        message_id: None,
        used_as_avatar: false,
    };
    let sent = store
        .create_attachment(file("menu", &amy))
        .await
        .expect("upload");
    store
        .create_attachment(file("unsent", &cat))
        .await
        .expect("upload");
    let face = store
        .create_attachment(file("face", &bea))
        .await
        .expect("upload");
    store
        .use_as_avatar(&face.id, &bea.id)
        .await
        .expect("avatar");
    let changes = ProfileChanges {
        display_name: None,
        avatar_attachment_id: Some(face.id.clone()),
    };
    store
        .update_profile(&bea.id, changes)
        .await
        .expect("profile");
    let with_file = NewMessage {
        attachment_ids: vec![sent.id.clone()],
        ..new_message(&trip.id, &amy.id, "the menu")
    };
    store
        .create_message(with_file)
        .await
        .expect("sent with a file");

    // A deleted account releases its username.
    store
        .delete_account(&gone.id, now(), now() + seconds(86_400))
        .await
        .expect("deleted");
    store.touch_last_seen(&amy.id, now()).await.expect("seen");

    // End-to-end encryption, in a conversation of its own (the transfer
    // tests go on writing plain messages into the others): device keys,
    // one revoked, and a sealed message.
    let secret = direct(store, &amy, &cat).await;
    let amy_key = store
        .create_device_key(crate::encryption::device_key(&amy, "amy"), 10)
        .await
        .expect("device key");
    let cat_key = store
        .create_device_key(crate::encryption::device_key(&cat, "cat"), 10)
        .await
        .expect("device key");
    let old = store
        .create_device_key(crate::encryption::device_key(&bea, "old"), 10)
        .await
        .expect("device key");
    store
        .revoke_device_keys(&bea.id, Some(&old.id), now())
        .await
        .expect("revoked");
    store
        .encrypt_conversation(&secret.id, now())
        .await
        .expect("encrypted");
    let sealed = NewMessage {
        sealed: Some(crate::encryption::sealed_for(
            &amy_key.id,
            &[&amy_key.id, &cat_key.id],
        )),
        ..new_message(&secret.id, &amy.id, "")
    };
    store.create_message(sealed).await.expect("sealed message");

    Sample {
        amy,
        bea,
        direct_id: chat.id,
        group_id: trip.id,
        released: gone.username,
    }
}
