//! Loads a generated catalog into a shop through the catalog's facade (the same rules, events
//! and search documents as the admin API), in parallel. Safe to run again: what is already there
//! (categories and collections by slug, product types by name, products by their first SKU) is
//! left alone, so a second run adds nothing and an interrupted run finishes what it started.

use super::generate::{self, Context, Family, Generated};
use crate::cli::CliError;
use actix_web::web::Bytes;
use agora_catalog::{
    CatalogError, CatalogModule, CategoryId, MediaUpload, NewCategory, NewCollection, NewProductType, ProductFilter,
    ProductId, ProductSort, SoldCurrenciesInput,
};
use agora_kernel::lists::ListQuery;
use agora_kernel::storage::ConfiguredStorage;
use agora_kernel::{Acting, TenantContext};
use futures_util::{StreamExt, TryStreamExt};
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

/// What to load.
pub struct Plan {
    pub seed: u64,
    pub products: u64,
    /// Variants per product (`None`: 3 or 4, as the product calls for).
    pub variants: Option<usize>,
    /// Drafts, archived and scheduled products among the active ones.
    pub mixed_statuses: bool,
    /// Products created at once (each in its own transaction).
    pub parallel: usize,
    /// Give each product a picture (the demo; the benchmark goes without).
    pub pictures: bool,
    /// Who the catalog's history and audit columns name.
    pub acting: Acting,
}

/// What a load did.
#[derive(Debug)]
pub struct Loaded {
    pub products_created: usize,
    pub products_there: usize,
    pub categories_created: usize,
    pub collections_created: usize,
    pub took: Duration,
}

impl std::fmt::Display for Loaded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "catalog: {} products created ({} already there), {} categories and {} collections created, in {:.1} s",
            self.products_created,
            self.products_there,
            self.categories_created,
            self.collections_created,
            self.took.as_secs_f64()
        )
    }
}

fn failed(what: &str) -> impl Fn(CatalogError) -> CliError + '_ {
    move |e| {
        let e = agora_kernel::ApiError::from(e);
        let fields: Vec<String> = e.errors.iter().map(|f| format!("{}: {}", f.field, f.message)).collect();
        CliError::Failed(format!("{what}: {} {}", e.detail, fields.join("; ")))
    }
}

/// Loads the plan's catalog into `tenant`.
pub async fn load(
    catalog: &CatalogModule,
    storage: &ConfiguredStorage,
    tenant: &TenantContext,
    plan: &Plan,
) -> Result<Loaded, CliError> {
    let started = Instant::now();
    let acting = &plan.acting;

    // Two currencies: the shop's default and one more.
    let sold = catalog.sold_currencies(tenant).await.map_err(failed("currencies"))?;
    let second = generate::second_currency(&sold.default_currency);
    if !sold.currencies.iter().any(|c| c == second) {
        let mut currencies: Vec<String> =
            sold.currencies.iter().filter(|c| **c != sold.default_currency).cloned().collect();
        currencies.push(second.into());
        catalog
            .set_sold_currencies(tenant, SoldCurrenciesInput { currencies }, acting)
            .await
            .map_err(failed("currencies"))?;
    }

    // The category tree, parents first.
    let mut categories: BTreeMap<String, CategoryId> = catalog
        .list_categories(tenant)
        .await
        .map_err(failed("categories"))?
        .into_iter()
        .map(|c| (c.slug, c.id))
        .collect();
    let mut categories_created = 0;
    for spec in generate::categories() {
        if categories.contains_key(spec.slug) {
            continue;
        }
        let new = NewCategory {
            name: generate::text(spec.en, spec.de),
            description: None,
            slug: Some(spec.slug.into()),
            parent_id: spec.parent.and_then(|p| categories.get(p).copied()),
            position: Some(spec.position),
        };
        let created = catalog.create_category(tenant, new, acting).await.map_err(failed(spec.slug))?;
        categories.insert(created.slug, created.id);
        categories_created += 1;
    }

    // Product types, by name.
    let mut types: HashMap<String, agora_catalog::ProductTypeId> = catalog
        .list_product_types(tenant)
        .await
        .map_err(failed("product types"))?
        .into_iter()
        .map(|t| (t.name, t.id))
        .collect();
    let mut product_types = Vec::new();
    for spec in generate::product_types() {
        let id = match types.get(spec.name) {
            Some(id) => *id,
            None => {
                let new = NewProductType { name: spec.name.into(), attributes: spec.attributes };
                let created = catalog.create_product_type(tenant, new, acting).await.map_err(failed(spec.name))?;
                types.insert(created.name.clone(), created.id);
                created.id
            }
        };
        product_types.push((spec.family, id));
    }

    // Products: those whose first SKU the shop does not have yet.
    let ctx = Context {
        seed: plan.seed,
        default_currency: sold.default_currency.clone(),
        categories,
        product_types,
        variants: plan.variants,
        mixed_statuses: plan.mixed_statuses,
    };
    let mut ids = existing_products(catalog, tenant).await?;
    let products_there = ids.len();
    let missing: Vec<Generated> =
        (0..plan.products).map(|i| generate::product(&ctx, i)).filter(|g| !ids.contains_key(&g.key_sku)).collect();
    let products_created = missing.len();
    let created: Vec<(String, ProductId)> = futures_util::stream::iter(missing)
        .map(|generated| async move {
            let what = generated.key_sku.clone();
            let product = catalog.create_product(tenant, generated.new, acting).await.map_err(failed(&what))?;
            Ok::<_, CliError>((generated.key_sku, product.id))
        })
        .buffer_unordered(plan.parallel.max(1))
        .try_collect()
        .await?;
    ids.extend(created);
    if plan.pictures {
        let pictured: Vec<(ProductId, Generated)> = (0..plan.products)
            .map(|i| generate::product(&ctx, i))
            .filter_map(|g| ids.get(&g.key_sku).map(|id| (*id, g)))
            .collect();
        attach_pictures(catalog, storage, tenant, &pictured, plan.parallel, acting).await?;
    }

    let collections_created = collections(catalog, tenant, plan, &ids, acting).await?;
    Ok(Loaded { products_created, products_there, categories_created, collections_created, took: started.elapsed() })
}

