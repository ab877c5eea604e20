-- Identity: the shop's accounts (customers and staff), their credentials, sessions, tokens,
-- roles, API keys, login throttling, the security audit log and customers' addresses.

-- One table for both kinds of account: they share credentials, sessions and throttling. An email
-- is unique per kind, case-insensitively, so a merchant may also shop in their own store.
CREATE TABLE users (
    id                 uuid PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('customer', 'staff')),
    email              text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name               text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    -- PHC string (argon2id); NULL for a staff member invited but not yet set up.
    password_hash      text,
    email_verified_at  timestamptz,
    disabled_at        timestamptz,
    -- Raised on password change and disable: access tokens issued before it stop working.
    credentials_changed_at timestamptz NOT NULL DEFAULT now(),
    locale             text,
    phone              text CHECK (phone IS NULL OR length(phone) <= 40),
    created_at         timestamptz NOT NULL DEFAULT now(),
    created_by         text NOT NULL,
    modified_at        timestamptz NOT NULL DEFAULT now(),
    modified_by        text NOT NULL,
    version            bigint NOT NULL DEFAULT 1,
    deleted_at         timestamptz
);
CREATE UNIQUE INDEX users_email_idx ON users (kind, lower(email)) WHERE deleted_at IS NULL;
CREATE INDEX users_list_idx ON users (kind, created_at, id) WHERE deleted_at IS NULL;

-- Built-in roles (seeded below, `builtin`) and the shop's custom roles: named sets of permissions.
CREATE TABLE roles (
    id           uuid PRIMARY KEY,
    key          text NOT NULL UNIQUE CHECK (key ~ '^[a-z][a-z0-9_]{1,62}$'),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    builtin      boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL DEFAULT now(),
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1
);

CREATE TABLE role_permissions (
    role_id     uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission  text NOT NULL CHECK (permission ~ '^[a-z_]+\.[a-z_]+$'),
    PRIMARY KEY (role_id, permission)
);

CREATE TABLE user_roles (
    user_id     uuid NOT NULL REFERENCES users (id),
    role_id     uuid NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL,
    PRIMARY KEY (user_id, role_id)
);

-- Browser sessions. Only a SHA-256 of the cookie's id is stored, so a database leak yields no
-- usable session; the CSRF token is not a credential on its own and is kept as issued.
CREATE TABLE sessions (
    id_hash       bytea PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users (id),
    csrf_token    text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    last_seen_at  timestamptz NOT NULL DEFAULT now(),
    -- Absolute limit; the idle limit is checked against last_seen_at.
    expires_at    timestamptz NOT NULL,
    ip            text,
    user_agent    text
);
CREATE INDEX sessions_user_idx ON sessions (user_id);

-- Refresh tokens rotate: each use marks the token used and issues the next of the same family.
-- A used token presented again means it leaked, and the whole family is revoked.
CREATE TABLE refresh_tokens (
    id           uuid PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    family_id    uuid NOT NULL,
    user_id      uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    revoked_at   timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Keys for integrations: shown once, stored as a SHA-256 (they are long random strings, so a
-- slow hash adds nothing), found by their public prefix.
CREATE TABLE api_keys (
    id            uuid PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    prefix        text NOT NULL UNIQUE,
    key_hash      bytea NOT NULL,
    scopes        text[] NOT NULL CHECK (cardinality(scopes) BETWEEN 1 AND 100),
    last_used_at  timestamptz,
    revoked_at    timestamptz,
    expires_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    created_by    text NOT NULL,
    modified_at   timestamptz NOT NULL DEFAULT now(),
    modified_by   text NOT NULL,
    version       bigint NOT NULL DEFAULT 1
);
CREATE INDEX api_keys_list_idx ON api_keys (created_at, id);

-- Single-use, expiring tokens mailed to the user (email verification, password reset).
CREATE TABLE one_time_tokens (
    token_hash   bytea PRIMARY KEY,
    user_id      uuid NOT NULL REFERENCES users (id),
    purpose      text NOT NULL CHECK (purpose IN ('verify_email', 'reset_password')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz
);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id, purpose);

-- Failed logins per key ('account:<kind>:<email>' or 'ip:<address>') in the current window.
-- Keyed by the email typed, not a user id, so unknown accounts are throttled the same way.
CREATE TABLE login_throttle (
    key              text PRIMARY KEY,
    failures         integer NOT NULL DEFAULT 0 CHECK (failures >= 0),
    window_started_at timestamptz NOT NULL DEFAULT now(),
    last_failure_at  timestamptz NOT NULL DEFAULT now()
);

-- Security events, written once, never changed.
CREATE TABLE audit_log (
    id          uuid PRIMARY KEY,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL,
    action      text NOT NULL CHECK (action ~ '^[a-z_.]+$'),
    subject     text,
    ip          text,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_list_idx ON audit_log (occurred_at DESC, id DESC);

CREATE TABLE customer_addresses (
    id                  uuid PRIMARY KEY,
    user_id             uuid NOT NULL REFERENCES users (id),
    name                text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    company             text CHECK (company IS NULL OR length(company) <= 200),
    line1               text NOT NULL CHECK (length(line1) BETWEEN 1 AND 200),
    line2               text CHECK (line2 IS NULL OR length(line2) <= 200),
    city                text NOT NULL CHECK (length(city) BETWEEN 1 AND 100),
    region              text CHECK (region IS NULL OR length(region) <= 100),
    postal_code         text NOT NULL CHECK (length(postal_code) BETWEEN 1 AND 20),
    country             text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
    phone               text CHECK (phone IS NULL OR length(phone) <= 40),
    default_shipping    boolean NOT NULL DEFAULT false,
    default_billing     boolean NOT NULL DEFAULT false,
    created_at          timestamptz NOT NULL DEFAULT now(),
    created_by          text NOT NULL,
    modified_at         timestamptz NOT NULL DEFAULT now(),
    modified_by         text NOT NULL,
    version             bigint NOT NULL DEFAULT 1,
    deleted_at          timestamptz
);
CREATE INDEX customer_addresses_user_idx ON customer_addresses (user_id, created_at) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX customer_addresses_default_shipping_idx ON customer_addresses (user_id)
    WHERE default_shipping AND deleted_at IS NULL;
CREATE UNIQUE INDEX customer_addresses_default_billing_idx ON customer_addresses (user_id)
    WHERE default_billing AND deleted_at IS NULL;

-- Built-in roles. Their permissions are defined in code (agora_identity roles.rs, in terms of
-- agora_kernel::auth::perm), so a new permission reaches owners and admins without a migration;
-- the rows exist so staff can be assigned them like custom roles.
INSERT INTO roles (id, key, name, builtin, created_by, modified_by) VALUES
    ('00000000-0000-7000-8000-000000000001', 'owner', 'Owner', true, 'system:migration', 'system:migration'),
    ('00000000-0000-7000-8000-000000000002', 'admin', 'Administrator', true, 'system:migration', 'system:migration'),
    ('00000000-0000-7000-8000-000000000003', 'catalog_manager', 'Catalog manager', true, 'system:migration', 'system:migration'),
    ('00000000-0000-7000-8000-000000000004', 'order_manager', 'Order manager', true, 'system:migration', 'system:migration'),
    ('00000000-0000-7000-8000-000000000005', 'support', 'Customer support', true, 'system:migration', 'system:migration'),
    ('00000000-0000-7000-8000-000000000006', 'read_only', 'Read-only', true, 'system:migration', 'system:migration');
