//! Promotions and discount codes: what they are, what a merchant may set, and how a use is
//! counted.
//!
//! - A promotion is **automatic** (applies by itself when its conditions hold) or needs a
//!   **code** (one or many; matched case-insensitively, unique in the shop, generated in bulk with
//!   a prefix). Its discount is a percentage, a fixed amount per currency, free shipping, buy X
//!   get Y, or tiers ("10 % over 100, 15 % over 200"); its conditions are products, categories,
//!   collections, customer groups, a minimum subtotal per currency and a start/end window.
//! - Which promotions a cart gets, and the stacking rule, are [`evaluation`]'s (a pure function).
//! - **Uses are counted atomically** when an order is placed ([`redeem`]): one conditional UPDATE
//!   per code (`used < usage_limit`) and one conditional upsert per (promotion, customer), in the
//!   caller's transaction, so concurrent checkouts can never use a code more often than its limit.
//!   A cancelled order gives its uses back ([`release`]), once.
//! - Codes are listed to staff only: the storefront never lists them, and a code that does not
//!   apply says why without revealing whether any other code exists (a disabled promotion's code
//!   is as `unknown` as a code nobody made).

pub(crate) mod evaluation;
pub(crate) mod http;
mod store;

use crate::PricingError;
use agora_catalog::{CategoryId, CollectionId, ProductId, VariantId};
use agora_kernel::error::{CommonError, FieldError};
use agora_kernel::money::{Currency, Money};
use agora_kernel::{TenantTx, Version};
use chrono::{DateTime, Utc};
use paperclip::actix::Apiv2Schema;
use serde::{Deserialize, Serialize};
use store::{CodeRow, PromotionFields, PromotionRow};
use uuid::Uuid;

agora_kernel::typed_id! {
    /// A promotion: an automatic discount or the discount behind a set of codes.
    pub PromotionId
}

agora_kernel::typed_id! {
    /// One discount code of a promotion.
    pub PromotionCodeId
}

agora_kernel::text_enum! {
    /// How a promotion comes to apply.
    pub enum PromotionTrigger {
        /// By itself, whenever its conditions hold.
        Automatic = "automatic",
        /// When the shopper enters one of its codes.
        Code = "code",
    }
}

agora_kernel::text_enum! {
    /// Whether a promotion (or a code) can be used.
    pub enum PromotionStatus {
        Active = "active",
        Disabled = "disabled",
    }
}

agora_kernel::text_enum! {
    /// What a promotion takes off.
    pub enum DiscountKind {
        /// `percent_bp` of the qualifying lines.
        Percentage = "percentage",
        /// `amounts` (one per currency) off the qualifying lines.
        FixedAmount = "fixed_amount",
        /// The shipping.
        FreeShipping = "free_shipping",
        /// Buy `buy_quantity`, get `get_quantity` of the qualifying items `percent_bp` off
        /// (10000 = free): the cheapest of each group.
        BuyXGetY = "buy_x_get_y",
        /// The highest of `tiers` whose threshold the qualifying subtotal reaches.
        Tiered = "tiered",
    }
}

agora_kernel::text_enum! {
    /// Whether a promotion combines with others (see the stacking rule in `docs/promotions.md`).
    pub enum Stacking {
        /// Applies together with every other stackable promotion, in priority order.
        Stackable = "stackable",
        /// Applies alone, and only when it is the best deal.
        Exclusive = "exclusive",
    }
}

agora_kernel::text_enum! {
    /// Why a submitted code does not apply.
    pub enum CodeRejection {
        /// No such code (or its promotion is disabled or deleted).
        Unknown = "unknown",
        Expired = "expired",
        NotStarted = "not_started",
        /// The code was used as often as it may be.
        Exhausted = "exhausted",
        /// This customer used the promotion as often as they may.
        CustomerLimitReached = "customer_limit_reached",
        /// The qualifying items do not reach the minimum subtotal.
        MinimumNotMet = "minimum_not_met",
        /// Nothing in the cart qualifies (or nothing in this currency).
        NotApplicable = "not_applicable",
        /// The promotion is for customer groups the shopper is not in.
        NotForYourGroup = "not_for_your_group",
        /// Another promotion or code applies instead (see the stacking rule).
        NotCombinable = "not_combinable",
    }
}

/// A threshold and the percentage off from it on (a tiered discount's step).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct DiscountTier {
    /// The qualifying subtotal from which this tier applies, in one currency.
    pub threshold: Money,
    /// Hundredths of a percent off (1000 = 10 %), 1–10000.
    pub percent_bp: u32,
}

/// What a promotion takes off; only the fields its `kind` uses are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PromotionDiscount {
    pub kind: DiscountKind,
    /// `percentage` (required) and `buy_x_get_y` (default 10000: free): hundredths of a
    /// percent, 1–10000 (1000 = 10 %).
    pub percent_bp: Option<u32>,
    /// `fixed_amount`: the amount off, one per currency the shop sells in.
    pub amounts: Option<Vec<Money>>,
    /// `buy_x_get_y`: items to buy (1–1000).
    pub buy_quantity: Option<i32>,
    /// `buy_x_get_y`: items discounted per `buy_quantity` bought (1–1000).
    pub get_quantity: Option<i32>,
    /// `tiered`: up to 20 steps; per currency, the highest threshold reached applies.
    pub tiers: Option<Vec<DiscountTier>>,
}

