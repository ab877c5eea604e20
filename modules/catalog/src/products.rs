//! Products and their variants and prices: validation, the writes (each one tenant transaction
//! with its history entry, its events and its search document), and the staff's reads.

use crate::events::{
    PriceChanged, ProductCreated, ProductDeleted, ProductPublished, ProductUnpublished, ProductUpdated,
};
use crate::search::{SearchDocument, SearchEngine};
use crate::store::{
    self, PriceRow, ProductChanges, ProductInsert, ProductRow, VariantChanges, VariantInsert, VariantRow,
};
use crate::{
    product_types, AttributeDefinition, AttributeKind, CatalogError, CategoryId, NewProduct, NewVariant, PriceInput,
    Product, ProductChange, ProductFilter, ProductId, ProductKind, ProductOption, ProductPatch, ProductSort,
    ProductStatus, ProductTypeId, SoldCurrencies, SoldCurrenciesInput, Variant, VariantId, VariantPatch, VariantPrice,
};
use agora_kernel::events::EventBus;
use agora_kernel::lists::{Keyset, ListQuery, Page};
use agora_kernel::money::{Currency, Money, Rounding};
use agora_kernel::values::{LocalizedText, Sku};
use agora_kernel::{CommonError, FieldError, Stamp, TenantTx, Version};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet, HashMap};

const MAX_TAGS: usize = 50;
const MAX_TAG_LEN: usize = 50;
const MAX_VARIANTS: usize = 100;
const MAX_OPTIONS: usize = 5;

/// What the catalog needs to know of the shop: its languages and the currencies it sells in.
#[derive(Debug, Clone)]
pub(crate) struct Shop {
    pub default_locale: String,
    pub locales: Vec<String>,
    pub default_currency: String,
    /// Every sold currency, the default first.
    pub currencies: Vec<String>,
}

pub(crate) async fn shop(conn: &mut AsyncPgConnection) -> Result<Shop, CatalogError> {
    let defaults = agora_tenancy::shop_defaults(conn).await?;
    let mut currencies = vec![defaults.default_currency.clone()];
    currencies.extend(store::extra_currencies(conn).await?.into_iter().filter(|c| *c != defaults.default_currency));
    Ok(Shop {
        default_locale: defaults.default_locale,
        locales: defaults.locales,
        default_currency: defaults.default_currency,
        currencies,
    })
}

/// What product writes need besides the transaction: the bus their events go out on and the
/// search engine their documents are refreshed in.
#[derive(Clone, Copy)]
pub(crate) struct Ports<'a> {
    pub bus: &'a EventBus,
    pub search: &'a dyn SearchEngine,
}

/// Collects bad input, each naming its field; all of it is reported at once.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn into_result(self) -> Result<(), CatalogError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CommonError::Invalid(self.0).into())
        }
    }
}

/// A URL slug from a text: lower-case ASCII letters and digits joined by single hyphens.
pub(crate) fn slugify(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'ä' | 'à' | 'á' | 'â' | 'ã' | 'å' => 'a',
            'ö' | 'ò' | 'ó' | 'ô' | 'õ' | 'ø' => 'o',
            'ü' | 'ù' | 'ú' | 'û' => 'u',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ç' => 'c',
            'ñ' => 'n',
            'ß' => 's',
            other => other,
        };
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    slug.chars().take(120).collect::<String>().trim_end_matches('-').to_string()
}

pub(crate) fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 200
        && slug
            .split('-')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()))
}

fn check_texts(field: &str, text: &LocalizedText, shop: &Shop, problems: &mut Problems) {
    for locale in text.locales() {
        if !shop.locales.iter().any(|l| l == locale) {
            problems.add(
                format!("{field}.{locale}"),
                format!("not one of the shop's languages ({})", shop.locales.join(", ")),
            );
        } else if text.exact(locale).is_some_and(|t| t.chars().count() > 10_000) {
            problems.add(format!("{field}.{locale}"), "at most 10000 characters");
        }
    }
}

