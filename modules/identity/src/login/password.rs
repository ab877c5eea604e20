//! Registration, login and logout, password change and reset, email verification.

use crate::accounts::{account_key, check_password, parse_email, RequestOrigin};
use crate::login::mfa::LoginOutcome;
use crate::schema::{one_time_tokens, users};
use crate::sessions::{Client, Grant};
use crate::store::{self, UserRow};
use crate::{tokens, Account, IdentityError, IdentityModule, LoginRequest, UserKind};
use agora_kernel::ports::{AccountEmail, PortError};
use agora_kernel::throttle::{self, ThrottleScope};
use agora_kernel::{Actor, TenantContext};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use secrecy::SecretString;
use serde::Deserialize;

/// A new customer account.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    pub email: String,
    pub password: String,
    #[serde(default)]
    pub name: Option<String>,
}

impl IdentityModule {
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
        let email = parse_email(&registration.email)?;
        check_password("password", &registration.password)?;
        let name = registration.name.unwrap_or_default().trim().to_string();
        if name.chars().count() > 200 {
            return Err(IdentityError::field("name", "at most 200 characters"));
        }
        self.admit_mail_request(tenant, "register", &email, origin.ip.as_deref()).await?;
        let hash = self.hash_password(&registration.password).await?;
        let (this, context, origin) = (self.clone(), tenant.clone(), origin.clone());
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                if let Some(existing) = store::user_by_email(conn, UserKind::Customer, &email).await? {
                    if existing.active() {
                        this.send_link(conn, &context, &existing, "reset_password", &origin).await?;
                    }
                    let subject = Some(format!("user:{}", existing.id));
                    let ip = origin.ip.as_deref();
                    store::audit(
                        conn,
                        &Actor::Anonymous,
                        "account.registration_repeated",
                        subject,
                        ip,
                        serde_json::json!({}),
                    )
                    .await?;
                    return Ok(());
                }
                let user =
                    store::insert_user(conn, UserKind::Customer, &email, &name, Some(&hash), &Actor::Anonymous).await?;
                let actor = Actor::User(user.id);
                store::audit(
                    conn,
                    &actor,
                    "account.registered",
                    Some(format!("user:{}", user.id)),
                    origin.ip.as_deref(),
                    serde_json::json!({}),
                )
                .await?;
                this.send_link(conn, &context, &user, "verify_email", &origin).await?;
                Ok(())
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
    ) -> Result<LoginOutcome, IdentityError> {
        let client = Client::requested(request.client.as_deref())?;
        let email = request.email.trim().to_lowercase();
        let rules = self.login_rules(&format!("account:{}:{email}", kind.as_str()), origin.ip.as_deref());
        let (scope, lookup) = (ThrottleScope::Shop(tenant.id), email.clone());
        // The attempt is counted (and committed) before the password is checked, so parallel
        // guesses queue on the count instead of all passing one stale check.
        let (reserved, user) = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let reserved = throttle::reserve(conn, scope, &rules).await?;
                let user = match reserved {
                    Ok(_) => store::user_by_email(conn, kind, &lookup).await?,
                    Err(_) => None,
                };
                Ok::<_, IdentityError>((reserved, user))
            })
            .await?;
        let reservation = reserved.map_err(|w| IdentityError::Throttled { retry_after_secs: w.retry_after_secs })?;
        let stored = user.as_ref().and_then(|u| u.password_hash.clone());
        let matches = self.passwords().verify(SecretString::from(request.password), stored).await?;
        let (ip, device) = (origin.ip.clone(), origin.device());
        match user.filter(|u| matches && u.active()) {
            None => {
                self.db()
                    .tenant_tx(&tenant.schema, async move |conn| {
                        store::audit(
                            conn,
                            &Actor::Anonymous,
                            "login.failed",
                            Some(format!("email:{email}")),
                            ip.as_deref(),
                            serde_json::json!({ "kind": kind.as_str() }),
                        )
                        .await?;
                        Ok::<_, IdentityError>(())
                    })
                    .await?;
                Err(IdentityError::BadCredentials)
            }
            Some(user) => {
                let (this, context) = (self.clone(), tenant.clone());
                self.db()
                    .tenant_tx(&tenant.schema, async move |conn| {
                        reservation.succeeded(conn).await?;
                        // Told only after the right password, so it reveals nothing to a guesser.
                        if kind == UserKind::Staff && crate::login::oidc::password_login_refused(conn, user.id).await? {
                            return Err(IdentityError::SsoRequired);
                        }
                        if let Some(challenge) = this.mfa_challenge(conn, context.id, &user, client).await? {
                            return Ok(LoginOutcome::MfaRequired(challenge));
                        }
                        store::audit(
                            conn,
                            &Actor::User(user.id),
                            "login.succeeded",
                            Some(format!("user:{}", user.id)),
                            ip.as_deref(),
                            serde_json::json!({ "kind": kind.as_str() }),
                        )
                        .await?;
                        let grant = this.grant(conn, &context, user, client, &device).await?;
                        Ok(LoginOutcome::Granted(Box::new(grant)))
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
        let (this, tenant_id) = (self.clone(), tenant.id);
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                this.end_all_sessions(conn, tenant_id, user).await?;
                store::audit(
                    conn,
                    &Actor::User(user),
                    "logout",
                    Some(format!("user:{user}")),
                    ip.as_deref(),
                    serde_json::json!({}),
                )
                .await?;
                Ok(())
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
    ) -> Result<Grant, IdentityError> {
        let client = Client::requested(client)?;
        check_password("new_password", &new)?;
        let user = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                Ok::<_, IdentityError>(store::user_by_id(conn, user_id).await?)
            })
            .await?
            .ok_or(IdentityError::Unauthenticated)?;
        if !self.passwords().verify(SecretString::from(current), user.password_hash.clone()).await? {
            return Err(IdentityError::field("current_password", "is not your current password"));
        }
        let hash = self.hash_password(&new).await?;
        let (this, context, ip, device) = (self.clone(), tenant.clone(), origin.ip.clone(), origin.device());
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let actor = Actor::User(user.id);
                this.end_all_sessions(conn, context.id, user.id).await?;
                store::set_password(conn, user.id, &hash, &actor).await?;
                store::audit(
                    conn,
                    &actor,
                    "password.changed",
                    Some(format!("user:{}", user.id)),
                    ip.as_deref(),
                    serde_json::json!({}),
                )
                .await?;
                let user = store::user_by_id(conn, user.id).await?.ok_or(IdentityError::Unauthenticated)?;
                this.notify_password_changed(conn, &context, &user).await?;
                this.grant(conn, &context, user, client, &device).await
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
        let email = parse_email(email)?;
        self.admit_mail_request(tenant, "reset", &email, origin.ip.as_deref()).await?;
        let (this, context, origin) = (self.clone(), tenant.clone(), origin.clone());
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                if let Some(user) = store::user_by_email(conn, kind, &email).await?.filter(UserRow::active) {
                    this.send_link(conn, &context, &user, "reset_password", &origin).await?;
                    store::audit(
                        conn,
                        &Actor::Anonymous,
                        "password.reset_requested",
                        Some(format!("user:{}", user.id)),
                        origin.ip.as_deref(),
                        serde_json::json!({}),
                    )
                    .await?;
                }
                Ok(())
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
        check_password("password", new_password)?;
        let digest = tokens::digest(token);
        // A wrong, used or expired token is refused before any hashing, so guessing tokens costs
        // the server no CPU; the token is still consumed (atomically) after the hash.
        let probe = digest.clone();
        self.db().tenant_tx(&tenant.schema, async move |conn| live_token(conn, &probe, "reset_password").await).await?;
        let hash = self.hash_password(new_password).await?;
        let (this, context) = (self.clone(), tenant.clone());
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let user = consume_token(conn, &digest, "reset_password").await?;
                let actor = Actor::User(user);
                // An invitee sets a first password; only a real change is worth a warning.
                let before = store::user_by_id(conn, user).await?.filter(|u| u.password_hash.is_some());
                store::set_password(conn, user, &hash, &actor).await?;
                this.end_all_sessions(conn, context.id, user).await?;
                if let Some(row) = before {
                    this.notify_password_changed(conn, &context, &row).await?;
                }
                // Following the link proves the mailbox too.
                diesel::update(users::table.filter(users::id.eq(user)).filter(users::email_verified_at.is_null()))
                    .set(users::email_verified_at.eq(diesel::dsl::now))
                    .execute(conn)
                    .await?;
                store::audit(
                    conn,
                    &actor,
                    "password.reset",
                    Some(format!("user:{user}")),
                    ip.as_deref(),
                    serde_json::json!({}),
                )
                .await?;
                Ok(())
            })
            .await
    }

    /// Marks the email of the link's account verified.
    pub async fn verify_email(&self, tenant: &TenantContext, token: &str) -> Result<(), IdentityError> {
        let digest = tokens::digest(token);
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let user = consume_token(conn, &digest, "verify_email").await?;
                diesel::update(users::table.filter(users::id.eq(user)))
                    .set((users::email_verified_at.eq(diesel::dsl::now), users::version.eq(users::version + 1)))
                    .execute(conn)
                    .await?;
                store::audit(
                    conn,
                    &Actor::User(user),
                    "email.verified",
                    Some(format!("user:{user}")),
                    None,
                    serde_json::json!({}),
                )
                .await?;
                Ok(())
            })
            .await
    }

    /// The signed-in user's own account.
    pub async fn account(&self, tenant: &TenantContext, user: uuid::Uuid) -> Result<Account, IdentityError> {
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let row = store::user_by_id(conn, user).await?.ok_or(IdentityError::NotFound("account"))?;
                let roles = store::role_keys(conn, user).await?;
                Ok(row.into_account(roles))
            })
            .await
    }

    /// Records a single-use token and mails its link through the notifications port. The link
    /// is the shop's configured address (never the request's Host), and the email marks it a
    /// one-time credential, so only the recipient's copy holds it.
    pub(crate) async fn send_link(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: &TenantContext,
        user: &UserRow,
        purpose: &str,
        _origin: &RequestOrigin,
    ) -> Result<(), IdentityError> {
        let link = self.new_link(conn, tenant, user, purpose).await?;
        let name = if user.name.is_empty() { &user.email } else { &user.name };
        let (template, variables, secret) = match purpose {
            // The same single-use token as a reset (the same confirmation sets the password),
            // in words for someone who never had one.
            "reset_password" if link.invitation => (
                "staff_invitation",
                serde_json::json!({
                    "staff_name": name,
                    "invitation_url": link.url,
                    "expires_in_hours": link.ttl.num_hours(),
                }),
                "invitation_url",
            ),
            "reset_password" => (
                "password_reset",
                serde_json::json!({
                    "customer_name": name,
                    "reset_url": link.url,
                    "expires_in_minutes": link.ttl.num_minutes(),
                }),
                "reset_url",
            ),
            _ => (
                "email_verification",
                serde_json::json!({
                    "customer_name": name,
                    "verification_url": link.url,
                }),
                "verification_url",
            ),
        };
        self.mail(conn, tenant, user, template, variables, &[secret]).await
    }

    /// Records a single-use token for `user` and returns its link under the shop's address.
    pub(crate) async fn new_link(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: &TenantContext,
        user: &UserRow,
        purpose: &str,
    ) -> Result<OneTimeLink, IdentityError> {
        let token = tokens::random_token(32);
        // Staff without a password are invitees: they may not read their email within the hour.
        let invitation = user.kind() == UserKind::Staff && user.password_hash.is_none();
        let ttl = if invitation { self.settings().invitation_ttl } else { self.settings().email_link_ttl };
        let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
        diesel::insert_into(one_time_tokens::table)
            .values((
                one_time_tokens::token_hash.eq(tokens::digest(&token)),
                one_time_tokens::user_id.eq(user.id),
                one_time_tokens::purpose.eq(purpose),
                one_time_tokens::expires_at.eq(Utc::now() + ttl),
            ))
            .execute(conn)
            .await?;
        let base = self.shop_url_on(conn, tenant).await?;
        let area = if user.kind() == UserKind::Staff { "admin/" } else { "" };
        let url = match purpose {
            "reset_password" if invitation => format!("{base}/admin/accept-invitation?token={token}"),
            "reset_password" => format!("{base}/{area}reset-password?token={token}"),
            _ => format!("{base}/{area}verify-email?token={token}"),
        };
        Ok(OneTimeLink { url, ttl, invitation })
    }

    /// The shop's base URL (`https://shop.example.com`), from configuration and the shop's
    /// primary domain through the wired [`ShopAddress`](agora_kernel::ports::ShopAddress); read
    /// on `conn`.
    pub(crate) async fn shop_url_on(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: &TenantContext,
    ) -> Result<String, IdentityError> {
        match &self.inner.address {
            Some(address) => address.base_url(conn, tenant).await.map_err(IdentityError::ShopAddress),
            None => Err(IdentityError::ShopAddress(PortError::Failed("no shop address is configured".into()))),
        }
    }

    /// [`shop_url_on`](Self::shop_url_on) in a transaction of its own.
    pub(crate) async fn shop_url(&self, tenant: &TenantContext) -> Result<String, IdentityError> {
        let (this, context) = (self.clone(), tenant.clone());
        self.db().tenant_tx(&tenant.schema, async move |conn| this.shop_url_on(conn, &context).await).await
    }

    /// Tells the user their password changed, so a change they did not make does not go unnoticed.
    pub(crate) async fn notify_password_changed(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: &TenantContext,
        user: &UserRow,
    ) -> Result<(), IdentityError> {
        let variables = serde_json::json!({
            "customer_name": if user.name.is_empty() { &user.email } else { &user.name },
            "changed_at": Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
        });
        self.mail(conn, tenant, user, "password_changed", variables, &[]).await
    }

    /// Mails `user` (addressed to their account, not just their address); `secrets` names the
    /// variables that are one-time credentials.
    async fn mail(
        &self,
        conn: &mut AsyncPgConnection,
        tenant: &TenantContext,
        user: &UserRow,
        template: &str,
        variables: serde_json::Value,
        secrets: &[&str],
    ) -> Result<(), IdentityError> {
        let Some(mail) = &self.inner.mail else {
            tracing::warn!(template, "no mail port configured; the email is not sent");
            return Ok(());
        };
        let locale = user.locale.clone().unwrap_or_else(|| "en".into());
        let email = AccountEmail {
            template,
            locale: &locale,
            to: &user.email,
            account: account_key(user.kind(), user.id),
            variables,
            secrets,
        };
        mail.send(conn, tenant, email).await.map_err(IdentityError::Mail)
    }
}

