//! Reservations: stock promised to a reference until it is committed, released or expires.
//!
//! Counting is the database's: each part is one conditional UPDATE of the level, whose WHERE
//! re-checks availability against the newest row after any concurrent writer committed, so
//! nothing here reads a count and then writes from it. Locks are always taken in the same
//! order — the variants' item rows (by id), then their levels (variant, then location) — so two
//! reservations of the same lines cannot deadlock. The part of a line no location covers is
//! promised beyond stock when the variant's policy allows it (one more conditional UPDATE, on
//! the variant), and each variant's availability is worked out again at the end.

use crate::availability;
use crate::error::InventoryError;
use crate::events::{BackorderedPart, ReservedPart, StockCommitted, StockExpired, StockReleased, StockReserved};
use crate::jobs::{self, ExpireReservations, BATCH};
use crate::store::{self, ReservationLineRow, ReservationRow};
use crate::{
    stock, AdjustmentReason, BackorderedLine, LocationId, NewHold, Reservation, ReservationId, ReservationLine,
    ReservationRequest, ReservationStatus, VariantId,
};
use agora_kernel::events::EventBus;
use agora_kernel::jobs::EnqueueOptions;
use agora_kernel::TenantTx;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Longest a reservation may hold: a week.
const MAX_MINUTES: i64 = 7 * 24 * 60;
/// The reservation time of a shop that set none.
pub(crate) const DEFAULT_TTL_SECONDS: i32 = 15 * 60;

pub(crate) fn minutes(field: &str, minutes: i64) -> Result<Duration, InventoryError> {
    if !(1..=MAX_MINUTES).contains(&minutes) {
        return Err(InventoryError::field(field, format!("between 1 and {MAX_MINUTES} minutes")));
    }
    Ok(Duration::minutes(minutes))
}

pub(crate) fn country(field: &str, raw: &str) -> Result<String, InventoryError> {
    if raw.len() == 2 && raw.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(raw.to_string())
    } else {
        Err(InventoryError::field(field, "an ISO 3166-1 alpha-2 country code in capitals (DE)"))
    }
}

/// A manual hold's request, checked.
pub(crate) fn hold_request(hold: NewHold) -> Result<ReservationRequest, InventoryError> {
    let ttl = hold.expires_in_minutes.map(|m| minutes("expires_in_minutes", m)).transpose()?;
    let ship_to_country = hold.ship_to_country.as_deref().map(|c| country("ship_to_country", c)).transpose()?;
    Ok(ReservationRequest {
        reference: hold.reference,
        lines: hold.lines,
        ship_to_country,
        location: hold.location_id,
        ttl,
        note: hold.note,
    })
}

async fn ttl_of(tx: &mut TenantTx<'_>, asked: Option<Duration>) -> Result<Duration, InventoryError> {
    if let Some(ttl) = asked {
        return Ok(ttl);
    }
    let seconds = store::reservation_ttl_seconds(tx.conn()).await?.map_or(DEFAULT_TTL_SECONDS, |(s, _)| s);
    Ok(Duration::seconds(i64::from(seconds)))
}

