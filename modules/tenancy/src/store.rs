//! SQL for tenants, their domains and shop settings: takes a connection, returns rows; the rules
//! (versions, validation, events) are in `tenants.rs` and `shop.rs`.

use crate::schema::{shop_settings, tenant_domains, tenants};
use crate::{ShopSettings, ShopSettingsAdmin, Tenant, TenantStatus};
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::ports::ShopOwner;
use agora_kernel::Stamp;
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

pub(crate) async fn list_tenants(
    conn: &mut AsyncPgConnection,
    page: &Keyset<DateTime<Utc>>,
    status: Option<&str>,
) -> QueryResult<Page<Tenant>> {
    let mut query = tenants::table.select(TenantRow::as_select()).limit(page.fetch_limit()).into_boxed();
    if let Some(status) = status {
        query = query.filter(tenants::status.eq(status.to_string()));
    }
    let rows = page.apply(query, tenants::created_at, tenants::id).load(conn).await?;
    let tenants = with_domains(conn, rows).await?;
    Ok(page.page(tenants, |t| (t.created_at, t.id)))
}

/// Slugs of every tenant, oldest first, for `migrate`.
pub(crate) async fn all_slugs(conn: &mut AsyncPgConnection) -> QueryResult<Vec<String>> {
    tenants::table.order((tenants::created_at, tenants::id)).select(tenants::slug).load(conn).await
}

/// Ids and slugs of the tenants in `status`, oldest first.
pub(crate) async fn slugs_with_status(
    conn: &mut AsyncPgConnection,
    status: &str,
) -> QueryResult<Vec<(uuid::Uuid, String)>> {
    tenants::table
        .filter(tenants::status.eq(status.to_string()))
        .order((tenants::created_at, tenants::id))
        .select((tenants::id, tenants::slug))
        .load(conn)
        .await
}

