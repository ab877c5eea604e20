//! Platform operators: accounts in the control schema that run the platform.

pub(crate) mod mfa;

use crate::login::mfa::MfaChallenge;
use crate::schema::operators;
use crate::sessions::store::{Device, Realm};
use crate::tokens::{self, Claims};
use crate::{IdentityError, IdentityModule};
use agora_kernel::auth::Principal;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::throttle::{self, ThrottleScope};
use agora_kernel::{new_id, Actor};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

pub(crate) const PLATFORM_AUDIENCE: &str = "platform";

/// A platform operator.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Operator {
    pub id: uuid::Uuid,
    pub email: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
    /// Set while the operator is disabled (they can neither log in nor use old credentials).
    pub disabled_at: Option<DateTime<Utc>>,
}

/// An operator's new password, with the current one as proof.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct OperatorPasswordChange {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = operators)]
struct OperatorRecord {
    id: uuid::Uuid,
    email: String,
    name: String,
    created_at: DateTime<Utc>,
    disabled_at: Option<DateTime<Utc>>,
}

impl From<OperatorRecord> for Operator {
    fn from(r: OperatorRecord) -> Self {
        Operator { id: r.id, email: r.email, name: r.name, created_at: r.created_at, disabled_at: r.disabled_at }
    }
}

/// A new operator.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewOperator {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// An operator's login: a session for browsers or an access token for scripts.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct OperatorLogin {
    pub operator: Operator,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csrf_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<i64>,
}

/// id, password hash, disabled.
pub(crate) type OperatorRow = (uuid::Uuid, String, Option<DateTime<Utc>>);

pub(crate) struct OperatorGrant {
    pub body: OperatorLogin,
    pub session_id: Option<String>,
}

pub(crate) enum OperatorLoginOutcome {
    Granted(OperatorGrant),
    MfaRequired(MfaChallenge),
}

/// A new operator's account, checked: the email parsed, the password hashed.
pub(crate) struct NewAccount {
    pub email: String,
    pub name: String,
    pub hash: String,
}

/// Adds an operator, created by `who`. With `only_the_first`, only while there is none, decided
/// under a lock held to the end of the transaction, so requests racing each other create one
/// operator and the others are refused (401).
pub(crate) async fn insert(
    conn: &mut AsyncPgConnection,
    new: NewAccount,
    who: &str,
    only_the_first: bool,
) -> Result<Operator, IdentityError> {
    if only_the_first {
        // Held to the end of the transaction: the next bootstrap counts after this one's
        // operator is committed (or rolled back).
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('agora.operator-bootstrap'))").execute(conn).await?;
        if exist(conn).await? {
            return Err(IdentityError::Unauthenticated);
        }
    }
    if by_email(conn, &new.email).await?.is_some() {
        return Err(IdentityError::EmailTaken);
    }
    let NewAccount { email, name, hash } = new;
    let (id, created_at): (uuid::Uuid, DateTime<Utc>) = diesel::insert_into(operators::table)
        .values((
            operators::id.eq(new_id()),
            operators::email.eq(&email),
            operators::name.eq(&name),
            operators::password_hash.eq(&hash),
            operators::created_by.eq(who),
            operators::modified_by.eq(who),
        ))
        .returning((operators::id, operators::created_at))
        .get_result(conn)
        .await?;
    Ok(Operator { id, email, name, created_at, disabled_at: None })
}

/// Whether any operator exists (the bootstrap token only works until one does).
pub(crate) async fn exist(conn: &mut AsyncPgConnection) -> Result<bool, IdentityError> {
    let n: i64 = operators::table.count().get_result(conn).await?;
    Ok(n > 0)
}

/// The operator with this email (any case): id, password hash, disabled.
async fn by_email(conn: &mut AsyncPgConnection, email: &str) -> QueryResult<Option<OperatorRow>> {
    operators::table
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                .bind::<diesel::sql_types::Text, _>(email)
                .sql(")"),
        )
        .select((operators::id, operators::password_hash, operators::disabled_at))
        .first(conn)
        .await
        .optional()
}

/// The password step's first half: the attempt is counted (and committed) before the verdict,
/// as shop logins are, and the operator found; nobody once the throttle says wait.
pub(crate) async fn reserve_login(
    conn: &mut AsyncPgConnection,
    rules: &[throttle::Rule],
    email: &str,
) -> Result<crate::login::throttle::Reserved<Option<OperatorRow>>, IdentityError> {
    let reserved = throttle::reserve(conn, ThrottleScope::Platform, rules).await?;
    if reserved.is_err() {
        return Ok((reserved, None));
    }
    Ok((reserved, by_email(conn, email).await?))
}

