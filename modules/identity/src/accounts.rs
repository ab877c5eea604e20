//! What every flow agrees an account is made of: how an email and a password are checked, how
//! other modules name an account, and where a request came from. Depends on no flow.

use crate::login::hashing;
use crate::sessions::store::Device;
use crate::{IdentityError, UserKind};

/// Where the request came from, for throttling and the audit log. Links in emails never come
/// from here: a client chooses its headers (see `login::password::shop_url`).
#[derive(Debug, Clone, Default)]
pub struct RequestOrigin {
    pub ip: Option<String>,
    /// The client's `User-Agent`, recorded with the sessions it opens.
    pub user_agent: Option<String>,
}

impl RequestOrigin {
    pub(crate) fn device(&self) -> Device {
        Device { ip: self.ip.clone(), user_agent: self.user_agent.clone() }
    }
}

/// Trims and checks an email address: one `@`, something either side, no spaces.
pub(crate) fn parse_email(raw: &str) -> Result<String, IdentityError> {
    let email = raw.trim();
    let valid = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if valid {
        Ok(email.to_string())
    } else {
        Err(IdentityError::field("email", "must be an email address such as name@example.com"))
    }
}

pub(crate) fn check_password(field: &str, raw: &str) -> Result<(), IdentityError> {
    hashing::check_policy(raw).map_err(|m| IdentityError::field(field, m))
}

/// How other modules name a shop account: `customer:<uuid>` or `staff:<uuid>`.
pub(crate) fn account_key(kind: UserKind, id: uuid::Uuid) -> String {
    format!("{}:{id}", kind.as_str())
}
