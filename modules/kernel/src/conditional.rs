//! Conditional GETs for storefront reads: a strong `ETag` (a digest of the exact body bytes),
//! `304 Not Modified` when the client's `If-None-Match` names it, and a `Cache-Control` that
//! depends on who asked.
//!
//! - Anonymous shoppers get `public, max-age=30, stale-while-revalidate=60`: browsers and CDNs
//!   may keep the page briefly, and revalidate cheaply (a 304 has no body).
//! - Signed-in callers (customers, staff, API keys) get `private, no-store`: what they see may be
//!   theirs (prices for their group, their wishlist marks), so nothing shared keeps it.
//! - `Vary: Accept-Language, Authorization, Cookie`: a shared cache never hands one shopper's
//!   language or session to another.
//!
//! The body is serialized once (or comes already serialized from the [`crate::cache::Cache`]),
//! hashed, and sent as is, so the ETag always matches the bytes on the wire.
//!
//! ```ignore
//! #[api_v2_operation(tags(Store), operation_id = "storeProduct")]
//! async fn product(tenant: TenantContext, …) -> Result<Conditional<ProductView>, ApiError> {
//!     let body = cache.read_through(&tenant, &key, TTL, || async { … }).await?;
//!     Ok(Conditional::from_json_bytes(body))     // or Conditional::json(&view)?
//! }
//! ```

use crate::auth::Principal;
use crate::error::{ApiError, ErrorKind};
use actix_web::body::BoxBody;
use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Responder};
use bytes::Bytes;
use paperclip::actix::OperationModifier;
use paperclip::v2::models::{
    DataType, DefaultOperationRaw, DefaultSchemaRaw, Either, Header, Parameter, ParameterIn, Response,
};
use paperclip::v2::schema::Apiv2Schema as Schema;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::marker::PhantomData;

/// `Cache-Control` for anonymous storefront reads.
pub const PUBLIC_CACHE_CONTROL: &str = "public, max-age=30, stale-while-revalidate=60";
/// `Cache-Control` for anything a signed-in caller reads.
pub const PRIVATE_CACHE_CONTROL: &str = "private, no-store";
const VARY: &str = "Accept-Language, Authorization, Cookie";

/// A JSON body of type `T` answered with `200` and a strong ETag, or `304` when the client already
/// has it; documented in the contract as `T` under 200, plus 304 and the headers.
pub struct Conditional<T> {
    body: Bytes,
    _body_type: PhantomData<fn() -> T>,
}

impl<T: Serialize> Conditional<T> {
    pub fn json(value: &T) -> Result<Self, ApiError> {
        let body = serde_json::to_vec(value).map_err(|e| {
            tracing::error!(error = %e, "response serialization failed");
            ApiError::new(ErrorKind::Internal, "internal", "the response could not be written")
        })?;
        Ok(Self { body: body.into(), _body_type: PhantomData })
    }
}

impl<T> Conditional<T> {
    /// A body that is already `T` as JSON (what the cache stores).
    pub fn from_json_bytes(body: Bytes) -> Self {
        Self { body, _body_type: PhantomData }
    }

    /// The strong ETag of this body: `"<first 32 hex digits of its SHA-256>"`.
    pub fn etag(&self) -> String {
        etag_of(&self.body)
    }
}

/// The strong ETag of `body`.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    format!("\"{}\"", hex::encode(digest.get(..16).unwrap_or(&digest[..])))
}

/// Whether `If-None-Match` names `etag` (or is `*`). RFC 9110 §13.1.2 compares weakly here, so
/// `W/"x"` matches `"x"`.
pub fn none_match(req: &HttpRequest, etag: &str) -> bool {
    req.headers().get_all(header::IF_NONE_MATCH).filter_map(|v| v.to_str().ok()).any(|value| {
        value
            .split(',')
            .map(str::trim)
            .any(|candidate| candidate == "*" || candidate.strip_prefix("W/").unwrap_or(candidate) == etag)
    })
}

impl<T> Responder for Conditional<T> {
    type Body = BoxBody;

    fn respond_to(self, req: &HttpRequest) -> HttpResponse<BoxBody> {
        let etag = self.etag();
        let cache_control = match Principal::of(req) {
            Principal::Anonymous => PUBLIC_CACHE_CONTROL,
            _ => PRIVATE_CACHE_CONTROL,
        };
        let not_modified = none_match(req, &etag);
        let mut response = if not_modified {
            HttpResponse::build(StatusCode::NOT_MODIFIED)
        } else {
            HttpResponse::build(StatusCode::OK)
        };
        if let Ok(value) = HeaderValue::from_str(&etag) {
            response.insert_header((header::ETAG, value));
        }
        response.insert_header((header::CACHE_CONTROL, cache_control));
        response.insert_header((header::VARY, VARY));
        if not_modified {
            return response.finish();
        }
        response.content_type("application/json").body(self.body)
    }
}

