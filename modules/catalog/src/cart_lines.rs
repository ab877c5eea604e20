//! What a cart line shows of its variant, and what pricing's promotions need to know of it,
//! read in the cart's transaction with one query.

use crate::{CategoryId, CollectionId, ProductId, ProductKind, VariantId};
use agora_kernel::values::LocalizedText;
use chrono::{DateTime, Utc};
use diesel::sql_types::{Array, Bool, Jsonb, Nullable, Text, Timestamptz, Uuid as SqlUuid};
use diesel::QueryableByName;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::BTreeMap;

/// A variant as a cart line shows it.
#[derive(Debug, Clone)]
pub struct CartVariant {
    pub variant_id: VariantId,
    pub product_id: ProductId,
    pub kind: ProductKind,
    /// Shoppers may buy it now: its product is active, published and not deleted.
    pub sellable: bool,
    /// The product's name in the shopper's language (the shop's default as a fallback).
    pub name: String,
    pub sku: String,
    pub option_values: BTreeMap<String, String>,
    pub weight_grams: Option<i32>,
    /// The product's slug in the shopper's language, for a link back to its page.
    pub slug: Option<String>,
    pub category_ids: Vec<CategoryId>,
    /// The collections it is in: hand-picked, and rule-based ones whose rule it matches now.
    pub collection_ids: Vec<CollectionId>,
}

/// The variants of a cart, and the language their texts are in.
#[derive(Debug, Clone)]
pub struct CartCatalog {
    pub locale: String,
    /// The variants that exist (a deleted variant or product is absent).
    pub variants: BTreeMap<VariantId, CartVariant>,
    /// The storefront cache tags of what this answer was read from (its products, the category
    /// tree, the collections, the shop's currencies): a write to any drops an answer kept with them.
    pub cache_tags: Vec<String>,
    /// The next scheduled publication or withdrawal of one of its products: the answer changes
    /// then without a write.
    pub next_change: Option<DateTime<Utc>>,
}

#[derive(QueryableByName)]
struct Row {
    #[diesel(sql_type = SqlUuid)]
    variant_id: uuid::Uuid,
    #[diesel(sql_type = SqlUuid)]
    product_id: uuid::Uuid,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Bool)]
    sellable: bool,
    #[diesel(sql_type = Jsonb)]
    name: serde_json::Value,
    #[diesel(sql_type = Text)]
    sku: String,
    #[diesel(sql_type = Jsonb)]
    option_values: serde_json::Value,
    #[diesel(sql_type = Nullable<diesel::sql_types::Int4>)]
    weight_grams: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    slug: Option<String>,
    #[diesel(sql_type = Array<SqlUuid>)]
    category_ids: Vec<uuid::Uuid>,
    #[diesel(sql_type = Array<SqlUuid>)]
    collection_ids: Vec<uuid::Uuid>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    publish_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    unpublish_at: Option<DateTime<Utc>>,
}

pub(crate) async fn load(
    conn: &mut AsyncPgConnection,
    ids: &[VariantId],
    languages: &[String],
) -> Result<CartCatalog, crate::CatalogError> {
    let shop = crate::products::shop(conn).await?;
    let locale = crate::storefront::pick_locale(languages, &shop);
    let mut ids: Vec<uuid::Uuid> = ids.iter().map(|v| v.as_uuid()).collect();
    ids.sort();
    ids.dedup();
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT v.id AS variant_id, p.id AS product_id, p.kind, \
           (p.status = 'active' AND (p.publish_at IS NULL OR p.publish_at <= now()) \
             AND (p.unpublish_at IS NULL OR p.unpublish_at > now())) AS sellable, \
           p.name, v.sku, v.option_values, v.weight_grams, \
           (SELECT s.slug FROM product_slugs s WHERE s.product_id = p.id AND s.current \
             ORDER BY s.locale = $2 DESC, s.locale = $3 DESC, s.locale LIMIT 1) AS slug, \
           ARRAY(SELECT pc.category_id FROM product_categories pc WHERE pc.product_id = p.id) AS category_ids, \
           ARRAY(SELECT cp.collection_id FROM collection_products cp JOIN collections c ON c.id = cp.collection_id \
                  WHERE cp.product_id = p.id AND c.deleted_at IS NULL \
                 UNION ALL SELECT c.id FROM collections c \
                  WHERE c.rules IS NOT NULL AND c.deleted_at IS NULL AND catalog_rule_matches(p.id, c.rules)) \
             AS collection_ids, \
           p.publish_at, p.unpublish_at \
         FROM unnest($1::uuid[]) AS wanted (id) \
         JOIN variants v ON v.id = wanted.id AND v.deleted_at IS NULL \
         JOIN products p ON p.id = v.product_id AND p.deleted_at IS NULL",
    )
    .bind::<Array<SqlUuid>, _>(&ids)
    .bind::<Text, _>(&locale)
    .bind::<Text, _>(&shop.default_locale)
    .load(conn)
    .await?;
    let now = Utc::now();
    let next_change = rows.iter().flat_map(|r| [r.publish_at, r.unpublish_at]).flatten().filter(|at| *at > now).min();
    let mut cache_tags: Vec<String> =
        rows.iter().map(|r| crate::store_cache::product(ProductId::from_uuid(r.product_id))).collect();
    cache_tags.sort();
    cache_tags.dedup();
    cache_tags.extend(
        [crate::store_cache::CATEGORIES, crate::store_cache::COLLECTIONS, crate::store_cache::SHOP].map(str::to_string),
    );
    let variants = rows
        .into_iter()
        .map(|r| {
            let name = serde_json::from_value::<LocalizedText>(r.name)
                .ok()
                .and_then(|t| t.get(&locale, &shop.default_locale).map(str::to_string))
                .unwrap_or_else(|| r.sku.clone());
            let variant = CartVariant {
                variant_id: VariantId::from_uuid(r.variant_id),
                product_id: ProductId::from_uuid(r.product_id),
                kind: ProductKind::parse(&r.kind).unwrap_or(ProductKind::Physical),
                sellable: r.sellable,
                name,
                sku: r.sku,
                option_values: serde_json::from_value(r.option_values).unwrap_or_default(),
                weight_grams: r.weight_grams,
                slug: r.slug,
                category_ids: r.category_ids.into_iter().map(CategoryId::from_uuid).collect(),
                collection_ids: r.collection_ids.into_iter().map(CollectionId::from_uuid).collect(),
            };
            (variant.variant_id, variant)
        })
        .collect();
    Ok(CartCatalog { locale, variants, cache_tags, next_change })
}
