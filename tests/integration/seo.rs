//! What crawlers and link previews get from a shop without running JavaScript: product pages
//! described by the server (title, description, canonical and hreflang links, Open Graph,
//! schema.org JSON-LD), the sitemap and robots.txt. Only visible products of the shop the host
//! names, with links built from the shop's configured address.

use crate::support::TestApp;
use reqwest::Method;
use serde_json::{json, Value};

const PAGE: &str = "<!doctype html><html lang=\"en\"><head><title>Shop</title></head><body><shop-root ngCspNonce=\"AGORA_CSP_NONCE\"></shop-root></body></html>";
const ADMIN: &str = "/api/v1/admin/catalog";

/// A stand-in for `frontend/dist` whose storefront page is `PAGE`.
fn built_apps() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    for app in ["storefront", "admin"] {
        let dir = root.path().join(app).join("browser");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("index.html"), PAGE).unwrap();
    }
    root
}

async fn serving(apps: &tempfile::TempDir) -> TestApp {
    let dir = apps.path().to_string_lossy().to_string();
    let app = TestApp::spawn_with(move |o| {
        o.env.insert("AGORA_FRONTEND_DIR".into(), dir);
    })
    .await;
    app.tenant_named("acme", "Acme Outfitters").await;
    app.tenant_named("other", "Other Goods").await;
    app
}

async fn product(app: &TestApp, shop: &str, body: Value) -> Value {
    let res = app.admin(Method::POST, &format!("{ADMIN}/products"), shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201, "{}", res.text().await.unwrap_or_default());
    res.json().await.unwrap()
}

fn lamp(name: &str, sku: &str, status: &str) -> Value {
    json!({"name": {"en": name}, "status": status, "variants": [{"sku": sku, "prices": [{"amount": 1500, "currency": "EUR"}]}]})
}

/// A page of `shop` as a browser on its host would ask for it, redirects not followed.
async fn page(app: &TestApp, host: &str, path: &str) -> (u16, String, reqwest::header::HeaderMap) {
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = client
        .get(app.url(path))
        .header("host", format!("{host}.localhost"))
        // A client's claim about the host must never reach a link.
        .header("x-forwarded-host", "evil.example")
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, res.text().await.unwrap(), headers)
}

fn json_ld(html: &str) -> Option<Value> {
    let start = html.find("<script type=\"application/ld+json\">")? + "<script type=\"application/ld+json\">".len();
    let end = start + html[start..].find("</script>")?;
    Some(serde_json::from_str(&html[start..end]).expect("the JSON-LD parses"))
}

/// The `href` of the `<link>` with `rel` (and `hreflang`, when given).
fn link(html: &str, rel: &str, hreflang: Option<&str>) -> Option<String> {
    let marker = match hreflang {
        Some(lang) => format!("<link rel=\"{rel}\" hreflang=\"{lang}\" href=\""),
        None => format!("<link rel=\"{rel}\" href=\""),
    };
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].replace("&amp;", "&"))
}

