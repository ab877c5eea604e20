//! A guest's cart kept worked out in the storefront cache: a warm read costs no query, and a
//! write to anything the cart was worked out from — its stock, a promotion, its product, the
//! cart rules, a merge — is seen by the very next read, in-process and with Redis.

use crate::cart::{german_shop, lines, ok, store, totals};
use crate::support::TestApp;
use reqwest::Method;
use serde_json::{json, Value};

fn lookups(app: &TestApp, result: &str) -> u64 {
    let metrics = app.state.metrics.render(&app.state.db);
    metrics
        .lines()
        .find(|l| l.starts_with("agora_cache_lookups_total{") && l.contains(&format!("result=\"{result}\"")))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Reads the guest cart twice; the second must come from the cache, and say the same.
async fn read_warm(app: &TestApp, shop: &str, token: &str) -> Value {
    let first = ok(store(app, Method::GET, "", shop, Some(token), None).send().await.unwrap()).await;
    let misses = lookups(app, "miss");
    let again = ok(store(app, Method::GET, "", shop, Some(token), None).send().await.unwrap()).await;
    assert_eq!(lookups(app, "miss"), misses, "a warm read is served from the cache");
    assert_eq!(again, first);
    again
}

async fn a_guest_cart_is_kept_until_what_it_shows_changes(app: TestApp) {
    let (shop, a, b) = german_shop(&app, "acme").await;
    let cart = ok(store(&app, Method::POST, "/lines", &shop, None, None)
        .json(&json!({"variant_id": a, "quantity": 2}))
        .send()
        .await
        .unwrap())
    .await;
    let token = cart["token"].as_str().unwrap().to_string();
    let cart = read_warm(&app, &shop, &token).await;
    assert_eq!(totals(&cart), (4000, 0, 0, 639, 4000));

    // The cart's own change: another item.
    ok(store(&app, Method::POST, "/lines", &shop, Some(&token), None)
        .json(&json!({"variant_id": b}))
        .send()
        .await
        .unwrap())
    .await;
    let cart = read_warm(&app, &shop, &token).await;
    assert_eq!(lines(&cart).len(), 2);
    assert_eq!(totals(&cart).0, 5200);

    // Pricing: an automatic 10 % off.
    let res = app
        .admin(Method::POST, "/api/v1/admin/pricing/promotions", &shop)
        .json(&json!({"name": "Ten off", "trigger": "automatic", "status": "active",
            "discount": {"kind": "percentage", "percent_bp": 1000}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let cart = read_warm(&app, &shop, &token).await;
    assert_eq!(totals(&cart).1, 520, "{}", cart["totals"]);

    // Stock: the merchant counts one left of the two the cart holds.
    let res = app.admin(Method::GET, "/api/v1/admin/inventory/locations", &shop).send().await.unwrap();
    let locations: Value = res.json().await.unwrap();
    let location = locations["items"][0]["id"].as_str().or_else(|| locations[0]["id"].as_str()).unwrap().to_string();
    let res = app
        .admin(Method::PUT, &format!("/api/v1/admin/inventory/variants/{a}/stock/{location}"), &shop)
        .json(&json!({"on_hand": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let cart = read_warm(&app, &shop, &token).await;
    let line = cart["lines"].as_array().unwrap().iter().find(|l| l["variant_id"] == a.as_str()).unwrap().clone();
    assert_eq!((line["problem"].as_str(), line["available"].as_i64()), (Some("not_enough_stock"), Some(1)));

    // The catalog: the product is archived, so neither line can be bought.
    let product = line["product_id"].as_str().unwrap();
    let res = app.admin(Method::GET, &format!("/api/v1/admin/catalog/products/{product}"), &shop).send().await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let res = app
        .admin(Method::PATCH, &format!("/api/v1/admin/catalog/products/{product}"), &shop)
        .header("if-match", etag)
        .json(&json!({"status": "archived"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let cart = read_warm(&app, &shop, &token).await;
    let problems: Vec<&str> =
        cart["lines"].as_array().unwrap().iter().map(|l| l["problem"].as_str().unwrap()).collect();
    assert_eq!(problems, ["unavailable", "unavailable"]);
    assert_eq!(totals(&cart).4, 0);

    // The cart rules: abandoned after 30 minutes instead of the default.
    let before = cart["expires_at"].clone();
    let res = app
        .admin(Method::PUT, "/api/v1/admin/cart/settings", &shop)
        .json(&json!({"abandon_after_minutes": 30, "max_line_quantity": 5, "max_lines": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let cart = read_warm(&app, &shop, &token).await;
    assert_ne!(cart["expires_at"], before);

    // A merge: the customer signing in takes the cart; its token opens nothing any more.
    let carla = app.customer(&shop).await;
    ok(store(&app, Method::GET, "", &shop, Some(&token), Some(&carla)).send().await.unwrap()).await;
    let res = store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_guest_cart_is_kept_until_what_it_shows_changes_in_process() {
    a_guest_cart_is_kept_until_what_it_shows_changes(TestApp::spawn().await).await;
}

#[tokio::test]
async fn a_guest_cart_is_kept_until_what_it_shows_changes_with_redis() {
    a_guest_cart_is_kept_until_what_it_shows_changes(TestApp::spawn_with(|o| o.redis = true).await).await;
}
