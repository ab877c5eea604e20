//! A cache whose keys always carry the tenant: Redis when configured (shared by replicas),
//! in-process otherwise (single node). Both are shipped modes, and both are tested.

use crate::http::TenantContext;
use crate::redis::Redis;
use deadpool_redis::redis::AsyncCommands;
use serde::{de::DeserializeOwned, Serialize};
use std::time::{Duration, Instant};

#[derive(Clone)]
pub enum Cache {
    InProcess(moka::future::Cache<String, (Instant, bytes::Bytes)>),
    Redis(Redis),
}

impl Cache {
    pub fn in_process(max_entries: u64) -> Self {
        // Entries carry their own deadline; the cache-wide TTL only bounds memory.
        Cache::InProcess(
            moka::future::Cache::builder().max_capacity(max_entries).time_to_live(Duration::from_secs(3600)).build(),
        )
    }

    pub fn redis(redis: Redis) -> Self {
        Cache::Redis(redis)
    }

    /// Every key names its tenant: one shop can never read another's entry.
    fn key(&self, tenant: &TenantContext, key: &str) -> String {
        let local = format!("cache:{}:{key}", tenant.id);
        match self {
            Cache::InProcess(_) => local,
            Cache::Redis(redis) => redis.key(&local),
        }
    }

    pub async fn get_bytes(&self, tenant: &TenantContext, key: &str) -> Option<bytes::Bytes> {
        let key = self.key(tenant, key);
        match self {
            Cache::InProcess(cache) => match cache.get(&key).await {
                Some((deadline, value)) if deadline > Instant::now() => Some(value),
                Some(_) => {
                    cache.invalidate(&key).await;
                    None
                }
                None => None,
            },
            Cache::Redis(Redis { pool, .. }) => {
                let mut conn = pool.get().await.map_err(|e| tracing::warn!(error = %e, "cache unavailable")).ok()?;
                let value: Option<Vec<u8>> =
                    conn.get(&key).await.map_err(|e| tracing::warn!(error = %e, "cache read failed")).ok()?;
                value.map(bytes::Bytes::from)
            }
        }
    }

    /// Stores a value; a cache that is down is logged and otherwise ignored (it is only a cache).
    pub async fn set_bytes(&self, tenant: &TenantContext, key: &str, value: bytes::Bytes, ttl: Duration) {
        let key = self.key(tenant, key);
        match self {
            Cache::InProcess(cache) => cache.insert(key, (Instant::now() + ttl, value)).await,
            Cache::Redis(Redis { pool, .. }) => {
                let Ok(mut conn) = pool.get().await else {
                    return;
                };
                let result: Result<(), _> = conn.set_ex(&key, value.as_ref(), ttl.as_secs().max(1)).await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "cache write failed");
                }
            }
        }
    }

    pub async fn delete(&self, tenant: &TenantContext, key: &str) {
        let key = self.key(tenant, key);
        match self {
            Cache::InProcess(cache) => cache.invalidate(&key).await,
            Cache::Redis(Redis { pool, .. }) => {
                let Ok(mut conn) = pool.get().await else {
                    return;
                };
                let result: Result<(), _> = conn.del(&key).await;
                if let Err(e) = result {
                    tracing::warn!(error = %e, "cache delete failed");
                }
            }
        }
    }

    pub async fn get_json<T: DeserializeOwned>(&self, tenant: &TenantContext, key: &str) -> Option<T> {
        serde_json::from_slice(&self.get_bytes(tenant, key).await?).ok()
    }

    pub async fn set_json<T: Serialize>(&self, tenant: &TenantContext, key: &str, value: &T, ttl: Duration) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.set_bytes(tenant, key, bytes.into(), ttl).await;
        }
    }
}
