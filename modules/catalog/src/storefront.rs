//! What shoppers see: product lists with filters and facet counts, product pages by slug or id,
//! the category tree, search and suggestions. Every read goes through the one visibility rule
//! (`visible!` in the store, `VISIBLE` in the search engine): active, not deleted, inside the
//! publication window. Another shop's products are out of reach by construction (each shop's
//! tables live in its own schema).

use crate::categories::Tree;
use crate::products;
use crate::search::{self, SearchEngine, SearchHit, SearchRequest};
use crate::store::{self, ListingRow, Narrowing};
use crate::{
    product_types, AttributeKind, Breadcrumb, CatalogError, CategoryId, ProductId, ProductKind, ProductOption,
    SearchSort, StoreSort,
};
use agora_kernel::lists::ListQuery;
use agora_kernel::money::{Currency, Money};
use agora_kernel::{ApiError, TenantTx};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap};

/// Most search hits considered (ranked), for the page and its facets.
const MAX_HITS: i64 = 1000;

/// Filters of a storefront product list (query parameters).
#[derive(Debug, Clone, Default, Serialize, Deserialize, Apiv2Schema)]
pub struct StoreFilter {
    /// A category's id or slug: its products and those of every category below it.
    pub category: Option<String>,
    /// A collection's id or slug: its products.
    pub collection: Option<String>,
    /// Only products with this tag.
    pub tag: Option<String>,
    /// Lowest price in minor units of `currency` (inclusive).
    pub min_price: Option<i64>,
    /// Highest price in minor units of `currency` (inclusive).
    pub max_price: Option<i64>,
    /// Prices in this currency (one the shop sells in); the shop's default when absent.
    pub currency: Option<String>,
    /// Attribute filters `code:value`, comma-separated; values of one code are alternatives
    /// (`colour:red,colour:blue,organic:true`).
    pub attributes: Option<String>,
    /// The shopper's language, overriding `Accept-Language`.
    pub locale: Option<String>,
    /// `true`: only products shoppers can buy now (in stock, on backorder or open for preorder).
    pub in_stock: Option<bool>,
}

/// A product in a list.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StoreProductSummary {
    pub id: ProductId,
    pub name: String,
    /// The slug in the shopper's language (or the shop's default).
    pub slug: Option<String>,
    /// The lowest price of its variants in the requested currency.
    pub price_from: Option<Money>,
    /// What that lowest price was before a reduction (struck through on the card), when there was one.
    pub compare_at: Option<Money>,
    /// Its first picture, for the card.
    pub image: Option<crate::StoreMedia>,
    pub tags: Vec<String>,
    pub attributes: BTreeMap<String, Value>,
    /// Whether shoppers can buy it now: false when every variant is out of stock.
    pub in_stock: bool,
}

/// How many products of a list have a value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
pub struct FacetValue {
    pub value: String,
    pub count: i64,
}

/// The lowest and highest price in a list.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct PriceRange {
    pub min: Money,
    pub max: Money,
}

/// Counts over every product a list matches (not just the page).
#[derive(Debug, Clone, Default, Serialize, Deserialize, Apiv2Schema)]
pub struct Facets {
    /// Per filterable attribute code, its values and how many products have each.
    pub attributes: BTreeMap<String, Vec<FacetValue>>,
    pub tags: Vec<FacetValue>,
    pub price: Option<PriceRange>,
    /// How many products match.
    pub total: i64,
}

/// A page of a storefront product list.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StoreProductPage {
    pub items: Vec<StoreProductSummary>,
    /// Pass as `cursor` for the next page; absent on the last one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    pub facets: Facets,
    /// The language the texts are in.
    pub locale: String,
    pub currency: String,
}

/// Search results, best first.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StoreSearchResults {
    pub items: Vec<StoreProductSummary>,
    /// Where the next page starts (`cursor=`); absent on the last page. Pages run through the
    /// best 1,000 matches.
    pub next_cursor: Option<String>,
    pub facets: Facets,
    /// Product names close to the query ("did you mean"), when it found little.
    pub suggestions: Vec<String>,
    pub locale: String,
    pub currency: String,
}

