//! What shoppers are told about a variant's stock, worked out at the end of every change to it.
//!
//! Every change to a variant's stock first locks its item row ([`lock`]), so the changes of one
//! variant run one after the other and the sum [`refresh`] reads at the end sees them all: the
//! status it announces can never be overtaken by a concurrent change's older view. What it
//! announces travels as `inventory.availability.changed` (through the outbox, numbered), and
//! the catalog records it for product pages and the "in stock only" filter.

use crate::error::InventoryError;
use crate::events::AvailabilityChanged;
use crate::stock::{self, Change};
use crate::store::{self, LockedItem, StockState};
use crate::{AdjustmentReason, StockPolicy, VariantId};
use agora_catalog::StockStatus;
use agora_kernel::events::EventBus;
use agora_kernel::TenantTx;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// The reference of ledger entries that pay committed backorders from arriving stock.
const PAYS_BACKORDERS: &str = "backorders";

/// The cache tag of one variant's stock (what a cart shows of it).
pub(crate) fn stock_tag(variant: VariantId) -> String {
    format!("inventory:stock:{variant}")
}

/// The cache tag of the shop's locations (pickup stores) and stock settings.
pub(crate) const SHOP_TAG: &str = "inventory:shop";

/// Locks `variants` in variant order, after making those in `count` counted (their item row
/// created); the locked ones (the counted variants) by id. Every change to stock calls it
/// before touching any level.
pub(crate) async fn lock(
    tx: &mut TenantTx<'_>,
    variants: &[VariantId],
    count: &[VariantId],
) -> Result<BTreeMap<VariantId, LockedItem>, InventoryError> {
    let stamp = tx.stamp();
    let mut new: Vec<VariantId> = count.to_vec();
    new.sort();
    new.dedup();
    for v in &new {
        store::ensure_item(tx.conn(), *v, &stamp).await?;
    }
    let mut ids = variants.to_vec();
    ids.sort();
    ids.dedup();
    // Whatever the change, what shoppers were shown of these variants' stock is stale once it commits.
    for v in ids.iter().chain(&new) {
        tx.stale(stock_tag(*v));
    }
    Ok(store::lock_items(tx.conn(), &ids).await?.into_iter().map(|i| (i.variant_id, i)).collect())
}

/// Works out the variant's availability after a change (its item locked by [`lock`]) and
/// announces it when it differs from what shoppers were told. Stock that arrived while paid
/// orders were owed backordered units pays them first.
pub(crate) async fn refresh(tx: &mut TenantTx<'_>, bus: &EventBus, variant: VariantId) -> Result<(), InventoryError> {
    let Some(mut state) = store::stock_state(tx.conn(), variant).await? else { return Ok(()) };
    if state.tracked && state.backorder_owed > 0 && state.available > 0 {
        pay_backorders(tx, bus, variant, state.backorder_owed).await?;
        state = store::stock_state(tx.conn(), variant).await?.ok_or(InventoryError::VariantNotFound { field: None })?;
    }
    let now = tx.stamp().at;
    let (status, until) = match shown(&state, now) {
        Some((status, until)) => (Some(status), until),
        None => (None, None),
    };
    let status_text = status.map(StockStatus::as_str);
    if status_text == state.shown_status.as_deref() && until == state.shown_preorder_until {
        return Ok(());
    }
    let sequence = store::show(tx.conn(), variant, status_text, until).await?;
    let event = AvailabilityChanged {
        variant_id: variant.as_uuid(),
        status: status_text.map(str::to_string),
        preorder_until: until,
        sequence,
    };
    tx.publish(bus, &event).await?;
    Ok(())
}

/// [`refresh`] for each of `variants` (all locked by the caller), in variant order.
pub(crate) async fn refresh_all(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    variants: impl IntoIterator<Item = VariantId>,
) -> Result<(), InventoryError> {
    let mut ids: Vec<VariantId> = variants.into_iter().collect();
    ids.sort();
    ids.dedup();
    for v in ids {
        refresh(tx, bus, v).await?;
    }
    Ok(())
}

/// What shoppers are told: `None` for a variant that is not counted.
fn shown(s: &StockState, now: DateTime<Utc>) -> Option<(StockStatus, Option<DateTime<Utc>>)> {
    if !s.tracked {
        return None;
    }
    if s.available > 0 {
        let low = s.low_stock_threshold.is_some_and(|t| s.available <= i64::from(t));
        return Some((if low { StockStatus::LowStock } else { StockStatus::InStock }, None));
    }
    let promised = i64::from(s.backorder_held) + i64::from(s.backorder_owed);
    let room = s.backorder_limit.is_none_or(|limit| promised < i64::from(limit));
    Some(match s.policy {
        StockPolicy::Backorder if room => (StockStatus::Backorder, None),
        StockPolicy::Preorder if room && s.preorder_until.is_some_and(|u| u > now) => {
            (StockStatus::Preorder, s.preorder_until)
        }
        _ => (StockStatus::OutOfStock, None),
    })
}

