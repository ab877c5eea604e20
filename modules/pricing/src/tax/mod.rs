//! Taxes: the shop's settings, tax classes, tax zones and their rates, which class a product
//! uses, customers exempt by a VAT id, and the calculator every total goes through.
//!
//! # The rules
//!
//! - **Amounts** are integer minor units (`Money`); a rate is kept in millionths of the taxed
//!   amount (`rate_ppm`: 19 % = 190 000, New York City's 8.875 % = 88 750), written and shown as
//!   an exact percentage string with up to four decimals (`"8.875"`), 0 to 100.
//! - **Which zone**: a destination (country, optional region, optional postcode) falls in the
//!   shop's zones of its country; the most specific match wins — a zone matching region *and*
//!   postcode, then postcode, then region, then the country alone. A zone with a region matches
//!   only that region; a zone with postcodes only those postcodes (exact `10115`, prefix `SW1*`,
//!   range `10000-14999` of one length). Zones of one country and region may not overlap (two
//!   catch-alls, or overlapping postcodes, are refused naming the field), so the choice is never
//!   arbitrary; should a tie remain the older zone wins. No zone: nothing is taxed.
//! - **Classes**: standard, reduced, zero-rated and exempt are built in (fixed ids, renameable,
//!   never deleted), merchants add custom ones. A product's class is the one set for it, else
//!   standard. Zero-rated and exempt classes carry no rates: never taxed. A zone with no rate
//!   for a class does not tax it. Several rates of one zone and class add up (state + county);
//!   each is rounded and reported on its own (no compound tax-on-tax).
//! - **Prices** are entered with tax (inclusive, EU style) or without (exclusive, US style), as
//!   the shop's settings say; line amounts are already discounted (promotions allocate an order
//!   discount over lines with `Money::allocate`), shipping is entered the same way as prices.
//!   Exclusive: tax = net × rate. Inclusive: tax = gross × rate / (1 + rate), net = gross − tax.
//! - **Across borders** (inclusive prices only, destination in another country than the shop's
//!   origin): *keep gross* charges the entered price everywhere (119.00 in Germany is 119.00 in
//!   Austria; the net becomes 99.17); *keep net* takes the origin country's tax out (net 100.00)
//!   and adds the destination's (Austria: 120.00; an export to a country without a zone pays
//!   the net). The origin's rates are those of the zone the
//!   origin country alone resolves to.
//! - **Rounding**, always half away from zero: *per line* rounds each line's tax (each rate's
//!   share of it); *per total* sums the lines taxed at the same rates, rounds each rate's tax on
//!   the sum once, and hands it back to the lines in proportion to their amounts
//!   (`Money::allocate`), so lines still add up to the total exactly.
//! - **Shipping** is not taxed, taxed as a chosen class, or (`highest_rate`) taxed as the class
//!   with the highest total rate among the basket's lines (none taxed: shipping is not); and
//!   only where the zone taxes shipping (`shipping_taxable`: New York yes, California no).
//! - **Reverse charge**: a customer with a VAT id on file pays no VAT when the shop's origin and
//!   the VAT id's state are different EU member states and the goods go to an EU state other
//!   than the origin; the amounts are worked out as for anyone else, then the tax is dropped
//!   (inclusive prices: the buyer pays the net). In every other case the exemption does not
//!   apply. VAT ids are checked for syntax only (`vat_ids.rs`); online validation against VIES
//!   is a later `VatIdValidator` port.
//!
//! The calculator is a pure function ([`totals::compute`]) behind the [`TaxCalculator`] port,
//! so an external service can be plugged in; [`BuiltInTaxCalculator`] is the default.

pub(crate) mod http;
pub(crate) mod places;
mod schema;
mod store;
pub(crate) mod totals;
mod vat_ids;

use crate::PricingError;
use agora_kernel::money::Money;
use agora_kernel::ports::BoxFuture;
use agora_kernel::{TenantTx, Version};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use places::{Place, PostcodePattern, ZoneArea};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use totals::{ClassRates, RateComponent, ResolvedRates, TaxBreakdown, TaxableLine};
use uuid::Uuid;

agora_kernel::typed_id! {
    /// A tax class (standard, reduced, zero-rated, exempt, or one the merchant added).
    pub TaxClassId
}

agora_kernel::typed_id! {
    /// A tax zone: a country, optionally a region and postcodes.
    pub TaxZoneId
}

