//! The tenant-scoped cache, in both shipped modes.

use agora_kernel::cache::{Cache, Fresh, Lookup};
use agora_kernel::redis::Redis;
use agora_kernel::{TenantContext, TenantSchema};
use bytes::Bytes;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

fn tenant(slug: &str) -> TenantContext {
    TenantContext { id: uuid::Uuid::now_v7(), slug: slug.into(), schema: TenantSchema::for_slug(slug).unwrap() }
}

async fn behaves(cache: Cache) {
    let (a, b) = (tenant("shop-a"), tenant("shop-b"));
    assert_eq!(cache.get_json::<String>(&a, "greeting").await, None);
    cache.set_json(&a, "greeting", &"hello from a".to_string(), Duration::from_secs(60)).await;
    assert_eq!(cache.get_json::<String>(&a, "greeting").await.as_deref(), Some("hello from a"));
    assert_eq!(cache.get_json::<String>(&b, "greeting").await, None, "one shop never reads another's entry");

    cache.set_json(&b, "greeting", &"hello from b".to_string(), Duration::from_secs(60)).await;
    assert_eq!(cache.get_json::<String>(&a, "greeting").await.as_deref(), Some("hello from a"));

    cache.delete(&a, "greeting").await;
    assert_eq!(cache.get_json::<String>(&a, "greeting").await, None);
    assert_eq!(cache.get_json::<String>(&b, "greeting").await.as_deref(), Some("hello from b"));

    cache.set_json(&a, "short", &1u32, Duration::from_secs(1)).await;
    assert_eq!(cache.get_json::<u32>(&a, "short").await, Some(1));
    crate::support::eventually(Duration::from_secs(5), || {
        let (cache, a) = (&cache, &a);
        async move { cache.get_json::<u32>(a, "short").await.is_none() }
    })
    .await;
}

#[tokio::test]
async fn in_process_cache() {
    behaves(Cache::in_process(1000)).await;
}

#[tokio::test]
async fn redis_cache() {
    let namespace = format!("agora_test_{}", uuid::Uuid::now_v7().simple());
    let redis = Redis::connect(&secrecy::SecretString::from(crate::support::redis_url()), &namespace).unwrap();
    redis.ping().await.expect("the test Redis is reachable (scripts/test.sh starts one)");
    behaves(Cache::redis(redis)).await;
}

// ---------------------------------------------------------------------------------------------
// Tagged read-through entries: the storefront's use.
// ---------------------------------------------------------------------------------------------

const TTL: Duration = Duration::from_secs(60);

/// Reads `key` through the cache from `source`, counting the loads.
async fn read(
    cache: &Cache,
    shop: &TenantContext,
    key: &str,
    source: &str,
    tags: &[&str],
    loads: &AtomicU32,
) -> String {
    let body = cache
        .read_through(shop, key, TTL, || async {
            loads.fetch_add(1, Ordering::SeqCst);
            Ok::<_, std::convert::Infallible>(Fresh {
                body: Bytes::from(source.to_string()),
                tags: tags.iter().map(|t| t.to_string()).collect(),
            })
        })
        .await
        .unwrap();
    String::from_utf8(body.to_vec()).unwrap()
}

