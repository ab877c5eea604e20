//! Inventory: where stock is, how much of it can be sold, and what is promised to whom.
//!
//! - **Stock locations** (warehouses, stores) with an address, a priority (lower is chosen
//!   first) and the countries they ship to.
//! - **Stock levels** per variant and location: on hand, reserved, safety stock; available to
//!   sell = on hand − reserved − safety stock. The database refuses a negative count or more
//!   reserved than on hand (CHECK constraints), whatever the code does.
//! - **The ledger**: every change to on hand is an append-only adjustment (received, damaged,
//!   counted, returned, correction, sold, transfer out/in) with who, when and a reference;
//!   summing it gives the levels' on hand back.
//! - **Reservations** ([`InventoryModule::reserve`], `extend`, `commit`, `release`) run inside
//!   the caller's transaction (checkout's, or a manual hold's). Each part is one conditional
//!   UPDATE (`… WHERE on_hand - reserved - safety_stock >= n`), so concurrent reservations can
//!   never take more than is there, on one replica or many, and no lock outlives the
//!   caller's transaction. A reservation one location cannot cover is split over several, first
//!   choice first. Each reservation enqueues its own expiry job for the instant it runs out, in
//!   the same transaction: a process killed mid-reservation leaves either a reservation with an
//!   expiry (and its job) or nothing.
//! - **Transfers** take stock out of one location at once (in transit) and into the other when
//!   received; a cancelled one puts it back.
//! - **Backorders and preorders**: a variant whose policy allows it is promised beyond stock
//!   (up to its limit; preorders until their date) — the part no location covers is held on
//!   the variant, not a level, and once paid is owed until stock arrives, which pays it first.
//! - **Availability** (in stock, low stock, out of stock, backorder, preorder): worked out at the
//!   end of every change under the variant's lock, announced when it changes
//!   (`inventory.availability.changed.v1`) and recorded by the catalog for shoppers. A variant
//!   is counted from its first stock level or settings on; before that it is not, and sells
//!   freely (a shop that does not keep stock in Agora).
//! - Events (`inventory.stock.*.v1`) go through the outbox in the transaction of the change.

mod availability;
mod error;
mod events;
mod http;
mod http_csv;
mod jobs;
mod locations;
mod reservations;
mod stock;
mod stock_csv;
mod stock_csv_store;
mod store;
mod transfers;

use agora_kernel::events::{EventBus, EventBusBuilder};
use agora_kernel::jobs::{JobError, JobRegistry};
use agora_kernel::values::Quantity;
use agora_kernel::{Acting, Database, TenantContext, TenantTx};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use agora_catalog::VariantId;
pub use error::InventoryError;
pub use events::{
    AvailabilityChanged, BackInStock, BackorderedPart, LowStock, ReservedPart, StockAdjusted, StockCommitted,
    StockExpired, StockReleased, StockReserved,
};

agora_kernel::typed_id! {
    /// A place stock is kept: a warehouse, a store.
    pub LocationId
}

agora_kernel::typed_id! {
    /// Stock promised to an order, a checkout or a phone order.
    pub ReservationId
}

agora_kernel::typed_id! {
    /// Stock on its way from one location to another.
    pub TransferId
}

agora_kernel::text_enum! {
    /// Where a reservation stands.
    pub enum ReservationStatus {
        /// Holding stock until it expires.
        Active = "active",
        /// The order was paid: the stock left on hand.
        Committed = "committed",
        /// Let go before its time.
        Released = "released",
        /// Its time ran out; the stock returned.
        Expired = "expired",
    }
}

agora_kernel::text_enum! {
    /// Why on-hand stock changed.
    pub enum AdjustmentReason {
        Received = "received",
        Damaged = "damaged",
        Counted = "counted",
        Returned = "returned",
        Correction = "correction",
        /// A reservation was committed.
        Sold = "sold",
        TransferOut = "transfer_out",
        TransferIn = "transfer_in",
    }
}

agora_kernel::text_enum! {
    /// Where a transfer stands.
    pub enum TransferStatus {
        InTransit = "in_transit",
        Received = "received",
        Cancelled = "cancelled",
    }
}

