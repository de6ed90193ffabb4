-- Uploaded files. The bytes live in the media store under their SHA-256;
-- these rows say who uploaded what, and where it is used.

CREATE TABLE attachments (
    id               TEXT PRIMARY KEY,
    uploader_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    sha256           TEXT NOT NULL,
    file_name        TEXT NOT NULL,
    content_type     TEXT NOT NULL,
    size             INTEGER NOT NULL,
    width            INTEGER,
    height           INTEGER,
    thumbnail_sha256 TEXT,
    created_at       INTEGER NOT NULL,
    -- The one message carrying it; NULL until sent (and again after a delete).
    message_id       TEXT REFERENCES messages (id) ON DELETE SET NULL,
    used_as_avatar   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX attachments_message ON attachments (message_id);
-- The clean-up of uploads never used.
CREATE INDEX attachments_unused ON attachments (created_at)
    WHERE message_id IS NULL AND used_as_avatar = 0;
-- Whether some other row still needs the same bytes.
CREATE INDEX attachments_sha256 ON attachments (sha256);
CREATE INDEX attachments_thumbnail_sha256 ON attachments (thumbnail_sha256);
