//! Outgoing webhooks, end to end: a merchant registers an endpoint, shop events arrive at a real
//! HTTP receiver on loopback, signed; failures are retried and logged; SSRF targets are refused.
//!
//! Receivers live on 127.0.0.1, so most tests run with AGORA_WEBHOOKS_ALLOW_PRIVATE_TARGETS=true
//! (as a developer would); the SSRF tests run with the default (off).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

use crate::support::{eventually, problem, TestApp};
use hmac::{Hmac, Mac};
use reqwest::Method;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SETTINGS_UPDATED: &str = "tenancy.shop_settings_updated.v1";
const WAIT: Duration = Duration::from_secs(30);

/// How a receiver answers its `n`th request (0-based).
#[derive(Clone)]
enum Behaviour {
    Accept,
    FailFirst(usize),
    AlwaysFail,
    RedirectTo(String),
}

#[derive(Clone, Debug)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
    /// What the receiver answered.
    status: u16,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("webhook body is JSON")
    }

    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(String::as_str).unwrap_or_default()
    }
}

/// A merchant's webhook receiver: a real HTTP server that records every request.
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    behaviour: Arc<Mutex<Behaviour>>,
    handle: actix_web::dev::ServerHandle,
}

impl Receiver {
    async fn start(behaviour: Behaviour) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let behaviour = Arc::new(Mutex::new(behaviour));
        let (sink, script) = (received.clone(), behaviour.clone());
        let server = actix_web::HttpServer::new(move || {
            let (sink, script) = (sink.clone(), script.clone());
            actix_web::App::new().default_service(actix_web::web::to(
                move |req: actix_web::HttpRequest, body: actix_web::web::Bytes| {
                    let mut log = sink.lock().unwrap();
                    let (status, location) = match &*script.lock().unwrap() {
                        Behaviour::Accept => (200, None),
                        Behaviour::FailFirst(n) if log.len() < *n => (500, None),
                        Behaviour::FailFirst(_) => (200, None),
                        Behaviour::AlwaysFail => (500, None),
                        Behaviour::RedirectTo(url) => (307, Some(url.clone())),
                    };
                    let headers = req
                        .headers()
                        .iter()
                        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string()))
                        .collect();
                    log.push(Received { headers, body: String::from_utf8_lossy(&body).into_owned(), status });
                    let mut response =
                        actix_web::HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
                    if let Some(location) = location {
                        response.insert_header(("location", location));
                    }
                    let response = response.body(if status == 200 { "thanks" } else { "boom" });
                    async move { response }
                },
            ))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self { url: format!("http://127.0.0.1:{port}/hooks/agora"), received, behaviour, handle }
    }

    fn set(&self, behaviour: Behaviour) {
        *self.behaviour.lock().unwrap() = behaviour;
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// The requests it accepted (answered 2xx).
    fn accepted(&self) -> Vec<Received> {
        self.received().into_iter().filter(|r| r.status == 200).collect()
    }

    async fn wait_accepted(&self, n: usize) -> Vec<Received> {
        eventually(WAIT, || async { self.accepted().len() >= n }).await;
        self.accepted()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// The app with job workers, fast retries and loopback targets allowed, plus `extra` settings.
async fn spawn(extra: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(|o| {
        o.env.insert("AGORA_WORKERS".into(), "2".into());
        o.env.insert("AGORA_WEBHOOKS_ALLOW_PRIVATE_TARGETS".into(), "true".into());
        o.env.insert("AGORA_WEBHOOKS_RETRY_BASE_MS".into(), "20".into());
        for (key, value) in extra {
            o.env.insert((*key).into(), (*value).into());
        }
    })
    .await
}

fn admin(app: &TestApp, method: Method, tenant: &str, path: &str) -> reqwest::RequestBuilder {
    app.admin(method, &format!("/api/v1/admin/webhooks{path}"), tenant)
}

async fn create_endpoint(app: &TestApp, tenant: &str, url: &str, event_types: &[&str]) -> Value {
    let res = admin(app, Method::POST, tenant, "/endpoints")
        .json(&json!({"url": url, "description": "ERP sync", "event_types": event_types}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let body: Value = res.json().await.unwrap();
    assert!(body["secret"].as_str().unwrap().starts_with("whsec_"));
    body
}

async fn endpoint(app: &TestApp, tenant: &str, id: &str) -> Value {
    let res = admin(app, Method::GET, tenant, &format!("/endpoints/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn deliveries(app: &TestApp, tenant: &str, id: &str) -> Vec<Value> {
    let res = admin(app, Method::GET, tenant, &format!("/endpoints/{id}/deliveries?limit=100")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page: Value = res.json().await.unwrap();
    page["items"].as_array().unwrap().clone()
}

/// A staff member renames the shop: one `tenancy.shop_settings_updated.v1` event.
async fn rename_shop(app: &TestApp, tenant: &str, name: &str) {
    let res = app.admin(Method::PATCH, "/api/v1/admin/shop", tenant).json(&json!({"name": name})).send().await.unwrap();
    assert_eq!(res.status(), 200);
}

/// The shop's events of one type, oldest first, as the outbox recorded them.
async fn event_ids(app: &TestApp, tenant: &str, name: &str) -> Vec<String> {
    let pg = app.db.connect().await;
    pg.query(
        "SELECT event_id::text FROM agora.outbox WHERE tenant_slug = $1 AND name = $2 ORDER BY id",
        &[&tenant, &name],
    )
    .await
    .unwrap()
    .iter()
    .map(|row| row.get(0))
    .collect()
}

/// Whether every fan-out and webhook delivery job has finished.
async fn queue_settled(app: &TestApp) -> bool {
    let pg = app.db.connect().await;
    let pending: i64 = pg
        .query_one(
            "SELECT count(*) FROM agora.jobs WHERE (kind = 'webhooks.deliver' OR subscriber = 'webhooks.fan_out') \
             AND state IN ('queued', 'retry', 'running')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    pending == 0
}

/// `Agora-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, parsed as a receiver would.
fn signature_parts(header: &str) -> (i64, Vec<String>) {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", t)) => timestamp = Some(t.parse().expect("numeric timestamp")),
            Some(("v1", v1)) => signatures.push(v1.to_string()),
            _ => panic!("unexpected signature part {part:?} in {header:?}"),
        }
    }
    (timestamp.expect("t= present"), signatures)
}

/// HMAC-SHA256(secret, "<t>.<body>") in hex, computed here, independently of the module.
fn expected_signature(secret: &str, timestamp: i64, body: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.{body}").as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Which of the request's `v1` signatures each secret reproduces (by position).
fn verified_by(request: &Received, secrets: &[&str]) -> Vec<Option<usize>> {
    let (timestamp, signatures) = signature_parts(request.header("agora-signature"));
    secrets
        .iter()
        .map(|secret| {
            let expected = expected_signature(secret, timestamp, &request.body);
            signatures.iter().position(|s| *s == expected)
        })
        .collect()
}

#[tokio::test]
async fn a_subscribed_endpoint_receives_signed_shop_events() {
    let app = spawn(&[]).await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start(Behaviour::Accept).await;
    let created = create_endpoint(&app, &acme, &receiver.url, &[SETTINGS_UPDATED]).await;
    let (id, secret) = (created["id"].as_str().unwrap(), created["secret"].as_str().unwrap());
    assert_eq!(created["status"], "enabled");
    assert_eq!(created["event_types"], json!([SETTINGS_UPDATED]));

    // The secret is shown once: reads never carry it.
    let shown = endpoint(&app, &acme, id).await;
    assert!(shown.get("secret").is_none(), "{shown}");
    let listed: Value = admin(&app, Method::GET, &acme, "/endpoints").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(secret));

    rename_shop(&app, &acme, "Acme Outfitters").await;
    let request = receiver.wait_accepted(1).await.remove(0);

    let event = request.json();
    assert_eq!(event["type"], SETTINGS_UPDATED);
    assert_eq!(event["tenant"], "acme");
    assert_eq!(event["data"]["name"], "Acme Outfitters");
    assert_eq!(event_ids(&app, &acme, SETTINGS_UPDATED).await, [event["id"].as_str().unwrap()]);
    assert!(event["created_at"].as_str().is_some());
    assert_eq!(request.header("content-type"), "application/json");
    assert_eq!(request.header("agora-event"), SETTINGS_UPDATED);
    assert_eq!(request.header("user-agent"), "Agora-Webhooks/1");

    // The receiver recomputes the signature with nothing but the secret it was shown.
    let (timestamp, signatures) = signature_parts(request.header("agora-signature"));
    assert_eq!(signatures.len(), 1, "no rotation, one signature");
    assert_eq!(signatures[0], expected_signature(secret, timestamp, &request.body));
    assert!((chrono::Utc::now().timestamp() - timestamp).abs() < 300, "fresh timestamp");
    assert_ne!(signatures[0], expected_signature("whsec_somebody-else", timestamp, &request.body));

    // The delivery log shows the attempt under the id the receiver saw.
    let delivery_id = request.header("agora-delivery").to_string();
    eventually(WAIT, || async { !deliveries(&app, &acme, id).await.is_empty() }).await;
    let log = deliveries(&app, &acme, id).await;
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["id"], delivery_id.as_str());
    assert_eq!(log[0]["event_id"], event["id"]);
    assert_eq!(log[0]["succeeded"], true);
    assert_eq!(log[0]["response_status"], 200);
    assert_eq!(log[0]["response_body"], "thanks");
    assert_eq!(log[0]["attempt"], 1);
    assert_eq!(log[0]["trigger"], "event");
    assert_eq!(log[0]["request_body"], request.body.as_str());
    eventually(WAIT, || async { endpoint(&app, &acme, id).await["last_success_at"].is_string() }).await;
}

#[tokio::test]
async fn after_a_rotation_deliveries_carry_both_secrets_signatures() {
    let app = spawn(&[]).await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start(Behaviour::Accept).await;
    let created = create_endpoint(&app, &acme, &receiver.url, &["*"]).await;
    let (id, old) = (created["id"].as_str().unwrap(), created["secret"].as_str().unwrap());

    let res = admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/rotate-secret")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let rotated: Value = res.json().await.unwrap();
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(new, old);
    let grace_ends: chrono::DateTime<chrono::Utc> =
        rotated["previous_secret_expires_at"].as_str().unwrap().parse().unwrap();
    let hours_left = (grace_ends - chrono::Utc::now()).num_minutes() as f64 / 60.0;
    assert!((23.9..=24.0).contains(&hours_left), "24 h grace by default, got {hours_left}");

    rename_shop(&app, &acme, "Rotated").await;
    let request = receiver.wait_accepted(1).await.remove(0);
    let (_, signatures) = signature_parts(request.header("agora-signature"));
    assert_eq!(signatures.len(), 2, "{}", request.header("agora-signature"));
    assert_eq!(verified_by(&request, &[new, old]), [Some(0), Some(1)], "the new secret's first, then the old one's");

    // Retiring the old secret at once (a leak): only the newest signs.
    let bad =
        admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/rotate-secret?previous_secret_valid_for_hours=500"))
            .send()
            .await
            .unwrap();
    assert_eq!(problem(bad, 422).await["errors"][0]["field"], "previous_secret_valid_for_hours");
    let res =
        admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/rotate-secret?previous_secret_valid_for_hours=0"))
            .send()
            .await
            .unwrap();
    let newest: Value = res.json().await.unwrap();
    let newest = newest["secret"].as_str().unwrap();
    assert!(endpoint(&app, &acme, id).await["previous_secret_expires_at"].is_null());
    rename_shop(&app, &acme, "Rotated again").await;
    let request = receiver.wait_accepted(2).await.remove(1);
    assert_eq!(verified_by(&request, &[newest, new, old]), [Some(0), None, None]);
}

#[tokio::test]
async fn a_receiver_that_fails_then_recovers_gets_every_event_in_order() {
    let app = spawn(&[]).await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start(Behaviour::FailFirst(3)).await;
    let created = create_endpoint(&app, &acme, &receiver.url, &[SETTINGS_UPDATED]).await;
    let id = created["id"].as_str().unwrap();

    for name in ["First", "Second", "Third"] {
        rename_shop(&app, &acme, name).await;
    }
    let accepted = receiver.wait_accepted(3).await;
    let published = event_ids(&app, &acme, SETTINGS_UPDATED).await;
    assert_eq!(published.len(), 3);
    let delivered: Vec<String> = accepted.iter().map(|r| r.json()["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(delivered, published, "every event, once each, in order");
    let names: Vec<String> = accepted.iter().map(|r| r.json()["data"]["name"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["First", "Second", "Third"]);

    // The first event was refused three times; the later ones waited behind it.
    let all = receiver.received();
    assert_eq!(all.len(), 6);
    assert!(all[..4].iter().all(|r| r.json()["id"] == published[0].as_str()));
    // Each retry is signed afresh and still verifies.
    let secret = created["secret"].as_str().unwrap();
    assert!(all.iter().all(|r| verified_by(r, &[secret]) == [Some(0)]));

    eventually(WAIT, || async { deliveries(&app, &acme, id).await.len() == 6 }).await;
    let mut log = deliveries(&app, &acme, id).await;
    log.reverse(); // oldest first
    let summary: Vec<(i64, bool, i64)> = log
        .iter()
        .map(|d| {
            (d["attempt"].as_i64().unwrap(), d["succeeded"].as_bool().unwrap(), d["response_status"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(
        summary,
        [(1, false, 500), (2, false, 500), (3, false, 500), (4, true, 200), (1, true, 200), (1, true, 200)]
    );
    assert!(log[..3].iter().all(|d| d["response_body"] == "boom" && d["event_id"] == published[0].as_str()));
    // Paging through the log gives the same attempts.
    let first: Value = admin(&app, Method::GET, &acme, &format!("/endpoints/{id}/deliveries?limit=4"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest: Value = admin(&app, Method::GET, &acme, &format!("/endpoints/{id}/deliveries?limit=4&cursor={cursor}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first["items"].as_array().unwrap().len() + rest["items"].as_array().unwrap().len(), 6);
    assert!(rest.get("next_cursor").is_none());

    // The success reset the failure record.
    eventually(WAIT, || async { endpoint(&app, &acme, id).await["consecutive_failures"] == 0 }).await;
    let state = endpoint(&app, &acme, id).await;
    assert_eq!(state["status"], "enabled");
    assert!(state["failing_since"].is_null());
}

#[tokio::test]
async fn private_and_local_targets_are_refused_at_registration() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let cases = [
        ("http://127.0.0.1:9/hook", "loopback"),
        ("http://[::1]/hook", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://10.0.0.1/", "private"),
        ("https://192.168.1.20/hook", "private"),
        ("https://100.64.0.1/hook", "carrier-grade NAT"),
        ("https://[::ffff:127.0.0.1]/hook", "loopback"),
        ("https://2130706433/hook", "loopback"),
        ("https://[fd00::1]/hook", "unique local"),
        ("http://localhost:9/hook", "resolves to"),
        ("https://localhost/hook", "loopback"),
        ("http://hooks.example.com/agora", "https"),
        ("ftp://hooks.example.com/agora", "https"),
        ("not a url", "absolute URL"),
    ];
    for (url, why) in cases {
        let res = admin(&app, Method::POST, &acme, "/endpoints")
            .json(&json!({"url": url, "event_types": ["*"]}))
            .send()
            .await
            .unwrap();
        let body = problem(res, 422).await;
        assert_eq!(body["errors"][0]["field"], "url", "{url}: {body}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(message.contains(why), "{url}: {message}");
    }
    let listed: Value = admin(&app, Method::GET, &acme, "/endpoints").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["items"], json!([]), "nothing half-written");
}

#[tokio::test]
async fn a_stored_private_target_is_refused_at_delivery_time() {
    // Endpoints registered while the operator allowed private targets, now disallowed again
    // (and so with a name that resolves privately, as after DNS rebinding): the delivery-time
    // guard must refuse them, without a connection being made.
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_WORKERS".into(), "2".into());
        o.env.insert("AGORA_WEBHOOKS_RETRY_BASE_MS".into(), "20".into());
    })
    .await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start(Behaviour::Accept).await;
    let port = receiver.url.trim_start_matches("http://127.0.0.1:").split('/').next().unwrap().to_string();
    let pg = app.db.connect().await;
    for (id, url) in [
        ("0190c1a0-0000-7000-8000-000000000001", format!("https://localhost:{port}/hooks/agora")),
        ("0190c1a0-0000-7000-8000-000000000002", format!("https://127.0.0.1:{port}/hooks/agora")),
        ("0190c1a0-0000-7000-8000-000000000003", receiver.url.clone()),
    ] {
        pg.execute(
            "INSERT INTO t_acme.webhook_endpoints (id, url, event_types, secret, created_by, modified_by) \
             VALUES ($1::text::uuid, $2, '{*}', 'whsec_test', 'test', 'test')",
            &[&id, &url],
        )
        .await
        .unwrap();
    }
    rename_shop(&app, &acme, "Rebound").await;
    let errors = || async {
        let rows = pg
            .query(
                "SELECT endpoint_id::text, error FROM t_acme.webhook_deliveries WHERE NOT succeeded ORDER BY endpoint_id",
                &[],
            )
            .await
            .unwrap();
        let mut by_endpoint: HashMap<String, String> = HashMap::new();
        for row in rows {
            by_endpoint.entry(row.get(0)).or_insert_with(|| row.get::<_, Option<String>>(1).unwrap_or_default());
        }
        by_endpoint
    };
    eventually(WAIT, || async { errors().await.len() == 3 }).await;
    let errors = errors().await;
    let by_name = &errors["0190c1a0-0000-7000-8000-000000000001"];
    assert!(by_name.contains("localhost resolves to") && by_name.contains("a loopback address"), "{by_name}");
    let by_address = &errors["0190c1a0-0000-7000-8000-000000000002"];
    assert!(by_address.starts_with("target refused") && by_address.contains("loopback"), "{by_address}");
    let plain_http = &errors["0190c1a0-0000-7000-8000-000000000003"];
    assert!(plain_http.contains("loopback") || plain_http.contains("https"), "{plain_http}");
    assert!(receiver.received().is_empty(), "the receiver on loopback was never reached");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    // Following a redirect would let an allowed target send us anywhere (an internal address,
    // say); a 3xx is a failed delivery instead.
    let app = spawn(&[]).await;
    let acme = app.tenant("acme").await;
    let elsewhere = Receiver::start(Behaviour::Accept).await;
    let redirecting = Receiver::start(Behaviour::RedirectTo(elsewhere.url.clone())).await;
    let created = create_endpoint(&app, &acme, &redirecting.url, &["*"]).await;
    let id = created["id"].as_str().unwrap();
    rename_shop(&app, &acme, "Redirected").await;
    eventually(WAIT, || async { !deliveries(&app, &acme, id).await.is_empty() }).await;
    let first = deliveries(&app, &acme, id).await.pop().unwrap();
    assert_eq!((first["response_status"].as_i64(), first["succeeded"].as_bool()), (Some(307), Some(false)), "{first}");
    // And it stays a failure when retried.
    eventually(WAIT, || async { deliveries(&app, &acme, id).await.len() >= 2 }).await;
    let log = deliveries(&app, &acme, id).await;
    assert!(log.iter().all(|d| d["response_status"] == 307 && d["succeeded"] == false), "{log:?}");
    assert!(elsewhere.received().is_empty(), "the redirect target was never contacted");
}

#[tokio::test]
async fn sustained_failure_disables_the_endpoint_until_it_is_enabled_again() {
    let app = spawn(&[("AGORA_WEBHOOKS_DISABLE_AFTER_SECS", "1")]).await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start(Behaviour::AlwaysFail).await;
    let created = create_endpoint(&app, &acme, &receiver.url, &[SETTINGS_UPDATED]).await;
    let id = created["id"].as_str().unwrap();

    rename_shop(&app, &acme, "Failing").await;
    eventually(WAIT, || async { endpoint(&app, &acme, id).await["status"] == "disabled" }).await;
    let disabled = endpoint(&app, &acme, id).await;
    let reason = disabled["disabled_reason"].as_str().unwrap();
    assert!(reason.contains("every delivery failed for 1 second") && reason.contains("HTTP 500"), "{reason}");
    assert!(disabled["consecutive_failures"].as_i64().unwrap() >= 2);
    assert_eq!(disabled["modified_by"], "system:webhooks");
    // The shop is told, through an event other modules (notifications) can act on.
    assert_eq!(event_ids(&app, &acme, "webhooks.endpoint_disabled.v1").await.len(), 1);

    // Nothing more is queued for it.
    eventually(WAIT, || queue_settled(&app)).await;
    let attempts = receiver.received().len();
    rename_shop(&app, &acme, "Still failing").await;
    eventually(WAIT, || queue_settled(&app)).await;
    let latest = event_ids(&app, &acme, SETTINGS_UPDATED).await.pop().unwrap();
    let pg = app.db.connect().await;
    let queued: i64 = pg
        .query_one(
            "SELECT count(*) FROM agora.jobs WHERE kind = 'webhooks.deliver' AND payload->>'event_id' = $1",
            &[&latest],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(queued, 0);
    assert_eq!(receiver.received().len(), attempts);
    let res = admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/ping")).send().await.unwrap();
    assert_eq!(problem(res, 409).await["type"], "https://agora.dev/problems/webhook-endpoint-disabled");

    // The merchant fixes the receiver and turns the endpoint back on.
    receiver.set(Behaviour::Accept);
    let stale = admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/enable"))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    problem(stale, 412).await;
    let res = admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/enable")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let enabled: Value = res.json().await.unwrap();
    assert_eq!(enabled["status"], "enabled");
    assert_eq!(enabled["consecutive_failures"], 0);
    assert!(enabled["disabled_reason"].is_null() && enabled["failing_since"].is_null());
    rename_shop(&app, &acme, "Recovered").await;
    let accepted = receiver.wait_accepted(1).await;
    assert_eq!(accepted[0].json()["data"]["name"], "Recovered");
}

#[tokio::test]
async fn staff_can_redeliver_an_event_and_send_a_ping() {
    let app = spawn(&[]).await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    // An event from before the endpoint existed can be sent too.
    rename_shop(&app, &acme, "Before").await;
    rename_shop(&app, &globex, "Not yours").await;
    // Fan-out reads the endpoints when it runs; let it pass before the endpoint exists.
    eventually(WAIT, || queue_settled(&app)).await;
    let receiver = Receiver::start(Behaviour::Accept).await;
    let created = create_endpoint(&app, &acme, &receiver.url, &[SETTINGS_UPDATED]).await;
    let id = created["id"].as_str().unwrap();
    rename_shop(&app, &acme, "After").await;
    let first = receiver.wait_accepted(1).await.remove(0);
    assert_eq!(first.json()["data"]["name"], "After");
    let after_id = first.json()["id"].as_str().unwrap().to_string();

    let res = admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/deliveries/{after_id}/redeliver"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let queued: Value = res.json().await.unwrap();
    assert_eq!(queued["queued"], true);
    assert_eq!(queued["event_type"], SETTINGS_UPDATED);
    let again = receiver.wait_accepted(2).await.remove(1);
    assert_eq!(again.body, first.body, "the same event, byte for byte");
    assert_ne!(again.header("agora-delivery"), first.header("agora-delivery"));
    assert_eq!(verified_by(&again, &[created["secret"].as_str().unwrap()]), [Some(0)]);

    let before_id = event_ids(&app, &acme, SETTINGS_UPDATED).await.remove(0);
    let res = admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/deliveries/{before_id}/redeliver"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let earlier = receiver.wait_accepted(3).await.remove(2);
    assert_eq!(earlier.json()["data"]["name"], "Before");

    // Another shop's event, or no event at all, is not found.
    let foreign = event_ids(&app, &globex, SETTINGS_UPDATED).await.remove(0);
    for unknown in [foreign, uuid::Uuid::now_v7().to_string()] {
        let res = admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/deliveries/{unknown}/redeliver"))
            .send()
            .await
            .unwrap();
        assert_eq!(problem(res, 404).await["type"], "https://agora.dev/problems/event-not-found");
    }

    let res = admin(&app, Method::POST, &acme, &format!("/endpoints/{id}/ping")).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let ping = receiver.wait_accepted(4).await.remove(3);
    assert_eq!(ping.json()["type"], "webhooks.ping.v1");
    assert_eq!(ping.json()["data"]["endpoint_id"], id);

    eventually(WAIT, || async { deliveries(&app, &acme, id).await.len() == 4 }).await;
    let triggers: Vec<String> =
        deliveries(&app, &acme, id).await.iter().rev().map(|d| d["trigger"].as_str().unwrap().to_string()).collect();
    assert_eq!(triggers, ["event", "redelivery", "redelivery", "ping"]);
    let only_after: Value = admin(&app, Method::GET, &acme, &format!("/endpoints/{id}/deliveries?event_id={after_id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(only_after["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn one_shops_events_never_reach_another_shops_endpoint() {
    let app = spawn(&[]).await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    let acme_receiver = Receiver::start(Behaviour::Accept).await;
    let globex_receiver = Receiver::start(Behaviour::Accept).await;
    let acme_endpoint = create_endpoint(&app, &acme, &acme_receiver.url, &["*"]).await;
    create_endpoint(&app, &globex, &globex_receiver.url, &["*"]).await;

    rename_shop(&app, &globex, "Globex One").await;
    rename_shop(&app, &acme, "Acme One").await;
    rename_shop(&app, &globex, "Globex Two").await;
    globex_receiver.wait_accepted(2).await;
    acme_receiver.wait_accepted(1).await;
    eventually(WAIT, || queue_settled(&app)).await;

    let acme_got: Vec<Value> = acme_receiver.received().iter().map(Received::json).collect();
    assert_eq!(acme_got.len(), 1);
    assert_eq!(acme_got[0]["tenant"], "acme");
    assert_eq!(acme_got[0]["data"]["name"], "Acme One");
    assert!(globex_receiver.received().iter().all(|r| r.json()["tenant"] == "globex"));
    // Each shop sees only its own endpoints.
    let id = acme_endpoint["id"].as_str().unwrap();
    let res = admin(&app, Method::GET, &globex, &format!("/endpoints/{id}")).send().await.unwrap();
    assert_eq!(problem(res, 404).await["type"], "https://agora.dev/problems/webhook-endpoint-not-found");
    let res = admin(&app, Method::GET, &globex, &format!("/endpoints/{id}/deliveries")).send().await.unwrap();
    problem(res, 404).await;
}

#[tokio::test]
async fn endpoints_are_managed_with_versions_and_validated_input() {
    let app = spawn(&[]).await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start(Behaviour::Accept).await;

    let types: Value = admin(&app, Method::GET, &acme, "/event-types").send().await.unwrap().json().await.unwrap();
    assert!(types["event_types"].as_array().unwrap().iter().any(|t| t == SETTINGS_UPDATED));

    let res = admin(&app, Method::POST, &acme, "/endpoints")
        .json(&json!({"url": receiver.url, "event_types": ["tenancy.shop_setings_updated.v1", "*"], "description": "x".repeat(501)}))
        .send()
        .await
        .unwrap();
    let body = problem(res, 422).await;
    let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["description", "event_types[0]", "event_types[1]"]);
    let res = admin(&app, Method::POST, &acme, "/endpoints")
        .json(&json!({"url": receiver.url, "event_types": ["*"], "colour": "red"}))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "colour");

    let res = admin(&app, Method::POST, &acme, "/endpoints")
        .json(&json!({"url": receiver.url, "event_types": [SETTINGS_UPDATED]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let location = res.headers()["location"].to_str().unwrap().to_string();
    let created: Value = res.json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/admin/webhooks/endpoints/{id}"));

    let update = |if_match: &'static str, body: Value| {
        admin(&app, Method::PATCH, &acme, &format!("/endpoints/{id}")).header("if-match", if_match).json(&body).send()
    };
    let res = update("\"1\"", json!({"description": "Warehouse", "event_types": ["*"]})).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let updated: Value = res.json().await.unwrap();
    assert_eq!((updated["description"].as_str(), updated["event_types"].clone()), (Some("Warehouse"), json!(["*"])));
    problem(update("\"1\"", json!({"description": "Lost update"})).await.unwrap(), 412).await;
    // Private targets are allowed in this app, but a URL must still be http(s).
    let body = problem(update("\"2\"", json!({"url": "ftp://files.example.com/"})).await.unwrap(), 422).await;
    assert_eq!(body["errors"][0]["field"], "url");

    let res = admin(&app, Method::DELETE, &acme, &format!("/endpoints/{id}"))
        .header("if-match", "\"1\"")
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let res = admin(&app, Method::DELETE, &acme, &format!("/endpoints/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 204);
    let res = admin(&app, Method::GET, &acme, &format!("/endpoints/{id}")).send().await.unwrap();
    problem(res, 404).await;
    let listed: Value = admin(&app, Method::GET, &acme, "/endpoints").send().await.unwrap().json().await.unwrap();
    assert_eq!(listed["items"], json!([]));

    // A deleted endpoint gets nothing.
    rename_shop(&app, &acme, "After delete").await;
    eventually(WAIT, || queue_settled(&app)).await;
    assert!(receiver.received().is_empty());

    // Without staff credentials there is no webhook administration.
    let res =
        app.client.get(app.url("/api/v1/admin/webhooks/endpoints")).header("x-tenant-id", &acme).send().await.unwrap();
    problem(res, 401).await;
}

/// Signing secrets are stored sealed; one stored in the clear before sealing began still signs,
/// and `agora reseal-secrets` seals it without changing it.
#[tokio::test]
async fn signing_secrets_are_sealed_at_rest_and_old_clear_ones_still_sign() {
    let app = spawn(&[]).await;
    let acme = app.tenant("acme").await;
    let receiver = Receiver::start(Behaviour::Accept).await;
    let created = create_endpoint(&app, &acme, &receiver.url, &[SETTINGS_UPDATED]).await;
    let (id, secret) = (created["id"].as_str().unwrap().to_string(), created["secret"].as_str().unwrap());
    let pg = app.db.connect().await;
    let (clear, sealed) = stored_secret(&pg, &id).await;
    assert_eq!(clear, None, "nothing in the clear");
    let sealed = sealed.unwrap();
    assert!(!sealed.windows(8).any(|w| secret.as_bytes().windows(8).any(|s| s == w)), "no piece of the secret");

    // As stored by a version before sealing.
    let legacy = "whsec_stored-in-the-clear-by-an-older-agora";
    pg.execute(
        "UPDATE t_acme.webhook_endpoints SET secret = $2, secret_sealed = NULL WHERE id::text = $1",
        &[&id, &legacy],
    )
    .await
    .unwrap();
    rename_shop(&app, &acme, "Acme I").await;
    let first = receiver.wait_accepted(1).await;
    assert_eq!(verified_by(&first[0], &[legacy]), [Some(0)]);

    let env = [("DATABASE_URL", app.db.url.as_str()), ("AGORA_TOKEN_KEY", crate::support::TOKEN_KEY)];
    let (ok, out, err) = crate::support::run_agora(&["reseal-secrets"], &env).await;
    assert!(ok, "{err}");
    assert!(out.contains("1 secrets sealed again"), "{out}");
    let (clear, sealed) = stored_secret(&pg, &id).await;
    assert_eq!(clear, None);
    assert!(sealed.is_some());
    rename_shop(&app, &acme, "Acme II").await;
    let both = receiver.wait_accepted(2).await;
    assert_eq!(verified_by(&both[1], &[legacy]), [Some(0)], "the same secret, now sealed");
}

/// An endpoint's secret as stored: in the clear, sealed.
async fn stored_secret(pg: &tokio_postgres::Client, id: &str) -> (Option<String>, Option<Vec<u8>>) {
    let row = pg
        .query_one("SELECT secret, secret_sealed FROM t_acme.webhook_endpoints WHERE id::text = $1", &[&id])
        .await
        .unwrap();
    (row.get(0), row.get(1))
}
