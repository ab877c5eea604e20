use crate::support::{problem, TestApp};
use reqwest::Method;
use serde_json::json;

fn create(app: &TestApp, key: &str) -> reqwest::RequestBuilder {
    app.platform(Method::POST, "/api/v1/platform/tenants").header("idempotency-key", key)
}

#[tokio::test]
async fn a_retried_request_gets_the_first_response() {
    let app = TestApp::spawn().await;
    let body = json!({"slug": "acme", "name": "Acme"});
    let first = create(&app, "key-1").json(&body).send().await.unwrap();
    assert_eq!(first.status(), 201);
    assert!(first.headers().get("idempotent-replayed").is_none());
    let first_body = first.text().await.unwrap();

    let again = create(&app, "key-1").json(&body).send().await.unwrap();
    assert_eq!(again.status(), 201, "replayed, not a 409 'tenant exists'");
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.headers()["location"], "/api/v1/platform/tenants/acme");
    assert_eq!(again.text().await.unwrap(), first_body);

    let pg = app.db.connect().await;
    let count: i64 = pg.query_one("SELECT count(*) FROM agora.tenants", &[]).await.unwrap().get(0);
    assert_eq!(count, 1);

    let other = create(&app, "key-1").json(&json!({"slug": "other", "name": "Other"})).send().await.unwrap();
    let problem_body = problem(other, 422).await;
    assert_eq!(problem_body["type"], "https://agora.dev/problems/idempotency-key-reused");

    // A different caller's key of the same name is its own.
    let stranger = app
        .client
        .post(app.url("/api/v1/platform/tenants"))
        .bearer_auth("not-the-operator-token")
        .header("idempotency-key", "key-1")
        .json(&body)
        .send()
        .await
        .unwrap();
    problem(stranger, 401).await;

    // Bad keys are named.
    let long = "k".repeat(300);
    let res = create(&app, &long).json(&body).send().await.unwrap();
    assert_eq!(problem(res, 400).await["errors"][0]["field"], "Idempotency-Key");
}

#[tokio::test]
async fn a_key_still_in_flight_is_a_conflict() {
    let app = TestApp::spawn().await;
    // Hold the advisory lock that provisioning `slow` takes, so the first request stays in flight.
    let blocker = app.db.connect().await;
    blocker.execute("SELECT pg_advisory_lock(hashtext('agora.migrate'), hashtext('t_slow'))", &[]).await.unwrap();

    let body = json!({"slug": "slow", "name": "Slow"});
    let first = tokio::spawn(create(&app, "same").json(&body).send());
    // Wait until the first request has claimed the key.
    let pg = app.db.connect().await;
    crate::support::eventually(std::time::Duration::from_secs(10), || {
        let pg = &pg;
        async move {
            pg.query_opt("SELECT 1 FROM agora.idempotency_keys WHERE key = 'same' AND state = 'in_progress'", &[])
                .await
                .unwrap()
                .is_some()
        }
    })
    .await;
    let second = create(&app, "same").json(&body).send().await.unwrap();
    assert_eq!(problem(second, 409).await["type"], "https://agora.dev/problems/idempotency-key-in-use");

    blocker.execute("SELECT pg_advisory_unlock(hashtext('agora.migrate'), hashtext('t_slow'))", &[]).await.unwrap();
    let first = first.await.unwrap().unwrap();
    assert_eq!(first.status(), 201);
    let third = create(&app, "same").json(&body).send().await.unwrap();
    assert_eq!(third.status(), 201);
    assert_eq!(third.headers()["idempotent-replayed"], "true");
}

#[tokio::test]
async fn keys_are_scoped_to_the_tenant() {
    let app = TestApp::spawn().await;
    let (a, b) = (app.tenant("shop-a").await, app.tenant("shop-b").await);
    let patch = |tenant: &str| {
        app.admin(Method::PATCH, "/api/v1/admin/shop", tenant)
            .header("idempotency-key", "rename-1")
            .json(&json!({"name": "Renamed"}))
    };
    let res_a = patch(&a).send().await.unwrap();
    assert_eq!(res_a.status(), 200);
    let res_b = patch(&b).send().await.unwrap();
    assert_eq!(res_b.status(), 200);
    assert!(
        res_b.headers().get("idempotent-replayed").is_none(),
        "tenant B's request ran, it was not tenant A's replay"
    );
    let replay = patch(&a).send().await.unwrap();
    assert_eq!(replay.headers()["idempotent-replayed"], "true");
    for tenant in [&a, &b] {
        let shop: serde_json::Value =
            app.get("/api/v1/store/shop").header("x-tenant-id", tenant).send().await.unwrap().json().await.unwrap();
        assert_eq!(shop["name"], "Renamed");
    }
    let pg = app.db.connect().await;
    let versions: Vec<i64> = pg
        .query("SELECT version FROM t_shop_a.shop_settings UNION ALL SELECT version FROM t_shop_b.shop_settings", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions, [2, 2], "each shop updated exactly once");
}
