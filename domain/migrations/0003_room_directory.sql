-- The public room directory: paged by member count, searchable by name.
--
-- member_count was counted per row on every directory read; it is now kept
-- in the same transactions that add or remove members, so the directory
-- pages over an index instead of counting every room's members, and the
-- cursor (member_count, id) is the very value the rows are sorted by.
ALTER TABLE rooms ADD COLUMN member_count INTEGER NOT NULL DEFAULT 0;
UPDATE rooms SET member_count = (SELECT COUNT(*) FROM members m WHERE m.room_id = rooms.id);
CREATE INDEX rooms_directory ON rooms(is_public, member_count DESC, id);

-- The name in Unicode lower case, for case-insensitive search. SQLite's
-- lower() folds ASCII only, so the server fills it (new rooms on insert,
-- existing ones at start-up: see domain/src/directory.rs).
ALTER TABLE rooms ADD COLUMN name_folded TEXT;
