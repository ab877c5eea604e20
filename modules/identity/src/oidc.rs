//! OpenID Connect login: a shop names one provider (issuer, client id and secret), and its
//! customers or staff log in there instead of with a password.
//!
//! The flow is the authorization code flow with PKCE. `start` discovers the provider, keeps the
//! state, nonce and PKCE verifier server-side (single use, ten minutes, bound to the browser by a
//! cookie holding a random value whose digest is stored) and redirects to the provider. `callback`
//! consumes that row, exchanges the code, and lets `openidconnect` verify the ID token (signature,
//! issuer, audience, expiry, nonce). The provider identity (issuer + subject) is then found, or a
//! new account is created; the session is granted by the same code as the password login.
//!
//! Whoever configures the provider decides who the provider may say a user is, so:
//! - only an owner may set or remove it, and setting it asks for the owner's current password
//!   (re-authentication: a stolen session or an API key with `settings.manage` is not enough);
//! - an existing account (same email, verified on both sides) is never linked silently: the
//!   callback leaves a pending link, and the account's holder confirms it while signed in
//!   (`POST …/me/oidc-link`). The one exception is staff other than owners when the owner has made
//!   the provider the only way in for staff (`staff_sso_only`, what shops on Okta & co. expect):
//!   then the provider is the authority on staff identities, and password logins of those staff
//!   are refused. Owners keep their password and are always asked to confirm.
//!
//! Provider calls (discovery, keys, token, userinfo) go through the kernel's guarded outbound
//! client (`agora_kernel::outbound`): no loopback, private or metadata addresses, no redirects.
//! The issuer is checked when configured and on every call. Discovery documents are cached for
//! [`DISCOVERY_TTL`], and starting a login is rate-limited per client, so anonymous visitors
//! cannot make the server call out at will.
//!
//! The client secret is sealed at rest (`agora_kernel::sealing`: AES-256-GCM under a key derived
//! from `AGORA_TOKEN_KEY`, the shop's id as associated data so a row copied into another shop does
//! not open) and is never returned by the API.

use crate::accounts::{parse_email, RequestOrigin};
use crate::http::{SignedInCustomer, SignedInStaff};
use crate::schema::{role_permissions, roles as roles_t, users};
use crate::sessions::Client;
use crate::store::{self, UserRow};
use crate::{tokens, Grantor, IdentityError, IdentityModule, UserKind};
use actix_web::body::BoxBody;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder};
use agora_kernel::areas;
use agora_kernel::auth::{perm, Authorized, Principal};
use agora_kernel::outbound::{self, Outbound};
use agora_kernel::rate_limit::RateLimiter;
use agora_kernel::throttle::{self, ThrottleScope};
use agora_kernel::{Actor, ApiError, DbError, ErrorKind, TenantContext};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use paperclip::actix::{api_v2_operation, web, Apiv2Schema, NoContent, OperationModifier};
use paperclip::v2::models::{DefaultOperationRaw, Either, Response};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

diesel::table! {
    oidc_provider (id) {
        id -> Bool,
        issuer_url -> Text,
        client_id -> Text,
        client_secret_encrypted -> Bytea,
        client_secret_nonce -> Bytea,
        account_kind -> Text,
        staff_role -> Nullable<Text>,
        return_path -> Text,
        staff_sso_only -> Bool,
        modified_at -> Timestamptz,
        modified_by -> Text,
        version -> Int8,
    }
}

