//! `AccountStore`: single-use mailed tokens, verified addresses, password
//! changes, signing out elsewhere and account deletion.

use futures_util::future::join_all;

use crate::contract_test;
use crate::fixtures::*;

fn token(user: &UserRecord, hash: &str, purpose: AccountTokenPurpose) -> AccountTokenRecord {
    let created_at = now();
    AccountTokenRecord {
        token_hash: hash.to_owned(),
        user_id: user.id.clone(),
        purpose,
        email: user.email.clone(),
        created_at,
        expires_at: created_at + seconds(3600),
    }
}

async fn sign_in(store: &Db, user: &UserRecord, hash: &str) -> String {
    let created_at = now();
    let session = NewSession {
        id: id(),
        user_id: user.id.clone(),
        refresh_token_hash: hash.to_owned(),
        created_at,
        expires_at: created_at + seconds(3600),
    };
    store.create_session(session).await.expect("session").id
}

contract_test!(an_account_token_is_spent_once, |store| async move {
    let amy = user(&store, "amy").await;
    let issued = token(&amy, "verify-1", AccountTokenPurpose::VerifyEmail);
    store
        .create_account_token(issued.clone())
        .await
        .expect("stored");
    let wrong_purpose = store
        .consume_account_token("verify-1", AccountTokenPurpose::ResetPassword, now())
        .await
        .expect("consume");
    assert_eq!(wrong_purpose, None, "a token is for one purpose");
    let spent = store
        .consume_account_token("verify-1", AccountTokenPurpose::VerifyEmail, now())
        .await
        .expect("consume");
    assert_eq!(spent, Some(issued));
    let again = store
        .consume_account_token("verify-1", AccountTokenPurpose::VerifyEmail, now())
        .await
        .expect("consume");
    assert_eq!(again, None, "single use");
    let unknown = store
        .consume_account_token("nope", AccountTokenPurpose::VerifyEmail, now())
        .await
        .expect("consume");
    assert_eq!(unknown, None);
});

contract_test!(an_expired_token_is_refused, |store| async move {
    let amy = user(&store, "amy").await;
    let issued = token(&amy, "reset-1", AccountTokenPurpose::ResetPassword);
    let after = issued.expires_at + seconds(1);
    store.create_account_token(issued).await.expect("stored");
    let late = store
        .consume_account_token("reset-1", AccountTokenPurpose::ResetPassword, after)
        .await
        .expect("consume");
    assert_eq!(late, None);
});

contract_test!(
    of_ten_concurrent_uses_of_a_token_one_wins,
    |store| async move {
        let amy = user(&store, "amy").await;
        store
            .create_account_token(token(&amy, "race", AccountTokenPurpose::ResetPassword))
            .await
            .expect("stored");
        let uses = (0..10).map(|_| {
            let store = store.clone();
            async move {
                store
                    .consume_account_token("race", AccountTokenPurpose::ResetPassword, now())
                    .await
                    .expect("consume")
            }
        });
        let outcomes = join_all(uses).await;
        assert_eq!(
            outcomes.iter().filter(|outcome| outcome.is_some()).count(),
            1
        );
    }
);

contract_test!(a_verified_email_must_still_be_free, |store| async move {
    let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
    let at = now();
    store
        .verify_email(&amy.id, "amy.new@example.com", at)
        .await
        .expect("verified");
    let verified = store
        .user_by_id(&amy.id)
        .await
        .expect("read")
        .expect("user");
    assert_eq!(verified.email, "amy.new@example.com");
    assert_eq!(verified.email_verified_at, Some(at));
    assert_eq!(
        store
            .user_by_login("amy.new@example.com")
            .await
            .expect("read")
            .map(|u| u.id),
        Some(amy.id.clone())
    );
    let taken = store
        .verify_email(&bea.id, "AMY.NEW@example.com", now())
        .await;
    assert_eq!(error_kind(taken), ErrorKind::Conflict);
    let unchanged = store
        .user_by_id(&bea.id)
        .await
        .expect("read")
        .expect("user");
    assert_eq!(unchanged.email, bea.email);
});

contract_test!(
    a_new_password_spends_outstanding_reset_tokens,
    |store| async move {
        let amy = user(&store, "amy").await;
        for (hash, purpose) in [
            ("reset-a", AccountTokenPurpose::ResetPassword),
            ("reset-b", AccountTokenPurpose::ResetPassword),
            ("verify", AccountTokenPurpose::VerifyEmail),
        ] {
            store
                .create_account_token(token(&amy, hash, purpose))
                .await
                .expect("stored");
        }
        store
            .set_password_hash(&amy.id, "$argon2id$new")
            .await
            .expect("set");
        let read = store
            .user_by_id(&amy.id)
            .await
            .expect("read")
            .expect("user");
        assert_eq!(read.password_hash, "$argon2id$new");
        for hash in ["reset-a", "reset-b"] {
            let used = store
                .consume_account_token(hash, AccountTokenPurpose::ResetPassword, now())
                .await
                .expect("consume");
            assert_eq!(used, None, "{hash} was spent by the password change");
        }
        let verify = store
            .consume_account_token("verify", AccountTokenPurpose::VerifyEmail, now())
            .await
            .expect("consume");
        assert!(verify.is_some(), "other purposes are untouched");
    }
);

