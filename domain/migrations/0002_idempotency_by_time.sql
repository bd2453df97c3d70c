-- The idempotency index, keyed so that new sends append instead of scatter.
--
-- 0001 keyed it (room_id, actor_id, client_id): entries cluster by sender,
-- so a batch of sends from N people into one room dirtied about N index
-- pages, each written whole to the WAL (~4 KB of WAL for a ~100-byte
-- message). Clients now send time-ordered client ids (UUIDv7), so with the
-- client id before the sender a room's new entries land side by side at the
-- end of its range: a batch dirties one or two index pages. The uniqueness
-- rule is the same three columns; lookups give all three, so either order
-- serves them.
DROP INDEX events_idempotency;
CREATE UNIQUE INDEX events_idempotency ON events(room_id, client_id, actor_id)
    WHERE client_id IS NOT NULL;
