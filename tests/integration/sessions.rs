//! Browser sessions behave the same whichever store keeps them: the database (no Redis
//! configured) or Redis. Every test here runs against both (`in_database::…` and `in_redis::…`).

use crate::identity::{browser_login, login, Browser};
use crate::support::{problem, TestApp, PASSWORD};
use deadpool_redis::redis::{self, AsyncCommands};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// Runs each named test once per session store.
macro_rules! in_both_stores {
    ($($name:ident),* $(,)?) => {
        mod in_database {
            $(#[tokio::test] async fn $name() { super::$name(false).await })*
        }
        mod in_redis {
            $(#[tokio::test] async fn $name() { super::$name(true).await })*
        }
    };
}

in_both_stores!(
    csrf_protects_cookie_sessions_and_password_change_ends_other_sessions,
    logout_ends_every_session_of_the_customer,
    sessions_end_when_idle_too_long_or_too_old,
    operators_log_in_with_a_session_cookie_guarded_against_csrf,
    a_session_opened_under_credentials_changed_since_is_refused,
    people_see_their_browsers_and_sign_one_out,
);

async fn app(redis: bool) -> TestApp {
    TestApp::spawn_with(|o| o.redis = redis).await
}

/// Where a shop's sessions are stored, looked at from outside the app.
enum Store {
    Database(tokio_postgres::Client, String),
    Redis(redis::aio::MultiplexedConnection, String),
}

impl Store {
    async fn of(app: &TestApp, redis: bool, shop: &str) -> Self {
        if redis {
            let client = redis::Client::open(crate::support::redis_url()).unwrap();
            let tenant = app.context(shop).await.id;
            // The app's key layout: <namespace>:session:shop:<tenant>:<hex sha256 of the id>.
            let prefix = format!("{}:session:shop:{tenant}:", app.db.name);
            Store::Redis(client.get_multiplexed_async_connection().await.unwrap(), prefix)
        } else {
            Store::Database(app.db.connect().await, format!("t_{shop}.sessions"))
        }
    }

    fn digest(browser: &Browser) -> Vec<u8> {
        Sha256::digest(browser.cookie.split_once('=').unwrap().1.as_bytes()).to_vec()
    }

    /// Sets a session's `field` (`last_seen_at` or `expires_at`) to `secs_ago` seconds ago.
    async fn set_time(&self, browser: &Browser, field: &str, secs_ago: i64) {
        match self {
            Store::Database(pg, table) => {
                let sql = format!("UPDATE {table} SET {field} = now() - make_interval(secs => $2) WHERE id_hash = $1");
                let updated = pg.execute(&sql, &[&Self::digest(browser), &(secs_ago as f64)]).await.unwrap();
                assert_eq!(updated, 1);
            }
            Store::Redis(conn, prefix) => {
                let key = format!("{prefix}{}", hex::encode(Self::digest(browser)));
                let millis = chrono::Utc::now().timestamp_millis() - secs_ago * 1000;
                let existed: i64 = conn.clone().hset(&key, field, millis).await.unwrap();
                assert_eq!(existed, 0, "the field was there and is overwritten");
            }
        }
    }

    async fn holds(&self, browser: &Browser) -> bool {
        match self {
            Store::Database(pg, table) => {
                let sql = format!("SELECT count(*) FROM {table} WHERE id_hash = $1");
                pg.query_one(&sql, &[&Self::digest(browser)]).await.unwrap().get::<_, i64>(0) == 1
            }
            Store::Redis(conn, prefix) => {
                let key = format!("{prefix}{}", hex::encode(Self::digest(browser)));
                conn.clone().exists(&key).await.unwrap()
            }
        }
    }
}

async fn csrf_protects_cookie_sessions_and_password_change_ends_other_sessions(redis: bool) {
    let app = app(redis).await;
    let acme = app.tenant("acme").await;
    let owner = app.staff(&acme, &["owner"]).await;
    let (a, b) = (
        browser_login(&app, "admin", &acme, &owner.email).await,
        browser_login(&app, "admin", &acme, &owner.email).await,
    );
    let api: Value = login(&app, "admin", &acme, &owner.email, PASSWORD, "api").await.json().await.unwrap();
    let me = |cookie: &str| app.get("/api/v1/admin/me").header("x-tenant-id", &acme).header("cookie", cookie).send();
    assert_eq!(me(&a.cookie).await.unwrap().status(), 200);
    assert_eq!(me(&b.cookie).await.unwrap().status(), 200);

    let role = json!({"key": "marketing", "name": "Marketing", "permissions": ["notifications.manage"]});
    let post = |csrf: Option<&str>| {
        let req =
            app.client.post(app.url("/api/v1/admin/roles")).header("x-tenant-id", &acme).header("cookie", &a.cookie);
        let req = match csrf {
            Some(token) => req.header("x-csrf-token", token),
            None => req,
        };
        req.json(&role).send()
    };
    let body = problem(post(None).await.unwrap(), 403).await;
    assert_eq!(body["type"], "https://agora.dev/problems/csrf-failed");
    problem(post(Some("wrong")).await.unwrap(), 403).await;
    assert_eq!(post(Some(&a.csrf)).await.unwrap().status(), 200 + 1);

    let changed = app
        .client
        .post(app.url("/api/v1/admin/me/password"))
        .header("x-tenant-id", &acme)
        .header("cookie", &a.cookie)
        .header("x-csrf-token", &a.csrf)
        .json(&json!({"current_password": PASSWORD, "new_password": "a much newer passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), 200);
    let fresh = changed.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert_eq!(me(&fresh).await.unwrap().status(), 200, "this device gets a new session");
    for stale in [&a.cookie, &b.cookie] {
        let res = me(stale).await.unwrap();
        assert_eq!(res.status(), 401, "other sessions ended");
    }
    let token = api["access_token"].as_str().unwrap();
    let res = app.get("/api/v1/admin/me").header("x-tenant-id", &acme).bearer_auth(token).send().await.unwrap();
    assert_eq!(res.status(), 401, "access tokens issued before the change stop working");
    let refresh = app
        .client
        .post(app.url("/api/v1/admin/auth/refresh"))
        .header("x-tenant-id", &acme)
        .json(&json!({"refresh_token": api["refresh_token"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(refresh.status(), 401, "refresh tokens too");
    assert_eq!(login(&app, "admin", &acme, &owner.email, "a much newer passphrase", "api").await.status(), 200);
}

async fn logout_ends_every_session_of_the_customer(redis: bool) {
    let app = app(redis).await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let (a, b) = (
        browser_login(&app, "store", &acme, &customer.email).await,
        browser_login(&app, "store", &acme, &customer.email).await,
    );
    let me = |cookie: &str| app.get("/api/v1/store/me").header("x-tenant-id", &acme).header("cookie", cookie).send();
    let account: Value = me(&b.cookie).await.unwrap().json().await.unwrap();
    assert_eq!(account["email"], customer.email.as_str());
    let out = app
        .client
        .post(app.url("/api/v1/store/auth/logout"))
        .header("x-tenant-id", &acme)
        .header("cookie", &a.cookie)
        .header("x-csrf-token", &a.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert!(out.headers()["set-cookie"].to_str().unwrap().contains("Max-Age=0"), "the cookie is cleared");
    assert_eq!(me(&a.cookie).await.unwrap().status(), 401);
    assert_eq!(me(&b.cookie).await.unwrap().status(), 401);
}

async fn sessions_end_when_idle_too_long_or_too_old(redis: bool) {
    let app = app(redis).await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let (idle, old) = (
        browser_login(&app, "store", &acme, &customer.email).await,
        browser_login(&app, "store", &acme, &customer.email).await,
    );
    let me = |cookie: &str| app.get("/api/v1/store/me").header("x-tenant-id", &acme).header("cookie", cookie).send();
    let store = Store::of(&app, redis, &acme).await;
    store.set_time(&idle, "last_seen_at", 3 * 3600).await;
    store.set_time(&old, "expires_at", 1).await;
    assert_eq!(me(&idle.cookie).await.unwrap().status(), 401, "idle timeout");
    assert_eq!(me(&old.cookie).await.unwrap().status(), 401, "absolute timeout");
    assert!(!store.holds(&idle).await && !store.holds(&old).await, "expired sessions are removed when presented");
}

async fn operators_log_in_with_a_session_cookie_guarded_against_csrf(redis: bool) {
    let app = app(redis).await;
    let res = app
        .client
        .post(app.url("/api/v1/platform/auth/login"))
        .json(&json!({"email": "operator@platform.test", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    assert!(cookie.starts_with("agora_operator_session="));
    let csrf = res.json::<Value>().await.unwrap()["csrf_token"].as_str().unwrap().to_string();
    let list = app.get("/api/v1/platform/tenants").header("cookie", &cookie).send().await.unwrap();
    assert_eq!(list.status(), 200);
    let create = |csrf: Option<&str>, slug: &str| {
        let req = app.client.post(app.url("/api/v1/platform/tenants")).header("cookie", &cookie);
        let req = match csrf {
            Some(token) => req.header("x-csrf-token", token),
            None => req,
        };
        req.json(&json!({"slug": slug, "name": "Shop"})).send()
    };
    problem(create(None, "forged").await.unwrap(), 403).await;
    assert_eq!(create(Some(&csrf), "genuine").await.unwrap().status(), 201);
    let wrong = app
        .client
        .post(app.url("/api/v1/platform/auth/login"))
        .json(&json!({"email": "operator@platform.test", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(wrong, 401).await["type"], "https://agora.dev/problems/invalid-credentials");

    let out = app
        .client
        .post(app.url("/api/v1/platform/auth/logout"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert!(out.status().is_success(), "{}", out.status());
    let after = app.get("/api/v1/platform/tenants").header("cookie", &cookie).send().await.unwrap();
    assert_eq!(after.status(), 401, "logout ends the operator's session");
}

/// A login racing a password change must not leave a session the change missed: a session counts
/// only while the account's credentials are those it was opened under.
async fn a_session_opened_under_credentials_changed_since_is_refused(redis: bool) {
    let app = app(redis).await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let browser = browser_login(&app, "store", &acme, &customer.email).await;
    let me = || app.get("/api/v1/store/me").header("x-tenant-id", &acme).header("cookie", &browser.cookie).send();
    assert_eq!(me().await.unwrap().status(), 200);
    let store = Store::of(&app, redis, &acme).await;
    assert!(store.holds(&browser).await, "the session is kept in the store under test");
    // What a password change committed by another request does, minus deleting the sessions.
    let pg = app.db.connect().await;
    let changed = pg
        .execute("UPDATE t_acme.users SET credentials_changed_at = now() WHERE id::text = $1", &[&customer.user_id])
        .await
        .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(me().await.unwrap().status(), 401);
}

/// With Redis, sessions are shared by every replica and the database keeps none.
#[tokio::test]
async fn replicas_share_redis_sessions_and_the_database_keeps_none() {
    let app = app(true).await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let browser = browser_login(&app, "store", &acme, &customer.email).await;
    let other = app.replica(&[]);
    let me = |base: &str| {
        app.client
            .get(format!("{base}/api/v1/store/me"))
            .header("x-tenant-id", &acme)
            .header("cookie", &browser.cookie)
            .send()
    };
    assert_eq!(me(&app.base).await.unwrap().status(), 200);
    assert_eq!(me(&other).await.unwrap().status(), 200, "the other replica knows the session");
    let pg = app.db.connect().await;
    let rows: i64 = pg.query_one("SELECT count(*) FROM t_acme.sessions", &[]).await.unwrap().get(0);
    assert_eq!(rows, 0);

    let out = app
        .client
        .post(format!("{other}/api/v1/store/auth/logout"))
        .header("x-tenant-id", &acme)
        .header("cookie", &browser.cookie)
        .header("x-csrf-token", &browser.csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 200);
    assert_eq!(me(&app.base).await.unwrap().status(), 401, "logged out on one replica, out on all");
    assert!(!Store::of(&app, true, &acme).await.holds(&browser).await);
}

/// Redis down while sessions live there: a clear 503, not a 500 and not a silent sign-out.
#[tokio::test]
async fn an_unreachable_session_store_answers_503() {
    let app = TestApp::spawn_with(|o| {
        o.redis = true;
        // Nothing listens on port 1; the app starts anyway (pools connect lazily).
        o.env.insert("REDIS_URL".into(), "redis://127.0.0.1:1".into());
    })
    .await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let res = login(&app, "store", &acme, &customer.email, PASSWORD, "browser").await;
    let body = problem(res, 503).await;
    assert_eq!(body["type"], "https://agora.dev/problems/unavailable");
}

/// A customer lists where they are signed in and signs a lost phone out; the others stay.
async fn people_see_their_browsers_and_sign_one_out(redis: bool) {
    let app = app(redis).await;
    let acme = app.tenant("acme").await;
    let (customer, stranger) = (app.customer(&acme).await, app.customer(&acme).await);
    let phone = browser_login(&app, "store", &acme, &customer.email).await;
    let laptop = browser_login_with(&app, &acme, &customer.email, "Mozilla/5.0 (X11; Linux x86_64) Laptop").await;
    let strangers = browser_login(&app, "store", &acme, &stranger.email).await;
    let name = |b: &Browser| hex::encode(&Store::digest(b)[..8]);
    let list = |b: &Browser| {
        let cookie = b.cookie.clone();
        let acme = acme.clone();
        let app = &app;
        async move {
            let res = app.get("/api/v1/store/me/sessions").header("x-tenant-id", acme).header("cookie", cookie).send();
            let res = res.await.unwrap();
            assert_eq!(res.status(), 200);
            res.json::<Vec<Value>>().await.unwrap()
        }
    };
    let mine = list(&laptop).await;
    let mut ids: Vec<&str> = mine.iter().map(|s| s["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    let mut expected = [name(&phone), name(&laptop)];
    expected.sort_unstable();
    assert_eq!(ids, expected, "both of hers, none of the stranger's");
    let current: Vec<&Value> = mine.iter().filter(|s| s["current"] == true).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0]["id"], name(&laptop).as_str());
    assert_eq!(current[0]["ip"], "127.0.0.1");
    assert_eq!(current[0]["user_agent"], "Mozilla/5.0 (X11; Linux x86_64) Laptop", "the browser it was opened with");

    let end = |id: String| {
        app.client
            .delete(app.url(&format!("/api/v1/store/me/sessions/{id}")))
            .header("x-tenant-id", &acme)
            .header("cookie", &laptop.cookie)
            .header("x-csrf-token", &laptop.csrf)
            .send()
    };
    problem(end(name(&strangers)).await.unwrap(), 404).await;
    problem(end("0123456789abcdef".into()).await.unwrap(), 404).await;
    assert_eq!(end(name(&phone)).await.unwrap().status(), 204);
    let me = |b: &Browser| app.get("/api/v1/store/me").header("x-tenant-id", &acme).header("cookie", &b.cookie).send();
    assert_eq!(me(&phone).await.unwrap().status(), 401, "the phone is signed out");
    assert_eq!(me(&laptop).await.unwrap().status(), 200, "this browser is not");
    assert_eq!(me(&strangers).await.unwrap().status(), 200);
    assert_eq!(list(&laptop).await.len(), 1);
    problem(end(name(&phone)).await.unwrap(), 404).await;
}

/// A storefront browser login sending `user_agent`.
async fn browser_login_with(app: &TestApp, shop: &str, email: &str, user_agent: &str) -> Browser {
    let res = app
        .client
        .post(app.url("/api/v1/store/auth/login"))
        .header("x-tenant-id", shop)
        .header("user-agent", user_agent)
        .json(&json!({"email": email, "password": PASSWORD, "client": "browser"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res.headers()["set-cookie"].to_str().unwrap().split(';').next().unwrap().to_string();
    let body: Value = res.json().await.unwrap();
    Browser { cookie, csrf: body["csrf_token"].as_str().unwrap().to_string() }
}

/// A cookie-authenticated write without the session's CSRF token is refused by the route's
/// principal extractor (here the customers module's), and does not claim the Idempotency-Key it
/// carried: the genuine request with that key then runs, once.
#[tokio::test]
async fn a_forged_cookie_write_is_refused_and_claims_no_idempotency_key() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    let browser = browser_login(&app, "store", &acme, &customer.email).await;
    let address =
        json!({"name": "Carla", "line1": "Hauptstr. 1", "city": "Berlin", "postal_code": "10115", "country": "DE"});
    let add = |csrf: Option<&str>| {
        let req = app
            .client
            .post(app.url("/api/v1/store/me/addresses"))
            .header("x-tenant-id", &acme)
            .header("cookie", &browser.cookie)
            .header("idempotency-key", "add-home-address");
        let req = match csrf {
            Some(token) => req.header("x-csrf-token", token),
            None => req,
        };
        req.json(&address).send()
    };
    let forged = problem(add(None).await.unwrap(), 403).await;
    assert_eq!(forged["type"], "https://agora.dev/problems/csrf-failed");
    assert_eq!(add(Some(&browser.csrf)).await.unwrap().status(), 201, "the forged request claimed the key");
    assert_eq!(add(Some(&browser.csrf)).await.unwrap().status(), 201, "replayed");
    let list: Value = app
        .get("/api/v1/store/me/addresses")
        .header("x-tenant-id", &acme)
        .header("cookie", &browser.cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");

    let rename = |csrf: Option<&str>| {
        let req = app
            .client
            .patch(app.url("/api/v1/store/me"))
            .header("x-tenant-id", &acme)
            .header("cookie", &browser.cookie);
        let req = match csrf {
            Some(token) => req.header("x-csrf-token", token),
            None => req,
        };
        req.json(&json!({"name": "Carla C."})).send()
    };
    assert_eq!(problem(rename(None).await.unwrap(), 403).await["type"], "https://agora.dev/problems/csrf-failed");
    assert_eq!(rename(Some(&browser.csrf)).await.unwrap().status(), 200);
}
