//! Outgoing webhooks: a shop registers endpoints and picks event types; every matching event is
//! POSTed to each endpoint, signed, retried with backoff for about three days, and logged.
//!
//! - [`register`] subscribes to every event (`webhooks.fan_out`): for a shop's event it queues one
//!   delivery job per enabled, subscribed endpoint, in one tenant transaction. Jobs of one endpoint
//!   share an ordering key, so an endpoint receives events in the order they were fanned out, and
//!   a failing event holds back the ones after it until it succeeds or is given up.
//! - Each delivery attempt signs the body (`Agora-Signature`, see [`signing`](crate::signing)),
//!   POSTs it through the kernel's SSRF-guarded client (`agora_kernel::outbound`), and records the outcome in the
//!   shop's delivery log. Sustained failure disables the endpoint and announces it with
//!   [`WebhookEndpointDisabled`].
//! - Delivery is at least once: receivers deduplicate by the event `id` in the body.
//!
//! The facade below is the module's whole public face: each method opens one tenant transaction
//! and hands it to the rules in `endpoints.rs` and `delivery.rs`.

mod delivery;
mod endpoints;
mod error;
mod events;
mod http;
mod runtime;
mod schema;
mod signing;
mod store;
mod targets;

use agora_kernel::events::{EventBus, EventBusBuilder};
use agora_kernel::jobs::JobRegistry;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::outbound::Outbound;
use agora_kernel::sealing::Sealer;
use agora_kernel::{Acting, Actor, Database, TenantContext};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Duration;

pub use delivery::{retry_delay, MAX_ATTEMPTS};
pub use error::WebhooksError;
pub use events::{WebhookEndpointDisabled, PING_EVENT};
pub use signing::SECRET_PREFIX;

/// Operator settings for webhook delivery.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Delay before the first retry; each further retry waits twice as long, up to 360 × this
    /// (6 h for the default 1 min). See [`retry_delay`].
    pub retry_base: Duration,
    /// An endpoint whose deliveries have all failed for this long is disabled.
    pub disable_after: Duration,
    /// How long a rotated-out secret keeps signing deliveries unless the rotation says otherwise.
    pub rotation_grace: Duration,
    /// Time allowed for one delivery request, connection included.
    pub request_timeout: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            retry_base: Duration::from_secs(60),
            disable_after: Duration::from_secs(3 * 24 * 3600),
            rotation_grace: Duration::from_secs(24 * 3600),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// `AGORA_WEBHOOKS_RETRY_BASE_MS` (first retry's wait; lower it only to make tests or demos
/// fast) and `AGORA_WEBHOOKS_DISABLE_AFTER_SECS`; in a TOML file also `[webhooks]`
/// `retry_base_ms` / `disable_after_secs`.
impl agora_kernel::settings::Settings for WebhookSettings {
    const KEYS: &'static [&'static str] = &["webhooks_retry_base_ms", "webhooks_disable_after_secs"];

    fn load(src: &agora_kernel::settings::Source<'_>) -> Result<Self, agora_kernel::settings::SettingsError> {
        use agora_kernel::settings::range;
        Ok(Self {
            retry_base: Duration::from_millis(src.parsed(
                "AGORA_WEBHOOKS_RETRY_BASE_MS",
                60_000,
                range(1, 3_600_000),
            )?),
            disable_after: Duration::from_secs(src.parsed(
                "AGORA_WEBHOOKS_DISABLE_AFTER_SECS",
                3 * 24 * 3600,
                range(1, 30 * 24 * 3600),
            )?),
            ..Self::default()
        })
    }
}

agora_kernel::text_enum! {
    /// Whether an endpoint is sent events; stored as text in `webhook_endpoints.status`.
    pub enum EndpointStatus {
        Enabled = "enabled",
        /// By staff, or automatically after sustained failure (`disabled_reason` says which).
        Disabled = "disabled",
    }
}

