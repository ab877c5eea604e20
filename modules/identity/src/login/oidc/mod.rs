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

mod client;
mod flow;

pub(crate) use flow::{
    authorization, binding_cookie, callback_code, configured, confirm_link, landing, remember_login, sign_in,
    take_login, verify_at_provider, CallbackQuery, OidcRedirect,
};

use crate::accounts::parse_email;
use crate::schema::{oidc_identities, oidc_logins, oidc_pending_links, oidc_provider};
use crate::schema::{role_permissions, roles as roles_t, users};
use crate::sessions::Client;
use crate::store::{self, UserRow};
use crate::{tokens, Grantor, IdentityError, IdentityModule, UserKind};
use actix_web::cookie::{Cookie, SameSite};
use agora_kernel::areas;
use agora_kernel::auth::Principal;
use agora_kernel::outbound::{self, Outbound};
use agora_kernel::throttle::{self, ThrottleScope};
use agora_kernel::{Actor, ApiError, DbError, ErrorKind, TenantContext, TenantTx};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, OAuth2TokenResponse,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, RequestTokenError, Scope, TokenResponse,
};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

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
pub(crate) const BINDING_COOKIE: &str = "agora_oidc_binding";
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
pub(crate) struct ProviderRow {
    pub(crate) issuer_url: String,
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
    pub(crate) fn kind(&self) -> UserKind {
        UserKind::parse(&self.account_kind).unwrap_or(UserKind::Customer)
    }

