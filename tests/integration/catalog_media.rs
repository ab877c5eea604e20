//! Product media through the real app: staff upload real images (made here), the app's own
//! workers make the thumbnails, shoppers get them in order with alt text in their language. The
//! same story runs on a local directory and on an S3-compatible server (moto) run locally.

use crate::support::{eventually, problem, Credentials, TestApp};
use agora_kernel::storage::{FileKey, TenantFiles};
use image::ImageEncoder;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const ADMIN: &str = "/api/v1/admin/catalog";
const STORE: &str = "/api/v1/store/catalog";
/// Thumbnails are made by the app's workers: generous for a loaded machine, polled, not slept.
const JOB_DEADLINE: Duration = Duration::from_secs(60);

// ---- images, made here ----

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let photo = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(photo.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A logo with a transparent half (its thumbnails keep the transparency: WebP).
fn png(width: u32, height: u32) -> Vec<u8> {
    let logo = image::RgbaImage::from_fn(width, height, |x, y| {
        if x < width / 2 {
            image::Rgba([0, 0, 0, 0])
        } else {
            image::Rgba([200, (y % 256) as u8, 30, 255])
        }
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(logo.as_raw(), width, height, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

// ---- requests ----

fn media_path(product: &str) -> String {
    format!("{ADMIN}/products/{product}/media")
}

async fn upload(
    app: &TestApp,
    shop: &str,
    product: &str,
    query: &str,
    bytes: Vec<u8>,
    kind: &str,
) -> reqwest::Response {
    app.admin(Method::POST, &format!("{}{query}", media_path(product)), shop)
        .header("content-type", kind)
        .body(bytes)
        .send()
        .await
        .unwrap()
}

async fn uploaded(app: &TestApp, shop: &str, product: &str, query: &str, bytes: Vec<u8>, kind: &str) -> Value {
    let res = upload(app, shop, product, query, bytes, kind).await;
    assert_eq!(res.status(), 201, "upload: {}", res.text().await.unwrap_or_default());
    assert!(res.headers()["location"].to_str().unwrap().starts_with(&media_path(product)));
    res.json().await.unwrap()
}

async fn admin_json(app: &TestApp, shop: &str, path: &str) -> (Value, String) {
    let res = app.admin(Method::GET, path, shop).send().await.unwrap();
    assert_eq!(res.status(), 200, "{path}");
    let etag = res.headers().get("etag").map(|e| e.to_str().unwrap().to_string()).unwrap_or_default();
    (res.json().await.unwrap(), etag)
}

async fn store_product(app: &TestApp, shop: &str, key: &str, language: &str) -> Value {
    let res = app
        .client
        .get(app.url(&format!("{STORE}/products/{key}")))
        .header("x-tenant-id", shop)
        .header("accept-language", language)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "product page {key}");
    res.json().await.unwrap()
}

async fn store_file(app: &TestApp, shop: &str, url: &str) -> reqwest::Response {
    app.client.get(app.url(url)).header("x-tenant-id", shop).send().await.unwrap()
}

fn ids(items: &Value) -> Vec<String> {
    items.as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_string()).collect()
}

fn widths(media: &Value) -> Vec<u64> {
    media["thumbnails"].as_array().unwrap().iter().map(|t| t["width"].as_u64().unwrap()).collect()
}

async fn create_product(app: &TestApp, shop: &str, body: Value) -> Value {
    let res = app.admin(Method::POST, &format!("{ADMIN}/products"), shop).json(&body).send().await.unwrap();
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

/// Every file the shop has under `products/` (originals and thumbnails).
async fn stored_files(app: &TestApp, shop: &str) -> Vec<String> {
    let tenant = app.context(shop).await;
    let files = TenantFiles::new(app.state.storage.get().await.unwrap(), &tenant.schema).unwrap();
    let folder = FileKey::parse("products").unwrap();
    files.list(Some(&folder)).await.unwrap().into_iter().map(|f| f.key.as_str().to_string()).collect()
}

async fn media_rows(app: &TestApp, shop: &str) -> i64 {
    let pg = app.db.connect().await;
    pg.query_one(&format!("SELECT count(*) FROM t_{shop}.product_media"), &[]).await.unwrap().get(0)
}

/// Waits until every medium of the product is `ready`, and returns the list.
async fn until_ready(app: &TestApp, shop: &str, product: &str) -> Value {
    let path = media_path(product);
    eventually(JOB_DEADLINE, || async {
        let (list, _) = admin_json(app, shop, &path).await;
        list["items"].as_array().unwrap().iter().all(|m| m["status"] == "ready")
    })
    .await;
    admin_json(app, shop, &path).await.0
}

/// Sends a request head announcing (or streaming chunked) 2 GB of image, then the body while
/// reading the answer; returns the status line and how much went through before it came.
async fn send_two_gigabytes(
    app: &TestApp,
    shop: &str,
    who: &Credentials,
    product: &str,
    chunked: bool,
) -> (String, u64) {
    let addr = app.base.trim_start_matches("http://").to_string();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let framing =
        if chunked { "Transfer-Encoding: chunked".to_string() } else { format!("Content-Length: {}", 2u64 << 30) };
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nX-Tenant-ID: {shop}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: image/jpeg\r\n{framing}\r\n\r\n",
        media_path(product),
        who.access_token
    );
    writer.write_all(head.as_bytes()).await.unwrap();
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let sending = tokio::spawn(async move {
        // A JPEG's signature, then filler: what a huge photo looks like on the wire.
        let mut block = vec![0x5Au8; 256 * 1024];
        block[..3].copy_from_slice(&[0xFF, 0xD8, 0xFF]);
        let framed = if chunked {
            let mut f = format!("{:x}\r\n", block.len()).into_bytes();
            f.extend_from_slice(&block);
            f.extend_from_slice(b"\r\n");
            f
        } else {
            block
        };
        while counter.load(std::sync::atomic::Ordering::SeqCst) < (2u64 << 30) {
            if writer.write_all(&framed).await.is_err() {
                return;
            }
            counter.fetch_add(256 * 1024, std::sync::atomic::Ordering::SeqCst);
        }
    });
    let mut answer = vec![0u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(60), reader.read(&mut answer))
        .await
        .expect("the server answers before the whole body is sent")
        .unwrap();
    let through = sent.load(std::sync::atomic::Ordering::SeqCst);
    sending.abort();
    let status = String::from_utf8_lossy(&answer[..read]).lines().next().unwrap_or_default().to_string();
    (status, through)
}

// ---- the story, on either store ----

async fn media_story(app: &TestApp) {
    let shop = app.tenant("acme").await;
    let other = app.tenant("other").await;
    let product = create_product(
        app,
        &shop,
        json!({
            "name": {"en": "Field Shirt", "de": "Feldhemd"},
            "status": "active",
            "options": [{"name": "colour", "values": ["red", "blue"]}],
            "variants": [
                {"sku": "FS-RED", "option_values": {"colour": "red"}, "prices": [{"amount": 3900, "currency": "EUR"}]},
                {"sku": "FS-BLUE", "option_values": {"colour": "blue"}, "prices": [{"amount": 3900, "currency": "EUR"}]}
            ]
        }),
    )
    .await;
    let id = product["id"].as_str().unwrap().to_string();
    let red = product["variants"][0]["id"].as_str().unwrap().to_string();

    // Two uploads: a photo of the red variant with its alt text, and a transparent logo.
    let photo =
        uploaded(app, &shop, &id, &format!("?alt=Red%20shirt&variant_id={red}"), jpeg(1000, 600), "image/jpeg").await;
    assert_eq!(photo["status"], "processing");
    assert_eq!((photo["width"].as_u64(), photo["height"].as_u64()), (Some(1000), Some(600)));
    assert_eq!(photo["content_type"], "image/jpeg");
    assert_eq!(photo["alt"], json!({"en": "Red shirt"}));
    assert_eq!(photo["variant_id"], json!(red));
    assert_eq!(photo["position"], 0);
    assert_eq!(photo["version"], 1);
    // Its type comes from its bytes, not from what the client claimed.
    let logo = uploaded(app, &shop, &id, "", png(300, 200), "image/jpeg").await;
    assert_eq!(logo["content_type"], "image/png");
    assert_eq!(logo["position"], 1);
    let (photo_id, logo_id) = (photo["id"].as_str().unwrap().to_string(), logo["id"].as_str().unwrap().to_string());

    // The workers make the thumbnails: every width up to the original's own, never upscaled.
    let list = until_ready(app, &shop, &id).await;
    assert_eq!(ids(&list["items"]), vec![photo_id.clone(), logo_id.clone()]);
    assert_eq!(widths(&list["items"][0]), vec![160, 480, 960, 1000]);
    assert_eq!(widths(&list["items"][1]), vec![160, 300]);
    assert_eq!(list["items"][0]["thumbnails"][1]["content_type"], "image/jpeg");
    assert_eq!(list["items"][1]["thumbnails"][0]["content_type"], "image/webp", "transparency is kept");
    assert_eq!(list["items"][0]["thumbnails"][1]["height"], 288);
    // Two uploads, two new versions of the product.
    assert_eq!(list["product_version"], 3);

    // Shoppers get them in order, with thumbnail URLs they can load and keep for a year.
    let page = store_product(app, &shop, &id, "en").await;
    assert_eq!(ids(&page["media"]), vec![photo_id.clone(), logo_id.clone()]);
    assert_eq!(page["media"][0]["alt"], "Red shirt");
    assert_eq!(page["media"][0]["variant_id"], json!(red));
    assert_eq!(page["media"][1].get("alt"), Some(&Value::Null));
    let thumb_url = page["media"][0]["images"][1]["url"].as_str().unwrap().to_string();
    assert_eq!(thumb_url, format!("{STORE}/media/{photo_id}/480"));
    let res = store_file(app, &shop, &thumb_url).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    assert_eq!(res.headers()["cache-control"], "public, max-age=31536000, immutable");
    let thumbnail = image::load_from_memory(&res.bytes().await.unwrap()).unwrap();
    assert_eq!((thumbnail.width(), thumbnail.height()), (480, 288));
    // A list's card carries the first picture, as the product page has it.
    let res = app
        .client
        .get(app.url(&format!("{STORE}/products")))
        .header("x-tenant-id", &shop)
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let list: Value = res.json().await.unwrap();
    let card = list["items"].as_array().unwrap().iter().find(|i| i["id"] == json!(id)).unwrap().clone();
    assert_eq!(card["image"], page["media"][0]);
    // By slug, the same media.
    let by_slug = store_product(app, &shop, "feldhemd", "de").await;
    assert_eq!(ids(&by_slug["media"]), vec![photo_id.clone(), logo_id.clone()]);
    // A width that was not made, and the original, are not served to shoppers.
    problem(store_file(app, &shop, &format!("{STORE}/media/{photo_id}/1600")).await, 404).await;
    problem(store_file(app, &shop, &format!("{STORE}/media/{photo_id}/original")).await, 404).await;
    // Another shop does not know the file.
    problem(store_file(app, &other, &thumb_url).await, 404).await;
    // Staff can fetch the original (drafts included), never cached by anyone else.
    let res =
        app.admin(Method::GET, &format!("{}/{photo_id}/files/original", media_path(&id)), &shop).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "private, no-store");
    assert_eq!(res.bytes().await.unwrap().len(), jpeg(1000, 600).len());

    // Alt text in two languages; the shopper's language first, the shop's default otherwise.
    let one = format!("{}/{photo_id}", media_path(&id));
    let res = app
        .admin(Method::PATCH, &one, &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"alt": {"en": "Red shirt, front", "de": "Rotes Hemd, vorne"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["etag"], "\"2\"");
    let res = app
        .admin(Method::PATCH, &one, &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"alt": {"en": "Stale"}}))
        .send()
        .await
        .unwrap();
    problem(res, 412).await;
    let res = app
        .admin(Method::PATCH, &format!("{}/{logo_id}", media_path(&id)), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"alt": {"en": "Maker's mark", "fr": "Marque"}}))
        .send()
        .await
        .unwrap();
    let refused = problem(res, 422).await;
    assert_eq!(refused["errors"][0]["field"], "alt.fr", "{refused}");
    let res = app
        .admin(Method::PATCH, &format!("{}/{logo_id}", media_path(&id)), &shop)
        .header("if-match", "\"1\"")
        .json(&json!({"alt": {"en": "Maker's mark"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let german = store_product(app, &shop, &id, "de-DE, de;q=0.9").await;
    assert_eq!(german["media"][0]["alt"], "Rotes Hemd, vorne");
    assert_eq!(german["media"][1]["alt"], "Maker's mark", "falls back to the shop's default language");
    let french = store_product(app, &shop, &id, "fr").await;
    assert_eq!(french["media"][0]["alt"], "Red shirt, front");

    // Reorder: the product's ETag guards it, and only the product's exact media are accepted.
    let (list, etag) = admin_json(app, &shop, &media_path(&id)).await;
    assert_eq!(etag, format!("\"{}\"", list["product_version"]));
    let order = format!("{}/order", media_path(&id));
    let reorder =
        |body: Value, etag: String| app.admin(Method::PUT, &order, &shop).header("if-match", etag).json(&body).send();
    let stranger = uuid::Uuid::now_v7().to_string();
    for (body, field) in [
        (json!({"media_ids": [logo_id]}), "media_ids"),
        (json!({"media_ids": [logo_id, photo_id, photo_id]}), "media_ids[2]"),
        (json!({"media_ids": [logo_id, stranger]}), "media_ids[1]"),
    ] {
        let refused = problem(reorder(body, etag.clone()).await.unwrap(), 422).await;
        assert_eq!(refused["errors"][0]["field"], field, "{refused}");
    }
    problem(reorder(json!({"media_ids": [logo_id, photo_id]}), "\"1\"".into()).await.unwrap(), 412).await;
    let res = reorder(json!({"media_ids": [logo_id, photo_id]}), etag.clone()).await.unwrap();
    assert_eq!(res.status(), 200);
    let reordered: Value = res.json().await.unwrap();
    assert_eq!(ids(&reordered["items"]), vec![logo_id.clone(), photo_id.clone()]);
    assert_eq!(reordered["items"][1]["position"], 1);
    let page = store_product(app, &shop, &id, "en").await;
    assert_eq!(ids(&page["media"]), vec![logo_id.clone(), photo_id.clone()]);

    // A text file named like a photo is not one: 422 naming `file`, nothing stored.
    let (files_before, rows_before) = (stored_files(app, &shop).await, media_rows(app, &shop).await);
    let res = app
        .admin(Method::POST, &media_path(&id), &shop)
        .header("content-type", "image/png")
        .header("content-disposition", "attachment; filename=\"holiday.png\"")
        .body("just some text, honestly")
        .send()
        .await
        .unwrap();
    let refused = problem(res, 422).await;
    assert_eq!(refused["errors"][0]["field"], "file", "{refused}");
    // 2 GB, declared or streamed: refused with 413 long before it all arrives; nothing stored.
    let manager = app.staff(&shop, &["catalog_manager"]).await;
    for chunked in [false, true] {
        let (status, through) = send_two_gigabytes(app, &shop, &manager, &id, chunked).await;
        assert!(status.starts_with("HTTP/1.1 413"), "chunked={chunked}: {status}");
        assert!(through < 128 * 1024 * 1024, "chunked={chunked}: {through} bytes went through first");
    }
    assert_eq!(stored_files(app, &shop).await, files_before);
    assert_eq!(media_rows(app, &shop).await, rows_before);

    // Every write is in the product's history and announced through the outbox.
    let (history, _) = admin_json(app, &shop, &format!("{ADMIN}/products/{id}/history")).await;
    let actions: Vec<&str> =
        history["items"].as_array().unwrap().iter().map(|c| c["action"].as_str().unwrap()).collect();
    assert_eq!(actions[..5], ["media_reordered", "media_updated", "media_updated", "media_added", "media_added"]);
    let pg = app.db.connect().await;
    let processed: i64 = pg
        .query_one(
            "SELECT count(*) FROM agora.outbox WHERE tenant_slug = $1 AND name = 'catalog.product_media_processed.v1'",
            &[&shop],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(processed, 2);
    let media_updates: i64 = pg
        .query_one(
            "SELECT count(*) FROM agora.outbox WHERE tenant_slug = $1 AND name = 'catalog.product_updated.v1' \
             AND payload->'changed' = '[\"media\"]'",
            &[&shop],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(media_updates, 5);

    // Delete: the current version only; then shoppers get 404 and the files go.
    let (current, etag) = admin_json(app, &shop, &one).await;
    assert_eq!(current["version"], 3, "the reorder moved it");
    let res = app.admin(Method::DELETE, &one, &shop).header("if-match", "\"2\"").send().await.unwrap();
    problem(res, 412).await;
    let res = app.admin(Method::DELETE, &one, &shop).header("if-match", etag).send().await.unwrap();
    assert_eq!(res.status(), 204);
    problem(store_file(app, &shop, &thumb_url).await, 404).await;
    problem(app.admin(Method::GET, &one, &shop).send().await.unwrap(), 404).await;
    let page = store_product(app, &shop, &id, "en").await;
    assert_eq!(ids(&page["media"]), vec![logo_id.clone()]);
    assert_eq!(page["media"][0]["images"][0]["url"], format!("{STORE}/media/{logo_id}/160"));
    let folder = format!("products/{id}/media/{photo_id}/");
    eventually(JOB_DEADLINE, || async { !stored_files(app, &shop).await.iter().any(|f| f.starts_with(&folder)) }).await;
    let (list, _) = admin_json(app, &shop, &media_path(&id)).await;
    assert_eq!(list["items"][0]["position"], 0, "the rest closes the gap");

    // A draft product's images are made, but never served to shoppers.
    let draft = create_product(app, &shop, json!({"name": {"en": "Secret Jacket"}})).await;
    let draft_id = draft["id"].as_str().unwrap().to_string();
    let draft_media = uploaded(app, &shop, &draft_id, "", jpeg(200, 100), "image/jpeg").await;
    let list = until_ready(app, &shop, &draft_id).await;
    assert_eq!(widths(&list["items"][0]), vec![160, 200]);
    let url = format!("{STORE}/media/{}/160", draft_media["id"].as_str().unwrap());
    problem(store_file(app, &shop, &url).await, 404).await;
    let staff_url = list["items"][0]["thumbnails"][0]["url"].as_str().unwrap().to_string();
    let res = app.admin(Method::GET, &staff_url, &shop).send().await.unwrap();
    assert_eq!(res.status(), 200, "staff see a draft's thumbnails");
}

#[tokio::test]
async fn catalog_media_on_a_local_directory() {
    let files = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_WORKERS".into(), "2".into());
        o.env.insert("AGORA_STORAGE_URL".into(), format!("file://{}", files.path().display()));
    })
    .await;
    media_story(&app).await;
}

#[tokio::test]
async fn catalog_media_on_an_s3_compatible_store() {
    let (moto, _) = crate::moto::s3_with_bucket("agora-media").await;
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_WORKERS".into(), "2".into());
        o.env.insert("AGORA_STORAGE_URL".into(), "s3://agora-media".into());
        o.env.insert("AGORA_S3_ENDPOINT".into(), moto.endpoint.clone());
        o.env.insert("AGORA_S3_ACCESS_KEY_ID".into(), "test-key".into());
        o.env.insert("AGORA_S3_SECRET_ACCESS_KEY".into(), "test-secret".into());
    })
    .await;
    media_story(&app).await;
}

// ---- who may ----

#[tokio::test]
async fn catalog_media_routes_refuse_callers_who_may_not() {
    let files = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_STORAGE_URL".into(), format!("file://{}", files.path().display()));
    })
    .await;
    let (shop, other) = (app.tenant("acme").await, app.tenant("other").await);
    let product = create_product(&app, &shop, json!({"name": {"en": "Mug"}, "status": "active"})).await;
    let id = product["id"].as_str().unwrap().to_string();
    let media = uploaded(&app, &shop, &id, "", jpeg(64, 64), "image/jpeg").await;
    let media_id = media["id"].as_str().unwrap().to_string();

    let customer = app.customer(&shop).await;
    let powerless = app.staff(&shop, &[]).await;
    // Support reads the catalog but does not change it.
    let reader = app.staff(&shop, &["support"]).await;
    let foreign = app.staff(&other, &["owner"]).await;
    let one = format!("{}/{media_id}", media_path(&id));
    let routes: Vec<(Method, String, bool)> = vec![
        (Method::POST, media_path(&id), true),
        (Method::GET, media_path(&id), false),
        (Method::PUT, format!("{}/order", media_path(&id)), true),
        (Method::GET, one.clone(), false),
        (Method::PATCH, one.clone(), true),
        (Method::DELETE, one.clone(), true),
        (Method::GET, format!("{one}/files/original"), false),
    ];
    let request_in = |shop: &str, method: &Method, path: &str| {
        let req = app.client.request(method.clone(), app.url(path)).header("x-tenant-id", shop);
        match *method {
            Method::POST => req.header("content-type", "image/jpeg").body(jpeg(32, 32)),
            Method::PUT => req.json(&json!({"media_ids": [media_id]})),
            Method::PATCH => req.json(&json!({"alt": {"en": "Mug"}})),
            _ => req,
        }
    };
    let request = |method: &Method, path: &str| request_in(&shop, method, path);
    for (method, path, writes) in &routes {
        let name = format!("{method} {path}");
        problem(request(method, path).send().await.unwrap(), 401).await;
        let res = request(method, path).bearer_auth(&customer.access_token).send().await.unwrap();
        assert_eq!(res.status(), 403, "{name} as a customer");
        let res = request(method, path).bearer_auth(&powerless.access_token).send().await.unwrap();
        assert_eq!(res.status(), 403, "{name} as staff without permissions");
        let res = request(method, path).bearer_auth(&reader.access_token).send().await.unwrap();
        if *writes {
            assert_eq!(res.status(), 403, "{name} as a reader");
        } else {
            assert_eq!(res.status(), 200, "{name} as a reader");
        }
        // Another shop's owner is nobody here, and their own shop has no such product.
        let res = request(method, path).bearer_auth(&foreign.access_token).send().await.unwrap();
        assert_eq!(res.status(), 401, "{name} with another shop's owner");
        let res = request_in(&other, method, path).bearer_auth(&foreign.access_token).send().await.unwrap();
        problem(res, 404).await;
    }
    // None of that changed anything.
    let (list, _) = admin_json(&app, &shop, &media_path(&id)).await;
    assert_eq!(ids(&list["items"]), vec![media_id.clone()]);
    assert_eq!(list["items"][0]["version"], 1);
    assert_eq!(media_rows(&app, &shop).await, 1);
}

