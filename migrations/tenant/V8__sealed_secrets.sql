-- Authenticator seeds and webhook signing secrets are sealed from now on (AES-256-GCM, see
-- agora_kernel::sealing), like OIDC client secrets already were. SQL cannot seal (the key lives
-- only in the application), so values stored before this migration stay readable in the clear
-- until the application seals them: at their next use, or all at once with
-- `agora reseal-secrets`.

-- A seed in the clear is 20 bytes; sealed, 48 (12 nonce + 20 + 16 tag).
ALTER TABLE mfa_totp DROP CONSTRAINT mfa_totp_secret_check;
ALTER TABLE mfa_totp ADD CONSTRAINT mfa_totp_secret_size CHECK (length(secret) IN (20, 48));

-- Webhook secrets: the sealed value replaces the text column once written.
ALTER TABLE webhook_endpoints
    ADD COLUMN secret_sealed bytea,
    ADD COLUMN previous_secret_sealed bytea,
    ALTER COLUMN secret DROP NOT NULL,
    ADD CONSTRAINT webhook_endpoints_secret_present CHECK (secret IS NOT NULL OR secret_sealed IS NOT NULL);
-- A previous secret (sealed or in the clear) exists exactly while it has an end. V3 named this
-- rule for the clear column only (PostgreSQL called it webhook_endpoints_check1).
ALTER TABLE webhook_endpoints DROP CONSTRAINT webhook_endpoints_check1;
ALTER TABLE webhook_endpoints ADD CONSTRAINT webhook_endpoints_previous_secret_ends CHECK (
    (previous_secret IS NULL AND previous_secret_sealed IS NULL) = (previous_secret_expires_at IS NULL)
);
