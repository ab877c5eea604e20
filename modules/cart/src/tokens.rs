//! Guest cart tokens: 32 random bytes, shown to the shopper once (cookie and answer), kept only as
//! their SHA-256 — a leaked table opens no cart.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// What every token starts with, so one is recognised in a log or a support ticket.
const PREFIX: &str = "cart_";

/// A new token and the hash to keep.
pub(crate) fn issue() -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let token = format!("{PREFIX}{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&token);
    (token, hash)
}

/// The hash a token is looked up by; `None` for what cannot be a token (never looked up).
pub(crate) fn lookup_hash(token: &str) -> Option<Vec<u8>> {
    let body = token.strip_prefix(PREFIX)?;
    (body.len() == 43 && body.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')).then(|| hash(token))
}

fn hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_found_by_its_hash_and_nothing_else_is() {
        let (token, hash) = issue();
        assert_eq!(lookup_hash(&token), Some(hash));
        assert_ne!(issue().0, token, "tokens are random");
        assert_eq!(lookup_hash("cart_short"), None);
        assert_eq!(lookup_hash(&token.replace(PREFIX, "crt_")), None);
        assert_eq!(lookup_hash(&format!("{token}x")), None);
    }
}
