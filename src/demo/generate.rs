//! The demo catalog's content, made up deterministically: the same seed and index give the same
//! product on every machine and every run, which is what lets a second `agora demo` recognise
//! what the first one loaded (by SKU) and add nothing.
//!
//! A product is a *line* (a made-up range name such as "Fjord") and a *kind of thing* of a leaf
//! category ("Linen Shirt" / "Leinenhemd"); more products than lines × kinds get an edition
//! ("Fjord Linen Shirt II"), so names and slugs stay unique in both languages at any count.

use agora_catalog::{
    AttributeDefinition, AttributeKind, CategoryId, NewProduct, NewVariant, PriceInput, ProductOption, ProductStatus,
    ProductTypeId,
};
use agora_kernel::values::LocalizedText;
use serde_json::json;
use std::collections::BTreeMap;

/// SplitMix64: tiny, and its sequence never changes with a dependency upgrade (a library RNG's
/// may), so the catalog a seed makes stays the same.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.next_u64() % (hi - lo)
        }
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as u64) as usize]
    }

    /// True `percent` times in a hundred.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.range(0, 100) < percent
    }
}

/// The three kinds of shop floor, each with its product type, options and wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    Apparel,
    Home,
    Electronics,
}

/// A kind of thing a leaf category sells, in English and German, and what it is made of.
struct Thing {
    en: &'static str,
    de: &'static str,
    material: &'static str,
}

const fn t(en: &'static str, de: &'static str, material: &'static str) -> Thing {
    Thing { en, de, material }
}

/// A bottom-level category: what it sells, its SKU prefix, its price band (whole units of the
/// default currency) and the weight of one item in grams.
struct Leaf {
    slug: &'static str,
    en: &'static str,
    de: &'static str,
    sku: &'static str,
    family: Family,
    price: (u64, u64),
    grams: (u64, u64),
    things: &'static [Thing],
}

struct Branch {
    slug: &'static str,
    en: &'static str,
    de: &'static str,
    leaves: &'static [Leaf],
}

struct Department {
    slug: &'static str,
    en: &'static str,
    de: &'static str,
    branches: &'static [Branch],
}

use Family::{Apparel, Electronics, Home};

