//! Cart: what a shopper means to buy, before checkout.
//!
//! - **Guest carts** are reached by an opaque token (a cookie, or `X-Cart-Token` for API
//!   clients); only its SHA-256 is kept. **Customer carts** by the signed-in account; a guest
//!   cart met by a signed-in customer is merged into theirs (both carts' lines kept).
//! - Lines hold a variant and a quantity, checked against the shop's limits and the inventory's
//!   availability (no reservation: that is checkout's).
//! - Every amount comes from pricing: the price the shopper's groups pay, promotions and codes
//!   (with the reason one does not apply), shipping for the destination or pickup, taxes by
//!   rate. What a line last showed is kept, so a changed price is told once.
//! - A guest's cart, once worked out, is kept in the storefront cache until anything it was
//!   worked out from is written ([`cached`]): a warm read costs no query.
//! - Carts unchanged for the shop's configured time are abandoned (`cart.abandoned.v1`).

mod cached;
mod carts;
mod error;
mod events;
mod http;
mod jobs;
mod store;
mod tokens;
mod totals;

use agora_catalog::{ProductId, VariantId};
use agora_inventory::{LocationId, PickupLocation};
use agora_kernel::cache::{Cache, Lookup};
use agora_kernel::events::{EventBus, EventBusBuilder};
use agora_kernel::jobs::JobRegistry;
use agora_kernel::money::Money;
use agora_kernel::{Acting, Actor, Database, TenantContext};
use agora_pricing::{CodeRejection, Destination, PromotionId, ShippingMethodId, ShippingOption, TaxByRate};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use error::CartError;
pub use events::{CartAbandoned, CartCreated, CartUpdated};

agora_kernel::typed_id! {
    /// A shopper's cart.
    pub CartId
}

agora_kernel::typed_id! {
    /// One line (one variant) of a cart.
    pub CartLineId
}

agora_kernel::text_enum! {
    /// Why a line cannot be bought as it is; such a line counts in no total.
    pub enum LineProblem {
        /// The product was deleted, archived or unpublished.
        Unavailable = "unavailable",
        /// The variant has no price in the cart's currency.
        NoPrice = "no_price",
        /// The shop has fewer than the line asks (see `available`).
        NotEnoughStock = "not_enough_stock",
    }
}

agora_kernel::text_enum! {
    /// What changed since the shopper last looked.
    pub enum NoticeKind {
        /// A line's unit price is not what the shopper last saw (`previous` → `current`).
        PriceChanged = "price_changed",
        /// A line's product can no longer be bought.
        LineUnavailable = "line_unavailable",
        /// A line asks for more than the shop has now.
        NotEnoughStock = "not_enough_stock",
        /// An entered code no longer applies (`reason` says why).
        CodeNoLongerApplies = "code_no_longer_applies",
        /// The chosen shipping method does not deliver this cart any more.
        ShippingUnavailable = "shipping_unavailable",
    }
}

/// A line of the cart, priced.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CartLine {
    pub id: CartLineId,
    pub variant_id: VariantId,
    /// Absent when the variant no longer exists.
    pub product_id: Option<ProductId>,
    /// The product's name in the shopper's language.
    pub name: String,
    pub sku: Option<String>,
    pub option_values: BTreeMap<String, String>,
    /// The product page's slug, for a link back.
    pub slug: Option<String>,
    pub quantity: i32,
    /// What one unit costs the shopper at this quantity (price lists, tiers, sale prices).
    pub unit_price: Option<Money>,
    /// The price it is reduced from, when on sale.
    pub compare_at: Option<Money>,
    /// Unit price × quantity.
    pub line_total: Option<Money>,
    /// The promotions' share of this line (exact: the lines' shares sum to each promotion's
    /// amount).
    pub discount: Option<Money>,
    /// Line total less its discount.
    pub total: Option<Money>,
    /// The tax in (or on) `total`.
    pub tax: Option<Money>,
    /// How many can be bought now; absent when nothing limits it.
    pub available: Option<i64>,
    /// `in_stock`, `low_stock`, `backorder`, `preorder`, `out_of_stock`; absent when not counted.
    pub stock_status: Option<String>,
    pub problem: Option<LineProblem>,
}

/// A code the shopper entered, and whether it applies.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CartCode {
    pub code: String,
    pub applied: bool,
    /// Why it does not apply now.
    pub reason: Option<CodeRejection>,
}

