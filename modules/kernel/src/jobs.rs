//! Durable background jobs in `agora.jobs`, run by a worker pool inside the process.
//!
//! - Enqueue inside the caller's transaction ([`crate::tx::TenantTx::enqueue`], [`enqueue_platform`]):
//!   a rolled-back change enqueues nothing.
//! - Workers claim with `FOR UPDATE SKIP LOCKED`, so any number of processes share the queue.
//! - A claimed job holds a lease that its worker renews (heartbeat); a crashed worker's jobs are
//!   taken back when their lease expires and run again, so handlers must be idempotent.
//! - Failures retry with exponential backoff and jitter; after `max_attempts` a job is dead. An
//!   attempt that could not reach the database is not the job's failure: it is retried after
//!   [`UNREACHABLE_RETRY`] and does not count against `max_attempts`.
//! - `run_at` schedules, `dedup_key` keeps one unfinished job per key, `ordering_key` runs jobs
//!   one at a time in order, `priority` goes first.
//! - Recurring jobs are declared in code with cron syntax; one replica wins each tick.
//! - Enqueueing sends `NOTIFY agora_jobs`; workers LISTEN, and poll as a fallback.

use crate::db::{Database, DbError};
use crate::events::{EventBus, DELIVER_KIND};
use crate::http::TenantContext;
use crate::TenantSchema;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, IntGaugeVec, Opts};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;

pub const NOTIFY_CHANNEL: &str = "agora_jobs";

/// A kind of background work. The payload is the value itself, stored as JSON.
pub trait Job: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable name stored with each job (`notifications.send_email`).
    const KIND: &'static str;
    /// Attempts before the job is dead.
    const MAX_ATTEMPTS: i32 = 10;

    /// Delay before retry number `attempt` (1-based). Default: 2^(attempt-1) s, at most 1 h.
    fn backoff(attempt: i32) -> Duration {
        default_backoff(attempt)
    }

    fn run(self, ctx: JobContext) -> impl Future<Output = Result<(), JobError>> + Send;
}

pub fn default_backoff(attempt: i32) -> Duration {
    let exp = u32::try_from(attempt.clamp(1, 30) - 1).unwrap_or(0);
    Duration::from_secs(2u64.saturating_pow(exp).min(3600))
}

/// How soon an attempt that could not reach the database runs again. Short and fixed: during an
/// outage the worker cannot claim anything anyway, so this only paces the first attempts after
/// the database is back, and a doubling backoff would push them far past its return.
pub const UNREACHABLE_RETRY: Duration = Duration::from_secs(2);

/// Why a job failed: retried later, or given up at once.
#[derive(Debug)]
pub struct JobError {
    pub message: String,
    pub permanent: bool,
    /// Overrides the job kind's backoff for this retry (a job that knows better: its module's
    /// settings, a server's Retry-After).
    pub retry_after: Option<Duration>,
    /// The attempt could not talk to the database (no connection from the pool, or the
    /// connection died under a query): the job itself did not fail, so the attempt is not
    /// counted and it runs again after [`UNREACHABLE_RETRY`].
    pub database_unreachable: bool,
}

impl JobError {
    pub fn retry(message: impl std::fmt::Display) -> Self {
        Self { message: message.to_string(), permanent: false, retry_after: None, database_unreachable: false }
    }

    pub fn permanent(message: impl std::fmt::Display) -> Self {
        Self { message: message.to_string(), permanent: true, retry_after: None, database_unreachable: false }
    }

    /// Retry after `delay` (before jitter) instead of the kind's default backoff.
    pub fn after(mut self, delay: Duration) -> Self {
        self.retry_after = Some(delay);
        self
    }
}

/// What modules hand their jobs and subscribers at start-up (a mail transport, an HTTP client,
/// settings), found by type. A job reaches them through [`JobContext::resource`], so nothing
/// process-global is needed and two apps in one process (tests) never share them.
#[derive(Default)]
pub struct Resources(HashMap<std::any::TypeId, Arc<dyn std::any::Any + Send + Sync>>);

impl Resources {
    pub fn get<T: Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.0.get(&std::any::TypeId::of::<T>()).cloned().and_then(|any| any.downcast::<T>().ok())
    }
}