diesel::table! {
    oidc_logins (state_hash) {
        state_hash -> Bytea,
        browser_hash -> Bytea,
        account_kind -> Text,
        nonce -> Text,
        pkce_verifier -> Text,
        redirect_uri -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_pending_links (token_hash) {
        token_hash -> Bytea,
        user_id -> Uuid,
        issuer -> Text,
        subject -> Text,
        expires_at -> Timestamptz,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    oidc_identities (issuer, subject) {
        issuer -> Text,
        subject -> Text,
        user_id -> Uuid,
        created_at -> Timestamptz,
        last_login_at -> Timestamptz,
    }
}

/// Forgets every provider identity linked to `user_id` (erasure): the person can no longer be
/// found by their subject at the provider.
pub(crate) async fn forget_user(
    conn: &mut diesel_async::AsyncPgConnection,
    user_id: uuid::Uuid,
) -> diesel::QueryResult<()> {
    use diesel::prelude::*;
    use diesel_async::RunQueryDsl;
    diesel::delete(oidc_identities::table.filter(oidc_identities::user_id.eq(user_id))).execute(conn).await?;
    diesel::delete(oidc_pending_links::table.filter(oidc_pending_links::user_id.eq(user_id))).execute(conn).await?;
    Ok(())
}

/// The cookie binding a login in flight to the browser that started it.
const BINDING_COOKIE: &str = "agora_oidc_binding";
/// Time a user has at the provider before the login in flight is forgotten.
const LOGIN_TTL_MINUTES: i64 = 10;
/// Provider calls (discovery, token, keys, userinfo) give up after this long.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a provider's discovery document (and the signing keys read with it) is reused.
pub(crate) const DISCOVERY_TTL: Duration = Duration::from_secs(10 * 60);
/// Logins one client address may start per minute at one shop: each may make the server call
/// the provider, so an anonymous caller must not be able to do that at will.
pub(crate) const STARTS_PER_CLIENT_PER_MINUTE: u64 = 20;
/// Time the holder of an existing account has to confirm a link to a provider identity.
const PENDING_LINK_TTL_MINUTES: i64 = 30;

/// Discovery documents by issuer URL. Per process; a provider's keys rotate slowly, and a token
/// signed with a key the cached document lacks evicts it (see `verify_at_provider`).
pub(crate) type DiscoveryCache = moka::future::Cache<String, Arc<CoreProviderMetadata>>;

pub(crate) fn discovery_cache() -> DiscoveryCache {
    moka::future::Cache::builder().max_capacity(10_000).time_to_live(DISCOVERY_TTL).build()
}

/// What can go wrong with an OIDC login or its configuration.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OidcError {
    #[error("OIDC login is not configured for {0} accounts of this shop")]
    NotConfigured(&'static str),
    #[error("the login state is unknown, used, expired or belongs to another browser")]
    BadState,
    #[error("the provider refused the login: {0}")]
    Refused(String),
    /// The provider could not be reached or answered nonsense: not our fault, not the user's.
    #[error("the identity provider failed: {0}")]
    Provider(String),
    #[error("the ID token failed verification: {0}")]
    BadIdToken(String),
    #[error("the provider did not give an email address for the account")]
    NoEmail,
    #[error(
        "an account with this email exists, but the email is not verified at the provider and here; \
         log in with the password and verify the email first"
    )]
    UnverifiedLink,
    /// The issuer (or a URL its discovery names) is not one the server may call.
    #[error("the issuer {0}")]
    IssuerRefused(agora_kernel::outbound::TargetRefused),
    #[error("the account is disabled")]
    Disabled,
    #[error("encrypting or decrypting the client secret failed; was AGORA_TOKEN_KEY changed?")]
    Crypto,
    #[error(transparent)]
    Identity(#[from] IdentityError),
}

impl From<DbError> for OidcError {
    fn from(e: DbError) -> Self {
        OidcError::Identity(IdentityError::from(e))
    }
}

impl From<diesel::result::Error> for OidcError {
    fn from(e: diesel::result::Error) -> Self {
        OidcError::Identity(IdentityError::from(e))
    }
}

impl From<OidcError> for ApiError {
    fn from(e: OidcError) -> Self {
        if let OidcError::Provider(_) | OidcError::BadIdToken(_) = &e {
            // The client sees a generic problem; operators need the provider's actual answer.
            tracing::warn!(error = %e, "OIDC login failed at the provider");
        }
        match e {
            OidcError::NotConfigured(_) => ApiError::new(ErrorKind::NotFound, "oidc-not-configured", e.to_string()),
            OidcError::BadState => ApiError::new(ErrorKind::Unprocessable, "oidc-state-invalid", e.to_string())
                .with_field("state", "unknown, used, expired or started in another browser; log in again"),
            OidcError::Refused(_) => ApiError::new(ErrorKind::Unauthorized, "oidc-login-refused", e.to_string()),
            OidcError::Provider(_) => ApiError::new(
                ErrorKind::BadGateway,
                "oidc-provider-failed",
                "the identity provider could not be reached or gave an unusable answer; try again later",
            )
            .with_internal(e),
            OidcError::BadIdToken(_) => ApiError::new(
                ErrorKind::Unauthorized,
                "oidc-id-token-invalid",
                "the identity provider's answer failed verification; log in again",
            )
            .with_internal(e),
            OidcError::NoEmail => ApiError::new(ErrorKind::Unauthorized, "oidc-no-email", e.to_string()),
            OidcError::UnverifiedLink => ApiError::new(ErrorKind::Conflict, "oidc-email-unverified", e.to_string()),
            // The stored issuer was accepted once; the operator's setting or its DNS changed since.
            OidcError::IssuerRefused(_) => ApiError::new(
                ErrorKind::BadGateway,
                "oidc-provider-refused",
                "the shop's identity provider is at an address this server may not call; an owner must correct the issuer",
            )
            .with_internal(e),
            OidcError::Disabled => ApiError::new(ErrorKind::Forbidden, "account-disabled", e.to_string()),
            // Almost always AGORA_TOKEN_KEY changed since the secret was stored: the way out is
            // for an admin to enter the secret again, so say that rather than a bare 500.
            OidcError::Crypto => ApiError::new(
                ErrorKind::Conflict,
                "oidc-secret-unreadable",
                "the stored OIDC client secret cannot be read (was AGORA_TOKEN_KEY changed?); an admin must enter it again",
            )
            .with_internal(e),
            OidcError::Identity(inner) => ApiError::from(inner),
        }
    }
}

// ---- configuration ------------------------------------------------------------------------

/// The shop's OpenID Connect provider, as its owner sets it.
#[derive(Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct OidcConfigInput {
    /// The provider's issuer, e.g. `https://accounts.example.com` (discovery is read from
    /// `<issuer>/.well-known/openid-configuration`).
    pub issuer_url: String,
    pub client_id: String,
    /// Required the first time; omit it to keep the stored one. Never returned.
    #[serde(default)]
    pub client_secret: Option<String>,
    /// `customer` or `staff`: who logs in through this provider; first logins create this kind.
    pub account_kind: String,
    /// Staff only: the role given to staff created on their first login (none if omitted).
    #[serde(default)]
    pub staff_role: Option<String>,
    /// Path on this shop the browser lands on after logging in (default `/`).
    #[serde(default)]
    pub return_path: Option<String>,
    /// Staff only: the provider becomes the only way in for staff other than owners. Their
    /// password logins are refused, and their accounts are linked to the provider identity with
    /// the same verified email on first login without asking (owners are always asked).
    #[serde(default)]
    pub staff_sso_only: Option<bool>,
    /// Required: the signed-in owner's current password. Who sets the provider decides who may
    /// sign in as whom, so this asks for it afresh.
    #[serde(default)]
    pub current_password: Option<String>,
}

impl std::fmt::Debug for OidcConfigInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The secret and the password never print.
        f.debug_struct("OidcConfigInput")
            .field("issuer_url", &self.issuer_url)
            .field("client_id", &self.client_id)
            .field("account_kind", &self.account_kind)
            .field("staff_role", &self.staff_role)
            .field("staff_sso_only", &self.staff_sso_only)
            .finish_non_exhaustive()
    }
}

/// The shop's OpenID Connect provider, as the API shows it (never with the secret).
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct OidcConfig {
    pub issuer_url: String,
    pub client_id: String,
    /// Whether a client secret is stored (it is never shown).
    pub client_secret_set: bool,
    pub account_kind: UserKind,
    pub staff_role: Option<String>,
    pub return_path: String,
    /// Staff sign in only through the provider (owners excepted).
    pub staff_sso_only: bool,
    /// Register this as the redirect URI at the provider.
    pub redirect_uri: String,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = oidc_provider)]
struct ProviderRow {
    issuer_url: String,
    client_id: String,
    client_secret_encrypted: Vec<u8>,
    client_secret_nonce: Vec<u8>,
    account_kind: String,
    staff_role: Option<String>,
    return_path: String,
    staff_sso_only: bool,
    modified_at: DateTime<Utc>,
    version: i64,
}

impl ProviderRow {
    fn kind(&self) -> UserKind {
        UserKind::parse(&self.account_kind).unwrap_or(UserKind::Customer)
    }

