//! Long-running work a user started — an import, an export, a bulk change — as the merchant
//! watches it: queued, running with a percentage and rows done, the rows it refused (line, field,
//! message), the file it produced, and a cancel button.
//!
//! The work is an ordinary [`Job`]; the task is its record in `agora.tasks`, written with the job
//! in the starter's transaction ([`start`]). Inside the job, [`JobContext::progress`] hands out a
//! [`TaskProgress`]: counts are kept in memory and written at checkpoints (at most about once a
//! second, or with the batch a job commits), never once per row. When a job is retried (a crash,
//! a lost lease) `progress()` starts the record afresh: counts from zero, errors cleared, so a
//! re-run never shows a row's error twice. Whatever the job does, the worker closes the task
//! with the job: a job that returns `Ok` without saying more has succeeded; one that dies has
//! failed.
//!
//! Reading: a task belongs to its shop, and within it to its starter and to whoever holds the
//! permission the starting operation required (stored on the task). Anyone else, and any other
//! shop, gets 404 for its id. Routes (admin area): `GET /tasks`, `GET /tasks/{id}`,
//! `POST /tasks/{id}/cancel`, `GET /tasks/{id}/result`.
//!
//! ```ignore
//! // The handler that starts an export, inside its one tenant transaction:
//! let task = tasks::start(conn, &tenant, &ExportCustomers { .. }, NewTask::by(&authorized)).await?;
//! // The job:
//! async fn run(self, ctx: JobContext) -> Result<(), JobError> {
//!     let mut progress = ctx.progress().await?;
//!     progress.set_total(rows);
//!     for batch in .. {
//!         ..;
//!         progress.advance(batch.len() as i64);
//!         progress.row_failed(line, vec![FieldError::new("sku", "already taken")]);
//!         if progress.checkpoint().await? { return progress.cancelled().await; } // a merchant pressed cancel
//!     }
//!     progress.succeed(Some(TaskFile::csv(key, "customers.csv"))).await
//! }
//! ```

use crate::auth::{unauthorized, PermissionMarker, Principal};
use crate::db::{Database, DbError};
use crate::error::{ApiError, ErrorKind, FieldError};
use crate::http::TenantContext;
use crate::jobs::{EnqueueOptions, Job, JobContext, JobError};
use crate::lists::{ListQuery, NewestFirst, Page};
use crate::storage::{ConfiguredStorage, FileKey, TenantFiles};
use crate::tx::TenantTx;
use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Nullable, Text, Uuid as SqlUuid};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use paperclip::actix::{api_v2_operation, web, Apiv2Schema};
use paperclip::v2::models::DefaultOperationRaw;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::future::{ready, Ready};
use std::time::{Duration, Instant};

/// Errors kept per task; past them only the count grows.
pub const MAX_KEPT_ERRORS: i64 = 1_000;
/// How often a running task's record is written at most, when the job does not commit it itself.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

crate::typed_id! {
    /// A long-running piece of work a user started (an import, an export).
    pub TaskId
}

