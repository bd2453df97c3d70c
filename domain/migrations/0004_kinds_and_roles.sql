-- One conversation model: every conversation has a kind, every member a role.
-- (Tables keep their v1 names: `rooms` holds conversations of every kind.)

-- 'room' (public group room) | 'direct' (private 1:1 chat)
ALTER TABLE rooms ADD COLUMN kind TEXT NOT NULL DEFAULT 'room';

-- 'owner' | 'admin' | 'member'
ALTER TABLE members ADD COLUMN role TEXT NOT NULL DEFAULT 'member';
UPDATE members SET role = 'owner'
 WHERE user_id = (SELECT owner_id FROM rooms WHERE rooms.id = members.room_id);
