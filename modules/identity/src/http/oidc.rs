//! The OpenID Connect login's routes, for shoppers and staff alike (the flow is the same, the
//! account kind differs), and the admin's provider configuration.

use crate::login::oidc::{
    CallbackQuery, OidcConfig, OidcConfigInput, OidcRedirect, SignInOptions, BINDING_COOKIE,
    STARTS_PER_CLIENT_PER_MINUTE,
};
use crate::{IdentityModule, UserKind};
use actix_web::body::BoxBody;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder};
use agora_kernel::auth::{perm, Authorized, SignedInCustomer, SignedInStaff};
use agora_kernel::rate_limit::RateLimiter;
use agora_kernel::{ApiError, ErrorKind, TenantContext};
use paperclip::actix::{api_v2_operation, web, Apiv2Schema, NoContent, OperationModifier};
use paperclip::v2::models::{DefaultOperationRaw, Either, Response};
use serde::Deserialize;

/// A `302 Found` to the provider or back into the shop, with cookies.
pub(crate) struct Redirect(OidcRedirect);

impl Responder for Redirect {
    type Body = BoxBody;
    fn respond_to(self, _: &HttpRequest) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(StatusCode::FOUND);
        response.insert_header((header::LOCATION, self.0.location));
        response.insert_header((header::CACHE_CONTROL, "no-store"));
        for cookie in self.0.cookies {
            response.cookie(cookie);
        }
        response.finish()
    }
}

impl paperclip::v2::schema::Apiv2Schema for Redirect {}

impl OperationModifier for Redirect {
    fn update_response(op: &mut DefaultOperationRaw) {
        op.responses.insert(
            "302".into(),
            Either::Right(Response { description: Some("Redirect (see Location)".into()), ..Default::default() }),
        );
    }
}

async fn start(
    req: HttpRequest,
    module: &IdentityModule,
    tenant: &TenantContext,
    kind: UserKind,
) -> Result<Redirect, ApiError> {
    let origin = super::origin(&req);
    if let Some(limiter) = req.app_data::<web::Data<RateLimiter>>() {
        let client = format!("{}:{}", tenant.id, origin.ip.as_deref().unwrap_or("unknown"));
        if let Err(exceeded) = limiter.check_named("oidc-start", &client, STARTS_PER_CLIENT_PER_MINUTE).await {
            return Err(ApiError::new(
                ErrorKind::TooManyRequests { retry_after_secs: exceeded.retry_after_secs },
                "rate-limited",
                format!("too many logins started from this address; retry after {} s", exceeded.retry_after_secs),
            ));
        }
    }
    Ok(Redirect(module.oidc_start(tenant, kind, &origin).await?))
}

async fn callback(
    req: HttpRequest,
    module: &IdentityModule,
    tenant: &TenantContext,
    kind: UserKind,
    query: CallbackQuery,
) -> Result<Redirect, ApiError> {
    let binding = req.cookie(BINDING_COOKIE).map(|c| c.value().to_string());
    let (mut redirect, session) = module.oidc_callback(tenant, kind, query, binding, &super::origin(&req)).await?;
    let (name, path) = super::cookie_of(kind);
    // A browser grant always carries a session id.
    redirect.cookies.extend(session.map(|id| super::session_cookie(module, name, path, Some(id))));
    Ok(Redirect(redirect))
}

