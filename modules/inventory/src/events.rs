//! The events the inventory publishes (through the outbox, in the transaction of the change).

use agora_kernel::events::{Event, EventBusBuilder};
use serde::{Deserialize, Serialize};

/// On-hand stock of a variant at a location changed (received, damaged, counted, returned,
/// corrected, sold, transferred).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StockAdjusted {
    pub variant_id: uuid::Uuid,
    pub location_id: uuid::Uuid,
    /// `received`, `damaged`, `counted`, `returned`, `correction`, `sold`, `transfer_out`, `transfer_in`.
    pub reason: String,
    pub on_hand_delta: i32,
    pub on_hand: i32,
    pub reference: Option<String>,
}

/// One variant's part of a reservation at one location.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ReservedPart {
    pub variant_id: uuid::Uuid,
    pub location_id: uuid::Uuid,
    pub quantity: i32,
}

/// One variant's part of a reservation promised beyond stock (backorder or preorder).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BackorderedPart {
    pub variant_id: uuid::Uuid,
    pub quantity: i32,
}

/// Stock was reserved (a checkout, an order, a manual hold).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StockReserved {
    pub reservation_id: uuid::Uuid,
    pub reference: String,
    pub lines: Vec<ReservedPart>,
    pub backordered: Vec<BackorderedPart>,
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

/// A reservation was let go: its stock is available again.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StockReleased {
    pub reservation_id: uuid::Uuid,
    pub reference: String,
    pub lines: Vec<ReservedPart>,
    pub backordered: Vec<BackorderedPart>,
}

/// A reservation ran out of time: its stock is available again.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StockExpired {
    pub reservation_id: uuid::Uuid,
    pub reference: String,
    pub lines: Vec<ReservedPart>,
    pub backordered: Vec<BackorderedPart>,
}

/// A reservation was committed (the order was paid): its stock left on-hand.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct StockCommitted {
    pub reservation_id: uuid::Uuid,
    pub reference: String,
    pub lines: Vec<ReservedPart>,
    /// Owed to the order until stock arrives (arriving stock pays them first).
    pub backordered: Vec<BackorderedPart>,
}

/// Stock available to sell at a location fell to or below the variant's low-stock threshold.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LowStock {
    pub variant_id: uuid::Uuid,
    pub location_id: uuid::Uuid,
    pub available: i32,
    pub threshold: i32,
}

/// Stock became available to sell again at a location where there was none.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BackInStock {
    pub variant_id: uuid::Uuid,
    pub location_id: uuid::Uuid,
    pub available: i32,
}

/// What shoppers are told about a variant's stock changed (in stock, low stock, out of stock,
/// backorder, preorder; none when it is no longer counted). Numbered per variant: a consumer
/// keeps the highest `sequence` it has seen, as deliveries may come out of order.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct AvailabilityChanged {
    pub variant_id: uuid::Uuid,
    /// `in_stock`, `low_stock`, `out_of_stock`, `backorder`, `preorder`; absent: not counted.
    pub status: Option<String>,
    /// With `preorder`: when preorders close.
    pub preorder_until: Option<chrono::DateTime<chrono::Utc>>,
    pub sequence: i64,
}

fn variant(id: uuid::Uuid) -> String {
    format!("variant:{id}")
}

fn reservation(id: uuid::Uuid) -> String {
    format!("reservation:{id}")
}

impl Event for StockAdjusted {
    const NAME: &'static str = "inventory.stock.adjusted.v1";
    fn aggregate_id(&self) -> String {
        variant(self.variant_id)
    }
}

impl Event for StockReserved {
    const NAME: &'static str = "inventory.stock.reserved.v1";
    fn aggregate_id(&self) -> String {
        reservation(self.reservation_id)
    }
}

impl Event for StockReleased {
    const NAME: &'static str = "inventory.stock.released.v1";
    fn aggregate_id(&self) -> String {
        reservation(self.reservation_id)
    }
}

impl Event for StockExpired {
    const NAME: &'static str = "inventory.stock.expired.v1";
    fn aggregate_id(&self) -> String {
        reservation(self.reservation_id)
    }
}

impl Event for StockCommitted {
    const NAME: &'static str = "inventory.stock.committed.v1";
    fn aggregate_id(&self) -> String {
        reservation(self.reservation_id)
    }
}

impl Event for LowStock {
    const NAME: &'static str = "inventory.stock.low_stock.v1";
    fn aggregate_id(&self) -> String {
        variant(self.variant_id)
    }
}

impl Event for BackInStock {
    const NAME: &'static str = "inventory.stock.back_in_stock.v1";
    fn aggregate_id(&self) -> String {
        variant(self.variant_id)
    }
}

impl Event for AvailabilityChanged {
    const NAME: &'static str = "inventory.availability.changed.v1";
    fn aggregate_id(&self) -> String {
        variant(self.variant_id)
    }
}

pub(crate) fn declare(events: &mut EventBusBuilder) {
    events
        .declare::<StockAdjusted>()
        .declare::<StockReserved>()
        .declare::<StockReleased>()
        .declare::<StockExpired>()
        .declare::<StockCommitted>()
        .declare::<LowStock>()
        .declare::<BackInStock>()
        .declare::<AvailabilityChanged>();
}