crate::text_enum! {
    /// Where a task is.
    pub enum TaskStatus {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

// The columns lists and reads use (diesel's tables stop at 16 columns; `job_id`, `started_at`
// and `updated_at` are only written, in SQL).
diesel::table! {
    agora.tasks (task_id) {
        task_id -> Uuid,
        tenant_id -> Uuid,
        kind -> Text,
        status -> Text,
        permission -> Text,
        started_by -> Text,
        rows_total -> Nullable<BigInt>,
        rows_done -> BigInt,
        rows_failed -> BigInt,
        percent -> SmallInt,
        error_count -> BigInt,
        failure -> Nullable<Text>,
        result -> Nullable<Jsonb>,
        cancel_requested_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    agora.task_errors (task_id, line, field) {
        task_id -> Uuid,
        line -> BigInt,
        field -> Text,
        message -> Text,
    }
}

/// Who starts a task, and the permission that lets others read it.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub permission: &'static str,
    pub started_by: String,
}

impl NewTask {
    /// Started by the caller of an operation guarded by `P`.
    pub fn by<P: PermissionMarker>(who: &crate::Authorized<P>) -> Self {
        Self::for_principal::<P>(&who.principal)
    }

    /// Started by `principal`, readable by holders of `P` (for callers authorised another way).
    pub fn for_principal<P: PermissionMarker>(principal: &Principal) -> Self {
        Self { permission: P::NAME, started_by: principal.key().unwrap_or_else(|| "anonymous".into()) }
    }

    /// Started by the platform itself (`system:<name>`), readable by holders of `P`.
    pub fn system<P: PermissionMarker>(name: &str) -> Self {
        Self { permission: P::NAME, started_by: format!("system:{name}") }
    }
}

/// Enqueues `job` and records its task, in the caller's transaction (a rolled-back start leaves
/// neither). The job reaches the task through [`JobContext::progress`].
pub async fn start<J: Job>(tx: &mut TenantTx<'_>, job: &J, who: NewTask) -> Result<TaskId, DbError> {
    let tenant_id = tx.tenant().id;
    let job_id = tx
        .enqueue(job, EnqueueOptions::default())
        .await?
        .ok_or_else(|| DbError::Pool("a task's job was not enqueued".into()))?;
    let task_id = TaskId::new_v7();
    diesel::sql_query(
        "INSERT INTO agora.tasks (task_id, tenant_id, job_id, kind, permission, started_by) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind::<SqlUuid, _>(task_id.as_uuid())
    .bind::<SqlUuid, _>(tenant_id)
    .bind::<SqlUuid, _>(job_id)
    .bind::<Text, _>(J::KIND)
    .bind::<Text, _>(who.permission)
    .bind::<Text, _>(&who.started_by)
    .execute(tx.conn())
    .await?;
    Ok(task_id)
}

/// One refused row: its 1-based line in the file (the header is line 1), the column, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Queryable, Apiv2Schema)]
pub struct RowError {
    pub line: i64,
    pub field: String,
    pub message: String,
}

/// The file a task produced (an export), kept in the shop's file storage.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TaskFile {
    /// Relative to the shop's folder (checked again when it is read back).
    pub key: FileKey,
    /// The name a browser saves it under.
    pub name: String,
    pub content_type: String,
}

impl TaskFile {
    pub fn csv(key: FileKey, name: impl Into<String>) -> Self {
        Self { key, name: name.into(), content_type: "text/csv; charset=utf-8".into() }
    }
}

/// The running job's handle on its task. Cheap to update; written at checkpoints.
pub struct TaskProgress {
    db: Database,
    task_id: TaskId,
    total: Option<i64>,
    done: i64,
    failed_rows: i64,
    error_count: i64,
    /// Errors written or waiting to be (never more than [`MAX_KEPT_ERRORS`]).
    kept: i64,
    pending: Vec<RowError>,
    last_saved: Instant,
    cancel_requested: bool,
}

#[derive(QueryableByName)]
struct Begun {
    #[diesel(sql_type = SqlUuid)]
    task_id: uuid::Uuid,
    #[diesel(sql_type = Bool)]
    cancel_requested: bool,
}

#[derive(QueryableByName)]
struct Saved {
    #[diesel(sql_type = Bool)]
    cancel_requested: bool,
}

impl JobContext {
    /// The task this job runs for, marked running and started afresh (this attempt's counts
    /// replace any earlier attempt's). A job without a task, or whose task was cancelled before
    /// it ran, fails permanently.
    pub async fn progress(&self) -> Result<TaskProgress, JobError> {
        let job_id = self.job_id;
        let begun: Option<Begun> = self
            .db
            .control_tx(async move |conn| {
                let begun: Option<Begun> = diesel::sql_query(
                    "UPDATE agora.tasks SET status = 'running', started_at = coalesce(started_at, now()), \
                     rows_total = NULL, rows_done = 0, rows_failed = 0, error_count = 0, percent = 0, failure = NULL, \
                     result = NULL, finished_at = NULL, updated_at = now() \
                     WHERE job_id = $1 AND status IN ('queued', 'running', 'failed') \
                     RETURNING task_id, cancel_requested_at IS NOT NULL AS cancel_requested",
                )
                .bind::<SqlUuid, _>(job_id)
                .get_result(conn)
                .await
                .optional()?;
                if let Some(task) = &begun {
                    diesel::delete(task_errors::table.filter(task_errors::task_id.eq(task.task_id)))
                        .execute(conn)
                        .await?;
                }
                Ok::<_, DbError>(begun)
            })
            .await?;
        let begun =
            begun.ok_or_else(|| JobError::permanent("this job has no task to report to, or it was cancelled"))?;
        Ok(TaskProgress {
            db: self.db.clone(),
            task_id: TaskId::from_uuid(begun.task_id),
            total: None,
            done: 0,
            failed_rows: 0,
            error_count: 0,
            kept: 0,
            pending: Vec::new(),
            last_saved: Instant::now(),
            cancel_requested: begun.cancel_requested,
        })
    }
}

impl TaskProgress {
    pub fn id(&self) -> TaskId {
        self.task_id
    }

    /// How many rows the whole task has, once known (the percentage follows from it).
    pub fn set_total(&mut self, rows: i64) {
        self.total = Some(rows.max(0));
    }

    /// `rows` more rows are done (applied or refused).
    pub fn advance(&mut self, rows: i64) {
        self.done += rows.max(0);
    }

    pub fn rows_done(&self) -> i64 {
        self.done
    }

    /// The row on `line` was refused for `errors` (one per field). It still counts as done.
    pub fn row_failed(&mut self, line: i64, errors: Vec<FieldError>) {
        self.failed_rows += 1;
        for error in errors {
            self.error_count += 1;
            if self.kept < MAX_KEPT_ERRORS {
                self.kept += 1;
                self.pending.push(RowError { line, field: error.field, message: error.message });
            }
        }
    }

    /// Whether someone asked to cancel, as of the last checkpoint.
    pub fn is_cancel_requested(&self) -> bool {
        self.cancel_requested
    }

    fn percent(&self) -> i16 {
        match self.total {
            // 100 is for a finished task only.
            Some(total) if total > 0 => i16::try_from((self.done.min(total) * 100 / total).min(99)).unwrap_or(99),
            _ => 0,
        }
    }

    /// Writes the counts and new errors on `conn`, in the caller's transaction: a job that
    /// commits its work batch by batch saves its progress with each batch, so the record never
    /// runs ahead of (or behind) what was committed. Learns whether a cancel was asked for.
    pub async fn save(&mut self, conn: &mut AsyncPgConnection) -> Result<bool, DbError> {
        let saved: Saved = diesel::sql_query(
            "UPDATE agora.tasks SET rows_total = $2, rows_done = $3, rows_failed = $4, error_count = $5, percent = $6, \
             updated_at = now() WHERE task_id = $1 RETURNING cancel_requested_at IS NOT NULL AS cancel_requested",
        )
        .bind::<SqlUuid, _>(self.task_id.as_uuid())
        .bind::<Nullable<BigInt>, _>(self.total)
        .bind::<BigInt, _>(self.done)
        .bind::<BigInt, _>(self.failed_rows)
        .bind::<BigInt, _>(self.error_count)
        .bind::<diesel::sql_types::SmallInt, _>(self.percent())
        .get_result(conn)
        .await?;
        if !self.pending.is_empty() {
            let (lines, fields, messages): (Vec<i64>, Vec<String>, Vec<String>) = self
                .pending
                .iter()
                .map(|e| (e.line, e.field.clone(), e.message.chars().take(1000).collect::<String>()))
                .fold((vec![], vec![], vec![]), |(mut l, mut f, mut m), (line, field, message)| {
                    l.push(line);
                    f.push(field);
                    m.push(message);
                    (l, f, m)
                });
            // One row per (line, field): a field refused twice on one line keeps its first reason.
            diesel::sql_query(
                "INSERT INTO agora.task_errors (task_id, line, field, message) \
                 SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING",
            )
            .bind::<SqlUuid, _>(self.task_id.as_uuid())
            .bind::<Array<BigInt>, _>(lines)
            .bind::<Array<Text>, _>(fields)
            .bind::<Array<Text>, _>(messages)
            .execute(conn)
            .await?;
        }
        self.pending.clear();
        self.last_saved = Instant::now();
        self.cancel_requested = saved.cancel_requested;
        Ok(self.cancel_requested)
    }

    /// Saves in a transaction of its own if the last save is a second old (or many errors wait).
    /// Returns whether a cancel was asked for: the job should then stop and call
    /// [`TaskProgress::cancelled`].
    pub async fn checkpoint(&mut self) -> Result<bool, JobError> {
        if self.last_saved.elapsed() >= CHECKPOINT_EVERY || self.pending.len() >= 200 {
            self.save_now().await?;
        }
        Ok(self.cancel_requested)
    }

    async fn save_now(&mut self) -> Result<bool, DbError> {
        let db = self.db.clone();
        db.control_tx(async |conn| self.save(conn).await).await
    }

    async fn close(
        mut self,
        status: TaskStatus,
        failure: Option<String>,
        file: Option<TaskFile>,
    ) -> Result<(), JobError> {
        if status == TaskStatus::Succeeded {
            if let Some(total) = self.total {
                self.done = self.done.max(total);
            }
        }
        let db = self.db.clone();
        db.control_tx(async |conn| {
            self.save(conn).await?;
            diesel::update(tasks::table.filter(tasks::task_id.eq(self.task_id.as_uuid())))
                .set((
                    tasks::status.eq(status.as_str()),
                    tasks::percent.eq(if status == TaskStatus::Succeeded { 100 } else { self.percent() }),
                    tasks::failure.eq(failure),
                    tasks::result.eq(file.as_ref().and_then(|f| serde_json::to_value(f).ok())),
                    tasks::finished_at.eq(diesel::dsl::now),
                ))
                .execute(conn)
                .await?;
            Ok::<_, DbError>(())
        })
        .await?;
        Ok(())
    }

    /// Done; with the file it produced, if any.
    pub async fn succeed(self, file: Option<TaskFile>) -> Result<(), JobError> {
        self.close(TaskStatus::Succeeded, None, file).await
    }

    /// Stopped because someone asked (what was committed before stays).
    pub async fn cancelled(self) -> Result<(), JobError> {
        self.close(TaskStatus::Cancelled, None, None).await
    }

    /// Given up for a reason the merchant must fix (a file with the wrong columns): trying again
    /// would not help, so the job should return `Ok` after this. `reason` is shown to them.
    pub async fn fail(self, reason: impl Into<String>) -> Result<(), JobError> {
        self.close(TaskStatus::Failed, Some(reason.into()), None).await
    }
}

/// Called by the worker when a job finished: a task its job left open is closed with it.
pub(crate) async fn close_with_job(
    conn: &mut AsyncPgConnection,
    job_id: uuid::Uuid,
    succeeded: bool,
) -> Result<(), DbError> {
    let (status, failure) = if succeeded {
        ("succeeded", None)
    } else {
        // The job's own error may name internals; the merchant is told it was given up on.
        ("failed", Some("the work failed repeatedly and was given up; the platform operator can retry it"))
    };
    diesel::sql_query(
        "UPDATE agora.tasks SET status = $2, failure = $3, finished_at = now(), updated_at = now(), \
         percent = CASE WHEN $2 = 'succeeded' THEN 100 ELSE percent END \
         WHERE job_id = $1 AND status IN ('queued', 'running')",
    )
    .bind::<SqlUuid, _>(job_id)
    .bind::<Text, _>(status)
    .bind::<Nullable<Text>, _>(failure)
    .execute(conn)
    .await?;
    Ok(())
}

/// Fails every open task whose job is dead (its worker was lost on its last attempt).
pub(crate) async fn close_dead(conn: &mut AsyncPgConnection) -> Result<(), DbError> {
    diesel::sql_query(
        "UPDATE agora.tasks t SET status = 'failed', finished_at = now(), updated_at = now(), \
         failure = 'the work failed repeatedly and was given up; the platform operator can retry it' \
         FROM agora.jobs j WHERE j.job_id = t.job_id AND j.state = 'dead' AND t.status IN ('queued', 'running')",
    )
    .execute(conn)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The admin API
// ---------------------------------------------------------------------------------------------

/// A task as the merchant sees it.
#[derive(Debug, Serialize, Deserialize, Apiv2Schema)]
pub struct Task {
    pub id: TaskId,
    /// What kind of work (the job kind, e.g. `catalog.import_products`).
    pub kind: String,
    pub status: TaskStatus,
    /// 0–100; 100 only once succeeded.
    pub percent: i16,
    /// Rows the whole task has, once known.
    pub rows_total: Option<i64>,
    /// Rows done so far (applied or refused).
    pub rows_done: i64,
    /// Rows refused.
    pub rows_failed: i64,
    /// Errors in all (only the first 1,000 are kept).
    pub error_count: i64,
    /// Why it failed, for a failed task.
    pub failure: Option<String>,
    /// The file it produced, once succeeded.
    pub result: Option<TaskResult>,
    /// Who started it (`staff:<id>`, `api-key:<id>`, `system:<name>`).
    pub started_by: String,
    /// The permission that lets staff other than the starter read it.
    pub permission: String,
    /// Someone asked to cancel; the work stops at its next checkpoint.
    pub cancel_requested: bool,
    pub created_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}

/// A task's file.
#[derive(Debug, Serialize, Deserialize, Apiv2Schema)]
pub struct TaskResult {
    pub name: String,
    pub content_type: String,
    /// Where to download it (same authorization as the task).
    pub download: String,
}

/// A task with the rows it refused.
#[derive(Debug, Serialize, Deserialize, Apiv2Schema)]
pub struct TaskDetail {
    pub task: Task,
    /// The first 1,000 errors, by line (`task.error_count` counts them all).
    pub errors: Vec<RowError>,
}

#[derive(Queryable)]
struct TaskRow {
    task_id: uuid::Uuid,
    kind: String,
    status: TaskStatus,
    permission: String,
    started_by: String,
    rows_total: Option<i64>,
    rows_done: i64,
    rows_failed: i64,
    percent: i16,
    error_count: i64,
    failure: Option<String>,
    result: Option<serde_json::Value>,
    cancel_requested_at: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    finished_at: Option<DateTime<Utc>>,
}

type TaskColumns = (
    tasks::task_id,
    tasks::kind,
    tasks::status,
    tasks::permission,
    tasks::started_by,
    tasks::rows_total,
    tasks::rows_done,
    tasks::rows_failed,
    tasks::percent,
    tasks::error_count,
    tasks::failure,
    tasks::result,
    tasks::cancel_requested_at,
    tasks::created_at,
    tasks::finished_at,
);

const TASK_COLUMNS: TaskColumns = (
    tasks::task_id,
    tasks::kind,
    tasks::status,
    tasks::permission,
    tasks::started_by,
    tasks::rows_total,
    tasks::rows_done,
    tasks::rows_failed,
    tasks::percent,
    tasks::error_count,
    tasks::failure,
    tasks::result,
    tasks::cancel_requested_at,
    tasks::created_at,
    tasks::finished_at,
);

impl TaskRow {
    fn readable_by(&self, reader: &TaskReader) -> bool {
        reader.key == self.started_by || reader.principal.has(&self.permission)
    }

    fn file(&self) -> Option<TaskFile> {
        self.result.clone().and_then(|file| serde_json::from_value(file).ok())
    }

    fn into_task(self) -> Task {
        let id = TaskId::from_uuid(self.task_id);
        let result = self.file().map(|file| TaskResult {
            name: file.name,
            content_type: file.content_type,
            download: crate::areas::Area::Admin.path(&format!("/tasks/{id}/result")),
        });
        Task {
            id,
            kind: self.kind,
            status: self.status,
            percent: self.percent,
            rows_total: self.rows_total,
            rows_done: self.rows_done,
            rows_failed: self.rows_failed,
            error_count: self.error_count,
            failure: self.failure,
            result,
            started_by: self.started_by,
            permission: self.permission,
            cancel_requested: self.cancel_requested_at.is_some(),
            created_at: self.created_at,
            finished_at: self.finished_at,
        }
    }
}

/// A staff member or API key of the addressed shop, whatever their permissions: which tasks they
/// may see depends on each task (its starter, its permission).
pub struct TaskReader {
    principal: Principal,
    key: String,
    tenant: TenantContext,
}

impl TaskReader {
    /// The permissions this caller holds (a staff member's, an API key's scopes).
    fn permissions(&self) -> Vec<String> {
        match &self.principal {
            Principal::Staff { permissions, .. } => permissions.iter().cloned().collect(),
            Principal::ApiKey { scopes, .. } => scopes.iter().cloned().collect(),
            _ => Vec::new(),
        }
    }
}

impl FromRequest for TaskReader {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = Principal::of(req);
        let tenant = req.extensions().get::<TenantContext>().cloned();
        let result = match (tenant, principal.key()) {
            (Some(tenant), Some(key)) if principal.tenant() == Some(tenant.id) => match principal {
                Principal::Staff { .. } | Principal::ApiKey { .. } => Ok(TaskReader { principal, key, tenant }),
                _ => Err(ApiError::new(ErrorKind::Forbidden, "forbidden", "tasks are for the shop's staff")),
            },
            // Another shop's credentials prove nothing here: the same answer as none at all.
            _ => Err(unauthorized()),
        };
        ready(result)
    }
}

impl paperclip::v2::schema::Apiv2Schema for TaskReader {}

impl paperclip::actix::OperationModifier for TaskReader {
    fn update_security(op: &mut DefaultOperationRaw) {
        // Signed-in staff with any permissions; the task itself decides (see the module docs).
        op.security.push(BTreeMap::from([(crate::auth::STAFF_SCHEME.to_string(), vec![])]));
    }
}

#[derive(Debug, Deserialize, Apiv2Schema)]
pub struct TaskFilters {
    /// Only tasks in this status.
    pub status: Option<TaskStatus>,
    /// Only tasks of this kind.
    pub kind: Option<String>,
}

/// The shop's tasks this caller may see (those they started, and those whose permission they
/// hold), newest first.
#[api_v2_operation(tags(Admin), operation_id = "listTasks")]
async fn list_tasks(
    reader: TaskReader,
    db: web::Data<Database>,
    page: ListQuery<NewestFirst>,
    filters: web::Query<TaskFilters>,
) -> Result<web::Json<Page<Task>>, ApiError> {
    let keyset = page.keyset::<DateTime<Utc>>()?;
    let page = keyset.clone();
    let filters = filters.into_inner();
    let (tenant, key, permissions) = (reader.tenant.id, reader.key.clone(), reader.permissions());
    let rows: Vec<TaskRow> = db
        .control_tx(async move |conn| {
            let mut q = tasks::table
                .select(TASK_COLUMNS)
                .filter(tasks::tenant_id.eq(tenant))
                .filter(tasks::started_by.eq(key).or(tasks::permission.eq_any(permissions)))
                .limit(page.fetch_limit())
                .into_boxed();
            if let Some(status) = filters.status {
                q = q.filter(tasks::status.eq(status.as_str()));
            }
            if let Some(kind) = filters.kind {
                q = q.filter(tasks::kind.eq(kind));
            }
            Ok::<_, DbError>(page.apply(q, tasks::created_at, tasks::task_id).load(conn).await?)
        })
        .await?;
    let tasks = rows.into_iter().map(TaskRow::into_task).collect();
    Ok(web::Json(keyset.page(tasks, |t: &Task| (t.created_at, t.id.as_uuid()))))
}

/// The task if it is this shop's and the reader may see it; 404 otherwise (another shop's id and
/// a task one may not read look the same).
async fn load_readable(
    conn: &mut AsyncPgConnection,
    reader: &TaskReader,
    id: TaskId,
    lock: bool,
) -> Result<TaskRow, ApiError> {
    let q = tasks::table
        .select(TASK_COLUMNS)
        .filter(tasks::task_id.eq(id.as_uuid()))
        .filter(tasks::tenant_id.eq(reader.tenant.id));
    let row: QueryResult<Option<TaskRow>> = if lock {
        q.for_update().first::<TaskRow>(conn).await.optional()
    } else {
        q.first::<TaskRow>(conn).await.optional()
    };
    let row = row.map_err(DbError::from)?;
    row.filter(|r| r.readable_by(reader)).ok_or_else(|| ApiError::not_found("task"))
}

/// A task's progress and the rows it refused.
#[api_v2_operation(tags(Admin), operation_id = "getTask")]
async fn get_task(
    reader: TaskReader,
    db: web::Data<Database>,
    id: web::Path<TaskId>,
) -> Result<web::Json<TaskDetail>, ApiError> {
    let id = id.into_inner();
    let detail = db
        .control_tx(async |conn| {
            let row = load_readable(conn, &reader, id, false).await?;
            let errors: Vec<RowError> = task_errors::table
                .select((task_errors::line, task_errors::field, task_errors::message))
                .filter(task_errors::task_id.eq(id.as_uuid()))
                .order((task_errors::line, task_errors::field))
                .limit(MAX_KEPT_ERRORS)
                .load(conn)
                .await
                .map_err(DbError::from)?;
            Ok::<_, ApiError>(TaskDetail { task: row.into_task(), errors })
        })
        .await?;
    Ok(web::Json(detail))
}

/// Cancel a task: a queued one never runs; a running one stops at its next checkpoint (what it
/// already committed stays). 409 once it has finished.
#[api_v2_operation(tags(Admin), operation_id = "cancelTask")]
async fn cancel_task(
    reader: TaskReader,
    db: web::Data<Database>,
    id: web::Path<TaskId>,
) -> Result<web::Json<Task>, ApiError> {
    let id = id.into_inner();
    let task = db
        .control_tx(async |conn| {
            // The row lock orders concurrent cancels (and the worker's close): the second sees
            // the first's outcome.
            let row = load_readable(conn, &reader, id, true).await?;
            match row.status {
                TaskStatus::Succeeded | TaskStatus::Failed | TaskStatus::Cancelled => {
                    return Err(ApiError::new(
                        ErrorKind::Conflict,
                        "task-finished",
                        format!("the task has already {}", row.status),
                    ))
                }
                TaskStatus::Queued | TaskStatus::Running => {}
            }
            // A job no worker has claimed yet is simply taken off the queue.
            let unclaimed = diesel::sql_query(
                "UPDATE agora.jobs SET state = 'cancelled', finished_at = now() WHERE state IN ('queued', 'retry') \
                 AND job_id = (SELECT job_id FROM agora.tasks WHERE task_id = $1)",
            )
            .bind::<SqlUuid, _>(id.as_uuid())
            .execute(conn)
            .await
            .map_err(DbError::from)?;
            let target = tasks::table.filter(tasks::task_id.eq(id.as_uuid()));
            if unclaimed == 1 {
                diesel::update(target)
                    .set((
                        tasks::status.eq(TaskStatus::Cancelled.as_str()),
                        tasks::cancel_requested_at.eq(diesel::dsl::now),
                        tasks::finished_at.eq(diesel::dsl::now),
                    ))
                    .execute(conn)
                    .await
                    .map_err(DbError::from)?;
            } else {
                diesel::update(target)
                    .filter(tasks::cancel_requested_at.is_null())
                    .set(tasks::cancel_requested_at.eq(diesel::dsl::now))
                    .execute(conn)
                    .await
                    .map_err(DbError::from)?;
            }
            Ok::<_, ApiError>(load_readable(conn, &reader, id, false).await?.into_task())
        })
        .await?;
    Ok(web::Json(task))
}

/// The file a task produced (an export), as an attachment.
#[api_v2_operation(tags(Admin), operation_id = "downloadTaskResult", produces = "text/csv")]
async fn download_task_result(
    reader: TaskReader,
    db: web::Data<Database>,
    storage: web::Data<ConfiguredStorage>,
    id: web::Path<TaskId>,
) -> Result<TaskDownload, ApiError> {
    let id = id.into_inner();
    let row = db.control_tx(async |conn| load_readable(conn, &reader, id, false).await).await?;
    let Some(file) = row.file() else {
        return Err(ApiError::new(ErrorKind::NotFound, "task-result-not-found", "this task has no file (yet)"));
    };
    let files = TenantFiles::new(storage.get().await?, &reader.tenant.schema)?;
    let download = files.get(&file.key).await?;
    Ok(TaskDownload {
        name: file.name,
        content_type: download.info.content_type.clone(),
        size: download.info.size,
        body: download.body,
    })
}

/// A task's file, streamed as it is read from storage.
pub struct TaskDownload {
    name: String,
    content_type: String,
    size: u64,
    body: crate::storage::ByteStream,
}

impl actix_web::Responder for TaskDownload {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> actix_web::HttpResponse {
        use actix_web::http::header::{ContentDisposition, DispositionParam, DispositionType};
        let disposition = ContentDisposition {
            disposition: DispositionType::Attachment,
            parameters: vec![DispositionParam::Filename(self.name)],
        };
        actix_web::HttpResponse::Ok()
            .content_type(self.content_type)
            .insert_header(disposition)
            .no_chunking(self.size)
            .streaming(self.body)
    }
}

impl paperclip::v2::schema::Apiv2Schema for TaskDownload {}

impl paperclip::actix::OperationModifier for TaskDownload {
    fn update_response(op: &mut DefaultOperationRaw) {
        use paperclip::v2::models::{DataType, DataTypeFormat, DefaultSchemaRaw, Either, Response};
        op.responses.insert(
            "200".into(),
            Either::Right(Response {
                description: Some("The file, as an attachment (an export: CSV)".into()),
                schema: Some(DefaultSchemaRaw {
                    data_type: Some(DataType::String),
                    format: Some(DataTypeFormat::Binary),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        );
    }
}

/// `/api/v1/admin/tasks…`.
pub fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/tasks").route(web::get().to(list_tasks)))
        .service(web::resource("/tasks/{id}").route(web::get().to(get_task)))
        .service(web::resource("/tasks/{id}/cancel").route(web::post().to(cancel_task)))
        .service(web::resource("/tasks/{id}/result").route(web::get().to(download_task_result)));
}

/// A task was started: its id (progress, refused rows and the result at
/// `GET /api/v1/admin/tasks/{task_id}`).
#[derive(Debug, Serialize, Apiv2Schema)]
pub struct StartedTask {
    pub task_id: TaskId,
}

/// The answer to starting a task (every module's task-starting route): `202 Accepted`, its id, and `Location` naming where to watch it.
pub struct TaskStarted {
    pub task_id: TaskId,
}

impl actix_web::Responder for TaskStarted {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> actix_web::HttpResponse<actix_web::body::BoxBody> {
        actix_web::HttpResponse::Accepted()
            .insert_header((
                actix_web::http::header::LOCATION,
                crate::areas::Area::Admin.path(&format!("/tasks/{}", self.task_id)),
            ))
            .json(StartedTask { task_id: self.task_id })
    }
}

impl paperclip::v2::schema::Apiv2Schema for TaskStarted {
    fn name() -> Option<String> {
        StartedTask::name()
    }

    fn description() -> &'static str {
        StartedTask::description()
    }

    fn raw_schema() -> paperclip::v2::models::DefaultSchemaRaw {
        StartedTask::raw_schema()
    }
}

impl paperclip::actix::OperationModifier for TaskStarted {
    fn update_response(op: &mut DefaultOperationRaw) {
        let mut schema = <StartedTask as paperclip::v2::schema::Apiv2Schema>::schema_with_ref();
        schema.retain_ref();
        op.responses.insert(
            actix_web::http::StatusCode::ACCEPTED.as_str().into(),
            paperclip::v2::models::Either::Right(paperclip::v2::models::Response {
                description: Some("Started: the task's id; Location names where to watch it".into()),
                schema: Some(schema),
                ..Default::default()
            }),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_migration_checks_the_statuses_the_code_knows() {
        let migration = include_str!("../../../migrations/control/V11__tasks.sql");
        assert!(migration.contains(&TaskStatus::sql_check("status")), "{}", TaskStatus::sql_check("status"));
    }

    #[test]
    fn only_the_first_errors_are_kept_but_all_are_counted() {
        let mut progress = TaskProgress {
            db: Database::connect(&crate::DbSettings {
                url: secrecy::SecretString::from("postgres://nowhere/none".to_string()),
                pool_size: 1,
                acquire_timeout: Duration::from_secs(1),
            })
            .unwrap(),
            task_id: TaskId::new_v7(),
            total: Some(3000),
            done: 0,
            failed_rows: 0,
            error_count: 0,
            kept: 0,
            pending: Vec::new(),
            last_saved: Instant::now(),
            cancel_requested: false,
        };
        for line in 2..1502 {
            progress.row_failed(line, vec![FieldError::new("a", "bad"), FieldError::new("b", "bad")]);
            progress.advance(1);
        }
        assert_eq!((progress.failed_rows, progress.error_count), (1500, 3000));
        assert_eq!(progress.pending.len(), MAX_KEPT_ERRORS as usize);
        assert_eq!(progress.percent(), 50);
        progress.advance(5000);
        assert_eq!(progress.percent(), 99, "100 only when it has succeeded");
    }
}
