use agora_kernel::error::{ApiError, ErrorKind, FieldError};
use agora_kernel::DbError;

/// What can go wrong with a shop's emails, in the merchant's words.
#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    /// Bad input; each entry names the field (`to`, `variables`, `subject`, …).
    #[error("invalid notification request: {0:?}")]
    Invalid(Vec<FieldError>),
    #[error("no template {key} in locale {locale}")]
    TemplateNotFound { key: String, locale: String },
    #[error("the shop has no own version of template {key} in locale {locale}")]
    NoOverride { key: String, locale: String },
    #[error("no email {0}")]
    MessageNotFound(uuid::Uuid),
    #[error("email {id} is {status}; only failed emails can be sent again")]
    NotResendable { id: uuid::Uuid, status: String },
    #[error("the template changed since it was read (expected version {expected}, current {current})")]
    VersionConflict { expected: i64, current: i64 },
    /// The mail settings cannot work (bad SMTP URL or sender); found at start-up.
    #[error("mail settings: {0}")]
    Settings(String),
    /// An email's one-time link could not be sealed (or a sealed one opened).
    #[error("sealing an email's content failed: {0}")]
    Sealing(#[from] agora_kernel::sealing::SealError),
    /// The shop's address (for links in the email) could not be read.
    #[error("the shop's address: {0}")]
    ShopAddress(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl NotificationsError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        NotificationsError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<diesel::result::Error> for NotificationsError {
    fn from(e: diesel::result::Error) -> Self {
        NotificationsError::Db(DbError::Query(e))
    }
}

impl From<NotificationsError> for ApiError {
    fn from(e: NotificationsError) -> Self {
        match e {
            NotificationsError::Invalid(errors) => ApiError::validation(errors),
            NotificationsError::TemplateNotFound { .. } | NotificationsError::NoOverride { .. } => {
                ApiError::new(ErrorKind::NotFound, "template-not-found", e.to_string())
            }
            NotificationsError::MessageNotFound(_) => {
                ApiError::new(ErrorKind::NotFound, "email-not-found", e.to_string())
            }
            NotificationsError::NotResendable { .. } => {
                ApiError::new(ErrorKind::Conflict, "email-not-resendable", e.to_string())
            }
            NotificationsError::VersionConflict { .. } => {
                ApiError::new(ErrorKind::PreconditionFailed, "version-conflict", e.to_string())
            }
            NotificationsError::Settings(_) | NotificationsError::Sealing(_) | NotificationsError::ShopAddress(_) => {
                ApiError::internal(e)
            }
            NotificationsError::Db(db) => ApiError::from(db),
        }
    }
}