#[tokio::test]
async fn catalog_media_concurrent_edits_with_one_version_one_wins() {
    let files = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_STORAGE_URL".into(), format!("file://{}", files.path().display()));
    })
    .await;
    let shop = app.tenant("acme").await;
    let product = create_product(&app, &shop, json!({"name": {"en": "Bowl"}})).await;
    let id = product["id"].as_str().unwrap().to_string();
    let a = uploaded(&app, &shop, &id, "?alt=Bowl", jpeg(40, 40), "image/jpeg").await;
    let b = uploaded(&app, &shop, &id, "?alt=Bowl%20from%20above&locale=en", jpeg(40, 40), "image/jpeg").await;
    let one = format!("{}/{}", media_path(&id), a["id"].as_str().unwrap());
    let edit = |text: &str| {
        app.admin(Method::PATCH, &one, &shop).header("if-match", "\"1\"").json(&json!({"alt": {"en": text}})).send()
    };
    let (first, second) = tokio::join!(edit("Bowl, side"), edit("Bowl, top"));
    let mut statuses = vec![first.unwrap().status().as_u16(), second.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 412]);

    // Two reorders from the same read: one wins, the other is told the product moved on.
    let (_, etag) = admin_json(&app, &shop, &media_path(&id)).await;
    let order = format!("{}/order", media_path(&id));
    let (a_id, b_id) = (a["id"].clone(), b["id"].clone());
    let reorder = |ids: Value| {
        app.admin(Method::PUT, &order, &shop).header("if-match", etag.clone()).json(&json!({"media_ids": ids})).send()
    };
    let (first, second) = tokio::join!(reorder(json!([b_id, a_id])), reorder(json!([b_id, a_id])));
    let mut statuses = vec![first.unwrap().status().as_u16(), second.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, vec![200, 412]);

    // An upload naming another product's variant, or a language the shop does not speak.
    let stranger = uuid::Uuid::now_v7();
    let refused =
        problem(upload(&app, &shop, &id, &format!("?variant_id={stranger}"), jpeg(8, 8), "image/jpeg").await, 422)
            .await;
    assert_eq!(refused["errors"][0]["field"], "variant_id");
    let refused = problem(upload(&app, &shop, &id, "?alt=Schale&locale=fr", jpeg(8, 8), "image/jpeg").await, 422).await;
    assert_eq!(refused["errors"][0]["field"], "locale");
    // A product that does not exist: 404 before anything is stored.
    let missing = uuid::Uuid::now_v7().to_string();
    problem(upload(&app, &shop, &missing, "", jpeg(8, 8), "image/jpeg").await, 404).await;
    assert_eq!(stored_files(&app, &shop).await.len(), 2, "the two originals; no thumbnails without workers");
}