agora_kernel::text_enum! {
    /// Why a delivery was queued; stored as text in `webhook_deliveries.trigger`.
    pub enum DeliveryTrigger {
        /// An event the endpoint subscribes to.
        Event = "event",
        /// Staff asked for an event to be sent again.
        Redelivery = "redelivery",
        /// Staff asked for a test delivery.
        Ping = "ping",
    }
}

/// A place the shop's events are sent to.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct WebhookEndpoint {
    pub id: uuid::Uuid,
    pub url: String,
    pub description: String,
    /// Event names such as `tenancy.shop_settings_updated.v1`, or `*` for every event.
    pub event_types: Vec<String>,
    pub status: EndpointStatus,
    /// Why the endpoint was disabled (automatically after sustained failure, or by staff).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    /// Failed attempts since the last success.
    pub consecutive_failures: i32,
    /// When the current run of failures began; disabling counts from here.
    pub failing_since: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub last_failure_at: Option<DateTime<Utc>>,
    /// Until then deliveries are also signed with the previous secret.
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
    pub version: i64,
}

/// An endpoint with its signing secret: returned once, when the endpoint is created or its
/// secret rotated. Store the secret; it cannot be shown again.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct WebhookEndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: the HMAC-SHA256 key of `Agora-Signature`, used exactly as shown.
    pub secret: String,
}

/// A new endpoint.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhookEndpoint {
    /// Where to POST events: an https URL on the public internet.
    pub url: String,
    /// A note for staff, up to 500 characters.
    pub description: Option<String>,
    /// Event names to send (see `GET /api/v1/admin/webhooks/event-types`), or `["*"]` for all.
    pub event_types: Vec<String>,
}

/// Changes to an endpoint; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct WebhookEndpointPatch {
    pub url: Option<String>,
    pub description: Option<String>,
    pub event_types: Option<Vec<String>>,
}

/// One attempt to deliver one event to one endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct WebhookDelivery {
    /// Sent as `Agora-Delivery`.
    pub id: uuid::Uuid,
    pub endpoint_id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub event_type: String,
    pub trigger: DeliveryTrigger,
    /// 1 for the first try of this delivery, counting up with each retry.
    pub attempt: i32,
    pub succeeded: bool,
    /// The receiver's HTTP status, when it answered.
    pub response_status: Option<i32>,
    /// The start of the receiver's answer (at most 2 KiB).
    pub response_body: Option<String>,
    /// Why no answer came (connection refused, timeout, target refused), when none did.
    pub error: Option<String>,
    pub duration_ms: i32,
    /// The JSON body that was sent.
    pub request_body: String,
    pub created_at: DateTime<Utc>,
}

/// A delivery put on the queue by a redelivery or ping.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct DeliveryQueued {
    pub endpoint_id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub event_type: String,
    /// `false` when a delivery of this event to this endpoint was already waiting; that one
    /// will be made instead.
    pub queued: bool,
}

/// Filters for the delivery log.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub event_id: Option<uuid::Uuid>,
}

/// Registers the fan-out subscriber, the delivery job and this module's events.
fn register(events: &mut EventBusBuilder, jobs: &mut JobRegistry) {
    events.declare::<WebhookEndpointDisabled>();
    events.subscribe_all(events::FAN_OUT, events::fan_out);
    jobs.register::<delivery::DeliverWebhook>();
}

#[derive(Clone)]
pub struct WebhooksModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    settings: WebhookSettings,
    /// Event names a shop may subscribe to: every shop event declared on the bus (platform
    /// events never reach a shop).
    event_types: std::sync::OnceLock<Vec<String>>,
    bus: EventBus,
    /// The delivery job's HTTP client and settings, provided to the job registry.
    runtime: Arc<runtime::DeliveryRuntime>,
    sealer: Sealer,
}

