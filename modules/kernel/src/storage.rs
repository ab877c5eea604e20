//! The file-storage port: where uploaded files (catalog media, import files, exports) live.
//!
//! [`FileStorage`] is the port; [`LocalDirectory`] (the default: a directory on this machine) and
//! [`S3Storage`] (any S3-compatible service) implement it, and one test suite runs against both.
//! Modules never see a whole store: they get [`TenantFiles`], which puts every key under the
//! tenant's own prefix (`t_acme/…`), so one shop cannot name another's files.
//!
//! Keys are [`FileKey`]s, checked once: `/`-separated segments of letters, digits, `.`, `_` and
//! `-`, none empty and none starting with `.`, so `..`, absolute paths and hidden names cannot be
//! written, and a key joined to a directory can only name a file under that directory.
//!
//! Choosing a store: [`StorageSettings::from_url`] reads `file:///var/lib/agora/files` or
//! `s3://bucket` (with endpoint, region and credentials beside it) and [`StorageSettings::open`]
//! builds it.

use crate::error::{ApiError, ErrorKind};
use crate::TenantSchema;
use bytes::{Bytes, BytesMut};
use chrono::{DateTime, Utc};
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};
use secrecy::{ExposeSecret, SecretString};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A future a storage call returns; boxed so `dyn FileStorage` works.
pub type StorageFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StorageError>> + Send + 'a>>;

/// The bytes of a file, read or written a chunk at a time so a large file is never all in memory
/// on the local store. An `Err` item while uploading means the client's upload broke off.
pub type ByteStream = BoxStream<'static, Result<Bytes, std::io::Error>>;

/// A stream of one chunk: for callers that already hold the whole file.
pub fn bytes_stream(bytes: impl Into<Bytes>) -> ByteStream {
    futures_util::stream::once(std::future::ready(Ok(bytes.into()))).boxed()
}

/// A checked path of a file in a store (see the module docs for what is allowed).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey(String);

impl FileKey {
    pub const MAX_LEN: usize = 512;
    const MAX_SEGMENT: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, StorageError> {
        let bad = |why: &str| Err(StorageError::InvalidKey(format!("{why} (got {:?})", truncate(raw, 60))));
        if raw.is_empty() || raw.len() > Self::MAX_LEN {
            return bad("a file key has 1 to 512 characters");
        }
        for segment in raw.split('/') {
            if segment.is_empty() || segment.len() > Self::MAX_SEGMENT {
                return bad("a file key is folder/name segments of 1 to 128 characters, without empty ones");
            }
            if segment.starts_with('.') {
                return bad("no part of a file key starts with '.'");
            }
            if !segment.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-')) {
                return bad("a file key has only letters, digits, '.', '_', '-' and '/'");
            }
        }
        Ok(FileKey(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `self/child`, checked as a whole.
    pub fn join(&self, child: &FileKey) -> Result<FileKey, StorageError> {
        FileKey::parse(&format!("{}/{}", self.0, child.0))
    }

    /// The part after `prefix/`, if this key is under that folder.
    fn strip_folder(&self, prefix: &FileKey) -> Option<FileKey> {
        self.0.strip_prefix(prefix.as_str())?.strip_prefix('/').map(|rest| FileKey(rest.to_string()))
    }
}

// As its text; reading one back checks it again, so a stored key cannot smuggle in a '..'.
impl serde::Serialize for FileKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> serde::Deserialize<'de> for FileKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        FileKey::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl std::fmt::Display for FileKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn truncate(s: &str, chars: usize) -> String {
    s.chars().take(chars).collect()
}

/// What went wrong, in words a handler can map to a status (see `From<StorageError> for ApiError`).
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error("there is no file {0}")]
    NotFound(String),
    #[error("the file is larger than the {limit} bytes allowed")]
    TooLarge { limit: u64 },
    #[error("{0}")]
    InvalidKey(String),
    #[error("{0}")]
    InvalidContentType(String),
    #[error("the upload broke off: {0}")]
    Upload(std::io::Error),
    /// The store itself failed (disk full, S3 unreachable or refusing): ours, not the client's.
    #[error("file storage failed: {0}")]
    Backend(String),
}

