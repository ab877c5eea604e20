//! The shop's customers as its staff find them: a search over the accounts, newest first, and
//! one customer's page (profile, address book, when they registered and last signed in). An
//! erased customer is listed as erased, with nothing personal left to show.

use crate::addresses::{self, Address};
use crate::CustomersError;
use agora_identity::{CustomerRecord, CustomerSearch, IdentityModule};
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::TenantTx;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Longest search text accepted.
const MAX_SEARCH_LEN: usize = 200;

/// A customer in the shop's list. `email` and `name` are absent once the customer is erased.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct CustomerSummary {
    pub id: uuid::Uuid,
    pub email: Option<String>,
    pub name: Option<String>,
    pub email_verified: bool,
    /// Signed out everywhere and unable to sign in (an erased customer is too).
    pub disabled: bool,
    /// Personal data erased on request; the id stays for the shop's records.
    pub erased: bool,
    /// When the customer registered.
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// One customer, for their page in the admin. Personal fields are absent once erased.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct CustomerDetail {
    pub id: uuid::Uuid,
    pub email: Option<String>,
    pub name: Option<String>,
    /// The language the customer's emails are in, when they chose one.
    pub locale: Option<String>,
    pub phone: Option<String>,
    pub email_verified: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub disabled: bool,
    pub erased: bool,
    pub erased_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// The address book, oldest first.
    pub addresses: Vec<Address>,
    /// The groups the customer is in (by hand or by their email's domain), by name.
    pub groups: Vec<crate::CustomerGroupMembership>,
}

/// The search as the admin's list sends it, unchecked.
#[derive(Debug, Clone, Default)]
pub struct CustomerFilter {
    pub q: Option<String>,
    pub email_verified: Option<bool>,
    pub erased: Option<bool>,
}

/// The filter, checked before the transaction opens: a search text has a sensible length.
pub(crate) fn validate(filter: CustomerFilter) -> Result<CustomerSearch, CustomersError> {
    let text = filter.q.map(|q| q.trim().to_string()).filter(|q| !q.is_empty());
    if text.as_ref().is_some_and(|q| q.chars().count() > MAX_SEARCH_LEN) {
        return Err(CustomersError::field("q", format!("at most {MAX_SEARCH_LEN} characters")));
    }
    Ok(CustomerSearch { text, email_verified: filter.email_verified, erased: filter.erased })
}

fn summary(record: CustomerRecord) -> CustomerSummary {
    CustomerSummary {
        id: record.id,
        email_verified: record.email_verified_at.is_some(),
        erased: record.erased_at.is_some(),
        email: record.email,
        name: record.name,
        disabled: record.disabled,
        created_at: record.created_at,
        last_sign_in_at: record.last_sign_in_at,
    }
}

pub(crate) async fn search(
    tx: &mut TenantTx<'_>,
    identity: &IdentityModule,
    page: &Keyset<DateTime<Utc>>,
    search: &CustomerSearch,
) -> Result<Page<CustomerSummary>, CustomersError> {
    let found = identity.search_customers(tx.conn(), page, search).await?;
    Ok(Page { items: found.items.into_iter().map(summary).collect(), next_cursor: found.next_cursor })
}

pub(crate) async fn get(
    tx: &mut TenantTx<'_>,
    identity: &IdentityModule,
    id: uuid::Uuid,
) -> Result<CustomerDetail, CustomersError> {
    let record = identity.customer_record(tx.conn(), id).await?;
    // Erasure forgets the address book; an erased customer shows none whatever is left.
    let addresses = match record.erased_at {
        None => addresses::list(tx.conn(), id).await?,
        Some(_) => Vec::new(),
    };
    let groups = crate::groups::of_customer(tx, identity, id).await?;
    Ok(CustomerDetail {
        id: record.id,
        email_verified: record.email_verified_at.is_some(),
        email_verified_at: record.email_verified_at,
        erased: record.erased_at.is_some(),
        erased_at: record.erased_at,
        email: record.email,
        name: record.name,
        locale: record.locale,
        phone: record.phone,
        disabled: record.disabled,
        created_at: record.created_at,
        last_sign_in_at: record.last_sign_in_at,
        addresses,
        groups,
    })
}
