//! Small traits a lower module calls and `app.rs` implements with a higher one, so that the
//! dependency arrows keep pointing down the layers (identity needs email sent; notifications
//! sends it).

use crate::db::DbError;
use crate::error::{ApiError, FieldError};
use crate::tx::TenantTx;
use std::future::Future;
use std::pin::Pin;

/// What every port method returns: a boxed future borrowing its arguments (ports are called
/// through `dyn`, so `async fn` in the trait would not do).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a port failed, typed so the caller answers right: a database failure or an unavailable
/// party is a 503 the client may retry, refused input a 422 naming the field, anything else a 500.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error(transparent)]
    Db(#[from] DbError),
    /// What the caller passed was refused (e.g. a template that does not render).
    #[error("refused: {}", .0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("; "))]
    Invalid(Vec<FieldError>),
    /// The party behind the port cannot serve now (a mail server, a storage service).
    #[error("{0} is unavailable")]
    Unavailable(String),
    /// A broken invariant behind the port: a bug, logged and answered with a 500.
    #[error("{0}")]
    Failed(String),
}

impl From<diesel::result::Error> for PortError {
    fn from(e: diesel::result::Error) -> Self {
        PortError::Db(DbError::Query(e))
    }
}

impl From<PortError> for ApiError {
    fn from(e: PortError) -> Self {
        match e {
            PortError::Db(db) => ApiError::from(db),
            PortError::Invalid(errors) => ApiError::validation(errors),
            PortError::Unavailable(what) => ApiError::unavailable(format!("{what} is unavailable")),
            PortError::Failed(cause) => ApiError::internal(cause),
        }
    }
}

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
    fn send<'a>(&'a self, tx: &'a mut TenantTx<'_>, email: AccountEmail<'a>) -> BoxFuture<'a, Result<(), PortError>>;
}

/// Where a shop is reached, for absolute links (emails, OpenID Connect redirects). Always from
/// configuration and the shop's primary domain, never from a request's headers, which the
/// client chooses.
pub trait ShopAddress: Send + Sync {
    /// The shop's base URL with scheme and no trailing slash (`https://shop.example.com`), read
    /// in the caller's transaction.
    fn base_url<'a>(&'a self, tx: &'a mut TenantTx<'_>) -> BoxFuture<'a, Result<String, PortError>>;
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
        tx: &'a mut TenantTx<'_>,
        account: &'a str,
        email: &'a str,
    ) -> BoxFuture<'a, Result<serde_json::Value, PortError>>;

    /// Erases everything held about `account` (whose address is `email`); where a row must stay
    /// (a count, a financial trail), `replacement` is the anonymous address that takes the
    /// email's place.
    fn erase<'a>(
        &'a self,
        tx: &'a mut TenantTx<'_>,
        account: &'a str,
        email: &'a str,
        replacement: &'a str,
    ) -> BoxFuture<'a, Result<(), PortError>>;
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
    fn check(&self, owner: &ShopOwner) -> Vec<FieldError>;

    /// Makes `owner` the owner of `tenant` and invites them by email to set a password, in the
    /// caller's tenant transaction. Provisioning may run again after an interruption, so an
    /// existing staff account with that email means the work is done.
    fn appoint<'a>(&'a self, tx: &'a mut TenantTx<'_>, owner: &'a ShopOwner) -> BoxFuture<'a, Result<(), PortError>>;
}

/// The cache tag (`agora_kernel::cache`) every storefront answer showing prices from
/// [`ShopperPrices`] carries (product pages, lists, carts), and every pricing write (price lists
/// and conversion rates, promotions and their uses, taxes, shipping) invalidates after it commits.
pub const PRICES_CACHE_TAG: &str = "pricing:prices";

/// The cache tag every storefront answer that depends on the shop's settings carries (its
/// languages and currencies: every catalog page, every cart), and every change to them
/// (the shop's settings, the currencies the catalog is priced in) invalidates after it commits.
pub const SHOP_CACHE_TAG: &str = "shop";

/// What the storefront asks prices for.
#[derive(Debug, Clone)]
pub struct PriceRequest<'a> {
    pub variants: &'a [uuid::Uuid],
    /// A currency the shop sells in (the caller has checked it).
    pub currency: crate::money::Currency,
    /// The signed-in customer (their groups decide which price lists apply); `None`: anonymous.
    pub customer: Option<uuid::Uuid>,
    /// The instant to price at (a price list's window).
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A variant's price as the shopper is shown it: what they pay for one unit, and the price
/// struck through next to it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ShownPrice {
    pub price: crate::money::Money,
    pub compare_at: Option<crate::money::Money>,
}

/// Prices per variant (a variant without any price in the currency is absent), and the next
/// instant they may change without a write (a price list's start or end): an answer kept in a
/// cache must not outlive it.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct PriceAnswer {
    pub prices: std::collections::HashMap<uuid::Uuid, ShownPrice>,
    pub valid_until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The price a shopper sees on listings and product pages. The catalog keeps base prices;
/// pricing (a higher layer) decides what is paid — price lists per customer group, dates,
/// conversion rates — and `app.rs` wires it here, so nothing else computes prices.
///
/// Unlike the ports above it takes the shop, not a transaction: the catalog calls it after its
/// own cached read, when no transaction is open, and the implementation opens one read-only
/// transaction for the whole set of variants (a constant number of queries per page, not per
/// item).
pub trait ShopperPrices: Send + Sync {
    fn prices<'a>(
        &'a self,
        tenant: &'a crate::TenantContext,
        request: PriceRequest<'a>,
    ) -> BoxFuture<'a, Result<PriceAnswer, PortError>>;
}
