-- Durable events and jobs, shared by every replica.

-- Every published event, written in the transaction of the change that caused it.
CREATE TABLE agora.outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    tenant_id     uuid,
    tenant_slug   text,
    name          text NOT NULL,
    aggregate_id  text NOT NULL,
    payload       jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_tenant_idx ON agora.outbox (tenant_id, id);
CREATE INDEX outbox_created_idx ON agora.outbox (created_at);

-- The job queue. An event's delivery to one subscriber is a job too (kind 'event.deliver'), so
-- retries, backoff, leases, ordering and the dead state are one mechanism.
CREATE TABLE agora.jobs (
    id            bigserial PRIMARY KEY,
    job_id        uuid NOT NULL UNIQUE,
    kind          text NOT NULL,
    tenant_id     uuid,
    tenant_slug   text,
    payload       jsonb NOT NULL,
    state         text NOT NULL DEFAULT 'queued'
                  CHECK (state IN ('queued', 'running', 'retry', 'succeeded', 'dead', 'cancelled')),
    priority      smallint NOT NULL DEFAULT 0,
    run_at        timestamptz NOT NULL DEFAULT now(),
    attempts      integer NOT NULL DEFAULT 0,
    max_attempts  integer NOT NULL DEFAULT 10 CHECK (max_attempts >= 1),
    -- At most one unfinished job per (kind, dedup_key).
    dedup_key     text,
    -- Jobs sharing an ordering key run one at a time, oldest first.
    ordering_key  text,
    -- The event this job delivers, and to whom (event.deliver jobs only).
    outbox_id     bigint REFERENCES agora.outbox (id) ON DELETE CASCADE,
    subscriber    text,
    locked_by     text,
    locked_until  timestamptz,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    started_at    timestamptz,
    finished_at   timestamptz
);
CREATE INDEX jobs_ready_idx ON agora.jobs (priority DESC, run_at, id) WHERE state IN ('queued', 'retry');
CREATE INDEX jobs_running_idx ON agora.jobs (locked_until) WHERE state = 'running';
CREATE INDEX jobs_ordering_idx ON agora.jobs (ordering_key, id) WHERE ordering_key IS NOT NULL AND state IN ('queued', 'retry', 'running');
CREATE UNIQUE INDEX jobs_dedup_idx ON agora.jobs (kind, dedup_key) WHERE dedup_key IS NOT NULL AND state IN ('queued', 'retry', 'running');
CREATE INDEX jobs_problem_idx ON agora.jobs (state, id) WHERE state IN ('retry', 'dead');
CREATE INDEX jobs_outbox_idx ON agora.jobs (outbox_id) WHERE outbox_id IS NOT NULL;
CREATE INDEX jobs_finished_idx ON agora.jobs (finished_at) WHERE state IN ('succeeded', 'cancelled');

-- One row per tick of a recurring job: the replica that inserts it enqueues the run.
CREATE TABLE agora.recurring_ticks (
    name     text NOT NULL,
    tick_at  timestamptz NOT NULL,
    PRIMARY KEY (name, tick_at)
);

-- Side effects of `diagnostics.probe` jobs (queue benchmarks and crash tests): one row per job
-- however often it ran, and how often that was.
CREATE TABLE agora.job_probes (
    job_id  uuid PRIMARY KEY,
    batch   text NOT NULL,
    runs    integer NOT NULL DEFAULT 1,
    ran_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_probes_batch_idx ON agora.job_probes (batch);

-- Deliveries of `diagnostics.ping.v1` events: commit-to-subscriber latency.
CREATE TABLE agora.event_probes (
    event_id    uuid PRIMARY KEY,
    batch       text NOT NULL,
    latency_ms  double precision NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
