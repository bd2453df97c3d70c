-- Accounts, rooms, membership and the per-room event log.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    nickname      TEXT    NOT NULL,
    -- PHC string (argon2id); '!' for accounts that cannot log in (the system user).
    password_hash TEXT    NOT NULL,
    created_ms    INTEGER NOT NULL
);

CREATE TABLE rooms (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    owner_id    INTEGER NOT NULL REFERENCES users(id),
    is_public   INTEGER NOT NULL DEFAULT 1,
    -- Highest seq in this room's log; bumped in the same transaction that stores an event.
    last_seq    INTEGER NOT NULL DEFAULT 0,
    -- Marks the room every new account joins (the lobby).
    is_default  INTEGER NOT NULL DEFAULT 0,
    created_ms  INTEGER NOT NULL
);

CREATE TABLE members (
    room_id   INTEGER NOT NULL REFERENCES rooms(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    joined_ms INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX members_by_user ON members(user_id, room_id);

CREATE TABLE events (
    room_id   INTEGER NOT NULL REFERENCES rooms(id),
    seq       INTEGER NOT NULL,
    at_ms     INTEGER NOT NULL,
    actor_id  INTEGER NOT NULL REFERENCES users(id),
    -- room_created | message | member_joined | member_left
    kind      TEXT    NOT NULL,
    msgtype   TEXT,
    -- message text, or the room name for room_created
    body      TEXT,
    -- sender-chosen idempotency key (messages only)
    client_id TEXT,
    PRIMARY KEY (room_id, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX events_idempotency ON events(room_id, actor_id, client_id)
    WHERE client_id IS NOT NULL;