const TREE: &[Department] = &[
    Department {
        slug: "clothing",
        en: "Clothing",
        de: "Kleidung",
        branches: &[
            Branch {
                slug: "women",
                en: "Women",
                de: "Damen",
                leaves: &[
                    Leaf {
                        slug: "women-tops",
                        en: "Tops",
                        de: "Oberteile",
                        sku: "WTOP",
                        family: Apparel,
                        price: (19, 59),
                        grams: (150, 260),
                        things: &[
                            t("Organic Cotton T-Shirt", "Bio-Baumwoll-T-Shirt", "cotton"),
                            t("Linen Blouse", "Leinenbluse", "linen"),
                            t("Striped Long-Sleeve", "Gestreiftes Langarmshirt", "cotton"),
                            t("Ribbed Tank Top", "Geripptes Trägertop", "cotton"),
                            t("Silk Camisole", "Seidentop", "silk"),
                        ],
                    },
                    Leaf {
                        slug: "women-dresses",
                        en: "Dresses",
                        de: "Kleider",
                        sku: "WDRS",
                        family: Apparel,
                        price: (49, 149),
                        grams: (250, 450),
                        things: &[
                            t("Wrap Dress", "Wickelkleid", "viscose"),
                            t("Linen Midi Dress", "Leinen-Midikleid", "linen"),
                            t("Shirt Dress", "Hemdblusenkleid", "cotton"),
                            t("Knit Dress", "Strickkleid", "merino"),
                        ],
                    },
                    Leaf {
                        slug: "women-knitwear",
                        en: "Knitwear",
                        de: "Strick",
                        sku: "WKNT",
                        family: Apparel,
                        price: (59, 189),
                        grams: (300, 600),
                        things: &[
                            t("Merino Sweater", "Merinopullover", "merino"),
                            t("Cashmere Cardigan", "Kaschmir-Cardigan", "cashmere"),
                            t("Cable-Knit Jumper", "Zopfstrickpullover", "wool"),
                            t("Wool Turtleneck", "Rollkragenpullover", "wool"),
                        ],
                    },
                ],
            },
            Branch {
                slug: "men",
                en: "Men",
                de: "Herren",
                leaves: &[
                    Leaf {
                        slug: "men-shirts",
                        en: "Shirts",
                        de: "Hemden",
                        sku: "MSHT",
                        family: Apparel,
                        price: (39, 99),
                        grams: (220, 350),
                        things: &[
                            t("Oxford Shirt", "Oxfordhemd", "cotton"),
                            t("Flannel Shirt", "Flanellhemd", "cotton"),
                            t("Denim Shirt", "Jeanshemd", "denim"),
                            t("Linen Shirt", "Leinenhemd", "linen"),
                        ],
                    },
                    Leaf {
                        slug: "men-trousers",
                        en: "Trousers",
                        de: "Hosen",
                        sku: "MTRS",
                        family: Apparel,
                        price: (49, 129),
                        grams: (400, 700),
                        things: &[
                            t("Chino Trousers", "Chinohose", "cotton"),
                            t("Slim Jeans", "Slim-Jeans", "denim"),
                            t("Cargo Pants", "Cargohose", "cotton"),
                            t("Corduroy Trousers", "Cordhose", "corduroy"),
                        ],
                    },
                    Leaf {
                        slug: "men-jackets",
                        en: "Jackets",
                        de: "Jacken",
                        sku: "MJKT",
                        family: Apparel,
                        price: (89, 299),
                        grams: (600, 1400),
                        things: &[
                            t("Rain Jacket", "Regenjacke", "recycled polyester"),
                            t("Quilted Jacket", "Steppjacke", "recycled polyester"),
                            t("Denim Jacket", "Jeansjacke", "denim"),
                            t("Wool Overcoat", "Wollmantel", "wool"),
                        ],
                    },
                ],
            },
            Branch {
                slug: "accessories",
                en: "Accessories",
                de: "Accessoires",
                leaves: &[
                    Leaf {
                        slug: "scarves",
                        en: "Scarves",
                        de: "Schals",
                        sku: "ASCF",
                        family: Apparel,
                        price: (25, 89),
                        grams: (80, 250),
                        things: &[
                            t("Wool Scarf", "Wollschal", "wool"),
                            t("Silk Scarf", "Seidentuch", "silk"),
                            t("Chunky Knit Scarf", "Grobstrickschal", "merino"),
                        ],
                    },
                    Leaf {
                        slug: "hats-caps",
                        en: "Hats & Caps",
                        de: "Mützen & Kappen",
                        sku: "AHAT",
                        family: Apparel,
                        price: (19, 49),
                        grams: (60, 140),
                        things: &[
                            t("Beanie", "Strickmütze", "merino"),
                            t("Baseball Cap", "Baseballkappe", "cotton"),
                            t("Bucket Hat", "Fischerhut", "cotton"),
                        ],
                    },
                ],
            },
        ],
    },
    Department {
        slug: "home",
        en: "Home",
        de: "Wohnen",
        branches: &[
            Branch {
                slug: "kitchen",
                en: "Kitchen",
                de: "Küche",
                leaves: &[
                    Leaf {
                        slug: "cookware",
                        en: "Cookware",
                        de: "Kochgeschirr",
                        sku: "HCKW",
                        family: Home,
                        price: (29, 199),
                        grams: (900, 4500),
                        things: &[
                            t("Cast Iron Skillet", "Gusseisenpfanne", "cast iron"),
                            t("Stainless Saucepan", "Edelstahl-Kochtopf", "stainless steel"),
                            t("Enamel Dutch Oven", "Emaillierter Bräter", "cast iron"),
                            t("Carbon Steel Wok", "Wok aus Karbonstahl", "carbon steel"),
                        ],
                    },
                    Leaf {
                        slug: "tableware",
                        en: "Tableware",
                        de: "Geschirr",
                        sku: "HTBL",
                        family: Home,
                        price: (12, 89),
                        grams: (250, 2400),
                        things: &[
                            t("Stoneware Plate Set", "Steingut-Tellerset", "stoneware"),
                            t("Ceramic Mug", "Keramikbecher", "ceramic"),
                            t("Serving Bowl", "Servierschüssel", "stoneware"),
                            t("Glass Tumbler Set", "Trinkglas-Set", "glass"),
                        ],
                    },
                ],
            },
            Branch {
                slug: "living",
                en: "Living",
                de: "Wohnzimmer",
                leaves: &[
                    Leaf {
                        slug: "cushions-throws",
                        en: "Cushions & Throws",
                        de: "Kissen & Decken",
                        sku: "HCSH",
                        family: Home,
                        price: (24, 129),
                        grams: (300, 1500),
                        things: &[
                            t("Linen Cushion Cover", "Leinen-Kissenbezug", "linen"),
                            t("Wool Throw", "Wolldecke", "wool"),
                            t("Velvet Cushion", "Samtkissen", "velvet"),
                        ],
                    },
                    Leaf {
                        slug: "lighting",
                        en: "Lighting",
                        de: "Leuchten",
                        sku: "HLGT",
                        family: Home,
                        price: (39, 249),
                        grams: (800, 4000),
                        things: &[
                            t("Table Lamp", "Tischleuchte", "ceramic"),
                            t("Floor Lamp", "Stehleuchte", "stainless steel"),
                            t("Rattan Pendant Light", "Rattan-Pendelleuchte", "rattan"),
                        ],
                    },
                ],
            },
            Branch {
                slug: "bath",
                en: "Bath",
                de: "Bad",
                leaves: &[Leaf {
                    slug: "towels",
                    en: "Towels",
                    de: "Handtücher",
                    sku: "HTWL",
                    family: Home,
                    price: (15, 79),
                    grams: (300, 1200),
                    things: &[
                        t("Bath Towel", "Badetuch", "cotton"),
                        t("Hand Towel", "Handtuch", "cotton"),
                        t("Waffle Bathrobe", "Waffelpiqué-Bademantel", "cotton"),
                    ],
                }],
            },
        ],
    },
    Department {
        slug: "electronics",
        en: "Electronics",
        de: "Elektronik",
        branches: &[
            Branch {
                slug: "audio",
                en: "Audio",
                de: "Audio",
                leaves: &[
                    Leaf {
                        slug: "headphones",
                        en: "Headphones",
                        de: "Kopfhörer",
                        sku: "EHPH",
                        family: Electronics,
                        price: (49, 349),
                        grams: (40, 320),
                        things: &[
                            t("Wireless Headphones", "Kabellose Kopfhörer", "wireless"),
                            t("In-Ear Earbuds", "In-Ear-Ohrhörer", "wireless"),
                            t("Studio Headphones", "Studiokopfhörer", "wired"),
                        ],
                    },
                    Leaf {
                        slug: "speakers",
                        en: "Speakers",
                        de: "Lautsprecher",
                        sku: "ESPK",
                        family: Electronics,
                        price: (39, 499),
                        grams: (300, 5000),
                        things: &[
                            t("Bluetooth Speaker", "Bluetooth-Lautsprecher", "wireless"),
                            t("Bookshelf Speakers", "Regallautsprecher", "wired"),
                            t("Smart Speaker", "Smarter Lautsprecher", "wireless"),
                        ],
                    },
                ],
            },
            Branch {
                slug: "computing",
                en: "Computing",
                de: "Computer",
                leaves: &[
                    Leaf {
                        slug: "keyboards",
                        en: "Keyboards",
                        de: "Tastaturen",
                        sku: "EKBD",
                        family: Electronics,
                        price: (29, 199),
                        grams: (400, 1200),
                        things: &[
                            t("Mechanical Keyboard", "Mechanische Tastatur", "wired"),
                            t("Compact Wireless Keyboard", "Kompakte Funktastatur", "wireless"),
                            t("Ergonomic Keyboard", "Ergonomische Tastatur", "wired"),
                        ],
                    },
                    Leaf {
                        slug: "mice",
                        en: "Mice",
                        de: "Mäuse",
                        sku: "EMSE",
                        family: Electronics,
                        price: (19, 129),
                        grams: (60, 150),
                        things: &[
                            t("Wireless Mouse", "Kabellose Maus", "wireless"),
                            t("Vertical Mouse", "Vertikalmaus", "wired"),
                            t("Gaming Mouse", "Gaming-Maus", "wired"),
                        ],
                    },
                ],
            },
            Branch {
                slug: "phone-accessories",
                en: "Phone Accessories",
                de: "Handyzubehör",
                leaves: &[
                    Leaf {
                        slug: "chargers",
                        en: "Chargers",
                        de: "Ladegeräte",
                        sku: "ECHG",
                        family: Electronics,
                        price: (15, 79),
                        grams: (50, 350),
                        things: &[
                            t("USB-C Charger", "USB-C-Ladegerät", "wired"),
                            t("Wireless Charging Pad", "Kabelloses Ladepad", "wireless"),
                            t("Power Bank", "Powerbank", "wired"),
                        ],
                    },
                    Leaf {
                        slug: "phone-cases",
                        en: "Phone Cases",
                        de: "Handyhüllen",
                        sku: "ECAS",
                        family: Electronics,
                        price: (12, 59),
                        grams: (25, 90),
                        things: &[
                            t("Leather Phone Case", "Handyhülle aus Leder", "wired"),
                            t("Silicone Phone Case", "Silikon-Handyhülle", "wired"),
                            t("Clear Phone Case", "Transparente Handyhülle", "wired"),
                        ],
                    },
                ],
            },
        ],
    },
];

