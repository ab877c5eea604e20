use agora_kernel::error::{ApiError, CommonError, ErrorKind};

/// What can go wrong with accounts and access, in the shop's words.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// Unknown email and wrong password are one error, so a login never tells which accounts exist.
    #[error("wrong email or password")]
    BadCredentials,
    #[error("too many failed logins; retry in {retry_after_secs} s")]
    Throttled { retry_after_secs: u64 },
    /// Registration or reset requests for one address, or from one client, past their budget.
    #[error("too many requests for this email address or from this client; retry in {retry_after_secs} s")]
    TooManyRequests { retry_after_secs: u64 },
    /// Every password-hashing slot is taken and the queue is full: shed load rather than queue
    /// without bound.
    #[error("the server is busy checking passwords; retry in {retry_after_secs} s")]
    HashingBusy { retry_after_secs: u64 },
    #[error("not signed in, or the session or token expired")]
    Unauthenticated,
    #[error("the access token is not valid here: {0}")]
    BadToken(&'static str),
    #[error("a refresh token was used twice; every token of its family is revoked")]
    RefreshReuse,
    #[error("the link is invalid, used or expired")]
    BadOneTimeToken,
    #[error("an account with this email already exists")]
    EmailTaken,
    #[error("{0} not found")]
    NotFound(&'static str),
    /// One error for an unknown, used or expired challenge and a wrong code, like `BadCredentials`.
    #[error("the login challenge or the code is wrong, used or expired")]
    MfaFailed,
    #[error("two-factor authentication is already on; switch it off first")]
    MfaAlreadyEnabled,
    #[error("two-factor authentication is not on")]
    MfaNotEnabled,
    #[error("no authenticator enrolment is under way; start one first")]
    MfaNotEnrolling,
    #[error("you cannot hand out the permission {0}: you do not hold it")]
    CannotGrant(String),
    #[error("the shop must keep at least one active owner")]
    LastOwner,
    #[error("{0}")]
    OwnerOnly(&'static str),
    #[error("this shop's staff sign in with its identity provider (single sign-on); use …/auth/oidc/start")]
    SsoRequired,
    #[error("the outbound HTTP client could not be built: {0}")]
    Outbound(String),
    #[error("built-in roles cannot be changed")]
    BuiltInRole,
    #[error("sending email failed: {0}")]
    Mail(#[source] agora_kernel::ports::PortError),
    #[error("password hashing failed: {0}")]
    Hashing(String),
    #[error("a stored secret could not be sealed or opened: {0}")]
    Sealing(String),
    #[error("the session store is unavailable: {0}")]
    SessionStore(String),
    #[error("a module holding personal data failed: {0}")]
    PersonalData(#[source] agora_kernel::ports::PortError),
    #[error("the shop's address for links: {0}")]
    ShopAddress(#[source] agora_kernel::ports::PortError),
    /// Bad input, a stale If-Match, the database.
    #[error(transparent)]
    Common(#[from] CommonError),
}

impl IdentityError {
    pub fn field(field: &str, message: impl Into<String>) -> Self {
        IdentityError::Common(CommonError::field(field, message))
    }
}

agora_kernel::common_error!(IdentityError);

impl From<crate::login::hashing::PasswordError> for IdentityError {
    fn from(e: crate::login::hashing::PasswordError) -> Self {
        match e {
            // A hash takes tens of milliseconds; a couple of seconds drains a full queue.
            crate::login::hashing::PasswordError::Busy => IdentityError::HashingBusy { retry_after_secs: 2 },
            crate::login::hashing::PasswordError::Failed(cause) => IdentityError::Hashing(cause),
        }
    }
}

impl From<IdentityError> for ApiError {
    fn from(e: IdentityError) -> Self {
        match e {
            IdentityError::BadCredentials => {
                ApiError::new(ErrorKind::Unauthorized, "invalid-credentials", e.to_string())
            }
            IdentityError::Throttled { retry_after_secs } => {
                ApiError::new(ErrorKind::TooManyRequests { retry_after_secs }, "login-throttled", e.to_string())
            }
            IdentityError::TooManyRequests { retry_after_secs } => {
                ApiError::new(ErrorKind::TooManyRequests { retry_after_secs }, "too-many-requests", e.to_string())
            }
            IdentityError::HashingBusy { retry_after_secs } => {
                ApiError::new(ErrorKind::TooManyRequests { retry_after_secs }, "server-busy", e.to_string())
            }
            IdentityError::Unauthenticated | IdentityError::BadToken(_) => ApiError::new(
                ErrorKind::Unauthorized,
                "unauthorized",
                "sign in first: the session or token is missing, expired or invalid",
            )
            .with_internal(e),
            IdentityError::RefreshReuse => {
                ApiError::new(ErrorKind::Unauthorized, "refresh-token-reused", e.to_string())
            }
            IdentityError::BadOneTimeToken => ApiError::new(ErrorKind::Unprocessable, "invalid-token", e.to_string())
                .with_field("token", "invalid, used or expired"),
            IdentityError::EmailTaken => ApiError::new(ErrorKind::Conflict, "email-taken", e.to_string())
                .with_field("email", "already registered"),
            IdentityError::NotFound(what) => ApiError::not_found(what),
            IdentityError::MfaFailed => ApiError::new(ErrorKind::Unauthorized, "invalid-mfa-code", e.to_string()),
            IdentityError::MfaAlreadyEnabled => {
                ApiError::new(ErrorKind::Conflict, "mfa-already-enabled", e.to_string())
            }
            IdentityError::MfaNotEnabled => ApiError::new(ErrorKind::Conflict, "mfa-not-enabled", e.to_string()),
            IdentityError::MfaNotEnrolling => ApiError::new(ErrorKind::Conflict, "mfa-not-enrolling", e.to_string()),
            IdentityError::CannotGrant(_) => ApiError::new(ErrorKind::Forbidden, "cannot-grant", e.to_string()),
            IdentityError::LastOwner => ApiError::new(ErrorKind::Conflict, "last-owner", e.to_string()),
            IdentityError::OwnerOnly(_) => ApiError::new(ErrorKind::Forbidden, "owner-only", e.to_string()),
            IdentityError::SsoRequired => ApiError::new(ErrorKind::Forbidden, "sso-required", e.to_string()),
            IdentityError::BuiltInRole => ApiError::new(ErrorKind::Conflict, "built-in-role", e.to_string()),
            // A port's failure keeps its kind: the database or a party that is down is a 503.
            IdentityError::Mail(port) | IdentityError::PersonalData(port) | IdentityError::ShopAddress(port) => {
                ApiError::from(port)
            }
            IdentityError::Hashing(_) | IdentityError::Sealing(_) | IdentityError::Outbound(_) => ApiError::internal(e),
            IdentityError::SessionStore(_) => ApiError::unavailable(e),
            IdentityError::Common(common) => ApiError::from(common),
        }
    }
}
