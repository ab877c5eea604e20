//! Shipping: where a shop delivers (zones), how and at what price (methods), and how fast.
//!
//! - A **zone** is a set of countries, optionally narrowed to regions (`NY`) and postcodes
//!   (`75001` exact, `SW1*` prefix, `10000-14999` a range of digits). A destination belongs to
//!   the **most specific** zone matching it: one naming its postcode beats one naming its region,
//!   which beats one naming only its country; between equally specific zones the older wins. So
//!   "Germany" and "Berlin 10000-14999" can coexist: Berlin addresses see Berlin's methods only.
//! - A **method** prices in one currency (a shop selling in two keeps a method per currency):
//!   `flat`, by `weight` bands (grams) or by `order_value` bands, each band the price up to and
//!   including its bound, the last one possibly open. A method may be free from an order value
//!   on (`free_above`), and is offered only within its bounds (order value, weight). A weight
//!   or order value beyond its last closed band means the method does not apply.
//! - The order value a cart hands in is what the shopper pays for the goods after discounts, in
//!   the shop's price convention (tax included where prices include it), so "free above 50 €"
//!   means what the shopper reads.
//! - Delivery estimates are business days (`min_days`–`max_days`), shown as given.
//!
//! Local pickup is not a method: the cart offers the inventory's pickup locations beside these.

pub(crate) mod http;
mod store;

use crate::error::PricingError;
use agora_kernel::error::{CommonError, FieldError};
use agora_kernel::money::{Currency, Money};
use agora_kernel::{TenantTx, Version};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};
use store::{MethodFields, MethodRow, ZoneFields, ZoneRow};

agora_kernel::typed_id! {
    /// Where a shop delivers: countries, regions, postcodes.
    pub ShippingZoneId
}

agora_kernel::typed_id! {
    /// A way of delivering to a zone, with its price.
    pub ShippingMethodId
}

agora_kernel::text_enum! {
    /// How a shipping method's price is worked out.
    pub enum ShippingRateKind {
        /// One price.
        Flat = "flat",
        /// By the parcel's weight, in bands of grams.
        Weight = "weight",
        /// By the order's value, in bands.
        OrderValue = "order_value",
    }
}

const MAX_BANDS: usize = 50;
const MAX_AREAS: usize = 500;

/// A new shipping zone.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewShippingZone {
    /// Unique among the shop's zones; 1–200 characters.
    pub name: String,
    /// ISO 3166-1 alpha-2 codes in capitals (`DE`), at least one.
    pub countries: Vec<String>,
    /// Subdivision codes (`NY`, `BY`); absent or empty: the whole countries.
    pub regions: Option<Vec<String>>,
    /// `75001` (exact), `SW1*` (prefix), `10000-14999` (digits, inclusive); absent or empty: all.
    pub postcodes: Option<Vec<String>>,
}

/// Changes to a zone; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ShippingZonePatch {
    pub name: Option<String>,
    pub countries: Option<Vec<String>>,
    pub regions: Option<Vec<String>>,
    pub postcodes: Option<Vec<String>>,
}

/// A shipping zone with its methods.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ShippingZone {
    pub id: ShippingZoneId,
    pub name: String,
    pub countries: Vec<String>,
    pub regions: Vec<String>,
    pub postcodes: Vec<String>,
    /// Its methods, in their display order.
    pub methods: Vec<ShippingMethod>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// The shop's shipping zones.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ShippingZoneList {
    pub items: Vec<ShippingZone>,
}

/// One band of a weight or order-value price: `price` up to and including `up_to`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct RateBand {
    /// Grams (weight) or minor units of the method's currency (order value); absent on the
    /// last band: no upper bound.
    pub up_to: Option<i64>,
    pub price: Money,
}

/// A shipping method, whole: to create one or replace one.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ShippingMethodInput {
    /// 1–200 characters, shown to shoppers ("Standard", "Express").
    pub name: String,
    /// Up to 2,000 characters.
    pub description: Option<String>,
    pub kind: ShippingRateKind,
    /// The currency every amount of the method is in; one the shop sells.
    pub currency: Currency,
    /// The price of a `flat` method.
    pub price: Option<Money>,
    /// The bands of a `weight` or `order_value` method, ascending; up to 50.
    pub bands: Option<Vec<RateBand>>,
    /// Free from this order value on.
    pub free_above: Option<Money>,
    /// Offered only from this order value on.
    pub min_order_value: Option<Money>,
    /// Offered only up to this order value.
    pub max_order_value: Option<Money>,
    /// Offered only up to this weight.
    pub max_weight_grams: Option<i64>,
    /// Business days to delivery, at least (0–365).
    pub min_days: Option<i32>,
    /// Business days to delivery, at most (0–365, not below `min_days`).
    pub max_days: Option<i32>,
    /// Inactive methods are never offered (default true).
    pub active: Option<bool>,
    /// Display order among the zone's methods, lower first (default 0).
    pub position: Option<i32>,
}

