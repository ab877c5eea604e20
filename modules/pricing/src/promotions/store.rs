//! SQL over the promotion tables: take the connection, return rows. No validation, no events.
//!
//! Every use is counted by one statement whose WHERE states the limit (`used < usage_limit`).
//! Under concurrency PostgreSQL re-checks that condition against the newest row version after
//! waiting for the row's lock, so the decision and the write can never disagree: there is no
//! read-then-write window to race in.

use super::{PromotionCodeId, PromotionId, PromotionStatus, PromotionTrigger, Redemption, Stacking};
use agora_kernel::Stamp;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Integer, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct PromotionRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: PromotionId,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub description: Option<String>,
    #[diesel(sql_type = Text)]
    pub trigger: PromotionTrigger,
    #[diesel(sql_type = Text)]
    pub status: PromotionStatus,
    #[diesel(sql_type = Jsonb)]
    pub discount: serde_json::Value,
    #[diesel(sql_type = Jsonb)]
    pub conditions: serde_json::Value,
    #[diesel(sql_type = Text)]
    pub stacking: Stacking,
    #[diesel(sql_type = Integer)]
    pub priority: i32,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub starts_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub ends_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Integer>)]
    pub usage_limit_per_customer: Option<i32>,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    pub modified_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = BigInt)]
    pub code_count: i64,
    #[diesel(sql_type = BigInt)]
    pub redemptions: i64,
}

const PROMOTION_COLUMNS: &str = "p.id, p.name, p.description, p.trigger, p.status, p.discount, p.conditions, \
     p.stacking, p.priority, p.starts_at, p.ends_at, p.usage_limit_per_customer, p.created_at, p.modified_at, p.version";

/// With the counts staff see (a cart's evaluation does without them).
fn promotion_select(counts: bool) -> String {
    let counts = if counts {
        "(SELECT count(*) FROM promotion_codes c WHERE c.promotion_id = p.id) AS code_count, \
         (SELECT count(*) FROM promotion_redemptions r WHERE r.promotion_id = p.id AND r.released_at IS NULL) AS redemptions"
    } else {
        "0::bigint AS code_count, 0::bigint AS redemptions"
    };
    format!("SELECT {PROMOTION_COLUMNS}, {counts} FROM promotions p")
}

pub(crate) struct PromotionFields<'a> {
    pub name: &'a str,
    pub description: Option<&'a str>,
    pub status: PromotionStatus,
    pub stacking: Stacking,
    pub priority: i32,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit_per_customer: Option<i32>,
    pub discount: serde_json::Value,
    pub conditions: serde_json::Value,
}

