//! Diesel queries over the cart's tables: take the connection, return rows. No validation, no
//! events.

use crate::{CartId, CartLineId};
use agora_catalog::VariantId;
use agora_kernel::Stamp;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, BigInt, Bytea, Integer, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::{OptionalExtension, QueryResult, QueryableByName};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct CartRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: CartId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub customer_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Array<Text>)]
    pub codes: Vec<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub country: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub region: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub postal_code: Option<String>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub shipping_method_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub pickup_location_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Timestamptz)]
    pub modified_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

const CART_COLUMNS: &str = "id, customer_id, currency, codes, country, region, postal_code, shipping_method_id, \
                            pickup_location_id, modified_at, version";

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct LineRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: CartLineId,
    #[diesel(sql_type = SqlUuid)]
    pub variant_id: VariantId,
    #[diesel(sql_type = Integer)]
    pub quantity: i32,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub seen_price: Option<i64>,
}

/// How a cart is looked for.
pub(crate) enum Key<'a> {
    /// A guest's cart by its token's hash (never one a customer's account holds).
    Token(&'a [u8]),
    /// A customer's open cart.
    Customer(uuid::Uuid),
}

/// The open cart `key` finds; `lock` takes its row for the rest of the transaction (every
/// change to a cart does, so changes to one cart run one after the other).
pub(crate) async fn find(conn: &mut AsyncPgConnection, key: Key<'_>, lock: bool) -> QueryResult<Option<CartRow>> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    match key {
        Key::Token(hash) => diesel::sql_query(format!(
            "SELECT {CART_COLUMNS} FROM carts WHERE token_hash = $1 AND status = 'open' AND customer_id IS NULL{suffix}"
        ))
        .bind::<Bytea, _>(hash)
        .get_result(conn)
        .await
        .optional(),
        Key::Customer(customer) => diesel::sql_query(format!(
            "SELECT {CART_COLUMNS} FROM carts WHERE customer_id = $1 AND status = 'open'{suffix}"
        ))
        .bind::<SqlUuid, _>(customer)
        .get_result(conn)
        .await
        .optional(),
    }
}