impl From<StorageError> for ApiError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::NotFound(_) => ApiError::not_found("file"),
            StorageError::TooLarge { limit } => ApiError::new(
                ErrorKind::PayloadTooLarge,
                "file-too-large",
                format!("the file is larger than the {limit} bytes allowed"),
            ),
            StorageError::InvalidKey(why) => ApiError::field("key", why),
            StorageError::InvalidContentType(why) => ApiError::field("content_type", why),
            StorageError::Upload(cause) => {
                ApiError::bad_request("upload-broken", "the upload broke off before it was complete")
                    .with_internal(cause)
            }
            StorageError::Backend(cause) => ApiError::unavailable(cause),
        }
    }
}

fn backend(context: &str, cause: impl std::fmt::Display) -> StorageError {
    StorageError::Backend(format!("{context}: {cause}"))
}

/// A stored file's description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub key: FileKey,
    pub size: u64,
    pub content_type: String,
    pub last_modified: DateTime<Utc>,
}

/// One file in a listing (listings do not carry content types: S3 does not list them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    pub key: FileKey,
    pub size: u64,
    pub last_modified: DateTime<Utc>,
}

/// A file being read: what it is, and its bytes as a stream the server can send on as they come.
pub struct FileDownload {
    pub info: FileInfo,
    pub body: ByteStream,
}

impl FileDownload {
    /// Reads the whole file into memory: for small files and tests.
    pub async fn bytes(self) -> Result<Bytes, StorageError> {
        let chunks: Vec<Bytes> = self.body.try_collect().await.map_err(|e| backend("reading the file", e))?;
        Ok(chunks.concat().into())
    }
}

/// A place files are kept. Keys are whole keys; modules use [`TenantFiles`], never this directly.
pub trait FileStorage: Send + Sync + 'static {
    /// Stores `body` under `key` (replacing what was there), refusing it with
    /// [`StorageError::TooLarge`] once it passes `max_bytes`. Readers see the old file or the
    /// whole new one, never a part.
    fn put<'a>(
        &'a self,
        key: &'a FileKey,
        content_type: &'a str,
        body: ByteStream,
        max_bytes: u64,
    ) -> StorageFuture<'a, FileInfo>;

    /// The file as a stream; [`StorageError::NotFound`] when there is none.
    fn get<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, FileDownload>;

    /// The file's description without its bytes; `None` when there is none.
    fn head<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, Option<FileInfo>>;

    /// Removes the file; removing a file that is not there is not an error.
    fn delete<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, ()>;

    /// Every file under the folder `prefix` (all files for `None`), sorted by key.
    fn list<'a>(&'a self, prefix: Option<&'a FileKey>) -> StorageFuture<'a, Vec<FileEntry>>;

    /// A URL a browser can fetch the file from directly for `expires_in`, when the store can sign
    /// one (S3); `None` when the server has to stream it itself (a local directory).
    fn signed_url<'a>(&'a self, key: &'a FileKey, expires_in: Duration) -> StorageFuture<'a, Option<String>>;

    fn exists<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, bool> {
        Box::pin(async move { Ok(self.head(key).await?.is_some()) })
    }
}

/// Checks a content type before it is stored and later sent back as a header.
fn check_content_type(content_type: &str) -> Result<(), StorageError> {
    let valid = !content_type.is_empty()
        && content_type.len() <= 200
        && content_type.contains('/')
        && content_type.bytes().all(|b| b.is_ascii_graphic() || b == b' ');
    if valid {
        Ok(())
    } else {
        Err(StorageError::InvalidContentType("a media type such as image/jpeg".into()))
    }
}

/// One shop's files: every key is under the shop's own folder, and keys handed back are relative
/// to it again.
#[derive(Clone)]
pub struct TenantFiles {
    storage: Arc<dyn FileStorage>,
    folder: FileKey,
}

impl TenantFiles {
    pub fn new(storage: Arc<dyn FileStorage>, tenant: &TenantSchema) -> Result<Self, StorageError> {
        Ok(Self { storage, folder: FileKey::parse(tenant.name())? })
    }

    fn full(&self, key: &FileKey) -> Result<FileKey, StorageError> {
        self.folder.join(key)
    }