/// The right password of an active operator: the count is settled, then a challenge for an
/// operator with MFA on, else the grant.
pub(crate) async fn password_matched(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    reservation: throttle::Reservation,
    id: uuid::Uuid,
    browser: bool,
    device: &Device,
) -> Result<OperatorLoginOutcome, IdentityError> {
    reservation.succeeded(conn).await?;
    if let Some(challenge) = mfa::challenge(conn, id, browser).await? {
        return Ok(OperatorLoginOutcome::MfaRequired(challenge));
    }
    let grant = grant_operator(m, conn, id, browser, device).await?;
    grant.map(OperatorLoginOutcome::Granted).ok_or(IdentityError::BadCredentials)
}

/// Hands an authenticated operator a session (browsers) or an access token, in the login's
/// transaction; `None` when the operator is gone or disabled meanwhile.
pub(crate) async fn grant_operator(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    browser: bool,
    device: &Device,
) -> Result<Option<OperatorGrant>, IdentityError> {
    let record: Option<(OperatorRecord, DateTime<Utc>)> = operators::table
        .find(id)
        .filter(operators::disabled_at.is_null())
        .select((OperatorRecord::as_select(), operators::credentials_changed_at))
        .first(conn)
        .await
        .optional()?;
    let Some((record, changed)) = record else { return Ok(None) };
    let operator = Operator::from(record);
    if !browser {
        let (access, ttl) = access_token(m, id, changed);
        let body = OperatorLogin { operator, csrf_token: None, access_token: Some(access), expires_in: Some(ttl) };
        return Ok(Some(OperatorGrant { body, session_id: None }));
    }
    let lifetimes = crate::sessions::lifetimes(m.settings());
    let opened =
        m.inner.sessions.open(conn, Realm::Platform, id, changed.timestamp_micros(), device, lifetimes).await?;
    let body = OperatorLogin { operator, csrf_token: Some(opened.csrf_token), access_token: None, expires_in: None };
    Ok(Some(OperatorGrant { body, session_id: Some(opened.id) }))
}

/// An operator's access token for credentials last changed at `changed`, and its lifetime in
/// seconds.
pub(crate) fn access_token(m: &IdentityModule, operator: uuid::Uuid, changed: DateTime<Utc>) -> (String, i64) {
    let now = Utc::now();
    let ttl = chrono::Duration::from_std(m.settings().access_token_ttl).unwrap_or(chrono::Duration::minutes(15));
    let token = m.inner.signer.sign(&Claims {
        iss: tokens::ISSUER.into(),
        sub: operator.to_string(),
        aud: PLATFORM_AUDIENCE.into(),
        iat: now.timestamp(),
        exp: (now + ttl).timestamp(),
        kind: "operator".into(),
        cv: changed.timestamp_micros(),
    });
    (token, ttl.num_seconds())
}

/// The claims of an operator's bearer token, checked against the signing key.
pub(crate) fn verified_claims(m: &IdentityModule, token: &str) -> Result<Claims, IdentityError> {
    m.inner
        .signer
        .verify(token, PLATFORM_AUDIENCE, Utc::now().timestamp())
        .map_err(|_| IdentityError::BadToken("not a valid operator token"))
}

/// Principal for an operator's verified token: the operator active, credentials unchanged.
pub(crate) async fn token_principal(conn: &mut AsyncPgConnection, claims: &Claims) -> Result<Principal, IdentityError> {
    let id: uuid::Uuid = claims.sub.parse().map_err(|_| IdentityError::BadToken("malformed subject"))?;
    let row: Option<(Option<DateTime<Utc>>, DateTime<Utc>)> = operators::table
        .filter(operators::id.eq(id))
        .select((operators::disabled_at, operators::credentials_changed_at))
        .first(conn)
        .await
        .optional()?;
    match row {
        Some((None, changed)) if changed.timestamp_micros() == claims.cv => Ok(Principal::Operator { operator_id: id }),
        _ => Err(IdentityError::BadToken("unknown or disabled operator")),
    }
}

