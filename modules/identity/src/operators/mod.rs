//! Platform operators: accounts in the control schema that run the platform.

pub(crate) mod mfa;

use crate::accounts::{check_password, parse_email, RequestOrigin};
use crate::login::mfa::MfaChallenge;
use crate::schema::operators;
use crate::sessions::store::{Device, Realm};
use crate::sessions::Client;
use crate::tokens::{self, Claims};
use crate::{IdentityError, IdentityModule, LoginRequest};
use agora_kernel::auth::Principal;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::throttle::{self, ThrottleScope};
use agora_kernel::{new_id, Actor};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use secrecy::SecretString;
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
type OperatorRow = (uuid::Uuid, String, Option<DateTime<Utc>>);

pub(crate) struct OperatorGrant {
    pub body: OperatorLogin,
    pub session_id: Option<String>,
}

pub(crate) enum OperatorLoginOutcome {
    Granted(OperatorGrant),
    MfaRequired(MfaChallenge),
}

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
        let email = parse_email(&new.email)?;
        check_password("password", &new.password)?;
        let hash = self.hash_password(&new.password).await?;
        let name = new.name.unwrap_or_default();
        let who = actor.audit_name();
        self.db()
            .control_tx(async move |conn| {
                if only_the_first {
                    // Held to the end of the transaction: the next bootstrap counts after this
                    // one's operator is committed (or rolled back).
                    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext('agora.operator-bootstrap'))")
                        .execute(conn)
                        .await?;
                    let existing: i64 = operators::table.count().get_result(conn).await?;
                    if existing > 0 {
                        return Err(IdentityError::Unauthenticated);
                    }
                }
                let taken: i64 = operators::table
                    .filter(
                        diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                            .bind::<diesel::sql_types::Text, _>(&email)
                            .sql(")"),
                    )
                    .count()
                    .get_result(conn)
                    .await?;
                if taken > 0 {
                    return Err(IdentityError::EmailTaken);
                }
                let (id, created_at): (uuid::Uuid, DateTime<Utc>) = diesel::insert_into(operators::table)
                    .values((
                        operators::id.eq(new_id()),
                        operators::email.eq(&email),
                        operators::name.eq(&name),
                        operators::password_hash.eq(&hash),
                        operators::created_by.eq(&who),
                        operators::modified_by.eq(&who),
                    ))
                    .returning((operators::id, operators::created_at))
                    .get_result(conn)
                    .await?;
                Ok(Operator { id, email, name, created_at, disabled_at: None })
            })
            .await
    }

    /// Whether any operator exists (the bootstrap token only works until one does).
    pub async fn has_operators(&self) -> Result<bool, IdentityError> {
        self.db()
            .control_tx(async |conn| {
                let n: i64 = operators::table.count().get_result(conn).await?;
                Ok(n > 0)
            })
            .await
    }

    /// The password step: a grant, or for an operator with MFA on a challenge for the code.
    pub(crate) async fn operator_login(
        &self,
        request: LoginRequest,
        origin: &RequestOrigin,
    ) -> Result<OperatorLoginOutcome, IdentityError> {
        let browser = Client::requested(request.client.as_deref())? == Client::Browser;
        let email = request.email.trim().to_lowercase();
        let rules = self.login_rules(&format!("account:operator:{email}"), origin.ip.as_deref());
        let lookup = email.clone();
        // Counted before the verdict, as shop logins are (see `accounts::login`).
        let (reserved, found) = self
            .db()
            .control_tx(async move |conn| {
                let reserved = throttle::reserve(conn, ThrottleScope::Platform, &rules).await?;
                if reserved.is_err() {
                    return Ok::<_, IdentityError>((reserved, None));
                }
                let found: Option<OperatorRow> = operators::table
                    .filter(
                        diesel::dsl::sql::<diesel::sql_types::Bool>("lower(email) = lower(")
                            .bind::<diesel::sql_types::Text, _>(&lookup)
                            .sql(")"),
                    )
                    .select((operators::id, operators::password_hash, operators::disabled_at))
                    .first(conn)
                    .await
                    .optional()?;
                Ok((reserved, found))
            })
            .await?;
        let reservation = reserved.map_err(|w| IdentityError::Throttled { retry_after_secs: w.retry_after_secs })?;
        let matches =
            self.passwords().verify(SecretString::from(request.password), found.as_ref().map(|f| f.1.clone())).await?;
        let Some((id, _, None)) = found.filter(|_| matches) else {
            return Err(IdentityError::BadCredentials);
        };
        let (this, device) = (self.clone(), origin.device());
        self.db()
            .control_tx(async move |conn| {
                reservation.succeeded(conn).await?;
                if let Some(challenge) = this.operator_mfa_challenge(conn, id, browser).await? {
                    return Ok(OperatorLoginOutcome::MfaRequired(challenge));
                }
                let grant = this.grant_operator(conn, id, browser, &device).await?;
                grant.map(OperatorLoginOutcome::Granted).ok_or(IdentityError::BadCredentials)
            })
            .await
    }

    /// Hands an authenticated operator a session (browsers) or an access token, in the login's
    /// transaction; `None` when the operator is gone or disabled meanwhile.
    pub(crate) async fn grant_operator(
        &self,
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
            let now = Utc::now();
            let ttl =
                chrono::Duration::from_std(self.settings().access_token_ttl).unwrap_or(chrono::Duration::minutes(15));
            let claims = Claims {
                iss: tokens::ISSUER.into(),
                sub: id.to_string(),
                aud: PLATFORM_AUDIENCE.into(),
                iat: now.timestamp(),
                exp: (now + ttl).timestamp(),
                kind: "operator".into(),
                cv: changed.timestamp_micros(),
            };
            let access = self.inner.signer.sign(&claims);
            let body = OperatorLogin {
                operator,
                csrf_token: None,
                access_token: Some(access),
                expires_in: Some(ttl.num_seconds()),
            };
            return Ok(Some(OperatorGrant { body, session_id: None }));
        }
        let lifetimes = self.session_lifetimes();
        let opened =
            self.inner.sessions.open(conn, Realm::Platform, id, changed.timestamp_micros(), device, lifetimes).await?;
        let body =
            OperatorLogin { operator, csrf_token: Some(opened.csrf_token), access_token: None, expires_in: None };
        Ok(Some(OperatorGrant { body, session_id: Some(opened.id) }))
    }

    /// Principal for an operator's bearer token.
    pub(crate) async fn operator_token_principal(&self, token: &str) -> Result<Principal, IdentityError> {
        let claims = self
            .inner
            .signer
            .verify(token, PLATFORM_AUDIENCE, Utc::now().timestamp())
            .map_err(|_| IdentityError::BadToken("not a valid operator token"))?;
        let id: uuid::Uuid = claims.sub.parse().map_err(|_| IdentityError::BadToken("malformed subject"))?;
        self.db()
            .control_tx(async move |conn| {
                let row: Option<(Option<DateTime<Utc>>, DateTime<Utc>)> = operators::table
                    .filter(operators::id.eq(id))
                    .select((operators::disabled_at, operators::credentials_changed_at))
                    .first(conn)
                    .await
                    .optional()?;
                match row {
                    Some((None, changed)) if changed.timestamp_micros() == claims.cv => {
                        Ok(Principal::Operator { operator_id: id })
                    }
                    _ => Err(IdentityError::BadToken("unknown or disabled operator")),
                }
            })
            .await
    }

    /// Principal and CSRF token for an operator's session cookie; `None` when the session is
    /// unknown, expired, opened under credentials since changed, or the operator disabled.
    pub(crate) async fn operator_session_principal(
        &self,
        session_id: &str,
    ) -> Result<Option<(Principal, String)>, IdentityError> {
        let (this, session_id) = (self.clone(), session_id.to_string());
        self.db()
            .control_tx(async move |conn| {
                let store = &this.inner.sessions;
                let Some(session) = store.find(conn, Realm::Platform, &session_id, this.session_lifetimes()).await?
                else {
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
            })
            .await
    }

    /// Ends the operator's sessions and access tokens.
    pub(crate) async fn operator_logout(&self, operator: uuid::Uuid) -> Result<(), IdentityError> {
        let this = self.clone();
        self.db()
            .control_tx(async move |conn| {
                diesel::update(operators::table.filter(operators::id.eq(operator)))
                    .set(operators::credentials_changed_at.eq(diesel::dsl::now))
                    .execute(conn)
                    .await?;
                this.inner.sessions.end_all(conn, Realm::Platform, operator).await
            })
            .await
    }

    /// An access token for an operator, without a login (the CLI and tests mint one this way).
    pub async fn operator_access_token(&self, operator: uuid::Uuid) -> Result<String, IdentityError> {
        let changed: DateTime<Utc> = self
            .db()
            .control_tx(async move |conn| {
                let changed = operators::table
                    .filter(operators::id.eq(operator))
                    .filter(operators::disabled_at.is_null())
                    .select(operators::credentials_changed_at)
                    .first(conn)
                    .await
                    .optional()?;
                changed.ok_or(IdentityError::NotFound("operator"))
            })
            .await?;
        let now = Utc::now();
        let ttl = chrono::Duration::from_std(self.settings().access_token_ttl).unwrap_or(chrono::Duration::minutes(15));
        Ok(self.inner.signer.sign(&Claims {
            iss: tokens::ISSUER.into(),
            sub: operator.to_string(),
            aud: PLATFORM_AUDIENCE.into(),
            iat: now.timestamp(),
            exp: (now + ttl).timestamp(),
            kind: "operator".into(),
            cv: changed.timestamp_micros(),
        }))
    }
}

