use crate::support::{problem, TestApp};

async fn limits_apply(redis: bool) {
    let app = TestApp::spawn_with(|o| {
        o.redis = redis;
        o.env.insert("AGORA_RATE_LIMIT_CLIENT_PER_MINUTE".into(), "3".into());
        o.env.insert("AGORA_RATE_LIMIT_TENANT_PER_MINUTE".into(), "5".into());
    })
    .await;
    let (a, b) = (app.tenant("shop-a").await, app.tenant("shop-b").await);
    // Clients are told apart by their credentials: a signed-in staff member each.
    let mut clients = std::collections::HashMap::new();
    for (shop, client) in [(&a, "client-1"), (&a, "client-2"), (&a, "client-3"), (&a, "client-4"), (&b, "client-1")] {
        clients.insert((shop.clone(), client), app.staff(shop, &[]).await.access_token);
    }
    let shop = |tenant: &str, client: &'static str| {
        app.get("/api/v1/store/shop").header("x-tenant-id", tenant).bearer_auth(&clients[&(tenant.to_string(), client)])
    };

    // Per client: the fourth request of one client in a window is refused.
    for _ in 0..3 {
        assert_eq!(shop(&a, "client-1").send().await.unwrap().status(), 200);
    }
    let res = shop(&a, "client-1").send().await.unwrap();
    let retry_after: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(problem(res, 429).await["type"], "https://agora.dev/problems/rate-limited");

    // Per tenant: other clients share shop A's budget of 5 (3 used so far; the request refused
    // for its client did not count).
    assert_eq!(shop(&a, "client-2").send().await.unwrap().status(), 200);
    assert_eq!(shop(&a, "client-3").send().await.unwrap().status(), 200);
    let res = shop(&a, "client-4").send().await.unwrap();
    assert!(problem(res, 429).await["detail"].as_str().unwrap().contains("tenant"));

    // Shop B has budgets of its own.
    assert_eq!(shop(&b, "client-1").send().await.unwrap().status(), 200);
    // Operations endpoints are never limited.
    for _ in 0..10 {
        assert_eq!(app.get("/healthz").send().await.unwrap().status(), 200);
    }
}

#[tokio::test]
async fn rate_limits_in_process() {
    limits_apply(false).await;
}

#[tokio::test]
async fn rate_limits_with_redis() {
    limits_apply(true).await;
}

#[tokio::test]
async fn replicas_share_a_redis_budget() {
    let first = TestApp::spawn_with(|o| {
        o.redis = true;
        o.env.insert("AGORA_RATE_LIMIT_CLIENT_PER_MINUTE".into(), "4".into());
    })
    .await;
    first.tenant("shared").await;
    let client = first.staff("shared", &[]).await.access_token;
    let second_base = first.replica(&[]);
    let hit = |base: String| {
        first
            .client
            .get(format!("{base}/api/v1/store/shop"))
            .header("x-tenant-id", "shared")
            .bearer_auth(&client)
            .send()
    };
    let mut statuses = Vec::new();
    for i in 0..6 {
        let base = if i % 2 == 0 { first.base.clone() } else { second_base.clone() };
        statuses.push(hit(base).await.unwrap().status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429, 429]);
}