/// Range names; with the kinds of things they make every product's name.
const LINES: &[&str] = &[
    "Aurora", "Fjord", "Linden", "Harbor", "Meadow", "Sierra", "Alder", "Birch", "Cedar", "Dune", "Ember", "Flint",
    "Grove", "Heath", "Iris", "Juniper", "Kestrel", "Lark", "Maple", "Nord", "Oakley", "Pebble", "Quill", "Reef",
    "Sage", "Tundra", "Umber", "Vale", "Willow", "Yarrow", "Zephyr", "Atlas", "Bayside", "Cove", "Drift", "Elmwood",
    "Fern", "Glen", "Haven", "Isla",
];

/// A colour: its attribute value, its names, and how the generated image paints it.
pub struct Colour {
    pub code: &'static str,
    pub en: &'static str,
    pub de: &'static str,
    pub rgb: [u8; 3],
}

const fn c(code: &'static str, en: &'static str, de: &'static str, rgb: [u8; 3]) -> Colour {
    Colour { code, en, de, rgb }
}

pub const COLOURS: &[Colour] = &[
    c("black", "Black", "Schwarz", [38, 38, 42]),
    c("white", "White", "Weiß", [236, 234, 228]),
    c("navy", "Navy", "Marineblau", [31, 52, 94]),
    c("olive", "Olive", "Oliv", [107, 114, 58]),
    c("rust", "Rust", "Rost", [170, 78, 42]),
    c("sand", "Sand", "Sand", [214, 190, 150]),
    c("sage", "Sage", "Salbei", [150, 170, 140]),
    c("burgundy", "Burgundy", "Bordeaux", [122, 30, 52]),
    c("sky", "Sky Blue", "Himmelblau", [126, 178, 221]),
    c("charcoal", "Charcoal", "Anthrazit", [70, 72, 78]),
    c("mustard", "Mustard", "Senfgelb", [210, 160, 40]),
    c("blush", "Blush", "Rosé", [232, 180, 176]),
];

