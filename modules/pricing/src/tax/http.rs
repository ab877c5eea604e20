//! Taxes in the back office, under `/api/v1/admin/pricing/taxes`: settings, classes, zones with
//! their rates, products' classes, customers' exemptions, and a preview of a basket's taxes.
//!
//! Reads and the preview need `pricing.read`, changes `pricing.manage`.

use super::totals::TaxBreakdown;
use super::{
    NewTaxClass, ProductTaxClass, SetProductTaxClass, SetTaxExemption, TaxClass, TaxClassId, TaxClassList,
    TaxExemption, TaxQuery, TaxSettings, TaxZone, TaxZoneId, TaxZoneInput, TaxZoneList,
};
use crate::PricingModule;
use agora_kernel::areas::Area;
use agora_kernel::{perm, Acting, ApiError, Authorized, Created, IfMatch, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, NoContent};
use uuid::Uuid;

/// Where taxes are mounted in the back office (for `Location` headers).
const SCOPE: &str = "/pricing/taxes";

fn acting<P: agora_kernel::auth::PermissionMarker>(auth: &Authorized<P>) -> Acting {
    Acting::new(auth.actor(), None)
}

// --- Settings ----------------------------------------------------------------------------------

/// The shop's tax settings: inclusive or exclusive prices, cross-border prices, rounding,
/// shipping tax, origin country.
#[api_v2_operation(tags(Admin), operation_id = "getTaxSettings")]
async fn get_settings(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
) -> Result<Versioned<TaxSettings, 200>, ApiError> {
    let (settings, version) = module.tax_settings(&tenant).await?;
    Ok(Versioned::new(settings, version))
}

/// Replace the shop's tax settings; `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "updateTaxSettings")]
async fn update_settings(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    body: web::Json<TaxSettings>,
) -> Result<Versioned<TaxSettings, 200>, ApiError> {
    let (settings, version) =
        module.update_tax_settings(&tenant, body.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(Versioned::new(settings, version))
}

// --- Classes -----------------------------------------------------------------------------------

/// The shop's tax classes, built-in ones first.
#[api_v2_operation(tags(Admin), operation_id = "listTaxClasses")]
async fn list_classes(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
) -> Result<web::Json<TaxClassList>, ApiError> {
    Ok(web::Json(TaxClassList { items: module.tax_classes(&tenant).await? }))
}

/// Add a tax class (taxed at the rates its zones give it).
#[api_v2_operation(tags(Admin), operation_id = "createTaxClass")]
async fn create_class(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    body: web::Json<NewTaxClass>,
) -> Result<Created<TaxClass>, ApiError> {
    let class = module.create_tax_class(&tenant, body.into_inner(), &acting(&auth)).await?;
    let path = Area::Admin.path(&format!("{SCOPE}/classes/{}", class.id));
    let version = class.version;
    Ok(Created::located(class, version, path))
}

/// One tax class, with its version (ETag).
#[api_v2_operation(tags(Admin), operation_id = "getTaxClass")]
async fn get_class(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<TaxClassId>,
) -> Result<Versioned<TaxClass, 200>, ApiError> {
    let class = module.tax_class(&tenant, id.into_inner()).await?;
    let version = class.version;
    Ok(Versioned::new(class, version))
}

/// Rename a tax class; `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "renameTaxClass")]
async fn rename_class(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    id: web::Path<TaxClassId>,
    body: web::Json<NewTaxClass>,
) -> Result<Versioned<TaxClass, 200>, ApiError> {
    let class =
        module.rename_tax_class(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth)).await?;
    let version = class.version;
    Ok(Versioned::new(class, version))
}

/// Delete a class the merchant added: its rates go, its products are taxed as standard. 409
/// `tax-class-locked` for a built-in class or the one shipping is taxed as.
#[api_v2_operation(tags(Admin), operation_id = "deleteTaxClass")]
async fn delete_class(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    id: web::Path<TaxClassId>,
) -> Result<NoContent, ApiError> {
    module.delete_tax_class(&tenant, id.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(NoContent)
}

// --- Zones -------------------------------------------------------------------------------------

/// The shop's tax zones with their rates, by country.
#[api_v2_operation(tags(Admin), operation_id = "listTaxZones")]
async fn list_zones(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
) -> Result<web::Json<TaxZoneList>, ApiError> {
    Ok(web::Json(TaxZoneList { items: module.tax_zones(&tenant).await? }))
}

/// Add a tax zone (a country, optionally a region and postcodes) with its rates.
#[api_v2_operation(tags(Admin), operation_id = "createTaxZone")]
async fn create_zone(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    body: web::Json<TaxZoneInput>,
) -> Result<Created<TaxZone>, ApiError> {
    let zone = module.create_tax_zone(&tenant, body.into_inner(), &acting(&auth)).await?;
    let path = Area::Admin.path(&format!("{SCOPE}/zones/{}", zone.id));
    let version = zone.version;
    Ok(Created::located(zone, version, path))
}

/// One tax zone with its rates and version (ETag).
#[api_v2_operation(tags(Admin), operation_id = "getTaxZone")]
async fn get_zone(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<TaxZoneId>,
) -> Result<Versioned<TaxZone, 200>, ApiError> {
    let zone = module.tax_zone(&tenant, id.into_inner()).await?;
    let version = zone.version;
    Ok(Versioned::new(zone, version))
}

/// Replace a tax zone and its rates; `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "replaceTaxZone")]
async fn replace_zone(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    id: web::Path<TaxZoneId>,
    body: web::Json<TaxZoneInput>,
) -> Result<Versioned<TaxZone, 200>, ApiError> {
    let zone = module.replace_tax_zone(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth)).await?;
    let version = zone.version;
    Ok(Versioned::new(zone, version))
}

