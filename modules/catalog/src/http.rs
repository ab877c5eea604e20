//! The catalog's HTTP API: the back office under `/api/v1/admin/catalog` (reads need
//! `catalog.read`, writes `catalog.manage`) and the storefront under `/api/v1/store/catalog`
//! (anyone; cacheable, with an `ETag` and `304 Not Modified`).

use crate::product_csv::ProductImport;
use crate::storefront::{accepted_languages, Found};
use crate::{
    BulkCategoryChange, BulkPriceChange, BulkStatusChange, CatalogModule, Category, CategoryId, CategoryPatch,
    Collection, CollectionId, CollectionPatch, CollectionPreview, CollectionPreviewQuery, NewCategory, NewCollection,
    NewProduct, NewProductType, NewSynonyms, NewVariant, Product, ProductChange, ProductFilter, ProductId,
    ProductPatch, ProductSort, ProductType, ProductTypeId, ProductTypePatch, SearchSort, SoldCurrencies,
    SoldCurrenciesInput, StoreCategory, StoreCollection, StoreFilter, StoreProduct, StoreProductPage,
    StoreSearchResults, StoreSort, Suggestions, Synonyms, VariantId, VariantPatch,
};
use actix_web::body::BoxBody;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder};
use agora_kernel::areas::Area;
use agora_kernel::conditional::{Conditional, PUBLIC_CACHE_CONTROL};
use agora_kernel::csv_files::{self, CsvUpload};
use agora_kernel::images;
use agora_kernel::lists::{ListQuery, NewestFirst, Page};
use agora_kernel::storage::{bytes_stream, ConfiguredStorage, TenantFiles};
use agora_kernel::tasks::{NewTask, TaskStarted};
use agora_kernel::Acting;
use agora_kernel::{perm, ApiError, Authorized, Created, IfMatch, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, Apiv2Schema, NoContent, OperationModifier};
use paperclip::v2::models::{DefaultOperationRaw, DefaultSchemaRaw, Either, Response};
use paperclip::v2::schema::Apiv2Schema as Schema;
use serde::Deserialize;

/// Where the module is mounted in both areas (also for `Location` headers).
pub(crate) const SCOPE: &str = "/catalog";

/// A product page, or a `301` to where a slug the product had before moved.
pub(crate) enum ProductPage {
    Here(Conditional<StoreProduct>),
    MovedTo(String),
}

impl Responder for ProductPage {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<BoxBody> {
        match self {
            ProductPage::Here(page) => page.respond_to(req),
            ProductPage::MovedTo(location) => HttpResponse::MovedPermanently()
                .insert_header((header::LOCATION, location))
                .insert_header((header::CACHE_CONTROL, PUBLIC_CACHE_CONTROL))
                .insert_header((header::VARY, "Accept-Language"))
                .finish(),
        }
    }
}

impl Schema for ProductPage {
    fn name() -> Option<String> {
        StoreProduct::name()
    }

    fn description() -> &'static str {
        StoreProduct::description()
    }

    fn raw_schema() -> DefaultSchemaRaw {
        StoreProduct::raw_schema()
    }
}

impl OperationModifier for ProductPage {
    fn update_response(op: &mut DefaultOperationRaw) {
        Conditional::<StoreProduct>::update_response(op);
        op.responses.insert(
            StatusCode::MOVED_PERMANENTLY.as_str().into(),
            Either::Right(Response {
                description: Some("A slug the product had before: Location names its current page".into()),
                ..Default::default()
            }),
        );
    }
}

fn languages(req: &HttpRequest) -> Vec<String> {
    accepted_languages(req.headers().get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()))
}

/// Who acts, for the audit columns and the audit log: the staff member or API key, and the
/// client's address (trusted proxies resolved by the kernel).
fn acting<P>(auth: &Authorized<P>, req: &HttpRequest) -> Acting {
    Acting::new(auth.actor(), agora_kernel::http::client_addr(req).map(|a| a.to_string()))
}

