//! Moving a whole store between engines (`realtalk migrate`).
//!
//! Every engine can export its data as plain rows and import rows another
//! engine exported. A row is a JSON object whose keys are the SQLite column
//! names of that table (the SQLite schema is the reference layout), values
//! as SQLite stores them: text, integers (timestamps are Unix milliseconds),
//! `null`. Engines translate to and from their own layout; nothing above the
//! store sees rows.
//!
//! The dump format (`realtalk migrate`, `--to file.jsonl`) is one JSON object
//! per line: `{"table": "<name>", "row": { ... }}`, tables in [`Table::ALL`]
//! order so every row's references were imported before it.

use async_trait::async_trait;

use crate::error::AppResult;

/// The tables, in dependency order: a table only refers to tables before it.
/// Derived data (SQLite's `messages_fts`) is not a table here: the importing
/// engine rebuilds its own search index.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Table {
    Users,
    DeviceKeys,
    ReleasedUsernames,
    Sessions,
    RefreshTokens,
    AccountTokens,
    FriendRequests,
    Friendships,
    Blocks,
    Conversations,
    Members,
    Messages,
    Reactions,
    MessageEvents,
    Attachments,
}

impl Table {
    pub const ALL: [Table; 15] = [
        Table::Users,
        Table::DeviceKeys,
        Table::ReleasedUsernames,
        Table::Sessions,
        Table::RefreshTokens,
        Table::AccountTokens,
        Table::FriendRequests,
        Table::Friendships,
        Table::Blocks,
        Table::Conversations,
        Table::Members,
        Table::Messages,
        Table::Reactions,
        Table::MessageEvents,
        Table::Attachments,
    ];

    /// The SQLite table name, also the `table` field of a dump line.
    pub fn name(self) -> &'static str {
        match self {
            Table::Users => "users",
            Table::DeviceKeys => "device_keys",
            Table::ReleasedUsernames => "released_usernames",
            Table::Sessions => "sessions",
            Table::RefreshTokens => "refresh_tokens",
            Table::AccountTokens => "account_tokens",
            Table::FriendRequests => "friend_requests",
            Table::Friendships => "friendships",
            Table::Blocks => "blocks",
            Table::Conversations => "conversations",
            Table::Members => "members",
            Table::Messages => "messages",
            Table::Reactions => "reactions",
            Table::MessageEvents => "message_events",
            Table::Attachments => "attachments",
        }
    }

    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|table| table.name() == name)
    }
}

/// One row: column name → value, as described in the module docs.
pub type Row = serde_json::Map<String, serde_json::Value>;

/// Export and import of plain rows. Implemented by every engine.
#[async_trait]
pub trait TransferStore: Send + Sync {
    /// Up to `limit` rows of `table` after the first `offset` ones, in a
    /// stable order (the table's primary key; `members` in join order, since
    /// that breaks ties of `joined_at` when ownership passes on and importers
    /// keep the order they are given). An empty page means done.
    async fn export_rows(&self, table: Table, offset: u64, limit: usize) -> AppResult<Vec<Row>>;

    /// Inserts rows another engine exported, keeping ids, seqs and times.
    /// The target must be empty of these rows; a row that already exists is
    /// a CONFLICT error. Engines rebuild derived data (search index,
    /// per-conversation seq counters) from what they import.
    async fn import_rows(&self, table: Table, rows: Vec<Row>) -> AppResult<()>;
}