agora_kernel::text_enum! {
    /// How a variant sells once its stock runs out.
    pub enum StockPolicy {
        /// Not sold without stock.
        Deny = "deny",
        /// Sold beyond stock, up to the backorder limit.
        Backorder = "backorder",
        /// Sold before it arrives, until the preorder date.
        Preorder = "preorder",
    }
}

/// A whole number read from JSON, or an error naming `field` (serde's own would say only
/// "expected i64", and the problem could not tell the client which number was wrong).
fn whole_number<'de, D: Deserializer<'de>>(d: D, field: &str) -> Result<i64, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    value.as_i64().ok_or_else(|| serde::de::Error::custom(format!("{field}: must be a whole number, not {value}")))
}

fn quantity_field<'de, D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
    let n = whole_number(d, "quantity")?;
    Quantity::new(n).map_err(|e| serde::de::Error::custom(format!("quantity: {e}")))
}

fn delta_field<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let n = whole_number(d, "quantity")?;
    i32::try_from(n).map_err(|_| serde::de::Error::custom("quantity: out of range"))
}

fn on_hand_field<'de, D: Deserializer<'de>>(d: D) -> Result<i32, D::Error> {
    let n = whole_number(d, "on_hand")?;
    i32::try_from(n).map_err(|_| serde::de::Error::custom("on_hand: out of range"))
}

/// A location's postal address.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub postal_code: Option<String>,
    pub region: Option<String>,
    /// ISO 3166-1 alpha-2 (`DE`).
    pub country: Option<String>,
}

/// A new stock location.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewLocation {
    /// Unique among the shop's locations; 1–200 characters.
    pub name: String,
    pub address: Option<Address>,
    /// Lower numbers are chosen first when stock is reserved (0–1,000,000; default 100).
    pub priority: Option<i32>,
    /// Inactive locations keep their stock but are never reserved from (default true).
    pub active: Option<bool>,
    /// ISO 3166-1 alpha-2 countries it ships to; empty or absent ships anywhere.
    pub ships_to: Option<Vec<String>>,
    /// Shoppers may collect orders here (a store); default false.
    pub pickup: Option<bool>,
}

/// Changes to a location; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct LocationPatch {
    pub name: Option<String>,
    pub address: Option<Address>,
    pub priority: Option<i32>,
    pub active: Option<bool>,
    pub ships_to: Option<Vec<String>>,
    pub pickup: Option<bool>,
}

/// How much of a counted variant a cart may hold now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sellable {
    /// Free stock plus what may be promised beyond it; `None`: nothing limits it.
    pub most: Option<i64>,
    /// What shoppers are told about it.
    pub status: Option<agora_catalog::StockStatus>,
}

/// A store where shoppers may collect their orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
pub struct PickupLocation {
    pub id: LocationId,
    pub name: String,
    pub address: Address,
}

/// The stores where shoppers may collect their orders, first choice first.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct PickupLocationList {
    pub items: Vec<PickupLocation>,
}

/// A stock location.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    pub address: Address,
    pub priority: i32,
    pub active: bool,
    pub ships_to: Vec<String>,
    /// Shoppers may collect orders here.
    pub pickup: bool,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// The shop's stock locations, first choice first.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct LocationList {
    pub items: Vec<Location>,
}

/// A variant's stock at one location.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StockLevel {
    pub location_id: LocationId,
    pub location_name: String,
    pub on_hand: i32,
    pub reserved: i32,
    pub safety_stock: i32,
    /// On hand − reserved − safety stock, never below zero.
    pub available: i32,
}

/// How a variant is counted and sold.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StockSettings {
    /// Untracked variants (services, digital goods) are always available and never reserved.
    pub tracked: bool,
    pub policy: StockPolicy,
    /// With the `backorder` policy: how many may be sold beyond stock.
    pub backorder_limit: Option<i32>,
    /// With the `preorder` policy: until when it may be ordered ahead.
    pub preorder_until: Option<DateTime<Utc>>,
    /// Available at or below this at a location raises a low-stock alert.
    pub low_stock_threshold: Option<i32>,
}

