use agora_kernel::error::{ApiError, CommonError};

/// What can go wrong with prices, taxes, shipping and promotions.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// What pricing asked of the catalog (the shop's currencies, its products).
    #[error(transparent)]
    Catalog(#[from] agora_catalog::CatalogError),
    /// A tax class that cannot go (built in, or shipping is taxed as it).
    #[error("{0}")]
    TaxClassLocked(String),
    /// Bad input, a stale If-Match, the database.
    #[error(transparent)]
    Common(#[from] CommonError),
}

impl PricingError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        PricingError::Common(CommonError::field(field, message))
    }
}

agora_kernel::common_error!(PricingError);

impl From<PricingError> for ApiError {
    fn from(e: PricingError) -> Self {
        match e {
            PricingError::NotFound(what) => ApiError::not_found(what),
            PricingError::Catalog(catalog) => ApiError::from(catalog),
            PricingError::TaxClassLocked(why) => {
                ApiError::new(agora_kernel::ErrorKind::Conflict, "tax-class-locked", why)
            }
            PricingError::Common(common) => ApiError::from(common),
        }
    }
}
