//! The cart's rules: finding the shopper's cart (and merging a guest's into a customer's),
//! lines within the shop's limits and the stock, codes, shipping, currency, abandonment.
//!
//! Every change locks the cart's row first, so changes to one cart run one after the other, and
//! answers with the cart worked out anew in the same transaction. A change the worked-out cart
//! shows to be wrong (an item not for sale, more than the stock, a code that does not apply) is
//! refused, and the transaction's rollback undoes it.

use crate::cached::{self, Depends};
use crate::events::{CartAbandoned, CartCreated, CartUpdated};
use crate::store::{self, CartChange, CartRow, Key, LineRow, SettingsRow};
use crate::totals::{self, Viewed};
use crate::{
    AddLine, Cart, CartAnswer, CartError, CartLineId, CartModule, CartPatch, CartSettings, LineProblem, NewCart,
    ShippingChoice, Shopper,
};
use agora_catalog::{CatalogModule, VariantId};
use agora_kernel::events::EventBus;
use agora_kernel::{CommonError, FieldError, TenantTx};

/// At most this many codes on one cart (what pricing evaluates at once).
const MAX_CODES: usize = 20;

/// The shopper's open cart as found, and what became of the guest token they carried.
struct Found {
    cart: Option<CartRow>,
    token_spent: bool,
}

/// Finds the shopper's open cart. A signed-in customer carrying a guest token gets the guest
/// cart merged into theirs (or theirs made of it); the token is spent either way. A guest's
/// token that opens no cart is `CartNotFound`, whatever the reason.
async fn find(m: &CartModule, tx: &mut TenantTx<'_>, shopper: &Shopper, lock: bool) -> Result<Found, CartError> {
    let hash = shopper.token.as_deref().map(crate::tokens::lookup_hash);
    match shopper.customer {
        None => match hash {
            None => Ok(Found { cart: None, token_spent: false }),
            Some(None) => Err(CartError::CartNotFound),
            Some(Some(hash)) => {
                let cart = store::find(tx.conn(), Key::Token(&hash), lock).await?.ok_or(CartError::CartNotFound)?;
                Ok(Found { cart: Some(cart), token_spent: false })
            }
        },
        Some(customer) => {
            let own = store::find(tx.conn(), Key::Customer(customer), lock || hash.is_some()).await?;
            let Some(hash) = hash else { return Ok(Found { cart: own, token_spent: false }) };
            let guest = match hash {
                Some(hash) => store::find(tx.conn(), Key::Token(&hash), true).await?,
                None => None,
            };
            let cart = match guest {
                None => own,
                Some(guest) => Some(merge(m, tx, customer, own, guest).await?),
            };
            Ok(Found { cart, token_spent: true })
        }
    }
}

/// [`find`] for a change that makes a cart when there is none: a guest token that opens no cart
/// any more (abandoned, merged) is spent, and a new cart takes its place.
async fn find_or_start(m: &CartModule, tx: &mut TenantTx<'_>, shopper: &Shopper) -> Result<Found, CartError> {
    match find(m, tx, shopper, true).await {
        Err(CartError::CartNotFound) if shopper.customer.is_none() => Ok(Found { cart: None, token_spent: true }),
        other => other,
    }
}

