//! The category tree: create, move (a loop is refused), reorder, rename, delete; breadcrumbs.

use crate::events::CategoryChanged;
use crate::products::{is_slug, slugify};
use crate::store::{self, CategoryChanges, CategoryRow};
use crate::{Breadcrumb, CatalogError, Category, CategoryId, CategoryPatch, NewCategory, ProductId};
use agora_kernel::events::EventBus;
use agora_kernel::values::LocalizedText;
use agora_kernel::{CommonError, FieldError, TenantTx, Version};
use serde_json::json;
use std::collections::HashMap;

/// How deep the tree may go (a breadcrumb trail a shopper can still read).
const MAX_DEPTH: usize = 10;

/// The tree as loaded: every live category by id.
pub(crate) struct Tree {
    by_id: HashMap<CategoryId, CategoryRow>,
}

impl Tree {
    pub(crate) fn new(rows: Vec<CategoryRow>) -> Self {
        Tree { by_id: rows.into_iter().map(|r| (r.id, r)).collect() }
    }

    pub(crate) fn get(&self, id: CategoryId) -> Option<&CategoryRow> {
        self.by_id.get(&id)
    }

    pub(crate) fn by_slug(&self, slug: &str) -> Option<&CategoryRow> {
        self.by_id.values().find(|c| c.slug == slug)
    }

    /// The ancestors of `id`, from the top down (without `id`).
    pub(crate) fn ancestors(&self, id: CategoryId) -> Vec<&CategoryRow> {
        let mut trail = Vec::new();
        let mut next = self.by_id.get(&id).and_then(|c| c.parent_id);
        while let Some(parent) = next.and_then(|p| self.by_id.get(&p)) {
            if trail.len() > MAX_DEPTH * 2 {
                break;
            }
            trail.push(parent);
            next = parent.parent_id;
        }
        trail.reverse();
        trail
    }

    /// `id` and every category below it.
    pub(crate) fn subtree(&self, id: CategoryId) -> Vec<CategoryId> {
        let mut found = vec![id];
        let mut i = 0;
        while i < found.len() {
            let parent = found[i];
            let mut children: Vec<CategoryId> =
                self.by_id.values().filter(|c| c.parent_id == Some(parent)).map(|c| c.id).collect();
            children.sort();
            found.extend(children);
            i += 1;
        }
        found
    }

    fn depth_below(&self, id: CategoryId) -> usize {
        let children: Vec<CategoryId> = self.by_id.values().filter(|c| c.parent_id == Some(id)).map(|c| c.id).collect();
        children.into_iter().map(|c| 1 + self.depth_below(c)).max().unwrap_or(0)
    }

    /// Every category, parents before children, siblings by position.
    pub(crate) fn ordered(&self) -> Vec<&CategoryRow> {
        let mut out = Vec::new();
        self.walk(None, &mut out);
        out
    }

    fn walk<'a>(&'a self, parent: Option<CategoryId>, out: &mut Vec<&'a CategoryRow>) {
        let mut children: Vec<&CategoryRow> = self.by_id.values().filter(|c| c.parent_id == parent).collect();
        children.sort_by_key(|c| (c.position, c.id));
        for child in children {
            out.push(child);
            self.walk(Some(child.id), out);
        }
    }

    /// The breadcrumbs of `id` in `locale`.
    pub(crate) fn breadcrumbs(&self, id: CategoryId, locale: &str, default: &str) -> Vec<Breadcrumb> {
        self.ancestors(id)
            .into_iter()
            .map(|c| Breadcrumb {
                id: c.id,
                slug: c.slug.clone(),
                name: c.name.get(locale, default).unwrap_or_default().to_string(),
            })
            .collect()
    }
}

fn to_category(row: &CategoryRow, tree: &Tree, default_locale: &str) -> Category {
    Category {
        id: row.id,
        parent_id: row.parent_id,
        position: row.position,
        name: row.name.clone(),
        description: row.description.clone(),
        slug: row.slug.clone(),
        breadcrumbs: tree.breadcrumbs(row.id, default_locale, default_locale),
        created_at: row.created_at,
        modified_at: row.modified_at,
        version: row.version,
    }
}

