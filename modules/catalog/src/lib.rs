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
//!
//! Currencies: the shop's default currency is always sold; staff add others with
//! `PUT /api/v1/admin/catalog/currencies` (until the shop settings carry a currency list).

mod categories;
mod collections;
mod error;
mod events;
mod http;
mod product_types;
mod products;
mod schema;
pub mod search;
mod store;
mod storefront;

use agora_kernel::events::{EventBus, EventBusBuilder};
use agora_kernel::jobs::JobRegistry;
use agora_kernel::lists::{Keyset, ListQuery, Page};
use agora_kernel::money::Money;
use agora_kernel::values::LocalizedText;
use agora_kernel::{Actor, Database, TenantContext};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

pub use error::CatalogError;
pub use events::{PriceChanged, ProductCreated, ProductDeleted, ProductPublished, ProductUnpublished, ProductUpdated};

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

/// `Some(None)` for an explicit `null` (clear the field), `None` when the field is absent.
fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
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
    #[serde(default, deserialize_with = "nullable")]
    pub barcode: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    pub weight_grams: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub length_mm: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
    pub width_mm: Option<Option<i32>>,
    #[serde(default, deserialize_with = "nullable")]
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
    #[serde(default, deserialize_with = "nullable")]
    pub publish_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub unpublish_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "nullable")]
    pub product_type_id: Option<Option<ProductTypeId>>,
    #[serde(default, deserialize_with = "nullable")]
    pub tax_class: Option<Option<String>>,
    pub name: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub seo_title: Option<LocalizedText>,
    pub seo_description: Option<LocalizedText>,
    /// Slugs by locale; a changed one keeps answering with a redirect to the new one.
    pub slug: Option<BTreeMap<String, String>>,
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
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
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
    /// `created`, `updated`, `deleted`, `variant_added`, `variant_updated`, `variant_deleted`.
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
    #[serde(default, deserialize_with = "nullable")]
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
    #[serde(default, deserialize_with = "nullable")]
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

/// The currencies the catalog is priced in.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct SoldCurrencies {
    /// The shop's default currency, always sold.
    pub default_currency: String,
    /// Every currency prices may be given in (the default first).
    pub currencies: Vec<String>,
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

pub use storefront::{
    FacetValue, Facets, PriceRange, StoreCategory, StoreCollection, StoreFilter, StoreProduct, StoreProductPage,
    StoreProductSummary, StoreSearchResults, StoreVariant, Storefront,
};

#[derive(Clone)]
pub struct CatalogModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    bus: EventBus,
    search: Arc<dyn search::SearchEngine>,
}

impl CatalogModule {
    /// The catalog over `db`, publishing on `bus`, searching with PostgreSQL's full text search.
    pub fn new(db: Database, bus: &EventBus) -> Self {
        Self::with_search(db, bus, Arc::new(search::PostgresSearch))
    }

    /// The catalog with another search engine behind the port.
    pub fn with_search(db: Database, bus: &EventBus, search: Arc<dyn search::SearchEngine>) -> Self {
        Self { inner: Arc::new(Inner { db, bus: bus.clone(), search }) }
    }

