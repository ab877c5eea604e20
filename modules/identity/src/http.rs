//! HTTP face of identity: storefront accounts, staff logins and access administration, and the
//! platform operators' login.

use crate::access::{ApiKey, AuditEntry, AuditFilter, Grantor, NewApiKey, NewRole, NewStaff, Role};
use crate::accounts::{Registration, RequestOrigin};
use crate::addresses::{Address, AddressInput, ProfilePatch};
use crate::gdpr::{CustomerExport, ErasureRequest};
use crate::mfa::{
    LoginOutcome, MfaChallenge, MfaCode, MfaDisable, MfaEnrolment, MfaLogin, RecoveryCodes, SecurityPolicy,
};
use crate::middleware::{CUSTOMER_COOKIE, OPERATOR_COOKIE, STAFF_COOKIE};
use crate::operators::{
    NewOperator, Operator, OperatorGrant, OperatorLogin, OperatorLoginOutcome, OperatorPasswordChange,
};
use crate::{Account, ActiveSession, IdentityModule, LoginRequest, LoginResponse, UserKind};
use actix_web::body::BoxBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::dev::Payload;
use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, HttpResponse, Responder};
use agora_kernel::areas::{self, Area};
use agora_kernel::auth::{perm, unauthorized, Authorized, Principal};
use agora_kernel::lists::{ListQuery, NewestFirst, OldestFirst, Page};
use agora_kernel::platform::PlatformToken;
use agora_kernel::{Actor, ApiError, Created, ErrorKind, IfMatch, PlatformOperator, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, Apiv2Schema, CreatedJson, NoContent, OperationModifier};
use paperclip::v2::models::{DefaultOperationRaw, DefaultSchemaRaw, Either, Response};
use paperclip::v2::schema::Apiv2Schema as Schema;
use serde::{Deserialize, Serialize};
use std::future::{ready, Ready};

pub(crate) fn origin(req: &HttpRequest) -> RequestOrigin {
    let ip = agora_kernel::http::client_addr(req).map(|a| a.to_string());
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(300).collect());
    RequestOrigin { ip, user_agent }
}

/// The signed-in user of this shop (customer or staff, by area), from the middleware's principal.
pub(crate) struct SignedIn {
    pub user: uuid::Uuid,
}

fn signed_in(req: &HttpRequest, kind: UserKind) -> Result<SignedIn, ApiError> {
    use actix_web::HttpMessage;
    let tenant = req.extensions().get::<TenantContext>().map(|t| t.id);
    match (Principal::of(req), kind) {
        (Principal::Customer { tenant: t, user_id }, UserKind::Customer) if Some(t) == tenant => {
            Ok(SignedIn { user: user_id })
        }
        (Principal::Staff { tenant: t, user_id, .. }, UserKind::Staff) if Some(t) == tenant => {
            Ok(SignedIn { user: user_id })
        }
        (Principal::Anonymous, _) => Err(unauthorized()),
        (p, _) if p.tenant() != tenant => Err(unauthorized()),
        _ => Err(ApiError::new(ErrorKind::Forbidden, "forbidden", "this is for another kind of account")),
    }
}

/// A signed-in customer of this shop.
pub(crate) struct SignedInCustomer(SignedIn);
/// A signed-in staff member of this shop (any permissions).
pub(crate) struct SignedInStaff(SignedIn);

impl SignedInCustomer {
    pub(crate) fn user(&self) -> uuid::Uuid {
        self.0.user
    }
}

impl SignedInStaff {
    pub(crate) fn user(&self) -> uuid::Uuid {
        self.0.user
    }
}

impl FromRequest for SignedInCustomer {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(signed_in(req, UserKind::Customer).map(SignedInCustomer))
    }
}

impl FromRequest for SignedInStaff {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(signed_in(req, UserKind::Staff).map(SignedInStaff))
    }
}

impl paperclip::v2::schema::Apiv2Schema for SignedInCustomer {}
impl OperationModifier for SignedInCustomer {}
impl paperclip::v2::schema::Apiv2Schema for SignedInStaff {}
impl OperationModifier for SignedInStaff {}

/// A JSON body that may set or clear a session cookie; documented like `Json<T>`.
pub(crate) struct WithCookie<T> {
    body: T,
    cookie: Option<Cookie<'static>>,
}

impl<T: Serialize> Responder for WithCookie<T> {
    type Body = BoxBody;
    fn respond_to(self, _: &HttpRequest) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(StatusCode::OK);
        if let Some(cookie) = self.cookie {
            response.cookie(cookie);
        }
        response.json(&self.body)
    }
}

impl<T: Schema> Schema for WithCookie<T> {
    fn name() -> Option<String> {
        T::name()
    }
    fn description() -> &'static str {
        T::description()
    }
    fn raw_schema() -> DefaultSchemaRaw {
        T::raw_schema()
    }
}

impl<T: Schema> OperationModifier for WithCookie<T> {
    fn update_response(op: &mut DefaultOperationRaw) {
        let mut schema = T::schema_with_ref();
        schema.retain_ref();
        op.responses.insert(
            "200".into(),
            Either::Right(Response { description: Some("OK".into()), schema: Some(schema), ..Default::default() }),
        );
    }
}

