//! The merchant's conversion rates: a variant without a price in a sold currency gets one from
//! its price in another, times the rate, finished by the rate's rounding rule.
//!
//! Rates are kept as integer millionths (`rate_micros`: 1.085 → 1,085,000) and sent as decimal
//! text (`"1.085"`), so no float ever touches a price. The conversion rounds half up to the
//! target's minor unit, then finishes upwards (never below the converted amount) as the rule says:
//! `whole` to a whole unit, `ending_99` / `ending_95` to the next amount ending in .99 / .95
//! (in a currency without minor units, such as JPY, the next ending in 99 / 95: ¥1,938 → ¥1,999).

use super::store::{self, RateRow};
use super::{sold, sold_currency, CurrencyRateId, PriceRounding};
use crate::PricingError;
use agora_kernel::lists::{Keyset, Page};
use agora_kernel::money::{Currency, Money, Rounding};
use agora_kernel::{TenantTx, Version};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};

const MICROS: i64 = 1_000_000;
/// Largest rate accepted (IDR per KWD is about 50,000).
const MAX_RATE_MICROS: i64 = 10_000_000 * MICROS;

/// A conversion rate as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct CurrencyRate {
    pub id: CurrencyRateId,
    pub from_currency: Currency,
    pub to_currency: Currency,
    /// Units of `to_currency` per unit of `from_currency`, as a decimal (`"1.085"`), up to six
    /// decimal places.
    pub rate: String,
    pub rounding: PriceRounding,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// A new rate between two of the shop's currencies (one per pair and direction).
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewCurrencyRate {
    pub from_currency: String,
    pub to_currency: String,
    /// A positive decimal with up to six decimal places (`"1.085"`).
    pub rate: String,
    /// Default `none`.
    pub rounding: Option<PriceRounding>,
}

/// Changes to a rate; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct CurrencyRatePatch {
    pub rate: Option<String>,
    pub rounding: Option<PriceRounding>,
}

