//! The test harness: the real app on port 0 over a real PostgreSQL, one fresh database per test so
//! tests run in parallel, optionally with a real Redis.
//!
//! ```ignore
//! let app = TestApp::spawn().await;
//! let acme = app.tenant("acme").await;
//! let res = app.get("/api/v1/store/shop").header("X-Tenant-ID", acme).send().await?;
//! ```

use agora::app::{self, AppState};
use agora::config::Config;
use secrecy::SecretString;
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub const PLATFORM_TOKEN: &str = "test-platform-token-0123456789";
/// Key signing access tokens, shared by every app a test starts (replicas must agree on it).
pub const TOKEN_KEY: &str = "test-token-key-0123456789abcdef0123456789";
/// Password of every account the harness creates.
pub const PASSWORD: &str = "correct horse battery staple";

/// A signed-in shop user: their account and a bearer access token.
#[derive(Debug, Clone)]
pub struct Credentials {
    pub user_id: String,
    pub email: String,
    pub access_token: String,
}

/// Where the tests' PostgreSQL server is (a superuser who may create databases).
pub fn admin_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".into())
}

/// A database of its own for one test, dropped when the test ends.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        let name = format!("agora_test_{}", uuid::Uuid::now_v7().simple());
        let (client, connection) =
            tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await.unwrap_or_else(|e| {
                panic!("cannot reach the test PostgreSQL at {} ({e}); run scripts/test.sh", admin_url())
            });
        tokio::spawn(connection);
        client.batch_execute(&format!("CREATE DATABASE {name}")).await.expect("create test database");
        let url = match admin_url().rsplit_once('/') {
            Some((server, _)) => format!("{server}/{name}"),
            None => panic!("TEST_DATABASE_URL must end with /<database>"),
        };
        Self { name, url }
    }

    /// A plain connection to this database, for checks behind the app's back.
    pub async fn connect(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls).await.expect("connect");
        tokio::spawn(connection);
        client
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs inside the test's runtime; do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                if let Ok((client, connection)) = tokio_postgres::connect(&admin_url(), tokio_postgres::NoTls).await {
                    tokio::spawn(connection);
                    let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
                }
            });
        })
        .join();
    }
}

/// Settings a test may change before the app starts.
pub struct TestOptions {
    pub env: HashMap<String, String>,
    pub redis: bool,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub state: AppState,
    pub db: TestDatabase,
    handle: actix_web::dev::ServerHandle,
    /// Bearer token of the harness's platform operator.
    pub operator_token: String,
    /// Each shop's owner, created with the shop.
    owners: std::sync::Mutex<HashMap<String, Credentials>>,
    /// Job workers, running only when the test sets `AGORA_WORKERS` above 0 (default 0, so
    /// tests that inspect queued jobs see them stay queued).
    workers: Option<agora_kernel::jobs::WorkerPool>,
    /// The settings it started with, for [`TestApp::replica`].
    env: HashMap<String, String>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    pub async fn spawn_with(customize: impl FnOnce(&mut TestOptions)) -> Self {
        let db = TestDatabase::create().await;
        // Bound first, so links the app writes (AGORA_PUBLIC_URL) can name its real address.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a test port");
        let addr = listener.local_addr().expect("test port");
        let mut options = TestOptions { env: HashMap::new(), redis: false };
        options.env.insert("DATABASE_URL".into(), db.url.clone());
        options.env.insert("AGORA_BIND".into(), addr.to_string());
        options.env.insert("AGORA_PUBLIC_URL".into(), format!("http://{addr}"));
        options.env.insert("AGORA_PLATFORM_TOKEN".into(), PLATFORM_TOKEN.into());
        options.env.insert("AGORA_TOKEN_KEY".into(), TOKEN_KEY.into());
        options.env.insert("AGORA_HTTP_WORKERS".into(), "2".into());
        options.env.insert("AGORA_DB_POOL_SIZE".into(), "8".into());
        options.env.insert("AGORA_WORKERS".into(), "0".into());
        customize(&mut options);
        if options.redis {
            options.env.entry("REDIS_URL".into()).or_insert_with(redis_url);
            // A namespace per test: parallel tests share the Redis server, never its keys.
            options.env.insert("AGORA_REDIS_NAMESPACE".into(), db.name.clone());
        }
        let env = options.env.clone();
        let config = Config::load(None, &options.env).expect("test config");
        let state = AppState::build(&config, &SecretString::from(db.url.clone())).expect("app state");
        state.migrate(&()).await.expect("migrations");
        let operator = agora_identity::NewOperator {
            email: "operator@platform.test".into(),
            password: PASSWORD.into(),
            name: Some("Test Operator".into()),
        };
        let operator =
            state.identity.create_operator(operator, &agora_kernel::Actor::System("test")).await.expect("operator");
        let operator_token = state.identity.operator_access_token(operator.id).await.expect("operator token");
        let workers = app::start_workers(&state);
        let running = app::listen_on(state.clone(), listener).expect("listen");
        let handle = running.handle.clone();
        tokio::spawn(running.server);
        let client = reqwest::Client::builder().timeout(Duration::from_secs(60)).build().expect("http client");
        Self {
            base: format!("http://{}", running.addr),
            client,
            state,
            db,
            handle,
            operator_token,
            owners: std::sync::Mutex::new(HashMap::new()),
            workers,
            env,
        }
    }

