//! The CSV stock import through the real app: a file of counts (`sku,location,on_hand`, optional
//! `safety_stock`) uploaded to `POST /api/v1/admin/inventory/imports`, run as a task by the
//! app's own workers and watched at `/api/v1/admin/tasks/{id}`; the levels and the ledger it
//! leaves, the rows it refuses by line and column, and the callers it refuses.

use crate::support::{problem, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const INV: &str = "/api/v1/admin/inventory";
const DEADLINE: Duration = Duration::from_secs(60);

/// The app with job workers and a file store of its own.
async fn app_with_workers() -> (TestApp, tempfile::TempDir) {
    let files = tempfile::tempdir().unwrap();
    let url = format!("file://{}", files.path().display());
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_WORKERS".into(), "2".into());
        o.env.insert("AGORA_STORAGE_URL".into(), url);
    })
    .await;
    (app, files)
}

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

async fn location(app: &TestApp, shop: &str, name: &str) -> String {
    let res =
        app.admin(Method::POST, &format!("{INV}/locations"), shop).json(&json!({"name": name})).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn count(app: &TestApp, shop: &str, variant: &str, location: &str, on_hand: i32) {
    let res = app
        .admin(Method::PUT, &format!("{INV}/variants/{variant}/stock/{location}"), shop)
        .json(&json!({"on_hand": on_hand}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
}

/// The variant's level at the location named `name`: (on hand, reserved, safety stock, available).
async fn level(app: &TestApp, shop: &str, variant: &str, name: &str) -> Option<(i64, i64, i64, i64)> {
    let stock: Value = app
        .admin(Method::GET, &format!("{INV}/variants/{variant}/stock"), shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stock["levels"].as_array().unwrap().iter().find(|l| l["location_name"] == name).map(|l| {
        let n = |f: &str| l[f].as_i64().unwrap();
        (n("on_hand"), n("reserved"), n("safety_stock"), n("available"))
    })
}

async fn ledger(app: &TestApp, shop: &str, variant: &str) -> Vec<Value> {
    let page: Value = app
        .admin(Method::GET, &format!("{INV}/variants/{variant}/ledger"), shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["items"].as_array().unwrap().clone()
}

async fn upload(app: &TestApp, shop: &str, csv: &str) -> reqwest::Response {
    app.admin(Method::POST, &format!("{INV}/imports"), shop)
        .header("content-type", "text/csv")
        .body(csv.to_string())
        .send()
        .await
        .unwrap()
}

/// Uploads `csv` and returns the started task's id (202, Location naming the task).
async fn start(app: &TestApp, shop: &str, csv: &str) -> String {
    let res = upload(app, shop, csv).await;
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap_or_default());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let id = res.json::<Value>().await.unwrap()["task_id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/admin/tasks/{id}"));
    id
}

/// Waits (with a deadline) for the task to finish; the task with its errors beside it.
async fn finished(app: &TestApp, shop: &str, task: &str) -> Value {
    let path = format!("/api/v1/admin/tasks/{task}");
    let start = std::time::Instant::now();
    loop {
        let detail: Value = app.admin(Method::GET, &path, shop).send().await.unwrap().json().await.unwrap();
        let mut task = detail["task"].clone();
        task["errors"] = detail["errors"].clone();
        if ["succeeded", "failed", "cancelled"].contains(&task["status"].as_str().unwrap_or_default()) {
            return task;
        }
        assert!(start.elapsed() < DEADLINE, "the import did not finish within {DEADLINE:?}: {task}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Every stored level's on hand equals the sum of its ledger.
async fn ledger_agrees_with_levels(app: &TestApp, shop: &str) {
    let db = app.db.connect().await;
    let rows = db
        .query(
            &format!(
                "SELECT l.on_hand, COALESCE((SELECT sum(a.on_hand_delta) FROM \"t_{shop}\".stock_adjustments a \
                   WHERE a.variant_id = l.variant_id AND a.location_id = l.location_id), 0)::int \
                 FROM \"t_{shop}\".stock_levels l"
            ),
            &[],
        )
        .await
        .unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        assert_eq!(row.get::<_, i32>(0), row.get::<_, i32>(1), "on hand is the sum of the ledger");
    }
}

async fn stock_events(app: &TestApp, shop: &str) -> i64 {
    let db = app.db.connect().await;
    db.query_one("SELECT count(*) FROM agora.outbox WHERE tenant_slug = $1 AND name LIKE 'inventory.%'", &[&shop])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn inventory_import_counts_stock_into_levels_and_the_ledger_and_a_rerun_changes_nothing() {
    let (app, _files) = app_with_workers().await;
    let shop = app.tenant("acme").await;
    let [shirt, socks] = variants(&app, &shop, &["SH-1", "SO-1"]).await.try_into().unwrap();
    let berlin = location(&app, &shop, "Berlin").await;
    location(&app, &shop, "Paris").await;
    count(&app, &shop, &shirt, &berlin, 5).await;

    // Location names in any case; an empty safety stock cell leaves it as it is.
    let file = "sku,location,on_hand,safety_stock\n\
                SH-1,berlin,12,2\n\
                SO-1,Paris,7,\n\
                SH-1,PARIS,0,\n";
    let task_id = start(&app, &shop, file).await;
    let task = finished(&app, &shop, &task_id).await;
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["kind"], "inventory.import_stock");
    assert_eq!((task["rows_total"].as_i64(), task["rows_done"].as_i64()), (Some(3), Some(3)), "{task}");
    assert_eq!((task["rows_failed"].as_i64(), task["percent"].as_i64()), (Some(0), Some(100)), "{task}");

    assert_eq!(level(&app, &shop, &shirt, "Berlin").await, Some((12, 0, 2, 10)));
    assert_eq!(level(&app, &shop, &shirt, "Paris").await, Some((0, 0, 0, 0)));
    assert_eq!(level(&app, &shop, &socks, "Paris").await, Some((7, 0, 0, 7)));

    // The difference is in the ledger as a count, naming the import and who started it.
    let entries = ledger(&app, &shop, &shirt).await;
    assert_eq!(
        entries.len(),
        2,
        "the count by hand and the import's; a count of 0 over nothing adds none: {entries:?}"
    );
    let imported = &entries[0];
    assert_eq!(imported["reason"], "counted");
    assert_eq!((imported["on_hand_delta"].as_i64(), imported["on_hand_after"].as_i64()), (Some(7), Some(12)));
    assert_eq!(imported["reference"], format!("csv-import:{task_id}"));
    assert_eq!(imported["created_by"], entries[1]["created_by"], "the staff member who started it, not the job");
    assert!(imported["created_by"].as_str().unwrap().starts_with("user:"), "{imported}");
    let socks_ledger = ledger(&app, &shop, &socks).await;
    assert_eq!(socks_ledger.len(), 1);
    assert_eq!(socks_ledger[0]["on_hand_delta"], 7);
    ledger_agrees_with_levels(&app, &shop).await;

    // The same file again: nothing new in the ledger, no event.
    let events = stock_events(&app, &shop).await;
    let task = finished(&app, &shop, &start(&app, &shop, file).await).await;
    assert_eq!((task["status"].as_str(), task["rows_failed"].as_i64()), (Some("succeeded"), Some(0)), "{task}");
    assert_eq!(ledger(&app, &shop, &shirt).await.len(), 2);
    assert_eq!(stock_events(&app, &shop).await, events, "a rerun publishes nothing");
    assert_eq!(level(&app, &shop, &shirt, "Berlin").await, Some((12, 0, 2, 10)));

    // The export writes every level in the import's columns; imported back, it changes nothing.
    let res = app.admin(Method::POST, &format!("{INV}/exports"), &shop).send().await.unwrap();
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap_or_default());
    let export_id = res.json::<Value>().await.unwrap()["task_id"].as_str().unwrap().to_string();
    let task = finished(&app, &shop, &export_id).await;
    assert_eq!(task["status"], "succeeded", "{task}");
    let res = app.admin(Method::GET, &format!("/api/v1/admin/tasks/{export_id}/result"), &shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    let mut lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.remove(0), "sku,location,on_hand,safety_stock");
    lines.sort();
    assert_eq!(lines, ["SH-1,Berlin,12,2", "SH-1,Paris,0,0", "SO-1,Paris,7,0"], "{csv}");
    let task = finished(&app, &shop, &start(&app, &shop, &csv).await).await;
    assert_eq!((task["status"].as_str(), task["rows_failed"].as_i64()), (Some("succeeded"), Some(0)), "{task}");
    assert_eq!(stock_events(&app, &shop).await, events, "the export imported back changes nothing");
}

#[tokio::test]
async fn inventory_import_names_each_bad_row_by_line_and_column_and_applies_the_good_ones() {
    let (app, _files) = app_with_workers().await;
    let shop = app.tenant("acme").await;
    let [shirt, socks] = variants(&app, &shop, &["SH-1", "SO-1"]).await.try_into().unwrap();
    location(&app, &shop, "Berlin").await;
    let paris = location(&app, &shop, "Paris").await;
    count(&app, &shop, &socks, &paris, 5).await;
    let res = app
        .admin(Method::POST, &format!("{INV}/reservations"), &shop)
        .json(
            &json!({"reference": "phone order", "location_id": paris, "lines": [{"variant_id": socks, "quantity": 2}]}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());

    let file = "sku,location,on_hand\n\
                SH-1,Berlin,4\n\
                NOPE-9,Berlin,1\n\
                SH-1,Atlantis,1\n\
                SO-1,Berlin,lots\n\
                SO-1,Berlin,-1\n\
                SH-1,berlin,9\n\
                SO-1,Berlin,3,extra\n\
                SO-1,Paris,1\n\
                SO-1,Berlin,6\n\
                SH 1,,2.5\n";
    let task = finished(&app, &shop, &start(&app, &shop, file).await).await;
    assert_eq!(task["status"], "succeeded", "a file with bad rows applies its good ones: {task}");
    assert_eq!((task["rows_total"].as_i64(), task["rows_failed"].as_i64()), (Some(10), Some(8)), "{task}");
    let mut errors: Vec<(i64, String)> = task["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["field"].as_str().unwrap().to_string()))
        .collect();
    errors.sort();
    let expected: Vec<(i64, String)> = [
        (3, "sku"),       // no such SKU
        (4, "location"),  // no such location
        (5, "on_hand"),   // not a number
        (6, "on_hand"),   // negative
        (7, "sku"),       // the same SKU and location as line 2
        (8, "row"),       // a field too many
        (9, "on_hand"),   // below the 2 reserved at Paris
        (11, "location"), // every problem of the row is named
        (11, "on_hand"),
        (11, "sku"),
    ]
    .into_iter()
    .map(|(line, field)| (line, field.to_string()))
    .collect();
    assert_eq!(errors, expected, "{task}");
    let reserved = task["errors"].as_array().unwrap().iter().find(|e| e["line"] == 9).unwrap();
    assert!(reserved["message"].as_str().unwrap().contains("2 units are reserved"), "{reserved}");

    assert_eq!(level(&app, &shop, &shirt, "Berlin").await, Some((4, 0, 0, 4)));
    assert_eq!(level(&app, &shop, &socks, "Berlin").await, Some((6, 0, 0, 6)));
    assert_eq!(level(&app, &shop, &socks, "Paris").await, Some((5, 2, 0, 3)), "the refused count changed nothing");
    ledger_agrees_with_levels(&app, &shop).await;

    // A wrong header is refused at once, naming the columns; nothing is started.
    let tasks_before: Value =
        app.admin(Method::GET, "/api/v1/admin/tasks", &shop).send().await.unwrap().json().await.unwrap();
    let body = problem(upload(&app, &shop, "sku,place,on_hand\nSH-1,Berlin,1\n").await, 422).await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["location", "place"]);
    let latin1 = app
        .admin(Method::POST, &format!("{INV}/imports"), &shop)
        .header("content-type", "text/csv")
        .body(b"sku,locati\xf6n,on_hand\n".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(problem(latin1, 422).await["errors"][0]["field"], "file");
    let tasks_after: Value =
        app.admin(Method::GET, "/api/v1/admin/tasks", &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(tasks_after["items"].as_array().unwrap().len(), tasks_before["items"].as_array().unwrap().len());
}

#[tokio::test]
async fn inventory_import_is_refused_to_callers_who_may_not_manage_stock() {
    let (app, _files) = app_with_workers().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let [shirt] = variants(&app, &shop, &["SH-1"]).await.try_into().unwrap();
    location(&app, &shop, "Berlin").await;
    let customer = app.customer(&shop).await;
    let reader = app.staff(&shop, &["support"]).await; // inventory.read, not inventory.manage
    let foreign = app.staff(&other, &["owner"]).await;
    let file = "sku,location,on_hand\nSH-1,Berlin,50\n";
    let url = app.url(&format!("{INV}/imports"));
    let post = || app.client.post(&url).header("x-tenant-id", &shop).header("content-type", "text/csv").body(file);

    problem(post().send().await.unwrap(), 401).await;
    problem(post().bearer_auth(&customer.access_token).send().await.unwrap(), 403).await;
    let lacking = problem(post().bearer_auth(&reader.access_token).send().await.unwrap(), 403).await;
    assert!(lacking["detail"].as_str().unwrap().contains("inventory.manage"), "{lacking}");
    problem(post().bearer_auth(&foreign.access_token).send().await.unwrap(), 401).await;

    let tasks: Value = app.admin(Method::GET, "/api/v1/admin/tasks", &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(tasks["items"].as_array().unwrap().len(), 0, "nothing was started");
    assert_eq!(level(&app, &shop, &shirt, "Berlin").await, None, "no level was made");
}
