//! Domain events: typed, versioned, published through the transactional outbox.
//!
//! `publish` writes the event to `agora.outbox` and one delivery job per subscriber, all inside
//! the caller's transaction: a rolled-back change publishes nothing, a committed one is delivered
//! even if the process dies right after the commit. Delivery then rides on the job queue (leases,
//! retries with backoff, a dead state), with one ordering key per subscriber and aggregate so a
//! subscriber sees one aggregate's events in the order they were published. A subscriber handles
//! an event once per success; handlers must be idempotent, since a crash between handling and
//! recording the success delivers again.

use crate::db::{Database, DbError};
use crate::http::TenantContext;
use crate::jobs::{JobContext, JobError};
use crate::TenantSchema;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

/// Job kind of an event's delivery to one subscriber.
pub const DELIVER_KIND: &str = "event.deliver";

/// A fact a module announces. `NAME` is versioned (`orders.order_placed.v1`): a breaking change
/// to the payload is a new name.
pub trait Event: Serialize + DeserializeOwned + schemars::JsonSchema + Send + Sync + 'static {
    const NAME: &'static str;

    /// The aggregate this event is about, typed: `order:<id>`. Events of one aggregate reach
    /// each subscriber in order.
    fn aggregate_id(&self) -> String;

    /// An event about the platform rather than one shop (a shop opened, a diagnostics ping):
    /// published with [`EventBus::publish_platform`], so no shop ever receives it and a shop's
    /// webhook endpoints are not offered it.
    const PLATFORM: bool = false;
}

/// An event as stored and delivered.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct EventEnvelope {
    pub event_id: uuid::Uuid,
    pub name: String,
    pub tenant_id: Option<uuid::Uuid>,
    pub tenant_slug: Option<String>,
    pub aggregate_id: String,
    pub payload: serde_json::Value,
    pub occurred_at: DateTime<Utc>,
}

impl EventEnvelope {
    pub fn tenant(&self) -> Option<TenantContext> {
        let (id, slug) = (self.tenant_id?, self.tenant_slug.clone()?);
        Some(TenantContext { id, schema: TenantSchema::for_slug(&slug)?, slug })
    }

    /// The payload as its typed event.
    pub fn decode<E: Event>(&self) -> Result<E, JobError> {
        serde_json::from_value(self.payload.clone())
            .map_err(|e| JobError::permanent(format!("undecodable {}: {e}", self.name)))
    }
}

type SubscriberFn = Arc<dyn Fn(EventEnvelope, JobContext) -> BoxFuture<'static, Result<(), JobError>> + Send + Sync>;

struct Subscription {
    handler: SubscriberFn,
    /// `None` = every event.
    events: Option<Vec<&'static str>>,
}

/// Subscribers are registered once, at start-up, by the composition root.
#[derive(Default)]
pub struct EventBusBuilder {
    subscriptions: HashMap<&'static str, Subscription>,
    schemas: Vec<(&'static str, serde_json::Value)>,
    platform: Vec<&'static str>,
    priorities: HashMap<&'static str, i16>,
}

impl EventBusBuilder {
    /// Declares an event type so its JSON schema is exported (even if nobody subscribes yet).
    pub fn declare<E: Event>(&mut self) -> &mut Self {
        if !self.schemas.iter().any(|(name, _)| *name == E::NAME) {
            let schema = serde_json::to_value(schemars::schema_for!(E)).unwrap_or_default();
            self.schemas.push((E::NAME, schema));
            if E::PLATFORM {
                self.platform.push(E::NAME);
            }
        }
        self
    }

