//! Money: integer minor units with the ISO 4217 currency that says how many of them make a major
//! unit (JPY 0, USD 2, KWD 3). Never a float.
//!
//! Every operation that can fail says so in its type: adding two currencies, overflowing `i64`,
//! allocating over no lines. Operations whose exact result has a fraction of a minor unit
//! (percentages, ratios) take a named [`Rounding`]; [`Money::allocate`] instead hands out the
//! remainder so the parts always sum to the whole (discounts and taxes spread over order lines).
//!
//! In the database an amount is two columns, `<name>_amount bigint` and `<name>_currency text`
//! (with `CHECK (<name>_currency ~ '^[A-Z]{3}$')`): no composite type, because a Postgres type inside
//! a tenant schema has a per-schema OID that diesel would cache across tenants (see the
//! conventions), and two plain columns index and sum without casts. [`Money`] loads from the pair
//! selected together, `(t::price_amount, t::price_currency)`, and writes as
//! `(t::price_amount.eq(m.amount), t::price_currency.eq(m.currency))`.

use crate::error::ApiError;
use diesel::deserialize::{self, FromSql, FromSqlRow, Queryable};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::{BigInt, Text};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// An ISO 4217 currency a shop may sell in, with its minor-unit exponent. Only codes in
/// [`Currency::ALL`] exist, so every `Currency` knows how to read and write its amounts.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

const fn c(code: &[u8; 3], exponent: u8) -> Currency {
    Currency { code: *code, exponent }
}

impl Currency {
    pub const EUR: Currency = c(b"EUR", 2);
    pub const USD: Currency = c(b"USD", 2);
    pub const GBP: Currency = c(b"GBP", 2);
    pub const CHF: Currency = c(b"CHF", 2);
    pub const JPY: Currency = c(b"JPY", 0);
    pub const KWD: Currency = c(b"KWD", 3);

