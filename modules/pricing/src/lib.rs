//! Pricing: what a shopper pays, and why, line by line.
//!
//! - **Price lists** (per currency, customer group, date range, with quantity tiers and sale
//!   prices) over the catalog's base prices; the catalog asks for the price a shopper sees
//!   through a kernel port, and the cart asks here directly: nothing else computes prices.
//! - **Taxes**: zones, classes and rates; prices entered tax-inclusive or exclusive per shop;
//!   rounding per line or per total.
//! - **Shipping**: zones and methods (flat, weight bands, order value, free above a threshold).
//! - **Promotions**: codes and automatic discounts, their conditions, limits counted atomically,
//!   stacking, and the allocation of a discount over lines with exact remainders.
//!
//! Every amount is integer minor units (`agora_kernel::money`).

mod error;
mod http;
mod price_lists;
mod promotions;
mod shipping;
mod tax;

use agora_kernel::events::EventBus;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::money::Currency;
use agora_kernel::ports::PRICES_CACHE_TAG;
use agora_kernel::{Acting, Database, TenantContext, TenantTx};

/// What every pricing write makes stale: each storefront answer showing a price, a discount, a
/// tax or a shipping price (product pages' prices, carts) carries this tag.
const WRITTEN: &[&str] = &[PRICES_CACHE_TAG];
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use error::PricingError;
pub use price_lists::{
    BaseCandidate, CurrencyRate, CurrencyRateId, CurrencyRatePatch, ExplainQuery, ListCandidate, NewCurrencyRate,
    NewPriceList, PriceExplanation, PriceList, PriceListEntriesInput, PriceListEntriesWritten, PriceListEntry,
    PriceListEntryInput, PriceListId, PriceListPatch, PriceListStatus, PriceRounding, PriceSheet, PriceTier,
    ShopperPrice,
};
pub use promotions::{
    AppliedPromotion, AppliedPromotions, CodeRejection, DiscountKind, DiscountTier, GenerateCodes, GeneratedCodes,
    LineDiscount, NewPromotion, NewPromotionCode, Promotion, PromotionCode, PromotionCodeId, PromotionConditions,
    PromotionContext, PromotionDiscount, PromotionFilter, PromotionId, PromotionLine, PromotionPatch, PromotionStatus,
    PromotionTrigger, Redemption, RejectedCode, Stacking,
};
pub use shipping::{
    DeliveryEstimate, Destination, NewShippingZone, RateBand, ShippingCountries, ShippingMethod, ShippingMethodId,
    ShippingMethodInput, ShippingOption, ShippingOptions, ShippingQuery, ShippingRateKind, ShippingZone,
    ShippingZoneId, ShippingZoneList, ShippingZonePatch,
};
pub use tax::totals::{
    compute as compute_taxes, ClassRates, RateComponent, ResolvedRates, TaxBreakdown, TaxByRate, TaxableLine,
    TaxedAmount, TaxedLine, ZoneRef,
};
pub use tax::{
    BuiltInTaxCalculator, CrossBorderPrices, NewTaxClass, ProductTaxClass, SetProductTaxClass, SetTaxExemption,
    ShippingTax, TaxCalculator, TaxClass, TaxClassId, TaxClassKind, TaxDestination, TaxExemption, TaxQuery,
    TaxQueryLine, TaxRate, TaxRequest, TaxRounding, TaxSettings, TaxZone, TaxZoneId, TaxZoneInput,
};

/// The pricing module; cheap to clone.
#[derive(Clone)]
pub struct PricingModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    bus: EventBus,
}

impl PricingModule {
    pub fn new(db: Database, bus: &EventBus) -> Self {
        Self { inner: Arc::new(Inner { db, bus: bus.clone() }) }
    }

    fn db(&self) -> &Database {
        &self.inner.db
    }

    #[allow(dead_code)]
    fn bus(&self) -> &EventBus {
        &self.inner.bus
    }
}