fn check_tags(raw: &[String], problems: &mut Problems) -> Vec<String> {
    if raw.len() > MAX_TAGS {
        problems.add("tags", format!("at most {MAX_TAGS} tags"));
    }
    let mut tags: Vec<String> = Vec::new();
    for (i, tag) in raw.iter().enumerate() {
        let tag = tag.trim().to_lowercase();
        if tag.is_empty() || tag.chars().count() > MAX_TAG_LEN {
            problems.add(format!("tags[{i}]"), format!("1 to {MAX_TAG_LEN} characters"));
        } else if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    tags
}

fn check_options(raw: &[ProductOption], problems: &mut Problems) {
    if raw.len() > MAX_OPTIONS {
        problems.add("options", format!("at most {MAX_OPTIONS} options"));
    }
    let mut names = BTreeSet::new();
    for (i, option) in raw.iter().enumerate() {
        if option.name.trim().is_empty() || option.name.chars().count() > 50 {
            problems.add(format!("options[{i}].name"), "1 to 50 characters");
        } else if !names.insert(option.name.clone()) {
            problems.add(format!("options[{i}].name"), "listed twice");
        }
        if option.values.is_empty() {
            problems.add(format!("options[{i}].values"), "at least one value");
        }
        let mut values = BTreeSet::new();
        for (j, value) in option.values.iter().enumerate() {
            if value.trim().is_empty() || value.chars().count() > 100 {
                problems.add(format!("options[{i}].values[{j}]"), "1 to 100 characters");
            } else if !values.insert(value) {
                problems.add(format!("options[{i}].values[{j}]"), "listed twice");
            }
        }
    }
}

/// The attribute values checked against the product type's definitions.
fn check_attributes(
    raw: &BTreeMap<String, Value>,
    definitions: Option<&[AttributeDefinition]>,
    problems: &mut Problems,
) {
    for (code, value) in raw {
        let field = format!("attributes.{code}");
        let Some(definition) = definitions.and_then(|defs| defs.iter().find(|d| &d.code == code)) else {
            match definitions {
                None => problems.add(field, "unknown attribute: give the product a product type that declares it"),
                Some(_) => problems.add(field, "unknown attribute: the product type does not declare it"),
            }
            continue;
        };
        let fits = match definition.kind {
            AttributeKind::Text => value.as_str().is_some_and(|s| !s.trim().is_empty() && s.chars().count() <= 1000),
            AttributeKind::Number => value.is_number(),
            AttributeKind::Boolean => value.is_boolean(),
            AttributeKind::Select => value.as_str().is_some_and(|s| definition.options.iter().any(|o| o == s)),
            AttributeKind::MultiSelect => value.as_array().is_some_and(|items| {
                let mut seen = BTreeSet::new();
                items.iter().all(|item| {
                    item.as_str().is_some_and(|s| definition.options.iter().any(|o| o == s) && seen.insert(s))
                })
            }),
        };
        if !fits {
            let expected = match definition.kind {
                AttributeKind::Text => "a text of 1 to 1000 characters".to_string(),
                AttributeKind::Number => "a number".to_string(),
                AttributeKind::Boolean => "true or false".to_string(),
                AttributeKind::Select => format!("one of {}", definition.options.join(", ")),
                AttributeKind::MultiSelect => {
                    format!("a list of distinct values among {}", definition.options.join(", "))
                }
            };
            problems.add(field, format!("wrong type: expected {expected}"));
        }
    }
}

/// A variant's fields, checked (SKU format, sizes, options, currencies) but not yet against other
/// variants of the shop.
struct CheckedVariant {
    sku: Option<String>,
    option_values: Option<BTreeMap<String, String>>,
    prices: Option<Vec<PriceRow>>,
}

// One check for a new variant and for a patch (whose fields are each optional).
#[allow(clippy::too_many_arguments)]
fn check_variant_fields(
    at: &str,
    sku: Option<&str>,
    option_values: Option<&BTreeMap<String, String>>,
    sizes: [(&str, Option<i32>); 4],
    barcode: Option<&str>,
    prices: Option<&[PriceInput]>,
    options: &[ProductOption],
    shop: &Shop,
    problems: &mut Problems,
) -> CheckedVariant {
    let sku = sku.and_then(|raw| match Sku::parse_field(raw, format!("{at}sku")) {
        Ok(sku) => Some(sku.as_str().to_string()),
        Err(e) => {
            problems.0.push(e);
            None
        }
    });
    for (name, value) in sizes {
        if value.is_some_and(|v| v < 0) {
            problems.add(format!("{at}{name}"), "not negative");
        }
    }
    if barcode.is_some_and(|b| b.trim().is_empty() || b.len() > 64) {
        problems.add(format!("{at}barcode"), "1 to 64 characters");
    }
    if let Some(values) = option_values {
        for (name, value) in values {
            match options.iter().find(|o| &o.name == name) {
                None => problems.add(format!("{at}option_values.{name}"), "the product has no such option"),
                Some(option) if !option.values.contains(value) => {
                    problems.add(format!("{at}option_values.{name}"), format!("one of {}", option.values.join(", ")))
                }
                Some(_) => {}
            }
        }
        for option in options {
            if !values.contains_key(&option.name) {
                problems.add(format!("{at}option_values.{}", option.name), "a value for every option of the product");
            }
        }
    }
    let prices = prices.map(|prices| check_prices(at, prices, shop, problems));
    CheckedVariant { sku, option_values: option_values.cloned(), prices }
}

fn check_prices(at: &str, prices: &[PriceInput], shop: &Shop, problems: &mut Problems) -> Vec<PriceRow> {
    let mut rows: Vec<PriceRow> = Vec::new();
    for (i, price) in prices.iter().enumerate() {
        let field = format!("{at}prices[{i}]");
        let currency = price.currency.trim().to_uppercase();
        if Currency::parse(&currency).is_none() {
            problems.add(format!("{field}.currency"), "not an ISO 4217 currency code");
        } else if !shop.currencies.contains(&currency) {
            problems.add(
                format!("{field}.currency"),
                format!("the shop does not sell in {currency} (it sells in {})", shop.currencies.join(", ")),
            );
        } else if rows.iter().any(|r| r.price_currency == currency) {
            problems.add(format!("{field}.currency"), "a second price in the same currency");
        }
        if price.amount < 0 {
            problems.add(format!("{field}.amount"), "not negative");
        }
        if price.compare_at.is_some_and(|c| c < 0) {
            problems.add(format!("{field}.compare_at"), "not negative");
        }
        rows.push(PriceRow {
            variant_id: VariantId::from_uuid(uuid::Uuid::nil()),
            price_amount: price.amount,
            price_currency: currency,
            compare_at_amount: price.compare_at,
        });
    }
    rows
}

/// The slugs a product should answer to: the ones given (checked), else one per name language.
fn wanted_slugs(
    given: Option<&BTreeMap<String, String>>,
    name: &LocalizedText,
    shop: &Shop,
    problems: &mut Problems,
) -> BTreeMap<String, (String, bool)> {
    let mut slugs = BTreeMap::new();
    if let Some(given) = given {
        for (locale, slug) in given {
            let field = format!("slug.{locale}");
            if !shop.locales.contains(locale) {
                problems.add(field, format!("not one of the shop's languages ({})", shop.locales.join(", ")));
            } else if !is_slug(slug) {
                problems.add(field, "lower-case letters and digits joined by single hyphens, at most 200 characters");
            } else {
                slugs.insert(locale.clone(), (slug.clone(), true));
            }
        }
    }
    for locale in name.locales() {
        if !slugs.contains_key(locale) && shop.locales.iter().any(|l| l == locale) {
            let made = slugify(name.exact(locale).unwrap_or_default());
            if !made.is_empty() {
                slugs.insert(locale.to_string(), (made, false));
            }
        }
    }
    slugs
}

/// Claims the slugs for `product`: a slug another live product answers to is a 409 when it was
/// asked for, and gets the product's id appended when it was made from the name.
async fn claim_slugs(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    slugs: &BTreeMap<String, (String, bool)>,
    stamp: &Stamp,
) -> Result<(), CatalogError> {
    for (locale, (slug, asked)) in slugs {
        let mut slug = slug.clone();
        if let Some((holder, current, deleted)) = store::slug_holder(conn, locale, &slug).await? {
            if holder != product {
                if current && !deleted {
                    if *asked {
                        return Err(CatalogError::SlugTaken { field: format!("slug.{locale}"), slug });
                    }
                    slug = format!("{slug}-{}", &product.as_uuid().simple().to_string()[..8]);
                } else {
                    // A retired slug of another product, or one of a deleted product, is free.
                    store::drop_slug(conn, locale, &slug).await?;
                }
            }
        }
        store::set_current_slug(conn, product, locale, &slug, stamp.at).await?;
    }
    Ok(())
}

async fn check_categories(
    conn: &mut AsyncPgConnection,
    ids: &[CategoryId],
    problems: &mut Problems,
) -> Result<(), CatalogError> {
    let existing = store::existing_categories(conn, ids).await?;
    for (i, id) in ids.iter().enumerate() {
        if !existing.contains(id) {
            problems.add(format!("category_ids[{i}]"), "no such category");
        }
    }
    Ok(())
}

async fn type_attributes(
    conn: &mut AsyncPgConnection,
    id: Option<ProductTypeId>,
    problems: &mut Problems,
) -> Result<Option<Vec<AttributeDefinition>>, CatalogError> {
    let Some(id) = id else { return Ok(None) };
    match store::product_type(conn, id).await? {
        Some(row) => Ok(Some(product_types::definitions(&row.attributes))),
        None => {
            problems.add("product_type_id", "no such product type");
            Ok(Some(Vec::new()))
        }
    }
}

/// SKUs must be unique among the shop's live variants (other than `except`) and in the request.
async fn check_skus_free(
    conn: &mut AsyncPgConnection,
    skus: &[(String, String)],
    except: Option<VariantId>,
) -> Result<(), CatalogError> {
    let mut seen = BTreeSet::new();
    for (field, sku) in skus {
        if !seen.insert(sku.clone()) {
            return Err(CatalogError::SkuTaken { field: field.clone(), sku: sku.clone() });
        }
        if let Some(holder) = store::sku_holder(conn, sku).await? {
            if Some(holder) != except {
                return Err(CatalogError::SkuTaken { field: field.clone(), sku: sku.clone() });
            }
        }
    }
    Ok(())
}

/// A unique index refusing a write another transaction won the race for: the same 409 as the
/// check before it.
fn clash(e: diesel::result::Error, field: &str, value: &str) -> CatalogError {
    use diesel::result::{DatabaseErrorKind, Error};
    match &e {
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
            let constraint = info.constraint_name().unwrap_or_default();
            if constraint.contains("sku") {
                CatalogError::SkuTaken { field: field.to_string(), sku: value.to_string() }
            } else if constraint.contains("slug") {
                CatalogError::SlugTaken { field: "slug".to_string(), slug: value.to_string() }
            } else {
                e.into()
            }
        }
        _ => e.into(),
    }
}

