//! The CSV frame: bulk import and export that catalog, inventory and pricing share, run as
//! [tasks](crate::tasks) a merchant watches.
//!
//! **Import.** A module declares its row type (serde `Deserialize`, one field per column) and one
//! validate-and-apply function ([`CsvImport`]). Its upload route stores the file first
//! ([`receive_upload`]: size-limited, header checked before anything else, so a file with wrong
//! or missing columns is a 422 naming them), starts a task whose job calls [`run_import`], and
//! the frame does the rest:
//! 1. a first pass over the file refuses it whole if it is not UTF-8 (naming the line) or its
//!    header is wrong, and counts the rows (the percentage);
//! 2. a second pass reads it in batches of [`BATCH_ROWS`]; a row serde cannot read is refused
//!    with its line and column; the rest go to the module's `apply` in one tenant transaction per
//!    batch, together with the task's progress, so the progress never runs ahead of what was
//!    committed. Between batches a cancel is honoured.
//!
//! A job can run twice (a lost worker), so `apply` must be idempotent (an upsert by the row's
//! natural key): the re-run starts the task's counts afresh and applies nothing new.
//!
//! **Export.** [`run_export`] walks the module's rows a keyset page at a time ([`CsvExport`]) and
//! streams them as CSV into the shop's file storage, never holding the table in memory; the task
//! then names the file, which `GET /api/v1/admin/tasks/{id}/result` serves.

use crate::db::DbError;
use crate::error::{ApiError, FieldError};
use crate::http::TenantContext;
use crate::jobs::{JobContext, JobError};
use crate::storage::{ByteStream, ConfiguredStorage, FileKey, StorageError, TenantFiles};
use crate::tasks::{TaskFile, TaskProgress};
use crate::tx::{Acting, TenantTx};
use bytes::Bytes;
use diesel_async::AsyncPgConnection;
use futures_util::future::BoxFuture;
use futures_util::StreamExt;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::io::Read;

/// Rows per transaction, on import; rows per page, on export.
pub const BATCH_ROWS: usize = 500;
/// An export bigger than this is refused (1 GiB).
pub const MAX_EXPORT_BYTES: u64 = 1 << 30;

/// One row of an import file, with its line (1-based; the header is line 1).
#[derive(Debug, Clone)]
pub struct Line<R> {
    pub line: i64,
    pub row: R,
}

/// A refused row: its line and, per field, why.
pub type Refused = (i64, Vec<FieldError>);

/// A page of an export being read: each row with its keyset position.
pub type ExportPage<'a, K, R> = BoxFuture<'a, Result<Vec<(K, R)>, DbError>>;

/// What a module declares to import a CSV file.
pub trait CsvImport: Send + Sync + 'static {
    /// One line of the file; its fields are named by the header.
    type Row: DeserializeOwned + Send + 'static;
    /// Columns every file must have (in any order).
    const COLUMNS: &'static [&'static str];
    /// Columns a file may have as well; any other column is refused.
    const OPTIONAL_COLUMNS: &'static [&'static str] = &[];

    /// Checks `rows` and applies the valid ones in `tx`, the batch's tenant transaction (whose
    /// events and jobs go out only if the batch commits); returns the rows it refused. Must be
    /// idempotent (the job may run again). An `Err` rolls the batch back and fails the attempt
    /// (it is retried).
    fn apply<'a>(
        &'a self,
        tx: &'a mut TenantTx<'_>,
        rows: Vec<Line<Self::Row>>,
    ) -> BoxFuture<'a, Result<Vec<Refused>, JobError>>;
}

/// What a module declares to export rows as CSV.
pub trait CsvExport: Send + Sync + 'static {
    /// One line of the file; serialized in `COLUMNS` order (its fields in that order).
    type Row: Serialize + Send + 'static;
    /// The keyset position of a row: the page after it starts after it.
    type Key: Clone + Send + Sync + 'static;
    /// The header.
    const COLUMNS: &'static [&'static str];

    /// The header of this export, when it depends on the shop (a column per currency it sells
    /// in); [`CsvExport::COLUMNS`] otherwise. Rows must serialize in this order.
    fn header(&self) -> Vec<String> {
        Self::COLUMNS.iter().map(|c| c.to_string()).collect()
    }

    /// How many rows the export will have (for the percentage).
    fn count<'a>(&'a self, conn: &'a mut AsyncPgConnection) -> BoxFuture<'a, Result<i64, DbError>>;

    /// Up to `limit` rows after `after` (from the start for `None`), in key order, each with its
    /// key. Use the kernel's keyset (`lists::keyset_after`), never an offset.
    fn page<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        after: Option<&'a Self::Key>,
        limit: i64,
    ) -> ExportPage<'a, Self::Key, Self::Row>;
}

