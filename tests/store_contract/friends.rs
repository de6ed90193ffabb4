//! `FriendStore`: requests and their outcomes, friendships and blocks.

use futures_util::future::join_all;

use crate::contract_test;
use crate::fixtures::*;

fn request(
    from: &UserRecord,
    to: &UserRecord,
    created_at: chrono::DateTime<chrono::Utc>,
) -> FriendRequestRecord {
    FriendRequestRecord {
        id: id(),
        from_user_id: from.id.clone(),
        to_user_id: to.id.clone(),
        status: FriendRequestStatus::Pending,
        created_at,
        responded_at: None,
    }
}

async fn ask(store: &Db, from: &UserRecord, to: &UserRecord) -> FriendRequestRecord {
    store
        .create_friend_request(request(from, to, now()))
        .await
        .expect("request is stored")
}

/// How `viewer` stands to `other`; no entry means `Relationship::None`.
async fn relation(store: &Db, viewer: &UserRecord, other: &UserRecord) -> Relationship {
    store
        .relationships(&viewer.id, std::slice::from_ref(&other.id))
        .await
        .expect("relationships")
        .get(&other.id)
        .copied()
        .unwrap_or(Relationship::None)
}

contract_test!(
    a_pending_request_is_found_from_both_sides,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let sent = ask(&store, &amy, &bea).await;
        assert_eq!(sent.status, FriendRequestStatus::Pending);
        assert_eq!(
            store.friend_request_by_id(&sent.id).await.expect("read"),
            Some(sent.clone())
        );
        assert_eq!(store.friend_request_by_id(&id()).await.expect("read"), None);
        for (a, b) in [(&amy, &bea), (&bea, &amy)] {
            let between = store
                .pending_request_between(&a.id, &b.id)
                .await
                .expect("read");
            assert_eq!(between, Some(sent.clone()));
        }
        assert_eq!(
            relation(&store, &amy, &bea).await,
            Relationship::RequestSent
        );
        assert_eq!(
            relation(&store, &bea, &amy).await,
            Relationship::RequestReceived
        );
    }
);

contract_test!(
    only_one_pending_request_per_pair_in_either_direction,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        ask(&store, &amy, &bea).await;
        let again = store
            .create_friend_request(request(&amy, &bea, now()))
            .await;
        assert_eq!(error_kind(again), ErrorKind::Conflict);
        let reverse = store
            .create_friend_request(request(&bea, &amy, now()))
            .await;
        assert_eq!(error_kind(reverse), ErrorKind::Conflict);
    }
);

contract_test!(
    of_crossing_requests_sent_at_once_one_wins,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let attempts = (0..10).map(|i| {
            let (from, to) = if i % 2 == 0 {
                (&amy, &bea)
            } else {
                (&bea, &amy)
            };
            let (store, record) = (store.clone(), request(from, to, now()));
            async move { store.create_friend_request(record).await }
        });
        let results = join_all(attempts).await;
        assert_eq!(results.iter().filter(|result| result.is_ok()).count(), 1);
        for result in results.into_iter().filter(Result::is_err) {
            assert_eq!(error_kind(result), ErrorKind::Conflict);
        }
    }
);

contract_test!(
    pending_requests_are_listed_newest_first,
    |store| async move {
        let amy = user(&store, "amy").await;
        let (bea, cat, dan) = (
            user(&store, "bea").await,
            user(&store, "cat").await,
            user(&store, "dan").await,
        );
        let base = now();
        let from_bea = store
            .create_friend_request(request(&bea, &amy, base))
            .await
            .expect("sent");
        let from_cat = store
            .create_friend_request(request(&cat, &amy, base + seconds(1)))
            .await
            .expect("sent");
        let to_dan = store
            .create_friend_request(request(&amy, &dan, base))
            .await
            .expect("sent");

        let incoming = store.pending_requests(&amy.id, true).await.expect("read");
        assert_eq!(incoming, vec![from_cat.clone(), from_bea]);
        let outgoing = store.pending_requests(&amy.id, false).await.expect("read");
        assert_eq!(outgoing, vec![to_dan]);

        store
            .resolve_friend_request(&from_cat.id, FriendRequestStatus::Declined, now())
            .await
            .expect("declined");
        let incoming = store.pending_requests(&amy.id, true).await.expect("read");
        assert_eq!(incoming.len(), 1, "a resolved request is no longer pending");
    }
);

contract_test!(accepting_makes_friends_once, |store| async move {
    let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
    let sent = ask(&store, &amy, &bea).await;
    let at = now();
    let accepted = store
        .resolve_friend_request(&sent.id, FriendRequestStatus::Accepted, at)
        .await
        .expect("resolve")
        .expect("it was pending");
    assert_eq!(accepted.status, FriendRequestStatus::Accepted);
    assert_eq!(accepted.responded_at, Some(at));
    assert!(store.are_friends(&amy.id, &bea.id).await.expect("read"));
    assert!(store.are_friends(&bea.id, &amy.id).await.expect("read"));
    assert_eq!(
        store.friend_ids(&amy.id).await.expect("read"),
        vec![bea.id.clone()]
    );
    assert_eq!(
        store.friend_ids(&bea.id).await.expect("read"),
        vec![amy.id.clone()]
    );
    assert_eq!(relation(&store, &amy, &bea).await, Relationship::Friends);
    assert_eq!(relation(&store, &bea, &amy).await, Relationship::Friends);
    assert_eq!(
        store
            .pending_request_between(&amy.id, &bea.id)
            .await
            .expect("read"),
        None
    );

    let again = store
        .resolve_friend_request(&sent.id, FriendRequestStatus::Declined, now())
        .await
        .expect("resolve");
    assert_eq!(again, None, "a request is resolved once");
    let stored = store
        .friend_request_by_id(&sent.id)
        .await
        .expect("read")
        .expect("request");
    assert_eq!(stored.status, FriendRequestStatus::Accepted);
});

