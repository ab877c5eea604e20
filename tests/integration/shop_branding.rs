//! The shop's branding: staff set a logo, a brand colour and a country; shoppers get the name,
//! logo URL and colour from `GET /api/v1/store/shop` and load the logo from that URL.

use crate::support::{problem, TestApp};
use image::ImageEncoder;
use reqwest::Method;
use serde_json::{json, Value};

const SHOP: &str = "/api/v1/admin/shop";
const LOGO: &str = "/api/v1/admin/shop/logo";

/// A PNG logo made here, with a comment chunk that must not reach shoppers.
fn png(width: u32, height: u32) -> Vec<u8> {
    let logo = image::RgbImage::from_fn(width, height, |x, _| image::Rgb([(x % 256) as u8, 80, 160]));
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(logo.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    // A tEXt chunk right after IHDR (8-byte signature + 25-byte IHDR chunk).
    let text = b"Comment\0secret-location-52.52N";
    let mut chunk = (text.len() as u32).to_be_bytes().to_vec();
    let mut body = b"tEXt".to_vec();
    body.extend_from_slice(text);
    chunk.extend_from_slice(&body);
    chunk.extend_from_slice(&crc32(&body).to_be_bytes());
    out.splice(33..33, chunk);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

async fn settings(app: &TestApp, shop: &str) -> (Value, String) {
    let res = app.admin(Method::GET, SHOP, shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    (res.json().await.unwrap(), etag)
}

async fn store_shop(app: &TestApp, shop: &str) -> Value {
    let res = app.get("/api/v1/store/shop").header("x-tenant-id", shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

#[tokio::test]
async fn a_merchant_brands_the_shop_and_shoppers_see_the_logo_and_colour() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let (_, etag) = settings(&app, &acme).await;

    let res = app
        .admin(Method::PATCH, SHOP, &acme)
        .header("if-match", &etag)
        .json(&json!({"brand_colour": "#1D4ED8", "country": "de"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let patched: Value = res.json().await.unwrap();
    assert_eq!(patched["brand_colour"], "#1d4ed8");
    assert_eq!(patched["country"], "DE");
    assert_eq!(patched["logo_url"], Value::Null);

    let original = png(1200, 300);
    let res = app
        .admin(Method::PUT, LOGO, &acme)
        .header("if-match", &etag)
        .header("content-type", "image/png")
        .body(original.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{}", res.text().await.unwrap_or_default());
    let branded: Value = res.json().await.unwrap();
    let logo_url = branded["logo_url"].as_str().unwrap().to_string();
    assert!(logo_url.starts_with("/api/v1/store/shop/logo/"), "{logo_url}");

    // Subscribers (webhooks among them) hear the branding with the rest of the settings.
    let db = app.db.connect().await;
    let event = db
        .query_one(
            "SELECT payload->>'logo_url', payload->>'brand_colour', payload->>'country' FROM agora.outbox \
             WHERE name = 'tenancy.shop_settings_updated.v1' AND tenant_slug = 'acme' ORDER BY id DESC LIMIT 1",
            &[],
        )
        .await
        .unwrap();
    let heard: (Option<String>, Option<String>, Option<String>) = (event.get(0), event.get(1), event.get(2));
    assert_eq!(heard, (Some(logo_url.clone()), Some("#1d4ed8".into()), Some("DE".into())));

    let public = store_shop(&app, &acme).await;
    assert_eq!(public["name"], branded["name"]);
    assert_eq!(public["logo_url"], logo_url.as_str());
    assert_eq!(public["brand_colour"], "#1d4ed8");
    assert_eq!(public["country"], "DE");

    // The logo is served re-encoded (no metadata of the original), smaller, cacheable for good.
    let res = app.get(&logo_url).header("x-tenant-id", &acme).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let served = res.bytes().await.unwrap();
    let decoded = image::load_from_memory(&served).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (800, 200));
    assert!(!served.windows(15).any(|w| w == b"secret-location"), "the original's metadata was served");

    // Another shop does not serve it.
    let globex = app.tenant("globex").await;
    problem(app.get(&logo_url).header("x-tenant-id", &globex).send().await.unwrap(), 404).await;

    // Removing it: the old URL is gone, the settings say so.
    let (_, etag) = settings(&app, &acme).await;
    let res = app.admin(Method::DELETE, LOGO, &acme).header("if-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let removed: Value = res.json().await.unwrap();
    assert_eq!(removed["logo_url"], Value::Null);
    problem(app.get(&logo_url).header("x-tenant-id", &acme).send().await.unwrap(), 404).await;

    // `null` clears the colour; the country stays.
    let (_, etag) = settings(&app, &acme).await;
    let res = app
        .admin(Method::PATCH, SHOP, &acme)
        .header("if-match", &etag)
        .json(&json!({"brand_colour": null}))
        .send()
        .await
        .unwrap();
    let cleared: Value = res.json().await.unwrap();
    assert_eq!(cleared["brand_colour"], Value::Null);
    assert_eq!(cleared["country"], "DE");
}

#[tokio::test]
async fn bad_branding_is_refused_naming_the_field_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let (before, etag) = settings(&app, &acme).await;

    for (body, field) in [
        (json!({"brand_colour": "blue"}), "brand_colour"),
        (json!({"brand_colour": "#12345g"}), "brand_colour"),
        (json!({"country": "XX"}), "country"),
        (json!({"country": "Germany"}), "country"),
    ] {
        let res = app.admin(Method::PATCH, SHOP, &acme).header("if-match", &etag).json(&body).send().await.unwrap();
        let refused = problem(res, 422).await;
        assert_eq!(refused["errors"][0]["field"], field, "{body}: {refused}");
    }

    let res = app
        .admin(Method::PUT, LOGO, &acme)
        .header("if-match", &etag)
        .header("content-type", "image/png")
        .body(b"<svg xmlns='http://www.w3.org/2000/svg'/>".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 422).await["errors"][0]["field"], "file");

    let res = app
        .admin(Method::PUT, LOGO, &acme)
        .header("if-match", &etag)
        .header("content-type", "image/png")
        .body(vec![0u8; 5 * 1024 * 1024 + 1])
        .send()
        .await
        .unwrap();
    problem(res, 413).await;

    // A stale version is refused before anything is stored.
    let res = app
        .admin(Method::PUT, LOGO, &acme)
        .header("if-match", "\"999\"")
        .header("content-type", "image/png")
        .body(png(64, 64))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let res = app.admin(Method::DELETE, LOGO, &acme).header("if-match", &etag).send().await.unwrap();
    problem(res, 404).await;

    let (after, _) = settings(&app, &acme).await;
    assert_eq!(after, before, "a refused change wrote something");
}

#[tokio::test]
async fn branding_is_refused_to_callers_without_settings_manage() {
    let app = TestApp::spawn().await;
    let acme = app.tenant("acme").await;
    let globex = app.tenant("globex").await;
    let (_, etag) = settings(&app, &acme).await;
    let shopper = app.customer(&acme).await;
    let catalog = app.staff(&acme, &["catalog_manager"]).await;
    let foreign = app.staff(&globex, &["owner"]).await;

    let requests = || {
        [
            (Method::PATCH, SHOP, Some(json!({"brand_colour": "#000000"})), None),
            (Method::PUT, LOGO, None, Some(png(32, 32))),
            (Method::DELETE, LOGO, None, None),
        ]
    };
    for (method, path, body, bytes) in requests() {
        let anonymous = app.client.request(method.clone(), app.url(path)).header("x-tenant-id", &acme);
        let with_body = |mut req: reqwest::RequestBuilder| {
            req = req.header("if-match", &etag);
            if let Some(body) = &body {
                req = req.json(body);
            }
            if let Some(bytes) = &bytes {
                req = req.header("content-type", "image/png").body(bytes.clone());
            }
            req
        };
        problem(with_body(anonymous).send().await.unwrap(), 401).await;
        let res = with_body(app.as_user(method.clone(), path, &acme, &shopper)).send().await.unwrap();
        assert!([401, 403].contains(&res.status().as_u16()), "{method} {path}: {}", res.status());
        problem(with_body(app.as_user(method.clone(), path, &acme, &catalog)).send().await.unwrap(), 403).await;
        problem(with_body(app.as_user(method.clone(), path, &acme, &foreign)).send().await.unwrap(), 401).await;
    }
    let (after, after_etag) = settings(&app, &acme).await;
    assert_eq!(after_etag, etag, "a refused caller changed the settings");
    assert_eq!(after["brand_colour"], Value::Null);
    assert_eq!(after["logo_url"], Value::Null);
}
