//! Tasks and the CSV frame through the real app: a stock import and export declared here the
//! way catalog and inventory will declare theirs, run by the real worker pool over a real
//! PostgreSQL and real file storage, watched and cancelled over the admin API by the people who
//! may (and refused to everyone else).

use crate::support::{eventually, problem, Credentials, TestApp};
use agora_kernel::csv_files::{self, CsvExport, CsvImport, ExportPage, Line, Refused};
use agora_kernel::jobs::{Job, JobContext, JobError, JobRegistry, WorkerPool, WorkerSettings};
use agora_kernel::storage::{bytes_stream, FileKey, TenantFiles};
use agora_kernel::tasks::{self, NewTask, TaskId};
use agora_kernel::{perm, Acting, DbError, FieldError, Principal, TenantContext, TenantTx};
use diesel::sql_types::{Integer, Text};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use futures_util::future::BoxFuture;
use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(90);

// --- A stock import and export, as a module declares them ---------------------------------

#[derive(Debug, Deserialize)]
struct StockRow {
    sku: String,
    quantity: i32,
}

/// Sets stock levels; a SKU already present is left alone (so running it twice adds nothing).
struct StockImport {
    /// Fails the attempt once it reaches this line on the job's first attempt (a lost worker).
    break_first_attempt_at: Option<i64>,
    attempt: i32,
}

