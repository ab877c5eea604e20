//! The platform's rules for a shop's record: opening and closing it, renaming it, choosing the
//! domain its links use. Each takes the caller's control transaction.

use crate::events::TenantStatusChanged;
use crate::store;
use crate::{TenancyError, Tenant, TenantPatch, TenantStatus};
use agora_kernel::events::EventBus;
use agora_kernel::{CommonError, Stamp, Version};
use diesel_async::AsyncPgConnection;

async fn locked(
    conn: &mut AsyncPgConnection,
    slug: &str,
    expected: Option<i64>,
) -> Result<store::TenantRow, TenancyError> {
    let row = store::lock_tenant(conn, slug).await?.ok_or_else(|| TenancyError::NotFound(slug.to_string()))?;
    Version::check(expected, row.version)?;
    Ok(row)
}

async fn reloaded(conn: &mut AsyncPgConnection, slug: &str) -> Result<Tenant, TenancyError> {
    store::load_tenant(conn, slug).await?.ok_or_else(|| TenancyError::NotFound(slug.to_string()))
}

/// Opens (`active`) or closes (`suspended`) a shop already provisioned; a change is announced.
pub(crate) async fn set_status(
    conn: &mut AsyncPgConnection,
    bus: &EventBus,
    slug: &str,
    status: TenantStatus,
    expected: Option<i64>,
    stamp: &Stamp,
) -> Result<Tenant, TenancyError> {
    let row = locked(conn, slug, expected).await?;
    if row.status == TenantStatus::Provisioning {
        return Err(TenancyError::Provisioning(slug.to_string()));
    }
    // Only provisioning itself opens a shop for the first time.
    if status == TenantStatus::Provisioning {
        return Err(CommonError::field("status", "one of active, suspended").into());
    }
    if row.status != status {
        // A platform event: the shop's own events stop while it is suspended.
        let event = TenantStatusChanged { tenant_id: row.id, slug: slug.to_string(), status: status.to_string() };
        bus.publish_platform(conn, &event).await?;
        store::set_tenant_status(conn, row.id, status, stamp).await?;
    }
    reloaded(conn, slug).await
}

pub(crate) async fn update(
    conn: &mut AsyncPgConnection,
    slug: &str,
    patch: &TenantPatch,
    expected: Option<i64>,
    stamp: &Stamp,
) -> Result<Tenant, TenancyError> {
    if let Some(name) = &patch.name {
        crate::provisioning::validate_name(name).map_err(|e| CommonError::Invalid(vec![e]))?;
    }
    let row = locked(conn, slug, expected).await?;
    if let Some(name) = &patch.name {
        store::rename_tenant(conn, row.id, name, stamp).await?;
    }
    reloaded(conn, slug).await
}

/// Makes `domain` (one of the shop's domains) its primary domain, or with `None` leaves it
/// without one (links then use `<slug>.<base domain>`).
pub(crate) async fn set_primary_domain(
    conn: &mut AsyncPgConnection,
    slug: &str,
    domain: Option<String>,
    stamp: &Stamp,
) -> Result<Tenant, TenancyError> {
    let row = store::lock_tenant(conn, slug).await?.ok_or_else(|| TenancyError::NotFound(slug.to_string()))?;
    let domain = domain.map(|d| d.trim().trim_end_matches('.').to_ascii_lowercase());
    let marked = store::mark_primary_domain(conn, row.id, domain.as_deref()).await?;
    if let (Some(domain), 0) = (&domain, marked) {
        return Err(CommonError::field("domain", format!("{domain} is not one of the shop's domains")).into());
    }
    store::touch_tenant(conn, row.id, stamp).await?;
    reloaded(conn, slug).await
}
