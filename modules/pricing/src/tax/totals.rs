//! The totals calculator: tax on lines whose discounts are already allocated, and on shipping.
//! Pure: no database, no clock; everything it needs is in its arguments, so the cart, checkout
//! and the admin preview get the same answer for the same basket. The rules it follows are
//! stated in the module docs (`tax/mod.rs`) and `docs/taxes.md`.

use super::{CrossBorderPrices, TaxClassId, TaxClassKind, TaxRounding, TaxSettings, TaxZoneId};
use crate::PricingError;
use agora_kernel::money::{Currency, Money, MoneyError, Rounding};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A million: rates are kept in millionths of the taxed amount (19 % = 190 000).
pub(crate) const PPM: i128 = 1_000_000;

/// Tax is rounded half away from zero (0.5 cent up), as shoppers and tax offices expect.
const ROUNDING: Rounding = Rounding::HalfUp;

/// One rate a class carries in a zone: "VAT 19 %" (190 000), "NY State sales tax" (40 000).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateComponent {
    pub name: String,
    /// Millionths of the taxed amount.
    pub rate_ppm: u32,
}

/// What a class is taxed at in the zone a destination resolved to: its rates add up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClassRates {
    pub kind: TaxClassKind,
    /// Empty: not taxed there (a zone without a rate for the class, a zero or exempt class).
    pub rates: Vec<RateComponent>,
}

impl ClassRates {
    fn taxed(&self) -> &[RateComponent] {
        match self.kind {
            TaxClassKind::Zero | TaxClassKind::Exempt => &[],
            _ => &self.rates,
        }
    }
}

/// The rates that apply to one basket, resolved from the shop's zones for its destination and
/// buyer (the facade's loader builds it; tests build it by hand).
#[derive(Debug, Clone, Default)]
pub struct ResolvedRates {
    /// The zone the destination resolved to (none: nothing is taxed).
    pub zone: Option<(TaxZoneId, String)>,
    /// Every class of the shop, with its rates in that zone.
    pub classes: BTreeMap<TaxClassId, ClassRates>,
    /// The rates of the shop's origin country, per class: set only when tax-inclusive prices
    /// keep their net across a border and the destination is in another country.
    pub origin: Option<BTreeMap<TaxClassId, ClassRates>>,
    /// Whether the zone taxes shipping (New York does, California does not).
    pub shipping_taxable: bool,
    /// The buyer accounts for the VAT (EU reverse charge): nothing is charged.
    pub reverse_charge: bool,
}

/// A line to tax: its price after its discounts, as entered (gross when the shop's prices
/// include tax), and its class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxableLine {
    /// The caller's name for the line (a cart line id, a product id).
    pub key: String,
    pub amount: Money,
    pub tax_class: TaxClassId,
}

/// Net, tax and gross of one amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
pub struct TaxedAmount {
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
}

/// One line of the basket, taxed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
pub struct TaxedLine {
    pub key: String,
    pub tax_class_id: TaxClassId,
    pub net: Money,
    pub tax: Money,
    pub gross: Money,
}

/// The tax collected at one rate, as a receipt lists it ("VAT 19 %: 3.19").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
pub struct TaxByRate {
    pub name: String,
    /// The rate as a percentage, exactly (`"8.875"`).
    pub percent: String,
    /// The rate in millionths (88 750 for 8.875 %).
    pub rate_ppm: u32,
    pub amount: Money,
}

/// The zone a destination resolved to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
pub struct ZoneRef {
    pub id: TaxZoneId,
    pub name: String,
}

/// Every amount of a basket's tax, line by line: `lines` and `shipping` sum to `subtotal`,
/// `tax_total` and `total`; `taxes` (by rate) sum to `tax_total`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Apiv2Schema)]
pub struct TaxBreakdown {
    pub currency: Currency,
    /// Whether the amounts were entered with tax (as the shop's settings say).
    pub prices_include_tax: bool,
    /// The zone whose rates applied; none when no zone matched (nothing is taxed).
    pub zone: Option<ZoneRef>,
    /// The buyer accounts for the VAT (EU reverse charge): no tax charged.
    pub reverse_charge: bool,
    pub lines: Vec<TaxedLine>,
    pub shipping: Option<TaxedAmount>,
    /// The lines summed (shipping not included).
    pub subtotal: TaxedAmount,
    pub taxes: Vec<TaxByRate>,
    pub tax_total: Money,
    pub net_total: Money,
    /// What the buyer pays: every line and shipping, gross.
    pub total: Money,
}

