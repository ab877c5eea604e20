//! The shop's logo: a file in the shop's storage (the kernel's file-storage port, local or S3),
//! named in its settings row.
//!
//! - Only a real image is taken (the kernel's `images` checks the bytes, never the declared
//!   type), at most [`LOGO_LIMITS`]; it is decoded and re-encoded at most [`LOGO_WIDTH`] pixels
//!   wide before it is stored, so no metadata of the original (EXIF positions, comments) is ever
//!   served, and the storefront never loads a 12 000-pixel logo.
//! - Each upload gets a new id and so a new URL: shoppers' copies are cached for good.
//! - The file is written before the row names it; when the row cannot be written the file is
//!   taken back. A replaced or removed logo's file is deleted after the commit (a failure there
//!   leaves an unreferenced file, never a row naming a missing one).

use crate::events::ShopSettingsUpdated;
use crate::{store, ShopSettingsAdmin, TenancyError};
use actix_web::dev::Payload;
use agora_kernel::events::EventBus;
use agora_kernel::images::{self, ImageLimits};
use agora_kernel::storage::{bytes_stream, ByteStream, ConfiguredStorage, FileKey, StorageError, TenantFiles};
use agora_kernel::{Acting, Database, TenantContext, TenantTx, Version};
use serde_json::json;

/// A logo is a small picture: 5 MiB and 8 000 pixels a side are plenty for any real one.
pub(crate) const LOGO_LIMITS: ImageLimits =
    ImageLimits { max_bytes: 5 * 1024 * 1024, max_width: 8_000, max_height: 8_000, max_pixels: 40_000_000 };
/// The widest logo stored (a header shows it a few hundred pixels wide, twice that on HiDPI).
pub(crate) const LOGO_WIDTH: u32 = 800;

/// A logo file as shoppers load it.
pub struct LogoFile {
    pub content_type: String,
    pub size: u64,
    pub body: ByteStream,
}

/// The storefront URL of the logo `id`.
pub(crate) fn logo_url(id: uuid::Uuid) -> String {
    agora_kernel::areas::Area::Store.path(&format!("/shop/logo/{id}"))
}

#[allow(clippy::too_many_arguments)]
pub(crate) async fn replace(
    db: &Database,
    bus: &EventBus,
    storage: &ConfiguredStorage,
    tenant: &TenantContext,
    acting: &Acting,
    body: Payload,
    declared_length: Option<u64>,
    expected: Option<i64>,
) -> Result<ShopSettingsAdmin, TenancyError> {
    // A stale version is refused before a byte of the body is read.
    db.in_tenant(tenant, acting, async |tx| {
        let current = current(tx, false).await?;
        Ok::<_, TenancyError>(Version::check(expected, current.version)?)
    })
    .await?;
    let image = images::accept(body, declared_length, &LOGO_LIMITS).await?;
    let width = image.width.min(LOGO_WIDTH);
    let rendered = tokio::task::spawn_blocking(move || images::render_thumbnails(&image.bytes, &[width], &LOGO_LIMITS))
        .await
        .map_err(|e| images::ImageError::Encoding(format!("the logo rendering stopped: {e}")))??;
    let logo = rendered.into_iter().next().ok_or(images::ImageError::NotAnImage)?;
    let files = TenantFiles::new(storage.get().await?, &tenant.schema)?;
    let id = uuid::Uuid::now_v7();
    let key = FileKey::parse(&format!("shop/logo/{id}.{}", logo.extension))?;
    let size = logo.bytes.len() as u64;
    files.put(&key, logo.content_type, bytes_stream(logo.bytes), size).await?;

    let recorded = db
        .in_tenant(tenant, acting, async |tx| {
            let current = current(tx, true).await?;
            Version::check(expected, current.version)?;
            let before = current.logo_key.clone();
            let stamp = tx.stamp();
            let row =
                store::set_logo(tx.conn(), current.id, Some((id, key.as_str(), logo.content_type)), &stamp).await?;
            let updated = row.into_admin();
            tx.audit("tenancy.shop_logo.replaced", Some("shop".into()), json!({ "logo_id": id })).await?;
            announce(tx, bus, &updated).await?;
            Ok::<_, TenancyError>((updated, before))
        })
        .await;
    match recorded {
        Ok((updated, before)) => {
            forget(&files, before).await;
            Ok(updated)
        }
        Err(e) => {
            forget(&files, Some(key.as_str().to_string())).await;
            Err(e)
        }
    }
}

pub(crate) async fn remove(
    db: &Database,
    bus: &EventBus,
    storage: &ConfiguredStorage,
    tenant: &TenantContext,
    acting: &Acting,
    expected: Option<i64>,
) -> Result<ShopSettingsAdmin, TenancyError> {
    let (updated, before) = db
        .in_tenant(tenant, acting, async |tx| {
            let current = current(tx, true).await?;
            Version::check(expected, current.version)?;
            let Some(before) = current.logo_key.clone() else {
                return Err(TenancyError::LogoNotFound);
            };
            let stamp = tx.stamp();
            let updated = store::set_logo(tx.conn(), current.id, None, &stamp).await?.into_admin();
            tx.audit("tenancy.shop_logo.removed", Some("shop".into()), json!({})).await?;
            announce(tx, bus, &updated).await?;
            Ok::<_, TenancyError>((updated, before))
        })
        .await?;
    let files = TenantFiles::new(storage.get().await?, &tenant.schema)?;
    forget(&files, Some(before)).await;
    Ok(updated)
}

pub(crate) async fn file(
    db: &Database,
    storage: &ConfiguredStorage,
    tenant: &TenantContext,
    id: uuid::Uuid,
) -> Result<LogoFile, TenancyError> {
    let (key, content_type) = db
        .in_tenant(tenant, &Acting::system("read"), async |tx| Ok::<_, TenancyError>(store::logo(tx.conn()).await?))
        .await?
        .filter(|(logo_id, _, _)| *logo_id == id)
        .map(|(_, key, content_type)| (key, content_type))
        .ok_or(TenancyError::LogoNotFound)?;
    let files = TenantFiles::new(storage.get().await?, &tenant.schema)?;
    let download = files.get(&FileKey::parse(&key)?).await.map_err(|e| match e {
        StorageError::NotFound(_) => TenancyError::LogoNotFound,
        other => other.into(),
    })?;
    Ok(LogoFile { content_type, size: download.info.size, body: download.body })
}

async fn current(tx: &mut TenantTx<'_>, lock: bool) -> Result<store::ShopAdminRow, TenancyError> {
    let slug = tx.tenant().slug.clone();
    store::shop_settings_admin(tx.conn(), lock).await?.ok_or(TenancyError::Provisioning(slug))
}

async fn announce(tx: &mut TenantTx<'_>, bus: &EventBus, updated: &ShopSettingsAdmin) -> Result<(), TenancyError> {
    tx.stale(agora_kernel::ports::SHOP_CACHE_TAG);
    tx.publish(bus, &ShopSettingsUpdated::of(updated)).await?;
    Ok(())
}

/// Deletes a file nothing names any more; a failure is logged, not the caller's problem.
async fn forget(files: &TenantFiles, key: Option<String>) {
    let Some(key) = key else { return };
    let deleted = match FileKey::parse(&key) {
        Ok(key) => files.delete(&key).await,
        Err(e) => Err(e),
    };
    if let Err(e) = deleted {
        tracing::warn!(key = %key, error = %e, "an unreferenced logo file could not be deleted");
    }
}
