//! Uploaded images: only real ones accepted, big ones refused while streaming, thumbnails made
//! through the storage port. The thumbnail suite runs on a local directory and on a real
//! S3-compatible server (moto), like the storage suite.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

mod support;

use agora_kernel::images::{self, ImageError, ImageKind, ImageLimits, StoredThumbnail, THUMBNAIL_WIDTHS};
use agora_kernel::storage::{bytes_stream, FileKey, FileStorage, LocalDirectory, TenantFiles};
use agora_kernel::{ApiError, TenantSchema};
use bytes::Bytes;
use image::{ImageEncoder, Rgb, RgbImage, Rgba, RgbaImage};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

// -- Real images, made here --------------------------------------------------------------------

fn photo(width: u32, height: u32) -> RgbImage {
    RgbImage::from_fn(width, height, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8]))
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let image = photo(width, height);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(image.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

/// A logo with a transparent background.
fn logo(width: u32, height: u32) -> RgbaImage {
    RgbaImage::from_fn(width, height, |x, y| {
        if x < width / 2 {
            Rgba([0, 0, 0, 0])
        } else {
            Rgba([200, (y % 256) as u8, 30, 255])
        }
    })
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let image = logo(width, height);
    image::codecs::png::PngEncoder::new(&mut out)
        .write_image(image.as_raw(), width, height, image::ExtendedColorType::Rgba8)
        .unwrap();
    out
}

fn webp(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let image = photo(width, height);
    image::codecs::webp::WebPEncoder::new_lossless(&mut out)
        .write_image(image.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

fn gif(width: u32, height: u32) -> Vec<u8> {
    let mut out = Vec::new();
    let image = logo(width, height);
    image::codecs::gif::GifEncoder::new(&mut out)
        .encode(image.as_raw(), width, height, image::ExtendedColorType::Rgba8)
        .unwrap();
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

fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    let mut covered = kind.to_vec();
    covered.extend_from_slice(data);
    chunk.extend_from_slice(&crc32(&covered).to_be_bytes());
    chunk
}

/// A valid PNG signature and header claiming `width` × `height`, and no pixels: a few dozen
/// bytes that would cost tens of gigabytes to decode.
fn png_header_only(width: u32, height: u32) -> Vec<u8> {
    let mut ihdr = width.to_be_bytes().to_vec();
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 6, 0, 0, 0]); // 8-bit RGBA, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend(png_chunk(b"IHDR", &ihdr));
    out.extend(png_chunk(b"IDAT", &[0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01]));
    out.extend(png_chunk(b"IEND", &[]));
    out
}

/// A JPEG carrying an EXIF segment with something that must not reach thumbnails.
fn jpeg_with_exif(width: u32, height: u32, secret: &str) -> Vec<u8> {
    let plain = jpeg(width, height);
    let mut payload = b"Exif\0\0".to_vec();
    payload.extend_from_slice(secret.as_bytes());
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&payload);
    out.extend_from_slice(&plain[2..]);
    out
}