/// Materials (attribute value) with their English and German names.
const MATERIALS: &[(&str, &str, &str)] = &[
    ("cotton", "cotton", "Baumwolle"),
    ("linen", "linen", "Leinen"),
    ("wool", "wool", "Wolle"),
    ("merino", "merino wool", "Merinowolle"),
    ("cashmere", "cashmere", "Kaschmir"),
    ("silk", "silk", "Seide"),
    ("viscose", "viscose", "Viskose"),
    ("denim", "denim", "Denim"),
    ("corduroy", "corduroy", "Cord"),
    ("recycled polyester", "recycled polyester", "recyceltem Polyester"),
    ("cast iron", "cast iron", "Gusseisen"),
    ("stainless steel", "stainless steel", "Edelstahl"),
    ("carbon steel", "carbon steel", "Karbonstahl"),
    ("stoneware", "stoneware", "Steinzeug"),
    ("ceramic", "ceramic", "Keramik"),
    ("glass", "glass", "Glas"),
    ("velvet", "velvet", "Samt"),
    ("rattan", "rattan", "Rattan"),
];

const FITS: &[(&str, &str, &str)] =
    &[("regular", "a regular", "normaler"), ("slim", "a slim", "schmaler"), ("relaxed", "a relaxed", "lockerer")];

const SIZES: &[&str] = &["S", "M", "L", "XL"];

/// The second currency the demo sells in (besides the shop's default).
pub fn second_currency(default: &str) -> &'static str {
    if default.eq_ignore_ascii_case("EUR") {
        "USD"
    } else {
        "EUR"
    }
}

/// A category to create: parents come before their children.
pub struct CategorySpec {
    pub slug: &'static str,
    pub parent: Option<&'static str>,
    pub en: &'static str,
    pub de: &'static str,
    pub position: i32,
}

/// The whole tree, three levels, parents first.
pub fn categories() -> Vec<CategorySpec> {
    let mut out = Vec::new();
    for (d, dept) in TREE.iter().enumerate() {
        out.push(CategorySpec { slug: dept.slug, parent: None, en: dept.en, de: dept.de, position: d as i32 });
        for (b, branch) in dept.branches.iter().enumerate() {
            out.push(CategorySpec {
                slug: branch.slug,
                parent: Some(dept.slug),
                en: branch.en,
                de: branch.de,
                position: b as i32,
            });
            for (l, leaf) in branch.leaves.iter().enumerate() {
                out.push(CategorySpec {
                    slug: leaf.slug,
                    parent: Some(branch.slug),
                    en: leaf.en,
                    de: leaf.de,
                    position: l as i32,
                });
            }
        }
    }
    out
}

/// The bottom-level categories' slugs (the storefront's category pages of the benchmark).
pub fn leaf_category_slugs() -> Vec<&'static str> {
    leaves().map(|leaf| leaf.slug).collect()
}

