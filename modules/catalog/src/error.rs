use agora_kernel::error::{ApiError, CommonError, ErrorKind};
use agora_kernel::images::ImageError;
use agora_kernel::storage::StorageError;

/// What can go wrong in the catalog, in the merchant's words.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("no such product")]
    ProductNotFound,
    #[error("no such variant of this product")]
    VariantNotFound,
    #[error("no such category")]
    CategoryNotFound,
    #[error("no such product type")]
    ProductTypeNotFound,
    #[error("no such collection")]
    CollectionNotFound,
    #[error("no such synonym group")]
    SynonymsNotFound,
    #[error("no such image of this product")]
    MediaNotFound,
    /// No such rendering of the image (a width it was not made in, or not made yet).
    #[error("no such file of this image")]
    MediaFileNotFound,
    /// An upload that is not an image, too large, or broke off.
    #[error(transparent)]
    Image(#[from] ImageError),
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// Another live variant of the shop has this SKU.
    #[error("another variant already has the SKU {sku}")]
    SkuTaken { field: String, sku: String },
    /// Another product (or category) answers to this slug.
    #[error("the slug {slug} is already taken")]
    SlugTaken { field: String, slug: String },
    /// Another product type has this name.
    #[error("another product type is called {0}")]
    ProductTypeNameTaken(String),
    /// Live products are of this product type.
    #[error("{products} products are of this product type: give them another type first")]
    ProductTypeInUse { products: i64 },
    /// Bad input, a stale If-Match, the database.
    #[error(transparent)]
    Common(#[from] CommonError),
}

agora_kernel::common_error!(CatalogError);

impl CatalogError {
    /// Bad input in one field.
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        CatalogError::Common(CommonError::field(field, message))
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        let detail = e.to_string();
        match e {
            CatalogError::ProductNotFound => ApiError::new(ErrorKind::NotFound, "product-not-found", detail),
            CatalogError::VariantNotFound => ApiError::new(ErrorKind::NotFound, "variant-not-found", detail),
            CatalogError::CategoryNotFound => ApiError::new(ErrorKind::NotFound, "category-not-found", detail),
            CatalogError::ProductTypeNotFound => ApiError::new(ErrorKind::NotFound, "product-type-not-found", detail),
            CatalogError::CollectionNotFound => ApiError::new(ErrorKind::NotFound, "collection-not-found", detail),
            CatalogError::SynonymsNotFound => ApiError::new(ErrorKind::NotFound, "synonyms-not-found", detail),
            CatalogError::MediaNotFound => ApiError::new(ErrorKind::NotFound, "media-not-found", detail),
            CatalogError::MediaFileNotFound => ApiError::new(ErrorKind::NotFound, "media-file-not-found", detail),
            CatalogError::Image(e) => ApiError::from(e),
            CatalogError::Storage(e) => ApiError::from(e),
            CatalogError::SkuTaken { field, .. } => {
                ApiError::new(ErrorKind::Conflict, "sku-taken", detail.clone()).with_field(field, detail)
            }
            CatalogError::SlugTaken { field, .. } => {
                ApiError::new(ErrorKind::Conflict, "slug-taken", detail.clone()).with_field(field, detail)
            }
            CatalogError::ProductTypeNameTaken(_) => {
                ApiError::new(ErrorKind::Conflict, "product-type-name-taken", detail.clone()).with_field("name", detail)
            }
            CatalogError::ProductTypeInUse { .. } => ApiError::new(ErrorKind::Conflict, "product-type-in-use", detail),
            CatalogError::Common(common) => ApiError::from(common),
        }
    }
}
