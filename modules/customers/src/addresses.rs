//! A customer's address book: shipping and billing addresses, one default of each.

use crate::schema::customer_addresses as addresses;
use crate::CustomersError;
use agora_kernel::{new_id, FieldError, TenantTx, Version};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::{Deserialize, Serialize};

/// A postal address in a customer's address book.
#[derive(Debug, Clone, Serialize, Deserialize, Queryable, Selectable, paperclip::actix::Apiv2Schema)]
#[diesel(table_name = addresses)]
pub struct Address {
    pub id: uuid::Uuid,
    /// The recipient's name.
    pub name: String,
    pub company: Option<String>,
    pub line1: String,
    pub line2: Option<String>,
    pub city: String,
    /// State, province or county, where the country uses one.
    pub region: Option<String>,
    pub postal_code: String,
    /// ISO 3166-1 alpha-2, upper case (`DE`).
    pub country: String,
    pub phone: Option<String>,
    pub default_shipping: bool,
    pub default_billing: bool,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

/// An address to add, or (every field optional) the changes to one.
#[derive(Debug, Clone, Default, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct AddressInput {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
    pub phone: Option<String>,
    pub default_shipping: Option<bool>,
    pub default_billing: Option<bool>,
}

/// A checked address or change: `Some` for every field the input set.
#[derive(AsChangeset, Default)]
#[diesel(table_name = addresses)]
pub(crate) struct AddressChanges {
    name: Option<String>,
    company: Option<Option<String>>,
    line1: Option<String>,
    line2: Option<Option<String>>,
    city: Option<String>,
    region: Option<Option<String>>,
    postal_code: Option<String>,
    country: Option<String>,
    phone: Option<Option<String>>,
    default_shipping: Option<bool>,
    default_billing: Option<bool>,
}

fn text(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: Option<String>,
    required: bool,
    max: usize,
) -> Option<String> {
    let value = value.map(|v| v.trim().to_string());
    match &value {
        None if required => errors.push(FieldError::new(field, "is required")),
        Some(v) if v.is_empty() && required => errors.push(FieldError::new(field, "must not be empty")),
        Some(v) if v.chars().count() > max => errors.push(FieldError::new(field, format!("at most {max} characters"))),
        _ => {}
    }
    value
}

/// Checks an address; `creating` makes the mandatory fields mandatory.
pub(crate) fn validate(input: AddressInput, creating: bool) -> Result<AddressChanges, CustomersError> {
    let mut errors = Vec::new();
    let optional = |v: Option<String>| v.map(|v| Some(v.trim().to_string()).filter(|v| !v.is_empty()));
    let changes = AddressChanges {
        name: text(&mut errors, "name", input.name, creating, 200),
        line1: text(&mut errors, "line1", input.line1, creating, 200),
        city: text(&mut errors, "city", input.city, creating, 100),
        postal_code: text(&mut errors, "postal_code", input.postal_code, creating, 20),
        country: text(&mut errors, "country", input.country, creating, usize::MAX).map(|c| c.to_ascii_uppercase()),
        company: optional(text(&mut errors, "company", input.company, false, 200)),
        line2: optional(text(&mut errors, "line2", input.line2, false, 200)),
        region: optional(text(&mut errors, "region", input.region, false, 100)),
        phone: optional(text(&mut errors, "phone", input.phone, false, 40)),
        default_shipping: input.default_shipping,
        default_billing: input.default_billing,
    };
    if let Some(country) = &changes.country {
        if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_uppercase()) {
            errors.push(FieldError::new("country", "a two-letter ISO 3166 code such as DE"));
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        Err(agora_kernel::CommonError::Invalid(errors).into())
    }
}

