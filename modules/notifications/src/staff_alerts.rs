//! Alert emails staff members opt in to: today the low-stock alert.
//!
//! Each staff member chooses for themself (`GET/PUT /api/v1/admin/me/alerts`, for members who
//! may read stock: `inventory.read`). When the inventory announces low stock
//! (`inventory.stock.low_stock.v1`, through the outbox), this module's subscriber runs as a job
//! of its own, never in the transaction that changed the stock: it asks identity which of the
//! members who opted in are still active and still hold `inventory.read`, and records one
//! `low_stock` email for each (delivered by the email job, over SMTP or into the mailbox).
//! What it sent for which event is noted with the email, so an event delivered twice emails no
//! one twice.

use crate::{store, NotificationsError, NotificationsModule, SendEmail, StaffAlerts};
use agora_identity::{IdentityModule, UserKind};
use agora_inventory::{InventoryModule, LocationId, LowStock, VariantId};
use agora_kernel::auth::{perm, PermissionMarker};
use agora_kernel::events::EventEnvelope;
use agora_kernel::jobs::{JobContext, JobError};
use agora_kernel::{CommonError, TenantTx};

/// The subscriber's stable name (its deliveries' ordering key).
pub(crate) const LOW_STOCK_SUBSCRIBER: &str = "notifications.low_stock_alerts";

/// The built-in template of a low-stock alert.
pub(crate) const LOW_STOCK_TEMPLATE: &str = "low_stock";

pub(crate) async fn get(tx: &mut TenantTx<'_>, staff: uuid::Uuid) -> Result<StaffAlerts, NotificationsError> {
    Ok(StaffAlerts { low_stock: store::low_stock_alerts(tx.conn(), staff).await? })
}

pub(crate) async fn set(
    tx: &mut TenantTx<'_>,
    staff: uuid::Uuid,
    alerts: StaffAlerts,
) -> Result<StaffAlerts, NotificationsError> {
    let stamp = tx.stamp();
    let low_stock = store::set_low_stock_alerts(tx.conn(), staff, alerts.low_stock, &stamp).await?;
    let details = serde_json::json!({ "low_stock": low_stock });
    tx.audit("notifications.staff_alerts.changed", Some(format!("user:{staff}")), details).await?;
    Ok(StaffAlerts { low_stock })
}

/// The low-stock subscriber: one delivery of one event.
pub(crate) async fn on_low_stock(event: LowStock, envelope: EventEnvelope, ctx: JobContext) -> Result<(), JobError> {
    let tenant = envelope.tenant().ok_or_else(|| JobError::permanent("a low-stock alert belongs to a shop"))?;
    let module = ctx.resource::<NotificationsModule>()?;
    match module.send_low_stock_alerts(&tenant, envelope.event_id, &event).await {
        Ok(_) => Ok(()),
        // A shop's own version of the template that no longer renders will not get better by
        // itself: given up (the job's dead state shows why), the stock change stands.
        Err(NotificationsError::Common(CommonError::Invalid(errors))) => {
            let why: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect();
            Err(JobError::permanent(format!("the low-stock email cannot be made: {}", why.join("; "))))
        }
        Err(e) => Err(JobError::retry(e)),
    }
}

/// Records the low-stock email of event `event_id` to every staff member who opted in and may
/// still read stock, in `tx`; how many it recorded now.
pub(crate) async fn send_low_stock(
    module: &NotificationsModule,
    tx: &mut TenantTx<'_>,
    event_id: uuid::Uuid,
    event: &LowStock,
) -> Result<usize, NotificationsError> {
    let subscribers = store::low_stock_subscribers(tx.conn()).await?;
    if subscribers.is_empty() {
        return Ok(0);
    }
    let recipients = IdentityModule::staff_recipients(tx, &subscribers, perm::InventoryRead::NAME)
        .await
        .map_err(|e| NotificationsError::Alert(format!("staff recipients: {e}")))?;
    if recipients.is_empty() {
        return Ok(0);
    }
    let (variant, location) = (VariantId::from_uuid(event.variant_id), LocationId::from_uuid(event.location_id));
    let Some((sku, location_name)) = InventoryModule::level_names(tx, variant, location)
        .await
        .map_err(|e| NotificationsError::Alert(format!("stock level: {e}")))?
    else {
        // The variant or the location was removed since: nothing left to restock.
        return Ok(0);
    };
    let shop = agora_tenancy::shop_defaults(tx.conn()).await?;
    let shop_name = agora_tenancy::shop_name(tx.conn()).await?;
    let mut sent = 0;
    for staff in recipients {
        if store::alert_sent(tx.conn(), event_id, staff.id).await? {
            continue;
        }
        let variables = serde_json::json!({
            "shop_name": shop_name,
            "staff_name": staff.name,
            "sku": sku,
            "location_name": location_name,
            "available": event.available,
            "threshold": event.threshold,
        });
        let locale = staff.locale.clone().unwrap_or_else(|| shop.default_locale.clone());
        let request = SendEmail::new(LOW_STOCK_TEMPLATE, &locale, &staff.email, variables)
            .for_account(IdentityModule::account_key(UserKind::Staff, staff.id));
        let message = module.send_in(tx, request).await?;
        let at = tx.stamp().at;
        if !store::note_alert_sent(tx.conn(), event_id, staff.id, message.id, at).await? {
            // Another delivery of the same event got there first: roll this one back.
            return Err(NotificationsError::Alert("sent by another delivery of the event meanwhile".into()));
        }
        sent += 1;
    }
    Ok(sent)
}
