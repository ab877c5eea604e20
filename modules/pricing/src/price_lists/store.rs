//! SQL over the price lists' and rates' tables: take the connection, return rows.

use super::schema::{currency_rates, price_list_entries, price_lists};
use super::{CurrencyRateId, PriceListId, PriceListStatus, PriceRounding, PriceTier};
use agora_catalog::VariantId;
use agora_kernel::lists::Keyset;
use agora_kernel::money::{Currency, Money};
use agora_kernel::Stamp;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = price_lists)]
pub(crate) struct ListRow {
    pub id: PriceListId,
    pub name: String,
    pub currency: Currency,
    pub customer_groups: Vec<uuid::Uuid>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub priority: i32,
    pub status: PriceListStatus,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// One list's entry, its amounts in the list's currency.
#[derive(Debug, Clone)]
pub(crate) struct EntryRow {
    pub variant_id: VariantId,
    pub price: Money,
    tiers: serde_json::Value,
    pub sale: bool,
    pub modified_at: DateTime<Utc>,
}

/// A tier as stored: `{"min_quantity": 10, "amount": 900}`.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredTier {
    min_quantity: i32,
    amount: i64,
}

impl EntryRow {
    pub fn tiers(&self) -> Vec<PriceTier> {
        let stored: Vec<StoredTier> = serde_json::from_value(self.tiers.clone()).unwrap_or_default();
        stored
            .into_iter()
            .map(|t| PriceTier { min_quantity: t.min_quantity, price: Money::new(t.amount, self.price.currency) })
            .collect()
    }
}

type EntryColumns = (
    price_list_entries::variant_id,
    price_list_entries::price_amount,
    price_list_entries::tiers,
    price_list_entries::sale,
    price_list_entries::modified_at,
);
const ENTRY_COLUMNS: EntryColumns = (
    price_list_entries::variant_id,
    price_list_entries::price_amount,
    price_list_entries::tiers,
    price_list_entries::sale,
    price_list_entries::modified_at,
);
type EntryTuple = (VariantId, i64, serde_json::Value, bool, DateTime<Utc>);

fn entry(t: EntryTuple, currency: Currency) -> EntryRow {
    EntryRow { variant_id: t.0, price: Money::new(t.1, currency), tiers: t.2, sale: t.3, modified_at: t.4 }
}

pub(crate) struct ListFields<'a> {
    pub name: &'a str,
    pub currency: Currency,
    pub customer_groups: Vec<uuid::Uuid>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub priority: i32,
    pub status: PriceListStatus,
}

pub(crate) struct EntryFields {
    pub amount: i64,
    pub tiers: Vec<(i32, i64)>,
    pub sale: bool,
}