/// A variant as shoppers see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StoreVariant {
    pub id: crate::VariantId,
    pub sku: String,
    pub option_values: BTreeMap<String, String>,
    /// In the requested currency; absent when the variant has no price in it.
    pub price: Option<Money>,
    pub compare_at: Option<Money>,
    pub weight_grams: Option<i32>,
    /// What shoppers are told about its stock; absent when it is not counted (always sellable).
    pub availability: Option<crate::VariantAvailability>,
}

/// A product page.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StoreProduct {
    pub id: ProductId,
    pub kind: ProductKind,
    pub name: String,
    pub description: Option<String>,
    pub seo_title: Option<String>,
    pub seo_description: Option<String>,
    /// The slug in the shopper's language.
    pub slug: Option<String>,
    /// The slug in each language (for `hreflang` links).
    pub slugs: BTreeMap<String, String>,
    pub options: Vec<ProductOption>,
    pub attributes: BTreeMap<String, Value>,
    pub tags: Vec<String>,
    pub variants: Vec<StoreVariant>,
    /// The product's categories, each with its trail from the top.
    pub categories: Vec<Vec<Breadcrumb>>,
    /// Its images in the merchant's order, alt text in the shopper's language.
    pub media: Vec<crate::StoreMedia>,
    pub locale: String,
    pub currency: String,
}

/// A category as shoppers see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StoreCategory {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    pub position: i32,
    pub breadcrumbs: Vec<Breadcrumb>,
}

/// A collection as shoppers see it (its products: `GET /products?collection=`).
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StoreCollection {
    pub id: crate::CollectionId,
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
}

/// Product names completing or correcting what the shopper is typing ("tshrit" → "T-Shirt").
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Suggestions {
    pub suggestions: Vec<String>,
}

/// A visible product's addresses, for a sitemap.
#[derive(Debug, Clone)]
pub struct SitemapProduct {
    pub id: ProductId,
    /// Its current slug in each language that has one.
    pub slugs: BTreeMap<String, String>,
    pub modified_at: chrono::DateTime<chrono::Utc>,
}

/// A page of [`SitemapProduct`]s, and what a sitemap needs around them.
#[derive(Debug, Clone)]
pub struct SitemapPage {
    /// How many products are visible in all.
    pub total: i64,
    pub products: Vec<SitemapProduct>,
    /// The shop's languages, its default first or not.
    pub locales: Vec<String>,
    pub default_locale: String,
}

/// A product page, or where it moved (an old slug).
pub enum Found<T> {
    Here(T),
    MovedTo(String),
}

/// The shop's language that best serves a shopper who reads `wanted` (from `Accept-Language`
/// or `?locale=`), else the shop's default.
pub(crate) fn pick_locale(wanted: &[String], shop: &products::Shop) -> String {
    for tag in wanted {
        let tag = tag.to_lowercase();
        if let Some(exact) = shop.locales.iter().find(|l| l.to_lowercase() == tag) {
            return exact.clone();
        }
        let language = tag.split('-').next().unwrap_or_default();
        if let Some(close) = shop.locales.iter().find(|l| l.split('-').next() == Some(language)) {
            return close.clone();
        }
    }
    shop.default_locale.clone()
}

/// `Accept-Language: de-CH, de;q=0.9, en;q=0.5` → `["de-CH", "de", "en"]`.
pub fn accepted_languages(header: Option<&str>) -> Vec<String> {
    let Some(header) = header else { return Vec::new() };
    let mut tags: Vec<(f32, usize, String)> = header
        .split(',')
        .enumerate()
        .filter_map(|(i, part)| {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next()?.trim();
            if tag.is_empty() || tag == "*" {
                return None;
            }
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            (q > 0.0).then(|| (q, i, tag.to_string()))
        })
        .collect();
    tags.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    tags.into_iter().map(|(_, _, t)| t).take(10).collect()
}

fn pick_currency(requested: Option<&str>, shop: &products::Shop) -> Result<String, CatalogError> {
    match requested {
        None => Ok(shop.default_currency.clone()),
        Some(raw) => {
            let code = raw.trim().to_uppercase();
            if shop.currencies.contains(&code) {
                Ok(code)
            } else {
                Err(CatalogError::field("currency", format!("one of {}", shop.currencies.join(", "))))
            }
        }
    }
}

