use agora_kernel::error::{ApiError, CommonError, ErrorKind};

/// What can go wrong with a shop's emails, in the merchant's words.
#[derive(Debug, thiserror::Error)]
pub enum NotificationsError {
    #[error("no template {key} in locale {locale}")]
    TemplateNotFound { key: String, locale: String },
    #[error("the shop has no own version of template {key} in locale {locale}")]
    NoOverride { key: String, locale: String },
    #[error("no email {0}")]
    MessageNotFound(uuid::Uuid),
    #[error("email {id} is {status}; only failed emails can be sent again")]
    NotResendable { id: uuid::Uuid, status: String },
    /// The mail settings cannot work (bad SMTP URL or sender); found at start-up.
    #[error("mail settings: {0}")]
    Settings(String),
    /// An email's one-time link could not be sealed (or a sealed one opened).
    #[error("sealing an email's content failed: {0}")]
    Sealing(#[from] agora_kernel::sealing::SealError),
    /// The shop's address (for links in the email) could not be read.
    #[error("the shop's address: {0}")]
    ShopAddress(#[source] agora_kernel::ports::PortError),
    /// A staff alert could not be prepared: what the modules it asks (identity, inventory)
    /// answered, or another delivery of the same event that got there first.
    #[error("staff alert: {0}")]
    Alert(String),
    /// Bad input (naming the field: `to`, `variables`, `subject`, …), a stale If-Match, the
    /// database.
    #[error(transparent)]
    Common(#[from] CommonError),
}

impl NotificationsError {
    pub(crate) fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        NotificationsError::Common(CommonError::field(field, message))
    }
}

agora_kernel::common_error!(NotificationsError);

impl From<NotificationsError> for ApiError {
    fn from(e: NotificationsError) -> Self {
        match e {
            NotificationsError::TemplateNotFound { .. } | NotificationsError::NoOverride { .. } => {
                ApiError::new(ErrorKind::NotFound, "template-not-found", e.to_string())
            }
            NotificationsError::MessageNotFound(_) => {
                ApiError::new(ErrorKind::NotFound, "email-not-found", e.to_string())
            }
            NotificationsError::NotResendable { .. } => {
                ApiError::new(ErrorKind::Conflict, "email-not-resendable", e.to_string())
            }
            NotificationsError::Settings(_) | NotificationsError::Sealing(_) | NotificationsError::Alert(_) => {
                ApiError::internal(e)
            }
            NotificationsError::ShopAddress(port) => ApiError::from(port),
            NotificationsError::Common(common) => ApiError::from(common),
        }
    }
}
