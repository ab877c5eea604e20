//! Collections: hand-picked products, or every product matching a rule a merchant writes such as
//! `tag = summer and price < 50`. Rules are parsed here, stored as JSON, and evaluated in SQL
//! (`catalog_rule_matches`, migration V13) so a collection page pages and filters like any list.
//!
//! The rule language: conditions `field op value` joined by `and` (binding tighter) and `or`.
//! Fields: `tag`, `kind`, `category` (a category slug) with `=` / `!=`; `price` (major units of
//! the shop's default currency) and `attribute.<code>` with `=`, `!=`, `<`, `<=`, `>`, `>=`.
//! Values with spaces are quoted: `attribute.care = "hand wash"`.

use crate::events::CollectionChanged;
use crate::products::{is_slug, shop, slugify};
use crate::store::{self, CollectionChanges, CollectionInsert, CollectionRow};
use crate::{
    CatalogError, Collection, CollectionId, CollectionPatch, CollectionPreview, CollectionPreviewItem, NewCollection,
    ProductId,
};
use agora_kernel::events::EventBus;
use agora_kernel::money::{Currency, Money};
use agora_kernel::values::LocalizedText;
use agora_kernel::{CommonError, FieldError, TenantTx, Version};
use diesel_async::AsyncPgConnection;
use serde_json::{json, Value};

const MAX_RULE_LEN: usize = 1000;
const MAX_CONDITIONS: usize = 20;
const MAX_MEMBERS: usize = 10_000;

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Word(String),
    Quoted(String),
    Op(&'static str),
}

fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '"' {
            chars.next();
            let mut quoted = String::new();
            loop {
                match chars.next() {
                    Some('"') => break,
                    Some(ch) => quoted.push(ch),
                    None => return Err("a quote is not closed".into()),
                }
            }
            tokens.push(Token::Quoted(quoted));
        } else if "=!<>".contains(c) {
            chars.next();
            let next_is_eq = chars.peek() == Some(&'=');
            let op = match (c, next_is_eq) {
                ('=', _) => "=",
                ('!', true) => "!=",
                ('<', true) => "<=",
                ('>', true) => ">=",
                ('<', false) => "<",
                ('>', false) => ">",
                _ => return Err("`!` must be followed by `=`".into()),
            };
            if op.len() == 2 {
                chars.next();
            }
            tokens.push(Token::Op(op));
        } else {
            let mut word = String::new();
            while let Some(&ch) = chars.peek() {
                if ch.is_whitespace() || "=!<>\"".contains(ch) {
                    break;
                }
                word.push(ch);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

/// Parses a rule into its stored JSON (`currency` prices the `price` conditions).
pub(crate) fn parse_rule(text: &str, currency: &str) -> Result<Value, String> {
    if text.trim().is_empty() || text.chars().count() > MAX_RULE_LEN {
        return Err(format!("a rule of 1 to {MAX_RULE_LEN} characters"));
    }
    let currency_code = Currency::parse(currency).ok_or("the shop's currency is unknown")?;
    let tokens = tokenize(text)?;
    let mut alternatives: Vec<Vec<Value>> = vec![Vec::new()];
    let mut i = 0;
    let mut count = 0;
    loop {
        let (field, op, value) = match (tokens.get(i), tokens.get(i + 1), tokens.get(i + 2)) {
            (Some(Token::Word(field)), Some(Token::Op(op)), Some(Token::Word(v) | Token::Quoted(v))) => {
                (field.to_lowercase(), *op, v.clone())
            }
            _ => return Err(format!("expected `field op value` at condition {}", count + 1)),
        };
        let equality = matches!(op, "=" | "!=");
        let value = match field.as_str() {
            "tag" | "kind" | "category" if !equality => {
                return Err(format!("{field} can only be compared with = or !="));
            }
            "tag" => json!(value.to_lowercase()),
            "kind" if value != "physical" && value != "digital" => return Err("kind is physical or digital".into()),
            "kind" | "category" => json!(value),
            "price" => {
                let price = Money::parse_major(&value, currency_code)
                    .map_err(|_| format!("price {value} is not an amount in {currency}"))?;
                json!(price.amount)
            }
            f if f.starts_with("attribute.") && f.len() > "attribute.".len() => match value.parse::<f64>() {
                Ok(n) => serde_json::Number::from_f64(n).map(Value::Number).unwrap_or(json!(value)),
                Err(_) if equality => json!(value),
                Err(_) => return Err(format!("{f} {op} needs a number")),
            },
            other => return Err(format!("unknown field {other}: tag, kind, category, price or attribute.<code>")),
        };
        if let Some(current) = alternatives.last_mut() {
            current.push(json!({"field": field, "op": op, "value": value}));
        }
        count += 1;
        if count > MAX_CONDITIONS {
            return Err(format!("at most {MAX_CONDITIONS} conditions"));
        }
        i += 3;
        match tokens.get(i) {
            None => break,
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("and") => {}
            Some(Token::Word(w)) if w.eq_ignore_ascii_case("or") => alternatives.push(Vec::new()),
            Some(_) => return Err(format!("expected `and` or `or` after condition {count}")),
        }
        i += 1;
    }
    Ok(json!({"currency": currency, "any": alternatives}))
}

async fn to_collection(conn: &mut AsyncPgConnection, row: CollectionRow) -> Result<Collection, CatalogError> {
    let product_ids = if row.rules.is_some() { Vec::new() } else { store::collection_members(conn, row.id).await? };
    Ok(Collection {
        id: row.id,
        name: row.name,
        description: row.description,
        slug: row.slug,
        rule: row.rule_text,
        product_ids,
        created_at: row.created_at,
        modified_at: row.modified_at,
        version: row.version,
    })
}

fn changed(row: &CollectionRow, action: &str) -> CollectionChanged {
    CollectionChanged { collection_id: row.id.into(), action: action.into(), version: row.version }
}

async fn lock(
    conn: &mut AsyncPgConnection,
    id: CollectionId,
    expected: Option<i64>,
) -> Result<CollectionRow, CatalogError> {
    let row = store::lock_collection(conn, id).await?.ok_or(CatalogError::CollectionNotFound)?;
    Version::check(expected, row.version)?;
    Ok(row)
}

async fn slug_free(conn: &mut AsyncPgConnection, slug: &str, owner: Option<CollectionId>) -> Result<(), CatalogError> {
    match store::collection_slug_holder(conn, slug).await? {
        Some(h) if Some(h) != owner => Err(CatalogError::SlugTaken { field: "slug".into(), slug: slug.into() }),
        _ => Ok(()),
    }
}

fn check_texts(name: Option<&LocalizedText>, locales: &[String], errors: &mut Vec<FieldError>) {
    if let Some(name) = name {
        if name.is_empty() {
            errors.push(FieldError::new("name", "a name in at least one language"));
        }
        for locale in name.locales() {
            if !locales.iter().any(|l| l == locale) {
                errors.push(FieldError::new(format!("name.{locale}"), "not one of the shop's languages"));
            }
        }
    }
}

async fn check_products(conn: &mut AsyncPgConnection, ids: &[ProductId]) -> Result<(), CatalogError> {
    if ids.len() > MAX_MEMBERS {
        return Err(CatalogError::field("product_ids", format!("at most {MAX_MEMBERS} products")));
    }
    let found = store::live_products(conn, ids).await?;
    let errors: Vec<FieldError> = ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !found.contains(id))
        .map(|(i, _)| FieldError::new(format!("product_ids[{i}]"), "no such product"))
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CommonError::Invalid(errors).into())
    }
}