pub(crate) async fn reserve(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    request: ReservationRequest,
) -> Result<Reservation, InventoryError> {
    let reference = request.reference.trim().to_string();
    if reference.is_empty() || reference.chars().count() > 200 {
        return Err(InventoryError::field("reference", "1 to 200 characters"));
    }
    if request.lines.is_empty() {
        return Err(InventoryError::field("lines", "at least one line"));
    }
    if request.lines.len() > 100 {
        return Err(InventoryError::field("lines", "at most 100 lines"));
    }
    if let Some(note) = &request.note {
        if note.chars().count() > 2000 {
            return Err(InventoryError::field("note", "at most 2000 characters"));
        }
    }
    // One quantity per variant, whatever order or repetition the caller used.
    let mut wanted: BTreeMap<VariantId, (usize, i32)> = BTreeMap::new();
    for (i, line) in request.lines.iter().enumerate() {
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
    if let Some(location) = request.location {
        if store::find_location(tx.conn(), location, false).await?.is_none() {
            return Err(InventoryError::LocationNotFound { field: Some("location_id".into()) });
        }
    }
    let ttl = ttl_of(tx, request.ttl).await?;
    let expires_at = tx.stamp().at + ttl;
    // A variant is counted once it has stock levels or settings (an item row); the others
    // sell freely.
    let items = availability::lock(tx, &ids, &[]).await?;

    let mut held = Held::default();
    for (variant, (i, quantity)) in wanted {
        let Some(item) = items.get(&variant).filter(|i| i.tracked) else { continue };
        let field = format!("lines[{i}].quantity");
        let want = Want { variant, quantity, threshold: item.low_stock_threshold };
        match take(tx, bus, want, request.ship_to_country.as_deref(), request.location, &field).await {
            Ok(got) => {
                held.parts.extend(got.parts);
                if got.backordered > 0 {
                    held.backordered.push((variant, got.backordered));
                }
                availability::refresh(tx, bus, variant).await?;
            }
            Err(e) => {
                // Nothing half-reserved: what earlier lines took goes back before the caller
                // hears (the caller may carry on with its transaction).
                give_back(tx, bus, &held).await?;
                return Err(e);
            }
        }
    }

    let id = ReservationId::new_v7();
    let stamp = tx.stamp();
    let row = store::insert_reservation(tx.conn(), id, &reference, expires_at, request.note.as_deref(), &stamp).await?;
    store::insert_reservation_lines(tx.conn(), id, &held.parts).await?;
    store::insert_reservation_backorders(tx.conn(), id, &held.backordered).await?;
    tx.enqueue(&ExpireReservations {}, jobs::at(expires_at)).await?;
    let lines: Vec<ReservationLine> = held
        .parts
        .iter()
        .map(|&(variant_id, location_id, quantity)| ReservationLine { variant_id, location_id, quantity })
        .collect();
    let backordered = backordered_lines(&held.backordered);
    tx.publish(
        bus,
        &StockReserved {
            reservation_id: id.as_uuid(),
            reference: reference.clone(),
            lines: event_lines(&lines),
            backordered: event_backorders(&backordered),
            expires_at,
        },
    )
    .await?;
    Ok(to_reservation(row, lines, backordered))
}

/// What a reservation took so far: parts at locations, and parts promised beyond stock.
#[derive(Default)]
struct Held {
    parts: Vec<(VariantId, LocationId, i32)>,
    backordered: Vec<(VariantId, i32)>,
}

/// One variant's line of a reservation, with its low-stock threshold.
struct Want {
    variant: VariantId,
    quantity: i32,
    threshold: Option<i32>,
}

/// One variant's take: its parts at locations, and how much was promised beyond stock.
struct Taken {
    parts: Vec<(VariantId, LocationId, i32)>,
    backordered: i32,
}

/// Reserves `quantity` of one variant (its item locked): all at the first location that can
/// cover it, or else split over the locations in order, and what they cannot cover beyond
/// stock when the variant takes backorders or preorders. On failure nothing stays taken.
async fn take(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    Want { variant, quantity, threshold }: Want,
    country: Option<&str>,
    only: Option<LocationId>,
    field: &str,
) -> Result<Taken, InventoryError> {
    let candidates = store::candidate_locations(tx.conn(), variant, country, only).await?;
    // Variants come here in id order (the caller's BTreeMap); within one, its levels are locked
    // by location id before being taken from in priority order.
    let levels: Vec<(VariantId, LocationId)> = candidates.iter().map(|c| (variant, c.location_id)).collect();
    store::lock_levels(tx.conn(), &levels).await?;
    for c in &candidates {
        if let Some(after) = store::reserve_all(tx.conn(), variant, c.location_id, quantity).await? {
            let change = (after.available() + quantity, after.available());
            stock::signal(tx, bus, variant, c.location_id, change, threshold).await?;
            return Ok(Taken { parts: vec![(variant, c.location_id, quantity)], backordered: 0 });
        }
    }
    let mut parts = Vec::new();
    let mut changes = Vec::new();
    let mut remaining = quantity;
    for c in &candidates {
        if remaining == 0 {
            break;
        }
        if let Some(t) = store::reserve_up_to(tx.conn(), variant, c.location_id, remaining).await? {
            remaining -= t.taken;
            parts.push((variant, c.location_id, t.taken));
            let after = t.on_hand - t.reserved - t.safety_stock;
            changes.push((c.location_id, (after + t.taken, after)));
        }
    }
    let mut backordered = 0;
    if remaining > 0 {
        let now = tx.stamp().at;
        if store::hold_backorder(tx.conn(), variant, remaining, now).await? {
            backordered = remaining;
        } else {
            let held = Held { parts, backordered: Vec::new() };
            give_back(tx, bus, &held).await?;
            let available = quantity - remaining;
            return Err(InventoryError::OutOfStock { field: field.to_string(), requested: quantity, available });
        }
    }
    // Low-stock signals only once the whole line is held (a failed split signals nothing).
    for (location, change) in changes {
        stock::signal(tx, bus, variant, location, change, threshold).await?;
    }
    Ok(Taken { parts, backordered })
}

/// Puts back what a reservation that cannot be completed took, and works out the availability
/// of the variants it had already announced.
async fn give_back(tx: &mut TenantTx<'_>, bus: &EventBus, held: &Held) -> Result<(), InventoryError> {
    for &(variant, location, quantity) in &held.parts {
        store::unreserve(tx.conn(), variant, location, quantity).await?;
    }
    for &(variant, quantity) in &held.backordered {
        store::close_backorder(tx.conn(), variant, quantity, false).await?;
    }
    let touched = held.parts.iter().map(|p| p.0).chain(held.backordered.iter().map(|b| b.0));
    availability::refresh_all(tx, bus, touched).await
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: ReservationId) -> Result<Reservation, InventoryError> {
    let row = store::find_reservation(tx.conn(), id).await?.ok_or(InventoryError::ReservationNotFound)?;
    let (lines, backordered) = parts_of(tx, id).await?;
    Ok(to_reservation(row, lines, backordered))
}

/// A reservation's parts at locations and beyond stock.
async fn parts_of(
    tx: &mut TenantTx<'_>,
    id: ReservationId,
) -> Result<(Vec<ReservationLine>, Vec<BackorderedLine>), InventoryError> {
    let lines = store::reservation_lines(tx.conn(), &[id]).await?.into_iter().map(line).collect();
    let backordered = store::reservation_backorders(tx.conn(), &[id])
        .await?
        .into_iter()
        .map(|b| BackorderedLine { variant_id: b.variant_id, quantity: b.quantity })
        .collect();
    Ok((lines, backordered))
}

fn line(r: ReservationLineRow) -> ReservationLine {
    ReservationLine { variant_id: r.variant_id, location_id: r.location_id, quantity: r.quantity }
}

fn backordered_lines(parts: &[(VariantId, i32)]) -> Vec<BackorderedLine> {
    parts.iter().map(|&(variant_id, quantity)| BackorderedLine { variant_id, quantity }).collect()
}

pub(crate) async fn in_force(
    tx: &mut TenantTx<'_>,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> Result<Vec<Reservation>, InventoryError> {
    let rows = store::active_reservations(tx.conn(), after, limit).await?;
    let ids: Vec<ReservationId> = rows.iter().map(|r| r.id).collect();
    let mut lines: BTreeMap<ReservationId, Vec<ReservationLine>> = BTreeMap::new();
    for l in store::reservation_lines(tx.conn(), &ids).await? {
        lines.entry(l.reservation_id).or_default().push(line(l));
    }
    let mut backordered: BTreeMap<ReservationId, Vec<BackorderedLine>> = BTreeMap::new();
    for b in store::reservation_backorders(tx.conn(), &ids).await? {
        let part = BackorderedLine { variant_id: b.variant_id, quantity: b.quantity };
        backordered.entry(b.reservation_id).or_default().push(part);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let l = lines.remove(&r.id).unwrap_or_default();
            let b = backordered.remove(&r.id).unwrap_or_default();
            to_reservation(r, l, b)
        })
        .collect())
}

