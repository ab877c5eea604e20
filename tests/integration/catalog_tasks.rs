//! The catalog's background work through the real app: bulk changes, CSV import and export, run
//! as tasks by the app's own workers, watched through `/api/v1/admin/tasks/{id}`.

use crate::support::{problem, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const ADMIN: &str = "/api/v1/admin/catalog";
const STORE: &str = "/api/v1/store/catalog";

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

async fn created(app: &TestApp, shop: &str, path: &str, body: Value) -> Value {
    let res = app.admin(Method::POST, &format!("{ADMIN}{path}"), shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{path}: {}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

async fn product(app: &TestApp, shop: &str, id: &str) -> Value {
    app.admin(Method::GET, &format!("{ADMIN}/products/{id}"), shop).send().await.unwrap().json().await.unwrap()
}

/// Starts a task with `POST path` and returns its id (the answer is 202 naming where to watch).
async fn started(res: reqwest::Response) -> String {
    assert_eq!(res.status(), 202, "{}", res.text().await.unwrap_or_default());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    let id = body["task_id"].as_str().unwrap().to_string();
    assert_eq!(location, format!("/api/v1/admin/tasks/{id}"));
    id
}

/// Waits (with a deadline) for the task to finish and returns it.
async fn finished(app: &TestApp, shop: &str, task: &str, deadline: Duration) -> Value {
    let path = format!("/api/v1/admin/tasks/{task}");
    let start = std::time::Instant::now();
    loop {
        let detail: Value = app.admin(Method::GET, &path, shop).send().await.unwrap().json().await.unwrap();
        // The task's fields with its errors beside them.
        let mut task = detail["task"].clone();
        task["errors"] = detail["errors"].clone();
        if ["succeeded", "failed", "cancelled"].contains(&task["status"].as_str().unwrap_or_default()) {
            return task;
        }
        assert!(start.elapsed() < deadline, "the task did not finish within {deadline:?}: {task}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn events(app: &TestApp, shop: &str) -> Vec<String> {
    let pg = app.db.connect().await;
    pg.query("SELECT name FROM agora.outbox WHERE tenant_slug = $1 AND name LIKE 'catalog.%' ORDER BY id", &[&shop])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

fn priced(name: &str, sku: &str, eur: i64) -> Value {
    json!({
        "name": {"en": name},
        "status": "active",
        "tags": ["sale"],
        "variants": [{"sku": sku, "prices": [{"amount": eur, "currency": "EUR", "compare_at": eur * 2}]}]
    })
}

#[tokio::test]
async fn catalog_bulk_changes_run_as_tasks_and_report_the_products_they_leave() {
    let (app, _files) = app_with_workers().await;
    let shop = app.tenant("acme").await;
    let mug = created(&app, &shop, "/products", priced("Mug", "MUG", 1000)).await;
    let cup = created(&app, &shop, "/products", priced("Cup", "CUP", 300)).await;
    let jar = created(&app, &shop, "/products", priced("Jar", "JAR", 2000)).await;
    let (mug_id, cup_id, jar_id) =
        (mug["id"].as_str().unwrap(), cup["id"].as_str().unwrap(), jar["id"].as_str().unwrap());
    // The storefront has read the list (and keeps it).
    let list: Value = app
        .get(&format!("{STORE}/products?sort=price"))
        .header("x-tenant-id", &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["price_from"]["amount"], 300);
    let before = events(&app, &shop).await.len();

    // 5 EUR off everything tagged "sale": the cup would cost less than nothing and is left as it was.
    let res = app
        .admin(Method::POST, &format!("{ADMIN}/bulk/prices"), &shop)
        .json(&json!({"selection": {"filter": {"tag": "sale"}}, "amounts": {"EUR": -500}}))
        .send()
        .await
        .unwrap();
    let task = finished(&app, &shop, &started(res).await, Duration::from_secs(30)).await;
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["rows_total"], 3);
    assert_eq!(task["rows_failed"], 1, "{task}");
    let error = &task["errors"][0];
    assert_eq!(error["field"], "prices.EUR");
    assert!(error["message"].as_str().unwrap().contains(cup_id), "{error}");
    let (mug, cup, jar) =
        (product(&app, &shop, mug_id).await, product(&app, &shop, cup_id).await, product(&app, &shop, jar_id).await);
    assert_eq!(mug["variants"][0]["prices"][0]["price"]["amount"], 500);
    assert_eq!(mug["version"], 2);
    assert_eq!(jar["variants"][0]["prices"][0]["price"]["amount"], 1500);
    assert_eq!(cup["variants"][0]["prices"][0]["price"]["amount"], 300);
    assert_eq!(cup["version"], 1, "the refused product is untouched");
    let history: Value = app
        .admin(Method::GET, &format!("{ADMIN}/products/{mug_id}/history"), &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(history["items"][0]["action"], "prices_changed");
    let published = events(&app, &shop).await;
    assert_eq!(
        published[before..].iter().filter(|e| *e == "catalog.price_changed.v1").count(),
        2,
        "one price event per changed price: {published:?}"
    );
    // The storefront shows the new prices at once (its copy was dropped after each batch).
    let list: Value = app
        .get(&format!("{STORE}/products?sort=price"))
        .header("x-tenant-id", &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let prices: Vec<i64> =
        list["items"].as_array().unwrap().iter().map(|p| p["price_from"]["amount"].as_i64().unwrap()).collect();
    assert_eq!(prices, vec![300, 500, 1500]);

    // 10 % off by id, compare-at prices alike.
    let res = app
        .admin(Method::POST, &format!("{ADMIN}/bulk/prices"), &shop)
        .json(&json!({"selection": {"ids": [jar_id]}, "percent_basis_points": -1000}))
        .send()
        .await
        .unwrap();
    assert_eq!(finished(&app, &shop, &started(res).await, Duration::from_secs(30)).await["status"], "succeeded");
    let jar = product(&app, &shop, jar_id).await;
    assert_eq!(
        jar["variants"][0]["prices"][0],
        json!({"price": {"amount": 1350, "currency": "EUR"}, "compare_at": {"amount": 3600, "currency": "EUR"}})
    );

    // Status and categories, by id; a product changed by nothing keeps its version.
    let tops = created(&app, &shop, "/categories", json!({"name": {"en": "Tops"}})).await;
    let res = app
        .admin(Method::POST, &format!("{ADMIN}/bulk/categories"), &shop)
        .json(&json!({"selection": {"ids": [mug_id, cup_id]}, "add": [tops["id"]]}))
        .send()
        .await
        .unwrap();
    assert_eq!(finished(&app, &shop, &started(res).await, Duration::from_secs(30)).await["status"], "succeeded");
    assert_eq!(product(&app, &shop, cup_id).await["category_ids"], json!([tops["id"]]));
    let res = app
        .admin(Method::POST, &format!("{ADMIN}/bulk/status"), &shop)
        .json(&json!({"selection": {"ids": [mug_id, cup_id]}, "status": "archived"}))
        .send()
        .await
        .unwrap();
    assert_eq!(finished(&app, &shop, &started(res).await, Duration::from_secs(30)).await["status"], "succeeded");
    let cup = product(&app, &shop, cup_id).await;
    assert_eq!((cup["status"].as_str(), cup["version"].as_i64()), (Some("archived"), Some(3)));
    let list: Value =
        app.get(&format!("{STORE}/products")).header("x-tenant-id", &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "archived products left the storefront at once");
    let res = app
        .admin(Method::POST, &format!("{ADMIN}/bulk/status"), &shop)
        .json(&json!({"selection": {"ids": [cup_id]}, "status": "archived"}))
        .send()
        .await
        .unwrap();
    assert_eq!(finished(&app, &shop, &started(res).await, Duration::from_secs(30)).await["status"], "succeeded");
    assert_eq!(product(&app, &shop, cup_id).await["version"], 3);
}

#[tokio::test]
async fn catalog_bulk_changes_refuse_bad_requests_before_starting() {
    let (app, _files) = app_with_workers().await;
    let shop = app.tenant("acme").await;
    for (path, body, field) in [
        ("/bulk/prices", json!({"selection": {"ids": []}, "percent_basis_points": 10}), "selection.ids"),
        (
            "/bulk/prices",
            json!({"selection": {"filter": {}}, "percent_basis_points": 10, "amounts": {"EUR": 1}}),
            "percent_basis_points",
        ),
        ("/bulk/prices", json!({"selection": {"filter": {}}, "amounts": {"GBP": 100}}), "amounts.GBP"),
        ("/bulk/prices", json!({"selection": {"filter": {}}, "percent_basis_points": -20000}), "percent_basis_points"),
        ("/bulk/status", json!({"selection": {}, "status": "active"}), "selection"),
        (
            "/bulk/categories",
            json!({"selection": {"filter": {}}, "add": ["0190b3a0-0000-7000-8000-000000000000"]}),
            "add[0]",
        ),
    ] {
        let res = app.admin(Method::POST, &format!("{ADMIN}{path}"), &shop).json(&body).send().await.unwrap();
        let problem = problem(res, 422).await;
        assert_eq!(problem["errors"][0]["field"], field, "{path} {body}");
    }
    let tasks: Value = app.admin(Method::GET, "/api/v1/admin/tasks", &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(tasks["items"].as_array().unwrap().len(), 0, "nothing was started");
}

/// A file of `rows` variants: shirts in sizes S, M and L (three rows per shirt).
fn product_file(rows: usize) -> String {
    let mut csv = String::from(
        "product_handle,name,status,category,tags,option1_name,option1_value,sku,weight_grams,price_EUR,compare_at_EUR\n",
    );
    for row in 0..rows {
        let (p, s) = (row / 3, row % 3);
        let size = ["S", "M", "L"][s];
        let price = 1000 + row;
        csv.push_str(&format!(
            "shirt-{p},Shirt {p},active,tops,summer|cotton,size,{size},SH-{p}-{size},{},{}.{:02},\n",
            150 + s,
            price / 100,
            price % 100
        ));
    }
    csv
}

/// Three lines spoilt, each in its own way (lines are 1-based, the header is line 1).
fn spoil(csv: &str) -> String {
    let mut lines: Vec<String> = csv.lines().map(str::to_string).collect();
    lines[4] = lines[4].replace(",active,", ",for-sale,"); // line 5: status
    lines[500] = lines[500].replacen("SH-", "SH -", 1); // line 501: a SKU with a space
    let last = lines.len() - 1;
    lines[last] = lines[last].replace(",150,", ",-2,"); // the last line: weight
    lines.join("\n") + "\n"
}

async fn import(app: &TestApp, shop: &str, csv: String) -> reqwest::Response {
    app.admin(Method::POST, &format!("{ADMIN}/imports"), shop)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap()
}

async fn versions(app: &TestApp, shop: &str) -> Vec<(String, i64)> {
    let pg = app.db.connect().await;
    let schema = format!("t_{shop}");
    pg.query(&format!("SELECT id::text, version FROM \"{schema}\".products ORDER BY id"), &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect()
}

#[tokio::test]
async fn catalog_csv_import_of_ten_thousand_rows_applies_the_valid_ones_and_a_rerun_changes_nothing() {
    let (app, _files) = app_with_workers().await;
    let shop = app.tenant("acme").await;
    created(&app, &shop, "/categories", json!({"name": {"en": "Tops"}, "slug": "tops"})).await;
    let file = spoil(&product_file(10_000));
    assert_eq!(file.lines().count(), 10_001);

    let started_at = std::time::Instant::now();
    let task =
        finished(&app, &shop, &started(import(&app, &shop, file.clone()).await).await, Duration::from_secs(600)).await;
    eprintln!("10,000 rows imported in {:?}", started_at.elapsed());
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["rows_total"], 10_000);
    assert_eq!(task["rows_failed"], 3, "{task}");
    let errors: Vec<(i64, String)> = task["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["field"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(errors, vec![(5, "status".to_string()), (501, "sku".to_string()), (10_001, "weight_grams".to_string())]);
    let pg = app.db.connect().await;
    let count: i64 = pg
        .query_one(&format!("SELECT count(*) FROM \"t_{shop}\".variants WHERE deleted_at IS NULL"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(count, 9_997);
    let shirt: Value = app
        .get(&format!("{STORE}/products/shirt-7?currency=EUR"))
        .header("x-tenant-id", &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shirt["name"], "Shirt 7");
    assert_eq!(shirt["variants"][1]["sku"], "SH-7-M");
    assert_eq!(shirt["variants"][1]["price"], json!({"amount": 1022, "currency": "EUR"})); // row 22
    assert_eq!(shirt["categories"][0][0]["slug"], "tops");

    // The same file again: nothing new, no version bumped, no event published.
    let before = (versions(&app, &shop).await, events(&app, &shop).await.len());
    let task = finished(&app, &shop, &started(import(&app, &shop, file).await).await, Duration::from_secs(600)).await;
    assert_eq!(task["status"], "succeeded", "{task}");
    assert_eq!(task["rows_failed"], 3);
    assert_eq!((versions(&app, &shop).await, events(&app, &shop).await.len()), before);
}

#[tokio::test]
async fn catalog_csv_import_upserts_by_sku_and_export_round_trips() {
    let (app, _files) = app_with_workers().await;
    let shop = app.tenant("acme").await;
    created(&app, &shop, "/categories", json!({"name": {"en": "Tops"}, "slug": "tops"})).await;
    let task =
        finished(&app, &shop, &started(import(&app, &shop, product_file(6)).await).await, Duration::from_secs(60))
            .await;
    assert_eq!((task["status"].as_str(), task["rows_failed"].as_i64()), (Some("succeeded"), Some(0)), "{task}");

    // A changed price and a new size: the product changes once per row, nothing else does.
    let file = "product_handle,sku,option1_name,option1_value,price_EUR\n\
                shirt-0,SH-0-S,size,S,12.50\n\
                shirt-0,SH-0-XL,size,XL,13.00\n\
                shirt-1,SH-1-S,size,S,10.03\n";
    let task =
        finished(&app, &shop, &started(import(&app, &shop, file.into()).await).await, Duration::from_secs(60)).await;
    assert_eq!((task["status"].as_str(), task["rows_failed"].as_i64()), (Some("succeeded"), Some(0)), "{task}");
    let list: Value = app
        .admin(Method::GET, &format!("{ADMIN}/products?sort=name"), &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let (shirt0, shirt1) = (&list["items"][0], &list["items"][1]);
    assert_eq!(shirt0["variants"].as_array().unwrap().len(), 4);
    assert_eq!(shirt0["variants"][0]["prices"][0]["price"]["amount"], 1250);
    assert_eq!(shirt0["options"][0]["values"], json!(["S", "M", "L", "XL"]));
    assert_eq!(shirt1["version"], 1, "a row that says what is stored changes nothing");

    // The export has every variant, in columns an import takes back.
    let res = app.admin(Method::POST, &format!("{ADMIN}/exports"), &shop).send().await.unwrap();
    let task_id = started(res).await;
    let task = finished(&app, &shop, &task_id, Duration::from_secs(60)).await;
    assert_eq!(task["status"], "succeeded", "{task}");
    let res = app.admin(Method::GET, &format!("/api/v1/admin/tasks/{task_id}/result"), &shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next().unwrap(),
        "product_handle,sku,name,status,kind,product_type,category,tags,description,option1_name,option1_value,\
         option2_name,option2_value,option3_name,option3_value,barcode,weight_grams,price_EUR,compare_at_EUR"
    );
    let rows: Vec<&str> = lines.collect();
    assert_eq!(rows.len(), 7);
    assert!(
        rows.contains(&"shirt-0,SH-0-XL,Shirt 0,active,physical,,tops,summer|cotton,,size,XL,,,,,,,13.00,"),
        "{csv}"
    );
    let before = versions(&app, &shop).await;
    let task =
        finished(&app, &shop, &started(import(&app, &shop, csv.clone()).await).await, Duration::from_secs(60)).await;
    assert_eq!((task["status"].as_str(), task["rows_failed"].as_i64()), (Some("succeeded"), Some(0)), "{task}");
    assert_eq!(versions(&app, &shop).await, before, "the export imported again changes nothing");
}

#[tokio::test]
async fn catalog_csv_import_refuses_a_wrong_header_or_encoding_at_once() {
    let (app, _files) = app_with_workers().await;
    let shop = app.tenant("acme").await;
    let body = problem(import(&app, &shop, "handle,sku,price\nx,y,1\n".into()).await, 422).await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, vec!["product_handle", "handle", "price"]);
    let latin1 = app
        .admin(Method::POST, &format!("{ADMIN}/imports"), &shop)
        .header("content-type", "text/csv")
        .body(b"product_handle,sku,n\xe4me\n".to_vec())
        .send()
        .await
        .unwrap();
    let body = problem(latin1, 422).await;
    assert_eq!(body["errors"][0]["field"], "file");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("UTF-8"));
    let tasks: Value = app.admin(Method::GET, "/api/v1/admin/tasks", &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(tasks["items"].as_array().unwrap().len(), 0, "nothing was started");
}