/// The rate in millionths as an exact percentage: 190 000 → "19", 88 750 → "8.875".
pub(crate) fn percent_text(rate_ppm: u32) -> String {
    let whole = rate_ppm / 10_000;
    let fraction = rate_ppm % 10_000;
    if fraction == 0 {
        whole.to_string()
    } else {
        let digits = format!("{fraction:04}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }
}

/// How an amount enters the calculation.
#[derive(Debug, Clone, Copy)]
enum Basis {
    /// The net: tax is added on top.
    Net(i64),
    /// The gross: tax is taken out of it.
    Gross(i64),
}

struct Item<'a> {
    basis: Basis,
    components: &'a [RateComponent],
}

struct Taxed {
    net: i64,
    /// One share per component of the item, in the components' order.
    shares: Vec<i64>,
}

fn money_error(field: &str) -> impl Fn(MoneyError) -> PricingError + '_ {
    move |e| PricingError::field(field, e.to_string())
}

fn round(numerator: i128, denominator: i128, field: &str) -> Result<i64, PricingError> {
    ROUNDING.divide(numerator, denominator).ok_or_else(|| PricingError::field(field, "the amount is too large"))
}

fn total_ppm(components: &[RateComponent]) -> i128 {
    components.iter().map(|c| i128::from(c.rate_ppm)).sum()
}

/// The tax inside a gross amount at `rate_ppm` in total: gross × r / (1 + r), rounded.
fn tax_in_gross(gross: i64, rate_ppm: i128, field: &str) -> Result<i64, PricingError> {
    round(i128::from(gross) * rate_ppm, PPM + rate_ppm, field)
}

/// Splits `amount` over `weights` exactly (`Money::allocate`); all zeros when there is no weight.
fn spread(amount: i64, weights: &[u64], currency: Currency, field: &str) -> Result<Vec<i64>, PricingError> {
    if amount == 0 || weights.iter().all(|w| *w == 0) {
        return Ok(vec![0; weights.len()]);
    }
    Ok(Money::new(amount, currency)
        .allocate(weights)
        .map_err(money_error(field))?
        .into_iter()
        .map(|m| m.amount)
        .collect())
}

fn weight(amount: i64) -> u64 {
    amount.unsigned_abs()
}

/// Per line: every line's tax rounded on its own.
fn per_line(item: &Item<'_>, currency: Currency, field: &str) -> Result<Taxed, PricingError> {
    match item.basis {
        Basis::Net(net) => {
            let shares = item
                .components
                .iter()
                .map(|c| round(i128::from(net) * i128::from(c.rate_ppm), PPM, field))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Taxed { net, shares })
        }
        Basis::Gross(gross) => {
            let tax = tax_in_gross(gross, total_ppm(item.components), field)?;
            let weights: Vec<u64> = item.components.iter().map(|c| u64::from(c.rate_ppm)).collect();
            let shares = spread(tax, &weights, currency, field)?;
            Ok(Taxed { net: gross - tax, shares })
        }
    }
}