fn versioned(product: Product) -> Versioned<Product, 200> {
    let version = product.version;
    Versioned::new(product, version)
}

// ---- back office: products ----

/// Create a product, with its variants and prices.
#[api_v2_operation(tags(Admin), operation_id = "createProduct")]
async fn create_product(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<NewProduct>,
) -> Result<Created<Product>, ApiError> {
    let product = module.create_product(&tenant, body.into_inner(), &acting(&auth, &req)).await?;
    let location = Area::Admin.path(&format!("{SCOPE}/products/{}", product.id));
    let version = product.version;
    Ok(Created::located(product, version, location))
}

/// The shop's products (not deleted), with filters and a chosen order.
#[api_v2_operation(tags(Admin), operation_id = "listProducts")]
async fn list_products(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    query: ListQuery<ProductSort>,
    filter: web::Query<ProductFilter>,
) -> Result<web::Json<Page<Product>>, ApiError> {
    Ok(web::Json(module.list_products(&tenant, &query, filter.into_inner()).await?))
}

/// One product with its variants, prices, slugs and categories; its ETag is its version.
#[api_v2_operation(tags(Admin), operation_id = "getProduct")]
async fn get_product(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    id: web::Path<ProductId>,
) -> Result<Versioned<Product, 200>, ApiError> {
    Ok(versioned(module.product(&tenant, id.into_inner()).await?))
}

