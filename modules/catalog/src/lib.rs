//! The catalog: what a shop sells and how shoppers find it.
//!
//! - Products (physical or digital) with variants (SKU unique per shop among live variants,
//!   option values, barcode, weight, dimensions) and prices per variant per currency with a
//!   compare-at price. A product and its variants are one versioned resource: a change to a
//!   variant or a price bumps the product's `version` (its ETag).
//! - Product types declare typed attributes (text, number, boolean, select, multi-select); a
//!   product's attribute values are checked against its type and usable as storefront filters.
//! - Categories form a tree (move, reorder, breadcrumbs; a loop is refused).
//! - Every shopper-facing text is a [`LocalizedText`]; slugs are unique per shop and locale, any
//!   locale's slug resolves, and a slug a product had before answers with a permanent redirect.
//! - Each write records a change in the product's history and publishes its events through the
//!   outbox in the same transaction (`catalog.product_created.v1`, …), and refreshes the product's
//!   search document through the search port ([`search::SearchEngine`]), so an external engine
//!   can replace PostgreSQL's without touching callers.
//! - The storefront never sees a draft, archived, deleted or unpublished product: visibility is
//!   one filter, [`storefront`], applied by every storefront read.
//! - Product media (`media.rs`): real images only, stored through the shop's files (local or
//!   S3), thumbnails made by a job, ordered, alt text per language; shoppers get the thumbnails
//!   of ready images of visible products, streamed with a year-long `Cache-Control`.
//!
//! - Every facade method opens one tenant transaction (`Database::in_tenant`) and calls the rules
//!   (`products.rs`, `categories.rs`, …), which stamp the audit columns, write the shop's audit log
//!   and publish through that transaction; `store.rs` only reads and writes rows.
//! - Storefront reads go through the read cache ([`store_cache`]): a warm read costs no query, a
//!   write drops what it changed after it commits, and no entry outlives the next scheduled
//!   publication.
//! - Publication windows are announced: a recurring sweep (every 5 s, `jobs.rs`) publishes
//!   `ProductPublished` when an active product's `publish_at` passes and `ProductUnpublished`
//!   (status `active`) when its `unpublish_at` does, each edge once (tenant V16 marks it in the
//!   transaction that publishes).
//! - Bulk changes (status, prices, categories) and CSV import/export run as tasks
//!   (`agora_kernel::tasks`); the CSV columns are in `docs/catalog-csv.md`.
//!
//! Currencies: the shop's default currency is always sold; staff add others with
//! `PUT /api/v1/admin/catalog/currencies` (until the shop settings carry a currency list).

mod bulk;
mod cart_lines;
mod categories;
mod collections;
mod error;
mod events;
mod http;
mod http_media;
mod jobs;
mod media;
mod media_store;
mod product_csv;
mod product_types;
mod products;
mod schema;
pub mod search;
mod shown_prices;
mod store;
mod store_cache;
mod storefront;

use actix_web::web::Bytes;
use agora_kernel::cache::{Cache, Lookup};
use agora_kernel::csv_files;
use agora_kernel::events::{EventBus, EventBusBuilder};
use agora_kernel::jobs::{JobContext, JobError, JobRegistry};
use agora_kernel::lists::{Keyset, ListQuery, Page};
use agora_kernel::money::Money;
use agora_kernel::ports::PRICES_CACHE_TAG;
use agora_kernel::storage::{ConfiguredStorage, FileKey};
use agora_kernel::tasks::{self, NewTask, TaskId};
use agora_kernel::values::LocalizedText;
use agora_kernel::{Acting, Actor, ApiError, Database, DbError, TenantContext};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use cart_lines::{CartCatalog, CartVariant};
pub use error::CatalogError;
pub use events::{
    CategoryChanged, CollectionChanged, PriceChanged, ProductCreated, ProductDeleted, ProductMediaProcessed,
    ProductPublished, ProductTypeChanged, ProductUnpublished, ProductUpdated,
};
pub use media::{
    MakeProductThumbnails, MediaFile, MediaImage, MediaOrder, MediaPatch, MediaUpload, ProductMedia, ProductMediaList,
    RemoveMediaFiles, StoreMedia, MAX_UPLOAD_BYTES,
};

agora_kernel::typed_id! {
    /// A product of the catalog.
    pub ProductId
}

agora_kernel::typed_id! {
    /// A variant (one SKU) of a product.
    pub VariantId
}

agora_kernel::typed_id! {
    /// A category of the tree.
    pub CategoryId
}

agora_kernel::typed_id! {
    /// A product type.
    pub ProductTypeId
}

agora_kernel::typed_id! {
    /// A collection of products.
    pub CollectionId
}

agora_kernel::typed_id! {
    /// An image of a product.
    pub MediaId
}

agora_kernel::text_enum! {
    /// Whether a product image's thumbnails are made.
    pub enum MediaStatus {
        Processing = "processing",
        Ready = "ready",
        /// The original could not be rendered; shoppers never see it.
        Failed = "failed",
    }
}

agora_kernel::text_enum! {
    /// Whether a product is shipped or delivered as a file after payment.
    pub enum ProductKind {
        Physical = "physical",
        Digital = "digital",
    }
}

agora_kernel::text_enum! {
    /// Whether shoppers can see a product (an active one, within its publication window).
    pub enum ProductStatus {
        Draft = "draft",
        Active = "active",
        Archived = "archived",
    }
}

agora_kernel::text_enum! {
    /// The type of an attribute's values.
    pub enum AttributeKind {
        Text = "text",
        Number = "number",
        Boolean = "boolean",
        /// One of the attribute's `options`.
        Select = "select",
        /// Any of the attribute's `options`, as a list.
        MultiSelect = "multi_select",
    }
}

agora_kernel::text_enum! {
    /// Orders of the back office's product list.
    pub enum ProductSort {
        Created = "created_at",
        Modified = "modified_at",
        Name = "name",
    }
}

impl agora_kernel::lists::SortKey for ProductSort {
    const DEFAULT: agora_kernel::lists::Sort<Self> = agora_kernel::lists::Sort::descending(ProductSort::Created);
}

agora_kernel::text_enum! {
    /// Orders of the storefront's product lists.
    pub enum StoreSort {
        Newest = "newest",
        Name = "name",
        Price = "price",
    }
}

impl agora_kernel::lists::SortKey for StoreSort {
    const DEFAULT: agora_kernel::lists::Sort<Self> = agora_kernel::lists::Sort::descending(StoreSort::Newest);
}

agora_kernel::text_enum! {
    /// Orders of storefront search results.
    pub enum SearchSort {
        /// Best first: an exact name match, then the full text rank (names weigh most, then
        /// SKUs and attribute values, then descriptions), then the id.
        Relevance = "relevance",
    }
}

impl agora_kernel::lists::SortKey for SearchSort {
    // Relevance has one direction (best first); `-relevance` means the same.
    const DEFAULT: agora_kernel::lists::Sort<Self> = agora_kernel::lists::Sort::ascending(SearchSort::Relevance);
}

agora_kernel::text_enum! {
    /// What shoppers are told about a variant's stock (the inventory module decides which).
    pub enum StockStatus {
        InStock = "in_stock",
        /// Few left: at or below the variant's low-stock threshold.
        LowStock = "low_stock",
        OutOfStock = "out_of_stock",
        /// Out of stock, but sold ahead of the next delivery.
        Backorder = "backorder",
        /// Not arrived yet; ordered ahead until `preorder_until`.
        Preorder = "preorder",
    }
}

