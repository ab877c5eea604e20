//! Diesel queries over `product_media`: take the connection, return rows. No validation, no
//! events (`media.rs` decides).

use crate::schema::{product_media, products};
use crate::store::visible;
use crate::{MediaId, MediaStatus, ProductId, ProductStatus, VariantId};
use agora_kernel::tx::Stamp;
use agora_kernel::values::LocalizedText;
use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = product_media, check_for_backend(diesel::pg::Pg))]
pub(crate) struct MediaRow {
    pub id: MediaId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub position: i32,
    pub alt: LocalizedText,
    pub original_key: String,
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    pub byte_size: i64,
    pub thumbnails: serde_json::Value,
    pub status: MediaStatus,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
    pub version: i64,
}

/// A new medium as the upload recorded it.
pub(crate) struct MediaInsert<'a> {
    pub id: MediaId,
    pub product_id: ProductId,
    pub variant_id: Option<VariantId>,
    pub position: i32,
    pub alt: &'a LocalizedText,
    pub original_key: &'a str,
    pub content_type: &'a str,
    pub width: i32,
    pub height: i32,
    pub byte_size: i64,
}

pub(crate) async fn insert(
    conn: &mut AsyncPgConnection,
    row: &MediaInsert<'_>,
    stamp: &Stamp,
) -> QueryResult<MediaRow> {
    diesel::insert_into(product_media::table)
        .values((
            product_media::id.eq(row.id),
            product_media::product_id.eq(row.product_id),
            product_media::variant_id.eq(row.variant_id),
            product_media::position.eq(row.position),
            product_media::alt.eq(row.alt),
            product_media::original_key.eq(row.original_key),
            product_media::content_type.eq(row.content_type),
            product_media::width.eq(row.width),
            product_media::height.eq(row.height),
            product_media::byte_size.eq(row.byte_size),
            product_media::status.eq(MediaStatus::Processing),
            agora_kernel::stamp_new!(stamp, product_media),
        ))
        .returning(MediaRow::as_returning())
        .get_result(conn)
        .await
}

/// The product's live media, in order.
pub(crate) async fn of_product(conn: &mut AsyncPgConnection, product: ProductId) -> QueryResult<Vec<MediaRow>> {
    product_media::table
        .filter(product_media::product_id.eq(product).and(product_media::deleted_at.is_null()))
        .order((product_media::position, product_media::id))
        .select(MediaRow::as_select())
        .load(conn)
        .await
}

/// One live medium of the product.
pub(crate) async fn find(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    id: MediaId,
) -> QueryResult<Option<MediaRow>> {
    product_media::table
        .filter(product_media::id.eq(id).and(product_media::product_id.eq(product)))
        .filter(product_media::deleted_at.is_null())
        .select(MediaRow::as_select())
        .first(conn)
        .await
        .optional()
}

/// The medium, deleted or not, locked for the rest of the transaction (the thumbnail job's view).
pub(crate) async fn lock_any(conn: &mut AsyncPgConnection, id: MediaId) -> QueryResult<Option<(MediaRow, bool)>> {
    product_media::table
        .filter(product_media::id.eq(id))
        .select((MediaRow::as_select(), product_media::deleted_at.is_not_null()))
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Sets alt text and variant; bumps the medium's version and audit columns.
pub(crate) async fn update(
    conn: &mut AsyncPgConnection,
    id: MediaId,
    alt: &LocalizedText,
    variant: Option<VariantId>,
    stamp: &Stamp,
) -> QueryResult<MediaRow> {
    diesel::update(product_media::table.filter(product_media::id.eq(id)))
        .set((
            product_media::alt.eq(alt),
            product_media::variant_id.eq(variant),
            agora_kernel::stamp_change!(stamp, product_media),
        ))
        .returning(MediaRow::as_returning())
        .get_result(conn)
        .await
}

/// Puts the media in the given order (positions 0, 1, 2, …); only those whose place changes are
/// written (and get a new version).
pub(crate) async fn set_positions(
    conn: &mut AsyncPgConnection,
    order: &[(MediaId, i32)],
    stamp: &Stamp,
) -> QueryResult<()> {
    for &(id, position) in order {
        diesel::update(product_media::table.filter(product_media::id.eq(id)))
            .filter(product_media::position.ne(position))
            .set((product_media::position.eq(position), agora_kernel::stamp_change!(stamp, product_media)))
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub(crate) async fn soft_delete(conn: &mut AsyncPgConnection, id: MediaId, stamp: &Stamp) -> QueryResult<()> {
    diesel::update(product_media::table.filter(product_media::id.eq(id)))
        .set((product_media::deleted_at.eq(stamp.at), agora_kernel::stamp_change!(stamp, product_media)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// What the thumbnail job found: the thumbnails and the status they put the medium in. Not an
/// edit by staff, so neither the version (their If-Match) nor the audit columns move.
pub(crate) async fn set_processed(
    conn: &mut AsyncPgConnection,
    id: MediaId,
    status: MediaStatus,
    thumbnails: serde_json::Value,
) -> QueryResult<()> {
    diesel::update(product_media::table.filter(product_media::id.eq(id)))
        .set((product_media::status.eq(status), product_media::thumbnails.eq(thumbnails)))
        .execute(conn)
        .await
        .map(|_| ())
}

/// The ready media of the product, in order, if shoppers may see the product.
pub(crate) async fn visible_of(conn: &mut AsyncPgConnection, product: ProductId) -> QueryResult<Vec<MediaRow>> {
    product_media::table
        .inner_join(products::table)
        .filter(product_media::product_id.eq(product))
        .filter(product_media::deleted_at.is_null())
        .filter(product_media::status.eq(MediaStatus::Ready))
        .filter(visible!())
        .order((product_media::position, product_media::id))
        .select(MediaRow::as_select())
        .load(conn)
        .await
}

/// The first ready medium (by position) of each of `products` shoppers may see: a list's cards.
pub(crate) async fn first_visible_of(conn: &mut AsyncPgConnection, ids: &[ProductId]) -> QueryResult<Vec<MediaRow>> {
    product_media::table
        .inner_join(products::table)
        .filter(product_media::product_id.eq_any(ids))
        .filter(product_media::deleted_at.is_null())
        .filter(product_media::status.eq(MediaStatus::Ready))
        .filter(visible!())
        .distinct_on(product_media::product_id)
        .order((product_media::product_id, product_media::position, product_media::id))
        .select(MediaRow::as_select())
        .load(conn)
        .await
}

/// A ready medium of a product shoppers may see.
pub(crate) async fn visible(conn: &mut AsyncPgConnection, id: MediaId) -> QueryResult<Option<MediaRow>> {
    product_media::table
        .inner_join(products::table)
        .filter(product_media::id.eq(id))
        .filter(product_media::deleted_at.is_null())
        .filter(product_media::status.eq(MediaStatus::Ready))
        .filter(visible!())
        .select(MediaRow::as_select())
        .first(conn)
        .await
        .optional()
}
