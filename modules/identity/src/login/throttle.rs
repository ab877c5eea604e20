//! What identity counts with the kernel's one throttle (`agora_kernel::throttle`): the keys and
//! limits of password logins, MFA codes, and registration and reset requests. The counting itself
//! (atomic, before the verdict) is the kernel's.

use crate::IdentitySettings;
use agora_kernel::throttle::{OnSuccess, Reservation, Rule, Wait};

/// An attempt counted (or refused, with how long to wait) and what was found for it.
pub(crate) type Reserved<T> = (Result<Reservation, Wait>, T);

/// The key of a client address; `unknown` when the peer address is missing (unix sockets).
fn ip_key(prefix: &str, ip: Option<&str>) -> String {
    format!("{prefix}ip:{}", ip.unwrap_or("unknown"))
}

/// A password login: the account typed (unknown ones too, so the throttle reveals nothing)
/// starts over on success; the client address counts failures across accounts.
pub(crate) fn login_rules(s: &IdentitySettings, account_key: &str, ip: Option<&str>) -> Vec<Rule> {
    vec![
        Rule::new(account_key, s.free_failures, s.max_failures_per_hour, OnSuccess::Reset),
        Rule::new(ip_key("", ip), s.max_failures_per_hour_per_ip, s.max_failures_per_hour_per_ip, OnSuccess::Refund),
    ]
}

/// A staff member re-typing their password (an owner changing sign-in settings): the same keys
/// as their password logins, so it is no side door for guessing.
pub(crate) fn staff_login_rules(s: &IdentitySettings, email: &str, ip: Option<&str>) -> Vec<Rule> {
    login_rules(s, &format!("account:staff:{}", email.to_lowercase()), ip)
}

/// An MFA code (login step, activation, removal): the holder's codes, as their logins.
pub(crate) fn code_rules(s: &IdentitySettings, key: String) -> Vec<Rule> {
    vec![Rule::new(key, s.free_failures, s.max_failures_per_hour, OnSuccess::Reset)]
}

/// A request that mails someone (`register`, `reset`): every request counts, per address asked
/// for (so nobody's inbox is flooded) and per client address (so one client cannot walk through
/// addresses). A hard cap per hour, no free-then-delay.
pub(crate) fn mail_request_rules(s: &IdentitySettings, what: &str, email: &str, ip: Option<&str>) -> Vec<Rule> {
    let (per_email, per_ip) = (s.mail_requests_per_hour_per_email, s.mail_requests_per_hour_per_ip);
    vec![
        Rule::new(format!("{what}:email:{}", email.to_lowercase()), per_email, per_email, OnSuccess::Keep),
        Rule::new(ip_key(&format!("{what}:"), ip), per_ip, per_ip, OnSuccess::Keep),
    ]
}