/// `colour:red,colour:blue` → one group of alternatives per attribute (JSON containment).
fn attribute_filters(raw: Option<&str>) -> Result<Vec<Vec<Value>>, CatalogError> {
    let Some(raw) = raw.filter(|r| !r.trim().is_empty()) else { return Ok(Vec::new()) };
    let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for part in raw.split(',') {
        let Some((code, value)) = part.split_once(':') else {
            return Err(CatalogError::field("attributes", "filters are code:value, comma-separated"));
        };
        let (code, value) = (code.trim(), value.trim());
        if code.is_empty() || value.is_empty() {
            return Err(CatalogError::field("attributes", "filters are code:value, comma-separated"));
        }
        let alternatives = groups.entry(code.to_string()).or_default();
        alternatives.push(json!({ code: value }));
        alternatives.push(json!({ code: [value] }));
        if let Ok(flag) = value.parse::<bool>() {
            alternatives.push(json!({ code: flag }));
        }
        if let Ok(number) = value.parse::<f64>() {
            if let Some(n) = serde_json::Number::from_f64(number) {
                alternatives.push(json!({ code: n }));
            }
            if let Ok(int) = value.parse::<i64>() {
                alternatives.push(json!({ code: int }));
            }
        }
    }
    Ok(groups.into_values().collect())
}

fn money(amount: i64, currency: &str) -> Option<Money> {
    Currency::parse(currency).map(|c| Money::new(amount, c))
}

/// The attribute codes the shop offers as filters, with their kinds.
async fn filterable(conn: &mut AsyncPgConnection) -> Result<BTreeMap<String, AttributeKind>, CatalogError> {
    let mut codes = BTreeMap::new();
    for row in store::product_types(conn).await? {
        for definition in product_types::definitions(&row.attributes) {
            let countable =
                matches!(definition.kind, AttributeKind::Select | AttributeKind::MultiSelect | AttributeKind::Boolean);
            if definition.filterable && countable {
                codes.insert(definition.code, definition.kind);
            }
        }
    }
    Ok(codes)
}

/// Facet counts over `rows` (every product the list matches).
pub(crate) fn count_facets(
    rows: &[(ProductId, Value, Vec<String>, i64)],
    codes: &BTreeMap<String, AttributeKind>,
    currency: &str,
) -> Facets {
    let mut attributes: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut tags: BTreeMap<String, i64> = BTreeMap::new();
    for (_, attrs, product_tags, _) in rows {
        for code in codes.keys() {
            let values: Vec<String> = match attrs.get(code) {
                Some(Value::String(s)) => vec![s.clone()],
                Some(Value::Bool(b)) => vec![b.to_string()],
                Some(Value::Array(items)) => {
                    let mut seen: Vec<String> = items.iter().filter_map(|i| i.as_str().map(str::to_string)).collect();
                    seen.sort();
                    seen.dedup();
                    seen
                }
                _ => Vec::new(),
            };
            for value in values {
                *attributes.entry(code.clone()).or_default().entry(value).or_default() += 1;
            }
        }
        for tag in product_tags {
            *tags.entry(tag.clone()).or_default() += 1;
        }
    }
    let sorted = |counts: BTreeMap<String, i64>| {
        let mut values: Vec<FacetValue> =
            counts.into_iter().map(|(value, count)| FacetValue { value, count }).collect();
        values.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
        values
    };
    let min = rows.iter().map(|r| r.3).min();
    let max = rows.iter().map(|r| r.3).max();
    let price = match (min, max) {
        (Some(min), Some(max)) => match (money(min, currency), money(max, currency)) {
            (Some(min), Some(max)) => Some(PriceRange { min, max }),
            _ => None,
        },
        _ => None,
    };
    Facets {
        attributes: attributes.into_iter().map(|(code, counts)| (code, sorted(counts))).collect(),
        tags: sorted(tags),
        price,
        total: i64::try_from(rows.len()).unwrap_or(i64::MAX),
    }
}

