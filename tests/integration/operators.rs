//! Platform operators: who may call the platform API, and operators managing their own accounts
//! and each other's.

use crate::identity::{fill_path, request};
use crate::support::{problem, TestApp, PASSWORD};
use reqwest::Method;
use serde_json::{json, Value};

/// Platform operations anyone may call: the two login steps, and the bootstrap (which checks the
/// token).
const OPEN: &[&str] =
    &["POST /api/v1/platform/auth/login", "POST /api/v1/platform/auth/login/mfa", "POST /api/v1/platform/operators"];

#[tokio::test]
async fn every_platform_operation_in_the_spec_wants_an_operator() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let owner = app.staff(&acme, &["owner"]).await;
    let mut checked = 0;
    for (method, template, _) in crate::support::spec_operations(&app, "/api/v1/platform/").await {
        let name = format!("{} {template}", method.to_uppercase());
        if OPEN.contains(&name.as_str()) {
            continue;
        }
        let path = fill_path(&template);
        let anonymous = request(&app, &method, &path, &acme).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{name} anonymously");
        let shop_owner = request(&app, &method, &path, &acme).bearer_auth(&owner.access_token).send().await.unwrap();
        assert_eq!(shop_owner.status(), 401, "{name} with a shop owner's token");
        checked += 1;
    }
    assert!(checked >= 10, "only {checked} platform operations found");
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/platform/auth/login"))
        .json(&json!({"email": email, "password": password, "client": "api"}))
        .send()
        .await
        .unwrap()
}

async fn token(app: &TestApp, email: &str, password: &str) -> String {
    let res = login(app, email, password).await;
    assert_eq!(res.status(), 200);
    res.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string()
}

fn platform(app: &TestApp, method: Method, path: &str, token: &str) -> reqwest::RequestBuilder {
    app.client.request(method, app.url(path)).bearer_auth(token)
}

