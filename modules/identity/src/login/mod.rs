//! How people sign in: passwords (registration, login, resets), the second factor (TOTP and
//! recovery codes), a shop's OpenID Connect provider, and the throttles on all of them.

pub(crate) mod hashing;
pub(crate) mod mfa;
pub(crate) mod mfa_store;
pub(crate) mod oidc;
pub(crate) mod password;
pub(crate) mod throttle;
pub(crate) mod totp;