/// Principal and CSRF token for an operator's session cookie; `None` when the session is
/// unknown, expired, opened under credentials since changed, or the operator disabled.
pub(crate) async fn session_principal(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    session_id: &str,
) -> Result<Option<(Principal, String)>, IdentityError> {
    let lifetimes = crate::sessions::lifetimes(m.settings());
    let Some(session) = m.inner.sessions.find(conn, Realm::Platform, session_id, lifetimes).await? else {
        return Ok(None);
    };
    let changed: Option<DateTime<Utc>> = operators::table
        .filter(operators::id.eq(session.holder))
        .filter(operators::disabled_at.is_null())
        .select(operators::credentials_changed_at)
        .first(conn)
        .await
        .optional()?;
    Ok(changed
        .filter(|changed| changed.timestamp_micros() == session.generation)
        .map(|_| (Principal::Operator { operator_id: session.holder }, session.csrf_token)))
}

/// Ends the operator's sessions and access tokens.
pub(crate) async fn end_access(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    operator: uuid::Uuid,
) -> Result<(), IdentityError> {
    diesel::update(operators::table.filter(operators::id.eq(operator)))
        .set(operators::credentials_changed_at.eq(diesel::dsl::now))
        .execute(conn)
        .await?;
    m.inner.sessions.end_all(conn, Realm::Platform, operator).await
}

/// When the active operator's credentials last changed.
pub(crate) async fn credentials_changed(
    conn: &mut AsyncPgConnection,
    operator: uuid::Uuid,
) -> Result<DateTime<Utc>, IdentityError> {
    let changed = operators::table
        .filter(operators::id.eq(operator))
        .filter(operators::disabled_at.is_null())
        .select(operators::credentials_changed_at)
        .first(conn)
        .await
        .optional()?;
    changed.ok_or(IdentityError::NotFound("operator"))
}

/// The operator `id`.
pub(crate) async fn find(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> Result<Operator, IdentityError> {
    let record: Option<OperatorRecord> =
        operators::table.find(id).select(OperatorRecord::as_select()).first(conn).await.optional()?;
    record.map(Operator::from).ok_or(IdentityError::NotFound("operator"))
}

/// The operator's password hash.
pub(crate) async fn password_hash(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
) -> Result<Option<String>, IdentityError> {
    Ok(operators::table.find(id).select(operators::password_hash).first(conn).await.optional()?)
}

/// Every operator, oldest first, `page` at a time.
pub(crate) async fn list(
    conn: &mut AsyncPgConnection,
    page: &Keyset<DateTime<Utc>>,
) -> Result<Page<Operator>, IdentityError> {
    let query = operators::table.select(OperatorRecord::as_select()).limit(page.fetch_limit()).into_boxed();
    let rows: Vec<OperatorRecord> = page.apply(query, operators::created_at, operators::id).load(conn).await?;
    let operators: Vec<Operator> = rows.into_iter().map(Operator::from).collect();
    Ok(page.page(operators, |o| (o.created_at, o.id)))
}

/// Sets operator `id`'s new password (its hash); every session and token of theirs ends.
pub(crate) async fn set_password(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    hash: &str,
) -> Result<(), IdentityError> {
    diesel::update(operators::table.find(id))
        .set((
            operators::password_hash.eq(hash),
            operators::credentials_changed_at.eq(diesel::dsl::now),
            operators::modified_at.eq(diesel::dsl::now),
            operators::modified_by.eq(Actor::User(id).audit_name()),
            operators::version.eq(operators::version + 1),
        ))
        .execute(conn)
        .await?;
    m.inner.sessions.end_all(conn, Realm::Platform, id).await
}

/// Disables (or re-enables) operator `id`, as operator `by`. Disabling ends their sessions and
/// tokens at once.
pub(crate) async fn set_disabled(
    m: &IdentityModule,
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    disabled: bool,
    by: uuid::Uuid,
) -> Result<Operator, IdentityError> {
    let found: Option<OperatorRecord> =
        operators::table.find(id).select(OperatorRecord::as_select()).for_update().first(conn).await.optional()?;
    let Some(found) = found else { return Err(IdentityError::NotFound("operator")) };
    if disabled == found.disabled_at.is_some() {
        return Ok(Operator::from(found));
    }
    let when = disabled.then(Utc::now);
    let record = diesel::update(operators::table.find(id))
        .set((
            operators::disabled_at.eq(when),
            operators::credentials_changed_at.eq(diesel::dsl::now),
            operators::modified_at.eq(diesel::dsl::now),
            operators::modified_by.eq(Actor::User(by).audit_name()),
            operators::version.eq(operators::version + 1),
        ))
        .returning(OperatorRecord::as_returning())
        .get_result(conn)
        .await?;
    if disabled {
        m.inner.sessions.end_all(conn, Realm::Platform, id).await?;
    }
    Ok(Operator::from(record))
}
