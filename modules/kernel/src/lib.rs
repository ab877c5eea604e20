//! Agora's kernel: the building blocks every module shares and that depend on no module.
//!
//! - [`db`]: the pool and the one function that scopes a transaction to a tenant's schema;
//! - [`error`]: `ApiError` and its single mapping to RFC 9457 problem+json;
//! - [`http`]: request ids, the tracing root span, tenant context, extractor error handling;
//! - [`idempotency`], [`rate_limit`], [`cache`], [`metrics`]: cross-cutting HTTP concerns;
//! - [`outbound`]: the one HTTP client for calls to URLs someone else chose (SSRF guard);
//! - [`security_headers`]: nosniff, referrer, framing, HSTS and CSP on every response;
//! - [`model`], [`pagination`]: ids, money, actors, versions, cursors;
//! - [`auth`]: principals and permissions every admin handler declares; [`ports`]: traits a
//!   lower module calls and the composition root implements with a higher one.

pub mod auth;
pub mod cache;
pub mod db;
pub mod diagnostics;
pub mod error;
pub mod events;
pub mod http;
pub mod idempotency;
pub mod jobs;
pub mod metrics;
pub mod model;
pub mod outbound;
pub mod pagination;
pub mod ports;
pub mod queue_admin;
pub mod rate_limit;
pub mod redis;
pub mod sealing;
pub mod security_headers;
pub mod versioned;

pub use auth::{perm, Authorized, Principal};
pub use db::{Database, DbError, DbSettings, MigrationTarget, TenantSchema};
pub use error::{ApiError, ErrorKind, FieldError, Problem};
pub use http::{RequestId, TenantContext};
pub use model::{new_id, Actor, Currency, Money, Version};
pub use versioned::{Created, Versioned};
pub mod platform;
pub use platform::PlatformOperator;
