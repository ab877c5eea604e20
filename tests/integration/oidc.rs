//! OpenID Connect login against a real provider: panva/oidc-provider (OpenID Certified), started
//! by each test with node on a port of its own (tests/oidc-provider; scripts/test.sh installs it).
//! A "browser" is a reqwest client with a cookie store that follows the provider's redirects,
//! submits its login and consent forms, and stops when sent back to Agora.

use crate::support::{problem, TestApp, PASSWORD};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CLIENT_ID: &str = "agora-shop";
const CLIENT_SECRET: &str = "provider-issued-secret-7c1e9a0b44d2";
const CALLBACK: &str = "/api/v1/store/auth/oidc/callback";

/// The app, allowed to call the provider on loopback (`AGORA_OUTBOUND_ALLOW_PRIVATE`, the
/// development switch; `attacks_sso.rs` shows what happens without it).
pub(crate) async fn spawn() -> TestApp {
    TestApp::spawn_with(|o| {
        o.env.insert("AGORA_OUTBOUND_ALLOW_PRIVATE".into(), "true".into());
    })
    .await
}

/// A running oidc-provider; killed when dropped.
pub(crate) struct Provider {
    child: Child,
    pub issuer: String,
}

impl Provider {
    /// Starts a provider whose client redirects to `app`'s customer callback. `accounts` maps
    /// login ids to their claims (`email`, `email_verified`, `name`).
    pub fn start(app: &TestApp, accounts: serde_json::Value) -> Self {
        Self::redirecting_to(&app.url(CALLBACK), accounts)
    }

    /// A provider whose client redirects to `redirect_uri`.
    pub fn redirecting_to(redirect_uri: &str, accounts: serde_json::Value) -> Self {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is not installed: run scripts/test.sh, or npm install --no-audit --no-fund --prefix tests/oidc-provider"
        );
        let mut child = Command::new("node")
            .current_dir(&dir)
            .args(["server.mjs", CLIENT_ID, CLIENT_SECRET, redirect_uri])
            .env("OIDC_ACCOUNTS", accounts.to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("node (Node.js 20 or later) must be installed for the OIDC tests");
        let stdout = child.stdout.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            use std::io::BufRead;
            // Keep reading to the end so the provider never writes into a closed pipe.
            for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let line = rx.recv_timeout(Duration::from_secs(30)).expect("the provider prints `listening <port>`");
        let port = line.strip_prefix("listening ").unwrap_or_else(|| panic!("unexpected provider output {line}"));
        Provider { child, issuer: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser on `shop`: keeps cookies, follows redirects except those back to Agora (so the test
/// sees the callback URL and what the callback answers).
pub(crate) fn browser(app: &TestApp, shop: &str) -> reqwest::Client {
    let app_port = reqwest::Url::parse(&app.base).unwrap().port();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-tenant-id", shop.parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.url().port() == app_port {
                attempt.stop()
            } else {
                attempt.follow()
            }
        }))
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn configure(app: &TestApp, shop: &str, provider: &Provider) -> serde_json::Value {
    let res = app
        .admin(reqwest::Method::PUT, "/api/v1/admin/oidc", shop)
        .json(&serde_json::json!({
            "issuer_url": provider.issuer,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "account_kind": "customer",
            "return_path": "/account",
            "current_password": PASSWORD,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "configure OIDC");
    res.json().await.unwrap()
}

fn form(res: &reqwest::Response) -> reqwest::Url {
    res.url().clone()
}

/// Starts a login in `browser`, logs in at the provider as `account` and consents; returns the
/// callback URL the provider sends the browser to.
async fn through_provider(app: &TestApp, browser: &reqwest::Client, account: &str) -> String {
    through_provider_at(app, browser, account, "/api/v1/store").await
}

/// [`through_provider`] for the customer (`/api/v1/store`) or staff (`/api/v1/admin`) area.
pub(crate) async fn through_provider_at(app: &TestApp, browser: &reqwest::Client, account: &str, area: &str) -> String {
    let res = browser.get(app.url(&format!("{area}/auth/oidc/start"))).send().await.unwrap();
    assert_eq!(res.status(), 200, "the provider's login form");
    let start = res.url().clone();
    assert!(start.path().starts_with("/interaction/"), "{start}");
    let submit = |url: reqwest::Url, body: String| {
        browser.post(url).header("content-type", "application/x-www-form-urlencoded").body(body).send()
    };
    let res = submit(form(&res), format!("prompt=login&login={account}&password=anything")).await.unwrap();
    assert_eq!(res.status(), 200, "the provider's consent form");
    let res = submit(form(&res), "prompt=consent".into()).await.unwrap();
    assert!(res.status().is_redirection(), "back to Agora: {}", res.status());
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with(&app.url(&format!("{area}/auth/oidc/callback"))), "{location}");
    assert!(location.contains("code=") && location.contains("state="), "{location}");
    location
}

/// A whole login as `account` in a fresh browser; returns the browser (now signed in) and the
/// callback's answer.
async fn login(app: &TestApp, shop: &str, account: &str) -> (reqwest::Client, reqwest::Response) {
    let browser = browser(app, shop);
    let callback = through_provider(app, &browser, account).await;
    let res = browser.get(&callback).send().await.unwrap();
    (browser, res)
}

async fn me(browser: &reqwest::Client, app: &TestApp) -> serde_json::Value {
    let res = browser.get(app.url("/api/v1/store/me")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the session works");
    res.json().await.unwrap()
}

fn alice() -> serde_json::Value {
    serde_json::json!({"alice": {"email": "alice@example.com", "email_verified": true, "name": "Alice Example"}})
}

#[tokio::test]
async fn first_login_creates_a_customer_and_the_next_one_finds_it() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let provider = Provider::start(&app, alice());
    configure(&app, &shop, &provider).await;

    let (browser, res) = login(&app, &shop, "alice").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], app.url("/account").as_str(), "lands on the return path");
    let account = me(&browser, &app).await;
    assert_eq!(account["email"], "alice@example.com");
    assert_eq!(account["name"], "Alice Example");
    assert_eq!(account["kind"], "customer");
    assert_eq!(account["email_verified"], true, "the provider verified it");