/// A one-time link just recorded.
pub(crate) struct OneTimeLink {
    pub url: String,
    pub ttl: chrono::Duration,
    /// It invites a staff member to set their first password.
    pub invitation: bool,
}

/// Whether a one-time token is current (unused, unexpired), without using it.
async fn live_token(conn: &mut AsyncPgConnection, digest: &[u8], purpose: &str) -> Result<(), IdentityError> {
    let found: Option<uuid::Uuid> = one_time_tokens::table
        .filter(one_time_tokens::token_hash.eq(digest))
        .filter(one_time_tokens::purpose.eq(purpose))
        .filter(one_time_tokens::used_at.is_null())
        .filter(one_time_tokens::expires_at.gt(diesel::dsl::now))
        .select(one_time_tokens::user_id)
        .first(conn)
        .await
        .optional()?;
    found.map(drop).ok_or(IdentityError::BadOneTimeToken)
}

/// Marks a current one-time token used and returns its user.
async fn consume_token(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
    purpose: &str,
) -> Result<uuid::Uuid, IdentityError> {
    let user: Option<uuid::Uuid> = diesel::update(
        one_time_tokens::table
            .filter(one_time_tokens::token_hash.eq(digest))
            .filter(one_time_tokens::purpose.eq(purpose))
            .filter(one_time_tokens::used_at.is_null())
            .filter(one_time_tokens::expires_at.gt(diesel::dsl::now)),
    )
    .set(one_time_tokens::used_at.eq(diesel::dsl::now))
    .returning(one_time_tokens::user_id)
    .get_result(conn)
    .await
    .optional()?;
    user.ok_or(IdentityError::BadOneTimeToken)
}