impl CsvImport for StockImport {
    type Row = StockRow;
    const COLUMNS: &'static [&'static str] = &["sku", "quantity"];

    fn apply<'a>(
        &'a self,
        tx: &'a mut TenantTx<'_>,
        rows: Vec<Line<StockRow>>,
    ) -> BoxFuture<'a, Result<Vec<Refused>, JobError>> {
        Box::pin(async move {
            if let (Some(at), 1) = (self.break_first_attempt_at, self.attempt) {
                if rows.iter().any(|r| r.line >= at) {
                    return Err(JobError::retry("the worker was lost"));
                }
            }
            let mut refused = Vec::new();
            let (mut skus, mut quantities) = (Vec::new(), Vec::new());
            for Line { line, row } in rows {
                if row.quantity < 0 {
                    refused.push((line, vec![FieldError::new("quantity", "must not be negative")]));
                } else {
                    skus.push(row.sku);
                    quantities.push(row.quantity);
                }
            }
            diesel::sql_query(
                "INSERT INTO task_stock_levels (sku, quantity) SELECT * FROM unnest($1::text[], $2::int[]) \
                 ON CONFLICT (sku) DO NOTHING",
            )
            .bind::<diesel::sql_types::Array<Text>, _>(skus)
            .bind::<diesel::sql_types::Array<Integer>, _>(quantities)
            .execute(tx.conn())
            .await?;
            Ok(refused)
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ImportStock {
    file: String,
    break_first_attempt_at: Option<i64>,
}

impl Job for ImportStock {
    const KIND: &'static str = "test.import_stock";
    const MAX_ATTEMPTS: i32 = 3;

    fn backoff(_attempt: i32) -> Duration {
        Duration::from_millis(10)
    }

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let file = FileKey::parse(&self.file).map_err(JobError::permanent)?;
        let import = StockImport { break_first_attempt_at: self.break_first_attempt_at, attempt: ctx.attempt };
        csv_files::run_import(&ctx, &import, &file).await
    }
}

#[derive(Debug, Serialize, diesel::QueryableByName)]
struct StockLevel {
    #[diesel(sql_type = Text)]
    sku: String,
    #[diesel(sql_type = Integer)]
    quantity: i32,
}

struct StockExport;

impl CsvExport for StockExport {
    type Row = StockLevel;
    type Key = String;
    const COLUMNS: &'static [&'static str] = &["sku", "quantity"];

    fn count<'a>(&'a self, conn: &'a mut AsyncPgConnection) -> BoxFuture<'a, Result<i64, DbError>> {
        Box::pin(async move {
            #[derive(diesel::QueryableByName)]
            struct Count {
                #[diesel(sql_type = diesel::sql_types::BigInt)]
                n: i64,
            }
            let count: Count =
                diesel::sql_query("SELECT count(*) AS n FROM task_stock_levels").get_result(conn).await?;
            Ok(count.n)
        })
    }

    fn page<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        after: Option<&'a String>,
        limit: i64,
    ) -> ExportPage<'a, String, StockLevel> {
        Box::pin(async move {
            let rows: Vec<StockLevel> = diesel::sql_query(
                "SELECT sku, quantity FROM task_stock_levels WHERE $1::text IS NULL OR sku > $1 ORDER BY sku LIMIT $2",
            )
            .bind::<diesel::sql_types::Nullable<Text>, _>(after)
            .bind::<diesel::sql_types::BigInt, _>(limit)
            .load(conn)
            .await?;
            Ok(rows.into_iter().map(|r| (r.sku.clone(), r)).collect())
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct ExportStock;

impl Job for ExportStock {
    const KIND: &'static str = "test.export_stock";

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        csv_files::run_export(&ctx, &StockExport, "stock.csv").await
    }
}

/// Counts until cancelled, checkpointing as it goes (long-running work a merchant stops).
#[derive(Debug, Serialize, Deserialize)]
struct CountForever;

impl Job for CountForever {
    const KIND: &'static str = "test.count_forever";

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let mut progress = ctx.progress().await?;
        progress.set_total(1_000_000_000);
        let started = std::time::Instant::now();
        while started.elapsed() < WAIT {
            progress.advance(10);
            if progress.checkpoint().await? {
                return progress.cancelled().await;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        Err(JobError::permanent("never cancelled"))
    }
}

/// Always fails, saying more than a merchant should read.
#[derive(Debug, Serialize, Deserialize)]
struct Doomed;

impl Job for Doomed {
    const KIND: &'static str = "test.doomed";
    const MAX_ATTEMPTS: i32 = 1;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let _progress = ctx.progress().await?;
        Err(JobError::retry("connection to 10.1.2.3 refused: internal detail"))
    }
}

// --- Harness ---------------------------------------------------------------------------------

struct Shop {
    app: TestApp,
    slug: String,
    tenant: TenantContext,
    _files_dir: tempfile::TempDir,
    workers: Option<WorkerPool>,
}

impl Shop {
    async fn open(with_workers: bool) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().display());
        let app = TestApp::spawn_with(|o| {
            o.env.insert("AGORA_STORAGE_URL".into(), url);
        })
        .await;
        let slug = app.tenant("acme").await;
        let tenant = app.context(&slug).await;
        let pg = app.db.connect().await;
        pg.batch_execute("CREATE TABLE t_acme.task_stock_levels (sku text PRIMARY KEY, quantity integer NOT NULL)")
            .await
            .unwrap();
        let mut shop = Shop { app, slug, tenant, _files_dir: dir, workers: None };
        if with_workers {
            shop.start_workers();
        }
        shop
    }

    /// The real worker pool, with this test's job kinds (the app's own run none here).
    fn start_workers(&mut self) {
        let mut registry = JobRegistry::default();
        registry.provide(Arc::new(self.app.state.storage.clone()));
        registry.register::<ImportStock>();
        registry.register::<ExportStock>();
        registry.register::<CountForever>();
        registry.register::<Doomed>();
        let settings =
            WorkerSettings { concurrency: 2, poll_interval: Duration::from_millis(50), ..Default::default() };
        let (db, bus) = (self.app.state.db.clone(), self.app.state.bus.clone());
        self.workers = Some(WorkerPool::start(db, bus, Arc::new(registry), settings, None));
    }

    async fn files(&self) -> TenantFiles {
        TenantFiles::new(self.app.state.storage.get().await.unwrap(), &self.tenant.schema).unwrap()
    }

    /// A staff member of the shop with `roles`, and their principal (for starting tasks).
    async fn staff(&self, roles: &[&str]) -> (Credentials, Principal) {
        let who = self.app.staff(&self.slug, roles).await;
        let permissions: BTreeSet<String> = match roles {
            ["catalog_manager"] => ["shop.read", "catalog.manage"].iter().map(|p| p.to_string()).collect(),
            [] => BTreeSet::new(),
            _ => panic!("roles this test knows: catalog_manager or none"),
        };
        let principal = Principal::Staff {
            tenant: self.tenant.id,
            user_id: who.user_id.parse().unwrap(),
            permissions: Arc::new(permissions),
        };
        (who, principal)
    }

    async fn start<J: Job>(&self, job: J, starter: &Principal) -> TaskId {
        let (tenant, who) = (self.tenant.clone(), NewTask::for_principal::<perm::CatalogManage>(starter));
        let starter_actor = starter.actor();
        self.app
            .state
            .db
            .in_tenant(&tenant, &Acting::new(starter_actor, None), async |tx| tasks::start(tx, &job, who).await)
            .await
            .unwrap()
    }

    async fn upload(&self, csv: Vec<u8>) -> FileKey {
        csv_files::receive_upload::<StockImport>(&self.files().await, bytes_stream(csv), 10 * 1024 * 1024)
            .await
            .unwrap()
    }

    fn get(&self, path: &str, who: &Credentials) -> reqwest::RequestBuilder {
        self.app.as_user(Method::GET, path, &self.slug, who)
    }

    async fn task(&self, id: TaskId, who: &Credentials) -> Value {
        let res = self.get(&format!("/api/v1/admin/tasks/{id}"), who).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.json().await.unwrap()
    }

    /// The task once it has finished, polled up to a deadline.
    async fn finished(&self, id: TaskId, who: &Credentials) -> Value {
        let start = std::time::Instant::now();
        loop {
            let detail = self.task(id, who).await;
            if ["succeeded", "failed", "cancelled"].contains(&detail["task"]["status"].as_str().unwrap()) {
                return detail;
            }
            assert!(start.elapsed() < WAIT, "task {id} did not finish: {detail}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    async fn scalar(&self, sql: &str) -> i64 {
        self.app.db.connect().await.query_one(sql, &[]).await.unwrap().get(0)
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        if let (Some(workers), Ok(runtime)) = (self.workers.take(), tokio::runtime::Handle::try_current()) {
            runtime.spawn(workers.shutdown());
        }
    }
}

/// 10,000 rows; line 101 has a quantity that is not a number, line 5002 a negative one, line
/// 9001 a missing field.
fn stock_file() -> Vec<u8> {
    let mut csv = String::from("sku,quantity\n");
    for i in 0..10_000 {
        let line = i + 2;
        match line {
            101 => csv.push_str(&format!("SKU-{i:05},many\n")),
            5002 => csv.push_str(&format!("SKU-{i:05},-4\n")),
            9001 => csv.push_str(&format!("SKU-{i:05}\n")),
            _ => csv.push_str(&format!("SKU-{i:05},{}\n", i % 50)),
        }
    }
    csv.into_bytes()
}

fn errors_of(detail: &Value) -> Vec<(i64, String)> {
    detail["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["line"].as_i64().unwrap(), e["field"].as_str().unwrap().to_string()))
        .collect()
}

// --- Tests -----------------------------------------------------------------------------------

#[tokio::test]
async fn an_import_of_10000_rows_applies_the_good_ones_names_the_bad_lines_and_never_counts_twice() {
    let shop = Shop::open(true).await;
    let (starter, principal) = shop.staff(&["catalog_manager"]).await;
    let file = shop.upload(stock_file()).await;

    // The first attempt loses its worker past line 6000; the retry starts the task afresh.
    let job = ImportStock { file: file.to_string(), break_first_attempt_at: Some(6000) };
    let id = shop.start(job, &principal).await;
    let detail = shop.finished(id, &starter).await;
    let task = &detail["task"];
    assert_eq!(task["status"], "succeeded", "{detail}");
    assert_eq!(
        (task["rows_total"].as_i64(), task["rows_done"].as_i64(), task["rows_failed"].as_i64()),
        (Some(10_000), Some(10_000), Some(3)),
        "{task}"
    );
    assert_eq!((task["error_count"].as_i64(), task["percent"].as_i64()), (Some(3), Some(100)));
    let expected = vec![(101, "quantity".to_string()), (5002, "quantity".to_string()), (9001, "row".to_string())];
    assert_eq!(errors_of(&detail), expected, "each bad row once, with its line and column: {detail}");
    assert_eq!(shop.scalar("SELECT count(*) FROM t_acme.task_stock_levels").await, 9_997);
    let attempts = shop
        .scalar(&format!(
            "SELECT attempts::bigint FROM agora.jobs j JOIN agora.tasks t USING (job_id) WHERE t.task_id = '{id}'"
        ))
        .await;
    assert_eq!(attempts, 2, "the first attempt failed part-way, the second finished");

    // The same file again: nothing new is applied, the same three lines are reported.
    shop.app
        .db
        .connect()
        .await
        .batch_execute("UPDATE t_acme.task_stock_levels SET quantity = 7 WHERE sku = 'SKU-00000'")
        .await
        .unwrap();
    let again = shop.start(ImportStock { file: file.to_string(), break_first_attempt_at: None }, &principal).await;
    let detail = shop.finished(again, &starter).await;
    assert_eq!(detail["task"]["status"], "succeeded");
    assert_eq!(errors_of(&detail), expected);
    assert_eq!(shop.scalar("SELECT count(*) FROM t_acme.task_stock_levels").await, 9_997);
    assert_eq!(
        shop.scalar("SELECT quantity::bigint FROM t_acme.task_stock_levels WHERE sku = 'SKU-00000'").await,
        7,
        "an existing row is left as it was"
    );
}

#[tokio::test]
async fn a_file_that_is_not_utf8_is_refused_whole_naming_its_line() {
    let shop = Shop::open(true).await;
    let (starter, principal) = shop.staff(&["catalog_manager"]).await;
    let mut csv = b"sku,quantity\nA,1\nB,2\nC,3\nD,4\nE,5\n".to_vec();
    csv.extend_from_slice(b"Cr\xe8me,6\nG,7\n"); // Latin-1, line 7
    let file = shop.upload(csv).await;
    let id = shop.start(ImportStock { file: file.to_string(), break_first_attempt_at: None }, &principal).await;
    let detail = shop.finished(id, &starter).await;
    assert_eq!(detail["task"]["status"], "failed", "{detail}");
    assert!(detail["task"]["failure"].as_str().unwrap().contains("line 7"), "{detail}");
    assert_eq!(errors_of(&detail), vec![(7, "file".to_string())]);
    assert_eq!(shop.scalar("SELECT count(*) FROM t_acme.task_stock_levels").await, 0, "nothing was imported");
}

#[tokio::test]
async fn an_upload_with_wrong_columns_is_refused_naming_them_and_not_kept() {
    let shop = Shop::open(false).await;
    let files = shop.files().await;
    let upload = |csv: &'static [u8], limit: u64| {
        let files = files.clone();
        async move { csv_files::receive_upload::<StockImport>(&files, bytes_stream(csv), limit).await }
    };
    let err = upload(b"sku,qty,colour\nA,1,red\n", 1024).await.unwrap_err();
    assert_eq!(err.status().as_u16(), 422);
    let named: Vec<&str> = err.errors.iter().map(|e| e.field.as_str()).collect();
    assert_eq!(named, ["quantity", "qty", "colour"], "{err:?}");
    let err = upload(b"sku;quantity\nA;1\n", 1024).await.unwrap_err();
    assert_eq!(err.status().as_u16(), 422, "a semicolon file is one unknown column: {err:?}");
    let err = upload(b"", 1024).await.unwrap_err();
    assert_eq!(err.errors[0].field, "file", "{err:?}");
    let err = upload(b"\xff\xfesku,quantity\n", 1024).await.unwrap_err();
    assert_eq!((err.status().as_u16(), err.errors[0].field.as_str()), (422, "file"), "{err:?}");
    let err = upload(b"sku,quantity\nA,1\nB,2\nC,3\n", 16).await.unwrap_err();
    assert_eq!(err.status().as_u16(), 413);
    let imports = FileKey::parse("imports").unwrap();
    assert!(files.list(Some(&imports)).await.unwrap().is_empty(), "refused uploads are not kept");
    assert!(upload(b"\xef\xbb\xbfquantity,sku\n1,A\n", 1024).await.is_ok(), "a BOM and any column order are fine");
}

#[tokio::test]
async fn an_export_streams_every_row_into_a_file_only_readers_of_the_task_can_download() {
    let shop = Shop::open(true).await;
    let (starter, principal) = shop.staff(&["catalog_manager"]).await;
    let (lacking, _) = shop.staff(&[]).await;
    shop.app
        .db
        .connect()
        .await
        .batch_execute(
            "INSERT INTO t_acme.task_stock_levels SELECT 'SKU-' || lpad(n::text, 5, '0'), n % 13 FROM generate_series(1, 1234) n",
        )
        .await
        .unwrap();
    let id = shop.start(ExportStock, &principal).await;
    let detail = shop.finished(id, &starter).await;
    let task = &detail["task"];
    assert_eq!(task["status"], "succeeded", "{detail}");
    assert_eq!((task["rows_total"].as_i64(), task["rows_done"].as_i64()), (Some(1234), Some(1234)));
    let download = task["result"]["download"].as_str().unwrap().to_string();
    assert_eq!(download, format!("/api/v1/admin/tasks/{id}/result"));

    let res = shop.get(&download, &starter).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let header = |name: &str| res.headers().get(name).unwrap().to_str().unwrap().to_string();
    assert!(header("content-type").starts_with("text/csv"));
    assert!(
        header("content-disposition").contains("attachment") && header("content-disposition").contains("stock.csv")
    );
    let text = res.text().await.unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 1 + 1234);
    assert_eq!(lines[..3], ["sku,quantity", "SKU-00001,1", "SKU-00002,2"]);
    assert_eq!(lines[1234], "SKU-01234,12", "every row, in order");

    let res = shop.get(&download, &lacking).send().await.unwrap();
    problem(res, 404).await;
    let other = shop.app.tenant("other").await;
    let foreign = shop.app.staff(&other, &["owner"]).await;
    let res = shop.app.as_user(Method::GET, &download, &other, &foreign).send().await.unwrap();
    problem(res, 404).await;
    let res = shop.get(&download, &foreign).send().await.unwrap();
    problem(res, 401).await;
}

