//! Where a buyer is: countries, regions, postcode patterns, and which of the shop's zones a
//! destination falls in (the most specific one).

use super::TaxZoneId;
use crate::PricingError;

/// ISO 3166-1 alpha-2, the officially assigned codes.
const COUNTRIES: &str = "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ \
BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV BW BY BZ \
CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ \
DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR \
GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU \
ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ \
LA LB LC LI LK LR LS LT LU LV LY \
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ \
NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA \
RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ \
TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW";

/// The EU's member states (ISO codes), where the reverse charge applies between businesses.
pub(crate) const EU: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

pub(crate) fn is_country(code: &str) -> bool {
    code.len() == 2 && COUNTRIES.split(' ').any(|c| c == code)
}

/// An ISO 3166-1 alpha-2 code, upper-cased (`de` → `DE`), or a 422 naming `field`.
pub(crate) fn country(field: &str, raw: &str) -> Result<String, PricingError> {
    let code = raw.trim().to_ascii_uppercase();
    if is_country(&code) {
        Ok(code)
    } else {
        Err(PricingError::field(field, "an ISO 3166-1 alpha-2 country code (DE, US)"))
    }
}

/// A region within a country (a US state `NY`, a Canadian province `QC`): 1–10 of A–Z, 0–9, `-`.
pub(crate) fn region(field: &str, raw: &str) -> Result<String, PricingError> {
    let code = raw.trim().to_ascii_uppercase();
    if (1..=10).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        Ok(code)
    } else {
        Err(PricingError::field(field, "a region code of 1 to 10 letters, digits or '-' (NY)"))
    }
}

/// A postcode as compared: upper case, without spaces (`sw1a 1aa` → `SW1A1AA`).
pub(crate) fn normalize_postcode(raw: &str) -> String {
    raw.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase()
}

fn postcode_text(s: &str) -> bool {
    (1..=12).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A zone's postcode pattern: an exact code (`10115`), a prefix (`SW1*`) or an inclusive range
/// of codes of one length (`10000-14999`, compared character by character).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PostcodePattern {
    Exact(String),
    Prefix(String),
    Range(String, String),
}

impl PostcodePattern {
    pub(crate) fn parse(field: &str, raw: &str) -> Result<Self, PricingError> {
        let text = normalize_postcode(raw);
        let bad = |why: &str| PricingError::field(field, why.to_string());
        if let Some(prefix) = text.strip_suffix('*') {
            return if postcode_text(prefix) {
                Ok(PostcodePattern::Prefix(prefix.to_string()))
            } else {
                Err(bad("a prefix is 1 to 12 letters or digits followed by '*' (SW1*)"))
            };
        }
        if let Some((from, to)) = text.split_once('-') {
            if !postcode_text(from) || !postcode_text(to) {
                return Err(bad("a range is two codes of letters or digits (10000-14999)"));
            }
            if from.len() != to.len() {
                return Err(bad("a range's two ends must have the same length (10000-14999)"));
            }
            if from > to {
                return Err(bad("a range must start at or below where it ends (10000-14999)"));
            }
            return Ok(PostcodePattern::Range(from.to_string(), to.to_string()));
        }
        if postcode_text(&text) {
            Ok(PostcodePattern::Exact(text))
        } else {
            Err(bad("a postcode (10115), a prefix (SW1*) or a range (10000-14999)"))
        }
    }

    /// The pattern as stored and shown.
    pub(crate) fn text(&self) -> String {
        match self {
            PostcodePattern::Exact(c) => c.clone(),
            PostcodePattern::Prefix(p) => format!("{p}*"),
            PostcodePattern::Range(a, b) => format!("{a}-{b}"),
        }
    }

    /// Whether normalized postcode `code` falls in it.
    pub(crate) fn matches(&self, code: &str) -> bool {
        match self {
            PostcodePattern::Exact(c) => code == c,
            PostcodePattern::Prefix(p) => code.starts_with(p.as_str()),
            PostcodePattern::Range(a, b) => code.len() == a.len() && a.as_str() <= code && code <= b.as_str(),
        }
    }

