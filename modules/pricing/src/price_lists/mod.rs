//! Price lists, conversion rates, and the one rule deciding what a shopper pays for a variant.
//!
//! # Which price wins (also in `docs/pricing.md`)
//!
//! For a variant, a currency, a quantity, the shopper's customer groups and an instant:
//!
//! 1. A price list **applies** when it is `active`, not deleted, in its date window
//!    (`starts_at <= at < ends_at`, each bound optional), in **the requested currency** (a list is
//!    never converted), for **everyone** (no groups) or for at least one of the shopper's groups,
//!    and has an entry for the variant.
//! 2. An applying entry's unit price for the quantity is the price of its highest quantity tier
//!    whose `min_quantity` is at most the quantity, else its plain price.
//! 3. Among the applying lists the **highest priority wins**; among equal priorities the
//!    **lowest unit price**; then the list created first. Priority lets a merchant say "the VIP
//!    list beats the summer sale" even when the sale is cheaper.
//! 4. When no list applies, the **base price** is the catalog's price in the currency, or — when
//!    the variant has none there — its price in another currency converted with the merchant's
//!    rate and rounding (the shop's default currency first, then the others by code).
//! 5. The compare-at price (struck through): a winning **sale** entry shows the base price when
//!    that is higher; a winning non-sale entry shows none; the base price shows the catalog's
//!    compare-at (converted like the price).
//!
//! [`decide`] is that rule; the storefront's prices, the cart's and the admin's "why this price"
//! (`explain`) all go through it, so what the admin explains is what shoppers pay.

pub(crate) mod http;
pub(crate) mod rates;
mod schema;
mod store;

use crate::PricingError;
use agora_catalog::{CatalogModule, VariantId};
use agora_customers::{CustomerGroupId, CustomersModule};
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::money::{Currency, Money};
use agora_kernel::{FieldError, TenantTx, Version};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use store::{EntryRow, ListRow, RateRow};

pub use rates::{CurrencyRate, CurrencyRatePatch, NewCurrencyRate};

agora_kernel::typed_id! {
    /// A price list.
    pub PriceListId
}

agora_kernel::typed_id! {
    /// A merchant's conversion rate between two currencies.
    pub CurrencyRateId
}

agora_kernel::text_enum! {
    /// Whether a price list is in force (in its dates) or being prepared.
    pub enum PriceListStatus {
        Draft = "draft",
        Active = "active",
    }
}

agora_kernel::text_enum! {
    /// How a converted price is finished: `none` (to the minor unit), `whole` (up to a whole
    /// unit), `ending_99` / `ending_95` (up to the next price ending in .99 / .95; in a currency
    /// without minor units, such as JPY, up to the next amount ending in 99 / 95: ¥1,234 → ¥1,299).
    pub enum PriceRounding {
        None = "none",
        Whole = "whole",
        Ending99 = "ending_99",
        Ending95 = "ending_95",
    }
}

/// Most entries one bulk upsert takes.
pub(crate) const MAX_ENTRIES_PER_CALL: usize = 1000;
/// Most quantity tiers one entry has.
const MAX_TIERS: usize = 20;
const MAX_QUANTITY: i32 = 1_000_000;

/// A price list as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct PriceList {
    pub id: PriceListId,
    pub name: String,
    /// Its prices are in this currency, and it applies to shoppers paying in it only.
    pub currency: Currency,
    /// The customer groups it is for; empty: everyone.
    pub customer_groups: Vec<CustomerGroupId>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Higher wins over lower when several lists apply.
    pub priority: i32,
    pub status: PriceListStatus,
    /// How many variants it prices.
    pub entry_count: i64,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    /// Bumped by every change to the list or its entries (`If-Match`).
    pub version: i64,
}

/// A new price list (a draft unless `status` says otherwise).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewPriceList {
    pub name: String,
    /// One of the currencies the shop sells in.
    pub currency: String,
    #[serde(default)]
    pub customer_groups: Vec<CustomerGroupId>,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    /// Default 0; from -1,000,000 to 1,000,000.
    pub priority: Option<i32>,
    pub status: Option<PriceListStatus>,
}

