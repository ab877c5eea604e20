//! Hand-computed tax tables for the pure calculator (`totals::compute`), every amount asserted
//! to the minor unit. The arithmetic is written out next to each case; "⌊x⌉" is rounding half
//! away from zero. Rates are millionths (19 % = 190 000).

use super::totals::{compute, ClassRates, RateComponent, ResolvedRates, TaxableLine};
use super::{
    reverse_charge, CrossBorderPrices, ShippingTax, TaxClassId, TaxClassKind, TaxRounding, TaxSettings, TaxZoneId,
};
use agora_kernel::money::{Currency, Money};
use std::collections::BTreeMap;

const STD: TaxClassId = TaxClassId::STANDARD;
const RED: TaxClassId = TaxClassId::REDUCED;
const ZERO: TaxClassId = TaxClassId::ZERO;
const EXEMPT: TaxClassId = TaxClassId::EXEMPT;
const BOOKS: TaxClassId = TaxClassId::from_uuid(uuid::Uuid::from_u128(0x0000_0000_0000_7000_8000_0000_0000_0099));

fn settings(inclusive: bool, cross: CrossBorderPrices, rounding: TaxRounding, shipping: ShippingTax) -> TaxSettings {
    TaxSettings {
        prices_include_tax: inclusive,
        cross_border: cross,
        rounding,
        shipping_tax: shipping,
        shipping_tax_class_id: None,
        origin_country: Some("DE".into()),
    }
}

fn eu(rounding: TaxRounding) -> TaxSettings {
    settings(true, CrossBorderPrices::KeepGross, rounding, ShippingTax::HighestRate)
}

fn us(rounding: TaxRounding) -> TaxSettings {
    TaxSettings {
        shipping_tax: ShippingTax::TaxClass,
        shipping_tax_class_id: Some(STD),
        origin_country: Some("US".into()),
        ..settings(false, CrossBorderPrices::KeepGross, rounding, ShippingTax::TaxClass)
    }
}

fn r(name: &str, ppm: u32) -> RateComponent {
    RateComponent { name: name.into(), rate_ppm: ppm }
}

/// The four built-in classes plus a custom one, with `standard`, `reduced` and `books` rates.
fn classes(standard: Vec<RateComponent>, reduced: Vec<RateComponent>) -> BTreeMap<TaxClassId, ClassRates> {
    BTreeMap::from([
        (STD, ClassRates { kind: TaxClassKind::Standard, rates: standard }),
        (RED, ClassRates { kind: TaxClassKind::Reduced, rates: reduced.clone() }),
        (ZERO, ClassRates { kind: TaxClassKind::Zero, rates: vec![] }),
        (EXEMPT, ClassRates { kind: TaxClassKind::Exempt, rates: vec![] }),
        (BOOKS, ClassRates { kind: TaxClassKind::Custom, rates: reduced }),
    ])
}

fn zone(standard: Vec<RateComponent>, reduced: Vec<RateComponent>, shipping_taxable: bool) -> ResolvedRates {
    ResolvedRates {
        zone: Some((TaxZoneId::from_uuid(uuid::Uuid::from_u128(7)), "zone".into())),
        classes: classes(standard, reduced),
        origin: None,
        shipping_taxable,
        reverse_charge: false,
    }
}

fn germany() -> ResolvedRates {
    zone(vec![r("MwSt. 19 %", 190_000)], vec![r("MwSt. 7 %", 70_000)], true)
}

fn austria() -> ResolvedRates {
    zone(vec![r("USt. 20 %", 200_000)], vec![r("USt. 10 %", 100_000)], true)
}

/// New York City: state 4 % + city 4.5 % + MCTD 0.375 % = 8.875 %; delivery is taxed.
fn new_york_city() -> ResolvedRates {
    zone(vec![r("NY State", 40_000), r("New York City", 45_000), r("MCTD", 3_750)], vec![], true)
}

