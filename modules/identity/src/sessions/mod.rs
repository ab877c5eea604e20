//! Sessions, access and refresh tokens, and turning presented credentials into a principal.

mod database;
mod redis;
pub(crate) mod store;

pub(crate) use database::DatabaseSessions;
pub(crate) use redis::RedisSessions;

use crate::schema::{api_keys, refresh_tokens, users};
use crate::store::{self as accounts, UserRow};
use crate::tokens::{self, Claims, TokenError};
use crate::{Account, IdentityError, IdentityModule, IdentitySettings, LoginResponse, UserKind};
use agora_kernel::auth::Principal;
use agora_kernel::{new_id, Actor, TenantContext, TenantTx};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::sync::Arc;
use store::{ActiveSession, Device, Lifetimes, LiveSession, OpenedSession, Realm, SessionBackend, Sessions};

/// id, family, user, expires, used, revoked.
type RefreshRow = (uuid::Uuid, uuid::Uuid, uuid::Uuid, DateTime<Utc>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);
/// id, key hash, scopes, revoked, expires.
type KeyRow = (uuid::Uuid, Vec<u8>, Vec<String>, Option<DateTime<Utc>>, Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// An API key's `last_used_at` moves at most this often: a key busy with a sync job would
/// otherwise turn every one of its reads into a write (and a WAL flush at commit).
const KEY_USE_PRECISION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

agora_kernel::text_enum! {
    /// How a login wants its credentials; an MFA challenge keeps it as text in its `client`.
    pub(crate) enum Client {
        /// Session cookie + CSRF token.
        Browser = "browser",
        /// Access + refresh token.
        Api = "api",
    }
}

impl Client {
    /// The `client` a login request names: a browser unless it says otherwise.
    pub(crate) fn requested(raw: Option<&str>) -> Result<Self, IdentityError> {
        match raw {
            None => Ok(Client::Browser),
            Some(raw) => Client::parse(raw).ok_or_else(|| IdentityError::field("client", "one of browser, api")),
        }
    }
}

/// What a login produced: the response body, and for browsers the session id for the cookie.
pub(crate) struct Grant {
    pub body: LoginResponse,
    pub session_id: Option<String>,
}

/// A principal resolved from a session cookie, with the CSRF token unsafe requests must echo.
pub(crate) struct SessionPrincipal {
    pub principal: Principal,
    pub csrf_token: String,
}

pub(crate) fn audience(tenant: &TenantContext) -> String {
    format!("tenant:{}", tenant.id)
}

fn to_chrono(d: std::time::Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::hours(1))
}

/// Hands a freshly authenticated user their credentials, inside the login's transaction.
pub(crate) async fn grant(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    tenant: &TenantContext,
    user: UserRow,
    client: Client,
    device: &Device,
) -> Result<Grant, IdentityError> {
    let roles = accounts::role_keys(conn, user.id).await?;
    match client {
        Client::Browser => {
            let generation = user.credentials_changed_at.timestamp_micros();
            let opened = m
                .inner
                .sessions
                .open(conn, Realm::Shop(tenant.id), user.id, generation, device, lifetimes(m.settings()))
                .await?;
            let body = LoginResponse {
                account: user.into_account(roles),
                csrf_token: Some(opened.csrf_token),
                access_token: None,
                token_type: None,
                expires_in: None,
                refresh_token: None,
            };
            Ok(Grant { body, session_id: Some(opened.id) })
        }
        Client::Api => {
            let family = new_id();
            let cv = user.credentials_changed_at.timestamp_micros();
            let body = issue_tokens(m, conn, tenant, user.into_account(roles), cv, family).await?;
            Ok(Grant { body, session_id: None })
        }
    }
}

async fn issue_tokens(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    tenant: &TenantContext,
    account: Account,
    cv: i64,
    family: uuid::Uuid,
) -> Result<LoginResponse, IdentityError> {
    let now = Utc::now();
    let ttl = to_chrono(m.settings().access_token_ttl);
    let claims = Claims {
        iss: tokens::ISSUER.into(),
        sub: account.id.to_string(),
        aud: audience(tenant),
        iat: now.timestamp(),
        exp: (now + ttl).timestamp(),
        kind: account.kind.as_str().into(),
        cv,
    };
    let access = m.inner.signer.sign(&claims);
    let refresh = tokens::random_token(32);
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(new_id()),
            refresh_tokens::token_hash.eq(tokens::digest(&refresh)),
            refresh_tokens::family_id.eq(family),
            refresh_tokens::user_id.eq(account.id),
            refresh_tokens::expires_at.eq(now + to_chrono(m.settings().refresh_token_ttl)),
        ))
        .execute(conn)
        .await?;
    Ok(LoginResponse {
        account,
        csrf_token: None,
        access_token: Some(access),
        token_type: Some("Bearer".into()),
        expires_in: Some(ttl.num_seconds()),
        refresh_token: Some(refresh),
    })
}

