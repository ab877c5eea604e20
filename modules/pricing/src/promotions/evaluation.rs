//! Which promotions a cart gets, and how much each takes off which line: a pure function of the
//! cart, the instant, and the promotions the store found (automatic ones and the ones the
//! submitted codes name). No database, no clock: every case is a unit test.
//!
//! # The stacking rule
//!
//! 1. A promotion is **eligible** when it is active, inside its start/end window, for one of
//!    the customer's groups (if it names any), has qualifying lines (every line when it names no
//!    products, categories or collections; else the lines matching any of them), its minimum
//!    subtotal over the qualifying lines is met (in the cart's currency), the customer has uses
//!    left, and — for a code — the code has uses left.
//! 2. The **stack** is every eligible `stackable` promotion, applied in priority order (lower
//!    number first, then the older promotion): each takes its discount from what the earlier
//!    ones left of each line, so a line never goes below zero.
//! 3. Each eligible `exclusive` promotion is an alternative to the whole stack, worth its
//!    discount on the undiscounted cart. The **best deal wins**: an exclusive promotion applies
//!    alone if it takes off strictly more (lines + shipping) than the stack and than every other
//!    exclusive one (ties go to the lower priority number, then the older); otherwise the stack
//!    applies and no exclusive one does.
//! 4. So at most one code applies unless codes are stackable: an exclusive code always applies
//!    alone. A submitted code that was eligible but lost to the rule is `not_combinable`, as is a
//!    second code of a promotion already applied.
//!
//! Amounts off are positive; each promotion's amount is spread over its qualifying lines in
//! proportion to what is left of them ([`Money::allocate`], largest remainder), so the parts sum
//! to the amount exactly and no line gets more than it has left.

use super::{
    AppliedPromotion, AppliedPromotions, CodeRejection, DiscountKind, LineDiscount, PromotionCodeId,
    PromotionConditions, PromotionContext, PromotionDiscount, PromotionId, RejectedCode, Stacking,
};
use agora_kernel::money::{BasisPoints, Currency, Money, MoneyError, Rounding};
use chrono::{DateTime, Utc};

/// A promotion as evaluation sees it (active, not deleted: the store hands over no other).
#[derive(Debug, Clone)]
pub(crate) struct Offer {
    pub id: PromotionId,
    pub name: String,
    pub stacking: Stacking,
    pub priority: i32,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit_per_customer: Option<i32>,
    pub discount: PromotionDiscount,
    pub conditions: PromotionConditions,
    /// Orders the cart's customer placed with it so far (0 for a guest).
    pub customer_uses: i32,
}

/// A submitted code's state.
#[derive(Debug, Clone)]
pub(crate) struct CodeState {
    pub id: PromotionCodeId,
    /// As stored (upper case).
    pub code: String,
    pub used: i32,
    pub usage_limit: Option<i32>,
}

/// A code the shopper typed, and what the store found behind it (`None`: unknown, or its code
/// or promotion is disabled or deleted — all the same to a shopper).
#[derive(Debug, Clone)]
pub(crate) struct Submitted {
    pub typed: String,
    pub found: Option<(CodeState, Offer)>,
}

/// One promotion's take: per cart line, and off shipping.
#[derive(Debug, Clone)]
struct Take {
    lines: Vec<i64>,
    shipping: i64,
}

impl Take {
    fn value(&self) -> i64 {
        self.lines.iter().sum::<i64>().saturating_add(self.shipping)
    }
}

#[derive(Debug, Clone)]
struct Eligible {
    offer: Offer,
    code: Option<CodeState>,
    /// Index of the submitted code, for its rejection.
    submitted: Option<usize>,
}

/// Spreads `discount` (0 ≤ discount ≤ the sum of `weights`) over lines in proportion to
/// `weights` (what is left of each line; 0 for a line the promotion does not touch).
pub(crate) fn spread(discount: i64, weights: &[i64], currency: Currency) -> Result<Vec<i64>, MoneyError> {
    if discount == 0 {
        return Ok(vec![0; weights.len()]);
    }
    let weights: Vec<u64> = weights.iter().map(|w| u64::try_from(*w).unwrap_or(0)).collect();
    Ok(Money::new(discount, currency).allocate(&weights)?.into_iter().map(|m| m.amount).collect())
}

fn qualifying(conditions: &PromotionConditions, ctx: &PromotionContext) -> Vec<bool> {
    let open =
        conditions.product_ids.is_empty() && conditions.category_ids.is_empty() && conditions.collection_ids.is_empty();
    ctx.lines
        .iter()
        .map(|line| {
            open || conditions.product_ids.contains(&line.product_id)
                || line.category_ids.iter().any(|c| conditions.category_ids.contains(c))
                || line.collection_ids.iter().any(|c| conditions.collection_ids.contains(c))
        })
        .collect()
}

