//! Fixed-window rate limits (a window opens with a key's first request) per tenant and per client: Redis when configured (so all replicas
//! share one budget), in-process otherwise. Exceeding a limit is a 429 problem with Retry-After.

use crate::error::{ApiError, ErrorKind};
use crate::http::{ClientKey, TenantContext};
use crate::redis::Redis;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Requests allowed per window; 0 switches a limit off.
#[derive(Debug, Clone, Copy)]
pub struct RateLimits {
    pub client_per_window: u64,
    pub tenant_per_window: u64,
    pub window: Duration,
}

#[derive(Clone)]
enum Counter {
    InProcess(moka::sync::Cache<String, Arc<Mutex<(Instant, u64)>>>),
    Redis(Redis),
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
        let counter = moka::sync::Cache::builder().time_to_live(limits.window * 2).max_capacity(1_000_000).build();
        Self { limits, counter: Counter::InProcess(counter) }
    }

    pub fn redis(limits: RateLimits, redis: Redis) -> Self {
        Self { limits, counter: Counter::Redis(redis) }
    }

    pub fn limits(&self) -> RateLimits {
        self.limits
    }

    /// Counts one request against each applicable budget.
    pub async fn check(&self, tenant: Option<&TenantContext>, client: &ClientKey) -> Result<(), Exceeded> {
        let tenant_part = tenant.map(|t| t.id.to_string()).unwrap_or_else(|| "platform".into());
        if self.limits.client_per_window > 0 {
            let key = format!("rl:c:{tenant_part}:{}", client.0);
            let (count, resets_in) = self.increment(&key).await;
            if count > self.limits.client_per_window {
                return Err(Exceeded { scope: "client", retry_after_secs: resets_in });
            }
        }
        if let (Some(_), true) = (tenant, self.limits.tenant_per_window > 0) {
            let key = format!("rl:t:{tenant_part}");
            let (count, resets_in) = self.increment(&key).await;
            if count > self.limits.tenant_per_window {
                return Err(Exceeded { scope: "tenant", retry_after_secs: resets_in });
            }
        }
        Ok(())
    }

    /// Counts one use of a budget of its own (`name`, e.g. `oidc-start`) for `key` (a client, a
    /// shop and client, …): at most `limit` per window. For operations that need a tighter limit
    /// than the general one, such as those that make the server call out.
    pub async fn check_named(&self, name: &str, key: &str, limit: u64) -> Result<(), Exceeded> {
        let (count, resets_in) = self.increment(&format!("rl:n:{name}:{key}")).await;
        if count > limit {
            return Err(Exceeded { scope: "operation", retry_after_secs: resets_in });
        }
        Ok(())
    }

    /// Counts a hit in the window that began with the key's first hit; returns the count so far
    /// and the seconds until that window ends.
    async fn increment(&self, key: &str) -> (u64, u64) {
        let window = self.limits.window;
        match &self.counter {
            Counter::InProcess(cache) => {
                let slot = cache.get_with(key.to_string(), || Arc::new(Mutex::new((Instant::now(), 0))));
                let mut slot = slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
                if slot.0.elapsed() >= window {
                    *slot = (Instant::now(), 0);
                }
                slot.1 += 1;
                let remaining = window.saturating_sub(slot.0.elapsed());
                (slot.1, remaining.as_secs_f64().ceil() as u64)
            }
            Counter::Redis(redis) => {
                let key = redis.key(key);
                let result = async {
                    let mut conn = redis.pool.get().await.map_err(|e| e.to_string())?;
                    // SET NX starts the window with its expiry; INCR keeps that expiry.
                    let (count, ttl): (u64, i64) = deadpool_redis::redis::pipe()
                        .atomic()
                        .cmd("SET")
                        .arg(&key)
                        .arg(0)
                        .arg("EX")
                        .arg(window.as_secs().max(1))
                        .arg("NX")
                        .ignore()
                        .incr(&key, 1u64)
                        .ttl(&key)
                        .query_async(&mut conn)
                        .await
                        .map_err(|e| e.to_string())?;
                    Ok::<(u64, u64), String>((count, u64::try_from(ttl).unwrap_or(1)))
                }
                .await;
                // A limiter that is down must not take the shop down with it: fail open, loudly.
                result.unwrap_or_else(|e| {
                    tracing::warn!(error = %e, "rate limiter unavailable; request allowed");
                    (0, 0)
                })
            }
        }
    }
}

fn too_many(exceeded: &Exceeded) -> ApiError {
    ApiError::new(
        ErrorKind::TooManyRequests { retry_after_secs: exceeded.retry_after_secs },
        "rate-limited",
        format!("too many requests for this {}; retry after {} s", exceeded.scope, exceeded.retry_after_secs),
    )
}

/// Whether a request is under `/api/v1/`, judged on the path routing matches (an encoded
/// `/api/%761/…` reaches the same routes, so it meets the same limits).
fn limited_path(req: &ServiceRequest) -> bool {
    crate::areas::is_api(crate::http::routing_path(req))
}

/// For the authenticating middleware: a request whose credentials were refused still spends its
/// client address's budget (else guessing tokens would be free); the 429 when it is spent.
pub async fn count_failed_authentication(req: &ServiceRequest) -> Option<ApiError> {
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned()?;
    if !limited_path(req) {
        return None;
    }
    let client = ClientKey::address(req.request());
    let tenant = req.extensions().get::<TenantContext>().cloned();
    limiter.check(tenant.as_ref(), &client).await.err().map(|e| too_many(&e))
}

/// Middleware for `/api/…`: runs after tenant resolution, so per-tenant budgets apply, and after
/// authentication, so a verified caller has a budget of their own (anonymous callers share their
/// address's).
pub async fn enforce(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let limiter = req.app_data::<web::Data<RateLimiter>>().cloned();
    if let (Some(limiter), true) = (limiter, limited_path(&req)) {
        let client = ClientKey::of(&req);
        let tenant = req.extensions().get::<TenantContext>().cloned();
        if let Err(exceeded) = limiter.check(tenant.as_ref(), &client).await {
            return Ok(req.error_response(too_many(&exceeded)).map_into_boxed_body());
        }
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}