/// When a promotion applies. Products, categories and collections select the qualifying lines
/// (any of them; none: every line); customer groups select who may use it (none: everybody).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PromotionConditions {
    #[serde(default)]
    pub product_ids: Vec<ProductId>,
    #[serde(default)]
    pub category_ids: Vec<CategoryId>,
    #[serde(default)]
    pub collection_ids: Vec<CollectionId>,
    /// The customers module's groups.
    #[serde(default)]
    pub customer_group_ids: Vec<Uuid>,
    /// The least the qualifying lines must come to, per currency (a currency without one here
    /// does not qualify when any is set).
    #[serde(default)]
    pub minimum_subtotal: Vec<Money>,
}

/// A code to create with a promotion, or to add to one.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewPromotionCode {
    /// Letters, digits, `-` and `_`, 1–64; stored in upper case (codes match case-insensitively).
    pub code: String,
    /// Orders it may be used for in all (absent: no limit).
    pub usage_limit: Option<i32>,
}

/// A new promotion.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct NewPromotion {
    /// 1–200 characters, shown to shoppers next to the discount.
    pub name: String,
    pub description: Option<String>,
    pub trigger: PromotionTrigger,
    /// Default `active`.
    pub status: Option<PromotionStatus>,
    /// Default `stackable`.
    pub stacking: Option<Stacking>,
    /// Lower numbers apply first (0–1,000,000; default 100).
    pub priority: Option<i32>,
    pub starts_at: Option<DateTime<Utc>>,
    /// After `starts_at`.
    pub ends_at: Option<DateTime<Utc>>,
    /// Orders one customer may place with it (absent: no limit).
    pub usage_limit_per_customer: Option<i32>,
    pub discount: PromotionDiscount,
    pub conditions: Option<PromotionConditions>,
    /// `code` promotions: codes to create with it (up to 100; generate more in bulk).
    pub codes: Option<Vec<NewPromotionCode>>,
}

/// Changes to a promotion; absent fields stay.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PromotionPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<PromotionStatus>,
    pub stacking: Option<Stacking>,
    pub priority: Option<i32>,
    /// `null` removes the start (the promotion runs from now).
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub starts_at: Option<Option<DateTime<Utc>>>,
    /// `null` removes the end (the promotion runs until disabled).
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub ends_at: Option<Option<DateTime<Utc>>>,
    /// `null` removes the limit per customer.
    #[serde(default, deserialize_with = "agora_kernel::values::nullable")]
    pub usage_limit_per_customer: Option<Option<i32>>,
    pub discount: Option<PromotionDiscount>,
    pub conditions: Option<PromotionConditions>,
}

/// A promotion as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct Promotion {
    pub id: PromotionId,
    pub name: String,
    pub description: Option<String>,
    pub trigger: PromotionTrigger,
    pub status: PromotionStatus,
    pub stacking: Stacking,
    pub priority: i32,
    pub starts_at: Option<DateTime<Utc>>,
    pub ends_at: Option<DateTime<Utc>>,
    pub usage_limit_per_customer: Option<i32>,
    pub discount: PromotionDiscount,
    pub conditions: PromotionConditions,
    /// How many codes it has.
    pub code_count: i64,
    /// Orders placed with it and not cancelled.
    pub redemptions: i64,
    pub created_at: DateTime<Utc>,
    pub modified_at: DateTime<Utc>,
    pub version: i64,
}

/// Filters of the promotion list.
#[derive(Debug, Clone, Default, Deserialize, Apiv2Schema)]
pub struct PromotionFilter {
    pub status: Option<PromotionStatus>,
    pub trigger: Option<PromotionTrigger>,
}

/// A discount code with its use so far.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct PromotionCode {
    pub id: PromotionCodeId,
    pub promotion_id: PromotionId,
    pub code: String,
    pub status: PromotionStatus,
    pub usage_limit: Option<i32>,
    /// Orders placed with it and not cancelled.
    pub used: i32,
    pub created_at: DateTime<Utc>,
    pub version: i64,
}

/// Codes to generate for a promotion: `prefix` followed by random letters and digits.
#[derive(Debug, Clone, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct GenerateCodes {
    /// 1–10,000.
    pub count: i32,
    /// Letters, digits, `-` and `_`, up to 32 (`SUMMER-`).
    pub prefix: Option<String>,
    /// Random characters after the prefix (6–32, default 10), from an alphabet without look-alikes
    /// (no 0/O, 1/I/L).
    pub length: Option<i32>,
    /// Orders each code may be used for (absent: no limit; 1 for single-use codes).
    pub usage_limit: Option<i32>,
}

/// The codes just generated.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct GeneratedCodes {
    pub count: usize,
    pub items: Vec<PromotionCode>,
}

