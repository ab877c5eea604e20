//! Fixed-window rate limits per tenant and per client: Redis when configured (so all replicas
//! share one budget), in-process otherwise. Exceeding a limit is a 429 problem with Retry-After.

use crate::error::{ApiError, ErrorKind};
use crate::http::{ClientKey, TenantContext};
use crate::redis::RedisPool;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Requests allowed per window; 0 switches a limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub client_per_window: u64,
    pub tenant_per_window: u64,
    pub window: Duration,
    pub trust_forwarded_for: bool,
}

#[derive(Clone)]
enum Counter {
    InProcess(moka::sync::Cache<String, Arc<AtomicU64>>),
    Redis(RedisPool),
}

#[derive(Clone)]
pub struct RateLimiter {
    limits: RateLimits,
    counter: Counter,
}

/// A spent budget: how long until the window resets.
#[derive(Debug)]
pub struct Exceeded {
    pub scope: &'static str,
    pub retry_after_secs: u64,
}

impl RateLimiter {
    pub fn in_process(limits: RateLimits) -> Self {
        let counter = moka::sync::Cache::builder()
            .time_to_live(limits.window * 2)
            .max_capacity(1_000_000)
            .build();
        Self {
            limits,
            counter: Counter::InProcess(counter),
        }
    }

    pub fn redis(limits: RateLimits, pool: RedisPool) -> Self {
        Self {
            limits,
            counter: Counter::Redis(pool),
        }
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Counts one request against each applicable budget.
    pub async fn check(
        &self,
        tenant: Option<&TenantContext>,
        client: &ClientKey,
    ) -> Result<(), Exceeded> {
        let window_secs = self.limits.window.as_secs().max(1);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let window_index = now / window_secs;
        let retry_after_secs = window_secs - now % window_secs;
        let tenant_part = tenant
            .map(|t| t.id.to_string())
            .unwrap_or_else(|| "platform".into());
        if self.limits.client_per_window > 0 {
            let key = format!("agora:rl:c:{tenant_part}:{}:{window_index}", client.0);
            if self.increment(&key, window_secs).await > self.limits.client_per_window {
                return Err(Exceeded {
                    scope: "client",
                    retry_after_secs,
                });
            }
        }
        if let (Some(_), true) = (tenant, self.limits.tenant_per_window > 0) {
            let key = format!("agora:rl:t:{tenant_part}:{window_index}");
            if self.increment(&key, window_secs).await > self.limits.tenant_per_window {
                return Err(Exceeded {
                    scope: "tenant",
                    retry_after_secs,
                });
            }
        }
        Ok(())
    }

    async fn increment(&self, key: &str, window_secs: u64) -> u64 {
        match &self.counter {
            Counter::InProcess(cache) => {
                cache
                    .get_with(key.to_string(), || Arc::new(AtomicU64::new(0)))
                    .fetch_add(1, Ordering::Relaxed)
                    + 1
            }
            Counter::Redis(pool) => {
                let result = async {
                    let mut conn = pool.get().await.map_err(|e| e.to_string())?;
                    let (count,): (u64,) = deadpool_redis::redis::pipe()
                        .atomic()
                        .incr(key, 1u64)
                        .expire(key, i64::try_from(window_secs * 2).unwrap_or(i64::MAX))
                        .ignore()
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok::<u64, String>(count)
                }
                .await;
                // A limiter that is down must not take the shop down with it: fail open, loudly.
                result.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "rate limiter unavailable; request allowed");
                    0
                })
            }
        }
    }
}

/// Middleware for `/api/…`: runs after tenant resolution so per-tenant budgets apply.
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    if let (Some(limiter), true) = (limiter, req.path().starts_with("/api/v1/")) {
        let client = ClientKey::of(&req, limiter.limits.trust_forwarded_for);
        let tenant = req.extensions().get::<TenantContext>().cloned();
        if let Err(exceeded) = limiter.check(tenant.as_ref(), &client).await {
            let error = ApiError::new(
                ErrorKind::TooManyRequests {
                    retry_after_secs: exceeded.retry_after_secs,
                },
                "rate-limited",
                format!(
                    "too many requests for this {}; retry after {} s",
                    exceeded.scope, exceeded.retry_after_secs
                ),
            );
            return Ok(req.error_response(error).map_into_boxed_body());
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
