//! Promotions in the back office, under `/api/v1/admin/pricing/promotions`: the promotions,
//! their codes (with their use so far, bulk generation, disabling), and a preview that runs the
//! evaluation a cart will run. Reads and the preview need `pricing.read`, changes
//! `pricing.manage`. The storefront lists no codes: a shopper learns about a code only by
//! submitting it (with the cart).

use super::{
    AppliedPromotions, GenerateCodes, GeneratedCodes, NewPromotion, NewPromotionCode, Promotion, PromotionCode,
    PromotionCodeId, PromotionContext, PromotionFilter, PromotionId, PromotionPatch, PromotionStatus,
};
use crate::PricingModule;
use agora_catalog::CatalogModule;
use agora_kernel::areas::Area;
use agora_kernel::lists::{ListQuery, NewestFirst, OldestFirst, Page};
use agora_kernel::money::Currency;
use agora_kernel::{perm, Acting, ApiError, Authorized, Created, IfMatch, TenantContext, Versioned};
use chrono::{DateTime, Utc};
use paperclip::actix::{api_v2_operation, web, NoContent};

fn acting<P: agora_kernel::auth::PermissionMarker>(auth: &Authorized<P>) -> Acting {
    Acting::new(auth.actor(), None)
}

fn path(rest: &str) -> String {
    Area::Admin.path(&format!("{}/promotions{rest}", crate::http::SCOPE))
}

/// The currencies the shop sells in (the catalog's): amounts in any other are refused.
async fn sold(catalog: &CatalogModule, tenant: &TenantContext) -> Result<Vec<Currency>, ApiError> {
    let sold = catalog.sold_currencies(tenant).await?;
    Ok(sold.currencies.iter().filter_map(|c| Currency::parse(c)).collect())
}

/// Create a promotion (automatic, or with codes). Amounts must be in currencies the shop sells.
#[api_v2_operation(tags(Admin), operation_id = "createPromotion")]
async fn create_promotion(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    catalog: web::Data<CatalogModule>,
    body: web::Json<NewPromotion>,
) -> Result<Created<Promotion>, ApiError> {
    let sold = sold(&catalog, &tenant).await?;
    let promotion = module.create_promotion(&tenant, body.into_inner(), &sold, &acting(&auth)).await?;
    let (location, version) = (path(&format!("/{}", promotion.id)), promotion.version);
    Ok(Created::located(promotion, version, location))
}

/// The shop's promotions, newest first (`?status=`, `?trigger=`).
#[api_v2_operation(tags(Admin), operation_id = "listPromotions")]
async fn list_promotions(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    page: ListQuery<NewestFirst>,
    filter: web::Query<PromotionFilter>,
) -> Result<web::Json<Page<Promotion>>, ApiError> {
    let keyset = page.keyset::<DateTime<Utc>>()?;
    let rows = module.promotions(&tenant, &filter.into_inner(), keyset.after, keyset.fetch_limit()).await?;
    Ok(web::Json(keyset.page(rows, |p| (p.created_at, p.id.as_uuid()))))
}

/// One promotion, with its version (ETag).
#[api_v2_operation(tags(Admin), operation_id = "getPromotion")]
async fn get_promotion(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<PromotionId>,
) -> Result<Versioned<Promotion, 200>, ApiError> {
    let promotion = module.promotion(&tenant, id.into_inner()).await?;
    let version = promotion.version;
    Ok(Versioned::new(promotion, version))
}

/// Change a promotion; send `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "updatePromotion")]
async fn update_promotion(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    catalog: web::Data<CatalogModule>,
    id: web::Path<PromotionId>,
    body: web::Json<PromotionPatch>,
) -> Result<Versioned<Promotion, 200>, ApiError> {
    let sold = sold(&catalog, &tenant).await?;
    let promotion =
        module.update_promotion(&tenant, id.into_inner(), body.into_inner(), if_match.0, &sold, &acting(&auth)).await?;
    let version = promotion.version;
    Ok(Versioned::new(promotion, version))
}

/// Delete a promotion: it stops applying; its codes stay taken (a printed code never comes to
/// mean another discount).
#[api_v2_operation(tags(Admin), operation_id = "deletePromotion")]
async fn delete_promotion(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<PricingModule>,
    id: web::Path<PromotionId>,
) -> Result<NoContent, ApiError> {
    module.delete_promotion(&tenant, id.into_inner(), if_match.0, &acting(&auth)).await?;
    Ok(NoContent)
}

