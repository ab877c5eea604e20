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
mod shipping;

use agora_kernel::events::EventBus;
use agora_kernel::{Acting, Database, TenantContext, TenantTx};
use std::sync::Arc;

pub use error::PricingError;
pub use shipping::{
    DeliveryEstimate, Destination, NewShippingZone, RateBand, ShippingCountries, ShippingMethod, ShippingMethodId,
    ShippingMethodInput, ShippingOption, ShippingOptions, ShippingQuery, ShippingRateKind, ShippingZone,
    ShippingZoneId, ShippingZoneList, ShippingZonePatch,
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

/// Reads need no actor of their own: they change nothing.
fn reading() -> Acting {
    Acting::system("read")
}

/// The currencies the shop sells, which every amount a merchant enters must be in.
async fn sold(tx: &mut TenantTx<'_>) -> Result<Vec<String>, PricingError> {
    Ok(agora_catalog::CatalogModule::sold_currencies_in(tx).await?.currencies)
}

impl PricingModule {
    pub async fn shipping_zones(&self, tenant: &TenantContext) -> Result<Vec<ShippingZone>, PricingError> {
        self.db().in_tenant(tenant, &reading(), async |tx| shipping::zones(tx).await).await
    }

    pub async fn shipping_zone(
        &self,
        tenant: &TenantContext,
        id: ShippingZoneId,
    ) -> Result<ShippingZone, PricingError> {
        self.db().in_tenant(tenant, &reading(), async |tx| shipping::zone(tx, id).await).await
    }

    pub async fn create_shipping_zone(
        &self,
        tenant: &TenantContext,
        zone: NewShippingZone,
        acting: &Acting,
    ) -> Result<ShippingZone, PricingError> {
        self.db().in_tenant(tenant, acting, async |tx| shipping::create_zone(tx, zone).await).await
    }

    pub async fn update_shipping_zone(
        &self,
        tenant: &TenantContext,
        id: ShippingZoneId,
        patch: ShippingZonePatch,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<ShippingZone, PricingError> {
        self.db().in_tenant(tenant, acting, async |tx| shipping::update_zone(tx, id, patch, expected).await).await
    }

    pub async fn delete_shipping_zone(
        &self,
        tenant: &TenantContext,
        id: ShippingZoneId,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<(), PricingError> {
        self.db().in_tenant(tenant, acting, async |tx| shipping::delete_zone(tx, id, expected).await).await
    }

    pub async fn shipping_method(
        &self,
        tenant: &TenantContext,
        id: ShippingMethodId,
    ) -> Result<ShippingMethod, PricingError> {
        self.db().in_tenant(tenant, &reading(), async |tx| shipping::method(tx, id).await).await
    }

    pub async fn create_shipping_method(
        &self,
        tenant: &TenantContext,
        zone: ShippingZoneId,
        input: ShippingMethodInput,
        acting: &Acting,
    ) -> Result<ShippingMethod, PricingError> {
        self.db()
            .in_tenant(tenant, acting, async |tx| {
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
            .in_tenant(tenant, acting, async |tx| {
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
        self.db().in_tenant(tenant, acting, async |tx| shipping::delete_method(tx, id, expected).await).await
    }

    /// The methods a shipment can go by, cheapest first, in its own transaction.
    pub async fn shipping_options(
        &self,
        tenant: &TenantContext,
        query: &ShippingQuery,
    ) -> Result<ShippingOptions, PricingError> {
        self.db().in_tenant(tenant, &reading(), async |tx| shipping::options(tx, query).await).await
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
        self.db().in_tenant(tenant, &reading(), async |tx| shipping::countries(tx).await).await
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