impl TaxClassId {
    /// The built-in classes have the same ids in every shop (seeded by the migration).
    pub const STANDARD: TaxClassId = TaxClassId::from_uuid(Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0001));
    pub const REDUCED: TaxClassId = TaxClassId::from_uuid(Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0002));
    pub const ZERO: TaxClassId = TaxClassId::from_uuid(Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0003));
    pub const EXEMPT: TaxClassId = TaxClassId::from_uuid(Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0004));
}

agora_kernel::text_enum! {
    /// What a tax class is.
    pub enum TaxClassKind {
        Standard = "standard",
        Reduced = "reduced",
        /// Taxable at 0 % (exports, some foods): never taxed, carries no rates.
        Zero = "zero",
        /// Outside the tax (financial services, postage stamps): never taxed, carries no rates.
        Exempt = "exempt",
        /// Added by the merchant; taxed at the rates given for it.
        Custom = "custom",
    }
}

agora_kernel::text_enum! {
    /// For tax-inclusive prices sold into another country: which price stays.
    pub enum CrossBorderPrices {
        /// The shopper pays the entered price everywhere; the net changes with the rate.
        KeepGross = "keep_gross",
        /// The net (entered price less the origin's tax) stays; the destination's tax is added.
        KeepNet = "keep_net",
    }
}

agora_kernel::text_enum! {
    /// Where tax is rounded to the minor unit.
    pub enum TaxRounding {
        PerLine = "per_line",
        PerTotal = "per_total",
    }
}

agora_kernel::text_enum! {
    /// How shipping is taxed.
    pub enum ShippingTax {
        NotTaxed = "not_taxed",
        /// As `shipping_tax_class_id`.
        TaxClass = "tax_class",
        /// As the class with the highest rate among the basket's lines.
        HighestRate = "highest_rate",
    }
}

/// How the shop's prices are entered and taxed (one per shop; `PUT` replaces it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TaxSettings {
    /// true: prices are entered with tax (EU style); false: without (US style).
    pub prices_include_tax: bool,
    pub cross_border: CrossBorderPrices,
    pub rounding: TaxRounding,
    pub shipping_tax: ShippingTax,
    /// With `shipping_tax` `tax_class` only.
    pub shipping_tax_class_id: Option<TaxClassId>,
    /// ISO 3166-1 alpha-2: where the shop sells from (needed for `keep_net` and the reverse
    /// charge).
    pub origin_country: Option<String>,
}

/// A tax class.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct TaxClass {
    pub id: TaxClassId,
    pub name: String,
    pub kind: TaxClassKind,
    /// Standard, reduced, zero-rated and exempt are built in and cannot be deleted.
    pub built_in: bool,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// The shop's tax classes, built-in ones first.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct TaxClassList {
    pub items: Vec<TaxClass>,
}

/// A class the merchant adds (taxed at the rates its zones give it).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewTaxClass {
    /// 1–100 characters, unique among the shop's classes.
    pub name: String,
}

/// A rate of a zone for one class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TaxRate {
    pub tax_class_id: TaxClassId,
    /// Shown on receipts: "VAT 19 %", "NY State sales tax" (1–100 characters).
    pub name: String,
    /// A percentage, exactly, as text: "19", "8.875" (0 to 100, at most 4 decimals).
    pub percent: String,
}

/// A tax zone as written (`POST` creates, `PUT` replaces it with its rates).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TaxZoneInput {
    /// 1–200 characters.
    pub name: String,
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// A region of the country (a US state: "NY"); absent: the whole country.
    pub region: Option<String>,
    /// Exact codes ("10115"), prefixes ("SW1*") or ranges ("10000-14999"); absent or empty:
    /// every postcode.
    pub postcodes: Option<Vec<String>>,
    /// Whether shipping to the zone is taxed (default true).
    pub shipping_taxable: Option<bool>,
    /// The zone's rates; several for one class add up (state + county).
    pub rates: Option<Vec<TaxRate>>,
}

/// A tax zone and its rates.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct TaxZone {
    pub id: TaxZoneId,
    pub name: String,
    pub country: String,
    pub region: Option<String>,
    pub postcodes: Vec<String>,
    pub shipping_taxable: bool,
    pub rates: Vec<TaxRate>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// The shop's tax zones, by country.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct TaxZoneList {
    pub items: Vec<TaxZone>,
}

/// Which class a product is taxed as.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ProductTaxClass {
    pub product_id: Uuid,
    pub tax_class_id: TaxClassId,
    /// false: none was set, the standard class applies.
    pub assigned: bool,
}

