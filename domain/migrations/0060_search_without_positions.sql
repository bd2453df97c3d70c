-- Message search, rebuilt for speed at a million messages (see
-- `store::sqlite::search`):
--
-- * detail=none: the index keeps which messages hold each trigram, not
--   where. A query asks for all of a term's trigrams, and the store then
--   checks the term itself against the stored text (LIKE), which is exact
--   where phrase matching over positions was. The index is half the size,
--   and a query whose terms never meet in one message (measured on 1M
--   messages: two common words of different scripts) reads half as much.
-- * rowid = (2^31 - 1 - room_id) << 32 | (2^32 - 1 - seq): the order the
--   results are shown in (newest conversation first, newest message first)
--   is now ascending rowid, which FTS5 reads as stored; descending order
--   made it buffer whole posting lists to walk them backwards (measured: a
--   query with no hit took 1.5-2x as long).
DROP TABLE message_search;

CREATE VIRTUAL TABLE message_search USING fts5(
    body,
    tokenize = 'trigram',
    content = '',
    contentless_delete = 1,
    detail = none
);

INSERT INTO message_search (rowid, body)
SELECT ((2147483647 - room_id) << 32) | (4294967295 - seq), body
FROM events WHERE kind = 'message' AND msgtype = 'text';
