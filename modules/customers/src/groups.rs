//! Customer groups (wholesale, VIP, staff…): who a price list or a promotion is for.
//!
//! A customer is in a group in two ways:
//! - **by hand**: staff add or remove them;
//! - **by rule**: the group lists email domains (`acme.com`), and a customer whose account email
//!   is at one of them — and **verified**, so nobody joins the wholesale group by typing someone
//!   else's domain at registration — is a member.
//!
//! Rule membership is computed when asked ([`of_customer`]), not stored. The email belongs to the
//! account in identity, which changes it (verification, a new address, erasure) and never calls
//! up into this module; a stored membership would lag behind (or need a subscriber and a
//! backfill whenever a rule changes). Computing it is one indexed query after reading the
//! account, inside the caller's transaction, so a price asked for at checkout sees the same
//! groups as the rows it reads.

use crate::events::{CustomerGroupChanged, CustomerGroupDeleted, CustomerGroupMembershipChanged};
use crate::groups_store::{self, GroupFields, GroupRow};
use crate::CustomersError;
use agora_identity::IdentityModule;
use agora_kernel::events::EventBus;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::{FieldError, TenantTx, Version};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};

agora_kernel::typed_id! {
    /// A customer group.
    pub CustomerGroupId
}

/// Most email domains one group may list.
const MAX_DOMAINS: usize = 100;

/// A customer group as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CustomerGroup {
    pub id: CustomerGroupId,
    /// What price lists, promotions and integrations name it by (`wholesale`).
    pub key: String,
    pub name: String,
    /// Customers whose verified email is at one of these domains are members.
    pub email_domains: Vec<String>,
    /// How many customers staff added by hand (rule members are not counted: they are whoever
    /// matches when asked).
    pub member_count: i64,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// A new group.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomerGroup {
    /// 1–40 lowercase letters, digits, `-` or `_`, starting with a letter or digit; unique.
    pub key: String,
    pub name: String,
    /// Email domains whose verified customers are members (`acme.com`).
    #[serde(default)]
    pub email_domains: Option<Vec<String>>,
}

/// Changes to a group; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct CustomerGroupPatch {
    pub key: Option<String>,
    pub name: Option<String>,
    pub email_domains: Option<Vec<String>>,
}

/// A customer staff added to a group.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CustomerGroupMember {
    pub customer_id: uuid::Uuid,
    pub added_at: DateTime<Utc>,
    pub added_by: String,
}

/// A group a customer is in, and why.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CustomerGroupMembership {
    pub id: CustomerGroupId,
    pub key: String,
    pub name: String,
    /// Added by staff.
    pub by_hand: bool,
    /// Their verified email is at one of the group's domains.
    pub by_rule: bool,
}

pub(crate) fn key(raw: &str) -> Result<String, CustomersError> {
    let key = raw.trim();
    let ok = !key.is_empty()
        && key.len() <= 40
        && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && key.chars().next().is_some_and(|c| c.is_ascii_alphanumeric());
    if !ok {
        return Err(CustomersError::field(
            "key",
            "1 to 40 lowercase letters, digits, '-' or '_', starting with a letter or digit",
        ));
    }
    Ok(key.to_string())
}

fn name(raw: &str) -> Result<String, CustomersError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(CustomersError::field("name", "1 to 200 characters"));
    }
    Ok(name.to_string())
}

/// `@Acme.COM ` → `acme.com`; a domain has at least one dot, labels of letters, digits and `-`.
fn email_domains(raw: &[String]) -> Result<Vec<String>, CustomersError> {
    if raw.len() > MAX_DOMAINS {
        return Err(CustomersError::field("email_domains", format!("at most {MAX_DOMAINS} domains")));
    }
    let mut problems = Vec::new();
    let mut out = Vec::with_capacity(raw.len());
    for (i, d) in raw.iter().enumerate() {
        let domain = d.trim().trim_start_matches('@').to_ascii_lowercase();
        let labels: Vec<&str> = domain.split('.').collect();
        let ok = domain.len() <= 253
            && labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if ok {
            out.push(domain);
        } else {
            problems.push(FieldError::new(format!("email_domains[{i}]"), "a domain such as acme.com"));
        }
    }
    if !problems.is_empty() {
        return Err(agora_kernel::CommonError::Invalid(problems).into());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// The domain of an email, lowercased (`Jo@Acme.com` → `acme.com`).
fn domain_of(email: &str) -> Option<String> {
    email.rsplit_once('@').map(|(_, d)| d.trim().to_ascii_lowercase()).filter(|d| !d.is_empty())
}

fn to_group(row: GroupRow, member_count: i64) -> CustomerGroup {
    CustomerGroup {
        id: row.id,
        key: row.key,
        name: row.name,
        email_domains: row.email_domains,
        member_count,
        created_at: row.created_at,
        modified_at: row.modified_at,
        version: row.version,
    }
}

fn changed(row: &GroupRow, change: &str) -> CustomerGroupChanged {
    CustomerGroupChanged {
        group_id: row.id.as_uuid(),
        key: row.key.clone(),
        name: row.name.clone(),
        email_domains: row.email_domains.clone(),
        change: change.to_string(),
    }
}

/// A unique-key violation is the merchant's duplicate, not a server error.
fn key_taken(e: diesel::result::Error) -> CustomersError {
    match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            CustomersError::field("key", "another group has this key")
        }
        other => other.into(),
    }
}

