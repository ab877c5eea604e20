//! The cart on the storefront, under `/api/v1/store/cart`, and its rules in the back office,
//! under `/api/v1/admin/cart` (`pricing.read` to read them, `pricing.manage` to change them).
//!
//! A guest's cart is named by its token: the `agora_cart` cookie (HttpOnly, SameSite=Lax, on the
//! cart's path only) or, for API clients, the `X-Cart-Token` header. A signed-in customer's cart
//! needs neither; a guest token they still carry is merged into their cart and the cookie goes.

use crate::{
    AddLine, Cart, CartAnswer, CartLineId, CartModule, CartPatch, CartSettings, CodeInput, LineQuantity, NewCart,
    ShippingChoice, Shopper,
};
use actix_web::cookie::{Cookie, SameSite};
use actix_web::HttpRequest;
use agora_identity::WithCookie;
use agora_kernel::areas::Area;
use agora_kernel::auth::Principal;
use agora_kernel::{perm, Acting, ApiError, Authorized, IfMatch, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web};

/// Where the cart is mounted in each area.
pub(crate) const SCOPE: &str = "/cart";

/// The guest cart's cookie.
const COOKIE: &str = "agora_cart";

/// The header API clients name a guest cart with.
const TOKEN_HEADER: &str = "x-cart-token";

