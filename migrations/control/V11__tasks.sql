-- Long-running work a user started (an import, an export, a bulk change) and how it is going,
-- for the merchant who watches it. The work itself is a job in agora.jobs (job_id); the task is
-- what a person reads: progress, the rows that were refused, the file it produced.
CREATE TABLE agora.tasks (
    task_id              uuid PRIMARY KEY,
    tenant_id            uuid NOT NULL REFERENCES agora.tenants (id) ON DELETE CASCADE,
    job_id               uuid NOT NULL UNIQUE,
    kind                 text NOT NULL,
    status               text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    -- The permission the starting operation required: who holds it may read and cancel the task.
    permission           text NOT NULL,
    -- The starter as `Principal::key()` (`staff:<id>`, `api-key:<id>`), who may always read it.
    started_by           text NOT NULL,
    rows_total           bigint CHECK (rows_total >= 0),
    rows_done            bigint NOT NULL DEFAULT 0 CHECK (rows_done >= 0),
    rows_failed          bigint NOT NULL DEFAULT 0 CHECK (rows_failed >= 0),
    percent              smallint NOT NULL DEFAULT 0 CHECK (percent BETWEEN 0 AND 100),
    -- Every error counted; only the first ones are kept in agora.task_errors.
    error_count          bigint NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    failure              text,
    -- The file it produced: {"key", "name", "content_type"} (a key in the shop's file storage).
    result               jsonb,
    cancel_requested_at  timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    started_at           timestamptz,
    finished_at          timestamptz,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_tenant_created_idx ON agora.tasks (tenant_id, created_at, task_id);

-- The rows a task refused, one per (line, field); a re-run of the job starts them afresh.
CREATE TABLE agora.task_errors (
    task_id  uuid NOT NULL REFERENCES agora.tasks (task_id) ON DELETE CASCADE,
    line     bigint NOT NULL,
    field    text NOT NULL,
    message  text NOT NULL,
    PRIMARY KEY (task_id, line, field)
);
