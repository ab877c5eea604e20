//! Guard for `/api/v1/platform/*`: a platform operator, logged in through the identity module
//! (which leaves a [`Principal::Operator`] on the request). The bearer token from configuration
//! no longer opens these routes; it only bootstraps the first operator account.

use crate::auth::Principal;
use crate::error::{ApiError, ErrorKind};
use crate::model::Actor;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use paperclip::v2::models::{DefaultOperationRaw, SecurityScheme};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::future::{ready, Ready};

/// Name of the security scheme platform operations require in the OpenAPI document.
pub const OPERATOR_SCHEME: &str = "operator";

/// The configured bootstrap token (absent: no HTTP bootstrap).
#[derive(Clone)]
pub struct PlatformToken(pub Option<SecretString>);

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl PlatformToken {
    /// Whether the request carries this token as `Authorization: Bearer …`.
    pub fn matches(&self, req: &HttpRequest) -> bool {
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        match (&self.0, presented) {
            // Comparing digests keeps the comparison time independent of where the strings differ.
            (Some(expected), Some(given)) => digest(expected.expose_secret().as_bytes()) == digest(given.as_bytes()),
            _ => false,
        }
    }
}

/// Proof that the caller is a logged-in platform operator.
#[derive(Debug, Clone)]
pub struct PlatformOperator {
    pub operator_id: uuid::Uuid,
}

impl PlatformOperator {
    pub fn actor(&self) -> Actor {
        Actor::User(self.operator_id)
    }
}

impl FromRequest for PlatformOperator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let principal = match crate::auth::verified_principal(req) {
            Ok(principal) => principal,
            Err(e) => return ready(Err(e)),
        };
        let result = match principal {
            Principal::Operator { operator_id } => Ok(PlatformOperator { operator_id }),
            _ => {
                let bootstrap = req.app_data::<web::Data<PlatformToken>>().is_some_and(|t| t.matches(req));
                let detail = if bootstrap {
                    "the platform token only creates the first operator (POST /api/v1/platform/operators or \
                     `agora operator create`); log in as an operator"
                } else {
                    "log in as a platform operator (POST /api/v1/platform/auth/login)"
                };
                Err(ApiError::new(ErrorKind::Unauthorized, "unauthorized", detail))
            }
        };
        ready(result)
    }
}

impl paperclip::v2::schema::Apiv2Schema for PlatformOperator {}

impl paperclip::actix::OperationModifier for PlatformOperator {
    fn update_security(op: &mut DefaultOperationRaw) {
        op.security.push(BTreeMap::from([(OPERATOR_SCHEME.to_string(), Vec::new())]));
    }

    fn update_security_definitions(map: &mut BTreeMap<String, SecurityScheme>) {
        SecurityScheme {
            type_: "apiKey".into(),
            name: Some("Authorization".into()),
            in_: Some("header".into()),
            description: Some(
                "A platform operator's session cookie (with X-CSRF-Token on unsafe requests) or \
                 `Authorization: Bearer <operator access token>`."
                    .into(),
            ),
            ..Default::default()
        }
        .update_definitions(OPERATOR_SCHEME, map);
    }
}