    /// Circulating ISO 4217 currencies (not funds, metals or test codes), sorted by code so a
    /// lookup is a binary search. Exponents per the ISO 4217 list (amendment 179).
    #[rustfmt::skip]
    pub const ALL: &'static [Currency] = &[
        c(b"AED", 2), c(b"AFN", 2), c(b"ALL", 2), c(b"AMD", 2), c(b"ANG", 2), c(b"AOA", 2),
        c(b"ARS", 2), c(b"AUD", 2), c(b"AWG", 2), c(b"AZN", 2), c(b"BAM", 2), c(b"BBD", 2),
        c(b"BDT", 2), c(b"BGN", 2), c(b"BHD", 3), c(b"BIF", 0), c(b"BMD", 2), c(b"BND", 2),
        c(b"BOB", 2), c(b"BRL", 2), c(b"BSD", 2), c(b"BTN", 2), c(b"BWP", 2), c(b"BYN", 2),
        c(b"BZD", 2), c(b"CAD", 2), c(b"CDF", 2), c(b"CHF", 2), c(b"CLP", 0), c(b"CNY", 2),
        c(b"COP", 2), c(b"CRC", 2), c(b"CUP", 2), c(b"CVE", 2), c(b"CZK", 2), c(b"DJF", 0),
        c(b"DKK", 2), c(b"DOP", 2), c(b"DZD", 2), c(b"EGP", 2), c(b"ERN", 2), c(b"ETB", 2),
        c(b"EUR", 2), c(b"FJD", 2), c(b"FKP", 2), c(b"GBP", 2), c(b"GEL", 2), c(b"GHS", 2),
        c(b"GIP", 2), c(b"GMD", 2), c(b"GNF", 0), c(b"GTQ", 2), c(b"GYD", 2), c(b"HKD", 2),
        c(b"HNL", 2), c(b"HTG", 2), c(b"HUF", 2), c(b"IDR", 2), c(b"ILS", 2), c(b"INR", 2),
        c(b"IQD", 3), c(b"IRR", 2), c(b"ISK", 0), c(b"JMD", 2), c(b"JOD", 3), c(b"JPY", 0),
        c(b"KES", 2), c(b"KGS", 2), c(b"KHR", 2), c(b"KMF", 0), c(b"KPW", 2), c(b"KRW", 0),
        c(b"KWD", 3), c(b"KYD", 2), c(b"KZT", 2), c(b"LAK", 2), c(b"LBP", 2), c(b"LKR", 2),
        c(b"LRD", 2), c(b"LSL", 2), c(b"LYD", 3), c(b"MAD", 2), c(b"MDL", 2), c(b"MGA", 2),
        c(b"MKD", 2), c(b"MMK", 2), c(b"MNT", 2), c(b"MOP", 2), c(b"MRU", 2), c(b"MUR", 2),
        c(b"MVR", 2), c(b"MWK", 2), c(b"MXN", 2), c(b"MYR", 2), c(b"MZN", 2), c(b"NAD", 2),
        c(b"NGN", 2), c(b"NIO", 2), c(b"NOK", 2), c(b"NPR", 2), c(b"NZD", 2), c(b"OMR", 3),
        c(b"PAB", 2), c(b"PEN", 2), c(b"PGK", 2), c(b"PHP", 2), c(b"PKR", 2), c(b"PLN", 2),
        c(b"PYG", 0), c(b"QAR", 2), c(b"RON", 2), c(b"RSD", 2), c(b"RUB", 2), c(b"RWF", 0),
        c(b"SAR", 2), c(b"SBD", 2), c(b"SCR", 2), c(b"SDG", 2), c(b"SEK", 2), c(b"SGD", 2),
        c(b"SHP", 2), c(b"SLE", 2), c(b"SOS", 2), c(b"SRD", 2), c(b"SSP", 2), c(b"STN", 2),
        c(b"SVC", 2), c(b"SYP", 2), c(b"SZL", 2), c(b"THB", 2), c(b"TJS", 2), c(b"TMT", 2),
        c(b"TND", 3), c(b"TOP", 2), c(b"TRY", 2), c(b"TTD", 2), c(b"TWD", 2), c(b"TZS", 2),
        c(b"UAH", 2), c(b"UGX", 0), c(b"USD", 2), c(b"UYU", 2), c(b"UZS", 2), c(b"VES", 2),
        c(b"VND", 0), c(b"VUV", 0), c(b"WST", 2), c(b"XAF", 0), c(b"XCD", 2), c(b"XCG", 2),
        c(b"XOF", 0), c(b"XPF", 0), c(b"YER", 2), c(b"ZAR", 2), c(b"ZMW", 2), c(b"ZWG", 2),
    ];

    /// The currency with this upper-case ISO 4217 code; `None` for anything else (`eur`, `EURO`,
    /// a code no shop can sell in such as `XAU`).
    pub fn parse(code: &str) -> Option<Self> {
        let bytes: [u8; 3] = code.as_bytes().try_into().ok()?;
        Self::ALL.binary_search_by(|known| known.code.cmp(&bytes)).ok().and_then(|i| Self::ALL.get(i)).copied()
    }

    pub fn as_str(&self) -> &str {
        // Only codes from `ALL`, which are ASCII, are ever stored.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// How many decimal places its major unit has: 2 for USD (cents), 0 for JPY, 3 for KWD (fils).
    pub fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }

    /// Minor units per major unit: 10^exponent.
    pub fn minor_per_major(&self) -> i64 {
        10_i64.pow(self.exponent())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Currency {
    type Err = MoneyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s).ok_or_else(|| MoneyError::UnknownCurrency(s.chars().take(16).collect()))
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Cow::<'de, str>::deserialize(d)?;
        Currency::parse(&raw).ok_or_else(|| serde::de::Error::custom("expected an ISO 4217 currency code such as EUR"))
    }
}

