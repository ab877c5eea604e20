//! Signing secrets and the `Agora-Signature` header.
//!
//! `Agora-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`. The HMAC key
//! is the secret exactly as shown to the merchant, `whsec_` prefix included. While a rotated-out
//! secret is in its grace period a second `v1=` entry carries its signature, so a receiver that
//! still knows only the old secret keeps verifying. Signing the timestamp lets receivers refuse
//! replays of old deliveries.
//!
//! The server must sign with the secret, so it cannot store a hash of it: secrets are stored
//! sealed (`agora_kernel::sealing`), bound to their shop and endpoint. Secrets stored before
//! sealing began (tenant migration V8) are read in the clear until sealed.

use crate::WebhooksError;
use agora_kernel::sealing::{SealError, Sealer};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

pub const SECRET_PREFIX: &str = "whsec_";

const SEAL_PURPOSE: &str = "webhook-secret";

fn place(tenant: uuid::Uuid, endpoint: uuid::Uuid) -> Vec<u8> {
    [tenant.as_bytes().as_slice(), endpoint.as_bytes()].concat()
}

pub(crate) fn seal(
    sealer: &Sealer,
    tenant: uuid::Uuid,
    endpoint: uuid::Uuid,
    secret: &str,
) -> Result<Vec<u8>, WebhooksError> {
    sealer
        .seal(SEAL_PURPOSE, &place(tenant, endpoint), secret.as_bytes())
        .map_err(|e| WebhooksError::Internal(e.to_string()))
}

/// A secret as stored, sealed or in the clear; with whether it should be sealed (again).
pub(crate) fn open(
    sealer: &Sealer,
    tenant: uuid::Uuid,
    endpoint: uuid::Uuid,
    sealed: Option<&[u8]>,
    clear: Option<&str>,
) -> Result<Option<(String, bool)>, SealError> {
    match (sealed, clear) {
        (Some(sealed), _) => sealer.open_text(SEAL_PURPOSE, &place(tenant, endpoint), sealed).map(Some),
        (None, Some(clear)) => Ok(Some((clear.to_string(), true))),
        (None, None) => Ok(None),
    }
}

/// A fresh secret: 32 random bytes from the operating system, base64, with a recognisable prefix
/// (secret scanners and people can tell what it is).
pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// Hex HMAC-SHA256 of `"<timestamp>.<body>"` under `secret`.
pub(crate) fn sign(secret: &str, timestamp: i64, body: &str) -> String {
    // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The header value: one `v1` entry per secret, current secret first.
pub(crate) fn signature_header(timestamp: i64, body: &str, secrets: &[&str]) -> String {
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        value.push_str(",v1=");
        value.push_str(&sign(secret, timestamp, body));
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_and_recognisable() {
        let (a, b) = (new_secret(), new_secret());
        assert!(a.starts_with("whsec_") && a.len() == "whsec_".len() + 44, "{a}");
        assert_ne!(a, b);
    }

    #[test]
    fn signature_matches_an_independent_computation() {
        // Computed with Python: hmac.new(b"whsec_test", b'1700000000.{"a":1}', sha256).hexdigest()
        let expected = "38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789";
        assert_eq!(sign("whsec_test", 1_700_000_000, "{\"a\":1}"), expected);
        assert_eq!(
            signature_header(1_700_000_000, "{\"a\":1}", &["whsec_test", "whsec_old"]),
            format!("t=1700000000,v1={expected},v1={}", sign("whsec_old", 1_700_000_000, "{\"a\":1}"))
        );
    }
}
