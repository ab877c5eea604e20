//! Issue 8, played as an attacker would: single sign-on as a back door (scenario 3), the OIDC
//! issuer as a way into the server's network (scenario 4), admins reaching for the owner, an open
//! `/metrics`, a racing bootstrap (part of 9), and the headers every response should carry (10).
//! Each test fails on the code before the fix.

use crate::oidc::{browser, spawn as spawn_allowing_loopback, through_provider_at, Provider};
use crate::support::{problem, Credentials, TestApp, PASSWORD, PLATFORM_TOKEN};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const CLIENT_ID: &str = "agora-shop";
const CLIENT_SECRET: &str = "provider-issued-secret-7c1e9a0b44d2";

fn staff_sso(issuer: &str, extra: serde_json::Value) -> serde_json::Value {
    let mut body = serde_json::json!({"issuer_url": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "account_kind": "staff", "return_path": "/admin/"});
    for (key, value) in extra.as_object().unwrap() {
        body[key] = value.clone();
    }
    body
}

fn put_oidc(app: &TestApp, shop: &str, who: &Credentials, body: &serde_json::Value) -> reqwest::RequestBuilder {
    app.as_user(reqwest::Method::PUT, "/api/v1/admin/oidc", shop, who).json(body)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.db.connect().await.query_one(sql, &[]).await.unwrap().get(0)
}

async fn verify_email(app: &TestApp, shop: &str, who: &Credentials) {
    let sql = format!("UPDATE t_{shop}.users SET email_verified_at = now() WHERE email = $1");
    app.db.connect().await.execute(&sql, &[&who.email]).await.unwrap();
}

/// The fields a validation problem names.
fn fields(body: &serde_json::Value) -> Vec<&str> {
    body["errors"].as_array().map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect()).unwrap_or_default()
}

fn type_of(body: &serde_json::Value) -> &str {
    body["type"].as_str().unwrap().rsplit('/').next().unwrap()
}

// ---- scenario 3: SSO as a back door ---------------------------------------------------------

