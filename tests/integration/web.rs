//! The web apps served by the binary: deep links, caching, the pages' Content-Security-Policy,
//! and the API keeping every path it answers. The apps here are a small stand-in laid out like
//! `frontend/dist` (`AGORA_FRONTEND_DIR`), so the tests hold whatever the real build contains.

use crate::support::*;
use agora::config::Config;
use std::collections::HashMap;
use std::path::Path;

const STOREFRONT_PAGE: &str =
    "<!doctype html><html><head><title>storefront page</title></head><body><shop-root ngCspNonce=\"AGORA_CSP_NONCE\"></shop-root></body></html>";
const ADMIN_PAGE: &str =
    "<!doctype html><html><head><title>admin page</title></head><body><admin-root ngCspNonce=\"AGORA_CSP_NONCE\"></admin-root></body></html>";

/// A built-apps directory, and beside it a file nothing may serve.
fn built_apps() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    let dist = root.path().join("dist");
    for (app, page) in [("storefront", STOREFRONT_PAGE), ("admin", ADMIN_PAGE)] {
        let dir = dist.join(app).join("browser");
        std::fs::create_dir_all(dir.join("media")).unwrap();
        std::fs::write(dir.join("index.html"), page).unwrap();
        std::fs::write(dir.join("main-AB12CD34.js"), format!("console.log('{app}')")).unwrap();
        std::fs::write(dir.join("styles-QWERTYUI.css"), "body{}").unwrap();
        std::fs::write(dir.join("favicon.ico"), [0u8, 0, 1, 0]).unwrap();
    }
    std::fs::write(root.path().join("secret.txt"), "not for the web").unwrap();
    root
}

async fn serving(apps: &Path, extra: &[(&str, &str)]) -> TestApp {
    let dir = apps.join("dist").to_string_lossy().to_string();
    let extra: Vec<(String, String)> = extra.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let app = TestApp::spawn_with(move |o| {
        o.env.insert("AGORA_FRONTEND_DIR".into(), dir);
        o.env.extend(extra);
    })
    .await;
    app.tenant("acme").await;
    app
}

fn header(res: &reqwest::Response, name: &str) -> String {
    res.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// The nonce the page's policy allows, checked to be the one written into the page.
async fn page_nonce(res: reqwest::Response) -> String {
    let policy = header(&res, "content-security-policy");
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .unwrap_or_else(|| panic!("no nonce in {policy}"))
        .to_string();
    let body = res.text().await.unwrap();
    assert!(body.contains(&format!("ngCspNonce=\"{nonce}\"")), "{body}");
    assert!(!body.contains("AGORA_CSP_NONCE"), "{body}");
    nonce
}

#[tokio::test]
async fn deep_links_load_their_app_page_uncached_with_a_policy_for_this_origin_only() {
    let apps = built_apps();
    let app = serving(apps.path(), &[]).await;
    for (path, marker) in [
        ("/", "storefront page"),
        ("/account/addresses", "storefront page"),
        // (Product and category addresses answer 404 for a product this shop lacks, still with
        // the app: `seo::seo_hidden_unknown_and_foreign_products_get_the_app_with_a_404_…`.)
        ("/search?q=blue%20shirt", "storefront page"),
        ("/verify-email?token=abc", "storefront page"),
        ("/admin/", "admin page"),
        ("/admin/staff", "admin page"),
        ("/admin/platform/", "admin page"),
        ("/admin/accept-invitation?token=abc", "admin page"),
    ] {
        let res = app.get(path).header("host", "acme.localhost").send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(header(&res, "content-type"), "text/html; charset=utf-8", "{path}");
        assert_eq!(header(&res, "cache-control"), "no-cache", "{path}");
        let policy = header(&res, "content-security-policy");
        for directive in [
            "default-src 'self'",
            "script-src 'self';",
            "connect-src 'self'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        ] {
            assert!(policy.contains(directive), "{path}: {policy} lacks {directive}");
        }
        assert!(
            !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval") && !policy.contains('*'),
            "{policy}"
        );
        assert_eq!(header(&res, "x-frame-options"), "DENY");
        let body = res.text().await.unwrap();
        assert!(body.contains(marker), "{path}: {body}");
    }
    let first = page_nonce(app.get("/").header("host", "acme.localhost").send().await.unwrap()).await;
    let second = page_nonce(app.get("/").header("host", "acme.localhost").send().await.unwrap()).await;
    assert_ne!(first, second, "a nonce is made per page");
    // The admin's relative URLs need its slash.
    let res = app.client.get(app.url("/admin")).header("host", "acme.localhost").send().await.unwrap();
    assert_eq!(res.url().path(), "/admin/", "redirected to the app's base");
}

#[tokio::test]
async fn hashed_assets_are_immutable_other_files_revalidate_and_missing_files_are_not_pages() {
    let apps = built_apps();
    let app = serving(apps.path(), &[]).await;
    for (path, body, kind) in [
        ("/main-AB12CD34.js", "console.log('storefront')", "javascript"),
        ("/admin/main-AB12CD34.js", "console.log('admin')", "javascript"),
        ("/styles-QWERTYUI.css", "body{}", "text/css"),
    ] {
        let res = app.get(path).header("host", "acme.localhost").send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(header(&res, "content-type").contains(kind), "{path}: {}", header(&res, "content-type"));
        assert_eq!(header(&res, "cache-control"), "public, max-age=31536000, immutable", "{path}");
        assert_eq!(header(&res, "content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
        assert_eq!(res.text().await.unwrap(), body);
    }
    let res = app.get("/favicon.ico").header("host", "acme.localhost").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "cache-control"), "no-cache", "unhashed files are revalidated");
    for missing in ["/main-ZZ99ZZ99.js", "/admin/chunk-ZZ99ZZ99.js", "/media/logo.png"] {
        let res = app.get(missing).header("host", "acme.localhost").send().await.unwrap();
        problem(res, 404).await;
    }
}

#[tokio::test]
async fn the_api_keeps_every_path_it_answers_and_its_problems() {
    let apps = built_apps();
    let app = serving(apps.path(), &[]).await;
    let res = app.get("/healthz").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(header(&res, "content-type").starts_with("application/json"));
    let res = app.get("/api/openapi.json").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.json::<serde_json::Value>().await.unwrap()["paths"].is_object());
    let res = app.get("/api/docs/index.html").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("swagger"), "Swagger UI still answers");
    let res = app.get("/api/v1/store/shop").header("host", "acme.localhost").send().await.unwrap();
    assert_eq!(res.status(), 200, "the storefront API on the shop's host");
    for path in ["/api/v1/store/no-such-thing", "/api/nothing", "/api"] {
        let res = app.get(path).header("host", "acme.localhost").send().await.unwrap();
        problem(res, 404).await;
    }
    // Only page loads get pages: anything else that no route takes stays the API's 404.
    let res = app.client.post(app.url("/account")).header("host", "acme.localhost").send().await.unwrap();
    problem(res, 404).await;
    let res = app.client.delete(app.url("/admin/staff")).header("host", "acme.localhost").send().await.unwrap();
    problem(res, 404).await;
}

