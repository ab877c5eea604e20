//! The storefront (`/`) and the admin (`/admin/`, with the operators' console at
//! `/admin/platform/`), served from the API's own origin so that the apps' session cookies and
//! API calls are same-origin and no CORS is ever needed.
//!
//! - Anything the API, `/healthz`, `/readyz`, `/metrics` or `/api/docs` answers is routed before
//!   this: the apps are the app's default service, reached only by a GET or HEAD no route took.
//! - Deep links (`/account/addresses`, `/admin/staff`) get their app's `index.html`, so the
//!   app's router shows the page; a missing file with an extension (`/main-XYZ.js`) is the
//!   API's 404 problem, never HTML where a script was expected. Hosts that name no shop have no
//!   storefront: `/` there leads to the operators' console, other paths are the API's 404.
//! - Hashed assets are `immutable` for a year; `index.html` and unhashed files are `no-cache`,
//!   so a deployment is picked up on the next visit.
//! - HTML carries a Content-Security-Policy allowing only this origin (and the media storage's,
//!   when files are in an S3 bucket); styles Angular adds at run time are allowed by a nonce
//!   made per response and handed to Angular through `ngCspNonce` in `index.html`.
//! - A shop's product pages (`/p/<slug>`) carry their title, description, canonical and
//!   `hreflang` links, Open Graph tags and JSON-LD written by the server, and each shop has a
//!   `/sitemap.xml` and `/robots.txt` ([`crate::seo`]).
//! - Release builds embed `frontend/dist`, so the binary alone is the product; debug builds
//!   read the same directory at run time (rust-embed), and `AGORA_FRONTEND_DIR` serves any
//!   directory in any build: rebuild the apps, reload the page. Without a built app the binary
//!   still starts and says so on the page.

use crate::app::AppState;
use crate::seo;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};
use agora_kernel::storage::StorageSettings;
use agora_kernel::{ApiError, ErrorKind, TenantContext};
use agora_tenancy::{TenancyError, TenancyModule};
use base64::Engine;
use rand::RngCore;
use std::borrow::Cow;
use std::path::PathBuf;

/// The built apps as `ng build` leaves them: `<app>/browser/…`.
#[derive(rust_embed::Embed)]
#[folder = "frontend/dist/"]
#[allow_missing = true]
#[include = "storefront/browser/**"]
#[include = "admin/browser/**"]
struct BuiltApps;

/// Where the apps' files are read from.
#[derive(Debug, Clone)]
pub enum AppFiles {
    /// Compiled into the binary (in debug builds, read from `frontend/dist` at run time).
    Embedded,
    /// A directory laid out like `frontend/dist`, read on every request (`AGORA_FRONTEND_DIR`).
    Directory(PathBuf),
}

impl AppFiles {
    fn read(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        match self {
            AppFiles::Embedded => BuiltApps::get(path).map(|file| file.data),
            AppFiles::Directory(root) => std::fs::read(root.join(path)).ok().map(Cow::Owned),
        }
    }
}

/// How the apps are served: their files and the policy their pages carry.
#[derive(Debug, Clone)]
pub struct WebApps {
    files: AppFiles,
    /// The media storage's origin when it is not this one (an S3 bucket), for images.
    media_origin: Option<String>,
}

impl WebApps {
    pub fn new(files: AppFiles, storage: &StorageSettings) -> Self {
        Self { files, media_origin: media_origin(storage) }
    }

    /// The page policy with this response's nonce.
    fn content_security_policy(&self, nonce: &str) -> String {
        let media = self.media_origin.as_deref().map(|o| format!(" {o}")).unwrap_or_default();
        format!(
            "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self'{media}; \
             media-src 'self'{media}; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; \
             form-action 'self'; frame-ancestors 'none'"
        )
    }
}