/// A variant's availability as shown on the storefront.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
pub struct VariantAvailability {
    pub status: StockStatus,
    /// With `preorder`: the moment preorders close (after it the variant is out of stock).
    pub preorder_until: Option<DateTime<Utc>>,
}

impl VariantAvailability {
    /// A recorded availability as shoppers see it at `now` (`None`: not counted). A preorder
    /// past its date is out of stock without anybody having to say so.
    pub(crate) fn read(
        status: Option<&str>,
        preorder_until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Option<Self> {
        let status = status.and_then(StockStatus::parse)?;
        if status == StockStatus::Preorder && preorder_until.is_none_or(|u| u <= now) {
            return Some(Self { status: StockStatus::OutOfStock, preorder_until: None });
        }
        Some(Self { status, preorder_until: preorder_until.filter(|_| status == StockStatus::Preorder) })
    }
}

/// An option type of a product (`size`) and the values its variants choose from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductOption {
    pub name: String,
    pub values: Vec<String>,
}

/// A price of a variant in one currency, in minor units.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PriceInput {
    /// Minor units (cents), not negative.
    pub amount: i64,
    /// ISO 4217; one of the currencies the shop sells in.
    pub currency: String,
    /// The "was" price shown struck through, in the same currency.
    pub compare_at: Option<i64>,
}

/// A variant's price in one currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
pub struct VariantPrice {
    pub price: Money,
    pub compare_at: Option<Money>,
}

/// A new variant: one sellable SKU of a product.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewVariant {
    /// Unique among the shop's live variants; 1–64 characters, no spaces.
    pub sku: String,
    /// One value for each of the product's options: `{"size": "M"}`.
    #[serde(default)]
    pub option_values: BTreeMap<String, String>,
    pub barcode: Option<String>,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    pub position: Option<i32>,
    #[serde(default)]
    pub prices: Vec<PriceInput>,
}

/// Changes to a variant; absent fields stay, `prices` (when present) replaces them all.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct VariantPatch {
    pub sku: Option<String>,
    pub option_values: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub barcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub weight_grams: Option<Option<i32>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub length_mm: Option<Option<i32>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub width_mm: Option<Option<i32>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub height_mm: Option<Option<i32>>,
    pub position: Option<i32>,
    pub prices: Option<Vec<PriceInput>>,
}

/// A variant as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Variant {
    pub id: VariantId,
    pub sku: String,
    pub option_values: BTreeMap<String, String>,
    pub barcode: Option<String>,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    pub position: i32,
    pub prices: Vec<VariantPrice>,
}

/// A new product. Texts are per locale (`{"en": "T-Shirt", "de": "T-Shirt"}`); `slug` is per
/// locale too (made from the name when absent).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewProduct {
    pub kind: Option<ProductKind>,
    /// Default `draft`.
    pub status: Option<ProductStatus>,
    /// Shoppers see an active product from this instant (always when absent) …
    pub publish_at: Option<DateTime<Utc>>,
    /// … until this one (forever when absent).
    pub unpublish_at: Option<DateTime<Utc>>,
    pub product_type_id: Option<ProductTypeId>,
    /// For the tax rules to come (e.g. `standard`, `reduced`).
    pub tax_class: Option<String>,
    pub name: LocalizedText,
    pub description: Option<LocalizedText>,
    pub seo_title: Option<LocalizedText>,
    pub seo_description: Option<LocalizedText>,
    pub slug: Option<BTreeMap<String, String>>,
    #[serde(default)]
    pub options: Vec<ProductOption>,
    /// Values of the product type's attributes: `{"colour": "red", "organic": true}`.
    #[serde(default)]
    pub attributes: BTreeMap<String, serde_json::Value>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    pub category_ids: Vec<CategoryId>,
    #[serde(default)]
    pub variants: Vec<NewVariant>,
}

/// Changes to a product; absent fields stay as they are, `null` clears an optional one.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatch {
    pub kind: Option<ProductKind>,
    pub status: Option<ProductStatus>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub publish_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub unpublish_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub product_type_id: Option<Option<ProductTypeId>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub tax_class: Option<Option<String>>,
    pub name: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub seo_title: Option<LocalizedText>,
    pub seo_description: Option<LocalizedText>,
    /// Slugs by locale; a changed one keeps answering with a redirect to the new one.
    pub slug: Option<BTreeMap<String, String>>,
    /// The options, all of them. With variants: an added option gives every variant its first
    /// value (change them per variant afterwards); a removed one is dropped from the variants,
    /// refused (422 `options`) when two variants would then be alike; a value a variant still
    /// uses must stay (422 `variants[SKU].option_values.NAME`).
    pub options: Option<Vec<ProductOption>>,
    pub attributes: Option<BTreeMap<String, serde_json::Value>>,
    pub tags: Option<Vec<String>>,
    pub category_ids: Option<Vec<CategoryId>>,
}

/// A product as staff see it, with its variants.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Product {
    pub id: ProductId,
    pub kind: ProductKind,
    pub status: ProductStatus,
    pub publish_at: Option<DateTime<Utc>>,
    pub unpublish_at: Option<DateTime<Utc>>,
    pub product_type_id: Option<ProductTypeId>,
    pub tax_class: Option<String>,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub seo_title: LocalizedText,
    pub seo_description: LocalizedText,
    pub slug: BTreeMap<String, String>,
    pub options: Vec<ProductOption>,
    pub attributes: BTreeMap<String, serde_json::Value>,
    pub tags: Vec<String>,
    pub category_ids: Vec<CategoryId>,
    pub variants: Vec<Variant>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
    pub version: i64,
}

/// Filters of the back office's product list.
#[derive(Debug, Clone, Default, Serialize, Deserialize, Apiv2Schema)]
pub struct ProductFilter {
    pub status: Option<ProductStatus>,
    pub tag: Option<String>,
    pub category_id: Option<CategoryId>,
    /// Products whose name (in the shop's default language) contains this.
    pub name: Option<String>,
}

/// One entry of a product's change history.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ProductChange {
    pub id: uuid::Uuid,
    pub changed_at: DateTime<Utc>,
    /// Who: `user:<id>`, `api-key:<id>`, `system:<job>`.
    pub changed_by: String,
    /// `created`, `updated`, `deleted`, `variant_added`, `variant_updated`, `variant_deleted`,
    /// `media_added`, `media_updated`, `media_reordered`, `media_deleted`.
    pub action: String,
    /// Changed fields: `{"status": {"from": "draft", "to": "active"}}`.
    pub changes: serde_json::Value,
}

/// An attribute a product type declares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct AttributeDefinition {
    /// How the attribute is named in products and filters: `colour`.
    pub code: String,
    pub name: LocalizedText,
    pub kind: AttributeKind,
    /// The allowed values of a select or multi-select attribute.
    #[serde(default)]
    pub options: Vec<String>,
    /// Whether the storefront offers it as a filter with facet counts.
    #[serde(default)]
    pub filterable: bool,
}