    fn writer(&self) -> products::Writer<'_> {
        products::Writer { db: &self.inner.db, bus: &self.inner.bus, search: self.inner.search.as_ref() }
    }

    pub async fn create_product(
        &self,
        tenant: &TenantContext,
        new: NewProduct,
        actor: &Actor,
    ) -> Result<Product, CatalogError> {
        self.writer().create(tenant, new, actor).await
    }

    pub async fn product(&self, tenant: &TenantContext, id: ProductId) -> Result<Product, CatalogError> {
        products::get(&self.inner.db, tenant, id).await
    }

    pub async fn list_products(
        &self,
        tenant: &TenantContext,
        query: &ListQuery<ProductSort>,
        filter: ProductFilter,
    ) -> Result<Page<Product>, agora_kernel::ApiError> {
        products::list(&self.inner.db, tenant, query, filter).await
    }

    /// Changes a product; `expected_version` (from If-Match) guards against lost updates.
    pub async fn update_product(
        &self,
        tenant: &TenantContext,
        id: ProductId,
        patch: ProductPatch,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<Product, CatalogError> {
        self.writer().update(tenant, id, patch, expected_version, actor).await
    }

    /// Deletes a product (softly: its history and slugs stay, shoppers no longer see it).
    pub async fn delete_product(
        &self,
        tenant: &TenantContext,
        id: ProductId,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<(), CatalogError> {
        self.writer().delete(tenant, id, expected_version, actor).await
    }

    pub async fn product_history(
        &self,
        tenant: &TenantContext,
        id: ProductId,
        page: &Keyset<DateTime<Utc>>,
    ) -> Result<Page<ProductChange>, CatalogError> {
        products::history(&self.inner.db, tenant, id, page.clone()).await
    }

    pub async fn add_variant(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        new: NewVariant,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<Product, CatalogError> {
        self.writer().add_variant(tenant, product_id, new, expected_version, actor).await
    }

    pub async fn update_variant(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        variant_id: VariantId,
        patch: VariantPatch,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<Product, CatalogError> {
        self.writer().update_variant(tenant, product_id, variant_id, patch, expected_version, actor).await
    }

    pub async fn delete_variant(
        &self,
        tenant: &TenantContext,
        product_id: ProductId,
        variant_id: VariantId,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<Product, CatalogError> {
        self.writer().delete_variant(tenant, product_id, variant_id, expected_version, actor).await
    }

    pub async fn create_category(
        &self,
        tenant: &TenantContext,
        new: NewCategory,
        actor: &Actor,
    ) -> Result<Category, CatalogError> {
        categories::create(&self.inner.db, tenant, new, actor).await
    }

    /// Every category, parents before children, siblings by position.
    pub async fn list_categories(&self, tenant: &TenantContext) -> Result<Vec<Category>, CatalogError> {
        categories::list(&self.inner.db, tenant).await
    }

    pub async fn category(&self, tenant: &TenantContext, id: CategoryId) -> Result<Category, CatalogError> {
        categories::get(&self.inner.db, tenant, id).await
    }

    /// Renames, moves or reorders a category; a move under its own subtree is refused.
    pub async fn update_category(
        &self,
        tenant: &TenantContext,
        id: CategoryId,
        patch: CategoryPatch,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<Category, CatalogError> {
        categories::update(&self.inner.db, tenant, id, patch, expected_version, actor).await
    }

    /// Deletes a category with no live subcategories; its products leave it.
    pub async fn delete_category(
        &self,
        tenant: &TenantContext,
        id: CategoryId,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<(), CatalogError> {
        categories::delete(&self.inner.db, tenant, id, expected_version, actor).await
    }

    pub async fn create_collection(
        &self,
        tenant: &TenantContext,
        new: NewCollection,
        actor: &Actor,
    ) -> Result<Collection, CatalogError> {
        collections::create(&self.inner.db, tenant, new, actor).await
    }

    pub async fn list_collections(&self, tenant: &TenantContext) -> Result<Vec<Collection>, CatalogError> {
        collections::list(&self.inner.db, tenant).await
    }

    pub async fn collection(&self, tenant: &TenantContext, id: CollectionId) -> Result<Collection, CatalogError> {
        collections::get(&self.inner.db, tenant, id).await
    }

    pub async fn update_collection(
        &self,
        tenant: &TenantContext,
        id: CollectionId,
        patch: CollectionPatch,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<Collection, CatalogError> {
        collections::update(&self.inner.db, tenant, id, patch, expected_version, actor).await
    }

    pub async fn delete_collection(
        &self,
        tenant: &TenantContext,
        id: CollectionId,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<(), CatalogError> {
        collections::delete(&self.inner.db, tenant, id, expected_version, actor).await
    }

    pub async fn create_product_type(
        &self,
        tenant: &TenantContext,
        new: NewProductType,
        actor: &Actor,
    ) -> Result<ProductType, CatalogError> {
        product_types::create(&self.inner.db, tenant, new, actor).await
    }

    pub async fn list_product_types(&self, tenant: &TenantContext) -> Result<Vec<ProductType>, CatalogError> {
        product_types::list(&self.inner.db, tenant).await
    }

    pub async fn product_type(&self, tenant: &TenantContext, id: ProductTypeId) -> Result<ProductType, CatalogError> {
        product_types::get(&self.inner.db, tenant, id).await
    }

    pub async fn sold_currencies(&self, tenant: &TenantContext) -> Result<SoldCurrencies, CatalogError> {
        products::sold_currencies(&self.inner.db, tenant).await
    }

    pub async fn set_sold_currencies(
        &self,
        tenant: &TenantContext,
        input: SoldCurrenciesInput,
        actor: &Actor,
    ) -> Result<SoldCurrencies, CatalogError> {
        products::set_sold_currencies(&self.inner.db, tenant, input, actor).await
    }

    pub async fn create_synonyms(
        &self,
        tenant: &TenantContext,
        new: NewSynonyms,
        actor: &Actor,
    ) -> Result<Synonyms, CatalogError> {
        search::create_synonyms(&self.inner.db, tenant, new, actor).await
    }

    pub async fn list_synonyms(&self, tenant: &TenantContext) -> Result<Vec<Synonyms>, CatalogError> {
        search::list_synonyms(&self.inner.db, tenant).await
    }

    pub async fn delete_synonyms(&self, tenant: &TenantContext, id: uuid::Uuid) -> Result<(), CatalogError> {
        search::delete_synonyms(&self.inner.db, tenant, id).await
    }

    /// What shoppers see.
    pub fn storefront(&self) -> Storefront<'_> {
        Storefront { db: &self.inner.db, search: self.inner.search.as_ref() }
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

    fn background(&self, events: &mut EventBusBuilder, _jobs: &mut JobRegistry) -> Result<(), String> {
        events::declare(events);
        Ok(())
    }
}
