-- Full-text search of text messages, Chinese and English alike: FTS5 with
-- the trigram tokenizer (every 3-character window is a token, so any
-- substring of 3 or more characters matches, in any script, without a word
-- segmenter; ASCII case is folded). Contentless: the text stays in
-- `events` only; `contentless_delete` lets a recall delete its row.
--
-- rowid = room_id << 32 | seq: a conversation's messages are one rowid
-- range (searching one conversation is a range of the index), and a hit
-- names its event without another table.
CREATE VIRTUAL TABLE message_search USING fts5(
    body,
    tokenize = 'trigram',
    content = '',
    contentless_delete = 1
);

INSERT INTO message_search (rowid, body)
SELECT (room_id << 32) | seq, body FROM events WHERE kind = 'message' AND msgtype = 'text';
