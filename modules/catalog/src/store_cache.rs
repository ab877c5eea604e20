//! What the storefront keeps in the read cache (`agora_kernel::cache`): the key of each read
//! (everything that changes its answer), the tags a write drops it by, and how long it may live.
//!
//! - A product page is tagged by its product (`catalog:product:<id>`) and the category tree (its
//!   breadcrumbs); lists, search, suggestions and facets by `catalog:listing`, which every write
//!   that can change a list drops; category and collection pages by `catalog:categories` /
//!   `catalog:collections`. Every entry also carries the shop's settings (`shop`).
//! - Writes drop their tags after they commit (`Cache::after_commit`): a rolled-back write drops
//!   nothing, and the writing process never serves the old answer after its own write.
//! - Scheduled publication needs no write: an entry never outlives the next `publish_at` or
//!   `unpublish_at` that could change it, so a product appears (or goes) on time.
//! - Otherwise an entry lives 10 minutes in a single node (every invalidation happens in the
//!   process itself) and 30 s with Redis (an invalidation that could not reach Redis is made up
//!   for by then).

use crate::ProductId;
use agora_kernel::cache::Cache;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::time::Duration;

/// The longest an entry lives with Redis: when an invalidation cannot reach Redis, the other
/// replicas' copies are dropped by this at the latest.
pub(crate) const SHARED_TTL: Duration = Duration::from_secs(30);
/// The longest an entry lives in a single node: every write's invalidation happens in this very
/// process, and everything an entry shows is tagged, so this only bounds memory use.
pub(crate) const SINGLE_NODE_TTL: Duration = Duration::from_secs(600);

/// How long an anonymous shopper's priced page is kept whole (see `CatalogModule::priced`).
pub(crate) const PRICED_TTL: Duration = Duration::from_secs(1);

/// The longest an entry lives in `cache`'s mode.
pub(crate) fn max_ttl(cache: &Cache) -> Duration {
    if cache.is_shared() {
        SHARED_TTL
    } else {
        SINGLE_NODE_TTL
    }
}

/// Every list, search, suggestion and facet count.
pub(crate) const LISTING: &str = "catalog:listing";
/// The category tree (category pages, breadcrumbs on product pages).
pub(crate) const CATEGORIES: &str = "catalog:categories";
/// Collection pages.
pub(crate) const COLLECTIONS: &str = "catalog:collections";
/// The shop's settings and the currencies it sells in (every page: languages, prices), dropped
/// by the catalog's currency writes and the shop's settings (tenancy).
pub(crate) const SHOP: &str = agora_kernel::ports::SHOP_CACHE_TAG;

/// The tag of one product's page.
pub(crate) fn product(id: ProductId) -> String {
    format!("catalog:product:{id}")
}

/// What a write to one product drops: its page and every list.
pub(crate) fn product_written(id: ProductId) -> Vec<String> {
    vec![product(id), LISTING.to_string()]
}

/// What a write to anything else drops: its own pages and every list.
pub(crate) fn written(tag: &str) -> Vec<String> {
    vec![tag.to_string(), LISTING.to_string()]
}

/// The key of a read: its name and its inputs as JSON (unambiguous, whatever the inputs hold).
pub(crate) fn key(read: &str, inputs: impl Serialize) -> String {
    format!("catalog:{read}:{}", serde_json::to_string(&inputs).unwrap_or_default())
}

/// How long an entry read now may live: `max`, or less when a scheduled publication or
/// withdrawal falls before that.
pub(crate) fn ttl_until(next_change: Option<DateTime<Utc>>, max: Duration) -> Duration {
    let Some(next) = next_change else { return max };
    let left = (next - Utc::now()).to_std().unwrap_or_default();
    // The kernel keeps an entry at least a second; one that changes sooner is not worth keeping.
    left.clamp(Duration::ZERO, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_never_outlive_the_next_scheduled_change() {
        const MAX: Duration = SHARED_TTL;
        assert_eq!(ttl_until(None, MAX), MAX);
        let soon = ttl_until(Some(Utc::now() + chrono::Duration::seconds(5)), MAX);
        assert!(soon <= Duration::from_secs(5) && soon > Duration::from_secs(3), "{soon:?}");
        assert_eq!(ttl_until(Some(Utc::now() - chrono::Duration::seconds(5)), MAX), Duration::ZERO);
        assert_eq!(ttl_until(Some(Utc::now() + chrono::Duration::hours(5)), MAX), MAX);
    }

    #[test]
    fn keys_keep_inputs_apart() {
        assert_ne!(key("products", ("a,b", "c")), key("products", ("a", "b,c")));
        assert_ne!(key("products", ["de"]), key("search", ["de"]));
    }
}