pub(crate) async fn insert_list(
    conn: &mut AsyncPgConnection,
    id: PriceListId,
    f: &ListFields<'_>,
    stamp: &Stamp,
) -> QueryResult<ListRow> {
    diesel::insert_into(price_lists::table)
        .values((
            price_lists::id.eq(id),
            price_lists::name.eq(f.name),
            price_lists::currency.eq(f.currency),
            price_lists::customer_groups.eq(&f.customer_groups),
            price_lists::starts_at.eq(f.starts_at),
            price_lists::ends_at.eq(f.ends_at),
            price_lists::priority.eq(f.priority),
            price_lists::status.eq(f.status),
            agora_kernel::stamp_new!(stamp, price_lists),
        ))
        .returning(ListRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn update_list(
    conn: &mut AsyncPgConnection,
    id: PriceListId,
    f: &ListFields<'_>,
    stamp: &Stamp,
) -> QueryResult<ListRow> {
    diesel::update(price_lists::table.find(id).filter(price_lists::deleted_at.is_null()))
        .set((
            price_lists::name.eq(f.name),
            price_lists::customer_groups.eq(&f.customer_groups),
            price_lists::starts_at.eq(f.starts_at),
            price_lists::ends_at.eq(f.ends_at),
            price_lists::priority.eq(f.priority),
            price_lists::status.eq(f.status),
            agora_kernel::stamp_change!(stamp, price_lists),
        ))
        .returning(ListRow::as_returning())
        .get_result(conn)
        .await
}

/// A change to a list's entries is a change to the list: its version moves (`If-Match`).
pub(crate) async fn touch_list(conn: &mut AsyncPgConnection, id: PriceListId, stamp: &Stamp) -> QueryResult<i64> {
    diesel::update(price_lists::table.find(id))
        .set(agora_kernel::stamp_change!(stamp, price_lists))
        .returning(price_lists::version)
        .get_result(conn)
        .await
}

pub(crate) async fn delete_list(conn: &mut AsyncPgConnection, id: PriceListId, stamp: &Stamp) -> QueryResult<usize> {
    diesel::update(price_lists::table.find(id).filter(price_lists::deleted_at.is_null()))
        .set((price_lists::deleted_at.eq(stamp.at), agora_kernel::stamp_change!(stamp, price_lists)))
        .execute(conn)
        .await
}

/// A live list; `lock` holds its row to the end of the transaction (its entries change with it).
pub(crate) async fn find_list(
    conn: &mut AsyncPgConnection,
    id: PriceListId,
    lock: bool,
) -> QueryResult<Option<ListRow>> {
    let q = price_lists::table.find(id).filter(price_lists::deleted_at.is_null()).select(ListRow::as_select());
    if lock {
        q.for_update().first(conn).await.optional()
    } else {
        q.first(conn).await.optional()
    }
}

pub(crate) async fn list_lists(
    conn: &mut AsyncPgConnection,
    page: &Keyset<DateTime<Utc>>,
) -> QueryResult<Vec<ListRow>> {
    let q = price_lists::table
        .filter(price_lists::deleted_at.is_null())
        .select(ListRow::as_select())
        .limit(page.fetch_limit())
        .into_boxed();
    page.apply(q, price_lists::created_at, price_lists::id).load(conn).await
}

pub(crate) async fn entry_counts(
    conn: &mut AsyncPgConnection,
    ids: &[PriceListId],
) -> QueryResult<HashMap<PriceListId, i64>> {
    let rows: Vec<(PriceListId, i64)> = price_list_entries::table
        .filter(price_list_entries::price_list_id.eq_any(ids))
        .group_by(price_list_entries::price_list_id)
        .select((price_list_entries::price_list_id, diesel::dsl::count_star()))
        .load(conn)
        .await?;
    Ok(rows.into_iter().collect())
}

pub(crate) async fn list_entries(
    conn: &mut AsyncPgConnection,
    id: PriceListId,
    currency: Currency,
    page: &Keyset<DateTime<Utc>>,
) -> QueryResult<Vec<EntryRow>> {
    let q = price_list_entries::table
        .filter(price_list_entries::price_list_id.eq(id))
        .select(ENTRY_COLUMNS)
        .limit(page.fetch_limit())
        .into_boxed();
    let rows: Vec<EntryTuple> =
        page.apply(q, price_list_entries::modified_at, price_list_entries::variant_id).load(conn).await?;
    Ok(rows.into_iter().map(|t| entry(t, currency)).collect())
}

/// Adds or replaces the entries in one statement.
pub(crate) async fn upsert_entries(
    conn: &mut AsyncPgConnection,
    id: PriceListId,
    entries: &BTreeMap<VariantId, EntryFields>,
    stamp: &Stamp,
) -> QueryResult<usize> {
    let rows: Vec<_> = entries
        .iter()
        .map(|(variant, f)| {
            let tiers: Vec<StoredTier> = f
                .tiers
                .iter()
                .map(|(min_quantity, amount)| StoredTier { min_quantity: *min_quantity, amount: *amount })
                .collect();
            (
                price_list_entries::price_list_id.eq(id),
                price_list_entries::variant_id.eq(*variant),
                price_list_entries::price_amount.eq(f.amount),
                price_list_entries::tiers.eq(serde_json::to_value(tiers).unwrap_or_default()),
                price_list_entries::sale.eq(f.sale),
                agora_kernel::stamp_new!(stamp, price_list_entries),
            )
        })
        .collect();
    diesel::insert_into(price_list_entries::table)
        .values(rows)
        .on_conflict((price_list_entries::price_list_id, price_list_entries::variant_id))
        .do_update()
        .set((
            price_list_entries::price_amount.eq(excluded(price_list_entries::price_amount)),
            price_list_entries::tiers.eq(excluded(price_list_entries::tiers)),
            price_list_entries::sale.eq(excluded(price_list_entries::sale)),
            price_list_entries::modified_at.eq(excluded(price_list_entries::modified_at)),
            price_list_entries::modified_by.eq(excluded(price_list_entries::modified_by)),
            price_list_entries::version.eq(price_list_entries::version + 1_i64),
        ))
        .execute(conn)
        .await
}

/// Whether there was an entry to delete.
pub(crate) async fn delete_entry(
    conn: &mut AsyncPgConnection,
    id: PriceListId,
    variant: VariantId,
) -> QueryResult<bool> {
    let n = diesel::delete(
        price_list_entries::table
            .filter(price_list_entries::price_list_id.eq(id))
            .filter(price_list_entries::variant_id.eq(variant)),
    )
    .execute(conn)
    .await?;
    Ok(n > 0)
}

/// Entries of `variants` in active lists in `currency` that have not ended by `at` (those not
/// started yet too: their start is when the answer changes), in one query.
pub(crate) async fn live_candidates(
    conn: &mut AsyncPgConnection,
    variants: &[VariantId],
    currency: Currency,
    at: DateTime<Utc>,
) -> QueryResult<Vec<(ListRow, EntryRow)>> {
    let rows: Vec<(ListRow, EntryTuple)> = price_list_entries::table
        .inner_join(price_lists::table)
        .filter(price_list_entries::variant_id.eq_any(variants))
        .filter(price_lists::deleted_at.is_null())
        .filter(price_lists::status.eq(PriceListStatus::Active))
        .filter(price_lists::currency.eq(currency))
        .filter(price_lists::ends_at.is_null().or(price_lists::ends_at.gt(at)))
        .select((ListRow::as_select(), ENTRY_COLUMNS))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(l, e)| {
            let c = l.currency;
            (l, entry(e, c))
        })
        .collect())
}

