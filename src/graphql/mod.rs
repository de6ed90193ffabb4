//! The GraphQL schema: types, thin resolvers, error mapping. Resolvers only
//! translate between GraphQL and services; rules live in `service/`.

pub mod context;
pub mod cursor;
pub mod documents;
pub mod errors;
pub mod event_delivery;
pub mod execution;
pub mod loaders;
pub mod metrics;
pub mod resolvers;
pub mod shared_selection;
pub mod types;

use std::sync::Arc;

use async_graphql::{Schema, SchemaBuilder};

use crate::config::Environment;
use crate::service::Services;

pub use context::RequestContext;
pub use loaders::Loaders;

pub type AppSchema = Schema<resolvers::Query, resolvers::Mutation, resolvers::Subscription>;

/// Deepest selection accepted; the contract's deepest sensible query is ~8.
pub const MAX_DEPTH: usize = 12;
/// Largest total complexity accepted (list fields multiply by their size).
pub const MAX_COMPLEXITY: usize = 5_000;

fn builder() -> SchemaBuilder<resolvers::Query, resolvers::Mutation, resolvers::Subscription> {
    Schema::build(
        resolvers::Query::default(),
        resolvers::Mutation::default(),
        resolvers::Subscription,
    )
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .limit_recursive_depth(32)
    .limit_directives(16)
    // No extensions: error codes and metrics are applied around execution
    // (`execution.rs`), which keeps async-graphql on its fast path.
}

/// The schema that serves requests.
pub fn build_schema(services: Arc<Services>, environment: Environment) -> AppSchema {
    let mut builder = builder().data(services);
    if environment == Environment::Production {
        builder = builder.disable_introspection().disable_suggestions();
    }
    builder.finish()
}

/// The SDL the server implements, as `realtalk schema` prints it.
pub fn sdl() -> String {
    builder().finish().sdl()
}