impl From<DbError> for JobError {
    fn from(e: DbError) -> Self {
        let database_unreachable = match &e {
            DbError::Pool(_) => true,
            DbError::Query(q) => lost_connection(q),
        };
        JobError { database_unreachable, ..JobError::retry(e) }
    }
}

impl From<diesel::result::Error> for JobError {
    fn from(e: diesel::result::Error) -> Self {
        JobError { database_unreachable: lost_connection(&e), ..JobError::retry(e) }
    }
}

/// The connection died under the query (the server restarting), as opposed to the query failing.
fn lost_connection(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    matches!(e, Error::DatabaseError(DatabaseErrorKind::UnableToSendCommand | DatabaseErrorKind::ClosedConnection, _))
}

/// What a running job can reach.
#[derive(Clone)]
pub struct JobContext {
    pub db: Database,
    pub bus: EventBus,
    pub tenant: Option<TenantContext>,
    pub job_id: uuid::Uuid,
    pub attempt: i32,
    pub resources: Arc<Resources>,
}

impl JobContext {
    /// A resource a module provided at start-up; its absence is a wiring mistake, retried so
    /// that a correctly wired replica can pick the job up.
    pub fn resource<T: Send + Sync + 'static>(&self) -> Result<Arc<T>, JobError> {
        self.resources.get::<T>().ok_or_else(|| {
            JobError::retry(format!("{} was not provided to this process's workers", std::any::type_name::<T>()))
        })
    }
}

/// Options for enqueueing a job (`TenantTx::enqueue`, [`enqueue_platform`]).
#[derive(Debug, Clone, Default)]
pub struct EnqueueOptions {
    pub run_at: Option<DateTime<Utc>>,
    pub priority: i16,
    pub dedup_key: Option<String>,
    pub ordering_key: Option<String>,
}

/// Adds a platform job (one for no shop) in the caller's control transaction. Returns its id, or
/// `None` when an unfinished job with the same `dedup_key` already exists. A shop's jobs go
/// through [`crate::tx::TenantTx::enqueue`].
pub async fn enqueue_platform<J: Job>(
    conn: &mut AsyncPgConnection,
    job: &J,
    options: EnqueueOptions,
) -> Result<Option<uuid::Uuid>, DbError> {
    enqueue_in(conn, None, job, options).await
}

pub(crate) async fn enqueue_in<J: Job>(
    conn: &mut AsyncPgConnection,
    tenant: Option<&TenantContext>,
    job: &J,
    options: EnqueueOptions,
) -> Result<Option<uuid::Uuid>, DbError> {
    let payload = serde_json::to_value(job).map_err(|e| DbError::Pool(format!("job payload: {e}")))?;
    insert_job(conn, J::KIND, tenant, payload, J::MAX_ATTEMPTS, options).await
}

#[derive(QueryableByName)]
struct Inserted {
    #[diesel(sql_type = SqlUuid)]
    job_id: uuid::Uuid,
}

pub(crate) async fn insert_job(
    conn: &mut AsyncPgConnection,
    kind: &str,
    tenant: Option<&TenantContext>,
    payload: serde_json::Value,
    max_attempts: i32,
    options: EnqueueOptions,
) -> Result<Option<uuid::Uuid>, DbError> {
    let rows: Vec<Inserted> = diesel::sql_query(
        "INSERT INTO agora.jobs (job_id, kind, tenant_id, tenant_slug, payload, priority, run_at, max_attempts, dedup_key, ordering_key) \
         VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, now()), $8, $9, $10) \
         ON CONFLICT (kind, dedup_key) WHERE dedup_key IS NOT NULL AND state IN ('queued', 'retry', 'running') DO NOTHING \
         RETURNING job_id",
    )
    .bind::<SqlUuid, _>(crate::new_id())
    .bind::<Text, _>(kind)
    .bind::<Nullable<SqlUuid>, _>(tenant.map(|t| t.id))
    .bind::<Nullable<Text>, _>(tenant.map(|t| t.slug.clone()))
    .bind::<Jsonb, _>(payload)
    .bind::<SmallInt, _>(options.priority)
    .bind::<Nullable<Timestamptz>, _>(options.run_at)
    .bind::<Integer, _>(max_attempts)
    .bind::<Nullable<Text>, _>(options.dedup_key)
    .bind::<Nullable<Text>, _>(options.ordering_key)
    .load(conn)
    .await?;
    notify_workers(conn).await?;
    Ok(rows.into_iter().next().map(|r| r.job_id))
}