    /// Another replica of this app: the same settings, database and Redis namespace, its own
    /// process state (caches, pools). Returns its base URL; it serves until the test ends.
    pub fn replica(&self, extra: &[(&str, &str)]) -> String {
        let mut env = self.env.clone();
        env.insert("AGORA_BIND".into(), "127.0.0.1:0".into());
        env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
        let config = Config::load(None, &env).expect("replica config");
        let state = AppState::build(&config, &SecretString::from(self.db.url.clone())).expect("replica state");
        let running = app::listen(state).expect("replica listens");
        tokio::spawn(running.server);
        format!("http://{}", running.addr)
    }

    /// Another replica's state, not serving: the same settings, database and Redis namespace,
    /// its own caches and pools (for tests that drive a module's facade on two replicas).
    pub fn replica_state(&self) -> AppState {
        let config = Config::load(None, &self.env).expect("replica config");
        AppState::build(&config, &SecretString::from(self.db.url.clone())).expect("replica state")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path))
    }

    /// A request as a platform operator.
    pub fn platform(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(&self.operator_token)
    }

    /// A request to `shop`'s admin API as its owner (created with the shop by [`Self::tenant`]).
    pub fn admin(&self, method: reqwest::Method, path: &str, shop: &str) -> reqwest::RequestBuilder {
        let owner = self.owners.lock().unwrap().get(shop).cloned().unwrap_or_else(|| panic!("no owner for {shop}"));
        self.as_user(method, path, shop, &owner)
    }

    /// A request to `shop` with `who`'s bearer token.
    pub fn as_user(
        &self,
        method: reqwest::Method,
        path: &str,
        shop: &str,
        who: &Credentials,
    ) -> reqwest::RequestBuilder {
        self.client.request(method, self.url(path)).bearer_auth(&who.access_token).header("x-tenant-id", shop)
    }

    /// The shop's context, as its requests resolve it.
    pub async fn context(&self, shop: &str) -> agora_kernel::TenantContext {
        self.state.tenancy.resolve(None, Some(shop)).await.expect("resolve").expect("shop exists")
    }

    /// A new staff member of `shop` with `roles` (none: a member without any permission).
    pub async fn staff(&self, shop: &str, roles: &[&str]) -> Credentials {
        let email = format!("staff-{}@{shop}.test", uuid::Uuid::now_v7().simple());
        let new = agora_identity::NewStaff {
            email: email.clone(),
            name: Some("Staff Member".into()),
            roles: roles.iter().map(|r| r.to_string()).collect(),
        };
        let tenant = self.context(shop).await;
        let account = self
            .state
            .identity
            .create_staff(
                &tenant,
                new,
                Some(PASSWORD.into()),
                &agora_identity::Grantor::System("test"),
                &Default::default(),
            )
            .await
            .expect("create staff");
        let access_token = self.state.identity.issue_access_token(&tenant, account.id).await.expect("token");
        Credentials { user_id: account.id.to_string(), email, access_token }
    }

    /// A new customer of `shop`, registered through the storefront API.
    pub async fn customer(&self, shop: &str) -> Credentials {
        let email = format!("customer-{}@example.com", uuid::Uuid::now_v7().simple());
        let res = self
            .client
            .post(self.url("/api/v1/store/auth/register"))
            .header("x-tenant-id", shop)
            .json(&serde_json::json!({"email": email, "password": PASSWORD, "name": "Carla Customer"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "register");
        let res = self
            .client
            .post(self.url("/api/v1/store/auth/login"))
            .header("x-tenant-id", shop)
            .json(&serde_json::json!({"email": email, "password": PASSWORD, "client": "api"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "login");
        let login: serde_json::Value = res.json().await.unwrap();
        let user_id = login["account"]["id"].as_str().unwrap().to_string();
        let access_token = login["access_token"].as_str().unwrap().to_string();
        Credentials { user_id, email, access_token }
    }

    /// Provisions a shop named after `slug` and returns the slug.
    pub async fn tenant(&self, slug: &str) -> String {
        self.tenant_named(slug, &format!("Shop {slug}")).await
    }

    pub async fn tenant_named(&self, slug: &str, name: &str) -> String {
        let new = agora_tenancy::NewTenant {
            slug: slug.into(),
            name: name.into(),
            default_currency: Some("EUR".into()),
            locales: Some(vec!["en".into(), "de".into()]),
            domains: vec![],
            owner: None,
        };
        self.state.tenancy.create(new, &agora_kernel::Actor::System("test")).await.expect("create tenant");
        let owner = self.staff(slug, &["owner"]).await;
        self.owners.lock().unwrap().insert(slug.to_string(), owner);
        slug.to_string()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        // Stop accepting; the runtime ends with the test anyway.
        let handle = self.handle.clone();
        drop(handle.stop(false));
        // Best effort: ask the workers to stop. The test's database is dropped (WITH FORCE) right
        // after, so nothing waits for them.
        if let (Some(workers), Ok(runtime)) = (self.workers.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(workers.shutdown());
        }
    }
}

/// Reads a problem+json response, asserting its status and content type.
pub async fn problem(res: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(res.status().as_u16(), status, "unexpected status");
    let content_type = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(content_type, "application/problem+json", "errors are problem+json");
    let body: serde_json::Value = res.json().await.expect("problem body is JSON");
    assert_eq!(body["status"], status, "problem status matches: {body}");
    assert!(body["type"].as_str().is_some_and(|t| t.starts_with("https://agora.dev/problems/")), "{body}");
    body
}

/// Waits for `check` to hold, up to `deadline`, polling (no fixed sleeps that hope for the best).
pub async fn eventually<F, Fut>(deadline: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < deadline, "condition not met within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// The real `agora` binary as a child process, killed if the test ends without stopping it.
pub struct AgoraProcess {
    pub child: std::process::Child,
    pub stderr: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    /// Set when its stderr reached its end.
    stderr_read: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

pub fn agora_command(env: &[(&str, &str)]) -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_agora"));
    // Nothing of the developer's own configuration leaks in.
    for (key, _) in std::env::vars() {
        if key.starts_with("AGORA_") || key == "DATABASE_URL" || key == "REDIS_URL" {
            cmd.env_remove(key);
        }
    }
    cmd.env("AGORA_LOG_FORMAT", "json").env("RUST_LOG", "info");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

impl AgoraProcess {
    pub fn spawn(args: &[&str], env: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let mut child = agora_command(env)
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn agora");
        let stderr = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let pipe = child.stderr.take().expect("stderr piped");
        let (sink, done) = (stderr.clone(), std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false)));
        let finished = done.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(pipe).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
            finished.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        Self { child, stderr, stderr_read: done }
    }

    pub fn log_lines(&self) -> Vec<String> {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits for the "agora listening" line and returns the base URL.
    pub async fn wait_listening(&mut self) -> String {
        let start = Instant::now();
        loop {
            let lines = self.log_lines();
            for line in &lines {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                    if v["message"] == "agora listening" {
                        return format!("http://{}", v["addr"].as_str().unwrap());
                    }
                }
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("agora exited with {status} before listening:\n{}", lines.join("\n"));
            }
            assert!(start.elapsed() < Duration::from_secs(90), "agora did not start:\n{}", lines.join("\n"));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    pub fn signal(&self, signal: nix::sys::signal::Signal) {
        let pid = nix::unistd::Pid::from_raw(i32::try_from(self.child.id()).unwrap());
        nix::sys::signal::kill(pid, signal).expect("signal agora");
    }

    /// Waits for the process to exit (bounded) and returns its status.
    pub async fn wait_exit(&mut self, deadline: Duration) -> std::process::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < deadline, "agora did not exit:\n{}", self.log_lines().join("\n"));
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// [`wait_exit`](Self::wait_exit), then waits (bounded) until the reader has every log line
    /// the process wrote: the reader thread may lag behind the exit, and a grandchild that
    /// inherited stderr could keep the pipe open.
    pub async fn wait_exit_with_logs(&mut self, deadline: Duration) -> std::process::ExitStatus {
        let status = self.wait_exit(deadline).await;
        let drained = Instant::now();
        while !self.stderr_read.load(std::sync::atomic::Ordering::SeqCst) && drained.elapsed() < Duration::from_secs(10)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        status
    }
}

impl Drop for AgoraProcess {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            // SIGTERM first so an embedded PostgreSQL is stopped by its supervisor.
            self.signal(nix::sys::signal::Signal::SIGTERM);
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(30) {
                if let Ok(Some(_)) = self.child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = self.child.kill();
        }
    }
}

/// Runs `agora <args>` to completion; returns (success, stdout, stderr).
pub async fn run_agora(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let mut cmd = agora_command(env);
    cmd.args(args);
    let out = tokio::task::spawn_blocking(move || cmd.output()).await.unwrap().expect("run agora");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Versions of the migrations shipped in `migrations/<dir>`, ascending.
pub fn shipped(dir: &str) -> Vec<i32> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations").join(dir);
    let mut versions: Vec<i32> = std::fs::read_dir(path)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_prefix('V')?.split("__").next()?.parse().ok())
        .collect();
    versions.sort_unstable();
    versions
}

/// Runs `agora <args>` with `input` on its standard input; returns (success, stdout, stderr).
pub async fn run_agora_with_input(args: &[&str], env: &[(&str, &str)], input: &str) -> (bool, String, String) {
    use std::io::Write;
    let mut cmd = agora_command(env);
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let input = input.to_string();
    let out = tokio::task::spawn_blocking(move || {
        let mut child = cmd.spawn().expect("run agora");
        child.stdin.take().expect("stdin piped").write_all(input.as_bytes()).expect("write stdin");
        child.wait_with_output()
    })
    .await
    .unwrap()
    .expect("run agora");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Creates the platform operator `email` with the CLI (as an installer would).
pub async fn create_operator_with_cli(env: &[(&str, &str)], email: &str) {
    let (ok, _, err) = run_agora_with_input(
        &["operator", "create", "--email", email, "--password-stdin"],
        env,
        &format!("{PASSWORD}\n"),
    )
    .await;
    assert!(ok, "{err}");
}

/// Creates a staff member of `shop` with the CLI.
pub async fn create_staff_with_cli(env: &[(&str, &str)], shop: &str, email: &str, role: &str) {
    let args = ["staff", "create", shop, "--email", email, "--role", role, "--password-stdin"];
    let (ok, _, err) = run_agora_with_input(&args, env, &format!("{PASSWORD}\n")).await;
    assert!(ok, "{err}");
}

/// Logs in over HTTP at `base` + `path` (`/api/v1/{platform,admin,store}/auth/login`) as an API
/// client and returns the access token.
pub async fn login_for_token(base: &str, path: &str, shop: Option<&str>, email: &str) -> String {
    let mut req = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .json(&serde_json::json!({"email": email, "password": PASSWORD, "client": "api"}));
    if let Some(shop) = shop {
        req = req.header("x-tenant-id", shop);
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 200, "login at {path}");
    let body: serde_json::Value = res.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

/// Every operation the served OpenAPI document lists under `prefix`: (method in lower case,
/// path template, the operation object).
pub async fn spec_operations(app: &TestApp, prefix: &str) -> Vec<(String, String, serde_json::Value)> {
    let spec: serde_json::Value = app.get("/api/openapi.json").send().await.unwrap().json().await.unwrap();
    let mut operations = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        if template.starts_with(prefix) {
            for (method, operation) in item.as_object().unwrap() {
                operations.push((method.clone(), template.clone(), operation.clone()));
            }
        }
    }
    operations
}
