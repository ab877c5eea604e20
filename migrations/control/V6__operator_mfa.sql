-- A second factor for platform operators, as shops have for their accounts (tenant V5): one
-- authenticator per operator (seed sealed, see agora_kernel::sealing; 48 bytes), ten single-use
-- recovery codes stored as SHA-256, and the short-lived challenge between the password step and
-- the code.
CREATE TABLE agora.operator_mfa_totp (
    operator_id   uuid PRIMARY KEY REFERENCES agora.operators (id),
    secret        bytea NOT NULL CHECK (length(secret) = 48),
    activated_at  timestamptz,
    last_step     bigint,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE agora.operator_mfa_recovery_codes (
    operator_id  uuid NOT NULL REFERENCES agora.operators (id),
    code_hash    bytea NOT NULL,
    used_at      timestamptz,
    PRIMARY KEY (operator_id, code_hash)
);

CREATE TABLE agora.operator_mfa_challenges (
    id_hash      bytea PRIMARY KEY,
    operator_id  uuid NOT NULL REFERENCES agora.operators (id),
    client       text NOT NULL CHECK (client IN ('browser', 'api')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX operator_mfa_challenges_operator_idx ON agora.operator_mfa_challenges (operator_id);
