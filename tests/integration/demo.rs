//! The demo catalog: loaded through the catalog's facade into a fresh shop, it is what a shopper
//! and a merchant see on the first run, and loading it again adds and changes nothing.

use crate::support::TestApp;
use agora::demo::generate::{self, Context};
use agora::demo::{load_catalog, load_stock, DEMO_PRODUCTS, DEMO_SEED};
use agora_catalog::{ProductFilter, ProductSort, ProductStatus};
use agora_kernel::lists::ListQuery;
use agora_kernel::TenantContext;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// Every product of the shop as (id → version), with the number of drafts and archived ones.
async fn products(app: &TestApp, tenant: &TenantContext) -> (BTreeMap<String, i64>, Vec<agora_catalog::Product>) {
    let (mut versions, mut all) = (BTreeMap::new(), Vec::new());
    let mut cursor: Option<String> = None;
    loop {
        let query = ListQuery::<ProductSort>::new(100, cursor.as_deref()).unwrap();
        let page = app.state.catalog.list_products(tenant, &query, ProductFilter::default()).await.unwrap();
        for p in page.items {
            versions.insert(p.id.to_string(), p.version);
            all.push(p);
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return (versions, all),
        }
    }
}

async fn store_get(app: &TestApp, shop: &str, path: &str, language: &str) -> Value {
    let res = app.get(path).header("x-tenant-id", shop).header("accept-language", language).send().await.unwrap();
    assert_eq!(res.status(), 200, "GET {path}");
    res.json().await.unwrap()
}

#[tokio::test]
async fn the_demo_catalog_loads_once_in_two_languages_and_currencies_and_shoppers_find_it() {
    let app = TestApp::spawn().await;
    let shop = app.tenant("demo-catalog").await; // EUR by default, en + de
    let tenant = app.context(&shop).await;

    let first = load_catalog(&app.state, &tenant).await.unwrap();
    assert_eq!((first.products_created, first.products_there), (DEMO_PRODUCTS as usize, 0), "{first}");
    assert_eq!(first.collections_created, 5, "{first}");

    // The tree: three levels, every category named in both languages.
    let categories = app.state.catalog.list_categories(&tenant).await.unwrap();
    assert_eq!(categories.len(), generate::categories().len());
    assert_eq!(first.categories_created, categories.len());
    assert_eq!(categories.iter().map(|c| c.breadcrumbs.len()).max(), Some(2), "three levels");
    assert!(categories.iter().all(|c| c.name.exact("de").is_some() && c.name.exact("en").is_some()));

    // Products: a mix of statuses, variants with SKUs, barcodes, weights and prices in both
    // currencies (the shop's EUR and USD), some on sale, slugs in both languages.
    let (versions, all) = products(&app, &tenant).await;
    assert_eq!(all.len(), DEMO_PRODUCTS as usize);
    let statuses: BTreeSet<String> = all.iter().map(|p| p.status.to_string()).collect();
    assert_eq!(statuses, BTreeSet::from(["active".into(), "archived".into(), "draft".into()]));
    let sold = app.state.catalog.sold_currencies(&tenant).await.unwrap();
    assert_eq!(sold.currencies, ["EUR", "USD"]);
    let mut on_sale = 0;
    for p in &all {
        assert!(p.variants.len() >= 3, "{}", p.id);
        assert_eq!(p.slug.keys().map(String::as_str).collect::<Vec<_>>(), ["de", "en"]);
        assert!(p.description.exact("de").is_some() && p.category_ids.len() == 1 && p.product_type_id.is_some());
        for v in &p.variants {
            assert!(v.barcode.as_deref().is_some_and(|b| b.len() == 13) && v.weight_grams.is_some());
            let currencies: BTreeSet<String> = v.prices.iter().map(|price| price.price.currency.to_string()).collect();
            assert_eq!(currencies, BTreeSet::from(["EUR".into(), "USD".into()]), "{}", v.sku);
            on_sale += v.prices.iter().filter(|price| price.compare_at.is_some()).count();
        }
    }
    assert!(on_sale > 0, "some compare-at prices");

    // Every product has a picture (its thumbnails are the job's), drawn once per colour and kind:
    // products of the same colour and kind share one drawing (the same size in bytes).
    let mut pictures = BTreeMap::new();
    for p in &all {
        let media = app.state.catalog.product_media(&tenant, p.id).await.unwrap();
        assert_eq!(media.items.len(), 1, "{}", p.id);
        assert!(media.items[0].alt.exact("en").is_some(), "{:?}", media.items[0]);
        pictures.insert(media.items[0].byte_size, ());
    }
    assert!(pictures.len() < all.len() / 3, "{} distinct pictures for {} products", pictures.len(), all.len());

    // A shopper searching for a product by its name finds it first; the German page has German text.
    let plain = Context {
        seed: DEMO_SEED,
        default_currency: "EUR".into(),
        categories: BTreeMap::new(),
        product_types: vec![],
        variants: None,
        mixed_statuses: true,
    };
    let wanted = (0..DEMO_PRODUCTS)
        .map(|i| generate::product(&plain, i))
        .find(|g| g.new.status == Some(ProductStatus::Active) && g.new.publish_at.is_none() && g.shape > 0)
        .unwrap();
    let name = wanted.new.name.exact("en").unwrap().to_string();
    let found =
        store_get(&app, &shop, &format!("/api/v1/store/catalog/search?q={}", name.replace(' ', "%20")), "en").await;
    assert_eq!(found["items"][0]["name"], name.as_str(), "{found}");
    let slug = found["items"][0]["slug"].as_str().unwrap();
    let page = store_get(&app, &shop, &format!("/api/v1/store/catalog/products/{slug}"), "de").await;
    assert_eq!(page["name"], wanted.new.name.exact("de").unwrap(), "{page}");
    assert_eq!(page["variants"][0]["price"]["currency"], "EUR", "{page}");

    // A department's page lists products of the categories below it; a rule-based collection has some.
    let clothing = store_get(&app, &shop, "/api/v1/store/catalog/products?category=clothing&limit=20", "en").await;
    assert_eq!(clothing["items"].as_array().unwrap().len(), 20, "{clothing}");
    assert!(clothing["facets"]["total"].as_i64().unwrap() > 20, "{clothing}");
    let cheap = store_get(&app, &shop, "/api/v1/store/catalog/products?collection=under-30", "en").await;
    assert!(!cheap["items"].as_array().unwrap().is_empty(), "{cheap}");

    // Again: nothing added, nothing changed (no product's version moved).
    let second = load_catalog(&app.state, &tenant).await.unwrap();
    assert_eq!(
        (second.products_created, second.products_there, second.categories_created, second.collections_created),
        (0, DEMO_PRODUCTS as usize, 0, 0),
        "{second}"
    );
    assert_eq!(products(&app, &tenant).await.0, versions, "a second load changes no product");
    assert_eq!(app.state.catalog.list_categories(&tenant).await.unwrap().len(), categories.len());
    assert_eq!(app.state.catalog.list_collections(&tenant).await.unwrap().len(), 5);

    // Stock: every variant counted in two locations, some sold out; a second run adds nothing.
    let stocked = load_stock(&app.state, &tenant).await.unwrap();
    assert!(stocked.variants >= DEMO_PRODUCTS as usize && stocked.sold_out > 0, "{stocked}");
    assert_eq!(app.state.inventory.locations(&tenant).await.unwrap().len(), 2);
    assert_eq!(load_stock(&app.state, &tenant).await.unwrap().variants, 0, "a second run leaves the stock alone");
}