fn meta(html: &str, key: &str) -> Option<String> {
    let marker = format!("=\"{key}\" content=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..start + html[start..].find('"')?].to_string())
}

#[tokio::test]
async fn seo_a_product_page_carries_title_description_links_open_graph_and_json_ld() {
    let apps = built_apps();
    let app = serving(&apps).await;
    product(&app, "acme", json!({
        "name": {"en": "Rain Jacket", "de": "Regenjacke"},
        "description": {"en": "Keeps you dry <b>all</b> day.", "de": "Hält den ganzen Tag trocken."},
        "status": "active",
        "variants": [
            {"sku": "RJ-S", "option_values": {}, "prices": [{"amount": 9900, "currency": "EUR", "compare_at": 12900}]},
            {"sku": "RJ-L", "prices": [{"amount": 10900, "currency": "EUR"}]}
        ]
    }))
    .await;
    let base = app.base.clone();

    let (status, html, headers) = page(&app, "acme", "/p/rain-jacket").await;
    assert_eq!(status, 200, "{html}");
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    // The page keeps its per-response nonce: the server's tags did not disturb the app's policy.
    let policy = headers["content-security-policy"].to_str().unwrap();
    let nonce = policy.split("'nonce-").nth(1).and_then(|r| r.split('\'').next()).unwrap();
    assert!(html.contains(&format!("ngCspNonce=\"{nonce}\"")), "{html}");
    assert!(html.contains("<html lang=\"en\">"), "{html}");
    assert!(html.contains("<title>Rain Jacket | Acme Outfitters</title>"), "{html}");
    assert_eq!(html.matches("<title>").count(), 1, "one title: {html}");
    assert_eq!(meta(&html, "description").as_deref(), Some("Keeps you dry &lt;b&gt;all&lt;/b&gt; day."));
    // Every address from the shop's configured URL, never from the request's Host or X-Forwarded-Host.
    assert_eq!(link(&html, "canonical", None), Some(format!("{base}/p/rain-jacket")));
    assert_eq!(link(&html, "alternate", Some("en")), Some(format!("{base}/p/rain-jacket")));
    assert_eq!(link(&html, "alternate", Some("de")), Some(format!("{base}/p/regenjacke?lang=de")));
    assert_eq!(link(&html, "alternate", Some("x-default")), Some(format!("{base}/p/rain-jacket")));
    assert!(!html.contains("evil.example") && !html.contains("acme.localhost"), "{html}");
    assert_eq!(meta(&html, "og:type").as_deref(), Some("product"));
    assert_eq!(meta(&html, "og:title").as_deref(), Some("Rain Jacket"));
    assert_eq!(meta(&html, "og:url"), Some(format!("{base}/p/rain-jacket")));
    assert_eq!(meta(&html, "og:site_name").as_deref(), Some("Acme Outfitters"));

    let data = json_ld(&html).expect("a JSON-LD block");
    assert_eq!(data["@context"], "https://schema.org");
    assert_eq!(data["@type"], "Product");
    assert_eq!(data["name"], "Rain Jacket");
    assert_eq!(data["description"], "Keeps you dry <b>all</b> day.");
    assert_eq!(data["sku"], "RJ-S");
    assert_eq!(data["url"], format!("{base}/p/rain-jacket"));
    let offers: Vec<(String, String, String)> = data["offers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            assert_eq!(o["@type"], "Offer");
            assert_eq!(o["availability"], "https://schema.org/InStock");
            let text = |k: &str| o[k].as_str().unwrap().to_string();
            (text("sku"), text("price"), text("priceCurrency"))
        })
        .collect();
    assert_eq!(
        offers,
        vec![("RJ-S".into(), "99.00".into(), "EUR".into()), ("RJ-L".into(), "109.00".into(), "EUR".into())]
    );

    // The German slug opens the German page; so does `lang=de` with the English one.
    for path in ["/p/regenjacke", "/p/rain-jacket?lang=de"] {
        let (status, html, _) = page(&app, "acme", path).await;
        assert_eq!(status, 200, "{path}");
        assert!(html.contains("<html lang=\"de\">"), "{path}: {html}");
        assert!(html.contains("<title>Regenjacke | Acme Outfitters</title>"), "{path}: {html}");
        assert_eq!(link(&html, "canonical", None), Some(format!("{base}/p/regenjacke?lang=de")), "{path}");
        let data = json_ld(&html).unwrap();
        assert_eq!(data["name"], "Regenjacke");
        assert_eq!(data["description"], "Hält den ganzen Tag trocken.");
    }
}

/// `/products/<slug>` (the address the issue names) is the product page too, described the
/// same way, with the one canonical URL `/p/<slug>`; an unknown slug there is a 404 as well.
#[tokio::test]
async fn seo_the_products_alias_describes_the_product_with_the_canonical_p_url() {
    let apps = built_apps();
    let app = serving(&apps).await;
    product(
        &app,
        "acme",
        json!({
            "name": {"en": "Rain Jacket", "de": "Regenjacke"},
            "status": "active",
            "variants": [{"sku": "RJ-S", "prices": [{"amount": 9900, "currency": "EUR"}]}]
        }),
    )
    .await;
    let base = app.base.clone();

    let (status, html, _) = page(&app, "acme", "/products/rain-jacket").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<title>Rain Jacket | Acme Outfitters</title>"), "{html}");
    assert_eq!(link(&html, "canonical", None), Some(format!("{base}/p/rain-jacket")));
    assert_eq!(json_ld(&html).expect("a JSON-LD block")["url"], format!("{base}/p/rain-jacket"));
    let (status, html, _) = page(&app, "acme", "/products/regenjacke").await;
    assert_eq!(status, 200);
    assert_eq!(link(&html, "canonical", None), Some(format!("{base}/p/regenjacke?lang=de")));

    let (status, html, _) = page(&app, "acme", "/products/no-such-thing").await;
    assert_eq!(status, 404);
    assert!(json_ld(&html).is_none() && html.contains("noindex"), "{html}");
}

