//! Identity and access: who may call what, and how accounts, sessions and tokens behave.

use crate::notifications::{free_port, links_to, mail_app, token_of, SmtpSink};
use crate::support::{problem, Credentials, TestApp, PASSWORD, TOKEN_KEY};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Admin operations anyone may call (they authenticate by what they carry) or any signed-in
/// staff member may call on their own account. Every other admin operation must declare a
/// permission, and the walk below proves it is enforced.
const SELF_SERVICE: &[&str] = &[
    "POST /api/v1/admin/auth/login",
    "POST /api/v1/admin/auth/login/mfa",
    "POST /api/v1/admin/auth/refresh",
    "POST /api/v1/admin/auth/logout",
    "POST /api/v1/admin/auth/password-reset/request",
    "POST /api/v1/admin/auth/password-reset/confirm",
    "GET /api/v1/admin/auth/sign-in-options",
    "GET /api/v1/admin/auth/oidc/start",
    "GET /api/v1/admin/auth/oidc/callback",
    "GET /api/v1/admin/me",
    "GET /api/v1/admin/me/csrf-token",
    "GET /api/v1/admin/me/permissions",
    "GET /api/v1/admin/me/sessions",
    "DELETE /api/v1/admin/me/sessions/{id}",
    "POST /api/v1/admin/me/password",
    "POST /api/v1/admin/me/mfa/totp",
    "POST /api/v1/admin/me/mfa/totp/activate",
    "POST /api/v1/admin/me/mfa/disable",
    "POST /api/v1/admin/me/oidc-link",
    // A task is read by its starter and by holders of the permission that started it (stored on
    // the task); refusals are proven in tasks.rs.
    "GET /api/v1/admin/tasks",
    "GET /api/v1/admin/tasks/{id}",
    "POST /api/v1/admin/tasks/{id}/cancel",
    "GET /api/v1/admin/tasks/{id}/result",
];

pub(crate) fn fill_path(template: &str) -> String {
    template
        .split('/')
        .map(|segment| match segment {
            "{key}" => "order_confirmation".to_string(),
            "{locale}" => "en".to_string(),
            "{email}" => "someone@example.com".to_string(),
            s if s.starts_with('{') => uuid::Uuid::now_v7().to_string(),
            s => s.to_string(),
        })
        .collect::<Vec<_>>()
        .join("/")
}

pub(crate) fn request(app: &TestApp, method: &str, path: &str, shop: &str) -> reqwest::RequestBuilder {
    let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
    let body = matches!(method, Method::POST | Method::PUT | Method::PATCH);
    let req = app.client.request(method, app.url(path)).header("x-tenant-id", shop);
    if body {
        req.json(&json!({}))
    } else {
        req
    }
}

#[tokio::test]
async fn every_admin_operation_in_the_spec_is_guarded_by_its_permission() {
    let app = TestApp::spawn().await;
    let (acme, other) = (app.tenant("acme").await, app.tenant("other").await);
    let customer = app.customer(&acme).await;
    let powerless = app.staff(&acme, &[]).await;
    let foreign_owner = app.staff(&other, &["owner"]).await;
    let mut checked = 0;
    for (method, template, op) in crate::support::spec_operations(&app, "/api/v1/admin/").await {
        let method = method.as_str();
        let name = format!("{} {template}", method.to_uppercase());
        let permission = op["security"][0]["staff"][0].as_str();
        let Some(permission) = permission else {
            assert!(SELF_SERVICE.contains(&name.as_str()), "{name} declares no permission");
            continue;
        };
        assert!(agora_kernel::auth::is_permission(permission), "{name}: unknown permission {permission}");
        let path = fill_path(&template);
        let anonymous = request(&app, method, &path, &acme).send().await.unwrap();
        assert_eq!(anonymous.status(), 401, "{name} anonymously");
        let as_customer = request(&app, method, &path, &acme).bearer_auth(&customer.access_token).send().await.unwrap();
        assert_eq!(as_customer.status(), 403, "{name} as a customer");
        let lacking = request(&app, method, &path, &acme).bearer_auth(&powerless.access_token).send().await.unwrap();
        let body = problem(lacking, 403).await;
        assert!(body["detail"].as_str().unwrap().contains(permission), "{name}: {body}");
        let foreign =
            request(&app, method, &path, &acme).bearer_auth(&foreign_owner.access_token).send().await.unwrap();
        assert_eq!(foreign.status(), 401, "{name} with another shop's token");
        checked += 1;
    }
    assert!(checked >= 30, "only {checked} guarded admin operations found");
}

