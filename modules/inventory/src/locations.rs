//! Stock locations: warehouses and stores, their priority and where they ship.

use crate::availability;
use crate::error::InventoryError;
use crate::reservations::country;
use crate::store::{self, LocationFields, LocationRow};
use crate::{Address, Location, LocationId, LocationPatch, NewLocation, PickupLocation};
use agora_kernel::events::EventBus;
use agora_kernel::{TenantTx, Version};

const DEFAULT_PRIORITY: i32 = 100;
const MAX_PRIORITY: i32 = 1_000_000;

fn name(raw: &str) -> Result<String, InventoryError> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(InventoryError::field("name", "1 to 200 characters"));
    }
    Ok(name.to_string())
}

fn priority(p: i32) -> Result<i32, InventoryError> {
    if (0..=MAX_PRIORITY).contains(&p) {
        Ok(p)
    } else {
        Err(InventoryError::field("priority", format!("a whole number from 0 to {MAX_PRIORITY}")))
    }
}

fn ships_to(raw: &[String]) -> Result<Vec<String>, InventoryError> {
    let mut out: Vec<String> = Vec::with_capacity(raw.len());
    for (i, c) in raw.iter().enumerate() {
        out.push(country(&format!("ships_to[{i}]"), c)?);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn address(a: &Address) -> Result<serde_json::Value, InventoryError> {
    for (field, value) in [
        ("line1", &a.line1),
        ("line2", &a.line2),
        ("city", &a.city),
        ("postal_code", &a.postal_code),
        ("region", &a.region),
    ] {
        if value.as_deref().is_some_and(|v| v.chars().count() > 200) {
            return Err(InventoryError::field(format!("address.{field}"), "at most 200 characters"));
        }
    }
    if let Some(c) = &a.country {
        country("address.country", c)?;
    }
    serde_json::to_value(a).map_err(|e| InventoryError::field("address", e.to_string()))
}

fn to_location(r: LocationRow) -> Location {
    Location {
        id: r.id,
        name: r.name,
        address: serde_json::from_value(r.address).unwrap_or_default(),
        priority: r.priority,
        active: r.active,
        ships_to: r.ships_to,
        pickup: r.pickup,
        created_at: r.created_at,
        modified_at: r.modified_at,
        version: r.version,
    }
}

/// A unique-name violation is the merchant's duplicate, not a server error.
fn name_taken(name: &str) -> impl FnOnce(diesel::result::Error) -> InventoryError + '_ {
    move |e| match e {
        diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
            InventoryError::LocationNameTaken(name.to_string())
        }
        other => other.into(),
    }
}

pub(crate) async fn create(tx: &mut TenantTx<'_>, new: NewLocation) -> Result<Location, InventoryError> {
    let name = name(&new.name)?;
    let address = address(&new.address.unwrap_or_default())?;
    let priority = priority(new.priority.unwrap_or(DEFAULT_PRIORITY))?;
    let ships_to = ships_to(new.ships_to.as_deref().unwrap_or_default())?;
    let fields = LocationFields {
        name: &name,
        address: &address,
        priority,
        active: new.active.unwrap_or(true),
        ships_to: &ships_to,
        pickup: new.pickup.unwrap_or(false),
    };
    let stamp = tx.stamp();
    let row =
        store::insert_location(tx.conn(), LocationId::new_v7(), &fields, &stamp).await.map_err(name_taken(&name))?;
    tx.audit("inventory.location.created", Some(row.id.to_string()), serde_json::json!({"name": name})).await?;
    Ok(to_location(row))
}

pub(crate) async fn list(tx: &mut TenantTx<'_>) -> Result<Vec<Location>, InventoryError> {
    Ok(store::list_locations(tx.conn()).await?.into_iter().map(to_location).collect())
}

/// Where shoppers may collect orders: active locations that allow pickup, first choice first.
pub(crate) async fn pickup(tx: &mut TenantTx<'_>) -> Result<Vec<PickupLocation>, InventoryError> {
    Ok(store::list_locations(tx.conn())
        .await?
        .into_iter()
        .filter(|l| l.active && l.pickup)
        .map(to_location)
        .map(|l| PickupLocation { id: l.id, name: l.name, address: l.address })
        .collect())
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: LocationId) -> Result<Location, InventoryError> {
    store::find_location(tx.conn(), id, false)
        .await?
        .map(to_location)
        .ok_or(InventoryError::LocationNotFound { field: None })
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: LocationId,
    patch: LocationPatch,
    expected: Option<i64>,
) -> Result<Location, InventoryError> {
    let current =
        store::find_location(tx.conn(), id, true).await?.ok_or(InventoryError::LocationNotFound { field: None })?;
    Version::check(expected, current.version)?;
    let name = match &patch.name {
        Some(n) => name(n)?,
        None => current.name.clone(),
    };
    let address = match &patch.address {
        Some(a) => address(a)?,
        None => current.address.clone(),
    };
    let priority = priority(patch.priority.unwrap_or(current.priority))?;
    let ships_to = match &patch.ships_to {
        Some(s) => ships_to(s)?,
        None => current.ships_to.clone(),
    };
    let fields = LocationFields {
        name: &name,
        address: &address,
        priority,
        active: patch.active.unwrap_or(current.active),
        ships_to: &ships_to,
        pickup: patch.pickup.unwrap_or(current.pickup),
    };
    let stamp = tx.stamp();
    let row = store::update_location(tx.conn(), id, &fields, &stamp).await.map_err(name_taken(&name))?;
    tx.audit("inventory.location.updated", Some(id.to_string()), serde_json::json!({})).await?;
    if row.active != current.active {
        // Opening or closing a location changes what its variants have available to sell.
        let variants = store::variants_at(tx.conn(), id).await?;
        availability::lock(tx, &variants, &[]).await?;
        availability::refresh_all(tx, bus, variants).await?;
    }
    Ok(to_location(row))
}

pub(crate) async fn delete(tx: &mut TenantTx<'_>, id: LocationId, expected: Option<i64>) -> Result<(), InventoryError> {
    let current =
        store::find_location(tx.conn(), id, true).await?.ok_or(InventoryError::LocationNotFound { field: None })?;
    Version::check(expected, current.version)?;
    if store::location_holds_stock(tx.conn(), id).await? {
        return Err(InventoryError::LocationHoldsStock);
    }
    let stamp = tx.stamp();
    store::delete_location(tx.conn(), id, &stamp).await?;
    tx.audit("inventory.location.deleted", Some(id.to_string()), serde_json::json!({"name": current.name})).await?;
    Ok(())
}