fn options_of(row: &ProductRow) -> Vec<ProductOption> {
    serde_json::from_value(row.options.clone()).unwrap_or_default()
}

fn attributes_of(row: &ProductRow) -> BTreeMap<String, Value> {
    serde_json::from_value(row.attributes.clone()).unwrap_or_default()
}

fn sort_name(name: &LocalizedText, shop: &Shop) -> String {
    name.get(&shop.default_locale, &shop.default_locale)
        .or_else(|| name.locales().next().and_then(|l| name.exact(l)))
        .unwrap_or_default()
        .to_lowercase()
}

/// Products with their variants, prices, slugs and categories, in the order of `rows`; a fixed
/// number of queries whatever the number of rows.
pub(crate) async fn assemble(
    conn: &mut AsyncPgConnection,
    rows: Vec<ProductRow>,
) -> Result<Vec<Product>, CatalogError> {
    let ids: Vec<ProductId> = rows.iter().map(|r| r.id).collect();
    let variants = store::variants_of(conn, &ids).await?;
    let variant_ids: Vec<VariantId> = variants.iter().map(|v| v.id).collect();
    let mut prices: HashMap<VariantId, Vec<VariantPrice>> = HashMap::new();
    for price in store::prices_of(conn, &variant_ids).await? {
        if let Some(p) = variant_price(&price) {
            prices.entry(price.variant_id).or_default().push(p);
        }
    }
    let mut by_product: HashMap<ProductId, Vec<Variant>> = HashMap::new();
    for v in variants {
        let variant_prices = prices.remove(&v.id).unwrap_or_default();
        by_product.entry(v.product_id).or_default().push(to_variant(v, variant_prices));
    }
    let mut slugs: HashMap<ProductId, BTreeMap<String, String>> = HashMap::new();
    for (product, locale, slug) in store::current_slugs(conn, &ids).await? {
        slugs.entry(product).or_default().insert(locale, slug);
    }
    let mut categories: HashMap<ProductId, Vec<CategoryId>> = HashMap::new();
    for (product, category) in store::categories_of(conn, &ids).await? {
        categories.entry(product).or_default().push(category);
    }
    Ok(rows
        .into_iter()
        .map(|row| Product {
            id: row.id,
            kind: row.kind,
            status: row.status,
            publish_at: row.publish_at,
            unpublish_at: row.unpublish_at,
            product_type_id: row.product_type_id,
            tax_class: row.tax_class.clone(),
            options: options_of(&row),
            attributes: attributes_of(&row),
            name: row.name,
            description: row.description,
            seo_title: row.seo_title,
            seo_description: row.seo_description,
            slug: slugs.remove(&row.id).unwrap_or_default(),
            tags: row.tags,
            category_ids: categories.remove(&row.id).unwrap_or_default(),
            variants: by_product.remove(&row.id).unwrap_or_default(),
            created_at: row.created_at,
            created_by: row.created_by,
            modified_at: row.modified_at,
            modified_by: row.modified_by,
            version: row.version,
        })
        .collect())
}

fn variant_price(row: &PriceRow) -> Option<VariantPrice> {
    let currency = Currency::parse(&row.price_currency)?;
    Some(VariantPrice {
        price: Money::new(row.price_amount, currency),
        compare_at: row.compare_at_amount.map(|a| Money::new(a, currency)),
    })
}

fn to_variant(v: VariantRow, prices: Vec<VariantPrice>) -> Variant {
    Variant {
        id: v.id,
        sku: v.sku,
        option_values: serde_json::from_value(v.option_values).unwrap_or_default(),
        barcode: v.barcode,
        weight_grams: v.weight_grams,
        length_mm: v.length_mm,
        width_mm: v.width_mm,
        height_mm: v.height_mm,
        position: v.position,
        prices,
    }
}

async fn load(conn: &mut AsyncPgConnection, id: ProductId) -> Result<Product, CatalogError> {
    let row = store::find_product(conn, id).await?.ok_or(CatalogError::ProductNotFound)?;
    assemble(conn, vec![row]).await?.pop().ok_or(CatalogError::ProductNotFound)
}

/// The product, locked, if it exists and the caller's version (If-Match) is current.
async fn lock_current(
    conn: &mut AsyncPgConnection,
    id: ProductId,
    expected: Option<i64>,
) -> Result<ProductRow, CatalogError> {
    let row = store::lock_product(conn, id).await?.ok_or(CatalogError::ProductNotFound)?;
    Version::check(expected, row.version)?;
    Ok(row)
}

/// Refreshes the product's search document from what is stored now.
async fn reindex(
    tx: &mut TenantTx<'_>,
    search: &dyn SearchEngine,
    product: &Product,
    shop: &Shop,
) -> Result<(), CatalogError> {
    let texts = |t: &LocalizedText| t.locales().filter_map(|l| t.exact(l)).map(str::to_string).collect::<Vec<_>>();
    let mut codes: Vec<String> = Vec::new();
    for v in &product.variants {
        codes.push(v.sku.clone());
        codes.extend(v.barcode.clone());
        codes.extend(v.option_values.values().cloned());
    }
    for value in product.attributes.values() {
        match value {
            Value::String(s) => codes.push(s.clone()),
            Value::Array(items) => codes.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string))),
            Value::Number(n) => codes.push(n.to_string()),
            _ => {}
        }
    }
    codes.extend(product.tags.iter().cloned());
    let doc = SearchDocument {
        product_id: product.id,
        names: texts(&product.name),
        codes,
        descriptions: texts(&product.description),
        active: product.status == ProductStatus::Active,
        publish_at: product.publish_at,
        unpublish_at: product.unpublish_at,
        language: shop.default_locale.clone(),
    };
    search.index(tx.conn(), &doc).await?;
    Ok(())
}