/// Wakes LISTENing workers when the transaction commits (and never if it rolls back).
pub(crate) async fn notify_workers(conn: &mut AsyncPgConnection) -> Result<(), DbError> {
    diesel::sql_query(format!("SELECT pg_notify('{NOTIFY_CHANNEL}', '')")).execute(conn).await?;
    Ok(())
}

type Handler = Arc<dyn Fn(serde_json::Value, JobContext) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

struct Registered {
    handler: Handler,
    backoff: fn(i32) -> Duration,
}

struct Recurring {
    name: &'static str,
    schedule: croner::Cron,
    kind: &'static str,
    payload: serde_json::Value,
    max_attempts: i32,
}

/// The job kinds this process can run, and its recurring jobs. Built once at start-up.
#[derive(Default)]
pub struct JobRegistry {
    kinds: HashMap<&'static str, Registered>,
    recurring: Vec<Recurring>,
    resources: Arc<Resources>,
}

impl JobRegistry {
    /// Makes `value` available to every job and subscriber as `ctx.resource::<T>()`.
    pub fn provide<T: Send + Sync + 'static>(&mut self, value: Arc<T>) {
        if let Some(resources) = Arc::get_mut(&mut self.resources) {
            resources.0.insert(std::any::TypeId::of::<T>(), value);
        }
    }

    pub fn register<J: Job>(&mut self) {
        let handler: Handler = Arc::new(|payload, ctx| {
            Box::pin(async move {
                let job: J = serde_json::from_value(payload)
                    .map_err(|e| JobError::permanent(format!("undecodable payload: {e}")))?;
                job.run(ctx).await
            })
        });
        self.kinds.insert(J::KIND, Registered { handler, backoff: J::backoff });
    }

    /// Runs `job` on `cron` (5 fields, or 6 with seconds first), once per tick across replicas.
    pub fn recurring<J: Job>(&mut self, name: &'static str, cron: &str, job: J) -> Result<(), String> {
        let schedule =
            croner::Cron::from_str(cron).map_err(|e| format!("recurring job {name}: bad cron {cron:?}: {e}"))?;
        let payload = serde_json::to_value(&job).map_err(|e| e.to_string())?;
        self.register::<J>();
        self.recurring.push(Recurring { name, schedule, kind: J::KIND, payload, max_attempts: J::MAX_ATTEMPTS });
        Ok(())
    }

    pub fn kinds(&self) -> impl Iterator<Item = &&'static str> {
        self.kinds.keys()
    }
}

/// How a worker pool runs.
#[derive(Debug, Clone)]
pub struct WorkerSettings {
    pub concurrency: usize,
    pub poll_interval: Duration,
    pub lease: Duration,
    pub shutdown_timeout: Duration,
}

impl Default for WorkerSettings {
    fn default() -> Self {
        Self {
            concurrency: 4,
            poll_interval: Duration::from_secs(1),
            lease: Duration::from_secs(30),
            shutdown_timeout: Duration::from_secs(30),
        }
    }
}

/// `AGORA_WORKERS` (job slots in this process; 0 = web only) and `AGORA_JOB_LEASE_SECS` (how
/// long a claimed job is held before another worker may take it; renewed while it runs).
impl crate::settings::Settings for WorkerSettings {
    const KEYS: &'static [&'static str] = &["workers", "job_lease_secs"];

    fn load(src: &crate::settings::Source<'_>) -> Result<Self, crate::settings::SettingsError> {
        use crate::settings::range;
        Ok(Self {
            concurrency: src.parsed("AGORA_WORKERS", 4, range(0, 1024))?,
            lease: Duration::from_secs(src.parsed("AGORA_JOB_LEASE_SECS", 30, range(1, 3600))?),
            ..Self::default()
        })
    }
}