pub(crate) async fn insert_promotion(
    conn: &mut AsyncPgConnection,
    id: PromotionId,
    trigger: PromotionTrigger,
    f: &PromotionFields<'_>,
    stamp: &Stamp,
) -> QueryResult<usize> {
    diesel::sql_query(
        "INSERT INTO promotions (id, trigger, name, description, status, stacking, priority, starts_at, ends_at, \
         usage_limit_per_customer, discount, conditions, created_at, created_by, modified_at, modified_by, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $13, $14, 1)",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(trigger)
    .bind::<Text, _>(f.name)
    .bind::<Nullable<Text>, _>(f.description)
    .bind::<Text, _>(f.status)
    .bind::<Text, _>(f.stacking)
    .bind::<Integer, _>(f.priority)
    .bind::<Nullable<Timestamptz>, _>(f.starts_at)
    .bind::<Nullable<Timestamptz>, _>(f.ends_at)
    .bind::<Nullable<Integer>, _>(f.usage_limit_per_customer)
    .bind::<Jsonb, _>(&f.discount)
    .bind::<Jsonb, _>(&f.conditions)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await
}

pub(crate) async fn update_promotion(
    conn: &mut AsyncPgConnection,
    id: PromotionId,
    f: &PromotionFields<'_>,
    stamp: &Stamp,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE promotions SET name = $2, description = $3, status = $4, stacking = $5, priority = $6, starts_at = $7, \
         ends_at = $8, usage_limit_per_customer = $9, discount = $10, conditions = $11, modified_at = $12, \
         modified_by = $13, version = version + 1 WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Text, _>(f.name)
    .bind::<Nullable<Text>, _>(f.description)
    .bind::<Text, _>(f.status)
    .bind::<Text, _>(f.stacking)
    .bind::<Integer, _>(f.priority)
    .bind::<Nullable<Timestamptz>, _>(f.starts_at)
    .bind::<Nullable<Timestamptz>, _>(f.ends_at)
    .bind::<Nullable<Integer>, _>(f.usage_limit_per_customer)
    .bind::<Jsonb, _>(&f.discount)
    .bind::<Jsonb, _>(&f.conditions)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await
}

pub(crate) async fn delete_promotion(
    conn: &mut AsyncPgConnection,
    id: PromotionId,
    stamp: &Stamp,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE promotions SET deleted_at = $2, modified_at = $2, modified_by = $3, version = version + 1 \
         WHERE id = $1 AND deleted_at IS NULL",
    )
    .bind::<SqlUuid, _>(id)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = SqlUuid)]
    #[allow(dead_code)] // Only its presence is read.
    id: Uuid,
}

/// A live promotion; `lock` takes its row lock first (for a change that must see no concurrent one).
pub(crate) async fn find_promotion(
    conn: &mut AsyncPgConnection,
    id: PromotionId,
    lock: bool,
) -> QueryResult<Option<PromotionRow>> {
    if lock {
        let locked: Option<IdRow> =
            diesel::sql_query("SELECT id FROM promotions WHERE id = $1 AND deleted_at IS NULL FOR UPDATE")
                .bind::<SqlUuid, _>(id)
                .get_result(conn)
                .await
                .optional()?;
        if locked.is_none() {
            return Ok(None);
        }
    }
    diesel::sql_query(format!("{} WHERE p.id = $1 AND p.deleted_at IS NULL", promotion_select(true)))
        .bind::<SqlUuid, _>(id)
        .get_result(conn)
        .await
        .optional()
}

