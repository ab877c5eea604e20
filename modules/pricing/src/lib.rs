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
mod promotions;

use agora_kernel::events::EventBus;
use agora_kernel::money::Currency;
use agora_kernel::{Acting, Database, TenantContext, TenantTx};
use chrono::{DateTime, Utc};
use std::sync::Arc;

pub use error::PricingError;
pub use promotions::{
    AppliedPromotion, AppliedPromotions, CodeRejection, DiscountKind, DiscountTier, GenerateCodes, GeneratedCodes,
    LineDiscount, NewPromotion, NewPromotionCode, Promotion, PromotionCode, PromotionCodeId, PromotionConditions,
    PromotionContext, PromotionDiscount, PromotionFilter, PromotionId, PromotionLine, PromotionPatch, PromotionStatus,
    PromotionTrigger, Redemption, RejectedCode, Stacking,
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
        promotions::redeem(tx, redemptions, customer_id, order_ref).await
    }

    /// Gives back the uses of a cancelled order; releasing again does nothing. How many
    /// redemptions were released.
    pub async fn release_redemption(
        &self,
        tx: &mut TenantTx<'_>,
        order_ref: uuid::Uuid,
    ) -> Result<usize, PricingError> {
        promotions::release(tx, order_ref).await
    }

    /// The evaluation a cart would get, for staff (changes nothing).
    pub async fn preview_promotions(
        &self,
        tenant: &TenantContext,
        ctx: PromotionContext,
    ) -> Result<AppliedPromotions, PricingError> {
        self.db().in_tenant(tenant, &promotions_reader(), async |tx| promotions::evaluate(tx, &ctx).await).await
    }

    /// `sold`: the currencies the shop sells in (the catalog's); amounts in others are refused.
    pub async fn create_promotion(
        &self,
        tenant: &TenantContext,
        new: NewPromotion,
        sold: &[Currency],
        acting: &Acting,
    ) -> Result<Promotion, PricingError> {
        self.db().in_tenant(tenant, acting, async |tx| promotions::create(tx, new, sold).await).await
    }

    pub async fn promotions(
        &self,
        tenant: &TenantContext,
        filter: &PromotionFilter,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: i64,
    ) -> Result<Vec<Promotion>, PricingError> {
        self.db()
            .in_tenant(tenant, &promotions_reader(), async |tx| promotions::list(tx, filter, after, limit).await)
            .await
    }

    pub async fn promotion(&self, tenant: &TenantContext, id: PromotionId) -> Result<Promotion, PricingError> {
        self.db().in_tenant(tenant, &promotions_reader(), async |tx| promotions::get(tx, id).await).await
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
        self.db().in_tenant(tenant, acting, async |tx| promotions::update(tx, id, patch, expected, sold).await).await
    }

    pub async fn delete_promotion(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<(), PricingError> {
        self.db().in_tenant(tenant, acting, async |tx| promotions::delete(tx, id, expected).await).await
    }

    pub async fn promotion_codes(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: i64,
    ) -> Result<Vec<PromotionCode>, PricingError> {
        self.db()
            .in_tenant(tenant, &promotions_reader(), async |tx| promotions::codes(tx, id, after, limit).await)
            .await
    }

    pub async fn add_promotion_code(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        new: NewPromotionCode,
        acting: &Acting,
    ) -> Result<PromotionCode, PricingError> {
        self.db().in_tenant(tenant, acting, async |tx| promotions::add_code(tx, id, new).await).await
    }

    pub async fn generate_promotion_codes(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        request: GenerateCodes,
        acting: &Acting,
    ) -> Result<GeneratedCodes, PricingError> {
        self.db().in_tenant(tenant, acting, async |tx| promotions::generate_codes(tx, id, request).await).await
    }

    pub async fn set_promotion_code_status(
        &self,
        tenant: &TenantContext,
        id: PromotionId,
        code: PromotionCodeId,
        status: PromotionStatus,
        acting: &Acting,
    ) -> Result<PromotionCode, PricingError> {
        self.db().in_tenant(tenant, acting, async |tx| promotions::set_code_status(tx, id, code, status).await).await
    }
}

/// The actor of the promotions' read-only transactions (nothing is stamped or audited).
fn promotions_reader() -> Acting {
    Acting::system("pricing.promotions.read")
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
