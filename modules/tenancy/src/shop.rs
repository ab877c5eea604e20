//! The shop's own settings (name, currency, locales, time zone, brand colour, country), as its
//! staff change them; in the shop's transaction. The logo is `logo.rs`.

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
    let before = current.into_admin().settings;
    let next = crate::provisioning::apply_shop_patch(&before, patch)?;
    let stamp = tx.stamp();
    let updated = store::update_shop_settings(tx.conn(), id, &next, &stamp).await?.into_admin();
    tx.audit("tenancy.shop_settings.changed", Some("shop".into()), changed_fields(&before, &updated.settings)).await?;
    tx.stale(agora_kernel::ports::SHOP_CACHE_TAG);
    tx.publish(bus, &ShopSettingsUpdated::of(&updated)).await?;
    Ok(updated)
}

/// The settings that differ, with their new values (`{"changed": ["name"], "to": {"name": …}}`),
/// for the audit log: shop settings hold nothing secret.
fn changed_fields(before: &ShopSettings, after: &ShopSettings) -> serde_json::Value {
    let (serde_json::Value::Object(before), serde_json::Value::Object(after)) =
        (serde_json::json!(before), serde_json::json!(after))
    else {
        return serde_json::json!({});
    };
    let to: serde_json::Map<String, serde_json::Value> =
        after.into_iter().filter(|(field, value)| before.get(field) != Some(value)).collect();
    let mut changed: Vec<&String> = to.keys().collect();
    changed.sort();
    serde_json::json!({ "changed": changed, "to": to })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_fields_that_changed_are_named() {
        let before = ShopSettings {
            name: "Demo".into(),
            default_currency: "EUR".into(),
            locales: vec!["en".into()],
            default_locale: "en".into(),
            timezone: "UTC".into(),
            logo_url: None,
            brand_colour: None,
            country: None,
        };
        let after =
            ShopSettings { name: "Demo Shop".into(), locales: vec!["en".into(), "de".into()], ..before.clone() };
        let details = changed_fields(&before, &after);
        assert_eq!(details["changed"], serde_json::json!(["locales", "name"]));
        assert_eq!(details["to"]["name"], "Demo Shop");
        assert_eq!(changed_fields(&before, &before)["changed"], serde_json::json!([]));
    }
}
