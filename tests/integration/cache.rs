//! The tenant-scoped cache, in both shipped modes.

use agora_kernel::cache::Cache;
use agora_kernel::redis::Redis;
use agora_kernel::{TenantContext, TenantSchema};
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
