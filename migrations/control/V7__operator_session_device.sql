-- Operator sessions record where they were opened from, as shop sessions do (address and
-- browser), so operators can tell their sessions apart.
ALTER TABLE agora.operator_sessions ADD COLUMN ip text, ADD COLUMN user_agent text;