/// A shipping method.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ShippingMethod {
    pub id: ShippingMethodId,
    pub zone_id: ShippingZoneId,
    pub name: String,
    pub description: Option<String>,
    pub kind: ShippingRateKind,
    pub currency: Currency,
    pub price: Option<Money>,
    pub bands: Vec<RateBand>,
    pub free_above: Option<Money>,
    pub min_order_value: Option<Money>,
    pub max_order_value: Option<Money>,
    pub max_weight_grams: Option<i64>,
    pub min_days: Option<i32>,
    pub max_days: Option<i32>,
    pub active: bool,
    pub position: i32,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// Where a parcel goes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct Destination {
    /// ISO 3166-1 alpha-2 (`DE`).
    pub country: String,
    /// Subdivision code (`NY`).
    pub region: Option<String>,
    pub postal_code: Option<String>,
}

/// What a shipment is quoted for.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ShippingQuery {
    pub destination: Destination,
    /// The goods' value after discounts, in the currency quoted.
    pub order_value: Money,
    /// The parcel's weight in grams (default 0).
    pub weight_grams: Option<i64>,
}

/// How long delivery takes, in business days.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Apiv2Schema)]
pub struct DeliveryEstimate {
    pub min_days: Option<i32>,
    pub max_days: Option<i32>,
}

/// A method a shipment can go by, and its price for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
pub struct ShippingOption {
    pub method_id: ShippingMethodId,
    pub name: String,
    pub description: Option<String>,
    pub price: Money,
    /// Free because the order value reached the method's `free_above`.
    pub free: bool,
    pub estimate: DeliveryEstimate,
}

/// The methods a shipment can go by, cheapest first.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ShippingOptions {
    /// The zone the destination belongs to; absent when the shop does not deliver there.
    pub zone_id: Option<ShippingZoneId>,
    pub options: Vec<ShippingOption>,
}

/// The countries a shop delivers to (zones with an active method).
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ShippingCountries {
    pub countries: Vec<String>,
}

// --- Rules ------------------------------------------------------------------------------------

/// Field problems gathered, so one answer names every wrong field.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn done(self) -> Result<(), PricingError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(PricingError::Common(CommonError::Invalid(self.0)))
        }
    }
}

fn is_country(c: &str) -> bool {
    c.len() == 2 && c.bytes().all(|b| b.is_ascii_uppercase())
}

fn text(problems: &mut Problems, field: &str, raw: &str, max: usize) -> String {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > max {
        problems.add(field, format!("1 to {max} characters"));
    }
    value.to_string()
}

