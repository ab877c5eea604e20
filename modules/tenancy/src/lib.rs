//! Tenancy: shops (tenants) on the platform.
//!
//! Provisioning a shop creates its schema, migrates it and seeds its settings; resolution maps a
//! request's Host or `X-Tenant-ID` to the shop; `migrate` upgrades the control schema and every
//! shop's schema. The facade below is the module's whole public face.

mod error;
mod events;
mod http;
mod logo;
mod migrate;
mod provisioning;
mod resolution;
mod schema;
mod shop;
mod store;
mod tenants;

use agora_kernel::events::EventBus;
use agora_kernel::lists::{ListQuery, OldestFirst, Page};
use agora_kernel::ports::{ShopFounder, ShopOwner};
use agora_kernel::storage::ConfiguredStorage;
use agora_kernel::{Acting, Actor, Database, Stamp, TenantContext};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub use error::TenancyError;
pub use events::{ShopSettingsUpdated, TenantCreated, TenantStatusChanged};
pub use http::resolve_tenant;
pub use logo::LogoFile;
pub use migrate::MigrationProgress;

/// A shop as the platform sees it.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Tenant {
    pub id: uuid::Uuid,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    /// Custom domains that address this shop besides `<slug>.<base domain>`.
    pub domains: Vec<String>,
    /// The domain links to the shop use (emails, sign-in redirects); without one,
    /// `<slug>.<base domain>`.
    pub primary_domain: Option<String>,
    /// Latest tenant migration applied to the shop's schema.
    pub schema_version: i32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub modified_at: chrono::DateTime<chrono::Utc>,
    pub version: i64,
    /// The person the shop was opened for (its first owner, and the platform's contact).
    pub owner_email: Option<String>,
}

/// What it takes to open a shop.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    /// 2–40 lowercase letters, digits or `-`; the shop's address `<slug>.<base domain>`.
    pub slug: String,
    pub name: String,
    /// ISO 4217 code; default USD.
    pub default_currency: Option<String>,
    /// BCP 47 tags such as `en` or `de-CH`; the first is the default. Default `["en"]`.
    pub locales: Option<Vec<String>>,
    /// Custom domains, e.g. `shop.example.com`.
    #[serde(default)]
    pub domains: Vec<String>,
    /// Who the shop is for: they become its first owner and get an email inviting them to set a
    /// password. Without one, create the owner with `agora staff create`.
    #[serde(default)]
    pub owner: Option<ShopOwner>,
}

/// Which of its domains a shop's links use.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PrimaryDomain {
    /// One of the shop's `domains`, or `null` for `<slug>.<base domain>`.
    pub domain: Option<String>,
}

/// Changes to a shop's platform record.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct TenantPatch {
    pub name: Option<String>,
}

/// The shop's public settings, for storefronts.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct ShopSettings {
    pub name: String,
    pub default_currency: String,
    pub locales: Vec<String>,
    pub default_locale: String,
    pub timezone: String,
    /// Where the storefront loads the shop's logo (a new logo has a new URL, so it is cached
    /// for good); absent when the shop has none.
    pub logo_url: Option<String>,
    /// The shop's colour (`#rrggbb`), for accents on its storefront.
    pub brand_colour: Option<String>,
    /// The country the shop sells from (ISO 3166-1 alpha-2, such as DE).
    pub country: Option<String>,
}

/// The shop's settings as staff see them: with audit fields and the version to send back in
/// `If-Match`.
#[derive(Debug, Clone, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct ShopSettingsAdmin {
    #[serde(flatten)]
    pub settings: ShopSettings,
    pub modified_at: chrono::DateTime<chrono::Utc>,
    pub modified_by: String,
    pub version: i64,
}

/// Changes to the shop's settings; absent fields stay as they are.
#[derive(Debug, Clone, Default, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ShopSettingsPatch {
    pub name: Option<String>,
    /// ISO 4217 code.
    pub default_currency: Option<String>,
    /// BCP 47 tags; `default_locale` must be one of them.
    pub locales: Option<Vec<String>>,
    pub default_locale: Option<String>,
    /// IANA time zone name such as Europe/Berlin.
    pub timezone: Option<String>,
    /// `#rrggbb`; `null` removes it.
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub brand_colour: Option<Option<String>>,
    /// ISO 3166-1 alpha-2 code such as DE; `null` removes it.
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub country: Option<Option<String>>,
}

impl Tenant {
    /// The context other modules work in for this shop, whatever its status (request
    /// resolution refuses suspended shops; maintenance such as resealing secrets must not).
    pub fn context(&self) -> Option<TenantContext> {
        let schema = agora_kernel::TenantSchema::for_slug(&self.slug)?;
        Some(TenantContext { id: self.id, slug: self.slug.clone(), schema })
    }
}

