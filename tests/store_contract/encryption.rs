//! `DeviceKeyStore`, `encrypt_conversation`, and sealed messages: what
//! every engine must keep for end-to-end encryption.

use realtalk::error::ErrorKind;
use realtalk::store::{DeviceKeyRecord, Envelope, Sealed};

use crate::contract_test;
use crate::fixtures::*;

pub fn device_key(owner: &UserRecord, seed: &str) -> DeviceKeyRecord {
    DeviceKeyRecord {
        id: id(),
        user_id: owner.id.clone(),
        identity_key: format!("identity-{seed}"),
        encryption_key: format!("encryption-{seed}"),
        signature: format!("signature-{seed}"),
        label: Some(format!("device {seed}")),
        created_at: now(),
        revoked_at: None,
    }
}

pub fn sealed_for(sender: &str, devices: &[&str]) -> Sealed {
    Sealed {
        sender_device_key_id: sender.to_owned(),
        envelopes: devices
            .iter()
            .map(|device| Envelope {
                device_key_id: (*device).to_owned(),
                ciphertext: format!("ciphertext-for-{device}"),
            })
            .collect(),
    }
}

contract_test!(
    device_keys_register_once_cap_and_revoke,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let first = store
            .create_device_key(device_key(&amy, "1"), 2)
            .await
            .expect("registered");
        let again = store
            .create_device_key(device_key(&amy, "1"), 2)
            .await
            .expect("idempotent");
        assert_eq!(again, first, "the same encryption key is the same device");
        let second = store
            .create_device_key(device_key(&amy, "2"), 2)
            .await
            .expect("second");
        assert_eq!(
            error_kind(store.create_device_key(device_key(&amy, "3"), 2).await),
            ErrorKind::BadUserInput,
            "the cap counts active keys"
        );
        store
            .create_device_key(device_key(&bea, "1"), 2)
            .await
            .expect("another user may use any key");

        let active = store
            .active_device_keys(std::slice::from_ref(&amy.id))
            .await
            .expect("listed");
        assert_eq!(active, vec![first.clone(), second.clone()], "oldest first");

        assert_eq!(
            store
                .revoke_device_keys(&bea.id, Some(&first.id), now())
                .await
                .expect("revoke"),
            0,
            "only the owner revokes"
        );
        assert_eq!(
            store
                .revoke_device_keys(&amy.id, Some(&first.id), now())
                .await
                .expect("revoke"),
            1
        );
        assert_eq!(
            error_kind(store.create_device_key(device_key(&amy, "1"), 2).await),
            ErrorKind::Conflict,
            "a revoked key is not brought back"
        );
        store
            .create_device_key(device_key(&amy, "3"), 2)
            .await
            .expect("a revoked key frees its place");
        let by_id = store
            .device_keys_by_ids(&[first.id.clone(), "unknown".into()])
            .await
            .expect("by id");
        assert_eq!(by_id.len(), 1);
        assert!(
            by_id[0].revoked_at.is_some(),
            "revoked keys are still found by id"
        );
        assert_eq!(
            store
                .revoke_device_keys(&amy.id, None, now())
                .await
                .expect("revoke all"),
            2
        );
        assert!(
            store
                .active_device_keys(std::slice::from_ref(&amy.id))
                .await
                .expect("listed")
                .is_empty()
        );
    }
);

contract_test!(
    concurrent_registrations_cannot_pass_the_cap,
    |store| async move {
        let amy = user(&store, "amy").await;
        let attempts = (0..8).map(|n| {
            let store = store.clone();
            let key = device_key(&amy, &n.to_string());
            tokio::spawn(async move { store.create_device_key(key, 3).await })
        });
        let mut stored = 0;
        for attempt in attempts {
            if attempt.await.expect("task").is_ok() {
                stored += 1;
            }
        }
        assert_eq!(stored, 3);
        let active = store
            .active_device_keys(std::slice::from_ref(&amy.id))
            .await
            .expect("listed");
        assert_eq!(active.len(), 3);
    }
);

contract_test!(
    an_encrypted_conversation_takes_only_sealed_messages,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let chat = direct(&store, &amy, &bea).await;
        send(&store, &chat.id, &amy, "before encryption").await;
        assert_eq!(
            error_kind(
                store
                    .create_message(NewMessage {
                        sealed: Some(sealed_for("d1", &["d1"])),
                        ..new_message(&chat.id, &amy.id, "")
                    })
                    .await
            ),
            ErrorKind::BadUserInput,
            "no ciphertext in a plain conversation"
        );

        let on = store
            .encrypt_conversation(&chat.id, at_millis(1_000))
            .await
            .expect("encrypt")
            .expect("exists");
        assert_eq!(on.encrypted_at, Some(at_millis(1_000)));
        let again = store
            .encrypt_conversation(&chat.id, at_millis(2_000))
            .await
            .expect("encrypt")
            .expect("exists");
        assert_eq!(
            again.encrypted_at,
            Some(at_millis(1_000)),
            "the first time stays"
        );
        assert!(
            store
                .encrypt_conversation("unknown", now())
                .await
                .expect("encrypt")
                .is_none()
        );

        assert_eq!(
            error_kind(
                store
                    .create_message(new_message(&chat.id, &amy.id, "plain words"))
                    .await
            ),
            ErrorKind::BadUserInput,
            "no plaintext in an encrypted conversation"
        );
        assert_eq!(
            logged_seqs(&store, &chat.id).await,
            vec![1],
            "refusals take no seq"
        );

        let sealed = sealed_for("d1", &["d1", "d2"]);
        let change = store
            .create_message(NewMessage {
                sealed: Some(sealed.clone()),
                ..new_message(&chat.id, &amy.id, "")
            })
            .await
            .expect("sealed message");
        assert_eq!(change.message.sealed.as_ref(), Some(&sealed));
        let stored = store
            .message_by_id(&change.message.id)
            .await
            .expect("read")
            .expect("stored");
        assert_eq!(stored, change.message, "kept exactly as sent");
        assert!(
            store
                .search_messages(&bea.id, "ciphertext", None, 20)
                .await
                .expect("search")
                .is_empty(),
            "sealed messages are never search results"
        );
        let deleted = store
            .delete_message(&change.message.id, now())
            .await
            .expect("delete")
            .expect("exists");
        assert_eq!(
            deleted.message.sealed, None,
            "a tombstone keeps no ciphertext"
        );
    }
);
