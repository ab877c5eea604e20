//! The cart's background work: abandoning carts left idle.

use crate::CartModule;
use agora_kernel::jobs::{Job, JobContext, JobError, JobRegistry};
use serde::{Deserialize, Serialize};

/// Abandons, in every open shop, the carts unchanged longer than the shop's setting.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct AbandonIdleCarts {}

impl Job for AbandonIdleCarts {
    const KIND: &'static str = "cart.abandon_idle";
    // The next tick does the same work; a failed sweep is not worth retrying.
    const MAX_ATTEMPTS: i32 = 1;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        ctx.resource::<CartModule>()?.abandon_idle_carts().await
    }
}

/// Once a minute: a cart is abandoned at most a minute late, for one indexed look per shop.
const SWEEP: &str = "41 * * * * *";

pub(crate) fn register(jobs: &mut JobRegistry) -> Result<(), String> {
    jobs.recurring("cart-abandonment", SWEEP, AbandonIdleCarts {})
}