fn leaves() -> impl Iterator<Item = &'static Leaf> {
    TREE.iter().flat_map(|d| d.branches.iter()).flat_map(|b| b.leaves.iter())
}

/// Every (leaf, thing) pair, in a fixed order: consecutive products walk through all of them,
/// so even a small catalog has something in every category.
fn kinds() -> Vec<(&'static Leaf, &'static Thing)> {
    leaves().flat_map(|leaf| leaf.things.iter().map(move |thing| (leaf, thing))).collect()
}

pub fn text(en: &str, de: &str) -> LocalizedText {
    let texts = BTreeMap::from([("en".to_string(), en.to_string()), ("de".to_string(), de.to_string())]);
    #[allow(clippy::expect_used)] // two non-empty texts in known locales
    LocalizedText::new(texts).expect("a text in en and de")
}

/// A product type to create, by family.
pub struct ProductTypeSpec {
    pub family: Family,
    pub name: &'static str,
    pub attributes: Vec<AttributeDefinition>,
}

fn attribute(code: &str, en: &str, de: &str, kind: AttributeKind, options: &[&str]) -> AttributeDefinition {
    AttributeDefinition {
        code: code.into(),
        name: text(en, de),
        kind,
        options: options.iter().map(|o| o.to_string()).collect(),
        filterable: true,
    }
}

pub fn product_types() -> Vec<ProductTypeSpec> {
    let colours: Vec<&str> = COLOURS.iter().map(|c| c.code).collect();
    let materials = |family: Family| -> Vec<&str> {
        let mut used: Vec<&str> =
            kinds().into_iter().filter(|(leaf, _)| leaf.family == family).map(|(_, thing)| thing.material).collect();
        used.sort_unstable();
        used.dedup();
        used
    };
    let fits: Vec<&str> = FITS.iter().map(|f| f.0).collect();
    vec![
        ProductTypeSpec {
            family: Apparel,
            name: "Apparel",
            attributes: vec![
                attribute("colour", "Colour", "Farbe", AttributeKind::Select, &colours),
                attribute("material", "Material", "Material", AttributeKind::Select, &materials(Apparel)),
                attribute("fit", "Fit", "Passform", AttributeKind::Select, &fits),
                attribute("organic", "Organic", "Bio", AttributeKind::Boolean, &[]),
            ],
        },
        ProductTypeSpec {
            family: Home,
            name: "Home goods",
            attributes: vec![
                attribute("colour", "Colour", "Farbe", AttributeKind::Select, &colours),
                attribute("material", "Material", "Material", AttributeKind::Select, &materials(Home)),
                attribute("dishwasher_safe", "Dishwasher safe", "Spülmaschinenfest", AttributeKind::Boolean, &[]),
            ],
        },
        ProductTypeSpec {
            family: Electronics,
            name: "Electronics",
            attributes: vec![
                attribute("colour", "Colour", "Farbe", AttributeKind::Select, &colours),
                attribute("wireless", "Wireless", "Kabellos", AttributeKind::Boolean, &[]),
                AttributeDefinition {
                    filterable: false,
                    ..attribute("warranty_years", "Warranty (years)", "Garantie (Jahre)", AttributeKind::Number, &[])
                },
            ],
        },
    ]
}

/// What [`product`] needs from the shop: its currencies, and the ids the catalog gave the
/// categories (by slug) and product types (by family).
pub struct Context {
    pub seed: u64,
    pub default_currency: String,
    pub categories: BTreeMap<String, CategoryId>,
    pub product_types: Vec<(Family, ProductTypeId)>,
    /// Every variant gets this many (the benchmark's 3); the natural count (3 or 4) when `None`.
    pub variants: Option<usize>,
    /// Drafts, archived and scheduled products among the active ones (the demo), or all active (the benchmark).
    pub mixed_statuses: bool,
}

/// One generated product: what to create, and what its picture shows.
pub struct Generated {
    pub new: NewProduct,
    /// The first variant's SKU: how a later run recognises the product.
    pub key_sku: String,
    pub colour: &'static Colour,
    pub family: Family,
    /// The product's index in its kind (the picture's shape varies with it).
    pub shape: u64,
}

fn title(en: &str, edition: u64) -> String {
    const ROMAN: &[&str] = &["", " II", " III", " IV", " V", " VI", " VII", " VIII", " IX", " X"];
    match ROMAN.get(edition as usize) {
        Some(suffix) => format!("{en}{suffix}"),
        None => format!("{en} {}", edition + 1),
    }
}