/// Announces the publication windows that opened or closed since the last sweep: an active
/// product whose `publish_at` passed is published, one whose `unpublish_at` passed unpublished
/// (status `active`), each edge once (marked in this transaction). Returns how many were announced.
pub(crate) async fn announce_passed_edges(tx: &mut TenantTx<'_>, bus: &EventBus) -> Result<usize, CatalogError> {
    let closed = store::mark_closed_windows(tx.conn()).await?;
    let opened = store::mark_opened_windows(tx.conn()).await?;
    for (product_id, publish_at, unpublish_at) in &opened {
        tx.publish(
            bus,
            &ProductPublished { product_id: *product_id, publish_at: *publish_at, unpublish_at: *unpublish_at },
        )
        .await?;
    }
    for product_id in &closed {
        let status = ProductStatus::Active.as_str().to_string();
        tx.publish(bus, &ProductUnpublished { product_id: *product_id, status }).await?;
    }
    Ok(opened.len() + closed.len())
}

/// A product whose status moved into or out of `active` is published or unpublished (a new
/// product was nothing before: `was` is `draft`).
async fn announce_status(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    was: ProductStatus,
    product: &Product,
) -> Result<(), CatalogError> {
    if was != ProductStatus::Active && product.status == ProductStatus::Active {
        let published = ProductPublished {
            product_id: product.id.into(),
            publish_at: product.publish_at,
            unpublish_at: product.unpublish_at,
        };
        tx.publish(bus, &published).await?;
        store::mark_passed_edges_announced(tx.conn(), product.id).await?;
    } else if was == ProductStatus::Active && product.status != ProductStatus::Active {
        let unpublished =
            ProductUnpublished { product_id: product.id.into(), status: product.status.as_str().to_string() };
        tx.publish(bus, &unpublished).await?;
    }
    Ok(())
}