impl paperclip::v2::schema::TypedData for Currency {
    fn data_type() -> paperclip::v2::models::DataType {
        paperclip::v2::models::DataType::String
    }
}

impl schemars::JsonSchema for Currency {
    fn schema_name() -> Cow<'static, str> {
        "Currency".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let codes: Vec<&str> = Currency::ALL.iter().map(|c| c.as_str()).collect();
        schemars::json_schema!({
            "type": "string",
            "description": "ISO 4217 currency code",
            "enum": codes,
        })
    }
}

impl ToSql<Text, Pg> for Currency {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), out)
    }
}

impl FromSql<Text, Pg> for Currency {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let raw = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        Currency::parse(&raw).ok_or_else(|| format!("{raw:?} is not a currency Agora knows").into())
    }
}

/// What went wrong with an amount. Turn it into a response with [`MoneyError::at`], which names
/// the field the amount came from.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("cannot combine {left} with {right}")]
    CurrencyMismatch { left: Currency, right: Currency },
    #[error("the amount is too large")]
    Overflow,
    #[error("{0:?} is not an ISO 4217 currency code Agora accepts")]
    UnknownCurrency(String),
    #[error("{reason}")]
    NotAnAmount { reason: String },
    #[error("a ratio needs a denominator other than zero")]
    ZeroDenominator,
    #[error("there is nothing to spread the amount over (no lines, or every weight is zero)")]
    NothingToAllocate,
}

impl MoneyError {
    /// A 422 naming `field` (`price`, `lines[2].discount`).
    pub fn at(&self, field: impl Into<String>) -> ApiError {
        ApiError::field(field, self.to_string())
    }
}

/// How a result with a fraction of a minor unit becomes whole. "Up" and "down" are about the
/// magnitude (away from / toward zero), so a refund rounds like the charge it reverses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rounding {
    /// Nearest; a half goes away from zero (2.5 → 3, -2.5 → -3). What shoppers expect of tax.
    HalfUp,
    /// Nearest; a half goes to the even neighbour (2.5 → 2, 3.5 → 4): banker's rounding, which
    /// does not drift upward over many lines.
    HalfEven,
    /// Toward zero: drop the fraction (2.9 → 2, -2.9 → -2). Never gives more than was due.
    Down,
    /// Away from zero: any fraction makes a whole unit (2.1 → 3, -2.1 → -3).
    Up,
}

impl Rounding {
    /// `numerator / denominator` rounded to an integer; `None` if `denominator` is zero or the
    /// result leaves `i64`.
    pub fn divide(self, numerator: i128, denominator: i128) -> Option<i64> {
        if denominator == 0 {
            return None;
        }
        let (n, d) = if denominator < 0 {
            (numerator.checked_neg()?, denominator.checked_neg()?)
        } else {
            (numerator, denominator)
        };
        let quotient = n / d;
        let remainder = (n % d).abs();
        let away = if n < 0 { -1 } else { 1 };
        let twice = remainder * 2;
        let bump = remainder != 0
            && match self {
                Rounding::Down => false,
                Rounding::Up => true,
                Rounding::HalfUp => twice >= d,
                Rounding::HalfEven => twice > d || (twice == d && quotient % 2 != 0),
            };
        i64::try_from(if bump { quotient + away } else { quotient }).ok()
    }
}

/// A rate in hundredths of a percent: 1 bp = 0.01 %, 10 000 bp = 100 %. Tax rates (19 % = 1900,
/// 8.875 % is not whole basis points and needs [`Money::ratio`]) and percentage discounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BasisPoints(pub u32);

impl BasisPoints {
    pub const HUNDRED_PERCENT: BasisPoints = BasisPoints(10_000);

    pub fn from_percent(percent: u32) -> Option<Self> {
        percent.checked_mul(100).map(BasisPoints)
    }
}

