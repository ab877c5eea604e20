//! Headers every response carries, so that whatever a browser gets from this origin (the API's
//! JSON, a problem, the API docs page, later the storefront and admin apps) cannot be sniffed into
//! another type, framed by another site, or leak its URL (reset links carry tokens) in a Referer.
//!
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`
//!   on every response;
//! - `Strict-Transport-Security` when cookies are `Secure` (`AGORA_SECURE_COOKIES`, the default):
//!   the deployment is served over https, and a browser should never try it over http again;
//! - `Content-Security-Policy`: for HTML, our own origin plus exactly what the API docs page
//!   (Swagger UI, bundled by paperclip) needs: its two inline blocks by hash, its CSS images as
//!   `data:` URIs, the spec fetched from this origin; for everything else nothing at all (a JSON
//!   answer opened as a document runs nothing and loads nothing). `frame-ancestors 'none'` in both.
//!
//! A response that sets its own policy keeps it (the web apps' pages, `src/web.rs`).
//!
//! Applied by [`add`], the outermost middleware but one, so errors and 404s carry them too.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{web, Error};

/// What varies between deployments.
#[derive(Debug, Clone, Copy)]
pub struct SecurityHeaders {
    /// Send `Strict-Transport-Security` (the deployment is https-only).
    pub hsts: bool,
}

/// One year, the value HSTS preload lists expect.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// For HTML pages. The hashes are of Swagger UI's inline `<script>` and `<style>` in its
/// `index.html` (paperclip-actix 0.7.4, Swagger UI 3.52.0); a paperclip upgrade that changes
/// them shows up in `tests/integration/attacks_sso.rs`, which checks the page against them.
pub const HTML_POLICY: &str = "default-src 'none'; \
    script-src 'self' 'sha256-qzIUUVyNis8jVHXKlYc4HGAEsn0o42pLmW1do84Uptw='; \
    style-src 'self' 'sha256-pyVPiLlnqL9OWVoJPs/E6VVF5hBecRzM2gBiarnaqAo='; \
    img-src 'self' data:; font-src 'self'; connect-src 'self'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// For everything that is not HTML.
pub const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

fn is_html(res: &ServiceResponse<BoxBody>) -> bool {
    res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"))
}

/// Middleware adding the headers (settings from `web::Data<SecurityHeaders>`; HSTS off without).
pub async fn add(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    let hsts = req.app_data::<web::Data<SecurityHeaders>>().is_some_and(|s| s.hsts);
    let mut res = next.call(req).await?.map_into_boxed_body();
    let policy = if is_html(&res) { HTML_POLICY } else { OTHER_POLICY };
    let headers = res.headers_mut();
    let fixed: [(HeaderName, &'static str); 3] = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    // The web apps' pages bring their own policy (this origin, with a nonce per page); every
    // other response gets one of the two above.
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(policy));
    }
    if hsts {
        headers.insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
    }
    Ok(res)
}
