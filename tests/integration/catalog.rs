//! The catalog through the real app: staff manage products, variants, prices, categories and
//! product types; shoppers list, filter, open and search what is visible, and nothing else.

use crate::identity::{fill_path, request};
use crate::support::{problem, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const ADMIN: &str = "/api/v1/admin/catalog";
const STORE: &str = "/api/v1/store/catalog";

async fn post(app: &TestApp, shop: &str, path: &str, body: Value) -> reqwest::Response {
    app.admin(Method::POST, &format!("{ADMIN}{path}"), shop).json(&body).send().await.unwrap()
}

async fn created(app: &TestApp, shop: &str, path: &str, body: Value) -> Value {
    let res = post(app, shop, path, body).await;
    assert_eq!(res.status(), 201, "{path}: {}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

async fn admin_get(app: &TestApp, shop: &str, path: &str) -> reqwest::Response {
    app.admin(Method::GET, &format!("{ADMIN}{path}"), shop).send().await.unwrap()
}

async fn patch(app: &TestApp, shop: &str, path: &str, version: i64, body: Value) -> reqwest::Response {
    app.admin(Method::PATCH, &format!("{ADMIN}{path}"), shop)
        .header("if-match", format!("\"{version}\""))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn store_get(app: &TestApp, shop: &str, path: &str) -> reqwest::Response {
    app.client.get(app.url(&format!("{STORE}{path}"))).header("x-tenant-id", shop).send().await.unwrap()
}

async fn store_json(app: &TestApp, shop: &str, path: &str) -> Value {
    let res = store_get(app, shop, path).await;
    assert_eq!(res.status(), 200, "{path}");
    res.json().await.unwrap()
}

/// A product type "Apparel" with a filterable colour, material list and an organic flag.
async fn apparel(app: &TestApp, shop: &str) -> Value {
    created(
        app,
        shop,
        "/product-types",
        json!({"name": "Apparel", "attributes": [
            {"code": "colour", "name": {"en": "Colour"}, "kind": "select", "options": ["red", "blue", "green"], "filterable": true},
            {"code": "materials", "name": {"en": "Materials"}, "kind": "multi_select", "options": ["cotton", "wool", "linen"], "filterable": true},
            {"code": "organic", "name": {"en": "Organic"}, "kind": "boolean", "filterable": true},
            {"code": "weight", "name": {"en": "Fabric weight"}, "kind": "number"},
            {"code": "care", "name": {"en": "Care"}, "kind": "text"}
        ]}),
    )
    .await
}

/// An active product with one variant priced in EUR.
fn active(name: &str, sku: &str, price: i64) -> Value {
    json!({
        "name": {"en": name},
        "status": "active",
        "variants": [{"sku": sku, "prices": [{"amount": price, "currency": "EUR"}]}]
    })
}

fn names(items: &Value) -> Vec<String> {
    items.as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn catalog_products_round_trip_with_versions_history_and_events() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let kind = apparel(&app, &shop).await;
    let tops = created(&app, &shop, "/categories", json!({"name": {"en": "Tops", "de": "Oberteile"}})).await;
    let product = created(
        &app,
        &shop,
        "/products",
        json!({
            "name": {"en": "Classic T-Shirt", "de": "Klassisches T-Shirt"},
            "description": {"en": "Soft cotton."},
            "product_type_id": kind["id"],
            "attributes": {"colour": "red", "materials": ["cotton"], "organic": true, "weight": 180},
            "tags": ["Summer", "basics"],
            "category_ids": [tops["id"]],
            "options": [{"name": "size", "values": ["S", "M"]}],
            "variants": [
                {"sku": "TS-S", "option_values": {"size": "S"}, "weight_grams": 150,
                 "prices": [{"amount": 1999, "currency": "EUR", "compare_at": 2499}]},
                {"sku": "TS-M", "option_values": {"size": "M"}, "prices": [{"amount": 2199, "currency": "EUR"}]}
            ]
        }),
    )
    .await;
    let id = product["id"].as_str().unwrap().to_string();
    assert_eq!(product["status"], "draft");
    assert_eq!(product["version"], 1);
    assert_eq!(product["tags"], json!(["summer", "basics"]));
    assert_eq!(product["slug"], json!({"en": "classic-t-shirt", "de": "klassisches-t-shirt"}));
    assert_eq!(
        product["variants"][0]["prices"][0],
        json!({"price": {"amount": 1999, "currency": "EUR"}, "compare_at": {"amount": 2499, "currency": "EUR"}})
    );

    let res = admin_get(&app, &shop, &format!("/products/{id}")).await;
    assert_eq!(res.headers()["etag"], "\"1\"");
    let read: Value = res.json().await.unwrap();
    assert_eq!(read["variants"].as_array().unwrap().len(), 2);
    assert_eq!(read["category_ids"], json!([tops["id"]]));

    // A change with the current version, then a stale one.
    let res = patch(&app, &shop, &format!("/products/{id}"), 1, json!({"status": "active", "tags": ["summer"]})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let res = patch(&app, &shop, &format!("/products/{id}"), 1, json!({"status": "archived"})).await;
    problem(res, 412).await;
    // The same values again change nothing: no new version.
    let res = patch(&app, &shop, &format!("/products/{id}"), 2, json!({"status": "active"})).await;
    let same: Value = res.json().await.unwrap();
    assert_eq!(same["version"], 2);

    // A price change bumps the product's version.
    let variant = read["variants"][1]["id"].as_str().unwrap();
    let res = patch(
        &app,
        &shop,
        &format!("/products/{id}/variants/{variant}"),
        2,
        json!({"prices": [{"amount": 2299, "currency": "EUR"}]}),
    )
    .await;
    assert_eq!(res.status(), 200);
    let after: Value = res.json().await.unwrap();
    assert_eq!(after["version"], 3);
    assert_eq!(after["variants"][1]["prices"][0]["price"]["amount"], 2299);

    let history: Value = admin_get(&app, &shop, &format!("/products/{id}/history")).await.json().await.unwrap();
    let actions: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert_eq!(actions, vec!["variant_updated", "updated", "created"]);
    assert_eq!(history["items"][1]["changes"]["status"], json!({"from": "draft", "to": "active"}));
    assert!(history["items"][0]["changed_by"].as_str().unwrap().starts_with("user:"));

    // Events went through the outbox with the writes.
    let pg = app.db.connect().await;
    let events: Vec<String> = pg
        .query("SELECT name FROM agora.outbox WHERE tenant_slug = $1 AND name LIKE 'catalog.%' ORDER BY id", &[&shop])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        events,
        vec![
            "catalog.product_type_changed.v1",
            "catalog.category_changed.v1",
            "catalog.product_created.v1",
            "catalog.product_updated.v1",
            "catalog.product_published.v1",
            "catalog.product_updated.v1",
            "catalog.price_changed.v1"
        ]
    );

    // Each admin write is in the shop's audit log, by whom and from where; the refused and the
    // empty ones are not.
    let audit = pg
        .query(
            &format!(
                "SELECT action, actor, ip FROM \"t_{shop}\".audit_log WHERE action LIKE 'catalog.%' ORDER BY occurred_at, id"
            ),
            &[],
        )
        .await
        .unwrap();
    let actions: Vec<String> = audit.iter().map(|r| r.get(0)).collect();
    assert_eq!(
        actions,
        vec![
            "catalog.product_type.created",
            "catalog.category.created",
            "catalog.product.created",
            "catalog.product.updated",
            "catalog.product.updated"
        ]
    );
    assert!(audit.iter().all(|r| r.get::<_, String>(1).starts_with("user:")));
    assert!(audit.iter().all(|r| r.get::<_, Option<String>>(2).is_some()), "the client's address is kept");

    // Webhook endpoints can subscribe to them.
    let types: Value =
        app.admin(Method::GET, "/api/v1/admin/webhooks/event-types", &shop).send().await.unwrap().json().await.unwrap();
    for name in [
        "catalog.product_created.v1",
        "catalog.product_deleted.v1",
        "catalog.price_changed.v1",
        "catalog.product_unpublished.v1",
    ] {
        assert!(types["event_types"].as_array().unwrap().contains(&json!(name)), "{name} offered");
    }

    // Deleting needs the current version; afterwards the product is gone and its SKUs are free.
    let res = app
        .admin(Method::DELETE, &format!("{ADMIN}/products/{id}"), &shop)
        .header("if-match", "\"2\"")
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let res = app
        .admin(Method::DELETE, &format!("{ADMIN}/products/{id}"), &shop)
        .header("if-match", "\"3\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    problem(admin_get(&app, &shop, &format!("/products/{id}")).await, 404).await;
    created(&app, &shop, "/products", active("Reborn", "TS-S", 100)).await;
    let list: Value = admin_get(&app, &shop, "/products").await.json().await.unwrap();
    assert_eq!(names_of_admin(&list["items"]), vec!["Reborn"]);
}

fn names_of_admin(items: &Value) -> Vec<String> {
    items.as_array().unwrap().iter().map(|p| p["name"]["en"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn catalog_sku_and_slug_clashes_are_409s_naming_the_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let first = created(
        &app,
        &shop,
        "/products",
        json!({"name": {"en": "Mug"}, "slug": {"en": "mug"}, "variants": [{"sku": "MUG-1"}]}),
    )
    .await;

    let res = post(
        &app,
        &shop,
        "/products",
        json!({"name": {"en": "Cup"}, "variants": [{"sku": "CUP-1"}, {"sku": "MUG-1"}]}),
    )
    .await;
    let body = problem(res, 409).await;
    assert_eq!(body["errors"][0]["field"], "variants[1].sku", "{body}");
    let res = post(&app, &shop, "/products", json!({"name": {"en": "Cup"}, "slug": {"en": "mug"}})).await;
    let body = problem(res, 409).await;
    assert_eq!(body["errors"][0]["field"], "slug.en", "{body}");
    let res =
        post(&app, &shop, "/products", json!({"name": {"en": "Cup"}, "variants": [{"sku": "X-1"}, {"sku": "X-1"}]}))
            .await;
    problem(res, 409).await;
    // Nothing of the refused products was written, not even their variants' SKUs.
    let list: Value = admin_get(&app, &shop, "/products").await.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    created(&app, &shop, "/products", json!({"name": {"en": "Cup"}, "variants": [{"sku": "CUP-1"}]})).await;

    // A variant added or renamed onto a taken SKU.
    let id = first["id"].as_str().unwrap();
    let res = app
        .admin(Method::POST, &format!("{ADMIN}/products/{id}/variants"), &shop)
        .json(&json!({"sku": "CUP-1"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 409).await;
    assert_eq!(body["errors"][0]["field"], "sku");
    let variant = first["variants"][0]["id"].as_str().unwrap();
    let res = patch(&app, &shop, &format!("/products/{id}/variants/{variant}"), 1, json!({"sku": "CUP-1"})).await;
    problem(res, 409).await;

    // Two products made from the same name get distinct slugs without being asked.
    let a = created(&app, &shop, "/products", json!({"name": {"en": "Same Name"}})).await;
    let b = created(&app, &shop, "/products", json!({"name": {"en": "Same Name"}})).await;
    assert_ne!(a["slug"]["en"], b["slug"]["en"]);

    // Category slugs too.
    created(&app, &shop, "/categories", json!({"name": {"en": "Kitchen"}})).await;
    let body =
        problem(post(&app, &shop, "/categories", json!({"name": {"en": "Other"}, "slug": "kitchen"})).await, 409).await;
    assert_eq!(body["errors"][0]["field"], "slug");
}

#[tokio::test]
async fn catalog_bad_input_is_a_422_naming_each_field() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let kind = apparel(&app, &shop).await;
    let fields = |body: &Value| -> Vec<String> {
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
    };

    let res = post(&app, &shop, "/products", json!({
        "name": {"en": "Shirt"},
        "product_type_id": kind["id"],
        "attributes": {"colour": "purple", "organic": "yes", "weight": "heavy", "fabric": "silk", "materials": ["cotton", "cotton"]},
        "variants": [
            {"sku": "has space", "prices": [{"amount": 100, "currency": "USD"}]},
            {"sku": "OK-1", "weight_grams": -5, "prices": [{"amount": -1, "currency": "QQQ"}]}
        ]
    })).await;
    let body = problem(res, 422).await;
    let mut got = fields(&body);
    got.sort();
    assert_eq!(
        got,
        vec![
            "attributes.colour",
            "attributes.fabric",
            "attributes.materials",
            "attributes.organic",
            "attributes.weight",
            "variants[0].prices[0].currency",
            "variants[0].sku",
            "variants[1].prices[0].amount",
            "variants[1].prices[0].currency",
            "variants[1].weight_grams",
        ],
        "{body}"
    );
    assert!(body.to_string().contains("does not sell in USD"), "{body}");
    assert!(body.to_string().contains("unknown attribute"), "{body}");
    assert!(body.to_string().contains("wrong type"), "{body}");

    // Attributes without a product type, a language the shop does not have, a bad slug, a window
    // that ends before it starts, an unknown category.
    let res = post(
        &app,
        &shop,
        "/products",
        json!({
            "name": {"fr": "Chemise"},
            "attributes": {"colour": "red"},
            "slug": {"en": "Not A Slug"},
            "publish_at": "2030-01-02T00:00:00Z",
            "unpublish_at": "2030-01-01T00:00:00Z",
            "category_ids": [uuid::Uuid::now_v7()]
        }),
    )
    .await;
    let body = problem(res, 422).await;
    let mut got = fields(&body);
    got.sort();
    assert_eq!(got, vec!["attributes.colour", "category_ids[0]", "name.fr", "slug.en", "unpublish_at"], "{body}");

    // Once the shop sells in USD, the price is accepted.
    let res = app
        .admin(Method::PUT, &format!("{ADMIN}/currencies"), &shop)
        .json(&json!({"currencies": ["usd"]}))
        .send()
        .await
        .unwrap();
    let currencies: Value = res.json().await.unwrap();
    assert_eq!(currencies["currencies"], json!(["EUR", "USD"]));
    created(
        &app,
        &shop,
        "/products",
        json!({"name": {"en": "Shirt"}, "variants": [{"sku": "S-1", "prices": [{"amount": 100, "currency": "USD"}]}]}),
    )
    .await;

    // A product type with a select attribute but no options, a duplicate code.
    let res = post(
        &app,
        &shop,
        "/product-types",
        json!({"name": "Bad", "attributes": [
            {"code": "size", "name": {"en": "Size"}, "kind": "select"},
            {"code": "size", "name": {"en": "Size"}, "kind": "text"}
        ]}),
    )
    .await;
    let body = problem(res, 422).await;
    assert_eq!(fields(&body), vec!["attributes[0].options", "attributes[1].code"]);
    problem(post(&app, &shop, "/product-types", json!({"name": "apparel"})).await, 409).await;

    // Unknown fields and malformed JSON are refused by the extractor, never a 500.
    let res = post(&app, &shop, "/products", json!({"name": {"en": "X"}, "colour": "red"})).await;
    assert_eq!(res.status(), 422);
    let res = post(&app, &shop, "/products", json!({"name": {"en": ""}})).await;
    assert_eq!(res.status(), 422);
}

#[tokio::test]
async fn catalog_category_tree_moves_reorders_and_refuses_loops() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let clothes = created(&app, &shop, "/categories", json!({"name": {"en": "Clothes"}})).await;
    let men = created(&app, &shop, "/categories", json!({"name": {"en": "Men"}, "parent_id": clothes["id"]})).await;
    let shirts = created(&app, &shop, "/categories", json!({"name": {"en": "Shirts"}, "parent_id": men["id"]})).await;
    assert_eq!(
        shirts["breadcrumbs"].as_array().unwrap().iter().map(|b| b["name"].as_str().unwrap()).collect::<Vec<_>>(),
        vec!["Clothes", "Men"]
    );

    // Clothes under Shirts would be a loop; so would a category under itself.
    let clothes_id = clothes["id"].as_str().unwrap();
    let body = problem(
        patch(&app, &shop, &format!("/categories/{clothes_id}"), 1, json!({"parent_id": shirts["id"]})).await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "parent_id");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("loop"));
    problem(
        patch(&app, &shop, &format!("/categories/{clothes_id}"), 1, json!({"parent_id": clothes["id"]})).await,
        422,
    )
    .await;

    // Move Shirts to the top, before Clothes; a stale version is refused.
    let shirts_id = shirts["id"].as_str().unwrap();
    let res =
        patch(&app, &shop, &format!("/categories/{shirts_id}"), 1, json!({"parent_id": null, "position": -1})).await;
    assert_eq!(res.status(), 200);
    problem(patch(&app, &shop, &format!("/categories/{shirts_id}"), 1, json!({"position": 5})).await, 412).await;
    let tree: Value = admin_get(&app, &shop, "/categories").await.json().await.unwrap();
    let order: Vec<&str> = tree.as_array().unwrap().iter().map(|c| c["name"]["en"].as_str().unwrap()).collect();
    assert_eq!(order, vec!["Shirts", "Clothes", "Men"]);
    let store: Value = store_json(&app, &shop, "/categories/men").await;
    assert_eq!(store["breadcrumbs"][0]["slug"], "clothes");

    // A category with subcategories stays.
    let res = app.admin(Method::DELETE, &format!("{ADMIN}/categories/{clothes_id}"), &shop).send().await.unwrap();
    problem(res, 422).await;
}

#[tokio::test]
async fn catalog_storefront_shows_only_visible_products_of_its_own_shop() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("other").await;
    created(&app, &shop, "/products", active("Visible Lamp", "L-1", 1000)).await;
    let mut draft = active("Draft Lamp", "L-2", 1000);
    draft["status"] = json!("draft");
    created(&app, &shop, "/products", draft).await;
    let mut archived = active("Archived Lamp", "L-3", 1000);
    archived["status"] = json!("archived");
    created(&app, &shop, "/products", archived).await;
    let mut future = active("Future Lamp", "L-4", 1000);
    future["publish_at"] = json!("2999-01-01T00:00:00Z");
    created(&app, &shop, "/products", future).await;
    let mut expired = active("Expired Lamp", "L-5", 1000);
    expired["unpublish_at"] = json!("2001-01-01T00:00:00Z");
    created(&app, &shop, "/products", expired).await;
    let deleted = created(&app, &shop, "/products", active("Deleted Lamp", "L-6", 1000)).await;
    let res = app
        .admin(Method::DELETE, &format!("{ADMIN}/products/{}", deleted["id"].as_str().unwrap()), &shop)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let foreign = created(&app, &other, "/products", active("Foreign Lamp", "L-7", 1000)).await;
    let list: Value = admin_get(&app, &shop, "/products?limit=100").await.json().await.unwrap();
    let id_of = |name: &str| -> String {
        let found = list["items"].as_array().unwrap().iter().find(|p| p["name"]["en"] == name);
        found.map(|p| p["id"].as_str().unwrap().to_string()).unwrap_or_default()
    };
    let hidden: Vec<String> =
        ["Draft Lamp", "Archived Lamp", "Future Lamp", "Expired Lamp"].iter().map(|n| id_of(n)).collect();
    assert_eq!(hidden.len(), 4);

    let list = store_json(&app, &shop, "/products").await;
    assert_eq!(names(&list["items"]), vec!["Visible Lamp"]);
    assert_eq!(list["facets"]["total"], 1);
    let found = store_json(&app, &shop, "/search?q=lamp").await;
    assert_eq!(names(&found["items"]), vec!["Visible Lamp"]);
    let suggested = store_json(&app, &shop, "/suggestions?q=lam").await;
    assert_eq!(suggested["suggestions"], json!(["Visible Lamp"]));
    for id in hidden.iter().chain([deleted["id"].as_str().unwrap().to_string()].iter()) {
        problem(store_get(&app, &shop, &format!("/products/{id}")).await, 404).await;
    }
    for slug in ["draft-lamp", "archived-lamp", "future-lamp", "expired-lamp", "deleted-lamp", "foreign-lamp"] {
        problem(store_get(&app, &shop, &format!("/products/{slug}")).await, 404).await;
    }
    // Another shop's product is not found by id either, and the other shop sees only its own.
    problem(store_get(&app, &shop, &format!("/products/{}", foreign["id"].as_str().unwrap())).await, 404).await;
    assert_eq!(names(&store_json(&app, &other, "/products").await["items"]), vec!["Foreign Lamp"]);

    // Publishing the draft makes it visible; archiving it hides it again.
    let draft_id = hidden[0].clone();
    let draft: Value = admin_get(&app, &shop, &format!("/products/{draft_id}")).await.json().await.unwrap();
    let version = draft["version"].as_i64().unwrap();
    let res = patch(
        &app,
        &shop,
        &format!("/products/{draft_id}"),
        version,
        json!({"status": "active", "publish_at": null, "unpublish_at": null}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(store_json(&app, &shop, "/products").await["facets"]["total"], 2);
}

#[tokio::test]
async fn catalog_product_pages_speak_the_shoppers_language_and_currency_and_are_cacheable() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    app.admin(Method::PUT, &format!("{ADMIN}/currencies"), &shop)
        .json(&json!({"currencies": ["USD"]}))
        .send()
        .await
        .unwrap();
    let product = created(&app, &shop, "/products", json!({
        "name": {"en": "Rain Jacket", "de": "Regenjacke"},
        "description": {"en": "Keeps you dry."},
        "status": "active",
        "variants": [{"sku": "RJ-1", "prices": [{"amount": 9900, "currency": "EUR"}, {"amount": 10900, "currency": "USD", "compare_at": 12900}]}]
    })).await;
    let id = product["id"].as_str().unwrap();

    let res = app
        .client
        .get(app.url(&format!("{STORE}/products/regenjacke")))
        .header("x-tenant-id", &shop)
        .header("accept-language", "de-CH, en;q=0.5")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    assert!(res.headers()["cache-control"].to_str().unwrap().contains("max-age"));
    let page: Value = res.json().await.unwrap();
    assert_eq!(page["name"], "Regenjacke");
    assert_eq!(page["locale"], "de");
    // German has no description: the shop's default language fills in.
    assert_eq!(page["description"], "Keeps you dry.");
    assert_eq!(page["slug"], "regenjacke");
    assert_eq!(page["variants"][0]["price"], json!({"amount": 9900, "currency": "EUR"}));

    let usd = store_json(&app, &shop, &format!("/products/{id}?currency=USD")).await;
    assert_eq!(usd["name"], "Rain Jacket");
    assert_eq!(usd["variants"][0]["price"], json!({"amount": 10900, "currency": "USD"}));
    assert_eq!(usd["variants"][0]["compare_at"], json!({"amount": 12900, "currency": "USD"}));
    let body = problem(store_get(&app, &shop, &format!("/products/{id}?currency=GBP")).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "currency");

    // The same page again with its ETag: 304, no body.
    let res = app
        .client
        .get(app.url(&format!("{STORE}/products/regenjacke")))
        .header("x-tenant-id", &shop)
        .header("accept-language", "de-CH, en;q=0.5")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    assert_eq!(res.headers()["etag"].to_str().unwrap(), etag);

    // After a rename the old slug answers 301 to the new one, and the ETag changes.
    let res = patch(&app, &shop, &format!("/products/{id}"), 1, json!({"slug": {"de": "regenmantel"}})).await;
    assert_eq!(res.status(), 200);
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirects
        .get(app.url(&format!("{STORE}/products/regenjacke")))
        .header("x-tenant-id", &shop)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 301);
    assert_eq!(res.headers()["location"], &format!("{STORE}/products/regenmantel"));
    let res = app
        .client
        .get(app.url(&format!("{STORE}/products/regenmantel")))
        .header("x-tenant-id", &shop)
        .header("accept-language", "de")
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // Any language's slug resolves.
    assert_eq!(store_json(&app, &shop, "/products/rain-jacket").await["id"], product["id"]);
}

#[tokio::test]
async fn catalog_listing_filters_sorts_pages_and_counts_facets_like_a_brute_force_count() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let kind = apparel(&app, &shop).await;
    let tops = created(&app, &shop, "/categories", json!({"name": {"en": "Tops"}})).await;
    let tees = created(&app, &shop, "/categories", json!({"name": {"en": "Tees"}, "parent_id": tops["id"]})).await;
    let colours = ["red", "blue", "green"];
    let materials = [vec!["cotton"], vec!["wool"], vec!["cotton", "linen"], vec![]];
    let mut catalog: Vec<Value> = Vec::new();
    for i in 0..14 {
        let mut attributes = json!({"colour": colours[i % 3], "organic": i % 4 == 0});
        if !materials[i % 4].is_empty() {
            attributes["materials"] = json!(materials[i % 4]);
        }
        let category = if i % 2 == 0 { tees["id"].clone() } else { tops["id"].clone() };
        let tags = if i % 3 == 0 { json!(["sale"]) } else { json!([]) };
        let product = json!({
            "name": {"en": format!("Item {i:02}")},
            "status": if i == 13 { "draft" } else { "active" },
            "product_type_id": kind["id"],
            "attributes": attributes,
            "tags": tags,
            "category_ids": [category],
            "variants": [{"sku": format!("IT-{i}"), "prices": [{"amount": 1000 + (i as i64 % 5) * 250, "currency": "EUR"}]}]
        });
        created(&app, &shop, "/products", product.clone()).await;
        if i != 13 {
            catalog.push(product);
        }
    }
    // The brute-force count over what was created, for a filter.
    let expect = |keep: &dyn Fn(&Value) -> bool| {
        let kept: Vec<&Value> = catalog.iter().filter(|p| keep(p)).collect();
        let mut colour: BTreeMap<String, i64> = BTreeMap::new();
        let mut material: BTreeMap<String, i64> = BTreeMap::new();
        let mut organic: BTreeMap<String, i64> = BTreeMap::new();
        let mut tags: BTreeMap<String, i64> = BTreeMap::new();
        for p in &kept {
            *colour.entry(p["attributes"]["colour"].as_str().unwrap().into()).or_default() += 1;
            *organic.entry(p["attributes"]["organic"].to_string()).or_default() += 1;
            for m in p["attributes"]["materials"].as_array().into_iter().flatten() {
                *material.entry(m.as_str().unwrap().into()).or_default() += 1;
            }
            for t in p["tags"].as_array().unwrap() {
                *tags.entry(t.as_str().unwrap().into()).or_default() += 1;
            }
        }
        (kept.len() as i64, colour, material, organic, tags)
    };
    let facet_map = |values: &Value| -> BTreeMap<String, i64> {
        values
            .as_array()
            .map(|v| {
                v.iter().map(|f| (f["value"].as_str().unwrap().to_string(), f["count"].as_i64().unwrap())).collect()
            })
            .unwrap_or_default()
    };
    let check = |page: &Value, keep: &dyn Fn(&Value) -> bool| {
        let (total, colour, material, organic, tags) = expect(keep);
        let facets = &page["facets"];
        assert_eq!(facets["total"], total, "{facets}");
        assert_eq!(facet_map(&facets["attributes"]["colour"]), colour);
        assert_eq!(facet_map(&facets["attributes"]["materials"]), material);
        assert_eq!(facet_map(&facets["attributes"]["organic"]), organic);
        assert_eq!(facet_map(&facets["tags"]), tags);
    };
    let in_tees = |p: &Value| p["category_ids"][0] == tees["id"];
    let price = |p: &Value| p["variants"][0]["prices"][0]["amount"].as_i64().unwrap();

    check(&store_json(&app, &shop, "/products").await, &|_| true);
    // A category page holds the products of the categories below it too.
    check(&store_json(&app, &shop, "/products?category=tops").await, &|_| true);
    check(&store_json(&app, &shop, "/products?category=tees").await, &in_tees);
    check(&store_json(&app, &shop, "/products?attributes=colour:red,colour:blue").await, &|p| {
        p["attributes"]["colour"] != "green"
    });
    check(&store_json(&app, &shop, "/products?attributes=materials:cotton,organic:true").await, &|p| {
        p["attributes"]["organic"] == true
            && p["attributes"]["materials"].as_array().is_some_and(|m| m.contains(&json!("cotton")))
    });
    check(&store_json(&app, &shop, "/products?min_price=1250&max_price=1750&tag=sale").await, &|p| {
        (1250..=1750).contains(&price(p)) && p["tags"].as_array().unwrap().contains(&json!("sale"))
    });
    let body = problem(store_get(&app, &shop, "/products?attributes=colour").await, 422).await;
    assert_eq!(body["errors"][0]["field"], "attributes");
    problem(store_get(&app, &shop, "/products?category=nowhere").await, 404).await;

    // Price order, walked page by page: every visible product once, cheapest first.
    let mut seen: Vec<(i64, String)> = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/products?sort=price&limit=4&cursor={c}"),
            None => "/products?sort=price&limit=4".to_string(),
        };
        let page = store_json(&app, &shop, &path).await;
        for item in page["items"].as_array().unwrap() {
            seen.push((item["price_from"]["amount"].as_i64().unwrap(), item["name"].as_str().unwrap().to_string()));
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 13);
    assert!(seen.windows(2).all(|w| w[0].0 <= w[1].0), "{seen:?}");
    let by_name = store_json(&app, &shop, "/products?sort=-name&limit=2").await;
    assert_eq!(names(&by_name["items"]), vec!["Item 12", "Item 11"]);
    let newest = store_json(&app, &shop, "/products?limit=1").await;
    assert_eq!(names(&newest["items"]), vec!["Item 12"]);
}

#[tokio::test]
async fn catalog_search_ranks_an_exact_name_first_and_suggests_despite_typos() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    created(&app, &shop, "/products", json!({"name": {"en": "T-Shirt Dress"}, "description": {"en": "A T-Shirt you wear as a dress. T-Shirt T-Shirt."}, "status": "active", "variants": [{"sku": "D-1", "prices": [{"amount": 3000, "currency": "EUR"}]}]})).await;
    created(&app, &shop, "/products", json!({"name": {"en": "Graphic T-Shirt Bundle"}, "status": "active", "variants": [{"sku": "B-1", "prices": [{"amount": 5000, "currency": "EUR"}]}]})).await;
    created(&app, &shop, "/products", active("T-Shirt", "TS-1", 1500)).await;
    created(&app, &shop, "/products", active("Wool Socks", "SOCK-42", 900)).await;

    let found = store_json(&app, &shop, "/search?q=t-shirt").await;
    let ranked = names(&found["items"]);
    assert_eq!(ranked.len(), 3, "{ranked:?}");
    assert_eq!(ranked[0], "T-Shirt");
    assert_eq!(found["facets"]["total"], 3);

    // SKUs are searchable; web-search syntax excludes words.
    assert_eq!(names(&store_json(&app, &shop, "/search?q=SOCK-42").await["items"]), vec!["Wool Socks"]);
    let without = store_json(&app, &shop, "/search?q=t-shirt%20-dress").await;
    assert!(!names(&without["items"]).contains(&"T-Shirt Dress".to_string()));

    // A typo finds nothing but suggests the name.
    let typo = store_json(&app, &shop, "/search?q=tshrit").await;
    assert!(typo["items"].as_array().unwrap().is_empty());
    assert!(typo["suggestions"].as_array().unwrap().contains(&json!("T-Shirt")), "{typo}");
    let suggest = store_json(&app, &shop, "/suggestions?q=tshrit").await;
    assert_eq!(suggest["suggestions"][0], "T-Shirt", "{suggest}");
    let complete = store_json(&app, &shop, "/suggestions?q=wool").await;
    assert_eq!(complete["suggestions"], json!(["Wool Socks"]));

    // Synonyms: "tee" finds the t-shirts once the shop says they are the same.
    assert!(store_json(&app, &shop, "/search?q=tee").await["items"].as_array().unwrap().is_empty());
    created(&app, &shop, "/synonyms", json!({"terms": ["tee", "t-shirt"]})).await;
    assert_eq!(names(&store_json(&app, &shop, "/search?q=tee").await["items"]).len(), 3);

    problem(store_get(&app, &shop, "/search?q=").await, 422).await;
}

#[tokio::test]
async fn catalog_search_pages_by_relevance_without_repeating_or_skipping() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    // Nine lamps ranked apart by where "lamp" appears (name, SKU, description), some ranked equal.
    let lamps = [
        json!({"name": {"en": "Desk Lamp"}}),
        json!({"name": {"en": "Lamp Shade"}}),
        json!({"name": {"en": "Reading light"}, "description": {"en": "A lamp for reading."}}),
        json!({"name": {"en": "Lamp"}}),
        json!({"name": {"en": "Floor Lamp"}, "description": {"en": "The lamp for the lamp lover."}}),
        json!({"name": {"en": "Lantern"}, "description": {"en": "Not quite a lamp."}}),
        json!({"name": {"en": "Wall Lamp"}}),
        json!({"name": {"en": "Lamp Post"}}),
        json!({"name": {"en": "Bulb"}, "description": {"en": "For any lamp."}}),
    ];
    for (i, mut lamp) in lamps.into_iter().enumerate() {
        lamp["status"] = json!("active");
        lamp["variants"] = json!([{"sku": format!("L-{i}"), "prices": [{"amount": 1000 + i, "currency": "EUR"}]}]);
        created(&app, &shop, "/products", lamp).await;
    }
    created(&app, &shop, "/products", active("Wool Socks", "SOCK-1", 900)).await;

    let all = store_json(&app, &shop, "/search?q=lamp&limit=100").await;
    let ranked = names(&all["items"]);
    assert_eq!(ranked.len(), 9, "{ranked:?}");
    assert_eq!(ranked[0], "Lamp", "the exact name first");
    assert!(all["next_cursor"].is_null());
    assert_eq!(names(&store_json(&app, &shop, "/search?q=lamp&limit=100&sort=relevance").await["items"]), ranked);

    // Two at a time: the same order, nothing twice, nothing left out; facets count every hit.
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10 {
        let path = match &cursor {
            Some(c) => format!("/search?q=lamp&limit=2&cursor={c}"),
            None => "/search?q=lamp&limit=2".to_string(),
        };
        let page = store_json(&app, &shop, &path).await;
        assert_eq!(page["facets"]["total"], 9);
        paged.extend(names(&page["items"]));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(paged, ranked);

    // A product added between pages does not shift the pages that follow.
    let first = store_json(&app, &shop, "/search?q=lamp&limit=4").await;
    created(&app, &shop, "/products", active("Lamp Oil", "OIL-1", 500)).await;
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = store_json(&app, &shop, &format!("/search?q=lamp&limit=100&cursor={cursor}")).await;
    let mut seen = names(&first["items"]);
    seen.extend(names(&rest["items"]));
    for name in &ranked {
        assert_eq!(seen.iter().filter(|n| *n == name).count(), 1, "{name} once in {seen:?}");
    }

    let bad = problem(store_get(&app, &shop, "/search?q=lamp&cursor=nonsense").await, 422).await;
    assert_eq!(bad["errors"][0]["field"], "cursor", "{bad}");
    let bad = problem(store_get(&app, &shop, "/search?q=lamp&sort=price").await, 422).await;
    assert_eq!(bad["errors"][0]["field"], "sort", "{bad}");
}

#[tokio::test]
async fn catalog_options_are_added_and_removed_on_a_product_that_has_variants() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let tee = created(
        &app,
        &shop,
        "/products",
        json!({
            "name": {"en": "Tee"}, "status": "active",
            "options": [{"name": "size", "values": ["S", "M"]}],
            "variants": [
                {"sku": "TEE-S", "option_values": {"size": "S"}},
                {"sku": "TEE-M", "option_values": {"size": "M"}}
            ]
        }),
    )
    .await;
    let id = tee["id"].as_str().unwrap().to_string();
    let path = format!("/products/{id}");
    let values = |p: &Value| -> Vec<Value> {
        p["variants"].as_array().unwrap().iter().map(|v| json!([v["sku"], v["option_values"]])).collect()
    };

    // Adding an option: every variant takes its first value.
    let res = patch(
        &app,
        &shop,
        &path,
        tee["version"].as_i64().unwrap(),
        json!({"options": [{"name": "size", "values": ["S", "M"]}, {"name": "colour", "values": ["red", "blue"]}]}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let tee: Value = res.json().await.unwrap();
    assert_eq!(
        values(&tee),
        vec![json!(["TEE-S", {"size": "S", "colour": "red"}]), json!(["TEE-M", {"size": "M", "colour": "red"}])]
    );

    // Removing size would leave two red tees nobody could tell apart: refused, nothing written.
    let version = tee["version"].as_i64().unwrap();
    let only_colour = json!({"options": [{"name": "colour", "values": ["red", "blue"]}]});
    let body = problem(patch(&app, &shop, &path, version, only_colour.clone()).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "options", "{body}");
    // Dropping a colour a variant wears is refused naming that variant.
    let body = problem(
        patch(
            &app,
            &shop,
            &path,
            version,
            json!({"options": [{"name": "size", "values": ["S", "M"]}, {"name": "colour", "values": ["blue"]}]}),
        )
        .await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "variants[TEE-S].option_values.colour", "{body}");
    let unchanged: Value = admin_get(&app, &shop, &path).await.json().await.unwrap();
    assert_eq!(unchanged["version"], version);

    // Once the medium is blue, size can go.
    let medium = tee["variants"][1]["id"].as_str().unwrap();
    let res = patch(
        &app,
        &shop,
        &format!("{path}/variants/{medium}"),
        version,
        json!({"option_values": {"size": "M", "colour": "blue"}}),
    )
    .await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let tee: Value = res.json().await.unwrap();
    let res = patch(&app, &shop, &path, tee["version"].as_i64().unwrap(), only_colour).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let tee: Value = res.json().await.unwrap();
    assert_eq!(values(&tee), vec![json!(["TEE-S", {"colour": "red"}]), json!(["TEE-M", {"colour": "blue"}])]);
    // Shoppers see the new options.
    let page = store_json(&app, &shop, &format!("/products/{id}")).await;
    assert_eq!(page["options"], json!([{"name": "colour", "values": ["red", "blue"]}]), "{page}");
}

#[tokio::test]
async fn catalog_admin_routes_refuse_callers_without_the_permission() {
    let app = TestApp::spawn().await;
    let (shop, other) = (app.tenant("acme").await, app.tenant("other").await);
    // Support reads the catalog (to answer shoppers) but does not change it.
    let reader = app.staff(&shop, &["support"]).await;
    let manager = app.staff(&shop, &["catalog_manager"]).await;
    let customer = app.customer(&shop).await;
    let foreign = app.staff(&other, &["owner"]).await;
    let mut checked = 0;
    for (method, template, op) in crate::support::spec_operations(&app, "/api/v1/admin/catalog").await {
        let permission = op["security"][0]["staff"][0].as_str().unwrap().to_string();
        let path = fill_path(&template);
        let name = format!("{method} {template}");
        assert_eq!(request(&app, &method, &path, &shop).send().await.unwrap().status(), 401, "{name} anonymously");
        let res = request(&app, &method, &path, &shop).bearer_auth(&customer.access_token).send().await.unwrap();
        assert_eq!(res.status(), 403, "{name} as a customer");
        let res = request(&app, &method, &path, &shop).bearer_auth(&foreign.access_token).send().await.unwrap();
        assert_eq!(res.status(), 401, "{name} with another shop's owner");
        let res = request(&app, &method, &path, &shop).bearer_auth(&reader.access_token).send().await.unwrap();
        if permission == "catalog.manage" {
            problem(res, 403).await;
        } else {
            assert_eq!(permission, "catalog.read", "{name}");
            assert_ne!(res.status(), 403, "{name} as a reader");
        }
        let res = request(&app, &method, &path, &shop).bearer_auth(&manager.access_token).send().await.unwrap();
        assert!(![401, 403, 500].contains(&res.status().as_u16()), "{name} as the catalog manager: {}", res.status());
        checked += 1;
    }
    assert!(checked >= 19, "only {checked} catalog operations");

    // A catalog manager creates; another shop's staff cannot touch the product.
    let res = app
        .as_user(Method::POST, &format!("{ADMIN}/products"), &shop, &manager)
        .json(&active("Kettle", "K-1", 100))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let product: Value = res.json().await.unwrap();
    let path = format!("{ADMIN}/products/{}", product["id"].as_str().unwrap());
    let res =
        app.as_user(Method::PATCH, &path, &shop, &foreign).json(&json!({"status": "archived"})).send().await.unwrap();
    assert_eq!(res.status(), 401);
    // The other shop's own admin API does not know the product.
    let res = app.as_user(Method::GET, &path, &other, &foreign).send().await.unwrap();
    problem(res, 404).await;
}

#[tokio::test]
async fn catalog_concurrent_writers_with_one_version_one_wins() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let product = created(&app, &shop, "/products", active("Teapot", "TP-1", 100)).await;
    let path = format!("/products/{}", product["id"].as_str().unwrap());
    let (a, b) = tokio::join!(
        patch(&app, &shop, &path, 1, json!({"tags": ["a"]})),
        patch(&app, &shop, &path, 1, json!({"tags": ["b"]}))
    );
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 412]);
    // Two products racing for one SKU: one is created, the other is told the SKU is taken.
    let (a, b) = tokio::join!(
        post(&app, &shop, "/products", active("Cup A", "RACE-1", 100)),
        post(&app, &shop, "/products", active("Cup B", "RACE-1", 100))
    );
    let mut statuses = vec![a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![201, 409]);
}

