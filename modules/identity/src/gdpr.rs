//! A customer's rights over their personal data: a copy of all of it (export) and its erasure.
//!
//! Erasure anonymises, it never deletes rows that financial records reference: the `users` row and
//! its id stay (orders, invoices and refunds will point at it and must stay intact for tax law),
//! while every personal field in it is blanked and every credential ends. Rows nothing financial
//! refers to (addresses, MFA secrets, sessions, one-time links) are deleted outright; orders are
//! expected to keep their own copy of the shipping and billing address. Modules above identity
//! that keep personal data by email address (notifications: every email sent) take part through
//! the kernel's `PersonalDataHolder` port, inside the same transaction.

use crate::access::AuditEntry;
use crate::addresses::Address;
use crate::schema::{audit_log, customer_addresses, one_time_tokens, user_roles, users};
use crate::store::{self, UserRow};
use crate::{mfa, Account, IdentityError, IdentityModule, UserKind};
use agora_kernel::{Actor, TenantContext};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// Everything the shop holds about one customer, as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct CustomerExport {
    pub exported_at: DateTime<Utc>,
    /// The categories of personal data in this export.
    pub categories: Vec<String>,
    pub account: Account,
    pub phone: Option<String>,
    pub locale: Option<String>,
    pub addresses: Vec<Address>,
    /// Whether an authenticator app is set up (its secret is not exported: it is a credential).
    pub mfa_enabled: bool,
    /// Security events about the account: logins, failed logins with its email, password and
    /// MFA changes.
    pub security_events: Vec<AuditEntry>,
    /// What other parts of the shop keep about the customer, one section per category (the
    /// emails sent to them, with their content; later orders, reviews, …).
    pub held_elsewhere: Vec<DataSection>,
}

/// One category of personal data kept outside the account.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct DataSection {
    pub category: String,
    pub data: serde_json::Value,
}

/// The customer confirms an erasure of their own account with their password.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    pub password: String,
}

