-- Avatars: the id of a user's uploaded avatar (its files are
-- <media>/avatars/<id>-<side>.jpg); NULL: the generated one. A new upload
-- gets a new id, so the served picture of an id never changes.
ALTER TABLE users ADD COLUMN avatar TEXT;