    fn relative(&self, key: FileKey) -> Result<FileKey, StorageError> {
        key.strip_folder(&self.folder).ok_or_else(|| backend("listing", format!("{key} is outside the shop's folder")))
    }

    pub async fn put(
        &self,
        key: &FileKey,
        content_type: &str,
        body: ByteStream,
        max_bytes: u64,
    ) -> Result<FileInfo, StorageError> {
        let full = self.full(key)?;
        let info = self.storage.put(&full, content_type, body, max_bytes).await?;
        Ok(FileInfo { key: key.clone(), ..info })
    }

    pub async fn get(&self, key: &FileKey) -> Result<FileDownload, StorageError> {
        let full = self.full(key)?;
        let download = self.storage.get(&full).await?;
        Ok(FileDownload { info: FileInfo { key: key.clone(), ..download.info }, body: download.body })
    }

    pub async fn head(&self, key: &FileKey) -> Result<Option<FileInfo>, StorageError> {
        let full = self.full(key)?;
        Ok(self.storage.head(&full).await?.map(|info| FileInfo { key: key.clone(), ..info }))
    }

    pub async fn exists(&self, key: &FileKey) -> Result<bool, StorageError> {
        let full = self.full(key)?;
        self.storage.exists(&full).await
    }

    pub async fn delete(&self, key: &FileKey) -> Result<(), StorageError> {
        let full = self.full(key)?;
        self.storage.delete(&full).await
    }

    /// The shop's files under the folder `prefix` (all its files for `None`).
    pub async fn list(&self, prefix: Option<&FileKey>) -> Result<Vec<FileEntry>, StorageError> {
        let folder = match prefix {
            Some(prefix) => self.full(prefix)?,
            None => self.folder.clone(),
        };
        let entries = self.storage.list(Some(&folder)).await?;
        entries.into_iter().map(|e| Ok(FileEntry { key: self.relative(e.key)?, ..e })).collect()
    }

    pub async fn signed_url(&self, key: &FileKey, expires_in: Duration) -> Result<Option<String>, StorageError> {
        let full = self.full(key)?;
        self.storage.signed_url(&full, expires_in).await
    }
}

// ---------------------------------------------------------------------------------------------
// Local directory
// ---------------------------------------------------------------------------------------------

/// Files in a directory on this machine: `<root>/<key>`, the content type beside it in
/// `<root>/.meta/<key>.json`. A write goes to `<root>/.tmp/` first and is renamed into place
/// (atomic on one filesystem), so a reader never sees half a file and a crash leaves at most a
/// stray temp file. Keys cannot name `.meta` or `.tmp` (no segment starts with '.').
///
/// A key cannot be both a file and a folder here (`a` and `a/b`): the second write fails, where
/// S3 would allow both. Keys that modules build (`products/<id>/<name>`) never do that.
pub struct LocalDirectory {
    root: PathBuf,
}

const TEMP_DIR: &str = ".tmp";
const META_DIR: &str = ".meta";
const READ_CHUNK: usize = 64 * 1024;

#[derive(serde::Serialize, serde::Deserialize)]
struct LocalMeta {
    content_type: String,
}

/// Removes a temp file unless it was renamed into place, also when the put future is dropped.
struct TempFile(Option<PathBuf>);

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

impl LocalDirectory {
    /// Opens (creating) the directory.
    pub async fn open(root: impl AsRef<Path>) -> Result<Self, StorageError> {
        let root = root.as_ref();
        tokio::fs::create_dir_all(root.join(TEMP_DIR))
            .await
            .map_err(|e| backend(&format!("creating {}", root.display()), e))?;
        let root = tokio::fs::canonicalize(root).await.map_err(|e| backend("opening the file directory", e))?;
        Ok(Self { root })
    }

    fn data_path(&self, key: &FileKey) -> PathBuf {
        // A FileKey has no '..', no leading '/' and no empty segment, so this stays under root.
        self.root.join(key.as_str())
    }

    fn meta_path(&self, key: &FileKey) -> PathBuf {
        self.root.join(META_DIR).join(format!("{}.json", key.as_str()))
    }