impl<T: Schema> Schema for Conditional<T> {
    fn name() -> Option<String> {
        T::name()
    }

    fn description() -> &'static str {
        T::description()
    }

    fn raw_schema() -> DefaultSchemaRaw {
        T::raw_schema()
    }
}

fn documented_header(description: &str) -> Header {
    Header { description: Some(description.into()), data_type: Some(DataType::String), ..Default::default() }
}

impl<T: Schema> OperationModifier for Conditional<T> {
    fn update_response(op: &mut DefaultOperationRaw) {
        let mut schema = T::schema_with_ref();
        schema.retain_ref();
        let headers = [
            ("ETag", "Strong validator of this body; send it back in If-None-Match"),
            (
                "Cache-Control",
                "public, max-age=30, stale-while-revalidate=60 when anonymous; private, no-store when signed in",
            ),
            ("Vary", "Accept-Language, Authorization, Cookie"),
        ]
        .into_iter()
        .map(|(name, description)| (name.to_string(), documented_header(description)))
        .collect::<std::collections::BTreeMap<_, _>>();
        op.responses.insert(
            StatusCode::OK.as_str().into(),
            Either::Right(Response {
                description: StatusCode::OK.canonical_reason().map(ToString::to_string),
                schema: Some(schema),
                headers: headers.clone(),
            }),
        );
        op.responses.insert(
            StatusCode::NOT_MODIFIED.as_str().into(),
            Either::Right(Response {
                description: Some("Not Modified: the If-None-Match ETag is still current (no body)".into()),
                schema: None,
                headers,
            }),
        );
        op.parameters.push(Either::Right(Parameter {
            name: "If-None-Match".into(),
            in_: ParameterIn::Header,
            description: Some("An ETag you hold; answered with 304 and no body while it is current".into()),
            required: false,
            data_type: Some(DataType::String),
            ..Default::default()
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use actix_web::HttpMessage;

    #[derive(Serialize)]
    struct Page {
        name: &'static str,
    }

    #[test]
    fn the_etag_is_a_digest_of_the_body() {
        let a = Conditional::json(&Page { name: "shirt" }).unwrap();
        let b = Conditional::json(&Page { name: "shirt" }).unwrap();
        let c = Conditional::json(&Page { name: "shirts" }).unwrap();
        assert_eq!(a.etag(), b.etag());
        assert_ne!(a.etag(), c.etag());
        assert!(a.etag().starts_with('"') && a.etag().ends_with('"') && !a.etag().starts_with("W/"));
    }

    #[actix_web::test]
    async fn if_none_match_gets_a_304_without_a_body_and_others_the_page() {
        let page = || Conditional::json(&Page { name: "shirt" }).unwrap();
        let etag = page().etag();

        let fresh = page().respond_to(&TestRequest::get().to_http_request());
        assert_eq!(fresh.status(), StatusCode::OK);
        assert_eq!(fresh.headers().get(header::ETAG).unwrap().to_str().unwrap(), etag);
        assert_eq!(fresh.headers().get(header::CACHE_CONTROL).unwrap(), PUBLIC_CACHE_CONTROL);
        let body = actix_web::body::to_bytes(fresh.into_body()).await.unwrap();
        assert_eq!(&body[..], br#"{"name":"shirt"}"#);

        for held in [etag.clone(), format!("W/{etag}"), format!("\"other\", {etag}"), "*".to_string()] {
            let req = TestRequest::get().insert_header((header::IF_NONE_MATCH, held.as_str())).to_http_request();
            let res = page().respond_to(&req);
            assert_eq!(res.status(), StatusCode::NOT_MODIFIED, "{held}");
            assert_eq!(res.headers().get(header::ETAG).unwrap().to_str().unwrap(), etag);
            assert!(actix_web::body::to_bytes(res.into_body()).await.unwrap().is_empty());
        }

        let stale = TestRequest::get().insert_header((header::IF_NONE_MATCH, "\"0123\"")).to_http_request();
        assert_eq!(page().respond_to(&stale).status(), StatusCode::OK);
    }

    #[actix_web::test]
    async fn signed_in_callers_are_never_cached_by_shared_caches() {
        let req = TestRequest::get().to_http_request();
        req.extensions_mut()
            .insert(Principal::Customer { tenant: uuid::Uuid::now_v7(), user_id: uuid::Uuid::now_v7() });
        let res = Conditional::json(&Page { name: "shirt" }).unwrap().respond_to(&req);
        assert_eq!(res.headers().get(header::CACHE_CONTROL).unwrap(), PRIVATE_CACHE_CONTROL);
        assert_eq!(res.headers().get(header::VARY).unwrap(), VARY);
    }
}