#[tokio::test]
async fn settings_manage_alone_cannot_point_staff_sign_in_at_another_provider() {
    let app = spawn_allowing_loopback().await;
    let shop = app.tenant("acme").await;
    let owner = app.staff(&shop, &["owner"]).await;
    let issuer = "http://127.0.0.1:1";

    // An integration's key with only settings.manage: the hole was that this was enough.
    let res = app
        .as_user(reqwest::Method::POST, "/api/v1/admin/api-keys", &shop, &owner)
        .json(&serde_json::json!({"name": "settings sync", "scopes": ["settings.manage"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let key: serde_json::Value = res.json().await.unwrap();
    let key = Credentials { access_token: key["key"].as_str().unwrap().into(), ..owner.clone() };
    let body = staff_sso(issuer, serde_json::json!({"current_password": PASSWORD}));
    let res = put_oidc(&app, &shop, &key, &body).send().await.unwrap();
    assert_eq!(type_of(&problem(res, 403).await), "owner-only");

    // An admin holds every permission, and still is not the owner.
    let admin = app.staff(&shop, &["admin"]).await;
    let res = put_oidc(&app, &shop, &admin, &body).send().await.unwrap();
    assert_eq!(type_of(&problem(res, 403).await), "owner-only");
    let res = app.as_user(reqwest::Method::DELETE, "/api/v1/admin/oidc", &shop, &admin).send().await.unwrap();
    assert_eq!(type_of(&problem(res, 403).await), "owner-only");

    // The owner's session or token alone is not enough either: it asks for the password afresh.
    let res = put_oidc(&app, &shop, &owner, &staff_sso(issuer, serde_json::json!({}))).send().await.unwrap();
    assert_eq!(fields(&problem(res, 422).await), ["current_password"]);
    let wrong = staff_sso(issuer, serde_json::json!({"current_password": "not the password at all"}));
    let res = put_oidc(&app, &shop, &owner, &wrong).send().await.unwrap();
    assert_eq!(fields(&problem(res, 422).await), ["current_password"]);
    assert_eq!(count(&app, "SELECT count(*) FROM t_acme.oidc_provider").await, 0, "nothing was stored");
    let failed = "SELECT count(*) FROM t_acme.audit_log WHERE action = 'reauthentication.failed'";
    assert_eq!(count(&app, failed).await, 1, "the wrong password is a security event");

    let res = put_oidc(&app, &shop, &owner, &body).send().await.unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap());
    let res = app.as_user(reqwest::Method::DELETE, "/api/v1/admin/oidc", &shop, &owner).send().await.unwrap();
    assert_eq!(res.status(), 204);
}

#[tokio::test]
async fn a_provider_claiming_the_owners_email_does_not_sign_in_as_the_owner() {
    let app = spawn_allowing_loopback().await;
    let shop = app.tenant("acme").await;
    let owner = app.staff(&shop, &["owner"]).await;
    let clerk = app.staff(&shop, &["catalog_manager"]).await;
    verify_email(&app, &shop, &owner).await;
    verify_email(&app, &shop, &clerk).await;
    // Whoever runs the provider can claim any verified address.
    let accounts = serde_json::json!({
        "mallory": {"email": owner.email, "email_verified": true},
        "clerk": {"email": clerk.email, "email_verified": true},
    });
    let provider = Provider::redirecting_to(&app.url("/api/v1/admin/auth/oidc/callback"), accounts);
    let body = staff_sso(&provider.issuer, serde_json::json!({"current_password": PASSWORD}));
    assert_eq!(put_oidc(&app, &shop, &owner, &body).send().await.unwrap().status(), 200);

    let mallory = browser(&app, &shop);
    let callback = through_provider_at(&app, &mallory, "mallory", "/api/v1/admin").await;
    let res = mallory.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let token = location.split_once("#oidc_link=").unwrap_or_else(|| panic!("no pending link: {location}")).1;
    assert_eq!(mallory.get(app.url("/api/v1/admin/me")).send().await.unwrap().status(), 401, "no session");
    assert_eq!(count(&app, "SELECT count(*) FROM t_acme.oidc_identities").await, 0, "nothing linked");

    // The link token is useless to anyone but the owner, signed in as themselves: another staff
    // member holding it is refused, and so is a caller without a session.
    let res = app
        .as_user(reqwest::Method::POST, "/api/v1/admin/me/oidc-link", &shop, &clerk)
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap();
    problem(res, 422).await;
    let res = mallory
        .post(app.url("/api/v1/admin/me/oidc-link"))
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap();
    problem(res, 401).await;
    assert_eq!(count(&app, "SELECT count(*) FROM t_acme.oidc_identities").await, 0, "still nothing linked");

    // SSO-only for staff: the provider is the authority on staff, so the clerk is linked on
    // first login and can no longer use a password; the owner is still never linked silently
    // and keeps the password.
    let body = staff_sso(&provider.issuer, serde_json::json!({"current_password": PASSWORD, "staff_sso_only": true}));
    assert_eq!(put_oidc(&app, &shop, &owner, &body).send().await.unwrap().status(), 200);
    let clerk_browser = browser(&app, &shop);
    let callback = through_provider_at(&app, &clerk_browser, "clerk", "/api/v1/admin").await;
    assert_eq!(clerk_browser.get(&callback).send().await.unwrap().status(), 302);
    let me: serde_json::Value =
        clerk_browser.get(app.url("/api/v1/admin/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["id"], clerk.user_id.as_str());
    let password_login = |email: String| {
        app.client
            .post(app.url("/api/v1/admin/auth/login"))
            .header("x-tenant-id", &shop)
            .json(&serde_json::json!({"email": email, "password": PASSWORD, "client": "api"}))
            .send()
    };
    let res = password_login(clerk.email.clone()).await.unwrap();
    assert_eq!(type_of(&problem(res, 403).await), "sso-required");
    assert_eq!(password_login(owner.email.clone()).await.unwrap().status(), 200, "owners keep their password");

    let mallory = browser(&app, &shop);
    let callback = through_provider_at(&app, &mallory, "mallory", "/api/v1/admin").await;
    let res = mallory.get(&callback).send().await.unwrap();
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.contains("#oidc_link="), "the owner is asked even under SSO-only: {location}");
    assert_eq!(mallory.get(app.url("/api/v1/admin/me")).send().await.unwrap().status(), 401);
    let owner_links = format!("SELECT count(*) FROM t_acme.oidc_identities WHERE user_id = '{}'::uuid", owner.user_id);
    assert_eq!(count(&app, &owner_links).await, 0);
}

// ---- scenario 4: SSRF through the OIDC issuer -------------------------------------------------

#[tokio::test]
async fn an_issuer_on_a_private_address_is_refused_when_configured() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    let owner = app.staff(&shop, &["owner"]).await;
    for issuer in [
        "http://127.0.0.1:5432",
        "https://127.0.0.1",
        "https://10.0.0.7",
        "https://[::1]:8080",
        "https://169.254.169.254",
        "https://[::ffff:169.254.169.254]",
        "https://localhost:9000",
    ] {
        let body = staff_sso(issuer, serde_json::json!({"current_password": PASSWORD}));
        let res = put_oidc(&app, &shop, &owner, &body).send().await.unwrap();
        let body = problem(res, 422).await;
        assert_eq!(fields(&body), ["issuer_url"], "{issuer}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains("only public internet addresses"), "{issuer}: {message}");
    }
    assert_eq!(count(&app, "SELECT count(*) FROM t_acme.oidc_provider").await, 0);
}

#[tokio::test]
async fn a_stored_private_issuer_is_never_called_by_an_anonymous_login() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    // Something listens on loopback, as an internal service would.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let pg = app.db.connect().await;
    let issuers = [
        format!("http://127.0.0.1:{port}"),
        format!("https://localhost:{port}"),
        format!("https://[::1]:{port}"),
        "https://10.0.0.7".to_string(),
        "http://169.254.169.254/latest/meta-data".to_string(),
    ];
    for issuer in issuers {
        // As if stored before this check existed, or by an operator who allowed it then.
        pg.execute("DELETE FROM t_acme.oidc_provider", &[]).await.unwrap();
        pg.execute(
            "INSERT INTO t_acme.oidc_provider (issuer_url, client_id, client_secret_encrypted, client_secret_nonce, \
             account_kind, modified_by) VALUES ($1, 'x', '\\x00', '\\x000000000000000000000000', 'customer', 'test')",
            &[&issuer],
        )
        .await
        .unwrap();
        let res = app.get("/api/v1/store/auth/oidc/start").header("x-tenant-id", &shop).send().await.unwrap();
        let body = problem(res, 502).await;
        // IP literals are refused before any request; a name by the resolver, at connect time.
        let expected = if issuer.contains("localhost") { "oidc-provider-failed" } else { "oidc-provider-refused" };
        assert_eq!(type_of(&body), expected, "{issuer}: {body}");
        let accepted = tokio::time::timeout(Duration::from_millis(300), listener.accept()).await;
        assert!(accepted.is_err(), "{issuer}: the server connected to the loopback service");
    }
}

/// A bare-bones OpenID provider on loopback that serves discovery and keys and counts requests.
async fn counting_provider() -> (String, Arc<Mutex<HashMap<String, usize>>>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(Mutex::new(HashMap::new()));
    let (served, base) = (hits.clone(), issuer.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let (hits, base) = (served.clone(), base.clone());
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buffer = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buffer).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buffer[..n]),
                    }
                }
                let head = String::from_utf8_lossy(&request).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                *hits.lock().unwrap().entry(path.clone()).or_insert(0) += 1;
                let body = match path.as_str() {
                    "/.well-known/openid-configuration" => serde_json::json!({
                        "issuer": base, "authorization_endpoint": format!("{base}/auth"),
                        "token_endpoint": format!("{base}/token"), "jwks_uri": format!("{base}/jwks"),
                        "response_types_supported": ["code"], "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["RS256"],
                    }),
                    _ => serde_json::json!({"keys": []}),
                }
                .to_string();
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(response.as_bytes()).await;
            });
        }
    });
    (issuer, hits)
}