/// Everything a list request narrows to, checked; `None` category means the whole shop.
async fn narrowing(
    conn: &mut AsyncPgConnection,
    filter: &StoreFilter,
    currency: String,
) -> Result<Narrowing, CatalogError> {
    let categories = match filter.category.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(key) => {
            let tree = Tree::new(store::all_categories(conn).await?);
            let found = match key.parse::<uuid::Uuid>() {
                Ok(id) => tree.get(CategoryId::from_uuid(id)),
                Err(_) => tree.by_slug(key),
            };
            let category = found.ok_or(CatalogError::CategoryNotFound)?;
            Some(tree.subtree(category.id))
        }
    };
    let collection = match filter.collection.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(key) => {
            let row = store::find_collection(conn, key).await?.ok_or(CatalogError::CollectionNotFound)?;
            Some(match row.rules {
                Some(rule) => store::CollectionMembers::Rule(rule),
                None => store::CollectionMembers::HandPicked(row.id),
            })
        }
    };
    let mut problems = Vec::new();
    if filter.min_price.is_some_and(|p| p < 0) {
        problems.push(agora_kernel::FieldError::new("min_price", "not negative"));
    }
    if let (Some(min), Some(max)) = (filter.min_price, filter.max_price) {
        if max < min {
            problems.push(agora_kernel::FieldError::new("max_price", "at least min_price"));
        }
    }
    if !problems.is_empty() {
        return Err(agora_kernel::CommonError::Invalid(problems).into());
    }
    Ok(Narrowing {
        currency,
        categories,
        tags: filter.tag.iter().map(|t| t.trim().to_lowercase()).filter(|t| !t.is_empty()).collect(),
        min_price: filter.min_price,
        max_price: filter.max_price,
        attributes: attribute_filters(filter.attributes.as_deref())?,
        only: None,
        collection,
        in_stock: filter.in_stock == Some(true),
    })
}

/// Summaries of `rows` in the shopper's language, with their slugs and first pictures (two queries).
async fn summaries(
    conn: &mut AsyncPgConnection,
    rows: Vec<ListingRow>,
    locale: &str,
    shop: &products::Shop,
    currency: &str,
) -> Result<Vec<StoreProductSummary>, CatalogError> {
    let ids: Vec<ProductId> = rows.iter().map(|r| r.id).collect();
    let mut slugs: HashMap<ProductId, BTreeMap<String, String>> = HashMap::new();
    for (product, slug_locale, slug) in store::current_slugs(conn, &ids).await? {
        slugs.entry(product).or_default().insert(slug_locale, slug);
    }
    let mut images = crate::media::cards_of(conn, &ids, locale, &shop.default_locale).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let product_slugs = slugs.remove(&row.id).unwrap_or_default();
            StoreProductSummary {
                id: row.id,
                name: row.name.get(locale, &shop.default_locale).unwrap_or_default().to_string(),
                slug: slug_for(&product_slugs, locale, &shop.default_locale),
                price_from: row.price_amount.and_then(|a| money(a, currency)),
                compare_at: None,
                image: images.remove(&row.id),
                tags: row.tags,
                attributes: serde_json::from_value(row.attributes).unwrap_or_default(),
                in_stock: row.in_stock,
            }
        })
        .collect())
}

fn slug_for(slugs: &BTreeMap<String, String>, locale: &str, default: &str) -> Option<String> {
    slugs.get(locale).or_else(|| slugs.get(default)).or_else(|| slugs.values().next()).cloned()
}

/// A page of visible products matching `filter`, with facet counts over all of them.
pub(crate) async fn products(
    tx: &mut TenantTx<'_>,
    filter: StoreFilter,
    query: &ListQuery<StoreSort>,
    languages: Vec<String>,
) -> Result<StoreProductPage, ApiError> {
    let query = query.clone();
    let conn = tx.conn();
    let shop = products::shop(conn).await?;
    let locale = pick_locale(&with_override(&filter, languages), &shop);
    let currency = pick_currency(filter.currency.as_deref(), &shop)?;
    let narrowing = narrowing(conn, &filter, currency.clone()).await?;
    let rows = store::store_listing(conn, &narrowing, &query).await?;
    let keys: HashMap<ProductId, Value> = rows
        .iter()
        .map(|r| {
            let key = match query.sort.key {
                StoreSort::Newest => json!(r.created_at),
                StoreSort::Name => json!(r.sort_name),
                StoreSort::Price => json!(r.price_amount),
            };
            (r.id, key)
        })
        .collect();
    let items = summaries(conn, rows, &locale, &shop, &currency).await?;
    let page = query.page(items, |p| (keys.get(&p.id).cloned().unwrap_or_default(), p.id.into()));
    let facet_rows = store::store_facet_rows(conn, &narrowing).await?;
    let facets = count_facets(&facet_rows, &filterable(conn).await?, &currency);
    Ok::<_, ApiError>(StoreProductPage { items: page.items, next_cursor: page.next_cursor, facets, locale, currency })
}