agora_kernel::text_enum! {
    /// Where a shop is in its life; stored as text in `agora.tenants.status`.
    pub enum TenantStatus {
        /// Being set up (schema, settings, owner); not reachable yet.
        Provisioning = "provisioning",
        /// Open for shoppers and staff.
        Active = "active",
        /// Closed by an operator; every request for it is refused.
        Suspended = "suspended",
    }
}

/// Result of migrating every shop.
#[derive(Debug, Default, Clone)]
pub struct MigrationReport {
    pub tenants: usize,
    pub migrated: usize,
    pub failed: Vec<(String, String)>,
}

#[derive(Clone)]
pub struct TenancyModule {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    bus: EventBus,
    base_domain: String,
    resolver: resolution::Resolver,
    founder: Option<Arc<dyn ShopFounder>>,
}

impl TenancyModule {
    /// `base_domain`: shops are reachable at `<slug>.<base_domain>`. `founder` appoints the owner
    /// a new shop names (identity, in practice); without it shops cannot name one.
    pub fn new(db: Database, bus: EventBus, base_domain: &str, founder: Option<Arc<dyn ShopFounder>>) -> Self {
        let base_domain = base_domain.trim().trim_matches('.').to_ascii_lowercase();
        Self { inner: Arc::new(Inner { resolver: resolution::Resolver::new(), db, bus, base_domain, founder }) }
    }

    pub fn database(&self) -> &Database {
        &self.inner.db
    }

    /// Upgrades the control schema (under an advisory lock; safe with many replicas starting).
    pub async fn migrate_control(&self) -> Result<(), TenancyError> {
        migrate::migrate_control(&self.inner.db).await
    }

    /// Upgrades every shop's schema, `concurrency` at a time; resumable after a crash.
    pub async fn migrate_tenants(
        &self,
        concurrency: usize,
        progress: &dyn MigrationProgress,
    ) -> Result<MigrationReport, TenancyError> {
        migrate::migrate_all(&self.inner.db, &self.inner.bus, self.inner.founder.as_ref(), concurrency, progress).await
    }

    /// Opens a shop: validates, records it, creates and migrates its schema, seeds its settings.
    /// Re-running it for a shop whose provisioning was interrupted finishes the job.
    pub async fn create(&self, new: NewTenant, actor: &Actor) -> Result<Tenant, TenancyError> {
        let inner = &self.inner;
        let tenant =
            provisioning::create(&inner.db, &inner.bus, &inner.base_domain, inner.founder.as_ref(), new, actor).await?;
        self.inner.resolver.forget_all().await;
        Ok(tenant)
    }

    pub async fn get(&self, slug: &str) -> Result<Tenant, TenancyError> {
        self.inner
            .db
            .control_tx(async |conn| {
                store::load_tenant(conn, slug).await?.ok_or_else(|| TenancyError::NotFound(slug.to_string()))
            })
            .await
    }

    /// Shops, oldest first, a page at a time.
    pub async fn list(
        &self,
        query: &ListQuery<OldestFirst>,
        status: Option<&str>,
    ) -> Result<Page<Tenant>, agora_kernel::ApiError> {
        let keyset = query.keyset()?;
        let page = self
            .inner
            .db
            .control_tx(async |conn| Ok::<_, TenancyError>(store::list_tenants(conn, &keyset, status).await?))
            .await?;
        Ok(page)
    }