fn amount_in(amounts: &[Money], currency: Currency) -> Option<i64> {
    amounts.iter().find(|m| m.currency == currency).map(|m| m.amount)
}

/// Why `offer` does not apply to the cart, or `None` when it does (its discount may still be
/// zero: see [`take`]).
fn refusal(
    offer: &Offer,
    code: Option<&CodeState>,
    ctx: &PromotionContext,
    now: DateTime<Utc>,
) -> Option<CodeRejection> {
    if offer.starts_at.is_some_and(|s| now < s) {
        return Some(CodeRejection::NotStarted);
    }
    if offer.ends_at.is_some_and(|e| now >= e) {
        return Some(CodeRejection::Expired);
    }
    if let Some(code) = code {
        if code.usage_limit.is_some_and(|limit| code.used >= limit) {
            return Some(CodeRejection::Exhausted);
        }
    }
    if ctx.customer_id.is_some() && offer.usage_limit_per_customer.is_some_and(|limit| offer.customer_uses >= limit) {
        return Some(CodeRejection::CustomerLimitReached);
    }
    let groups = &offer.conditions.customer_group_ids;
    if !groups.is_empty() && !ctx.customer_group_ids.iter().any(|g| groups.contains(g)) {
        return Some(CodeRejection::NotForYourGroup);
    }
    let qualifying = qualifying(&offer.conditions, ctx);
    if !qualifying.iter().any(|q| *q) {
        return Some(CodeRejection::NotApplicable);
    }
    let subtotal: i64 = ctx.lines.iter().zip(&qualifying).filter(|(_, q)| **q).map(|(l, _)| l.line_total.amount).sum();
    if !offer.conditions.minimum_subtotal.is_empty() {
        match amount_in(&offer.conditions.minimum_subtotal, ctx.currency) {
            // A minimum set only in other currencies: the merchant did not mean this market.
            None => return Some(CodeRejection::NotApplicable),
            Some(minimum) if subtotal < minimum => return Some(CodeRejection::MinimumNotMet),
            Some(_) => {}
        }
    }
    match offer.discount.kind {
        DiscountKind::Tiered => {
            let tiers = offer.discount.tiers.as_deref().unwrap_or_default();
            let mine: Vec<_> = tiers.iter().filter(|t| t.threshold.currency == ctx.currency).collect();
            if mine.is_empty() {
                return Some(CodeRejection::NotApplicable);
            }
            if !mine.iter().any(|t| subtotal >= t.threshold.amount) {
                return Some(CodeRejection::MinimumNotMet);
            }
        }
        DiscountKind::FixedAmount => {
            if amount_in(offer.discount.amounts.as_deref().unwrap_or_default(), ctx.currency).is_none() {
                return Some(CodeRejection::NotApplicable);
            }
        }
        DiscountKind::BuyXGetY => {
            let (buy, get) = bxgy_quantities(&offer.discount);
            let units: i64 =
                ctx.lines.iter().zip(&qualifying).filter(|(_, q)| **q).map(|(l, _)| i64::from(l.quantity)).sum();
            if units < buy + get {
                return Some(CodeRejection::NotApplicable);
            }
        }
        DiscountKind::Percentage | DiscountKind::FreeShipping => {}
    }
    None
}

fn bxgy_quantities(d: &PromotionDiscount) -> (i64, i64) {
    (i64::from(d.buy_quantity.unwrap_or(1).max(1)), i64::from(d.get_quantity.unwrap_or(1).max(1)))
}

/// Free units among the first `n` units of the cheapest-last order, in full groups of
/// `buy + get` (the last `get` of each group are the discounted ones).
fn free_among(n: i64, buy: i64, get: i64) -> i64 {
    let group = buy + get;
    (n / group) * get + (n % group - buy).max(0)
}

