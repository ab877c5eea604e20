//! SQL over the inventory's tables: take the connection, return rows. No validation, no events.
//!
//! Every change to a level is one conditional UPDATE whose WHERE states what must still hold
//! when the row is written (enough available, not below reserved). Under concurrency PostgreSQL
//! re-checks that condition against the newest row version after waiting for its lock, so the
//! decision and the write can never disagree — there is no read-then-write window to race in.

use crate::{AdjustmentReason, LocationId, ReservationId, ReservationStatus, TransferId, TransferStatus, VariantId};
use agora_kernel::Stamp;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct LocationRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: LocationId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Jsonb)]
    pub address: serde_json::Value,
    #[diesel(sql_type = Integer)]
    pub priority: i32,
    #[diesel(sql_type = Bool)]
    pub active: bool,
    #[diesel(sql_type = Array<Text>)]
    pub ships_to: Vec<String>,
    #[diesel(sql_type = Bool)]
    pub pickup: bool,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub modified_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

const LOCATION_COLUMNS: &str =
    "id, name, address, priority, active, ships_to, pickup, created_at, modified_at, version";

pub(crate) struct LocationFields<'a> {
    pub name: &'a str,
    pub address: &'a serde_json::Value,
    pub priority: i32,
    pub active: bool,
    pub ships_to: &'a [String],
    pub pickup: bool,
}