/// The tenant row, locked for the rest of the transaction.
pub(crate) async fn lock_tenant(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<TenantRow>> {
    tenants::table
        .filter(tenants::slug.eq(slug))
        .select(TenantRow::as_select())
        .for_update()
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn set_tenant_status(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    status: TenantStatus,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::update(tenants::table.filter(tenants::id.eq(id)))
        .set((tenants::status.eq(status), agora_kernel::stamp_change!(stamp, tenants)))
        .execute(conn)
        .await?;
    Ok(())
}

pub(crate) async fn rename_tenant(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    name: &str,
    stamp: &Stamp,
) -> QueryResult<()> {
    diesel::update(tenants::table.filter(tenants::id.eq(id)))
        .set((tenants::name.eq(name), agora_kernel::stamp_change!(stamp, tenants)))
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a change to the tenant that lives in another table (its domains).
pub(crate) async fn touch_tenant(conn: &mut AsyncPgConnection, id: uuid::Uuid, stamp: &Stamp) -> QueryResult<()> {
    diesel::update(tenants::table.filter(tenants::id.eq(id)))
        .set(agora_kernel::stamp_change!(stamp, tenants))
        .execute(conn)
        .await?;
    Ok(())
}

/// Makes `domain` the tenant's only primary domain (`None`: none); how many rows took it.
pub(crate) async fn mark_primary_domain(
    conn: &mut AsyncPgConnection,
    tenant: uuid::Uuid,
    domain: Option<&str>,
) -> QueryResult<usize> {
    diesel::update(tenant_domains::table.filter(tenant_domains::tenant_id.eq(tenant)))
        .set(tenant_domains::is_primary.eq(false))
        .execute(conn)
        .await?;
    let Some(domain) = domain else { return Ok(0) };
    diesel::update(
        tenant_domains::table.filter(tenant_domains::tenant_id.eq(tenant)).filter(tenant_domains::domain.eq(domain)),
    )
    .set(tenant_domains::is_primary.eq(true))
    .execute(conn)
    .await
}

/// A tenant as the request resolver needs it.
#[derive(Debug, Clone, Queryable)]
pub(crate) struct ResolvedRow {
    pub id: uuid::Uuid,
    pub slug: String,
    pub status: TenantStatus,
}

pub(crate) async fn resolve_by_slug(conn: &mut AsyncPgConnection, slug: &str) -> QueryResult<Option<ResolvedRow>> {
    tenants::table
        .filter(tenants::slug.eq(slug))
        .select((tenants::id, tenants::slug, tenants::status))
        .first(conn)
        .await
        .optional()
}

pub(crate) async fn resolve_by_domain(conn: &mut AsyncPgConnection, domain: &str) -> QueryResult<Option<ResolvedRow>> {
    tenant_domains::table
        .inner_join(tenants::table)
        .filter(tenant_domains::domain.eq(domain))
        .select((tenants::id, tenants::slug, tenants::status))
        .first(conn)
        .await
        .optional()
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

pub(crate) async fn shop_settings(conn: &mut AsyncPgConnection) -> QueryResult<Option<ShopSettings>> {
    Ok(shop_settings_admin(conn, false).await?.map(|row| row.into_admin().settings))
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

pub(crate) async fn record_schema_version(conn: &mut AsyncPgConnection, slug: &str, version: i32) -> QueryResult<()> {
    diesel::update(tenants::table.filter(tenants::slug.eq(slug)))
        .set(tenants::schema_version.eq(version))
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = shop_settings)]
pub(crate) struct ShopAdminRow {
    pub(crate) id: uuid::Uuid,
    name: String,
    default_currency: String,
    locales: Vec<String>,
    default_locale: String,
    timezone: String,
    modified_at: DateTime<Utc>,
    modified_by: String,
    pub(crate) version: i64,
    logo_id: Option<uuid::Uuid>,
    pub(crate) logo_key: Option<String>,
    brand_colour: Option<String>,
    country: Option<String>,
}

impl ShopAdminRow {
    pub(crate) fn into_admin(self) -> ShopSettingsAdmin {
        ShopSettingsAdmin {
            settings: ShopSettings {
                name: self.name,
                default_currency: self.default_currency,
                locales: self.locales,
                default_locale: self.default_locale,
                timezone: self.timezone,
                logo_url: self.logo_id.map(crate::logo::logo_url),
                brand_colour: self.brand_colour,
                country: self.country,
            },
            modified_at: self.modified_at,
            modified_by: self.modified_by,
            version: self.version,
        }
    }
}

/// The shop's settings with their audit fields; `lock` holds the row for an update.
pub(crate) async fn shop_settings_admin(conn: &mut AsyncPgConnection, lock: bool) -> QueryResult<Option<ShopAdminRow>> {
    let query = shop_settings::table.select(ShopAdminRow::as_select());
    if lock {
        query.for_update().first(conn).await.optional()
    } else {
        query.first(conn).await.optional()
    }
}

pub(crate) async fn update_shop_settings(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    next: &ShopSettings,
    stamp: &Stamp,
) -> QueryResult<ShopAdminRow> {
    diesel::update(shop_settings::table.filter(shop_settings::id.eq(id)))
        .set((
            shop_settings::name.eq(&next.name),
            shop_settings::default_currency.eq(&next.default_currency),
            shop_settings::locales.eq(&next.locales),
            shop_settings::default_locale.eq(&next.default_locale),
            shop_settings::timezone.eq(&next.timezone),
            shop_settings::brand_colour.eq(&next.brand_colour),
            shop_settings::country.eq(&next.country),
            agora_kernel::stamp_change!(stamp, shop_settings),
        ))
        .returning(ShopAdminRow::as_returning())
        .get_result(conn)
        .await
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

/// Names the shop's logo file (`Some((id, key, content type))`) or none.
pub(crate) async fn set_logo(
    conn: &mut AsyncPgConnection,
    id: uuid::Uuid,
    logo: Option<(uuid::Uuid, &str, &str)>,
    stamp: &Stamp,
) -> QueryResult<ShopAdminRow> {
    diesel::update(shop_settings::table.filter(shop_settings::id.eq(id)))
        .set((
            shop_settings::logo_id.eq(logo.map(|(id, _, _)| id)),
            shop_settings::logo_key.eq(logo.map(|(_, key, _)| key)),
            shop_settings::logo_content_type.eq(logo.map(|(_, _, content_type)| content_type)),
            agora_kernel::stamp_change!(stamp, shop_settings),
        ))
        .returning(ShopAdminRow::as_returning())
        .get_result(conn)
        .await
}

/// The shop's logo: its id, file key and content type, if it has one.
pub(crate) async fn logo(conn: &mut AsyncPgConnection) -> QueryResult<Option<(uuid::Uuid, String, String)>> {
    let row: Option<(Option<uuid::Uuid>, Option<String>, Option<String>)> = shop_settings::table
        .select((shop_settings::logo_id, shop_settings::logo_key, shop_settings::logo_content_type))
        .first(conn)
        .await
        .optional()?;
    Ok(row.and_then(|(id, key, content_type)| Some((id?, key?, content_type?))))
}