/// The guest cart `guest` joins the customer's: made theirs when they have none, else its lines
/// are added to theirs (quantities summed within the shop's limit) with its codes, and it closes.
async fn merge(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    customer: uuid::Uuid,
    own: Option<CartRow>,
    guest: CartRow,
) -> Result<CartRow, CartError> {
    let stamp = tx.stamp();
    let Some(own) = own else {
        store::adopt(tx.conn(), guest.id, customer).await?;
        let mut adopted = guest;
        adopted.customer_id = Some(customer);
        let lines = store::lines(tx.conn(), adopted.id).await?;
        return changed(m, tx, adopted, CartChange::default(), "merged", &lines).await;
    };
    let settings = store::settings(tx.conn(), false).await?;
    let mut mine = store::lines(tx.conn(), own.id).await?;
    let max_lines = usize::try_from(settings.max_lines).unwrap_or(0);
    for line in store::lines(tx.conn(), guest.id).await? {
        let room = mine.len() < max_lines;
        match mine.iter_mut().find(|l| l.variant_id == line.variant_id) {
            Some(existing) => {
                existing.quantity = existing.quantity.saturating_add(line.quantity).min(settings.max_line_quantity);
                store::put_line(tx.conn(), own.id, line.variant_id, existing.quantity, stamp.at).await?;
            }
            // Past the shop's limit of lines, the guest's extra items stay behind.
            None if room => {
                store::put_line(tx.conn(), own.id, line.variant_id, line.quantity, stamp.at).await?;
                mine.push(line);
            }
            None => {}
        }
    }
    let mut codes = own.codes.clone();
    for code in &guest.codes {
        if codes.len() < MAX_CODES && !codes.contains(code) {
            codes.push(code.clone());
        }
    }
    store::close_merged(tx.conn(), guest.id, own.id, &stamp).await?;
    tx.stale(cached::cart_tag(guest.id));
    let lines = store::lines(tx.conn(), own.id).await?;
    let change = CartChange { codes: Some(&codes), ..Default::default() };
    let mut merged = changed(m, tx, own, change, "merged", &lines).await?;
    merged.codes = codes;
    Ok(merged)
}

/// Stamps a change to `cart` and announces it; the row as it now stands.
async fn changed(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    mut cart: CartRow,
    change: CartChange<'_>,
    what: &str,
    lines: &[LineRow],
) -> Result<CartRow, CartError> {
    let stamp = tx.stamp();
    if let Some(codes) = change.codes {
        cart.codes = codes.to_vec();
    }
    if let Some((country, region, postal)) = change.destination {
        cart.country = country.map(str::to_string);
        cart.region = region.map(str::to_string);
        cart.postal_code = postal.map(str::to_string);
    }
    if let Some((method, pickup)) = change.delivery {
        cart.shipping_method_id = method;
        cart.pickup_location_id = pickup;
    }
    if let Some(currency) = change.currency {
        cart.currency = currency.to_string();
    }
    cart.version = store::touch(tx.conn(), cart.id, change, &stamp).await?;
    tx.stale(cached::cart_tag(cart.id));
    cart.modified_at = stamp.at;
    let event = CartUpdated {
        cart_id: cart.id.as_uuid(),
        customer_id: cart.customer_id,
        change: what.to_string(),
        item_count: lines.iter().map(|l| i64::from(l.quantity)).sum(),
        version: cart.version,
    };
    tx.publish(&m.inner.bus, &event).await?;
    Ok(cart)
}

/// The cart worked out, its shown prices recorded as seen (a changed price is told once).
async fn answer(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    cart: &CartRow,
    settings: &SettingsRow,
    shopper: &Shopper,
) -> Result<Cart, CartError> {
    let lines = store::lines(tx.conn(), cart.id).await?;
    let Viewed { cart, shown, .. } = totals::view(m, tx, cart, &lines, settings, &shopper.languages).await?;
    store::mark_seen(tx.conn(), &shown).await?;
    // What is seen decides the next read's notices.
    tx.stale(cached::cart_tag(cart.id));
    Ok(cart)
}

/// A currency the shop sells in (`field` names it when not); the shop's default for `None`.
async fn sold_currency(tx: &mut TenantTx<'_>, wanted: Option<&str>, field: &str) -> Result<String, CartError> {
    let sold = CatalogModule::shop_currencies(tx).await?;
    match wanted {
        None => Ok(sold.default_currency),
        Some(c) if sold.currencies.iter().any(|s| s == c) => Ok(c.to_string()),
        Some(_) => Err(CartError::field(field, "not a currency the shop sells in")),
    }
}

