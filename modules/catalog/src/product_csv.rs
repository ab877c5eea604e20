//! Products as CSV, one row per variant (the columns are documented in `docs/catalog-csv.md`),
//! on the kernel's CSV frame: an import upserts by SKU through the same rules as the API, so a
//! file run twice changes nothing the second time (no version, no history, no event); an export
//! writes every live variant.

use crate::products::{self, Ports, Shop};
use crate::store::{self, ProductRow};
use crate::{
    CatalogError, CatalogModule, CategoryId, NewProduct, NewVariant, PriceInput, Product, ProductId, ProductKind,
    ProductOption, ProductPatch, ProductStatus, ProductTypeId, VariantId, VariantPatch,
};
use agora_kernel::csv_files::{CsvExport, CsvImport, ExportPage, Line, Refused};
use agora_kernel::jobs::JobError;
use agora_kernel::money::{Currency, Money};
use agora_kernel::values::{LocalizedText, Sku};
use agora_kernel::{CommonError, DbError, FieldError, TenantTx};
use diesel_async::AsyncPgConnection;
use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Options a row can give values of (`option1_name`/`option1_value` …).
const MAX_OPTIONS: usize = 3;

macro_rules! currency_columns {
    ($($code:literal)*) => {
        /// Every column a file may have besides the two it must: the product's fields, the
        /// variant's, and a price and compare-at price column for each ISO 4217 currency.
        const OPTIONAL: &[&str] = &[
            "name", "status", "kind", "product_type", "category", "tags", "description",
            "option1_name", "option1_value", "option2_name", "option2_value", "option3_name", "option3_value",
            "barcode", "weight_grams",
            $(concat!("price_", $code), concat!("compare_at_", $code),)*
        ];
    };
}

currency_columns! {
    "AED" "AFN" "ALL" "AMD" "ANG" "AOA" "ARS" "AUD" "AWG" "AZN" "BAM" "BBD" "BDT" "BGN" "BHD" "BIF" "BMD" "BND"
    "BOB" "BRL" "BSD" "BTN" "BWP" "BYN" "BZD" "CAD" "CDF" "CHF" "CLP" "CNY" "COP" "CRC" "CUP" "CVE" "CZK" "DJF"
    "DKK" "DOP" "DZD" "EGP" "ERN" "ETB" "EUR" "FJD" "FKP" "GBP" "GEL" "GHS" "GIP" "GMD" "GNF" "GTQ" "GYD" "HKD"
    "HNL" "HTG" "HUF" "IDR" "ILS" "INR" "IQD" "IRR" "ISK" "JMD" "JOD" "JPY" "KES" "KGS" "KHR" "KMF" "KPW" "KRW"
    "KWD" "KYD" "KZT" "LAK" "LBP" "LKR" "LRD" "LSL" "LYD" "MAD" "MDL" "MGA" "MKD" "MMK" "MNT" "MOP" "MRU" "MUR"
    "MVR" "MWK" "MXN" "MYR" "MZN" "NAD" "NGN" "NIO" "NOK" "NPR" "NZD" "OMR" "PAB" "PEN" "PGK" "PHP" "PKR" "PLN"
    "PYG" "QAR" "RON" "RSD" "RUB" "RWF" "SAR" "SBD" "SCR" "SDG" "SEK" "SGD" "SHP" "SLE" "SOS" "SRD" "SSP" "STN"
    "SVC" "SYP" "SZL" "THB" "TJS" "TMT" "TND" "TOP" "TRY" "TTD" "TWD" "TZS" "UAH" "UGX" "USD" "UYU" "UZS" "VES"
    "VND" "VUV" "WST" "XAF" "XCD" "XCG" "XOF" "XPF" "YER" "ZAR" "ZMW" "ZWG"
}

/// The product's fields a row may give (each absent when its cell is empty).
#[derive(Debug, Clone, Default)]
struct ProductFields {
    name: Option<String>,
    status: Option<ProductStatus>,
    kind: Option<ProductKind>,
    product_type: Option<String>,
    category: Option<String>,
    tags: Option<Vec<String>>,
    description: Option<String>,
}

