-- Email verification, password resets, email changes and deletion.

ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
ALTER TABLE users ADD COLUMN deleted_at INTEGER;

-- Single-use tokens mailed to users, stored only as SHA-256 hashes.
CREATE TABLE account_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('VERIFY_EMAIL', 'RESET_PASSWORD')),
    -- The address the token was mailed to; for VERIFY_EMAIL the address it verifies.
    email      TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Usernames of deleted accounts, free again after a cool-down.
CREATE TABLE released_usernames (
    username     TEXT PRIMARY KEY COLLATE NOCASE,
    available_at INTEGER NOT NULL
) STRICT;