contract_test!(
    signing_out_elsewhere_keeps_one_session,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let keep = sign_in(&store, &amy, "a-1").await;
        let others = vec![
            sign_in(&store, &amy, "a-2").await,
            sign_in(&store, &amy, "a-3").await,
        ];
        let beas = sign_in(&store, &bea, "b-1").await;
        let at = now();
        let revoked = store
            .revoke_other_sessions(&amy.id, Some(&keep), at)
            .await
            .expect("revoke");
        assert_eq!(sorted(revoked), sorted(others.clone()));
        for session in &others {
            let record = store
                .session_by_id(session)
                .await
                .expect("read")
                .expect("session");
            assert_eq!(record.revoked_at, Some(at));
        }
        let kept = store
            .session_by_id(&keep)
            .await
            .expect("read")
            .expect("session");
        assert_eq!(kept.revoked_at, None);
        assert_eq!(
            store
                .revoke_other_sessions(&amy.id, None, at)
                .await
                .expect("revoke"),
            vec![keep]
        );
        let untouched = store
            .session_by_id(&beas)
            .await
            .expect("read")
            .expect("session");
        assert_eq!(untouched.revoked_at, None);
    }
);

contract_test!(
    a_deleted_account_becomes_a_deleted_user_and_its_traces_go,
    |store| async move {
        let (amy, bea, cat, dan) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
            user(&store, "dan").await,
        );
        let friendship = FriendRequestRecord {
            id: id(),
            from_user_id: amy.id.clone(),
            to_user_id: bea.id.clone(),
            status: FriendRequestStatus::Pending,
            created_at: now(),
            responded_at: None,
        };
        store
            .create_friend_request(friendship.clone())
            .await
            .expect("asked");
        store
            .resolve_friend_request(&friendship.id, FriendRequestStatus::Accepted, now())
            .await
            .expect("accepted");
        let pending = FriendRequestRecord {
            id: id(),
            to_user_id: cat.id.clone(),
            ..friendship.clone()
        };
        store
            .create_friend_request(pending.clone())
            .await
            .expect("asked");
        store
            .block_user(&dan.id, &amy.id, now())
            .await
            .expect("blocked");
        let session = sign_in(&store, &amy, "amy-session").await;
        store
            .create_account_token(token(&amy, "amy-reset", AccountTokenPurpose::ResetPassword))
            .await
            .expect("token");
        let chat = direct(&store, &amy, &bea).await;
        let said = send(&store, &chat.id, &amy, "remember me").await;
        let upload = AttachmentRecord {
            id: id(),
            uploader_id: amy.id.clone(),
            sha256: "amy-file".into(),
            file_name: "a.png".into(),
            content_type: "image/png".into(),
            size: 10,
            width: Some(1),
            height: Some(1),
            thumbnail_sha256: Some("amy-thumb".into()),
            created_at: now(),
            message_id: None,
            used_as_avatar: false,
        };
        store
            .create_attachment(upload.clone())
            .await
            .expect("upload");

        let at = now();
        let free_at = at + seconds(30 * 24 * 3600);
        let hashes = store
            .delete_account(&amy.id, at, free_at)
            .await
            .expect("deleted");
        assert_eq!(
            sorted(hashes),
            sorted(vec!["amy-file".into(), "amy-thumb".into()])
        );

        let gone = store
            .user_by_id(&amy.id)
            .await
            .expect("read")
            .expect("the row stays");
        assert_eq!(gone.deleted_at, Some(at));
        assert_eq!(gone.display_name, "Deleted user");
        assert_ne!(gone.username, "amy");
        assert_ne!(gone.email, amy.email);
        assert_ne!(gone.password_hash, amy.password_hash);
        assert_eq!(gone.avatar_attachment_id, None);
        assert_eq!(store.user_by_login("amy").await.expect("read"), None);
        assert_eq!(store.user_by_login(&amy.email).await.expect("read"), None);
        assert_eq!(
            store.username_available_at("amy").await.expect("read"),
            Some(free_at)
        );
        assert_eq!(
            store.username_available_at("bea").await.expect("read"),
            None
        );

        let revoked = store
            .session_by_id(&session)
            .await
            .expect("read")
            .expect("session");
        assert_eq!(revoked.revoked_at, Some(at));
        assert!(!store.are_friends(&amy.id, &bea.id).await.expect("read"));
        assert!(store.friend_ids(&bea.id).await.expect("read").is_empty());
        assert!(
            store
                .pending_requests(&cat.id, true)
                .await
                .expect("read")
                .is_empty()
        );
        assert!(!store.is_blocked(&dan.id, &amy.id).await.expect("read"));
        let token_left = store
            .consume_account_token("amy-reset", AccountTokenPurpose::ResetPassword, now())
            .await
            .expect("consume");
        assert_eq!(token_left, None);
        assert_eq!(
            store.attachment_by_id(&upload.id).await.expect("read"),
            None
        );
        assert!(!store.content_in_use("amy-file").await.expect("read"));

        let kept = store.message_by_id(&said.id).await.expect("read");
        assert_eq!(kept, Some(said), "messages stay");

        // The name and address are free at the store level; the cool-down is
        // the service's rule, read from `username_available_at`.
        store
            .create_user(new_user("amy"))
            .await
            .expect("the released name is free");
    }
);
