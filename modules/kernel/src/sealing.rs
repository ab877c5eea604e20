//! Secrets the server must read back — a shop's OpenID Connect client secret, a staff member's
//! TOTP seed, a webhook endpoint's signing secret — are stored sealed, never in the clear, so a
//! copy of the database alone opens nothing.
//!
//! Sealing is AES-256-GCM with a key derived per purpose from the deployment's master key
//! (`AGORA_TOKEN_KEY`): HMAC-SHA256(master, `agora/<purpose>/v1`), so one configured secret
//! serves every use without two uses sharing a key. The caller binds each value to where it
//! belongs (the shop, the row) as associated data: a sealed value copied into another shop or row
//! does not open. A sealed value is `nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`.
//!
//! Rotating the master key: start every replica with the new key in `AGORA_TOKEN_KEY` and the old
//! one in `AGORA_TOKEN_KEY_PREVIOUS`. Values sealed under the old key still open (the tag tells
//! which key sealed them) and are sealed under the new one when next written; `agora
//! reseal-secrets` rewrites them all at once, after which the previous key can go.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::Aes256Gcm;
use hmac::{Hmac, Mac};
use rand::RngCore;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;
use std::sync::Arc;

const NONCE_LEN: usize = 12;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    /// Not sealed by any configured key for this purpose and place (or altered since).
    #[error("the sealed value does not open with any configured key")]
    Unopenable,
    #[error("sealing failed")]
    Sealing,
}

/// Seals and opens secrets at rest. Cheap to clone.
#[derive(Clone)]
pub struct Sealer {
    /// The current master key first, then the previous one (if any).
    masters: Arc<Vec<Vec<u8>>>,
}

/// A value opened with the previous master key should be sealed again under the current one.
#[derive(Debug, PartialEq, Eq)]
pub struct Opened {
    pub plain: Vec<u8>,
    pub stale: bool,
}

impl Sealer {
    pub fn new(current: &SecretString, previous: Option<&SecretString>) -> Self {
        let mut masters = vec![current.expose_secret().as_bytes().to_vec()];
        masters.extend(previous.map(|p| p.expose_secret().as_bytes().to_vec()));
        Self { masters: Arc::new(masters) }
    }

    fn cipher(master: &[u8], purpose: &str) -> Result<Aes256Gcm, SealError> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(master).map_err(|_| SealError::Sealing)?;
        mac.update(format!("agora/{purpose}/v1").as_bytes());
        Aes256Gcm::new_from_slice(&mac.finalize().into_bytes()).map_err(|_| SealError::Sealing)
    }

    /// Seals `plain` for `purpose` (e.g. `totp-secret`), bound to `place` (e.g. the shop's and
    /// the row's ids), under the current master key.
    pub fn seal(&self, purpose: &str, place: &[u8], plain: &[u8]) -> Result<Vec<u8>, SealError> {
        let current = self.masters.first().ok_or(SealError::Sealing)?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let sealed = Self::cipher(current, purpose)?
            .encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: plain, aad: place })
            .map_err(|_| SealError::Sealing)?;
        Ok([nonce.as_slice(), &sealed].concat())
    }

    /// Opens what [`seal`](Self::seal) made for the same `purpose` and `place`, with the current
    /// master key or the previous one.
    pub fn open(&self, purpose: &str, place: &[u8], sealed: &[u8]) -> Result<Opened, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError::Unopenable);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        for (i, master) in self.masters.iter().enumerate() {
            let payload = Payload { msg: body, aad: place };
            if let Ok(plain) = Self::cipher(master, purpose)?.decrypt(aes_gcm::Nonce::from_slice(nonce), payload) {
                return Ok(Opened { plain, stale: i > 0 });
            }
        }
        Err(SealError::Unopenable)
    }

    /// [`open`](Self::open) for text.
    pub fn open_text(&self, purpose: &str, place: &[u8], sealed: &[u8]) -> Result<(String, bool), SealError> {
        let opened = self.open(purpose, place, sealed)?;
        String::from_utf8(opened.plain).map(|text| (text, opened.stale)).map_err(|_| SealError::Unopenable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealer(current: &str, previous: Option<&str>) -> Sealer {
        Sealer::new(
            &SecretString::from(current.to_string()),
            previous.map(|p| SecretString::from(p.to_string())).as_ref(),
        )
    }

    #[test]
    fn a_sealed_value_opens_only_for_its_purpose_place_and_keys() {
        let old = sealer("the old master key, long enough to count", None);
        let sealed = old.seal("totp-secret", b"shop-1/user-1", b"seed").unwrap();
        assert_ne!(&sealed[NONCE_LEN..], b"seed", "never stored in the clear");
        assert_eq!(
            old.open("totp-secret", b"shop-1/user-1", &sealed).unwrap(),
            Opened { plain: b"seed".to_vec(), stale: false }
        );
        assert_eq!(old.open("totp-secret", b"shop-2/user-1", &sealed), Err(SealError::Unopenable), "another place");
        assert_eq!(old.open("webhook-secret", b"shop-1/user-1", &sealed), Err(SealError::Unopenable), "another use");
        let mut altered = sealed.clone();
        if let Some(last) = altered.last_mut() {
            *last ^= 1;
        }
        assert_eq!(old.open("totp-secret", b"shop-1/user-1", &altered), Err(SealError::Unopenable), "altered");
        assert_eq!(old.open("totp-secret", b"shop-1/user-1", b"short"), Err(SealError::Unopenable));

        // After a rotation the old key still opens what it sealed, and says so.
        let rotated =
            sealer("the new master key, long enough to count", Some("the old master key, long enough to count"));
        assert!(rotated.open("totp-secret", b"shop-1/user-1", &sealed).unwrap().stale);
        let resealed = rotated.seal("totp-secret", b"shop-1/user-1", b"seed").unwrap();
        assert!(!rotated.open("totp-secret", b"shop-1/user-1", &resealed).unwrap().stale);
        // Without the old key it is gone.
        let forgotten = sealer("the new master key, long enough to count", None);
        assert_eq!(forgotten.open("totp-secret", b"shop-1/user-1", &sealed), Err(SealError::Unopenable));
        assert_eq!(old.open("totp-secret", b"shop-1/user-1", &resealed), Err(SealError::Unopenable));
    }

    #[test]
    fn sealing_twice_gives_different_bytes() {
        let s = sealer("a master key, long enough to count", None);
        assert_ne!(s.seal("p", b"x", b"same").unwrap(), s.seal("p", b"x", b"same").unwrap());
    }
}