/// A postcode as compared: capitals, no spaces or dashes inside (`sw1a 1aa` is `SW1A1AA`).
fn normalize_postcode(raw: &str) -> String {
    raw.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// A zone's postcode pattern, checked.
#[derive(Debug, Clone, PartialEq)]
enum PostcodePattern {
    Exact(String),
    Prefix(String),
    /// Two bounds of digits of one length; a postcode matches when it has that length too.
    Range(String, String),
}

impl PostcodePattern {
    fn parse(raw: &str) -> Option<Self> {
        let raw = raw.trim();
        if let Some(prefix) = raw.strip_suffix('*') {
            let prefix = normalize_postcode(prefix);
            return (!prefix.is_empty() && prefix.len() <= 12).then_some(PostcodePattern::Prefix(prefix));
        }
        if let Some((low, high)) = raw.split_once('-').filter(|(l, h)| is_digits(l.trim()) && is_digits(h.trim())) {
            let (low, high) = (low.trim().to_string(), high.trim().to_string());
            return (low.len() == high.len() && low.len() <= 12 && low <= high)
                .then_some(PostcodePattern::Range(low, high));
        }
        let exact = normalize_postcode(raw);
        (!exact.is_empty() && exact.len() <= 12).then_some(PostcodePattern::Exact(exact))
    }

    fn matches(&self, postcode: &str) -> bool {
        match self {
            PostcodePattern::Exact(e) => postcode == e,
            PostcodePattern::Prefix(p) => postcode.starts_with(p.as_str()),
            // Same-length digit strings compare as their numbers do.
            PostcodePattern::Range(low, high) => {
                postcode.len() == low.len()
                    && is_digits(postcode)
                    && low.as_str() <= postcode
                    && postcode <= high.as_str()
            }
        }
    }
}

fn is_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

struct ZoneInput {
    name: String,
    countries: Vec<String>,
    regions: Vec<String>,
    postcodes: Vec<String>,
}

fn checked_zone(input: ZoneInput) -> Result<ZoneInput, PricingError> {
    let mut problems = Problems::default();
    let name = text(&mut problems, "name", &input.name, 200);
    if input.countries.is_empty() {
        problems.add("countries", "at least one country");
    }
    for (list, field) in [(&input.countries, "countries"), (&input.regions, "regions"), (&input.postcodes, "postcodes")]
    {
        if list.len() > MAX_AREAS {
            problems.add(field, format!("at most {MAX_AREAS}"));
        }
    }
    let mut countries = Vec::new();
    for (i, c) in input.countries.iter().enumerate() {
        if is_country(c) {
            countries.push(c.clone());
        } else {
            problems.add(format!("countries[{i}]"), "an ISO 3166-1 alpha-2 country code in capitals (DE)");
        }
    }
    let mut regions = Vec::new();
    for (i, r) in input.regions.iter().enumerate() {
        let region = r.trim().to_ascii_uppercase();
        if region.is_empty() || region.len() > 10 || !region.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            problems.add(format!("regions[{i}]"), "a subdivision code of 1 to 10 letters or digits (NY)");
        } else {
            regions.push(region);
        }
    }
    let mut postcodes = Vec::new();
    for (i, p) in input.postcodes.iter().enumerate() {
        if PostcodePattern::parse(p).is_some() {
            postcodes.push(p.trim().to_string());
        } else {
            problems.add(
                format!("postcodes[{i}]"),
                "a postcode (75001), a prefix (SW1*) or a range of equally long digits, low to high (10000-14999)",
            );
        }
    }
    problems.done()?;
    for list in [&mut countries, &mut regions, &mut postcodes] {
        list.sort();
        list.dedup();
    }
    Ok(ZoneInput { name, countries, regions, postcodes })
}

/// How specific a zone's match of `destination` is, or `None` when it does not match: a zone
/// naming postcodes (2) beats one naming regions (1), which beats one naming countries (0).
fn specificity(zone: &ZoneRow, destination: &Destination) -> Option<u8> {
    if !zone.countries.contains(&destination.country) {
        return None;
    }
    let mut score = 0;
    if !zone.regions.is_empty() {
        let region = destination.region.as_deref().map(|r| r.trim().to_ascii_uppercase())?;
        if !zone.regions.contains(&region) {
            return None;
        }
        score = 1;
    }
    if !zone.postcodes.is_empty() {
        let postcode = destination.postal_code.as_deref().map(normalize_postcode)?;
        if !zone.postcodes.iter().filter_map(|p| PostcodePattern::parse(p)).any(|p| p.matches(&postcode)) {
            return None;
        }
        score = 2;
    }
    Some(score)
}

/// The zone `destination` belongs to: the most specific match, the oldest among equals (zones
/// come oldest first).
fn zone_of<'a>(zones: &'a [ZoneRow], destination: &Destination) -> Option<&'a ZoneRow> {
    let mut best: Option<(&ZoneRow, u8)> = None;
    for zone in zones {
        if let Some(score) = specificity(zone, destination) {
            if best.is_none_or(|(_, s)| score > s) {
                best = Some((zone, score));
            }
        }
    }
    best.map(|(zone, _)| zone)
}

fn same_currency(problems: &mut Problems, field: &str, money: &Option<Money>, currency: Currency) {
    if let Some(m) = money {
        if m.currency != currency {
            problems.add(field, format!("must be in the method's currency {currency}"));
        } else if m.amount < 0 {
            problems.add(field, "must not be negative");
        }
    }
}

