//! A cart worked out: every line priced by pricing (the shopper's groups, the line's quantity
//! tier), checked against the inventory, discounted by promotions, shipped and taxed — in the
//! caller's transaction, so what one answer shows is one consistent moment.

use crate::cached::{self, Depends};
use crate::store::{CartRow, LineRow, SettingsRow};
use crate::{
    Cart, CartCode, CartDiscount, CartError, CartLine, CartLineId, CartModule, CartNotice, CartShipping, CartTotals,
    LineProblem, NoticeKind,
};
use agora_catalog::{CatalogModule, ProductKind, VariantId};
use agora_kernel::money::{Currency, Money};
use agora_kernel::ports::PRICES_CACHE_TAG;
use agora_kernel::TenantTx;
use agora_pricing::{
    CodeRejection, Destination, PromotionContext, PromotionLine, ShippingQuery, TaxDestination, TaxQuery, TaxQueryLine,
};
use std::collections::BTreeMap;

/// A cart worked out, the unit prices it showed (what the next answer compares with), and what
/// it was worked out from (to keep it in the cache).
pub(crate) struct Viewed {
    pub cart: Cart,
    pub shown: Vec<(CartLineId, Option<i64>)>,
    pub depends: Depends,
}

/// Works `row` and its `lines` out for a shopper reading `languages`.
pub(crate) async fn view(
    m: &CartModule,
    tx: &mut TenantTx<'_>,
    row: &CartRow,
    lines: &[LineRow],
    settings: &SettingsRow,
    languages: &[String],
) -> Result<Viewed, CartError> {
    let now = tx.stamp().at;
    let currency = Currency::parse(&row.currency).ok_or_else(|| CartError::field("currency", "not a currency"))?;
    let money = |amount: i64| Money::new(amount, currency);
    let ids: Vec<VariantId> = lines.iter().map(|l| l.variant_id).collect();
    let catalog = CatalogModule::cart_variants(tx, &ids, languages).await?;
    let stock = if ids.is_empty() { BTreeMap::new() } else { m.inner.inventory.sellable_in(tx, &ids).await? };
    let groups = match row.customer_id {
        Some(customer) => m.inner.customers.groups_of(tx, customer).await?,
        None => Vec::new(),
    };

    // Quantity tiers: each line is priced at its own quantity (one lookup per distinct one).
    let mut by_quantity: BTreeMap<i32, Vec<VariantId>> = BTreeMap::new();
    for l in lines {
        if catalog.variants.get(&l.variant_id).is_some_and(|v| v.sellable) {
            by_quantity.entry(l.quantity).or_default().push(l.variant_id);
        }
    }
    let mut depends = Depends::default();
    let mut prices = BTreeMap::new();
    for (quantity, variants) in &by_quantity {
        let sheet = m.inner.pricing.prices_for(tx, variants, currency, &groups, *quantity, now).await?;
        depends.changes_at(sheet.valid_until);
        prices.extend(sheet.prices);
    }

    let mut out_lines = Vec::with_capacity(lines.len());
    let mut notices = Vec::new();
    let mut promotion_lines = Vec::new();
    let mut requires_shipping = false;
    let mut weight: i64 = 0;
    for l in lines {
        let variant = catalog.variants.get(&l.variant_id);
        let price = prices.get(&l.variant_id);
        let sellable = stock.get(&l.variant_id);
        let available = sellable.and_then(|s| s.most);
        let problem = match (variant, price) {
            (None, _) => Some(LineProblem::Unavailable),
            (Some(v), _) if !v.sellable => Some(LineProblem::Unavailable),
            (_, None) => Some(LineProblem::NoPrice),
            _ if available.is_some_and(|a| a < i64::from(l.quantity)) => Some(LineProblem::NotEnoughStock),
            _ => None,
        };
        let unit = price.map(|p| p.price.amount);
        let line_total = unit.map(|u| u.saturating_mul(i64::from(l.quantity)));
        if let (Some(seen), Some(now_price)) = (l.seen_price, unit) {
            if seen != now_price {
                notices.push(CartNotice {
                    kind: NoticeKind::PriceChanged,
                    line_id: Some(l.id),
                    code: None,
                    reason: None,
                    previous: Some(money(seen)),
                    current: Some(money(now_price)),
                });
            }
        }
        match problem {
            Some(LineProblem::Unavailable | LineProblem::NoPrice) => {
                notices.push(line_notice(NoticeKind::LineUnavailable, l.id))
            }
            Some(LineProblem::NotEnoughStock) => notices.push(line_notice(NoticeKind::NotEnoughStock, l.id)),
            None => {}
        }
        if let (None, Some(v), Some(p), Some(total)) = (problem, variant, price, line_total) {
            if v.kind == ProductKind::Physical {
                requires_shipping = true;
                weight = weight.saturating_add(i64::from(v.weight_grams.unwrap_or(0)) * i64::from(l.quantity));
            }
            promotion_lines.push(PromotionLine {
                key: l.id.to_string(),
                product_id: v.product_id,
                variant_id: v.variant_id,
                category_ids: v.category_ids.clone(),
                collection_ids: v.collection_ids.clone(),
                quantity: l.quantity,
                unit_price: p.price,
                line_total: money(total),
            });
        }
        out_lines.push(CartLine {
            id: l.id,
            variant_id: l.variant_id,
            product_id: variant.map(|v| v.product_id),
            name: variant.map_or_else(String::new, |v| v.name.clone()),
            sku: variant.map(|v| v.sku.clone()),
            option_values: variant.map(|v| v.option_values.clone()).unwrap_or_default(),
            slug: variant.and_then(|v| v.slug.clone()),
            quantity: l.quantity,
            unit_price: price.map(|p| p.price),
            compare_at: price.and_then(|p| p.compare_at),
            line_total: line_total.map(money),
            discount: None,
            total: None,
            tax: None,
            available,
            stock_status: sellable.and_then(|s| s.status).map(|s| s.as_str().to_string()),
            problem,
        });
    }
    let subtotal: i64 = promotion_lines.iter().map(|p| p.line_total.amount).sum();

    // Promotions, then shipping for the discounted value, then promotions again with the
    // shipping price when there is one (free shipping, and which stack wins, depend on it).
    let mut context = PromotionContext {
        currency,
        lines: promotion_lines,
        customer_id: row.customer_id,
        customer_group_ids: groups.iter().map(|g| g.as_uuid()).collect(),
        codes: row.codes.clone(),
        shipping: None,
        now: Some(now),
    };
    let buyable = !context.lines.is_empty();
    let mut applied =
        if buyable { Some(m.inner.pricing.evaluate_promotions(tx, context.clone()).await?) } else { None };

    let destination = row.country.as_ref().map(|country| Destination {
        country: country.clone(),
        region: row.region.clone(),
        postal_code: row.postal_code.clone(),
    });
    let mut shipping = CartShipping {
        requires_shipping,
        destination: destination.clone(),
        options: Vec::new(),
        pickup_locations: Vec::new(),
        method_id: None,
        pickup_location_id: None,
        price: None,
    };
    if requires_shipping {
        shipping.pickup_locations = m.inner.inventory.pickup_locations_in(tx).await?;
        if let Some(destination) = &destination {
            let discounted = subtotal - applied.as_ref().map_or(0, |a| a.discount_total.amount);
            let query = ShippingQuery {
                destination: destination.clone(),
                order_value: money(discounted),
                weight_grams: Some(weight),
            };
            shipping.options = m.inner.pricing.shipping_options_in(tx, &query).await?.options;
        }
        if let Some(method) = row.shipping_method_id {
            match shipping.options.iter().find(|o| o.method_id.as_uuid() == method) {
                Some(option) => {
                    shipping.method_id = Some(option.method_id);
                    shipping.price = Some(option.price);
                }
                None => notices.push(CartNotice {
                    kind: NoticeKind::ShippingUnavailable,
                    line_id: None,
                    code: None,
                    reason: None,
                    previous: None,
                    current: None,
                }),
            }
        }
        if let Some(pickup) = row.pickup_location_id {
            if let Some(store) = shipping.pickup_locations.iter().find(|p| p.id.as_uuid() == pickup) {
                shipping.pickup_location_id = Some(store.id);
                shipping.price = Some(money(0));
            }
        }
    }
    let shipping_price = shipping.price.map_or(0, |p| p.amount);
    if buyable && shipping_price > 0 {
        context.shipping = Some(money(shipping_price));
        applied = Some(m.inner.pricing.evaluate_promotions(tx, context.clone()).await?);
    }

    // Each line's share of the discounts.
    let mut line_discount: BTreeMap<String, i64> = BTreeMap::new();
    let mut discounts = Vec::new();
    if let Some(a) = &applied {
        for p in &a.applied {
            for share in &p.allocations {
                *line_discount.entry(share.key.clone()).or_default() += share.amount.amount;
            }
            discounts.push(CartDiscount {
                promotion_id: p.promotion_id,
                name: p.name.clone(),
                code: p.code.clone(),
                amount: p.amount,
                shipping: p.shipping_discount,
            });
        }
    }
    let discount_total = applied.as_ref().map_or(0, |a| a.discount_total.amount);
    let shipping_discount = applied.as_ref().and_then(|a| a.shipping_discount).map_or(0, |d| d.amount);
    let shipping_total = (shipping_price - shipping_discount).max(0);

    // The codes the shopper entered, and why each that does not apply does not.
    let codes: Vec<CartCode> = row
        .codes
        .iter()
        .map(|code| {
            let applied_here = applied.as_ref().is_some_and(|a| {
                a.applied.iter().any(|p| p.code.as_deref().is_some_and(|c| c.eq_ignore_ascii_case(code)))
            });
            let reason = if applied_here {
                None
            } else {
                Some(
                    applied
                        .as_ref()
                        .and_then(|a| a.rejected_codes.iter().find(|r| r.code.eq_ignore_ascii_case(code)))
                        .map_or(CodeRejection::NotApplicable, |r| r.reason),
                )
            };
            CartCode { code: code.clone(), applied: applied_here, reason }
        })
        .collect();
    for c in codes.iter().filter(|c| !c.applied) {
        notices.push(CartNotice {
            kind: NoticeKind::CodeNoLongerApplies,
            line_id: None,
            code: Some(c.code.clone()),
            reason: c.reason,
            previous: None,
            current: None,
        });
    }

    // Taxes: for the destination, else for where the shop sells from (an estimate).
    let tax_settings = m.inner.pricing.tax_settings_in(tx).await?;
    let tax_destination = match &destination {
        Some(d) => Some(TaxDestination {
            country: d.country.clone(),
            region: d.region.clone(),
            postal_code: d.postal_code.clone(),
        }),
        None => tax_settings.origin_country.clone().map(|country| TaxDestination {
            country,
            region: None,
            postal_code: None,
        }),
    };
    let mut taxes = None;
    if buyable {
        if let Some(destination) = tax_destination.clone() {
            let query = TaxQuery {
                destination,
                customer_id: row.customer_id,
                lines: context
                    .lines
                    .iter()
                    .map(|l| TaxQueryLine {
                        key: Some(l.key.clone()),
                        product_id: l.product_id.as_uuid(),
                        amount: money(l.line_total.amount - line_discount.get(&l.key).copied().unwrap_or(0)),
                    })
                    .collect(),
                shipping: (shipping.price.is_some()).then(|| money(shipping_total)),
            };
            taxes = Some(m.inner.pricing.calculate_taxes(tx, query).await?);
        }
    }
    let line_tax: BTreeMap<String, i64> =
        taxes.as_ref().map(|t| t.lines.iter().map(|l| (l.key.clone(), l.tax.amount)).collect()).unwrap_or_default();
    for line in out_lines.iter_mut().filter(|l| l.problem.is_none() && l.line_total.is_some()) {
        let key = line.id.to_string();
        let discount = line_discount.get(&key).copied().unwrap_or(0);
        let total = line.line_total.map_or(0, |t| t.amount);
        line.discount = Some(money(discount));
        line.total = Some(money(total - discount));
        line.tax = taxes.as_ref().map(|_| money(line_tax.get(&key).copied().unwrap_or(0)));
    }
    let untaxed_total = subtotal - discount_total + shipping_total;
    let totals = CartTotals {
        subtotal: money(subtotal),
        discount_total: money(discount_total),
        shipping_total: money(shipping_total),
        tax_total: money(taxes.as_ref().map_or(0, |t| t.tax_total.amount)),
        total: money(taxes.as_ref().map_or(untaxed_total, |t| t.total.amount)),
        taxes: taxes.as_ref().map(|t| t.taxes.clone()).unwrap_or_default(),
        prices_include_tax: taxes.as_ref().map_or(tax_settings.prices_include_tax, |t| t.prices_include_tax),
        tax_country: tax_destination.map(|d| d.country),
        reverse_charge: taxes.as_ref().is_some_and(|t| t.reverse_charge),
    };
    let shown = out_lines.iter().map(|l| (l.id, l.unit_price.map(|p| p.amount))).collect();
    depends.changes_at(catalog.next_change);
    depends.tags = [cached::cart_tag(row.id), cached::SETTINGS_TAG.to_string(), PRICES_CACHE_TAG.to_string()]
        .into_iter()
        .chain(catalog.cache_tags.iter().cloned())
        .chain(agora_inventory::InventoryModule::cache_tags(&ids))
        .collect();
    let cart = Cart {
        id: row.id,
        token: None,
        currency: row.currency.clone(),
        locale: catalog.locale,
        customer_cart: row.customer_id.is_some(),
        item_count: lines.iter().map(|l| i64::from(l.quantity)).sum(),
        lines: out_lines,
        codes,
        discounts,
        shipping,
        totals,
        notices,
        version: row.version,
        modified_at: row.modified_at,
        expires_at: row.modified_at + chrono::Duration::minutes(i64::from(settings.abandon_after_minutes)),
    };
    Ok(Viewed { cart, shown, depends })
}

fn line_notice(kind: NoticeKind, line: CartLineId) -> CartNotice {
    CartNotice { kind, line_id: Some(line), code: None, reason: None, previous: None, current: None }
}
