//! Registration, login and logout, password change and reset, email verification.

use crate::accounts::account_key;
use crate::login::mfa::LoginOutcome;
use crate::schema::{one_time_tokens, users};
use crate::sessions::store::Device;
use crate::sessions::{Client, Grant};
use crate::store::{self, UserRow};
use crate::{tokens, Account, IdentityError, IdentityModule, UserKind};
use agora_kernel::ports::{AccountEmail, PortError};
use agora_kernel::throttle::{self, Reservation, Rule, ThrottleScope};
use agora_kernel::{Actor, TenantTx};
use chrono::Utc;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
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

/// A registration's name, checked.
pub(crate) fn check_name(raw: Option<String>) -> Result<String, IdentityError> {
    let name = raw.unwrap_or_default().trim().to_string();
    if name.chars().count() > 200 {
        return Err(IdentityError::field("name", "at most 200 characters"));
    }
    Ok(name)
}

/// Creates a customer account (the password already hashed) and mails an email-verification
/// link. An email that already has an account gets a password-reset link instead, and the
/// answer is the same, so registration tells nobody who shops here.
pub(crate) async fn register(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    email: &str,
    name: &str,
    hash: &str,
) -> Result<(), IdentityError> {
    if let Some(existing) = store::user_by_email(tx.conn(), UserKind::Customer, email).await? {
        if existing.active() {
            send_link(m, tx, &existing, "reset_password").await?;
        }
        let subject = Some(format!("user:{}", existing.id));
        tx.audit("account.registration_repeated", subject, serde_json::json!({})).await?;
        return Ok(());
    }
    let stamp = tx.stamp();
    let user = store::insert_user(tx.conn(), UserKind::Customer, email, name, Some(hash), &stamp).await?;
    tx.act_as(Actor::User(user.id));
    tx.audit("account.registered", Some(format!("user:{}", user.id)), serde_json::json!({})).await?;
    send_link(m, tx, &user, "verify_email").await
}

/// The first step of a login: counts the attempt (committed before the password is checked, so
/// parallel guesses queue on the count instead of all passing one stale check) and finds the
/// account; no account once the throttle says wait.
pub(crate) async fn reserve_login(
    tx: &mut TenantTx<'_>,
    kind: UserKind,
    email: &str,
    rules: &[Rule],
) -> Result<crate::login::throttle::Reserved<Option<UserRow>>, IdentityError> {
    let scope = ThrottleScope::Shop(tx.tenant().id);
    let reserved = throttle::reserve(tx.conn(), scope, rules).await?;
    let user = match reserved {
        Ok(_) => store::user_by_email(tx.conn(), kind, email).await?,
        Err(_) => None,
    };
    Ok((reserved, user))
}

/// A wrong email or password, in the audit log under the email typed.
pub(crate) async fn login_failed(tx: &mut TenantTx<'_>, kind: UserKind, email: &str) -> Result<(), IdentityError> {
    tx.audit("login.failed", Some(format!("email:{email}")), serde_json::json!({ "kind": kind.as_str() })).await?;
    Ok(())
}

/// The right password for an active account: the attempt's count is settled, then a staff
/// member the provider must sign in is refused, an account with a second factor gets its
/// challenge, and anyone else their session or tokens.
pub(crate) async fn password_matched(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    reservation: Reservation,
    user: UserRow,
    client: Client,
    device: &Device,
) -> Result<LoginOutcome, IdentityError> {
    let (kind, tenant) = (user.kind(), tx.tenant().clone());
    reservation.succeeded(tx.conn()).await?;
    // Told only after the right password, so it reveals nothing to a guesser.
    if kind == UserKind::Staff && crate::login::oidc::password_login_refused(tx.conn(), user.id).await? {
        return Err(IdentityError::SsoRequired);
    }
    if let Some(challenge) = crate::login::mfa::mfa_challenge(tx.conn(), tenant.id, &user, client).await? {
        return Ok(LoginOutcome::MfaRequired(challenge));
    }
    tx.audit("login.succeeded", Some(format!("user:{}", user.id)), serde_json::json!({ "kind": kind.as_str() }))
        .await?;
    let grant = crate::sessions::grant(m, tx.conn(), &tenant, user, client, device).await?;
    Ok(LoginOutcome::Granted(Box::new(grant)))
}