/// Live promotions, newest first, after the cursor's row.
pub(crate) async fn list_promotions(
    conn: &mut AsyncPgConnection,
    status: Option<PromotionStatus>,
    trigger: Option<PromotionTrigger>,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<PromotionRow>> {
    diesel::sql_query(format!(
        "{} WHERE p.deleted_at IS NULL AND ($1::text IS NULL OR p.status = $1) AND ($2::text IS NULL OR p.trigger = $2) \
         AND ($3::timestamptz IS NULL OR (p.created_at, p.id) < ($3, $4)) \
         ORDER BY p.created_at DESC, p.id DESC LIMIT $5",
        promotion_select(true)
    ))
    .bind::<Nullable<Text>, _>(status)
    .bind::<Nullable<Text>, _>(trigger)
    .bind::<Nullable<Timestamptz>, _>(after.map(|a| a.0))
    .bind::<Nullable<SqlUuid>, _>(after.map(|a| a.1))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// The active automatic promotions, in priority order.
pub(crate) async fn automatic_promotions(conn: &mut AsyncPgConnection) -> QueryResult<Vec<PromotionRow>> {
    diesel::sql_query(format!(
        "{} WHERE p.trigger = 'automatic' AND p.status = 'active' AND p.deleted_at IS NULL ORDER BY p.priority, p.id",
        promotion_select(false)
    ))
    .load(conn)
    .await
}

/// Which of `ids` are active, live promotions.
pub(crate) async fn usable_promotions(
    conn: &mut AsyncPgConnection,
    ids: &[PromotionId],
) -> QueryResult<Vec<PromotionRow>> {
    let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
    diesel::sql_query(format!(
        "{} WHERE p.id = ANY($1) AND p.status = 'active' AND p.deleted_at IS NULL",
        promotion_select(false)
    ))
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
    .await
}

#[derive(QueryableByName)]
struct UsesRow {
    #[diesel(sql_type = SqlUuid)]
    promotion_id: PromotionId,
    #[diesel(sql_type = Integer)]
    used: i32,
}

/// How often `customer` used each of `ids` (absent: never).
pub(crate) async fn customer_uses(
    conn: &mut AsyncPgConnection,
    customer: Uuid,
    ids: &[PromotionId],
) -> QueryResult<Vec<(PromotionId, i32)>> {
    let ids: Vec<Uuid> = ids.iter().map(|i| i.as_uuid()).collect();
    let rows: Vec<UsesRow> = diesel::sql_query(
        "SELECT promotion_id, used FROM promotion_customer_uses WHERE customer_id = $1 AND promotion_id = ANY($2)",
    )
    .bind::<SqlUuid, _>(customer)
    .bind::<Array<SqlUuid>, _>(ids)
    .load(conn)
    .await?;
    Ok(rows.into_iter().map(|r| (r.promotion_id, r.used)).collect())
}

// ---------------------------------------------------------------------------------------------
// Codes

#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct CodeRow {
    #[diesel(sql_type = SqlUuid)]
    pub id: PromotionCodeId,
    #[diesel(sql_type = SqlUuid)]
    pub promotion_id: PromotionId,
    #[diesel(sql_type = Text)]
    pub code: String,
    #[diesel(sql_type = Text)]
    pub status: PromotionStatus,
    #[diesel(sql_type = Nullable<Integer>)]
    pub usage_limit: Option<i32>,
    #[diesel(sql_type = Integer)]
    pub used: i32,
    #[diesel(sql_type = Timestamptz)]
    pub created_at: DateTime<Utc>,
    #[diesel(sql_type = BigInt)]
    pub version: i64,
}

const CODE_COLUMNS: &str = "id, promotion_id, code, status, usage_limit, used, created_at, version";

/// Inserts the codes no other code of the shop holds; returns those inserted (a code already
/// taken is simply not among them).
pub(crate) async fn insert_codes(
    conn: &mut AsyncPgConnection,
    promotion: PromotionId,
    codes: &[String],
    usage_limit: Option<i32>,
    stamp: &Stamp,
) -> QueryResult<Vec<CodeRow>> {
    let ids: Vec<Uuid> = codes.iter().map(|_| Uuid::now_v7()).collect();
    diesel::sql_query(format!(
        "INSERT INTO promotion_codes (id, promotion_id, code, usage_limit, created_at, created_by, modified_at, modified_by) \
         SELECT u.id, $3, u.code, $4, $5, $6, $5, $6 FROM unnest($1::uuid[], $2::text[]) AS u(id, code) \
         ON CONFLICT (code) DO NOTHING RETURNING {CODE_COLUMNS}"
    ))
    .bind::<Array<SqlUuid>, _>(ids)
    .bind::<Array<Text>, _>(codes)
    .bind::<SqlUuid, _>(promotion)
    .bind::<Nullable<Integer>, _>(usage_limit)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .load(conn)
    .await
}

/// A promotion's codes in the order they were made, after the cursor's row.
pub(crate) async fn list_codes(
    conn: &mut AsyncPgConnection,
    promotion: PromotionId,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> QueryResult<Vec<CodeRow>> {
    diesel::sql_query(format!(
        "SELECT {CODE_COLUMNS} FROM promotion_codes WHERE promotion_id = $1 \
         AND ($2::timestamptz IS NULL OR (created_at, id) > ($2, $3)) ORDER BY created_at, id LIMIT $4"
    ))
    .bind::<SqlUuid, _>(promotion)
    .bind::<Nullable<Timestamptz>, _>(after.map(|a| a.0))
    .bind::<Nullable<SqlUuid>, _>(after.map(|a| a.1))
    .bind::<BigInt, _>(limit)
    .load(conn)
    .await
}

/// The active codes among `codes` (stored form).
pub(crate) async fn usable_codes(conn: &mut AsyncPgConnection, codes: &[String]) -> QueryResult<Vec<CodeRow>> {
    diesel::sql_query(format!("SELECT {CODE_COLUMNS} FROM promotion_codes WHERE code = ANY($1) AND status = 'active'"))
        .bind::<Array<Text>, _>(codes)
        .load(conn)
        .await
}

pub(crate) async fn set_code_status(
    conn: &mut AsyncPgConnection,
    promotion: PromotionId,
    code: PromotionCodeId,
    status: PromotionStatus,
    stamp: &Stamp,
) -> QueryResult<Option<CodeRow>> {
    diesel::sql_query(format!(
        "UPDATE promotion_codes SET status = $3, modified_at = $4, modified_by = $5, version = version + 1 \
         WHERE id = $2 AND promotion_id = $1 RETURNING {CODE_COLUMNS}"
    ))
    .bind::<SqlUuid, _>(promotion)
    .bind::<SqlUuid, _>(code)
    .bind::<Text, _>(status)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .get_result(conn)
    .await
    .optional()
}

// ---------------------------------------------------------------------------------------------
// Redemptions

#[derive(QueryableByName)]
struct LimitRow {
    #[diesel(sql_type = Nullable<Integer>)]
    usage_limit_per_customer: Option<i32>,
}

/// The promotion's per-customer limit (`Some(None)`: no limit; `None`: no such promotion).
pub(crate) async fn per_customer_limit(
    conn: &mut AsyncPgConnection,
    promotion: PromotionId,
) -> QueryResult<Option<Option<i32>>> {
    let row: Option<LimitRow> = diesel::sql_query("SELECT usage_limit_per_customer FROM promotions WHERE id = $1")
        .bind::<SqlUuid, _>(promotion)
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.map(|r| r.usage_limit_per_customer))
}

/// Records that `order_ref` used the promotion; `false` when it is recorded already (and not
/// released), so nothing is counted twice for one order.
pub(crate) async fn record_redemption(
    conn: &mut AsyncPgConnection,
    order_ref: Uuid,
    r: Redemption,
    customer: Option<Uuid>,
    stamp: &Stamp,
) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "INSERT INTO promotion_redemptions (id, order_ref, promotion_id, code_id, customer_id, redeemed_at, redeemed_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (order_ref, promotion_id) WHERE released_at IS NULL DO NOTHING",
    )
    .bind::<SqlUuid, _>(Uuid::now_v7())
    .bind::<SqlUuid, _>(order_ref)
    .bind::<SqlUuid, _>(r.promotion_id)
    .bind::<Nullable<SqlUuid>, _>(r.code_id.map(|c| c.as_uuid()))
    .bind::<Nullable<SqlUuid>, _>(customer)
    .bind::<Timestamptz, _>(stamp.at)
    .bind::<Text, _>(&stamp.by)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

