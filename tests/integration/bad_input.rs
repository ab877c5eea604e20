use crate::support::{problem, TestApp};
use reqwest::Method;

#[tokio::test]
async fn bad_requests_are_problems_never_500s() {
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_MAX_BODY_BYTES".into(), "2048".into());
    })
    .await;
    let create = || app.platform(Method::POST, "/api/v1/platform/tenants");

    let body =
        problem(create().header("content-type", "application/json").body("{\"slug\": ").send().await.unwrap(), 400)
            .await;
    assert_eq!(body["type"], "https://agora.dev/problems/malformed-json");

    let body = problem(create().header("content-type", "text/plain").body("{}").send().await.unwrap(), 415).await;
    assert_eq!(body["errors"][0]["field"], "Content-Type");
    problem(create().body("{}").send().await.unwrap(), 415).await;

    let huge = format!("{{\"slug\":\"big\",\"name\":\"{}\"}}", "x".repeat(10_000));
    let body =
        problem(create().header("content-type", "application/json").body(huge.clone()).send().await.unwrap(), 413)
            .await;
    assert_eq!(body["type"], "https://agora.dev/problems/payload-too-large");
    // Also when the body is streamed without a length up front.
    let stream = futures_util::stream::iter(vec![Ok::<_, std::io::Error>(huge.into_bytes())]);
    let res = create()
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    problem(res, 413).await;

    let body = problem(create().json(&serde_json::json!({"slug": 12, "name": "x"})).send().await.unwrap(), 422).await;
    assert!(body["detail"].as_str().unwrap().contains("invalid type"), "{body}");

    for bad in ["UPPER", "a", "-x", "x y", "semi;colon"] {
        let body = problem(app.get("/api/v1/store/shop").header("x-tenant-id", bad).send().await.unwrap(), 400).await;
        assert_eq!(body["errors"][0]["field"], "X-Tenant-ID", "{bad}");
    }
    let res = app
        .get("/api/v1/store/shop")
        .header("x-tenant-id", reqwest::header::HeaderValue::from_bytes(b"caf\xe9").unwrap())
        .send()
        .await
        .unwrap();
    problem(res, 400).await;

    let body = problem(app.get("/no/such/route").send().await.unwrap(), 404).await;
    assert_eq!(body["type"], "https://agora.dev/problems/not-found");
    problem(app.get("/api/v1/store/nothing-here").header("x-tenant-id", "nobody").send().await.unwrap(), 404).await;
    let body = problem(app.client.delete(app.url("/healthz")).send().await.unwrap(), 405).await;
    assert_eq!(body["type"], "https://agora.dev/problems/method-not-allowed");
    problem(app.platform(Method::GET, "/api/v1/platform/tenants?limit=abc").send().await.unwrap(), 400).await;
    problem(
        app.platform(Method::PATCH, "/api/v1/platform/tenants/none")
            .header("if-match", "garbage")
            .json(&serde_json::json!({}))
            .send()
            .await
            .unwrap(),
        400,
    )
    .await;
}
