//! Images shops upload: accepted only when they really are one, and turned into thumbnails by a
//! background job.
//!
//! - **What counts as an image** is decided from the bytes: the signature must be JPEG, PNG, WebP
//!   or GIF, the header's dimensions must be within [`ImageLimits`] (a 100 000 × 100 000 PNG is a
//!   few hundred bytes on the wire and 40 GB in memory: refused before any pixel is decoded), and
//!   the whole image must decode (a truncated or corrupt file is refused). The client's content
//!   type and file name are never consulted; the stored content type is the sniffed one.
//! - **Size** is enforced while the upload streams in ([`read_upload`]): a declared
//!   `Content-Length` past the limit is refused before a byte is read, and a body without one is
//!   refused as soon as it passes the limit, so a 2 GB upload never gets buffered.
//! - **Thumbnails** ([`MakeThumbnails`], a job) are decoded from the original and re-encoded
//!   from pixels only, so no metadata (EXIF with GPS positions, comments, colour profiles, scripts
//!   hidden in chunks) reaches them. Widths are [`THUMBNAIL_WIDTHS`] unless the job names others,
//!   never wider than the original (no upscaling). Opaque images become JPEG, images with
//!   transparency lossless WebP. Keys are `<folder>/<width>.<jpg|webp>`, so running the job again
//!   rewrites the same files.
//!
//! ```ignore
//! // The upload handler (catalog): stream in, check, store the original under its sniffed type.
//! let image = images::accept(payload, images::declared_length(&req), &ImageLimits::default()).await?;
//! files.put(&original, image.kind.content_type(), storage::bytes_stream(image.bytes), limits.max_bytes).await?;
//! // …then, in the same transaction as the media row:
//! tx.enqueue(&MakeThumbnails::new(media_id, &original, &folder), Default::default()).await?;
//! ```

use crate::error::{ApiError, ErrorKind};
use crate::jobs::{Job, JobContext, JobError};
use crate::storage::{bytes_stream, ConfiguredStorage, FileKey, StorageError, TenantFiles};
use bytes::{Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use image::{DynamicImage, ImageDecoder, ImageReader};
use serde::{Deserialize, Serialize};
use std::io::Cursor;

/// The widths thumbnails are made in, in pixels.
pub const THUMBNAIL_WIDTHS: [u32; 4] = [160, 480, 960, 1600];
/// JPEG quality of thumbnails: visually clean at storefront sizes, a third of quality 95's bytes.
const JPEG_QUALITY: u8 = 82;

/// How big an accepted image may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Bytes of the uploaded file.
    pub max_bytes: u64,
    pub max_width: u32,
    pub max_height: u32,
    /// Width × height: what decoding costs in memory (4 bytes a pixel).
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        Self { max_bytes: 20 * 1024 * 1024, max_width: 12_000, max_height: 12_000, max_pixels: 50_000_000 }
    }
}

/// The formats shops may upload, recognised by their signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageKind {
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl ImageKind {
    pub fn content_type(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "image/jpeg",
            ImageKind::Png => "image/png",
            ImageKind::Webp => "image/webp",
            ImageKind::Gif => "image/gif",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageKind::Jpeg => "jpg",
            ImageKind::Png => "png",
            ImageKind::Webp => "webp",
            ImageKind::Gif => "gif",
        }
    }

    fn format(self) -> image::ImageFormat {
        match self {
            ImageKind::Jpeg => image::ImageFormat::Jpeg,
            ImageKind::Png => image::ImageFormat::Png,
            ImageKind::Webp => image::ImageFormat::WebP,
            ImageKind::Gif => image::ImageFormat::Gif,
        }
    }
}

/// The format whose signature `bytes` start with, if it is one we accept.
pub fn sniff(bytes: &[u8]) -> Option<ImageKind> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(ImageKind::Jpeg)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(ImageKind::Png)
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some(ImageKind::Gif)
    } else if bytes.len() >= 12 && bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        Some(ImageKind::Webp)
    } else {
        None
    }
}