async fn tagged_suite(cache: Cache) {
    let (a, b) = (tenant("shop-a"), tenant("shop-b"));
    let loads = AtomicU32::new(0);
    let product = ["catalog:product:1", "catalog:listing"];

    // A miss loads, a hit does not.
    assert_eq!(read(&cache, &a, "product:red-shirt", "v1", &product, &loads).await, "v1");
    assert_eq!(read(&cache, &a, "product:red-shirt", "v2", &product, &loads).await, "v1");
    assert_eq!(loads.load(Ordering::SeqCst), 1);

    // The other shop's same key and tag are its own.
    assert_eq!(read(&cache, &b, "product:red-shirt", "b1", &product, &loads).await, "b1");
    cache.invalidate(&b, &["catalog:product:1"]).await;
    assert_eq!(read(&cache, &a, "product:red-shirt", "v2", &product, &loads).await, "v1", "b's write is not a's");

    // Invalidating any of its tags drops it, at once, in the writer's process.
    cache.invalidate(&a, &["catalog:listing"]).await;
    assert_eq!(read(&cache, &a, "product:red-shirt", "v2", &product, &loads).await, "v2");
    assert_eq!(read(&cache, &a, "product:red-shirt", "v3", &product, &loads).await, "v2");
    // Untagged neighbours stay.
    assert_eq!(read(&cache, &a, "page:about", "about", &[], &loads).await, "about");
    cache.invalidate(&a, &["catalog:product:1"]).await;
    assert_eq!(read(&cache, &a, "page:about", "changed", &[], &loads).await, "about");
    assert_eq!(read(&cache, &a, "product:red-shirt", "v3", &product, &loads).await, "v3");

    // The stale-fill race: a reader that read before a write and fills after its invalidation
    // must not put the old data back. Its tag is learned only from what it read (by slug).
    let Lookup::Miss(fill) = cache.lookup(&a, "product:by-slug:blue-shirt").await else { panic!("nothing cached yet") };
    let read_before_the_write = Bytes::from_static(b"old blue");
    cache.invalidate(&a, &["catalog:product:2"]).await;
    cache.fill(fill, &["catalog:product:2".to_string()], read_before_the_write, TTL).await;
    assert!(
        matches!(cache.lookup(&a, "product:by-slug:blue-shirt").await, Lookup::Miss(_)),
        "the old body was not put back"
    );
    // A reader that started after the write fills normally.
    assert_eq!(
        read(&cache, &a, "product:by-slug:blue-shirt", "new blue", &["catalog:product:2"], &loads).await,
        "new blue"
    );
    assert_eq!(
        read(&cache, &a, "product:by-slug:blue-shirt", "newer", &["catalog:product:2"], &loads).await,
        "new blue"
    );
}

#[tokio::test]
async fn in_process_cache_invalidates_by_tag_and_refuses_stale_fills() {
    tagged_suite(Cache::in_process(1000)).await;
}

#[tokio::test]
async fn redis_cache_invalidates_by_tag_and_refuses_stale_fills() {
    let namespace = format!("agora_test_{}", uuid::Uuid::now_v7().simple());
    let redis = Redis::connect(&secrecy::SecretString::from(crate::support::redis_url()), &namespace).unwrap();
    tagged_suite(Cache::redis(redis)).await;
}

#[tokio::test]
async fn a_cache_whose_redis_is_down_passes_through_without_errors() {
    // Nothing listens on port 1.
    let redis = Redis::connect(&secrecy::SecretString::from("redis://127.0.0.1:1".to_string()), "down").unwrap();
    let cache = Cache::redis(redis);
    let shop = tenant("shop-a");
    let loads = AtomicU32::new(0);
    assert_eq!(read(&cache, &shop, "k", "v1", &["t"], &loads).await, "v1");
    assert_eq!(read(&cache, &shop, "k", "v2", &["t"], &loads).await, "v2", "every read goes to the source");
    cache.invalidate(&shop, &["t"]).await;
    cache.set_json(&shop, "plain", &1u32, TTL).await;
    assert_eq!(cache.get_json::<u32>(&shop, "plain").await, None);
    assert_eq!(loads.load(Ordering::SeqCst), 2);
    assert!(!cache.is_subscribed());
}

/// A product row in the shop's schema, read by the "storefront" through the cache.
struct Shelf {
    db: tokio_postgres::Client,
    table: String,
}

impl Shelf {
    async fn new(app: &crate::support::TestApp, shop: &TenantContext) -> Self {
        let db = app.db.connect().await;
        let table = format!("\"{}\".cache_probe", shop.schema.name());
        db.batch_execute(&format!(
            "CREATE TABLE {table} (id int PRIMARY KEY, name text NOT NULL); INSERT INTO {table} VALUES (1, 'Shirt')"
        ))
        .await
        .unwrap();
        Self { db, table }
    }

