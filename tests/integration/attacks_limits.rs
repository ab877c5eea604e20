//! Issue 8, tried as an attacker would: idempotent replay across callers (scenario 5), throttles
//! that race (6), a limiter that can be sidestepped (7), and registration and reset requests
//! without a budget (part of 9). Each test fails on the code before the fix.

use crate::identity::{browser_login, login};
use crate::mfa::{enrol, step_now, totp};
use crate::support::{problem, TestApp, PASSWORD};
use futures_util::future::join_all;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// How many responses had each status.
fn tally(statuses: impl IntoIterator<Item = u16>) -> BTreeMap<u16, usize> {
    let mut counts = BTreeMap::new();
    for status in statuses {
        *counts.entry(status).or_insert(0) += 1;
    }
    counts
}

// ---- Scenario 5: a stored response is replayed only to the caller it was made for ----

#[tokio::test]
async fn an_idempotent_response_is_replayed_only_to_its_own_caller() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let owner = app.staff(&acme, &["owner"]).await;
    let browser = browser_login(&app, "admin", &acme, &owner.email).await;
    let body = json!({"name": "ERP", "scopes": ["shop.read"]});
    let as_owner = || {
        app.client
            .post(app.url("/api/v1/admin/api-keys"))
            .header("x-tenant-id", &acme)
            .header("cookie", &browser.cookie)
            .header("x-csrf-token", &browser.csrf)
            .header("idempotency-key", "k")
            .json(&body)
    };
    let first = as_owner().send().await.unwrap();
    assert_eq!(first.status(), 201);
    let minted: Value = first.json().await.unwrap();
    let secret = minted["key"].as_str().unwrap().to_string();

    // A stranger from the same address with the same key, path and body gets nothing of it.
    let stranger = app
        .client
        .post(app.url("/api/v1/admin/api-keys"))
        .header("x-tenant-id", &acme)
        .header("idempotency-key", "k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(stranger.headers().get("idempotent-replayed").is_none(), "no replay for another caller");
    let refused = problem(stranger, 401).await;
    assert!(!refused.to_string().contains(&secret));

    // Another staff member with the same key runs their own request.
    let admin = app.staff(&acme, &["admin"]).await;
    let theirs = app
        .as_user(Method::POST, "/api/v1/admin/api-keys", &acme, &admin)
        .header("idempotency-key", "k")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(theirs.status(), 201);
    assert!(theirs.headers().get("idempotent-replayed").is_none());
    let theirs: Value = theirs.json().await.unwrap();
    assert_ne!(theirs["key"], minted["key"], "a key of their own, not the owner's");

    // The owner's own retry is replayed, as before.
    let again = as_owner().send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap()["key"], minted["key"]);

    // What is stored is sealed: the database alone does not hold the secret.
    let pg = app.db.connect().await;
    let bodies: Vec<Vec<u8>> = pg
        .query("SELECT response_body FROM agora.idempotency_keys WHERE key = 'k'", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(bodies.len(), 2, "one stored response per caller");
    for stored in bodies {
        assert!(!String::from_utf8_lossy(&stored).contains("agora_key_"), "stored in the clear");
    }

    // Anonymous writes are never stored for replay (nothing the client holds could scope them).
    let register = || {
        app.client
            .post(app.url("/api/v1/store/auth/register"))
            .header("x-tenant-id", &acme)
            .header("idempotency-key", "anon-1")
            .json(&json!({"email": "new@example.com", "password": PASSWORD}))
            .send()
    };
    assert_eq!(register().await.unwrap().status(), 202);
    let repeated = register().await.unwrap();
    assert_eq!(repeated.status(), 202);
    assert!(repeated.headers().get("idempotent-replayed").is_none());
    let stored: i64 =
        pg.query_one("SELECT count(*) FROM agora.idempotency_keys WHERE key = 'anon-1'", &[]).await.unwrap().get(0);
    assert_eq!(stored, 0);
}

// ---- Scenario 6: N parallel guesses never get more verdicts than the limit ----

/// Fifty wrong answers at once: at most `free` (5) are judged, the rest are told to wait.
fn assert_at_most_five_verdicts(statuses: Vec<u16>, wrong: u16) {
    let counts = tally(statuses);
    let judged = counts.get(&wrong).copied().unwrap_or(0);
    let waited = counts.get(&429).copied().unwrap_or(0);
    assert!(judged <= 5, "{judged} guesses were judged: {counts:?}");
    assert_eq!(judged + waited, 50, "nothing but verdicts and 429s: {counts:?}");
}

#[tokio::test]
async fn parallel_wrong_passwords_get_no_more_verdicts_than_the_limit() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let (app, acme, email) = (&app, &acme, &customer.email);
    let guesses = (0..50).map(|i| async move {
        let guess = format!("guess number {i}");
        login(app, "store", acme, email, &guess, "api").await
    });
    let statuses = join_all(guesses).await.iter().map(|r| r.status().as_u16()).collect();
    assert_at_most_five_verdicts(statuses, 401);
    // The count is in the kernel's one throttle.
    let pg = app.db.connect().await;
    let attempts: i32 = pg
        .query_one(
            "SELECT attempts FROM agora.throttles WHERE key = $1",
            &[&format!("account:customer:{}", customer.email)],
        )
        .await
        .unwrap()
        .get(0);
    assert!(attempts <= 5, "{attempts}");
}

