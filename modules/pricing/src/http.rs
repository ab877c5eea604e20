//! The pricing module's HTTP face: every admin route lives under `/pricing`, every storefront
//! route under `/pricing` too. Each feature mounts its own routes here, one line each.

use paperclip::actix::web::ServiceConfig;

pub(crate) const SCOPE: &str = "/pricing";

pub(crate) fn admin_routes(cfg: &mut ServiceConfig) {
    crate::promotions::http::admin_routes(cfg);
}

pub(crate) fn store_routes(_cfg: &mut ServiceConfig) {}
