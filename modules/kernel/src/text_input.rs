//! Text PostgreSQL cannot store, refused at the edge.
//!
//! PostgreSQL's `text` and `jsonb` cannot hold the NUL character (U+0000); a query that binds
//! one fails, and the caller would see a 500 for what is their bad input. Every other character a
//! Rust `String` can hold is storable (strings are valid UTF-8 by construction, and JSON's lone
//! surrogates are already refused by serde). Rather than every handler checking every field, one
//! middleware looks at everything a request carries that a handler can turn into text — the
//! decoded path segments, the decoded query string, the header values and the strings (and keys)
//! of a JSON body — and answers `422 validation` naming the field, before tenant resolution,
//! authentication or any handler runs.

use crate::error::{ApiError, FieldError};
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header;
use actix_web::middleware::Next;
use actix_web::{web, Error, HttpMessage};
use futures_util::StreamExt;
use percent_encoding::percent_decode_str;
use serde_json::Value;

const NUL_MESSAGE: &str = "must not contain the NUL character (U+0000)";

/// The largest body this middleware reads, the same limit the JSON extractor enforces.
#[derive(Debug, Clone, Copy)]
pub struct MaxBodyBytes(pub usize);

/// Middleware: `422` naming the first path parameter, query parameter, header or JSON field that
/// holds a NUL character.
pub async fn reject_unstorable_text(
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, Error> {
    if let Some(field) = nul_in_path(&req).or_else(|| nul_in_query(req.query_string())).or_else(|| nul_in_headers(&req))
    {
        return Ok(req.error_response(refusal(field)).map_into_boxed_body());
    }
    if carries_json(&req) {
        let limit = req.app_data::<web::Data<MaxBodyBytes>>().map_or(usize::MAX, |l| l.0);
        let mut payload = req.take_payload();
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk?;
            if body.len() + chunk.len() > limit {
                let e = ApiError::new(
                    crate::ErrorKind::PayloadTooLarge,
                    "payload-too-large",
                    format!("the body exceeds the limit of {limit} bytes"),
                );
                return Ok(req.error_response(e).map_into_boxed_body());
            }
            body.extend_from_slice(&chunk);
        }
        let body = body.freeze();
        if let Some(field) = nul_in_json(&body) {
            return Ok(req.error_response(refusal(field)).map_into_boxed_body());
        }
        req.set_payload(actix_web::dev::Payload::from(body));
    }
    Ok(next.call(req).await?.map_into_boxed_body())
}

fn refusal(field: String) -> ApiError {
    ApiError::validation(vec![FieldError::new(field, NUL_MESSAGE)])
}

/// The path parameter (named as the route names it) whose decoded segment holds a NUL.
fn nul_in_path(req: &ServiceRequest) -> Option<String> {
    let path = req.path();
    let position = path.split('/').position(|segment| percent_decode_str(segment).any(|b| b == 0))?;
    let pattern = req.match_pattern().unwrap_or_default();
    let name = pattern
        .split('/')
        .nth(position)
        .and_then(|p| p.strip_prefix('{'))
        .map(|p| p.trim_end_matches('}').split(':').next().unwrap_or(p).to_string())
        .unwrap_or_else(|| "path".to_string());
    Some(name)
}

fn nul_in_query(query: &str) -> Option<String> {
    form_urlencoded::parse(query.as_bytes())
        .find(|(name, value)| name.contains('\0') || value.contains('\0'))
        .map(|(name, _)| printable(&name))
}

fn nul_in_headers(req: &ServiceRequest) -> Option<String> {
    req.headers().iter().find(|(_, value)| value.as_bytes().contains(&0)).map(|(name, _)| name.to_string())
}

fn carries_json(req: &ServiceRequest) -> bool {
    let Some(content_type) = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || essence.ends_with("+json")
}

/// The JSON path of the first string or key holding a NUL. A body that is not JSON is left to
/// the extractor, which reports it in its own words.
fn nul_in_json(body: &[u8]) -> Option<String> {
    // A NUL can only be written `\u0000` in JSON (raw control characters are a syntax error), so
    // most bodies are passed without being parsed twice.
    body.windows(6).any(|w| w == b"\\u0000").then_some(())?;
    let value: Value = serde_json::from_slice(body).ok()?;
    find_nul(&value, String::new())
}

fn find_nul(value: &Value, at: String) -> Option<String> {
    match value {
        Value::String(s) if s.contains('\0') => Some(if at.is_empty() { "body".into() } else { at }),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| find_nul(item, format!("{at}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(key, item)| {
            let here = if at.is_empty() { printable(key) } else { format!("{at}.{}", printable(key)) };
            if key.contains('\0') {
                Some(here)
            } else {
                find_nul(item, here)
            }
        }),
        _ => None,
    }
}

/// A name fit to echo back: the NUL itself shown as `\u0000`.
fn printable(name: &str) -> String {
    name.replace('\0', "\\u0000")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_json_field_holding_a_nul() {
        let at = |body: &str| nul_in_json(body.as_bytes());
        assert_eq!(at(r#"{"name":"a\u0000b"}"#).as_deref(), Some("name"));
        assert_eq!(at(r#"{"items":[{"sku":"ok"},{"sku":"x\u0000"}]}"#).as_deref(), Some("items[1].sku"));
        assert_eq!(at(r#"{"meta":{"k\u0000":1}}"#).as_deref(), Some("meta.k\\u0000"));
        assert_eq!(at(r#""\u0000""#).as_deref(), Some("body"));
        // An escaped backslash followed by "u0000" is six ordinary characters.
        assert_eq!(at(r#"{"name":"\\u0000"}"#), None);
        assert_eq!(at(r#"{"name":"plain"}"#), None);
    }

    #[test]
    fn names_the_query_parameter_holding_a_nul() {
        assert_eq!(nul_in_query("limit=5&recipient=a%00b").as_deref(), Some("recipient"));
        assert_eq!(nul_in_query("a%00=1").as_deref(), Some("a\\u0000"));
        assert_eq!(nul_in_query("recipient=a%2500b"), None);
    }
}
