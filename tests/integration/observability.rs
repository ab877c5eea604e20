use crate::support::{AgoraProcess, TestApp, TestDatabase};
use std::time::Duration;

#[tokio::test]
async fn request_ids_are_echoed_and_logged() {
    let db = TestDatabase::create().await;
    let mut agora =
        AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0", "--workers", "0"], &[("DATABASE_URL", &db.url)]);
    let base = agora.wait_listening().await;
    let client = reqwest::Client::new();

    let res = client.get(format!("{base}/healthz")).header("x-request-id", "trace-me-42").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-me-42");
    let res = client.get(format!("{base}/healthz")).send().await.unwrap();
    let generated = res.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_eq!(uuid::Uuid::parse_str(&generated).unwrap().get_version_num(), 7);
    // An unreasonable id is replaced, not echoed.
    let res = client.get(format!("{base}/healthz")).header("x-request-id", "x".repeat(500)).send().await.unwrap();
    assert_ne!(res.headers()["x-request-id"].to_str().unwrap(), "x".repeat(500));

    let find = |id: &str| {
        agora
            .log_lines()
            .into_iter()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(&l).ok())
            .find(|v| v["span"]["request_id"] == id && v["message"] == "request completed")
    };
    // A line is written after its response is sent, and read from the child's stderr by another
    // thread: wait for each line, not only the first.
    for id in ["trace-me-42", generated.as_str()] {
        crate::support::eventually(Duration::from_secs(10), || async { find(id).is_some() }).await;
    }
    let line = find("trace-me-42").unwrap();
    assert_eq!(line["status"], 200);
    assert_eq!(line["span"]["route"], "/healthz");
}

#[tokio::test]
async fn metrics_and_health() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    for _ in 0..3 {
        app.get("/api/v1/store/shop").header("x-tenant-id", &acme).send().await.unwrap();
    }
    app.get("/api/v1/store/shop").header("x-tenant-id", "nobody").send().await.unwrap();
    let health: serde_json::Value = app.get("/healthz").send().await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let ready: serde_json::Value = app.get("/readyz").send().await.unwrap().json().await.unwrap();
    assert_eq!((ready["database"].as_str(), ready["redis"].as_str()), (Some("ok"), Some("not configured")));

    let text = app.get("/metrics").send().await.unwrap().text().await.unwrap();
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.starts_with(needle))
            .unwrap_or_else(|| panic!("{needle} missing in\n{text}"))
            .to_string()
    };
    let ok = line("agora_http_requests_total{method=\"GET\",route=\"/api/v1/store/shop\",status=\"200\"}");
    assert!(ok.ends_with(" 3"), "{ok}");
    line("agora_http_requests_total{method=\"GET\",route=\"/api/v1/store/shop\",status=\"404\"}");
    line("agora_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/store/shop\",le=\"0.005\"}");
    line("agora_db_pool_connections{state=\"max\"} 8");
}

#[tokio::test]
async fn readiness_reports_redis_when_configured() {
    let app = TestApp::spawn_with(|o| o.redis = true).await;
    let ready: serde_json::Value = app.get("/readyz").send().await.unwrap().json().await.unwrap();
    assert_eq!(ready["redis"], "ok");
}

#[tokio::test]
async fn traces_are_exported_over_otlp_when_configured() {
    use std::sync::{Arc, Mutex};
    // A receiver speaking OTLP/HTTP's transport: it records what the exporter posts.
    /// Path, content type and body of each request the receiver got.
    type Received = Arc<Mutex<Vec<(String, String, Vec<u8>)>>>;
    let received: Received = Arc::default();
    let sink = received.clone();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let receiver = actix_web::HttpServer::new(move || {
        let sink = sink.clone();
        actix_web::App::new().default_service(actix_web::web::to(
            move |req: actix_web::HttpRequest, body: actix_web::web::Bytes| {
                let content_type =
                    req.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                sink.lock().unwrap().push((req.path().to_string(), content_type, body.to_vec()));
                async { actix_web::HttpResponse::Ok().content_type("application/x-protobuf").finish() }
            },
        ))
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    let receiver_handle = receiver.handle();
    tokio::spawn(receiver);

    let db = TestDatabase::create().await;
    let endpoint = format!("http://127.0.0.1:{port}/v1/traces");
    let mut agora = AgoraProcess::spawn(
        &["serve", "--bind", "127.0.0.1:0", "--workers", "0"],
        &[("DATABASE_URL", &db.url), ("AGORA_OTLP_ENDPOINT", &endpoint)],
    );
    let base = agora.wait_listening().await;
    reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .header("x-request-id", "otlp-trace-check")
        .send()
        .await
        .unwrap();
    // Shutting down flushes the batch exporter.
    agora.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(agora.wait_exit(Duration::from_secs(30)).await.success());
    let posts = received.lock().unwrap().clone();
    let trace = posts.iter().find(|(_, _, body)| body.windows(16).any(|w| w == b"otlp-trace-check"));
    let (path, content_type, _) =
        trace.unwrap_or_else(|| panic!("no exported span carries the request id; got {} posts", posts.len()));
    assert_eq!(path, "/v1/traces");
    assert_eq!(content_type, "application/x-protobuf");
    receiver_handle.stop(false).await;
}