pub(crate) fn session_cookie(
    module: &IdentityModule,
    name: &'static str,
    path: &'static str,
    value: Option<String>,
) -> Cookie<'static> {
    let settings = module.settings();
    let mut cookie = Cookie::build(name, value.clone().unwrap_or_default())
        .http_only(true)
        .secure(settings.secure_cookies)
        .same_site(SameSite::Lax)
        .path(path)
        .finish();
    match value {
        Some(_) => cookie.set_max_age(actix_web::cookie::time::Duration::seconds(
            i64::try_from(settings.session_absolute.as_secs()).unwrap_or(86_400),
        )),
        None => cookie.make_removal(),
    }
    cookie
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
struct RefreshRequest {
    refresh_token: String,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
struct ResetRequest {
    email: String,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
struct ResetConfirm {
    /// The token from the emailed link.
    token: String,
    password: String,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
struct VerifyEmail {
    token: String,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
struct PasswordChange {
    current_password: String,
    new_password: String,
    /// `browser` (default) or `api`: what to hand back for this device.
    #[serde(default)]
    client: Option<String>,
}

#[derive(Debug, Serialize, Apiv2Schema)]
struct Accepted {
    status: &'static str,
}

/// The password step's answer: credentials, or for an account with MFA a challenge for
/// `…/auth/login/mfa`. Documented as the login response (Swagger 2 has no `oneOf`); the
/// operations' descriptions name the challenge.
pub(crate) enum LoginAnswer<T = LoginResponse> {
    Granted(Box<WithCookie<T>>),
    Challenge(MfaChallenge),
}

impl<T: Serialize> Responder for LoginAnswer<T> {
    type Body = BoxBody;
    fn respond_to(self, req: &HttpRequest) -> HttpResponse<BoxBody> {
        match self {
            LoginAnswer::Granted(granted) => (*granted).respond_to(req),
            LoginAnswer::Challenge(challenge) => HttpResponse::Ok().json(&challenge),
        }
    }
}

impl<T: Schema> Schema for LoginAnswer<T> {
    fn name() -> Option<String> {
        T::name()
    }
    fn description() -> &'static str {
        T::description()
    }
    fn raw_schema() -> DefaultSchemaRaw {
        T::raw_schema()
    }
}

impl<T: Schema> OperationModifier for LoginAnswer<T> {
    fn update_response(op: &mut DefaultOperationRaw) {
        let names: Vec<String> = [T::name(), MfaChallenge::name()].into_iter().flatten().collect();
        op.responses.insert(
            "200".into(),
            Either::Right(Response {
                description: Some("Signed in; or, for an account with MFA, the challenge for the second step".into()),
                schema: Some(agora_kernel::openapi::one_of(&names)),
                ..Default::default()
            }),
        );
    }

