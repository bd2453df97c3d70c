-- The server API for other backends (issue 17).
--
-- Users of the host system: `external_id` is the host's own id for them
-- (unique; NULL for accounts made here). Their accounts cannot sign in
-- with a password ('!'); they come in through a hand-off token.
ALTER TABLE users ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX users_by_external_id ON users(external_id) WHERE external_id IS NOT NULL;
-- An avatar picture elsewhere (https URL), set through the API.
ALTER TABLE users ADD COLUMN avatar_url TEXT;
-- 1 for an API key's bot account (drawn with a bot tag).
ALTER TABLE users ADD COLUMN bot INTEGER NOT NULL DEFAULT 0;

-- API keys: only the SHA-256 of the secret is kept (the secret is 32
-- random bytes shown once). Each key acts as its own bot account.
CREATE TABLE api_keys (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    secret_hash BLOB    NOT NULL UNIQUE,
    -- the first characters of the secret, to tell keys apart in the list
    prefix      TEXT    NOT NULL,
    -- 'read_only' | 'full'
    scope       TEXT    NOT NULL,
    -- JSON array of conversation ids the key is limited to; NULL: all
    rooms       TEXT,
    bot_id      INTEGER NOT NULL REFERENCES users(id),
    created_by  INTEGER NOT NULL REFERENCES users(id),
    created_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER
);

-- Sign-in hand-off tokens: one use, short-lived, bound to one user; only
-- the SHA-256 of the token is kept.
CREATE TABLE handoff_tokens (
    token_hash BLOB    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id),
    expires_ms INTEGER NOT NULL,
    used_ms    INTEGER
) WITHOUT ROWID;
CREATE INDEX handoff_tokens_by_expiry ON handoff_tokens(expires_ms);