impl WebhooksModule {
    /// Builds the module; [`WebhooksModule::provide`] then hands its delivery runtime to the jobs.
    /// `sealer` seals the endpoints' signing secrets at rest; `outbound` is the platform's guarded
    /// HTTP client, whose policy (private targets allowed or not) registration checks too.
    pub fn new(
        db: Database,
        bus: &EventBus,
        settings: WebhookSettings,
        sealer: Sealer,
        outbound: Outbound,
    ) -> Result<Self, WebhooksError> {
        let runtime = runtime::DeliveryRuntime::new(&settings, sealer.clone(), outbound);
        let runtime = Arc::new(runtime);
        let (event_types, bus) = (std::sync::OnceLock::new(), bus.clone());
        Ok(Self { inner: Arc::new(Inner { db, settings, event_types, bus, runtime, sealer }) })
    }

    /// Gives the delivery jobs this process runs the module's HTTP client and settings.
    fn provide(&self, jobs: &mut JobRegistry) {
        jobs.provide(Arc::clone(&self.inner.runtime));
    }

    pub fn settings(&self) -> &WebhookSettings {
        &self.inner.settings
    }

    /// Event names endpoints may subscribe to, sorted.
    pub fn event_types(&self) -> &[String] {
        // Read once the bus is built: the module is built before every module has declared its
        // events (see `EventBus::pending`).
        if !self.inner.bus.is_built() {
            return &[];
        }
        self.inner
            .event_types
            .get_or_init(|| self.inner.bus.shop_event_names().into_iter().map(str::to_string).collect())
    }

    /// Registers an endpoint; the result carries its secret, shown this once.
    pub async fn create_endpoint(
        &self,
        tenant: &TenantContext,
        new: NewWebhookEndpoint,
        actor: &Actor,
    ) -> Result<WebhookEndpointWithSecret, WebhooksError> {
        let fields = endpoints::validate_new(new, self.event_types(), self.policy()).await?;
        let sealer = &self.inner.sealer;
        self.inner
            .db
            .in_tenant(tenant, &Acting::new(actor.clone(), None), async |tx| {
                endpoints::create(tx, sealer, fields).await
            })
            .await
    }