/// A new cart for the shopper: a guest's with a new token, or the customer's.
async fn open_new(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
    currency: Option<&str>,
) -> Result<(CartRow, Option<String>), CartError> {
    let currency = sold_currency(tx, currency, "currency").await?;
    let stamp = tx.stamp();
    let (token, hash) = match shopper.customer {
        Some(_) => (None, None),
        None => {
            let (token, hash) = crate::tokens::issue();
            (Some(token), Some(hash))
        }
    };
    let row = match store::insert(tx.conn(), hash.as_deref(), shopper.customer, &currency, &stamp).await? {
        Some(row) => row,
        // The customer's concurrent request made their cart first: use it.
        None => match shopper.customer {
            Some(c) => store::find(tx.conn(), Key::Customer(c), true).await?.ok_or(CartError::CartNotFound)?,
            None => return Err(CartError::CartNotFound),
        },
    };
    let event = CartCreated { cart_id: row.id.as_uuid(), customer_id: row.customer_id, currency: row.currency.clone() };
    tx.publish(&m.inner.bus, &event).await?;
    Ok((row, token))
}

pub(crate) async fn create(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
    new: NewCart,
) -> Result<CartAnswer, CartError> {
    let found = find_or_start(m, tx, shopper).await?;
    let settings = store::settings(tx.conn(), false).await?;
    let (row, new_token) = match found.cart {
        Some(row) => (row, None),
        None => open_new(m, tx, shopper, new.currency.as_deref()).await?,
    };
    let cart = answer(m, tx, &row, &settings, shopper).await?;
    Ok(CartAnswer { cart, new_token, token_spent: found.token_spent })
}

/// The shopper's cart worked out, and what it depends on (see [`cached`]).
pub(crate) async fn get(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
) -> Result<(CartAnswer, Depends), CartError> {
    let found = find(m, tx, shopper, false).await?;
    let row = found.cart.ok_or(CartError::CartNotFound)?;
    let settings = store::settings(tx.conn(), false).await?;
    let lines = store::lines(tx.conn(), row.id).await?;
    // A read records nothing as seen: the notices stay until the cart changes or is refreshed.
    let Viewed { cart, mut depends, .. } = totals::view(m, tx, &row, &lines, &settings, &shopper.languages).await?;
    let now = tx.stamp().at;
    depends.changes_at(m.inner.pricing.next_schedule_change(tx, now).await?);
    Ok((CartAnswer { cart, new_token: None, token_spent: found.token_spent }, depends))
}

/// The cart to change: the shopper's, locked; `CartNotFound` when they have none.
async fn existing(m: &CartModule, tx: &mut TenantTx<'_>, shopper: &Shopper) -> Result<(CartRow, bool), CartError> {
    let found = find(m, tx, shopper, true).await?;
    Ok((found.cart.ok_or(CartError::CartNotFound)?, found.token_spent))
}

fn check_quantity(quantity: i32, settings: &SettingsRow, field: &str) -> Result<(), CartError> {
    if quantity < 1 {
        return Err(CartError::field(field, "at least 1"));
    }
    if quantity > settings.max_line_quantity {
        return Err(CartError::QuantityLimit { field: field.to_string(), max: settings.max_line_quantity });
    }
    Ok(())
}

/// Refuses a change that leaves `variant`'s line unbuyable, naming `field`.
fn refuse_unbuyable(cart: &Cart, variant: VariantId, field: &str) -> Result<(), CartError> {
    let Some(line) = cart.lines.iter().find(|l| l.variant_id == variant) else { return Ok(()) };
    match line.problem {
        None => Ok(()),
        Some(LineProblem::Unavailable) => Err(CartError::NotForSale { field: "variant_id".into() }),
        Some(LineProblem::NoPrice) => {
            Err(CartError::NoPrice { field: "variant_id".into(), currency: cart.currency.clone() })
        }
        Some(LineProblem::NotEnoughStock) => {
            Err(CartError::NotEnoughStock { field: field.into(), available: line.available.unwrap_or(0).max(0) })
        }
    }
}