/// A promotion's codes with their use so far, oldest first.
#[api_v2_operation(tags(Admin), operation_id = "listPromotionCodes")]
async fn list_codes(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<PromotionId>,
    page: ListQuery<OldestFirst>,
) -> Result<web::Json<Page<PromotionCode>>, ApiError> {
    let keyset = page.keyset::<DateTime<Utc>>()?;
    let rows = module.promotion_codes(&tenant, id.into_inner(), keyset.after, keyset.fetch_limit()).await?;
    Ok(web::Json(keyset.page(rows, |c| (c.created_at, c.id.as_uuid()))))
}

/// Add a code to a promotion. 409 `promotion-code-taken` when the shop has it already (in any
/// case).
#[api_v2_operation(tags(Admin), operation_id = "addPromotionCode")]
async fn add_code(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<PromotionId>,
    body: web::Json<NewPromotionCode>,
) -> Result<Created<PromotionCode>, ApiError> {
    let id = id.into_inner();
    let code = module.add_promotion_code(&tenant, id, body.into_inner(), &acting(&auth)).await?;
    let version = code.version;
    Ok(Created::located(code, version, path(&format!("/{id}/codes"))))
}

/// Generate codes in bulk (`prefix` + random characters), e.g. 500 single-use codes.
#[api_v2_operation(tags(Admin), operation_id = "generatePromotionCodes")]
async fn generate_codes(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<PromotionId>,
    body: web::Json<GenerateCodes>,
) -> Result<Created<GeneratedCodes>, ApiError> {
    let id = id.into_inner();
    let codes = module.generate_promotion_codes(&tenant, id, body.into_inner(), &acting(&auth)).await?;
    Ok(Created::optional(codes, None).with_location(path(&format!("/{id}/codes"))))
}

/// Disable a code: from now on it is `unknown` to shoppers (orders placed keep their discount).
#[api_v2_operation(tags(Admin), operation_id = "disablePromotionCode")]
async fn disable_code(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    ids: web::Path<(PromotionId, PromotionCodeId)>,
) -> Result<Versioned<PromotionCode, 200>, ApiError> {
    let (id, code) = ids.into_inner();
    let code = module.set_promotion_code_status(&tenant, id, code, PromotionStatus::Disabled, &acting(&auth)).await?;
    let version = code.version;
    Ok(Versioned::new(code, version))
}

/// Enable a disabled code again.
#[api_v2_operation(tags(Admin), operation_id = "enablePromotionCode")]
async fn enable_code(
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    ids: web::Path<(PromotionId, PromotionCodeId)>,
) -> Result<Versioned<PromotionCode, 200>, ApiError> {
    let (id, code) = ids.into_inner();
    let code = module.set_promotion_code_status(&tenant, id, code, PromotionStatus::Active, &acting(&auth)).await?;
    let version = code.version;
    Ok(Versioned::new(code, version))
}

/// What promotions would do to a cart: the promotions applied with their amounts and their
/// allocation over the lines, free shipping, and why each submitted code that does not apply
/// does not. Changes nothing.
#[api_v2_operation(tags(Admin), operation_id = "previewPromotions")]
async fn preview(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    body: web::Json<PromotionContext>,
) -> Result<web::Json<AppliedPromotions>, ApiError> {
    Ok(web::Json(module.preview_promotions(&tenant, body.into_inner()).await?))
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    // The preview first: `/promotions/{id}` would otherwise take `preview` for an id.
    cfg.service(web::resource("/promotions/preview").route(web::post().to(preview)))
        .service(
            web::resource("/promotions").route(web::post().to(create_promotion)).route(web::get().to(list_promotions)),
        )
        .service(
            web::resource("/promotions/{promotion_id}")
                .route(web::get().to(get_promotion))
                .route(web::patch().to(update_promotion))
                .route(web::delete().to(delete_promotion)),
        )
        .service(
            web::resource("/promotions/{promotion_id}/codes")
                .route(web::get().to(list_codes))
                .route(web::post().to(add_code)),
        )
        .service(web::resource("/promotions/{promotion_id}/codes/generate").route(web::post().to(generate_codes)))
        .service(
            web::resource("/promotions/{promotion_id}/codes/{code_id}/disable").route(web::post().to(disable_code)),
        )
        .service(web::resource("/promotions/{promotion_id}/codes/{code_id}/enable").route(web::post().to(enable_code)));
}