/// Ends every session and token of the signed-in user.
pub(crate) async fn logout(m: &IdentityModule, tx: &mut TenantTx<'_>, user: uuid::Uuid) -> Result<(), IdentityError> {
    let tenant_id = tx.tenant().id;
    crate::sessions::end_all_sessions(m, tx.conn(), tenant_id, user).await?;
    tx.audit("logout", Some(format!("user:{user}")), serde_json::json!({})).await?;
    Ok(())
}

/// Sets the new password (its hash) of the signed-in `user`, whose current one was checked:
/// every other session and token ends, the user is told, and this device gets a fresh grant.
pub(crate) async fn change_password(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    hash: &str,
    client: Client,
    device: &Device,
) -> Result<Grant, IdentityError> {
    let (tenant, stamp) = (tx.tenant().clone(), tx.stamp());
    crate::sessions::end_all_sessions(m, tx.conn(), tenant.id, user).await?;
    store::set_password(tx.conn(), user, hash, &stamp).await?;
    tx.audit("password.changed", Some(format!("user:{user}")), serde_json::json!({})).await?;
    let user = store::user_by_id(tx.conn(), user).await?.ok_or(IdentityError::Unauthenticated)?;
    notify_password_changed(m, tx, &user).await?;
    crate::sessions::grant(m, tx.conn(), &tenant, user, client, device).await
}

/// Mails a reset link if `email` belongs to an active `kind` account; nothing otherwise.
pub(crate) async fn request_reset(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    kind: UserKind,
    email: &str,
) -> Result<(), IdentityError> {
    if let Some(user) = store::user_by_email(tx.conn(), kind, email).await?.filter(UserRow::active) {
        send_link(m, tx, &user, "reset_password").await?;
        tx.audit("password.reset_requested", Some(format!("user:{}", user.id)), serde_json::json!({})).await?;
    }
    Ok(())
}

/// Sets a new password (its hash) with a reset link's token (`digest`), which names the
/// account; every session ends.
pub(crate) async fn confirm_reset(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    digest: &[u8],
    hash: &str,
) -> Result<(), IdentityError> {
    let user = consume_token(tx.conn(), digest, "reset_password").await?;
    // The link names its holder: what follows is theirs.
    tx.act_as(Actor::User(user));
    let (tenant_id, stamp) = (tx.tenant().id, tx.stamp());
    // An invitee sets a first password; only a real change is worth a warning.
    let before = store::user_by_id(tx.conn(), user).await?.filter(|u| u.password_hash.is_some());
    store::set_password(tx.conn(), user, hash, &stamp).await?;
    crate::sessions::end_all_sessions(m, tx.conn(), tenant_id, user).await?;
    if let Some(row) = before {
        notify_password_changed(m, tx, &row).await?;
    }
    // Following the link proves the mailbox too.
    diesel::update(users::table.filter(users::id.eq(user)).filter(users::email_verified_at.is_null()))
        .set(users::email_verified_at.eq(diesel::dsl::now))
        .execute(tx.conn())
        .await?;
    tx.audit("password.reset", Some(format!("user:{user}")), serde_json::json!({})).await?;
    Ok(())
}

/// Marks the email of the verification link's account verified.
pub(crate) async fn verify_email(tx: &mut TenantTx<'_>, digest: &[u8]) -> Result<(), IdentityError> {
    let user = consume_token(tx.conn(), digest, "verify_email").await?;
    tx.act_as(Actor::User(user));
    diesel::update(users::table.filter(users::id.eq(user)))
        .set((users::email_verified_at.eq(diesel::dsl::now), users::version.eq(users::version + 1)))
        .execute(tx.conn())
        .await?;
    tx.audit("email.verified", Some(format!("user:{user}")), serde_json::json!({})).await?;
    Ok(())
}

/// The account `user` as its holder sees it.
pub(crate) async fn account(conn: &mut AsyncPgConnection, user: uuid::Uuid) -> Result<Account, IdentityError> {
    let row = store::user_by_id(conn, user).await?.ok_or(IdentityError::NotFound("account"))?;
    let roles = store::role_keys(conn, user).await?;
    Ok(row.into_account(roles))
}

