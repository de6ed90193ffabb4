//! `ConversationStore`: direct conversations, groups, members, read
//! markers and unread counts.

use futures_util::future::join_all;
use realtalk::store::ConversationCursor;

use crate::contract_test;
use crate::fixtures::*;

contract_test!(a_pair_has_one_direct_conversation, |store| async move {
    let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
    let first_id = id();
    let at = now();
    let opened = store
        .open_direct_conversation(&first_id, &amy.id, &bea.id, at)
        .await
        .expect("opened");
    assert_eq!(opened.id, first_id);
    assert_eq!(opened.kind, ConversationKind::Direct);
    assert_eq!(opened.last_seq, 0);
    assert_eq!(opened.created_at, at);
    assert_eq!(opened.last_message_id, None);
    let again = store
        .open_direct_conversation(&id(), &bea.id, &amy.id, now())
        .await
        .expect("opened");
    assert_eq!(again, opened, "either way round, the same conversation");
    assert_eq!(store.member_count(&opened.id).await.expect("count"), 2);
    for member in [&amy, &bea] {
        let record = store
            .member(&opened.id, &member.id)
            .await
            .expect("read")
            .expect("member");
        assert_eq!(record.last_read_seq, 0);
    }
    assert_eq!(
        store.conversation_by_id(&opened.id).await.expect("read"),
        Some(opened)
    );
});

contract_test!(
    ten_concurrent_opens_make_one_direct_conversation,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let opens = (0..10).map(|i| {
            let (a, b) = if i % 2 == 0 {
                (&amy, &bea)
            } else {
                (&bea, &amy)
            };
            let (store, a, b) = (store.clone(), a.id.clone(), b.id.clone());
            async move {
                store
                    .open_direct_conversation(&id(), &a, &b, now())
                    .await
                    .expect("opened")
            }
        });
        let mut ids: Vec<String> = join_all(opens).await.into_iter().map(|c| c.id).collect();
        ids.dedup();
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(store.member_count(&ids[0]).await.expect("count"), 2);
        let listed = store
            .conversations_of_user(&amy.id, None, 50)
            .await
            .expect("list");
        assert_eq!(listed.len(), 1);
    }
);

contract_test!(
    a_group_is_stored_with_its_members_in_join_order,
    |store| async move {
        let (amy, bea, cat) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
        );
        let created = group(&store, "Trip", &amy, &[&bea]).await;
        assert_eq!(created.kind, ConversationKind::Group);
        let read = store.conversation_by_id(&created.id).await.expect("read");
        assert_eq!(read, Some(created.clone()));
        let added = store
            .add_members(
                &created.id,
                std::slice::from_ref(&cat.id),
                10,
                now() + seconds(1),
            )
            .await
            .expect("added");
        assert_eq!(added, vec![cat.id.clone()]);
        let members = store
            .members_of(std::slice::from_ref(&created.id))
            .await
            .expect("read");
        let order: Vec<(&str, MemberRole)> = members
            .iter()
            .map(|m| (m.user_id.as_str(), m.role))
            .collect();
        assert_eq!(
            order,
            vec![
                (amy.id.as_str(), MemberRole::Owner),
                (bea.id.as_str(), MemberRole::Member),
                (cat.id.as_str(), MemberRole::Member)
            ],
            "longest-standing first"
        );
        assert_eq!(store.member_count(&created.id).await.expect("count"), 3);
        assert_eq!(store.member(&created.id, &id()).await.expect("read"), None);
    }
);

contract_test!(conversations_by_ids_skips_unknown_ids, |store| async move {
    let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
    let one = group(&store, "one", &amy, &[]).await;
    let two = direct(&store, &amy, &bea).await;
    let found = store
        .conversations_by_ids(&[two.id.clone(), id(), one.id.clone()])
        .await
        .expect("read");
    assert_eq!(
        sorted(found.into_iter().map(|c| c.id).collect()),
        sorted(vec![one.id, two.id])
    );
});