/// Changes to a price list; absent fields stay, `null` clears a date. The currency cannot
/// change (its entries are in it): make a new list.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PriceListPatch {
    pub name: Option<String>,
    pub customer_groups: Option<Vec<CustomerGroupId>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub starts_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub ends_at: Option<Option<DateTime<Utc>>>,
    pub priority: Option<i32>,
    pub status: Option<PriceListStatus>,
}

/// A unit price from a quantity on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PriceTier {
    /// From this many units on (at least 2; rising from one tier to the next).
    pub min_quantity: i32,
    pub price: Money,
}

/// A list's price for one variant.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct PriceListEntry {
    pub variant_id: VariantId,
    pub sku: Option<String>,
    pub price: Money,
    pub tiers: Vec<PriceTier>,
    /// Shown with the base price struck through (compare-at).
    pub sale: bool,
    pub modified_at: DateTime<Utc>,
}

/// One entry of a bulk upsert: the variant by `variant_id` or by `sku`.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PriceListEntryInput {
    pub variant_id: Option<VariantId>,
    pub sku: Option<String>,
    /// In the list's currency, not negative.
    pub price: Money,
    #[serde(default)]
    pub tiers: Vec<PriceTier>,
    #[serde(default)]
    pub sale: bool,
}

/// Entries to add or replace (by variant), up to 1,000 at once.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PriceListEntriesInput {
    pub entries: Vec<PriceListEntryInput>,
}

/// What a bulk upsert did.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct PriceListEntriesWritten {
    /// How many entries were added or replaced.
    pub written: usize,
    /// The list's version after the change (its new ETag).
    pub version: i64,
}

/// The price a shopper pays for one unit of a variant, and the struck-through one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
pub struct ShopperPrice {
    pub variant_id: VariantId,
    pub price: Money,
    pub compare_at: Option<Money>,
    /// The winning list; absent when the base price (or its conversion) is paid.
    pub price_list_id: Option<PriceListId>,
}

/// Prices for a set of variants, and until when they hold without any write (a list's window
/// opening or closing).
#[derive(Debug, Clone, Default)]
pub struct PriceSheet {
    pub prices: BTreeMap<VariantId, ShopperPrice>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// What an explanation is asked about.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
pub struct ExplainQuery {
    pub variant_id: VariantId,
    /// One the shop sells in; the shop's default when absent.
    pub currency: Option<String>,
    /// Units bought (tiers); default 1.
    pub quantity: Option<i32>,
    /// The shopper's group, by key or id; none: a shopper in no group.
    pub customer_group: Option<String>,
    /// The instant to price at (RFC 3339); default now.
    pub at: Option<DateTime<Utc>>,
}

/// Why this price: every candidate, whether it applied, and which one won.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct PriceExplanation {
    pub variant_id: VariantId,
    pub currency: Currency,
    pub quantity: i32,
    pub customer_groups: Vec<CustomerGroupId>,
    pub at: DateTime<Utc>,
    pub base: BaseCandidate,
    /// Every list with an entry for the variant, best first among those that apply.
    pub price_lists: Vec<ListCandidate>,
    /// `price_list` or `base`; absent when the variant has no price at all in the currency.
    pub winner: Option<String>,
    pub price: Option<Money>,
    pub compare_at: Option<Money>,
}

/// The catalog's base price in the currency, or how it was converted.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct BaseCandidate {
    pub price: Option<Money>,
    pub compare_at: Option<Money>,
    /// The catalog price it was converted from.
    pub converted_from: Option<Money>,
    /// The rate used, as a decimal (`1.085`).
    pub rate: Option<String>,
    pub rounding: Option<PriceRounding>,
    pub reason: String,
}

/// One price list's entry for the variant, and the verdict.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ListCandidate {
    pub price_list_id: PriceListId,
    pub name: String,
    pub currency: Currency,
    pub priority: i32,
    /// The entry's unit price for the quantity (its tier's, if one is reached).
    pub unit_price: Money,
    /// The tier that set `unit_price`, if any.
    pub tier_min_quantity: Option<i32>,
    pub sale: bool,
    pub applies: bool,
    pub won: bool,
    /// Why it applies or not, in the merchant's words.
    pub reason: String,
}

