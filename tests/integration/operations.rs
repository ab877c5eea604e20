//! What the admin's operations screens rely on: merchant-visible writes appear in the audit log
//! (with who did them and nothing secret), email templates preview unsaved, the shop's customers
//! can be found and opened, and webhooks offer only the events a shop can receive.

use crate::support::{problem, Credentials, TestApp};
use reqwest::Method;
use serde_json::{json, Value};

/// The shop's audit log, newest first, as staff with `audit.read` see it.
async fn audit_log(app: &TestApp, shop: &str) -> Vec<Value> {
    let res = app.admin(Method::GET, "/api/v1/admin/audit-log?limit=100", shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

/// The one entry with `action` (panics when there is none or several).
fn entry<'a>(log: &'a [Value], action: &str) -> &'a Value {
    let found: Vec<&Value> = log.iter().filter(|e| e["action"] == action).collect();
    assert_eq!(found.len(), 1, "{action} once in {log:#?}");
    found[0]
}

fn actor(who: &Credentials) -> String {
    format!("user:{}", who.user_id)
}

#[tokio::test]
async fn webhook_changes_are_audited_with_the_actor_and_never_the_secret() {
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_WEBHOOKS_ALLOW_PRIVATE_TARGETS".into(), "true".into());
    })
    .await;
    let acme = app.tenant("acme").await;
    let admin = app.staff(&acme, &["admin"]).await;
    let call =
        |method: Method, path: &str| app.as_user(method, &format!("/api/v1/admin/webhooks{path}"), &acme, &admin);
    let res = call(Method::POST, "/endpoints")
        .json(&json!({"url": "http://127.0.0.1:9/hook", "event_types": ["tenancy.shop_settings_updated.v1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    let (id, first_secret) =
        (created["id"].as_str().unwrap().to_string(), created["secret"].as_str().unwrap().to_string());
    let res = call(Method::PATCH, &format!("/endpoints/{id}"))
        .header("if-match", "\"1\"")
        .json(&json!({"description": "ERP"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(call(Method::POST, &format!("/endpoints/{id}/disable")).send().await.unwrap().status(), 200);
    assert_eq!(call(Method::POST, &format!("/endpoints/{id}/enable")).send().await.unwrap().status(), 200);
    let res = call(Method::POST, &format!("/endpoints/{id}/rotate-secret")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let second_secret = res.json::<Value>().await.unwrap()["secret"].as_str().unwrap().to_string();
    assert_eq!(call(Method::POST, &format!("/endpoints/{id}/ping")).send().await.unwrap().status(), 202);
    // The shop's own event, sent again.
    let res =
        app.admin(Method::PATCH, "/api/v1/admin/shop", &acme).json(&json!({"name": "Acme"})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let pg = app.db.connect().await;
    let event: String = pg
        .query_one("SELECT event_id::text FROM agora.outbox WHERE tenant_slug = $1 ORDER BY id DESC LIMIT 1", &[&acme])
        .await
        .unwrap()
        .get(0);
    let res = call(Method::POST, &format!("/endpoints/{id}/deliveries/{event}/redeliver")).send().await.unwrap();
    assert_eq!(res.status(), 202);
    // A refused change leaves no entry.
    let res = call(Method::DELETE, &format!("/endpoints/{id}")).header("if-match", "\"1\"").send().await.unwrap();
    problem(res, 412).await;
    assert_eq!(call(Method::DELETE, &format!("/endpoints/{id}")).send().await.unwrap().status(), 204);

    let log = audit_log(&app, &acme).await;
    let subject = format!("webhook_endpoint:{id}");
    for action in [
        "webhooks.endpoint.created",
        "webhooks.endpoint.updated",
        "webhooks.endpoint.disabled",
        "webhooks.endpoint.enabled",
        "webhooks.endpoint.secret_rotated",
        "webhooks.endpoint.pinged",
        "webhooks.event.redelivered",
        "webhooks.endpoint.deleted",
    ] {
        let found = entry(&log, action);
        assert_eq!(found["actor"], actor(&admin), "{action}");
        assert_eq!(found["subject"], subject, "{action}");
    }
    assert_eq!(entry(&log, "webhooks.endpoint.updated")["details"], json!({"description": "ERP"}));
    assert_eq!(entry(&log, "webhooks.event.redelivered")["details"]["event_id"], event);
    let text = serde_json::to_string(&log).unwrap();
    for secret in [&first_secret, &second_secret] {
        assert!(!text.contains(secret.as_str()), "a signing secret reached the audit log");
    }
    assert!(!text.contains("whsec_"));
}

#[tokio::test]
async fn shop_settings_and_email_changes_are_audited() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let admin = app.staff(&acme, &["admin"]).await;
    let res = app
        .as_user(Method::PATCH, "/api/v1/admin/shop", &acme, &admin)
        .json(&json!({"name": "Acme Goods", "timezone": "Europe/Berlin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let notifications =
        |method: Method, path: &str| app.as_user(method, &format!("/api/v1/admin/notifications{path}"), &acme, &admin);
    let res = notifications(Method::PUT, "/templates/welcome/de")
        .json(&json!({"subject": "Willkommen {{ customer_name }}", "body_text": "Hallo {{ customer_name }}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = notifications(Method::DELETE, "/templates/welcome/de").send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = notifications(Method::PUT, "/preferences/Shopper@Example.com")
        .json(&json!({"marketing_opt_out": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = notifications(Method::POST, "/test-send")
        .json(&json!({"template": "welcome", "locale": "en", "to": "me@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let message: Value = res.json().await.unwrap();

    let log = audit_log(&app, &acme).await;
    let shop = entry(&log, "tenancy.shop_settings.changed");
    assert_eq!(shop["actor"], actor(&admin));
    assert_eq!(shop["details"]["changed"], json!(["name", "timezone"]));
    assert_eq!(shop["details"]["to"]["name"], "Acme Goods");
    for action in ["notifications.template.saved", "notifications.template.reset"] {
        let found = entry(&log, action);
        assert_eq!(
            (found["actor"].as_str(), found["subject"].as_str()),
            (Some(actor(&admin).as_str()), Some("email_template:welcome/de"))
        );
    }
    let prefs = entry(&log, "notifications.preferences.changed");
    assert_eq!(prefs["subject"], "email:shopper@example.com");
    assert_eq!(prefs["details"], json!({"marketing_opt_out": true}));
    let sent = entry(&log, "notifications.test_sent");
    assert_eq!(sent["actor"], actor(&admin));
    assert_eq!(sent["subject"], "email_template:welcome/en");
    assert_eq!(sent["details"]["message_id"], message["id"]);

    // A save the template checks refuse writes nothing, in the log either.
    let res = notifications(Method::PUT, "/templates/welcome/de")
        .json(&json!({"subject": "Hallo {{ customer_name", "body_text": "ok"}))
        .send()
        .await
        .unwrap();
    problem(res, 422).await;
    let saved = audit_log(&app, &acme).await.iter().filter(|e| e["action"] == "notifications.template.saved").count();
    assert_eq!(saved, 1);
}

#[tokio::test]
async fn an_unsaved_template_previews_with_sample_values_and_a_harmless_link() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    let path = "/api/v1/admin/notifications/templates/password_reset/en/preview";
    let draft = json!({
        "subject": "Reset for {{ customer_name }}",
        "body_text": "Hello {{ customer_name }}, open {{ reset_url }}",
        "body_html": "<p>Hi {{ customer_name }}</p><a href=\"{{ reset_url }}\">Reset</a><script>alert(1)</script>",
    });
    let res = app.admin(Method::POST, path, &acme).json(&draft).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let shown: Value = res.json().await.unwrap();
    assert_eq!(shown["subject"], "Reset for Alex Example");
    assert!(shown["body_text"].as_str().unwrap().contains("https://shop.example.com/reset-password?token=sample"));
    assert!(shown["body_html"]
        .as_str()
        .unwrap()
        .contains("href=\"https://shop.example.com/reset-password?token=sample\""));
    // Nothing was saved: the template is still the built-in one.
    let template: Value = app
        .admin(Method::GET, "/api/v1/admin/notifications/templates/password_reset/en", &acme)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_ne!(template["subject"], "Reset for {{ customer_name }}");
    assert!(audit_log(&app, &acme).await.iter().all(|e| !e["action"].as_str().unwrap().starts_with("notifications.")));

    // A one-time link that does not stand whole is refused as a save would be, naming the part.
    let broken = json!({"subject": "Reset", "body_text": "Open{{ reset_url }}now"});
    let body = problem(app.admin(Method::POST, path, &acme).json(&broken).send().await.unwrap(), 422).await;
    assert_eq!(body["errors"][0]["field"], "body_text");
    let broken = json!({"subject": "Reset {{ customer_name", "body_text": "x"});
    let body = problem(app.admin(Method::POST, path, &acme).json(&broken).send().await.unwrap(), 422).await;
    assert_eq!(body["errors"][0]["field"], "subject");
    let bad_key = "/api/v1/admin/notifications/templates/Bad-Key/en/preview";
    problem(app.admin(Method::POST, bad_key, &acme).json(&draft).send().await.unwrap(), 422).await;

    // Refused: anonymous, a customer, staff without the permission, another shop's staff.
    let anonymous = app.client.post(app.url(path)).header("x-tenant-id", &acme).json(&draft).send().await.unwrap();
    problem(anonymous, 401).await;
    let customer = app.customer(&acme).await;
    let res = app.as_user(Method::POST, path, &acme, &customer).json(&draft).send().await.unwrap();
    assert!([401, 403].contains(&res.status().as_u16()), "{}", res.status());
    let catalog = app.staff(&acme, &["catalog_manager"]).await;
    problem(app.as_user(Method::POST, path, &acme, &catalog).json(&draft).send().await.unwrap(), 403).await;
    let foreign = app.staff(&globex, &["owner"]).await;
    problem(app.as_user(Method::POST, path, &acme, &foreign).json(&draft).send().await.unwrap(), 401).await;
}

#[tokio::test]
async fn webhooks_offer_only_the_events_a_shop_can_receive() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let res = app.admin(Method::GET, "/api/v1/admin/webhooks/event-types", &acme).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let types: Vec<String> = res.json::<Value>().await.unwrap()["event_types"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_string())
        .collect();
    assert!(types.contains(&"tenancy.shop_settings_updated.v1".to_string()), "{types:?}");
    for platform in ["tenancy.tenant_created.v1", "tenancy.tenant_status_changed.v1", "diagnostics.ping.v1"] {
        assert!(!types.contains(&platform.to_string()), "{platform} offered to a shop: {types:?}");
    }
    let mut sorted = types.clone();
    sorted.sort();
    assert_eq!(types, sorted);
    // Nor can an endpoint subscribe to one.
    let res = app
        .admin(Method::POST, "/api/v1/admin/webhooks/endpoints", &acme)
        .json(&json!({"url": "https://hooks.example.com/x", "event_types": ["tenancy.tenant_created.v1"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "event_types[0]");
}

async fn customers(app: &TestApp, shop: &str, query: &str) -> Value {
    let res = app.admin(Method::GET, &format!("/api/v1/admin/customers{query}"), shop).send().await.unwrap();
    assert_eq!(res.status(), 200, "{query}");
    res.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn staff_find_customers_newest_first_and_open_one() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    let (first, second, third) = (app.customer(&acme).await, app.customer(&acme).await, app.customer(&acme).await);
    let stranger = app.customer(&globex).await;
    let res = app
        .as_user(Method::POST, "/api/v1/store/me/addresses", &acme, &second)
        .json(&json!({"name": "Carla Customer", "line1": "1 Market St", "city": "Berlin", "postal_code": "10115", "country": "DE"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);

    let all = customers(&app, &acme, "").await;
    assert_eq!(ids(&all), [third.user_id.as_str(), second.user_id.as_str(), first.user_id.as_str()]);
    let listed = &all["items"][0];
    assert_eq!(listed["email"], third.email);
    assert_eq!(listed["name"], "Carla Customer");
    assert_eq!((listed["erased"].as_bool(), listed["email_verified"].as_bool()), (Some(false), Some(false)));
    // The harness signs each customer in once.
    assert!(listed["last_sign_in_at"].is_string(), "{listed}");

    // Paging: two, then the rest.
    let page = customers(&app, &acme, "?limit=2").await;
    assert_eq!(ids(&page), [third.user_id.as_str(), second.user_id.as_str()]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest = customers(&app, &acme, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&rest), [first.user_id.as_str()]);
    assert!(rest["next_cursor"].is_null());

    // Search by a fragment of the email, any case; a wildcard is taken literally.
    // The end of the address is random (its start is a timestamp the three share).
    let local = second.email.split('@').next().unwrap();
    let fragment = local[local.len() - 12..].to_uppercase();
    assert_eq!(ids(&customers(&app, &acme, &format!("?q={fragment}")).await), [second.user_id.as_str()]);
    assert_eq!(ids(&customers(&app, &acme, "?q=carla").await).len(), 3);
    assert!(ids(&customers(&app, &acme, "?q=%25").await).is_empty());
    assert!(ids(&customers(&app, &acme, "?email_verified=true").await).is_empty());
    let long = "x".repeat(201);
    let res = app.admin(Method::GET, &format!("/api/v1/admin/customers?q={long}"), &acme).send().await.unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "q");

    // One customer: profile and address book. Another shop's customer, or staff, is not found.
    let res =
        app.admin(Method::GET, &format!("/api/v1/admin/customers/{}", second.user_id), &acme).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let detail: Value = res.json().await.unwrap();
    assert_eq!(detail["email"], second.email);
    assert_eq!(detail["addresses"][0]["city"], "Berlin");
    assert!(detail["created_at"].is_string() && detail["last_sign_in_at"].is_string());
    let support = app.staff(&acme, &["support"]).await;
    for missing in [stranger.user_id.clone(), support.user_id.clone(), uuid::Uuid::now_v7().to_string()] {
        let res = app.admin(Method::GET, &format!("/api/v1/admin/customers/{missing}"), &acme).send().await.unwrap();
        problem(res, 404).await;
    }
    assert!(!ids(&customers(&app, &acme, "").await).contains(&support.user_id), "staff are not customers");

    // Erased: listed as erased, nothing personal left.
    let res = app
        .admin(Method::POST, &format!("/api/v1/admin/customers/{}/erase", second.user_id), &acme)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let detail: Value = app
        .admin(Method::GET, &format!("/api/v1/admin/customers/{}", second.user_id), &acme)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["erased"], true);
    assert!(detail["email"].is_null() && detail["name"].is_null() && detail["phone"].is_null(), "{detail}");
    assert_eq!(detail["addresses"], json!([]));
    let erased = customers(&app, &acme, "?erased=true").await;
    assert_eq!(ids(&erased), [second.user_id.as_str()]);
    assert!(!serde_json::to_string(&erased).unwrap().contains(&second.email));
    assert_eq!(ids(&customers(&app, &acme, "?erased=false").await), [third.user_id.as_str(), first.user_id.as_str()]);
    assert!(ids(&customers(&app, &acme, "?q=erased").await).is_empty());
}

#[tokio::test]
async fn the_customer_list_is_refused_to_callers_without_customers_read() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    let shopper = app.customer(&acme).await;
    for path in ["/api/v1/admin/customers".to_string(), format!("/api/v1/admin/customers/{}", shopper.user_id)] {
        problem(app.client.get(app.url(&path)).header("x-tenant-id", &acme).send().await.unwrap(), 401).await;
        let res = app.as_user(Method::GET, &path, &acme, &shopper).send().await.unwrap();
        assert!([401, 403].contains(&res.status().as_u16()), "{path}: {}", res.status());
        let catalog = app.staff(&acme, &["catalog_manager"]).await;
        problem(app.as_user(Method::GET, &path, &acme, &catalog).send().await.unwrap(), 403).await;
        let foreign = app.staff(&globex, &["owner"]).await;
        problem(app.as_user(Method::GET, &path, &acme, &foreign).send().await.unwrap(), 401).await;
        let support = app.staff(&acme, &["support"]).await;
        assert_eq!(app.as_user(Method::GET, &path, &acme, &support).send().await.unwrap().status(), 200, "{path}");
    }
}
