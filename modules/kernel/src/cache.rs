//! The storefront read cache: keys and tags that always carry the shop, two shipped modes, and
//! invalidation by tag that reaches every replica.
//!
//! - **In-process** (no Redis configured): entries in this process's memory (moka). A single
//!   node, so invalidating here is invalidating everywhere.
//! - **Redis** (`AGORA_REDIS_URL`): entries in Redis, shared by the replicas, with a copy in each
//!   process's memory in front of it (the hot path stays in memory). A write invalidates its tags
//!   in Redis and publishes the invalidation on a pub/sub channel; every replica drops its local
//!   copies on receipt. A replica that is not subscribed (Redis down, reconnecting) keeps no local
//!   copies at all, so a missed message can never leave one stale.
//!
//! **Freshness rules.** Every tag has a generation: the value of a clock (one per process, or one
//! in Redis shared by the replicas) when it was last invalidated. A reader notes the clock before
//! it reads the database ([`Lookup::Miss`] holds it) and the entry it fills is stamped with that
//! note; an entry is served only while none of its tags was invalidated after its stamp. So a
//! reader that started before a write can never put the old data back after the write's
//! invalidation (the stale-fill race), and a tag learned only from the data it read (a product's
//! id, found by slug) is as safe as one known up front.
//!
//! **After commit.** Invalidate once the write's transaction has committed
//! ([`Cache::after_commit`]): a rolled-back write must not evict, and an invalidation sent before
//! the commit lets a reader refill with the old rows in between. The invalidation is synchronous
//! for the writer's own process: when `after_commit` returns, this process serves no entry the
//! write made stale; other replicas follow within the pub/sub delay.
//!
//! **Degrading.** Redis down or slow (each call has a deadline) means a miss, and a fill that
//! is skipped: the cache passes through to the database and never fails a shopper's request.
//! If an invalidation cannot reach Redis, this process forgets its local copies; the shared
//! entries then live at most their time to live (keep storefront TTLs short).

use crate::http::TenantContext;
use crate::metrics::Metrics;
use crate::redis::Redis;
use bytes::Bytes;
use deadpool_redis::redis::{self, AsyncCommands};
use futures_util::StreamExt;
use prometheus::{IntCounter, IntCounterVec, Opts};
use serde::{de::DeserializeOwned, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

/// The longest an entry may live. Tag generations in Redis outlive it (twice over), so an
/// expired generation can never make an old entry look fresh again.
pub const MAX_TTL: Duration = Duration::from_secs(3600);
/// How long one Redis call may take before the cache gives up and passes through.
const REDIS_DEADLINE: Duration = Duration::from_millis(500);
/// Tags whose generation is remembered before the memory is reset (and local copies dropped).
const MAX_TAGS: usize = 1_000_000;

/// The cache handed to handlers (`web::Data<Cache>`). Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Cache {
    inner: Arc<Inner>,
}

struct Inner {
    /// Entries in this process: the only store in-process, the front copy in Redis mode.
    local: moka::future::Cache<String, Arc<Entry>>,
    /// Tag generations as this process knows them.
    tags: Generations,
    shared: Option<Shared>,
    counters: Counters,
}

/// Redis mode: the shared store, and the subscription that keeps local copies honest.
struct Shared {
    redis: Redis,
    /// Local copies are kept only while subscribed (see the module doc).
    subscribed: AtomicBool,
    /// Bumped at every (re)subscription and reset; a local copy made in an older session is
    /// never served, since invalidations meant for it may have been missed.
    session: AtomicU64,
    listening: AtomicBool,
    /// Dropped with the cache, which stops the subscriber task.
    stop: tokio::sync::watch::Sender<()>,
}

struct Entry {
    /// The clock when the reader that filled it started.
    stamp: u64,
    tags: Vec<String>,
    /// In Redis mode, the subscription session the copy was made in.
    session: u64,
    expires: Instant,
    body: Bytes,
}

/// Generations of `<tenant id>:<tag>`. In-process mode owns the clock; in Redis mode this is the
/// mirror of Redis's generations, fed by the invalidations this process sends and receives.
struct Generations {
    clock: AtomicU64,
    inner: Mutex<GenerationMap>,
}

