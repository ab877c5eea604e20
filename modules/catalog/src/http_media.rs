//! Product media over HTTP: the back office under `/api/v1/admin/catalog/products/{id}/media`
//! (reads need `catalog.read`, writes `catalog.manage`) and the files shoppers load under
//! `/api/v1/store/catalog/media/{media_id}/{width}`.
//!
//! Files are streamed by this server from the configured storage in both storage modes (local
//! directory and S3), never answered with a redirect to a presigned URL: a presigned URL expires,
//! so it could not be cached for a year, and the S3 endpoint may not be reachable by shoppers.
//! A file's URL never changes what it serves (a new image is a new medium with a new id), so
//! shoppers' files are `Cache-Control: public, max-age=31536000, immutable`.

use crate::http::SCOPE;
use crate::{
    CatalogModule, MediaFile, MediaId, MediaOrder, MediaPatch, MediaUpload, ProductId, ProductMedia, ProductMediaList,
};
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, Responder};
use agora_kernel::areas::Area;
use agora_kernel::images::ImageUpload;
use agora_kernel::storage::ConfiguredStorage;
use agora_kernel::{perm, Acting, ApiError, Authorized, Created, IfMatch, TenantContext, Versioned};
use paperclip::actix::{api_v2_operation, web, NoContent, OperationModifier};
use paperclip::v2::models::DefaultOperationRaw;

/// Shoppers' copies of a file live as long as a browser or CDN keeps them.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Staff's files are behind a sign-in: nobody else may keep them.
const STAFF_ONLY: &str = "private, no-store";

fn acting(auth: &Authorized<impl Sized>, req: &HttpRequest) -> Acting {
    Acting::new(auth.actor(), agora_kernel::http::client_addr(req).map(|ip| ip.to_string()))
}

fn media_location(media: &ProductMedia) -> String {
    Area::Admin.path(&format!("{SCOPE}/products/{}/media/{}", media.product_id, media.id))
}

/// Upload an image of a product. The body is the file's bytes (not a multipart form), sent with
/// its type (`Content-Type: image/jpeg`, `image/png`, `image/webp` or `image/gif`); the type is
/// recognised from the bytes, whatever the header says. At most 20 MiB and 12 000 px a side:
/// a larger body is refused with 413 while it streams in; a file that is not an image, is damaged
/// or has too many pixels is a 422 naming `file`. `alt` (in `locale`, default the shop's
/// language) and `variant_id` are optional query parameters. The image starts `processing`; its
/// thumbnails are made in the background and it becomes `ready`.
// The upload needs the body, the storage and every parameter of the operation at once.
#[allow(clippy::too_many_arguments)]
#[api_v2_operation(tags(Admin), operation_id = "uploadProductMedia")]
async fn upload_media(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    storage: web::Data<ConfiguredStorage>,
    product_id: web::Path<ProductId>,
    query: web::Query<MediaUpload>,
    upload: ImageUpload,
) -> Result<Created<ProductMedia>, ApiError> {
    let acting = acting(&auth, &req);
    let media = module
        .add_media(
            &tenant,
            &storage,
            product_id.into_inner(),
            query.into_inner(),
            upload.body,
            upload.declared_length,
            &acting,
        )
        .await?;
    let (version, location) = (media.version, media_location(&media));
    Ok(Created::located(media, version, location))
}

/// A product's images in order; the ETag is the product's version (`If-Match` of a reorder).
#[api_v2_operation(tags(Admin), operation_id = "listProductMedia")]
async fn list_media(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    product_id: web::Path<ProductId>,
) -> Result<Versioned<ProductMediaList, 200>, ApiError> {
    let list = module.product_media(&tenant, product_id.into_inner()).await?;
    let version = list.product_version;
    Ok(Versioned::new(list, version))
}

/// Put a product's images in a new order: `media_ids` lists every image of the product once
/// (422 otherwise). `If-Match` is the product's ETag (from the list).
#[api_v2_operation(tags(Admin), operation_id = "reorderProductMedia")]
async fn reorder_media(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    product_id: web::Path<ProductId>,
    body: web::Json<MediaOrder>,
) -> Result<Versioned<ProductMediaList, 200>, ApiError> {
    let acting = acting(&auth, &req);
    let list = module.reorder_media(&tenant, product_id.into_inner(), body.into_inner(), if_match.0, &acting).await?;
    let version = list.product_version;
    Ok(Versioned::new(list, version))
}

/// One image of a product; its ETag is the image's version.
#[api_v2_operation(tags(Admin), operation_id = "getProductMedia")]
async fn get_media(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    path: web::Path<(ProductId, MediaId)>,
) -> Result<Versioned<ProductMedia, 200>, ApiError> {
    let (product_id, id) = path.into_inner();
    let media = module.media(&tenant, product_id, id).await?;
    let version = media.version;
    Ok(Versioned::new(media, version))
}

