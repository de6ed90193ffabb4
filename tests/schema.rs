//! `schema.graphql` at the repository root is exactly what the server prints.

#[test]
fn schema_graphql_matches_the_server() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let printed = realtalk::graphql::sdl();
    assert!(
        committed == printed,
        "schema.graphql is out of date with the server's schema.\n\
         Regenerate it with:  cargo run --quiet -- schema > schema.graphql"
    );
}
