//! Product types: the attributes (typed, optionally filterable) their products carry.

use crate::events::ProductTypeChanged;
use crate::store::{self, ProductTypeRow};
use crate::{
    AttributeDefinition, AttributeKind, CatalogError, NewProductType, ProductType, ProductTypeId, ProductTypePatch,
};
use agora_kernel::events::EventBus;
use agora_kernel::{CommonError, FieldError, TenantTx, Version};
use serde_json::json;
use std::collections::BTreeSet;

const MAX_ATTRIBUTES: usize = 50;
const MAX_ATTRIBUTE_OPTIONS: usize = 200;

pub(crate) fn definitions(raw: &serde_json::Value) -> Vec<AttributeDefinition> {
    serde_json::from_value(raw.clone()).unwrap_or_default()
}

fn to_product_type(row: ProductTypeRow) -> ProductType {
    ProductType {
        id: row.id,
        name: row.name,
        attributes: definitions(&row.attributes),
        created_at: row.created_at,
        modified_at: row.modified_at,
        version: row.version,
    }
}

fn is_code(code: &str) -> bool {
    (1..=50).contains(&code.len())
        && code.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn check(new: &NewProductType) -> Result<String, CatalogError> {
    check_fields(&new.name, &new.attributes)
}

fn check_fields(name: &str, attributes: &[AttributeDefinition]) -> Result<String, CatalogError> {
    let new = NewProductType { name: name.to_string(), attributes: attributes.to_vec() };
    let mut errors = Vec::new();
    let name = new.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        errors.push(FieldError::new("name", "1 to 200 characters"));
    }
    if new.attributes.len() > MAX_ATTRIBUTES {
        errors.push(FieldError::new("attributes", format!("at most {MAX_ATTRIBUTES} attributes")));
    }
    let mut codes = BTreeSet::new();
    for (i, attribute) in new.attributes.iter().enumerate() {
        let at = format!("attributes[{i}]");
        if !is_code(&attribute.code) {
            errors.push(FieldError::new(
                format!("{at}.code"),
                "lower-case letters, digits and underscores, starting with a letter (at most 50)",
            ));
        } else if !codes.insert(attribute.code.clone()) {
            errors.push(FieldError::new(format!("{at}.code"), "listed twice"));
        }
        if attribute.name.is_empty() {
            errors.push(FieldError::new(format!("{at}.name"), "a name in at least one language"));
        }
        let choice = matches!(attribute.kind, AttributeKind::Select | AttributeKind::MultiSelect);
        if choice && attribute.options.is_empty() {
            errors.push(FieldError::new(format!("{at}.options"), "a select attribute needs its options"));
        }
        if !choice && !attribute.options.is_empty() {
            errors.push(FieldError::new(format!("{at}.options"), "only select attributes have options"));
        }
        if attribute.options.len() > MAX_ATTRIBUTE_OPTIONS {
            errors.push(FieldError::new(format!("{at}.options"), format!("at most {MAX_ATTRIBUTE_OPTIONS} options")));
        }
        let mut seen = BTreeSet::new();
        for (j, option) in attribute.options.iter().enumerate() {
            if option.trim().is_empty() || option.chars().count() > 100 {
                errors.push(FieldError::new(format!("{at}.options[{j}]"), "1 to 100 characters"));
            } else if !seen.insert(option) {
                errors.push(FieldError::new(format!("{at}.options[{j}]"), "listed twice"));
            }
        }
    }
    if errors.is_empty() {
        Ok(name)
    } else {
        Err(CommonError::Invalid(errors).into())
    }
}

pub(crate) async fn create(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    new: NewProductType,
) -> Result<ProductType, CatalogError> {
    let name = check(&new)?;
    if store::product_type_named(tx.conn(), &name).await? {
        return Err(CatalogError::ProductTypeNameTaken(name));
    }
    let attributes = serde_json::to_value(&new.attributes).unwrap_or_default();
    let stamp = tx.stamp();
    let row = store::insert_product_type(tx.conn(), ProductTypeId::new_v7(), &name, attributes, &stamp).await.map_err(
        |e| match e {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                CatalogError::ProductTypeNameTaken(name.clone())
            }
            other => other.into(),
        },
    )?;
    tx.audit("catalog.product_type.created", Some(row.id.to_string()), json!({"name": row.name})).await?;
    let event = ProductTypeChanged { product_type_id: row.id.into(), action: "created".into(), version: row.version };
    tx.publish(bus, &event).await?;
    Ok(to_product_type(row))
}

pub(crate) async fn list(tx: &mut TenantTx<'_>) -> Result<Vec<ProductType>, CatalogError> {
    Ok(store::product_types(tx.conn()).await?.into_iter().map(to_product_type).collect())
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: ProductTypeId) -> Result<ProductType, CatalogError> {
    store::product_type(tx.conn(), id).await?.map(to_product_type).ok_or(CatalogError::ProductTypeNotFound)
}

/// Renames a product type or changes its attributes. Products keep the values they have; the
/// next change to one checks them against the type as it is then.
pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: ProductTypeId,
    patch: ProductTypePatch,
    expected: Option<i64>,
) -> Result<ProductType, CatalogError> {
    let current = store::lock_product_type(tx.conn(), id).await?.ok_or(CatalogError::ProductTypeNotFound)?;
    Version::check(expected, current.version)?;
    let attributes = patch.attributes.unwrap_or_else(|| definitions(&current.attributes));
    let name = check_fields(patch.name.as_deref().unwrap_or(&current.name), &attributes)?;
    if name == current.name && attributes == definitions(&current.attributes) {
        return Ok(to_product_type(current));
    }
    if store::product_type_named_other(tx.conn(), &name, id).await? {
        return Err(CatalogError::ProductTypeNameTaken(name));
    }
    let stamp = tx.stamp();
    let json = serde_json::to_value(&attributes).unwrap_or_default();
    let row = store::update_product_type(tx.conn(), id, &name, json, &stamp).await?;
    tx.audit("catalog.product_type.updated", Some(id.to_string()), json!({"name": row.name})).await?;
    let event = ProductTypeChanged { product_type_id: id.into(), action: "updated".into(), version: row.version };
    tx.publish(bus, &event).await?;
    Ok(to_product_type(row))
}

/// Deletes a product type no live product is of (409 while any is).
pub(crate) async fn delete(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: ProductTypeId,
    expected: Option<i64>,
) -> Result<(), CatalogError> {
    let current = store::lock_product_type(tx.conn(), id).await?.ok_or(CatalogError::ProductTypeNotFound)?;
    Version::check(expected, current.version)?;
    let products = store::products_of_type(tx.conn(), id).await?;
    if products > 0 {
        return Err(CatalogError::ProductTypeInUse { products });
    }
    let stamp = tx.stamp();
    store::soft_delete_product_type(tx.conn(), id, &stamp).await?;
    tx.audit("catalog.product_type.deleted", Some(id.to_string()), json!({"name": current.name})).await?;
    let event =
        ProductTypeChanged { product_type_id: id.into(), action: "deleted".into(), version: current.version + 1 };
    tx.publish(bus, &event).await?;
    Ok(())
}