#[tokio::test]
async fn discovery_is_cached_and_anonymous_logins_are_rate_limited() {
    let app = spawn_allowing_loopback().await;
    let shop = app.tenant("acme").await;
    let owner = app.staff(&shop, &["owner"]).await;
    let (issuer, hits) = counting_provider().await;
    let body = serde_json::json!({"issuer_url": issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "account_kind": "customer", "current_password": PASSWORD});
    assert_eq!(put_oidc(&app, &shop, &owner, &body).send().await.unwrap().status(), 200);

    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let start = || no_redirects.get(app.url("/api/v1/store/auth/oidc/start")).header("x-tenant-id", &shop).send();
    let mut statuses = Vec::new();
    for _ in 0..25 {
        statuses.push(start().await.unwrap().status().as_u16());
    }
    assert!(statuses[..20].iter().all(|s| *s == 302), "{statuses:?}");
    assert!(statuses[20..].iter().all(|s| *s == 429), "a client starts at most 20 logins a minute: {statuses:?}");
    let discovery = hits.lock().unwrap().get("/.well-known/openid-configuration").copied();
    assert_eq!(discovery, Some(1), "one discovery for twenty logins: {:?}", hits.lock().unwrap());
}

// ---- scenario 9 (part): owners, /metrics, the bootstrap ----------------------------------------