    let (again, res) = login(&app, &shop, "alice").await;
    assert_eq!(res.status(), 302);
    assert_eq!(me(&again, &app).await["id"], account["id"], "the same account, not a second one");

    let pg = app.db.connect().await;
    let logins: i64 = pg
        .query_one(
            "SELECT count(*) FROM t_acme.audit_log WHERE action = 'login.succeeded' AND details->>'method' = 'oidc'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(logins, 2, "both logins are in the audit log");
    let accounts: i64 =
        pg.query_one("SELECT count(*) FROM t_acme.users WHERE kind = 'customer'", &[]).await.unwrap().get(0);
    assert_eq!(accounts, 1);
}

#[tokio::test]
async fn an_account_with_mfa_on_still_has_to_show_its_second_factor() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let provider = Provider::start(&app, alice());
    configure(&app, &shop, &provider).await;
    let (browser, _) = login(&app, &shop, "alice").await;
    let id = me(&browser, &app).await["id"].as_str().unwrap().to_string();
    let pg = app.db.connect().await;
    pg.execute(
        "INSERT INTO t_acme.mfa_totp (user_id, secret, activated_at) VALUES ($1::text::uuid, $2, now())",
        &[&id, &vec![7u8; 20]],
    )
    .await
    .unwrap();

    let (again, res) = login(&app, &shop, "alice").await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let challenge = location
        .strip_prefix(&format!("{}#mfa_challenge=", app.url("/account")))
        .unwrap_or_else(|| panic!("{location}"));
    assert!(challenge.len() >= 32, "{location}");
    assert!(
        !res.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("agora_customer_session=")),
        "no session before the second factor"
    );
    let res = again.get(app.url("/api/v1/store/me")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let pending: i64 = pg
        .query_one("SELECT count(*) FROM t_acme.mfa_challenges WHERE user_id = $1::text::uuid", &[&id])
        .await
        .unwrap()
        .get(0);
    assert_eq!(pending, 1, "the challenge is the password login's, finished at …/auth/login/mfa");
}

