//! Platform operators' view of the job queue and the event outbox: what failed, what died, and
//! the buttons to try again.

use crate::db::{Database, DbError};
use crate::error::{ApiError, ErrorKind};
use crate::events::{self, EventBus};
use crate::pagination::{Cursor, Page, PageQuery};
use crate::platform::PlatformOperator;
use chrono::{DateTime, Utc};
use diesel::sql_types::{BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::RunQueryDsl;
use paperclip::actix::{api_v2_operation, web, Apiv2Schema};
use serde::{Deserialize, Serialize};

const JOB_STATES: [&str; 6] = ["queued", "running", "retry", "succeeded", "dead", "cancelled"];

/// A job as operators see it.
#[derive(Debug, Serialize, Deserialize, QueryableByName, Apiv2Schema)]
pub struct JobSummary {
    #[diesel(sql_type = SqlUuid)]
    pub job_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub tenant: Option<String>,
    /// queued, running, retry, succeeded, dead or cancelled.
    #[diesel(sql_type = Text)]
    pub state: String,
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
    #[diesel(sql_type = Integer)]
    pub max_attempts: i32,
    #[diesel(sql_type = Timestamptz)]
    pub run_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub last_error: Option<String>,
    /// For event deliveries: the event and the subscriber.
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub event_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    pub subscriber: Option<String>,
    #[diesel(sql_type = Jsonb)]
    pub payload: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub finished_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct JobListQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
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
    query: web::Query<JobListQuery>,
) -> Result<web::Json<Page<JobSummary>>, ApiError> {
    let query = query.into_inner();
    if let Some(state) = query.state.as_deref() {
        if !JOB_STATES.contains(&state) {
            return Err(ApiError::field("state", format!("one of {}", JOB_STATES.join(", "))));
        }
    }
    let page = PageQuery { limit: query.limit, cursor: query.cursor.clone() }.validate()?;
    let (after_at, after_id) = match &page.after {
        Some(c) => (Some(c.created_at), Some(c.id)),
        None => (None, None),
    };
    let limit = page.limit + 1;
    let rows: Vec<JobSummary> = db
        .control_tx(async move |conn| {
            Ok::<_, DbError>(
                diesel::sql_query(
                    "SELECT j.job_id, j.kind, j.tenant_slug AS tenant, j.state, j.attempts, j.max_attempts, j.run_at, j.last_error, \
                            o.event_id, j.subscriber, j.payload, j.created_at, j.finished_at \
                     FROM agora.jobs j LEFT JOIN agora.outbox o ON o.id = j.outbox_id \
                     WHERE ($1::text IS NULL OR j.state = $1) AND ($2::text IS NULL OR j.kind = $2) \
                       AND ($3::uuid IS NULL OR o.event_id = $3) \
                       AND ($4::timestamptz IS NULL OR (j.created_at, j.job_id) < ($4, $5)) \
                     ORDER BY j.created_at DESC, j.job_id DESC LIMIT $6",
                )
                .bind::<Nullable<Text>, _>(query.state)
                .bind::<Nullable<Text>, _>(query.kind)
                .bind::<Nullable<SqlUuid>, _>(query.event_id)
                .bind::<Nullable<Timestamptz>, _>(after_at)
                .bind::<Nullable<SqlUuid>, _>(after_id)
                .bind::<BigInt, _>(limit)
                .load(conn)
                .await?,
            )
        })
        .await?;
    Ok(web::Json(Page::from_rows(rows, &page, |j| Cursor { created_at: j.created_at, id: j.job_id })))
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

#[derive(QueryableByName)]
struct EventRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = SqlUuid)]
    event_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<Text>)]
    tenant_slug: Option<String>,
    #[diesel(sql_type = Text)]
    aggregate_id: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
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
    pub limit: Option<i64>,
    pub cursor: Option<String>,
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
    query: web::Query<EventListQuery>,
) -> Result<web::Json<Page<EventSummary>>, ApiError> {
    let query = query.into_inner();
    if let Some(state) = query.delivery_state.as_deref() {
        if !JOB_STATES.contains(&state) {
            return Err(ApiError::field("delivery_state", format!("one of {}", JOB_STATES.join(", "))));
        }
    }
    let page = PageQuery { limit: query.limit, cursor: query.cursor.clone() }.validate()?;
    let (after_at, after_id) = match &page.after {
        Some(c) => (Some(c.created_at), Some(c.id)),
        None => (None, None),
    };
    let limit = page.limit + 1;
    let (events, deliveries): (Vec<EventRow>, Vec<DeliveryRow>) = db
        .control_tx(async move |conn| {
            let events: Vec<EventRow> = diesel::sql_query(
                "SELECT o.id, o.event_id, o.name, o.tenant_slug, o.aggregate_id, o.payload, o.created_at FROM agora.outbox o \
                 WHERE ($1::text IS NULL OR o.tenant_slug = $1) AND ($2::text IS NULL OR o.name = $2) \
                   AND ($3::text IS NULL OR EXISTS (SELECT 1 FROM agora.jobs j WHERE j.outbox_id = o.id AND j.state = $3)) \
                   AND ($4::timestamptz IS NULL OR (o.created_at, o.event_id) < ($4, $5)) \
                 ORDER BY o.created_at DESC, o.event_id DESC LIMIT $6",
            )
            .bind::<Nullable<Text>, _>(query.tenant)
            .bind::<Nullable<Text>, _>(query.name)
            .bind::<Nullable<Text>, _>(query.delivery_state)
            .bind::<Nullable<Timestamptz>, _>(after_at)
            .bind::<Nullable<SqlUuid>, _>(after_id)
            .bind::<BigInt, _>(limit)
            .load(conn)
            .await?;
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
    Ok(web::Json(Page::from_rows(summaries, &page, |e: &EventSummary| Cursor {
        created_at: e.created_at,
        id: e.event_id,
    })))
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