/// Exchanges a refresh token for a new pair. A token presented a second time means it was
/// stolen or replayed: its whole family is revoked (committed with the answer `Reused`, which
/// the caller reports).
pub(crate) async fn refresh(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    kind: UserKind,
    token: &str,
) -> Result<Refreshed, IdentityError> {
    let tenant = tx.tenant().clone();
    let conn = tx.conn();
    let row: Option<RefreshRow> = refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(tokens::digest(token)))
        .select((
            refresh_tokens::id,
            refresh_tokens::family_id,
            refresh_tokens::user_id,
            refresh_tokens::expires_at,
            refresh_tokens::used_at,
            refresh_tokens::revoked_at,
        ))
        .for_update()
        .first(conn)
        .await
        .optional()?;
    let Some((id, family, user_id, expires_at, used_at, revoked_at)) = row else {
        return Ok(Refreshed::Invalid);
    };
    if revoked_at.is_some() || expires_at <= Utc::now() {
        return Ok(Refreshed::Invalid);
    }
    if used_at.is_some() {
        diesel::update(refresh_tokens::table.filter(refresh_tokens::family_id.eq(family)))
            .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
        // The token names its account, whose holder (or thief) presented it again.
        tx.act_as(Actor::User(user_id));
        tx.audit("token.reuse_detected", Some(format!("user:{user_id}")), serde_json::json!({ "family": family }))
            .await?;
        return Ok(Refreshed::Reused);
    }
    let conn = tx.conn();
    let Some(user) = accounts::user_by_id(conn, user_id).await?.filter(|u| u.active() && u.kind() == kind) else {
        return Ok(Refreshed::Invalid);
    };
    diesel::update(refresh_tokens::table.filter(refresh_tokens::id.eq(id)))
        .set(refresh_tokens::used_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    let roles = accounts::role_keys(conn, user.id).await?;
    let cv = user.credentials_changed_at.timestamp_micros();
    let body = issue_tokens(m, conn, &tenant, user.into_account(roles), cv, family).await?;
    Ok(Refreshed::Granted(Box::new(body)))
}

/// What a refresh token was good for.
pub(crate) enum Refreshed {
    Granted(Box<LoginResponse>),
    /// Presented before: its family is revoked now.
    Reused,
    Invalid,
}

/// Principal for a session cookie of a `kind` user; `None` when the session is unknown, expired
/// (idle or absolute), opened under credentials since changed, or its user disabled.
pub(crate) async fn session_principal(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    tenant_id: uuid::Uuid,
    kind: UserKind,
    session_id: &str,
) -> Result<Option<SessionPrincipal>, IdentityError> {
    let store = &m.inner.sessions;
    let Some(session) = store.find(conn, Realm::Shop(tenant_id), session_id, lifetimes(m.settings())).await? else {
        return Ok(None);
    };
    let Some(user) = accounts::user_by_id(conn, session.holder).await?.filter(|u| {
        u.active() && u.kind() == kind && u.credentials_changed_at.timestamp_micros() == session.generation
    }) else {
        return Ok(None);
    };
    let principal = principal_for(conn, tenant_id, &user).await?;
    Ok(Some(SessionPrincipal { principal, csrf_token: session.csrf_token }))
}

/// The claims of a bearer access token for `tenant`, checked against the signing key; any flaw
/// is an error (the client sent credentials, so it is told they are no good rather than treated
/// as anonymous).
pub(crate) fn verified_claims(
    m: &IdentityModule,
    tenant: &TenantContext,
    token: &str,
) -> Result<Claims, IdentityError> {
    m.inner.signer.verify(token, &audience(tenant), Utc::now().timestamp()).map_err(|e| {
        IdentityError::BadToken(match e {
            TokenError::Malformed => "malformed",
            TokenError::Algorithm => "wrong algorithm or key",
            TokenError::Signature => "bad signature",
            TokenError::Claims => "wrong issuer or audience",
            TokenError::Expired => "expired",
        })
    })
}

