use agora_kernel::error::{ApiError, CommonError, ErrorKind};

/// What can go wrong with a shop's webhooks, in the merchant's words.
#[derive(Debug, thiserror::Error)]
pub enum WebhooksError {
    #[error("no such webhook endpoint")]
    EndpointNotFound,
    #[error("no event {0} in this shop")]
    EventNotFound(uuid::Uuid),
    #[error("the webhook endpoint is disabled; enable it first")]
    EndpointDisabled,
    #[error("webhooks failed: {0}")]
    Internal(String),
    /// Bad input, a stale If-Match, the database.
    #[error(transparent)]
    Common(#[from] CommonError),
}

agora_kernel::common_error!(WebhooksError);

impl From<WebhooksError> for ApiError {
    fn from(e: WebhooksError) -> Self {
        match e {
            WebhooksError::EndpointNotFound => {
                ApiError::new(ErrorKind::NotFound, "webhook-endpoint-not-found", e.to_string())
            }
            WebhooksError::EventNotFound(_) => ApiError::new(ErrorKind::NotFound, "event-not-found", e.to_string()),
            WebhooksError::EndpointDisabled => {
                ApiError::new(ErrorKind::Conflict, "webhook-endpoint-disabled", e.to_string())
            }
            WebhooksError::Internal(_) => ApiError::internal(e),
            WebhooksError::Common(common) => ApiError::from(common),
        }
    }
}
