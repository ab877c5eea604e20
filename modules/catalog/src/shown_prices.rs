//! The prices shoppers see on product pages and in lists come from pricing (price lists per
//! customer group and date, conversion rates) through the kernel's `ShopperPrices` port; the
//! catalog only keeps base prices.
//!
//! The overlay is applied **after** the read cache: the cached page is the same for everyone
//! (base prices), and its prices are replaced per request from one port call for all the page's
//! variants (one transaction, a constant number of queries whatever the page size).
//!
//! - **Anonymous shoppers** all see the same prices, so the port's answer is itself kept in the
//!   cache, tagged by every catalog write (`catalog:listing`: base prices, variants) and by every
//!   price write (`PRICES_CACHE_TAG`), and never past the next start or end of a price list
//!   (`valid_until`): a cached page costs no query at all.
//! - **Signed-in customers** may be in groups with their own prices: their answer is asked for
//!   each request and never cached (their responses are `private, no-store`).
//!
//! Not overlaid (yet): list sorting, price filters and the facets' price range still use base
//! prices, which the listing query reads in SQL.

use crate::storefront::{StoreProduct, StoreProductSummary};
use crate::{store, store_cache, ProductId};
use actix_web::web::Bytes;
use agora_kernel::cache::{Cache, Lookup};
use agora_kernel::db::DbError;
use agora_kernel::money::{Currency, Money};
use agora_kernel::ports::{PriceAnswer, PriceRequest, ShopperPrices, PRICES_CACHE_TAG};
use agora_kernel::{Acting, ApiError, Database, TenantContext};
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::HashMap;
use std::future::Future;
use std::time::Duration;

/// What the overlay needs from the catalog.
pub(crate) struct Overlay<'a> {
    pub prices: &'a dyn ShopperPrices,
    pub cache: &'a Cache,
    pub db: &'a Database,
    pub reader: &'a Acting,
}

impl Overlay<'_> {
    /// `compute`'s answer; for anonymous shoppers (`customer` is `None`) kept under `key`, tagged
    /// by catalog and price writes, until the answer's `valid_until` at the latest.
    async fn shared<T: Serialize + DeserializeOwned>(
        &self,
        tenant: &TenantContext,
        key: &str,
        customer: Option<uuid::Uuid>,
        compute: impl Future<Output = Result<(T, Option<DateTime<Utc>>), ApiError>>,
    ) -> Result<T, ApiError> {
        if customer.is_some() {
            return Ok(compute.await?.0);
        }
        let fill = match self.cache.lookup(tenant, key).await {
            Lookup::Hit(body) => match serde_json::from_slice::<T>(&body) {
                Ok(value) => return Ok(value),
                // An entry of an older shape: answer afresh (it is replaced within its TTL).
                Err(_) => return Ok(compute.await?.0),
            },
            Lookup::Miss(fill) => fill,
        };
        let (value, valid_until) = compute.await?;
        let ttl = store_cache::ttl_until(valid_until, store_cache::max_ttl(self.cache));
        if ttl >= Duration::from_secs(1) {
            let body = Bytes::from(serde_json::to_vec(&value).map_err(ApiError::internal)?);
            let tags = [store_cache::LISTING.to_string(), PRICES_CACHE_TAG.to_string(), store_cache::SHOP.to_string()];
            self.cache.fill(fill, &tags, body, ttl).await;
        }
        Ok(value)
    }

    async fn ask(
        &self,
        tenant: &TenantContext,
        variants: &[uuid::Uuid],
        currency: Currency,
        customer: Option<uuid::Uuid>,
    ) -> Result<PriceAnswer, ApiError> {
        let request = PriceRequest { variants, currency, customer, at: Utc::now() };
        Ok(self.prices.prices(tenant, request).await?)
    }

    /// A product page (JSON of [`StoreProduct`]) with each variant's price as the shopper pays it.
    pub async fn product(
        &self,
        tenant: &TenantContext,
        body: Bytes,
        customer: Option<uuid::Uuid>,
    ) -> Result<Bytes, ApiError> {
        let mut product: StoreProduct = serde_json::from_slice(&body).map_err(ApiError::internal)?;
        let Some(currency) = Currency::parse(&product.currency) else { return Ok(body) };
        let variants: Vec<uuid::Uuid> = product.variants.iter().map(|v| v.id.as_uuid()).collect();
        let key = store_cache::key("prices:product", (product.id, currency.as_str()));
        let answer = self
            .shared(tenant, &key, customer, async {
                let answer = self.ask(tenant, &variants, currency, customer).await?;
                let until = answer.valid_until;
                Ok((answer, until))
            })
            .await?;
        for v in &mut product.variants {
            let shown = answer.prices.get(&v.id.as_uuid());
            v.price = shown.map(|s| s.price);
            v.compare_at = shown.and_then(|s| s.compare_at);
        }
        Ok(Bytes::from(serde_json::to_vec(&product).map_err(ApiError::internal)?))
    }

    /// List items (their `price_from`: the lowest price of their variants as the shopper pays
    /// it, with that variant's `compare_at`), with one query for the variants of the page's
    /// products and one port call. `key` names the page (its cache key).
    pub async fn items(
        &self,
        tenant: &TenantContext,
        key: &str,
        items: &mut [StoreProductSummary],
        currency: &str,
        customer: Option<uuid::Uuid>,
    ) -> Result<(), ApiError> {
        let Some(currency) = Currency::parse(currency) else { return Ok(()) };
        let ids: Vec<ProductId> = items.iter().map(|i| i.id).collect();
        if ids.is_empty() {
            return Ok(());
        }
        let key = store_cache::key("prices:list", (key, currency.as_str()));
        let lowest: HashMap<uuid::Uuid, (Money, Option<Money>)> = self
            .shared(tenant, &key, customer, async {
                let pairs = self
                    .db
                    .in_tenant(tenant, self.reader, async |tx| {
                        store::live_variants_of(tx.conn(), &ids).await.map_err(DbError::Query)
                    })
                    .await?;
                let variants: Vec<uuid::Uuid> = pairs.iter().map(|(_, v)| v.as_uuid()).collect();
                let answer = self.ask(tenant, &variants, currency, customer).await?;
                let mut lowest: HashMap<uuid::Uuid, (Money, Option<Money>)> = HashMap::new();
                for (product, variant) in &pairs {
                    if let Some(shown) = answer.prices.get(&variant.as_uuid()) {
                        let entry = lowest.entry(product.as_uuid()).or_insert((shown.price, shown.compare_at));
                        if shown.price.amount < entry.0.amount {
                            *entry = (shown.price, shown.compare_at);
                        }
                    }
                }
                Ok((lowest, answer.valid_until))
            })
            .await?;
        for item in items {
            let shown = lowest.get(&item.id.as_uuid());
            item.price_from = shown.map(|s| s.0);
            item.compare_at = shown.and_then(|s| s.1);
        }
        Ok(())
    }
}