// --- Shipping ---------------------------------------------------------------------------------

/// Who reads for every feature's read-only transactions (nothing is stamped or audited).
static READER: Acting = Acting { actor: agora_kernel::Actor::System("pricing"), ip: None };

/// The currencies the shop sells, which every amount a merchant enters must be in.
async fn sold(tx: &mut TenantTx<'_>) -> Result<Vec<String>, PricingError> {
    let sold =
        agora_catalog::CatalogModule::shop_currencies(tx).await.map_err(|e| PricingError::Catalog(Box::new(e)))?;
    Ok(sold.currencies)
}

impl PricingModule {
    pub async fn shipping_zones(&self, tenant: &TenantContext) -> Result<Vec<ShippingZone>, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| shipping::zones(tx).await).await
    }

    pub async fn shipping_zone(
        &self,
        tenant: &TenantContext,
        id: ShippingZoneId,
    ) -> Result<ShippingZone, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| shipping::zone(tx, id).await).await
    }

    pub async fn create_shipping_zone(
        &self,
        tenant: &TenantContext,
        zone: NewShippingZone,
        acting: &Acting,
    ) -> Result<ShippingZone, PricingError> {
        self.db().in_tenant_dropping(tenant, acting, WRITTEN, async |tx| shipping::create_zone(tx, zone).await).await
    }

    pub async fn update_shipping_zone(
        &self,
        tenant: &TenantContext,
        id: ShippingZoneId,
        patch: ShippingZonePatch,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<ShippingZone, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                shipping::update_zone(tx, id, patch, expected).await
            })
            .await
    }

    pub async fn delete_shipping_zone(
        &self,
        tenant: &TenantContext,
        id: ShippingZoneId,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<(), PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| shipping::delete_zone(tx, id, expected).await)
            .await
    }

    pub async fn shipping_method(
        &self,
        tenant: &TenantContext,
        id: ShippingMethodId,
    ) -> Result<ShippingMethod, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| shipping::method(tx, id).await).await
    }

    pub async fn create_shipping_method(
        &self,
        tenant: &TenantContext,
        zone: ShippingZoneId,
        input: ShippingMethodInput,
        acting: &Acting,
    ) -> Result<ShippingMethod, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                let sold = sold(tx).await?;
                shipping::create_method(tx, zone, input, &sold).await
            })
            .await
    }

    pub async fn replace_shipping_method(
        &self,
        tenant: &TenantContext,
        id: ShippingMethodId,
        input: ShippingMethodInput,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<ShippingMethod, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                let sold = sold(tx).await?;
                shipping::replace_method(tx, id, input, expected, &sold).await
            })
            .await
    }

    pub async fn delete_shipping_method(
        &self,
        tenant: &TenantContext,
        id: ShippingMethodId,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<(), PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| shipping::delete_method(tx, id, expected).await)
            .await
    }

    /// The methods a shipment can go by, cheapest first, in its own transaction.
    pub async fn shipping_options(
        &self,
        tenant: &TenantContext,
        query: &ShippingQuery,
    ) -> Result<ShippingOptions, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| shipping::options(tx, query).await).await
    }

    /// The methods a shipment can go by, in the caller's transaction (the cart's).
    pub async fn shipping_options_in(
        &self,
        tx: &mut TenantTx<'_>,
        query: &ShippingQuery,
    ) -> Result<ShippingOptions, PricingError> {
        shipping::options(tx, query).await
    }

    /// What the chosen `method` costs for the shipment, in the caller's transaction; a 422
    /// naming `field` when it does not deliver it.
    pub async fn shipping_option_in(
        &self,
        tx: &mut TenantTx<'_>,
        method: ShippingMethodId,
        query: &ShippingQuery,
        field: &str,
    ) -> Result<ShippingOption, PricingError> {
        shipping::option(tx, method, query, field).await
    }

    pub async fn shipping_countries(&self, tenant: &TenantContext) -> Result<ShippingCountries, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| shipping::countries(tx).await).await
    }
}