pub(crate) async fn create(tx: &mut TenantTx<'_>, ports: Ports<'_>, new: NewProduct) -> Result<Product, CatalogError> {
    let stamp = tx.stamp();
    let shop = shop(tx.conn()).await?;
    let mut problems = Problems::default();
    let id = ProductId::new_v7();
    if new.name.is_empty() {
        problems.add("name", "a name in at least one language");
    }
    check_texts("name", &new.name, &shop, &mut problems);
    let description = new.description.clone().unwrap_or_default();
    let seo_title = new.seo_title.clone().unwrap_or_default();
    let seo_description = new.seo_description.clone().unwrap_or_default();
    check_texts("description", &description, &shop, &mut problems);
    check_texts("seo_title", &seo_title, &shop, &mut problems);
    check_texts("seo_description", &seo_description, &shop, &mut problems);
    check_window(new.publish_at, new.unpublish_at, &mut problems);
    let tags = check_tags(&new.tags, &mut problems);
    check_options(&new.options, &mut problems);
    let definitions = type_attributes(tx.conn(), new.product_type_id, &mut problems).await?;
    check_attributes(&new.attributes, definitions.as_deref(), &mut problems);
    check_categories(tx.conn(), &new.category_ids, &mut problems).await?;
    check_tax_class(new.tax_class.as_deref(), &mut problems);
    if new.variants.len() > MAX_VARIANTS {
        problems.add("variants", format!("at most {MAX_VARIANTS} variants"));
    }
    let mut variants = Vec::new();
    for (i, v) in new.variants.iter().enumerate() {
        let at = format!("variants[{i}].");
        let checked = check_new_variant(&at, v, &new.options, &shop, &mut problems);
        variants.push((checked, v));
    }
    let slugs = wanted_slugs(new.slug.as_ref(), &new.name, &shop, &mut problems);
    problems.into_result()?;
    let skus: Vec<(String, String)> = variants
        .iter()
        .enumerate()
        .filter_map(|(i, (c, _))| c.sku.clone().map(|s| (format!("variants[{i}].sku"), s)))
        .collect();
    check_skus_free(tx.conn(), &skus, None).await?;

    let row = ProductInsert {
        id,
        kind: new.kind.unwrap_or(ProductKind::Physical),
        status: new.status.unwrap_or(ProductStatus::Draft),
        publish_at: new.publish_at,
        unpublish_at: new.unpublish_at,
        product_type_id: new.product_type_id,
        tax_class: new.tax_class.clone(),
        sort_name: sort_name(&new.name, &shop),
        name: new.name.clone(),
        description,
        seo_title,
        seo_description,
        options: json!(new.options),
        attributes: json!(new.attributes),
        tags,
    };
    store::insert_product(tx.conn(), &row, &stamp).await?;
    claim_slugs(tx.conn(), id, &slugs, &stamp).await?;
    store::replace_product_categories(tx.conn(), id, &new.category_ids).await?;
    for (position, (checked, v)) in variants.into_iter().enumerate() {
        insert_variant(tx.conn(), id, checked, v, position, &stamp).await?;
    }
    store::refresh_prices_from(tx.conn(), id).await?;
    store::record_change(tx.conn(), id, "created", json!({}), &stamp).await?;
    let product = load(tx.conn(), id).await?;
    reindex(tx, ports.search, &product, &shop).await?;
    let skus: Vec<String> = product.variants.iter().map(|v| v.sku.clone()).collect();
    tx.audit("catalog.product.created", Some(id.to_string()), json!({"skus": skus})).await?;
    let created = ProductCreated {
        product_id: id.into(),
        status: product.status.as_str().to_string(),
        skus,
        version: product.version,
    };
    tx.publish(ports.bus, &created).await?;
    announce_status(tx, ports.bus, ProductStatus::Draft, &product).await?;
    Ok(product)
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    ports: Ports<'_>,
    id: ProductId,
    patch: ProductPatch,
    expected: Option<i64>,
) -> Result<Product, CatalogError> {
    let stamp = tx.stamp();
    let current = lock_current(tx.conn(), id, expected).await?;
    let shop = shop(tx.conn()).await?;
    let mut problems = Problems::default();
    let mut changes = ProductChanges::default();
    let mut diff: BTreeMap<&'static str, Value> = BTreeMap::new();
    let mut note = |field: &'static str, from: Value, to: Value| {
        if from != to {
            diff.insert(field, json!({"from": from, "to": to}));
        }
    };
    if let Some(kind) = patch.kind {
        note("kind", json!(current.kind), json!(kind));
        changes.kind = Some(kind);
    }
    if let Some(status) = patch.status {
        note("status", json!(current.status), json!(status));
        changes.status = Some(status);
    }
    let publish_at = patch.publish_at.unwrap_or(current.publish_at);
    let unpublish_at = patch.unpublish_at.unwrap_or(current.unpublish_at);
    check_window(publish_at, unpublish_at, &mut problems);
    if patch.publish_at.is_some() {
        note("publish_at", json!(current.publish_at), json!(publish_at));
        changes.publish_at = Some(publish_at);
    }
    if patch.unpublish_at.is_some() {
        note("unpublish_at", json!(current.unpublish_at), json!(unpublish_at));
        changes.unpublish_at = Some(unpublish_at);
    }
    if let Some(tax_class) = &patch.tax_class {
        check_tax_class(tax_class.as_deref(), &mut problems);
        note("tax_class", json!(current.tax_class), json!(tax_class));
        changes.tax_class = Some(tax_class.clone());
    }
    if let Some(name) = &patch.name {
        if name.is_empty() {
            problems.add("name", "a name in at least one language");
        }
        check_texts("name", name, &shop, &mut problems);
        note("name", json!(current.name), json!(name));
        changes.sort_name = Some(sort_name(name, &shop));
        changes.name = Some(name.clone());
    }
    for (field, given, was, slot) in [
        ("description", &patch.description, &current.description, &mut changes.description),
        ("seo_title", &patch.seo_title, &current.seo_title, &mut changes.seo_title),
        ("seo_description", &patch.seo_description, &current.seo_description, &mut changes.seo_description),
    ] {
        if let Some(text) = given {
            check_texts(field, text, &shop, &mut problems);
            note(field, json!(was), json!(text));
            *slot = Some(text.clone());
        }
    }
    if let Some(tags) = &patch.tags {
        let tags = check_tags(tags, &mut problems);
        note("tags", json!(current.tags), json!(tags));
        changes.tags = Some(tags);
    }
    let options = match &patch.options {
        Some(options) => {
            check_options(options, &mut problems);
            note("options", current.options.clone(), json!(options));
            changes.options = Some(json!(options));
            options.clone()
        }
        None => options_of(&current),
    };
    let type_id = patch.product_type_id.unwrap_or(current.product_type_id);
    if let Some(new_type) = patch.product_type_id {
        note("product_type_id", json!(current.product_type_id), json!(new_type));
        changes.product_type_id = Some(new_type);
    }
    let attributes = patch.attributes.clone().unwrap_or_else(|| attributes_of(&current));
    if patch.attributes.is_some() || patch.product_type_id.is_some() {
        let definitions = type_attributes(tx.conn(), type_id, &mut problems).await?;
        check_attributes(&attributes, definitions.as_deref(), &mut problems);
    }
    if patch.attributes.is_some() {
        note("attributes", current.attributes.clone(), json!(attributes));
        changes.attributes = Some(json!(attributes));
    }
    if let Some(categories) = &patch.category_ids {
        check_categories(tx.conn(), categories, &mut problems).await?;
    }
    let name = patch.name.clone().unwrap_or_else(|| current.name.clone());
    let before = store::current_slugs(tx.conn(), &[id]).await?;
    let slugs = match &patch.slug {
        Some(given) => wanted_slugs(Some(given), &LocalizedText::default(), &shop, &mut problems),
        // A new name in a language without a slug yet gets one made from it.
        None => wanted_slugs(None, &name, &shop, &mut problems)
            .into_iter()
            .filter(|(locale, _)| !before.iter().any(|(_, l, _)| l == locale))
            .collect(),
    };
    problems.into_result()?;
    let reassigned = match &patch.options {
        Some(_) => reassign_option_values(tx.conn(), id, &options_of(&current), &options, &shop).await?,
        None => Vec::new(),
    };
    claim_slugs(tx.conn(), id, &slugs, &stamp).await?;
    let after = store::current_slugs(tx.conn(), &[id]).await?;
    if before != after {
        note(
            "slug",
            json!(before.iter().map(|(_, l, s)| (l, s)).collect::<BTreeMap<_, _>>()),
            json!(after.iter().map(|(_, l, s)| (l, s)).collect::<BTreeMap<_, _>>()),
        );
    }
    if let Some(categories) = &patch.category_ids {
        let was: Vec<CategoryId> = store::categories_of(tx.conn(), &[id]).await?.into_iter().map(|(_, c)| c).collect();
        let mut wanted = categories.clone();
        wanted.sort();
        wanted.dedup();
        note("category_ids", json!(was), json!(wanted));
        store::replace_product_categories(tx.conn(), id, &wanted).await?;
    }
    if diff.is_empty() {
        // Nothing changed: no new version, no history, no event.
        return load(tx.conn(), id).await;
    }
    let row = store::update_product(tx.conn(), id, &changes, &stamp).await?;
    for (variant, values) in reassigned {
        let changes = VariantChanges { option_values: Some(json!(values)), ..Default::default() };
        store::update_variant(tx.conn(), variant, &changes, &stamp).await?;
    }
    let changed: Vec<String> = diff.keys().map(|k| k.to_string()).collect();
    store::record_change(tx.conn(), id, "updated", json!(diff), &stamp).await?;
    let product = assemble(tx.conn(), vec![row]).await?.pop().ok_or(CatalogError::ProductNotFound)?;
    reindex(tx, ports.search, &product, &shop).await?;
    tx.audit("catalog.product.updated", Some(id.to_string()), json!({"changed": changed})).await?;
    let updated = ProductUpdated { product_id: id.into(), changed, version: product.version };
    tx.publish(ports.bus, &updated).await?;
    announce_status(tx, ports.bus, current.status, &product).await?;
    Ok(product)
}