#[tokio::test]
async fn an_existing_verified_account_is_linked_once_its_holder_confirms_while_signed_in() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let customer = app.customer(&shop).await;
    let pg = app.db.connect().await;
    pg.execute("UPDATE t_acme.users SET email_verified_at = now() WHERE email = $1", &[&customer.email]).await.unwrap();
    let accounts = serde_json::json!({"carla": {"email": customer.email, "email_verified": true}});
    let provider = Provider::start(&app, accounts);
    configure(&app, &shop, &provider).await;

    // The provider may say anything about who this is: no session yet, a link to confirm.
    let (browser, res) = login(&app, &shop, "carla").await;
    assert_eq!(res.status(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let token = location.split_once("#oidc_link=").unwrap_or_else(|| panic!("{location}")).1.to_string();
    assert_eq!(browser.get(app.url("/api/v1/store/me")).send().await.unwrap().status(), 401);

    // Carla, signed in with her password, confirms; from then on the provider login is hers.
    let res = app
        .as_user(reqwest::Method::POST, "/api/v1/store/me/oidc-link", &shop, &customer)
        .json(&serde_json::json!({ "token": token }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (browser, res) = login(&app, &shop, "carla").await;
    assert_eq!(res.status(), 302);
    assert_eq!(me(&browser, &app).await["id"], customer.user_id.as_str());
}

#[tokio::test]
async fn an_unverified_email_never_takes_over_an_account() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let customer = app.customer(&shop).await;
    let accounts = serde_json::json!({
        // Verified at the provider, but the shop's account never confirmed its address.
        "verified-there": {"email": customer.email, "email_verified": true},
        // The provider has not verified it (anyone could have typed the address).
        "unverified-there": {"email": customer.email, "email_verified": false},
    });
    let provider = Provider::start(&app, accounts);
    configure(&app, &shop, &provider).await;

    let (_, res) = login(&app, &shop, "verified-there").await;
    let body = problem(res, 409).await;
    assert!(body["type"].as_str().unwrap().ends_with("/oidc-email-unverified"), "{body}");

    let pg = app.db.connect().await;
    pg.execute("UPDATE t_acme.users SET email_verified_at = now() WHERE email = $1", &[&customer.email]).await.unwrap();
    let (_, res) = login(&app, &shop, "unverified-there").await;
    let body = problem(res, 409).await;
    assert!(body["type"].as_str().unwrap().ends_with("/oidc-email-unverified"), "{body}");

    let links: i64 = pg.query_one("SELECT count(*) FROM t_acme.oidc_identities", &[]).await.unwrap().get(0);
    assert_eq!(links, 0, "nothing was linked");
}

#[tokio::test]
async fn the_state_must_be_known_unused_and_from_this_browser() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let provider = Provider::start(&app, alice());
    configure(&app, &shop, &provider).await;

    // A state Agora never issued.
    let stranger = browser(&app, &shop);
    let res = stranger.get(app.url(&format!("{CALLBACK}?code=abc&state=forged"))).send().await.unwrap();
    let body = problem(res, 422).await;
    assert!(body["type"].as_str().unwrap().ends_with("/oidc-state-invalid"), "{body}");
    assert!(body.to_string().contains("state"), "names the field: {body}");

    // A callback replayed after it worked once (same code, same state, same browser).
    let browser_a = browser(&app, &shop);
    let callback = through_provider(&app, &browser_a, "alice").await;
    assert_eq!(browser_a.get(&callback).send().await.unwrap().status(), 302);
    let res = browser_a.get(&callback).send().await.unwrap();
    problem(res, 422).await;

    // A callback delivered to another browser than the one that started the login.
    let victim = browser(&app, &shop);
    let callback = through_provider(&app, &victim, "alice").await;
    let res = stranger.get(&callback).send().await.unwrap();
    problem(res, 422).await;
    let res = stranger.get(app.url("/api/v1/store/me")).send().await.unwrap();
    assert_eq!(res.status(), 401, "no session for the other browser");
}

#[tokio::test]
async fn an_id_token_for_another_nonce_is_rejected() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let provider = Provider::start(&app, alice());
    configure(&app, &shop, &provider).await;

    let browser = browser(&app, &shop);
    let callback = through_provider(&app, &browser, "alice").await;
    // The provider put the original nonce in the ID token; Agora now expects another one.
    let pg = app.db.connect().await;
    let changed = pg.execute("UPDATE t_acme.oidc_logins SET nonce = 'not-the-nonce-sent'", &[]).await.unwrap();
    assert_eq!(changed, 1);
    let res = browser.get(&callback).send().await.unwrap();
    let body = problem(res, 401).await;
    assert!(body["type"].as_str().unwrap().ends_with("/oidc-id-token-invalid"), "{body}");
    let users: i64 =
        pg.query_one("SELECT count(*) FROM t_acme.users WHERE kind = 'customer'", &[]).await.unwrap().get(0);
    assert_eq!(users, 0, "no account was created");
}