pub(crate) async fn create(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    new: NewCollection,
) -> Result<Collection, CatalogError> {
    let shop = shop(tx.conn()).await?;
    let mut errors = Vec::new();
    check_texts(Some(&new.name), &shop.locales, &mut errors);
    let slug = match &new.slug {
        Some(slug) if !is_slug(slug) => {
            errors.push(FieldError::new("slug", "lower-case letters and digits joined by single hyphens"));
            String::new()
        }
        Some(slug) => slug.clone(),
        None => slugify(new.name.get(&shop.default_locale, &shop.default_locale).unwrap_or_default()),
    };
    if slug.is_empty() && errors.is_empty() {
        errors.push(FieldError::new("slug", "give a slug: none can be made from the name"));
    }
    let rules = match &new.rule {
        Some(text) => match parse_rule(text, &shop.default_currency) {
            Ok(rules) => Some(rules),
            Err(why) => {
                errors.push(FieldError::new("rule", why));
                None
            }
        },
        None => None,
    };
    if new.rule.is_some() && !new.product_ids.is_empty() {
        errors.push(FieldError::new("product_ids", "a collection has a rule or hand-picked products, not both"));
    }
    if !errors.is_empty() {
        return Err(CommonError::Invalid(errors).into());
    }
    check_products(tx.conn(), &new.product_ids).await?;
    slug_free(tx.conn(), &slug, None).await?;
    let id = CollectionId::new_v7();
    let row = CollectionInsert {
        id,
        name: new.name.clone(),
        description: new.description.clone().unwrap_or_default(),
        slug,
        rule_text: new.rule.as_deref().map(|t| t.trim().to_string()),
        rules,
    };
    let stamp = tx.stamp();
    store::insert_collection(tx.conn(), &row, &stamp).await?;
    store::set_collection_members(tx.conn(), id, &new.product_ids).await?;
    tx.audit("catalog.collection.created", Some(id.to_string()), json!({"slug": row.slug})).await?;
    let row = store::find_collection(tx.conn(), &id.to_string()).await?.ok_or(CatalogError::CollectionNotFound)?;
    tx.publish(bus, &changed(&row, "created")).await?;
    to_collection(tx.conn(), row).await
}

