//! Bulk changes: one status, a price change or a category assignment applied to many products,
//! chosen by id or by the product list's filters, as a task the merchant watches.
//!
//! The request is checked whole before anything starts (422 naming the field); the job then
//! changes the products in batches, each product its own item of the batch's transaction (its
//! new version, history entry, events and search document, as if edited alone). A product the
//! change does not fit (a price that would fall below zero, a product deleted meanwhile) is
//! reported with its position in the selection and left as it was; the others go on.
//!
//! A bulk job is not retried: a price change applied twice would be applied twice. A job that
//! dies fails its task; the products' histories show which were changed.

use crate::products::{self, Ports, Repricing, Shop};
use crate::{
    store, BulkCategoryChange, BulkPriceChange, BulkSelection, BulkStatusChange, CatalogError, CategoryId,
    ProductFilter, ProductId, ProductPatch, ProductStatus,
};
use agora_kernel::jobs::JobError;
use agora_kernel::money::Currency;
use agora_kernel::{Actor, CommonError, FieldError, TenantTx};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// The most products one bulk change may select.
pub(crate) const MAX_PRODUCTS: usize = 10_000;
/// Products changed per transaction.
pub(crate) const BATCH: usize = 100;

/// What a bulk change does to each product.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub(crate) enum Change {
    Status { status: ProductStatus },
    Prices(Repricing),
    Categories { add: Vec<CategoryId>, remove: Vec<CategoryId> },
}

/// Who started it, kept with the job so the products' history names them.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub(crate) enum Author {
    User(uuid::Uuid),
    ApiKey(uuid::Uuid),
    System,
}

impl Author {
    pub(crate) fn of(actor: &Actor) -> Self {
        match actor {
            Actor::User(id) => Author::User(*id),
            Actor::ApiKey(id) => Author::ApiKey(*id),
            _ => Author::System,
        }
    }

    pub(crate) fn actor(&self) -> Actor {
        match self {
            Author::User(id) => Actor::User(*id),
            Author::ApiKey(id) => Actor::ApiKey(*id),
            Author::System => Actor::System("catalog-bulk-change"),
        }
    }
}

fn check_selection(selection: &BulkSelection, errors: &mut Vec<FieldError>) {
    match (&selection.ids, &selection.filter) {
        (Some(_), Some(_)) | (None, None) => {
            errors.push(FieldError::new("selection", "either ids or filter, not both"));
        }
        (Some(ids), None) if ids.is_empty() || ids.len() > MAX_PRODUCTS => {
            errors.push(FieldError::new("selection.ids", format!("1 to {MAX_PRODUCTS} products")));
        }
        _ => {}
    }
}

async fn check_categories(
    tx: &mut TenantTx<'_>,
    field: &str,
    ids: &[CategoryId],
    errors: &mut Vec<FieldError>,
) -> Result<(), CatalogError> {
    let existing = store::existing_categories(tx.conn(), ids).await?;
    for (i, id) in ids.iter().enumerate() {
        if !existing.contains(id) {
            errors.push(FieldError::new(format!("{field}[{i}]"), "no such category"));
        }
    }
    Ok(())
}

fn refuse(errors: Vec<FieldError>) -> Result<(), CatalogError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CommonError::Invalid(errors).into())
    }
}

pub(crate) fn status(request: BulkStatusChange) -> Result<(BulkSelection, Change), CatalogError> {
    let mut errors = Vec::new();
    check_selection(&request.selection, &mut errors);
    refuse(errors)?;
    Ok((request.selection, Change::Status { status: request.status }))
}