/// A visible product by id or by slug in any language; an old slug answers where it moved.
pub(crate) async fn product(
    tx: &mut TenantTx<'_>,
    key: String,
    currency: Option<String>,
    languages: Vec<String>,
) -> Result<Found<(StoreProduct, Option<DateTime<Utc>>)>, CatalogError> {
    let conn = tx.conn();
    let shop = products::shop(conn).await?;
    let locale = pick_locale(&languages, &shop);
    let currency = pick_currency(currency.as_deref(), &shop)?;
    let id = match key.parse::<uuid::Uuid>() {
        Ok(id) => ProductId::from_uuid(id),
        Err(_) => {
            let holders = store::product_by_slug(conn, &key).await?;
            match holders.iter().find(|(_, _, current)| *current) {
                Some((id, _, _)) => *id,
                None => {
                    let Some((id, slug_locale, _)) = holders.first() else {
                        return Err(CatalogError::ProductNotFound);
                    };
                    if store::visible_product(conn, *id).await?.is_none() {
                        return Err(CatalogError::ProductNotFound);
                    }
                    return match store::current_slug(conn, *id, slug_locale).await? {
                        Some(slug) => Ok(Found::MovedTo(slug)),
                        None => Err(CatalogError::ProductNotFound),
                    };
                }
            }
        }
    };
    let row = store::visible_product(conn, id).await?.ok_or(CatalogError::ProductNotFound)?;
    let product = products::assemble(conn, vec![row]).await?.pop().ok_or(CatalogError::ProductNotFound)?;
    let tree = Tree::new(store::all_categories(conn).await?);
    let categories = product
        .category_ids
        .iter()
        .filter_map(|c| tree.get(*c))
        .map(|c| {
            let mut trail = tree.breadcrumbs(c.id, &locale, &shop.default_locale);
            trail.push(Breadcrumb {
                id: c.id,
                slug: c.slug.clone(),
                name: c.name.get(&locale, &shop.default_locale).unwrap_or_default().to_string(),
            });
            trail
        })
        .collect();
    let text = |t: &agora_kernel::values::LocalizedText| t.get(&locale, &shop.default_locale).map(str::to_string);
    let ids: Vec<crate::VariantId> = product.variants.iter().map(|v| v.id).collect();
    let now = Utc::now();
    let mut availability: HashMap<crate::VariantId, crate::VariantAvailability> = HashMap::new();
    for (variant, status, preorder_until) in store::availability_of(conn, &ids).await? {
        if let Some(a) = crate::VariantAvailability::read(status.as_deref(), preorder_until, now) {
            availability.insert(variant, a);
        }
    }
    let variants = product
        .variants
        .iter()
        .map(|v| {
            let price = v.prices.iter().find(|p| p.price.currency.as_str() == currency);
            StoreVariant {
                id: v.id,
                sku: v.sku.clone(),
                option_values: v.option_values.clone(),
                price: price.map(|p| p.price),
                compare_at: price.and_then(|p| p.compare_at),
                weight_grams: v.weight_grams,
                availability: availability.get(&v.id).cloned(),
            }
        })
        .collect();
    let media = crate::media::for_shoppers(conn, product.id, &locale, &shop.default_locale).await?;
    // The page changes by itself when it leaves its publication window or a preorder closes.
    let preorders_end = availability.values().filter_map(|a| a.preorder_until).filter(|u| *u > now).min();
    let until = [product.unpublish_at, preorders_end].into_iter().flatten().min();
    Ok(Found::Here((
        StoreProduct {
            id: product.id,
            kind: product.kind,
            name: text(&product.name).unwrap_or_default(),
            description: text(&product.description),
            seo_title: text(&product.seo_title),
            seo_description: text(&product.seo_description),
            slug: slug_for(&product.slug, &locale, &shop.default_locale),
            slugs: product.slug.clone(),
            options: product.options.clone(),
            attributes: product.attributes.clone(),
            tags: product.tags.clone(),
            variants,
            categories,
            media,
            locale,
            currency,
        },
        until,
    )))
}