/// How shoppers sign in to this shop: with a password, and through the shop's provider when it
/// is set up for customers (then the sign-in page offers "Sign in with …"). Anyone may ask.
#[api_v2_operation(tags(Store), operation_id = "customerSignInOptions")]
async fn store_sign_in_options(
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<SignInOptions>, ApiError> {
    Ok(web::Json(module.sign_in_options(&tenant, UserKind::Customer).await?))
}

/// Log in with the shop's OpenID Connect provider: redirects there (authorization code + PKCE).
/// 404 `oidc-not-configured` when the shop has no provider for customers.
#[api_v2_operation(tags(Store), operation_id = "customerOidcStart")]
async fn store_start(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<Redirect, ApiError> {
    start(req, &module, &tenant, UserKind::Customer).await
}

/// Where the provider sends the browser back: starts a session and redirects to the shop's
/// return path. A state that is unknown, used, expired or from another browser is 422
/// `oidc-state-invalid`; a refused or unverifiable login 401; an unreachable provider 502.
#[api_v2_operation(tags(Store), operation_id = "customerOidcCallback")]
async fn store_callback(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    query: web::Query<CallbackQuery>,
) -> Result<Redirect, ApiError> {
    callback(req, &module, &tenant, UserKind::Customer, query.into_inner()).await
}

/// How staff sign in to this shop: with a password, and through the shop's provider when it is
/// set up for staff (then the admin's sign-in page offers "Sign in with …"). Anyone may ask.
#[api_v2_operation(tags(Admin), operation_id = "staffSignInOptions")]
async fn admin_sign_in_options(
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<SignInOptions>, ApiError> {
    Ok(web::Json(module.sign_in_options(&tenant, UserKind::Staff).await?))
}

/// Staff login with the shop's OpenID Connect provider (when it is configured for staff).
#[api_v2_operation(tags(Admin), operation_id = "staffOidcStart")]
async fn admin_start(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<Redirect, ApiError> {
    start(req, &module, &tenant, UserKind::Staff).await
}

/// Where the provider sends staff back: starts a session and redirects to the return path.
#[api_v2_operation(tags(Admin), operation_id = "staffOidcCallback")]
async fn admin_callback(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    query: web::Query<CallbackQuery>,
) -> Result<Redirect, ApiError> {
    callback(req, &module, &tenant, UserKind::Staff, query.into_inner()).await
}

/// The shop's OpenID Connect provider (the client secret is never shown).
#[api_v2_operation(tags(Admin), operation_id = "getOidcConfig")]
async fn get_config(
    _auth: Authorized<perm::SettingsManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<OidcConfig>, ApiError> {
    Ok(web::Json(module.oidc_config(&tenant, &module.shop_url(&tenant).await?).await?))
}

/// Set the shop's OpenID Connect provider: owners only (not API keys), with `current_password`
/// (403 `owner-only` otherwise; a wrong password is 422 naming it). The client secret is stored
/// encrypted; omit it to keep the stored one. The issuer must be a public https address.
#[api_v2_operation(tags(Admin), operation_id = "putOidcConfig")]
async fn put_config(
    req: HttpRequest,
    auth: Authorized<perm::SettingsManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<OidcConfigInput>,
) -> Result<web::Json<OidcConfig>, ApiError> {
    let origin = super::origin(&req);
    Ok(web::Json(module.put_oidc_config(&tenant, body.into_inner(), &auth.principal, &origin).await?))
}

/// Remove the shop's OpenID Connect provider (owners only); accounts stay, their links to it too.
#[api_v2_operation(tags(Admin), operation_id = "deleteOidcConfig")]
async fn delete_config(
    req: HttpRequest,
    auth: Authorized<perm::SettingsManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<NoContent, ApiError> {
    module.delete_oidc_config(&tenant, &auth.principal, super::origin(&req).ip).await?;
    Ok(NoContent)
}

/// A pending link to confirm.
#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LinkConfirmation {
    /// The `oidc_link` value the provider login's redirect carried (in its fragment).
    token: String,
}

/// Link the signed-in account to the provider identity of a login that found it by email: the
/// provider identity signs in as this account from now on. 422 `invalid-token` for a token that
/// is unknown, used, expired or another account's.
#[api_v2_operation(tags(Store), operation_id = "customerConfirmOidcLink")]
async fn store_confirm_link(
    req: HttpRequest,
    who: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<LinkConfirmation>,
) -> Result<NoContent, ApiError> {
    let ip = super::origin(&req).ip;
    module.confirm_oidc_link(&tenant, who.user_id, &body.token, ip).await?;
    Ok(NoContent)
}

/// Link the signed-in staff account to the provider identity of a login that found it by email.
#[api_v2_operation(tags(Admin), operation_id = "staffConfirmOidcLink")]
async fn admin_confirm_link(
    req: HttpRequest,
    who: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<LinkConfirmation>,
) -> Result<NoContent, ApiError> {
    let ip = super::origin(&req).ip;
    module.confirm_oidc_link(&tenant, who.user_id, &body.token, ip).await?;
    Ok(NoContent)
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/sign-in-options").route(web::get().to(store_sign_in_options)))
        .service(web::resource("/auth/oidc/start").route(web::get().to(store_start)))
        .service(web::resource("/auth/oidc/callback").route(web::get().to(store_callback)))
        .service(web::resource("/me/oidc-link").route(web::post().to(store_confirm_link)));
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/sign-in-options").route(web::get().to(admin_sign_in_options)))
        .service(web::resource("/auth/oidc/start").route(web::get().to(admin_start)))
        .service(web::resource("/auth/oidc/callback").route(web::get().to(admin_callback)))
        .service(web::resource("/me/oidc-link").route(web::post().to(admin_confirm_link)))
        .service(
            web::resource("/oidc")
                .route(web::get().to(get_config))
                .route(web::put().to(put_config))
                .route(web::delete().to(delete_config)),
        );
}