#[tokio::test]
async fn seo_hidden_unknown_and_foreign_products_get_the_app_with_a_404_and_no_description() {
    let apps = built_apps();
    let app = serving(&apps).await;
    product(&app, "acme", lamp("Draft Lamp", "L-1", "draft")).await;
    product(&app, "acme", lamp("Archived Lamp", "L-2", "archived")).await;
    let mut future = lamp("Future Lamp", "L-3", "active");
    future["publish_at"] = json!("2999-01-01T00:00:00Z");
    product(&app, "acme", future).await;
    product(&app, "other", lamp("Foreign Lamp", "L-4", "active")).await;
    for path in
        ["/p/draft-lamp", "/p/archived-lamp", "/p/future-lamp", "/p/foreign-lamp", "/p/no-such-thing", "/p/a%20b"]
    {
        let (status, html, headers) = page(&app, "acme", path).await;
        assert_eq!(status, 404, "{path}");
        assert_eq!(headers["content-type"], "text/html; charset=utf-8", "{path}");
        // Still the app, which tells the shopper; crawlers see the status and the noindex.
        assert!(html.contains("<shop-root"), "{path}: {html}");
        assert!(html.contains("<meta name=\"robots\" content=\"noindex\">"), "{path}");
        assert!(!html.contains("application/ld+json") && !html.contains("og:"), "{path}: {html}");
        assert!(!html.contains("Lamp"), "{path}: {html}");
    }
    // The other shop's own host shows its product.
    let (status, html, _) = page(&app, "other", "/p/foreign-lamp").await;
    assert_eq!(status, 200);
    assert_eq!(json_ld(&html).unwrap()["name"], "Foreign Lamp");
}