pub(crate) fn prices(request: BulkPriceChange, shop: &Shop) -> Result<(BulkSelection, Change), CatalogError> {
    let mut errors = Vec::new();
    check_selection(&request.selection, &mut errors);
    let amounts = request.amounts.unwrap_or_default();
    match (request.percent_basis_points, amounts.is_empty()) {
        (Some(_), false) | (None, true) => {
            errors.push(FieldError::new("percent_basis_points", "either percent_basis_points or amounts"));
        }
        (Some(bp), true) if bp == 0 || !(-10_000..=100_000).contains(&bp) => {
            errors.push(FieldError::new("percent_basis_points", "between -10000 (-100 %) and 100000 (+1000 %), not 0"))
        }
        _ => {}
    }
    for (currency, delta) in &amounts {
        let field = format!("amounts.{currency}");
        if Currency::parse(currency).is_none() {
            errors.push(FieldError::new(field, "not an ISO 4217 currency code"));
        } else if !shop.currencies.contains(currency) {
            errors.push(FieldError::new(field, format!("the shop does not sell in {currency}")));
        } else if *delta == 0 || delta.unsigned_abs() > 100_000_000_000 {
            errors.push(FieldError::new(field, "a change in minor units, not 0"));
        }
    }
    refuse(errors)?;
    let repricing = Repricing { percent_basis_points: request.percent_basis_points, amounts };
    Ok((request.selection, Change::Prices(repricing)))
}

pub(crate) async fn categories(
    tx: &mut TenantTx<'_>,
    request: BulkCategoryChange,
) -> Result<(BulkSelection, Change), CatalogError> {
    let mut errors = Vec::new();
    check_selection(&request.selection, &mut errors);
    if request.add.is_empty() && request.remove.is_empty() {
        errors.push(FieldError::new("add", "categories to add or to remove"));
    }
    if request.add.iter().any(|c| request.remove.contains(c)) {
        errors.push(FieldError::new("remove", "a category both added and removed"));
    }
    check_categories(tx, "add", &request.add, &mut errors).await?;
    check_categories(tx, "remove", &request.remove, &mut errors).await?;
    refuse(errors)?;
    Ok((request.selection, Change::Categories { add: request.add, remove: request.remove }))
}

/// The products selected, in a stable order (the ids as given, without repeats; or id order).
pub(crate) async fn select(tx: &mut TenantTx<'_>, selection: &BulkSelection) -> Result<Vec<ProductId>, JobError> {
    let limit = i64::try_from(MAX_PRODUCTS).unwrap_or(i64::MAX);
    match (&selection.ids, &selection.filter) {
        (Some(ids), _) => {
            let mut seen = BTreeSet::new();
            Ok(ids.iter().copied().filter(|id| seen.insert(*id)).collect())
        }
        (None, filter) => {
            let filter = filter.clone().unwrap_or_else(ProductFilter::default);
            Ok(store::product_ids(tx.conn(), &filter, limit).await?)
        }
    }
}

/// Applies `change` to one product; `false` when it changed nothing.
pub(crate) async fn apply(
    tx: &mut TenantTx<'_>,
    ports: Ports<'_>,
    id: ProductId,
    change: &Change,
) -> Result<bool, CatalogError> {
    match change {
        Change::Status { status } => {
            let before = products::get(tx, id).await?.version;
            let patch = ProductPatch { status: Some(*status), ..Default::default() };
            Ok(products::update(tx, ports, id, patch, None).await?.version != before)
        }
        Change::Prices(repricing) => Ok(products::reprice(tx, ports, id, repricing).await?.is_some()),
        Change::Categories { add, remove } => {
            let current = products::get(tx, id).await?;
            let mut wanted: Vec<CategoryId> =
                current.category_ids.iter().copied().filter(|c| !remove.contains(c)).collect();
            wanted.extend(add.iter().copied().filter(|c| !current.category_ids.contains(c)));
            let patch = ProductPatch { category_ids: Some(wanted), ..Default::default() };
            Ok(products::update(tx, ports, id, patch, None).await?.version != current.version)
        }
    }
}

/// Why a product was left as it was, for the task's errors.
pub(crate) fn refused(id: ProductId, error: CatalogError) -> Result<Vec<FieldError>, JobError> {
    match error {
        CatalogError::Common(CommonError::Invalid(errors)) => {
            Ok(errors.into_iter().map(|e| FieldError::new(e.field, format!("product {id}: {}", e.message))).collect())
        }
        CatalogError::Common(CommonError::Db(e)) => Err(JobError::retry(e)),
        other => Ok(vec![FieldError::new("product_id", format!("product {id}: {other}"))]),
    }
}
