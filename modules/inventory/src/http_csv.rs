//! HTTP face of the CSV stock import (`POST /api/v1/admin/inventory/imports`: the file is
//! stored and checked, then counted in as a task watched at `/api/v1/admin/tasks/{id}`) and
//! export (`POST …/exports`: the file is the task's result).

use crate::stock_csv::StockImport;
use crate::InventoryModule;
use actix_web::HttpRequest;
use agora_kernel::csv_files::{self, CsvUpload};
use agora_kernel::images;
use agora_kernel::storage::{bytes_stream, ConfiguredStorage, TenantFiles};
use agora_kernel::tasks::{NewTask, TaskStarted};
use agora_kernel::{perm, Acting, ApiError, Authorized, TenantContext};
use paperclip::actix::{api_v2_operation, web};

/// An import file larger than this is refused (413) before it is stored.
const MAX_IMPORT_BYTES: u64 = 50 * 1024 * 1024;

/// Import stock counts from a CSV file (UTF-8; columns `sku`, `location` (a stock location's
/// name, any case), `on_hand` (the count: on hand becomes it, the difference goes into the
/// ledger as `counted` with the reference `csv-import:<task id>`), optional `safety_stock`), as a
/// task. A wrong header or a file that is not UTF-8 is refused at once (422 naming the column or
/// line); rows that do not fit (an unknown SKU or location, a bad count, a count below what is
/// reserved) are reported by the task with their line and column, the others applied. Running
/// the same file again changes nothing. The file is the raw body (`text/csv`), at most 50 MiB
/// (413 beyond).
#[api_v2_operation(tags(Admin), operation_id = "importStock")]
pub(crate) async fn import_stock(
    auth: Authorized<perm::InventoryManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
    storage: web::Data<ConfiguredStorage>,
    upload: CsvUpload,
) -> Result<TaskStarted, ApiError> {
    let bytes = images::read_upload(upload.body, upload.declared_length, MAX_IMPORT_BYTES).await?;
    let files = TenantFiles::new(storage.get().await?, &tenant.schema)?;
    let file = csv_files::receive_upload::<StockImport>(&files, bytes_stream(bytes), MAX_IMPORT_BYTES).await?;
    let acting = Acting::new(auth.actor(), agora_kernel::http::client_addr(&req).map(|a| a.to_string()));
    let task_id = module.start_import(&tenant, file, &acting, NewTask::by(&auth)).await?;
    Ok(TaskStarted { task_id })
}

/// Export every stock level as CSV (`sku,location,on_hand,safety_stock`: the import's columns,
/// so the file, edited, imports back), as a task; the file is the task's result
/// (`GET /api/v1/admin/tasks/{id}/result`).
#[api_v2_operation(tags(Admin), operation_id = "exportStock")]
pub(crate) async fn export_stock(
    auth: Authorized<perm::InventoryRead>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<InventoryModule>,
) -> Result<TaskStarted, ApiError> {
    let acting = Acting::new(auth.actor(), agora_kernel::http::client_addr(&req).map(|a| a.to_string()));
    let task_id = module.start_export(&tenant, &acting, NewTask::by(&auth)).await?;
    Ok(TaskStarted { task_id })
}
