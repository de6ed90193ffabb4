//! `AttachmentStore`, and attaching uploads when a message is sent.

use chrono::{DateTime, Utc};

use crate::contract_test;
use crate::fixtures::*;

fn upload(
    uploader: &UserRecord,
    sha256: &str,
    created_at: DateTime<Utc>,
    image: bool,
) -> AttachmentRecord {
    AttachmentRecord {
        id: id(),
        uploader_id: uploader.id.clone(),
        sha256: sha256.to_owned(),
        file_name: format!("{sha256}.png"),
        content_type: if image {
            "image/png"
        } else {
            "application/pdf"
        }
        .to_owned(),
        size: 1234,
        width: image.then_some(640),
        height: image.then_some(480),
        thumbnail_sha256: image.then(|| format!("thumb-{sha256}")),
        created_at,
        message_id: None,
        used_as_avatar: false,
    }
}

async fn stored(store: &Db, attachment: AttachmentRecord) -> AttachmentRecord {
    store
        .create_attachment(attachment)
        .await
        .expect("attachment is stored")
}

contract_test!(an_upload_reads_back_as_stored, |store| async move {
    let amy = user(&store, "amy").await;
    let created = stored(&store, upload(&amy, "aaa", now(), true)).await;
    assert_eq!(
        store.attachment_by_id(&created.id).await.expect("read"),
        Some(created.clone())
    );
    assert_eq!(store.attachment_by_id(&id()).await.expect("read"), None);
    let plain = stored(&store, upload(&amy, "bbb", now(), false)).await;
    assert_eq!(
        store.attachment_by_id(&plain.id).await.expect("read"),
        Some(plain)
    );
});

contract_test!(
    sending_attaches_own_unsent_uploads_in_order,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let chat = direct(&store, &amy, &bea).await;
        let base = now();
        let first = stored(&store, upload(&amy, "one", base, true)).await;
        let second = stored(&store, upload(&amy, "two", base + seconds(1), false)).await;
        let message = NewMessage {
            attachment_ids: vec![first.id.clone(), second.id.clone()],
            ..new_message(&chat.id, &amy.id, "look")
        };
        let sent = store.create_message(message).await.expect("sent").message;
        let attached = store
            .attachments_of_messages(std::slice::from_ref(&sent.id))
            .await
            .expect("read");
        let ids: Vec<&str> = attached.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(
            ids,
            vec![first.id.as_str(), second.id.as_str()],
            "upload order"
        );
        assert!(
            attached
                .iter()
                .all(|a| a.message_id.as_deref() == Some(sent.id.as_str()))
        );

        let resend = NewMessage {
            attachment_ids: vec![first.id.clone()],
            ..new_message(&chat.id, &amy.id, "again")
        };
        assert_eq!(
            error_kind(store.create_message(resend).await),
            ErrorKind::BadUserInput,
            "already sent"
        );
        let beas = stored(&store, upload(&bea, "three", now(), true)).await;
        let not_mine = NewMessage {
            attachment_ids: vec![beas.id.clone()],
            ..new_message(&chat.id, &amy.id, "steal")
        };
        assert_eq!(
            error_kind(store.create_message(not_mine).await),
            ErrorKind::BadUserInput,
            "not amy's"
        );
        assert_eq!(
            logged_seqs(&store, &chat.id).await,
            vec![1],
            "a refused send leaves no trace"
        );
        assert_eq!(
            store
                .messages_before(&chat.id, None, 10)
                .await
                .expect("read")
                .len(),
            1
        );
        let untouched = store
            .attachment_by_id(&beas.id)
            .await
            .expect("read")
            .expect("upload");
        assert_eq!(untouched.message_id, None);
    }
);

contract_test!(
    unused_uploads_are_the_old_unsent_non_avatars,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let chat = direct(&store, &amy, &bea).await;
        let base = now() - seconds(1000);
        let old = stored(&store, upload(&amy, "old", base, true)).await;
        let older = stored(&store, upload(&amy, "older", base - seconds(10), false)).await;
        let sent = stored(&store, upload(&amy, "sent", base, true)).await;
        let avatar = stored(&store, upload(&amy, "avatar", base, true)).await;
        stored(&store, upload(&amy, "fresh", now(), true)).await;
        let message = NewMessage {
            attachment_ids: vec![sent.id.clone()],
            ..new_message(&chat.id, &amy.id, "x")
        };
        store.create_message(message).await.expect("sent");
        assert!(
            store
                .use_as_avatar(&avatar.id, &amy.id)
                .await
                .expect("avatar")
        );

        let cutoff = base + seconds(1);
        let unused = store.unused_attachments(cutoff, 10).await.expect("read");
        let mut ids: Vec<String> = unused.into_iter().map(|a| a.id).collect();
        ids.sort();
        assert_eq!(ids, sorted(vec![old.id.clone(), older.id.clone()]));
        assert_eq!(
            store
                .unused_attachments(cutoff, 1)
                .await
                .expect("read")
                .len(),
            1,
            "at most `limit`"
        );
    }
);

contract_test!(
    only_an_image_of_ones_own_becomes_an_avatar,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let image = stored(&store, upload(&amy, "face", now(), true)).await;
        assert!(
            !store
                .use_as_avatar(&image.id, &bea.id)
                .await
                .expect("avatar"),
            "not bea's"
        );
        assert!(
            store
                .use_as_avatar(&image.id, &amy.id)
                .await
                .expect("avatar")
        );
        let marked = store
            .attachment_by_id(&image.id)
            .await
            .expect("read")
            .expect("upload");
        assert!(marked.used_as_avatar);
    }
);

contract_test!(
    content_is_in_use_while_any_upload_or_thumbnail_needs_it,
    |store| async move {
        let amy = user(&store, "amy").await;
        let first = stored(&store, upload(&amy, "shared", now(), true)).await;
        let second = stored(&store, upload(&amy, "shared", now(), false)).await;
        assert!(store.content_in_use("shared").await.expect("read"));
        assert!(
            store.content_in_use("thumb-shared").await.expect("read"),
            "thumbnails count"
        );
        assert!(!store.content_in_use("nobody").await.expect("read"));

        store.delete_attachment(&first.id).await.expect("delete");
        assert_eq!(store.attachment_by_id(&first.id).await.expect("read"), None);
        assert!(
            store.content_in_use("shared").await.expect("read"),
            "the second still needs it"
        );
        assert!(!store.content_in_use("thumb-shared").await.expect("read"));
        store.delete_attachment(&second.id).await.expect("delete");
        assert!(!store.content_in_use("shared").await.expect("read"));
    }
);

contract_test!(
    deleting_a_message_frees_its_attachments,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let chat = direct(&store, &amy, &bea).await;
        let file = stored(&store, upload(&amy, "doc", now(), false)).await;
        let message = NewMessage {
            attachment_ids: vec![file.id.clone()],
            ..new_message(&chat.id, &amy.id, "x")
        };
        let sent = store.create_message(message).await.expect("sent").message;
        store.delete_message(&sent.id, now()).await.expect("delete");
        assert!(
            store
                .attachments_of_messages(std::slice::from_ref(&sent.id))
                .await
                .expect("read")
                .is_empty()
        );
        let freed = store
            .attachment_by_id(&file.id)
            .await
            .expect("read")
            .expect("upload");
        assert_eq!(freed.message_id, None, "a tombstone carries no files");
    }
);
