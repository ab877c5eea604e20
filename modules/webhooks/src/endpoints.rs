//! Registering and managing a shop's endpoints: rules run in the tenant transaction the facade
//! opens; input is validated (and the target URL checked) before it opens.

use crate::signing;
use crate::store::{self, EndpointChanges, EndpointFields, EndpointRow};
use crate::targets::{self, TargetPolicy};
use crate::{
    EndpointStatus, NewWebhookEndpoint, WebhookEndpoint, WebhookEndpointPatch, WebhookEndpointWithSecret, WebhooksError,
};
use agora_kernel::error::FieldError;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::sealing::Sealer;
use agora_kernel::{TenantTx, Version};
use serde_json::json;
use std::time::Duration;

/// An endpoint's URL as the audit log keeps it: without credentials or query, where receivers
/// sometimes put a token of their own.
fn logged_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(url) => {
            let port = url.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{}{port}{}", url.scheme(), url.host_str().unwrap_or_default(), url.path())
        }
        Err(_) => String::new(),
    }
}

/// How the audit log names an endpoint.
pub(crate) fn subject(id: uuid::Uuid) -> Option<String> {
    Some(format!("webhook_endpoint:{id}"))
}

const MAX_URL_LEN: usize = 2048;
const MAX_DESCRIPTION_LEN: usize = 500;
const MAX_EVENT_TYPES: usize = 100;

async fn check_url(raw: &str, policy: TargetPolicy, errors: &mut Vec<FieldError>) -> Option<String> {
    if raw.len() > MAX_URL_LEN {
        errors.push(FieldError::new("url", format!("at most {MAX_URL_LEN} characters")));
        return None;
    }
    match targets::check_target(raw, policy).await {
        // Stored as parsed, so what is shown is what will be connected to.
        Ok(url) => Some(url.to_string()),
        Err(refused) => {
            errors.push(FieldError::new("url", refused.to_string()));
            None
        }
    }
}

fn check_description(raw: &str, errors: &mut Vec<FieldError>) -> String {
    let description = raw.trim().to_string();
    if description.chars().count() > MAX_DESCRIPTION_LEN {
        errors.push(FieldError::new("description", format!("at most {MAX_DESCRIPTION_LEN} characters")));
    }
    description
}

fn check_event_types(raw: &[String], known: &[String], errors: &mut Vec<FieldError>) -> Vec<String> {
    let before = errors.len();
    if raw.is_empty() {
        errors.push(FieldError::new("event_types", "name at least one event type, or \"*\" for all"));
    }
    if raw.len() > MAX_EVENT_TYPES {
        errors.push(FieldError::new("event_types", format!("at most {MAX_EVENT_TYPES} event types")));
    }
    let mut chosen: Vec<String> = Vec::with_capacity(raw.len());
    for (i, name) in raw.iter().enumerate() {
        let name = name.trim();
        let field = format!("event_types[{i}]");
        if name == "*" {
            if raw.len() > 1 {
                errors.push(FieldError::new(field, "\"*\" already covers every event type; send it alone"));
            }
        } else if !known.iter().any(|k| k == name) {
            errors
                .push(FieldError::new(field, "unknown event type; GET /api/v1/admin/webhooks/event-types lists them"));
        } else if chosen.iter().any(|c| c == name) {
            errors.push(FieldError::new(field, "listed twice"));
        }
        chosen.push(name.to_string());
    }
    if errors.len() == before {
        chosen.sort();
    }
    chosen
}

pub(crate) async fn validate_new(
    new: NewWebhookEndpoint,
    known: &[String],
    policy: TargetPolicy,
) -> Result<EndpointFields, WebhooksError> {
    let mut errors = Vec::new();
    let url = check_url(&new.url, policy, &mut errors).await;
    let description = check_description(new.description.as_deref().unwrap_or(""), &mut errors);
    let event_types = check_event_types(&new.event_types, known, &mut errors);
    match url {
        Some(url) if errors.is_empty() => Ok(EndpointFields { url, description, event_types }),
        _ => Err(agora_kernel::CommonError::Invalid(errors).into()),
    }
}

pub(crate) async fn validate_patch(
    patch: WebhookEndpointPatch,
    known: &[String],
    policy: TargetPolicy,
) -> Result<EndpointChanges, WebhooksError> {
    let mut errors = Vec::new();
    let url = match &patch.url {
        Some(raw) => check_url(raw, policy, &mut errors).await,
        None => None,
    };
    let description = patch.description.as_deref().map(|d| check_description(d, &mut errors));
    let event_types = patch.event_types.as_deref().map(|types| check_event_types(types, known, &mut errors));
    if errors.is_empty() {
        Ok(EndpointChanges { url, description, event_types })
    } else {
        Err(agora_kernel::CommonError::Invalid(errors).into())
    }
}

