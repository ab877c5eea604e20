-- As tenant migration V7 for shop sessions: an operator session is honoured only while the
-- operator's credentials generation it was opened under is current.
ALTER TABLE agora.operator_sessions ADD COLUMN credentials_generation bigint NOT NULL DEFAULT 0;
