//! The shop's own settings (name, currency, locales, time zone), as its staff change them; in the
//! shop's transaction.

use crate::events::ShopSettingsUpdated;
use crate::store;
use crate::{ShopSettings, ShopSettingsAdmin, ShopSettingsPatch, TenancyError};
use agora_kernel::events::EventBus;
use agora_kernel::{TenantTx, Version};

pub(crate) async fn settings(tx: &mut TenantTx<'_>) -> Result<ShopSettings, TenancyError> {
    let slug = tx.tenant().slug.clone();
    store::shop_settings(tx.conn()).await?.ok_or(TenancyError::Provisioning(slug))
}

pub(crate) async fn settings_admin(tx: &mut TenantTx<'_>) -> Result<ShopSettingsAdmin, TenancyError> {
    let slug = tx.tenant().slug.clone();
    Ok(store::shop_settings_admin(tx.conn(), false).await?.ok_or(TenancyError::Provisioning(slug))?.into_admin())
}

/// Applies `patch` if `expected` (from If-Match) is the current version; announces the result.
pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    patch: ShopSettingsPatch,
    expected: Option<i64>,
) -> Result<ShopSettingsAdmin, TenancyError> {
    let slug = tx.tenant().slug.clone();
    let current = store::shop_settings_admin(tx.conn(), true).await?.ok_or(TenancyError::Provisioning(slug))?;
    Version::check(expected, current.version)?;
    let id = current.id;
    let next = crate::provisioning::apply_shop_patch(&current.into_admin().settings, patch)?;
    let stamp = tx.stamp();
    let updated = store::update_shop_settings(tx.conn(), id, &next, &stamp).await?.into_admin();
    let event = ShopSettingsUpdated {
        name: updated.settings.name.clone(),
        default_currency: updated.settings.default_currency.clone(),
        locales: updated.settings.locales.clone(),
        default_locale: updated.settings.default_locale.clone(),
        timezone: updated.settings.timezone.clone(),
        version: updated.version,
    };
    tx.publish(bus, &event).await?;
    Ok(updated)
}