fn checked_method(input: &ShippingMethodInput, sold: &[String]) -> Result<MethodFields, PricingError> {
    let mut problems = Problems::default();
    let name = text(&mut problems, "name", &input.name, 200);
    let description = input.description.as_deref().map(str::trim).filter(|d| !d.is_empty()).map(str::to_string);
    if description.as_ref().is_some_and(|d| d.chars().count() > 2000) {
        problems.add("description", "at most 2000 characters");
    }
    let currency = input.currency;
    if !sold.iter().any(|c| c == currency.as_str()) {
        problems.add("currency", format!("the shop does not sell in {currency} (it sells {})", sold.join(", ")));
    }
    same_currency(&mut problems, "price", &input.price, currency);
    same_currency(&mut problems, "free_above", &input.free_above, currency);
    same_currency(&mut problems, "min_order_value", &input.min_order_value, currency);
    same_currency(&mut problems, "max_order_value", &input.max_order_value, currency);
    if let (Some(min), Some(max)) = (&input.min_order_value, &input.max_order_value) {
        if min.amount > max.amount {
            problems.add("max_order_value", "must not be below min_order_value");
        }
    }
    if input.max_weight_grams.is_some_and(|w| w < 0) {
        problems.add("max_weight_grams", "must not be negative");
    }
    for (field, days) in [("min_days", input.min_days), ("max_days", input.max_days)] {
        if days.is_some_and(|d| !(0..=365).contains(&d)) {
            problems.add(field, "0 to 365 business days");
        }
    }
    if let (Some(min), Some(max)) = (input.min_days, input.max_days) {
        if min > max {
            problems.add("max_days", "must not be below min_days");
        }
    }
    let bands = input.bands.clone().unwrap_or_default();
    match input.kind {
        ShippingRateKind::Flat => {
            if input.price.is_none() {
                problems.add("price", "a flat method needs its price");
            }
            if !bands.is_empty() {
                problems.add("bands", "a flat method has no bands");
            }
        }
        ShippingRateKind::Weight | ShippingRateKind::OrderValue => {
            if input.price.is_some() {
                problems.add("price", "a method priced by bands has no single price");
            }
            if bands.is_empty() || bands.len() > MAX_BANDS {
                problems.add("bands", format!("1 to {MAX_BANDS} bands"));
            }
            let mut previous: Option<i64> = None;
            for (i, band) in bands.iter().enumerate() {
                same_currency(&mut problems, &format!("bands[{i}].price"), &Some(band.price), currency);
                match band.up_to {
                    None if i + 1 < bands.len() => {
                        problems.add(format!("bands[{i}].up_to"), "only the last band may be open");
                    }
                    Some(up_to) if up_to < 0 || previous.is_some_and(|p| up_to <= p) => {
                        problems.add(format!("bands[{i}].up_to"), "bands must rise: above the previous band's bound");
                    }
                    _ => {}
                }
                previous = band.up_to.or(previous);
            }
        }
    }
    problems.done()?;
    Ok(MethodFields {
        name,
        description,
        kind: input.kind,
        currency,
        price: input.price.map(|p| p.amount),
        bands: serde_json::to_value(bands.iter().map(|b| (b.up_to, b.price.amount)).collect::<Vec<_>>())
            .map_err(|e| PricingError::field("bands", e.to_string()))?,
        free_above: input.free_above.map(|m| m.amount),
        min_order: input.min_order_value.map(|m| m.amount),
        max_order: input.max_order_value.map(|m| m.amount),
        max_weight_grams: input.max_weight_grams,
        min_days: input.min_days,
        max_days: input.max_days,
        active: input.active.unwrap_or(true),
        position: input.position.unwrap_or(0),
    })
}

/// What `method` costs for a shipment of `value` and `weight`, or `None` when it is not
/// offered for it.
fn quote(method: &ShippingMethod, value: Money, weight: i64) -> Option<ShippingOption> {
    if !method.active || method.currency != value.currency {
        return None;
    }
    let within = method.min_order_value.is_none_or(|m| value.amount >= m.amount)
        && method.max_order_value.is_none_or(|m| value.amount <= m.amount)
        && method.max_weight_grams.is_none_or(|m| weight <= m);
    if !within {
        return None;
    }
    let band =
        |measure: i64| method.bands.iter().find(|b| b.up_to.is_none_or(|up_to| measure <= up_to)).map(|b| b.price);
    let price = match method.kind {
        ShippingRateKind::Flat => method.price?,
        ShippingRateKind::Weight => band(weight)?,
        ShippingRateKind::OrderValue => band(value.amount)?,
    };
    let free = method.free_above.is_some_and(|f| value.amount >= f.amount) && price.amount > 0;
    Some(ShippingOption {
        method_id: method.id,
        name: method.name.clone(),
        description: method.description.clone(),
        price: if free { Money::zero(value.currency) } else { price },
        free,
        estimate: DeliveryEstimate { min_days: method.min_days, max_days: method.max_days },
    })
}