// ---- validation -------------------------------------------------------------------------

fn name(raw: &str) -> Result<String, PricingError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(PricingError::field("name", "1 to 200 characters"));
    }
    Ok(name.to_string())
}

/// The shop's sold currencies, for checking `currency` fields.
pub(crate) async fn sold(tx: &mut TenantTx<'_>) -> Result<(Currency, Vec<Currency>), PricingError> {
    let sold = CatalogModule::shop_currencies(tx).await.map_err(|e| PricingError::Catalog(Box::new(e)))?;
    let default = Currency::parse(&sold.default_currency).ok_or(PricingError::NotFound("shop currency"))?;
    Ok((default, sold.currencies.iter().filter_map(|c| Currency::parse(c)).collect()))
}

pub(crate) fn sold_currency(raw: &str, field: &str, sold: &[Currency]) -> Result<Currency, PricingError> {
    let code = raw.trim().to_ascii_uppercase();
    match Currency::parse(&code) {
        Some(c) if sold.contains(&c) => Ok(c),
        _ => Err(PricingError::field(
            field,
            format!(
                "one of the shop's currencies: {}",
                sold.iter().map(Currency::as_str).collect::<Vec<_>>().join(", ")
            ),
        )),
    }
}

fn window(starts: Option<DateTime<Utc>>, ends: Option<DateTime<Utc>>) -> Result<(), PricingError> {
    if let (Some(s), Some(e)) = (starts, ends) {
        if e <= s {
            return Err(PricingError::field("ends_at", "after starts_at"));
        }
    }
    Ok(())
}

fn priority(p: i32) -> Result<i32, PricingError> {
    if (-1_000_000..=1_000_000).contains(&p) {
        Ok(p)
    } else {
        Err(PricingError::field("priority", "a whole number from -1000000 to 1000000"))
    }
}

async fn groups(tx: &mut TenantTx<'_>, ids: &[CustomerGroupId]) -> Result<Vec<CustomerGroupId>, PricingError> {
    let mut ids = ids.to_vec();
    ids.sort();
    ids.dedup();
    let live = CustomersModule::live_groups(tx, &ids).await.map_err(|e| PricingError::Customers(Box::new(e)))?;
    let problems: Vec<FieldError> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !live.iter().any(|g| g.id == **id))
        .map(|(i, _)| FieldError::new(format!("customer_groups[{i}]"), "no customer group has this id"))
        .collect();
    if !problems.is_empty() {
        return Err(agora_kernel::CommonError::Invalid(problems).into());
    }
    Ok(ids)
}

fn to_list(row: ListRow, entry_count: i64) -> PriceList {
    PriceList {
        id: row.id,
        name: row.name,
        currency: row.currency,
        customer_groups: row.customer_groups.into_iter().map(CustomerGroupId::from_uuid).collect(),
        starts_at: row.starts_at,
        ends_at: row.ends_at,
        priority: row.priority,
        status: row.status,
        entry_count,
        created_at: row.created_at,
        modified_at: row.modified_at,
        version: row.version,
    }
}

// ---- lists ------------------------------------------------------------------------------

pub(crate) async fn create(tx: &mut TenantTx<'_>, new: NewPriceList) -> Result<PriceList, PricingError> {
    let name = name(&new.name)?;
    let (_, sold) = sold(tx).await?;
    let currency = sold_currency(&new.currency, "currency", &sold)?;
    window(new.starts_at, new.ends_at)?;
    let priority = priority(new.priority.unwrap_or(0))?;
    let groups = groups(tx, &new.customer_groups).await?;
    let fields = store::ListFields {
        name: &name,
        currency,
        customer_groups: groups.iter().map(|g| g.as_uuid()).collect(),
        starts_at: new.starts_at,
        ends_at: new.ends_at,
        priority,
        status: new.status.unwrap_or(PriceListStatus::Draft),
    };
    let stamp = tx.stamp();
    let row = store::insert_list(tx.conn(), PriceListId::new_v7(), &fields, &stamp).await?;
    tx.audit("pricing.price_list.created", Some(row.id.to_string()), serde_json::json!({"name": name})).await?;
    Ok(to_list(row, 0))
}

