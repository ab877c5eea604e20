//! Promotions through the real app: the admin's promotions and codes (CRUD, bulk generation, use
//! so far), validation naming fields, refusals, the preview explaining each code, and the
//! acceptance proofs that concurrent redemptions through the pricing facade — each on its own
//! tenant transaction, so its own database connection — never pass a code's or a customer's limit.

use crate::support::{problem, Credentials, TestApp};
use agora_kernel::Acting;
use agora_pricing::{CodeRejection, PricingError, PromotionContext, Redemption};
use futures_util::StreamExt;
use reqwest::Method;
use serde_json::{json, Value};

const PROMOS: &str = "/api/v1/admin/pricing/promotions";

async fn create(app: &TestApp, shop: &str, body: Value) -> Value {
    let res = app.admin(Method::POST, PROMOS, shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

fn line(key: &str, unit: i64, quantity: i64) -> Value {
    json!({
        "key": key,
        "product_id": uuid::Uuid::now_v7(),
        "variant_id": uuid::Uuid::now_v7(),
        "quantity": quantity,
        "unit_price": {"amount": unit, "currency": "EUR"},
        "line_total": {"amount": unit * quantity, "currency": "EUR"},
    })
}

async fn preview(app: &TestApp, shop: &str, body: Value) -> Value {
    let res = app.admin(Method::POST, &format!("{PROMOS}/preview"), shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

fn reasons(result: &Value) -> Vec<(String, String)> {
    result["rejected_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["code"].as_str().unwrap().to_string(), r["reason"].as_str().unwrap().to_string()))
        .collect()
}

async fn codes(app: &TestApp, shop: &str, promotion: &str, query: &str) -> Value {
    let res = app.admin(Method::GET, &format!("{PROMOS}/{promotion}/codes{query}"), shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn promotions_crud_codes_bulk_generation_and_usage_listing() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let promo = create(
        &app,
        &shop,
        json!({
            "name": "Summer 10 %",
            "trigger": "code",
            "discount": {"kind": "percentage", "percent_bp": 1000},
            "conditions": {"minimum_subtotal": [{"amount": 5000, "currency": "EUR"}]},
            "codes": [{"code": "summer10", "usage_limit": 100}, {"code": "Sun-2026"}],
        }),
    )
    .await;
    let id = promo["id"].as_str().unwrap();
    assert_eq!(promo["status"], "active");
    assert_eq!(promo["stacking"], "stackable");
    assert_eq!(promo["code_count"], 2);
    assert_eq!(
        promo["discount"],
        json!({"kind": "percentage", "percent_bp": 1000, "amounts": null,
        "buy_quantity": null, "get_quantity": null, "tiers": null})
    );

    // Read back with its ETag; changed with If-Match; a stale one is refused and changes nothing.
    let res = app.admin(Method::GET, &format!("{PROMOS}/{id}"), &shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let res = app
        .admin(Method::PATCH, &format!("{PROMOS}/{id}"), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Summer 15 %", "discount": {"kind": "percentage", "percent_bp": 1500}, "stacking": "exclusive"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    assert_eq!(res.headers()["etag"], "\"2\"");
    let res = app
        .admin(Method::PATCH, &format!("{PROMOS}/{id}"), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Lost update"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 412).await["type"], "https://agora.dev/problems/version-conflict");
    let now: Value =
        app.admin(Method::GET, &format!("{PROMOS}/{id}"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["name"], "Summer 15 %");
    assert_eq!(now["stacking"], "exclusive");
    assert_eq!(now["discount"]["percent_bp"], 1500);

    // Codes are upper case and unique in the shop whatever their case: 409 naming the field.
    let res = app
        .admin(Method::POST, &format!("{PROMOS}/{id}/codes"), &shop)
        .json(&json!({"code": "SUMMER10"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 409).await;
    assert_eq!(body["type"], "https://agora.dev/problems/promotion-code-taken");
    assert_eq!(body["errors"][0]["field"], "code");
    let other = create(
        &app,
        &shop,
        json!({"name": "Other", "trigger": "code",
        "discount": {"kind": "free_shipping"}, "codes": [{"code": "FREESHIP"}]}),
    )
    .await;
    let res = app
        .admin(Method::POST, PROMOS, &shop)
        .json(&json!({"name": "Dup", "trigger": "code", "discount": {"kind": "free_shipping"},
            "codes": [{"code": "fresh"}, {"code": "sun-2026"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 409).await["errors"][0]["field"], "codes[1].code");
    let res = app
        .admin(Method::POST, &format!("{PROMOS}/{}/codes", other["id"].as_str().unwrap()), &shop)
        .json(&json!({"code": "sun-2026"}))
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
    let res = app.admin(Method::GET, &format!("{PROMOS}?trigger=code"), &shop).send().await.unwrap();
    let list: Value = res.json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "the refused promotion was not created: {list}");

    // 500 single-use codes with a prefix, in one go.
    let res = app
        .admin(Method::POST, &format!("{PROMOS}/{id}/codes/generate"), &shop)
        .json(&json!({"count": 500, "prefix": "vip-", "usage_limit": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    let generated: Value = res.json().await.unwrap();
    assert_eq!(generated["count"], 500);
    let items = generated["items"].as_array().unwrap();
    let mut seen: Vec<&str> = items.iter().map(|c| c["code"].as_str().unwrap()).collect();
    assert!(seen.iter().all(|c| c.starts_with("VIP-") && c.len() == 14), "{seen:?}");
    seen.sort_unstable();
    seen.dedup();
    assert_eq!(seen.len(), 500, "every generated code is different");
    assert!(items.iter().all(|c| c["usage_limit"] == 1 && c["used"] == 0));

    // The codes with their use so far, in pages.
    let first = codes(&app, &shop, id, "?limit=100").await;
    assert_eq!(first["items"].as_array().unwrap().len(), 100);
    assert_eq!(first["items"][0]["code"], "SUMMER10");
    assert_eq!(first["items"][0]["usage_limit"], 100);
    let mut total = 100;
    let mut cursor = first["next_cursor"].as_str().map(str::to_string);
    while let Some(c) = cursor {
        let page = codes(&app, &shop, id, &format!("?limit=100&cursor={c}")).await;
        total += page["items"].as_array().unwrap().len();
        cursor = page["next_cursor"].as_str().map(str::to_string);
    }
    assert_eq!(total, 502);

    // A use counted by checkout shows in the listing.
    let tenant = app.context(&shop).await;
    let summer10 = first["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let redemption = Redemption { promotion_id: id.parse().unwrap(), code_id: Some(summer10) };
    let pricing = app.state.pricing.clone();
    app.state
        .db
        .in_tenant(&tenant, &Acting::system("checkout"), async |tx| {
            pricing.redeem_promotions(tx, &[redemption], None, uuid::Uuid::now_v7()).await
        })
        .await
        .unwrap();
    assert_eq!(codes(&app, &shop, id, "?limit=1").await["items"][0]["used"], 1);

    // Disabling a code: 200 with the code; another promotion's code id is a 404.
    let sun = first["items"][1]["id"].as_str().unwrap();
    let res = app.admin(Method::POST, &format!("{PROMOS}/{id}/codes/{sun}/disable"), &shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "disabled");
    let res = app
        .admin(Method::POST, &format!("{PROMOS}/{}/codes/{sun}/disable", other["id"].as_str().unwrap()), &shop)
        .send()
        .await
        .unwrap();
    problem(res, 404).await;

    // Deleted: gone from reads and lists; its codes stay taken.
    let res =
        app.admin(Method::DELETE, &format!("{PROMOS}/{id}"), &shop).header("if-match", "\"1\"").send().await.unwrap();
    problem(res, 412).await;
    let res =
        app.admin(Method::DELETE, &format!("{PROMOS}/{id}"), &shop).header("if-match", "\"2\"").send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = app.admin(Method::GET, &format!("{PROMOS}/{id}"), &shop).send().await.unwrap();
    problem(res, 404).await;
    let list: Value = app.admin(Method::GET, PROMOS, &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let res = app
        .admin(Method::POST, &format!("{PROMOS}/{}/codes", other["id"].as_str().unwrap()), &shop)
        .json(&json!({"code": "Summer10"}))
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
}

#[tokio::test]
async fn promotions_bad_input_is_refused_naming_the_field() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let base = json!({"name": "Deal", "trigger": "automatic", "discount": {"kind": "percentage", "percent_bp": 1000}});
    let with = |patch: Value| {
        let mut body = base.clone();
        for (k, v) in patch.as_object().unwrap() {
            body[k] = v.clone();
        }
        body
    };
    let cases = [
        (with(json!({"discount": {"kind": "percentage", "percent_bp": 10001}})), "discount.percent_bp"),
        (with(json!({"discount": {"kind": "percentage"}})), "discount.percent_bp"),
        (with(json!({"starts_at": "2026-07-01T00:00:00Z", "ends_at": "2026-06-01T00:00:00Z"})), "ends_at"),
        (
            with(json!({"discount": {"kind": "fixed_amount", "amounts": [{"amount": 500, "currency": "USD"}]}})),
            "discount.amounts[0].currency",
        ),
        (
            with(json!({"discount": {"kind": "fixed_amount", "amounts": [{"amount": 0, "currency": "EUR"}]}})),
            "discount.amounts[0].amount",
        ),
        (with(json!({"discount": {"kind": "buy_x_get_y", "buy_quantity": 2}})), "discount.get_quantity"),
        (
            with(
                json!({"discount": {"kind": "tiered", "tiers": [{"threshold": {"amount": 10000, "currency": "EUR"}, "percent_bp": 20000}]}}),
            ),
            "discount.tiers[0].percent_bp",
        ),
        (
            with(json!({"conditions": {"minimum_subtotal": [{"amount": 100, "currency": "GBP"}]}})),
            "conditions.minimum_subtotal[0].currency",
        ),
        (with(json!({"codes": [{"code": "X"}]})), "codes"),
        (with(json!({"trigger": "code", "codes": [{"code": "NOT OK"}]})), "codes[0].code"),
        (with(json!({"trigger": "code", "codes": [{"code": "a"}, {"code": "A"}]})), "codes[1].code"),
        (with(json!({"name": " "})), "name"),
        (with(json!({"usage_limit_per_customer": 0})), "usage_limit_per_customer"),
        (with(json!({"priority": -1})), "priority"),
    ];
    for (body, field) in cases {
        let res = app.admin(Method::POST, PROMOS, &shop).json(&body).send().await.unwrap();
        let problem = problem(res, 422).await;
        let fields: Vec<&str> =
            problem["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert!(fields.contains(&field), "{field} named for {body}: {problem}");
    }
    let list: Value = app.admin(Method::GET, PROMOS, &shop).send().await.unwrap().json().await.unwrap();
    assert!(list["items"].as_array().unwrap().is_empty(), "nothing refused was created");

    // Once the shop sells in USD, a USD amount is fine.
    let res = app
        .admin(Method::PUT, "/api/v1/admin/catalog/currencies", &shop)
        .json(&json!({"currencies": ["USD"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    create(
        &app,
        &shop,
        with(json!({"discount": {"kind": "fixed_amount", "amounts": [{"amount": 500, "currency": "USD"}]}})),
    )
    .await;

    // A patch is checked the same way; bad generation requests too.
    let code =
        create(&app, &shop, json!({"name": "Codes", "trigger": "code", "discount": {"kind": "free_shipping"}})).await;
    let id = code["id"].as_str().unwrap();
    let res = app
        .admin(Method::PATCH, &format!("{PROMOS}/{id}"), &shop)
        .json(&json!({"ends_at": "2020-01-01T00:00:00Z", "starts_at": "2021-01-01T00:00:00Z"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "ends_at");
    for (body, field) in [
        (json!({"count": 0}), "count"),
        (json!({"count": 10001}), "count"),
        (json!({"count": 5, "prefix": "no spaces"}), "prefix"),
        (json!({"count": 5, "length": 3}), "length"),
        (json!({"count": 5, "usage_limit": 0}), "usage_limit"),
    ] {
        let res =
            app.admin(Method::POST, &format!("{PROMOS}/{id}/codes/generate"), &shop).json(&body).send().await.unwrap();
        assert_eq!(problem(res, 422).await["errors"][0]["field"], field, "{body}");
    }
    // A preview with lines in another currency names the line.
    let res = app
        .admin(Method::POST, &format!("{PROMOS}/preview"), &shop)
        .json(&json!({"currency": "USD", "lines": [line("a", 100, 1)]}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "lines[0].unit_price.currency");
}

#[tokio::test]
async fn promotions_preview_applies_stacks_and_explains_every_code() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let wholesale = uuid::Uuid::now_v7();
    // Automatic 10 % on everything, priority 1.
    create(
        &app,
        &shop,
        json!({"name": "Ten off", "trigger": "automatic", "priority": 1,
        "discount": {"kind": "percentage", "percent_bp": 1000}}),
    )
    .await;
    // A stackable code: 5.00 off, priority 2.
    create(
        &app,
        &shop,
        json!({"name": "Five euros", "trigger": "code", "priority": 2,
        "discount": {"kind": "fixed_amount", "amounts": [{"amount": 500, "currency": "EUR"}]},
        "codes": [{"code": "FIVE"}]}),
    )
    .await;
    // Free shipping over 50.00.
    create(
        &app,
        &shop,
        json!({"name": "Ship free", "trigger": "code",
        "discount": {"kind": "free_shipping"},
        "conditions": {"minimum_subtotal": [{"amount": 5000, "currency": "EUR"}]},
        "codes": [{"code": "SHIP"}]}),
    )
    .await;
    // Exclusive 30 % for wholesale only.
    create(
        &app,
        &shop,
        json!({"name": "Wholesale", "trigger": "code", "stacking": "exclusive",
        "discount": {"kind": "percentage", "percent_bp": 3000},
        "conditions": {"customer_group_ids": [wholesale]},
        "codes": [{"code": "TRADE"}]}),
    )
    .await;
    // Ended, not started, disabled.
    create(
        &app,
        &shop,
        json!({"name": "Old", "trigger": "code", "ends_at": "2020-01-01T00:00:00Z",
        "discount": {"kind": "percentage", "percent_bp": 5000}, "codes": [{"code": "OLD"}]}),
    )
    .await;
    create(
        &app,
        &shop,
        json!({"name": "Future", "trigger": "code", "starts_at": "2099-01-01T00:00:00Z",
        "discount": {"kind": "percentage", "percent_bp": 5000}, "codes": [{"code": "SOON"}]}),
    )
    .await;
    create(
        &app,
        &shop,
        json!({"name": "Off", "trigger": "code", "status": "disabled",
        "discount": {"kind": "percentage", "percent_bp": 5000}, "codes": [{"code": "HIDDEN"}]}),
    )
    .await;

    // 30.00 + 2 × 10.00 = 50.00: 10 % = 5.00 (3.00 + 2.00), then 5.00 off the 45.00 left
    // (3.00 + 2.00), free shipping of 4.95; the others say why not.
    let cart = json!({
        "currency": "EUR",
        "lines": [line("shirt", 3000, 1), line("socks", 1000, 2)],
        "shipping": {"amount": 495, "currency": "EUR"},
        "codes": ["five", "Ship", "trade", "old", "soon", "hidden", "nosuchcode"],
    });
    let result = preview(&app, &shop, cart.clone()).await;
    let applied = result["applied"].as_array().unwrap();
    assert_eq!(
        applied.iter().map(|a| a["name"].as_str().unwrap()).collect::<Vec<_>>(),
        ["Ten off", "Five euros", "Ship free"]
    );
    assert_eq!(applied[0]["amount"], json!({"amount": 500, "currency": "EUR"}));
    assert_eq!(applied[0]["code"], Value::Null);
    assert_eq!(
        applied[0]["allocations"],
        json!([
            {"key": "shirt", "amount": {"amount": 300, "currency": "EUR"}},
            {"key": "socks", "amount": {"amount": 200, "currency": "EUR"}},
        ])
    );
    assert_eq!(applied[1]["code"], "FIVE");
    assert_eq!(applied[1]["allocations"][0]["amount"]["amount"], 300);
    assert_eq!(applied[1]["allocations"][1]["amount"]["amount"], 200);
    assert_eq!(result["discount_total"], json!({"amount": 1000, "currency": "EUR"}));
    assert_eq!(result["shipping_discount"], json!({"amount": 495, "currency": "EUR"}));
    assert_eq!(
        reasons(&result),
        [
            ("trade".into(), "not_for_your_group".into()),
            ("old".into(), "expired".into()),
            ("soon".into(), "not_started".into()),
            ("hidden".into(), "unknown".into()),
            ("nosuchcode".into(), "unknown".into()),
        ]
    );

    // A wholesale customer: the exclusive 30 % (15.00) beats the stack (10.00 + 4.95 shipping)
    // and applies alone; the stackable codes are not combinable with it.
    let mut member = cart.clone();
    member["customer_group_ids"] = json!([wholesale]);
    member["codes"] = json!(["FIVE", "SHIP", "TRADE"]);
    let result = preview(&app, &shop, member).await;
    let applied = result["applied"].as_array().unwrap();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0]["name"], "Wholesale");
    assert_eq!(result["discount_total"]["amount"], 1500);
    assert_eq!(result["shipping_discount"], Value::Null);
    assert_eq!(reasons(&result), [("FIVE".into(), "not_combinable".into()), ("SHIP".into(), "not_combinable".into())]);

    // Below the minimum, with a time the code was not yet valid for.
    let small = json!({"currency": "EUR", "lines": [line("mug", 1200, 1)], "codes": ["SHIP", "SOON"],
        "now": "2099-01-01T00:00:00Z"});
    let result = preview(&app, &shop, small).await;
    assert_eq!(reasons(&result), [("SHIP".into(), "minimum_not_met".into())]);
    assert_eq!(result["applied"].as_array().unwrap().len(), 2, "ten off and the future code, then started");

    // A used-up code says so; the facade gives the same answer as the preview.
    let tenant = app.context(&shop).await;
    let pricing = app.state.pricing.clone();
    let ctx: PromotionContext = serde_json::from_value(json!({
        "currency": "EUR", "lines": [line("a", 10_000, 1)], "codes": ["FIVE"], "customer_id": uuid::Uuid::now_v7(),
    }))
    .unwrap();
    let applied = app
        .state
        .db
        .in_tenant(&tenant, &Acting::system("cart"), async |tx| pricing.evaluate_promotions(tx, ctx.clone()).await)
        .await
        .unwrap();
    assert_eq!(applied.discount_total.amount, 1000 + 500);
    assert!(applied.rejected_codes.is_empty());
}

/// Redeems `redemptions` for `n` orders at once, each in a tenant transaction of its own (so on
/// its own pooled connection), `customer` placing them all; how many succeeded, and every failure.
async fn redeem_concurrently(
    app: &TestApp,
    shop: &str,
    redemptions: Vec<Redemption>,
    customer: Option<uuid::Uuid>,
    n: usize,
) -> (usize, Vec<PricingError>) {
    let tenant = app.context(shop).await;
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (state, tenant, redemptions) = (app.state.clone(), tenant.clone(), redemptions.clone());
            tokio::spawn(async move {
                let pricing = state.pricing.clone();
                state
                    .db
                    .in_tenant(&tenant, &Acting::system("checkout"), async |tx| {
                        pricing.redeem_promotions(tx, &redemptions, customer, uuid::Uuid::now_v7()).await
                    })
                    .await
            })
        })
        .collect();
    let results: Vec<Result<(), PricingError>> =
        futures_util::stream::iter(handles).then(|h| async move { h.await.unwrap() }).collect().await;
    let ok = results.iter().filter(|r| r.is_ok()).count();
    (ok, results.into_iter().filter_map(Result::err).collect())
}

async fn counter(app: &TestApp, shop: &str, sql: &str) -> i64 {
    let db = app.db.connect().await;
    let row = db.query_one(&sql.replace("{schema}", &format!("\"t_{shop}\"")), &[]).await.unwrap();
    i64::from(row.get::<_, i32>(0))
}

#[tokio::test]
async fn promotions_a_code_limited_to_100_uses_redeemed_500_times_at_once_is_used_exactly_100_times() {
    // More connections than the default 8, so many transactions really are in flight at once
    // (the rest queue for a connection, as checkouts would).
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_DB_POOL_SIZE".into(), "20".into());
    })
    .await;
    let shop = app.tenant("acme").await;
    let promo = create(
        &app,
        &shop,
        json!({"name": "Hundred", "trigger": "code",
        "discount": {"kind": "percentage", "percent_bp": 1000}, "codes": [{"code": "HUNDRED", "usage_limit": 100}]}),
    )
    .await;
    let id = promo["id"].as_str().unwrap();
    let code = codes(&app, &shop, id, "").await["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let redemption = Redemption { promotion_id: id.parse().unwrap(), code_id: Some(code) };

    let (ok, failures) = redeem_concurrently(&app, &shop, vec![redemption], None, 500).await;
    assert_eq!(ok, 100, "exactly the limit succeeded");
    assert_eq!(failures.len(), 400);
    for f in &failures {
        assert!(matches!(f, PricingError::PromotionRefused { reason: CodeRejection::Exhausted }), "{f:?}");
    }
    assert_eq!(counter(&app, &shop, "SELECT used FROM {schema}.promotion_codes WHERE code = 'HUNDRED'").await, 100);
    assert_eq!(
        counter(&app, &shop, "SELECT count(*)::int FROM {schema}.promotion_redemptions WHERE released_at IS NULL")
            .await,
        100,
        "a refused redemption left no row behind"
    );
    // The listing staff see, and the shopper's answer now.
    assert_eq!(codes(&app, &shop, id, "").await["items"][0]["used"], 100);
    let result =
        preview(&app, &shop, json!({"currency": "EUR", "lines": [line("a", 1000, 1)], "codes": ["hundred"]})).await;
    assert_eq!(reasons(&result), [("hundred".into(), "exhausted".into())]);
}

#[tokio::test]
async fn promotions_a_customer_limited_to_one_use_redeeming_50_times_at_once_uses_it_once() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let promo = create(
        &app,
        &shop,
        json!({"name": "Once each", "trigger": "code", "usage_limit_per_customer": 1,
        "discount": {"kind": "percentage", "percent_bp": 1000}, "codes": [{"code": "WELCOME"}]}),
    )
    .await;
    let id = promo["id"].as_str().unwrap();
    let code = codes(&app, &shop, id, "").await["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let redemption = Redemption { promotion_id: id.parse().unwrap(), code_id: Some(code) };
    let customer = uuid::Uuid::now_v7();

    let (ok, failures) = redeem_concurrently(&app, &shop, vec![redemption], Some(customer), 50).await;
    assert_eq!(ok, 1, "one use for the customer");
    assert_eq!(failures.len(), 49);
    for f in &failures {
        assert!(matches!(f, PricingError::PromotionRefused { reason: CodeRejection::CustomerLimitReached }), "{f:?}");
    }
    assert_eq!(
        counter(
            &app,
            &shop,
            &format!("SELECT used FROM {{schema}}.promotion_customer_uses WHERE customer_id = '{customer}'")
        )
        .await,
        1
    );
    assert_eq!(codes(&app, &shop, id, "").await["items"][0]["used"], 1, "the refused ones gave the code's use back");
    // Another customer still may; this one is told why not.
    let (ok, _) = redeem_concurrently(&app, &shop, vec![redemption], Some(uuid::Uuid::now_v7()), 1).await;
    assert_eq!(ok, 1);
    let result = preview(
        &app,
        &shop,
        json!({"currency": "EUR", "lines": [line("a", 1000, 1)], "codes": ["welcome"],
        "customer_id": customer}),
    )
    .await;
    assert_eq!(reasons(&result), [("welcome".into(), "customer_limit_reached".into())]);
}

#[tokio::test]
async fn promotions_a_cancelled_orders_uses_are_given_back_once() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let promo = create(
        &app,
        &shop,
        json!({"name": "Single", "trigger": "code", "usage_limit_per_customer": 1,
        "discount": {"kind": "percentage", "percent_bp": 1000}, "codes": [{"code": "SINGLE", "usage_limit": 1}]}),
    )
    .await;
    let id = promo["id"].as_str().unwrap();
    let code = codes(&app, &shop, id, "").await["items"][0]["id"].as_str().unwrap().parse().unwrap();
    let redemption = Redemption { promotion_id: id.parse().unwrap(), code_id: Some(code) };
    let (customer, order) = (uuid::Uuid::now_v7(), uuid::Uuid::now_v7());
    let tenant = app.context(&shop).await;
    let pricing = app.state.pricing.clone();
    let redeem = async |order| {
        app.state
            .db
            .in_tenant(&tenant, &Acting::system("checkout"), async |tx| {
                pricing.redeem_promotions(tx, &[redemption], Some(customer), order).await
            })
            .await
    };
    let release = async |order| {
        app.state
            .db
            .in_tenant(&tenant, &Acting::system("orders"), async |tx| pricing.release_redemption(tx, order).await)
            .await
            .unwrap()
    };
    redeem(order).await.unwrap();
    // Redeeming the same order again (a retried checkout) counts nothing twice.
    redeem(order).await.unwrap();
    assert_eq!(codes(&app, &shop, id, "").await["items"][0]["used"], 1);
    assert!(matches!(
        redeem(uuid::Uuid::now_v7()).await,
        Err(PricingError::PromotionRefused { reason: CodeRejection::Exhausted })
    ));
    assert_eq!(release(order).await, 1);
    assert_eq!(release(order).await, 0, "releasing again gives nothing back twice");
    assert_eq!(codes(&app, &shop, id, "").await["items"][0]["used"], 0);
    // The code and the customer's use are free again.
    redeem(uuid::Uuid::now_v7()).await.unwrap();
    assert_eq!(codes(&app, &shop, id, "").await["items"][0]["used"], 1);
}

#[tokio::test]
async fn promotions_routes_refuse_strangers_customers_staff_without_permission_and_other_shops() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("globex").await;
    let promo = create(
        &app,
        &shop,
        json!({"name": "Secret", "trigger": "code",
        "discount": {"kind": "free_shipping"}, "codes": [{"code": "SECRET"}]}),
    )
    .await;
    let id = promo["id"].as_str().unwrap();
    let code = codes(&app, &shop, id, "").await["items"][0]["id"].as_str().unwrap().to_string();

    let customer = app.customer(&shop).await;
    let nobody = app.staff(&shop, &[]).await;
    let read_only = app.staff(&shop, &["read_only"]).await;
    let reader = app.staff(&shop, &["support"]).await;
    let stranger = app.staff(&other, &["owner"]).await;
    let cart = json!({"currency": "EUR", "lines": [line("a", 100, 1)], "codes": ["SECRET"]});

    let reads: Vec<(Method, String, Option<Value>)> = vec![
        (Method::GET, PROMOS.to_string(), None),
        (Method::GET, format!("{PROMOS}/{id}"), None),
        (Method::GET, format!("{PROMOS}/{id}/codes"), None),
        (Method::POST, format!("{PROMOS}/preview"), Some(cart.clone())),
    ];
    let writes: Vec<(Method, String, Value)> = vec![
        (
            Method::POST,
            PROMOS.to_string(),
            json!({"name": "X", "trigger": "automatic", "discount": {"kind": "free_shipping"}}),
        ),
        (Method::PATCH, format!("{PROMOS}/{id}"), json!({"name": "Mine now"})),
        (Method::DELETE, format!("{PROMOS}/{id}"), json!({})),
        (Method::POST, format!("{PROMOS}/{id}/codes"), json!({"code": "STOLEN"})),
        (Method::POST, format!("{PROMOS}/{id}/codes/generate"), json!({"count": 5})),
        (Method::POST, format!("{PROMOS}/{id}/codes/{code}/disable"), json!({})),
        (Method::POST, format!("{PROMOS}/{id}/codes/{code}/enable"), json!({})),
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
    // Another shop's owner, in their own shop, finds nothing by this shop's ids, and this
    // shop's code means nothing there.
    for (m, path, body) in writes.iter().skip(1) {
        let res = app.admin(m.clone(), path, &other).json(body).send().await.unwrap();
        problem(res, 404).await;
    }
    for path in [format!("{PROMOS}/{id}"), format!("{PROMOS}/{id}/codes")] {
        problem(app.admin(Method::GET, &path, &other).send().await.unwrap(), 404).await;
    }
    let result = preview(&app, &other, cart).await;
    assert_eq!(reasons(&result), [("SECRET".into(), "unknown".into())]);
    // Nothing the refused calls asked for happened.
    let now: Value =
        app.admin(Method::GET, &format!("{PROMOS}/{id}"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(now["name"], "Secret");
    assert_eq!(now["version"], 1);
    assert_eq!(now["code_count"], 1);
    // The storefront lists no codes.
    let res =
        app.client.get(app.url("/api/v1/store/pricing/promotions")).header("x-tenant-id", &shop).send().await.unwrap();
    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn a_patch_clears_a_promotion_s_dates_and_limit_with_null_and_keeps_what_it_leaves_out() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let old = create(
        &app,
        &shop,
        json!({"name": "Old", "trigger": "code", "ends_at": "2020-01-01T00:00:00Z", "usage_limit_per_customer": 2,
        "discount": {"kind": "percentage", "percent_bp": 5000}, "codes": [{"code": "OLD"}]}),
    )
    .await;
    let id = old["id"].as_str().unwrap();
    let cart = json!({"currency": "EUR", "lines": [line("shirt", 3000, 1)], "codes": ["old"]});
    assert_eq!(reasons(&preview(&app, &shop, cart.clone()).await), [("old".to_string(), "expired".to_string())]);

    // Leaving a field out keeps it.
    let res = app
        .admin(Method::PATCH, &format!("{PROMOS}/{id}"), &shop)
        .json(&json!({"name": "Evergreen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let kept: Value = res.json().await.unwrap();
    assert_eq!(
        (kept["ends_at"].as_str(), kept["usage_limit_per_customer"].as_i64()),
        (Some("2020-01-01T00:00:00Z"), Some(2))
    );

    // null clears it: the code applies again, and the limit is gone.
    let res = app
        .admin(Method::PATCH, &format!("{PROMOS}/{id}"), &shop)
        .json(&json!({"ends_at": null, "usage_limit_per_customer": null}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let cleared: Value = res.json().await.unwrap();
    assert_eq!((cleared["ends_at"].clone(), cleared["usage_limit_per_customer"].clone()), (Value::Null, Value::Null));
    let result = preview(&app, &shop, cart).await;
    assert_eq!(result["applied"][0]["name"], "Evergreen");
    assert!(reasons(&result).is_empty());
}
