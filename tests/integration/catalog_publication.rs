//! Scheduled publication through the real app: when a product's `publish_at` or `unpublish_at`
//! passes, the app's own workers announce it (`ProductPublished` / `ProductUnpublished`) once.

use crate::support::{eventually, TestApp};
use reqwest::Method;
use serde_json::json;
use std::time::Duration;

const ADMIN: &str = "/api/v1/admin/catalog";

/// Creates a product, returning its id.
async fn create(app: &TestApp, shop: &str, body: serde_json::Value) -> String {
    let res = app.admin(Method::POST, &format!("{ADMIN}/products"), shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

/// How many times `event` was published for `product` in `shop`.
async fn announced(pg: &tokio_postgres::Client, shop: &str, event: &str, product: &str) -> i64 {
    pg.query_one(
        "SELECT count(*) FROM agora.outbox WHERE tenant_slug = $1 AND name = $2 AND payload->>'product_id' = $3",
        &[&shop, &event, &product],
    )
    .await
    .unwrap()
    .get(0)
}

/// Sweeps that finished after `after` (a tick enqueues one; its job records when it ended).
async fn sweeps_finished_after(pg: &tokio_postgres::Client, after: chrono::DateTime<chrono::Utc>) -> i64 {
    pg.query_one(
        "SELECT count(*) FROM agora.jobs WHERE kind = 'catalog.announce_publication_windows' \
         AND state = 'succeeded' AND created_at > $1",
        &[&after],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn catalog_a_publication_window_opening_and_closing_is_announced_once_each() {
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_WORKERS".into(), "2".into());
    })
    .await;
    let shop = app.tenant("acme").await;
    let pg = app.db.connect().await;
    // A calendar visible in 3 s; a sale item visible now and gone in 3 s (separate products, so
    // each edge is announced whatever the sweeps' timing); a mug with no window.
    let soon = || chrono::Utc::now() + chrono::Duration::seconds(3);
    let opens = soon();
    let id = create(
        &app,
        &shop,
        json!({
            "name": {"en": "Advent calendar"}, "status": "active", "publish_at": opens,
            "variants": [{"sku": "ADVENT", "prices": [{"amount": 2400, "currency": "EUR"}]}]
        }),
    )
    .await;
    let closes = soon();
    let sale = create(
        &app,
        &shop,
        json!({
            "name": {"en": "Summer hat"}, "status": "active", "unpublish_at": closes,
            "variants": [{"sku": "HAT", "prices": [{"amount": 900, "currency": "EUR"}]}]
        }),
    )
    .await;
    let mug =
        create(&app, &shop, json!({"name": {"en": "Mug"}, "status": "active", "variants": [{"sku": "MUG"}]})).await;
    // Activating them announced them (as before): that is the status change, not a window edge.
    assert_eq!(announced(&pg, &shop, "catalog.product_published.v1", &id).await, 1);
    assert_eq!(announced(&pg, &shop, "catalog.product_published.v1", &sale).await, 1);

    eventually(Duration::from_secs(60), || async {
        announced(&pg, &shop, "catalog.product_published.v1", &id).await == 2
    })
    .await;
    let opened_seen = chrono::Utc::now();
    assert!(opened_seen >= opens, "not announced before its window opened");
    let payload: String = pg
        .query_one(
            "SELECT payload::text FROM agora.outbox WHERE tenant_slug = $1 AND name = 'catalog.product_published.v1' \
             AND payload->>'product_id' = $2 ORDER BY id DESC LIMIT 1",
            &[&shop, &id],
        )
        .await
        .unwrap()
        .get(0);
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["product_id"], id.as_str());

    eventually(Duration::from_secs(60), || async {
        announced(&pg, &shop, "catalog.product_unpublished.v1", &sale).await == 1
    })
    .await;
    let closed_seen = chrono::Utc::now();
    assert!(closed_seen >= closes, "not announced before its window closed");
    let payload: String = pg
        .query_one(
            "SELECT payload::text FROM agora.outbox WHERE tenant_slug = $1 AND name = 'catalog.product_unpublished.v1'",
            &[&shop],
        )
        .await
        .unwrap()
        .get(0);
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload, json!({"product_id": sale, "status": "active"}));

    // Two more sweeps that started after the close was announced add nothing.
    eventually(Duration::from_secs(60), || async { sweeps_finished_after(&pg, closed_seen).await >= 2 }).await;
    assert_eq!(announced(&pg, &shop, "catalog.product_published.v1", &id).await, 2);
    assert_eq!(announced(&pg, &shop, "catalog.product_unpublished.v1", &id).await, 0);
    assert_eq!(announced(&pg, &shop, "catalog.product_published.v1", &sale).await, 1);
    assert_eq!(announced(&pg, &shop, "catalog.product_unpublished.v1", &sale).await, 1);
    assert_eq!(announced(&pg, &shop, "catalog.product_published.v1", &mug).await, 1, "announced when activated only");
    assert_eq!(announced(&pg, &shop, "catalog.product_unpublished.v1", &mug).await, 0);
}