pub(crate) async fn list(tx: &mut TenantTx<'_>, page: &Keyset<DateTime<Utc>>) -> Result<Page<PriceList>, PricingError> {
    let rows = store::list_lists(tx.conn(), page).await?;
    let ids: Vec<PriceListId> = rows.iter().map(|r| r.id).collect();
    let counts = store::entry_counts(tx.conn(), &ids).await?;
    let lists = rows
        .into_iter()
        .map(|r| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            to_list(r, n)
        })
        .collect();
    Ok(page.page(lists, |l: &PriceList| (l.created_at, l.id.into())))
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: PriceListId) -> Result<PriceList, PricingError> {
    let row = store::find_list(tx.conn(), id, false).await?.ok_or(PricingError::NotFound("price list"))?;
    let n = store::entry_counts(tx.conn(), &[id]).await?.get(&id).copied().unwrap_or(0);
    Ok(to_list(row, n))
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    id: PriceListId,
    patch: PriceListPatch,
    expected: Option<i64>,
) -> Result<PriceList, PricingError> {
    let current = store::find_list(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("price list"))?;
    Version::check(expected, current.version)?;
    let name = match &patch.name {
        Some(n) => name(n)?,
        None => current.name.clone(),
    };
    let starts_at = patch.starts_at.unwrap_or(current.starts_at);
    let ends_at = patch.ends_at.unwrap_or(current.ends_at);
    window(starts_at, ends_at)?;
    let priority = priority(patch.priority.unwrap_or(current.priority))?;
    let groups: Vec<uuid::Uuid> = match &patch.customer_groups {
        Some(g) => groups(tx, g).await?.iter().map(|g| g.as_uuid()).collect(),
        None => current.customer_groups.clone(),
    };
    let fields = store::ListFields {
        name: &name,
        currency: current.currency,
        customer_groups: groups,
        starts_at,
        ends_at,
        priority,
        status: patch.status.unwrap_or(current.status),
    };
    let stamp = tx.stamp();
    let row = store::update_list(tx.conn(), id, &fields, &stamp).await?;
    tx.audit("pricing.price_list.updated", Some(id.to_string()), serde_json::json!({})).await?;
    let n = store::entry_counts(tx.conn(), &[id]).await?.get(&id).copied().unwrap_or(0);
    Ok(to_list(row, n))
}

pub(crate) async fn delete(tx: &mut TenantTx<'_>, id: PriceListId, expected: Option<i64>) -> Result<(), PricingError> {
    let current = store::find_list(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("price list"))?;
    Version::check(expected, current.version)?;
    let stamp = tx.stamp();
    store::delete_list(tx.conn(), id, &stamp).await?;
    tx.audit("pricing.price_list.deleted", Some(id.to_string()), serde_json::json!({"name": current.name})).await?;
    Ok(())
}

// ---- entries ----------------------------------------------------------------------------

pub(crate) async fn entries(
    tx: &mut TenantTx<'_>,
    id: PriceListId,
    page: &Keyset<DateTime<Utc>>,
) -> Result<Page<PriceListEntry>, PricingError> {
    let list = store::find_list(tx.conn(), id, false).await?.ok_or(PricingError::NotFound("price list"))?;
    let rows = store::list_entries(tx.conn(), id, list.currency, page).await?;
    let ids: Vec<VariantId> = rows.iter().map(|r| r.variant_id).collect();
    let skus = CatalogModule::live_variant_skus(tx, &ids).await?;
    let entries = rows
        .into_iter()
        .map(|r| PriceListEntry {
            sku: skus.get(&r.variant_id).cloned(),
            variant_id: r.variant_id,
            price: r.price,
            tiers: r.tiers(),
            sale: r.sale,
            modified_at: r.modified_at,
        })
        .collect();
    Ok(page.page(entries, |e: &PriceListEntry| (e.modified_at, e.variant_id.into())))
}

