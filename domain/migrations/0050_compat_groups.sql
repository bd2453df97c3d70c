-- The drop-in seed-protocol socket (/compat/ws): a host system's group id
-- (the seeds' `group_id`, e.g. 100) and the public room it stands for,
-- made (owned by the system account) the first time someone joins it.
-- One room per group id, and one group id per room.
CREATE TABLE compat_groups (
    group_key  TEXT    PRIMARY KEY,
    room_id    INTEGER NOT NULL UNIQUE REFERENCES rooms(id),
    created_ms INTEGER NOT NULL
);