pub(crate) async fn insert_location(
    conn: &mut AsyncPgConnection,
    id: LocationId,
    f: &LocationFields<'_>,
    stamp: &Stamp,
) -> QueryResult<LocationRow> {
    diesel::sql_query(format!(
        "INSERT INTO stock_locations (id, name, address, priority, active, ships_to, pickup, created_at, created_by, modified_at, modified_by, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $9, $7, $8, $7, $8, 1) RETURNING {LOCATION_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(f.name)
    .bind::<Jsonb, _>(f.address)
    .bind::<Integer, _>(f.priority)
    .bind::<Bool, _>(f.active)
    .bind::<Array<Text>, _>(f.ships_to)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .bind::<Bool, _>(f.pickup)
    .get_result(conn)
    .await
}

pub(crate) async fn update_location(
    conn: &mut AsyncPgConnection,
    id: LocationId,
    f: &LocationFields<'_>,
    stamp: &Stamp,
) -> QueryResult<LocationRow> {
    diesel::sql_query(format!(
        "UPDATE stock_locations SET name = $2, address = $3, priority = $4, active = $5, ships_to = $6, pickup = $9, \
         modified_at = $7, modified_by = $8, version = version + 1 WHERE id = $1 AND deleted_at IS NULL RETURNING {LOCATION_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(f.name)
    .bind::<Jsonb, _>(f.address)
    .bind::<Integer, _>(f.priority)
    .bind::<Bool, _>(f.active)
    .bind::<Array<Text>, _>(f.ships_to)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .bind::<Bool, _>(f.pickup)
    .get_result(conn)
    .await
}

pub(crate) async fn delete_location(conn: &mut AsyncPgConnection, id: LocationId, stamp: &Stamp) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE stock_locations SET deleted_at = $2, modified_at = $2, modified_by = $3, version = version + 1 \
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await
}

/// A live location; `lock` takes its row lock (for a change that must see no concurrent one).
pub(crate) async fn find_location(
    conn: &mut AsyncPgConnection,
    id: LocationId,
    lock: bool,
) -> QueryResult<Option<LocationRow>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    diesel::sql_query(format!(
        "SELECT {LOCATION_COLUMNS} FROM stock_locations WHERE id = $1 AND deleted_at IS NULL{lock}"
    ))
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await
    .optional()
}

pub(crate) async fn list_locations(conn: &mut AsyncPgConnection) -> QueryResult<Vec<LocationRow>> {
    diesel::sql_query(format!(
        "SELECT {LOCATION_COLUMNS} FROM stock_locations WHERE deleted_at IS NULL ORDER BY priority, name, id"
    ))
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Whether any stock is on hand or reserved at the location.
pub(crate) async fn location_holds_stock(conn: &mut AsyncPgConnection, id: LocationId) -> QueryResult<bool> {
    let c: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM stock_levels WHERE location_id = $1 AND (on_hand > 0 OR reserved > 0)",
    )
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await?;
    Ok(c.n > 0)
}

// ---------------------------------------------------------------------------------------------
// Levels

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct LevelRow {
    #[diesel(sql_type = SqlUuid)]
    pub location_id: LocationId,
    #[diesel(sql_type = Text)]
    pub location_name: String,
    #[diesel(sql_type = Integer)]
    pub on_hand: i32,
    #[diesel(sql_type = Integer)]
    pub reserved: i32,
    #[diesel(sql_type = Integer)]
    pub safety_stock: i32,
}

pub(crate) async fn levels_of(conn: &mut AsyncPgConnection, variant: VariantId) -> QueryResult<Vec<LevelRow>> {
    diesel::sql_query(
        "SELECT l.location_id, s.name AS location_name, l.on_hand, l.reserved, l.safety_stock \
         FROM stock_levels l JOIN stock_locations s ON s.id = l.location_id \
         WHERE l.variant_id = $1 AND s.deleted_at IS NULL ORDER BY s.priority, s.name, s.id",
    )
    .bind::<SqlUuid, _>(variant)
    .load(conn)
    .await
}

/// A level after a change: what is on hand, reserved and kept back now.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub(crate) struct LevelAfter {
    #[diesel(sql_type = Integer)]
    pub on_hand: i32,
    #[diesel(sql_type = Integer)]
    pub reserved: i32,
    #[diesel(sql_type = Integer)]
    pub safety_stock: i32,
}

impl LevelAfter {
    pub fn available(&self) -> i32 {
        self.on_hand - self.reserved - self.safety_stock
    }
}

/// Makes sure the level row exists (zero everywhere) so conditional updates have a row to test,
/// and the variant is counted (a level without an item row would escape the item lock).
pub(crate) async fn ensure_level(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    location: LocationId,
    stamp: &Stamp,
) -> QueryResult<()> {
    ensure_item(conn, variant, stamp).await?;
    diesel::sql_query(
        "INSERT INTO stock_levels (variant_id, location_id, created_at, created_by, modified_at, modified_by) \
         VALUES ($1, $2, $3, $4, $3, $4) ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<SqlUuid, _>(location)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await?;
    Ok(())
}

/// Adds `delta` to on hand unless that would take it below what is reserved (or zero).
/// `None` when refused.
pub(crate) async fn add_on_hand(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    location: LocationId,
    delta: i32,
    stamp: &Stamp,
) -> QueryResult<Option<LevelAfter>> {
    diesel::sql_query(
        "UPDATE stock_levels SET on_hand = on_hand + $3, modified_at = $4, modified_by = $5, version = version + 1 \
         WHERE variant_id = $1 AND location_id = $2 AND on_hand + $3 >= reserved \
         RETURNING on_hand, reserved, safety_stock",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<SqlUuid, _>(location)
    .bind::<Integer, _>(delta)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
    .optional()
}

/// The level, locked for the rest of the transaction (a count sets on hand from what it was).
pub(crate) async fn lock_level(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    location: LocationId,
) -> QueryResult<LevelAfter> {
    diesel::sql_query(
        "SELECT on_hand, reserved, safety_stock FROM stock_levels WHERE variant_id = $1 AND location_id = $2 FOR UPDATE",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<SqlUuid, _>(location)
    .get_result(conn)
    .await
}

pub(crate) async fn set_safety_stock(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    location: LocationId,
    safety_stock: i32,
    stamp: &Stamp,
) -> QueryResult<LevelAfter> {
    diesel::sql_query(
        "UPDATE stock_levels SET safety_stock = $3, modified_at = $4, modified_by = $5, version = version + 1 \
         WHERE variant_id = $1 AND location_id = $2 RETURNING on_hand, reserved, safety_stock",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<SqlUuid, _>(location)
    .bind::<Integer, _>(safety_stock)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
}

/// Locks the given levels in the one order every path uses — by variant, then location, after
/// the variants' item rows ([`lock_items`]) — before the caller changes them in whatever order it
/// likes (a reservation walks locations by priority): two transactions that each touch several
/// levels then never wait on each other in a cycle. The conditional UPDATEs that follow still
/// re-check what they change.
pub(crate) async fn lock_levels(conn: &mut AsyncPgConnection, levels: &[(VariantId, LocationId)]) -> QueryResult<()> {
    if levels.is_empty() {
        return Ok(());
    }
    let (variants, locations): (Vec<VariantId>, Vec<LocationId>) = levels.iter().copied().unzip();
    diesel::sql_query(
        "SELECT l.variant_id FROM stock_levels l \
         JOIN unnest($1::uuid[], $2::uuid[]) AS w(variant_id, location_id) \
           ON w.variant_id = l.variant_id AND w.location_id = l.location_id \
         ORDER BY l.variant_id, l.location_id FOR UPDATE OF l",
    )
    .bind::<Array<SqlUuid>, _>(&variants)
    .bind::<Array<SqlUuid>, _>(&locations)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reserves all of `quantity` at one location, or nothing.
pub(crate) async fn reserve_all(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    location: LocationId,
    quantity: i32,
) -> QueryResult<Option<LevelAfter>> {
    diesel::sql_query(
        "UPDATE stock_levels SET reserved = reserved + $3 \
         WHERE variant_id = $1 AND location_id = $2 AND on_hand - reserved - safety_stock >= $3 \
         RETURNING on_hand, reserved, safety_stock",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<SqlUuid, _>(location)
    .bind::<Integer, _>(quantity)
    .get_result(conn)
    .await
    .optional()
}

#[derive(Debug, Clone, Copy, QueryableByName)]
pub(crate) struct Taken {
    #[diesel(sql_type = Integer)]
    pub taken: i32,
    #[diesel(sql_type = Integer)]
    pub on_hand: i32,
    #[diesel(sql_type = Integer)]
    pub reserved: i32,
    #[diesel(sql_type = Integer)]
    pub safety_stock: i32,
}

/// Reserves as much of `quantity` as the location has available (at least one), in one
/// statement: the row is locked by the CTE, and the UPDATE's own condition re-checks it.
pub(crate) async fn reserve_up_to(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    location: LocationId,
    quantity: i32,
) -> QueryResult<Option<Taken>> {
    diesel::sql_query(
        "WITH cur AS ( \
             SELECT variant_id, location_id, LEAST($3, on_hand - reserved - safety_stock) AS take \
             FROM stock_levels WHERE variant_id = $1 AND location_id = $2 AND on_hand - reserved - safety_stock > 0 \
             FOR UPDATE) \
         UPDATE stock_levels l SET reserved = l.reserved + cur.take FROM cur \
         WHERE l.variant_id = cur.variant_id AND l.location_id = cur.location_id \
           AND l.on_hand - l.reserved - l.safety_stock >= cur.take \
         RETURNING cur.take AS taken, l.on_hand, l.reserved, l.safety_stock",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<SqlUuid, _>(location)
    .bind::<Integer, _>(quantity)
    .get_result(conn)
    .await
    .optional()
}

/// Returns reserved stock (a release, an expiry, a reservation that could not be completed).
pub(crate) async fn unreserve(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    location: LocationId,
    quantity: i32,
) -> QueryResult<LevelAfter> {
    diesel::sql_query(
        "UPDATE stock_levels SET reserved = reserved - $3 WHERE variant_id = $1 AND location_id = $2 \
         RETURNING on_hand, reserved, safety_stock",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<SqlUuid, _>(location)
    .bind::<Integer, _>(quantity)
    .get_result(conn)
    .await
}

/// Turns reserved stock into stock gone (a committed reservation).
pub(crate) async fn deduct_reserved(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    location: LocationId,
    quantity: i32,
    stamp: &Stamp,
) -> QueryResult<LevelAfter> {
    diesel::sql_query(
        "UPDATE stock_levels SET reserved = reserved - $3, on_hand = on_hand - $3, \
         modified_at = $4, modified_by = $5, version = version + 1 \
         WHERE variant_id = $1 AND location_id = $2 RETURNING on_hand, reserved, safety_stock",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<SqlUuid, _>(location)
    .bind::<Integer, _>(quantity)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
}

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct CandidateRow {
    #[diesel(sql_type = SqlUuid)]
    pub location_id: LocationId,
}

/// Where a variant may be taken from, first choice first: active locations that ship to
/// `country` (or anywhere) and had stock available when looked at.
pub(crate) async fn candidate_locations(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    country: Option<&str>,
    only: Option<LocationId>,
) -> QueryResult<Vec<CandidateRow>> {
    diesel::sql_query(
        "SELECT l.location_id FROM stock_levels l JOIN stock_locations s ON s.id = l.location_id \
         WHERE l.variant_id = $1 AND s.active AND s.deleted_at IS NULL \
           AND l.on_hand - l.reserved - l.safety_stock > 0 \
           AND ($2::text IS NULL OR cardinality(s.ships_to) = 0 OR $2 = ANY (s.ships_to)) \
           AND ($3::uuid IS NULL OR s.id = $3) \
         ORDER BY s.priority, s.id",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<Nullable<Text>, _>(country)
    .bind::<Nullable<SqlUuid>, _>(only)
    .load(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Variant settings

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct ItemRow {
    #[diesel(sql_type = Bool)]
    pub tracked: bool,
    #[diesel(sql_type = Text)]
    pub policy: crate::StockPolicy,
    #[diesel(sql_type = Nullable<Integer>)]
    pub backorder_limit: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub preorder_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub low_stock_threshold: Option<i32>,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

pub(crate) async fn find_item(conn: &mut AsyncPgConnection, variant: VariantId) -> QueryResult<Option<ItemRow>> {
    diesel::sql_query(
        "SELECT tracked, policy, backorder_limit, preorder_until, low_stock_threshold, version \
         FROM inventory_items WHERE variant_id = $1",
    )
    .bind::<SqlUuid, _>(variant)
    .get_result(conn)
    .await
    .optional()
}

pub(crate) async fn upsert_item(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    item: &crate::StockSettingsInput,
    stamp: &Stamp,
) -> QueryResult<ItemRow> {
    diesel::sql_query(
        "INSERT INTO inventory_items (variant_id, tracked, policy, backorder_limit, preorder_until, low_stock_threshold, \
           created_at, created_by, modified_at, modified_by, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $8, 1) \
         ON CONFLICT (variant_id) DO UPDATE SET tracked = $2, policy = $3, backorder_limit = $4, preorder_until = $5, \
           low_stock_threshold = $6, modified_at = $7, modified_by = $8, version = inventory_items.version + 1 \
         RETURNING tracked, policy, backorder_limit, preorder_until, low_stock_threshold, version",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<Bool, _>(item.tracked)
    .bind::<Text, _>(item.policy)
    .bind::<Nullable<Integer>, _>(item.backorder_limit)
    .bind::<Nullable<Timestamptz>, _>(item.preorder_until)
    .bind::<Nullable<Integer>, _>(item.low_stock_threshold)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Ledger

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct AdjustmentRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = SqlUuid)]
    pub variant_id: VariantId,
    #[diesel(sql_type = SqlUuid)]
    pub location_id: LocationId,
    #[diesel(sql_type = Text)]
    pub reason: AdjustmentReason,
    #[diesel(sql_type = Integer)]
    pub on_hand_delta: i32,
    #[diesel(sql_type = Integer)]
    pub on_hand_after: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub note: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub created_by: String,
}

const ADJUSTMENT_COLUMNS: &str =
    "id, variant_id, location_id, reason, on_hand_delta, on_hand_after, reference, note, created_at, created_by";

pub(crate) struct NewAdjustmentRow<'a> {
    pub variant: VariantId,
    pub location: LocationId,
    pub reason: AdjustmentReason,
    pub delta: i32,
    pub after: i32,
    pub reference: Option<&'a str>,
    pub note: Option<&'a str>,
}

pub(crate) async fn insert_adjustment(
    conn: &mut AsyncPgConnection,
    a: &NewAdjustmentRow<'_>,
    stamp: &Stamp,
) -> QueryResult<AdjustmentRow> {
    diesel::sql_query(format!(
        "INSERT INTO stock_adjustments ({ADJUSTMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
         RETURNING {ADJUSTMENT_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(agora_kernel::new_id())
    .bind::<SqlUuid, _>(a.variant)
    .bind::<SqlUuid, _>(a.location)
    .bind::<Text, _>(a.reason)
    .bind::<Integer, _>(a.delta)
    .bind::<Integer, _>(a.after)
    .bind::<Nullable<Text>, _>(a.reference)
    .bind::<Nullable<Text>, _>(a.note)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
}

/// A variant's ledger, newest first, after the cursor's row.
pub(crate) async fn ledger(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> QueryResult<Vec<AdjustmentRow>> {
    let (at, id) = after.map_or((None, None), |(at, id)| (Some(at), Some(id)));
    diesel::sql_query(format!(
        "SELECT {ADJUSTMENT_COLUMNS} FROM stock_adjustments WHERE variant_id = $1 \
         AND ($2::timestamptz IS NULL OR (created_at, id) < ($2, $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    ))
    .bind::<SqlUuid, _>(variant)
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Reservations

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct ReservationRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: ReservationId,
    #[diesel(sql_type = Text)]
    pub reference: String,
    #[diesel(sql_type = Text)]
    pub status: ReservationStatus,
    #[diesel(sql_type = Timestamptz)]
    pub expires_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Text>)]
    pub note: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Text)]
    pub created_by: String,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

const RESERVATION_COLUMNS: &str = "id, reference, status, expires_at, note, created_at, created_by, version";

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct ReservationLineRow {
    #[diesel(sql_type = SqlUuid)]
    pub reservation_id: ReservationId,
    #[diesel(sql_type = SqlUuid)]
    pub variant_id: VariantId,
    #[diesel(sql_type = SqlUuid)]
    pub location_id: LocationId,
    #[diesel(sql_type = Integer)]
    pub quantity: i32,
}

pub(crate) async fn insert_reservation(
    conn: &mut AsyncPgConnection,
    id: ReservationId,
    reference: &str,
    expires_at: DateTime<Utc>,
    note: Option<&str>,
    stamp: &Stamp,
) -> QueryResult<ReservationRow> {
    diesel::sql_query(format!(
        "INSERT INTO stock_reservations (id, reference, status, expires_at, note, created_at, created_by, modified_at, modified_by, version) \
         VALUES ($1, $2, 'active', $3, $4, $5, $6, $5, $6, 1) RETURNING {RESERVATION_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(reference)
    .bind::<Timestamptz, _>(expires_at)
    .bind::<Nullable<Text>, _>(note)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
}

pub(crate) async fn insert_reservation_lines(
    conn: &mut AsyncPgConnection,
    id: ReservationId,
    lines: &[(VariantId, LocationId, i32)],
) -> QueryResult<()> {
    for (variant, location, quantity) in lines {
        diesel::sql_query(
            "INSERT INTO stock_reservation_lines (reservation_id, variant_id, location_id, quantity) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (reservation_id, variant_id, location_id) DO UPDATE SET quantity = stock_reservation_lines.quantity + $4",
        )
        .bind::<SqlUuid, _>(id)
        .bind::<SqlUuid, _>(*variant)
        .bind::<SqlUuid, _>(*location)
        .bind::<Integer, _>(*quantity)
        .execute(conn)
        .await?;
    }
    Ok(())
}

pub(crate) async fn find_reservation(
    conn: &mut AsyncPgConnection,
    id: ReservationId,
) -> QueryResult<Option<ReservationRow>> {
    diesel::sql_query(format!("SELECT {RESERVATION_COLUMNS} FROM stock_reservations WHERE id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

pub(crate) async fn reservation_lines(
    conn: &mut AsyncPgConnection,
    ids: &[ReservationId],
) -> QueryResult<Vec<ReservationLineRow>> {
    diesel::sql_query(
        "SELECT reservation_id, variant_id, location_id, quantity FROM stock_reservation_lines \
         WHERE reservation_id = ANY ($1) ORDER BY reservation_id, variant_id, location_id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
    .await
}

/// Moves an active reservation to `to`, only if it is still active (and, unless it is being
/// expired, not past its time). `None` when it was not: the caller looks at why.
pub(crate) async fn close_reservation(
    conn: &mut AsyncPgConnection,
    id: ReservationId,
    to: ReservationStatus,
    stamp: &Stamp,
) -> QueryResult<Option<ReservationRow>> {
    diesel::sql_query(format!(
        "UPDATE stock_reservations SET status = $2, modified_at = $3, modified_by = $4, version = version + 1 \
         WHERE id = $1 AND status = 'active' AND ($2 = 'expired' OR $2 = 'released' OR expires_at > $3) \
         RETURNING {RESERVATION_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(to)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
    .optional()
}

pub(crate) async fn extend_reservation(
    conn: &mut AsyncPgConnection,
    id: ReservationId,
    expires_at: DateTime<Utc>,
    stamp: &Stamp,
) -> QueryResult<Option<ReservationRow>> {
    diesel::sql_query(format!(
        "UPDATE stock_reservations SET expires_at = $2, modified_at = $3, modified_by = $4, version = version + 1 \
         WHERE id = $1 AND status = 'active' AND expires_at > $3 RETURNING {RESERVATION_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Timestamptz, _>(expires_at)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
    .optional()
}

/// Active reservations whose time is up, oldest first; locked, skipping any another
/// transaction is closing right now (it will be closed by that one or the next run).
pub(crate) async fn due_reservations(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<ReservationRow>> {
    diesel::sql_query(format!(
        "SELECT {RESERVATION_COLUMNS} FROM stock_reservations WHERE status = 'active' AND expires_at <= $1 \
         ORDER BY expires_at, id LIMIT $2 FOR UPDATE SKIP LOCKED"
    ))
    .bind::<Timestamptz, _>(now)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Reservations in force (active), soonest to expire first, after the cursor's row.
pub(crate) async fn active_reservations(
    conn: &mut AsyncPgConnection,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> QueryResult<Vec<ReservationRow>> {
    let (at, id) = after.map_or((None, None), |(at, id)| (Some(at), Some(id)));
    diesel::sql_query(format!(
        "SELECT {RESERVATION_COLUMNS} FROM stock_reservations WHERE status = 'active' \
         AND ($1::timestamptz IS NULL OR (expires_at, id) > ($1, $2)) ORDER BY expires_at, id LIMIT $3"
    ))
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

// ---------------------------------------------------------------------------------------------
// Transfers

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct TransferRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: TransferId,
    #[diesel(sql_type = SqlUuid)]
    pub from_location_id: LocationId,
    #[diesel(sql_type = SqlUuid)]
    pub to_location_id: LocationId,
    #[diesel(sql_type = Text)]
    pub status: TransferStatus,
    #[diesel(sql_type = Nullable<Text>)]
    pub reference: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub note: Option<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub modified_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

const TRANSFER_COLUMNS: &str =
    "id, from_location_id, to_location_id, status, reference, note, created_at, modified_at, version";

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct TransferLineRow {
    #[diesel(sql_type = SqlUuid)]
    pub variant_id: VariantId,
    #[diesel(sql_type = Integer)]
    pub quantity: i32,
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_transfer(
    conn: &mut AsyncPgConnection,
    id: TransferId,
    from: LocationId,
    to: LocationId,
    reference: Option<&str>,
    note: Option<&str>,
    lines: &[(VariantId, i32)],
    stamp: &Stamp,
) -> QueryResult<TransferRow> {
    let row: TransferRow = diesel::sql_query(format!(
        "INSERT INTO stock_transfers (id, from_location_id, to_location_id, status, reference, note, created_at, created_by, modified_at, modified_by, version) \
         VALUES ($1, $2, $3, 'in_transit', $4, $5, $6, $7, $6, $7, 1) RETURNING {TRANSFER_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(from)
    .bind::<SqlUuid, _>(to)
    .bind::<Nullable<Text>, _>(reference)
    .bind::<Nullable<Text>, _>(note)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await?;
    for (variant, quantity) in lines {
        diesel::sql_query("INSERT INTO stock_transfer_lines (transfer_id, variant_id, quantity) VALUES ($1, $2, $3)")
            .bind::<SqlUuid, _>(id)
            .bind::<SqlUuid, _>(*variant)
            .bind::<Integer, _>(*quantity)
            .execute(conn)
            .await?;
    }
    Ok(row)
}

pub(crate) async fn find_transfer(conn: &mut AsyncPgConnection, id: TransferId) -> QueryResult<Option<TransferRow>> {
    diesel::sql_query(format!("SELECT {TRANSFER_COLUMNS} FROM stock_transfers WHERE id = $1"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

pub(crate) async fn transfer_lines(conn: &mut AsyncPgConnection, id: TransferId) -> QueryResult<Vec<TransferLineRow>> {
    diesel::sql_query(
        "SELECT variant_id, quantity FROM stock_transfer_lines WHERE transfer_id = $1 ORDER BY variant_id",
    )
    .bind::<SqlUuid, _>(id)
    .load(conn)
    .await
}

pub(crate) async fn list_transfers(
    conn: &mut AsyncPgConnection,
    after: Option<(DateTime<Utc>, uuid::Uuid)>,
    limit: i64,
) -> QueryResult<Vec<TransferRow>> {
    let (at, id) = after.map_or((None, None), |(at, id)| (Some(at), Some(id)));
    diesel::sql_query(format!(
        "SELECT {TRANSFER_COLUMNS} FROM stock_transfers WHERE ($1::timestamptz IS NULL OR (created_at, id) < ($1, $2)) \
         ORDER BY created_at DESC, id DESC LIMIT $3"
    ))
    .bind::<Nullable<Timestamptz>, _>(at)
    .bind::<Nullable<SqlUuid>, _>(id)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// Closes an in-transit transfer; `None` when it is no longer in transit.
pub(crate) async fn close_transfer(
    conn: &mut AsyncPgConnection,
    id: TransferId,
    to: TransferStatus,
    expected: Option<i64>,
    stamp: &Stamp,
) -> QueryResult<Option<TransferRow>> {
    diesel::sql_query(format!(
        "UPDATE stock_transfers SET status = $2, modified_at = $3, modified_by = $4, version = version + 1 \
         WHERE id = $1 AND status = 'in_transit' AND ($5::bigint IS NULL OR version = $5) RETURNING {TRANSFER_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(to)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .bind::<Nullable<BigInt>, _>(expected)
    .get_result(conn)
    .await
    .optional()
}

// ---------------------------------------------------------------------------------------------
// Shop settings

pub(crate) async fn reservation_ttl_seconds(conn: &mut AsyncPgConnection) -> QueryResult<Option<(i32, i64)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Integer)]
        reservation_ttl_seconds: i32,
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let row: Option<Row> = diesel::sql_query("SELECT reservation_ttl_seconds, version FROM inventory_settings")
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(|r| (r.reservation_ttl_seconds, r.version)))
}

pub(crate) async fn set_reservation_ttl_seconds(
    conn: &mut AsyncPgConnection,
    seconds: i32,
    stamp: &Stamp,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let row: Row = diesel::sql_query(
        "INSERT INTO inventory_settings (id, reservation_ttl_seconds, modified_at, modified_by, version) \
         VALUES (true, $1, $2, $3, 1) ON CONFLICT (id) DO UPDATE SET reservation_ttl_seconds = $1, \
         modified_at = $2, modified_by = $3, version = inventory_settings.version + 1 RETURNING version",
    )
    .bind::<Integer, _>(seconds)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await?;
    Ok(row.version)
}

// ---------------------------------------------------------------------------------------------
// A variant's stock as a whole: the lock every change takes first, backorders, availability

/// Makes the variant counted (its item row, with the default settings) if it was not yet.
pub(crate) async fn ensure_item(conn: &mut AsyncPgConnection, variant: VariantId, stamp: &Stamp) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO inventory_items (variant_id, created_at, created_by, modified_at, modified_by) \
         VALUES ($1, $2, $3, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await?;
    Ok(())
}

/// A counted variant, locked.
#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct LockedItem {
    #[diesel(sql_type = SqlUuid)]
    pub variant_id: VariantId,
    #[diesel(sql_type = Bool)]
    pub tracked: bool,
    #[diesel(sql_type = Nullable<Integer>)]
    pub low_stock_threshold: Option<i32>,
}

/// Locks the item rows of `variants` in variant order: the first lock every change to stock
/// takes, before any level, so changes of one variant queue up behind each other and
/// changes of several never wait on each other in a cycle. Variants that are not counted have
/// no row and are missing from the answer.
pub(crate) async fn lock_items(conn: &mut AsyncPgConnection, variants: &[VariantId]) -> QueryResult<Vec<LockedItem>> {
    if variants.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query(
        "SELECT variant_id, tracked, low_stock_threshold FROM inventory_items WHERE variant_id = ANY ($1) \
         ORDER BY variant_id FOR UPDATE",
    )
    .bind::<Array<SqlUuid>, _>(variants)
    .load(conn)
    .await
}

/// A variant's stock as a whole, as shoppers are to be told it.
#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct StockState {
    #[diesel(sql_type = Bool)]
    pub tracked: bool,
    #[diesel(sql_type = Text)]
    pub policy: crate::StockPolicy,
    #[diesel(sql_type = Nullable<Integer>)]
    pub backorder_limit: Option<i32>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub preorder_until: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub low_stock_threshold: Option<i32>,
    #[diesel(sql_type = Integer)]
    pub backorder_held: i32,
    #[diesel(sql_type = Integer)]
    pub backorder_owed: i32,
    #[diesel(sql_type = Nullable<Text>)]
    pub shown_status: Option<String>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub shown_preorder_until: Option<DateTime<Utc>>,
    /// Available to sell over every active location.
    #[diesel(sql_type = BigInt)]
    pub available: i64,
}

pub(crate) async fn stock_state(conn: &mut AsyncPgConnection, variant: VariantId) -> QueryResult<Option<StockState>> {
    diesel::sql_query(
        "SELECT i.tracked, i.policy, i.backorder_limit, i.preorder_until, i.low_stock_threshold, i.backorder_held, \
           i.backorder_owed, i.shown_status, i.shown_preorder_until, \
           (SELECT coalesce(sum(GREATEST(l.on_hand - l.reserved - l.safety_stock, 0)), 0) FROM stock_levels l \
              JOIN stock_locations s ON s.id = l.location_id \
             WHERE l.variant_id = i.variant_id AND s.active AND s.deleted_at IS NULL)::bigint AS available \
         FROM inventory_items i WHERE i.variant_id = $1",
    )
    .bind::<SqlUuid, _>(variant)
    .get_result(conn)
    .await
    .optional()
}

/// [`stock_state`] of each of `variants` that is counted, with its variant (one query).
pub(crate) async fn stock_states(
    conn: &mut AsyncPgConnection,
    variants: &[VariantId],
) -> QueryResult<Vec<(VariantId, StockState)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        variant_id: VariantId,
        #[diesel(embed)]
        state: StockState,
    }
    if variants.is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT i.variant_id, i.tracked, i.policy, i.backorder_limit, i.preorder_until, i.low_stock_threshold, \
           i.backorder_held, i.backorder_owed, i.shown_status, i.shown_preorder_until, \
           (SELECT coalesce(sum(GREATEST(l.on_hand - l.reserved - l.safety_stock, 0)), 0) FROM stock_levels l \
              JOIN stock_locations s ON s.id = l.location_id \
             WHERE l.variant_id = i.variant_id AND s.active AND s.deleted_at IS NULL)::bigint AS available \
         FROM inventory_items i WHERE i.variant_id = ANY ($1)",
    )
    .bind::<Array<SqlUuid>, _>(variants)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.variant_id, r.state)).collect())
}

/// Records what shoppers were told; the announcement's number.
pub(crate) async fn show(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    status: Option<&str>,
    preorder_until: Option<DateTime<Utc>>,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Announced {
        #[diesel(sql_type = BigInt)]
        announced: i64,
    }
    let row: Announced = diesel::sql_query(
        "UPDATE inventory_items SET shown_status = $2, shown_preorder_until = $3, announced = announced + 1 \
         WHERE variant_id = $1 RETURNING announced",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<Nullable<Text>, _>(status)
    .bind::<Nullable<Timestamptz>, _>(preorder_until)
    .get_result(conn)
    .await?;
    Ok(row.announced)
}

/// Promises `quantity` beyond stock if the variant's policy allows it now (backorder, or preorder
/// before its date) within its limit. One conditional UPDATE, like a level's reservation.
pub(crate) async fn hold_backorder(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    quantity: i32,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE inventory_items SET backorder_held = backorder_held + $2 \
         WHERE variant_id = $1 AND tracked \
           AND (policy = 'backorder' OR (policy = 'preorder' AND preorder_until > $3)) \
           AND (backorder_limit IS NULL OR backorder_held + backorder_owed + $2 <= backorder_limit)",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<Integer, _>(quantity)
    .bind::<Timestamptz, _>(now)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// Lets go of units promised beyond stock; with `owed`, the order was paid and they are owed
/// to it until stock arrives.
pub(crate) async fn close_backorder(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    quantity: i32,
    owed: bool,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE inventory_items SET backorder_held = backorder_held - $2, \
           backorder_owed = backorder_owed + CASE WHEN $3 THEN $2 ELSE 0 END WHERE variant_id = $1",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<Integer, _>(quantity)
    .bind::<Bool, _>(owed)
    .execute(conn)
    .await?;
    Ok(())
}

/// Takes up to `quantity` off on hand at a location (as much as it has available, at least
/// one) to pay what committed backorders are owed.
pub(crate) async fn pay_owed_from(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    location: LocationId,
    quantity: i32,
    stamp: &Stamp,
) -> QueryResult<Option<Taken>> {
    let taken: Option<Taken> = diesel::sql_query(
        "WITH cur AS ( \
             SELECT variant_id, location_id, LEAST($3, on_hand - reserved - safety_stock) AS take \
             FROM stock_levels WHERE variant_id = $1 AND location_id = $2 AND on_hand - reserved - safety_stock > 0) \
         UPDATE stock_levels l SET on_hand = l.on_hand - cur.take, modified_at = $4, modified_by = $5, \
           version = l.version + 1 FROM cur \
         WHERE l.variant_id = cur.variant_id AND l.location_id = cur.location_id \
           AND l.on_hand - l.reserved - l.safety_stock >= cur.take \
         RETURNING cur.take AS taken, l.on_hand, l.reserved, l.safety_stock",
    )
    .bind::<SqlUuid, _>(variant)
    .bind::<SqlUuid, _>(location)
    .bind::<Integer, _>(quantity)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
    .optional()?;
    if let Some(t) = &taken {
        diesel::sql_query("UPDATE inventory_items SET backorder_owed = backorder_owed - $2 WHERE variant_id = $1")
            .bind::<SqlUuid, _>(variant)
            .bind::<Integer, _>(t.taken)
            .execute(conn)
            .await?;
    }
    Ok(taken)
}

/// The variants with stock at a location (whose availability its opening or closing changes).
pub(crate) async fn variants_at(conn: &mut AsyncPgConnection, location: LocationId) -> QueryResult<Vec<VariantId>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = SqlUuid)]
        variant_id: VariantId,
    }
    let rows: Vec<Row> =
        diesel::sql_query("SELECT variant_id FROM stock_levels WHERE location_id = $1 ORDER BY variant_id")
            .bind::<SqlUuid, _>(location)
            .load(conn)
            .await?;
    Ok(rows.into_iter().map(|r| r.variant_id).collect())
}

pub(crate) async fn insert_reservation_backorders(
    conn: &mut AsyncPgConnection,
    reservation: ReservationId,
    parts: &[(VariantId, i32)],
) -> QueryResult<()> {
    if parts.is_empty() {
        return Ok(());
    }
    let (variants, quantities): (Vec<VariantId>, Vec<i32>) = parts.iter().copied().unzip();
    diesel::sql_query(
        "INSERT INTO stock_reservation_backorders (reservation_id, variant_id, quantity) \
         SELECT $1, v, q FROM unnest($2::uuid[], $3::int[]) AS t(v, q)",
    )
    .bind::<SqlUuid, _>(reservation)
    .bind::<Array<SqlUuid>, _>(&variants)
    .bind::<Array<Integer>, _>(&quantities)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct BackorderRow {
    #[diesel(sql_type = SqlUuid)]
    pub reservation_id: ReservationId,
    #[diesel(sql_type = SqlUuid)]
    pub variant_id: VariantId,
    #[diesel(sql_type = Integer)]
    pub quantity: i32,
}

pub(crate) async fn reservation_backorders(
    conn: &mut AsyncPgConnection,
    ids: &[ReservationId],
) -> QueryResult<Vec<BackorderRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    diesel::sql_query(
        "SELECT reservation_id, variant_id, quantity FROM stock_reservation_backorders \
         WHERE reservation_id = ANY ($1) ORDER BY reservation_id, variant_id",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
    .await
}