/// A row, read and checked on its own.
#[derive(Debug, Clone)]
struct Row {
    line: i64,
    handle: String,
    sku: String,
    product: ProductFields,
    /// Option name → value, in the file's order.
    options: Vec<(String, String)>,
    barcode: Option<String>,
    weight_grams: Option<i32>,
    /// `None` when the file has no price column: prices stay as they are.
    prices: Option<Vec<PriceInput>>,
}

fn cell<'a>(raw: &'a BTreeMap<String, String>, column: &str) -> Option<&'a str> {
    raw.get(column).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Reads one row; every problem names its column.
fn read_row(line: i64, raw: &BTreeMap<String, String>, shop: &Shop) -> Result<Row, Vec<FieldError>> {
    let mut errors = Vec::new();
    let handle = cell(raw, "product_handle").unwrap_or_default().to_string();
    if !products::is_slug(&handle) {
        errors.push(FieldError::new("product_handle", "lower-case letters and digits joined by single hyphens"));
    }
    let sku = match Sku::parse_field(cell(raw, "sku").unwrap_or_default(), "sku") {
        Ok(sku) => sku.as_str().to_string(),
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    let status = cell(raw, "status").and_then(|s| match ProductStatus::parse(s) {
        Some(status) => Some(status),
        None => {
            errors.push(FieldError::new("status", format!("one of {}", ProductStatus::VALUES.join(", "))));
            None
        }
    });
    let kind = cell(raw, "kind").and_then(|s| match ProductKind::parse(s) {
        Some(kind) => Some(kind),
        None => {
            errors.push(FieldError::new("kind", format!("one of {}", ProductKind::VALUES.join(", "))));
            None
        }
    });
    let weight_grams = cell(raw, "weight_grams").and_then(|w| match w.parse::<i32>() {
        Ok(w) if w >= 0 => Some(w),
        _ => {
            errors.push(FieldError::new("weight_grams", "a whole number of grams, not negative"));
            None
        }
    });
    let mut options = Vec::new();
    for i in 1..=MAX_OPTIONS {
        let (name_col, value_col) = (format!("option{i}_name"), format!("option{i}_value"));
        match (cell(raw, &name_col), cell(raw, &value_col)) {
            (Some(name), Some(value)) => options.push((name.to_string(), value.to_string())),
            (None, None) => {}
            (Some(_), None) => errors.push(FieldError::new(value_col, "the option's value")),
            (None, Some(_)) => errors.push(FieldError::new(name_col, "the option's name")),
        }
    }
    let has_prices = raw.keys().any(|k| k.starts_with("price_") || k.starts_with("compare_at_"));
    let mut prices = Vec::new();
    for (column, value) in raw {
        let Some(code) = column.strip_prefix("price_") else { continue };
        let Some(value) = Some(value.trim()).filter(|v| !v.is_empty()) else { continue };
        let Some(currency) = Currency::parse(code) else { continue };
        if !shop.currencies.iter().any(|c| c == code) {
            errors.push(FieldError::new(column.clone(), format!("the shop does not sell in {code}")));
            continue;
        }
        let amount = match Money::parse_major(value, currency) {
            Ok(m) if m.amount >= 0 => m.amount,
            _ => {
                errors.push(FieldError::new(column.clone(), format!("a price in {code} such as 19.99, not negative")));
                continue;
            }
        };
        let compare_column = format!("compare_at_{code}");
        let compare_at = match cell(raw, &compare_column).map(|v| Money::parse_major(v, currency)) {
            None => None,
            Some(Ok(m)) if m.amount >= 0 => Some(m.amount),
            Some(_) => {
                errors.push(FieldError::new(compare_column, format!("a price in {code} such as 24.99, not negative")));
                None
            }
        };
        prices.push(PriceInput { amount, currency: code.to_string(), compare_at });
    }
    for (column, _) in raw.iter().filter(|(k, v)| k.starts_with("compare_at_") && !v.trim().is_empty()) {
        let code = column.trim_start_matches("compare_at_");
        if cell(raw, &format!("price_{code}")).is_none() {
            errors.push(FieldError::new(column.clone(), "a compare-at price needs the price in its currency"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let product = ProductFields {
        name: cell(raw, "name").map(str::to_string),
        status,
        kind,
        product_type: cell(raw, "product_type").map(str::to_string),
        category: cell(raw, "category").map(str::to_string),
        tags: cell(raw, "tags")
            .map(|t| t.split('|').map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect()),
        description: cell(raw, "description").map(str::to_string),
    };
    Ok(Row {
        line,
        handle,
        sku,
        product,
        options,
        barcode: cell(raw, "barcode").map(str::to_string),
        weight_grams,
        prices: has_prices.then_some(prices),
    })
}

/// The import of a product file (`POST …/catalog/imports`); notes the products it changed, whose
/// storefront copies are dropped when it ends.
pub(crate) struct ProductImport {
    pub catalog: CatalogModule,
    pub touched: std::sync::Mutex<BTreeSet<ProductId>>,
}

impl CsvImport for ProductImport {
    type Row = BTreeMap<String, String>;
    const COLUMNS: &'static [&'static str] = &["product_handle", "sku"];
    const OPTIONAL_COLUMNS: &'static [&'static str] = OPTIONAL;

    fn apply<'a>(
        &'a self,
        tx: &'a mut TenantTx<'_>,
        rows: Vec<Line<Self::Row>>,
    ) -> BoxFuture<'a, Result<Vec<Refused>, JobError>> {
        async move {
            let mut touched = BTreeSet::new();
            let refused = import_batch(tx, self.catalog.ports(), rows, &mut touched).await?;
            if let Ok(mut all) = self.touched.lock() {
                all.extend(touched);
            }
            Ok(refused)
        }
        .boxed()
    }
}

/// What the batch needs to know of the shop's catalog, read once.
struct Known {
    shop: Shop,
    categories: HashMap<String, CategoryId>,
    types: HashMap<String, ProductTypeId>,
    /// Live products by handle (their slug in the shop's default language).
    products: HashMap<String, Product>,
    /// Live variants by SKU: (variant, its product).
    skus: HashMap<String, (VariantId, ProductId)>,
}

async fn known(tx: &mut TenantTx<'_>, rows: &[Row]) -> Result<Known, CatalogError> {
    let shop = products::shop(tx.conn()).await?;
    let categories = store::all_categories(tx.conn()).await?.into_iter().map(|c| (c.slug, c.id)).collect();
    let types = store::product_types(tx.conn()).await?.into_iter().map(|t| (t.name.to_lowercase(), t.id)).collect();
    let handles: Vec<String> = rows.iter().map(|r| r.handle.clone()).collect::<BTreeSet<_>>().into_iter().collect();
    let holders = store::products_by_current_slug(tx.conn(), &shop.default_locale, &handles).await?;
    let ids: Vec<ProductId> = holders.iter().map(|(_, id)| *id).collect();
    let found: Vec<ProductRow> = store::find_products(tx.conn(), &ids).await?;
    let mut by_id: HashMap<ProductId, Product> =
        products::assemble(tx.conn(), found).await?.into_iter().map(|p| (p.id, p)).collect();
    let products = holders.into_iter().filter_map(|(slug, id)| by_id.remove(&id).map(|p| (slug, p))).collect();
    let skus: Vec<String> = rows.iter().map(|r| r.sku.clone()).collect();
    let skus =
        store::variants_by_sku(tx.conn(), &skus).await?.into_iter().map(|v| (v.sku, (v.id, v.product_id))).collect();
    Ok(Known { shop, categories, types, products, skus })
}

/// Runs one rule for a group of rows in a savepoint: on failure its writes (and events) are
/// undone and the rows are refused with its errors.
macro_rules! attempt {
    ($tx:expr, $rows:expr, $refused:expr, $call:expr) => {{
        store::savepoint($tx.conn()).await?;
        match $call.await {
            Ok(value) => {
                store::release_savepoint($tx.conn()).await?;
                Some(value)
            }
            Err(e) => {
                store::rollback_to_savepoint($tx.conn()).await?;
                let errors = row_errors(e)?;
                for row in $rows {
                    $refused.push((row.line, errors.clone()));
                }
                None
            }
        }
    }};
}

fn row_errors(error: CatalogError) -> Result<Vec<FieldError>, JobError> {
    Ok(match error {
        CatalogError::Common(CommonError::Invalid(errors)) => errors
            .into_iter()
            .map(|e| {
                // `variants[2].sku` of a new product, `prices[0].currency` of a variant: the
                // column is what a merchant can fix.
                let field = e.field.rsplit('.').next().unwrap_or(&e.field).to_string();
                FieldError::new(field, e.message)
            })
            .collect(),
        CatalogError::SkuTaken { sku, .. } => vec![FieldError::new("sku", format!("{sku} belongs to another product"))],
        CatalogError::SlugTaken { slug, .. } => {
            vec![FieldError::new("product_handle", format!("{slug} is taken by another product"))]
        }
        CatalogError::Common(CommonError::Db(e)) => return Err(JobError::retry(e)),
        other => vec![FieldError::new("product_handle", other.to_string())],
    })
}

fn text(shop: &Shop, value: &str) -> Result<LocalizedText, CatalogError> {
    LocalizedText::single(&shop.default_locale, value).map_err(|e| CatalogError::field("name", e))
}

/// `text` with the shop's default language's entry replaced by `value`.
fn with_default(shop: &Shop, text: &LocalizedText, value: &str) -> Result<LocalizedText, CatalogError> {
    let mut texts: BTreeMap<String, String> =
        text.locales().filter_map(|l| text.exact(l).map(|t| (l.to_string(), t.to_string()))).collect();
    texts.insert(shop.default_locale.clone(), value.to_string());
    LocalizedText::new(texts).map_err(|e| CatalogError::field("name", e))
}

fn category_of(known: &Known, fields: &ProductFields) -> Result<Option<CategoryId>, CatalogError> {
    fields
        .category
        .as_ref()
        .map(|slug| {
            known.categories.get(slug).copied().ok_or_else(|| CatalogError::field("category", "no such category"))
        })
        .transpose()
}

fn type_of(known: &Known, fields: &ProductFields) -> Result<Option<ProductTypeId>, CatalogError> {
    fields
        .product_type
        .as_ref()
        .map(|name| {
            known
                .types
                .get(&name.to_lowercase())
                .copied()
                .ok_or_else(|| CatalogError::field("product_type", "no such product type"))
        })
        .transpose()
}

/// The options the rows name, with every value they use, added to `existing` (in order).
fn options_with(existing: &[ProductOption], rows: &[&Row]) -> Vec<ProductOption> {
    let mut options = existing.to_vec();
    for row in rows {
        for (name, value) in &row.options {
            match options.iter_mut().find(|o| &o.name == name) {
                Some(option) if !option.values.contains(value) => option.values.push(value.clone()),
                Some(_) => {}
                None => options.push(ProductOption { name: name.clone(), values: vec![value.clone()] }),
            }
        }
    }
    options
}

fn new_variant(row: &Row) -> NewVariant {
    NewVariant {
        sku: row.sku.clone(),
        option_values: row.options.iter().cloned().collect(),
        barcode: row.barcode.clone(),
        weight_grams: row.weight_grams,
        length_mm: None,
        width_mm: None,
        height_mm: None,
        position: None,
        prices: row.prices.clone().unwrap_or_default(),
    }
}

/// The new product a handle's rows describe (the first row giving a field gives it).
fn new_product(known: &Known, handle: &str, rows: &[&Row]) -> Result<NewProduct, CatalogError> {
    let first = |f: fn(&ProductFields) -> Option<String>| rows.iter().find_map(|r| f(&r.product));
    let fields = ProductFields {
        name: first(|p| p.name.clone()),
        category: first(|p| p.category.clone()),
        product_type: first(|p| p.product_type.clone()),
        description: first(|p| p.description.clone()),
        status: rows.iter().find_map(|r| r.product.status),
        kind: rows.iter().find_map(|r| r.product.kind),
        tags: rows.iter().find_map(|r| r.product.tags.clone()),
    };
    let name = fields.name.as_deref().ok_or_else(|| CatalogError::field("name", "a new product needs a name"))?;
    Ok(NewProduct {
        kind: fields.kind,
        status: fields.status,
        publish_at: None,
        unpublish_at: None,
        product_type_id: type_of(known, &fields)?,
        tax_class: None,
        name: text(&known.shop, name)?,
        description: fields.description.as_deref().map(|d| text(&known.shop, d)).transpose()?,
        seo_title: None,
        seo_description: None,
        slug: Some(BTreeMap::from([(known.shop.default_locale.clone(), handle.to_string())])),
        options: options_with(&[], rows),
        attributes: BTreeMap::new(),
        category_ids: category_of(known, &fields)?.into_iter().collect(),
        tags: fields.tags.unwrap_or_default(),
        variants: rows.iter().map(|r| new_variant(r)).collect(),
    })
}

/// The changes a row asks of an existing product (only what differs).
fn product_patch(known: &Known, product: &Product, rows: &[&Row]) -> Result<ProductPatch, CatalogError> {
    let mut patch = ProductPatch::default();
    let shop = &known.shop;
    for row in rows {
        let fields = &row.product;
        if let Some(name) = &fields.name {
            if product.name.exact(&shop.default_locale) != Some(name.as_str()) {
                patch.name = Some(with_default(shop, &product.name, name)?);
            }
        }
        if let Some(description) = &fields.description {
            if product.description.exact(&shop.default_locale) != Some(description.as_str()) {
                patch.description = Some(with_default(shop, &product.description, description)?);
            }
        }
        patch.status = fields.status.filter(|s| *s != product.status).or(patch.status);
        patch.kind = fields.kind.filter(|k| *k != product.kind).or(patch.kind);
        if let Some(tags) = &fields.tags {
            if *tags != product.tags {
                patch.tags = Some(tags.clone());
            }
        }
        if let Some(category) = category_of(known, fields)? {
            if product.category_ids != [category] {
                patch.category_ids = Some(vec![category]);
            }
        }
        if let Some(product_type) = type_of(known, fields)? {
            if product.product_type_id != Some(product_type) {
                patch.product_type_id = Some(Some(product_type));
            }
        }
    }
    let options = options_with(&product.options, rows);
    if options != product.options {
        patch.options = Some(options);
    }
    Ok(patch)
}

fn is_empty(patch: &ProductPatch) -> bool {
    patch.name.is_none()
        && patch.description.is_none()
        && patch.status.is_none()
        && patch.kind.is_none()
        && patch.tags.is_none()
        && patch.category_ids.is_none()
        && patch.product_type_id.is_none()
        && patch.options.is_none()
}

/// The changes a row asks of an existing variant, or `None` when it already is as the row says.
fn variant_patch(product: &Product, id: VariantId, row: &Row) -> Option<VariantPatch> {
    let variant = product.variants.iter().find(|v| v.id == id)?;
    let mut patch = VariantPatch::default();
    let options: BTreeMap<String, String> = row.options.iter().cloned().collect();
    let mut changed = false;
    if !options.is_empty() && options != variant.option_values {
        patch.option_values = Some(options);
        changed = true;
    }
    if row.barcode.is_some() && row.barcode != variant.barcode {
        patch.barcode = Some(row.barcode.clone());
        changed = true;
    }
    if row.weight_grams.is_some() && row.weight_grams != variant.weight_grams {
        patch.weight_grams = Some(row.weight_grams);
        changed = true;
    }
    if let Some(prices) = &row.prices {
        let now: BTreeSet<(String, i64, Option<i64>)> = variant
            .prices
            .iter()
            .map(|p| (p.price.currency.as_str().to_string(), p.price.amount, p.compare_at.map(|c| c.amount)))
            .collect();
        let wanted: BTreeSet<(String, i64, Option<i64>)> =
            prices.iter().map(|p| (p.currency.clone(), p.amount, p.compare_at)).collect();
        if now != wanted {
            patch.prices = Some(prices.clone());
            changed = true;
        }
    }
    changed.then_some(patch)
}

async fn import_batch(
    tx: &mut TenantTx<'_>,
    ports: Ports<'_>,
    lines: Vec<Line<BTreeMap<String, String>>>,
    touched: &mut BTreeSet<ProductId>,
) -> Result<Vec<Refused>, JobError> {
    let shop = products::shop(tx.conn()).await.map_err(retry)?;
    let mut refused: Vec<Refused> = Vec::new();
    let mut rows = Vec::with_capacity(lines.len());
    for Line { line, row } in lines {
        match read_row(line, &row, &shop) {
            Ok(row) => rows.push(row),
            Err(errors) => refused.push((line, errors)),
        }
    }
    let mut known = known(tx, &rows).await.map_err(retry)?;
    // Rows by handle, in the file's order; a SKU twice in the batch keeps its first row.
    let mut handles: Vec<String> = Vec::new();
    let mut groups: HashMap<String, Vec<Row>> = HashMap::new();
    let mut seen = BTreeSet::new();
    for row in rows {
        if !seen.insert(row.sku.clone()) {
            refused.push((row.line, vec![FieldError::new("sku", "the SKU is on an earlier row of the file")]));
            continue;
        }
        if !groups.contains_key(&row.handle) {
            handles.push(row.handle.clone());
        }
        groups.entry(row.handle.clone()).or_default().push(row);
    }
    for handle in handles {
        let group = groups.remove(&handle).unwrap_or_default();
        let existing = known.products.get(&handle).map(|p| p.id);
        // A SKU another product holds is that row's error.
        let (rows, others): (Vec<&Row>, Vec<&Row>) =
            group.iter().partition(|r| known.skus.get(&r.sku).is_none_or(|(_, owner)| Some(*owner) == existing));
        for row in others {
            refused.push((row.line, vec![FieldError::new("sku", format!("{} belongs to another product", row.sku))]));
        }
        if rows.is_empty() {
            continue;
        }
        let Some(product_id) = existing else {
            let created = match new_product(&known, &handle, &rows) {
                Ok(new) => attempt!(tx, rows.iter(), refused, products::create(tx, ports, new)),
                Err(e) => {
                    let errors = row_errors(e)?;
                    refused.extend(rows.iter().map(|r| (r.line, errors.clone())));
                    None
                }
            };
            if let Some(product) = created {
                touched.insert(product.id);
                for v in &product.variants {
                    known.skus.insert(v.sku.clone(), (v.id, product.id));
                }
                known.products.insert(handle, product);
            }
            continue;
        };
        let Some(mut product) = known.products.get(&handle).cloned() else { continue };
        match product_patch(&known, &product, &rows) {
            Ok(patch) if is_empty(&patch) => {}
            Ok(patch) => match attempt!(tx, rows.iter(), refused, products::update(tx, ports, product_id, patch, None))
            {
                Some(updated) => {
                    touched.insert(product_id);
                    product = updated
                }
                None => continue,
            },
            Err(e) => {
                let errors = row_errors(e)?;
                refused.extend(rows.iter().map(|r| (r.line, errors.clone())));
                continue;
            }
        }
        for row in rows {
            let one = std::iter::once(row);
            let changed = match known.skus.get(&row.sku) {
                Some((variant, _)) => match variant_patch(&product, *variant, row) {
                    None => None,
                    Some(patch) => attempt!(
                        tx,
                        one,
                        refused,
                        products::update_variant(tx, ports, product_id, *variant, patch, None)
                    ),
                },
                None => {
                    attempt!(tx, one, refused, products::add_variant(tx, ports, product_id, new_variant(row), None))
                }
            };
            if let Some(changed) = changed {
                touched.insert(product_id);
                for v in &changed.variants {
                    known.skus.insert(v.sku.clone(), (v.id, changed.id));
                }
                product = changed;
            }
        }
        known.products.insert(handle, product);
    }
    Ok(refused)
}

fn retry(e: CatalogError) -> JobError {
    JobError::retry(e)
}

// ---- export ----

/// The export of every live variant, one row each, in the columns of `header`.
pub(crate) struct ProductExport {
    pub default_locale: String,
    /// The currencies the shop sells in: a price and a compare-at column each.
    pub currencies: Vec<String>,
}

/// The columns every export has, before the price columns.
const EXPORT_COLUMNS: &[&str] = &[
    "product_handle",
    "sku",
    "name",
    "status",
    "kind",
    "product_type",
    "category",
    "tags",
    "description",
    "option1_name",
    "option1_value",
    "option2_name",
    "option2_value",
    "option3_name",
    "option3_value",
    "barcode",
    "weight_grams",
];

impl CsvExport for ProductExport {
    type Row = Vec<String>;
    type Key = VariantId;
    const COLUMNS: &'static [&'static str] = EXPORT_COLUMNS;

    fn header(&self) -> Vec<String> {
        let mut columns: Vec<String> = EXPORT_COLUMNS.iter().map(|c| c.to_string()).collect();
        for currency in &self.currencies {
            columns.push(format!("price_{currency}"));
            columns.push(format!("compare_at_{currency}"));
        }
        columns
    }

    fn count<'a>(&'a self, conn: &'a mut AsyncPgConnection) -> BoxFuture<'a, Result<i64, DbError>> {
        async move { store::count_live_variants(conn).await.map_err(DbError::Query) }.boxed()
    }

    fn page<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        after: Option<&'a VariantId>,
        limit: i64,
    ) -> ExportPage<'a, VariantId, Vec<String>> {
        async move { self.rows(conn, after.copied(), limit).await.map_err(|e| DbError::Query(e.into_query())) }.boxed()
    }
}

