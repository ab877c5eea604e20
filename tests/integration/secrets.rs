//! Secrets at rest and rotating the master key (`AGORA_TOKEN_KEY`): authenticator seeds are
//! stored sealed, old clear ones keep working and get sealed, and a rotation with
//! `AGORA_TOKEN_KEY_PREVIOUS` locks nobody out while `agora reseal-secrets` moves every secret
//! to the new key.

use crate::mfa::{enrol, step_now, totp};
use crate::support::{run_agora, TestApp, TOKEN_KEY};
use serde_json::{json, Value};

const NEW_KEY: &str = "the new master key, rotated in, at least 32 characters";

async fn stored_seed(app: &TestApp, user: &str) -> Vec<u8> {
    let pg = app.db.connect().await;
    pg.query_one("SELECT secret FROM t_acme.mfa_totp WHERE user_id::text = $1", &[&user]).await.unwrap().get(0)
}

/// A full two-step staff login against `base` with a code for `step`.
async fn mfa_login(app: &TestApp, base: &str, email: &str, secret: &[u8], step: u64) -> reqwest::Response {
    let first = password_step_at(app, base, email).await;
    assert_eq!(first["mfa_required"], true, "{first}");
    let body = json!({"challenge": first["challenge"], "code": totp(secret, step)});
    post_at(app, base, "/api/v1/admin/auth/login/mfa", body).await
}

/// Lets the next login reuse a time step (codes are accepted once per step).
async fn forget_used_step(app: &TestApp, user: &str) {
    let pg = app.db.connect().await;
    pg.execute("UPDATE t_acme.mfa_totp SET last_step = NULL WHERE user_id::text = $1", &[&user]).await.unwrap();
}

#[tokio::test]
async fn authenticator_seeds_are_sealed_and_old_clear_ones_are_sealed_at_their_next_use() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let staff = app.staff(&acme, &["owner"]).await;
    let (secret, _) = enrol(&app, "admin", &acme, &staff).await;
    let stored = stored_seed(&app, &staff.user_id).await;
    assert_eq!(stored.len(), 48, "nonce + sealed 20-byte seed + tag");
    assert!(!stored.windows(20).any(|w| w == secret.as_slice()), "the seed is not stored in the clear");

    // As an older version stored it.
    let pg = app.db.connect().await;
    pg.execute("UPDATE t_acme.mfa_totp SET secret = $2 WHERE user_id::text = $1", &[&staff.user_id, &secret])
        .await
        .unwrap();
    let res = mfa_login(&app, &app.base, &staff.email, &secret, step_now() + 1).await;
    assert_eq!(res.status(), 200);
    let resealed = stored_seed(&app, &staff.user_id).await;
    assert_eq!(resealed.len(), 48, "sealed at its first use");
    forget_used_step(&app, &staff.user_id).await;
    assert_eq!(mfa_login(&app, &app.base, &staff.email, &secret, step_now()).await.status(), 200);
}

#[tokio::test]
async fn the_master_key_rotates_without_locking_anyone_out() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let staff = app.staff(&acme, &["owner"]).await;
    let (secret, recovery) = enrol(&app, "admin", &acme, &staff).await;
    let sealed_under_old = stored_seed(&app, &staff.user_id).await;
    // An operator's authenticator is sealed under the master key too.
    let res = app.platform(reqwest::Method::POST, "/api/v1/platform/me/mfa/totp").send().await.unwrap();
    assert_eq!(res.status(), 200);

    // Every replica restarts with the new key, the old one as previous.
    let rotating = app.replica(&[("AGORA_TOKEN_KEY", NEW_KEY), ("AGORA_TOKEN_KEY_PREVIOUS", TOKEN_KEY)]);
    let me = |base: &str, token: &str| {
        app.client.get(format!("{base}/api/v1/admin/me")).header("x-tenant-id", &acme).bearer_auth(token).send()
    };
    assert_eq!(me(&rotating, &staff.access_token).await.unwrap().status(), 200, "old tokens still count");
    let res = mfa_login(&app, &rotating, &staff.email, &secret, step_now() + 1).await;
    assert_eq!(res.status(), 200, "the old key still opens the seed");
    let fresh: Value = res.json().await.unwrap();
    let fresh = fresh["access_token"].as_str().unwrap().to_string();
    assert_ne!(stored_seed(&app, &staff.user_id).await, sealed_under_old, "sealed again, under the new key");

    let env =
        [("DATABASE_URL", app.db.url.as_str()), ("AGORA_TOKEN_KEY", NEW_KEY), ("AGORA_TOKEN_KEY_PREVIOUS", TOKEN_KEY)];
    let (ok, out, err) = run_agora(&["reseal-secrets"], &env).await;
    assert!(ok, "{err}");
    // The staff seed was sealed again by its use; the operator's pending one had not been used.
    assert!(out.contains("1 secrets sealed again across 1 shops"), "{out}");

    // The previous key is dropped.
    let rotated = app.replica(&[("AGORA_TOKEN_KEY", NEW_KEY)]);
    assert_eq!(me(&rotated, &staff.access_token).await.unwrap().status(), 401, "tokens of the old key end");
    assert_eq!(me(&rotated, &fresh).await.unwrap().status(), 200);
    forget_used_step(&app, &staff.user_id).await;
    assert_eq!(mfa_login(&app, &rotated, &staff.email, &secret, step_now()).await.status(), 200);
    let (ok, out, err) = run_agora(&["reseal-secrets"], &env[..2]).await;
    assert!(ok, "everything opens under the new key alone: {err}");
    assert!(out.contains("0 secrets sealed again"), "{out}");

    // A key lost outright: codes cannot be checked any more, recovery codes still let them in.
    let lost = app.replica(&[("AGORA_TOKEN_KEY", "a key that never sealed anything, 32+ characters")]);
    let first = password_step_at(&app, &lost, &staff.email).await;
    let recovery_login = post_at(
        &app,
        &lost,
        "/api/v1/admin/auth/login/mfa",
        json!({"challenge": first["challenge"], "recovery_code": recovery[0]}),
    )
    .await;
    assert_eq!(recovery_login.status(), 200);
}

async fn password_step_at(app: &TestApp, base: &str, email: &str) -> Value {
    let res = post_at(
        app,
        base,
        "/api/v1/admin/auth/login",
        json!({"email": email, "password": crate::support::PASSWORD, "client": "api"}),
    )
    .await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn post_at(app: &TestApp, base: &str, path: &str, body: Value) -> reqwest::Response {
    app.client.post(format!("{base}{path}")).header("x-tenant-id", "acme").json(&body).send().await.unwrap()
}
