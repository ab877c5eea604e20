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
mod directory;
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

use agora_kernel::lists::{Keyset, Page};
use agora_kernel::outbound::{Outbound, OutboundPolicy};
use agora_kernel::ports::ShopOwner;
use agora_kernel::ports::{ShopAddress, TransactionalMail};
use agora_kernel::redis::Redis;
use agora_kernel::sealing::Sealer;
use agora_kernel::{Acting, Actor, Database, FieldError, TenantContext, TenantTx};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sessions::SessionStore;
use std::sync::Arc;
use std::time::Duration;

pub use error::IdentityError;
pub use middleware::authenticate;

/// Knobs for sessions, tokens and throttling; [`IdentitySettings::default`] is production-sane.
/// What an operator sets (`AGORA_TOKEN_KEY`, `AGORA_TOKEN_KEY_PREVIOUS`, `AGORA_SECURE_COOKIES`,
/// `AGORA_PASSWORD_HASHING_QUEUE`) is read by its [`Settings`](agora_kernel::settings::Settings)
/// implementation; the rest keeps its defaults.
#[derive(Clone)]
pub struct IdentitySettings {
    /// Signs access tokens and seals secrets at rest (HMAC-SHA256, at least 32 characters).
    /// Every replica needs the same key; `None` = a random key per process (see
    /// [`signing_key`](Self::signing_key)), so tokens die with the process.
    pub token_key: Option<SecretString>,
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
            token_key: None,
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

impl IdentitySettings {
    /// The key that signs and seals: the configured one, or (said in the log) a random one made
    /// now and kept in these settings, so everything built from them agrees on it.
    pub fn signing_key(&mut self) -> SecretString {
        self.token_key
            .get_or_insert_with(|| {
                tracing::warn!(
                    "AGORA_TOKEN_KEY is not set: access tokens are signed with a random key and die with this process"
                );
                SecretString::from(tokens::random_token(32))
            })
            .clone()
    }
}

/// `AGORA_TOKEN_KEY` and `AGORA_TOKEN_KEY_PREVIOUS` (at least 32 characters each, never echoed),
/// `AGORA_SECURE_COOKIES` (mark cookies `Secure`; off only to develop over plain http) and
/// `AGORA_PASSWORD_HASHING_QUEUE` (hashes allowed to wait for a slot; unset: 16 per slot).
impl agora_kernel::settings::Settings for IdentitySettings {
    const KEYS: &'static [&'static str] =
        &["token_key", "token_key_previous", "secure_cookies", "password_hashing_queue"];

    fn load(src: &agora_kernel::settings::Source<'_>) -> Result<Self, agora_kernel::settings::SettingsError> {
        use agora_kernel::settings::{any, range, SettingsError};
        let key = |variable: &str| match src.raw(variable) {
            Some((v, name)) if v.len() < 32 => {
                Err(SettingsError::invalid(name, "<hidden>", "must be at least 32 characters"))
            }
            other => Ok(other.map(|(v, _)| SecretString::from(v))),
        };
        let defaults = Self::default();
        Ok(Self {
            token_key: key("AGORA_TOKEN_KEY")?,
            token_key_previous: key("AGORA_TOKEN_KEY_PREVIOUS")?,
            secure_cookies: src.parsed("AGORA_SECURE_COOKIES", true, any)?,
            hashing_queue: src.parsed("AGORA_PASSWORD_HASHING_QUEUE", defaults.hashing_queue, range(0, 100_000))?,
            ..defaults
        })
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
    pub fn new(db: Database, mut settings: IdentitySettings, wiring: Wiring) -> Result<Self, IdentityError> {
        let key = settings.signing_key();
        let previous = settings.token_key_previous.as_ref().map(|k| k.expose_secret().as_bytes());
        let signer = tokens::Signer::new(key.expose_secret().as_bytes(), previous).map_err(IdentityError::Hashing)?;
        let sealer = Sealer::new(&key, settings.token_key_previous.as_ref());
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
        self.db()
            .in_tenant(tenant, &agora_kernel::Acting::system("reseal"), async |tx| {
                let client_secret = usize::from(login::oidc::reseal_client_secret(self, tx).await?);
                let tenant_id = tx.tenant().id;
                Ok(client_secret + login::mfa::reseal_seeds(self, tx.conn(), tenant_id).await?)
            })
            .await
    }
}

pub use access::{ApiKey, AuditEntry, AuditFilter, Grantor, NewApiKey, NewRole, NewStaff, Role, StaffRecipient};
pub use accounts::RequestOrigin;
pub use directory::{CustomerRecord, CustomerSearch};
pub use http::{Accepted, WithCookie};
pub use login::mfa::{MfaChallenge, MfaCode, MfaDisable, MfaEnrolment, MfaLogin, RecoveryCodes, SecurityPolicy};
use login::oidc::OidcError;
pub use login::oidc::{OidcConfig, OidcConfigInput, SignInOptions, SingleSignOn};
pub use login::password::Registration;
pub use operators::{NewOperator, Operator, OperatorLogin, OperatorPasswordChange};
pub use privacy::CustomerAccountData;
pub use sessions::store::ActiveSession;

/// What the customers module asks of identity about a customer's account: inside the customers
/// module's transaction (`tx`), so an export or erasure is all or nothing across both, and the
/// audit log names whoever that transaction acts for.
impl IdentityModule {
    /// How other modules name a shop account: `customer:<uuid>` or `staff:<uuid>`.
    pub fn account_key(kind: UserKind, id: uuid::Uuid) -> String {
        accounts::account_key(kind, id)
    }

    /// The address that takes an erased customer's email's place wherever a row must stay.
    pub fn anonymous_email(id: uuid::Uuid) -> String {
        privacy::anonymous_email(id)
    }