/// Principal for the verified `claims` of an access token: its account must still be active
/// and its credentials unchanged since the token was issued.
pub(crate) async fn token_principal(
    conn: &mut AsyncPgConnection,
    tenant_id: uuid::Uuid,
    claims: &Claims,
) -> Result<Principal, IdentityError> {
    let user_id: uuid::Uuid = claims.sub.parse().map_err(|_| IdentityError::BadToken("malformed subject"))?;
    let user = accounts::user_by_id(conn, user_id)
        .await?
        .filter(|u| u.active() && u.kind().as_str() == claims.kind)
        .ok_or(IdentityError::BadToken("unknown or disabled account"))?;
    // A password change, logout or disable ends every token issued before it.
    if user.credentials_changed_at.timestamp_micros() != claims.cv {
        return Err(IdentityError::BadToken("issued before the credentials changed"));
    }
    Ok(principal_for(conn, tenant_id, &user).await?)
}

/// Principal for an API key (`agora_key_<prefix>_<secret>`); records its use (to the minute).
pub(crate) async fn api_key_principal(
    conn: &mut AsyncPgConnection,
    tenant_id: uuid::Uuid,
    key: &str,
) -> Result<Principal, IdentityError> {
    let (prefix, _) = crate::access::split_api_key(key).ok_or(IdentityError::BadToken("malformed API key"))?;
    let hash = tokens::digest(key);
    let row: Option<KeyRow> = api_keys::table
        .filter(api_keys::prefix.eq(prefix))
        .select((
            api_keys::id,
            api_keys::key_hash,
            api_keys::scopes,
            api_keys::revoked_at,
            api_keys::expires_at,
            api_keys::last_used_at,
        ))
        .first(conn)
        .await
        .optional()?;
    let Some((id, stored, scopes, revoked_at, expires_at, last_used_at)) = row else {
        return Err(IdentityError::BadToken("unknown API key"));
    };
    let current = revoked_at.is_none() && expires_at.is_none_or(|e| e > Utc::now());
    if !current || !constant_time_eq(&stored, &hash) {
        return Err(IdentityError::BadToken("unknown, revoked or expired API key"));
    }
    if last_used_at.is_none_or(|at| Utc::now() - at >= KEY_USE_PRECISION) {
        diesel::update(api_keys::table.filter(api_keys::id.eq(id)))
            .set(api_keys::last_used_at.eq(diesel::dsl::now))
            .execute(conn)
            .await?;
    }
    Ok(Principal::ApiKey { tenant: tenant_id, key_id: id, scopes: Arc::new(scopes.into_iter().collect()) })
}