/// Change a product; send `If-Match` with the ETag you read. `null` clears an optional field.
#[api_v2_operation(tags(Admin), operation_id = "updateProduct")]
async fn update_product(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    id: web::Path<ProductId>,
    body: web::Json<ProductPatch>,
) -> Result<Versioned<Product, 200>, ApiError> {
    let product =
        module.update_product(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(versioned(product))
}

/// Delete a product: shoppers no longer see it, its SKUs are free again, its history stays.
#[api_v2_operation(tags(Admin), operation_id = "deleteProduct")]
async fn delete_product(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    id: web::Path<ProductId>,
) -> Result<NoContent, ApiError> {
    module.delete_product(&tenant, id.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

/// Who changed what in a product, newest first.
#[api_v2_operation(tags(Admin), operation_id = "listProductChanges")]
async fn product_history(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    id: web::Path<ProductId>,
    page: ListQuery<NewestFirst>,
) -> Result<web::Json<Page<ProductChange>>, ApiError> {
    Ok(web::Json(module.product_history(&tenant, id.into_inner(), &page.keyset()?).await?))
}

/// Add a variant (with its prices) to a product; `If-Match` is the product's ETag.
#[api_v2_operation(tags(Admin), operation_id = "addVariant")]
async fn add_variant(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    id: web::Path<ProductId>,
    body: web::Json<NewVariant>,
) -> Result<Created<Product>, ApiError> {
    let id = id.into_inner();
    let product = module.add_variant(&tenant, id, body.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    let version = product.version;
    Ok(Created::located(product, version, Area::Admin.path(&format!("{SCOPE}/products/{id}"))))
}

/// Change a variant or replace its prices; `If-Match` is the product's ETag.
#[api_v2_operation(tags(Admin), operation_id = "updateVariant")]
async fn update_variant(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    path: web::Path<(ProductId, VariantId)>,
    body: web::Json<VariantPatch>,
) -> Result<Versioned<Product, 200>, ApiError> {
    let (product, variant) = path.into_inner();
    let product =
        module.update_variant(&tenant, product, variant, body.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(versioned(product))
}

/// Delete a variant (its SKU is free again); `If-Match` is the product's ETag.
#[api_v2_operation(tags(Admin), operation_id = "deleteVariant")]
async fn delete_variant(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    path: web::Path<(ProductId, VariantId)>,
) -> Result<Versioned<Product, 200>, ApiError> {
    let (product, variant) = path.into_inner();
    Ok(versioned(module.delete_variant(&tenant, product, variant, if_match.0, &acting(&auth, &req)).await?))
}

// ---- back office: categories ----

fn versioned_category(category: Category) -> Versioned<Category, 200> {
    let version = category.version;
    Versioned::new(category, version)
}

/// Create a category (at the top, or under `parent_id`).
#[api_v2_operation(tags(Admin), operation_id = "createCategory")]
async fn create_category(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<NewCategory>,
) -> Result<Created<Category>, ApiError> {
    let category = module.create_category(&tenant, body.into_inner(), &acting(&auth, &req)).await?;
    let location = Area::Admin.path(&format!("{SCOPE}/categories/{}", category.id));
    let version = category.version;
    Ok(Created::located(category, version, location))
}

/// The category tree: parents before children, siblings by position.
#[api_v2_operation(tags(Admin), operation_id = "listCategories")]
async fn list_categories(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
) -> Result<web::Json<Vec<Category>>, ApiError> {
    Ok(web::Json(module.list_categories(&tenant).await?))
}

/// One category with its breadcrumbs.
#[api_v2_operation(tags(Admin), operation_id = "getCategory")]
async fn get_category(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    id: web::Path<CategoryId>,
) -> Result<Versioned<Category, 200>, ApiError> {
    Ok(versioned_category(module.category(&tenant, id.into_inner()).await?))
}

/// Rename, move (`parent_id`) or reorder (`position`) a category; a loop is refused.
#[api_v2_operation(tags(Admin), operation_id = "updateCategory")]
async fn update_category(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    id: web::Path<CategoryId>,
    body: web::Json<CategoryPatch>,
) -> Result<Versioned<Category, 200>, ApiError> {
    let category =
        module.update_category(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(versioned_category(category))
}

/// Delete a category without subcategories; its products leave it.
#[api_v2_operation(tags(Admin), operation_id = "deleteCategory")]
async fn delete_category(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    id: web::Path<CategoryId>,
) -> Result<NoContent, ApiError> {
    module.delete_category(&tenant, id.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

// ---- back office: collections ----

fn versioned_collection(collection: Collection) -> Versioned<Collection, 200> {
    let version = collection.version;
    Versioned::new(collection, version)
}

/// Create a collection: hand-picked `product_ids`, or a `rule` such as `tag = summer and price < 50`.
#[api_v2_operation(tags(Admin), operation_id = "createCollection")]
async fn create_collection(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<NewCollection>,
) -> Result<Created<Collection>, ApiError> {
    let collection = module.create_collection(&tenant, body.into_inner(), &acting(&auth, &req)).await?;
    let location = Area::Admin.path(&format!("{SCOPE}/collections/{}", collection.id));
    let version = collection.version;
    Ok(Created::located(collection, version, location))
}

/// Try a rule before saving it: how many products it matches now and the first of them by name
/// (drafts and archived ones included). Changes nothing.
#[api_v2_operation(tags(Admin), operation_id = "previewCollection")]
async fn preview_collection(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<CollectionPreviewQuery>,
) -> Result<web::Json<CollectionPreview>, ApiError> {
    Ok(web::Json(module.preview_collection(&tenant, body.into_inner()).await?))
}

/// The shop's collections, by slug.
#[api_v2_operation(tags(Admin), operation_id = "listCollections")]
async fn list_collections(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
) -> Result<web::Json<Vec<Collection>>, ApiError> {
    Ok(web::Json(module.list_collections(&tenant).await?))
}

/// One collection.
#[api_v2_operation(tags(Admin), operation_id = "getCollection")]
async fn get_collection(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    id: web::Path<CollectionId>,
) -> Result<Versioned<Collection, 200>, ApiError> {
    Ok(versioned_collection(module.collection(&tenant, id.into_inner()).await?))
}

/// Change a collection's texts, rule or hand-picked products; send `If-Match`.
#[api_v2_operation(tags(Admin), operation_id = "updateCollection")]
async fn update_collection(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    id: web::Path<CollectionId>,
    body: web::Json<CollectionPatch>,
) -> Result<Versioned<Collection, 200>, ApiError> {
    let collection =
        module.update_collection(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(versioned_collection(collection))
}

/// Delete a collection (its products stay).
#[api_v2_operation(tags(Admin), operation_id = "deleteCollection")]
async fn delete_collection(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    id: web::Path<CollectionId>,
) -> Result<NoContent, ApiError> {
    module.delete_collection(&tenant, id.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

// ---- back office: product types, currencies, synonyms ----

/// Create a product type and the typed attributes of its products.
#[api_v2_operation(tags(Admin), operation_id = "createProductType")]
async fn create_product_type(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<NewProductType>,
) -> Result<Created<ProductType>, ApiError> {
    let created = module.create_product_type(&tenant, body.into_inner(), &acting(&auth, &req)).await?;
    let location = Area::Admin.path(&format!("{SCOPE}/product-types/{}", created.id));
    let version = created.version;
    Ok(Created::located(created, version, location))
}

/// The shop's product types, by name.
#[api_v2_operation(tags(Admin), operation_id = "listProductTypes")]
async fn list_product_types(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
) -> Result<web::Json<Vec<ProductType>>, ApiError> {
    Ok(web::Json(module.list_product_types(&tenant).await?))
}

/// One product type.
#[api_v2_operation(tags(Admin), operation_id = "getProductType")]
async fn get_product_type(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    id: web::Path<ProductTypeId>,
) -> Result<Versioned<ProductType, 200>, ApiError> {
    let found = module.product_type(&tenant, id.into_inner()).await?;
    let version = found.version;
    Ok(Versioned::new(found, version))
}

/// Rename a product type or replace its attributes; send `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "updateProductType")]
async fn update_product_type(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    id: web::Path<ProductTypeId>,
    body: web::Json<ProductTypePatch>,
) -> Result<Versioned<ProductType, 200>, ApiError> {
    let updated = module
        .update_product_type(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth, &req))
        .await?;
    let version = updated.version;
    Ok(Versioned::new(updated, version))
}

/// Delete a product type; refused (409) while products are of it.
#[api_v2_operation(tags(Admin), operation_id = "deleteProductType")]
async fn delete_product_type(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    id: web::Path<ProductTypeId>,
) -> Result<NoContent, ApiError> {
    module.delete_product_type(&tenant, id.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

/// The currencies prices may be given in.
#[api_v2_operation(tags(Admin), operation_id = "getSoldCurrencies")]
async fn get_currencies(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
) -> Result<web::Json<SoldCurrencies>, ApiError> {
    Ok(web::Json(module.sold_currencies(&tenant).await?))
}

/// Set the currencies sold besides the shop's default currency.
#[api_v2_operation(tags(Admin), operation_id = "setSoldCurrencies")]
async fn set_currencies(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<SoldCurrenciesInput>,
) -> Result<web::Json<SoldCurrencies>, ApiError> {
    Ok(web::Json(module.set_sold_currencies(&tenant, body.into_inner(), &acting(&auth, &req)).await?))
}

/// Add a group of words searches treat as the same.
#[api_v2_operation(tags(Admin), operation_id = "createSearchSynonyms")]
async fn create_synonyms(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<NewSynonyms>,
) -> Result<Created<Synonyms>, ApiError> {
    let created = module.create_synonyms(&tenant, body.into_inner(), &acting(&auth, &req)).await?;
    let location = Area::Admin.path(&format!("{SCOPE}/synonyms/{}", created.id));
    let version = created.version;
    Ok(Created::located(created, version, location))
}

/// The shop's synonym groups.
#[api_v2_operation(tags(Admin), operation_id = "listSearchSynonyms")]
async fn list_synonyms(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
) -> Result<web::Json<Vec<Synonyms>>, ApiError> {
    Ok(web::Json(module.list_synonyms(&tenant).await?))
}

/// Remove a synonym group.
#[api_v2_operation(tags(Admin), operation_id = "deleteSearchSynonyms")]
async fn delete_synonyms(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<NoContent, ApiError> {
    module.delete_synonyms(&tenant, id.into_inner(), &acting(&auth, &req)).await?;
    Ok(NoContent)
}

// ---- back office: bulk changes ----

/// Give many products one status (chosen by id or by the product list's filters), as a task.
#[api_v2_operation(tags(Admin), operation_id = "bulkChangeProductStatus")]
async fn bulk_status(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<BulkStatusChange>,
) -> Result<TaskStarted, ApiError> {
    let task_id =
        module.bulk_change_status(&tenant, body.into_inner(), &acting(&auth, &req), NewTask::by(&auth)).await?;
    Ok(TaskStarted { task_id })
}

/// Change many products' prices by a percentage or by an amount per currency, as a task; a
/// product whose price would fall below zero is reported and left as it was.
#[api_v2_operation(tags(Admin), operation_id = "bulkChangeProductPrices")]
async fn bulk_prices(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<BulkPriceChange>,
) -> Result<TaskStarted, ApiError> {
    let task_id =
        module.bulk_change_prices(&tenant, body.into_inner(), &acting(&auth, &req), NewTask::by(&auth)).await?;
    Ok(TaskStarted { task_id })
}

/// Put many products into categories and take them out of others, as a task.
#[api_v2_operation(tags(Admin), operation_id = "bulkChangeProductCategories")]
async fn bulk_categories(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    body: web::Json<BulkCategoryChange>,
) -> Result<TaskStarted, ApiError> {
    let task_id =
        module.bulk_change_categories(&tenant, body.into_inner(), &acting(&auth, &req), NewTask::by(&auth)).await?;
    Ok(TaskStarted { task_id })
}

/// An import file larger than this is refused (413) before it is stored.
const MAX_IMPORT_BYTES: u64 = 50 * 1024 * 1024;

/// Import products from a CSV file (UTF-8, one row per variant, upserted by SKU; the columns are
/// in `docs/catalog-csv.md`), as a task. A wrong header or a file that is not UTF-8 is refused at
/// once (422 naming the column or line); rows that do not fit are reported by the task with their
/// line, the others applied. Running the same file again changes nothing.
/// The file is the raw body (`text/csv`), at most 50 MiB (413 beyond).
#[api_v2_operation(tags(Admin), operation_id = "importProducts")]
async fn import_products(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    storage: web::Data<ConfiguredStorage>,
    upload: CsvUpload,
) -> Result<TaskStarted, ApiError> {
    let bytes = images::read_upload(upload.body, upload.declared_length, MAX_IMPORT_BYTES).await?;
    let files = TenantFiles::new(storage.get().await?, &tenant.schema)?;
    let file = csv_files::receive_upload::<ProductImport>(&files, bytes_stream(bytes), MAX_IMPORT_BYTES).await?;
    let task_id = module.start_import(&tenant, file, &acting(&auth, &req), NewTask::by(&auth)).await?;
    Ok(TaskStarted { task_id })
}

/// Export every product as CSV, one row per variant, as a task; the file is the task's result
/// (`GET /api/v1/admin/tasks/{id}/result`).
#[api_v2_operation(tags(Admin), operation_id = "exportProducts")]
async fn export_products(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
) -> Result<TaskStarted, ApiError> {
    let task_id = module.start_export(&tenant, &acting(&auth, &req), NewTask::by(&auth)).await?;
    Ok(TaskStarted { task_id })
}

// ---- storefront ----

/// The signed-in customer of this shop, whose groups may have prices of their own; anyone else
/// (anonymous, staff, another shop's customer) sees what every shopper sees.
fn shopper(req: &HttpRequest, tenant: &TenantContext) -> Option<uuid::Uuid> {
    match agora_kernel::auth::Principal::of(req) {
        agora_kernel::auth::Principal::Customer { tenant: shop, user_id } if shop == tenant.id => Some(user_id),
        _ => None,
    }
}

/// Visible products (of a category with `category=`), filtered by attributes, tag and price
/// range, with facet counts over every match, sorted by newest, name or price.
#[api_v2_operation(tags(Store), operation_id = "listStoreProducts")]
async fn store_products(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    query: ListQuery<StoreSort>,
    filter: web::Query<StoreFilter>,
) -> Result<Conditional<StoreProductPage>, ApiError> {
    let page =
        module.store_products(&tenant, filter.into_inner(), &query, languages(&req), shopper(&req, &tenant)).await?;
    Ok(Conditional::from_json_bytes(page))
}

#[derive(Debug, Deserialize, Apiv2Schema)]
struct ProductPageQuery {
    /// Prices in this currency (one the shop sells in); the shop's default when absent.
    currency: Option<String>,
    /// The shopper's language, overriding `Accept-Language`.
    locale: Option<String>,
}

/// A product page by id or by slug (in any of the shop's languages), in the shopper's language
/// and the requested currency. A slug the product had before answers 301 to its current one.
#[api_v2_operation(tags(Store), operation_id = "getStoreProduct")]
async fn store_product(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    key: web::Path<String>,
    query: web::Query<ProductPageQuery>,
) -> Result<ProductPage, ApiError> {
    let query = query.into_inner();
    let mut wanted = languages(&req);
    if let Some(locale) = query.locale {
        wanted.insert(0, locale);
    }
    match module.store_product(&tenant, &key, query.currency, wanted, shopper(&req, &tenant)).await? {
        Found::Here(product) => Ok(ProductPage::Here(Conditional::from_json_bytes(product))),
        Found::MovedTo(slug) => {
            let mut location = Area::Store.path(&format!("{SCOPE}/products/{slug}"));
            if !req.query_string().is_empty() {
                location = format!("{location}?{}", req.query_string());
            }
            Ok(ProductPage::MovedTo(location))
        }
    }
}

/// A collection by id or slug (its products: `GET /products?collection=`).
#[api_v2_operation(tags(Store), operation_id = "getStoreCollection")]
async fn store_collection(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    key: web::Path<String>,
) -> Result<Conditional<StoreCollection>, ApiError> {
    Ok(Conditional::from_json_bytes(module.store_collection(&tenant, &key, languages(&req)).await?))
}

/// The category tree in the shopper's language.
#[api_v2_operation(tags(Store), operation_id = "listStoreCategories")]
async fn store_categories(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
) -> Result<Conditional<Vec<StoreCategory>>, ApiError> {
    Ok(Conditional::from_json_bytes(module.store_categories(&tenant, languages(&req)).await?))
}

/// A category by id or slug, with its breadcrumbs (its products: `GET /products?category=`).
#[api_v2_operation(tags(Store), operation_id = "getStoreCategory")]
async fn store_category(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    key: web::Path<String>,
) -> Result<Conditional<StoreCategory>, ApiError> {
    Ok(Conditional::from_json_bytes(module.store_category(&tenant, &key, languages(&req)).await?))
}

#[derive(Debug, Deserialize, Apiv2Schema)]
struct SearchQuery {
    /// What the shopper typed: words, "quoted phrases", `or`, `-excluded`.
    q: String,
}

/// Search visible products, best first (an exact name first, then the full text rank), a page at
/// a time (`limit`, `cursor` from the previous page's `next_cursor`), with facets over every hit
/// and suggestions when the first page found little.
#[api_v2_operation(tags(Store), operation_id = "searchStoreProducts")]
async fn store_search(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    query: web::Query<SearchQuery>,
    list: ListQuery<SearchSort>,
    filter: web::Query<StoreFilter>,
) -> Result<Conditional<StoreSearchResults>, ApiError> {
    let SearchQuery { q } = query.into_inner();
    let results =
        module.search(&tenant, q, filter.into_inner(), &list, languages(&req), shopper(&req, &tenant)).await?;
    Ok(Conditional::from_json_bytes(results))
}

#[derive(Debug, Deserialize, Apiv2Schema)]
struct SuggestQuery {
    /// What the shopper has typed so far.
    q: String,
    /// How many suggestions, 1–20 (default 8).
    limit: Option<i64>,
}

/// Autocomplete and typo-tolerant suggestions of product names.
#[api_v2_operation(tags(Store), operation_id = "suggestStoreProducts")]
async fn store_suggest(
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    query: web::Query<SuggestQuery>,
) -> Result<Conditional<Suggestions>, ApiError> {
    let SuggestQuery { q, limit } = query.into_inner();
    Ok(Conditional::from_json_bytes(module.suggest(&tenant, q, limit.unwrap_or(8)).await?))
}

/// The currencies prices are shown in, for the shopper's currency switcher (`?currency=`).
#[api_v2_operation(tags(Store), operation_id = "getStoreCurrencies")]
async fn store_currencies(
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
) -> Result<Conditional<SoldCurrencies>, ApiError> {
    Conditional::json(&module.sold_currencies(&tenant).await?)
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/products").route(web::post().to(create_product)).route(web::get().to(list_products)))
        .service(
            web::resource("/products/{product_id}")
                .route(web::get().to(get_product))
                .route(web::patch().to(update_product))
                .route(web::delete().to(delete_product)),
        )
        .service(web::resource("/products/{product_id}/history").route(web::get().to(product_history)))
        .service(web::resource("/products/{product_id}/variants").route(web::post().to(add_variant)))
        .service(
            web::resource("/products/{product_id}/variants/{variant_id}")
                .route(web::patch().to(update_variant))
                .route(web::delete().to(delete_variant)),
        )
        .service(
            web::resource("/categories").route(web::post().to(create_category)).route(web::get().to(list_categories)),
        )
        .service(
            web::resource("/categories/{category_id}")
                .route(web::get().to(get_category))
                .route(web::patch().to(update_category))
                .route(web::delete().to(delete_category)),
        )
        .service(
            web::resource("/collections")
                .route(web::post().to(create_collection))
                .route(web::get().to(list_collections)),
        )
        // Before `/collections/{collection_id}`, which would take "preview" for an id.
        .service(web::resource("/collections/preview").route(web::post().to(preview_collection)))
        .service(
            web::resource("/collections/{collection_id}")
                .route(web::get().to(get_collection))
                .route(web::patch().to(update_collection))
                .route(web::delete().to(delete_collection)),
        )
        .service(
            web::resource("/product-types")
                .route(web::post().to(create_product_type))
                .route(web::get().to(list_product_types)),
        )
        .service(
            web::resource("/product-types/{product_type_id}")
                .route(web::get().to(get_product_type))
                .route(web::patch().to(update_product_type))
                .route(web::delete().to(delete_product_type)),
        )
        .service(web::resource("/currencies").route(web::get().to(get_currencies)).route(web::put().to(set_currencies)))
        .service(web::resource("/synonyms").route(web::post().to(create_synonyms)).route(web::get().to(list_synonyms)))
        .service(web::resource("/synonyms/{synonyms_id}").route(web::delete().to(delete_synonyms)))
        .service(web::resource("/bulk/status").route(web::post().to(bulk_status)))
        .service(web::resource("/bulk/prices").route(web::post().to(bulk_prices)))
        .service(web::resource("/bulk/categories").route(web::post().to(bulk_categories)))
        .service(web::resource("/imports").route(web::post().to(import_products)))
        .service(web::resource("/exports").route(web::post().to(export_products)));
    crate::http_media::admin_routes(cfg);
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/products").route(web::get().to(store_products)))
        .service(web::resource("/products/{key}").route(web::get().to(store_product)))
        .service(web::resource("/categories").route(web::get().to(store_categories)))
        .service(web::resource("/categories/{key}").route(web::get().to(store_category)))
        .service(web::resource("/collections/{key}").route(web::get().to(store_collection)))
        .service(web::resource("/search").route(web::get().to(store_search)))
        .service(web::resource("/suggestions").route(web::get().to(store_suggest)))
        .service(web::resource("/currencies").route(web::get().to(store_currencies)));
    crate::http_media::store_routes(cfg);
}