/// A variant's settings as written (every field; `PUT` replaces them).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct StockSettingsInput {
    pub tracked: bool,
    pub policy: StockPolicy,
    pub backorder_limit: Option<i32>,
    pub preorder_until: Option<DateTime<Utc>>,
    pub low_stock_threshold: Option<i32>,
}

/// A variant's stock across the shop's locations.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct VariantStock {
    pub variant_id: VariantId,
    pub sku: String,
    pub settings: StockSettings,
    pub levels: Vec<StockLevel>,
    pub on_hand: i32,
    pub reserved: i32,
    pub available: i32,
    /// The version of the variant's settings (its ETag for `PUT …/settings`); 0 before first set.
    pub settings_version: i64,
}

/// A stock count at one location: on hand becomes `on_hand` (recorded as a `counted`
/// adjustment of the difference).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct StockCount {
    /// What was counted; not below what is reserved there.
    #[serde(deserialize_with = "on_hand_field")]
    pub on_hand: i32,
    /// Units kept back from sale here (absent: unchanged).
    pub safety_stock: Option<i32>,
    pub note: Option<String>,
}

/// A change to on-hand stock with its reason.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewAdjustment {
    pub variant_id: VariantId,
    pub location_id: LocationId,
    /// `received`, `damaged`, `counted`, `returned` or `correction`.
    pub reason: AdjustmentReason,
    /// Units added (positive) or taken away (negative); not zero.
    #[serde(deserialize_with = "delta_field")]
    pub quantity: i32,
    /// A delivery note, an RMA, a count sheet.
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// One entry of the ledger.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Adjustment {
    pub id: uuid::Uuid,
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub reason: AdjustmentReason,
    pub on_hand_delta: i32,
    /// On hand at the location right after this change.
    pub on_hand_after: i32,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

/// One variant of a reservation request.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ReservationLineRequest {
    pub variant_id: VariantId,
    /// 1 to 1,000,000.
    #[serde(deserialize_with = "quantity_field")]
    pub quantity: Quantity,
}

/// What to reserve, for whom and for how long: the facade's request (checkout builds one).
#[derive(Debug, Clone)]
pub struct ReservationRequest {
    /// An order, a checkout or a phone-order id (1–200 characters).
    pub reference: String,
    pub lines: Vec<ReservationLineRequest>,
    /// Only locations shipping there (ISO 3166-1 alpha-2).
    pub ship_to_country: Option<String>,
    /// Only this location (a pickup store).
    pub location: Option<LocationId>,
    /// How long it holds; the shop's reservation time when absent.
    pub ttl: Option<chrono::Duration>,
    pub note: Option<String>,
}

/// A manual hold: staff reserve stock for a phone order or a customer.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewHold {
    /// Whom or what it is for: an order number, a customer's name (1–200 characters).
    pub reference: String,
    pub lines: Vec<ReservationLineRequest>,
    /// Take stock only from locations shipping to this country.
    pub ship_to_country: Option<String>,
    /// Take stock only from this location.
    pub location_id: Option<LocationId>,
    /// Minutes it holds (1–10,080); the shop's reservation time when absent.
    pub expires_in_minutes: Option<i64>,
    pub note: Option<String>,
}

/// A new expiry for a reservation in force.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ExtendReservation {
    /// Minutes from now it holds (1–10,080).
    pub expires_in_minutes: i64,
}

/// A reservation's part at one location.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ReservationLine {
    pub variant_id: VariantId,
    pub location_id: LocationId,
    pub quantity: i32,
}

/// A reservation's part promised beyond stock (the variant takes backorders or preorders).
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct BackorderedLine {
    pub variant_id: VariantId,
    pub quantity: i32,
}

/// Stock promised until it is committed, released or expires.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Reservation {
    pub id: ReservationId,
    pub reference: String,
    pub status: ReservationStatus,
    pub expires_at: DateTime<Utc>,
    pub note: Option<String>,
    /// Stock taken from locations.
    pub lines: Vec<ReservationLine>,
    /// Promised beyond stock, with no location yet.
    pub backordered: Vec<BackorderedLine>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub version: i64,
}

