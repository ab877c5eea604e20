//! Identity and access: who may do what in a shop and on the platform.
//!
//! - Accounts: a shop's customers and staff (one `users` table, email unique per kind), platform
//!   operators in the control schema. Passwords are argon2id (OWASP parameters), hashed on the
//!   blocking pool; common passwords are refused.
//! - Browsers get an HttpOnly, SameSite=Lax session cookie (an opaque 256-bit id stored hashed,
//!   idle and absolute timeouts, kept in Redis when configured, else in the database:
//!   `sessions/`) plus a CSRF token for unsafe requests; API clients get short-lived
//!   signed access tokens (HS256, the shop in the audience) and rotating refresh tokens whose reuse
//!   revokes their family; integrations get scoped API keys, shown once and stored hashed.
//! - Staff permissions come from roles (built-in and custom); handlers of every module declare
//!   theirs with `agora_kernel::auth::Authorized<perm::…>`, resolved from the [`authenticate`]
//!   middleware's principal; the kernel's extractors also enforce CSRF and the staff MFA policy.
//! - Logins are throttled per account and per client address (the kernel's `throttle`, which
//!   counts each attempt before its verdict; `login/throttle.rs` says what identity counts), answer the
//!   same for an unknown email as for a wrong password, and every security event lands in the
//!   shop's audit log. Registration and reset requests are budgeted per email and per client.
//!
//! - A second factor (TOTP apps, single-use recovery codes) sits between the password check and
//!   `sessions::grant`: the password step hands out a short-lived challenge instead (`login/mfa.rs`). A
//!   shop may require it of staff.
//! - The customers module (above identity) exports and erases a customer's personal data; it
//!   asks identity for the account's part inside its own transaction (`privacy`): erasure
//!   anonymises the account, and never deletes rows that financial records reference.
//!
//! - A shop may name one OpenID Connect provider (`login/oidc/`) for its customers or its staff:
//!   authorization code + PKCE, state and nonce kept server-side and bound to the browser, the
//!   client secret encrypted at rest; first logins create the account. An existing account is
//!   linked only when its holder confirms the link while signed in (or, for staff other than
//!   owners, when the owner made the provider the only way in). Only an owner, re-entering their
//!   password, may change the provider. Provider calls go through the kernel's guarded outbound
//!   client; discovery documents are cached. The session comes from `sessions::grant` like a
//!   password login's.

mod access;
mod accounts;
mod error;
mod http;
mod login;
mod middleware;
mod operators;
mod privacy;
mod schema;
mod sessions;
mod store;
pub mod tokens;

use agora_kernel::outbound::{Outbound, OutboundPolicy};
use agora_kernel::ports::{ShopAddress, TransactionalMail};
use agora_kernel::redis::Redis;
use agora_kernel::sealing::Sealer;
use agora_kernel::Database;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sessions::SessionStore;
use std::sync::Arc;
use std::time::Duration;

pub use error::IdentityError;
pub use middleware::authenticate;

/// Knobs for sessions, tokens and throttling; [`IdentitySettings::default`] is production-sane.
#[derive(Clone)]
pub struct IdentitySettings {
    /// Signs access tokens and seals secrets at rest. Every replica needs the same key.
    pub token_key: SecretString,
    /// The key `token_key` replaced, during a rotation: what it signed or sealed still counts.
    pub token_key_previous: Option<SecretString>,
    /// Mark cookies `Secure` (off only for local development over plain http).
    pub secure_cookies: bool,
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after login, however busy.
    pub session_absolute: Duration,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// Failed logins of one account allowed before delays begin.
    pub free_failures: u32,
    /// Failed logins of one account allowed per hour, delays or not.
    pub max_failures_per_hour: u32,
    /// Failed logins from one client address allowed per hour (across accounts).
    pub max_failures_per_hour_per_ip: u32,
    /// Registration or password-reset requests per email address per hour (each mails it).
    pub mail_requests_per_hour_per_email: u32,
    /// Registration or password-reset requests from one client address per hour.
    pub mail_requests_per_hour_per_ip: u32,
    /// Password hashes run at once (default: one core but one).
    pub hashing_slots: usize,
    /// Password hashes allowed to wait for a slot; past them a request is answered 429 at once.
    pub hashing_queue: usize,
    pub email_link_ttl: Duration,
    /// How long a new staff member's link to set their first password lasts.
    pub invitation_ttl: Duration,
}

