//! SQL for endpoints and the delivery log. Every function runs on a connection already inside
//! the caller's tenant transaction.

use crate::schema::{webhook_deliveries, webhook_endpoints};
use crate::{DeliveryTrigger, EndpointStatus, WebhookDelivery, WebhookEndpoint};
use agora_kernel::lists::Keyset;
use agora_kernel::Stamp;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// An endpoint as staff see it (no secrets).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub(crate) struct EndpointRow {
    id: uuid::Uuid,
    url: String,
    description: String,
    event_types: Vec<String>,
    status: EndpointStatus,
    disabled_reason: Option<String>,
    disabled_at: Option<DateTime<Utc>>,
    consecutive_failures: i32,
    first_failure_at: Option<DateTime<Utc>>,
    last_success_at: Option<DateTime<Utc>>,
    last_failure_at: Option<DateTime<Utc>>,
    previous_secret_expires_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    created_by: String,
    modified_at: DateTime<Utc>,
    modified_by: String,
    pub version: i64,
}

impl EndpointRow {
    pub fn into_endpoint(self) -> WebhookEndpoint {
        WebhookEndpoint {
            id: self.id,
            url: self.url,
            description: self.description,
            event_types: self.event_types,
            status: self.status,
            disabled_reason: self.disabled_reason,
            disabled_at: self.disabled_at,
            consecutive_failures: self.consecutive_failures,
            failing_since: self.first_failure_at,
            last_success_at: self.last_success_at,
            last_failure_at: self.last_failure_at,
            previous_secret_expires_at: self.previous_secret_expires_at,
            created_at: self.created_at,
            created_by: self.created_by,
            modified_at: self.modified_at,
            modified_by: self.modified_by,
            version: self.version,
        }
    }
}

/// What a delivery attempt needs to know about its endpoint, secrets as stored: sealed, or in
/// the clear when stored before sealing began (tenant migration V8).
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_endpoints)]
pub(crate) struct DeliveryTarget {
    pub url: String,
    pub status: EndpointStatus,
    pub secret: Option<String>,
    pub secret_sealed: Option<Vec<u8>>,
    pub previous_secret: Option<String>,
    pub previous_secret_sealed: Option<Vec<u8>>,
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
}

/// An endpoint's secrets as stored, for sealing them again.
pub(crate) type StoredSecrets = (uuid::Uuid, Option<String>, Option<Vec<u8>>, Option<String>, Option<Vec<u8>>);

pub(crate) async fn all_secrets(conn: &mut AsyncPgConnection) -> QueryResult<Vec<StoredSecrets>> {
    webhook_endpoints::table
        .select((
            webhook_endpoints::id,
            webhook_endpoints::secret,
            webhook_endpoints::secret_sealed,
            webhook_endpoints::previous_secret,
            webhook_endpoints::previous_secret_sealed,
        ))
        .for_update()
        .load(conn)
        .await
}

/// Stores an endpoint's secrets sealed (and nothing in the clear).
pub(crate) async fn store_sealed(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    sealed: &[u8],
    previous_sealed: Option<&[u8]>,
) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set((
            webhook_endpoints::secret_sealed.eq(sealed),
            webhook_endpoints::secret.eq(None::<String>),
            webhook_endpoints::previous_secret_sealed.eq(previous_sealed),
            webhook_endpoints::previous_secret.eq(None::<String>),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Validated endpoint fields.
#[derive(Debug, Clone)]
pub(crate) struct EndpointFields {
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
}

/// Validated changes.
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = webhook_endpoints)]
pub(crate) struct EndpointChanges {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
}

impl EndpointChanges {
    pub fn is_empty(&self) -> bool {
        self.url.is_none() && self.description.is_none() && self.event_types.is_none()
    }
}

fn live() -> diesel::dsl::IsNull<webhook_endpoints::deleted_at> {
    webhook_endpoints::deleted_at.is_null()
}

