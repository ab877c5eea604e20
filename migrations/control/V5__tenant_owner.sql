-- The person a shop was opened for. Provisioning makes them the shop's first owner (a staff
-- account with the owner role, invited by email to set a password); the platform keeps the
-- address as the shop's contact. Shops opened without one get their owner by CLI
-- (`agora staff create`).
ALTER TABLE agora.tenants
    ADD COLUMN owner_email text CHECK (owner_email IS NULL OR length(owner_email) BETWEEN 3 AND 254),
    ADD COLUMN owner_name text CHECK (owner_name IS NULL OR length(owner_name) <= 200);
