-- Each session remembers which generation of the account's credentials it was opened under
-- (users.credentials_changed_at in microseconds). A session is honoured only while that still
-- matches, so a login racing a password change cannot leave a session the change missed, and
-- the same rule holds when sessions live in Redis, outside the database's transactions.
-- Sessions opened before this migration carry 0 and end at their next use: one new login each.
ALTER TABLE sessions ADD COLUMN credentials_generation bigint NOT NULL DEFAULT 0;
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);
