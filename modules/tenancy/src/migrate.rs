//! Schema migrations: the control schema, then every shop's schema.
//!
//! Each target is migrated on its own connection holding an advisory lock on that target, so
//! replicas starting together, two `agora migrate` runs and a shop being provisioned during a
//! migration all serialise per schema. refinery applies each migration in its own transaction
//! and records it, so a run killed midway resumes where it stopped.

use crate::store::{self, ShopSeed};
use crate::{provisioning, MigrationReport, TenancyError};
use agora_kernel::events::EventBus;
use agora_kernel::ports::ShopFounder;
use agora_kernel::{Database, MigrationTarget, TenantSchema};
use futures_util::stream::{self, StreamExt};
use std::sync::Arc;

mod control {
    refinery::embed_migrations!("../../migrations/control");
}

mod tenant {
    refinery::embed_migrations!("../../migrations/tenant");
}

/// Told how far `migrate` has got, for a progress bar.
pub trait MigrationProgress: Send + Sync {
    fn started(&self, total: usize);
    fn tenant_done(&self, slug: &str, result: &Result<i32, String>);
}

impl MigrationProgress for () {
    fn started(&self, _: usize) {}
    fn tenant_done(&self, _: &str, _: &Result<i32, String>) {}
}

fn failed(slug: &str, cause: impl std::fmt::Display) -> TenancyError {
    TenancyError::Migration { slug: slug.to_string(), cause: cause.to_string() }
}

pub(crate) async fn migrate_control(db: &Database) -> Result<(), TenancyError> {
    let mut client = db.migration_session(MigrationTarget::Control).await.map_err(|e| failed("agora", e))?;
    let report = control::migrations::runner()
        .set_migration_table_name("agora.refinery_schema_history")
        .run_async(&mut client)
        .await
        .map_err(|e| failed("agora", e))?;
    for m in report.applied_migrations() {
        tracing::info!(migration = %m, "control schema migrated");
    }
    Ok(())
}

/// Latest tenant migration this binary knows.
pub(crate) fn latest_tenant_version() -> i32 {
    tenant::migrations::runner().get_migrations().iter().map(|m| m.version()).max().unwrap_or(0)
}

/// Brings one shop's schema to the latest version; returns that version.
pub(crate) async fn migrate_tenant_schema(
    db: &Database,
    slug: &str,
    schema: &TenantSchema,
) -> Result<i32, TenancyError> {
    let mut client = db.migration_session(MigrationTarget::Tenant(schema)).await.map_err(|e| failed(slug, e))?;
    let report = tenant::migrations::runner().run_async(&mut client).await.map_err(|e| failed(slug, e))?;
    for m in report.applied_migrations() {
        tracing::debug!(tenant = slug, migration = %m, "tenant schema migrated");
    }
    Ok(latest_tenant_version())
}

async fn migrate_one(
    db: &Database,
    bus: &EventBus,
    founder: Option<&Arc<dyn ShopFounder>>,
    slug: &str,
) -> Result<i32, TenancyError> {
    let schema = TenantSchema::for_slug(slug).ok_or_else(|| failed(slug, "invalid slug in tenants table"))?;
    let tenant = db
        .control_tx(async |conn| {
            store::load_tenant(conn, slug).await?.ok_or_else(|| TenancyError::NotFound(slug.to_string()))
        })
        .await?;
    if tenant.status == crate::TenantStatus::Provisioning {
        // Interrupted provisioning: finish it with default settings for what was not recorded.
        let locales = vec!["en".to_string()];
        let seed = ShopSeed { name: &tenant.name, default_currency: "USD", locales: &locales };
        provisioning::finish(db, bus, founder, slug, &schema, &seed, "system:migrate").await?;
        return Ok(latest_tenant_version());
    }
    let version = migrate_tenant_schema(db, slug, &schema).await?;
    if tenant.schema_version != version {
        db.control_tx(async |conn| Ok::<_, TenancyError>(store::record_schema_version(conn, slug, version).await?))
            .await?;
    }
    Ok(version)
}

pub(crate) async fn migrate_all(
    db: &Database,
    bus: &EventBus,
    founder: Option<&Arc<dyn ShopFounder>>,
    concurrency: usize,
    progress: &dyn MigrationProgress,
) -> Result<MigrationReport, TenancyError> {
    let slugs = db.control_tx(async |conn| Ok::<_, TenancyError>(store::all_slugs(conn).await?)).await?;
    progress.started(slugs.len());
    let mut report = MigrationReport { tenants: slugs.len(), ..Default::default() };
    let mut results = stream::iter(slugs)
        .map(|slug| async move {
            let result = migrate_one(db, bus, founder, &slug).await.map_err(|e| e.to_string());
            (slug, result)
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((slug, result)) = results.next().await {
        progress.tenant_done(&slug, &result);
        match result {
            Ok(_) => report.migrated += 1,
            Err(cause) => {
                tracing::error!(tenant = %slug, error = %cause, "tenant migration failed");
                report.failed.push((slug, cause));
            }
        }
    }
    Ok(report)
}