/// Change an image's alt text (every language at once) or the variant it shows; `If-Match` is
/// the image's ETag.
#[api_v2_operation(tags(Admin), operation_id = "updateProductMedia")]
async fn update_media(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    path: web::Path<(ProductId, MediaId)>,
    body: web::Json<MediaPatch>,
) -> Result<Versioned<ProductMedia, 200>, ApiError> {
    let (product_id, id) = path.into_inner();
    let acting = acting(&auth, &req);
    let media = module.update_media(&tenant, product_id, id, body.into_inner(), if_match.0, &acting).await?;
    let version = media.version;
    Ok(Versioned::new(media, version))
}

/// Delete an image: shoppers no longer get it (404) and its files are removed from storage in
/// the background. `If-Match` is the image's ETag.
#[api_v2_operation(tags(Admin), operation_id = "deleteProductMedia")]
async fn delete_media(
    auth: Authorized<perm::CatalogManage>,
    req: HttpRequest,
    tenant: TenantContext,
    if_match: IfMatch,
    module: web::Data<CatalogModule>,
    path: web::Path<(ProductId, MediaId)>,
) -> Result<NoContent, ApiError> {
    let (product_id, id) = path.into_inner();
    module.delete_media(&tenant, product_id, id, if_match.0, &acting(&auth, &req)).await?;
    Ok(NoContent)
}

/// A file of an image for staff (drafts included): `original`, or a thumbnail by its width.
#[api_v2_operation(
    tags(Admin),
    operation_id = "getProductMediaFile",
    produces = "image/jpeg, image/png, image/webp, image/gif"
)]
async fn admin_media_file(
    _auth: Authorized<perm::CatalogRead>,
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    storage: web::Data<ConfiguredStorage>,
    path: web::Path<(ProductId, MediaId, String)>,
) -> Result<FileResponse<false>, ApiError> {
    let (product_id, id, name) = path.into_inner();
    Ok(FileResponse(module.media_file(&tenant, &storage, product_id, id, &name).await?))
}

/// A product image as shoppers load it, by one of the widths its `images` list: only ready
/// images of visible products (404 for a deleted image, a draft product's, or another shop's).
/// Streamed from storage with `Cache-Control: public, max-age=31536000, immutable`.
#[api_v2_operation(tags(Store), operation_id = "getStoreMediaFile", produces = "image/jpeg, image/webp")]
async fn store_media_file(
    tenant: TenantContext,
    module: web::Data<CatalogModule>,
    storage: web::Data<ConfiguredStorage>,
    path: web::Path<(MediaId, String)>,
) -> Result<FileResponse<true>, ApiError> {
    let (id, width) = path.into_inner();
    Ok(FileResponse(module.store_media_file(&tenant, &storage, id, &width).await?))
}

/// An image file streamed as it is read from storage; `PUBLIC` decides who may cache it.
pub(crate) struct FileResponse<const PUBLIC: bool>(MediaFile);

impl<const PUBLIC: bool> Responder for FileResponse<PUBLIC> {
    type Body = actix_web::body::BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse {
        let file = self.0;
        HttpResponse::Ok()
            .content_type(file.content_type)
            .insert_header((header::CACHE_CONTROL, if PUBLIC { IMMUTABLE } else { STAFF_ONLY }))
            .no_chunking(file.size)
            .streaming(file.body)
    }
}

impl<const PUBLIC: bool> paperclip::v2::schema::Apiv2Schema for FileResponse<PUBLIC> {}

impl<const PUBLIC: bool> OperationModifier for FileResponse<PUBLIC> {
    fn update_response(op: &mut DefaultOperationRaw) {
        use paperclip::v2::models::{DataType, DataTypeFormat, DefaultSchemaRaw, Either, Response};
        // Cache-Control is named in the description: a documented header comes out of the
        // conversion to OpenAPI 3 without a schema.
        let cache = if PUBLIC { IMMUTABLE } else { STAFF_ONLY };
        op.responses.insert(
            "200".into(),
            Either::Right(Response {
                description: Some(format!("The image's bytes, in its content type; Cache-Control: {cache}")),
                schema: Some(DefaultSchemaRaw {
                    data_type: Some(DataType::String),
                    format: Some(DataTypeFormat::Binary),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        );
    }
}

/// Mounted inside the catalog's admin scope. `…/media/order` comes before `…/media/{media_id}`:
/// actix gives a path to the first resource whose pattern matches.
pub(crate) fn admin_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/products/{product_id}/media")
            .route(web::post().to(upload_media))
            .route(web::get().to(list_media)),
    )
    .service(web::resource("/products/{product_id}/media/order").route(web::put().to(reorder_media)))
    .service(
        web::resource("/products/{product_id}/media/{media_id}")
            .route(web::get().to(get_media))
            .route(web::patch().to(update_media))
            .route(web::delete().to(delete_media)),
    )
    .service(
        web::resource("/products/{product_id}/media/{media_id}/files/{name}").route(web::get().to(admin_media_file)),
    );
}

/// Mounted inside the catalog's storefront scope.
pub(crate) fn store_routes(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/media/{media_id}/{width}").route(web::get().to(store_media_file)));
}
