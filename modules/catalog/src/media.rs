//! Product media: the images of a product, in the order the merchant chose, with alt text per
//! language and optionally tied to the variant they show.
//!
//! - **Upload**: only real images (JPEG, PNG, WebP, GIF, recognised from their bytes), at most
//!   [`MAX_UPLOAD_BYTES`], refused while the body streams in (`agora_kernel::images`). The
//!   original is stored through the shop's files (local directory or S3) *before* the
//!   transaction that records it, so no row lock is held while bytes travel to storage; if that
//!   transaction fails, the stored file is removed again. The same transaction bumps the
//!   product's version, records its history, publishes `catalog.product_updated.v1` (changed:
//!   `media`) and queues [`MakeProductThumbnails`].
//! - **Thumbnails** ([`MakeProductThumbnails`]): rendered by the kernel's image code in
//!   `THUMBNAIL_WIDTHS` (never wider than the original), recorded on the row, which moves from
//!   `processing` to `ready` (or `failed` for an original that cannot be rendered) and announced
//!   with `catalog.product_media_processed.v1`. Shoppers see a medium once it is ready, and only
//!   its thumbnails: they are re-encoded from pixels, so no metadata of the original (EXIF GPS
//!   positions, comments) reaches the storefront. The original stays staff-only.
//! - **Edits** (alt text, variant) are guarded by the medium's own version (`If-Match`); the
//!   order (`PUT …/media/order`, the full list of the product's media) by the product's version,
//!   since it is a property of the product. Every write bumps the product's version.
//! - **Delete** is soft (the row stays for the history), and [`RemoveMediaFiles`], queued in the
//!   same transaction, removes the original and its thumbnails from storage: a deleted image
//!   is not kept in a bucket nobody can see into.

use crate::events::{ProductMediaProcessed, ProductUpdated};
use crate::media_store::{self, MediaInsert, MediaRow};
use crate::store::{self, ProductChanges};
use crate::{CatalogError, MediaId, MediaStatus, ProductId, VariantId};
use actix_web::web::Bytes;
use agora_kernel::areas::Area;
use agora_kernel::events::EventBus;
use agora_kernel::images::{self, ImageError, ImageLimits, StoredThumbnail, THUMBNAIL_WIDTHS};
use agora_kernel::jobs::{EnqueueOptions, Job, JobContext, JobError};
use agora_kernel::storage::{bytes_stream, ConfiguredStorage, FileKey, StorageError, TenantFiles};
use agora_kernel::tx::{Acting, TenantTx};
use agora_kernel::values::LocalizedText;
use agora_kernel::{CommonError, Database, FieldError, TenantContext, Version};
use chrono::{DateTime, Utc};
use diesel_async::AsyncPgConnection;
use futures_util::Stream;
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};

/// The largest image a merchant may upload, in bytes.
pub const MAX_UPLOAD_BYTES: u64 = 20 * 1024 * 1024;
/// Images per product.
pub const MAX_MEDIA: usize = 50;
const MAX_ALT_CHARS: usize = 1000;

fn limits() -> ImageLimits {
    ImageLimits { max_bytes: MAX_UPLOAD_BYTES, ..ImageLimits::default() }
}

// ---- what callers see ----

/// One rendering of an image, and where to fetch it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
pub struct MediaImage {
    pub width: u32,
    pub height: u32,
    pub content_type: String,
    /// A path on this server (long-lived cacheable: the file behind it never changes).
    pub url: String,
}

/// An image of a product as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ProductMedia {
    pub id: MediaId,
    pub product_id: ProductId,
    /// The variant the image shows, if it shows one rather than the whole product.
    pub variant_id: Option<VariantId>,
    /// Order on the product page, from 0.
    pub position: i32,
    /// Alt text per language (`{"en": "Red shirt, front"}`).
    pub alt: LocalizedText,
    /// The original as uploaded: its type (from its bytes), size in pixels and bytes.
    pub content_type: String,
    pub width: u32,
    pub height: u32,
    pub byte_size: i64,
    /// `processing` until the thumbnails are made, then `ready` (or `failed`).
    pub status: MediaStatus,
    /// The original (for staff only; shoppers get the thumbnails).
    pub original_url: String,
    /// The thumbnails, smallest first (empty while processing).
    pub thumbnails: Vec<MediaImage>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub modified_at: DateTime<Utc>,
    pub modified_by: String,
    /// The medium's ETag (`If-Match` of an edit or delete).
    pub version: i64,
}