#[tokio::test]
async fn tasks_are_read_and_cancelled_only_by_their_starter_and_holders_of_their_permission() {
    let shop = Shop::open(false).await; // no workers: tasks stay queued
    let (starter, principal) = shop.staff(&["catalog_manager"]).await;
    let (holder, _) = shop.staff(&["catalog_manager"]).await;
    let (lacking, _) = shop.staff(&[]).await;
    let customer = shop.app.customer(&shop.slug).await;
    let other = shop.app.tenant("other").await;
    let foreign = shop.app.staff(&other, &["owner"]).await;
    let id = shop.start(ExportStock, &principal).await;
    let path = format!("/api/v1/admin/tasks/{id}");

    let res = shop.app.client.get(shop.app.url(&path)).header("x-tenant-id", &shop.slug).send().await.unwrap();
    problem(res, 401).await;
    problem(shop.get(&path, &customer).send().await.unwrap(), 403).await;
    problem(shop.get(&path, &foreign).send().await.unwrap(), 401).await;
    problem(shop.app.as_user(Method::GET, &path, &other, &foreign).send().await.unwrap(), 404).await;
    problem(shop.get(&path, &lacking).send().await.unwrap(), 404).await;
    assert_eq!(shop.task(id, &starter).await["task"]["status"], "queued");
    let seen = shop.task(id, &holder).await;
    assert_eq!(seen["task"]["started_by"], format!("staff:{}", starter.user_id));
    assert_eq!(seen["task"]["permission"], "catalog.manage");

    let list = |who: &Credentials| {
        let req = shop.get("/api/v1/admin/tasks", who);
        async move {
            let body: Value = req.send().await.unwrap().json().await.unwrap();
            body["items"].as_array().unwrap().iter().map(|t| t["id"].as_str().unwrap().to_string()).collect::<Vec<_>>()
        }
    };
    assert_eq!(list(&starter).await, [id.to_string()]);
    assert_eq!(list(&holder).await, [id.to_string()]);
    assert!(list(&lacking).await.is_empty());
    let res = shop.app.as_user(Method::GET, "/api/v1/admin/tasks", &other, &foreign).send().await.unwrap();
    let body: Value = res.json().await.unwrap();
    assert!(body["items"].as_array().unwrap().is_empty(), "another shop's owner sees none of acme's tasks");
    let res = shop.get("/api/v1/admin/tasks?status=finished", &starter).send().await.unwrap();
    assert!([400, 422].contains(&res.status().as_u16()), "{}", res.status());

    // Cancelling: refused to those who cannot read it; a queued task never runs.
    let cancel = |who: &Credentials, id: TaskId| {
        shop.app.as_user(Method::POST, &format!("/api/v1/admin/tasks/{id}/cancel"), &shop.slug, who).send()
    };
    problem(cancel(&lacking, id).await.unwrap(), 404).await;
    problem(cancel(&customer, id).await.unwrap(), 403).await;
    let res = cancel(&holder, id).await.unwrap();
    assert_eq!(res.status(), 200);
    let task: Value = res.json().await.unwrap();
    assert_eq!((task["status"].as_str(), task["cancel_requested"].as_bool()), (Some("cancelled"), Some(true)));
    let job_state = shop
        .app
        .db
        .connect()
        .await
        .query_one(
            &format!("SELECT j.state FROM agora.jobs j JOIN agora.tasks t USING (job_id) WHERE t.task_id = '{id}'"),
            &[],
        )
        .await
        .unwrap()
        .get::<_, String>(0);
    assert_eq!(job_state, "cancelled", "the job left the queue");
    let again = problem(cancel(&starter, id).await.unwrap(), 409).await;
    assert_eq!(again["type"], "https://agora.dev/problems/task-finished");

    // Two cancels at once: one wins, the other is told it is over.
    let second = shop.start(ExportStock, &principal).await;
    let (a, b) = tokio::join!(cancel(&starter, second), cancel(&holder, second));
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409]);
}