/// A new open cart. `None` when the customer got an open cart meanwhile (a concurrent request).
pub(crate) async fn insert(
    conn: &mut AsyncPgConnection,
    token_hash: Option<&[u8]>,
    customer: Option<uuid::Uuid>,
    currency: &str,
    stamp: &Stamp,
) -> QueryResult<Option<CartRow>> {
    diesel::sql_query(format!(
        "INSERT INTO carts (id, token_hash, customer_id, currency, created_at, created_by, modified_at, modified_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $5, $6) ON CONFLICT DO NOTHING RETURNING {CART_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(CartId::new_v7())
    .bind::<Nullable<Bytea>, _>(token_hash)
    .bind::<Nullable<SqlUuid>, _>(customer)
    .bind::<Text, _>(currency)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
    .optional()
}

pub(crate) async fn lines(conn: &mut AsyncPgConnection, cart: CartId) -> QueryResult<Vec<LineRow>> {
    diesel::sql_query(
        "SELECT id, variant_id, quantity, seen_price FROM cart_lines WHERE cart_id = $1 ORDER BY added_at, id",
    )
    .bind::<SqlUuid, _>(cart)
    .load(conn)
    .await
}

/// Sets the variant's line to `quantity` (made when missing).
pub(crate) async fn put_line(
    conn: &mut AsyncPgConnection,
    cart: CartId,
    variant: VariantId,
    quantity: i32,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::sql_query(
        "INSERT INTO cart_lines (id, cart_id, variant_id, quantity, added_at, modified_at) VALUES ($1, $2, $3, $4, $5, $5) \
         ON CONFLICT (cart_id, variant_id) DO UPDATE SET quantity = EXCLUDED.quantity, modified_at = EXCLUDED.modified_at",
    )
    .bind::<SqlUuid, _>(CartLineId::new_v7())
    .bind::<SqlUuid, _>(cart)
    .bind::<SqlUuid, _>(variant)
    .bind::<Integer, _>(quantity)
    .bind::<Timestamptz, _>(at)
    .execute(conn)
    .await?;
    Ok(())
}

pub(crate) async fn delete_line(conn: &mut AsyncPgConnection, cart: CartId, line: CartLineId) -> QueryResult<usize> {
    diesel::sql_query("DELETE FROM cart_lines WHERE cart_id = $1 AND id = $2")
        .bind::<SqlUuid, _>(cart)
        .bind::<SqlUuid, _>(line)
        .execute(conn)
        .await
}

/// Records the unit prices the shopper is shown now, as the ones later prices compare with.
pub(crate) async fn mark_seen(conn: &mut AsyncPgConnection, seen: &[(CartLineId, Option<i64>)]) -> QueryResult<()> {
    if seen.is_empty() {
        return Ok(());
    }
    let ids: Vec<uuid::Uuid> = seen.iter().map(|(l, _)| l.as_uuid()).collect();
    let prices: Vec<Option<i64>> = seen.iter().map(|(_, p)| *p).collect();
    diesel::sql_query(
        "UPDATE cart_lines l SET seen_price = s.price FROM unnest($1::uuid[], $2::bigint[]) AS s(id, price) \
         WHERE l.id = s.id AND l.seen_price IS DISTINCT FROM s.price",
    )
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Nullable<BigInt>>, _>(prices)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a change writes to the cart row besides its stamp and version.
#[derive(Default)]
pub(crate) struct CartChange<'a> {
    pub codes: Option<&'a [String]>,
    pub destination: Option<(Option<&'a str>, Option<&'a str>, Option<&'a str>)>,
    pub delivery: Option<(Option<uuid::Uuid>, Option<uuid::Uuid>)>,
    pub currency: Option<&'a str>,
}

/// Stamps a change to the cart (and writes `change`); its new version.
pub(crate) async fn touch(
    conn: &mut AsyncPgConnection,
    cart: CartId,
    change: CartChange<'_>,
    stamp: &Stamp,
) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Version {
        #[diesel(sql_type = BigInt)]
        version: i64,
    }
    let (set_destination, country, region, postal) = match change.destination {
        Some((c, r, p)) => (true, c, r, p),
        None => (false, None, None, None),
    };
    let (set_delivery, method, pickup) = match change.delivery {
        Some((m, p)) => (true, m, p),
        None => (false, None, None),
    };
    let row: Version = diesel::sql_query(
        "UPDATE carts SET modified_at = $2, modified_by = $3, version = version + 1, \
           codes = coalesce($4, codes), \
           country = CASE WHEN $5 THEN $6 ELSE country END, \
           region = CASE WHEN $5 THEN $7 ELSE region END, \
           postal_code = CASE WHEN $5 THEN $8 ELSE postal_code END, \
           shipping_method_id = CASE WHEN $9 THEN $10 ELSE shipping_method_id END, \
           pickup_location_id = CASE WHEN $9 THEN $11 ELSE pickup_location_id END, \
           currency = coalesce($12, currency) \
         WHERE id = $1 RETURNING version",
    )
    .bind::<SqlUuid, _>(cart)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .bind::<Nullable<Array<Text>>, _>(change.codes)
    .bind::<diesel::sql_types::Bool, _>(set_destination)
    .bind::<Nullable<Text>, _>(country)
    .bind::<Nullable<Text>, _>(region)
    .bind::<Nullable<Text>, _>(postal)
    .bind::<diesel::sql_types::Bool, _>(set_delivery)
    .bind::<Nullable<SqlUuid>, _>(method)
    .bind::<Nullable<SqlUuid>, _>(pickup)
    .bind::<Nullable<Text>, _>(change.currency)
    .get_result(conn)
    .await?;
    Ok(row.version)
}

/// A customer's account takes over a guest cart: its token stops working.
pub(crate) async fn adopt(conn: &mut AsyncPgConnection, cart: CartId, customer: uuid::Uuid) -> QueryResult<()> {
    diesel::sql_query("UPDATE carts SET customer_id = $2, token_hash = NULL WHERE id = $1")
        .bind::<SqlUuid, _>(cart)
        .bind::<SqlUuid, _>(customer)
        .execute(conn)
        .await?;
    Ok(())
}

/// Closes a guest cart whose lines went into `into`: its token stops working.
pub(crate) async fn close_merged(
    conn: &mut AsyncPgConnection,
    cart: CartId,
    into: CartId,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE carts SET status = 'merged', merged_into = $2, token_hash = NULL, modified_at = $3, modified_by = $4, \
           version = version + 1 WHERE id = $1",
    )
    .bind::<SqlUuid, _>(cart)
    .bind::<SqlUuid, _>(into)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct SettingsRow {
    #[diesel(sql_type = Integer)]
    pub abandon_after_minutes: i32,
    #[diesel(sql_type = Integer)]
    pub max_line_quantity: i32,
    #[diesel(sql_type = Integer)]
    pub max_lines: i32,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

pub(crate) async fn settings(conn: &mut AsyncPgConnection, lock: bool) -> QueryResult<SettingsRow> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    diesel::sql_query(format!(
        "SELECT abandon_after_minutes, max_line_quantity, max_lines, version FROM cart_settings{suffix}"
    ))
    .get_result(conn)
    .await
}

pub(crate) async fn update_settings(
    conn: &mut AsyncPgConnection,
    s: &crate::CartSettings,
    stamp: &Stamp,
) -> QueryResult<SettingsRow> {
    diesel::sql_query(
        "UPDATE cart_settings SET abandon_after_minutes = $1, max_line_quantity = $2, max_lines = $3, \
           modified_at = $4, modified_by = $5, version = version + 1 \
         RETURNING abandon_after_minutes, max_line_quantity, max_lines, version",
    )
    .bind::<Integer, _>(s.abandon_after_minutes)
    .bind::<Integer, _>(s.max_line_quantity)
    .bind::<Integer, _>(s.max_lines)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
}

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct AbandonedRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: uuid::Uuid,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub customer_id: Option<uuid::Uuid>,
    #[diesel(sql_type = Text)]
    pub currency: String,
    #[diesel(sql_type = Timestamptz)]
    pub modified_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub item_count: i64,
}

/// Abandons up to `limit` open carts unchanged since before `before` (skipping any a shopper is
/// changing right now); those abandoned.
pub(crate) async fn abandon_idle(
    conn: &mut AsyncPgConnection,
    before: DateTime<Utc>,
    at: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<AbandonedRow>> {
    diesel::sql_query(
        "WITH idle AS (SELECT id FROM carts WHERE status = 'open' AND modified_at < $1 \
                       ORDER BY modified_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
         UPDATE carts c SET status = 'abandoned', abandoned_at = $2, token_hash = NULL FROM idle WHERE c.id = idle.id \
         RETURNING c.id, c.customer_id, c.currency, c.modified_at, \
           (SELECT coalesce(sum(quantity), 0) FROM cart_lines l WHERE l.cart_id = c.id)::bigint AS item_count",
    )
    .bind::<Timestamptz, _>(before)
    .bind::<Timestamptz, _>(at)
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}