/// The option values `id`'s variants have under the product's new `options`, for the variants
/// whose values change: an added option gives every variant its first value (staff pick the
/// right one per variant afterwards), a removed one is dropped from each. Refused (422) when a
/// variant's value is no longer offered (`variants[SKU].option_values.NAME`), or when removing an
/// option would leave two variants that differed alike (`options`): a shopper could no longer
/// choose between them.
async fn reassign_option_values(
    conn: &mut AsyncPgConnection,
    id: ProductId,
    was: &[ProductOption],
    options: &[ProductOption],
    shop: &Shop,
) -> Result<Vec<(VariantId, BTreeMap<String, String>)>, CatalogError> {
    let mut problems = Problems::default();
    let mut reassigned = Vec::new();
    let mut chosen: HashMap<BTreeMap<String, String>, (String, BTreeMap<String, String>)> = HashMap::new();
    for variant in store::variants_of(conn, &[id]).await? {
        let before: BTreeMap<String, String> =
            serde_json::from_value(variant.option_values.clone()).unwrap_or_default();
        let mut values = BTreeMap::new();
        for option in options {
            let value = match before.get(&option.name) {
                Some(value) if was.iter().any(|o| o.name == option.name) => value.clone(),
                _ => option.values.first().cloned().unwrap_or_default(),
            };
            values.insert(option.name.clone(), value);
        }
        let at = format!("variants[{}].", variant.sku);
        check_variant_fields(&at, None, Some(&values), [("", None); 4], None, None, options, shop, &mut problems);
        if let Some((other, other_before)) = chosen.get(&values) {
            if *other_before != before {
                problems.add(
                    "options",
                    format!(
                        "variants {other} and {} would no longer differ: keep an option that tells them apart",
                        variant.sku
                    ),
                );
            }
        } else {
            chosen.insert(values.clone(), (variant.sku.clone(), before.clone()));
        }
        if values != before {
            reassigned.push((variant.id, values));
        }
    }
    problems.into_result()?;
    Ok(reassigned)
}

pub(crate) async fn delete(
    tx: &mut TenantTx<'_>,
    ports: Ports<'_>,
    id: ProductId,
    expected: Option<i64>,
) -> Result<(), CatalogError> {
    let stamp = tx.stamp();
    let current = lock_current(tx.conn(), id, expected).await?;
    let skus: Vec<String> = store::variants_of(tx.conn(), &[id]).await?.into_iter().map(|v| v.sku).collect();
    store::soft_delete_product(tx.conn(), id, &stamp).await?;
    store::record_change(tx.conn(), id, "deleted", json!({}), &stamp).await?;
    ports.search.remove(tx.conn(), id).await?;
    tx.audit("catalog.product.deleted", Some(id.to_string()), json!({"skus": skus})).await?;
    tx.publish(ports.bus, &ProductDeleted { product_id: id.into(), skus }).await?;
    if current.status == ProductStatus::Active {
        let unpublished = ProductUnpublished { product_id: id.into(), status: "deleted".into() };
        tx.publish(ports.bus, &unpublished).await?;
    }
    Ok(())
}

/// What every change to a product's variants does after its own rows: the product's lowest
/// prices, a new version, the history entry, the search document, the audit entry and the
/// events (`ProductUpdated` naming the variants, then each price change).
async fn variants_changed(
    tx: &mut TenantTx<'_>,
    ports: Ports<'_>,
    product_id: ProductId,
    shop: &Shop,
    action: &str,
    record: Value,
    prices: &[PriceChanged],
) -> Result<Product, CatalogError> {
    let stamp = tx.stamp();
    store::refresh_prices_from(tx.conn(), product_id).await?;
    let row = store::update_product(tx.conn(), product_id, &ProductChanges::default(), &stamp).await?;
    store::record_change(tx.conn(), product_id, action, record.clone(), &stamp).await?;
    let product = assemble(tx.conn(), vec![row]).await?.pop().ok_or(CatalogError::ProductNotFound)?;
    reindex(tx, ports.search, &product, shop).await?;
    let audit = json!({"changed": ["variants"], "action": action, "details": record});
    tx.audit("catalog.product.updated", Some(product_id.to_string()), audit).await?;
    let updated =
        ProductUpdated { product_id: product_id.into(), changed: vec!["variants".into()], version: product.version };
    tx.publish(ports.bus, &updated).await?;
    for event in prices {
        tx.publish(ports.bus, event).await?;
    }
    Ok(product)
}

pub(crate) async fn add_variant(
    tx: &mut TenantTx<'_>,
    ports: Ports<'_>,
    product_id: ProductId,
    new: NewVariant,
    expected: Option<i64>,
) -> Result<Product, CatalogError> {
    let stamp = tx.stamp();
    let current = lock_current(tx.conn(), product_id, expected).await?;
    let shop = shop(tx.conn()).await?;
    let mut problems = Problems::default();
    let options = options_of(&current);
    let checked = check_new_variant("", &new, &options, &shop, &mut problems);
    let count = store::variants_of(tx.conn(), &[product_id]).await?.len();
    if count >= MAX_VARIANTS {
        problems.add("sku", format!("a product has at most {MAX_VARIANTS} variants"));
    }
    problems.into_result()?;
    let sku = checked.sku.clone().unwrap_or_default();
    check_skus_free(tx.conn(), &[("sku".into(), sku.clone())], None).await?;
    let prices = checked.prices.clone().unwrap_or_default();
    let variant = insert_variant(tx.conn(), product_id, checked, &new, count, &stamp).await?;
    let price_events: Vec<PriceChanged> = prices
        .into_iter()
        .map(|price| PriceChanged {
            product_id: product_id.into(),
            variant_id: variant.into(),
            sku: sku.clone(),
            currency: price.price_currency,
            previous_amount: None,
            amount: Some(price.price_amount),
            compare_at_amount: price.compare_at_amount,
        })
        .collect();
    variants_changed(tx, ports, product_id, &shop, "variant_added", json!({"sku": sku}), &price_events).await
}