#[tokio::test]
async fn parallel_wrong_operator_passwords_get_no_more_verdicts_than_the_limit() {
    let app = TestApp::spawn().await;
    let guesses = (0..50).map(|i| {
        app.client
            .post(app.url("/api/v1/platform/auth/login"))
            .json(&json!({"email": "operator@platform.test", "password": format!("guess number {i}")}))
            .send()
    });
    let statuses = join_all(guesses).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert_at_most_five_verdicts(statuses, 401);
}

#[tokio::test]
async fn parallel_wrong_mfa_codes_get_no_more_verdicts_than_the_limit() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let (secret, _) = enrol(&app, "store", &acme, &customer).await;
    let step: Value = login(&app, "store", &acme, &customer.email, PASSWORD, "api").await.json().await.unwrap();
    let challenge = step["challenge"].as_str().unwrap().to_string();
    // A code from an hour ahead is well-formed and always wrong.
    let wrong = totp(&secret, step_now() + 120);
    let guesses = (0..50).map(|_| {
        app.client
            .post(app.url("/api/v1/store/auth/login/mfa"))
            .header("x-tenant-id", &acme)
            .json(&json!({"challenge": challenge, "code": wrong}))
            .send()
    });
    let statuses = join_all(guesses).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert_at_most_five_verdicts(statuses, 401);
}

// ---- Scenario 7: the limiter keys on what is verified, on the path routing sees ----

async fn limited_app(per_minute: &str, extra: &[(&str, &str)]) -> (TestApp, String) {
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_RATE_LIMIT_CLIENT_PER_MINUTE".into(), per_minute.into());
        for (k, v) in extra {
            o.env.insert(k.to_string(), v.to_string());
        }
    })
    .await;
    let acme = app.tenant("acme").await;
    (app, acme)
}