/// Who asks: this shop's signed-in customer (a cookie session's unsafe request must have shown
/// its CSRF token), the guest token they carry, their languages and address.
fn shopper(req: &HttpRequest, tenant: &TenantContext) -> Result<Shopper, ApiError> {
    let customer = match agora_kernel::auth::verified_principal(req)? {
        Principal::Customer { tenant: shop, user_id } if shop == tenant.id => Some(user_id),
        _ => None,
    };
    let token = req
        .headers()
        .get(TOKEN_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .or_else(|| req.cookie(COOKIE).map(|c| c.value().to_string()))
        .filter(|t| !t.is_empty());
    let languages = agora_catalog::accepted_languages(
        req.headers().get(actix_web::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()),
    );
    let ip = agora_kernel::http::client_addr(req).map(|a| a.to_string());
    Ok(Shopper { customer, token, languages, ip })
}

/// The answer, with the cookie a new guest cart sets or a spent token clears.
fn respond(module: &CartModule, answer: CartAnswer) -> WithCookie<Cart> {
    let path = Area::Store.path(SCOPE);
    let cookie = match (&answer.new_token, answer.token_spent) {
        (Some(token), _) => Some(
            Cookie::build(COOKIE, token.clone())
                .http_only(true)
                .secure(module.secure_cookies())
                .same_site(SameSite::Lax)
                .path(path)
                .max_age(actix_web::cookie::time::Duration::days(365))
                .finish(),
        ),
        (None, true) => {
            let mut gone = Cookie::build(COOKIE, "").path(path).finish();
            gone.make_removal();
            Some(gone)
        }
        (None, false) => None,
    };
    let mut cart = answer.cart;
    cart.token = answer.new_token;
    WithCookie::new(cart, cookie)
}

/// The shopper's cart with its totals (404 when they have none, or the token opens none).
#[api_v2_operation(tags(Store), operation_id = "getCart")]
async fn get_cart(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    Ok(respond(&module, module.get(&tenant, &shopper).await?))
}

/// The shopper's cart, made when they have none: a guest's answer carries its `token` once
/// (and sets the cookie); a customer's cart is theirs on every device.
#[api_v2_operation(tags(Store), operation_id = "createCart")]
async fn create_cart(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
    body: web::Json<NewCart>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    Ok(respond(&module, module.create(&tenant, &shopper, body.into_inner()).await?))
}

/// Change the cart's currency: prices are worked out anew in it.
#[api_v2_operation(tags(Store), operation_id = "updateCart")]
async fn update_cart(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
    body: web::Json<CartPatch>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    Ok(respond(&module, module.change_currency(&tenant, &shopper, body.into_inner()).await?))
}

/// Put a variant in the cart (added to its line); a cart is made when the shopper has none.
/// Refused with the reason when it is not for sale, has no price, or the stock or the shop's
/// limit does not allow the quantity.
#[api_v2_operation(tags(Store), operation_id = "addCartLine")]
async fn add_line(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
    body: web::Json<AddLine>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    Ok(respond(&module, module.add_line(&tenant, &shopper, body.into_inner()).await?))
}

/// Set a line's quantity (0 removes it).
#[api_v2_operation(tags(Store), operation_id = "updateCartLine")]
async fn update_line(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
    path: web::Path<CartLineId>,
    body: web::Json<LineQuantity>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    let answer = module.set_quantity(&tenant, &shopper, path.into_inner(), body.quantity).await?;
    Ok(respond(&module, answer))
}

/// Take a line out of the cart.
#[api_v2_operation(tags(Store), operation_id = "removeCartLine")]
async fn remove_line(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
    path: web::Path<CartLineId>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    Ok(respond(&module, module.set_quantity(&tenant, &shopper, path.into_inner(), 0).await?))
}

/// Apply a discount code; one that does not apply is refused with why (`code-unknown`,
/// `code-expired`, `code-minimum-not-met`, …), naming no other code.
#[api_v2_operation(tags(Store), operation_id = "applyCartCode")]
async fn apply_code(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
    body: web::Json<CodeInput>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    Ok(respond(&module, module.apply_code(&tenant, &shopper, body.into_inner().code).await?))
}

/// Take a code off the cart.
#[api_v2_operation(tags(Store), operation_id = "removeCartCode")]
async fn remove_code(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
    path: web::Path<String>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    Ok(respond(&module, module.remove_code(&tenant, &shopper, path.into_inner()).await?))
}

/// Where the cart goes (for the shipping estimate and the taxes), and by which of its
/// `shipping.options` or to which pickup store.
#[api_v2_operation(tags(Store), operation_id = "chooseCartShipping")]
async fn choose_shipping(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
    body: web::Json<ShippingChoice>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    Ok(respond(&module, module.choose_shipping(&tenant, &shopper, body.into_inner()).await?))
}

/// The shopper has seen the cart's notices: today's prices become the ones to compare with.
#[api_v2_operation(tags(Store), operation_id = "acknowledgeCartNotices")]
async fn acknowledge(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CartModule>,
) -> Result<WithCookie<Cart>, ApiError> {
    let shopper = shopper(&req, &tenant)?;
    Ok(respond(&module, module.acknowledge(&tenant, &shopper).await?))
}

/// The shop's cart rules: when idle carts are abandoned, and the limits per cart.
#[api_v2_operation(tags(Admin), operation_id = "getCartSettings")]
async fn get_settings(
    _auth: Authorized<perm::PricingRead>,
    tenant: TenantContext,
    module: web::Data<CartModule>,
) -> Result<Versioned<CartSettings, 200>, ApiError> {
    let (settings, version) = module.settings(&tenant).await?;
    Ok(Versioned::new(settings, version))
}

/// Replace the shop's cart rules; `If-Match` with the ETag you read.
#[api_v2_operation(tags(Admin), operation_id = "updateCartSettings")]
async fn update_settings(
    auth: Authorized<perm::PricingManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CartModule>,
    body: web::Json<CartSettings>,
) -> Result<Versioned<CartSettings, 200>, ApiError> {
    let acting = Acting::new(auth.actor(), agora_kernel::http::client_addr(&req).map(|a| a.to_string()));
    let (settings, version) = module.update_settings(&tenant, body.into_inner(), if_match.0, &acting).await?;
    Ok(Versioned::new(settings, version))
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    // Full paths rather than a scope: a scope's own root would be documented as `/cart/`.
    cfg.service(
        web::resource(SCOPE)
            .route(web::get().to(get_cart))
            .route(web::post().to(create_cart))
            .route(web::patch().to(update_cart)),
    )
    .service(web::resource("/cart/lines").route(web::post().to(add_line)))
    .service(
        web::resource("/cart/lines/{line_id}").route(web::patch().to(update_line)).route(web::delete().to(remove_line)),
    )
    .service(web::resource("/cart/codes").route(web::post().to(apply_code)))
    .service(web::resource("/cart/codes/{code}").route(web::delete().to(remove_code)))
    .service(web::resource("/cart/shipping").route(web::put().to(choose_shipping)))
    .service(web::resource("/cart/refresh").route(web::post().to(acknowledge)));
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/cart/settings").route(web::get().to(get_settings)).route(web::put().to(update_settings)),
    );
}