/// One variant of a transfer.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TransferLine {
    pub variant_id: VariantId,
    /// 1 to 1,000,000.
    #[serde(deserialize_with = "quantity_field")]
    pub quantity: Quantity,
}

/// Stock to move from one location to another.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewTransfer {
    pub from_location_id: LocationId,
    /// Another location than `from_location_id`.
    pub to_location_id: LocationId,
    pub lines: Vec<TransferLine>,
    pub reference: Option<String>,
    pub note: Option<String>,
}

/// Stock on its way between two locations (taken out of the first when created, into the second
/// when received).
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Transfer {
    pub id: TransferId,
    pub from_location_id: LocationId,
    pub to_location_id: LocationId,
    pub status: TransferStatus,
    pub lines: Vec<TransferLine>,
    pub reference: Option<String>,
    pub note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// The shop's inventory settings.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct InventorySettings {
    /// How long a reservation holds when its caller says nothing (1–10,080 minutes; default 15).
    pub reservation_minutes: i64,
}

/// The inventory module: its database, bus, and the catalog it tells what shoppers may buy.
/// Cheap to clone.
#[derive(Clone)]
pub struct InventoryModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    bus: EventBus,
    catalog: agora_catalog::CatalogModule,
}

impl InventoryModule {
    pub fn new(db: Database, bus: &EventBus, catalog: agora_catalog::CatalogModule) -> Self {
        Self { inner: Arc::new(Inner { db, bus: bus.clone(), catalog }) }
    }

    fn db(&self) -> &Database {
        &self.inner.db
    }

    fn bus(&self) -> &EventBus {
        &self.inner.bus
    }

    // --- Reservations: the facade checkout calls, inside its own transaction ---------------

    /// Reserves every line of `request` or nothing (`OutOfStock` naming the line), in the
    /// caller's transaction: the stock is held once that transaction commits, and never if it
    /// rolls back.
    pub async fn reserve(
        &self,
        tx: &mut TenantTx<'_>,
        request: ReservationRequest,
    ) -> Result<Reservation, InventoryError> {
        reservations::reserve(tx, self.bus(), request).await
    }

    /// Moves a reservation in force's expiry to `ttl` from now.
    pub async fn extend(
        &self,
        tx: &mut TenantTx<'_>,
        id: ReservationId,
        ttl: chrono::Duration,
    ) -> Result<Reservation, InventoryError> {
        reservations::extend(tx, id, ttl).await
    }

    /// Turns a reservation in force into stock gone (`sold` in the ledger).
    pub async fn commit(&self, tx: &mut TenantTx<'_>, id: ReservationId) -> Result<Reservation, InventoryError> {
        reservations::commit(tx, self.bus(), id).await
    }

    /// Lets a reservation go: its stock is available again.
    pub async fn release(&self, tx: &mut TenantTx<'_>, id: ReservationId) -> Result<Reservation, InventoryError> {
        reservations::release(tx, self.bus(), id).await
    }

    // --- Manual holds and reservations over HTTP ------------------------------------------------

    pub async fn hold(
        &self,
        tenant: &TenantContext,
        hold: NewHold,
        acting: &Acting,
    ) -> Result<Reservation, InventoryError> {
        let bus = self.bus();
        self.db()
            .in_tenant(tenant, acting, async |tx| {
                let request = reservations::hold_request(hold)?;
                let reservation = reservations::reserve(tx, bus, request).await?;
                tx.audit("inventory.hold.created", Some(reservation.id.to_string()), serde_json::json!({})).await?;
                Ok(reservation)
            })
            .await
    }

    pub async fn release_hold(
        &self,
        tenant: &TenantContext,
        id: ReservationId,
        acting: &Acting,
    ) -> Result<Reservation, InventoryError> {
        let bus = self.bus();
        self.db()
            .in_tenant(tenant, acting, async |tx| {
                let reservation = reservations::release(tx, bus, id).await?;
                tx.audit("inventory.hold.released", Some(id.to_string()), serde_json::json!({})).await?;
                Ok(reservation)
            })
            .await
    }