/// A promotion the cart gets.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CartDiscount {
    pub promotion_id: PromotionId,
    pub name: String,
    /// The code that brought it; absent for an automatic promotion.
    pub code: Option<String>,
    /// Off the lines.
    pub amount: Money,
    /// Off the shipping (free shipping).
    pub shipping: Option<Money>,
}

/// Where the cart goes and how.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CartShipping {
    /// Some line is a physical product (digital ones are delivered as files).
    pub requires_shipping: bool,
    /// The estimate's destination.
    pub destination: Option<Destination>,
    /// The methods that deliver there, cheapest first.
    pub options: Vec<ShippingOption>,
    /// Stores where the order can be collected instead.
    pub pickup_locations: Vec<PickupLocation>,
    pub method_id: Option<ShippingMethodId>,
    pub pickup_location_id: Option<LocationId>,
    /// The chosen method's price before promotions.
    pub price: Option<Money>,
}

/// The cart's amounts, as the shop's tax setting shows them.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CartTotals {
    /// The buyable lines' totals before promotions (with tax when the shop's prices include it).
    pub subtotal: Money,
    /// Off the lines, every promotion together.
    pub discount_total: Money,
    /// Shipping after its discount.
    pub shipping_total: Money,
    /// Tax included in (or added to) the total.
    pub tax_total: Money,
    /// What the shopper pays.
    pub total: Money,
    /// The tax by rate, as a receipt lists it ("VAT 19 %").
    pub taxes: Vec<TaxByRate>,
    /// Prices include tax (EU style: "incl. VAT"); else it is added (US style).
    pub prices_include_tax: bool,
    /// The country the taxes were worked out for: the destination's, else where the shop sells
    /// from (an estimate); absent when neither is known (no tax shown).
    pub tax_country: Option<String>,
    /// The buyer accounts for the VAT (EU reverse charge).
    pub reverse_charge: bool,
}

/// Something the shopper should be told.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CartNotice {
    pub kind: NoticeKind,
    pub line_id: Option<CartLineId>,
    pub code: Option<String>,
    pub reason: Option<CodeRejection>,
    pub previous: Option<Money>,
    pub current: Option<Money>,
}

/// A cart with everything worked out.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Cart {
    pub id: CartId,
    /// The guest cart's token, only in the answer that made the cart (it is also set as the
    /// cookie): API clients send it back in `X-Cart-Token`. Never shown again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub currency: String,
    /// The language the lines' names are in.
    pub locale: String,
    /// The signed-in customer's cart (else a guest's).
    pub customer_cart: bool,
    pub lines: Vec<CartLine>,
    /// Units over every line.
    pub item_count: i64,
    pub codes: Vec<CartCode>,
    pub discounts: Vec<CartDiscount>,
    pub shipping: CartShipping,
    pub totals: CartTotals,
    /// What changed since the shopper last looked (told until the cart next changes, or
    /// `POST /cart/refresh`).
    pub notices: Vec<CartNotice>,
    pub version: i64,
    pub modified_at: DateTime<Utc>,
    /// When it is abandoned if nothing changes before.
    pub expires_at: DateTime<Utc>,
}

/// A cart as answered, with the guest token to hand out when one was made.
#[derive(Debug, Clone)]
pub struct CartAnswer {
    pub cart: Cart,
    /// A new guest cart's token: shown once (cookie and body), never stored in clear.
    pub new_token: Option<String>,
    /// The guest token the request carried is spent (merged into the customer's cart).
    pub token_spent: bool,
}

/// Who asks for a cart.
#[derive(Debug, Clone, Default)]
pub struct Shopper {
    /// The signed-in customer of this shop.
    pub customer: Option<uuid::Uuid>,
    /// A guest cart's token (cookie or `X-Cart-Token`).
    pub token: Option<String>,
    /// `Accept-Language`, best first.
    pub languages: Vec<String>,
    /// The client's address, for the audit columns.
    pub ip: Option<String>,
}

impl Shopper {
    fn acting(&self) -> Acting {
        let actor = match self.customer {
            Some(c) => Actor::User(c),
            None => Actor::Anonymous,
        };
        Acting::new(actor, self.ip.clone())
    }
}

/// A new cart.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewCart {
    /// One the shop sells in; the shop's default when absent.
    pub currency: Option<String>,
}

/// Put a variant in the cart (added to its line when it has one).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct AddLine {
    pub variant_id: VariantId,
    /// 1 when absent.
    pub quantity: Option<i32>,
}

/// A line's new quantity.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct LineQuantity {
    /// 0 removes the line.
    pub quantity: i32,
}

