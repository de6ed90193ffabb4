//! `UserStore`: accounts, their unique names, lookups and profile changes.

use futures_util::future::join_all;

use crate::contract_test;
use crate::fixtures::*;

contract_test!(a_created_user_reads_back_as_stored, |store| async move {
    let new = new_user("amy");
    let created = store.create_user(new.clone()).await.expect("created");
    assert_eq!(created.id, new.id);
    assert_eq!(created.username, "amy");
    assert_eq!(created.email, "amy@example.com");
    assert_eq!(created.display_name, new.display_name);
    assert_eq!(created.password_hash, new.password_hash);
    assert_eq!(created.created_at, new.created_at);
    assert_eq!(created.avatar_attachment_id, None);
    assert_eq!(created.last_seen_at, None);
    assert_eq!(created.email_verified_at, None);
    assert_eq!(created.deleted_at, None);
    let read = store.user_by_id(&new.id).await.expect("read");
    assert_eq!(read, Some(created));
    assert_eq!(store.user_by_id(&id()).await.expect("read"), None);
});

contract_test!(
    usernames_and_emails_are_unique_ignoring_case,
    |store| async move {
        user(&store, "amy").await;
        let mut same_name = new_user("AMY");
        same_name.email = "other@example.com".into();
        let error = error_of(store.create_user(same_name).await);
        assert_eq!(error.kind, ErrorKind::Conflict);
        assert_eq!(error.field, Some("username"));

        let mut same_email = new_user("amy2");
        same_email.email = "Amy@Example.COM".into();
        let error = error_of(store.create_user(same_email).await);
        assert_eq!(error.kind, ErrorKind::Conflict);
        assert_eq!(error.field, Some("email"));

        let users = store.search_users("amy", 10).await.expect("search");
        assert_eq!(users.len(), 1, "the refused accounts were not stored");
    }
);

contract_test!(
    of_ten_concurrent_registrations_of_one_name_one_wins,
    |store| async move {
        let attempts = (0..10).map(|i| {
            let mut user = new_user("race");
            user.email = format!("race{i}@example.com");
            let store = store.clone();
            async move { store.create_user(user).await }
        });
        let results = join_all(attempts).await;
        let won = results.iter().filter(|result| result.is_ok()).count();
        assert_eq!(won, 1, "exactly one registration wins");
        for result in results.into_iter().filter(Result::is_err) {
            let error = error_of(result);
            assert_eq!(
                (error.kind, error.field),
                (ErrorKind::Conflict, Some("username"))
            );
        }
    }
);

contract_test!(users_by_ids_skips_unknown_ids, |store| async move {
    let (amy, bea) = (user(&store, "amy").await, user(&store, "bea").await);
    user(&store, "cat").await;
    let found = store
        .users_by_ids(&[bea.id.clone(), id(), amy.id.clone()])
        .await
        .expect("read");
    let found_ids = sorted(found.into_iter().map(|user| user.id).collect());
    assert_eq!(found_ids, sorted(vec![amy.id, bea.id]));
    assert!(store.users_by_ids(&[]).await.expect("read").is_empty());
});

contract_test!(a_login_is_a_username_or_an_email, |store| async move {
    let amy = user(&store, "amy").await;
    user(&store, "bea").await;
    let by_name = store.user_by_login("amy").await.expect("read");
    assert_eq!(by_name.map(|user| user.id), Some(amy.id.clone()));
    let by_email = store.user_by_login("amy@example.com").await.expect("read");
    assert_eq!(by_email.map(|user| user.id), Some(amy.id));
    assert_eq!(store.user_by_login("nobody").await.expect("read"), None);
});

contract_test!(
    user_search_matches_names_with_prefix_matches_first,
    |store| async move {
        let mut with_display = new_user("zed");
        with_display.display_name = "Annabel Lee".into();
        store.create_user(with_display).await.expect("created");
        user(&store, "anna").await;
        user(&store, "joanna").await;
        user(&store, "bob").await;

        let found: Vec<String> = store
            .search_users("ANN", 10)
            .await
            .expect("search")
            .into_iter()
            .map(|user| user.username)
            .collect();
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(
            found.last().map(String::as_str),
            Some("joanna"),
            "prefix matches (anna, and zed as Annabel) come before a match inside: {found:?}"
        );
        assert!(found.contains(&"anna".to_owned()) && found.contains(&"zed".to_owned()));

        let limited = store.search_users("ann", 1).await.expect("search");
        assert_eq!(limited.len(), 1);
        assert_ne!(limited[0].username, "joanna");
        assert!(
            store
                .search_users("%", 10)
                .await
                .expect("search")
                .is_empty(),
            "the query is literal text, not a pattern"
        );
    }
);

contract_test!(last_seen_is_recorded, |store| async move {
    let amy = user(&store, "amy").await;
    let seen = now() + seconds(5);
    store.touch_last_seen(&amy.id, seen).await.expect("touch");
    let read = store
        .user_by_id(&amy.id)
        .await
        .expect("read")
        .expect("user");
    assert_eq!(read.last_seen_at, Some(seen));
});

contract_test!(
    profile_changes_touch_only_the_given_fields,
    |store| async move {
        let amy = user(&store, "amy").await;
        let avatar = id();
        let changed = store
            .update_profile(
                &amy.id,
                ProfileChanges {
                    display_name: Some("Amy A.".into()),
                    avatar_attachment_id: Some(avatar.clone()),
                },
            )
            .await
            .expect("update")
            .expect("user exists");
        assert_eq!(changed.display_name, "Amy A.");
        assert_eq!(
            changed.avatar_attachment_id.as_deref(),
            Some(avatar.as_str())
        );

        let renamed = store
            .update_profile(
                &amy.id,
                ProfileChanges {
                    display_name: Some("Amy B.".into()),
                    avatar_attachment_id: None,
                },
            )
            .await
            .expect("update")
            .expect("user exists");
        assert_eq!(renamed.display_name, "Amy B.");
        assert_eq!(
            renamed.avatar_attachment_id.as_deref(),
            Some(avatar.as_str()),
            "None leaves it"
        );
        assert_eq!(renamed.username, amy.username);
        assert_eq!(
            store.user_by_id(&amy.id).await.expect("read"),
            Some(renamed)
        );

        let missing = store
            .update_profile(&id(), ProfileChanges::default())
            .await
            .expect("update");
        assert_eq!(missing, None);
    }
);
