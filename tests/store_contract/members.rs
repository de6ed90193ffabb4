//! `ConversationStore`, groups: renaming, adding members up to a limit,
//! roles, ownership, and leaving.

use crate::contract_test;
use crate::fixtures::*;

contract_test!(
    groups_are_renamed_and_members_added_up_to_a_limit,
    |store| async move {
        let (amy, bea, cat, dan) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
            user(&store, "dan").await,
        );
        let trip = group(&store, "Trip", &amy, &[&bea]).await;
        let renamed = store
            .rename_group(&trip.id, "Road trip")
            .await
            .expect("rename")
            .expect("group");
        assert_eq!(renamed.title.as_deref(), Some("Road trip"));
        assert_eq!(store.rename_group(&id(), "x").await.expect("rename"), None);

        let too_many = store
            .add_members(&trip.id, &[cat.id.clone(), dan.id.clone()], 3, now())
            .await;
        assert_eq!(error_kind(too_many), ErrorKind::BadUserInput);
        assert_eq!(
            store.member_count(&trip.id).await.expect("count"),
            2,
            "nothing was added"
        );

        let added = store
            .add_members(
                &trip.id,
                &[bea.id.clone(), cat.id.clone(), cat.id.clone()],
                3,
                now(),
            )
            .await
            .expect("added");
        assert_eq!(
            added,
            vec![cat.id.clone()],
            "existing members are left as they are"
        );
        let bea_member = store
            .member(&trip.id, &bea.id)
            .await
            .expect("read")
            .expect("member");
        assert_eq!(bea_member.role, MemberRole::Member);
    }
);

contract_test!(
    roles_change_and_ownership_moves_in_one_step,
    |store| async move {
        let (amy, bea, cat) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
        );
        let trip = group(&store, "Trip", &amy, &[&bea]).await;
        let promoted = store
            .set_member_role(&trip.id, &bea.id, MemberRole::Admin)
            .await
            .expect("role")
            .expect("member");
        assert_eq!(promoted.role, MemberRole::Admin);
        assert_eq!(
            store
                .set_member_role(&trip.id, &cat.id, MemberRole::Admin)
                .await
                .expect("role"),
            None
        );

        store
            .transfer_ownership(&trip.id, &amy.id, &bea.id)
            .await
            .expect("transfer");
        let role_of = |user: &UserRecord| {
            let (store, conversation, user) = (store.clone(), trip.id.clone(), user.id.clone());
            async move {
                store
                    .member(&conversation, &user)
                    .await
                    .expect("read")
                    .expect("member")
                    .role
            }
        };
        assert_eq!(role_of(&bea).await, MemberRole::Owner);
        assert_eq!(role_of(&amy).await, MemberRole::Admin);

        assert!(
            store
                .remove_member(&trip.id, &amy.id)
                .await
                .expect("remove")
        );
        assert!(
            !store
                .remove_member(&trip.id, &amy.id)
                .await
                .expect("remove"),
            "not a member any more"
        );
        assert_eq!(store.member_count(&trip.id).await.expect("count"), 1);
    }
);

contract_test!(
    an_owner_leaving_passes_the_group_on_and_the_last_one_out_deletes_it,
    |store| async move {
        let (amy, bea, cat, dan) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
            user(&store, "dan").await,
        );
        let trip = group(&store, "Trip", &amy, &[&bea, &cat]).await;
        store
            .add_members(
                &trip.id,
                std::slice::from_ref(&dan.id),
                10,
                now() + seconds(1),
            )
            .await
            .expect("added");
        store
            .set_member_role(&trip.id, &dan.id, MemberRole::Admin)
            .await
            .expect("role");

        assert_eq!(
            store.leave_group(&trip.id, &id()).await.expect("leave"),
            LeaveOutcome::NotMember
        );
        let left = store.leave_group(&trip.id, &amy.id).await.expect("leave");
        assert_eq!(
            left,
            LeaveOutcome::Left {
                new_owner: Some(dan.id.clone())
            },
            "an admin comes first"
        );
        let left = store.leave_group(&trip.id, &cat.id).await.expect("leave");
        assert_eq!(
            left,
            LeaveOutcome::Left { new_owner: None },
            "a member leaving changes no owner"
        );
        let left = store.leave_group(&trip.id, &dan.id).await.expect("leave");
        assert_eq!(
            left,
            LeaveOutcome::Left {
                new_owner: Some(bea.id.clone())
            },
            "then the longest-standing member"
        );
        let owner = store
            .member(&trip.id, &bea.id)
            .await
            .expect("read")
            .expect("member");
        assert_eq!(owner.role, MemberRole::Owner);

        assert_eq!(
            store.leave_group(&trip.id, &bea.id).await.expect("leave"),
            LeaveOutcome::Deleted
        );
        assert_eq!(
            store.conversation_by_id(&trip.id).await.expect("read"),
            None
        );
        assert!(
            store
                .conversations_of_user(&bea.id, None, 10)
                .await
                .expect("list")
                .is_empty()
        );
    }
);

contract_test!(
    the_longest_standing_of_equal_members_takes_over,
    |store| async move {
        // All joined at the same instant: join order decides.
        let (amy, bea, cat) = (
            user(&store, "amy").await,
            user(&store, "bea").await,
            user(&store, "cat").await,
        );
        let trip = group(&store, "Trip", &amy, &[&cat, &bea]).await;
        let left = store.leave_group(&trip.id, &amy.id).await.expect("leave");
        assert_eq!(
            left,
            LeaveOutcome::Left {
                new_owner: Some(cat.id.clone())
            }
        );
    }
);