    pub(crate) fn into_config(self, base_url: &str) -> OidcConfig {
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

/// Seals the shop's OIDC client secret under the current key if an earlier key sealed it.
pub(crate) async fn reseal_client_secret(m: &IdentityModule, tx: &mut TenantTx<'_>) -> Result<bool, IdentityError> {
    let tenant = tx.tenant().clone();
    let conn = tx.conn();
    let Some(row) = provider_row(conn).await? else { return Ok(false) };
    let unopenable = |_| IdentityError::Sealing("the shop's OIDC client secret does not open".into());
    let (secret, stale) = open_secret_noting_staleness(m, tenant.id, &row).map_err(unopenable)?;
    if !stale {
        return Ok(false);
    }
    let (sealed, nonce) = seal_secret(m, &tenant, &secret).map_err(unopenable)?;
    diesel::update(oidc_provider::table)
        .set((oidc_provider::client_secret_encrypted.eq(sealed), oidc_provider::client_secret_nonce.eq(nonce)))
        .execute(conn)
        .await?;
    Ok(true)
}

pub(crate) async fn provider_row(conn: &mut AsyncPgConnection) -> QueryResult<Option<ProviderRow>> {
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
    Ok(match crate::access::roles::built_in(key).filter(|_| builtin) {
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

/// The shop's provider as the API shows it; `base_url` is the shop's address.
pub(crate) async fn config(conn: &mut AsyncPgConnection, base_url: &str) -> Result<OidcConfig, OidcError> {
    let row = provider_row(conn).await?;
    let row = row.ok_or(OidcError::Identity(IdentityError::NotFound("OIDC configuration")))?;
    Ok(row.into_config(base_url))
}

/// How shoppers (or staff) can sign in to a shop, for its sign-in page: a password always; the
/// shop's provider when it is set up for them.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct SignInOptions {
    /// Absent when the shop has no provider for this kind of account (it serves either customers
    /// or staff).
    pub single_sign_on: Option<SingleSignOn>,
}

/// The shop's provider as the sign-in page offers it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct SingleSignOn {
    /// What to call the provider on the button ("Sign in with …"): its issuer's host name, the
    /// one name of it the shop's configuration has.
    pub provider: String,
    /// Where the browser goes to sign in: a redirect to the provider.
    pub start_path: String,
}

/// The sign-in options of the shop whose transaction `conn` is.
pub(crate) async fn sign_in_options(conn: &mut AsyncPgConnection, kind: UserKind) -> Result<SignInOptions, OidcError> {
    let provider = provider_row(conn).await?.filter(|row| row.kind() == kind);
    Ok(SignInOptions {
        single_sign_on: provider.map(|row| SingleSignOn {
            provider: url::Url::parse(&row.issuer_url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or(row.issuer_url),
            start_path: match kind {
                UserKind::Customer => "/api/v1/store/auth/oidc/start",
                UserKind::Staff => "/api/v1/admin/auth/oidc/start",
            }
            .to_string(),
        }),
    })
}

/// A provider configuration that passed every check but the owner's password.
pub(crate) struct CheckedConfig {
    issuer_url: String,
    client_id: String,
    client_secret: Option<String>,
    kind: UserKind,
    staff_role: Option<String>,
    return_path: String,
    staff_sso_only: bool,
    pub(crate) current_password: Option<String>,
}

/// Checks a provider configuration field by field (the issuer against the outbound policy too).
pub(crate) async fn check_config(m: &IdentityModule, input: OidcConfigInput) -> Result<CheckedConfig, OidcError> {
    check_issuer(&input.issuer_url, &m.inner.outbound).await?;
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
    Ok(CheckedConfig {
        issuer_url: input.issuer_url.trim().to_string(),
        client_id,
        client_secret: input.client_secret,
        kind,
        staff_role,
        return_path,
        staff_sso_only,
        current_password: input.current_password,
    })
}

/// A sealed client secret as its two columns: ciphertext with tag, then nonce.
pub(crate) type SealedSecret = (Vec<u8>, Vec<u8>);

/// The new client secret, sealed for the shop (`None`: keep the stored one).
pub(crate) fn sealed_client_secret(
    m: &IdentityModule,
    tenant: &TenantContext,
    checked: &CheckedConfig,
) -> Result<Option<SealedSecret>, OidcError> {
    match checked.client_secret.as_deref() {
        Some(s) if s.is_empty() || s.len() > 1000 => {
            Err(IdentityError::field("client_secret", "1 to 1000 characters").into())
        }
        Some(s) => Ok(Some(seal_secret(m, tenant, s)?)),
        None => Ok(None),
    }
}

/// Stores the shop's provider (a checked configuration, its secret sealed or kept). Who sets it
/// must also hold every permission of the role new staff get.
pub(crate) async fn save_provider(
    tx: &mut TenantTx<'_>,
    checked: CheckedConfig,
    sealed: Option<SealedSecret>,
    grantor: &Grantor,
) -> Result<ProviderRow, OidcError> {
    let actor = tx.stamp().by;
    let CheckedConfig { issuer_url, client_id, kind, staff_role, return_path, staff_sso_only, .. } = checked;
    let conn = tx.conn();
    if let Some(role) = &staff_role {
        grantor.check(&role_permission_names(conn, role).await?)?;
    }
    let existing = provider_row(conn).await?;
    let (secret, nonce) = match (sealed, existing) {
        (Some(pair), _) => pair,
        (None, Some(row)) => (row.client_secret_encrypted, row.client_secret_nonce),
        (None, None) => return Err(IdentityError::field("client_secret", "required when configuring OIDC").into()),
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
    tx.audit("oidc.configured", None, details).await?;
    Ok(row)
}

/// Removes the provider (an owner's act: with `staff_sso_only` it is the staff's way in).
pub(crate) async fn delete_provider(tx: &mut TenantTx<'_>, owner: uuid::Uuid) -> Result<(), OidcError> {
    let conn = tx.conn();
    if !store::is_active_owner(conn, owner).await? {
        return Err(IdentityError::OwnerOnly(OWNER_ONLY).into());
    }
    let gone = diesel::delete(oidc_provider::table).execute(conn).await?;
    diesel::delete(oidc_pending_links::table).execute(conn).await?;
    if gone == 0 {
        return Err(IdentityError::NotFound("OIDC configuration").into());
    }
    diesel::delete(oidc_logins::table).execute(conn).await?;
    tx.audit("oidc.removed", None, serde_json::json!({})).await?;
    Ok(())
}

pub(crate) const OWNER_ONLY: &str =
    "only the shop's owner, signed in as themselves, may change how staff and customers sign in \
     (not an API key, not another role)";

/// The signed-in staff member behind `principal`, who must still prove to be an owner.
pub(crate) fn owner_of(principal: &Principal) -> Result<uuid::Uuid, IdentityError> {
    match principal {
        Principal::Staff { user_id, .. } => Ok(*user_id),
        _ => Err(IdentityError::OwnerOnly(OWNER_ONLY)),
    }
}

/// The owner's current password, as the form sent it; required.
pub(crate) fn required_password(password: Option<String>) -> Result<String, IdentityError> {
    password.filter(|p| !p.is_empty()).ok_or_else(|| {
        IdentityError::field("current_password", "required: enter your current password to change sign-in settings")
    })
}

/// Counts a re-authentication of owner `user` against their login throttle (before the password
/// is checked, as logins are: parallel guesses queue on the count); the account must be an
/// active owner.
pub(crate) async fn reserve_reauthentication(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    ip: Option<&str>,
) -> Result<crate::login::throttle::Reserved<UserRow>, IdentityError> {
    let scope = ThrottleScope::Shop(tx.tenant().id);
    let conn = tx.conn();
    let row = store::user_by_id(conn, user).await?.filter(|u| u.active() && u.kind() == UserKind::Staff);
    let Some(row) = row else { return Err(IdentityError::Unauthenticated) };
    if !store::is_active_owner(conn, user).await? {
        return Err(IdentityError::OwnerOnly(OWNER_ONLY));
    }
    let rules = crate::login::throttle::staff_login_rules(m.settings(), &row.email, ip);
    Ok((throttle::reserve(conn, scope, &rules).await?, row))
}

/// A wrong password on re-authentication, in the audit log.
pub(crate) async fn reauthentication_failed(tx: &mut TenantTx<'_>, user: uuid::Uuid) -> Result<(), IdentityError> {
    let details = serde_json::json!({ "for": "oidc.configure" });
    tx.audit("reauthentication.failed", Some(format!("user:{user}")), details).await?;
    Ok(())
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
