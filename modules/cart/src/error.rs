use agora_kernel::error::{ApiError, CommonError, ErrorKind};

/// What can go wrong with a cart, in the shopper's words.
#[derive(Debug, thiserror::Error)]
pub enum CartError {
    /// No open cart answers to this token or account (never says whether others exist).
    #[error("no such cart")]
    CartNotFound,
    #[error("no such line in this cart")]
    LineNotFound,
    /// The variant does not exist, or shoppers cannot buy it (draft, archived, unpublished).
    #[error("this item cannot be bought")]
    NotForSale { field: String },
    /// The variant has no price in the cart's currency.
    #[error("this item has no price in {currency}")]
    NoPrice { field: String, currency: String },
    /// More than the shop has (or may promise) of the variant.
    #[error("only {available} of this item can be bought")]
    NotEnoughStock { field: String, available: i64 },
    /// More of one item than the shop sells at once.
    #[error("at most {max} of one item per cart")]
    QuantityLimit { field: String, max: i32 },
    #[error("a cart holds at most {max} different items")]
    TooManyLines { max: i32 },
    /// A code that does not apply, and why (`unknown`, `expired`, `minimum_not_met`, …).
    #[error("the code {code} cannot be used: {reason}")]
    CodeRejected { code: String, reason: agora_pricing::CodeRejection },
    #[error(transparent)]
    Pricing(Box<agora_pricing::PricingError>),
    #[error(transparent)]
    Catalog(Box<agora_catalog::CatalogError>),
    #[error(transparent)]
    Inventory(Box<agora_inventory::InventoryError>),
    #[error(transparent)]
    Customers(Box<agora_customers::CustomersError>),
    /// Bad input, a stale If-Match, the database.
    #[error(transparent)]
    Common(#[from] CommonError),
}

agora_kernel::common_error!(CartError);

impl CartError {
    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        CartError::Common(CommonError::field(field, message))
    }
}

impl From<agora_pricing::PricingError> for CartError {
    fn from(e: agora_pricing::PricingError) -> Self {
        CartError::Pricing(Box::new(e))
    }
}

impl From<agora_catalog::CatalogError> for CartError {
    fn from(e: agora_catalog::CatalogError) -> Self {
        CartError::Catalog(Box::new(e))
    }
}

impl From<agora_inventory::InventoryError> for CartError {
    fn from(e: agora_inventory::InventoryError) -> Self {
        CartError::Inventory(Box::new(e))
    }
}

impl From<agora_customers::CustomersError> for CartError {
    fn from(e: agora_customers::CustomersError) -> Self {
        CartError::Customers(Box::new(e))
    }
}

impl From<CartError> for ApiError {
    fn from(e: CartError) -> Self {
        let detail = e.to_string();
        match e {
            CartError::CartNotFound => ApiError::new(ErrorKind::NotFound, "cart-not-found", detail),
            CartError::LineNotFound => ApiError::new(ErrorKind::NotFound, "cart-line-not-found", detail),
            CartError::NotForSale { field } => {
                ApiError::new(ErrorKind::Unprocessable, "not-for-sale", detail.clone()).with_field(field, detail)
            }
            CartError::NoPrice { field, .. } => {
                ApiError::new(ErrorKind::Unprocessable, "no-price", detail.clone()).with_field(field, detail)
            }
            CartError::NotEnoughStock { field, .. } => {
                ApiError::new(ErrorKind::Unprocessable, "not-enough-stock", detail.clone()).with_field(field, detail)
            }
            CartError::QuantityLimit { field, .. } => {
                ApiError::new(ErrorKind::Unprocessable, "quantity-limit", detail.clone()).with_field(field, detail)
            }
            CartError::TooManyLines { .. } => ApiError::new(ErrorKind::Unprocessable, "too-many-lines", detail.clone())
                .with_field("variant_id", detail),
            CartError::CodeRejected { reason, .. } => ApiError::new(
                ErrorKind::Unprocessable,
                format!("code-{}", reason.as_str().replace('_', "-")),
                detail.clone(),
            )
            .with_field("code", detail),
            CartError::Pricing(p) => ApiError::from(*p),
            CartError::Catalog(c) => ApiError::from(*c),
            CartError::Inventory(i) => ApiError::from(*i),
            CartError::Customers(c) => ApiError::from(*c),
            CartError::Common(common) => ApiError::from(common),
        }
    }
}