/// One more use of the code, if it has one left: the single conditional UPDATE that keeps the
/// limit under any concurrency.
pub(crate) async fn count_code_use(
    conn: &mut AsyncPgConnection,
    promotion: PromotionId,
    code: PromotionCodeId,
) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "UPDATE promotion_codes SET used = used + 1 \
         WHERE id = $1 AND promotion_id = $2 AND (usage_limit IS NULL OR used < usage_limit)",
    )
    .bind::<SqlUuid, _>(code)
    .bind::<SqlUuid, _>(promotion)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

pub(crate) async fn code_exists(
    conn: &mut AsyncPgConnection,
    promotion: PromotionId,
    code: PromotionCodeId,
) -> QueryResult<bool> {
    let row: Option<IdRow> = diesel::sql_query("SELECT id FROM promotion_codes WHERE id = $1 AND promotion_id = $2")
        .bind::<SqlUuid, _>(code)
        .bind::<SqlUuid, _>(promotion)
        .get_result(conn)
        .await
        .optional()?;
    Ok(row.is_some())
}

/// One more use by the customer, if they have one left. The first use inserts the counter; a
/// concurrent first use waits on the key and then takes the update path, whose WHERE is checked
/// against the newest row (`INSERT … ON CONFLICT DO UPDATE` is atomic under READ COMMITTED).
pub(crate) async fn count_customer_use(
    conn: &mut AsyncPgConnection,
    promotion: PromotionId,
    customer: Uuid,
    limit: Option<i32>,
) -> QueryResult<bool> {
    let n = diesel::sql_query(
        "INSERT INTO promotion_customer_uses (promotion_id, customer_id, used) VALUES ($1, $2, 1) \
         ON CONFLICT (promotion_id, customer_id) DO UPDATE SET used = promotion_customer_uses.used + 1 \
         WHERE $3::integer IS NULL OR promotion_customer_uses.used < $3",
    )
    .bind::<SqlUuid, _>(promotion)
    .bind::<SqlUuid, _>(customer)
    .bind::<Nullable<Integer>, _>(limit)
    .execute(conn)
    .await?;
    Ok(n == 1)
}

