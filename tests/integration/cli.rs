//! The binary as an operator runs it: migrations from several processes, crashes, the embedded
//! database, graceful shutdown.

use crate::support::{run_agora, shipped, AgoraProcess, TestDatabase};
use nix::sys::signal::Signal;
use std::time::Duration;

/// Shops whose provisioning was interrupted before their schema existed (as after a crash).
async fn interrupted_shops(db: &TestDatabase, count: usize) -> Vec<String> {
    let (ok, _, err) = run_agora(&["migrate"], &[("DATABASE_URL", &db.url)]).await;
    assert!(ok, "{err}");
    let pg = db.connect().await;
    let mut slugs = Vec::new();
    for i in 0..count {
        let slug = format!("shop{i:03}");
        pg.execute(
            "INSERT INTO agora.tenants (id, slug, name, status, schema_name, created_by, modified_by) \
             VALUES (gen_random_uuid(), $1, $1, 'provisioning', 't_' || $1, 'test', 'test')",
            &[&slug],
        )
        .await
        .unwrap();
        slugs.push(slug);
    }
    slugs
}

async fn assert_all_current(db: &TestDatabase, slugs: &[String]) {
    let tenant_versions = shipped("tenant");
    let latest = *tenant_versions.last().unwrap();
    let pg = db.connect().await;
    for slug in slugs {
        let row =
            pg.query_one("SELECT status, schema_version FROM agora.tenants WHERE slug = $1", &[slug]).await.unwrap();
        assert_eq!((row.get::<_, String>(0), row.get::<_, i32>(1)), ("active".to_string(), latest), "{slug}");
        let history: Vec<i32> = pg
            .query(&format!("SELECT version FROM t_{slug}.refinery_schema_history ORDER BY version"), &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(history, tenant_versions, "{slug}: each migration applied exactly once");
        let settings: i64 =
            pg.query_one(&format!("SELECT count(*) FROM t_{slug}.shop_settings"), &[]).await.unwrap().get(0);
        assert_eq!(settings, 1, "{slug}");
    }
    let control: Vec<i32> = pg
        .query("SELECT version FROM agora.refinery_schema_history ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(control, shipped("control"));
}

#[tokio::test]
async fn two_migrations_at_once_both_succeed_and_apply_each_migration_once() {
    let db = TestDatabase::create().await;
    let slugs = interrupted_shops(&db, 24).await;
    let env = [("DATABASE_URL", db.url.as_str()), ("AGORA_MIGRATE_CONCURRENCY", "3")];
    let (first, second) = tokio::join!(run_agora(&["migrate"], &env), run_agora(&["migrate"], &env));
    assert!(first.0, "first migrate failed: {}", first.2);
    assert!(second.0, "second migrate failed: {}", second.2);
    assert_all_current(&db, &slugs).await;
}

#[tokio::test]
async fn a_migration_killed_midway_is_finished_by_the_next_run() {
    let db = TestDatabase::create().await;
    let slugs = interrupted_shops(&db, 120).await;
    let env = [("DATABASE_URL", db.url.as_str()), ("AGORA_MIGRATE_CONCURRENCY", "1")];
    let mut first = AgoraProcess::spawn(&["migrate"], &env);
    let pg = db.connect().await;
    let active = || async {
        pg.query_one("SELECT count(*) FROM agora.tenants WHERE status = 'active'", &[]).await.unwrap().get::<_, i64>(0)
    };
    crate::support::eventually(Duration::from_secs(60), || async { active().await >= 3 }).await;
    first.signal(Signal::SIGKILL);
    first.wait_exit(Duration::from_secs(10)).await;
    let done = active().await;
    assert!(done < slugs.len() as i64, "the kill landed midway ({done} of {} done)", slugs.len());

    let (ok, _, err) = run_agora(&["migrate"], &env).await;
    assert!(ok, "{err}");
    assert_all_current(&db, &slugs).await;
}

#[tokio::test]
async fn in_flight_requests_finish_on_sigterm() {
    let db = TestDatabase::create().await;
    let env = [("DATABASE_URL", db.url.as_str()), ("AGORA_TOKEN_KEY", crate::support::TOKEN_KEY)];
    crate::support::create_operator_with_cli(&env, "ops@platform.test").await;
    let mut agora = AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0"], &env);
    let base = agora.wait_listening().await;
    let token = crate::support::login_for_token(&base, "/api/v1/platform/auth/login", None, "ops@platform.test").await;
    // Hold the lock provisioning `slow` needs, so its request is in flight when SIGTERM arrives.
    let blocker = db.connect().await;
    blocker.execute("SELECT pg_advisory_lock(hashtext('agora.migrate'), hashtext('t_slow'))", &[]).await.unwrap();
    let request = tokio::spawn(
        reqwest::Client::new()
            .post(format!("{base}/api/v1/platform/tenants"))
            .bearer_auth(token)
            .json(&serde_json::json!({"slug": "slow", "name": "Slow"}))
            .send(),
    );
    let pg = db.connect().await;
    crate::support::eventually(Duration::from_secs(10), || async {
        pg.query_opt("SELECT 1 FROM agora.tenants WHERE slug = 'slow'", &[]).await.unwrap().is_some()
    })
    .await;
    agora.signal(Signal::SIGTERM);
    // New connections are refused once the server stops accepting.
    crate::support::eventually(Duration::from_secs(10), || async {
        reqwest::get(format!("{base}/healthz")).await.is_err()
    })
    .await;
    blocker.execute("SELECT pg_advisory_unlock(hashtext('agora.migrate'), hashtext('t_slow'))", &[]).await.unwrap();
    let response = request.await.unwrap().unwrap();
    assert_eq!(response.status(), 201, "the in-flight request completed");
    assert!(agora.wait_exit(Duration::from_secs(30)).await.success());
}

#[tokio::test]
async fn the_embedded_database_keeps_data_across_restarts_and_refuses_a_second_instance() {
    let dir = tempfile::Builder::new().prefix("agora-embedded-").tempdir().unwrap();
    // The embedded cluster runs as the unprivileged `postgres` user when we are root: it must be
    // able to reach the directory.
    std::fs::set_permissions(dir.path(), std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let env = [("AGORA_DATA_DIR", data), ("AGORA_PLATFORM_TOKEN", crate::support::PLATFORM_TOKEN)];

    let (ok, out, err) = run_agora(&["tenant", "create", "acme", "--name", "Acme", "--currency", "EUR"], &env).await;
    assert!(ok, "{err}");
    assert!(out.contains("\"slug\": \"acme\""), "{out}");

    let mut first = AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0"], &env);
    let base = first.wait_listening().await;
    let shop: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/store/shop"))
        .header("x-tenant-id", "acme")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(shop["name"], "Acme");

    let (ok, _, err) = run_agora(&["serve", "--bind", "127.0.0.1:0"], &env).await;
    assert!(!ok, "a second instance must be refused");
    assert!(err.contains("in use"), "the refusal says why: {err}");

    first.signal(Signal::SIGTERM);
    assert!(first.wait_exit_with_logs(Duration::from_secs(60)).await.success());
    assert!(
        first.log_lines().iter().any(|l| l.contains("embedded PostgreSQL stopped")),
        "the embedded database was stopped cleanly"
    );

    // Start again: the shop is still there.
    let (ok, out, err) = run_agora(&["tenant", "show", "acme"], &env).await;
    assert!(ok, "{err}");
    assert!(out.contains("\"name\": \"Acme\""), "{out}");
    let (ok, out, _) = run_agora(&["tenant", "list"], &env).await;
    assert!(ok && out.contains("acme"), "{out}");
}

#[tokio::test]
async fn bad_configuration_names_the_setting() {
    let (ok, _, err) = run_agora(&["migrate"], &[("AGORA_DB_POOL_SIZE", "many")]).await;
    assert!(!ok);
    assert!(err.contains("AGORA_DB_POOL_SIZE"), "{err}");
    let (ok, _, err) = run_agora(
        &["tenant", "create", "Bad Slug", "--name", "x"],
        &[("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none")],
    )
    .await;
    assert!(!ok);
    assert!(!err.is_empty());
}

#[tokio::test]
async fn every_command_has_help() {
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["tenant", "--help"],
        vec!["tenant", "create", "--help"],
        vec!["tenant", "list", "--help"],
        vec!["tenant", "show", "--help"],
        vec!["tenant", "suspend", "--help"],
        vec!["tenant", "resume", "--help"],
        vec!["openapi", "--help"],
        vec!["demo", "--help"],
    ] {
        let (ok, out, _) = run_agora(&args, &[]).await;
        assert!(ok && out.contains("Usage"), "{args:?}: {out}");
    }
}

/// `agora demo` (what `scripts/run.sh` runs) leaves sign-ins a person can use, and prints the
/// same ones on every run.
#[tokio::test]
async fn the_demo_prints_sign_ins_that_work_and_keeps_them() {
    let app = crate::support::TestApp::spawn().await;
    let data = tempfile::tempdir().unwrap();
    let env = [
        ("DATABASE_URL", app.db.url.as_str()),
        ("AGORA_DATA_DIR", data.path().to_str().unwrap()),
        ("AGORA_TOKEN_KEY", crate::support::TOKEN_KEY),
    ];
    let (ok, first, err) = run_agora(&["demo"], &env).await;
    assert!(ok, "{err}");
    let (ok, second, err) = run_agora(&["demo"], &env).await;
    assert!(ok, "{err}");
    assert!(second.contains("demo shop already exists"), "{second}");
    let sign_in = |out: &str, who: &str| {
        let line = out.lines().find(|l| l.starts_with(who)).unwrap_or_else(|| panic!("{who} in {out}"));
        let (email, password) = line.split_once(':').unwrap().1.split_once(" / ").unwrap();
        (email.trim().to_string(), password.trim().to_string())
    };
    let owner = sign_in(&first, "demo shop owner");
    assert_eq!(owner, sign_in(&second, "demo shop owner"), "the same sign-in every run");
    let operator = sign_in(&first, "platform operator");
    assert_eq!(operator, sign_in(&second, "platform operator"));

    let login = |path: &'static str, (email, password): (String, String)| {
        app.client
            .post(app.url(path))
            .header("x-tenant-id", "demo")
            .json(&serde_json::json!({"email": email, "password": password, "client": "api"}))
            .send()
    };
    let res = login("/api/v1/admin/auth/login", owner).await.unwrap();
    assert_eq!(res.status(), 200);
    let account: serde_json::Value = res.json().await.unwrap();
    assert_eq!(account["account"]["roles"], serde_json::json!(["owner"]));
    assert_eq!(login("/api/v1/platform/auth/login", operator).await.unwrap().status(), 200);
    let mode = std::fs::metadata(data.path().join("demo-sign-ins.txt")).unwrap().permissions();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&mode) & 0o077, 0, "only its owner may read it");
}