impl IdentityModule {
    /// The operator `id`.
    pub(crate) async fn operator(&self, id: uuid::Uuid) -> Result<Operator, IdentityError> {
        self.db()
            .control_tx(async move |conn| {
                let record: Option<OperatorRecord> =
                    operators::table.find(id).select(OperatorRecord::as_select()).first(conn).await.optional()?;
                record.map(Operator::from).ok_or(IdentityError::NotFound("operator"))
            })
            .await
    }

    /// Every operator, oldest first, `page` at a time.
    pub(crate) async fn list_operators(
        &self,
        page: &Keyset<chrono::DateTime<chrono::Utc>>,
    ) -> Result<Page<Operator>, IdentityError> {
        let page = page.clone();
        self.db()
            .control_tx(async move |conn| {
                let query = operators::table.select(OperatorRecord::as_select()).limit(page.fetch_limit()).into_boxed();
                let rows: Vec<OperatorRecord> =
                    page.apply(query, operators::created_at, operators::id).load(conn).await?;
                let operators: Vec<Operator> = rows.into_iter().map(Operator::from).collect();
                Ok(page.page(operators, |o| (o.created_at, o.id)))
            })
            .await
    }

    /// Changes an operator's own password; every session and token of theirs ends (this one too).
    pub(crate) async fn change_operator_password(
        &self,
        id: uuid::Uuid,
        change: OperatorPasswordChange,
    ) -> Result<(), IdentityError> {
        check_password("new_password", &change.new_password)?;
        let stored: Option<String> = self
            .db()
            .control_tx(async move |conn| {
                Ok::<_, IdentityError>(
                    operators::table.find(id).select(operators::password_hash).first(conn).await.optional()?,
                )
            })
            .await?;
        if !self.passwords().verify(SecretString::from(change.current_password), stored).await? {
            return Err(IdentityError::field("current_password", "is not your current password"));
        }
        let hash = self.hash_password(&change.new_password).await?;
        let this = self.clone();
        self.db()
            .control_tx(async move |conn| {
                diesel::update(operators::table.find(id))
                    .set((
                        operators::password_hash.eq(&hash),
                        operators::credentials_changed_at.eq(diesel::dsl::now),
                        operators::modified_at.eq(diesel::dsl::now),
                        operators::modified_by.eq(Actor::User(id).audit_name()),
                        operators::version.eq(operators::version + 1),
                    ))
                    .execute(conn)
                    .await?;
                this.inner.sessions.end_all(conn, Realm::Platform, id).await
            })
            .await
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
        let this = self.clone();
        self.db()
            .control_tx(async move |conn| {
                let found: Option<OperatorRecord> = operators::table
                    .find(id)
                    .select(OperatorRecord::as_select())
                    .for_update()
                    .first(conn)
                    .await
                    .optional()?;
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
                    this.inner.sessions.end_all(conn, Realm::Platform, id).await?;
                }
                Ok(Operator::from(record))
            })
            .await
    }
}
