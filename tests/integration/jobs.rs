//! The job queue and the event outbox, against a real PostgreSQL: in-process worker pools (two of
//! them stand in for two replicas: they share nothing but the database) and real `agora worker`
//! processes for crashes.

use crate::support::{eventually, run_agora, AgoraProcess, TestDatabase};
use agora_kernel::events::{Event, EventBus};
use agora_kernel::jobs::{
    enqueue_platform, EnqueueOptions, Job, JobContext, JobError, JobRegistry, WorkerPool, WorkerSettings,
};
use agora_kernel::{Acting, Database, DbError, DbSettings, TenantContext, TenantSchema};
use diesel::sql_types::{Integer, Text};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

/// A database with the control schema, and no workers but the ones a test starts.
struct Queue {
    db: Database,
    test_db: TestDatabase,
}

impl Queue {
    async fn new() -> Self {
        let test_db = TestDatabase::create().await;
        let db = Database::connect(&DbSettings {
            url: secrecy::SecretString::from(test_db.url.clone()),
            pool_size: 8,
            acquire_timeout: Duration::from_secs(10),
        })
        .unwrap();
        agora_tenancy::TenancyModule::new(db.clone(), EventBus::default(), "localhost", None)
            .migrate_control()
            .await
            .unwrap();
        let pg = test_db.connect().await;
        pg.batch_execute("CREATE TABLE public.effects (job text NOT NULL, seq integer NOT NULL DEFAULT 0, at timestamptz NOT NULL DEFAULT clock_timestamp())").await.unwrap();
        Self { db, test_db }
    }

    fn workers(&self, registry: JobRegistry, bus: EventBus, concurrency: usize) -> WorkerPool {
        let settings =
            WorkerSettings { concurrency, poll_interval: Duration::from_millis(100), ..WorkerSettings::default() };
        WorkerPool::start(self.db.clone(), bus, Arc::new(registry), settings, None)
    }

    async fn scalar(&self, sql: &str) -> i64 {
        self.test_db.connect().await.query_one(sql, &[]).await.unwrap().get(0)
    }

    async fn effects(&self) -> Vec<String> {
        let pg = self.test_db.connect().await;
        pg.query("SELECT job FROM public.effects ORDER BY at, seq", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    }
}

async fn record(ctx: &JobContext, what: String) -> Result<(), JobError> {
    ctx.db
        .control_tx(async move |conn| {
            diesel::sql_query("INSERT INTO public.effects (job) VALUES ($1)")
                .bind::<Text, _>(what)
                .execute(conn)
                .await?;
            Ok::<_, DbError>(())
        })
        .await?;
    Ok(())
}

#[derive(Debug, Serialize, Deserialize)]
struct Note {
    text: String,
}

impl Job for Note {
    const KIND: &'static str = "test.note";
    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        record(&ctx, self.text).await
    }
}

/// Fails until its `succeed_on` attempt.
#[derive(Debug, Serialize, Deserialize)]
struct Flaky {
    name: String,
    succeed_on: i32,
}

impl Job for Flaky {
    const KIND: &'static str = "test.flaky";
    const MAX_ATTEMPTS: i32 = 4;
    fn backoff(_attempt: i32) -> Duration {
        Duration::from_millis(50)
    }
    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        record(&ctx, format!("{}#{}", self.name, ctx.attempt)).await?;
        if self.succeed_on < 0 {
            Err(JobError::permanent("this can never work"))
        } else if ctx.attempt >= self.succeed_on {
            Ok(())
        } else {
            Err(JobError::retry(format!("attempt {} fails", ctx.attempt)))
        }
    }
}