/// Makes room for a new default: the customer's other addresses stop being it.
async fn clear_defaults(
    conn: &mut AsyncPgConnection,
    user: uuid::Uuid,
    except: uuid::Uuid,
    shipping: bool,
    billing: bool,
) -> QueryResult<()> {
    let others = addresses::table.filter(addresses::user_id.eq(user)).filter(addresses::id.ne(except));
    if shipping {
        diesel::update(others.filter(addresses::default_shipping))
            .set(addresses::default_shipping.eq(false))
            .execute(conn)
            .await?;
    }
    if billing {
        diesel::update(others.filter(addresses::default_billing))
            .set(addresses::default_billing.eq(false))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The customer's addresses, oldest first.
pub(crate) async fn list(conn: &mut AsyncPgConnection, user: uuid::Uuid) -> QueryResult<Vec<Address>> {
    addresses::table
        .filter(addresses::user_id.eq(user))
        .filter(addresses::deleted_at.is_null())
        .order((addresses::created_at, addresses::id))
        .select(Address::as_select())
        .load(conn)
        .await
}

pub(crate) async fn add(
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    changes: AddressChanges,
) -> Result<Address, CustomersError> {
    let stamp = tx.stamp();
    let id = new_id();
    let (shipping, billing) = (changes.default_shipping.unwrap_or(false), changes.default_billing.unwrap_or(false));
    clear_defaults(tx.conn(), user, id, shipping, billing).await?;
    Ok(diesel::insert_into(addresses::table)
        .values((
            addresses::id.eq(id),
            addresses::user_id.eq(user),
            addresses::name.eq(changes.name.unwrap_or_default()),
            addresses::line1.eq(changes.line1.unwrap_or_default()),
            addresses::city.eq(changes.city.unwrap_or_default()),
            addresses::postal_code.eq(changes.postal_code.unwrap_or_default()),
            addresses::country.eq(changes.country.unwrap_or_default()),
            addresses::company.eq(changes.company.flatten()),
            addresses::line2.eq(changes.line2.flatten()),
            addresses::region.eq(changes.region.flatten()),
            addresses::phone.eq(changes.phone.flatten()),
            addresses::default_shipping.eq(shipping),
            addresses::default_billing.eq(billing),
            agora_kernel::stamp_new!(stamp, addresses),
        ))
        .returning(Address::as_returning())
        .get_result(tx.conn())
        .await?)
}

/// Changes an address the customer owns; another customer's address is simply not found.
pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    user: uuid::Uuid,
    id: uuid::Uuid,
    changes: AddressChanges,
    expected_version: Option<i64>,
) -> Result<Address, CustomersError> {
    let stamp = tx.stamp();
    let current: Option<i64> = addresses::table
        .filter(addresses::id.eq(id))
        .filter(addresses::user_id.eq(user))
        .filter(addresses::deleted_at.is_null())
        .select(addresses::version)
        .for_update()
        .first(tx.conn())
        .await
        .optional()?;
    let current = current.ok_or(CustomersError::NotFound("address"))?;
    Version::check(expected_version, current)?;
    let (shipping, billing) = (changes.default_shipping == Some(true), changes.default_billing == Some(true));
    clear_defaults(tx.conn(), user, id, shipping, billing).await?;
    Ok(diesel::update(addresses::table.filter(addresses::id.eq(id)))
        .set((&changes, agora_kernel::stamp_change!(stamp, addresses)))
        .returning(Address::as_returning())
        .get_result(tx.conn())
        .await?)
}

pub(crate) async fn delete(tx: &mut TenantTx<'_>, user: uuid::Uuid, id: uuid::Uuid) -> Result<(), CustomersError> {
    let stamp = tx.stamp();
    let n = diesel::update(
        addresses::table
            .filter(addresses::id.eq(id))
            .filter(addresses::user_id.eq(user))
            .filter(addresses::deleted_at.is_null()),
    )
    .set((
        addresses::deleted_at.eq(diesel::dsl::now),
        addresses::default_shipping.eq(false),
        addresses::default_billing.eq(false),
        agora_kernel::stamp_change!(stamp, addresses),
    ))
    .execute(tx.conn())
    .await?;
    if n == 0 {
        return Err(CustomersError::NotFound("address"));
    }
    Ok(())
}

/// Every address the customer ever had goes, deleted ones too (an erasure).
pub(crate) async fn forget(conn: &mut AsyncPgConnection, user: uuid::Uuid) -> QueryResult<()> {
    diesel::delete(addresses::table.filter(addresses::user_id.eq(user))).execute(conn).await?;
    Ok(())
}