/// Gives every product without a picture one, drawn by [`super::pictures::picture`] from its
/// colour and kind and uploaded through the catalog's media facade (the same checks, events and
/// thumbnail job as an upload by staff). One drawing per colour and kind serves every product
/// that shares them, so the demo draws a few dozen JPEGs, not one per product. Returns how many
/// products got one.
async fn attach_pictures(
    catalog: &CatalogModule,
    storage: &ConfiguredStorage,
    tenant: &TenantContext,
    products: &[(ProductId, Generated)],
    parallel: usize,
    acting: &Acting,
) -> Result<usize, CliError> {
    let mut drawings: HashMap<(&'static str, Family), Bytes> = HashMap::new();
    for (_, generated) in products {
        let key = (generated.colour.code, generated.family);
        if let std::collections::hash_map::Entry::Vacant(slot) = drawings.entry(key) {
            let (colour, family) = (generated.colour, generated.family);
            let jpeg = tokio::task::spawn_blocking(move || super::pictures::picture(colour, family, 0))
                .await
                .map_err(|e| CliError::Failed(format!("drawing a picture: {e}")))?;
            slot.insert(Bytes::from(jpeg));
        }
    }
    let drawings = &drawings;
    let attached: Vec<bool> = futures_util::stream::iter(products)
        .map(|(id, generated)| async move {
            let what = generated.key_sku.as_str();
            let there = catalog.product_media(tenant, *id).await.map_err(failed(what))?;
            if !there.items.is_empty() {
                return Ok(false);
            }
            let Some(jpeg) = drawings.get(&(generated.colour.code, generated.family)).cloned() else {
                return Ok(false);
            };
            let alt = generated.new.name.exact("en").map(str::to_string);
            let upload = MediaUpload { alt, locale: alt_locale(&generated.new.name), variant_id: None };
            let length = jpeg.len() as u64;
            let body = futures_util::stream::once(async move { Ok::<_, std::convert::Infallible>(jpeg) });
            catalog.add_media(tenant, storage, *id, upload, body, Some(length), acting).await.map_err(failed(what))?;
            Ok::<_, CliError>(true)
        })
        .buffer_unordered(parallel.max(1))
        .try_collect()
        .await?;
    Ok(attached.into_iter().filter(|a| *a).count())
}

/// The language the alt text is in (the product's English name, the demo's first language).
fn alt_locale(name: &agora_kernel::values::LocalizedText) -> Option<String> {
    name.exact("en").map(|_| "en".to_string())
}

/// The shop's products by their first variant's SKU.
async fn existing_products(
    catalog: &CatalogModule,
    tenant: &TenantContext,
) -> Result<HashMap<String, ProductId>, CliError> {
    let mut found = HashMap::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = ListQuery::<ProductSort>::new(100, cursor.as_deref()).map_err(|e| CliError::Failed(e.detail))?;
        let page = catalog
            .list_products(tenant, &query, ProductFilter::default())
            .await
            .map_err(|e| CliError::Failed(e.detail))?;
        for product in page.items {
            if let Some(first) = product.variants.iter().min_by_key(|v| v.position) {
                found.insert(first.sku.clone(), product.id);
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(found),
        }
    }
}

/// Two hand-picked collections and three by rule.
async fn collections(
    catalog: &CatalogModule,
    tenant: &TenantContext,
    plan: &Plan,
    ids: &HashMap<String, ProductId>,
    acting: &Acting,
) -> Result<usize, CliError> {
    let there: Vec<String> =
        catalog.list_collections(tenant).await.map_err(failed("collections"))?.into_iter().map(|c| c.slug).collect();
    // Hand-picked: every n-th product that is on sale (active), by its SKU.
    let ctx = Context {
        seed: plan.seed,
        default_currency: String::new(),
        categories: BTreeMap::new(),
        product_types: vec![],
        variants: plan.variants,
        mixed_statuses: plan.mixed_statuses,
    };
    let pick = |step: u64, offset: u64| -> Vec<ProductId> {
        (0..plan.products)
            .filter(|i| i % step == offset)
            .map(|i| generate::product(&ctx, i))
            .filter(|g| g.new.status == Some(agora_catalog::ProductStatus::Active) && g.new.publish_at.is_none())
            .filter_map(|g| ids.get(&g.key_sku).copied())
            .take(12)
            .collect()
    };
    let wanted = [
        ("staff-picks", "Staff Picks", "Lieblingsstücke", None, pick(11, 3)),
        ("gift-ideas", "Gift Ideas", "Geschenkideen", None, pick(13, 5)),
        ("summer-sale", "Summer Sale", "Sommerschlussverkauf", Some("tag = summer and tag = sale"), vec![]),
        ("under-30", "Under 30", "Unter 30", Some("price < 30"), vec![]),
        ("wireless", "Cable-Free", "Ohne Kabel", Some("attribute.wireless = true"), vec![]),
    ];
    let mut created = 0;
    for (slug, en, de, rule, product_ids) in wanted {
        if there.iter().any(|s| s == slug) {
            continue;
        }
        let new = NewCollection {
            name: generate::text(en, de),
            description: None,
            slug: Some(slug.into()),
            rule: rule.map(Into::into),
            product_ids,
        };
        catalog.create_collection(tenant, new, acting).await.map_err(failed(slug))?;
        created += 1;
    }
    Ok(created)
}

/// `agora bench-seed`: the benchmark's catalog (every product active, N variants each), then
/// what its load generator reads: `products.tsv` (id, version, slug), `queries.txt`,
/// `categories.txt` (leaf category slugs) and `api-key` (catalog.read + catalog.manage,
/// inventory.read + inventory.manage). With `--stock N`, every variant is counted to N on hand
/// and `variants.txt` lists them (one id a line).
pub async fn bench_seed(state: &crate::app::AppState, args: crate::cli::BenchSeedArgs) -> Result<(), CliError> {
    let tenant = state
        .tenancy
        .resolve(None, Some(&args.slug))
        .await
        .map_err(|e| CliError::Failed(e.to_string()))?
        .ok_or_else(|| CliError::Failed(format!("no active shop named {}", args.slug)))?;
    let plan = Plan {
        seed: args.seed,
        products: args.products,
        variants: Some(args.variants),
        mixed_statuses: false,
        parallel: args.parallel,
        pictures: false,
        acting: Acting::system("bench"),
    };
    let loaded = load(&state.catalog, &state.storage, &tenant, &plan).await?;
    println!("{loaded}");
    let stocked = match args.stock {
        Some(on_hand) => {
            let variants = super::stock::count_every_variant(
                &state.catalog,
                &state.inventory,
                &tenant,
                on_hand,
                args.parallel,
                &plan.acting,
            )
            .await?;
            println!("bench stock: {} variants counted to {on_hand} on hand", variants.len());
            Some(variants)
        }
        None => None,
    };

    let write = |name: &str, body: String| {
        let path = args.out.join(name);
        std::fs::write(&path, body).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))
    };
    std::fs::create_dir_all(&args.out).map_err(|e| CliError::Failed(format!("{}: {e}", args.out.display())))?;
    let mut rows = String::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = ListQuery::<ProductSort>::new(100, cursor.as_deref()).map_err(|e| CliError::Failed(e.detail))?;
        let page = state
            .catalog
            .list_products(&tenant, &query, ProductFilter::default())
            .await
            .map_err(|e| CliError::Failed(e.detail))?;
        for p in page.items {
            let slug = p.slug.get("en").or_else(|| p.slug.values().next()).cloned().unwrap_or_default();
            rows.push_str(&format!("{}\t{}\t{slug}\n", p.id, p.version));
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    write("products.tsv", rows)?;
    write("queries.txt", generate::search_queries(args.seed, 45_000).join("\n") + "\n")?;
    write("categories.txt", generate::leaf_category_slugs().join("\n") + "\n")?;
    if let Some(variants) = stocked {
        write("variants.txt", variants.iter().map(|v| format!("{v}\n")).collect())?;
    }
    let key = state
        .identity
        .create_api_key(
            &tenant,
            agora_identity::NewApiKey {
                name: "benchmark".into(),
                scopes: ["catalog.read", "catalog.manage", "inventory.read", "inventory.manage"]
                    .map(String::from)
                    .to_vec(),
            },
            &agora_identity::Grantor::System("bench"),
        )
        .await
        .map_err(|e| CliError::Failed(format!("API key: {e}")))?;
    write("api-key", key.key.unwrap_or_default())?;
    println!("load generator inputs written to {}", args.out.display());
    Ok(())
}