    async fn write_temp(&self, mut body: ByteStream, max_bytes: u64) -> Result<(TempFile, u64), StorageError> {
        let temp = TempFile(Some(self.root.join(TEMP_DIR).join(uuid::Uuid::new_v4().to_string())));
        let path = temp.0.clone().unwrap_or_default();
        let mut file = tokio::fs::File::create(&path).await.map_err(|e| backend("creating a temp file", e))?;
        let mut written: u64 = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(StorageError::Upload)?;
            written = written.saturating_add(chunk.len() as u64);
            if written > max_bytes {
                return Err(StorageError::TooLarge { limit: max_bytes });
            }
            file.write_all(&chunk).await.map_err(|e| backend("writing a temp file", e))?;
        }
        // On disk before the rename makes it visible.
        file.sync_all().await.map_err(|e| backend("writing a temp file", e))?;
        Ok((temp, written))
    }

    async fn rename_into_place(temp: &mut TempFile, target: &Path) -> Result<(), StorageError> {
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(|e| backend("creating the file's folder", e))?;
        }
        let from = temp.0.take().unwrap_or_default();
        if let Err(e) = tokio::fs::rename(&from, target).await {
            temp.0 = Some(from);
            return Err(backend("moving the file into place", e));
        }
        Ok(())
    }

    async fn read_content_type(&self, key: &FileKey) -> String {
        // A file written without its sidecar (by hand) is served as plain bytes.
        match tokio::fs::read(self.meta_path(key)).await {
            Ok(raw) => serde_json::from_slice::<LocalMeta>(&raw).map(|m| m.content_type).ok(),
            Err(_) => None,
        }
        .unwrap_or_else(|| "application/octet-stream".into())
    }

    async fn info(&self, key: &FileKey) -> Result<Option<FileInfo>, StorageError> {
        let metadata = match tokio::fs::metadata(self.data_path(key)).await {
            Ok(m) if m.is_file() => m,
            Ok(_) => return Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(backend("reading a file's size", e)),
        };
        Ok(Some(FileInfo {
            key: key.clone(),
            size: metadata.len(),
            content_type: self.read_content_type(key).await,
            last_modified: metadata.modified().map(DateTime::<Utc>::from).unwrap_or_else(|_| Utc::now()),
        }))
    }
}

fn remove_if_present(result: std::io::Result<()>) -> Result<(), StorageError> {
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(backend("removing a file", e)),
        _ => Ok(()),
    }
}