/// Why a reservation could not be moved out of `active`: it is gone, or closed, or past its
/// time (which counts as expired even before the job has closed it).
async fn not_active(tx: &mut TenantTx<'_>, id: ReservationId) -> InventoryError {
    match store::find_reservation(tx.conn(), id).await {
        Ok(None) => InventoryError::ReservationNotFound,
        Ok(Some(row)) if row.status == ReservationStatus::Active => {
            InventoryError::ReservationNotActive { status: ReservationStatus::Expired }
        }
        Ok(Some(row)) => InventoryError::ReservationNotActive { status: row.status },
        Err(e) => e.into(),
    }
}

pub(crate) async fn release(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: ReservationId,
) -> Result<Reservation, InventoryError> {
    let stamp = tx.stamp();
    let Some(row) = store::close_reservation(tx.conn(), id, ReservationStatus::Released, &stamp).await? else {
        return Err(not_active(tx, id).await);
    };
    let (lines, backordered) = parts_of(tx, id).await?;
    lock_parts(tx, &lines, &backordered).await?;
    return_stock(tx, bus, &lines, &backordered).await?;
    let event = StockReleased {
        reservation_id: id.as_uuid(),
        reference: row.reference.clone(),
        lines: event_lines(&lines),
        backordered: event_backorders(&backordered),
    };
    tx.publish(bus, &event).await?;
    Ok(to_reservation(row, lines, backordered))
}

