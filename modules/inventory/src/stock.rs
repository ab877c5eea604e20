//! Stock levels, the adjustments ledger, variant settings, and the alerts a change raises.

use crate::availability;
use crate::error::InventoryError;
use crate::events::{BackInStock, LowStock, StockAdjusted};
use crate::reservations::DEFAULT_TTL_SECONDS;
use crate::store::{self, AdjustmentRow, NewAdjustmentRow};
use crate::{
    Adjustment, AdjustmentReason, InventorySettings, LocationId, NewAdjustment, StockCount, StockLevel, StockPolicy,
    StockSettings, StockSettingsInput, VariantId, VariantStock,
};
use agora_kernel::events::EventBus;
use agora_kernel::{TenantTx, Version};
use chrono::{DateTime, Utc};

/// Largest on-hand count a level may hold (an `integer`, with room for adding to it).
const MAX_ON_HAND: i32 = 1_000_000_000;

/// A change to on hand, as the ledger records it.
pub(crate) struct Change<'a> {
    pub variant: VariantId,
    pub location: LocationId,
    pub reason: AdjustmentReason,
    pub delta: i32,
    pub after: i32,
    pub reference: Option<&'a str>,
    pub note: Option<&'a str>,
}

/// Writes the ledger entry of a change already applied to the level, and announces it.
pub(crate) async fn record(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    c: Change<'_>,
) -> Result<AdjustmentRow, InventoryError> {
    let stamp = tx.stamp();
    let row = store::insert_adjustment(
        tx.conn(),
        &NewAdjustmentRow {
            variant: c.variant,
            location: c.location,
            reason: c.reason,
            delta: c.delta,
            after: c.after,
            reference: c.reference,
            note: c.note,
        },
        &stamp,
    )
    .await?;
    tx.publish(
        bus,
        &StockAdjusted {
            variant_id: c.variant.as_uuid(),
            location_id: c.location.as_uuid(),
            reason: c.reason.to_string(),
            on_hand_delta: c.delta,
            on_hand: c.after,
            reference: c.reference.map(str::to_string),
        },
    )
    .await?;
    Ok(row)
}

/// Available to sell at a location went from `before` to `after`: a low-stock alert when it
/// fell across the variant's threshold, back in stock when it rose from none.
pub(crate) async fn available_changed(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    variant: VariantId,
    location: LocationId,
    before: i32,
    after: i32,
) -> Result<(), InventoryError> {
    let threshold = if after < before {
        store::find_item(tx.conn(), variant).await?.and_then(|i| i.low_stock_threshold)
    } else {
        None
    };
    signal(tx, bus, variant, location, (before, after), threshold).await
}

/// [`available_changed`] with the variant's low-stock threshold already known.
pub(crate) async fn signal(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    variant: VariantId,
    location: LocationId,
    (before, after): (i32, i32),
    threshold: Option<i32>,
) -> Result<(), InventoryError> {
    if after < before {
        if let Some(threshold) = threshold.filter(|t| before > *t && after <= *t) {
            let event = LowStock {
                variant_id: variant.as_uuid(),
                location_id: location.as_uuid(),
                available: after.max(0),
                threshold,
            };
            tx.publish(bus, &event).await?;
        }
    } else if before <= 0 && after > 0 {
        let event = BackInStock { variant_id: variant.as_uuid(), location_id: location.as_uuid(), available: after };
        tx.publish(bus, &event).await?;
    }
    Ok(())
}

/// The variant's SKU, or `VariantNotFound` (at `field` in a body, or the URL's when `None`).
pub(crate) async fn sku_of(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    field: Option<&str>,
) -> Result<String, InventoryError> {
    agora_catalog::CatalogModule::live_variant_skus(tx, &[variant])
        .await?
        .remove(&variant)
        .ok_or_else(|| InventoryError::VariantNotFound { field: field.map(str::to_string) })
}

async fn live_location(tx: &mut TenantTx<'_>, id: LocationId, field: Option<&str>) -> Result<(), InventoryError> {
    match store::find_location(tx.conn(), id, false).await? {
        Some(_) => Ok(()),
        None => Err(InventoryError::LocationNotFound { field: field.map(str::to_string) }),
    }
}