/// Where an S3 bucket's objects are fetched from by a browser (path-style for a configured
/// endpoint, virtual-hosted for AWS itself); local files are served by this origin.
fn media_origin(storage: &StorageSettings) -> Option<String> {
    match storage {
        StorageSettings::Local { .. } => None,
        StorageSettings::S3(s3) => match &s3.endpoint {
            Some(endpoint) => url::Url::parse(endpoint).ok().map(|u| u.origin().ascii_serialization()),
            None => Some(format!("https://{}.s3.{}.amazonaws.com", s3.bucket, s3.region)),
        },
    }
}

/// Which app a path belongs to, and the path inside it.
#[derive(Debug, PartialEq, Eq)]
enum Target<'a> {
    /// `/admin` without its slash: the app's relative URLs need it.
    AdminRoot,
    App {
        app: &'static str,
        rest: &'a str,
    },
}

fn target(path: &str) -> Target<'_> {
    if path == "/admin" {
        return Target::AdminRoot;
    }
    match path.strip_prefix("/admin/") {
        Some(rest) => Target::App { app: "admin", rest },
        None => Target::App { app: "storefront", rest: path.trim_start_matches('/') },
    }
}

/// A path made only of plain names (no `..`, no hidden files, no encoded characters), so
/// that it can name nothing outside the app's directory.
fn plain(rest: &str) -> bool {
    rest.split('/').all(|segment| {
        !segment.is_empty()
            && !segment.starts_with('.')
            && segment.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    })
}