/// A product's media, in order.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct ProductMediaList {
    pub items: Vec<ProductMedia>,
    /// The product's version (the list's ETag): `If-Match` of a reorder.
    pub product_version: i64,
}

/// What may come with an upload, as query parameters (the body is the image itself).
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
pub struct MediaUpload {
    /// Alt text, in `locale`.
    pub alt: Option<String>,
    /// The language of `alt`; the shop's default language when absent.
    pub locale: Option<String>,
    /// The variant the image shows.
    pub variant_id: Option<VariantId>,
}

/// Changes to a medium: `alt` replaces every language's text (`{}` clears them), `variant_id:
/// null` unties it from its variant.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct MediaPatch {
    pub alt: Option<BTreeMap<String, String>>,
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub variant_id: Option<Option<VariantId>>,
}

/// The product's media in their new order: every live medium of the product, once.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct MediaOrder {
    pub media_ids: Vec<MediaId>,
}

/// An image on a product page.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct StoreMedia {
    pub id: MediaId,
    /// In the shopper's language, else the shop's default; absent when there is none.
    pub alt: Option<String>,
    pub variant_id: Option<VariantId>,
    pub width: u32,
    pub height: u32,
    /// The renderings to choose from (`srcset`), smallest first.
    pub images: Vec<MediaImage>,
}

/// A file to send: a thumbnail (or, for staff, an original), streamed from storage.
pub struct MediaFile {
    pub content_type: String,
    pub size: u64,
    pub body: agora_kernel::storage::ByteStream,
}

// ---- rows into views ----

fn thumbnails_of(row: &MediaRow) -> Vec<StoredThumbnail> {
    // Written only by the thumbnail job from the kernel's own type; anything else reads as none.
    serde_json::from_value(row.thumbnails.clone()).unwrap_or_default()
}

fn dimension(value: i32) -> u32 {
    u32::try_from(value).unwrap_or(0)
}

fn admin_file_url(row: &MediaRow, name: &str) -> String {
    Area::Admin.path(&format!("{}/products/{}/media/{}/files/{name}", crate::http::SCOPE, row.product_id, row.id))
}

fn store_file_url(id: MediaId, width: u32) -> String {
    Area::Store.path(&format!("{}/media/{id}/{width}", crate::http::SCOPE))
}

fn images(thumbnails: &[StoredThumbnail], url: impl Fn(u32) -> String) -> Vec<MediaImage> {
    thumbnails
        .iter()
        .map(|t| MediaImage {
            width: t.width,
            height: t.height,
            content_type: t.content_type.clone(),
            url: url(t.width),
        })
        .collect()
}

fn to_admin(row: MediaRow) -> ProductMedia {
    let thumbnails = images(&thumbnails_of(&row), |width| admin_file_url(&row, &width.to_string()));
    ProductMedia {
        id: row.id,
        product_id: row.product_id,
        variant_id: row.variant_id,
        position: row.position,
        original_url: admin_file_url(&row, "original"),
        thumbnails,
        content_type: row.content_type,
        width: dimension(row.width),
        height: dimension(row.height),
        byte_size: row.byte_size,
        status: row.status,
        alt: row.alt,
        created_at: row.created_at,
        created_by: row.created_by,
        modified_at: row.modified_at,
        modified_by: row.modified_by,
        version: row.version,
    }
}

/// The product's media as shoppers see them (ready ones of a visible product), alt text in
/// `locale` or the shop's default.
pub(crate) async fn for_shoppers(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    locale: &str,
    default_locale: &str,
) -> Result<Vec<StoreMedia>, CatalogError> {
    let rows = media_store::visible_of(conn, product).await?;
    Ok(rows.into_iter().map(|row| shopper_media(row, locale, default_locale)).collect())
}