#[tokio::test]
async fn an_admin_cannot_disable_demote_or_become_an_owner() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("acme").await;
    // Two owners, so that "the last owner" is not what stops anything below.
    let owner = app.staff(&shop, &["owner"]).await;
    let other_owner = app.staff(&shop, &["owner"]).await;
    let admin = app.staff(&shop, &["admin"]).await;
    let as_admin = |method: reqwest::Method, path: String| app.as_user(method, &path, &shop, &admin);

    let res = as_admin(reqwest::Method::POST, format!("/api/v1/admin/staff/{}/disable", owner.user_id)).send().await;
    assert_eq!(type_of(&problem(res.unwrap(), 403).await), "owner-only");
    let res = as_admin(reqwest::Method::PUT, format!("/api/v1/admin/staff/{}/roles", owner.user_id))
        .json(&serde_json::json!({"roles": ["admin"]}))
        .send()
        .await;
    assert_eq!(type_of(&problem(res.unwrap(), 403).await), "owner-only");
    let res = as_admin(reqwest::Method::PUT, format!("/api/v1/admin/staff/{}/roles", admin.user_id))
        .json(&serde_json::json!({"roles": ["owner"]}))
        .send()
        .await;
    assert_eq!(type_of(&problem(res.unwrap(), 403).await), "owner-only", "no promoting oneself first");
    let owners = "SELECT count(*) FROM t_acme.user_roles ur JOIN t_acme.roles r ON r.id = ur.role_id \
                  JOIN t_acme.users u ON u.id = ur.user_id WHERE r.key = 'owner' AND u.disabled_at IS NULL";
    // The harness's own owner of the shop, and the two above.
    assert_eq!(count(&app, owners).await, 3);

    // Admins still manage everyone else; owners manage owners.
    let clerk = app.staff(&shop, &["catalog_manager"]).await;
    let res = as_admin(reqwest::Method::POST, format!("/api/v1/admin/staff/{}/disable", clerk.user_id)).send().await;
    assert_eq!(res.unwrap().status(), 200);
    let res = app
        .as_user(reqwest::Method::PUT, &format!("/api/v1/admin/staff/{}/roles", other_owner.user_id), &shop, &owner)
        .json(&serde_json::json!({"roles": ["admin"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(count(&app, owners).await, 2);
}

#[tokio::test]
async fn metrics_can_require_a_scrape_token() {
    let token = "metrics-scrape-token-5b2f9e";
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_METRICS_TOKEN".into(), token.into());
    })
    .await;
    problem(app.get("/metrics").send().await.unwrap(), 401).await;
    problem(app.get("/metrics").bearer_auth("wrong-token-0123456789").send().await.unwrap(), 401).await;
    let res = app.get("/metrics").bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("agora_http_requests_total"), "Prometheus text");
}