    /// Whether some postcode falls in both.
    pub(crate) fn overlaps(&self, other: &PostcodePattern) -> bool {
        use PostcodePattern::*;
        match (self, other) {
            (Exact(c), p) | (p, Exact(c)) => p.matches(c),
            (Prefix(a), Prefix(b)) => a.starts_with(b.as_str()) || b.starts_with(a.as_str()),
            (Prefix(p), Range(a, b)) | (Range(a, b), Prefix(p)) => {
                if p.len() > a.len() {
                    return false;
                }
                // The codes of the range's length with this prefix run from p000… to pZZZ….
                let pad = a.len() - p.len();
                let lowest = format!("{p}{}", "0".repeat(pad));
                let highest = format!("{p}{}", "Z".repeat(pad));
                lowest.as_str() <= b.as_str() && highest.as_str() >= a.as_str()
            }
            (Range(a1, b1), Range(a2, b2)) => a1.len() == a2.len() && a1 <= b2 && a2 <= b1,
        }
    }
}

/// What a destination is matched on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Place {
    pub country: String,
    pub region: Option<String>,
    /// Normalized.
    pub postcode: Option<String>,
}

/// A zone as the matcher sees it.
#[derive(Debug, Clone)]
pub(crate) struct ZoneArea {
    pub id: TaxZoneId,
    pub country: String,
    pub region: Option<String>,
    pub postcodes: Vec<PostcodePattern>,
}

impl ZoneArea {
    /// How specifically the zone matches `place` (higher wins), or `None` when it does not:
    /// 3 region and postcode, 2 postcode, 1 region, 0 the country alone.
    pub(crate) fn specificity(&self, place: &Place) -> Option<u8> {
        if self.country != place.country {
            return None;
        }
        let region = match &self.region {
            None => false,
            Some(r) if place.region.as_ref() == Some(r) => true,
            Some(_) => return None,
        };
        let postcode = match (self.postcodes.is_empty(), &place.postcode) {
            (true, _) => false,
            (false, Some(code)) if self.postcodes.iter().any(|p| p.matches(code)) => true,
            (false, _) => return None,
        };
        Some(u8::from(postcode) * 2 + u8::from(region))
    }
}

/// The zone `place` falls in: the most specific match (postcode over region over country); on
/// a tie, the zone created first (ids are time-ordered), though the rules on saving keep zones
/// of one country and region from overlapping.
pub(crate) fn pick_zone<'a>(zones: &'a [ZoneArea], place: &Place) -> Option<&'a ZoneArea> {
    zones
        .iter()
        .filter_map(|z| z.specificity(place).map(|s| (s, z)))
        .max_by(|(s1, z1), (s2, z2)| s1.cmp(s2).then(z2.id.as_uuid().cmp(&z1.id.as_uuid())))
        .map(|(_, z)| z)
}

/// Why `candidate` cannot be saved next to `existing` (a zone of the same country and region):
/// the field to name and the message. Two zones covering the same addresses with the same
/// specificity would make the choice between them arbitrary.
pub(crate) fn conflict(candidate: &ZoneArea, existing: &ZoneArea, existing_name: &str) -> Option<(String, String)> {
    if candidate.country != existing.country || candidate.region != existing.region {
        return None;
    }
    if candidate.postcodes.is_empty() && existing.postcodes.is_empty() {
        let field = if candidate.region.is_some() { "region" } else { "country" };
        return Some((field.to_string(), format!("zone \"{existing_name}\" already covers this country and region")));
    }
    for (i, mine) in candidate.postcodes.iter().enumerate() {
        if let Some(theirs) = existing.postcodes.iter().find(|p| p.overlaps(mine)) {
            return Some((
                format!("postcodes[{i}]"),
                format!("overlaps {} of zone \"{existing_name}\"", theirs.text()),
            ));
        }
    }
    None
}