/// A new product type.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewProductType {
    pub name: String,
    #[serde(default)]
    pub attributes: Vec<AttributeDefinition>,
}

/// Changes to a product type: its name, or its attributes (replaced as a whole).
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ProductTypePatch {
    pub name: Option<String>,
    pub attributes: Option<Vec<AttributeDefinition>>,
}

/// A kind of product and the attributes its products have.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ProductType {
    pub id: ProductTypeId,
    pub name: String,
    pub attributes: Vec<AttributeDefinition>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// A new category.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewCategory {
    pub name: LocalizedText,
    pub description: Option<LocalizedText>,
    /// Made from the name when absent.
    pub slug: Option<String>,
    /// The parent category; a top-level category when absent.
    pub parent_id: Option<CategoryId>,
    /// Order among its siblings (lowest first).
    pub position: Option<i32>,
}

/// Changes to a category: moving it (`parent_id`, `null` for the top level), reordering it
/// (`position`), renaming it.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatch {
    pub name: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub parent_id: Option<Option<CategoryId>>,
    pub position: Option<i32>,
}

/// A category as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Category {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub position: i32,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub slug: String,
    /// From the top-level category down to this one's parent.
    pub breadcrumbs: Vec<Breadcrumb>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// A category on the way from the top of the tree.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Breadcrumb {
    pub id: CategoryId,
    pub slug: String,
    pub name: String,
}

/// A new collection: hand-picked `product_ids`, or a `rule` such as `tag = summer and price < 50`
/// (fields `tag`, `kind`, `category`, `price` in the shop's default currency, `attribute.<code>`;
/// operators `=`, `!=`, `<`, `<=`, `>`, `>=`; `and` binds tighter than `or`).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewCollection {
    pub name: LocalizedText,
    pub description: Option<LocalizedText>,
    pub slug: Option<String>,
    pub rule: Option<String>,
    #[serde(default)]
    pub product_ids: Vec<ProductId>,
}

/// Changes to a collection; `rule: null` makes it hand-picked again.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct CollectionPatch {
    pub name: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub slug: Option<String>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub rule: Option<Option<String>>,
    /// The hand-picked products, in order (replaces them all).
    pub product_ids: Option<Vec<ProductId>>,
}

/// A collection as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Collection {
    pub id: CollectionId,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub slug: String,
    /// The rule, as written; absent for a hand-picked collection.
    pub rule: Option<String>,
    /// The hand-picked products, in order (empty for a rule-based collection).
    pub product_ids: Vec<ProductId>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// A rule to try before saving it.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct CollectionPreviewQuery {
    /// A rule as a collection takes it, e.g. `tag = summer and price < 50`.
    pub rule: String,
}

/// What a rule would put in a collection now: how many products, and the first of them by name.
#[derive(Debug, Clone, Serialize, Apiv2Schema)]
pub struct CollectionPreview {
    /// Every product the rule matches (drafts and archived ones included: the storefront shows
    /// the active ones).
    pub total: i64,
    /// The first [`COLLECTION_PREVIEW_ITEMS`] of them, by name in the shop's default language.
    pub items: Vec<CollectionPreviewItem>,
}

/// How many matching products a preview lists.
pub const COLLECTION_PREVIEW_ITEMS: i64 = 12;

/// One product a rule matches.
#[derive(Debug, Clone, Serialize, Apiv2Schema)]
pub struct CollectionPreviewItem {
    pub id: ProductId,
    /// In the shop's default language.
    pub name: String,
    pub status: ProductStatus,
}

/// The currencies the catalog is priced in.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct SoldCurrencies {
    /// The shop's default currency, always sold.
    pub default_currency: String,
    /// Every currency prices may be given in (the default first).
    pub currencies: Vec<String>,
}

/// A variant's base price in one currency, as the merchant set it.
#[derive(Debug, Clone, PartialEq)]
pub struct BasePrice {
    pub variant_id: VariantId,
    pub price: Money,
    pub compare_at: Option<Money>,
}

/// The currencies to sell in besides the shop's default.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct SoldCurrenciesInput {
    pub currencies: Vec<String>,
}

/// Words a search treats as the same (`["tee", "t-shirt"]`).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewSynonyms {
    pub terms: Vec<String>,
}

/// A group of search synonyms.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Synonyms {
    pub id: uuid::Uuid,
    pub terms: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

/// Which products a bulk change applies to: `ids`, or every product `filter` matches (the
/// product list's filters; `{}` is every product). At most 10,000.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct BulkSelection {
    pub ids: Option<Vec<ProductId>>,
    pub filter: Option<ProductFilter>,
}

/// Give the selected products one status.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct BulkStatusChange {
    pub selection: BulkSelection,
    pub status: ProductStatus,
}

/// Change the selected products' prices: by a percentage in every currency
/// (`percent_basis_points`, `-1000` is 10 % off, compare-at prices alike), or by an amount in
/// minor units per currency (`amounts`: `{"EUR": -500}`). A product any of whose prices would
/// fall below zero is reported and left as it was.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct BulkPriceChange {
    pub selection: BulkSelection,
    pub percent_basis_points: Option<i64>,
    pub amounts: Option<BTreeMap<String, i64>>,
}

/// Put the selected products into categories (`add`) and take them out of others (`remove`).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct BulkCategoryChange {
    pub selection: BulkSelection,
    #[serde(default)]
    pub add: Vec<CategoryId>,
    #[serde(default)]
    pub remove: Vec<CategoryId>,
}

pub use storefront::{
    accepted_languages, FacetValue, Facets, Found, PriceRange, SitemapPage, SitemapProduct, StoreCategory,
    StoreCollection, StoreFilter, StoreProduct, StoreProductPage, StoreProductSummary, StoreSearchResults,
    StoreVariant, Suggestions,
};

/// Who reads: reads write nothing, so no audit entry or stamp ever names this.
static READER: Acting = Acting { actor: Actor::System("catalog"), ip: None };

#[derive(Clone)]
pub struct CatalogModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    bus: EventBus,
    cache: Cache,
    search: Arc<dyn search::SearchEngine>,
    /// What shoppers pay (pricing, through the kernel's port); without it, the base prices.
    prices: Option<Arc<dyn agora_kernel::ports::ShopperPrices>>,
}

impl CatalogModule {
    /// The catalog over `db`, publishing on `bus`, keeping storefront answers in `cache`,
    /// searching with PostgreSQL's full text search.
    pub fn new(db: Database, bus: &EventBus, cache: Cache) -> Self {
        Self::with_search(db, bus, cache, Arc::new(search::PostgresSearch))
    }

    /// The catalog with another search engine behind the port.
    pub fn with_search(db: Database, bus: &EventBus, cache: Cache, search: Arc<dyn search::SearchEngine>) -> Self {
        Self { inner: Arc::new(Inner { db, bus: bus.clone(), cache, search, prices: None }) }
    }

    /// The catalog whose storefront shows the prices `prices` decides (price lists, conversion
    /// rates) over its base prices; see `shown_prices`.
    pub fn with_prices(
        db: Database,
        bus: &EventBus,
        cache: Cache,
        prices: Arc<dyn agora_kernel::ports::ShopperPrices>,
    ) -> Self {
        let search: Arc<dyn search::SearchEngine> = Arc::new(search::PostgresSearch);
        Self { inner: Arc::new(Inner { db, bus: bus.clone(), cache, search, prices: Some(prices) }) }
    }