/// One line of a cart as promotions see it.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PromotionLine {
    /// The caller's name for the line; allocations name it.
    pub key: String,
    pub product_id: ProductId,
    pub variant_id: VariantId,
    #[serde(default)]
    pub category_ids: Vec<CategoryId>,
    #[serde(default)]
    pub collection_ids: Vec<CollectionId>,
    /// 1–1,000,000.
    pub quantity: i32,
    pub unit_price: Money,
    /// What the line costs before promotions (normally unit price × quantity).
    pub line_total: Money,
}

/// A cart, or anything like one, to work promotions out for.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
#[serde(deny_unknown_fields)]
pub struct PromotionContext {
    pub currency: Currency,
    pub lines: Vec<PromotionLine>,
    pub customer_id: Option<Uuid>,
    /// The customer's groups, as the customers module says.
    #[serde(default)]
    pub customer_group_ids: Vec<Uuid>,
    /// Codes the shopper entered (up to 20).
    #[serde(default)]
    pub codes: Vec<String>,
    pub shipping: Option<Money>,
    /// The instant to evaluate at (absent: now).
    pub now: Option<DateTime<Utc>>,
}

/// A promotion's share of one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Apiv2Schema)]
pub struct LineDiscount {
    pub key: String,
    /// Off the line (positive).
    pub amount: Money,
}

/// A promotion the cart gets.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct AppliedPromotion {
    pub promotion_id: PromotionId,
    pub name: String,
    /// The code that brought it (absent for an automatic promotion).
    pub code: Option<String>,
    pub code_id: Option<PromotionCodeId>,
    pub kind: DiscountKind,
    pub stacking: Stacking,
    /// Off the lines (positive); the allocations sum to it exactly.
    pub amount: Money,
    /// Off the shipping (free-shipping promotions).
    pub shipping_discount: Option<Money>,
    /// Its amount spread over the lines it touched.
    pub allocations: Vec<LineDiscount>,
}

/// A submitted code that does not apply, and why.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct RejectedCode {
    /// As submitted.
    pub code: String,
    pub reason: CodeRejection,
}

/// What promotions do to a cart.
#[derive(Debug, Clone, Serialize, Deserialize, Apiv2Schema)]
pub struct AppliedPromotions {
    pub currency: Currency,
    /// In the order they apply.
    pub applied: Vec<AppliedPromotion>,
    /// Off the lines in all.
    pub discount_total: Money,
    /// Off the shipping, when a free-shipping promotion applies.
    pub shipping_discount: Option<Money>,
    pub rejected_codes: Vec<RejectedCode>,
}

/// One use to count when an order is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redemption {
    pub promotion_id: PromotionId,
    pub code_id: Option<PromotionCodeId>,
}

impl AppliedPromotions {
    /// The uses checkout counts with [`crate::PricingModule::redeem_promotions`].
    pub fn redemptions(&self) -> Vec<Redemption> {
        self.applied.iter().map(|a| Redemption { promotion_id: a.promotion_id, code_id: a.code_id }).collect()
    }
}

// --- Validation --------------------------------------------------------------------------------

/// Collects bad input, each naming its field; all of it is reported at once.
#[derive(Default)]
struct Problems(Vec<FieldError>);

impl Problems {
    fn add(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    fn into_result(self) -> Result<(), PricingError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CommonError::Invalid(self.0).into())
        }
    }
}

const MAX_PRIORITY: i32 = 1_000_000;
const MAX_IDS: usize = 1000;
const MAX_CODES_ON_CREATE: usize = 100;
const MAX_GENERATED: i32 = 10_000;
const MAX_SUBMITTED_CODES: usize = 20;
/// No look-alikes: a code read off a receipt is typed right.
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