/// A PNG with a text chunk carrying markup that must not reach thumbnails.
fn png_with_text(width: u32, height: u32, secret: &str) -> Vec<u8> {
    let plain = png(width, height);
    let ihdr_end = 8 + 25;
    let mut out = plain[..ihdr_end].to_vec();
    out.extend(png_chunk(b"tEXt", format!("Comment\0{secret}").as_bytes()));
    out.extend_from_slice(&plain[ihdr_end..]);
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn limits() -> ImageLimits {
    ImageLimits::default()
}

// -- Accepting uploads -------------------------------------------------------------------------

#[test]
fn real_images_of_each_format_are_accepted_with_their_true_type() {
    for (bytes, kind) in [
        (jpeg(64, 48), ImageKind::Jpeg),
        (png(64, 48), ImageKind::Png),
        (webp(64, 48), ImageKind::Webp),
        (gif(64, 48), ImageKind::Gif),
    ] {
        let checked = images::check(bytes.into(), &limits()).unwrap();
        assert_eq!((checked.kind, checked.width, checked.height), (kind, 64, 48));
    }
}

#[test]
fn what_is_not_a_whole_image_is_refused_naming_the_file() {
    // A text file, whatever it is called or claims to be.
    let text = Bytes::from_static(b"hello, this is not a photo\n");
    assert!(matches!(images::check(text, &limits()), Err(ImageError::NotAnImage)));
    // An SVG (scripts can live in it): not accepted.
    let svg = Bytes::from_static(b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>");
    assert!(matches!(images::check(svg, &limits()), Err(ImageError::NotAnImage)));
    // Truncated files.
    let whole = jpeg(400, 300);
    let cut = Bytes::copy_from_slice(&whole[..whole.len() / 2]);
    assert!(matches!(images::check(cut, &limits()), Err(ImageError::Damaged(_))), "a truncated JPEG");
    let whole = png(400, 300);
    let cut = Bytes::copy_from_slice(&whole[..whole.len() / 2]);
    assert!(matches!(images::check(cut, &limits()), Err(ImageError::Damaged(_))), "a truncated PNG");
    // Only a JPEG's first bytes.
    assert!(matches!(images::check(Bytes::from_static(&[0xFF, 0xD8, 0xFF]), &limits()), Err(ImageError::Damaged(_))));

    let problem = ApiError::from(ImageError::NotAnImage).body();
    assert_eq!(problem.status, 422);
    assert_eq!(problem.errors.unwrap()[0].field, "file");
}

#[test]
fn a_huge_image_is_refused_from_its_header_before_decoding() {
    let bomb = Bytes::from(png_header_only(100_000, 100_000));
    assert!(bomb.len() < 100);
    let started = std::time::Instant::now();
    let refused = images::check(bomb, &limits());
    assert!(matches!(refused, Err(ImageError::TooManyPixels { width: 100_000, height: 100_000, .. })), "{refused:?}");
    // Within the side limits but not the pixel budget.
    let wide = Bytes::from(png_header_only(11_000, 11_000));
    assert!(matches!(images::check(wide, &limits()), Err(ImageError::TooManyPixels { .. })));
    // Refused without allocating the pixels (which would take far longer than this).
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // A tighter limit applies to real images too.
    let tight = ImageLimits { max_width: 32, ..limits() };
    assert!(matches!(images::check(jpeg(64, 48).into(), &tight), Err(ImageError::TooManyPixels { .. })));
}

#[test]
fn a_file_over_the_byte_limit_is_refused_with_413() {
    let small = ImageLimits { max_bytes: 1000, ..limits() };
    let refused = images::check(jpeg(400, 300).into(), &small).unwrap_err();
    assert!(matches!(refused, ImageError::TooLarge { limit: 1000 }));
    assert_eq!(ApiError::from(refused).body().status, 413);
}

// -- Uploads over real HTTP: refused while streaming ---------------------------------------

async fn upload(
    req: actix_web::HttpRequest,
    body: actix_web::web::Payload,
) -> Result<actix_web::HttpResponse, ApiError> {
    let limits = ImageLimits { max_bytes: 4 * 1024 * 1024, ..ImageLimits::default() };
    let image = images::accept(body, images::declared_length(&req), &limits).await?;
    Ok(actix_web::HttpResponse::Created().json(serde_json::json!({
        "type": image.kind.content_type(), "width": image.width, "height": image.height
    })))
}

async fn upload_server() -> (std::net::SocketAddr, actix_web::dev::ServerHandle) {
    let server =
        actix_web::HttpServer::new(|| actix_web::App::new().route("/upload", actix_web::web::post().to(upload)))
            .workers(1)
            .bind("127.0.0.1:0")
            .unwrap();
    let addr = server.addrs()[0];
    let server = server.run();
    let handle = server.handle();
    tokio::spawn(server);
    (addr, handle)
}

/// Sends a request head, then up to 2 GB of body while reading the answer; returns the status
/// line and how many body bytes the server let through before answering.
async fn send_two_gigabytes(addr: std::net::SocketAddr, chunked: bool) -> (String, u64) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let head = if chunked {
        "POST /upload HTTP/1.1\r\nHost: shop\r\nContent-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
            .to_string()
    } else {
        format!(
            "POST /upload HTTP/1.1\r\nHost: shop\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            2u64 << 30
        )
    };
    writer.write_all(head.as_bytes()).await.unwrap();
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = sent.clone();
    let sending = tokio::spawn(async move {
        let block = vec![0xFFu8; 256 * 1024];
        let framed: Vec<u8> = if chunked {
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
    let mut answer = vec![0u8; 1024];
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), reader.read(&mut answer)).await;
    let read = read.expect("the server answers before the whole body is sent").unwrap();
    let through = sent.load(std::sync::atomic::Ordering::SeqCst);
    sending.abort();
    let status = String::from_utf8_lossy(&answer[..read]).lines().next().unwrap_or_default().to_string();
    (status, through)
}

#[tokio::test]
async fn a_two_gigabyte_upload_is_refused_with_413_while_it_streams() {
    let (addr, handle) = upload_server().await;
    for chunked in [false, true] {
        let (status, through) = send_two_gigabytes(addr, chunked).await;
        assert!(status.starts_with("HTTP/1.1 413"), "chunked={chunked}: {status}");
        // The limit is 4 MiB; socket buffers let a few more MiB in flight, never the 2 GB.
        assert!(through < 64 * 1024 * 1024, "chunked={chunked}: {through} bytes went through first");
    }

    let client = reqwest::Client::new();
    let ok = client.post(format!("http://{addr}/upload")).body(webp(30, 20)).send().await.unwrap();
    assert_eq!(ok.status(), 201);
    let body: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"type": "image/webp", "width": 30, "height": 20}));

    // A text file named like a photo, claiming to be one.
    let fake = client
        .post(format!("http://{addr}/upload"))
        .header("content-type", "image/jpeg")
        .header("content-disposition", "attachment; filename=\"holiday.jpg\"")
        .body("just some text")
        .send()
        .await
        .unwrap();
    assert_eq!(fake.status(), 422);
    let problem: serde_json::Value = fake.json().await.unwrap();
    assert_eq!(problem["errors"][0]["field"], "file", "{problem}");
    handle.stop(false).await;
}