// --- Taxes (`tax/`): settings, classes, zones and rates, products' classes, exemptions, and the
// calculation the cart and checkout call inside their own transaction. ----------------------------
impl PricingModule {
    /// Taxes a basket in the caller's transaction (the cart's, checkout's), with the built-in
    /// calculator: loads the shop's settings, the destination's rates, the products' classes and
    /// the buyer's exemption, then computes.
    pub async fn calculate_taxes(
        &self,
        tx: &mut agora_kernel::TenantTx<'_>,
        query: TaxQuery,
    ) -> Result<TaxBreakdown, PricingError> {
        tax::calculate(tx, query, &BuiltInTaxCalculator).await
    }

    /// [`calculate_taxes`](Self::calculate_taxes) with another calculator (the tax port).
    pub async fn calculate_taxes_with(
        &self,
        tx: &mut agora_kernel::TenantTx<'_>,
        query: TaxQuery,
        calculator: &dyn TaxCalculator,
    ) -> Result<TaxBreakdown, PricingError> {
        tax::calculate(tx, query, calculator).await
    }

    /// Taxes a basket in a read-only transaction of its own (the admin preview).
    pub async fn preview_taxes(
        &self,
        tenant: &agora_kernel::TenantContext,
        query: TaxQuery,
    ) -> Result<TaxBreakdown, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| tax::calculate(tx, query, &BuiltInTaxCalculator).await).await
    }

    /// The shop's tax settings in the caller's transaction (the cart asks where the shop sells
    /// from, to show the tax its own country expects before the shopper gives an address).
    pub async fn tax_settings_in(&self, tx: &mut TenantTx<'_>) -> Result<TaxSettings, PricingError> {
        Ok(tax::settings(tx).await?.0)
    }

    pub async fn tax_settings(&self, tenant: &agora_kernel::TenantContext) -> Result<(TaxSettings, i64), PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| tax::settings(tx).await).await
    }

    pub async fn update_tax_settings(
        &self,
        tenant: &agora_kernel::TenantContext,
        settings: TaxSettings,
        expected: Option<i64>,
        acting: &agora_kernel::Acting,
    ) -> Result<(TaxSettings, i64), PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| tax::update_settings(tx, settings, expected).await)
            .await
    }

    pub async fn tax_classes(&self, tenant: &agora_kernel::TenantContext) -> Result<Vec<TaxClass>, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| tax::classes(tx).await).await
    }

    pub async fn tax_class(
        &self,
        tenant: &agora_kernel::TenantContext,
        id: TaxClassId,
    ) -> Result<TaxClass, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| tax::class(tx, id).await).await
    }

    pub async fn create_tax_class(
        &self,
        tenant: &agora_kernel::TenantContext,
        new: NewTaxClass,
        acting: &agora_kernel::Acting,
    ) -> Result<TaxClass, PricingError> {
        self.db().in_tenant_dropping(tenant, acting, WRITTEN, async |tx| tax::create_class(tx, new).await).await
    }

    pub async fn rename_tax_class(
        &self,
        tenant: &agora_kernel::TenantContext,
        id: TaxClassId,
        new: NewTaxClass,
        expected: Option<i64>,
        acting: &agora_kernel::Acting,
    ) -> Result<TaxClass, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| tax::rename_class(tx, id, new, expected).await)
            .await
    }

    pub async fn delete_tax_class(
        &self,
        tenant: &agora_kernel::TenantContext,
        id: TaxClassId,
        expected: Option<i64>,
        acting: &agora_kernel::Acting,
    ) -> Result<(), PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| tax::delete_class(tx, id, expected).await)
            .await
    }

    pub async fn tax_zones(&self, tenant: &agora_kernel::TenantContext) -> Result<Vec<TaxZone>, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| tax::zones(tx).await).await
    }

    pub async fn tax_zone(&self, tenant: &agora_kernel::TenantContext, id: TaxZoneId) -> Result<TaxZone, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| tax::zone(tx, id).await).await
    }

    pub async fn create_tax_zone(
        &self,
        tenant: &agora_kernel::TenantContext,
        input: TaxZoneInput,
        acting: &agora_kernel::Acting,
    ) -> Result<TaxZone, PricingError> {
        self.db().in_tenant_dropping(tenant, acting, WRITTEN, async |tx| tax::create_zone(tx, input).await).await
    }

    pub async fn replace_tax_zone(
        &self,
        tenant: &agora_kernel::TenantContext,
        id: TaxZoneId,
        input: TaxZoneInput,
        expected: Option<i64>,
        acting: &agora_kernel::Acting,
    ) -> Result<TaxZone, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| tax::replace_zone(tx, id, input, expected).await)
            .await
    }

    pub async fn delete_tax_zone(
        &self,
        tenant: &agora_kernel::TenantContext,
        id: TaxZoneId,
        expected: Option<i64>,
        acting: &agora_kernel::Acting,
    ) -> Result<(), PricingError> {
        self.db().in_tenant_dropping(tenant, acting, WRITTEN, async |tx| tax::delete_zone(tx, id, expected).await).await
    }

    /// The class `product` is taxed as, and the assignment's version (none: never set).
    pub async fn product_tax_class(
        &self,
        tenant: &agora_kernel::TenantContext,
        product: uuid::Uuid,
    ) -> Result<(ProductTaxClass, Option<i64>), PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| tax::product_class(tx, product).await).await
    }

    /// Sets the class of a product the caller checked exists in the catalog.
    pub async fn set_product_tax_class(
        &self,
        tenant: &agora_kernel::TenantContext,
        product: uuid::Uuid,
        body: SetProductTaxClass,
        expected: Option<i64>,
        acting: &agora_kernel::Acting,
    ) -> Result<(ProductTaxClass, i64), PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                tax::set_product_class(tx, product, body, expected).await
            })
            .await
    }

    pub async fn tax_exemption(
        &self,
        tenant: &agora_kernel::TenantContext,
        customer: uuid::Uuid,
    ) -> Result<TaxExemption, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| tax::exemption(tx, customer).await).await
    }

    /// Records a customer's VAT id; `customers` says whether the customer exists (a 404 if not).
    pub async fn set_tax_exemption(
        &self,
        tenant: &agora_kernel::TenantContext,
        customers: &agora_customers::CustomersModule,
        customer: uuid::Uuid,
        body: SetTaxExemption,
        expected: Option<i64>,
        acting: &agora_kernel::Acting,
    ) -> Result<TaxExemption, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                customers.require_customer(tx, customer).await.map_err(|e| PricingError::Customers(Box::new(e)))?;
                tax::set_exemption(tx, customer, body, expected).await
            })
            .await
    }

    pub async fn remove_tax_exemption(
        &self,
        tenant: &agora_kernel::TenantContext,
        customer: uuid::Uuid,
        expected: Option<i64>,
        acting: &agora_kernel::Acting,
    ) -> Result<(), PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| tax::remove_exemption(tx, customer, expected).await)
            .await
    }
}