#[tokio::test]
async fn metrics_can_have_a_listener_of_their_own() {
    // A free port for the metrics listener (the app binds it at once).
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_METRICS_BIND".into(), format!("127.0.0.1:{port}"));
    })
    .await;
    problem(app.get("/metrics").send().await.unwrap(), 404).await;
    let internal = format!("http://127.0.0.1:{port}");
    let res = app.client.get(format!("{internal}/metrics")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.client.get(format!("{internal}/api/v1/store/shop")).header("x-tenant-id", "acme").send().await;
    problem(res.unwrap(), 404).await;
    assert_eq!(app.get("/healthz").send().await.unwrap().status(), 200, "the API is where it was");
}

#[tokio::test]
async fn racing_bootstraps_create_one_operator() {
    let app = TestApp::spawn().await;
    // Back to a platform with no operator, where the platform token may create the first.
    app.db
        .connect()
        .await
        .batch_execute("DELETE FROM agora.operator_sessions; DELETE FROM agora.operators;")
        .await
        .unwrap();
    let requests = (0..6).map(|i| {
        app.client
            .post(app.url("/api/v1/platform/operators"))
            .bearer_auth(PLATFORM_TOKEN)
            .json(&serde_json::json!({"email": format!("first-{i}@platform.test"), "password": PASSWORD}))
            .send()
    });
    let statuses: Vec<u16> =
        futures_util::future::join_all(requests).await.into_iter().map(|r| r.unwrap().status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 201 || *s == 401), "{statuses:?}");
    assert_eq!(count(&app, "SELECT count(*) FROM agora.operators").await, 1);
}

// ---- scenario 10: headers every response carries -------------------------------------------------

fn assert_common_headers(res: &reqwest::Response, what: &str) {
    let header = |name: &str| res.headers().get(name).map(|v| v.to_str().unwrap().to_string());
    assert_eq!(header("x-content-type-options").as_deref(), Some("nosniff"), "{what}");
    assert_eq!(header("referrer-policy").as_deref(), Some("no-referrer"), "{what}");
    assert_eq!(header("x-frame-options").as_deref(), Some("DENY"), "{what}");
    let csp = header("content-security-policy").unwrap_or_else(|| panic!("{what}: no CSP"));
    assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{what}: {csp}");
}

fn sha256_source(text: &str) -> String {
    use base64::Engine;
    use sha2::Digest;
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(text.as_bytes())))
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_SECURE_COOKIES".into(), "true".into());
    })
    .await;
    let shop = app.tenant("acme").await;

    let json = app.get("/api/v1/store/shop").header("x-tenant-id", &shop).send().await.unwrap();
    assert_eq!(json.status(), 200);
    assert_common_headers(&json, "JSON");
    let hsts = json.headers()["strict-transport-security"].to_str().unwrap();
    assert!(hsts.starts_with("max-age=31536000"), "{hsts}");

    let unauthorized = app.get("/api/v1/admin/me").header("x-tenant-id", &shop).send().await.unwrap();
    assert_common_headers(&unauthorized, "problem+json");
    problem(unauthorized, 401).await;
    let missing = app.get("/no/such/page").send().await.unwrap();
    assert_common_headers(&missing, "404");
    problem(missing, 404).await;

    // The docs page: HTML, its CSP allows exactly its own inline script and style, by hash.
    let docs = app.get("/api/docs/index.html?url=/api/openapi.json").send().await.unwrap();
    assert_eq!(docs.status(), 200);
    assert!(docs.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    assert_common_headers(&docs, "docs");
    let csp = docs.headers()["content-security-policy"].to_str().unwrap().to_string();
    let page = docs.text().await.unwrap();
    for tag in ["script", "style"] {
        let open = format!("<{tag}>");
        let inline = page.split(&open).nth(1).and_then(|rest| rest.split(&format!("</{tag}>")).next());
        let inline = inline.unwrap_or_else(|| panic!("the page has an inline {tag}"));
        assert!(csp.contains(&sha256_source(inline)), "the CSP allows the page's inline {tag}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), "{csp}");
    assert!(csp.contains("connect-src 'self'"), "the spec is fetched from this origin: {csp}");

    // Plain http development (insecure cookies): no HSTS, which would lock browsers out.
    let plain = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_SECURE_COOKIES".into(), "false".into());
    })
    .await;
    let res = plain.get("/healthz").send().await.unwrap();
    assert_common_headers(&res, "healthz");
    assert!(res.headers().get("strict-transport-security").is_none());
}
