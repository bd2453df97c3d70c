-- Webhooks (issue 17). An endpoint reads the conversation logs through
-- its own durable cursors: one row per (endpoint, conversation) holding
-- the last seq it is done with (delivered, or skipped as a type it does
-- not get). A conversation without a row was created after the endpoint
-- was registered, and is read from its start; the ones that existed then
-- get a row at their last seq when the endpoint is registered. Sends are
-- stored exactly as before: the deliverer only reads `events` and
-- `rooms.last_seq`.
CREATE TABLE webhooks (
    id               INTEGER PRIMARY KEY,
    url              TEXT    NOT NULL,
    -- comma-separated event types ('message.stored,member.joined')
    events           TEXT    NOT NULL,
    -- the HMAC key, shown once when registered (it must be kept in the
    -- clear: signing needs it)
    secret           TEXT    NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1,
    created_by       INTEGER NOT NULL REFERENCES users(id),
    created_ms       INTEGER NOT NULL,
    -- first failure since the last success (NULL: not failing)
    failing_since_ms INTEGER,
    last_success_ms  INTEGER,
    disabled_ms      INTEGER,
    -- 'failing' (failed for the whole window) | 'admin'
    disabled_reason  TEXT
);

CREATE TABLE webhook_cursors (
    webhook_id INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    room_id    INTEGER NOT NULL REFERENCES rooms(id),
    seq        INTEGER NOT NULL,
    PRIMARY KEY (webhook_id, room_id)
) WITHOUT ROWID;

-- Recent delivery attempts, for the admin page; pruned to the newest few
-- hundred per endpoint whenever progress is saved.
CREATE TABLE webhook_deliveries (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    room_id     INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    event_type  TEXT    NOT NULL,
    attempt     INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL,
    -- the HTTP status answered (NULL: none came)
    status      INTEGER,
    -- NULL on success
    error       TEXT,
    duration_ms INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_recent ON webhook_deliveries(webhook_id, id);