/// The category tree in the shopper's language, parents before children.
pub(crate) async fn categories(
    tx: &mut TenantTx<'_>,
    languages: Vec<String>,
) -> Result<Vec<StoreCategory>, CatalogError> {
    let conn = tx.conn();
    let shop = products::shop(conn).await?;
    let locale = pick_locale(&languages, &shop);
    let tree = Tree::new(store::all_categories(conn).await?);
    Ok(tree.ordered().into_iter().map(|c| store_category(c, &tree, &locale, &shop)).collect())
}

/// One category by id or slug, with its breadcrumbs.
pub(crate) async fn category(
    tx: &mut TenantTx<'_>,
    key: String,
    languages: Vec<String>,
) -> Result<StoreCategory, CatalogError> {
    let conn = tx.conn();
    let shop = products::shop(conn).await?;
    let locale = pick_locale(&languages, &shop);
    let tree = Tree::new(store::all_categories(conn).await?);
    let found = match key.parse::<uuid::Uuid>() {
        Ok(id) => tree.get(CategoryId::from_uuid(id)),
        Err(_) => tree.by_slug(&key),
    };
    let category = found.ok_or(CatalogError::CategoryNotFound)?;
    Ok(store_category(category, &tree, &locale, &shop))
}

/// One collection by id or slug.
pub(crate) async fn collection(
    tx: &mut TenantTx<'_>,
    key: String,
    languages: Vec<String>,
) -> Result<StoreCollection, CatalogError> {
    let conn = tx.conn();
    let shop = products::shop(conn).await?;
    let locale = pick_locale(&languages, &shop);
    let row = store::find_collection(conn, &key).await?.ok_or(CatalogError::CollectionNotFound)?;
    Ok(StoreCollection {
        id: row.id,
        slug: row.slug,
        name: row.name.get(&locale, &shop.default_locale).unwrap_or_default().to_string(),
        description: row.description.get(&locale, &shop.default_locale).map(str::to_string),
    })
}

/// Visible products matching `text`, best first (an exact name first), a page at a time, with
/// facets over every hit and suggestions when few were found. The cursor holds the last hit's
/// rank and id, so a page starts right after it whatever was added or removed meanwhile.
pub(crate) async fn search(
    tx: &mut TenantTx<'_>,
    engine: &dyn SearchEngine,
    text: String,
    filter: StoreFilter,
    query: &ListQuery<SearchSort>,
    languages: Vec<String>,
) -> Result<StoreSearchResults, ApiError> {
    let text = text.trim().to_string();
    if text.is_empty() || text.chars().count() > 200 {
        return Err(CatalogError::field("q", "1 to 200 characters").into());
    }
    let after = query.keyset::<(bool, f32)>()?.after;
    let conn = tx.conn();
    let shop = products::shop(conn).await?;
    let locale = pick_locale(&with_override(&filter, languages), &shop);
    let currency = pick_currency(filter.currency.as_deref(), &shop)?;
    let groups = search::synonym_groups(conn).await?;
    let request = SearchRequest {
        alternatives: search::synonym_alternatives(&text, &groups),
        text: text.clone(),
        language: shop.default_locale.clone(),
        limit: MAX_HITS,
    };
    let hits = engine.search(conn, &request).await?;
    let mut narrowing = narrowing(conn, &filter, currency.clone()).await?;
    narrowing.only = Some(hits.iter().map(|h| h.product_id).collect());
    let facet_rows = store::store_facet_rows(conn, &narrowing).await?;
    let matching: std::collections::HashSet<ProductId> = facet_rows.iter().map(|r| r.0).collect();
    let page: Vec<SearchHit> = hits
        .iter()
        .filter(|h| matching.contains(&h.product_id))
        .filter(|h| after.as_ref().is_none_or(|((exact, rank), id)| h.comes_after(*exact, *rank, *id)))
        .take(usize::try_from(query.fetch_limit()).unwrap_or(21))
        .copied()
        .collect();
    let ids: Vec<ProductId> = page.iter().map(|h| h.product_id).collect();
    let mut rows = store::visible_summaries(conn, &ids, &currency).await?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    let items = summaries(conn, rows, &locale, &shop, &currency).await?;
    let ranks: HashMap<ProductId, (bool, f32)> = page.iter().map(|h| (h.product_id, (h.exact, h.rank))).collect();
    let page = query.page(items, |p| (json!(ranks.get(&p.id).copied().unwrap_or((false, 0.0))), p.id.into()));
    let facets = count_facets(&facet_rows, &filterable(conn).await?, &currency);
    let first_page = after.is_none();
    let suggestions =
        if first_page && page.items.len() < 3 { engine.suggest(conn, &text, 5).await? } else { Vec::new() };
    Ok(StoreSearchResults { items: page.items, next_cursor: page.next_cursor, facets, suggestions, locale, currency })
}