impl ProductExport {
    async fn rows(
        &self,
        conn: &mut AsyncPgConnection,
        after: Option<VariantId>,
        limit: i64,
    ) -> Result<Vec<(VariantId, Vec<String>)>, ExportError> {
        let variants = store::live_variants_after(conn, after, limit).await?;
        let ids: Vec<ProductId> = variants.iter().map(|v| v.product_id).collect::<BTreeSet<_>>().into_iter().collect();
        let found = store::find_products(conn, &ids).await?;
        let products: HashMap<ProductId, Product> = products::assemble(conn, found)
            .await
            .map_err(ExportError::Catalog)?
            .into_iter()
            .map(|p| (p.id, p))
            .collect();
        let categories: HashMap<CategoryId, String> =
            store::all_categories(conn).await?.into_iter().map(|c| (c.id, c.slug)).collect();
        let types: HashMap<ProductTypeId, String> =
            store::product_types(conn).await?.into_iter().map(|t| (t.id, t.name)).collect();
        let locale = &self.default_locale;
        let mut out = Vec::with_capacity(variants.len());
        for row in variants {
            let Some(product) = products.get(&row.product_id) else { continue };
            let Some(variant) = product.variants.iter().find(|v| v.id == row.id) else { continue };
            let mut fields = vec![
                product.slug.get(locale).or_else(|| product.slug.values().next()).cloned().unwrap_or_default(),
                variant.sku.clone(),
                product.name.get(locale, locale).unwrap_or_default().to_string(),
                product.status.as_str().to_string(),
                product.kind.as_str().to_string(),
                product.product_type_id.and_then(|t| types.get(&t).cloned()).unwrap_or_default(),
                product.category_ids.first().and_then(|c| categories.get(c).cloned()).unwrap_or_default(),
                product.tags.join("|"),
                product.description.get(locale, locale).unwrap_or_default().to_string(),
            ];
            for i in 0..MAX_OPTIONS {
                let option = product.options.get(i);
                let value = option.and_then(|o| variant.option_values.get(&o.name));
                fields.push(option.map(|o| o.name.clone()).unwrap_or_default());
                fields.push(value.cloned().unwrap_or_default());
            }
            fields.push(variant.barcode.clone().unwrap_or_default());
            fields.push(variant.weight_grams.map(|w| w.to_string()).unwrap_or_default());
            for currency in &self.currencies {
                let price = variant.prices.iter().find(|p| p.price.currency.as_str() == currency);
                fields.push(price.map(|p| p.price.to_major_string()).unwrap_or_default());
                fields.push(price.and_then(|p| p.compare_at).map(|c| c.to_major_string()).unwrap_or_default());
            }
            out.push((row.id, fields));
        }
        Ok(out)
    }
}

/// Reading a page of the export failed.
enum ExportError {
    Query(diesel::result::Error),
    Catalog(CatalogError),
}

impl From<diesel::result::Error> for ExportError {
    fn from(e: diesel::result::Error) -> Self {
        ExportError::Query(e)
    }
}

impl ExportError {
    fn into_query(self) -> diesel::result::Error {
        match self {
            ExportError::Query(e) => e,
            ExportError::Catalog(e) => diesel::result::Error::QueryBuilderError(e.to_string().into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_currency_has_its_price_columns() {
        for currency in Currency::ALL {
            assert!(OPTIONAL.contains(&format!("price_{}", currency.as_str()).as_str()), "{}", currency.as_str());
            assert!(OPTIONAL.contains(&format!("compare_at_{}", currency.as_str()).as_str()));
        }
        assert_eq!(OPTIONAL.len(), 15 + 2 * Currency::ALL.len());
    }

    #[test]
    fn the_export_header_is_one_an_import_accepts() {
        let export = ProductExport { default_locale: "en".into(), currencies: vec!["EUR".into(), "USD".into()] };
        let header = export.header();
        assert!(agora_kernel::csv_files::check_header(&header, ProductImport::COLUMNS, OPTIONAL).is_empty());
    }
}
