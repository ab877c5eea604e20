//! Guest carts worked out once and kept in the storefront read cache (`agora_kernel::cache`)
//! until something they were worked out from changes.
//!
//! - **Key**: the token's hash (never the token) and the shopper's languages. A customer's cart
//!   is not kept: their groups, exemptions and per-customer limits are theirs alone, as on
//!   product pages (`agora_catalog`'s price overlay).
//! - **Tags**: the cart itself (every change to it, and its merge or abandonment, marks it stale
//!   in its transaction), the cart rules, every pricing write (`PRICES_CACHE_TAG`), the lines'
//!   products and the catalog's shared pages (`CartCatalog::cache_tags`), the lines' stock and
//!   the shop's locations (`InventoryModule::cache_tags`). The writers mark these with
//!   `TenantTx::stale`, so a write in any transaction — a facade's or checkout's — drops them
//!   once it commits.
//! - **Time**: never past the next scheduled change (a promotion or price list window, a
//!   product's publication), nor [`TTL`]: settings read from outside these modules (the shop's
//!   languages) are seen within it.

use chrono::{DateTime, Utc};
use std::fmt::Write;
use std::time::Duration;

/// The longest a worked-out cart is kept.
const TTL: Duration = Duration::from_secs(30);

/// The cart rules (their limits and abandonment time show in every answer).
pub(crate) const SETTINGS_TAG: &str = "cart:settings";

/// The tag of one cart.
pub(crate) fn cart_tag(id: impl std::fmt::Display) -> String {
    format!("cart:{id}")
}

/// What a guest's read is kept under: the hash their token is found by, and their languages.
pub(crate) fn key(token_hash: &[u8], languages: &[String]) -> String {
    let mut key = String::with_capacity(96);
    key.push_str("cart:view:");
    for byte in token_hash {
        let _ = write!(key, "{byte:02x}");
    }
    // Language tags hold no ':' or ','; JSON keeps the list unambiguous whatever they hold.
    key.push(':');
    key.push_str(&serde_json::to_string(languages).unwrap_or_default());
    key
}

/// How long an answer worked out now may be kept: [`TTL`], or until `next_change`; `None` when
/// that is under a second away (not worth keeping).
pub(crate) fn keep_for(next_change: Option<DateTime<Utc>>) -> Option<Duration> {
    let ttl = match next_change {
        None => TTL,
        Some(at) => (at - Utc::now()).to_std().unwrap_or_default().min(TTL),
    };
    (ttl >= Duration::from_secs(1)).then_some(ttl)
}

/// What a worked-out cart depends on: the tags that drop it, and when it changes without a write.
#[derive(Debug, Default)]
pub(crate) struct Depends {
    pub tags: Vec<String>,
    pub next_change: Option<DateTime<Utc>>,
}

impl Depends {
    pub(crate) fn changes_at(&mut self, at: Option<DateTime<Utc>>) {
        self.next_change = match (self.next_change, at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_keep_tokens_and_languages_apart() {
        let a = key(&[1, 2], &["de".into(), "en".into()]);
        assert_eq!(a, r#"cart:view:0102:["de","en"]"#);
        assert_ne!(a, key(&[1, 2], &["en".into(), "de".into()]));
        assert_ne!(a, key(&[1, 3], &["de".into(), "en".into()]));
    }

    #[test]
    fn answers_are_kept_until_the_next_scheduled_change() {
        assert_eq!(keep_for(None), Some(TTL));
        let soon = keep_for(Some(Utc::now() + chrono::Duration::seconds(5))).unwrap_or_default();
        assert!(soon <= Duration::from_secs(5) && soon > Duration::from_secs(3), "{soon:?}");
        assert_eq!(keep_for(Some(Utc::now() + chrono::Duration::milliseconds(300))), None);
        assert_eq!(keep_for(Some(Utc::now() - chrono::Duration::seconds(5))), None);
        assert_eq!(keep_for(Some(Utc::now() + chrono::Duration::hours(5))), Some(TTL));
        let mut depends = Depends::default();
        let later = Utc::now() + chrono::Duration::hours(1);
        let sooner = Utc::now() + chrono::Duration::minutes(1);
        depends.changes_at(Some(later));
        depends.changes_at(None);
        depends.changes_at(Some(sooner));
        assert_eq!(depends.next_change, Some(sooner));
    }
}
