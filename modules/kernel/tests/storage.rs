//! One test suite for the file-storage port, run against both stores: a local directory, and a
//! real S3-compatible server (moto, started by the test on a free port; scripts/test.sh installs
//! it). When moto cannot be started the S3 test fails and says why: it never skips.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test helpers: a failed unwrap is a failed test

use agora_kernel::storage::{
    bytes_stream, ByteStream, FileKey, FileStorage, LocalDirectory, S3Settings, S3Storage, StorageError, TenantFiles,
};
use agora_kernel::TenantSchema;
use bytes::Bytes;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

mod support;
use support::moto::start_moto;

fn key(raw: &str) -> FileKey {
    FileKey::parse(raw).unwrap()
}

fn shop(slug: &str, storage: &Arc<dyn FileStorage>) -> TenantFiles {
    TenantFiles::new(storage.clone(), &TenantSchema::for_slug(slug).unwrap()).unwrap()
}

/// `total` bytes in chunks of `chunk`, with a pattern so a reordered or dropped chunk shows.
fn chunked(total: usize, chunk: usize) -> (Vec<u8>, ByteStream) {
    let data: Vec<u8> = (0..total).map(|i| (i % 251) as u8).collect();
    let chunks: Vec<Result<Bytes, std::io::Error>> =
        data.chunks(chunk).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    (data, futures_util::stream::iter(chunks).boxed())
}

/// Everything a module may rely on, whichever store is configured.
async fn storage_suite(storage: Arc<dyn FileStorage>, signs_urls: bool) {
    let acme = shop("acme", &storage);
    let globex = shop("globex", &storage);
    let photo = key("products/0190/photo.jpg");

    // Write, read back, describe.
    let stored = acme.put(&photo, "image/jpeg", bytes_stream(&b"jpeg bytes"[..]), 1024).await.unwrap();
    assert_eq!((stored.key.as_str(), stored.size, stored.content_type.as_str()), (photo.as_str(), 10, "image/jpeg"));
    let read = acme.get(&photo).await.unwrap();
    assert_eq!(
        (read.info.size, read.info.content_type.as_str(), read.info.key.as_str()),
        (10, "image/jpeg", photo.as_str())
    );
    assert_eq!(read.bytes().await.unwrap(), Bytes::from_static(b"jpeg bytes"));
    let head = acme.head(&photo).await.unwrap().expect("the file is there");
    assert_eq!((head.size, head.content_type.as_str()), (10, "image/jpeg"));
    assert!(acme.exists(&photo).await.unwrap());

    // Replacing a file replaces bytes and type together.
    acme.put(&photo, "image/png", bytes_stream(&b"png!"[..]), 1024).await.unwrap();
    let read = acme.get(&photo).await.unwrap();
    assert_eq!(read.info.content_type, "image/png");
    assert_eq!(read.bytes().await.unwrap(), Bytes::from_static(b"png!"));

    // A file bigger than the limit is refused, and the old one stays.
    let (_, big) = chunked(3000, 1000);
    let refused = acme.put(&photo, "image/png", big, 2500).await;
    assert!(matches!(refused, Err(StorageError::TooLarge { limit: 2500 })), "{refused:?}");
    assert_eq!(acme.get(&photo).await.unwrap().bytes().await.unwrap(), Bytes::from_static(b"png!"));
    let new_key = key("products/0190/huge.bin");
    let (_, big) = chunked(3000, 1000);
    assert!(acme.put(&new_key, "application/octet-stream", big, 2999).await.is_err());
    assert!(!acme.exists(&new_key).await.unwrap(), "nothing half-written");

    // An upload that breaks off stores nothing.
    let broken: ByteStream = futures_util::stream::iter(vec![
        Ok(Bytes::from_static(b"first part")),
        Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "client went away")),
    ])
    .boxed();
    let broken = acme.put(&new_key, "application/octet-stream", broken, 1024).await;
    assert!(matches!(broken, Err(StorageError::Upload(_))), "{broken:?}");
    assert!(!acme.exists(&new_key).await.unwrap());

    // A bad content type is refused before anything is written.
    let bad_type = acme.put(&new_key, "jpeg\r\nX-Evil: 1", bytes_stream(&b"x"[..]), 10).await;
    assert!(matches!(bad_type, Err(StorageError::InvalidContentType(_))), "{bad_type:?}");

    // Many chunks in, the same bytes out (the local store reads back in 64 KiB chunks).
    let large = key("imports/catalog.csv");
    let (data, body) = chunked(300_000, 7_000);
    let stored = acme.put(&large, "text/csv", body, 1_000_000).await.unwrap();
    assert_eq!(stored.size, 300_000);
    assert_eq!(acme.get(&large).await.unwrap().bytes().await.unwrap(), Bytes::from(data));

    // Listing a folder: only files under it (not `products-old/…`), sorted, keys relative to the shop.
    acme.put(&key("products/0191/a.jpg"), "image/jpeg", bytes_stream(&b"a"[..]), 10).await.unwrap();
    acme.put(&key("products-old/x.jpg"), "image/jpeg", bytes_stream(&b"x"[..]), 10).await.unwrap();
    let listed: Vec<String> =
        acme.list(Some(&key("products"))).await.unwrap().into_iter().map(|e| e.key.to_string()).collect();
    assert_eq!(listed, ["products/0190/photo.jpg", "products/0191/a.jpg"]);
    let everything = acme.list(None).await.unwrap();
    let names: Vec<&str> = everything.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(names, ["imports/catalog.csv", "products-old/x.jpg", "products/0190/photo.jpg", "products/0191/a.jpg"]);
    assert_eq!(everything.iter().find(|e| e.key == large).map(|e| e.size), Some(300_000));
    assert!(acme.list(Some(&key("nothing-here"))).await.unwrap().is_empty());

    // Another shop sees none of it, even under the same key.
    assert!(matches!(globex.get(&photo).await, Err(StorageError::NotFound(_))));
    assert!(globex.head(&photo).await.unwrap().is_none());
    assert!(globex.list(None).await.unwrap().is_empty());
    globex.put(&photo, "image/gif", bytes_stream(&b"gif"[..]), 10).await.unwrap();
    assert_eq!(acme.get(&photo).await.unwrap().bytes().await.unwrap(), Bytes::from_static(b"png!"));
    globex.delete(&photo).await.unwrap();
    assert!(acme.exists(&photo).await.unwrap(), "deleting in one shop leaves the other's file");

    // A URL the browser can fetch directly, where the store can sign one.
    let url = acme.signed_url(&photo, Duration::from_secs(300)).await.unwrap();
    if signs_urls {
        let url = url.expect("S3 signs URLs");
        let fetched = reqwest::get(&url).await.unwrap();
        assert!(fetched.status().is_success(), "GET {url}: {}", fetched.status());
        assert_eq!(fetched.bytes().await.unwrap(), Bytes::from_static(b"png!"));
    } else {
        assert!(url.is_none(), "a local directory has no URLs of its own: the server streams the file");
    }

    // Delete; deleting again is fine.
    acme.delete(&photo).await.unwrap();
    assert!(matches!(acme.get(&photo).await, Err(StorageError::NotFound(_))));
    assert!(acme.head(&photo).await.unwrap().is_none());
    acme.delete(&photo).await.unwrap();
    let listed: Vec<String> =
        acme.list(Some(&key("products"))).await.unwrap().into_iter().map(|e| e.key.to_string()).collect();
    assert_eq!(listed, ["products/0191/a.jpg"]);
}

