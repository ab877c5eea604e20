//! Diesel queries over the catalog's tables: take the connection, return rows. No validation, no
//! events (the feature files decide; the search engine writes its own table).

use crate::schema::{
    catalog_currencies, categories, collection_products, collections, product_categories, product_changes,
    product_prices_from, product_slugs, product_types, products, search_synonyms, variant_prices, variants,
};
use crate::{CategoryId, CollectionId, ProductId, ProductKind, ProductStatus, ProductTypeId, VariantId};
use agora_kernel::values::LocalizedText;
use agora_kernel::{stamp_change, stamp_new, Stamp};
use chrono::{DateTime, Utc};
use diesel::dsl::{now, sql};
use diesel::prelude::*;
use diesel::sql_types::{Array, Bool, Jsonb};
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// Products shoppers may see: active, not deleted, within their publication window.
macro_rules! visible {
    () => {
        products::status
            .eq(ProductStatus::Active.as_str())
            .and(products::deleted_at.is_null())
            .and(products::publish_at.is_null().or(products::publish_at.le(now)))
            .and(products::unpublish_at.is_null().or(products::unpublish_at.gt(now)))
    };
}
pub(crate) use visible;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = products, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ProductRow {
    pub id: ProductId,
    pub kind: ProductKind,
    pub status: ProductStatus,
    pub publish_at: Option<DateTime<Utc>>,
    pub unpublish_at: Option<DateTime<Utc>>,
    pub product_type_id: Option<ProductTypeId>,
    pub tax_class: Option<String>,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub seo_title: LocalizedText,
    pub seo_description: LocalizedText,
    pub options: serde_json::Value,
    pub attributes: serde_json::Value,
    pub tags: Vec<String>,
    pub sort_name: String,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
    pub version: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = products)]
pub(crate) struct ProductInsert {
    pub id: ProductId,
    pub kind: ProductKind,
    pub status: ProductStatus,
    pub publish_at: Option<DateTime<Utc>>,
    pub unpublish_at: Option<DateTime<Utc>>,
    pub product_type_id: Option<ProductTypeId>,
    pub tax_class: Option<String>,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub seo_title: LocalizedText,
    pub seo_description: LocalizedText,
    pub options: serde_json::Value,
    pub attributes: serde_json::Value,
    pub tags: Vec<String>,
    pub sort_name: String,
}

/// A product's new field values (`None`: unchanged; `Some(None)`: cleared).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = products)]
pub(crate) struct ProductChanges {
    pub kind: Option<ProductKind>,
    pub status: Option<ProductStatus>,
    pub publish_at: Option<Option<DateTime<Utc>>>,
    pub unpublish_at: Option<Option<DateTime<Utc>>>,
    pub product_type_id: Option<Option<ProductTypeId>>,
    pub tax_class: Option<Option<String>>,
    pub name: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub seo_title: Option<LocalizedText>,
    pub seo_description: Option<LocalizedText>,
    pub options: Option<serde_json::Value>,
    pub attributes: Option<serde_json::Value>,
    pub tags: Option<Vec<String>>,
    pub sort_name: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = variants, check_for_backend(diesel::pg::Pg))]
pub(crate) struct VariantRow {
    pub id: VariantId,
    pub product_id: ProductId,
    pub sku: String,
    pub option_values: serde_json::Value,
    pub barcode: Option<String>,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    pub position: i32,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = variants)]
pub(crate) struct VariantInsert {
    pub id: VariantId,
    pub product_id: ProductId,
    pub sku: String,
    pub option_values: serde_json::Value,
    pub barcode: Option<String>,
    pub weight_grams: Option<i32>,
    pub length_mm: Option<i32>,
    pub width_mm: Option<i32>,
    pub height_mm: Option<i32>,
    pub position: i32,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = variants)]
pub(crate) struct VariantChanges {
    pub sku: Option<String>,
    pub option_values: Option<serde_json::Value>,
    pub barcode: Option<Option<String>>,
    pub weight_grams: Option<Option<i32>>,
    pub length_mm: Option<Option<i32>>,
    pub width_mm: Option<Option<i32>>,
    pub height_mm: Option<Option<i32>>,
    pub position: Option<i32>,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = variant_prices, check_for_backend(diesel::pg::Pg))]
pub(crate) struct PriceRow {
    pub variant_id: VariantId,
    pub price_amount: i64,
    pub price_currency: String,
    pub compare_at_amount: Option<i64>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = categories, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CategoryRow {
    pub id: CategoryId,
    pub parent_id: Option<CategoryId>,
    pub position: i32,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub slug: String,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = categories)]
pub(crate) struct CategoryChanges {
    pub parent_id: Option<Option<CategoryId>>,
    pub position: Option<i32>,
    pub name: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub slug: Option<String>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = product_types, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ProductTypeRow {
    pub id: ProductTypeId,
    pub name: String,
    pub attributes: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = product_changes, check_for_backend(diesel::pg::Pg))]
pub(crate) struct ChangeRow {
    pub id: uuid::Uuid,
    pub changed_at: DateTime<Utc>,
    pub changed_by: String,
    pub action: String,
    pub changes: serde_json::Value,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = search_synonyms, check_for_backend(diesel::pg::Pg))]
pub(crate) struct SynonymsRow {
    pub id: uuid::Uuid,
    pub terms: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

// ---- currencies ----

pub(crate) async fn extra_currencies(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    catalog_currencies::table.select(catalog_currencies::currency).order(catalog_currencies::currency).load(conn).await
}

pub(crate) async fn replace_extra_currencies(
    conn: &mut AsyncPgConnection,
    currencies: &[String],
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::delete(catalog_currencies::table.filter(catalog_currencies::currency.ne_all(currencies)))
        .execute(conn)
        .await?;
    let rows: Vec<_> = currencies
        .iter()
        .map(|c| (catalog_currencies::currency.eq(c), catalog_currencies::created_by.eq(&stamp.by)))
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(catalog_currencies::table).values(rows).on_conflict_do_nothing().execute(conn).await?;
    }
    Ok(())
}

// ---- products ----

pub(crate) async fn insert_product(
    conn: &mut AsyncPgConnection,
    row: &ProductInsert,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::insert_into(products::table).values((row, stamp_new!(stamp, products))).execute(conn).await.map(|_| ())
}