/// Why an image was refused or could not be processed.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the file is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the file is not a JPEG, PNG, WebP or GIF image")]
    NotAnImage,
    #[error("the image is damaged or incomplete: {0}")]
    Damaged(String),
    #[error(
        "the image is {width} × {height} pixels, more than allowed ({max_width} × {max_height}, {max_pixels} pixels)"
    )]
    TooManyPixels { width: u32, height: u32, max_width: u32, max_height: u32, max_pixels: u64 },
    #[error("the upload broke off: {0}")]
    Upload(String),
    #[error("thumbnail encoding failed: {0}")]
    Encoding(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// The form field an upload's problems are reported under.
pub const FILE_FIELD: &str = "file";

impl From<ImageError> for ApiError {
    fn from(e: ImageError) -> Self {
        match e {
            // Same problem type as the storage port's limit, so clients see one kind of 413.
            ImageError::TooLarge { .. } => ApiError::new(ErrorKind::PayloadTooLarge, "file-too-large", e.to_string()),
            ImageError::NotAnImage | ImageError::Damaged(_) | ImageError::TooManyPixels { .. } => {
                ApiError::field(FILE_FIELD, e.to_string())
            }
            ImageError::Upload(cause) => {
                ApiError::bad_request("upload-broken", "the upload broke off before it was complete")
                    .with_internal(cause)
            }
            ImageError::Encoding(cause) => ApiError::internal(cause),
            ImageError::Storage(e) => e.into(),
        }
    }
}

/// The `Content-Length` a request declares, if any (a hint to refuse early, never trusted as the
/// real size).
pub fn declared_length(req: &actix_web::HttpRequest) -> Option<u64> {
    req.headers().get(actix_web::http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// Reads an upload into memory, refusing it as soon as it is known to pass `max_bytes`: at once
/// when its declared length does, else when the bytes read so far do. What was not read is never
/// read (the caller answers 413 and the connection is closed).
pub async fn read_upload<S, E>(body: S, declared: Option<u64>, max_bytes: u64) -> Result<Bytes, ImageError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    if declared.is_some_and(|length| length > max_bytes) {
        return Err(ImageError::TooLarge { limit: max_bytes });
    }
    let capacity = usize::try_from(declared.unwrap_or(64 * 1024).min(max_bytes)).unwrap_or(0);
    let mut buffer = BytesMut::with_capacity(capacity);
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| ImageError::Upload(e.to_string()))?;
        if (buffer.len() as u64).saturating_add(chunk.len() as u64) > max_bytes {
            return Err(ImageError::TooLarge { limit: max_bytes });
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(buffer.freeze())
}

/// An image upload as a handler takes it: the request's raw body, not read yet (pass it to
/// [`accept`]), and its declared length. In the contract it is a required body of JPEG, PNG,
/// WebP or GIF bytes; the client's `Content-Type` is documented but never trusted.
pub struct ImageUpload {
    pub body: actix_web::dev::Payload,
    pub declared_length: Option<u64>,
}

/// The media types an upload may be sent as (whatever is sent, the bytes decide).
pub const UPLOAD_MEDIA_TYPES: [&str; 4] = ["image/jpeg", "image/png", "image/webp", "image/gif"];

impl actix_web::FromRequest for ImageUpload {
    type Error = actix_web::Error;
    type Future = std::future::Ready<Result<Self, actix_web::Error>>;

    fn from_request(req: &actix_web::HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Ok(ImageUpload { body: payload.take(), declared_length: declared_length(req) }))
    }
}

impl paperclip::v2::schema::Apiv2Schema for ImageUpload {}

impl paperclip::actix::OperationModifier for ImageUpload {
    fn update_parameter(op: &mut paperclip::v2::models::DefaultOperationRaw) {
        let description = "The image file itself as the body (not a form): JPEG, PNG, WebP or GIF, recognised from \
                           its bytes. Too large: 413 while it streams in; not an image, damaged or too many pixels: \
                           422 naming `file`. Sent with an Idempotency-Key, a body over AGORA_MAX_BODY_BYTES \
                           (1 MiB by default) is refused 413 `idempotency-body-too-large`: send large files \
                           without the key.";
        op.parameters
            .push(paperclip::v2::models::Either::Right(crate::openapi::raw_body(description, &UPLOAD_MEDIA_TYPES)));
    }
}

/// An upload that is a real image within the limits.
#[derive(Debug, Clone)]
pub struct CheckedImage {
    pub kind: ImageKind,
    pub width: u32,
    pub height: u32,
    pub bytes: Bytes,
}

/// Reads the upload ([`read_upload`]) and checks it ([`check`]) off the async threads.
pub async fn accept<S, E>(body: S, declared: Option<u64>, limits: &ImageLimits) -> Result<CheckedImage, ImageError>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: std::fmt::Display,
{
    let bytes = read_upload(body, declared, limits.max_bytes).await?;
    let limits = *limits;
    tokio::task::spawn_blocking(move || check(bytes, &limits))
        .await
        .map_err(|e| ImageError::Encoding(format!("the image check stopped: {e}")))?
}

/// Whether `bytes` are an image we accept: signature, dimensions from the header (before any
/// pixel is decoded), then a full decode. CPU-bound: call it off the async threads.
pub fn check(bytes: Bytes, limits: &ImageLimits) -> Result<CheckedImage, ImageError> {
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ImageError::TooLarge { limit: limits.max_bytes });
    }
    let (kind, _) = decode(&bytes, limits)?;
    let (width, height) = dimensions(&bytes, kind)?;
    Ok(CheckedImage { kind, width, height, bytes })
}

