//! The embedded PostgreSQL comes back by itself: `agora serve` on its own cluster, its postmaster
//! killed as the out-of-memory killer would, and a cluster that cannot start again.

use crate::support::{create_staff_with_cli, eventually, login_for_token, run_agora, AgoraProcess, TOKEN_KEY};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use serde_json::{json, Value};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A data directory the `postgres` user can reach when the tests run as root.
fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new().prefix("agora-supervise-").tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    (dir, data)
}

/// The running postmaster, as PostgreSQL records it.
fn postmaster_pid(data: &Path) -> Pid {
    let text = std::fs::read_to_string(data.join("pg/postmaster.pid")).unwrap();
    Pid::from_raw(text.lines().next().unwrap().trim().parse().unwrap())
}

/// One test email through the shop's admin API: a row and a delivery job in one transaction.
#[derive(Clone)]
struct Shop {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Shop {
    async fn send(&self, key: &str, to: &str) -> Result<(u16, Value), String> {
        let res = self
            .client
            .post(format!("{}/api/v1/admin/notifications/test-send", self.base))
            .bearer_auth(&self.token)
            .header("x-tenant-id", "acme")
            .header("idempotency-key", key)
            .json(&json!({"template": "password_reset", "locale": "en", "to": to}))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = res.status().as_u16();
        Ok((status, res.json().await.unwrap_or(Value::Null)))
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}/api/v1/admin/notifications{path}", self.base))
            .bearer_auth(&self.token)
            .header("x-tenant-id", "acme")
            .send()
            .await
            .unwrap()
    }

    /// Retries `key` as a client would, until it is accepted; the accepted email.
    async fn retry_until_accepted(&self, key: &str, to: &str, deadline: Duration) -> Value {
        let start = Instant::now();
        loop {
            let outcome = self.send(key, to).await;
            if let Ok((202, body)) = &outcome {
                return body.clone();
            }
            assert!(start.elapsed() < deadline, "{key} was not accepted within {deadline:?}: last {outcome:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// What the continuous writer saw: (recipient, key, accepted email id or the failure).
type Writes = Arc<Mutex<Vec<(String, String, Result<String, String>, Instant)>>>;

#[tokio::test]
async fn a_killed_database_comes_back_and_nothing_acknowledged_is_lost() {
    let (_dir, data) = data_dir();
    let data_arg = data.to_str().unwrap();
    let env = [
        ("AGORA_DATA_DIR", data_arg),
        ("AGORA_TOKEN_KEY", TOKEN_KEY),
        ("AGORA_WORKERS", "2"),
        // A delivery job running when the database died is taken back once its lease expires.
        ("AGORA_JOB_LEASE_SECS", "2"),
        ("AGORA_HTTP_WORKERS", "2"),
        ("AGORA_DB_POOL_SIZE", "8"),
    ];
    let (ok, _, err) = run_agora(&["tenant", "create", "acme", "--name", "Acme"], &env).await;
    assert!(ok, "{err}");
    create_staff_with_cli(&env, "acme", "owner@acme.test", "owner").await;
    let mut agora = AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0"], &env);
    let base = agora.wait_listening().await;
    let token = login_for_token(&base, "/api/v1/admin/auth/login", Some("acme"), "owner@acme.test").await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(30)).build().unwrap();
    let shop = Shop { client, base: base.clone(), token };

    // Writes one email after another, each under its own key, until told to stop.
    let writes: Writes = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let (shop, writes, stop) = (shop.clone(), writes.clone(), stop.clone());
        async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let (key, to) = (format!("write-{n}"), format!("w{n}@example.com"));
                let outcome = match shop.send(&key, &to).await {
                    Ok((202, body)) => Ok(body["id"].as_str().unwrap().to_string()),
                    Ok((status, body)) => Err(format!("{status} {body}")),
                    Err(e) => Err(e),
                };
                writes.lock().unwrap().push((to, key, outcome, Instant::now()));
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });
    let accepted_since = |since: Instant| writes.lock().unwrap().iter().filter(|w| w.2.is_ok() && w.3 > since).count();
    let started = Instant::now();
    eventually(Duration::from_secs(30), || async { accepted_since(started) >= 20 }).await;

    // Hold one write inside its handler, after its Idempotency-Key was claimed: the table it
    // writes is locked, so it is in flight when the database dies.
    let socket_dir = data.join("pg-run");
    let (pg, connection) = tokio_postgres::connect(
        &format!("host={} port=5432 user=agora dbname=agora", socket_dir.display()),
        tokio_postgres::NoTls,
    )
    .await
    .unwrap();
    tokio::spawn(connection);
    pg.batch_execute("BEGIN; LOCK TABLE t_acme.notification_messages IN ACCESS EXCLUSIVE MODE").await.unwrap();
    let held = tokio::spawn({
        let shop = shop.clone();
        async move { shop.send("held", "held@example.com").await }
    });
    // The held write and the writer's next one both wait for the lock.
    let waiting = || async {
        let row = pg
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE NOT granted \
                 AND relation = 't_acme.notification_messages'::regclass",
                &[],
            )
            .await
            .unwrap();
        row.get::<_, i64>(0) >= 2
    };
    eventually(Duration::from_secs(10), waiting).await;

    let killed_at = Instant::now();
    kill(postmaster_pid(&data), Signal::SIGKILL).unwrap();