fn changed(row: &CategoryRow, action: &str, fields: Vec<String>) -> CategoryChanged {
    CategoryChanged { category_id: row.id.into(), action: action.into(), changed: fields, version: row.version }
}

fn check_name(name: &LocalizedText, locales: &[String], errors: &mut Vec<FieldError>) {
    if name.is_empty() {
        errors.push(FieldError::new("name", "a name in at least one language"));
    }
    for locale in name.locales() {
        if !locales.iter().any(|l| l == locale) {
            errors.push(FieldError::new(format!("name.{locale}"), "not one of the shop's languages"));
        }
    }
}

/// Refuses a parent that is missing, the category itself or below it, or too deep.
fn check_parent(tree: &Tree, moving: Option<CategoryId>, parent: CategoryId, errors: &mut Vec<FieldError>) {
    if tree.get(parent).is_none() {
        errors.push(FieldError::new("parent_id", "no such category"));
        return;
    }
    if let Some(moving) = moving {
        if moving == parent || tree.ancestors(parent).iter().any(|a| a.id == moving) {
            errors.push(FieldError::new("parent_id", "a category cannot move below itself (that would make a loop)"));
            return;
        }
    }
    let below = moving.map(|m| tree.depth_below(m)).unwrap_or(0);
    if tree.ancestors(parent).len() + 2 + below > MAX_DEPTH {
        errors.push(FieldError::new("parent_id", format!("the tree would be deeper than {MAX_DEPTH} levels")));
    }
}

async fn claim_slug(
    conn: &mut diesel_async::AsyncPgConnection,
    slug: &str,
    owner: Option<CategoryId>,
) -> Result<(), CatalogError> {
    match store::category_slug_holder(conn, slug).await? {
        Some(holder) if Some(holder) != owner => {
            Err(CatalogError::SlugTaken { field: "slug".into(), slug: slug.to_string() })
        }
        _ => Ok(()),
    }
}

pub(crate) async fn create(tx: &mut TenantTx<'_>, bus: &EventBus, new: NewCategory) -> Result<Category, CatalogError> {
    store::lock_tree(tx.conn()).await?;
    let shop = crate::products::shop(tx.conn()).await?;
    let tree = Tree::new(store::all_categories(tx.conn()).await?);
    let mut errors = Vec::new();
    check_name(&new.name, &shop.locales, &mut errors);
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
    if let Some(parent) = new.parent_id {
        check_parent(&tree, None, parent, &mut errors);
    }
    if !errors.is_empty() {
        return Err(CommonError::Invalid(errors).into());
    }
    claim_slug(tx.conn(), &slug, None).await?;
    let position = new.position.unwrap_or_else(|| {
        tree.ordered().iter().filter(|c| c.parent_id == new.parent_id).map(|c| c.position + 1).max().unwrap_or(0)
    });
    let stamp = tx.stamp();
    let description = new.description.clone().unwrap_or_default();
    let row = store::insert_category(
        tx.conn(),
        CategoryId::new_v7(),
        new.parent_id,
        position,
        &new.name,
        &description,
        &slug,
        &stamp,
    )
    .await?;
    tx.audit("catalog.category.created", Some(row.id.to_string()), json!({"slug": row.slug})).await?;
    tx.publish(bus, &changed(&row, "created", Vec::new())).await?;
    let mut rows: Vec<CategoryRow> = tree.by_id.into_values().collect();
    rows.push(row.clone());
    let tree = Tree::new(rows);
    Ok(to_category(&row, &tree, &shop.default_locale))
}

