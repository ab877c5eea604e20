//! SQL for tenants, their domains and shop settings.

use crate::events::{ShopSettingsUpdated, TenantStatusChanged};
use crate::schema::{shop_settings, tenant_domains, tenants};
use crate::{ShopSettings, ShopSettingsAdmin, ShopSettingsPatch, TenancyError, Tenant, TenantPatch, TenantStatus};
use agora_kernel::events::EventBus;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::ports::ShopOwner;
use agora_kernel::{Actor, Database, DbError, TenantContext, Version};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use std::collections::HashMap;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenants)]
pub(crate) struct TenantRow {
    pub id: uuid::Uuid,
    pub slug: String,
    pub name: String,
    pub status: TenantStatus,
    pub schema_version: i32,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
    pub owner_email: Option<String>,
    pub owner_name: Option<String>,
}

impl TenantRow {
    /// The person the shop was opened for, if the operator named one.
    pub(crate) fn owner(&self) -> Option<ShopOwner> {
        let email = self.owner_email.clone()?;
        Some(ShopOwner { email, name: self.owner_name.clone() })
    }

    fn into_tenant(self, domains: Vec<String>, primary_domain: Option<String>) -> Tenant {
        Tenant {
            id: self.id,
            slug: self.slug,
            name: self.name,
            status: self.status,
            domains,
            primary_domain,
            schema_version: self.schema_version,
            created_at: self.created_at,
            modified_at: self.modified_at,
            version: self.version,
            owner_email: self.owner_email,
        }
    }
}

pub(crate) async fn tenant_row(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<TenantRow>> {
    tenants::table.filter(tenants::slug.eq(slug)).select(TenantRow::as_select()).first(conn).await.optional()
}

async fn with_domains(conn: &mut AsyncPgConnection, rows: Vec<TenantRow>) -> QueryResult<Vec<Tenant>> {
    let ids: Vec<uuid::Uuid> = rows.iter().map(|r| r.id).collect();
    let pairs: Vec<(uuid::Uuid, String, bool)> = tenant_domains::table
        .filter(tenant_domains::tenant_id.eq_any(&ids))
        .order(tenant_domains::domain)
        .select((tenant_domains::tenant_id, tenant_domains::domain, tenant_domains::is_primary))
        .load(conn)
        .await?;
    let mut by_tenant: HashMap<uuid::Uuid, Vec<String>> = HashMap::new();
    let mut primary: HashMap<uuid::Uuid, String> = HashMap::new();
    for (id, domain, is_primary) in pairs {
        if is_primary {
            primary.insert(id, domain.clone());
        }
        by_tenant.entry(id).or_default().push(domain);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let domains = by_tenant.remove(&r.id).unwrap_or_default();
            let primary = primary.remove(&r.id);
            r.into_tenant(domains, primary)
        })
        .collect())
}

