use agora_kernel::error::{ApiError, CommonError, ErrorKind};

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
    /// A discount code another promotion (or this one) of the shop holds already.
    #[error("the code {code} is taken")]
    CodeTaken { field: String, code: String },
    /// A promotion's use could not be counted: its code is used up, or the customer's uses are.
    #[error("the promotion cannot be used: {reason}")]
    PromotionRefused { reason: crate::CodeRejection },
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
            PricingError::TaxClassLocked(why) => ApiError::new(ErrorKind::Conflict, "tax-class-locked", why),
            PricingError::Catalog(catalog) => ApiError::from(*catalog),
            PricingError::Customers(customers) => ApiError::from(*customers),
            PricingError::CodeTaken { ref field, .. } => {
                let detail = e.to_string();
                ApiError::new(ErrorKind::Conflict, "promotion-code-taken", detail.clone())
                    .with_field(field.clone(), detail)
            }
            PricingError::PromotionRefused { reason } => ApiError::new(
                ErrorKind::Conflict,
                format!("promotion-{}", reason.as_str().replace('_', "-")),
                e.to_string(),
            ),
            PricingError::Common(common) => ApiError::from(common),
        }
    }
}
