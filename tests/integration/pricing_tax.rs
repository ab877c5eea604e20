//! Taxes through the real app: a German shop and a New York shop set up their classes, zones and
//! rates over HTTP and preview baskets (the same calculation the cart and checkout call);
//! bad input named field by field; stale If-Match; refusals for strangers, customers, staff
//! without the permission and other shops.

use crate::support::{problem, Credentials, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const TAX: &str = "/api/v1/admin/pricing/taxes";
const STANDARD: &str = "00000000-0000-7000-8000-000000000001";
const REDUCED: &str = "00000000-0000-7000-8000-000000000002";
const EXEMPT: &str = "00000000-0000-7000-8000-000000000004";

/// A product of the shop's catalog; its id.
async fn product(app: &TestApp, shop: &str, sku: &str) -> String {
    let body = json!({
        "name": {"en": format!("Product {sku}")},
        "status": "active",
        "variants": [{"sku": sku, "prices": [{"amount": 1000, "currency": "EUR"}]}],
    });
    let res = app.admin(Method::POST, "/api/v1/admin/catalog/products", shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string()
}

async fn send(app: &TestApp, shop: &str, method: Method, path: &str, body: Option<Value>) -> reqwest::Response {
    let mut req = app.admin(method, &format!("{TAX}{path}"), shop);
    if let Some(body) = body {
        req = req.json(&body);
    }
    req.send().await.unwrap()
}

async fn ok(app: &TestApp, shop: &str, method: Method, path: &str, body: Option<Value>, status: u16) -> Value {
    let res = send(app, shop, method, path, body).await;
    let got = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(got, status, "{path}: {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

async fn put_settings(app: &TestApp, shop: &str, settings: Value) {
    let res = send(app, shop, Method::GET, "/settings", None).await;
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let res = app
        .admin(Method::PUT, &format!("{TAX}/settings"), shop)
        .header("if-match", etag)
        .json(&settings)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
}

/// The first field a 422 names.
async fn invalid_field(res: reqwest::Response) -> String {
    let body = problem(res, 422).await;
    body["errors"][0]["field"].as_str().unwrap_or_default().to_string()
}

fn eur(amount: i64) -> Value {
    json!({"amount": amount, "currency": "EUR"})
}

fn usd(amount: i64) -> Value {
    json!({"amount": amount, "currency": "USD"})
}

/// (net, tax, gross) of a taxed amount.
fn ntg(v: &Value) -> (i64, i64, i64) {
    (v["net"]["amount"].as_i64().unwrap(), v["tax"]["amount"].as_i64().unwrap(), v["gross"]["amount"].as_i64().unwrap())
}

fn taxes(v: &Value) -> Vec<(String, i64)> {
    v["taxes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_string(), t["amount"]["amount"].as_i64().unwrap()))
        .collect()
}

fn totals(v: &Value) -> (i64, i64, i64) {
    (
        v["net_total"]["amount"].as_i64().unwrap(),
        v["tax_total"]["amount"].as_i64().unwrap(),
        v["total"]["amount"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn pricing_tax_set_up_over_http_and_preview_baskets_in_europe_and_new_york() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("berlin").await;

    // The built-in classes are there from the start.
    let classes = ok(&app, &shop, Method::GET, "/classes", None, 200).await;
    let kinds: Vec<&str> = classes["items"].as_array().unwrap().iter().map(|c| c["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["standard", "reduced", "zero", "exempt"]);

    put_settings(
        &app,
        &shop,
        json!({"prices_include_tax": true, "cross_border": "keep_gross", "rounding": "per_line",
        "shipping_tax": "highest_rate", "shipping_tax_class_id": null, "origin_country": "DE"}),
    )
    .await;
    ok(
        &app,
        &shop,
        Method::POST,
        "/zones",
        Some(json!({"name": "Germany", "country": "DE", "rates": [
        {"tax_class_id": STANDARD, "name": "MwSt. 19 %", "percent": "19"},
        {"tax_class_id": REDUCED, "name": "MwSt. 7 %", "percent": "7"}]})),
        201,
    )
    .await;
    let austria = ok(
        &app,
        &shop,
        Method::POST,
        "/zones",
        Some(json!({"name": "Austria", "country": "at", "rates": [
        {"tax_class_id": STANDARD, "name": "USt. 20 %", "percent": "20"},
        {"tax_class_id": REDUCED, "name": "USt. 10 %", "percent": "10.0"}]})),
        201,
    )
    .await;
    assert_eq!(austria["country"], "AT");
    assert_eq!(austria["rates"][1]["percent"], "10");

    let shirt = product(&app, &shop, "SHIRT").await;
    let book = product(&app, &shop, "BOOK").await;
    let assigned = ok(&app, &shop, Method::GET, &format!("/products/{book}"), None, 200).await;
    assert_eq!((assigned["tax_class_id"].as_str(), assigned["assigned"].as_bool()), (Some(STANDARD), Some(false)));
    ok(&app, &shop, Method::PUT, &format!("/products/{book}"), Some(json!({"tax_class_id": REDUCED})), 200).await;
    let assigned = ok(&app, &shop, Method::GET, &format!("/products/{book}"), None, 200).await;
    assert_eq!(assigned["tax_class_id"], REDUCED);

    // A German basket after a 10 % discount (26.99 and 11.25), shipping 4.90 at the highest rate:
    // 2699 → 431 tax, 1125 → 74, 490 → 78 (hand-computed in tax/tests.rs, case 1).
    let basket = |country: &str, customer: Option<&str>| {
        json!({"destination": {"country": country}, "customer_id": customer,
            "lines": [{"key": "shirt", "product_id": shirt, "amount": eur(2699)},
                      {"key": "book", "product_id": book, "amount": eur(1125)}],
            "shipping": eur(490)})
    };
    let de = ok(&app, &shop, Method::POST, "/preview", Some(basket("DE", None)), 200).await;
    assert_eq!(de["zone"]["name"], "Germany");
    assert_eq!(de["lines"][0]["key"], "shirt");
    assert_eq!(de["lines"][1]["tax_class_id"], REDUCED);
    assert_eq!((ntg(&de["lines"][0]), ntg(&de["lines"][1])), ((2268, 431, 2699), (1051, 74, 1125)));
    assert_eq!(ntg(&de["shipping"]), (412, 78, 490));
    assert_eq!(taxes(&de), [("MwSt. 19 %".to_string(), 509), ("MwSt. 7 %".to_string(), 74)]);
    assert_eq!(totals(&de), (3731, 583, 4314));
    assert_eq!(ntg(&de["subtotal"]), (3319, 505, 3824));

    // To Austria, gross kept: ⌊2699 × 20/120⌉ = 450, ⌊1125 × 10/110⌉ = 102, ⌊490 × 20/120⌉ = 82.
    let at = ok(&app, &shop, Method::POST, "/preview", Some(basket("AT", None)), 200).await;
    assert_eq!(
        (ntg(&at["lines"][0]), ntg(&at["lines"][1]), ntg(&at["shipping"])),
        ((2249, 450, 2699), (1023, 102, 1125), (408, 82, 490))
    );
    assert_eq!(taxes(&at), [("USt. 20 %".to_string(), 532), ("USt. 10 %".to_string(), 102)]);
    assert_eq!(totals(&at), (3680, 634, 4314));

    // An Austrian business with a VAT id: reverse charge, it pays the nets.
    let business = app.customer(&shop).await.user_id;
    let exemption =
        ok(&app, &shop, Method::PUT, &format!("/exemptions/{business}"), Some(json!({"vat_id": "atu 1234 5678"})), 200)
            .await;
    assert_eq!((exemption["vat_id"].as_str(), exemption["country"].as_str()), (Some("ATU12345678"), Some("AT")));
    let b2b = ok(&app, &shop, Method::POST, "/preview", Some(basket("AT", Some(&business))), 200).await;
    assert_eq!(b2b["reverse_charge"], true);
    assert_eq!(totals(&b2b), (3680, 0, 3680));
    assert!(taxes(&b2b).is_empty());
    // Delivered in Germany, the same business pays German VAT.
    let b2b_de = ok(&app, &shop, Method::POST, "/preview", Some(basket("DE", Some(&business))), 200).await;
    assert_eq!((b2b_de["reverse_charge"].as_bool(), totals(&b2b_de)), (Some(false), (3731, 583, 4314)));
    // Removed, the exemption no longer applies.
    let res = app
        .admin(Method::DELETE, &format!("{TAX}/exemptions/{business}"), &shop)
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let at_again = ok(&app, &shop, Method::POST, "/preview", Some(basket("AT", Some(&business))), 200).await;
    assert_eq!(totals(&at_again), (3680, 634, 4314));

    // Net kept across borders: 119.00 at home is 100.00 net, 120.00 in Austria.
    put_settings(
        &app,
        &shop,
        json!({"prices_include_tax": true, "cross_border": "keep_net", "rounding": "per_line",
        "shipping_tax": "not_taxed", "shipping_tax_class_id": null, "origin_country": "DE"}),
    )
    .await;
    let net_kept = ok(
        &app,
        &shop,
        Method::POST,
        "/preview",
        Some(json!({"destination": {"country": "AT"},
        "lines": [{"product_id": shirt, "amount": eur(11900)}]})),
        200,
    )
    .await;
    assert_eq!(net_kept["lines"][0]["key"], shirt.as_str(), "the product id names a line without a key");
    assert_eq!(ntg(&net_kept["lines"][0]), (10000, 2000, 12000));
    // At home the entered price stands.
    let home = ok(
        &app,
        &shop,
        Method::POST,
        "/preview",
        Some(json!({"destination": {"country": "DE"},
        "lines": [{"product_id": shirt, "amount": eur(11900)}]})),
        200,
    )
    .await;
    assert_eq!(ntg(&home["lines"][0]), (10000, 1900, 11900));
    // Nowhere the shop has a zone (an export to Switzerland): nothing taxed, and with net prices
    // kept the buyer pays the net.
    let elsewhere = ok(
        &app,
        &shop,
        Method::POST,
        "/preview",
        Some(json!({"destination": {"country": "CH"},
        "lines": [{"product_id": shirt, "amount": eur(11900)}]})),
        200,
    )
    .await;
    assert_eq!((elsewhere["zone"].clone(), totals(&elsewhere)), (Value::Null, (10000, 0, 10000)));

    // A New York shop: prices without tax, shipping taxed as standard where the zone taxes it.
    let ny = app.tenant("brooklyn").await;
    put_settings(
        &app,
        &ny,
        json!({"prices_include_tax": false, "cross_border": "keep_gross", "rounding": "per_line",
        "shipping_tax": "tax_class", "shipping_tax_class_id": STANDARD, "origin_country": "US"}),
    )
    .await;
    ok(
        &app,
        &ny,
        Method::POST,
        "/zones",
        Some(json!({"name": "New York State", "country": "US", "region": "NY",
        "rates": [{"tax_class_id": STANDARD, "name": "NY State", "percent": "4"}]})),
        201,
    )
    .await;
    ok(
        &app,
        &ny,
        Method::POST,
        "/zones",
        Some(json!({"name": "New York City", "country": "US", "region": "ny",
        "postcodes": ["10001-10299", "112*"], "rates": [
            {"tax_class_id": STANDARD, "name": "NY State", "percent": "4"},
            {"tax_class_id": STANDARD, "name": "New York City", "percent": "4.5"},
            {"tax_class_id": STANDARD, "name": "MCTD", "percent": "0.375"}]})),
        201,
    )
    .await;
    ok(
        &app,
        &ny,
        Method::POST,
        "/zones",
        Some(json!({"name": "California", "country": "US", "region": "CA",
        "shipping_taxable": false, "rates": [{"tax_class_id": STANDARD, "name": "CA State", "percent": "7.25"}]})),
        201,
    )
    .await;
    let lamp = product(&app, &ny, "LAMP").await;
    let to = |region: &str, postcode: &str| {
        json!({"destination": {"country": "US", "region": region, "postal_code": postcode},
            "lines": [{"product_id": lamp, "amount": usd(1999)}], "shipping": usd(500)})
    };
    // Brooklyn (112*): the city zone, stacked: 80 + 90 + 7 = 177 on the lamp, 45 on shipping.
    let nyc = ok(&app, &ny, Method::POST, "/preview", Some(to("NY", "11201")), 200).await;
    assert_eq!(nyc["zone"]["name"], "New York City");
    assert_eq!((ntg(&nyc["lines"][0]), ntg(&nyc["shipping"])), ((1999, 177, 2176), (500, 45, 545)));
    assert_eq!(
        taxes(&nyc),
        [("NY State".to_string(), 100), ("New York City".to_string(), 113), ("MCTD".to_string(), 9)]
    );
    assert_eq!(totals(&nyc), (2499, 222, 2721));
    // Albany: the state zone, shipping taxed at 4 %.
    let albany = ok(&app, &ny, Method::POST, "/preview", Some(to("NY", "12207")), 200).await;
    assert_eq!((albany["zone"]["name"].as_str(), totals(&albany)), (Some("New York State"), (2499, 100, 2599)));
    // San Francisco: 7.25 %, shipping not taxed.
    let sf = ok(&app, &ny, Method::POST, "/preview", Some(to("CA", "94103")), 200).await;
    assert_eq!((ntg(&sf["lines"][0]), ntg(&sf["shipping"])), ((1999, 145, 2144), (500, 0, 500)));
    assert_eq!(totals(&sf), (2499, 145, 2644));

    // A custom class and its lifecycle: products fall back to standard when it goes.
    let books = ok(&app, &ny, Method::POST, "/classes", Some(json!({"name": "Books"})), 201).await;
    let books_id = books["id"].as_str().unwrap();
    ok(&app, &ny, Method::PUT, &format!("/products/{lamp}"), Some(json!({"tax_class_id": books_id})), 200).await;
    let untaxed = ok(&app, &ny, Method::POST, "/preview", Some(to("NY", "12207")), 200).await;
    assert_eq!(ntg(&untaxed["lines"][0]), (1999, 0, 1999), "no rate for books in New York State");
    let res = app
        .admin(Method::DELETE, &format!("{TAX}/classes/{books_id}"), &ny)
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let back = ok(&app, &ny, Method::GET, &format!("/products/{lamp}"), None, 200).await;
    assert_eq!((back["tax_class_id"].as_str(), back["assigned"].as_bool()), (Some(STANDARD), Some(false)));
}

#[tokio::test]
async fn pricing_tax_bad_input_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let zone = |body: Value| send(&app, &shop, Method::POST, "/zones", Some(body));
    let rate = |class: &str, percent: &str| json!([{"tax_class_id": class, "name": "VAT", "percent": percent}]);

    assert_eq!(invalid_field(zone(json!({"name": "Nowhere", "country": "XX"})).await).await, "country");
    assert_eq!(invalid_field(zone(json!({"name": "", "country": "DE"})).await).await, "name");
    assert_eq!(invalid_field(zone(json!({"name": "R", "country": "US", "region": "N Y"})).await).await, "region");
    assert_eq!(
        invalid_field(zone(json!({"name": "Berlin", "country": "DE", "postcodes": ["14999-10000"]})).await).await,
        "postcodes[0]"
    );
    assert_eq!(
        invalid_field(zone(json!({"name": "Berlin", "country": "DE", "postcodes": ["100-14999"]})).await).await,
        "postcodes[0]"
    );
    assert_eq!(
        invalid_field(zone(json!({"name": "Berlin", "country": "DE", "postcodes": ["10000-14999", "12*"]})).await)
            .await,
        "postcodes[1]"
    );
    assert_eq!(
        invalid_field(zone(json!({"name": "DE", "country": "DE", "rates": rate(STANDARD, "101")})).await).await,
        "rates[0].percent"
    );
    assert_eq!(
        invalid_field(zone(json!({"name": "DE", "country": "DE", "rates": rate(STANDARD, "8.87501")})).await).await,
        "rates[0].percent"
    );
    let unknown = uuid::Uuid::now_v7().to_string();
    assert_eq!(
        invalid_field(zone(json!({"name": "DE", "country": "DE", "rates": rate(&unknown, "19")})).await).await,
        "rates[0].tax_class_id"
    );
    assert_eq!(
        invalid_field(zone(json!({"name": "DE", "country": "DE", "rates": rate(EXEMPT, "19")})).await).await,
        "rates[0].tax_class_id"
    );
    // Zones of one country and region may not cover the same addresses.
    let berlin = ok(
        &app,
        &shop,
        Method::POST,
        "/zones",
        Some(json!({"name": "Berlin", "country": "DE", "postcodes": ["10000-14999"]})),
        201,
    )
    .await;
    assert_eq!(
        invalid_field(zone(json!({"name": "Mitte", "country": "DE", "postcodes": ["10115"]})).await).await,
        "postcodes[0]"
    );
    ok(&app, &shop, Method::POST, "/zones", Some(json!({"name": "Germany", "country": "DE"})), 201).await;
    assert_eq!(invalid_field(zone(json!({"name": "Germany again", "country": "DE"})).await).await, "country");
    // Nothing of the refused zones was written.
    let zones = ok(&app, &shop, Method::GET, "/zones", None, 200).await;
    assert_eq!(zones["items"].as_array().unwrap().len(), 2);

    // A stale If-Match is a 412; the current one goes through.
    let id = berlin["id"].as_str().unwrap();
    let body = json!({"name": "Berlin", "country": "DE", "postcodes": ["10000-14199"]});
    let res = app
        .admin(Method::PUT, &format!("{TAX}/zones/{id}"), &shop)
        .header("if-match", "\"7\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 412).await["type"], "https://agora.dev/problems/version-conflict");
    let res = app
        .admin(Method::PUT, &format!("{TAX}/zones/{id}"), &shop)
        .header("if-match", "\"1\"")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let res = app
        .admin(Method::PUT, &format!("{TAX}/settings"), &shop)
        .header("if-match", "\"9\"")
        .json(&json!({"prices_include_tax": true, "cross_border": "keep_gross", "rounding": "per_line",
            "shipping_tax": "not_taxed", "shipping_tax_class_id": null, "origin_country": "DE"}))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;

    // Settings that contradict themselves.
    let settings = |over: Value| {
        let mut s = json!({"prices_include_tax": true, "cross_border": "keep_gross", "rounding": "per_line",
            "shipping_tax": "not_taxed", "shipping_tax_class_id": null, "origin_country": "DE"});
        for (k, v) in over.as_object().unwrap() {
            s[k] = v.clone();
        }
        send(&app, &shop, Method::PUT, "/settings", Some(s))
    };
    assert_eq!(
        invalid_field(settings(json!({"cross_border": "keep_net", "origin_country": null})).await).await,
        "origin_country"
    );
    assert_eq!(invalid_field(settings(json!({"origin_country": "Germany"})).await).await, "origin_country");
    assert_eq!(invalid_field(settings(json!({"shipping_tax": "tax_class"})).await).await, "shipping_tax_class_id");
    assert_eq!(
        invalid_field(settings(json!({"shipping_tax": "tax_class", "shipping_tax_class_id": unknown})).await).await,
        "shipping_tax_class_id"
    );

    // Products: an unknown class, an unknown product.
    let mug = product(&app, &shop, "MUG").await;
    let res = send(&app, &shop, Method::PUT, &format!("/products/{mug}"), Some(json!({"tax_class_id": unknown}))).await;
    assert_eq!(invalid_field(res).await, "tax_class_id");
    let res =
        send(&app, &shop, Method::PUT, &format!("/products/{unknown}"), Some(json!({"tax_class_id": STANDARD}))).await;
    problem(res, 404).await;

    // VAT ids are for customers of the shop, and checked for syntax.
    let nobody = uuid::Uuid::now_v7();
    let res =
        send(&app, &shop, Method::PUT, &format!("/exemptions/{nobody}"), Some(json!({"vat_id": "ATU12345678"}))).await;
    problem(res, 404).await;
    let customer = app.customer(&shop).await.user_id;
    for bad in ["DE12345", "US123456789", "ATU1234567", "nonsense"] {
        let res =
            send(&app, &shop, Method::PUT, &format!("/exemptions/{customer}"), Some(json!({"vat_id": bad}))).await;
        assert_eq!(invalid_field(res).await, "vat_id", "{bad}");
    }
    problem(send(&app, &shop, Method::GET, &format!("/exemptions/{customer}"), None).await, 404).await;

    // Classes: a duplicate name, a built-in one that cannot go.
    assert_eq!(
        invalid_field(send(&app, &shop, Method::POST, "/classes", Some(json!({"name": "standard"}))).await).await,
        "name"
    );
    let res = send(&app, &shop, Method::DELETE, &format!("/classes/{STANDARD}"), None).await;
    assert_eq!(problem(res, 409).await["type"], "https://agora.dev/problems/tax-class-locked");

    // Baskets.
    let preview = |body: Value| send(&app, &shop, Method::POST, "/preview", Some(body));
    let line = json!({"product_id": mug, "amount": eur(100)});
    assert_eq!(
        invalid_field(preview(json!({"destination": {"country": "ZZ"}, "lines": [line]})).await).await,
        "destination.country"
    );
    assert_eq!(
        invalid_field(
            preview(json!({"destination": {"country": "DE", "postal_code": "10-115!"}, "lines": [line]})).await
        )
        .await,
        "destination.postal_code"
    );
    assert_eq!(
        invalid_field(
            preview(
                json!({"destination": {"country": "DE"}, "lines": [line, {"product_id": mug, "amount": usd(100)}]})
            )
            .await
        )
        .await,
        "lines[1].amount.currency"
    );
    assert_eq!(
        invalid_field(
            preview(json!({"destination": {"country": "DE"}, "lines": [{"product_id": mug, "amount": eur(-1)}]})).await
        )
        .await,
        "lines[0].amount.amount"
    );
    assert_eq!(invalid_field(preview(json!({"destination": {"country": "DE"}, "lines": []})).await).await, "lines");
}

#[tokio::test]
async fn pricing_tax_routes_refuse_strangers_customers_staff_without_permission_and_other_shops() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("globex").await;
    let zone = ok(&app, &shop, Method::POST, "/zones", Some(json!({"name": "Germany", "country": "DE"})), 201).await;
    let z = zone["id"].as_str().unwrap().to_string();
    let mug = product(&app, &shop, "MUG").await;
    let customer_id = app.customer(&shop).await.user_id;
    ok(&app, &shop, Method::PUT, &format!("/exemptions/{customer_id}"), Some(json!({"vat_id": "FRXX123456789"})), 200)
        .await;

    let customer = app.customer(&shop).await;
    let nobody = app.staff(&shop, &[]).await;
    let read_only = app.staff(&shop, &["read_only"]).await;
    let reader = app.staff(&shop, &["order_manager"]).await; // pricing.read, not pricing.manage
    let stranger = app.staff(&other, &["owner"]).await;

    let basket = json!({"destination": {"country": "DE"}, "lines": [{"product_id": mug, "amount": eur(100)}]});
    let reads: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, "/settings".into(), None),
        (Method::GET, "/classes".into(), None),
        (Method::GET, format!("/classes/{STANDARD}"), None),
        (Method::GET, "/zones".into(), None),
        (Method::GET, format!("/zones/{z}"), None),
        (Method::GET, format!("/products/{mug}"), None),
        (Method::GET, format!("/exemptions/{customer_id}"), None),
        (Method::POST, "/preview".into(), Some(basket)),
    ];
    let writes: Vec<(Method, String, Value)> = vec![
        (
            Method::PUT,
            "/settings".into(),
            json!({"prices_include_tax": false, "cross_border": "keep_gross",
            "rounding": "per_line", "shipping_tax": "not_taxed", "shipping_tax_class_id": null, "origin_country": "US"}),
        ),
        (Method::POST, "/classes".into(), json!({"name": "Books"})),
        (Method::PUT, format!("/classes/{STANDARD}"), json!({"name": "Normal"})),
        (Method::POST, "/zones".into(), json!({"name": "Austria", "country": "AT"})),
        (Method::PUT, format!("/zones/{z}"), json!({"name": "Deutschland", "country": "DE"})),
        (Method::DELETE, format!("/zones/{z}"), json!({})),
        (Method::PUT, format!("/products/{mug}"), json!({"tax_class_id": REDUCED})),
        (Method::PUT, format!("/exemptions/{customer_id}"), json!({"vat_id": "DE123456789"})),
        (Method::DELETE, format!("/exemptions/{customer_id}"), json!({})),
    ];
    let call = |m: Method, path: &str, who: Option<&Credentials>, body: Option<&Value>| {
        let url = format!("{TAX}{path}");
        let mut req = match who {
            Some(who) => app.as_user(m, &url, &shop, who),
            None => app.client.request(m, app.url(&url)).header("x-tenant-id", &shop),
        };
        if let Some(body) = body {
            req = req.json(body);
        }
        req.send()
    };
    for (m, path, body) in &reads {
        problem(call(m.clone(), path, None, body.as_ref()).await.unwrap(), 401).await;
        problem(call(m.clone(), path, Some(&customer), body.as_ref()).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&nobody), body.as_ref()).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&read_only), body.as_ref()).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&stranger), body.as_ref()).await.unwrap(), 401).await;
        assert_eq!(call(m.clone(), path, Some(&reader), body.as_ref()).await.unwrap().status(), 200, "{path}");
    }
    for (m, path, body) in &writes {
        problem(call(m.clone(), path, None, Some(body)).await.unwrap(), 401).await;
        problem(call(m.clone(), path, Some(&customer), Some(body)).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&nobody), Some(body)).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&read_only), Some(body)).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&reader), Some(body)).await.unwrap(), 403).await;
        problem(call(m.clone(), path, Some(&stranger), Some(body)).await.unwrap(), 401).await;
    }
    // Another shop's own staff find nothing of this shop's by id.
    problem(send(&app, &other, Method::GET, &format!("/zones/{z}"), None).await, 404).await;
    problem(
        send(&app, &other, Method::PUT, &format!("/zones/{z}"), Some(json!({"name": "Mine", "country": "DE"}))).await,
        404,
    )
    .await;
    problem(send(&app, &other, Method::DELETE, &format!("/zones/{z}"), None).await, 404).await;
    problem(send(&app, &other, Method::GET, &format!("/exemptions/{customer_id}"), None).await, 404).await;
    problem(
        send(&app, &other, Method::PUT, &format!("/products/{mug}"), Some(json!({"tax_class_id": STANDARD}))).await,
        404,
    )
    .await;
    // Nothing the refused calls asked for happened.
    let still = ok(&app, &shop, Method::GET, &format!("/zones/{z}"), None, 200).await;
    assert_eq!((still["name"].as_str(), still["version"].as_i64()), (Some("Germany"), Some(1)));
    let exemption = ok(&app, &shop, Method::GET, &format!("/exemptions/{customer_id}"), None, 200).await;
    assert_eq!(exemption["vat_id"], "FRXX123456789");
    let settings = ok(&app, &shop, Method::GET, "/settings", None, 200).await;
    assert_eq!(settings["prices_include_tax"], true);
}