impl FileStorage for LocalDirectory {
    fn put<'a>(
        &'a self,
        key: &'a FileKey,
        content_type: &'a str,
        body: ByteStream,
        max_bytes: u64,
    ) -> StorageFuture<'a, FileInfo> {
        Box::pin(async move {
            check_content_type(content_type)?;
            let (mut data, size) = self.write_temp(body, max_bytes).await?;
            let meta = serde_json::to_vec(&LocalMeta { content_type: content_type.to_string() })
                .map_err(|e| backend("describing the file", e))?;
            let (mut meta_temp, _) = self.write_temp(bytes_stream(meta), u64::MAX).await?;
            // The content type first: a reader who sees the new file also sees its type. A crash
            // between the two renames leaves the old file with the new type, which the next put
            // of that key replaces.
            Self::rename_into_place(&mut meta_temp, &self.meta_path(key)).await?;
            Self::rename_into_place(&mut data, &self.data_path(key)).await?;
            Ok(FileInfo { key: key.clone(), size, content_type: content_type.to_string(), last_modified: Utc::now() })
        })
    }

    fn get<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, FileDownload> {
        Box::pin(async move {
            // Open first, then describe: the open handle keeps reading the file it opened even if a
            // put renames a new one into place meanwhile.
            let file = match tokio::fs::File::open(self.data_path(key)).await {
                Ok(file) => file,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(StorageError::NotFound(key.to_string()))
                }
                Err(e) => return Err(backend("opening a file", e)),
            };
            let metadata = file.metadata().await.map_err(|e| backend("reading a file's size", e))?;
            if !metadata.is_file() {
                return Err(StorageError::NotFound(key.to_string()));
            }
            let info = FileInfo {
                key: key.clone(),
                size: metadata.len(),
                content_type: self.read_content_type(key).await,
                last_modified: metadata.modified().map(DateTime::<Utc>::from).unwrap_or_else(|_| Utc::now()),
            };
            let body = futures_util::stream::try_unfold(file, |mut file| async move {
                let mut buf = BytesMut::zeroed(READ_CHUNK);
                let n = file.read(&mut buf).await?;
                if n == 0 {
                    return Ok(None);
                }
                buf.truncate(n);
                Ok(Some((buf.freeze(), file)))
            })
            .boxed();
            Ok(FileDownload { info, body })
        })
    }

    fn head<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, Option<FileInfo>> {
        Box::pin(self.info(key))
    }

    fn delete<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            remove_if_present(tokio::fs::remove_file(self.data_path(key)).await)?;
            remove_if_present(tokio::fs::remove_file(self.meta_path(key)).await)
        })
    }

    fn list<'a>(&'a self, prefix: Option<&'a FileKey>) -> StorageFuture<'a, Vec<FileEntry>> {
        Box::pin(async move {
            let start = prefix.map_or_else(|| self.root.clone(), |p| self.data_path(p));
            let mut entries = Vec::new();
            let mut folders = vec![start];
            while let Some(folder) = folders.pop() {
                let mut dir = match tokio::fs::read_dir(&folder).await {
                    Ok(dir) => dir,
                    // No such folder, or the prefix names a file: nothing under it.
                    Err(e) if matches!(e.kind(), std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory) => {
                        continue
                    }
                    Err(e) => return Err(backend("listing files", e)),
                };
                while let Some(entry) = dir.next_entry().await.map_err(|e| backend("listing files", e))? {
                    let path = entry.path();
                    let Ok(relative) = path.strip_prefix(&self.root) else { continue };
                    let Some(relative) = relative.to_str() else { continue };
                    // Skips .tmp, .meta and anything else that is not a key (a symlink included).
                    let Ok(key) = FileKey::parse(relative) else { continue };
                    let file_type = entry.file_type().await.map_err(|e| backend("listing files", e))?;
                    if file_type.is_dir() {
                        folders.push(path);
                    } else if file_type.is_file() {
                        let metadata = entry.metadata().await.map_err(|e| backend("listing files", e))?;
                        entries.push(FileEntry {
                            key,
                            size: metadata.len(),
                            last_modified: metadata
                                .modified()
                                .map(DateTime::<Utc>::from)
                                .unwrap_or_else(|_| Utc::now()),
                        });
                    }
                }
            }
            entries.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(entries)
        })
    }

    fn signed_url<'a>(&'a self, _key: &'a FileKey, _expires_in: Duration) -> StorageFuture<'a, Option<String>> {
        Box::pin(async { Ok(None) })
    }
}

// ---------------------------------------------------------------------------------------------
// S3-compatible
// ---------------------------------------------------------------------------------------------

/// Where an S3-compatible store is and how to sign in to it.
#[derive(Debug, Clone)]
pub struct S3Settings {
    pub bucket: String,
    /// `None` for AWS itself; `http://127.0.0.1:9000` for MinIO, moto, Garage, …
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: SecretString,
}

/// Files in an S3 bucket through `object_store`, addressed path-style (`<endpoint>/<bucket>/<key>`),
/// which every S3-compatible server understands. An upload is held in memory up to its size limit
/// and sent as one PUT: fine for media and import files (megabytes); a store for gigabyte files
/// would use multipart uploads instead.
pub struct S3Storage {
    store: object_store::aws::AmazonS3,
}

