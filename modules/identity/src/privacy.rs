//! What identity holds about a customer, for the customers module's GDPR export and erasure.
//!
//! Both run inside the customers module's transaction, so an erasure removes the person
//! everywhere or nowhere. Identity's part of an erasure anonymises, it never deletes the `users`
//! row: orders, invoices and refunds will point at it and must stay intact for tax law. Every
//! personal field in it is blanked and every credential ends; what nothing financial refers to
//! (MFA secrets, sessions, one-time links, provider links) is deleted outright.

use crate::access::AuditEntry;
use crate::login::mfa;
use crate::schema::{audit_log, one_time_tokens, user_roles, users};
use crate::store::{self, UserRow};
use crate::{Account, IdentityError, IdentityModule, UserKind};
use agora_kernel::TenantTx;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The account part of a customer's data export.
#[derive(Debug, Clone)]
pub struct CustomerAccountData {
    pub account: Account,
    pub phone: Option<String>,
    pub locale: Option<String>,
    /// Whether an authenticator app is set up (its secret is a credential, never exported).
    pub mfa_enabled: bool,
    /// Security events about the account: logins, failed logins with its email, password and
    /// MFA changes.
    pub security_events: Vec<AuditEntry>,
}

/// A customer of this shop (not staff, not already erased), or "not found".
pub(crate) async fn customer(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> Result<UserRow, IdentityError> {
    store::user_by_id(conn, id)
        .await?
        .filter(|u| u.kind() == UserKind::Customer)
        .ok_or(IdentityError::NotFound("customer"))
}

/// The audit log names an account by id, or by the email typed for a failed login.
fn subjects(user: &UserRow) -> [String; 2] {
    [format!("user:{}", user.id), format!("email:{}", user.email.to_lowercase())]
}

/// Everything identity keeps about customer `id`; records the export in the audit log (after
/// reading it, so the export does not list itself).
pub(crate) async fn export(tx: &mut TenantTx<'_>, id: uuid::Uuid) -> Result<CustomerAccountData, IdentityError> {
    let tenant_id = tx.tenant().id;
    let conn = tx.conn();
    let user = customer(conn, id).await?;
    let (phone, locale): (Option<String>, Option<String>) =
        users::table.filter(users::id.eq(id)).select((users::phone, users::locale)).first(conn).await?;
    let security_events: Vec<AuditEntry> = audit_log::table
        .filter(audit_log::subject.eq_any(subjects(&user)))
        .order((audit_log::occurred_at, audit_log::id))
        .select(AuditEntry::as_select())
        .load(conn)
        .await?;
    let mfa_enabled = mfa::mfa_active(conn, tenant_id, id).await?;
    tx.audit("account.exported", Some(format!("user:{id}")), serde_json::json!({})).await?;
    Ok(CustomerAccountData { account: user.into_account(Vec::new()), phone, locale, mfa_enabled, security_events })
}

/// Anonymises customer `id`'s account and ends all their access; records the erasure in the
/// audit log as done by whoever `tx` acts for.
pub(crate) async fn erase(module: &IdentityModule, tx: &mut TenantTx<'_>, id: uuid::Uuid) -> Result<(), IdentityError> {
    let (tenant_id, stamp) = (tx.tenant().id, tx.stamp());
    let conn = tx.conn();
    let user = customer(conn, id).await?;
    let anonymous = anonymous_email(id);
    crate::sessions::end_all_sessions(module, conn, tenant_id, id).await?;
    mfa::remove_mfa(conn, tenant_id, id).await?;
    crate::login::oidc::forget_user(conn, id).await?;
    diesel::delete(one_time_tokens::table.filter(one_time_tokens::user_id.eq(id))).execute(conn).await?;
    diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id))).execute(conn).await?;
    let email = user.email.to_lowercase();
    // Throttle keys name the email too; they go with it.
    let scope = agora_kernel::throttle::ThrottleScope::Shop(tenant_id);
    for key in [format!("account:customer:{email}"), format!("register:email:{email}"), format!("reset:email:{email}")]
    {
        agora_kernel::throttle::forget(conn, scope, &key).await?;
    }
    // The log of security events stays (it is evidence), but no longer names the person:
    // failed logins recorded by email now point at the anonymous account.
    let [by_id, by_email] = subjects(&user);
    diesel::update(audit_log::table.filter(audit_log::subject.eq(by_email)))
        .set(audit_log::subject.eq(&by_id))
        .execute(conn)
        .await?;
    // The row stays for the financial records that reference it; `deleted_at` frees the email
    // for a new registration and hides the account from every lookup.
    diesel::update(users::table.filter(users::id.eq(id)))
        .set((
            users::email.eq(&anonymous),
            users::name.eq(""),
            users::phone.eq(None::<String>),
            users::locale.eq(None::<String>),
            users::password_hash.eq(None::<String>),
            users::email_verified_at.eq(None::<DateTime<Utc>>),
            users::disabled_at.eq(diesel::dsl::now),
            users::deleted_at.eq(diesel::dsl::now),
            agora_kernel::stamp_change!(stamp, users),
        ))
        .execute(conn)
        .await?;
    tx.audit("account.erased", Some(by_id), serde_json::json!({})).await?;
    Ok(())
}

/// The address that takes an erased customer's email's place wherever a row must stay.
pub(crate) fn anonymous_email(id: uuid::Uuid) -> String {
    format!("erased-{id}@invalid")
}

/// The customer's own name or language, validated by the caller.
pub(crate) async fn set_profile(
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    name: Option<&str>,
    locale: Option<&str>,
) -> Result<Account, IdentityError> {
    let stamp = tx.stamp();
    let conn = tx.conn();
    let target = users::table.filter(users::id.eq(user));
    if let Some(name) = name {
        diesel::update(target).set(users::name.eq(name)).execute(conn).await?;
    }
    if let Some(locale) = locale {
        diesel::update(target).set(users::locale.eq(locale)).execute(conn).await?;
    }
    diesel::update(target).set(agora_kernel::stamp_change!(stamp, users)).execute(conn).await?;
    let row = store::user_by_id(conn, user).await?.ok_or(IdentityError::NotFound("account"))?;
    let roles = store::role_keys(conn, user).await?;
    Ok(row.into_account(roles))
}