pub(crate) async fn add_line(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
    add: AddLine,
) -> Result<CartAnswer, CartError> {
    let settings = store::settings(tx.conn(), false).await?;
    let quantity = add.quantity.unwrap_or(1);
    check_quantity(quantity, &settings, "quantity")?;
    let found = find_or_start(m, tx, shopper).await?;
    let (row, new_token) = match found.cart {
        Some(row) => (row, None),
        None => open_new(m, tx, shopper, None).await?,
    };
    let mut lines = store::lines(tx.conn(), row.id).await?;
    let total = match lines.iter().find(|l| l.variant_id == add.variant_id) {
        Some(line) => line.quantity.saturating_add(quantity),
        None if lines.len() >= usize::try_from(settings.max_lines).unwrap_or(0) => {
            return Err(CartError::TooManyLines { max: settings.max_lines });
        }
        None => quantity,
    };
    check_quantity(total, &settings, "quantity")?;
    let at = tx.stamp().at;
    store::put_line(tx.conn(), row.id, add.variant_id, total, at).await?;
    lines = store::lines(tx.conn(), row.id).await?;
    let row = changed(m, tx, row, CartChange::default(), "lines", &lines).await?;
    let cart = answer(m, tx, &row, &settings, shopper).await?;
    refuse_unbuyable(&cart, add.variant_id, "quantity")?;
    Ok(CartAnswer { cart, new_token, token_spent: found.token_spent })
}

pub(crate) async fn set_quantity(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
    line: CartLineId,
    quantity: i32,
) -> Result<CartAnswer, CartError> {
    let settings = store::settings(tx.conn(), false).await?;
    let (row, token_spent) = existing(m, tx, shopper).await?;
    let lines = store::lines(tx.conn(), row.id).await?;
    let variant = lines.iter().find(|l| l.id == line).ok_or(CartError::LineNotFound)?.variant_id;
    if quantity == 0 {
        store::delete_line(tx.conn(), row.id, line).await?;
    } else {
        check_quantity(quantity, &settings, "quantity")?;
        let at = tx.stamp().at;
        store::put_line(tx.conn(), row.id, variant, quantity, at).await?;
    }
    let lines = store::lines(tx.conn(), row.id).await?;
    let row = changed(m, tx, row, CartChange::default(), "lines", &lines).await?;
    let cart = answer(m, tx, &row, &settings, shopper).await?;
    if quantity > 0 {
        refuse_unbuyable(&cart, variant, "quantity")?;
    }
    Ok(CartAnswer { cart, new_token: None, token_spent })
}

/// A code as pricing keeps them (trimmed, upper case); `None` for what cannot be one.
fn normalize_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_uppercase();
    (!code.is_empty() && code.len() <= 64 && code.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .then_some(code)
}

pub(crate) async fn apply_code(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
    raw: String,
) -> Result<CartAnswer, CartError> {
    let code = normalize_code(&raw).ok_or_else(|| CartError::CodeRejected {
        code: raw.trim().to_string(),
        reason: agora_pricing::CodeRejection::Unknown,
    })?;
    let settings = store::settings(tx.conn(), false).await?;
    let (row, token_spent) = existing(m, tx, shopper).await?;
    let mut codes = row.codes.clone();
    if !codes.contains(&code) {
        if codes.len() >= MAX_CODES {
            return Err(CartError::field("code", format!("at most {MAX_CODES} codes on one cart")));
        }
        codes.push(code.clone());
    }
    let lines = store::lines(tx.conn(), row.id).await?;
    let row = changed(m, tx, row, CartChange { codes: Some(&codes), ..Default::default() }, "codes", &lines).await?;
    let cart = answer(m, tx, &row, &settings, shopper).await?;
    if let Some(refused) = cart.codes.iter().find(|c| c.code == code && !c.applied) {
        let reason = refused.reason.unwrap_or(agora_pricing::CodeRejection::NotApplicable);
        return Err(CartError::CodeRejected { code, reason });
    }
    Ok(CartAnswer { cart, new_token: None, token_spent })
}

