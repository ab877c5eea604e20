//! The cart through the real app: a guest's cart reached only by its token, priced, discounted,
//! shipped and taxed by pricing (German VAT included, worked out by hand below); refusals with
//! their reasons that change nothing; the merge of a guest cart into a customer's on sign-in;
//! price changes told once; concurrent adds that lose nothing; abandonment by the sweep; the
//! cart rules in the back office and who is refused them.

use crate::support::{problem, Credentials, TestApp};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

pub(crate) const CART: &str = "/api/v1/store/cart";
const TAX: &str = "/api/v1/admin/pricing/taxes";
const STANDARD: &str = "00000000-0000-7000-8000-000000000001";

pub(crate) fn eur(amount: i64) -> Value {
    json!({"amount": amount, "currency": "EUR"})
}

/// A shop selling in EUR with German VAT included in its prices, a product with two variants
/// (20.00, and 12.00 reduced from 15.00), three of the first in stock; the shop and variant ids.
pub(crate) async fn german_shop(app: &TestApp, slug: &str) -> (String, String, String) {
    let shop = app.tenant(slug).await;
    let res = app.admin(Method::GET, &format!("{TAX}/settings"), &shop).send().await.unwrap();
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let res = app
        .admin(Method::PUT, &format!("{TAX}/settings"), &shop)
        .header("if-match", etag)
        .json(&json!({"prices_include_tax": true, "cross_border": "keep_gross", "rounding": "per_line",
            "shipping_tax": "highest_rate", "shipping_tax_class_id": null, "origin_country": "DE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let res = app
        .admin(Method::POST, &format!("{TAX}/zones"), &shop)
        .json(&json!({"name": "Germany", "country": "DE",
            "rates": [{"tax_class_id": STANDARD, "name": "MwSt. 19 %", "percent": "19"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let res = app
        .admin(Method::POST, "/api/v1/admin/catalog/products", &shop)
        .json(&json!({
            "name": {"en": "Coffee beans", "de": "Kaffeebohnen"},
            "status": "active",
            "options": [{"name": "size", "values": ["1kg", "250g"]}],
            "variants": [
                {"sku": "BEANS-1KG", "option_values": {"size": "1kg"}, "prices": [{"amount": 2000, "currency": "EUR"}]},
                {"sku": "BEANS-250", "option_values": {"size": "250g"},
                 "prices": [{"amount": 1200, "currency": "EUR", "compare_at": 1500}]}
            ]
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let product: Value = res.json().await.unwrap();
    let a = product["variants"][0]["id"].as_str().unwrap().to_string();
    let b = product["variants"][1]["id"].as_str().unwrap().to_string();
    let res = app
        .admin(Method::POST, "/api/v1/admin/inventory/locations", &shop)
        .json(&json!({"name": "Warehouse", "priority": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location: Value = res.json().await.unwrap();
    let res = app
        .admin(
            Method::PUT,
            &format!("/api/v1/admin/inventory/variants/{a}/stock/{}", location["id"].as_str().unwrap()),
            &shop,
        )
        .json(&json!({"on_hand": 3}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    (shop, a, b)
}

/// A storefront request to `shop`'s cart: as a guest with `token`, or as `who`.
pub(crate) fn store(
    app: &TestApp,
    method: Method,
    path: &str,
    shop: &str,
    token: Option<&str>,
    who: Option<&Credentials>,
) -> reqwest::RequestBuilder {
    let mut req = app.client.request(method, app.url(&format!("{CART}{path}"))).header("x-tenant-id", shop);
    if let Some(token) = token {
        req = req.header("x-cart-token", token);
    }
    if let Some(who) = who {
        req = req.bearer_auth(&who.access_token);
    }
    req
}

pub(crate) async fn ok(res: reqwest::Response) -> Value {
    let status = res.status();
    let text = res.text().await.unwrap_or_default();
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).unwrap()
}

pub(crate) fn amount(v: &Value) -> i64 {
    v["amount"].as_i64().unwrap_or_else(|| panic!("no amount in {v}"))
}

/// `(variant, quantity)` of each line, sorted.
pub(crate) fn lines(cart: &Value) -> Vec<(String, i64)> {
    let mut l: Vec<(String, i64)> = cart["lines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["variant_id"].as_str().unwrap().to_string(), l["quantity"].as_i64().unwrap()))
        .collect();
    l.sort();
    l
}

/// `(subtotal, discounts, shipping, tax, total)`.
pub(crate) fn totals(cart: &Value) -> (i64, i64, i64, i64, i64) {
    let t = &cart["totals"];
    (
        amount(&t["subtotal"]),
        amount(&t["discount_total"]),
        amount(&t["shipping_total"]),
        amount(&t["tax_total"]),
        amount(&t["total"]),
    )
}

#[tokio::test]
async fn a_guest_cart_is_priced_discounted_shipped_and_taxed_with_german_vat_included() {
    let app = TestApp::spawn().await;
    let (shop, a, b) = german_shop(&app, "acme").await;

    // The first add makes the cart: its token comes once, in the body and as the cookie.
    let res = store(&app, Method::POST, "/lines", &shop, None, None)
        .header("accept-language", "de")
        .json(&json!({"variant_id": a, "quantity": 2}))
        .send()
        .await
        .unwrap();
    let cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cookie.starts_with("agora_cart=cart_") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
    assert!(cookie.contains("Path=/api/v1/store/cart"), "{cookie}");
    let cart = ok(res).await;
    let token = cart["token"].as_str().unwrap().to_string();
    assert!(cookie.contains(&token));
    assert_eq!(cart["locale"], "de");
    assert_eq!(cart["lines"][0]["name"], "Kaffeebohnen");
    assert_eq!(cart["lines"][0]["option_values"], json!({"size": "1kg"}));
    // 40.00 incl. 19 % VAT: net 33.61, tax 6.39.
    assert_eq!(totals(&cart), (4000, 0, 0, 639, 4000));
    assert_eq!(cart["totals"]["taxes"][0]["name"], "MwSt. 19 %");
    assert_eq!(cart["totals"]["prices_include_tax"], true);
    assert_eq!(cart["totals"]["tax_country"], "DE");
    assert_eq!(cart["lines"][0]["available"], 3);

    // The token opens the cart (and is never shown again); the cookie does too.
    let again = ok(store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap()).await;
    assert!(again.get("token").is_none());
    assert_eq!(again["id"], cart["id"]);
    let by_cookie = app
        .client
        .get(app.url(CART))
        .header("x-tenant-id", &shop)
        .header("cookie", format!("agora_cart={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(ok(by_cookie).await["id"], cart["id"]);

    // The second variant, on sale: 12.00 incl. 1.92 VAT (per line: 6.39 + 1.92).
    let cart = ok(store(&app, Method::POST, "/lines", &shop, Some(&token), None)
        .json(&json!({"variant_id": b}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(totals(&cart), (5200, 0, 0, 831, 5200));
    let sale = cart["lines"].as_array().unwrap().iter().find(|l| l["variant_id"] == b.as_str()).unwrap().clone();
    assert_eq!((amount(&sale["unit_price"]), amount(&sale["compare_at"])), (1200, 1500));
    assert_eq!(cart["item_count"], 3);

    // More than the stock: refused with what is there, and the cart keeps its two.
    let res = store(&app, Method::POST, "/lines", &shop, Some(&token), None)
        .json(&json!({"variant_id": a, "quantity": 2}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["type"], "https://agora.dev/problems/not-enough-stock");
    assert_eq!(body["errors"][0]["field"], "quantity");
    assert!(body["detail"].as_str().unwrap().contains("only 3"));
    // Over the shop's limit per item, under 1, an unknown variant: each its reason.
    for (quantity, field, kind) in [(100, "quantity", "quantity-limit"), (0, "quantity", "validation")] {
        let res = store(&app, Method::POST, "/lines", &shop, Some(&token), None)
            .json(&json!({"variant_id": b, "quantity": quantity}))
            .send()
            .await
            .unwrap();
        let body = problem(res, 422).await;
        assert_eq!(body["errors"][0]["field"], field, "{body}");
        assert!(body["type"].as_str().unwrap().ends_with(kind), "{body}");
    }
    let res = store(&app, Method::POST, "/lines", &shop, Some(&token), None)
        .json(&json!({"variant_id": uuid::Uuid::now_v7()}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["type"], "https://agora.dev/problems/not-for-sale");
    let cart = ok(store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap()).await;
    assert_eq!(lines(&cart), {
        let mut l = vec![(a.clone(), 2), (b.clone(), 1)];
        l.sort();
        l
    });

    // A code for 10 % off: 5.20 off, shared 4.00 / 1.20 by the lines, and the VAT on what is
    // left (36.00 → 5.75, 10.80 → 1.72).
    let res = app
        .admin(Method::POST, "/api/v1/admin/pricing/promotions", &shop)
        .json(&json!({"name": "Summer 10", "trigger": "code",
            "discount": {"kind": "percentage", "percent_bp": 1000},
            "codes": [{"code": "SUMMER10", "usage_limit": 100}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let res = app
        .admin(Method::POST, "/api/v1/admin/pricing/promotions", &shop)
        .json(&json!({"name": "Last year", "trigger": "code", "ends_at": "2020-01-01T00:00:00Z",
            "discount": {"kind": "percentage", "percent_bp": 5000}, "codes": [{"code": "OLD50"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let cart = ok(store(&app, Method::POST, "/codes", &shop, Some(&token), None)
        .json(&json!({"code": " summer10 "}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(totals(&cart), (5200, 520, 0, 747, 4680));
    assert_eq!(cart["codes"], json!([{"code": "SUMMER10", "applied": true, "reason": null}]));
    assert_eq!(cart["discounts"][0]["name"], "Summer 10");
    let shares: i64 = cart["lines"].as_array().unwrap().iter().map(|l| amount(&l["discount"])).sum();
    assert_eq!(shares, 520, "the lines' shares sum to the discount");
    for (code, kind) in [("NOPE", "code-unknown"), ("OLD50", "code-expired"), ("no spaces!", "code-unknown")] {
        let res = store(&app, Method::POST, "/codes", &shop, Some(&token), None)
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap();
        let body = problem(res, 422).await;
        assert_eq!(body["type"], format!("https://agora.dev/problems/{kind}"), "{code}");
        assert_eq!(body["errors"][0]["field"], "code");
    }
    let cart = ok(store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap()).await;
    assert_eq!(cart["codes"].as_array().unwrap().len(), 1, "refused codes are not kept");

    // Shipping to Germany at 4.90, taxed at the basket's highest rate (0.78): the total grows.
    let res = app
        .admin(Method::POST, "/api/v1/admin/pricing/shipping/zones", &shop)
        .json(&json!({"name": "Germany", "countries": ["DE"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let zone: Value = res.json().await.unwrap();
    let res = app
        .admin(
            Method::POST,
            &format!("/api/v1/admin/pricing/shipping/zones/{}/methods", zone["id"].as_str().unwrap()),
            &shop,
        )
        .json(&json!({"name": "DHL", "kind": "flat", "currency": "EUR", "price": eur(490), "free_above": eur(10000)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let method: Value = res.json().await.unwrap();
    let estimate = ok(store(&app, Method::PUT, "/shipping", &shop, Some(&token), None)
        .json(&json!({"country": "de", "postal_code": "10115"}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(estimate["shipping"]["options"][0]["name"], "DHL");
    assert_eq!(totals(&estimate), (5200, 520, 0, 747, 4680), "an estimate chooses nothing");
    let cart = ok(store(&app, Method::PUT, "/shipping", &shop, Some(&token), None)
        .json(&json!({"country": "DE", "postal_code": "10115", "method_id": method["id"]}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(totals(&cart), (5200, 520, 490, 825, 5170));
    let res = store(&app, Method::PUT, "/shipping", &shop, Some(&token), None)
        .json(&json!({"country": "FR", "method_id": method["id"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "method_id");
    let res = store(&app, Method::PUT, "/shipping", &shop, Some(&token), None)
        .json(&json!({"country": "Germany"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "country");

    // A currency the shop does not sell: 422, nothing changed.
    let res = store(&app, Method::PATCH, "", &shop, Some(&token), None)
        .json(&json!({"currency": "USD"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "currency");

    // Quantities change and lines go; the line of another cart is not found in this one.
    let line = cart["lines"].as_array().unwrap().iter().find(|l| l["variant_id"] == a.as_str()).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cart = ok(store(&app, Method::PATCH, &format!("/lines/{line}"), &shop, Some(&token), None)
        .json(&json!({"quantity": 1}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(cart["item_count"], 2);
    let other = ok(store(&app, Method::POST, "/lines", &shop, None, None)
        .json(&json!({"variant_id": b}))
        .send()
        .await
        .unwrap())
    .await;
    let res = store(&app, Method::DELETE, &format!("/lines/{line}"), &shop, other["token"].as_str(), None)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 404).await["type"], "https://agora.dev/problems/cart-line-not-found");
    let cart =
        ok(store(&app, Method::DELETE, &format!("/lines/{line}"), &shop, Some(&token), None).send().await.unwrap())
            .await;
    assert_eq!(lines(&cart), vec![(b.clone(), 1)]);

    // Unknown, malformed and other shops' tokens: the same 404, saying nothing of other carts.
    let elsewhere = app.tenant("elsewhere").await;
    let forged = format!("cart_{}", "A".repeat(43));
    for (shop, token) in [(&shop, forged.as_str()), (&shop, "nonsense"), (&elsewhere, token.as_str())] {
        let res = store(&app, Method::GET, "", shop, Some(token), None).send().await.unwrap();
        assert_eq!(problem(res, 404).await["type"], "https://agora.dev/problems/cart-not-found");
    }
    let res = store(&app, Method::GET, "", &shop, None, None).send().await.unwrap();
    assert_eq!(problem(res, 404).await["type"], "https://agora.dev/problems/cart-not-found");

    // Only the token's hash is kept.
    let db = app.db.connect().await;
    let stored: i64 = db
        .query_one("SELECT count(*) FROM t_acme.carts WHERE token_hash = sha256(convert_to($1, 'UTF8'))", &[&token])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 1);
    let clear: i64 = db
        .query_one("SELECT count(*) FROM t_acme.carts WHERE encode(token_hash, 'escape') LIKE 'cart_%'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(clear, 0);
    let events: Vec<String> = db
        .query(
            "SELECT DISTINCT name FROM agora.outbox WHERE tenant_slug = 'acme' AND name LIKE 'cart.%' ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(events, ["cart.created.v1", "cart.updated.v1"]);
}

#[tokio::test]
async fn a_guest_cart_merges_into_the_customer_cart_on_sign_in() {
    let app = TestApp::spawn().await;
    let (shop, a, b) = german_shop(&app, "acme").await;
    let carla = app.customer(&shop).await;

    // Carla's own cart (any device): one of A.
    let own = ok(store(&app, Method::POST, "/lines", &shop, None, Some(&carla))
        .json(&json!({"variant_id": a}))
        .send()
        .await
        .unwrap())
    .await;
    assert!(own.get("token").is_none(), "a customer's cart has no token");
    assert_eq!(own["customer_cart"], true);
    let res = app
        .admin(Method::POST, "/api/v1/admin/pricing/promotions", &shop)
        .json(&json!({"name": "Five off", "trigger": "code",
            "discount": {"kind": "fixed_amount", "amounts": [eur(500)]}, "codes": [{"code": "FIVE"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());

    // Before signing in, as a guest: one more A, one B and a code.
    let guest = ok(store(&app, Method::POST, "/lines", &shop, None, None)
        .json(&json!({"variant_id": a}))
        .send()
        .await
        .unwrap())
    .await;
    let token = guest["token"].as_str().unwrap().to_string();
    ok(store(&app, Method::POST, "/lines", &shop, Some(&token), None)
        .json(&json!({"variant_id": b}))
        .send()
        .await
        .unwrap())
    .await;
    ok(store(&app, Method::POST, "/codes", &shop, Some(&token), None)
        .json(&json!({"code": "five"}))
        .send()
        .await
        .unwrap())
    .await;

    // Signed in, still carrying the guest cookie: both carts' lines and the code, and the
    // cookie goes.
    let res = store(&app, Method::GET, "", &shop, Some(&token), Some(&carla)).send().await.unwrap();
    let cleared = res.headers()["set-cookie"].to_str().unwrap().to_string();
    assert!(cleared.starts_with("agora_cart=;") && cleared.contains("Max-Age=0"), "{cleared}");
    let merged = ok(res).await;
    assert_eq!(merged["id"], own["id"]);
    assert_eq!(lines(&merged), {
        let mut l = vec![(a.clone(), 2), (b.clone(), 1)];
        l.sort();
        l
    });
    assert_eq!(merged["codes"][0]["code"], "FIVE");
    assert_eq!(totals(&merged).1, 500);
    // The guest token opens nothing now, for anyone.
    let res = store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let again = ok(store(&app, Method::GET, "", &shop, None, Some(&carla)).send().await.unwrap()).await;
    assert_eq!(lines(&again), lines(&merged));

    // A customer without a cart takes the guest's whole.
    let dora = app.customer(&shop).await;
    let guest = ok(store(&app, Method::POST, "/lines", &shop, None, None)
        .json(&json!({"variant_id": b}))
        .send()
        .await
        .unwrap())
    .await;
    let token = guest["token"].as_str().unwrap().to_string();
    let adopted = ok(store(&app, Method::GET, "", &shop, Some(&token), Some(&dora)).send().await.unwrap()).await;
    assert_eq!(adopted["id"], guest["id"]);
    assert_eq!(adopted["customer_cart"], true);
    assert_eq!(store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap().status(), 404);

    // Another customer never sees Carla's cart: they have none.
    let eve = app.customer(&shop).await;
    let res = store(&app, Method::GET, "", &shop, None, Some(&eve)).send().await.unwrap();
    assert_eq!(res.status(), 404);
    // Carla's token in another shop is no customer there: a guest without a cart.
    let elsewhere = app.tenant("elsewhere").await;
    let res = store(&app, Method::GET, "", &elsewhere, None, Some(&carla)).send().await.unwrap();
    assert!(res.status() == 401 || res.status() == 404, "{}", res.status());
}

#[tokio::test]
async fn a_changed_price_is_told_until_the_shopper_has_seen_it() {
    let app = TestApp::spawn().await;
    let (shop, a, _) = german_shop(&app, "acme").await;
    let cart = ok(store(&app, Method::POST, "/lines", &shop, None, None)
        .json(&json!({"variant_id": a}))
        .send()
        .await
        .unwrap())
    .await;
    let token = cart["token"].as_str().unwrap().to_string();
    assert_eq!(cart["notices"], json!([]));

    // The merchant puts it on sale at 18.00.
    let res = app
        .admin(Method::POST, "/api/v1/admin/pricing/price-lists", &shop)
        .json(&json!({"name": "Sale", "currency": "EUR", "status": "active"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let list: Value = res.json().await.unwrap();
    let id = list["id"].as_str().unwrap();
    let res = app
        .admin(Method::POST, &format!("/api/v1/admin/pricing/price-lists/{id}/entries"), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"entries": [{"sku": "BEANS-1KG", "price": eur(1800), "sale": true}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());

    for _ in 0..2 {
        let cart = ok(store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap()).await;
        assert_eq!(cart["notices"].as_array().unwrap().len(), 1, "{}", cart["notices"]);
        let notice = &cart["notices"][0];
        assert_eq!(notice["kind"], "price_changed");
        assert_eq!((amount(&notice["previous"]), amount(&notice["current"])), (2000, 1800));
        assert_eq!(totals(&cart).4, 1800);
    }
    let seen = ok(store(&app, Method::POST, "/refresh", &shop, Some(&token), None).send().await.unwrap()).await;
    assert_eq!(seen["notices"], json!([]));
    let later = ok(store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap()).await;
    assert_eq!(later["notices"], json!([]));
}

#[tokio::test]
async fn concurrent_adds_to_one_cart_lose_nothing() {
    let app = TestApp::spawn().await;
    let (shop, _, b) = german_shop(&app, "acme").await;
    let cart = ok(store(&app, Method::POST, "", &shop, None, None).json(&json!({})).send().await.unwrap()).await;
    let token = cart["token"].as_str().unwrap().to_string();
    let statuses: Vec<u16> = futures_util::stream::iter(0..20)
        .map(|_| {
            let req = store(&app, Method::POST, "/lines", &shop, Some(&token), None).json(&json!({"variant_id": b}));
            async move { req.send().await.unwrap().status().as_u16() }
        })
        .buffer_unordered(20)
        .collect()
        .await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let cart = ok(store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap()).await;
    assert_eq!(lines(&cart), vec![(b.clone(), 20)]);
    assert_eq!(cart["version"], 21);
}

#[tokio::test]
async fn idle_carts_are_abandoned_by_the_sweep_and_the_rules_are_the_merchant_s() {
    let app = TestApp::spawn().await;
    let (shop, a, _) = german_shop(&app, "acme").await;
    const SETTINGS: &str = "/api/v1/admin/cart/settings";

    // Who may read and change the rules.
    let customer = app.customer(&shop).await;
    let clerk = app.staff(&shop, &[]).await;
    let reader = app.staff(&shop, &["support"]).await;
    let elsewhere = app.tenant("elsewhere").await;
    assert_eq!(app.client.get(app.url(SETTINGS)).header("x-tenant-id", &shop).send().await.unwrap().status(), 401);
    for who in [&customer, &clerk] {
        assert_eq!(app.as_user(Method::GET, SETTINGS, &shop, who).send().await.unwrap().status(), 403);
    }
    let their_owner = app.staff(&elsewhere, &["owner"]).await;
    let res = app.as_user(Method::GET, SETTINGS, &shop, &their_owner).send().await.unwrap();
    assert_eq!(res.status(), 401, "another shop's owner is nobody here");
    let res = app.as_user(Method::GET, SETTINGS, &shop, &reader).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let rules = json!({"abandon_after_minutes": 30, "max_line_quantity": 5, "max_lines": 10});
    let res = app.as_user(Method::PUT, SETTINGS, &shop, &reader).json(&rules).send().await.unwrap();
    assert_eq!(res.status(), 403, "support reads the rules, it does not change them");
    let res = app
        .admin(Method::PUT, SETTINGS, &shop)
        .json(&json!({"abandon_after_minutes": 1, "max_line_quantity": 0, "max_lines": 5000}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["abandon_after_minutes", "max_line_quantity", "max_lines"]);
    let res = app.admin(Method::PUT, SETTINGS, &shop).header("if-match", "\"1\"").json(&rules).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let res = app.admin(Method::PUT, SETTINGS, &shop).header("if-match", "\"1\"").json(&rules).send().await.unwrap();
    assert_eq!(res.status(), 412);

    // The new limit holds at once.
    let cart = ok(store(&app, Method::POST, "/lines", &shop, None, None)
        .json(&json!({"variant_id": a}))
        .send()
        .await
        .unwrap())
    .await;
    let token = cart["token"].as_str().unwrap().to_string();
    let res = store(&app, Method::POST, "/lines", &shop, Some(&token), None)
        .json(&json!({"variant_id": a, "quantity": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["type"], "https://agora.dev/problems/quantity-limit");

    // A cart idle for longer than the shop allows is abandoned by the sweep, announced, and its
    // token opens nothing; a fresh one stays.
    let fresh = ok(store(&app, Method::POST, "/lines", &shop, None, None)
        .json(&json!({"variant_id": a}))
        .send()
        .await
        .unwrap())
    .await;
    let db = app.db.connect().await;
    db.execute(
        "UPDATE t_acme.carts SET modified_at = now() - interval '31 minutes' WHERE id = $1::text::uuid",
        &[&cart["id"].as_str().unwrap()],
    )
    .await
    .unwrap();
    let tenant = app.context(&shop).await;
    let acting = agora_kernel::Acting::system("test");
    assert_eq!(app.state.cart.abandon_idle_in(&tenant, &acting).await.unwrap(), 1);
    assert_eq!(app.state.cart.abandon_idle_in(&tenant, &acting).await.unwrap(), 0, "once");
    assert_eq!(store(&app, Method::GET, "", &shop, Some(&token), None).send().await.unwrap().status(), 404);
    ok(store(&app, Method::GET, "", &shop, fresh["token"].as_str(), None).send().await.unwrap()).await;
    let abandoned: i64 = db
        .query_one(
            "SELECT count(*) FROM agora.outbox WHERE tenant_slug = 'acme' AND name = 'cart.abandoned.v1' \
             AND payload->>'cart_id' = $1",
            &[&cart["id"].as_str().unwrap()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(abandoned, 1);
    // Adding with the dead token starts a new cart rather than failing.
    let res = store(&app, Method::POST, "/lines", &shop, Some(&token), None)
        .json(&json!({"variant_id": a}))
        .send()
        .await
        .unwrap();
    let renewed = ok(res).await;
    assert_ne!(renewed["id"], cart["id"]);
    assert!(renewed["token"].is_string());
}

#[tokio::test]
async fn a_promotion_for_a_rule_based_collection_applies_to_the_products_its_rule_matches() {
    let app = TestApp::spawn().await;
    let (shop, _, plain) = german_shop(&app, "acme").await;
    let res = app
        .admin(Method::POST, "/api/v1/admin/catalog/products", &shop)
        .json(&json!({"name": {"en": "Espresso"}, "status": "active", "tags": ["coffee"],
            "variants": [{"sku": "ESPRESSO", "prices": [{"amount": 1000, "currency": "EUR"}]}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let espresso = res.json::<Value>().await.unwrap()["variants"][0]["id"].as_str().unwrap().to_string();
    let res = app
        .admin(Method::POST, "/api/v1/admin/catalog/collections", &shop)
        .json(&json!({"name": {"en": "Coffee"}, "rule": "tag = coffee"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let collection = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = app
        .admin(Method::POST, "/api/v1/admin/pricing/promotions", &shop)
        .json(&json!({"name": "Coffee week", "trigger": "automatic",
            "discount": {"kind": "percentage", "percent_bp": 2000},
            "conditions": {"collection_ids": [collection]}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());

    // Only the espresso matches the rule: 20 % of 10.00 off it, nothing off the other line.
    let cart = ok(store(&app, Method::POST, "/lines", &shop, None, None)
        .json(&json!({"variant_id": espresso}))
        .send()
        .await
        .unwrap())
    .await;
    let token = cart["token"].as_str().unwrap().to_string();
    let cart = ok(store(&app, Method::POST, "/lines", &shop, Some(&token), None)
        .json(&json!({"variant_id": plain}))
        .send()
        .await
        .unwrap())
    .await;
    assert_eq!(totals(&cart).1, 200);
    assert_eq!(cart["discounts"][0]["name"], "Coffee week");
    for line in cart["lines"].as_array().unwrap() {
        let expected = if line["variant_id"] == espresso.as_str() { 200 } else { 0 };
        assert_eq!(amount(&line["discount"]), expected, "{line}");
    }
}