/// The first picture of each of `products` (those that have one), for a list's cards.
pub(crate) async fn cards_of(
    conn: &mut AsyncPgConnection,
    products: &[ProductId],
    locale: &str,
    default_locale: &str,
) -> Result<std::collections::HashMap<ProductId, StoreMedia>, CatalogError> {
    if products.is_empty() {
        return Ok(std::collections::HashMap::new());
    }
    let rows = media_store::first_visible_of(conn, products).await?;
    Ok(rows.into_iter().map(|row| (row.product_id, shopper_media(row, locale, default_locale))).collect())
}

fn shopper_media(row: media_store::MediaRow, locale: &str, default_locale: &str) -> StoreMedia {
    StoreMedia {
        id: row.id,
        alt: row.alt.get(locale, default_locale).map(str::to_string),
        variant_id: row.variant_id,
        width: dimension(row.width),
        height: dimension(row.height),
        images: images(&thumbnails_of(&row), |width| store_file_url(row.id, width)),
    }
}

// ---- checks ----

/// Alt texts checked against the shop's languages; all problems reported at once.
fn check_alt(texts: &BTreeMap<String, String>, locales: &[String], problems: &mut Vec<FieldError>) -> LocalizedText {
    let mut kept = BTreeMap::new();
    for (locale, text) in texts {
        let field = format!("alt.{locale}");
        if !locales.contains(locale) {
            problems.push(FieldError::new(field, format!("not one of the shop's languages ({})", locales.join(", "))));
        } else if text.chars().count() > MAX_ALT_CHARS {
            problems.push(FieldError::new(field, format!("at most {MAX_ALT_CHARS} characters")));
        } else if !text.trim().is_empty() {
            kept.insert(locale.clone(), text.trim().to_string());
        }
    }
    // Every text is non-empty and keyed by one of the shop's languages: this cannot fail.
    LocalizedText::new(kept).unwrap_or_default()
}

/// A variant must be a live variant of this product.
async fn check_variant(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    variant: Option<VariantId>,
    problems: &mut Vec<FieldError>,
) -> Result<(), CatalogError> {
    if let Some(variant) = variant {
        let variants = store::variants_of(conn, &[product]).await?;
        if !variants.iter().any(|v| v.id == variant) {
            problems.push(FieldError::new("variant_id", "not a variant of this product"));
        }
    }
    Ok(())
}

fn refuse_if_any(problems: Vec<FieldError>) -> Result<(), CatalogError> {
    if problems.is_empty() {
        Ok(())
    } else {
        Err(CommonError::Invalid(problems).into())
    }
}

/// The upload's alt text and variant, checked against the product (which must exist).
async fn check_upload(
    conn: &mut AsyncPgConnection,
    product: ProductId,
    upload: &MediaUpload,
) -> Result<LocalizedText, CatalogError> {
    let shop = agora_tenancy::shop_defaults(conn).await?;
    let mut problems = Vec::new();
    let locale = upload.locale.clone().unwrap_or_else(|| shop.default_locale.clone());
    if !shop.locales.contains(&locale) {
        problems
            .push(FieldError::new("locale", format!("not one of the shop's languages ({})", shop.locales.join(", "))));
    }
    let mut alt = BTreeMap::new();
    if let Some(text) = &upload.alt {
        if text.chars().count() > MAX_ALT_CHARS {
            problems.push(FieldError::new("alt", format!("at most {MAX_ALT_CHARS} characters")));
        }
        alt.insert(locale, text.clone());
    }
    let alt =
        if problems.is_empty() { check_alt(&alt, &shop.locales, &mut problems) } else { LocalizedText::default() };
    check_variant(conn, product, upload.variant_id, &mut problems).await?;
    if media_store::of_product(conn, product).await?.len() >= MAX_MEDIA {
        problems.push(FieldError::new(images::FILE_FIELD, format!("a product has at most {MAX_MEDIA} images")));
    }
    refuse_if_any(problems)?;
    Ok(alt)
}

