//! Diagnostics an operator (and the benchmarks and crash drills) can run against a live
//! deployment: probe jobs that record that they ran, and ping events that record how long they
//! took from commit to subscriber.

use crate::db::{Database, DbError};
use crate::events::{Event, EventBus, EventBusBuilder, EventEnvelope};
use crate::jobs::{notify_workers, Job, JobContext, JobError, JobRegistry};
use diesel::sql_types::{BigInt, Jsonb, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A diagnostic job: records that it ran (idempotently) after `work_ms` of pretend work. Used by
/// the queue benchmark and crash tests through `agora jobs probe`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Probe {
    pub batch: String,
    #[serde(default)]
    pub work_ms: u64,
}

impl Job for Probe {
    const KIND: &'static str = "diagnostics.probe";

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        if self.work_ms > 0 {
            tokio::time::sleep(Duration::from_millis(self.work_ms)).await;
        }
        let (job_id, batch) = (ctx.job_id, self.batch);
        ctx.db
            .control_tx(async move |conn| {
                diesel::sql_query(
                    "INSERT INTO agora.job_probes (job_id, batch) VALUES ($1, $2) \
                     ON CONFLICT (job_id) DO UPDATE SET runs = agora.job_probes.runs + 1",
                )
                .bind::<SqlUuid, _>(job_id)
                .bind::<Text, _>(batch)
                .execute(conn)
                .await?;
                Ok::<_, DbError>(())
            })
            .await?;
        Ok(())
    }
}

/// Enqueues `count` probe jobs in one transaction (a single multi-row insert).
pub async fn enqueue_probes(db: &Database, batch: &str, count: usize, work_ms: u64) -> Result<(), DbError> {
    let payload =
        serde_json::to_value(Probe { batch: batch.to_string(), work_ms }).map_err(|e| DbError::Pool(e.to_string()))?;
    let count = i64::try_from(count).unwrap_or(0);
    db.control_tx(async move |conn| {
        diesel::sql_query(
            "INSERT INTO agora.jobs (job_id, kind, payload) SELECT gen_random_uuid(), $1, $2 FROM generate_series(1, $3)",
        )
        .bind::<Text, _>(Probe::KIND)
        .bind::<Jsonb, _>(payload)
        .bind::<BigInt, _>(count)
        .execute(conn)
        .await?;
        notify_workers(conn).await
    })
    .await
}

/// A ping through the event bus; its subscriber records the delay from commit to delivery.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Ping {
    pub batch: String,
    pub seq: u64,
}

impl Event for Ping {
    const NAME: &'static str = "diagnostics.ping.v1";
    const PLATFORM: bool = true;
    fn aggregate_id(&self) -> String {
        format!("ping:{}:{}", self.batch, self.seq)
    }
}

/// Registers the probe job and the ping subscriber.
pub fn register(events: &mut EventBusBuilder, jobs: &mut JobRegistry) {
    jobs.register::<Probe>();
    events.subscribe::<Ping, _, _>("diagnostics.pong", |ping: Ping, envelope: EventEnvelope, ctx: JobContext| async move {
        let event_id = envelope.event_id;
        ctx.db
            .control_tx(async move |conn| {
                diesel::sql_query(
                    "INSERT INTO agora.event_probes (event_id, batch, latency_ms) \
                     SELECT $1, $2, extract(epoch FROM clock_timestamp() - created_at) * 1000 FROM agora.outbox WHERE event_id = $1 \
                     ON CONFLICT (event_id) DO NOTHING",
                )
                .bind::<SqlUuid, _>(event_id)
                .bind::<Text, _>(ping.batch)
                .execute(conn)
                .await?;
                Ok::<_, DbError>(())
            })
            .await?;
        Ok(())
    });
}

/// Publishes `count` pings, one transaction each, `interval` apart.
pub async fn ping(db: &Database, bus: &EventBus, batch: &str, count: u64, interval: Duration) -> Result<(), DbError> {
    for seq in 0..count {
        let event = Ping { batch: batch.to_string(), seq };
        db.control_tx(async |conn| bus.publish_platform(conn, &event).await).await?;
        if !interval.is_zero() {
            tokio::time::sleep(interval).await;
        }
    }
    Ok(())
}
