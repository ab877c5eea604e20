//! Inventory through the real app: locations, counts and adjustments agreeing with the ledger,
//! transfers, manual holds (reservations over HTTP) with their 409s and replays, expiry by the
//! job, refusals, and the proof that concurrent holds through three `agora serve` processes
//! sharing PostgreSQL and Redis never take more than is there.

use crate::support::{eventually, problem, redis_url, AgoraProcess, Credentials, TestApp, TOKEN_KEY};
use agora_inventory::{ReservationLineRequest, ReservationRequest};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const INV: &str = "/api/v1/admin/inventory";

/// A product with one variant per SKU; the variants' ids.
async fn variants(app: &TestApp, shop: &str, skus: &[&str]) -> Vec<String> {
    let body = json!({
        "name": {"en": format!("Product {}", skus.join("-"))},
        "status": "active",
        "variants": skus.iter().map(|s| json!({"sku": s, "prices": [{"amount": 1000, "currency": "EUR"}]})).collect::<Vec<_>>(),
    });
    let res = app.admin(Method::POST, "/api/v1/admin/catalog/products", shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let product: Value = res.json().await.unwrap();
    product["variants"].as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
}

async fn location(app: &TestApp, shop: &str, body: Value) -> Value {
    let res = app.admin(Method::POST, &format!("{INV}/locations"), shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

async fn count(app: &TestApp, shop: &str, variant: &str, location: &str, on_hand: i32) -> Value {
    let res = app
        .admin(Method::PUT, &format!("{INV}/variants/{variant}/stock/{location}"), shop)
        .json(&json!({"on_hand": on_hand}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

async fn stock(app: &TestApp, shop: &str, variant: &str) -> Value {
    let res = app.admin(Method::GET, &format!("{INV}/variants/{variant}/stock"), shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn hold(app: &TestApp, shop: &str, body: Value) -> reqwest::Response {
    app.admin(Method::POST, &format!("{INV}/reservations"), shop).json(&body).send().await.unwrap()
}

/// The levels rebuilt from the ledger (on hand) and from the reservations in force (reserved)
/// equal the stored levels, for every variant and location of the shop.
async fn ledger_agrees_with_levels(app: &TestApp, shop: &str) {
    let db = app.db.connect().await;
    let schema = format!("t_{shop}");
    let rows = db
        .query(
            &format!(
                "SELECT l.variant_id::text, l.location_id::text, l.on_hand, l.reserved, \
                   COALESCE((SELECT sum(a.on_hand_delta) FROM \"{schema}\".stock_adjustments a \
                     WHERE a.variant_id = l.variant_id AND a.location_id = l.location_id), 0)::int AS ledger, \
                   COALESCE((SELECT sum(r.quantity) FROM \"{schema}\".stock_reservation_lines r \
                     JOIN \"{schema}\".stock_reservations s ON s.id = r.reservation_id AND s.status = 'active' \
                     WHERE r.variant_id = l.variant_id AND r.location_id = l.location_id), 0)::int AS held \
                 FROM \"{schema}\".stock_levels l"
            ),
            &[],
        )
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let (variant, location): (String, String) = (row.get(0), row.get(1));
        let (on_hand, reserved, ledger, held): (i32, i32, i32, i32) = (row.get(2), row.get(3), row.get(4), row.get(5));
        assert_eq!(on_hand, ledger, "on hand of {variant} at {location} is the sum of its ledger");
        assert_eq!(reserved, held, "reserved of {variant} at {location} is what reservations in force hold");
        assert!(reserved <= on_hand && reserved >= 0, "never more reserved than on hand");
    }
}

#[tokio::test]
async fn inventory_locations_counts_adjustments_and_the_ledger_round_trip() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let [shirt] = variants(&app, &shop, &["SHIRT-M"]).await.try_into().unwrap();
    let berlin = location(
        &app,
        &shop,
        json!({"name": "Berlin", "priority": 1, "ships_to": ["DE", "AT"],
        "address": {"city": "Berlin", "country": "DE"}}),
    )
    .await;
    let paris = location(&app, &shop, json!({"name": "Paris", "priority": 2})).await;
    let (b, p) = (berlin["id"].as_str().unwrap(), paris["id"].as_str().unwrap());
    assert_eq!(berlin["ships_to"], json!(["AT", "DE"]));

    // Listed first choice first; renamed with If-Match; a stale one is refused.
    let list: Value =
        app.admin(Method::GET, &format!("{INV}/locations"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        list["items"].as_array().unwrap().iter().map(|l| l["name"].clone()).collect::<Vec<_>>(),
        ["Berlin", "Paris"]
    );
    let res = app
        .admin(Method::PATCH, &format!("{INV}/locations/{p}"), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Paris Nord"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let res = app
        .admin(Method::PATCH, &format!("{INV}/locations/{p}"), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Paris Sud"}))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let res = app
        .admin(Method::POST, &format!("{INV}/locations"), &shop)
        .json(&json!({"name": "berlin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "name");

    // A count, then adjustments with reasons; the ledger lists them newest first.
    let counted = count(&app, &shop, &shirt, b, 10).await;
    assert_eq!(counted["on_hand"], 10);
    assert_eq!(counted["available"], 10);
    for (reason, quantity) in [("received", 5), ("damaged", -2), ("returned", 1)] {
        let res = app
            .admin(Method::POST, &format!("{INV}/adjustments"), &shop)
            .json(&json!({"variant_id": shirt, "location_id": b, "reason": reason, "quantity": quantity, "reference": "DN-1"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    }
    let now = stock(&app, &shop, &shirt).await;
    assert_eq!(now["sku"], "SHIRT-M");
    assert_eq!(now["on_hand"], 14);
    assert_eq!(now["levels"][0]["location_name"], "Berlin");
    let ledger: Value = app
        .admin(Method::GET, &format!("{INV}/variants/{shirt}/ledger?limit=2"), &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["items"].as_array().unwrap().len(), 2);
    assert_eq!(ledger["items"][0]["reason"], "returned");
    assert_eq!(ledger["items"][0]["on_hand_after"], 14);
    let cursor = ledger["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .admin(Method::GET, &format!("{INV}/variants/{shirt}/ledger?limit=2&cursor={cursor}"), &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        rest["items"].as_array().unwrap().iter().map(|a| a["reason"].clone()).collect::<Vec<_>>(),
        ["received", "counted"]
    );
    assert!(rest.get("next_cursor").is_none());

    // A transfer leaves Berlin at once and reaches Paris when received; closing twice is a 409.
    let res = app
        .admin(Method::POST, &format!("{INV}/transfers"), &shop)
        .json(&json!({"from_location_id": b, "to_location_id": p, "lines": [{"variant_id": shirt, "quantity": 4}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let transfer: Value = res.json().await.unwrap();
    assert_eq!(transfer["status"], "in_transit");
    let t = transfer["id"].as_str().unwrap();
    let now = stock(&app, &shop, &shirt).await;
    assert_eq!(now["on_hand"], 10, "in transit is on hand nowhere");
    let res = app.admin(Method::POST, &format!("{INV}/transfers/{t}/receive"), &shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let now = stock(&app, &shop, &shirt).await;
    assert_eq!(now["on_hand"], 14);
    assert_eq!(now["levels"][1]["on_hand"], 4);
    let res = app.admin(Method::POST, &format!("{INV}/transfers/{t}/cancel"), &shop).send().await.unwrap();
    assert_eq!(problem(res, 409).await["type"], "https://agora.dev/problems/transfer-received");

    // A cancelled transfer puts the stock back.
    let res = app
        .admin(Method::POST, &format!("{INV}/transfers"), &shop)
        .json(&json!({"from_location_id": p, "to_location_id": b, "lines": [{"variant_id": shirt, "quantity": 3}]}))
        .send()
        .await
        .unwrap();
    let t: Value = res.json().await.unwrap();
    let res = app
        .admin(Method::POST, &format!("{INV}/transfers/{}/cancel", t["id"].as_str().unwrap()), &shop)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(stock(&app, &shop, &shirt).await["levels"][1]["on_hand"], 4);

    // A location holding stock cannot be deleted; an empty one can.
    let res = app.admin(Method::DELETE, &format!("{INV}/locations/{b}"), &shop).send().await.unwrap();
    problem(res, 409).await;
    let spare = location(&app, &shop, json!({"name": "Spare"})).await;
    let res = app
        .admin(Method::DELETE, &format!("{INV}/locations/{}", spare["id"].as_str().unwrap()), &shop)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    ledger_agrees_with_levels(&app, &shop).await;
}

#[tokio::test]
async fn inventory_bad_input_is_refused_naming_the_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let [v] = variants(&app, &shop, &["MUG"]).await.try_into().unwrap();
    let loc = location(&app, &shop, json!({"name": "Main"})).await;
    let l = loc["id"].as_str().unwrap();
    count(&app, &shop, &v, l, 5).await;
    let unknown = uuid::Uuid::now_v7().to_string();

    let adjust = |body: Value| app.admin(Method::POST, &format!("{INV}/adjustments"), &shop).json(&body).send();
    for (body, field) in [
        (json!({"variant_id": v, "location_id": l, "reason": "received", "quantity": 0}), "quantity"),
        (json!({"variant_id": v, "location_id": l, "reason": "received", "quantity": 2.5}), "quantity"),
        (json!({"variant_id": v, "location_id": l, "reason": "sold", "quantity": 1}), "reason"),
        (json!({"variant_id": v, "location_id": l, "reason": "stolen", "quantity": 1}), "stolen"),
        (json!({"variant_id": unknown, "location_id": l, "reason": "received", "quantity": 1}), "variant_id"),
        (json!({"variant_id": v, "location_id": unknown, "reason": "received", "quantity": 1}), "location_id"),
    ] {
        let body = problem(adjust(body.clone()).await.unwrap(), 422).await;
        assert!(body.to_string().contains(field), "{field} named in {body}");
    }
    // Taking away more than is there: refused, nothing written.
    let res = adjust(json!({"variant_id": v, "location_id": l, "reason": "damaged", "quantity": -6})).await.unwrap();
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "quantity");
    let res = app
        .admin(Method::PUT, &format!("{INV}/variants/{v}/stock/{l}"), &shop)
        .json(&json!({"on_hand": -1}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "on_hand");

    for (body, field) in [
        (json!({"reference": "x", "lines": [{"variant_id": v, "quantity": -1}]}), "quantity"),
        (json!({"reference": "x", "lines": [{"variant_id": v, "quantity": 0}]}), "quantity"),
        (json!({"reference": "x", "lines": [{"variant_id": v, "quantity": 1.5}]}), "quantity"),
        (json!({"reference": "x", "lines": [{"variant_id": unknown, "quantity": 1}]}), "lines[0].variant_id"),
        (json!({"reference": "x", "lines": [{"variant_id": v, "quantity": 1}], "location_id": unknown}), "location_id"),
        (json!({"reference": "", "lines": [{"variant_id": v, "quantity": 1}]}), "reference"),
        (json!({"reference": "x", "lines": []}), "lines"),
        (
            json!({"reference": "x", "lines": [{"variant_id": v, "quantity": 1}], "expires_in_minutes": 0}),
            "expires_in_minutes",
        ),
        (
            json!({"reference": "x", "lines": [{"variant_id": v, "quantity": 1}], "ship_to_country": "germany"}),
            "ship_to_country",
        ),
    ] {
        let body = problem(hold(&app, &shop, body).await, 422).await;
        assert!(body.to_string().contains(field), "{field} named in {body}");
    }
    let res = hold(&app, &shop, json!({"reference": "big", "lines": [{"variant_id": v, "quantity": 6}]})).await;
    let body = problem(res, 409).await;
    assert_eq!(body["type"], "https://agora.dev/problems/out-of-stock");
    assert_eq!(body["errors"][0]["field"], "lines[0].quantity");

    let other = location(&app, &shop, json!({"name": "Other"})).await;
    let res = app
        .admin(Method::POST, &format!("{INV}/transfers"), &shop)
        .json(&json!({"from_location_id": l, "to_location_id": l, "lines": [{"variant_id": v, "quantity": 1}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "to_location_id");
    let res = app
        .admin(Method::POST, &format!("{INV}/transfers"), &shop)
        .json(
            &json!({"from_location_id": l, "to_location_id": other["id"], "lines": [{"variant_id": v, "quantity": 9}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "lines[0].quantity");

    let now = stock(&app, &shop, &v).await;
    assert_eq!((now["on_hand"].clone(), now["reserved"].clone()), (json!(5), json!(0)), "nothing changed");
    let res = app.admin(Method::GET, &format!("{INV}/variants/{unknown}/stock"), &shop).send().await.unwrap();
    problem(res, 404).await;
    ledger_agrees_with_levels(&app, &shop).await;
}

#[tokio::test]
async fn inventory_holds_commit_release_split_and_replay() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let [v] = variants(&app, &shop, &["LAMP"]).await.try_into().unwrap();
    let first = location(&app, &shop, json!({"name": "First", "priority": 1, "ships_to": ["DE"]})).await;
    let second = location(&app, &shop, json!({"name": "Second", "priority": 2})).await;
    let (a, b) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
    count(&app, &shop, &v, a, 3).await;
    count(&app, &shop, &v, b, 4).await;

    // One location covers it: the first choice.
    let res = hold(&app, &shop, json!({"reference": "phone-1", "lines": [{"variant_id": v, "quantity": 2}]})).await;
    assert_eq!(res.status(), 201);
    let one: Value = res.json().await.unwrap();
    assert_eq!(one["lines"], json!([{"variant_id": v, "location_id": a, "quantity": 2}]));
    // A destination only the second ships to.
    let res = hold(
        &app,
        &shop,
        json!({"reference": "phone-2", "ship_to_country": "FR", "lines": [{"variant_id": v, "quantity": 1}]}),
    )
    .await;
    let fr: Value = res.json().await.unwrap();
    assert_eq!(fr["lines"][0]["location_id"], b);
    // Split: 1 left at the first, 3 at the second.
    let res = hold(&app, &shop, json!({"reference": "phone-3", "lines": [{"variant_id": v, "quantity": 4}]})).await;
    assert_eq!(res.status(), 201);
    let split: Value = res.json().await.unwrap();
    let mut parts: Vec<(String, i64)> = split["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["location_id"].as_str().unwrap().to_string(), l["quantity"].as_i64().unwrap()))
        .collect();
    parts.sort();
    let mut expected = vec![(a.to_string(), 1), (b.to_string(), 3)];
    expected.sort();
    assert_eq!(parts, expected);
    assert_eq!(stock(&app, &shop, &v).await["available"], 0);
    let res = hold(&app, &shop, json!({"reference": "phone-4", "lines": [{"variant_id": v, "quantity": 1}]})).await;
    problem(res, 409).await;

    // In force, soonest to expire first.
    let list: Value =
        app.admin(Method::GET, &format!("{INV}/reservations"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);

    // Release with an Idempotency-Key, replayed; without one, a second release is a 409.
    let id = one["id"].as_str().unwrap();
    let release = |key: Option<&'static str>| {
        let mut req = app.admin(Method::POST, &format!("{INV}/reservations/{id}/release"), &shop);
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        req.send()
    };
    let res = release(Some("release-1")).await.unwrap();
    assert_eq!(res.status(), 200);
    let released: Value = res.json().await.unwrap();
    assert_eq!(released["status"], "released");
    let again = release(Some("release-1")).await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), released);
    let res = release(None).await.unwrap();
    assert_eq!(problem(res, 409).await["type"], "https://agora.dev/problems/reservation-released");
    assert_eq!(stock(&app, &shop, &v).await["available"], 2);

    // Commit: reserved stock leaves on hand, `sold` in the ledger; a second commit is a 409.
    let id = split["id"].as_str().unwrap();
    let res = app.admin(Method::POST, &format!("{INV}/reservations/{id}/commit"), &shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let now = stock(&app, &shop, &v).await;
    assert_eq!((now["on_hand"].clone(), now["reserved"].clone()), (json!(3), json!(1)));
    let res = app.admin(Method::POST, &format!("{INV}/reservations/{id}/commit"), &shop).send().await.unwrap();
    assert_eq!(problem(res, 409).await["type"], "https://agora.dev/problems/reservation-committed");
    let ledger: Value = app
        .admin(Method::GET, &format!("{INV}/variants/{v}/ledger"), &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(ledger["items"][0]["reason"], "sold");
    assert_eq!(ledger["items"][0]["reference"], "phone-3");

    // Extend moves the expiry.
    let id = fr["id"].as_str().unwrap();
    let res = app
        .admin(Method::POST, &format!("{INV}/reservations/{id}/extend"), &shop)
        .json(&json!({"expires_in_minutes": 120}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let extended: Value = res.json().await.unwrap();
    assert!(extended["expires_at"].as_str().unwrap() > fr["expires_at"].as_str().unwrap());

    // The events went through the outbox.
    let db = app.db.connect().await;
    let names: Vec<String> = db
        .query("SELECT DISTINCT name FROM agora.outbox WHERE name LIKE 'inventory.%' ORDER BY 1", &[])
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.get(0))
        .collect();
    for name in [
        "inventory.stock.adjusted.v1",
        "inventory.stock.reserved.v1",
        "inventory.stock.released.v1",
        "inventory.stock.committed.v1",
    ] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    ledger_agrees_with_levels(&app, &shop).await;
}

#[tokio::test]
async fn inventory_reservations_expire_by_the_job_and_the_stock_returns() {
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_WORKERS".into(), "2".into());
    })
    .await;
    let shop = app.tenant("acme").await;
    let [v] = variants(&app, &shop, &["CANDLE"]).await.try_into().unwrap();
    let loc = location(&app, &shop, json!({"name": "Main"})).await;
    count(&app, &shop, &v, loc["id"].as_str().unwrap(), 5).await;

    // Checkout's way: the facade in the caller's own transaction, a two-second time to live.
    let tenant = app.context(&shop).await;
    let inventory = app.state.inventory.clone();
    let request = ReservationRequest {
        reference: "checkout-1".into(),
        lines: vec![ReservationLineRequest {
            variant_id: v.parse().unwrap(),
            quantity: agora_kernel::values::Quantity::new(3).unwrap(),
        }],
        ship_to_country: None,
        location: None,
        ttl: Some(chrono::Duration::seconds(2)),
        note: None,
    };
    let reservation = app
        .state
        .db
        .in_tenant(&tenant, &agora_kernel::Acting::system("checkout"), async |tx| inventory.reserve(tx, request).await)
        .await
        .unwrap();
    assert_eq!(stock(&app, &shop, &v).await["available"], 2);

    let started = Instant::now();
    eventually(Duration::from_secs(15), || async { stock(&app, &shop, &v).await["available"] == 5 }).await;
    eprintln!("the reservation's stock returned {:?} after it was made (time to live 2 s)", started.elapsed());
    let res = app.admin(Method::GET, &format!("{INV}/reservations/{}", reservation.id), &shop).send().await.unwrap();
    let expired: Value = res.json().await.unwrap();
    assert_eq!(expired["status"], "expired");
    // Committing an expired reservation is a 409, and changes nothing.
    let res =
        app.admin(Method::POST, &format!("{INV}/reservations/{}/commit", reservation.id), &shop).send().await.unwrap();
    assert_eq!(problem(res, 409).await["type"], "https://agora.dev/problems/reservation-expired");
    assert_eq!(stock(&app, &shop, &v).await["on_hand"], 5);
    ledger_agrees_with_levels(&app, &shop).await;
}

#[tokio::test]
async fn inventory_routes_refuse_strangers_customers_staff_without_permission_and_other_shops() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("globex").await;
    let [v] = variants(&app, &shop, &["TEA"]).await.try_into().unwrap();
    let loc = location(&app, &shop, json!({"name": "Main"})).await;
    let l = loc["id"].as_str().unwrap();
    count(&app, &shop, &v, l, 5).await;
    let held: Value = hold(&app, &shop, json!({"reference": "r", "lines": [{"variant_id": v, "quantity": 1}]}))
        .await
        .json()
        .await
        .unwrap();
    let r = held["id"].as_str().unwrap();

    let customer = app.customer(&shop).await;
    let nobody = app.staff(&shop, &[]).await;
    let reader = app.staff(&shop, &["support"]).await;
    let manager = app.staff(&shop, &["catalog_manager"]).await;
    let stranger = app.staff(&other, &["owner"]).await;

    let reads = [format!("{INV}/locations"), format!("{INV}/variants/{v}/stock"), format!("{INV}/reservations/{r}")];
    let writes: [(Method, String, Value); 4] = [
        (Method::POST, format!("{INV}/locations"), json!({"name": "X"})),
        (
            Method::POST,
            format!("{INV}/adjustments"),
            json!({"variant_id": v, "location_id": l, "reason": "received", "quantity": 1}),
        ),
        (
            Method::POST,
            format!("{INV}/reservations"),
            json!({"reference": "r", "lines": [{"variant_id": v, "quantity": 1}]}),
        ),
        (Method::POST, format!("{INV}/reservations/{r}/release"), json!({})),
    ];
    let call = |m: Method, path: &str, who: Option<&Credentials>, body: Option<&Value>| {
        let mut req = match who {
            Some(who) => app.as_user(m, path, &shop, who),
            None => app.client.request(m, app.url(path)).header("x-tenant-id", &shop),
        };
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send()
    };
    for path in &reads {
        problem(call(Method::GET, path, None, None).await.unwrap(), 401).await;
        problem(call(Method::GET, path, Some(&customer), None).await.unwrap(), 403).await;
        problem(call(Method::GET, path, Some(&nobody), None).await.unwrap(), 403).await;
        problem(call(Method::GET, path, Some(&stranger), None).await.unwrap(), 401).await;
        assert_eq!(call(Method::GET, path, Some(&reader), None).await.unwrap().status(), 200, "{path}");
    }
    for (m, path, body) in &writes {
        problem(call(m.clone(), path, None, Some(body)).await.unwrap(), 401).await;
        problem(call(m.clone(), path, Some(&customer), Some(body)).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&nobody), Some(body)).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&reader), Some(body)).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&stranger), Some(body)).await.unwrap(), 401).await;
    }
    // Another shop's own staff see nothing of this shop's stock by id.
    let res = app.admin(Method::GET, &format!("{INV}/reservations/{r}"), &other).send().await.unwrap();
    problem(res, 404).await;
    let res = app.admin(Method::POST, &format!("{INV}/reservations/{r}/release"), &other).send().await.unwrap();
    problem(res, 404).await;
    let res = app.admin(Method::GET, &format!("{INV}/locations/{l}"), &other).send().await.unwrap();
    problem(res, 404).await;
    // The catalog manager holds inventory.manage.
    let res =
        call(Method::POST, &format!("{INV}/reservations/{r}/release"), Some(&manager), Some(&json!({}))).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(stock(&app, &shop, &v).await["reserved"], 0, "nothing the refused calls asked for happened");
}

/// Three real `agora serve` processes over the test's database and Redis namespace.
async fn three_servers(app: &TestApp) -> (Vec<AgoraProcess>, Vec<String>) {
    let (redis, namespace) = (redis_url(), app.db.name.clone());
    let env = [
        ("DATABASE_URL", app.db.url.as_str()),
        ("REDIS_URL", redis.as_str()),
        ("AGORA_REDIS_NAMESPACE", namespace.as_str()),
        ("AGORA_TOKEN_KEY", TOKEN_KEY),
        // Three pools must fit in the shared PostgreSQL's 100 connections next to other tests;
        // asks beyond a server's pool wait briefly for a connection (all queue on one row anyway).
        ("AGORA_DB_POOL_SIZE", "8"),
        // The proof is about stock, not about the limiter: 1,000 asks from one client and one
        // shop within a second would otherwise meet 429s.
        ("AGORA_RATE_LIMIT_CLIENT_PER_MINUTE", "0"),
        ("AGORA_RATE_LIMIT_TENANT_PER_MINUTE", "0"),
        ("RUST_LOG", "warn,agora=info"),
    ];
    let mut processes: Vec<AgoraProcess> =
        (0..3).map(|_| AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0", "--workers", "0"], &env)).collect();
    let mut bases = Vec::new();
    for p in &mut processes {
        bases.push(p.wait_listening().await);
    }
    (processes, bases)
}

/// Sends `quantities.len()` holds, `IN_FLIGHT` at a time (spread over the servers); each answer's
/// status and, for a success, the quantity held. An answer other than a hold or out of stock
/// fails the test with its body.
async fn concurrent_holds(
    app: &TestApp,
    bases: &[String],
    shop: &str,
    token: &str,
    variant: &str,
    quantities: Vec<i64>,
) -> Vec<(u16, i64)> {
    const IN_FLIGHT: usize = 32;
    // Idle connections are dropped well before the servers' 5 s keep-alive closes them: a POST
    // sent on a connection the server is closing at that instant gets no answer, and reqwest
    // rightly does not resend a POST (seen once on a loaded machine).
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(IN_FLIGHT)
        .pool_idle_timeout(Duration::from_secs(2))
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap();
    let _ = app;
    futures_util::stream::iter(quantities.into_iter().enumerate())
        .map(|(i, quantity)| {
            let (client, base) = (client.clone(), bases[i % bases.len()].clone());
            async move {
                let res = client
                    .post(format!("{base}{INV}/reservations"))
                    .bearer_auth(token)
                    .header("x-tenant-id", shop)
                    .json(&json!({"reference": format!("race-{i}"), "lines": [{"variant_id": variant, "quantity": quantity}]}))
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("hold {i} through {base} got no answer: {e:?}"));
                let status = res.status().as_u16();
                let text = res.text().await.unwrap_or_else(|e| panic!("hold {i}: answer {status} unreadable: {e:?}"));
                assert!(status == 201 || status == 409, "hold {i} through {base}: unexpected {status}: {text}");
                let body: Value = serde_json::from_str(&text).unwrap_or_default();
                let held: i64 = body["lines"].as_array().map_or(0, |l| l.iter().map(|p| p["quantity"].as_i64().unwrap()).sum());
                if status == 201 {
                    assert_eq!(held, quantity, "a hold holds what it was asked for: {body}");
                }
                (status, held)
            }
        })
        .buffer_unordered(IN_FLIGHT)
        .collect()
        .await
}

#[tokio::test]
async fn inventory_no_oversell_1000_concurrent_holds_through_three_processes() {
    let app = TestApp::spawn_with(|o| o.redis = true).await;
    let shop = app.tenant("acme").await;
    let [v] = variants(&app, &shop, &["HOT"]).await.try_into().unwrap();
    let loc = location(&app, &shop, json!({"name": "Main"})).await;
    count(&app, &shop, &v, loc["id"].as_str().unwrap(), 100).await;
    let owner = app.staff(&shop, &["owner"]).await;
    let (_processes, bases) = three_servers(&app).await;

    let started = Instant::now();
    let answers = concurrent_holds(&app, &bases, &shop, &owner.access_token, &v, vec![1; 1000]).await;
    eprintln!("1,000 concurrent holds through 3 processes took {:?}", started.elapsed());
    let held = answers.iter().filter(|(s, _)| *s == 201).count();
    let refused = answers.iter().filter(|(s, _)| *s == 409).count();
    assert_eq!(
        (held, refused),
        (100, 900),
        "exactly the 100 units there were are held; every other ask is out of stock"
    );
    let now = stock(&app, &shop, &v).await;
    assert_eq!(
        (now["on_hand"].clone(), now["reserved"].clone(), now["available"].clone()),
        (json!(100), json!(100), json!(0))
    );
    ledger_agrees_with_levels(&app, &shop).await;
}

#[tokio::test]
async fn inventory_no_oversell_mixed_quantities_over_two_locations_through_three_processes() {
    let app = TestApp::spawn_with(|o| o.redis = true).await;
    let shop = app.tenant("acme").await;
    let [v] = variants(&app, &shop, &["WARM"]).await.try_into().unwrap();
    let first = location(&app, &shop, json!({"name": "First", "priority": 1})).await;
    let second = location(&app, &shop, json!({"name": "Second", "priority": 2})).await;
    count(&app, &shop, &v, first["id"].as_str().unwrap(), 60).await;
    count(&app, &shop, &v, second["id"].as_str().unwrap(), 40).await;
    let owner = app.staff(&shop, &["owner"]).await;
    let (_processes, bases) = three_servers(&app).await;

    let quantities: Vec<i64> = (0..400).map(|i| 1 + (i * 7 % 5)).collect();
    let answers = concurrent_holds(&app, &bases, &shop, &owner.access_token, &v, quantities).await;
    assert!(answers.iter().all(|(s, _)| *s == 201 || *s == 409), "only holds and out-of-stock answers");
    let held: i64 = answers.iter().map(|(_, q)| q).sum();
    assert!(held <= 100, "never more held ({held}) than there was");
    // Changes of one variant queue on its item row, so an ask is refused only when fewer units
    // than it wants are left: hundreds of asks after the first hundred units leave at most
    // fewer than the largest ask (5) unsold.
    assert!(held > 95, "contention does not leave stock unsold ({held} held)");
    let now = stock(&app, &shop, &v).await;
    assert_eq!(now["reserved"].as_i64().unwrap(), held, "what was answered as held is what is reserved");
    for level in now["levels"].as_array().unwrap() {
        assert!(level["reserved"].as_i64().unwrap() <= level["on_hand"].as_i64().unwrap(), "{level}");
    }
    ledger_agrees_with_levels(&app, &shop).await;
}

async fn settings(app: &TestApp, shop: &str, variant: &str, body: Value) {
    let current = stock(app, shop, variant).await;
    let res = app
        .admin(Method::PUT, &format!("{INV}/variants/{variant}/settings"), shop)
        .header("if-match", format!("\"{}\"", current["settings_version"]))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
}

fn backordered(reservation: &Value) -> i64 {
    reservation["backordered"].as_array().unwrap().iter().map(|b| b["quantity"].as_i64().unwrap()).sum()
}

#[tokio::test]
async fn inventory_backorders_and_preorders_sell_beyond_stock_only_as_their_policy_says() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let [boots, lamp, vase] = variants(&app, &shop, &["BOOTS", "LAMP", "VASE"]).await.try_into().unwrap();
    let loc = location(&app, &shop, json!({"name": "Main"})).await;
    let loc = loc["id"].as_str().unwrap();
    count(&app, &shop, &boots, loc, 2).await;
    count(&app, &shop, &vase, loc, 0).await;

    // Backorder up to 3 beyond stock: 4 asked with 2 there holds 2 here and promises 2.
    settings(&app, &shop, &boots, json!({"tracked": true, "policy": "backorder", "backorder_limit": 3})).await;
    let res = hold(&app, &shop, json!({"reference": "phone-1", "lines": [{"variant_id": boots, "quantity": 4}]})).await;
    assert_eq!(res.status(), 201);
    let first: Value = res.json().await.unwrap();
    assert_eq!((first["lines"][0]["quantity"].as_i64(), backordered(&first)), (Some(2), 2));
    // 2 more would pass the limit (2 + 2 > 3): refused, nothing taken; 1 more fits.
    let res = hold(&app, &shop, json!({"reference": "phone-2", "lines": [{"variant_id": boots, "quantity": 2}]})).await;
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "lines[0].quantity");
    let res = hold(&app, &shop, json!({"reference": "phone-3", "lines": [{"variant_id": boots, "quantity": 1}]})).await;
    assert_eq!(res.status(), 201);
    let third: Value = res.json().await.unwrap();
    assert_eq!(backordered(&third), 1);

    // Paid: the 2 held leave on hand, the 2 promised are owed; the released one frees its promise.
    let res = app.admin(Method::POST, &format!("{INV}/reservations/{}/commit", first["id"].as_str().unwrap()), &shop);
    assert_eq!(res.send().await.unwrap().status(), 200);
    let res = app.admin(Method::POST, &format!("{INV}/reservations/{}/release", third["id"].as_str().unwrap()), &shop);
    assert_eq!(res.send().await.unwrap().status(), 200);
    assert_eq!(stock(&app, &shop, &boots).await["on_hand"], 0);
    // 5 arrive: the 2 owed are paid first, 3 are left to sell.
    let res = app
        .admin(Method::POST, &format!("{INV}/adjustments"), &shop)
        .json(&json!({"variant_id": boots, "location_id": loc, "reason": "received", "quantity": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let now = stock(&app, &shop, &boots).await;
    assert_eq!((now["on_hand"].clone(), now["available"].clone()), (json!(3), json!(3)));
    let ledger: Value = app
        .admin(Method::GET, &format!("{INV}/variants/{boots}/ledger"), &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let paid = ledger["items"].as_array().unwrap().iter().find(|a| a["reference"] == "backorders").expect("paid");
    assert_eq!((paid["reason"].clone(), paid["on_hand_delta"].clone()), (json!("sold"), json!(-2)));

    // Preorders until a date ahead; once it passed, none.
    let until = (chrono::Utc::now() + chrono::Duration::days(10)).to_rfc3339();
    settings(&app, &shop, &lamp, json!({"tracked": true, "policy": "preorder", "preorder_until": until})).await;
    let res = hold(&app, &shop, json!({"reference": "pre-1", "lines": [{"variant_id": lamp, "quantity": 7}]})).await;
    assert_eq!(res.status(), 201);
    assert_eq!(backordered(&res.json().await.unwrap()), 7);
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    settings(&app, &shop, &lamp, json!({"tracked": true, "policy": "preorder", "preorder_until": past})).await;
    let res = hold(&app, &shop, json!({"reference": "pre-2", "lines": [{"variant_id": lamp, "quantity": 1}]})).await;
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "lines[0].quantity");

    // Deny (the default): nothing beyond stock.
    let res = hold(&app, &shop, json!({"reference": "deny", "lines": [{"variant_id": vase, "quantity": 1}]})).await;
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "lines[0].quantity");
    ledger_agrees_with_levels(&app, &shop).await;
}

/// The storefront's view of a product: its first variant's availability and whether the
/// "in stock only" list of its tag has it.
async fn shopper_sees(client: &reqwest::Client, base: &str, shop: &str, slug: &str, tag: &str) -> (Value, bool) {
    let get = |path: String| client.get(format!("{base}{path}")).header("x-tenant-id", shop).send();
    let page: Value = get(format!("/api/v1/store/catalog/products/{slug}")).await.unwrap().json().await.unwrap();
    let list: Value =
        get(format!("/api/v1/store/catalog/products?tag={tag}&in_stock=true")).await.unwrap().json().await.unwrap();
    let listed = list["items"].as_array().unwrap().iter().any(|p| p["slug"] == slug);
    (page["variants"][0]["availability"].clone(), listed)
}

#[tokio::test]
async fn inventory_availability_reaches_the_storefront_of_another_process_and_the_in_stock_filter() {
    let app = TestApp::spawn_with(|o| {
        o.redis = true;
        o.env.insert("AGORA_WORKERS".into(), "2".into());
    })
    .await;
    let shop = app.tenant("acme").await;
    let body = json!({
        "name": {"en": "Wool scarf"}, "slug": {"en": "wool-scarf"}, "status": "active", "tags": ["winter"],
        "variants": [{"sku": "SCARF", "prices": [{"amount": 2500, "currency": "EUR"}]}],
    });
    let res = app.admin(Method::POST, "/api/v1/admin/catalog/products", &shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let product: Value = res.json().await.unwrap();
    let variant = product["variants"][0]["id"].as_str().unwrap().to_string();
    let owner = app.staff(&shop, &["owner"]).await;
    let (_processes, bases) = three_servers(&app).await;
    let (writer, reader) = (&bases[0], &bases[1]);
    let client = reqwest::Client::new();

    // Not counted yet: sold freely, no label, in the in-stock list.
    assert_eq!(shopper_sees(&client, reader, &shop, "wool-scarf", "winter").await, (Value::Null, true));

    let loc = location(&app, &shop, json!({"name": "Main"})).await;
    let loc = loc["id"].as_str().unwrap().to_string();
    let count_through = |on_hand: i32| {
        let (client, url) = (client.clone(), format!("{writer}{INV}/variants/{variant}/stock/{loc}"));
        let (token, shop) = (owner.access_token.clone(), shop.clone());
        async move {
            let res = client
                .put(url)
                .bearer_auth(token)
                .header("x-tenant-id", shop)
                .json(&json!({"on_hand": on_hand}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 200);
        }
    };
    let waits = [
        (3, json!({"status": "in_stock", "preorder_until": null}), true),
        (0, json!({"status": "out_of_stock", "preorder_until": null}), false),
    ];
    for (on_hand, shown, listed) in waits {
        let started = Instant::now();
        count_through(on_hand).await;
        eventually(Duration::from_secs(10), || {
            let (client, shown) = (client.clone(), shown.clone());
            let shop = shop.clone();
            async move { shopper_sees(&client, reader, &shop, "wool-scarf", "winter").await == (shown, listed) }
        })
        .await;
        eprintln!(
            "on hand {on_hand} counted through one process: another process's storefront showed it after {:?}",
            started.elapsed()
        );
    }
    // The unfiltered list still has it, marked out of stock.
    let list: Value = client
        .get(format!("{reader}/api/v1/store/catalog/products?tag=winter"))
        .header("x-tenant-id", &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["in_stock"], false);
}

#[tokio::test]
async fn inventory_a_process_killed_mid_reservation_leaves_no_orphaned_reserved_stock() {
    let app = TestApp::spawn_with(|o| o.redis = true).await;
    let shop = app.tenant("acme").await;
    let [v] = variants(&app, &shop, &["KILL"]).await.try_into().unwrap();
    let loc = location(&app, &shop, json!({"name": "Main"})).await;
    count(&app, &shop, &v, loc["id"].as_str().unwrap(), 1000).await;
    let owner = app.staff(&shop, &["owner"]).await;
    let (processes, bases) = three_servers(&app).await;

    // Holds stream in through the first process until it is killed without warning.
    let victim = bases[0].clone();
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let asks = {
        let (client, token, shop, v) = (client.clone(), owner.access_token.clone(), shop.clone(), v.clone());
        tokio::spawn(async move {
            futures_util::stream::iter(0..400)
                .map(|i| {
                    let (client, token, shop, v, base) =
                        (client.clone(), token.clone(), shop.clone(), v.clone(), victim.clone());
                    async move {
                        let res = client
                            .post(format!("{base}{INV}/reservations"))
                            .bearer_auth(token)
                            .header("x-tenant-id", shop)
                            .json(
                                &json!({"reference": format!("kill-{i}"), "lines": [{"variant_id": v, "quantity": 1}]}),
                            )
                            .send()
                            .await;
                        res.map(|r| r.status().as_u16()).ok()
                    }
                })
                .buffer_unordered(16)
                .collect::<Vec<Option<u16>>>()
                .await
        })
    };
    // Killed once some holds are in (so others are in flight), not after a fixed sleep.
    eventually(Duration::from_secs(30), || async { stock(&app, &shop, &v).await["reserved"].as_i64().unwrap() >= 20 })
        .await;
    processes[0].signal(nix::sys::signal::Signal::SIGKILL);
    let answers = asks.await.unwrap();
    let lost = answers.iter().filter(|a| a.is_none()).count();
    eprintln!("{} holds answered before the kill, {lost} lost with the process", answers.len() - lost);
    assert!(lost > 0, "the process died with holds in flight");

    // Whatever the kill interrupted either committed whole (a reservation with its expiry job)
    // or rolled back: reserved stock is exactly what reservations in force hold.
    ledger_agrees_with_levels(&app, &shop).await;
    let db = app.db.connect().await;
    let schema = format!("t_{shop}");
    let row = db
        .query_one(
            &format!(
                "SELECT count(*) FILTER (WHERE j.id IS NULL) FROM \"{schema}\".stock_reservations r \
                 LEFT JOIN agora.jobs j ON j.kind = 'inventory.expire_reservations' AND j.run_at = r.expires_at \
                 WHERE r.status = 'active'"
            ),
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), 0, "every reservation in force has its expiry job");
}

#[tokio::test]
async fn inventory_pickup_locations_are_the_active_ones_that_allow_it_and_only_the_shop_s_own() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("globex").await;
    let store = location(
        &app,
        &shop,
        json!({"name": "City store", "pickup": true, "address": {"line1": "Main St 1", "city": "Berlin", "country": "DE"}}),
    )
    .await;
    location(&app, &shop, json!({"name": "Warehouse"})).await;
    location(&app, &shop, json!({"name": "Closed store", "pickup": true, "active": false})).await;
    assert_eq!((store["pickup"].clone(), store["version"].clone()), (json!(true), json!(1)));

    let pickup = |shop: String| {
        let app = &app;
        async move {
            let res =
                app.get("/api/v1/store/inventory/pickup-locations").header("x-tenant-id", &shop).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let list: Value = res.json().await.unwrap();
            list["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["name"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    // Anonymous shoppers see the open store with its address, not the warehouse or the closed one.
    assert_eq!(pickup(shop.clone()).await, ["City store"]);
    assert_eq!(pickup(other.clone()).await, Vec::<String>::new(), "another shop's shoppers see none of them");

    // The merchant stops pickup there: shoppers no longer see it.
    let path = format!("{INV}/locations/{}", store["id"].as_str().unwrap());
    let res = app
        .admin(Method::PATCH, &path, &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"pickup": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["pickup"], false);
    assert_eq!(pickup(shop).await, Vec::<String>::new());
}