fn checked_destination(destination: &Destination, field: &str) -> Result<Destination, PricingError> {
    let mut problems = Problems::default();
    if !is_country(&destination.country) {
        problems.add(format!("{field}.country"), "an ISO 3166-1 alpha-2 country code in capitals (DE)");
    }
    for (name, value) in [("region", &destination.region), ("postal_code", &destination.postal_code)] {
        if value.as_deref().is_some_and(|v| v.chars().count() > 20) {
            problems.add(format!("{field}.{name}"), "at most 20 characters");
        }
    }
    problems.done()?;
    Ok(destination.clone())
}

fn to_method(row: MethodRow) -> ShippingMethod {
    let currency = row.currency;
    let money = |amount: Option<i64>| amount.map(|a| Money::new(a, currency));
    let bands: Vec<(Option<i64>, i64)> = serde_json::from_value(row.bands).unwrap_or_default();
    ShippingMethod {
        id: row.id,
        zone_id: row.zone_id,
        name: row.name,
        description: row.description,
        kind: row.kind,
        currency,
        price: money(row.price_amount),
        bands: bands.into_iter().map(|(up_to, price)| RateBand { up_to, price: Money::new(price, currency) }).collect(),
        free_above: money(row.free_above_amount),
        min_order_value: money(row.min_order_amount),
        max_order_value: money(row.max_order_amount),
        max_weight_grams: row.max_weight_grams,
        min_days: row.min_days,
        max_days: row.max_days,
        active: row.active,
        position: row.position,
        created_at: row.created_at,
        modified_at: row.modified_at,
        version: row.version,
    }
}

fn to_zone(row: ZoneRow, methods: &mut Vec<MethodRow>) -> ShippingZone {
    let (mine, others): (Vec<MethodRow>, Vec<MethodRow>) = methods.drain(..).partition(|m| m.zone_id == row.id);
    *methods = others;
    ShippingZone {
        id: row.id,
        name: row.name,
        countries: row.countries,
        regions: row.regions,
        postcodes: row.postcodes,
        methods: mine.into_iter().map(to_method).collect(),
        created_at: row.created_at,
        modified_at: row.modified_at,
        version: row.version,
    }
}

/// A unique-name violation is the merchant's duplicate, not a server error.
fn name_taken(e: diesel::result::Error) -> PricingError {
    match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            PricingError::field("name", "another shipping zone has this name")
        }
        other => PricingError::from(other),
    }
}

// --- Operations (each inside the caller's transaction) ------------------------------------------

pub(crate) async fn zones(tx: &mut TenantTx<'_>) -> Result<Vec<ShippingZone>, PricingError> {
    let rows = store::zones(tx.conn()).await?;
    let mut methods = store::methods(tx.conn(), None).await?;
    Ok(rows.into_iter().map(|z| to_zone(z, &mut methods)).collect())
}

pub(crate) async fn zone(tx: &mut TenantTx<'_>, id: ShippingZoneId) -> Result<ShippingZone, PricingError> {
    let row = store::zone(tx.conn(), id, false).await?.ok_or(PricingError::NotFound("shipping zone"))?;
    let mut methods = store::methods(tx.conn(), Some(id)).await?;
    Ok(to_zone(row, &mut methods))
}

pub(crate) async fn create_zone(tx: &mut TenantTx<'_>, new: NewShippingZone) -> Result<ShippingZone, PricingError> {
    let input = checked_zone(ZoneInput {
        name: new.name,
        countries: new.countries,
        regions: new.regions.unwrap_or_default(),
        postcodes: new.postcodes.unwrap_or_default(),
    })?;
    let fields = ZoneFields {
        name: &input.name,
        countries: &input.countries,
        regions: &input.regions,
        postcodes: &input.postcodes,
    };
    let stamp = tx.stamp();
    let row = store::insert_zone(tx.conn(), ShippingZoneId::new_v7(), &fields, &stamp).await.map_err(name_taken)?;
    tx.audit("pricing.shipping_zone.created", Some(row.id.to_string()), serde_json::json!({"name": input.name}))
        .await?;
    Ok(to_zone(row, &mut Vec::new()))
}