/// `main-ABCD1234.js`, `chunk-X7y8Z9ab.js`, `styles-QWERTYUI.css`: the build's content hashes
/// (eight letters or digits after the last dash). The apps' own unhashed files (`favicon.ico`)
/// have no such suffix; a file that looked hashed by accident would only be cached longer.
fn is_hashed(name: &str) -> bool {
    let file = name.rsplit('/').next().unwrap_or(name);
    let stem = file.split_once('.').map_or(file, |(stem, _)| stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() == 8 && hash.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// The default service: the apps for a GET or HEAD that no route answered, the API's 404
/// problem for everything else (`/api/…` paths that do not exist stay problems, never HTML).
pub async fn serve(req: HttpRequest, apps: web::Data<WebApps>) -> Result<HttpResponse, ApiError> {
    let path = req.path();
    let api = ["/api/", "/healthz", "/readyz", "/metrics"].iter().any(|p| path.starts_with(p)) || path == "/api";
    if api || !(req.method() == Method::GET || req.method() == Method::HEAD) {
        return Err(ApiError::new(ErrorKind::NotFound, "not-found", "no such resource"));
    }
    match target(path) {
        Target::AdminRoot => {
            Ok(HttpResponse::PermanentRedirect().insert_header((header::LOCATION, "/admin/")).finish())
        }
        Target::App { app: "storefront", rest } => match addressed(&req).await {
            Addressed::Open(tenant) => storefront(&req, &apps, &tenant, rest).await,
            Addressed::Closed => app_file(&apps, "storefront", rest),
            // The platform's own host has no storefront: its front page is the operators' console.
            Addressed::Nobody if rest.is_empty() => {
                Ok(HttpResponse::Found().insert_header((header::LOCATION, "/admin/platform/")).finish())
            }
            Addressed::Nobody => Err(ApiError::new(ErrorKind::NotFound, "not-found", "no such resource")),
        },
        Target::App { app, rest } => app_file(&apps, app, rest),
    }
}

/// The shop a page's host names.
enum Addressed {
    Open(TenantContext),
    /// Suspended or still being set up: it keeps its pages; the API tells the visitor it is closed.
    Closed,
    Nobody,
}

/// The shop the host names (as the API resolves it; pages never look at X-Tenant-ID or
/// forwarded headers, which a link cannot carry). Elsewhere only the API answers, and the
/// operators' console under `/admin/`.
async fn addressed(req: &HttpRequest) -> Addressed {
    let Some(tenancy) = req.app_data::<web::Data<TenancyModule>>() else { return Addressed::Nobody };
    let host = req.uri().authority().map(|a| a.as_str()).or_else(|| req.headers().get(header::HOST)?.to_str().ok());
    match tenancy.resolve(host, None).await {
        Ok(Some(shop)) => Addressed::Open(shop),
        Ok(None) => Addressed::Nobody,
        Err(TenancyError::Suspended(_) | TenancyError::Provisioning(_)) => Addressed::Closed,
        Err(_) => Addressed::Nobody,
    }
}

/// A shop's storefront: its robots.txt and sitemap, product and category pages described for
/// crawlers and link previews (see [`crate::seo`]), and the app for everything else.
async fn storefront(
    req: &HttpRequest,
    apps: &WebApps,
    tenant: &TenantContext,
    rest: &str,
) -> Result<HttpResponse, ApiError> {
    let Some(state) = req.app_data::<web::Data<AppState>>() else { return app_file(apps, "storefront", rest) };
    match rest {
        "robots.txt" => {
            let shop = seo::shop(state, tenant).await?;
            return Ok(generated_text("text/plain; charset=utf-8", seo::robots(&shop)));
        }
        "sitemap.xml" => {
            let page = match query_value(req, "page") {
                None => None,
                Some(raw) => match raw.parse::<i64>() {
                    Ok(n) => Some(n),
                    Err(_) => return Err(ApiError::new(ErrorKind::NotFound, "not-found", "no such sitemap page")),
                },
            };
            return match seo::sitemap(state, tenant, page, seo::SITEMAP_PAGE).await? {
                Some(xml) => Ok(generated_text("application/xml; charset=utf-8", xml)),
                None => Err(ApiError::new(ErrorKind::NotFound, "not-found", "no such sitemap page")),
            };
        }
        _ => {}
    }
    let lang = query_value(req, "lang");
    // `/products/<slug>` is an alias of `/p/<slug>` (the address people type or other systems
    // link to); its canonical link names `/p/<slug>`, so crawlers index one URL.
    let head = if let Some(slug) = rest.strip_prefix("p/").or_else(|| rest.strip_prefix("products/")) {
        seo::product_page(state, tenant, slug, lang.as_deref()).await
    } else if let Some(slug) = rest.strip_prefix("c/") {
        seo::category_page(state, tenant, slug, lang.as_deref()).await
    } else {
        return app_file(apps, "storefront", rest);
    };
    match head {
        Ok(seo::PageHead::Found(head)) => {
            Ok(app_page(apps, "storefront", StatusCode::OK, |page| seo::inject(page, &head)))
        }
        Ok(seo::PageHead::MovedTo(path)) => {
            Ok(HttpResponse::MovedPermanently().insert_header((header::LOCATION, path)).finish())
        }
        // The app still loads (and says the product is not there); crawlers see the status.
        Ok(seo::PageHead::Missing) => Ok(app_page(apps, "storefront", StatusCode::NOT_FOUND, |page| {
            page.replacen("</head>", "<meta name=\"robots\" content=\"noindex\"></head>", 1)
        })),
        Err(e) => {
            // The shopper still gets the page; only its description for crawlers is missing.
            tracing::warn!(error = %e, "a catalogue page's description could not be read");
            Ok(app_page(apps, "storefront", StatusCode::OK, str::to_string))
        }
    }
}

fn query_value(req: &HttpRequest, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.query_string().as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// A generated text file of the storefront (robots.txt, the sitemap): fresh for an hour.
fn generated_text(content_type: &str, body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, content_type))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

fn app_file(apps: &WebApps, app: &str, rest: &str) -> Result<HttpResponse, ApiError> {
    if !rest.is_empty() && rest != "index.html" {
        if plain(rest) {
            if let Some(body) = apps.files.read(&format!("{app}/browser/{rest}")) {
                return Ok(asset(rest, body));
            }
        }
        let last = rest.rsplit('/').next().unwrap_or(rest);
        if last.contains('.') {
            return Err(ApiError::new(ErrorKind::NotFound, "not-found", "no such file"));
        }
    }
    Ok(app_page(apps, app, StatusCode::OK, str::to_string))
}

/// The app's `index.html` with `status`, changed by `edit` (the product pages' head), or a page
/// saying the apps were not built.
fn app_page(apps: &WebApps, app: &str, status: StatusCode, edit: impl FnOnce(&str) -> String) -> HttpResponse {
    match apps.files.read(&format!("{app}/browser/index.html")) {
        Some(html) => index(apps, &edit(&String::from_utf8_lossy(&html)), status),
        None => plain_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "The frontend was not built",
            "This Agora binary was built without its web apps. Build them with \
             <code>bash scripts/frontend.sh</code> and rebuild, or point <code>AGORA_FRONTEND_DIR</code> \
             at <code>frontend/dist</code>. The API is available under <code>/api/</code>.",
        ),
    }
}

fn asset(name: &str, body: Cow<'static, [u8]>) -> HttpResponse {
    let mime = mime_guess::from_path(name).first_or_octet_stream();
    let cache = if is_hashed(name) { "public, max-age=31536000, immutable" } else { "no-cache" };
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, mime.essence_str()))
        .insert_header((header::CACHE_CONTROL, cache))
        .body(body.into_owned())
}

