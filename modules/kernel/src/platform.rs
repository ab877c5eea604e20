//! Guard for `/api/v1/platform/*` until operator accounts exist: a bearer token from
//! configuration. The identity module replaces this with operator logins and keeps the token only
//! as a bootstrap.

use crate::error::{ApiError, ErrorKind};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::future::{ready, Ready};

/// The configured platform token (absent: platform API closed).
#[derive(Clone)]
pub struct PlatformToken(pub Option<SecretString>);

/// Proof that the caller is a platform operator.
#[derive(Debug, Clone)]
pub struct PlatformOperator;

fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

impl FromRequest for PlatformOperator {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let configured = req.app_data::<web::Data<PlatformToken>>().and_then(|t| t.0.clone());
        let presented = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let unauthorized = || {
            ApiError::new(
                ErrorKind::Unauthorized,
                "unauthorized",
                "a platform operator token is required (Authorization: Bearer …)",
            )
        };
        let result = match (configured, presented) {
            // Comparing digests keeps the comparison time independent of where the strings differ.
            (Some(expected), Some(given))
                if digest(expected.expose_secret().as_bytes()) == digest(given.as_bytes()) =>
            {
                Ok(PlatformOperator)
            }
            (None, _) => Err(ApiError::new(
                ErrorKind::Forbidden,
                "platform-api-disabled",
                "the platform API is disabled: set AGORA_PLATFORM_TOKEN",
            )),
            _ => Err(unauthorized()),
        };
        ready(result)
    }
}

impl paperclip::v2::schema::Apiv2Schema for PlatformOperator {}
impl paperclip::actix::OperationModifier for PlatformOperator {}