#[tokio::test]
async fn a_local_directory_passes_the_storage_suite() {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn FileStorage> = Arc::new(LocalDirectory::open(dir.path()).await.unwrap());
    storage_suite(storage, false).await;

    // The files are where an operator would look for them, and no temp file is left behind
    // by the refused and broken uploads.
    assert!(dir.path().join("t_acme/products/0191/a.jpg").is_file());
    let temps = std::fs::read_dir(dir.path().join(".tmp")).unwrap().count();
    assert_eq!(temps, 0, "refused and broken uploads leave no temp files");
}

#[tokio::test]
async fn a_local_directory_reopens_with_its_files() {
    let dir = tempfile::tempdir().unwrap();
    let storage: Arc<dyn FileStorage> = Arc::new(LocalDirectory::open(dir.path()).await.unwrap());
    shop("acme", &storage).put(&key("a.txt"), "text/plain", bytes_stream(&b"kept"[..]), 10).await.unwrap();
    drop(storage);
    let reopened: Arc<dyn FileStorage> = Arc::new(LocalDirectory::open(dir.path()).await.unwrap());
    let read = shop("acme", &reopened).get(&key("a.txt")).await.unwrap();
    assert_eq!(read.info.content_type, "text/plain");
    assert_eq!(read.bytes().await.unwrap(), Bytes::from_static(b"kept"));
}

#[tokio::test]
async fn an_s3_compatible_server_passes_the_storage_suite() {
    let moto = start_moto().await;
    // moto accepts any credentials; the bucket is made with a plain S3 CreateBucket call.
    let created = reqwest::Client::new().put(format!("{}/agora-media", moto.endpoint)).send().await.unwrap();
    assert!(created.status().is_success(), "create bucket: {}", created.status());
    let settings = S3Settings {
        bucket: "agora-media".into(),
        endpoint: Some(moto.endpoint.clone()),
        region: "us-east-1".into(),
        access_key_id: "test-key".into(),
        secret_access_key: "test-secret".to_string().into(),
    };
    let storage: Arc<dyn FileStorage> = Arc::new(S3Storage::new(&settings).unwrap());
    storage_suite(storage.clone(), true).await;

    // Path-style addressing (what S3-compatible servers understand): <endpoint>/<bucket>/<tenant>/<key>.
    let url = shop("acme", &storage).signed_url(&key("products/0191/a.jpg"), Duration::from_secs(60)).await.unwrap();
    let url = url.expect("S3 signs URLs");
    assert!(url.starts_with(&format!("{}/agora-media/t_acme/products/0191/a.jpg?", moto.endpoint)), "{url}");
    // Without the signature the object is private.
    let unsigned = reqwest::get(url.split('?').next().unwrap_or_default()).await.unwrap();
    assert_eq!(unsigned.status(), reqwest::StatusCode::FORBIDDEN);
}
