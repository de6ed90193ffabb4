//! RealTalk: a real-time messaging server with one GraphQL API.
//!
//! Layers, data flowing one way: [`http`] (axum) → [`graphql`] (schema,
//! thin resolvers) → [`service`] (rules, authorization, validation) →
//! [`store`] (storage contract and engines). Nothing below `graphql`
//! knows GraphQL exists.

pub mod allocator;
pub mod app;
pub mod bus;
pub mod config;
pub mod error;
pub mod graphql;
pub mod http;
pub mod mail;
pub mod media;
pub mod migrate;
pub mod secrets;
pub mod service;
pub mod store;
pub mod telemetry;