/// Checks every entry (all problems at once, each naming `entries[i].<field>`), finds the
/// variants (by id or SKU, one query each), and writes them in one statement.
pub(crate) async fn upsert_entries(
    tx: &mut TenantTx<'_>,
    id: PriceListId,
    input: PriceListEntriesInput,
    expected: Option<i64>,
) -> Result<PriceListEntriesWritten, PricingError> {
    let list = store::find_list(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("price list"))?;
    Version::check(expected, list.version)?;
    if input.entries.is_empty() || input.entries.len() > MAX_ENTRIES_PER_CALL {
        return Err(PricingError::field("entries", format!("1 to {MAX_ENTRIES_PER_CALL} entries")));
    }
    let skus: Vec<String> = input.entries.iter().filter_map(|e| e.sku.as_ref().map(|s| s.trim().to_string())).collect();
    let by_sku = if skus.is_empty() { BTreeMap::new() } else { CatalogModule::live_variants_by_sku(tx, &skus).await? };
    let ids: Vec<VariantId> = input.entries.iter().filter_map(|e| e.variant_id).collect();
    let live = if ids.is_empty() { BTreeMap::new() } else { CatalogModule::live_variant_skus(tx, &ids).await? };
    let mut problems = Vec::new();
    let mut rows: BTreeMap<VariantId, store::EntryFields> = BTreeMap::new();
    for (i, e) in input.entries.iter().enumerate() {
        let at = |f: &str| format!("entries[{i}].{f}");
        let variant = match (e.variant_id, e.sku.as_deref()) {
            (Some(v), _) if live.contains_key(&v) => Some(v),
            (Some(_), _) => {
                problems.push(FieldError::new(at("variant_id"), "no variant of the shop has this id"));
                None
            }
            (None, Some(sku)) => match by_sku.get(sku.trim()) {
                Some(v) => Some(*v),
                None => {
                    problems.push(FieldError::new(at("sku"), "no variant of the shop has this SKU"));
                    None
                }
            },
            (None, None) => {
                problems.push(FieldError::new(at("variant_id"), "give variant_id or sku"));
                None
            }
        };
        problems.extend(check_price(&e.price, list.currency, &at("price")));
        if e.tiers.len() > MAX_TIERS {
            problems.push(FieldError::new(at("tiers"), format!("at most {MAX_TIERS} tiers")));
        }
        let mut previous = 1;
        for (t, tier) in e.tiers.iter().enumerate() {
            let tier_at = |f: &str| format!("entries[{i}].tiers[{t}].{f}");
            if tier.min_quantity <= previous || tier.min_quantity > MAX_QUANTITY {
                problems.push(FieldError::new(
                    tier_at("min_quantity"),
                    format!("rising from one tier to the next, above {previous} and at most {MAX_QUANTITY}"),
                ));
            }
            previous = previous.max(tier.min_quantity);
            problems.extend(check_price(&tier.price, list.currency, &tier_at("price")));
        }
        if let Some(v) = variant {
            let tiers: Vec<(i32, i64)> = e.tiers.iter().map(|t| (t.min_quantity, t.price.amount)).collect();
            rows.insert(v, store::EntryFields { amount: e.price.amount, tiers, sale: e.sale });
        }
    }
    if !problems.is_empty() {
        return Err(agora_kernel::CommonError::Invalid(problems).into());
    }
    let stamp = tx.stamp();
    let written = rows.len();
    store::upsert_entries(tx.conn(), id, &rows, &stamp).await?;
    let version = store::touch_list(tx.conn(), id, &stamp).await?;
    tx.audit("pricing.price_list.entries_written", Some(id.to_string()), serde_json::json!({"count": written})).await?;
    Ok(PriceListEntriesWritten { written, version })
}

fn check_price(price: &Money, currency: Currency, field: &str) -> Vec<FieldError> {
    let mut problems = Vec::new();
    if price.currency != currency {
        problems.push(FieldError::new(format!("{field}.currency"), format!("the list's currency, {currency}")));
    }
    if price.amount < 0 {
        problems.push(FieldError::new(format!("{field}.amount"), "not negative"));
    }
    problems
}