/// The app's page, with this response's nonce where `index.html` asks for it.
fn index(apps: &WebApps, html: &str, status: StatusCode) -> HttpResponse {
    let mut bytes = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut bytes);
    let nonce = base64::engine::general_purpose::STANDARD.encode(bytes);
    let page = html.replace("AGORA_CSP_NONCE", &nonce);
    let mut response = HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(page);
    if let Ok(policy) = HeaderValue::from_str(&apps.content_security_policy(&nonce)) {
        response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

/// A page with no script and no style (the kernel's strictest HTML policy applies to it).
fn plain_page(status: StatusCode, title: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status)
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
             <body><h1>{title}</h1><p>{message}</p></body></html>"
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_belong_to_the_storefront_unless_under_admin() {
        assert_eq!(target("/"), Target::App { app: "storefront", rest: "" });
        assert_eq!(target("/account/addresses"), Target::App { app: "storefront", rest: "account/addresses" });
        assert_eq!(target("/admin"), Target::AdminRoot);
        assert_eq!(target("/admin/"), Target::App { app: "admin", rest: "" });
        assert_eq!(target("/admin/platform/"), Target::App { app: "admin", rest: "platform/" });
        assert_eq!(target("/administrator"), Target::App { app: "storefront", rest: "administrator" });
    }

    #[test]
    fn only_plain_names_reach_the_file_system() {
        assert!(plain("main-ABC.js"));
        assert!(plain("media/logo.png"));
        for bad in ["../secret", "a/../../b", ".env", "a//b", "a%2e%2e/b", "a\\b", "platform/"] {
            assert!(!plain(bad), "{bad}");
        }
    }

    #[test]
    fn content_hashes_are_recognised() {
        assert!(is_hashed("main-PNQ2KVUX.js"));
        assert!(is_hashed("chunk-C9n5IuEC.js"));
        assert!(is_hashed("styles-BBDQLGWP.css"));
        assert!(is_hashed("media/inter-latin-400-normal-AB12CD34.woff2"));
        assert!(!is_hashed("favicon.ico"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("my-file.js"));
    }

    #[test]
    fn media_in_a_bucket_is_allowed_by_its_origin() {
        let local = StorageSettings::Local { root: "/srv/files".into() };
        assert_eq!(media_origin(&local), None);
        let s3 = |endpoint: Option<&str>| {
            StorageSettings::S3(agora_kernel::storage::S3Settings {
                bucket: "media".into(),
                endpoint: endpoint.map(str::to_string),
                region: "eu-central-1".into(),
                access_key_id: "id".into(),
                secret_access_key: secrecy::SecretString::from("secret"),
            })
        };
        assert_eq!(media_origin(&s3(Some("http://127.0.0.1:9000/"))).as_deref(), Some("http://127.0.0.1:9000"));
        assert_eq!(media_origin(&s3(None)).as_deref(), Some("https://media.s3.eu-central-1.amazonaws.com"));
    }
}
