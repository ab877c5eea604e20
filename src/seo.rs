//! What a crawler or a link preview sees of a shop without running the storefront's JavaScript:
//! a product page's `<title>`, description, canonical and `hreflang` links, Open Graph tags and
//! schema.org `Product` JSON-LD, written into the app's page by the server; `/sitemap.xml` and
//! `/robots.txt`.
//!
//! - Every absolute URL starts from the shop's configured address (its primary domain, else the
//!   configured public URL), never from the request's Host or forwarded headers.
//! - A product page is `/p/<slug>`: the default language's page carries no `lang`, the others
//!   `?lang=<locale>`, so each language has one canonical URL and the app opens in that language.
//! - Only what the storefront API shows is described: a draft, archived, deleted or unpublished
//!   product gets no tags and a 404 status (the app still loads and says the product is gone).

use crate::app::{AppState, ShopUrls};
use agora_catalog::{Found, SitemapPage, StoreCategory, StoreProduct};
use agora_kernel::ports::ShopAddress;
use agora_kernel::tx::Acting;
use agora_kernel::{ApiError, ErrorKind, TenantContext};
use serde_json::{json, Value};
use std::fmt::Write;

/// Products per sitemap file: with two languages and their alternates a file stays far below
/// the protocol's 50,000 URLs and 50 MB.
pub const SITEMAP_PAGE: i64 = 1000;

/// The shop as its pages describe it.
pub struct Shop {
    /// With scheme, without a trailing slash.
    pub base_url: String,
    pub name: String,
    pub locales: Vec<String>,
    pub default_locale: String,
}

impl Shop {
    /// The shop's languages, the default first.
    fn languages(&self) -> Vec<&str> {
        let mut all = vec![self.default_locale.as_str()];
        all.extend(self.locales.iter().map(String::as_str).filter(|l| *l != self.default_locale));
        all
    }

    /// A page's absolute URL in `locale`: the default language's without `lang`.
    fn url(&self, path: &str, locale: &str) -> String {
        if locale == self.default_locale {
            format!("{}{path}", self.base_url)
        } else {
            format!("{}{path}?lang={locale}", self.base_url)
        }
    }

    fn knows(&self, locale: &str) -> bool {
        self.default_locale == locale || self.locales.iter().any(|l| l == locale)
    }
}

/// The shop's address, name and languages, read in one tenant transaction.
pub async fn shop(state: &AppState, tenant: &TenantContext) -> Result<Shop, ApiError> {
    let addresses = ShopUrls { config: state.config.clone() };
    state
        .db
        .in_tenant(tenant, &Acting::system("storefront pages"), async |tx| {
            let base_url = addresses.base_url(tx).await?;
            let defaults = agora_tenancy::shop_defaults(tx.conn()).await?;
            let name = agora_tenancy::shop_name(tx.conn()).await?;
            Ok::<_, ApiError>(Shop {
                base_url: base_url.trim_end_matches('/').to_string(),
                name,
                locales: defaults.locales,
                default_locale: defaults.default_locale,
            })
        })
        .await
}

/// What the server puts into a product page's `<head>`.
#[derive(Debug)]
pub struct Head {
    /// The page's language (`<html lang>`).
    pub lang: String,
    pub title: String,
    /// Everything else, as HTML: meta and link tags, the JSON-LD block.
    pub tags: String,
}

/// A catalogue page's head, where the product moved, or nothing to describe.
#[derive(Debug)]
pub enum PageHead {
    Found(Head),
    /// An old slug: the path of the product's current page (with its `lang`).
    MovedTo(String),
    Missing,
}

/// The head of `/p/<slug>` in `lang` (a shop language) or else the language `slug` is in.
pub async fn product_page(
    state: &AppState,
    tenant: &TenantContext,
    slug: &str,
    lang: Option<&str>,
) -> Result<PageHead, ApiError> {
    if slug.is_empty() || !slug.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) {
        return Ok(PageHead::Missing);
    }
    let shop = shop(state, tenant).await?;
    let asked = lang.filter(|l| shop.knows(l));
    let languages = vec![asked.unwrap_or(&shop.default_locale).to_string()];
    let mut product = match store_product(state, tenant, slug, languages).await? {
        Some(Found::Here(product)) => product,
        Some(Found::MovedTo(current)) => {
            let query = asked.map(|l| format!("?lang={l}")).unwrap_or_default();
            return Ok(PageHead::MovedTo(format!("/p/{current}{query}")));
        }
        None => return Ok(PageHead::Missing),
    };
    if asked.is_none() {
        // A link without `lang` speaks the language of its slug (the default's when shared).
        let own = shop.languages().into_iter().find(|l| product.slugs.get(*l).is_some_and(|s| s == slug));
        if let Some(own) = own.filter(|l| *l != product.locale) {
            if let Some(Found::Here(translated)) = store_product(state, tenant, slug, vec![own.to_string()]).await? {
                product = translated;
            }
        }
    }
    Ok(PageHead::Found(product_head(&shop, &product)))
}