/// The live product, locked for the rest of the transaction.
pub(crate) async fn lock_product(conn: &mut AsyncPgConnection, id: ProductId) -> QueryResult<Option<ProductRow>> {
    products::table
        .filter(products::id.eq(id).and(products::deleted_at.is_null()))
        .select(ProductRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn find_product(conn: &mut AsyncPgConnection, id: ProductId) -> QueryResult<Option<ProductRow>> {
    products::table
        .filter(products::id.eq(id).and(products::deleted_at.is_null()))
        .select(ProductRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// Applies `changes` (which may be empty) and bumps the version and audit columns.
pub(crate) async fn update_product(
    conn: &mut AsyncPgConnection,
    id: ProductId,
    changes: &ProductChanges,
    stamp: &Stamp,
) -> QueryResult<ProductRow> {
    diesel::update(products::table.filter(products::id.eq(id)))
        .set((changes, stamp_change!(stamp, products)))
        .returning(ProductRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn soft_delete_product(conn: &mut AsyncPgConnection, id: ProductId, stamp: &Stamp) -> QueryResult<()> {
    diesel::update(products::table.filter(products::id.eq(id)))
        .set((products::deleted_at.eq(stamp.at), stamp_change!(stamp, products)))
        .execute(conn)
        .await?;
    // The SKUs are free for other products again.
    diesel::update(variants::table.filter(variants::product_id.eq(id).and(variants::deleted_at.is_null())))
        .set((variants::deleted_at.eq(stamp.at), variant_change(stamp)))
        .execute(conn)
        .await?;
    diesel::delete(product_prices_from::table.filter(product_prices_from::product_id.eq(id))).execute(conn).await?;
    Ok(())
}

/// The live products `filter` matches (the back office's list and bulk changes).
fn filtered(filter: &crate::ProductFilter) -> products::BoxedQuery<'static, diesel::pg::Pg> {
    let mut q = products::table.filter(products::deleted_at.is_null()).into_boxed();
    if let Some(status) = filter.status {
        q = q.filter(products::status.eq(status.as_str()));
    }
    if let Some(tag) = &filter.tag {
        q = q.filter(products::tags.contains(vec![tag.clone()]));
    }
    if let Some(category) = filter.category_id {
        let members = product_categories::table
            .filter(product_categories::category_id.eq(category))
            .select(product_categories::product_id);
        q = q.filter(products::id.eq_any(members));
    }
    if let Some(name) = &filter.name {
        q = q.filter(products::sort_name.like(format!("%{}%", like_escape(&name.to_lowercase()))));
    }
    q
}

/// Back-office list: `query`'s sort and cursor, `filter`'s conditions.
pub(crate) async fn list_products(
    conn: &mut AsyncPgConnection,
    query: &agora_kernel::lists::ListQuery<crate::ProductSort>,
    filter: &crate::ProductFilter,
) -> Result<Vec<ProductRow>, agora_kernel::ApiError> {
    let q = filtered(filter).select(ProductRow::as_select()).limit(query.fetch_limit());
    let q = match query.sort.key {
        crate::ProductSort::Created => query.keyset::<DateTime<Utc>>()?.apply(q, products::created_at, products::id),
        crate::ProductSort::Modified => query.keyset::<DateTime<Utc>>()?.apply(q, products::modified_at, products::id),
        crate::ProductSort::Name => query.keyset::<String>()?.apply(q, products::sort_name, products::id),
    };
    Ok(q.load(conn).await.map_err(agora_kernel::DbError::Query)?)
}

/// The ids of up to `limit` live products `filter` matches, in id order.
pub(crate) async fn product_ids(
    conn: &mut AsyncPgConnection,
    filter: &crate::ProductFilter,
    limit: i64,
) -> QueryResult<Vec<ProductId>> {
    filtered(filter).select(products::id).order(products::id).limit(limit).load(conn).await
}

/// Marks the start of one item of a batch: a failed item rolls back to here, the batch goes on.
pub(crate) async fn savepoint(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SAVEPOINT catalog_item").execute(conn).await.map(|_| ())
}

/// The item succeeded: keep its writes.
pub(crate) async fn release_savepoint(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("RELEASE SAVEPOINT catalog_item").execute(conn).await.map(|_| ())
}

/// The item failed: undo its writes (its events too: they are rows of the same transaction).
pub(crate) async fn rollback_to_savepoint(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("ROLLBACK TO SAVEPOINT catalog_item").execute(conn).await.map(|_| ())
}

fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

// ---- slugs ----

/// Who answers to `slug` in `locale`: the product, whether it is its current slug, and whether
/// the product is deleted.
pub(crate) async fn slug_holder(
    conn: &mut AsyncPgConnection,
    locale: &str,
    slug: &str,
) -> QueryResult<Option<(ProductId, bool, bool)>> {
    product_slugs::table
        .inner_join(products::table.on(products::id.eq(product_slugs::product_id)))
        .filter(product_slugs::locale.eq(locale).and(product_slugs::slug.eq(slug)))
        .select((product_slugs::product_id, product_slugs::current, products::deleted_at.is_not_null()))
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn drop_slug(conn: &mut AsyncPgConnection, locale: &str, slug: &str) -> QueryResult<()> {
    diesel::delete(product_slugs::table.filter(product_slugs::locale.eq(locale).and(product_slugs::slug.eq(slug))))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Makes `slug` the product's current slug in `locale`; the previous one stays, as a redirect.
pub(crate) async fn set_current_slug(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    locale: &str,
    slug: &str,
    at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(product_slugs::table.filter(
        product_slugs::product_id.eq(product).and(product_slugs::locale.eq(locale)).and(product_slugs::current),
    ))
    .set(product_slugs::current.eq(false))
    .execute(conn)
    .await?;
    diesel::insert_into(product_slugs::table)
        .values((
            product_slugs::locale.eq(locale),
            product_slugs::slug.eq(slug),
            product_slugs::product_id.eq(product),
            product_slugs::current.eq(true),
            product_slugs::created_at.eq(at),
        ))
        .on_conflict((product_slugs::locale, product_slugs::slug))
        .do_update()
        .set(product_slugs::current.eq(true))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The current slugs of `ids`: (product, locale, slug).
pub(crate) async fn current_slugs(
    conn: &mut AsyncPgConnection,
    ids: &[ProductId],
) -> QueryResult<Vec<(ProductId, String, String)>> {
    product_slugs::table
        .filter(product_slugs::product_id.eq_any(ids).and(product_slugs::current))
        .select((product_slugs::product_id, product_slugs::locale, product_slugs::slug))
        .order((product_slugs::product_id, product_slugs::locale))
        .load(conn)
        .await
}

// ---- categories of products ----

pub(crate) async fn categories_of(
    conn: &mut AsyncPgConnection,
    ids: &[ProductId],
) -> QueryResult<Vec<(ProductId, CategoryId)>> {
    product_categories::table
        .filter(product_categories::product_id.eq_any(ids))
        .select((product_categories::product_id, product_categories::category_id))
        .order((product_categories::product_id, product_categories::category_id))
        .load(conn)
        .await
}

pub(crate) async fn replace_product_categories(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    categories: &[CategoryId],
) -> QueryResult<()> {
    diesel::delete(product_categories::table.filter(product_categories::product_id.eq(product))).execute(conn).await?;
    let rows: Vec<_> = categories
        .iter()
        .map(|c| (product_categories::product_id.eq(product), product_categories::category_id.eq(*c)))
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(product_categories::table).values(rows).on_conflict_do_nothing().execute(conn).await?;
    }
    Ok(())
}

// ---- variants and prices ----

pub(crate) async fn variants_of(conn: &mut AsyncPgConnection, ids: &[ProductId]) -> QueryResult<Vec<VariantRow>> {
    variants::table
        .filter(variants::product_id.eq_any(ids).and(variants::deleted_at.is_null()))
        .select(VariantRow::as_select())
        .order((variants::product_id, variants::position, variants::id))
        .load(conn)
        .await
}

/// The live variant holding `sku`, if any.
pub(crate) async fn sku_holder(conn: &mut AsyncPgConnection, sku: &str) -> QueryResult<Option<VariantId>> {
    variants::table
        .filter(variants::sku.eq(sku).and(variants::deleted_at.is_null()))
        .select(variants::id)
        .first(conn)
        .await
        .optional()
}

// Variants are versioned with their product (no version column of their own), so the kernel's
// stamps, which set `version`, do not fit them.
type VariantStamp =
    (diesel::dsl::Eq<variants::modified_by, String>, diesel::dsl::Eq<variants::modified_at, DateTime<Utc>>);

fn variant_change(stamp: &Stamp) -> VariantStamp {
    (variants::modified_by.eq(stamp.by.clone()), variants::modified_at.eq(stamp.at))
}

pub(crate) async fn insert_variant(
    conn: &mut AsyncPgConnection,
    row: &VariantInsert,
    stamp: &Stamp,
) -> QueryResult<()> {
    let created = (variants::created_by.eq(&stamp.by), variants::created_at.eq(stamp.at));
    diesel::insert_into(variants::table).values((row, created, variant_change(stamp))).execute(conn).await.map(|_| ())
}

pub(crate) async fn update_variant(
    conn: &mut AsyncPgConnection,
    id: VariantId,
    changes: &VariantChanges,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::update(variants::table.filter(variants::id.eq(id)))
        .set((changes, variant_change(stamp)))
        .execute(conn)
        .await
        .map(|_| ())
}

pub(crate) async fn soft_delete_variant(conn: &mut AsyncPgConnection, id: VariantId, stamp: &Stamp) -> QueryResult<()> {
    diesel::update(variants::table.filter(variants::id.eq(id)))
        .set((variants::deleted_at.eq(stamp.at), variant_change(stamp)))
        .execute(conn)
        .await
        .map(|_| ())
}

pub(crate) async fn prices_of(conn: &mut AsyncPgConnection, ids: &[VariantId]) -> QueryResult<Vec<PriceRow>> {
    variant_prices::table
        .filter(variant_prices::variant_id.eq_any(ids))
        .select(PriceRow::as_select())
        .order((variant_prices::variant_id, variant_prices::price_currency))
        .load(conn)
        .await
}

pub(crate) async fn replace_prices(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    rows: &[PriceRow],
) -> QueryResult<()> {
    diesel::delete(variant_prices::table.filter(variant_prices::variant_id.eq(variant))).execute(conn).await?;
    if !rows.is_empty() {
        diesel::insert_into(variant_prices::table).values(rows).execute(conn).await?;
    }
    Ok(())
}

/// Recomputes the product's lowest live price per currency (the storefront's price order).
pub(crate) async fn refresh_prices_from(conn: &mut AsyncPgConnection, product: ProductId) -> QueryResult<()> {
    diesel::sql_query(
        "WITH lowest AS ( \
             SELECT p.price_currency, min(p.price_amount) AS amount FROM variant_prices p \
             JOIN variants v ON v.id = p.variant_id \
             WHERE v.product_id = $1 AND v.deleted_at IS NULL GROUP BY p.price_currency), \
         gone AS (DELETE FROM product_prices_from f WHERE f.product_id = $1 \
             AND f.price_currency NOT IN (SELECT price_currency FROM lowest)) \
         INSERT INTO product_prices_from (product_id, price_currency, price_amount) \
         SELECT $1, price_currency, amount FROM lowest \
         ON CONFLICT (product_id, price_currency) DO UPDATE SET price_amount = EXCLUDED.price_amount",
    )
    .bind::<diesel::sql_types::Uuid, _>(product)
    .execute(conn)
    .await
    .map(|_| ())
}

// ---- history ----

pub(crate) async fn record_change(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    action: &str,
    changes: serde_json::Value,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::insert_into(product_changes::table)
        .values((
            product_changes::id.eq(agora_kernel::new_id()),
            product_changes::product_id.eq(product),
            product_changes::changed_at.eq(stamp.at),
            product_changes::changed_by.eq(&stamp.by),
            product_changes::action.eq(action),
            product_changes::changes.eq(changes),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

pub(crate) async fn history(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    page: &agora_kernel::lists::Keyset<DateTime<Utc>>,
) -> QueryResult<Vec<ChangeRow>> {
    let q = product_changes::table
        .filter(product_changes::product_id.eq(product))
        .select(ChangeRow::as_select())
        .limit(page.fetch_limit())
        .into_boxed();
    page.apply(q, product_changes::changed_at, product_changes::id).load(conn).await
}

// ---- categories ----

pub(crate) async fn all_categories(conn: &mut AsyncPgConnection) -> QueryResult<Vec<CategoryRow>> {
    categories::table
        .filter(categories::deleted_at.is_null())
        .select(CategoryRow::as_select())
        .order((categories::position, categories::id))
        .load(conn)
        .await
}

pub(crate) async fn lock_category(conn: &mut AsyncPgConnection, id: CategoryId) -> QueryResult<Option<CategoryRow>> {
    categories::table
        .filter(categories::id.eq(id).and(categories::deleted_at.is_null()))
        .select(CategoryRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Serialises moves in the tree: two concurrent moves could each pass the loop check alone.
pub(crate) async fn lock_tree(conn: &mut AsyncPgConnection) -> QueryResult<()> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext(current_schema() || '.categories'))")
        .execute(conn)
        .await
        .map(|_| ())
}

pub(crate) async fn category_slug_holder(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<CategoryId>> {
    categories::table
        .filter(categories::slug.eq(slug).and(categories::deleted_at.is_null()))
        .select(categories::id)
        .first(conn)
        .await
        .optional()
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn insert_category(
    conn: &mut AsyncPgConnection,
    id: CategoryId,
    parent: Option<CategoryId>,
    position: i32,
    name: &LocalizedText,
    description: &LocalizedText,
    slug: &str,
    stamp: &Stamp,
) -> QueryResult<CategoryRow> {
    diesel::insert_into(categories::table)
        .values((
            categories::id.eq(id),
            categories::parent_id.eq(parent),
            categories::position.eq(position),
            categories::name.eq(name),
            categories::description.eq(description),
            categories::slug.eq(slug),
            stamp_new!(stamp, categories),
        ))
        .returning(CategoryRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn update_category(
    conn: &mut AsyncPgConnection,
    id: CategoryId,
    changes: &CategoryChanges,
    stamp: &Stamp,
) -> QueryResult<CategoryRow> {
    diesel::update(categories::table.filter(categories::id.eq(id)))
        .set((changes, stamp_change!(stamp, categories)))
        .returning(CategoryRow::as_returning())
        .get_result(conn)
        .await
}

/// Deletes the category (softly) and takes its products out of it; returns those products.
pub(crate) async fn soft_delete_category(
    conn: &mut AsyncPgConnection,
    id: CategoryId,
    stamp: &Stamp,
) -> QueryResult<Vec<ProductId>> {
    let members = diesel::delete(product_categories::table.filter(product_categories::category_id.eq(id)))
        .returning(product_categories::product_id)
        .get_results(conn)
        .await?;
    diesel::update(categories::table.filter(categories::id.eq(id)))
        .set((categories::deleted_at.eq(stamp.at), stamp_change!(stamp, categories)))
        .execute(conn)
        .await?;
    Ok(members)
}

/// Which of `ids` are live categories.
pub(crate) async fn existing_categories(
    conn: &mut AsyncPgConnection,
    ids: &[CategoryId],
) -> QueryResult<Vec<CategoryId>> {
    categories::table
        .filter(categories::id.eq_any(ids).and(categories::deleted_at.is_null()))
        .select(categories::id)
        .load(conn)
        .await
}

// ---- product types ----

pub(crate) async fn product_type_named(conn: &mut AsyncPgConnection, name: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        product_types::table
            .filter(product_types::deleted_at.is_null())
            .filter(sql::<Bool>("lower(name) = lower(").bind::<diesel::sql_types::Text, _>(name).sql(")")),
    ))
    .get_result(conn)
    .await
}

pub(crate) async fn insert_product_type(
    conn: &mut AsyncPgConnection,
    id: ProductTypeId,
    name: &str,
    attributes: serde_json::Value,
    stamp: &Stamp,
) -> QueryResult<ProductTypeRow> {
    diesel::insert_into(product_types::table)
        .values((
            product_types::id.eq(id),
            product_types::name.eq(name),
            product_types::attributes.eq(attributes),
            stamp_new!(stamp, product_types),
        ))
        .returning(ProductTypeRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn product_types(conn: &mut AsyncPgConnection) -> QueryResult<Vec<ProductTypeRow>> {
    product_types::table
        .filter(product_types::deleted_at.is_null())
        .select(ProductTypeRow::as_select())
        .order((product_types::name, product_types::id))
        .load(conn)
        .await
}

pub(crate) async fn product_type(
    conn: &mut AsyncPgConnection,
    id: ProductTypeId,
) -> QueryResult<Option<ProductTypeRow>> {
    product_types::table
        .filter(product_types::id.eq(id).and(product_types::deleted_at.is_null()))
        .select(ProductTypeRow::as_select())
        .first(conn)
        .await
        .optional()
}

// ---- synonyms ----

pub(crate) async fn insert_synonyms(
    conn: &mut AsyncPgConnection,
    terms: &[String],
    stamp: &Stamp,
) -> QueryResult<SynonymsRow> {
    diesel::insert_into(search_synonyms::table)
        .values((
            search_synonyms::id.eq(agora_kernel::new_id()),
            search_synonyms::terms.eq(terms),
            stamp_new!(stamp, search_synonyms),
        ))
        .returning(SynonymsRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn synonyms(conn: &mut AsyncPgConnection) -> QueryResult<Vec<SynonymsRow>> {
    search_synonyms::table
        .select(SynonymsRow::as_select())
        .order((search_synonyms::created_at, search_synonyms::id))
        .load(conn)
        .await
}

pub(crate) async fn delete_synonyms(conn: &mut AsyncPgConnection, id: uuid::Uuid) -> QueryResult<usize> {
    diesel::delete(search_synonyms::table.filter(search_synonyms::id.eq(id))).execute(conn).await
}

// ---- collections ----

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = collections, check_for_backend(diesel::pg::Pg))]
pub(crate) struct CollectionRow {
    pub id: CollectionId,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub slug: String,
    pub rule_text: Option<String>,
    pub rules: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = collections)]
pub(crate) struct CollectionInsert {
    pub id: CollectionId,
    pub name: LocalizedText,
    pub description: LocalizedText,
    pub slug: String,
    pub rule_text: Option<String>,
    pub rules: Option<serde_json::Value>,
}

/// A collection's new field values (`None`: unchanged; `Some(None)`: cleared).
#[derive(Debug, Clone, Default, AsChangeset)]
#[diesel(table_name = collections)]
pub(crate) struct CollectionChanges {
    pub name: Option<LocalizedText>,
    pub description: Option<LocalizedText>,
    pub slug: Option<String>,
    pub rule_text: Option<Option<String>>,
    pub rules: Option<Option<serde_json::Value>>,
}

/// How many live products `rules` (a parsed collection rule) matches, and the first `limit` of
/// them by name in the shop's default language `locale`.
pub(crate) async fn rule_matches(
    conn: &mut AsyncPgConnection,
    rules: &serde_json::Value,
    limit: i64,
) -> QueryResult<(i64, Vec<(ProductId, LocalizedText, ProductStatus)>)> {
    let matching = || {
        products::table
            .filter(products::deleted_at.is_null())
            .filter(sql::<Bool>("catalog_rule_matches(products.id, ").bind::<Jsonb, _>(rules.clone()).sql(")"))
    };
    let total: i64 = matching().count().get_result(conn).await?;
    let rows = matching()
        .select((products::id, products::name, products::status))
        .order((products::sort_name, products::id))
        .limit(limit)
        .load(conn)
        .await?;
    Ok((total, rows))
}

/// The hand-picked products of a collection, in order.
pub(crate) async fn collection_members(conn: &mut AsyncPgConnection, id: CollectionId) -> QueryResult<Vec<ProductId>> {
    collection_products::table
        .filter(collection_products::collection_id.eq(id))
        .select(collection_products::product_id)
        .order((collection_products::position, collection_products::product_id))
        .load(conn)
        .await
}

/// The live collection with this id or slug.
pub(crate) async fn find_collection(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<Option<CollectionRow>> {
    let q = collections::table.filter(collections::deleted_at.is_null()).select(CollectionRow::as_select());
    match key.parse::<uuid::Uuid>() {
        Ok(id) => q.filter(collections::id.eq(CollectionId::from_uuid(id))).first(conn).await.optional(),
        Err(_) => q.filter(collections::slug.eq(key)).first(conn).await.optional(),
    }
}

pub(crate) async fn all_collections(conn: &mut AsyncPgConnection) -> QueryResult<Vec<CollectionRow>> {
    collections::table
        .filter(collections::deleted_at.is_null())
        .select(CollectionRow::as_select())
        .order((collections::slug, collections::id))
        .load(conn)
        .await
}

/// The live collection, locked for the rest of the transaction.
pub(crate) async fn lock_collection(
    conn: &mut AsyncPgConnection,
    id: CollectionId,
) -> QueryResult<Option<CollectionRow>> {
    collections::table
        .filter(collections::id.eq(id).and(collections::deleted_at.is_null()))
        .select(CollectionRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn collection_slug_holder(
    conn: &mut AsyncPgConnection,
    slug: &str,
) -> QueryResult<Option<CollectionId>> {
    collections::table
        .filter(collections::slug.eq(slug).and(collections::deleted_at.is_null()))
        .select(collections::id)
        .first(conn)
        .await
        .optional()
}

/// Which of `ids` are live products.
pub(crate) async fn live_products(conn: &mut AsyncPgConnection, ids: &[ProductId]) -> QueryResult<Vec<ProductId>> {
    products::table
        .filter(products::id.eq_any(ids).and(products::deleted_at.is_null()))
        .select(products::id)
        .load(conn)
        .await
}

/// Replaces the hand-picked products (`ids` deduplicated, in order).
pub(crate) async fn set_collection_members(
    conn: &mut AsyncPgConnection,
    id: CollectionId,
    ids: &[ProductId],
) -> QueryResult<()> {
    diesel::delete(collection_products::table.filter(collection_products::collection_id.eq(id))).execute(conn).await?;
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<_> = ids
        .iter()
        .filter(|p| seen.insert(**p))
        .enumerate()
        .map(|(position, p)| {
            (
                collection_products::collection_id.eq(id),
                collection_products::product_id.eq(*p),
                collection_products::position.eq(i32::try_from(position).unwrap_or(i32::MAX)),
            )
        })
        .collect();
    if !rows.is_empty() {
        diesel::insert_into(collection_products::table).values(rows).execute(conn).await?;
    }
    Ok(())
}

pub(crate) async fn insert_collection(
    conn: &mut AsyncPgConnection,
    row: &CollectionInsert,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::insert_into(collections::table)
        .values((row, stamp_new!(stamp, collections)))
        .execute(conn)
        .await
        .map(|_| ())
}

pub(crate) async fn update_collection(
    conn: &mut AsyncPgConnection,
    id: CollectionId,
    changes: &CollectionChanges,
    stamp: &Stamp,
) -> QueryResult<CollectionRow> {
    diesel::update(collections::table.filter(collections::id.eq(id)))
        .set((changes, stamp_change!(stamp, collections)))
        .returning(CollectionRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn soft_delete_collection(
    conn: &mut AsyncPgConnection,
    id: CollectionId,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::update(collections::table.filter(collections::id.eq(id)))
        .set((collections::deleted_at.eq(stamp.at), stamp_change!(stamp, collections)))
        .execute(conn)
        .await
        .map(|_| ())
}

// ---- storefront ----

/// One product of a storefront list.
#[derive(Debug, Clone, Queryable)]
pub(crate) struct ListingRow {
    pub id: ProductId,
    pub name: LocalizedText,
    pub tags: Vec<String>,
    pub attributes: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub sort_name: String,
    pub price_amount: Option<i64>,
    pub in_stock: bool,
}

/// A product shoppers can buy now: one of its live variants is not counted, or has stock, or
/// takes backorders, or takes preorders until a date still ahead (`variant_availability`).
const SELLABLE: &str = "EXISTS (SELECT 1 FROM variants sv LEFT JOIN variant_availability sa ON sa.variant_id = sv.id \
     WHERE sv.product_id = products.id AND sv.deleted_at IS NULL AND (sa.status IS NULL \
     OR sa.status IN ('in_stock', 'low_stock', 'backorder') OR (sa.status = 'preorder' AND sa.preorder_until > now())))";

/// What a storefront list is narrowed to.
#[derive(Debug, Clone, Default)]
pub(crate) struct Narrowing {
    pub currency: String,
    /// The category and every category below it.
    pub categories: Option<Vec<CategoryId>>,
    pub tags: Vec<String>,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    /// Per attribute: any of these JSON objects is contained in the product's attributes.
    pub attributes: Vec<Vec<serde_json::Value>>,
    /// Only these products (search hits).
    pub only: Option<Vec<ProductId>>,
    /// Only the products of a collection.
    pub collection: Option<CollectionMembers>,
    /// Only products shoppers can buy now ([`SELLABLE`]).
    pub in_stock: bool,
}

/// How a collection chooses its products.
#[derive(Debug, Clone)]
pub(crate) enum CollectionMembers {
    HandPicked(crate::CollectionId),
    /// The stored rule JSON, evaluated by `catalog_rule_matches`.
    Rule(serde_json::Value),
}

/// Applies a [`Narrowing`] to a boxed query over `products ⋈ product_prices_from`.
macro_rules! narrow {
    ($q:expr, $n:expr) => {{
        let n: &Narrowing = $n;
        let mut q = $q;
        if let Some(categories) = &n.categories {
            let members = product_categories::table
                .filter(product_categories::category_id.eq_any(categories.clone()))
                .select(product_categories::product_id);
            q = q.filter(products::id.eq_any(members));
        }
        if !n.tags.is_empty() {
            q = q.filter(products::tags.contains(n.tags.clone()));
        }
        if let Some(min) = n.min_price {
            q = q.filter(product_prices_from::price_amount.ge(min));
        }
        if let Some(max) = n.max_price {
            q = q.filter(product_prices_from::price_amount.le(max));
        }
        for any_of in &n.attributes {
            q = q.filter(sql::<Bool>("products.attributes @> ANY(").bind::<Array<Jsonb>, _>(any_of.clone()).sql(")"));
        }
        if let Some(only) = &n.only {
            q = q.filter(products::id.eq_any(only.clone()));
        }
        if n.in_stock {
            q = q.filter(sql::<Bool>(SELLABLE));
        }
        match &n.collection {
            Some(CollectionMembers::HandPicked(id)) => {
                let members = collection_products::table
                    .filter(collection_products::collection_id.eq(*id))
                    .select(collection_products::product_id);
                q = q.filter(products::id.eq_any(members));
            }
            Some(CollectionMembers::Rule(rule)) => {
                q = q.filter(sql::<Bool>("catalog_rule_matches(products.id, ").bind::<Jsonb, _>(rule.clone()).sql(")"));
            }
            None => {}
        }
        q
    }};
}

/// A page of visible products in the client's order.
pub(crate) async fn store_listing(
    conn: &mut AsyncPgConnection,
    narrowing: &Narrowing,
    query: &agora_kernel::lists::ListQuery<crate::StoreSort>,
) -> Result<Vec<ListingRow>, agora_kernel::ApiError> {
    let q = products::table
        .inner_join(product_prices_from::table)
        .filter(product_prices_from::price_currency.eq(narrowing.currency.clone()))
        .filter(visible!())
        .select((
            products::id,
            products::name,
            products::tags,
            products::attributes,
            products::created_at,
            products::sort_name,
            product_prices_from::price_amount.nullable(),
            sql::<Bool>(SELLABLE),
        ))
        .limit(query.fetch_limit())
        .into_boxed();
    let q = narrow!(q, narrowing);
    let q = match query.sort.key {
        crate::StoreSort::Newest => query.keyset::<DateTime<Utc>>()?.apply(q, products::created_at, products::id),
        crate::StoreSort::Name => query.keyset::<String>()?.apply(q, products::sort_name, products::id),
        crate::StoreSort::Price => query.keyset::<i64>()?.apply(q, product_prices_from::price_amount, products::id),
    };
    Ok(q.load(conn).await.map_err(agora_kernel::DbError::Query)?)
}

/// Every visible product matching `narrowing`: its attributes, tags and price (for facets).
pub(crate) async fn store_facet_rows(
    conn: &mut AsyncPgConnection,
    narrowing: &Narrowing,
) -> QueryResult<Vec<(ProductId, serde_json::Value, Vec<String>, i64)>> {
    let q = products::table
        .inner_join(product_prices_from::table)
        .filter(product_prices_from::price_currency.eq(narrowing.currency.clone()))
        .filter(visible!())
        .select((products::id, products::attributes, products::tags, product_prices_from::price_amount))
        .into_boxed();
    narrow!(q, narrowing).load(conn).await
}

/// The visible products among `ids`, with their lowest price in `currency` if they have one.
pub(crate) async fn visible_summaries(
    conn: &mut AsyncPgConnection,
    ids: &[ProductId],
    currency: &str,
) -> QueryResult<Vec<ListingRow>> {
    products::table
        .left_join(
            product_prices_from::table.on(product_prices_from::product_id
                .eq(products::id)
                .and(product_prices_from::price_currency.eq(currency.to_string()))),
        )
        .filter(products::id.eq_any(ids))
        .filter(visible!())
        .select((
            products::id,
            products::name,
            products::tags,
            products::attributes,
            products::created_at,
            products::sort_name,
            product_prices_from::price_amount.nullable(),
            sql::<Bool>(SELLABLE),
        ))
        .load(conn)
        .await
}

/// The product if shoppers may see it.
pub(crate) async fn visible_product(conn: &mut AsyncPgConnection, id: ProductId) -> QueryResult<Option<ProductRow>> {
    products::table
        .filter(products::id.eq(id))
        .filter(visible!())
        .select(ProductRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The product answering to `slug` in any locale: (product, locale, current).
pub(crate) async fn product_by_slug(
    conn: &mut AsyncPgConnection,
    slug: &str,
) -> QueryResult<Vec<(ProductId, String, bool)>> {
    product_slugs::table
        .filter(product_slugs::slug.eq(slug))
        .select((product_slugs::product_id, product_slugs::locale, product_slugs::current))
        .order((product_slugs::current.desc(), product_slugs::locale))
        .load(conn)
        .await
}

/// The product's current slug in `locale`.
pub(crate) async fn current_slug(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    locale: &str,
) -> QueryResult<Option<String>> {
    product_slugs::table
        .filter(product_slugs::product_id.eq(product).and(product_slugs::locale.eq(locale)).and(product_slugs::current))
        .select(product_slugs::slug)
        .first(conn)
        .await
        .optional()
}

#[derive(QueryableByName)]
struct NextChange {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>)]
    next: Option<DateTime<Utc>>,
}

/// The next instant an active product becomes visible or stops being visible by its schedule.
pub(crate) async fn next_scheduled_change(conn: &mut AsyncPgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    let row: NextChange = diesel::sql_query(
        "SELECT LEAST( \
             (SELECT min(publish_at) FROM products \
              WHERE deleted_at IS NULL AND publish_at IS NOT NULL AND publish_at > now() AND status = 'active'), \
             (SELECT min(unpublish_at) FROM products \
              WHERE deleted_at IS NULL AND unpublish_at IS NOT NULL AND unpublish_at > now() AND status = 'active') \
         ) AS next",
    )
    .get_result(conn)
    .await?;
    Ok(row.next)
}

// ---- CSV ----

/// The live products whose current slug in `locale` is one of `slugs`: (slug, product).
pub(crate) async fn products_by_current_slug(
    conn: &mut AsyncPgConnection,
    locale: &str,
    slugs: &[String],
) -> QueryResult<Vec<(String, ProductId)>> {
    product_slugs::table
        .inner_join(products::table.on(products::id.eq(product_slugs::product_id)))
        .filter(product_slugs::locale.eq(locale).and(product_slugs::current).and(product_slugs::slug.eq_any(slugs)))
        .filter(products::deleted_at.is_null())
        .select((product_slugs::slug, product_slugs::product_id))
        .load(conn)
        .await
}

/// The live products among `ids`.
pub(crate) async fn find_products(conn: &mut AsyncPgConnection, ids: &[ProductId]) -> QueryResult<Vec<ProductRow>> {
    products::table
        .filter(products::id.eq_any(ids).and(products::deleted_at.is_null()))
        .select(ProductRow::as_select())
        .order(products::id)
        .load(conn)
        .await
}

/// The live variants holding one of `skus`.
pub(crate) async fn variants_by_sku(conn: &mut AsyncPgConnection, skus: &[String]) -> QueryResult<Vec<VariantRow>> {
    variants::table
        .filter(variants::sku.eq_any(skus).and(variants::deleted_at.is_null()))
        .select(VariantRow::as_select())
        .load(conn)
        .await
}

/// How many live variants of live products there are.
pub(crate) async fn count_live_variants(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    variants::table
        .inner_join(products::table)
        .filter(variants::deleted_at.is_null().and(products::deleted_at.is_null()))
        .count()
        .get_result(conn)
        .await
}

/// Up to `limit` live variants of live products after `after`, in id order.
pub(crate) async fn live_variants_after(
    conn: &mut AsyncPgConnection,
    after: Option<VariantId>,
    limit: i64,
) -> QueryResult<Vec<VariantRow>> {
    let mut q = variants::table
        .inner_join(products::table)
        .filter(variants::deleted_at.is_null().and(products::deleted_at.is_null()))
        .select(VariantRow::as_select())
        .order(variants::id)
        .limit(limit)
        .into_boxed();
    if let Some(after) = after {
        q = q.filter(variants::id.gt(after));
    }
    q.load(conn).await
}

// ---- product types: changes ----

pub(crate) async fn lock_product_type(
    conn: &mut AsyncPgConnection,
    id: ProductTypeId,
) -> QueryResult<Option<ProductTypeRow>> {
    product_types::table
        .filter(product_types::id.eq(id).and(product_types::deleted_at.is_null()))
        .select(ProductTypeRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn update_product_type(
    conn: &mut AsyncPgConnection,
    id: ProductTypeId,
    name: &str,
    attributes: serde_json::Value,
    stamp: &Stamp,
) -> QueryResult<ProductTypeRow> {
    diesel::update(product_types::table.filter(product_types::id.eq(id)))
        .set((
            product_types::name.eq(name),
            product_types::attributes.eq(attributes),
            stamp_change!(stamp, product_types),
        ))
        .returning(ProductTypeRow::as_returning())
        .get_result(conn)
        .await
}

pub(crate) async fn soft_delete_product_type(
    conn: &mut AsyncPgConnection,
    id: ProductTypeId,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::update(product_types::table.filter(product_types::id.eq(id)))
        .set((product_types::deleted_at.eq(stamp.at), stamp_change!(stamp, product_types)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// How many live products are of this type.
pub(crate) async fn products_of_type(conn: &mut AsyncPgConnection, id: ProductTypeId) -> QueryResult<i64> {
    products::table
        .filter(products::product_type_id.eq(id).and(products::deleted_at.is_null()))
        .count()
        .get_result(conn)
        .await
}

/// Whether another live product type than `except` has this name (case-insensitively).
pub(crate) async fn product_type_named_other(
    conn: &mut AsyncPgConnection,
    name: &str,
    except: ProductTypeId,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        product_types::table
            .filter(product_types::deleted_at.is_null().and(product_types::id.ne(except)))
            .filter(sql::<Bool>("lower(name) = lower(").bind::<diesel::sql_types::Text, _>(name).sql(")")),
    ))
    .get_result(conn)
    .await
}

// ---- the sitemap ----

/// How many products shoppers may see.
pub(crate) async fn count_visible(conn: &mut AsyncPgConnection) -> QueryResult<i64> {
    products::table.filter(visible!()).count().get_result(conn).await
}

/// Visible products `offset..offset + limit` in a stable order (by id), with when each last
/// changed: (id, modified_at).
pub(crate) async fn visible_page(
    conn: &mut AsyncPgConnection,
    offset: i64,
    limit: i64,
) -> QueryResult<Vec<(ProductId, DateTime<Utc>)>> {
    products::table
        .filter(visible!())
        .select((products::id, products::modified_at))
        .order(products::id)
        .offset(offset)
        .limit(limit)
        .load(conn)
        .await
}

// ---- announcing the edges of publication windows ----

/// Marks announced the `publish_at` of every active product whose window opened and was not
/// announced yet (and has not closed again); returns them with their window. Concurrent sweeps
/// wait on each other's row locks and then find the edge announced, so each is returned once.
pub(crate) async fn mark_opened_windows(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Vec<(uuid::Uuid, Option<DateTime<Utc>>, Option<DateTime<Utc>>)>> {
    diesel::update(products::table)
        .filter(products::deleted_at.is_null())
        .filter(products::status.eq(ProductStatus::Active.as_str()))
        .filter(products::publish_at.le(now))
        .filter(products::publish_at.is_distinct_from(products::announced_publish_at))
        .filter(products::unpublish_at.is_null().or(products::unpublish_at.gt(now)))
        .set(products::announced_publish_at.eq(products::publish_at))
        .returning((products::id, products::publish_at, products::unpublish_at))
        .get_results(conn)
        .await
}

/// Marks announced the `unpublish_at` of every active product whose window closed and was not
/// announced yet; returns their ids. An opening never announced (the whole window passed
/// between two sweeps) is marked too: shoppers never saw it open.
pub(crate) async fn mark_closed_windows(conn: &mut AsyncPgConnection) -> QueryResult<Vec<uuid::Uuid>> {
    diesel::update(products::table)
        .filter(products::deleted_at.is_null())
        .filter(products::status.eq(ProductStatus::Active.as_str()))
        .filter(products::unpublish_at.le(now))
        .filter(products::unpublish_at.is_distinct_from(products::announced_unpublish_at))
        .set((
            products::announced_unpublish_at.eq(products::unpublish_at),
            products::announced_publish_at.eq(products::publish_at),
        ))
        .returning(products::id)
        .get_results(conn)
        .await
}

/// Marks the edges of `id`'s window that already passed as announced: the write that made it
/// active announced it, so the sweep must not announce it again.
pub(crate) async fn mark_passed_edges_announced(conn: &mut AsyncPgConnection, id: ProductId) -> QueryResult<()> {
    diesel::sql_query(
        "UPDATE products SET \
           announced_publish_at = CASE WHEN publish_at <= now() THEN publish_at ELSE announced_publish_at END, \
           announced_unpublish_at = CASE WHEN unpublish_at <= now() THEN unpublish_at ELSE announced_unpublish_at END \
         WHERE id = $1",
    )
    .bind::<diesel::sql_types::Uuid, _>(uuid::Uuid::from(id))
    .execute(conn)
    .await
    .map(|_| ())
}

/// The SKUs of those of `ids` that are live variants of live products.
pub(crate) async fn live_variant_skus(
    conn: &mut AsyncPgConnection,
    ids: &[VariantId],
) -> QueryResult<Vec<(VariantId, String)>> {
    variants::table
        .inner_join(products::table)
        .filter(variants::id.eq_any(ids.iter().map(|id| id.as_uuid()).collect::<Vec<_>>()))
        .filter(variants::deleted_at.is_null().and(products::deleted_at.is_null()))
        .select((variants::id, variants::sku))
        .load::<(uuid::Uuid, String)>(conn)
        .await
        .map(|rows| rows.into_iter().map(|(id, sku)| (VariantId::from_uuid(id), sku)).collect())
}

/// What shoppers are told about a variant's stock (`None`: not counted), unless a later
/// announcement is already recorded. The product it belongs to when it was recorded.
pub(crate) async fn record_availability(
    conn: &mut AsyncPgConnection,
    variant: VariantId,
    availability: Option<(&str, Option<DateTime<Utc>>)>,
    sequence: i64,
    at: DateTime<Utc>,
) -> QueryResult<Option<ProductId>> {
    #[derive(QueryableByName)]
    struct Recorded {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        product_id: uuid::Uuid,
    }
    use diesel::sql_types::{Int8, Nullable, Text, Timestamptz, Uuid};
    let recorded: Option<Recorded> = diesel::sql_query(
        "INSERT INTO variant_availability AS a (variant_id, status, preorder_until, sequence, modified_at) \
         SELECT v.id, $2, $3, $4, $5 FROM variants v WHERE v.id = $1 \
         ON CONFLICT (variant_id) DO UPDATE SET status = excluded.status, preorder_until = excluded.preorder_until, \
             sequence = excluded.sequence, modified_at = excluded.modified_at \
         WHERE a.sequence < excluded.sequence \
         RETURNING (SELECT product_id FROM variants WHERE id = $1) AS product_id",
    )
    .bind::<Uuid, _>(variant.as_uuid())
    .bind::<Nullable<Text>, _>(availability.map(|(status, _)| status))
    .bind::<Nullable<Timestamptz>, _>(availability.and_then(|(_, until)| until))
    .bind::<Int8, _>(sequence)
    .bind::<Timestamptz, _>(at)
    .get_result(conn)
    .await
    .optional()?;
    Ok(recorded.map(|r| ProductId::from_uuid(r.product_id)))
}

/// The recorded availability of `variants` that have one: (variant, status, preorder until).
pub(crate) async fn availability_of(
    conn: &mut AsyncPgConnection,
    variants: &[VariantId],
) -> QueryResult<Vec<(VariantId, Option<String>, Option<DateTime<Utc>>)>> {
    use crate::schema::variant_availability as a;
    a::table
        .filter(a::variant_id.eq_any(variants.iter().map(|v| v.as_uuid()).collect::<Vec<_>>()))
        .select((a::variant_id, a::status, a::preorder_until))
        .load::<(uuid::Uuid, Option<String>, Option<DateTime<Utc>>)>(conn)
        .await
        .map(|rows| rows.into_iter().map(|(v, s, u)| (VariantId::from_uuid(v), s, u)).collect())
}

/// The live variants of live products holding `skus`, as (SKU, variant).
pub(crate) async fn live_variants_by_sku(
    conn: &mut AsyncPgConnection,
    skus: &[String],
) -> QueryResult<Vec<(String, VariantId)>> {
    variants::table
        .inner_join(products::table)
        .filter(variants::sku.eq_any(skus))
        .filter(variants::deleted_at.is_null().and(products::deleted_at.is_null()))
        .select((variants::sku, variants::id))
        .load::<(String, uuid::Uuid)>(conn)
        .await
        .map(|rows| rows.into_iter().map(|(sku, id)| (sku, VariantId::from_uuid(id))).collect())
}

/// Every price of the live variants among `ids` (each currency it has one in), in one query.
pub(crate) async fn base_prices(
    conn: &mut AsyncPgConnection,
    ids: &[VariantId],
) -> QueryResult<Vec<(VariantId, i64, String, Option<i64>)>> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Uuid)]
        variant_id: uuid::Uuid,
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        price_amount: i64,
        #[diesel(sql_type = diesel::sql_types::Text)]
        price_currency: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::BigInt>)]
        compare_at_amount: Option<i64>,
    }
    // Driven from the ids (unnest), so even a generic plan walks the primary keys for the few
    // variants asked about rather than joining whole tables (4 ms a call under the cart's load).
    let mut ids: Vec<uuid::Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
    ids.sort();
    ids.dedup();
    let rows: Vec<Row> = diesel::sql_query(
        "SELECT vp.variant_id, vp.price_amount, vp.price_currency, vp.compare_at_amount \
         FROM unnest($1::uuid[]) AS wanted (id) \
         JOIN variant_prices vp ON vp.variant_id = wanted.id \
         JOIN variants v ON v.id = vp.variant_id AND v.deleted_at IS NULL \
         JOIN products p ON p.id = v.product_id AND p.deleted_at IS NULL",
    )
    .bind::<Array<diesel::sql_types::Uuid>, _>(ids)
    .load(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (VariantId::from_uuid(r.variant_id), r.price_amount, r.price_currency, r.compare_at_amount))
        .collect())
}

/// The live variants of `products`, in one query (the storefront's price overlay of a list).
pub(crate) async fn live_variants_of(
    conn: &mut AsyncPgConnection,
    ids: &[ProductId],
) -> QueryResult<Vec<(ProductId, VariantId)>> {
    variants::table
        .filter(variants::product_id.eq_any(ids))
        .filter(variants::deleted_at.is_null())
        .select((variants::product_id, variants::id))
        .load::<(uuid::Uuid, uuid::Uuid)>(conn)
        .await
        .map(|rows| rows.into_iter().map(|(p, v)| (ProductId::from_uuid(p), VariantId::from_uuid(v))).collect())
}