    pub async fn commit_hold(
        &self,
        tenant: &TenantContext,
        id: ReservationId,
        acting: &Acting,
    ) -> Result<Reservation, InventoryError> {
        let bus = self.bus();
        self.db()
            .in_tenant(tenant, acting, async |tx| {
                let reservation = reservations::commit(tx, bus, id).await?;
                tx.audit("inventory.hold.committed", Some(id.to_string()), serde_json::json!({})).await?;
                Ok(reservation)
            })
            .await
    }

    pub async fn extend_hold(
        &self,
        tenant: &TenantContext,
        id: ReservationId,
        body: ExtendReservation,
        acting: &Acting,
    ) -> Result<Reservation, InventoryError> {
        self.db()
            .in_tenant(tenant, acting, async |tx| {
                let ttl = reservations::minutes("expires_in_minutes", body.expires_in_minutes)?;
                reservations::extend(tx, id, ttl).await
            })
            .await
    }

    pub async fn reservation(&self, tenant: &TenantContext, id: ReservationId) -> Result<Reservation, InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| reservations::get(tx, id).await).await
    }

    pub async fn reservations_in_force(
        &self,
        tenant: &TenantContext,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: i64,
    ) -> Result<Vec<Reservation>, InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| reservations::in_force(tx, after, limit).await).await
    }

    /// Expires the shop's reservations whose time is up (the expiry job); how many it expired.
    pub async fn expire_due(&self, tenant: &TenantContext) -> Result<usize, InventoryError> {
        let bus = self.bus();
        self.db()
            .in_tenant(tenant, &Acting::system("inventory.expiry"), async |tx| reservations::expire_due(tx, bus).await)
            .await
    }

    // --- Locations -----------------------------------------------------------------------------

    pub async fn create_location(
        &self,
        tenant: &TenantContext,
        new: NewLocation,
        acting: &Acting,
    ) -> Result<Location, InventoryError> {
        self.db()
            .in_tenant_dropping(tenant, acting, &[availability::SHOP_TAG], async |tx| locations::create(tx, new).await)
            .await
    }

    pub async fn locations(&self, tenant: &TenantContext) -> Result<Vec<Location>, InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| locations::list(tx).await).await
    }

    /// Where shoppers may collect orders (active locations that allow pickup).
    pub async fn pickup_locations(&self, tenant: &TenantContext) -> Result<Vec<PickupLocation>, InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| locations::pickup(tx).await).await
    }

    /// How much of each of `variants` a cart may hold now, in the caller's transaction (the
    /// cart's): no reservation is taken (that is checkout's). A variant absent from the answer
    /// is not counted and never runs out.
    pub async fn sellable_in(
        &self,
        tx: &mut TenantTx<'_>,
        variants: &[VariantId],
    ) -> Result<BTreeMap<VariantId, Sellable>, InventoryError> {
        availability::sellable(tx, variants).await
    }

    /// The tags of cached storefront answers that show the stock of `variants`, pickup stores or
    /// anything else the shop's stock settings decide: every change to them drops these.
    pub fn cache_tags(variants: &[VariantId]) -> Vec<String> {
        let mut tags: Vec<String> = variants.iter().map(|v| availability::stock_tag(*v)).collect();
        tags.push(availability::SHOP_TAG.to_string());
        tags
    }

    /// [`pickup_locations`](Self::pickup_locations) in the caller's transaction (the cart's).
    pub async fn pickup_locations_in(&self, tx: &mut TenantTx<'_>) -> Result<Vec<PickupLocation>, InventoryError> {
        locations::pickup(tx).await
    }

    pub async fn location(&self, tenant: &TenantContext, id: LocationId) -> Result<Location, InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| locations::get(tx, id).await).await
    }

    pub async fn update_location(
        &self,
        tenant: &TenantContext,
        id: LocationId,
        patch: LocationPatch,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<Location, InventoryError> {
        let bus = self.bus();
        self.db()
            .in_tenant_dropping(tenant, acting, &[availability::SHOP_TAG], async |tx| {
                locations::update(tx, bus, id, patch, expected).await
            })
            .await
    }

    pub async fn delete_location(
        &self,
        tenant: &TenantContext,
        id: LocationId,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<(), InventoryError> {
        self.db()
            .in_tenant_dropping(tenant, acting, &[availability::SHOP_TAG], async |tx| {
                locations::delete(tx, id, expected).await
            })
            .await
    }

    // --- Stock, adjustments, ledger ------------------------------------------------------------

    pub async fn variant_stock(
        &self,
        tenant: &TenantContext,
        variant: VariantId,
    ) -> Result<VariantStock, InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| stock::variant_stock(tx, variant, "variant_id").await).await
    }

    pub async fn count_stock(
        &self,
        tenant: &TenantContext,
        variant: VariantId,
        location: LocationId,
        count: StockCount,
        acting: &Acting,
    ) -> Result<VariantStock, InventoryError> {
        let bus = self.bus();
        self.db()
            .in_tenant(tenant, acting, async |tx| {
                stock::count(tx, bus, variant, location, count).await?;
                stock::variant_stock(tx, variant, "variant_id").await
            })
            .await
    }

    pub async fn set_stock_settings(
        &self,
        tenant: &TenantContext,
        variant: VariantId,
        settings: StockSettingsInput,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<VariantStock, InventoryError> {
        self.db()
            .in_tenant(tenant, acting, async |tx| {
                stock::set_settings(tx, self.bus(), variant, settings, expected).await?;
                stock::variant_stock(tx, variant, "variant_id").await
            })
            .await
    }

    pub async fn adjust(
        &self,
        tenant: &TenantContext,
        adjustment: NewAdjustment,
        acting: &Acting,
    ) -> Result<Adjustment, InventoryError> {
        let bus = self.bus();
        self.db().in_tenant(tenant, acting, async |tx| stock::adjust(tx, bus, adjustment).await).await
    }

    pub async fn ledger(
        &self,
        tenant: &TenantContext,
        variant: VariantId,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: i64,
    ) -> Result<Vec<Adjustment>, InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| stock::ledger(tx, variant, after, limit).await).await
    }

    pub async fn settings(&self, tenant: &TenantContext) -> Result<(InventorySettings, i64), InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| stock::shop_settings(tx).await).await
    }

    pub async fn update_settings(
        &self,
        tenant: &TenantContext,
        settings: InventorySettings,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<(InventorySettings, i64), InventoryError> {
        self.db()
            .in_tenant_dropping(tenant, acting, &[availability::SHOP_TAG], async |tx| {
                stock::set_shop_settings(tx, settings, expected).await
            })
            .await
    }

    // --- Transfers -----------------------------------------------------------------------------

    pub async fn create_transfer(
        &self,
        tenant: &TenantContext,
        new: NewTransfer,
        acting: &Acting,
    ) -> Result<Transfer, InventoryError> {
        let bus = self.bus();
        self.db().in_tenant(tenant, acting, async |tx| transfers::create(tx, bus, new).await).await
    }

    pub async fn transfer(&self, tenant: &TenantContext, id: TransferId) -> Result<Transfer, InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| transfers::get(tx, id).await).await
    }

    pub async fn transfers(
        &self,
        tenant: &TenantContext,
        after: Option<(DateTime<Utc>, uuid::Uuid)>,
        limit: i64,
    ) -> Result<Vec<Transfer>, InventoryError> {
        self.db().in_tenant(tenant, &reader(), async |tx| transfers::list(tx, after, limit).await).await
    }

    pub async fn close_transfer(
        &self,
        tenant: &TenantContext,
        id: TransferId,
        to: TransferStatus,
        expected: Option<i64>,
        acting: &Acting,
    ) -> Result<Transfer, InventoryError> {
        let bus = self.bus();
        self.db().in_tenant(tenant, acting, async |tx| transfers::close(tx, bus, id, to, expected).await).await
    }

    // --- CSV stock import and export (tasks; `stock_csv.rs`) --------------------------------------

    /// Starts importing a stock file stored by `agora_kernel::csv_files::receive_upload`.
    pub async fn start_import(
        &self,
        tenant: &TenantContext,
        file: agora_kernel::storage::FileKey,
        acting: &Acting,
        task: agora_kernel::tasks::NewTask,
    ) -> Result<agora_kernel::tasks::TaskId, InventoryError> {
        let job = jobs::ImportStock { file: file.as_str().to_string(), by: stock_csv::StartedBy::of(&acting.actor) };
        self.db().in_tenant(tenant, acting, async |tx| Ok(agora_kernel::tasks::start(tx, &job, task).await?)).await
    }

    /// Starts exporting every stock level as CSV (the import's columns); the file is the
    /// task's result.
    pub async fn start_export(
        &self,
        tenant: &TenantContext,
        acting: &Acting,
        task: agora_kernel::tasks::NewTask,
    ) -> Result<agora_kernel::tasks::TaskId, InventoryError> {
        let job = jobs::ExportStock {};
        self.db().in_tenant(tenant, acting, async |tx| Ok(agora_kernel::tasks::start(tx, &job, task).await?)).await
    }

    /// Runs the import of `file` for the job's task; the ledger's entries name the task.
    pub(crate) async fn run_import(
        &self,
        ctx: &agora_kernel::jobs::JobContext,
        file: &agora_kernel::storage::FileKey,
        by: Option<agora_kernel::Actor>,
    ) -> Result<(), agora_kernel::jobs::JobError> {
        // The frame starts the task's progress afresh itself; this only learns the task's id.
        let task = ctx.progress().await?.id();
        let import = stock_csv::StockImport { bus: self.bus().clone(), by, reference: format!("csv-import:{task}") };
        agora_kernel::csv_files::run_import(ctx, &import, file).await
    }

    // --- What modules telling people about stock need (notifications' low-stock emails) --------

    /// The SKU of live variant `variant` and the name of live location `location`, read in the
    /// caller's transaction; `None` when either is gone.
    pub async fn level_names(
        tx: &mut TenantTx<'_>,
        variant: VariantId,
        location: LocationId,
    ) -> Result<Option<(String, String)>, InventoryError> {
        let Some(sku) = agora_catalog::CatalogModule::live_variant_skus(tx, &[variant]).await?.remove(&variant) else {
            return Ok(None);
        };
        Ok(store::find_location(tx.conn(), location, false).await?.map(|l| (sku, l.name)))
    }
}