/// Records a single-use token and mails its link through the notifications port. The link is
/// the shop's configured address (never the request's Host), and the email marks it a one-time
/// credential, so only the recipient's copy holds it.
pub(crate) async fn send_link(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: &UserRow,
    purpose: &str,
) -> Result<(), IdentityError> {
    let link = new_link(m, tx, user, purpose).await?;
    let name = if user.name.is_empty() { &user.email } else { &user.name };
    let (template, variables, secret) = match purpose {
        // The same single-use token as a reset (the same confirmation sets the password), in
        // words for someone who never had one.
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
    mail(m, tx, user, template, variables, &[secret]).await
}

/// Records a single-use token for `user` and returns its link under the shop's address.
pub(crate) async fn new_link(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: &UserRow,
    purpose: &str,
) -> Result<OneTimeLink, IdentityError> {
    let token = tokens::random_token(32);
    // Staff without a password are invitees: they may not read their email within the hour.
    let invitation = user.kind() == UserKind::Staff && user.password_hash.is_none();
    let ttl = if invitation { m.settings().invitation_ttl } else { m.settings().email_link_ttl };
    let ttl = chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(1));
    diesel::insert_into(one_time_tokens::table)
        .values((
            one_time_tokens::token_hash.eq(tokens::digest(&token)),
            one_time_tokens::user_id.eq(user.id),
            one_time_tokens::purpose.eq(purpose),
            one_time_tokens::expires_at.eq(Utc::now() + ttl),
        ))
        .execute(tx.conn())
        .await?;
    let base = shop_url(m, tx).await?;
    let area = if user.kind() == UserKind::Staff { "admin/" } else { "" };
    let url = match purpose {
        "reset_password" if invitation => format!("{base}/admin/accept-invitation?token={token}"),
        "reset_password" => format!("{base}/{area}reset-password?token={token}"),
        _ => format!("{base}/{area}verify-email?token={token}"),
    };
    Ok(OneTimeLink { url, ttl, invitation })
}

/// The shop's base URL (`https://shop.example.com`), from configuration and the shop's primary
/// domain through the wired [`ShopAddress`](agora_kernel::ports::ShopAddress); read in `tx`.
pub(crate) async fn shop_url(m: &IdentityModule, tx: &mut TenantTx<'_>) -> Result<String, IdentityError> {
    match &m.inner.address {
        Some(address) => address.base_url(tx).await.map_err(IdentityError::ShopAddress),
        None => Err(IdentityError::ShopAddress(PortError::Failed("no shop address is configured".into()))),
    }
}

/// Tells the user their password changed, so a change they did not make does not go unnoticed.
pub(crate) async fn notify_password_changed(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: &UserRow,
) -> Result<(), IdentityError> {
    let variables = serde_json::json!({
        "customer_name": if user.name.is_empty() { &user.email } else { &user.name },
        "changed_at": Utc::now().format("%Y-%m-%d %H:%M UTC").to_string(),
    });
    mail(m, tx, user, "password_changed", variables, &[]).await
}

/// Mails `user` (addressed to their account, not just their address); `secrets` names the
/// variables that are one-time credentials.
async fn mail(
    m: &IdentityModule,
    tx: &mut TenantTx<'_>,
    user: &UserRow,
    template: &str,
    variables: serde_json::Value,
    secrets: &[&str],
) -> Result<(), IdentityError> {
    let Some(mail) = &m.inner.mail else {
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
    mail.send(tx, email).await.map_err(IdentityError::Mail)
}

/// A one-time link just recorded.
pub(crate) struct OneTimeLink {
    pub url: String,
    pub ttl: chrono::Duration,
    /// It invites a staff member to set their first password.
    pub invitation: bool,
}

/// Whether a one-time token is current (unused, unexpired), without using it.
pub(crate) async fn live_token(
    conn: &mut AsyncPgConnection,
    digest: &[u8],
    purpose: &str,
) -> Result<(), IdentityError> {
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