/// Every live list's entry for `variant`, whatever its status, currency or window (for "why
/// this price").
pub(crate) async fn all_candidates(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
) -> QueryResult<Vec<(ListRow, EntryRow)>> {
    let rows: Vec<(ListRow, EntryTuple)> = price_list_entries::table
        .inner_join(price_lists::table)
        .filter(price_list_entries::variant_id.eq(variant))
        .filter(price_lists::deleted_at.is_null())
        .order(price_lists::id)
        .select((ListRow::as_select(), ENTRY_COLUMNS))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(l, e)| {
            let c = l.currency;
            (l, entry(e, c))
        })
        .collect())
}

// ---- rates ------------------------------------------------------------------------------

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = currency_rates)]
pub(crate) struct RateRow {
    pub id: CurrencyRateId,
    pub from_currency: Currency,
    pub to_currency: Currency,
    pub rate_micros: i64,
    pub rounding: PriceRounding,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

pub(crate) async fn rates_into(conn: &mut AsyncPgConnection, currency: Currency) -> QueryResult<Vec<RateRow>> {
    currency_rates::table.filter(currency_rates::to_currency.eq(currency)).select(RateRow::as_select()).load(conn).await
}

pub(crate) async fn list_rates(
    conn: &mut AsyncPgConnection,
    page: &Keyset<DateTime<Utc>>,
) -> QueryResult<Vec<RateRow>> {
    let q = currency_rates::table.select(RateRow::as_select()).limit(page.fetch_limit()).into_boxed();
    page.apply(q, currency_rates::created_at, currency_rates::id).load(conn).await
}

pub(crate) async fn find_rate(
    conn: &mut AsyncPgConnection,
    id: CurrencyRateId,
    lock: bool,
) -> QueryResult<Option<RateRow>> {
    let q = currency_rates::table.find(id).select(RateRow::as_select());
    if lock {
        q.for_update().first(conn).await.optional()
    } else {
        q.first(conn).await.optional()
    }
}

pub(crate) async fn insert_rate(
    conn: &mut AsyncPgConnection,
    id: CurrencyRateId,
    from: Currency,
    to: Currency,
    rate_micros: i64,
    rounding: PriceRounding,
    stamp: &Stamp,
) -> QueryResult<RateRow> {
    diesel::insert_into(currency_rates::table)
        .values((
            currency_rates::id.eq(id),
            currency_rates::from_currency.eq(from),
            currency_rates::to_currency.eq(to),
            currency_rates::rate_micros.eq(rate_micros),
            currency_rates::rounding.eq(rounding),
            agora_kernel::stamp_new!(stamp, currency_rates),
        ))
        .returning(RateRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn update_rate(
    conn: &mut AsyncPgConnection,
    id: CurrencyRateId,
    rate_micros: i64,
    rounding: PriceRounding,
    stamp: &Stamp,
) -> QueryResult<RateRow> {
    diesel::update(currency_rates::table.find(id))
        .set((
            currency_rates::rate_micros.eq(rate_micros),
            currency_rates::rounding.eq(rounding),
            agora_kernel::stamp_change!(stamp, currency_rates),
        ))
        .returning(RateRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn delete_rate(conn: &mut AsyncPgConnection, id: CurrencyRateId) -> QueryResult<usize> {
    diesel::delete(currency_rates::table.find(id)).execute(conn).await
}
