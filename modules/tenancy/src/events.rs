//! Events this module publishes.

use agora_kernel::events::{Event, EventBusBuilder};
use serde::{Deserialize, Serialize};

/// A shop was provisioned and is open.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TenantCreated {
    pub tenant_id: uuid::Uuid,
    pub slug: String,
    pub name: String,
}

impl Event for TenantCreated {
    const NAME: &'static str = "tenancy.tenant_created.v1";
    const PLATFORM: bool = true;
    fn aggregate_id(&self) -> String {
        format!("tenant:{}", self.tenant_id)
    }
}

/// A shop was suspended or resumed by the platform.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TenantStatusChanged {
    pub tenant_id: uuid::Uuid,
    pub slug: String,
    /// `active` or `suspended`.
    pub status: String,
}

impl Event for TenantStatusChanged {
    const NAME: &'static str = "tenancy.tenant_status_changed.v1";
    const PLATFORM: bool = true;
    fn aggregate_id(&self) -> String {
        format!("tenant:{}", self.tenant_id)
    }
}

/// The shop's settings changed.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ShopSettingsUpdated {
    pub name: String,
    pub default_currency: String,
    pub locales: Vec<String>,
    pub default_locale: String,
    pub timezone: String,
    /// The storefront's logo; absent when the shop has none.
    pub logo_url: Option<String>,
    /// The shop's colour (`#rrggbb`).
    pub brand_colour: Option<String>,
    /// The country the shop sells from (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    pub version: i64,
}

impl ShopSettingsUpdated {
    pub(crate) fn of(updated: &crate::ShopSettingsAdmin) -> Self {
        let settings = &updated.settings;
        Self {
            name: settings.name.clone(),
            default_currency: settings.default_currency.clone(),
            locales: settings.locales.clone(),
            default_locale: settings.default_locale.clone(),
            timezone: settings.timezone.clone(),
            logo_url: settings.logo_url.clone(),
            brand_colour: settings.brand_colour.clone(),
            country: settings.country.clone(),
            version: updated.version,
        }
    }
}

impl Event for ShopSettingsUpdated {
    const NAME: &'static str = "tenancy.shop_settings_updated.v1";
    fn aggregate_id(&self) -> String {
        "shop_settings".to_string()
    }
}

pub(crate) fn register_events(events: &mut EventBusBuilder) {
    events.declare::<TenantCreated>().declare::<TenantStatusChanged>().declare::<ShopSettingsUpdated>();
}
