-- Profiles: a password change signs out the account's other sessions.
-- Every session remembers the epoch it was signed in under; a change bumps it.
ALTER TABLE users ADD COLUMN auth_epoch INTEGER NOT NULL DEFAULT 0;
