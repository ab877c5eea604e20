//! The optional Redis connection shared by the cache, the rate limiter and (later) sessions.

use secrecy::{ExposeSecret, SecretString};

pub type RedisPool = deadpool_redis::Pool;

pub fn connect(url: &SecretString) -> Result<RedisPool, String> {
    deadpool_redis::Config::from_url(url.expose_secret())
        .create_pool(Some(deadpool_redis::Runtime::Tokio1))
        .map_err(|e| format!("REDIS_URL is not usable: {e}"))
}

pub async fn ping(pool: &RedisPool) -> Result<(), String> {
    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
    deadpool_redis::redis::cmd("PING")
        .query_async::<String>(&mut conn)
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}
