//! SQL of the CSV stock import: a batch's levels made, locked, read and written in one statement
//! each, whatever the number of rows. No validation, no events (those are `stock_csv.rs`'s).

use crate::{LocationId, VariantId};
use agora_kernel::Stamp;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// A level as the import found it, locked for the rest of its transaction.
#[derive(Debug, Clone, Copy, QueryableByName)]
pub(crate) struct LockedLevel {
    #[diesel(sql_type = SqlUuid)]
    pub variant_id: VariantId,
    #[diesel(sql_type = SqlUuid)]
    pub location_id: LocationId,
    #[diesel(sql_type = Integer)]
    pub on_hand: i32,
    #[diesel(sql_type = Integer)]
    pub reserved: i32,
    #[diesel(sql_type = Integer)]
    pub safety_stock: i32,
}

impl LockedLevel {
    pub fn available(&self) -> i32 {
        self.on_hand - self.reserved - self.safety_stock
    }
}

/// Makes the levels that do not exist yet (zero everywhere), then locks and returns every one of
/// `levels`, in the order every path locks levels in (by variant, then location), so an import
/// and a reservation touching the same levels never wait on each other in a cycle.
pub(crate) async fn ensure_and_lock(
    conn: &mut AsyncPgConnection,
    levels: &[(VariantId, LocationId)],
    stamp: &Stamp,
) -> QueryResult<Vec<LockedLevel>> {
    if levels.is_empty() {
        return Ok(Vec::new());
    }
    let (variants, locations): (Vec<VariantId>, Vec<LocationId>) = levels.iter().copied().unzip();
    diesel::sql_query(
        "INSERT INTO stock_levels (variant_id, location_id, created_at, created_by, modified_at, modified_by) \
         SELECT w.variant_id, w.location_id, $3, $4, $3, $4 FROM unnest($1::uuid[], $2::uuid[]) AS w(variant_id, location_id) \
         ORDER BY w.variant_id, w.location_id ON CONFLICT DO NOTHING",
    )
    .bind::<Array<SqlUuid>, _>(&variants)
    .bind::<Array<SqlUuid>, _>(&locations)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await?;
    diesel::sql_query(
        "SELECT l.variant_id, l.location_id, l.on_hand, l.reserved, l.safety_stock FROM stock_levels l \
         JOIN unnest($1::uuid[], $2::uuid[]) AS w(variant_id, location_id) \
           ON w.variant_id = l.variant_id AND w.location_id = l.location_id \
         ORDER BY l.variant_id, l.location_id FOR UPDATE OF l",
    )
    .bind::<Array<SqlUuid>, _>(&variants)
    .bind::<Array<SqlUuid>, _>(&locations)
    .load(conn)
    .await
}

/// A level's new on hand and safety stock.
pub(crate) struct NewCount {
    pub variant: VariantId,
    pub location: LocationId,
    pub on_hand: i32,
    pub safety_stock: i32,
}

/// Writes `counts` to their levels (locked by [`ensure_and_lock`]) in one statement; a level
/// whose count and safety stock are what it holds already is left alone (no version bumped).
/// The database's checks still hold: on hand never below reserved nor zero.
pub(crate) async fn write_counts(
    conn: &mut AsyncPgConnection,
    counts: &[NewCount],
    stamp: &Stamp,
) -> QueryResult<usize> {
    if counts.is_empty() {
        return Ok(0);
    }
    let variants: Vec<VariantId> = counts.iter().map(|c| c.variant).collect();
    let locations: Vec<LocationId> = counts.iter().map(|c| c.location).collect();
    let on_hand: Vec<i32> = counts.iter().map(|c| c.on_hand).collect();
    let safety: Vec<i32> = counts.iter().map(|c| c.safety_stock).collect();
    diesel::sql_query(
        "UPDATE stock_levels l SET on_hand = w.on_hand, safety_stock = w.safety_stock, \
           modified_at = $5, modified_by = $6, version = l.version + 1 \
         FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::int[]) AS w(variant_id, location_id, on_hand, safety_stock) \
         WHERE l.variant_id = w.variant_id AND l.location_id = w.location_id \
           AND (l.on_hand <> w.on_hand OR l.safety_stock <> w.safety_stock)",
    )
    .bind::<Array<SqlUuid>, _>(&variants)
    .bind::<Array<SqlUuid>, _>(&locations)
    .bind::<Array<Integer>, _>(&on_hand)
    .bind::<Array<Integer>, _>(&safety)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await
}

/// A level as the export writes it (its SKU is the catalog's, looked up per page).
#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct ExportedLevel {
    #[diesel(sql_type = SqlUuid)]
    pub variant_id: VariantId,
    #[diesel(sql_type = SqlUuid)]
    pub location_id: LocationId,
    #[diesel(sql_type = Text)]
    pub location_name: String,
    #[diesel(sql_type = Integer)]
    pub on_hand: i32,
    #[diesel(sql_type = Integer)]
    pub safety_stock: i32,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// How many levels the shop's live locations hold.
pub(crate) async fn count_levels(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    let c: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM stock_levels l JOIN stock_locations s ON s.id = l.location_id \
         WHERE s.deleted_at IS NULL",
    )
    .get_result(conn)
    .await?;
    Ok(c.n)
}

/// Up to `limit` levels at live locations after `after`, by variant then location.
pub(crate) async fn levels_after(
    conn: &mut AsyncPgConnection,
    after: Option<(VariantId, LocationId)>,
    limit: i64,
) -> QueryResult<Vec<ExportedLevel>> {
    let (variant, location) = after.map_or((None, None), |(v, l)| (Some(v.as_uuid()), Some(l.as_uuid())));
    diesel::sql_query(
        "SELECT l.variant_id, l.location_id, s.name AS location_name, l.on_hand, l.safety_stock \
         FROM stock_levels l JOIN stock_locations s ON s.id = l.location_id \
         WHERE s.deleted_at IS NULL AND ($1::uuid IS NULL OR (l.variant_id, l.location_id) > ($1, $2)) \
         ORDER BY l.variant_id, l.location_id LIMIT $3",
    )
    .bind::<Nullable<SqlUuid>, _>(variant)
    .bind::<Nullable<SqlUuid>, _>(location)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}