#[tokio::test]
async fn operators_manage_their_passwords_and_each_other() {
    let app = TestApp::spawn().await;
    let created = app
        .platform(Method::POST, "/api/v1/platform/operators")
        .json(&json!({"email": "bea@platform.test", "password": PASSWORD, "name": "Bea"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let bea_id = created.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    let bea = token(&app, "bea@platform.test", PASSWORD).await;
    let me: Value =
        platform(&app, Method::GET, "/api/v1/platform/me", &bea).send().await.unwrap().json().await.unwrap();
    assert_eq!((me["email"].as_str(), me["name"].as_str()), (Some("bea@platform.test"), Some("Bea")));
    let list: Value =
        app.platform(Method::GET, "/api/v1/platform/operators?limit=1").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let next = list["next_cursor"].as_str().unwrap();
    let rest: Value = app
        .platform(Method::GET, &format!("/api/v1/platform/operators?cursor={next}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["email"], "bea@platform.test");

    // Her own password: the current one proves it is her; afterwards every old credential ends.
    let change = |current: &str, new: &str| {
        platform(&app, Method::POST, "/api/v1/platform/me/password", &bea)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    let wrong = problem(change("not my password", "an operator's new passphrase").await.unwrap(), 422).await;
    assert_eq!(wrong["errors"][0]["field"], "current_password");
    let weak = problem(change(PASSWORD, "password").await.unwrap(), 422).await;
    assert_eq!(weak["errors"][0]["field"], "new_password");
    assert_eq!(change(PASSWORD, "an operator's new passphrase").await.unwrap().status(), 200);
    problem(platform(&app, Method::GET, "/api/v1/platform/me", &bea).send().await.unwrap(), 401).await;
    problem(login(&app, "bea@platform.test", PASSWORD).await, 401).await;
    let bea = token(&app, "bea@platform.test", "an operator's new passphrase").await;

    // Another operator disables her: her token ends and she cannot log in; nobody disables themselves.
    let me: Value = app.platform(Method::GET, "/api/v1/platform/me").send().await.unwrap().json().await.unwrap();
    let own = format!("/api/v1/platform/operators/{}/disable", me["id"].as_str().unwrap());
    problem(app.platform(Method::POST, &own).send().await.unwrap(), 422).await;
    let disable = format!("/api/v1/platform/operators/{bea_id}/disable");
    let disabled: Value = app.platform(Method::POST, &disable).send().await.unwrap().json().await.unwrap();
    assert!(disabled["disabled_at"].is_string());
    problem(platform(&app, Method::GET, "/api/v1/platform/me", &bea).send().await.unwrap(), 401).await;
    problem(login(&app, "bea@platform.test", "an operator's new passphrase").await, 401).await;
    let enable = format!("/api/v1/platform/operators/{bea_id}/enable");
    let enabled: Value = app.platform(Method::POST, &enable).send().await.unwrap().json().await.unwrap();
    assert!(enabled["disabled_at"].is_null());
    token(&app, "bea@platform.test", "an operator's new passphrase").await;
    let unknown = format!("/api/v1/platform/operators/{}/disable", uuid::Uuid::now_v7());
    problem(app.platform(Method::POST, &unknown).send().await.unwrap(), 404).await;
}

/// Operators can guard their login with an authenticator app, as shop accounts can.
#[tokio::test]
async fn an_operator_with_an_authenticator_logs_in_in_two_steps() {
    use crate::mfa::{base32_decode, step_now, totp};
    let app = TestApp::spawn().await;
    let enrolment: Value =
        app.platform(Method::POST, "/api/v1/platform/me/mfa/totp").send().await.unwrap().json().await.unwrap();
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    assert!(uri.starts_with("otpauth://totp/Agora%20Platform:operator%40platform.test?secret="), "{uri}");
    let secret = base32_decode(enrolment["secret"].as_str().unwrap());
    let activate = |code: String| {
        app.platform(Method::POST, "/api/v1/platform/me/mfa/totp/activate").json(&json!({"code": code})).send()
    };
    let wrong = problem(activate(totp(&secret, step_now() + 10)).await.unwrap(), 422).await;
    assert_eq!(wrong["errors"][0]["field"], "code");
    let codes: Value = activate(totp(&secret, step_now())).await.unwrap().json().await.unwrap();
    let recovery: Vec<String> =
        codes["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    assert_eq!(recovery.len(), 10);

    // The password alone is a challenge now, no token.
    let first: Value = login(&app, "operator@platform.test", PASSWORD).await.json().await.unwrap();
    assert_eq!(first["mfa_required"], true, "{first}");
    assert!(first.get("access_token").is_none() && first.get("operator").is_none());
    let finish = |body: Value| app.client.post(app.url("/api/v1/platform/auth/login/mfa")).json(&body).send();
    let bad = finish(json!({"challenge": first["challenge"], "code": totp(&secret, step_now() + 20)})).await.unwrap();
    assert_eq!(problem(bad, 401).await["type"], "https://agora.dev/problems/invalid-mfa-code");
    let res = finish(json!({"challenge": first["challenge"], "code": totp(&secret, step_now() + 1)})).await.unwrap();
    assert_eq!(res.status(), 200);
    let granted: Value = res.json().await.unwrap();
    let token = granted["access_token"].as_str().unwrap();
    assert_eq!(platform(&app, Method::GET, "/api/v1/platform/me", token).send().await.unwrap().status(), 200);
    problem(
        finish(json!({"challenge": first["challenge"], "code": totp(&secret, step_now() + 1)})).await.unwrap(),
        401,
    )
    .await;

    // A recovery code stands in once; switching MFA off needs the password and a second factor.
    let second: Value = login(&app, "operator@platform.test", PASSWORD).await.json().await.unwrap();
    let res = finish(json!({"challenge": second["challenge"], "recovery_code": recovery[0]})).await.unwrap();
    assert_eq!(res.status(), 200);
    let disable =
        |body: Value| platform(&app, Method::POST, "/api/v1/platform/me/mfa/disable", token).json(&body).send();
    let no_password = disable(json!({"password": "wrong password", "recovery_code": recovery[1]})).await.unwrap();
    assert_eq!(problem(no_password, 422).await["errors"][0]["field"], "password");
    let used = disable(json!({"password": PASSWORD, "recovery_code": recovery[0]})).await.unwrap();
    assert_eq!(problem(used, 422).await["errors"][0]["field"], "recovery_code");
    assert_eq!(disable(json!({"password": PASSWORD, "recovery_code": recovery[1]})).await.unwrap().status(), 204);
    let plain: Value = login(&app, "operator@platform.test", PASSWORD).await.json().await.unwrap();
    assert!(plain["access_token"].is_string(), "{plain}");
}