#[tokio::test]
async fn a_rolled_back_transaction_enqueues_and_publishes_nothing() {
    let queue = Queue::new().await;
    let bus = {
        let mut b = EventBus::builder();
        b.subscribe::<Happened, _, _>("test.listener", |_, _, _| async { Ok(()) });
        b.build()
    };
    let tenant = TenantContext {
        id: uuid::Uuid::now_v7(),
        slug: "acme".into(),
        schema: TenantSchema::for_slug("acme").unwrap(),
    };
    let result: Result<(), DbError> = queue
        .db
        .in_tenant(&tenant, &Acting::system("test"), async |tx| {
            tx.enqueue(&Note { text: "never".into() }, EnqueueOptions::default()).await?;
            tx.publish(&bus, &Happened { aggregate: "a".into(), seq: 1 }).await?;
            Err(DbError::Pool("the use case failed after publishing".into()))
        })
        .await;
    assert!(result.is_err());
    assert_eq!(queue.scalar("SELECT count(*) FROM agora.jobs").await, 0);
    assert_eq!(queue.scalar("SELECT count(*) FROM agora.outbox").await, 0);

    queue
        .db
        .in_tenant(&tenant, &Acting::system("test"), async |tx| {
            tx.enqueue(&Note { text: "kept".into() }, EnqueueOptions::default()).await?;
            tx.publish(&bus, &Happened { aggregate: "a".into(), seq: 1 }).await?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
    assert_eq!(queue.scalar("SELECT count(*) FROM agora.outbox").await, 1);
    assert_eq!(queue.scalar("SELECT count(*) FROM agora.jobs").await, 2, "the job and one delivery per subscriber");
}

#[tokio::test]
async fn a_prioritized_subscriber_s_deliveries_go_ahead_of_the_others() {
    let queue = Queue::new().await;
    let bus = {
        let mut b = EventBus::builder();
        b.subscribe::<Happened, _, _>("test.projection", |_, _, _| async { Ok(()) });
        b.subscribe_all("test.fan_out", |_, _| async { Ok(()) });
        b.prioritize("test.projection", 10);
        b.build()
    };
    let tenant = TenantContext {
        id: uuid::Uuid::now_v7(),
        slug: "acme".into(),
        schema: TenantSchema::for_slug("acme").unwrap(),
    };
    queue
        .db
        .in_tenant(&tenant, &Acting::system("test"), async |tx| {
            tx.publish(&bus, &Happened { aggregate: "a".into(), seq: 1 }).await?;
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
    assert_eq!(queue.scalar("SELECT priority::bigint FROM agora.jobs WHERE subscriber = 'test.projection'").await, 10);
    assert_eq!(queue.scalar("SELECT priority::bigint FROM agora.jobs WHERE subscriber = 'test.fan_out'").await, 0);
}

#[tokio::test]
async fn retries_back_off_then_succeed_or_die() {
    let queue = Queue::new().await;
    let mut registry = JobRegistry::default();
    registry.register::<Flaky>();
    for (name, succeed_on) in [("third-time-lucky", 3), ("hopeless", 99), ("refused", -1)] {
        queue
            .db
            .control_tx(async |conn| {
                enqueue_platform(
                    conn,
                    &Flaky { name: name.into(), succeed_on },
                    EnqueueOptions { dedup_key: Some(name.into()), ..Default::default() },
                )
                .await?;
                Ok::<_, DbError>(())
            })
            .await
            .unwrap();
    }
    let workers = queue.workers(registry, EventBus::default(), 4);
    eventually(Duration::from_secs(30), || async {
        queue.scalar("SELECT count(*) FROM agora.jobs WHERE state IN ('succeeded', 'dead')").await == 3
    })
    .await;
    workers.shutdown().await;
    let pg = queue.test_db.connect().await;
    let state = |name: &'static str| {
        let pg = &pg;
        async move {
            let row = pg
                .query_one(
                    "SELECT state, attempts, coalesce(last_error, '') FROM agora.jobs WHERE dedup_key = $1",
                    &[&name],
                )
                .await
                .unwrap();
            (row.get::<_, String>(0), row.get::<_, i32>(1), row.get::<_, String>(2))
        }
    };
    assert_eq!(state("third-time-lucky").await, ("succeeded".into(), 3, String::new()));
    let (s, attempts, error) = state("hopeless").await;
    assert_eq!((s.as_str(), attempts), ("dead", 4), "dead after MAX_ATTEMPTS");
    assert!(error.contains("attempt 4 fails"), "{error}");
    assert_eq!(state("refused").await.0, "dead");
    assert_eq!(state("refused").await.1, 1, "a permanent error is not retried");
    let effects = queue.effects().await;
    for expected in ["third-time-lucky#1", "third-time-lucky#2", "third-time-lucky#3", "hopeless#4", "refused#1"] {
        assert!(effects.contains(&expected.to_string()), "{expected} in {effects:?}");
    }
    // Retries waited for their backoff: attempts of one job are spread out, not back to back.
    let gaps: Vec<f64> = pg
        .query(
            "SELECT extract(epoch FROM at - lag(at) OVER (ORDER BY at))::float8 FROM public.effects WHERE job LIKE 'hopeless#%' ORDER BY at",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .filter_map(|r| r.get::<_, Option<f64>>(0))
        .collect();
    assert!(gaps.iter().all(|g| *g >= 0.03), "backoff between attempts: {gaps:?}");
}

/// Its first `cut_off` runs find the database unreachable (a pool pointed at a port nothing
/// listens on: the same `DbError` a worker gets while PostgreSQL restarts); then it succeeds.
/// Its own backoff is an hour, so a counted, backed-off retry would not come back in the test.
#[derive(Debug, Serialize, Deserialize)]
struct CutOff {
    name: String,
    cut_off: i64,
}

impl Job for CutOff {
    const KIND: &'static str = "test.cut_off";
    const MAX_ATTEMPTS: i32 = 2;
    fn backoff(_attempt: i32) -> Duration {
        Duration::from_secs(3600)
    }
    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let runs_before = ctx
            .db
            .control_tx(async |conn| {
                #[derive(diesel::QueryableByName)]
                struct Runs {
                    #[diesel(sql_type = diesel::sql_types::BigInt)]
                    n: i64,
                }
                let runs: Runs = diesel::sql_query("SELECT count(*) AS n FROM public.effects WHERE job LIKE $1")
                    .bind::<Text, _>(format!("{}#%", self.name))
                    .get_result(conn)
                    .await?;
                Ok::<_, DbError>(runs.n)
            })
            .await?;
        record(&ctx, format!("{}#{}", self.name, ctx.attempt)).await?;
        if self.name == "own-failure" {
            return Err(JobError::retry("the job's own failure"));
        }
        if runs_before < self.cut_off {
            let unreachable = Database::connect(&DbSettings {
                url: secrecy::SecretString::from("postgres://postgres@127.0.0.1:1/agora".to_string()),
                pool_size: 1,
                acquire_timeout: Duration::from_secs(5),
            })?;
            unreachable.control_tx(async |_conn| Ok::<_, DbError>(())).await?;
        }
        Ok(())
    }
}

#[tokio::test]
async fn an_attempt_that_cannot_reach_the_database_is_retried_soon_and_not_counted() {
    let queue = Queue::new().await;
    let mut registry = JobRegistry::default();
    registry.register::<CutOff>();
    for (name, cut_off) in [("cut-off", 3), ("own-failure", 0)] {
        queue
            .db
            .control_tx(async |conn| {
                let job = CutOff { name: name.into(), cut_off };
                enqueue_platform(conn, &job, EnqueueOptions { dedup_key: Some(name.into()), ..Default::default() })
                    .await?;
                Ok::<_, DbError>(())
            })
            .await
            .unwrap();
    }
    let workers = queue.workers(registry, EventBus::default(), 2);
    // Three unreachable attempts then a good one: more than MAX_ATTEMPTS runs, none waiting the
    // kind's hour of backoff.
    eventually(Duration::from_secs(60), || async {
        queue.scalar("SELECT count(*) FROM agora.jobs WHERE dedup_key = 'cut-off' AND state = 'succeeded'").await == 1
    })
    .await;
    workers.shutdown().await;
    let pg = queue.test_db.connect().await;
    let row = pg
        .query_one(
            "SELECT attempts, (SELECT count(*) FROM public.effects WHERE job LIKE 'cut-off#%') FROM agora.jobs WHERE dedup_key = 'cut-off'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i32>(0), 1, "only the attempt that reached the database counts");
    assert_eq!(row.get::<_, i64>(1), 4, "it ran four times");
    let effects = queue.effects().await;
    assert_eq!(
        effects.iter().filter(|e| e.starts_with("cut-off#")).collect::<Vec<_>>(),
        ["cut-off#1"; 4].iter().collect::<Vec<_>>(),
        "every run was its first attempt"
    );
    // The job's own failure, in the same pool, is counted and waits for its backoff.
    let own = pg
        .query_one(
            "SELECT state, attempts, run_at > now() + interval '30 minutes' FROM agora.jobs WHERE dedup_key = 'own-failure'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!((own.get::<_, String>(0), own.get::<_, i32>(1), own.get::<_, bool>(2)), ("retry".into(), 1, true));
}

#[tokio::test]
async fn scheduling_dedup_and_priority() {
    let queue = Queue::new().await;
    let later = chrono::Utc::now() + chrono::Duration::milliseconds(1500);
    queue
        .db
        .control_tx(async |conn| {
            let first = enqueue_platform(
                conn,
                &Note { text: "low".into() },
                EnqueueOptions { priority: -5, ..Default::default() },
            )
            .await?;
            let high = enqueue_platform(
                conn,
                &Note { text: "high".into() },
                EnqueueOptions { priority: 10, ..Default::default() },
            )
            .await?;
            enqueue_platform(
                conn,
                &Note { text: "later".into() },
                EnqueueOptions { run_at: Some(later), ..Default::default() },
            )
            .await?;
            let once = enqueue_platform(
                conn,
                &Note { text: "once".into() },
                EnqueueOptions { dedup_key: Some("k".into()), ..Default::default() },
            )
            .await?;
            let twice = enqueue_platform(
                conn,
                &Note { text: "twice".into() },
                EnqueueOptions { dedup_key: Some("k".into()), ..Default::default() },
            )
            .await?;
            assert!(first.is_some() && high.is_some() && once.is_some());
            assert!(twice.is_none(), "an unfinished job with that dedup key exists");
            Ok::<_, DbError>(())
        })
        .await
        .unwrap();
    let mut registry = JobRegistry::default();
    registry.register::<Note>();
    let workers = queue.workers(registry, EventBus::default(), 1);
    eventually(Duration::from_secs(10), || async { queue.effects().await.len() == 4 }).await;
    workers.shutdown().await;
    let effects = queue.effects().await;
    assert_eq!(<[String]>::first(&effects).map(String::as_str), Some("high"), "priority first: {effects:?}");
    assert_eq!(effects.last().map(String::as_str), Some("later"), "run_at respected: {effects:?}");
    let ran_at: chrono::DateTime<chrono::Utc> = queue
        .test_db
        .connect()
        .await
        .query_one("SELECT at FROM public.effects WHERE job = 'later'", &[])
        .await
        .unwrap()
        .get(0);
    assert!(ran_at >= later);
    assert!(!effects.contains(&"twice".to_string()));
}

/// An event about one aggregate, numbered.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
struct Happened {
    aggregate: String,
    seq: i32,
}

impl Event for Happened {
    const NAME: &'static str = "test.happened.v1";
    fn aggregate_id(&self) -> String {
        format!("thing:{}", self.aggregate)
    }
}

#[tokio::test]
async fn one_aggregates_events_reach_a_subscriber_in_order_despite_failures() {
    let queue = Queue::new().await;
    let mut builder = EventBus::builder();
    builder.subscribe::<Happened, _, _>("test.ordered", |event: Happened, envelope, ctx: JobContext| async move {
        // Every third event fails on its first delivery: without ordering, its successors would
        // overtake it while it waits for its retry.
        if event.seq % 3 == 0 && ctx.attempt == 1 {
            return Err(JobError::retry("transient"));
        }
        assert!(envelope.tenant().is_some());
        ctx.db
            .control_tx(async move |conn| {
                diesel::sql_query("INSERT INTO public.effects (job, seq) VALUES ($1, $2)")
                    .bind::<Text, _>(event.aggregate)
                    .bind::<Integer, _>(event.seq)
                    .execute(conn)
                    .await?;
                Ok::<_, DbError>(())
            })
            .await?;
        Ok(())
    });
    let bus = builder.build();
    let tenant = TenantContext {
        id: uuid::Uuid::now_v7(),
        slug: "acme".into(),
        schema: TenantSchema::for_slug("acme").unwrap(),
    };
    for seq in 1..=30 {
        for aggregate in ["a", "b", "c"] {
            queue
                .db
                .in_tenant(&tenant, &Acting::system("test"), async |tx| {
                    tx.publish(&bus, &Happened { aggregate: aggregate.into(), seq }).await
                })
                .await
                .unwrap();
        }
    }
    let workers = queue.workers(JobRegistry::default(), bus, 8);
    eventually(Duration::from_secs(60), || async { queue.scalar("SELECT count(*) FROM public.effects").await == 90 })
        .await;
    workers.shutdown().await;
    let pg = queue.test_db.connect().await;
    for aggregate in ["a", "b", "c"] {
        let seqs: Vec<i32> = pg
            .query("SELECT seq FROM public.effects WHERE job = $1 ORDER BY at", &[&aggregate])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(seqs, (1..=30).collect::<Vec<_>>(), "aggregate {aggregate} in order");
    }
    assert_eq!(
        queue.scalar("SELECT count(*) FROM agora.jobs WHERE kind = 'event.deliver' AND state = 'succeeded'").await,
        90
    );
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Tick;

impl Job for Tick {
    const KIND: &'static str = "test.tick";
    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        record(&ctx, format!("tick:{}", ctx.job_id)).await
    }
}

#[tokio::test]
async fn a_recurring_job_fires_once_per_tick_across_replicas() {
    let queue = Queue::new().await;
    let replica = || {
        let mut registry = JobRegistry::default();
        registry.recurring("test-every-second", "* * * * * *", Tick).unwrap();
        queue.workers(registry, EventBus::default(), 2)
    };
    let (first, second) = (replica(), replica());
    eventually(Duration::from_secs(30), || async {
        queue.scalar("SELECT count(*) FROM agora.recurring_ticks WHERE name = 'test-every-second'").await >= 4
    })
    .await;
    first.shutdown().await;
    second.shutdown().await;
    let ticks = queue.scalar("SELECT count(*) FROM agora.recurring_ticks WHERE name = 'test-every-second'").await;
    let jobs = queue.scalar("SELECT count(*) FROM agora.jobs WHERE kind = 'test.tick'").await;
    let distinct = queue.scalar("SELECT count(DISTINCT dedup_key) FROM agora.jobs WHERE kind = 'test.tick'").await;
    assert_eq!(jobs, ticks, "one run per tick, not one per replica");
    assert_eq!(distinct, jobs);
}

#[tokio::test]
async fn a_worker_killed_midway_loses_nothing_and_repeats_no_effect() {
    let db = TestDatabase::create().await;
    let env = [("DATABASE_URL", db.url.as_str()), ("AGORA_JOB_LEASE_SECS", "2")];
    let (ok, _, err) =
        // 25 ms of work per job keeps each of the 8 slots mostly mid-job, so the kill always
        // interrupts some: with 3 ms, most of a job's life was its own commit round trips, and a
        // kill between them now and then caught no job half-done.
        run_agora(&["jobs", "probe", "--count", "1000", "--batch", "crash", "--work-ms", "25"], &env).await;
    assert!(ok, "{err}");
    let pg = db.connect().await;
    let done = || async {
        pg.query_one("SELECT count(*) FROM agora.job_probes WHERE batch = 'crash'", &[]).await.unwrap().get::<_, i64>(0)
    };

    let mut first = AgoraProcess::spawn(&["worker", "--workers", "8"], &env);
    eventually(Duration::from_secs(60), || async { done().await >= 150 }).await;
    first.signal(nix::sys::signal::Signal::SIGKILL);
    first.wait_exit(Duration::from_secs(10)).await;
    let at_kill = done().await;
    assert!(at_kill < 1000, "killed midway ({at_kill} done)");

    let _second = AgoraProcess::spawn(&["worker", "--workers", "8"], &env);
    eventually(Duration::from_secs(120), || async {
        pg.query_one("SELECT count(*) FROM agora.jobs WHERE kind = 'diagnostics.probe' AND state = 'succeeded'", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
            == 1000
    })
    .await;
    assert_eq!(done().await, 1000, "every job's effect is there exactly once");
    let lost: i64 = pg
        .query_one("SELECT count(*) FROM agora.jobs WHERE kind = 'diagnostics.probe' AND state <> 'succeeded'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(lost, 0);
    // Jobs that were running when the first worker died were taken back after their lease and
    // ran again (a second claim), yet their effect is there once (asserted above).
    let retaken: i64 = pg
        .query_one("SELECT count(*) FROM agora.jobs WHERE kind = 'diagnostics.probe' AND attempts > 1", &[])
        .await
        .unwrap()
        .get(0);
    assert!(retaken > 0, "the kill interrupted running jobs, and they were taken back");
}

#[tokio::test]
async fn two_worker_processes_never_run_a_job_twice() {
    let db = TestDatabase::create().await;
    let env = [("DATABASE_URL", db.url.as_str())];
    let (ok, _, err) = run_agora(&["jobs", "probe", "--count", "600", "--batch", "pair", "--work-ms", "2"], &env).await;
    assert!(ok, "{err}");
    let first = AgoraProcess::spawn(&["worker", "--workers", "6"], &env);
    let second = AgoraProcess::spawn(&["worker", "--workers", "6"], &env);
    let pg = db.connect().await;
    eventually(Duration::from_secs(120), || async {
        pg.query_one("SELECT count(*) FROM agora.jobs WHERE kind = 'diagnostics.probe' AND state = 'succeeded'", &[])
            .await
            .unwrap()
            .get::<_, i64>(0)
            == 600
    })
    .await;
    let row = pg
        .query_one("SELECT count(*), max(runs), count(DISTINCT job_id) FROM agora.job_probes WHERE batch = 'pair'", &[])
        .await
        .unwrap();
    assert_eq!(
        (row.get::<_, i64>(0), row.get::<_, i32>(1), row.get::<_, i64>(2)),
        (600, 1, 600),
        "each job ran exactly once"
    );
    // Both processes took part (a finished job remembers which worker ran it).
    let workers: i64 = pg
        .query_one("SELECT count(DISTINCT locked_by) FROM agora.jobs WHERE kind = 'diagnostics.probe'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(workers, 2);
    drop((first, second));
}

#[tokio::test]
async fn events_committed_before_a_crash_are_delivered_after_restart_and_can_be_redelivered() {
    let db = TestDatabase::create().await;
    let env = [("DATABASE_URL", db.url.as_str()), ("AGORA_TOKEN_KEY", crate::support::TOKEN_KEY)];
    crate::support::create_operator_with_cli(&env, "ops@platform.test").await;
    // A web-only replica: it publishes, nothing here delivers.
    let mut web = AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0", "--workers", "0"], &env);
    let base = web.wait_listening().await;
    let token = &crate::support::login_for_token(&base, "/api/v1/platform/auth/login", None, "ops@platform.test").await;
    let client = reqwest::Client::new();
    let created = client
        .post(format!("{base}/api/v1/platform/tenants"))
        .bearer_auth(token)
        .json(&serde_json::json!({"slug": "acme", "name": "Acme"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    crate::support::create_staff_with_cli(&env, "acme", "owner@acme.test", "owner").await;
    let owner =
        crate::support::login_for_token(&base, "/api/v1/admin/auth/login", Some("acme"), "owner@acme.test").await;
    let patched = client
        .patch(format!("{base}/api/v1/admin/shop"))
        .bearer_auth(&owner)
        .header("x-tenant-id", "acme")
        .json(&serde_json::json!({"name": "Acme Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(patched.status(), 200);
    // Killed right after the commits: no chance to deliver anything.
    web.signal(nix::sys::signal::Signal::SIGKILL);
    web.wait_exit(Duration::from_secs(10)).await;

    let pg = db.connect().await;
    let count = |sql: &'static str| {
        let pg = &pg;
        async move { pg.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("SELECT count(*) FROM agora.outbox WHERE name = 'tenancy.shop_settings_updated.v1'").await, 1);
    let deliveries = count("SELECT count(*) FROM agora.jobs WHERE kind = 'event.deliver'").await;
    assert!(deliveries > 0, "the events have subscribers");
    assert_eq!(count("SELECT count(*) FROM agora.jobs WHERE kind = 'event.deliver' AND state = 'succeeded'").await, 0);

    let mut worker = AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0", "--workers", "2"], &env);
    let base = worker.wait_listening().await;
    eventually(Duration::from_secs(60), || async {
        count("SELECT count(*) FROM agora.jobs WHERE kind = 'event.deliver' AND state = 'succeeded'").await
            == deliveries
    })
    .await;

    // Operators see the event and its deliveries, and can deliver it again.
    let events: serde_json::Value = client
        .get(format!("{base}/api/v1/platform/events?tenant=acme&name=tenancy.shop_settings_updated.v1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event = &events["items"][0];
    assert_eq!(event["payload"]["name"], "Acme Renamed");
    let subscribers = event["deliveries"].as_array().unwrap();
    assert!(!subscribers.is_empty() && subscribers.iter().all(|d| d["state"] == "succeeded"), "{event}");
    let event_id = event["event_id"].as_str().unwrap();
    let redelivered: serde_json::Value = client
        .post(format!("{base}/api/v1/platform/events/{event_id}/redeliver?all=true"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(redelivered["queued"], subscribers.len());
    eventually(Duration::from_secs(30), || async {
        count("SELECT count(*) FROM agora.jobs WHERE kind = 'event.deliver' AND state = 'succeeded'").await
            == deliveries + subscribers.len() as i64
    })
    .await;
    let missing = client
        .post(format!("{base}/api/v1/platform/events/{}/redeliver", uuid::Uuid::now_v7()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    crate::support::problem(missing, 404).await;
    let jobs = client.get(format!("{base}/api/v1/platform/jobs?state=bogus")).bearer_auth(token).send().await.unwrap();
    assert_eq!(crate::support::problem(jobs, 422).await["errors"][0]["field"], "state");
    worker.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(worker.wait_exit(Duration::from_secs(30)).await.success());
}

/// Every page of a platform list, following `next_cursor` with pages of `limit`.
async fn every_page(base: &str, token: &str, path: &str, limit: usize) -> Vec<serde_json::Value> {
    let client = reqwest::Client::new();
    let (mut items, mut cursor) = (Vec::new(), None::<String>);
    for _ in 0..20 {
        let mut url = format!("{base}{path}&limit={limit}");
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value =
            client.get(url).bearer_auth(token).send().await.unwrap().error_for_status().unwrap().json().await.unwrap();
        let rows = page["items"].as_array().unwrap();
        assert!(rows.len() <= limit, "{page}");
        items.extend(rows.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
    panic!("{path}: the pages never ended");
}

/// The queue admin's lists page through the kernel's keyset: rows written by one statement share
/// `created_at`, yet pages give each row once, newest first with the id breaking the tie, and the
/// filters (kind, name, a delivery's state) narrow before paging.
#[tokio::test]
async fn queue_admin_lists_give_every_row_once_across_equal_instants() {
    let db = TestDatabase::create().await;
    let env = [("DATABASE_URL", db.url.as_str()), ("AGORA_TOKEN_KEY", crate::support::TOKEN_KEY)];
    crate::support::create_operator_with_cli(&env, "ops@platform.test").await;
    // Web only: nothing runs the jobs written below.
    let mut web = AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0", "--workers", "0"], &env);
    let base = web.wait_listening().await;
    let token = &crate::support::login_for_token(&base, "/api/v1/platform/auth/login", None, "ops@platform.test").await;
    let pg = db.connect().await;
    pg.batch_execute(
        "INSERT INTO agora.jobs (job_id, kind, payload, state) \
           SELECT gen_random_uuid(), 'probe.listed', '{}', 'dead' FROM generate_series(1, 7); \
         INSERT INTO agora.outbox (event_id, tenant_slug, name, aggregate_id, payload) \
           SELECT gen_random_uuid(), 'acme', 'probe.listed.v1', 'x', '{}' FROM generate_series(1, 5); \
         INSERT INTO agora.jobs (job_id, kind, payload, state, outbox_id, subscriber) \
           SELECT gen_random_uuid(), 'event.deliver', '{}', 'dead', min(id), 'probe' FROM agora.outbox \
           WHERE name = 'probe.listed.v1'",
    )
    .await
    .unwrap();
    let ids = |sql: &'static str| {
        let pg = &pg;
        async move {
            pg.query(sql, &[])
                .await
                .unwrap()
                .iter()
                .map(|r| serde_json::json!(r.get::<_, String>(0)))
                .collect::<Vec<_>>()
        }
    };

    let jobs = every_page(&base, token, "/api/v1/platform/jobs?kind=probe.listed", 3).await;
    let expected =
        ids("SELECT job_id::text FROM agora.jobs WHERE kind = 'probe.listed' ORDER BY created_at DESC, job_id DESC");
    assert_eq!(jobs.iter().map(|j| j["job_id"].clone()).collect::<Vec<_>>(), expected.await);

    let events = every_page(&base, token, "/api/v1/platform/events?name=probe.listed.v1", 2).await;
    let expected =
        ids("SELECT event_id::text FROM agora.outbox WHERE name = 'probe.listed.v1' ORDER BY created_at DESC, event_id DESC");
    assert_eq!(events.iter().map(|e| e["event_id"].clone()).collect::<Vec<_>>(), expected.await);

    let dead = every_page(&base, token, "/api/v1/platform/events?name=probe.listed.v1&delivery_state=dead", 2).await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0]["deliveries"][0]["subscriber"], "probe");
    let first: String = pg
        .query_one("SELECT event_id::text FROM agora.outbox WHERE id = (SELECT min(id) FROM agora.outbox WHERE name = 'probe.listed.v1')", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(dead[0]["event_id"], serde_json::json!(first));

    // A cursor made for another order (here a newest-first list's, into the oldest-first
    // tenants) is refused, naming it.
    let jobs_cursor: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/platform/jobs?kind=probe.listed&limit=1"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let walked = reqwest::Client::new()
        .get(format!("{base}/api/v1/platform/tenants?cursor={}", jobs_cursor["next_cursor"].as_str().unwrap()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(crate::support::problem(walked, 422).await["errors"][0]["field"], "cursor");
    web.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(web.wait_exit(Duration::from_secs(30)).await.success());
}
