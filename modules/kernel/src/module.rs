//! What a module hands the composition root. `src/app.rs` builds each module, lists it once,
//! and every hook below is called for every listed module: its routes mounted under each area's
//! prefix, its shared state made available to handlers, its events and jobs registered. A hook
//! a module does not need is left to its empty default.

use crate::areas::Area;
use crate::events::EventBusBuilder;
use crate::jobs::JobRegistry;
use paperclip::actix::web::{self, ServiceConfig};

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

/// Mounts `modules` on an app (`App::configure(|cfg| mount(cfg, &modules))`): each one's
/// shared state, then one scope per area holding every module's routes for it, in list order.
/// One scope per area because actix hands a request to the first scope whose prefix matches and
/// never falls through to a later one.
pub fn mount(cfg: &mut ServiceConfig, modules: &[&dyn Module]) {
    for module in modules {
        module.app_data(cfg);
    }
    for area in Area::ALL {
        cfg.service(web::scope(area.prefix()).configure(|cfg| {
            for module in modules {
                module.routes(area, cfg);
            }
        }));
    }
}

/// The kernel's own part: the job queue's platform administration, the shop's tasks (imports,
/// exports), the diagnostics probe, the thumbnail job (`images::MakeThumbnails`, which modules
/// owning media enqueue) and the housekeeping jobs.
pub struct Kernel;

impl Module for Kernel {
    fn admin(&self, cfg: &mut ServiceConfig) {
        crate::tasks::admin_routes(cfg);
    }

    fn platform(&self, cfg: &mut ServiceConfig) {
        crate::queue_admin::platform_routes(cfg);
    }

    fn background(&self, events: &mut EventBusBuilder, jobs: &mut JobRegistry) -> Result<(), String> {
        crate::diagnostics::register(events, jobs);
        jobs.register::<crate::images::MakeThumbnails>();
        jobs.recurring("purge-finished-jobs", "17 3 * * *", crate::jobs::PurgeFinishedJobs { keep_days: 7 })?;
        jobs.recurring("purge-idempotency-keys", "7 * * * *", crate::idempotency::PurgeExpiredKeys {})?;
        jobs.recurring("purge-throttles", "37 * * * *", crate::throttle::PurgeExpiredThrottles {})?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! The example of `docs/modules.md`, kept honest: an empty module with one storefront and
    //! one admin route, mounted the way `src/app.rs` mounts every module.

    use super::{mount, Kernel, Module};
    use crate::events::EventBus;
    use crate::jobs::JobRegistry;
    use paperclip::actix::web::{self, ServiceConfig};
    use paperclip::actix::{api_v2_operation, Apiv2Schema, OpenApiExt};
    use serde::Serialize;

    mod hello {
        use super::*;

        #[derive(Clone, Default)]
        pub struct HelloModule;

        #[derive(Serialize, Apiv2Schema)]
        pub struct Greeting {
            pub text: String,
        }

        /// Greet a shopper.
        #[api_v2_operation(tags(Store), operation_id = "helloShopper")]
        async fn hello_shopper() -> web::Json<Greeting> {
            web::Json(Greeting { text: "hello, shopper".into() })
        }

        /// Greet the staff.
        #[api_v2_operation(tags(Admin), operation_id = "helloStaff")]
        async fn hello_staff() -> web::Json<Greeting> {
            web::Json(Greeting { text: "hello, staff".into() })
        }

        impl Module for HelloModule {
            fn store(&self, cfg: &mut ServiceConfig) {
                cfg.service(web::resource("/hello").route(web::get().to(hello_shopper)));
            }

            fn admin(&self, cfg: &mut ServiceConfig) {
                cfg.service(web::resource("/hello").route(web::get().to(hello_staff)));
            }
        }
    }

    #[actix_web::test]
    async fn a_module_is_mounted_under_each_area_it_serves_and_in_the_contract() {
        let hello = hello::HelloModule;
        let modules: [&dyn Module; 1] = [&hello];
        let app = actix_web::App::new()
            .wrap_api()
            .configure(|cfg| mount(cfg, &modules))
            .with_json_spec_at("/spec.json")
            .build();
        let app = actix_web::test::init_service(app).await;
        for (path, text) in [("/api/v1/store/hello", "hello, shopper"), ("/api/v1/admin/hello", "hello, staff")] {
            let req = actix_web::test::TestRequest::get().uri(path).to_request();
            let body: serde_json::Value = actix_web::test::call_and_read_body_json(&app, req).await;
            assert_eq!(body["text"], text, "{path}");
        }
        let req = actix_web::test::TestRequest::get().uri("/api/v1/platform/hello").to_request();
        assert_eq!(actix_web::test::call_service(&app, req).await.status(), 404);
        let req = actix_web::test::TestRequest::get().uri("/spec.json").to_request();
        let spec: serde_json::Value = actix_web::test::call_and_read_body_json(&app, req).await;
        assert_eq!(spec["paths"]["/api/v1/store/hello"]["get"]["operationId"], "helloShopper");
        assert_eq!(spec["paths"]["/api/v1/admin/hello"]["get"]["operationId"], "helloStaff");
    }

    #[test]
    fn modules_register_their_background_work_on_a_bus_their_facades_already_hold() {
        let bus = EventBus::pending();
        let mut events = EventBus::builder();
        let mut jobs = JobRegistry::default();
        assert!(Kernel.background(&mut events, &mut jobs).is_ok());
        assert!(bus.schemas().is_empty());
        assert!(events.build_into(&bus).is_ok());
        assert!(bus.schemas().iter().any(|(name, _)| name.starts_with("diagnostics.")));
        assert!(jobs.kinds().count() > 0);
        assert!(EventBus::builder().build_into(&bus).is_err(), "a bus is built once");
    }
}

#[cfg(test)]
mod recurring_jobs {
    /// The queue's API documents a job's payload as a JSON object: the kernel's own recurring
    /// jobs must serialize to one (a unit struct would be `null`) and read back from it.
    #[test]
    fn the_kernel_s_recurring_jobs_carry_an_object_payload() {
        let payloads = [
            serde_json::to_value(crate::idempotency::PurgeExpiredKeys {}).unwrap(),
            serde_json::to_value(crate::throttle::PurgeExpiredThrottles {}).unwrap(),
            serde_json::to_value(crate::jobs::PurgeFinishedJobs { keep_days: 7 }).unwrap(),
        ];
        for payload in &payloads {
            assert!(payload.is_object(), "{payload}");
        }
        let _: crate::idempotency::PurgeExpiredKeys = serde_json::from_value(payloads[0].clone()).unwrap();
        let _: crate::throttle::PurgeExpiredThrottles = serde_json::from_value(payloads[1].clone()).unwrap();
    }
}
