//! Which subscriptions can share the rendering of their events.
//!
//! A `messageEvents` event is the same for every member of a conversation;
//! what differs per subscriber is only which events it may see (decided by
//! its own stream in `service/live.rs`) and, for a few fields, the viewer.
//! This module reads a subscription document and says whether its events
//! may be rendered once for everyone with the same document: the operation
//! must be a lone `messageEvents` field, and the key under which renders are
//! shared holds the document, the values of the variables its selection
//! uses, and — when the selection names a viewer-dependent field — the
//! viewer.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationType, Selection, SelectionSet,
};

use super::types::viewer_fields::is_viewer_dependent;
use crate::service::Viewer;

/// The root field whose events are shared.
const SHARED_ROOT: &str = "messageEvents";

/// A parsed `messageEvents` subscription whose events can be rendered once
/// per [`ShareKey`].
pub struct SharedSelection {
    /// The parsed document, so neither the subscriber's own execution nor a
    /// render parses it again.
    pub document: ExecutableDocument,
    pub key: ShareKey,
}

/// Subscriptions with equal keys get byte-identical event payloads.
#[derive(Clone)]
pub struct ShareKey(Arc<KeyParts>);

struct KeyParts {
    hash: u64,
    query: String,
    operation_name: Option<String>,
    /// Canonical JSON of the variables the event selection uses (not the
    /// root field's arguments: those only choose which events arrive).
    variables: String,
    /// Set when the selection reads the viewer: then only the viewer's own
    /// subscriptions share a render.
    viewer: Option<Viewer>,
}

impl ShareKey {
    /// Whether renders under this key are for one viewer only.
    pub fn viewer(&self) -> Option<&Viewer> {
        self.0.viewer.as_ref()
    }
}

impl PartialEq for ShareKey {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
            || (self.0.hash == other.0.hash
                && self.0.query == other.0.query
                && self.0.operation_name == other.0.operation_name
                && self.0.variables == other.0.variables
                && self.0.viewer == other.0.viewer)
    }
}

impl Eq for ShareKey {}

impl Hash for ShareKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u64(self.0.hash);
    }
}

impl SharedSelection {
    /// `None` when the request is not a lone `messageEvents` subscription
    /// this module understands (it then runs unshared, as any other), or
    /// does not parse (execution reports that).
    pub fn analyse(
        query: &str,
        operation_name: Option<&str>,
        variables: Option<&serde_json::Value>,
        viewer: &Viewer,
    ) -> Option<SharedSelection> {
        let document = super::documents::parse(query)?;
        let operation = match (&document.operations, operation_name) {
            (DocumentOperations::Single(operation), None) => operation,
            (DocumentOperations::Multiple(operations), Some(name)) => operations.get(name)?,
            (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
                operations.values().next()?
            }
            _ => return None,
        };
        let operation = &operation.node;
        if operation.ty != OperationType::Subscription || !operation.directives.is_empty() {
            return None;
        }
        let [root] = operation.selection_set.node.items.as_slice() else {
            return None;
        };
        let Selection::Field(root) = &root.node else {
            return None;
        };
        let root = &root.node;
        if root.name.node.as_str() != SHARED_ROOT || !root.directives.is_empty() {
            return None;
        }
        let mut walk = Walk {
            document: &document,
            variables: BTreeSet::new(),
            viewer_dependent: false,
            fragments_seen: HashSet::new(),
        };
        walk.selection_set(&root.selection_set.node);
        let provided = variables.and_then(serde_json::Value::as_object);
        let used: BTreeMap<&str, Option<&serde_json::Value>> = walk
            .variables
            .iter()
            .map(|name| {
                (
                    name.as_str(),
                    provided.and_then(|values| values.get(name.as_str())),
                )
            })
            .collect();
        let variables = serde_json::to_string(&used).ok()?;
        let viewer = walk.viewer_dependent.then(|| viewer.clone());
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        query.hash(&mut hasher);
        operation_name.hash(&mut hasher);
        variables.hash(&mut hasher);
        viewer
            .as_ref()
            .map(|v| (&v.user_id, &v.session_id))
            .hash(&mut hasher);
        let key = ShareKey(Arc::new(KeyParts {
            hash: hasher.finish(),
            query: query.to_owned(),
            operation_name: operation_name.map(str::to_owned),
            variables,
            viewer,
        }));
        Some(SharedSelection { document, key })
    }
}