/// A customer of this shop (not staff, not already erased), or "not found".
async fn customer(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> Result<UserRow, IdentityError> {
    store::user_by_id(conn, id)
        .await?
        .filter(|u| u.kind() == UserKind::Customer)
        .ok_or(IdentityError::NotFound("customer"))
}

/// The audit log names an account by id, or by the email typed for a failed login.
fn subjects(user: &UserRow) -> [String; 2] {
    [format!("user:{}", user.id), format!("email:{}", user.email.to_lowercase())]
}

impl IdentityModule {
    /// All personal data of customer `id`; recorded in the audit log as exported by `actor`.
    pub async fn export_customer(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        actor: &Actor,
        ip: Option<String>,
    ) -> Result<CustomerExport, IdentityError> {
        let (actor, this, tenant_id) = (actor.clone(), self.clone(), tenant.id);
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let user = customer(conn, id).await?;
                let account = crate::accounts::account_key(UserKind::Customer, id);
                let mut held_elsewhere = Vec::new();
                for holder in &this.inner.personal_data {
                    let data = holder.export(conn, &account, &user.email).await.map_err(IdentityError::PersonalData)?;
                    held_elsewhere.push(DataSection { category: holder.category().into(), data });
                }
                let (phone, locale): (Option<String>, Option<String>) =
                    users::table.filter(users::id.eq(id)).select((users::phone, users::locale)).first(conn).await?;
                let addresses: Vec<Address> = customer_addresses::table
                    .filter(customer_addresses::user_id.eq(id))
                    .filter(customer_addresses::deleted_at.is_null())
                    .order((customer_addresses::created_at, customer_addresses::id))
                    .select(Address::as_select())
                    .load(conn)
                    .await?;
                let security_events: Vec<AuditEntry> = audit_log::table
                    .filter(audit_log::subject.eq_any(subjects(&user)))
                    .order((audit_log::occurred_at, audit_log::id))
                    .select(AuditEntry::as_select())
                    .load(conn)
                    .await?;
                let mfa_enabled = mfa::mfa_active(conn, tenant_id, id).await?;
                store::audit(
                    conn,
                    &actor,
                    "account.exported",
                    Some(format!("user:{id}")),
                    ip.as_deref(),
                    serde_json::json!({}),
                )
                .await?;
                let categories = ["account", "contact details", "addresses", "second factor status", "security events"]
                    .map(String::from)
                    .into_iter()
                    .chain(held_elsewhere.iter().map(|section| section.category.clone()))
                    .collect();
                Ok(CustomerExport {
                    exported_at: Utc::now(),
                    categories,
                    account: user.into_account(Vec::new()),
                    phone,
                    locale,
                    addresses,
                    mfa_enabled,
                    security_events,
                    held_elsewhere,
                })
            })
            .await
    }

    /// The signed-in customer erases their own account, confirming with their password.
    pub async fn erase_my_account(
        &self,
        tenant: &TenantContext,
        user: uuid::Uuid,
        request: ErasureRequest,
        ip: Option<String>,
    ) -> Result<(), IdentityError> {
        let stored = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                Ok::<_, IdentityError>(store::user_by_id(conn, user).await?.and_then(|u| u.password_hash))
            })
            .await?;
        if !self.passwords().verify(SecretString::from(request.password), stored).await? {
            return Err(IdentityError::field("password", "is not your current password"));
        }
        self.erase_customer(tenant, user, &Actor::User(user), ip).await
    }

    /// Anonymises customer `id` (see the module's rule) and ends all their access, in one
    /// transaction; recorded in the audit log as erased by `actor`.
    pub async fn erase_customer(
        &self,
        tenant: &TenantContext,
        id: uuid::Uuid,
        actor: &Actor,
        ip: Option<String>,
    ) -> Result<(), IdentityError> {
        let (actor, this, tenant_id) = (actor.clone(), self.clone(), tenant.id);
        self.db()
            .tenant_tx(&tenant.schema, async move |conn| {
                let user = customer(conn, id).await?;
                let anonymous = format!("erased-{id}@invalid");
                let account = crate::accounts::account_key(UserKind::Customer, id);
                for holder in &this.inner.personal_data {
                    holder.erase(conn, &account, &user.email, &anonymous).await.map_err(IdentityError::PersonalData)?;
                }
                this.end_all_sessions(conn, tenant_id, id).await?;
                mfa::remove_mfa(conn, tenant_id, id).await?;
                crate::oidc::forget_user(conn, id).await?;
                diesel::delete(one_time_tokens::table.filter(one_time_tokens::user_id.eq(id))).execute(conn).await?;
                diesel::delete(user_roles::table.filter(user_roles::user_id.eq(id))).execute(conn).await?;
                diesel::delete(customer_addresses::table.filter(customer_addresses::user_id.eq(id)))
                    .execute(conn)
                    .await?;
                let email = user.email.to_lowercase();
                // Throttle keys name the email too; they go with it.
                let scope = agora_kernel::throttle::ThrottleScope::Shop(tenant_id);
                for key in [
                    format!("account:customer:{email}"),
                    format!("register:email:{email}"),
                    format!("reset:email:{email}"),
                ] {
                    agora_kernel::throttle::forget(conn, scope, &key).await?;
                }
                // The log of security events stays (it is evidence), but no longer names the
                // person: failed logins recorded by email now point at the anonymous account.
                let [by_id, by_email] = subjects(&user);
                diesel::update(audit_log::table.filter(audit_log::subject.eq(by_email)))
                    .set(audit_log::subject.eq(&by_id))
                    .execute(conn)
                    .await?;
                // The row stays for the financial records that reference it; `deleted_at` frees
                // the email for a new registration and hides the account from every lookup.
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
                        users::modified_at.eq(diesel::dsl::now),
                        users::modified_by.eq(actor.audit_name()),
                        users::version.eq(users::version + 1),
                    ))
                    .execute(conn)
                    .await?;
                store::audit(conn, &actor, "account.erased", Some(by_id), ip.as_deref(), serde_json::json!({})).await?;
                Ok(())
            })
            .await
    }
}