    fn into_config(self, base_url: &str) -> OidcConfig {
        let kind = self.kind();
        OidcConfig {
            issuer_url: self.issuer_url,
            client_id: self.client_id,
            client_secret_set: !self.client_secret_encrypted.is_empty(),
            account_kind: kind,
            staff_role: self.staff_role,
            return_path: self.return_path,
            staff_sso_only: self.staff_sso_only,
            redirect_uri: callback_url(base_url, kind),
            modified_at: self.modified_at,
            version: self.version,
        }
    }
}

fn area_path(kind: UserKind) -> &'static str {
    match kind {
        UserKind::Customer => areas::STORE,
        UserKind::Staff => areas::ADMIN,
    }
}

fn callback_url(base_url: &str, kind: UserKind) -> String {
    format!("{base_url}{}/auth/oidc/callback", area_path(kind))
}

/// A path on this shop: starts with one `/` (`//evil.example` would leave the shop), no
/// backslashes or control characters (some browsers read `/\evil.example` as another host), no
/// fragment (the callback may add its own).
fn parse_return_path(raw: &str) -> Result<String, IdentityError> {
    let ok = raw.starts_with('/')
        && !raw.starts_with("//")
        && raw.len() <= 2000
        && !raw.chars().any(|c| matches!(c, '\\' | '#') || c.is_control() || c.is_whitespace());
    if ok {
        Ok(raw.to_string())
    } else {
        Err(IdentityError::field("return_path", "a path on this shop starting with a single /, such as /account"))
    }
}

fn parse_issuer(raw: &str) -> Result<IssuerUrl, IdentityError> {
    let invalid = || IdentityError::field("issuer_url", "an http(s) URL such as https://accounts.example.com");
    let url = url::Url::parse(raw.trim()).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "https" | "http") || url.host().is_none() || raw.len() > 2000 {
        return Err(invalid());
    }
    IssuerUrl::new(raw.trim().to_string()).map_err(|_| invalid())
}

/// The issuer as configured, if the server may call it: as [`parse_issuer`], plus the outbound
/// guard (a public address, https), resolving a host name once to say so early.
async fn check_issuer(raw: &str, outbound: &Outbound) -> Result<IssuerUrl, IdentityError> {
    let issuer = parse_issuer(raw)?;
    outbound::check_target(raw.trim(), outbound.policy())
        .await
        .map_err(|refused| IdentityError::field("issuer_url", refused.to_string()))?;
    Ok(issuer)
}

/// What the client secret is sealed for (see `agora_kernel::sealing`); the shop's id is its place.
const SECRET_PURPOSE: &str = "oidc-client-secret";

/// The sealed secret as its two columns: nonce, then ciphertext with tag.
fn seal_secret(module: &IdentityModule, tenant: &TenantContext, secret: &str) -> Result<(Vec<u8>, Vec<u8>), OidcError> {
    let sealed = module
        .inner
        .sealer
        .seal(SECRET_PURPOSE, tenant.id.as_bytes(), secret.as_bytes())
        .map_err(|_| OidcError::Crypto)?;
    let (nonce, body) = sealed.split_at(12);
    Ok((body.to_vec(), nonce.to_vec()))
}

fn open_secret(module: &IdentityModule, tenant: &TenantContext, row: &ProviderRow) -> Result<String, OidcError> {
    Ok(open_secret_noting_staleness(module, tenant.id, row)?.0)
}

fn open_secret_noting_staleness(
    module: &IdentityModule,
    tenant: uuid::Uuid,
    row: &ProviderRow,
) -> Result<(String, bool), OidcError> {
    let sealed = [row.client_secret_nonce.as_slice(), &row.client_secret_encrypted].concat();
    module.inner.sealer.open_text(SECRET_PURPOSE, tenant.as_bytes(), &sealed).map_err(|_| OidcError::Crypto)
}

impl IdentityModule {
    /// Seals the shop's OIDC client secret under the current key if an earlier key sealed it.
    pub(crate) async fn reseal_client_secret(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: &TenantContext,
    ) -> Result<bool, IdentityError> {
        let Some(row) = provider_row(conn).await? else { return Ok(false) };
        let unopenable = |_| IdentityError::Sealing("the shop's OIDC client secret does not open".into());
        let (secret, stale) = open_secret_noting_staleness(self, tenant.id, &row).map_err(unopenable)?;
        if !stale {
            return Ok(false);
        }
        let (sealed, nonce) = seal_secret(self, tenant, &secret).map_err(unopenable)?;
        diesel::update(oidc_provider::table)
            .set((oidc_provider::client_secret_encrypted.eq(sealed), oidc_provider::client_secret_nonce.eq(nonce)))
            .execute(conn)
            .await?;
        Ok(true)
    }
}

async fn provider_row(conn: &mut AsyncPgConnection) -> QueryResult<Option<ProviderRow>> {
    oidc_provider::table.select(ProviderRow::as_select()).first(conn).await.optional()
}

/// Whether the staff member `user` must sign in through the provider instead of a password: the
/// owner made it the staff's only way in, and `user` is not an owner (owners keep their password
/// so a broken provider never locks the shop out).
pub(crate) async fn password_login_refused(
    conn: &mut AsyncPgConnection,
    user: uuid::Uuid,
) -> Result<bool, IdentityError> {
    let enforced = provider_row(conn).await?.is_some_and(|p| p.kind() == UserKind::Staff && p.staff_sso_only);
    Ok(enforced && !store::is_active_owner(conn, user).await?)
}

/// The permissions a role carries (built-in roles' live in code).
async fn role_permission_names(conn: &mut AsyncPgConnection, key: &str) -> Result<BTreeSet<String>, OidcError> {
    let role: Option<(uuid::Uuid, bool)> = roles_t::table
        .filter(roles_t::key.eq(key))
        .select((roles_t::id, roles_t::builtin))
        .first(conn)
        .await
        .optional()?;
    let (id, builtin) = role.ok_or_else(|| IdentityError::field("staff_role", format!("no role {key}")))?;
    Ok(match crate::roles::built_in(key).filter(|_| builtin) {
        Some(role) => role.permissions.iter().map(|p| p.to_string()).collect(),
        None => role_permissions::table
            .filter(role_permissions::role_id.eq(id))
            .select(role_permissions::permission)
            .load::<String>(conn)
            .await?
            .into_iter()
            .collect(),
    })
}