pub(crate) async fn load_tenant(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<Tenant>> {
    let Some(row) = tenant_row(conn, slug).await? else {
        return Ok(None);
    };
    Ok(with_domains(conn, vec![row]).await?.pop())
}

pub(crate) async fn find_tenant(db: &Database, slug: &str) -> Result<Option<Tenant>, TenancyError> {
    let slug = slug.to_string();
    db.control_tx(async move |conn| Ok(load_tenant(conn, &slug).await?)).await
}

pub(crate) async fn list_tenants(
    db: &Database,
    page: &Keyset<chrono::DateTime<chrono::Utc>>,
    status: Option<&str>,
) -> Result<Page<Tenant>, DbError> {
    let page = page.clone();
    let status = status.map(str::to_string);
    db.control_tx(async move |conn| {
        let mut query = tenants::table.select(TenantRow::as_select()).limit(page.fetch_limit()).into_boxed();
        if let Some(status) = status {
            query = query.filter(tenants::status.eq(status));
        }
        let rows = page.apply(query, tenants::created_at, tenants::id).load(conn).await?;
        let tenants = with_domains(conn, rows).await?;
        Ok(page.page(tenants, |t| (t.created_at, t.id)))
    })
    .await
}

/// Slugs of every tenant, oldest first, for `migrate`.
pub(crate) async fn all_slugs(db: &Database) -> Result<Vec<String>, DbError> {
    db.control_tx(async |conn| {
        Ok(tenants::table.order((tenants::created_at, tenants::id)).select(tenants::slug).load(conn).await?)
    })
    .await
}

async fn locked_row(
    conn: &mut AsyncPgConnection,
    slug: &str,
    expected: Option<i64>,
) -> Result<TenantRow, TenancyError> {
    let row = tenants::table
        .filter(tenants::slug.eq(slug))
        .select(TenantRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()?
        .ok_or_else(|| TenancyError::NotFound(slug.to_string()))?;
    Version::check(expected, row.version)?;
    Ok(row)
}

pub(crate) async fn set_status(
    db: &Database,
    bus: &EventBus,
    slug: &str,
    status: TenantStatus,
    expected: Option<i64>,
    actor: &Actor,
) -> Result<Tenant, TenancyError> {
    let (slug, who) = (slug.to_string(), actor.audit_name());
    db.control_tx(async move |conn| {
        let row = locked_row(conn, &slug, expected).await?;
        if row.status == TenantStatus::Provisioning {
            return Err(TenancyError::Provisioning(slug));
        }
        // Only provisioning itself opens a shop; an operator opens or closes one already open.
        if status == TenantStatus::Provisioning {
            return Err(agora_kernel::CommonError::field("status", "one of active, suspended").into());
        }
        let new_status = status;
        if row.status != new_status {
            let event = TenantStatusChanged { tenant_id: row.id, slug: slug.clone(), status: new_status.to_string() };
            bus.publish(conn, None, &event).await?;
            diesel::update(tenants::table.filter(tenants::id.eq(row.id)))
                .set((
                    tenants::status.eq(new_status),
                    tenants::modified_at.eq(diesel::dsl::now),
                    tenants::modified_by.eq(&who),
                    tenants::version.eq(tenants::version + 1),
                ))
                .execute(conn)
                .await?;
        }
        load_tenant(conn, &slug).await?.ok_or(TenancyError::NotFound(slug))
    })
    .await
}

pub(crate) async fn update_tenant(
    db: &Database,
    slug: &str,
    patch: &TenantPatch,
    expected: Option<i64>,
    actor: &Actor,
) -> Result<Tenant, TenancyError> {
    let (slug, who, patch) = (slug.to_string(), actor.audit_name(), patch.clone());
    db.control_tx(async move |conn| {
        let row = locked_row(conn, &slug, expected).await?;
        if let Some(name) = &patch.name {
            diesel::update(tenants::table.filter(tenants::id.eq(row.id)))
                .set((
                    tenants::name.eq(name),
                    tenants::modified_at.eq(diesel::dsl::now),
                    tenants::modified_by.eq(&who),
                    tenants::version.eq(tenants::version + 1),
                ))
                .execute(conn)
                .await?;
        }
        load_tenant(conn, &slug).await?.ok_or(TenancyError::NotFound(slug))
    })
    .await
}

/// A tenant as the request resolver needs it.
#[derive(Debug, Clone, Queryable)]
pub(crate) struct ResolvedRow {
    pub id: uuid::Uuid,
    pub slug: String,
    pub status: TenantStatus,
}

pub(crate) async fn resolve_by_slug(db: &Database, slug: &str) -> Result<Option<ResolvedRow>, DbError> {
    let slug = slug.to_string();
    db.control_tx(async move |conn| {
        Ok(tenants::table
            .filter(tenants::slug.eq(&slug))
            .select((tenants::id, tenants::slug, tenants::status))
            .first(conn)
            .await
            .optional()?)
    })
    .await
}

/// The shop's primary domain, if it has one; on any connection (the table is schema-qualified).
pub(crate) async fn primary_domain(conn: &mut AsyncPgConnection, tenant: uuid::Uuid) -> QueryResult<Option<String>> {
    tenant_domains::table
        .filter(tenant_domains::tenant_id.eq(tenant))
        .filter(tenant_domains::is_primary)
        .select(tenant_domains::domain)
        .first(conn)
        .await
        .optional()
}

/// Makes `domain` (one of the shop's domains) its primary domain, or with `None` leaves it
/// without one (links then use `<slug>.<base domain>`).
pub(crate) async fn set_primary_domain(
    db: &Database,
    slug: &str,
    domain: Option<String>,
    actor: &Actor,
) -> Result<Tenant, TenancyError> {
    let (slug, who) = (slug.to_string(), actor.audit_name());
    db.control_tx(async move |conn| {
        let row = tenant_row(conn, &slug).await?.ok_or_else(|| TenancyError::NotFound(slug.clone()))?;
        diesel::update(tenant_domains::table.filter(tenant_domains::tenant_id.eq(row.id)))
            .set(tenant_domains::is_primary.eq(false))
            .execute(conn)
            .await?;
        if let Some(domain) = domain {
            let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
            let marked = diesel::update(
                tenant_domains::table
                    .filter(tenant_domains::tenant_id.eq(row.id))
                    .filter(tenant_domains::domain.eq(&domain)),
            )
            .set(tenant_domains::is_primary.eq(true))
            .execute(conn)
            .await?;
            if marked == 0 {
                return Err(agora_kernel::CommonError::field(
                    "domain",
                    format!("{domain} is not one of the shop's domains"),
                )
                .into());
            }
        }
        diesel::update(tenants::table.filter(tenants::id.eq(row.id)))
            .set((
                tenants::modified_at.eq(diesel::dsl::now),
                tenants::modified_by.eq(&who),
                tenants::version.eq(tenants::version + 1),
            ))
            .execute(conn)
            .await?;
        load_tenant(conn, &slug).await?.ok_or(TenancyError::NotFound(slug))
    })
    .await
}

pub(crate) async fn resolve_by_domain(db: &Database, domain: &str) -> Result<Option<ResolvedRow>, DbError> {
    let domain = domain.to_string();
    db.control_tx(async move |conn| {
        Ok(tenant_domains::table
            .inner_join(tenants::table)
            .filter(tenant_domains::domain.eq(&domain))
            .select((tenants::id, tenants::slug, tenants::status))
            .first(conn)
            .await
            .optional()?)
    })
    .await
}

#[derive(Queryable)]
struct ShopRow {
    name: String,
    default_currency: String,
    locales: Vec<String>,
    default_locale: String,
    timezone: String,
}

pub(crate) async fn shop_settings(db: &Database, tenant: &TenantContext) -> Result<ShopSettings, TenancyError> {
    let slug = tenant.slug.clone();
    db.tenant_tx(&tenant.schema, async move |conn| {
        let row: ShopRow = shop_settings::table
            .select((
                shop_settings::name,
                shop_settings::default_currency,
                shop_settings::locales,
                shop_settings::default_locale,
                shop_settings::timezone,
            ))
            .first(conn)
            .await
            .optional()?
            .ok_or(TenancyError::Provisioning(slug))?;
        Ok(ShopSettings {
            name: row.name,
            default_currency: row.default_currency,
            locales: row.locales,
            default_locale: row.default_locale,
            timezone: row.timezone,
        })
    })
    .await
}

pub(crate) struct ShopSeed<'a> {
    pub name: &'a str,
    pub default_currency: &'a str,
    pub locales: &'a [String],
}

/// The shop's first settings row; a no-op when it exists (re-provisioning).
pub(crate) async fn seed_shop(conn: &mut AsyncPgConnection, seed: &ShopSeed<'_>, who: &str) -> QueryResult<()> {
    let default_locale = seed.locales.first().cloned().unwrap_or_else(|| "en".into());
    diesel::insert_into(shop_settings::table)
        .values((
            shop_settings::id.eq(agora_kernel::new_id()),
            shop_settings::name.eq(seed.name),
            shop_settings::default_currency.eq(seed.default_currency),
            shop_settings::locales.eq(seed.locales),
            shop_settings::default_locale.eq(default_locale),
            shop_settings::created_by.eq(who),
            shop_settings::modified_by.eq(who),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn record_schema_version(db: &Database, slug: &str, version: i32) -> Result<(), DbError> {
    let slug = slug.to_string();
    db.control_tx(async move |conn| {
        diesel::update(tenants::table.filter(tenants::slug.eq(&slug)))
            .set(tenants::schema_version.eq(version))
            .execute(conn)
            .await?;
        Ok(())
    })
    .await
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = shop_settings)]
struct ShopAdminRow {
    id: uuid::Uuid,
    name: String,
    default_currency: String,
    locales: Vec<String>,
    default_locale: String,
    timezone: String,
    modified_at: DateTime<Utc>,
    modified_by: String,
    version: i64,
}

impl ShopAdminRow {
    fn into_admin(self) -> ShopSettingsAdmin {
        ShopSettingsAdmin {
            settings: ShopSettings {
                name: self.name,
                default_currency: self.default_currency,
                locales: self.locales,
                default_locale: self.default_locale,
                timezone: self.timezone,
            },
            modified_at: self.modified_at,
            modified_by: self.modified_by,
            version: self.version,
        }
    }
}

pub(crate) async fn shop_settings_admin(
    db: &Database,
    tenant: &TenantContext,
) -> Result<ShopSettingsAdmin, TenancyError> {
    let slug = tenant.slug.clone();
    db.tenant_tx(&tenant.schema, async move |conn| {
        let row = shop_settings::table.select(ShopAdminRow::as_select()).first(conn).await.optional()?;
        Ok(row.ok_or(TenancyError::Provisioning(slug))?.into_admin())
    })
    .await
}

pub(crate) async fn update_shop(
    db: &Database,
    bus: &EventBus,
    tenant: &TenantContext,
    patch: ShopSettingsPatch,
    expected: Option<i64>,
    actor: &Actor,
) -> Result<ShopSettingsAdmin, TenancyError> {
    let (slug, who, context) = (tenant.slug.clone(), actor.audit_name(), tenant.clone());
    db.tenant_tx(&tenant.schema, async move |conn| {
        let current = shop_settings::table
            .select(ShopAdminRow::as_select())
            .for_update()
            .first(conn)
            .await
            .optional()?
            .ok_or(TenancyError::Provisioning(slug))?;
        Version::check(expected, current.version)?;
        let next = crate::provisioning::apply_shop_patch(&current_settings(&current), patch)?;
        let row = diesel::update(shop_settings::table.filter(shop_settings::id.eq(current.id)))
            .set((
                shop_settings::name.eq(&next.name),
                shop_settings::default_currency.eq(&next.default_currency),
                shop_settings::locales.eq(&next.locales),
                shop_settings::default_locale.eq(&next.default_locale),
                shop_settings::timezone.eq(&next.timezone),
                shop_settings::modified_at.eq(diesel::dsl::now),
                shop_settings::modified_by.eq(&who),
                shop_settings::version.eq(shop_settings::version + 1),
            ))
            .returning(ShopAdminRow::as_returning())
            .get_result(conn)
            .await?;
        let updated = row.into_admin();
        let event = ShopSettingsUpdated {
            name: updated.settings.name.clone(),
            default_currency: updated.settings.default_currency.clone(),
            locales: updated.settings.locales.clone(),
            default_locale: updated.settings.default_locale.clone(),
            timezone: updated.settings.timezone.clone(),
            version: updated.version,
        };
        bus.publish(conn, Some(&context), &event).await?;
        Ok(updated)
    })
    .await
}

fn current_settings(row: &ShopAdminRow) -> ShopSettings {
    ShopSettings {
        name: row.name.clone(),
        default_currency: row.default_currency.clone(),
        locales: row.locales.clone(),
        default_locale: row.default_locale.clone(),
        timezone: row.timezone.clone(),
    }
}

pub(crate) async fn shop_defaults(conn: &mut AsyncPgConnection) -> QueryResult<(String, Vec<String>, String)> {
    shop_settings::table
        .select((shop_settings::default_currency, shop_settings::locales, shop_settings::default_locale))
        .first(conn)
        .await
}

pub(crate) async fn shop_name(conn: &mut AsyncPgConnection) -> QueryResult<String> {
    shop_settings::table.select(shop_settings::name).first(conn).await
}