    /// `subscriber` (a stable name such as `search.index_products`) handles every `E`.
    pub fn subscribe<E, F, Fut>(&mut self, subscriber: &'static str, handler: F) -> &mut Self
    where
        E: Event,
        F: Fn(E, EventEnvelope, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        self.declare::<E>();
        let handler = Arc::new(handler);
        let erased: SubscriberFn = Arc::new(move |envelope: EventEnvelope, ctx| {
            let handler = Arc::clone(&handler);
            Box::pin(async move {
                let event = envelope.decode::<E>()?;
                handler(event, envelope, ctx).await
            })
        });
        let entry = self
            .subscriptions
            .entry(subscriber)
            .or_insert_with(|| Subscription { handler: erased.clone(), events: Some(Vec::new()) });
        entry.handler = erased;
        if let Some(events) = entry.events.as_mut() {
            events.push(E::NAME);
        }
        self
    }

    /// Deliveries to `subscriber` go ahead of queued work of lower priority (the job queue's
    /// `priority`; 0 by default): what shoppers see (a variant's availability) should not wait
    /// behind thousands of webhook fan-outs after a bulk change.
    pub fn prioritize(&mut self, subscriber: &'static str, priority: i16) -> &mut Self {
        self.priorities.insert(subscriber, priority);
        self
    }

    /// `subscriber` handles every event, whatever its type (webhooks, analytics).
    pub fn subscribe_all<F, Fut>(&mut self, subscriber: &'static str, handler: F) -> &mut Self
    where
        F: Fn(EventEnvelope, JobContext) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), JobError>> + Send + 'static,
    {
        let handler = Arc::new(handler);
        let erased: SubscriberFn = Arc::new(move |envelope, ctx| {
            let handler = Arc::clone(&handler);
            Box::pin(async move { handler(envelope, ctx).await })
        });
        self.subscriptions.insert(subscriber, Subscription { handler: erased, events: None });
        self
    }

    pub fn build(self) -> EventBus {
        let bus = EventBus::pending();
        // A pending bus was just made: it cannot have been built already.
        let _ = self.build_into(&bus);
        bus
    }

    /// Completes a bus made with [`EventBus::pending`], which modules built before every
    /// subscriber was known already hold. Refused if that bus was built already.
    pub fn build_into(self, bus: &EventBus) -> Result<(), String> {
        let mut by_event: HashMap<&'static str, Vec<&'static str>> = HashMap::new();
        let mut everything = Vec::new();
        for (subscriber, subscription) in &self.subscriptions {
            match &subscription.events {
                None => everything.push(*subscriber),
                Some(events) => {
                    for event in events {
                        by_event.entry(event).or_default().push(*subscriber);
                    }
                }
            }
        }
        everything.sort_unstable();
        for subscribers in by_event.values_mut() {
            subscribers.sort_unstable();
        }
        let mut schemas = self.schemas;
        schemas.sort_by_key(|(name, _)| *name);
        let inner = Inner {
            handlers: self.subscriptions.into_iter().map(|(name, s)| (name, s.handler)).collect(),
            by_event,
            everything,
            schemas,
            platform: self.platform,
            priorities: self.priorities,
        };
        bus.inner.set(inner).map_err(|_| "the event bus was built already".to_string())
    }
}

struct Inner {
    handlers: HashMap<&'static str, SubscriberFn>,
    by_event: HashMap<&'static str, Vec<&'static str>>,
    everything: Vec<&'static str>,
    schemas: Vec<(&'static str, serde_json::Value)>,
    platform: Vec<&'static str>,
    priorities: HashMap<&'static str, i16>,
}

/// Publishes events and delivers them to subscribers. Cheap to clone.
///
/// Modules that publish hold it from the start, but subscribers are only known once every
/// module has registered: so the composition root hands out a [`pending`](Self::pending) bus
/// and completes it with [`EventBusBuilder::build_into`] before serving. Publishing on a bus
/// not yet built is an error, never an event silently delivered to nobody.
#[derive(Clone)]
pub struct EventBus {
    inner: Arc<std::sync::OnceLock<Inner>>,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBusBuilder::default().build()
    }
}

#[derive(QueryableByName)]
struct OutboxId {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct OutboxRow {
    #[diesel(sql_type = SqlUuid)]
    event_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    tenant_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Text>)]
    tenant_slug: Option<String>,
    #[diesel(sql_type = Text)]
    aggregate_id: String,
    #[diesel(sql_type = Jsonb)]
    payload: serde_json::Value,
    #[diesel(sql_type = Timestamptz)]
    created_at: DateTime<Utc>,
}

impl EventBus {
    pub fn builder() -> EventBusBuilder {
        EventBusBuilder::default()
    }

    /// A bus whose subscribers come later, with [`EventBusBuilder::build_into`].
    pub fn pending() -> Self {
        Self { inner: Arc::new(std::sync::OnceLock::new()) }
    }

    /// Whether its subscribers are registered (see [`EventBus::pending`]).
    pub fn is_built(&self) -> bool {
        self.inner.get().is_some()
    }

    /// Every declared event's name and JSON schema, sorted by name (none while pending).
    pub fn schemas(&self) -> &[(&'static str, serde_json::Value)] {
        self.inner.get().map(|inner| inner.schemas.as_slice()).unwrap_or_default()
    }

    /// The declared events a shop can be sent (every one but the platform's), sorted by name.
    pub fn shop_event_names(&self) -> Vec<&'static str> {
        let Some(inner) = self.inner.get() else { return Vec::new() };
        inner.schemas.iter().map(|(name, _)| *name).filter(|name| !inner.platform.contains(name)).collect()
    }