/// Job metrics on the shared `/metrics` endpoint.
#[derive(Clone)]
pub struct JobMetrics {
    depth: IntGaugeVec,
    duration: HistogramVec,
    failures: IntCounterVec,
}

impl JobMetrics {
    pub fn new(metrics: &crate::metrics::Metrics) -> Result<Self, prometheus::Error> {
        let depth = IntGaugeVec::new(Opts::new("jobs", "Jobs by state (queued, retry, running, dead)"), &["state"])?;
        let duration = HistogramVec::new(
            HistogramOpts::new("job_duration_seconds", "Job run time by kind")
                .buckets(vec![0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0]),
            &["kind"],
        )?;
        let failures = IntCounterVec::new(Opts::new("job_failures_total", "Failed job runs by kind"), &["kind"])?;
        metrics.register(Box::new(depth.clone()))?;
        metrics.register(Box::new(duration.clone()))?;
        metrics.register(Box::new(failures.clone()))?;
        Ok(Self { depth, duration, failures })
    }
}

/// A running worker pool. `shutdown` lets running jobs finish (up to the timeout) and hands the
/// rest back to the queue.
pub struct WorkerPool {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl WorkerPool {
    pub fn start(
        db: Database,
        bus: EventBus,
        registry: Arc<JobRegistry>,
        settings: WorkerSettings,
        metrics: Option<JobMetrics>,
    ) -> Self {
        let (stop, stopped) = watch::channel(false);
        let worker_id = format!("{}:{}:{}", hostname(), std::process::id(), crate::new_id().simple());
        let pool = Pool { db, bus, registry, settings, metrics, worker_id, wake: Arc::new(Notify::new()) };
        let task = tokio::spawn(pool.run(stopped));
        Self { stop, task }
    }

    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::error!(error = %e, "worker pool ended abnormally");
        }
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "host".into())
}

#[derive(QueryableByName, Debug)]
struct Claimed {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = SqlUuid)]
    job_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    tenant_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    tenant_slug: Option<String>,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Integer)]
    max_attempts: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    outbox_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    subscriber: Option<String>,
}

