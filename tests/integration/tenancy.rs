use crate::notifications::{free_port, links_to, mail_app, token_of, SmtpSink};
use crate::support::{problem, shipped, TestApp};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn a_shop_is_provisioned_over_the_platform_api_and_serves_its_settings() {
    let app = TestApp::spawn().await;
    let res = app
        .platform(Method::POST, "/api/v1/platform/tenants")
        .json(&json!({"slug": "acme", "name": "Acme Outfitters", "default_currency": "EUR", "locales": ["de-CH", "en"], "domains": ["shop.acme.test"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["location"], "/api/v1/platform/tenants/acme");
    assert_eq!(res.headers()["etag"], "\"1\"");
    let tenant: serde_json::Value = res.json().await.unwrap();
    assert_eq!(tenant["status"], "active");
    assert_eq!(tenant["schema_version"], *shipped("tenant").last().unwrap());
    assert_eq!(tenant["domains"], json!(["shop.acme.test"]));

    // Its schema exists, holds the shop's tables and the seeded settings.
    let pg = app.db.connect().await;
    let row =
        pg.query_one("SELECT name, default_currency, default_locale FROM t_acme.shop_settings", &[]).await.unwrap();
    assert_eq!(
        (row.get::<_, String>(0), row.get::<_, String>(1), row.get::<_, String>(2)),
        ("Acme Outfitters".into(), "EUR".into(), "de-CH".into())
    );

    // Three ways to address it: header, <slug>.<base domain>, custom domain.
    for (name, value) in [("x-tenant-id", "acme"), ("host", "acme.localhost"), ("host", "shop.acme.test:8080")] {
        let res = app.get("/api/v1/store/shop").header(name, value).send().await.unwrap();
        assert_eq!(res.status(), 200, "{name}: {value}");
        let shop: serde_json::Value = res.json().await.unwrap();
        assert_eq!(shop["name"], "Acme Outfitters");
        assert_eq!(shop["locales"], json!(["de-CH", "en"]));
    }
}

#[tokio::test]
async fn unknown_suspended_and_unaddressed_shops_are_problems() {
    let app = TestApp::spawn().await;
    app.tenant("acme").await;

    let body = problem(app.get("/api/v1/store/shop").header("x-tenant-id", "nobody").send().await.unwrap(), 404).await;
    assert_eq!(body["type"], "https://agora.dev/problems/tenant-not-found");
    problem(app.get("/api/v1/store/shop").header("host", "nobody.localhost").send().await.unwrap(), 404).await;
    problem(app.get("/api/v1/store/shop").header("host", "unknown.example.org").send().await.unwrap(), 404).await;
    problem(app.get("/api/v1/store/shop").send().await.unwrap(), 404).await;

    let res = app.platform(Method::POST, "/api/v1/platform/tenants/acme/suspend").send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body = problem(app.get("/api/v1/store/shop").header("x-tenant-id", "acme").send().await.unwrap(), 403).await;
    assert_eq!(body["type"], "https://agora.dev/problems/tenant-suspended");

    let res = app.platform(Method::POST, "/api/v1/platform/tenants/acme/resume").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(app.get("/api/v1/store/shop").header("x-tenant-id", "acme").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn invalid_tenants_name_every_bad_field_and_write_nothing() {
    let app = TestApp::spawn().await;
    let res = app
        .platform(Method::POST, "/api/v1/platform/tenants")
        .json(&json!({"slug": "Not A Slug", "name": "", "default_currency": "euro", "locales": ["xx_YY"], "domains": ["localhost"]}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["slug", "name", "default_currency", "locales[0]", "domains[0]"]);

    let pg = app.db.connect().await;
    let count: i64 = pg.query_one("SELECT count(*) FROM agora.tenants", &[]).await.unwrap().get(0);
    assert_eq!(count, 0, "nothing half-written");

    app.tenant("acme").await;
    let res = app
        .platform(Method::POST, "/api/v1/platform/tenants")
        .json(&json!({"slug": "acme", "name": "Again"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 409).await;
    assert_eq!(body["errors"][0]["field"], "slug");

    let res = app
        .platform(Method::POST, "/api/v1/platform/tenants")
        .json(&json!({"slug": "other", "name": "X", "colour": "red"}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["field"], "colour");
}

#[tokio::test]
async fn the_platform_api_wants_a_logged_in_operator() {
    let app = TestApp::spawn().await;
    problem(app.get("/api/v1/platform/tenants").send().await.unwrap(), 401).await;
    problem(app.get("/api/v1/platform/tenants").bearer_auth("wrong-token-wrong-token").send().await.unwrap(), 401)
        .await;
    // The configured platform token only bootstraps the first operator.
    let bootstrap =
        app.get("/api/v1/platform/tenants").bearer_auth(crate::support::PLATFORM_TOKEN).send().await.unwrap();
    problem(bootstrap, 401).await;
    assert_eq!(app.platform(Method::GET, "/api/v1/platform/tenants").send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn tenant_lists_are_cursor_paginated() {
    let app = TestApp::spawn().await;
    for slug in ["aa", "bb", "cc", "dd", "ee"] {
        app.tenant(slug).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut path = "/api/v1/platform/tenants?limit=2".to_string();
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page: serde_json::Value = app.platform(Method::GET, &path).send().await.unwrap().json().await.unwrap();
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|t| t["slug"].as_str().unwrap().to_string()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(seen, ["aa", "bb", "cc", "dd", "ee"]);
    let body =
        problem(app.platform(Method::GET, "/api/v1/platform/tenants?limit=500").send().await.unwrap(), 422).await;
    assert_eq!(body["errors"][0]["field"], "limit");
    let body =
        problem(app.platform(Method::GET, "/api/v1/platform/tenants?cursor=garbage").send().await.unwrap(), 422).await;
    assert_eq!(body["errors"][0]["field"], "cursor");
}

#[tokio::test]
async fn stale_writes_are_refused_with_412() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let read = app.admin(Method::GET, "/api/v1/admin/shop", &acme).send().await.unwrap();
    let etag = read.headers()["etag"].to_str().unwrap().to_string();
    assert_eq!(etag, "\"1\"");
    let settings: serde_json::Value = read.json().await.unwrap();
    assert_eq!(settings["version"], 1);

    let first = app
        .admin(Method::PATCH, "/api/v1/admin/shop", &acme)
        .header("if-match", &etag)
        .json(&json!({"name": "Renamed"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    assert_eq!(first.headers()["etag"], "\"2\"");
    let second = app
        .admin(Method::PATCH, "/api/v1/admin/shop", &acme)
        .header("if-match", &etag)
        .json(&json!({"name": "Lost update"}))
        .send()
        .await
        .unwrap();
    let body = problem(second, 412).await;
    assert_eq!(body["type"], "https://agora.dev/problems/version-conflict");
    let shop: serde_json::Value =
        app.get("/api/v1/store/shop").header("x-tenant-id", &acme).send().await.unwrap().json().await.unwrap();
    assert_eq!(shop["name"], "Renamed");

    let bad = app
        .admin(Method::PATCH, "/api/v1/admin/shop", &acme)
        .json(&json!({"default_locale": "fr", "timezone": "Mars"}))
        .send()
        .await
        .unwrap();
    let body = problem(bad, 422).await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["default_locale", "timezone"]);

    let tenant = app.platform(Method::GET, "/api/v1/platform/tenants/acme").send().await.unwrap();
    assert_eq!(tenant.headers()["etag"], "\"1\"");
    let renamed = app
        .platform(Method::PATCH, "/api/v1/platform/tenants/acme")
        .header("if-match", "\"0\"")
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    problem(renamed, 412).await;
}

#[tokio::test]
async fn a_shop_created_while_others_migrate_is_complete() {
    let app = TestApp::spawn().await;
    for i in 0..6 {
        app.tenant(&format!("shop{i}")).await;
    }
    let migrate = {
        let state = app.state.clone();
        tokio::spawn(async move { state.migrate(&()).await.map(|r| (r.tenants, r.migrated, r.failed.len())) })
    };
    let create = app.tenant("latecomer");
    let (report, slug) = tokio::join!(migrate, create);
    let (tenants, migrated, failed) = report.unwrap().unwrap();
    assert_eq!(failed, 0);
    assert_eq!(tenants, migrated);
    let pg = app.db.connect().await;
    for slug in (0..6).map(|i| format!("shop{i}")).chain([slug]) {
        let row =
            pg.query_one("SELECT status, schema_version FROM agora.tenants WHERE slug = $1", &[&slug]).await.unwrap();
        assert_eq!(
            (row.get::<_, String>(0), row.get::<_, i32>(1)),
            ("active".into(), *shipped("tenant").last().unwrap()),
            "{slug}"
        );
        let schema = format!("t_{slug}");
        let applied: i64 = pg
            .query_one(&format!("SELECT count(*) FROM \"{schema}\".refinery_schema_history"), &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(applied, shipped("tenant").len() as i64, "{slug}: each migration applied once");
        let settings: i64 =
            pg.query_one(&format!("SELECT count(*) FROM \"{schema}\".shop_settings"), &[]).await.unwrap().get(0);
        assert_eq!(settings, 1);
    }
}

/// The invitation link `to` received over SMTP, and the token in it; checks that the shop's
/// mailbox holds exactly one invitation to them, with the link redacted.
async fn invitation_link(pg: &tokio_postgres::Client, sink: &SmtpSink, shop: &str, to: &str) -> (String, String) {
    let sql = format!(
        "SELECT template_key, body_text FROM t_{shop}.notification_messages WHERE lower(recipient) = lower($1) \
         ORDER BY created_at DESC"
    );
    let rows = pg.query(&sql, &[&to]).await.unwrap();
    assert_eq!(rows.len(), 1, "exactly one invitation to {to}");
    assert_eq!(rows[0].get::<_, String>(0), "staff_invitation");
    let body: String = rows[0].get(1);
    assert!(!body.contains("token="), "the stored email never holds the link: {body}");
    let link = links_to(sink, to, "accept-invitation?token=", 1).await.remove(0);
    let token = token_of(&link);
    (link, token)
}

async fn sign_in_as_owner(app: &TestApp, shop: &str, email: &str, token: String) -> serde_json::Value {
    let set = app
        .client
        .post(app.url("/api/v1/admin/auth/password-reset/confirm"))
        .header("x-tenant-id", shop)
        .json(&json!({"token": token, "password": "the owner's own passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(set.status(), 204);
    let login = app
        .client
        .post(app.url("/api/v1/admin/auth/login"))
        .header("x-tenant-id", shop)
        .json(&json!({"email": email, "password": "the owner's own passphrase", "client": "api"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    login.json().await.unwrap()
}

#[tokio::test]
async fn a_shop_opened_for_an_owner_invites_them_to_run_it() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = mail_app(Some(port), true).await;
    let res = app
        .platform(Method::POST, "/api/v1/platform/tenants")
        .json(&json!({"slug": "acme", "name": "Acme", "owner": {"email": "Olga@Acme.test", "name": "Olga Owner"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let tenant: serde_json::Value = res.json().await.unwrap();
    assert_eq!(tenant["owner_email"], "Olga@Acme.test");

    let pg = app.db.connect().await;
    let (link, token) = invitation_link(&pg, &sink, "acme", "Olga@Acme.test").await;
    assert!(link.starts_with(&app.url("/admin/accept-invitation?token=")), "{link}");
    let subject: String = pg
        .query_one("SELECT subject FROM t_acme.notification_messages WHERE template_key = 'staff_invitation'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(subject, "You are invited to run Acme");
    let login = sign_in_as_owner(&app, "acme", "olga@acme.test", token).await;
    assert_eq!(login["account"]["roles"], json!(["owner"]));
    assert_eq!(login["account"]["name"], "Olga Owner");
    let staff = app
        .get("/api/v1/admin/staff")
        .header("x-tenant-id", "acme")
        .bearer_auth(login["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(staff.status(), 200, "the owner runs the shop");
}

#[tokio::test]
async fn a_bad_owner_is_named_and_opens_no_shop() {
    let app = TestApp::spawn().await;
    let res = app
        .platform(Method::POST, "/api/v1/platform/tenants")
        .json(&json!({"slug": "acme", "name": "Acme", "owner": {"email": "not an email", "name": "x".repeat(201)}}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["owner.email", "owner.name"], "{body}");
    let res = app.platform(Method::GET, "/api/v1/platform/tenants/acme").send().await.unwrap();
    problem(res, 404).await;
    let pg = app.db.connect().await;
    let schemas: i64 = pg
        .query_one("SELECT count(*) FROM information_schema.schemata WHERE schema_name = 't_acme'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(schemas, 0);
}

/// A provisioning cut off before the owner was appointed (only the platform's record exists) is
/// finished by `migrate`, owner and invitation included — and finishing it again invites no one
/// twice.
#[tokio::test]
async fn an_interrupted_provisioning_still_appoints_the_owner() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = mail_app(Some(port), true).await;
    let pg = app.db.connect().await;
    pg.execute(
        "INSERT INTO agora.tenants (id, slug, name, status, schema_name, created_by, modified_by, owner_email) \
         VALUES (gen_random_uuid(), 'beta', 'Beta', 'provisioning', 't_beta', 'test', 'test', 'bea@beta.test')",
        &[],
    )
    .await
    .unwrap();
    app.state.migrate(&()).await.unwrap();
    app.state.migrate(&()).await.unwrap();
    let status: String =
        pg.query_one("SELECT status FROM agora.tenants WHERE slug = 'beta'", &[]).await.unwrap().get(0);
    assert_eq!(status, "active");
    let (_, token) = invitation_link(&pg, &sink, "beta", "bea@beta.test").await;
    let login = sign_in_as_owner(&app, "beta", "bea@beta.test", token).await;
    assert_eq!(login["account"]["roles"], json!(["owner"]));
}
