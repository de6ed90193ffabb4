//! `MessageStore`: messages, reactions and the gap-free event log.

use futures_util::future::join_all;

use crate::contract_test;
use crate::fixtures::*;

contract_test!(
    a_message_takes_the_next_seq_with_a_created_event,
    |store| async move {
        let (amy, _bea, chat) = chat(&store).await;
        let mut new = new_message(&chat, &amy.id, "hello");
        new.client_id = Some("c-1".into());
        let change = store.create_message(new.clone()).await.expect("stored");
        let message = change.message;
        assert_eq!(
            (message.id.as_str(), message.seq, message.body.as_str()),
            (new.id.as_str(), 1, "hello")
        );
        assert_eq!(message.author_id, amy.id);
        assert_eq!(message.client_id.as_deref(), Some("c-1"));
        assert_eq!(message.created_at, new.created_at);
        assert_eq!((message.edited_at, message.deleted), (None, false));
        let event = change.event.expect("a CREATED event");
        assert_eq!((event.seq, event.kind), (1, MessageEventKind::Created));
        assert_eq!(
            (event.message_id.as_str(), event.conversation_id.as_str()),
            (new.id.as_str(), chat.as_str())
        );
        assert_eq!(event.created_at, new.created_at);
        assert_eq!(
            store.message_by_id(&new.id).await.expect("read"),
            Some(message.clone())
        );
        assert_eq!(store.message_by_id(&id()).await.expect("read"), None);
        let conversation = store
            .conversation_by_id(&chat)
            .await
            .expect("read")
            .expect("chat");
        assert_eq!(conversation.last_seq, 1);

        let reply = NewMessage {
            reply_to_id: Some(message.id.clone()),
            ..new_message(&chat, &amy.id, "again")
        };
        let second = store.create_message(reply).await.expect("stored").message;
        assert_eq!(second.seq, 2);
        assert_eq!(second.reply_to_id.as_deref(), Some(message.id.as_str()));
    }
);

contract_test!(
    twenty_concurrent_sends_get_seqs_one_to_twenty,
    |store| async move {
        let (amy, bea, chat) = chat(&store).await;
        let sends = (0..20).map(|i| {
            let author = if i % 2 == 0 {
                amy.id.clone()
            } else {
                bea.id.clone()
            };
            let (store, new) = (
                store.clone(),
                new_message(&chat, &author, &format!("message {i}")),
            );
            async move { store.create_message(new).await.expect("stored") }
        });
        let mut seqs: Vec<i64> = join_all(sends)
            .await
            .iter()
            .map(|change| change.message.seq)
            .collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=20).collect::<Vec<i64>>());
        assert_eq!(
            logged_seqs(&store, &chat).await,
            (1..=20).collect::<Vec<i64>>(),
            "the log has no gap"
        );
        let conversation = store
            .conversation_by_id(&chat)
            .await
            .expect("read")
            .expect("chat");
        assert_eq!(conversation.last_seq, 20);
    }
);

contract_test!(
    a_retry_with_the_same_client_id_returns_the_first_message,
    |store| async move {
        let (amy, bea, chat) = chat(&store).await;
        let first = NewMessage {
            client_id: Some("retry".into()),
            ..new_message(&chat, &amy.id, "once")
        };
        let stored = store.create_message(first).await.expect("stored");
        let retry = NewMessage {
            client_id: Some("retry".into()),
            ..new_message(&chat, &amy.id, "once")
        };
        let again = store.create_message(retry).await.expect("stored");
        assert_eq!(again.message, stored.message);
        assert_eq!(again.event, None, "a retry produces no event");
        let other_author = NewMessage {
            client_id: Some("retry".into()),
            ..new_message(&chat, &bea.id, "mine")
        };
        let theirs = store.create_message(other_author).await.expect("stored");
        assert_ne!(
            theirs.message.id, stored.message.id,
            "client ids are per author"
        );
        assert_eq!(logged_seqs(&store, &chat).await, vec![1, 2]);
    }
);

contract_test!(
    concurrent_retries_with_one_client_id_store_one_message,
    |store| async move {
        let (amy, _bea, chat) = chat(&store).await;
        let retries = (0..10).map(|_| {
            let new = NewMessage {
                client_id: Some("same".into()),
                ..new_message(&chat, &amy.id, "once")
            };
            let store = store.clone();
            async move { store.create_message(new).await.expect("stored") }
        });
        let changes = join_all(retries).await;
        let mut ids: Vec<&str> = changes
            .iter()
            .map(|change| change.message.id.as_str())
            .collect();
        ids.dedup();
        assert_eq!(ids.len(), 1, "{ids:?}");
        assert_eq!(
            changes
                .iter()
                .filter(|change| change.event.is_some())
                .count(),
            1
        );
        assert_eq!(logged_seqs(&store, &chat).await, vec![1]);
        assert_eq!(
            store
                .messages_before(&chat, None, 50)
                .await
                .expect("read")
                .len(),
            1
        );
    }
);

contract_test!(messages_by_ids_skips_unknown_ids, |store| async move {
    let (amy, _bea, chat) = chat(&store).await;
    let (one, two) = (
        send(&store, &chat, &amy, "one").await,
        send(&store, &chat, &amy, "two").await,
    );
    let found = store
        .messages_by_ids(&[two.id.clone(), id(), one.id.clone()])
        .await
        .expect("read");
    assert_eq!(
        sorted(found.into_iter().map(|m| m.id).collect()),
        sorted(vec![one.id, two.id])
    );
});

contract_test!(
    history_pages_backwards_oldest_first_within_a_page,
    |store| async move {
        let (amy, bea, chat) = chat(&store).await;
        for i in 1..=7 {
            send(&store, &chat, &amy, &format!("m{i}")).await;
        }
        let elsewhere = group(&store, "elsewhere", &bea, &[]).await;
        send(&store, &elsewhere.id, &bea, "not here").await;
        let seqs = |page: Vec<MessageRecord>| page.into_iter().map(|m| m.seq).collect::<Vec<_>>();
        assert_eq!(
            seqs(store.messages_before(&chat, None, 3).await.expect("page")),
            vec![5, 6, 7]
        );
        assert_eq!(
            seqs(
                store
                    .messages_before(&chat, Some(5), 3)
                    .await
                    .expect("page")
            ),
            vec![2, 3, 4]
        );
        assert_eq!(
            seqs(
                store
                    .messages_before(&chat, Some(2), 3)
                    .await
                    .expect("page")
            ),
            vec![1]
        );
        assert!(
            store
                .messages_before(&chat, Some(1), 3)
                .await
                .expect("page")
                .is_empty()
        );
        assert_eq!(
            store
                .messages_before(&chat, None, 50)
                .await
                .expect("page")
                .len(),
            7
        );
    }
);

contract_test!(events_page_forward_after_a_seq, |store| async move {
    let (amy, _bea, chat) = chat(&store).await;
    for i in 1..=5 {
        send(&store, &chat, &amy, &format!("m{i}")).await;
    }
    let seqs = |after: i64, limit: usize| {
        let (store, chat) = (store.clone(), chat.clone());
        async move {
            store
                .events_after(&chat, after, limit)
                .await
                .expect("events")
                .into_iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(seqs(0, 2).await, vec![1, 2]);
    assert_eq!(seqs(2, 2).await, vec![3, 4]);
    assert_eq!(seqs(4, 2).await, vec![5]);
    assert!(seqs(5, 2).await.is_empty());
    assert_eq!(seqs(1, 100).await, vec![2, 3, 4, 5]);
});
