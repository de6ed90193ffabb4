-- Friends, conversations, messages, reactions and the per-conversation event log.

CREATE TABLE friend_requests (
    id           TEXT PRIMARY KEY,
    from_user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_user_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL CHECK (status IN ('PENDING', 'ACCEPTED', 'DECLINED', 'CANCELLED')),
    created_at   INTEGER NOT NULL,
    responded_at INTEGER
) STRICT;

-- At most one pending request per pair, whichever way it points: two people
-- asking each other at the same moment cannot both succeed.
CREATE UNIQUE INDEX friend_requests_pending_pair
    ON friend_requests (min(from_user_id, to_user_id), max(from_user_id, to_user_id))
    WHERE status = 'PENDING';
CREATE INDEX friend_requests_to ON friend_requests (to_user_id, status);
CREATE INDEX friend_requests_from ON friend_requests (from_user_id, status);

-- One row per friendship, the pair ordered so it is stored once.
CREATE TABLE friendships (
    user_low   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    user_high  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_low, user_high),
    CHECK (user_low < user_high)
) STRICT, WITHOUT ROWID;
CREATE INDEX friendships_high ON friendships (user_high);

CREATE TABLE blocks (
    blocker_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX blocks_blocked ON blocks (blocked_id);

CREATE TABLE conversations (
    id               TEXT PRIMARY KEY,
    kind             TEXT NOT NULL CHECK (kind IN ('DIRECT', 'GROUP')),
    title            TEXT,
    -- 'low:high' user ids for DIRECT, NULL for groups: one direct
    -- conversation per pair, enforced by the index.
    direct_key       TEXT UNIQUE,
    created_at       INTEGER NOT NULL,
    -- Highest event seq handed out in this conversation.
    last_seq         INTEGER NOT NULL DEFAULT 0,
    last_activity_at INTEGER NOT NULL,
    last_message_id  TEXT
) STRICT;

CREATE TABLE members (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role            TEXT NOT NULL CHECK (role IN ('OWNER', 'ADMIN', 'MEMBER')),
    joined_at       INTEGER NOT NULL,
    last_read_seq   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (conversation_id, user_id)
) STRICT; -- a rowid table: rowid breaks ties of joined_at in join order
-- A user's conversations.
CREATE INDEX members_user ON members (user_id, conversation_id);

CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    author_id       TEXT NOT NULL REFERENCES users (id),
    body            TEXT NOT NULL,
    reply_to_id     TEXT,
    client_id       TEXT,
    created_at      INTEGER NOT NULL,
    edited_at       INTEGER,
    deleted_at      INTEGER,
    UNIQUE (conversation_id, seq)
) STRICT;
-- Idempotent sends: one message per (author, clientId).
CREATE UNIQUE INDEX messages_author_client_id
    ON messages (author_id, client_id) WHERE client_id IS NOT NULL;
-- Unread counts: messages by others after a seq.
CREATE INDEX messages_unread ON messages (conversation_id, seq, author_id)
    WHERE deleted_at IS NULL;

CREATE TABLE reactions (
    message_id TEXT NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji      TEXT NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
) STRICT, WITHOUT ROWID;

-- Every change to a conversation's messages, in order. The source of truth
-- for replay after a reconnect.
CREATE TABLE message_events (
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    kind            TEXT NOT NULL CHECK (kind IN ('CREATED', 'EDITED', 'DELETED', 'REACTIONS_CHANGED')),
    message_id      TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, seq)
) STRICT, WITHOUT ROWID;

-- Full-text search over message bodies (external content: the text lives
-- once, in messages). Triggers keep it in step; a tombstone's empty body
-- drops out of the index.
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    body,
    content = 'messages',
    content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
    INSERT INTO messages_fts (rowid, body) VALUES (new.rowid, new.body);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, body) VALUES ('delete', old.rowid, old.body);
END;