/// The `index`th product of the catalog.
pub fn product(ctx: &Context, index: u64) -> Generated {
    let kinds = kinds();
    let kind_count = kinds.len() as u64;
    let line_count = LINES.len() as u64;
    let (leaf, thing) = kinds[(index % kind_count) as usize];
    let round = index / kind_count;
    // Each kind walks the lines from its own starting point, so neighbouring products differ.
    let line = LINES[((round + (index % kind_count) * 7) % line_count) as usize];
    let edition = round / line_count;
    let mut rng = Rng::new(ctx.seed ^ index.wrapping_mul(0x2545_F491_4F6C_DD1D));

    let colour = rng.pick(COLOURS);
    let (_, material_en, material_de) =
        MATERIALS.iter().find(|m| m.0 == thing.material).copied().unwrap_or(("", "", ""));
    let name_en = title(&format!("{line} {}", thing.en), edition);
    let name_de = title(&format!("{line} {}", thing.de), edition);

    // Prices: a band per category, ending in .99; the second currency a little below.
    let whole = rng.range(leaf.price.0, leaf.price.1 + 1);
    let amount = (whole * 100 - 1) as i64;
    let second = ((whole * 93 / 100).max(2) * 100 - 5) as i64;
    let on_sale = rng.chance(18);
    let compare = |amount: i64| (amount + 1) * 5 / 4 / 100 * 100 + 99 - 100;
    let prices = |extra: i64| {
        let (a, b) = (amount + extra, second + extra);
        vec![
            PriceInput {
                amount: a,
                currency: ctx.default_currency.clone(),
                compare_at: on_sale.then(|| compare(a)).filter(|c| *c > a),
            },
            PriceInput {
                amount: b,
                currency: second_currency(&ctx.default_currency).into(),
                compare_at: on_sale.then(|| compare(b)).filter(|c| *c > b),
            },
        ]
    };

    // Variants: sizes for clothes (one colour), colours for everything else.
    let mut attributes = BTreeMap::from([("colour".to_string(), json!(colour.code))]);
    let mut tags: Vec<String> = Vec::new();
    let (options, choices): (Vec<ProductOption>, Vec<(String, String, i64)>) =
        if leaf.family == Apparel && !matches!(leaf.sku, "ASCF" | "AHAT") {
            let sizes: Vec<(String, String, i64)> = SIZES
                .iter()
                .enumerate()
                .map(|(i, s)| (s.to_string(), s.to_string(), if i == 3 { 200 } else { 0 }))
                .collect();
            (vec![ProductOption { name: "Size".into(), values: SIZES.iter().map(|s| s.to_string()).collect() }], sizes)
        } else {
            let start = COLOURS.iter().position(|c| c.code == colour.code).unwrap_or(0);
            let picks: Vec<&Colour> = (0..4).map(|k| &COLOURS[(start + k * 5) % COLOURS.len()]).collect();
            let choices = picks.iter().map(|c| (c.en.to_string(), c.code[..3].to_ascii_uppercase(), 0)).collect();
            (
                vec![ProductOption { name: "Colour".into(), values: picks.iter().map(|c| c.en.to_string()).collect() }],
                choices,
            )
        };
    let count = ctx.variants.unwrap_or(if leaf.family == Apparel { 4 } else { 3 });
    let option_name = options[0].name.clone();
    let grams = rng.range(leaf.grams.0, leaf.grams.1 + 1) as i32;
    let variants: Vec<NewVariant> = (0..count)
        .map(|v| {
            let (value, code, extra) = &choices[v % choices.len()];
            let sku = if v < choices.len() {
                format!("{}-{index:05}-{code}", leaf.sku)
            } else {
                format!("{}-{index:05}-{code}{v}", leaf.sku)
            };
            NewVariant {
                sku,
                option_values: BTreeMap::from([(option_name.clone(), value.clone())]),
                barcode: Some(ean13(200_000_000 + index * 10 + v as u64)),
                weight_grams: Some(grams + (v as i32) * 10),
                length_mm: None,
                width_mm: None,
                height_mm: None,
                position: Some(v as i32),
                prices: prices(*extra),
            }
        })
        .collect();
    let options = vec![ProductOption {
        name: option_name,
        values: options[0].values.iter().take(count.min(options[0].values.len())).cloned().collect(),
    }];

    // Attributes and words, by family.
    let (description_en, description_de) = match leaf.family {
        Apparel => {
            let (fit, fit_en, fit_de) = *rng.pick(FITS);
            let organic = thing.en.contains("Organic") || (thing.material == "cotton" && rng.chance(30));
            attributes.insert("material".into(), json!(thing.material));
            attributes.insert("fit".into(), json!(fit));
            attributes.insert("organic".into(), json!(organic));
            if organic {
                tags.push("organic".into());
            }
            tags.push(
                if matches!(thing.material, "linen" | "silk" | "viscose" | "cotton") { "summer" } else { "winter" }
                    .into(),
            );
            (
                format!(
                    "The {name_en} in {} is made of {material_en} and cut for {fit_en} fit that works from \
                     morning to evening. Machine washable at 30 °C; made to last more than one season.",
                    colour.en.to_lowercase()
                ),
                format!(
                    "{name_de} in {}: aus {material_de}, mit {fit_de} Passform – vom Morgen bis zum Abend. \
                     Waschbar bei 30 °C; gemacht für mehr als eine Saison.",
                    colour.de
                ),
            )
        }
        Home => {
            let dishwasher = matches!(thing.material, "stoneware" | "ceramic" | "glass" | "stainless steel");
            attributes.insert("material".into(), json!(thing.material));
            attributes.insert("dishwasher_safe".into(), json!(dishwasher));
            (
                format!(
                    "{name_en}: {material_en} in a calm {} that suits any room. Designed in our studio, \
                     made in small batches, and built for everyday use.",
                    colour.en.to_lowercase()
                ),
                format!(
                    "{name_de}: {material_de} in ruhigem {} – passt in jeden Raum. In unserem Studio \
                     entworfen, in kleinen Serien gefertigt und für jeden Tag gemacht.",
                    colour.de
                ),
            )
        }
        Electronics => {
            let wireless = thing.material == "wireless";
            let years = rng.range(1, 4);
            attributes.insert("wireless".into(), json!(wireless));
            attributes.insert("warranty_years".into(), json!(years));
            if wireless {
                tags.push("wireless".into());
            }
            let (how_en, how_de) = if wireless {
                ("No cables", "Ohne Kabel")
            } else {
                ("A sturdy braided cable", "Ein robustes Textilkabel")
            };
            (
                format!(
                    "The {name_en} in {}. {how_en}, a clean design and a {years}-year warranty: \
                     the kind of gadget you stop noticing because it simply works.",
                    colour.en.to_lowercase()
                ),
                format!(
                    "{name_de} in {}. {how_de}, schlichtes Design und {years} Jahre Garantie: \
                     ein Gerät, das man vergisst, weil es einfach funktioniert.",
                    colour.de
                ),
            )
        }
    };
    if on_sale {
        tags.push("sale".into());
    }
    if index.is_multiple_of(7) {
        tags.push("bestseller".into());
    }
    if rng.chance(15) {
        tags.push("gift".into());
    }

    let status = if !ctx.mixed_statuses {
        ProductStatus::Active
    } else {
        match index % 20 {
            7 => ProductStatus::Draft,
            13 if index % 40 == 13 => ProductStatus::Archived,
            _ => ProductStatus::Active,
        }
    };
    // A few active products are announced before they go on sale.
    let publish_at = (ctx.mixed_statuses && index % 30 == 17).then(|| chrono::Utc::now() + chrono::Duration::days(14));

    let product_type_id = ctx.product_types.iter().find(|(f, _)| *f == leaf.family).map(|(_, id)| *id);
    let key_sku = variants[0].sku.clone();
    Generated {
        new: NewProduct {
            kind: None,
            status: Some(status),
            publish_at,
            unpublish_at: None,
            product_type_id,
            tax_class: Some("standard".into()),
            name: text(&name_en, &name_de),
            description: Some(text(&description_en, &description_de)),
            seo_title: None,
            seo_description: None,
            slug: None,
            options,
            attributes,
            tags,
            category_ids: ctx.categories.get(leaf.slug).copied().into_iter().collect(),
            variants,
        },
        key_sku,
        colour,
        family: leaf.family,
        shape: round,
    }
}

