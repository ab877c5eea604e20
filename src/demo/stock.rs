//! Stock for the demo shop: a warehouse and a store, and a count for every variant — most in
//! stock, some running low, a few sold out, one kind taking backorders — so the storefront's
//! availability labels and its "in stock only" filter have something to show. Through the
//! inventory's facade (the same rules, ledger and events as staff counting stock). Runs once:
//! a shop that has stock locations already is left alone.

use super::generate::Rng;
use crate::cli::CliError;
use agora_catalog::{CatalogModule, ProductFilter, ProductSort, VariantId};
use agora_inventory::{
    InventoryError, InventoryModule, LocationId, NewLocation, StockCount, StockPolicy, StockSettingsInput,
};
use agora_kernel::lists::ListQuery;
use agora_kernel::{Acting, TenantContext};
use futures_util::{StreamExt, TryStreamExt};

/// What stocking the demo did.
pub struct Stocked {
    pub variants: usize,
    pub sold_out: usize,
}

impl std::fmt::Display for Stocked {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.variants == 0 {
            return write!(f, "demo stock: already there");
        }
        write!(f, "demo stock: {} variants counted in 2 locations, {} sold out", self.variants, self.sold_out)
    }
}

fn failed(what: &str) -> impl Fn(InventoryError) -> CliError + '_ {
    move |e| {
        let e = agora_kernel::ApiError::from(e);
        CliError::Failed(format!("{what}: {}", e.detail))
    }
}

/// Counts stock for every variant of the shop, unless it has stock locations already.
pub async fn load(
    catalog: &CatalogModule,
    inventory: &InventoryModule,
    tenant: &TenantContext,
    seed: u64,
    acting: &Acting,
) -> Result<Stocked, CliError> {
    if !inventory.locations(tenant).await.map_err(failed("locations"))?.is_empty() {
        return Ok(Stocked { variants: 0, sold_out: 0 });
    }
    // The city store is also where shoppers may collect their orders.
    let location = |name: &str, priority: i32| NewLocation {
        name: name.into(),
        address: None,
        priority: Some(priority),
        active: None,
        ships_to: None,
        pickup: Some(priority > 1),
    };
    let warehouse =
        inventory.create_location(tenant, location("Warehouse", 1), acting).await.map_err(failed("warehouse"))?;
    let store = inventory.create_location(tenant, location("City store", 2), acting).await.map_err(failed("store"))?;

    let variants = all_variants(catalog, tenant).await?;
    let mut rng = Rng::new(seed);
    // (variant, warehouse count, store count, settings)
    let plan: Vec<(VariantId, i32, i32, Option<StockSettingsInput>)> = variants
        .iter()
        .map(|v| {
            let roll = rng.range(0, 100);
            let settings = |policy: StockPolicy| StockSettingsInput {
                tracked: true,
                policy,
                backorder_limit: (policy == StockPolicy::Backorder).then_some(20),
                preorder_until: None,
                low_stock_threshold: Some(3),
            };
            // Few events per variant (each count is a ledger entry and events that subscribers
            // work through after the load): one count for most, a second place for some.
            match roll {
                0..8 => (*v, 0, 0, None),
                8..12 => (*v, 0, 0, Some(settings(StockPolicy::Backorder))),
                12..22 => (*v, 0, rng.range(1, 4) as i32, Some(settings(StockPolicy::Deny))),
                22..40 => (*v, rng.range(5, 80) as i32, rng.range(1, 10) as i32, None),
                _ => (*v, rng.range(5, 80) as i32, 0, None),
            }
        })
        .collect();
    let sold_out = plan.iter().filter(|(_, w, s, settings)| w + s == 0 && settings.is_none()).count();
    let (warehouse, store) = (warehouse.id, store.id);
    futures_util::stream::iter(plan)
        .map(|(variant, in_warehouse, in_store, settings)| async move {
            count(inventory, tenant, variant, warehouse, in_warehouse, acting).await?;
            if in_store > 0 {
                count(inventory, tenant, variant, store, in_store, acting).await?;
            }
            if let Some(settings) = settings {
                let version = inventory.variant_stock(tenant, variant).await.map_err(failed("stock"))?.settings_version;
                inventory
                    .set_stock_settings(tenant, variant, settings, Some(version), acting)
                    .await
                    .map_err(failed("settings"))?;
            }
            Ok::<_, CliError>(())
        })
        .buffer_unordered(4)
        .try_collect::<()>()
        .await?;
    Ok(Stocked { variants: variants.len(), sold_out })
}

async fn count(
    inventory: &InventoryModule,
    tenant: &TenantContext,
    variant: VariantId,
    location: LocationId,
    on_hand: i32,
    acting: &Acting,
) -> Result<(), CliError> {
    let count = StockCount { on_hand, safety_stock: None, note: Some("demo stock".into()) };
    inventory.count_stock(tenant, variant, location, count, acting).await.map_err(failed("count"))?;
    Ok(())
}

async fn all_variants(catalog: &CatalogModule, tenant: &TenantContext) -> Result<Vec<VariantId>, CliError> {
    let mut found = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = ListQuery::<ProductSort>::new(100, cursor.as_deref()).map_err(|e| CliError::Failed(e.detail))?;
        let page = catalog
            .list_products(tenant, &query, ProductFilter::default())
            .await
            .map_err(|e| CliError::Failed(e.detail))?;
        found.extend(page.items.iter().flat_map(|p| p.variants.iter().map(|v| v.id)));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(found),
        }
    }
}

/// `agora bench-seed --stock N`: every variant of the shop counted to `on_hand` at one location —
/// the shop's first (by priority) or, when it has none, a new "Bench warehouse" — through the
/// facade, `parallel` counts at once. Returns the variants, in catalog order.
pub async fn count_every_variant(
    catalog: &CatalogModule,
    inventory: &InventoryModule,
    tenant: &TenantContext,
    on_hand: i32,
    parallel: usize,
    acting: &Acting,
) -> Result<Vec<VariantId>, CliError> {
    let mut locations = inventory.locations(tenant).await.map_err(failed("locations"))?;
    locations.sort_by_key(|l| l.priority);
    let location = match locations.into_iter().next() {
        Some(existing) => existing.id,
        None => {
            let new = NewLocation {
                name: "Bench warehouse".into(),
                address: None,
                priority: Some(1),
                active: None,
                ships_to: None,
                pickup: None,
            };
            inventory.create_location(tenant, new, acting).await.map_err(failed("bench warehouse"))?.id
        }
    };
    let variants = all_variants(catalog, tenant).await?;
    futures_util::stream::iter(variants.iter().copied())
        .map(|variant| async move {
            let count = StockCount { on_hand, safety_stock: None, note: Some("bench stock".into()) };
            inventory.count_stock(tenant, variant, location, count, acting).await.map_err(failed("count"))?;
            Ok::<_, CliError>(())
        })
        .buffer_unordered(parallel.max(1))
        .try_collect::<()>()
        .await?;
    Ok(variants)
}
