//! Delivering one event to one endpoint: the job, its retry schedule, the signed POST, the
//! delivery log, automatic disabling; and the manual ways to queue a delivery (redeliver, ping).
//!
//! An attempt reads the endpoint (one transaction), makes the HTTP request with no transaction
//! open, then records the outcome and its consequences (a second transaction): the log row, the
//! failure counter, and when failure has lasted too long, disabling the endpoint and announcing
//! it.

use crate::events::{self, WebhookEndpointDisabled, PING_EVENT};
use crate::runtime::DeliveryRuntime;
use crate::store::{self, AttemptRecord, DeliveryTarget};
use crate::{
    signing, targets, DeliveryFilter, DeliveryQueued, DeliveryTrigger, EndpointStatus, WebhookDelivery, WebhooksError,
};
use agora_kernel::jobs::{EnqueueOptions, Job, JobContext, JobError};
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::{Acting, DbError, TenantContext, TenantTx};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Attempts per delivery. With the default 1 min base the retries wait 1, 2, 4 … 256 min (8.5 h
/// in all), then 6 h ten times: the 20th and last attempt comes about 68.5 h (2.9 days) after the
/// first, each wait ±25 % jitter. See [`retry_delay`].
pub const MAX_ATTEMPTS: i32 = 20;

/// Longest wait between attempts, in multiples of the base (6 h for a 1 min base).
const MAX_DELAY_FACTOR: u32 = 360;

/// Bytes of the receiver's answer kept in the log.
const EXCERPT_BYTES: usize = 2048;

/// Wait before retrying after failed attempt `attempt` (1-based): the base, doubling with each
/// attempt, capped at 360 × base.
pub fn retry_delay(base: Duration, attempt: i32) -> Duration {
    let exponent = u32::try_from(attempt.clamp(1, 31) - 1).unwrap_or(0);
    base.saturating_mul(2u32.saturating_pow(exponent)).min(base.saturating_mul(MAX_DELAY_FACTOR))
}

/// Who the delivery job acts as, in the delivery log and when it disables an endpoint.
fn system() -> Acting {
    Acting::system("webhooks")
}

/// Deliver one event to one endpoint. The body is fixed when the delivery is queued, so every
/// attempt sends the same bytes (only the signature's timestamp changes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct DeliverWebhook {
    pub endpoint_id: uuid::Uuid,
    pub event_id: uuid::Uuid,
    pub event_type: String,
    pub trigger: DeliveryTrigger,
    pub body: String,
}

impl Job for DeliverWebhook {
    const KIND: &'static str = "webhooks.deliver";
    const MAX_ATTEMPTS: i32 = MAX_ATTEMPTS;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let runtime = ctx.resource::<DeliveryRuntime>()?;
        let attempt = ctx.attempt;
        // The retry schedule is the operator's (AGORA_WEBHOOKS_RETRY_BASE_MS), not the kernel's.
        deliver(self, ctx, &runtime).await.map_err(|e| {
            if e.permanent {
                e
            } else {
                e.after(retry_delay(runtime.settings.retry_base, attempt))
            }
        })
    }
}

/// Queues `job` in the caller's transaction: one endpoint's deliveries run one at a time in
/// order, and at most one delivery of an event to an endpoint waits at a time. Returns whether it
/// was queued (false: one was already waiting).
pub(crate) async fn enqueue(tx: &mut TenantTx<'_>, job: &DeliverWebhook) -> Result<bool, DbError> {
    let options = EnqueueOptions {
        ordering_key: Some(format!("webhooks:{}", job.endpoint_id)),
        dedup_key: Some(format!("webhooks:{}:{}", job.endpoint_id, job.event_id)),
        ..EnqueueOptions::default()
    };
    Ok(tx.enqueue(job, options).await?.is_some())
}

/// What one attempt came to.
struct Attempt {
    id: uuid::Uuid,
    started_at: DateTime<Utc>,
    duration_ms: i32,
    status: Option<u16>,
    response_body: Option<String>,
    error: Option<String>,
}

impl Attempt {
    fn succeeded(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }

    fn summary(&self) -> String {
        match (self.status, &self.error) {
            (Some(status), _) => format!("HTTP {status}"),
            (None, Some(error)) => error.clone(),
            (None, None) => "no answer".to_string(),
        }
    }
}

