//! Price lists, conversion rates and "why this price", through the real binary: which list wins
//! (group vs everyone, priority, price, dates, tiers), sale prices shown with the base price
//! struck through, the base price and its conversion as fallback, and what the storefront shows
//! anonymous shoppers and group members.

use crate::customer_groups::{add_member, group};
use crate::support::{problem, Credentials, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

const PRICING: &str = "/api/v1/admin/pricing";
const CATALOG: &str = "/api/v1/admin/catalog";

/// A shop selling in EUR (default), USD and JPY, with one active product: variant `A` at
/// EUR 20.00 and variant `B` at EUR 12.00 (compare-at 15.00). Answers (product id, A, B).
async fn shop_with_product(app: &TestApp, slug: &str) -> (String, String, String, String) {
    let shop = app.tenant(slug).await;
    let res = app
        .admin(Method::PUT, &format!("{CATALOG}/currencies"), &shop)
        .json(&json!({"currencies": ["USD", "JPY"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .admin(Method::POST, &format!("{CATALOG}/products"), &shop)
        .json(&json!({
            "name": {"en": "Espresso Beans"},
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
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let product: Value = res.json().await.unwrap();
    let id = product["id"].as_str().unwrap().to_string();
    let a = product["variants"][0]["id"].as_str().unwrap().to_string();
    let b = product["variants"][1]["id"].as_str().unwrap().to_string();
    (shop, id, a, b)
}

async fn price_list(app: &TestApp, shop: &str, body: Value) -> String {
    let res = app.admin(Method::POST, &format!("{PRICING}/price-lists"), shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    let list: Value = res.json().await.unwrap();
    list["id"].as_str().unwrap().to_string()
}

/// Upserts entries with the list's current version; answers the response.
async fn entries(app: &TestApp, shop: &str, list: &str, body: Value) -> reqwest::Response {
    let current = app.admin(Method::GET, &format!("{PRICING}/price-lists/{list}"), shop).send().await.unwrap();
    let etag = current.headers()["etag"].to_str().unwrap().to_string();
    app.admin(Method::POST, &format!("{PRICING}/price-lists/{list}/entries"), shop)
        .header("if-match", etag)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn entry(app: &TestApp, shop: &str, list: &str, body: Value) {
    let res = entries(app, shop, list, json!({"entries": [body]})).await;
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
}

async fn explain(app: &TestApp, shop: &str, query: &str) -> Value {
    let res = app.admin(Method::GET, &format!("{PRICING}/price-lists/explain?{query}"), shop).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

fn eur(amount: i64) -> Value {
    json!({"amount": amount, "currency": "EUR"})
}

/// The storefront's product page as `who` (anonymous when `None`) sees it, in `currency`.
async fn shown(app: &TestApp, shop: &str, product: &str, currency: &str, who: Option<&Credentials>) -> Value {
    let path = format!("/api/v1/store/catalog/products/{product}?currency={currency}");
    let mut req = app.client.get(app.url(&path)).header("x-tenant-id", shop);
    if let Some(who) = who {
        req = req.bearer_auth(&who.access_token);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn price_lists_precedence_tiers_sale_dates_and_fallback_explained() {
    let app = TestApp::spawn().await;
    let (shop, _, a, _) = shop_with_product(&app, "acme").await;
    let wholesale = group(&app, &shop, json!({"key": "wholesale", "name": "Wholesale"})).await;

    // No list: the catalog's base price.
    let why = explain(&app, &shop, &format!("variant_id={a}&currency=EUR")).await;
    assert_eq!((why["winner"].as_str(), why["price"].clone()), (Some("base"), eur(2000)));
    assert_eq!(why["price_lists"], json!([]));

    // A sale for everyone: its price, with the base price struck through.
    let sale = price_list(&app, &shop, json!({"name": "Summer sale", "currency": "EUR", "status": "active"})).await;
    entry(&app, &shop, &sale, json!({"sku": "BEANS-1KG", "price": eur(1800), "sale": true})).await;
    let why = explain(&app, &shop, &format!("variant_id={a}&currency=EUR")).await;
    assert_eq!(
        (why["winner"].as_str(), why["price"].clone(), why["compare_at"].clone()),
        (Some("price_list"), eur(1800), eur(2000))
    );
    assert_eq!(why["price_lists"][0]["price_list_id"], sale.as_str());
    assert_eq!(why["price_lists"][0]["won"], true);

    // The wholesale group's list (higher priority, tiers): its members pay it, others do not.
    let trade = price_list(
        &app,
        &shop,
        json!({"name": "Trade", "currency": "EUR", "status": "active", "priority": 10, "customer_groups": [wholesale["id"]]}),
    )
    .await;
    entry(
        &app,
        &shop,
        &trade,
        json!({"variant_id": a, "price": eur(1500), "tiers": [{"min_quantity": 10, "price": eur(1400)}, {"min_quantity": 50, "price": eur(1200)}]}),
    )
    .await;
    let anonymous = explain(&app, &shop, &format!("variant_id={a}&currency=EUR")).await;
    assert_eq!(anonymous["price"], eur(1800), "the trade list is not for anonymous shoppers");
    let trade_verdict = anonymous["price_lists"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["price_list_id"] == trade.as_str())
        .unwrap()
        .clone();
    assert_eq!(trade_verdict["applies"], false);
    assert!(trade_verdict["reason"].as_str().unwrap().contains("customer groups"), "{trade_verdict}");
    for (quantity, price) in [(1, 1500), (9, 1500), (10, 1400), (49, 1400), (50, 1200), (500, 1200)] {
        let why =
            explain(&app, &shop, &format!("variant_id={a}&currency=EUR&customer_group=wholesale&quantity={quantity}"))
                .await;
        assert_eq!(why["price"], eur(price), "quantity {quantity}");
        assert_eq!(why["compare_at"], Value::Null, "not a sale: nothing struck through");
    }
    // The group may be named by id too.
    let by_id = explain(
        &app,
        &shop,
        &format!("variant_id={a}&currency=EUR&customer_group={}", wholesale["id"].as_str().unwrap()),
    )
    .await;
    assert_eq!(by_id["price"], eur(1500));

    // Equal priority: the lowest price wins; higher priority beats a lower price.
    let cheaper = price_list(&app, &shop, json!({"name": "Cheaper", "currency": "EUR", "status": "active"})).await;
    entry(&app, &shop, &cheaper, json!({"variant_id": a, "price": eur(1750)})).await;
    assert_eq!(explain(&app, &shop, &format!("variant_id={a}")).await["price"], eur(1750));
    let featured =
        price_list(&app, &shop, json!({"name": "Featured", "currency": "EUR", "status": "active", "priority": 5}))
            .await;
    entry(&app, &shop, &featured, json!({"variant_id": a, "price": eur(1900)})).await;
    assert_eq!(explain(&app, &shop, &format!("variant_id={a}")).await["price"], eur(1900));

    // Lists that do not apply say why: a draft, dates, another currency.
    let now = chrono::Utc::now();
    let later = (now + chrono::Duration::days(2)).to_rfc3339();
    let earlier = (now - chrono::Duration::days(2)).to_rfc3339();
    let draft = price_list(&app, &shop, json!({"name": "Draft", "currency": "EUR", "priority": 100})).await;
    let future = price_list(
        &app,
        &shop,
        json!({"name": "Black Friday", "currency": "EUR", "status": "active", "priority": 100, "starts_at": later}),
    )
    .await;
    let past = price_list(
        &app,
        &shop,
        json!({"name": "Spring", "currency": "EUR", "status": "active", "priority": 100, "ends_at": earlier}),
    )
    .await;
    let dollars =
        price_list(&app, &shop, json!({"name": "US", "currency": "USD", "status": "active", "priority": 100})).await;
    for list in [&draft, &future, &past] {
        entry(&app, &shop, list, json!({"variant_id": a, "price": eur(100)})).await;
    }
    entry(&app, &shop, &dollars, json!({"variant_id": a, "price": {"amount": 100, "currency": "USD"}})).await;
    let why = explain(&app, &shop, &format!("variant_id={a}&currency=EUR")).await;
    assert_eq!(why["price"], eur(1900), "{why}");
    let reason = |id: &str| -> String {
        why["price_lists"].as_array().unwrap().iter().find(|c| c["price_list_id"] == id).unwrap()["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(reason(&draft).contains("draft"), "{}", reason(&draft));
    assert!(reason(&future).contains("starts at"), "{}", reason(&future));
    assert!(reason(&past).contains("ended at"), "{}", reason(&past));
    assert!(reason(&dollars).contains("in USD, not EUR"), "{}", reason(&dollars));
    // At a later instant, Black Friday is in its window and wins.
    let at = (now + chrono::Duration::days(3)).to_rfc3339().replace('+', "%2B");
    let then = explain(&app, &shop, &format!("variant_id={a}&currency=EUR&at={at}")).await;
    assert_eq!(then["price"], eur(100));
    assert_eq!(then["price_lists"][0]["price_list_id"], future.as_str());
}

#[tokio::test]
async fn price_lists_conversion_rates_round_to_99_in_usd_and_jpy_and_the_storefront_shows_them() {
    let app = TestApp::spawn().await;
    let (shop, product, _, b) = shop_with_product(&app, "acme").await;

    // No price in USD and no rate: no price at all.
    let why = explain(&app, &shop, &format!("variant_id={b}&currency=USD")).await;
    assert_eq!(why["winner"], Value::Null);
    assert_eq!(why["base"]["price"], Value::Null);

    let rate = |from: &str, to: &str, rate: &str| {
        app.admin(Method::POST, &format!("{PRICING}/currency-rates"), &shop)
            .json(&json!({"from_currency": from, "to_currency": to, "rate": rate, "rounding": "ending_99"}))
            .send()
    };
    let res = rate("EUR", "USD", "1.085").await.unwrap();
    assert_eq!(res.status(), 201);
    let usd: Value = res.json().await.unwrap();
    assert_eq!(usd["rate"], "1.085");
    assert_eq!(rate("EUR", "JPY", "161.5").await.unwrap().status(), 201);
    // One rate per pair.
    let p = problem(rate("EUR", "USD", "1.1").await.unwrap(), 422).await;
    assert_eq!(p["errors"][0]["field"], "to_currency");

    // 12.00 EUR × 1.085 = 13.02 USD → 13.99; the compare-at 15.00 → 16.275 → 16.28 → 16.99.
    let why = explain(&app, &shop, &format!("variant_id={b}&currency=USD")).await;
    assert_eq!(why["winner"], "base");
    assert_eq!(why["price"], json!({"amount": 1399, "currency": "USD"}));
    assert_eq!(why["compare_at"], json!({"amount": 1699, "currency": "USD"}));
    assert_eq!(why["base"]["converted_from"], eur(1200));
    assert_eq!(why["base"]["rate"], "1.085");
    assert_eq!(why["base"]["rounding"], "ending_99");
    // 12.00 EUR × 161.5 = ¥1,938 → ¥1,999 (JPY has no minor unit: the ending is in yen).
    let why = explain(&app, &shop, &format!("variant_id={b}&currency=JPY")).await;
    assert_eq!(why["price"], json!({"amount": 1999, "currency": "JPY"}));

    // The storefront shows the converted prices.
    let page = shown(&app, &shop, &product, "JPY", None).await;
    assert_eq!(page["variants"][1]["price"], json!({"amount": 1999, "currency": "JPY"}));
    assert_eq!(
        page["variants"][0]["price"],
        json!({"amount": 3299, "currency": "JPY"}),
        "20.00 × 161.5 = ¥3,230 → ¥3,299"
    );
    let page = shown(&app, &shop, &product, "USD", None).await;
    assert_eq!(page["variants"][1]["price"], json!({"amount": 1399, "currency": "USD"}));
    assert_eq!(page["variants"][1]["compare_at"], json!({"amount": 1699, "currency": "USD"}));
    // The list's card shows the lowest price with what it was before the reduction.
    let res = app
        .client
        .get(app.url("/api/v1/store/catalog/products?currency=EUR"))
        .header("x-tenant-id", &shop)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.unwrap();
    let card = list["items"].as_array().unwrap().iter().find(|i| i["id"] == json!(product)).unwrap().clone();
    assert_eq!(card["price_from"], eur(1200));
    assert_eq!(card["compare_at"], eur(1500));
    // A changed rate reaches the (cached) page at once.
    let id = usd["id"].as_str().unwrap();
    let res = app
        .admin(Method::PATCH, &format!("{PRICING}/currency-rates/{id}"), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"rate": "1.2", "rounding": "none"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let page = shown(&app, &shop, &product, "USD", None).await;
    assert_eq!(page["variants"][1]["price"], json!({"amount": 1440, "currency": "USD"}), "12.00 × 1.2");
}

#[tokio::test]
async fn price_lists_the_storefront_shows_group_prices_to_members_and_base_prices_to_everyone_else() {
    let app = TestApp::spawn().await;
    let (shop, product, a, _) = shop_with_product(&app, "acme").await;
    let wholesale = group(&app, &shop, json!({"key": "wholesale", "name": "Wholesale"})).await;
    let member = app.customer(&shop).await;
    let other = app.customer(&shop).await;
    add_member(&app, &shop, wholesale["id"].as_str().unwrap(), &member.user_id).await;

    // Before any list: everyone sees the base price (and the anonymous page is cached).
    assert_eq!(shown(&app, &shop, &product, "EUR", None).await["variants"][0]["price"], eur(2000));
    let trade = price_list(
        &app,
        &shop,
        json!({"name": "Trade", "currency": "EUR", "status": "active", "customer_groups": [wholesale["id"]]}),
    )
    .await;
    entry(&app, &shop, &trade, json!({"variant_id": a, "price": eur(1500)})).await;
    assert_eq!(shown(&app, &shop, &product, "EUR", Some(&member)).await["variants"][0]["price"], eur(1500));
    assert_eq!(shown(&app, &shop, &product, "EUR", Some(&other)).await["variants"][0]["price"], eur(2000));
    assert_eq!(shown(&app, &shop, &product, "EUR", None).await["variants"][0]["price"], eur(2000));

    // A sale for everyone reaches the anonymous (cached) page at once, struck through.
    let sale = price_list(&app, &shop, json!({"name": "Sale", "currency": "EUR", "status": "active"})).await;
    entry(&app, &shop, &sale, json!({"variant_id": a, "price": eur(1700), "sale": true})).await;
    let page = shown(&app, &shop, &product, "EUR", None).await;
    assert_eq!(
        (page["variants"][0]["price"].clone(), page["variants"][0]["compare_at"].clone()),
        (eur(1700), eur(2000))
    );
    // The member's list is cheaper at equal priority.
    assert_eq!(shown(&app, &shop, &product, "EUR", Some(&member)).await["variants"][0]["price"], eur(1500));

    // Lists show the lowest price of each product's variants as the shopper pays it.
    let list = |who: Option<&Credentials>| {
        let mut req =
            app.client.get(app.url("/api/v1/store/catalog/products?currency=EUR")).header("x-tenant-id", &shop);
        if let Some(who) = who {
            req = req.bearer_auth(&who.access_token);
        }
        req.send()
    };
    let anonymous: Value = list(None).await.unwrap().json().await.unwrap();
    assert_eq!(anonymous["items"][0]["price_from"], eur(1200), "the 250 g bag is cheaper still");
    let res = entries(&app, &shop, &trade, json!({"entries": [{"sku": "BEANS-250", "price": eur(900)}]})).await;
    assert_eq!(res.status(), 200);
    let member_list: Value = list(Some(&member)).await.unwrap().json().await.unwrap();
    assert_eq!(member_list["items"][0]["price_from"], eur(900));
    let anonymous: Value = list(None).await.unwrap().json().await.unwrap();
    assert_eq!(anonymous["items"][0]["price_from"], eur(1200));

    // Deactivating the sale brings the base price back for anonymous shoppers.
    let res = app
        .admin(Method::PATCH, &format!("{PRICING}/price-lists/{sale}"), &shop)
        .header("if-match", "\"2\"")
        .json(&json!({"status": "draft"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let page = shown(&app, &shop, &product, "EUR", None).await;
    assert_eq!(
        (page["variants"][0]["price"].clone(), page["variants"][0]["compare_at"].clone()),
        (eur(2000), Value::Null)
    );
}

#[tokio::test]
async fn price_lists_bad_input_is_refused_naming_the_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (shop, _, a, _) = shop_with_product(&app, "acme").await;
    let lists = format!("{PRICING}/price-lists");
    for (body, field) in [
        (json!({"name": "X", "currency": "GBP"}), "currency"),
        (json!({"name": "X", "currency": "QQQ"}), "currency"),
        (json!({"name": "", "currency": "EUR"}), "name"),
        (
            json!({"name": "X", "currency": "EUR", "starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}),
            "ends_at",
        ),
        (json!({"name": "X", "currency": "EUR", "customer_groups": [uuid::Uuid::now_v7()]}), "customer_groups[0]"),
        (json!({"name": "X", "currency": "EUR", "priority": 5_000_000}), "priority"),
    ] {
        let p = problem(app.admin(Method::POST, &lists, &shop).json(&body).send().await.unwrap(), 422).await;
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    let list = price_list(&app, &shop, json!({"name": "Trade", "currency": "EUR"})).await;
    let res = entries(
        &app,
        &shop,
        &list,
        json!({"entries": [
            {"variant_id": a, "price": eur(1000)},
            {"variant_id": a, "price": eur(-1)},
            {"sku": "NO-SUCH-SKU", "price": eur(1000)},
            {"variant_id": a, "price": eur(1000), "tiers": [{"min_quantity": 10, "price": eur(900)}, {"min_quantity": 5, "price": eur(800)}]},
            {"variant_id": a, "price": {"amount": 1000, "currency": "USD"}},
            {"price": eur(1000)}
        ]}),
    )
    .await;
    let p = problem(res, 422).await;
    let fields: Vec<&str> = p["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(
        fields,
        vec![
            "entries[1].price.amount",
            "entries[2].sku",
            "entries[3].tiers[1].min_quantity",
            "entries[4].price.currency",
            "entries[5].variant_id"
        ]
    );
    let read: Value =
        app.admin(Method::GET, &format!("{lists}/{list}"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!((read["entry_count"].as_i64(), read["version"].as_i64()), (Some(0), Some(1)), "all or nothing");

    // A stale If-Match on entries or on the list is a 412.
    let res = app
        .admin(Method::POST, &format!("{lists}/{list}/entries"), &shop)
        .header("if-match", "\"9\"")
        .json(&json!({"entries": [{"variant_id": a, "price": eur(1000)}]}))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let res = app
        .admin(Method::PATCH, &format!("{lists}/{list}"), &shop)
        .header("if-match", "\"9\"")
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    // Ending before it starts, by a patch.
    let res = app
        .admin(Method::PATCH, &format!("{lists}/{list}"), &shop)
        .json(&json!({"starts_at": "2030-01-02T00:00:00Z", "ends_at": "2030-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "ends_at");

    // Rates: sold currencies, a positive decimal.
    let rates = format!("{PRICING}/currency-rates");
    for (body, field) in [
        (json!({"from_currency": "EUR", "to_currency": "GBP", "rate": "0.85"}), "to_currency"),
        (json!({"from_currency": "EUR", "to_currency": "USD", "rate": "-1"}), "rate"),
        (json!({"from_currency": "EUR", "to_currency": "USD", "rate": "1e3"}), "rate"),
        (json!({"from_currency": "EUR", "to_currency": "EUR", "rate": "1"}), "to_currency"),
    ] {
        let p = problem(app.admin(Method::POST, &rates, &shop).json(&body).send().await.unwrap(), 422).await;
        assert_eq!(p["errors"][0]["field"], field, "{body}: {p}");
    }
    // Explain: a currency the shop does not sell, a quantity out of range, an unknown group.
    for (query, field) in [
        (format!("variant_id={a}&currency=GBP"), "currency"),
        (format!("variant_id={a}&quantity=0"), "quantity"),
        (format!("variant_id={a}&customer_group=nobody"), "customer_group"),
    ] {
        let res = app.admin(Method::GET, &format!("{lists}/explain?{query}"), &shop).send().await.unwrap();
        assert_eq!(problem(res, 422).await["errors"][0]["field"], field, "{query}");
    }
}

#[tokio::test]
async fn price_lists_refuse_strangers_customers_staff_without_permission_and_other_shops() {
    let app = TestApp::spawn().await;
    let (shop, _, a, _) = shop_with_product(&app, "acme").await;
    let other = app.tenant("globex").await;
    let list = price_list(&app, &shop, json!({"name": "Trade", "currency": "EUR"})).await;
    let customer = app.customer(&shop).await;
    let nobody = app.staff(&shop, &["read_only"]).await;
    let reader = app.staff(&shop, &["order_manager"]).await; // pricing.read only
    let stranger = app.staff(&other, &["owner"]).await;
    let lists = format!("{PRICING}/price-lists");

    let call = |m: Method, path: String, who: Option<&Credentials>, body: Option<Value>| {
        let mut req = match who {
            Some(who) => app.as_user(m, &path, &shop, who),
            None => app.client.request(m, app.url(&path)).header("x-tenant-id", &shop),
        };
        if let Some(body) = body {
            req = req.json(&body);
        }
        req.send()
    };
    let reads = [
        lists.clone(),
        format!("{lists}/{list}"),
        format!("{lists}/{list}/entries"),
        format!("{lists}/explain?variant_id={a}"),
        format!("{PRICING}/currency-rates"),
    ];
    for path in &reads {
        problem(call(Method::GET, path.clone(), None, None).await.unwrap(), 401).await;
        problem(call(Method::GET, path.clone(), Some(&customer), None).await.unwrap(), 403).await;
        problem(call(Method::GET, path.clone(), Some(&nobody), None).await.unwrap(), 403).await;
        problem(call(Method::GET, path.clone(), Some(&stranger), None).await.unwrap(), 401).await;
        assert_eq!(call(Method::GET, path.clone(), Some(&reader), None).await.unwrap().status(), 200, "{path}");
    }
    let writes = [
        (Method::POST, lists.clone(), Some(json!({"name": "X", "currency": "EUR"}))),
        (Method::PATCH, format!("{lists}/{list}"), Some(json!({"name": "Y"}))),
        (Method::DELETE, format!("{lists}/{list}"), None),
        (
            Method::POST,
            format!("{lists}/{list}/entries"),
            Some(json!({"entries": [{"variant_id": a, "price": eur(1)}]})),
        ),
        (Method::DELETE, format!("{lists}/{list}/entries/{a}"), None),
        (
            Method::POST,
            format!("{PRICING}/currency-rates"),
            Some(json!({"from_currency": "EUR", "to_currency": "USD", "rate": "1"})),
        ),
    ];
    for (m, path, body) in &writes {
        problem(call(m.clone(), path.clone(), None, body.clone()).await.unwrap(), 401).await;
        problem(call(m.clone(), path.clone(), Some(&customer), body.clone()).await.unwrap(), 403).await;
        problem(call(m.clone(), path.clone(), Some(&nobody), body.clone()).await.unwrap(), 403).await;
        problem(call(m.clone(), path.clone(), Some(&reader), body.clone()).await.unwrap(), 403).await;
    }
    // Another shop's owner, in their own shop, finds neither the list nor the variant.
    for (m, path) in [
        (Method::GET, format!("{lists}/{list}")),
        (Method::PATCH, format!("{lists}/{list}")),
        (Method::DELETE, format!("{lists}/{list}")),
        (Method::GET, format!("{lists}/{list}/entries")),
    ] {
        problem(app.admin(m, &path, &other).json(&json!({"name": "Mine"})).send().await.unwrap(), 404).await;
    }
    let res = app.admin(Method::GET, &format!("{lists}/explain?variant_id={a}"), &other).send().await.unwrap();
    problem(res, 404).await;
    let own = price_list(&app, &other, json!({"name": "Theirs", "currency": "EUR"})).await;
    let res = app
        .admin(Method::POST, &format!("{lists}/{own}/entries"), &other)
        .json(&json!({"entries": [{"variant_id": a, "price": eur(1)}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "entries[0].variant_id", "another shop's variant");
    let read: Value =
        app.admin(Method::GET, &format!("{lists}/{list}"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (read["name"].as_str(), read["version"].as_i64()),
        (Some("Trade"), Some(1)),
        "nothing refused changed it"
    );
}

#[tokio::test]
async fn price_lists_the_carts_facade_prices_many_variants_at_a_quantity_for_groups_in_one_transaction() {
    use agora_kernel::money::{Currency, Money};
    let app = TestApp::spawn().await;
    let (shop, _, a, b) = shop_with_product(&app, "acme").await;
    let wholesale = group(&app, &shop, json!({"key": "wholesale", "name": "Wholesale"})).await;
    let trade = price_list(
        &app,
        &shop,
        json!({"name": "Trade", "currency": "EUR", "status": "active", "customer_groups": [wholesale["id"]]}),
    )
    .await;
    entry(
        &app,
        &shop,
        &trade,
        json!({"variant_id": a, "price": eur(1500), "tiers": [{"min_quantity": 10, "price": eur(1400)}]}),
    )
    .await;
    let tenant = app.context(&shop).await;
    let (va, vb) = (
        agora_catalog::VariantId::from_uuid(a.parse().unwrap()),
        agora_catalog::VariantId::from_uuid(b.parse().unwrap()),
    );
    let group_id = agora_customers::CustomerGroupId::from_uuid(wholesale["id"].as_str().unwrap().parse().unwrap());
    let eur_ = Currency::parse("EUR").unwrap();
    let pricing = app.state.pricing.clone();
    let acting = agora_kernel::Acting::system("test");
    let now = chrono::Utc::now();
    let ask = async |groups: Vec<agora_customers::CustomerGroupId>, quantity: i32, currency: Currency| {
        app.state
            .db
            .in_tenant(&tenant, &acting, async |tx| {
                pricing.prices_for(tx, &[va, vb], currency, &groups, quantity, now).await
            })
            .await
    };
    let sheet = ask(vec![group_id], 10, eur_).await.unwrap();
    assert_eq!(sheet.prices[&va].price, Money::new(1400, eur_));
    assert_eq!(sheet.prices[&va].price_list_id.map(|id| id.to_string()), Some(trade.clone()));
    assert_eq!(sheet.prices[&vb].price, Money::new(1200, eur_), "no entry: the base price");
    assert_eq!(sheet.prices[&vb].compare_at, Some(Money::new(1500, eur_)));
    let sheet = ask(vec![], 10, eur_).await.unwrap();
    assert_eq!(sheet.prices[&va].price, Money::new(2000, eur_), "not in the group");
    // A currency the shop does not sell is refused naming `currency`; one without a price or a
    // rate simply has no price.
    let refused = ask(vec![], 1, Currency::parse("GBP").unwrap()).await.unwrap_err();
    assert!(refused.to_string().contains("currency"), "{refused}");
    let sheet = ask(vec![], 1, Currency::parse("USD").unwrap()).await.unwrap();
    assert!(sheet.prices.is_empty());
}
