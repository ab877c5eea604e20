-- Platform operators: the people who run the platform (open shops, watch the queue). They log in
-- to /api/v1/platform/*; the configured platform token only bootstraps the first of them.
CREATE TABLE agora.operators (
    id                 uuid PRIMARY KEY,
    email              text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name               text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    password_hash      text NOT NULL,
    disabled_at        timestamptz,
    credentials_changed_at timestamptz NOT NULL DEFAULT now(),
    created_at         timestamptz NOT NULL DEFAULT now(),
    created_by         text NOT NULL,
    modified_at        timestamptz NOT NULL DEFAULT now(),
    modified_by        text NOT NULL,
    version            bigint NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX operators_email_idx ON agora.operators (lower(email));

-- Operators' browser sessions (SHA-256 of the cookie's id, as for shop users).
CREATE TABLE agora.operator_sessions (
    id_hash       bytea PRIMARY KEY,
    operator_id   uuid NOT NULL REFERENCES agora.operators (id),
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL
);
CREATE INDEX operator_sessions_operator_idx ON agora.operator_sessions (operator_id);

-- Failed operator logins per key, as login_throttle in tenant schemas.
CREATE TABLE agora.operator_login_throttle (
    key               text PRIMARY KEY,
    failures          integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    window_started_at timestamptz NOT NULL DEFAULT now(),
    last_failure_at   timestamptz NOT NULL DEFAULT now()
);