pub(crate) async fn create(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    new: NewCustomerGroup,
) -> Result<CustomerGroup, CustomersError> {
    let key = key(&new.key)?;
    let name = name(&new.name)?;
    let domains = email_domains(new.email_domains.as_deref().unwrap_or_default())?;
    let stamp = tx.stamp();
    let fields = GroupFields { key: &key, name: &name, email_domains: &domains };
    let row = groups_store::insert(tx.conn(), CustomerGroupId::new_v7(), &fields, &stamp).await.map_err(key_taken)?;
    tx.audit("customers.group.created", Some(row.id.to_string()), serde_json::json!({"key": key})).await?;
    tx.publish(bus, &changed(&row, "created")).await?;
    Ok(to_group(row, 0))
}

pub(crate) async fn list(
    tx: &mut TenantTx<'_>,
    page: &Keyset<DateTime<Utc>>,
) -> Result<Page<CustomerGroup>, CustomersError> {
    let rows = groups_store::list(tx.conn(), page).await?;
    let ids: Vec<CustomerGroupId> = rows.iter().map(|r| r.id).collect();
    let counts = groups_store::member_counts(tx.conn(), &ids).await?;
    let groups: Vec<CustomerGroup> = rows
        .into_iter()
        .map(|r| {
            let n = counts.get(&r.id).copied().unwrap_or(0);
            to_group(r, n)
        })
        .collect();
    Ok(page.page(groups, |g| (g.created_at, g.id.into())))
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: CustomerGroupId) -> Result<CustomerGroup, CustomersError> {
    let row = groups_store::find(tx.conn(), id, false).await?.ok_or(CustomersError::NotFound("customer group"))?;
    let n = groups_store::member_counts(tx.conn(), &[id]).await?.get(&id).copied().unwrap_or(0);
    Ok(to_group(row, n))
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: CustomerGroupId,
    patch: CustomerGroupPatch,
    expected: Option<i64>,
) -> Result<CustomerGroup, CustomersError> {
    let current = groups_store::find(tx.conn(), id, true).await?.ok_or(CustomersError::NotFound("customer group"))?;
    Version::check(expected, current.version)?;
    let key = match &patch.key {
        Some(k) => key(k)?,
        None => current.key.clone(),
    };
    let name = match &patch.name {
        Some(n) => name(n)?,
        None => current.name.clone(),
    };
    let domains = match &patch.email_domains {
        Some(d) => email_domains(d)?,
        None => current.email_domains.clone(),
    };
    let stamp = tx.stamp();
    let fields = GroupFields { key: &key, name: &name, email_domains: &domains };
    let row = groups_store::update(tx.conn(), id, &fields, &stamp).await.map_err(key_taken)?;
    tx.audit("customers.group.updated", Some(id.to_string()), serde_json::json!({"key": key})).await?;
    tx.publish(bus, &changed(&row, "updated")).await?;
    let n = groups_store::member_counts(tx.conn(), &[id]).await?.get(&id).copied().unwrap_or(0);
    Ok(to_group(row, n))
}

pub(crate) async fn delete(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: CustomerGroupId,
    expected: Option<i64>,
) -> Result<(), CustomersError> {
    let current = groups_store::find(tx.conn(), id, true).await?.ok_or(CustomersError::NotFound("customer group"))?;
    Version::check(expected, current.version)?;
    let stamp = tx.stamp();
    groups_store::delete(tx.conn(), id, &stamp).await?;
    tx.audit("customers.group.deleted", Some(id.to_string()), serde_json::json!({"key": current.key})).await?;
    tx.publish(bus, &CustomerGroupDeleted { group_id: id.as_uuid(), key: current.key }).await?;
    Ok(())
}

pub(crate) async fn members(
    tx: &mut TenantTx<'_>,
    id: CustomerGroupId,
    page: &Keyset<DateTime<Utc>>,
) -> Result<Page<CustomerGroupMember>, CustomersError> {
    groups_store::find(tx.conn(), id, false).await?.ok_or(CustomersError::NotFound("customer group"))?;
    let rows = groups_store::members(tx.conn(), id, page).await?;
    Ok(page.page(rows, |m| (m.added_at, m.customer_id)))
}

