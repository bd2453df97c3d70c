-- The support desk. A guest is a `users` row with role 'guest' (an
-- unguessable username no one can register, password '!': cannot sign
-- in); their one support conversation is a `rooms` row of kind 'support'
-- with the guest, and the agent who has it, in `members`.
CREATE TABLE guests (
    user_id    INTEGER PRIMARY KEY REFERENCES users(id),
    -- what they told (may be '')
    name       TEXT    NOT NULL DEFAULT '',
    contact    TEXT    NOT NULL DEFAULT '',
    -- what the server saw at the first visit
    first_page TEXT    NOT NULL DEFAULT '',
    browser    TEXT    NOT NULL DEFAULT '',
    created_ms INTEGER NOT NULL
);

-- One row per support conversation: who has it. Assignment is one guarded
-- UPDATE ... WHERE agent_id IS NULL AND status = 'waiting', so two agents
-- can never both get the same conversation.
CREATE TABLE support (
    room_id    INTEGER PRIMARY KEY REFERENCES rooms(id),
    guest_id   INTEGER NOT NULL UNIQUE REFERENCES users(id),
    -- 'waiting' | 'assigned' | 'closed'
    status     TEXT    NOT NULL,
    agent_id   INTEGER REFERENCES users(id),
    -- queue order of waiting conversations, lowest first (a conversation
    -- whose agent left goes before everyone waiting)
    queue_key  INTEGER NOT NULL,
    updated_ms INTEGER NOT NULL,
    CHECK ((status = 'assigned') = (agent_id IS NOT NULL))
);
CREATE INDEX support_queue ON support(queue_key) WHERE status = 'waiting';
CREATE INDEX support_by_agent ON support(agent_id) WHERE agent_id IS NOT NULL;
