//! Customer groups: staff keep them, add and remove customers, and a group's email domains make
//! every customer with a verified email there a member.

use crate::notifications::{free_port, links_to, mail_app, token_of, SmtpSink};
use crate::support::{problem, Credentials, TestApp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

const GROUPS: &str = "/api/v1/admin/customers/groups";

pub(crate) async fn group(app: &TestApp, shop: &str, body: Value) -> Value {
    let res = app.admin(Method::POST, GROUPS, shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
    res.json().await.unwrap()
}

pub(crate) async fn add_member(app: &TestApp, shop: &str, group: &str, customer: &str) {
    let res = app.admin(Method::PUT, &format!("{GROUPS}/{group}/members/{customer}"), shop).send().await.unwrap();
    assert_eq!(res.status(), 204);
}

async fn groups_of(app: &TestApp, shop: &str, customer: &str) -> Vec<Value> {
    let res = app.admin(Method::GET, &format!("/api/v1/admin/customers/{customer}/groups"), shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json::<Vec<Value>>().await.unwrap()
}

/// Registers `email` through the storefront and signs in.
pub(crate) async fn register(app: &TestApp, shop: &str, email: &str) -> Credentials {
    let res = app
        .client
        .post(app.url("/api/v1/store/auth/register"))
        .header("x-tenant-id", shop)
        .json(&json!({"email": email, "password": PASSWORD, "name": "Ada Buyer"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "register");
    let res = app
        .client
        .post(app.url("/api/v1/store/auth/login"))
        .header("x-tenant-id", shop)
        .json(&json!({"email": email, "password": PASSWORD, "client": "api"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "login");
    let login: Value = res.json().await.unwrap();
    Credentials {
        user_id: login["account"]["id"].as_str().unwrap().to_string(),
        email: email.to_string(),
        access_token: login["access_token"].as_str().unwrap().to_string(),
    }
}

#[tokio::test]
async fn customer_groups_round_trip_with_members_versions_and_the_customer_page() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let created =
        group(&app, &shop, json!({"key": "wholesale", "name": "Wholesale", "email_domains": ["@Acme.COM"]})).await;
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["email_domains"], json!(["acme.com"]));
    assert_eq!(created["version"], 1);

    let res = app.admin(Method::GET, &format!("{GROUPS}/{id}"), &shop).send().await.unwrap();
    assert_eq!(res.headers()["etag"], "\"1\"");
    let list: Value = app.admin(Method::GET, GROUPS, &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"][0]["key"], "wholesale");

    // A stale If-Match is refused; the current one changes the group.
    let res = app
        .admin(Method::PATCH, &format!("{GROUPS}/{id}"), &shop)
        .header("if-match", "\"7\"")
        .json(&json!({"name": "Trade"}))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let res = app
        .admin(Method::PATCH, &format!("{GROUPS}/{id}"), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Trade"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");

    // Bad input names the field; a key is unique.
    for (body, field) in [
        (json!({"key": "wholesale", "name": "Again"}), "key"),
        (json!({"key": "Bad Key", "name": "X"}), "key"),
        (json!({"key": "vip", "name": ""}), "name"),
        (json!({"key": "vip", "name": "VIP", "email_domains": ["ok.com", "not a domain"]}), "email_domains[1]"),
    ] {
        let res = app.admin(Method::POST, GROUPS, &shop).json(&body).send().await.unwrap();
        let p = problem(res, 422).await;
        assert_eq!(p["errors"][0]["field"], field, "{p}");
    }

    // Staff add a customer by hand; the customer's page shows the group.
    let customer = app.customer(&shop).await;
    add_member(&app, &shop, &id, &customer.user_id).await;
    add_member(&app, &shop, &id, &customer.user_id).await; // again: nothing changes
    let members: Value =
        app.admin(Method::GET, &format!("{GROUPS}/{id}/members"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(members["items"].as_array().unwrap().len(), 1);
    assert_eq!(members["items"][0]["customer_id"], customer.user_id.as_str());
    let detail: Value = app
        .admin(Method::GET, &format!("/api/v1/admin/customers/{}", customer.user_id), &shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(detail["groups"][0]["key"], "wholesale");
    assert_eq!(detail["groups"][0]["by_hand"], true);
    assert_eq!(detail["groups"][0]["by_rule"], false);
    let read: Value =
        app.admin(Method::GET, &format!("{GROUPS}/{id}"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!(read["member_count"], 1);

    // Someone who is not a customer of this shop cannot be added.
    let staff = app.staff(&shop, &["owner"]).await;
    let res = app.admin(Method::PUT, &format!("{GROUPS}/{id}/members/{}", staff.user_id), &shop).send().await.unwrap();
    problem(res, 404).await;

    // Removing them takes them out; removing again is not found.
    let path = format!("{GROUPS}/{id}/members/{}", customer.user_id);
    assert_eq!(app.admin(Method::DELETE, &path, &shop).send().await.unwrap().status(), 204);
    problem(app.admin(Method::DELETE, &path, &shop).send().await.unwrap(), 404).await;
    assert!(groups_of(&app, &shop, &customer.user_id).await.is_empty());

    // Deleting the group (with its version) leaves it not found.
    let res =
        app.admin(Method::DELETE, &format!("{GROUPS}/{id}"), &shop).header("if-match", "\"1\"").send().await.unwrap();
    problem(res, 412).await;
    let res =
        app.admin(Method::DELETE, &format!("{GROUPS}/{id}"), &shop).header("if-match", "\"2\"").send().await.unwrap();
    assert_eq!(res.status(), 204);
    problem(app.admin(Method::GET, &format!("{GROUPS}/{id}"), &shop).send().await.unwrap(), 404).await;

    // Every change went out through the outbox with its write; refused ones sent nothing.
    let pg = app.db.connect().await;
    let events: Vec<String> = pg
        .query(
            "SELECT name FROM agora.outbox WHERE tenant_slug = $1 AND name LIKE 'customers.group.%' ORDER BY id",
            &[&shop],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        events,
        vec![
            "customers.group.changed.v1",
            "customers.group.changed.v1",
            "customers.group.membership_changed.v1",
            "customers.group.membership_changed.v1",
            "customers.group.deleted.v1"
        ]
    );
}

#[tokio::test]
async fn customer_groups_a_customer_registering_at_the_groups_domain_is_a_member_once_verified() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = mail_app(Some(port), true).await;
    let shop = app.tenant("acme").await;
    let wholesale =
        group(&app, &shop, json!({"key": "wholesale", "name": "Wholesale", "email_domains": ["acme.com"]})).await;
    group(&app, &shop, json!({"key": "vip", "name": "VIP"})).await;

    let email = format!("buyer-{}@Acme.com", uuid::Uuid::now_v7().simple());
    let buyer = register(&app, &shop, &email).await;
    let outsider = register(&app, &shop, &format!("x-{}@example.com", uuid::Uuid::now_v7().simple())).await;
    // Typing a domain is not owning it: an unverified address makes no member.
    assert!(groups_of(&app, &shop, &buyer.user_id).await.is_empty());

    let link = links_to(&sink, &email, "verify-email?token=", 1).await.remove(0);
    let res = app
        .client
        .post(app.url("/api/v1/store/auth/verify-email"))
        .header("x-tenant-id", &shop)
        .json(&json!({"token": token_of(&link)}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);

    let groups = groups_of(&app, &shop, &buyer.user_id).await;
    assert_eq!(groups.len(), 1, "{groups:?}");
    assert_eq!(groups[0]["id"], wholesale["id"]);
    assert_eq!(groups[0]["by_rule"], true);
    assert_eq!(groups[0]["by_hand"], false);
    assert!(groups_of(&app, &shop, &outsider.user_id).await.is_empty());

    // The rule is read when asked: dropping the domain drops the membership at once.
    let id = wholesale["id"].as_str().unwrap();
    let res = app
        .admin(Method::PATCH, &format!("{GROUPS}/{id}"), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"email_domains": []}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(groups_of(&app, &shop, &buyer.user_id).await.is_empty());
}

#[tokio::test]
async fn customer_groups_refuse_strangers_customers_staff_without_permission_and_other_shops() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("globex").await;
    let g = group(&app, &shop, json!({"key": "vip", "name": "VIP"})).await;
    let id = g["id"].as_str().unwrap();
    let customer = app.customer(&shop).await;
    let nobody = app.staff(&shop, &["read_only"]).await;
    let reader = app.staff(&shop, &["order_manager"]).await; // customers.read, not customers.manage
    let stranger = app.staff(&other, &["owner"]).await;

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
    let reads = [GROUPS.to_string(), format!("{GROUPS}/{id}"), format!("{GROUPS}/{id}/members")];
    for path in &reads {
        problem(call(Method::GET, path.clone(), None, None).await.unwrap(), 401).await;
        problem(call(Method::GET, path.clone(), Some(&customer), None).await.unwrap(), 403).await;
        problem(call(Method::GET, path.clone(), Some(&nobody), None).await.unwrap(), 403).await;
        problem(call(Method::GET, path.clone(), Some(&stranger), None).await.unwrap(), 401).await;
        assert_eq!(call(Method::GET, path.clone(), Some(&reader), None).await.unwrap().status(), 200, "{path}");
    }
    let writes = [
        (Method::POST, GROUPS.to_string(), Some(json!({"key": "x", "name": "X"}))),
        (Method::PATCH, format!("{GROUPS}/{id}"), Some(json!({"name": "Y"}))),
        (Method::DELETE, format!("{GROUPS}/{id}"), None),
        (Method::PUT, format!("{GROUPS}/{id}/members/{}", customer.user_id), None),
    ];
    for (m, path, body) in &writes {
        problem(call(m.clone(), path.clone(), None, body.clone()).await.unwrap(), 401).await;
        problem(call(m.clone(), path.clone(), Some(&customer), body.clone()).await.unwrap(), 403).await;
        problem(call(m.clone(), path.clone(), Some(&nobody), body.clone()).await.unwrap(), 403).await;
        problem(call(m.clone(), path.clone(), Some(&reader), body.clone()).await.unwrap(), 403).await;
    }
    // Another shop's owner, in their own shop, finds no such group.
    for m in [Method::GET, Method::PATCH, Method::DELETE] {
        let mut req = app.admin(m, &format!("{GROUPS}/{id}"), &other);
        req = req.json(&json!({"name": "Mine"}));
        problem(req.send().await.unwrap(), 404).await;
    }
    let g: Value = app.admin(Method::GET, &format!("{GROUPS}/{id}"), &shop).send().await.unwrap().json().await.unwrap();
    assert_eq!((g["name"].as_str(), g["version"].as_i64()), (Some("VIP"), Some(1)), "nothing refused changed it");
}
