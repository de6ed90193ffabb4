-- End-to-end encryption: device public keys, the conversation switch, and
-- the opaque ciphertexts of encrypted messages.

CREATE TABLE device_keys (
    id             TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    identity_key   TEXT NOT NULL,
    encryption_key TEXT NOT NULL,
    signature      TEXT NOT NULL,
    label          TEXT,
    created_at     INTEGER NOT NULL,
    revoked_at     INTEGER
) STRICT;
-- Registering is idempotent per (user, encryption key), revoked or not.
CREATE UNIQUE INDEX device_keys_user_key ON device_keys (user_id, encryption_key);
-- A user's active keys, oldest first.
CREATE INDEX device_keys_active ON device_keys (user_id, created_at) WHERE revoked_at IS NULL;

-- Set once, when either member of a direct conversation switches encryption on.
ALTER TABLE conversations ADD COLUMN encrypted_at INTEGER;

-- JSON {"senderDeviceKeyId", "envelopes": [{"deviceKeyId", "ciphertext"}]};
-- NULL for plain messages and tombstones. The body of a sealed message is ''.
ALTER TABLE messages ADD COLUMN sealed TEXT;
