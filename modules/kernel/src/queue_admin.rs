//! Platform operators' view of the job queue and the event outbox: what failed, what died, and
//! the buttons to try again.

use crate::db::{Database, DbError};
use crate::error::{ApiError, ErrorKind};
use crate::events::{self, EventBus};
use crate::lists::{ListQuery, NewestFirst, Page};
use crate::platform::PlatformOperator;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Nullable, Text, Uuid as SqlUuid};
use diesel_async::RunQueryDsl;
use paperclip::actix::{api_v2_operation, web, Apiv2Schema};
use serde::{Deserialize, Serialize};

const JOB_STATES: [&str; 6] = ["queued", "running", "retry", "succeeded", "dead", "cancelled"];

// The columns of the queue's tables these lists read, so they page with the kernel's keyset.
diesel::table! {
    agora.jobs (id) {
        id -> BigInt,
        job_id -> Uuid,
        kind -> Text,
        tenant_slug -> Nullable<Text>,
        payload -> Jsonb,
        state -> Text,
        run_at -> Timestamptz,
        attempts -> Integer,
        max_attempts -> Integer,
        outbox_id -> Nullable<BigInt>,
        subscriber -> Nullable<Text>,
        last_error -> Nullable<Text>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    agora.outbox (id) {
        id -> BigInt,
        event_id -> Uuid,
        tenant_slug -> Nullable<Text>,
        name -> Text,
        aggregate_id -> Text,
        payload -> Jsonb,
        created_at -> Timestamptz,
    }
}

diesel::joinable!(jobs -> outbox (outbox_id));
diesel::allow_tables_to_appear_in_same_query!(jobs, outbox);

/// A job as operators see it.
#[derive(Debug, Serialize, Deserialize, Queryable, Apiv2Schema)]
pub struct JobSummary {
    pub job_id: uuid::Uuid,
    pub kind: String,
    pub tenant: Option<String>,
    /// queued, running, retry, succeeded, dead or cancelled.
    pub state: String,
    pub attempts: i32,
    pub max_attempts: i32,
    pub run_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// For event deliveries: the event and the subscriber.
    pub event_id: Option<uuid::Uuid>,
    pub subscriber: Option<String>,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct JobListQuery {
    /// Only jobs in this state (e.g. `dead`).
    pub state: Option<String>,
    /// Only jobs of this kind (e.g. `event.deliver`).
    pub kind: Option<String>,
    /// Only deliveries of this event.
    pub event_id: Option<uuid::Uuid>,
}

/// Jobs, newest first.
#[api_v2_operation(tags(Platform), operation_id = "listJobs")]
async fn list_jobs(
    _op: PlatformOperator,
    db: web::Data<Database>,
    page: ListQuery<NewestFirst>,
    query: web::Query<JobListQuery>,
) -> Result<web::Json<Page<JobSummary>>, ApiError> {
    let query = query.into_inner();
    if let Some(state) = query.state.as_deref() {
        if !JOB_STATES.contains(&state) {
            return Err(ApiError::field("state", format!("one of {}", JOB_STATES.join(", "))));
        }
    }
    let keyset = page.keyset::<DateTime<Utc>>()?;
    let page = keyset.clone();
    let rows: Vec<JobSummary> = db
        .control_tx(async move |conn| {
            let mut q = jobs::table
                .left_join(outbox::table)
                .select((
                    jobs::job_id,
                    jobs::kind,
                    jobs::tenant_slug,
                    jobs::state,
                    jobs::attempts,
                    jobs::max_attempts,
                    jobs::run_at,
                    jobs::last_error,
                    outbox::event_id.nullable(),
                    jobs::subscriber,
                    jobs::payload,
                    jobs::created_at,
                    jobs::finished_at,
                ))
                .limit(page.fetch_limit())
                .into_boxed();
            if let Some(state) = query.state {
                q = q.filter(jobs::state.eq(state));
            }
            if let Some(kind) = query.kind {
                q = q.filter(jobs::kind.eq(kind));
            }
            if let Some(event_id) = query.event_id {
                q = q.filter(outbox::event_id.nullable().eq(event_id));
            }
            Ok::<_, DbError>(page.apply(q, jobs::created_at, jobs::job_id).load(conn).await?)
        })
        .await?;
    // Jobs queued before their types were brace structs stored `null`: no payload is `{}`.
    let rows = rows
        .into_iter()
        .map(|mut j: JobSummary| {
            if j.payload.is_null() {
                j.payload = serde_json::json!({});
            }
            j
        })
        .collect();
    Ok(web::Json(keyset.page(rows, |j| (j.created_at, j.job_id))))
}

#[derive(Debug, Serialize, Apiv2Schema)]
pub struct Retried {
    /// How many jobs were put back in the queue.
    pub queued: usize,
}

/// Put a failed or dead job back in the queue, to run now with a fresh set of attempts.
#[api_v2_operation(tags(Platform), operation_id = "retryJob")]
async fn retry_job(
    _op: PlatformOperator,
    db: web::Data<Database>,
    job_id: web::Path<uuid::Uuid>,
) -> Result<web::Json<Retried>, ApiError> {
    let job_id = job_id.into_inner();
    let queued = db
        .control_tx(async move |conn| {
            let n = diesel::sql_query(
                "UPDATE agora.jobs SET state = 'queued', run_at = now(), attempts = 0, last_error = NULL, finished_at = NULL \
                 WHERE job_id = $1 AND state IN ('retry', 'dead', 'cancelled')",
            )
            .bind::<SqlUuid, _>(job_id)
            .execute(conn)
            .await?;
            crate::jobs::notify_workers(conn).await?;
            Ok::<_, DbError>(n)
        })
        .await?;
    if queued == 0 {
        return Err(ApiError::new(
            ErrorKind::Conflict,
            "job-not-retryable",
            "no such job in state retry, dead or cancelled",
        ));
    }
    Ok(web::Json(Retried { queued }))
}

/// An event with how each subscriber's delivery went.
#[derive(Debug, Serialize, Deserialize, Apiv2Schema)]
pub struct EventSummary {
    pub event_id: uuid::Uuid,
    pub name: String,
    pub tenant: Option<String>,
    pub aggregate_id: String,
    pub payload: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub deliveries: Vec<DeliveryState>,
}

#[derive(Debug, Serialize, Deserialize, Apiv2Schema)]
pub struct DeliveryState {
    pub subscriber: String,
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

#[derive(Queryable)]
struct EventRow {
    id: i64,
    event_id: uuid::Uuid,
    name: String,
    tenant_slug: Option<String>,
    aggregate_id: String,
    payload: serde_json::Value,
    created_at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct DeliveryRow {
    #[diesel(sql_type = BigInt)]
    outbox_id: i64,
    #[diesel(sql_type = Text)]
    subscriber: String,
    #[diesel(sql_type = Text)]
    state: String,
    #[diesel(sql_type = Integer)]
    attempts: i32,
    #[diesel(sql_type = Nullable<Text>)]
    last_error: Option<String>,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct EventListQuery {
    /// Only events of this shop (slug).
    pub tenant: Option<String>,
    /// Only events with this name.
    pub name: Option<String>,
    /// Only events with at least one delivery in this state (e.g. `dead`).
    pub delivery_state: Option<String>,
}

/// Published events with their deliveries, newest first.
#[api_v2_operation(tags(Platform), operation_id = "listEvents")]
async fn list_events(
    _op: PlatformOperator,
    db: web::Data<Database>,
    page: ListQuery<NewestFirst>,
    query: web::Query<EventListQuery>,
) -> Result<web::Json<Page<EventSummary>>, ApiError> {
    let query = query.into_inner();
    if let Some(state) = query.delivery_state.as_deref() {
        if !JOB_STATES.contains(&state) {
            return Err(ApiError::field("delivery_state", format!("one of {}", JOB_STATES.join(", "))));
        }
    }
    let keyset = page.keyset::<DateTime<Utc>>()?;
    let page = keyset.clone();
    let (events, deliveries): (Vec<EventRow>, Vec<DeliveryRow>) = db
        .control_tx(async move |conn| {
            let mut q = outbox::table
                .select((
                    outbox::id,
                    outbox::event_id,
                    outbox::name,
                    outbox::tenant_slug,
                    outbox::aggregate_id,
                    outbox::payload,
                    outbox::created_at,
                ))
                .limit(page.fetch_limit())
                .into_boxed();
            if let Some(tenant) = query.tenant {
                q = q.filter(outbox::tenant_slug.eq(tenant));
            }
            if let Some(name) = query.name {
                q = q.filter(outbox::name.eq(name));
            }
            if let Some(state) = query.delivery_state {
                let with_delivery_in_state = jobs::table.filter(jobs::state.eq(state)).select(jobs::outbox_id);
                q = q.filter(outbox::id.nullable().eq_any(with_delivery_in_state));
            }
            let events: Vec<EventRow> = page.apply(q, outbox::created_at, outbox::event_id).load(conn).await?;
            let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
            let deliveries: Vec<DeliveryRow> = diesel::sql_query(
                "SELECT outbox_id, subscriber, state, attempts, last_error FROM agora.jobs \
                 WHERE outbox_id = ANY($1) ORDER BY subscriber, id",
            )
            .bind::<diesel::sql_types::Array<BigInt>, _>(ids)
            .load(conn)
            .await?;
            Ok::<_, DbError>((events, deliveries))
        })
        .await?;
    let summaries = events
        .into_iter()
        .map(|e| EventSummary {
            deliveries: deliveries
                .iter()
                .filter(|d| d.outbox_id == e.id)
                .map(|d| DeliveryState {
                    subscriber: d.subscriber.clone(),
                    state: d.state.clone(),
                    attempts: d.attempts,
                    last_error: d.last_error.clone(),
                })
                .collect(),
            event_id: e.event_id,
            name: e.name,
            tenant: e.tenant_slug,
            aggregate_id: e.aggregate_id,
            payload: e.payload,
            created_at: e.created_at,
        })
        .collect();
    Ok(web::Json(keyset.page(summaries, |e: &EventSummary| (e.created_at, e.event_id))))
}

#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct RedeliverQuery {
    /// Deliver to every subscriber again, not only those whose delivery failed.
    #[serde(default)]
    pub all: bool,
}

/// Deliver an event again: to the subscribers whose delivery failed or died, or to all.
#[api_v2_operation(tags(Platform), operation_id = "redeliverEvent")]
async fn redeliver_event(
    _op: PlatformOperator,
    db: web::Data<Database>,
    bus: web::Data<EventBus>,
    event_id: web::Path<uuid::Uuid>,
    query: web::Query<RedeliverQuery>,
) -> Result<web::Json<Retried>, ApiError> {
    match events::redeliver(&db, &bus, event_id.into_inner(), query.all).await? {
        Some(queued) => Ok(web::Json(Retried { queued })),
        None => Err(ApiError::new(ErrorKind::NotFound, "event-not-found", "no such event")),
    }
}

/// `/api/v1/platform/jobs` and `/api/v1/platform/events`.
pub fn platform_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/jobs").route(web::get().to(list_jobs)))
        .service(web::resource("/jobs/{job_id}/retry").route(web::post().to(retry_job)))
        .service(web::resource("/events").route(web::get().to(list_events)))
        .service(web::resource("/events/{event_id}/redeliver").route(web::post().to(redeliver_event)));
}
