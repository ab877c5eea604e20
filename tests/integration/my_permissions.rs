//! `GET /api/v1/admin/me/permissions`: what the admin's navigation is built from. Each member
//! sees exactly their own roles' permissions; nobody else gets an answer.

use crate::support::*;
use reqwest::Method;

const PATH: &str = "/api/v1/admin/me/permissions";

async fn permissions(res: reqwest::Response) -> Vec<String> {
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    body["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn a_member_sees_exactly_the_permissions_of_their_roles() {
    let app = TestApp::spawn().await;
    app.tenant("acme").await;
    let owner = permissions(app.admin(Method::GET, PATH, "acme").send().await.unwrap()).await;
    let all: Vec<String> = {
        let mut all: Vec<String> = agora_kernel::auth::perm::ALL.iter().map(|p| p.to_string()).collect();
        all.sort();
        all
    };
    assert_eq!(owner, all, "the owner may do everything");

    let support = app.staff("acme", &["support"]).await;
    let got = permissions(app.as_user(Method::GET, PATH, "acme", &support).send().await.unwrap()).await;
    assert_eq!(
        got,
        [
            "catalog.read",
            "customers.manage",
            "customers.read",
            "inventory.read",
            "notifications.manage",
            "pricing.read",
            "shop.read"
        ]
    );

    let res = app
        .admin(Method::POST, "/api/v1/admin/roles", "acme")
        .json(&serde_json::json!({"key": "key_keeper", "name": "Key keeper", "permissions": ["api_keys.manage"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let keeper = app.staff("acme", &["key_keeper", "read_only"]).await;
    let got = permissions(app.as_user(Method::GET, PATH, "acme", &keeper).send().await.unwrap()).await;
    assert_eq!(got, ["api_keys.manage", "shop.read"], "the union of the member's roles");

    let nobody = app.staff("acme", &[]).await;
    let got = permissions(app.as_user(Method::GET, PATH, "acme", &nobody).send().await.unwrap()).await;
    assert!(got.is_empty(), "a member without roles may do nothing: {got:?}");
}

#[tokio::test]
async fn only_a_signed_in_member_of_this_shop_is_answered() {
    let app = TestApp::spawn().await;
    app.tenant("acme").await;
    app.tenant("beta").await;
    problem(app.get(PATH).header("x-tenant-id", "acme").send().await.unwrap(), 401).await;
    let customer = app.customer("acme").await;
    problem(app.as_user(Method::GET, PATH, "acme", &customer).send().await.unwrap(), 403).await;
    let other_shop = app.staff("beta", &["owner"]).await;
    problem(app.as_user(Method::GET, PATH, "acme", &other_shop).send().await.unwrap(), 401).await;
}

#[tokio::test]
async fn a_member_who_must_still_enrol_an_authenticator_is_told_so() {
    let app = TestApp::spawn().await;
    app.tenant("acme").await;
    let member = app.staff("acme", &["read_only"]).await;
    let res = app
        .admin(Method::PUT, "/api/v1/admin/security-policy", "acme")
        .json(&serde_json::json!({"staff_mfa_required": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = problem(app.as_user(Method::GET, PATH, "acme", &member).send().await.unwrap(), 403).await;
    assert!(body["type"].as_str().unwrap().ends_with("/mfa-enrolment-required"), "{body}");
}
