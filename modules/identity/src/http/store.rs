//! The storefront's side of identity: customers register, sign in (password, second factor),
//! manage their sessions, password and authenticator.

use super::*;

/// Open a customer account; a link to verify the email address is mailed. Answers 202 the same
/// way when the email already has an account (its owner is mailed a password-reset link), so
/// nobody learns from it who shops here. Log in afterwards.
#[api_v2_operation(tags(Store), operation_id = "registerCustomer")]
async fn register(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<Registration>,
) -> Result<paperclip::actix::AcceptedJson<Accepted>, ApiError> {
    module.register_customer(&tenant, body.into_inner(), &origin(&req)).await?;
    Ok(paperclip::actix::AcceptedJson(Accepted { status: "check your email to confirm the address" }))
}

/// Log in as a customer. Browsers get a session cookie and a CSRF token; `client: "api"` gets
/// access and refresh tokens. Wrong email or password: 401 `invalid-credentials`, the same for both.
/// With two-factor authentication on, the answer is `{"mfa_required": true, "challenge": "…",
/// "expires_in": 300}` instead: finish at `/auth/login/mfa`.
#[api_v2_operation(tags(Store), operation_id = "customerLogin")]
async fn store_login(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<LoginRequest>,
) -> Result<LoginAnswer, ApiError> {
    login(&req, &module, &tenant, UserKind::Customer, body.into_inner()).await
}

/// Second login step: the password step's challenge and a code from the authenticator app (or
/// an unused recovery code). Wrong or expired: 401 `invalid-mfa-code`; wrong codes are throttled.
#[api_v2_operation(tags(Store), operation_id = "customerLoginMfa")]
async fn store_login_mfa(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaLogin>,
) -> Result<WithCookie<LoginResponse>, ApiError> {
    login_mfa(&req, &module, &tenant, UserKind::Customer, body.into_inner()).await
}

