//! RFC 6238 time-based one-time passwords, as authenticator apps compute them: HMAC-SHA1 over
//! 30-second steps, six digits, one step of drift either way; and the RFC 4648 base32 and
//! otpauth URI encoding the apps read. Pure functions; the flows are in `mfa`.

use chrono::Utc;
use hmac_sha1::{Hmac, KeyInit, Mac};

const STEP_SECS: i64 = 30;
/// The length of an authenticator's shared secret (160 bits, as RFC 4226 recommends).
pub(crate) const SECRET_BYTES: usize = 20;
pub(crate) const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// The 6-digit code of `secret` for time step `step` (RFC 4226 dynamic truncation).
pub(crate) fn totp_at(secret: &[u8], step: i64) -> Option<u32> {
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest.last()? & 0x0f);
    let bytes: [u8; 4] = digest.get(offset..offset + 4)?.try_into().ok()?;
    Some((u32::from_be_bytes(bytes) & 0x7fff_ffff) % 1_000_000)
}

/// The step a code matches within ±1 step of now, if it is newer than the last one accepted
/// (so an observed code cannot be replayed inside its window).
pub(crate) fn matching_step(secret: &[u8], code: &str, now_step: i64, last_step: Option<i64>) -> Option<i64> {
    let code: u32 = code.parse().ok()?;
    (now_step - 1..=now_step + 1)
        .filter(|step| last_step.is_none_or(|last| *step > last))
        .find(|step| totp_at(secret, *step) == Some(code))
}

pub(crate) fn now_step() -> i64 {
    Utc::now().timestamp().div_euclid(STEP_SECS)
}

/// RFC 4648 base32 without padding.
pub(crate) fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// Percent-encodes all but RFC 3986 unreserved characters (the otpauth label and issuer).
pub(crate) fn percent_encode(raw: &str) -> String {
    raw.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_sha1_vectors() {
        // RFC 6238 appendix B uses the ASCII secret "12345678901234567890" and 8 digits; the
        // last six digits of its values are the 6-digit codes.
        let secret = b"12345678901234567890";
        for (time, expected) in
            [(59, 287_082), (1_111_111_109, 81_804), (1_234_567_890, 5_924), (2_000_000_000, 279_037)]
        {
            assert_eq!(totp_at(secret, time / 30), Some(expected), "t={time}");
        }
    }

    #[test]
    fn base32_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
    }

    #[test]
    fn codes_are_accepted_once_within_one_step() {
        let secret = [7u8; 20];
        let code = format!("{:06}", totp_at(&secret, 100).unwrap_or_default());
        assert_eq!(matching_step(&secret, &code, 101, None), Some(100));
        assert_eq!(matching_step(&secret, &code, 102, None), None, "two steps late");
        assert_eq!(matching_step(&secret, &code, 100, Some(100)), None, "replayed");
    }
}
