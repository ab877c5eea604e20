//! Low-stock alert emails through the real app and a real SMTP server (aiosmtpd): staff members
//! opt in for themselves at `/api/v1/admin/me/alerts`; when a hold takes a variant's stock at a
//! location down to its threshold, the inventory's low-stock event reaches the notifications
//! subscriber (a job of its own, after the hold's transaction) and each member who opted in gets
//! the email; the others get nothing.

use crate::notifications::{free_port, mail_app, SmtpSink};
use crate::support::{eventually, problem, Credentials, TestApp};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

const INV: &str = "/api/v1/admin/inventory";
const ALERTS: &str = "/api/v1/admin/me/alerts";
const DEADLINE: Duration = Duration::from_secs(30);

async fn set_alerts(app: &TestApp, shop: &str, who: &Credentials, body: Value) -> reqwest::Response {
    app.as_user(Method::PUT, ALERTS, shop, who).json(&body).send().await.unwrap()
}

async fn alerts(app: &TestApp, shop: &str, who: &Credentials) -> Value {
    let res = app.as_user(Method::GET, ALERTS, shop, who).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

/// How many deliveries of low-stock events to the alerts' subscriber have finished.
async fn alert_deliveries_done(app: &TestApp) -> i64 {
    let db = app.db.connect().await;
    db.query_one(
        "SELECT count(*) FROM agora.jobs WHERE subscriber = 'notifications.low_stock_alerts' AND state = 'succeeded'",
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn inventory_low_stock_is_emailed_to_the_staff_who_opted_in_and_to_no_one_else() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = mail_app(Some(port), true).await;
    let shop = app.tenant_named("acme", "Acme Outfitters").await;
    let alice = app.staff(&shop, &["catalog_manager"]).await;
    let bob = app.staff(&shop, &["order_manager"]).await;

    // Alice opts in; Bob never chooses, so he gets none.
    assert_eq!(alerts(&app, &shop, &alice).await, json!({"low_stock": false}));
    let res = set_alerts(&app, &shop, &alice, json!({"low_stock": true})).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap(), json!({"low_stock": true}));
    assert_eq!(alerts(&app, &shop, &alice).await, json!({"low_stock": true}));
    assert_eq!(alerts(&app, &shop, &bob).await, json!({"low_stock": false}));

    // A shirt with 10 in Berlin and a threshold of 5.
    let product: Value = app
        .admin(Method::POST, "/api/v1/admin/catalog/products", &shop)
        .json(&json!({"name": {"en": "Shirt"}, "status": "active",
                      "variants": [{"sku": "SH-RED-M", "prices": [{"amount": 1000, "currency": "EUR"}]}]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let shirt = product["variants"][0]["id"].as_str().unwrap().to_string();
    let res = app
        .admin(Method::POST, &format!("{INV}/locations"), &shop)
        .json(&json!({"name": "Berlin"}))
        .send()
        .await
        .unwrap();
    let berlin = res.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let res = app
        .admin(Method::PUT, &format!("{INV}/variants/{shirt}/settings"), &shop)
        .json(&json!({"tracked": true, "policy": "deny", "low_stock_threshold": 5}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let res = app
        .admin(Method::PUT, &format!("{INV}/variants/{shirt}/stock/{berlin}"), &shop)
        .json(&json!({"on_hand": 10}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(alert_deliveries_done(&app).await, 0, "10 available is not low");

    // A phone order holds 6: 4 left, at or below 5.
    let res = app
        .admin(Method::POST, &format!("{INV}/reservations"), &shop)
        .json(&json!({"reference": "phone order 17", "lines": [{"variant_id": shirt, "quantity": 6}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());

    sink.wait_for(1).await;
    let received = &sink.emails()[0];
    assert_eq!(received["rcpt_tos"], json!([alice.email]));
    assert_eq!(received["subject"], "Low stock: SH-RED-M at Berlin (4 left)");
    let text = received["text"].as_str().unwrap().replace("\r\n", "\n");
    assert!(text.starts_with("Hello Staff Member,\n"), "{text}");
    assert!(text.contains("4 available to sell, at or below the threshold of 5"), "{text}");
    assert!(text.contains("Acme Outfitters"), "{text}");

    // Once the subscriber's delivery is done, that was the only alert: none for Bob.
    eventually(DEADLINE, || async { alert_deliveries_done(&app).await == 1 }).await;
    let db = app.db.connect().await;
    let recorded: Vec<(String, String)> = db
        .query(
            "SELECT recipient, recipient_account FROM t_acme.notification_messages WHERE template_key = 'low_stock'",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(recorded, vec![(alice.email.clone(), format!("staff:{}", alice.user_id))]);
    assert!(sink.emails_to(&bob.email).is_empty());

    // Alice opts out: the next low-stock event emails no one.
    let res = set_alerts(&app, &shop, &alice, json!({"low_stock": false})).await;
    assert_eq!(res.status(), 200);
    let res = app
        .admin(Method::PUT, &format!("{INV}/variants/{shirt}/stock/{berlin}"), &shop)
        .json(&json!({"on_hand": 20}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .admin(Method::POST, &format!("{INV}/adjustments"), &shop)
        .json(&json!({"variant_id": shirt, "location_id": berlin, "reason": "damaged", "quantity": -12}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    eventually(DEADLINE, || async { alert_deliveries_done(&app).await == 2 }).await;
    let low_stock_events: i64 = db
        .query_one("SELECT count(*) FROM agora.outbox WHERE name = 'inventory.stock.low_stock.v1'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(low_stock_events, 2);
    assert_eq!(sink.emails().len(), 1, "no email after opting out");
}

#[tokio::test]
async fn inventory_alert_preferences_are_refused_to_customers_strangers_and_staff_who_cannot_read_stock() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let customer = app.customer(&shop).await;
    let read_only = app.staff(&shop, &["read_only"]).await; // shop.read only
    let foreign = app.staff(&other, &["owner"]).await;
    let url = app.url(ALERTS);

    for method in [Method::GET, Method::PUT] {
        let request = || {
            let req = app.client.request(method.clone(), &url).header("x-tenant-id", &shop);
            if method == Method::PUT {
                req.json(&json!({"low_stock": true}))
            } else {
                req
            }
        };
        problem(request().send().await.unwrap(), 401).await;
        problem(request().bearer_auth(&customer.access_token).send().await.unwrap(), 403).await;
        let lacking = problem(request().bearer_auth(&read_only.access_token).send().await.unwrap(), 403).await;
        assert!(lacking["detail"].as_str().unwrap().contains("inventory.read"), "{lacking}");
        problem(request().bearer_auth(&foreign.access_token).send().await.unwrap(), 401).await;
    }

    // Bad input names the field; nothing is recorded.
    let support_member = app.staff(&shop, &["support"]).await;
    let res = set_alerts(&app, &shop, &support_member, json!({"low_stock": "yes"})).await;
    let body = problem(res, 422).await;
    assert!(body.to_string().contains("low_stock"), "the field is named: {body}");
    let res = set_alerts(&app, &shop, &support_member, json!({"low_stock": true, "colour": "red"})).await;
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "colour");
    assert_eq!(alerts(&app, &shop, &support_member).await, json!({"low_stock": false}));
    let db = app.db.connect().await;
    let rows: i64 = db.query_one("SELECT count(*) FROM t_acme.staff_alert_subscriptions", &[]).await.unwrap().get(0);
    assert_eq!(rows, 0, "no refused caller recorded a choice");
}