    pub async fn set_status(
        &self,
        slug: &str,
        status: TenantStatus,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<Tenant, TenancyError> {
        let (bus, stamp) = (&self.inner.bus, Stamp::of(actor));
        let tenant = self
            .inner
            .db
            .control_tx(async |conn| tenants::set_status(conn, bus, slug, status, expected_version, &stamp).await)
            .await?;
        self.inner.resolver.forget_all().await;
        Ok(tenant)
    }

    pub async fn update(
        &self,
        slug: &str,
        patch: TenantPatch,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<Tenant, TenancyError> {
        let stamp = Stamp::of(actor);
        self.inner.db.control_tx(async |conn| tenants::update(conn, slug, &patch, expected_version, &stamp).await).await
    }

    /// Sets the domain the shop's links use (`None`: `<slug>.<base domain>`).
    pub async fn set_primary_domain(
        &self,
        slug: &str,
        domain: Option<String>,
        actor: &Actor,
    ) -> Result<Tenant, TenancyError> {
        let stamp = Stamp::of(actor);
        self.inner.db.control_tx(async |conn| tenants::set_primary_domain(conn, slug, domain, &stamp).await).await
    }

    /// The shop a request addresses: `X-Tenant-ID` when sent, else the Host.
    pub async fn resolve(
        &self,
        host: Option<&str>,
        tenant_header: Option<&str>,
    ) -> Result<Option<TenantContext>, TenancyError> {
        self.inner.resolver.resolve(&self.inner.db, &self.inner.base_domain, host, tenant_header).await
    }

    pub async fn shop_admin(&self, tenant: &TenantContext) -> Result<ShopSettingsAdmin, TenancyError> {
        self.inner.db.in_tenant(tenant, &Acting::system("read"), async |tx| shop::settings_admin(tx).await).await
    }

    /// Changes the shop's settings; `expected_version` (from If-Match) guards against lost updates.
    pub async fn update_shop(
        &self,
        tenant: &TenantContext,
        patch: ShopSettingsPatch,
        expected_version: Option<i64>,
        actor: &Actor,
    ) -> Result<ShopSettingsAdmin, TenancyError> {
        let (bus, acting) = (&self.inner.bus, Acting::new(actor.clone(), None));
        self.inner.db.in_tenant(tenant, &acting, async |tx| shop::update(tx, bus, patch, expected_version).await).await
    }

    /// Replaces the shop's logo with `body` (a JPEG, PNG, WebP or GIF, re-encoded before it is
    /// stored); `expected_version` (from If-Match) guards against lost updates.
    pub async fn replace_logo(
        &self,
        tenant: &TenantContext,
        storage: &ConfiguredStorage,
        body: actix_web::dev::Payload,
        declared_length: Option<u64>,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<ShopSettingsAdmin, TenancyError> {
        let (db, bus) = (&self.inner.db, &self.inner.bus);
        logo::replace(db, bus, storage, tenant, acting, body, declared_length, expected_version).await
    }

    /// Removes the shop's logo.
    pub async fn remove_logo(
        &self,
        tenant: &TenantContext,
        storage: &ConfiguredStorage,
        expected_version: Option<i64>,
        acting: &Acting,
    ) -> Result<ShopSettingsAdmin, TenancyError> {
        logo::remove(&self.inner.db, &self.inner.bus, storage, tenant, acting, expected_version).await
    }

    /// The shop's logo file, if `id` is its current logo (an old logo's URL is a 404).
    pub async fn logo_file(
        &self,
        tenant: &TenantContext,
        storage: &ConfiguredStorage,
        id: uuid::Uuid,
    ) -> Result<LogoFile, TenancyError> {
        logo::file(&self.inner.db, storage, tenant, id).await
    }

    /// The shop's public settings (one tenant transaction; deliberately uncached).
    pub async fn shop(&self, tenant: &TenantContext) -> Result<ShopSettings, TenancyError> {
        self.inner.db.in_tenant(tenant, &Acting::system("read"), async |tx| shop::settings(tx).await).await
    }
}

/// The shop's primary domain, if it has one, read on `conn` (any transaction: the table is in the
/// control schema).
pub async fn primary_domain(
    conn: &mut diesel_async::AsyncPgConnection,
    tenant: uuid::Uuid,
) -> diesel::QueryResult<Option<String>> {
    store::primary_domain(conn, tenant).await
}

/// Every open shop (status `active`), for platform jobs that visit each shop in turn (the
/// catalog's publication sweep). Read on `conn` in any transaction: the table is in the control schema.
pub async fn open_shops(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<Vec<TenantContext>> {
    let shops = store::slugs_with_status(conn, TenantStatus::Active.as_str()).await?;
    Ok(shops
        .into_iter()
        .filter_map(|(id, slug)| {
            let schema = agora_kernel::TenantSchema::for_slug(&slug)?;
            Some(TenantContext { id, slug, schema })
        })
        .collect())
}

/// The shop's display name, read in the caller's tenant transaction (for emails other modules
/// send on the shop's behalf).
pub async fn shop_name(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<String> {
    store::shop_name(conn).await
}

/// The shop's default currency and languages, for modules that price and translate (the catalog).
#[derive(Debug, Clone)]
pub struct ShopDefaults {
    pub default_currency: String,
    pub locales: Vec<String>,
    pub default_locale: String,
}

/// The shop's [`ShopDefaults`], read in the caller's tenant transaction.
pub async fn shop_defaults(conn: &mut diesel_async::AsyncPgConnection) -> diesel::QueryResult<ShopDefaults> {
    let (default_currency, locales, default_locale) = store::shop_defaults(conn).await?;
    Ok(ShopDefaults { default_currency, locales, default_locale })
}

impl agora_kernel::Module for TenancyModule {
    fn store(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::store_routes(cfg);
    }

    fn admin(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::admin_routes(cfg);
    }

    fn platform(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        http::platform_routes(cfg);
    }

    fn app_data(&self, cfg: &mut paperclip::actix::web::ServiceConfig) {
        cfg.app_data(paperclip::actix::web::Data::new(self.clone()));
    }

    fn background(
        &self,
        events: &mut agora_kernel::events::EventBusBuilder,
        _jobs: &mut agora_kernel::jobs::JobRegistry,
    ) -> Result<(), String> {
        events::register_events(events);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::TenantStatus;

    /// The column stays text with a CHECK: the enum must name exactly the values it allows.
    #[test]
    fn tenant_statuses_are_the_ones_the_column_allows() {
        let migration = include_str!("../../../migrations/control/V1__tenancy.sql");
        assert!(migration.contains(&TenantStatus::sql_check("status")), "{}", TenantStatus::sql_check("status"));
    }
}