impl S3Storage {
    pub fn new(settings: &S3Settings) -> Result<Self, StorageError> {
        let mut builder = object_store::aws::AmazonS3Builder::new()
            .with_bucket_name(&settings.bucket)
            .with_region(&settings.region)
            .with_access_key_id(&settings.access_key_id)
            .with_secret_access_key(settings.secret_access_key.expose_secret())
            .with_virtual_hosted_style_request(false);
        if let Some(endpoint) = &settings.endpoint {
            builder = builder.with_endpoint(endpoint).with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder.build().map_err(|e| backend("configuring S3", e))?;
        Ok(Self { store })
    }

    fn path(key: &FileKey) -> object_store::path::Path {
        // FileKey's characters are all ones object_store keeps as they are.
        object_store::path::Path::from(key.as_str())
    }

    fn key_of(path: &object_store::path::Path) -> Result<FileKey, StorageError> {
        FileKey::parse(path.as_ref())
    }

    fn error(context: &str, key: &FileKey, e: object_store::Error) -> StorageError {
        match e {
            object_store::Error::NotFound { .. } => StorageError::NotFound(key.to_string()),
            other => backend(context, other),
        }
    }

    fn info(key: &FileKey, result: &object_store::GetResult) -> FileInfo {
        let content_type = result
            .attributes
            .get(&object_store::Attribute::ContentType)
            .map_or_else(|| "application/octet-stream".to_string(), |v| v.to_string());
        FileInfo { key: key.clone(), size: result.meta.size, content_type, last_modified: result.meta.last_modified }
    }
}

impl FileStorage for S3Storage {
    fn put<'a>(
        &'a self,
        key: &'a FileKey,
        content_type: &'a str,
        mut body: ByteStream,
        max_bytes: u64,
    ) -> StorageFuture<'a, FileInfo> {
        Box::pin(async move {
            use object_store::ObjectStore as _;
            check_content_type(content_type)?;
            let mut buffer = BytesMut::new();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(StorageError::Upload)?;
                if (buffer.len() as u64).saturating_add(chunk.len() as u64) > max_bytes {
                    return Err(StorageError::TooLarge { limit: max_bytes });
                }
                buffer.extend_from_slice(&chunk);
            }
            let size = buffer.len() as u64;
            let mut attributes = object_store::Attributes::new();
            attributes.insert(object_store::Attribute::ContentType, content_type.to_string().into());
            let options = object_store::PutOptions { attributes, ..Default::default() };
            self.store
                .put_opts(&Self::path(key), buffer.freeze().into(), options)
                .await
                .map_err(|e| Self::error("storing a file", key, e))?;
            Ok(FileInfo { key: key.clone(), size, content_type: content_type.to_string(), last_modified: Utc::now() })
        })
    }

    fn get<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, FileDownload> {
        Box::pin(async move {
            use object_store::ObjectStoreExt as _;
            let result = self.store.get(&Self::path(key)).await.map_err(|e| Self::error("reading a file", key, e))?;
            let info = Self::info(key, &result);
            let body = result.into_stream().map_err(std::io::Error::other).boxed();
            Ok(FileDownload { info, body })
        })
    }

    fn head<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, Option<FileInfo>> {
        Box::pin(async move {
            use object_store::ObjectStore as _;
            // A HEAD through get_opts, because plain `head` does not return the content type.
            let options = object_store::GetOptions::new().with_head(true);
            match self.store.get_opts(&Self::path(key), options).await {
                Ok(result) => Ok(Some(Self::info(key, &result))),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(backend("describing a file", e)),
            }
        })
    }

    fn delete<'a>(&'a self, key: &'a FileKey) -> StorageFuture<'a, ()> {
        Box::pin(async move {
            use object_store::ObjectStoreExt as _;
            match self.store.delete(&Self::path(key)).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(backend("removing a file", e)),
            }
        })
    }

    fn list<'a>(&'a self, prefix: Option<&'a FileKey>) -> StorageFuture<'a, Vec<FileEntry>> {
        Box::pin(async move {
            use object_store::ObjectStore as _;
            let prefix = prefix.map(Self::path);
            let metas: Vec<object_store::ObjectMeta> =
                self.store.list(prefix.as_ref()).try_collect().await.map_err(|e| backend("listing files", e))?;
            let mut entries = metas
                .into_iter()
                .map(|m| {
                    Ok(FileEntry { key: Self::key_of(&m.location)?, size: m.size, last_modified: m.last_modified })
                })
                .collect::<Result<Vec<_>, StorageError>>()?;
            entries.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(entries)
        })
    }

    fn signed_url<'a>(&'a self, key: &'a FileKey, expires_in: Duration) -> StorageFuture<'a, Option<String>> {
        Box::pin(async move {
            use object_store::signer::Signer as _;
            let url = self
                .store
                .signed_url(object_store::signer::Method::GET, &Self::path(key), expires_in)
                .await
                .map_err(|e| backend("signing a URL", e))?;
            Ok(Some(url.to_string()))
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

/// Which store to use, from `AGORA_STORAGE_URL` and its companions.
#[derive(Debug, Clone)]
pub enum StorageSettings {
    Local { root: PathBuf },
    S3(S3Settings),
}

impl StorageSettings {
    /// `file:///absolute/dir` or `s3://bucket`; for S3 the other settings must be given (the
    /// region defaults to `us-east-1`, which S3-compatible servers accept). The error names the
    /// setting that is wrong.
    pub fn from_url(
        url: &str,
        endpoint: Option<String>,
        region: Option<String>,
        access_key_id: Option<String>,
        secret_access_key: Option<SecretString>,
    ) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("file://") {
            if !path.starts_with('/') {
                return Err(
                    "AGORA_STORAGE_URL: file:// needs an absolute path, e.g. file:///var/lib/agora/files".into()
                );
            }
            return Ok(StorageSettings::Local { root: PathBuf::from(path) });
        }
        if let Some(bucket) = url.strip_prefix("s3://") {
            let bucket = bucket.trim_end_matches('/');
            let valid = (3..=63).contains(&bucket.len())
                && bucket.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
            if !valid {
                return Err("AGORA_STORAGE_URL: s3://<bucket> with a bucket name of 3–63 lower-case letters, digits, '-' or '.'".into());
            }
            let access_key_id = access_key_id.ok_or("AGORA_S3_ACCESS_KEY_ID is required with an s3:// storage URL")?;
            let secret_access_key =
                secret_access_key.ok_or("AGORA_S3_SECRET_ACCESS_KEY is required with an s3:// storage URL")?;
            return Ok(StorageSettings::S3(S3Settings {
                bucket: bucket.to_string(),
                endpoint,
                region: region.unwrap_or_else(|| "us-east-1".into()),
                access_key_id,
                secret_access_key,
            }));
        }
        Err("AGORA_STORAGE_URL: file:///path or s3://bucket".into())
    }

    pub async fn open(&self) -> Result<Arc<dyn FileStorage>, StorageError> {
        Ok(match self {
            StorageSettings::Local { root } => Arc::new(LocalDirectory::open(root).await?),
            StorageSettings::S3(s3) => Arc::new(S3Storage::new(s3)?),
        })
    }
}

/// Where the binary keeps its data when `AGORA_DATA_DIR` is not set.
pub const DEFAULT_DATA_DIR: &str = "./data";

/// The file store: a directory under the data directory unless `AGORA_STORAGE_URL` says
/// otherwise. The S3 settings count only with an `s3://` URL.
impl crate::settings::Settings for StorageSettings {
    const KEYS: &'static [&'static str] =
        &["storage_url", "s3_endpoint", "s3_region", "s3_access_key_id", "s3_secret_access_key"];

    fn load(src: &crate::settings::Source<'_>) -> Result<Self, crate::settings::SettingsError> {
        use crate::settings::SettingsError;
        let Some((url, name)) = src.raw("AGORA_STORAGE_URL") else {
            let data_dir = src.raw("AGORA_DATA_DIR").map_or_else(|| DEFAULT_DATA_DIR.to_string(), |(v, _)| v);
            return Ok(StorageSettings::Local { root: PathBuf::from(data_dir).join("files") });
        };
        let endpoint = match src.raw("AGORA_S3_ENDPOINT") {
            Some((v, name)) if !(v.starts_with("http://") || v.starts_with("https://")) => {
                return Err(SettingsError::invalid(name, v, "expected an http(s) URL"))
            }
            other => other.map(|(v, _)| v),
        };
        let value = |key: &str| src.raw(key).map(|(v, _)| v);
        StorageSettings::from_url(
            &url,
            endpoint,
            value("AGORA_S3_REGION"),
            value("AGORA_S3_ACCESS_KEY_ID"),
            value("AGORA_S3_SECRET_ACCESS_KEY").map(SecretString::from),
        )
        .map_err(|message| SettingsError::invalid(name, url, message.trim_start_matches("AGORA_STORAGE_URL: ")))
    }
}

/// The store the configuration names, opened on first use: opening a local directory creates
/// it, which a command that never stores a file (`agora openapi`) must not do. Cheap to clone;
/// clones share the opened store.
#[derive(Clone)]
pub struct ConfiguredStorage {
    settings: StorageSettings,
    opened: Arc<tokio::sync::OnceCell<Arc<dyn FileStorage>>>,
}

impl ConfiguredStorage {
    pub fn new(settings: StorageSettings) -> Self {
        Self { settings, opened: Arc::default() }
    }

    pub fn settings(&self) -> &StorageSettings {
        &self.settings
    }

    /// The store; a failure to open it is retried on the next call.
    pub async fn get(&self) -> Result<Arc<dyn FileStorage>, StorageError> {
        self.opened.get_or_try_init(|| self.settings.open()).await.cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_configured_store_is_opened_once_on_first_use() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("files");
        let storage = ConfiguredStorage::new(StorageSettings::Local { root: root.clone() });
        assert!(!root.exists(), "nothing is created before a file is stored");
        let first = storage.get().await.unwrap();
        assert!(root.exists());
        let second = storage.clone().get().await.unwrap();
        assert!(Arc::ptr_eq(&first, &second), "clones share the one opened store");
    }

    #[test]
    fn keys_cannot_leave_their_folder() {
        for good in ["a", "products/0190/photo.jpg", "a-b_c.d/e", "x".repeat(128).as_str()] {
            assert!(FileKey::parse(good).is_ok(), "{good:?}");
        }
        for bad in [
            "",
            "/etc/passwd",
            "../secret",
            "a/../../b",
            "a/./b",
            "a//b",
            "a/",
            ".meta/x",
            ".tmp",
            "a/.hidden",
            "a\\..\\b",
            "a b",
            "a%2F..",
            "caf\u{e9}",
            "a\0b",
            "x".repeat(129).as_str(),
        ] {
            assert!(matches!(FileKey::parse(bad), Err(StorageError::InvalidKey(_))), "{bad:?}");
        }
        let folder = FileKey::parse("t_acme").unwrap();
        let key = folder.join(&FileKey::parse("a/b.png").unwrap()).unwrap();
        assert_eq!(key.as_str(), "t_acme/a/b.png");
        assert_eq!(key.strip_folder(&folder).map(|k| k.0), Some("a/b.png".into()));
        assert_eq!(FileKey::parse("t_acmex/a").unwrap().strip_folder(&folder), None);
    }

    #[test]
    fn storage_urls() {
        let secret = || Some(SecretString::from("s"));
        assert!(matches!(
            StorageSettings::from_url("file:///var/files", None, None, None, None),
            Ok(StorageSettings::Local { root }) if root == Path::new("/var/files")
        ));
        assert!(StorageSettings::from_url("file://relative", None, None, None, None).is_err());
        let s3 = StorageSettings::from_url(
            "s3://media",
            Some("http://127.0.0.1:9000".into()),
            None,
            Some("k".into()),
            secret(),
        );
        assert!(
            matches!(s3, Ok(StorageSettings::S3(S3Settings { ref bucket, ref region, .. })) if bucket == "media" && region == "us-east-1")
        );
        let missing = StorageSettings::from_url("s3://media", None, None, None, secret()).unwrap_err();
        assert!(missing.contains("AGORA_S3_ACCESS_KEY_ID"), "{missing}");
        assert!(StorageSettings::from_url("s3://Bad_Bucket", None, None, Some("k".into()), secret()).is_err());
        assert!(StorageSettings::from_url("ftp://x", None, None, None, None).is_err());
    }

    #[test]
    fn errors_map_to_statuses() {
        let status = |e: StorageError| ApiError::from(e).status().as_u16();
        assert_eq!(status(StorageError::NotFound("k".into())), 404);
        assert_eq!(status(StorageError::TooLarge { limit: 1 }), 413);
        assert_eq!(status(StorageError::InvalidKey("k".into())), 422);
        assert_eq!(status(StorageError::InvalidContentType("c".into())), 422);
        assert_eq!(status(StorageError::Upload(std::io::Error::other("x"))), 400);
        assert_eq!(status(StorageError::Backend("disk full".into())), 503);
    }
}