/// What every media write does to its product: a new version, an entry in its history and
/// `catalog.product_updated.v1` naming `media`. Returns the product's new version.
async fn product_changed(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    product: ProductId,
    action: &str,
    details: serde_json::Value,
) -> Result<i64, CatalogError> {
    let stamp = tx.stamp();
    let row = store::update_product(tx.conn(), product, &ProductChanges::default(), &stamp).await?;
    store::record_change(tx.conn(), product, action, details, &stamp).await?;
    let updated = ProductUpdated { product_id: product.into(), changed: vec!["media".into()], version: row.version };
    tx.publish(bus, &updated).await?;
    Ok(row.version)
}

// ---- the writes ----

/// Checks, stores and records an uploaded image (see the module docs for why this is two
/// transactions with the storage write between them).
#[allow(clippy::too_many_arguments)]
pub(crate) async fn upload<S, E>(
    db: &Database,
    bus: &EventBus,
    storage: &ConfiguredStorage,
    tenant: &TenantContext,
    acting: &Acting,
    product: ProductId,
    upload: MediaUpload,
    body: S,
    declared_length: Option<u64>,
) -> Result<ProductMedia, CatalogError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    // Refuse what cannot be recorded before reading a byte of the body.
    db.in_tenant(tenant, acting, async |tx| {
        store::find_product(tx.conn(), product).await?.ok_or(CatalogError::ProductNotFound)?;
        check_upload(tx.conn(), product, &upload).await
    })
    .await?;
    let image = images::accept(body, declared_length, &limits()).await?;
    let files = TenantFiles::new(storage.get().await?, &tenant.schema)?;
    let id = MediaId::new_v7();
    let folder = FileKey::parse(&format!("products/{product}/media/{id}"))?;
    let original = folder.join(&FileKey::parse(&format!("original.{}", image.kind.extension()))?)?;
    let byte_size = image.bytes.len() as u64;
    let (width, height) = (image.width, image.height);
    files.put(&original, image.kind.content_type(), bytes_stream(image.bytes), MAX_UPLOAD_BYTES).await?;

    let recorded = db
        .in_tenant(tenant, acting, async |tx| {
            store::lock_product(tx.conn(), product).await?.ok_or(CatalogError::ProductNotFound)?;
            // Checked again under the product's lock: a variant may have gone meanwhile.
            let alt = check_upload(tx.conn(), product, &upload).await?;
            let position = i32::try_from(media_store::of_product(tx.conn(), product).await?.len()).unwrap_or(i32::MAX);
            let stamp = tx.stamp();
            let new = MediaInsert {
                id,
                product_id: product,
                variant_id: upload.variant_id,
                position,
                alt: &alt,
                original_key: original.as_str(),
                content_type: image.kind.content_type(),
                width: i32::try_from(width).unwrap_or(i32::MAX),
                height: i32::try_from(height).unwrap_or(i32::MAX),
                byte_size: i64::try_from(byte_size).unwrap_or(i64::MAX),
            };
            let row = media_store::insert(tx.conn(), &new, &stamp).await?;
            product_changed(tx, bus, product, "media_added", json!({"media_id": id})).await?;
            tx.audit("catalog.media.added", Some(id.to_string()), json!({"product_id": product})).await?;
            let job = MakeProductThumbnails { media_id: id };
            let options = EnqueueOptions { dedup_key: Some(format!("media-thumbnails:{id}")), ..Default::default() };
            tx.enqueue(&job, options).await?;
            Ok::<_, CatalogError>(to_admin(row))
        })
        .await;
    if recorded.is_err() {
        // Nothing refers to the file: take it back (a failure here leaves an unreferenced file,
        // never a row without its file).
        if let Err(e) = files.delete(&original).await {
            tracing::warn!(error = %e, key = %original, "could not remove the original of an upload that was not recorded");
        }
    }
    recorded
}

pub(crate) async fn list(tx: &mut TenantTx<'_>, product: ProductId) -> Result<ProductMediaList, CatalogError> {
    let row = store::find_product(tx.conn(), product).await?.ok_or(CatalogError::ProductNotFound)?;
    let items = media_store::of_product(tx.conn(), product).await?.into_iter().map(to_admin).collect();
    Ok(ProductMediaList { items, product_version: row.version })
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, product: ProductId, id: MediaId) -> Result<ProductMedia, CatalogError> {
    store::find_product(tx.conn(), product).await?.ok_or(CatalogError::ProductNotFound)?;
    media_store::find(tx.conn(), product, id).await?.map(to_admin).ok_or(CatalogError::MediaNotFound)
}