pub(crate) async fn delete_entry(
    tx: &mut TenantTx<'_>,
    id: PriceListId,
    variant: VariantId,
    expected: Option<i64>,
) -> Result<i64, PricingError> {
    let list = store::find_list(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("price list"))?;
    Version::check(expected, list.version)?;
    if !store::delete_entry(tx.conn(), id, variant).await? {
        return Err(PricingError::NotFound("price list entry"));
    }
    let stamp = tx.stamp();
    let version = store::touch_list(tx.conn(), id, &stamp).await?;
    tx.audit("pricing.price_list.entry_deleted", Some(id.to_string()), serde_json::json!({"variant": variant})).await?;
    Ok(version)
}

// ---- the rule ---------------------------------------------------------------------------

/// A variant's base price in the requested currency and how it was found.
#[derive(Debug, Clone)]
pub(crate) struct Base {
    pub price: Money,
    pub compare_at: Option<Money>,
    /// `(catalog price, rate row)` when converted.
    pub converted: Option<(Money, RateRow)>,
}

/// Why a list does not apply, or `None` when it does.
fn not_applying(list: &ListRow, currency: Currency, groups: &[CustomerGroupId], at: DateTime<Utc>) -> Option<String> {
    if list.status != PriceListStatus::Active {
        return Some("a draft".into());
    }
    if list.currency != currency {
        return Some(format!("in {}, not {currency}", list.currency));
    }
    if let Some(starts) = list.starts_at.filter(|s| *s > at) {
        return Some(format!("starts at {}", starts.to_rfc3339()));
    }
    if let Some(ends) = list.ends_at.filter(|e| *e <= at) {
        return Some(format!("ended at {}", ends.to_rfc3339()));
    }
    if !list.customer_groups.is_empty() && !groups.iter().any(|g| list.customer_groups.contains(&g.as_uuid())) {
        return Some("for customer groups the shopper is not in".into());
    }
    None
}

/// The entry's unit price for `quantity` and the tier that set it.
fn unit_price(entry: &EntryRow, quantity: i32) -> (Money, Option<i32>) {
    entry
        .tiers()
        .into_iter()
        .filter(|t| t.min_quantity <= quantity)
        .max_by_key(|t| t.min_quantity)
        .map_or((entry.price, None), |t| (t.price, Some(t.min_quantity)))
}

/// What [`decide`] chose.
#[derive(Debug, Clone)]
pub(crate) struct Decision {
    pub price: Option<Money>,
    pub compare_at: Option<Money>,
    pub winner: Option<PriceListId>,
    /// Every candidate list with its unit price, tier and why it does not apply (`None`: it does).
    pub verdicts: Vec<(PriceListId, Money, Option<i32>, Option<String>)>,
}

/// The rule in the module doc, for one variant: `candidates` are the lists with an entry for it
/// (any status, currency or window: those that do not apply are given their reason).
pub(crate) fn decide(
    candidates: &[(&ListRow, &EntryRow)],
    base: Option<&Base>,
    currency: Currency,
    groups: &[CustomerGroupId],
    quantity: i32,
    at: DateTime<Utc>,
) -> Decision {
    let verdicts: Vec<(PriceListId, Money, Option<i32>, Option<String>)> = candidates
        .iter()
        .map(|(list, entry)| {
            let (price, tier) = unit_price(entry, quantity);
            (list.id, price, tier, not_applying(list, currency, groups, at))
        })
        .collect();
    let winner = candidates
        .iter()
        .zip(&verdicts)
        .filter(|(_, v)| v.3.is_none())
        // Highest priority, then lowest price, then the list created first (ids are time-ordered).
        .min_by(|((a, _), va), ((b, _), vb)| {
            b.priority.cmp(&a.priority).then(va.1.amount.cmp(&vb.1.amount)).then(a.id.cmp(&b.id))
        });
    match winner {
        Some(((list, entry), verdict)) => {
            let compare_at =
                if entry.sale { base.map(|b| b.price).filter(|b| b.amount > verdict.1.amount) } else { None };
            Decision { price: Some(verdict.1), compare_at, winner: Some(list.id), verdicts }
        }
        None => Decision {
            price: base.map(|b| b.price),
            compare_at: base.and_then(|b| b.compare_at),
            winner: None,
            verdicts,
        },
    }
}

