//! The one place where errors become HTTP responses.
//!
//! Every crate has its own `thiserror` enum in its domain's words and converts it into an
//! [`ApiError`] by saying which [`ErrorKind`] it is, a stable `type` slug and a user-facing detail.
//! This file decides status codes and the RFC 9457 body; nothing else writes error responses.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use std::borrow::Cow;
use std::fmt;

/// Base of every problem `type` URI; the slug after it is part of the API contract.
pub const PROBLEM_BASE: &str = "https://agora.dev/problems/";
pub const PROBLEM_CONTENT_TYPE: &str = "application/problem+json";

/// What kind of failure this is, which fixes the HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    Validation,
    Unauthorized,
    Forbidden,
    NotFound,
    MethodNotAllowed,
    Conflict,
    Gone,
    PreconditionFailed,
    PreconditionRequired,
    PayloadTooLarge,
    UnsupportedMediaType,
    Unprocessable,
    TooManyRequests {
        retry_after_secs: u64,
    },
    Unavailable,
    /// A party we depend on (an identity provider) failed: 502.
    BadGateway,
    Internal,
}

impl ErrorKind {
    pub fn status(self) -> StatusCode {
        match self {
            ErrorKind::BadRequest => StatusCode::BAD_REQUEST,
            ErrorKind::Validation | ErrorKind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorKind::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorKind::Forbidden => StatusCode::FORBIDDEN,
            ErrorKind::NotFound => StatusCode::NOT_FOUND,
            ErrorKind::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorKind::Conflict => StatusCode::CONFLICT,
            ErrorKind::Gone => StatusCode::GONE,
            ErrorKind::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            ErrorKind::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ErrorKind::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorKind::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorKind::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ErrorKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorKind::BadGateway => StatusCode::BAD_GATEWAY,
            ErrorKind::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// One invalid input field: `field` is a JSON pointer-ish path (`name`, `items[2].sku`) or a
/// header / query parameter name.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq, Eq, paperclip::actix::Apiv2Schema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self { field: field.into(), message: message.into() }
    }
}

/// The error every handler returns. Built from a crate's own error; carries what the client may
/// see (`slug`, `detail`, `errors`) apart from what only the log may see (`internal`).
/// Every handler that returns it may fail on our side; the statuses the middleware answers for any
/// operation are added to the contract centrally (`crate::openapi`), its own domain statuses by
/// the extractors and responders that produce them.
#[paperclip::actix::api_v2_errors(
    code = 500,
    description = "Our fault; quote the X-Request-ID when reporting it",
    code = 503,
    description = "A service we depend on (the database) is unavailable; retry shortly",
    default_schema = "Problem"
)]
pub struct ApiError {
    pub kind: ErrorKind,
    pub slug: Cow<'static, str>,
    pub detail: String,
    pub errors: Vec<FieldError>,
    internal: Option<String>,
}

impl ApiError {
    pub fn new(kind: ErrorKind, slug: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self { kind, slug: slug.into(), detail: detail.into(), errors: Vec::new(), internal: None }
    }

    /// A 422 naming the fields that were wrong.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = match errors.as_slice() {
            [one] => format!("{}: {}", one.field, one.message),
            _ => format!("{} fields are invalid", errors.len()),
        };
        Self { errors, ..Self::new(ErrorKind::Validation, "validation", detail) }
    }

    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorKind::NotFound, "not-found", format!("{what} not found"))
    }

    pub fn bad_request(slug: impl Into<Cow<'static, str>>, detail: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, slug, detail)
    }

    /// Something broke on our side. The cause goes to the log only; the client sees a request id.
    pub fn internal(cause: impl fmt::Display) -> Self {
        Self {
            internal: Some(cause.to_string()),
            ..Self::new(
                ErrorKind::Internal,
                "internal",
                "an internal error occurred; quote the request id when reporting it",
            )
        }
    }

    pub fn unavailable(cause: impl fmt::Display) -> Self {
        Self {
            internal: Some(cause.to_string()),
            ..Self::new(ErrorKind::Unavailable, "unavailable", "the service is temporarily unavailable; retry shortly")
        }
    }

    pub fn with_field(mut self, field: impl Into<String>, message: impl Into<String>) -> Self {
        self.errors.push(FieldError::new(field, message));
        self
    }

    pub fn with_internal(mut self, cause: impl fmt::Display) -> Self {
        self.internal = Some(cause.to_string());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.kind.status()
    }

    pub fn body(&self) -> Problem {
        let status = self.status();
        Problem {
            type_: format!("{PROBLEM_BASE}{}", self.slug),
            title: status.canonical_reason().unwrap_or("Error").to_string(),
            status: status.as_u16(),
            detail: self.detail.clone(),
            errors: (!self.errors.is_empty()).then(|| self.errors.clone()),
        }
    }
}

/// The RFC 9457 document. The request id travels in the `X-Request-ID` header, not the body,
/// so a replayed (idempotent) response stays byte-identical.
#[derive(Debug, Serialize, serde::Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Problem {
    /// Stable URI naming the kind of problem, `https://agora.dev/problems/<slug>`.
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// One entry per invalid field (validation problems only; absent otherwise). An `Option` so
    /// that the contract does not promise a field that is left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
}