pub(crate) async fn commit(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: ReservationId,
) -> Result<Reservation, InventoryError> {
    let stamp = tx.stamp();
    let Some(row) = store::close_reservation(tx.conn(), id, ReservationStatus::Committed, &stamp).await? else {
        return Err(not_active(tx, id).await);
    };
    let (lines, backordered) = parts_of(tx, id).await?;
    lock_parts(tx, &lines, &backordered).await?;
    for l in &lines {
        let after = store::deduct_reserved(tx.conn(), l.variant_id, l.location_id, l.quantity, &stamp).await?;
        stock::record(
            tx,
            bus,
            stock::Change {
                variant: l.variant_id,
                location: l.location_id,
                reason: AdjustmentReason::Sold,
                delta: -l.quantity,
                after: after.on_hand,
                reference: Some(row.reference.as_str()),
                note: None,
            },
        )
        .await?;
    }
    // Paid units promised beyond stock are owed to the order until stock arrives.
    for b in &backordered {
        store::close_backorder(tx.conn(), b.variant_id, b.quantity, true).await?;
    }
    availability::refresh_all(tx, bus, touched(&lines, &backordered)).await?;
    let event = StockCommitted {
        reservation_id: id.as_uuid(),
        reference: row.reference.clone(),
        lines: event_lines(&lines),
        backordered: event_backorders(&backordered),
    };
    tx.publish(bus, &event).await?;
    Ok(to_reservation(row, lines, backordered))
}

pub(crate) async fn extend(
    tx: &mut TenantTx<'_>,
    id: ReservationId,
    ttl: Duration,
) -> Result<Reservation, InventoryError> {
    let stamp = tx.stamp();
    let expires_at = stamp.at + ttl;
    let Some(row) = store::extend_reservation(tx.conn(), id, expires_at, &stamp).await? else {
        return Err(not_active(tx, id).await);
    };
    tx.enqueue(&ExpireReservations {}, jobs::at(expires_at)).await?;
    let (lines, backordered) = parts_of(tx, id).await?;
    Ok(to_reservation(row, lines, backordered))
}