/// What `offer` takes off each line of `left` (what earlier promotions left of the lines) and
/// off `shipping_left`.
fn take(offer: &Offer, ctx: &PromotionContext, left: &[i64], shipping_left: i64) -> Result<Take, MoneyError> {
    let currency = ctx.currency;
    let qualifying = qualifying(&offer.conditions, ctx);
    let weights: Vec<i64> = left.iter().zip(&qualifying).map(|(l, q)| if *q { (*l).max(0) } else { 0 }).collect();
    let base: i64 = weights.iter().sum();
    let percent_of = |bp: u32| -> Result<i64, MoneyError> {
        Ok(Money::new(base, currency).percent(BasisPoints(bp.min(10_000)), Rounding::HalfUp)?.amount.min(base))
    };
    let none = Take { lines: vec![0; left.len()], shipping: 0 };
    match offer.discount.kind {
        DiscountKind::Percentage => {
            let d = percent_of(offer.discount.percent_bp.unwrap_or(0))?;
            Ok(Take { lines: spread(d, &weights, currency)?, shipping: 0 })
        }
        DiscountKind::FixedAmount => {
            let Some(amount) = amount_in(offer.discount.amounts.as_deref().unwrap_or_default(), currency) else {
                return Ok(none);
            };
            Ok(Take { lines: spread(amount.clamp(0, base), &weights, currency)?, shipping: 0 })
        }
        DiscountKind::Tiered => {
            // The tier is chosen on the undiscounted qualifying subtotal: "15 % over 200" means
            // the goods, not what another promotion left of them.
            let subtotal: i64 =
                ctx.lines.iter().zip(&qualifying).filter(|(_, q)| **q).map(|(l, _)| l.line_total.amount).sum();
            let tier = offer
                .discount
                .tiers
                .as_deref()
                .unwrap_or_default()
                .iter()
                .filter(|t| t.threshold.currency == currency && subtotal >= t.threshold.amount)
                .max_by_key(|t| t.threshold.amount);
            let Some(tier) = tier else { return Ok(none) };
            let d = percent_of(tier.percent_bp)?;
            Ok(Take { lines: spread(d, &weights, currency)?, shipping: 0 })
        }
        DiscountKind::FreeShipping => Ok(Take { lines: vec![0; left.len()], shipping: shipping_left.max(0) }),
        DiscountKind::BuyXGetY => {
            let (buy, get) = bxgy_quantities(&offer.discount);
            let bp = offer.discount.percent_bp.unwrap_or(10_000).min(10_000);
            // Qualifying units dearest first; in every full group of buy + get, the cheapest
            // `get` are discounted (buy 2 get 1: of 30, 20, 10 the 10 is free).
            let mut runs: Vec<(usize, i64, i64)> = ctx
                .lines
                .iter()
                .enumerate()
                .filter(|(i, _)| qualifying.get(*i).copied().unwrap_or(false))
                .map(|(i, l)| (i, l.unit_price.amount, i64::from(l.quantity)))
                .collect();
            runs.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            let total_units: i64 = runs.iter().map(|r| r.2).sum();
            let counted = (total_units / (buy + get)) * (buy + get);
            let mut lines = vec![0i64; left.len()];
            let mut position = 0i64;
            for (index, unit_price, quantity) in runs {
                let end = (position + quantity).min(counted);
                let free = if end > position { free_among(end, buy, get) - free_among(position, buy, get) } else { 0 };
                position += quantity;
                let per_unit = Money::new(unit_price, currency).percent(BasisPoints(bp), Rounding::HalfUp)?.amount;
                let off = per_unit.checked_mul(free).ok_or(MoneyError::Overflow)?;
                if let (Some(slot), Some(remaining)) = (lines.get_mut(index), weights.get(index)) {
                    *slot = off.clamp(0, *remaining);
                }
            }
            Ok(Take { lines, shipping: 0 })
        }
    }
}