struct Case {
    name: &'static str,
    settings: TaxSettings,
    rates: ResolvedRates,
    currency: Currency,
    /// (class, amount as entered)
    lines: Vec<(TaxClassId, i64)>,
    shipping: Option<i64>,
    /// Per line (net, tax, gross).
    want_lines: Vec<(i64, i64, i64)>,
    want_shipping: Option<(i64, i64, i64)>,
    /// (rate name, amount)
    want_taxes: Vec<(&'static str, i64)>,
    /// (net total, tax total, total)
    want_totals: (i64, i64, i64),
}

fn cases() -> Vec<Case> {
    use TaxRounding::{PerLine, PerTotal};
    let eur = Currency::EUR;
    vec![
        // 1. EU VAT inclusive, 19 % and 7 % in one basket, after a 10 % basket discount already
        //    allocated: 29.99 + 12.50 = 42.49, discount ⌊4.249⌉ = 4.25 spread over [2999, 1250]
        //    (299.96 / 125.03 → 299 / 125 + the left-over cent to the larger remainder) = 3.00 / 1.25,
        //    so the lines are 26.99 and 11.25. Shipping 4.90 as the highest rate (19 %).
        //    26.99: tax ⌊2699 × 19/119⌉ = ⌊430.93⌉ = 431, net 2268.
        //    11.25: tax ⌊1125 × 7/107⌉ = ⌊73.60⌉ = 74, net 1051.
        //    4.90: tax ⌊490 × 19/119⌉ = ⌊78.24⌉ = 78, net 412.
        //    VAT 19 %: 431 + 78 = 509; 7 %: 74; tax 583; net 2268 + 1051 + 412 = 3731; total 4314.
        Case {
            name: "DE inclusive, 19 % and 7 %, discounted, per line",
            settings: eu(PerLine),
            rates: germany(),
            currency: eur,
            lines: vec![(STD, 2699), (RED, 1125)],
            shipping: Some(490),
            want_lines: vec![(2268, 431, 2699), (1051, 74, 1125)],
            want_shipping: Some((412, 78, 490)),
            want_taxes: vec![("MwSt. 19 %", 509), ("MwSt. 7 %", 74)],
            want_totals: (3731, 583, 4314),
        },
        // 2. The same basket rounded per total. 19 %: 2699 + 490 = 3189, ⌊3189 × 19/119⌉ =
        //    ⌊509.17⌉ = 509, back to the lines by amount: 430.79 / 78.21 → 430 / 78 + 1 cent to the
        //    larger remainder (line) = 431 / 78. 7 %: 1125 alone → 74. Same amounts as per line.
        Case {
            name: "DE inclusive, 19 % and 7 %, discounted, per total",
            settings: eu(PerTotal),
            rates: germany(),
            currency: eur,
            lines: vec![(STD, 2699), (RED, 1125)],
            shipping: Some(490),
            want_lines: vec![(2268, 431, 2699), (1051, 74, 1125)],
            want_shipping: Some((412, 78, 490)),
            want_taxes: vec![("MwSt. 19 %", 509), ("MwSt. 7 %", 74)],
            want_totals: (3731, 583, 4314),
        },
        // 3. A German shop keeping gross prices sells 119.00 to Austria (20 %): the buyer pays
        //    119.00; tax ⌊11900 × 20/120⌉ = ⌊1983.33⌉ = 1983, net 9917.
        Case {
            name: "DE shop, gross kept, to AT 20 %",
            settings: eu(PerLine),
            rates: austria(),
            currency: eur,
            lines: vec![(STD, 11900)],
            shipping: None,
            want_lines: vec![(9917, 1983, 11900)],
            want_shipping: None,
            want_taxes: vec![("USt. 20 %", 1983)],
            want_totals: (9917, 1983, 11900),
        },
        // 4. The same shop keeping net prices: 119.00 less German 19 % (⌊11900 × 19/119⌉ = 1900) is
        //    100.00 net, plus Austrian 20 % = 20.00: 120.00. A 10.70 book (German 7 %: 70 out,
        //    net 1000) with Austrian 10 %: 100, gross 1100.
        Case {
            name: "DE shop, net kept, to AT 20 % and 10 %",
            settings: settings(true, CrossBorderPrices::KeepNet, PerLine, ShippingTax::HighestRate),
            rates: ResolvedRates { origin: Some(germany().classes), ..austria() },
            currency: eur,
            lines: vec![(STD, 11900), (RED, 1070)],
            shipping: None,
            want_lines: vec![(10000, 2000, 12000), (1000, 100, 1100)],
            want_shipping: None,
            want_taxes: vec![("USt. 20 %", 2000), ("USt. 10 %", 100)],
            want_totals: (11000, 2100, 13100),
        },
        // 5. Net kept, shipping 5.95 taxed as the highest rate: German 19 % out of it
        //    (⌊595 × 19/119⌉ = 95, net 500), Austrian 20 % on: 100, gross 600.
        Case {
            name: "DE shop, net kept, shipping at the highest rate",
            settings: settings(true, CrossBorderPrices::KeepNet, PerLine, ShippingTax::HighestRate),
            rates: ResolvedRates { origin: Some(germany().classes), ..austria() },
            currency: eur,
            lines: vec![(RED, 1070), (STD, 11900)],
            shipping: Some(595),
            want_lines: vec![(1000, 100, 1100), (10000, 2000, 12000)],
            want_shipping: Some((500, 100, 600)),
            want_taxes: vec![("USt. 10 %", 100), ("USt. 20 %", 2100)],
            want_totals: (11500, 2200, 13700),
        },
        // 6. US sales tax, exclusive, New York City, stacked state + city + MCTD, delivery taxed.
        //    19.99: 4 % ⌊79.96⌉ = 80, 4.5 % ⌊89.955⌉ = 90, 0.375 % ⌊7.496⌉ = 7 → 177, gross 2176.
        //    Shipping 5.00: 4 % 20, 4.5 % ⌊22.5⌉ = 23, 0.375 % ⌊1.875⌉ = 2 → 45, gross 545.
        //    By rate: 100, 113, 9 = 222; total 2176 + 545 = 2721.
        Case {
            name: "US exclusive, NYC stacked rates, shipping taxed",
            settings: us(PerLine),
            rates: new_york_city(),
            currency: Currency::USD,
            lines: vec![(STD, 1999)],
            shipping: Some(500),
            want_lines: vec![(1999, 177, 2176)],
            want_shipping: Some((500, 45, 545)),
            want_taxes: vec![("NY State", 100), ("New York City", 113), ("MCTD", 9)],
            want_totals: (2499, 222, 2721),
        },
        // 7. The same basket shipped to California (7.25 %; delivery by common carrier not taxed):
        //    ⌊1999 × 0.0725⌉ = ⌊144.93⌉ = 145; shipping 500 untaxed; total 1999 + 145 + 500 = 2644.
        Case {
            name: "US exclusive, California, shipping not taxed",
            settings: us(PerLine),
            rates: zone(vec![r("CA State", 72_500)], vec![], false),
            currency: Currency::USD,
            lines: vec![(STD, 1999)],
            shipping: Some(500),
            want_lines: vec![(1999, 145, 2144)],
            want_shipping: Some((500, 0, 500)),
            want_taxes: vec![("CA State", 145)],
            want_totals: (2499, 145, 2644),
        },
        // 8. Upstate New York, state 4 % only, delivery taxed: ⌊79.96⌉ = 80; shipping 20.
        Case {
            name: "US exclusive, New York State only, shipping taxed",
            settings: us(PerLine),
            rates: zone(vec![r("NY State", 40_000)], vec![], true),
            currency: Currency::USD,
            lines: vec![(STD, 1999)],
            shipping: Some(500),
            want_lines: vec![(1999, 80, 2079)],
            want_shipping: Some((500, 20, 520)),
            want_taxes: vec![("NY State", 100)],
            want_totals: (2499, 100, 2599),
        },
        // 9. NYC stacked rates rounded per total, three lines of 3.33: per rate on 999:
        //    4 % ⌊39.96⌉ = 40, 4.5 % ⌊44.955⌉ = 45, 0.375 % ⌊3.746⌉ = 4 → 89. Each rate spread
        //    over equal lines: 40 → 14/13/13, 45 → 15/15/15, 4 → 2/1/1 (ties to the earlier line):
        //    line taxes 31, 29, 29. (Per line it would be 13 + 15 + 1 = 29 each, 87.)
        Case {
            name: "US exclusive, NYC stacked rates, per total",
            settings: us(PerTotal),
            rates: new_york_city(),
            currency: Currency::USD,
            lines: vec![(STD, 333), (STD, 333), (STD, 333)],
            shipping: None,
            want_lines: vec![(333, 31, 364), (333, 29, 362), (333, 29, 362)],
            want_shipping: None,
            want_taxes: vec![("NY State", 40), ("New York City", 45), ("MCTD", 4)],
            want_totals: (999, 89, 1088),
        },
        // 10. The same three lines per line: 4 % ⌊13.32⌉ = 13, 4.5 % ⌊14.985⌉ = 15, 0.375 %
        //     ⌊1.249⌉ = 1 → 29 each, 87 in all: two cents less than per total.
        Case {
            name: "US exclusive, NYC stacked rates, per line",
            settings: us(PerLine),
            rates: new_york_city(),
            currency: Currency::USD,
            lines: vec![(STD, 333), (STD, 333), (STD, 333)],
            shipping: None,
            want_lines: vec![(333, 29, 362), (333, 29, 362), (333, 29, 362)],
            want_shipping: None,
            want_taxes: vec![("NY State", 39), ("New York City", 45), ("MCTD", 3)],
            want_totals: (999, 87, 1086),
        },
        // 11. JPY has no minor unit. Inclusive 10 % and 8 % (food): ¥1,000 → ⌊1000 × 10/110⌉ =
        //     ⌊90.91⌉ = 91, net 909; ¥298 → ⌊298 × 8/108⌉ = ⌊22.07⌉ = 22, net 276; shipping ¥500
        //     at the highest rate 10 % → ⌊45.45⌉ = 45, net 455.
        Case {
            name: "JPY inclusive, 10 % and 8 %",
            settings: eu(PerLine),
            rates: zone(vec![r("消費税 10%", 100_000)], vec![r("消費税 8%", 80_000)], true),
            currency: Currency::JPY,
            lines: vec![(STD, 1000), (RED, 298)],
            shipping: Some(500),
            want_lines: vec![(909, 91, 1000), (276, 22, 298)],
            want_shipping: Some((455, 45, 500)),
            want_taxes: vec![("消費税 10%", 136), ("消費税 8%", 22)],
            want_totals: (1640, 158, 1798),
        },
        // 12. JPY exclusive per line: three ¥333 lines at 10 %: ⌊33.3⌉ = 33 each, ¥99.
        Case {
            name: "JPY exclusive, per line",
            settings: us(PerLine),
            rates: zone(vec![r("消費税 10%", 100_000)], vec![], true),
            currency: Currency::JPY,
            lines: vec![(STD, 333), (STD, 333), (STD, 333)],
            shipping: None,
            want_lines: vec![(333, 33, 366), (333, 33, 366), (333, 33, 366)],
            want_shipping: None,
            want_taxes: vec![("消費税 10%", 99)],
            want_totals: (999, 99, 1098),
        },
        // 13. The same per total (Japan's invoice rule: once per rate): ⌊99.9⌉ = ¥100, spread
        //     33.33 each → 33/33/33 + ¥1 to the first (tie) = 34/33/33. One yen more than per line.
        Case {
            name: "JPY exclusive, per total",
            settings: us(PerTotal),
            rates: zone(vec![r("消費税 10%", 100_000)], vec![], true),
            currency: Currency::JPY,
            lines: vec![(STD, 333), (STD, 333), (STD, 333)],
            shipping: None,
            want_lines: vec![(333, 34, 367), (333, 33, 366), (333, 33, 366)],
            want_shipping: None,
            want_taxes: vec![("消費税 10%", 100)],
            want_totals: (999, 100, 1099),
        },
        // 14. EUR exclusive, 7 % on two lines of 1.90: per line ⌊13.3⌉ = 13 each → 26.
        Case {
            name: "EUR exclusive 7 %, per line",
            settings: settings(false, CrossBorderPrices::KeepGross, PerLine, ShippingTax::NotTaxed),
            rates: germany(),
            currency: eur,
            lines: vec![(RED, 190), (RED, 190)],
            shipping: None,
            want_lines: vec![(190, 13, 203), (190, 13, 203)],
            want_shipping: None,
            want_taxes: vec![("MwSt. 7 %", 26)],
            want_totals: (380, 26, 406),
        },
        // 15. …and per total: ⌊380 × 0.07⌉ = ⌊26.6⌉ = 27 (one cent more), spread 13.5/13.5 →
        //     14/13 (tie to the earlier line).
        Case {
            name: "EUR exclusive 7 %, per total",
            settings: settings(false, CrossBorderPrices::KeepGross, PerTotal, ShippingTax::NotTaxed),
            rates: germany(),
            currency: eur,
            lines: vec![(RED, 190), (RED, 190)],
            shipping: None,
            want_lines: vec![(190, 14, 204), (190, 13, 203)],
            want_shipping: None,
            want_taxes: vec![("MwSt. 7 %", 27)],
            want_totals: (380, 27, 407),
        },
        // 16. EUR inclusive 19 %, two lines of 1.10, per line: ⌊110 × 19/119⌉ = ⌊17.56⌉ = 18
        //     each → 36, nets 92.
        Case {
            name: "EUR inclusive 19 %, per line",
            settings: eu(PerLine),
            rates: germany(),
            currency: eur,
            lines: vec![(STD, 110), (STD, 110)],
            shipping: None,
            want_lines: vec![(92, 18, 110), (92, 18, 110)],
            want_shipping: None,
            want_taxes: vec![("MwSt. 19 %", 36)],
            want_totals: (184, 36, 220),
        },
        // 17. …per total: ⌊220 × 19/119⌉ = ⌊35.13⌉ = 35 (one cent less), spread 17.5/17.5 →
        //     18/17; nets 92 and 93. The buyer pays 2.20 either way.
        Case {
            name: "EUR inclusive 19 %, per total",
            settings: eu(PerTotal),
            rates: germany(),
            currency: eur,
            lines: vec![(STD, 110), (STD, 110)],
            shipping: None,
            want_lines: vec![(92, 18, 110), (93, 17, 110)],
            want_shipping: None,
            want_taxes: vec![("MwSt. 19 %", 35)],
            want_totals: (185, 35, 220),
        },
        // 18. Zero-rated and exempt classes are never taxed; shipping at the highest rate of the
        //     basket, which has none, is not taxed either.
        Case {
            name: "zero-rated and exempt lines, untaxed shipping",
            settings: eu(PerLine),
            rates: germany(),
            currency: eur,
            lines: vec![(ZERO, 1000), (EXEMPT, 2500)],
            shipping: Some(490),
            want_lines: vec![(1000, 0, 1000), (2500, 0, 2500)],
            want_shipping: Some((490, 0, 490)),
            want_taxes: vec![],
            want_totals: (3990, 0, 3990),
        },
        // 19. A zero-rated line next to a standard one: the standard line is taxed
        //     (⌊2380 × 19/119⌉ = 380, net 2000), the zero-rated one not; shipping 4.90 at 19 %: 78.
        Case {
            name: "zero-rated next to standard",
            settings: eu(PerLine),
            rates: germany(),
            currency: eur,
            lines: vec![(ZERO, 1000), (STD, 2380)],
            shipping: Some(490),
            want_lines: vec![(1000, 0, 1000), (2000, 380, 2380)],
            want_shipping: Some((412, 78, 490)),
            want_taxes: vec![("MwSt. 19 %", 458)],
            want_totals: (3412, 458, 3870),
        },
        // 20. An Austrian business with a VAT id buys from the German shop (reverse charge): the
        //     amounts are worked out as for anyone (119.00 gross kept: net 9917; shipping 5.90 at
        //     20 %: ⌊98.33⌉ = 98 out, net 492) and the tax dropped: the buyer pays the nets.
        Case {
            name: "reverse charge, EU B2B",
            settings: eu(PerLine),
            rates: ResolvedRates { reverse_charge: true, ..austria() },
            currency: eur,
            lines: vec![(STD, 11900)],
            shipping: Some(590),
            want_lines: vec![(9917, 0, 9917)],
            want_shipping: Some((492, 0, 492)),
            want_taxes: vec![],
            want_totals: (10409, 0, 10409),
        },
        // 21. KWD has three decimals (fils). A hypothetical 5 % VAT, exclusive, shipping as the
        //     standard class: 12.345 → ⌊617.25⌉ = 617; 0.999 → ⌊49.95⌉ = 50; 1.500 → 75.
        Case {
            name: "KWD exclusive 5 %, per line",
            settings: us(PerLine),
            rates: zone(vec![r("VAT 5 %", 50_000)], vec![], true),
            currency: Currency::KWD,
            lines: vec![(STD, 12345), (STD, 999)],
            shipping: Some(1500),
            want_lines: vec![(12345, 617, 12962), (999, 50, 1049)],
            want_shipping: Some((1500, 75, 1575)),
            want_taxes: vec![("VAT 5 %", 742)],
            want_totals: (14844, 742, 15586),
        },
        // 22. …per total: ⌊14844 × 0.05⌉ = ⌊742.2⌉ = 742 spread over 12345/999/1500:
        //     617.08/49.94/74.98 → 617/49/74 + 2 fils to the largest remainders (shipping .98,
        //     second line .94) = 617/50/75.
        Case {
            name: "KWD exclusive 5 %, per total",
            settings: us(PerTotal),
            rates: zone(vec![r("VAT 5 %", 50_000)], vec![], true),
            currency: Currency::KWD,
            lines: vec![(STD, 12345), (STD, 999)],
            shipping: Some(1500),
            want_lines: vec![(12345, 617, 12962), (999, 50, 1049)],
            want_shipping: Some((1500, 75, 1575)),
            want_taxes: vec![("VAT 5 %", 742)],
            want_totals: (14844, 742, 15586),
        },
        // 23. A custom class (books) taxed at the zone's 7 %, and shipping as the reduced class
        //     chosen in the settings: 21.40 → ⌊2140 × 7/107⌉ = 140, net 2000; shipping 3.21 →
        //     ⌊321 × 7/107⌉ = 21, net 300.
        Case {
            name: "custom class, shipping as the reduced class",
            settings: TaxSettings {
                shipping_tax: ShippingTax::TaxClass,
                shipping_tax_class_id: Some(RED),
                ..eu(PerLine)
            },
            rates: germany(),
            currency: eur,
            lines: vec![(BOOKS, 2140)],
            shipping: Some(321),
            want_lines: vec![(2000, 140, 2140)],
            want_shipping: Some((300, 21, 321)),
            want_taxes: vec![("MwSt. 7 %", 161)],
            want_totals: (2300, 161, 2461),
        },
        // 24. Shipping not taxed by the settings, though the zone would tax it.
        Case {
            name: "shipping not taxed by the settings",
            settings: settings(true, CrossBorderPrices::KeepGross, PerLine, ShippingTax::NotTaxed),
            rates: germany(),
            currency: eur,
            lines: vec![(STD, 2380)],
            shipping: Some(490),
            want_lines: vec![(2000, 380, 2380)],
            want_shipping: Some((490, 0, 490)),
            want_taxes: vec![("MwSt. 19 %", 380)],
            want_totals: (2490, 380, 2870),
        },
        // 25. No zone matched the destination (a shop without rates there): nothing is taxed.
        Case {
            name: "no zone: nothing taxed",
            settings: us(PerLine),
            rates: ResolvedRates {
                zone: None,
                classes: classes(vec![], vec![]),
                shipping_taxable: false,
                ..Default::default()
            },
            currency: Currency::USD,
            lines: vec![(STD, 1999)],
            shipping: Some(500),
            want_lines: vec![(1999, 0, 1999)],
            want_shipping: Some((500, 0, 500)),
            want_taxes: vec![],
            want_totals: (2499, 0, 2499),
        },
        // 26. Net kept, but the origin has no rate for the class (it was untaxed at home): the
        //     entered price is the net; Austria adds 20 %: 1000 → 200, 1200.
        Case {
            name: "net kept, untaxed at origin",
            settings: settings(true, CrossBorderPrices::KeepNet, PerLine, ShippingTax::NotTaxed),
            rates: ResolvedRates { origin: Some(classes(vec![], vec![])), ..austria() },
            currency: eur,
            lines: vec![(STD, 1000)],
            shipping: None,
            want_lines: vec![(1000, 200, 1200)],
            want_shipping: None,
            want_taxes: vec![("USt. 20 %", 200)],
            want_totals: (1000, 200, 1200),
        },
    ]
}

#[test]
fn hand_computed_tax_tables() {
    let cases = cases();
    assert!(cases.len() >= 20);
    for case in cases {
        let c = case.currency;
        let m = |amount: i64| Money::new(amount, c);
        let lines: Vec<TaxableLine> = case
            .lines
            .iter()
            .enumerate()
            .map(|(i, (class, amount))| TaxableLine { key: format!("l{i}"), amount: m(*amount), tax_class: *class })
            .collect();
        let got = compute(&case.settings, &case.rates, &lines, case.shipping.map(m))
            .unwrap_or_else(|e| panic!("{}: {e:?}", case.name));
        let name = case.name;
        assert_eq!(got.currency, c, "{name}");
        let got_lines: Vec<(i64, i64, i64)> =
            got.lines.iter().map(|l| (l.net.amount, l.tax.amount, l.gross.amount)).collect();
        assert_eq!(got_lines, case.want_lines, "{name}: lines (net, tax, gross)");
        assert_eq!(
            got.shipping.map(|s| (s.net.amount, s.tax.amount, s.gross.amount)),
            case.want_shipping,
            "{name}: shipping"
        );
        let got_taxes: Vec<(&str, i64)> = got.taxes.iter().map(|t| (t.name.as_str(), t.amount.amount)).collect();
        assert_eq!(got_taxes, case.want_taxes, "{name}: taxes by rate");
        assert_eq!(
            (got.net_total.amount, got.tax_total.amount, got.total.amount),
            case.want_totals,
            "{name}: net, tax, total"
        );
        // What every breakdown owes its reader, whatever the case.
        for l in &got.lines {
            assert_eq!(l.net.amount + l.tax.amount, l.gross.amount, "{name}: net + tax = gross");
        }
        let line_sum = |f: fn(&super::totals::TaxedLine) -> i64| got.lines.iter().map(f).sum::<i64>();
        assert_eq!(got.subtotal.net.amount, line_sum(|l| l.net.amount), "{name}");
        assert_eq!(got.subtotal.tax.amount, line_sum(|l| l.tax.amount), "{name}");
        assert_eq!(got.subtotal.gross.amount, line_sum(|l| l.gross.amount), "{name}");
        let shipping_tax = got.shipping.map_or(0, |s| s.tax.amount);
        assert_eq!(got.tax_total.amount, got.subtotal.tax.amount + shipping_tax, "{name}: tax total");
        if !got.reverse_charge {
            assert_eq!(got.taxes.iter().map(|t| t.amount.amount).sum::<i64>(), got.tax_total.amount, "{name}: by rate");
        }
        assert_eq!(got.total.amount, got.net_total.amount + got.tax_total.amount, "{name}: total");
    }
}

#[test]
fn inclusive_prices_keep_what_the_shopper_pays_in_every_rounding() {
    // Whatever the rounding, a tax-inclusive shop charges what it shows (gross kept).
    for rounding in [TaxRounding::PerLine, TaxRounding::PerTotal] {
        let lines: Vec<TaxableLine> = (1..40)
            .map(|i| TaxableLine {
                key: i.to_string(),
                amount: Money::new(i * 37 + 1, Currency::EUR),
                tax_class: if i % 3 == 0 { RED } else { STD },
            })
            .collect();
        let got = compute(&eu(rounding), &germany(), &lines, Some(Money::new(499, Currency::EUR))).unwrap();
        for (line, taxed) in lines.iter().zip(&got.lines) {
            assert_eq!(taxed.gross, line.amount);
        }
        assert_eq!(got.total.amount, lines.iter().map(|l| l.amount.amount).sum::<i64>() + 499);
    }
}

#[test]
fn bad_baskets_are_refused_naming_the_field() {
    let field = |e: crate::PricingError| match e {
        crate::PricingError::Common(agora_kernel::CommonError::Invalid(errors)) => errors[0].field.clone(),
        other => panic!("{other:?}"),
    };
    let line = |amount: Money, class| TaxableLine { key: "a".into(), amount, tax_class: class };
    let s = eu(TaxRounding::PerLine);
    let de = germany();
    let e = compute(&s, &de, &[line(Money::new(1, Currency::EUR), STD), line(Money::new(1, Currency::USD), STD)], None);
    assert_eq!(field(e.unwrap_err()), "lines[1].amount.currency");
    let e = compute(&s, &de, &[line(Money::new(-1, Currency::EUR), STD)], None);
    assert_eq!(field(e.unwrap_err()), "lines[0].amount.amount");
    let unknown = TaxClassId::from_uuid(uuid::Uuid::from_u128(42));
    assert_eq!(
        field(compute(&s, &de, &[line(Money::new(1, Currency::EUR), unknown)], None).unwrap_err()),
        "lines[0].tax_class_id"
    );
    let e = compute(&s, &de, &[line(Money::new(1, Currency::EUR), STD)], Some(Money::new(1, Currency::JPY)));
    assert_eq!(field(e.unwrap_err()), "shipping.currency");
    assert_eq!(field(compute(&s, &de, &[], None).unwrap_err()), "lines");
}

#[test]
fn the_reverse_charge_applies_between_eu_businesses_across_a_border() {
    assert!(reverse_charge(Some("DE"), "AT", "AT"), "German shop, Austrian business, goods to Austria");
    assert!(reverse_charge(Some("DE"), "AT", "FR"), "goods to another member state");
    assert!(!reverse_charge(Some("DE"), "AT", "DE"), "goods stay in Germany: German VAT");
    assert!(!reverse_charge(Some("DE"), "DE", "AT"), "a German VAT id at a German shop");
    assert!(!reverse_charge(Some("US"), "AT", "AT"), "the shop is not in the EU");
    assert!(!reverse_charge(Some("DE"), "AT", "CH"), "an export outside the EU is another matter");
    assert!(!reverse_charge(None, "AT", "AT"), "no origin set");
}

#[test]
fn percentages_are_exact() {
    use super::{parse_percent, totals::percent_text};
    assert_eq!(parse_percent("p", "19").unwrap(), 190_000);
    assert_eq!(parse_percent("p", "8.875").unwrap(), 88_750);
    assert_eq!(parse_percent("p", "0.375").unwrap(), 3_750);
    assert_eq!(parse_percent("p", "100").unwrap(), 1_000_000);
    assert_eq!(parse_percent("p", "0").unwrap(), 0);
    for bad in ["100.01", "101", "-1", "8.87501", "abc", "", "8.", ".5", "1e2", "19 %"] {
        assert!(parse_percent("p", bad).is_err(), "{bad}");
    }
    assert_eq!(percent_text(190_000), "19");
    assert_eq!(percent_text(88_750), "8.875");
    assert_eq!(percent_text(3_750), "0.375");
}