async fn deliver(job: DeliverWebhook, ctx: JobContext, runtime: &DeliveryRuntime) -> Result<(), JobError> {
    let tenant = ctx.tenant.clone().ok_or_else(|| JobError::permanent("a webhook delivery without a shop"))?;
    let endpoint_id = job.endpoint_id;
    let target = ctx
        .db
        .in_tenant(&tenant, &system(), async |tx| {
            Ok::<_, JobError>(store::delivery_target(tx.conn(), endpoint_id).await?)
        })
        .await?;
    let Some(target) = target else {
        tracing::info!(%endpoint_id, event_id = %job.event_id, "webhook endpoint deleted; delivery dropped");
        return Ok(());
    };
    if target.status != EndpointStatus::Enabled {
        tracing::info!(%endpoint_id, event_id = %job.event_id, "webhook endpoint disabled; delivery dropped");
        return Ok(());
    }
    let secrets = signing_secrets(runtime, &tenant, endpoint_id, &target)?;
    let attempt = send(runtime, &target, &secrets, &job).await;
    record(&ctx, &tenant, runtime, job, attempt).await
}

/// The secrets to sign with: the current one, and the previous one during its grace period.
fn signing_secrets(
    runtime: &DeliveryRuntime,
    tenant: &TenantContext,
    endpoint: uuid::Uuid,
    target: &DeliveryTarget,
) -> Result<Vec<String>, JobError> {
    // Retried, not given up: a replica started with the wrong key opens nothing until fixed.
    let unopenable = |e| JobError::retry(format!("the signing secret of endpoint {endpoint} does not open: {e}"));
    let sealer = &runtime.sealer;
    let current = signing::open(sealer, tenant.id, endpoint, target.secret_sealed.as_deref(), target.secret.as_deref())
        .map_err(unopenable)?;
    let mut secrets: Vec<String> = current.map(|(s, _)| s).into_iter().collect();
    if target.previous_secret_expires_at.is_some_and(|until| until > Utc::now()) {
        let (sealed, clear) = (target.previous_secret_sealed.as_deref(), target.previous_secret.as_deref());
        secrets.extend(signing::open(sealer, tenant.id, endpoint, sealed, clear).map_err(unopenable)?.map(|(s, _)| s));
    }
    Ok(secrets)
}

async fn send(runtime: &DeliveryRuntime, target: &DeliveryTarget, secrets: &[String], job: &DeliverWebhook) -> Attempt {
    let (id, started_at, clock) = (agora_kernel::new_id(), Utc::now(), Instant::now());
    let outcome = post(runtime, target, secrets, job, id, started_at).await;
    let duration_ms = i32::try_from(clock.elapsed().as_millis()).unwrap_or(i32::MAX);
    match outcome {
        Ok((status, body)) => {
            Attempt { id, started_at, duration_ms, status: Some(status), response_body: Some(body), error: None }
        }
        Err(error) => Attempt { id, started_at, duration_ms, status: None, response_body: None, error: Some(error) },
    }
}

async fn post(
    runtime: &DeliveryRuntime,
    target: &DeliveryTarget,
    secrets: &[String],
    job: &DeliverWebhook,
    delivery_id: uuid::Uuid,
    now: DateTime<Utc>,
) -> Result<(u16, String), String> {
    // The URL was checked at registration, but the operator's setting may have changed since.
    let url = targets::check_url(&target.url, runtime.policy).map_err(|e| format!("target refused: the URL {e}"))?;
    let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
    let signature = signing::signature_header(now.timestamp(), &job.body, &secrets);
    let response = runtime
        .outbound
        .client()
        .post(url)
        .timeout(runtime.settings.request_timeout)
        .header(reqwest::header::USER_AGENT, "Agora-Webhooks/1")
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Agora-Signature", signature)
        .header("Agora-Event", &job.event_type)
        .header("Agora-Delivery", delivery_id.to_string())
        .body(job.body.clone())
        .send()
        .await
        .map_err(|e| describe_error(&e))?;
    let status = response.status().as_u16();
    Ok((status, read_excerpt(response).await))
}

/// The start of the answer, as text: enough to debug, bounded whatever the receiver sends.
async fn read_excerpt(mut response: reqwest::Response) -> String {
    let mut bytes = Vec::new();
    while bytes.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
            _ => break,
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    storable_text(&String::from_utf8_lossy(&bytes), EXCERPT_BYTES)
}