pub(crate) async fn update_zone(
    tx: &mut TenantTx<'_>,
    id: ShippingZoneId,
    patch: ShippingZonePatch,
    expected: Option<i64>,
) -> Result<ShippingZone, PricingError> {
    let current = store::zone(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("shipping zone"))?;
    Version::check(expected, current.version)?;
    let input = checked_zone(ZoneInput {
        name: patch.name.unwrap_or(current.name),
        countries: patch.countries.unwrap_or(current.countries),
        regions: patch.regions.unwrap_or(current.regions),
        postcodes: patch.postcodes.unwrap_or(current.postcodes),
    })?;
    let fields = ZoneFields {
        name: &input.name,
        countries: &input.countries,
        regions: &input.regions,
        postcodes: &input.postcodes,
    };
    let stamp = tx.stamp();
    store::update_zone(tx.conn(), id, &fields, &stamp).await.map_err(name_taken)?;
    tx.audit("pricing.shipping_zone.updated", Some(id.to_string()), serde_json::json!({})).await?;
    zone(tx, id).await
}

pub(crate) async fn delete_zone(
    tx: &mut TenantTx<'_>,
    id: ShippingZoneId,
    expected: Option<i64>,
) -> Result<(), PricingError> {
    let current = store::zone(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("shipping zone"))?;
    Version::check(expected, current.version)?;
    let stamp = tx.stamp();
    store::delete_zone(tx.conn(), id, &stamp).await?;
    tx.audit("pricing.shipping_zone.deleted", Some(id.to_string()), serde_json::json!({"name": current.name})).await?;
    Ok(())
}

pub(crate) async fn create_method(
    tx: &mut TenantTx<'_>,
    zone: ShippingZoneId,
    input: ShippingMethodInput,
    sold: &[String],
) -> Result<ShippingMethod, PricingError> {
    // The zone's row is locked so a method is never added to a zone being deleted.
    store::zone(tx.conn(), zone, true).await?.ok_or(PricingError::NotFound("shipping zone"))?;
    let fields = checked_method(&input, sold)?;
    let stamp = tx.stamp();
    let row = store::insert_method(tx.conn(), ShippingMethodId::new_v7(), zone, &fields, &stamp).await?;
    tx.audit("pricing.shipping_method.created", Some(row.id.to_string()), serde_json::json!({"zone_id": zone})).await?;
    Ok(to_method(row))
}

pub(crate) async fn method(tx: &mut TenantTx<'_>, id: ShippingMethodId) -> Result<ShippingMethod, PricingError> {
    store::method(tx.conn(), id, false).await?.map(to_method).ok_or(PricingError::NotFound("shipping method"))
}

pub(crate) async fn replace_method(
    tx: &mut TenantTx<'_>,
    id: ShippingMethodId,
    input: ShippingMethodInput,
    expected: Option<i64>,
    sold: &[String],
) -> Result<ShippingMethod, PricingError> {
    let current = store::method(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("shipping method"))?;
    Version::check(expected, current.version)?;
    let fields = checked_method(&input, sold)?;
    let stamp = tx.stamp();
    let row = store::update_method(tx.conn(), id, &fields, &stamp).await?;
    tx.audit("pricing.shipping_method.updated", Some(id.to_string()), serde_json::json!({})).await?;
    Ok(to_method(row))
}

pub(crate) async fn delete_method(
    tx: &mut TenantTx<'_>,
    id: ShippingMethodId,
    expected: Option<i64>,
) -> Result<(), PricingError> {
    let current = store::method(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("shipping method"))?;
    Version::check(expected, current.version)?;
    let stamp = tx.stamp();
    store::delete_method(tx.conn(), id, &stamp).await?;
    tx.audit("pricing.shipping_method.deleted", Some(id.to_string()), serde_json::json!({"name": current.name}))
        .await?;
    Ok(())
}

/// The methods a shipment to `query.destination` can go by, cheapest first (then in the
/// merchant's order).
pub(crate) async fn options(tx: &mut TenantTx<'_>, query: &ShippingQuery) -> Result<ShippingOptions, PricingError> {
    let destination = checked_destination(&query.destination, "destination")?;
    let weight = query.weight_grams.unwrap_or(0);
    if weight < 0 {
        return Err(PricingError::field("weight_grams", "must not be negative"));
    }
    let zones = store::zones(tx.conn()).await?;
    let Some(zone) = zone_of(&zones, &destination) else {
        return Ok(ShippingOptions { zone_id: None, options: Vec::new() });
    };
    let methods = store::methods(tx.conn(), Some(zone.id)).await?;
    let mut options: Vec<ShippingOption> =
        methods.into_iter().map(to_method).filter_map(|m| quote(&m, query.order_value, weight)).collect();
    // Stable: equal prices keep the merchant's order.
    options.sort_by_key(|o| o.price.amount);
    Ok(ShippingOptions { zone_id: Some(zone.id), options })
}