fn dimensions(bytes: &[u8], kind: ImageKind) -> Result<(u32, u32), ImageError> {
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    // Only the header is read here; the limits are applied by the caller right after.
    reader.no_limits();
    reader.into_dimensions().map_err(|e| ImageError::Damaged(e.to_string()))
}

/// Sniffs, checks the header's dimensions, then decodes (upright, per the EXIF orientation).
fn decode(bytes: &[u8], limits: &ImageLimits) -> Result<(ImageKind, DynamicImage), ImageError> {
    let kind = sniff(bytes).ok_or(ImageError::NotAnImage)?;
    let (width, height) = dimensions(bytes, kind)?;
    if width == 0
        || height == 0
        || width > limits.max_width
        || height > limits.max_height
        || u64::from(width) * u64::from(height) > limits.max_pixels
    {
        if width == 0 || height == 0 {
            return Err(ImageError::Damaged("the image has no pixels".into()));
        }
        return Err(ImageError::TooManyPixels {
            width,
            height,
            max_width: limits.max_width,
            max_height: limits.max_height,
            max_pixels: limits.max_pixels,
        });
    }
    if kind == ImageKind::Jpeg && !jpeg_is_complete(bytes) {
        // Some JPEG decoders fill a cut-off scan with grey instead of failing.
        return Err(ImageError::Damaged("the JPEG ends before its image data does".into()));
    }
    let mut reader = ImageReader::with_format(Cursor::new(bytes), kind.format());
    let mut decoding = image::Limits::default();
    decoding.max_image_width = Some(limits.max_width);
    decoding.max_image_height = Some(limits.max_height);
    // RGBA at 16 bits a channel is the widest a decoder produces, plus room for its own buffers.
    decoding.max_alloc = Some(limits.max_pixels.saturating_mul(8).saturating_add(64 * 1024 * 1024));
    reader.limits(decoding);
    let mut decoder = reader.into_decoder().map_err(decode_error)?;
    let orientation = decoder.orientation().ok();
    let mut image = DynamicImage::from_decoder(decoder).map_err(decode_error)?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok((kind, image))
}

fn decode_error(e: image::ImageError) -> ImageError {
    ImageError::Damaged(e.to_string())
}

/// A JPEG's last end-of-image marker comes after its last start-of-scan: a file cut inside its
/// image data has none after it (an embedded EXIF thumbnail's comes before the main scan).
fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|w| w == [0xFF, marker]);
    match (last(0xD9), last(0xDA)) {
        (Some(end), Some(scan)) => end > scan,
        _ => false,
    }
}

/// One rendered thumbnail.
#[derive(Debug, Clone)]
pub struct Thumbnail {
    pub width: u32,
    pub height: u32,
    pub content_type: &'static str,
    pub extension: &'static str,
    pub bytes: Bytes,
}