/// `text` cut to at most `max` bytes on a character boundary, without NULs (PostgreSQL text
/// cannot hold them).
fn storable_text(text: &str, max: usize) -> String {
    let mut clean = text.replace('\0', "\u{fffd}");
    if clean.len() > max {
        let mut end = max;
        while !clean.is_char_boundary(end) {
            end -= 1;
        }
        clean.truncate(end);
    }
    clean
}

/// An error with its causes, bounded for the delivery log.
pub(crate) fn describe_error(error: &(dyn std::error::Error + 'static)) -> String {
    storable_text(&agora_kernel::outbound::describe_error(error), 1000)
}

/// Logs the attempt and applies what it means for the endpoint. A failure is returned as a
/// retry, unless the endpoint has now been disabled: then the delivery is over (the log and the
/// endpoint's `disabled_reason` say why) and retrying would only be dropped.
async fn record(
    ctx: &JobContext,
    tenant: &TenantContext,
    runtime: &DeliveryRuntime,
    job: DeliverWebhook,
    attempt: Attempt,
) -> Result<(), JobError> {
    let succeeded = attempt.succeeded();
    let summary = attempt.summary();
    let (endpoint_id, event_id, at, number) = (job.endpoint_id, job.event_id, attempt.started_at, ctx.attempt);
    let log = AttemptRecord {
        id: attempt.id,
        endpoint_id,
        event_id,
        event_type: job.event_type,
        trigger: job.trigger,
        attempt: number,
        request_body: job.body,
        response_status: attempt.status.map(i32::from),
        response_body: attempt.response_body,
        error: attempt.error,
        duration_ms: attempt.duration_ms,
        succeeded,
        created_at: at,
        created_by: String::new(),
    };
    let disable_after = runtime.settings.disable_after;
    let (bus, last) = (&ctx.bus, summary.clone());
    let disabled = ctx
        .db
        .in_tenant(tenant, &system(), async |tx| {
            let log = AttemptRecord { created_by: tx.stamp().by, ..log };
            store::record_attempt(tx.conn(), &log).await?;
            if succeeded {
                store::record_success(tx.conn(), endpoint_id, at).await?;
                return Ok(None);
            }
            let Some(failures) = store::record_failure(tx.conn(), endpoint_id, at).await? else {
                return Ok(None);
            };
            if failures.status != EndpointStatus::Enabled {
                return Ok(None);
            }
            let failing_for = failures.first_failure_at.map(|first| at - first).unwrap_or_default();
            let reason = if number >= MAX_ATTEMPTS {
                format!("event {event_id} could not be delivered in {number} attempts; the last got: {last}")
            } else if failing_for.to_std().is_ok_and(|d| d >= disable_after) {
                format!(
                    "every delivery failed for {} ({} attempts in a row); the last got: {last}",
                    human_duration(disable_after),
                    failures.consecutive_failures
                )
            } else {
                return Ok(None);
            };
            let stamp = tx.stamp();
            let row = store::disable(tx.conn(), endpoint_id, &reason, &stamp).await?.into_endpoint();
            let event = WebhookEndpointDisabled { endpoint_id, url: row.url, reason: reason.clone() };
            tx.publish(bus, &event).await?;
            Ok::<_, JobError>(Some(reason))
        })
        .await?;
    match (succeeded, disabled) {
        (true, _) => Ok(()),
        (false, Some(reason)) => {
            tracing::warn!(%endpoint_id, %event_id, %reason, "webhook endpoint disabled");
            Ok(())
        }
        (false, None) => Err(JobError::retry(format!("webhook delivery failed: {summary}"))),
    }
}

fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    let (n, unit) = match secs {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3600 && s % 3600 == 0 => (s / 3600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

pub(crate) async fn list(
    tx: &mut TenantTx<'_>,
    endpoint_id: uuid::Uuid,
    page: &Keyset<DateTime<Utc>>,
    filter: DeliveryFilter,
) -> Result<Page<WebhookDelivery>, WebhooksError> {
    store::find_endpoint(tx.conn(), endpoint_id).await?.ok_or(WebhooksError::EndpointNotFound)?;
    let rows = store::list_deliveries(tx.conn(), endpoint_id, page, filter.event_id).await?;
    let deliveries = rows.into_iter().map(store::DeliveryRow::into_delivery).collect();
    Ok(page.page(deliveries, |d: &WebhookDelivery| (d.created_at, d.id)))
}

/// The endpoint, if it exists and may be sent to.
async fn sendable_endpoint(tx: &mut TenantTx<'_>, endpoint_id: uuid::Uuid) -> Result<(), WebhooksError> {
    let endpoint = store::find_endpoint(tx.conn(), endpoint_id).await?.ok_or(WebhooksError::EndpointNotFound)?;
    if endpoint.into_endpoint().status != EndpointStatus::Enabled {
        return Err(WebhooksError::EndpointDisabled);
    }
    Ok(())
}

pub(crate) async fn redeliver(
    tx: &mut TenantTx<'_>,
    endpoint_id: uuid::Uuid,
    event_id: uuid::Uuid,
) -> Result<DeliveryQueued, WebhooksError> {
    sendable_endpoint(tx, endpoint_id).await?;
    let context = tx.tenant().clone();
    // The event from the outbox (any of the shop's events, even one the endpoint never got);
    // once it has been purged there, the body this endpoint was last sent.
    let (event_type, body) = match agora_kernel::events::load_event(tx.conn(), event_id).await? {
        Some(envelope) if envelope.tenant_id == Some(context.id) => {
            let body = events::body_of(&envelope, &context).map_err(|e| WebhooksError::Internal(e.to_string()))?;
            (envelope.name, body)
        }
        // Another shop's event, or a platform event: not this shop's to send.
        Some(_) => return Err(WebhooksError::EventNotFound(event_id)),
        None => {
            store::last_sent(tx.conn(), endpoint_id, event_id).await?.ok_or(WebhooksError::EventNotFound(event_id))?
        }
    };
    let job = DeliverWebhook { endpoint_id, event_id, event_type, trigger: DeliveryTrigger::Redelivery, body };
    let queued = enqueue(tx, &job).await?;
    let details = serde_json::json!({ "event_id": event_id, "event_type": job.event_type, "queued": queued });
    tx.audit("webhooks.event.redelivered", crate::endpoints::subject(endpoint_id), details).await?;
    Ok(DeliveryQueued { endpoint_id, event_id, event_type: job.event_type, queued })
}

pub(crate) async fn ping(tx: &mut TenantTx<'_>, endpoint_id: uuid::Uuid) -> Result<DeliveryQueued, WebhooksError> {
    let event_id = agora_kernel::new_id();
    let data = serde_json::json!({ "endpoint_id": endpoint_id });
    let body = events::body(event_id, PING_EVENT, Utc::now(), tx.tenant(), &data)
        .map_err(|e| WebhooksError::Internal(e.to_string()))?;
    sendable_endpoint(tx, endpoint_id).await?;
    let job = DeliverWebhook {
        endpoint_id,
        event_id,
        event_type: PING_EVENT.to_string(),
        trigger: DeliveryTrigger::Ping,
        body,
    };
    let queued = enqueue(tx, &job).await?;
    let details = serde_json::json!({ "event_id": event_id, "queued": queued });
    tx.audit("webhooks.endpoint.pinged", crate::endpoints::subject(endpoint_id), details).await?;
    Ok(DeliveryQueued { endpoint_id, event_id, event_type: job.event_type, queued })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_double_up_to_six_hours_and_span_about_three_days() {
        let base = Duration::from_secs(60);
        let minutes: Vec<u64> = (1..MAX_ATTEMPTS).map(|n| retry_delay(base, n).as_secs() / 60).collect();
        assert_eq!(minutes, [1, 2, 4, 8, 16, 32, 64, 128, 256, 360, 360, 360, 360, 360, 360, 360, 360, 360, 360]);
        let span: Duration = (1..MAX_ATTEMPTS).map(|n| retry_delay(base, n)).sum();
        let hours = span.as_secs_f64() / 3600.0;
        assert!((60.0..=80.0).contains(&hours), "retries span {hours:.1} h");
        // A faster base keeps the shape.
        assert_eq!(retry_delay(Duration::from_millis(10), 3), Duration::from_millis(40));
        assert_eq!(retry_delay(Duration::from_millis(10), 25), Duration::from_millis(3600));
    }

    #[test]
    fn stored_text_is_bounded_and_clean() {
        let long = "é".repeat(2000);
        let cut = storable_text(&long, EXCERPT_BYTES);
        assert!(cut.len() <= EXCERPT_BYTES && cut.chars().all(|c| c == 'é'));
        assert_eq!(storable_text("a\0b", 10), "a\u{fffd}b");
    }

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(human_duration(Duration::from_secs(3 * 86_400)), "3 days");
        assert_eq!(human_duration(Duration::from_secs(3600)), "1 hour");
        assert_eq!(human_duration(Duration::from_secs(90)), "90 seconds");
    }
}
