//! A customer's rights over their personal data: a copy of all of it (export) and its erasure.
//!
//! Erasure anonymises, it never deletes rows that financial records reference: identity keeps
//! the account's row and id (orders, invoices and refunds point at it and must stay intact for
//! tax law) with every personal field blanked and every credential ended. The address book goes
//! outright; orders are expected to keep their own copy of the shipping and billing address.
//! Modules above that keep personal data by account or email address (notifications: every
//! email sent) take part through the kernel's `PersonalDataHolder` port, inside the same
//! transaction, so an erasure removes the person everywhere or nowhere.

use crate::addresses::{self, Address};
use crate::CustomersError;
use agora_identity::{AuditEntry, IdentityModule, UserKind};
use agora_kernel::ports::PersonalDataHolder;
use agora_kernel::TenantTx;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// Everything the shop holds about one customer, as JSON.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct CustomerExport {
    pub exported_at: DateTime<Utc>,
    /// The categories of personal data in this export.
    pub categories: Vec<String>,
    pub account: agora_identity::Account,
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

/// All personal data of customer `id`, in the caller's transaction; identity records the export
/// in the audit log as done by whoever the transaction acts for.
pub(crate) async fn export(
    tx: &mut TenantTx<'_>,
    identity: &IdentityModule,
    holders: &[Arc<dyn PersonalDataHolder>],
    id: uuid::Uuid,
) -> Result<CustomerExport, CustomersError> {
    let email = identity.customer_email(tx, id).await?;
    let account = IdentityModule::account_key(UserKind::Customer, id);
    let mut held_elsewhere = Vec::new();
    for holder in holders {
        let data = holder.export(tx, &account, &email).await.map_err(CustomersError::PersonalData)?;
        held_elsewhere.push(DataSection { category: holder.category().into(), data });
    }
    let addresses = addresses::list(tx.conn(), id).await?;
    let held = identity.export_customer_account(tx, id).await?;
    let categories = ["account", "contact details", "addresses", "second factor status", "security events"]
        .map(String::from)
        .into_iter()
        .chain(held_elsewhere.iter().map(|section| section.category.clone()))
        .collect();
    Ok(CustomerExport {
        exported_at: Utc::now(),
        categories,
        account: held.account,
        phone: held.phone,
        locale: held.locale,
        addresses,
        mfa_enabled: held.mfa_enabled,
        security_events: held.security_events,
        held_elsewhere,
    })
}

/// Anonymises customer `id` everywhere and ends all their access, in the caller's transaction;
/// identity records the erasure in the audit log as done by whoever the transaction acts for.
pub(crate) async fn erase(
    tx: &mut TenantTx<'_>,
    identity: &IdentityModule,
    holders: &[Arc<dyn PersonalDataHolder>],
    id: uuid::Uuid,
) -> Result<(), CustomersError> {
    let email = identity.customer_email(tx, id).await?;
    let anonymous = IdentityModule::anonymous_email(id);
    let account = IdentityModule::account_key(UserKind::Customer, id);
    for holder in holders {
        holder.erase(tx, &account, &email, &anonymous).await.map_err(CustomersError::PersonalData)?;
    }
    addresses::forget(tx.conn(), id).await?;
    identity.erase_customer_account(tx, id).await?;
    Ok(())
}
