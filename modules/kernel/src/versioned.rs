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

    /// Where the resource can be read (for an answer whose body has no version of its own).
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.location = Some(location.into());
        self
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

/// The version a writer expects, from `If-Match` (`None` when the header is absent). As an
/// extractor it puts the header and the `412` it can lead to into the contract, so an operation
/// that honours `If-Match` says so.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl actix_web::FromRequest for IfMatch {
    type Error = crate::ApiError;
    type Future = std::future::Ready<Result<Self, crate::ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(Version::expected(req.headers()).map(IfMatch))
    }
}

impl Schema for IfMatch {}

impl OperationModifier for IfMatch {
    fn update_parameter(op: &mut DefaultOperationRaw) {
        use paperclip::v2::models::{DataType, Parameter, ParameterIn};
        op.parameters.push(Either::Right(Parameter {
            name: "If-Match".into(),
            in_: ParameterIn::Header,
            description: Some("The ETag you read; the write is refused with 412 if the resource changed since".into()),
            required: false,
            data_type: Some(DataType::String),
            ..Default::default()
        }));
        // Extractors only get to touch parameters and security; the operation is the same one.
        let mut problem = crate::Problem::schema_with_ref();
        problem.retain_ref();
        op.responses.insert(
            StatusCode::PRECONDITION_FAILED.as_str().into(),
            Either::Right(Response {
                description: Some("The resource changed since the If-Match version was read (problem+json)".into()),
                schema: Some(problem),
                ..Default::default()
            }),
        );
    }
}
