//! What a module hands the composition root. `src/app.rs` builds each module, lists it once,
//! and every hook below is called for every listed module: its routes mounted under each area's
//! prefix, its shared state made available to handlers, its events and jobs registered. A hook
//! a module does not need is left to its empty default.

use crate::areas::Area;
use crate::events::EventBusBuilder;
use crate::jobs::JobRegistry;
use paperclip::actix::web::ServiceConfig;

pub trait Module {
    /// Storefront routes, mounted under [`crate::areas::STORE`].
    fn store(&self, _cfg: &mut ServiceConfig) {}

    /// Back-office routes, mounted under [`crate::areas::ADMIN`].
    fn admin(&self, _cfg: &mut ServiceConfig) {}

    /// Platform operators' routes, mounted under [`crate::areas::PLATFORM`].
    fn platform(&self, _cfg: &mut ServiceConfig) {}

    /// What its handlers extract (usually `web::Data<TheModule>`), registered app-wide so
    /// every area's handlers see it.
    fn app_data(&self, _cfg: &mut ServiceConfig) {}

    /// Declares the events it publishes, subscribes its handlers, registers its job kinds,
    /// recurring jobs and what its jobs need. Called on every module before the bus is built
    /// (modules hold a pending bus until then), so a subscriber to every event (webhooks) sees
    /// every module's events, whatever the order of the list.
    fn background(&self, _events: &mut EventBusBuilder, _jobs: &mut JobRegistry) -> Result<(), String> {
        Ok(())
    }

    /// The routes of one area (dispatches to [`Module::store`], [`Module::admin`],
    /// [`Module::platform`]).
    fn routes(&self, area: Area, cfg: &mut ServiceConfig) {
        match area {
            Area::Store => self.store(cfg),
            Area::Admin => self.admin(cfg),
            Area::Platform => self.platform(cfg),
        }
    }
}

/// The kernel's own part: the job queue's platform administration, the diagnostics probe and
/// the housekeeping jobs.
pub struct Kernel;

impl Module for Kernel {
    fn platform(&self, cfg: &mut ServiceConfig) {
        crate::queue_admin::platform_routes(cfg);
    }

    fn background(&self, events: &mut EventBusBuilder, jobs: &mut JobRegistry) -> Result<(), String> {
        crate::diagnostics::register(events, jobs);
        jobs.recurring("purge-finished-jobs", "17 3 * * *", crate::jobs::PurgeFinishedJobs { keep_days: 7 })?;
        jobs.recurring("purge-idempotency-keys", "7 * * * *", crate::idempotency::PurgeExpiredKeys)?;
        jobs.recurring("purge-throttles", "37 * * * *", crate::throttle::PurgeExpiredThrottles)?;
        Ok(())
    }
}
