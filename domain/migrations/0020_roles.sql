-- Roles (issue 16): every account has one.
-- 'guest' (a support-desk visitor, cannot sign in) | 'user' | 'agent' | 'admin'.
ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'user';
CREATE INDEX users_by_role ON users(role) WHERE role IN ('agent', 'admin');