/// A discount code to apply.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct CodeInput {
    pub code: String,
}

/// Where the cart goes, and how: a shipping method for the destination, or a pickup store.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ShippingChoice {
    /// ISO 3166-1 alpha-2 (`DE`).
    pub country: String,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// One of the cart's `shipping.options`.
    pub method_id: Option<ShippingMethodId>,
    /// One of the cart's `shipping.pickup_locations` (instead of a method).
    pub pickup_location_id: Option<LocationId>,
}

/// Change the cart's currency (prices are worked out anew in it).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct CartPatch {
    pub currency: String,
}

/// The shop's cart rules.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct CartSettings {
    /// An open cart unchanged this long (minutes, 5–525,600) is abandoned.
    pub abandon_after_minutes: i32,
    /// At most this many of one item per cart (1–1,000,000).
    pub max_line_quantity: i32,
    /// At most this many different items per cart (1–1,000).
    pub max_lines: i32,
}

/// The cart module; cheap to clone.
#[derive(Clone)]
pub struct CartModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    bus: EventBus,
    customers: agora_customers::CustomersModule,
    inventory: agora_inventory::InventoryModule,
    pricing: agora_pricing::PricingModule,
    /// Guests' carts worked out (see [`cached`]).
    cache: Cache,
    /// Whether the guest cart cookie is sent over HTTPS only.
    secure_cookies: bool,
}

/// Who reads carts (reads write nothing, so nothing is stamped with it).
static READER: Acting = Acting { actor: Actor::System("cart"), ip: None };

impl CartModule {
    pub fn new(
        db: Database,
        bus: &EventBus,
        customers: agora_customers::CustomersModule,
        inventory: agora_inventory::InventoryModule,
        pricing: agora_pricing::PricingModule,
        cache: Cache,
        secure_cookies: bool,
    ) -> Self {
        Self { inner: Arc::new(Inner { db, bus: bus.clone(), customers, inventory, pricing, cache, secure_cookies }) }
    }

    fn db(&self) -> &Database {
        &self.inner.db
    }

    pub(crate) fn secure_cookies(&self) -> bool {
        self.inner.secure_cookies
    }

    /// The shopper's cart, or a new one (a customer who has one gets theirs).
    pub async fn create(
        &self,
        tenant: &TenantContext,
        shopper: &Shopper,
        new: NewCart,
    ) -> Result<CartAnswer, CartError> {
        self.db().in_tenant(tenant, &shopper.acting(), async |tx| carts::create(self, tx, shopper, new).await).await
    }

    /// The shopper's cart with its totals; merges a guest cart into a signed-in customer's.
    pub async fn get(&self, tenant: &TenantContext, shopper: &Shopper) -> Result<CartAnswer, CartError> {
        let acting = match (&shopper.customer, &shopper.token) {
            // Only a merge writes, and it is the customer's doing.
            (Some(_), Some(_)) => shopper.acting(),
            _ => READER.clone(),
        };
        let guest = match (&shopper.customer, &shopper.token) {
            (None, Some(token)) => Some(tokens::lookup_hash(token).ok_or(CartError::CartNotFound)?),
            _ => None,
        };
        let Some(hash) = guest else {
            return self
                .db()
                .in_tenant(tenant, &acting, async |tx| carts::get(self, tx, shopper).await)
                .await
                .map(|a| a.0);
        };
        let cache = &self.inner.cache;
        let key = cached::key(&hash, &shopper.languages);
        let fill = match cache.lookup(tenant, &key).await {
            Lookup::Hit(body) => match serde_json::from_slice::<Cart>(&body) {
                Ok(cart) => return Ok(CartAnswer { cart, new_token: None, token_spent: false }),
                // An entry of an older shape (a newer release reading it): worked out afresh; the
                // entry goes within its time to live.
                Err(_) => None,
            },
            Lookup::Miss(fill) => Some(fill),
        };
        let (answer, depends) =
            self.db().in_tenant(tenant, &acting, async |tx| carts::get(self, tx, shopper).await).await?;
        if let (Some(fill), Some(ttl)) = (fill, cached::keep_for(depends.next_change)) {
            if let Ok(body) = serde_json::to_vec(&answer.cart) {
                cache.fill(fill, &depends.tags, body.into(), ttl).await;
            }
        }
        Ok(answer)
    }

