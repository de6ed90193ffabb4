//! `MessageStore`, changes after sending: edits, reactions and deletes,
//! each with the next seq of the event log.

use crate::contract_test;
use crate::fixtures::*;

contract_test!(every_change_takes_the_next_seq, |store| async move {
    let (amy, bea, chat) = chat(&store).await;
    let first = send(&store, &chat, &amy, "first").await;
    let at = now();
    let edited = store
        .edit_message(&first.id, "first, edited", at)
        .await
        .expect("edit")
        .expect("message");
    assert_eq!(edited.message.body, "first, edited");
    assert_eq!(edited.message.edited_at, Some(at));
    assert_eq!(
        edited.message.seq, 1,
        "a message keeps the seq of its CREATED event"
    );
    let reacted = store
        .add_reaction(&first.id, &bea.id, "👍", 20, now())
        .await
        .expect("react")
        .expect("message");
    let second = send(&store, &chat, &bea, "second").await;
    let unreacted = store
        .remove_reaction(&first.id, &bea.id, "👍", now())
        .await
        .expect("unreact")
        .expect("message");
    let deleted = store
        .delete_message(&first.id, now())
        .await
        .expect("delete")
        .expect("message");

    let kinds: Vec<(i64, MessageEventKind, String)> = store
        .events_after(&chat, 0, 100)
        .await
        .expect("events")
        .into_iter()
        .map(|event| (event.seq, event.kind, event.message_id))
        .collect();
    assert_eq!(
        kinds,
        vec![
            (1, MessageEventKind::Created, first.id.clone()),
            (2, MessageEventKind::Edited, first.id.clone()),
            (3, MessageEventKind::ReactionsChanged, first.id.clone()),
            (4, MessageEventKind::Created, second.id.clone()),
            (5, MessageEventKind::ReactionsChanged, first.id.clone()),
            (6, MessageEventKind::Deleted, first.id.clone()),
        ]
    );
    let returned: Vec<i64> = [&edited, &reacted, &unreacted, &deleted]
        .iter()
        .map(|change| change.event.as_ref().expect("an event").seq)
        .collect();
    assert_eq!(
        returned,
        vec![2, 3, 5, 6],
        "each change returns the event it produced"
    );
    assert_eq!(
        store
            .conversation_by_id(&chat)
            .await
            .expect("read")
            .expect("chat")
            .last_seq,
        6
    );
    assert_eq!(
        store.edit_message(&id(), "x", now()).await.expect("edit"),
        None
    );
});

contract_test!(
    reactions_are_per_user_and_emoji_and_limited_in_variety,
    |store| async move {
        let (amy, bea, chat) = chat(&store).await;
        let message = send(&store, &chat, &amy, "react to me").await;
        let first = store
            .add_reaction(&message.id, &bea.id, "👍", 2, now())
            .await
            .expect("react")
            .expect("message");
        assert!(first.event.is_some());
        let twice = store
            .add_reaction(&message.id, &bea.id, "👍", 2, now())
            .await
            .expect("react")
            .expect("message");
        assert_eq!(twice.event, None, "already there: no event");
        store
            .add_reaction(&message.id, &amy.id, "🎉", 2, now() + seconds(1))
            .await
            .expect("react");
        let third_kind = store
            .add_reaction(&message.id, &amy.id, "🔥", 2, now())
            .await;
        assert_eq!(error_kind(third_kind), ErrorKind::BadUserInput);
        let same_kind = store
            .add_reaction(&message.id, &amy.id, "👍", 2, now() + seconds(2))
            .await
            .expect("react");
        assert!(
            same_kind.expect("message").event.is_some(),
            "an emoji already present is always allowed"
        );

        let reactions = store
            .reactions_for(std::slice::from_ref(&message.id))
            .await
            .expect("read");
        let listed: Vec<(&str, &str)> = reactions
            .iter()
            .map(|r| (r.emoji.as_str(), r.user_id.as_str()))
            .collect();
        assert_eq!(
            listed,
            vec![
                ("👍", bea.id.as_str()),
                ("🎉", amy.id.as_str()),
                ("👍", amy.id.as_str())
            ],
            "oldest first"
        );

        let gone = store
            .remove_reaction(&message.id, &bea.id, "👍", now())
            .await
            .expect("unreact")
            .expect("message");
        assert!(gone.event.is_some());
        let not_there = store
            .remove_reaction(&message.id, &bea.id, "👍", now())
            .await
            .expect("unreact")
            .expect("message");
        assert_eq!(not_there.event, None, "not there: no event");
        assert_eq!(
            store
                .reactions_for(std::slice::from_ref(&message.id))
                .await
                .expect("read")
                .len(),
            2
        );
        assert_eq!(logged_seqs(&store, &chat).await, vec![1, 2, 3, 4, 5]);
        assert_eq!(
            store
                .add_reaction(&id(), &amy.id, "👍", 2, now())
                .await
                .expect("react"),
            None
        );
    }
);

contract_test!(
    a_deleted_message_is_a_tombstone_with_its_seq,
    |store| async move {
        let (amy, bea, chat) = chat(&store).await;
        let message = send(&store, &chat, &amy, "regret").await;
        store
            .add_reaction(&message.id, &bea.id, "😮", 20, now())
            .await
            .expect("react");
        let deleted = store
            .delete_message(&message.id, now())
            .await
            .expect("delete")
            .expect("message");
        assert!(deleted.message.deleted);
        assert_eq!(deleted.message.body, "");
        assert_eq!(deleted.message.seq, message.seq);
        assert_eq!(
            deleted.event.as_ref().map(|e| e.kind),
            Some(MessageEventKind::Deleted)
        );
        assert!(
            store
                .reactions_for(std::slice::from_ref(&message.id))
                .await
                .expect("read")
                .is_empty()
        );
        let again = store
            .delete_message(&message.id, now())
            .await
            .expect("delete")
            .expect("message");
        assert_eq!(again.event, None, "already a tombstone: no event");
        let stored = store
            .message_by_id(&message.id)
            .await
            .expect("read")
            .expect("message");
        assert_eq!(stored, deleted.message);
        assert_eq!(
            store.delete_message(&id(), now()).await.expect("delete"),
            None
        );
    }
);