/// Header problems, one per column (field = the column's name): missing, unknown or repeated.
pub fn check_header(found: &[String], required: &[&str], optional: &[&str]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    for column in required {
        if !found.iter().any(|f| f == column) {
            errors.push(FieldError::new(*column, "missing column"));
        }
    }
    for (i, column) in found.iter().enumerate() {
        if !required.contains(&column.as_str()) && !optional.contains(&column.as_str()) {
            let allowed = required.iter().chain(optional).copied().collect::<Vec<_>>().join(", ");
            errors.push(FieldError::new(column.clone(), format!("unknown column; the columns are {allowed}")));
        } else if found[..i].contains(column) {
            errors.push(FieldError::new(column.clone(), "the column appears twice"));
        }
    }
    errors
}

fn reader<R: Read>(input: R) -> csv::Reader<R> {
    // Flexible: a row with too few or too many fields is that row's error, not the file's end.
    csv::ReaderBuilder::new().flexible(true).trim(csv::Trim::All).from_reader(input)
}

/// The file's header as text, or why it cannot be read (line 1 not UTF-8, no header).
fn read_header<R: Read>(csv: &mut csv::Reader<R>) -> Result<Vec<String>, FieldError> {
    let header = csv.byte_headers().map_err(|e| FieldError::new("file", format!("line 1: {e}")))?.clone();
    let mut names = Vec::with_capacity(header.len());
    for (i, field) in header.iter().enumerate() {
        // Spreadsheets save "CSV UTF-8" with a byte order mark; it is not part of the name.
        let field = if i == 0 { field.strip_prefix(b"\xef\xbb\xbf").unwrap_or(field) } else { field };
        let name = std::str::from_utf8(field)
            .map_err(|_| FieldError::new("file", "line 1 is not UTF-8 text; save the file as CSV UTF-8"))?;
        names.push(name.to_string());
    }
    if names.iter().all(String::is_empty) {
        return Err(FieldError::new("file", "the file is empty; its first line must name the columns"));
    }
    Ok(names)
}

/// The body of a CSV upload: the file's bytes as sent (not a form), for a handler to hand to
/// [`receive_upload`] after reading it with its limit. Declares the raw `text/csv` request body
/// (and so its 413) in the API contract.
pub struct CsvUpload {
    pub body: actix_web::dev::Payload,
    pub declared_length: Option<u64>,
}

impl actix_web::FromRequest for CsvUpload {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(CsvUpload { body: payload.take(), declared_length: crate::images::declared_length(req) }))
    }
}

impl paperclip::v2::schema::Apiv2Schema for CsvUpload {}

impl paperclip::actix::OperationModifier for CsvUpload {
    fn update_parameter(op: &mut paperclip::v2::models::DefaultOperationRaw) {
        let description = "The CSV file itself as the body (not a form), UTF-8. Larger than the operation's limit: \
                           413 while it streams in; a wrong header or bytes that are not UTF-8: 422 naming the \
                           column or line. Sent with an \
                           Idempotency-Key, a body over AGORA_MAX_BODY_BYTES (1 MiB by default) is refused 413 \
                           `idempotency-body-too-large`: send large files without the key.";
        op.parameters.push(paperclip::v2::models::Either::Right(crate::openapi::raw_body(description, &["text/csv"])));
    }
}

/// Stores an uploaded import file under `imports/<id>.csv` in the shop's files, refusing a file
/// over `max_bytes` (413) and one whose header does not fit `I` (422 naming each column), which
/// is not kept. Returns the key a job reads it from.
pub async fn receive_upload<I: CsvImport>(
    files: &TenantFiles,
    body: ByteStream,
    max_bytes: u64,
) -> Result<FileKey, ApiError> {
    let key = FileKey::parse(&format!("imports/{}.csv", crate::new_id()))?;
    files.put(&key, "text/csv", body, max_bytes).await?;
    let checked = async {
        let mut head = Vec::new();
        let mut body = files.get(&key).await?.body;
        // The header is the first line; 64 KiB is plenty for any sane one.
        while !head.contains(&b'\n') && head.len() < 64 * 1024 {
            match body.next().await {
                Some(chunk) => head.extend_from_slice(&chunk.map_err(|e| StorageError::Backend(e.to_string()))?),
                None => break,
            }
        }
        let errors = match read_header(&mut reader(head.as_slice())) {
            Ok(found) => check_header(&found, I::COLUMNS, I::OPTIONAL_COLUMNS),
            Err(error) => vec![error],
        };
        Ok::<_, ApiError>(errors)
    };
    match checked.await {
        Ok(errors) if errors.is_empty() => Ok(key),
        outcome => {
            files.delete(&key).await?;
            Err(match outcome {
                Ok(errors) => ApiError::validation(errors),
                Err(e) => e,
            })
        }
    }
}

