//! Admin routes of price lists and conversion rates, under `/api/v1/admin/pricing`: reads need
//! `pricing.read`, changes `pricing.manage`.

use super::{
    CurrencyRate, CurrencyRateId, CurrencyRatePatch, ExplainQuery, NewCurrencyRate, NewPriceList, PriceExplanation,
    PriceList, PriceListEntriesInput, PriceListEntriesWritten, PriceListEntry, PriceListId, PriceListPatch,
};
use crate::PricingModule;
use actix_web::HttpRequest;
use agora_catalog::VariantId;
use agora_kernel::areas::Area;
use agora_kernel::auth::{perm, Authorized};
use agora_kernel::lists::{ListQuery, NewestFirst, Page};
use agora_kernel::{Acting, ApiError, Created, IfMatch, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, NoContent};

fn acting<P>(auth: &Authorized<P>, req: &HttpRequest) -> Acting {
    Acting::new(auth.actor(), agora_kernel::http::client_addr(req).map(|a| a.to_string()))
}

fn list_location(id: PriceListId) -> String {
    Area::Admin.path(&format!("{}/price-lists/{id}", crate::http::SCOPE))
}

fn rate_location(id: CurrencyRateId) -> String {
    Area::Admin.path(&format!("{}/currency-rates/{id}", crate::http::SCOPE))
}

/// The shop's price lists, newest first.
#[api_v2_operation(tags(Admin), operation_id = "listPriceLists")]
async fn list_lists(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    page: ListQuery<NewestFirst>,
) -> Result<web::Json<Page<PriceList>>, ApiError> {
    Ok(web::Json(module.price_lists(&tenant, &page.keyset()?).await?))
}

/// Create a price list (a draft unless `status` is `active`).
#[api_v2_operation(tags(Admin), operation_id = "createPriceList")]
async fn create_list(
    req: HttpRequest,
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    body: web::Json<NewPriceList>,
) -> Result<Created<PriceList>, ApiError> {
    let list = module.create_price_list(&tenant, body.into_inner(), &acting(&auth, &req)).await?;
    let (version, location) = (list.version, list_location(list.id));
    Ok(Created::located(list, version, location))
}

/// One price list.
#[api_v2_operation(tags(Admin), operation_id = "getPriceList")]
async fn get_list(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<PriceListId>,
) -> Result<Versioned<PriceList>, ApiError> {
    let list = module.price_list(&tenant, id.into_inner()).await?;
    let version = list.version;
    Ok(Versioned::new(list, version))
}