/// The live medium, its product locked, if the caller's version (If-Match) is current.
async fn lock_current(
    tx: &mut TenantTx<'_>,
    product: ProductId,
    id: MediaId,
    expected: Option<i64>,
) -> Result<MediaRow, CatalogError> {
    store::lock_product(tx.conn(), product).await?.ok_or(CatalogError::ProductNotFound)?;
    let row = media_store::find(tx.conn(), product, id).await?.ok_or(CatalogError::MediaNotFound)?;
    Version::check(expected, row.version)?;
    Ok(row)
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    product: ProductId,
    id: MediaId,
    patch: MediaPatch,
    expected: Option<i64>,
) -> Result<ProductMedia, CatalogError> {
    let current = lock_current(tx, product, id, expected).await?;
    let shop = agora_tenancy::shop_defaults(tx.conn()).await?;
    let mut problems = Vec::new();
    let alt = match &patch.alt {
        Some(texts) => check_alt(texts, &shop.locales, &mut problems),
        None => current.alt.clone(),
    };
    let variant = patch.variant_id.unwrap_or(current.variant_id);
    check_variant(tx.conn(), product, variant, &mut problems).await?;
    refuse_if_any(problems)?;
    let mut changed = Vec::new();
    if alt != current.alt {
        changed.push("alt");
    }
    if variant != current.variant_id {
        changed.push("variant_id");
    }
    if changed.is_empty() {
        // The same values again: no new version, nothing announced.
        return Ok(to_admin(current));
    }
    let stamp = tx.stamp();
    let row = media_store::update(tx.conn(), id, &alt, variant, &stamp).await?;
    product_changed(tx, bus, product, "media_updated", json!({"media_id": id, "changed": changed})).await?;
    tx.audit("catalog.media.updated", Some(id.to_string()), json!({"product_id": product, "changed": changed})).await?;
    Ok(to_admin(row))
}

/// Puts the product's media in the order given: exactly its live media, each once.
pub(crate) async fn reorder(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    product: ProductId,
    order: MediaOrder,
    expected: Option<i64>,
) -> Result<ProductMediaList, CatalogError> {
    let row = store::lock_product(tx.conn(), product).await?.ok_or(CatalogError::ProductNotFound)?;
    Version::check(expected, row.version)?;
    let current = media_store::of_product(tx.conn(), product).await?;
    let live: BTreeSet<MediaId> = current.iter().map(|m| m.id).collect();
    let mut seen = BTreeSet::new();
    let mut problems = Vec::new();
    for (i, id) in order.media_ids.iter().enumerate() {
        if !live.contains(id) {
            problems.push(FieldError::new(format!("media_ids[{i}]"), "not an image of this product"));
        } else if !seen.insert(*id) {
            problems.push(FieldError::new(format!("media_ids[{i}]"), "listed twice"));
        }
    }
    let missing = live.difference(&seen).count();
    if problems.is_empty() && missing > 0 {
        problems.push(FieldError::new("media_ids", format!("every image of the product, once ({missing} missing)")));
    }
    refuse_if_any(problems)?;
    let unchanged = current.iter().map(|m| m.id).eq(order.media_ids.iter().copied());
    if unchanged {
        return list(tx, product).await;
    }
    let stamp = tx.stamp();
    let positions: Vec<(MediaId, i32)> =
        order.media_ids.iter().enumerate().map(|(i, id)| (*id, i32::try_from(i).unwrap_or(i32::MAX))).collect();
    media_store::set_positions(tx.conn(), &positions, &stamp).await?;
    product_changed(tx, bus, product, "media_reordered", json!({"media_ids": order.media_ids})).await?;
    tx.audit("catalog.media.reordered", Some(product.to_string()), json!({})).await?;
    list(tx, product).await
}