contract_test!(
    a_users_conversations_page_by_last_activity,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let base = now() - seconds(100);
        let mut groups = Vec::new();
        for i in 0..5 {
            groups.push(group_at(&store, &format!("g{i}"), &amy, &[], base + seconds(i)).await);
        }
        group_at(&store, "not amy's", &bea, &[], base + seconds(50)).await;
        // A message moves the oldest group to the top.
        let message = send(&store, &groups[0].id, &amy, "bump").await;
        let bumped = store
            .conversation_by_id(&groups[0].id)
            .await
            .expect("read")
            .expect("group");
        assert_eq!(bumped.last_activity_at, message.created_at);
        assert_eq!(bumped.last_message_id.as_deref(), Some(message.id.as_str()));

        let expected: Vec<String> = [0, 4, 3, 2, 1]
            .iter()
            .map(|&i| groups[i].id.clone())
            .collect();
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let page = store
                .conversations_of_user(&amy.id, after.clone(), 2)
                .await
                .expect("list");
            assert!(page.len() <= 2);
            let Some(last) = page.last() else { break };
            after = Some(ConversationCursor {
                last_activity_at: last.last_activity_at,
                id: last.id.clone(),
            });
            seen.extend(page.into_iter().map(|c| c.id));
        }
        assert_eq!(seen, expected);
    }
);

contract_test!(
    peers_are_everyone_sharing_a_conversation,
    |store| async move {
        let (amy, bea, cat, dan) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
            user(&store, "dan").await,
        );
        direct(&store, &amy, &bea).await;
        group(&store, "g", &amy, &[&bea, &cat]).await;
        group(&store, "other", &dan, &[]).await;
        assert_eq!(
            sorted(store.peer_ids(&amy.id).await.expect("peers")),
            sorted(vec![bea.id.clone(), cat.id.clone()])
        );
        assert!(store.peer_ids(&dan.id).await.expect("peers").is_empty());
    }
);

contract_test!(
    unread_counts_are_others_messages_after_the_read_marker,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let chat = direct(&store, &amy, &bea).await;
        let quiet = group(&store, "quiet", &amy, &[&bea]).await;
        send(&store, &chat.id, &bea, "one").await;
        send(&store, &chat.id, &amy, "mine").await;
        let second = send(&store, &chat.id, &bea, "two").await;
        let third = send(&store, &chat.id, &bea, "three").await;
        store
            .delete_message(&third.id, now())
            .await
            .expect("deleted");

        let ids = vec![chat.id.clone(), quiet.id.clone()];
        let counts = store.unread_counts(&amy.id, &ids).await.expect("counts");
        assert_eq!(
            counts.get(&chat.id).copied().unwrap_or(0),
            2,
            "own and deleted messages do not count"
        );
        assert_eq!(counts.get(&quiet.id).copied().unwrap_or(0), 0);
        let bea_counts = store.unread_counts(&bea.id, &ids).await.expect("counts");
        assert_eq!(bea_counts.get(&chat.id).copied().unwrap_or(0), 1);

        store
            .mark_read(&chat.id, &amy.id, second.seq - 1)
            .await
            .expect("marked");
        let counts = store.unread_counts(&amy.id, &ids).await.expect("counts");
        assert_eq!(counts.get(&chat.id).copied().unwrap_or(0), 1);
        store
            .mark_read(&chat.id, &amy.id, second.seq)
            .await
            .expect("marked");
        let counts = store.unread_counts(&amy.id, &ids).await.expect("counts");
        assert_eq!(counts.get(&chat.id).copied().unwrap_or(0), 0);
    }
);

contract_test!(
    read_markers_move_forward_only_and_stop_at_the_last_seq,
    |store| async move {
        let (amy, bea, cat) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
        );
        let chat = direct(&store, &amy, &bea).await;
        for body in ["a", "b", "c"] {
            send(&store, &chat.id, &bea, body).await;
        }
        let marked = store
            .mark_read(&chat.id, &amy.id, 2)
            .await
            .expect("mark")
            .expect("member");
        assert_eq!(marked.last_read_seq, 2);
        let back = store
            .mark_read(&chat.id, &amy.id, 1)
            .await
            .expect("mark")
            .expect("member");
        assert_eq!(back.last_read_seq, 2, "never backward");
        let beyond = store
            .mark_read(&chat.id, &amy.id, 99)
            .await
            .expect("mark")
            .expect("member");
        assert_eq!(beyond.last_read_seq, 3, "clamped to the last seq");
        assert_eq!(
            store.member(&chat.id, &amy.id).await.expect("read"),
            Some(beyond)
        );
        assert_eq!(
            store.mark_read(&chat.id, &cat.id, 1).await.expect("mark"),
            None,
            "not a member"
        );
    }
);
