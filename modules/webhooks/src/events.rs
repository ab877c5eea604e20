//! The fan-out subscriber (every event → one delivery job per subscribed endpoint) and the
//! event this module publishes.

use crate::delivery::{self, DeliverWebhook};
use crate::store;
use crate::DeliveryTrigger;
use agora_kernel::events::{Event, EventEnvelope};
use agora_kernel::jobs::{JobContext, JobError};
use agora_kernel::{Acting, TenantContext};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Subscriber name of the fan-out.
pub(crate) const FAN_OUT: &str = "webhooks.fan_out";

/// Event type of the test event sent by "ping"; never published on the bus.
pub const PING_EVENT: &str = "webhooks.ping.v1";

/// An endpoint was disabled after its deliveries kept failing (so the shop can be told).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct WebhookEndpointDisabled {
    pub endpoint_id: uuid::Uuid,
    pub url: String,
    pub reason: String,
}

impl Event for WebhookEndpointDisabled {
    const NAME: &'static str = "webhooks.endpoint_disabled.v1";
    fn aggregate_id(&self) -> String {
        format!("webhook_endpoint:{}", self.endpoint_id)
    }
}

/// What a receiver gets: the event, framed.
#[derive(Serialize)]
struct DeliveryBody<'a> {
    id: uuid::Uuid,
    #[serde(rename = "type")]
    type_: &'a str,
    created_at: DateTime<Utc>,
    /// The shop's slug.
    tenant: &'a str,
    data: &'a serde_json::Value,
}

/// The JSON body for `event`, serialised once so every attempt sends (and signs) the same bytes.
pub(crate) fn body(
    event_id: uuid::Uuid,
    event_type: &str,
    created_at: DateTime<Utc>,
    tenant: &TenantContext,
    data: &serde_json::Value,
) -> Result<String, serde_json::Error> {
    serde_json::to_string(&DeliveryBody { id: event_id, type_: event_type, created_at, tenant: &tenant.slug, data })
}

pub(crate) fn body_of(envelope: &EventEnvelope, tenant: &TenantContext) -> Result<String, serde_json::Error> {
    body(envelope.event_id, &envelope.name, envelope.occurred_at, tenant, &envelope.payload)
}

/// Queues a delivery of a shop's event to each enabled endpoint that wants it, as they are when
/// this runs (normally moments after the event). Platform events (no shop) go nowhere: endpoints
/// belong to shops. All jobs are queued in one tenant
/// transaction, so a retry of this subscriber never queues half of them twice; and a rerun after
/// a crash queues nothing twice while the first jobs are pending (dedup key endpoint + event).
pub(crate) async fn fan_out(envelope: EventEnvelope, ctx: JobContext) -> Result<(), JobError> {
    let Some(tenant) = envelope.tenant() else {
        return Ok(());
    };
    let body = body_of(&envelope, &tenant).map_err(|e| JobError::permanent(format!("event body: {e}")))?;
    let (event_id, event_type) = (envelope.event_id, envelope.name.clone());
    ctx.db
        .in_tenant(&tenant, &Acting::system("webhooks"), async |tx| {
            for endpoint_id in store::subscribed_endpoints(tx.conn(), &event_type).await? {
                let job = DeliverWebhook {
                    endpoint_id,
                    event_id,
                    event_type: event_type.clone(),
                    trigger: DeliveryTrigger::Event,
                    body: body.clone(),
                };
                delivery::enqueue(tx, &job).await?;
            }
            Ok::<_, JobError>(())
        })
        .await
}
