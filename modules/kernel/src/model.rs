//! Small value types every module shares: ids, actors, optimistic-locking versions (money lives in
//! [`crate::money`] and is re-exported here for the modules that import it from `model`).

use crate::error::{ApiError, CommonError, ErrorKind};
use actix_web::http::header::{self, HeaderMap};

pub use crate::money::{Currency, Money};

/// A new time-ordered id (UUIDv7): index-friendly and sortable by creation time.
pub fn new_id() -> uuid::Uuid {
    uuid::Uuid::now_v7()
}

/// Who did something, recorded in `created_by` / `modified_by` and the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A tenant user (customer or staff) or platform operator, by id.
    User(uuid::Uuid),
    /// A platform operator authenticated with the bootstrap token from configuration.
    PlatformToken,
    /// An integration's API key, by id.
    ApiKey(uuid::Uuid),
    /// The system itself: a job, a subscriber, the CLI.
    System(&'static str),
    Anonymous,
}

impl Actor {
    /// The value stored in `created_by` / `modified_by` columns.
    pub fn audit_name(&self) -> String {
        match self {
            Actor::User(id) => format!("user:{id}"),
            Actor::PlatformToken => "platform-token".to_string(),
            Actor::ApiKey(id) => format!("api-key:{id}"),
            Actor::System(what) => format!("system:{what}"),
            Actor::Anonymous => "anonymous".to_string(),
        }
    }
}

/// Optimistic locking: every row has a `version`; its ETag is `"<version>"`, and writes that
/// carry `If-Match` must name the current one.
pub struct Version;

impl Version {
    pub fn etag(version: i64) -> String {
        format!("\"{version}\"")
    }

    /// The version a client expects, from `If-Match`. `None` when the header is absent;
    /// a malformed value is a 400 naming the header.
    pub fn expected(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
        let Some(raw) = headers.get(header::IF_MATCH) else {
            return Ok(None);
        };
        let parsed = raw
            .to_str()
            .ok()
            .map(|v| v.trim().trim_start_matches("W/").trim_matches('"'))
            .and_then(|v| v.parse::<i64>().ok());
        match parsed {
            Some(v) => Ok(Some(v)),
            None => Err(ApiError::new(
                ErrorKind::BadRequest,
                "bad-if-match",
                "If-Match must be an ETag from a previous response, e.g. \"3\"",
            )
            .with_field("If-Match", "not an ETag issued by this API")),
        }
    }

    /// The one optimistic-locking check: fails with [`CommonError::VersionConflict`] (412
    /// `version-conflict`) when the client's `If-Match` names another version than the stored
    /// one. `current` is the stored version, or `None` for a resource that has none yet (a
    /// built-in default), which no expectation can match.
    pub fn check(expected: Option<i64>, current: impl Into<Option<i64>>) -> Result<(), CommonError> {
        let current = current.into();
        match expected {
            Some(expected) if Some(expected) != current => Err(CommonError::VersionConflict { expected, current }),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_check() {
        assert!(Version::check(None, 3).is_ok());
        assert!(Version::check(Some(3), 3).is_ok());
        assert!(Version::check(None, None).is_ok());
        let stale = ApiError::from(Version::check(Some(2), 3).unwrap_err());
        assert_eq!((stale.status().as_u16(), stale.slug.as_ref()), (412, "version-conflict"));
        assert!(stale.detail.contains("you have version 2, current is 3"), "{}", stale.detail);
        let never_saved = ApiError::from(Version::check(Some(1), None).unwrap_err());
        assert_eq!((never_saved.status().as_u16(), never_saved.slug.as_ref()), (412, "version-conflict"));
    }
}