/// The promotions `ctx` gets (see the module doc for the rule), with every submitted code that
/// does not apply and why.
pub(crate) fn evaluate(
    ctx: &PromotionContext,
    now: DateTime<Utc>,
    automatic: Vec<Offer>,
    submitted: Vec<Submitted>,
) -> Result<AppliedPromotions, MoneyError> {
    let currency = ctx.currency;
    let mut rejected: Vec<Option<CodeRejection>> = vec![None; submitted.len()];
    let mut eligible: Vec<Eligible> = Vec::new();
    for offer in automatic {
        if refusal(&offer, None, ctx, now).is_none() {
            eligible.push(Eligible { offer, code: None, submitted: None });
        }
    }
    for (index, s) in submitted.iter().enumerate() {
        let Some((code, offer)) = &s.found else {
            rejected[index] = Some(CodeRejection::Unknown);
            continue;
        };
        if let Some(reason) = refusal(offer, Some(code), ctx, now) {
            rejected[index] = Some(reason);
        } else if eligible.iter().any(|e| e.offer.id == offer.id) {
            // Two codes of one promotion: it applies once.
            rejected[index] = Some(CodeRejection::NotCombinable);
        } else {
            eligible.push(Eligible { offer: offer.clone(), code: Some(code.clone()), submitted: Some(index) });
        }
    }
    eligible
        .sort_by(|a, b| a.offer.priority.cmp(&b.offer.priority).then(a.offer.id.as_uuid().cmp(&b.offer.id.as_uuid())));

    let totals: Vec<i64> = ctx.lines.iter().map(|l| l.line_total.amount.max(0)).collect();
    let shipping = ctx.shipping.map_or(0, |s| s.amount.max(0));

    // The stack, in priority order, each on what the earlier ones left.
    let mut stack: Vec<(Eligible, Take)> = Vec::new();
    let (mut left, mut shipping_left) = (totals.clone(), shipping);
    for e in eligible.iter().filter(|e| e.offer.stacking == Stacking::Stackable) {
        let t = take(&e.offer, ctx, &left, shipping_left)?;
        for (l, off) in left.iter_mut().zip(&t.lines) {
            *l -= off;
        }
        shipping_left -= t.shipping;
        stack.push((e.clone(), t));
    }
    let stack_value: i64 = stack.iter().map(|(_, t)| t.value()).sum();

    // The best exclusive one, on the undiscounted cart (eligible is in priority order, so the
    // first of equal values wins).
    let mut best: Option<(Eligible, Take)> = None;
    for e in eligible.iter().filter(|e| e.offer.stacking == Stacking::Exclusive) {
        let t = take(&e.offer, ctx, &totals, shipping)?;
        if best.as_ref().is_none_or(|(_, b)| t.value() > b.value()) {
            best = Some((e.clone(), t));
        }
    }
    let winners = match best {
        Some((e, t)) if t.value() > stack_value => vec![(e, t)],
        _ => stack,
    };
    for e in &eligible {
        if let Some(index) = e.submitted {
            if !winners.iter().any(|(w, _)| w.offer.id == e.offer.id) {
                rejected[index] = Some(CodeRejection::NotCombinable);
            }
        }
    }

    let mut applied = Vec::with_capacity(winners.len());
    let mut discount_total = 0i64;
    let mut shipping_total = 0i64;
    for (e, t) in winners {
        let amount: i64 = t.lines.iter().sum();
        discount_total += amount;
        shipping_total += t.shipping;
        applied.push(AppliedPromotion {
            promotion_id: e.offer.id,
            name: e.offer.name.clone(),
            code: e.code.as_ref().map(|c| c.code.clone()),
            code_id: e.code.as_ref().map(|c| c.id),
            kind: e.offer.discount.kind,
            stacking: e.offer.stacking,
            amount: Money::new(amount, currency),
            shipping_discount: (e.offer.discount.kind == DiscountKind::FreeShipping)
                .then(|| Money::new(t.shipping, ctx.shipping.map_or(currency, |s| s.currency))),
            allocations: ctx
                .lines
                .iter()
                .zip(&t.lines)
                .filter(|(_, off)| **off != 0)
                .map(|(line, off)| LineDiscount { key: line.key.clone(), amount: Money::new(*off, currency) })
                .collect(),
        });
    }
    let rejected_codes = submitted
        .into_iter()
        .zip(rejected)
        .filter_map(|(s, reason)| reason.map(|reason| RejectedCode { code: s.typed, reason }))
        .collect();
    let free_shipping = applied.iter().any(|a| a.kind == DiscountKind::FreeShipping);
    Ok(AppliedPromotions {
        currency,
        applied,
        discount_total: Money::new(discount_total, currency),
        shipping_discount: free_shipping
            .then(|| Money::new(shipping_total, ctx.shipping.map_or(currency, |s| s.currency))),
        rejected_codes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::promotions::{DiscountTier, PromotionLine};
    use agora_catalog::{CategoryId, CollectionId, ProductId, VariantId};
    use proptest::prelude::*;
    use uuid::Uuid;

    fn eur(amount: i64) -> Money {
        Money::new(amount, Currency::EUR)
    }

    fn line(key: &str, unit: i64, quantity: i32) -> PromotionLine {
        PromotionLine {
            key: key.into(),
            product_id: ProductId::new_v7(),
            variant_id: VariantId::new_v7(),
            category_ids: vec![],
            collection_ids: vec![],
            quantity,
            unit_price: eur(unit),
            line_total: eur(unit * i64::from(quantity)),
        }
    }

    fn cart(lines: Vec<PromotionLine>) -> PromotionContext {
        PromotionContext {
            currency: Currency::EUR,
            lines,
            customer_id: None,
            customer_group_ids: vec![],
            codes: vec![],
            shipping: None,
            now: None,
        }
    }

    fn discount(kind: DiscountKind) -> PromotionDiscount {
        PromotionDiscount { kind, percent_bp: None, amounts: None, buy_quantity: None, get_quantity: None, tiers: None }
    }

    fn percent(bp: u32) -> PromotionDiscount {
        PromotionDiscount { percent_bp: Some(bp), ..discount(DiscountKind::Percentage) }
    }

    fn fixed(amounts: Vec<Money>) -> PromotionDiscount {
        PromotionDiscount { amounts: Some(amounts), ..discount(DiscountKind::FixedAmount) }
    }

    fn offer(name: &str, d: PromotionDiscount) -> Offer {
        Offer {
            id: PromotionId::new_v7(),
            name: name.into(),
            stacking: Stacking::Stackable,
            priority: 100,
            starts_at: None,
            ends_at: None,
            usage_limit_per_customer: None,
            discount: d,
            conditions: PromotionConditions::default(),
            customer_uses: 0,
        }
    }

    fn code(c: &str, o: &Offer) -> Submitted {
        Submitted {
            typed: c.to_lowercase(),
            found: Some((
                CodeState { id: PromotionCodeId::new_v7(), code: c.into(), used: 0, usage_limit: None },
                o.clone(),
            )),
        }
    }

    fn now() -> DateTime<Utc> {
        "2026-06-01T12:00:00Z".parse().unwrap()
    }

    fn run(ctx: &PromotionContext, automatic: Vec<Offer>, submitted: Vec<Submitted>) -> AppliedPromotions {
        evaluate(ctx, now(), automatic, submitted).unwrap()
    }

    fn allocations(a: &AppliedPromotion) -> Vec<(String, i64)> {
        a.allocations.iter().map(|l| (l.key.clone(), l.amount.amount)).collect()
    }

    fn reasons(r: &AppliedPromotions) -> Vec<(String, CodeRejection)> {
        r.rejected_codes.iter().map(|c| (c.code.clone(), c.reason)).collect()
    }

    #[test]
    fn percentage_off_is_rounded_half_up_and_spread_by_line_total() {
        // 10 % of 19.99 + 2 × 5.00 = 29.99 → 2.999 → 3.00; spread 1999 : 1000 → 2.00 + 1.00.
        let ctx = cart(vec![line("a", 1999, 1), line("b", 500, 2)]);
        let r = run(&ctx, vec![offer("ten", percent(1000))], vec![]);
        assert_eq!(r.discount_total, eur(300));
        assert_eq!(allocations(&r.applied[0]), [("a".into(), 200), ("b".into(), 100)]);
        // 15 % of 3 × 0.33 = 0.99 → 0.1485 → 0.15, spread over three equal lines 5, 5, 5.
        let ctx = cart(vec![line("a", 33, 1), line("b", 33, 1), line("c", 33, 1)]);
        let r = run(&ctx, vec![offer("fifteen", percent(1500))], vec![]);
        assert_eq!(r.discount_total, eur(15));
        assert_eq!(allocations(&r.applied[0]), [("a".into(), 5), ("b".into(), 5), ("c".into(), 5)]);
    }

    #[test]
    fn fixed_amount_is_in_the_carts_currency_and_never_more_than_the_goods() {
        let o = offer("five off", fixed(vec![Money::new(700, Currency::USD), eur(500)]));
        // 5.00 over 30.00 + 10.00 → 3.75 + 1.25.
        let r = run(&cart(vec![line("a", 3000, 1), line("b", 1000, 1)]), vec![o.clone()], vec![]);
        assert_eq!(r.discount_total, eur(500));
        assert_eq!(allocations(&r.applied[0]), [("a".into(), 375), ("b".into(), 125)]);
        // Over a 3.00 cart it takes 3.00, not 5.00.
        let r = run(&cart(vec![line("a", 300, 1)]), vec![o.clone()], vec![]);
        assert_eq!(r.discount_total, eur(300));
        // No amount in GBP: not for this market.
        let mut gbp = cart(vec![line("a", 300, 1)]);
        gbp.currency = Currency::GBP;
        for l in &mut gbp.lines {
            l.unit_price.currency = Currency::GBP;
            l.line_total.currency = Currency::GBP;
        }
        let r = run(&gbp, vec![], vec![code("FIVE", &o)]);
        assert!(r.applied.is_empty());
        assert_eq!(reasons(&r), [("five".into(), CodeRejection::NotApplicable)]);
    }

    #[test]
    fn free_shipping_takes_the_shipping_off_and_nothing_from_the_lines() {
        let mut ctx = cart(vec![line("a", 2000, 1)]);
        ctx.shipping = Some(eur(495));
        let r = run(&ctx, vec![], vec![code("SHIPFREE", &offer("ship", discount(DiscountKind::FreeShipping)))]);
        assert_eq!(r.shipping_discount, Some(eur(495)));
        assert_eq!(r.discount_total, eur(0));
        assert_eq!(r.applied[0].shipping_discount, Some(eur(495)));
        assert!(r.applied[0].allocations.is_empty());
        assert!(r.rejected_codes.is_empty());
    }

    #[test]
    fn buy_two_get_one_free_discounts_the_cheapest_of_each_group() {
        let bxgy = |bp| PromotionDiscount {
            buy_quantity: Some(2),
            get_quantity: Some(1),
            percent_bp: Some(bp),
            ..discount(DiscountKind::BuyXGetY)
        };
        // 30, 20, 10: the 10 is free.
        let ctx = cart(vec![line("a", 3000, 1), line("b", 1000, 1), line("c", 2000, 1)]);
        let r = run(&ctx, vec![offer("3for2", bxgy(10_000))], vec![]);
        assert_eq!(r.discount_total, eur(1000));
        assert_eq!(allocations(&r.applied[0]), [("b".into(), 1000)]);
        // Six units 60, 50, 40, 30, 20, 10 (two lines of three): 40 and 10 free.
        let ctx = cart(vec![line("hi", 6000, 1), line("mid", 5000, 1), line("x", 4000, 1), line("lo", 1000, 3)]);
        let r = run(&ctx, vec![offer("3for2", bxgy(10_000))], vec![]);
        // Order: 60, 50, 40 | 10, 10, 10 → 40 and one 10 free.
        assert_eq!(r.discount_total, eur(5000));
        assert_eq!(allocations(&r.applied[0]), [("x".into(), 4000), ("lo".into(), 1000)]);
        // 50 % off the cheapest: 7 units of 3.33 → two groups → 2 × 1.665 → 2 × 1.67.
        let ctx = cart(vec![line("a", 333, 7)]);
        let r = run(&ctx, vec![offer("half", bxgy(5000))], vec![]);
        assert_eq!(r.discount_total, eur(334));
        // Two units only: no full group.
        let ctx = cart(vec![line("a", 333, 2)]);
        let r = run(&ctx, vec![], vec![code("B2G1", &offer("3for2", bxgy(10_000)))]);
        assert_eq!(reasons(&r), [("b2g1".into(), CodeRejection::NotApplicable)]);
    }

    #[test]
    fn tiered_takes_the_highest_tier_reached() {
        let tiered = PromotionDiscount {
            tiers: Some(vec![
                DiscountTier { threshold: eur(10_000), percent_bp: 1000 },
                DiscountTier { threshold: eur(20_000), percent_bp: 1500 },
            ]),
            ..discount(DiscountKind::Tiered)
        };
        let o = offer("tiers", tiered);
        assert_eq!(run(&cart(vec![line("a", 15_000, 1)]), vec![o.clone()], vec![]).discount_total, eur(1500));
        assert_eq!(run(&cart(vec![line("a", 10_000, 2)]), vec![o.clone()], vec![]).discount_total, eur(3000));
        assert_eq!(run(&cart(vec![line("a", 25_999, 1)]), vec![o.clone()], vec![]).discount_total, eur(3900));
        let r = run(&cart(vec![line("a", 9_999, 1)]), vec![], vec![code("TIER", &o)]);
        assert_eq!(reasons(&r), [("tier".into(), CodeRejection::MinimumNotMet)]);
    }

    #[test]
    fn yen_has_no_minor_unit() {
        let mut ctx = cart(vec![]);
        ctx.currency = Currency::JPY;
        for (key, unit) in [("a", 1001), ("b", 999), ("c", 1)] {
            let mut l = line(key, unit, 1);
            l.unit_price.currency = Currency::JPY;
            l.line_total.currency = Currency::JPY;
            ctx.lines.push(l);
        }
        // 5 % of ¥2,001 = ¥100.05 → ¥100, spread 1001 : 999 : 1 → 50.02, 49.93, 0.05 → 50, 50, 0.
        let r = run(&ctx, vec![offer("five", percent(500))], vec![]);
        assert_eq!(r.discount_total, Money::new(100, Currency::JPY));
        assert_eq!(allocations(&r.applied[0]), [("a".into(), 50), ("b".into(), 50)]);
        // ¥500 off.
        let r = run(&ctx, vec![offer("500", fixed(vec![Money::new(500, Currency::JPY)]))], vec![]);
        assert_eq!(r.discount_total, Money::new(500, Currency::JPY));
        assert_eq!(allocations(&r.applied[0]), [("a".into(), 250), ("b".into(), 250)]);
    }

    #[test]
    fn stackable_promotions_apply_in_priority_order_on_what_is_left() {
        let mut ten = offer("ten", percent(1000));
        ten.priority = 1;
        let mut five_off = offer("five off", fixed(vec![eur(500)]));
        five_off.priority = 2;
        // 100.00 → 10 % = 10.00 → 90.00 → −5.00: 15.00 in all.
        let r = run(&cart(vec![line("a", 10_000, 1)]), vec![five_off.clone()], vec![code("TEN", &ten)]);
        assert_eq!(r.applied.iter().map(|a| a.amount.amount).collect::<Vec<_>>(), [1000, 500]);
        assert_eq!(r.discount_total, eur(1500));
        // The other order: 5.00 off 100.00, then 10 % of 95.00 = 9.50.
        ten.priority = 3;
        let r = run(&cart(vec![line("a", 10_000, 1)]), vec![five_off, ten.clone()], vec![]);
        assert_eq!(r.applied.iter().map(|a| a.amount.amount).collect::<Vec<_>>(), [500, 950]);
    }

    #[test]
    fn an_exclusive_promotion_applies_alone_only_when_it_is_the_best_deal() {
        let stack_a = offer("ten", percent(1000));
        let stack_b = offer("five off", fixed(vec![eur(500)]));
        let mut vip = offer("vip 20", percent(2000));
        vip.stacking = Stacking::Exclusive;
        let ctx = cart(vec![line("a", 10_000, 1)]);
        // Stack 10.00 + 4.50 = 14.50 < 20.00: the exclusive code wins alone, the other code is
        // not combinable.
        let r = run(&ctx, vec![stack_a.clone()], vec![code("VIP", &vip), code("FIVE", &stack_b)]);
        assert_eq!(r.applied.len(), 1);
        assert_eq!(r.applied[0].name, "vip 20");
        assert_eq!(r.discount_total, eur(2000));
        assert_eq!(reasons(&r), [("five".into(), CodeRejection::NotCombinable)]);
        // A 12 % exclusive loses to the 14.50 stack: it is the one not combinable.
        let mut twelve = offer("twelve", percent(1200));
        twelve.stacking = Stacking::Exclusive;
        let r = run(&ctx, vec![stack_a.clone()], vec![code("TWELVE", &twelve), code("FIVE", &stack_b)]);
        assert_eq!(r.applied.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["ten", "five off"]);
        assert_eq!(reasons(&r), [("twelve".into(), CodeRejection::NotCombinable)]);
        // Two exclusive codes: only the better one.
        let r = run(&ctx, vec![], vec![code("TWELVE", &twelve), code("VIP", &vip)]);
        assert_eq!(r.applied.len(), 1);
        assert_eq!(r.applied[0].name, "vip 20");
        assert_eq!(reasons(&r), [("twelve".into(), CodeRejection::NotCombinable)]);
        // A tie goes to the stack.
        let mut ten_excl = offer("ten exclusive", percent(1000));
        ten_excl.stacking = Stacking::Exclusive;
        let r = run(&ctx, vec![stack_a], vec![code("TENX", &ten_excl)]);
        assert_eq!(r.applied[0].name, "ten");
        assert_eq!(reasons(&r), [("tenx".into(), CodeRejection::NotCombinable)]);
        // Two codes of one promotion: it applies once.
        let r = run(&ctx, vec![], vec![code("FIVE", &stack_b), code("FIVE", &stack_b)]);
        assert_eq!(r.applied.len(), 1);
        assert_eq!(reasons(&r), [("five".into(), CodeRejection::NotCombinable)]);
    }

    #[test]
    fn conditions_products_categories_collections_groups_and_minimum_subtotal() {
        let shirts = CategoryId::new_v7();
        let summer = CollectionId::new_v7();
        let mut a = line("shirt", 4000, 1);
        a.category_ids = vec![shirts];
        let mut b = line("hat", 2000, 1);
        b.collection_ids = vec![summer];
        let c = line("mug", 1000, 1);
        let ctx = cart(vec![a, b, c.clone()]);
        // Only shirts: 10 % of 40.00.
        let mut o = offer("shirts", percent(1000));
        o.conditions.category_ids = vec![shirts];
        let r = run(&ctx, vec![o.clone()], vec![]);
        assert_eq!(allocations(&r.applied[0]), [("shirt".into(), 400)]);
        // Shirts or the summer collection or the mug by product.
        o.conditions.collection_ids = vec![summer];
        o.conditions.product_ids = vec![c.product_id];
        let r = run(&ctx, vec![o.clone()], vec![]);
        assert_eq!(r.discount_total, eur(700));
        // Minimum 80.00 over the qualifying lines (70.00): not met.
        o.conditions.minimum_subtotal = vec![eur(8000)];
        let r = run(&ctx, vec![], vec![code("MIN", &o)]);
        assert_eq!(reasons(&r), [("min".into(), CodeRejection::MinimumNotMet)]);
        o.conditions.minimum_subtotal = vec![eur(7000)];
        assert_eq!(run(&ctx, vec![], vec![code("MIN", &o)]).discount_total, eur(700));
        // A category nobody has: not applicable.
        let mut none = offer("none", percent(1000));
        none.conditions.category_ids = vec![CategoryId::new_v7()];
        let r = run(&ctx, vec![], vec![code("NONE", &none)]);
        assert_eq!(reasons(&r), [("none".into(), CodeRejection::NotApplicable)]);
        // Groups: only for wholesale.
        let wholesale = Uuid::now_v7();
        let mut w = offer("wholesale", percent(1000));
        w.conditions.customer_group_ids = vec![wholesale];
        let r = run(&ctx, vec![], vec![code("WHOLESALE", &w)]);
        assert_eq!(reasons(&r), [("wholesale".into(), CodeRejection::NotForYourGroup)]);
        let mut member = ctx.clone();
        member.customer_group_ids = vec![Uuid::now_v7(), wholesale];
        assert_eq!(run(&member, vec![], vec![code("WHOLESALE", &w)]).discount_total, eur(700));
    }

    #[test]
    fn dates_limits_and_unknown_codes() {
        let ctx = {
            let mut c = cart(vec![line("a", 1000, 1)]);
            c.customer_id = Some(Uuid::now_v7());
            c
        };
        let mut later = offer("later", percent(1000));
        later.starts_at = Some("2026-06-01T12:00:01Z".parse().unwrap());
        let mut over = offer("over", percent(1000));
        over.ends_at = Some(now());
        let mut just = offer("just", percent(1000));
        just.starts_at = Some(now());
        just.ends_at = Some("2026-06-01T12:00:01Z".parse().unwrap());
        let mut once = offer("once", percent(1000));
        once.usage_limit_per_customer = Some(1);
        once.customer_uses = 1;
        let mut exhausted = code("GONE", &offer("gone", percent(1000)));
        if let Some((c, _)) = exhausted.found.as_mut() {
            c.usage_limit = Some(100);
            c.used = 100;
        }
        let r = run(
            &ctx,
            vec![],
            vec![
                code("LATER", &later),
                code("OVER", &over),
                code("JUST", &just),
                code("ONCE", &once),
                exhausted,
                Submitted { typed: "nope".into(), found: None },
            ],
        );
        assert_eq!(r.applied.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), ["just"]);
        assert_eq!(
            reasons(&r),
            [
                ("later".into(), CodeRejection::NotStarted),
                ("over".into(), CodeRejection::Expired),
                ("once".into(), CodeRejection::CustomerLimitReached),
                ("gone".into(), CodeRejection::Exhausted),
                ("nope".into(), CodeRejection::Unknown),
            ]
        );
        // Automatic promotions outside their window simply do not apply.
        assert!(run(&ctx, vec![later, over], vec![]).applied.is_empty());
    }

    proptest! {
        #[test]
        fn allocation_sums_exactly_never_exceeds_a_line_and_skips_empty_lines(
            weights in prop::collection::vec(prop_oneof![Just(0i64), 0i64..1_000_000, 0i64..=i64::from(u32::MAX)], 1..40),
            share in 0u32..=10_000,
        ) {
            let total: i64 = weights.iter().sum();
            let discount = i64::try_from(i128::from(total) * i128::from(share) / 10_000).unwrap();
            prop_assume!(total > 0 || discount == 0);
            let parts = spread(discount, &weights, Currency::EUR).unwrap();
            prop_assert_eq!(parts.iter().sum::<i64>(), discount);
            for (part, weight) in parts.iter().zip(&weights) {
                prop_assert!(*part >= 0 && part <= weight, "{} of a {} line", part, weight);
                if *weight == 0 {
                    prop_assert_eq!(*part, 0);
                }
            }
        }

        #[test]
        fn every_applied_promotion_spreads_exactly_its_amount_within_each_line(
            units in prop::collection::vec((0i64..100_000, 1i32..5), 1..12),
            bp in 0u32..=10_000,
            off in 0i64..500_000,
        ) {
            let ctx = cart(units.iter().enumerate().map(|(i, (u, q))| line(&format!("l{i}"), *u, *q)).collect());
            let r = run(&ctx, vec![offer("p", percent(bp)), offer("f", fixed(vec![eur(off)]))], vec![]);
            let mut per_line = vec![0i64; ctx.lines.len()];
            for a in &r.applied {
                prop_assert_eq!(a.allocations.iter().map(|l| l.amount.amount).sum::<i64>(), a.amount.amount);
                for l in &a.allocations {
                    let i = ctx.lines.iter().position(|x| x.key == l.key).unwrap();
                    per_line[i] += l.amount.amount;
                }
            }
            for (line, off) in ctx.lines.iter().zip(&per_line) {
                prop_assert!(*off >= 0 && *off <= line.line_total.amount);
            }
            prop_assert_eq!(per_line.iter().sum::<i64>(), r.discount_total.amount);
        }
    }
}
