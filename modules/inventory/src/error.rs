use crate::ReservationStatus;
use agora_kernel::error::{ApiError, CommonError, ErrorKind};

/// What can go wrong with stock, in the merchant's words.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("no such stock location")]
    LocationNotFound { field: Option<String> },
    #[error("no such variant in the catalog")]
    VariantNotFound { field: Option<String> },
    #[error("no such reservation")]
    ReservationNotFound,
    #[error("no such transfer")]
    TransferNotFound,
    /// Not enough stock available to sell (on hand − reserved − safety stock) where it may come from.
    #[error("only {available} of the {requested} asked for are available")]
    OutOfStock { field: String, requested: i32, available: i32 },
    /// The reservation was committed, released or has expired.
    #[error("the reservation is {status}")]
    ReservationNotActive { status: ReservationStatus },
    /// The transfer was received or cancelled already.
    #[error("the transfer is {status} already")]
    TransferClosed { status: crate::TransferStatus },
    /// On hand cannot go below what is reserved (or below zero).
    #[error("{reserved} units are reserved here: on hand cannot go below that")]
    BelowReserved { field: String, reserved: i32 },
    #[error("another stock location is called {0}")]
    LocationNameTaken(String),
    #[error("the location still holds or has reserved stock: move or count it out first")]
    LocationHoldsStock,
    /// Bad input, a stale If-Match, the database.
    #[error(transparent)]
    Common(#[from] CommonError),
}

agora_kernel::common_error!(InventoryError);

impl InventoryError {
    /// Bad input in one field.
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        InventoryError::Common(CommonError::field(field, message))
    }
}

impl From<InventoryError> for ApiError {
    fn from(e: InventoryError) -> Self {
        let detail = e.to_string();
        match e {
            InventoryError::LocationNotFound { field: None } => {
                ApiError::new(ErrorKind::NotFound, "location-not-found", detail)
            }
            // A location named in a body is bad input, not a missing resource at the URL.
            InventoryError::LocationNotFound { field: Some(field) } => ApiError::field(field, "no such stock location"),
            InventoryError::VariantNotFound { field: None } => {
                ApiError::new(ErrorKind::NotFound, "variant-not-found", detail)
            }
            InventoryError::VariantNotFound { field: Some(field) } => {
                ApiError::field(field, "no such variant in the catalog")
            }
            InventoryError::ReservationNotFound => ApiError::new(ErrorKind::NotFound, "reservation-not-found", detail),
            InventoryError::TransferNotFound => ApiError::new(ErrorKind::NotFound, "transfer-not-found", detail),
            InventoryError::OutOfStock { field, .. } => {
                ApiError::new(ErrorKind::Conflict, "out-of-stock", detail.clone()).with_field(field, detail)
            }
            InventoryError::ReservationNotActive { status } => {
                ApiError::new(ErrorKind::Conflict, format!("reservation-{status}"), detail)
            }
            InventoryError::TransferClosed { status } => {
                ApiError::new(ErrorKind::Conflict, format!("transfer-{status}"), detail)
            }
            InventoryError::BelowReserved { field, .. } => {
                ApiError::new(ErrorKind::Conflict, "stock-reserved", detail.clone()).with_field(field, detail)
            }
            InventoryError::LocationNameTaken(_) => {
                ApiError::new(ErrorKind::Conflict, "location-name-taken", detail.clone()).with_field("name", detail)
            }
            InventoryError::LocationHoldsStock => ApiError::new(ErrorKind::Conflict, "location-holds-stock", detail),
            InventoryError::Common(common) => ApiError::from(common),
        }
    }
}