#[derive(QueryableByName)]
pub(crate) struct ReleasedRow {
    #[diesel(sql_type = SqlUuid)]
    pub promotion_id: PromotionId,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub code_id: Option<PromotionCodeId>,
    #[diesel(sql_type = Nullable<SqlUuid>)]
    pub customer_id: Option<Uuid>,
}

/// Marks the order's redemptions in force released; returns them (none the second time).
pub(crate) async fn release_redemptions(
    conn: &mut AsyncPgConnection,
    order_ref: Uuid,
    at: DateTime<Utc>,
) -> QueryResult<Vec<ReleasedRow>> {
    diesel::sql_query(
        "UPDATE promotion_redemptions SET released_at = $2 WHERE order_ref = $1 AND released_at IS NULL \
         RETURNING promotion_id, code_id, customer_id",
    )
    .bind::<SqlUuid, _>(order_ref)
    .bind::<Timestamptz, _>(at)
    .load(conn)
    .await
}

pub(crate) async fn give_back_code_use(conn: &mut AsyncPgConnection, code: PromotionCodeId) -> QueryResult<usize> {
    diesel::sql_query("UPDATE promotion_codes SET used = used - 1 WHERE id = $1 AND used > 0")
        .bind::<SqlUuid, _>(code)
        .execute(conn)
        .await
}

pub(crate) async fn give_back_customer_use(
    conn: &mut AsyncPgConnection,
    promotion: PromotionId,
    customer: Uuid,
) -> QueryResult<usize> {
    diesel::sql_query(
        "UPDATE promotion_customer_uses SET used = used - 1 WHERE promotion_id = $1 AND customer_id = $2 AND used > 0",
    )
    .bind::<SqlUuid, _>(promotion)
    .bind::<SqlUuid, _>(customer)
    .execute(conn)
    .await
}

#[derive(QueryableByName)]
struct NextChange {
    #[diesel(sql_type = Nullable<Timestamptz>)]
    at: Option<DateTime<Utc>>,
}

/// The next instant after `now` at which an active promotion or price list starts or ends: until
/// then, what pricing answers changes only by a write.
pub(crate) async fn next_schedule_change(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Option<DateTime<Utc>>> {
    let row: NextChange = diesel::sql_query(
        "SELECT min(at) AS at FROM ( \
           SELECT unnest(ARRAY[starts_at, ends_at]) AS at FROM promotions \
            WHERE status = 'active' AND deleted_at IS NULL \
           UNION ALL \
           SELECT unnest(ARRAY[starts_at, ends_at]) FROM price_lists \
            WHERE status = 'active' AND deleted_at IS NULL \
         ) edges WHERE at > $1",
    )
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await?;
    Ok(row.at)
}