/// The class to tax a product as.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct SetProductTaxClass {
    pub tax_class_id: TaxClassId,
}

/// A B2B customer's VAT id, which exempts them where the reverse charge applies.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct TaxExemption {
    pub customer_id: Uuid,
    /// As stored: upper case, no spaces (`DE123456789`).
    pub vat_id: String,
    /// The VAT id's member state (ISO 3166-1; Greece's `EL` is `GR`).
    pub country: String,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// A customer's VAT id, checked for syntax (EU member states).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct SetTaxExemption {
    pub vat_id: String,
}

/// Where the goods go.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TaxDestination {
    /// ISO 3166-1 alpha-2.
    pub country: String,
    /// A region of the country (a US state: "NY").
    pub region: Option<String>,
    pub postal_code: Option<String>,
}

/// One line of a basket to tax.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TaxQueryLine {
    /// The caller's name for the line (a cart line id); the product id when absent.
    pub key: Option<String>,
    pub product_id: Uuid,
    /// The line's amount after its discounts, as entered (with tax if the shop's prices
    /// include it).
    pub amount: Money,
}

/// A basket to tax: its lines, shipping, where it goes and who buys.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TaxQuery {
    pub destination: TaxDestination,
    /// A customer with a VAT id on file may be exempt (reverse charge).
    pub customer_id: Option<Uuid>,
    pub lines: Vec<TaxQueryLine>,
    /// Shipping, as entered (with tax if the shop's prices include it).
    pub shipping: Option<Money>,
}

/// Everything a calculator is given: the shop's settings, the rates resolved for the
/// destination and buyer, and the basket.
#[derive(Debug, Clone)]
pub struct TaxRequest {
    pub settings: TaxSettings,
    pub rates: ResolvedRates,
    pub lines: Vec<TaxableLine>,
    pub shipping: Option<Money>,
    pub destination: TaxDestination,
    pub customer_id: Option<Uuid>,
}

/// The tax port: how a basket's taxes are worked out. The built-in calculator is the default; an
/// external service (Avalara, Stripe Tax) would implement this and be handed to
/// `PricingModule::calculate_taxes_with`. It runs inside the caller's transaction, so it must
/// not lock rows; the request is loaded before it is called.
pub trait TaxCalculator: Send + Sync {
    fn calculate<'a>(&'a self, request: &'a TaxRequest) -> BoxFuture<'a, Result<TaxBreakdown, PricingError>>;
}

/// The calculator of this module: [`totals::compute`] over the shop's own zones and rates.
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltInTaxCalculator;

impl TaxCalculator for BuiltInTaxCalculator {
    fn calculate<'a>(&'a self, request: &'a TaxRequest) -> BoxFuture<'a, Result<TaxBreakdown, PricingError>> {
        Box::pin(async move { totals::compute(&request.settings, &request.rates, &request.lines, request.shipping) })
    }
}

// --- Checks ------------------------------------------------------------------------------------

fn text(field: &str, raw: &str, max: usize) -> Result<String, PricingError> {
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > max {
        return Err(PricingError::field(field, format!("1 to {max} characters")));
    }
    Ok(t.to_string())
}

/// A percentage as text ("19", "8.875") in millionths, or a 422 naming `field`.
pub(crate) fn parse_percent(field: &str, raw: &str) -> Result<u32, PricingError> {
    let bad = || PricingError::field(field, "a percentage from 0 to 100 with at most 4 decimals, as text (\"8.875\")");
    let t = raw.trim();
    let (whole, fraction) = t.split_once('.').unwrap_or((t, ""));
    if whole.is_empty()
        || whole.len() > 3
        || fraction.len() > 4
        || (t.contains('.') && fraction.is_empty())
        || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: u32 = whole.parse().map_err(|_| bad())?;
    let fraction: u32 = format!("{fraction:0<4}").parse().map_err(|_| bad())?;
    let ppm = whole * 10_000 + fraction;
    if ppm > 1_000_000 {
        return Err(PricingError::field(field, "at most 100 %"));
    }
    Ok(ppm)
}

fn kind_of(raw: &str) -> TaxClassKind {
    TaxClassKind::parse(raw).unwrap_or(TaxClassKind::Custom)
}

fn to_class(r: store::ClassRow) -> TaxClass {
    let kind = kind_of(&r.kind);
    TaxClass {
        id: TaxClassId::from_uuid(r.id),
        name: r.name,
        kind,
        built_in: kind != TaxClassKind::Custom,
        created_at: r.created_at,
        modified_at: r.modified_at,
        version: r.version,
    }
}