impl IdentityModule {
    async fn oidc_config(&self, tenant: &TenantContext, base_url: &str) -> Result<OidcConfig, OidcError> {
        let row = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| Ok::<_, OidcError>(provider_row(conn).await?))
            .await?;
        let row = row.ok_or(OidcError::Identity(IdentityError::NotFound("OIDC configuration")))?;
        Ok(row.into_config(base_url))
    }

    /// Sets the shop's provider: an owner's act, with their current password. Who configures it
    /// must also hold every permission of the role new staff get (owners do).
    async fn put_oidc_config(
        &self,
        tenant: &TenantContext,
        input: OidcConfigInput,
        principal: &Principal,
        origin: &RequestOrigin,
    ) -> Result<OidcConfig, OidcError> {
        let owner = owner_of(principal)?;
        check_issuer(&input.issuer_url, &self.inner.outbound).await?;
        let client_id = input.client_id.trim().to_string();
        if client_id.is_empty() || client_id.len() > 255 {
            return Err(IdentityError::field("client_id", "1 to 255 characters").into());
        }
        let kind = UserKind::parse(&input.account_kind)
            .ok_or_else(|| IdentityError::field("account_kind", "one of customer, staff"))?;
        let staff_role = input.staff_role.map(|r| r.trim().to_string()).filter(|r| !r.is_empty());
        if kind == UserKind::Customer && staff_role.is_some() {
            return Err(IdentityError::field("staff_role", "only for account_kind staff").into());
        }
        let return_path = parse_return_path(input.return_path.as_deref().unwrap_or("/"))?;
        let staff_sso_only = input.staff_sso_only.unwrap_or(false);
        if kind == UserKind::Customer && staff_sso_only {
            return Err(IdentityError::field("staff_sso_only", "only for account_kind staff").into());
        }
        self.reauthenticate_owner(tenant, owner, input.current_password, origin).await?;
        let grantor = Grantor::Principal(principal.clone());
        let sealed = match input.client_secret.as_deref() {
            Some(s) if s.is_empty() || s.len() > 1000 => {
                return Err(IdentityError::field("client_secret", "1 to 1000 characters").into())
            }
            Some(s) => Some(seal_secret(self, tenant, s)?),
            None => None,
        };
        let issuer_url = input.issuer_url.trim().to_string();
        let (actor, ip) = (grantor.actor_name(), origin.ip.clone());
        let row = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                if let Some(role) = &staff_role {
                    grantor.check(&role_permission_names(conn, role).await?)?;
                }
                let existing = provider_row(conn).await?;
                let (secret, nonce) = match (sealed, existing) {
                    (Some(pair), _) => pair,
                    (None, Some(row)) => (row.client_secret_encrypted, row.client_secret_nonce),
                    (None, None) => {
                        return Err(IdentityError::field("client_secret", "required when configuring OIDC").into())
                    }
                };
                let row = diesel::insert_into(oidc_provider::table)
                    .values((
                        oidc_provider::id.eq(true),
                        oidc_provider::issuer_url.eq(&issuer_url),
                        oidc_provider::client_id.eq(&client_id),
                        oidc_provider::client_secret_encrypted.eq(&secret),
                        oidc_provider::client_secret_nonce.eq(&nonce),
                        oidc_provider::account_kind.eq(kind.as_str()),
                        oidc_provider::staff_role.eq(&staff_role),
                        oidc_provider::return_path.eq(&return_path),
                        oidc_provider::staff_sso_only.eq(staff_sso_only),
                        oidc_provider::modified_by.eq(&actor),
                    ))
                    .on_conflict(oidc_provider::id)
                    .do_update()
                    .set((
                        oidc_provider::issuer_url.eq(&issuer_url),
                        oidc_provider::client_id.eq(&client_id),
                        oidc_provider::client_secret_encrypted.eq(&secret),
                        oidc_provider::client_secret_nonce.eq(&nonce),
                        oidc_provider::account_kind.eq(kind.as_str()),
                        oidc_provider::staff_role.eq(&staff_role),
                        oidc_provider::return_path.eq(&return_path),
                        oidc_provider::staff_sso_only.eq(staff_sso_only),
                        oidc_provider::modified_by.eq(&actor),
                        oidc_provider::modified_at.eq(diesel::dsl::now),
                        oidc_provider::version.eq(oidc_provider::version + 1),
                    ))
                    .returning(ProviderRow::as_returning())
                    .get_result(conn)
                    .await?;
                let details = serde_json::json!({ "issuer_url": issuer_url, "client_id": client_id,
                    "account_kind": kind.as_str(), "staff_role": staff_role, "staff_sso_only": staff_sso_only });
                store::audit(conn, &grantor.audit_actor(), "oidc.configured", None, ip.as_deref(), details).await?;
                Ok::<_, OidcError>(row)
            })
            .await?;
        self.inner.discovery.invalidate(&row.issuer_url).await;
        Ok(row.into_config(&self.shop_url(tenant).await?))
    }

    /// Removes the provider (an owner's act: with `staff_sso_only` it is the staff's way in).
    async fn delete_oidc_config(
        &self,
        tenant: &TenantContext,
        principal: &Principal,
        ip: Option<String>,
    ) -> Result<(), OidcError> {
        let owner = owner_of(principal)?;
        let actor = principal.actor();
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                if !store::is_active_owner(conn, owner).await? {
                    return Err(IdentityError::OwnerOnly(OWNER_ONLY).into());
                }
                let gone = diesel::delete(oidc_provider::table).execute(conn).await?;
                diesel::delete(oidc_pending_links::table).execute(conn).await?;
                if gone == 0 {
                    return Err(IdentityError::NotFound("OIDC configuration").into());
                }
                diesel::delete(oidc_logins::table).execute(conn).await?;
                store::audit(conn, &actor, "oidc.removed", None, ip.as_deref(), serde_json::json!({})).await?;
                Ok::<_, OidcError>(())
            })
            .await
    }
}

const OWNER_ONLY: &str = "only the shop's owner, signed in as themselves, may change how staff and customers sign in \
     (not an API key, not another role)";

