//! Small value types every module shares: ids, money, actors, optimistic-locking versions.

use crate::error::{ApiError, ErrorKind};
use actix_web::http::header::{self, HeaderMap};
use serde::{Deserialize, Serialize};
use std::fmt;

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

/// An amount of money in integer minor units (cents) with its ISO 4217 currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Money {
    /// Amount in minor units of `currency` (e.g. cents).
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    /// Adds two amounts of the same currency; `None` on a currency mismatch or overflow.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        (self.currency == other.currency)
            .then(|| self.amount.checked_add(other.amount).map(|amount| Money { amount, ..self }))
            .flatten()
    }
}

/// Three upper-case ASCII letters (ISO 4217 code). Parsed once at the edge.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(code: &str) -> Option<Self> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        bytes.iter().all(u8::is_ascii_uppercase).then_some(Self(bytes))
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII upper-case letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Currency::parse(&raw).ok_or_else(|| serde::de::Error::custom("expected an ISO 4217 currency code such as EUR"))
    }
}

impl paperclip::v2::schema::TypedData for Currency {
    fn data_type() -> paperclip::v2::models::DataType {
        paperclip::v2::models::DataType::String
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

    /// 412 when the client's expectation is stale.
    pub fn check(expected: Option<i64>, current: i64) -> Result<(), ApiError> {
        match expected {
            Some(v) if v != current => Err(ApiError::new(
                ErrorKind::PreconditionFailed,
                "version-conflict",
                format!("the resource changed since you read it (you have version {v}, current is {current}); reload and retry"),
            )),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_parsing() {
        assert_eq!(Currency::parse("EUR").map(|c| c.to_string()), Some("EUR".into()));
        assert!(Currency::parse("eur").is_none());
        assert!(Currency::parse("EURO").is_none());
    }

    #[test]
    fn money_adds_only_same_currency() {
        let eur = Currency::parse("EUR").unwrap();
        let usd = Currency::parse("USD").unwrap();
        assert_eq!(Money::new(150, eur).checked_add(Money::new(50, eur)), Some(Money::new(200, eur)));
        assert_eq!(Money::new(150, eur).checked_add(Money::new(50, usd)), None);
        assert_eq!(Money::new(i64::MAX, eur).checked_add(Money::new(1, eur)), None);
    }

    #[test]
    fn version_check() {
        assert!(Version::check(None, 3).is_ok());
        assert!(Version::check(Some(3), 3).is_ok());
        assert_eq!(Version::check(Some(2), 3).err().map(|e| e.status().as_u16()), Some(412));
    }
}