pub(crate) async fn list(tx: &mut TenantTx<'_>) -> Result<Vec<Category>, CatalogError> {
    let shop = crate::products::shop(tx.conn()).await?;
    let tree = Tree::new(store::all_categories(tx.conn()).await?);
    Ok(tree.ordered().into_iter().map(|c| to_category(c, &tree, &shop.default_locale)).collect())
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: CategoryId) -> Result<Category, CatalogError> {
    let shop = crate::products::shop(tx.conn()).await?;
    let tree = Tree::new(store::all_categories(tx.conn()).await?);
    let row = tree.get(id).ok_or(CatalogError::CategoryNotFound)?;
    Ok(to_category(row, &tree, &shop.default_locale))
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: CategoryId,
    patch: CategoryPatch,
    expected: Option<i64>,
) -> Result<Category, CatalogError> {
    store::lock_tree(tx.conn()).await?;
    let current = store::lock_category(tx.conn(), id).await?.ok_or(CatalogError::CategoryNotFound)?;
    Version::check(expected, current.version)?;
    let shop = crate::products::shop(tx.conn()).await?;
    let tree = Tree::new(store::all_categories(tx.conn()).await?);
    let mut errors = Vec::new();
    if let Some(name) = &patch.name {
        check_name(name, &shop.locales, &mut errors);
    }
    if let Some(slug) = &patch.slug {
        if !is_slug(slug) {
            errors.push(FieldError::new("slug", "lower-case letters and digits joined by single hyphens"));
        }
    }
    if let Some(Some(parent)) = patch.parent_id {
        check_parent(&tree, Some(id), parent, &mut errors);
    }
    if !errors.is_empty() {
        return Err(CommonError::Invalid(errors).into());
    }
    if let Some(slug) = &patch.slug {
        claim_slug(tx.conn(), slug, Some(id)).await?;
    }
    let changes = CategoryChanges {
        parent_id: patch.parent_id.filter(|p| *p != current.parent_id),
        position: patch.position.filter(|p| *p != current.position),
        name: patch.name.clone().filter(|n| *n != current.name),
        description: patch.description.clone().filter(|d| *d != current.description),
        slug: patch.slug.clone().filter(|s| *s != current.slug),
    };
    let changed: Vec<&str> = [
        ("parent_id", changes.parent_id.is_some()),
        ("position", changes.position.is_some()),
        ("name", changes.name.is_some()),
        ("description", changes.description.is_some()),
        ("slug", changes.slug.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, yes)| yes.then_some(field))
    .collect();
    if changed.is_empty() {
        return Ok(to_category(&current, &tree, &shop.default_locale));
    }
    let stamp = tx.stamp();
    let row = store::update_category(tx.conn(), id, &changes, &stamp).await?;
    tx.audit("catalog.category.updated", Some(id.to_string()), json!({"changed": changed})).await?;
    let fields = changed.iter().map(|f| f.to_string()).collect();
    tx.publish(bus, &self::changed(&row, "updated", fields)).await?;
    let tree = Tree::new(store::all_categories(tx.conn()).await?);
    Ok(to_category(&row, &tree, &shop.default_locale))
}

/// Deletes the category; returns the products that left it.
pub(crate) async fn delete(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    id: CategoryId,
    expected: Option<i64>,
) -> Result<Vec<ProductId>, CatalogError> {
    store::lock_tree(tx.conn()).await?;
    let current = store::lock_category(tx.conn(), id).await?.ok_or(CatalogError::CategoryNotFound)?;
    Version::check(expected, current.version)?;
    let tree = Tree::new(store::all_categories(tx.conn()).await?);
    if tree.subtree(id).len() > 1 {
        return Err(CatalogError::field("id", "the category has subcategories: move or delete them first"));
    }
    let stamp = tx.stamp();
    let members = store::soft_delete_category(tx.conn(), id, &stamp).await?;
    tx.audit("catalog.category.deleted", Some(id.to_string()), json!({"slug": current.slug})).await?;
    let event = CategoryChanged { version: current.version + 1, ..changed(&current, "deleted", Vec::new()) };
    tx.publish(bus, &event).await?;
    Ok(members)
}
