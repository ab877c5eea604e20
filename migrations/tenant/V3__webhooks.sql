-- Outgoing webhooks: the shop's endpoints and the log of every delivery attempt.

-- Where the shop wants events POSTed, which ones, and the secret deliveries are signed with.
CREATE TABLE webhook_endpoints (
    id                          uuid PRIMARY KEY,
    url                         text NOT NULL CHECK (length(url) BETWEEN 1 AND 2048),
    description                 text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
    -- Event names such as 'tenancy.shop_settings_updated.v1', or '*' for every event.
    event_types                 text[] NOT NULL CHECK (cardinality(event_types) BETWEEN 1 AND 100),
    status                      text NOT NULL DEFAULT 'enabled' CHECK (status IN ('enabled', 'disabled')),
    disabled_reason             text,
    disabled_at                 timestamptz,
    -- Stored as issued because signing needs them in clear. Encrypting them at rest under a
    -- platform key comes with the identity issue's secret handling.
    secret                      text NOT NULL,
    -- During a rotation's grace period deliveries are signed with both secrets.
    previous_secret             text,
    previous_secret_expires_at  timestamptz,
    -- Failure bookkeeping for automatic disabling; a success resets it.
    consecutive_failures        integer NOT NULL DEFAULT 0 CHECK (consecutive_failures >= 0),
    first_failure_at            timestamptz,
    last_failure_at             timestamptz,
    last_success_at             timestamptz,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    created_by                  text NOT NULL,
    modified_at                 timestamptz NOT NULL DEFAULT now(),
    modified_by                 text NOT NULL,
    version                     bigint NOT NULL DEFAULT 1,
    deleted_at                  timestamptz,
    CHECK ((status = 'disabled') = (disabled_reason IS NOT NULL)),
    CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL))
);
CREATE INDEX webhook_endpoints_list_idx ON webhook_endpoints (created_at, id) WHERE deleted_at IS NULL;

-- One row per attempt to deliver one event to one endpoint. Rows are written once and never
-- changed, so they carry no modified_* or version columns.
CREATE TABLE webhook_deliveries (
    id               uuid PRIMARY KEY,
    endpoint_id      uuid NOT NULL REFERENCES webhook_endpoints (id),
    event_id         uuid NOT NULL,
    event_type       text NOT NULL,
    -- What caused the delivery: the event itself, a manual redelivery, or a test ping.
    trigger          text NOT NULL CHECK (trigger IN ('event', 'redelivery', 'ping')),
    attempt          integer NOT NULL CHECK (attempt >= 1),
    request_body     text NOT NULL,
    response_status  integer CHECK (response_status BETWEEN 100 AND 999),
    response_body    text CHECK (octet_length(response_body) <= 2048),
    error            text,
    duration_ms      integer NOT NULL CHECK (duration_ms >= 0),
    succeeded        boolean NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    created_by       text NOT NULL
);
CREATE INDEX webhook_deliveries_endpoint_idx ON webhook_deliveries (endpoint_id, created_at DESC, id DESC);
CREATE INDEX webhook_deliveries_event_idx ON webhook_deliveries (endpoint_id, event_id, created_at DESC);
