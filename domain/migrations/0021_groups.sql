-- Private groups (kind 'group' in `rooms`) and their moderation.

-- The announcement (群公告) shown at the top of a group; '' when none.
ALTER TABLE rooms ADD COLUMN announcement TEXT NOT NULL DEFAULT '';
-- 1: only the owner may add members; 0: every member may.
ALTER TABLE rooms ADD COLUMN owner_only_invite INTEGER NOT NULL DEFAULT 0;
-- A muted member's sends are refused until this time (ms since the epoch).
ALTER TABLE members ADD COLUMN muted_until_ms INTEGER NOT NULL DEFAULT 0;

-- People banned from a group by its owner: they cannot be added again.
CREATE TABLE group_bans (
    room_id   INTEGER NOT NULL REFERENCES rooms(id),
    user_id   INTEGER NOT NULL REFERENCES users(id),
    banned_ms INTEGER NOT NULL,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
