//! The storefront's read cache through the real app: cached reads cost no query, a write is
//! visible at once on the process that made it (in-process and Redis modes), on another replica
//! sharing Redis within a few seconds, and a scheduled publication without any write.

use crate::support::{eventually, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const ADMIN: &str = "/api/v1/admin/catalog";
const STORE: &str = "/api/v1/store/catalog";

async fn created(app: &TestApp, shop: &str, body: Value) -> Value {
    let res = app.admin(Method::POST, &format!("{ADMIN}/products"), shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

async fn rename(app: &TestApp, shop: &str, product: &Value, version: i64, name: &str) {
    let res = app
        .admin(Method::PATCH, &format!("{ADMIN}/products/{}", product["id"].as_str().unwrap()), shop)
        .header("if-match", format!("\"{version}\""))
        .json(&json!({"name": {"en": name}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn read(client: &reqwest::Client, base: &str, shop: &str, path: &str) -> Value {
    let res = client.get(format!("{base}{STORE}{path}")).header("x-tenant-id", shop).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

fn lookups(app: &TestApp, result: &str) -> u64 {
    let metrics = app.state.metrics.render(&app.state.db);
    metrics
        .lines()
        .find(|l| l.starts_with("agora_cache_lookups_total{") && l.contains(&format!("result=\"{result}\"")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Every storefront read, warm, is served from the cache; every kind of write is seen at once.
async fn a_write_is_visible_at_once(app: TestApp) {
    let shop = app.tenant("acme").await;
    let lamp = created(
        &app,
        &shop,
        json!({"name": {"en": "Lamp"}, "status": "active",
        "variants": [{"sku": "L-1", "prices": [{"amount": 1000, "currency": "EUR"}]}]}),
    )
    .await;
    let id = lamp["id"].as_str().unwrap();
    let reads = [
        format!("/products/{id}"),
        "/products/lamp".to_string(),
        "/products?sort=name".to_string(),
        "/search?q=lamp".to_string(),
        "/suggestions?q=lam".to_string(),
    ];
    for path in &reads {
        read(&app.client, &app.base, &shop, path).await;
    }
    let misses = lookups(&app, "miss");
    for path in &reads {
        read(&app.client, &app.base, &shop, path).await;
    }
    assert_eq!(lookups(&app, "miss"), misses, "warm reads all hit the cache");

    rename(&app, &shop, &lamp, 1, "Desk Lamp").await;
    assert_eq!(read(&app.client, &app.base, &shop, &format!("/products/{id}")).await["name"], "Desk Lamp");
    assert_eq!(read(&app.client, &app.base, &shop, "/products/lamp").await["name"], "Desk Lamp");
    assert_eq!(read(&app.client, &app.base, &shop, "/products?sort=name").await["items"][0]["name"], "Desk Lamp");
    assert_eq!(read(&app.client, &app.base, &shop, "/search?q=lamp").await["items"][0]["name"], "Desk Lamp");
    assert_eq!(read(&app.client, &app.base, &shop, "/suggestions?q=lam").await["suggestions"], json!(["Desk Lamp"]));

    // A write that is refused (stale If-Match) changes nothing and keeps serving from the cache.
    let before = lookups(&app, "miss");
    let res = app
        .admin(Method::PATCH, &format!("{ADMIN}/products/{id}"), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"name": {"en": "Never"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 412);
    assert_eq!(read(&app.client, &app.base, &shop, &format!("/products/{id}")).await["name"], "Desk Lamp");
    assert_eq!(lookups(&app, "miss"), before, "a rolled-back write dropped nothing");

    // Categories: a renamed category is seen on its page and in the tree at once.
    let res = app
        .admin(Method::POST, &format!("{ADMIN}/categories"), &shop)
        .json(&json!({"name": {"en": "Lights"}, "slug": "lights"}))
        .send()
        .await
        .unwrap();
    let category: Value = res.json().await.unwrap();
    assert_eq!(read(&app.client, &app.base, &shop, "/categories/lights").await["name"], "Lights");
    let res = app
        .admin(Method::PATCH, &format!("{ADMIN}/categories/{}", category["id"].as_str().unwrap()), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"name": {"en": "Lighting"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(read(&app.client, &app.base, &shop, "/categories/lights").await["name"], "Lighting");
    assert_eq!(read(&app.client, &app.base, &shop, "/categories").await[0]["name"], "Lighting");

    // A deleted product leaves at once.
    let res = app.admin(Method::DELETE, &format!("{ADMIN}/products/{id}"), &shop).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res =
        app.client.get(app.url(&format!("{STORE}/products/{id}"))).header("x-tenant-id", &shop).send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(read(&app.client, &app.base, &shop, "/products").await["items"], json!([]));
}

#[tokio::test]
async fn catalog_cache_in_process_serves_warm_reads_and_never_stale_ones_after_a_write() {
    a_write_is_visible_at_once(TestApp::spawn().await).await;
}

#[tokio::test]
async fn catalog_cache_in_redis_serves_warm_reads_and_never_stale_ones_after_a_write() {
    a_write_is_visible_at_once(TestApp::spawn_with(|o| o.redis = true).await).await;
}

#[tokio::test]
async fn catalog_cache_a_write_through_one_replica_is_seen_through_another() {
    let app = TestApp::spawn_with(|o| o.redis = true).await;
    let shop = app.tenant("acme").await;
    let replica = app.replica(&[]);
    let lamp = created(
        &app,
        &shop,
        json!({"name": {"en": "Lamp"}, "status": "active",
        "variants": [{"sku": "L-1", "prices": [{"amount": 1000, "currency": "EUR"}]}]}),
    )
    .await;
    let page = format!("/products/{}", lamp["id"].as_str().unwrap());
    // Both replicas hold the page.
    assert_eq!(read(&app.client, &app.base, &shop, &page).await["name"], "Lamp");
    assert_eq!(read(&app.client, &replica, &shop, &page).await["name"], "Lamp");
    assert_eq!(read(&app.client, &replica, &shop, "/products").await["items"][0]["name"], "Lamp");

    rename(&app, &shop, &lamp, 1, "Desk Lamp").await;
    let written = Instant::now();
    assert_eq!(read(&app.client, &app.base, &shop, &page).await["name"], "Desk Lamp");
    let (client, replica, shop) = (&app.client, &replica, &shop);
    eventually(Duration::from_secs(5), || {
        let page = &page;
        async move {
            read(client, replica, shop, page).await["name"] == "Desk Lamp"
                && read(client, replica, shop, "/products").await["items"][0]["name"] == "Desk Lamp"
        }
    })
    .await;
    eprintln!("a catalog write was seen through the other replica after {:?}", written.elapsed());
}

#[tokio::test]
async fn catalog_cache_a_scheduled_product_appears_and_goes_without_a_write() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let now = chrono::Utc::now();
    let (from, until) = (now + chrono::Duration::seconds(3), now + chrono::Duration::seconds(6));
    created(
        &app,
        &shop,
        json!({"name": {"en": "Lamp"}, "status": "active",
        "variants": [{"sku": "L-1", "prices": [{"amount": 1000, "currency": "EUR"}]}]}),
    )
    .await;
    created(
        &app,
        &shop,
        json!({"name": {"en": "Scheduled Vase"}, "status": "active",
        "publish_at": from, "unpublish_at": until,
        "variants": [{"sku": "V-1", "prices": [{"amount": 2000, "currency": "EUR"}]}]}),
    )
    .await;
    let names = |list: Value| -> Vec<String> {
        list["items"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    // The list is read (and cached) before the vase's time …
    assert_eq!(names(read(&app.client, &app.base, &shop, "/products?sort=name").await), vec!["Lamp"]);
    // … and shows it once its time has come, with no write in between, then no longer.
    let (client, base, shop) = (&app.client, &app.base, &shop);
    eventually(Duration::from_secs(10), || async move {
        names(read(client, base, shop, "/products?sort=name").await) == vec!["Lamp", "Scheduled Vase"]
    })
    .await;
    assert!(chrono::Utc::now() >= from);
    eventually(Duration::from_secs(10), || async move {
        names(read(client, base, shop, "/products?sort=name").await) == vec!["Lamp"]
    })
    .await;
    assert!(chrono::Utc::now() >= until);
}