/// Adds a customer by hand; adding one already there changes nothing.
pub(crate) async fn add_member(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    identity: &IdentityModule,
    id: CustomerGroupId,
    customer: uuid::Uuid,
) -> Result<(), CustomersError> {
    groups_store::find(tx.conn(), id, true).await?.ok_or(CustomersError::NotFound("customer group"))?;
    // Another shop's or a staff member's id is simply not a customer here.
    let record =
        identity.customer_record(tx.conn(), customer).await.map_err(|_| CustomersError::NotFound("customer"))?;
    if record.erased_at.is_some() {
        return Err(CustomersError::NotFound("customer"));
    }
    let stamp = tx.stamp();
    if groups_store::add_member(tx.conn(), id, customer, &stamp).await? {
        tx.audit("customers.group.member_added", Some(id.to_string()), serde_json::json!({"customer": customer}))
            .await?;
        let event =
            CustomerGroupMembershipChanged { group_id: id.as_uuid(), customer_id: customer, change: "added".into() };
        tx.publish(bus, &event).await?;
    }
    Ok(())
}

pub(crate) async fn remove_member(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: CustomerGroupId,
    customer: uuid::Uuid,
) -> Result<(), CustomersError> {
    groups_store::find(tx.conn(), id, true).await?.ok_or(CustomersError::NotFound("customer group"))?;
    if !groups_store::remove_member(tx.conn(), id, customer).await? {
        return Err(CustomersError::NotFound("group member"));
    }
    tx.audit("customers.group.member_removed", Some(id.to_string()), serde_json::json!({"customer": customer})).await?;
    let event =
        CustomerGroupMembershipChanged { group_id: id.as_uuid(), customer_id: customer, change: "removed".into() };
    tx.publish(bus, &event).await?;
    Ok(())
}

/// Every group `customer` is in, by hand or by rule (see the module doc), read in the caller's
/// transaction. An unknown id (another shop's, a staff member's) is in no group.
pub(crate) async fn of_customer(
    tx: &mut TenantTx<'_>,
    identity: &IdentityModule,
    customer: uuid::Uuid,
) -> Result<Vec<CustomerGroupMembership>, CustomersError> {
    let domain = match identity.customer_record(tx.conn(), customer).await {
        Ok(record) if record.email_verified_at.is_some() && !record.disabled => {
            record.email.as_deref().and_then(domain_of)
        }
        Ok(_) => None,
        Err(agora_identity::IdentityError::NotFound(_)) => return Ok(Vec::new()),
        Err(other) => return Err(other.into()),
    };
    let rows = groups_store::of_customer(tx.conn(), customer, domain.as_deref()).await?;
    Ok(rows
        .into_iter()
        .map(|(row, by_hand)| CustomerGroupMembership {
            by_rule: domain.as_ref().is_some_and(|d| row.email_domains.contains(d)),
            id: row.id,
            key: row.key,
            name: row.name,
            by_hand,
        })
        .collect())
}

/// The live groups among `ids` (others are absent), without their member counts.
pub(crate) async fn live(tx: &mut TenantTx<'_>, ids: &[CustomerGroupId]) -> Result<Vec<CustomerGroup>, CustomersError> {
    Ok(groups_store::live(tx.conn(), ids).await?.into_iter().map(|r| to_group(r, 0)).collect())
}

/// The ids of groups named by key, for callers that take keys (`wholesale`); unknown keys are
/// named in the error, with the index they had in `keys`.
pub(crate) async fn ids_by_key(
    tx: &mut TenantTx<'_>,
    keys: &[String],
    field: &str,
) -> Result<Vec<CustomerGroupId>, CustomersError> {
    let found = groups_store::by_keys(tx.conn(), keys).await?;
    let mut problems = Vec::new();
    let mut ids = Vec::with_capacity(keys.len());
    for (i, k) in keys.iter().enumerate() {
        match found.iter().find(|(_, key)| key == k) {
            Some((id, _)) => ids.push(*id),
            None => problems.push(FieldError::new(format!("{field}[{i}]"), "no customer group has this key")),
        }
    }
    if !problems.is_empty() {
        return Err(agora_kernel::CommonError::Invalid(problems).into());
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_normalised_and_checked() {
        let ok = email_domains(&["@Acme.COM ".into(), "acme.com".into(), "b2b.example.org".into()]).unwrap_or_default();
        assert_eq!(ok, vec!["acme.com", "b2b.example.org"]);
        assert!(email_domains(&["localhost".into()]).is_err());
        assert!(email_domains(&["acme..com".into()]).is_err());
        assert!(email_domains(&["-acme.com".into()]).is_err());
        assert_eq!(domain_of("Jo@Acme.com").as_deref(), Some("acme.com"));
    }

    #[test]
    fn keys_are_slugs() {
        assert!(key("wholesale").is_ok());
        assert!(key("vip_2").is_ok());
        assert!(key("VIP").is_err());
        assert!(key("-vip").is_err());
        assert!(key("").is_err());
    }
}