/// The actor of read-only transactions (nothing is stamped or audited).
fn reader() -> Acting {
    Acting::system("inventory.read")
}

impl agora_kernel::Module for InventoryModule {
    fn store(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.service(paperclip::actix::web::scope(http::SCOPE).configure(http::store_routes));
    }

    fn admin(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.service(paperclip::actix::web::scope(http::SCOPE).configure(http::admin_routes));
    }

    fn app_data(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.app_data(actix_web::web::Data::new(self.clone()));
    }

    fn background(&self, events: &mut EventBusBuilder, jobs: &mut JobRegistry) -> Result<(), String> {
        events::declare(events);
        // The catalog shows shoppers what the inventory announces (a downward call: the
        // catalog knows nothing of stock).
        let catalog = self.inner.catalog.clone();
        events.subscribe::<AvailabilityChanged, _, _>("catalog.availability", move |event, _envelope, ctx| {
            let catalog = catalog.clone();
            async move {
                let tenant = ctx.tenant.clone().ok_or_else(|| JobError::permanent("availability belongs to a shop"))?;
                let availability =
                    event.status.as_deref().and_then(agora_catalog::StockStatus::parse).map(|status| {
                        agora_catalog::VariantAvailability { status, preorder_until: event.preorder_until }
                    });
                let variant = VariantId::from_uuid(event.variant_id);
                let acting = Acting::system("inventory.availability");
                catalog
                    .record_availability(&tenant, variant, availability, event.sequence, &acting)
                    .await
                    .map_err(JobError::retry)
            }
        });
        events.prioritize("catalog.availability", 10);
        jobs::register(jobs);
        // The expiry job reaches the module (its database and bus) as a resource.
        jobs.provide(Arc::new(self.clone()));
        Ok(())
    }
}