/// Without AGORA_TOKEN_KEY a single-node install keeps the key it made in its data directory, so
/// a restart signs nobody out (and sealed secrets still open).
#[tokio::test]
async fn without_a_configured_key_tokens_outlive_a_restart() {
    let db = TestDatabase::create().await;
    let data = tempfile::tempdir().unwrap();
    let env = [("DATABASE_URL", db.url.as_str()), ("AGORA_DATA_DIR", data.path().to_str().unwrap())];
    crate::support::create_operator_with_cli(&env, "ops@platform.test").await;
    let args = ["serve", "--bind", "127.0.0.1:0", "--workers", "0"];
    let client = reqwest::Client::new();

    let mut first = AgoraProcess::spawn(&args, &env);
    let base = first.wait_listening().await;
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/platform/auth/login"))
        .json(&serde_json::json!({"email": "ops@platform.test", "password": crate::support::PASSWORD, "client": "api"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = login["access_token"].as_str().unwrap().to_string();
    first.signal(Signal::SIGTERM);
    assert!(first.wait_exit(Duration::from_secs(60)).await.success());

    let mut second = AgoraProcess::spawn(&args, &env);
    let base = second.wait_listening().await;
    let me = client.get(format!("{base}/api/v1/platform/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), 200, "the token of the first run is still good");
    let kept = std::fs::metadata(data.path().join("token-key")).unwrap().permissions();
    assert_eq!(std::os::unix::fs::PermissionsExt::mode(&kept) & 0o077, 0, "only its owner may read the key");
}