/// The signed-in staff member behind `principal`, who must still prove to be an owner.
fn owner_of(principal: &Principal) -> Result<uuid::Uuid, IdentityError> {
    match principal {
        Principal::Staff { user_id, .. } => Ok(*user_id),
        _ => Err(IdentityError::OwnerOnly(OWNER_ONLY)),
    }
}

impl IdentityModule {
    /// Checks that `user` is an active owner who just typed their current password. A wrong
    /// password counts against the same throttle as their logins, so this is no side door for
    /// guessing it.
    async fn reauthenticate_owner(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        password: Option<String>,
        origin: &RequestOrigin,
    ) -> Result<(), IdentityError> {
        let password = password.filter(|p| !p.is_empty()).ok_or_else(|| {
            IdentityError::field("current_password", "required: enter your current password to change sign-in settings")
        })?;
        let (scope, rules) = (ThrottleScope::Shop(tenant.id), self.staff_login_rules(origin.ip.as_deref()));
        // Counted before the password is checked, as logins are: parallel guesses queue on the count.
        let (reserved, row) = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let row = store::user_by_id(conn, user).await?.filter(|u| u.active() && u.kind() == UserKind::Staff);
                let Some(row) = row else { return Err(IdentityError::Unauthenticated) };
                if !store::is_active_owner(conn, user).await? {
                    return Err(IdentityError::OwnerOnly(OWNER_ONLY));
                }
                let rules = rules(&row.email);
                Ok((throttle::reserve(conn, scope, &rules).await?, row))
            })
            .await?;
        let reservation = reserved.map_err(|w| IdentityError::Throttled { retry_after_secs: w.retry_after_secs })?;
        if self.passwords().verify(secrecy::SecretString::from(password), row.password_hash.clone()).await? {
            self.db()
                .tenant_tx(&tenant.schema, async move |conn| Ok::<_, IdentityError>(reservation.succeeded(conn).await?))
                .await?;
            return Ok(());
        }
        let ip = origin.ip.clone();
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let subject = Some(format!("user:{user}"));
                let details = serde_json::json!({ "for": "oidc.configure" });
                store::audit(conn, &Actor::User(user), "reauthentication.failed", subject, ip.as_deref(), details)
                    .await?;
                Ok::<_, IdentityError>(())
            })
            .await?;
        Err(IdentityError::field("current_password", "is not your current password"))
    }
}

impl Grantor {
    fn actor_name(&self) -> String {
        self.audit_actor().audit_name()
    }

    fn audit_actor(&self) -> Actor {
        match self {
            Grantor::System(what) => Actor::System(what),
            Grantor::Principal(p) => p.actor(),
        }
    }
}

// ---- the login flow -----------------------------------------------------------------------

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct HttpFailure(String);

/// One provider call through the platform's guarded client: every URL (the issuer's, and the
/// keys, token and userinfo URLs its discovery document names) is checked against the outbound
/// policy, and redirects are not followed, since either would let a provider make us call
/// arbitrary hosts.
async fn send(
    outbound: Outbound,
    request: openidconnect::HttpRequest,
) -> Result<openidconnect::HttpResponse, HttpFailure> {
    let mut request = reqwest::Request::try_from(request).map_err(|e| HttpFailure(e.to_string()))?;
    *request.timeout_mut() = Some(PROVIDER_TIMEOUT);
    let response = outbound.send(request).await.map_err(|e| HttpFailure(e.to_string()))?;
    let mut builder = http::Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        builder = builder.header(name.as_str(), value.as_bytes());
    }
    let body = response.bytes().await.map_err(|e| HttpFailure(e.to_string()))?;
    builder.body(body.to_vec()).map_err(|e| HttpFailure(e.to_string()))
}

impl IdentityModule {
    /// The provider's discovery document: from the cache, or fetched (with its keys) through the
    /// guarded client. A stored issuer the policy now refuses is never called.
    async fn provider_metadata(&self, issuer_url: &str) -> Result<Arc<CoreProviderMetadata>, OidcError> {
        let issuer = parse_issuer(issuer_url)?;
        outbound::check_url(issuer_url.trim(), self.inner.outbound.policy()).map_err(OidcError::IssuerRefused)?;
        if let Some(cached) = self.inner.discovery.get(issuer_url).await {
            return Ok(cached);
        }
        let http = self.inner.outbound.clone();
        let metadata = CoreProviderMetadata::discover_async(issuer, &|r| send(http.clone(), r))
            .await
            .map_err(|e| OidcError::Provider(format!("discovery: {e}")))?;
        let metadata = Arc::new(metadata);
        self.inner.discovery.insert(issuer_url.to_string(), metadata.clone()).await;
        Ok(metadata)
    }
}

/// Where the browser goes next, and the cookies to set on the way.
pub(crate) struct OidcRedirect {
    pub location: String,
    pub cookies: Vec<Cookie<'static>>,
}

struct LoginRow {
    browser_hash: Vec<u8>,
    account_kind: String,
    nonce: String,
    pkce_verifier: String,
    redirect_uri: String,
    expires_at: DateTime<Utc>,
}

/// The verified facts about who logged in at the provider.
struct ProviderIdentity {
    issuer: String,
    subject: String,
    email: String,
    email_verified: bool,
    name: String,
}

