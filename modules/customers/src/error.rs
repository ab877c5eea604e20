use agora_identity::IdentityError;
use agora_kernel::error::{ApiError, CommonError};

/// What can go wrong with a customer's profile, addresses and personal data.
#[derive(Debug, thiserror::Error)]
pub enum CustomersError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("a module holding personal data failed: {0}")]
    PersonalData(#[source] agora_kernel::ports::PortError),
    /// The account side (who the customer is, their credentials), answered by identity.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// Bad input, a stale If-Match, the database.
    #[error(transparent)]
    Common(#[from] CommonError),
}

impl CustomersError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        CustomersError::Common(CommonError::field(field, message))
    }
}

agora_kernel::common_error!(CustomersError);

impl From<CustomersError> for ApiError {
    fn from(e: CustomersError) -> Self {
        match e {
            CustomersError::NotFound(what) => ApiError::not_found(what),
            // A port's failure keeps its kind: the database or a party that is down is a 503.
            CustomersError::PersonalData(port) => ApiError::from(port),
            CustomersError::Identity(identity) => ApiError::from(identity),
            CustomersError::Common(common) => ApiError::from(common),
        }
    }
}
