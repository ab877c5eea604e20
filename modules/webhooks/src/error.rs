use agora_kernel::error::{ApiError, ErrorKind, FieldError};
use agora_kernel::DbError;

/// What can go wrong with a shop's webhooks, in the merchant's words.
#[derive(Debug, thiserror::Error)]
pub enum WebhooksError {
    #[error("invalid webhook endpoint: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("no such webhook endpoint")]
    EndpointNotFound,
    #[error("no event {0} in this shop")]
    EventNotFound(uuid::Uuid),
    #[error("the webhook endpoint is disabled; enable it first")]
    EndpointDisabled,
    #[error("the webhook endpoint changed since it was read (you have version {expected}, current is {current}); reload and retry")]
    VersionConflict { expected: i64, current: i64 },
    #[error("webhooks failed: {0}")]
    Internal(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for WebhooksError {
    fn from(e: diesel::result::Error) -> Self {
        WebhooksError::Db(DbError::Query(e))
    }
}

impl From<WebhooksError> for ApiError {
    fn from(e: WebhooksError) -> Self {
        match e {
            WebhooksError::Invalid(errors) => ApiError::validation(errors),
            WebhooksError::EndpointNotFound => {
                ApiError::new(ErrorKind::NotFound, "webhook-endpoint-not-found", e.to_string())
            }
            WebhooksError::EventNotFound(_) => ApiError::new(ErrorKind::NotFound, "event-not-found", e.to_string()),
            WebhooksError::EndpointDisabled => {
                ApiError::new(ErrorKind::Conflict, "webhook-endpoint-disabled", e.to_string())
            }
            WebhooksError::VersionConflict { .. } => {
                ApiError::new(ErrorKind::PreconditionFailed, "version-conflict", e.to_string())
            }
            WebhooksError::Internal(_) => ApiError::internal(e),
            WebhooksError::Db(db) => ApiError::from(db),
        }
    }
}