pub(crate) async fn variant_stock(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    _field: &str,
) -> Result<VariantStock, InventoryError> {
    let sku = sku_of(tx, variant, None).await?;
    let item = store::find_item(tx.conn(), variant).await?;
    let levels: Vec<StockLevel> = store::levels_of(tx.conn(), variant)
        .await?
        .into_iter()
        .map(|l| StockLevel {
            location_id: l.location_id,
            location_name: l.location_name,
            on_hand: l.on_hand,
            reserved: l.reserved,
            safety_stock: l.safety_stock,
            available: (l.on_hand - l.reserved - l.safety_stock).max(0),
        })
        .collect();
    let settings = match &item {
        Some(i) => StockSettings {
            tracked: i.tracked,
            policy: i.policy,
            backorder_limit: i.backorder_limit,
            preorder_until: i.preorder_until,
            low_stock_threshold: i.low_stock_threshold,
        },
        None => StockSettings {
            tracked: true,
            policy: StockPolicy::Deny,
            backorder_limit: None,
            preorder_until: None,
            low_stock_threshold: None,
        },
    };
    Ok(VariantStock {
        variant_id: variant,
        sku,
        settings,
        on_hand: levels.iter().map(|l| l.on_hand).sum(),
        reserved: levels.iter().map(|l| l.reserved).sum(),
        available: levels.iter().map(|l| l.available).sum(),
        levels,
        settings_version: item.map_or(0, |i| i.version),
    })
}

fn note_field(note: Option<&str>) -> Result<(), InventoryError> {
    match note {
        Some(n) if n.chars().count() > 2000 => Err(InventoryError::field("note", "at most 2000 characters")),
        _ => Ok(()),
    }
}

/// A count: on hand becomes what was counted, the difference goes into the ledger.
pub(crate) async fn count(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    variant: VariantId,
    location: LocationId,
    count: StockCount,
) -> Result<(), InventoryError> {
    if !(0..=MAX_ON_HAND).contains(&count.on_hand) {
        return Err(InventoryError::field("on_hand", format!("a whole number from 0 to {MAX_ON_HAND}")));
    }
    if let Some(s) = count.safety_stock {
        if !(0..=MAX_ON_HAND).contains(&s) {
            return Err(InventoryError::field("safety_stock", format!("a whole number from 0 to {MAX_ON_HAND}")));
        }
    }
    note_field(count.note.as_deref())?;
    sku_of(tx, variant, None).await?;
    live_location(tx, location, None).await?;
    let stamp = tx.stamp();
    availability::lock(tx, &[variant], &[variant]).await?;
    store::ensure_level(tx.conn(), variant, location, &stamp).await?;
    let before = store::lock_level(tx.conn(), variant, location).await?;
    if count.on_hand < before.reserved {
        return Err(InventoryError::BelowReserved { field: "on_hand".into(), reserved: before.reserved });
    }
    let mut after = before;
    let delta = count.on_hand - before.on_hand;
    if delta != 0 {
        after = store::add_on_hand(tx.conn(), variant, location, delta, &stamp)
            .await?
            .ok_or(InventoryError::BelowReserved { field: "on_hand".into(), reserved: before.reserved })?;
        let change = Change {
            variant,
            location,
            reason: AdjustmentReason::Counted,
            delta,
            after: after.on_hand,
            reference: None,
            note: count.note.as_deref(),
        };
        record(tx, bus, change).await?;
    }
    if let Some(safety) = count.safety_stock {
        after = store::set_safety_stock(tx.conn(), variant, location, safety, &stamp).await?;
    }
    tx.audit(
        "inventory.stock.counted",
        Some(variant.to_string()),
        serde_json::json!({"location_id": location, "on_hand": count.on_hand, "safety_stock": count.safety_stock}),
    )
    .await?;
    available_changed(tx, bus, variant, location, before.available(), after.available()).await?;
    availability::refresh(tx, bus, variant).await
}