/// Change a price list; send `If-Match` with its ETag.
#[api_v2_operation(tags(Admin), operation_id = "updatePriceList")]
async fn update_list(
    req: HttpRequest,
    auth: Authorized<perm::PricingManage>,
    if_match: IfMatch,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<PriceListId>,
    body: web::Json<PriceListPatch>,
) -> Result<Versioned<PriceList>, ApiError> {
    let list =
        module.update_price_list(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    let version = list.version;
    Ok(Versioned::new(list, version))
}

/// Delete a price list; shoppers pay what the remaining lists or the base price say.
#[api_v2_operation(tags(Admin), operation_id = "deletePriceList")]
async fn delete_list(
    req: HttpRequest,
    auth: Authorized<perm::PricingManage>,
    if_match: IfMatch,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<PriceListId>,
) -> Result<NoContent, ApiError> {
    module.delete_price_list(&tenant, id.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

/// A price list's entries, most recently changed first.
#[api_v2_operation(tags(Admin), operation_id = "listPriceListEntries")]
async fn list_entries(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<PriceListId>,
    page: ListQuery<NewestFirst>,
) -> Result<web::Json<Page<PriceListEntry>>, ApiError> {
    Ok(web::Json(module.price_list_entries(&tenant, id.into_inner(), &page.keyset()?).await?))
}

/// Add or replace entries by variant id or SKU, up to 1,000 at once, all or none; every refused
/// entry is named (`entries[3].tiers[1].min_quantity`). Send `If-Match` with the list's ETag; the
/// answer's ETag is the list's new version.
#[api_v2_operation(tags(Admin), operation_id = "upsertPriceListEntries")]
async fn upsert_entries(
    req: HttpRequest,
    auth: Authorized<perm::PricingManage>,
    if_match: IfMatch,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<PriceListId>,
    body: web::Json<PriceListEntriesInput>,
) -> Result<Versioned<PriceListEntriesWritten>, ApiError> {
    let written = module
        .upsert_price_list_entries(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth, &req))
        .await?;
    let version = written.version;
    Ok(Versioned::new(written, version))
}

/// Remove a variant's entry from a price list (`If-Match`: the list's ETag).
#[api_v2_operation(tags(Admin), operation_id = "deletePriceListEntry")]
async fn delete_entry(
    req: HttpRequest,
    auth: Authorized<perm::PricingManage>,
    if_match: IfMatch,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    path: web::Path<(PriceListId, VariantId)>,
) -> Result<NoContent, ApiError> {
    let (id, variant) = path.into_inner();
    module.delete_price_list_entry(&tenant, id, variant, if_match.0, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

/// Why this price: every candidate for a variant (the base price or its conversion, each price
/// list with an entry for it) with why it applies or not, and which one wins, for a currency,
/// quantity, customer group and instant.
#[api_v2_operation(tags(Admin), operation_id = "explainPrice")]
async fn explain(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    query: web::Query<ExplainQuery>,
) -> Result<web::Json<PriceExplanation>, ApiError> {
    Ok(web::Json(module.explain_price(&tenant, query.into_inner()).await?))
}

/// The shop's conversion rates, newest first.
#[api_v2_operation(tags(Admin), operation_id = "listCurrencyRates")]
async fn list_rates(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    page: ListQuery<NewestFirst>,
) -> Result<web::Json<Page<CurrencyRate>>, ApiError> {
    Ok(web::Json(module.currency_rates(&tenant, &page.keyset()?).await?))
}

/// Add a conversion rate between two of the shop's currencies, with its rounding rule: variants
/// without a price in `to_currency` are shown one converted from `from_currency`.
#[api_v2_operation(tags(Admin), operation_id = "createCurrencyRate")]
async fn create_rate(
    req: HttpRequest,
    auth: Authorized<perm::PricingManage>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    body: web::Json<NewCurrencyRate>,
) -> Result<Created<CurrencyRate>, ApiError> {
    let rate = module.create_currency_rate(&tenant, body.into_inner(), &acting(&auth, &req)).await?;
    let (version, location) = (rate.version, rate_location(rate.id));
    Ok(Created::located(rate, version, location))
}

/// One conversion rate.
#[api_v2_operation(tags(Admin), operation_id = "getCurrencyRate")]
async fn get_rate(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<CurrencyRateId>,
) -> Result<Versioned<CurrencyRate>, ApiError> {
    let rate = module.currency_rate(&tenant, id.into_inner()).await?;
    let version = rate.version;
    Ok(Versioned::new(rate, version))
}

/// Change a rate or its rounding; send `If-Match` with its ETag.
#[api_v2_operation(tags(Admin), operation_id = "updateCurrencyRate")]
async fn update_rate(
    req: HttpRequest,
    auth: Authorized<perm::PricingManage>,
    if_match: IfMatch,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<CurrencyRateId>,
    body: web::Json<CurrencyRatePatch>,
) -> Result<Versioned<CurrencyRate>, ApiError> {
    let rate = module
        .update_currency_rate(&tenant, id.into_inner(), body.into_inner(), if_match.0, &acting(&auth, &req))
        .await?;
    let version = rate.version;
    Ok(Versioned::new(rate, version))
}

/// Delete a rate: variants without a price in its target currency show none there.
#[api_v2_operation(tags(Admin), operation_id = "deleteCurrencyRate")]
async fn delete_rate(
    req: HttpRequest,
    auth: Authorized<perm::PricingManage>,
    if_match: IfMatch,
    tenant: TenantContext,
    module: web::Data<PricingModule>,
    id: web::Path<CurrencyRateId>,
) -> Result<NoContent, ApiError> {
    module.delete_currency_rate(&tenant, id.into_inner(), if_match.0, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    // `/price-lists/explain` before `/price-lists/{id}`: the first matching resource serves.
    cfg.service(web::resource("/price-lists").route(web::get().to(list_lists)).route(web::post().to(create_list)))
        .service(web::resource("/price-lists/explain").route(web::get().to(explain)))
        .service(
            web::resource("/price-lists/{price_list_id}")
                .route(web::get().to(get_list))
                .route(web::patch().to(update_list))
                .route(web::delete().to(delete_list)),
        )
        .service(
            web::resource("/price-lists/{price_list_id}/entries")
                .route(web::get().to(list_entries))
                .route(web::post().to(upsert_entries)),
        )
        .service(
            web::resource("/price-lists/{price_list_id}/entries/{variant_id}").route(web::delete().to(delete_entry)),
        )
        .service(web::resource("/currency-rates").route(web::get().to(list_rates)).route(web::post().to(create_rate)))
        .service(
            web::resource("/currency-rates/{currency_rate_id}")
                .route(web::get().to(get_rate))
                .route(web::patch().to(update_rate))
                .route(web::delete().to(delete_rate)),
        );
}