/// A code as stored: trimmed, upper case, letters, digits, `-`, `_`, 1–64.
fn normalize_code(raw: &str) -> Option<String> {
    let code = raw.trim().to_uppercase();
    let ok =
        (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    ok.then_some(code)
}

fn percent(p: &mut Problems, field: &str, bp: Option<u32>, required: bool) -> Option<u32> {
    match bp {
        None if required => {
            p.add(field, "required: hundredths of a percent, 1 to 10000 (1000 = 10 %)");
            None
        }
        None => None,
        Some(bp) if !(1..=10_000).contains(&bp) => {
            p.add(field, "hundredths of a percent, 1 to 10000 (more than 100 % cannot be taken off)");
            None
        }
        Some(bp) => Some(bp),
    }
}

fn sold_amount(p: &mut Problems, field: &str, m: &Money, sold: &[Currency], positive: bool) {
    if !sold.contains(&m.currency) {
        p.add(format!("{field}.currency"), format!("the shop does not sell in {}", m.currency));
    }
    if m.amount < 0 || (positive && m.amount == 0) {
        p.add(format!("{field}.amount"), if positive { "more than zero" } else { "not negative" });
    }
}

/// The discount as stored: checked, and only its kind's fields kept.
fn discount(p: &mut Problems, d: &PromotionDiscount, sold: &[Currency]) -> PromotionDiscount {
    let mut out = PromotionDiscount {
        kind: d.kind,
        percent_bp: None,
        amounts: None,
        buy_quantity: None,
        get_quantity: None,
        tiers: None,
    };
    match d.kind {
        DiscountKind::Percentage => out.percent_bp = percent(p, "discount.percent_bp", d.percent_bp, true),
        DiscountKind::FixedAmount => {
            let amounts = d.amounts.clone().unwrap_or_default();
            if amounts.is_empty() {
                p.add("discount.amounts", "required: the amount off in at least one currency");
            }
            for (i, m) in amounts.iter().enumerate() {
                sold_amount(p, &format!("discount.amounts[{i}]"), m, sold, true);
                if amounts.iter().take(i).any(|o| o.currency == m.currency) {
                    p.add(format!("discount.amounts[{i}].currency"), "one amount per currency");
                }
            }
            out.amounts = Some(amounts);
        }
        DiscountKind::FreeShipping => {}
        DiscountKind::BuyXGetY => {
            for (field, value) in [("discount.buy_quantity", d.buy_quantity), ("discount.get_quantity", d.get_quantity)]
            {
                if !value.is_some_and(|v| (1..=1000).contains(&v)) {
                    p.add(field, "required: a whole number from 1 to 1000");
                }
            }
            out.buy_quantity = d.buy_quantity;
            out.get_quantity = d.get_quantity;
            out.percent_bp = percent(p, "discount.percent_bp", d.percent_bp, false).or(Some(10_000));
        }
        DiscountKind::Tiered => {
            let tiers = d.tiers.clone().unwrap_or_default();
            if tiers.is_empty() || tiers.len() > 20 {
                p.add("discount.tiers", "required: 1 to 20 tiers");
            }
            for (i, t) in tiers.iter().enumerate() {
                sold_amount(p, &format!("discount.tiers[{i}].threshold"), &t.threshold, sold, false);
                percent(p, &format!("discount.tiers[{i}].percent_bp"), Some(t.percent_bp), true);
                if tiers.iter().take(i).any(|o| o.threshold == t.threshold) {
                    p.add(format!("discount.tiers[{i}].threshold"), "two tiers with one threshold");
                }
            }
            out.tiers = Some(tiers);
        }
    }
    out
}

fn dedup<T: PartialEq + Clone>(items: &[T]) -> Vec<T> {
    let mut out: Vec<T> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

fn conditions(p: &mut Problems, c: &PromotionConditions, sold: &[Currency]) -> PromotionConditions {
    for (field, n) in [
        ("conditions.product_ids", c.product_ids.len()),
        ("conditions.category_ids", c.category_ids.len()),
        ("conditions.collection_ids", c.collection_ids.len()),
        ("conditions.customer_group_ids", c.customer_group_ids.len()),
    ] {
        if n > MAX_IDS {
            p.add(field, format!("at most {MAX_IDS}"));
        }
    }
    for (i, m) in c.minimum_subtotal.iter().enumerate() {
        sold_amount(p, &format!("conditions.minimum_subtotal[{i}]"), m, sold, false);
        if c.minimum_subtotal.iter().take(i).any(|o| o.currency == m.currency) {
            p.add(format!("conditions.minimum_subtotal[{i}].currency"), "one minimum per currency");
        }
    }
    PromotionConditions {
        product_ids: dedup(&c.product_ids),
        category_ids: dedup(&c.category_ids),
        collection_ids: dedup(&c.collection_ids),
        customer_group_ids: dedup(&c.customer_group_ids),
        minimum_subtotal: c.minimum_subtotal.clone(),
    }
}

struct Checked {
    name: String,
    description: Option<String>,
    priority: i32,
    discount: PromotionDiscount,
    conditions: PromotionConditions,
}

#[allow(clippy::too_many_arguments)] // The promotion's fields, each checked where it is named.
fn check(
    p: &mut Problems,
    name: &str,
    description: Option<&str>,
    priority: i32,
    window: (Option<DateTime<Utc>>, Option<DateTime<Utc>>),
    per_customer: Option<i32>,
    d: &PromotionDiscount,
    c: &PromotionConditions,
    sold: &[Currency],
) -> Checked {
    let name = name.trim().to_string();
    if name.is_empty() || name.chars().count() > 200 {
        p.add("name", "1 to 200 characters");
    }
    let description = description.map(str::trim).filter(|d| !d.is_empty()).map(str::to_string);
    if description.as_ref().is_some_and(|d| d.chars().count() > 2000) {
        p.add("description", "at most 2000 characters");
    }
    if !(0..=MAX_PRIORITY).contains(&priority) {
        p.add("priority", format!("a whole number from 0 to {MAX_PRIORITY}"));
    }
    if let (Some(start), Some(end)) = window {
        if end <= start {
            p.add("ends_at", "must be after starts_at");
        }
    }
    if per_customer.is_some_and(|n| n < 1) {
        p.add("usage_limit_per_customer", "at least 1 (leave it out for no limit)");
    }
    Checked { name, description, priority, discount: discount(p, d, sold), conditions: conditions(p, c, sold) }
}

fn usage_limit(p: &mut Problems, field: &str, limit: Option<i32>) {
    if limit.is_some_and(|n| n < 1) {
        p.add(field, "at least 1 (leave it out for no limit)");
    }
}

// --- Rules -------------------------------------------------------------------------------------

fn to_promotion(r: PromotionRow) -> Result<Promotion, PricingError> {
    // A row the code cannot read is the server's fault (a 500), never the client's.
    let unreadable = |e: serde_json::Error| diesel::result::Error::DeserializationError(Box::new(e));
    let discount = serde_json::from_value(r.discount).map_err(unreadable)?;
    let conditions = serde_json::from_value(r.conditions).map_err(unreadable)?;
    Ok(Promotion {
        id: r.id,
        name: r.name,
        description: r.description,
        trigger: r.trigger,
        status: r.status,
        stacking: r.stacking,
        priority: r.priority,
        starts_at: r.starts_at,
        ends_at: r.ends_at,
        usage_limit_per_customer: r.usage_limit_per_customer,
        discount,
        conditions,
        code_count: r.code_count,
        redemptions: r.redemptions,
        created_at: r.created_at,
        modified_at: r.modified_at,
        version: r.version,
    })
}

fn to_code(r: CodeRow) -> PromotionCode {
    PromotionCode {
        id: r.id,
        promotion_id: r.promotion_id,
        code: r.code,
        status: r.status,
        usage_limit: r.usage_limit,
        used: r.used,
        created_at: r.created_at,
        version: r.version,
    }
}

fn not_found() -> PricingError {
    PricingError::NotFound("promotion")
}

async fn live(tx: &mut TenantTx<'_>, id: PromotionId, lock: bool) -> Result<PromotionRow, PricingError> {
    store::find_promotion(tx.conn(), id, lock).await?.ok_or_else(not_found)
}

pub(crate) async fn create(
    tx: &mut TenantTx<'_>,
    new: NewPromotion,
    sold: &[Currency],
) -> Result<Promotion, PricingError> {
    let mut p = Problems::default();
    let checked = check(
        &mut p,
        &new.name,
        new.description.as_deref(),
        new.priority.unwrap_or(100),
        (new.starts_at, new.ends_at),
        new.usage_limit_per_customer,
        &new.discount,
        &new.conditions.unwrap_or_default(),
        sold,
    );
    let codes = new.codes.unwrap_or_default();
    let mut normalized = Vec::with_capacity(codes.len());
    if new.trigger == PromotionTrigger::Automatic && !codes.is_empty() {
        p.add("codes", "an automatic promotion has no codes");
    }
    if codes.len() > MAX_CODES_ON_CREATE {
        p.add("codes", format!("at most {MAX_CODES_ON_CREATE} here; generate more in bulk"));
    }
    for (i, c) in codes.iter().enumerate() {
        match normalize_code(&c.code) {
            None => p.add(format!("codes[{i}].code"), "letters, digits, - and _, 1 to 64"),
            Some(code) if normalized.iter().any(|(n, _)| *n == code) => {
                p.add(format!("codes[{i}].code"), "appears twice (codes ignore case)")
            }
            Some(code) => normalized.push((code, c.usage_limit)),
        }
        usage_limit(&mut p, &format!("codes[{i}].usage_limit"), c.usage_limit);
    }
    p.into_result()?;
    let fields = PromotionFields {
        name: &checked.name,
        description: checked.description.as_deref(),
        status: new.status.unwrap_or(PromotionStatus::Active),
        stacking: new.stacking.unwrap_or(Stacking::Stackable),
        priority: checked.priority,
        starts_at: new.starts_at,
        ends_at: new.ends_at,
        usage_limit_per_customer: new.usage_limit_per_customer,
        discount: serde_json::to_value(&checked.discount)
            .map_err(|e| PricingError::field("discount", e.to_string()))?,
        conditions: serde_json::to_value(&checked.conditions)
            .map_err(|e| PricingError::field("conditions", e.to_string()))?,
    };
    let stamp = tx.stamp();
    let id = PromotionId::new_v7();
    store::insert_promotion(tx.conn(), id, new.trigger, &fields, &stamp).await?;
    for (i, (code, limit)) in normalized.iter().enumerate() {
        let inserted = store::insert_codes(tx.conn(), id, std::slice::from_ref(code), *limit, &stamp).await?;
        if inserted.is_empty() {
            return Err(PricingError::CodeTaken { field: format!("codes[{i}].code"), code: code.clone() });
        }
    }
    tx.audit("pricing.promotion.created", Some(id.to_string()), serde_json::json!({"name": checked.name})).await?;
    to_promotion(live(tx, id, false).await?)
}

pub(crate) async fn get(tx: &mut TenantTx<'_>, id: PromotionId) -> Result<Promotion, PricingError> {
    to_promotion(live(tx, id, false).await?)
}

pub(crate) async fn list(
    tx: &mut TenantTx<'_>,
    filter: &PromotionFilter,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<Promotion>, PricingError> {
    store::list_promotions(tx.conn(), filter.status, filter.trigger, after, limit)
        .await?
        .into_iter()
        .map(to_promotion)
        .collect()
}

pub(crate) async fn update(
    tx: &mut TenantTx<'_>,
    id: PromotionId,
    patch: PromotionPatch,
    expected: Option<i64>,
    sold: &[Currency],
) -> Result<Promotion, PricingError> {
    let current = to_promotion(live(tx, id, true).await?)?;
    Version::check(expected, current.version)?;
    let mut p = Problems::default();
    let starts_at = patch.starts_at.unwrap_or(current.starts_at);
    let ends_at = patch.ends_at.unwrap_or(current.ends_at);
    let per_customer = patch.usage_limit_per_customer.unwrap_or(current.usage_limit_per_customer);
    let checked = check(
        &mut p,
        patch.name.as_deref().unwrap_or(&current.name),
        patch.description.as_deref().or(current.description.as_deref()),
        patch.priority.unwrap_or(current.priority),
        (starts_at, ends_at),
        per_customer,
        patch.discount.as_ref().unwrap_or(&current.discount),
        patch.conditions.as_ref().unwrap_or(&current.conditions),
        sold,
    );
    p.into_result()?;
    let fields = PromotionFields {
        name: &checked.name,
        description: checked.description.as_deref(),
        status: patch.status.unwrap_or(current.status),
        stacking: patch.stacking.unwrap_or(current.stacking),
        priority: checked.priority,
        starts_at,
        ends_at,
        usage_limit_per_customer: per_customer,
        discount: serde_json::to_value(&checked.discount)
            .map_err(|e| PricingError::field("discount", e.to_string()))?,
        conditions: serde_json::to_value(&checked.conditions)
            .map_err(|e| PricingError::field("conditions", e.to_string()))?,
    };
    let stamp = tx.stamp();
    store::update_promotion(tx.conn(), id, &fields, &stamp).await?;
    tx.audit("pricing.promotion.updated", Some(id.to_string()), serde_json::json!({})).await?;
    get(tx, id).await
}

pub(crate) async fn delete(tx: &mut TenantTx<'_>, id: PromotionId, expected: Option<i64>) -> Result<(), PricingError> {
    let current = live(tx, id, true).await?;
    Version::check(expected, current.version)?;
    let stamp = tx.stamp();
    store::delete_promotion(tx.conn(), id, &stamp).await?;
    tx.audit("pricing.promotion.deleted", Some(id.to_string()), serde_json::json!({"name": current.name})).await?;
    Ok(())
}

async fn code_promotion(tx: &mut TenantTx<'_>, id: PromotionId) -> Result<PromotionRow, PricingError> {
    let promotion = live(tx, id, false).await?;
    if promotion.trigger != PromotionTrigger::Code {
        return Err(PricingError::field("trigger", "an automatic promotion has no codes"));
    }
    Ok(promotion)
}

pub(crate) async fn add_code(
    tx: &mut TenantTx<'_>,
    id: PromotionId,
    new: NewPromotionCode,
) -> Result<PromotionCode, PricingError> {
    code_promotion(tx, id).await?;
    let mut p = Problems::default();
    let code = normalize_code(&new.code);
    if code.is_none() {
        p.add("code", "letters, digits, - and _, 1 to 64");
    }
    usage_limit(&mut p, "usage_limit", new.usage_limit);
    p.into_result()?;
    let code = code.unwrap_or_default();
    let stamp = tx.stamp();
    let row = store::insert_codes(tx.conn(), id, std::slice::from_ref(&code), new.usage_limit, &stamp)
        .await?
        .pop()
        .ok_or_else(|| PricingError::CodeTaken { field: "code".into(), code: code.clone() })?;
    tx.audit("pricing.promotion.code_added", Some(id.to_string()), serde_json::json!({"code": code})).await?;
    Ok(to_code(row))
}

fn random_codes(prefix: &str, length: usize, n: usize) -> Vec<String> {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..n)
        .map(|_| {
            let mut code = String::with_capacity(prefix.len() + length);
            code.push_str(prefix);
            for _ in 0..length {
                let i = rng.gen_range(0..CODE_ALPHABET.len());
                code.push(char::from(CODE_ALPHABET.get(i).copied().unwrap_or(b'X')));
            }
            code
        })
        .collect()
}

pub(crate) async fn generate_codes(
    tx: &mut TenantTx<'_>,
    id: PromotionId,
    request: GenerateCodes,
) -> Result<GeneratedCodes, PricingError> {
    code_promotion(tx, id).await?;
    let mut p = Problems::default();
    if !(1..=MAX_GENERATED).contains(&request.count) {
        p.add("count", format!("1 to {MAX_GENERATED}"));
    }
    let prefix = request.prefix.as_deref().map(str::trim).unwrap_or_default().to_uppercase();
    if prefix.len() > 32 || !prefix.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        p.add("prefix", "letters, digits, - and _, up to 32");
    }
    let length = request.length.unwrap_or(10);
    if !(6..=32).contains(&length) {
        p.add("length", "6 to 32 random characters");
    }
    usage_limit(&mut p, "usage_limit", request.usage_limit);
    p.into_result()?;
    let (count, length) = (usize::try_from(request.count).unwrap_or(0), usize::try_from(length).unwrap_or(10));
    let stamp = tx.stamp();
    let mut rows = Vec::with_capacity(count);
    // 31^6 ≈ 887 million combinations at the least: a collision is rare, and the few codes that
    // hit one already taken are drawn again.
    for _ in 0..5 {
        let wanted = count - rows.len();
        if wanted == 0 {
            break;
        }
        let codes = random_codes(&prefix, length, wanted);
        rows.extend(store::insert_codes(tx.conn(), id, &codes, request.usage_limit, &stamp).await?);
    }
    if rows.len() < count {
        return Err(PricingError::field("length", "too few free codes of this length; make them longer"));
    }
    tx.audit(
        "pricing.promotion.codes_generated",
        Some(id.to_string()),
        serde_json::json!({"count": count, "prefix": prefix}),
    )
    .await?;
    rows.sort_by(|a, b| a.code.cmp(&b.code));
    Ok(GeneratedCodes { count: rows.len(), items: rows.into_iter().map(to_code).collect() })
}

pub(crate) async fn codes(
    tx: &mut TenantTx<'_>,
    id: PromotionId,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> Result<Vec<PromotionCode>, PricingError> {
    live(tx, id, false).await?;
    Ok(store::list_codes(tx.conn(), id, after, limit).await?.into_iter().map(to_code).collect())
}

pub(crate) async fn set_code_status(
    tx: &mut TenantTx<'_>,
    id: PromotionId,
    code: PromotionCodeId,
    status: PromotionStatus,
) -> Result<PromotionCode, PricingError> {
    live(tx, id, false).await?;
    let stamp = tx.stamp();
    let row = store::set_code_status(tx.conn(), id, code, status, &stamp)
        .await?
        .ok_or(PricingError::NotFound("promotion code"))?;
    tx.audit(
        &format!("pricing.promotion.code_{}", if status == PromotionStatus::Active { "enabled" } else { "disabled" }),
        Some(id.to_string()),
        serde_json::json!({"code": row.code}),
    )
    .await?;
    Ok(to_code(row))
}

// --- Evaluation and redemption -----------------------------------------------------------------

fn check_context(ctx: &PromotionContext) -> Result<(), PricingError> {
    let mut p = Problems::default();
    if ctx.lines.len() > 500 {
        p.add("lines", "at most 500 lines");
    }
    for (i, line) in ctx.lines.iter().enumerate() {
        if !(1..=1_000_000).contains(&line.quantity) {
            p.add(format!("lines[{i}].quantity"), "1 to 1,000,000");
        }
        for (field, m) in [("unit_price", &line.unit_price), ("line_total", &line.line_total)] {
            if m.currency != ctx.currency {
                p.add(format!("lines[{i}].{field}.currency"), format!("the cart is in {}", ctx.currency));
            }
            if m.amount < 0 {
                p.add(format!("lines[{i}].{field}.amount"), "not negative");
            }
        }
        if line.key.is_empty() || line.key.chars().count() > 200 {
            p.add(format!("lines[{i}].key"), "1 to 200 characters");
        }
        if ctx.lines.iter().take(i).any(|l| l.key == line.key) {
            p.add(format!("lines[{i}].key"), "two lines with one key");
        }
    }
    if let Some(s) = ctx.shipping {
        if s.amount < 0 {
            p.add("shipping.amount", "not negative");
        }
        if s.currency != ctx.currency {
            p.add("shipping.currency", format!("the cart is in {}", ctx.currency));
        }
    }
    if ctx.codes.len() > MAX_SUBMITTED_CODES {
        p.add("codes", format!("at most {MAX_SUBMITTED_CODES}"));
    }
    p.into_result()
}

fn offer(row: PromotionRow, customer_uses: i32) -> Result<evaluation::Offer, PricingError> {
    let p = to_promotion(row)?;
    Ok(evaluation::Offer {
        id: p.id,
        name: p.name,
        stacking: p.stacking,
        priority: p.priority,
        starts_at: p.starts_at,
        ends_at: p.ends_at,
        usage_limit_per_customer: p.usage_limit_per_customer,
        discount: p.discount,
        conditions: p.conditions,
        customer_uses,
    })
}

/// The promotions `ctx` gets, read in the caller's transaction.
pub(crate) async fn evaluate(tx: &mut TenantTx<'_>, ctx: &PromotionContext) -> Result<AppliedPromotions, PricingError> {
    check_context(ctx)?;
    let now = ctx.now.unwrap_or_else(Utc::now);
    let typed: Vec<(String, Option<String>)> = ctx.codes.iter().map(|c| (c.clone(), normalize_code(c))).collect();
    let wanted: Vec<String> = typed.iter().filter_map(|(_, n)| n.clone()).collect();
    let code_rows = if wanted.is_empty() { Vec::new() } else { store::usable_codes(tx.conn(), &wanted).await? };
    let mut rows = store::automatic_promotions(tx.conn()).await?;
    let coded: Vec<PromotionId> = dedup(&code_rows.iter().map(|c| c.promotion_id).collect::<Vec<_>>());
    if !coded.is_empty() {
        rows.extend(store::usable_promotions(tx.conn(), &coded).await?);
    }
    let uses = match ctx.customer_id {
        Some(customer) => {
            let ids: Vec<PromotionId> = rows.iter().map(|r| r.id).collect();
            store::customer_uses(tx.conn(), customer, &ids).await?
        }
        None => Vec::new(),
    };
    let uses_of = |id: PromotionId| uses.iter().find(|(p, _)| *p == id).map_or(0, |(_, n)| *n);
    let mut automatic = Vec::new();
    let mut by_id = Vec::new();
    for row in rows {
        let id = row.id;
        let is_automatic = row.trigger == PromotionTrigger::Automatic;
        let o = offer(row, uses_of(id))?;
        if is_automatic {
            automatic.push(o);
        } else {
            by_id.push(o);
        }
    }
    let submitted = typed
        .into_iter()
        .map(|(typed, normalized)| {
            let found = normalized.and_then(|n| {
                let code = code_rows.iter().find(|c| c.code == n)?;
                let o = by_id.iter().find(|o| o.id == code.promotion_id)?;
                Some((
                    evaluation::CodeState {
                        id: code.id,
                        code: code.code.clone(),
                        used: code.used,
                        usage_limit: code.usage_limit,
                    },
                    o.clone(),
                ))
            });
            evaluation::Submitted { typed, found }
        })
        .collect();
    evaluation::evaluate(ctx, now, automatic, submitted).map_err(|e| PricingError::field("lines", e.to_string()))
}

/// Counts each use for order `order_ref`, or nothing: a code past its limit fails `exhausted`,
/// a customer past theirs `customer_limit_reached` (the caller's transaction then rolls back
/// what was counted before). Redeeming again for the same order counts nothing twice.
pub(crate) async fn redeem(
    tx: &mut TenantTx<'_>,
    redemptions: &[Redemption],
    customer: Option<Uuid>,
    order_ref: Uuid,
) -> Result<(), PricingError> {
    // One order of row locks for every caller: two orders redeeming the same promotions can
    // never wait for each other in a circle.
    let mut ordered = redemptions.to_vec();
    ordered.sort_by_key(|r| (r.promotion_id.as_uuid(), r.code_id.map(|c| c.as_uuid())));
    ordered.dedup_by_key(|r| r.promotion_id);
    let stamp = tx.stamp();
    for r in ordered {
        let limit = store::per_customer_limit(tx.conn(), r.promotion_id).await?.ok_or_else(not_found)?;
        if !store::record_redemption(tx.conn(), order_ref, r, customer, &stamp).await? {
            continue;
        }
        if let Some(code) = r.code_id {
            if !store::count_code_use(tx.conn(), r.promotion_id, code).await? {
                return Err(if store::code_exists(tx.conn(), r.promotion_id, code).await? {
                    PricingError::PromotionRefused { reason: CodeRejection::Exhausted }
                } else {
                    PricingError::NotFound("promotion code")
                });
            }
        }
        if let Some(customer) = customer {
            if !store::count_customer_use(tx.conn(), r.promotion_id, customer, limit).await? {
                return Err(PricingError::PromotionRefused { reason: CodeRejection::CustomerLimitReached });
            }
        }
    }
    Ok(())
}

/// Gives back the uses of order `order_ref` (a cancelled order); releasing again does nothing.
/// See [`crate::PricingModule::next_schedule_change`].
pub(crate) async fn next_schedule_change(
    tx: &mut TenantTx<'_>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, PricingError> {
    Ok(store::next_schedule_change(tx.conn(), now).await?)
}

pub(crate) async fn release(tx: &mut TenantTx<'_>, order_ref: Uuid) -> Result<usize, PricingError> {
    let stamp = tx.stamp();
    let released = store::release_redemptions(tx.conn(), order_ref, stamp.at).await?;
    for r in &released {
        if let Some(code) = r.code_id {
            store::give_back_code_use(tx.conn(), code).await?;
        }
        if let Some(customer) = r.customer_id {
            store::give_back_customer_use(tx.conn(), r.promotion_id, customer).await?;
        }
    }
    Ok(released.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_upper_case_letters_digits_dashes() {
        assert_eq!(normalize_code(" summer-10 "), Some("SUMMER-10".into()));
        assert_eq!(normalize_code("a_b"), Some("A_B".into()));
        assert_eq!(normalize_code(""), None);
        assert_eq!(normalize_code("with space"), None);
        assert_eq!(normalize_code("ÄRGER"), None);
        assert_eq!(normalize_code(&"X".repeat(65)), None);
    }

    #[test]
    fn generated_codes_use_the_prefix_and_the_alphabet() {
        let codes = random_codes("VIP-", 8, 50);
        assert_eq!(codes.len(), 50);
        for c in &codes {
            assert!(c.starts_with("VIP-") && c.len() == 12);
            assert!(c[4..].bytes().all(|b| CODE_ALPHABET.contains(&b)));
            assert_eq!(normalize_code(c).as_deref(), Some(c.as_str()));
        }
    }

    #[test]
    fn the_sql_checks_match_the_enums() {
        let migration = include_str!("../../../../migrations/tenant/V32__promotions.sql");
        for check in [
            PromotionTrigger::sql_check("trigger"),
            PromotionStatus::sql_check("status"),
            Stacking::sql_check("stacking"),
        ] {
            assert!(migration.contains(&check), "{check}");
        }
    }
}
