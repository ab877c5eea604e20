//! Issue 8's closing check: after a full flow on the real binary — tokens, an API key, an
//! authenticator seed and recovery codes, a webhook signing secret, all created with
//! `Idempotency-Key` so their responses are stored for replay, and a reset link mailed without
//! SMTP — no one-time secret is found in clear in the stored idempotent responses, the shop's
//! tables, a GDPR export, the mailbox listing, or any log line the server wrote (at debug level).

use crate::mfa::{base32_decode, step_now, totp};
use crate::support::{create_staff_with_cli, run_agora, AgoraProcess, TestDatabase, PASSWORD, TOKEN_KEY};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn no_one_time_secret_is_kept_or_logged_in_clear_after_a_full_flow() {
    let db = TestDatabase::create().await;
    let env = [
        ("DATABASE_URL", db.url.as_str()),
        ("AGORA_TOKEN_KEY", TOKEN_KEY),
        ("AGORA_OUTBOUND_ALLOW_PRIVATE", "true"),
        ("RUST_LOG", "debug,tokio_postgres=info,hyper=info,reqwest=info,h2=info,rustls=info"),
    ];
    let (ok, _, err) = run_agora(&["tenant", "create", "acme", "--name", "Acme"], &env).await;
    assert!(ok, "{err}");
    create_staff_with_cli(&env, "acme", "olga@acme.test", "owner").await;
    let mut agora = AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0"], &env);
    let base = agora.wait_listening().await;
    let client = reqwest::Client::new();
    let call = |method: reqwest::Method, path: &str, bearer: Option<&str>, key: Option<&str>, body: Option<Value>| {
        let mut req = client.request(method, format!("{base}{path}")).header("x-tenant-id", "acme");
        if let Some(token) = bearer {
            req = req.bearer_auth(token);
        }
        if let Some(key) = key {
            req = req.header("idempotency-key", key);
        }
        if let Some(body) = body {
            req = req.json(&body);
        }
        req
    };
    let json_of = |res: reqwest::Response, status: u16| async move {
        let got = res.status().as_u16();
        let text = res.text().await.unwrap();
        assert_eq!(got, status, "{text}");
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let mut secrets: Vec<(&str, String)> = Vec::new();
    let post = reqwest::Method::POST;

    // The owner signs in as an API client: an access and a refresh token.
    let login = json!({"email": "olga@acme.test", "password": PASSWORD, "client": "api"});
    let owner =
        json_of(call(post.clone(), "/api/v1/admin/auth/login", None, None, Some(login)).send().await.unwrap(), 200)
            .await;
    let owner_token = owner["access_token"].as_str().unwrap().to_string();
    secrets.push(("owner access token", owner_token.clone()));
    secrets.push(("owner refresh token", owner["refresh_token"].as_str().unwrap().to_string()));
    let as_owner = Some(owner_token.as_str());

    // An API key, created with an Idempotency-Key, and its replay to the same caller.
    let new_key = json!({"name": "erp", "scopes": ["shop.read"]});
    let create_key = || call(post.clone(), "/api/v1/admin/api-keys", as_owner, Some("key-1"), Some(new_key.clone()));
    let api_key = json_of(create_key().send().await.unwrap(), 201).await;
    let replayed = create_key().send().await.unwrap();
    assert_eq!(replayed.headers().get("idempotent-replayed").map(|v| v.to_str().unwrap()), Some("true"));
    let replayed = json_of(replayed, 201).await;
    assert_eq!(replayed["key"], api_key["key"], "the same caller still gets its own answer again");
    secrets.push(("API key", api_key["key"].as_str().unwrap().to_string()));

    // A webhook endpoint's signing secret.
    let endpoint = json!({"url": "http://127.0.0.1:9/hooks", "event_types": ["*"]});
    let res = call(post.clone(), "/api/v1/admin/webhooks/endpoints", as_owner, Some("hook-1"), Some(endpoint));
    let endpoint = json_of(res.send().await.unwrap(), 201).await;
    secrets.push(("webhook secret", endpoint["secret"].as_str().unwrap().to_string()));

    // An authenticator: its seed, then the recovery codes of its activation.
    let res = call(post.clone(), "/api/v1/admin/me/mfa/totp", as_owner, Some("mfa-1"), None);
    let enrolment = json_of(res.send().await.unwrap(), 200).await;
    let seed = enrolment["secret"].as_str().unwrap().to_string();
    let code = json!({"code": totp(&base32_decode(&seed), step_now())});
    let res = call(post.clone(), "/api/v1/admin/me/mfa/totp/activate", as_owner, Some("mfa-2"), Some(code));
    let codes = json_of(res.send().await.unwrap(), 200).await;
    secrets.push(("authenticator seed", seed));
    for code in codes["recovery_codes"].as_array().unwrap() {
        secrets.push(("recovery code", code.as_str().unwrap().to_string()));
    }

    // A customer with tokens of their own asks for a password reset (mailed without SMTP).
    let shopper = json!({"email": "cleo@example.com", "password": PASSWORD});
    let res = call(post.clone(), "/api/v1/store/auth/register", None, Some("reg-1"), Some(shopper)).send().await;
    assert_eq!(res.unwrap().status(), 202);
    let login = json!({"email": "cleo@example.com", "password": PASSWORD, "client": "api"});
    let customer =
        json_of(call(post.clone(), "/api/v1/store/auth/login", None, None, Some(login)).send().await.unwrap(), 200)
            .await;
    let customer_token = customer["access_token"].as_str().unwrap().to_string();
    secrets.push(("customer access token", customer_token.clone()));
    secrets.push(("customer refresh token", customer["refresh_token"].as_str().unwrap().to_string()));
    let reset = json!({"email": "cleo@example.com"});
    let res = call(post.clone(), "/api/v1/store/auth/password-reset/request", None, None, Some(reset)).send().await;
    assert_eq!(res.unwrap().status(), 202);

    // What the customer's export and the staff mailbox show.
    let get = reqwest::Method::GET;
    let export = call(get.clone(), "/api/v1/store/me/export", Some(&customer_token), None, None).send().await.unwrap();
    assert_eq!(export.status(), 200);
    let export = export.text().await.unwrap();
    let mailbox = call(get.clone(), "/api/v1/admin/notifications/messages", as_owner, None, None).send().await.unwrap();
    assert_eq!(mailbox.status(), 200);
    let mailbox = mailbox.text().await.unwrap();
    assert!(mailbox.contains("cleo@example.com"), "the reset email is listed: {mailbox}");

    // Everything the server keeps: the stored idempotent responses and every row of the shop's
    // and the control schema's tables, as text.
    let pg = db.connect().await;
    let mut stored = String::new();
    let tables = pg
        .query(
            "SELECT format('%I.%I', table_schema, table_name) FROM information_schema.tables \
             WHERE table_schema IN ('agora', 't_acme') AND table_type = 'BASE TABLE'",
            &[],
        )
        .await
        .unwrap();
    for table in tables {
        let name: String = table.get(0);
        let rows = pg.query(&format!("SELECT row_to_json(t)::text FROM {name} t"), &[]).await.unwrap();
        for row in rows {
            stored.push_str(&row.get::<_, String>(0));
            stored.push('\n');
        }
    }
    let idempotent: i64 = pg.query_one("SELECT count(*) FROM agora.idempotency_keys", &[]).await.unwrap().get(0);
    assert!(idempotent >= 4, "the responses were stored for replay ({idempotent} rows)");

    agora.signal(nix::sys::signal::Signal::SIGTERM);
    assert!(agora.wait_exit_with_logs(Duration::from_secs(30)).await.success());
    let logs = agora.log_lines().join("\n");
    assert!(logs.contains("DEBUG") || logs.contains("\"level\":\"DEBUG\""), "the server logged at debug level");

    for (what, secret) in &secrets {
        assert!(secret.len() >= 6, "{what} is a real secret: {secret}");
        assert!(!stored.contains(secret.as_str()), "the {what} is stored in clear");
        assert!(!export.contains(secret.as_str()), "the {what} is in the export");
        assert!(!mailbox.contains(secret.as_str()), "the {what} is in the mailbox listing");
        assert!(!logs.contains(secret.as_str()), "the {what} is in a log line");
    }
    // Nor a one-time link: the reset link is sealed for its addressee, never shown or logged.
    for (place, text) in [("stored rows", &stored), ("export", &export), ("mailbox", &mailbox), ("logs", &logs)] {
        assert!(!text.contains("token="), "a one-time link in the {place}");
    }
}