/// Base prices of `variants` in `currency`: the catalog's, or converted (module doc, point 4).
/// Reads the catalog's prices (one query) and, only when a variant lacks one in the currency,
/// the rates into it and the shop's default currency.
pub(crate) async fn bases(
    tx: &mut TenantTx<'_>,
    variants: &[VariantId],
    currency: Currency,
) -> Result<HashMap<VariantId, Base>, PricingError> {
    let mut all: HashMap<VariantId, Vec<(Money, Option<Money>)>> = HashMap::new();
    for p in CatalogModule::base_prices(tx, variants).await? {
        all.entry(p.variant_id).or_default().push((p.price, p.compare_at));
    }
    let mut out = HashMap::new();
    let mut missing = Vec::new();
    for v in variants {
        match all.get(v).and_then(|ps| ps.iter().find(|(p, _)| p.currency == currency)) {
            Some((price, compare_at)) => {
                out.insert(*v, Base { price: *price, compare_at: *compare_at, converted: None });
            }
            None => missing.push(*v),
        }
    }
    if missing.is_empty() {
        return Ok(out);
    }
    let mut rates = store::rates_into(tx.conn(), currency).await?;
    if rates.is_empty() {
        return Ok(out);
    }
    let (default, _) = sold(tx).await?;
    rates.sort_by_key(|r| (r.from_currency != default, r.from_currency));
    for v in missing {
        let Some(prices) = all.get(&v) else { continue };
        let found =
            rates.iter().find_map(|r| prices.iter().find(|(p, _)| p.currency == r.from_currency).map(|p| (r, p)));
        if let Some((rate, (price, compare_at))) = found {
            let Some(converted) = rates::convert(*price, rate, currency) else { continue };
            let compare_at = compare_at.and_then(|c| rates::convert(c, rate, currency));
            out.insert(v, Base { price: converted, compare_at, converted: Some((*price, rate.clone())) });
        }
    }
    Ok(out)
}

/// Prices for `variants` as a shopper in `groups` sees them at `at`, buying `quantity` of each:
/// one query for the lists, one for the catalog's prices (plus the rates when converting),
/// however many variants.
pub(crate) async fn prices_for(
    tx: &mut TenantTx<'_>,
    variants: &[VariantId],
    currency: Currency,
    groups: &[CustomerGroupId],
    quantity: i32,
    at: DateTime<Utc>,
) -> Result<PriceSheet, PricingError> {
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(PricingError::field("quantity", format!("from 1 to {MAX_QUANTITY}")));
    }
    let rows = store::live_candidates(tx.conn(), variants, currency, at).await?;
    let bases = bases(tx, variants, currency).await?;
    // The answer holds until the next window edge among the lists read.
    let valid_until = rows.iter().flat_map(|(l, _)| [l.starts_at, l.ends_at]).flatten().filter(|t| *t > at).min();
    let mut by_variant: HashMap<VariantId, Vec<(&ListRow, &EntryRow)>> = HashMap::new();
    for (list, entry) in &rows {
        by_variant.entry(entry.variant_id).or_default().push((list, entry));
    }
    let mut prices = BTreeMap::new();
    for v in variants {
        let candidates = by_variant.get(v).map(Vec::as_slice).unwrap_or_default();
        let decision = decide(candidates, bases.get(v), currency, groups, quantity, at);
        if let Some(price) = decision.price {
            prices.insert(
                *v,
                ShopperPrice { variant_id: *v, price, compare_at: decision.compare_at, price_list_id: decision.winner },
            );
        }
    }
    Ok(PriceSheet { prices, valid_until })
}