/// `docs/permissions.md` is the role × route matrix, generated from the spec and the built-in
/// roles. Regenerate by running this test with UPDATE_OPENAPI=1.
#[tokio::test]
async fn the_permission_matrix_in_the_docs_is_current() {
    let config = agora::config::Config::load(None, &std::collections::HashMap::new()).unwrap();
    let state =
        agora::app::AppState::build(&config, &secrecy::SecretString::from("host=/nonexistent dbname=none".to_string()))
            .unwrap();
    let spec = agora::app::openapi_document(state).await.unwrap();
    let roles = agora_identity::built_in_roles();
    let mut text = String::from(
        "# Permissions\n\n<!-- Generated from the OpenAPI document and the built-in roles by \
         tests/integration/identity.rs; regenerate with UPDATE_OPENAPI=1 cargo nextest run permission_matrix. -->\n\n\
         Every admin operation requires one permission (its `security` requirement `staff: [<permission>]` in \
         `openapi/openapi.json`). Staff hold the union of their roles' permissions; API keys hold their scopes. \
         Custom roles are any set of these permissions.\n\n## Built-in roles\n\n| permission |",
    );
    for (role, _) in &roles {
        text.push_str(&format!(" {role} |"));
    }
    text.push_str("\n|---|");
    text.push_str(&"---|".repeat(roles.len()));
    text.push('\n');
    for permission in agora_kernel::auth::perm::ALL {
        text.push_str(&format!("| `{permission}` |"));
        for (_, permissions) in &roles {
            text.push_str(if permissions.contains(permission) { " ✓ |" } else { " |" });
        }
        text.push('\n');
    }
    text.push_str("\n## Operations\n\n| operation | permission |\n|---|---|\n");
    let mut rows = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let requirement = match (op["security"][0]["staff"][0].as_str(), op["security"][0].get("operator")) {
                (Some(p), _) => format!("`{p}`"),
                (None, Some(_)) => "platform operator".to_string(),
                (None, None) if path.starts_with("/api/v1/admin/") => {
                    "any signed-in staff member, or none (login)".into()
                }
                _ => continue,
            };
            rows.push(format!("| `{} {path}` | {requirement} |\n", method.to_uppercase()));
        }
    }
    rows.sort();
    text.extend(rows);
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/permissions.md");
    if std::env::var("UPDATE_OPENAPI").is_ok_and(|v| v == "1") {
        std::fs::write(&path, &text).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(committed == text, "docs/permissions.md is stale: run this test with UPDATE_OPENAPI=1");
}

fn b64(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap())
}

fn sign(key: &[u8], header: &Value, claims: &Value) -> String {
    let input = format!("{}.{}", b64(header), b64(claims));
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

#[tokio::test]
async fn forged_and_stale_access_tokens_are_refused() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let owner = app.staff(&acme, &["owner"]).await;
    let tenant_id = app.context(&acme).await.id;
    let kid = hex::encode(&Sha256::digest(TOKEN_KEY.as_bytes())[..8]);
    let now = chrono::Utc::now().timestamp();
    let pg = app.db.connect().await;
    let changed: chrono::DateTime<chrono::Utc> = pg
        .query_one("SELECT credentials_changed_at FROM t_acme.users WHERE id = $1::text::uuid", &[&owner.user_id])
        .await
        .unwrap()
        .get(0);
    let cv = changed.timestamp_micros();
    let claims = |aud: &str, iss: &str, exp: i64| json!({"iss": iss, "sub": owner.user_id, "aud": aud, "iat": now, "exp": exp, "kind": "staff", "cv": cv});
    let audience = format!("tenant:{tenant_id}");
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": kid});
    let key = TOKEN_KEY.as_bytes();
    let good = sign(key, &header, &claims(&audience, "agora", now + 300));
    let shop = |token: String| app.get("/api/v1/admin/shop").header("x-tenant-id", &acme).bearer_auth(token).send();
    assert_eq!(shop(good.clone()).await.unwrap().status(), 200, "a well-formed token of ours works");

    let unsigned =
        format!("{}.{}.", b64(&json!({"alg": "none", "typ": "JWT"})), b64(&claims(&audience, "agora", now + 300)));
    let forged = [
        ("alg none", unsigned),
        ("wrong key", sign(b"another key entirely, 32 bytes long", &header, &claims(&audience, "agora", now + 300))),
        ("other algorithm", sign(key, &json!({"alg": "HS512", "kid": kid}), &claims(&audience, "agora", now + 300))),
        (
            "wrong audience",
            sign(key, &header, &claims("tenant:00000000-0000-0000-0000-000000000000", "agora", now + 300)),
        ),
        ("wrong issuer", sign(key, &header, &claims(&audience, "someone-else", now + 300))),
        ("expired", sign(key, &header, &claims(&audience, "agora", now - 1))),
        ("tampered", format!("{good}x")),
        ("older credentials", {
            let mut old = claims(&audience, "agora", now + 300);
            old["cv"] = json!(cv - 1);
            sign(key, &header, &old)
        }),
        ("garbage", "not-a-token".to_string()),
    ];
    for (what, token) in forged {
        let body = problem(shop(token).await.unwrap(), 401).await;
        assert_eq!(body["type"], "https://agora.dev/problems/unauthorized", "{what}");
    }
}

