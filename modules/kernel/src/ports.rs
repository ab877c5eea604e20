//! Small traits a lower module calls and `app.rs` implements with a higher one, so that the
//! dependency arrows keep pointing down the layers (identity needs email sent; notifications
//! sends it).

use crate::http::TenantContext;
use diesel_async::AsyncPgConnection;
use std::future::Future;
use std::pin::Pin;

/// One email to one of a shop's accounts.
#[derive(Debug, Clone)]
pub struct AccountEmail<'a> {
    /// A template key (`password_reset`).
    pub template: &'a str,
    pub locale: &'a str,
    pub to: &'a str,
    /// Whose mail it is, `customer:<uuid>` or `staff:<uuid>`. A GDPR export and an erasure match
    /// on this, never on the address: a customer and a staff member may share one.
    pub account: String,
    /// A JSON object holding every variable the template uses except `shop_name`, which the
    /// implementation fills in with the shop's display name.
    pub variables: serde_json::Value,
    /// Variables that are one-time credentials (a password-reset or invitation link): they
    /// reach the recipient only; every stored copy of the email shows them redacted.
    pub secrets: &'a [&'a str],
}

/// Sends a templated transactional email inside the caller's transaction, so a rolled-back
/// change sends nothing.
pub trait TransactionalMail: Send + Sync {
    /// Errors are returned as text: the caller logs them and fails its request.
    fn send<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        tenant: &'a TenantContext,
        email: AccountEmail<'a>,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// Where a shop is reached, for absolute links (emails, OpenID Connect redirects). Always from
/// configuration and the shop's primary domain, never from a request's headers, which the
/// client chooses.
pub trait ShopAddress: Send + Sync {
    /// The shop's base URL with scheme and no trailing slash (`https://shop.example.com`), read
    /// on the caller's connection.
    fn base_url<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        tenant: &'a TenantContext,
    ) -> Pin<Box<dyn Future<Output = Result<String, String>> + Send + 'a>>;
}

/// Personal data a higher module keeps about a shop's customer, found by their account
/// (`customer:<uuid>`) and, for what is kept per address (a marketing opt-out), their email.
/// Identity's GDPR export and erasure ask every holder inside their own transaction, so an
/// erasure removes the person everywhere or nowhere, and an export misses nothing a module keeps.
pub trait PersonalDataHolder: Send + Sync {
    /// What the data is, in the customer's words (`emails sent to you`); names its section of
    /// the export.
    fn category(&self) -> &'static str;

    /// A copy of everything held about `account` (whose address is `email`), as JSON.
    fn export<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        account: &'a str,
        email: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<serde_json::Value, String>> + Send + 'a>>;

    /// Erases everything held about `account` (whose address is `email`); where a row must stay
    /// (a count, a financial trail), `replacement` is the anonymous address that takes the
    /// email's place.
    fn erase<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        account: &'a str,
        email: &'a str,
        replacement: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}

/// The person a new shop is opened for, as the platform operator names them.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ShopOwner {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// Gives a new shop its first owner. Tenancy opens shops; identity knows accounts and roles: it
/// implements this, and tenancy calls it while provisioning, so no shop opens without the owner
/// it was opened for.
pub trait ShopFounder: Send + Sync {
    /// What is wrong with `owner`, before anything is written (field names as in `ShopOwner`).
    fn check(&self, owner: &ShopOwner) -> Vec<crate::error::FieldError>;

    /// Makes `owner` the owner of `tenant` and invites them by email to set a password, in the
    /// caller's tenant transaction. Provisioning may run again after an interruption, so an
    /// existing staff account with that email means the work is done.
    fn appoint<'a>(
        &'a self,
        conn: &'a mut AsyncPgConnection,
        tenant: &'a TenantContext,
        owner: &'a ShopOwner,
    ) -> Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
}
