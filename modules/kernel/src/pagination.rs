//! Cursor pagination: `?limit=&cursor=` in, `{ items, next_cursor }` out.
//!
//! A cursor is the opaque, URL-safe encoding of the last row's sort key (`created_at`, `id`), so
//! pages stay stable while rows are inserted, and a page costs one index range scan.

use crate::error::ApiError;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 100;

#[derive(Debug, Clone, Default, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct PageQuery {
    /// Page size, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

/// Where the next page starts: after this (created_at, id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub id: uuid::Uuid,
}

/// A validated page request.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub after: Option<Cursor>,
}

impl PageQuery {
    pub fn validate(&self) -> Result<PageRequest, ApiError> {
        let limit = self.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(ApiError::field("limit", format!("must be between 1 and {MAX_LIMIT}")));
        }
        let after = match self.cursor.as_deref() {
            None | Some("") => None,
            Some(raw) => Some(
                Cursor::decode(raw).ok_or_else(|| ApiError::field("cursor", "not a cursor returned by this API"))?,
            ),
        };
        Ok(PageRequest { limit, after })
    }
}

impl Cursor {
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(raw: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(raw).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

/// One page of a list.
#[derive(Debug, Serialize, Deserialize, paperclip::actix::Apiv2Schema)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` rows fetched in order: the extra row only tells us
    /// there is a next page.
    pub fn from_rows(mut rows: Vec<T>, request: &PageRequest, key: impl Fn(&T) -> Cursor) -> Self {
        let limit = usize::try_from(request.limit).unwrap_or(usize::MAX);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|last| key(last).encode())
        } else {
            None
        };
        Page { items: rows, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_round_trip_and_rejects_garbage() {
        let c = Cursor { created_at: chrono::Utc::now(), id: uuid::Uuid::now_v7() };
        assert_eq!(Cursor::decode(&c.encode()), Some(c));
        assert!(PageQuery { limit: None, cursor: Some("nope!".into()) }.validate().is_err());
        assert!(PageQuery { limit: Some(0), cursor: None }.validate().is_err());
        assert!(PageQuery { limit: Some(101), cursor: None }.validate().is_err());
        assert_eq!(PageQuery::default().validate().unwrap().limit, DEFAULT_LIMIT);
    }
}
