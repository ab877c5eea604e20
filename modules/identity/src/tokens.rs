//! Opaque random tokens (session ids, refresh tokens, API keys, email links) and signed access
//! tokens.
//!
//! Access tokens are JWTs signed with HMAC-SHA256 by a small implementation here rather than the
//! `jsonwebtoken` crate: we need exactly one algorithm, and accepting only that one (never the
//! header's choice, so no `alg: none` and no algorithm confusion) is simpler to guarantee in 60
//! lines than by configuring a general library, which would also bring a second crypto stack
//! (ring) into the build.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// `bytes` random bytes, URL-safe base64. 32 bytes = 256 bits, well above the 128 required.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// What is stored for a token: its SHA-256. The tokens are random and long, so a fast hash is
/// enough to make a database leak useless.
pub fn digest(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Constant-time comparison of two secrets (by their digests, so lengths leak nothing either).
pub fn same_secret(a: &str, b: &str) -> bool {
    let (a, b) = (Sha256::digest(a.as_bytes()), Sha256::digest(b.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub const ISSUER: &str = "agora";
const ALGORITHM: &str = "HS256";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Claims {
    pub iss: String,
    /// The user's or operator's id.
    pub sub: String,
    /// `tenant:<uuid>` for a shop's users, `platform` for operators.
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
    /// `customer`, `staff` or `operator`.
    pub kind: String,
    /// The account's credentials generation (microseconds of its last password change, logout
    /// or disable) when the token was issued; a token of an older generation is refused. Exact,
    /// unlike comparing `iat` seconds with the change.
    pub cv: i64,
}

#[derive(Serialize, Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    typ: Option<String>,
    #[serde(default)]
    kid: Option<String>,
}

/// Signs access tokens with the current key and checks them with it or, during a key rotation,
/// the previous one (told apart by the header's key id, which never picks the algorithm).
#[derive(Clone)]
pub struct Signer {
    current: Key,
    previous: Option<Key>,
}

#[derive(Clone)]
struct Key {
    mac: Hmac<Sha256>,
    kid: String,
}

impl Key {
    /// HMAC takes keys of any length, so this only fails if the hmac crate changes its mind.
    fn new(key: &[u8]) -> Result<Self, String> {
        let kid = hex::encode(Sha256::digest(key).get(..8).unwrap_or_default());
        let mac = <Hmac<Sha256> as Mac>::new_from_slice(key).map_err(|e| e.to_string())?;
        Ok(Self { mac, kid })
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum TokenError {
    Malformed,
    Algorithm,
    Signature,
    Claims,
    Expired,
}

impl Signer {
    pub fn new(key: &[u8], previous: Option<&[u8]>) -> Result<Self, String> {
        Ok(Self { current: Key::new(key)?, previous: previous.map(Key::new).transpose()? })
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let header = Header { alg: ALGORITHM.into(), typ: Some("JWT".into()), kid: Some(self.current.kid.clone()) };
        let signing_input = format!("{}.{}", encode_json(&header), encode_json(claims));
        let mut mac = self.current.mac.clone();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The token's claims if it is ours (this algorithm, this key), for `audience`, and current.
    pub fn verify(&self, token: &str, audience: &str, now: i64) -> Result<Claims, TokenError> {
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(TokenError::Malformed);
        };
        let signing_input = format!("{header}.{payload}");
        let header: Header = URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        // The algorithm is fixed; the header only gets to agree with it, and to name one of our keys.
        let key = [Some(&self.current), self.previous.as_ref()]
            .into_iter()
            .flatten()
            .find(|k| header.kid.as_deref() == Some(k.kid.as_str()));
        let Some(key) = key.filter(|_| header.alg == ALGORITHM) else {
            return Err(TokenError::Algorithm);
        };
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| TokenError::Malformed)?;
        let mut mac = key.mac.clone();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&signature).map_err(|_| TokenError::Signature)?;
        let claims: Claims = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or(TokenError::Malformed)?;
        if claims.iss != ISSUER || claims.aud != audience {
            return Err(TokenError::Claims);
        }
        if claims.exp <= now {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

fn encode_json<T: Serialize>(value: &T) -> String {
    // Serialising these plain structs cannot fail.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: i64) -> Claims {
        Claims { iss: ISSUER.into(), sub: "u".into(), aud: "tenant:t".into(), iat: 0, exp, kind: "staff".into(), cv: 1 }
    }

    #[test]
    fn round_trip_and_rejections() {
        let signer = Signer::new(b"key one", None).unwrap();
        let token = signer.sign(&claims(100));
        assert_eq!(signer.verify(&token, "tenant:t", 50), Ok(claims(100)));
        assert_eq!(signer.verify(&token, "tenant:other", 50), Err(TokenError::Claims));
        assert_eq!(signer.verify(&token, "tenant:t", 100), Err(TokenError::Expired));
        assert_eq!(Signer::new(b"key two", None).unwrap().verify(&token, "tenant:t", 50), Err(TokenError::Algorithm));
        // During a rotation the previous key's tokens still count; new ones use the new key.
        let rotated = Signer::new(b"key two", Some(b"key one")).unwrap();
        assert_eq!(rotated.verify(&token, "tenant:t", 50), Ok(claims(100)));
        let fresh = rotated.sign(&claims(100));
        assert_eq!(rotated.verify(&fresh, "tenant:t", 50), Ok(claims(100)));
        assert_eq!(signer.verify(&fresh, "tenant:t", 50), Err(TokenError::Algorithm));
        let mut tampered = token.clone();
        tampered.push('A');
        assert!(signer.verify(&tampered, "tenant:t", 50).is_err());
    }
}