#[tokio::test]
async fn catalog_collections_are_hand_picked_or_follow_a_rule_evaluated_in_sql() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let kind = apparel(&app, &shop).await;
    let mut ids = BTreeMap::new();
    for (name, tags, price, colour, status) in [
        ("Summer Hat", vec!["summer"], 2500, "red", "active"),
        ("Summer Coat", vec!["summer"], 9900, "blue", "active"),
        ("Beach Towel", vec!["summer", "beach"], 4999, "blue", "active"),
        ("Winter Scarf", vec!["winter"], 1900, "red", "active"),
        ("Summer Draft", vec!["summer"], 1000, "red", "draft"),
    ] {
        let product = created(
            &app,
            &shop,
            "/products",
            json!({
                "name": {"en": name}, "status": status, "tags": tags,
                "product_type_id": kind["id"], "attributes": {"colour": colour},
                "variants": [{"sku": name.replace(' ', "-"), "prices": [{"amount": price, "currency": "EUR"}]}]
            }),
        )
        .await;
        ids.insert(name, product["id"].clone());
    }
    let sorted = |page: &Value| {
        let mut n = names(&page["items"]);
        n.sort();
        n
    };

    // A rule tried before it is saved: how many products it matches now (drafts included, as
    // the merchant may be about to publish them) and the first by name; nothing is written.
    let res = post(&app, &shop, "/collections/preview", json!({"rule": "tag = summer and price < 50"})).await;
    assert_eq!(res.status(), 200);
    let preview: Value = res.json().await.unwrap();
    assert_eq!(preview["total"], 3);
    assert_eq!(names(&preview["items"]), vec!["Beach Towel", "Summer Draft", "Summer Hat"]);
    assert_eq!(preview["items"][1]["status"], "draft");
    let body = problem(post(&app, &shop, "/collections/preview", json!({"rule": "tag = summer and"})).await, 422).await;
    assert_eq!(body["errors"][0]["field"], "rule");
    let listed: Value = admin_get(&app, &shop, "/collections").await.json().await.unwrap();
    assert_eq!(listed, json!([]), "a preview makes no collection");

    let cheap = created(
        &app,
        &shop,
        "/collections",
        json!({"name": {"en": "Cheap summer"}, "rule": "tag = summer and price < 50"}),
    )
    .await;
    assert_eq!(cheap["slug"], "cheap-summer");
    assert_eq!(
        sorted(&store_json(&app, &shop, "/products?collection=cheap-summer").await),
        vec!["Beach Towel", "Summer Hat"]
    );
    created(
        &app,
        &shop,
        "/collections",
        json!({"name": {"en": "Red or beach"}, "rule": "attribute.colour = red or tag = beach"}),
    )
    .await;
    let page = store_json(&app, &shop, "/products?collection=red-or-beach&sort=price").await;
    assert_eq!(names(&page["items"]), vec!["Winter Scarf", "Summer Hat", "Beach Towel"]);
    assert_eq!(page["facets"]["total"], 3);
    assert_eq!(store_json(&app, &shop, "/collections/red-or-beach").await["name"], "Red or beach");

    // A product that changes joins or leaves a rule-based collection at once.
    let coat = ids["Summer Coat"].as_str().unwrap();
    let coat_variant: Value = admin_get(&app, &shop, &format!("/products/{coat}")).await.json().await.unwrap();
    let variant = coat_variant["variants"][0]["id"].as_str().unwrap();
    let res = patch(
        &app,
        &shop,
        &format!("/products/{coat}/variants/{variant}"),
        1,
        json!({"prices": [{"amount": 4500, "currency": "EUR"}]}),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        sorted(&store_json(&app, &shop, "/products?collection=cheap-summer").await),
        vec!["Beach Towel", "Summer Coat", "Summer Hat"]
    );

    // Hand-picked, in the order given; a hidden product stays hidden.
    let picked = created(
        &app,
        &shop,
        "/collections",
        json!({"name": {"en": "Picks"}, "product_ids": [ids["Winter Scarf"], ids["Summer Draft"]]}),
    )
    .await;
    assert_eq!(names(&store_json(&app, &shop, "/products?collection=picks").await["items"]), vec!["Winter Scarf"]);
    let path = format!("/collections/{}", picked["id"].as_str().unwrap());
    let res = patch(&app, &shop, &path, 1, json!({"product_ids": [ids["Summer Hat"]]})).await;
    assert_eq!(res.status(), 200);
    problem(patch(&app, &shop, &path, 1, json!({"product_ids": []})).await, 412).await;
    assert_eq!(names(&store_json(&app, &shop, "/products?collection=picks").await["items"]), vec!["Summer Hat"]);

    // Bad rules name the field and say why.
    for rule in ["tag < summer", "colour = red", "price < cheap", "tag = summer and", "tag = \"summer"] {
        let body =
            problem(post(&app, &shop, "/collections", json!({"name": {"en": "Bad"}, "rule": rule})).await, 422).await;
        assert_eq!(body["errors"][0]["field"], "rule", "{rule}: {body}");
    }
    let body = problem(
        post(&app, &shop, "/collections", json!({"name": {"en": "Ghosts"}, "product_ids": [uuid::Uuid::now_v7()]}))
            .await,
        422,
    )
    .await;
    assert_eq!(body["errors"][0]["field"], "product_ids[0]");
    problem(post(&app, &shop, "/collections", json!({"name": {"en": "Picks"}})).await, 409).await;
    problem(store_get(&app, &shop, "/products?collection=nothing").await, 404).await;
}

