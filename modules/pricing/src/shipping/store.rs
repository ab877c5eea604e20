//! Shipping's SQL: zones and methods, live ones only (`deleted_at IS NULL`).

use super::{ShippingMethodId, ShippingRateKind, ShippingZoneId};
use agora_kernel::money::Currency;
use agora_kernel::Stamp;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bool, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(QueryableByName)]
pub(super) struct ZoneRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: ShippingZoneId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Array<Text>)]
    pub countries: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    pub regions: Vec<String>,
    #[diesel(sql_type = Array<Text>)]
    pub postcodes: Vec<String>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub modified_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

const ZONE_COLUMNS: &str = "id, name, countries, regions, postcodes, created_at, modified_at, version";

pub(super) struct ZoneFields<'a> {
    pub name: &'a str,
    pub countries: &'a [String],
    pub regions: &'a [String],
    pub postcodes: &'a [String],
}

#[derive(QueryableByName)]
pub(super) struct MethodRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: ShippingMethodId,
    #[diesel(sql_type = SqlUuid)]
    pub zone_id: ShippingZoneId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Text)]
    pub kind: ShippingRateKind,
    #[diesel(sql_type = Text)]
    pub currency: Currency,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub price_amount: Option<i64>,
    #[diesel(sql_type = Jsonb)]
    pub bands: serde_json::Value,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub free_above_amount: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub min_order_amount: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub max_order_amount: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub max_weight_grams: Option<i64>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub min_days: Option<i32>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub max_days: Option<i32>,
    #[diesel(sql_type = Bool)]
    pub active: bool,
    #[diesel(sql_type = Integer)]
    pub position: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub modified_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

const METHOD_COLUMNS: &str = "id, zone_id, name, description, kind, currency, price_amount, bands, \
     free_above_amount, min_order_amount, max_order_amount, max_weight_grams, min_days, max_days, active, position, \
     created_at, modified_at, version";

/// A method's fields as stored: amounts in minor units of `currency`, bands as `[[up_to, price]]`.
#[derive(Debug)]
pub(super) struct MethodFields {
    pub name: String,
    pub description: Option<String>,
    pub kind: ShippingRateKind,
    pub currency: Currency,
    pub price: Option<i64>,
    pub bands: serde_json::Value,
    pub free_above: Option<i64>,
    pub min_order: Option<i64>,
    pub max_order: Option<i64>,
    pub max_weight_grams: Option<i64>,
    pub min_days: Option<i32>,
    pub max_days: Option<i32>,
    pub active: bool,
    pub position: i32,
}