#[tokio::test]
async fn the_client_secret_is_stored_encrypted_and_never_returned() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let provider = Provider::start(&app, alice());
    let put = configure(&app, &shop, &provider).await;
    assert!(!put.to_string().contains(CLIENT_SECRET), "{put}");
    assert_eq!(put["client_secret_set"], true);
    assert_eq!(put["redirect_uri"], app.url(CALLBACK).as_str());

    let res = app.admin(reqwest::Method::GET, "/api/v1/admin/oidc", &shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let text = res.text().await.unwrap();
    assert!(!text.contains(CLIENT_SECRET), "{text}");

    let pg = app.db.connect().await;
    let row = pg
        .query_one("SELECT client_secret_encrypted, row_to_json(p)::text FROM t_acme.oidc_provider p", &[])
        .await
        .unwrap();
    let sealed: Vec<u8> = row.get(0);
    let whole: String = row.get(1);
    assert!(!sealed.windows(CLIENT_SECRET.len()).any(|w| w == CLIENT_SECRET.as_bytes()), "not in plain text");
    assert!(!whole.contains(CLIENT_SECRET), "nowhere in the row");

    // Changing other settings keeps the stored secret: logins still work.
    let res = app
        .admin(reqwest::Method::PUT, "/api/v1/admin/oidc", &shop)
        .json(&serde_json::json!({"issuer_url": provider.issuer, "client_id": CLIENT_ID, "account_kind": "customer",
            "current_password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (_, res) = login(&app, &shop, "alice").await;
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], app.url("/").as_str());
}

#[tokio::test]
async fn bad_configuration_names_the_field_and_a_dead_provider_is_a_502() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let put = |body: serde_json::Value| app.admin(reqwest::Method::PUT, "/api/v1/admin/oidc", &shop).json(&body).send();
    let base = serde_json::json!({"issuer_url": "http://127.0.0.1:1", "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET, "account_kind": "customer", "current_password": PASSWORD});
    for (field, value) in [
        ("issuer_url", serde_json::json!("not a url")),
        ("account_kind", serde_json::json!("operator")),
        ("return_path", serde_json::json!("//evil.example/")),
        ("client_id", serde_json::json!("")),
    ] {
        let mut body = base.clone();
        body[field] = value;
        let body = problem(put(body).await.unwrap(), 422).await;
        assert!(body.to_string().contains(field), "names {field}: {body}");
    }
    let mut first = base.clone();
    first.as_object_mut().unwrap().remove("client_secret");
    let body = problem(put(first).await.unwrap(), 422).await;
    assert!(body.to_string().contains("client_secret"), "{body}");

    let res = browser(&app, &shop).get(app.url("/api/v1/store/auth/oidc/start")).send().await.unwrap();
    problem(res, 404).await;

    // Nothing listens on port 1: the provider is unreachable, which is not the shop's fault.
    assert_eq!(put(base).await.unwrap().status(), 200);
    let res = browser(&app, &shop).get(app.url("/api/v1/store/auth/oidc/start")).send().await.unwrap();
    let body = problem(res, 502).await;
    assert!(body["type"].as_str().unwrap().ends_with("/oidc-provider-failed"), "{body}");

    let res = app.admin(reqwest::Method::DELETE, "/api/v1/admin/oidc", &shop).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = app.admin(reqwest::Method::GET, "/api/v1/admin/oidc", &shop).send().await.unwrap();
    problem(res, 404).await;
}

#[tokio::test]
async fn staff_are_created_with_the_configured_role_and_only_an_owner_configures_it() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let admin_callback = app.url("/api/v1/admin/auth/oidc/callback");
    let accounts = serde_json::json!({"sam": {"email": "sam@acme.test", "email_verified": true, "name": "Sam"}});
    let provider = Provider::redirecting_to(&admin_callback, accounts);
    let config = |role: &str| {
        serde_json::json!({"issuer_url": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "account_kind": "staff", "staff_role": role, "return_path": "/admin/", "current_password": PASSWORD})
    };

    // Someone who may change settings, even with the password, is not the owner: no say over
    // who signs in as whom (it used to be enough as long as the role was one they held).
    let res = app
        .admin(reqwest::Method::POST, "/api/v1/admin/roles", &shop)
        .json(&serde_json::json!({"key": "settings_only", "name": "Settings", "permissions": ["settings.manage"]}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    let settings_only = app.staff(&shop, &["settings_only"]).await;
    let res = app
        .as_user(reqwest::Method::PUT, "/api/v1/admin/oidc", &shop, &settings_only)
        .json(&config("owner"))
        .send()
        .await
        .unwrap();
    let body = problem(res, 403).await;
    assert!(body["type"].as_str().unwrap().ends_with("/owner-only"), "{body}");

    let res = app
        .admin(reqwest::Method::PUT, "/api/v1/admin/oidc", &shop)
        .json(&config("catalog_manager"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let res = browser(&app, &shop).get(app.url("/api/v1/store/auth/oidc/start")).send().await.unwrap();
    problem(res, 404).await;

    let browser = browser(&app, &shop);
    let res = browser.get(app.url("/api/v1/admin/auth/oidc/start")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let submit = |url: reqwest::Url, body: &'static str| {
        browser.post(url).header("content-type", "application/x-www-form-urlencoded").body(body).send()
    };
    let res = submit(res.url().clone(), "prompt=login&login=sam&password=x").await.unwrap();
    let res = submit(res.url().clone(), "prompt=consent").await.unwrap();
    let callback = res.headers()["location"].to_str().unwrap().to_string();
    assert!(callback.starts_with(&admin_callback), "{callback}");
    let res = browser.get(&callback).send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(res.headers()["location"], app.url("/admin/").as_str());
    let res = browser.get(app.url("/api/v1/admin/me")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.unwrap();
    assert_eq!(me["kind"], "staff");
    assert_eq!(me["email"], "sam@acme.test");
    assert_eq!(me["roles"], serde_json::json!(["catalog_manager"]));

    // Signed in by the redirect alone, the admin fetches its CSRF token before its first change.
    let category = serde_json::json!({"name": {"en": "Hats"}});
    let res = browser.post(app.url("/api/v1/admin/catalog/categories")).json(&category).send().await.unwrap();
    let body = problem(res, 403).await;
    assert!(body["type"].as_str().unwrap().ends_with("/csrf-failed"), "{body}");
    let res = browser.get(app.url("/api/v1/admin/me/csrf-token")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let token = res.json::<serde_json::Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let res = browser
        .post(app.url("/api/v1/admin/catalog/categories"))
        .header("x-csrf-token", &token)
        .json(&category)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201, "the token is the session's");
    // Nobody else gets one: not anonymous, not a bearer token, not a customer's browser.
    let res = app.get("/api/v1/admin/me/csrf-token").header("x-tenant-id", &shop).send().await.unwrap();
    problem(res, 401).await;
    let owner = app.staff(&shop, &["owner"]).await;
    let res = app.as_user(reqwest::Method::GET, "/api/v1/admin/me/csrf-token", &shop, &owner).send().await.unwrap();
    let body = problem(res, 404).await;
    assert!(body["type"].as_str().unwrap().ends_with("/no-browser-session"), "{body}");
    let customer = app.customer(&shop).await;
    let res = app.as_user(reqwest::Method::GET, "/api/v1/admin/me/csrf-token", &shop, &customer).send().await.unwrap();
    assert!(matches!(res.status().as_u16(), 401 | 403), "customers are no staff: {}", res.status());

    // The admin's sign-in page offers the provider; the storefront's does not.
    let offered = app.get("/api/v1/admin/auth/sign-in-options").header("x-tenant-id", &shop).send().await.unwrap();
    assert_eq!(offered.status(), 200);
    assert_eq!(
        offered.json::<serde_json::Value>().await.unwrap(),
        serde_json::json!({"single_sign_on": {"provider": "127.0.0.1", "start_path": "/api/v1/admin/auth/oidc/start"}}),
    );
    assert_eq!(sign_in_options(&app, &shop, None).await, serde_json::json!({"single_sign_on": null}));
    let other = app.tenant("bolt").await;
    let res = app.get("/api/v1/admin/auth/sign-in-options").header("x-tenant-id", &other).send().await.unwrap();
    assert_eq!(res.json::<serde_json::Value>().await.unwrap(), serde_json::json!({"single_sign_on": null}));
}

/// What the storefront's sign-in page asks before it shows "Sign in with …".
async fn sign_in_options(
    app: &TestApp,
    shop: &str,
    customer: Option<&crate::support::Credentials>,
) -> serde_json::Value {
    let mut req = app.get("/api/v1/store/auth/sign-in-options").header("x-tenant-id", shop);
    if let Some(who) = customer {
        req = req.bearer_auth(&who.access_token);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "sign-in options of {shop}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_sign_in_page_offers_the_provider_only_while_it_is_set_up_for_customers() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("bolt").await;
    let none = serde_json::json!({"single_sign_on": null});
    assert_eq!(sign_in_options(&app, &shop, None).await, none, "no provider yet");

    let provider = Provider::start(&app, alice());
    configure(&app, &shop, &provider).await;
    let offered = sign_in_options(&app, &shop, None).await;
    assert_eq!(
        offered,
        serde_json::json!({"single_sign_on": {"provider": "127.0.0.1", "start_path": "/api/v1/store/auth/oidc/start"}}),
    );
    // Signed in or not, a shopper sees the same; another shop does not see this shop's provider.
    let customer = app.customer(&shop).await;
    assert_eq!(sign_in_options(&app, &shop, Some(&customer)).await, offered);
    assert_eq!(sign_in_options(&app, &other, None).await, none, "another shop's provider is not offered");
    // The path offered is the one that starts the login.
    let res = browser(&app, &shop).get(app.url("/api/v1/store/auth/oidc/start")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the provider's login form");
    assert!(res.url().path().starts_with("/interaction/"), "{}", res.url());

    // Set up for staff instead: shoppers are not offered it.
    let res = app
        .admin(reqwest::Method::PUT, "/api/v1/admin/oidc", &shop)
        .json(
            &serde_json::json!({"issuer_url": provider.issuer, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "account_kind": "staff", "return_path": "/admin/", "current_password": PASSWORD}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(sign_in_options(&app, &shop, None).await, none, "a provider for staff is not the shoppers'");

    // Removed: gone from the page too.
    configure(&app, &shop, &provider).await;
    let res = app.admin(reqwest::Method::DELETE, "/api/v1/admin/oidc", &shop).send().await.unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(sign_in_options(&app, &shop, None).await, none);

    // An address that is no shop is a 404 problem, like every storefront route.
    let res = app.get("/api/v1/store/auth/sign-in-options").header("x-tenant-id", "nosuchshop").send().await.unwrap();
    problem(res, 404).await;
}

#[tokio::test]
async fn a_browser_back_from_the_provider_fetches_its_csrf_token_and_can_change_things() {
    let app = spawn().await;
    let shop = app.tenant("acme").await;
    let other = app.tenant("bolt").await;
    let provider = Provider::start(&app, alice());
    configure(&app, &shop, &provider).await;
    let (browser, res) = login(&app, &shop, "alice").await;
    assert_eq!(res.status(), 302);

    // Signed in by the redirect alone: without the token an unsafe request is refused.
    let res =
        browser.patch(app.url("/api/v1/store/me")).json(&serde_json::json!({"name": "Alice A."})).send().await.unwrap();
    let body = problem(res, 403).await;
    assert!(body["type"].as_str().unwrap().ends_with("/csrf-failed"), "{body}");
    let res = browser.get(app.url("/api/v1/store/me/csrf-token")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let token = res.json::<serde_json::Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let res = browser
        .patch(app.url("/api/v1/store/me"))
        .header("x-csrf-token", &token)
        .json(&serde_json::json!({"name": "Alice A."}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the token is the session's");
    assert_eq!(me(&browser, &app).await["name"], "Alice A.");

    // Nobody else gets one: not anonymous, not this browser at another shop, not a bearer token.
    let res = app.get("/api/v1/store/me/csrf-token").header("x-tenant-id", &shop).send().await.unwrap();
    problem(res, 401).await;
    let res = browser.get(app.url("/api/v1/store/me/csrf-token")).header("x-tenant-id", &other).send().await.unwrap();
    assert!(matches!(res.status().as_u16(), 401 | 403), "another shop: {}", res.status());
    let customer = app.customer(&shop).await;
    let res = app.as_user(reqwest::Method::GET, "/api/v1/store/me/csrf-token", &shop, &customer).send().await.unwrap();
    let body = problem(res, 404).await;
    assert!(body["type"].as_str().unwrap().ends_with("/no-browser-session"), "{body}");
    let staff = app.staff(&shop, &["owner"]).await;
    let res = app.as_user(reqwest::Method::GET, "/api/v1/store/me/csrf-token", &shop, &staff).send().await.unwrap();
    assert!(matches!(res.status().as_u16(), 401 | 403), "staff are no customers: {}", res.status());
}