#[tokio::test]
async fn seo_an_old_slug_answers_with_a_permanent_redirect_to_the_current_page() {
    let apps = built_apps();
    let app = serving(&apps).await;
    let created = product(&app, "acme", lamp("Desk Lamp", "D-1", "active")).await;
    let id = created["id"].as_str().unwrap();
    let res = app
        .admin(Method::PATCH, &format!("{ADMIN}/products/{id}"), "acme")
        .header("if-match", "\"1\"")
        .json(&json!({"slug": {"en": "reading-lamp"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let (status, _, headers) = page(&app, "acme", "/p/desk-lamp").await;
    assert_eq!(status, 301);
    assert_eq!(headers["location"], "/p/reading-lamp");
    let (status, _, headers) = page(&app, "acme", "/p/desk-lamp?lang=de").await;
    assert_eq!(status, 301);
    assert_eq!(headers["location"], "/p/reading-lamp?lang=de");
    let (status, html, _) = page(&app, "acme", "/p/reading-lamp").await;
    assert_eq!(status, 200);
    assert_eq!(link(&html, "canonical", None), Some(format!("{}/p/reading-lamp", app.base)));
}

#[tokio::test]
async fn seo_a_category_page_carries_its_title_description_and_links() {
    let apps = built_apps();
    let app = serving(&apps).await;
    let res = app
        .admin(Method::POST, &format!("{ADMIN}/categories"), "acme")
        .json(&json!({"name": {"en": "Lighting", "de": "Beleuchtung"}, "description": {"en": "Lamps for every room."}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let base = app.base.clone();
    let (status, html, _) = page(&app, "acme", "/c/lighting?lang=de").await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"de\">"), "{html}");
    assert!(html.contains("<title>Beleuchtung | Acme Outfitters</title>"), "{html}");
    assert_eq!(meta(&html, "description").as_deref(), Some("Lamps for every room."));
    assert_eq!(link(&html, "canonical", None), Some(format!("{base}/c/lighting?lang=de")));
    assert_eq!(link(&html, "alternate", Some("en")), Some(format!("{base}/c/lighting")));
    let (status, html, _) = page(&app, "acme", "/c/no-such-category").await;
    assert_eq!(status, 404);
    assert!(html.contains("noindex") && html.contains("<shop-root"), "{html}");
}

/// Every `<loc>` of a sitemap.
fn locations(xml: &str) -> Vec<String> {
    xml.split("<loc>").skip(1).filter_map(|part| part.split("</loc>").next()).map(|l| l.replace("&amp;", "&")).collect()
}

#[tokio::test]
async fn seo_the_sitemap_lists_exactly_the_shops_visible_products_and_categories_in_each_language() {
    let apps = built_apps();
    let app = serving(&apps).await;
    let category = app
        .admin(Method::POST, &format!("{ADMIN}/categories"), "acme")
        .json(&json!({"name": {"en": "Lighting", "de": "Beleuchtung"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(category.status(), 201);
    let category: Value = category.json().await.unwrap();
    product(
        &app,
        "acme",
        json!({
            "name": {"en": "Desk Lamp", "de": "Schreibtischlampe"},
            "status": "active",
            "variants": [{"sku": "L-1", "prices": [{"amount": 1500, "currency": "EUR"}]}]
        }),
    )
    .await;
    product(&app, "acme", lamp("Floor Lamp", "L-2", "active")).await;
    product(&app, "acme", lamp("Draft Lamp", "L-3", "draft")).await;
    product(&app, "acme", lamp("Archived Lamp", "L-4", "archived")).await;
    let mut ended = lamp("Expired Lamp", "L-5", "active");
    ended["unpublish_at"] = json!("2001-01-01T00:00:00Z");
    product(&app, "acme", ended).await;
    let deleted = product(&app, "acme", lamp("Deleted Lamp", "L-6", "active")).await;
    let res = app
        .admin(Method::DELETE, &format!("{ADMIN}/products/{}", deleted["id"].as_str().unwrap()), "acme")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    product(&app, "other", lamp("Foreign Lamp", "L-7", "active")).await;

    let (status, xml, headers) = page(&app, "acme", "/sitemap.xml").await;
    assert_eq!(status, 200, "{xml}");
    assert_eq!(headers["content-type"], "application/xml; charset=utf-8");
    assert!(xml.starts_with("<?xml") && xml.contains("<urlset"), "{xml}");
    let base = &app.base;
    let slug = category["slug"].as_str().unwrap();
    let mut found = locations(&xml);
    found.sort();
    let mut expected = vec![
        format!("{base}/"),
        format!("{base}/?lang=de"),
        format!("{base}/c/{slug}"),
        format!("{base}/c/{slug}?lang=de"),
        format!("{base}/p/desk-lamp"),
        format!("{base}/p/schreibtischlampe?lang=de"),
        format!("{base}/p/floor-lamp"),
        // No German slug: the German page uses the English one.
        format!("{base}/p/floor-lamp?lang=de"),
    ];
    expected.sort();
    assert_eq!(found, expected, "{xml}");
    assert!(
        xml.contains(&format!(
            "<xhtml:link rel=\"alternate\" hreflang=\"de\" href=\"{base}/p/schreibtischlampe?lang=de\"/>"
        )),
        "{xml}"
    );

    let (_, xml, _) = page(&app, "other", "/sitemap.xml").await;
    let products: Vec<String> = locations(&xml).into_iter().filter(|l| l.contains("/p/")).collect();
    assert_eq!(products, vec![format!("{base}/p/foreign-lamp"), format!("{base}/p/foreign-lamp?lang=de")]);

    // A large shop gets an index of sitemap files, each listing its share.
    let tenant = app.context("acme").await;
    let index = agora::seo::sitemap(&app.state, &tenant, None, 1).await.unwrap().unwrap();
    assert!(index.contains("<sitemapindex"), "{index}");
    assert_eq!(locations(&index), vec![format!("{base}/sitemap.xml?page=1"), format!("{base}/sitemap.xml?page=2")]);
    let second = agora::seo::sitemap(&app.state, &tenant, Some(2), 1).await.unwrap().unwrap();
    assert_eq!(locations(&second).iter().filter(|l| l.contains("/p/")).count(), 2, "{second}");
    assert!(!second.contains("/c/"), "categories are on the first file only");
    assert!(agora::seo::sitemap(&app.state, &tenant, Some(3), 1).await.unwrap().is_none());
    let (status, _, _) = page(&app, "acme", "/sitemap.xml?page=9").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn seo_robots_txt_points_at_the_sitemap_and_keeps_crawlers_out_of_the_admin() {
    let apps = built_apps();
    let app = serving(&apps).await;
    let (status, text, headers) = page(&app, "acme", "/robots.txt").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines.contains(&"User-agent: *"), "{text}");
    assert!(lines.contains(&"Disallow: /admin/"), "{text}");
    assert!(lines.contains(&"Disallow: /api/"), "{text}");
    assert!(lines.contains(&format!("Sitemap: {}/sitemap.xml", app.base).as_str()), "{text}");
    // A host that names no shop has neither.
    let res = app.get("/robots.txt").header("host", "nobody.localhost").send().await.unwrap();
    assert_eq!(res.status(), 404);
}