contract_test!(
    declined_and_cancelled_requests_make_no_friends,
    |store| async move {
        let (amy, bea, cat) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
        );
        for (to, status) in [
            (&bea, FriendRequestStatus::Declined),
            (&cat, FriendRequestStatus::Cancelled),
        ] {
            let sent = ask(&store, &amy, to).await;
            let resolved = store
                .resolve_friend_request(&sent.id, status, now())
                .await
                .expect("resolve")
                .expect("it was pending");
            assert_eq!(resolved.status, status);
            assert!(resolved.responded_at.is_some());
            assert!(!store.are_friends(&amy.id, &to.id).await.expect("read"));
            assert_eq!(relation(&store, &amy, to).await, Relationship::None);
            // Once resolved, the pair may ask again.
            ask(&store, to, &amy).await;
        }
        assert!(store.friend_ids(&amy.id).await.expect("read").is_empty());
    }
);

contract_test!(a_friendship_can_end, |store| async move {
    let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
    let sent = ask(&store, &amy, &bea).await;
    store
        .resolve_friend_request(&sent.id, FriendRequestStatus::Accepted, now())
        .await
        .expect("accepted");
    assert!(
        store
            .remove_friendship(&bea.id, &amy.id)
            .await
            .expect("remove")
    );
    assert!(
        !store
            .remove_friendship(&amy.id, &bea.id)
            .await
            .expect("remove"),
        "already gone"
    );
    assert!(!store.are_friends(&amy.id, &bea.id).await.expect("read"));
    assert!(store.friend_ids(&bea.id).await.expect("read").is_empty());
});

contract_test!(
    blocking_ends_friendship_and_requests_and_is_one_way,
    |store| async move {
        let (amy, bea, cat) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
        );
        let sent = ask(&store, &amy, &bea).await;
        store
            .resolve_friend_request(&sent.id, FriendRequestStatus::Accepted, now())
            .await
            .expect("accepted");
        let pending = ask(&store, &cat, &amy).await;

        store
            .block_user(&amy.id, &bea.id, now())
            .await
            .expect("block");
        store
            .block_user(&amy.id, &bea.id, now())
            .await
            .expect("blocking twice is fine");
        store
            .block_user(&amy.id, &cat.id, now())
            .await
            .expect("block");
        assert!(!store.are_friends(&amy.id, &bea.id).await.expect("read"));
        let cancelled = store
            .friend_request_by_id(&pending.id)
            .await
            .expect("read")
            .expect("request");
        assert_eq!(cancelled.status, FriendRequestStatus::Cancelled);
        assert!(cancelled.responded_at.is_some());

        assert!(store.is_blocked(&amy.id, &bea.id).await.expect("read"));
        assert!(!store.is_blocked(&bea.id, &amy.id).await.expect("read"));
        assert_eq!(relation(&store, &amy, &bea).await, Relationship::Blocked);
        assert_eq!(
            relation(&store, &bea, &amy).await,
            Relationship::None,
            "being blocked is never shown"
        );

        assert!(store.unblock_user(&amy.id, &bea.id).await.expect("unblock"));
        assert!(
            !store.unblock_user(&amy.id, &bea.id).await.expect("unblock"),
            "no block left"
        );
        assert!(!store.is_blocked(&amy.id, &bea.id).await.expect("read"));
        assert_eq!(relation(&store, &amy, &bea).await, Relationship::None);
    }
);

contract_test!(relationships_cover_many_users_at_once, |store| async move {
    let amy = user(&store, "amy").await;
    let (friend, asked, asking, blocked, stranger) = (
        user(&store, "friend").await,
        user(&store, "asked").await,
        user(&store, "asking").await,
        user(&store, "blocked").await,
        user(&store, "stranger").await,
    );
    let sent = ask(&store, &amy, &friend).await;
    store
        .resolve_friend_request(&sent.id, FriendRequestStatus::Accepted, now())
        .await
        .expect("accepted");
    ask(&store, &amy, &asked).await;
    ask(&store, &asking, &amy).await;
    store
        .block_user(&amy.id, &blocked.id, now())
        .await
        .expect("block");

    let others: Vec<String> = [&friend, &asked, &asking, &blocked, &stranger]
        .iter()
        .map(|user| user.id.clone())
        .collect();
    let map = store
        .relationships(&amy.id, &others)
        .await
        .expect("relationships");
    let of = |user: &UserRecord| map.get(&user.id).copied().unwrap_or(Relationship::None);
    assert_eq!(of(&friend), Relationship::Friends);
    assert_eq!(of(&asked), Relationship::RequestSent);
    assert_eq!(of(&asking), Relationship::RequestReceived);
    assert_eq!(of(&blocked), Relationship::Blocked);
    assert_eq!(of(&stranger), Relationship::None);
});
