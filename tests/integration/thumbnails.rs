//! The thumbnail job as a module uses it: enqueued with the media's record, run by the app's own
//! workers against the configured file store.

use agora_kernel::images::MakeThumbnails;
use agora_kernel::jobs::EnqueueOptions;
use agora_kernel::storage::{bytes_stream, FileKey, TenantFiles};
use agora_kernel::Acting;
use image::ImageEncoder;
use std::time::Duration;

fn photo_jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .write_image(image.as_raw(), width, height, image::ExtendedColorType::Rgb8)
        .unwrap();
    out
}

#[tokio::test]
async fn an_enqueued_thumbnail_job_writes_every_width_through_the_configured_store() {
    let files_dir = tempfile::tempdir().unwrap();
    let app = crate::support::TestApp::spawn_with(|o| {
        o.env.insert("AGORA_WORKERS".into(), "1".into());
        o.env.insert("AGORA_STORAGE_URL".into(), format!("file://{}", files_dir.path().display()));
    })
    .await;
    app.tenant("acme").await;
    let shop = app.context("acme").await;
    let files = TenantFiles::new(app.state.storage.get().await.unwrap(), &shop.schema).unwrap();
    let original = FileKey::parse("products/p1/media/m1/original").unwrap();
    let folder = FileKey::parse("products/p1/media/m1").unwrap();
    files.put(&original, "image/jpeg", bytes_stream(photo_jpeg(1000, 500)), 1 << 22).await.unwrap();

    // As the owning module does: in the transaction that records the media.
    let job = MakeThumbnails::new(uuid::Uuid::now_v7(), &original, &folder);
    app.state
        .db
        .in_tenant(&shop, &Acting::system("catalog"), async |tx| {
            tx.enqueue(&job, EnqueueOptions::default()).await.map(|_| ())
        })
        .await
        .unwrap();

    // 160, 480, 960 and the original's own 1000 (never upscaled to 1600).
    crate::support::eventually(Duration::from_secs(30), || {
        let files = files.clone();
        async move {
            let mut found = Vec::new();
            for width in [160, 480, 960, 1000] {
                let key = FileKey::parse(&format!("products/p1/media/m1/{width}.jpg")).unwrap();
                found.push(files.exists(&key).await.unwrap());
            }
            found.iter().all(|f| *f)
        }
    })
    .await;
    let thumbnail = files.get(&FileKey::parse("products/p1/media/m1/480.jpg").unwrap()).await.unwrap();
    assert_eq!(thumbnail.info.content_type, "image/jpeg");
    let image = image::load_from_memory(&thumbnail.bytes().await.unwrap()).unwrap();
    assert_eq!((image.width(), image.height()), (480, 240));
    assert!(!files.exists(&FileKey::parse("products/p1/media/m1/1600.jpg").unwrap()).await.unwrap());
}