/// The product as the storefront API shows it (through its read cache), `None` when shoppers
/// may not see it.
async fn store_product(
    state: &AppState,
    tenant: &TenantContext,
    slug: &str,
    languages: Vec<String>,
) -> Result<Option<Found<StoreProduct>>, ApiError> {
    match state.catalog.store_product(tenant, slug, None, languages, None).await {
        Ok(Found::Here(body)) => Ok(Some(Found::Here(serde_json::from_slice(&body).map_err(ApiError::internal)?))),
        Ok(Found::MovedTo(current)) => Ok(Some(Found::MovedTo(current))),
        Err(e) if e.kind == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The head of `/c/<slug>` (a category's products) in `lang`, else the shop's default language.
pub async fn category_page(
    state: &AppState,
    tenant: &TenantContext,
    slug: &str,
    lang: Option<&str>,
) -> Result<PageHead, ApiError> {
    if slug.is_empty() || !slug.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_')) {
        return Ok(PageHead::Missing);
    }
    let shop = shop(state, tenant).await?;
    let locale = lang.filter(|l| shop.knows(l)).unwrap_or(&shop.default_locale).to_string();
    let category: StoreCategory = match state.catalog.store_category(tenant, slug, vec![locale.clone()]).await {
        Ok(body) => serde_json::from_slice(&body).map_err(ApiError::internal)?,
        Err(e) if e.kind == ErrorKind::NotFound => return Ok(PageHead::Missing),
        Err(e) => return Err(e),
    };
    let path = format!("/c/{}", category.slug);
    let canonical = shop.url(&path, &locale);
    let mut tags = String::new();
    let description = category.description.as_deref().map(summary).filter(|d| !d.is_empty());
    if let Some(description) = &description {
        meta(&mut tags, "name", "description", description);
    }
    link(&mut tags, "canonical", None, &canonical);
    for other in shop.languages() {
        link(&mut tags, "alternate", Some(other), &shop.url(&path, other));
    }
    link(&mut tags, "alternate", Some("x-default"), &shop.url(&path, &shop.default_locale));
    meta(&mut tags, "property", "og:type", "website");
    meta(&mut tags, "property", "og:site_name", &shop.name);
    meta(&mut tags, "property", "og:title", &category.name);
    meta(&mut tags, "property", "og:url", &canonical);
    if let Some(description) = &description {
        meta(&mut tags, "property", "og:description", description);
    }
    let title = format!("{} | {}", category.name, shop.name);
    Ok(PageHead::Found(Head { lang: locale, title, tags }))
}

/// The product's slug in `locale`, else the default language's, else its id.
fn slug_in(product: &StoreProduct, locale: &str, default: &str) -> String {
    product.slugs.get(locale).or_else(|| product.slugs.get(default)).cloned().unwrap_or_else(|| product.id.to_string())
}

fn product_head(shop: &Shop, product: &StoreProduct) -> Head {
    let locale = product.locale.as_str();
    let canonical = shop.url(&format!("/p/{}", slug_in(product, locale, &shop.default_locale)), locale);
    let name = product.seo_title.clone().filter(|t| !t.trim().is_empty()).unwrap_or_else(|| product.name.clone());
    let description =
        product.seo_description.as_deref().or(product.description.as_deref()).map(summary).filter(|d| !d.is_empty());
    let images: Vec<String> = product.media.iter().filter_map(image_url).map(|u| absolute(shop, &u)).collect();

    let mut tags = String::new();
    if let Some(description) = &description {
        meta(&mut tags, "name", "description", description);
    }
    link(&mut tags, "canonical", None, &canonical);
    for other in shop.languages() {
        let url = shop.url(&format!("/p/{}", slug_in(product, other, &shop.default_locale)), other);
        link(&mut tags, "alternate", Some(other), &url);
    }
    let default = shop.default_locale.as_str();
    let fallback = shop.url(&format!("/p/{}", slug_in(product, default, default)), default);
    link(&mut tags, "alternate", Some("x-default"), &fallback);
    meta(&mut tags, "property", "og:type", "product");
    meta(&mut tags, "property", "og:site_name", &shop.name);
    meta(&mut tags, "property", "og:title", &name);
    meta(&mut tags, "property", "og:url", &canonical);
    meta(&mut tags, "property", "og:locale", &locale.replace('-', "_"));
    if let Some(description) = &description {
        meta(&mut tags, "property", "og:description", description);
    }
    for image in &images {
        meta(&mut tags, "property", "og:image", image);
    }

    // A variant with a price is offered; its availability is the inventory's (a variant the shop
    // does not count is in stock).
    let offers: Vec<Value> = product
        .variants
        .iter()
        .filter_map(|v| {
            let price = v.price?;
            Some(json!({
                "@type": "Offer",
                "sku": v.sku,
                "price": price.to_major_string(),
                "priceCurrency": price.currency.as_str(),
                "availability": schema_org_availability(v.availability.as_ref()),
                "url": canonical,
            }))
        })
        .collect();
    let mut data = json!({
        "@context": "https://schema.org",
        "@type": "Product",
        "name": name,
        "url": canonical,
        "offers": offers,
    });
    if let Some(description) = &description {
        data["description"] = json!(description);
    }
    if let Some(first) = product.variants.first() {
        data["sku"] = json!(first.sku);
    }
    if !images.is_empty() {
        data["image"] = json!(images);
    }
    // A data block is never executed, so the page's script-src does not govern it; what must
    // not happen is its text closing the element, hence `<` written as an escape.
    let _ = write!(tags, "<script type=\"application/ld+json\">{}</script>", json_in_html(&data));

    Head { lang: locale.to_string(), title: format!("{name} | {}", shop.name), tags }
}

/// A product medium's largest rendering (its `images` are smallest first).
fn image_url(medium: &agora_catalog::StoreMedia) -> Option<String> {
    medium.images.last().map(|image| image.url.clone())
}

fn absolute(shop: &Shop, url: &str) -> String {
    if url.starts_with("http://") || url.starts_with("https://") {
        url.to_string()
    } else {
        format!("{}/{}", shop.base_url, url.trim_start_matches('/'))
    }
}

/// The description as one line of at most 160 characters, cut at a word.
fn summary(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= 160 {
        return line;
    }
    let cut: String = line.chars().take(157).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

fn meta(out: &mut String, kind: &str, key: &str, content: &str) {
    let _ = write!(out, "<meta {kind}=\"{key}\" content=\"{}\">", escape(content));
}

fn link(out: &mut String, rel: &str, hreflang: Option<&str>, href: &str) {
    match hreflang {
        Some(lang) => {
            let _ = write!(out, "<link rel=\"{rel}\" hreflang=\"{}\" href=\"{}\">", escape(lang), escape(href));
        }
        None => {
            let _ = write!(out, "<link rel=\"{rel}\" href=\"{}\">", escape(href));
        }
    }
}

/// Text for HTML (and XML) content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON safe inside `<script>`: no `<`, `>` or `&` that HTML could read as markup.
fn json_in_html(value: &Value) -> String {
    value.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}

/// Writes the head into the app's page: its language, its title, the tags before `</head>`.
pub fn inject(page: &str, head: &Head) -> String {
    let mut page = match page.find("<html") {
        Some(start) => {
            let end = page[start..].find('>').map_or(page.len(), |e| start + e);
            let tag = page[start..end].replace(" lang=\"en\"", "");
            format!("{}{tag} lang=\"{}\"{}", &page[..start], escape(&head.lang), &page[end..])
        }
        None => page.to_string(),
    };
    let title = format!("<title>{}</title>", escape(&head.title));
    page = match (page.find("<title>"), page.find("</title>")) {
        (Some(start), Some(end)) if start < end => {
            format!("{}{title}{}", &page[..start], &page[end + "</title>".len()..])
        }
        _ => page.replacen("</head>", &format!("{title}</head>"), 1),
    };
    page.replacen("</head>", &format!("{}</head>", head.tags), 1)
}

/// `/sitemap.xml`: every visible product and every category in each of the shop's languages,
/// with their alternates. A shop with more products than one file holds gets an index of
/// `/sitemap.xml?page=N` files instead (`page` from 1). `None` for a page past the end. Each
/// file holds `per_page` products ([`SITEMAP_PAGE`]).
pub async fn sitemap(
    state: &AppState,
    tenant: &TenantContext,
    page: Option<i64>,
    per_page: i64,
) -> Result<Option<String>, ApiError> {
    let shop = shop(state, tenant).await?;
    let number = page.unwrap_or(1);
    if number < 1 {
        return Ok(None);
    }
    let products: SitemapPage = state.catalog.store_sitemap(tenant, number - 1, per_page).await?;
    let pages = (products.total + per_page - 1) / per_page.max(1);
    if page.is_none() && pages > 1 {
        let mut xml = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        for n in 1..=pages {
            let _ = writeln!(xml, "<sitemap><loc>{}/sitemap.xml?page={n}</loc></sitemap>", escape(&shop.base_url));
        }
        xml.push_str("</sitemapindex>\n");
        return Ok(Some(xml));
    }
    if number > pages.max(1) {
        return Ok(None);
    }
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\" xmlns:xhtml=\"http://www.w3.org/1999/xhtml\">\n",
    );
    let languages = shop.languages();
    let mut entry = |paths: &dyn Fn(&str) -> String, modified: Option<String>| {
        for locale in &languages {
            let _ = write!(xml, "<url><loc>{}</loc>", escape(&shop.url(&paths(locale), locale)));
            if let Some(modified) = &modified {
                let _ = write!(xml, "<lastmod>{modified}</lastmod>");
            }
            for other in &languages {
                let _ = write!(
                    xml,
                    "<xhtml:link rel=\"alternate\" hreflang=\"{}\" href=\"{}\"/>",
                    escape(other),
                    escape(&shop.url(&paths(other), other))
                );
            }
            xml.push_str("</url>\n");
        }
    };
    if number == 1 {
        entry(&|_| "/".to_string(), None);
        let body = state.catalog.store_categories(tenant, vec![shop.default_locale.clone()]).await?;
        let categories: Vec<StoreCategory> = serde_json::from_slice(&body).map_err(ApiError::internal)?;
        for category in categories {
            entry(&|_| format!("/c/{}", category.slug), None);
        }
    }
    for product in &products.products {
        let path = |locale: &str| {
            let slug = product
                .slugs
                .get(locale)
                .or_else(|| product.slugs.get(&products.default_locale))
                .cloned()
                .unwrap_or_else(|| product.id.to_string());
            format!("/p/{slug}")
        };
        entry(&path, Some(product.modified_at.format("%Y-%m-%d").to_string()));
    }
    xml.push_str("</urlset>\n");
    Ok(Some(xml))
}

/// `/robots.txt`: everything a shopper sees may be crawled; the admin, the account pages and
/// the API may not.
pub fn robots(shop: &Shop) -> String {
    format!(
        "User-agent: *\nDisallow: /admin/\nDisallow: /account\nDisallow: /api/\n\nSitemap: {}/sitemap.xml\n",
        shop.base_url
    )
}

/// schema.org's name for a variant's availability.
fn schema_org_availability(availability: Option<&agora_catalog::VariantAvailability>) -> &'static str {
    use agora_catalog::StockStatus;
    match availability.map(|a| a.status) {
        None | Some(StockStatus::InStock) => "https://schema.org/InStock",
        Some(StockStatus::LowStock) => "https://schema.org/LimitedAvailability",
        Some(StockStatus::OutOfStock) => "https://schema.org/OutOfStock",
        Some(StockStatus::Backorder) => "https://schema.org/BackOrder",
        Some(StockStatus::Preorder) => "https://schema.org/PreOrder",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_tell_crawlers_the_inventorys_availability() {
        use agora_catalog::{StockStatus, VariantAvailability};
        let of = |status| VariantAvailability { status, preorder_until: None };
        assert_eq!(schema_org_availability(None), "https://schema.org/InStock", "not counted: for sale");
        assert_eq!(schema_org_availability(Some(&of(StockStatus::OutOfStock))), "https://schema.org/OutOfStock");
        assert_eq!(schema_org_availability(Some(&of(StockStatus::Backorder))), "https://schema.org/BackOrder");
        assert_eq!(schema_org_availability(Some(&of(StockStatus::Preorder))), "https://schema.org/PreOrder");
    }

    #[test]
    fn descriptions_become_one_short_line_cut_at_a_word() {
        assert_eq!(summary("  Warm\n\nwool  socks "), "Warm wool socks");
        let long = "word ".repeat(60);
        let cut = summary(&long);
        assert!(cut.chars().count() <= 160, "{cut}");
        assert!(cut.ends_with("word…"), "{cut}");
    }

    #[test]
    fn json_ld_cannot_close_its_script_element() {
        let text = json_in_html(&json!({"name": "</script><script>alert(1)</script>"}));
        assert!(!text.contains('<'), "{text}");
        let back: Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back["name"], "</script><script>alert(1)</script>");
    }

    #[test]
    fn the_head_replaces_the_title_and_language_and_goes_before_head_end() {
        let head = Head { lang: "de".into(), title: "Jacke & Co".into(), tags: "<meta name=\"x\">".into() };
        let page =
            inject("<!doctype html><html lang=\"en\"><head><title>Shop</title></head><body></body></html>", &head);
        assert_eq!(
            page,
            "<!doctype html><html lang=\"de\"><head><title>Jacke &amp; Co</title><meta name=\"x\"></head><body></body></html>"
        );
    }
}
