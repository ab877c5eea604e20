//! Product types: the attributes (typed, optionally filterable) their products carry.

use crate::store::{self, ProductTypeRow};
use crate::{AttributeDefinition, AttributeKind, CatalogError, NewProductType, ProductType, ProductTypeId};
use agora_kernel::{Actor, CommonError, Database, FieldError, TenantContext};
use chrono::Utc;
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
    db: &Database,
    tenant: &TenantContext,
    new: NewProductType,
    actor: &Actor,
) -> Result<ProductType, CatalogError> {
    let name = check(&new)?;
    let who = actor.audit_name();
    db.tenant_tx(&tenant.schema, async move |conn| {
        if store::product_type_named(conn, &name).await? {
            return Err(CatalogError::ProductTypeNameTaken(name));
        }
        let attributes = serde_json::to_value(&new.attributes).unwrap_or_default();
        let row = store::insert_product_type(conn, ProductTypeId::new_v7(), &name, attributes, &who, Utc::now())
            .await
            .map_err(|e| match e {
                diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                    CatalogError::ProductTypeNameTaken(name.clone())
                }
                other => other.into(),
            })?;
        Ok(to_product_type(row))
    })
    .await
}

pub(crate) async fn list(db: &Database, tenant: &TenantContext) -> Result<Vec<ProductType>, CatalogError> {
    db.tenant_tx(&tenant.schema, async move |conn| {
        Ok(store::product_types(conn).await?.into_iter().map(to_product_type).collect())
    })
    .await
}

pub(crate) async fn get(db: &Database, tenant: &TenantContext, id: ProductTypeId) -> Result<ProductType, CatalogError> {
    db.tenant_tx(&tenant.schema, async move |conn| {
        store::product_type(conn, id).await?.map(to_product_type).ok_or(CatalogError::ProductTypeNotFound)
    })
    .await
}
