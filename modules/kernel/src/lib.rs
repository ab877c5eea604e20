//! Agora's kernel: the building blocks every module shares and that depend on no module.
//!
//! - [`db`]: the pool and the one function that scopes a transaction to a tenant's schema;
//!   [`tx`]: the tenant transaction (shop + who acts + connection) that publishes, enqueues,
//!   audits and stamps;
//! - [`error`]: `ApiError` and its single mapping to RFC 9457 problem+json;
//! - [`http`]: request ids, the tracing root span, tenant context, extractor error handling;
//! - [`idempotency`], [`rate_limit`], [`cache`], [`metrics`]: cross-cutting HTTP concerns;
//!   [`conditional`]: ETag, 304 and Cache-Control for storefront reads;
//! - [`text_input`]: text PostgreSQL cannot store refused at the edge; [`openapi`]: what the
//!   contract needs beyond what paperclip sees;
//! - [`outbound`]: the one HTTP client for calls to URLs someone else chose (SSRF guard);
//! - [`security_headers`]: nosniff, referrer, framing, HSTS and CSP on every response;
//! - [`model`]: ids, actors, versions; [`lists`]: every list's query, cursor and keyset;
//!   [`money`]: amounts and currencies; [`values`]: SKUs, quantities, localized text; [`ids`] /
//!   [`enums`]: the `typed_id!` and `text_enum!` macros; [`storage`]: the file-storage port
//!   (local directory or S3); [`images`]: uploaded images checked, thumbnails made by a job;
//!   [`tasks`]: long-running work a user started, its progress and
//!   admin API; [`csv_files`]: the CSV import/export frame that runs as a task;
//! - [`module`]: the `Module` trait every module implements for the composition root;
//!   [`areas`]: the API areas' prefixes (`/api/v1/store|admin|platform`), spelled once;
//! - [`settings`]: configuration per module (each module's settings struct reads itself);
//! - [`auth`]: principals and permissions every admin handler declares; [`ports`]: traits a
//!   lower module calls and the composition root implements with a higher one.

pub mod areas;
pub mod auth;
pub mod cache;
pub mod conditional;
pub mod csv_files;
pub mod db;
pub mod diagnostics;
pub mod enums;
pub mod error;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod ids;
pub mod images;
pub mod jobs;
pub mod lists;
pub mod metrics;
pub mod model;
pub mod module;
pub mod money;
pub mod openapi;
pub mod outbound;
pub mod ports;
pub mod queue_admin;
pub mod rate_limit;
pub mod redis;
pub mod sealing;
pub mod security_headers;
pub mod settings;
pub mod storage;
pub mod tasks;
pub mod text_input;
pub mod tx;
pub mod values;
pub mod versioned;

pub use auth::{perm, Authorized, Principal, SignedInCustomer, SignedInOperator, SignedInStaff};
pub use db::{Database, DbError, DbSettings, MigrationTarget, TenantSchema};
pub use error::{ApiError, CommonError, ErrorKind, FieldError, Problem};
pub use http::{RequestId, TenantContext};
pub use model::{new_id, Actor, Currency, Money, Version};
pub use module::Module;
pub use tx::{Acting, Stamp, TenantTx};
pub use versioned::{Created, IfMatch, Versioned};
pub mod platform;
pub use platform::PlatformOperator;
pub mod throttle;

/// What the `typed_id!` and `text_enum!` macros expand to names, so a module using them needs no
/// direct dependency on these crates (diesel excepted: its derives name it).
#[doc(hidden)]
pub mod __private {
    pub use diesel;
    pub use paperclip;
    pub use schemars;
    pub use serde;
    pub use serde_json;
    pub use uuid;
}
