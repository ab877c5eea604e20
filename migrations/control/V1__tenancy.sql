-- Control schema: everything that is not one tenant's data.
CREATE SCHEMA IF NOT EXISTS agora;

CREATE TABLE agora.tenants (
    id           uuid PRIMARY KEY,
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{0,38}[a-z0-9]$'),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    status       text NOT NULL CHECK (status IN ('provisioning', 'active', 'suspended')),
    schema_name  text NOT NULL UNIQUE,
    -- Highest tenant migration applied to this tenant's schema (0 = none yet).
    schema_version integer NOT NULL DEFAULT 0,
    created_at   timestamptz NOT NULL DEFAULT now(),
    created_by   text NOT NULL,
    modified_at  timestamptz NOT NULL DEFAULT now(),
    modified_by  text NOT NULL,
    version      bigint NOT NULL DEFAULT 1
);
CREATE INDEX tenants_created_idx ON agora.tenants (created_at, id);

-- Custom domains; <slug>.<base domain> needs no row.
CREATE TABLE agora.tenant_domains (
    domain      text PRIMARY KEY CHECK (domain = lower(domain)),
    tenant_id   uuid NOT NULL REFERENCES agora.tenants (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text NOT NULL
);
CREATE INDEX tenant_domains_tenant_idx ON agora.tenant_domains (tenant_id);

-- Idempotency-Key records, scoped to tenant ('platform' outside a tenant) and caller.
CREATE TABLE agora.idempotency_keys (
    tenant_key       text NOT NULL,
    caller           text NOT NULL,
    key              text NOT NULL,
    request_hash     text NOT NULL,
    state            text NOT NULL CHECK (state IN ('in_progress', 'completed')),
    response_status  integer,
    response_headers jsonb,
    response_body    bytea,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_key, caller, key)
);
CREATE INDEX idempotency_keys_created_idx ON agora.idempotency_keys (created_at);
