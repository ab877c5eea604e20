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

/// PostgreSQL cannot store NUL in `text` or `jsonb`; wherever it comes in — path, query or JSON
/// body, of any route — the caller gets a 422 naming the field, and nothing is written.
#[tokio::test]
async fn text_postgres_cannot_store_is_a_422_naming_the_field_wherever_it_comes_in() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let field = |body: &serde_json::Value| body["errors"][0]["field"].as_str().unwrap_or_default().to_string();

    // The query filter that reached PostgreSQL and came back as a 500.
    let res = app
        .admin(Method::GET, "/api/v1/admin/notifications/messages?limit=5&recipient=a%00b@example.com", &acme)
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["type"], "https://agora.dev/problems/validation");
    assert_eq!(field(&body), "recipient", "{body}");

    // A path parameter, named as the route names it.
    let body = problem(app.platform(Method::GET, "/api/v1/platform/tenants/ac%00me").send().await.unwrap(), 422).await;
    assert_eq!(field(&body), "slug", "{body}");

    // JSON bodies: a top-level string, a string inside an array, an object key.
    let create = |body: serde_json::Value| app.platform(Method::POST, "/api/v1/platform/tenants").json(&body);
    let body =
        problem(create(serde_json::json!({"slug": "nul", "name": "Nul\u{0}Shop"})).send().await.unwrap(), 422).await;
    assert_eq!(field(&body), "name", "{body}");
    let res =
        create(serde_json::json!({"slug": "nul", "name": "Nul", "locales": ["en", "d\u{0}e"]})).send().await.unwrap();
    assert_eq!(field(&problem(res, 422).await), "locales[1]");
    let tenants: serde_json::Value =
        app.platform(Method::GET, "/api/v1/platform/tenants").send().await.unwrap().json().await.unwrap();
    assert!(!tenants.to_string().contains("\"nul\""), "nothing was written: {tenants}");

    // A storefront write, anonymous: refused before anything else looks at it.
    let res = app
        .client
        .post(app.url("/api/v1/store/auth/register"))
        .header("x-tenant-id", &acme)
        .json(&serde_json::json!({"email": "c@example.com", "password": "long enough password", "name": "C\u{0}"}))
        .send()
        .await
        .unwrap();
    assert_eq!(field(&problem(res, 422).await), "name");

    // An escaped backslash before "u0000" is ordinary text, and still accepted.
    let res = create(serde_json::json!({"slug": "plain", "name": "back\\u0000slash"})).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
}