pub(crate) async fn remove_code(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
    raw: String,
) -> Result<CartAnswer, CartError> {
    let settings = store::settings(tx.conn(), false).await?;
    let (row, token_spent) = existing(m, tx, shopper).await?;
    let code = raw.trim().to_uppercase();
    let codes: Vec<String> = row.codes.iter().filter(|c| **c != code).cloned().collect();
    let row = if codes.len() == row.codes.len() {
        row
    } else {
        let lines = store::lines(tx.conn(), row.id).await?;
        changed(m, tx, row, CartChange { codes: Some(&codes), ..Default::default() }, "codes", &lines).await?
    };
    let cart = answer(m, tx, &row, &settings, shopper).await?;
    Ok(CartAnswer { cart, new_token: None, token_spent })
}

pub(crate) async fn choose_shipping(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
    choice: ShippingChoice,
) -> Result<CartAnswer, CartError> {
    let mut problems = Vec::new();
    let country = choice.country.trim().to_uppercase();
    if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
        problems.push(FieldError::new("country", "an ISO 3166-1 alpha-2 code such as DE"));
    }
    let region = choice.region.as_deref().map(|r| r.trim().to_uppercase()).filter(|r| !r.is_empty());
    if region.as_ref().is_some_and(|r| r.len() > 10) {
        problems.push(FieldError::new("region", "at most 10 characters"));
    }
    let postal = choice.postal_code.as_deref().map(|p| p.trim().to_uppercase()).filter(|p| !p.is_empty());
    if postal.as_ref().is_some_and(|p| p.len() > 20) {
        problems.push(FieldError::new("postal_code", "at most 20 characters"));
    }
    if choice.method_id.is_some() && choice.pickup_location_id.is_some() {
        problems.push(FieldError::new("pickup_location_id", "either a shipping method or a pickup store, not both"));
    }
    if !problems.is_empty() {
        return Err(CommonError::Invalid(problems).into());
    }
    let settings = store::settings(tx.conn(), false).await?;
    let (row, token_spent) = existing(m, tx, shopper).await?;
    let lines = store::lines(tx.conn(), row.id).await?;
    let change = CartChange {
        destination: Some((Some(&country), region.as_deref(), postal.as_deref())),
        delivery: Some((choice.method_id.map(|id| id.as_uuid()), choice.pickup_location_id.map(|id| id.as_uuid()))),
        ..Default::default()
    };
    let row = changed(m, tx, row, change, "shipping", &lines).await?;
    let cart = answer(m, tx, &row, &settings, shopper).await?;
    if choice.method_id.is_some() && cart.shipping.method_id.is_none() {
        return Err(CartError::field("method_id", "this method does not deliver this cart to that address"));
    }
    if choice.pickup_location_id.is_some() && cart.shipping.pickup_location_id.is_none() {
        return Err(CartError::field("pickup_location_id", "not a store this cart can be collected from"));
    }
    Ok(CartAnswer { cart, new_token: None, token_spent })
}

pub(crate) async fn change_currency(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
    patch: CartPatch,
) -> Result<CartAnswer, CartError> {
    let currency = sold_currency(tx, Some(patch.currency.trim()), "currency").await?;
    let settings = store::settings(tx.conn(), false).await?;
    let (row, token_spent) = existing(m, tx, shopper).await?;
    let lines = store::lines(tx.conn(), row.id).await?;
    let row = if row.currency == currency {
        row
    } else {
        // Prices in another currency compare with nothing the shopper saw.
        let forget: Vec<(CartLineId, Option<i64>)> = lines.iter().map(|l| (l.id, None)).collect();
        store::mark_seen(tx.conn(), &forget).await?;
        changed(m, tx, row, CartChange { currency: Some(&currency), ..Default::default() }, "currency", &lines).await?
    };
    let cart = answer(m, tx, &row, &settings, shopper).await?;
    Ok(CartAnswer { cart, new_token: None, token_spent })
}