// ---- price lists, conversion rates, the price a shopper pays (see `price_lists`) -------------
impl PricingModule {
    pub async fn create_price_list(
        &self,
        tenant: &TenantContext,
        new: NewPriceList,
        acting: &Acting,
    ) -> Result<PriceList, PricingError> {
        self.db().in_tenant_dropping(tenant, acting, WRITTEN, async |tx| price_lists::create(tx, new).await).await
    }

    /// The shop's price lists, newest first.
    pub async fn price_lists(
        &self,
        tenant: &TenantContext,
        page: &Keyset<DateTime<Utc>>,
    ) -> Result<Page<PriceList>, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| price_lists::list(tx, page).await).await
    }

    pub async fn price_list(&self, tenant: &TenantContext, id: PriceListId) -> Result<PriceList, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| price_lists::get(tx, id).await).await
    }

    /// Changes a list; `expected_version` (from If-Match) guards against lost updates.
    pub async fn update_price_list(
        &self,
        tenant: &TenantContext,
        id: PriceListId,
        patch: PriceListPatch,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<PriceList, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                price_lists::update(tx, id, patch, expected_version).await
            })
            .await
    }

    pub async fn delete_price_list(
        &self,
        tenant: &TenantContext,
        id: PriceListId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| price_lists::delete(tx, id, expected_version).await)
            .await
    }

    /// A list's entries, most recently changed first.
    pub async fn price_list_entries(
        &self,
        tenant: &TenantContext,
        id: PriceListId,
        page: &Keyset<DateTime<Utc>>,
    ) -> Result<Page<PriceListEntry>, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| price_lists::entries(tx, id, page).await).await
    }

    /// Adds or replaces entries (by variant id or SKU) in one transaction: all or none.
    pub async fn upsert_price_list_entries(
        &self,
        tenant: &TenantContext,
        id: PriceListId,
        input: PriceListEntriesInput,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<PriceListEntriesWritten, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                price_lists::upsert_entries(tx, id, input, expected_version).await
            })
            .await
    }

    /// Removes a variant's entry; answers the list's new version.
    pub async fn delete_price_list_entry(
        &self,
        tenant: &TenantContext,
        id: PriceListId,
        variant: agora_catalog::VariantId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<i64, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                price_lists::delete_entry(tx, id, variant, expected_version).await
            })
            .await
    }

    /// Why a variant costs what it does: every candidate and the winner.
    pub async fn explain_price(
        &self,
        tenant: &TenantContext,
        query: ExplainQuery,
    ) -> Result<PriceExplanation, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| price_lists::explain(tx, query).await).await
    }

    /// The prices a shopper in `groups` pays for one unit each of `variants` (at `quantity`),
    /// in the caller's transaction: what the cart asks. `currency` must be one the shop sells
    /// (else a 422 naming `currency`).
    pub async fn prices_for(
        &self,
        tx: &mut TenantTx<'_>,
        variants: &[agora_catalog::VariantId],
        currency: Currency,
        groups: &[agora_customers::CustomerGroupId],
        quantity: i32,
        at: DateTime<Utc>,
    ) -> Result<PriceSheet, PricingError> {
        let (_, sold) = price_lists::sold(tx).await?;
        if !sold.contains(&currency) {
            return Err(PricingError::field("currency", "not a currency the shop sells in"));
        }
        price_lists::prices_for(tx, variants, currency, groups, quantity, at).await
    }

    pub async fn create_currency_rate(
        &self,
        tenant: &TenantContext,
        new: NewCurrencyRate,
        acting: &Acting,
    ) -> Result<CurrencyRate, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| price_lists::rates::create(tx, new).await)
            .await
    }

    pub async fn currency_rates(
        &self,
        tenant: &TenantContext,
        page: &Keyset<DateTime<Utc>>,
    ) -> Result<Page<CurrencyRate>, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| price_lists::rates::list(tx, page).await).await
    }

    pub async fn currency_rate(
        &self,
        tenant: &TenantContext,
        id: CurrencyRateId,
    ) -> Result<CurrencyRate, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| price_lists::rates::get(tx, id).await).await
    }

    pub async fn update_currency_rate(
        &self,
        tenant: &TenantContext,
        id: CurrencyRateId,
        patch: CurrencyRatePatch,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<CurrencyRate, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                price_lists::rates::update(tx, id, patch, expected_version).await
            })
            .await
    }

    pub async fn delete_currency_rate(
        &self,
        tenant: &TenantContext,
        id: CurrencyRateId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                price_lists::rates::delete(tx, id, expected_version).await
            })
            .await
    }

    /// The storefront's prices (the kernel's `ShopperPrices` port): the shopper's groups from
    /// the customers module, then [`prices_for`](Self::prices_for), in one read transaction.
    async fn shopper_prices(
        &self,
        tenant: &TenantContext,
        customers: &agora_customers::CustomersModule,
        request: &agora_kernel::ports::PriceRequest<'_>,
    ) -> Result<agora_kernel::ports::PriceAnswer, PricingError> {
        let variants: Vec<agora_catalog::VariantId> =
            request.variants.iter().map(|v| agora_catalog::VariantId::from_uuid(*v)).collect();
        let (currency, customer, at) = (request.currency, request.customer, request.at);
        let sheet = self
            .db()
            .in_tenant(tenant, &READER, async |tx| {
                let groups = match customer {
                    Some(c) => customers.groups_of(tx, c).await.map_err(|e| PricingError::Customers(Box::new(e)))?,
                    None => Vec::new(),
                };
                price_lists::prices_for(tx, &variants, currency, &groups, 1, at).await
            })
            .await?;
        Ok(agora_kernel::ports::PriceAnswer {
            prices: sheet
                .prices
                .into_values()
                .map(|p| {
                    (
                        p.variant_id.as_uuid(),
                        agora_kernel::ports::ShownPrice { price: p.price, compare_at: p.compare_at },
                    )
                })
                .collect(),
            valid_until: sheet.valid_until,
        })
    }

    /// The port the catalog's storefront calls, answering with this module's prices for the
    /// shoppers `customers` knows.
    pub fn storefront_prices(&self, customers: agora_customers::CustomersModule) -> StorefrontPrices {
        StorefrontPrices { pricing: self.clone(), customers }
    }
}