/// Ends every session and refresh token of a user (logout, password change, disable, erasure),
/// in the caller's transaction.
pub(crate) async fn end_all_sessions(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
    user: uuid::Uuid,
) -> Result<(), IdentityError> {
    // Access tokens cannot be recalled, and Redis sessions are outside this transaction: moving
    // this mark makes both refused from the commit on.
    diesel::update(users::table.filter(users::id.eq(user)))
        .set(users::credentials_changed_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    diesel::update(
        refresh_tokens::table.filter(refresh_tokens::user_id.eq(user)).filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(diesel::dsl::now))
    .execute(conn)
    .await?;
    m.inner.sessions.end_all(conn, Realm::Shop(tenant), user).await
}

/// How long a session lives: idle and absolute.
pub(crate) fn lifetimes(settings: &IdentitySettings) -> Lifetimes {
    Lifetimes { idle: to_chrono(settings.session_idle), absolute: to_chrono(settings.session_absolute) }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn principal_for(conn: &mut AsyncPgConnection, tenant: uuid::Uuid, user: &UserRow) -> QueryResult<Principal> {
    Ok(match user.kind() {
        UserKind::Customer => Principal::Customer { tenant, user_id: user.id },
        UserKind::Staff => {
            let permissions = accounts::permissions(conn, user.id).await?;
            Principal::Staff { tenant, user_id: user.id, permissions: Arc::new(permissions) }
        }
    })
}

/// An access token for an active shop user without a login (the CLI, seeding, tests).
pub(crate) fn access_token(m: &IdentityModule, tenant: &TenantContext, row: &UserRow) -> String {
    let now = Utc::now();
    let claims = Claims {
        iss: tokens::ISSUER.into(),
        sub: row.id.to_string(),
        aud: audience(tenant),
        iat: now.timestamp(),
        exp: (now + to_chrono(m.settings().access_token_ttl)).timestamp(),
        kind: row.kind().as_str().into(),
        cv: row.credentials_changed_at.timestamp_micros(),
    };
    m.inner.signer.sign(&claims)
}

/// The user's live browser sessions, newest first; `current` is this request's cookie id.
pub(crate) async fn active_sessions(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    tenant_id: uuid::Uuid,
    user: uuid::Uuid,
    current: Option<&str>,
) -> Result<Vec<ActiveSession>, IdentityError> {
    let generation = credentials_generation(conn, user).await?;
    m.inner.sessions.list(conn, Realm::Shop(tenant_id), user, generation, current, lifetimes(m.settings())).await
}

/// Signs the user out of their session named `id` (from [`active_sessions`]).
pub(crate) async fn end_session(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    id: &str,
) -> Result<(), IdentityError> {
    let tenant_id = tx.tenant().id;
    let conn = tx.conn();
    let generation = credentials_generation(conn, user).await?;
    let lifetimes = lifetimes(m.settings());
    let ended = m.inner.sessions.end_one(conn, Realm::Shop(tenant_id), user, generation, id, lifetimes).await?;
    if !ended {
        return Err(IdentityError::NotFound("session"));
    }
    tx.audit("session.ended", Some(format!("user:{user}")), serde_json::json!({ "session": id })).await?;
    Ok(())
}

async fn credentials_generation(conn: &mut AsyncPgConnection, user: uuid::Uuid) -> Result<i64, IdentityError> {
    let user = accounts::user_by_id(conn, user).await?.ok_or(IdentityError::Unauthenticated)?;
    Ok(user.credentials_changed_at.timestamp_micros())
}

/// The store this process was configured with (Redis when given, else the database).
#[derive(Clone)]
pub(crate) enum SessionStore {
    Database(DatabaseSessions),
    Redis(RedisSessions),
}

/// Runs one of the rules on the configured store.
macro_rules! on_store {
    ($store:expr, |$rules:ident| $body:expr) => {
        match $store {
            SessionStore::Database(backend) => {
                let $rules = Sessions(backend);
                $body
            }
            SessionStore::Redis(backend) => {
                let $rules = Sessions(backend);
                $body
            }
        }
    };
}

impl SessionStore {
    /// Opens a session for `holder`, whose credentials are at `generation`.
    pub(crate) async fn open(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
        generation: i64,
        device: &Device,
        lifetimes: Lifetimes,
    ) -> Result<OpenedSession, IdentityError> {
        on_store!(self, |rules| rules.open(conn, realm, holder, generation, device, lifetimes).await)
    }

    /// The session with cookie id `id`, if it is live; a dead one is removed on the way.
    pub(crate) async fn find(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        id: &str,
        lifetimes: Lifetimes,
    ) -> Result<Option<LiveSession>, IdentityError> {
        on_store!(self, |rules| rules.find(conn, realm, id, lifetimes).await)
    }

    /// Ends every session of `holder`.
    pub(crate) async fn end_all(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
    ) -> Result<(), IdentityError> {
        on_store!(self, |rules| rules.0.end_all(conn, realm, holder).await)
    }

    /// `holder`'s live sessions opened under credentials `generation`, newest first; `current`
    /// is the cookie id this request came with, if any.
    pub(crate) async fn list(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
        generation: i64,
        current: Option<&str>,
        lifetimes: Lifetimes,
    ) -> Result<Vec<ActiveSession>, IdentityError> {
        on_store!(self, |rules| rules.list(conn, realm, holder, generation, current, lifetimes).await)
    }

    /// Ends `holder`'s session named `id` (see [`handle`]); false when they have none by that name.
    pub(crate) async fn end_one(
        &self,
        conn: &mut AsyncPgConnection,
        realm: Realm,
        holder: uuid::Uuid,
        generation: i64,
        id: &str,
        lifetimes: Lifetimes,
    ) -> Result<bool, IdentityError> {
        on_store!(self, |rules| rules.end_one(conn, realm, holder, generation, id, lifetimes).await)
    }
}

#[cfg(test)]
mod client_tests {
    use super::Client;

    #[test]
    fn a_login_names_its_client_or_is_a_browser() {
        assert_eq!(Client::requested(None).ok(), Some(Client::Browser));
        assert_eq!(Client::requested(Some("api")).ok(), Some(Client::Api));
        let Err(crate::IdentityError::Common(agora_kernel::CommonError::Invalid(errors))) =
            Client::requested(Some("Browser"))
        else {
            panic!("an unknown client must be refused")
        };
        assert_eq!(errors[0].field, "client");
    }

    /// MFA challenges keep the client as text with a CHECK, in shops and on the platform.
    #[test]
    fn clients_are_the_ones_the_challenge_columns_allow() {
        let check = Client::sql_check("client");
        assert!(include_str!("../../../../migrations/tenant/V5__mfa_gdpr.sql").contains(&check), "{check}");
        assert!(include_str!("../../../../migrations/control/V6__operator_mfa.sql").contains(&check), "{check}");
    }
}
