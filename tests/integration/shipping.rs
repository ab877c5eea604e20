//! Shipping through the real app: zones and methods set up by the merchant, shipments priced by
//! the most specific zone, free-shipping thresholds, weight and order-value bands, the
//! storefront's estimate, bad input naming its field, and the callers who must be refused.

use crate::support::{problem, Credentials, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const SHIP: &str = "/api/v1/admin/pricing/shipping";
const STORE: &str = "/api/v1/store/pricing/shipping";

fn eur(amount: i64) -> Value {
    json!({"amount": amount, "currency": "EUR"})
}

async fn created(res: reqwest::Response) -> Value {
    let status = res.status();
    let body: Value = res.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    body
}

async fn zone(app: &TestApp, shop: &str, body: Value) -> Value {
    created(app.admin(Method::POST, &format!("{SHIP}/zones"), shop).json(&body).send().await.unwrap()).await
}

async fn method(app: &TestApp, shop: &str, zone: &Value, body: Value) -> Value {
    let path = format!("{SHIP}/zones/{}/methods", zone["id"].as_str().unwrap());
    created(app.admin(Method::POST, &path, shop).json(&body).send().await.unwrap()).await
}

async fn preview(app: &TestApp, shop: &str, destination: Value, value: i64, weight: i64) -> Value {
    let body = json!({"destination": destination, "order_value": eur(value), "weight_grams": weight});
    let res = app.admin(Method::POST, &format!("{SHIP}/preview"), shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// `(name, price)` of each option, in the order offered.
fn offered(options: &Value) -> Vec<(String, i64)> {
    options["options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["name"].as_str().unwrap().to_string(), o["price"]["amount"].as_i64().unwrap()))
        .collect()
}

fn named(options: &[(&str, i64)]) -> Vec<(String, i64)> {
    options.iter().map(|(n, p)| (n.to_string(), *p)).collect()
}

#[tokio::test]
async fn shipping_prices_a_shipment_by_the_most_specific_zone_its_bands_and_free_thresholds() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let germany = zone(&app, &shop, json!({"name": "Germany", "countries": ["DE", "AT"]})).await;
    let standard = method(
        &app,
        &shop,
        &germany,
        json!({"name": "Standard", "kind": "flat", "currency": "EUR", "price": eur(490),
               "free_above": eur(5000), "min_days": 2, "max_days": 4}),
    )
    .await;
    method(
        &app,
        &shop,
        &germany,
        json!({"name": "Parcel by weight", "kind": "weight", "currency": "EUR", "position": 1,
               "bands": [{"up_to": 1000, "price": eur(390)}, {"up_to": 5000, "price": eur(690)}]}),
    )
    .await;
    let berlin = zone(&app, &shop, json!({"name": "Berlin", "countries": ["DE"], "postcodes": ["10000-14999"]})).await;
    method(
        &app,
        &shop,
        &berlin,
        json!({"name": "Bike courier", "kind": "order_value", "currency": "EUR", "max_days": 0,
               "bands": [{"up_to": 2000, "price": eur(800)}, {"price": eur(300)}]}),
    )
    .await;

    // Munich: Germany's methods, cheapest first; heavier parcels cost more, then stop fitting.
    let munich = json!({"country": "DE", "postal_code": "80331"});
    let options = preview(&app, &shop, munich.clone(), 3000, 800).await;
    assert_eq!(options["zone_id"], germany["id"]);
    assert_eq!(offered(&options), named(&[("Parcel by weight", 390), ("Standard", 490)]));
    assert_eq!(options["options"][1]["estimate"], json!({"min_days": 2, "max_days": 4}));
    let options = preview(&app, &shop, munich.clone(), 3000, 1001).await;
    assert_eq!(offered(&options), named(&[("Standard", 490), ("Parcel by weight", 690)]));
    let options = preview(&app, &shop, munich.clone(), 3000, 5001).await;
    assert_eq!(offered(&options), named(&[("Standard", 490)]), "beyond the last band: not offered");
    // From 50 € on, Standard is free (and says why).
    let options = preview(&app, &shop, munich, 5000, 800).await;
    assert_eq!(offered(&options), named(&[("Standard", 0), ("Parcel by weight", 390)]));
    assert_eq!(options["options"][0]["free"], true);

    // Berlin's postcodes belong to Berlin's zone only; its open last band prices large orders.
    let options = preview(&app, &shop, json!({"country": "DE", "postal_code": "10 115"}), 1500, 0).await;
    assert_eq!(options["zone_id"], berlin["id"]);
    assert_eq!(offered(&options), named(&[("Bike courier", 800)]));
    let options = preview(&app, &shop, json!({"country": "DE", "postal_code": "10115"}), 90000, 0).await;
    assert_eq!(offered(&options), named(&[("Bike courier", 300)]));
    // Nowhere the shop delivers: no zone, nothing offered.
    let options = preview(&app, &shop, json!({"country": "FR"}), 1500, 0).await;
    assert_eq!(options["zone_id"], Value::Null);
    assert_eq!(offered(&options), vec![]);

    // Shoppers see where the shop delivers and estimate without signing in.
    let res = app.get(&format!("{STORE}/countries")).header("x-tenant-id", &shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["countries"], json!(["AT", "DE"]));
    let res = app
        .client
        .post(app.url(&format!("{STORE}/estimate")))
        .header("x-tenant-id", &shop)
        .json(&json!({"destination": {"country": "AT"}, "order_value": eur(1000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(offered(&res.json().await.unwrap()), named(&[("Parcel by weight", 390), ("Standard", 490)]));

    // Replacing a method needs its current version; a stale one is refused and changes nothing.
    let path = format!("{SHIP}/methods/{}", standard["id"].as_str().unwrap());
    let replacement = json!({"name": "Standard", "kind": "flat", "currency": "EUR", "price": eur(590)});
    let res = app.admin(Method::PUT, &path, &shop).header("if-match", "\"7\"").json(&replacement).send().await.unwrap();
    problem(res, 412).await;
    let res = app.admin(Method::PUT, &path, &shop).header("if-match", "\"1\"").json(&replacement).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let replaced: Value = res.json().await.unwrap();
    assert_eq!((replaced["price"]["amount"].as_i64(), replaced["free_above"].clone()), (Some(590), Value::Null));
    assert_eq!(replaced["version"], 2);

    // Deleting the zone takes its methods with it: Austria is no longer served.
    let zone_path = format!("{SHIP}/zones/{}", germany["id"].as_str().unwrap());
    let res = app.admin(Method::DELETE, &zone_path, &shop).header("if-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.status(), 204);
    problem(app.admin(Method::GET, &zone_path, &shop).send().await.unwrap(), 404).await;
    problem(app.admin(Method::GET, &path, &shop).send().await.unwrap(), 404).await;
    let options = preview(&app, &shop, json!({"country": "AT"}), 1000, 0).await;
    assert_eq!(offered(&options), vec![]);
    let list: Value =
        app.admin(Method::GET, &format!("{SHIP}/zones"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().iter().map(|z| z["name"].clone()).collect::<Vec<_>>(), ["Berlin"]);
}

/// The 422's fields, in the order the problem lists them.
async fn fields(res: reqwest::Response) -> Vec<String> {
    let body = problem(res, 422).await;
    body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn shipping_bad_input_is_refused_naming_each_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let post = |path: String, body: Value| app.admin(Method::POST, &path, &shop).json(&body).send();

    let res = post(
        format!("{SHIP}/zones"),
        json!({"name": " ", "countries": ["de", "FR"], "postcodes": ["14999-10000", "SW1*"], "regions": ["N Y"]}),
    )
    .await
    .unwrap();
    assert_eq!(fields(res).await, ["name", "countries[0]", "regions[0]", "postcodes[0]"]);
    let res = post(format!("{SHIP}/zones"), json!({"name": "Nowhere", "countries": []})).await.unwrap();
    assert_eq!(fields(res).await, ["countries"]);

    let germany = zone(&app, &shop, json!({"name": "Germany", "countries": ["DE"]})).await;
    let res = post(format!("{SHIP}/zones"), json!({"name": "GERMANY", "countries": ["AT"]})).await.unwrap();
    assert_eq!(fields(res).await, ["name"], "names are unique whatever their case");

    let methods = format!("{SHIP}/zones/{}/methods", germany["id"].as_str().unwrap());
    // A currency the shop does not sell, amounts in another currency than the method's.
    let res = post(
        methods.clone(),
        json!({"name": "Express", "kind": "flat", "currency": "USD", "price": eur(990), "min_days": 3, "max_days": 1}),
    )
    .await
    .unwrap();
    assert_eq!(fields(res).await, ["currency", "price", "max_days"]);
    // Bands that do not rise, an open band that is not the last, a flat method without a price.
    let res = post(
        methods.clone(),
        json!({"name": "By weight", "kind": "weight", "currency": "EUR",
               "bands": [{"up_to": 1000, "price": eur(100)}, {"price": eur(200)}, {"up_to": 500, "price": eur(300)}]}),
    )
    .await
    .unwrap();
    assert_eq!(fields(res).await, ["bands[1].up_to", "bands[2].up_to"]);
    let res = post(methods.clone(), json!({"name": "Flat", "kind": "flat", "currency": "EUR"})).await.unwrap();
    assert_eq!(fields(res).await, ["price"]);
    // A method kind that does not exist, a field that does not exist: 422s, not 500s.
    let res = post(methods.clone(), json!({"name": "X", "kind": "teleport", "currency": "EUR"})).await.unwrap();
    assert_eq!(res.status(), 422);
    let res =
        post(methods.clone(), json!({"name": "X", "kind": "flat", "currency": "EUR", "price": eur(1), "speed": 9}))
            .await
            .unwrap();
    assert_eq!(res.status(), 422);
    // The preview checks its destination and weight.
    let res = post(
        format!("{SHIP}/preview"),
        json!({"destination": {"country": "Germany"}, "order_value": eur(100), "weight_grams": 1}),
    )
    .await
    .unwrap();
    assert_eq!(fields(res).await, ["destination.country"]);
    let res = post(
        format!("{SHIP}/preview"),
        json!({"destination": {"country": "DE"}, "order_value": eur(100), "weight_grams": -1}),
    )
    .await
    .unwrap();
    assert_eq!(fields(res).await, ["weight_grams"]);

    // None of the refused requests left anything behind.
    let zone: Value = app
        .admin(Method::GET, &format!("{SHIP}/zones/{}", germany["id"].as_str().unwrap()), &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(zone["methods"], json!([]));
    let list: Value =
        app.admin(Method::GET, &format!("{SHIP}/zones"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn shipping_routes_refuse_strangers_customers_staff_without_permission_and_other_shops() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("globex").await;
    let germany = zone(&app, &shop, json!({"name": "Germany", "countries": ["DE"]})).await;
    let flat = method(
        &app,
        &shop,
        &germany,
        json!({"name": "Standard", "kind": "flat", "currency": "EUR", "price": eur(490)}),
    )
    .await;
    let (z, m) = (germany["id"].as_str().unwrap(), flat["id"].as_str().unwrap());

    let customer = app.customer(&shop).await;
    let nobody = app.staff(&shop, &[]).await;
    let reader = app.staff(&shop, &["support"]).await;
    let manager = app.staff(&shop, &["catalog_manager"]).await;
    let stranger = app.staff(&other, &["owner"]).await;

    let reads = [format!("{SHIP}/zones"), format!("{SHIP}/zones/{z}"), format!("{SHIP}/methods/{m}")];
    let method_body = json!({"name": "Express", "kind": "flat", "currency": "EUR", "price": eur(990)});
    let writes: [(Method, String, Value); 4] = [
        (Method::POST, format!("{SHIP}/zones"), json!({"name": "France", "countries": ["FR"]})),
        (Method::PATCH, format!("{SHIP}/zones/{z}"), json!({"countries": ["FR"]})),
        (Method::POST, format!("{SHIP}/zones/{z}/methods"), method_body.clone()),
        (Method::PUT, format!("{SHIP}/methods/{m}"), method_body.clone()),
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
    for path in [format!("{SHIP}/zones/{z}"), format!("{SHIP}/methods/{m}")] {
        problem(call(Method::DELETE, &path, Some(&reader), None).await.unwrap(), 403).await;
    }
    // Another shop's own staff see and change nothing of this shop's by id.
    problem(app.admin(Method::GET, &format!("{SHIP}/zones/{z}"), &other).send().await.unwrap(), 404).await;
    problem(app.admin(Method::GET, &format!("{SHIP}/methods/{m}"), &other).send().await.unwrap(), 404).await;
    let res = app.admin(Method::PUT, &format!("{SHIP}/methods/{m}"), &other).json(&method_body).send().await.unwrap();
    problem(res, 404).await;
    let res = app.admin(Method::DELETE, &format!("{SHIP}/zones/{z}"), &other).send().await.unwrap();
    problem(res, 404).await;
    // And their shoppers' estimates know nothing of this shop's zones.
    let res = app
        .client
        .post(app.url(&format!("{STORE}/estimate")))
        .header("x-tenant-id", &other)
        .json(&json!({"destination": {"country": "DE"}, "order_value": eur(1000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(offered(&res.json().await.unwrap()), vec![]);

    // The catalog manager holds pricing.manage; nothing the refused calls asked for happened.
    let res =
        call(Method::PATCH, &format!("{SHIP}/zones/{z}"), Some(&manager), Some(&json!({"name": "DE"}))).await.unwrap();
    assert_eq!(res.status(), 200);
    let zone: Value = res.json().await.unwrap();
    assert_eq!((zone["countries"].clone(), zone["version"].clone()), (json!(["DE"]), json!(2)));
    assert_eq!(zone["methods"].as_array().unwrap().len(), 1);
}