impl Default for IdentitySettings {
    fn default() -> Self {
        Self {
            token_key: SecretString::from(tokens::random_token(32)),
            token_key_previous: None,
            secure_cookies: true,
            session_idle: Duration::from_secs(2 * 3600),
            session_absolute: Duration::from_secs(7 * 24 * 3600),
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            free_failures: 5,
            max_failures_per_hour: 100,
            max_failures_per_hour_per_ip: 1000,
            mail_requests_per_hour_per_email: 5,
            mail_requests_per_hour_per_ip: 50,
            hashing_slots: login::hashing::default_slots(),
            // At tens of milliseconds a hash, a full queue still answers within a second or two.
            hashing_queue: login::hashing::default_slots() * 16,
            email_link_ttl: Duration::from_secs(3600),
            invitation_ttl: Duration::from_secs(72 * 3600),
        }
    }
}

/// A shop's account: a customer or a staff member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(rename_all = "snake_case")]
pub enum UserKind {
    Customer,
    Staff,
}

impl UserKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UserKind::Customer => "customer",
            UserKind::Staff => "staff",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "customer" => Some(UserKind::Customer),
            "staff" => Some(UserKind::Staff),
            _ => None,
        }
    }
}

/// An account as its owner and the shop's staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Account {
    pub id: uuid::Uuid,
    pub kind: UserKind,
    pub email: String,
    pub name: String,
    pub email_verified: bool,
    pub disabled: bool,
    /// Role keys (staff only).
    pub roles: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

/// Email and password, as typed into a login form.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
    /// `browser` (default): a session cookie and a CSRF token. `api`: access and refresh tokens.
    #[serde(default)]
    pub client: Option<String>,
}

/// What a successful login or refresh hands out.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct LoginResponse {
    pub account: Account,
    /// Browser logins: send it as `X-CSRF-Token` on every unsafe request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    /// API logins: a bearer token for `Authorization`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    /// Seconds until `access_token` expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
    /// Single use: exchange it at `…/auth/refresh` for a new pair.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Everything the module needs, shared by its handlers and middleware. Cheap to clone.
#[derive(Clone)]
pub struct IdentityModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    settings: IdentitySettings,
    signer: tokens::Signer,
    mail: Option<Arc<dyn TransactionalMail>>,
    address: Option<Arc<dyn ShopAddress>>,
    sessions: SessionStore,
    sealer: Sealer,
    passwords: login::hashing::HashingQueue,
    /// The platform's guarded client for calls to the shops' identity providers.
    outbound: Outbound,
    /// Providers' discovery documents (with their signing keys), by issuer URL.
    discovery: login::oidc::DiscoveryCache,
}

/// What the composition root hands the module besides the database.
#[derive(Default)]
pub struct Wiring {
    /// Sends verification and reset emails (notifications, in practice); without it those
    /// emails are skipped with a warning.
    pub mail: Option<Arc<dyn TransactionalMail>>,
    /// Browser sessions live in Redis when given, in the database otherwise.
    pub redis: Option<Redis>,
    /// Where each shop is reached: the base of every absolute link identity writes (emails,
    /// OpenID Connect redirects). Without it no such link can be made.
    pub address: Option<Arc<dyn ShopAddress>>,
    /// The platform's guarded HTTP client (`agora_kernel::outbound`); without it one that
    /// refuses private addresses is built.
    pub outbound: Option<Outbound>,
}

impl IdentityModule {
    pub fn new(db: Database, settings: IdentitySettings, wiring: Wiring) -> Result<Self, IdentityError> {
        let previous = settings.token_key_previous.as_ref().map(|k| k.expose_secret().as_bytes());
        let signer = tokens::Signer::new(settings.token_key.expose_secret().as_bytes(), previous)
            .map_err(IdentityError::Hashing)?;
        let sealer = Sealer::new(&settings.token_key, settings.token_key_previous.as_ref());
        let sessions = wiring.redis.map_or(SessionStore::Database(sessions::DatabaseSessions), |redis| {
            SessionStore::Redis(sessions::RedisSessions(redis))
        });
        let (mail, address) = (wiring.mail, wiring.address);
        let passwords = login::hashing::HashingQueue::new(settings.hashing_slots, settings.hashing_queue);
        let outbound = match wiring.outbound {
            Some(outbound) => outbound,
            None => Outbound::new(OutboundPolicy::default()).map_err(|e| IdentityError::Outbound(e.to_string()))?,
        };
        let discovery = login::oidc::discovery_cache();
        let inner = Inner { db, settings, signer, mail, address, sessions, sealer, passwords, outbound, discovery };
        Ok(Self { inner: Arc::new(inner) })
    }

    fn db(&self) -> &Database {
        &self.inner.db
    }

    fn settings(&self) -> &IdentitySettings {
        &self.inner.settings
    }

    /// Where every password is hashed and checked (bounded; see `password`).
    fn passwords(&self) -> &login::hashing::HashingQueue {
        &self.inner.passwords
    }
}