impl fmt::Debug for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiError")
            .field("status", &self.status().as_u16())
            .field("type", &self.slug)
            .field("detail", &self.detail)
            .field("errors", &self.errors)
            .field("internal", &self.internal)
            .finish()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.status().as_u16(), self.slug, self.detail)?;
        if let Some(internal) = &self.internal {
            write!(f, " ({internal})")?;
        }
        Ok(())
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status()
    }

    fn error_response(&self) -> HttpResponse {
        if self.kind == ErrorKind::Internal || self.kind == ErrorKind::Unavailable {
            tracing::error!(error = %self, "request failed");
        } else {
            tracing::debug!(error = %self, "request rejected");
        }
        let mut response = HttpResponse::build(self.status());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_CONTENT_TYPE)));
        if let ErrorKind::TooManyRequests { retry_after_secs } = self.kind {
            response.insert_header((header::RETRY_AFTER, retry_after_secs.max(1).to_string()));
        }
        // Serialising a struct of strings cannot fail; fall back to an empty object just in case.
        response.body(serde_json::to_vec(&self.body()).unwrap_or_else(|_| b"{}".to_vec()))
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        match e {
            diesel::result::Error::NotFound => ApiError::not_found("resource"),
            // The connection died under the query (the server restarting): a retry can succeed.
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UnableToSendCommand
                | diesel::result::DatabaseErrorKind::ClosedConnection,
                info,
            ) => ApiError::unavailable(info.message()),
            other => ApiError::internal(other),
        }
    }
}

impl From<crate::db::DbError> for ApiError {
    fn from(e: crate::db::DbError) -> Self {
        match e {
            crate::db::DbError::Pool(cause) => ApiError::unavailable(cause),
            crate::db::DbError::Query(q) => ApiError::from(q),
        }
    }
}

/// The failures every module has in the same words: bad input naming its fields, a stale
/// `If-Match`, the database. A module's error enum wraps it (`#[error(transparent)]
/// Common(#[from] CommonError)`, plus [`common_error!`](crate::common_error) for the conversions)
/// instead of declaring these again, so each has one message and one problem `type`.
#[derive(Debug, thiserror::Error)]
pub enum CommonError {
    /// Bad input; each entry names the field (`name`, `items[2].sku`, a header).
    #[error("invalid input: {0:?}")]
    Invalid(Vec<FieldError>),
    /// The client's `If-Match` names a version that is no longer the stored one (`current` is
    /// `None` for a resource that has no version yet, such as a built-in default).
    #[error("{}", version_conflict_detail(*.expected, *.current))]
    VersionConflict { expected: i64, current: Option<i64> },
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
}

fn version_conflict_detail(expected: i64, current: Option<i64>) -> String {
    match current {
        Some(current) => format!(
            "the resource changed since you read it (you have version {expected}, current is {current}); reload and retry"
        ),
        None => format!("the resource has no version {expected} (it was never saved); reload and retry"),
    }
}

impl CommonError {
    /// Bad input in one field.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        CommonError::Invalid(vec![FieldError::new(field, message)])
    }
}

impl From<diesel::result::Error> for CommonError {
    fn from(e: diesel::result::Error) -> Self {
        CommonError::Db(crate::db::DbError::Query(e))
    }
}

impl From<CommonError> for ApiError {
    fn from(e: CommonError) -> Self {
        match e {
            CommonError::Invalid(errors) => ApiError::validation(errors),
            CommonError::VersionConflict { .. } => {
                ApiError::new(ErrorKind::PreconditionFailed, "version-conflict", e.to_string())
            }
            CommonError::Db(db) => ApiError::from(db),
        }
    }
}

/// The conversions a module error with a `Common(CommonError)` variant needs so that `?` works on
/// diesel and pool errors inside its code: `agora_kernel::common_error!(TenancyError);`.
#[macro_export]
macro_rules! common_error {
    ($error:ty) => {
        impl ::core::convert::From<$crate::__private::diesel::result::Error> for $error {
            fn from(e: $crate::__private::diesel::result::Error) -> Self {
                <$error>::from($crate::error::CommonError::from(e))
            }
        }

        impl ::core::convert::From<$crate::db::DbError> for $error {
            fn from(e: $crate::db::DbError) -> Self {
                <$error>::from($crate::error::CommonError::Db(e))
            }
        }
    };
}

/// A bare problem response for a status no handler produced (unknown route, wrong method).
pub fn problem_for_status(status: StatusCode) -> ApiError {
    let (kind, slug) = match status.as_u16() {
        404 => (ErrorKind::NotFound, "not-found"),
        405 => (ErrorKind::MethodNotAllowed, "method-not-allowed"),
        413 => (ErrorKind::PayloadTooLarge, "payload-too-large"),
        415 => (ErrorKind::UnsupportedMediaType, "unsupported-media-type"),
        400..=499 => (ErrorKind::BadRequest, "bad-request"),
        503 => (ErrorKind::Unavailable, "unavailable"),
        _ => (ErrorKind::Internal, "internal"),
    };
    let detail = match kind {
        ErrorKind::NotFound => "no such resource".to_string(),
        ErrorKind::MethodNotAllowed => "this resource does not support that method".to_string(),
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    ApiError::new(kind, slug, detail)
}