pub(crate) async fn acknowledge(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    shopper: &Shopper,
) -> Result<CartAnswer, CartError> {
    let settings = store::settings(tx.conn(), false).await?;
    let (row, token_spent) = existing(m, tx, shopper).await?;
    let lines = store::lines(tx.conn(), row.id).await?;
    let Viewed { shown, .. } = totals::view(m, tx, &row, &lines, &settings, &shopper.languages).await?;
    store::mark_seen(tx.conn(), &shown).await?;
    tx.stale(cached::cart_tag(row.id));
    // Worked out again: the price notices are gone now that the shown prices are the seen ones.
    let lines = store::lines(tx.conn(), row.id).await?;
    let Viewed { cart, .. } = totals::view(m, tx, &row, &lines, &settings, &shopper.languages).await?;
    Ok(CartAnswer { cart, new_token: None, token_spent })
}

fn to_settings(row: &SettingsRow) -> CartSettings {
    CartSettings {
        abandon_after_minutes: row.abandon_after_minutes,
        max_line_quantity: row.max_line_quantity,
        max_lines: row.max_lines,
    }
}

pub(crate) async fn settings(tx: &mut TenantTx<'_>) -> Result<(CartSettings, i64), CartError> {
    let row = store::settings(tx.conn(), false).await?;
    Ok((to_settings(&row), row.version))
}

pub(crate) async fn update_settings(
    tx: &mut TenantTx<'_>,
    new: CartSettings,
    expected: Option<i64>,
) -> Result<(CartSettings, i64), CartError> {
    let mut problems = Vec::new();
    if !(5..=525_600).contains(&new.abandon_after_minutes) {
        problems.push(FieldError::new("abandon_after_minutes", "from 5 minutes to a year (525,600)"));
    }
    if !(1..=1_000_000).contains(&new.max_line_quantity) {
        problems.push(FieldError::new("max_line_quantity", "from 1 to 1,000,000"));
    }
    if !(1..=1_000).contains(&new.max_lines) {
        problems.push(FieldError::new("max_lines", "from 1 to 1,000"));
    }
    if !problems.is_empty() {
        return Err(CommonError::Invalid(problems).into());
    }
    let current = store::settings(tx.conn(), true).await?;
    if let Some(expected) = expected {
        if expected != current.version {
            return Err(CommonError::VersionConflict { expected, current: Some(current.version) }.into());
        }
    }
    let stamp = tx.stamp();
    let row = store::update_settings(tx.conn(), &new, &stamp).await?;
    tx.stale(cached::SETTINGS_TAG);
    Ok((to_settings(&row), row.version))
}

/// How many idle carts one sweep of a shop abandons at most (bounded transactions).
const ABANDON_BATCH: i64 = 500;

pub(crate) async fn abandon_idle(tx: &mut TenantTx<'_>, bus: &EventBus) -> Result<usize, CartError> {
    let settings = store::settings(tx.conn(), false).await?;
    let now = tx.stamp().at;
    let before = now - chrono::Duration::minutes(i64::from(settings.abandon_after_minutes));
    let rows = store::abandon_idle(tx.conn(), before, now, ABANDON_BATCH).await?;
    for r in &rows {
        tx.stale(cached::cart_tag(r.id));
        let event = CartAbandoned {
            cart_id: r.id,
            customer_id: r.customer_id,
            currency: r.currency.clone(),
            item_count: r.item_count,
            last_change_at: r.modified_at,
        };
        tx.publish(bus, &event).await?;
    }
    Ok(rows.len())
}
