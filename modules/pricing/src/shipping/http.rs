//! Shipping's routes: zones and methods under `/api/v1/admin/pricing/shipping` (`pricing.read`
//! to read, `pricing.manage` to change), and what a shopper may ask under
//! `/api/v1/store/pricing/shipping` (where the shop delivers, and at what price).

use super::{
    ShippingCountries, ShippingMethod, ShippingMethodId, ShippingMethodInput, ShippingOptions, ShippingQuery,
    ShippingZone, ShippingZoneId, ShippingZoneList, ShippingZonePatch,
};
use crate::{http::SCOPE, PricingModule};
use agora_kernel::areas::Area;
use agora_kernel::{perm, Acting, ApiError, Authorized, Created, IfMatch, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, NoContent};

fn acting<P: agora_kernel::auth::PermissionMarker>(auth: &Authorized<P>) -> Acting {
    Acting::new(auth.actor(), None)
}

fn zone_path(id: ShippingZoneId) -> String {
    Area::Admin.path(&format!("{SCOPE}/shipping/zones/{id}"))
}

/// Add a shipping zone (countries, optionally narrowed to regions and postcodes).
#[api_v2_operation(tags(Admin), operation_id = "createShippingZone")]
async fn create_zone(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    body: web::Json<super::NewShippingZone>,
) -> Result<Created<ShippingZone>, ApiError> {
    let zone = module.create_shipping_zone(&tenant, body.into_inner(), &acting(&auth)).await?;
    let (path, version) = (zone_path(zone.id), zone.version);
    Ok(Created::located(zone, version, path))
}

/// The shop's shipping zones with their methods, oldest first.
#[api_v2_operation(tags(Admin), operation_id = "listShippingZones")]
async fn list_zones(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
) -> Result<web::Json<ShippingZoneList>, ApiError> {
    Ok(web::Json(ShippingZoneList { items: module.shipping_zones(&tenant).await? }))
}

/// One shipping zone with its methods, and its version (ETag).
#[api_v2_operation(tags(Admin), operation_id = "getShippingZone")]
async fn get_zone(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<ShippingZoneId>,
) -> Result<Versioned<ShippingZone, 200>, ApiError> {
    let zone = module.shipping_zone(&tenant, id.into_inner()).await?;
    let version = zone.version;
    Ok(Versioned::new(zone, version))
}

/// Change a shipping zone; send `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "updateShippingZone")]
async fn update_zone(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    id: web::Path<ShippingZoneId>,
    body: web::Json<ShippingZonePatch>,
) -> Result<Versioned<ShippingZone, 200>, ApiError> {
    let zone =
        module.update_shipping_zone(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth)).await?;
    let version = zone.version;
    Ok(Versioned::new(zone, version))
}

/// Delete a shipping zone and its methods.
#[api_v2_operation(tags(Admin), operation_id = "deleteShippingZone")]
async fn delete_zone(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    id: web::Path<ShippingZoneId>,
) -> Result<NoContent, ApiError> {
    module.delete_shipping_zone(&tenant, id.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(NoContent)
}

/// Add a shipping method to a zone.
#[api_v2_operation(tags(Admin), operation_id = "createShippingMethod")]
async fn create_method(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    zone: web::Path<ShippingZoneId>,
    body: web::Json<ShippingMethodInput>,
) -> Result<Created<ShippingMethod>, ApiError> {
    let method = module.create_shipping_method(&tenant, zone.into_inner(), body.into_inner(), &acting(&auth)).await?;
    let path = Area::Admin.path(&format!("{SCOPE}/shipping/methods/{}", method.id));
    let version = method.version;
    Ok(Created::located(method, version, path))
}

/// One shipping method, and its version (ETag).
#[api_v2_operation(tags(Admin), operation_id = "getShippingMethod")]
async fn get_method(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<ShippingMethodId>,
) -> Result<Versioned<ShippingMethod, 200>, ApiError> {
    let method = module.shipping_method(&tenant, id.into_inner()).await?;
    let version = method.version;
    Ok(Versioned::new(method, version))
}

/// Replace a shipping method whole; send `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "replaceShippingMethod")]
async fn replace_method(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    id: web::Path<ShippingMethodId>,
    body: web::Json<ShippingMethodInput>,
) -> Result<Versioned<ShippingMethod, 200>, ApiError> {
    let method =
        module.replace_shipping_method(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth)).await?;
    let version = method.version;
    Ok(Versioned::new(method, version))
}

/// Delete a shipping method.
#[api_v2_operation(tags(Admin), operation_id = "deleteShippingMethod")]
async fn delete_method(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    id: web::Path<ShippingMethodId>,
) -> Result<NoContent, ApiError> {
    module.delete_shipping_method(&tenant, id.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(NoContent)
}

/// What a shipment would cost by each method (the merchant checking the set-up).
#[api_v2_operation(tags(Admin), operation_id = "previewShippingOptions")]
async fn preview(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    body: web::Json<ShippingQuery>,
) -> Result<web::Json<ShippingOptions>, ApiError> {
    Ok(web::Json(module.shipping_options(&tenant, &body.into_inner()).await?))
}

/// The countries the shop delivers to (for an address form's country list).
#[api_v2_operation(tags(Store), operation_id = "storeShippingCountries")]
async fn store_countries(
    tenant: TenantContext,
    module: web::Data<PricingModule>,
) -> Result<web::Json<ShippingCountries>, ApiError> {
    Ok(web::Json(module.shipping_countries(&tenant).await?))
}

/// What a shipment of this value and weight to this address would cost by each method
/// (a shipping estimate before there is a cart).
#[api_v2_operation(tags(Store), operation_id = "storeShippingEstimate")]
async fn store_estimate(
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    body: web::Json<ShippingQuery>,
) -> Result<web::Json<ShippingOptions>, ApiError> {
    Ok(web::Json(module.shipping_options(&tenant, &body.into_inner()).await?))
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/zones").route(web::post().to(create_zone)).route(web::get().to(list_zones)))
        .service(
            web::resource("/zones/{zone_id}")
                .route(web::get().to(get_zone))
                .route(web::patch().to(update_zone))
                .route(web::delete().to(delete_zone)),
        )
        .service(web::resource("/zones/{zone_id}/methods").route(web::post().to(create_method)))
        .service(
            web::resource("/methods/{method_id}")
                .route(web::get().to(get_method))
                .route(web::put().to(replace_method))
                .route(web::delete().to(delete_method)),
        )
        .service(web::resource("/preview").route(web::post().to(preview)));
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/countries").route(web::get().to(store_countries)))
        .service(web::resource("/estimate").route(web::post().to(store_estimate)));
}