/// What `method` costs for the shipment, or 422 `field` when it is not offered for it (the
/// cart's chosen method, re-checked whenever the cart changes).
pub(crate) async fn option(
    tx: &mut TenantTx<'_>,
    method: ShippingMethodId,
    query: &ShippingQuery,
    field: &str,
) -> Result<ShippingOption, PricingError> {
    options(tx, query)
        .await?
        .options
        .into_iter()
        .find(|o| o.method_id == method)
        .ok_or_else(|| PricingError::field(field, "this shipping method does not deliver this order to this address"))
}

pub(crate) async fn countries(tx: &mut TenantTx<'_>) -> Result<ShippingCountries, PricingError> {
    Ok(ShippingCountries { countries: store::countries_served(tx.conn()).await? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(name: &str, countries: &[&str], regions: &[&str], postcodes: &[&str]) -> ZoneRow {
        let strings = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect();
        ZoneRow {
            id: ShippingZoneId::new_v7(),
            name: name.into(),
            countries: strings(countries),
            regions: strings(regions),
            postcodes: strings(postcodes),
            created_at: Utc::now(),
            modified_at: Utc::now(),
            version: 1,
        }
    }

    fn to(country: &str, region: Option<&str>, postcode: Option<&str>) -> Destination {
        Destination { country: country.into(), region: region.map(Into::into), postal_code: postcode.map(Into::into) }
    }

    #[test]
    fn the_most_specific_zone_wins_and_the_older_among_equals() {
        let zones = vec![
            zone("Germany", &["DE", "AT"], &[], &[]),
            zone("Berlin", &["DE"], &[], &["10000-14999"]),
            zone("Germany again", &["DE"], &[], &[]),
            zone("New York", &["US"], &["NY"], &[]),
            zone("London", &["GB"], &[], &["SW1*", "EC1A 1BB"]),
        ];
        let name = |d: Destination| zone_of(&zones, &d).map(|z| z.name.clone());
        assert_eq!(name(to("DE", None, Some("10115"))).as_deref(), Some("Berlin"));
        assert_eq!(name(to("DE", None, Some("80331"))).as_deref(), Some("Germany"));
        assert_eq!(name(to("DE", None, None)).as_deref(), Some("Germany"));
        assert_eq!(name(to("DE", None, Some("1011"))).as_deref(), Some("Germany"), "a shorter code is not in range");
        assert_eq!(name(to("AT", None, Some("10115"))).as_deref(), Some("Germany"));
        assert_eq!(name(to("US", Some("ny"), None)).as_deref(), Some("New York"));
        assert_eq!(name(to("US", Some("CA"), None)), None);
        assert_eq!(name(to("US", None, None)), None, "a region zone needs the region");
        assert_eq!(name(to("GB", None, Some("sw1a 1aa"))).as_deref(), Some("London"));
        assert_eq!(name(to("GB", None, Some("ec1a1bb"))).as_deref(), Some("London"));
        assert_eq!(name(to("GB", None, Some("N1 9GU"))), None);
        assert_eq!(name(to("FR", None, None)), None);
    }

    #[test]
    fn postcode_patterns_are_checked() {
        assert_eq!(PostcodePattern::parse("10000-14999"), Some(PostcodePattern::Range("10000".into(), "14999".into())));
        assert_eq!(PostcodePattern::parse("14999-10000"), None, "low to high");
        assert_eq!(PostcodePattern::parse("100-14999"), None, "equally long");
        assert_eq!(PostcodePattern::parse("*"), None);
        assert_eq!(PostcodePattern::parse("sw1*"), Some(PostcodePattern::Prefix("SW1".into())));
        assert_eq!(PostcodePattern::parse("  "), None);
    }

    fn method(kind: ShippingRateKind, price: Option<i64>, bands: &[(Option<i64>, i64)]) -> ShippingMethod {
        let eur = |a: i64| Money::new(a, Currency::EUR);
        ShippingMethod {
            id: ShippingMethodId::new_v7(),
            zone_id: ShippingZoneId::new_v7(),
            name: "Standard".into(),
            description: None,
            kind,
            currency: Currency::EUR,
            price: price.map(eur),
            bands: bands.iter().map(|&(up_to, p)| RateBand { up_to, price: eur(p) }).collect(),
            free_above: None,
            min_order_value: None,
            max_order_value: None,
            max_weight_grams: None,
            min_days: Some(1),
            max_days: Some(3),
            active: true,
            position: 0,
            created_at: Utc::now(),
            modified_at: Utc::now(),
            version: 1,
        }
    }

    fn price(m: &ShippingMethod, value: i64, weight: i64) -> Option<i64> {
        quote(m, Money::new(value, Currency::EUR), weight).map(|o| o.price.amount)
    }

    #[test]
    fn methods_price_by_their_kind_and_bounds() {
        let flat = method(ShippingRateKind::Flat, Some(490), &[]);
        assert_eq!(price(&flat, 1000, 0), Some(490));
        let mut free = flat.clone();
        free.free_above = Some(Money::new(5000, Currency::EUR));
        assert_eq!(price(&free, 4999, 0), Some(490));
        assert_eq!(price(&free, 5000, 0), Some(0), "free from the threshold on");
        assert!(quote(&free, Money::new(5000, Currency::EUR), 0).unwrap().free);
        assert_eq!(quote(&free, Money::new(5000, Currency::USD), 0), None, "another currency's cart");

        let weight =
            method(ShippingRateKind::Weight, None, &[(Some(1000), 490), (Some(5000), 690), (Some(20000), 1290)]);
        assert_eq!(price(&weight, 0, 0), Some(490));
        assert_eq!(price(&weight, 0, 1000), Some(490), "bounds are inclusive");
        assert_eq!(price(&weight, 0, 1001), Some(690));
        assert_eq!(price(&weight, 0, 20000), Some(1290));
        assert_eq!(price(&weight, 0, 20001), None, "beyond the last closed band");

        let value = method(ShippingRateKind::OrderValue, None, &[(Some(2999), 590), (Some(9999), 390), (None, 0)]);
        assert_eq!(price(&value, 1500, 0), Some(590));
        assert_eq!(price(&value, 3000, 0), Some(390));
        assert_eq!(price(&value, 1_000_000, 99_000), Some(0), "an open last band");

        let mut bounded = flat.clone();
        bounded.min_order_value = Some(Money::new(1000, Currency::EUR));
        bounded.max_weight_grams = Some(2000);
        assert_eq!(price(&bounded, 999, 0), None);
        assert_eq!(price(&bounded, 1000, 2000), Some(490));
        assert_eq!(price(&bounded, 1000, 2001), None);
        let mut inactive = flat;
        inactive.active = false;
        assert_eq!(price(&inactive, 1000, 0), None);
    }

    fn input(kind: ShippingRateKind) -> ShippingMethodInput {
        ShippingMethodInput {
            name: "Express".into(),
            description: None,
            kind,
            currency: Currency::EUR,
            price: None,
            bands: None,
            free_above: None,
            min_order_value: None,
            max_order_value: None,
            max_weight_grams: None,
            min_days: None,
            max_days: None,
            active: None,
            position: None,
        }
    }

    fn fields_of(e: PricingError) -> Vec<String> {
        match e {
            PricingError::Common(CommonError::Invalid(errors)) => errors.into_iter().map(|e| e.field).collect(),
            other => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn a_method_names_every_wrong_field() {
        let sold = vec!["EUR".to_string()];
        let mut flat = input(ShippingRateKind::Flat);
        flat.currency = Currency::USD;
        flat.min_days = Some(5);
        flat.max_days = Some(2);
        flat.free_above = Some(Money::new(100, Currency::EUR));
        let fields = fields_of(checked_method(&flat, &sold).unwrap_err());
        assert_eq!(fields, ["currency", "free_above", "max_days", "price"]);

        let mut banded = input(ShippingRateKind::Weight);
        banded.bands = Some(vec![
            RateBand { up_to: Some(1000), price: Money::new(100, Currency::EUR) },
            RateBand { up_to: None, price: Money::new(200, Currency::EUR) },
            RateBand { up_to: Some(500), price: Money::new(-1, Currency::EUR) },
        ]);
        let fields = fields_of(checked_method(&banded, &sold).unwrap_err());
        assert_eq!(fields, ["bands[1].up_to", "bands[2].price", "bands[2].up_to"]);
    }
}