fn to_settings(r: &store::SettingsRow) -> TaxSettings {
    TaxSettings {
        prices_include_tax: r.prices_include_tax,
        cross_border: CrossBorderPrices::parse(&r.cross_border).unwrap_or(CrossBorderPrices::KeepGross),
        rounding: TaxRounding::parse(&r.rounding).unwrap_or(TaxRounding::PerLine),
        shipping_tax: ShippingTax::parse(&r.shipping_tax).unwrap_or(ShippingTax::NotTaxed),
        shipping_tax_class_id: r.shipping_tax_class_id.map(TaxClassId::from_uuid),
        origin_country: r.origin_country.clone(),
    }
}

/// A unique-name violation is the merchant's duplicate, not a server error.
fn name_taken(field: &'static str) -> impl FnOnce(diesel::result::Error) -> PricingError {
    move |e| match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            PricingError::field(field, "another tax class already has this name")
        }
        other => other.into(),
    }
}

// --- Settings ----------------------------------------------------------------------------------

pub(crate) async fn settings(tx: &mut TenantTx<'_>) -> Result<(TaxSettings, i64), PricingError> {
    let row = store::settings(tx.conn(), false).await?;
    Ok((to_settings(&row), row.version))
}

pub(crate) async fn update_settings(
    tx: &mut TenantTx<'_>,
    new: TaxSettings,
    expected: Option<i64>,
) -> Result<(TaxSettings, i64), PricingError> {
    let current = store::settings(tx.conn(), true).await?;
    Version::check(expected, current.version)?;
    let origin = new.origin_country.as_deref().map(|c| places::country("origin_country", c)).transpose()?;
    if new.cross_border == CrossBorderPrices::KeepNet && origin.is_none() {
        return Err(PricingError::field("origin_country", "needed to keep net prices across borders"));
    }
    match (new.shipping_tax, new.shipping_tax_class_id) {
        (ShippingTax::TaxClass, None) => {
            return Err(PricingError::field("shipping_tax_class_id", "needed when shipping_tax is tax_class"));
        }
        (ShippingTax::TaxClass, Some(id)) => {
            if store::class(tx.conn(), id.as_uuid(), false).await?.is_none() {
                return Err(PricingError::field("shipping_tax_class_id", "not one of the shop's tax classes"));
            }
        }
        (_, Some(_)) => {
            return Err(PricingError::field("shipping_tax_class_id", "only with shipping_tax tax_class"));
        }
        (_, None) => {}
    }
    let fields = store::SettingsFields {
        prices_include_tax: new.prices_include_tax,
        cross_border: new.cross_border.as_str(),
        rounding: new.rounding.as_str(),
        shipping_tax: new.shipping_tax.as_str(),
        shipping_tax_class_id: new.shipping_tax_class_id.map(|c| c.as_uuid()),
        origin_country: origin.as_deref(),
    };
    let stamp = tx.stamp();
    let row = store::update_settings(tx.conn(), &fields, &stamp).await?;
    let saved = to_settings(&row);
    tx.audit("pricing.tax_settings.changed", None, serde_json::to_value(&saved).unwrap_or_default()).await?;
    Ok((saved, row.version))
}

// --- Classes -----------------------------------------------------------------------------------

pub(crate) async fn classes(tx: &mut TenantTx<'_>) -> Result<Vec<TaxClass>, PricingError> {
    Ok(store::classes(tx.conn()).await?.into_iter().map(to_class).collect())
}

pub(crate) async fn class(tx: &mut TenantTx<'_>, id: TaxClassId) -> Result<TaxClass, PricingError> {
    store::class(tx.conn(), id.as_uuid(), false).await?.map(to_class).ok_or(PricingError::NotFound("tax class"))
}

pub(crate) async fn create_class(tx: &mut TenantTx<'_>, new: NewTaxClass) -> Result<TaxClass, PricingError> {
    let name = text("name", &new.name, 100)?;
    let stamp = tx.stamp();
    let row = store::insert_class(tx.conn(), Uuid::now_v7(), &name, &stamp).await.map_err(name_taken("name"))?;
    tx.audit("pricing.tax_class.created", Some(row.id.to_string()), serde_json::json!({"name": name})).await?;
    Ok(to_class(row))
}