    /// The active staff members among `ids` who hold `permission`, with their email, name and
    /// locale, read in the caller's transaction (whom a staff alert goes to: notifications asks
    /// this of every member who opted in, so one who was disabled or lost the permission since
    /// gets nothing).
    pub async fn staff_recipients(
        tx: &mut TenantTx<'_>,
        ids: &[uuid::Uuid],
        permission: &str,
    ) -> Result<Vec<StaffRecipient>, IdentityError> {
        access::staff_recipients(tx.conn(), ids, permission).await
    }

    /// The email of customer `id` of this shop (not staff, not erased); 404 `customer` otherwise.
    pub async fn customer_email(&self, tx: &mut TenantTx<'_>, id: uuid::Uuid) -> Result<String, IdentityError> {
        Ok(privacy::customer(tx.conn(), id).await?.email)
    }

    /// Identity's part of customer `id`'s data export; recorded in the audit log as exported.
    pub async fn export_customer_account(
        &self,
        tx: &mut TenantTx<'_>,
        id: uuid::Uuid,
    ) -> Result<CustomerAccountData, IdentityError> {
        privacy::export(tx, id).await
    }

    /// Anonymises customer `id`'s account and ends every session and token; recorded in the
    /// audit log as erased.
    pub async fn erase_customer_account(&self, tx: &mut TenantTx<'_>, id: uuid::Uuid) -> Result<(), IdentityError> {
        privacy::erase(self, tx, id).await
    }

    /// The shop's customers matching `search`, newest first, in the caller's transaction.
    pub async fn search_customers(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        page: &agora_kernel::lists::Keyset<DateTime<Utc>>,
        search: &CustomerSearch,
    ) -> Result<agora_kernel::lists::Page<CustomerRecord>, IdentityError> {
        Ok(directory::search(conn, page, search).await?)
    }

    /// Customer `id` (erased ones too, without their personal data), in the caller's
    /// transaction; another shop's or a staff member's id is not found.
    pub async fn customer_record(
        &self,
        conn: &mut diesel_async::AsyncPgConnection,
        id: uuid::Uuid,
    ) -> Result<CustomerRecord, IdentityError> {
        directory::find(conn, id).await?.ok_or(IdentityError::NotFound("customer"))
    }

