-- Accounts and sessions. Timestamps are Unix milliseconds (UTC).

CREATE TABLE users (
    id                   TEXT PRIMARY KEY,
    -- Already lower-case and restricted to [a-z0-9_.]; NOCASE keeps the
    -- uniqueness case-insensitive even if that rule ever loosens.
    username             TEXT NOT NULL UNIQUE COLLATE NOCASE,
    email                TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name         TEXT NOT NULL,
    password_hash        TEXT NOT NULL,
    avatar_attachment_id TEXT,
    created_at           INTEGER NOT NULL,
    last_seen_at         INTEGER
) STRICT;

CREATE INDEX users_display_name ON users (display_name COLLATE NOCASE);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    refreshed_at INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER
) STRICT;

-- logoutAll revokes by user.
CREATE INDEX sessions_user_id ON sessions (user_id);

-- Every refresh token ever issued, by hash; spent ones stay so that their
-- reuse can be detected for as long as the session lives.
CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    issued_at  INTEGER NOT NULL,
    spent_at   INTEGER
) STRICT;

CREATE INDEX refresh_tokens_session_id ON refresh_tokens (session_id);