/// A manual adjustment with its reason.
pub(crate) async fn adjust(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    a: NewAdjustment,
) -> Result<Adjustment, InventoryError> {
    if !matches!(
        a.reason,
        AdjustmentReason::Received
            | AdjustmentReason::Damaged
            | AdjustmentReason::Counted
            | AdjustmentReason::Returned
            | AdjustmentReason::Correction
    ) {
        return Err(InventoryError::field("reason", "one of received, damaged, counted, returned, correction"));
    }
    if a.quantity == 0 || a.quantity.abs() > MAX_ON_HAND {
        return Err(InventoryError::field(
            "quantity",
            format!(
                "a whole number of units added (positive) or taken away (negative), not zero, at most {MAX_ON_HAND}"
            ),
        ));
    }
    if a.reference.as_deref().is_some_and(|r| r.chars().count() > 200) {
        return Err(InventoryError::field("reference", "at most 200 characters"));
    }
    note_field(a.note.as_deref())?;
    sku_of(tx, a.variant_id, Some("variant_id")).await?;
    live_location(tx, a.location_id, Some("location_id")).await?;
    let stamp = tx.stamp();
    availability::lock(tx, &[a.variant_id], &[a.variant_id]).await?;
    store::ensure_level(tx.conn(), a.variant_id, a.location_id, &stamp).await?;
    let after = match store::add_on_hand(tx.conn(), a.variant_id, a.location_id, a.quantity, &stamp).await? {
        Some(after) if after.on_hand <= MAX_ON_HAND => after,
        Some(_) => return Err(InventoryError::field("quantity", format!("on hand would pass {MAX_ON_HAND}"))),
        None => {
            let level = store::lock_level(tx.conn(), a.variant_id, a.location_id).await?;
            return Err(InventoryError::BelowReserved { field: "quantity".into(), reserved: level.reserved });
        }
    };
    let change = Change {
        variant: a.variant_id,
        location: a.location_id,
        reason: a.reason,
        delta: a.quantity,
        after: after.on_hand,
        reference: a.reference.as_deref(),
        note: a.note.as_deref(),
    };
    let row = record(tx, bus, change).await?;
    let before_available = after.available() - a.quantity;
    available_changed(tx, bus, a.variant_id, a.location_id, before_available, after.available()).await?;
    availability::refresh(tx, bus, a.variant_id).await?;
    Ok(adjustment(row))
}

pub(crate) async fn ledger(
    tx: &mut TenantTx<'_>,
    variant: VariantId,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> Result<Vec<Adjustment>, InventoryError> {
    sku_of(tx, variant, None).await?;
    Ok(store::ledger(tx.conn(), variant, after, limit).await?.into_iter().map(adjustment).collect())
}

pub(crate) fn adjustment(r: AdjustmentRow) -> Adjustment {
    Adjustment {
        id: r.id,
        variant_id: r.variant_id,
        location_id: r.location_id,
        reason: r.reason,
        on_hand_delta: r.on_hand_delta,
        on_hand_after: r.on_hand_after,
        reference: r.reference,
        note: r.note,
        created_at: r.created_at,
        created_by: r.created_by,
    }
}

pub(crate) async fn set_settings(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    variant: VariantId,
    settings: StockSettingsInput,
    expected: Option<i64>,
) -> Result<(), InventoryError> {
    sku_of(tx, variant, None).await?;
    let current = store::find_item(tx.conn(), variant).await?;
    Version::check(expected, current.as_ref().map(|c| c.version).unwrap_or(0))?;
    if settings.backorder_limit.is_some_and(|l| !(0..=MAX_ON_HAND).contains(&l)) {
        return Err(InventoryError::field("backorder_limit", format!("a whole number from 0 to {MAX_ON_HAND}")));
    }
    if settings.low_stock_threshold.is_some_and(|l| !(0..=MAX_ON_HAND).contains(&l)) {
        return Err(InventoryError::field("low_stock_threshold", format!("a whole number from 0 to {MAX_ON_HAND}")));
    }
    if settings.policy == StockPolicy::Preorder && settings.preorder_until.is_none() {
        return Err(InventoryError::field("preorder_until", "the date preorders end, with the preorder policy"));
    }
    let stamp = tx.stamp();
    availability::lock(tx, &[variant], &[variant]).await?;
    store::upsert_item(tx.conn(), variant, &settings, &stamp).await?;
    tx.audit("inventory.variant.settings_changed", Some(variant.to_string()), serde_json::json!({})).await?;
    availability::refresh(tx, bus, variant).await
}

pub(crate) async fn shop_settings(tx: &mut TenantTx<'_>) -> Result<(InventorySettings, i64), InventoryError> {
    let (seconds, version) = store::reservation_ttl_seconds(tx.conn()).await?.unwrap_or((DEFAULT_TTL_SECONDS, 0));
    Ok((InventorySettings { reservation_minutes: i64::from(seconds) / 60 }, version))
}

pub(crate) async fn set_shop_settings(
    tx: &mut TenantTx<'_>,
    settings: InventorySettings,
    expected: Option<i64>,
) -> Result<(InventorySettings, i64), InventoryError> {
    let (_, current) = shop_settings(tx).await?;
    Version::check(expected, current)?;
    let ttl = crate::reservations::minutes("reservation_minutes", settings.reservation_minutes)?;
    let seconds = i32::try_from(ttl.num_seconds()).unwrap_or(DEFAULT_TTL_SECONDS);
    let stamp = tx.stamp();
    let version = store::set_reservation_ttl_seconds(tx.conn(), seconds, &stamp).await?;
    tx.audit(
        "inventory.settings.changed",
        None,
        serde_json::json!({"reservation_minutes": settings.reservation_minutes}),
    )
    .await?;
    Ok((settings, version))
}