/// How many units of a counted variant a shopper could buy now: its free stock, plus what its
/// policy lets the shop promise beyond it (backorder, preorder before its date) within its
/// limit; `None` when nothing limits it.
pub(crate) fn most_sellable(s: &StockState, now: DateTime<Utc>) -> Option<i64> {
    if !s.tracked {
        return None;
    }
    let promising = match s.policy {
        StockPolicy::Backorder => true,
        StockPolicy::Preorder => s.preorder_until.is_some_and(|u| u > now),
        StockPolicy::Deny => false,
    };
    if !promising {
        return Some(s.available);
    }
    let promised = i64::from(s.backorder_held) + i64::from(s.backorder_owed);
    s.backorder_limit.map(|limit| s.available + (i64::from(limit) - promised).max(0))
}

/// What a cart may hold of each counted variant among `variants` ([`most_sellable`]); a variant
/// absent from the answer is not counted and never runs out.
pub(crate) async fn sellable(
    tx: &mut TenantTx<'_>,
    variants: &[VariantId],
) -> Result<BTreeMap<VariantId, crate::Sellable>, InventoryError> {
    let now = tx.stamp().at;
    let states = store::stock_states(tx.conn(), variants).await?;
    Ok(states
        .into_iter()
        .filter(|(_, s)| s.tracked)
        .map(|(v, s)| {
            let status = shown(&s, now).map(|(status, _)| status);
            (v, crate::Sellable { most: most_sellable(&s, now), status })
        })
        .collect())
}

/// Takes up to `owed` units off on hand, first location first, for paid backorders.
async fn pay_backorders(
    tx: &mut TenantTx<'_>,
    bus: &EventBus,
    variant: VariantId,
    owed: i32,
) -> Result<(), InventoryError> {
    let stamp = tx.stamp();
    let candidates = store::candidate_locations(tx.conn(), variant, None, None).await?;
    let mut remaining = owed;
    for c in candidates {
        if remaining == 0 {
            break;
        }
        let Some(t) = store::pay_owed_from(tx.conn(), variant, c.location_id, remaining, &stamp).await? else {
            continue;
        };
        remaining -= t.taken;
        let change = Change {
            variant,
            location: c.location_id,
            reason: AdjustmentReason::Sold,
            delta: -t.taken,
            after: t.on_hand,
            reference: Some(PAYS_BACKORDERS),
            note: None,
        };
        stock::record(tx, bus, change).await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(available: i64, policy: StockPolicy) -> StockState {
        StockState {
            tracked: true,
            policy,
            backorder_limit: None,
            preorder_until: None,
            low_stock_threshold: None,
            backorder_held: 0,
            backorder_owed: 0,
            shown_status: None,
            shown_preorder_until: None,
            available,
        }
    }

    #[test]
    fn stock_on_hand_is_in_stock_or_low_at_the_threshold() {
        let now = Utc::now();
        let mut s = state(5, StockPolicy::Deny);
        assert_eq!(shown(&s, now), Some((StockStatus::InStock, None)));
        s.low_stock_threshold = Some(5);
        assert_eq!(shown(&s, now), Some((StockStatus::LowStock, None)));
        s.available = 6;
        assert_eq!(shown(&s, now), Some((StockStatus::InStock, None)));
    }

    #[test]
    fn without_stock_the_policy_decides() {
        let now = Utc::now();
        assert_eq!(shown(&state(0, StockPolicy::Deny), now), Some((StockStatus::OutOfStock, None)));
        let mut b = state(0, StockPolicy::Backorder);
        assert_eq!(shown(&b, now), Some((StockStatus::Backorder, None)));
        b.backorder_limit = Some(3);
        b.backorder_held = 1;
        b.backorder_owed = 2;
        assert_eq!(shown(&b, now), Some((StockStatus::OutOfStock, None)), "the limit is used up");
        let mut p = state(0, StockPolicy::Preorder);
        let until = now + chrono::Duration::days(3);
        p.preorder_until = Some(until);
        assert_eq!(shown(&p, now), Some((StockStatus::Preorder, Some(until))));
        assert_eq!(shown(&p, until), Some((StockStatus::OutOfStock, None)), "preorders closed");
    }

    #[test]
    fn a_cart_may_hold_the_free_stock_and_what_the_policy_promises_beyond_it() {
        let now = Utc::now();
        assert_eq!(most_sellable(&state(4, StockPolicy::Deny), now), Some(4));
        let mut b = state(2, StockPolicy::Backorder);
        assert_eq!(most_sellable(&b, now), None, "backorders without a limit");
        b.backorder_limit = Some(5);
        b.backorder_held = 1;
        assert_eq!(most_sellable(&b, now), Some(6));
        let mut p = state(0, StockPolicy::Preorder);
        p.backorder_limit = Some(10);
        assert_eq!(most_sellable(&p, now), Some(0), "no preorder date: nothing is promised");
        p.preorder_until = Some(now + chrono::Duration::days(1));
        assert_eq!(most_sellable(&p, now), Some(10));
    }

    #[test]
    fn an_uncounted_variant_says_nothing() {
        let mut s = state(0, StockPolicy::Deny);
        s.tracked = false;
        assert_eq!(shown(&s, Utc::now()), None);
    }
}