impl IdentityModule {
    fn binding_cookie(&self, kind: UserKind, value: Option<String>) -> Cookie<'static> {
        let mut cookie = Cookie::build(BINDING_COOKIE, value.clone().unwrap_or_default())
            .http_only(true)
            .secure(self.settings().secure_cookies)
            // Lax: the provider's redirect back is a top-level GET, which Lax cookies accompany.
            .same_site(SameSite::Lax)
            .path(format!("{}/auth/oidc", area_path(kind)))
            .finish();
        match value {
            Some(_) => cookie.set_max_age(actix_web::cookie::time::Duration::minutes(LOGIN_TTL_MINUTES)),
            None => cookie.make_removal(),
        }
        cookie
    }

    async fn configured(&self, tenant: &TenantContext, kind: UserKind) -> Result<ProviderRow, OidcError> {
        let row = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| Ok::<_, OidcError>(provider_row(conn).await?))
            .await?;
        row.filter(|r| r.kind() == kind).ok_or(OidcError::NotConfigured(kind.as_str()))
    }

    /// Begins a login: remembers state, nonce and PKCE verifier, and sends the browser to the provider.
    #[tracing::instrument(skip_all, fields(tenant = %tenant.slug, kind = kind.as_str()))]
    pub(crate) async fn oidc_start(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        _origin: &RequestOrigin,
    ) -> Result<OidcRedirect, OidcError> {
        let provider = self.configured(tenant, kind).await?;
        let metadata = self.provider_metadata(&provider.issuer_url).await?;
        // The shop's configured address, never the request's Host: the provider sends the code there.
        let redirect_uri = callback_url(&self.shop_url(tenant).await?, kind);
        let client = CoreClient::from_provider_metadata((*metadata).clone(), ClientId::new(provider.client_id), None)
            .set_redirect_uri(RedirectUrl::new(redirect_uri.clone()).map_err(|e| OidcError::Provider(e.to_string()))?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random)
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();
        let binding = tokens::random_token(32);
        let expires_at = Utc::now() + chrono::Duration::minutes(LOGIN_TTL_MINUTES);
        let (state_hash, browser_hash) = (tokens::digest(state.secret()), tokens::digest(&binding));
        let (nonce, verifier) = (nonce.secret().clone(), verifier.secret().clone());
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                // Logins abandoned at the provider are swept here rather than by a job.
                diesel::delete(oidc_logins::table.filter(oidc_logins::expires_at.lt(Utc::now()))).execute(conn).await?;
                diesel::insert_into(oidc_logins::table)
                    .values((
                        oidc_logins::state_hash.eq(state_hash),
                        oidc_logins::browser_hash.eq(browser_hash),
                        oidc_logins::account_kind.eq(kind.as_str()),
                        oidc_logins::nonce.eq(nonce),
                        oidc_logins::pkce_verifier.eq(verifier),
                        oidc_logins::redirect_uri.eq(redirect_uri),
                        oidc_logins::expires_at.eq(expires_at),
                    ))
                    .execute(conn)
                    .await?;
                Ok::<_, OidcError>(())
            })
            .await?;
        Ok(OidcRedirect { location: url.to_string(), cookies: vec![self.binding_cookie(kind, Some(binding))] })
    }

    /// Finishes a login: checks the state against this browser, exchanges the code, verifies the
    /// ID token and grants a session to the found, linked or created account.
    #[tracing::instrument(skip_all, fields(tenant = %tenant.slug, kind = kind.as_str()))]
    pub(crate) async fn oidc_callback(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        query: CallbackQuery,
        binding: Option<String>,
        origin: &RequestOrigin,
    ) -> Result<(OidcRedirect, Option<String>), OidcError> {
        let state = query.state.filter(|s| !s.is_empty()).ok_or_else(|| IdentityError::field("state", "required"))?;
        // The state is consumed first, whatever happens next: a callback works at most once.
        let state_hash = tokens::digest(&state);
        let login = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let row = diesel::delete(oidc_logins::table.filter(oidc_logins::state_hash.eq(state_hash)))
                    .returning((
                        oidc_logins::browser_hash,
                        oidc_logins::account_kind,
                        oidc_logins::nonce,
                        oidc_logins::pkce_verifier,
                        oidc_logins::redirect_uri,
                        oidc_logins::expires_at,
                    ))
                    .get_result::<(Vec<u8>, String, String, String, String, DateTime<Utc>)>(conn)
                    .await
                    .optional()?;
                Ok::<_, OidcError>(row)
            })
            .await?
            .map(|(browser_hash, account_kind, nonce, pkce_verifier, redirect_uri, expires_at)| LoginRow {
                browser_hash,
                account_kind,
                nonce,
                pkce_verifier,
                redirect_uri,
                expires_at,
            })
            .ok_or(OidcError::BadState)?;
        let bound = binding.is_some_and(|b| tokens::digest(&b) == login.browser_hash);
        if !bound || login.expires_at < Utc::now() || login.account_kind != kind.as_str() {
            return Err(OidcError::BadState);
        }
        if let Some(error) = query.error {
            let description = query.error_description.unwrap_or_default();
            return Err(OidcError::Refused(format!("{error} {description}").trim().to_string()));
        }
        let code = query.code.filter(|c| !c.is_empty()).ok_or_else(|| IdentityError::field("code", "required"))?;
        let provider = self.configured(tenant, kind).await?;
        let secret = open_secret(self, tenant, &provider)?;
        let identity = self.verify_at_provider(&provider, secret, code, login).await?;
        let (this, context, ip, device) = (self.clone(), tenant.clone(), origin.ip.clone(), origin.device());
        let rules = LinkRules {
            staff_role: provider.staff_role.clone(),
            staff_sso_only: kind == UserKind::Staff && provider.staff_sso_only,
        };
        let outcome = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let (user, how) = match find_or_create(conn, kind, &identity, &rules).await? {
                    Found::Account(user, how) => (user, how),
                    Found::LinkPending { user, token } => {
                        let details = serde_json::json!({ "kind": kind.as_str(), "issuer": identity.issuer });
                        let subject = Some(format!("user:{user}"));
                        store::audit(conn, &Actor::Anonymous, "oidc.link_requested", subject, ip.as_deref(), details)
                            .await?;
                        return Ok(Outcome::LinkPending(token));
                    }
                };
                if !user.active() {
                    return Err(OidcError::Disabled);
                }
                // The provider proved who this is, not that they hold the second factor the
                // account has switched on here: as after a password, that still has to be shown.
                if let Some(mfa) = this.mfa_challenge(conn, context.id, &user, Client::Browser).await? {
                    return Ok(Outcome::Mfa(mfa.challenge));
                }
                let details = serde_json::json!({ "kind": kind.as_str(), "method": "oidc",
                    "issuer": identity.issuer, "account": how });
                let subject = Some(format!("user:{}", user.id));
                store::audit(conn, &Actor::User(user.id), "login.succeeded", subject, ip.as_deref(), details).await?;
                let grant = this.grant(conn, &context, user, Client::Browser, &device).await?;
                Ok::<_, OidcError>(Outcome::Granted(Box::new(grant)))
            })
            .await?;
        let mut location = format!("{}{}", self.shop_url(tenant).await?, provider.return_path);
        // A fragment never reaches a server, so what it carries stays out of access logs and
        // Referer headers.
        let session = match outcome {
            Outcome::Granted(grant) => grant.session_id,
            Outcome::Mfa(challenge) => {
                // The page finishes at `…/auth/login/mfa`.
                location.push_str("#mfa_challenge=");
                location.push_str(&challenge);
                None
            }
            Outcome::LinkPending(token) => {
                // The page asks the person to sign in as usual and confirm at `…/me/oidc-link`.
                location.push_str("#oidc_link=");
                location.push_str(&token);
                None
            }
        };
        let redirect = OidcRedirect { location, cookies: vec![self.binding_cookie(kind, None)] };
        Ok((redirect, session))
    }

    /// The provider-facing half of the callback: code exchange and ID token verification.
    async fn verify_at_provider(
        &self,
        provider: &ProviderRow,
        secret: String,
        code: String,
        login: LoginRow,
    ) -> Result<ProviderIdentity, OidcError> {
        let outbound = self.inner.outbound.clone();
        let http = |r| send(outbound.clone(), r);
        let metadata = self.provider_metadata(&provider.issuer_url).await?;
        let client = CoreClient::from_provider_metadata(
            (*metadata).clone(),
            ClientId::new(provider.client_id.clone()),
            Some(ClientSecret::new(secret)),
        )
        .set_redirect_uri(RedirectUrl::new(login.redirect_uri).map_err(|e| OidcError::Provider(e.to_string()))?);
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|e| OidcError::Provider(format!("token endpoint: {e}")))?
            .set_pkce_verifier(PkceCodeVerifier::new(login.pkce_verifier))
            .request_async(&http)
            .await
            .map_err(|e| match e {
                // The provider looked at the code and said no (used, expired, wrong verifier).
                RequestTokenError::ServerResponse(r) => OidcError::Refused(format!("token exchange: {}", r.error())),
                other => OidcError::Provider(format!("token exchange: {other}")),
            })?;
        let id_token = token.id_token().ok_or_else(|| OidcError::Provider("no ID token in the answer".into()))?;
        let verifier = client.id_token_verifier();
        let claims = match id_token.claims(&verifier, &Nonce::new(login.nonce)) {
            Ok(claims) => claims,
            Err(e) => {
                // Perhaps the provider rotated its keys since the document was cached: the next
                // login reads them afresh.
                self.inner.discovery.invalidate(&provider.issuer_url).await;
                return Err(OidcError::BadIdToken(e.to_string()));
            }
        };
        if let Some(expected) = claims.access_token_hash() {
            let alg = id_token.signing_alg().map_err(|e| OidcError::BadIdToken(e.to_string()))?;
            let key = id_token.signing_key(&verifier).map_err(|e| OidcError::BadIdToken(e.to_string()))?;
            let actual = AccessTokenHash::from_token(token.access_token(), alg, key)
                .map_err(|e| OidcError::BadIdToken(e.to_string()))?;
            if actual != *expected {
                return Err(OidcError::BadIdToken("the access token does not match at_hash".into()));
            }
        }
        let subject = claims.subject().clone();
        let mut email = claims.email().map(|e| e.as_str().to_string());
        let mut email_verified = claims.email_verified();
        let mut name = claims.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string());
        // Conforming providers keep profile claims out of the ID token in the code flow; the
        // userinfo endpoint has them (and the crate checks its subject matches the ID token's).
        if email.is_none() {
            let info: CoreUserInfoClaims = client
                .user_info(token.access_token().clone(), Some(subject.clone()))
                .map_err(|e| OidcError::Provider(format!("userinfo: {e}")))?
                .request_async(&http)
                .await
                .map_err(|e| OidcError::Provider(format!("userinfo: {e}")))?;
            email = info.email().map(|e| e.as_str().to_string());
            email_verified = info.email_verified();
            name = name.or_else(|| info.name().and_then(|n| n.get(None)).map(|n| n.as_str().to_string()));
        }
        let email = parse_email(&email.ok_or(OidcError::NoEmail)?).map_err(|_| OidcError::NoEmail)?;
        Ok(ProviderIdentity {
            issuer: claims.issuer().as_str().to_string(),
            subject: subject.as_str().to_string(),
            email,
            email_verified: email_verified == Some(true),
            name: name.unwrap_or_default().chars().take(200).collect(),
        })
    }
}