    /// Sets the customer's own name and/or language (already checked by the caller).
    pub async fn set_customer_profile(
        &self,
        tx: &mut TenantTx<'_>,
        user: uuid::Uuid,
        name: Option<&str>,
        locale: Option<&str>,
    ) -> Result<Account, IdentityError> {
        privacy::set_profile(tx, user, name, locale).await
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
            .in_tenant(tenant, &reading(), async |tx| {
                Ok::<_, IdentityError>(store::user_by_id(tx.conn(), user).await?.and_then(|u| u.password_hash))
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

/// Sessions, tokens and API keys: credentials in, principals out (`sessions/`).
impl IdentityModule {
    /// Exchanges a refresh token for a new pair. A token presented a second time means it was
    /// stolen or replayed: its whole family is revoked (committed, then reported).
    pub(crate) async fn refresh(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        token: String,
    ) -> Result<LoginResponse, IdentityError> {
        let outcome = self
            .db()
            .in_tenant(tenant, &acting(Actor::Anonymous, None), async |tx| {
                sessions::refresh(self, tx, kind, &token).await
            })
            .await?;
        match outcome {
            sessions::Refreshed::Granted(body) => Ok(*body),
            sessions::Refreshed::Reused => Err(IdentityError::RefreshReuse),
            sessions::Refreshed::Invalid => Err(IdentityError::Unauthenticated),
        }
    }

    /// Principal for a session cookie of a `kind` user; `None` when the session is no good.
    pub(crate) async fn session_principal(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        session_id: &str,
    ) -> Result<Option<sessions::SessionPrincipal>, IdentityError> {
        self.db()
            .in_tenant(tenant, &reading(), async |tx| {
                sessions::session_principal(self, tx.conn(), tenant.id, kind, session_id).await
            })
            .await
    }

    /// Principal for a bearer access token; any flaw is an error.
    pub(crate) async fn token_principal(
        &self,
        tenant: &TenantContext,
        token: &str,
    ) -> Result<agora_kernel::Principal, IdentityError> {
        let claims = sessions::verified_claims(self, tenant, token)?;
        self.db()
            .in_tenant(tenant, &reading(), async |tx| sessions::token_principal(tx.conn(), tenant.id, &claims).await)
            .await
    }

    /// Principal for an API key (`agora_key_<prefix>_<secret>`); records its use.
    pub(crate) async fn api_key_principal(
        &self,
        tenant: &TenantContext,
        key: &str,
    ) -> Result<agora_kernel::Principal, IdentityError> {
        self.db()
            .in_tenant(tenant, &reading(), async |tx| sessions::api_key_principal(tx.conn(), tenant.id, key).await)
            .await
    }

    /// An access token for a shop user without a login: for the CLI, seeding and tests that
    /// need a signed-in caller. Fails for unknown or disabled accounts.
    pub async fn issue_access_token(&self, tenant: &TenantContext, user: uuid::Uuid) -> Result<String, IdentityError> {
        let row = self
            .db()
            .in_tenant(tenant, &reading(), async |tx| Ok::<_, IdentityError>(store::user_by_id(tx.conn(), user).await?))
            .await?
            .filter(store::UserRow::active)
            .ok_or(IdentityError::NotFound("account"))?;
        Ok(sessions::access_token(self, tenant, &row))
    }

    /// The user's live browser sessions, newest first; `current` is this request's cookie id.
    pub(crate) async fn active_sessions(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        current: Option<String>,
    ) -> Result<Vec<ActiveSession>, IdentityError> {
        self.db()
            .in_tenant(tenant, &reading(), async |tx| {
                sessions::active_sessions(self, tx.conn(), tenant.id, user, current.as_deref()).await
            })
            .await
    }

    /// Signs the user out of their session named `id` (from [`active_sessions`](Self::active_sessions)).
    pub(crate) async fn end_session(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        id: String,
    ) -> Result<(), IdentityError> {
        self.db()
            .in_tenant(tenant, &acting(Actor::User(user), None), async |tx| {
                sessions::end_session(self, tx, user, &id).await
            })
            .await
    }
}

/// Registration, password logins, resets and email verification (`login/password.rs`).
impl IdentityModule {
    /// Counts a registration or reset request (`what`) for `email` from `ip` in its own committed
    /// transaction, before any hashing or mailing; past the budget, 429 with Retry-After.
    async fn admit_mail_request(
        &self,
        tenant: &TenantContext,
        what: &str,
        email: &str,
        ip: Option<&str>,
    ) -> Result<(), IdentityError> {
        let rules = login::throttle::mail_request_rules(self.settings(), what, email, ip);
        let scope = agora_kernel::throttle::ThrottleScope::Shop(tenant.id);
        let reserved = self
            .db()
            .in_tenant(tenant, &reading(), async |tx| {
                Ok::<_, IdentityError>(agora_kernel::throttle::reserve(tx.conn(), scope, &rules).await?)
            })
            .await?;
        // Every request counts, so the reservation is simply kept.
        reserved.map(drop).map_err(|w| IdentityError::TooManyRequests { retry_after_secs: w.retry_after_secs })
    }

    pub(crate) async fn hash_password(&self, raw: &str) -> Result<String, IdentityError> {
        Ok(self.passwords().hash(SecretString::from(raw.to_string())).await?)
    }

    /// Creates a customer account and mails an email-verification link.
    ///
    /// The answer is the same whether or not the email already has an account, so registration
    /// cannot be used to find out who shops here: an existing account's owner is mailed a
    /// password-reset link instead (the password is hashed either way, so timing tells nothing).
    pub async fn register_customer(
        &self,
        tenant: &TenantContext,
        registration: Registration,
        origin: &RequestOrigin,
    ) -> Result<(), IdentityError> {
        let email = accounts::parse_email(&registration.email)?;
        accounts::check_password("password", &registration.password)?;
        let name = login::password::check_name(registration.name)?;
        self.admit_mail_request(tenant, "register", &email, origin.ip.as_deref()).await?;
        let hash = self.hash_password(&registration.password).await?;
        self.db()
            .in_tenant(tenant, &acting(Actor::Anonymous, origin.ip.as_deref()), async |tx| {
                login::password::register(self, tx, &email, &name, &hash).await
            })
            .await
    }

    /// Checks email and password for a `kind` account and grants a session or tokens.
    ///
    /// An unknown email and a wrong password give the same error after the same work (a dummy
    /// hash is verified for unknown accounts); failures are counted per account and per client
    /// address, and past the free ones each attempt must wait (429 + Retry-After). An account
    /// with MFA on gets a challenge for `complete_mfa_login` instead of a grant.
    pub(crate) async fn login(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        request: LoginRequest,
        origin: &RequestOrigin,
    ) -> Result<login::mfa::LoginOutcome, IdentityError> {
        let client = sessions::Client::requested(request.client.as_deref())?;
        let email = request.email.trim().to_lowercase();
        let rules = login::throttle::login_rules(
            self.settings(),
            &format!("account:{}:{email}", kind.as_str()),
            origin.ip.as_deref(),
        );
        let anonymous = acting(Actor::Anonymous, origin.ip.as_deref());
        let (reserved, user) = self
            .db()
            .in_tenant(tenant, &anonymous, async |tx| login::password::reserve_login(tx, kind, &email, &rules).await)
            .await?;
        let reservation = reserved.map_err(|w| IdentityError::Throttled { retry_after_secs: w.retry_after_secs })?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = self.passwords().verify(SecretString::from(request.password), stored).await?;
        match user.filter(|u| matches && u.active()) {
            None => {
                self.db()
                    .in_tenant(tenant, &anonymous, async |tx| login::password::login_failed(tx, kind, &email).await)
                    .await?;
                Err(IdentityError::BadCredentials)
            }
            Some(user) => {
                let device = origin.device();
                self.db()
                    .in_tenant(tenant, &acting(Actor::User(user.id), origin.ip.as_deref()), async |tx| {
                        login::password::password_matched(self, tx, reservation, user, client, &device).await
                    })
                    .await
            }
        }
    }

    /// Ends every session and token of the user.
    pub async fn logout(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        ip: Option<String>,
    ) -> Result<(), IdentityError> {
        self.db()
            .in_tenant(tenant, &acting(Actor::User(user), ip.as_deref()), async |tx| {
                login::password::logout(self, tx, user).await
            })
            .await
    }

    /// Changes the user's password after checking the current one; every other session and
    /// token ends, and the caller gets a fresh session or tokens.
    pub(crate) async fn change_password(
        &self,
        tenant: &TenantContext,
        user_id: uuid::Uuid,
        current: String,
        new: String,
        client: Option<&str>,
        origin: &RequestOrigin,
    ) -> Result<sessions::Grant, IdentityError> {
        let client = sessions::Client::requested(client)?;
        accounts::check_password("new_password", &new)?;
        let user = self
            .db()
            .in_tenant(tenant, &reading(), async |tx| {
                Ok::<_, IdentityError>(store::user_by_id(tx.conn(), user_id).await?)
            })
            .await?
            .ok_or(IdentityError::Unauthenticated)?;
        if !self.passwords().verify(SecretString::from(current), user.password_hash.clone()).await? {
            return Err(IdentityError::field("current_password", "is not your current password"));
        }
        let hash = self.hash_password(&new).await?;
        let device = origin.device();
        self.db()
            .in_tenant(tenant, &acting(Actor::User(user.id), origin.ip.as_deref()), async |tx| {
                login::password::change_password(self, tx, user.id, &hash, client, &device).await
            })
            .await
    }

    /// Mails a reset link if the email belongs to an account; answers the same either way.
    pub async fn request_password_reset(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        email: &str,
        origin: &RequestOrigin,
    ) -> Result<(), IdentityError> {
        let email = accounts::parse_email(email)?;
        self.admit_mail_request(tenant, "reset", &email, origin.ip.as_deref()).await?;
        self.db()
            .in_tenant(tenant, &acting(Actor::Anonymous, origin.ip.as_deref()), async |tx| {
                login::password::request_reset(self, tx, kind, &email).await
            })
            .await
    }

    /// Sets a new password with a reset link's token; ends every session.
    pub async fn confirm_password_reset(
        &self,
        tenant: &TenantContext,
        token: &str,
        new_password: &str,
        ip: Option<String>,
    ) -> Result<(), IdentityError> {
        accounts::check_password("password", new_password)?;
        let digest = tokens::digest(token);
        // A wrong, used or expired token is refused before any hashing, so guessing tokens costs
        // the server no CPU; the token is still consumed (atomically) after the hash.
        self.db()
            .in_tenant(tenant, &reading(), async |tx| {
                login::password::live_token(tx.conn(), &digest, "reset_password").await
            })
            .await?;
        let hash = self.hash_password(new_password).await?;
        self.db()
            .in_tenant(tenant, &acting(Actor::Anonymous, ip.as_deref()), async |tx| {
                login::password::confirm_reset(self, tx, &digest, &hash).await
            })
            .await
    }

    /// Marks the email of the link's account verified.
    pub async fn verify_email(&self, tenant: &TenantContext, token: &str) -> Result<(), IdentityError> {
        let digest = tokens::digest(token);
        self.db()
            .in_tenant(tenant, &acting(Actor::Anonymous, None), async |tx| {
                login::password::verify_email(tx, &digest).await
            })
            .await
    }

    /// The signed-in user's own account.
    pub async fn account(&self, tenant: &TenantContext, user: uuid::Uuid) -> Result<Account, IdentityError> {
        self.db().in_tenant(tenant, &reading(), async |tx| login::password::account(tx.conn(), user).await).await
    }

    /// The shop's base URL (see `login::password::shop_url`), in a transaction of its own.
    pub(crate) async fn shop_url(&self, tenant: &TenantContext) -> Result<String, IdentityError> {
        self.db().in_tenant(tenant, &reading(), async |tx| login::password::shop_url(self, tx).await).await
    }
}

/// The second factor of shop accounts and the shop's policy on it (`login/mfa.rs`).
impl IdentityModule {
    /// The second login step: a valid challenge and code (or recovery code) grant the session or
    /// tokens the password step asked for. Wrong codes count against the account's MFA throttle.
    pub(crate) async fn complete_mfa_login(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        request: MfaLogin,
        origin: &RequestOrigin,
    ) -> Result<sessions::Grant, IdentityError> {
        let proof = login::mfa::proof(request.code.clone(), request.recovery_code.clone())?;
        let device = origin.device();
        let outcome = self
            .db()
            .in_tenant(tenant, &acting(Actor::Anonymous, origin.ip.as_deref()), async |tx| {
                login::mfa::complete_login(self, tx, kind, &request, &proof, &device).await
            })
            .await?;
        match outcome {
            login::mfa::MfaLoginOutcome::Granted(grant) => Ok(*grant),
            login::mfa::MfaLoginOutcome::Throttled(retry_after_secs) => {
                Err(IdentityError::Throttled { retry_after_secs })
            }
            login::mfa::MfaLoginOutcome::Rejected => Err(IdentityError::MfaFailed),
        }
    }

    /// Starts (or restarts) enrolment with a fresh secret; MFA is off until a code confirms it.
    pub async fn start_mfa_enrolment(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
    ) -> Result<MfaEnrolment, IdentityError> {
        self.db()
            .in_tenant(tenant, &acting(Actor::User(user), None), async |tx| {
                login::mfa::start_enrolment(self, tx, user).await
            })
            .await
    }

    /// Switches MFA on with a first code from the app and hands out the recovery codes.
    pub async fn activate_mfa(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        code: &str,
        ip: Option<String>,
    ) -> Result<RecoveryCodes, IdentityError> {
        let code = login::mfa::parse_code("code", code)?;
        let outcome = self
            .db()
            .in_tenant(tenant, &acting(Actor::User(user), ip.as_deref()), async |tx| {
                login::mfa::activate(self, tx, user, &code).await
            })
            .await?;
        login::mfa::activation_answer(outcome)
    }

    /// Switches MFA off, given the password and a current code or an unused recovery code.
    pub async fn disable_mfa(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        request: MfaDisable,
        ip: Option<String>,
    ) -> Result<(), IdentityError> {
        let proof = login::mfa::proof(request.code, request.recovery_code)?;
        let stored = self
            .db()
            .in_tenant(tenant, &reading(), async |tx| {
                Ok::<_, IdentityError>(store::user_by_id(tx.conn(), user).await?.and_then(|u| u.password_hash))
            })
            .await?;
        if !self.passwords().verify(SecretString::from(request.password), stored).await? {
            return Err(IdentityError::field("password", "is not your current password"));
        }
        let field = login::mfa::proof_field(&proof);
        let outcome = self
            .db()
            .in_tenant(tenant, &acting(Actor::User(user), ip.as_deref()), async |tx| {
                login::mfa::disable(self, tx, user, &proof).await
            })
            .await?;
        login::mfa::removal_answer(outcome, field)
    }

    /// The shop's identity policy (defaults when never set).
    pub async fn security_policy(&self, tenant: &TenantContext) -> Result<SecurityPolicy, IdentityError> {
        self.db().in_tenant(tenant, &reading(), async |tx| login::mfa::security_policy(tx.conn()).await).await
    }

    /// Replaces the shop's identity policy.
    pub async fn set_security_policy(
        &self,
        tenant: &TenantContext,
        policy: SecurityPolicy,
        actor: &Actor,
    ) -> Result<SecurityPolicy, IdentityError> {
        self.db()
            .in_tenant(tenant, &acting(actor.clone(), None), async |tx| {
                login::mfa::set_security_policy(tx, policy).await
            })
            .await
    }

    /// Whether the shop requires MFA of staff and staff member `user` has none yet.
    pub(crate) async fn mfa_enrolment_missing(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
    ) -> Result<bool, IdentityError> {
        self.db()
            .in_tenant(tenant, &reading(), async |tx| login::mfa::enrolment_missing(tx.conn(), tenant.id, user).await)
            .await
    }
}

/// The shop's OpenID Connect provider: its configuration and the login through it
/// (`login/oidc/`).
impl IdentityModule {
    pub(crate) async fn oidc_config(&self, tenant: &TenantContext, base_url: &str) -> Result<OidcConfig, OidcError> {
        self.db().in_tenant(tenant, &reading(), async |tx| login::oidc::config(tx.conn(), base_url).await).await
    }

    /// How `kind` signs in to the shop: whether its provider is on for them, and its name.
    pub(crate) async fn sign_in_options(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
    ) -> Result<SignInOptions, OidcError> {
        self.db().in_tenant(tenant, &reading(), async |tx| login::oidc::sign_in_options(tx.conn(), kind).await).await
    }

    /// Sets the shop's provider: an owner's act, with their current password. Who configures it
    /// must also hold every permission of the role new staff get (owners do).
    pub(crate) async fn put_oidc_config(
        &self,
        tenant: &TenantContext,
        input: OidcConfigInput,
        principal: &agora_kernel::Principal,
        origin: &RequestOrigin,
    ) -> Result<OidcConfig, OidcError> {
        let owner = login::oidc::owner_of(principal)?;
        let mut checked = login::oidc::check_config(self, input).await?;
        self.reauthenticate_owner(tenant, owner, checked.current_password.take(), origin).await?;
        let sealed = login::oidc::sealed_client_secret(self, tenant, &checked)?;
        let grantor = Grantor::Principal(principal.clone());
        let row = self
            .db()
            .in_tenant(tenant, &acting(grantor.actor(), origin.ip.as_deref()), async |tx| {
                login::oidc::save_provider(tx, checked, sealed, &grantor).await
            })
            .await?;
        self.inner.discovery.invalidate(&row.issuer_url).await;
        Ok(row.into_config(&self.shop_url(tenant).await?))
    }

    /// Removes the provider (an owner's act: with `staff_sso_only` it is the staff's way in).
    pub(crate) async fn delete_oidc_config(
        &self,
        tenant: &TenantContext,
        principal: &agora_kernel::Principal,
        ip: Option<String>,
    ) -> Result<(), OidcError> {
        let owner = login::oidc::owner_of(principal)?;
        self.db()
            .in_tenant(tenant, &acting(principal.actor(), ip.as_deref()), async |tx| {
                login::oidc::delete_provider(tx, owner).await
            })
            .await
    }

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
        let password = login::oidc::required_password(password)?;
        let ip = origin.ip.as_deref();
        let (reserved, row) = self
            .db()
            .in_tenant(tenant, &reading(), async |tx| login::oidc::reserve_reauthentication(self, tx, user, ip).await)
            .await?;
        let reservation = reserved.map_err(|w| IdentityError::Throttled { retry_after_secs: w.retry_after_secs })?;
        if self.passwords().verify(SecretString::from(password), row.password_hash.clone()).await? {
            self.db()
                .in_tenant(tenant, &reading(), async |tx| {
                    Ok::<_, IdentityError>(reservation.succeeded(tx.conn()).await?)
                })
                .await?;
            return Ok(());
        }
        self.db()
            .in_tenant(tenant, &acting(Actor::User(user), ip), async |tx| {
                login::oidc::reauthentication_failed(tx, user).await
            })
            .await?;
        Err(IdentityError::field("current_password", "is not your current password"))
    }

    /// Begins a login: remembers state, nonce and PKCE verifier, and sends the browser to the provider.
    #[tracing::instrument(skip_all, fields(tenant = %tenant.slug, kind = kind.as_str()))]
    pub(crate) async fn oidc_start(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        _origin: &RequestOrigin,
    ) -> Result<login::oidc::OidcRedirect, OidcError> {
        let provider =
            self.db().in_tenant(tenant, &reading(), async |tx| login::oidc::configured(tx.conn(), kind).await).await?;
        let base_url = self.shop_url(tenant).await?;
        let pending = login::oidc::authorization(self, provider, kind, &base_url).await?;
        self.db()
            .in_tenant(tenant, &acting(Actor::Anonymous, None), async |tx| {
                login::oidc::remember_login(tx.conn(), &pending).await
            })
            .await?;
        let cookie = login::oidc::binding_cookie(self.settings(), kind, Some(pending.binding));
        Ok(login::oidc::OidcRedirect { location: pending.location, cookies: vec![cookie] })
    }

    /// Finishes a login: checks the state against this browser, exchanges the code, verifies the
    /// ID token and grants a session to the found, linked or created account.
    #[tracing::instrument(skip_all, fields(tenant = %tenant.slug, kind = kind.as_str()))]
    pub(crate) async fn oidc_callback(
        &self,
        tenant: &TenantContext,
        kind: UserKind,
        query: login::oidc::CallbackQuery,
        binding: Option<String>,
        origin: &RequestOrigin,
    ) -> Result<(login::oidc::OidcRedirect, Option<String>), OidcError> {
        let state =
            query.state.clone().filter(|s| !s.is_empty()).ok_or_else(|| IdentityError::field("state", "required"))?;
        let anonymous = acting(Actor::Anonymous, origin.ip.as_deref());
        // The state is consumed first, whatever happens next: a callback works at most once.
        let login = self
            .db()
            .in_tenant(tenant, &anonymous, async |tx| login::oidc::take_login(tx.conn(), &state).await)
            .await?
            .ok_or(OidcError::BadState)?;
        let code = login::oidc::callback_code(&login, binding, kind, query)?;
        let provider =
            self.db().in_tenant(tenant, &reading(), async |tx| login::oidc::configured(tx.conn(), kind).await).await?;
        let identity = login::oidc::verify_at_provider(self, tenant, &provider, code, login).await?;
        let device = origin.device();
        let outcome = self
            .db()
            .in_tenant(tenant, &anonymous, async |tx| {
                login::oidc::sign_in(self, tx, kind, &identity, &provider, &device).await
            })
            .await?;
        let base_url = self.shop_url(tenant).await?;
        Ok(login::oidc::landing(self, kind, &base_url, &provider, outcome))
    }

    /// The signed-in `user` confirms a pending link: from now on the provider identity signs in
    /// as this account. A token of another account's link, used or expired is refused alike.
    pub(crate) async fn confirm_oidc_link(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        token: &str,
        ip: Option<String>,
    ) -> Result<(), OidcError> {
        let token_hash = tokens::digest(token);
        self.db()
            .in_tenant(tenant, &acting(Actor::User(user), ip.as_deref()), async |tx| {
                login::oidc::confirm_link(tx, user, &token_hash).await
            })
            .await
    }
}

/// Platform operators and their second factor, in the control schema (`operators/`).
impl IdentityModule {
    /// Creates an operator (the CLI's bootstrap, or an operator adding another).
    pub async fn create_operator(&self, new: NewOperator, actor: &Actor) -> Result<Operator, IdentityError> {
        self.insert_operator(new, actor, false).await
    }

    /// Creates the first operator with the platform token: only while there is none, decided in
    /// the creating transaction under a lock, so requests racing each other create one operator
    /// and the others are refused (401).
    pub(crate) async fn create_first_operator(&self, new: NewOperator) -> Result<Operator, IdentityError> {
        self.insert_operator(new, &Actor::PlatformToken, true).await
    }

    async fn insert_operator(
        &self,
        new: NewOperator,
        actor: &Actor,
        only_the_first: bool,
    ) -> Result<Operator, IdentityError> {
        let email = accounts::parse_email(&new.email)?;
        accounts::check_password("password", &new.password)?;
        let hash = self.hash_password(&new.password).await?;
        let account = operators::NewAccount { email, name: new.name.unwrap_or_default(), hash };
        let who = actor.audit_name();
        self.db().control_tx(async |conn| operators::insert(conn, account, &who, only_the_first).await).await
    }

    /// Whether any operator exists (the bootstrap token only works until one does).
    pub async fn has_operators(&self) -> Result<bool, IdentityError> {
        self.db().control_tx(async |conn| operators::exist(conn).await).await
    }

    /// The password step: a grant, or for an operator with MFA on a challenge for the code.
    pub(crate) async fn operator_login(
        &self,
        request: LoginRequest,
        origin: &RequestOrigin,
    ) -> Result<operators::OperatorLoginOutcome, IdentityError> {
        let browser = sessions::Client::requested(request.client.as_deref())? == sessions::Client::Browser;
        let email = request.email.trim().to_lowercase();
        let key = format!("account:operator:{email}");
        let rules = login::throttle::login_rules(self.settings(), &key, origin.ip.as_deref());
        let (reserved, found) =
            self.db().control_tx(async |conn| operators::reserve_login(conn, &rules, &email).await).await?;
        let reservation = reserved.map_err(|w| IdentityError::Throttled { retry_after_secs: w.retry_after_secs })?;
        let matches =
            self.passwords().verify(SecretString::from(request.password), found.as_ref().map(|f| f.1.clone())).await?;
        let Some((id, _, None)) = found.filter(|_| matches) else {
            return Err(IdentityError::BadCredentials);
        };
        let device = origin.device();
        self.db()
            .control_tx(async |conn| operators::password_matched(self, conn, reservation, id, browser, &device).await)
            .await
    }

    /// Principal for an operator's bearer token.
    pub(crate) async fn operator_token_principal(&self, token: &str) -> Result<agora_kernel::Principal, IdentityError> {
        let claims = operators::verified_claims(self, token)?;
        self.db().control_tx(async |conn| operators::token_principal(conn, &claims).await).await
    }

    /// Principal and CSRF token for an operator's session cookie; `None` when the session is no
    /// good.
    pub(crate) async fn operator_session_principal(
        &self,
        session_id: &str,
    ) -> Result<Option<(agora_kernel::Principal, String)>, IdentityError> {
        self.db().control_tx(async |conn| operators::session_principal(self, conn, session_id).await).await
    }

    /// Ends the operator's sessions and access tokens.
    pub(crate) async fn operator_logout(&self, operator: uuid::Uuid) -> Result<(), IdentityError> {
        self.db().control_tx(async |conn| operators::end_access(self, conn, operator).await).await
    }

    /// An access token for an operator, without a login (the CLI and tests mint one this way).
    pub async fn operator_access_token(&self, operator: uuid::Uuid) -> Result<String, IdentityError> {
        let changed = self.db().control_tx(async |conn| operators::credentials_changed(conn, operator).await).await?;
        Ok(operators::access_token(self, operator, changed).0)
    }

    /// The operator `id`.
    pub(crate) async fn operator(&self, id: uuid::Uuid) -> Result<Operator, IdentityError> {
        self.db().control_tx(async |conn| operators::find(conn, id).await).await
    }

    /// Every operator, oldest first, `page` at a time.
    pub(crate) async fn list_operators(&self, page: &Keyset<DateTime<Utc>>) -> Result<Page<Operator>, IdentityError> {
        self.db().control_tx(async |conn| operators::list(conn, page).await).await
    }

    /// Changes an operator's own password; every session and token of theirs ends (this one too).
    pub(crate) async fn change_operator_password(
        &self,
        id: uuid::Uuid,
        change: OperatorPasswordChange,
    ) -> Result<(), IdentityError> {
        accounts::check_password("new_password", &change.new_password)?;
        let stored = self.db().control_tx(async |conn| operators::password_hash(conn, id).await).await?;
        if !self.passwords().verify(SecretString::from(change.current_password), stored).await? {
            return Err(IdentityError::field("current_password", "is not your current password"));
        }
        let hash = self.hash_password(&change.new_password).await?;
        self.db().control_tx(async |conn| operators::set_password(self, conn, id, &hash).await).await
    }

    /// Disables (or re-enables) operator `id`. Disabling ends their sessions and tokens at once;
    /// nobody disables themselves, and the platform keeps at least one active operator.
    pub(crate) async fn set_operator_disabled(
        &self,
        id: uuid::Uuid,
        disabled: bool,
        by: uuid::Uuid,
    ) -> Result<Operator, IdentityError> {
        if disabled && id == by {
            return Err(IdentityError::field("id", "you cannot disable yourself"));
        }
        self.db().control_tx(async |conn| operators::set_disabled(self, conn, id, disabled, by).await).await
    }

    /// The operator's second login step: a live challenge and a code (or recovery code) grant
    /// what the password step asked for. Wrong codes count against the operator's MFA throttle.
    pub(crate) async fn complete_operator_mfa_login(
        &self,
        request: MfaLogin,
        origin: &RequestOrigin,
    ) -> Result<operators::OperatorGrant, IdentityError> {
        let proof = login::mfa::proof(request.code, request.recovery_code)?;
        let device = origin.device();
        let outcome = self
            .db()
            .control_tx(async |conn| {
                operators::mfa::complete_login(self, conn, &request.challenge, &proof, &device).await
            })
            .await?;
        match outcome {
            operators::mfa::OperatorMfaOutcome::Granted(grant) => Ok(*grant),
            operators::mfa::OperatorMfaOutcome::Throttled(retry_after_secs) => {
                Err(IdentityError::Throttled { retry_after_secs })
            }
            operators::mfa::OperatorMfaOutcome::Rejected => Err(IdentityError::MfaFailed),
        }
    }

    /// Starts (or restarts) the operator's enrolment; MFA is off until a code confirms it.
    pub(crate) async fn start_operator_mfa(&self, operator: uuid::Uuid) -> Result<MfaEnrolment, IdentityError> {
        self.db().control_tx(async |conn| operators::mfa::start_enrolment(self, conn, operator).await).await
    }

    /// Switches the operator's MFA on with a first code and hands out the recovery codes.
    pub(crate) async fn activate_operator_mfa(
        &self,
        operator: uuid::Uuid,
        code: &str,
    ) -> Result<RecoveryCodes, IdentityError> {
        let code = login::mfa::parse_code("code", code)?;
        let holder = login::mfa_store::Holder::Operator(operator);
        let activation = self
            .db()
            .control_tx(async |conn| login::mfa::activate_authenticator(self, conn, holder, &code).await)
            .await?;
        login::mfa::activation_answer(activation)
    }

    /// Switches the operator's MFA off: the password and a second factor prove it is them.
    pub(crate) async fn disable_operator_mfa(
        &self,
        operator: uuid::Uuid,
        request: MfaDisable,
    ) -> Result<(), IdentityError> {
        let proof = login::mfa::proof(request.code, request.recovery_code)?;
        let stored = self.db().control_tx(async |conn| operators::password_hash(conn, operator).await).await?;
        if !self.passwords().verify(SecretString::from(request.password), stored).await? {
            return Err(IdentityError::field("password", "is not your current password"));
        }
        let field = login::mfa::proof_field(&proof);
        let holder = login::mfa_store::Holder::Operator(operator);
        let removal = self
            .db()
            .control_tx(async |conn| login::mfa::remove_authenticator(self, conn, holder, &proof).await)
            .await?;
        login::mfa::removal_answer(removal, field)
    }

    /// Seals every operator's authenticator seed under the current key (after a key rotation);
    /// how many it rewrote.
    pub async fn reseal_operator_secrets(&self) -> Result<usize, IdentityError> {
        self.db().control_tx(async |conn| operators::mfa::reseal_seeds(self, conn).await).await
    }
}

/// Staff, roles, API keys and the audit log (`access/`).
impl IdentityModule {
    /// Creates a staff account with `roles`. Without a password the new member gets a link to
    /// choose one; with one (CLI, tests, seeding) they can log in at once.
    pub async fn create_staff(
        &self,
        tenant: &TenantContext,
        staff: NewStaff,
        password: Option<String>,
        grantor: &Grantor,
        origin: &RequestOrigin,
    ) -> Result<Account, IdentityError> {
        let email = accounts::parse_email(&staff.email)?;
        let hash = match password {
            Some(p) => {
                accounts::check_password("password", &p)?;
                Some(self.hash_password(&p).await?)
            }
            None => None,
        };
        let name = staff.name.unwrap_or_default();
        let invitee =
            access::Invitee { email: &email, name: &name, password_hash: hash.as_deref(), roles: &staff.roles };
        self.db()
            .in_tenant(tenant, &acting(grantor.actor(), origin.ip.as_deref()), async |tx| {
                access::invite_staff(self, tx, invitee, grantor).await
            })
            .await
    }

    /// What is wrong with the owner a new shop names, field by field.
    pub fn check_shop_owner(owner: &ShopOwner) -> Vec<FieldError> {
        access::check_shop_owner(owner)
    }

    /// Makes `owner` the owner of the new shop and mails them a link (under the shop's
    /// configured address) to set their password; in the caller's (provisioning's) transaction.
    /// A staff account with that email already there means an earlier run did it.
    pub async fn appoint_shop_owner(&self, tx: &mut TenantTx<'_>, owner: &ShopOwner) -> Result<(), IdentityError> {
        access::appoint_owner(self, tx, owner).await
    }

    /// A fresh link for staff member `email`, who has no password yet, to set one; for the
    /// operator's terminal (`agora tenant create`, `agora staff create`) when there is no SMTP
    /// server to mail it: the mailbox never shows such links, so this is how the person gets
    /// one. `None` when the account already has a password (it uses "forgot password").
    pub async fn invitation_link(&self, tenant: &TenantContext, email: &str) -> Result<Option<String>, IdentityError> {
        let email = accounts::parse_email(email)?;
        self.db()
            .in_tenant(tenant, &Acting::system("cli"), async |tx| access::invitation_link(self, tx, &email).await)
            .await
    }

    /// The shop's staff, oldest first.
    pub async fn list_staff(
        &self,
        tenant: &TenantContext,
        page: &Keyset<DateTime<Utc>>,
    ) -> Result<Page<Account>, IdentityError> {
        self.db().in_tenant(tenant, &reading(), async |tx| access::list_staff(tx.conn(), page).await).await
    }

    /// Disables a staff member: every session and token ends at once. Only an owner may disable
    /// an owner.
    pub async fn disable_staff(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        grantor: &Grantor,
    ) -> Result<Account, IdentityError> {
        self.db()
            .in_tenant(tenant, &acting(grantor.actor(), None), async |tx| {
                access::disable_staff(self, tx, user, grantor).await
            })
            .await
    }

    /// Replaces a staff member's roles. Only an owner may change an owner's roles or make someone
    /// an owner.
    pub async fn assign_roles(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        keys: Vec<String>,
        grantor: &Grantor,
    ) -> Result<Account, IdentityError> {
        self.db()
            .in_tenant(tenant, &acting(grantor.actor(), None), async |tx| {
                access::assign_roles(tx, user, keys, grantor).await
            })
            .await
    }

    /// Built-in roles, then the shop's own.
    pub async fn roles(&self, tenant: &TenantContext) -> Result<Vec<Role>, IdentityError> {
        self.db().in_tenant(tenant, &reading(), async |tx| access::list_roles(tx.conn()).await).await
    }

    /// Creates a custom role; its permissions must all be the grantor's own.
    pub async fn create_role(
        &self,
        tenant: &TenantContext,
        role: NewRole,
        grantor: &Grantor,
    ) -> Result<Role, IdentityError> {
        access::check_new_role(&role, grantor)?;
        self.db()
            .in_tenant(tenant, &acting(grantor.actor(), None), async |tx| access::create_role(tx, role).await)
            .await
    }

    /// Deletes a custom role (staff holding it lose its permissions at once).
    pub async fn delete_role(&self, tenant: &TenantContext, key: &str, actor: &Actor) -> Result<(), IdentityError> {
        self.db().in_tenant(tenant, &acting(actor.clone(), None), async |tx| access::delete_role(tx, key).await).await
    }

    /// Creates an API key; the response is the only time the key is shown.
    pub async fn create_api_key(
        &self,
        tenant: &TenantContext,
        new: NewApiKey,
        grantor: &Grantor,
    ) -> Result<ApiKey, IdentityError> {
        access::check_new_api_key(&new, grantor)?;
        self.db()
            .in_tenant(tenant, &acting(grantor.actor(), None), async |tx| access::create_api_key(tx, new).await)
            .await
    }

    pub async fn api_keys(&self, tenant: &TenantContext) -> Result<Vec<ApiKey>, IdentityError> {
        self.db().in_tenant(tenant, &reading(), async |tx| access::list_api_keys(tx.conn()).await).await
    }

    pub async fn revoke_api_key(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        actor: &Actor,
    ) -> Result<(), IdentityError> {
        self.db().in_tenant(tenant, &acting(actor.clone(), None), async |tx| access::revoke_api_key(tx, id).await).await
    }

    /// The shop's security events, newest first.
    pub async fn audit_log(
        &self,
        tenant: &TenantContext,
        page: &Keyset<DateTime<Utc>>,
        filter: AuditFilter,
    ) -> Result<Page<AuditEntry>, IdentityError> {
        self.db().in_tenant(tenant, &reading(), async |tx| access::audit_log(tx.conn(), page, filter).await).await
    }
}

/// Who a transaction that only reads acts as: nothing it does is stamped or audited.
fn reading() -> Acting {
    Acting::system("read")
}

/// `actor` acting from the client address `ip` (for the audit log).
fn acting(actor: Actor, ip: Option<&str>) -> Acting {
    Acting::new(actor, ip.map(str::to_string))
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
