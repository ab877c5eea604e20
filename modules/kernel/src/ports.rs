//! Small traits a lower module calls and `app.rs` implements with a higher one, so that the
//! dependency arrows keep pointing down the layers (identity needs email sent; notifications
//! sends it).

use crate::http::TenantContext;
use diesel_async::AsyncPgConnection;
use std::future::Future;
use std::pin::Pin;

/// Sends a templated transactional email inside the caller's transaction, so a rolled-back
/// change sends nothing.
pub trait TransactionalMail: Send + Sync {
    /// `template` is a template key (`password_reset`), `variables` a JSON object holding every
    /// variable it uses. Errors are returned as text: the caller logs them and fails its request.
    fn send<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        tenant: &'a TenantContext,
        template: &'a str,
        locale: &'a str,
        to: &'a str,
        variables: serde_json::Value,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}
