//! The catalog's background jobs: bulk changes, CSV imports and exports, and the sweep that
//! announces publication windows opening and closing. Each runs as a task
//! (`agora_kernel::tasks`) and reaches the catalog as a resource provided at start-up.

use crate::bulk::{Author, Change};
use crate::{BulkSelection, CatalogModule};
use agora_kernel::jobs::{Job, JobContext, JobError, JobRegistry};
use agora_kernel::storage::FileKey;
use serde::{Deserialize, Serialize};

/// A bulk change to many products.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct BulkChange {
    pub selection: BulkSelection,
    pub change: Change,
    pub by: Author,
}

impl Job for BulkChange {
    const KIND: &'static str = "catalog.bulk_change";
    // Not idempotent (a price change applied twice): one attempt, a failure fails the task.
    const MAX_ATTEMPTS: i32 = 1;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        ctx.resource::<CatalogModule>()?.run_bulk_change(&ctx, self).await
    }
}

/// An import of a product file stored by the upload.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ImportProducts {
    pub file: String,
}

impl Job for ImportProducts {
    const KIND: &'static str = "catalog.import_products";
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let file = FileKey::parse(&self.file).map_err(JobError::permanent)?;
        ctx.resource::<CatalogModule>()?.run_import(&ctx, &file).await
    }
}

/// An export of every live variant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExportProducts {}

impl Job for ExportProducts {
    const KIND: &'static str = "catalog.export_products";
    const MAX_ATTEMPTS: i32 = 3;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        ctx.resource::<CatalogModule>()?.run_export(&ctx).await
    }
}

/// Announces the publication windows that opened or closed, in every open shop.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AnnouncePublicationWindows {}

impl Job for AnnouncePublicationWindows {
    const KIND: &'static str = "catalog.announce_publication_windows";
    // The next tick does the same work; a failed sweep is not worth retrying.
    const MAX_ATTEMPTS: i32 = 1;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        ctx.resource::<CatalogModule>()?.announce_publication_windows().await
    }
}

/// How often shops are swept for windows that opened or closed: an event comes at most this
/// late, for one indexed look per shop that finds nothing most of the time.
pub(crate) const PUBLICATION_SWEEP: &str = "*/5 * * * * *";

pub(crate) fn register(jobs: &mut JobRegistry) -> Result<(), String> {
    jobs.recurring("catalog-publication-windows", PUBLICATION_SWEEP, AnnouncePublicationWindows {})?;
    jobs.register::<BulkChange>();
    jobs.register::<ImportProducts>();
    jobs.register::<ExportProducts>();
    Ok(())
}
