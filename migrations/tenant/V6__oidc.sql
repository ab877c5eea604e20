-- OpenID Connect login: the shop's provider, logins in flight, and which provider identity is
-- which account.

-- At most one provider per shop (the single row has id = true).
CREATE TABLE oidc_provider (
    id                 boolean PRIMARY KEY DEFAULT true CHECK (id),
    issuer_url         text NOT NULL CHECK (length(issuer_url) BETWEEN 1 AND 2000),
    client_id          text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 255),
    -- AES-256-GCM with a key derived from AGORA_TOKEN_KEY; the 96-bit nonce is stored beside it.
    -- The plaintext secret is never stored and never returned.
    client_secret_encrypted bytea NOT NULL,
    client_secret_nonce     bytea NOT NULL CHECK (length(client_secret_nonce) = 12),
    -- Which accounts log in through it: new ones are created as this kind.
    account_kind       text NOT NULL CHECK (account_kind IN ('customer', 'staff')),
    -- Role given to staff created on first login (NULL: none, an owner assigns roles later).
    staff_role         text,
    -- Where the browser lands after a successful login (a path on this shop, never another site).
    return_path        text NOT NULL DEFAULT '/' CHECK (return_path LIKE '/%' AND return_path NOT LIKE '//%'),
    modified_at        timestamptz NOT NULL DEFAULT now(),
    modified_by        text NOT NULL,
    version            bigint NOT NULL DEFAULT 1
);

-- A login between the redirect to the provider and its callback. Single use (deleted when the
-- callback arrives), short-lived, and bound to the browser that started it by a cookie whose
-- digest is kept here.
CREATE TABLE oidc_logins (
    state_hash     bytea PRIMARY KEY,
    browser_hash   bytea NOT NULL,
    account_kind   text NOT NULL CHECK (account_kind IN ('customer', 'staff')),
    nonce          text NOT NULL,
    pkce_verifier  text NOT NULL,
    redirect_uri   text NOT NULL,
    expires_at     timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oidc_logins_expiry_idx ON oidc_logins (expires_at);

-- Provider identities (issuer + subject, stable across email changes at the provider) of accounts.
-- No copy of the email or other profile data: the account row is the one place that holds them.
CREATE TABLE oidc_identities (
    issuer      text NOT NULL,
    subject     text NOT NULL,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_user_idx ON oidc_identities (user_id);
