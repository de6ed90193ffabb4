//! The scenarios of issue #9, each a function from a running target to
//! one or more reports.

pub mod exactly_once;
pub mod fanout;
pub mod idle;
pub mod login;
pub mod queries;
pub mod subscriber;
