//! The customer's own profile: the name and language the shop addresses them by.

use crate::CustomersError;
use serde::Deserialize;

/// Changes to the customer's own profile.
#[derive(Debug, Clone, Deserialize, paperclip::actix::Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct ProfilePatch {
    pub name: Option<String>,
    /// Preferred language for emails, e.g. `de`.
    pub locale: Option<String>,
}

/// A checked patch: trimmed, within bounds.
pub(crate) struct ProfileChanges {
    pub name: Option<String>,
    pub locale: Option<String>,
}

pub(crate) fn validate(patch: ProfilePatch) -> Result<ProfileChanges, CustomersError> {
    let name = patch.name.map(|n| n.trim().to_string());
    if name.as_ref().is_some_and(|n| n.chars().count() > 200) {
        return Err(CustomersError::field("name", "at most 200 characters"));
    }
    let locale = patch.locale.map(|l| l.trim().to_string());
    if locale
        .as_ref()
        .is_some_and(|l| l.is_empty() || l.len() > 35 || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    {
        return Err(CustomersError::field("locale", "a language tag such as de or de-CH"));
    }
    Ok(ProfileChanges { name, locale })
}