pub(crate) async fn preview(tx: &mut TenantTx<'_>, rule: &str) -> Result<CollectionPreview, CatalogError> {
    let shop = shop(tx.conn()).await?;
    let rules = parse_rule(rule, &shop.default_currency)
        .map_err(|why| CatalogError::from(CommonError::Invalid(vec![FieldError::new("rule", why)])))?;
    let (total, rows) = store::rule_matches(tx.conn(), &rules, crate::COLLECTION_PREVIEW_ITEMS).await?;
    let items = rows
        .into_iter()
        .map(|(id, name, status)| CollectionPreviewItem {
            id,
            name: name.get(&shop.default_locale, &shop.default_locale).unwrap_or_default().to_string(),
            status,
        })
        .collect();
    Ok(CollectionPreview { total, items })
}

pub(crate) async fn list(tx: &mut TenantTx<'_>) -> Result<Vec<Collection>, CatalogError> {
    let rows = store::all_collections(tx.conn()).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        out.push(to_collection(tx.conn(), row).await?);
    }
    Ok(out)
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: CollectionId) -> Result<Collection, CatalogError> {
    let row = store::find_collection(tx.conn(), &id.to_string()).await?.ok_or(CatalogError::CollectionNotFound)?;
    to_collection(tx.conn(), row).await
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: CollectionId,
    patch: CollectionPatch,
    expected: Option<i64>,
) -> Result<Collection, CatalogError> {
    let current = lock(tx.conn(), id, expected).await?;
    let shop = shop(tx.conn()).await?;
    let mut errors = Vec::new();
    check_texts(patch.name.as_ref(), &shop.locales, &mut errors);
    if patch.slug.as_deref().is_some_and(|s| !is_slug(s)) {
        errors.push(FieldError::new("slug", "lower-case letters and digits joined by single hyphens"));
    }
    let rules = match &patch.rule {
        Some(Some(text)) => match parse_rule(text, &shop.default_currency) {
            Ok(rules) => Some(Some(rules)),
            Err(why) => {
                errors.push(FieldError::new("rule", why));
                None
            }
        },
        Some(None) => Some(None),
        None => None,
    };
    let rule_based = match &rules {
        Some(r) => r.is_some(),
        None => current.rules.is_some(),
    };
    if rule_based && patch.product_ids.as_ref().is_some_and(|p| !p.is_empty()) {
        errors.push(FieldError::new("product_ids", "a collection with a rule has no hand-picked products"));
    }
    if !errors.is_empty() {
        return Err(CommonError::Invalid(errors).into());
    }
    if let Some(slug) = &patch.slug {
        slug_free(tx.conn(), slug, Some(id)).await?;
    }
    if let Some(ids) = &patch.product_ids {
        check_products(tx.conn(), ids).await?;
        store::set_collection_members(tx.conn(), id, ids).await?;
    }
    if rule_based {
        store::set_collection_members(tx.conn(), id, &[]).await?;
    }
    let changes = CollectionChanges {
        name: patch.name.clone(),
        description: patch.description.clone(),
        slug: patch.slug.clone(),
        rule_text: patch.rule.as_ref().map(|text| text.as_deref().map(|t| t.trim().to_string())),
        rules,
    };
    let stamp = tx.stamp();
    let row = store::update_collection(tx.conn(), id, &changes, &stamp).await?;
    tx.audit("catalog.collection.updated", Some(id.to_string()), json!({"slug": row.slug})).await?;
    tx.publish(bus, &changed(&row, "updated")).await?;
    to_collection(tx.conn(), row).await
}

pub(crate) async fn delete(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: CollectionId,
    expected: Option<i64>,
) -> Result<(), CatalogError> {
    let current = lock(tx.conn(), id, expected).await?;
    let stamp = tx.stamp();
    store::soft_delete_collection(tx.conn(), id, &stamp).await?;
    tx.audit("catalog.collection.deleted", Some(id.to_string()), json!({"slug": current.slug})).await?;
    tx.publish(bus, &CollectionChanged { version: current.version + 1, ..changed(&current, "deleted") }).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_into_alternatives_of_conditions() {
        let rules =
            parse_rule("tag = Summer and price < 50 or attribute.care = \"hand wash\"", "EUR").unwrap_or_default();
        assert_eq!(
            rules,
            json!({"currency": "EUR", "any": [
                [{"field": "tag", "op": "=", "value": "summer"}, {"field": "price", "op": "<", "value": 5000}],
                [{"field": "attribute.care", "op": "=", "value": "hand wash"}]
            ]})
        );
        assert!(parse_rule("tag < summer", "EUR").is_err());
        assert!(parse_rule("colour = red", "EUR").is_err());
        assert!(parse_rule("price < cheap", "EUR").is_err());
        assert!(parse_rule("tag = summer and", "EUR").is_err());
        assert!(parse_rule("tag = \"summer", "EUR").is_err());
    }
}
