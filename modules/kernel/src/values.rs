//! Validated values the commerce modules share: [`Sku`], [`Quantity`], [`LocalizedText`].
//!
//! Each is parsed once at the edge (serde refuses a bad one, so a JSON body naming it is a 422
//! from the extractor) and trusted inside; each maps to one plain column (`text`, `integer`,
//! `jsonb`).

use crate::error::FieldError;
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::{Integer, Jsonb, Text};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::io::Write as _;

/// A stock keeping unit as the merchant writes it: 1–64 characters after trimming, no spaces or
/// control characters inside (`TSHIRT-RED-M`, `4006381333931`). Case is kept: `abc` and `ABC` are
/// different SKUs, as they are in most merchants' spreadsheets.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, AsExpression, FromSqlRow)]
#[serde(transparent)]
#[diesel(sql_type = Text)]
pub struct Sku(String);

impl Sku {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let trimmed = raw.trim();
        let chars = trimmed.chars().count();
        if chars == 0 {
            return Err("a SKU cannot be empty".into());
        }
        if chars > Self::MAX_CHARS {
            return Err(format!("a SKU has at most {} characters", Self::MAX_CHARS));
        }
        if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("a SKU has no spaces or control characters".into());
        }
        Ok(Sku(trimmed.to_string()))
    }

    /// [`Sku::parse`], with the error naming `field`.
    pub fn parse_field(raw: &str, field: impl Into<String>) -> Result<Self, FieldError> {
        Sku::parse(raw).map_err(|message| FieldError::new(field, message))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sku {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for Sku {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Sku::parse(s)
    }
}

impl<'de> Deserialize<'de> for Sku {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Cow::<'de, str>::deserialize(d)?;
        Sku::parse(&raw).map_err(serde::de::Error::custom)
    }
}

impl paperclip::v2::schema::TypedData for Sku {
    fn data_type() -> paperclip::v2::models::DataType {
        paperclip::v2::models::DataType::String
    }
}

impl schemars::JsonSchema for Sku {
    fn schema_name() -> Cow<'static, str> {
        "Sku".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "minLength": 1,
            "maxLength": Sku::MAX_CHARS,
            "pattern": "^[^\\s\\p{Cc}]+$",
        })
    }
}

impl ToSql<Text, Pg> for Sku {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Text, Pg> for Sku {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let raw = <String as FromSql<Text, Pg>>::from_sql(bytes)?;
        Ok(Sku::parse(&raw)?)
    }
}

/// How many units of something: at least 1, at most [`Quantity::MAX`] per line, so a line total
/// (`unit price × quantity`) of any sane price stays far inside `i64` minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, AsExpression, FromSqlRow)]
#[serde(transparent)]
#[diesel(sql_type = Integer)]
pub struct Quantity(i32);

impl Quantity {
    pub const ONE: Quantity = Quantity(1);
    pub const MAX: i32 = 1_000_000;

    pub fn new(count: i64) -> Result<Self, String> {
        match i32::try_from(count) {
            Ok(n @ 1..=Self::MAX) => Ok(Quantity(n)),
            _ => Err(format!("a quantity is a whole number from 1 to {}", Self::MAX)),
        }
    }

    pub fn get(self) -> i32 {
        self.0
    }

    /// The quantity as a factor for [`crate::money::Money::times`].
    pub fn as_i64(self) -> i64 {
        i64::from(self.0)
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // i64 so that 0, -1 and 3000000000 all get the same message instead of serde's own.
        Quantity::new(i64::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl paperclip::v2::schema::TypedData for Quantity {
    fn data_type() -> paperclip::v2::models::DataType {
        paperclip::v2::models::DataType::Integer
    }
    fn format() -> Option<paperclip::v2::models::DataTypeFormat> {
        Some(paperclip::v2::models::DataTypeFormat::Int32)
    }
    fn min() -> Option<f32> {
        Some(1.0)
    }
    fn max() -> Option<f32> {
        Some(Quantity::MAX as f32)
    }
}

impl schemars::JsonSchema for Quantity {
    fn schema_name() -> Cow<'static, str> {
        "Quantity".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "type": "integer", "format": "int32", "minimum": 1, "maximum": Quantity::MAX })
    }
}

impl ToSql<Integer, Pg> for Quantity {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <i32 as ToSql<Integer, Pg>>::to_sql(&self.0, out)
    }
}

impl FromSql<Integer, Pg> for Quantity {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        Ok(Quantity::new(i64::from(<i32 as FromSql<Integer, Pg>>::from_sql(bytes)?))?)
    }
}

/// A text a merchant writes once per shop language (a product name, a category description):
/// `{"en": "Shirt", "de": "Hemd"}`. Keys are BCP 47 tags (`en`, `de-CH`); texts are not empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, AsExpression, FromSqlRow)]
#[serde(transparent)]
#[diesel(sql_type = Jsonb)]
pub struct LocalizedText(BTreeMap<String, String>);

impl LocalizedText {
    pub fn new(texts: BTreeMap<String, String>) -> Result<Self, String> {
        for (locale, text) in &texts {
            if !valid_locale(locale) {
                return Err(format!("{locale:?} is not a language tag such as en or de-CH"));
            }
            if text.trim().is_empty() {
                return Err(format!("the {locale} text is empty: leave the language out instead"));
            }
        }
        Ok(LocalizedText(texts))
    }

    /// One text in one language.
    pub fn single(locale: &str, text: &str) -> Result<Self, String> {
        LocalizedText::new(BTreeMap::from([(locale.to_string(), text.to_string())]))
    }