struct GenerationMap {
    map: HashMap<String, u64>,
    /// The generation of a tag not in the map: the clock when the map was last reset.
    floor: u64,
}

impl Generations {
    fn new() -> Self {
        Self { clock: AtomicU64::new(0), inner: Mutex::new(GenerationMap { map: HashMap::new(), floor: 0 }) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GenerationMap> {
        // A panic while holding the lock leaves a map that is still consistent (single inserts).
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Whether none of `tags` was invalidated after `stamp`.
    fn fresh(&self, tenant: uuid::Uuid, tags: &[String], stamp: u64) -> bool {
        if tags.is_empty() {
            return true;
        }
        let generations = self.lock();
        tags.iter().all(|tag| generations.map.get(&tag_id(tenant, tag)).copied().unwrap_or(generations.floor) <= stamp)
    }

    /// Records that `tag` was invalidated at `generation` (never moving a generation back).
    /// Returns true when the map had to be reset to stay bounded.
    fn record(&self, id: String, generation: u64) -> bool {
        self.clock.fetch_max(generation, Ordering::SeqCst);
        let mut generations = self.lock();
        let reset = generations.map.len() >= MAX_TAGS && !generations.map.contains_key(&id);
        if reset {
            generations.map.clear();
            generations.floor = generation;
        }
        let slot = generations.map.entry(id).or_insert(0);
        *slot = (*slot).max(generation);
        reset
    }

    /// In-process mode: a new generation for `tag`.
    fn bump(&self, id: String) -> bool {
        let generation = self.clock.fetch_add(1, Ordering::SeqCst) + 1;
        self.record(id, generation)
    }

    fn now(&self) -> u64 {
        self.clock.load(Ordering::SeqCst)
    }

    fn clear(&self) {
        let mut generations = self.lock();
        generations.map.clear();
        generations.floor = 0;
    }
}

fn tag_id(tenant: uuid::Uuid, tag: &str) -> String {
    format!("{tenant}:{tag}")
}

#[derive(Clone)]
struct Counters {
    lookups: IntCounterVec,
    invalidations: IntCounter,
    stale_fills: IntCounter,
    unavailable: IntCounter,
}

impl Counters {
    fn new() -> Self {
        // The names and labels are constants: these cannot fail.
        #[allow(clippy::expect_used)]
        let lookups = IntCounterVec::new(
            Opts::new("cache_lookups_total", "Storefront cache lookups by result (local_hit, shared_hit, miss)"),
            &["result"],
        )
        .expect("valid cache metric");
        #[allow(clippy::expect_used)]
        let invalidations =
            IntCounter::new("cache_invalidations_total", "Cache tags invalidated by writes").expect("valid metric");
        #[allow(clippy::expect_used)]
        let stale_fills = IntCounter::new(
            "cache_stale_fills_refused_total",
            "Fills refused because a tag was invalidated while the reader was reading",
        )
        .expect("valid metric");
        #[allow(clippy::expect_used)]
        let unavailable = IntCounter::new(
            "cache_unavailable_total",
            "Cache calls that passed through because Redis was unreachable or slow",
        )
        .expect("valid metric");
        Self { lookups, invalidations, stale_fills, unavailable }
    }
}

/// What [`Cache::lookup`] found.
pub enum Lookup {
    /// A fresh entry.
    Hit(Bytes),
    /// Nothing fresh: read the database, then hand this to [`Cache::fill`].
    Miss(Fill),
}

/// A reader's note of when it started (see the module doc); consumed by [`Cache::fill`].
pub struct Fill {
    tenant: uuid::Uuid,
    key: String,
    /// `None` when the clock could not be read (Redis down): the fill is then skipped.
    stamp: Option<u64>,
}

/// What a read-through loader returns: the body to cache and the tags a write invalidates it by.
pub struct Fresh {
    pub body: Bytes,
    pub tags: Vec<String>,
}

impl Cache {
    /// Single-node mode: entries and generations in this process.
    pub fn in_process(max_entries: u64) -> Self {
        Self::build(max_entries, None)
    }

    /// Replica mode: entries shared in Redis, invalidations over Redis pub/sub.
    pub fn redis(redis: Redis) -> Self {
        let (stop, _) = tokio::sync::watch::channel(());
        let shared = Shared {
            redis,
            subscribed: AtomicBool::new(false),
            session: AtomicU64::new(0),
            listening: AtomicBool::new(false),
            stop,
        };
        Self::build(100_000, Some(shared))
    }

    fn build(max_entries: u64, shared: Option<Shared>) -> Self {
        let local = moka::future::Cache::builder()
            .max_capacity(max_entries)
            // Entries carry their own deadline; this only bounds memory.
            .time_to_live(MAX_TTL)
            .build();
        Self { inner: Arc::new(Inner { local, tags: Generations::new(), shared, counters: Counters::new() }) }
    }

    /// Puts the cache's counters on `/metrics`.
    pub fn register_metrics(&self, metrics: &Metrics) -> Result<(), prometheus::Error> {
        let c = &self.inner.counters;
        metrics.register(Box::new(c.lookups.clone()))?;
        metrics.register(Box::new(c.invalidations.clone()))?;
        metrics.register(Box::new(c.stale_fills.clone()))?;
        metrics.register(Box::new(c.unavailable.clone()))
    }

    /// True in Redis mode.
    pub fn is_shared(&self) -> bool {
        self.inner.shared.is_some()
    }

    /// Redis mode: whether invalidations from other replicas are being received (local copies
    /// are kept only then). Always true in-process.
    pub fn is_subscribed(&self) -> bool {
        self.inner.shared.as_ref().is_none_or(|s| s.subscribed.load(Ordering::SeqCst))
    }

    fn local_key(tenant: uuid::Uuid, key: &str) -> String {
        format!("{tenant}:{key}")
    }

    fn shared_entry_key(redis: &Redis, tenant: uuid::Uuid, key: &str) -> String {
        redis.key(&format!("cache:{tenant}:e:{key}"))
    }

    fn shared_tag_key(redis: &Redis, tenant: uuid::Uuid, tag: &str) -> String {
        redis.key(&format!("cache:{tenant}:t:{tag}"))
    }

    fn clock_key(redis: &Redis) -> String {
        redis.key("cache:clock")
    }

    fn channel(redis: &Redis) -> String {
        redis.key("cache:invalidations")
    }

    /// A fresh entry for `key`, or the note a reader needs to fill it.
    pub async fn lookup(&self, tenant: &TenantContext, key: &str) -> Lookup {
        let inner = &self.inner;
        let local_key = Self::local_key(tenant.id, key);
        let Some(shared) = &inner.shared else {
            let stamp = inner.tags.now();
            if let Some(entry) = inner.local.get(&local_key).await {
                if entry.expires > Instant::now() && inner.tags.fresh(tenant.id, &entry.tags, entry.stamp) {
                    inner.counters.lookups.with_label_values(&["local_hit"]).inc();
                    return Lookup::Hit(entry.body.clone());
                }
            }
            inner.counters.lookups.with_label_values(&["miss"]).inc();
            return Lookup::Miss(Fill { tenant: tenant.id, key: key.to_string(), stamp: Some(stamp) });
        };
        self.ensure_listening(shared);
        let session = shared.session.load(Ordering::SeqCst);
        if shared.subscribed.load(Ordering::SeqCst) {
            if let Some(entry) = inner.local.get(&local_key).await {
                if entry.session == session
                    && entry.expires > Instant::now()
                    && inner.tags.fresh(tenant.id, &entry.tags, entry.stamp)
                {
                    inner.counters.lookups.with_label_values(&["local_hit"]).inc();
                    return Lookup::Hit(entry.body.clone());
                }
            }
        }
        match self.shared_lookup(shared, tenant.id, key, session).await {
            Ok(SharedLookup::Hit(body)) => {
                inner.counters.lookups.with_label_values(&["shared_hit"]).inc();
                Lookup::Hit(body)
            }
            Ok(SharedLookup::Miss(stamp)) => {
                inner.counters.lookups.with_label_values(&["miss"]).inc();
                Lookup::Miss(Fill { tenant: tenant.id, key: key.to_string(), stamp: Some(stamp) })
            }
            Err(e) => {
                self.unavailable(&e);
                inner.counters.lookups.with_label_values(&["miss"]).inc();
                Lookup::Miss(Fill { tenant: tenant.id, key: key.to_string(), stamp: None })
            }
        }
    }

    async fn shared_lookup(
        &self,
        shared: &Shared,
        tenant: uuid::Uuid,
        key: &str,
        session: u64,
    ) -> Result<SharedLookup, String> {
        let redis = &shared.redis;
        let mut conn = with_deadline(async { redis.pool.get().await.map_err(|e| e.to_string()) }).await?;
        let entry_key = Self::shared_entry_key(redis, tenant, key);
        // The entry and the clock in one round trip: a miss needs the clock as its stamp.
        let (raw, clock): (Option<Vec<u8>>, Option<u64>) = with_deadline(async {
            redis::pipe()
                .get(&entry_key)
                .get(Self::clock_key(redis))
                .query_async(&mut conn)
                .await
                .map_err(|e| e.to_string())
        })
        .await?;
        let clock = clock.unwrap_or(0);
        let Some(entry) = raw.as_deref().and_then(decode_entry) else {
            return Ok(SharedLookup::Miss(clock));
        };
        if entry.expires_at_ms <= unix_ms() {
            return Ok(SharedLookup::Miss(clock));
        }
        if !entry.tags.is_empty() {
            let generations = self.shared_generations(&mut conn, redis, tenant, &entry.tags).await?;
            if generations.iter().any(|g| *g > entry.stamp) {
                return Ok(SharedLookup::Miss(clock));
            }
        }
        let body = Bytes::copy_from_slice(entry.body);
        // Checked against Redis just now, in this session: safe to keep a local copy, for what is
        // left of the entry's time to live.
        let left = Duration::from_millis(entry.expires_at_ms.saturating_sub(unix_ms()));
        if !left.is_zero() {
            self.keep_locally(shared, tenant, key, entry.stamp, entry.tags, session, left, body.clone()).await;
        }
        Ok(SharedLookup::Hit(body))
    }

    async fn shared_generations(
        &self,
        conn: &mut deadpool_redis::Connection,
        redis: &Redis,
        tenant: uuid::Uuid,
        tags: &[String],
    ) -> Result<Vec<u64>, String> {
        let keys: Vec<String> = tags.iter().map(|t| Self::shared_tag_key(redis, tenant, t)).collect();
        let mut pipe = redis::pipe();
        for key in &keys {
            pipe.get(key);
        }
        let values: Vec<Option<u64>> =
            with_deadline(async { pipe.query_async(conn).await.map_err(|e| e.to_string()) }).await?;
        Ok(values.into_iter().map(|v| v.unwrap_or(0)).collect())
    }

    #[allow(clippy::too_many_arguments)]
    async fn keep_locally(
        &self,
        shared: &Shared,
        tenant: uuid::Uuid,
        key: &str,
        stamp: u64,
        tags: Vec<String>,
        session: u64,
        ttl: Duration,
        body: Bytes,
    ) {
        if !shared.subscribed.load(Ordering::SeqCst) || shared.session.load(Ordering::SeqCst) != session {
            return;
        }
        let entry = Entry { stamp, tags, session, expires: Instant::now() + ttl, body };
        self.inner.local.insert(Self::local_key(tenant, key), Arc::new(entry)).await;
    }

    /// Stores what a reader read after [`Lookup::Miss`], tagged with what invalidates it. Refused
    /// (silently: it is only a cache) when one of the tags was invalidated since the reader
    /// started, or when the store is down.
    pub async fn fill(&self, fill: Fill, tags: &[String], body: Bytes, ttl: Duration) {
        let Fill { tenant, key, stamp } = fill;
        let Some(stamp) = stamp else {
            return;
        };
        let ttl = ttl.min(MAX_TTL);
        let inner = &self.inner;
        let Some(shared) = &inner.shared else {
            if !inner.tags.fresh(tenant, tags, stamp) {
                inner.counters.stale_fills.inc();
                return;
            }
            let entry = Entry { stamp, tags: tags.to_vec(), session: 0, expires: Instant::now() + ttl, body };
            inner.local.insert(Self::local_key(tenant, &key), Arc::new(entry)).await;
            return;
        };
        let session = shared.session.load(Ordering::SeqCst);
        let result = async {
            let redis = &shared.redis;
            let mut conn = with_deadline(async { redis.pool.get().await.map_err(|e| e.to_string()) }).await?;
            if !tags.is_empty() {
                let generations = self.shared_generations(&mut conn, redis, tenant, tags).await?;
                if generations.iter().any(|g| *g > stamp) {
                    return Ok(false);
                }
            }
            let encoded = encode_entry(stamp, tags, unix_ms().saturating_add(millis(ttl)), &body);
            let entry_key = Self::shared_entry_key(redis, tenant, &key);
            with_deadline(async {
                conn.set_ex::<_, _, ()>(&entry_key, encoded, ttl.as_secs().max(1)).await.map_err(|e| e.to_string())
            })
            .await?;
            Ok::<_, String>(true)
        }
        .await;
        match result {
            Ok(true) => self.keep_locally(shared, tenant, &key, stamp, tags.to_vec(), session, ttl, body).await,
            Ok(false) => inner.counters.stale_fills.inc(),
            Err(e) => self.unavailable(&e),
        }
    }

    /// Read-through: the cached body for `key`, or `load`'s (which is then cached by its tags).
    /// A loader's error is returned as is and nothing is cached.
    pub async fn read_through<E, Fut>(
        &self,
        tenant: &TenantContext,
        key: &str,
        ttl: Duration,
        load: impl FnOnce() -> Fut,
    ) -> Result<Bytes, E>
    where
        Fut: Future<Output = Result<Fresh, E>>,
    {
        match self.lookup(tenant, key).await {
            Lookup::Hit(body) => Ok(body),
            Lookup::Miss(fill) => {
                let fresh = load().await?;
                self.fill(fill, &fresh.tags, fresh.body.clone(), ttl).await;
                Ok(fresh.body)
            }
        }
    }

    /// Drops every entry tagged with one of `tags`, in this process at once and in the other
    /// replicas as the message reaches them. Call it after the write committed (or use
    /// [`Cache::after_commit`]).
    pub async fn invalidate<T: AsRef<str>>(&self, tenant: &TenantContext, tags: &[T]) {
        if tags.is_empty() {
            return;
        }
        let inner = &self.inner;
        inner.counters.invalidations.inc_by(tags.len() as u64);
        let Some(shared) = &inner.shared else {
            let mut reset = false;
            for tag in tags {
                reset |= inner.tags.bump(tag_id(tenant.id, tag.as_ref()));
            }
            if reset {
                inner.local.invalidate_all();
            }
            return;
        };
        self.ensure_listening(shared);
        match self.shared_invalidate(shared, tenant.id, tags).await {
            Ok(generations) => {
                let mut reset = false;
                for (tag, generation) in tags.iter().zip(generations) {
                    reset |= inner.tags.record(tag_id(tenant.id, tag.as_ref()), generation);
                }
                if reset {
                    self.forget_local_copies(shared);
                }
            }
            Err(e) => {
                // Other replicas cannot be told; this one at least serves nothing stale.
                tracing::warn!(error = %e, "cache invalidation could not reach Redis; local copies dropped");
                inner.counters.unavailable.inc();
                self.forget_local_copies(shared);
            }
        }
    }

    async fn shared_invalidate<T: AsRef<str>>(
        &self,
        shared: &Shared,
        tenant: uuid::Uuid,
        tags: &[T],
    ) -> Result<Vec<u64>, String> {
        let redis = &shared.redis;
        let mut conn = with_deadline(async { redis.pool.get().await.map_err(|e| e.to_string()) }).await?;
        // One script per tag keeps the clock, the tag and the message in step (atomic in Redis).
        const SCRIPT: &str = "local g = redis.call('INCR', KEYS[1]) \
             redis.call('SET', KEYS[2], g, 'EX', ARGV[1]) \
             redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' ' .. g .. ' ' .. ARGV[4]) \
             return g";
        let keep = (MAX_TTL * 2).as_secs();
        let mut pipe = redis::pipe();
        for tag in tags {
            let tag = tag.as_ref();
            pipe.cmd("EVAL")
                .arg(SCRIPT)
                .arg(2)
                .arg(Self::clock_key(redis))
                .arg(Self::shared_tag_key(redis, tenant, tag))
                .arg(keep)
                .arg(Self::channel(redis))
                .arg(tenant.to_string())
                .arg(tag);
        }
        with_deadline(async { pipe.query_async(&mut conn).await.map_err(|e| e.to_string()) }).await
    }

    /// Runs the invalidation only when `result` is a success (the write committed), then hands
    /// `result` back: `cache.after_commit(&tenant, db.in_tenant(…).await, |p| vec![tag(p)]).await?`.
    pub async fn after_commit<R, E>(
        &self,
        tenant: &TenantContext,
        result: Result<R, E>,
        tags: impl FnOnce(&R) -> Vec<String>,
    ) -> Result<R, E> {
        if let Ok(value) = &result {
            self.invalidate(tenant, &tags(value)[..]).await;
        }
        result
    }

    fn forget_local_copies(&self, shared: &Shared) {
        shared.session.fetch_add(1, Ordering::SeqCst);
        self.inner.tags.clear();
        self.inner.local.invalidate_all();
    }

    fn unavailable(&self, error: &str) {
        self.inner.counters.unavailable.inc();
        tracing::warn!(error, "cache unavailable; passing through");
    }

    /// Starts the subscriber on first use (the cache may be built before the runtime runs).
    fn ensure_listening(&self, shared: &Shared) {
        if shared.listening.swap(true, Ordering::SeqCst) {
            return;
        }
        let weak = Arc::downgrade(&self.inner);
        let client = shared.redis.client.clone();
        let channel = Self::channel(&shared.redis);
        let stop = shared.stop.subscribe();
        tokio::spawn(listen(weak, client, channel, stop));
    }

    // -- Plain keyed entries (no tags): a value kept for its time to live, deleted by key. In Redis
    // mode these live only in Redis (no local copy, since a delete is not broadcast).

    pub async fn get_bytes(&self, tenant: &TenantContext, key: &str) -> Option<Bytes> {
        let inner = &self.inner;
        let Some(shared) = &inner.shared else {
            return match self.lookup(tenant, key).await {
                Lookup::Hit(body) => Some(body),
                Lookup::Miss(_) => None,
            };
        };
        let redis = &shared.redis;
        let result = async {
            let mut conn = with_deadline(async { redis.pool.get().await.map_err(|e| e.to_string()) }).await?;
            let raw: Option<Vec<u8>> = with_deadline(async {
                conn.get(Self::shared_entry_key(redis, tenant.id, key)).await.map_err(|e| e.to_string())
            })
            .await?;
            Ok::<_, String>(raw.as_deref().and_then(decode_entry).map(|e| Bytes::copy_from_slice(e.body)))
        }
        .await;
        result.unwrap_or_else(|e| {
            self.unavailable(&e);
            None
        })
    }

    /// Stores a value; a cache that is down is logged and otherwise ignored (it is only a cache).
    pub async fn set_bytes(&self, tenant: &TenantContext, key: &str, value: Bytes, ttl: Duration) {
        let ttl = ttl.min(MAX_TTL);
        let inner = &self.inner;
        let Some(shared) = &inner.shared else {
            let entry = Entry { stamp: 0, tags: Vec::new(), session: 0, expires: Instant::now() + ttl, body: value };
            inner.local.insert(Self::local_key(tenant.id, key), Arc::new(entry)).await;
            return;
        };
        let redis = &shared.redis;
        let result = async {
            let mut conn = with_deadline(async { redis.pool.get().await.map_err(|e| e.to_string()) }).await?;
            let encoded = encode_entry(0, &[], unix_ms().saturating_add(millis(ttl)), &value);
            with_deadline(async {
                conn.set_ex::<_, _, ()>(Self::shared_entry_key(redis, tenant.id, key), encoded, ttl.as_secs().max(1))
                    .await
                    .map_err(|e| e.to_string())
            })
            .await
        }
        .await;
        if let Err(e) = result {
            self.unavailable(&e);
        }
    }

    pub async fn delete(&self, tenant: &TenantContext, key: &str) {
        let inner = &self.inner;
        inner.local.invalidate(&Self::local_key(tenant.id, key)).await;
        let Some(shared) = &inner.shared else {
            return;
        };
        let redis = &shared.redis;
        let result = async {
            let mut conn = with_deadline(async { redis.pool.get().await.map_err(|e| e.to_string()) }).await?;
            with_deadline(async {
                conn.del::<_, ()>(Self::shared_entry_key(redis, tenant.id, key)).await.map_err(|e| e.to_string())
            })
            .await
        }
        .await;
        if let Err(e) = result {
            self.unavailable(&e);
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

enum SharedLookup {
    Hit(Bytes),
    Miss(u64),
}

async fn with_deadline<T>(call: impl Future<Output = Result<T, String>>) -> Result<T, String> {
    tokio::time::timeout(REDIS_DEADLINE, call).await.map_err(|_| "Redis did not answer in time".to_string())?
}

/// The subscriber: applies other replicas' invalidations to this process's generations. Each
/// (re)subscription starts a new session with no local copies, since messages may have been
/// missed while it was down.
async fn listen(
    cache: Weak<Inner>,
    client: redis::Client,
    channel: String,
    mut stop: tokio::sync::watch::Receiver<()>,
) {
    let mut retry = Duration::from_millis(100);
    loop {
        let subscribed = async {
            let mut pubsub = client.get_async_pubsub().await?;
            pubsub.subscribe(&channel).await?;
            Ok::<_, redis::RedisError>(pubsub)
        };
        let pubsub = tokio::select! {
            result = with_deadline(async { subscribed.await.map_err(|e| e.to_string()) }) => result,
            _ = stop.changed() => return,
        };
        match pubsub {
            Ok(pubsub) => {
                retry = Duration::from_millis(100);
                {
                    let Some(inner) = cache.upgrade() else { return };
                    if let Some(shared) = &inner.shared {
                        shared.session.fetch_add(1, Ordering::SeqCst);
                        inner.tags.clear();
                        inner.local.invalidate_all();
                        shared.subscribed.store(true, Ordering::SeqCst);
                    }
                }
                let mut messages = pubsub.into_on_message();
                loop {
                    let message = tokio::select! {
                        message = messages.next() => message,
                        _ = stop.changed() => return,
                    };
                    let Some(message) = message else { break };
                    let Some(inner) = cache.upgrade() else { return };
                    let Ok(payload) = message.get_payload::<String>() else { continue };
                    if let Some((id, generation)) = parse_invalidation(&payload) {
                        if inner.tags.record(id, generation) {
                            if let Some(shared) = &inner.shared {
                                shared.session.fetch_add(1, Ordering::SeqCst);
                            }
                            inner.tags.clear();
                            inner.local.invalidate_all();
                        }
                    }
                }
                tracing::warn!("cache invalidation subscription lost; local copies off until it is back");
            }
            Err(e) => tracing::warn!(error = %e, "cache invalidation subscription failed"),
        }
        if let Some(inner) = cache.upgrade() {
            if let Some(shared) = &inner.shared {
                shared.subscribed.store(false, Ordering::SeqCst);
                shared.session.fetch_add(1, Ordering::SeqCst);
            }
        }
        // Reconnecting, not waiting for a condition: back off so a Redis outage is not a busy loop.
        tokio::select! {
            _ = tokio::time::sleep(retry) => {}
            _ = stop.changed() => return,
        }
        retry = (retry * 2).min(Duration::from_secs(5));
    }
}

/// `<tenant id> <generation> <tag>` → (`<tenant id>:<tag>`, generation).
fn parse_invalidation(payload: &str) -> Option<(String, u64)> {
    let mut parts = payload.splitn(3, ' ');
    let tenant: uuid::Uuid = parts.next()?.parse().ok()?;
    let generation: u64 = parts.next()?.parse().ok()?;
    let tag = parts.next()?;
    Some((tag_id(tenant, tag), generation))
}

fn unix_ms() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    millis(since)
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

struct DecodedEntry<'a> {
    stamp: u64,
    tags: Vec<String>,
    expires_at_ms: u64,
    body: &'a [u8],
}

/// `stamp u64 | expiry unix ms u64 | tag count u16 | (len u16, tag)* | body`, big-endian.
fn encode_entry(stamp: u64, tags: &[String], expires_at_ms: u64, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(18 + tags.iter().map(|t| t.len() + 2).sum::<usize>() + body.len());
    out.extend_from_slice(&stamp.to_be_bytes());
    out.extend_from_slice(&expires_at_ms.to_be_bytes());
    let tags: Vec<&String> = tags.iter().filter(|t| t.len() <= usize::from(u16::MAX)).collect();
    out.extend_from_slice(&u16::try_from(tags.len()).unwrap_or(u16::MAX).to_be_bytes());
    for tag in tags.iter().take(usize::from(u16::MAX)) {
        out.extend_from_slice(&u16::try_from(tag.len()).unwrap_or(u16::MAX).to_be_bytes());
        out.extend_from_slice(tag.as_bytes());
    }
    out.extend_from_slice(body);
    out
}

/// The entry, or `None` for bytes that are not one (a foreign value under our key: a miss).
fn decode_entry(raw: &[u8]) -> Option<DecodedEntry<'_>> {
    let (stamp, rest) = raw.split_first_chunk::<8>()?;
    let (expires, rest) = rest.split_first_chunk::<8>()?;
    let (count, mut rest) = rest.split_first_chunk::<2>()?;
    let mut tags = Vec::with_capacity(usize::from(u16::from_be_bytes(*count)));
    for _ in 0..u16::from_be_bytes(*count) {
        let (len, after) = rest.split_first_chunk::<2>()?;
        let len = usize::from(u16::from_be_bytes(*len));
        let tag = after.get(..len)?;
        tags.push(String::from_utf8(tag.to_vec()).ok()?);
        rest = after.get(len..)?;
    }
    Some(DecodedEntry {
        stamp: u64::from_be_bytes(*stamp),
        tags,
        expires_at_ms: u64::from_be_bytes(*expires),
        body: rest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_junk_is_a_miss() {
        let tags = vec!["catalog:listing".to_string(), "catalog:product:1".to_string()];
        let raw = encode_entry(42, &tags, 1_700_000_000_000, b"{\"a\":1}");
        let entry = decode_entry(&raw).unwrap();
        assert_eq!(entry.stamp, 42);
        assert_eq!(entry.tags, tags);
        assert_eq!(entry.expires_at_ms, 1_700_000_000_000);
        assert_eq!(entry.body, b"{\"a\":1}");
        assert!(decode_entry(b"short").is_none());
        assert!(decode_entry(&raw[..20]).is_none(), "a tag cut short is not an entry");
    }

    #[test]
    fn invalidation_messages_parse_strictly() {
        let tenant = uuid::Uuid::now_v7();
        assert_eq!(
            parse_invalidation(&format!("{tenant} 7 catalog:product:a b")),
            Some((format!("{tenant}:catalog:product:a b"), 7))
        );
        assert_eq!(parse_invalidation("not-a-uuid 7 tag"), None);
        assert_eq!(parse_invalidation(&format!("{tenant} x tag")), None);
        assert_eq!(parse_invalidation(&format!("{tenant} 7")), None);
    }

    #[test]
    fn a_reset_generation_map_never_makes_an_old_entry_fresh() {
        let generations = Generations::new();
        let tenant = uuid::Uuid::now_v7();
        let tags = vec!["t".to_string()];
        let stamp = generations.now();
        generations.bump(tag_id(tenant, "t"));
        assert!(!generations.fresh(tenant, &tags, stamp));
        // Forgetting the map (it grew too large) keeps the floor at the clock.
        {
            let mut map = generations.lock();
            map.map.clear();
            map.floor = generations.now();
        }
        assert!(!generations.fresh(tenant, &tags, stamp));
        assert!(generations.fresh(tenant, &tags, generations.now()));
    }
}