pub(crate) async fn update_variant(
    tx: &mut TenantTx<'_>,
    ports: Ports<'_>,
    product_id: ProductId,
    variant_id: VariantId,
    patch: VariantPatch,
    expected: Option<i64>,
) -> Result<Product, CatalogError> {
    let stamp = tx.stamp();
    let current = lock_current(tx.conn(), product_id, expected).await?;
    let shop = shop(tx.conn()).await?;
    let variant = store::variants_of(tx.conn(), &[product_id])
        .await?
        .into_iter()
        .find(|v| v.id == variant_id)
        .ok_or(CatalogError::VariantNotFound)?;
    let mut problems = Problems::default();
    let options = options_of(&current);
    let flat = |v: Option<Option<i32>>| v.flatten();
    let checked = check_variant_fields(
        "",
        patch.sku.as_deref(),
        patch.option_values.as_ref(),
        [
            ("weight_grams", flat(patch.weight_grams)),
            ("length_mm", flat(patch.length_mm)),
            ("width_mm", flat(patch.width_mm)),
            ("height_mm", flat(patch.height_mm)),
        ],
        patch.barcode.clone().flatten().as_deref(),
        patch.prices.as_deref(),
        &options,
        &shop,
        &mut problems,
    );
    problems.into_result()?;
    if let Some(sku) = &checked.sku {
        check_skus_free(tx.conn(), &[("sku".into(), sku.clone())], Some(variant_id)).await?;
    }
    let mut diff: BTreeMap<&'static str, Value> = BTreeMap::new();
    let changes = VariantChanges {
        sku: checked.sku.clone().filter(|s| *s != variant.sku),
        option_values: checked.option_values.as_ref().map(|v| json!(v)).filter(|v| *v != variant.option_values),
        barcode: patch.barcode.clone().filter(|b| *b != variant.barcode),
        weight_grams: patch.weight_grams.filter(|w| *w != variant.weight_grams),
        length_mm: patch.length_mm.filter(|w| *w != variant.length_mm),
        width_mm: patch.width_mm.filter(|w| *w != variant.width_mm),
        height_mm: patch.height_mm.filter(|w| *w != variant.height_mm),
        position: patch.position.filter(|p| *p != variant.position),
    };
    if let Some(sku) = &changes.sku {
        diff.insert("sku", json!({"from": variant.sku, "to": sku}));
    }
    for (field, changed) in [
        ("option_values", changes.option_values.is_some()),
        ("barcode", changes.barcode.is_some()),
        ("weight_grams", changes.weight_grams.is_some()),
        ("length_mm", changes.length_mm.is_some()),
        ("width_mm", changes.width_mm.is_some()),
        ("height_mm", changes.height_mm.is_some()),
        ("position", changes.position.is_some()),
    ] {
        if changed {
            diff.insert(field, json!(true));
        }
    }
    let sku = checked.sku.clone().unwrap_or_else(|| variant.sku.clone());
    let mut price_events = Vec::new();
    if let Some(prices) = &checked.prices {
        let old_prices = store::prices_of(tx.conn(), &[variant_id]).await?;
        let new_prices: Vec<PriceRow> = prices.iter().cloned().map(|p| PriceRow { variant_id, ..p }).collect();
        price_events = price_changes(product_id, variant_id, &sku, &old_prices, &new_prices);
        if !price_events.is_empty() {
            diff.insert("prices", json!({"from": price_json(&old_prices), "to": price_json(&new_prices)}));
            store::replace_prices(tx.conn(), variant_id, &new_prices).await?;
        }
    }
    if diff.is_empty() {
        return load(tx.conn(), product_id).await;
    }
    store::update_variant(tx.conn(), variant_id, &changes, &stamp)
        .await
        .map_err(|e| clash(e, "sku", changes.sku.as_deref().unwrap_or_default()))?;
    let record = json!({"variant": variant.sku, "changes": diff});
    variants_changed(tx, ports, product_id, &shop, "variant_updated", record, &price_events).await
}

/// The price events of replacing `old` prices of a variant by `new` ones: one per currency whose
/// price or compare-at price differs.
pub(crate) fn price_changes(
    product_id: ProductId,
    variant_id: VariantId,
    sku: &str,
    old: &[PriceRow],
    new: &[PriceRow],
) -> Vec<PriceChanged> {
    let mut currencies: BTreeSet<&String> = old.iter().map(|p| &p.price_currency).collect();
    currencies.extend(new.iter().map(|p| &p.price_currency));
    currencies
        .into_iter()
        .filter_map(|currency| {
            let was = old.iter().find(|p| &p.price_currency == currency);
            let now = new.iter().find(|p| &p.price_currency == currency);
            (was != now).then(|| PriceChanged {
                product_id: product_id.into(),
                variant_id: variant_id.into(),
                sku: sku.to_string(),
                currency: currency.clone(),
                previous_amount: was.map(|p| p.price_amount),
                amount: now.map(|p| p.price_amount),
                compare_at_amount: now.and_then(|p| p.compare_at_amount),
            })
        })
        .collect()
}

pub(crate) async fn delete_variant(
    tx: &mut TenantTx<'_>,
    ports: Ports<'_>,
    product_id: ProductId,
    variant_id: VariantId,
    expected: Option<i64>,
) -> Result<Product, CatalogError> {
    let stamp = tx.stamp();
    lock_current(tx.conn(), product_id, expected).await?;
    let shop = shop(tx.conn()).await?;
    let variant = store::variants_of(tx.conn(), &[product_id])
        .await?
        .into_iter()
        .find(|v| v.id == variant_id)
        .ok_or(CatalogError::VariantNotFound)?;
    store::soft_delete_variant(tx.conn(), variant_id, &stamp).await?;
    variants_changed(tx, ports, product_id, &shop, "variant_deleted", json!({"sku": variant.sku}), &[]).await
}

/// A change to every price of a product: by a percentage (basis points, `-1000` is 10 % off) in
/// every currency, or by an amount (minor units) in the named currencies.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Repricing {
    pub percent_basis_points: Option<i64>,
    pub amounts: BTreeMap<String, i64>,
}

impl Repricing {
    /// The new amount, or `None` when the currency is not changed; an overflow is refused as
    /// out of range.
    fn apply(&self, amount: i64, currency: &str) -> Option<Result<i64, ()>> {
        if let Some(bp) = self.percent_basis_points {
            let currency = Currency::parse(currency)?;
            let scaled = Money::new(amount, currency).ratio(i128::from(10_000 + bp), 10_000, Rounding::HalfUp);
            return Some(scaled.map(|m| m.amount).map_err(|_| ()));
        }
        let delta = self.amounts.get(currency)?;
        Some(amount.checked_add(*delta).ok_or(()))
    }
}

/// Changes the prices of every live variant of the product (one new version, one history entry,
/// a `PriceChanged` per changed price). A price that would fall below zero refuses the whole
/// product, naming the variant and currency. `None` when no price changed.
pub(crate) async fn reprice(
    tx: &mut TenantTx<'_>,
    ports: Ports<'_>,
    id: ProductId,
    change: &Repricing,
) -> Result<Option<Product>, CatalogError> {
    lock_current(tx.conn(), id, None).await?;
    let shop = shop(tx.conn()).await?;
    let variants = store::variants_of(tx.conn(), &[id]).await?;
    let variant_ids: Vec<VariantId> = variants.iter().map(|v| v.id).collect();
    let prices = store::prices_of(tx.conn(), &variant_ids).await?;
    let mut problems = Problems::default();
    let mut events = Vec::new();
    let mut record = BTreeMap::new();
    let mut replaced = Vec::new();
    for variant in &variants {
        let old: Vec<PriceRow> = prices.iter().filter(|p| p.variant_id == variant.id).cloned().collect();
        let mut new = Vec::with_capacity(old.len());
        for price in &old {
            let field = format!("prices.{}", price.price_currency);
            let amount = match change.apply(price.price_amount, &price.price_currency) {
                None => price.price_amount,
                Some(Ok(amount)) if amount >= 0 => amount,
                Some(_) => {
                    problems.add(field, format!("{}: {} would fall below zero", variant.sku, price.price_amount));
                    continue;
                }
            };
            let compare_at = match (price.compare_at_amount, change.percent_basis_points) {
                (Some(was), Some(_)) => change.apply(was, &price.price_currency).and_then(Result::ok).map(|c| c.max(0)),
                (compare_at, _) => compare_at,
            };
            new.push(PriceRow { price_amount: amount, compare_at_amount: compare_at, ..price.clone() });
        }
        let changed = price_changes(id, variant.id, &variant.sku, &old, &new);
        if !changed.is_empty() {
            record.insert(variant.sku.clone(), json!({"from": price_json(&old), "to": price_json(&new)}));
            events.extend(changed);
            replaced.push((variant.id, new));
        }
    }
    problems.into_result()?;
    if events.is_empty() {
        return Ok(None);
    }
    for (variant, rows) in &replaced {
        store::replace_prices(tx.conn(), *variant, rows).await?;
    }
    let product = variants_changed(tx, ports, id, &shop, "prices_changed", json!(record), &events).await?;
    Ok(Some(product))
}