    /// The shop's endpoints, oldest first (deleted ones are gone).
    pub async fn list_endpoints(
        &self,
        tenant: &TenantContext,
        page: &Keyset<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Page<WebhookEndpoint>, agora_kernel::ApiError> {
        Ok(self.inner.db.in_tenant(tenant, &Acting::system("read"), async |tx| endpoints::list(tx, page).await).await?)
    }

    pub async fn endpoint(&self, tenant: &TenantContext, id: uuid::Uuid) -> Result<WebhookEndpoint, WebhooksError> {
        self.inner.db.in_tenant(tenant, &Acting::system("read"), async |tx| endpoints::get(tx, id).await).await
    }

    /// Changes an endpoint; `expected_version` (from If-Match) guards against lost updates.
    pub async fn update_endpoint(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        patch: WebhookEndpointPatch,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<WebhookEndpoint, WebhooksError> {
        let changes = endpoints::validate_patch(patch, self.event_types(), self.policy()).await?;
        self.inner
            .db
            .in_tenant(tenant, &Acting::new(actor.clone(), None), async |tx| {
                endpoints::update(tx, id, changes, expected_version).await
            })
            .await
    }

    /// Deletes an endpoint: nothing more is sent to it; its delivery log stays.
    pub async fn delete_endpoint(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<(), WebhooksError> {
        self.inner
            .db
            .in_tenant(tenant, &Acting::new(actor.clone(), None), async |tx| {
                endpoints::delete(tx, id, expected_version).await
            })
            .await
    }

    /// Issues a new secret (returned this once). The old one keeps signing deliveries alongside
    /// it for `previous_valid_for` (default: the settings' grace period; zero ends it now).
    pub async fn rotate_secret(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        previous_valid_for: Option<Duration>,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<WebhookEndpointWithSecret, WebhooksError> {
        let grace = previous_valid_for.unwrap_or(self.inner.settings.rotation_grace);
        let sealer = &self.inner.sealer;
        self.inner
            .db
            .in_tenant(tenant, &Acting::new(actor.clone(), None), async |tx| {
                endpoints::rotate_secret(tx, sealer, id, grace, expected_version).await
            })
            .await
    }

    /// Seals every endpoint secret of the shop under the current key; how many it rewrote.
    pub async fn reseal_secrets(&self, tenant: &TenantContext) -> Result<usize, WebhooksError> {
        let (sealer, acting) = (&self.inner.sealer, Acting::system("webhooks"));
        self.inner.db.in_tenant(tenant, &acting, async |tx| endpoints::reseal(tx, sealer).await).await
    }

    /// Turns an endpoint back on (after automatic disabling, say) with a clean failure record.
    /// Events that happened while it was off are not sent; redeliver the ones that matter.
    pub async fn enable_endpoint(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<WebhookEndpoint, WebhooksError> {
        self.inner
            .db
            .in_tenant(tenant, &Acting::new(actor.clone(), None), async |tx| {
                endpoints::set_enabled(tx, id, true, expected_version).await
            })
            .await
    }

    /// Stops sending to an endpoint until it is enabled again.
    pub async fn disable_endpoint(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<WebhookEndpoint, WebhooksError> {
        self.inner
            .db
            .in_tenant(tenant, &Acting::new(actor.clone(), None), async |tx| {
                endpoints::set_enabled(tx, id, false, expected_version).await
            })
            .await
    }

    /// An endpoint's delivery log, newest first.
    pub async fn deliveries(
        &self,
        tenant: &TenantContext,
        endpoint_id: uuid::Uuid,
        page: &Keyset<chrono::DateTime<chrono::Utc>>,
        filter: DeliveryFilter,
    ) -> Result<Page<WebhookDelivery>, agora_kernel::ApiError> {
        Ok(self
            .inner
            .db
            .in_tenant(tenant, &Acting::system("read"), async |tx| delivery::list(tx, endpoint_id, page, filter).await)
            .await?)
    }

    /// Sends one of the shop's events to an endpoint again, as a fresh delivery with its own
    /// retries.
    pub async fn redeliver(
        &self,
        tenant: &TenantContext,
        endpoint_id: uuid::Uuid,
        event_id: uuid::Uuid,
        actor: &Actor,
    ) -> Result<DeliveryQueued, WebhooksError> {
        self.inner
            .db
            .in_tenant(tenant, &Acting::new(actor.clone(), None), async |tx| {
                delivery::redeliver(tx, endpoint_id, event_id).await
            })
            .await
    }

    /// Sends a `webhooks.ping.v1` test event to an endpoint.
    pub async fn ping(
        &self,
        tenant: &TenantContext,
        endpoint_id: uuid::Uuid,
        actor: &Actor,
    ) -> Result<DeliveryQueued, WebhooksError> {
        self.inner
            .db
            .in_tenant(tenant, &Acting::new(actor.clone(), None), async |tx| delivery::ping(tx, endpoint_id).await)
            .await
    }

    fn policy(&self) -> targets::TargetPolicy {
        self.inner.runtime.policy
    }
}

/// Mounted at `/webhooks` in the back office.
impl agora_kernel::Module for WebhooksModule {
    fn admin(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.service(paperclip::actix::web::scope(http::SCOPE).configure(http::admin_routes));
    }

    fn app_data(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.app_data(paperclip::actix::web::Data::new(self.clone()));
    }

    /// The fan-out subscriber and the delivery job, handed this module's HTTP client.
    fn background(&self, events: &mut EventBusBuilder, jobs: &mut JobRegistry) -> Result<(), String> {
        register(events, jobs);
        self.provide(jobs);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{DeliveryTrigger, EndpointStatus};

    /// The columns stay text with a CHECK: each enum must name exactly the values it allows.
    #[test]
    fn endpoint_statuses_and_delivery_triggers_are_the_ones_the_columns_allow() {
        let migration = include_str!("../../../migrations/tenant/V3__webhooks.sql");
        for check in [EndpointStatus::sql_check("status"), DeliveryTrigger::sql_check("trigger")] {
            assert!(migration.contains(&check), "{check}");
        }
    }
}