/// An EAN-13 (GS1 prefix 200–299 is for in-store numbering: never a real product's).
fn ean13(number: u64) -> String {
    let digits = format!("{:012}", number % 1_000_000_000_000);
    let sum: u32 = digits.bytes().enumerate().map(|(i, b)| u32::from(b - b'0') * if i % 2 == 0 { 1 } else { 3 }).sum();
    format!("{digits}{}", (10 - sum % 10) % 10)
}

/// Queries shoppers might type: a line or a colour with a word of a product kind ("fjord
/// shirt", "navy mug"), a line, a colour and a word ("fjord navy shirt"), single words; `count`
/// of them (up to ~45,000), distinct, in a fixed shuffled order.
pub fn search_queries(seed: u64, count: usize) -> Vec<String> {
    let mut words: Vec<String> = kinds()
        .iter()
        .flat_map(|(_, thing)| thing.en.split([' ', '-']).map(str::to_lowercase).collect::<Vec<_>>())
        .filter(|w| w.len() > 2)
        .collect();
    words.sort();
    words.dedup();
    let mut queries: Vec<String> = Vec::new();
    for word in &words {
        for line in LINES {
            let line = line.to_lowercase();
            queries.push(format!("{line} {word}"));
            for colour in COLOURS {
                queries.push(format!("{line} {} {word}", colour.en.to_lowercase()));
            }
        }
        for colour in COLOURS {
            queries.push(format!("{} {word}", colour.en.to_lowercase()));
        }
    }
    queries.extend(words.iter().cloned());
    // "sage" is a line and a colour
    queries.sort();
    queries.dedup();
    let mut rng = Rng::new(seed);
    for i in (1..queries.len()).rev() {
        let j = rng.range(0, i as u64 + 1) as usize;
        queries.swap(i, j);
    }
    queries.truncate(count);
    queries
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn ctx() -> Context {
        Context {
            seed: 11,
            default_currency: "USD".into(),
            categories: BTreeMap::new(),
            product_types: vec![],
            variants: None,
            mixed_statuses: true,
        }
    }

    /// Stricter than the catalog's own slugs (only letters and digits survive), so names that
    /// differ here make different slugs there too.
    fn squash(text: &str) -> String {
        text.chars().flat_map(char::to_lowercase).filter(char::is_ascii_alphanumeric).collect()
    }

    #[test]
    fn ten_thousand_products_have_distinct_names_slugs_and_skus_in_both_languages() {
        let ctx = Context { variants: Some(3), ..ctx() };
        let (mut en, mut de, mut skus, mut barcodes) =
            (BTreeSet::new(), BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for i in 0..10_000 {
            let p = product(&ctx, i);
            assert!(en.insert(squash(p.new.name.exact("en").unwrap())), "en name of {i}");
            assert!(de.insert(squash(p.new.name.exact("de").unwrap())), "de name of {i}");
            assert_eq!(p.new.variants.len(), 3);
            for v in &p.new.variants {
                assert!(skus.insert(v.sku.clone()), "sku {}", v.sku);
                assert!(barcodes.insert(v.barcode.clone().unwrap()));
            }
        }
    }

    #[test]
    fn the_same_seed_makes_the_same_product_and_another_seed_another() {
        let a = product(&ctx(), 42);
        let b = product(&ctx(), 42);
        assert_eq!(a.new.name, b.new.name);
        assert_eq!(a.key_sku, b.key_sku);
        assert_eq!(a.new.variants[0].prices[0].amount, b.new.variants[0].prices[0].amount);
        let other: Vec<i64> =
            (0..50).map(|i| product(&Context { seed: 12, ..ctx() }, i).new.variants[0].prices[0].amount).collect();
        let same: Vec<i64> = (0..50).map(|i| product(&ctx(), i).new.variants[0].prices[0].amount).collect();
        assert_ne!(other, same);
    }

    #[test]
    fn prices_are_in_both_currencies_and_compare_at_prices_are_higher() {
        let mut sales = 0;
        for i in 0..300 {
            let p = product(&ctx(), i);
            for v in &p.new.variants {
                let currencies: Vec<&str> = v.prices.iter().map(|p| p.currency.as_str()).collect();
                assert_eq!(currencies, ["USD", "EUR"]);
                for price in &v.prices {
                    assert!(price.amount > 0);
                    if let Some(was) = price.compare_at {
                        assert!(was > price.amount, "{was} > {}", price.amount);
                        sales += 1;
                    }
                }
            }
        }
        assert!(sales > 0);
    }

    #[test]
    fn ean13_check_digits_are_right() {
        // 400638133393 → 1 (a well-known EAN-13 example: 4006381333931)
        assert_eq!(ean13(400_638_133_393), "4006381333931");
    }

    #[test]
    fn the_tree_has_three_levels_and_unique_slugs() {
        let specs = categories();
        let slugs: BTreeSet<&str> = specs.iter().map(|c| c.slug).collect();
        assert_eq!(slugs.len(), specs.len());
        let depth = |slug: &str| {
            let mut depth = 1;
            let mut at = specs.iter().find(|c| c.slug == slug).unwrap();
            while let Some(parent) = at.parent {
                depth += 1;
                at = specs.iter().find(|c| c.slug == parent).unwrap();
            }
            depth
        };
        assert!(leaf_category_slugs().iter().all(|s| depth(s) == 3));
    }

    #[test]
    fn search_queries_are_distinct() {
        let queries = search_queries(1, 3000);
        assert_eq!(queries.len(), 3000);
        assert_eq!(queries.iter().collect::<BTreeSet<_>>().len(), 3000);
    }
}