pub(crate) async fn login(
    app: &TestApp,
    area: &str,
    shop: &str,
    email: &str,
    password: &str,
    client: &str,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!("/api/v1/{area}/auth/login")))
        .header("x-tenant-id", shop)
        .json(&json!({"email": email, "password": password, "client": client}))
        .send()
        .await
        .unwrap()
}

/// A browser session: the cookie to send back and the CSRF token.
pub(crate) struct Browser {
    pub cookie: String,
    pub csrf: String,
}

pub(crate) async fn browser_login(app: &TestApp, area: &str, shop: &str, email: &str) -> Browser {
    let res = login(app, area, shop, email, PASSWORD, "browser").await;
    assert_eq!(res.status(), 200);
    let set_cookie = res.headers()["set-cookie"].to_str().unwrap().to_string();
    for attribute in ["HttpOnly", "Secure", "SameSite=Lax"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let id = cookie.split_once('=').unwrap().1;
    assert!(URL_SAFE_NO_PAD.decode(id).unwrap().len() >= 16, "at least 128 random bits");
    let body: Value = res.json().await.unwrap();
    Browser { cookie, csrf: body["csrf_token"].as_str().unwrap().to_string() }
}

#[tokio::test]
async fn refresh_tokens_rotate_and_their_reuse_revokes_the_family() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let owner = app.staff(&acme, &["owner"]).await;
    let first: Value = login(&app, "admin", &acme, &owner.email, PASSWORD, "api").await.json().await.unwrap();
    let refresh = |token: &str| {
        app.client
            .post(app.url("/api/v1/admin/auth/refresh"))
            .header("x-tenant-id", &acme)
            .json(&json!({"refresh_token": token}))
            .send()
    };
    let old = first["refresh_token"].as_str().unwrap();
    let second = refresh(old).await.unwrap();
    assert_eq!(second.status(), 200);
    let second: Value = second.json().await.unwrap();
    let newer = second["refresh_token"].as_str().unwrap();
    assert_ne!(newer, old);
    let access = second["access_token"].as_str().unwrap();
    let shop = app.get("/api/v1/admin/shop").header("x-tenant-id", &acme).bearer_auth(access).send().await.unwrap();
    assert_eq!(shop.status(), 200);

    let reused = problem(refresh(old).await.unwrap(), 401).await;
    assert_eq!(reused["type"], "https://agora.dev/problems/refresh-token-reused");
    problem(refresh(newer).await.unwrap(), 401).await;
    let audit: Value =
        app.admin(Method::GET, "/api/v1/admin/audit-log", &acme).send().await.unwrap().json().await.unwrap();
    assert!(audit["items"].as_array().unwrap().iter().any(|e| e["action"] == "token.reuse_detected"), "{audit}");
}

#[tokio::test]
async fn logins_do_not_tell_unknown_accounts_from_wrong_passwords_and_are_throttled() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let wrong = login(&app, "store", &acme, &customer.email, "not the password", "api").await;
    let unknown = login(&app, "store", &acme, "nobody@example.com", "not the password", "api").await;
    let (wrong, unknown) = (problem(wrong, 401).await, problem(unknown, 401).await);
    assert_eq!(wrong, unknown, "identical answers");
    assert_eq!(wrong["type"], "https://agora.dev/problems/invalid-credentials");

    // Four more failures use up the free ones; then even the right password must wait.
    for _ in 0..4 {
        problem(login(&app, "store", &acme, &customer.email, "not the password", "api").await, 401).await;
    }
    let throttled = login(&app, "store", &acme, &customer.email, PASSWORD, "api").await;
    let retry_after: u64 = throttled.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    assert_eq!(problem(throttled, 429).await["type"], "https://agora.dev/problems/login-throttled");
    // Unknown accounts are throttled the same way, so the throttle reveals nothing either.
    for _ in 0..4 {
        problem(login(&app, "store", &acme, "nobody@example.com", "x", "api").await, 401).await;
    }
    problem(login(&app, "store", &acme, "nobody@example.com", "x", "api").await, 429).await;
    // Other accounts are not affected.
    let other = app.customer(&acme).await;
    assert_eq!(login(&app, "store", &acme, &other.email, PASSWORD, "api").await.status(), 200);
    let pg = app.db.connect().await;
    let failures: i32 = pg
        .query_one(
            "SELECT attempts FROM agora.throttles WHERE key = $1",
            &[&format!("account:customer:{}", customer.email)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(failures, 5);
    let audit: Value =
        app.admin(Method::GET, "/api/v1/admin/audit-log?limit=100", &acme).send().await.unwrap().json().await.unwrap();
    let failed = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "login.failed").count();
    assert_eq!(failed, 10);
}

