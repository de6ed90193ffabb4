//! Fields whose value depends on who is asking.
//!
//! Subscription events are rendered once and the result sent to every
//! subscriber with the same query (`http/ws/shared_frames.rs`). That is only
//! right when nothing in the selection reads the viewer (or the request's
//! client address): a selection naming one of these fields is rendered per
//! viewer instead. The test below scans the resolvers in this directory and
//! fails when one reads the viewer but is missing here, so a new
//! viewer-dependent field cannot be shared by accident.

/// `(type, field)` of every resolver in `graphql/types` that reads the
/// viewer. Matching is by field name only (any type), which errs towards
/// rendering per viewer.
pub const VIEWER_DEPENDENT_FIELDS: &[(&str, &str)] = &[
    ("Conversation", "unreadCount"),
    ("Conversation", "messages"),
    ("Message", "clientId"),
    ("Reaction", "reactedByMe"),
    ("User", "friendship"),
    ("User", "emailVerified"),
    ("User", "email"),
];

/// Whether a field of this name may depend on the viewer.
pub fn is_viewer_dependent(field: &str) -> bool {
    VIEWER_DEPENDENT_FIELDS
        .iter()
        .any(|(_, name)| *name == field)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::VIEWER_DEPENDENT_FIELDS;

    /// Calls that read who is asking: the viewer, or the request (which
    /// holds the viewer and the client address).
    const SEEDS: &[&str] = &[
        "context::viewer(",
        "context::optional_viewer(",
        "context::request(",
    ];

    /// A `fn` of a source file: the type of the `#[Object]` impl it is a
    /// resolver of (`None` for helpers), its name and its body.
    struct Function {
        resolver_of: Option<String>,
        name: String,
        body: String,
    }

    fn starts_word(source: &str, i: usize, word: &str) -> bool {
        source[i..].starts_with(word)
            && source[..i]
                .chars()
                .next_back()
                .is_none_or(|c| !c.is_alphanumeric() && c != '_')
    }

    /// The functions of a source file, found by brace matching.
    fn functions(source: &str) -> Vec<Function> {
        let mut found = Vec::new();
        // (type, brace depth) of the `#[Object]` impl we are in.
        let mut object_impl: Option<(String, usize)> = None;
        let mut depth = 0usize;
        let mut i = 0;
        while i < source.len() {
            if !source.is_char_boundary(i) {
                i += 1;
                continue;
            }
            if starts_word(source, i, "impl ") && object_impl.is_none() {
                let header: String = source[i + 5..].chars().take_while(|c| *c != '{').collect();
                let ty = header.split_whitespace().last().unwrap_or_default();
                let attribute = source[..i]
                    .trim_end()
                    .lines()
                    .next_back()
                    .unwrap_or_default();
                if attribute.trim_start().starts_with("#[Object") {
                    object_impl = Some((ty.to_owned(), depth));
                }
            }
            if starts_word(source, i, "fn ")
                && let Some(open) = source[i..].find('{')
            {
                let name: String = source[i + 3..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                let body_start = i + open;
                let mut level = 0usize;
                let mut end = source.len();
                for (offset, c) in source[body_start..].char_indices() {
                    match c {
                        '{' => level += 1,
                        '}' => {
                            level -= 1;
                            if level == 0 {
                                end = body_start + offset;
                                break;
                            }
                        }
                        _ => {}
                    }
                }
                found.push(Function {
                    resolver_of: object_impl.as_ref().map(|(ty, _)| ty.clone()),
                    name,
                    body: source[body_start..end].to_owned(),
                });
                // Past the body: its braces are balanced.
                i = end + 1;
                continue;
            }
            match source.as_bytes()[i] {
                b'{' => depth += 1,
                b'}' => {
                    depth = depth.saturating_sub(1);
                    if object_impl
                        .as_ref()
                        .is_some_and(|(_, level)| *level == depth)
                    {
                        object_impl = None;
                    }
                }
                _ => {}
            }
            i += 1;
        }
        found
    }

    fn camel_case(name: &str) -> String {
        let mut out = String::new();
        let mut upper = false;
        for c in name.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn every_resolver_that_reads_the_viewer_is_listed() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/graphql/types");
        let mut all = Vec::new();
        for entry in std::fs::read_dir(dir).expect("types directory") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|ext| ext == "rs")
                && path
                    .file_name()
                    .is_some_and(|name| name != "viewer_fields.rs")
            {
                let source = std::fs::read_to_string(&path).expect("source");
                all.extend(functions(&source));
            }
        }
        assert!(
            all.iter().filter(|f| f.resolver_of.is_some()).count() > 40,
            "the scan found the resolvers"
        );
        // Helpers that read the viewer, directly or through each other, to
        // a fixed point (`seen_by_self`, `messages_page`, ...).
        let mut readers: BTreeSet<String> = SEEDS.iter().map(|s| (*s).to_owned()).collect();
        loop {
            let before = readers.len();
            for helper in all.iter().filter(|f| f.resolver_of.is_none()) {
                if readers
                    .iter()
                    .any(|call| helper.body.contains(call.as_str()))
                {
                    readers.insert(format!("{}(", helper.name));
                }
            }
            if readers.len() == before {
                break;
            }
        }
        let reading: BTreeSet<(String, String)> = all
            .iter()
            .filter(|f| readers.iter().any(|call| f.body.contains(call.as_str())))
            .filter_map(|f| Some((f.resolver_of.clone()?, camel_case(&f.name))))
            .collect();
        let listed: BTreeSet<(String, String)> = VIEWER_DEPENDENT_FIELDS
            .iter()
            .map(|(ty, field)| ((*ty).to_owned(), (*field).to_owned()))
            .collect();
        assert_eq!(
            reading, listed,
            "resolvers that read the viewer (left) must be exactly VIEWER_DEPENDENT_FIELDS (right)"
        );
    }
}
