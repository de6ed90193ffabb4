//! Parsed GraphQL documents, remembered by their text.
//!
//! Clients send the same few documents over and over, and parsing one
//! (async-graphql's pest grammar) cost about a quarter of a small query's
//! instructions: 82 k of 370 k for `me`, 282 k for the 50-message page
//! (callgrind, BENCHMARKS.md). Parsing is a pure function of the text, so a
//! process-wide memo of it is safe to share between servers and requests.
//! Each caller gets its own copy: execution edits the document (it drops
//! `@skip`ped selections for the request's variables).
//!
//! Only documents that parse are remembered, and only up to a size, in a
//! bounded LRU: a client sending endless distinct documents evicts entries
//! and is otherwise served exactly as before.

use std::num::NonZeroUsize;
use std::sync::{LazyLock, Mutex};

use async_graphql::parser::types::ExecutableDocument;
use lru::LruCache;

/// Distinct documents remembered.
const CAPACITY: NonZeroUsize = NonZeroUsize::new(512).expect("non-zero");
/// Longer documents are parsed every time (rare, and they would crowd out
/// the common ones).
const MAX_TEXT_BYTES: usize = 16 * 1024;

static PARSED: LazyLock<Mutex<LruCache<Box<str>, ExecutableDocument>>> =
    LazyLock::new(|| Mutex::new(LruCache::new(CAPACITY)));

/// `query` parsed: from memory when it was seen before. `None` when it does
/// not parse (the executor then reports the error as always).
pub fn parse(query: &str) -> Option<ExecutableDocument> {
    if query.len() > MAX_TEXT_BYTES {
        return async_graphql::parser::parse_query(query).ok();
    }
    if let Some(document) = lock().get(query) {
        return Some(document.clone());
    }
    let document = async_graphql::parser::parse_query(query).ok()?;
    lock().put(query.into(), document.clone());
    Some(document)
}

fn lock() -> std::sync::MutexGuard<'static, LruCache<Box<str>, ExecutableDocument>> {
    PARSED.lock().unwrap_or_else(|poison| poison.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::parser::types::DocumentOperations;

    fn field_names(document: &ExecutableDocument) -> Vec<String> {
        let DocumentOperations::Single(operation) = &document.operations else {
            return Vec::new();
        };
        operation
            .node
            .selection_set
            .node
            .items
            .iter()
            .filter_map(|selection| match &selection.node {
                async_graphql::parser::types::Selection::Field(field) => {
                    Some(field.node.name.node.to_string())
                }
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_remembered_document_is_the_same_as_a_fresh_parse() {
        let query = "{ me { id } unreadTotal }";
        let first = parse(query).expect("parses");
        let second = parse(query).expect("parses again");
        assert_eq!(field_names(&first), vec!["me", "unreadTotal"]);
        assert_eq!(field_names(&second), field_names(&first));
        assert!(lock().contains(query), "remembered after the first parse");
    }

    #[test]
    fn unparsable_and_oversized_documents_are_not_remembered() {
        assert!(parse("{ me { id ").is_none());
        assert!(!lock().contains("{ me { id "));
        let long = format!("{{ me {{ id }} }}{}", " ".repeat(MAX_TEXT_BYTES));
        assert!(parse(&long).is_some(), "still parsed");
        assert!(!lock().contains(long.as_str()));
    }
}