#[tokio::test]
async fn passwords_are_checked_and_stored_as_argon2id() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let register = |email: &str, password: &str| {
        app.client
            .post(app.url("/api/v1/store/auth/register"))
            .header("x-tenant-id", &acme)
            .json(&json!({"email": email, "password": password}))
            .send()
    };
    for (password, why) in [("short", "at least 8"), ("password123", "common"), ("Iloveyou1", "common")] {
        let body = problem(register("a@example.com", password).await.unwrap(), 422).await;
        assert_eq!(body["errors"][0]["field"], "password");
        if why == "at least 8" {
            assert!(body["errors"][0]["message"].as_str().unwrap().contains(why), "{body}");
        }
    }
    problem(register("not-an-email", PASSWORD).await.unwrap(), 422).await;
    let long = "Tr0ub4dor&3-".repeat(9)[..100].to_string();
    let first = register("long@example.com", &long).await.unwrap();
    assert_eq!(first.status(), 202);
    let again = register("LONG@example.com", PASSWORD).await.unwrap();
    assert_eq!(again.status(), 202, "a taken email gets the same answer");
    assert_eq!(first.text().await.unwrap(), again.text().await.unwrap());
    let emails: Vec<String> = emails_to(&app, &acme, "long@example.com")
        .await
        .iter()
        .map(|e| e["template"].as_str().unwrap().to_string())
        .collect();
    assert!(emails.contains(&"password_reset".to_string()), "the owner is told instead: {emails:?}");
    assert_eq!(login(&app, "store", &acme, "long@example.com", &long, "api").await.status(), 200);
    problem(login(&app, "store", &acme, "long@example.com", &long[..99], "api").await, 401).await;
    let pg = app.db.connect().await;
    let hash: String = pg
        .query_one("SELECT password_hash FROM t_acme.users WHERE email = 'long@example.com'", &[])
        .await
        .unwrap()
        .get(0);
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
}

async fn emails_to(app: &TestApp, shop: &str, to: &str) -> Vec<Value> {
    let list: Value = app
        .admin(Method::GET, &format!("/api/v1/admin/notifications/messages?recipient={to}"), shop)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut out = Vec::new();
    for summary in list["items"].as_array().unwrap() {
        let id = summary["id"].as_str().unwrap();
        let res =
            app.admin(Method::GET, &format!("/api/v1/admin/notifications/messages/{id}"), shop).send().await.unwrap();
        out.push(res.json().await.unwrap());
    }
    out
}