/// Live zones, oldest first (ids are UUIDv7: creation order).
pub(super) async fn zones(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ZoneRow>> {
    diesel::sql_query(format!("SELECT {ZONE_COLUMNS} FROM shipping_zones WHERE deleted_at IS NULL ORDER BY id"))
        .load(conn)
        .await
}

/// Zone `id`; `lock` takes its row for the rest of the transaction.
pub(super) async fn zone(conn: &mut AsyncPgConnection, id: ShippingZoneId, lock: bool) -> QueryResult<Option<ZoneRow>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    diesel::sql_query(format!("SELECT {ZONE_COLUMNS} FROM shipping_zones WHERE id = $1 AND deleted_at IS NULL{lock}"))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

pub(super) async fn insert_zone(
    conn: &mut AsyncPgConnection,
    id: ShippingZoneId,
    f: &ZoneFields<'_>,
    stamp: &Stamp,
) -> QueryResult<ZoneRow> {
    diesel::sql_query(format!(
        "INSERT INTO shipping_zones (id, name, countries, regions, postcodes, created_at, created_by, modified_at, modified_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $6, $7) RETURNING {ZONE_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(f.name)
    .bind::<Array<Text>, _>(f.countries)
    .bind::<Array<Text>, _>(f.regions)
    .bind::<Array<Text>, _>(f.postcodes)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
}

pub(super) async fn update_zone(
    conn: &mut AsyncPgConnection,
    id: ShippingZoneId,
    f: &ZoneFields<'_>,
    stamp: &Stamp,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE shipping_zones SET name = $2, countries = $3, regions = $4, postcodes = $5, modified_at = $6, \
         modified_by = $7, version = version + 1 WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(f.name)
    .bind::<Array<Text>, _>(f.countries)
    .bind::<Array<Text>, _>(f.regions)
    .bind::<Array<Text>, _>(f.postcodes)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await
}

/// Deletes a zone and its methods (kept as deleted rows: orders name them).
pub(super) async fn delete_zone(conn: &mut AsyncPgConnection, id: ShippingZoneId, stamp: &Stamp) -> QueryResult<()> {
    for table in ["shipping_methods", "shipping_zones"] {
        let key = if table == "shipping_zones" { "id" } else { "zone_id" };
        diesel::sql_query(format!(
            "UPDATE {table} SET deleted_at = $2, modified_at = $2, modified_by = $3, version = version + 1 \
             WHERE {key} = $1 AND deleted_at IS NULL"
        ))
        .bind::<SqlUuid, _>(id)
        .bind::<Timestamptz, _>(stamp.at)
        .bind::<Text, _>(&stamp.by)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Live methods, of one zone or all, in display order.
pub(super) async fn methods(conn: &mut AsyncPgConnection, zone: Option<ShippingZoneId>) -> QueryResult<Vec<MethodRow>> {
    diesel::sql_query(format!(
        "SELECT {METHOD_COLUMNS} FROM shipping_methods WHERE deleted_at IS NULL AND ($1::uuid IS NULL OR zone_id = $1) \
         ORDER BY position, id"
    ))
    .bind::<Nullable<SqlUuid>, _>(zone)
    .load(conn)
    .await
}

pub(super) async fn method(
    conn: &mut AsyncPgConnection,
    id: ShippingMethodId,
    lock: bool,
) -> QueryResult<Option<MethodRow>> {
    let lock = if lock { " FOR UPDATE" } else { "" };
    diesel::sql_query(format!(
        "SELECT {METHOD_COLUMNS} FROM shipping_methods WHERE id = $1 AND deleted_at IS NULL{lock}"
    ))
    .bind::<SqlUuid, _>(id)
    .get_result(conn)
    .await
    .optional()
}

pub(super) async fn insert_method(
    conn: &mut AsyncPgConnection,
    id: ShippingMethodId,
    zone: ShippingZoneId,
    f: &MethodFields,
    stamp: &Stamp,
) -> QueryResult<MethodRow> {
    diesel::sql_query(format!(
        "INSERT INTO shipping_methods (id, zone_id, name, description, kind, currency, price_amount, bands, \
         free_above_amount, min_order_amount, max_order_amount, max_weight_grams, min_days, max_days, active, position, \
         created_at, created_by, modified_at, modified_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $17, $18) \
         RETURNING {METHOD_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<SqlUuid, _>(zone)
    .bind::<Text, _>(&f.name)
    .bind::<Nullable<Text>, _>(&f.description)
    .bind::<Text, _>(f.kind)
    .bind::<Text, _>(f.currency)
    .bind::<Nullable<BigInt>, _>(f.price)
    .bind::<Jsonb, _>(&f.bands)
    .bind::<Nullable<BigInt>, _>(f.free_above)
    .bind::<Nullable<BigInt>, _>(f.min_order)
    .bind::<Nullable<BigInt>, _>(f.max_order)
    .bind::<Nullable<BigInt>, _>(f.max_weight_grams)
    .bind::<Nullable<Integer>, _>(f.min_days)
    .bind::<Nullable<Integer>, _>(f.max_days)
    .bind::<Bool, _>(f.active)
    .bind::<Integer, _>(f.position)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
}

pub(super) async fn update_method(
    conn: &mut AsyncPgConnection,
    id: ShippingMethodId,
    f: &MethodFields,
    stamp: &Stamp,
) -> QueryResult<MethodRow> {
    diesel::sql_query(format!(
        "UPDATE shipping_methods SET name = $2, description = $3, kind = $4, currency = $5, price_amount = $6, \
         bands = $7, free_above_amount = $8, min_order_amount = $9, max_order_amount = $10, max_weight_grams = $11, \
         min_days = $12, max_days = $13, active = $14, position = $15, modified_at = $16, modified_by = $17, \
         version = version + 1 WHERE id = $1 AND deleted_at IS NULL RETURNING {METHOD_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(&f.name)
    .bind::<Nullable<Text>, _>(&f.description)
    .bind::<Text, _>(f.kind)
    .bind::<Text, _>(f.currency)
    .bind::<Nullable<BigInt>, _>(f.price)
    .bind::<Jsonb, _>(&f.bands)
    .bind::<Nullable<BigInt>, _>(f.free_above)
    .bind::<Nullable<BigInt>, _>(f.min_order)
    .bind::<Nullable<BigInt>, _>(f.max_order)
    .bind::<Nullable<BigInt>, _>(f.max_weight_grams)
    .bind::<Nullable<Integer>, _>(f.min_days)
    .bind::<Nullable<Integer>, _>(f.max_days)
    .bind::<Bool, _>(f.active)
    .bind::<Integer, _>(f.position)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
}

pub(super) async fn delete_method(
    conn: &mut AsyncPgConnection,
    id: ShippingMethodId,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE shipping_methods SET deleted_at = $2, modified_at = $2, modified_by = $3, version = version + 1 \
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(QueryableByName)]
struct CountryRow {
    #[diesel(sql_type = Text)]
    country: String,
}

/// Countries of zones that have an active method, alphabetically.
pub(super) async fn countries_served(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    let rows: Vec<CountryRow> = diesel::sql_query(
        "SELECT DISTINCT unnest(z.countries) AS country FROM shipping_zones z \
         WHERE z.deleted_at IS NULL AND EXISTS (SELECT 1 FROM shipping_methods m \
           WHERE m.zone_id = z.id AND m.deleted_at IS NULL AND m.active) ORDER BY country",
    )
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| r.country).collect())
}