/// Why this price: the same rule as [`prices_for`], with every candidate shown.
pub(crate) async fn explain(tx: &mut TenantTx<'_>, query: ExplainQuery) -> Result<PriceExplanation, PricingError> {
    let (default, sold) = sold(tx).await?;
    let currency = match &query.currency {
        Some(c) => sold_currency(c, "currency", &sold)?,
        None => default,
    };
    let quantity = query.quantity.unwrap_or(1);
    if !(1..=MAX_QUANTITY).contains(&quantity) {
        return Err(PricingError::field("quantity", format!("from 1 to {MAX_QUANTITY}")));
    }
    let groups =
        match query.customer_group.as_deref().map(str::trim).filter(|g| !g.is_empty()) {
            None => Vec::new(),
            Some(g) => match g.parse::<uuid::Uuid>() {
                Ok(id) => {
                    let id = CustomerGroupId::from_uuid(id);
                    if CustomersModule::live_groups(tx, &[id])
                        .await
                        .map_err(|e| PricingError::Customers(Box::new(e)))?
                        .is_empty()
                    {
                        return Err(PricingError::field("customer_group", "no customer group has this id"));
                    }
                    vec![id]
                }
                Err(_) => CustomersModule::group_ids_by_key(tx, &[g.to_string()], "customer_group").await.map_err(
                    |e| match e {
                        // Only an unknown key is the caller's mistake; the database failing is not.
                        agora_customers::CustomersError::Common(agora_kernel::CommonError::Invalid(_)) => {
                            PricingError::field("customer_group", "no customer group has this key")
                        }
                        other => PricingError::Customers(Box::new(other)),
                    },
                )?,
            },
        };
    let at = query.at.unwrap_or_else(Utc::now);
    let variant = query.variant_id;
    if CatalogModule::live_variant_skus(tx, &[variant]).await?.is_empty() {
        return Err(PricingError::NotFound("variant"));
    }
    let rows = store::all_candidates(tx.conn(), variant).await?;
    let bases = bases(tx, &[variant], currency).await?;
    let base = bases.get(&variant);
    let candidates: Vec<(&ListRow, &EntryRow)> = rows.iter().map(|(l, e)| (l, e)).collect();
    let decision = decide(&candidates, base, currency, &groups, quantity, at);
    let mut price_lists: Vec<ListCandidate> = candidates
        .iter()
        .zip(&decision.verdicts)
        .map(|((list, entry), (id, unit, tier, why))| ListCandidate {
            price_list_id: *id,
            name: list.name.clone(),
            currency: list.currency,
            priority: list.priority,
            unit_price: *unit,
            tier_min_quantity: *tier,
            sale: entry.sale,
            applies: why.is_none(),
            won: decision.winner == Some(*id),
            reason: match (why, decision.winner == Some(*id)) {
                (Some(why), _) => format!("does not apply: {why}"),
                (None, true) => "applies and wins: highest priority, then lowest price".into(),
                (None, false) => "applies, but another list wins (higher priority, or lower price)".into(),
            },
        })
        .collect();
    price_lists.sort_by_key(|c| (!c.won, !c.applies, -c.priority, c.unit_price.amount));
    let base_candidate = match base {
        Some(b) => BaseCandidate {
            price: Some(b.price),
            compare_at: b.compare_at,
            converted_from: b.converted.as_ref().map(|(from, _)| *from),
            rate: b.converted.as_ref().map(|(_, r)| rates::rate_text(r.rate_micros)),
            rounding: b.converted.as_ref().map(|(_, r)| r.rounding),
            reason: match (&b.converted, decision.winner) {
                (None, None) => format!("the catalog's price in {currency}; no price list applies, so it is paid"),
                (None, Some(_)) => format!("the catalog's price in {currency}; a price list wins over it"),
                (Some((from, r)), w) => format!(
                    "no catalog price in {currency}: {} {} at the shop's rate {} ({}){}",
                    from.to_major_string(),
                    from.currency,
                    rates::rate_text(r.rate_micros),
                    r.rounding,
                    if w.is_some() { "; a price list wins over it" } else { "; no price list applies, so it is paid" }
                ),
            },
        },
        None => BaseCandidate {
            price: None,
            compare_at: None,
            converted_from: None,
            rate: None,
            rounding: None,
            reason: format!("no catalog price in {currency} and no conversion rate into it from a currency the variant has a price in"),
        },
    };
    Ok(PriceExplanation {
        variant_id: variant,
        currency,
        quantity,
        customer_groups: groups,
        at,
        base: base_candidate,
        price_lists,
        winner: match (decision.winner, decision.price) {
            (Some(_), _) => Some("price_list".into()),
            (None, Some(_)) => Some("base".into()),
            (None, None) => None,
        },
        price: decision.price,
        compare_at: decision.compare_at,
    })
}