#[derive(QueryableByName)]
struct StateCount {
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

struct Pool {
    db: Database,
    bus: EventBus,
    registry: Arc<JobRegistry>,
    settings: WorkerSettings,
    metrics: Option<JobMetrics>,
    worker_id: String,
    wake: Arc<Notify>,
}

impl Pool {
    async fn run(self, mut stopped: watch::Receiver<bool>) {
        let this = Arc::new(self);
        let listener = tokio::spawn(listen(this.db.clone(), this.wake.clone()));
        let heartbeat = tokio::spawn(Arc::clone(&this).heartbeat());
        let mut running: JoinSet<()> = JoinSet::new();
        let mut next_due: Vec<Option<DateTime<Utc>>> =
            this.registry.recurring.iter().map(|r| next_tick(&r.schedule, Utc::now())).collect();
        let mut last_housekeeping = Instant::now() - Duration::from_secs(3600);
        tracing::info!(worker = %this.worker_id, concurrency = this.settings.concurrency, "job workers started");
        loop {
            if *stopped.borrow() {
                break;
            }
            if last_housekeeping.elapsed() >= this.settings.poll_interval {
                last_housekeeping = Instant::now();
                this.reclaim_expired().await;
                this.schedule_recurring(&mut next_due).await;
                this.record_depth().await;
            }
            while running.try_join_next().is_some() {}
            let free = this.settings.concurrency.saturating_sub(running.len());
            let mut claimed_any = false;
            if free > 0 {
                match this.claim(free).await {
                    Ok(jobs) => {
                        claimed_any = !jobs.is_empty();
                        for job in jobs {
                            let pool = Arc::clone(&this);
                            running.spawn(async move { pool.execute(job).await });
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "claiming jobs failed"),
                }
            }
            if claimed_any && running.len() < this.settings.concurrency {
                continue; // there may be more ready work
            }
            tokio::select! {
                _ = stopped.changed() => {}
                _ = this.wake.notified() => {}
                Some(_) = running.join_next(), if !running.is_empty() => {}
                _ = tokio::time::sleep(this.settings.poll_interval) => {}
            }
        }
        // Graceful stop: no new claims; let running jobs finish, then hand back the rest.
        let deadline = tokio::time::sleep(this.settings.shutdown_timeout);
        tokio::pin!(deadline);
        while !running.is_empty() {
            tokio::select! {
                _ = running.join_next() => {}
                _ = &mut deadline => break,
            }
        }
        running.abort_all();
        this.hand_back().await;
        listener.abort();
        heartbeat.abort();
        tracing::info!(worker = %this.worker_id, "job workers stopped");
    }

    async fn claim(&self, limit: usize) -> Result<Vec<Claimed>, DbError> {
        let (worker, lease) = (self.worker_id.clone(), lease_secs(self.settings.lease));
        let limit = i64::try_from(limit).unwrap_or(1);
        self.db
            .control_tx(async move |conn| {
                Ok(diesel::sql_query(
                    "UPDATE agora.jobs SET state = 'running', locked_by = $1, locked_until = now() + make_interval(secs => $2), \
                            attempts = attempts + 1, started_at = now() \
                     WHERE id IN ( \
                        SELECT j.id FROM agora.jobs j \
                        WHERE j.state IN ('queued', 'retry') AND j.run_at <= now() \
                          AND (j.ordering_key IS NULL OR NOT EXISTS ( \
                                SELECT 1 FROM agora.jobs e WHERE e.ordering_key = j.ordering_key AND e.id < j.id \
                                  AND e.state IN ('queued', 'retry', 'running'))) \
                        ORDER BY j.priority DESC, j.run_at, j.id \
                        LIMIT $3 FOR UPDATE SKIP LOCKED) \
                     RETURNING id, job_id, kind, tenant_id, tenant_slug, payload, attempts, max_attempts, outbox_id, subscriber",
                )
                .bind::<Text, _>(worker)
                .bind::<diesel::sql_types::Double, _>(lease)
                .bind::<BigInt, _>(limit)
                .load(conn)
                .await?)
            })
            .await
    }

    async fn execute(self: Arc<Self>, job: Claimed) {
        let started = Instant::now();
        let tenant = match (job.tenant_id, job.tenant_slug.as_deref()) {
            (Some(id), Some(slug)) => {
                TenantSchema::for_slug(slug).map(|schema| TenantContext { id, slug: slug.to_string(), schema })
            }
            _ => None,
        };
        let ctx = JobContext {
            db: self.db.clone(),
            bus: self.bus.clone(),
            tenant,
            job_id: job.job_id,
            attempt: job.attempts,
            resources: Arc::clone(&self.registry.resources),
        };
        let span = tracing::info_span!("job", kind = %job.kind, job_id = %job.job_id, attempt = job.attempts, tenant = job.tenant_slug.as_deref().unwrap_or(""));
        let (result, backoff): (Result<(), JobError>, fn(i32) -> Duration) = if job.kind == DELIVER_KIND {
            let result = match (job.outbox_id, job.subscriber.as_deref()) {
                (Some(outbox_id), Some(subscriber)) => {
                    tracing::Instrument::instrument(self.bus.deliver(outbox_id, subscriber, ctx), span.clone()).await
                }
                _ => Err(JobError::permanent("event delivery without event or subscriber")),
            };
            (result, default_backoff)
        } else {
            match self.registry.kinds.get(job.kind.as_str()) {
                Some(kind) => {
                    let run = (kind.handler)(job.payload.clone(), ctx);
                    // A panicking handler is a failed attempt, not a dead worker.
                    let outcome = tokio::spawn(tracing::Instrument::instrument(run, span.clone())).await;
                    let result = outcome.unwrap_or_else(|e| Err(JobError::retry(format!("handler panicked: {e}"))));
                    (result, kind.backoff)
                }
                None => (
                    Err(JobError::retry(format!("no handler for job kind {} in this process", job.kind))),
                    default_backoff,
                ),
            }
        };
        if let Some(metrics) = &self.metrics {
            metrics.duration.with_label_values(&[&job.kind]).observe(started.elapsed().as_secs_f64());
            if result.is_err() {
                metrics.failures.with_label_values(&[&job.kind]).inc();
            }
        }
        let _entered = span.enter();
        if let Err(e) = self.finish(&job, result, backoff).await {
            tracing::error!(error = %e, "could not record job outcome; its lease will expire and it will run again");
        }
    }

    async fn finish(
        &self,
        job: &Claimed,
        result: Result<(), JobError>,
        backoff: fn(i32) -> Duration,
    ) -> Result<(), DbError> {
        let (id, job_id, worker) = (job.id, job.job_id, self.worker_id.clone());
        match result {
            Ok(()) => {
                self.db
                    .control_tx(async move |conn| {
                        let finished = diesel::sql_query(
                            "UPDATE agora.jobs SET state = 'succeeded', finished_at = now(), locked_until = NULL, \
                             last_error = NULL WHERE id = $1 AND locked_by = $2",
                        )
                        .bind::<BigInt, _>(id)
                        .bind::<Text, _>(worker)
                        .execute(conn)
                        .await?;
                        if finished == 1 {
                            crate::tasks::close_with_job(conn, job_id, true).await?;
                        }
                        Ok(())
                    })
                    .await
            }
            Err(error) if error.database_unreachable && !error.permanent => {
                let delay = jittered(UNREACHABLE_RETRY);
                tracing::warn!(error = %error.message, retry_in_ms = delay.as_millis() as u64,
                    "job could not reach the database; will retry without counting the attempt");
                let message: String = error.message.chars().take(2000).collect();
                self.db
                    .control_tx(async move |conn| {
                        diesel::sql_query(
                            "UPDATE agora.jobs SET state = 'retry', attempts = greatest(attempts - 1, 0), \
                             run_at = now() + make_interval(secs => $3), last_error = $4, locked_until = NULL \
                             WHERE id = $1 AND locked_by = $2",
                        )
                        .bind::<BigInt, _>(id)
                        .bind::<Text, _>(worker)
                        .bind::<diesel::sql_types::Double, _>(delay.as_secs_f64())
                        .bind::<Text, _>(message)
                        .execute(conn)
                        .await?;
                        Ok(())
                    })
                    .await
            }
            Err(error) => {
                let dead = error.permanent || job.attempts >= job.max_attempts;
                let delay = jittered(error.retry_after.unwrap_or_else(|| backoff(job.attempts)));
                if dead {
                    tracing::error!(error = %error.message, attempts = job.attempts, "job is dead");
                } else {
                    tracing::warn!(error = %error.message, retry_in_ms = delay.as_millis() as u64, "job failed; will retry");
                }
                let message: String = error.message.chars().take(2000).collect();
                self.db
                    .control_tx(async move |conn| {
                        diesel::sql_query(
                            "UPDATE agora.jobs SET state = $3, run_at = now() + make_interval(secs => $4), last_error = $5, \
                             locked_until = NULL, finished_at = CASE WHEN $3 = 'dead' THEN now() END \
                             WHERE id = $1 AND locked_by = $2",
                        )
                        .bind::<BigInt, _>(id)
                        .bind::<Text, _>(worker)
                        .bind::<Text, _>(if dead { "dead" } else { "retry" })
                        .bind::<diesel::sql_types::Double, _>(delay.as_secs_f64())
                        .bind::<Text, _>(message)
                        .execute(conn)
                        .await?;
                        if dead {
                            crate::tasks::close_with_job(conn, job_id, false).await?;
                        }
                        Ok(())
                    })
                    .await
            }
        }
    }

    /// Jobs whose worker stopped renewing its lease (crashed, frozen) go back to the queue.
    async fn reclaim_expired(&self) {
        let result = self
            .db
            .control_tx(async |conn| {
                let n = diesel::sql_query(
                    "UPDATE agora.jobs SET state = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'retry' END, \
                     run_at = now(), locked_by = NULL, locked_until = NULL, last_error = 'lease expired (worker lost)', \
                     finished_at = CASE WHEN attempts >= max_attempts THEN now() END \
                     WHERE state = 'running' AND locked_until < now()",
                )
                .execute(conn)
                .await?;
                if n > 0 {
                    // A job that died this way never reached `finish`: its task is failed here.
                    crate::tasks::close_dead(conn).await?;
                }
                Ok::<_, DbError>(n)
            })
            .await;
        match result {
            Ok(0) => {}
            Ok(n) => tracing::warn!(jobs = n, "took back jobs of a lost worker"),
            Err(e) => tracing::warn!(error = %e, "reclaiming expired jobs failed"),
        }
    }

    async fn heartbeat(self: Arc<Self>) {
        let every = self.settings.lease / 3;
        loop {
            tokio::time::sleep(every).await;
            let (worker, lease) = (self.worker_id.clone(), lease_secs(self.settings.lease));
            let result = self
                .db
                .control_tx(async move |conn| {
                    diesel::sql_query(
                        "UPDATE agora.jobs SET locked_until = now() + make_interval(secs => $2) WHERE locked_by = $1 AND state = 'running'",
                    )
                    .bind::<Text, _>(worker)
                    .bind::<diesel::sql_types::Double, _>(lease)
                    .execute(conn)
                    .await?;
                    Ok::<_, DbError>(())
                })
                .await;
            if let Err(e) = result {
                tracing::warn!(error = %e, "job lease renewal failed");
            }
        }
    }

    async fn hand_back(&self) {
        let worker = self.worker_id.clone();
        let result = self
            .db
            .control_tx(async move |conn| {
                Ok::<_, DbError>(
                    diesel::sql_query(
                        "UPDATE agora.jobs SET state = 'queued', attempts = greatest(attempts - 1, 0), locked_by = NULL, \
                         locked_until = NULL, run_at = now() WHERE locked_by = $1 AND state = 'running'",
                    )
                    .bind::<Text, _>(worker)
                    .execute(conn)
                    .await?,
                )
            })
            .await;
        match result {
            Ok(0) => {}
            Ok(n) => tracing::info!(jobs = n, "unfinished jobs handed back to the queue"),
            Err(e) => tracing::warn!(error = %e, "handing back jobs failed; their leases will expire"),
        }
    }

    /// Enqueues each recurring job whose tick has come, once across all replicas: the replica
    /// that records the tick enqueues the run in the same transaction.
    async fn schedule_recurring(&self, next_due: &mut [Option<DateTime<Utc>>]) {
        let now = Utc::now();
        for (recurring, due) in self.registry.recurring.iter().zip(next_due.iter_mut()) {
            let Some(tick) = *due else { continue };
            if tick > now {
                continue;
            }
            *due = next_tick(&recurring.schedule, now);
            let (name, kind, payload, max_attempts) =
                (recurring.name, recurring.kind, recurring.payload.clone(), recurring.max_attempts);
            let result = self
                .db
                .control_tx(async move |conn| {
                    let won = diesel::sql_query(
                        "INSERT INTO agora.recurring_ticks (name, tick_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                    )
                    .bind::<Text, _>(name)
                    .bind::<Timestamptz, _>(tick)
                    .execute(conn)
                    .await?;
                    if won == 1 {
                        let options = EnqueueOptions {
                            dedup_key: Some(format!("recurring:{name}:{}", tick.timestamp())),
                            ..Default::default()
                        };
                        insert_job(conn, kind, None, payload, max_attempts, options).await?;
                    }
                    Ok::<_, DbError>(won == 1)
                })
                .await;
            match result {
                Ok(true) => tracing::debug!(recurring = name, %tick, "recurring job enqueued"),
                Ok(false) => {}
                Err(e) => tracing::warn!(recurring = name, error = %e, "scheduling recurring job failed"),
            }
        }
    }

    async fn record_depth(&self) {
        let Some(metrics) = &self.metrics else { return };
        let counts = self
            .db
            .control_tx(async |conn| {
                Ok::<Vec<StateCount>, DbError>(
                    diesel::sql_query(
                        "SELECT state, count(*) AS n FROM agora.jobs WHERE state IN ('queued', 'retry', 'running', 'dead') GROUP BY state",
                    )
                    .load(conn)
                    .await?,
                )
            })
            .await;
        if let Ok(counts) = counts {
            for state in ["queued", "retry", "running", "dead"] {
                let n = counts.iter().find(|c| c.state == state).map_or(0, |c| c.n);
                metrics.depth.with_label_values(&[state]).set(n);
            }
        }
    }
}

/// The schedule's next tick after `after`, in whole seconds: every replica computes the same
/// instant, which is what makes the tick row a shared lock.
fn next_tick(schedule: &croner::Cron, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::SubsecRound;
    schedule.find_next_occurrence(&after.trunc_subsecs(0), false).ok().map(|t| t.trunc_subsecs(0))
}

fn lease_secs(lease: Duration) -> f64 {
    lease.as_secs_f64().max(1.0)
}

/// ±25 % so retries of many jobs that failed together do not come back together.
fn jittered(delay: Duration) -> Duration {
    let factor = 0.75 + rand::random::<f64>() * 0.5;
    delay.mul_f64(factor)
}

/// Keeps a LISTEN connection open and turns notifications into wake-ups; reconnects on failure.
async fn listen(db: Database, wake: Arc<Notify>) {
    loop {
        match db.listen(NOTIFY_CHANNEL).await {
            Ok(mut notifications) => {
                while notifications.recv().await.is_some() {
                    wake.notify_one();
                }
                tracing::warn!("job notification connection closed; reconnecting");
            }
            Err(e) => tracing::warn!(error = %e, "cannot LISTEN for jobs; polling only until it works"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Purges finished jobs and old ticks; registered as a recurring job by the composition root.
#[derive(Debug, Clone, Default, Serialize, serde::Deserialize)]
pub struct PurgeFinishedJobs {
    pub keep_days: i32,
}

impl Job for PurgeFinishedJobs {
    const KIND: &'static str = "kernel.purge_finished_jobs";

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let days = self.keep_days.max(1);
        ctx.db
            .control_tx(async move |conn| {
                diesel::sql_query(
                    "DELETE FROM agora.jobs WHERE state IN ('succeeded', 'cancelled') AND finished_at < now() - make_interval(days => $1)",
                )
                .bind::<Integer, _>(days)
                .execute(conn)
                .await?;
                diesel::sql_query("DELETE FROM agora.recurring_ticks WHERE tick_at < now() - make_interval(days => $1)")
                    .bind::<Integer, _>(days)
                    .execute(conn)
                    .await?;
                diesel::sql_query(
                    "DELETE FROM agora.outbox o WHERE o.created_at < now() - make_interval(days => $1) \
                     AND NOT EXISTS (SELECT 1 FROM agora.jobs j WHERE j.outbox_id = o.id)",
                )
                .bind::<Integer, _>(days)
                .execute(conn)
                .await?;
                Ok::<_, DbError>(())
            })
            .await?;
        Ok(())
    }
}

/// Number of jobs in each state.
pub async fn counts(db: &Database) -> Result<Vec<(String, i64)>, DbError> {
    db.control_tx(async |conn| {
        let rows: Vec<StateCount> =
            diesel::sql_query("SELECT state, count(*) AS n FROM agora.jobs GROUP BY state ORDER BY state")
                .load(conn)
                .await?;
        Ok(rows.into_iter().map(|r| (r.state, r.n)).collect())
    })
    .await
}

/// How many of a shop's event deliveries are still to run (queued, waiting to retry, running).
pub async fn deliveries_waiting(db: &Database, tenant: uuid::Uuid) -> Result<i64, DbError> {
    #[derive(QueryableByName)]
    struct Waiting {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    db.control_tx(async |conn| {
        let row: Waiting = diesel::sql_query(
            "SELECT count(*) AS n FROM agora.jobs WHERE tenant_id = $1 AND kind = $2 \
             AND state IN ('queued', 'retry', 'running')",
        )
        .bind::<diesel::sql_types::Uuid, _>(tenant)
        .bind::<diesel::sql_types::Text, _>(crate::events::DELIVER_KIND)
        .get_result(conn)
        .await?;
        Ok(row.n)
    })
    .await
}