/// The kernel's `ShopperPrices` port, served by pricing (see [`PricingModule::storefront_prices`]).
#[derive(Clone)]
pub struct StorefrontPrices {
    pricing: PricingModule,
    customers: agora_customers::CustomersModule,
}

impl agora_kernel::ports::ShopperPrices for StorefrontPrices {
    fn prices<'a>(
        &'a self,
        tenant: &'a TenantContext,
        request: agora_kernel::ports::PriceRequest<'a>,
    ) -> agora_kernel::ports::BoxFuture<'a, Result<agora_kernel::ports::PriceAnswer, agora_kernel::ports::PortError>>
    {
        Box::pin(async move {
            self.pricing.shopper_prices(tenant, &self.customers, &request).await.map_err(|e| match e {
                PricingError::Common(agora_kernel::CommonError::Db(db)) => agora_kernel::ports::PortError::Db(db),
                other => agora_kernel::ports::PortError::Failed(other.to_string()),
            })
        })
    }
}

// --- Promotions and discount codes (`promotions/`) ------------------------------------------------
impl PricingModule {
    /// The promotions `ctx` gets, in the caller's transaction (the cart's, checkout's): which
    /// apply and how much each takes off which line, free shipping, and why each submitted code
    /// that does not apply does not. Counts nothing: see [`Self::redeem_promotions`].
    pub async fn evaluate_promotions(
        &self,
        tx: &mut TenantTx<'_>,
        ctx: PromotionContext,
    ) -> Result<AppliedPromotions, PricingError> {
        promotions::evaluate(tx, &ctx).await
    }