/// Start enrolling an authenticator app: the secret and the `otpauth://` URI to show as a QR
/// code. Nothing changes until a code confirms it at `/me/mfa/totp/activate`.
#[api_v2_operation(tags(Store), operation_id = "startMyMfaEnrolment")]
async fn store_mfa_enrol(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<MfaEnrolment>, ApiError> {
    Ok(web::Json(module.start_mfa_enrolment(&tenant, customer.user_id).await?))
}

/// Switch two-factor authentication on with a first code; answers the ten recovery codes, shown
/// only this once.
#[api_v2_operation(tags(Store), operation_id = "activateMyMfa")]
async fn store_mfa_activate(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaCode>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    Ok(web::Json(module.activate_mfa(&tenant, customer.user_id, &body.code, origin(&req).ip).await?))
}

/// Switch two-factor authentication off: the password and a current code or a recovery code.
#[api_v2_operation(tags(Store), operation_id = "disableMyMfa")]
async fn store_mfa_disable(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaDisable>,
) -> Result<NoContent, ApiError> {
    module.disable_mfa(&tenant, customer.user_id, body.into_inner(), origin(&req).ip).await?;
    Ok(NoContent)
}

/// Log out: ends every session and token of the account.
#[api_v2_operation(tags(Store), operation_id = "customerLogout")]
async fn store_logout(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.logout(&tenant, customer.user_id, origin(&req).ip).await?;
    let cookie = session_cookie(&module, CUSTOMER_COOKIE, areas::STORE, None);
    Ok(WithCookie { body: Accepted { status: "logged out" }, cookie: Some(cookie) })
}

/// Exchange a refresh token for a new access and refresh token (each refresh token works once).
#[api_v2_operation(tags(Store), operation_id = "customerRefresh")]
async fn store_refresh(
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<LoginResponse>, ApiError> {
    Ok(web::Json(module.refresh(&tenant, UserKind::Customer, body.into_inner().refresh_token).await?))
}

/// Mail a password-reset link. Answers 202 whether or not the email has an account.
#[api_v2_operation(tags(Store), operation_id = "customerPasswordResetRequest")]
async fn store_reset_request(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<ResetRequest>,
) -> Result<paperclip::actix::AcceptedJson<Accepted>, ApiError> {
    request_reset(&req, &tenant, &module, UserKind::Customer, &body.email).await
}

/// Choose a new password with the token from a reset link; every session ends.
#[api_v2_operation(tags(Store), operation_id = "customerPasswordResetConfirm")]
async fn reset_confirm(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<ResetConfirm>,
) -> Result<NoContent, ApiError> {
    confirm_reset(&req, &tenant, &module, body.into_inner()).await
}

/// Confirm an email address with the token from the verification link.
#[api_v2_operation(tags(Store), operation_id = "verifyEmail")]
async fn verify_email(
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<VerifyEmail>,
) -> Result<NoContent, ApiError> {
    module.verify_email(&tenant, &body.token).await?;
    Ok(NoContent)
}

/// Your signed-in browsers (cookie sessions), newest first; `current` marks this one.
#[api_v2_operation(tags(Store), operation_id = "listMySessions")]
async fn store_sessions(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Vec<ActiveSession>>, ApiError> {
    let current = req.cookie(CUSTOMER_COOKIE).map(|c| c.value().to_string());
    Ok(web::Json(module.active_sessions(&tenant, customer.user_id, current).await?))
}

/// Sign out one of your browsers (e.g. a lost phone); the others stay signed in.
#[api_v2_operation(tags(Store), operation_id = "endMySession")]
async fn store_end_session(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<String>,
) -> Result<NoContent, ApiError> {
    module.end_session(&tenant, customer.user_id, id.into_inner()).await?;
    Ok(NoContent)
}

/// Change the password. Every other session and token ends; this device gets new ones.
#[api_v2_operation(tags(Store), operation_id = "changeMyPassword")]
async fn store_change_password(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<PasswordChange>,
) -> Result<WithCookie<LoginResponse>, ApiError> {
    change_password(&req, &module, &tenant, UserKind::Customer, customer.user_id, body.into_inner()).await
}

/// The signed-in browser's CSRF token, for a page that has a session but no login answer: a
/// shopper back from the shop's sign-in provider arrives signed in by the redirect alone. Other
/// sites cannot read it (no CORS). Signed in with a bearer token: 404 `no-browser-session`.
#[api_v2_operation(tags(Store), operation_id = "customerCsrfToken")]
async fn store_csrf_token(req: HttpRequest, _who: SignedInCustomer) -> Result<web::Json<SessionCsrfToken>, ApiError> {
    session_csrf_token(&req)
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/register").route(web::post().to(register)))
        .service(web::resource("/auth/login").route(web::post().to(store_login)))
        .service(web::resource("/auth/login/mfa").route(web::post().to(store_login_mfa)))
        .service(web::resource("/auth/logout").route(web::post().to(store_logout)))
        .service(web::resource("/auth/refresh").route(web::post().to(store_refresh)))
        .service(web::resource("/auth/password-reset/request").route(web::post().to(store_reset_request)))
        .service(web::resource("/auth/password-reset/confirm").route(web::post().to(reset_confirm)))
        .service(web::resource("/auth/verify-email").route(web::post().to(verify_email)))
        .service(web::resource("/me/csrf-token").route(web::get().to(store_csrf_token)))
        .service(web::resource("/me/sessions").route(web::get().to(store_sessions)))
        .service(web::resource("/me/sessions/{id}").route(web::delete().to(store_end_session)))
        .service(web::resource("/me/password").route(web::post().to(store_change_password)))
        .service(web::resource("/me/mfa/totp").route(web::post().to(store_mfa_enrol)))
        .service(web::resource("/me/mfa/totp/activate").route(web::post().to(store_mfa_activate)))
        .service(web::resource("/me/mfa/disable").route(web::post().to(store_mfa_disable)));
    super::oidc::store_routes(cfg);
}