    fn overlay(&self) -> Option<shown_prices::Overlay<'_>> {
        let prices = self.inner.prices.as_deref()?;
        Some(shown_prices::Overlay { prices, cache: &self.inner.cache, db: &self.inner.db, reader: &READER })
    }

    pub(crate) fn ports(&self) -> products::Ports<'_> {
        products::Ports { bus: &self.inner.bus, search: self.inner.search.as_ref() }
    }

    fn db(&self) -> &Database {
        &self.inner.db
    }

    /// Which of `ids` are live variants of the shop (not deleted, nor of a deleted product), with
    /// their SKUs, read in the caller's transaction: the inventory checks the variants it is
    /// handed this way, without naming the catalog's tables.
    pub async fn live_variant_skus(
        tx: &mut agora_kernel::TenantTx<'_>,
        ids: &[VariantId],
    ) -> Result<BTreeMap<VariantId, String>, DbError> {
        let rows = store::live_variant_skus(tx.conn(), ids).await.map_err(DbError::Query)?;
        Ok(rows.into_iter().collect())
    }

    /// [`live_variant_skus`](Self::live_variant_skus) on a connection already in the shop's
    /// transaction (the CSV frame pages an export on one, without a `TenantTx`).
    pub async fn live_variant_skus_on(
        conn: &mut diesel_async::AsyncPgConnection,
        ids: &[VariantId],
    ) -> Result<BTreeMap<VariantId, String>, DbError> {
        let rows = store::live_variant_skus(conn, ids).await.map_err(DbError::Query)?;
        Ok(rows.into_iter().collect())
    }

    /// The live variants (not deleted, nor of a deleted product) holding `skus`, by SKU (exact,
    /// case kept; a SKU no live variant holds is absent), read in the caller's transaction with
    /// one query: the inventory's CSV stock import finds its rows' variants this way.
    pub async fn live_variants_by_sku(
        tx: &mut agora_kernel::TenantTx<'_>,
        skus: &[String],
    ) -> Result<BTreeMap<String, VariantId>, DbError> {
        let rows = store::live_variants_by_sku(tx.conn(), skus).await.map_err(DbError::Query)?;
        Ok(rows.into_iter().collect())
    }

    /// Every price of the live variants among `ids`, in each currency they have one in, read in
    /// the caller's transaction with one query: pricing starts from these base prices.
    pub async fn base_prices(
        tx: &mut agora_kernel::TenantTx<'_>,
        ids: &[VariantId],
    ) -> Result<Vec<BasePrice>, DbError> {
        let rows = store::base_prices(tx.conn(), ids).await.map_err(DbError::Query)?;
        Ok(rows
            .into_iter()
            .filter_map(|(variant_id, amount, currency, compare_at)| {
                let currency = agora_kernel::money::Currency::parse(&currency)?;
                Some(BasePrice {
                    variant_id,
                    price: Money::new(amount, currency),
                    compare_at: compare_at.map(|a| Money::new(a, currency)),
                })
            })
            .collect())
    }

    /// The variants among `ids` as cart lines show them (names in the best of `languages` the
    /// shop has), with what promotions' conditions look at, read in the caller's transaction
    /// with one query (and the shop's languages).
    pub async fn cart_variants(
        tx: &mut agora_kernel::TenantTx<'_>,
        ids: &[VariantId],
        languages: &[String],
    ) -> Result<CartCatalog, CatalogError> {
        cart_lines::load(tx.conn(), ids, languages).await
    }

    /// The shop's default currency and every currency it sells in, in the caller's transaction.
    pub async fn shop_currencies(tx: &mut agora_kernel::TenantTx<'_>) -> Result<SoldCurrencies, CatalogError> {
        products::sold_currencies(tx).await
    }

    pub async fn create_product(
        &self,
        tenant: &TenantContext,
        new: NewProduct,
        acting: &Acting,
    ) -> Result<Product, CatalogError> {
        let ports = self.ports();
        let result = self.db().in_tenant(tenant, acting, async |tx| products::create(tx, ports, new).await).await;
        self.inner.cache.after_commit(tenant, result, |p| store_cache::product_written(p.id)).await
    }

    pub async fn product(&self, tenant: &TenantContext, id: ProductId) -> Result<Product, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| products::get(tx, id).await).await
    }

    pub async fn list_products(
        &self,
        tenant: &TenantContext,
        query: &ListQuery<ProductSort>,
        filter: ProductFilter,
    ) -> Result<Page<Product>, agora_kernel::ApiError> {
        self.db().in_tenant(tenant, &READER, async |tx| products::list(tx, query, &filter).await).await
    }

    /// Changes a product; `expected_version` (from If-Match) guards against lost updates.
    pub async fn update_product(
        &self,
        tenant: &TenantContext,
        id: ProductId,
        patch: ProductPatch,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<Product, CatalogError> {
        let ports = self.ports();
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| products::update(tx, ports, id, patch, expected_version).await)
            .await;
        self.inner.cache.after_commit(tenant, result, |p| store_cache::product_written(p.id)).await
    }

    /// Deletes a product (softly: its history and slugs stay, shoppers no longer see it).
    pub async fn delete_product(
        &self,
        tenant: &TenantContext,
        id: ProductId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), CatalogError> {
        let ports = self.ports();
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| products::delete(tx, ports, id, expected_version).await)
            .await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::product_written(id)).await
    }

    pub async fn product_history(
        &self,
        tenant: &TenantContext,
        id: ProductId,
        page: &Keyset<DateTime<Utc>>,
    ) -> Result<Page<ProductChange>, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| products::history(tx, id, page).await).await
    }

    pub async fn add_variant(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        new: NewVariant,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<Product, CatalogError> {
        let ports = self.ports();
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| {
                products::add_variant(tx, ports, product_id, new, expected_version).await
            })
            .await;
        self.inner.cache.after_commit(tenant, result, |p| store_cache::product_written(p.id)).await
    }

    pub async fn update_variant(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        variant_id: VariantId,
        patch: VariantPatch,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<Product, CatalogError> {
        let ports = self.ports();
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| {
                products::update_variant(tx, ports, product_id, variant_id, patch, expected_version).await
            })
            .await;
        self.inner.cache.after_commit(tenant, result, |p| store_cache::product_written(p.id)).await
    }

    pub async fn delete_variant(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        variant_id: VariantId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<Product, CatalogError> {
        let ports = self.ports();
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| {
                products::delete_variant(tx, ports, product_id, variant_id, expected_version).await
            })
            .await;
        self.inner.cache.after_commit(tenant, result, |p| store_cache::product_written(p.id)).await
    }

    pub async fn create_category(
        &self,
        tenant: &TenantContext,
        new: NewCategory,
        acting: &Acting,
    ) -> Result<Category, CatalogError> {
        let result =
            self.db().in_tenant(tenant, acting, async |tx| categories::create(tx, &self.inner.bus, new).await).await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::CATEGORIES)).await
    }

    /// Every category, parents before children, siblings by position.
    pub async fn list_categories(&self, tenant: &TenantContext) -> Result<Vec<Category>, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| categories::list(tx).await).await
    }

    pub async fn category(&self, tenant: &TenantContext, id: CategoryId) -> Result<Category, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| categories::get(tx, id).await).await
    }

    /// Renames, moves or reorders a category; a move under its own subtree is refused.
    pub async fn update_category(
        &self,
        tenant: &TenantContext,
        id: CategoryId,
        patch: CategoryPatch,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<Category, CatalogError> {
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| {
                categories::update(tx, &self.inner.bus, id, patch, expected_version).await
            })
            .await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::CATEGORIES)).await
    }

    /// Deletes a category with no live subcategories; its products leave it.
    pub async fn delete_category(
        &self,
        tenant: &TenantContext,
        id: CategoryId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), CatalogError> {
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| categories::delete(tx, &self.inner.bus, id, expected_version).await)
            .await;
        self.inner
            .cache
            .after_commit(tenant, result, |_| store_cache::written(store_cache::CATEGORIES))
            .await
            .map(|_| ())
    }

    pub async fn create_collection(
        &self,
        tenant: &TenantContext,
        new: NewCollection,
        acting: &Acting,
    ) -> Result<Collection, CatalogError> {
        let result =
            self.db().in_tenant(tenant, acting, async |tx| collections::create(tx, &self.inner.bus, new).await).await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::COLLECTIONS)).await
    }

    /// The products `query`'s rule would put in a collection now (a 422 naming `rule` when it
    /// does not parse); changes nothing.
    pub async fn preview_collection(
        &self,
        tenant: &TenantContext,
        query: CollectionPreviewQuery,
    ) -> Result<CollectionPreview, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| collections::preview(tx, &query.rule).await).await
    }

    pub async fn list_collections(&self, tenant: &TenantContext) -> Result<Vec<Collection>, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| collections::list(tx).await).await
    }

    pub async fn collection(&self, tenant: &TenantContext, id: CollectionId) -> Result<Collection, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| collections::get(tx, id).await).await
    }

    pub async fn update_collection(
        &self,
        tenant: &TenantContext,
        id: CollectionId,
        patch: CollectionPatch,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<Collection, CatalogError> {
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| {
                collections::update(tx, &self.inner.bus, id, patch, expected_version).await
            })
            .await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::COLLECTIONS)).await
    }

    pub async fn delete_collection(
        &self,
        tenant: &TenantContext,
        id: CollectionId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), CatalogError> {
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| collections::delete(tx, &self.inner.bus, id, expected_version).await)
            .await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::COLLECTIONS)).await
    }

    pub async fn create_product_type(
        &self,
        tenant: &TenantContext,
        new: NewProductType,
        acting: &Acting,
    ) -> Result<ProductType, CatalogError> {
        let result =
            self.db().in_tenant(tenant, acting, async |tx| product_types::create(tx, &self.inner.bus, new).await).await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::LISTING)).await
    }

    pub async fn list_product_types(&self, tenant: &TenantContext) -> Result<Vec<ProductType>, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| product_types::list(tx).await).await
    }

    pub async fn product_type(&self, tenant: &TenantContext, id: ProductTypeId) -> Result<ProductType, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| product_types::get(tx, id).await).await
    }

    /// Renames a product type or replaces its attributes.
    pub async fn update_product_type(
        &self,
        tenant: &TenantContext,
        id: ProductTypeId,
        patch: ProductTypePatch,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<ProductType, CatalogError> {
        let bus = &self.inner.bus;
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| product_types::update(tx, bus, id, patch, expected_version).await)
            .await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::LISTING)).await
    }

    /// Deletes a product type no live product is of.
    pub async fn delete_product_type(
        &self,
        tenant: &TenantContext,
        id: ProductTypeId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), CatalogError> {
        let bus = &self.inner.bus;
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| product_types::delete(tx, bus, id, expected_version).await)
            .await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::LISTING)).await
    }

    pub async fn sold_currencies(&self, tenant: &TenantContext) -> Result<SoldCurrencies, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| products::sold_currencies(tx).await).await
    }

    pub async fn set_sold_currencies(
        &self,
        tenant: &TenantContext,
        input: SoldCurrenciesInput,
        acting: &Acting,
    ) -> Result<SoldCurrencies, CatalogError> {
        let result =
            self.db().in_tenant(tenant, acting, async |tx| products::set_sold_currencies(tx, input).await).await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::SHOP)).await
    }

    pub async fn create_synonyms(
        &self,
        tenant: &TenantContext,
        new: NewSynonyms,
        acting: &Acting,
    ) -> Result<Synonyms, CatalogError> {
        let result = self.db().in_tenant(tenant, acting, async |tx| search::create_synonyms(tx, new).await).await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::LISTING)).await
    }

    pub async fn list_synonyms(&self, tenant: &TenantContext) -> Result<Vec<Synonyms>, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| search::list_synonyms(tx).await).await
    }

    pub async fn delete_synonyms(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        acting: &Acting,
    ) -> Result<(), CatalogError> {
        let result = self.db().in_tenant(tenant, acting, async |tx| search::delete_synonyms(tx, id).await).await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::written(store_cache::LISTING)).await
    }

    // ---- product media ----

    /// Adds an uploaded image to a product: `body` is streamed in and must be a real image of at
    /// most [`MAX_UPLOAD_BYTES`]; its thumbnails are made by a job ([`MakeProductThumbnails`]).
    #[allow(clippy::too_many_arguments)]
    pub async fn add_media<S, E>(
        &self,
        tenant: &TenantContext,
        storage: &ConfiguredStorage,
        product_id: ProductId,
        upload: MediaUpload,
        body: S,
        declared_length: Option<u64>,
        acting: &Acting,
    ) -> Result<ProductMedia, CatalogError>
    where
        S: futures_util::Stream<Item = Result<Bytes, E>>,
        E: std::fmt::Display,
    {
        let (db, bus) = (self.db(), &self.inner.bus);
        let result = media::upload(db, bus, storage, tenant, acting, product_id, upload, body, declared_length).await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::product_written(product_id)).await
    }

    /// The product's images, in order (with the product's version, for a reorder's If-Match).
    pub async fn product_media(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
    ) -> Result<ProductMediaList, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| media::list(tx, product_id).await).await
    }

    pub async fn media(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        id: MediaId,
    ) -> Result<ProductMedia, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| media::get(tx, product_id, id).await).await
    }

    /// Changes an image's alt text or variant; `expected_version` is the image's (If-Match).
    pub async fn update_media(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        id: MediaId,
        patch: MediaPatch,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<ProductMedia, CatalogError> {
        let bus = &self.inner.bus;
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| media::update(tx, bus, product_id, id, patch, expected_version).await)
            .await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::product_written(product_id)).await
    }

    /// Puts the product's images in a new order; `expected_version` is the product's (If-Match).
    pub async fn reorder_media(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        order: MediaOrder,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<ProductMediaList, CatalogError> {
        let bus = &self.inner.bus;
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| media::reorder(tx, bus, product_id, order, expected_version).await)
            .await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::product_written(product_id)).await
    }

    /// Deletes an image (softly; its files are removed by a job); `expected_version` is the image's.
    pub async fn delete_media(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        id: MediaId,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<(), CatalogError> {
        let bus = &self.inner.bus;
        let result = self
            .db()
            .in_tenant(tenant, acting, async |tx| media::delete(tx, bus, product_id, id, expected_version).await)
            .await;
        self.inner.cache.after_commit(tenant, result, |_| store_cache::product_written(product_id)).await
    }

    /// A file of an image, for staff: a thumbnail by its width, or `original`.
    pub async fn media_file(
        &self,
        tenant: &TenantContext,
        storage: &ConfiguredStorage,
        product_id: ProductId,
        id: MediaId,
        name: &str,
    ) -> Result<MediaFile, CatalogError> {
        media::admin_file(self.db(), storage, tenant, product_id, id, name).await
    }

    /// A thumbnail shoppers may see (a ready image of a visible product), by its width.
    pub async fn store_media_file(
        &self,
        tenant: &TenantContext,
        storage: &ConfiguredStorage,
        id: MediaId,
        width: &str,
    ) -> Result<MediaFile, CatalogError> {
        media::store_file(self.db(), storage, tenant, id, width).await
    }

    // ---- bulk changes (tasks) ----

    /// Starts giving the selected products one status; the task's id (progress and refused
    /// products at `GET /api/v1/admin/tasks/{id}`).
    pub async fn bulk_change_status(
        &self,
        tenant: &TenantContext,
        request: BulkStatusChange,
        acting: &Acting,
        task: NewTask,
    ) -> Result<TaskId, CatalogError> {
        let (selection, change) = bulk::status(request)?;
        self.start_bulk_change(tenant, acting, task, selection, change).await
    }

    /// Starts changing the selected products' prices.
    pub async fn bulk_change_prices(
        &self,
        tenant: &TenantContext,
        request: BulkPriceChange,
        acting: &Acting,
        task: NewTask,
    ) -> Result<TaskId, CatalogError> {
        let job = self
            .db()
            .in_tenant(tenant, acting, async |tx| {
                let shop = products::shop(tx.conn()).await?;
                let (selection, change) = bulk::prices(request, &shop)?;
                let job = jobs::BulkChange { selection, change, by: bulk::Author::of(tx.actor()) };
                Ok::<_, CatalogError>(tasks::start(tx, &job, task).await?)
            })
            .await?;
        Ok(job)
    }

    /// Starts putting the selected products into categories and taking them out of others.
    pub async fn bulk_change_categories(
        &self,
        tenant: &TenantContext,
        request: BulkCategoryChange,
        acting: &Acting,
        task: NewTask,
    ) -> Result<TaskId, CatalogError> {
        self.db()
            .in_tenant(tenant, acting, async |tx| {
                let (selection, change) = bulk::categories(tx, request).await?;
                let job = jobs::BulkChange { selection, change, by: bulk::Author::of(tx.actor()) };
                Ok::<_, CatalogError>(tasks::start(tx, &job, task).await?)
            })
            .await
    }

    async fn start_bulk_change(
        &self,
        tenant: &TenantContext,
        acting: &Acting,
        task: NewTask,
        selection: BulkSelection,
        change: bulk::Change,
    ) -> Result<TaskId, CatalogError> {
        let job = jobs::BulkChange { selection, change, by: bulk::Author::of(&acting.actor) };
        self.db().in_tenant(tenant, acting, async |tx| Ok(tasks::start(tx, &job, task).await?)).await
    }

    /// The bulk change job: the selection, then the products in batches (each batch one
    /// transaction, each product a savepoint in it), the task's progress saved with each batch
    /// and the storefront's copies of the changed products dropped after it commits.
    pub(crate) async fn run_bulk_change(&self, ctx: &JobContext, job: jobs::BulkChange) -> Result<(), JobError> {
        let tenant = ctx.tenant.clone().ok_or_else(|| JobError::permanent("a bulk change belongs to a shop"))?;
        let mut progress = ctx.progress().await?;
        if progress.is_cancel_requested() {
            return progress.cancelled().await;
        }
        let acting = Acting::new(job.by.actor(), None);
        let ids = self.db().in_tenant(&tenant, &acting, async |tx| bulk::select(tx, &job.selection).await).await?;
        progress.set_total(i64::try_from(ids.len()).unwrap_or(i64::MAX));
        let ports = self.ports();
        for (batch, chunk) in ids.chunks(bulk::BATCH).enumerate() {
            let (changed, cancel) = self
                .db()
                .in_tenant(&tenant, &acting, async |tx| {
                    let mut changed = Vec::new();
                    for (i, id) in chunk.iter().enumerate() {
                        let line = i64::try_from(batch * bulk::BATCH + i + 1).unwrap_or(i64::MAX);
                        store::savepoint(tx.conn()).await?;
                        match bulk::apply(tx, ports, *id, &job.change).await {
                            Ok(done) => {
                                store::release_savepoint(tx.conn()).await?;
                                if done {
                                    changed.push(*id);
                                }
                            }
                            Err(e) => {
                                store::rollback_to_savepoint(tx.conn()).await?;
                                progress.row_failed(line, bulk::refused(*id, e)?);
                            }
                        }
                    }
                    progress.advance(i64::try_from(chunk.len()).unwrap_or(i64::MAX));
                    let cancel = progress.save(tx.conn()).await?;
                    Ok::<_, JobError>((changed, cancel))
                })
                .await?;
            if !changed.is_empty() {
                let mut tags: Vec<String> = changed.iter().map(|id| store_cache::product(*id)).collect();
                tags.push(store_cache::LISTING.into());
                self.inner.cache.invalidate(&tenant, &tags).await;
            }
            if cancel {
                return progress.cancelled().await;
            }
        }
        progress.succeed(None).await
    }

    // ---- Availability (told by the inventory module) ----

    /// Records what shoppers are told about `variant`'s stock (`None`: not counted), unless an
    /// announcement with a higher `sequence` was recorded already (events may arrive out of
    /// order), and drops the storefront's copies of its product and the lists.
    pub async fn record_availability(
        &self,
        tenant: &TenantContext,
        variant: VariantId,
        availability: Option<VariantAvailability>,
        sequence: i64,
        acting: &Acting,
    ) -> Result<(), CatalogError> {
        let recorded = self
            .db()
            .in_tenant(tenant, acting, async |tx| {
                let at = tx.stamp().at;
                let value = availability.as_ref().map(|a| (a.status.as_str(), a.preorder_until));
                Ok::<_, CatalogError>(store::record_availability(tx.conn(), variant, value, sequence, at).await?)
            })
            .await?;
        if let Some(product) = recorded {
            let tags = [store_cache::product(product), store_cache::LISTING.into()];
            self.inner.cache.invalidate(tenant, &tags).await;
        }
        Ok(())
    }

    // ---- CSV import and export (tasks) ----

    /// Starts importing a product file stored by `agora_kernel::csv_files::receive_upload`.
    pub async fn start_import(
        &self,
        tenant: &TenantContext,
        file: FileKey,
        acting: &Acting,
        task: NewTask,
    ) -> Result<TaskId, CatalogError> {
        let job = jobs::ImportProducts { file: file.as_str().to_string() };
        self.db().in_tenant(tenant, acting, async |tx| Ok(tasks::start(tx, &job, task).await?)).await
    }

    /// Starts exporting every live variant; the file is the task's result.
    pub async fn start_export(
        &self,
        tenant: &TenantContext,
        acting: &Acting,
        task: NewTask,
    ) -> Result<TaskId, CatalogError> {
        let job = jobs::ExportProducts {};
        self.db().in_tenant(tenant, acting, async |tx| Ok(tasks::start(tx, &job, task).await?)).await
    }

    pub(crate) async fn run_import(&self, ctx: &JobContext, file: &FileKey) -> Result<(), JobError> {
        let import = product_csv::ProductImport { catalog: self.clone(), touched: Default::default() };
        let result = csv_files::run_import(ctx, &import, file).await;
        // The batches committed as they went; the storefront drops its copies once at the end.
        let touched = import.touched.into_inner().unwrap_or_default();
        if let (Some(tenant), false) = (&ctx.tenant, touched.is_empty()) {
            let mut tags: Vec<String> = touched.into_iter().map(store_cache::product).collect();
            tags.push(store_cache::LISTING.into());
            self.inner.cache.invalidate(tenant, &tags).await;
        }
        result
    }

    /// One sweep of every open shop for publication windows that opened or closed. A shop that
    /// fails (its schema not migrated yet, say) is logged and left to the next sweep; the others
    /// are still swept.
    pub(crate) async fn announce_publication_windows(&self) -> Result<(), JobError> {
        let shops = self.db().control_tx(async |conn| Ok::<_, DbError>(agora_tenancy::open_shops(conn).await?)).await?;
        let acting = Acting::system("catalog.publication_windows");
        let bus = &self.inner.bus;
        for shop in &shops {
            let swept =
                self.db().in_tenant(shop, &acting, async |tx| products::announce_passed_edges(tx, bus).await).await;
            match swept {
                Ok(0) => {}
                Ok(n) => tracing::info!(shop = %shop.slug, announced = n, "publication windows announced"),
                Err(e) => tracing::warn!(shop = %shop.slug, error = %e, "announcing publication windows failed"),
            }
        }
        Ok(())
    }

    pub(crate) async fn run_export(&self, ctx: &JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant.clone().ok_or_else(|| JobError::permanent("an export belongs to a shop"))?;
        let shop = self
            .db()
            .in_tenant(&tenant, &READER, async |tx| products::shop(tx.conn()).await)
            .await
            .map_err(JobError::retry)?;
        let export = product_csv::ProductExport { default_locale: shop.default_locale, currencies: shop.currencies };
        csv_files::run_export(ctx, &export, "products.csv").await
    }

    // ---- what shoppers see, read through the storefront cache ----

    /// The cached answer of `key`, or `load`'s (serialized, then kept under its tags for its
    /// time to live). A cached answer costs no database query.
    async fn read_through<T: Serialize>(
        &self,
        tenant: &TenantContext,
        key: &str,
        load: impl Future<Output = Result<Shelved<T>, ApiError>>,
    ) -> Result<Bytes, ApiError> {
        let fill = match self.inner.cache.lookup(tenant, key).await {
            Lookup::Hit(body) => return Ok(body),
            Lookup::Miss(fill) => fill,
        };
        let shelved = load.await?;
        let body = Bytes::from(serde_json::to_vec(&shelved.value).map_err(ApiError::internal)?);
        let ttl = store_cache::ttl_until(shelved.until, store_cache::max_ttl(&self.inner.cache));
        if ttl >= Duration::from_secs(1) {
            let mut tags = shelved.tags;
            tags.push(store_cache::SHOP.into());
            self.inner.cache.fill(fill, &tags, body.clone(), ttl).await;
        }
        Ok(body)
    }

    /// A page of visible products matching `filter`, with facet counts over all of them (JSON of
    /// [`StoreProductPage`]).
    pub async fn store_products(
        &self,
        tenant: &TenantContext,
        filter: StoreFilter,
        query: &ListQuery<StoreSort>,
        languages: Vec<String>,
        customer: Option<uuid::Uuid>,
    ) -> Result<Bytes, ApiError> {
        let key = store_cache::key("products", (&filter, format!("{query:?}"), &languages));
        let load = self.db().in_tenant(tenant, &READER, async |tx| {
            let value = storefront::products(tx, filter, query, languages).await?;
            let next_change = store::next_scheduled_change(tx.conn()).await.map_err(DbError::Query)?;
            Ok::<_, ApiError>(Shelved::listing(value, next_change))
        });
        let Some(overlay) = self.overlay() else { return self.read_through(tenant, &key, load).await };
        // Boxed: the read, the overlay and the cache lookups nest into one large future.
        let priced = self.priced(
            tenant,
            &key,
            customer,
            Box::pin(async {
                let body = self.read_through(tenant, &key, load).await?;
                let mut page: StoreProductPage = serde_json::from_slice(&body).map_err(ApiError::internal)?;
                overlay.items(tenant, &key, &mut page.items, &page.currency, customer).await?;
                Ok(Found::Here(Bytes::from(serde_json::to_vec(&page).map_err(ApiError::internal)?)))
            }),
        );
        match priced.await? {
            Found::Here(body) => Ok(body),
            Found::MovedTo(_) => Err(ApiError::internal("a list answered with a redirect")),
        }
    }

    /// `price`'s answer (a page with the prices the shopper pays). Anonymous shoppers all see the
    /// same prices, so theirs is kept whole for a second: a warm read is bytes from memory rather
    /// than a cached page parsed, priced from the cached prices and written again. Every catalog,
    /// shop or price write drops it with the entries it was made from; a scheduled publication or
    /// a price list's window is seen at most that second late.
    async fn priced(
        &self,
        tenant: &TenantContext,
        key: &str,
        customer: Option<uuid::Uuid>,
        price: impl Future<Output = Result<Found<Bytes>, ApiError>>,
    ) -> Result<Found<Bytes>, ApiError> {
        if customer.is_some() {
            return price.await;
        }
        let key = store_cache::key("priced", key);
        let fill = match self.inner.cache.lookup(tenant, &key).await {
            Lookup::Hit(body) => return Ok(Found::Here(body)),
            Lookup::Miss(fill) => fill,
        };
        let found = price.await?;
        if let Found::Here(body) = &found {
            let tags = [store_cache::LISTING, store_cache::SHOP, PRICES_CACHE_TAG].map(str::to_string);
            self.inner.cache.fill(fill, &tags, body.clone(), store_cache::PRICED_TTL).await;
        }
        Ok(found)
    }

    /// A visible product by id or by slug in any language (JSON of [`StoreProduct`]); an old slug
    /// answers where it moved.
    pub async fn store_product(
        &self,
        tenant: &TenantContext,
        key: &str,
        currency: Option<String>,
        languages: Vec<String>,
        customer: Option<uuid::Uuid>,
    ) -> Result<Found<Bytes>, ApiError> {
        let Some(overlay) = self.overlay() else { return self.base_product(tenant, key, currency, languages).await };
        let priced_key = store_cache::key("product", (key, &currency, &languages));
        // Boxed: the read, the overlay and the cache lookups nest into one large future.
        let price = Box::pin(async {
            match self.base_product(tenant, key, currency.clone(), languages.clone()).await? {
                Found::Here(body) => Ok(Found::Here(overlay.product(tenant, body, customer).await?)),
                // Not kept: a redirect is cheap to find again.
                moved => Ok(moved),
            }
        });
        self.priced(tenant, &priced_key, customer, price).await
    }

    /// A product page with the catalog's base prices, read through the cache.
    async fn base_product(
        &self,
        tenant: &TenantContext,
        key: &str,
        currency: Option<String>,
        languages: Vec<String>,
    ) -> Result<Found<Bytes>, ApiError> {
        let cache_key = store_cache::key("product", (key, &currency, &languages));
        let fill = match self.inner.cache.lookup(tenant, &cache_key).await {
            Lookup::Hit(body) => return Ok(Found::Here(body)),
            Lookup::Miss(fill) => fill,
        };
        let key = key.to_string();
        let found = self
            .db()
            .in_tenant(tenant, &READER, async |tx| storefront::product(tx, key, currency, languages).await)
            .await?;
        let (product, until) = match found {
            Found::Here(found) => found,
            // A redirect is cheap to find again and changes with any product's slugs.
            Found::MovedTo(slug) => return Ok(Found::MovedTo(slug)),
        };
        let body = Bytes::from(serde_json::to_vec(&product).map_err(ApiError::internal)?);
        let ttl = store_cache::ttl_until(until, store_cache::max_ttl(&self.inner.cache));
        if ttl >= Duration::from_secs(1) {
            let tags = [store_cache::product(product.id), store_cache::CATEGORIES.into(), store_cache::SHOP.into()];
            self.inner.cache.fill(fill, &tags, body.clone(), ttl).await;
        }
        Ok(Found::Here(body))
    }

    /// The category tree in the shopper's language, parents before children (JSON of a list of
    /// [`StoreCategory`]).
    pub async fn store_categories(&self, tenant: &TenantContext, languages: Vec<String>) -> Result<Bytes, ApiError> {
        let key = store_cache::key("categories", &languages);
        let load = self.db().in_tenant(tenant, &READER, async |tx| {
            let value = storefront::categories(tx, languages).await?;
            Ok::<_, ApiError>(Shelved::tagged(value, store_cache::CATEGORIES))
        });
        self.read_through(tenant, &key, load).await
    }

    /// One page (from 0) of the visible products' addresses for the shop's sitemap (uncached:
    /// crawlers come seldom, and the answer carries its own `Cache-Control`).
    pub async fn store_sitemap(
        &self,
        tenant: &TenantContext,
        page: i64,
        per_page: i64,
    ) -> Result<SitemapPage, CatalogError> {
        self.db().in_tenant(tenant, &READER, async |tx| storefront::sitemap(tx, page, per_page).await).await
    }

    /// One category by id or slug, with its breadcrumbs (JSON of [`StoreCategory`]).
    pub async fn store_category(
        &self,
        tenant: &TenantContext,
        key: &str,
        languages: Vec<String>,
    ) -> Result<Bytes, ApiError> {
        let cache_key = store_cache::key("category", (key, &languages));
        let key = key.to_string();
        let load = self.db().in_tenant(tenant, &READER, async |tx| {
            let value = storefront::category(tx, key, languages).await?;
            Ok::<_, ApiError>(Shelved::tagged(value, store_cache::CATEGORIES))
        });
        self.read_through(tenant, &cache_key, load).await
    }

    /// One collection by id or slug (JSON of [`StoreCollection`]).
    pub async fn store_collection(
        &self,
        tenant: &TenantContext,
        key: &str,
        languages: Vec<String>,
    ) -> Result<Bytes, ApiError> {
        let cache_key = store_cache::key("collection", (key, &languages));
        let key = key.to_string();
        let load = self.db().in_tenant(tenant, &READER, async |tx| {
            let value = storefront::collection(tx, key, languages).await?;
            Ok::<_, ApiError>(Shelved::tagged(value, store_cache::COLLECTIONS))
        });
        self.read_through(tenant, &cache_key, load).await
    }

    /// Visible products matching `text`, best first, with facets and suggestions (JSON of
    /// [`StoreSearchResults`]).
    pub async fn search(
        &self,
        tenant: &TenantContext,
        text: String,
        filter: StoreFilter,
        query: &ListQuery<SearchSort>,
        languages: Vec<String>,
        customer: Option<uuid::Uuid>,
    ) -> Result<Bytes, ApiError> {
        let key = store_cache::key("search", (&text, &filter, format!("{query:?}"), &languages));
        let engine = self.inner.search.as_ref();
        let load = self.db().in_tenant(tenant, &READER, async |tx| {
            let value = storefront::search(tx, engine, text, filter, query, languages).await?;
            let next_change = store::next_scheduled_change(tx.conn()).await.map_err(DbError::Query)?;
            Ok::<_, ApiError>(Shelved::listing(value, next_change))
        });
        let body = self.read_through(tenant, &key, load).await?;
        let Some(overlay) = self.overlay() else { return Ok(body) };
        let mut results: StoreSearchResults = serde_json::from_slice(&body).map_err(ApiError::internal)?;
        overlay.items(tenant, &key, &mut results.items, &results.currency, customer).await?;
        Ok(Bytes::from(serde_json::to_vec(&results).map_err(ApiError::internal)?))
    }

    /// Names of visible products completing or correcting what the shopper typed (JSON of a
    /// list of names).
    pub async fn suggest(&self, tenant: &TenantContext, text: String, limit: i64) -> Result<Bytes, ApiError> {
        let key = store_cache::key("suggestions", (&text, limit));
        let engine = self.inner.search.as_ref();
        let load = self.db().in_tenant(tenant, &READER, async |tx| {
            let value = storefront::suggest(tx, engine, text, limit).await?;
            let next_change = store::next_scheduled_change(tx.conn()).await.map_err(DbError::Query)?;
            Ok::<_, ApiError>(Shelved::listing(value, next_change))
        });
        self.read_through(tenant, &key, load).await
    }
}

