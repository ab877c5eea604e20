-- A shop's primary domain: the one address Agora uses when it writes an absolute link to the
-- shop (in emails, OpenID Connect redirects). Without one, links use <slug>.<base domain>.
-- Never the Host a request arrived with: a client chooses that.
ALTER TABLE agora.tenant_domains ADD COLUMN is_primary boolean NOT NULL DEFAULT false;
CREATE UNIQUE INDEX tenant_domains_one_primary ON agora.tenant_domains (tenant_id) WHERE is_primary;