    /// The text for a shopper who reads `locale`, in the shop whose default language is
    /// `shop_default`: the exact tag (`de-CH`), then its language (`de`), then the shop default
    /// (and its language). `None` only when the merchant wrote neither.
    pub fn get(&self, locale: &str, shop_default: &str) -> Option<&str> {
        [locale, language(locale), shop_default, language(shop_default)]
            .into_iter()
            .find_map(|tag| self.0.get(tag))
            .map(String::as_str)
    }

    /// The text in exactly this locale, without falling back.
    pub fn exact(&self, locale: &str) -> Option<&str> {
        self.0.get(locale).map(String::as_str)
    }

    pub fn locales(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

fn language(tag: &str) -> &str {
    tag.split('-').next().unwrap_or(tag)
}

/// BCP 47 in the shape shops use: a 2–3 letter lower-case language, then subtags of 2–8 letters or
/// digits (`en`, `de-CH`, `zh-Hant-TW`).
fn valid_locale(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let lang_ok = parts.next().is_some_and(|l| (2..=3).contains(&l.len()) && l.bytes().all(|b| b.is_ascii_lowercase()));
    lang_ok && parts.all(|p| (2..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

impl<'de> Deserialize<'de> for LocalizedText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        LocalizedText::new(BTreeMap::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

impl paperclip::v2::schema::Apiv2Schema for LocalizedText {
    fn description() -> &'static str {
        "Text per language: BCP 47 tag → text, e.g. {\"en\": \"Shirt\", \"de\": \"Hemd\"}"
    }

    fn raw_schema() -> paperclip::v2::models::DefaultSchemaRaw {
        <BTreeMap<String, String> as paperclip::v2::schema::Apiv2Schema>::raw_schema()
    }
}

impl schemars::JsonSchema for LocalizedText {
    fn schema_name() -> Cow<'static, str> {
        "LocalizedText".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "object",
            "additionalProperties": { "type": "string", "minLength": 1 },
            "propertyNames": { "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$" },
        })
    }
}

impl ToSql<Jsonb, Pg> for LocalizedText {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        // jsonb's binary format: a version byte, then the JSON text.
        out.write_all(&[1])?;
        serde_json::to_writer(out, &self.0)?;
        Ok(IsNull::No)
    }
}

impl FromSql<Jsonb, Pg> for LocalizedText {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let value = <serde_json::Value as FromSql<Jsonb, Pg>>::from_sql(bytes)?;
        Ok(LocalizedText::new(serde_json::from_value(value)?)?)
    }
}

/// For a patch field that may be left out (keep it), `null` (clear it) or a value:
/// `#[serde(default, deserialize_with = "agora_kernel::values::nullable")]` on an
/// `Option<Option<T>>` gives `None`, `Some(None)` and `Some(Some(value))`.
pub fn nullable<'de, T: Deserialize<'de>, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_trimmed_bounded_and_without_spaces() {
        assert_eq!(Sku::parse("  TSHIRT-RED-M ").unwrap().as_str(), "TSHIRT-RED-M");
        assert_eq!(Sku::parse(&"x".repeat(64)).map(|s| s.as_str().len()), Ok(64));
        assert_eq!(Sku::parse(&"ü".repeat(64)).map(|s| s.as_str().chars().count()), Ok(64), "characters, not bytes");
        for bad in ["", "   ", "RED M", "A\tB", "A\u{0}B", "A\u{a0}B"] {
            assert!(Sku::parse(bad).is_err(), "{bad:?}");
        }
        assert!(Sku::parse(&"x".repeat(65)).is_err());
        assert!(serde_json::from_str::<Sku>("\"A B\"").is_err());
        assert_eq!(serde_json::from_str::<Sku>("\" ab \"").unwrap().as_str(), "ab");
        assert_eq!(Sku::parse_field("", "lines[1].sku").unwrap_err().field, "lines[1].sku");
    }

    #[test]
    fn quantities_are_positive_and_bounded() {
        assert_eq!(Quantity::new(1).map(Quantity::get), Ok(1));
        assert_eq!(Quantity::new(1_000_000).map(Quantity::get), Ok(1_000_000));
        for bad in [0, -1, 1_000_001, i64::from(i32::MAX) + 1] {
            assert!(Quantity::new(bad).is_err(), "{bad}");
        }
        assert!(serde_json::from_str::<Quantity>("0").is_err());
        assert!(serde_json::from_str::<Quantity>("2.5").is_err());
        assert_eq!(serde_json::from_str::<Quantity>("3").unwrap().as_i64(), 3);
    }

    #[test]
    fn localized_text_falls_back_to_language_then_shop_default() {
        let text: LocalizedText = serde_json::from_str(r#"{"en": "Shirt", "de": "Hemd", "fr-CA": "Chemise"}"#).unwrap();
        assert_eq!(text.get("de-CH", "en"), Some("Hemd"));
        assert_eq!(text.get("de", "en"), Some("Hemd"));
        assert_eq!(text.get("fr-CA", "en"), Some("Chemise"));
        assert_eq!(text.get("fr", "en"), Some("Shirt"), "fr-CA is not French in general");
        assert_eq!(text.get("ja", "en-GB"), Some("Shirt"), "the shop default's language");
        assert_eq!(text.get("ja", "it"), None);
        assert_eq!(text.exact("de-CH"), None);
        assert!(serde_json::from_str::<LocalizedText>(r#"{"EN": "x"}"#).is_err());
        assert!(serde_json::from_str::<LocalizedText>(r#"{"en": " "}"#).is_err());
        assert_eq!(serde_json::to_string(&text).unwrap(), r#"{"de":"Hemd","en":"Shirt","fr-CA":"Chemise"}"#);
    }
}
