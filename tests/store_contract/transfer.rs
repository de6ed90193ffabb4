//! `TransferStore`: export pages, and import into a fresh store of every
//! engine (from every engine) giving back the same rows and a working store.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt as _;
use realtalk::store::transfer::{Row, Table};

use crate::contract_test;
use crate::fixtures::*;
use crate::sample::{Sample, populate};
use crate::{TestStore, engines, panic_message};

/// Every row of `table`, read in pages of `page` rows.
async fn export_table(store: &Db, table: Table, page: usize) -> Vec<Row> {
    let mut rows = Vec::new();
    loop {
        let offset = u64::try_from(rows.len()).expect("fits");
        let batch = store
            .export_rows(table, offset, page)
            .await
            .expect("export");
        assert!(
            batch.len() <= page,
            "{}: a page has at most `limit` rows",
            table.name()
        );
        if batch.is_empty() {
            return rows;
        }
        rows.extend(batch);
    }
}

/// The rows of a table as comparable text, in a fixed order: engines may
/// export in different (each stable) orders.
fn canonical(rows: &[Row]) -> Vec<String> {
    let mut texts: Vec<String> = rows
        .iter()
        .map(|row| {
            let sorted: BTreeMap<&String, &serde_json::Value> = row.iter().collect();
            serde_json::to_string(&sorted).expect("JSON")
        })
        .collect();
    texts.sort();
    texts
}

/// Copies every table, page by page, the way `realtalk migrate` does.
async fn copy_all(source: &Db, target: &Db) {
    for table in Table::ALL {
        let mut offset = 0;
        loop {
            let page = source.export_rows(table, offset, 4).await.expect("export");
            if page.is_empty() {
                break;
            }
            offset += u64::try_from(page.len()).expect("fits");
            target.import_rows(table, page).await.expect("import");
        }
    }
}

/// The copy has every row of the source and behaves like it.
async fn assert_same_store(source: &Db, target: &Db, sample: &Sample) {
    for table in Table::ALL {
        let (from, to) = (
            export_table(source, table, 3).await,
            export_table(target, table, 3).await,
        );
        assert!(!from.is_empty(), "the sample fills {}", table.name());
        assert_eq!(
            canonical(&from),
            canonical(&to),
            "{}: every row equal",
            table.name()
        );
    }
    let amy = target
        .user_by_login("amy")
        .await
        .expect("read")
        .map(|user| user.id);
    assert_eq!(amy, Some(sample.amy.id.clone()), "logins work on the copy");
    for user in [&sample.amy, &sample.bea] {
        let (from, to) = (
            source.user_by_id(&user.id).await,
            target.user_by_id(&user.id).await,
        );
        assert_eq!(from.expect("read"), to.expect("read"));
    }
    for conversation in [&sample.direct_id, &sample.group_id] {
        let history = |store: Db| {
            let conversation = conversation.clone();
            async move {
                store
                    .messages_before(&conversation, None, 100)
                    .await
                    .expect("history")
            }
        };
        assert_eq!(history(source.clone()).await, history(target.clone()).await);
        let events = |store: Db| {
            let conversation = conversation.clone();
            async move {
                store
                    .events_after(&conversation, 0, 100)
                    .await
                    .expect("events")
            }
        };
        assert_eq!(events(source.clone()).await, events(target.clone()).await);
        let members = |store: Db| {
            let conversation = conversation.clone();
            async move { store.members_of(&[conversation]).await.expect("members") }
        };
        assert_eq!(
            members(source.clone()).await,
            members(target.clone()).await,
            "members in join order"
        );
    }
    let found = target
        .search_messages(&sample.bea.id, "pizza eig", None, 10)
        .await
        .expect("search");
    assert_eq!(found.len(), 1, "the search index was rebuilt: {found:?}");
    assert!(
        target
            .search_messages(&sample.bea.id, "wrong", None, 10)
            .await
            .expect("search")
            .is_empty()
    );
    let available = target
        .username_available_at(&sample.released)
        .await
        .expect("read");
    assert_eq!(
        available,
        source
            .username_available_at(&sample.released)
            .await
            .expect("read")
    );
    let last_seq = target
        .conversation_by_id(&sample.direct_id)
        .await
        .expect("read")
        .expect("chat")
        .last_seq;
    let next = send(target, &sample.direct_id, &sample.amy, "after the move").await;
    assert_eq!(next.seq, last_seq + 1, "the seq counter came across");
    let outcome = target
        .rotate_refresh_token("amy-r1", "amy-rx", now(), now() + seconds(60))
        .await
        .expect("rotate");
    assert!(
        matches!(outcome, RefreshOutcome::Reused(_)),
        "spent tokens stay spent: {outcome:?}"
    );
}

/// Export from each engine, import into a fresh store of each engine.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_imported_into_a_fresh_store_of_any_engine_is_the_same_store() {
    let mut failures = Vec::new();
    for from in engines() {
        for to in engines() {
            let (source, target) = (TestStore::open(&from).await, TestStore::open(&to).await);
            let outcome = AssertUnwindSafe(async {
                let sample = populate(&source.store).await;
                copy_all(&source.store, &target.store).await;
                assert_same_store(&source.store, &target.store, &sample).await;
            })
            .catch_unwind()
            .await;
            let pair = format!("{} -> {}", source.engine, target.engine);
            source.close().await;
            target.close().await;
            if let Err(panic) = outcome {
                failures.push(format!("[{pair}] {}", panic_message(&panic)));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "transfer failed:\n{}",
        failures.join("\n")
    );
}

contract_test!(exports_page_in_a_stable_order, |store| async move {
    populate(&store).await;
    for table in Table::ALL {
        let whole = store.export_rows(table, 0, 10_000).await.expect("export");
        assert_eq!(
            export_table(&store, table, 2).await,
            whole,
            "{}: pages add up to the whole",
            table.name()
        );
        let past_end = u64::try_from(whole.len()).expect("fits");
        assert!(
            store
                .export_rows(table, past_end, 5)
                .await
                .expect("export")
                .is_empty()
        );
    }
});

contract_test!(rows_that_exist_already_are_a_conflict, |store| async move {
    populate(&store).await;
    for table in [Table::Users, Table::Messages, Table::MessageEvents] {
        let rows = store.export_rows(table, 0, 1).await.expect("export");
        let before = export_table(&store, table, 100).await.len();
        let again = store.import_rows(table, rows).await;
        assert_eq!(error_kind(again), ErrorKind::Conflict, "{}", table.name());
        assert_eq!(
            export_table(&store, table, 100).await.len(),
            before,
            "{}: unchanged",
            table.name()
        );
    }
});