#[tokio::test]
async fn random_authorization_values_do_not_make_new_clients() {
    let (app, acme) = limited_app("20", &[]).await;
    let mut statuses = Vec::new();
    for i in 0..40 {
        let res = app
            .get("/api/v1/store/shop")
            .header("x-tenant-id", &acme)
            .header("authorization", format!("Basic {}", uuid::Uuid::now_v7().simple()))
            .header("x-request-id", format!("basic-{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    let counts = tally(statuses);
    assert_eq!(counts.get(&200), Some(&20), "one address, one budget: {counts:?}");
    assert_eq!(counts.get(&429), Some(&20), "{counts:?}");
}

#[tokio::test]
async fn percent_encoded_paths_meet_the_same_limits() {
    let (app, acme) = limited_app("5", &[]).await;
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(app.get("/api/%761/store/shop").header("x-tenant-id", &acme).send().await.unwrap().status());
    }
    assert_eq!(statuses[0], 200, "routing decodes %76 to v");
    assert_eq!(tally(statuses.iter().map(|s| s.as_u16())), BTreeMap::from([(200, 5), (429, 3)]));
}

#[tokio::test]
async fn refused_credentials_spend_the_address_budget() {
    let (app, acme) = limited_app("5", &[]).await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        let res = app
            .get("/api/v1/admin/shop")
            .header("x-tenant-id", &acme)
            .header("x-api-key", format!("agora_key_guess{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(tally(statuses), BTreeMap::from([(401, 5), (429, 3)]));
    // The address is spent for plain requests too.
    problem(app.get("/api/v1/store/shop").header("x-tenant-id", &acme).send().await.unwrap(), 429).await;
}

#[tokio::test]
async fn the_client_address_is_the_right_most_untrusted_hop() {
    let (app, acme) = limited_app("3", &[("AGORA_TRUSTED_PROXIES", "127.0.0.0/8")]).await;
    let shop = |forwarded: String| {
        app.get("/api/v1/store/shop").header("x-tenant-id", &acme).header("x-forwarded-for", forwarded).send()
    };
    // The left part is whatever the client wrote; the proxy (us, on loopback) appended the rest.
    let mut statuses = Vec::new();
    for _ in 0..5 {
        let forged = format!("203.0.113.{}, 198.51.100.7", rand_octet());
        statuses.push(shop(forged).await.unwrap().status().as_u16());
    }
    assert_eq!(tally(statuses), BTreeMap::from([(200, 3), (429, 2)]));
    // Another client behind the same proxy has a budget of its own.
    assert_eq!(shop("198.51.100.8".into()).await.unwrap().status(), 200);
    // Audit entries name the same address.
    let pg = app.db.connect().await;
    let res = app
        .client
        .post(app.url("/api/v1/store/auth/login"))
        .header("x-tenant-id", &acme)
        .header("x-forwarded-for", "6.6.6.6, 198.51.100.9")
        .json(&json!({"email": "nobody@example.com", "password": "not the password"}))
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    let ip: String = pg
        .query_one(
            "SELECT ip FROM t_acme.audit_log WHERE action = 'login.failed' ORDER BY occurred_at DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(ip, "198.51.100.9");
}

#[tokio::test]
async fn without_trusted_proxies_forwarded_for_is_ignored() {
    let (app, acme) = limited_app("3", &[]).await;
    let mut statuses = Vec::new();
    for i in 0..5 {
        let res = app
            .get("/api/v1/store/shop")
            .header("x-tenant-id", &acme)
            .header("x-forwarded-for", format!("198.51.100.{i}"))
            .send()
            .await
            .unwrap();
        statuses.push(res.status().as_u16());
    }
    assert_eq!(tally(statuses), BTreeMap::from([(200, 3), (429, 2)]));
}

fn rand_octet() -> u8 {
    (uuid::Uuid::now_v7().as_u128() % 250) as u8 + 1
}

#[tokio::test]
async fn a_full_password_hashing_queue_answers_at_once_with_retry_after() {
    // A short queue, so the flood overfills it whatever the machine's core count.
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_PASSWORD_HASHING_QUEUE".into(), "4".into());
    })
    .await;
    let acme = app.tenant("acme").await;
    // Distinct unknown accounts: no account throttle stands in the way, every login hashes.
    let (app_ref, shop) = (&app, &acme);
    let logins = (0..200).map(|i| async move {
        let email = format!("nobody-{i}@example.com");
        login(app_ref, "store", shop, &email, "guess", "api").await
    });
    let responses = join_all(logins).await;
    let mut statuses = Vec::new();
    let mut busy = 0;
    for res in responses {
        let status = res.status().as_u16();
        statuses.push(status);
        if status == 429 {
            assert!(res.headers().contains_key("retry-after"));
            assert_eq!(problem(res, 429).await["type"], "https://agora.dev/problems/server-busy");
            busy += 1;
        }
    }
    let counts = tally(statuses);
    assert!(busy > 0, "the queue never filled: {counts:?}");
    assert_eq!(counts.len(), 2, "only verdicts and 'busy': {counts:?}");
}

// ---- Scenario 9 (part): registration and reset requests have budgets ----

async fn register(app: &TestApp, shop: &str, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/store/auth/register"))
        .header("x-tenant-id", shop)
        .json(&json!({"email": email, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
}

async fn request_reset(app: &TestApp, shop: &str, email: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/store/auth/password-reset/request"))
        .header("x-tenant-id", shop)
        .json(&json!({"email": email}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn registrations_are_limited_per_email_address_and_per_client() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    // One address: each repeat mails its owner, so five an hour.
    for _ in 0..5 {
        assert_eq!(register(&app, &acme, "victim@example.com").await.status(), 202);
    }
    let refused = register(&app, &acme, "Victim@Example.com").await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_eq!(problem(refused, 429).await["type"], "https://agora.dev/problems/too-many-requests");
    // One client walking through addresses: fifty an hour (five are spent above).
    let mut statuses = Vec::new();
    for i in 0..46 {
        statuses.push(register(&app, &acme, &format!("walker-{i}@example.com")).await.status().as_u16());
    }
    assert_eq!(tally(statuses), BTreeMap::from([(202, 45), (429, 1)]));
}

#[tokio::test]
async fn reset_requests_are_limited_per_email_address_and_per_client() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    for _ in 0..5 {
        assert_eq!(request_reset(&app, &acme, &customer.email).await.status(), 202);
    }
    let refused = request_reset(&app, &acme, &customer.email).await;
    assert_eq!(problem(refused, 429).await["type"], "https://agora.dev/problems/too-many-requests");
    let mut statuses = Vec::new();
    for i in 0..46 {
        statuses.push(request_reset(&app, &acme, &format!("walker-{i}@example.com")).await.status().as_u16());
    }
    assert_eq!(tally(statuses), BTreeMap::from([(202, 45), (429, 1)]));
}

#[tokio::test]
async fn reset_confirmations_check_the_token_before_hashing() {
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_PASSWORD_HASHING_QUEUE".into(), "4".into());
    })
    .await;
    let acme = app.tenant("acme").await;
    // Far more guesses at once than the hashing queue holds: if any of them were hashed before
    // its token was checked, some would be turned away as "busy" instead of refused.
    let (app_ref, shop) = (&app, &acme);
    let guesses = (0..200).map(|i| async move {
        app_ref
            .client
            .post(app_ref.url("/api/v1/store/auth/password-reset/confirm"))
            .header("x-tenant-id", shop)
            .json(&json!({"token": format!("guessed-token-{i}"), "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    let counts = tally(join_all(guesses).await);
    assert_eq!(counts, BTreeMap::from([(422, 200)]), "every guess refused for its token");
}