pub(crate) async fn rename_class(
    tx: &mut TenantTx<'_>,
    id: TaxClassId,
    new: NewTaxClass,
    expected: Option<i64>,
) -> Result<TaxClass, PricingError> {
    let current = store::class(tx.conn(), id.as_uuid(), true).await?.ok_or(PricingError::NotFound("tax class"))?;
    Version::check(expected, current.version)?;
    let name = text("name", &new.name, 100)?;
    let stamp = tx.stamp();
    let row = store::rename_class(tx.conn(), id.as_uuid(), &name, &stamp).await.map_err(name_taken("name"))?;
    tx.audit("pricing.tax_class.renamed", Some(id.to_string()), serde_json::json!({"name": name})).await?;
    Ok(to_class(row))
}

pub(crate) async fn delete_class(
    tx: &mut TenantTx<'_>,
    id: TaxClassId,
    expected: Option<i64>,
) -> Result<(), PricingError> {
    let current = store::class(tx.conn(), id.as_uuid(), true).await?.ok_or(PricingError::NotFound("tax class"))?;
    Version::check(expected, current.version)?;
    if kind_of(&current.kind) != TaxClassKind::Custom {
        return Err(PricingError::TaxClassLocked("built-in tax classes cannot be deleted".into()));
    }
    if store::settings(tx.conn(), true).await?.shipping_tax_class_id == Some(id.as_uuid()) {
        return Err(PricingError::TaxClassLocked("shipping is taxed as this class (see the tax settings)".into()));
    }
    let stamp = tx.stamp();
    store::delete_class(tx.conn(), id.as_uuid(), &stamp).await?;
    tx.audit("pricing.tax_class.deleted", Some(id.to_string()), serde_json::json!({"name": current.name})).await?;
    Ok(())
}

// --- Zones and rates ---------------------------------------------------------------------------

fn to_zone(r: store::ZoneRow, rates: &[store::RateRow]) -> TaxZone {
    TaxZone {
        id: TaxZoneId::from_uuid(r.id),
        rates: rates
            .iter()
            .filter(|x| x.zone_id == r.id)
            .map(|x| TaxRate {
                tax_class_id: TaxClassId::from_uuid(x.tax_class_id),
                name: x.name.clone(),
                percent: totals::percent_text(u32::try_from(x.rate_ppm).unwrap_or(0)),
            })
            .collect(),
        name: r.name,
        country: r.country,
        region: r.region,
        postcodes: r.postcodes,
        shipping_taxable: r.shipping_taxable,
        created_at: r.created_at,
        modified_at: r.modified_at,
        version: r.version,
    }
}

fn area(r: &store::ZoneRow) -> ZoneArea {
    ZoneArea {
        id: TaxZoneId::from_uuid(r.id),
        country: r.country.clone(),
        region: r.region.clone(),
        // Stored patterns were checked when saved.
        postcodes: r.postcodes.iter().filter_map(|p| PostcodePattern::parse("postcodes", p).ok()).collect(),
    }
}

pub(crate) async fn zones(tx: &mut TenantTx<'_>) -> Result<Vec<TaxZone>, PricingError> {
    let rows = store::zones(tx.conn(), None).await?;
    let rates = store::rates(tx.conn(), &rows.iter().map(|z| z.id).collect::<Vec<_>>()).await?;
    Ok(rows.into_iter().map(|z| to_zone(z, &rates)).collect())
}

pub(crate) async fn zone(tx: &mut TenantTx<'_>, id: TaxZoneId) -> Result<TaxZone, PricingError> {
    let row = store::zone(tx.conn(), id.as_uuid(), false).await?.ok_or(PricingError::NotFound("tax zone"))?;
    let rates = store::rates(tx.conn(), &[row.id]).await?;
    Ok(to_zone(row, &rates))
}