    let held = held.await.unwrap();
    assert!(matches!(held, Ok((500..=599, _)) | Err(_)), "the held write failed with the database: {held:?}");
    eventually(Duration::from_secs(15), || async { accepted_since(killed_at) >= 1 }).await;
    let recovered_in = killed_at.elapsed();
    assert!(recovered_in < Duration::from_secs(15), "writes succeed again {recovered_in:?} after the kill");

    // The write that failed during the outage goes through on retry, with the same key.
    let held = shop.retry_until_accepted("held", "held@example.com", Duration::from_secs(15)).await;

    let recovered = Instant::now();
    eventually(Duration::from_secs(30), || async { accepted_since(recovered) >= 20 }).await;
    stop.store(true, Ordering::SeqCst);
    writer.await.unwrap();

    let writes = writes.lock().unwrap().clone();
    let failed: Vec<_> = writes.iter().filter(|w| w.2.is_err()).collect();
    assert!(!failed.is_empty(), "the kill landed mid-writes");
    let mut accepted: Vec<(String, String)> =
        writes.iter().filter_map(|(to, _, outcome, _)| Some((to.clone(), outcome.clone().ok()?))).collect();
    // Every write that failed is retried with its key, as a client would, and then accepted.
    for (to, key, _, _) in &failed {
        let email = shop.retry_until_accepted(key, to, Duration::from_secs(15)).await;
        accepted.push((to.clone(), email["id"].as_str().unwrap().to_string()));
    }
    accepted.push(("held@example.com".into(), held["id"].as_str().unwrap().to_string()));

    // Every acknowledged write is there exactly once, and its delivery job ran (without SMTP
    // configured, delivering keeps the email in the shop's mailbox: `stored`).
    for (to, id) in &accepted {
        let listed: Value = shop.get(&format!("/messages?recipient={to}")).await.json().await.unwrap();
        let items = listed["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{to} was written exactly once: {listed}");
        assert_eq!(items[0]["id"], id.as_str(), "{to}");
    }
    // A job whose attempt fell into the outage waits out its lease and its retry backoff; on a
    // loaded two-core machine that took over 30 s once, so the deadline is generous. Finishing
    // at all is what is asserted.
    let deadline = Instant::now() + Duration::from_secs(90);
    for (to, id) in &accepted {
        loop {
            let email: Value = shop.get(&format!("/messages/{id}")).await.json().await.unwrap();
            if email["status"] == "stored" {
                break;
            }
            assert!(Instant::now() < deadline, "the delivery job of {to} did not finish: {email}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    // Operators see what happened.
    let ready = shop.client.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = shop.client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(metrics.lines().any(|l| l == "agora_embedded_postgres_restarts_total 1"), "{metrics}");
    assert!(metrics.lines().any(|l| l == "agora_embedded_postgres_up 1"), "{metrics}");
    let logs = agora.log_lines();
    let crash = logs
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|l| l["message"] == "the embedded PostgreSQL exited unexpectedly; restarting it")
        .unwrap_or_else(|| panic!("the crash is logged:\n{}", logs.join("\n")));
    assert!(crash["exit"].as_str().unwrap().contains("signal: 9"), "{crash}");
    assert!(logs.iter().any(|l| l.contains("the embedded PostgreSQL is back")), "the restart is logged");
    assert!(
        logs.iter().any(|l| l.contains(&data.join("pg-log").display().to_string())),
        "the start-up names PostgreSQL's log"
    );

    agora.signal(Signal::SIGTERM);
    assert!(agora.wait_exit(Duration::from_secs(60)).await.success());
}

#[tokio::test]
async fn a_database_that_cannot_start_again_stops_agora_with_the_reason() {
    let (_dir, data) = data_dir();
    let env = [
        ("AGORA_DATA_DIR", data.to_str().unwrap()),
        ("AGORA_TOKEN_KEY", TOKEN_KEY),
        ("AGORA_WORKERS", "0"),
        ("AGORA_EMBEDDED_PG_MAX_EXITS", "3"),
    ];
    let mut agora = AgoraProcess::spawn(&["serve", "--bind", "127.0.0.1:0"], &env);
    agora.wait_listening().await;

    // The cluster becomes unusable (as after a botched restore or chown), then the server dies.
    let pg_dir = data.join("pg");
    let postmaster = postmaster_pid(&data);
    std::fs::set_permissions(&pg_dir, std::fs::Permissions::from_mode(0o000)).unwrap();
    kill(postmaster, Signal::SIGKILL).unwrap();
    let status = agora.wait_exit_with_logs(Duration::from_secs(60)).await;
    std::fs::set_permissions(&pg_dir, std::fs::Permissions::from_mode(0o700)).unwrap();

    let logs = agora.log_lines().join("\n");
    assert!(!status.success(), "agora gives up and exits non-zero:\n{logs}");
    let error = &logs[logs.rfind("error: ").unwrap_or_else(|| panic!("an error is printed:\n{logs}"))..];
    assert!(error.contains("exited 3 times within 60 s"), "{error}");
    assert!(error.contains("free space"), "{error}");
    assert!(error.contains(&pg_dir.display().to_string()), "{error}");
    assert!(error.contains(&data.join("pg-log").display().to_string()), "{error}");
    assert!(error.contains(&data.join("postgres.log").display().to_string()), "{error}");
    assert!(error.contains("Permission denied"), "the log's own words say what is wrong: {error}");
}