/// Per total: the lines taxed alike (the same rates) are summed, the sum's tax rounded once,
/// and handed back to the lines in proportion to their amounts (so they still add up).
fn per_total(items: &[Item<'_>], currency: Currency) -> Result<Vec<Taxed>, PricingError> {
    let mut out: Vec<Option<Taxed>> = (0..items.len()).map(|_| None).collect();
    let mut groups: Vec<(&[RateComponent], Vec<usize>)> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        match groups.iter_mut().find(|(components, _)| *components == item.components) {
            Some((_, members)) => members.push(index),
            None => groups.push((item.components, vec![index])),
        }
    }
    for (components, members) in groups {
        let field = "lines";
        let amounts: Vec<(i64, bool)> = members
            .iter()
            .filter_map(|i| items.get(*i))
            .map(|item| match item.basis {
                Basis::Net(n) => (n, false),
                Basis::Gross(g) => (g, true),
            })
            .collect();
        let weights: Vec<u64> = amounts.iter().map(|(a, _)| weight(*a)).collect();
        let sum: i64 = amounts.iter().map(|(a, _)| *a).sum();
        let gross_basis = amounts.first().is_some_and(|(_, gross)| *gross);
        // Each component's tax on the group's sum, rounded once.
        let component_totals: Vec<i64> = if gross_basis {
            let tax = tax_in_gross(sum, total_ppm(components), field)?;
            spread(tax, &components.iter().map(|c| u64::from(c.rate_ppm)).collect::<Vec<_>>(), currency, field)?
        } else {
            components
                .iter()
                .map(|c| round(i128::from(sum) * i128::from(c.rate_ppm), PPM, field))
                .collect::<Result<Vec<_>, _>>()?
        };
        // Handed to the lines, component by component.
        let mut shares: Vec<Vec<i64>> = vec![Vec::with_capacity(components.len()); members.len()];
        for component_total in component_totals {
            for (member, part) in spread(component_total, &weights, currency, field)?.into_iter().enumerate() {
                if let Some(s) = shares.get_mut(member) {
                    s.push(part);
                }
            }
        }
        for ((index, (amount, gross)), shares) in members.iter().zip(amounts).zip(shares) {
            let tax: i64 = shares.iter().sum();
            let net = if gross { amount - tax } else { amount };
            if let Some(slot) = out.get_mut(*index) {
                *slot = Some(Taxed { net, shares });
            }
        }
    }
    out.into_iter()
        .map(|t| t.ok_or_else(|| PricingError::field("lines", "a line was left out of the calculation")))
        .collect()
}