fn price_json(prices: &[PriceRow]) -> Value {
    json!(prices
        .iter()
        .map(|p| (p.price_currency.clone(), json!({"amount": p.price_amount, "compare_at": p.compare_at_amount})))
        .collect::<BTreeMap<_, _>>())
}

fn check_window(publish_at: Option<DateTime<Utc>>, unpublish_at: Option<DateTime<Utc>>, problems: &mut Problems) {
    if let (Some(from), Some(until)) = (publish_at, unpublish_at) {
        if until <= from {
            problems.add("unpublish_at", "after publish_at");
        }
    }
}

fn check_tax_class(tax_class: Option<&str>, problems: &mut Problems) {
    if tax_class.is_some_and(|t| t.trim().is_empty() || t.chars().count() > 50) {
        problems.add("tax_class", "1 to 50 characters");
    }
}

fn check_new_variant(
    at: &str,
    v: &NewVariant,
    options: &[ProductOption],
    shop: &Shop,
    problems: &mut Problems,
) -> CheckedVariant {
    check_variant_fields(
        at,
        Some(&v.sku),
        Some(&v.option_values),
        [
            ("weight_grams", v.weight_grams),
            ("length_mm", v.length_mm),
            ("width_mm", v.width_mm),
            ("height_mm", v.height_mm),
        ],
        v.barcode.as_deref(),
        Some(&v.prices),
        options,
        shop,
        problems,
    )
}

async fn insert_variant(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    checked: CheckedVariant,
    new: &NewVariant,
    position: usize,
    stamp: &Stamp,
) -> Result<VariantId, CatalogError> {
    let id = VariantId::new_v7();
    let sku = checked.sku.unwrap_or_default();
    let row = VariantInsert {
        id,
        product_id: product,
        sku: sku.clone(),
        option_values: json!(checked.option_values.unwrap_or_default()),
        barcode: new.barcode.clone(),
        weight_grams: new.weight_grams,
        length_mm: new.length_mm,
        width_mm: new.width_mm,
        height_mm: new.height_mm,
        position: new.position.unwrap_or(i32::try_from(position).unwrap_or(i32::MAX)),
    };
    store::insert_variant(conn, &row, stamp).await.map_err(|e| clash(e, "sku", &sku))?;
    let prices: Vec<PriceRow> =
        checked.prices.unwrap_or_default().into_iter().map(|p| PriceRow { variant_id: id, ..p }).collect();
    store::replace_prices(conn, id, &prices).await?;
    Ok(id)
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: ProductId) -> Result<Product, CatalogError> {
    load(tx.conn(), id).await
}

pub(crate) async fn list(
    tx: &mut TenantTx<'_>,
    query: &ListQuery<ProductSort>,
    filter: &ProductFilter,
) -> Result<Page<Product>, agora_kernel::ApiError> {
    let rows = store::list_products(tx.conn(), query, filter).await?;
    let keys: HashMap<ProductId, Value> = rows
        .iter()
        .map(|r| {
            let key = match query.sort.key {
                ProductSort::Created => json!(r.created_at),
                ProductSort::Modified => json!(r.modified_at),
                ProductSort::Name => json!(r.sort_name),
            };
            (r.id, key)
        })
        .collect();
    let products = assemble(tx.conn(), rows).await?;
    Ok(query.page(products, |p: &Product| (keys.get(&p.id).cloned().unwrap_or_default(), p.id.into())))
}

pub(crate) async fn history(
    tx: &mut TenantTx<'_>,
    id: ProductId,
    page: &Keyset<DateTime<Utc>>,
) -> Result<Page<ProductChange>, CatalogError> {
    // Deleted products keep their history.
    let rows = store::history(tx.conn(), id, page).await?;
    if rows.is_empty() && page.after.is_none() {
        return Err(CatalogError::ProductNotFound);
    }
    let changes = rows
        .into_iter()
        .map(|r| ProductChange {
            id: r.id,
            changed_at: r.changed_at,
            changed_by: r.changed_by,
            action: r.action,
            changes: r.changes,
        })
        .collect();
    Ok(page.page(changes, |c: &ProductChange| (c.changed_at, c.id)))
}

pub(crate) async fn sold_currencies(tx: &mut TenantTx<'_>) -> Result<SoldCurrencies, CatalogError> {
    let shop = shop(tx.conn()).await?;
    Ok(SoldCurrencies { default_currency: shop.default_currency, currencies: shop.currencies })
}

pub(crate) async fn set_sold_currencies(
    tx: &mut TenantTx<'_>,
    input: SoldCurrenciesInput,
) -> Result<SoldCurrencies, CatalogError> {
    let mut problems = Problems::default();
    let mut currencies: Vec<String> = Vec::new();
    for (i, raw) in input.currencies.iter().enumerate() {
        let code = raw.trim().to_uppercase();
        if Currency::parse(&code).is_none() {
            problems.add(format!("currencies[{i}]"), "not an ISO 4217 currency code");
        } else if !currencies.contains(&code) {
            currencies.push(code);
        }
    }
    if currencies.len() > 20 {
        problems.add("currencies", "at most 20 currencies");
    }
    problems.into_result()?;
    let stamp = tx.stamp();
    store::replace_extra_currencies(tx.conn(), &currencies, &stamp).await?;
    tx.audit("catalog.currencies.updated", None, json!({"currencies": currencies})).await?;
    sold_currencies(tx).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_made_from_names() {
        assert_eq!(slugify("Blue T-Shirt (Organic)"), "blue-t-shirt-organic");
        assert_eq!(slugify("  Müsli & Öl  "), "musli-ol");
        assert!(is_slug("blue-t-shirt"));
        assert!(!is_slug("Blue"));
        assert!(!is_slug("a--b"));
        assert!(!is_slug("-a"));
    }
}