/// A storefront answer on its way into the cache: the value, its tags (besides the shop's
/// settings, which every entry carries) and when it changes without a write.
struct Shelved<T> {
    value: T,
    tags: Vec<String>,
    until: Option<DateTime<Utc>>,
}

impl<T> Shelved<T> {
    /// A list of products: dropped by any write to the catalog, kept until the next scheduled
    /// publication at the latest.
    fn listing(value: T, next_change: Option<DateTime<Utc>>) -> Self {
        Self { value, tags: vec![store_cache::LISTING.into()], until: next_change }
    }

    fn tagged(value: T, tag: &str) -> Self {
        Self { value, tags: vec![tag.into()], until: None }
    }
}

/// Mounted at `/catalog` in the storefront and the back office.
impl agora_kernel::Module for CatalogModule {
    fn store(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.service(paperclip::actix::web::scope(http::SCOPE).configure(http::store_routes));
    }

    fn admin(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.service(paperclip::actix::web::scope(http::SCOPE).configure(http::admin_routes));
    }

    fn app_data(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.app_data(paperclip::actix::web::Data::new(self.clone()));
    }

    fn background(&self, events: &mut EventBusBuilder, jobs: &mut JobRegistry) -> Result<(), String> {
        events::declare(events);
        jobs::register(jobs)?;
        jobs.register::<MakeProductThumbnails>();
        jobs.register::<RemoveMediaFiles>();
        // The jobs reach the catalog (its database, bus, cache and search engine) as a resource.
        jobs.provide(Arc::new(self.clone()));
        Ok(())
    }
}