    /// When what pricing answers next changes without a write (an active promotion's or price
    /// list's window opening or closing after `now`), in the caller's transaction: how long a
    /// worked-out cart may be kept.
    pub async fn next_schedule_change(
        &self,
        tx: &mut TenantTx<'_>,
        now: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, PricingError> {
        promotions::next_schedule_change(tx, now).await
    }

    /// Counts the uses of an order being placed, in the caller's transaction: each code's use
    /// and the customer's, each by one conditional UPDATE, so no limit is ever passed however
    /// many checkouts race. Fails `PromotionRefused { exhausted | customer_limit_reached }`
    /// having written nothing the caller's rollback does not undo. Redeeming again for the same
    /// `order_ref` counts nothing twice.
    pub async fn redeem_promotions(
        &self,
        tx: &mut TenantTx<'_>,
        redemptions: &[Redemption],
        customer_id: Option<uuid::Uuid>,
        order_ref: uuid::Uuid,
    ) -> Result<(), PricingError> {
        tx.stale(PRICES_CACHE_TAG);
        promotions::redeem(tx, redemptions, customer_id, order_ref).await
    }

    /// Gives back the uses of a cancelled order; releasing again does nothing. How many
    /// redemptions were released.
    pub async fn release_redemption(
        &self,
        tx: &mut TenantTx<'_>,
        order_ref: uuid::Uuid,
    ) -> Result<usize, PricingError> {
        tx.stale(PRICES_CACHE_TAG);
        promotions::release(tx, order_ref).await
    }

    /// The evaluation a cart would get, for staff (changes nothing).
    pub async fn preview_promotions(
        &self,
        tenant: &TenantContext,
        ctx: PromotionContext,
    ) -> Result<AppliedPromotions, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| promotions::evaluate(tx, &ctx).await).await
    }

    /// `sold`: the currencies the shop sells in (the catalog's); amounts in others are refused.
    pub async fn create_promotion(
        &self,
        tenant: &TenantContext,
        new: NewPromotion,
        sold: &[Currency],
        acting: &Acting,
    ) -> Result<Promotion, PricingError> {
        self.db().in_tenant_dropping(tenant, acting, WRITTEN, async |tx| promotions::create(tx, new, sold).await).await
    }

    pub async fn promotions(
        &self,
        tenant: &TenantContext,
        filter: &PromotionFilter,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: i64,
    ) -> Result<Vec<Promotion>, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| promotions::list(tx, filter, after, limit).await).await
    }

    pub async fn promotion(&self, tenant: &TenantContext, id: PromotionId) -> Result<Promotion, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| promotions::get(tx, id).await).await
    }

    pub async fn update_promotion(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        patch: PromotionPatch,
        expected: Option<i64>,
        sold: &[Currency],
        acting: &Acting,
    ) -> Result<Promotion, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                promotions::update(tx, id, patch, expected, sold).await
            })
            .await
    }

    pub async fn delete_promotion(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<(), PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| promotions::delete(tx, id, expected).await)
            .await
    }

    pub async fn promotion_codes(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: i64,
    ) -> Result<Vec<PromotionCode>, PricingError> {
        self.db().in_tenant(tenant, &READER, async |tx| promotions::codes(tx, id, after, limit).await).await
    }

    pub async fn add_promotion_code(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        new: NewPromotionCode,
        acting: &Acting,
    ) -> Result<PromotionCode, PricingError> {
        self.db().in_tenant_dropping(tenant, acting, WRITTEN, async |tx| promotions::add_code(tx, id, new).await).await
    }

    pub async fn generate_promotion_codes(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        request: GenerateCodes,
        acting: &Acting,
    ) -> Result<GeneratedCodes, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| promotions::generate_codes(tx, id, request).await)
            .await
    }

    pub async fn set_promotion_code_status(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        code: PromotionCodeId,
        status: PromotionStatus,
        acting: &Acting,
    ) -> Result<PromotionCode, PricingError> {
        self.db()
            .in_tenant_dropping(tenant, acting, WRITTEN, async |tx| {
                promotions::set_code_status(tx, id, code, status).await
            })
            .await
    }
}

impl agora_kernel::Module for PricingModule {
    fn store(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.service(paperclip::actix::web::scope(http::SCOPE).configure(http::store_routes));
    }

    fn admin(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.service(paperclip::actix::web::scope(http::SCOPE).configure(http::admin_routes));
    }

    fn app_data(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.app_data(actix_web::web::Data::new(self.clone()));
    }
}