/// An amount in integer minor units (cents) of its currency.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, paperclip::actix::Apiv2Schema, schemars::JsonSchema,
)]
pub struct Money {
    /// Amount in minor units of `currency` (cents for USD, yen for JPY, fils for KWD).
    pub amount: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount: i64, currency: Currency) -> Self {
        Self { amount, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Self { amount: 0, currency }
    }

    pub fn is_zero(&self) -> bool {
        self.amount == 0
    }

    pub fn is_negative(&self) -> bool {
        self.amount < 0
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch { left: self.currency, right: other.currency })
        }
    }

    fn with_amount(self, amount: Option<i64>) -> Result<Money, MoneyError> {
        amount.map(|amount| Money { amount, ..self }).ok_or(MoneyError::Overflow)
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.with_amount(self.amount.checked_add(other.amount))
    }

    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        self.with_amount(self.amount.checked_sub(other.amount))
    }

    pub fn checked_neg(self) -> Result<Money, MoneyError> {
        self.with_amount(self.amount.checked_neg())
    }

    /// The total of a list of amounts in `currency` (zero for none).
    pub fn sum(currency: Currency, amounts: impl IntoIterator<Item = Money>) -> Result<Money, MoneyError> {
        amounts.into_iter().try_fold(Money::zero(currency), Money::checked_add)
    }

    /// A unit price times a count (a line total).
    pub fn times(self, quantity: i64) -> Result<Money, MoneyError> {
        self.with_amount(self.amount.checked_mul(quantity))
    }

    /// `rate` of this amount, rounded: `Money::new(1999, USD).percent(BasisPoints(1900), HalfUp)`
    /// is 3.80 (379.81 cents).
    pub fn percent(self, rate: BasisPoints, rounding: Rounding) -> Result<Money, MoneyError> {
        self.ratio(i128::from(rate.0), 10_000, rounding)
    }

    /// This amount times `numerator / denominator`, rounded (a rate that is not whole basis
    /// points, a currency conversion given as a fraction).
    pub fn ratio(self, numerator: i128, denominator: i128, rounding: Rounding) -> Result<Money, MoneyError> {
        let product = i128::from(self.amount).checked_mul(numerator).ok_or(MoneyError::Overflow)?;
        if denominator == 0 {
            return Err(MoneyError::ZeroDenominator);
        }
        self.with_amount(rounding.divide(product, denominator))
    }

    /// Splits this amount over lines in proportion to `weights` (line totals for a basket
    /// discount, say). The parts sum to exactly this amount and each differs from its exact share
    /// by less than one minor unit: the minor units left over after rounding every share toward
    /// zero go one each to the lines with the largest dropped fractions (the earlier line on a
    /// tie), so the result does not depend on anything but the input. A zero weight gets zero.
    pub fn allocate(self, weights: &[u64]) -> Result<Vec<Money>, MoneyError> {
        let total: u128 = weights.iter().map(|w| u128::from(*w)).sum();
        if total == 0 {
            return Err(MoneyError::NothingToAllocate);
        }
        let magnitude = u128::from(self.amount.unsigned_abs());
        let mut parts = Vec::with_capacity(weights.len());
        let mut remainders = Vec::with_capacity(weights.len());
        let mut handed_out: u128 = 0;
        for (index, weight) in weights.iter().enumerate() {
            // |i64| * u64 < 2^127, so this never overflows.
            let exact = magnitude * u128::from(*weight);
            let part = exact / total;
            handed_out += part;
            parts.push(part);
            remainders.push((exact % total, index));
        }
        let leftover = usize::try_from(magnitude - handed_out).map_err(|_| MoneyError::Overflow)?;
        // Largest dropped fraction first; the earlier line wins a tie.
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, index) in remainders.into_iter().take(leftover) {
            if let Some(part) = parts.get_mut(index) {
                *part += 1;
            }
        }
        parts
            .into_iter()
            .map(|part| {
                let part = i64::try_from(part).map_err(|_| MoneyError::Overflow)?;
                Ok(Money { amount: if self.amount < 0 { -part } else { part }, ..self })
            })
            .collect()
    }

    /// Splits this amount into `n` parts as even as possible (the first ones get the extra units).
    pub fn split(self, n: usize) -> Result<Vec<Money>, MoneyError> {
        self.allocate(&vec![1; n])
    }

    /// Reads an amount written in major units, as a merchant types it: `"12.50"` USD is 1250,
    /// `"1250"` JPY is 1250, `"1.234"` KWD is 1234. A leading `-` is allowed; grouping
    /// separators, exponents, `+` and more decimals than the currency has are not.
    pub fn parse_major(text: &str, currency: Currency) -> Result<Money, MoneyError> {
        let not = |reason: String| MoneyError::NotAnAmount { reason };
        let exponent = currency.exponent();
        let example = match exponent {
            0 => "1250".to_string(),
            places => format!("12.{:0<width$}", 5, width = places as usize),
        };
        let trimmed = text.trim();
        let (negative, digits) = match trimmed.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let (whole, fraction) = match digits.split_once('.') {
            Some((whole, fraction)) => (whole, Some(fraction)),
            None => (digits, None),
        };
        let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        if !all_digits(whole) || fraction.is_some_and(|f| !all_digits(f)) {
            return Err(not(format!("an amount in {currency} such as {}", example)));
        }
        let fraction = fraction.unwrap_or("");
        let places = u32::try_from(fraction.len()).unwrap_or(u32::MAX);
        if places > exponent {
            return Err(not(match exponent {
                0 => format!("{currency} has no minor unit: a whole number such as {}", example),
                n => format!("at most {n} decimal places for {currency}"),
            }));
        }
        let overflow = || not(format!("too large an amount in {currency}"));
        // In i128 so that the most negative amount, whose magnitude is not an i64, still parses.
        let whole: i128 = whole.parse().map_err(|_| overflow())?;
        let fraction: i128 = if fraction.is_empty() { 0 } else { fraction.parse().map_err(|_| overflow())? };
        let magnitude = whole
            .checked_mul(10_i128.pow(exponent))
            .and_then(|w| w.checked_add(fraction * 10_i128.pow(exponent - places)))
            .ok_or_else(overflow)?;
        let minor = if negative { -magnitude } else { magnitude };
        i64::try_from(minor).map(|amount| Money::new(amount, currency)).map_err(|_| overflow())
    }

    /// The amount in major units with exactly the currency's decimals, no grouping and no symbol:
    /// `"12.50"`, `"1250"` (JPY), `"-0.05"`, `"1.234"` (KWD). The inverse of [`Money::parse_major`].
    pub fn to_major_string(&self) -> String {
        let exponent = self.currency.exponent();
        let sign = if self.amount < 0 { "-" } else { "" };
        let magnitude = self.amount.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{magnitude}");
        }
        let per_major = 10_u64.pow(exponent);
        let width = exponent as usize;
        format!("{sign}{}.{:0width$}", magnitude / per_major, magnitude % per_major)
    }
}