// -- Thumbnails through the storage port --------------------------------------------------------

fn key(raw: &str) -> FileKey {
    FileKey::parse(raw).unwrap()
}

fn decoded(bytes: &[u8]) -> image::DynamicImage {
    image::load_from_memory(bytes).unwrap()
}

async fn thumbnail_suite(storage: Arc<dyn FileStorage>) {
    let files = TenantFiles::new(storage.clone(), &TenantSchema::for_slug("acme").unwrap()).unwrap();

    // A large photo with EXIF: every width, JPEG, proportional, nothing of the EXIF left.
    let original = key("products/p1/media/m1/original");
    let bytes = jpeg_with_exif(2400, 1200, "GPS-SECRET-52.52N");
    assert!(contains(&bytes, "GPS-SECRET"));
    files.put(&original, "image/jpeg", bytes_stream(bytes), limits().max_bytes).await.unwrap();
    let folder = key("products/p1/media/m1");
    let made = images::make_thumbnails(&files, &original, &folder, &THUMBNAIL_WIDTHS, &limits()).await.unwrap();
    let expected: Vec<(u32, u32)> = vec![(160, 80), (480, 240), (960, 480), (1600, 800)];
    assert_eq!(made.iter().map(|t| (t.width, t.height)).collect::<Vec<_>>(), expected);
    for thumbnail in &made {
        assert_eq!(thumbnail.key, format!("products/p1/media/m1/{}.jpg", thumbnail.width));
        let stored = files.get(&key(&thumbnail.key)).await.unwrap();
        assert_eq!(stored.info.content_type, "image/jpeg");
        let bytes = stored.bytes().await.unwrap();
        assert_eq!(images::sniff(&bytes), Some(ImageKind::Jpeg));
        assert!(!contains(&bytes, "GPS-SECRET"), "metadata is not copied into thumbnails");
        let image = decoded(&bytes);
        assert_eq!((image.width(), image.height()), (thumbnail.width, thumbnail.height));
    }

    // Running the job's work again is harmless: the same files, the same list.
    let again = images::make_thumbnails(&files, &original, &folder, &THUMBNAIL_WIDTHS, &limits()).await.unwrap();
    assert_eq!(again, made);
    let listed = files.list(Some(&folder)).await.unwrap();
    assert_eq!(listed.len(), 5, "the original and four thumbnails: {listed:?}");

    // A small transparent logo: never upscaled, transparency kept as WebP, text chunks dropped.
    let logo_key = key("products/p2/media/m2/original");
    files
        .put(&logo_key, "image/png", bytes_stream(png_with_text(300, 200, "<script>x</script>")), 1 << 20)
        .await
        .unwrap();
    let folder = key("products/p2/media/m2");
    let made: Vec<StoredThumbnail> =
        images::make_thumbnails(&files, &logo_key, &folder, &THUMBNAIL_WIDTHS, &limits()).await.unwrap();
    assert_eq!(made.iter().map(|t| (t.width, t.height)).collect::<Vec<_>>(), vec![(160, 106), (300, 200)]);
    for thumbnail in &made {
        assert_eq!(thumbnail.content_type, "image/webp");
        let bytes = files.get(&key(&thumbnail.key)).await.unwrap().bytes().await.unwrap();
        assert!(!contains(&bytes, "<script>"));
        let image = decoded(&bytes);
        assert!(image.color().has_alpha());
        assert_eq!(image.to_rgba8().get_pixel(0, 0).0[3], 0, "the transparent corner stays transparent");
    }

    // An original that is not an image makes no thumbnails and says why.
    let fake = key("products/p3/media/m3/original");
    files.put(&fake, "image/jpeg", bytes_stream(&b"not an image at all"[..]), 1024).await.unwrap();
    let refused =
        images::make_thumbnails(&files, &fake, &key("products/p3/media/m3"), &THUMBNAIL_WIDTHS, &limits()).await;
    assert!(matches!(refused, Err(ImageError::NotAnImage)));
    assert_eq!(files.list(Some(&key("products/p3/media/m3"))).await.unwrap().len(), 1);

    // Another shop sees none of it.
    let globex = TenantFiles::new(storage, &TenantSchema::for_slug("globex").unwrap()).unwrap();
    assert!(globex.list(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn thumbnails_are_made_in_a_local_directory() {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn FileStorage> = Arc::new(LocalDirectory::open(dir.path()).await.unwrap());
    thumbnail_suite(storage).await;
}

#[tokio::test]
async fn thumbnails_are_made_in_an_s3_compatible_store() {
    let (_moto, storage) = support::moto::s3_with_bucket("agora-media").await;
    thumbnail_suite(Arc::new(storage)).await;
}