/// A zone's own patterns, checked and without overlaps among themselves.
pub(crate) fn postcode_patterns(raw: &[String]) -> Result<Vec<PostcodePattern>, PricingError> {
    if raw.len() > 500 {
        return Err(PricingError::field("postcodes", "at most 500 patterns per zone"));
    }
    let mut out: Vec<PostcodePattern> = Vec::with_capacity(raw.len());
    for (i, text) in raw.iter().enumerate() {
        let field = format!("postcodes[{i}]");
        let pattern = PostcodePattern::parse(&field, text)?;
        if let Some(earlier) = out.iter().position(|p| p.overlaps(&pattern)) {
            return Err(PricingError::field(&field, format!("overlaps postcodes[{earlier}]")));
        }
        out.push(pattern);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> PostcodePattern {
        PostcodePattern::parse("p", s).unwrap()
    }

    #[test]
    fn countries_are_iso_codes() {
        assert_eq!(COUNTRIES.split(' ').count(), 249);
        assert!(is_country("DE") && is_country("US") && is_country("JP") && is_country("KW"));
        assert!(!is_country("XX") && !is_country("EL") && !is_country("UK") && !is_country("D"));
        assert_eq!(country("c", "at").unwrap(), "AT");
        assert!(EU.iter().all(|c| is_country(c)));
    }

    #[test]
    fn postcode_patterns_parse_match_and_overlap() {
        assert_eq!(p("10000-14999"), PostcodePattern::Range("10000".into(), "14999".into()));
        assert_eq!(p("sw1*"), PostcodePattern::Prefix("SW1".into()));
        assert_eq!(p(" 10115 "), PostcodePattern::Exact("10115".into()));
        assert!(PostcodePattern::parse("p", "14999-10000").is_err(), "backwards");
        assert!(PostcodePattern::parse("p", "100-14999").is_err(), "lengths differ");
        assert!(PostcodePattern::parse("p", "*").is_err());
        assert!(PostcodePattern::parse("p", "10 00-").is_err());
        assert!(p("10000-14999").matches("12345") && !p("10000-14999").matches("15000"));
        assert!(!p("10000-14999").matches("123456"), "a longer code is not in a range of 5-digit codes");
        assert!(p("SW1*").matches("SW1A1AA") && !p("SW1*").matches("SW2"));
        assert!(p("10000-14999").overlaps(&p("14000-15999")));
        assert!(!p("10000-14999").overlaps(&p("15000-15999")));
        assert!(p("1*").overlaps(&p("10000-14999")));
        assert!(!p("2*").overlaps(&p("10000-14999")));
        assert!(p("14*").overlaps(&p("10000-14000")), "14000 itself");
        assert!(p("10*").overlaps(&p("1*")) && !p("10*").overlaps(&p("11*")));
        assert!(p("10115").overlaps(&p("10*")) && !p("10115").overlaps(&p("10116")));
        assert!(postcode_patterns(&["10000-14999".into(), "12000-12999".into()]).is_err());
    }

    #[test]
    fn the_most_specific_zone_wins() {
        let id = |n: u128| TaxZoneId::from_uuid(uuid::Uuid::from_u128(n));
        let zones = vec![
            ZoneArea { id: id(1), country: "US".into(), region: None, postcodes: vec![] },
            ZoneArea { id: id(2), country: "US".into(), region: Some("NY".into()), postcodes: vec![] },
            ZoneArea { id: id(3), country: "US".into(), region: Some("NY".into()), postcodes: vec![p("100*")] },
            ZoneArea { id: id(4), country: "US".into(), region: None, postcodes: vec![p("90000-96199")] },
        ];
        let place = |region: Option<&str>, code: Option<&str>| Place {
            country: "US".into(),
            region: region.map(str::to_string),
            postcode: code.map(str::to_string),
        };
        let pick = |pl: Place| pick_zone(&zones, &pl).map(|z| z.id);
        assert_eq!(pick(place(Some("NY"), Some("10001"))), Some(id(3)), "region and postcode");
        assert_eq!(pick(place(Some("NY"), Some("12207"))), Some(id(2)), "region");
        assert_eq!(pick(place(Some("CA"), Some("94103"))), Some(id(4)), "postcode beats region-less country");
        assert_eq!(pick(place(Some("TX"), None)), Some(id(1)), "country");
        assert_eq!(pick(Place { country: "CA".into(), region: None, postcode: None }), None);
    }
}