/// Taxes a basket: `lines` (after their discounts, as entered) and `shipping` (as entered),
/// with `rates` resolved for its destination and buyer. The rules are the module's (see
/// `tax/mod.rs`): the shop's inclusive or exclusive prices, gross or net kept across borders,
/// rounding per line or per total (half up), shipping taxed as configured, reverse charge.
pub fn compute(
    settings: &TaxSettings,
    rates: &ResolvedRates,
    lines: &[TaxableLine],
    shipping: Option<Money>,
) -> Result<TaxBreakdown, PricingError> {
    let currency = match (lines.first(), shipping) {
        (Some(line), _) => line.amount.currency,
        (None, Some(s)) => s.currency,
        (None, None) => return Err(PricingError::field("lines", "nothing to tax: no lines and no shipping")),
    };
    let mut classes: Vec<&ClassRates> = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.amount.currency != currency {
            return Err(PricingError::field(
                &format!("lines[{i}].amount.currency"),
                format!("every amount must be in {currency}"),
            ));
        }
        if line.amount.is_negative() {
            return Err(PricingError::field(&format!("lines[{i}].amount.amount"), "must not be negative"));
        }
        let class = rates.classes.get(&line.tax_class).ok_or_else(|| {
            PricingError::field(&format!("lines[{i}].tax_class_id"), "not one of the shop's tax classes")
        })?;
        classes.push(class);
    }
    if let Some(s) = shipping {
        if s.currency != currency {
            return Err(PricingError::field("shipping.currency", format!("every amount must be in {currency}")));
        }
        if s.is_negative() {
            return Err(PricingError::field("shipping.amount", "must not be negative"));
        }
    }

    // Which class shipping is taxed as, if at all.
    let shipping_class: Option<TaxClassId> = match (shipping, rates.shipping_taxable, settings.shipping_tax) {
        (None, _, _) | (_, false, _) | (_, _, super::ShippingTax::NotTaxed) => None,
        (Some(_), true, super::ShippingTax::TaxClass) => settings.shipping_tax_class_id,
        (Some(_), true, super::ShippingTax::HighestRate) => {
            // The highest total rate among the basket's lines; the first line wins a tie.
            let mut best: Option<(i128, TaxClassId)> = None;
            for (line, class) in lines.iter().zip(&classes) {
                let rate = total_ppm(class.taxed());
                if rate > 0 && best.is_none_or(|(b, _)| rate > b) {
                    best = Some((rate, line.tax_class));
                }
            }
            best.map(|(_, class)| class)
        }
    };
    let no_rates = ClassRates { kind: TaxClassKind::Zero, rates: Vec::new() };
    let shipping_rates: &ClassRates = match shipping_class {
        Some(id) => rates
            .classes
            .get(&id)
            .ok_or_else(|| PricingError::field("shipping_tax_class_id", "not one of the shop's tax classes"))?,
        None => &no_rates,
    };

    // How each amount enters: net (exclusive prices, or inclusive ones whose net is kept across
    // a border) or gross.
    let keep_net = match (&rates.origin, settings.prices_include_tax, settings.cross_border) {
        (Some(origin), true, CrossBorderPrices::KeepNet) => Some(origin),
        _ => None,
    };
    let basis = |amount: i64, class: Option<TaxClassId>, field: &str| -> Result<Basis, PricingError> {
        if !settings.prices_include_tax {
            return Ok(Basis::Net(amount));
        }
        match keep_net {
            None => Ok(Basis::Gross(amount)),
            Some(origin) => {
                let origin_rate = class.and_then(|c| origin.get(&c)).map_or(0, |r| total_ppm(r.taxed()));
                Ok(Basis::Net(amount - tax_in_gross(amount, origin_rate, field)?))
            }
        }
    };
    let mut items: Vec<Item<'_>> = Vec::with_capacity(lines.len() + 1);
    for (i, (line, class)) in lines.iter().zip(&classes).enumerate() {
        let field = format!("lines[{i}].amount");
        items.push(Item { basis: basis(line.amount.amount, Some(line.tax_class), &field)?, components: class.taxed() });
    }
    if let Some(s) = shipping {
        // Untaxed shipping is passed on as entered; taxed, it is treated like a line of its class.
        let b = match shipping_class {
            Some(class) => basis(s.amount, Some(class), "shipping.amount")?,
            None => Basis::Net(s.amount),
        };
        items.push(Item { basis: b, components: shipping_rates.taxed() });
    }

    let taxed: Vec<Taxed> = match settings.rounding {
        TaxRounding::PerLine => items
            .iter()
            .enumerate()
            .map(|(i, item)| per_line(item, currency, &format!("lines[{i}].amount")))
            .collect::<Result<_, _>>()?,
        TaxRounding::PerTotal => per_total(&items, currency)?,
    };

    // Taxes by rate, in the order the rates first appear; nothing when the buyer reverse-charges.
    let mut taxes: Vec<TaxByRate> = Vec::new();
    let mut results: Vec<TaxedAmount> = Vec::with_capacity(items.len());
    for (item, t) in items.iter().zip(&taxed) {
        let tax = if rates.reverse_charge { 0 } else { t.shares.iter().sum() };
        if !rates.reverse_charge {
            for (component, share) in item.components.iter().zip(&t.shares) {
                match taxes.iter_mut().find(|x| x.name == component.name && x.rate_ppm == component.rate_ppm) {
                    Some(x) => x.amount.amount += share,
                    None => taxes.push(TaxByRate {
                        name: component.name.clone(),
                        percent: percent_text(component.rate_ppm),
                        rate_ppm: component.rate_ppm,
                        amount: Money::new(*share, currency),
                    }),
                }
            }
        }
        results.push(TaxedAmount {
            net: Money::new(t.net, currency),
            tax: Money::new(tax, currency),
            gross: Money::new(
                t.net.checked_add(tax).ok_or_else(|| PricingError::field("lines", "the amount is too large"))?,
                currency,
            ),
        });
    }

    let mut taxed_lines = Vec::with_capacity(lines.len());
    for (line, r) in lines.iter().zip(&results) {
        taxed_lines.push(TaxedLine {
            key: line.key.clone(),
            tax_class_id: line.tax_class,
            net: r.net,
            tax: r.tax,
            gross: r.gross,
        });
    }
    let shipping_taxed = shipping.and_then(|_| results.get(lines.len()).copied());
    let sum = |f: fn(&TaxedAmount) -> Money, rows: &[TaxedAmount]| -> Result<Money, PricingError> {
        Money::sum(currency, rows.iter().map(f)).map_err(money_error("lines"))
    };
    let line_results = results.get(..lines.len()).unwrap_or_default();
    let subtotal = TaxedAmount {
        net: sum(|r| r.net, line_results)?,
        tax: sum(|r| r.tax, line_results)?,
        gross: sum(|r| r.gross, line_results)?,
    };
    Ok(TaxBreakdown {
        currency,
        prices_include_tax: settings.prices_include_tax,
        zone: rates.zone.clone().map(|(id, name)| ZoneRef { id, name }),
        reverse_charge: rates.reverse_charge,
        lines: taxed_lines,
        shipping: shipping_taxed,
        subtotal,
        taxes,
        tax_total: sum(|r| r.tax, &results)?,
        net_total: sum(|r| r.net, &results)?,
        total: sum(|r| r.gross, &results)?,
    })
}
