//! Transfers: stock leaves one location when sent (in transit) and reaches the other when
//! received; a cancelled transfer puts it back where it came from.

use crate::availability;
use crate::error::InventoryError;
use crate::stock::{self, Change};
use crate::store::{self, TransferRow};
use crate::{AdjustmentReason, LocationId, NewTransfer, Transfer, TransferId, TransferLine, TransferStatus, VariantId};
use agora_kernel::events::EventBus;
use agora_kernel::values::Quantity;
use agora_kernel::{TenantTx, Version};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

pub(crate) async fn create(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    new: NewTransfer,
) -> Result<Transfer, InventoryError> {
    if new.from_location_id == new.to_location_id {
        return Err(InventoryError::field("to_location_id", "another location than the one it comes from"));
    }
    if new.lines.is_empty() || new.lines.len() > 500 {
        return Err(InventoryError::field("lines", "1 to 500 lines"));
    }
    if new.reference.as_deref().is_some_and(|r| r.chars().count() > 200) {
        return Err(InventoryError::field("reference", "at most 200 characters"));
    }
    if new.note.as_deref().is_some_and(|r| r.chars().count() > 2000) {
        return Err(InventoryError::field("note", "at most 2000 characters"));
    }
    for (field, id) in [("from_location_id", new.from_location_id), ("to_location_id", new.to_location_id)] {
        if store::find_location(tx.conn(), id, false).await?.is_none() {
            return Err(InventoryError::LocationNotFound { field: Some(field.into()) });
        }
    }
    let mut wanted: BTreeMap<VariantId, (usize, i32)> = BTreeMap::new();
    for (i, line) in new.lines.iter().enumerate() {
        let entry = wanted.entry(line.variant_id).or_insert((i, 0));
        entry.1 = entry.1.saturating_add(line.quantity.get());
    }
    let ids: Vec<VariantId> = wanted.keys().copied().collect();
    let known = agora_catalog::CatalogModule::live_variant_skus(tx, &ids).await?;
    for (variant, (i, _)) in &wanted {
        if !known.contains_key(variant) {
            return Err(InventoryError::VariantNotFound { field: Some(format!("lines[{i}].variant_id")) });
        }
    }
    let id = TransferId::new_v7();
    let reference = id.to_string();
    let stamp = tx.stamp();
    availability::lock(tx, &ids, &ids).await?;
    for (&variant, &(i, quantity)) in &wanted {
        // Stock in transit leaves on hand at once; what is reserved there stays (only the
        // unreserved part may travel).
        store::ensure_level(tx.conn(), variant, new.from_location_id, &stamp).await?;
        let Some(after) = store::add_on_hand(tx.conn(), variant, new.from_location_id, -quantity, &stamp).await? else {
            let level = store::lock_level(tx.conn(), variant, new.from_location_id).await?;
            return Err(InventoryError::OutOfStock {
                field: format!("lines[{i}].quantity"),
                requested: quantity,
                available: level.on_hand - level.reserved,
            });
        };
        let change = Change {
            variant,
            location: new.from_location_id,
            reason: AdjustmentReason::TransferOut,
            delta: -quantity,
            after: after.on_hand,
            reference: Some(reference.as_str()),
            note: new.note.as_deref(),
        };
        stock::record(tx, bus, change).await?;
        stock::available_changed(
            tx,
            bus,
            variant,
            new.from_location_id,
            after.available() + quantity,
            after.available(),
        )
        .await?;
    }
    availability::refresh_all(tx, bus, ids.iter().copied()).await?;
    let lines: Vec<(VariantId, i32)> = wanted.iter().map(|(v, (_, q))| (*v, *q)).collect();
    let row = store::insert_transfer(
        tx.conn(),
        id,
        new.from_location_id,
        new.to_location_id,
        new.reference.as_deref(),
        new.note.as_deref(),
        &lines,
        &stamp,
    )
    .await?;
    tx.audit("inventory.transfer.created", Some(id.to_string()), serde_json::json!({})).await?;
    get_row(tx, row).await
}

async fn get_row(tx: &mut TenantTx<'_>, row: TransferRow) -> Result<Transfer, InventoryError> {
    let lines = store::transfer_lines(tx.conn(), row.id)
        .await?
        .into_iter()
        .filter_map(|l| {
            Quantity::new(i64::from(l.quantity))
                .ok()
                .map(|quantity| TransferLine { variant_id: l.variant_id, quantity })
        })
        .collect();
    Ok(Transfer {
        id: row.id,
        from_location_id: row.from_location_id,
        to_location_id: row.to_location_id,
        status: row.status,
        lines,
        reference: row.reference,
        note: row.note,
        created_at: row.created_at,
        modified_at: row.modified_at,
        version: row.version,
    })
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: TransferId) -> Result<Transfer, InventoryError> {
    let row = store::find_transfer(tx.conn(), id).await?.ok_or(InventoryError::TransferNotFound)?;
    get_row(tx, row).await
}

pub(crate) async fn list(
    tx: &mut TenantTx<'_>,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> Result<Vec<Transfer>, InventoryError> {
    let rows = store::list_transfers(tx.conn(), after, limit).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(get_row(tx, row).await?);
    }
    Ok(out)
}

/// Receives (stock arrives at the destination) or cancels (stock returns to the source).
pub(crate) async fn close(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: TransferId,
    to: TransferStatus,
    expected: Option<i64>,
) -> Result<Transfer, InventoryError> {
    let stamp = tx.stamp();
    let Some(row) = store::close_transfer(tx.conn(), id, to, expected, &stamp).await? else {
        let current = store::find_transfer(tx.conn(), id).await?.ok_or(InventoryError::TransferNotFound)?;
        if current.status != TransferStatus::InTransit {
            return Err(InventoryError::TransferClosed { status: current.status });
        }
        Version::check(expected, current.version)?;
        return Err(InventoryError::TransferClosed { status: current.status });
    };
    let location: LocationId = if to == TransferStatus::Received { row.to_location_id } else { row.from_location_id };
    let reference = id.to_string();
    let lines = store::transfer_lines(tx.conn(), id).await?;
    let variants: Vec<VariantId> = lines.iter().map(|l| l.variant_id).collect();
    availability::lock(tx, &variants, &variants).await?;
    for line in lines {
        store::ensure_level(tx.conn(), line.variant_id, location, &stamp).await?;
        let after = store::add_on_hand(tx.conn(), line.variant_id, location, line.quantity, &stamp)
            .await?
            .ok_or(InventoryError::BelowReserved { field: "lines".into(), reserved: 0 })?;
        let change = Change {
            variant: line.variant_id,
            location,
            reason: AdjustmentReason::TransferIn,
            delta: line.quantity,
            after: after.on_hand,
            reference: Some(reference.as_str()),
            note: None,
        };
        stock::record(tx, bus, change).await?;
        stock::available_changed(
            tx,
            bus,
            line.variant_id,
            location,
            after.available() - line.quantity,
            after.available(),
        )
        .await?;
    }
    availability::refresh_all(tx, bus, variants).await?;
    let action =
        if to == TransferStatus::Received { "inventory.transfer.received" } else { "inventory.transfer.cancelled" };
    tx.audit(action, Some(id.to_string()), serde_json::json!({})).await?;
    get_row(tx, row).await
}