/// Checks a zone as written against the shop's classes and its other zones.
async fn checked_zone(
    tx: &mut TenantTx<'_>,
    id: TaxZoneId,
    input: &TaxZoneInput,
) -> Result<(String, String, Option<String>, Vec<String>, Vec<(Uuid, String, i32)>), PricingError> {
    let name = text("name", &input.name, 200)?;
    let country = places::country("country", &input.country)?;
    let region = input.region.as_deref().map(|r| places::region("region", r)).transpose()?;
    let patterns = places::postcode_patterns(input.postcodes.as_deref().unwrap_or_default())?;
    let candidate = ZoneArea { id, country: country.clone(), region: region.clone(), postcodes: patterns.clone() };
    // Zones of the same country and region must not cover the same postcodes.
    for other in store::zones(tx.conn(), Some(country.as_str())).await? {
        if other.id == id.as_uuid() {
            continue;
        }
        if let Some((field, message)) = places::conflict(&candidate, &area(&other), &other.name) {
            return Err(PricingError::field(&field, message));
        }
    }
    let classes: BTreeMap<Uuid, TaxClassKind> =
        store::classes(tx.conn()).await?.into_iter().map(|c| (c.id, kind_of(&c.kind))).collect();
    let rates = input.rates.as_deref().unwrap_or_default();
    if rates.len() > 100 {
        return Err(PricingError::field("rates", "at most 100 rates per zone"));
    }
    let mut out = Vec::with_capacity(rates.len());
    for (i, rate) in rates.iter().enumerate() {
        let class_field = format!("rates[{i}].tax_class_id");
        match classes.get(&rate.tax_class_id.as_uuid()) {
            None => return Err(PricingError::field(&class_field, "not one of the shop's tax classes")),
            Some(TaxClassKind::Zero | TaxClassKind::Exempt) => {
                return Err(PricingError::field(&class_field, "zero-rated and exempt classes carry no rates"));
            }
            Some(_) => {}
        }
        let rate_name = text(&format!("rates[{i}].name"), &rate.name, 100)?;
        let ppm = parse_percent(&format!("rates[{i}].percent"), &rate.percent)?;
        out.push((rate.tax_class_id.as_uuid(), rate_name, i32::try_from(ppm).unwrap_or(i32::MAX)));
    }
    let postcodes = patterns.iter().map(PostcodePattern::text).collect();
    Ok((name, country, region, postcodes, out))
}

pub(crate) async fn create_zone(tx: &mut TenantTx<'_>, input: TaxZoneInput) -> Result<TaxZone, PricingError> {
    let id = TaxZoneId::new_v7();
    let (name, country, region, postcodes, rates) = checked_zone(tx, id, &input).await?;
    let fields = store::ZoneFields {
        name: &name,
        country: &country,
        region: region.as_deref(),
        postcodes: &postcodes,
        shipping_taxable: input.shipping_taxable.unwrap_or(true),
    };
    let stamp = tx.stamp();
    store::insert_zone(tx.conn(), id.as_uuid(), &fields, &stamp).await?;
    store::replace_rates(tx.conn(), id.as_uuid(), &rates).await?;
    tx.audit("pricing.tax_zone.created", Some(id.to_string()), serde_json::json!({"name": name, "country": country}))
        .await?;
    zone(tx, id).await
}

pub(crate) async fn replace_zone(
    tx: &mut TenantTx<'_>,
    id: TaxZoneId,
    input: TaxZoneInput,
    expected: Option<i64>,
) -> Result<TaxZone, PricingError> {
    let current = store::zone(tx.conn(), id.as_uuid(), true).await?.ok_or(PricingError::NotFound("tax zone"))?;
    Version::check(expected, current.version)?;
    let (name, country, region, postcodes, rates) = checked_zone(tx, id, &input).await?;
    let fields = store::ZoneFields {
        name: &name,
        country: &country,
        region: region.as_deref(),
        postcodes: &postcodes,
        shipping_taxable: input.shipping_taxable.unwrap_or(true),
    };
    let stamp = tx.stamp();
    store::update_zone(tx.conn(), id.as_uuid(), &fields, &stamp).await?;
    store::replace_rates(tx.conn(), id.as_uuid(), &rates).await?;
    tx.audit("pricing.tax_zone.updated", Some(id.to_string()), serde_json::json!({"name": name})).await?;
    zone(tx, id).await
}

pub(crate) async fn delete_zone(
    tx: &mut TenantTx<'_>,
    id: TaxZoneId,
    expected: Option<i64>,
) -> Result<(), PricingError> {
    let current = store::zone(tx.conn(), id.as_uuid(), true).await?.ok_or(PricingError::NotFound("tax zone"))?;
    Version::check(expected, current.version)?;
    let stamp = tx.stamp();
    store::delete_zone(tx.conn(), id.as_uuid(), &stamp).await?;
    tx.audit("pricing.tax_zone.deleted", Some(id.to_string()), serde_json::json!({"name": current.name})).await?;
    Ok(())
}

// --- Product classes ---------------------------------------------------------------------------

pub(crate) async fn product_class(
    tx: &mut TenantTx<'_>,
    product: Uuid,
) -> Result<(ProductTaxClass, Option<i64>), PricingError> {
    Ok(match store::product_class(tx.conn(), product, false).await? {
        Some(r) => (
            ProductTaxClass {
                product_id: product,
                tax_class_id: TaxClassId::from_uuid(r.tax_class_id),
                assigned: true,
            },
            Some(r.version),
        ),
        None => (ProductTaxClass { product_id: product, tax_class_id: TaxClassId::STANDARD, assigned: false }, None),
    })
}

