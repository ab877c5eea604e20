use agora_kernel::error::{ApiError, CommonError};

/// What can go wrong with prices, taxes, shipping and promotions.
#[derive(Debug, thiserror::Error)]
pub enum PricingError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A tax class that cannot go (built in, or shipping is taxed as it).
    #[error("{0}")]
    TaxClassLocked(String),
    /// The catalog refused or failed (price lists read its variants, prices and currencies).
    #[error(transparent)]
    Catalog(Box<agora_catalog::CatalogError>),
    /// The customers module refused or failed (price lists name customer groups).
    #[error(transparent)]
    Customers(Box<agora_customers::CustomersError>),
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
            PricingError::TaxClassLocked(why) => {
                ApiError::new(agora_kernel::ErrorKind::Conflict, "tax-class-locked", why)
            }
            PricingError::Catalog(catalog) => ApiError::from(*catalog),
            PricingError::Customers(customers) => ApiError::from(*customers),
            PricingError::Common(common) => ApiError::from(common),
        }
    }
}
