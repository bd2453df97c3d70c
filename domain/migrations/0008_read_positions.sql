-- Read positions: per (user, conversation), the highest seq the user has
-- seen. Only ever moves forward (the store's upsert keeps the larger).
-- Unread counts are computed from it (others' messages after it), never
-- stored, so they cannot drift.
CREATE TABLE read_positions (
    user_id INTEGER NOT NULL REFERENCES users(id),
    room_id INTEGER NOT NULL REFERENCES rooms(id),
    seq     INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
) WITHOUT ROWID;

-- Members of conversations that existed before read positions: everything
-- so far counts as read (rather than every old message as unread).
INSERT INTO read_positions (user_id, room_id, seq)
SELECT m.user_id, m.room_id, r.last_seq FROM members m JOIN rooms r ON r.id = m.room_id;
