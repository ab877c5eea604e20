-- Single sign-on without back doors (issue 8, scenario 3).

-- The owner may make the provider the only way in for staff other than owners: their password
-- logins are refused, and their accounts are linked by verified email on first provider login.
ALTER TABLE oidc_provider ADD COLUMN staff_sso_only boolean NOT NULL DEFAULT false;

-- A provider login that found an existing account by its email. The account is linked only when
-- its holder, signed in, confirms with the token (kept here as a digest). Single use, short-lived.
CREATE TABLE oidc_pending_links (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issuer      text NOT NULL,
    subject     text NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oidc_pending_links_user_idx ON oidc_pending_links (user_id);
CREATE INDEX oidc_pending_links_expiry_idx ON oidc_pending_links (expires_at);
