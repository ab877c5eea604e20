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

use agora_kernel::events::EventBus;
use agora_kernel::Database;
use std::sync::Arc;

pub use error::PricingError;

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

    #[allow(dead_code)] // Read by the features as they land.
    fn db(&self) -> &Database {
        &self.inner.db
    }

    #[allow(dead_code)]
    fn bus(&self) -> &EventBus {
        &self.inner.bus
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