/// Reads a storage stream from a blocking thread (the `csv` crate reads `std::io::Read`).
struct BlockingBody {
    runtime: tokio::runtime::Handle,
    body: ByteStream,
    chunk: Bytes,
}

impl Read for BlockingBody {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.chunk.is_empty() {
            match self.runtime.block_on(self.body.next()) {
                Some(chunk) => self.chunk = chunk?,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

/// What the first pass found wrong with the file as a whole.
enum FileProblem {
    Header(Vec<FieldError>),
    NotUtf8 { line: i64 },
    Unreadable { line: i64, message: String },
}

/// A line of the second pass: a row to apply, or one serde refused.
enum Parsed<R> {
    Row(Line<R>),
    Refused(Refused),
}

fn line_of(position: Option<&csv::Position>) -> i64 {
    position.map_or(0, |p| i64::try_from(p.line()).unwrap_or(i64::MAX))
}

/// The first pass: header, encoding of every line, and the number of rows.
fn scan<R: Read>(input: R, required: &[&str], optional: &[&str]) -> Result<i64, FileProblem> {
    let mut csv = reader(input);
    let header = read_header(&mut csv).map_err(|e| FileProblem::Header(vec![e]))?;
    let errors = check_header(&header, required, optional);
    if !errors.is_empty() {
        return Err(FileProblem::Header(errors));
    }
    let mut record = csv::ByteRecord::new();
    let mut rows = 0;
    loop {
        match csv.read_byte_record(&mut record) {
            Ok(false) => return Ok(rows),
            Ok(true) => {
                if record.iter().any(|field| std::str::from_utf8(field).is_err()) {
                    return Err(FileProblem::NotUtf8 { line: line_of(record.position()) });
                }
                rows += 1;
            }
            Err(e) => {
                return Err(FileProblem::Unreadable { line: line_of(e.position()), message: e.to_string() });
            }
        }
    }
}

/// The second pass, on a blocking thread: rows in batches to `batches`, until the file ends or
/// the receiver is gone (the import stopped).
fn parse<R: Read, Row: DeserializeOwned>(input: R, batches: tokio::sync::mpsc::Sender<Vec<Parsed<Row>>>) {
    let mut csv = reader(input);
    let Ok(header) = read_header(&mut csv) else { return };
    let header = csv::StringRecord::from(header);
    let mut batch = Vec::with_capacity(BATCH_ROWS);
    let mut record = csv::StringRecord::new();
    loop {
        let more = match csv.read_record(&mut record) {
            Ok(more) => more,
            // The first pass read the same bytes; a failure now is the storage's, and the
            // import sees the batches stop short of the count.
            Err(_) => return,
        };
        if !more {
            break;
        }
        let line = line_of(record.position());
        let parsed = if record.len() != header.len() {
            Parsed::Refused((
                line,
                vec![FieldError::new(
                    "row",
                    format!("the row has {} fields where the header has {}", record.len(), header.len()),
                )],
            ))
        } else {
            match record.deserialize::<Row>(Some(&header)) {
                Ok(row) => Parsed::Row(Line { line, row }),
                Err(e) => {
                    let (field, message) = match e.kind() {
                        csv::ErrorKind::Deserialize { err, .. } => (
                            err.field()
                                .and_then(|i| header.get(usize::try_from(i).unwrap_or(usize::MAX)))
                                .unwrap_or("row")
                                .to_string(),
                            err.kind().to_string(),
                        ),
                        other => ("row".to_string(), format!("{other:?}")),
                    };
                    Parsed::Refused((line, vec![FieldError::new(field, message)]))
                }
            }
        };
        batch.push(parsed);
        if batch.len() == BATCH_ROWS && batches.blocking_send(std::mem::take(&mut batch)).is_err() {
            return;
        }
    }
    if !batch.is_empty() {
        let _ = batches.blocking_send(batch);
    }
}

async fn tenant_files(ctx: &JobContext) -> Result<(TenantContext, TenantFiles), JobError> {
    let tenant = ctx.tenant.clone().ok_or_else(|| JobError::permanent("an import or export runs for a shop"))?;
    let storage = ctx.resource::<ConfiguredStorage>()?.get().await.map_err(JobError::retry)?;
    let files = TenantFiles::new(storage, &tenant.schema).map_err(JobError::permanent)?;
    Ok((tenant, files))
}

async fn open_blocking(files: &TenantFiles, key: &FileKey) -> Result<BlockingBody, JobError> {
    let download = files.get(key).await.map_err(|e| match e {
        StorageError::NotFound(_) => JobError::permanent("the uploaded file is gone"),
        other => JobError::retry(other),
    })?;
    Ok(BlockingBody { runtime: tokio::runtime::Handle::current(), body: download.body, chunk: Bytes::new() })
}

/// Runs an import of the file at `file` (stored by [`receive_upload`]) for the job's task.
pub async fn run_import<I: CsvImport>(ctx: &JobContext, import: &I, file: &FileKey) -> Result<(), JobError> {
    let (tenant, files) = tenant_files(ctx).await?;
    let mut progress = ctx.progress().await?;
    if progress.is_cancel_requested() {
        return progress.cancelled().await;
    }

    let input = open_blocking(&files, file).await?;
    let scanned = tokio::task::spawn_blocking(move || scan(input, I::COLUMNS, I::OPTIONAL_COLUMNS))
        .await
        .map_err(|e| JobError::retry(format!("reading the file: {e}")))?;
    let rows = match scanned {
        Ok(rows) => rows,
        Err(problem) => return refuse_file(progress, problem).await,
    };
    progress.set_total(rows);

    let input = open_blocking(&files, file).await?;
    let (sender, mut batches) = tokio::sync::mpsc::channel::<Vec<Parsed<I::Row>>>(2);
    let parser = tokio::task::spawn_blocking(move || parse::<_, I::Row>(input, sender));
    let db = ctx.db.clone();
    while let Some(batch) = batches.recv().await {
        let count = i64::try_from(batch.len()).unwrap_or(i64::MAX);
        let mut valid = Vec::with_capacity(batch.len());
        for parsed in batch {
            match parsed {
                Parsed::Row(line) => valid.push(line),
                Parsed::Refused((line, errors)) => progress.row_failed(line, errors),
            }
        }
        let cancel = db
            .in_tenant(&tenant, &Acting::system("csv-import"), async |tx| {
                let refused = if valid.is_empty() { Vec::new() } else { import.apply(tx, valid).await? };
                for (line, errors) in refused {
                    progress.row_failed(line, errors);
                }
                progress.advance(count);
                Ok::<_, JobError>(progress.save(tx.conn()).await?)
            })
            .await?;
        if cancel {
            drop(batches);
            let _ = parser.await;
            return progress.cancelled().await;
        }
    }
    parser.await.map_err(|e| JobError::retry(format!("reading the file: {e}")))?;
    if progress.rows_done() < rows {
        return Err(JobError::retry("the file could not be read to its end"));
    }
    progress.succeed(None).await
}

async fn refuse_file(mut progress: TaskProgress, problem: FileProblem) -> Result<(), JobError> {
    let reason = match problem {
        FileProblem::Header(errors) => {
            let reason = format!(
                "the header is wrong: {}",
                errors.iter().map(|e| format!("{} ({})", e.field, e.message)).collect::<Vec<_>>().join("; ")
            );
            progress.row_failed(1, errors);
            reason
        }
        FileProblem::NotUtf8 { line } => {
            progress.row_failed(line, vec![FieldError::new("file", "not UTF-8 text")]);
            format!("line {line} is not UTF-8 text; save the file as CSV UTF-8 (nothing was imported)")
        }
        FileProblem::Unreadable { line, message } => {
            progress.row_failed(line, vec![FieldError::new("file", message.clone())]);
            format!("line {line} cannot be read as CSV: {message} (nothing was imported)")
        }
    };
    progress.fail(reason).await
}

/// Runs an export for the job's task: every row of `export` into `exports/<task>/<name>` in the
/// shop's files, which the task then names. `name` is the file's name (`customers.csv`).
pub async fn run_export<E: CsvExport>(ctx: &JobContext, export: &E, name: &str) -> Result<(), JobError> {
    let (tenant, files) = tenant_files(ctx).await?;
    let mut progress = ctx.progress().await?;
    if progress.is_cancel_requested() {
        return progress.cancelled().await;
    }
    let key = FileKey::parse(&format!("exports/{}/{name}", progress.id())).map_err(JobError::permanent)?;
    let db = ctx.db.clone();
    let total = db.tenant_tx(&tenant.schema, async |conn| export.count(conn).await).await?;
    progress.set_total(total);

    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(4);
    let body: ByteStream =
        futures_util::stream::unfold(receiver, |mut r| async move { r.recv().await.map(|c| (c, r)) }).boxed();
    let produce = async {
        let mut after: Option<E::Key> = None;
        let chunk = |write: &dyn Fn(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>| {
            let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
            write(&mut csv).map_err(|e| JobError::permanent(format!("writing CSV: {e}")))?;
            csv.into_inner().map(Bytes::from).map_err(|e| JobError::permanent(format!("writing CSV: {e}")))
        };
        let columns = export.header();
        let header = chunk(&|csv| csv.write_record(&columns))?;
        sender.send(Ok(header)).await.map_err(|_| JobError::retry("the file store stopped reading"))?;
        let limit = i64::try_from(BATCH_ROWS).unwrap_or(500);
        loop {
            let page =
                db.tenant_tx(&tenant.schema, async |conn| export.page(conn, after.as_ref(), limit).await).await?;
            let Some((last, _)) = page.last() else { break };
            after = Some(last.clone());
            let count = i64::try_from(page.len()).unwrap_or(i64::MAX);
            let rows: Vec<E::Row> = page.into_iter().map(|(_, row)| row).collect();
            let bytes = chunk(&|csv| rows.iter().try_for_each(|row| csv.serialize(row)))?;
            sender.send(Ok(bytes)).await.map_err(|_| JobError::retry("the file store stopped reading"))?;
            progress.advance(count);
            if progress.checkpoint().await? {
                // An error item makes the store drop the upload: no half file is kept.
                let _ = sender.send(Err(std::io::Error::other("cancelled"))).await;
                return Ok(false);
            }
            if count < limit {
                break;
            }
        }
        drop(sender);
        Ok::<_, JobError>(true)
    };
    let (stored, produced) = tokio::join!(files.put(&key, "text/csv; charset=utf-8", body, MAX_EXPORT_BYTES), produce);
    match (produced, stored) {
        (Ok(false), _) => progress.cancelled().await,
        (Ok(true), Ok(_)) => progress.succeed(Some(TaskFile::csv(key, name))).await,
        // The store stopped reading because the file outgrew it: the merchant's answer, not a retry.
        (_, Err(StorageError::TooLarge { limit })) => {
            progress.fail(format!("the export is larger than the {limit} bytes allowed")).await
        }
        (Err(e), _) => Err(e),
        (Ok(true), Err(e)) => Err(JobError::retry(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_is_checked_column_by_column() {
        let found = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert!(check_header(&found(&["quantity", "sku"]), &["sku", "quantity"], &[]).is_empty(), "any order");
        assert!(check_header(&found(&["sku", "quantity", "note"]), &["sku", "quantity"], &["note"]).is_empty());
        let errors = check_header(&found(&["sku", "qty", "sku"]), &["sku", "quantity"], &[]);
        let named: Vec<(&str, &str)> = errors.iter().map(|e| (e.field.as_str(), e.message.as_str())).collect();
        assert_eq!(named[0], ("quantity", "missing column"));
        assert_eq!(named[1].0, "qty");
        assert!(named[1].1.starts_with("unknown column"), "{named:?}");
        assert_eq!(named[2], ("sku", "the column appears twice"));
    }

    #[test]
    fn the_first_pass_names_the_line_that_is_not_utf8() {
        let mut file = b"sku,quantity\nA,1\nB,2\n".to_vec();
        file.extend_from_slice(b"C\xff,3\nD,4\n");
        match scan(file.as_slice(), &["sku", "quantity"], &[]) {
            Err(FileProblem::NotUtf8 { line }) => assert_eq!(line, 4),
            _ => panic!("a non-UTF-8 line is the file's problem"),
        }
        assert!(matches!(scan(b"sku,quantity\r\nA,1\r\nB,2\r\n".as_slice(), &["sku", "quantity"], &[]), Ok(2)));
        assert!(matches!(scan(b"".as_slice(), &["sku"], &[]), Err(FileProblem::Header(_))));
    }

    #[derive(Debug, serde::Deserialize)]
    struct Row {
        sku: String,
        quantity: u32,
    }

    #[tokio::test]
    async fn the_second_pass_refuses_a_row_with_its_line_and_column() {
        let file = b"quantity,sku\n1,A\nlots,B\n3\n4,D\n".to_vec();
        let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
        tokio::task::spawn_blocking(move || parse::<_, Row>(file.as_slice(), sender));
        let batch = receiver.recv().await.unwrap();
        let summary: Vec<String> = batch
            .iter()
            .map(|p| match p {
                Parsed::Row(l) => format!("{} {} {}", l.line, l.row.sku, l.row.quantity),
                Parsed::Refused((line, errors)) => format!("{line} {}", errors[0].field),
            })
            .collect();
        assert_eq!(summary, ["2 A 1", "3 quantity", "4 row", "5 D 4"]);
    }
}