#[tokio::test]
async fn email_verification_and_password_reset_use_single_use_links() {
    // Links reach their recipient only (over SMTP); the shop's mailbox shows them redacted.
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = mail_app(Some(port), true).await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let emails = emails_to(&app, &acme, &customer.email).await;
    assert_eq!(emails.len(), 1);
    assert_eq!(emails[0]["template"], "email_verification");
    assert!(!emails[0]["body_text"].as_str().unwrap().contains("token="), "{}", emails[0]);
    let verify = |token: String| {
        app.client
            .post(app.url("/api/v1/store/auth/verify-email"))
            .header("x-tenant-id", &acme)
            .json(&json!({"token": token}))
            .send()
    };
    let link = links_to(&sink, &customer.email, "verify-email?token=", 1).await.remove(0);
    assert!(link.starts_with(&app.url("/verify-email?token=")), "the configured address: {link}");
    let token = token_of(&link);
    assert_eq!(verify(token.clone()).await.unwrap().status(), 204);
    problem(verify(token).await.unwrap(), 422).await;
    let me: Value =
        app.as_user(Method::GET, "/api/v1/store/me", &acme, &customer).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["email_verified"], true);

    let request = |email: &str| {
        app.client
            .post(app.url("/api/v1/store/auth/password-reset/request"))
            .header("x-tenant-id", &acme)
            .json(&json!({"email": email}))
            .send()
    };
    let known = request(&customer.email).await.unwrap();
    let unknown = request("nobody@example.com").await.unwrap();
    assert_eq!((known.status().as_u16(), unknown.status().as_u16()), (202, 202));
    assert_eq!(known.text().await.unwrap(), unknown.text().await.unwrap(), "no enumeration");
    let confirm = |token: String, password: &str| {
        app.client
            .post(app.url("/api/v1/store/auth/password-reset/confirm"))
            .header("x-tenant-id", &acme)
            .json(&json!({"token": token, "password": password}))
            .send()
    };
    let token = token_of(&links_to(&sink, &customer.email, "reset-password?token=", 1).await[0]);
    assert_eq!(confirm(token.clone(), "a brand new passphrase").await.unwrap().status(), 204);
    problem(confirm(token, "another new passphrase").await.unwrap(), 422).await;
    assert_eq!(login(&app, "store", &acme, &customer.email, "a brand new passphrase", "api").await.status(), 200);
    problem(login(&app, "store", &acme, &customer.email, PASSWORD, "api").await, 401).await;
    // The owner of the mailbox hears of the change, in case it was not them.
    let warnings: Vec<Value> = emails_to(&app, &acme, &customer.email)
        .await
        .into_iter()
        .filter(|e| e["template"] == "password_changed")
        .collect();
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]["body_text"].as_str().unwrap().contains("was changed on"), "{}", warnings[0]);
    assert_eq!(warnings[0]["subject"], "Your password at Shop acme was changed", "the shop's name, not its slug");
}

