-- The kernel's one throttle (modules/kernel/src/throttle.rs): attempts per key in a one-hour
-- window, scoped to a shop (its tenant id) or the platform. Replaces the per-shop login_throttle
-- tables and agora.operator_login_throttle, whose check-then-count let parallel guesses through.
CREATE TABLE agora.throttles (
    scope             text NOT NULL,
    key               text NOT NULL,
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    window_started_at timestamptz NOT NULL DEFAULT now(),
    last_attempt_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX throttles_window_idx ON agora.throttles (window_started_at);

DROP TABLE agora.operator_login_throttle;

-- Stored responses were scoped to a client address or a digest of unverified credentials and
-- kept in the clear; they are now scoped to the verified principal and sealed. Old rows can be
-- neither matched nor opened: drop them (they live 24 hours anyway).
DELETE FROM agora.idempotency_keys;