/// `"1.085"` → 1,085,000; refuses signs, exponents, more than six decimals, zero.
pub(crate) fn parse_rate(raw: &str) -> Result<i64, PricingError> {
    let bad = || PricingError::field("rate", "a positive decimal with at most six decimal places, such as 1.085");
    let text = raw.trim();
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    if whole.is_empty() || whole.len() > 8 || fraction.len() > 6 {
        return Err(bad());
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !fraction.chars().all(|c| c.is_ascii_digit()) {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let fraction: i64 = if fraction.is_empty() { 0 } else { format!("{fraction:0<6}").parse().map_err(|_| bad())? };
    let micros = whole.checked_mul(MICROS).and_then(|w| w.checked_add(fraction)).ok_or_else(bad)?;
    if micros <= 0 || micros > MAX_RATE_MICROS {
        return Err(bad());
    }
    Ok(micros)
}

/// 1,085,000 → `"1.085"`.
pub(crate) fn rate_text(micros: i64) -> String {
    let whole = micros / MICROS;
    let fraction = format!("{:06}", micros % MICROS);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{fraction}")
    }
}

/// `price` in `to`, at `rate`, finished by the rate's rounding; `None` on overflow.
pub(crate) fn convert(price: Money, rate: &RateRow, to: Currency) -> Option<Money> {
    let exact = i128::from(price.amount)
        .checked_mul(i128::from(rate.rate_micros))?
        .checked_mul(i128::from(to.minor_per_major()))?;
    let denominator = i128::from(MICROS) * i128::from(price.currency.minor_per_major());
    let converted = Rounding::HalfUp.divide(exact, denominator)?;
    Some(Money::new(finish(converted, to, rate.rounding)?, to))
}

/// Raises `amount` (minor units of `currency`) to the next one the rule allows.
pub(crate) fn finish(amount: i64, currency: Currency, rounding: PriceRounding) -> Option<i64> {
    let exponent = currency.exponent();
    // (step, ending): the result is `ending + k * step` for the smallest k that is not below
    // `amount`.
    let (step, ending) = match rounding {
        PriceRounding::None => return Some(amount),
        PriceRounding::Whole => (currency.minor_per_major(), 0),
        PriceRounding::Ending99 | PriceRounding::Ending95 => {
            let cents = if rounding == PriceRounding::Ending99 { 99 } else { 95 };
            match exponent {
                0 => (100, cents),
                1 => (10, 9),
                e => (currency.minor_per_major(), cents * 10_i64.pow(e - 2)),
            }
        }
    };
    if amount <= ending {
        return Some(ending);
    }
    let k = (amount - ending + step - 1) / step;
    k.checked_mul(step)?.checked_add(ending)
}

fn to_rate(r: RateRow) -> CurrencyRate {
    CurrencyRate {
        id: r.id,
        from_currency: r.from_currency,
        to_currency: r.to_currency,
        rate: rate_text(r.rate_micros),
        rounding: r.rounding,
        created_at: r.created_at,
        modified_at: r.modified_at,
        version: r.version,
    }
}

pub(crate) async fn create(tx: &mut TenantTx<'_>, new: NewCurrencyRate) -> Result<CurrencyRate, PricingError> {
    let (_, sold) = sold(tx).await?;
    let from = sold_currency(&new.from_currency, "from_currency", &sold)?;
    let to = sold_currency(&new.to_currency, "to_currency", &sold)?;
    if from == to {
        return Err(PricingError::field("to_currency", "another currency than from_currency"));
    }
    let micros = parse_rate(&new.rate)?;
    let rounding = new.rounding.unwrap_or(PriceRounding::None);
    let stamp = tx.stamp();
    let row = store::insert_rate(tx.conn(), CurrencyRateId::new_v7(), from, to, micros, rounding, &stamp)
        .await
        .map_err(|e| match e {
            diesel::result::Error::DatabaseError(diesel::result::DatabaseErrorKind::UniqueViolation, _) => {
                PricingError::field("to_currency", format!("a rate from {from} to {to} exists: change it"))
            }
            other => other.into(),
        })?;
    tx.audit(
        "pricing.currency_rate.created",
        Some(row.id.to_string()),
        serde_json::json!({"from": from, "to": to, "rate": rate_text(micros)}),
    )
    .await?;
    Ok(to_rate(row))
}

pub(crate) async fn list(
    tx: &mut TenantTx<'_>,
    page: &Keyset<DateTime<Utc>>,
) -> Result<Page<CurrencyRate>, PricingError> {
    let rows = store::list_rates(tx.conn(), page).await?;
    Ok(page.page(rows.into_iter().map(to_rate).collect(), |r: &CurrencyRate| (r.created_at, r.id.into())))
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: CurrencyRateId) -> Result<CurrencyRate, PricingError> {
    store::find_rate(tx.conn(), id, false).await?.map(to_rate).ok_or(PricingError::NotFound("currency rate"))
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    id: CurrencyRateId,
    patch: CurrencyRatePatch,
    expected: Option<i64>,
) -> Result<CurrencyRate, PricingError> {
    let current = store::find_rate(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("currency rate"))?;
    Version::check(expected, current.version)?;
    let micros = match &patch.rate {
        Some(r) => parse_rate(r)?,
        None => current.rate_micros,
    };
    let rounding = patch.rounding.unwrap_or(current.rounding);
    let stamp = tx.stamp();
    let row = store::update_rate(tx.conn(), id, micros, rounding, &stamp).await?;
    tx.audit("pricing.currency_rate.updated", Some(id.to_string()), serde_json::json!({"rate": rate_text(micros)}))
        .await?;
    Ok(to_rate(row))
}

pub(crate) async fn delete(
    tx: &mut TenantTx<'_>,
    id: CurrencyRateId,
    expected: Option<i64>,
) -> Result<(), PricingError> {
    let current = store::find_rate(tx.conn(), id, true).await?.ok_or(PricingError::NotFound("currency rate"))?;
    Version::check(expected, current.version)?;
    store::delete_rate(tx.conn(), id).await?;
    tx.audit("pricing.currency_rate.deleted", Some(id.to_string()), serde_json::json!({})).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn currency(code: &str) -> Currency {
        Currency::parse(code).unwrap_or_else(|| panic!("{code}"))
    }

    fn rate(from: &str, micros: i64, rounding: PriceRounding) -> RateRow {
        RateRow {
            id: CurrencyRateId::new_v7(),
            from_currency: currency(from),
            to_currency: currency("USD"),
            rate_micros: micros,
            rounding,
            created_at: Utc::now(),
            modified_at: Utc::now(),
            version: 1,
        }
    }

    #[test]
    fn rates_are_decimal_text_without_floats() {
        assert_eq!(parse_rate("1.085").ok(), Some(1_085_000));
        assert_eq!(parse_rate("161.5").ok(), Some(161_500_000));
        assert_eq!(parse_rate("0.000001").ok(), Some(1));
        for bad in ["0", "-1", "1e3", "1.0000001", "", ".5", "abc", "1,5"] {
            assert!(parse_rate(bad).is_err(), "{bad}");
        }
        assert_eq!(rate_text(1_085_000), "1.085");
        assert_eq!(rate_text(161_000_000), "161");
    }

    #[test]
    fn conversion_rounds_half_up_then_finishes_upwards() {
        let eur = |a| Money::new(a, currency("EUR"));
        // 12.00 EUR × 1.085 = 13.02 USD
        let r = rate("EUR", 1_085_000, PriceRounding::None);
        assert_eq!(convert(eur(1200), &r, currency("USD")), Some(Money::new(1302, currency("USD"))));
        let r = rate("EUR", 1_085_000, PriceRounding::Ending99);
        assert_eq!(convert(eur(1200), &r, currency("USD")), Some(Money::new(1399, currency("USD"))));
        let r = rate("EUR", 1_085_000, PriceRounding::Ending95);
        assert_eq!(convert(eur(1200), &r, currency("USD")), Some(Money::new(1395, currency("USD"))));
        let r = rate("EUR", 1_085_000, PriceRounding::Whole);
        assert_eq!(convert(eur(1200), &r, currency("USD")), Some(Money::new(1400, currency("USD"))));
        // 12.00 EUR × 161.5 = ¥1,938 → ¥1,999; ¥1,999 stays.
        let r = rate("EUR", 161_500_000, PriceRounding::Ending99);
        assert_eq!(convert(eur(1200), &r, currency("JPY")), Some(Money::new(1999, currency("JPY"))));
        assert_eq!(finish(1999, currency("JPY"), PriceRounding::Ending99), Some(1999));
        assert_eq!(finish(2000, currency("JPY"), PriceRounding::Ending99), Some(2099));
        assert_eq!(finish(1399, currency("USD"), PriceRounding::Ending99), Some(1399));
        assert_eq!(finish(1400, currency("USD"), PriceRounding::Ending99), Some(1499));
        // KWD has three decimals: .99 is 990 fils.
        assert_eq!(finish(12_345, currency("KWD"), PriceRounding::Ending99), Some(12_990));
        assert_eq!(finish(1938, currency("JPY"), PriceRounding::Whole), Some(1938));
    }
}
