//! Responses that carry their resource's version: the `ETag` every read and write returns, so a
//! client can send it back in `If-Match` (and, for a creation, the new resource's `Location`).

use crate::model::Version;
use actix_web::body::BoxBody;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpRequest, HttpResponse, Responder};
use paperclip::actix::OperationModifier;
use paperclip::v2::models::{DefaultOperationRaw, DefaultSchemaRaw, Either, Response};
use paperclip::v2::schema::Apiv2Schema as Schema;
use serde::Serialize;

/// A JSON body answered with status `STATUS`, `ETag: "<version>"` and an optional `Location`;
/// documented in the OpenAPI contract like `Json<T>` under that status.
pub struct Versioned<T, const STATUS: u16 = 200> {
    body: T,
    version: Option<i64>,
    location: Option<String>,
}

/// A resource just created: 201 with its ETag and Location.
pub type Created<T> = Versioned<T, 201>;

impl<T, const STATUS: u16> Versioned<T, STATUS> {
    pub fn new(body: T, version: i64) -> Self {
        Self { body, version: Some(version), location: None }
    }

    /// For resources that exist in a version only once edited (a built-in default has none).
    pub fn optional(body: T, version: Option<i64>) -> Self {
        Self { body, version, location: None }
    }

    pub fn located(body: T, version: i64, location: impl Into<String>) -> Self {
        Self { body, version: Some(version), location: Some(location.into()) }
    }
}

impl<T: Serialize, const STATUS: u16> Responder for Versioned<T, STATUS> {
    type Body = BoxBody;

    fn respond_to(self, _: &HttpRequest) -> HttpResponse<BoxBody> {
        let mut response = HttpResponse::build(StatusCode::from_u16(STATUS).unwrap_or(StatusCode::OK));
        if let Some(version) = self.version {
            response.insert_header((header::ETAG, Version::etag(version)));
        }
        if let Some(location) = self.location {
            response.insert_header((header::LOCATION, location));
        }
        response.json(&self.body)
    }
}

impl<T: Schema, const STATUS: u16> Schema for Versioned<T, STATUS> {
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

impl<T: Schema, const STATUS: u16> OperationModifier for Versioned<T, STATUS> {
    fn update_response(op: &mut DefaultOperationRaw) {
        let status = StatusCode::from_u16(STATUS).unwrap_or(StatusCode::OK);
        let mut schema = T::schema_with_ref();
        schema.retain_ref();
        op.responses.insert(
            status.as_str().into(),
            Either::Right(Response {
                description: status.canonical_reason().map(ToString::to_string),
                schema: Some(schema),
                ..Default::default()
            }),
        );
    }
}