impl fmt::Display for Money {
    /// `12.50 USD`: for logs and messages; a storefront formats with the shopper's locale.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major_string(), self.currency)
    }
}

impl Queryable<(BigInt, Text), Pg> for Money {
    type Row = (i64, Currency);

    fn build((amount, currency): Self::Row) -> deserialize::Result<Self> {
        Ok(Money { amount, currency })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn money(amount: i64, code: &str) -> Money {
        Money::new(amount, Currency::parse(code).unwrap())
    }

    #[test]
    fn the_table_is_sorted_and_exponents_are_iso_4217() {
        assert!(Currency::ALL.windows(2).all(|w| w[0].code < w[1].code), "binary search needs sorted codes");
        let exponent = |code| Currency::parse(code).map(|c| c.exponent());
        assert_eq!(exponent("JPY"), Some(0));
        assert_eq!(exponent("KRW"), Some(0));
        assert_eq!(exponent("USD"), Some(2));
        assert_eq!(exponent("EUR"), Some(2));
        assert_eq!(exponent("KWD"), Some(3));
        assert_eq!(exponent("BHD"), Some(3));
        assert_eq!(Currency::JPY.minor_per_major(), 1);
        assert_eq!(Currency::KWD.minor_per_major(), 1000);
        for named in [Currency::EUR, Currency::USD, Currency::GBP, Currency::CHF, Currency::JPY, Currency::KWD] {
            assert_eq!(Currency::parse(named.as_str()), Some(named), "{named} constant matches the table");
        }
    }

    #[test]
    fn currency_parsing_accepts_only_known_codes() {
        assert_eq!(Currency::parse("EUR").map(|c| c.to_string()), Some("EUR".into()));
        assert!(Currency::parse("eur").is_none());
        assert!(Currency::parse("EURO").is_none());
        assert!(Currency::parse("XAU").is_none(), "gold is not a currency a shop sells in");
        assert!(Currency::parse("QQQ").is_none());
        assert!(Currency::parse("").is_none());
        assert!(serde_json::from_str::<Currency>("\"usd\"").is_err());
    }

    #[test]
    fn add_and_subtract_need_one_currency_and_stay_in_range() {
        assert_eq!(money(150, "EUR").checked_add(money(50, "EUR")), Ok(money(200, "EUR")));
        assert_eq!(money(150, "EUR").checked_sub(money(200, "EUR")), Ok(money(-50, "EUR")));
        assert_eq!(
            money(150, "EUR").checked_add(money(50, "USD")),
            Err(MoneyError::CurrencyMismatch { left: Currency::EUR, right: Currency::USD })
        );
        assert_eq!(money(i64::MAX, "EUR").checked_add(money(1, "EUR")), Err(MoneyError::Overflow));
        assert_eq!(money(i64::MIN, "EUR").checked_sub(money(1, "EUR")), Err(MoneyError::Overflow));
        assert_eq!(money(i64::MIN, "EUR").checked_neg(), Err(MoneyError::Overflow));
        assert_eq!(Money::sum(Currency::USD, [money(1, "USD"), money(2, "USD")]), Ok(money(3, "USD")));
        assert!(Money::sum(Currency::USD, [money(1, "EUR")]).is_err());
        assert_eq!(money(1999, "USD").times(3), Ok(money(5997, "USD")));
        assert_eq!(money(i64::MAX / 2 + 1, "USD").times(2), Err(MoneyError::Overflow));
    }

    #[test]
    fn rounding_modes_on_halves_and_negatives() {
        let cases: [(i128, [i64; 4]); 8] = [
            // tenths: HalfUp, HalfEven, Down, Up
            (25, [3, 2, 2, 3]),
            (35, [4, 4, 3, 4]),
            (21, [2, 2, 2, 3]),
            (29, [3, 3, 2, 3]),
            (20, [2, 2, 2, 2]),
            (-25, [-3, -2, -2, -3]),
            (-21, [-2, -2, -2, -3]),
            (-29, [-3, -3, -2, -3]),
        ];
        for (tenths, expected) in cases {
            let got = [Rounding::HalfUp, Rounding::HalfEven, Rounding::Down, Rounding::Up]
                .map(|r| r.divide(tenths, 10).unwrap());
            assert_eq!(got, expected, "{tenths}/10");
        }
        assert_eq!(Rounding::HalfUp.divide(25, -10), Some(-3));
        assert_eq!(Rounding::HalfUp.divide(1, 0), None);
        assert_eq!(Rounding::HalfUp.divide(1, i128::MIN), None, "no overflow panic on the most negative divisor");
        assert_eq!(Rounding::HalfUp.divide(i128::MIN, -1), None);
    }

    #[test]
    fn percentages_in_basis_points() {
        // 19 % VAT of 19.99: 379.81 cents.
        assert_eq!(money(1999, "EUR").percent(BasisPoints(1900), Rounding::HalfUp), Ok(money(380, "EUR")));
        assert_eq!(money(1999, "EUR").percent(BasisPoints(1900), Rounding::Down), Ok(money(379, "EUR")));
        // 12.5 % of 1.00 is 12.5 cents: the half decides.
        assert_eq!(money(100, "USD").percent(BasisPoints(1250), Rounding::HalfUp), Ok(money(13, "USD")));
        assert_eq!(money(100, "USD").percent(BasisPoints(1250), Rounding::HalfEven), Ok(money(12, "USD")));
        assert_eq!(money(-100, "USD").percent(BasisPoints(1250), Rounding::HalfUp), Ok(money(-13, "USD")));
        assert_eq!(money(1234, "JPY").percent(BasisPoints::HUNDRED_PERCENT, Rounding::Up), Ok(money(1234, "JPY")));
        // 8.875 % sales tax is 8875/100000.
        assert_eq!(money(10_000, "USD").ratio(8875, 100_000, Rounding::HalfUp), Ok(money(888, "USD")));
        assert_eq!(money(i64::MAX, "USD").percent(BasisPoints(20_000), Rounding::Down), Err(MoneyError::Overflow));
        assert_eq!(BasisPoints::from_percent(19), Some(BasisPoints(1900)));
    }

    #[test]
    fn allocation_examples() {
        let parts = |m: Money, w: &[u64]| m.allocate(w).unwrap().into_iter().map(|p| p.amount).collect::<Vec<_>>();
        assert_eq!(parts(money(100, "USD"), &[1, 1, 1]), [34, 33, 33]);
        assert_eq!(parts(money(-100, "USD"), &[1, 1, 1]), [-34, -33, -33]);
        assert_eq!(parts(money(5, "USD"), &[3, 7]), [2, 3], "1.5 and 3.5: the tie goes to the earlier line");
        assert_eq!(parts(money(10, "JPY"), &[0, 5, 0, 5]), [0, 5, 0, 5]);
        assert_eq!(parts(money(1, "USD"), &[1, 2]), [0, 1]);
        assert_eq!(
            parts(money(i64::MAX, "USD"), &[u64::MAX, u64::MAX]).iter().map(|p| i128::from(*p)).sum::<i128>(),
            i128::from(i64::MAX)
        );
        assert_eq!(money(100, "USD").allocate(&[]), Err(MoneyError::NothingToAllocate));
        assert_eq!(money(100, "USD").allocate(&[0, 0]), Err(MoneyError::NothingToAllocate));
        assert_eq!(money(7, "USD").split(3).unwrap().iter().map(|p| p.amount).collect::<Vec<_>>(), [3, 2, 2]);
    }

    #[test]
    fn major_units_parse_and_format() {
        assert_eq!(Money::parse_major("12.50", Currency::USD), Ok(money(1250, "USD")));
        assert_eq!(Money::parse_major("12.5", Currency::USD), Ok(money(1250, "USD")));
        assert_eq!(Money::parse_major("12", Currency::USD), Ok(money(1200, "USD")));
        assert_eq!(Money::parse_major(" -0.05 ", Currency::USD), Ok(money(-5, "USD")));
        assert_eq!(Money::parse_major("1250", Currency::JPY), Ok(money(1250, "JPY")));
        assert_eq!(Money::parse_major("1.234", Currency::KWD), Ok(money(1234, "KWD")));
        for bad in ["", "-", ".5", "5.", "1,000.00", "1e3", "+1", "12.505", "abc", "1.2.3", "99999999999999999999"] {
            assert!(Money::parse_major(bad, Currency::USD).is_err(), "{bad:?} is not a USD amount");
        }
        let err = Money::parse_major("1250.0", Currency::JPY).unwrap_err();
        assert!(err.to_string().contains("no minor unit"), "{err}");
        assert_eq!(money(1250, "USD").to_major_string(), "12.50");
        assert_eq!(money(-5, "USD").to_major_string(), "-0.05");
        assert_eq!(money(1250, "JPY").to_major_string(), "1250");
        assert_eq!(money(1234, "KWD").to_major_string(), "1.234");
        assert_eq!(money(i64::MIN, "USD").to_major_string(), "-92233720368547758.08");
        assert_eq!(money(1250, "USD").to_string(), "12.50 USD");
        let problem = Money::parse_major("12.505", Currency::USD).unwrap_err().at("price").body();
        assert_eq!(problem.errors.as_deref().and_then(|e| e.first()).map(|e| e.field.as_str()), Some("price"));
    }

    #[test]
    fn serde_is_amount_and_currency() {
        let json = serde_json::to_value(money(1250, "USD")).unwrap();
        assert_eq!(json, serde_json::json!({"amount": 1250, "currency": "USD"}));
        assert_eq!(serde_json::from_value::<Money>(json).unwrap(), money(1250, "USD"));
        assert!(serde_json::from_value::<Money>(serde_json::json!({"amount": 1, "currency": "XYZ"})).is_err());
        let schema = serde_json::to_value(schemars::schema_for!(Money)).unwrap();
        assert!(schema.to_string().contains("\"KWD\""), "the schema lists the currencies: {schema}");
    }

    proptest! {
        #[test]
        fn allocation_sums_to_the_whole_and_stays_within_one_unit(
            amount in any::<i64>(),
            weights in prop::collection::vec(0_u64..1_000_000, 1..20),
        ) {
            prop_assume!(weights.iter().any(|w| *w > 0));
            let whole = Money::new(amount, Currency::USD);
            let parts = whole.allocate(&weights).unwrap();
            prop_assert_eq!(parts.len(), weights.len());
            let sum: i128 = parts.iter().map(|p| i128::from(p.amount)).sum();
            prop_assert_eq!(sum, i128::from(amount));
            // Deviation from the exact share, scaled by the total weight to stay in integers:
            // part * W - amount * w.
            let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
            let deviations: Vec<i128> = parts
                .iter()
                .zip(&weights)
                .map(|(p, w)| i128::from(p.amount) * total - i128::from(amount) * i128::from(*w))
                .collect();
            for d in &deviations {
                prop_assert!(d.abs() < total, "a part is a whole unit or more off its share");
            }
            let spread = deviations.iter().max().unwrap() - deviations.iter().min().unwrap();
            prop_assert!(spread <= total, "two parts' deviations differ by more than one unit");
            for (p, w) in parts.iter().zip(&weights) {
                if *w == 0 { prop_assert_eq!(p.amount, 0); }
                prop_assert!(p.amount == 0 || (p.amount < 0) == (amount < 0));
            }
        }

        #[test]
        fn major_units_round_trip(amount in any::<i64>(), code in prop::sample::select(vec!["USD", "JPY", "KWD", "EUR", "BHD"])) {
            prop_assume!(Currency::parse(code).is_some());
            let m = money(amount, code);
            prop_assert_eq!(Money::parse_major(&m.to_major_string(), m.currency), Ok(m));
        }

        #[test]
        fn half_even_and_half_up_agree_except_on_halves(n in -1_000_000_i128..1_000_000, d in 1_i128..1000) {
            let up = Rounding::HalfUp.divide(n, d).unwrap();
            let even = Rounding::HalfEven.divide(n, d).unwrap();
            if (n % d).abs() * 2 != d { prop_assert_eq!(up, even); }
            let down = Rounding::Down.divide(n, d).unwrap();
            let away = Rounding::Up.divide(n, d).unwrap();
            prop_assert!((away - down).abs() <= 1);
            prop_assert!(i128::from(down).abs() * d <= n.abs() && n.abs() <= i128::from(away).abs() * d);
        }
    }
}
