-- Second factor (TOTP and recovery codes), the shop's identity policy, and nothing else: account
-- export and erasure work on the identity tables as they are.

-- One authenticator per account. `activated_at` stays NULL until the owner proves the app works
-- (a first code), so a half-finished enrolment never locks anybody out. `last_step` is the last
-- accepted 30 s time step: a code is accepted once, even within its ±1 step window.
-- The secret is kept as issued: the server must compute codes from it, so it cannot be hashed.
CREATE TABLE mfa_totp (
    user_id       uuid PRIMARY KEY REFERENCES users (id),
    secret        bytea NOT NULL CHECK (length(secret) = 20),
    activated_at  timestamptz,
    last_step     bigint,
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- Ten per activation, shown once, stored as SHA-256 (they are random, so a slow hash adds
-- nothing), each usable once.
CREATE TABLE mfa_recovery_codes (
    user_id    uuid NOT NULL REFERENCES users (id),
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- The short-lived proof that a login passed its password step; exchanged once, with a code,
-- for a session or tokens. Stored hashed like sessions.
CREATE TABLE mfa_challenges (
    id_hash     bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    client      text NOT NULL CHECK (client IN ('browser', 'api')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX mfa_challenges_user_idx ON mfa_challenges (user_id);

-- The shop's identity policy: one row at most (absent = defaults).
CREATE TABLE identity_policy (
    singleton           boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    staff_mfa_required  boolean NOT NULL DEFAULT false,
    modified_at         timestamptz NOT NULL DEFAULT now(),
    modified_by         text NOT NULL,
    version             bigint NOT NULL DEFAULT 1
);