/// Sets the class of `product`, which the caller checked is one of the catalog's products.
pub(crate) async fn set_product_class(
    tx: &mut TenantTx<'_>,
    product: Uuid,
    body: SetProductTaxClass,
    expected: Option<i64>,
) -> Result<(ProductTaxClass, i64), PricingError> {
    let current = store::product_class(tx.conn(), product, true).await?;
    Version::check(expected, current.map(|c| c.version))?;
    if store::class(tx.conn(), body.tax_class_id.as_uuid(), false).await?.is_none() {
        return Err(PricingError::field("tax_class_id", "not one of the shop's tax classes"));
    }
    let stamp = tx.stamp();
    let row = store::upsert_product_class(tx.conn(), product, body.tax_class_id.as_uuid(), &stamp).await?;
    tx.audit(
        "pricing.product_tax_class.set",
        Some(product.to_string()),
        serde_json::json!({"tax_class_id": body.tax_class_id}),
    )
    .await?;
    Ok((ProductTaxClass { product_id: product, tax_class_id: body.tax_class_id, assigned: true }, row.version))
}

// --- Exemptions --------------------------------------------------------------------------------

fn to_exemption(r: store::ExemptionRow) -> TaxExemption {
    TaxExemption {
        customer_id: r.customer_id,
        vat_id: r.vat_id,
        country: r.country,
        created_at: r.created_at,
        modified_at: r.modified_at,
        version: r.version,
    }
}

pub(crate) async fn exemption(tx: &mut TenantTx<'_>, customer: Uuid) -> Result<TaxExemption, PricingError> {
    store::exemption(tx.conn(), customer, false).await?.map(to_exemption).ok_or(PricingError::NotFound("tax exemption"))
}

/// Records `customer`'s VAT id. The customer is named by id only: the customers module owns
/// accounts, and an exemption for an id that is no customer never applies to anyone.
pub(crate) async fn set_exemption(
    tx: &mut TenantTx<'_>,
    customer: Uuid,
    body: SetTaxExemption,
    expected: Option<i64>,
) -> Result<TaxExemption, PricingError> {
    let current = store::exemption(tx.conn(), customer, true).await?;
    Version::check(expected, current.map(|c| c.version))?;
    let (vat_id, country) = vat_ids::parse("vat_id", &body.vat_id)?;
    let stamp = tx.stamp();
    let row = store::upsert_exemption(tx.conn(), customer, &vat_id, &country, &stamp).await?;
    tx.audit("pricing.tax_exemption.set", Some(customer.to_string()), serde_json::json!({"vat_id": vat_id})).await?;
    Ok(to_exemption(row))
}

pub(crate) async fn remove_exemption(
    tx: &mut TenantTx<'_>,
    customer: Uuid,
    expected: Option<i64>,
) -> Result<(), PricingError> {
    let current = store::exemption(tx.conn(), customer, true).await?.ok_or(PricingError::NotFound("tax exemption"))?;
    Version::check(expected, current.version)?;
    store::delete_exemption(tx.conn(), customer).await?;
    tx.audit(
        "pricing.tax_exemption.removed",
        Some(customer.to_string()),
        serde_json::json!({"vat_id": current.vat_id}),
    )
    .await?;
    Ok(())
}

/// Whether the EU reverse charge applies: the shop's origin and the VAT id's state are different
/// member states, and the goods go to a member state other than the origin.
pub(crate) fn reverse_charge(origin: Option<&str>, vat_country: &str, destination: &str) -> bool {
    let eu = |c: &str| places::EU.contains(&c);
    match origin {
        Some(origin) => {
            eu(origin) && eu(vat_country) && eu(destination) && vat_country != origin && destination != origin
        }
        None => false,
    }
}

// --- Loading a basket's request ----------------------------------------------------------------