// ---- uploads and Idempotency-Key ----

/// Pixels no encoder can squeeze: a PNG of `side`² noisy pixels is about 3·side² bytes.
fn noisy_png(side: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_u32;
    let noise = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [a, b, c, _] = state.to_le_bytes();
        image::Rgb([a, b, c])
    });
    let mut out = Vec::new();
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(noise.as_raw(), side, side, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

#[tokio::test]
async fn catalog_uploads_larger_than_an_idempotency_key_covers_are_refused_naming_the_key() {
    let files = tempfile::tempdir().unwrap();
    let app = TestApp::spawn_with(|o| {
        o.env.insert("AGORA_STORAGE_URL".into(), format!("file://{}", files.path().display()));
    })
    .await;
    let shop = app.tenant("acme").await;
    let product = create_product(&app, &shop, json!({"name": {"en": "Poster"}, "status": "active"})).await;
    let id = product["id"].as_str().unwrap().to_string();
    let big = noisy_png(700);
    assert!(big.len() > 1024 * 1024, "{} bytes", big.len());

    // With a key: refused for the key, nothing stored.
    let res = app
        .admin(Method::POST, &media_path(&id), &shop)
        .header("content-type", "image/png")
        .header("idempotency-key", "poster-1")
        .body(big.clone())
        .send()
        .await
        .unwrap();
    let body = problem(res, 413).await;
    assert_eq!(body["type"], "https://agora.dev/problems/idempotency-body-too-large", "{body}");
    assert_eq!(body["errors"][0]["field"], "Idempotency-Key", "{body}");
    let (list, _) = admin_json(&app, &shop, &media_path(&id)).await;
    assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    // Streamed without a declared length, the same.
    let stream = futures_util::stream::iter(
        big.chunks(64 * 1024).map(|c| Ok::<_, std::io::Error>(c.to_vec())).collect::<Vec<_>>(),
    );
    let res = app
        .admin(Method::POST, &media_path(&id), &shop)
        .header("content-type", "image/png")
        .header("idempotency-key", "poster-2")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 413).await["type"], "https://agora.dev/problems/idempotency-body-too-large");

    // Without one, the same file is taken; a small one with a key is replayed, not stored twice.
    uploaded(&app, &shop, &id, "", big, "image/png").await;
    let small = || {
        app.admin(Method::POST, &media_path(&id), &shop)
            .header("content-type", "image/jpeg")
            .header("idempotency-key", "thumb-1")
            .body(jpeg(64, 64))
    };
    let first = small().send().await.unwrap();
    assert_eq!(first.status(), 201);
    let again = small().send().await.unwrap();
    assert_eq!(again.status(), 201);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    let (list, _) = admin_json(&app, &shop, &media_path(&id)).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");

    // The CSV import route the same way.
    let mut csv = String::from("sku,name\n");
    while csv.len() <= 1024 * 1024 {
        csv.push_str("POSTER-0000000000,A poster with a long enough name to fill the file quickly\n");
    }
    let res = app
        .admin(Method::POST, &format!("{ADMIN}/imports"), &shop)
        .header("content-type", "text/csv")
        .header("idempotency-key", "import-1")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res, 413).await["type"], "https://agora.dev/problems/idempotency-body-too-large");
}
