//! The inventory's background work: expiring reservations whose time is up, and CSV stock
//! imports and exports (tasks).

use crate::InventoryModule;
use agora_kernel::jobs::{EnqueueOptions, Job, JobContext, JobError, JobRegistry};
use serde::{Deserialize, Serialize};

/// Expires a shop's due reservations. Each reservation enqueues one for the instant it runs out,
/// in the transaction that made it (or moved its expiry), so none can be forgotten; a run
/// expires every reservation due by then, so a run for one already closed does nothing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct ExpireReservations {}

/// How many reservations one run closes before it queues another (bounded transactions).
pub(crate) const BATCH: i64 = 500;

impl Job for ExpireReservations {
    const KIND: &'static str = "inventory.expire_reservations";

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant.clone().ok_or_else(|| JobError::permanent("reservations belong to a shop"))?;
        ctx.resource::<InventoryModule>()?.expire_due(&tenant).await.map_err(JobError::retry)?;
        Ok(())
    }
}

/// When the expiry of a reservation running out at `at` runs.
pub(crate) fn at(at: chrono::DateTime<chrono::Utc>) -> EnqueueOptions {
    // No dedup key: the queue's keys are global, and one shared by concurrent reservations would
    // make each wait for the other's commit. A job per reservation costs a row, not a wait.
    EnqueueOptions { run_at: Some(at), ..Default::default() }
}

/// An import of a stock file stored by the upload (`stock_csv.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ImportStock {
    pub file: String,
    pub by: crate::stock_csv::StartedBy,
}

impl Job for ImportStock {
    const KIND: &'static str = "inventory.import_stock";
    // Counts are absolute: a run again applies nothing new.
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let file = agora_kernel::storage::FileKey::parse(&self.file).map_err(JobError::permanent)?;
        ctx.resource::<InventoryModule>()?.run_import(&ctx, &file, self.by.actor()).await
    }
}

/// An export of every stock level (`stock_csv.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExportStock {}

impl Job for ExportStock {
    const KIND: &'static str = "inventory.export_stock";
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        agora_kernel::csv_files::run_export(&ctx, &crate::stock_csv::StockExport, "stock.csv").await
    }
}

pub(crate) fn register(jobs: &mut JobRegistry) {
    jobs.register::<ExpireReservations>();
    jobs.register::<ImportStock>();
    jobs.register::<ExportStock>();
}
