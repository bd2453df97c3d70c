-- Uploaded media files. A row is written when an upload has been checked
-- and its file is in place; `room_id`/`seq` are set in the transaction that
-- stores the message it is sent in (once). Rows never sent are swept after
-- a while, together with their files.
CREATE TABLE media (
    -- 26 random lowercase base32 characters; also the file's name.
    id          TEXT PRIMARY KEY NOT NULL,
    uploader_id INTEGER NOT NULL REFERENCES users(id),
    -- 'image' | 'voice' | 'video'
    kind        TEXT NOT NULL,
    -- sniffed from the bytes
    mime        TEXT NOT NULL,
    bytes       INTEGER NOT NULL,
    width       INTEGER,
    height      INTEGER,
    duration_ms INTEGER,
    -- 1 when a thumbnail file exists beside the file (images)
    has_thumb   INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL,
    -- the conversation and event that carry it, once sent
    room_id     INTEGER REFERENCES rooms(id),
    seq         INTEGER
);

-- The sweep of uploads never sent, oldest first.
CREATE INDEX media_unsent ON media (created_ms) WHERE room_id IS NULL;