/// Records the variables inside an argument value. The parser's value type
/// is not re-exported, so they are collected while resolving a copy.
macro_rules! record_variables {
    ($variables:expr, $value:expr) => {{
        let _ = $value.clone().into_const_with(|name| {
            $variables.insert(name.to_string());
            Ok::<_, std::convert::Infallible>(async_graphql::Value::Null)
        });
    }};
}

/// Walks an event selection: the variables it uses and whether it names a
/// viewer-dependent field, through fragments (each once).
struct Walk<'a> {
    document: &'a ExecutableDocument,
    variables: BTreeSet<String>,
    viewer_dependent: bool,
    fragments_seen: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet) {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let field = &field.node;
                    if is_viewer_dependent(field.name.node.as_str()) {
                        self.viewer_dependent = true;
                    }
                    for (_, value) in &field.arguments {
                        record_variables!(self.variables, value.node);
                    }
                    self.directives(&field.directives);
                    self.selection_set(&field.selection_set.node);
                }
                Selection::FragmentSpread(spread) => {
                    self.directives(&spread.node.directives);
                    let name = spread.node.fragment_name.node.as_str();
                    if self.fragments_seen.insert(name)
                        && let Some(fragment) = self.document.fragments.get(name)
                    {
                        self.directives(&fragment.node.directives);
                        self.selection_set(&fragment.node.selection_set.node);
                    }
                }
                Selection::InlineFragment(fragment) => {
                    self.directives(&fragment.node.directives);
                    self.selection_set(&fragment.node.selection_set.node);
                }
            }
        }
    }

    fn directives(
        &mut self,
        directives: &[async_graphql::Positioned<async_graphql::parser::types::Directive>],
    ) {
        for directive in directives {
            for (_, value) in &directive.node.arguments {
                record_variables!(self.variables, value.node);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn viewer(user: &str) -> Viewer {
        Viewer {
            user_id: user.to_owned(),
            session_id: format!("{user}-session"),
        }
    }

    fn key(query: &str, variables: serde_json::Value, user: &str) -> Option<ShareKey> {
        SharedSelection::analyse(query, None, Some(&variables), &viewer(user)).map(|s| s.key)
    }

    const LEAN: &str = "subscription($c: ID) { messageEvents(conversationId: $c) { seq message { id body author { username } } } }";

    #[test]
    fn the_same_lean_query_shares_across_viewers_and_conversations() {
        let a = key(LEAN, json!({ "c": "one" }), "amy").expect("shared");
        let b = key(LEAN, json!({ "c": "two" }), "bob").expect("shared");
        assert!(a == b);
        assert!(a.viewer().is_none());
    }

    #[test]
    fn a_viewer_dependent_field_keys_by_viewer_even_inside_fragments() {
        let direct = "subscription { messageEvents { message { id clientId } } }";
        let nested = "subscription { messageEvents { ...E } } fragment E on MessageEvent { message { reactions { ...R } } } fragment R on Reaction { reactedByMe }";
        let inline =
            "subscription { messageEvents { message { author { ... on User { friendship } } } } }";
        for query in [direct, nested, inline] {
            let amy = key(query, json!({}), "amy").expect("analysed");
            let amy_again = key(query, json!({}), "amy").expect("analysed");
            let bob = key(query, json!({}), "bob").expect("analysed");
            assert!(amy.viewer().is_some(), "{query}");
            assert!(amy == amy_again, "{query}");
            assert!(amy != bob, "{query}");
        }
    }

    #[test]
    fn variables_used_by_the_selection_are_part_of_the_key() {
        let query = "subscription($c: ID, $n: Boolean!) { messageEvents(conversationId: $c) { seq message @include(if: $n) { id } } }";
        let with = key(query, json!({ "c": "one", "n": true }), "amy").expect("shared");
        let without = key(query, json!({ "c": "one", "n": false }), "amy").expect("shared");
        let other_conversation =
            key(query, json!({ "c": "two", "n": true }), "bob").expect("shared");
        assert!(with != without);
        assert!(with == other_conversation);
    }

    #[test]
    fn other_operations_are_not_shared() {
        for query in [
            "subscription { typing(conversationId: \"c\") { typing } }",
            "subscription { ...F } fragment F on Subscription { messageEvents { seq } }",
            "subscription { messageEvents @include(if: true) { seq } }",
            "query { me { id } }",
            "subscription {",
        ] {
            assert!(key(query, json!({}), "amy").is_none(), "{query}");
        }
    }
}