#[tokio::test]
async fn a_running_task_stops_at_its_next_checkpoint_when_cancelled_and_a_dead_job_fails_its_task() {
    let shop = Shop::open(true).await;
    let (starter, principal) = shop.staff(&["catalog_manager"]).await;
    let id = shop.start(CountForever, &principal).await;
    let (watcher, who) = (&shop, &starter);
    eventually(WAIT, || async move {
        let task = watcher.task(id, who).await;
        task["task"]["status"] == "running" && task["task"]["rows_done"].as_i64() > Some(0)
    })
    .await;
    let res = shop
        .app
        .as_user(Method::POST, &format!("/api/v1/admin/tasks/{id}/cancel"), &shop.slug, &starter)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let task: Value = res.json().await.unwrap();
    assert_eq!((task["status"].as_str(), task["cancel_requested"].as_bool()), (Some("running"), Some(true)));
    let detail = shop.finished(id, &starter).await;
    assert_eq!(detail["task"]["status"], "cancelled", "{detail}");
    assert!(detail["task"]["percent"].as_i64() < Some(100));

    let doomed = shop.start(Doomed, &principal).await;
    let detail = shop.finished(doomed, &starter).await;
    assert_eq!(detail["task"]["status"], "failed", "{detail}");
    let failure = detail["task"]["failure"].as_str().unwrap();
    assert!(!failure.contains("10.1.2.3"), "the job's internal error stays in the queue: {failure}");
}

#[tokio::test]
async fn a_task_whose_worker_was_lost_on_its_last_attempt_fails() {
    let mut shop = Shop::open(false).await;
    let (starter, principal) = shop.staff(&["catalog_manager"]).await;
    let id = shop.start(Doomed, &principal).await;
    // What a worker that crashed on the job's last attempt leaves behind.
    shop.app
        .db
        .connect()
        .await
        .batch_execute(&format!(
            "UPDATE agora.jobs SET state = 'running', attempts = max_attempts, locked_by = 'lost', \
             locked_until = now() - interval '1 minute' WHERE job_id = (SELECT job_id FROM agora.tasks WHERE task_id = '{id}'); \
             UPDATE agora.tasks SET status = 'running' WHERE task_id = '{id}'"
        ))
        .await
        .unwrap();
    shop.start_workers();
    let detail = shop.finished(id, &starter).await;
    assert_eq!(detail["task"]["status"], "failed", "{detail}");
}
