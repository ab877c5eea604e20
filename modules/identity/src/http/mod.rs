//! HTTP face of identity, one file per audience: `store` (shoppers), `admin` (staff), `platform`
//! (operators). This file holds what they share: cookies, login answers, the request's origin.

mod admin;
mod oidc;
mod platform;
mod store;

use crate::access::{ApiKey, AuditEntry, AuditFilter, Grantor, NewApiKey, NewRole, NewStaff, Role};
use crate::accounts::RequestOrigin;
use crate::login::mfa::{
    LoginOutcome, MfaChallenge, MfaCode, MfaDisable, MfaEnrolment, MfaLogin, RecoveryCodes, SecurityPolicy,
};
use crate::login::password::Registration;
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
pub(crate) use admin::admin_routes;
use agora_kernel::areas;
use agora_kernel::auth::{perm, Authorized, MfaPending, Principal, SignedInCustomer, SignedInStaff};
use agora_kernel::lists::{ListQuery, NewestFirst, OldestFirst, Page};
use agora_kernel::platform::PlatformToken;
use agora_kernel::{Actor, ApiError, ErrorKind, PlatformOperator, TenantContext};
use paperclip::actix::{api_v2_operation, web, Apiv2Schema, CreatedJson, NoContent, OperationModifier};
use paperclip::v2::models::{DefaultOperationRaw, DefaultSchemaRaw, Either, Response};
use paperclip::v2::schema::Apiv2Schema as Schema;
pub(crate) use platform::platform_routes;
use serde::{Deserialize, Serialize};
pub(crate) use store::store_routes;

pub(crate) fn origin(req: &HttpRequest) -> RequestOrigin {
    let ip = agora_kernel::http::client_addr(req).map(|a| a.to_string());
    let user_agent = req
        .headers()
        .get(actix_web::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(300).collect());
    RequestOrigin { ip, user_agent }
}

/// A JSON body that may set or clear a session cookie; documented like `Json<T>`.
pub struct WithCookie<T> {
    pub(crate) body: T,
    pub(crate) cookie: Option<Cookie<'static>>,
}

impl<T> WithCookie<T> {
    pub fn new(body: T, cookie: Option<Cookie<'static>>) -> Self {
        Self { body, cookie }
    }
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
pub(crate) struct RefreshRequest {
    pub(crate) refresh_token: String,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetRequest {
    pub(crate) email: String,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResetConfirm {
    /// The token from the emailed link.
    pub(crate) token: String,
    pub(crate) password: String,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct VerifyEmail {
    pub(crate) token: String,
}

#[derive(Debug, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PasswordChange {
    pub(crate) current_password: String,
    pub(crate) new_password: String,
    /// `browser` (default) or `api`: what to hand back for this device.
    #[serde(default)]
    pub(crate) client: Option<String>,
}

// A request taken: what happens next, in words (no doc comment: it would change the contract).
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct Accepted {
    pub status: &'static str,
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

pub(crate) async fn login(
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

pub(crate) fn with_session(
    module: &IdentityModule,
    kind: UserKind,
    grant: crate::sessions::Grant,
) -> WithCookie<LoginResponse> {
    let (name, path) = cookie_of(kind);
    let cookie = grant.session_id.map(|id| session_cookie(module, name, path, Some(id)));
    WithCookie { body: grant.body, cookie }
}

pub(crate) async fn login_mfa(
    req: &HttpRequest,
    module: &IdentityModule,
    tenant: &TenantContext,
    kind: UserKind,
    body: MfaLogin,
) -> Result<WithCookie<LoginResponse>, ApiError> {
    let grant = module.complete_mfa_login(tenant, kind, body, &origin(req)).await?;
    Ok(with_session(module, kind, grant))
}

/// The CSRF token of a browser's session.
#[derive(Debug, Serialize, Apiv2Schema)]
pub(crate) struct SessionCsrfToken {
    /// Send it as `X-CSRF-Token` on every unsafe request.
    csrf_token: String,
}

/// The token the authenticating middleware left for the request's session cookie; 404
/// `no-browser-session` for a caller signed in another way (a bearer token, an API key).
pub(crate) fn session_csrf_token(req: &HttpRequest) -> Result<web::Json<SessionCsrfToken>, ApiError> {
    use actix_web::HttpMessage;
    let token = req.extensions().get::<agora_kernel::auth::SessionCsrf>().map(|t| t.0.clone());
    match token {
        Some(csrf_token) => Ok(web::Json(SessionCsrfToken { csrf_token })),
        None => Err(ApiError::new(ErrorKind::NotFound, "no-browser-session", "signed in without a browser session")),
    }
}

pub(crate) fn cookie_of(kind: UserKind) -> (&'static str, &'static str) {
    match kind {
        UserKind::Customer => (CUSTOMER_COOKIE, areas::STORE),
        UserKind::Staff => (STAFF_COOKIE, areas::ADMIN),
    }
}

pub(crate) async fn request_reset(
    req: &HttpRequest,
    tenant: &TenantContext,
    module: &IdentityModule,
    kind: UserKind,
    email: &str,
) -> Result<paperclip::actix::AcceptedJson<Accepted>, ApiError> {
    module.request_password_reset(tenant, kind, email, &origin(req)).await?;
    Ok(paperclip::actix::AcceptedJson(Accepted { status: "if the account exists, a link is on its way" }))
}

pub(crate) async fn confirm_reset(
    req: &HttpRequest,
    tenant: &TenantContext,
    module: &IdentityModule,
    body: ResetConfirm,
) -> Result<NoContent, ApiError> {
    module.confirm_password_reset(tenant, &body.token, &body.password, origin(req).ip).await?;
    Ok(NoContent)
}

pub(crate) async fn change_password(
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