/// The endpoint, locked, if it exists and the caller's version (If-Match) is current.
async fn lock_current(
    tx: &mut TenantTx<'_>,
    id: uuid::Uuid,
    expected: Option<i64>,
) -> Result<EndpointRow, WebhooksError> {
    let row = store::lock_endpoint(tx.conn(), id).await?.ok_or(WebhooksError::EndpointNotFound)?;
    Version::check(expected, row.version)?;
    Ok(row)
}

pub(crate) async fn create(
    tx: &mut TenantTx<'_>,
    sealer: &Sealer,
    fields: EndpointFields,
) -> Result<WebhookEndpointWithSecret, WebhooksError> {
    let (secret, id) = (signing::new_secret(), agora_kernel::new_id());
    let sealed = signing::seal(sealer, tx.tenant().id, id, &secret)?;
    let stamp = tx.stamp();
    let row = store::insert_endpoint(tx.conn(), id, &fields, &sealed, &stamp).await?;
    let details = json!({ "url": logged_url(&fields.url), "event_types": fields.event_types });
    tx.audit("webhooks.endpoint.created", subject(id), details).await?;
    Ok(WebhookEndpointWithSecret { endpoint: row.into_endpoint(), secret })
}

pub(crate) async fn list(
    tx: &mut TenantTx<'_>,
    page: &Keyset<chrono::DateTime<chrono::Utc>>,
) -> Result<Page<WebhookEndpoint>, WebhooksError> {
    let rows = store::list_endpoints(tx.conn(), page).await?;
    let endpoints = rows.into_iter().map(EndpointRow::into_endpoint).collect();
    Ok(page.page(endpoints, |e: &WebhookEndpoint| (e.created_at, e.id)))
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: uuid::Uuid) -> Result<WebhookEndpoint, WebhooksError> {
    let row = store::find_endpoint(tx.conn(), id).await?.ok_or(WebhooksError::EndpointNotFound)?;
    Ok(row.into_endpoint())
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    id: uuid::Uuid,
    changes: EndpointChanges,
    expected: Option<i64>,
) -> Result<WebhookEndpoint, WebhooksError> {
    let row = lock_current(tx, id, expected).await?;
    if changes.is_empty() {
        return Ok(row.into_endpoint());
    }
    let stamp = tx.stamp();
    let updated = store::apply_changes(tx.conn(), id, &changes, &stamp).await?.into_endpoint();
    // The new values of what changed: none of them is a secret.
    let mut details = serde_json::Map::new();
    if changes.url.is_some() {
        details.insert("url".into(), json!(logged_url(&updated.url)));
    }
    if changes.description.is_some() {
        details.insert("description".into(), json!(updated.description));
    }
    if changes.event_types.is_some() {
        details.insert("event_types".into(), json!(updated.event_types));
    }
    tx.audit("webhooks.endpoint.updated", subject(id), details.into()).await?;
    Ok(updated)
}

pub(crate) async fn delete(tx: &mut TenantTx<'_>, id: uuid::Uuid, expected: Option<i64>) -> Result<(), WebhooksError> {
    let row = lock_current(tx, id, expected).await?;
    let stamp = tx.stamp();
    store::soft_delete(tx.conn(), id, &stamp).await?;
    tx.audit("webhooks.endpoint.deleted", subject(id), json!({ "url": logged_url(&row.into_endpoint().url) })).await?;
    Ok(())
}

pub(crate) async fn rotate_secret(
    tx: &mut TenantTx<'_>,
    sealer: &Sealer,
    id: uuid::Uuid,
    grace: Duration,
    expected: Option<i64>,
) -> Result<WebhookEndpointWithSecret, WebhooksError> {
    lock_current(tx, id, expected).await?;
    let secret = signing::new_secret();
    let sealed = signing::seal(sealer, tx.tenant().id, id, &secret)?;
    let previous_expires_at = match chrono::Duration::from_std(grace) {
        Ok(grace) if !grace.is_zero() => Some(chrono::Utc::now() + grace),
        _ => None,
    };
    let stamp = tx.stamp();
    let row = store::replace_secret(tx.conn(), id, &sealed, previous_expires_at, &stamp).await?;
    // When the old secret stops signing, never either secret: the log is shown to staff.
    let details = json!({ "previous_secret_expires_at": previous_expires_at });
    tx.audit("webhooks.endpoint.secret_rotated", subject(id), details).await?;
    Ok(WebhookEndpointWithSecret { endpoint: row.into_endpoint(), secret })
}