#[tokio::test]
async fn catalog_product_types_change_and_are_deleted_only_when_no_product_is_of_them() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let kind = apparel(&app, &shop).await;
    let path = format!("/product-types/{}", kind["id"].as_str().unwrap());
    let mut product = active("Scarf", "SC-1", 900);
    product["product_type_id"] = kind["id"].clone();
    let scarf = created(&app, &shop, "/products", product).await;

    let res = patch(&app, &shop, &path, 1, json!({"name": "Clothing"})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    problem(patch(&app, &shop, &path, 1, json!({"name": "Garments"})).await, 412).await;
    created(&app, &shop, "/product-types", json!({"name": "Homeware"})).await;
    let body = problem(patch(&app, &shop, &path, 2, json!({"name": "homeware"})).await, 409).await;
    assert_eq!(body["errors"][0]["field"], "name");

    let delete = |version: i64| {
        app.admin(Method::DELETE, &format!("{ADMIN}{path}"), &shop).header("if-match", format!("\"{version}\"")).send()
    };
    let body = problem(delete(2).await.unwrap(), 409).await;
    assert_eq!(body["type"].as_str().unwrap().rsplit('/').next(), Some("product-type-in-use"));
    let res = app
        .admin(Method::DELETE, &format!("{ADMIN}/products/{}", scarf["id"].as_str().unwrap()), &shop)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(delete(2).await.unwrap().status(), 204);
    problem(admin_get(&app, &shop, &path).await, 404).await;
}