/// The classes of the shop with the rates of the zone `place` resolves to (and that zone).
async fn rates_at(
    tx: &mut TenantTx<'_>,
    classes: &[store::ClassRow],
    place: &Place,
) -> Result<(Option<store::ZoneRow>, BTreeMap<TaxClassId, ClassRates>), PricingError> {
    let zones = store::zones(tx.conn(), Some(place.country.as_str())).await?;
    let areas: Vec<ZoneArea> = zones.iter().map(area).collect();
    let picked = places::pick_zone(&areas, place).map(|a| a.id.as_uuid());
    let zone = zones.into_iter().find(|z| Some(z.id) == picked);
    let rates = match &zone {
        Some(z) => store::rates(tx.conn(), &[z.id]).await?,
        None => Vec::new(),
    };
    let map = classes
        .iter()
        .map(|c| {
            let components = rates
                .iter()
                .filter(|r| r.tax_class_id == c.id)
                .map(|r| RateComponent { name: r.name.clone(), rate_ppm: u32::try_from(r.rate_ppm).unwrap_or(0) })
                .collect();
            (TaxClassId::from_uuid(c.id), ClassRates { kind: kind_of(&c.kind), rates: components })
        })
        .collect();
    Ok((zone, map))
}

/// Reads everything `query` needs from the shop (settings, the destination's rates, the
/// products' classes, the buyer's exemption), in the caller's transaction.
pub(crate) async fn load_request(tx: &mut TenantTx<'_>, query: TaxQuery) -> Result<TaxRequest, PricingError> {
    let country = places::country("destination.country", &query.destination.country)?;
    let region = query.destination.region.as_deref().map(|r| places::region("destination.region", r)).transpose()?;
    let postcode = match query.destination.postal_code.as_deref().map(places::normalize_postcode) {
        Some(p) if p.is_empty() || p.len() > 12 || !p.bytes().all(|b| b.is_ascii_alphanumeric()) => {
            return Err(PricingError::field("destination.postal_code", "1 to 12 letters or digits"));
        }
        other => other,
    };
    if query.lines.len() > 1000 {
        return Err(PricingError::field("lines", "at most 1000 lines"));
    }
    let settings_row = store::settings(tx.conn(), false).await?;
    let settings = to_settings(&settings_row);
    let classes = store::classes(tx.conn()).await?;
    let place = Place { country: country.clone(), region: region.clone(), postcode: postcode.clone() };
    let (zone, destination_rates) = rates_at(tx, &classes, &place).await?;
    let origin = match (&settings.origin_country, settings.prices_include_tax, settings.cross_border) {
        (Some(origin), true, CrossBorderPrices::KeepNet) if *origin != country => {
            let at = Place { country: origin.clone(), region: None, postcode: None };
            Some(rates_at(tx, &classes, &at).await?.1)
        }
        _ => None,
    };
    let reverse = match query.customer_id {
        Some(customer) => match store::exemption(tx.conn(), customer, false).await? {
            Some(e) => reverse_charge(settings.origin_country.as_deref(), &e.country, &country),
            None => false,
        },
        None => false,
    };
    let products: Vec<Uuid> = query.lines.iter().map(|l| l.product_id).collect();
    let assigned: BTreeMap<Uuid, TaxClassId> = store::product_classes(tx.conn(), &products)
        .await?
        .into_iter()
        .map(|r| (r.product_id, TaxClassId::from_uuid(r.tax_class_id)))
        .collect();
    let lines = query
        .lines
        .iter()
        .enumerate()
        .map(|(i, l)| {
            let key = match &l.key {
                Some(k) => text(&format!("lines[{i}].key"), k, 200)?,
                None => l.product_id.to_string(),
            };
            let class = assigned
                .get(&l.product_id)
                .copied()
                .filter(|c| destination_rates.contains_key(c))
                .unwrap_or(TaxClassId::STANDARD);
            Ok(TaxableLine { key, amount: l.amount, tax_class: class })
        })
        .collect::<Result<Vec<_>, PricingError>>()?;
    let rates = ResolvedRates {
        zone: zone.as_ref().map(|z| (TaxZoneId::from_uuid(z.id), z.name.clone())),
        shipping_taxable: zone.as_ref().is_some_and(|z| z.shipping_taxable),
        classes: destination_rates,
        origin,
        reverse_charge: reverse,
    };
    Ok(TaxRequest {
        settings,
        rates,
        lines,
        shipping: query.shipping,
        destination: TaxDestination { country, region, postal_code: postcode },
        customer_id: query.customer_id,
    })
}

/// Taxes `query` with `calculator`, in the caller's transaction.
pub(crate) async fn calculate(
    tx: &mut TenantTx<'_>,
    query: TaxQuery,
    calculator: &dyn TaxCalculator,
) -> Result<TaxBreakdown, PricingError> {
    let request = load_request(tx, query).await?;
    calculator.calculate(&request).await
}

#[cfg(test)]
mod tests;