/// Names of visible products completing or correcting what the shopper typed.
pub(crate) async fn suggest(
    tx: &mut TenantTx<'_>,
    engine: &dyn SearchEngine,
    text: String,
    limit: i64,
) -> Result<Suggestions, CatalogError> {
    let text = text.trim().to_string();
    if text.is_empty() || text.chars().count() > 100 {
        return Err(CatalogError::field("q", "1 to 100 characters"));
    }
    if !(1..=20).contains(&limit) {
        return Err(CatalogError::field("limit", "between 1 and 20"));
    }
    Ok(Suggestions { suggestions: engine.suggest(tx.conn(), &text, limit).await? })
}

/// One page (from 0) of the visible products' addresses for a sitemap, `per_page` at a time,
/// with the shop's languages: a constant three queries per page however large the shop.
pub(crate) async fn sitemap(tx: &mut TenantTx<'_>, page: i64, per_page: i64) -> Result<SitemapPage, CatalogError> {
    let conn = tx.conn();
    let shop = products::shop(conn).await?;
    let total = store::count_visible(conn).await?;
    let rows = store::visible_page(conn, page.saturating_mul(per_page), per_page).await?;
    let ids: Vec<ProductId> = rows.iter().map(|r| r.0).collect();
    let mut slugs: HashMap<ProductId, BTreeMap<String, String>> = HashMap::new();
    for (product, slug_locale, slug) in store::current_slugs(conn, &ids).await? {
        slugs.entry(product).or_default().insert(slug_locale, slug);
    }
    let products = rows
        .into_iter()
        .map(|(id, modified_at)| SitemapProduct { id, slugs: slugs.remove(&id).unwrap_or_default(), modified_at })
        .collect();
    Ok(SitemapPage { total, products, locales: shop.locales, default_locale: shop.default_locale })
}

fn with_override(filter: &StoreFilter, mut languages: Vec<String>) -> Vec<String> {
    if let Some(locale) = filter.locale.as_ref().filter(|l| !l.is_empty()) {
        languages.insert(0, locale.clone());
    }
    languages
}

fn store_category(c: &crate::store::CategoryRow, tree: &Tree, locale: &str, shop: &products::Shop) -> StoreCategory {
    StoreCategory {
        id: c.id,
        parent_id: c.parent_id,
        slug: c.slug.clone(),
        name: c.name.get(locale, &shop.default_locale).unwrap_or_default().to_string(),
        description: c.description.get(locale, &shop.default_locale).map(str::to_string),
        position: c.position,
        breadcrumbs: tree.breadcrumbs(c.id, locale, &shop.default_locale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_is_read_by_quality() {
        assert_eq!(accepted_languages(Some("en;q=0.5, de-CH, de;q=0.9")), vec!["de-CH", "de", "en"]);
        assert!(accepted_languages(Some("*")).is_empty());
        assert!(accepted_languages(None).is_empty());
    }

    #[test]
    fn attribute_filters_group_alternatives_by_code() {
        let groups = attribute_filters(Some("colour:red,colour:blue,organic:true")).unwrap_or_default();
        assert_eq!(groups.len(), 2);
        assert!(attribute_filters(Some("colour")).is_err());
    }
}
