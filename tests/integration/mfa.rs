//! Two-factor authentication: enrolling an authenticator app, the two-step login, recovery codes,
//! switching it off, and a shop requiring it of staff. Codes are computed here, from the secret
//! the API hands out, with this file's own RFC 6238 implementation.

use crate::support::{problem, Credentials, TestApp, PASSWORD};
use hmac_sha1::{Hmac, KeyInit, Mac};
use reqwest::Method;
use serde_json::{json, Value};

/// RFC 4648 base32 (no padding) to bytes.
pub(crate) fn base32_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut buffer, mut bits, mut out) = (0u64, 0u32, Vec::new());
    for c in text.trim_end_matches('=').chars() {
        buffer = (buffer << 5) | ALPHABET.find(c).expect("base32 character") as u64;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// RFC 6238: HMAC-SHA1 over the 30 s step counter, dynamic truncation, 6 digits.
pub(crate) fn totp(secret: &[u8], step: u64) -> String {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).unwrap();
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = (hash[19] & 0x0f) as usize;
    let value = u32::from_be_bytes(hash[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    format!("{:06}", value % 1_000_000)
}

pub(crate) fn step_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() / 30
}

async fn post(app: &TestApp, path: &str, shop: &str, body: Value) -> reqwest::Response {
    app.client.post(app.url(path)).header("x-tenant-id", shop).json(&body).send().await.unwrap()
}

async fn password_step(app: &TestApp, area: &str, shop: &str, email: &str) -> Value {
    let res = post(
        app,
        &format!("/api/v1/{area}/auth/login"),
        shop,
        json!({"email": email, "password": PASSWORD, "client": "api"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Enrols and activates an authenticator for `who`; returns the secret and the recovery codes.
pub(crate) async fn enrol(app: &TestApp, area: &str, shop: &str, who: &Credentials) -> (Vec<u8>, Vec<String>) {
    let res = app.as_user(Method::POST, &format!("/api/v1/{area}/me/mfa/totp"), shop, who).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let enrolment: Value = res.json().await.unwrap();
    let secret_text = enrolment["secret"].as_str().unwrap();
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    let label = who.email.replace('@', "%40");
    assert!(uri.starts_with(&format!("otpauth://totp/Agora:{label}?secret={secret_text}")), "{uri}");
    assert!(uri.contains(&format!("&issuer={shop}")), "{uri}");
    let secret = base32_decode(secret_text);
    assert_eq!(secret.len(), 20, "160-bit secret");
    let activate = |code: String| {
        app.as_user(Method::POST, &format!("/api/v1/{area}/me/mfa/totp/activate"), shop, who)
            .json(&json!({ "code": code }))
            .send()
    };
    let wrong = totp(&secret, step_now() + 10);
    let body = problem(activate(wrong).await.unwrap(), 422).await;
    assert_eq!(body["errors"][0]["field"], "code", "{body}");
    let res = activate(totp(&secret, step_now())).await.unwrap();
    assert_eq!(res.status(), 200);
    let codes: Value = res.json().await.unwrap();
    let codes: Vec<String> =
        codes["recovery_codes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

async fn audit_actions(app: &TestApp, shop: &str) -> Vec<String> {
    let audit: Value =
        app.admin(Method::GET, "/api/v1/admin/audit-log?limit=100", shop).send().await.unwrap().json().await.unwrap();
    audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn an_authenticator_app_guards_the_login_and_recovery_codes_work_once() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let (secret, recovery) = enrol(&app, "store", &acme, &customer).await;
    let again = app.as_user(Method::POST, "/api/v1/store/me/mfa/totp", &acme, &customer).send().await.unwrap();
    assert_eq!(problem(again, 409).await["type"], "https://agora.dev/problems/mfa-already-enabled");

    // The password alone gives a challenge, no credentials.
    let first = password_step(&app, "store", &acme, &customer.email).await;
    assert_eq!(first["mfa_required"], true);
    assert!(first.get("access_token").is_none() && first.get("account").is_none(), "{first}");
    let challenge = first["challenge"].as_str().unwrap();
    let finish = |body: Value| post(&app, "/api/v1/store/auth/login/mfa", &acme, body);

    let wrong = finish(json!({"challenge": challenge, "code": totp(&secret, step_now() + 20)})).await;
    assert_eq!(problem(wrong, 401).await["type"], "https://agora.dev/problems/invalid-mfa-code");
    let forged = finish(json!({"challenge": "not-a-challenge", "code": totp(&secret, step_now())})).await;
    problem(forged, 401).await;
    let neither = finish(json!({"challenge": challenge})).await;
    assert_eq!(problem(neither, 422).await["errors"][0]["field"], "code");

    // The activation used this step's code; the next step's is within the ±1 window.
    let code = totp(&secret, step_now() + 1);
    let res = finish(json!({"challenge": challenge, "code": code})).await;
    assert_eq!(res.status(), 200);
    let login: Value = res.json().await.unwrap();
    assert_eq!(login["account"]["id"], customer.user_id.as_str());
    let token = login["access_token"].as_str().unwrap();
    let me = app.get("/api/v1/store/me").header("x-tenant-id", &acme).bearer_auth(token).send().await.unwrap();
    assert_eq!(me.status(), 200);
    // The challenge is spent, and a code is accepted only once even inside its window.
    problem(finish(json!({"challenge": challenge, "code": code})).await, 401).await;
    let second = password_step(&app, "store", &acme, &customer.email).await;
    let replay = finish(json!({"challenge": second["challenge"], "code": code})).await;
    problem(replay, 401).await;

    // A recovery code (however it is typed) stands in for the app, once.
    let spoken = recovery[0].to_uppercase().replace('-', " ");
    let res = finish(json!({"challenge": second["challenge"], "recovery_code": spoken})).await;
    assert_eq!(res.status(), 200);
    let third = password_step(&app, "store", &acme, &customer.email).await;
    let reused = finish(json!({"challenge": third["challenge"], "recovery_code": recovery[0]})).await;
    problem(reused, 401).await;
    let res = finish(json!({"challenge": third["challenge"], "recovery_code": recovery[1]})).await;
    assert_eq!(res.status(), 200);

    let pg = app.db.connect().await;
    let row = pg
        .query_one("SELECT count(*) FILTER (WHERE used_at IS NOT NULL), count(*) FROM t_acme.mfa_recovery_codes", &[])
        .await
        .unwrap();
    assert_eq!((row.get::<_, i64>(0), row.get::<_, i64>(1)), (2, 10));
    let stored: Vec<Vec<u8>> = pg
        .query("SELECT code_hash FROM t_acme.mfa_recovery_codes", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(stored.iter().all(|h| h.len() == 32), "stored as SHA-256, not as issued");

    let actions = audit_actions(&app, &acme).await;
    for action in ["mfa.enrolled", "mfa.recovery_code_used", "login.mfa_failed"] {
        assert!(actions.iter().any(|a| a == action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn wrong_codes_are_throttled() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let (secret, _) = enrol(&app, "store", &acme, &customer).await;
    let challenge = password_step(&app, "store", &acme, &customer.email).await["challenge"].clone();
    // Five wrong codes are free (the successful activation cleared the failed one before it).
    for _ in 0..5 {
        let res = post(
            &app,
            "/api/v1/store/auth/login/mfa",
            &acme,
            json!({"challenge": challenge, "code": totp(&secret, step_now() + 30)}),
        )
        .await;
        problem(res, 401).await;
    }
    // Now even the right code must wait.
    let res = post(
        &app,
        "/api/v1/store/auth/login/mfa",
        &acme,
        json!({"challenge": challenge, "code": totp(&secret, step_now() + 1)}),
    )
    .await;
    assert!(res.headers().contains_key("retry-after"));
    assert_eq!(problem(res, 429).await["type"], "https://agora.dev/problems/login-throttled");
}

#[tokio::test]
async fn switching_mfa_off_needs_the_password_and_a_second_factor() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let staff = app.staff(&acme, &["support"]).await;
    let (_, recovery) = enrol(&app, "admin", &acme, &staff).await;
    let disable =
        |body: Value| app.as_user(Method::POST, "/api/v1/admin/me/mfa/disable", &acme, &staff).json(&body).send();

    let no_factor = problem(disable(json!({"password": PASSWORD})).await.unwrap(), 422).await;
    assert_eq!(no_factor["errors"][0]["field"], "code");
    let wrong_password =
        problem(disable(json!({"password": "not my password", "recovery_code": recovery[0]})).await.unwrap(), 422)
            .await;
    assert_eq!(wrong_password["errors"][0]["field"], "password");
    let wrong_code = disable(json!({"password": PASSWORD, "recovery_code": "aaaaa-aaaaa"})).await.unwrap();
    assert_eq!(problem(wrong_code, 422).await["errors"][0]["field"], "recovery_code");
    // Still on: the password alone gives a challenge.
    assert_eq!(password_step(&app, "admin", &acme, &staff.email).await["mfa_required"], true);

    let res = disable(json!({"password": PASSWORD, "recovery_code": recovery[3]})).await.unwrap();
    assert_eq!(res.status(), 204);
    let login = password_step(&app, "admin", &acme, &staff.email).await;
    assert!(login["access_token"].is_string(), "one step again: {login}");
    let again = disable(json!({"password": PASSWORD, "recovery_code": recovery[4]})).await.unwrap();
    assert_eq!(problem(again, 409).await["type"], "https://agora.dev/problems/mfa-not-enabled");
    assert!(audit_actions(&app, &acme).await.iter().any(|a| a == "mfa.disabled"));
}

#[tokio::test]
async fn a_shop_can_require_mfa_of_its_staff() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let member = app.staff(&acme, &["admin"]).await;
    let customer = app.customer(&acme).await;
    let policy =
        app.admin(Method::PUT, "/api/v1/admin/security-policy", &acme).json(&json!({"staff_mfa_required": true}));
    let res = policy.send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["staff_mfa_required"], true);

    // Without an authenticator the member still logs in, but may only reach their own account
    // and the enrolment.
    let login = password_step(&app, "admin", &acme, &member.email).await;
    let fresh = Credentials { access_token: login["access_token"].as_str().unwrap().into(), ..member.clone() };
    for who in [&member, &fresh] {
        let blocked = app.as_user(Method::GET, "/api/v1/admin/staff", &acme, who).send().await.unwrap();
        assert_eq!(problem(blocked, 403).await["type"], "https://agora.dev/problems/mfa-enrolment-required");
        let me = app.as_user(Method::GET, "/api/v1/admin/me", &acme, who).send().await.unwrap();
        assert_eq!(me.status(), 200);
    }
    // Customers are not staff: the policy does not touch the storefront.
    let me = app.as_user(Method::GET, "/api/v1/store/me", &acme, &customer).send().await.unwrap();
    assert_eq!(me.status(), 200);

    enrol(&app, "admin", &acme, &member).await;
    let allowed = app.as_user(Method::GET, "/api/v1/admin/staff", &acme, &member).send().await.unwrap();
    assert_eq!(allowed.status(), 200);
    let policy: Value = app
        .as_user(Method::GET, "/api/v1/admin/security-policy", &acme, &member)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(policy["staff_mfa_required"], true);
}

/// Which routes a member who must still enrol reaches is said by each handler's extractor, not
/// by a list of paths: their own account and the enrolment (`SignedInStaff<MfaPending>`) serve
/// them; their sessions (`SignedInStaff`) and every permission-guarded route, in any module
/// (`Authorized<P>`), refuse them until they enrol.
#[tokio::test]
async fn a_member_who_must_enrol_reaches_only_the_routes_that_serve_them() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let member = app.staff(&acme, &["admin"]).await;
    let policy =
        app.admin(Method::PUT, "/api/v1/admin/security-policy", &acme).json(&json!({"staff_mfa_required": true}));
    assert_eq!(policy.send().await.unwrap().status(), 200);

    let get = |path: &'static str| app.as_user(Method::GET, path, &acme, &member).send();
    assert_eq!(get("/api/v1/admin/me").await.unwrap().status(), 200);
    for path in ["/api/v1/admin/me/sessions", "/api/v1/admin/roles", "/api/v1/admin/webhooks/endpoints"] {
        let refused = problem(get(path).await.unwrap(), 403).await;
        assert_eq!(refused["type"], "https://agora.dev/problems/mfa-enrolment-required", "{path}");
    }

    enrol(&app, "admin", &acme, &member).await;
    for path in ["/api/v1/admin/me/sessions", "/api/v1/admin/roles", "/api/v1/admin/webhooks/endpoints"] {
        assert_eq!(get(path).await.unwrap().status(), 200, "{path}");
    }
}