/// What the callback ends in.
enum Outcome {
    Granted(Box<crate::sessions::Grant>),
    /// The account has a second factor on; the challenge finishes the login.
    Mfa(String),
    /// An existing account's holder must confirm the link; the token names it.
    LinkPending(String),
}

/// How the provider's identities meet the shop's accounts.
struct LinkRules {
    /// Role of staff created on their first login.
    staff_role: Option<String>,
    /// The owner made the provider the staff's only way in: staff (never owners) are linked by
    /// their verified email without asking.
    staff_sso_only: bool,
}

/// An account for a provider identity, or a link its holder has to confirm first.
enum Found {
    /// The account, and how it was found (`existing`, `linked`, `created`) for the audit log.
    Account(UserRow, &'static str),
    LinkPending {
        user: uuid::Uuid,
        token: String,
    },
}

/// The account of a provider identity: already linked, created now, or linked now where the
/// owner's SSO-only rule allows it; otherwise an existing account with the same (verified) email
/// gets a pending link for its holder to confirm.
async fn find_or_create(
    conn: &mut AsyncPgConnection,
    kind: UserKind,
    identity: &ProviderIdentity,
    rules: &LinkRules,
) -> Result<Found, OidcError> {
    let linked: Option<uuid::Uuid> = oidc_identities::table
        .filter(oidc_identities::issuer.eq(&identity.issuer))
        .filter(oidc_identities::subject.eq(&identity.subject))
        .select(oidc_identities::user_id)
        .first(conn)
        .await
        .optional()?;
    if let Some(id) = linked {
        let user = store::user_by_id(conn, id).await?.filter(|u| u.kind() == kind);
        if let Some(user) = user {
            diesel::update(oidc_identities::table)
                .filter(oidc_identities::issuer.eq(&identity.issuer))
                .filter(oidc_identities::subject.eq(&identity.subject))
                .set(oidc_identities::last_login_at.eq(diesel::dsl::now))
                .execute(conn)
                .await?;
            return Ok(Found::Account(user, "existing"));
        }
        // The account is gone (erased): the identity starts afresh below.
        diesel::delete(oidc_identities::table)
            .filter(oidc_identities::issuer.eq(&identity.issuer))
            .filter(oidc_identities::subject.eq(&identity.subject))
            .execute(conn)
            .await?;
    }
    let (user, how) = match store::user_by_email(conn, kind, &identity.email).await? {
        // Linking hands the provider's user an existing account: never when either side has not
        // proven it owns the address (a provider account with someone else's unverified email
        // would take over theirs), and even then only with the holder's say-so, since whoever
        // runs the provider can claim any verified address.
        Some(user) if identity.email_verified && user.email_verified_at.is_some() => {
            let silently = rules.staff_sso_only && !store::is_active_owner(conn, user.id).await?;
            if !silently {
                let token = tokens::random_token(32);
                diesel::insert_into(oidc_pending_links::table)
                    .values((
                        oidc_pending_links::token_hash.eq(tokens::digest(&token)),
                        oidc_pending_links::user_id.eq(user.id),
                        oidc_pending_links::issuer.eq(&identity.issuer),
                        oidc_pending_links::subject.eq(&identity.subject),
                        oidc_pending_links::expires_at
                            .eq(Utc::now() + chrono::Duration::minutes(PENDING_LINK_TTL_MINUTES)),
                    ))
                    .execute(conn)
                    .await?;
                return Ok(Found::LinkPending { user: user.id, token });
            }
            (user, "linked")
        }
        Some(_) => return Err(OidcError::UnverifiedLink),
        None => {
            let actor = Actor::System("oidc");
            let user = store::insert_user(conn, kind, &identity.email, &identity.name, None, &actor).await?;
            let user = if identity.email_verified {
                diesel::update(users::table.filter(users::id.eq(user.id)))
                    .set(users::email_verified_at.eq(diesel::dsl::now))
                    .returning(UserRow::as_returning())
                    .get_result(conn)
                    .await?
            } else {
                user
            };
            if let (UserKind::Staff, Some(role)) = (kind, &rules.staff_role) {
                crate::access::assign(conn, user.id, std::slice::from_ref(role), &Grantor::System("oidc")).await?;
            }
            (user, "created")
        }
    };
    diesel::insert_into(oidc_identities::table)
        .values((
            oidc_identities::issuer.eq(&identity.issuer),
            oidc_identities::subject.eq(&identity.subject),
            oidc_identities::user_id.eq(user.id),
        ))
        .execute(conn)
        .await?;
    Ok(Found::Account(user, how))
}

impl IdentityModule {
    /// The signed-in `user` confirms a pending link: from now on the provider identity signs in
    /// as this account. A token of another account's link, used or expired is refused alike.
    async fn confirm_oidc_link(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        token: &str,
        ip: Option<String>,
    ) -> Result<(), OidcError> {
        let token_hash = tokens::digest(token);
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                diesel::delete(oidc_pending_links::table.filter(oidc_pending_links::expires_at.lt(Utc::now())))
                    .execute(conn)
                    .await?;
                let pending: Option<(String, String)> = diesel::delete(
                    oidc_pending_links::table
                        .filter(oidc_pending_links::token_hash.eq(token_hash))
                        .filter(oidc_pending_links::user_id.eq(user)),
                )
                .returning((oidc_pending_links::issuer, oidc_pending_links::subject))
                .get_result(conn)
                .await
                .optional()?;
                let (issuer, subject) = pending.ok_or(IdentityError::BadOneTimeToken)?;
                let linked = diesel::insert_into(oidc_identities::table)
                    .values((
                        oidc_identities::issuer.eq(&issuer),
                        oidc_identities::subject.eq(&subject),
                        oidc_identities::user_id.eq(user),
                    ))
                    .on_conflict_do_nothing()
                    .execute(conn)
                    .await?;
                if linked == 0 {
                    // Another account was linked to this identity meanwhile (or this one already).
                    return Err(IdentityError::BadOneTimeToken.into());
                }
                let details = serde_json::json!({ "issuer": issuer });
                let subject = Some(format!("user:{user}"));
                store::audit(conn, &Actor::User(user), "oidc.linked", subject, ip.as_deref(), details).await?;
                Ok::<_, OidcError>(())
            })
            .await
    }
}