    /// Adds to a variant's line (a cart is made when the shopper has none).
    pub async fn add_line(
        &self,
        tenant: &TenantContext,
        shopper: &Shopper,
        add: AddLine,
    ) -> Result<CartAnswer, CartError> {
        self.db().in_tenant(tenant, &shopper.acting(), async |tx| carts::add_line(self, tx, shopper, add).await).await
    }

    pub async fn set_quantity(
        &self,
        tenant: &TenantContext,
        shopper: &Shopper,
        line: CartLineId,
        quantity: i32,
    ) -> Result<CartAnswer, CartError> {
        self.db()
            .in_tenant(tenant, &shopper.acting(), async |tx| {
                carts::set_quantity(self, tx, shopper, line, quantity).await
            })
            .await
    }

    pub async fn apply_code(
        &self,
        tenant: &TenantContext,
        shopper: &Shopper,
        code: String,
    ) -> Result<CartAnswer, CartError> {
        self.db()
            .in_tenant(tenant, &shopper.acting(), async |tx| carts::apply_code(self, tx, shopper, code).await)
            .await
    }

    pub async fn remove_code(
        &self,
        tenant: &TenantContext,
        shopper: &Shopper,
        code: String,
    ) -> Result<CartAnswer, CartError> {
        self.db()
            .in_tenant(tenant, &shopper.acting(), async |tx| carts::remove_code(self, tx, shopper, code).await)
            .await
    }

    pub async fn choose_shipping(
        &self,
        tenant: &TenantContext,
        shopper: &Shopper,
        choice: ShippingChoice,
    ) -> Result<CartAnswer, CartError> {
        self.db()
            .in_tenant(tenant, &shopper.acting(), async |tx| carts::choose_shipping(self, tx, shopper, choice).await)
            .await
    }

    pub async fn change_currency(
        &self,
        tenant: &TenantContext,
        shopper: &Shopper,
        patch: CartPatch,
    ) -> Result<CartAnswer, CartError> {
        self.db()
            .in_tenant(tenant, &shopper.acting(), async |tx| carts::change_currency(self, tx, shopper, patch).await)
            .await
    }

    /// The shopper has seen the notices: the prices shown now are the ones to compare with.
    pub async fn acknowledge(&self, tenant: &TenantContext, shopper: &Shopper) -> Result<CartAnswer, CartError> {
        self.db().in_tenant(tenant, &shopper.acting(), async |tx| carts::acknowledge(self, tx, shopper).await).await
    }

    pub async fn settings(&self, tenant: &TenantContext) -> Result<(CartSettings, i64), CartError> {
        self.db().in_tenant(tenant, &READER, async |tx| carts::settings(tx).await).await
    }

    pub async fn update_settings(
        &self,
        tenant: &TenantContext,
        settings: CartSettings,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<(CartSettings, i64), CartError> {
        self.db().in_tenant(tenant, acting, async |tx| carts::update_settings(tx, settings, expected).await).await
    }

    /// Abandons the open carts of every open shop left unchanged longer than the shop allows.
    pub(crate) async fn abandon_idle_carts(&self) -> Result<(), agora_kernel::jobs::JobError> {
        let shops = self
            .db()
            .control_tx(async |conn| Ok::<_, agora_kernel::DbError>(agora_tenancy::open_shops(conn).await?))
            .await
            .map_err(agora_kernel::jobs::JobError::retry)?;
        let acting = Acting::system("cart.abandonment");
        for shop in &shops {
            match self.abandon_idle_in(shop, &acting).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(shop = %shop.slug, abandoned = n, "idle carts abandoned"),
                Err(e) => tracing::warn!(shop = %shop.slug, error = %e, "abandoning idle carts failed"),
            }
        }
        Ok(())
    }

    /// Abandons one shop's idle carts (a bounded batch); how many.
    pub async fn abandon_idle_in(&self, tenant: &TenantContext, acting: &Acting) -> Result<usize, CartError> {
        let bus = &self.inner.bus;
        self.db().in_tenant(tenant, acting, async |tx| carts::abandon_idle(tx, bus).await).await
    }
}

impl agora_kernel::Module for CartModule {
    fn store(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::store_routes(cfg);
    }

    fn admin(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::admin_routes(cfg);
    }

    fn app_data(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.app_data(actix_web::web::Data::new(self.clone()));
    }

    fn background(&self, events: &mut EventBusBuilder, jobs: &mut JobRegistry) -> Result<(), String> {
        events::declare(events);
        jobs::register(jobs)?;
        jobs.provide(Arc::new(self.clone()));
        Ok(())
    }
}