#[tokio::test]
async fn roles_and_api_keys_grant_exactly_their_permissions() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let catalog = app.staff(&acme, &["catalog_manager"]).await;
    let rename = |who: &Credentials| {
        app.as_user(Method::PATCH, "/api/v1/admin/shop", &acme, who).json(&json!({"name": "Renamed"})).send()
    };
    problem(rename(&catalog).await.unwrap(), 403).await;
    let role = json!({"key": "settings_editor", "name": "Settings editor", "permissions": ["settings.manage"]});
    assert_eq!(app.admin(Method::POST, "/api/v1/admin/roles", &acme).json(&role).send().await.unwrap().status(), 201);
    let assign = app
        .admin(Method::PUT, &format!("/api/v1/admin/staff/{}/roles", catalog.user_id), &acme)
        .json(&json!({"roles": ["catalog_manager", "settings_editor"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(assign.status(), 200);
    assert_eq!(rename(&catalog).await.unwrap().status(), 200, "role changes apply at once");
    let bad = app
        .admin(Method::POST, "/api/v1/admin/roles", &acme)
        .json(&json!({"key": "x1", "name": "X", "permissions": ["root"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(bad, 422).await["errors"][0]["field"], "permissions");
    problem(app.admin(Method::DELETE, "/api/v1/admin/roles/owner", &acme).send().await.unwrap(), 409).await;

    let created = app
        .admin(Method::POST, "/api/v1/admin/api-keys", &acme)
        .json(&json!({"name": "ERP", "scopes": ["shop.read"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.unwrap();
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("agora_key_"));
    let read = |key: &str| app.get("/api/v1/admin/shop").header("x-tenant-id", &acme).header("x-api-key", key).send();
    assert_eq!(read(&key).await.unwrap().status(), 200);
    let bearer = app.get("/api/v1/admin/shop").header("x-tenant-id", &acme).bearer_auth(&key).send().await.unwrap();
    assert_eq!(bearer.status(), 200, "also as a bearer token");
    let write = app
        .client
        .patch(app.url("/api/v1/admin/shop"))
        .header("x-tenant-id", &acme)
        .header("x-api-key", &key)
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    problem(write, 403).await;
    let listed: Value =
        app.admin(Method::GET, "/api/v1/admin/api-keys", &acme).send().await.unwrap().json().await.unwrap();
    assert!(listed[0]["key"].is_null(), "shown once");
    assert!(listed[0]["last_used_at"].is_string());
    let pg = app.db.connect().await;
    let stored: Vec<u8> = pg.query_one("SELECT key_hash FROM t_acme.api_keys", &[]).await.unwrap().get(0);
    assert_eq!(stored, Sha256::digest(key.as_bytes()).to_vec(), "stored hashed");
    let id = created["id"].as_str().unwrap();
    assert_eq!(
        app.admin(Method::DELETE, &format!("/api/v1/admin/api-keys/{id}"), &acme).send().await.unwrap().status(),
        204
    );
    problem(read(&key).await.unwrap(), 401).await;

    let audit: Value =
        app.admin(Method::GET, "/api/v1/admin/audit-log?limit=100", &acme).send().await.unwrap().json().await.unwrap();
    let actions: Vec<&str> = audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["role.created", "roles.assigned", "api_key.created", "api_key.revoked", "staff.invited"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
}

#[tokio::test]
async fn disabling_staff_ends_their_access_and_invites_mail_a_link() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let member = app.staff(&acme, &["read_only"]).await;
    let read = || app.as_user(Method::GET, "/api/v1/admin/shop", &acme, &member).send();
    assert_eq!(read().await.unwrap().status(), 200);
    let disabled = app
        .admin(Method::POST, &format!("/api/v1/admin/staff/{}/disable", member.user_id), &acme)
        .send()
        .await
        .unwrap();
    assert_eq!(disabled.status(), 200);
    problem(read().await.unwrap(), 401).await;
    problem(login(&app, "admin", &acme, &member.email, PASSWORD, "api").await, 401).await;

    let invited = app
        .admin(Method::POST, "/api/v1/admin/staff", &acme)
        .json(&json!({"email": "new.hire@acme.test", "name": "New Hire", "roles": ["support"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(invited.status(), 201);
    let emails = emails_to(&app, &acme, "new.hire@acme.test").await;
    assert_eq!(emails[0]["template"], "staff_invitation");
    let body = emails[0]["body_text"].as_str().unwrap();
    assert!(body.contains("72 hours") && !body.contains("token="), "the link goes to the invitee only: {body}");
    let staff: Value = app.admin(Method::GET, "/api/v1/admin/staff", &acme).send().await.unwrap().json().await.unwrap();
    let items = staff["items"].as_array().unwrap();
    assert_eq!(items.len(), 3, "owner, disabled member, new hire");

    // The only owner can neither disable themselves nor give up the role.
    let owner = items.iter().find(|s| s["roles"][0] == "owner").unwrap()["id"].as_str().unwrap().to_string();
    let res = app.admin(Method::POST, &format!("/api/v1/admin/staff/{owner}/disable"), &acme).send().await.unwrap();
    assert_eq!(problem(res, 409).await["type"], "https://agora.dev/problems/last-owner");
    let res = app
        .admin(Method::PUT, &format!("/api/v1/admin/staff/{owner}/roles"), &acme)
        .json(&json!({"roles": ["admin"]}))
        .send()
        .await
        .unwrap();
    problem(res, 409).await;
}

#[tokio::test]
async fn the_platform_token_bootstraps_only_the_first_operator() {
    let app = TestApp::spawn_with(|_| {}).await;
    // The harness already created an operator: the bootstrap token is spent.
    let create = |token: &str, email: &str| {
        app.client
            .post(app.url("/api/v1/platform/operators"))
            .bearer_auth(token)
            .json(&json!({"email": email, "password": PASSWORD}))
            .send()
    };
    problem(create(crate::support::PLATFORM_TOKEN, "second@platform.test").await.unwrap(), 401).await;
    assert_eq!(create(&app.operator_token, "second@platform.test").await.unwrap().status(), 201);
    let res = app
        .client
        .post(app.url("/api/v1/platform/auth/login"))
        .json(&json!({"email": "second@platform.test", "password": PASSWORD, "client": "api"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/platform/tenants").bearer_auth(token).send().await.unwrap().status(), 200);
    // Shop tokens are not platform tokens, and the other way round.
    let acme = app.tenant("acme").await;
    let owner = app.staff(&acme, &["owner"]).await;
    problem(app.get("/api/v1/platform/tenants").bearer_auth(&owner.access_token).send().await.unwrap(), 401).await;
    problem(app.get("/api/v1/admin/shop").header("x-tenant-id", &acme).bearer_auth(token).send().await.unwrap(), 401)
        .await;
}

#[tokio::test]
async fn a_fresh_platform_is_bootstrapped_with_the_platform_token() {
    let app = TestApp::spawn().await;
    app.db.connect().await.batch_execute("DELETE FROM agora.operators").await.unwrap();
    let res = app
        .client
        .post(app.url("/api/v1/platform/operators"))
        .bearer_auth(crate::support::PLATFORM_TOKEN)
        .json(&json!({"email": "first@platform.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
}

#[tokio::test]
async fn customers_keep_an_address_book_with_one_default_of_each_kind() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let (carla, other) = (app.customer(&acme).await, app.customer(&acme).await);
    let home = json!({"name": "Carla Customer", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115",
                      "country": "de", "default_shipping": true, "default_billing": true});
    let add = |who: &Credentials, body: &Value| {
        app.as_user(Method::POST, "/api/v1/store/me/addresses", &acme, who).json(body).send()
    };
    let res = add(&carla, &home).await.unwrap();
    assert_eq!(res.status(), 201);
    let home: Value = res.json().await.unwrap();
    assert_eq!(home["country"], "DE");
    let office = json!({"name": "Carla Customer", "company": "Acme GmbH", "line1": "Werkstr. 9", "city": "Hamburg",
                        "postal_code": "20095", "country": "DE", "default_shipping": true});
    let office: Value = add(&carla, &office).await.unwrap().json().await.unwrap();
    let bad = add(&carla, &json!({"name": "X", "line1": "Y", "city": "Z", "country": "Germany"})).await.unwrap();
    let fields: Vec<String> = problem(bad, 422).await["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(fields, ["postal_code", "country"]);

    let list = |who: &Credentials| app.as_user(Method::GET, "/api/v1/store/me/addresses", &acme, who).send();
    let book: Vec<Value> = list(&carla).await.unwrap().json().await.unwrap();
    assert_eq!(book.len(), 2);
    assert_eq!(
        (book[0]["default_shipping"].as_bool(), book[0]["default_billing"].as_bool()),
        (Some(false), Some(true))
    );
    assert_eq!(book[1]["default_shipping"], true, "the newer default moved");
    let theirs: Vec<Value> = list(&other).await.unwrap().json().await.unwrap();
    assert!(theirs.is_empty(), "address books are private");

    let path = format!("/api/v1/store/me/addresses/{}", office["id"].as_str().unwrap());
    let foreign =
        app.as_user(Method::PATCH, &path, &acme, &other).json(&json!({"city": "Bremen"})).send().await.unwrap();
    problem(foreign, 404).await;
    let moved = app
        .as_user(Method::PATCH, &path, &acme, &carla)
        .header("if-match", "\"1\"")
        .json(&json!({"city": "Bremen"}))
        .send()
        .await
        .unwrap();
    assert_eq!(moved.status(), 200);
    let stale = app
        .as_user(Method::PATCH, &path, &acme, &carla)
        .header("if-match", "\"1\"")
        .json(&json!({"city": "Kiel"}))
        .send()
        .await
        .unwrap();
    problem(stale, 412).await;
    assert_eq!(app.as_user(Method::DELETE, &path, &acme, &carla).send().await.unwrap().status(), 204);
    let book: Vec<Value> = list(&carla).await.unwrap().json().await.unwrap();
    assert_eq!(book.len(), 1);

    let renamed: Value = app
        .as_user(Method::PATCH, "/api/v1/store/me", &acme, &carla)
        .json(&json!({"name": "Carla C.", "locale": "de"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(renamed["name"], "Carla C.");
    problem(app.get("/api/v1/store/me/addresses").header("x-tenant-id", &acme).send().await.unwrap(), 401).await;
}

#[tokio::test]
async fn nobody_hands_out_permissions_they_do_not_hold() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let role = json!({"key": "hr", "name": "HR", "permissions": ["staff.manage", "shop.read"]});
    assert_eq!(app.admin(Method::POST, "/api/v1/admin/roles", &acme).json(&role).send().await.unwrap().status(), 201);
    let hr = app.staff(&acme, &["hr"]).await;
    let own_roles = format!("/api/v1/admin/staff/{}/roles", hr.user_id);
    let escalate =
        app.as_user(Method::PUT, &own_roles, &acme, &hr).json(&json!({"roles": ["hr", "owner"]})).send().await.unwrap();
    assert_eq!(problem(escalate, 403).await["type"], "https://agora.dev/problems/cannot-grant");
    let invite = app
        .as_user(Method::POST, "/api/v1/admin/staff", &acme, &hr)
        .json(&json!({"email": "admin@acme.test", "roles": ["admin"]}))
        .send()
        .await
        .unwrap();
    problem(invite, 403).await;
    let fine = app
        .as_user(Method::POST, "/api/v1/admin/staff", &acme, &hr)
        .json(&json!({"email": "viewer@acme.test", "roles": ["read_only"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(fine.status(), 201, "read_only holds nothing HR lacks");
    let admin = app.staff(&acme, &["admin"]).await;
    let key = app
        .as_user(Method::POST, "/api/v1/admin/api-keys", &acme, &hr)
        .json(&json!({"name": "x", "scopes": ["shop.read"]}))
        .send()
        .await
        .unwrap();
    problem(key, 403).await;
    let key = app
        .as_user(Method::POST, "/api/v1/admin/api-keys", &acme, &admin)
        .json(&json!({"name": "x", "scopes": ["shop.read", "webhooks.manage"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), 201);
}

#[tokio::test]
async fn the_caller_is_recorded_on_the_request_log_line() {
    let db = crate::support::TestDatabase::create().await;
    let env = [("DATABASE_URL", db.url.as_str()), ("AGORA_TOKEN_KEY", TOKEN_KEY)];
    crate::support::create_operator_with_cli(&env, "ops@platform.test").await;
    let mut agora = crate::support::AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0", "--workers", "0"], &env);
    let base = agora.wait_listening().await;
    let login: Value = reqwest::Client::new()
        .post(format!("{base}/api/v1/platform/auth/login"))
        .json(&json!({"email": "ops@platform.test", "password": PASSWORD, "client": "api"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let res = reqwest::Client::new()
        .get(format!("{base}/api/v1/platform/tenants"))
        .bearer_auth(login["access_token"].as_str().unwrap())
        .header("x-request-id", "who-am-i")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let find = || {
        agora
            .log_lines()
            .into_iter()
            .filter_map(|l| serde_json::from_str::<Value>(&l).ok())
            .find(|v| v["span"]["request_id"] == "who-am-i" && v["message"] == "request completed")
    };
    crate::support::eventually(std::time::Duration::from_secs(10), || async { find().is_some() }).await;
    let expected = format!("operator:{}", login["operator"]["id"].as_str().unwrap());
    assert_eq!(find().unwrap()["span"]["user"], expected.as_str());
}

#[tokio::test]
async fn the_audit_log_narrows_by_action_actor_subject_and_time() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    problem(login(&app, "store", &acme, &customer.email, "not the password", "api").await, 401).await;
    let role = json!({"key": "marketing", "name": "Marketing", "permissions": ["notifications.manage"]});
    assert_eq!(app.admin(Method::POST, "/api/v1/admin/roles", &acme).json(&role).send().await.unwrap().status(), 201);
    let list = |query: String| {
        let app = &app;
        let acme = acme.clone();
        async move {
            let res = app.admin(Method::GET, &format!("/api/v1/admin/audit-log?limit=100&{query}"), &acme).send().await;
            let page: Value = res.unwrap().json().await.unwrap();
            page["items"].as_array().unwrap().clone()
        }
    };
    let actions = |items: &[Value]| items.iter().map(|e| e["action"].as_str().unwrap().to_string()).collect::<Vec<_>>();

    let all = list(String::new()).await;
    assert!(actions(&all).len() >= 4, "{all:?}");
    let logins = actions(&list("action=login.".into()).await);
    assert!(!logins.is_empty() && logins.iter().all(|a| a.starts_with("login.")), "{logins:?}");
    assert!(logins.contains(&"login.failed".to_string()) && logins.contains(&"login.succeeded".to_string()));
    assert_eq!(actions(&list("action=login.failed".into()).await), ["login.failed"]);
    assert!(list("action=login".into()).await.is_empty(), "no dot: one exact action");
    let about_her = list(format!("subject=user:{}", customer.user_id)).await;
    assert!(!about_her.is_empty() && about_her.iter().all(|e| e["subject"] == format!("user:{}", customer.user_id)));
    let by_anonymous = actions(&list("actor=anonymous".into()).await);
    assert!(by_anonymous.contains(&"login.failed".to_string()), "{by_anonymous:?}");
    assert!(by_anonymous.iter().all(|a| a != "role.created"));

    let newest = all[0]["occurred_at"].as_str().unwrap();
    let later = list(format!("since={}", urlencode(newest))).await;
    assert!(later.iter().any(|e| e["id"] == all[0]["id"]), "since is inclusive");
    assert!(list("since=2999-01-01T00:00:00Z".into()).await.is_empty());
    assert_eq!(list("until=2000-01-01T00:00:00Z".into()).await.len(), 0);
    assert_eq!(list("since=2000-01-01T00:00:00Z".into()).await.len(), all.len());
    let bad = app.admin(Method::GET, "/api/v1/admin/audit-log?since=yesterday", &acme).send().await.unwrap();
    assert_eq!(problem(bad, 422).await["errors"][0]["field"], "since");
}

fn urlencode(text: &str) -> String {
    text.replace('+', "%2B").replace(':', "%3A")
}
