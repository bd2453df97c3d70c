-- Private 1:1 chats. A direct conversation is a row of `rooms` (kind
-- 'direct', not public, not a default room) with its two participants in
-- `members`; this table makes it one per pair of users: the pair is stored
-- lowest id first, and its primary key refuses a second conversation for
-- the same two people, whoever opens it and however many open it at once.
CREATE TABLE direct_pairs (
    low_id  INTEGER NOT NULL REFERENCES users(id),
    high_id INTEGER NOT NULL REFERENCES users(id),
    room_id INTEGER NOT NULL UNIQUE REFERENCES rooms(id),
    PRIMARY KEY (low_id, high_id),
    CHECK (low_id < high_id)
) WITHOUT ROWID;
