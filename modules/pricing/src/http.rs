//! The pricing module's HTTP face: every admin route lives under `/pricing`, every storefront
//! route under `/pricing` too. Each feature mounts its own routes here, one line each.

use paperclip::actix::web::{self, ServiceConfig};

pub(crate) const SCOPE: &str = "/pricing";

pub(crate) fn admin_routes(cfg: &mut ServiceConfig) {
    cfg.service(web::scope("/shipping").configure(crate::shipping::http::admin_routes));
    cfg.service(web::scope("/taxes").configure(crate::tax::http::admin_routes));
    crate::price_lists::http::admin_routes(cfg);
    crate::promotions::http::admin_routes(cfg);
}

pub(crate) fn store_routes(cfg: &mut ServiceConfig) {
    cfg.service(web::scope("/shipping").configure(crate::shipping::http::store_routes));
}