/// Expires what is due; queues another run at once when there was more than one batch.
pub(crate) async fn expire_due(tx: &mut TenantTx<'_>, bus: &EventBus) -> Result<usize, InventoryError> {
    let stamp = tx.stamp();
    let due = store::due_reservations(tx.conn(), stamp.at, BATCH).await?;
    // Locks in the common order — reservations, then variants, then levels — with the whole
    // batch's variants and levels at once: reservation after reservation would lock them in no
    // particular order.
    let mut closed = Vec::new();
    for row in &due {
        if store::close_reservation(tx.conn(), row.id, ReservationStatus::Expired, &stamp).await?.is_some() {
            closed.push(row);
        }
    }
    let ids: Vec<ReservationId> = closed.iter().map(|r| r.id).collect();
    let mut lines: BTreeMap<ReservationId, Vec<ReservationLine>> = BTreeMap::new();
    for l in store::reservation_lines(tx.conn(), &ids).await? {
        lines.entry(l.reservation_id).or_default().push(line(l));
    }
    let mut backordered: BTreeMap<ReservationId, Vec<BackorderedLine>> = BTreeMap::new();
    for b in store::reservation_backorders(tx.conn(), &ids).await? {
        let part = BackorderedLine { variant_id: b.variant_id, quantity: b.quantity };
        backordered.entry(b.reservation_id).or_default().push(part);
    }
    let all_lines: Vec<ReservationLine> = lines.values().flatten().cloned().collect();
    let all_backordered: Vec<BackorderedLine> = backordered.values().flatten().cloned().collect();
    lock_parts(tx, &all_lines, &all_backordered).await?;
    for row in closed {
        let l = lines.remove(&row.id).unwrap_or_default();
        let b = backordered.remove(&row.id).unwrap_or_default();
        return_stock(tx, bus, &l, &b).await?;
        let event = StockExpired {
            reservation_id: row.id.as_uuid(),
            reference: row.reference.clone(),
            lines: event_lines(&l),
            backordered: event_backorders(&b),
        };
        tx.publish(bus, &event).await?;
    }
    if due.len() as i64 == BATCH {
        tx.enqueue(&ExpireReservations {}, EnqueueOptions::default()).await?;
    }
    Ok(due.len())
}

/// Gives a closed reservation's stock back (its variants and levels locked by the caller).
async fn return_stock(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    lines: &[ReservationLine],
    backordered: &[BackorderedLine],
) -> Result<(), InventoryError> {
    for l in lines {
        let after = store::unreserve(tx.conn(), l.variant_id, l.location_id, l.quantity).await?;
        stock::available_changed(
            tx,
            bus,
            l.variant_id,
            l.location_id,
            after.available() - l.quantity,
            after.available(),
        )
        .await?;
    }
    for b in backordered {
        store::close_backorder(tx.conn(), b.variant_id, b.quantity, false).await?;
    }
    availability::refresh_all(tx, bus, touched(lines, backordered)).await
}

fn touched<'a>(
    lines: &'a [ReservationLine],
    backordered: &'a [BackorderedLine],
) -> impl Iterator<Item = VariantId> + 'a {
    lines.iter().map(|l| l.variant_id).chain(backordered.iter().map(|b| b.variant_id))
}

/// Locks what a reservation's parts touch in the common order: the variants, then their levels
/// (see `store::lock_items` and `store::lock_levels`).
async fn lock_parts(
    tx: &mut TenantTx<'_>,
    lines: &[ReservationLine],
    backordered: &[BackorderedLine],
) -> Result<(), InventoryError> {
    let variants: Vec<VariantId> = touched(lines, backordered).collect();
    availability::lock(tx, &variants, &[]).await?;
    let levels: Vec<(VariantId, LocationId)> = lines.iter().map(|l| (l.variant_id, l.location_id)).collect();
    Ok(store::lock_levels(tx.conn(), &levels).await?)
}

fn event_lines(lines: &[ReservationLine]) -> Vec<ReservedPart> {
    lines
        .iter()
        .map(|l| ReservedPart {
            variant_id: l.variant_id.as_uuid(),
            location_id: l.location_id.as_uuid(),
            quantity: l.quantity,
        })
        .collect()
}

fn event_backorders(parts: &[BackorderedLine]) -> Vec<BackorderedPart> {
    parts.iter().map(|b| BackorderedPart { variant_id: b.variant_id.as_uuid(), quantity: b.quantity }).collect()
}

fn to_reservation(row: ReservationRow, lines: Vec<ReservationLine>, backordered: Vec<BackorderedLine>) -> Reservation {
    Reservation {
        id: row.id,
        reference: row.reference,
        status: row.status,
        expires_at: row.expires_at,
        note: row.note,
        lines,
        backordered,
        created_at: row.created_at,
        created_by: row.created_by,
        version: row.version,
    }
}