/// Deletes a medium (softly); its files are removed by [`RemoveMediaFiles`] once this commits.
pub(crate) async fn delete(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    product: ProductId,
    id: MediaId,
    expected: Option<i64>,
) -> Result<(), CatalogError> {
    let row = lock_current(tx, product, id, expected).await?;
    let stamp = tx.stamp();
    media_store::soft_delete(tx.conn(), id, &stamp).await?;
    // The others close the gap.
    let rest: Vec<(MediaId, i32)> = media_store::of_product(tx.conn(), product)
        .await?
        .iter()
        .enumerate()
        .map(|(i, m)| (m.id, i32::try_from(i).unwrap_or(i32::MAX)))
        .collect();
    media_store::set_positions(tx.conn(), &rest, &stamp).await?;
    product_changed(tx, bus, product, "media_deleted", json!({"media_id": id})).await?;
    tx.audit("catalog.media.deleted", Some(id.to_string()), json!({"product_id": product})).await?;
    tx.enqueue(&RemoveMediaFiles { media_id: id, folder: folder_of(&row.original_key) }, EnqueueOptions::default())
        .await?;
    Ok(())
}

fn folder_of(original_key: &str) -> String {
    original_key.rsplit_once('/').map_or(original_key, |(folder, _)| folder).to_string()
}

// ---- files ----

/// `name` is a thumbnail's width, or (for staff) `original`.
fn file_key(row: &MediaRow, name: &str, staff: bool) -> Result<FileKey, CatalogError> {
    if staff && name == "original" {
        return Ok(FileKey::parse(&row.original_key)?);
    }
    let width: u32 = name.parse().map_err(|_| CatalogError::MediaFileNotFound)?;
    let thumbnail = thumbnails_of(row).into_iter().find(|t| t.width == width).ok_or(CatalogError::MediaFileNotFound)?;
    Ok(FileKey::parse(&thumbnail.key)?)
}

async fn open(storage: &ConfiguredStorage, tenant: &TenantContext, key: &FileKey) -> Result<MediaFile, CatalogError> {
    let files = TenantFiles::new(storage.get().await?, &tenant.schema)?;
    let download = files.get(key).await.map_err(|e| match e {
        StorageError::NotFound(_) => CatalogError::MediaFileNotFound,
        other => other.into(),
    })?;
    Ok(MediaFile { content_type: download.info.content_type, size: download.info.size, body: download.body })
}

/// A thumbnail of a ready medium of a product shoppers may see.
pub(crate) async fn store_file(
    db: &Database,
    storage: &ConfiguredStorage,
    tenant: &TenantContext,
    id: MediaId,
    name: &str,
) -> Result<MediaFile, CatalogError> {
    let row = db
        .in_tenant(tenant, &Acting::system("read"), async |tx| {
            Ok::<_, CatalogError>(media_store::visible(tx.conn(), id).await?)
        })
        .await?
        .ok_or(CatalogError::MediaNotFound)?;
    open(storage, tenant, &file_key(&row, name, false)?).await
}

/// Any file of a live medium, for staff (drafts included).
pub(crate) async fn admin_file(
    db: &Database,
    storage: &ConfiguredStorage,
    tenant: &TenantContext,
    product: ProductId,
    id: MediaId,
    name: &str,
) -> Result<MediaFile, CatalogError> {
    let row = db
        .in_tenant(tenant, &Acting::system("read"), async |tx| {
            store::find_product(tx.conn(), product).await?.ok_or(CatalogError::ProductNotFound)?;
            media_store::find(tx.conn(), product, id).await?.ok_or(CatalogError::MediaNotFound)
        })
        .await?;
    open(storage, tenant, &file_key(&row, name, true)?).await
}

// ---- jobs ----

/// Renders a medium's thumbnails and records them (queued by the upload, in its transaction).
/// Safe to run again: it rewrites the same keys and records the same list.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MakeProductThumbnails {
    pub media_id: MediaId,
}

