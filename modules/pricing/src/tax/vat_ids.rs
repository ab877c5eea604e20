//! EU VAT identification numbers, checked for syntax only: the member state's prefix and that
//! state's pattern (as VIES documents them). Whether the number is registered is a question for
//! VIES, asked through a `VatIdValidator` port in a later step; until then a well-formed
//! number on file is taken at the merchant's word.

use crate::PricingError;

/// Pattern letters: `9` a digit, `A` a letter, `X` a letter or digit, `+` a letter, `+` or `*`
/// (Irish numbers); anything else stands for itself.
fn fits(pattern: &str, text: &str) -> bool {
    pattern.len() == text.len()
        && pattern.bytes().zip(text.bytes()).all(|(p, c)| match p {
            b'9' => c.is_ascii_digit(),
            b'A' => c.is_ascii_uppercase(),
            b'X' => c.is_ascii_uppercase() || c.is_ascii_digit(),
            b'+' => c.is_ascii_uppercase() || c == b'+' || c == b'*',
            other => other == c,
        })
}

/// The prefix of each member state (Greece uses `EL`), its ISO country and its patterns.
const STATES: &[(&str, &str, &[&str])] = &[
    ("AT", "AT", &["U99999999"]),
    ("BE", "BE", &["0999999999", "1999999999"]),
    ("BG", "BG", &["999999999", "9999999999"]),
    ("CY", "CY", &["99999999A"]),
    ("CZ", "CZ", &["99999999", "999999999", "9999999999"]),
    ("DE", "DE", &["999999999"]),
    ("DK", "DK", &["99999999"]),
    ("EE", "EE", &["999999999"]),
    ("EL", "GR", &["999999999"]),
    ("ES", "ES", &["X9999999X"]),
    ("FI", "FI", &["99999999"]),
    ("FR", "FR", &["XX999999999"]),
    ("HR", "HR", &["99999999999"]),
    ("HU", "HU", &["99999999"]),
    ("IE", "IE", &["9999999A", "9999999AA", "9+99999A"]),
    ("IT", "IT", &["99999999999"]),
    ("LT", "LT", &["999999999", "999999999999"]),
    ("LU", "LU", &["99999999"]),
    ("LV", "LV", &["99999999999"]),
    ("MT", "MT", &["99999999"]),
    ("NL", "NL", &["999999999B99"]),
    ("PL", "PL", &["9999999999"]),
    ("PT", "PT", &["999999999"]),
    ("RO", "RO", &["99", "999", "9999", "99999", "999999", "9999999", "99999999", "999999999", "9999999999"]),
    ("SE", "SE", &["999999999901"]),
    ("SI", "SI", &["99999999"]),
    ("SK", "SK", &["9999999999"]),
];

/// A VAT id as stored: upper case, without spaces, dots or dashes (`de 123.456.789` →
/// `DE123456789`), and the member state it belongs to (ISO code: `EL…` is `GR`).
pub(crate) fn parse(field: &str, raw: &str) -> Result<(String, String), PricingError> {
    let text: String =
        raw.chars().filter(|c| !c.is_whitespace() && *c != '.' && *c != '-').collect::<String>().to_ascii_uppercase();
    let prefix = text.get(..2).unwrap_or_default();
    let rest = text.get(2..).unwrap_or_default();
    let Some((_, country, patterns)) = STATES.iter().find(|(p, _, _)| *p == prefix) else {
        return Err(PricingError::field(
            field,
            "an EU VAT number starting with its member state's prefix (DE123456789, ATU12345678, EL123456789)",
        ));
    };
    if !patterns.iter().any(|p| fits(p, rest)) {
        return Err(PricingError::field(field, format!("not a well-formed {prefix} VAT number")));
    }
    Ok((text, (*country).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_ids_are_checked_per_member_state() {
        assert_eq!(parse("v", "DE 123 456 789").unwrap(), ("DE123456789".into(), "DE".into()));
        assert_eq!(parse("v", "atu12345678").unwrap(), ("ATU12345678".into(), "AT".into()));
        assert_eq!(parse("v", "EL123456789").unwrap(), ("EL123456789".into(), "GR".into()));
        assert_eq!(parse("v", "NL123456789B01").unwrap().1, "NL");
        assert_eq!(parse("v", "FRXX123456789").unwrap().1, "FR");
        assert_eq!(parse("v", "IE1234567T").unwrap().1, "IE");
        assert_eq!(parse("v", "IE1+34567T").unwrap().1, "IE");
        assert_eq!(parse("v", "ESX1234567A").unwrap().1, "ES");
        assert_eq!(parse("v", "RO12").unwrap().1, "RO");
        for bad in ["DE12345678", "DE1234567890", "AT12345678", "GR123456789", "NL123456789A01", "US123456789", "", "D"]
        {
            assert!(parse("v", bad).is_err(), "{bad}");
        }
    }
}