/// The widths actually made for an original `original_width` wide: each of `widths`, capped at
/// the original's (never upscaled), without repeats, smallest first.
pub fn planned_widths(original_width: u32, widths: &[u32]) -> Vec<u32> {
    let mut planned: Vec<u32> = widths.iter().filter(|w| **w > 0).map(|w| (*w).min(original_width)).collect();
    planned.sort_unstable();
    planned.dedup();
    planned
}

/// Decodes `bytes` and renders a thumbnail per planned width. CPU-bound: off the async threads.
pub fn render_thumbnails(bytes: &[u8], widths: &[u32], limits: &ImageLimits) -> Result<Vec<Thumbnail>, ImageError> {
    let (_, image) = decode(bytes, limits)?;
    let transparent = image.color().has_alpha() && image.to_rgba8().pixels().any(|p| p.0[3] < 255);
    planned_widths(image.width(), widths)
        .into_iter()
        .map(|width| {
            let height = u32::try_from(u64::from(image.height()) * u64::from(width) / u64::from(image.width().max(1)))
                .unwrap_or(u32::MAX)
                .max(1);
            let resized = if width == image.width() {
                image.clone()
            } else {
                image.resize_exact(width, height, image::imageops::FilterType::CatmullRom)
            };
            let mut out = Vec::new();
            let (content_type, extension) = if transparent {
                let rgba = resized.to_rgba8();
                image::codecs::webp::WebPEncoder::new_lossless(&mut out)
                    .encode(rgba.as_raw(), rgba.width(), rgba.height(), image::ExtendedColorType::Rgba8)
                    .map_err(|e| ImageError::Encoding(e.to_string()))?;
                ("image/webp", "webp")
            } else {
                let rgb = resized.to_rgb8();
                image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, JPEG_QUALITY)
                    .encode(rgb.as_raw(), rgb.width(), rgb.height(), image::ExtendedColorType::Rgb8)
                    .map_err(|e| ImageError::Encoding(e.to_string()))?;
                ("image/jpeg", "jpg")
            };
            Ok(Thumbnail { width, height: resized.height(), content_type, extension, bytes: out.into() })
        })
        .collect()
}

/// A thumbnail as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredThumbnail {
    pub key: String,
    pub width: u32,
    pub height: u32,
    pub content_type: String,
}

/// Reads `original` from the shop's files, renders its thumbnails and writes them under
/// `folder` (`<folder>/<width>.<ext>`), replacing any from an earlier run.
pub async fn make_thumbnails(
    files: &TenantFiles,
    original: &FileKey,
    folder: &FileKey,
    widths: &[u32],
    limits: &ImageLimits,
) -> Result<Vec<StoredThumbnail>, ImageError> {
    let bytes = files.get(original).await?.bytes().await?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(ImageError::TooLarge { limit: limits.max_bytes });
    }
    let (widths, limits) = (widths.to_vec(), *limits);
    let thumbnails = tokio::task::spawn_blocking(move || render_thumbnails(&bytes, &widths, &limits))
        .await
        .map_err(|e| ImageError::Encoding(format!("thumbnail rendering stopped: {e}")))??;
    let mut stored = Vec::with_capacity(thumbnails.len());
    for thumbnail in thumbnails {
        let key = folder.join(&FileKey::parse(&format!("{}.{}", thumbnail.width, thumbnail.extension))?)?;
        let size = thumbnail.bytes.len() as u64;
        files.put(&key, thumbnail.content_type, bytes_stream(thumbnail.bytes), size).await?;
        stored.push(StoredThumbnail {
            key: key.as_str().to_string(),
            width: thumbnail.width,
            height: thumbnail.height,
            content_type: thumbnail.content_type.into(),
        });
    }
    Ok(stored)
}

/// Renders a shop's uploaded image into thumbnails (enqueued by the module that owns the media,
/// in the transaction that records it). Safe to run again: it rewrites the same keys.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MakeThumbnails {
    /// The owner's id for the image, for the logs.
    pub media_id: uuid::Uuid,
    /// The original's key in the shop's files.
    pub original: String,
    /// Where the thumbnails go.
    pub folder: String,
    /// Widths to make; empty means [`THUMBNAIL_WIDTHS`].
    #[serde(default)]
    pub widths: Vec<u32>,
}