impl Job for MakeProductThumbnails {
    const KIND: &'static str = "catalog.media_thumbnails";
    const MAX_ATTEMPTS: i32 = 5;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant.as_ref().ok_or_else(|| JobError::permanent("media belong to a shop"))?;
        let acting = Acting::system("catalog.media_thumbnails");
        let storage = ctx.resource::<ConfiguredStorage>()?;
        let files = TenantFiles::new(storage.get().await.map_err(JobError::retry)?, &tenant.schema)
            .map_err(JobError::permanent)?;
        let id = self.media_id;
        let found = ctx
            .db
            .in_tenant(tenant, &acting, async |tx| Ok::<_, CatalogError>(media_store::lock_any(tx.conn(), id).await?))
            .await
            .map_err(JobError::retry)?;
        let Some((row, false)) = found else {
            return Ok(()); // deleted (its files go with RemoveMediaFiles) or never recorded
        };
        let original = FileKey::parse(&row.original_key).map_err(JobError::permanent)?;
        let folder = FileKey::parse(&folder_of(&row.original_key)).map_err(JobError::permanent)?;
        let outcome = images::make_thumbnails(&files, &original, &folder, &THUMBNAIL_WIDTHS, &limits()).await;
        let (status, thumbnails) = match outcome {
            Ok(stored) => (MediaStatus::Ready, stored),
            Err(ImageError::Storage(StorageError::NotFound(_))) => return Ok(()),
            Err(e @ (ImageError::NotAnImage | ImageError::Damaged(_) | ImageError::TooManyPixels { .. })) => {
                tracing::warn!(media = %id, error = %e, "the original cannot be rendered");
                (MediaStatus::Failed, Vec::new())
            }
            Err(e) if ctx.attempt >= Self::MAX_ATTEMPTS => {
                tracing::warn!(media = %id, error = %e, "thumbnails failed on the last attempt");
                (MediaStatus::Failed, Vec::new())
            }
            Err(e) => return Err(JobError::retry(e)),
        };
        let bus = ctx.bus.clone();
        let widths: Vec<u32> = thumbnails.iter().map(|t| t.width).collect();
        let recorded = ctx
            .db
            .in_tenant(tenant, &acting, async |tx| {
                // Deleted while rendering: what was just written is the removal job's to clean,
                // unless it already ran; remove it here too (deleting twice is harmless).
                match media_store::lock_any(tx.conn(), id).await? {
                    Some((_, false)) => {}
                    _ => return Ok::<_, CatalogError>(false),
                }
                media_store::set_processed(tx.conn(), id, status, json!(thumbnails)).await?;
                let event = ProductMediaProcessed {
                    product_id: row.product_id.into(),
                    media_id: id.into(),
                    status: status.as_str().to_string(),
                    widths: widths.clone(),
                };
                tx.publish(&bus, &event).await?;
                Ok(true)
            })
            .await
            .map_err(JobError::retry)?;
        if !recorded {
            return remove_folder(&files, &folder).await;
        }
        // The product page shows the image from now on: drop the storefront's copies.
        let catalog = ctx.resource::<crate::CatalogModule>()?;
        catalog.inner.cache.invalidate(tenant, &crate::store_cache::product_written(row.product_id)).await;
        Ok(())
    }
}

/// Removes a deleted medium's original and thumbnails from storage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RemoveMediaFiles {
    pub media_id: MediaId,
    /// The folder holding the original and its thumbnails.
    pub folder: String,
}

impl Job for RemoveMediaFiles {
    const KIND: &'static str = "catalog.media_files_removal";
    const MAX_ATTEMPTS: i32 = 10;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant.as_ref().ok_or_else(|| JobError::permanent("media belong to a shop"))?;
        let storage = ctx.resource::<ConfiguredStorage>()?;
        let files = TenantFiles::new(storage.get().await.map_err(JobError::retry)?, &tenant.schema)
            .map_err(JobError::permanent)?;
        let folder = FileKey::parse(&self.folder).map_err(JobError::permanent)?;
        remove_folder(&files, &folder).await
    }
}

async fn remove_folder(files: &TenantFiles, folder: &FileKey) -> Result<(), JobError> {
    for entry in files.list(Some(folder)).await.map_err(JobError::retry)? {
        files.delete(&entry.key).await.map_err(JobError::retry)?;
    }
    Ok(())
}
