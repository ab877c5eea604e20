//! Notifications against a real SMTP server: aiosmtpd, started by each test on a port of its own
//! (tests/integration/smtp_sink.py), writing every email it accepts to a directory.

// The helpers below run only inside tests: a helper that cannot do its job fails the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::{eventually, problem, TestApp};
use agora_kernel::{Acting, DbError, TenantContext};
use agora_notifications::{NotificationsError, SendEmail};
use reqwest::Method;
use serde_json::{json, Value};
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const DEADLINE: Duration = Duration::from_secs(30);
const FROM: &str = "Agora Shops <shops@agora.test>";

/// A port on 127.0.0.1 that nothing listens on (the kernel hands out fresh ones, so another test
/// is unlikely to take it in the meantime).
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The first Python that can import aiosmtpd (Debian's python3-aiosmtpd lives in /usr/bin/python3,
/// which need not be the python3 on PATH). scripts/test.sh installs it.
fn python_with_aiosmtpd() -> String {
    let candidates =
        std::env::var("AGORA_TEST_PYTHON").into_iter().chain(["python3".into(), "/usr/bin/python3".into()]);
    for python in candidates {
        let imports = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if imports {
            return python;
        }
    }
    panic!("no Python with aiosmtpd: run scripts/test.sh (installs python3-aiosmtpd) or set AGORA_TEST_PYTHON");
}

/// A real SMTP server; each email it accepted is a JSON document (see smtp_sink.py).
pub(crate) struct SmtpSink {
    child: Child,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    pub(crate) async fn start(port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/integration/smtp_sink.py");
        let mut child = Command::new(python_with_aiosmtpd())
            .arg("-u")
            .arg(script)
            .arg(port.to_string())
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the SMTP sink");
        let stdout = child.stdout.take().unwrap();
        let first_line = tokio::time::timeout(
            DEADLINE,
            tokio::task::spawn_blocking(move || {
                let mut line = String::new();
                let _ = std::io::BufReader::new(stdout).read_line(&mut line);
                line
            }),
        )
        .await
        .expect("SMTP sink answers in time")
        .unwrap();
        assert_eq!(first_line.trim(), "ready", "SMTP sink did not start on port {port}");
        Self { child, dir }
    }

    pub(crate) fn emails(&self) -> Vec<Value> {
        let mut emails: Vec<Value> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|entry| {
                let path = entry.ok()?.path();
                (path.extension()? == "json").then(|| serde_json::from_slice(&std::fs::read(path).ok()?).ok())?
            })
            .collect();
        emails.sort_by_key(|e| e["subject"].as_str().unwrap_or_default().to_string());
        emails
    }

    pub(crate) fn emails_to(&self, address: &str) -> Vec<Value> {
        self.emails().into_iter().filter(|e| e["rcpt_tos"] == json!([address])).collect()
    }

    pub(crate) async fn wait_for(&self, count: usize) {
        eventually(DEADLINE, || {
            let n = self.emails().len();
            async move { n >= count }
        })
        .await;
        assert_eq!(self.emails().len(), count, "exactly {count} emails arrive");
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The app with job workers, sending over SMTP on `smtp_port` (or keeping mail in the mailbox).
pub(crate) async fn mail_app(smtp_port: Option<u16>, workers: bool) -> TestApp {
    TestApp::spawn_with(|o| {
        o.env.insert("AGORA_MAIL_FROM".into(), FROM.into());
        if workers {
            o.env.insert("AGORA_WORKERS".into(), "2".into());
        }
        if let Some(port) = smtp_port {
            o.env.insert("AGORA_SMTP_URL".into(), format!("smtp://127.0.0.1:{port}"));
        }
    })
    .await
}

fn admin(app: &TestApp, method: Method, shop: &str, path: &str) -> reqwest::RequestBuilder {
    app.admin(method, &format!("/api/v1/admin/notifications{path}"), shop)
}

/// Sends a test email; returns the recorded email (202).
async fn send(app: &TestApp, shop: &str, body: Value) -> Value {
    let res = admin(app, Method::POST, shop, "/test-send").json(&body).send().await.unwrap();
    assert_eq!(res.status(), 202, "test send accepted");
    res.json().await.unwrap()
}

async fn email(app: &TestApp, shop: &str, id: &str) -> Value {
    let res = admin(app, Method::GET, shop, &format!("/messages/{id}")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

/// Waits until email `id` satisfies `done`, and returns it.
async fn wait_until(app: &TestApp, shop: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    eventually(DEADLINE, || {
        let (app, shop, id, done) = (app, shop, id, &done);
        async move { done(&email(app, shop, id).await) }
    })
    .await;
    email(app, shop, id).await
}

async fn wait_for_status(app: &TestApp, shop: &str, id: &str, status: &str) -> Value {
    wait_until(app, shop, id, |e| e["status"] == status).await
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_default().replace("\r\n", "\n")
}

async fn tenant_context(app: &TestApp, slug: &str) -> TenantContext {
    app.state.tenancy.resolve(None, Some(slug)).await.unwrap().expect("shop exists")
}

#[tokio::test]
async fn a_german_shop_sends_its_german_welcome_and_its_own_version_stays_its_own() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = mail_app(Some(port), true).await;
    let berlin = app.tenant_named("berlin", "Berliner Laden").await;
    let hamburg = app.tenant_named("hamburg", "Hamburger Laden").await;

    // A Swiss-German customer gets the built-in German template (de-CH falls back to de).
    let welcome = |shop: &str, name: &str, to: &str| {
        json!({"template": "welcome", "locale": "de-CH", "to": to,
               "variables": {"shop_name": shop, "customer_name": name, "shop_url": "https://shop.example/"}})
    };
    let queued = send(&app, &berlin, welcome("Berliner Laden", "Anna", "anna@example.com")).await;
    assert_eq!(queued["status"], "queued");
    assert_eq!(queued["locale"], "de");
    let id = queued["id"].as_str().unwrap().to_string();
    let sent = wait_for_status(&app, &berlin, &id, "sent").await;
    sink.wait_for(1).await;
    let received = &sink.emails()[0];
    assert_eq!(received["subject"], "Willkommen bei Berliner Laden");
    assert_eq!(received["from"], FROM);
    assert_eq!(received["rcpt_tos"], json!(["anna@example.com"]));
    assert!(text(&received["text"]).starts_with("Hallo Anna,\n\nwillkommen bei Berliner Laden!"), "{received}");
    assert!(text(&received["html"]).contains("<p>Hallo Anna,</p>"), "{received}");
    assert_eq!(received["message_id"], format!("<{id}@agora.test>"), "the Message-ID names the email");
    assert_eq!(sent["attempts"], 1);
    assert!(sent["sent_at"].is_string());
    let queue_id = received["queue_id"].as_str().unwrap();
    assert!(sent["provider_message_id"].as_str().unwrap().contains(queue_id), "{sent}");

    // Berlin writes its own German welcome; Hamburg keeps the built-in one.
    let own = json!({"subject": "Grüß Gott, {{ customer_name }}!", "body_text": "Servus {{ customer_name }}, schön, dass Sie da sind. {{ shop_name }}"});
    let res = admin(&app, Method::PUT, &berlin, "/templates/welcome/de").json(&own).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"1\"");
    let saved: Value = res.json().await.unwrap();
    assert_eq!((saved["overridden"].clone(), saved["built_in"].clone()), (json!(true), json!(true)));

    let b = send(&app, &berlin, welcome("Berliner Laden", "Bernd", "bernd@example.com")).await;
    let h = send(&app, &hamburg, welcome("Hamburger Laden", "Hanna", "hanna@example.com")).await;
    wait_for_status(&app, &berlin, b["id"].as_str().unwrap(), "sent").await;
    wait_for_status(&app, &hamburg, h["id"].as_str().unwrap(), "sent").await;
    sink.wait_for(3).await;
    let to_bernd = &sink.emails_to("bernd@example.com")[0];
    assert_eq!(to_bernd["subject"], "Grüß Gott, Bernd!");
    assert_eq!(text(&to_bernd["text"]).trim_end(), "Servus Bernd, schön, dass Sie da sind. Berliner Laden");
    assert!(to_bernd["html"].is_null(), "the shop's version has no HTML part");
    let to_hanna = &sink.emails_to("hanna@example.com")[0];
    assert_eq!(to_hanna["subject"], "Willkommen bei Hamburger Laden");

    // The template lists show whose version is whose.
    for (shop, overridden) in [(&berlin, true), (&hamburg, false)] {
        let list: Value = admin(&app, Method::GET, shop, "/templates").send().await.unwrap().json().await.unwrap();
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.iter().filter(|t| t["built_in"] == true).count(), 16, "8 built-ins in en and de");
        let welcome_de = items.iter().find(|t| t["key"] == "welcome" && t["locale"] == "de").unwrap();
        assert_eq!(welcome_de["overridden"], overridden, "{shop}");
    }
}

#[tokio::test]
async fn with_the_mail_server_down_email_is_retried_and_delivered_once_it_is_back() {
    let port = free_port();
    let app = mail_app(Some(port), true).await;
    let shop = app.tenant("acme").await;
    let queued =
        send(&app, &shop, json!({"template": "order_confirmation", "locale": "en", "to": "buyer@example.com"})).await;
    let id = queued["id"].as_str().unwrap().to_string();

    // Nothing listens on the port: the attempt fails and the email waits for its retry.
    let waiting =
        wait_until(&app, &shop, &id, |e| e["attempts"].as_i64().unwrap_or(0) >= 1 && e["last_error"].is_string()).await;
    assert_eq!(waiting["status"], "queued", "a failed attempt is retried, not given up: {waiting}");

    let sink = SmtpSink::start(port).await;
    let sent = wait_for_status(&app, &shop, &id, "sent").await;
    sink.wait_for(1).await;
    let received = &sink.emails()[0];
    assert_eq!(received["subject"], "Your order 1001 at Sample Shop");
    assert!(text(&received["text"]).contains("1 × Linen shirt  €39.90"), "{received}");
    assert!(sent["last_error"].is_null());

    let pg = app.db.connect().await;
    let jobs = pg
        .query("SELECT state, attempts FROM agora.jobs WHERE kind = 'notifications.deliver_email'", &[])
        .await
        .unwrap();
    assert_eq!(jobs.len(), 1, "one delivery job for the email");
    let (state, attempts): (String, i32) = (jobs[0].get(0), jobs[0].get(1));
    assert_eq!(state, "succeeded");
    assert!(attempts >= 2, "it was retried");
    assert_eq!(sent["attempts"], attempts, "every attempt is in the email's history");
}

#[tokio::test]
async fn without_smtp_email_is_kept_in_the_shops_mailbox() {
    let app = mail_app(None, true).await;
    let shop = app.tenant("acme").await;
    let mut ids = Vec::new();
    for (to, locale) in [("a@example.com", "en"), ("B@Example.com", "de"), ("c@example.com", "en")] {
        let queued = send(&app, &shop, json!({"template": "password_reset", "locale": locale, "to": to})).await;
        ids.push(queued["id"].as_str().unwrap().to_string());
    }
    for id in &ids {
        wait_for_status(&app, &shop, id, "stored").await;
    }

    // Newest first, a page at a time.
    let page: Value =
        admin(&app, Method::GET, &shop, "/messages?status=stored&limit=2").send().await.unwrap().json().await.unwrap();
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.iter().map(|m| m["to"].as_str().unwrap()).collect::<Vec<_>>(), ["c@example.com", "B@Example.com"]);
    let cursor = page["next_cursor"].as_str().unwrap();
    let rest: Value = admin(&app, Method::GET, &shop, &format!("/messages?status=stored&limit=2&cursor={cursor}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rest["items"][0]["to"], "a@example.com");
    assert!(rest["next_cursor"].is_null());

    let by_recipient: Value = admin(&app, Method::GET, &shop, "/messages?recipient=b@example.com")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(by_recipient["items"].as_array().unwrap().len(), 1);
    assert_eq!(by_recipient["items"][0]["subject"], "Passwort zurücksetzen bei Sample Shop");

    // The mailbox shows the whole email, as it would have been sent.
    let stored = email(&app, &shop, &ids[0]).await;
    assert_eq!(stored["from"], FROM);
    assert!(text(&stored["body_text"]).contains("https://shop.example.com/reset-password?token=sample"));
    assert!(text(&stored["body_html"]).contains("<a href=\"https:&#x2f;&#x2f;shop.example.com"), "escaped: {stored}");
    assert!(stored["sent_at"].is_null());

    problem(admin(&app, Method::GET, &shop, "/messages?status=lost").send().await.unwrap(), 422).await;
    let missing = format!("/messages/{}", uuid::Uuid::now_v7());
    problem(admin(&app, Method::GET, &shop, &missing).send().await.unwrap(), 404).await;
    let again = admin(&app, Method::POST, &shop, &format!("/messages/{}/resend", ids[0])).send().await.unwrap();
    assert_eq!(problem(again, 409).await["type"], "https://agora.dev/problems/email-not-resendable");
    // Another shop's mailbox is its own.
    let other = app.tenant("other").await;
    problem(admin(&app, Method::GET, &other, &format!("/messages/{}", ids[0])).send().await.unwrap(), 404).await;
    // Staff only.
    let anonymous = app.get("/api/v1/admin/notifications/messages").header("x-tenant-id", &shop).send().await.unwrap();
    problem(anonymous, 401).await;
}

#[tokio::test]
async fn marketing_email_respects_the_opt_out_and_transactional_email_does_not_need_to() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = mail_app(Some(port), true).await;
    let shop = app.tenant("acme").await;
    let sale = json!({"subject": "Spring sale at {{ shop }}", "body_text": "Hi {{ name }}, 20% off everything."});
    let res = admin(&app, Method::PUT, &shop, "/templates/spring_sale/en").json(&sale).send().await.unwrap();
    assert_eq!(res.status(), 200, "a shop may add templates of its own");

    // The customer asked not to get marketing email (the signed link from an email does the same:
    // attacks_links::unsubscribing_takes_the_signed_link_from_the_email_not_an_address).
    let res = admin(&app, Method::PUT, &shop, "/preferences/Optout@Example.com")
        .json(&json!({"marketing_opt_out": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let prefs: Value =
        admin(&app, Method::GET, &shop, "/preferences/optout@example.com").send().await.unwrap().json().await.unwrap();
    assert_eq!(prefs["marketing_opt_out"], true);

    let marketing = |to: &str| {
        json!({"template": "spring_sale", "locale": "en", "to": to, "category": "marketing",
               "variables": {"shop": "Acme", "name": "friend"}})
    };
    let suppressed = send(&app, &shop, marketing("optout@example.com")).await;
    assert_eq!(suppressed["status"], "suppressed");
    let keen = send(&app, &shop, marketing("keen@example.com")).await;
    let receipt = send(&app, &shop, json!({"template": "welcome", "locale": "en", "to": "optout@example.com"})).await;
    wait_for_status(&app, &shop, keen["id"].as_str().unwrap(), "sent").await;
    wait_for_status(&app, &shop, receipt["id"].as_str().unwrap(), "sent").await;
    sink.wait_for(2).await;
    assert_eq!(sink.emails_to("keen@example.com")[0]["subject"], "Spring sale at Acme");
    let to_opted_out = sink.emails_to("optout@example.com");
    assert_eq!(to_opted_out.len(), 1);
    assert_eq!(to_opted_out[0]["subject"], "Welcome to Sample Shop", "transactional email still arrives");
    assert_eq!(email(&app, &shop, suppressed["id"].as_str().unwrap()).await["status"], "suppressed");
    let pg = app.db.connect().await;
    let jobs: i64 = pg
        .query_one("SELECT count(*) FROM agora.jobs WHERE kind = 'notifications.deliver_email'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(jobs, 2, "a suppressed email never gets a delivery job");

    // Staff can opt the customer back in.
    let res = admin(&app, Method::PUT, &shop, "/preferences/OptOut@example.com")
        .json(&json!({"marketing_opt_out": false}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap()["marketing_opt_out"], false);
    let welcome_back = send(&app, &shop, marketing("optout@example.com")).await;
    wait_for_status(&app, &shop, welcome_back["id"].as_str().unwrap(), "sent").await;
    sink.wait_for(3).await;
}

#[tokio::test]
async fn bad_templates_and_bad_sends_are_problems_naming_the_field_and_write_nothing() {
    let app = mail_app(None, false).await;
    let shop = app.tenant("acme").await;
    let put = |path: &str, body: Value| admin(&app, Method::PUT, &shop, path).json(&body);

    let body = problem(
        put("/templates/welcome/de", json!({"subject": "Hallo {{ customer_name", "body_text": "ok"}))
            .send()
            .await
            .unwrap(),
        422,
    )
    .await;
    let fields = |body: &Value| -> Vec<String> {
        body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(fields(&body), ["subject"]);
    let body = problem(
        put(
            "/templates/welcome/de",
            json!({"subject": "Hallo", "body_text": "Hi {{ customer_nmae }}", "body_html": "<p>{% if %}</p>"}),
        )
        .send()
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(fields(&body), ["body_text", "body_html"]);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("customer_nmae"), "{body}");
    let body =
        problem(put("/templates/Bad-Key/en", json!({"subject": "x", "body_text": "y"})).send().await.unwrap(), 422)
            .await;
    assert_eq!(fields(&body), ["key"]);
    let body = problem(
        put("/templates/welcome/english", json!({"subject": "x", "body_text": "y"})).send().await.unwrap(),
        422,
    )
    .await;
    assert_eq!(fields(&body), ["locale"]);
    let body = problem(
        put("/templates/welcome/de", json!({"subject": "x", "body_text": "y", "colour": "red"})).send().await.unwrap(),
        422,
    )
    .await;
    assert_eq!(fields(&body), ["colour"]);

    // Nothing was saved: the built-in template is still the one in use.
    let current: Value =
        admin(&app, Method::GET, &shop, "/templates/welcome/de").send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (current["overridden"].clone(), current["subject"].clone()),
        (json!(false), json!("Willkommen bei {{ shop_name }}"))
    );
    problem(admin(&app, Method::GET, &shop, "/templates/welcome/fr").send().await.unwrap(), 404).await;
    problem(admin(&app, Method::DELETE, &shop, "/templates/welcome/de").send().await.unwrap(), 404).await;

    let test_send = |body: Value| admin(&app, Method::POST, &shop, "/test-send").json(&body);
    let body = problem(
        test_send(json!({"template": "no_such_template", "locale": "en", "to": "a@example.com"})).send().await.unwrap(),
        422,
    )
    .await;
    assert_eq!(fields(&body), ["template"]);
    let body = problem(
        test_send(
            json!({"template": "welcome", "locale": "en", "to": "a@example.com", "variables": {"customer_name": "A"}}),
        )
        .send()
        .await
        .unwrap(),
        422,
    )
    .await;
    assert_eq!(fields(&body)[0], "variables");
    assert!(
        body["detail"].as_str().unwrap().contains("shop_name")
            || body["errors"][0]["message"].as_str().unwrap().contains("shop_name"),
        "{body}"
    );
    let body = problem(
        test_send(json!({"template": "welcome", "locale": "xx-", "to": "not-an-address"})).send().await.unwrap(),
        422,
    )
    .await;
    assert_eq!(fields(&body), ["locale", "to"]);
    let list: Value = admin(&app, Method::GET, &shop, "/messages").send().await.unwrap().json().await.unwrap();
    assert_eq!(list["items"], json!([]), "no email was recorded");

    // Saving, a stale edit, and removing the shop's version.
    let good = json!({"subject": "Hallo {{ customer_name }}", "body_text": "Willkommen bei {{ shop_name }}"});
    let res = put("/templates/welcome/de", good.clone()).header("if-match", "\"1\"").send().await.unwrap();
    assert_eq!(problem(res, 412).await["type"], "https://agora.dev/problems/version-conflict");
    assert_eq!(put("/templates/welcome/de", good.clone()).send().await.unwrap().status(), 200);
    let res = put("/templates/welcome/de", good.clone()).header("if-match", "\"1\"").send().await.unwrap();
    assert_eq!(res.headers()["etag"], "\"2\"");
    problem(put("/templates/welcome/de", good).header("if-match", "\"1\"").send().await.unwrap(), 412).await;
    let res = admin(&app, Method::DELETE, &shop, "/templates/welcome/de").send().await.unwrap();
    assert_eq!(res.status(), 204);
    let current: Value =
        admin(&app, Method::GET, &shop, "/templates/welcome/de").send().await.unwrap().json().await.unwrap();
    assert_eq!(current["overridden"], false);
}

/// What a caller's own use case might fail with after asking for an email.
#[derive(Debug)]
enum CheckoutError {
    #[expect(dead_code, reason = "read only through Debug, when a test fails")]
    Db(DbError),
    Email(NotificationsError),
    PaymentDeclined,
}

impl From<DbError> for CheckoutError {
    fn from(e: DbError) -> Self {
        CheckoutError::Db(e)
    }
}

impl From<NotificationsError> for CheckoutError {
    fn from(e: NotificationsError) -> Self {
        CheckoutError::Email(e)
    }
}

#[tokio::test]
async fn an_email_asked_for_in_a_rolled_back_transaction_is_never_recorded_or_sent() {
    let app = mail_app(None, false).await;
    app.tenant("acme").await;
    let tenant = tenant_context(&app, "acme").await;
    let confirmation = || {
        SendEmail::new(
            "order_confirmation",
            "en",
            "buyer@example.com",
            json!({"shop_name": "Acme", "customer_name": "Bo", "order_number": "7", "order_total": "€1.00", "items": []}),
        )
    };
    let notifications = app.state.notifications.clone();

    let checkout = Acting::system("checkout");
    let (module, request) = (notifications.clone(), confirmation());
    let rolled_back = app
        .state
        .db
        .in_tenant(&tenant, &checkout, async move |tx| {
            module.send(tx, request).await?;
            Err::<(), _>(CheckoutError::PaymentDeclined)
        })
        .await;
    assert!(matches!(rolled_back, Err(CheckoutError::PaymentDeclined)));
    let pg = app.db.connect().await;
    let count = |sql: &'static str| {
        let pg = &pg;
        async move { pg.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    assert_eq!(count("SELECT count(*) FROM t_acme.notification_messages").await, 0);
    assert_eq!(count("SELECT count(*) FROM agora.jobs WHERE kind = 'notifications.deliver_email'").await, 0);

    let (module, request) = (notifications.clone(), confirmation());
    let id = app
        .state
        .db
        .in_tenant(&tenant, &checkout, async move |tx| Ok::<_, CheckoutError>(module.send(tx, request).await?))
        .await
        .unwrap();
    let row = pg
        .query_one("SELECT status FROM t_acme.notification_messages WHERE id::text = $1", &[&id.to_string()])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "queued");
    let job = pg
        .query_one(
            "SELECT state, tenant_slug, dedup_key FROM agora.jobs WHERE kind = 'notifications.deliver_email'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(
        (job.get::<_, String>(0), job.get::<_, String>(1), job.get::<_, String>(2)),
        ("queued".to_string(), "acme".to_string(), id.to_string())
    );

    // A bad request inside the caller's transaction fails it with the field named.
    let module = notifications.clone();
    let bad = SendEmail::new("order_confirmation", "en", "nobody", json!({}));
    let failed = app
        .state
        .db
        .in_tenant(&tenant, &checkout, async move |tx| Ok::<_, CheckoutError>(module.send(tx, bad).await?))
        .await;
    match failed {
        Err(CheckoutError::Email(NotificationsError::Common(agora_kernel::CommonError::Invalid(errors)))) => {
            assert_eq!(errors[0].field, "to")
        }
        other => panic!("expected an invalid request, got {other:?}"),
    }
}

#[tokio::test]
async fn a_refused_recipient_fails_at_once_and_can_be_sent_again() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = mail_app(Some(port), true).await;
    let shop = app.tenant("acme").await;
    let refused = send(&app, &shop, json!({"template": "welcome", "locale": "en", "to": "rejected@example.com"})).await;
    let id = refused["id"].as_str().unwrap().to_string();
    let failed = wait_for_status(&app, &shop, &id, "failed").await;
    assert_eq!(failed["attempts"], 1, "a 550 is not retried");
    assert!(failed["last_error"].as_str().unwrap().contains("550"), "{failed}");
    let pg = app.db.connect().await;
    let state: String = pg
        .query_one("SELECT state FROM agora.jobs WHERE kind = 'notifications.deliver_email'", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(state, "dead");

    let res = admin(&app, Method::POST, &shop, &format!("/messages/{id}/resend")).send().await.unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "queued");
    let again = wait_until(&app, &shop, &id, |e| e["status"] == "failed" && e["attempts"] == 2).await;
    assert!(again["last_error"].as_str().unwrap().contains("mailbox unavailable"));
    assert!(sink.emails().is_empty());
}

/// The links containing `path` in the emails `sink` received for `to`, once there are `count`
/// of them (the legitimate way a test gets a one-time link: as its recipient).
pub(crate) async fn links_to(sink: &SmtpSink, to: &str, path: &str, count: usize) -> Vec<String> {
    let found = || -> Vec<String> {
        sink.emails()
            .iter()
            .filter(|e| e["rcpt_tos"][0].as_str().is_some_and(|r| r.eq_ignore_ascii_case(to)))
            .flat_map(|e| {
                text(&e["text"]).split_whitespace().filter(|w| w.contains(path)).map(str::to_string).collect::<Vec<_>>()
            })
            .collect()
    };
    eventually(DEADLINE, || {
        let n = found().len();
        async move { n >= count }
    })
    .await;
    let links = found();
    assert_eq!(links.len(), count, "exactly {count} links with {path} to {to}: {links:?}");
    links
}

/// The token of a one-time link.
pub(crate) fn token_of(link: &str) -> String {
    link.split_once("token=").map(|(_, token)| token.to_string()).unwrap_or_else(|| panic!("no token in {link}"))
}
