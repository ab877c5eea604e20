//! HTTP face of tenancy: the tenant-resolving middleware, the storefront's shop settings and the
//! platform's tenant administration.

use crate::{
    LogoFile, NewTenant, PrimaryDomain, ShopSettings, ShopSettingsAdmin, ShopSettingsPatch, TenancyModule, Tenant,
    TenantPatch, TenantStatus,
};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use agora_kernel::areas::Area;
use agora_kernel::http::TENANT_HEADER;
use agora_kernel::images::ImageUpload;
use agora_kernel::lists::{ListQuery, OldestFirst, Page};
use agora_kernel::storage::ConfiguredStorage;
use agora_kernel::{perm, Acting, ApiError, Authorized, Created, IfMatch, PlatformOperator, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, Apiv2Schema};
use serde::Deserialize;

/// Paths whose requests belong to a shop.
fn is_tenant_path(path: &str) -> bool {
    Area::of(path).is_some_and(Area::is_tenant)
}

/// Resolves the shop for storefront and admin requests and hands it to handlers as
/// [`TenantContext`]; unknown shop → 404, suspended → 403, before any handler runs.
pub async fn resolve_tenant(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    // The path routing matches (percent-decoded), so an encoded path is a shop's path too.
    if !is_tenant_path(agora_kernel::http::routing_path(&req)) {
        return Ok(next.call(req).await?.map_into_boxed_body());
    }
    let Some(module) = req.app_data::<actix_web::web::Data<TenancyModule>>().cloned() else {
        return Ok(next.call(req).await?.map_into_boxed_body());
    };
    let header = req.headers().get(TENANT_HEADER).map(|v| v.to_str().unwrap_or("\u{0}").to_string());
    let host = request_host(&req);
    match module.resolve(host.as_deref(), header.as_deref()).await {
        Ok(Some(tenant)) => {
            tracing::Span::current().record("tenant", tenant.slug.as_str());
            req.extensions_mut().insert(tenant);
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Ok(None) => {
            let e = ApiError::new(
                agora_kernel::ErrorKind::NotFound,
                "tenant-not-found",
                "no shop is addressed: use the shop's domain or send X-Tenant-ID",
            );
            Ok(req.error_response(e).map_into_boxed_body())
        }
        Err(e) => Ok(req.error_response(ApiError::from(e)).map_into_boxed_body()),
    }
}

/// The host the request names itself (HTTP/2 `:authority`, or HTTP/1 `Host`). Never
/// `X-Forwarded-Host` or `Forwarded` (which actix's connection info would prefer): any client
/// can send those.
fn request_host(req: &ServiceRequest) -> Option<String> {
    req.uri()
        .authority()
        .map(|a| a.as_str().to_string())
        .or_else(|| req.headers().get(actix_web::http::header::HOST).and_then(|v| v.to_str().ok()).map(str::to_string))
}

/// The shop's public settings: name, currency, locales, logo, brand colour, country.
#[api_v2_operation(tags(Store), operation_id = "getShop")]
async fn get_shop(
    tenant: TenantContext,
    module: web::Data<TenancyModule>,
) -> Result<web::Json<ShopSettings>, ApiError> {
    Ok(web::Json(module.shop(&tenant).await?))
}

/// The shop's logo as shoppers load it, at the `logo_url` of `GET /shop` (404 once the logo is
/// replaced or removed). Streamed from storage with `Cache-Control: public, max-age=31536000,
/// immutable`: a new logo has a new URL.
#[api_v2_operation(tags(Store), operation_id = "getShopLogo", produces = "image/jpeg, image/webp")]
async fn get_shop_logo(
    tenant: TenantContext,
    module: web::Data<TenancyModule>,
    storage: web::Data<ConfiguredStorage>,
    id: web::Path<uuid::Uuid>,
) -> Result<LogoResponse, ApiError> {
    Ok(LogoResponse(module.logo_file(&tenant, &storage, id.into_inner()).await?))
}

/// Shoppers' copies of a logo live as long as a browser or CDN keeps them.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The logo file, streamed as it is read from storage.
struct LogoResponse(LogoFile);

impl actix_web::Responder for LogoResponse {
    type Body = BoxBody;

    fn respond_to(self, _: &actix_web::HttpRequest) -> actix_web::HttpResponse {
        let file = self.0;
        actix_web::HttpResponse::Ok()
            .content_type(file.content_type)
            .insert_header((actix_web::http::header::CACHE_CONTROL, IMMUTABLE))
            .no_chunking(file.size)
            .streaming(file.body)
    }
}

impl paperclip::v2::schema::Apiv2Schema for LogoResponse {}

impl paperclip::actix::OperationModifier for LogoResponse {
    fn update_response(op: &mut paperclip::v2::models::DefaultOperationRaw) {
        use paperclip::v2::models::{DataType, DataTypeFormat, DefaultSchemaRaw, Either, Response};
        // Cache-Control is named in the description: a documented header comes out of the
        // conversion to OpenAPI 3 without a schema.
        op.responses.insert(
            "200".into(),
            Either::Right(Response {
                description: Some(format!("The logo's bytes, in its content type; Cache-Control: {IMMUTABLE}")),
                schema: Some(DefaultSchemaRaw {
                    data_type: Some(DataType::String),
                    format: Some(DataTypeFormat::Binary),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        );
    }
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/shop").route(web::get().to(get_shop)))
        .service(web::resource("/shop/logo/{logo_id}").route(web::get().to(get_shop_logo)));
}

/// The shop's settings with their version (ETag).
#[api_v2_operation(tags(Admin), operation_id = "getShopSettings")]
async fn get_shop_admin(
    _auth: Authorized<perm::ShopRead>,
    tenant: TenantContext,
    module: web::Data<TenancyModule>,
) -> Result<Versioned<ShopSettingsAdmin>, ApiError> {
    let settings = module.shop_admin(&tenant).await?;
    let version = settings.version;
    Ok(Versioned::new(settings, version))
}

/// Change the shop's settings; send `If-Match` with the ETag you read to avoid lost updates.
#[api_v2_operation(tags(Admin), operation_id = "updateShopSettings")]
async fn update_shop_admin(
    auth: Authorized<perm::SettingsManage>,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<TenancyModule>,
    body: web::Json<ShopSettingsPatch>,
) -> Result<Versioned<ShopSettingsAdmin>, ApiError> {
    let settings = module.update_shop(&tenant, body.into_inner(), if_match.0, &auth.actor()).await?;
    let version = settings.version;
    Ok(Versioned::new(settings, version))
}

fn acting(auth: &Authorized<impl Sized>, req: &actix_web::HttpRequest) -> Acting {
    Acting::new(auth.actor(), agora_kernel::http::client_addr(req).map(|ip| ip.to_string()))
}

/// Replace the shop's logo. The body is the image file's bytes (not a multipart form): JPEG, PNG,
/// WebP or GIF, recognised from the bytes whatever `Content-Type` says; at most 5 MiB and 8 000 px
/// a side (larger: 413 while it streams in; not an image or damaged: 422 naming `file`). It is
/// re-encoded at most 800 px wide before shoppers get it. Send `If-Match` with the settings'
/// ETag; the answer is the settings with the new `logo_url`.
#[api_v2_operation(tags(Admin), operation_id = "replaceShopLogo")]
async fn replace_shop_logo(
    auth: Authorized<perm::SettingsManage>,
    req: actix_web::HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<TenancyModule>,
    storage: web::Data<ConfiguredStorage>,
    upload: ImageUpload,
) -> Result<Versioned<ShopSettingsAdmin>, ApiError> {
    let acting = acting(&auth, &req);
    let settings =
        module.replace_logo(&tenant, &storage, upload.body, upload.declared_length, if_match.0, &acting).await?;
    let version = settings.version;
    Ok(Versioned::new(settings, version))
}

/// Remove the shop's logo (404 when it has none); send `If-Match` with the settings' ETag.
#[api_v2_operation(tags(Admin), operation_id = "removeShopLogo")]
async fn remove_shop_logo(
    auth: Authorized<perm::SettingsManage>,
    req: actix_web::HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<TenancyModule>,
    storage: web::Data<ConfiguredStorage>,
) -> Result<Versioned<ShopSettingsAdmin>, ApiError> {
    let acting = acting(&auth, &req);
    let settings = module.remove_logo(&tenant, &storage, if_match.0, &acting).await?;
    let version = settings.version;
    Ok(Versioned::new(settings, version))
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/shop").route(web::get().to(get_shop_admin)).route(web::patch().to(update_shop_admin)))
        .service(
            web::resource("/shop/logo")
                .route(web::put().to(replace_shop_logo))
                .route(web::delete().to(remove_shop_logo)),
        );
}

/// Open a new shop: creates its schema, migrates and seeds it.
#[api_v2_operation(tags(Platform), operation_id = "createTenant")]
async fn create_tenant(
    op: PlatformOperator,
    module: web::Data<TenancyModule>,
    body: web::Json<NewTenant>,
) -> Result<Created<Tenant>, ApiError> {
    let tenant = module.create(body.into_inner(), &op.actor()).await?;
    let (version, location) = (tenant.version, Area::Platform.path(&format!("/tenants/{}", tenant.slug)));
    Ok(Created::located(tenant, version, location))
}

#[derive(Debug, Deserialize, Apiv2Schema)]
struct TenantListQuery {
    /// Only shops in this status.
    status: Option<String>,
}

/// List shops, oldest first.
#[api_v2_operation(tags(Platform), operation_id = "listTenants")]
async fn list_tenants(
    _op: PlatformOperator,
    module: web::Data<TenancyModule>,
    page: ListQuery<OldestFirst>,
    query: web::Query<TenantListQuery>,
) -> Result<web::Json<Page<Tenant>>, ApiError> {
    let query = query.into_inner();
    if let Some(status) = query.status.as_deref() {
        if !["provisioning", "active", "suspended"].contains(&status) {
            return Err(ApiError::field("status", "one of provisioning, active, suspended"));
        }
    }
    Ok(web::Json(module.list(&page, query.status.as_deref()).await?))
}

/// One shop.
#[api_v2_operation(tags(Platform), operation_id = "getTenant")]
async fn get_tenant(
    _op: PlatformOperator,
    module: web::Data<TenancyModule>,
    slug: web::Path<String>,
) -> Result<Versioned<Tenant>, ApiError> {
    let tenant = module.get(&slug).await?;
    let version = tenant.version;
    Ok(Versioned::new(tenant, version))
}

/// Change a shop's record; send `If-Match` with the ETag you read to avoid lost updates.
#[api_v2_operation(tags(Platform), operation_id = "updateTenant")]
async fn update_tenant(
    op: PlatformOperator,
    if_match: IfMatch,
    module: web::Data<TenancyModule>,
    slug: web::Path<String>,
    body: web::Json<TenantPatch>,
) -> Result<Versioned<Tenant>, ApiError> {
    let tenant = module.update(&slug, body.into_inner(), if_match.0, &op.actor()).await?;
    let version = tenant.version;
    Ok(Versioned::new(tenant, version))
}

async fn change_status(
    op: PlatformOperator,
    if_match: IfMatch,
    module: web::Data<TenancyModule>,
    slug: &str,
    status: TenantStatus,
) -> Result<Versioned<Tenant>, ApiError> {
    let tenant = module.set_status(slug, status, if_match.0, &op.actor()).await?;
    let version = tenant.version;
    Ok(Versioned::new(tenant, version))
}

/// Suspend a shop: its storefront and admin answer 403 until it is resumed.
#[api_v2_operation(tags(Platform), operation_id = "suspendTenant")]
async fn suspend_tenant(
    op: PlatformOperator,
    if_match: IfMatch,
    module: web::Data<TenancyModule>,
    slug: web::Path<String>,
) -> Result<Versioned<Tenant>, ApiError> {
    change_status(op, if_match, module, &slug, TenantStatus::Suspended).await
}

/// Resume a suspended shop.
#[api_v2_operation(tags(Platform), operation_id = "resumeTenant")]
async fn resume_tenant(
    op: PlatformOperator,
    if_match: IfMatch,
    module: web::Data<TenancyModule>,
    slug: web::Path<String>,
) -> Result<Versioned<Tenant>, ApiError> {
    change_status(op, if_match, module, &slug, TenantStatus::Active).await
}

/// Choose the domain the shop's links use (emails, sign-in redirects): one of its domains, or
/// `null` for `<slug>.<base domain>`.
#[api_v2_operation(tags(Platform), operation_id = "setTenantPrimaryDomain")]
async fn set_primary_domain(
    op: PlatformOperator,
    module: web::Data<TenancyModule>,
    slug: web::Path<String>,
    body: web::Json<PrimaryDomain>,
) -> Result<Versioned<Tenant>, ApiError> {
    let tenant = module.set_primary_domain(&slug, body.into_inner().domain, &op.actor()).await?;
    let version = tenant.version;
    Ok(Versioned::new(tenant, version))
}

pub(crate) fn platform_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/tenants").route(web::post().to(create_tenant)).route(web::get().to(list_tenants)))
        .service(
            web::resource("/tenants/{slug}").route(web::get().to(get_tenant)).route(web::patch().to(update_tenant)),
        )
        .service(web::resource("/tenants/{slug}/primary-domain").route(web::put().to(set_primary_domain)))
        .service(web::resource("/tenants/{slug}/suspend").route(web::post().to(suspend_tenant)))
        .service(web::resource("/tenants/{slug}/resume").route(web::post().to(resume_tenant)));
}