pub(crate) async fn set_enabled(
    tx: &mut TenantTx<'_>,
    id: uuid::Uuid,
    enabled: bool,
    expected: Option<i64>,
) -> Result<WebhookEndpoint, WebhooksError> {
    let row = lock_current(tx, id, expected).await?;
    let endpoint = row.into_endpoint();
    let stamp = tx.stamp();
    let row = match (enabled, endpoint.status) {
        (true, EndpointStatus::Enabled) | (false, EndpointStatus::Disabled) => return Ok(endpoint),
        (true, _) => store::enable(tx.conn(), id, &stamp).await?,
        (false, _) => store::disable(tx.conn(), id, &format!("disabled by {}", stamp.by), &stamp).await?,
    };
    let action = if enabled { "webhooks.endpoint.enabled" } else { "webhooks.endpoint.disabled" };
    tx.audit(action, subject(id), json!({})).await?;
    Ok(row.into_endpoint())
}

/// Seals every secret of the shop's endpoints under the current key (after a key rotation, or
/// for secrets stored before sealing began); returns how many endpoints it rewrote.
pub(crate) async fn reseal(tx: &mut TenantTx<'_>, sealer: &Sealer) -> Result<usize, WebhooksError> {
    let tenant_id = tx.tenant().id;
    let mut rewritten = 0;
    for (id, clear, sealed, previous_clear, previous_sealed) in store::all_secrets(tx.conn()).await? {
        let unopenable = |e| WebhooksError::Internal(format!("the secret of webhook endpoint {id}: {e}"));
        let current = signing::open(sealer, tenant_id, id, sealed.as_deref(), clear.as_deref()).map_err(unopenable)?;
        let previous = signing::open(sealer, tenant_id, id, previous_sealed.as_deref(), previous_clear.as_deref())
            .map_err(unopenable)?;
        let stale = [&current, &previous].into_iter().flatten().any(|(_, stale)| *stale);
        let Some((secret, _)) = current.filter(|_| stale) else { continue };
        let previous = previous.map(|(p, _)| signing::seal(sealer, tenant_id, id, &p)).transpose()?;
        store::store_sealed(tx.conn(), id, &signing::seal(sealer, tenant_id, id, &secret)?, previous.as_deref())
            .await?;
        rewritten += 1;
    }
    Ok(rewritten)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> Vec<String> {
        vec!["tenancy.shop_settings_updated.v1".into(), "orders.order_placed.v1".into()]
    }

    #[test]
    fn event_types_are_known_names_or_a_lone_star() {
        let mut errors = Vec::new();
        let chosen = check_event_types(
            &["tenancy.shop_settings_updated.v1".into(), " orders.order_placed.v1 ".into()],
            &known(),
            &mut errors,
        );
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(chosen, ["orders.order_placed.v1", "tenancy.shop_settings_updated.v1"]);

        let mut errors = Vec::new();
        check_event_types(&["*".into()], &known(), &mut errors);
        assert!(errors.is_empty());

        let mut errors = Vec::new();
        check_event_types(
            &[
                "*".into(),
                "orders.order_placd.v1".into(),
                "orders.order_placed.v1".into(),
                "orders.order_placed.v1".into(),
            ],
            &known(),
            &mut errors,
        );
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["event_types[0]", "event_types[1]", "event_types[3]"]);

        let mut errors = Vec::new();
        check_event_types(&[], &known(), &mut errors);
        assert_eq!(errors.first().map(|e| e.field.as_str()), Some("event_types"));
    }

    #[test]
    fn the_audit_log_keeps_no_credentials_or_query_of_a_url() {
        assert_eq!(logged_url("https://user:pw@hooks.example.com/in?token=s3cret"), "https://hooks.example.com/in");
        assert_eq!(logged_url("http://127.0.0.1:9/hook"), "http://127.0.0.1:9/hook");
    }

    #[tokio::test]
    async fn every_bad_field_is_named() {
        let new = NewWebhookEndpoint {
            url: "http://10.0.0.1/hook".into(),
            description: Some("x".repeat(501)),
            event_types: vec!["nope.v1".into()],
        };
        let Err(WebhooksError::Common(agora_kernel::CommonError::Invalid(errors))) =
            validate_new(new, &known(), TargetPolicy { allow_private: false }).await
        else {
            panic!("must be refused")
        };
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["url", "description", "event_types[0]"]);
    }
}
