//! Which shop a request is for: `X-Tenant-ID` (API clients) or the Host header (a custom domain,
//! or `<slug>.<base domain>`).
//!
//! Lookups are cached in-process for a few seconds (negative answers too, so random hosts cannot
//! flood the database). Status changes made through this process clear the cache at once; other
//! replicas see them within the TTL.

use crate::store::{self, ResolvedRow};
use crate::{TenancyError, TenantStatus};
use agora_kernel::{Database, TenantContext, TenantSchema};
use std::time::Duration;

const TTL: Duration = Duration::from_secs(5);

pub(crate) struct Resolver {
    cache: moka::future::Cache<String, Option<ResolvedRow>>,
}

enum Lookup<'a> {
    Slug(&'a str),
    Domain(String),
}

impl Resolver {
    pub fn new() -> Self {
        Self { cache: moka::future::Cache::builder().max_capacity(100_000).time_to_live(TTL).build() }
    }

    pub async fn forget_all(&self) {
        self.cache.invalidate_all();
    }

    pub async fn resolve(
        &self,
        db: &Database,
        base_domain: &str,
        host: Option<&str>,
        header: Option<&str>,
    ) -> Result<Option<TenantContext>, TenancyError> {
        let lookup = match header {
            Some(raw) => {
                let slug = raw.trim();
                if TenantSchema::for_slug(slug).is_none() {
                    return Err(TenancyError::BadTenantHeader);
                }
                Lookup::Slug(slug)
            }
            None => match host.map(|h| host_without_port(h).to_ascii_lowercase()) {
                None => return Ok(None),
                Some(host) if host == base_domain || host.is_empty() => return Ok(None),
                Some(host) => match host.strip_suffix(base_domain).and_then(|p| p.strip_suffix('.')) {
                    Some(label) if !label.contains('.') => {
                        if TenantSchema::for_slug(label).is_none() {
                            return Err(TenancyError::NotFound(label.to_string()));
                        }
                        // Borrowing from `host` would not outlive this match; look up owned.
                        return self.finish(db, Lookup::Slug(label)).await;
                    }
                    _ => Lookup::Domain(host),
                },
            },
        };
        self.finish(db, lookup).await
    }

    async fn finish(&self, db: &Database, lookup: Lookup<'_>) -> Result<Option<TenantContext>, TenancyError> {
        let (key, asked) = match &lookup {
            Lookup::Slug(s) => (format!("s:{s}"), s.to_string()),
            Lookup::Domain(d) => (format!("d:{d}"), d.clone()),
        };
        let row = match self.cache.get(&key).await {
            Some(cached) => cached,
            None => {
                let row = db
                    .control_tx(async |conn| {
                        Ok::<_, TenancyError>(match &lookup {
                            Lookup::Slug(s) => store::resolve_by_slug(conn, s).await?,
                            Lookup::Domain(d) => store::resolve_by_domain(conn, d).await?,
                        })
                    })
                    .await?;
                self.cache.insert(key, row.clone()).await;
                row
            }
        };
        let row = row.ok_or(TenancyError::NotFound(asked))?;
        match row.status {
            TenantStatus::Active => {
                let schema =
                    TenantSchema::for_slug(&row.slug).ok_or_else(|| TenancyError::NotFound(row.slug.clone()))?;
                Ok(Some(TenantContext { id: row.id, slug: row.slug, schema }))
            }
            TenantStatus::Suspended => Err(TenancyError::Suspended(row.slug)),
            TenantStatus::Provisioning => Err(TenancyError::Provisioning(row.slug)),
        }
    }
}

fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host; // IPv6 literal: never a shop
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}