/// Delete a tax zone and its rates.
#[api_v2_operation(tags(Admin), operation_id = "deleteTaxZone")]
async fn delete_zone(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    id: web::Path<TaxZoneId>,
) -> Result<NoContent, ApiError> {
    module.delete_tax_zone(&tenant, id.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(NoContent)
}

// --- Products' classes -------------------------------------------------------------------------

/// Which class a product is taxed as (standard unless set).
#[api_v2_operation(tags(Admin), operation_id = "getProductTaxClass")]
async fn get_product_class(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    product: web::Path<Uuid>,
) -> Result<Versioned<ProductTaxClass, 200>, ApiError> {
    let (class, version) = module.product_tax_class(&tenant, product.into_inner()).await?;
    Ok(Versioned::optional(class, version))
}

/// Set the class a catalog product is taxed as; 404 when the catalog has no such product.
#[api_v2_operation(tags(Admin), operation_id = "setProductTaxClass")]
async fn set_product_class(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    catalog: web::Data<agora_catalog::CatalogModule>,
    product: web::Path<Uuid>,
    body: web::Json<SetProductTaxClass>,
) -> Result<Versioned<ProductTaxClass, 200>, ApiError> {
    let product = product.into_inner();
    // The catalog owns products: ask it (its own read) whether this one exists in the shop.
    catalog.product(&tenant, agora_catalog::ProductId::from_uuid(product)).await?;
    let (class, version) =
        module.set_product_tax_class(&tenant, product, body.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(Versioned::new(class, version))
}

// --- Exemptions --------------------------------------------------------------------------------

/// A customer's VAT id on file (the reverse charge exempts them where it applies).
#[api_v2_operation(tags(Admin), operation_id = "getTaxExemption")]
async fn get_exemption(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    customer: web::Path<Uuid>,
) -> Result<Versioned<TaxExemption, 200>, ApiError> {
    let exemption = module.tax_exemption(&tenant, customer.into_inner()).await?;
    let version = exemption.version;
    Ok(Versioned::new(exemption, version))
}

/// Record a B2B customer's EU VAT id (checked for syntax).
#[api_v2_operation(tags(Admin), operation_id = "setTaxExemption")]
async fn set_exemption(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    customers: web::Data<agora_customers::CustomersModule>,
    customer: web::Path<Uuid>,
    body: web::Json<SetTaxExemption>,
) -> Result<Versioned<TaxExemption, 200>, ApiError> {
    let (customer, body) = (customer.into_inner(), body.into_inner());
    let exemption = module.set_tax_exemption(&tenant, &customers, customer, body, if_match.0, &acting(&auth)).await?;
    let version = exemption.version;
    Ok(Versioned::new(exemption, version))
}

/// Remove a customer's VAT id: they are taxed like anyone else.
#[api_v2_operation(tags(Admin), operation_id = "removeTaxExemption")]
async fn remove_exemption(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    customer: web::Path<Uuid>,
) -> Result<NoContent, ApiError> {
    module.remove_tax_exemption(&tenant, customer.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(NoContent)
}

// --- Preview -----------------------------------------------------------------------------------

/// Tax a basket as the cart and checkout would (lines after discounts, shipping, a destination,
/// optionally a customer): per line, shipping, by rate and in total. Nothing is written.
#[api_v2_operation(tags(Admin), operation_id = "previewTaxes")]
async fn preview(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    body: web::Json<TaxQuery>,
) -> Result<web::Json<TaxBreakdown>, ApiError> {
    Ok(web::Json(module.preview_taxes(&tenant, body.into_inner()).await?))
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/settings").route(web::get().to(get_settings)).route(web::put().to(update_settings)))
        .service(web::resource("/classes").route(web::get().to(list_classes)).route(web::post().to(create_class)))
        .service(
            web::resource("/classes/{tax_class_id}")
                .route(web::get().to(get_class))
                .route(web::put().to(rename_class))
                .route(web::delete().to(delete_class)),
        )
        .service(web::resource("/zones").route(web::get().to(list_zones)).route(web::post().to(create_zone)))
        .service(
            web::resource("/zones/{tax_zone_id}")
                .route(web::get().to(get_zone))
                .route(web::put().to(replace_zone))
                .route(web::delete().to(delete_zone)),
        )
        .service(
            web::resource("/products/{product_id}")
                .route(web::get().to(get_product_class))
                .route(web::put().to(set_product_class)),
        )
        .service(
            web::resource("/exemptions/{customer_id}")
                .route(web::get().to(get_exemption))
                .route(web::put().to(set_exemption))
                .route(web::delete().to(remove_exemption)),
        )
        .service(web::resource("/preview").route(web::post().to(preview)));
}
