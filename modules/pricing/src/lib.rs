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

use agora_kernel::cache::Cache;
use agora_kernel::events::EventBus;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::money::Currency;
use agora_kernel::{Acting, Database, TenantContext, TenantTx};
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use error::PricingError;
pub use price_lists::{
    BaseCandidate, CurrencyRate, CurrencyRateId, CurrencyRatePatch, ExplainQuery, ListCandidate, NewCurrencyRate,
    NewPriceList, PriceExplanation, PriceList, PriceListEntriesInput, PriceListEntriesWritten, PriceListEntry,
    PriceListEntryInput, PriceListId, PriceListPatch, PriceListStatus, PriceRounding, PriceSheet, PriceTier,
    ShopperPrice,
};

/// The pricing module; cheap to clone.
#[derive(Clone)]
pub struct PricingModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    bus: EventBus,
    /// The storefront read cache: price writes drop what shoppers were shown.
    cache: Cache,
}

impl PricingModule {
    pub fn new(db: Database, bus: &EventBus, cache: Cache) -> Self {
        Self { inner: Arc::new(Inner { db, bus: bus.clone(), cache }) }
    }

    #[allow(dead_code)] // Read by the features as they land.
    fn db(&self) -> &Database {
        &self.inner.db
    }

    #[allow(dead_code)]
    fn bus(&self) -> &EventBus {
        &self.inner.bus
    }
}

// ---- price lists, conversion rates, the price a shopper pays (see `price_lists`) -------------
impl PricingModule {
    /// After a price write commits, storefront answers that showed prices are dropped (the tag
    /// every cached price overlay carries); a rolled-back write drops nothing.
    async fn prices_written<T>(
        &self,
        tenant: &TenantContext,
        result: Result<T, PricingError>,
    ) -> Result<T, PricingError> {
        self.inner.cache.after_commit(tenant, result, |_| vec![agora_kernel::ports::PRICES_CACHE_TAG.to_string()]).await
    }

    pub async fn create_price_list(
        &self,
        tenant: &TenantContext,
        new: NewPriceList,
        acting: &Acting,
    ) -> Result<PriceList, PricingError> {
        let result = self.db().in_tenant(tenant, acting, async |tx| price_lists::create(tx, new).await).await;
        self.prices_written(tenant, result).await
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
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| price_lists::update(tx, id, patch, expected_version).await)
            .await;
        self.prices_written(tenant, result).await
    }

    pub async fn delete_price_list(
        &self,
        tenant: &TenantContext,
        id: PriceListId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), PricingError> {
        let result =
            self.db().in_tenant(tenant, acting, async |tx| price_lists::delete(tx, id, expected_version).await).await;
        self.prices_written(tenant, result).await
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
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| price_lists::upsert_entries(tx, id, input, expected_version).await)
            .await;
        self.prices_written(tenant, result).await
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
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| price_lists::delete_entry(tx, id, variant, expected_version).await)
            .await;
        self.prices_written(tenant, result).await
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
        let result = self.db().in_tenant(tenant, acting, async |tx| price_lists::rates::create(tx, new).await).await;
        self.prices_written(tenant, result).await
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
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| price_lists::rates::update(tx, id, patch, expected_version).await)
            .await;
        self.prices_written(tenant, result).await
    }

    pub async fn delete_currency_rate(
        &self,
        tenant: &TenantContext,
        id: CurrencyRateId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), PricingError> {
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| price_lists::rates::delete(tx, id, expected_version).await)
            .await;
        self.prices_written(tenant, result).await
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

/// Who reads prices for the storefront.
static READER: Acting = Acting { actor: agora_kernel::Actor::System("pricing"), ip: None };

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
