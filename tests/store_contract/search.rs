//! `MessageStore::search_messages`: plain words, all required, the last as
//! a prefix, over live messages of the searcher's conversations.

use crate::contract_test;
use crate::fixtures::*;

async fn bodies(
    store: &Db,
    user: &UserRecord,
    query: &str,
    conversation: Option<&str>,
) -> Vec<String> {
    let mut found: Vec<String> = store
        .search_messages(&user.id, query, conversation, 20)
        .await
        .expect("search")
        .into_iter()
        .map(|message| message.body)
        .collect();
    found.sort();
    found
}

contract_test!(
    search_matches_whole_words_and_the_last_as_a_prefix,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let chat = direct(&store, &amy, &bea).await;
        for body in [
            "hello world",
            "Hello there",
            "say hello to the world",
            "worldwide news",
            "shell game",
        ] {
            send(&store, &chat.id, &bea, body).await;
        }
        assert_eq!(
            bodies(&store, &amy, "hello", None).await,
            vec!["Hello there", "hello world", "say hello to the world"],
            "case-insensitive word match; `shell` is not `hello`"
        );
        assert_eq!(
            bodies(&store, &amy, "hello wor", None).await,
            vec!["hello world", "say hello to the world"],
            "every word must match, the last one as a prefix"
        );
        assert_eq!(
            bodies(&store, &amy, "world", None).await,
            vec!["hello world", "say hello to the world", "worldwide news"]
        );
        assert_eq!(
            bodies(&store, &amy, "ell", None).await,
            Vec::<String>::new(),
            "only the start of a word"
        );
        assert!(
            bodies(&store, &amy, "   ", None).await.is_empty(),
            "no words, no results"
        );
        assert!(
            bodies(&store, &amy, "hello OR \"unbalanced", None)
                .await
                .is_empty(),
            "operators are literal text"
        );
        let limited = store
            .search_messages(&amy.id, "hello", None, 2)
            .await
            .expect("search");
        assert_eq!(limited.len(), 2);
    }
);

contract_test!(
    search_skips_deleted_messages_and_finds_edits,
    |store| async move {
        let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
        let chat = direct(&store, &amy, &bea).await;
        let gone = send(&store, &chat.id, &bea, "secret plan").await;
        let changed = send(&store, &chat.id, &bea, "draft text").await;
        store.delete_message(&gone.id, now()).await.expect("delete");
        store
            .edit_message(&changed.id, "final wording", now())
            .await
            .expect("edit");
        assert!(bodies(&store, &amy, "secret", None).await.is_empty());
        assert!(
            bodies(&store, &amy, "draft", None).await.is_empty(),
            "the old text is gone from the index"
        );
        assert_eq!(
            bodies(&store, &amy, "final", None).await,
            vec!["final wording"]
        );
    }
);

contract_test!(
    search_covers_only_the_searchers_conversations,
    |store| async move {
        let (amy, bea, cat) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
        );
        let with_bea = direct(&store, &amy, &bea).await;
        let with_cat = direct(&store, &amy, &cat).await;
        let bea_cat = direct(&store, &bea, &cat).await;
        send(&store, &with_bea.id, &bea, "pizza tonight").await;
        send(&store, &with_cat.id, &cat, "pizza tomorrow").await;
        send(&store, &bea_cat.id, &cat, "pizza without amy").await;

        assert_eq!(
            bodies(&store, &amy, "pizza", None).await,
            vec!["pizza tomorrow", "pizza tonight"]
        );
        assert_eq!(
            bodies(&store, &amy, "pizza", Some(&with_cat.id)).await,
            vec!["pizza tomorrow"]
        );
        assert!(
            bodies(&store, &amy, "pizza", Some(&bea_cat.id))
                .await
                .is_empty(),
            "naming a conversation one is not in finds nothing"
        );
        let trip = group(&store, "trip", &cat, &[&amy]).await;
        send(&store, &trip.id, &cat, "pizza in the group").await;
        store.leave_group(&trip.id, &amy.id).await.expect("leave");
        assert_eq!(
            bodies(&store, &amy, "pizza", None).await.len(),
            2,
            "after leaving, the group is not searched"
        );
    }
);
