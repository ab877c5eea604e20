use agora_kernel::error::{ApiError, CommonError, ErrorKind};

/// What can go wrong with tenants, in the platform's words.
#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    #[error("no shop named {0}")]
    NotFound(String),
    #[error("the shop {0} is being provisioned")]
    Provisioning(String),
    #[error("the shop {0} is suspended")]
    Suspended(String),
    #[error("a shop with the slug {0} already exists")]
    SlugTaken(String),
    #[error("the domain {0} already belongs to a shop")]
    DomainTaken(String),
    #[error("X-Tenant-ID is not a shop slug")]
    BadTenantHeader,
    #[error("migrating {slug} failed: {cause}")]
    Migration { slug: String, cause: String },
    #[error("appointing the shop's owner failed: {0}")]
    Founding(#[source] agora_kernel::ports::PortError),
    #[error("the shop has no such logo")]
    LogoNotFound,
    /// The logo is not an image we take, or too large.
    #[error(transparent)]
    Image(#[from] agora_kernel::images::ImageError),
    #[error(transparent)]
    Storage(#[from] agora_kernel::storage::StorageError),
    /// Bad input, a stale If-Match, the database.
    #[error(transparent)]
    Common(#[from] CommonError),
}

agora_kernel::common_error!(TenancyError);

impl From<TenancyError> for ApiError {
    fn from(e: TenancyError) -> Self {
        match e {
            TenancyError::NotFound(_) => ApiError::new(ErrorKind::NotFound, "tenant-not-found", e.to_string()),
            TenancyError::Provisioning(_) => ApiError::new(ErrorKind::NotFound, "tenant-not-found", e.to_string()),
            TenancyError::Suspended(_) => ApiError::new(ErrorKind::Forbidden, "tenant-suspended", e.to_string()),
            TenancyError::SlugTaken(_) => {
                ApiError::new(ErrorKind::Conflict, "tenant-exists", e.to_string()).with_field("slug", "already taken")
            }
            TenancyError::DomainTaken(ref d) => {
                let field = format!("domains: {d}");
                ApiError::new(ErrorKind::Conflict, "domain-taken", e.to_string())
                    .with_field(field, "already belongs to another shop")
            }
            TenancyError::BadTenantHeader => ApiError::new(ErrorKind::BadRequest, "bad-tenant-id", e.to_string())
                .with_field("X-Tenant-ID", "2–40 lowercase letters, digits or '-', starting with a letter"),
            TenancyError::Migration { .. } => ApiError::internal(e),
            TenancyError::Founding(port) => ApiError::from(port),
            TenancyError::LogoNotFound => ApiError::new(ErrorKind::NotFound, "logo-not-found", e.to_string()),
            TenancyError::Image(image) => ApiError::from(image),
            TenancyError::Storage(storage) => ApiError::from(storage),
            TenancyError::Common(common) => ApiError::from(common),
        }
    }
}