    /// The job priority of deliveries to `subscriber` (see [`EventBusBuilder::prioritize`]).
    fn priority_of(&self, subscriber: &str) -> i16 {
        self.inner.get().and_then(|inner| inner.priorities.get(subscriber).copied()).unwrap_or(0)
    }

    /// Subscribers of an event name (specific ones, then catch-alls).
    pub fn subscribers_of(&self, name: &str) -> Vec<&'static str> {
        let Some(inner) = self.inner.get() else { return Vec::new() };
        let mut all: Vec<&'static str> = inner.by_event.get(name).cloned().unwrap_or_default();
        all.extend(inner.everything.iter().copied());
        all
    }

    /// Records a platform event (one about no shop: a shop opened, an operator signed in) in the
    /// caller's control transaction. A shop's events go through [`crate::tx::TenantTx::publish`].
    pub async fn publish_platform<E: Event>(
        &self,
        conn: &mut AsyncPgConnection,
        event: &E,
    ) -> Result<uuid::Uuid, DbError> {
        self.publish_in(conn, None, event).await
    }

    /// Records `event` in the caller's transaction and schedules its delivery to every
    /// subscriber. `tenant` is `None` only for platform events.
    pub(crate) async fn publish_in<E: Event>(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: Option<&TenantContext>,
        event: &E,
    ) -> Result<uuid::Uuid, DbError> {
        if !self.is_built() {
            return Err(DbError::Pool(format!("{} published before the event bus was built", E::NAME)));
        }
        let payload = serde_json::to_value(event).map_err(|e| DbError::Pool(format!("event payload: {e}")))?;
        let event_id = crate::new_id();
        let aggregate_id = event.aggregate_id();
        let outbox: OutboxId = diesel::sql_query(
            "INSERT INTO agora.outbox (event_id, tenant_id, tenant_slug, name, aggregate_id, payload) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind::<SqlUuid, _>(event_id)
        .bind::<Nullable<SqlUuid>, _>(tenant.map(|t| t.id))
        .bind::<Nullable<Text>, _>(tenant.map(|t| t.slug.clone()))
        .bind::<Text, _>(E::NAME)
        .bind::<Text, _>(&aggregate_id)
        .bind::<Jsonb, _>(payload)
        .get_result(conn)
        .await?;
        let subscribers: Vec<String> = self.subscribers_of(E::NAME).into_iter().map(str::to_string).collect();
        if !subscribers.is_empty() {
            let priorities: Vec<i16> = subscribers.iter().map(|s| self.priority_of(s)).collect();
            schedule_deliveries(conn, outbox.id, &subscribers, &priorities, tenant, &aggregate_id).await?;
            crate::jobs::notify_workers(conn).await?;
        }
        Ok(event_id)
    }

    /// Runs one subscriber on one stored event (the `event.deliver` job).
    pub(crate) async fn deliver(&self, outbox_id: i64, subscriber: &str, ctx: JobContext) -> Result<(), JobError> {
        let Some(handler) = self.inner.get().and_then(|inner| inner.handlers.get(subscriber)).cloned() else {
            return Err(JobError::retry(format!("subscriber {subscriber} is not registered in this process")));
        };
        let row: OutboxRow = ctx
            .db
            .control_tx(async move |conn| {
                Ok::<_, DbError>(
                    diesel::sql_query(
                        "SELECT event_id, name, tenant_id, tenant_slug, aggregate_id, payload, created_at FROM agora.outbox WHERE id = $1",
                    )
                    .bind::<BigInt, _>(outbox_id)
                    .get_result(conn)
                    .await?,
                )
            })
            .await?;
        let envelope = EventEnvelope {
            event_id: row.event_id,
            name: row.name,
            tenant_id: row.tenant_id,
            tenant_slug: row.tenant_slug,
            aggregate_id: row.aggregate_id,
            payload: row.payload,
            occurred_at: row.created_at,
        };
        let ctx = JobContext { tenant: envelope.tenant(), ..ctx };
        handler(envelope, ctx).await
    }
}

async fn schedule_deliveries(
    conn: &mut AsyncPgConnection,
    outbox_id: i64,
    subscribers: &[String],
    priorities: &[i16],
    tenant: Option<&TenantContext>,
    aggregate_id: &str,
) -> Result<(), DbError> {
    let tenant_key = tenant.map(|t| t.id.to_string()).unwrap_or_else(|| "platform".into());
    diesel::sql_query(
        "INSERT INTO agora.jobs (job_id, kind, tenant_id, tenant_slug, payload, outbox_id, subscriber, ordering_key, priority) \
         SELECT gen_random_uuid(), $1, $2, $3, '{}'::jsonb, $4, s, s || ':' || $5 || ':' || $6, p \
         FROM unnest($7::text[], $8::smallint[]) AS t(s, p)",
    )
    .bind::<Text, _>(DELIVER_KIND)
    .bind::<Nullable<SqlUuid>, _>(tenant.map(|t| t.id))
    .bind::<Nullable<Text>, _>(tenant.map(|t| t.slug.clone()))
    .bind::<BigInt, _>(outbox_id)
    .bind::<Text, _>(tenant_key)
    .bind::<Text, _>(aggregate_id)
    .bind::<Array<Text>, _>(subscribers)
    .bind::<Array<diesel::sql_types::SmallInt>, _>(priorities)
    .execute(conn)
    .await?;
    Ok(())
}

/// Delivers a stored event again to the subscribers whose delivery failed or died (or to all of
/// them with `all`). Returns how many deliveries were scheduled.
pub async fn redeliver(
    db: &Database,
    bus: &EventBus,
    event_id: uuid::Uuid,
    all: bool,
) -> Result<Option<usize>, DbError> {
    let bus = bus.clone();
    db.control_tx(async move |conn| {
        let found: Option<OutboxRow> = diesel::sql_query(
            "SELECT event_id, name, tenant_id, tenant_slug, aggregate_id, payload, created_at FROM agora.outbox WHERE event_id = $1",
        )
        .bind::<SqlUuid, _>(event_id)
        .get_result(conn)
        .await
        .map(Some)
        .or_else(|e| if e == diesel::result::Error::NotFound { Ok(None) } else { Err(e) })?;
        let Some(row) = found else { return Ok(None) };
        let id: OutboxId = diesel::sql_query("SELECT id FROM agora.outbox WHERE event_id = $1").bind::<SqlUuid, _>(event_id).get_result(conn).await?;
        let retried = if all {
            let subscribers: Vec<String> = bus.subscribers_of(&row.name).into_iter().map(str::to_string).collect();
            let tenant = EventEnvelope {
                event_id: row.event_id,
                name: row.name.clone(),
                tenant_id: row.tenant_id,
                tenant_slug: row.tenant_slug.clone(),
                aggregate_id: row.aggregate_id.clone(),
                payload: serde_json::Value::Null,
                occurred_at: row.created_at,
            }
            .tenant();
            let priorities: Vec<i16> = subscribers.iter().map(|s| bus.priority_of(s)).collect();
            schedule_deliveries(conn, id.id, &subscribers, &priorities, tenant.as_ref(), &row.aggregate_id).await?;
            subscribers.len()
        } else {
            diesel::sql_query(
                "UPDATE agora.jobs SET state = 'queued', run_at = now(), attempts = 0, last_error = NULL, finished_at = NULL \
                 WHERE outbox_id = $1 AND state IN ('retry', 'dead')",
            )
            .bind::<BigInt, _>(id.id)
            .execute(conn)
            .await?
        };
        crate::jobs::notify_workers(conn).await?;
        Ok(Some(retried))
    })
    .await
}

/// One stored event by id, for modules that act on past events (webhook redelivery). Takes a
/// connection so it can run inside any transaction: the outbox is schema-qualified.
pub async fn load_event(conn: &mut AsyncPgConnection, event_id: uuid::Uuid) -> Result<Option<EventEnvelope>, DbError> {
    use diesel::OptionalExtension;
    let row: Option<OutboxRow> = diesel::sql_query(
        "SELECT event_id, name, tenant_id, tenant_slug, aggregate_id, payload, created_at FROM agora.outbox WHERE event_id = $1",
    )
    .bind::<SqlUuid, _>(event_id)
    .get_result(conn)
    .await
    .optional()?;
    Ok(row.map(|row| EventEnvelope {
        event_id: row.event_id,
        name: row.name,
        tenant_id: row.tenant_id,
        tenant_slug: row.tenant_slug,
        aggregate_id: row.aggregate_id,
        payload: row.payload,
        occurred_at: row.created_at,
    }))
}