    fn update_definitions(map: &mut std::collections::BTreeMap<String, DefaultSchemaRaw>) {
        <WithCookie<T> as OperationModifier>::update_definitions(map);
        <MfaChallenge as OperationModifier>::update_definitions(map);
    }
}

async fn login(
    req: &HttpRequest,
    module: &IdentityModule,
    tenant: &TenantContext,
    kind: UserKind,
    body: LoginRequest,
) -> Result<LoginAnswer, ApiError> {
    match module.login(tenant, kind, body, &origin(req)).await? {
        LoginOutcome::Granted(grant) => Ok(LoginAnswer::Granted(Box::new(with_session(module, kind, *grant)))),
        LoginOutcome::MfaRequired(challenge) => Ok(LoginAnswer::Challenge(challenge)),
    }
}

fn with_session(module: &IdentityModule, kind: UserKind, grant: crate::sessions::Grant) -> WithCookie<LoginResponse> {
    let (name, path) = cookie_of(kind);
    let cookie = grant.session_id.map(|id| session_cookie(module, name, path, Some(id)));
    WithCookie { body: grant.body, cookie }
}

async fn login_mfa(
    req: &HttpRequest,
    module: &IdentityModule,
    tenant: &TenantContext,
    kind: UserKind,
    body: MfaLogin,
) -> Result<WithCookie<LoginResponse>, ApiError> {
    let grant = module.complete_mfa_login(tenant, kind, body, &origin(req)).await?;
    Ok(with_session(module, kind, grant))
}

pub(crate) fn cookie_of(kind: UserKind) -> (&'static str, &'static str) {
    match kind {
        UserKind::Customer => (CUSTOMER_COOKIE, areas::STORE),
        UserKind::Staff => (STAFF_COOKIE, areas::ADMIN),
    }
}

// ---- storefront -------------------------------------------------------------------------

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
    Ok(web::Json(module.start_mfa_enrolment(&tenant, customer.0.user).await?))
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
    Ok(web::Json(module.activate_mfa(&tenant, customer.0.user, &body.code, origin(&req).ip).await?))
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
    module.disable_mfa(&tenant, customer.0.user, body.into_inner(), origin(&req).ip).await?;
    Ok(NoContent)
}

/// A copy of all personal data the shop holds about the signed-in customer, as JSON.
#[api_v2_operation(tags(Store), operation_id = "exportMyData")]
async fn store_export(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<CustomerExport>, ApiError> {
    let user = customer.0.user;
    Ok(web::Json(module.export_customer(&tenant, user, &Actor::User(user), origin(&req).ip).await?))
}

/// Erase the signed-in customer's account, confirmed with the password: personal data is
/// anonymised (the account's id stays for orders), every session and token ends.
#[api_v2_operation(tags(Store), operation_id = "eraseMyAccount")]
async fn store_erase(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<ErasureRequest>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.erase_my_account(&tenant, customer.0.user, body.into_inner(), origin(&req).ip).await?;
    let cookie = session_cookie(&module, CUSTOMER_COOKIE, areas::STORE, None);
    Ok(WithCookie { body: Accepted { status: "erased" }, cookie: Some(cookie) })
}

/// Log out: ends every session and token of the account.
#[api_v2_operation(tags(Store), operation_id = "customerLogout")]
async fn store_logout(
    req: HttpRequest,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.logout(&tenant, customer.0.user, origin(&req).ip).await?;
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

async fn request_reset(
    req: &HttpRequest,
    tenant: &TenantContext,
    module: &IdentityModule,
    kind: UserKind,
    email: &str,
) -> Result<paperclip::actix::AcceptedJson<Accepted>, ApiError> {
    module.request_password_reset(tenant, kind, email, &origin(req)).await?;
    Ok(paperclip::actix::AcceptedJson(Accepted { status: "if the account exists, a link is on its way" }))
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

async fn confirm_reset(
    req: &HttpRequest,
    tenant: &TenantContext,
    module: &IdentityModule,
    body: ResetConfirm,
) -> Result<NoContent, ApiError> {
    module.confirm_password_reset(tenant, &body.token, &body.password, origin(req).ip).await?;
    Ok(NoContent)
}

/// Mail a staff member a password-reset link. Answers 202 whether or not the email has an account.
#[api_v2_operation(tags(Admin), operation_id = "staffPasswordResetRequest")]
async fn admin_reset_request(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<ResetRequest>,
) -> Result<paperclip::actix::AcceptedJson<Accepted>, ApiError> {
    request_reset(&req, &tenant, &module, UserKind::Staff, &body.email).await
}

/// Set a password with the token from a reset or invitation link; every session ends.
#[api_v2_operation(tags(Admin), operation_id = "staffPasswordResetConfirm")]
async fn admin_reset_confirm(
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

/// The signed-in customer's account.
#[api_v2_operation(tags(Store), operation_id = "getMyAccount")]
async fn store_me(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(module.account(&tenant, customer.0.user).await?))
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
    Ok(web::Json(module.active_sessions(&tenant, customer.0.user, current).await?))
}

/// Sign out one of your browsers (e.g. a lost phone); the others stay signed in.
#[api_v2_operation(tags(Store), operation_id = "endMySession")]
async fn store_end_session(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<String>,
) -> Result<NoContent, ApiError> {
    module.end_session(&tenant, customer.0.user, id.into_inner()).await?;
    Ok(NoContent)
}

async fn change_password(
    req: &HttpRequest,
    module: &IdentityModule,
    tenant: &TenantContext,
    kind: UserKind,
    user: uuid::Uuid,
    body: PasswordChange,
) -> Result<WithCookie<LoginResponse>, ApiError> {
    let grant = module
        .change_password(tenant, user, body.current_password, body.new_password, body.client.as_deref(), &origin(req))
        .await?;
    let (name, path) = cookie_of(kind);
    let cookie = grant.session_id.map(|id| session_cookie(module, name, path, Some(id)));
    Ok(WithCookie { body: grant.body, cookie })
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
    change_password(&req, &module, &tenant, UserKind::Customer, customer.0.user, body.into_inner()).await
}

/// Change the signed-in customer's name or email language.
#[api_v2_operation(tags(Store), operation_id = "updateMyAccount")]
async fn store_update_me(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<ProfilePatch>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(module.update_profile(&tenant, customer.0.user, body.into_inner()).await?))
}

/// The signed-in customer's addresses, oldest first.
#[api_v2_operation(tags(Store), operation_id = "listMyAddresses")]
async fn list_addresses(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Vec<Address>>, ApiError> {
    Ok(web::Json(module.addresses(&tenant, customer.0.user).await?))
}

/// Add an address; `default_shipping` / `default_billing` move the default to it.
#[api_v2_operation(tags(Store), operation_id = "addMyAddress")]
async fn add_address(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<AddressInput>,
) -> Result<Created<Address>, ApiError> {
    let address = module.add_address(&tenant, customer.0.user, body.into_inner()).await?;
    let (version, location) = (address.version, Area::Store.path(&format!("/me/addresses/{}", address.id)));
    Ok(Created::located(address, version, location))
}

/// Change an address; send `If-Match` with its ETag to avoid lost updates.
#[api_v2_operation(tags(Store), operation_id = "updateMyAddress")]
async fn update_address(
    if_match: IfMatch,
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
    body: web::Json<AddressInput>,
) -> Result<Versioned<Address>, ApiError> {
    let address =
        module.update_address(&tenant, customer.0.user, id.into_inner(), body.into_inner(), if_match.0).await?;
    let version = address.version;
    Ok(Versioned::new(address, version))
}

/// Remove an address.
#[api_v2_operation(tags(Store), operation_id = "deleteMyAddress")]
async fn delete_address(
    customer: SignedInCustomer,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<NoContent, ApiError> {
    module.delete_address(&tenant, customer.0.user, id.into_inner()).await?;
    Ok(NoContent)
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
        .service(web::resource("/me").route(web::get().to(store_me)).route(web::patch().to(store_update_me)))
        .service(web::resource("/me/sessions").route(web::get().to(store_sessions)))
        .service(web::resource("/me/sessions/{id}").route(web::delete().to(store_end_session)))
        .service(web::resource("/me/password").route(web::post().to(store_change_password)))
        .service(web::resource("/me/mfa/totp").route(web::post().to(store_mfa_enrol)))
        .service(web::resource("/me/mfa/totp/activate").route(web::post().to(store_mfa_activate)))
        .service(web::resource("/me/mfa/disable").route(web::post().to(store_mfa_disable)))
        .service(web::resource("/me/export").route(web::get().to(store_export)))
        .service(web::resource("/me/erase").route(web::post().to(store_erase)))
        .service(web::resource("/me/addresses").route(web::get().to(list_addresses)).route(web::post().to(add_address)))
        .service(
            web::resource("/me/addresses/{id}")
                .route(web::patch().to(update_address))
                .route(web::delete().to(delete_address)),
        );
    crate::oidc::store_routes(cfg);
}

// ---- admin ------------------------------------------------------------------------------

/// Log in as staff (session cookie + CSRF token, or `client: "api"` for tokens). With two-factor
/// authentication on, the answer is `{"mfa_required": true, "challenge": "…", "expires_in": 300}`
/// instead: finish at `/auth/login/mfa`. When the shop requires MFA and the member has none, the
/// login succeeds but every admin route except their own account and MFA enrolment answers 403
/// `mfa-enrolment-required` until they enrol.
#[api_v2_operation(tags(Admin), operation_id = "staffLogin")]
async fn admin_login(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<LoginRequest>,
) -> Result<LoginAnswer, ApiError> {
    login(&req, &module, &tenant, UserKind::Staff, body.into_inner()).await
}

/// Second staff login step: the challenge and a code (or a recovery code).
#[api_v2_operation(tags(Admin), operation_id = "staffLoginMfa")]
async fn admin_login_mfa(
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaLogin>,
) -> Result<WithCookie<LoginResponse>, ApiError> {
    login_mfa(&req, &module, &tenant, UserKind::Staff, body.into_inner()).await
}

/// Start enrolling an authenticator app (secret and `otpauth://` URI).
#[api_v2_operation(tags(Admin), operation_id = "startMyStaffMfaEnrolment")]
async fn admin_mfa_enrol(
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<MfaEnrolment>, ApiError> {
    Ok(web::Json(module.start_mfa_enrolment(&tenant, staff.0.user).await?))
}

/// Switch two-factor authentication on with a first code; answers the recovery codes, once.
#[api_v2_operation(tags(Admin), operation_id = "activateMyStaffMfa")]
async fn admin_mfa_activate(
    req: HttpRequest,
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaCode>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    Ok(web::Json(module.activate_mfa(&tenant, staff.0.user, &body.code, origin(&req).ip).await?))
}

/// Switch two-factor authentication off: the password and a current code or a recovery code.
#[api_v2_operation(tags(Admin), operation_id = "disableMyStaffMfa")]
async fn admin_mfa_disable(
    req: HttpRequest,
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaDisable>,
) -> Result<NoContent, ApiError> {
    module.disable_mfa(&tenant, staff.0.user, body.into_inner(), origin(&req).ip).await?;
    Ok(NoContent)
}

/// The shop's identity policy.
#[api_v2_operation(tags(Admin), operation_id = "getSecurityPolicy")]
async fn get_security_policy(
    _auth: Authorized<perm::SettingsManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<SecurityPolicy>, ApiError> {
    Ok(web::Json(module.security_policy(&tenant).await?))
}

/// Replace the shop's identity policy (e.g. require two-factor authentication of staff).
#[api_v2_operation(tags(Admin), operation_id = "setSecurityPolicy")]
async fn set_security_policy(
    auth: Authorized<perm::SettingsManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<SecurityPolicy>,
) -> Result<web::Json<SecurityPolicy>, ApiError> {
    Ok(web::Json(module.set_security_policy(&tenant, body.into_inner(), &auth.actor()).await?))
}

/// All personal data of a customer, on their request (GDPR access and portability).
#[api_v2_operation(tags(Admin), operation_id = "exportCustomerData")]
async fn export_customer(
    req: HttpRequest,
    auth: Authorized<perm::CustomersPrivacy>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<CustomerExport>, ApiError> {
    Ok(web::Json(module.export_customer(&tenant, id.into_inner(), &auth.actor(), origin(&req).ip).await?))
}

/// Erase a customer's personal data on their request: anonymised, the id kept for orders, every
/// session and token ended. Cannot be undone.
#[api_v2_operation(tags(Admin), operation_id = "eraseCustomer")]
async fn erase_customer(
    req: HttpRequest,
    auth: Authorized<perm::CustomersPrivacy>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<NoContent, ApiError> {
    module.erase_customer(&tenant, id.into_inner(), &auth.actor(), origin(&req).ip).await?;
    Ok(NoContent)
}

/// Log out: ends every session and token of the staff member.
#[api_v2_operation(tags(Admin), operation_id = "staffLogout")]
async fn admin_logout(
    req: HttpRequest,
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.logout(&tenant, staff.0.user, origin(&req).ip).await?;
    let cookie = session_cookie(&module, STAFF_COOKIE, areas::ADMIN, None);
    Ok(WithCookie { body: Accepted { status: "logged out" }, cookie: Some(cookie) })
}

/// Exchange a staff refresh token for a new pair.
#[api_v2_operation(tags(Admin), operation_id = "staffRefresh")]
async fn admin_refresh(
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<RefreshRequest>,
) -> Result<web::Json<LoginResponse>, ApiError> {
    Ok(web::Json(module.refresh(&tenant, UserKind::Staff, body.into_inner().refresh_token).await?))
}

/// The signed-in staff member's account and roles.
#[api_v2_operation(tags(Admin), operation_id = "getMyStaffAccount")]
async fn admin_me(
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(module.account(&tenant, staff.0.user).await?))
}

/// What the signed-in staff member may do.
#[derive(Debug, Serialize, Apiv2Schema)]
pub(crate) struct MyPermissions {
    /// Permission names from all of the member's roles, sorted.
    permissions: Vec<String>,
}

/// The signed-in staff member's permissions (the union of their roles'), so that the admin
/// shows only what they can use. Every admin route still checks its permission itself.
#[api_v2_operation(tags(Admin), operation_id = "getMyStaffPermissions")]
async fn admin_my_permissions(
    req: HttpRequest,
    _staff: SignedInStaff,
    _tenant: TenantContext,
) -> Result<web::Json<MyPermissions>, ApiError> {
    let permissions = match Principal::of(&req) {
        Principal::Staff { permissions, .. } => permissions.iter().cloned().collect(),
        _ => Vec::new(),
    };
    Ok(web::Json(MyPermissions { permissions }))
}

/// Your signed-in browsers (cookie sessions), newest first; `current` marks this one.
#[api_v2_operation(tags(Admin), operation_id = "listMyStaffSessions")]
async fn admin_sessions(
    req: HttpRequest,
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Vec<ActiveSession>>, ApiError> {
    let current = req.cookie(STAFF_COOKIE).map(|c| c.value().to_string());
    Ok(web::Json(module.active_sessions(&tenant, staff.0.user, current).await?))
}

/// Sign out one of your browsers; the others stay signed in.
#[api_v2_operation(tags(Admin), operation_id = "endMyStaffSession")]
async fn admin_end_session(
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<String>,
) -> Result<NoContent, ApiError> {
    module.end_session(&tenant, staff.0.user, id.into_inner()).await?;
    Ok(NoContent)
}

/// Change the staff member's own password; other sessions end.
#[api_v2_operation(tags(Admin), operation_id = "changeMyStaffPassword")]
async fn admin_change_password(
    req: HttpRequest,
    staff: SignedInStaff,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<PasswordChange>,
) -> Result<WithCookie<LoginResponse>, ApiError> {
    change_password(&req, &module, &tenant, UserKind::Staff, staff.0.user, body.into_inner()).await
}

/// Invite a staff member: they get an email link to choose a password.
#[api_v2_operation(tags(Admin), operation_id = "inviteStaff")]
async fn invite_staff(
    req: HttpRequest,
    auth: Authorized<perm::StaffManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<NewStaff>,
) -> Result<CreatedJson<Account>, ApiError> {
    Ok(CreatedJson(
        module
            .create_staff(&tenant, body.into_inner(), None, &Grantor::Principal(auth.principal), &origin(&req))
            .await?,
    ))
}

/// The shop's staff, oldest first.
#[api_v2_operation(tags(Admin), operation_id = "listStaff")]
async fn list_staff(
    _auth: Authorized<perm::StaffManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    page: ListQuery<OldestFirst>,
) -> Result<web::Json<Page<Account>>, ApiError> {
    Ok(web::Json(module.list_staff(&tenant, &page.keyset()?).await?))
}

/// Disable a staff member; their sessions and tokens end at once. Only an owner may disable an
/// owner (403 `owner-only`).
#[api_v2_operation(tags(Admin), operation_id = "disableStaff")]
async fn disable_staff(
    auth: Authorized<perm::StaffManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(module.disable_staff(&tenant, id.into_inner(), &Grantor::Principal(auth.principal)).await?))
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
struct RoleAssignment {
    /// Role keys; replaces the member's roles.
    roles: Vec<String>,
}

/// Set a staff member's roles. Only an owner may change an owner's roles or grant `owner`
/// (403 `owner-only`).
#[api_v2_operation(tags(Admin), operation_id = "assignStaffRoles")]
async fn assign_roles(
    auth: Authorized<perm::StaffManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
    body: web::Json<RoleAssignment>,
) -> Result<web::Json<Account>, ApiError> {
    Ok(web::Json(
        module
            .assign_roles(&tenant, id.into_inner(), body.into_inner().roles, &Grantor::Principal(auth.principal))
            .await?,
    ))
}

/// Built-in and custom roles with their permissions.
#[api_v2_operation(tags(Admin), operation_id = "listRoles")]
async fn list_roles(
    _auth: Authorized<perm::RolesManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Vec<Role>>, ApiError> {
    Ok(web::Json(module.roles(&tenant).await?))
}

/// Define a custom role as a set of permissions.
#[api_v2_operation(tags(Admin), operation_id = "createRole")]
async fn create_role(
    auth: Authorized<perm::RolesManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<NewRole>,
) -> Result<CreatedJson<Role>, ApiError> {
    Ok(CreatedJson(module.create_role(&tenant, body.into_inner(), &Grantor::Principal(auth.principal)).await?))
}

/// Delete a custom role (built-in roles stay).
#[api_v2_operation(tags(Admin), operation_id = "deleteRole")]
async fn delete_role(
    auth: Authorized<perm::RolesManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    key: web::Path<String>,
) -> Result<NoContent, ApiError> {
    module.delete_role(&tenant, &key, &auth.actor()).await?;
    Ok(NoContent)
}

/// Create an API key. The response's `key` is the only time it is shown.
#[api_v2_operation(tags(Admin), operation_id = "createApiKey")]
async fn create_api_key(
    auth: Authorized<perm::ApiKeysManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    body: web::Json<NewApiKey>,
) -> Result<CreatedJson<ApiKey>, ApiError> {
    Ok(CreatedJson(module.create_api_key(&tenant, body.into_inner(), &Grantor::Principal(auth.principal)).await?))
}

/// The shop's API keys (without the keys themselves).
#[api_v2_operation(tags(Admin), operation_id = "listApiKeys")]
async fn list_api_keys(
    _auth: Authorized<perm::ApiKeysManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<Vec<ApiKey>>, ApiError> {
    Ok(web::Json(module.api_keys(&tenant).await?))
}

/// Revoke an API key; it stops working at once.
#[api_v2_operation(tags(Admin), operation_id = "revokeApiKey")]
async fn revoke_api_key(
    auth: Authorized<perm::ApiKeysManage>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<NoContent, ApiError> {
    module.revoke_api_key(&tenant, id.into_inner(), &auth.actor()).await?;
    Ok(NoContent)
}

#[derive(Debug, Deserialize, Apiv2Schema)]
struct AuditQuery {
    /// Only this action (`login.failed`), or a family of them ending in a dot (`login.`).
    action: Option<String>,
    /// Only what this actor did (`user:<id>`, `api_key:<id>`, `anonymous`, `system:<what>`).
    actor: Option<String>,
    /// Only events about this subject (`user:<id>`, `role:<key>`, `email:<address>`).
    subject: Option<String>,
    /// Only events at or after this instant (RFC 3339).
    since: Option<String>,
    /// Only events before this instant (RFC 3339).
    until: Option<String>,
}

fn instant(field: &str, raw: Option<&str>) -> Result<Option<chrono::DateTime<chrono::Utc>>, ApiError> {
    raw.map(|raw| {
        chrono::DateTime::parse_from_rfc3339(raw)
            .map(|t| t.with_timezone(&chrono::Utc))
            .map_err(|_| ApiError::field(field, "an RFC 3339 instant such as 2026-11-22T10:00:00Z"))
    })
    .transpose()
}

/// Security events (logins, failures, MFA and password changes, role changes, key creation,
/// data exports and erasures), newest first, optionally narrowed by action, actor, subject and
/// time.
#[api_v2_operation(tags(Admin), operation_id = "listAuditLog")]
async fn audit_log(
    _auth: Authorized<perm::AuditRead>,
    tenant: TenantContext,
    module: web::Data<IdentityModule>,
    page: ListQuery<NewestFirst>,
    query: web::Query<AuditQuery>,
) -> Result<web::Json<Page<AuditEntry>>, ApiError> {
    let query = query.into_inner();
    let page = page.keyset()?;
    let filter = AuditFilter {
        since: instant("since", query.since.as_deref())?,
        until: instant("until", query.until.as_deref())?,
        action: query.action,
        actor: query.actor,
        subject: query.subject,
    };
    Ok(web::Json(module.audit_log(&tenant, &page, filter).await?))
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").route(web::post().to(admin_login)))
        .service(web::resource("/auth/login/mfa").route(web::post().to(admin_login_mfa)))
        .service(web::resource("/auth/logout").route(web::post().to(admin_logout)))
        .service(web::resource("/auth/refresh").route(web::post().to(admin_refresh)))
        .service(web::resource("/auth/password-reset/request").route(web::post().to(admin_reset_request)))
        .service(web::resource("/auth/password-reset/confirm").route(web::post().to(admin_reset_confirm)))
        .service(web::resource("/me").route(web::get().to(admin_me)))
        .service(web::resource("/me/permissions").route(web::get().to(admin_my_permissions)))
        .service(web::resource("/me/sessions").route(web::get().to(admin_sessions)))
        .service(web::resource("/me/sessions/{id}").route(web::delete().to(admin_end_session)))
        .service(web::resource("/me/password").route(web::post().to(admin_change_password)))
        .service(web::resource("/me/mfa/totp").route(web::post().to(admin_mfa_enrol)))
        .service(web::resource("/me/mfa/totp/activate").route(web::post().to(admin_mfa_activate)))
        .service(web::resource("/me/mfa/disable").route(web::post().to(admin_mfa_disable)))
        .service(
            web::resource("/security-policy")
                .route(web::get().to(get_security_policy))
                .route(web::put().to(set_security_policy)),
        )
        .service(web::resource("/customers/{id}/export").route(web::get().to(export_customer)))
        .service(web::resource("/customers/{id}/erase").route(web::post().to(erase_customer)))
        .service(web::resource("/staff").route(web::get().to(list_staff)).route(web::post().to(invite_staff)))
        .service(web::resource("/staff/{id}/disable").route(web::post().to(disable_staff)))
        .service(web::resource("/staff/{id}/roles").route(web::put().to(assign_roles)))
        .service(web::resource("/roles").route(web::get().to(list_roles)).route(web::post().to(create_role)))
        .service(web::resource("/roles/{key}").route(web::delete().to(delete_role)))
        .service(web::resource("/api-keys").route(web::get().to(list_api_keys)).route(web::post().to(create_api_key)))
        .service(web::resource("/api-keys/{id}").route(web::delete().to(revoke_api_key)))
        .service(web::resource("/audit-log").route(web::get().to(audit_log)));
    crate::oidc::admin_routes(cfg);
}

// ---- platform ---------------------------------------------------------------------------

/// Log in as a platform operator (session cookie, or `client: "api"` for an access token). An
/// operator with two-factor authentication gets `{"mfa_required": true, "challenge": …}` instead:
/// send it with a code to `/api/v1/platform/auth/login/mfa`.
#[api_v2_operation(tags(Platform), operation_id = "operatorLogin")]
async fn operator_login(
    req: HttpRequest,
    module: web::Data<IdentityModule>,
    body: web::Json<LoginRequest>,
) -> Result<LoginAnswer<OperatorLogin>, ApiError> {
    Ok(match module.operator_login(body.into_inner(), &origin(&req)).await? {
        OperatorLoginOutcome::Granted(grant) => LoginAnswer::Granted(Box::new(operator_session(&module, grant))),
        OperatorLoginOutcome::MfaRequired(challenge) => LoginAnswer::Challenge(challenge),
    })
}

fn operator_session(module: &IdentityModule, grant: OperatorGrant) -> WithCookie<OperatorLogin> {
    let cookie = grant.session_id.map(|id| session_cookie(module, OPERATOR_COOKIE, areas::PLATFORM, Some(id)));
    WithCookie { body: grant.body, cookie }
}

/// The second login step for an operator with two-factor authentication: the challenge and a
/// code from the app (or a recovery code).
#[api_v2_operation(tags(Platform), operation_id = "operatorLoginMfa")]
async fn operator_login_mfa(
    req: HttpRequest,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaLogin>,
) -> Result<WithCookie<OperatorLogin>, ApiError> {
    let grant = module.complete_operator_mfa_login(body.into_inner(), &origin(&req)).await?;
    Ok(operator_session(&module, grant))
}

/// Start setting up an authenticator app: a fresh secret and its otpauth URI.
#[api_v2_operation(tags(Platform), operation_id = "enrolOperatorMfa")]
async fn operator_mfa_enrol(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
) -> Result<web::Json<MfaEnrolment>, ApiError> {
    Ok(web::Json(module.start_operator_mfa(op.operator_id).await?))
}

/// Switch two-factor authentication on with a first code; answers the recovery codes, once.
#[api_v2_operation(tags(Platform), operation_id = "activateOperatorMfa")]
async fn operator_mfa_activate(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaCode>,
) -> Result<web::Json<RecoveryCodes>, ApiError> {
    Ok(web::Json(module.activate_operator_mfa(op.operator_id, &body.code).await?))
}

/// Switch two-factor authentication off: the password and a current code or a recovery code.
#[api_v2_operation(tags(Platform), operation_id = "disableOperatorMfa")]
async fn operator_mfa_disable(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    body: web::Json<MfaDisable>,
) -> Result<NoContent, ApiError> {
    module.disable_operator_mfa(op.operator_id, body.into_inner()).await?;
    Ok(NoContent)
}

/// Log out: ends the operator's sessions and tokens.
#[api_v2_operation(tags(Platform), operation_id = "operatorLogout")]
async fn operator_logout(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.operator_logout(op.operator_id).await?;
    let cookie = session_cookie(&module, OPERATOR_COOKIE, areas::PLATFORM, None);
    Ok(WithCookie { body: Accepted { status: "logged out" }, cookie: Some(cookie) })
}

/// The platform's bootstrap: the configured platform token may create the first operator;
/// after that only operators may add operators.
pub(crate) struct OperatorOrBootstrap(Actor);

impl FromRequest for OperatorOrBootstrap {
    type Error = ApiError;
    type Future = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = Principal::of(req);
        let token_matches = req.app_data::<actix_web::web::Data<PlatformToken>>().is_some_and(|t| t.matches(req));
        let module = req.app_data::<actix_web::web::Data<IdentityModule>>().cloned();
        Box::pin(async move {
            if let Principal::Operator { operator_id } = principal {
                return Ok(OperatorOrBootstrap(Actor::User(operator_id)));
            }
            match (token_matches, module) {
                (true, Some(module)) if !module.has_operators().await.map_err(ApiError::from)? => {
                    Ok(OperatorOrBootstrap(Actor::PlatformToken))
                }
                _ => Err(ApiError::new(ErrorKind::Unauthorized, "unauthorized", "log in as a platform operator")),
            }
        })
    }
}

impl paperclip::v2::schema::Apiv2Schema for OperatorOrBootstrap {}
impl OperationModifier for OperatorOrBootstrap {
    fn update_security(op: &mut DefaultOperationRaw) {
        <PlatformOperator as OperationModifier>::update_security(op);
    }
    fn update_security_definitions(
        map: &mut std::collections::BTreeMap<String, paperclip::v2::models::SecurityScheme>,
    ) {
        <PlatformOperator as OperationModifier>::update_security_definitions(map);
    }
}

/// Add a platform operator. The platform token from configuration may create the first one.
#[api_v2_operation(tags(Platform), operation_id = "createOperator")]
async fn create_operator(
    who: OperatorOrBootstrap,
    module: web::Data<IdentityModule>,
    body: web::Json<NewOperator>,
) -> Result<CreatedJson<Operator>, ApiError> {
    let operator = match who.0 {
        Actor::PlatformToken => module.create_first_operator(body.into_inner()).await?,
        actor => module.create_operator(body.into_inner(), &actor).await?,
    };
    Ok(CreatedJson(operator))
}

/// The signed-in operator.
#[api_v2_operation(tags(Platform), operation_id = "operatorMe")]
async fn operator_me(op: PlatformOperator, module: web::Data<IdentityModule>) -> Result<web::Json<Operator>, ApiError> {
    Ok(web::Json(module.operator(op.operator_id).await?))
}

/// Change your password. Every session and token of yours ends, this one too: log in again.
#[api_v2_operation(tags(Platform), operation_id = "operatorChangePassword")]
async fn operator_change_password(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    body: web::Json<OperatorPasswordChange>,
) -> Result<WithCookie<Accepted>, ApiError> {
    module.change_operator_password(op.operator_id, body.into_inner()).await?;
    let cookie = session_cookie(&module, OPERATOR_COOKIE, areas::PLATFORM, None);
    Ok(WithCookie { body: Accepted { status: "password changed; log in again" }, cookie: Some(cookie) })
}

/// The platform's operators, oldest first.
#[api_v2_operation(tags(Platform), operation_id = "listOperators")]
async fn list_operators(
    _op: PlatformOperator,
    module: web::Data<IdentityModule>,
    page: ListQuery<OldestFirst>,
) -> Result<web::Json<Page<Operator>>, ApiError> {
    Ok(web::Json(module.list_operators(&page.keyset()?).await?))
}

/// Disable an operator (not yourself): their sessions and tokens end at once.
#[api_v2_operation(tags(Platform), operation_id = "disableOperator")]
async fn disable_operator(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<Operator>, ApiError> {
    Ok(web::Json(module.set_operator_disabled(id.into_inner(), true, op.operator_id).await?))
}

/// Let a disabled operator log in again.
#[api_v2_operation(tags(Platform), operation_id = "enableOperator")]
async fn enable_operator(
    op: PlatformOperator,
    module: web::Data<IdentityModule>,
    id: web::Path<uuid::Uuid>,
) -> Result<web::Json<Operator>, ApiError> {
    Ok(web::Json(module.set_operator_disabled(id.into_inner(), false, op.operator_id).await?))
}

pub(crate) fn platform_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/login").route(web::post().to(operator_login)))
        .service(web::resource("/auth/logout").route(web::post().to(operator_logout)))
        .service(web::resource("/me").route(web::get().to(operator_me)))
        .service(web::resource("/me/password").route(web::post().to(operator_change_password)))
        .service(web::resource("/auth/login/mfa").route(web::post().to(operator_login_mfa)))
        .service(web::resource("/me/mfa/totp").route(web::post().to(operator_mfa_enrol)))
        .service(web::resource("/me/mfa/totp/activate").route(web::post().to(operator_mfa_activate)))
        .service(web::resource("/me/mfa/disable").route(web::post().to(operator_mfa_disable)))
        .service(
            web::resource("/operators").route(web::get().to(list_operators)).route(web::post().to(create_operator)),
        )
        .service(web::resource("/operators/{id}/disable").route(web::post().to(disable_operator)))
        .service(web::resource("/operators/{id}/enable").route(web::post().to(enable_operator)));
}
