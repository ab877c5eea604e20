//! What identity counts with the kernel's one throttle (`agora_kernel::throttle`): the keys and
//! limits of password logins, MFA codes, and registration and reset requests. The counting itself
//! (atomic, before the verdict) is the kernel's.

use crate::{IdentityError, IdentityModule};
use agora_kernel::throttle::{self, OnSuccess, Rule, ThrottleScope};
use agora_kernel::TenantContext;

/// The key of a client address; `unknown` when the peer address is missing (unix sockets).
fn ip_key(prefix: &str, ip: Option<&str>) -> String {
    format!("{prefix}ip:{}", ip.unwrap_or("unknown"))
}

impl IdentityModule {
    /// A password login: the account typed (unknown ones too, so the throttle reveals nothing)
    /// starts over on success; the client address counts failures across accounts.
    pub(crate) fn login_rules(&self, account_key: &str, ip: Option<&str>) -> Vec<Rule> {
        let s = self.settings();
        vec![
            Rule::new(account_key, s.free_failures, s.max_failures_per_hour, OnSuccess::Reset),
            Rule::new(
                ip_key("", ip),
                s.max_failures_per_hour_per_ip,
                s.max_failures_per_hour_per_ip,
                OnSuccess::Refund,
            ),
        ]
    }

    /// A staff member re-typing their password (an owner changing sign-in settings): the same
    /// keys as their password logins, so it is no side door for guessing. The account key needs
    /// the email, known only once the account is read; hence a function of it.
    pub(crate) fn staff_login_rules(&self, ip: Option<&str>) -> impl FnOnce(&str) -> Vec<Rule> + Send + 'static {
        let this = self.clone();
        let ip = ip.map(str::to_string);
        move |email| this.login_rules(&format!("account:staff:{}", email.to_lowercase()), ip.as_deref())
    }

    /// An MFA code (login step, activation, removal): the holder's codes, as their logins.
    pub(crate) fn code_rules(&self, key: String) -> Vec<Rule> {
        let s = self.settings();
        vec![Rule::new(key, s.free_failures, s.max_failures_per_hour, OnSuccess::Reset)]
    }

    /// A request that mails someone (`register`, `reset`): every request counts, per address
    /// asked for (so nobody's inbox is flooded) and per client address (so one client cannot
    /// walk through addresses). A hard cap per hour, no free-then-delay.
    pub(crate) fn mail_request_rules(&self, what: &str, email: &str, ip: Option<&str>) -> Vec<Rule> {
        let s = self.settings();
        let (per_email, per_ip) = (s.mail_requests_per_hour_per_email, s.mail_requests_per_hour_per_ip);
        vec![
            Rule::new(format!("{what}:email:{}", email.to_lowercase()), per_email, per_email, OnSuccess::Keep),
            Rule::new(ip_key(&format!("{what}:"), ip), per_ip, per_ip, OnSuccess::Keep),
        ]
    }
}

impl IdentityModule {
    /// Counts a registration or reset request (`what`) for `email` from `ip` in its own committed
    /// transaction, before any hashing or mailing; past the budget, 429 with Retry-After.
    pub(crate) async fn admit_mail_request(
        &self,
        tenant: &TenantContext,
        what: &str,
        email: &str,
        ip: Option<&str>,
    ) -> Result<(), IdentityError> {
        let (rules, scope) = (self.mail_request_rules(what, email, ip), ThrottleScope::Shop(tenant.id));
        let reserved = self
            .db()
            .tenant_tx(&tenant.schema, async move |conn| {
                Ok::<_, IdentityError>(throttle::reserve(conn, scope, &rules).await?)
            })
            .await?;
        // Every request counts, so the reservation is simply kept.
        reserved.map(drop).map_err(|w| IdentityError::TooManyRequests { retry_after_secs: w.retry_after_secs })
    }
}
