//! `SessionStore`: sign-ins, refresh-token rotation and reuse detection.

use futures_util::future::join_all;

use crate::contract_test;
use crate::fixtures::*;

async fn session(
    store: &Db,
    user: &UserRecord,
    token_hash: &str,
) -> realtalk::store::SessionRecord {
    let created_at = now();
    store
        .create_session(NewSession {
            id: id(),
            user_id: user.id.clone(),
            refresh_token_hash: token_hash.to_owned(),
            created_at,
            expires_at: created_at + seconds(3600),
        })
        .await
        .expect("session is created")
}

contract_test!(a_created_session_reads_back_active, |store| async move {
    let amy = user(&store, "amy").await;
    let created = session(&store, &amy, "hash-1").await;
    assert_eq!(created.user_id, amy.id);
    assert_eq!(created.refreshed_at, created.created_at);
    assert_eq!(created.revoked_at, None);
    assert!(created.is_active(now()));
    let read = store.session_by_id(&created.id).await.expect("read");
    assert_eq!(read, Some(created));
    assert_eq!(store.session_by_id(&id()).await.expect("read"), None);
});

contract_test!(
    a_refresh_rotates_and_a_spent_token_revokes_the_session,
    |store| async move {
        let amy = user(&store, "amy").await;
        let created = session(&store, &amy, "hash-1").await;
        let later = now() + seconds(60);
        let expires = later + seconds(7200);

        let outcome = store
            .rotate_refresh_token("hash-1", "hash-2", later, expires)
            .await
            .expect("rotate");
        let RefreshOutcome::Rotated(rotated) = outcome else {
            panic!("the current token rotates, got {outcome:?}");
        };
        assert_eq!(rotated.id, created.id);
        assert_eq!(rotated.refreshed_at, later);
        assert_eq!(rotated.expires_at, expires);
        assert_eq!(
            store.session_by_id(&created.id).await.expect("read"),
            Some(rotated)
        );

        let outcome = store
            .rotate_refresh_token("hash-2", "hash-3", later + seconds(1), expires)
            .await
            .expect("rotate");
        assert!(
            matches!(outcome, RefreshOutcome::Rotated(_)),
            "the next one rotates too: {outcome:?}"
        );

        let reuse_at = later + seconds(2);
        let outcome = store
            .rotate_refresh_token("hash-1", "hash-x", reuse_at, expires)
            .await
            .expect("rotate");
        let RefreshOutcome::Reused(reused) = outcome else {
            panic!("a spent token is reuse, got {outcome:?}");
        };
        assert_eq!(reused.id, created.id);
        assert_eq!(reused.revoked_at, Some(reuse_at));
        let stored = store
            .session_by_id(&created.id)
            .await
            .expect("read")
            .expect("session");
        assert_eq!(
            stored.revoked_at,
            Some(reuse_at),
            "the whole session is revoked"
        );

        let outcome = store
            .rotate_refresh_token("hash-3", "hash-4", reuse_at + seconds(1), expires)
            .await
            .expect("rotate");
        assert_eq!(
            outcome,
            RefreshOutcome::Invalid,
            "even the newest token is dead now"
        );
    }
);

contract_test!(unknown_or_expired_tokens_are_invalid, |store| async move {
    let amy = user(&store, "amy").await;
    let created = session(&store, &amy, "hash-1").await;
    let outcome = store
        .rotate_refresh_token("no-such-hash", "next", now(), now() + seconds(60))
        .await
        .expect("rotate");
    assert_eq!(outcome, RefreshOutcome::Invalid);

    let after_expiry = created.expires_at + seconds(1);
    let outcome = store
        .rotate_refresh_token("hash-1", "next", after_expiry, after_expiry + seconds(60))
        .await
        .expect("rotate");
    assert_eq!(outcome, RefreshOutcome::Invalid);
});

contract_test!(
    of_ten_concurrent_refreshes_with_one_token_one_rotates,
    |store| async move {
        let amy = user(&store, "amy").await;
        session(&store, &amy, "hash-1").await;
        let at = now();
        let attempts = (0..10).map(|i| {
            let store = store.clone();
            async move {
                store
                    .rotate_refresh_token("hash-1", &format!("next-{i}"), at, at + seconds(60))
                    .await
                    .expect("rotate")
            }
        });
        let outcomes = join_all(attempts).await;
        let rotated = outcomes
            .iter()
            .filter(|outcome| matches!(outcome, RefreshOutcome::Rotated(_)))
            .count();
        assert_eq!(rotated, 1, "{outcomes:?}");
    }
);

contract_test!(
    revoking_sessions_and_counting_active_ones,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let first = session(&store, &amy, "a-1").await;
        session(&store, &amy, "a-2").await;
        session(&store, &amy, "a-3").await;
        let beas = session(&store, &bea, "b-1").await;
        let at = now();
        assert_eq!(store.count_active_sessions(at).await.expect("count"), 4);
        assert_eq!(
            store
                .count_active_sessions(first.expires_at + seconds(1))
                .await
                .expect("count"),
            0,
            "expired sessions are not active"
        );

        assert!(store.revoke_session(&first.id, at).await.expect("revoke"));
        assert!(
            !store.revoke_session(&first.id, at).await.expect("revoke"),
            "already revoked"
        );
        assert!(
            !store.revoke_session(&id(), at).await.expect("revoke"),
            "unknown"
        );
        let revoked = store
            .session_by_id(&first.id)
            .await
            .expect("read")
            .expect("session");
        assert_eq!(revoked.revoked_at, Some(at));
        assert!(!revoked.is_active(at));
        assert_eq!(store.count_active_sessions(at).await.expect("count"), 3);

        assert_eq!(
            store
                .revoke_user_sessions(&amy.id, at)
                .await
                .expect("revoke"),
            2
        );
        assert_eq!(
            store
                .revoke_user_sessions(&amy.id, at)
                .await
                .expect("revoke"),
            0
        );
        assert_eq!(store.count_active_sessions(at).await.expect("count"), 1);
        let untouched = store
            .session_by_id(&beas.id)
            .await
            .expect("read")
            .expect("session");
        assert_eq!(untouched.revoked_at, None, "another user's session stays");
    }
);