impl MakeThumbnails {
    pub fn new(media_id: uuid::Uuid, original: &FileKey, folder: &FileKey) -> Self {
        Self { media_id, original: original.as_str().into(), folder: folder.as_str().into(), widths: Vec::new() }
    }
}

impl Job for MakeThumbnails {
    const KIND: &'static str = "media.make_thumbnails";
    const MAX_ATTEMPTS: i32 = 5;

    async fn run(self, ctx: JobContext) -> Result<(), JobError> {
        let tenant = ctx.tenant.as_ref().ok_or_else(|| JobError::permanent("thumbnails belong to a shop"))?;
        let storage = ctx.resource::<ConfiguredStorage>()?;
        let storage = storage.get().await.map_err(JobError::retry)?;
        let files = TenantFiles::new(storage, &tenant.schema).map_err(JobError::permanent)?;
        let original = FileKey::parse(&self.original).map_err(JobError::permanent)?;
        let folder = FileKey::parse(&self.folder).map_err(JobError::permanent)?;
        let widths = if self.widths.is_empty() { THUMBNAIL_WIDTHS.to_vec() } else { self.widths.clone() };
        match make_thumbnails(&files, &original, &folder, &widths, &ImageLimits::default()).await {
            Ok(stored) => {
                tracing::info!(media = %self.media_id, thumbnails = stored.len(), "thumbnails made");
                Ok(())
            }
            // The media was removed before its thumbnails were made: nothing left to do.
            Err(ImageError::Storage(StorageError::NotFound(_))) => {
                tracing::info!(media = %self.media_id, "original gone; no thumbnails made");
                Ok(())
            }
            Err(e @ (ImageError::NotAnImage | ImageError::Damaged(_) | ImageError::TooManyPixels { .. })) => {
                Err(JobError::permanent(e))
            }
            Err(e @ ImageError::TooLarge { .. }) => Err(JobError::permanent(e)),
            Err(e) => Err(JobError::retry(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_recognised_and_anything_else_is_not() {
        assert_eq!(sniff(&[0xFF, 0xD8, 0xFF, 0xE0]), Some(ImageKind::Jpeg));
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some(ImageKind::Png));
        assert_eq!(sniff(b"GIF89a...."), Some(ImageKind::Gif));
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 "), Some(ImageKind::Webp));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), None, "a WAV is RIFF too");
        assert_eq!(sniff(b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>"), None);
        assert_eq!(sniff(b""), None);
    }

    #[test]
    fn thumbnails_are_never_upscaled() {
        assert_eq!(planned_widths(4000, &THUMBNAIL_WIDTHS), vec![160, 480, 960, 1600]);
        assert_eq!(planned_widths(600, &THUMBNAIL_WIDTHS), vec![160, 480, 600]);
        assert_eq!(planned_widths(100, &THUMBNAIL_WIDTHS), vec![100]);
        assert_eq!(planned_widths(100, &[0]), Vec::<u32>::new());
    }

    #[tokio::test]
    async fn an_upload_past_the_limit_is_refused_before_it_is_read_whole() {
        // A 2 GB body, produced lazily: counting what was pulled proves it was not buffered.
        let pulled = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = pulled.clone();
        let chunk = Bytes::from(vec![0u8; 64 * 1024]);
        let body = futures_util::stream::iter(0..(2u64 << 30) / (64 * 1024)).map(move |_| {
            counter.fetch_add(64 * 1024, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, std::io::Error>(chunk.clone())
        });
        let refused = read_upload(body, None, 1024 * 1024).await;
        assert!(matches!(refused, Err(ImageError::TooLarge { limit: 1_048_576 })));
        assert!(pulled.load(std::sync::atomic::Ordering::SeqCst) <= 1024 * 1024 + 64 * 1024);

        // A declared length past the limit is refused without reading anything.
        let untouched = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"x"))]);
        let refused = read_upload(untouched, Some(2 << 30), 1024).await;
        assert!(matches!(refused, Err(ImageError::TooLarge { .. })));

        let fits = futures_util::stream::iter([Ok::<_, std::io::Error>(Bytes::from_static(b"abc"))]);
        assert_eq!(read_upload(fits, Some(3), 3).await.unwrap(), Bytes::from_static(b"abc"));
    }
}