pub(crate) async fn insert_endpoint(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    fields: &EndpointFields,
    sealed_secret: &[u8],
    stamp: &Stamp,
) -> QueryResult<EndpointRow> {
    diesel::insert_into(webhook_endpoints::table)
        .values((
            webhook_endpoints::id.eq(id),
            webhook_endpoints::url.eq(&fields.url),
            webhook_endpoints::description.eq(&fields.description),
            webhook_endpoints::event_types.eq(&fields.event_types),
            webhook_endpoints::secret_sealed.eq(sealed_secret),
            agora_kernel::stamp_new!(stamp, webhook_endpoints),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn list_endpoints(
    conn: &mut AsyncPgConnection,
    page: &Keyset<DateTime<Utc>>,
) -> QueryResult<Vec<EndpointRow>> {
    let query =
        webhook_endpoints::table.filter(live()).select(EndpointRow::as_select()).limit(page.fetch_limit()).into_boxed();
    page.apply(query, webhook_endpoints::created_at, webhook_endpoints::id).load(conn).await
}

pub(crate) async fn find_endpoint(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id).and(live()))
        .select(EndpointRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The endpoint, locked for a change.
pub(crate) async fn lock_endpoint(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<Option<EndpointRow>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id).and(live()))
        .select(EndpointRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn apply_changes(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    changes: &EndpointChanges,
    stamp: &Stamp,
) -> QueryResult<EndpointRow> {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set((changes, agora_kernel::stamp_change!(stamp, webhook_endpoints)))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn soft_delete(conn: &mut AsyncPgConnection, id: uuid::Uuid, stamp: &Stamp) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set((
            webhook_endpoints::deleted_at.eq(diesel::dsl::now),
            agora_kernel::stamp_change!(stamp, webhook_endpoints),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes `sealed_secret` current; the old one signs alongside it until `previous_expires_at` (or
/// not at all when that is `None`).
pub(crate) async fn replace_secret(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    sealed_secret: &[u8],
    previous_expires_at: Option<DateTime<Utc>>,
    stamp: &Stamp,
) -> QueryResult<EndpointRow> {
    let update = diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)));
    let common = (
        webhook_endpoints::secret_sealed.eq(sealed_secret),
        webhook_endpoints::secret.eq(None::<String>),
        webhook_endpoints::previous_secret_expires_at.eq(previous_expires_at),
        agora_kernel::stamp_change!(stamp, webhook_endpoints),
    );
    if previous_expires_at.is_some() {
        // `SET previous_… = …` reads the row's values before this UPDATE: the old secret, as stored.
        update
            .set((
                webhook_endpoints::previous_secret_sealed.eq(webhook_endpoints::secret_sealed),
                webhook_endpoints::previous_secret.eq(webhook_endpoints::secret),
                common,
            ))
            .returning(EndpointRow::as_returning())
            .get_result(conn)
            .await
    } else {
        update
            .set((
                webhook_endpoints::previous_secret_sealed.eq(None::<Vec<u8>>),
                webhook_endpoints::previous_secret.eq(None::<String>),
                common,
            ))
            .returning(EndpointRow::as_returning())
            .get_result(conn)
            .await
    }
}

pub(crate) async fn enable(conn: &mut AsyncPgConnection, id: uuid::Uuid, stamp: &Stamp) -> QueryResult<EndpointRow> {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set((
            webhook_endpoints::status.eq(EndpointStatus::Enabled),
            webhook_endpoints::disabled_reason.eq(None::<String>),
            webhook_endpoints::disabled_at.eq(None::<DateTime<Utc>>),
            webhook_endpoints::consecutive_failures.eq(0),
            webhook_endpoints::first_failure_at.eq(None::<DateTime<Utc>>),
            agora_kernel::stamp_change!(stamp, webhook_endpoints),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn disable(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    reason: &str,
    stamp: &Stamp,
) -> QueryResult<EndpointRow> {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set((
            webhook_endpoints::status.eq(EndpointStatus::Disabled),
            webhook_endpoints::disabled_reason.eq(reason),
            webhook_endpoints::disabled_at.eq(diesel::dsl::now),
            agora_kernel::stamp_change!(stamp, webhook_endpoints),
        ))
        .returning(EndpointRow::as_returning())
        .get_result(conn)
        .await
}

/// Enabled endpoints that want events named `event_type`, oldest first.
pub(crate) async fn subscribed_endpoints(
    conn: &mut AsyncPgConnection,
    event_type: &str,
) -> QueryResult<Vec<uuid::Uuid>> {
    webhook_endpoints::table
        .filter(live())
        .filter(webhook_endpoints::status.eq(EndpointStatus::Enabled))
        .filter(webhook_endpoints::event_types.overlaps_with(vec!["*".to_string(), event_type.to_string()]))
        .order((webhook_endpoints::created_at, webhook_endpoints::id))
        .select(webhook_endpoints::id)
        .load(conn)
        .await
}

pub(crate) async fn delivery_target(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
) -> QueryResult<Option<DeliveryTarget>> {
    webhook_endpoints::table
        .filter(webhook_endpoints::id.eq(id).and(live()))
        .select(DeliveryTarget::as_select())
        .first(conn)
        .await
        .optional()
}

/// One attempt for the log.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = webhook_deliveries)]
pub(crate) struct AttemptRecord {
    pub id: uuid::Uuid,
    pub endpoint_id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub event_type: String,
    pub trigger: DeliveryTrigger,
    pub attempt: i32,
    pub request_body: String,
    pub response_status: Option<i32>,
    pub response_body: Option<String>,
    pub error: Option<String>,
    pub duration_ms: i32,
    pub succeeded: bool,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

pub(crate) async fn record_attempt(conn: &mut AsyncPgConnection, record: &AttemptRecord) -> QueryResult<()> {
    diesel::insert_into(webhook_deliveries::table).values(record).execute(conn).await?;
    Ok(())
}

/// A success clears the failure record. Deliberately leaves `version` alone: bookkeeping by
/// deliveries must not make a merchant's next edit fail with 412.
pub(crate) async fn record_success(conn: &mut AsyncPgConnection, id: uuid::Uuid, at: DateTime<Utc>) -> QueryResult<()> {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id)))
        .set((
            webhook_endpoints::consecutive_failures.eq(0),
            webhook_endpoints::first_failure_at.eq(None::<DateTime<Utc>>),
            webhook_endpoints::last_success_at.eq(at),
        ))
        .execute(conn)
        .await?;
    Ok(())
}

/// The endpoint's failure record after one more failure.
#[derive(Debug, Clone, Queryable)]
pub(crate) struct FailureRecord {
    pub status: EndpointStatus,
    pub first_failure_at: Option<DateTime<Utc>>,
    pub consecutive_failures: i32,
}

pub(crate) async fn record_failure(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    at: DateTime<Utc>,
) -> QueryResult<Option<FailureRecord>> {
    diesel::update(webhook_endpoints::table.filter(webhook_endpoints::id.eq(id).and(live())))
        .set((
            webhook_endpoints::consecutive_failures.eq(webhook_endpoints::consecutive_failures + 1),
            webhook_endpoints::first_failure_at.eq(diesel::dsl::sql::<
                diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
            >("coalesce(first_failure_at, ")
            .bind::<diesel::sql_types::Timestamptz, _>(at)
            .sql(")")),
            webhook_endpoints::last_failure_at.eq(at),
        ))
        .returning((
            webhook_endpoints::status,
            webhook_endpoints::first_failure_at,
            webhook_endpoints::consecutive_failures,
        ))
        .get_result(conn)
        .await
        .optional()
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = webhook_deliveries)]
pub(crate) struct DeliveryRow {
    id: uuid::Uuid,
    endpoint_id: uuid::Uuid,
    event_id: uuid::Uuid,
    event_type: String,
    trigger: DeliveryTrigger,
    attempt: i32,
    succeeded: bool,
    response_status: Option<i32>,
    response_body: Option<String>,
    error: Option<String>,
    duration_ms: i32,
    request_body: String,
    created_at: DateTime<Utc>,
}

impl DeliveryRow {
    pub fn into_delivery(self) -> WebhookDelivery {
        WebhookDelivery {
            id: self.id,
            endpoint_id: self.endpoint_id,
            event_id: self.event_id,
            event_type: self.event_type,
            trigger: self.trigger,
            attempt: self.attempt,
            succeeded: self.succeeded,
            response_status: self.response_status,
            response_body: self.response_body,
            error: self.error,
            duration_ms: self.duration_ms,
            request_body: self.request_body,
            created_at: self.created_at,
        }
    }
}

/// The log, newest first.
pub(crate) async fn list_deliveries(
    conn: &mut AsyncPgConnection,
    endpoint_id: uuid::Uuid,
    page: &Keyset<DateTime<Utc>>,
    event_id: Option<uuid::Uuid>,
) -> QueryResult<Vec<DeliveryRow>> {
    let mut query = webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id))
        .select(DeliveryRow::as_select())
        .limit(page.fetch_limit())
        .into_boxed();
    if let Some(event_id) = event_id {
        query = query.filter(webhook_deliveries::event_id.eq(event_id));
    }
    page.apply(query, webhook_deliveries::created_at, webhook_deliveries::id).load(conn).await
}

/// The body last sent to this endpoint for this event: the source for a redelivery once the
/// event itself has aged out of the outbox.
pub(crate) async fn last_sent(
    conn: &mut AsyncPgConnection,
    endpoint_id: uuid::Uuid,
    event_id: uuid::Uuid,
) -> QueryResult<Option<(String, String)>> {
    webhook_deliveries::table
        .filter(webhook_deliveries::endpoint_id.eq(endpoint_id).and(webhook_deliveries::event_id.eq(event_id)))
        .order(webhook_deliveries::created_at.desc())
        .select((webhook_deliveries::event_type, webhook_deliveries::request_body))
        .first(conn)
        .await
        .optional()
}