    async fn name(&self) -> String {
        self.db.query_one(&format!("SELECT name FROM {} WHERE id = 1", self.table), &[]).await.unwrap().get(0)
    }

    /// What a storefront handler does: read through the cache, tagged by the product.
    async fn page(&self, cache: &Cache, shop: &TenantContext) -> String {
        let body = cache
            .read_through(shop, "product:1", TTL, || async {
                Ok::<_, std::convert::Infallible>(Fresh {
                    body: Bytes::from(self.name().await),
                    tags: vec!["catalog:product:1".into()],
                })
            })
            .await
            .unwrap();
        String::from_utf8(body.to_vec()).unwrap()
    }
}

fn lookups(app_metrics: &str, result: &str) -> u64 {
    app_metrics
        .lines()
        .find(|l| l.starts_with("agora_cache_lookups_total{") && l.contains(&format!("result=\"{result}\"")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[tokio::test]
async fn a_write_through_one_replica_becomes_visible_through_another() {
    let app = crate::support::TestApp::spawn_with(|o| o.redis = true).await;
    app.tenant("acme").await;
    let shop = app.context("acme").await;
    let replica = app.replica_state();
    let (writer, reader) = (app.state.cache.clone(), replica.cache.clone());
    let shelf = Shelf::new(&app, &shop).await;

    // Both replicas have read the page; once subscribed, each serves it from its own memory.
    assert_eq!(shelf.page(&writer, &shop).await, "Shirt");
    assert_eq!(shelf.page(&reader, &shop).await, "Shirt");
    crate::support::eventually(Duration::from_secs(5), || {
        let (writer, reader) = (writer.clone(), reader.clone());
        async move { writer.is_subscribed() && reader.is_subscribed() }
    })
    .await;
    assert_eq!(shelf.page(&reader, &shop).await, "Shirt");
    let before = lookups(&replica.metrics.render(&replica.db), "local_hit");
    assert_eq!(shelf.page(&reader, &shop).await, "Shirt");
    assert_eq!(lookups(&replica.metrics.render(&replica.db), "local_hit"), before + 1, "served from local memory");

    // The write: a transaction that rolls back invalidates nothing…
    let rolled_back: Result<(), agora_kernel::DbError> = app
        .state
        .db
        .tenant_tx(&shop.schema, async |conn| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query("UPDATE cache_probe SET name = 'Never' WHERE id = 1").execute(conn).await?;
            Err(agora_kernel::DbError::Pool("the shopper went away".into()))
        })
        .await;
    let rolled_back = writer.after_commit(&shop, rolled_back, |_| vec!["catalog:product:1".into()]).await;
    assert!(rolled_back.is_err());
    assert_eq!(lookups(&app.state.metrics.render(&app.state.db), "miss"), 1, "only the first read missed");
    assert_eq!(shelf.page(&writer, &shop).await, "Shirt");

    // …one that commits invalidates after its commit.
    let committed: Result<(), agora_kernel::DbError> = app
        .state
        .db
        .tenant_tx(&shop.schema, async |conn| {
            use diesel_async::RunQueryDsl;
            diesel::sql_query("UPDATE cache_probe SET name = 'T-shirt' WHERE id = 1").execute(conn).await?;
            Ok(())
        })
        .await;
    let written = std::time::Instant::now();
    writer.after_commit(&shop, committed, |_| vec!["catalog:product:1".into()]).await.unwrap();

    // The writer's own process never serves the old page after its write: no waiting.
    assert_eq!(shelf.page(&writer, &shop).await, "T-shirt");
    // The other replica follows within a few seconds.
    crate::support::eventually(Duration::from_secs(5), || {
        let (shelf, reader, shop) = (&shelf, &reader, &shop);
        async move { shelf.page(reader, shop).await == "T-shirt" }
    })
    .await;
    eprintln!("cross-replica invalidation visible after {:?}", written.elapsed());
    let invalidations = replica.metrics.render(&replica.db);
    assert!(invalidations.contains("agora_cache_lookups_total"), "cache metrics are exported");
}
