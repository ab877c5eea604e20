//! A customer's personal data: a complete export of their own (and nobody else's), and erasure
//! that anonymises the account, keeps its id for financial records and ends every session.

use crate::support::{problem, Credentials, TestApp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

async fn add_address(app: &TestApp, shop: &str, who: &Credentials, line1: &str, city: &str, phone: &str) {
    let body = json!({"name": "Recipient", "line1": line1, "city": city, "postal_code": "10115", "country": "DE",
                      "phone": phone});
    let res = app.as_user(Method::POST, "/api/v1/store/me/addresses", shop, who).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
}

async fn login(app: &TestApp, shop: &str, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/store/auth/login"))
        .header("x-tenant-id", shop)
        .json(&json!({"email": email, "password": password, "client": "api"}))
        .send()
        .await
        .unwrap()
}

async fn audit_actions(app: &TestApp, shop: &str) -> Vec<String> {
    let audit: Value =
        app.admin(Method::GET, "/api/v1/admin/audit-log?limit=100", shop).send().await.unwrap().json().await.unwrap();
    audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn an_export_holds_the_customers_data_and_nothing_of_others() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let (alma, bert) = (app.customer(&acme).await, app.customer(&acme).await);
    add_address(&app, &acme, &alma, "1 Alpha Street", "Alphaville", "+49 111 0101").await;
    add_address(&app, &acme, &bert, "2 Beta Road", "Betatown", "+49 222 0202").await;
    // Failed logins are recorded by the email typed: they are the customer's data too.
    problem(login(&app, &acme, &alma.email, "not my password").await, 401).await;
    problem(login(&app, &acme, &bert.email, "not my password").await, 401).await;

    let res = app.as_user(Method::GET, "/api/v1/store/me/export", &acme, &alma).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    let export: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(export["account"]["id"], alma.user_id.as_str());
    assert_eq!(export["account"]["email"], alma.email.as_str());
    assert_eq!(export["addresses"][0]["line1"], "1 Alpha Street");
    assert_eq!(export["addresses"][0]["phone"], "+49 111 0101");
    let categories = export["categories"].as_array().unwrap();
    for category in ["account", "addresses", "security events", "emails sent to you"] {
        assert!(categories.iter().any(|c| c == category), "{category} in {categories:?}");
    }
    // The emails the shop sent her (the registration's verification link), kept by the
    // notifications module, come with the export.
    let sections = export["held_elsewhere"].as_array().unwrap();
    let emails = &sections.iter().find(|s| s["category"] == "emails sent to you").unwrap()["data"]["emails"];
    let emails = emails.as_array().unwrap();
    assert!(!emails.is_empty(), "{export}");
    assert!(emails.iter().all(|e| e["to"] == alma.email.as_str()), "{emails:?}");
    assert!(emails
        .iter()
        .any(|e| e["template"] == "email_verification" && !e["body_text"].as_str().unwrap().is_empty()));
    let events: Vec<&str> =
        export["security_events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["account.registered", "login.succeeded", "login.failed"] {
        assert!(events.contains(&action), "{action} in {events:?}");
    }
    for foreign in [bert.email.as_str(), bert.user_id.as_str(), "Beta Road", "Betatown", "+49 222 0202"] {
        assert!(!text.contains(foreign), "{foreign} leaked into another customer's export");
    }

    // Staff export on the customer's request, with the privacy permission only.
    let path = format!("/api/v1/admin/customers/{}/export", bert.user_id);
    let res = app.admin(Method::GET, &path, &acme).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(text.contains("Beta Road") && text.contains(&bert.email));
    assert!(!text.contains("Alpha Street") && !text.contains(&alma.email));
    let support = app.staff(&acme, &["support"]).await;
    let denied = app.as_user(Method::GET, &path, &acme, &support).send().await.unwrap();
    assert!(problem(denied, 403).await["detail"].as_str().unwrap().contains("customers.privacy"));
    // Only customers: a staff member's id is not found, and neither is an unknown one.
    for id in [support.user_id.clone(), uuid::Uuid::now_v7().to_string()] {
        let res = app.admin(Method::GET, &format!("/api/v1/admin/customers/{id}/export"), &acme).send().await.unwrap();
        problem(res, 404).await;
    }
    let actions = audit_actions(&app, &acme).await;
    assert_eq!(actions.iter().filter(|a| *a == "account.exported").count(), 2);
}

#[tokio::test]
async fn erasure_anonymises_the_account_keeps_its_id_and_ends_its_sessions() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let (alma, bert) = (app.customer(&acme).await, app.customer(&acme).await);
    add_address(&app, &acme, &alma, "1 Alpha Street", "Alphaville", "+49 111 0101").await;
    add_address(&app, &acme, &bert, "2 Beta Road", "Betatown", "+49 222 0202").await;
    problem(login(&app, &acme, &alma.email, "not my password").await, 401).await;
    // A browser session too: it must end with the erasure.
    let res = app
        .client
        .post(app.url("/api/v1/store/auth/login"))
        .header("x-tenant-id", &acme)
        .json(&json!({"email": alma.email, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let erase = |password: &str| {
        app.as_user(Method::POST, "/api/v1/store/me/erase", &acme, &alma).json(&json!({"password": password})).send()
    };
    let wrong = problem(erase("not my password").await.unwrap(), 422).await;
    assert_eq!(wrong["errors"][0]["field"], "password");
    let res = erase(PASSWORD).await.unwrap();
    assert_eq!(res.status(), 200);

    // Every credential ends.
    let me = app.as_user(Method::GET, "/api/v1/store/me", &acme, &alma).send().await.unwrap();
    problem(me, 401).await;

    let pg = app.db.connect().await;
    // tokio-postgres here has no uuid feature: ids travel as text.
    let id = alma.user_id.clone();
    let row = pg
        .query_one(
            "SELECT email, name, phone, password_hash, deleted_at IS NOT NULL FROM t_acme.users WHERE id::text = $1",
            &[&id],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), format!("erased-{id}@invalid"), "the row and its id stay");
    assert_eq!(row.get::<_, String>(1), "");
    assert_eq!(row.get::<_, Option<String>>(2), None);
    assert_eq!(row.get::<_, Option<String>>(3), None);
    assert!(row.get::<_, bool>(4));
    let count = |sql: &'static str| {
        let (pg, id) = (&pg, &id);
        async move { pg.query_one(sql, &[id]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("SELECT count(*) FROM t_acme.customer_addresses WHERE user_id::text = $1").await, 0);
    assert_eq!(count("SELECT count(*) FROM t_acme.sessions WHERE user_id::text = $1").await, 0);
    assert_eq!(
        count("SELECT count(*) FROM t_acme.refresh_tokens WHERE user_id::text = $1 AND revoked_at IS NULL").await,
        0
    );
    let mentions: i64 = pg
        .query_one(
            "SELECT count(*) FROM t_acme.audit_log WHERE subject ILIKE '%' || $1 || '%' OR details::text ILIKE '%' || $1 || '%'",
            &[&alma.email],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(mentions, 0, "the audit log no longer names her");
    // The emails sent to her stay as rows (the mailbox's counts hold) but no longer say anything
    // about her; the one still queued (no worker runs here) never goes out.
    let emails = pg
        .query(
            "SELECT recipient, subject, body_text, body_html, status FROM t_acme.notification_messages \
             WHERE recipient = $1",
            &[&format!("erased-{id}@invalid")],
        )
        .await
        .unwrap();
    assert!(!emails.is_empty());
    for email in &emails {
        assert_eq!((email.get::<_, String>(1), email.get::<_, String>(2)), ("[erased]".into(), "[erased]".into()));
        assert_eq!(email.get::<_, Option<String>>(3), None);
        assert_ne!(email.get::<_, String>(4), "queued");
    }
    let named: i64 = pg
        .query_one(
            "SELECT count(*) FROM t_acme.notification_messages WHERE lower(recipient) = lower($1) \
             OR body_text ILIKE '%' || $1 || '%'",
            &[&alma.email],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(named, 0, "no email names her any more");
    let bert_emails: i64 = pg
        .query_one("SELECT count(*) FROM t_acme.notification_messages WHERE recipient = $1", &[&bert.email])
        .await
        .unwrap()
        .get(0);
    assert!(bert_emails > 0, "the other customer's emails are untouched");
    // Her old email and password open nothing (that attempt is logged by the email typed, as
    // for any unknown account).
    let again = login(&app, &acme, &alma.email, PASSWORD).await;
    assert_eq!(problem(again, 401).await["type"], "https://agora.dev/problems/invalid-credentials");
    // The other customer is untouched.
    let bert_me = app.as_user(Method::GET, "/api/v1/store/me/addresses", &acme, &bert).send().await.unwrap();
    assert_eq!(bert_me.json::<Value>().await.unwrap()[0]["line1"], "2 Beta Road");

    // Staff erase on request, with the privacy permission.
    let path = format!("/api/v1/admin/customers/{}/erase", bert.user_id);
    let support = app.staff(&acme, &["support"]).await;
    problem(app.as_user(Method::POST, &path, &acme, &support).send().await.unwrap(), 403).await;
    let res = app.admin(Method::POST, &path, &acme).send().await.unwrap();
    assert_eq!(res.status(), 204);
    problem(app.as_user(Method::GET, "/api/v1/store/me", &acme, &bert).send().await.unwrap(), 401).await;
    let export = format!("/api/v1/admin/customers/{}/export", bert.user_id);
    problem(app.admin(Method::GET, &export, &acme).send().await.unwrap(), 404).await;
    // Erasing twice finds nothing to erase.
    problem(app.admin(Method::POST, &path, &acme).send().await.unwrap(), 404).await;
    let actions = audit_actions(&app, &acme).await;
    assert_eq!(actions.iter().filter(|a| *a == "account.erased").count(), 2);
}