impl IdentityModule {
    /// Seals the shop's secrets (OIDC client secret, authenticator seeds) under the current key:
    /// after a key rotation, or for seeds stored before sealing began. How many it rewrote.
    pub async fn reseal_secrets(&self, tenant: &agora_kernel::TenantContext) -> Result<usize, IdentityError> {
        let (this, context) = (self.clone(), tenant.clone());
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let client_secret = usize::from(this.reseal_client_secret(conn, &context).await?);
                Ok(client_secret + this.reseal_seeds(conn, context.id).await?)
            })
            .await
    }
}

pub use access::{ApiKey, AuditEntry, AuditFilter, Grantor, NewApiKey, NewRole, NewStaff, Role};
pub use accounts::RequestOrigin;
pub use http::{Accepted, WithCookie};
pub use login::mfa::{MfaChallenge, MfaCode, MfaDisable, MfaEnrolment, MfaLogin, RecoveryCodes, SecurityPolicy};
pub use login::oidc::{OidcConfig, OidcConfigInput};
pub use login::password::Registration;
pub use operators::{NewOperator, Operator, OperatorLogin, OperatorPasswordChange};
pub use privacy::CustomerAccountData;
pub use sessions::store::ActiveSession;

/// What the customers module asks of identity about a customer's account: inside the customers
/// module's transaction (`conn`), so an export or erasure is all or nothing across both.
impl IdentityModule {
    /// How other modules name a shop account: `customer:<uuid>` or `staff:<uuid>`.
    pub fn account_key(kind: UserKind, id: uuid::Uuid) -> String {
        accounts::account_key(kind, id)
    }

    /// The address that takes an erased customer's email's place wherever a row must stay.
    pub fn anonymous_email(id: uuid::Uuid) -> String {
        privacy::anonymous_email(id)
    }

    /// The email of customer `id` of this shop (not staff, not erased); 404 `customer` otherwise.
    pub async fn customer_email(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        id: uuid::Uuid,
    ) -> Result<String, IdentityError> {
        Ok(privacy::customer(conn, id).await?.email)
    }

    /// Identity's part of customer `id`'s data export; recorded in the audit log as exported
    /// by `actor`.
    pub async fn export_customer_account(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        tenant: &agora_kernel::TenantContext,
        id: uuid::Uuid,
        actor: &agora_kernel::Actor,
        ip: Option<&str>,
    ) -> Result<CustomerAccountData, IdentityError> {
        privacy::export(conn, tenant, id, actor, ip).await
    }

    /// Anonymises customer `id`'s account and ends every session and token; recorded in the
    /// audit log as erased by `actor`.
    pub async fn erase_customer_account(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        tenant: &agora_kernel::TenantContext,
        id: uuid::Uuid,
        actor: &agora_kernel::Actor,
        ip: Option<&str>,
    ) -> Result<(), IdentityError> {
        privacy::erase(self, conn, tenant, id, actor, ip).await
    }

    /// Sets the customer's own name and/or language (already checked by the caller).
    pub async fn set_customer_profile(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        user: uuid::Uuid,
        name: Option<&str>,
        locale: Option<&str>,
    ) -> Result<Account, IdentityError> {
        privacy::set_profile(conn, user, name, locale).await
    }

    /// Whether `password` is the account's current one; a 422 on `password` when it is not.
    /// For confirming a grave step (an erasure) while signed in.
    pub async fn confirm_password(
        &self,
        tenant: &agora_kernel::TenantContext,
        user: uuid::Uuid,
        password: String,
    ) -> Result<(), IdentityError> {
        let stored = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                Ok::<_, IdentityError>(store::user_by_id(conn, user).await?.and_then(|u| u.password_hash))
            })
            .await?;
        if !self.passwords().verify(SecretString::from(password), stored).await? {
            return Err(IdentityError::field("password", "is not your current password"));
        }
        Ok(())
    }

    /// The cookie that ends a browser's session of this kind of account (after an erasure).
    pub fn ended_session_cookie(&self, kind: UserKind) -> actix_web::cookie::Cookie<'static> {
        let (name, path) = http::cookie_of(kind);
        http::session_cookie(self, name, path, None)
    }
}

/// Every built-in role's key and permissions, for documentation and checks.
pub fn built_in_roles() -> Vec<(&'static str, &'static [&'static str])> {
    access::roles::BUILT_IN_ROLES.iter().map(|r| (r.key, r.permissions)).collect()
}

impl agora_kernel::Module for IdentityModule {
    fn store(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::store_routes(cfg);
    }

    fn admin(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::admin_routes(cfg);
    }

    fn platform(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::platform_routes(cfg);
    }

    /// Handlers' and the authenticating middleware's handle on the module.
    fn app_data(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.app_data(paperclip::actix::web::Data::new(self.clone()));
    }
}
