//! The events the catalog publishes (through the outbox, in the transaction of the change).

use agora_kernel::events::{Event, EventBusBuilder};
use serde::{Deserialize, Serialize};

/// A product was created.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProductCreated {
    pub product_id: uuid::Uuid,
    pub status: String,
    pub skus: Vec<String>,
    pub version: i64,
}

/// A product, one of its variants or prices changed.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProductUpdated {
    pub product_id: uuid::Uuid,
    /// The fields that changed (`status`, `name`, `variants`, …).
    pub changed: Vec<String>,
    pub version: i64,
}

/// A product was deleted; shoppers no longer see it.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProductDeleted {
    pub product_id: uuid::Uuid,
    pub skus: Vec<String>,
}

/// A variant's price in one currency was set, changed or removed.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PriceChanged {
    pub product_id: uuid::Uuid,
    pub variant_id: uuid::Uuid,
    pub sku: String,
    pub currency: String,
    /// Minor units before the change; absent when there was no price in this currency.
    pub previous_amount: Option<i64>,
    /// Minor units now; absent when the price was removed.
    pub amount: Option<i64>,
    pub compare_at_amount: Option<i64>,
}

/// A product became active (shoppers see it within its publication window), or the window of
/// an active product opened (`publish_at` passed; announced once, within seconds).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProductPublished {
    pub product_id: uuid::Uuid,
    pub publish_at: Option<chrono::DateTime<chrono::Utc>>,
    pub unpublish_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// An active product was set to draft or archived, or deleted, or its publication window closed.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProductUnpublished {
    pub product_id: uuid::Uuid,
    /// Its status now (`draft`, `archived`), or `deleted`; `active` when its publication window
    /// closed (`unpublish_at` passed; announced once, within seconds).
    pub status: String,
}

/// A category was created, renamed, moved, reordered or deleted.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CategoryChanged {
    pub category_id: uuid::Uuid,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    /// The fields that changed (`name`, `parent_id`, `position`, …); empty when created or deleted.
    pub changed: Vec<String>,
    pub version: i64,
}

/// A collection was created, changed or deleted.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CollectionChanged {
    pub collection_id: uuid::Uuid,
    /// `created`, `updated` or `deleted`.
    pub action: String,
    pub version: i64,
}

/// A product type was created.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProductTypeChanged {
    pub product_type_id: uuid::Uuid,
    /// `created`.
    pub action: String,
    pub version: i64,
}

impl Event for CategoryChanged {
    const NAME: &'static str = "catalog.category_changed.v1";
    fn aggregate_id(&self) -> String {
        format!("category:{}", self.category_id)
    }
}

impl Event for CollectionChanged {
    const NAME: &'static str = "catalog.collection_changed.v1";
    fn aggregate_id(&self) -> String {
        format!("collection:{}", self.collection_id)
    }
}

impl Event for ProductTypeChanged {
    const NAME: &'static str = "catalog.product_type_changed.v1";
    fn aggregate_id(&self) -> String {
        format!("product_type:{}", self.product_type_id)
    }
}

/// A product image's thumbnails were made (`ready`: shoppers see it now) or could not be
/// (`failed`: the original cannot be rendered).
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ProductMediaProcessed {
    pub product_id: uuid::Uuid,
    pub media_id: uuid::Uuid,
    /// `ready` or `failed`.
    pub status: String,
    /// The thumbnails' widths in pixels, smallest first (empty when failed).
    pub widths: Vec<u32>,
}

fn aggregate(product_id: uuid::Uuid) -> String {
    format!("product:{product_id}")
}

impl Event for ProductCreated {
    const NAME: &'static str = "catalog.product_created.v1";
    fn aggregate_id(&self) -> String {
        aggregate(self.product_id)
    }
}

impl Event for ProductUpdated {
    const NAME: &'static str = "catalog.product_updated.v1";
    fn aggregate_id(&self) -> String {
        aggregate(self.product_id)
    }
}

impl Event for ProductDeleted {
    const NAME: &'static str = "catalog.product_deleted.v1";
    fn aggregate_id(&self) -> String {
        aggregate(self.product_id)
    }
}

impl Event for PriceChanged {
    const NAME: &'static str = "catalog.price_changed.v1";
    fn aggregate_id(&self) -> String {
        aggregate(self.product_id)
    }
}

impl Event for ProductPublished {
    const NAME: &'static str = "catalog.product_published.v1";
    fn aggregate_id(&self) -> String {
        aggregate(self.product_id)
    }
}

impl Event for ProductUnpublished {
    const NAME: &'static str = "catalog.product_unpublished.v1";
    fn aggregate_id(&self) -> String {
        aggregate(self.product_id)
    }
}

impl Event for ProductMediaProcessed {
    const NAME: &'static str = "catalog.product_media_processed.v1";
    fn aggregate_id(&self) -> String {
        aggregate(self.product_id)
    }
}

pub(crate) fn declare(events: &mut EventBusBuilder) {
    events
        .declare::<ProductCreated>()
        .declare::<ProductUpdated>()
        .declare::<ProductDeleted>()
        .declare::<PriceChanged>()
        .declare::<ProductPublished>()
        .declare::<ProductUnpublished>()
        .declare::<CategoryChanged>()
        .declare::<CollectionChanged>()
        .declare::<ProductTypeChanged>()
        .declare::<ProductMediaProcessed>();
}
