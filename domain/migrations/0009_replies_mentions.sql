-- Replies and mentions, stored as references rather than text.
--
-- reply_to: the seq of the quoted message in the same conversation (the
-- quote shown is read from that row, so it says "recalled" once it is).
-- mentions: the mentioned members' ids as a JSON array, as sent.
ALTER TABLE events ADD COLUMN reply_to INTEGER;
ALTER TABLE events ADD COLUMN mentions TEXT;

-- Who is mentioned where, for the [有人@我] flag: one row per mentioned
-- member (not the sender), removed when the message is recalled.
CREATE TABLE mentions (
    user_id INTEGER NOT NULL REFERENCES users(id),
    room_id INTEGER NOT NULL REFERENCES rooms(id),
    seq     INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id, seq)
) WITHOUT ROWID;