#[tokio::test]
async fn no_path_reaches_outside_the_apps_directory() {
    let apps = built_apps();
    let app = serving(apps.path(), &[]).await;
    for path in [
        "/../secret.txt",
        "/..%2fsecret.txt",
        "/%2e%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/admin/../../secret.txt",
        "/admin/..%2f..%2fsecret.txt",
        "/.%2e/.%2e/secret.txt",
        "/admin/%2e%2e%5c%2e%2e%5csecret.txt",
    ] {
        let res = app.get(path).header("host", "acme.localhost").send().await.unwrap();
        let status = res.status();
        let body = res.text().await.unwrap();
        assert!(!body.contains("not for the web"), "{path} ({status}) served a file outside the apps");
    }
}

#[tokio::test]
async fn hosts_without_a_shop_have_the_console_and_no_storefront() {
    let apps = built_apps();
    let app = serving(apps.path(), &[]).await;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = no_redirects.get(app.url("/")).header("host", "localhost").send().await.unwrap();
    assert_eq!(res.status(), 302);
    assert_eq!(header(&res, "location"), "/admin/platform/");
    let res = app.get("/admin/platform/").header("host", "localhost").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.text().await.unwrap().contains("admin page"));
    for host in ["localhost", "nobody.localhost", "127.0.0.1"] {
        let body = problem(app.get("/products/blue-shirt").header("host", host).send().await.unwrap(), 404).await;
        assert_eq!(body["type"], "https://agora.dev/problems/not-found", "{host}");
    }
}

#[tokio::test]
async fn a_binary_without_its_apps_says_so_and_still_serves_the_api() {
    let empty = tempfile::tempdir().unwrap();
    let dir = empty.path().to_string_lossy().to_string();
    let app = TestApp::spawn_with(move |o| {
        o.env.insert("AGORA_FRONTEND_DIR".into(), dir);
    })
    .await;
    app.tenant("acme").await;
    for path in ["/", "/admin/"] {
        let res = app.get(path).header("host", "acme.localhost").send().await.unwrap();
        assert_eq!(res.status(), 503, "{path}");
        assert!(header(&res, "content-security-policy").starts_with("default-src 'none'"), "the strict page policy");
        assert!(res.text().await.unwrap().contains("frontend was not built"), "{path}");
    }
    let res = app.get("/api/v1/store/shop").header("host", "acme.localhost").send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn media_in_an_s3_bucket_is_allowed_by_the_pages_policy() {
    let apps = built_apps();
    let app = serving(
        apps.path(),
        &[
            ("AGORA_STORAGE_URL", "s3://shop-media"),
            ("AGORA_S3_ENDPOINT", "http://127.0.0.1:9555"),
            ("AGORA_S3_ACCESS_KEY_ID", "test"),
            ("AGORA_S3_SECRET_ACCESS_KEY", "test-secret"),
        ],
    )
    .await;
    let res = app.get("/").header("host", "acme.localhost").send().await.unwrap();
    let policy = header(&res, "content-security-policy");
    assert!(policy.contains("img-src 'self' http://127.0.0.1:9555;"), "{policy}");
    assert!(!policy.contains("test-secret"));
}

#[test]
fn a_frontend_directory_that_does_not_exist_is_refused_by_name() {
    let mut env = HashMap::new();
    env.insert("AGORA_FRONTEND_DIR".to_string(), "/no/such/dist".to_string());
    let error = Config::load(None, &env).unwrap_err().to_string();
    assert!(error.contains("AGORA_FRONTEND_DIR"), "{error}");
}
