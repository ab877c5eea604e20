//! The optional Redis connection shared by the cache, the rate limiter and (later) sessions.
//! Every key starts with a namespace, so several deployments (or test runs) can share a server.

use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

#[derive(Clone)]
pub struct Redis {
    pub pool: deadpool_redis::Pool,
    /// For connections a pool cannot lend: the cache's pub/sub subscription.
    pub client: deadpool_redis::redis::Client,
    namespace: Arc<str>,
}

impl Redis {
    pub fn connect(url: &SecretString, namespace: &str) -> Result<Self, String> {
        let pool = deadpool_redis::Config::from_url(url.expose_secret())
            .create_pool(Some(deadpool_redis::Runtime::Tokio1))
            .map_err(|e| format!("REDIS_URL is not usable: {e}"))?;
        let client = deadpool_redis::redis::Client::open(url.expose_secret())
            .map_err(|e| format!("REDIS_URL is not usable: {e}"))?;
        Ok(Self { pool, client, namespace: namespace.into() })
    }

    /// `<namespace>:<suffix>`.
    pub fn key(&self, suffix: &str) -> String {
        format!("{}:{suffix}", self.namespace)
    }

    pub async fn ping(&self) -> Result<(), String> {
        let mut conn = self.pool.get().await.map_err(|e| e.to_string())?;
        deadpool_redis::redis::cmd("PING").query_async::<String>(&mut conn).await.map(|_| ()).map_err(|e| e.to_string())
    }
}