// ---- HTTP -----------------------------------------------------------------------------------

/// What the provider sends back to the callback.
#[derive(Debug, Deserialize, Apiv2Schema)]
pub(crate) struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    /// Set by the provider when the user cancelled or the provider refused.
    error: Option<String>,
    error_description: Option<String>,
}

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
    let origin = crate::http::origin(&req);
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
    let (mut redirect, session) =
        module.oidc_callback(tenant, kind, query, binding, &crate::http::origin(&req)).await?;
    let (name, path) = crate::http::cookie_of(kind);
    // A browser grant always carries a session id.
    redirect.cookies.extend(session.map(|id| crate::http::session_cookie(module, name, path, Some(id))));
    Ok(Redirect(redirect))
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
    let origin = crate::http::origin(&req);
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
    module.delete_oidc_config(&tenant, &auth.principal, crate::http::origin(&req).ip).await?;
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
    let ip = crate::http::origin(&req).ip;
    module.confirm_oidc_link(&tenant, who.user(), &body.token, ip).await?;
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
    let ip = crate::http::origin(&req).ip;
    module.confirm_oidc_link(&tenant, who.user(), &body.token, ip).await?;
    Ok(NoContent)
}

pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/oidc/start").route(web::get().to(store_start)))
        .service(web::resource("/auth/oidc/callback").route(web::get().to(store_callback)))
        .service(web::resource("/me/oidc-link").route(web::post().to(store_confirm_link)));
}

pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/auth/oidc/start").route(web::get().to(admin_start)))
        .service(web::resource("/auth/oidc/callback").route(web::get().to(admin_callback)))
        .service(web::resource("/me/oidc-link").route(web::post().to(admin_confirm_link)))
        .service(
            web::resource("/oidc")
                .route(web::get().to(get_config))
                .route(web::put().to(put_config))
                .route(web::delete().to(delete_config)),
        );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn return_paths_stay_on_the_shop() {
        assert!(parse_return_path("/").is_ok());
        assert!(parse_return_path("/account?tab=orders").is_ok());
        for bad in ["//evil.example", "/a#b", "/\\evil.example", "https://evil.example/", "account", "/a b"] {
            assert!(parse_return_path(bad).is_err(), "{bad}");
        }
    }
}
